"""``governance_event_list``: the ledger, read by those who may."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, capacities, ledger
from .. import lookup, schema

__all__ = ["governance_event_list"]


@tk.side_effect_free
@tk.validate(schema.event_list)
def governance_event_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Governance events (the ledger), oldest first, a page at a time.

    Sysadmins see every event, organisation admins their organisations'
    events, every other user the events they caused.

    :param organization: id or name of an organisation (optional)
    :param dataset: id or name of a dataset (optional)
    :param user: id or name of the user who caused the events (optional)
    :param kind: one kind of event, e.g. ``tier_changed`` or ``download`` (optional)
    :param since: ISO 8601 date or date-time, inclusive (optional; a date is 00:00 UTC)
    :param until: ISO 8601 date or date-time, exclusive (optional)
    :param page: page number, from 1 (optional, default 1)
    :param limit: events per page (optional, default 100, at most 1000)

    :returns: ``{"count", "page", "limit", "results": [{"id", "created", "kind",
        "actor_id", "package_id", "organization_id", "detail"}]}``
    :rtype: dictionary
    """
    tk.check_access("governance_event_list", context, data_dict)
    user = model.User.get(access.viewer_for(context).user_id or "")
    filters = _event_filters(data_dict)
    result, rows = lookup.page(data_dict, ledger.select_events(user, filters))
    result["results"] = [ledger.as_dict(e) for e in rows.scalars()]
    _hide_prescreen_flags(user, result["results"])
    return result


def _hide_prescreen_flags(user: model.User | None, shown: list[dict[str, Any]]) -> None:
    """A request's events carry its pre-screen flags, the reviewers' aid: a
    requester reading the events they caused does not get them."""
    if user is None or user.sysadmin:
        return
    flagged = [e for e in shown if "flags" in (e["detail"] or {})]
    if not flagged:
        return
    reviewed = set(model.Session.execute(capacities.reviewer_org_ids(user)).scalars())
    for event in flagged:
        if event["organization_id"] not in reviewed:
            event["detail"] = {k: v for k, v in event["detail"].items() if k != "flags"}


def _event_filters(data_dict: DataDict) -> dict[str, Any]:
    """The validated filters (names were turned into ids by the schema)."""
    filters: dict[str, Any] = {k: data_dict.get(k) for k in ("kind", "since", "until")}
    filters.update(lookup.renamed(data_dict, {"organization": "organization_id",
                                              "dataset": "package_id", "user": "actor_id"}))
    lookup.check_period(filters)
    return filters
