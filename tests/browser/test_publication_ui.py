"""Publication warnings in the browser: the interstitial after saving the
dataset form, "Go back" and "Publish anyway" (both recorded), and the
"Check before publishing" page."""
from __future__ import annotations

import re

import pytest

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import Event

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]


@pytest.fixture
def site(ckan_config, monkeypatch):
    # A link field rather than a CKAN relationship: CKAN 2.12 itself fails to
    # index an update of a dataset that has relationships (KeyError
    # 'object_package_id' in index_package, with or without this plugin).
    monkeypatch.setitem(ckan_config, "ckanext.governance.link_fields", "related_dataset")
    editor = factories.User(name="pia-publisher", password=PASSWORD)
    org = factories.Organization(name="lab", users=[{"name": editor["name"], "capacity": "editor"}])
    call_action("package_create", {"user": editor["name"]}, name="notes-private", title="Private notes",
                owner_org=org["id"], private=True, license_id="cc-by")
    call_action("package_create", {"user": editor["name"]}, name="field-survey", title="Field survey",
                owner_org=org["id"], private=True, license_id="cc-by",
                notes="Survey of wells. Contact ana.lyst@example.org for the raw sheets.",
                extras=[{"key": "related_dataset", "value": "notes-private"}])
    return {"editor": editor}


def publish_in_form(page, live_server):
    page.goto(f"{live_server}/dataset/edit/field-survey")
    page.select_option("#field-private", "False")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_load_state()


def kinds():
    model.Session.remove()
    return [e.kind for e in model.Session.query(Event).filter(Event.kind.like("publication%")).order_by(Event.id)]


def test_publisher_sees_the_warnings_goes_back_then_publishes_anyway(site, live_server, page, log_in, artifacts_dir):
    log_in(site["editor"])
    publish_in_form(page, live_server)
    warnings = page.locator(".governance-warning")
    found = {w.get_attribute("data-code") for w in warnings.all()}
    assert {"linked_dataset_private", "personal_data_suspected", "irreversible"} <= found
    linked = page.locator(".governance-warning[data-code=linked_dataset_private]")
    assert linked.get_by_role("link", name="Private notes").get_attribute("href") == "/dataset/notes-private"
    page.screenshot(path=str(artifacts_dir / "publication-interstitial.png"), full_page=True)

    page.get_by_role("button", name="Go back").click()
    page.wait_for_url(re.compile(r".*/dataset/edit/field-survey$"))
    assert call_action("package_show", {"ignore_auth": True}, id="field-survey")["private"] is True
    assert kinds() == ["publication_cancelled"]

    publish_in_form(page, live_server)
    page.get_by_role("button", name="Publish anyway").click()
    page.wait_for_url(re.compile(r".*/dataset/field-survey$"))
    assert call_action("package_show", {"ignore_auth": True}, id="field-survey")["private"] is False
    assert kinds() == ["publication_cancelled", "publication_confirmed"]


def test_saving_without_opening_anything_goes_straight_through(site, live_server, page, log_in):
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/edit/field-survey")
    page.fill("#field-title", "Field survey, 2026")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_url(re.compile(r".*/dataset/field-survey$"))
    assert page.locator(".governance-warning").count() == 0


def test_check_before_publishing_button(site, live_server, page, log_in):
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/field-survey")
    page.get_by_role("link", name="Check before publishing").click()
    page.wait_for_url(re.compile(r".*/dataset/field-survey/governance/check$"))
    found = {w.get_attribute("data-code") for w in page.locator(".governance-warning").all()}
    assert {"linked_dataset_private", "personal_data_suspected", "irreversible"} <= found
    assert kinds() == []  # a dry run records nothing
