"""CKAN adapter of the access decision: gather facts in bulk, ask ``policy``, redact.

Every enforcement point calls this module; this module asks ``policy.decide``
and nothing else decides. The facts for a whole page of datasets are loaded
with a fixed number of queries (policies, the viewer's memberships and
collaborations), never one query per dataset.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from . import config, policy
from .model import DatasetPolicy

# Resource fields a viewer without access still sees: what the data is, never
# where it is. Everything else (url, extras that may hold URLs, hashes, cache
# URLs) is dropped: deny by default.
VISIBLE_RESOURCE_FIELDS = frozenset({
    "id", "package_id", "name", "description", "format", "mimetype", "size",
    "created", "last_modified", "metadata_modified", "position", "state",
    "resource_type", "url_type", "datastore_active", "has_views",
})
# Resource view fields that say what a view is, never where its data is.
VISIBLE_VIEW_FIELDS = frozenset(
    {"id", "resource_id", "package_id", "title", "description", "view_type", "order"}
)

# Fields of a search index document that carry resource URLs or resource
# extras (which may hold URLs). Dropped from gated datasets' documents.
INDEX_URL_FIELDS = ("res_url", "urls", "download_url", "url_list")
INDEX_URL_PREFIXES = ("res_extras_",)


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is asking, with the facts that hold across datasets."""

    user_id: str | None
    name: str | None
    sysadmin: bool
    capacities: Mapping[str, str]  # organisation id -> capacity

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Viewer(None, None, False, {})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def viewer_for(context: Context) -> Viewer:
    """The user a CKAN action context speaks for; anonymous when unknown.

    Only the identified user counts: ``ignore_auth`` (set by CKAN's internal
    calls such as indexing) grants nothing here.
    """
    user_obj = context.get("auth_user_obj")
    user: model.User | None = None
    if isinstance(user_obj, model.User):
        user = user_obj
    else:
        name = context.get("user")
        if name:
            user = model.User.get(name)
    if user is None or user.state != "active":
        return ANONYMOUS
    if user.sysadmin:
        return Viewer(user.id, user.name, True, {})
    rows = model.Session.execute(
        sa.select(model.Member.group_id, model.Member.capacity)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .where(
            model.Member.table_name == "user",
            model.Member.table_id == user.id,
            model.Member.state == "active",
            model.Group.is_organization.is_(True),
            model.Group.state == "active",
        )
    ).all()
    return Viewer(user.id, user.name, False, {g: c for g, c in rows})


def load_policies(package_ids: Iterable[str]) -> dict[str, policy.DatasetPolicy]:
    """Stored policies of these datasets (one query); missing rows get the default tier."""
    ids = list(dict.fromkeys(i for i in package_ids if i))
    found: dict[str, policy.DatasetPolicy] = {}
    if ids:
        rows = model.Session.execute(
            sa.select(
                DatasetPolicy.package_id,
                DatasetPolicy.access_tier,
                DatasetPolicy.embargo_until,
            ).where(DatasetPolicy.package_id.in_(ids))
        ).all()
        for package_id, tier, embargo_until in rows:
            found[package_id] = policy.DatasetPolicy(tier=tier, embargo_until=embargo_until)
    default = policy.DatasetPolicy(tier=config.default_tier())
    return {i: found.get(i, default) for i in ids}


def _collaborations(viewer: Viewer, package_ids: list[str]) -> set[str]:
    if viewer.anonymous or viewer.sysadmin or not package_ids:
        return set()
    rows = model.Session.execute(
        sa.select(model.PackageMember.package_id).where(
            model.PackageMember.user_id == viewer.user_id,
            model.PackageMember.package_id.in_(package_ids),
        )
    ).scalars()
    return set(rows)


@dataclasses.dataclass(frozen=True)
class Gate:
    """What one viewer may do with one dataset's data, and why."""

    package_id: str
    tier: str
    decision: policy.Decision
    policy: policy.DatasetPolicy

    @property
    def can_access(self) -> bool:
        return self.decision.can_access

    def block(self) -> dict[str, Any]:
        """The ``governance`` block of the package dict (the API contract)."""
        d = self.decision
        return {
            "tier": self.tier,
            "embargoed": d.embargoed,
            "embargo_until": _iso(d.embargo_until),
            "can_access": d.can_access,
            "reason": d.reason,
            "next_step": d.next_step,
        }


