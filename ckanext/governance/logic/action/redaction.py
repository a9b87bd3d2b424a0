"""CKAN's read actions, chained so no path leaks data: each calls CKAN's own
implementation first, then shapes the result for the caller through
``access`` (the decision) and ``redaction``.
"""
from __future__ import annotations

from typing import Any, Callable

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ... import access, core_compat, harvest, labels, redaction
from ... import resource_search as governance_resource_search

__all__ = [
    "package_show",
    "resource_show",
    "package_search",
    "current_package_list_with_resources",
    "resource_search",
    "resource_view_show",
    "resource_view_list",
]


@tk.side_effect_free
@tk.chained_action
def package_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    # validate=False is CKAN's raw path (indexing), validated after this.
    raw = context.get("validate", True) is False
    harvest.present_source(context, result)  # a harvest source's config: for its editors
    gate = access.gate_for(context, result.get("id") or "")
    if gate is None:
        for resource in result.get("resources") or []:
            redaction.redact_resource(resource, keep_keys=raw)
        return result
    if gate.can_access and redaction.index_copy_may_lack_urls(gate.policy) and any(
        not r.get("url") for r in result.get("resources") or []
    ):
        # CKAN answered from the search index, whose copy of a gated dataset
        # has no URLs: this viewer may have them, so take them from the database.
        redaction.restore_resources([result])
    return redaction.present_package(result, gate, raw=raw)


@tk.side_effect_free
@tk.chained_action
def resource_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    # CKAN's resource_show loaded the resource: its dataset comes from the session.
    resource = model.Resource.get(result.get("id") or "")
    gate = access.gate_for(context, resource.package_id) if resource is not None else None
    if gate is None or not gate.can_access:
        redaction.redact_resource(result)
    return result


@tk.side_effect_free
@tk.chained_action
def package_search(up: Action, context: Context, data_dict: DataDict):
    requested = core_compat.requested_fields(data_dict.get("fl"))
    result = up(context, data_dict)
    redaction.present_packages(context, result.get("results") or [])
    if requested is not None:
        # A caller that chose its fields gets those, as without the extension.
        core_compat.keep_requested(result.get("results") or [], requested)

    facets = result.get("search_facets") or {}
    for field, label in (("access_tier", labels.tier_label), ("embargoed", labels.embargo_label)):
        for item in (facets.get(field) or {}).get("items") or []:
            item["display_name"] = label(item.get("name"))
    return result


@tk.side_effect_free
@tk.chained_action
def current_package_list_with_resources(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    return redaction.present_packages(context, result)


@tk.side_effect_free
@tk.chained_action
def resource_search(up: Action, context: Context, data_dict: DataDict):
    """Resources matching a query, as CKAN's ``resource_search``, for the caller.

    Fields that say where or what the data is (``url``, ``hash``,
    ``cache_url``, ``mimetype_inner``, ``cache_last_updated``, resource
    extras) exist only in datasets whose data the caller may have: elsewhere a
    ``query`` term on one matches nothing, and ``order_by`` one sorts those
    resources as if the value were empty (last). ``count`` counts what
    matches for the caller. Other fields (``name``, ``description``,
    ``format`` ...) match every resource; results the caller may not have the
    data of come without those fields. Sysadmins get CKAN's answer.

    :param query: ``{field}:{term}`` or a list of them (see CKAN's resource_search)
    :param order_by: a field of the resource to sort on (ascending)
    :param offset: results to skip
    :param limit: most results to return
    :returns: ``{"count": int, "results": [resource, ...]}``
    """
    return governance_resource_search.search(up, context, data_dict)


def chain_redacting(name: str, redact: Callable[[Context, list[Any]], None],
                    one: bool = False) -> Action:
    """CKAN's read action ``name``, chained: its result (a list, or ``one``
    object) goes through ``redact`` for the caller before it is returned."""
    @tk.side_effect_free
    @tk.chained_action
    def chained(up: Action, context: Context, data_dict: DataDict):
        result = up(context, data_dict)
        redact(context, [result] if one else result)
        return result

    chained.__name__ = name
    return chained


def _redact_views(context: Context, views: list[Any]) -> None:
    dicts = [v for v in views if isinstance(v, dict)]
    gates = access.resource_gates(context, [v.get("resource_id") for v in dicts])
    for view in dicts:
        gate = gates.get(view.get("resource_id") or "")
        if gate is None or not gate.can_access:
            redaction.redact_view(view)


resource_view_show = chain_redacting("resource_view_show", _redact_views, one=True)
resource_view_list = chain_redacting("resource_view_list", _redact_views)
