"""The decision core, exhaustively: every tier, kind of user and embargo state."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckanext.governance import policy as P

NOW = dt.datetime(2027, 3, 3, 12, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)

ANON = P.Subject()
USER = P.Subject(user_id="u1")


def decide(subject, **policy):
    return P.decide(subject, P.DatasetPolicy(**policy), NOW)


@pytest.mark.parametrize(
    "tier, subject, allowed, reason, step",
    [
        ("open", ANON, True, "open", None),
        ("open", USER, True, "open", None),
        ("registered", ANON, False, "login_required", "log_in"),
        ("registered", USER, True, "open", None),
        ("agreement", ANON, False, "login_required", "log_in"),
        ("agreement", USER, False, "agreement_required", "accept_agreement"),
        ("controlled", ANON, False, "login_required", "log_in"),
        ("controlled", USER, False, "request_required", "request_access"),
    ],
)
def test_each_tier_for_anonymous_and_logged_in_users(tier, subject, allowed, reason, step):
    d = decide(subject, tier=tier, agreement_version="v1")
    assert (d.can_access, d.reason, d.next_step) == (allowed, reason, step)


@pytest.mark.parametrize("tier", P.TIERS)
@pytest.mark.parametrize(
    "subject",
    [
        P.Subject(user_id="s", sysadmin=True),
        P.Subject(user_id="m", capacity="member"),
        P.Subject(user_id="e", capacity="editor"),
        P.Subject(user_id="a", capacity="admin"),
        P.Subject(user_id="c", collaborator=True),
    ],
)
def test_exempt_users_have_every_tier_even_under_embargo(tier, subject):
    d = decide(subject, tier=tier, embargo_until=NOW + HOUR)
    assert d.can_access and d.reason == "exempt"
    assert d.embargoed


def test_exempt_capacity_setting_raises_the_bar_for_members():
    member = P.Subject(user_id="m", capacity="member")
    policy = P.DatasetPolicy(tier="controlled")
    assert not P.decide(member, policy, NOW, exempt_capacity="editor").can_access
    editor = dataclasses.replace(member, capacity="editor")
    assert P.decide(editor, policy, NOW, exempt_capacity="editor").can_access


def test_agreement_tier_opens_to_users_who_accepted_the_current_version():
    user = P.Subject(user_id="u", accepted_versions={"v2"})
    assert decide(user, tier="agreement", agreement_version="v2").reason == "accepted"
    older = P.Subject(user_id="u", accepted_versions={"v1"})
    d = decide(older, tier="agreement", agreement_version="v2")
    assert not d.can_access and d.next_step == "accept_agreement"


def test_agreement_tier_without_an_agreement_is_closed_with_nothing_to_accept():
    user = P.Subject(user_id="u", accepted_versions={"v1"})
    d = decide(user, tier="agreement", agreement_version=None)
    assert (d.can_access, d.reason, d.next_step) == (False, "agreement_required", None)


def test_controlled_tier_follows_the_grant_lifecycle():
    grant = P.Grant(starts=NOW - HOUR, expires=NOW + HOUR)
    assert decide(P.Subject(user_id="u", grants=[grant]), tier="controlled").reason == "granted"
    expired = P.Grant(starts=NOW - 2 * HOUR, expires=NOW)
    d = decide(P.Subject(user_id="u", grants=[expired]), tier="controlled")
    assert (d.can_access, d.reason, d.next_step) == (False, "grant_expired", "request_access")
    revoked = P.Grant(starts=NOW - HOUR, revoked=True)
    assert not decide(P.Subject(user_id="u", grants=[revoked]), tier="controlled").can_access
    pending = P.Subject(user_id="u", request_pending=True)
    d = decide(pending, tier="controlled")
    assert (d.reason, d.next_step) == ("request_pending", "wait_for_review")


def test_controlled_with_agreement_needs_grant_and_acceptance():
    grant = P.Grant(expires=None)
    policy = dict(tier="controlled", agreement_version="v1", agreement_required=True)
    d = decide(P.Subject(user_id="u", grants=[grant]), **policy)
    assert (d.can_access, d.reason) == (False, "agreement_required")
    both = P.Subject(user_id="u", grants=[grant], accepted_versions={"v1"})
    assert decide(both, **policy).reason == "granted"


def test_embargo_closes_every_tier_until_the_instant_it_ends():
    until = NOW + dt.timedelta(seconds=1)
    d = decide(USER, tier="open", embargo_until=until)
    assert (d.can_access, d.reason, d.next_step) == (False, "embargoed", "wait_for_embargo")
    assert d.embargo_until == until
    at = P.decide(USER, P.DatasetPolicy(embargo_until=until), until)
    assert at.can_access and not at.embargoed


def test_embargo_in_another_timezone_is_compared_as_the_same_instant():
    paris = dt.timezone(dt.timedelta(hours=1))
    until = dt.datetime(2027, 3, 3, 13, 0, 1, tzinfo=paris)  # 12:00:01 UTC
    assert not decide(USER, embargo_until=until).can_access
    until = dt.datetime(2027, 3, 3, 13, 0, 0, tzinfo=paris)  # 12:00:00 UTC == NOW
    assert decide(USER, embargo_until=until).can_access


def test_embargoed_then_controlled_stays_controlled_after_the_lift():
    d = P.decide(USER, P.DatasetPolicy(tier="controlled", embargo_until=NOW), NOW + HOUR)
    assert d.reason == "request_required"


@pytest.mark.parametrize("bad", ["2027-03-03", dt.datetime(2020, 1, 1), 0, object(), "x"])
def test_unreadable_embargo_date_denies(bad):
    d = decide(USER, tier="open", embargo_until=bad)
    assert (d.can_access, d.reason, d.next_step) == (False, "embargoed", None)


@pytest.mark.parametrize("bad", ["", "OPEN", "public", None, "controlled "])
def test_unknown_tier_denies_everyone_who_is_not_exempt(bad):
    granted = P.Subject(user_id="u", grants=[P.Grant()], accepted_versions={"v1"})
    assert not decide(granted, tier=bad, agreement_version="v1").can_access


def test_naive_clock_is_refused():
    with pytest.raises(ValueError):
        P.decide(USER, P.DatasetPolicy(), NOW.replace(tzinfo=None))


# Property tests over the whole input space.

datetimes = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1),
    timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5))]),
)
grants = st.builds(
    P.Grant,
    starts=st.none() | datetimes,
    expires=st.none() | datetimes,
    revoked=st.booleans(),
)
subjects = st.builds(
    P.Subject,
    user_id=st.none() | st.sampled_from(["u1", "u2"]),
    sysadmin=st.booleans(),
    capacity=st.none() | st.sampled_from([*P.CAPACITIES, "owner", ""]),
    collaborator=st.booleans(),
    accepted_versions=st.frozensets(st.sampled_from(["v1", "v2"])),
    grants=st.lists(grants, max_size=3).map(tuple),
    request_pending=st.booleans(),
)
embargoes = st.none() | datetimes | st.sampled_from(["2027-01-01", 17, dt.datetime(2027, 1, 1)])
policies = st.builds(
    P.DatasetPolicy,
    tier=st.sampled_from([*P.TIERS, "secret", ""]),
    embargo_until=embargoes,
    agreement_version=st.none() | st.sampled_from(["v1", "v2"]),
    agreement_required=st.booleans(),
)
nows = datetimes
capacities = st.sampled_from(P.CAPACITIES)


@settings(max_examples=400)
@given(subjects, policies, nows, capacities)
def test_property_sysadmin_is_always_allowed(subject, policy, now, exempt):
    admin = dataclasses.replace(subject, user_id="root", sysadmin=True)
    assert P.decide(admin, policy, now, exempt).can_access


def _privileges_added(subject: P.Subject, extra: P.Subject) -> P.Subject:
    """``subject`` with everything ``extra`` holds added on top."""
    ranks = [c for c in (subject.capacity, extra.capacity) if c in P.CAPACITIES]
    return P.Subject(
        user_id=subject.user_id or extra.user_id,
        sysadmin=subject.sysadmin or extra.sysadmin,
        capacity=max(ranks, key=P.CAPACITIES.index) if ranks else subject.capacity,
        collaborator=subject.collaborator or extra.collaborator,
        accepted_versions=frozenset(subject.accepted_versions) | frozenset(extra.accepted_versions),
        grants=tuple(subject.grants) + tuple(extra.grants),
        request_pending=subject.request_pending,
    )


@settings(max_examples=600)
@given(subjects, subjects, policies, nows, capacities)
def test_property_adding_a_privilege_never_removes_access(subject, extra, policy, now, exempt):
    before = P.decide(subject, policy, now, exempt)
    after = P.decide(_privileges_added(subject, extra), policy, now, exempt)
    if before.can_access:
        assert after.can_access


@settings(max_examples=400)
@given(subjects, policies, nows, capacities)
def test_property_unknown_tier_or_bad_date_denies_the_non_exempt(subject, policy, now, exempt):
    d = P.decide(subject, policy, now, exempt)
    bad_tier = policy.tier not in P.TIERS
    bad_date = policy.embargo_until is not None and not (
        isinstance(policy.embargo_until, dt.datetime) and policy.embargo_until.tzinfo
    )
    if (bad_tier or bad_date) and d.reason != "exempt":
        assert not d.can_access


@settings(max_examples=400)
@given(subjects, policies, nows, capacities)
def test_property_access_before_embargo_end_is_exempt_only(subject, policy, now, exempt):
    d = P.decide(subject, policy, now, exempt)
    if d.embargoed and d.can_access:
        assert d.reason == "exempt"
    if d.can_access:
        assert d.next_step is None
