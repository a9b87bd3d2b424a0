"""Embargoes: the fields, the instant they end, the lift command, notices, subscriptions."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import embargo
from ckanext.governance.model import DatasetPolicy, EmbargoSubscription, Event, Notification

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
URL = "https://files.example.org/zz-embargo-secret/data.csv"


@pytest.fixture(autouse=True)
def clock():
    """Every test starts at NOW (time moves on from there)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def org():
    admin = factories.User(name="emb-admin", email="admin@example.org")
    editor = factories.User(name="emb-editor", email="editor@example.org")
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": editor["name"], "capacity": "editor"}])
    return {"org": org, "admin": admin, "editor": editor, "ctx": {"user": editor["name"]}}


def create(org, name="rivers", **fields):
    return call_action("package_create", dict(org["ctx"]), name=name, owner_org=org["org"]["id"],
                       resources=[{"url": URL, "name": "Flows"}], **fields)


def show(name="rivers", user=None):
    return call_action("package_show", {"user": user["name"] if user else ""}, id=name)


def test_date_only_embargo_means_midnight_utc_and_is_returned_with_its_reason(org):
    pkg = create(org, embargo_until="2027-03-03", embargo_reason="Until the paper is out")
    assert pkg["embargo_until"] == "2027-03-03T00:00:00Z"
    assert pkg["embargo_reason"] == "Until the paper is out"
    anon = show()
    assert anon["embargo_until"] == "2027-03-03T00:00:00Z"
    assert anon["governance"] == {
        "tier": "open", "embargoed": True, "embargo_until": "2027-03-03T00:00:00Z",
        "can_access": False, "reason": "embargoed", "next_step": "wait_for_embargo",
    }
    assert anon["resources"][0]["url"] == ""


def test_date_time_with_an_offset_is_stored_as_the_same_instant_in_utc(org):
    pkg = create(org, embargo_until="2027-03-03T13:30:00+01:00")
    assert pkg["embargo_until"] == "2027-03-03T12:30:00Z"


@pytest.mark.parametrize("bad", ["soon", "2027-02-30", "03/03/2027", 20270303, ["2027-03-03"]])
def test_unreadable_date_is_a_validation_error_on_the_field(org, bad):
    with pytest.raises(tk.ValidationError) as err:
        create(org, embargo_until=bad)
    assert "embargo_until" in err.value.error_dict
    assert model.Session.query(model.Package).count() == 0


def test_embargo_must_end_in_the_future_when_set(org):
    with pytest.raises(tk.ValidationError) as err:
        create(org, embargo_until="2026-11-20")
    assert err.value.error_dict["embargo_until"] == ["An embargo must end in the future"]


@pytest.mark.ckan_config("ckanext.governance.embargo.max_months", "6")
def test_embargo_may_not_exceed_the_configured_length(org):
    with pytest.raises(tk.ValidationError) as err:
        create(org, embargo_until="2027-06-01")
    assert "6 months" in err.value.error_dict["embargo_until"][0]
    assert create(org, embargo_until="2027-05-20")["embargo_until"] == "2027-05-20T00:00:00Z"


@pytest.mark.ckan_config("ckanext.governance.embargo.require_reason", "true")
def test_reason_can_be_required(org):
    with pytest.raises(tk.ValidationError) as err:
        create(org, embargo_until="2027-01-01")
    assert "embargo_reason" in err.value.error_dict
    assert create(org, embargo_until="2027-01-01", embargo_reason="Patent pending")


