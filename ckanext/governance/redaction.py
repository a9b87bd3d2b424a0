"""Redaction: what a viewer without access sees of a dataset's data.

``access`` decides; this module shapes what goes out accordingly: package
dicts, resources, resource views, activity snapshots and search index
documents keep what the data is and lose where it is. Deny by default: a
resource field not listed as visible is dropped.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import munge
from ckan.types import Context

from . import access, clock, harvest, policy
from .access import Gate

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
        pkg_dict["embargo_until"] = clock.iso(until) if isinstance(until, dt.datetime) else None
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
    for d in dicts:
        harvest.strip_source_config(d)
    decided = access.gates(context, [d["id"] for d in dicts])
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
    memo = access.decision_memo()
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
    if not access.indexed_without_urls(pol):
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


def redact_snapshot(pkg_dict: dict[str, Any]) -> None:
    for resource in pkg_dict.get("resources") or []:
        if isinstance(resource, dict):
            redact_resource(resource)


def redact_view(view: dict[str, Any]) -> None:
    """Keep what a view is; its config (and flattened config keys) can hold URLs."""
    for key in list(view):
        if key not in VISIBLE_VIEW_FIELDS:
            del view[key]


def redact_activity_data(data: dict[str, Any]) -> None:
    for key in list(data):
        value = data[key]
        if key == "package" and isinstance(value, dict):
            redact_snapshot(value)
        elif key == "resource" and isinstance(value, dict):
            redact_resource(value)
        elif key == "resource_view" and isinstance(value, dict):
            redact_view(value)
        elif key != "actor":
            del data[key]
