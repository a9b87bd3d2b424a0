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
from collections.abc import Iterable
from typing import Any

import flask
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from . import clock, config, policy
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
    """Who is asking."""

    user_id: str | None
    name: str | None
    sysadmin: bool

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Viewer(None, None, False)


def utcnow() -> dt.datetime:
    """The application's clock (see ``clock``)."""
    return clock.now()


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
    return Viewer(user.id, user.name, bool(user.sysadmin))


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


@dataclasses.dataclass(frozen=True)
class _Facts:
    owner_org: str | None
    creator_user_id: str | None
    policy: policy.DatasetPolicy
    embargo_reason: str | None
    capacity: str | None  # the viewer's, in the owning organisation
    collaborator: bool
    agreement_name: str | None
    accepted: bool  # the viewer holds a valid acceptance of the required version
    data_use: list[str] | None = None
    grant_days: int | None = None
    grants: tuple[policy.Grant, ...] = ()  # the viewer's grants of this dataset
    request_pending: bool = False  # the viewer has a request waiting for review


# One statement for a whole page (a user id of NULL matches no membership).
# It runs inside the database function governance_dataset_facts (migrations
# 007 and 008), which keeps its plan for the connection and reads by index
# only: sent as text, planning it cost more than running it for one dataset.
# This text is the function's query, kept here for EXPLAIN in the
# benchmarks; a test checks that the two agree.
_FACTS_SQL = sa.text("""
    SELECT p.id, p.owner_org, p.creator_user_id, gp.access_tier, gp.embargo_until,
           gp.embargo_reason,
           (SELECT m.capacity
              FROM member m JOIN "group" g ON g.id = m.group_id
             WHERE m.group_id = p.owner_org AND m.table_name = 'user'
               AND m.table_id = :user_id AND m.state = 'active'
               AND g.is_organization AND g.state = 'active'
             LIMIT 1) AS capacity,
           EXISTS (SELECT 1 FROM package_member pm
                    WHERE pm.package_id = p.id AND pm.user_id = :user_id) AS collaborator,
           ag.name AS agreement_name, req.number AS required_version,
           EXISTS (SELECT 1 FROM governance_acceptance a
                    WHERE a.user_id = :user_id AND a.agreement_id = ag.id
                      AND a.version_number >= req.number
                      AND (ag.renewal_days IS NULL
                           OR a.created > CAST(:now AS timestamptz)
                                          - make_interval(days => ag.renewal_days))
                  ) AS accepted,
           gp.data_use, gp.grant_days,
           gr.starts AS grant_starts, gr.expires AS grant_expires,
           EXISTS (SELECT 1 FROM governance_grant g2
                    WHERE g2.user_id = :user_id AND g2.package_id = p.id) AS had_grant,
           EXISTS (SELECT 1 FROM governance_request r
                    WHERE r.user_id = :user_id AND r.package_id = p.id
                      AND r.state = 'pending') AS request_pending
      FROM package p
      LEFT JOIN governance_dataset_policy gp ON gp.package_id = p.id
      LEFT JOIN governance_agreement ag ON ag.id = gp.agreement_id
      LEFT JOIN LATERAL (
             SELECT max(v.number) AS number FROM governance_agreement_version v
              WHERE v.agreement_id = ag.id AND v.material) req ON true
      -- The viewer's grant that lasts longest (the policy core checks it at the instant).
      LEFT JOIN LATERAL (
             SELECT g.starts, g.expires FROM governance_grant g
              WHERE g.user_id = :user_id AND g.package_id = p.id AND g.revoked_at IS NULL
              ORDER BY g.expires DESC NULLS FIRST LIMIT 1) gr ON true
     WHERE p.id = ANY(:ids)
""")
_FACTS_CALL = sa.text("SELECT * FROM governance_dataset_facts(:user_id, :ids, :now)")


