"""Agreement pages: the organisation's list with counts, public versions,
"My agreements", and the agreement select of the dataset form."""
from __future__ import annotations

import re

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def site():
    editor = factories.User(name="ed-editor")
    outsider = factories.User(name="oz-outsider")
    org = factories.Organization(name="hydro", users=[{"name": editor["name"], "capacity": "editor"}])
    other_editor = factories.User(name="sol-editor")
    factories.Organization(name="soil", users=[{"name": other_editor["name"], "capacity": "editor"}])
    call_action("governance_agreement_create", {"user": "sol-editor"}, owner_org="soil",
                name="soil-dua", title="Soil terms", body="Soil.")
    ctx = {"user": editor["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org="hydro", name="hydro-dua",
                title="Hydro terms", body="First text.", renewal_days=365)
    call_action("package_create", dict(ctx), name="survey", owner_org=org["id"],
                access_tier="agreement", agreement="hydro-dua")
    for name in ("ann", "bob"):
        factories.User(name=name)
        call_action("governance_agreement_accept", {"user": name}, id="survey")
    call_action("governance_agreement_update", dict(ctx), id="hydro-dua",
                body="Second text.", material=True)
    call_action("governance_agreement_accept", {"user": "ann"}, id="survey")
    return {"editor": editor, "outsider": outsider}


def get(app, url, user=None, **kwargs):
    headers = {}
    if user:
        headers["Authorization"] = call_action(
            "api_token_create", {"user": user}, user=user, name="t")["token"]
    return app.get(url, headers=headers, **kwargs)


def test_organisation_page_lists_agreements_with_acceptances_per_version(site, app):
    html = get(app, "/organization/hydro/agreements", "ed-editor").get_data(as_text=True)
    row = html[html.index('data-agreement="hydro-dua"'):]
    counts = dict(re.findall(r'data-version="(\d)">.*?governance-count">(\d+)<', row, re.S))
    assert counts == {"1": "2", "2": "1"}
    assert "Hydro terms" in html and "Soil terms" not in html
    assert "/agreement/hydro-dua/edit" in html
    assert "acceptances.csv" not in html  # editors manage texts; admins audit


@pytest.mark.parametrize("user", ["oz-outsider", "sol-editor", None])
def test_organisation_agreement_pages_are_for_its_editors(site, app, user):
    assert get(app, "/organization/hydro/agreements", user).status_code == 403
    assert get(app, "/organization/hydro/agreements/new", user).status_code == 403
    assert get(app, "/agreement/hydro-dua/edit", user).status_code == 403


def test_agreements_tab_shows_for_editors_only(site, app):
    assert "/organization/hydro/agreements" in get(app, "/organization/hydro", "ed-editor").get_data(as_text=True)
    assert "/organization/hydro/agreements" not in get(app, "/organization/hydro", "oz-outsider").get_data(as_text=True)


def test_anyone_reads_every_version_of_an_agreement(site, app):
    current = get(app, "/agreement/hydro-dua").get_data(as_text=True)
    assert "Second text." in current and "Version 2 of 2" in current
    old = get(app, "/agreement/hydro-dua/1").get_data(as_text=True)
    assert "First text." in old and "This is not the current version." in old
    assert get(app, "/agreement/hydro-dua/7").status_code == 404
    assert get(app, "/agreement/no-such-dua").status_code == 404


def test_my_agreements_lists_what_i_accepted_and_whether_it_counts(site, app):
    html = get(app, "/dashboard/agreements", "bob").get_data(as_text=True)
    assert html.count('class="governance-acceptance"') == 1
    assert 'data-status="outdated"' in html and "Accept again" in html
    assert "/dataset/survey/agreement" in html
    ann = get(app, "/dashboard/agreements", "ann").get_data(as_text=True)
    assert re.findall(r'data-status="(\w+)"', ann) == ["valid", "superseded"]
    assert "Accept again" not in ann


def test_my_agreements_asks_anonymous_users_to_log_in(site, app):
    resp = get(app, "/dashboard/agreements", follow_redirects=False)
    assert resp.status_code == 302 and "/user/login" in resp.headers["Location"]


def test_dataset_form_offers_the_agreements_of_the_editors_organisations(site, app):
    html = get(app, "/dataset/edit/survey", "ed-editor").get_data(as_text=True)
    select = html[html.index('id="field-agreement"'):]
    select = select[:select.index("</select>")]
    assert re.search(r'<option value="hydro-dua"\s+selected="selected">Hydro terms</option>', select)
    assert "soil-dua" not in select
