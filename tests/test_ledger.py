"""The governance ledger: what it records, who reads it, and its exports."""
from __future__ import annotations

import csv
import io

import pytest

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import Event

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def org(ckan_config, monkeypatch):
    # These tests count tier and download events; publishing public datasets
    # would add publication events (tests/logic/action/test_publication.py has those).
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "off")
    admin = factories.User(name="org-admin")
    editor = factories.User(name="org-editor")
    org = factories.Organization(name="hydro", users=[
        {"name": admin["name"], "capacity": "admin"},
        {"name": editor["name"], "capacity": "editor"},
    ])
    ctx = {"user": editor["name"]}
    pkg = call_action("package_create", dict(ctx), name="rivers", owner_org=org["id"],
                      access_tier="registered",
                      resources=[{"url": "https://files.example.org/f.csv", "name": "Flows"}])
    call_action("package_patch", dict(ctx), id=pkg["id"], access_tier="controlled")
    other_admin = factories.User(name="other-admin")
    other = factories.Organization(name="soil", users=[{"name": other_admin["name"], "capacity": "admin"}])
    call_action("package_create", {"user": other_admin["name"]}, name="soil-survey",
                owner_org=other["id"], access_tier="agreement")
    return {"org": org, "admin": admin, "editor": editor, "pkg": pkg,
            "other": other, "other_admin": other_admin}


def events_for(viewer, /, **filters):
    name = viewer["name"] if viewer else ""
    return call_action("governance_event_list", {"user": name, "ignore_auth": False}, **filters)


def test_tier_set_and_changed_are_recorded_with_actor_dataset_and_organisation(org):
    rows = (model.Session.query(Event).filter_by(package_id=org["pkg"]["id"])
            .order_by(Event.id).all())
    assert [(e.kind, e.detail) for e in rows] == [
        ("tier_changed", {"from": None, "to": "registered"}),
        ("tier_changed", {"from": "registered", "to": "controlled"}),
    ]
    assert {e.actor_id for e in rows} == {org["editor"]["id"]}
    assert {e.organization_id for e in rows} == {org["org"]["id"]}
    assert all(e.created.tzinfo is not None for e in rows)


def test_update_that_keeps_the_tier_records_nothing(org):
    before = model.Session.query(Event).count()
    call_action("package_patch", {"user": org["editor"]["name"]}, id="rivers", notes="More text")
    call_action("package_patch", {"user": org["editor"]["name"]}, id="rivers", access_tier="controlled")
    assert model.Session.query(Event).count() == before


def test_sysadmin_sees_every_event(org):
    result = events_for(factories.Sysadmin())
    assert result["count"] == 3
    assert {e["package_id"] for e in result["results"]} >= {org["pkg"]["id"]}


def test_organisation_admin_sees_the_organisations_events_only(org):
    result = events_for(org["admin"])
    assert result["count"] == 2
    assert {e["organization_id"] for e in result["results"]} == {org["org"]["id"]}
    assert events_for(org["other_admin"])["count"] == 1


def test_other_users_see_only_what_they_did(org):
    assert events_for(org["editor"])["count"] == 2  # their own tier changes
    assert events_for(factories.User())["count"] == 0
    # Asking for another organisation's events narrows, it never widens.
    assert events_for(org["editor"], organization="soil")["count"] == 0


def test_anonymous_users_may_not_list_events(org):
    with pytest.raises(tk.NotAuthorized):
        events_for(None)


def test_filters_by_dataset_user_kind_and_period(org):
    admin = factories.Sysadmin()
    assert events_for(admin, dataset="rivers")["count"] == 2
    assert events_for(admin, user="other-admin")["count"] == 1
    assert events_for(admin, kind="download")["count"] == 0
    assert events_for(admin, since="2000-01-01", until="2999-01-01")["count"] == 3
    assert events_for(admin, since="2999-01-01")["count"] == 0


def test_paging_is_stable_and_ordered_oldest_first(org):
    admin = factories.Sysadmin()
    first = events_for(admin, limit=2, page=1)
    second = events_for(admin, limit=2, page=2)
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 3
    call_action("package_patch", {"user": org["editor"]["name"]}, id="rivers", access_tier="open")
    assert [e["id"] for e in events_for(admin, limit=2, page=1)["results"]] == ids[:2]


@pytest.mark.parametrize(
    "field, value",
    [("kind", "deleted_everything"), ("since", "yesterday"), ("until", "2024-13-45"),
     ("page", -1), ("page", 0), ("limit", "many"), ("organization", "no-such-org"),
     ("dataset", "no-such-dataset"), ("user", "no-such-user")],
)
def test_bad_filter_is_a_validation_error_naming_the_field(org, field, value):
    with pytest.raises(tk.ValidationError) as err:
        events_for(factories.Sysadmin(), **{field: value})
    assert field in err.value.error_dict


