"""Access requests in the browser: a researcher asks, a reviewer returns, the
researcher edits and resubmits, the reviewer approves in the queue, the
researcher downloads."""
from __future__ import annotations

import re

import pytest

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import AccessRequest

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]

SECRET_URL = "https://files.example.org/controlled-secret/cohort.csv"
USE = "Kidney outcomes of adults on blood pressure medication, for a cohort study."


@pytest.fixture
def site():
    researcher = factories.User(name="ravi-researcher", password=PASSWORD)
    reviewer = factories.User(name="rita-reviewer", password=PASSWORD)
    org = factories.Organization(name="cohort-org", title="Cohort Lab",
                                 users=[{"name": reviewer["name"], "capacity": "admin"}])
    call_action("package_create", {"user": reviewer["name"]}, name="cohort", title="Cohort study",
                owner_org=org["id"], access_tier="controlled", data_use=["HMB", "IRB", "NCU"],
                resources=[{"name": "Cohort", "url": SECRET_URL}])
    return {"researcher": researcher, "reviewer": reviewer}




def test_request_return_resubmit_approve_download(site, live_server, page, artifacts_dir, log_in):
    log_in(site["researcher"])
    page.goto(f"{live_server}/dataset/cohort")
    conditions = page.locator(".governance-data-use")
    assert "health or medical or biomedical research" in conditions.inner_text()
    assert conditions.locator("a[href='http://purl.obolibrary.org/obo/DUO_0000021']").count() == 1
    assert SECRET_URL not in page.content()
    page.locator(".governance-access").get_by_role("link", name="Request access").click()
    page.wait_for_url(re.compile(r".*/dataset/cohort/request$"))

    # The conditions drive the form: commercial use cannot be chosen, ethics is required.
    assert page.locator("#field-commercial-true").is_disabled()
    page.fill("#field-intended-use", USE)
    page.check("#field-commercial-false")
    page.get_by_role("button", name="Send request").click()
    errors = page.locator(".governance-form-errors")
    assert "ethics (IRB/ERB) approval" in errors.inner_text()
    page.fill("#field-ethics-reference", "IRB-2026-17")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r".*/request/[0-9a-f-]+$"))
    assert "Waiting for review" in page.locator(".governance-request-state").inner_text()
    page.screenshot(path=str(artifacts_dir / "request-pending.png"), full_page=True)

    page.context.clear_cookies()  # log out
    log_in(site["reviewer"])
    page.goto(f"{live_server}/organization/cohort-org")
    page.get_by_role("link", name="Access requests").click()
    page.wait_for_url(re.compile(r".*/organization/cohort-org/requests$"))
    row = page.locator(".governance-queue-row")
    assert row.count() == 1 and "ravi-researcher" in row.inner_text()
    row.get_by_role("link").nth(1).click()  # the request's page
    page.fill("#field-message", "Which cohort years do you need?")
    page.get_by_role("button", name="Return for more information").click()
    assert "1 request returned." in page.content()

    page.context.clear_cookies()  # log out
    log_in(site["researcher"])
    page.goto(f"{live_server}/dashboard/access")
    mine = page.locator(".governance-my-request")
    assert mine.get_attribute("data-state") == "returned"
    assert "Which cohort years do you need?" in mine.inner_text()
    mine.get_by_role("link", name="Edit and resubmit").click()
    assert "Which cohort years do you need?" in page.locator(".governance-return-message").inner_text()
    page.fill("#field-intended-use", USE + " Years 2010 to 2020.")
    page.get_by_role("button", name="Resubmit").click()
    page.wait_for_url(re.compile(r".*/request/[0-9a-f-]+$"))
    assert page.locator(".governance-request-state").get_attribute("data-state") == "pending"

    page.context.clear_cookies()  # log out
    log_in(site["reviewer"])
    page.goto(f"{live_server}/organization/cohort-org/requests")
    page.locator(".governance-queue-row input[type=checkbox]").check()
    page.get_by_role("button", name="Approve selected").click()
    assert "1 request approved." in page.content()
    page.screenshot(path=str(artifacts_dir / "review-queue.png"), full_page=True)

    page.context.clear_cookies()  # log out
    log_in(site["researcher"])
    page.goto(f"{live_server}/dataset/cohort")
    assert "You can access the data." in page.locator(".governance-access").inner_text()
    assert SECRET_URL in page.content()
    page.goto(f"{live_server}/dashboard/access")
    assert page.locator(".governance-my-grant").get_attribute("data-state") == "active"

    model.Session.remove()
    (req,) = model.Session.query(AccessRequest).all()
    assert (req.state, req.ethics_reference) == ("approved", "IRB-2026-17")


def test_other_users_cannot_open_a_request_page(site, live_server, page, log_in):
    call_action("governance_request_create", {"user": "ravi-researcher"}, id="cohort",
                intended_use=USE, ethics_reference="IRB-1", commercial=False)
    request_id = model.Session.query(AccessRequest.id).scalar()
    factories.User(name="nosy-neighbour", password=PASSWORD)
    log_in({"name": "nosy-neighbour"})
    resp = page.goto(f"{live_server}/request/{request_id}")
    assert resp.status == 404
    assert USE not in page.content()
    assert page.goto(f"{live_server}/organization/cohort-org/requests").status == 403