def test_moving_later_is_checked_shortening_and_removing_are_not(org):
    create(org, embargo_until="2027-01-01")
    ctx = dict(org["ctx"])
    assert call_action("package_patch", ctx, id="rivers",
                       embargo_until="2027-02-01")["embargo_until"] == "2027-02-01T00:00:00Z"
    assert call_action("package_patch", dict(org["ctx"]), id="rivers",
                       embargo_until="2026-12-01")["embargo_until"] == "2026-12-01T00:00:00Z"
    removed = call_action("package_patch", dict(org["ctx"]), id="rivers", embargo_until="")
    assert removed["embargo_until"] is None
    assert removed["governance"]["embargoed"] is False
    kinds = [e.kind for e in model.Session.query(Event).order_by(Event.id)]
    assert [k for k in kinds if not k.startswith("publication")] == [
        "tier_changed", "embargo_set", "embargo_changed", "embargo_changed", "embargo_removed"]
    # Publishing it, shortening and removing the embargo open the data: each is warned of.
    assert kinds.count("publication_warned") == 3


def test_update_without_the_fields_keeps_the_embargo(org):
    create(org, embargo_until="2027-01-01", embargo_reason="Why")
    patched = call_action("package_patch", dict(org["ctx"]), id="rivers", notes="New text")
    assert (patched["embargo_until"], patched["embargo_reason"]) == ("2027-01-01T00:00:00Z", "Why")


def test_data_opens_at_the_instant_with_no_job(org, clock):
    create(org, embargo_until="2026-11-21T12:00:10Z")
    assert show()["governance"]["reason"] == "embargoed"
    clock.move_to(dt.datetime(2026, 11, 21, 12, 0, 9, 999000, tzinfo=UTC), tick=False)
    assert show()["resources"][0]["url"] == ""
    clock.move_to(dt.datetime(2026, 11, 21, 12, 0, 10, tzinfo=UTC), tick=False)
    opened = show()
    assert opened["governance"]["can_access"] is True
    assert opened["resources"][0]["url"] == URL


