"""Bad input to the governance actions and forms is a CKAN error on its field
(or not found / not authorised), never a server error, and writes nothing.

Each case below answered HTTP 500 before: PostgreSQL refusing a NUL
character or comparing text with a number, ``.strip()`` on a number,
overflow converting far dates to UTC or huge day counts to dates.
(tests/site_wide/test_fuzz.py generates many more.)
"""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa
from cookie_session import logged_in

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

USE = "We will study how blood pressure medication relates to kidney outcomes in adults."
NOT_TEXT = [True, -1, 1.5, ["a"], {"a": 1}, 10 ** 30, math.inf]
NUL = "a\x00b"
FAR = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.fixture
def site():
    factories.Sysadmin(name="sam-sysadmin")
    for name in ("rita-reviewer", "ed-editor", "ann", "bob"):
        factories.User(name=name, email=f"{name}@example.org")
    org = factories.Organization(name="cohort-org", users=[
        {"name": "rita-reviewer", "capacity": "admin"}, {"name": "ed-editor", "capacity": "editor"}])
    ed = {"user": "ed-editor"}
    call_action("governance_agreement_create", dict(ed), owner_org="cohort-org", name="cohort-dua",
                title="Terms", body="Be kind.")
    call_action("package_create", dict(ed), name="cohort", owner_org=org["id"],
                access_tier="controlled", data_use=["GRU"],
                resources=[{"url": "https://files.example.org/cohort.csv"}])
    call_action("package_create", dict(ed), name="survey", owner_org=org["id"],
                access_tier="agreement", agreement="cohort-dua",
                resources=[{"url": "https://files.example.org/survey.csv"}])
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
    call_action("package_create", dict(ed), name="embargoed", owner_org=org["id"], embargo_until=later)
    ask = {"intended_use": USE, "commercial": False}
    pending = call_action("governance_request_create", {"user": "ann"}, id="cohort", **ask)["id"]
    granted = call_action("governance_request_create", {"user": "bob"}, id="cohort", **ask)["id"]
    (approved,) = call_action("governance_request_decide", {"user": "rita-reviewer"}, id=granted,
                              decision="approve")["results"]
    return {"org": org["id"], "pending": pending, "grant": approved["grant"]["id"]}


def digest() -> dict[str, str]:
    """Every row of the governance tables and of package/resource."""
    tables = model.Session.execute(sa.text(
        "select table_name from information_schema.tables where table_schema = current_schema() "
        "and (table_name like 'governance\\_%' or table_name in ('package', 'resource'))")).scalars().all()
    return dict(model.Session.execute(sa.text(" union all ".join(
        f"select '{t}', md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from \"{t}\" r"
        for t in tables))).all())


def refused(user, action, field, /, **data):
    """``action`` refuses ``data`` with a ValidationError on ``field`` and writes nothing."""
    before = digest()
    with pytest.raises(tk.ValidationError) as err:
        call_action(action, {"user": user, "ignore_auth": False}, **data)
    assert field in err.value.error_dict, err.value.error_dict
    assert digest() == before
    model.Session.remove()


# The actions naming one object by ``id`` (their caller, and the other parameters).
BY_ID = [
    ("governance_access_show", "ann", {}),
    ("governance_agreement_update", "ed-editor", {"body": "New", "material": True}),
    ("governance_agreement_show", "ann", {}),
    ("governance_agreement_accept", "ann", {}),
    ("governance_embargo_subscribe", "ann", {}),
    ("governance_request_create", "bob", {"intended_use": USE, "commercial": False}),
    ("governance_request_update", "ann", {"intended_use": USE}),
    ("governance_request_show", "ann", {}),
    ("governance_request_withdraw", "ann", {}),
    ("governance_request_decide", "rita-reviewer", {"decision": "approve"}),
    ("governance_grant_revoke", "rita-reviewer", {"reason": "Left"}),
    ("governance_publication_check", "ed-editor", {}),
]


def test_an_id_that_is_not_text_is_refused_on_the_field(site):
    for value in NOT_TEXT + [NUL]:
        for action, user, data in BY_ID:
            refused(user, action, "id", id=value, **data)
        refused("ed-editor", "governance_agreement_create", "owner_org", owner_org=value,
                name="new-dua", title="T", body="B")
        refused("ann", "governance_agreement_list", "owner_org", owner_org=value)
        refused("rita-reviewer", "governance_request_decide", "ids", ids=[value], decision="approve")


def test_a_list_filter_that_is_not_text_is_refused_on_the_field(site):
    for action, filters in (
        ("governance_event_list", ("organization", "dataset", "user")),
        ("governance_acceptance_list", ("organization", "agreement", "dataset", "user")),
        ("governance_request_list", ("organization", "dataset", "user")),
        ("governance_grant_list", ("organization", "dataset", "user")),
    ):
        for field in filters:
            for value in NOT_TEXT + [NUL]:
                refused("sam-sysadmin", action, field, **{field: value})