def _dataset_facts(viewer: Viewer, package_ids: list[str]) -> dict[str, _Facts]:
    """Owner, creator, stored policy, and the viewer's membership of the owning
    organisation and collaboration, per dataset.

    One query for any number of datasets, through the package primary key and
    the member and package_member indexes. Facts come from the database, never
    from the dict being shaped (a search result or snapshot can be stale).
    """
    if not package_ids:
        return {}
    # Sysadmins are exempt anyway; anonymous users hold nothing.
    user_id = None if viewer.sysadmin else viewer.user_id
    rows = model.Session.execute(
        _FACTS_CALL, {"user_id": user_id, "ids": list(package_ids), "now": utcnow()}
    )
    default_tier = config.default_tier()
    facts: dict[str, _Facts] = {}
    for (pid, owner_org, creator, tier, embargo, reason, capacity, collaborator,
         agreement_name, required, accepted, data_use, grant_days, grant_starts,
         grant_expires, had_grant, request_pending) in rows:
        tier = tier if tier is not None else default_tier
        # The version to have accepted, as the policy core's opaque token.
        needed = f"{agreement_name}#{required}" if agreement_name and required else None
        facts[pid] = _Facts(
            owner_org,
            creator,
            policy.DatasetPolicy(
                tier=tier, embargo_until=embargo, agreement_version=needed,
                agreement_required=agreement_name is not None,
            ),
            reason,
            capacity,
            bool(collaborator),
            agreement_name,
            bool(accepted) and needed is not None,
            list(data_use) if data_use else None,
            grant_days,
            _grants(grant_starts, grant_expires, bool(had_grant)),
            bool(request_pending),
        )
    return facts


def _grants(starts: dt.datetime | None, expires: dt.datetime | None,
            had_grant: bool) -> tuple[policy.Grant, ...]:
    """The viewer's grants as the policy core needs them: the one that lasts
    longest, or, when every grant was revoked, one revoked grant (so the
    decision says the access ended rather than was never asked for)."""
    if starts is not None:
        return (policy.Grant(starts=starts, expires=expires),)
    if had_grant:
        return (policy.Grant(revoked=True),)
    return ()


@dataclasses.dataclass(frozen=True)
class Gate:
    """What one viewer may do with one dataset's data, and why."""

    package_id: str
    tier: str
    decision: policy.Decision
    policy: policy.DatasetPolicy
    embargo_reason: str | None = None
    agreement: str | None = None  # name of the attached agreement
    data_use: list[str] | None = None
    grant_days: int | None = None
    owner_org: str | None = None

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
    package_ids: Iterable[str],
    viewer: Viewer | None = None,
) -> dict[str, Gate]:
    """Decide for every dataset id given; ids of no dataset get no gate (deny).

    One query whatever the number of datasets (two when the context names its
    user without the user object).
    """
    ids = list(dict.fromkeys(i for i in package_ids if i))
    viewer = viewer or viewer_for(context)
    memo = _memo()
    who = (viewer.user_id, viewer.sysadmin)
    result: dict[str, Gate] = {}
    if memo is not None:
        result = {i: memo[(who, i)] for i in ids if (who, i) in memo}
        ids = [i for i in ids if i not in result]
    facts = _dataset_facts(viewer, ids)
    now = utcnow()
    exempt_capacity = config.exempt_capacity()
    for pid, f in facts.items():
        # The creator of a dataset outside any organisation may edit it, so
        # must see what they edit (a redacted copy saved back would lose URLs).
        creator = not f.owner_org and viewer.user_id is not None and f.creator_user_id == viewer.user_id
        subject = policy.Subject(
            user_id=viewer.user_id,
            sysadmin=viewer.sysadmin,
            capacity=f.capacity,
            collaborator=f.collaborator or creator,
            accepted_versions=(
                frozenset({f.policy.agreement_version})
                if f.accepted and f.policy.agreement_version else frozenset()
            ),
            grants=f.grants,
            request_pending=f.request_pending,
        )
        decision = policy.decide(subject, f.policy, now, exempt_capacity)
        result[pid] = Gate(pid, f.policy.tier, decision, f.policy, f.embargo_reason,
                           f.agreement_name, f.data_use, f.grant_days, f.owner_org)
        if memo is not None:
            memo[(who, pid)] = result[pid]
    return result


_MEMO = "governance_decisions"


def remember_decisions() -> None:
    """Let the rest of this request reuse its decisions and restored resources.

    For read-only routes that decide the same dataset several times (the
    download route: the guard, then CKAN's resource_show, its package_show and
    the view's own package_show). Kept on ``flask.g``, so it ends with the
    request; routes that change what decisions depend on never turn it on.
    """
    setattr(flask.g, _MEMO, {})


def _memo() -> dict[Any, Any] | None:
    if not flask.has_app_context():
        return None
    return getattr(flask.g, _MEMO, None)


