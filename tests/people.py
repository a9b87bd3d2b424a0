"""The people of a test: an organisation's editor (the publisher)
and member, an outsider and a sysadmin; and API headers for any of them."""
from __future__ import annotations

from typing import Any

from ckan.tests import factories
from ckan.tests.helpers import call_action


def organisation_with_people() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``({"publisher", "member", "outsider", "sysadmin"}: user dicts, organisation)``."""
    publisher = factories.User()
    users = {"publisher": publisher, "member": factories.User(),
             "outsider": factories.User(), "sysadmin": factories.Sysadmin()}
    org = factories.Organization(users=[
        {"name": publisher["name"], "capacity": "editor"},
        {"name": users["member"]["name"], "capacity": "member"},
    ])
    return users, org


def api_headers(user: dict[str, Any] | None) -> dict[str, str]:
    """An API call's headers as ``user`` (a new API token), or none for anonymous."""
    if user is None:
        return {}
    token = call_action("api_token_create", {"ignore_auth": True}, user=user["name"], name="t")
    return {"Authorization": token["token"]}
