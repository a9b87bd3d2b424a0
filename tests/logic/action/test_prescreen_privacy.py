"""Pre-screen flags are the reviewers' aid: no answer to the requester carries
them, whichever action the requester calls."""
from __future__ import annotations

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

USE = "We will study how blood pressure medication relates to kidney outcomes in adults."


@pytest.fixture
def returned():
    """Ann's request, with flags (no institution, commercial use), returned to her."""
    for name in ("rita-reviewer", "ed-editor", "ann"):
        factories.User(name=name, email=f"{name}@example.org")
    org = factories.Organization(name="cohort-org", users=[
        {"name": "rita-reviewer", "capacity": "admin"}, {"name": "ed-editor", "capacity": "editor"}])
    call_action("package_create", {"user": "ed-editor"}, name="cohort", owner_org=org["id"],
                access_tier="controlled", data_use=["GRU"],
                resources=[{"url": "https://files.example.org/cohort.csv"}])
    req = call_action("governance_request_create", {"user": "ann", "ignore_auth": False},
                      id="cohort", intended_use=USE, commercial=True)
    call_action("governance_request_decide", {"user": "rita-reviewer"}, id=req["id"],
                decision="return", message="Which institution?")
    return req


def flags(user, request_id):
    shown = call_action("governance_request_show", {"user": user}, id=request_id)
    return {f["code"] for f in shown["prescreen"]}


def test_requester_resubmitting_gets_no_flags_in_the_answer(returned):
    again = call_action("governance_request_update", {"user": "ann", "ignore_auth": False},
                        id=returned["id"], intended_use=USE + " Adults only.")
    assert again["state"] == "pending"
    assert again["prescreen"] == []
    # The flags exist: the reviewer sees them.
    assert {"no_institution", "commercial_use"} <= flags("rita-reviewer", returned["id"])


def test_requester_withdrawing_gets_no_flags_in_the_answer(returned):
    gone = call_action("governance_request_withdraw", {"user": "ann", "ignore_auth": False},
                       id=returned["id"], message="Found another source")
    assert gone["state"] == "withdrawn"
    assert gone["prescreen"] == []
    assert {"no_institution", "commercial_use"} <= flags("rita-reviewer", returned["id"])


def test_reviewer_deciding_gets_the_flags_in_the_answer(returned):
    call_action("governance_request_update", {"user": "ann", "ignore_auth": False},
                id=returned["id"], intended_use=USE)
    (decided,) = call_action("governance_request_decide", {"user": "rita-reviewer", "ignore_auth": False},
                             id=returned["id"], decision="reject", message="Not for commercial use")["results"]
    assert {"no_institution", "commercial_use"} <= {f["code"] for f in decided["prescreen"]}


def test_requester_reading_the_events_they_caused_gets_no_flags(returned):
    def request_events(user):
        listed = call_action("governance_event_list", {"user": user, "ignore_auth": False},
                             dataset="cohort", kind="request_created")["results"]
        return [e for e in listed if e["detail"].get("request_id") == returned["id"]]

    (mine,) = request_events("ann")
    assert "flags" not in mine["detail"]
    (reviewed,) = request_events("rita-reviewer")
    assert {"no_institution", "commercial_use"} <= set(reviewed["detail"]["flags"])