def gate_for(context: Context, package_id: str) -> Gate | None:
    """The gate of one dataset; None when there is no such dataset."""
    return gates(context, [package_id]).get(package_id)


def indexed_without_urls(pol: policy.DatasetPolicy, now: dt.datetime | None = None) -> bool:
    """True when a dataset's resource URLs must stay out of the search index.

    The index is shared by all users, so it holds gated URLs for nobody: only
    data open to anonymous users right now is indexed whole.
    """
    if pol.tier == policy.OPEN and pol.embargo_until is None:
        return False  # the common case, without a decision
    anonymous = policy.decide(policy.Subject(), pol, now or utcnow())
    return not anonymous.can_access


def open_to_outsider_sql(
    logged_in: bool, tier: Any = None, embargo_until: Any = None, now: dt.datetime | None = None
) -> Any:
    """SQL twin of ``policy.decide`` for a subject holding nothing with respect
    to a dataset (anonymous, or a logged-in user without membership, grant or
    acceptance there): true exactly where they may have its data at ``now``.

    Over ``DatasetPolicy`` outer-joined to the dataset by default (no row: the
    default tier). For filtering many rows in one query; datasets the viewer
    holds something of (``related_sql``) are decided by ``gates``. A test holds
    this equal to ``policy.decide``.
    """
    tier = DatasetPolicy.access_tier if tier is None else tier
    until = DatasetPolicy.embargo_until if embargo_until is None else embargo_until
    tiers = (policy.OPEN, policy.REGISTERED) if logged_in else (policy.OPEN,)
    return sa.and_(
        sa.func.coalesce(tier, config.default_tier()).in_(tiers),
        sa.or_(until.is_(None), until <= (now or utcnow())),
    )


# Everything ``policy.decide`` reads about a viewer, as the datasets,
# organisations and agreements it concerns: memberships of any capacity,
# collaborations, grants (even revoked ones) and acceptances (even expired).
_RELATIONS_SQL = sa.text("""
    SELECT 'org', m.group_id FROM member m
     WHERE m.table_name = 'user' AND m.table_id = :user_id AND m.state = 'active'
    UNION SELECT 'package', pm.package_id FROM package_member pm WHERE pm.user_id = :user_id
    UNION SELECT 'package', g.package_id FROM governance_grant g WHERE g.user_id = :user_id
    UNION SELECT 'agreement', a.agreement_id FROM governance_acceptance a WHERE a.user_id = :user_id
""")


def related_sql(viewer: Viewer) -> Any:
    """SQL predicate over ``model.Package`` and ``DatasetPolicy``: the datasets
    where the viewer holds anything the decision reads (a superset of those
    where they get more than ``open_to_outsider_sql``). None when there are
    none (anonymous users hold nothing). One query.
    """
    if viewer.anonymous:
        return None
    found: dict[str, list[str]] = {"org": [], "package": [], "agreement": []}
    for kind, ref in model.Session.execute(_RELATIONS_SQL, {"user_id": viewer.user_id}):
        found[kind].append(ref)

    def any_of(column: Any, ids: list[str]) -> Any:
        return column == sa.any_(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.UnicodeText)))

    # The creator of a dataset outside any organisation counts as a collaborator.
    clauses = [sa.and_(model.Package.owner_org.is_(None),
                       model.Package.creator_user_id == viewer.user_id)]
    if found["org"]:
        clauses.append(any_of(model.Package.owner_org, found["org"]))
    if found["package"]:
        clauses.append(any_of(model.Package.id, found["package"]))
    if found["agreement"]:
        clauses.append(any_of(DatasetPolicy.agreement_id, found["agreement"]))
    return sa.or_(*clauses)


# Redaction -------------------------------------------------------------------


def index_copy_may_lack_urls(pol: policy.DatasetPolicy) -> bool:
    """Whether the search index's copy of a dataset may have been stored without
    URLs: any dataset that is or was gated. The copy of an embargoed dataset
    stays URL-free from the embargo's instant until `embargo lift` reindexes it."""
    return not (pol.tier == policy.OPEN and pol.embargo_until is None)


def redact_resource(resource: dict[str, Any], keep_keys: bool = False) -> dict[str, Any]:
    """Keep only what a resource is, never where its data is.

    ``keep_keys`` blanks the other fields instead of dropping them, for raw
    dicts that CKAN validates afterwards (its show schema turns an absent key
    into a value that cannot be serialised).
    """
    for key in list(resource):
        if key not in VISIBLE_RESOURCE_FIELDS:
            if keep_keys:
                resource[key] = None
            else:
                del resource[key]
    resource["url"] = ""
    return resource


