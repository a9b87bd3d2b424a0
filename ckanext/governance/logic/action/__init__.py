"""Actions: the governance API, and CKAN's actions chained so no path leaks data.

One module per capability; ``get_actions`` (the plugin's
``@tk.blanket.actions``) gathers what each exports in ``__all__``. Chained
actions call CKAN's own implementation first and then shape the result for
the caller through ``access`` (which asks ``policy``) and ``redaction``;
CKAN's core functions are never replaced.
"""
from __future__ import annotations

import ckan.plugins as p
from ckan.types import Action

from ... import harvest
from . import (
    access,
    access_requests,
    activity,
    agreements,
    embargo,
    followees,
    grants,
    ledger,
    publication,
    redaction,
    terms,
)

_MODULES = (access, agreements, embargo, ledger, access_requests, grants, publication, terms,
            redaction, followees)


def get_actions() -> dict[str, Action]:
    """What the plugin registers: each module's ``__all__``, plus the activity
    chains when ckanext-activity is loaded and the harvest source list's when
    ckanext-harvest is (chaining an absent action is an error)."""
    actions: dict[str, Action] = {}
    for module in _MODULES:
        actions.update({name: getattr(module, name) for name in module.__all__})
    if p.plugin_loaded("activity"):
        actions.update(activity.activity_actions())
    actions.update(harvest.get_actions())  # none unless ckanext-harvest is loaded
    return actions
