"""Embargoes as publishers and researchers see them, in a real browser."""
from __future__ import annotations

import datetime as dt
import re

import pytest

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import EmbargoSubscription

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]

SECRET_URL = "https://files.example.org/embargo-secret/flows.csv"


def _ends() -> tuple[str, str]:
    """An embargo end some months from today (whatever today is): the ISO day
    and the date in the words the pages use."""
    from ckanext.governance import clock

    day = (clock.now() + dt.timedelta(days=120)).date()
    return day.isoformat(), f"{day.day} {day:%B %Y}"


@pytest.fixture
def site():
    editor = factories.User(name="pat-publisher", password=PASSWORD)
    researcher = factories.User(name="ravi-researcher", password=PASSWORD)
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    call_action("package_create", {"user": editor["name"]}, name="river-flows",
                title="River flow measurements", owner_org=org["id"],
                resources=[{"name": "Data file", "url": SECRET_URL}])
    return {"editor": editor, "researcher": researcher}




def test_publisher_sets_an_embargo_and_visitors_see_the_date_in_plain_words(site, live_server, page, artifacts_dir, log_in):
    day, words = _ends()
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/edit/river-flows")
    page.fill("#field-embargo-until", f"{day}T00:00")
    page.fill("#field-embargo-reason", "Until the article is published")
    page.get_by_role("button", name="Update Dataset").click()
    page.wait_for_url(re.compile(r".*/dataset/river-flows$"))
    assert call_action("package_show", {"user": ""}, id="river-flows")["embargo_until"] == f"{day}T00:00:00Z"

    page.context.clear_cookies()
    page.goto(f"{live_server}/dataset/river-flows")
    assert page.locator("h1 .governance-embargo").inner_text().strip() == f"Embargoed until {words}"
    panel = page.locator(".governance-access").inner_text()
    assert f"Data available from {words} (UTC)." in panel
    assert "Reason for the embargo: Until the article is published" in panel
    assert SECRET_URL not in page.content()
    page.screenshot(path=str(artifacts_dir / "embargo-visitor.png"), full_page=True)

    page.goto(f"{live_server}/dataset/")
    item = page.locator(".dataset-item", has_text="River flow measurements")
    assert f"Embargoed until {words}" in item.inner_text()
    facet = page.locator("section.module-narrow", has_text="Embargo")
    assert facet.get_by_role("link", name=re.compile("Embargoed")).is_visible()


def test_researcher_asks_to_be_told_when_the_data_opens(site, live_server, page, log_in):
    day, words = _ends()
    call_action("package_patch", {"user": site["editor"]["name"]}, id="river-flows",
                embargo_until=day)
    log_in(site["researcher"])
    page.goto(f"{live_server}/dataset/river-flows")
    page.get_by_role("button", name="Tell me when available").click()
    page.wait_for_url(re.compile(r".*/dataset/river-flows$"))
    assert f"We will e-mail you when the data becomes available on {words} (UTC)." in page.content()
    model.Session.remove()
    assert model.Session.query(EmbargoSubscription).filter_by(
        user_id=site["researcher"]["id"]).count() == 1


def test_the_form_refuses_a_past_date_with_the_reason(site, live_server, page, log_in):
    log_in(site["editor"])
    page.goto(f"{live_server}/dataset/edit/river-flows")
    page.fill("#field-embargo-until", "2020-01-01T00:00")
    page.get_by_role("button", name="Update Dataset").click()
    assert "An embargo must end in the future" in page.locator(".governance-embargo-field").inner_text()
