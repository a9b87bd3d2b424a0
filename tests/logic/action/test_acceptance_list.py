"""The acceptance audit trail: who sees which acceptances, filters, status, CSV export."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


def _org(name, admin, editor):
    org = factories.Organization(name=name, users=[
        {"name": admin["name"], "capacity": "admin"},
        {"name": editor["name"], "capacity": "editor"},
    ])
    ctx = {"user": editor["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org=name, name=f"{name}-dua",
                title=f"{name} terms", body="Use it well.", renewal_days=30)
    for dataset in (f"{name}-a", f"{name}-b"):
        call_action("package_create", dict(ctx), name=dataset, owner_org=org["id"],
                    access_tier="agreement", agreement=f"{name}-dua")
    return org


@pytest.fixture
def world():
    users = {n: factories.User(name=n) for n in (
        "hydro-admin", "hydro-editor", "soil-admin", "soil-editor", "ann", "bob")}
    _org("hydro", users["hydro-admin"], users["hydro-editor"])
    _org("soil", users["soil-admin"], users["soil-editor"])
    accept("ann", "hydro-a", typed_name="Ann A.")
    accept("bob", "hydro-b")
    accept("ann", "soil-a")
    return users


def accept(user, dataset, **extra):
    return call_action("governance_agreement_accept", {"user": user}, id=dataset, **extra)


def listed(caller, **filters):
    return call_action("governance_acceptance_list", {"user": caller, "ignore_auth": False}, **filters)


def who(result):
    return sorted((r["user_name"], r["agreement"]) for r in result["results"])


def test_organisation_admin_sees_acceptances_of_its_agreements_only(world):
    assert who(listed("hydro-admin")) == [("ann", "hydro-dua"), ("bob", "hydro-dua")]
    assert who(listed("soil-admin")) == [("ann", "soil-dua")]


def test_editors_and_researchers_see_only_their_own(world):
    assert who(listed("ann")) == [("ann", "hydro-dua"), ("ann", "soil-dua")]
    assert who(listed("hydro-editor")) == []
    assert listed("ann", user="bob")["count"] == 0


def test_sysadmin_sees_every_acceptance(world):
    admin = factories.Sysadmin()
    assert listed(admin["name"])["count"] == 3


def test_anonymous_users_may_not_list_acceptances(world):
    with pytest.raises(tk.NotAuthorized):
        listed("")


def test_an_acceptance_records_what_the_auditor_needs(world):
    (row,) = listed("hydro-admin", user="ann")["results"]
    assert row["dataset"] == "hydro-a" and row["version"] == 1
    assert row["version_title"] == "hydro terms"
    assert row["channel"] == "api" and row["typed_name"] == "Ann A."
    assert len(row["sha256"]) == 64 and row["status"] == "valid"
    created = dt.datetime.fromisoformat(row["created"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(row["expires"].replace("Z", "+00:00"))
    assert expires - created == dt.timedelta(days=30)


@pytest.mark.parametrize("filters, expected", [
    ({"agreement": "hydro-dua"}, [("ann", "hydro-dua"), ("bob", "hydro-dua")]),
    ({"dataset": "hydro-b"}, [("bob", "hydro-dua")]),
    ({"user": "ann"}, [("ann", "hydro-dua"), ("ann", "soil-dua")]),
    ({"organization": "soil"}, [("ann", "soil-dua")]),
    ({"version": 2}, []),
    ({"version": 1, "agreement": "soil-dua"}, [("ann", "soil-dua")]),
])
def test_filters_narrow_the_list(world, filters, expected):
    assert who(listed(factories.Sysadmin()["name"], **filters)) == expected


def test_period_filters_use_utc_bounds(world):
    sysadmin = factories.Sysadmin()["name"]
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).date().isoformat()
    assert listed(sysadmin, since=tomorrow)["count"] == 0
    assert listed(sysadmin, until=tomorrow)["count"] == 3


@pytest.mark.parametrize("field, value", [
    ("agreement", "no-such-dua"), ("dataset", "no-such-dataset"), ("user", "nobody-here"),
    ("organization", "no-such-org"), ("version", "two"), ("version", "0"),
    ("since", "yesterday"), ("page", "-1"),
])
def test_bad_filter_is_a_validation_error_naming_the_field(world, field, value):
    with pytest.raises(tk.ValidationError) as err:
        listed("hydro-admin", **{field: value})
    assert field in err.value.error_dict


def test_status_says_when_an_acceptance_no_longer_counts(world):
    call_action("governance_agreement_update", {"user": "hydro-editor"}, id="hydro-dua",
                body="Use it well, and cite us.", material=True)
    statuses = {r["user_name"]: r["status"] for r in listed("hydro-admin")["results"]}
    assert statuses == {"ann": "outdated", "bob": "outdated"}
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)):
        assert {r["status"] for r in listed("soil-admin")["results"]} == {"expired"}


def test_paging_is_stable_and_ordered_oldest_first(world):
    sysadmin = factories.Sysadmin()["name"]
    first = listed(sysadmin, limit=2, page=1)
    second = listed(sysadmin, limit=2, page=2)
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert first["count"] == 3 and ids == sorted(ids) and len(set(ids)) == 3


# The CSV export --------------------------------------------------------------


def _csv(app, org, caller, query=""):
    headers = {}
    if caller:
        token = call_action("api_token_create", {"user": caller}, user=caller, name="t")["token"]
        headers["Authorization"] = token
    return app.get(f"/organization/{org}/governance/acceptances.csv{query}", headers=headers)


def test_organisation_admin_exports_its_acceptances_as_csv(world, app):
    resp = _csv(app, "hydro", "hydro-admin")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert 'filename="hydro-agreement-acceptances-' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert sorted((r["user_name"], r["dataset"]) for r in rows) == [("ann", "hydro-a"), ("bob", "hydro-b")]
    assert {r["agreement"] for r in rows} == {"hydro-dua"}


def test_csv_filters_by_query_string(world, app):
    resp = _csv(app, "hydro", "hydro-admin", "?user=bob")
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["user_name"] for r in rows] == ["bob"]


def test_csv_cells_cannot_smuggle_a_spreadsheet_formula(world, app):
    factories.User(name="carol")
    accept("carol", "hydro-a", typed_name='=HYPERLINK("http://evil.example","x")')
    resp = _csv(app, "hydro", "hydro-admin", "?user=carol")
    (row,) = csv.DictReader(io.StringIO(resp.get_data(as_text=True)))
    assert row["typed_name"].startswith("'=")


@pytest.mark.parametrize("user, status", [
    ("hydro-editor", 403), ("soil-admin", 403), ("ann", 403), (None, 403),
])
def test_csv_export_is_for_the_organisations_admins(world, app, user, status):
    assert _csv(app, "hydro", user).status_code == status


def test_csv_export_with_a_bad_filter_is_a_clear_400(world, app):
    resp = _csv(app, "hydro", "hydro-admin", "?version=abc")
    assert resp.status_code == 400
    assert _csv(app, "no-such-org", "hydro-admin").status_code == 404