def gates(
    context: Context,
    packages: Iterable[Mapping[str, Any]],
    viewer: Viewer | None = None,
) -> dict[str, Gate]:
    """Decide for every dataset in ``packages`` (dicts with id and owner_org).

    Costs at most three queries whatever the number of datasets.
    """
    packages = [p for p in packages if p.get("id")]
    viewer = viewer or viewer_for(context)
    ids = [p["id"] for p in packages]
    policies = load_policies(ids)
    collaborating = _collaborations(viewer, ids)
    now = utcnow()
    exempt_capacity = config.exempt_capacity()
    result: dict[str, Gate] = {}
    for pkg in packages:
        pid = pkg["id"]
        owner_org = pkg.get("owner_org")
        # The creator of a dataset outside any organisation may edit it, so
        # must see what they edit (a redacted copy saved back would lose URLs).
        creator = (
            not owner_org
            and viewer.user_id is not None
            and pkg.get("creator_user_id") == viewer.user_id
        )
        subject = policy.Subject(
            user_id=viewer.user_id,
            sysadmin=viewer.sysadmin,
            capacity=viewer.capacities.get(owner_org) if owner_org else None,
            collaborator=pid in collaborating or creator,
        )
        pol = policies[pid]
        decision = policy.decide(subject, pol, now, exempt_capacity)
        result[pid] = Gate(pid, pol.tier, decision, pol)
    return result


def gate_for(context: Context, package: Mapping[str, Any]) -> Gate:
    return gates(context, [package])[package["id"]]


def indexed_without_urls(pol: policy.DatasetPolicy, now: dt.datetime | None = None) -> bool:
    """True when a dataset's resource URLs must stay out of the search index.

    The index is shared by all users, so it holds gated URLs for nobody: only
    data open to anonymous users right now is indexed whole.
    """
    anonymous = policy.decide(policy.Subject(), pol, now or utcnow())
    return not anonymous.can_access


# Redaction -------------------------------------------------------------------


def redact_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """Keep only what a resource is, never where its data is."""
    for key in list(resource):
        if key not in VISIBLE_RESOURCE_FIELDS:
            del resource[key]
    resource["url"] = ""
    return resource


def present_package(
    pkg_dict: dict[str, Any], gate: Gate, with_fields: bool = True
) -> dict[str, Any]:
    """Shape a package dict for the viewer the gate was decided for.

    Adds ``access_tier`` and the ``governance`` block (unless ``with_fields``
    is False) and, when the viewer may not have the data, redacts every resource.
    """
    if with_fields:
        pkg_dict["access_tier"] = gate.tier
        pkg_dict["governance"] = gate.block()
    if not gate.can_access:
        for resource in pkg_dict.get("resources") or []:
            if isinstance(resource, dict):
                redact_resource(resource)
    return pkg_dict


def present_packages(context: Context, pkg_dicts: list[Any]) -> list[Any]:
    """``present_package`` for a page of results, deciding for all in bulk.

    Search results of gated datasets come from an index that holds no URLs;
    for viewers who may have the data, the resources are reloaded from the
    database (one query for the page).
    """
    dicts = [d for d in pkg_dicts if isinstance(d, dict) and d.get("id")]
    if not dicts:
        return pkg_dicts
    decided = gates(context, dicts)
    restore: list[str] = []
    for d in dicts:
        gate = decided[d["id"]]
        present_package(d, gate, with_fields="resources" in d or "name" in d)
        if gate.can_access and "resources" in d and indexed_without_urls(gate.policy):
            restore.append(d["id"])
    if restore:
        _restore_resources(context, [d for d in dicts if d["id"] in set(restore)])
    return pkg_dicts


def _restore_resources(context: Context, dicts: list[dict[str, Any]]) -> None:
    from ckan.lib.dictization import model_dictize

    ids = [d["id"] for d in dicts]
    resources = (
        model.Session.query(model.Resource)
        .filter(model.Resource.package_id.in_(ids), model.Resource.state == "active")
        .all()
    )
    dctx: Context = {"model": model, "session": model.Session}  # type: ignore[typeddict-item]
    by_id = {r.id: model_dictize.resource_dictize(r, dctx) for r in resources}
    for d in dicts:
        d["resources"] = [
            {**res, **by_id.get(res.get("id"), {})} if isinstance(res, dict) else res
            for res in d.get("resources") or []
        ]


def redact_index_document(doc: dict[str, Any], pol: policy.DatasetPolicy) -> dict[str, Any]:
    """Strip resource URLs from a search index document of a gated dataset."""
    if not indexed_without_urls(pol):
        return doc
    for key in list(doc):
        if key in INDEX_URL_FIELDS or key.startswith(INDEX_URL_PREFIXES):
            del doc[key]
    for key in ("data_dict", "validated_data_dict"):
        if isinstance(doc.get(key), str):
            stored = json.loads(doc[key])
            for resource in stored.get("resources") or []:
                redact_resource(resource)
            stored.pop("governance", None)
            doc[key] = json.dumps(stored)
    return doc


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
