"""Inventory: every route, action and auth function of the full site is classified.

The site runs ``governance`` beside every plugin this project supports
(tests/site_wide/surface_site.py). A route, action or auth function that
``ckanext.governance.surface`` does not classify fails here, naming it, until
someone decides what it shows and what guards it; so does an entry that no
longer exists, and a gate that names nothing.
"""
from __future__ import annotations

import importlib

import pytest
from site_wide import surface_site

import ckan.authz as authz
import ckan.logic as logic
import ckan.plugins as p

from ckanext.governance import surface

pytestmark = surface_site.markers()


@pytest.fixture
def inventory(app):
    """(endpoints, actions, auth functions) of the running app."""
    logic.get_action("package_show")  # the action registry fills on first use
    endpoints = {rule.endpoint for rule in app.flask_app.url_map.iter_rules()}
    return endpoints, set(logic._actions), set(authz.auth_functions_list())


def _dataset_types() -> frozenset[str]:
    from ckan.lib.plugins import _package_plugins  # type name -> IDatasetForm plugin

    return frozenset(_package_plugins) | {"dataset"}


def test_the_full_site_is_loaded(inventory):
    endpoints, actions, _auth = inventory
    for plugin in surface_site.PLUGINS.split():
        assert p.plugin_loaded(plugin), plugin
    assert {"dcat.read_dataset", "croissant.read_dataset_croissant", "file.download",
            "datastore.dump"} <= endpoints
    assert {"scheming_dataset_schema_show", "file_show", "dcat_catalog_show"} <= actions


def test_every_endpoint_is_classified(inventory):
    endpoints, _actions, _auth = inventory
    types = _dataset_types()
    missing = sorted(e for e in endpoints if surface.endpoint_entry(e, types) is None)
    assert not missing, f"classify these routes in ckanext/governance/surface.py: {missing}"


def test_every_action_is_classified(inventory):
    _endpoints, actions, _auth = inventory
    missing = sorted(actions - set(surface.ACTIONS))
    assert not missing, f"classify these actions in ckanext/governance/surface.py: {missing}"


def test_every_auth_function_is_classified(inventory):
    _endpoints, _actions, auth = inventory
    missing = sorted(a for a in auth if surface.auth_entry(a) is None)
    assert not missing, f"classify these auth functions in ckanext/governance/surface.py: {missing}"


def test_no_entry_names_something_that_is_gone(inventory):
    endpoints, actions, auth = inventory
    stale = sorted(
        [f"endpoint {e}" for e in set(surface.ENDPOINTS) - endpoints]
        + [f"action {a}" for a in set(surface.ACTIONS) - actions]
        + [f"auth function {a}" for a in set(surface.AUTH_FUNCTIONS) - auth]
        # Those belong with their action.
        + [f"auth function {a} (is an action)" for a in set(surface.AUTH_FUNCTIONS) & actions]
    )
    assert not stale, f"remove from ckanext/governance/surface.py: {stale}"


def _gate_problem(entry: surface.Entry, seen: tuple[str, ...] = ()) -> str | None:
    """Why the gate of a ``data`` entry names nothing, or None when it is real."""
    from ckanext.governance import plugin
    from ckanext.governance.logic import action, auth

    kind, name = entry.gate_kind, entry.gate_name
    if entry.kind != surface.DATA:
        return "a gate on a class that has none" if entry.gate else None
    if kind not in surface.GATE_KINDS:
        return f"unknown gate {entry.gate!r}"
    if kind == "action":
        return None if name in action.get_actions() else f"no chained action {name}"
    if kind == "auth":
        return None if name in auth.get_auth_functions() else f"no chained auth function {name}"
    if kind == "view":
        module, _, function = (name or "").rpartition(".")
        try:
            found = getattr(importlib.import_module(f"ckanext.governance.{module}"), function, None)
        except ImportError:
            found = None
        return None if callable(found) else f"no guard {name}"
    if kind == "files":
        implements = p.IFiles.implemented_by(plugin.GovernancePlugin)
        ok = implements and callable(getattr(plugin.GovernancePlugin, name or "", None))
        return None if ok else f"the plugin implements no IFiles.{name}"
    if kind == "editors":
        return None if name in authz.auth_functions_list() else f"no auth function {name}"
    if kind == "via":
        if name == "*":  # the action API: every action has its own entry
            return None
        target = surface.ACTIONS.get(name or "")
        if target is None or target.kind != surface.DATA:
            return f"{name} is not a data action of the table"
        if name in seen:
            return f"a cycle through {name}"
        return _gate_problem(target, seen + (name,))
    if kind == "index":
        from ckanext.governance import redaction

        return None if callable(getattr(redaction, "redact_index_document", None)) else "no index redaction"
    return None  # sysadmin, signed: CKAN's own rule, stated in the docstring


def test_every_gate_names_a_real_enforcement_point(inventory):
    tables = [("endpoint", surface.ENDPOINTS), ("action", surface.ACTIONS),
              ("auth function", surface.AUTH_FUNCTIONS)]
    problems = []
    for what, table in tables:
        for name, entry in table.items():
            if entry.kind not in surface.KINDS:
                problem: str | None = f"unknown class {entry.kind!r}"
            elif entry.kind == surface.DATA and not entry.gate:
                problem = "data without a gate"
            else:
                problem = _gate_problem(entry)
            if problem:
                problems.append(f"{what} {name}: {problem}")
    assert not problems, problems
