"""CSRF checks that do not depend on CKAN's exemption list.

CKAN 2.12.0 calls ``csrf.exempt(view)`` for every anonymous or API-token
request, and the exemption lasts as long as the process: after one anonymous
GET of a form's view, a forged POST riding on a victim's login cookie passes
CKAN's check. Here every state-changing request made with a login cookie has
its token verified, whatever that list says: always for this extension's
views, and for every other view (CKAN's forms, cookie-session API calls)
unless ``ckanext.governance.csrf.guard_core`` is off. Views a plugin
exempted on purpose (before the first request) and exempt blueprints keep
their exemption. Requests without a login cookie (API tokens, anonymous)
carry nothing a forger could borrow and are left to CKAN.
"""
from __future__ import annotations

from typing import Any

import flask
from flask import Blueprint
from flask_wtf.csrf import CSRFError

from . import config

__all__ = ["governance_csrf"]

governance_csrf = Blueprint("governance_csrf", __name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Ours: the blueprints of this extension (their names start so).
OWN_PREFIX = "governance"

_deliberate: frozenset[str] | None = None


def _protector() -> Any:
    """CKAN's ``CSRFProtect`` (its list of exemptions, its check)."""
    # It lives in the module that builds CKAN's app, which loads the plugins:
    # imported when the plugin module is, it would import itself half-built.
    from ckan.config.middleware.flask_app import csrf

    return csrf


def token_valid() -> bool:
    """Whether this request carries a valid CSRF token (always, when CSRF
    protection is off): for views that must answer a forged form themselves,
    before CKAN's own check runs."""
    if not flask.current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        _protector().protect()
    except CSRFError:
        return False
    return True


def remember_deliberate_exemptions() -> None:
    """Views exempted while the first app of the process was built are
    exemptions on purpose; those CKAN adds while serving requests are the bug.
    The list is CKAN's, shared by every app of the process, so an app built
    later (tests build many) would take the bug's additions for deliberate
    ones: only the first build counts, and a view exempted by a plugin loaded
    after it has its token checked (strict, never lax)."""
    global _deliberate
    if _deliberate is not None:
        return
    csrf = _protector()
    _deliberate = frozenset(getattr(csrf, "_exempt_views", ()))


def _guarded(endpoint: str) -> bool:
    csrf = _protector()
    blueprint = endpoint.rpartition(".")[0]
    if blueprint.startswith(OWN_PREFIX):
        return True
    if not config.csrf_guard_core():
        return False
    if blueprint in getattr(csrf, "_exempt_blueprints", ()):
        return False
    view = flask.current_app.view_functions.get(endpoint)
    if view is not None and f"{view.__module__}.{view.__name__}" in (_deliberate or ()):
        return False
    return True


@governance_csrf.before_app_request
def check_token() -> Any:
    request = flask.request
    if request.method in SAFE_METHODS or not request.endpoint:
        return None
    if not flask.current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    if flask.g.get("login_via_auth_header"):
        return None  # an API token or no login: no cookie to ride on
    if not _guarded(request.endpoint):
        return None
    csrf = _protector()
    csrf.protect()  # raises CSRFError (400) when the token is missing or wrong
    return None
