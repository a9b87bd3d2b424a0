"""Publishers manage agreements in the browser: create with a preview, publish
a new version as material or minor, attach one in the dataset form."""
from __future__ import annotations

import re

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]

HOSTILE_BODY = """Do not re-identify anyone.

<script>window.__xss = 1</script>
<img src="x" onerror="window.__xss = 2">
"""


@pytest.fixture
def site():
    editor = factories.User(name="pia-publisher", password=PASSWORD)
    org = factories.Organization(name="hydro", title="Hydro Lab",
                                 users=[{"name": editor["name"], "capacity": "editor"}])
    call_action("package_create", {"user": editor["name"]}, name="gauges", title="Gauges",
                owner_org=org["id"], access_tier="agreement")
    return {"editor": editor}




def counts(page):
    return {li.get_attribute("data-version"): li.locator(".governance-count").inner_text()
            for li in page.locator(".governance-acceptance-counts li").all()}


def test_publisher_creates_previews_and_versions_an_agreement(site, live_server, page, artifacts_dir, log_in):
    log_in(site["editor"])
    page.goto(f"{live_server}/organization/hydro")
    page.get_by_role("link", name="Agreements").click()
    page.wait_for_url(re.compile(r".*/organization/hydro/agreements$"))
    assert "This organisation has no agreements yet." in page.content()
    page.get_by_role("link", name="Add agreement").click()

    page.fill("#field-name", "hydro-dua")
    page.fill("#field-title", "Hydro data use agreement")
    page.fill("#field-body", HOSTILE_BODY)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".governance-agreement-preview")
    assert "Do not re-identify anyone." in preview.inner_text()
    assert preview.locator("script, [onerror]").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.input_value("#field-body").strip() == HOSTILE_BODY.strip()  # kept for editing
    page.screenshot(path=str(artifacts_dir / "agreement-preview.png"), full_page=True)
    assert call_action("governance_agreement_list", {"user": ""}) == []  # a preview saves nothing

    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/organization/hydro/agreements$"))
    assert counts(page) == {"1": "0"}

    page.get_by_role("link", name="Edit").click()
    page.fill("#field-body", "Do not re-identify anyone. Cite the lab.")
    page.get_by_role("button", name="Publish").click()
    assert "Say whether the change is material" in page.locator(".governance-form-errors").inner_text()
    page.check("#field-material-false")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r".*/organization/hydro/agreements$"))
    assert "Published version 2." in page.content()
    assert counts(page) == {"1": "0", "2": "0"}
    page.screenshot(path=str(artifacts_dir / "organization-agreements.png"), full_page=True)

    shown = call_action("governance_agreement_show", {"user": ""}, id="hydro-dua")
    assert [(v["number"], v["material"]) for v in shown["versions"]] == [(1, True), (2, False)]
    assert shown["required_version"] == 1  # a minor change: acceptances carry over


def test_publisher_attaches_an_agreement_in_the_dataset_form(site, live_server, page, log_in):
    call_action("governance_agreement_create", {"user": "pia-publisher"}, owner_org="hydro",
                name="hydro-dua", title="Hydro data use agreement", body="Terms.")
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/edit/gauges")
    page.select_option("#field-agreement", "hydro-dua")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_url(re.compile(r".*/dataset/gauges$"))
    assert call_action("package_show", {"ignore_auth": True}, id="gauges")["agreement"] == "hydro-dua"

    page.goto(f"{live_server}/dataset/edit/gauges")
    assert page.input_value("#field-agreement") == "hydro-dua"
    page.select_option("#field-agreement", "")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_url(re.compile(r".*/dataset/gauges$"))
    assert call_action("package_show", {"ignore_auth": True}, id="gauges")["agreement"] is None
