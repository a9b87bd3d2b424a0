"""ckanext-activity's history pages, held to the data gate.

The resource history page (``/dataset/<id>/resources/<rid>/history/<aid>``)
reads the stored snapshot of a dataset version itself, not through the
activity actions that ``logic/action.py`` chains; a snapshot holds the
resources whole. For a viewer who may not have the dataset's data, the page
is rendered by CKAN's own view from a redacted copy of the snapshot. The
other history pages (dataset history, changes) read snapshots through the
chained actions and need no more than the checks below.

Activity ids that are not about the dataset (or resource) in the address
answer 404, as CKAN does for a mismatch, instead of failing on a snapshot
that is not a dataset's.
"""
from __future__ import annotations

import copy
from typing import Any

import flask
from flask import Blueprint
from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import access, redaction

__all__ = ["governance_history"]

governance_history = Blueprint("governance_history", __name__)

# This request's redacted snapshots, by activity id (on ``flask.g``).
_REDACTED = "governance_redacted_activities"


@governance_history.before_app_request
def guard_history_pages() -> Any:
    endpoint = tk.request.endpoint
    if endpoint == "activity.resource_history":
        args = tk.request.view_args or {}
        # (A resource the version did not have: CKAN's view answers 404.)
        return _resource_history(args.get("id"), args.get("activity_id"))
    if endpoint == "activity.package_changes_multiple":
        return _changes_range()
    return None


def _resource_history(id: Any, activity_id: Any) -> Any:
    # ckanext-activity is optional: its model is read only when its pages or
    # actions run (importing it maps its table for every site).
    from ckanext.activity.model import Activity

    pkg = model.Package.get(id) if isinstance(id, str) else None
    activity = model.Session.get(Activity, activity_id) if isinstance(activity_id, str) else None
    if pkg is None or activity is None:
        return None  # CKAN answers 404 itself
    snapshot = _snapshot(activity)
    if snapshot is None or activity.object_id != pkg.id or snapshot.get("id") != pkg.id:
        return tk.abort(404, tk._("Activity not found"))
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    gate = access.gate_for(context, pkg.id)
    if gate is not None and gate.can_access:
        return None
    # Denied, or no decision at all (fail closed): CKAN's view renders a
    # redacted copy of the version instead.
    redacted = copy.deepcopy(snapshot)
    for resource in redacted.get("resources") or []:
        if isinstance(resource, dict):
            redaction.redact_resource(resource)
    data = {"package": redacted, "actor": (activity.data or {}).get("actor")}
    _watch_activity_loads()
    # Held on flask.g for the request: the session keeps only weak references
    # to unchanged objects, and CKAN's view must find this very one.
    held = getattr(flask.g, _REDACTED, None)
    if held is None:
        held = {}
        setattr(flask.g, _REDACTED, held)
    held[activity.id] = (activity, data)
    # As if loaded so: never written back (the stored version stays whole).
    set_committed_value(activity, "data", copy.deepcopy(data))
    return None


def _changes_range() -> Any:
    """``/dataset/changes_multiple``: both ends must be versions of one dataset
    (CKAN walks back from the newer to the older, and fails on anything else)."""
    # ckanext-activity is optional: its model is read only when its pages or
    # actions run (importing it maps its table for every site).
    from ckanext.activity.model import Activity

    def version(key: str) -> Any:
        value = tk.request.args.get(key)
        activity = model.Session.get(Activity, value) if value else None
        return activity if activity is not None and _snapshot(activity) is not None else None

    new, old = version("new_id"), version("old_id")
    if new is None or old is None or new.object_id != old.object_id:
        return tk.abort(404, tk._("Activity not found"))
    if old.timestamp >= new.timestamp and version("current_new_id") is None:
        # CKAN shows the change of ``current_new_id`` for a reversed range.
        return tk.abort(404, tk._("Activity not found"))
    return None


def _snapshot(activity: Any) -> dict[str, Any] | None:
    """The dataset version an activity recorded; None when it is not about a dataset."""
    data = activity.data
    package = data.get("package") if isinstance(data, dict) else None
    return package if isinstance(package, dict) and package.get("id") else None


def _watch_activity_loads() -> None:
    """Redact again whenever this request loads or refreshes a redacted
    activity (after a commit expired it, or in a new session): fail closed."""
    # ckanext-activity is optional: its model is read only when its pages or
    # actions run (importing it maps its table for every site).
    from ckanext.activity.model import Activity

    if not event.contains(Activity, "load", _on_load):
        event.listen(Activity, "load", _on_load)
        event.listen(Activity, "refresh", _on_refresh)


def _on_load(target: Any, _context: Any) -> None:
    _reapply(target)


def _on_refresh(target: Any, _context: Any, attrs: Any) -> None:
    if attrs is None or "data" in attrs:
        _reapply(target)


def _reapply(target: Any) -> None:
    if not flask.has_app_context():
        return
    held = (getattr(flask.g, _REDACTED, None) or {}).get(target.id)
    if held is not None:
        set_committed_value(target, "data", copy.deepcopy(held[1]))
