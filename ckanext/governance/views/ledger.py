"""The organisation's ledger as CSV (its admins and sysadmins)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, stream_with_context

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import capacities, clock, ledger
from ..logic.validators import governance_event_kind, governance_utc_datetime

__all__ = ["governance_ledger"]

governance_ledger = Blueprint("governance_ledger", __name__)


@governance_ledger.route("/organization/<id>/governance/events.csv")
def organization_events_csv(id: str) -> Any:
    """The organisation's ledger as CSV, streamed (admins of it and sysadmins)."""
    org = model.Group.get(id)
    if org is None or not org.is_organization or org.state != "active":
        return tk.abort(404, tk._("Organization not found"))
    user = model.User.get(tk.current_user.name) if tk.current_user.is_authenticated else None
    if user is None or not (user.sysadmin or capacities.holds(user, org.id)):
        return tk.abort(403, tk._("Only the organisation's admins may export its ledger"))
    try:
        filters = _csv_filters(org)
    except tk.ValidationError as err:
        return tk.abort(400, str(err.error_summary))
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        stream_with_context(ledger.stream_csv(user, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{org.name}-governance-events-{stamp}.csv"'},
    )


def _csv_filters(org: model.Group) -> dict[str, Any]:
    """The query string's kind/since/until, validated like the action's."""
    args = tk.request.args
    filters: dict[str, Any] = {"organization_id": org.id}
    try:
        if args.get("kind"):
            filters["kind"] = governance_event_kind(args["kind"])
        for key in ("since", "until"):
            if args.get(key):
                filters[key] = governance_utc_datetime(args[key])
    except tk.Invalid as err:
        raise tk.ValidationError({"filter": [str(err.error)]})
    return filters