def present_package(pkg_dict: dict[str, Any], gate: Gate, raw: bool = False) -> dict[str, Any]:
    """Shape a package dict for the viewer the gate was decided for.

    Adds ``access_tier`` and the ``governance`` block and, when the viewer may
    not have the data, redacts every resource. A ``raw`` dict (CKAN's
    unvalidated package_show, used for indexing) gets no fields and keeps its
    keys, since CKAN validates it next.
    """
    if not raw:
        pkg_dict["access_tier"] = gate.tier
        until = gate.policy.embargo_until
        pkg_dict["embargo_until"] = _iso(until) if isinstance(until, dt.datetime) else None
        pkg_dict["embargo_reason"] = gate.embargo_reason
        pkg_dict["agreement"] = gate.agreement
        pkg_dict["data_use"] = list(gate.data_use or [])
        pkg_dict["grant_days"] = gate.grant_days
        pkg_dict["governance"] = gate.block()
    if not gate.can_access:
        for resource in pkg_dict.get("resources") or []:
            if isinstance(resource, dict):
                redact_resource(resource, keep_keys=raw)
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
    decided = gates(context, [d["id"] for d in dicts])
    restore: list[dict[str, Any]] = []
    for d in dicts:
        gate = decided.get(d["id"])
        if gate is None:
            # In the index but not in the database: show nothing of its data.
            for resource in d.get("resources") or []:
                if isinstance(resource, dict):
                    redact_resource(resource)
            continue
        present_package(d, gate)
        if gate.can_access and index_copy_may_lack_urls(gate.policy) and any(
            isinstance(r, dict) and not r.get("url") for r in d.get("resources") or []
        ):
            restore.append(d)
    if restore:
        restore_resources(restore)
    return pkg_dicts


_RESOURCES_SQL = sa.text("""
    SELECT r.id, r.package_id, p.type, r.url, r.url_type, r.hash, r.mimetype_inner,
           r.cache_url, r.cache_last_updated, r.extras
      FROM resource r JOIN package p ON p.id = r.package_id
     WHERE r.package_id = ANY(:ids) AND r.state = 'active'
""")


def restore_resources(dicts: list[dict[str, Any]]) -> None:
    """Put back, from the database, the resource fields the search index does
    not hold for gated datasets (one query for all of ``dicts``).

    The values are those CKAN's package_show gives: uploads get their download
    URL, scheme-less links get ``http://``, extras are merged in.
    """
    from urllib.parse import urlsplit

    from ckan.lib import munge

    memo = _memo()
    restored: dict[str, dict[str, Any]] = {}
    wanted = list(dict.fromkeys(d["id"] for d in dicts))
    if memo is not None:
        for pid in [p for p in wanted if ("resources", p) in memo]:
            restored.update(memo[("resources", pid)])
            wanted.remove(pid)
    rows = model.Session.execute(_RESOURCES_SQL, {"ids": wanted}) if wanted else []
    if memo is not None:
        memo.update({("resources", pid): {} for pid in wanted})
    for rid, pid, ptype, url, url_type, hash_, mime_inner, cache_url, cache_updated, extras in rows:
        url = url or ""
        if url_type == "upload":
            url = tk.h.url_for(
                f"{ptype or 'dataset'}_resource.download", id=pid, resource_id=rid,
                filename=munge.munge_filename(url.rsplit("/")[-1]), qualified=True,
            )
        elif url and not urlsplit(url).scheme:
            url = "http://" + url.lstrip("/")
        # The column is JSON in a text column: CKAN's own type parses it, raw SQL does not.
        fields = dict(json.loads(extras) if isinstance(extras, str) and extras else extras or {})
        fields.update(
            url=url, hash=hash_, mimetype_inner=mime_inner, cache_url=cache_url,
            cache_last_updated=cache_updated.isoformat() if cache_updated else None,
        )
        restored[rid] = fields
        if memo is not None:
            memo[("resources", pid)][rid] = fields
    for d in dicts:
        for res in d.get("resources") or []:
            if isinstance(res, dict) and res.get("id") in restored:
                res.update(restored[res["id"]])


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