def test_embargoed_then_controlled_stays_controlled_after_the_lift(org, clock):
    create(org, access_tier="controlled", embargo_until="2026-12-01")
    researcher = factories.User()
    assert show(user=researcher)["governance"]["reason"] == "embargoed"
    clock.move_to(dt.datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
    after = show(user=researcher)
    assert after["governance"]["reason"] == "request_required"
    assert after["resources"][0]["url"] == ""


def test_members_of_the_organisation_keep_access_during_the_embargo(org):
    create(org, embargo_until="2027-01-01")
    mine = show(user=org["editor"])
    assert mine["governance"]["reason"] == "exempt"
    assert mine["resources"][0]["url"] == URL


def _facet(name: str) -> dict:
    result = call_action("package_search", {"user": ""}, **{"facet.field": ["embargoed"]})
    return {i["name"]: (i["count"], i["display_name"]) for i in result["search_facets"]["embargoed"]["items"]}


def test_lift_command_reindexes_records_and_notifies_once(org, clock):
    subscriber = factories.User(email="reader@example.org")
    create(org, embargo_until="2026-12-01", embargo_reason="Paper")
    create(org, name="lakes")
    call_action("governance_embargo_subscribe", {"user": subscriber["name"]}, id="rivers")
    assert _facet("embargoed") == {"true": (1, "Embargoed"), "false": (1, "Available")}

    assert embargo.lift_due() == []  # not yet due
    clock.move_to(dt.datetime(2026, 12, 1, 0, 5, tzinfo=UTC))
    pkg_id = show()["id"]
    assert embargo.lift_due() == [pkg_id]
    assert embargo.lift_due() == []

    assert _facet("embargoed") == {"false": (2, "Available")}
    (lifted,) = model.Session.query(Event).filter_by(kind="embargo_lifted").all()
    assert lifted.package_id == pkg_id
    recipients = sorted((n.recipient_email, n.template) for n in model.Session.query(Notification))
    assert recipients == [("admin@example.org", "embargo_lifted"),
                          ("editor@example.org", "embargo_lifted"),
                          ("reader@example.org", "embargo_available")]
    assert model.Session.get(EmbargoSubscription, (pkg_id, subscriber["id"])).notified is not None


def test_two_lift_runs_at_once_lift_each_dataset_once(org, clock, concurrently):
    for i in range(8):
        create(org, name=f"set-{i}", embargo_until="2026-12-01")
    clock.move_to(dt.datetime(2026, 12, 2, tzinfo=UTC))
    results, errors = concurrently(embargo.lift_due, 2)
    assert errors == []
    lifted = [pid for r in results for pid in r]
    assert len(lifted) == 8 and len(set(lifted)) == 8
    assert model.Session.query(Event).filter_by(kind="embargo_lifted").count() == 8
    # editor + admin per dataset, once each
    assert model.Session.query(Notification).filter_by(template="embargo_lifted").count() == 16


def test_advance_notice_goes_to_admins_once(org, clock):
    create(org, embargo_until="2026-12-10")
    clock.move_to(dt.datetime(2026, 12, 2, tzinfo=UTC))
    assert embargo.send_notices() == []  # 8 days ahead: not yet
    clock.move_to(dt.datetime(2026, 12, 3, 1, tzinfo=UTC))
    assert len(embargo.send_notices()) == 1
    assert embargo.send_notices() == []
    notes = model.Session.query(Notification).filter_by(template="embargo_ending").all()
    assert [n.recipient_email for n in notes] == ["admin@example.org"]


def test_moving_the_date_starts_notice_and_lift_again(org, clock):
    create(org, embargo_until="2026-12-01")
    clock.move_to(dt.datetime(2026, 12, 1, 1, tzinfo=UTC))
    assert len(embargo.lift_due()) == 1
    call_action("package_patch", dict(org["ctx"]), id="rivers", embargo_until="2026-12-20")
    row = model.Session.query(DatasetPolicy).one()
    assert (row.embargo_lifted, row.embargo_notice_sent) == (None, None)
    assert show()["governance"]["embargoed"] is True


def test_subscribing_needs_a_login_and_an_embargo(org):
    create(org, embargo_until="2027-01-01")
    create(org, name="lakes")
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_embargo_subscribe", {"user": "", "ignore_auth": False}, id="rivers")
    user = factories.User()
    ctx = {"user": user["name"]}
    assert call_action("governance_embargo_subscribe", dict(ctx), id="rivers")["subscribed"]
    assert call_action("governance_embargo_subscribe", dict(ctx), id="rivers")["subscribed"]
    assert model.Session.query(EmbargoSubscription).count() == 1
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_embargo_subscribe", dict(ctx), id="lakes")
    assert "id" in err.value.error_dict


def test_cli_lift_prints_what_it_did(org, cli, clock):
    from ckan.cli.cli import ckan as ckan_cli

    create(org, embargo_until="2026-11-25")
    clock.move_to(dt.datetime(2026, 11, 26, tzinfo=UTC))
    result = cli.invoke(ckan_cli, ["governance", "embargo", "lift"])
    assert result.exit_code == 0, result.output
    assert "1 embargoes lifted" in result.output
    model.Session.remove()
    assert model.Session.query(Event).filter_by(kind="embargo_lifted").count() == 1


def test_subscriber_gets_the_available_mail_through_smtp(org, clock, smtp):
    from ckanext.governance import notifications

    smtp.start()
    reader = factories.User(email="reader@example.org", fullname="Rea Der")
    create(org, embargo_until="2026-12-01", title="Rivers")
    call_action("governance_embargo_subscribe", {"user": reader["name"]}, id="rivers")
    clock.move_to(dt.datetime(2026, 12, 1, 0, 1, tzinfo=UTC))
    embargo.lift_due()
    assert notifications.send_due() == {"sent": 3, "failed": 0}
    mails = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}
    assert set(mails) == {"reader@example.org", "admin@example.org", "editor@example.org"}
    assert mails["reader@example.org"]["Subject"] == 'Now available: "Rivers"'
    text = mails["reader@example.org"].get_body(("plain",)).get_content()
    assert "Its embargo ended on 1 December 2026 (UTC)" in text
