"""The access fields work the same when ckanext-scheming defines the dataset schema."""
from __future__ import annotations

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "scheming_datasets governance"),
    pytest.mark.ckan_config("scheming.dataset_schemas", "ckanext.scheming:ckan_dataset.yaml"),
    pytest.mark.usefixtures("clean_db", "clean_index"),
]


def test_scheming_dataset_takes_the_tier_and_is_gated():
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    ctx = {"user": editor["name"]}
    created = call_action(
        "package_create", dict(ctx), type="dataset", name="scheming-rivers", title="Rivers",
        owner_org=org["id"], access_tier="registered", notes="Flows",
        resources=[{"url": "https://data.example.org/secret-flows.csv", "name": "Flows"}],
    )
    assert created["access_tier"] == "registered"

    anonymous = call_action("package_show", {"user": ""}, id="scheming-rivers")
    assert anonymous["access_tier"] == "registered"
    assert anonymous["governance"]["reason"] == "login_required"
    assert anonymous["resources"][0]["url"] == ""
    assert "secret-flows" not in str(anonymous)

    found = call_action("package_search", {"user": ""}, q="name:scheming-rivers")["results"][0]
    assert found["access_tier"] == "registered"
    assert "secret-flows" not in str(found)

    patched = call_action("package_patch", dict(ctx), id="scheming-rivers", notes="More flows")
    assert patched["access_tier"] == "registered"
    assert patched["resources"][0]["url"] == "https://data.example.org/secret-flows.csv"
    changed = call_action("package_patch", dict(ctx), id="scheming-rivers", access_tier="open")
    assert changed["access_tier"] == "open"
    assert call_action("package_show", {"user": ""}, id="scheming-rivers")["resources"][0]["url"]