def test_a_date_beyond_utc_years_1_to_9999_is_refused_on_the_field(site):
    for value in FAR:
        for action in ("governance_event_list", "governance_acceptance_list"):
            for field in ("since", "until"):
                refused("sam-sysadmin", action, field, **{field: value})
        refused("ed-editor", "governance_publication_check", "embargo_until", id="cohort",
                embargo_until=value)
        refused("ed-editor", "package_patch", "embargo_until", id="cohort", embargo_until=value)
        refused("ed-editor", "package_create", "embargo_until", name="new-one",
                owner_org=site["org"], embargo_until=value)


def test_free_text_with_a_nul_character_is_refused_on_the_field(site):
    refused("ann", "governance_agreement_accept", "typed_name", id="survey", typed_name=NUL)
    refused("ed-editor", "package_patch", "embargo_reason", id="cohort", embargo_reason=NUL)
    refused("ed-editor", "package_patch", "agreement", id="cohort", agreement=NUL)
    refused("ed-editor", "governance_agreement_create", "title", owner_org="cohort-org",
            name="new-dua", title=NUL, body="B")
    refused("ed-editor", "governance_agreement_create", "name", owner_org="cohort-org",
            name=NUL, title="T", body="B")
    refused("ed-editor", "governance_agreement_update", "body", id="cohort-dua", body=NUL, material=True)
    refused("bob", "governance_request_create", "institution", id="cohort", intended_use=USE,
            commercial=False, institution=NUL)
    refused("ann", "governance_request_withdraw", "message", id=site["pending"], message=NUL)
    refused("rita-reviewer", "governance_request_decide", "message", id=site["pending"],
            decision="reject", message=NUL)
    refused("rita-reviewer", "governance_grant_revoke", "reason", id=site["grant"], reason=NUL)


def test_texts_and_choices_that_are_not_text_are_refused_on_the_field(site):
    for value in NOT_TEXT:
        for field in ("title", "body"):
            refused("ed-editor", "governance_agreement_create", field, owner_org="cohort-org",
                    name="new-dua", **{"title": "T", "body": "B", field: value})
            refused("ed-editor", "governance_agreement_update", field, id="cohort-dua",
                    material=True, **{field: value})
        refused("rita-reviewer", "governance_request_decide", "decision", id=site["pending"],
                decision=value, message="Why")
        refused("rita-reviewer", "governance_request_decide", "message", id=site["pending"],
                decision="reject", message=value)


DAY_COUNTS = [
    ("ed-editor", "governance_agreement_create", "renewal_days",
     {"owner_org": "cohort-org", "name": "new-dua", "title": "T", "body": "B"}),
    ("ed-editor", "governance_agreement_update", "renewal_days", {"id": "cohort-dua"}),
    ("sam-sysadmin", "governance_request_list", "older_than_days", {}),
    ("ed-editor", "package_patch", "grant_days", {"id": "cohort"}),
    ("bob", "governance_request_create", "duration_days",
     {"id": "cohort", "intended_use": USE, "commercial": False}),
]


def test_a_day_count_beyond_a_century_or_not_whole_is_refused_on_the_field(site):
    for user, action, field, data in DAY_COUNTS:
        for value in (10 ** 30, 1_000_000, math.inf, math.nan, 1.5, True):
            refused(user, action, field, **data, **{field: value})


def test_a_renewal_period_of_millions_of_days_is_refused_rather_than_break_later_reads(site):
    # 2**31 - 1 days fit the column but no timestamp: once stored, every
    # package_show of the agreement's datasets and every acceptance list
    # failed in the database. A century is the limit.
    refused("ed-editor", "governance_agreement_update", "renewal_days", id="cohort-dua",
            renewal_days=2 ** 31 - 1)
    updated = call_action("governance_agreement_update", {"user": "ed-editor"}, id="cohort-dua",
                          renewal_days=36_500)
    assert updated["renewal_days"] == 36_500


# The forms ---------------------------------------------------------------------------------


def test_accepting_with_a_nul_in_the_signature_shows_the_error_and_records_nothing(site, app):
    client, token = logged_in(app, "bob")
    before = digest()
    response = client.post("/dataset/survey/agreement", base_url=tk.config["ckan.site_url"], data={
        "accept": "yes", "typed_name": NUL, "_csrf_token": token})
    assert response.status_code == 200
    assert "Must not contain NUL characters" in response.get_data(as_text=True)
    assert digest() == before


def test_revoking_with_a_nul_in_the_reason_keeps_the_grant(site, app):
    client, token = logged_in(app, "rita-reviewer")
    before = digest()
    response = client.post(f"/grant/{site['grant']}/revoke", base_url=tk.config["ckan.site_url"],
                           data={"reason": NUL, "_csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert digest() == before


def test_a_nul_character_in_a_governance_url_names_nothing(site, app):
    client, token = logged_in(app, "ann")
    site_url = tk.config["ckan.site_url"]
    for path in ("/dataset/%00/agreement", "/request/%00", "/agreement/%00",
                 "/organization/%00/requests", "/dataset/%00/request"):
        assert client.get(path, base_url=site_url).status_code == 404, path
    for path in ("/request/%00/withdraw", "/grant/%00/revoke", "/dataset/%00/governance/subscribe"):
        assert client.post(path, base_url=site_url, data={"_csrf_token": token}).status_code == 404, path
