"""The exactly-once checks of ``make bench-load`` (benchmarks/load/checks.py)
can fail: a consistent ledger passes each of them, and each one reports the
duplicate or the missing row it exists to find."""
from __future__ import annotations

import datetime as dt
import importlib.util
import pathlib

import pytest
import sqlalchemy as sa

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

_spec = importlib.util.spec_from_file_location(
    "load_checks", pathlib.Path(__file__).parents[1] / "benchmarks" / "load" / "checks.py")
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)

USE = "A study of how the checks of the load benchmark find what is duplicated or lost."


@pytest.fixture
def ledger():
    """Two researchers who accepted an agreement; requests approved, rejected
    and returned by the organisation's admin; one grant expired, one embargo lifted."""
    for name in ("ann", "bob", "rita"):
        factories.User(name=name, email=f"{name}@example.org")
    org = factories.Organization(name="lab", users=[{"name": "rita", "capacity": "admin"}])
    call_action("governance_agreement_create", {"user": "rita"}, owner_org="lab", name="lab-dua",
                title="Lab agreement", body="Do not re-identify anyone.")
    call_action("package_create", {"user": "rita"}, name="survey", owner_org=org["id"],
                access_tier="agreement", agreement="lab-dua", resources=[{"url": "https://x.example/a.csv"}])
    for tier in ("one", "two", "three"):
        call_action("package_create", {"user": "rita"}, name=f"cohort-{tier}", owner_org=org["id"],
                    access_tier="controlled", resources=[{"url": "https://x.example/b.csv"}])
    for user in ("ann", "bob"):
        call_action("governance_agreement_accept", {"user": user}, id="survey", typed_name=user)
    for dataset, decision in (("cohort-one", "approve"), ("cohort-two", "reject"), ("cohort-three", "return")):
        req = call_action("governance_request_create", {"user": "ann", "ignore_auth": False},
                          id=dataset, intended_use=USE, commercial=False)
        call_action("governance_request_decide", {"user": "rita", "ignore_auth": False},
                    id=req["id"], decision=decision, message="Decided for the checks.")
    call_action("package_create", {"user": "rita"}, name="embargoed", owner_org=org["id"],
                embargo_until=(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat(),
                resources=[{"url": "https://x.example/c.csv"}])
    run("UPDATE governance_grant SET expires = now() - interval '1 hour'")
    run("UPDATE governance_dataset_policy SET embargo_until = now() - interval '1 hour' "
        "WHERE embargo_until IS NOT NULL")
    from ckanext.governance import embargo, grants

    grants.expire_due()
    embargo.lift_due()
    run("UPDATE governance_notification SET status = 'sent'")  # delivered (not what these checks test)


def run(sql: str, **params) -> None:
    model.Session.execute(sa.text(sql), params)
    model.Session.commit()


def failing(as_of: str = "") -> set[str]:
    model.Session.execute(sa.text("SELECT set_config('load.as_of', :t, true)"), {"t": as_of})
    model.Session.execute(sa.text(checks.INVALID))
    found = set()
    for what, sql in checks.CHECKS:
        if model.Session.execute(sa.text(sql.replace("i_invalid(", "pg_temp.i_invalid("))).first():
            found.add(what)
    model.Session.rollback()
    return found


def check(fragment: str) -> str:
    (what,) = [w for w, _ in checks.CHECKS if fragment in w]
    return what


def copy_event(kind: str) -> None:
    run("INSERT INTO governance_event (kind, package_id, actor_id, detail, created) "
        "SELECT kind, package_id, actor_id, detail, created FROM governance_event "
        "WHERE kind = :kind ORDER BY id LIMIT 1", kind=kind)


def test_a_consistent_ledger_passes_every_check(ledger):
    counts = {k: model.Session.execute(sa.text(sql)).scalar() for k, sql in checks.COUNTS.items()}
    assert (counts["acceptances"], counts["requests"], counts["decisions"], counts["grants"]) == (2, 3, 3, 1)
    assert (counts["grant expiries"], counts["embargo lifts"]) == (1, 1)
    assert failing() == set()


@pytest.mark.parametrize(("tamper", "fragment"), [
    (lambda: copy_event("agreement_accepted"), "agreement_accepted event"),
    (lambda: copy_event("request_approved"), "one ledger event per decision"),
    (lambda: run("DELETE FROM governance_event WHERE kind = 'request_created' AND id = "
                 "(SELECT min(id) FROM governance_event WHERE kind = 'request_created')"),
     "one ledger event per decision"),
    (lambda: copy_event("grant_expired"), "expiry recorded once"),
    (lambda: copy_event("embargo_lifted"), "no embargo end lifted twice"),
    (lambda: run("DELETE FROM governance_event WHERE kind = 'grant_created'"), "one grant_created event"),
    (lambda: run("INSERT INTO governance_request_change (request_id, from_state, to_state, actor_id, created) "
                 "SELECT request_id, 'rejected', 'approved', actor_id, created FROM governance_request_change "
                 "WHERE to_state = 'rejected'"), "one valid path"),
    (lambda: run("UPDATE governance_request SET state = 'pending' WHERE state = 'returned'"), "one valid path"),
    (lambda: run("DELETE FROM governance_grant"), "every grant comes from an approval"),
    (lambda: run("UPDATE governance_notification SET status = 'pending' WHERE id = "
                 "(SELECT min(id) FROM governance_notification)"), "nothing left in the outbox"),
    (lambda: run("DELETE FROM governance_notification WHERE template = 'request_decided' AND id = "
                 "(SELECT min(id) FROM governance_notification WHERE template = 'request_decided')"),
     "one 'request decided' e-mail"),
])
def test_each_check_reports_what_it_exists_to_find(ledger, tamper, fragment):
    tamper()
    assert check(fragment) in failing()


def test_an_end_is_due_as_of_the_drain_not_as_of_the_check(ledger):
    """A grant whose end passed after the drain saw everything due done is the
    next cron pass's work; one that ended before it and is unrecorded is lost."""
    run("UPDATE governance_grant SET expiry_recorded = NULL")
    run("DELETE FROM governance_event WHERE kind = 'grant_expired'")
    assert check("expiry recorded once") in failing()
    before_the_end = model.Session.execute(sa.text("SELECT (now() - interval '2 hours')::text")).scalar()
    model.Session.rollback()
    assert failing(before_the_end) == set()
