"""The data use agreement page: safe rendering, and the accept-and-continue flow."""
from __future__ import annotations

import re

import pytest

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import Acceptance

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]

SECRET_URL = "https://files.example.org/agreement-secret/answers.csv"
HOSTILE_TITLE = 'Terms <img src=x onerror="window.__xss=1">'
HOSTILE_BODY = """You will not try to identify anyone.

<script>window.__xss = 2</script>
<img src="x" onerror="window.__xss = 3">
<a href="#" onclick="window.__xss = 4">click here</a>

[a javascript link](javascript:window.__xss=5)
"""


@pytest.fixture
def site():
    editor = factories.User(name="pat-publisher", password=PASSWORD)
    researcher = factories.User(name="ravi-researcher", password=PASSWORD)
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    ctx = {"user": editor["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org=org["id"], name="survey-dua",
                title=HOSTILE_TITLE, body=HOSTILE_BODY)
    call_action("package_create", dict(ctx), name="survey-answers", title="Survey answers",
                owner_org=org["id"], access_tier="agreement", agreement="survey-dua",
                resources=[{"name": "Answers", "url": SECRET_URL}])
    return {"editor": editor, "researcher": researcher}




def test_agreement_text_is_shown_as_text_never_run(site, live_server, page, artifacts_dir, log_in):
    page.goto(f"{live_server}/user/login")
    log_in(site["researcher"], here=True)
    page.wait_for_load_state()
    page.goto(f"{live_server}/dataset/survey-answers/agreement")
    assert page.locator("h1.governance-agreement-title").inner_text() == HOSTILE_TITLE
    body = page.locator(".governance-agreement-body")
    assert "You will not try to identify anyone." in body.inner_text()
    page.locator(".governance-agreement-body a", has_text="click here").click()
    assert page.evaluate("window.__xss") is None
    # Markdown may keep a plain <img>, never a script, a handler or a javascript: link.
    assert body.locator("script, [onclick], [onerror], a[href^='javascript']").count() == 0
    page.screenshot(path=str(artifacts_dir / "agreement-page.png"), full_page=True)


def test_researcher_logs_in_accepts_and_lands_back_on_the_data(site, live_server, page, log_in):
    page.goto(f"{live_server}/dataset/survey-answers")
    assert SECRET_URL not in page.content()
    page.locator(".governance-access").get_by_role("link", name="Log in to access").click()
    page.wait_for_url(re.compile(r".*/user/login.*"))
    log_in(site["researcher"], here=True)
    page.wait_for_url(re.compile(r".*/dataset/survey-answers$"))

    panel = page.locator(".governance-access")
    assert "Accept the data use agreement to access the data." in panel.inner_text()
    panel.get_by_role("link", name="Read and accept the agreement").click()
    page.wait_for_url(re.compile(r".*/dataset/survey-answers/agreement.*"))

    page.get_by_role("button", name="Accept").click()  # without ticking the box
    assert "Tick the box to accept the agreement." in page.locator(".governance-agreement-error").inner_text()

    page.check("#field-accept")
    page.fill("#field-typed-name", "Ravi Researcher")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(r".*/dataset/survey-answers$"))
    assert "You can access the data." in page.locator(".governance-access").inner_text()
    assert SECRET_URL in page.content()

    model.Session.remove()
    (record,) = model.Session.query(Acceptance).all()
    assert (record.channel, record.typed_name) == ("web", "Ravi Researcher")
