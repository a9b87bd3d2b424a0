"""ckanext-activity's actions, chained: stored snapshots hold full URLs, so
every way of reading them is redacted for the caller. Registered only when
ckanext-activity is loaded (chaining an absent action is an error).
"""
from __future__ import annotations

import difflib
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ... import access, redaction
from .redaction import chain_redacting

__all__ = []


def activity_actions() -> dict[str, Action]:
    """Chains over ckanext-activity's actions: stored snapshots hold full
    URLs, so every way of reading them is redacted for the caller."""
    return {
        name: chain_redacting(name, _redact_activities) for name in (
            "package_activity_list", "dashboard_activity_list",
            "user_activity_list", "group_activity_list",
            "organization_activity_list", "recently_changed_packages_activity_list",
        )
    } | {
        "activity_show": chain_redacting("activity_show", _redact_activities, one=True),
        "activity_data_show": activity_data_show,
        "activity_diff": activity_diff,
    }


@tk.side_effect_free
@tk.chained_action
def activity_data_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    # ckanext-activity is optional: its model is read only when its pages or
    # actions run (importing it maps its table for every site).
    from ckanext.activity.model import Activity

    activity = model.Session.get(Activity, data_dict.get("id"))
    if activity is None:
        return result
    gate = access.gates(context, [activity.object_id]).get(activity.object_id)
    if gate is not None and gate.can_access:
        return result
    object_type = data_dict.get("object_type")
    if object_type == "package":
        redaction.redact_snapshot(result)
    elif not object_type and isinstance(result.get("package"), dict):
        redaction.redact_snapshot(result["package"])
    return result


@tk.side_effect_free
@tk.chained_action
def activity_diff(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    activities = result.get("activities") or []
    object_ids = {a.get("object_id") for a in activities}
    gates = access.gates(context, object_ids)
    if all(gates.get(i) is not None and gates[i].can_access for i in object_ids):
        return result
    # The diff was computed from the stored snapshots: compute it again from
    # redacted copies, in the format that was asked for. CKAN's own
    # activity_diff cannot be run on them: it loads both activities from the
    # database by id and diffs inside the action, with no way to hand it
    # other dicts; the formats below are the same difflib calls it makes.
    _redact_activities(context, activities, gates)
    object_type = data_dict.get("object_type")
    objs = [(a.get("data") or {}).get(object_type) or {} for a in activities]
    lines = [json.dumps(o, indent=2, sort_keys=True).split("\n") for o in objs]
    kind = data_dict.get("diff_type", "unified")
    before, after = lines  # CKAN's activity_diff answers with the two activities
    if kind == "html":
        result["diff"] = difflib.HtmlDiff().make_table(before, after)
    elif kind == "context":
        result["diff"] = "\n".join(difflib.context_diff(before, after))
    else:
        result["diff"] = "\n".join(difflib.unified_diff(before, after))
    return result


def _redact_activities(context: Context, activities: list[Any], gates=None) -> None:
    dicts = [a for a in activities if isinstance(a, dict)]
    if gates is None:
        gates = access.gates(context, {a.get("object_id") for a in dicts})
    for activity in dicts:
        data = activity.get("data")
        if not isinstance(data, dict):
            continue
        gate = gates.get(activity.get("object_id"))
        if gate is not None and gate.can_access:
            continue
        if gate is None and not isinstance(data.get("package"), dict):
            continue  # not about a dataset (a user, group or organisation)
        # A snapshot of a dataset the caller may not have the data of, or of
        # one that no longer exists (closed to all but sysadmins, whose gate
        # exists only for existing datasets): keep what it describes, drop
        # anything that can say where the data is.
        redaction.redact_activity_data(data)
