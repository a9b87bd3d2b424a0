"""Links and redirects built from ``next`` stay on this site."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import urls

TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')

# What browsers read as another host, or CKAN as an endpoint name.
HOSTILE = [
    "/\\evil.example/x", "\\\\evil.example", "/\t/evil.example", "//evil.example/x",
    "https://evil.example/", "javascript:alert(1)", "/%5Cevil.example/x", "/%09/evil.example",
    "/%2F/evil.example", "notaroute", "", " /dataset", "/\x00x", "\r\n/x", 5, None, ["/x"],
]


@pytest.mark.parametrize("value", HOSTILE)
def test_anything_but_a_plain_path_falls_back(value):
    assert urls.local_path(value, "/dataset/survey") == "/dataset/survey"


@pytest.mark.parametrize("value", ["/dataset/survey", "/dataset/survey/resource/1?x=1&y=%20#top", "/"])
def test_a_plain_path_passes(value):
    assert urls.local_path(value, "/fallback") == value


@pytest.fixture
def site(login, clean_db, clean_index):
    factories.User(name="ann", email="ann@example.org", password=login.password)
    factories.User(name="rita", email="rita@example.org", password=login.password)
    org = factories.Organization(name="hydro", users=[{"name": "rita", "capacity": "admin"}])
    call_action("governance_agreement_create", {"user": "rita"}, owner_org="hydro",
                name="hydro-dua", title="Hydro terms", body="Be nice.")
    call_action("package_create", {"user": "rita"}, name="survey", owner_org=org["id"],
                access_tier="agreement", agreement="hydro-dua",
                resources=[{"url": "https://files.example.org/survey.csv"}])


@pytest.mark.parametrize("value", ["/\\evil.example/x", "\\\\evil.example", "/\t/evil.example",
                                   "//evil.example", "notaroute"])
def test_the_go_back_link_of_the_agreement_page_stays_on_the_site(app, site, login, value):
    client = login(app, "ann")
    page = client.get(f"/dataset/survey/agreement?next={quote(value, safe='')}").get_data(as_text=True)
    (back,) = re.findall(r'href="([^"]*)"[^>]*>\s*Go back', page)
    assert back == "/dataset/survey"
    hidden = re.findall(r'name="next" value="([^"]*)"', page)
    assert hidden == ["/dataset/survey"]  # where accepting goes on to


@pytest.mark.parametrize("value", ["notaroute", "//evil.example/x", "/%09/evil.example"])
def test_accepting_with_a_bad_next_lands_on_the_dataset_once(app, site, login, value):
    client = login(app, "ann")
    page = client.get("/dataset/survey/agreement").get_data(as_text=True)
    answer = client.post("/dataset/survey/agreement", data={
        "accept": "yes", "next": value, "_csrf_token": TOKEN.search(page).group(1)},
        follow_redirects=False)
    assert answer.status_code == 302
    where = urlsplit(answer.headers["Location"])
    assert where.netloc in ("", "test.ckan.net") and where.path == "/dataset/survey"
    listed = call_action("governance_acceptance_list", {"user": "rita"}, id="hydro-dua")
    assert listed["count"] == 1


def test_revoking_with_a_bad_next_lands_on_the_site(app, site, login):
    use = "We will study how blood pressure medication relates to kidney outcomes in adults."
    call_action("package_patch", {"user": "rita"}, id="survey", access_tier="controlled")
    req = call_action("governance_request_create", {"user": "ann", "ignore_auth": False},
                      id="survey", intended_use=use, institution="Uni", commercial=False)
    grant = call_action("governance_request_decide", {"user": "rita", "ignore_auth": False},
                        id=req["id"], decision="approve")["results"][0]["grant"]
    client = login(app, "rita")
    page = client.get("/organization/hydro/requests").get_data(as_text=True)
    answer = client.post(f"/grant/{grant['id']}/revoke", data={
        "reason": "Ended", "next": "/\\evil.example/x", "_csrf_token": TOKEN.search(page).group(1)},
        follow_redirects=False)
    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).netloc in ("", "test.ckan.net")
    assert "evil" not in answer.headers["Location"]
    model.Session.remove()
    assert call_action("governance_grant_list", {"user": "rita"}, dataset="survey")["results"][0]["state"] == "revoked"