def test_until_before_since_is_refused(org):
    with pytest.raises(tk.ValidationError) as err:
        events_for(factories.Sysadmin(), since="2026-02-01", until="2026-01-01")
    assert "until" in err.value.error_dict


def test_download_of_gated_data_is_recorded_and_of_open_data_not(org, app):
    token = call_action("api_token_create", {"user": org["editor"]["name"]},
                        user=org["editor"]["name"], name="t")["token"]
    res_id = org["pkg"]["resources"][0]["id"]
    resp = app.get(f"/dataset/rivers/resource/{res_id}/download",
                   headers={"Authorization": token}, follow_redirects=False)
    assert resp.status_code == 302
    (event,) = model.Session.query(Event).filter_by(kind="download").all()
    assert event.actor_id == org["editor"]["id"]
    assert event.detail["resource_id"] == res_id
    assert event.detail["tier"] == "controlled"

    call_action("package_patch", {"user": org["editor"]["name"]}, id="rivers", access_tier="open")
    app.get(f"/dataset/rivers/resource/{res_id}/download", follow_redirects=False)
    assert model.Session.query(Event).filter_by(kind="download").count() == 1


def test_a_download_that_hands_out_nothing_is_not_recorded(org, app):
    """CKAN answers 404 when the address names another dataset than the
    resource's: the guard let the request through, but nobody took anything."""
    ctx = {"user": org["editor"]["name"]}
    token = call_action("api_token_create", dict(ctx), user=org["editor"]["name"], name="t")["token"]
    res_id = org["pkg"]["resources"][0]["id"]
    resp = app.get(f"/dataset/no-such-dataset/resource/{res_id}/download",
                   headers={"Authorization": token}, follow_redirects=False, status=404)
    assert "files.example.org" not in resp.body
    assert model.Session.query(Event).filter_by(kind="download").count() == 0


@pytest.mark.ckan_config("ckanext.governance.log_downloads", "false")
def test_download_logging_can_be_turned_off(org, app):
    token = call_action("api_token_create", {"user": org["editor"]["name"]},
                        user=org["editor"]["name"], name="t")["token"]
    res_id = org["pkg"]["resources"][0]["id"]
    app.get(f"/dataset/rivers/resource/{res_id}/download", headers={"Authorization": token},
            follow_redirects=False)
    assert model.Session.query(Event).filter_by(kind="download").count() == 0


def _csv(app, org_name, user=None, query=""):
    headers = {}
    if user:
        headers["Authorization"] = call_action(
            "api_token_create", {"user": user["name"]}, user=user["name"], name="csv")["token"]
    return app.get(f"/organization/{org_name}/governance/events.csv{query}", headers=headers)


def test_organisation_admin_exports_the_ledger_as_csv(org, app):
    resp = _csv(app, "hydro", org["admin"])
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["kind"], r["package_name"], r["actor_name"]) for r in rows] == [
        ("tier_changed", "rivers", "org-editor"), ("tier_changed", "rivers", "org-editor")]
    assert '"to": "controlled"' in rows[1]["detail"]


@pytest.mark.parametrize("who, status", [
    ("anonymous", 403), ("editor", 403), ("other_admin", 403), ("outsider", 403),
    ("admin", 200), ("sysadmin", 200),
])
def test_csv_export_is_for_the_organisations_admins_and_sysadmins(org, app, who, status):
    user = {"anonymous": None, "editor": org["editor"], "other_admin": org["other_admin"],
            "outsider": factories.User(), "admin": org["admin"],
            "sysadmin": factories.Sysadmin()}[who]
    resp = _csv(app, "hydro", user)
    assert resp.status_code == status
    if status != 200:
        assert "tier_changed" not in resp.get_data(as_text=True)


def test_csv_export_with_a_bad_filter_is_a_clear_400(org, app):
    resp = _csv(app, "hydro", org["admin"], "?since=not-a-date")
    assert resp.status_code == 400
    assert "ISO 8601" in resp.get_data(as_text=True)


def test_cli_export_writes_csv_for_one_organisation(org, cli, tmp_path):
    from ckan.cli.cli import ckan as ckan_cli

    out = tmp_path / "events.csv"
    result = cli.invoke(ckan_cli, ["governance", "events", "export", "--organization", "soil",
                                   "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["kind"], r["package_name"]) for r in rows] == [("tier_changed", "soil-survey")]


def test_cli_export_with_unknown_kind_exits_with_an_error(org, cli):
    from ckan.cli.cli import ckan as ckan_cli

    result = cli.invoke(ckan_cli, ["governance", "events", "export", "--kind", "nope"])
    assert result.exit_code == 2
    assert "Unknown event kind" in result.output
