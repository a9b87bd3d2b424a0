"""What researchers and publishers see of access tiers, in a real browser."""
from __future__ import annotations

import re

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]

SECRET_URL = "https://files.example.org/registered-secret/flows.csv"


@pytest.fixture
def site():
    editor = factories.User(name="pat-publisher", password=PASSWORD)
    researcher = factories.User(name="ravi-researcher", password=PASSWORD)
    org = factories.Organization(title="Hydrology Lab",
                                 users=[{"name": editor["name"], "capacity": "editor"}])
    ctx = {"user": editor["name"]}
    for name, title, tier in [
        ("river-flows", "River flow measurements", "registered"),
        ("clinical-cohort", "Clinical cohort", "controlled"),
        ("survey-answers", "Survey answers", "agreement"),
        ("rainfall", "Rainfall", "open"),
    ]:
        call_action("package_create", dict(ctx), name=name, title=title, owner_org=org["id"],
                    access_tier=tier, resources=[{"name": "Data file", "url": SECRET_URL}])
    return {"editor": editor, "researcher": researcher}




def test_anonymous_visitor_is_told_to_log_in_and_comes_back_to_the_data(site, live_server, page, artifacts_dir):
    page.goto(f"{live_server}/dataset/river-flows")
    panel = page.locator(".governance-access")
    assert "Access: Registered users" in panel.inner_text()
    assert "Log in to access the data." in panel.inner_text()
    assert page.locator("h1 .governance-tier").inner_text().strip() == "Registered users"
    assert SECRET_URL not in page.content()
    page.screenshot(path=str(artifacts_dir / "access-anonymous.png"), full_page=True)

    panel.get_by_role("link", name="Log in to access").click()
    page.wait_for_url(re.compile(r".*/user/login.*"))
    page.fill("#field-login", site["researcher"]["name"])
    page.fill("#field-password", PASSWORD)
    page.locator("form button[type=submit]").filter(has_text="Login").click()

    page.wait_for_url(re.compile(r".*/dataset/river-flows$"))
    assert "You can access the data." in page.locator(".governance-access").inner_text()
    assert SECRET_URL in page.content()


@pytest.mark.parametrize(
    "dataset, message",
    [
        ("clinical-cohort", "Request access: the publisher reviews each request."),
        ("survey-answers", "Accept the data use agreement to access the data."),
        ("river-flows", "You can access the data."),
        ("rainfall", "You can access the data."),
    ],
)
def test_logged_in_researcher_reads_the_next_step_for_each_tier(site, live_server, page, dataset, message, log_in):
    log_in(site["researcher"])
    page.goto(f"{live_server}/dataset/{dataset}")
    assert message in page.locator(".governance-access").inner_text()
    has_url = SECRET_URL in page.content()
    assert has_url == (dataset in ("river-flows", "rainfall"))


def test_resource_page_shows_the_next_step_instead_of_the_download_button(site, live_server, page):
    pkg = call_action("package_show", {"user": site["editor"]["name"]}, id="river-flows")
    page.goto(f"{live_server}/dataset/river-flows/resource/{pkg['resources'][0]['id']}")
    actions = page.locator(".module-resource .actions")
    assert actions.get_by_role("link", name="Log in to access").is_visible()
    assert actions.get_by_role("link", name=re.compile("Download|Go to resource")).count() == 0


def test_search_results_show_tier_badges_and_an_access_facet(site, live_server, page, artifacts_dir):
    page.goto(f"{live_server}/dataset/")
    item = page.locator(".dataset-item", has_text="Clinical cohort")
    assert item.locator(".governance-tier").inner_text().strip() == "Controlled access"
    assert page.locator(".dataset-item", has_text="Rainfall").locator(".governance-tier").count() == 0
    facet = page.locator("section.module-narrow", has_text="Access")
    facet.get_by_role("link", name=re.compile("Controlled access")).click()
    page.wait_for_url(re.compile(r".*access_tier=controlled.*"))
    assert page.locator(".dataset-item").count() == 1
    page.screenshot(path=str(artifacts_dir / "search-access-facet.png"), full_page=True)


def test_publisher_chooses_the_tier_in_the_dataset_form(site, live_server, page, log_in):
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/edit/rainfall")
    select = page.locator("#field-access-tier")
    assert select.input_value() == "open"
    assert "publishing organisation approves" in select.locator("option[value=controlled]").inner_text()
    select.select_option("controlled")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_url(re.compile(r".*/dataset/rainfall$"))
    assert page.locator("h1 .governance-tier").inner_text().strip() == "Controlled access"
    shown = call_action("package_show", {"user": ""}, id="rainfall")
    assert shown["access_tier"] == "controlled"
    assert shown["resources"][0]["url"] == ""
