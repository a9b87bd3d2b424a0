"""Access requests, their review and grants, through the action API."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import grants
from ckanext.governance.model import AccessRequest, Event, Grant, Notification

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

URL = "https://files.example.org/zz-controlled-secret/cohort.csv"
USE = "We will study how blood pressure medication relates to kidney outcomes in adults."


def now():
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def site():
    users = {n: factories.User(name=n, email=f"{n}@example.org") for n in (
        "rita-reviewer", "ed-editor", "ann", "bob", "olga-other-admin")}
    org = factories.Organization(name="cohort-org", users=[
        {"name": "rita-reviewer", "capacity": "admin"}, {"name": "ed-editor", "capacity": "editor"}])
    factories.Organization(name="other-org", users=[{"name": "olga-other-admin", "capacity": "admin"}])
    call_action("package_create", {"user": "ed-editor"}, name="cohort", owner_org=org["id"],
                access_tier="controlled", data_use=["HMB", "IRB", "NCU"],
                resources=[{"url": URL, "name": "Cohort"}])
    return {"org": org, **users}


def ask(user, dataset="cohort", **extra):
    fields = {"intended_use": USE, "ethics_reference": "IRB-2026-17", "commercial": False,
              "institution": "University of Somewhere"}
    fields.update(extra)
    return call_action("governance_request_create", {"user": user, "ignore_auth": False},
                       id=dataset, **fields)


def decide(user, ids, decision, message=None):
    data = {"decision": decision, "message": message}
    data["ids" if isinstance(ids, list) else "id"] = ids
    return call_action("governance_request_decide", {"user": user, "ignore_auth": False}, **data)


def show(user, dataset="cohort"):
    return call_action("package_show", {"user": user}, id=dataset)


def test_request_review_and_download_through_the_api(site):
    before = show("ann")
    assert (before["governance"]["reason"], before["governance"]["next_step"]) == (
        "request_required", "request_access")
    req = ask("ann")
    assert req["state"] == "pending" and req["dataset"] == "cohort"
    waiting = show("ann")
    assert waiting["governance"]["reason"] == "request_pending"
    assert waiting["resources"][0]["url"] == ""
    (result,) = decide("rita-reviewer", req["id"], "approve", "Welcome aboard")["results"]
    assert result["state"] == "approved" and result["message"] == "Welcome aboard"
    expires = dt.datetime.fromisoformat(result["grant"]["expires"].replace("Z", "+00:00"))
    assert abs((expires - now()) - dt.timedelta(days=365)) < dt.timedelta(minutes=5)
    after = show("ann")
    assert after["governance"]["reason"] == "granted"
    assert after["resources"][0]["url"] == URL
    history = call_action("governance_request_show", {"user": "ann"}, id=req["id"])["history"]
    assert [(h["from_state"], h["to_state"]) for h in history] == [(None, "pending"), ("pending", "approved")]


def test_dataset_returns_its_data_use_conditions(site):
    shown = show("ann")
    assert shown["data_use"] == ["HMB", "IRB", "NCU"]
    described = call_action("governance_request_show", {"user": "ann"}, id=ask("ann")["id"])["data_use"]
    assert described[0]["iri"] == "http://purl.obolibrary.org/obo/DUO_0000006"
    assert described[0]["label"] == "health or medical or biomedical research"


@pytest.mark.parametrize("value, message", [
    (["GRU", "HMB"], "exactly one permission"),
    (["IRB"], "exactly one permission"),
    (["HMB", "XYZ"], "'XYZ' is not a DUO code"),
    (["DS"], "DS needs a disease"),
    (["GRU", "MOR:soon"], "MOR needs a date"),
    ("not a list", "is not a DUO code"),
    (42, "must be a list of DUO codes"),
])
def test_bad_data_use_is_a_validation_error_on_the_field(site, value, message):
    with pytest.raises(tk.ValidationError) as err:
        call_action("package_patch", {"user": "ed-editor"}, id="cohort", data_use=value)
    assert message in err.value.error_dict["data_use"][0]
    assert show("ed-editor")["data_use"] == ["HMB", "IRB", "NCU"]


def test_data_use_codes_are_normalised_and_can_be_cleared(site):
    patched = call_action("package_patch", {"user": "ed-editor"}, id="cohort",
                          data_use="ds:MONDO:0005148, pub, MOR:2027-01-31")
    assert patched["data_use"] == ["DS:MONDO:0005148", "PUB", "MOR:2027-01-31"]
    assert call_action("package_patch", {"user": "ed-editor"}, id="cohort", data_use=[])["data_use"] == []


@pytest.mark.parametrize("field, value", [
    ("intended_use", "Too short."),
    ("intended_use", None),
    ("intended_use", ["not", "text"]),
    ("institution", {"a": 1}),
    ("institution", "x" * 501),
    ("project_title", 17),
    ("ethics_reference", ""),  # IRB applies
    ("commercial", None),
    ("commercial", "maybe"),
    ("commercial", True),  # NCU applies
    ("duration_days", 0),
    ("duration_days", -5),
    ("duration_days", "a year"),
    ("duration_days", 99999),
    ("duration_days", 2.5),
])
def test_bad_request_input_is_a_validation_error_naming_the_field(site, field, value):
    with pytest.raises(tk.ValidationError) as err:
        ask("ann", **{field: value})
    assert field in err.value.error_dict
    assert model.Session.query(AccessRequest).count() == 0


def test_requests_are_only_for_controlled_datasets_that_exist(site):
    call_action("package_create", {"user": "ed-editor"}, name="open-one", owner_org=site["org"]["id"])
    with pytest.raises(tk.ValidationError) as err:
        ask("ann", dataset="open-one")
    assert "id" in err.value.error_dict
    with pytest.raises(tk.ObjectNotFound):
        ask("ann", dataset="no-such-dataset")
    with pytest.raises(tk.NotAuthorized):
        ask("")


def test_one_open_request_per_user_and_dataset(site):
    first = ask("ann")
    with pytest.raises(tk.ValidationError) as err:
        ask("ann")
    assert "open request" in err.value.error_dict["id"][0]
    decide("rita-reviewer", first["id"], "reject", "Not this time")
    assert ask("ann")["state"] == "pending"  # a decided request is closed: ask again


def test_twenty_concurrent_requests_by_one_user_make_one(site, concurrently):
    results, errors = concurrently(lambda: ask("ann"), 20)
    assert len(results) == 1
    assert len(errors) == 19 and all(isinstance(e, tk.ValidationError) for e in errors)
    assert model.Session.query(AccessRequest).count() == 1


def test_two_reviewers_deciding_at_once_make_one_decision(site, concurrently):
    factories.User(name="rex-reviewer")
    call_action("organization_member_create", {"ignore_auth": True}, id="cohort-org",
                username="rex-reviewer", role="admin")
    req = ask("ann")
    reviewers = iter(["rita-reviewer", "rex-reviewer"])
    results, errors = concurrently(lambda: decide(next(reviewers), req["id"], "approve"), 2)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], tk.ValidationError)
    assert model.Session.query(Grant).count() == 1
    kinds = [e.kind for e in model.Session.query(Event).order_by(Event.id)]
    assert kinds.count("request_approved") == 1 and kinds.count("grant_created") == 1


@pytest.mark.parametrize("state", ["approved", "rejected", "withdrawn"])
def test_closed_requests_cannot_change(site, state):
    req = ask("ann")
    if state == "withdrawn":
        call_action("governance_request_withdraw", {"user": "ann"}, id=req["id"])
    else:
        decide("rita-reviewer", req["id"], state[:-1] if state == "approved" else "reject", "Done")
    for decision in ("approve", "reject", "return"):
        with pytest.raises(tk.ValidationError) as err:
            decide("rita-reviewer", req["id"], decision, "Again")
        assert "state" in err.value.error_dict
    with pytest.raises(tk.ValidationError):
        call_action("governance_request_withdraw", {"user": "ann"}, id=req["id"])
    with pytest.raises(tk.ValidationError):
        call_action("governance_request_update", {"user": "ann"}, id=req["id"], intended_use=USE)
    assert call_action("governance_request_show", {"user": "ann"}, id=req["id"])["state"] == state


def test_pending_request_cannot_be_resubmitted_and_returned_cannot_be_decided(site):
    req = ask("ann")
    with pytest.raises(tk.ValidationError):
        call_action("governance_request_update", {"user": "ann"}, id=req["id"], institution="X")
    decide("rita-reviewer", req["id"], "return", "Which cohort years do you need?")
    for decision in ("approve", "reject", "return"):
        with pytest.raises(tk.ValidationError):
            decide("rita-reviewer", req["id"], decision, "No")


def test_returned_request_goes_back_to_pending_when_resubmitted(site):
    req = ask("ann")
    decide("rita-reviewer", req["id"], "return", "Which cohort years do you need?")
    mine = call_action("governance_request_show", {"user": "ann"}, id=req["id"])
    assert (mine["state"], mine["message"]) == ("returned", "Which cohort years do you need?")
    assert show("ann")["governance"]["reason"] == "request_required"
    again = call_action("governance_request_update", {"user": "ann"}, id=req["id"],
                        intended_use=USE + " Years 2010 to 2020.")
    assert again["state"] == "pending" and again["intended_use"].endswith("2010 to 2020.")
    assert [h["to_state"] for h in again["history"]] == ["pending", "returned", "pending"]


def test_reject_and_return_need_a_message_and_decisions_are_known(site):
    req = ask("ann")
    for decision in ("reject", "return"):
        with pytest.raises(tk.ValidationError) as err:
            decide("rita-reviewer", req["id"], decision)
        assert "message" in err.value.error_dict
    with pytest.raises(tk.ValidationError) as err:
        decide("rita-reviewer", req["id"], "maybe")
    assert "decision" in err.value.error_dict
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_request_decide", {"user": "rita-reviewer"}, ids=[1, 2], decision="approve")
    assert "ids" in err.value.error_dict
    with pytest.raises(tk.ObjectNotFound):
        decide("rita-reviewer", "no-such-request", "approve")


def test_bulk_decision_is_all_or_none(site):
    ids = [ask(u)["id"] for u in ("ann", "bob")]
    factories.User(name="cy")
    third = ask("cy")["id"]
    decide("rita-reviewer", third, "reject", "No")
    with pytest.raises(tk.ValidationError):
        decide("rita-reviewer", ids + [third], "approve")
    assert model.Session.query(Grant).count() == 0
    result = decide("rita-reviewer", ids, "approve")
    assert [r["state"] for r in result["results"]] == ["approved", "approved"]
    assert all(show(u)["governance"]["can_access"] for u in ("ann", "bob"))


def test_nobody_decides_their_own_request_not_even_a_sysadmin(site):
    admin = factories.Sysadmin(name="sue-sysadmin")
    req = ask(admin["name"])
    with pytest.raises(tk.NotAuthorized):
        decide(admin["name"], req["id"], "approve")
    assert decide("rita-reviewer", req["id"], "approve")["results"][0]["state"] == "approved"


def test_requests_of_one_organisation_are_hidden_from_others(site):
    req = ask("ann")
    for outsider in ("bob", "olga-other-admin", "ed-editor"):
        with pytest.raises(tk.NotAuthorized):
            call_action("governance_request_show", {"user": outsider, "ignore_auth": False}, id=req["id"])
        with pytest.raises(tk.NotAuthorized):
            decide(outsider, req["id"], "approve")
        with pytest.raises(tk.NotAuthorized):
            call_action("governance_request_withdraw", {"user": outsider, "ignore_auth": False}, id=req["id"])
        listed = call_action("governance_request_list", {"user": outsider, "ignore_auth": False})
        assert req["id"] not in [r["id"] for r in listed["results"]]
    assert call_action("governance_request_list", {"user": "rita-reviewer"})["count"] == 1


def test_reviewer_capacity_is_configurable(site, ckan_config, monkeypatch):
    req = ask("ann")
    with pytest.raises(tk.NotAuthorized):
        decide("ed-editor", req["id"], "approve")
    monkeypatch.setitem(ckan_config, "ckanext.governance.reviewer_capacity", "editor")
    assert decide("ed-editor", req["id"], "approve")["results"][0]["state"] == "approved"


def test_queue_filters(site):
    ask("ann")
    bob = ask("bob")
    decide("rita-reviewer", bob["id"], "reject", "No")
    listed = call_action("governance_request_list", {"user": "rita-reviewer"}, state="pending")
    assert [r["user_name"] for r in listed["results"]] == ["ann"]
    assert call_action("governance_request_list", {"user": "rita-reviewer"}, older_than_days=1)["count"] == 0
    with time_machine.travel(now() + dt.timedelta(days=3)):
        assert call_action("governance_request_list", {"user": "rita-reviewer"}, older_than_days=2)["count"] == 2
    for field, value in (("state", "lost"), ("dataset", "nope"), ("older_than_days", "-1")):
        with pytest.raises(tk.ValidationError) as err:
            call_action("governance_request_list", {"user": "rita-reviewer"}, **{field: value})
        assert field in err.value.error_dict


def test_grant_lasts_the_dataset_days_or_the_shorter_requested_duration(site):
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=30)
    grant = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]
    assert abs(dt.datetime.fromisoformat(grant["expires"].replace("Z", "+00:00")) - now()
               - dt.timedelta(days=30)) < dt.timedelta(minutes=5)
    short = decide("rita-reviewer", ask("bob", duration_days=10)["id"], "approve")["results"][0]["grant"]
    assert abs(dt.datetime.fromisoformat(short["expires"].replace("Z", "+00:00")) - now()
               - dt.timedelta(days=10)) < dt.timedelta(minutes=5)
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=0)
    factories.User(name="cy")
    assert decide("rita-reviewer", ask("cy")["id"], "approve")["results"][0]["grant"]["expires"] is None


def test_grant_expires_at_the_instant(site):
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=30)
    decide("rita-reviewer", ask("ann")["id"], "approve")
    with time_machine.travel(now() + dt.timedelta(days=30, minutes=1)):
        shown = show("ann")
        assert (shown["governance"]["reason"], shown["governance"]["next_step"]) == (
            "grant_expired", "request_access")
        assert shown["resources"][0]["url"] == ""


def test_expire_command_records_reminds_and_tells_once(site):
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=40)
    grant_id = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]["id"]
    model.Session.query(Notification).delete()
    model.Session.commit()

    def templates():
        return [n.template for n in model.Session.query(Notification).order_by(Notification.id)]

    assert grants.expire_due(now()) == {"expired": 0, "reminded": 0}
    assert grants.expire_due(now() + dt.timedelta(days=11)) == {"expired": 0, "reminded": 1}
    assert grants.expire_due(now() + dt.timedelta(days=12)) == {"expired": 0, "reminded": 0}
    assert grants.expire_due(now() + dt.timedelta(days=34)) == {"expired": 0, "reminded": 1}
    assert grants.expire_due(now() + dt.timedelta(days=41)) == {"expired": 1, "reminded": 0}
    assert grants.expire_due(now() + dt.timedelta(days=42)) == {"expired": 0, "reminded": 0}
    assert templates() == ["grant_reminder", "grant_reminder", "grant_expired"]
    (event,) = model.Session.query(Event).filter_by(kind="grant_expired").all()
    assert event.detail["grant_id"] == grant_id


def test_grants_expire_cli(site, cli):
    from ckanext.governance.cli import governance

    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=1)
    decide("rita-reviewer", ask("ann")["id"], "approve")
    with time_machine.travel(now() + dt.timedelta(days=2)):
        result = cli.invoke(governance, ["grants", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 grants expired" in result.output


def test_renewal_in_time_carries_the_grant_forward_without_a_gap(site):
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=30)
    first = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]
    renewal = ask("ann")
    assert renewal["renewal_of"] == first["id"]
    assert show("ann")["governance"]["reason"] == "granted"  # still, while the renewal waits
    second = decide("rita-reviewer", renewal["id"], "approve")["results"][0]["grant"]
    first_end = dt.datetime.fromisoformat(first["expires"].replace("Z", "+00:00"))
    second_end = dt.datetime.fromisoformat(second["expires"].replace("Z", "+00:00"))
    assert second_end - first_end == dt.timedelta(days=30)
    with time_machine.travel(first_end + dt.timedelta(days=1)):
        assert show("ann")["governance"]["reason"] == "granted"
    # The first grant's end is not news: the holder carries on.
    model.Session.query(Notification).delete()
    model.Session.commit()
    assert grants.expire_due(first_end + dt.timedelta(minutes=1))["expired"] == 1
    assert model.Session.query(Notification).filter_by(template="grant_expired").count() == 0


def test_revoking_ends_access_at_once_and_tells_the_holder(site):
    grant = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_grant_revoke", {"user": "rita-reviewer"}, id=grant["id"], reason=" ")
    assert "reason" in err.value.error_dict
    for outsider in ("olga-other-admin", "ann", "ed-editor"):
        with pytest.raises(tk.NotAuthorized):
            call_action("governance_grant_revoke", {"user": outsider, "ignore_auth": False},
                        id=grant["id"], reason="Mine")
    revoked = call_action("governance_grant_revoke", {"user": "rita-reviewer"}, id=grant["id"],
                          reason="Data shared outside the project")
    assert revoked["state"] == "revoked"
    shown = show("ann")
    assert shown["governance"]["reason"] == "grant_expired" and shown["resources"][0]["url"] == ""
    notes = model.Session.query(Notification).filter_by(template="grant_revoked").all()
    assert [n.recipient_email for n in notes] == ["ann@example.org"]
    assert notes[0].variables["reason"] == "Data shared outside the project"
    with pytest.raises(tk.ValidationError):
        call_action("governance_grant_revoke", {"user": "rita-reviewer"}, id=grant["id"], reason="Again")


def test_grant_list_shows_states_to_holder_and_reviewers_only(site):
    grant = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]
    assert [g["id"] for g in call_action("governance_grant_list", {"user": "ann"})["results"]] == [grant["id"]]
    assert call_action("governance_grant_list", {"user": "rita-reviewer"}, state="active")["count"] == 1
    assert call_action("governance_grant_list", {"user": "rita-reviewer"}, state="revoked")["count"] == 0
    assert call_action("governance_grant_list", {"user": "olga-other-admin"})["count"] == 0
    assert call_action("governance_grant_list", {"user": "bob"})["count"] == 0
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_grant_list", {"user": "", "ignore_auth": False})


def test_notifications_go_to_reviewers_and_to_the_requester(site):
    req = ask("ann")
    submitted = model.Session.query(Notification).filter_by(template="request_submitted").all()
    assert [n.recipient_email for n in submitted] == ["rita-reviewer@example.org"]
    decide("rita-reviewer", req["id"], "return", "Which years?")
    (decided,) = model.Session.query(Notification).filter_by(template="request_decided").all()
    assert decided.recipient_email == "ann@example.org"
    assert (decided.variables["state"], decided.variables["message"]) == ("returned", "Which years?")


def test_prescreen_flags_mismatches_for_the_reviewer(site):
    # The time limit falls between the two requests' ends (365 and 30 days
    # from now), whatever day the suite runs on.
    limit = (now() + dt.timedelta(days=100)).date().isoformat()
    call_action("package_patch", {"user": "ed-editor"}, id="cohort",
                data_use=["DS:MONDO:0005148", "NPOA", f"TS:{limit}", "IRB"], grant_days=365)
    req = ask("ann", intended_use="We will look at ancestry and admixture in this cohort, nothing else.",
              institution="", commercial=True)
    assert req["prescreen"] == []  # the reviewers' aid: not shown to the requester
    listed = call_action("governance_request_list", {"user": "ann"})["results"]
    assert [r["prescreen"] for r in listed] == [[]]
    req = call_action("governance_request_show", {"user": "rita-reviewer"}, id=req["id"])
    codes = {f["code"] for f in req["prescreen"]}
    assert {"disease_not_named", "ancestry_research", "beyond_time_limit", "no_institution",
            "commercial_use"} <= codes
    calm = ask("bob", intended_use="Type 2 diabetes (MONDO:0005148) outcomes and treatment response.",
               duration_days=30)
    shown = call_action("governance_request_show", {"user": "rita-reviewer"}, id=calm["id"])
    assert {f["code"] for f in shown["prescreen"]} == set()


def test_access_show_tells_the_caller_about_their_request_and_grant(site):
    def access_show():
        return call_action("governance_access_show", {"user": "ann"}, id="cohort")

    assert (access_show()["request"], access_show()["grant"]) == (None, None)
    req = ask("ann")
    assert access_show()["request"] == {"id": req["id"], "state": "pending"}
    grant = decide("rita-reviewer", req["id"], "approve")["results"][0]["grant"]
    shown = access_show()
    assert shown["request"] is None
    assert shown["grant"] == {"id": grant["id"], "state": "active", "expires": grant["expires"]}
    assert shown["resources"][0]["download_url"] == URL


def test_every_request_and_grant_mail_is_delivered_through_smtp(site, smtp):
    from ckanext.governance import notifications

    smtp.start()
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", title="Cohort study", grant_days=10)
    req = ask("ann")
    decide("rita-reviewer", req["id"], "return", "Which years?")
    call_action("governance_request_update", {"user": "ann"}, id=req["id"], institution="Uni B")
    grant = decide("rita-reviewer", req["id"], "approve", "Enjoy")["results"][0]["grant"]
    grants.expire_due(now() + dt.timedelta(days=5))  # the 7-day reminder
    call_action("governance_grant_revoke", {"user": "rita-reviewer"}, id=grant["id"], reason="Misuse")
    assert notifications.send_due() == {"sent": 6, "failed": 0}
    subjects = sorted((m["To"].addresses[0].addr_spec, m["Subject"]) for m in smtp.inbox.messages)
    assert subjects == [
        ("ann@example.org", 'Access approved: "Cohort study"'),
        ("ann@example.org", 'Your access request needs more information: "Cohort study"'),
        ("ann@example.org", 'Your access to "Cohort study" ends in 5 days'),
        ("ann@example.org", 'Your access to "Cohort study" was revoked'),
        ("rita-reviewer@example.org", 'Access request resubmitted: "Cohort study"'),
        ("rita-reviewer@example.org", 'New access request: "Cohort study"'),
    ]
    returned = next(m for m in smtp.inbox.messages if "more information" in m["Subject"])
    assert "Which years?" in returned.get_body(("plain",)).get_content()
    revoked = next(m for m in smtp.inbox.messages if "revoked" in m["Subject"])
    assert "Reason: Misuse" in revoked.get_body(("plain",)).get_content()


def test_revoking_after_a_renewal_ends_every_grant_of_the_holder(site):
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=30)
    first = decide("rita-reviewer", ask("ann")["id"], "approve")["results"][0]["grant"]
    decide("rita-reviewer", ask("ann")["id"], "approve")  # the renewal
    call_action("governance_grant_revoke", {"user": "rita-reviewer"}, id=first["id"], reason="Misuse")
    assert show("ann")["governance"]["reason"] == "grant_expired"
    states = {g["state"] for g in call_action("governance_grant_list", {"user": "ann"})["results"]}
    assert states == {"revoked"}


def test_moving_the_dataset_moves_its_requests_to_the_new_organisation(site):
    req = ask("ann")
    grant = decide("rita-reviewer", ask("bob")["id"], "approve")["results"][0]["grant"]
    call_action("organization_member_create", {"ignore_auth": True}, id="other-org",
                username="ed-editor", role="editor")
    call_action("package_patch", {"user": "ed-editor"}, id="cohort", owner_org="other-org")
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_request_show", {"user": "rita-reviewer", "ignore_auth": False}, id=req["id"])
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_grant_revoke", {"user": "rita-reviewer", "ignore_auth": False},
                    id=grant["id"], reason="Not ours any more")
    assert decide("olga-other-admin", req["id"], "approve")["results"][0]["state"] == "approved"
    assert call_action("governance_grant_revoke", {"user": "olga-other-admin"}, id=grant["id"],
                       reason="Review")["state"] == "revoked"


def test_newest_first_and_empty_or_huge_paging_values(site):
    first, second = ask("ann"), ask("bob")
    newest = call_action("governance_request_list", {"user": "rita-reviewer"}, sort="newest")
    assert [r["id"] for r in newest["results"]] == [second["id"], first["id"]]
    assert call_action("governance_request_list", {"user": "rita-reviewer"}, page="", limit="")["count"] == 2
    for field, value in (("page", "99999999999"), ("page", 0), ("limit", "x"), ("sort", "random"),
                         ("older_than_days", "10000000")):
        with pytest.raises(tk.ValidationError) as err:
            call_action("governance_request_list", {"user": "rita-reviewer"}, **{field: value})
        assert field in err.value.error_dict


def test_grant_days_has_a_ceiling(site):
    with pytest.raises(tk.ValidationError) as err:
        call_action("package_patch", {"user": "ed-editor"}, id="cohort", grant_days=10**7)
    assert "grant_days" in err.value.error_dict
