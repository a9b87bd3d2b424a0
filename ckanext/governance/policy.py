"""The one access decision: may this subject have this dataset's data, now?

Pure Python, no CKAN import, so it can be tested exhaustively and fast. The
CKAN adapter (``access.py``) gathers the facts in bulk and asks ``decide``;
nothing else in the extension decides who sees data.

Deny by default and fail closed: an unknown tier, an embargo date that is not a
timezone-aware datetime, or an agreement tier without a current agreement
version never grants access to anyone who is not exempt.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from typing import Any

OPEN = "open"
REGISTERED = "registered"
AGREEMENT = "agreement"
CONTROLLED = "controlled"
TIERS = (OPEN, REGISTERED, AGREEMENT, CONTROLLED)

# Organisation capacities from least to most privileged.
CAPACITIES = ("member", "editor", "admin")

# Reason codes (the contract of the ``governance`` block).
R_OPEN = "open"
R_EXEMPT = "exempt"
R_LOGIN_REQUIRED = "login_required"
R_AGREEMENT_REQUIRED = "agreement_required"
R_REQUEST_REQUIRED = "request_required"
R_REQUEST_PENDING = "request_pending"
R_GRANT_EXPIRED = "grant_expired"
R_EMBARGOED = "embargoed"
R_GRANTED = "granted"
R_ACCEPTED = "accepted"

# Next steps a user can take (``None``: nothing to do, or nothing they can do).
N_LOG_IN = "log_in"
N_ACCEPT_AGREEMENT = "accept_agreement"
N_REQUEST_ACCESS = "request_access"
N_WAIT_FOR_REVIEW = "wait_for_review"
N_WAIT_FOR_EMBARGO = "wait_for_embargo"


@dataclasses.dataclass(frozen=True)
class Grant:
    """An approved access request: valid from ``starts`` until ``expires``."""

    starts: dt.datetime | None = None
    expires: dt.datetime | None = None  # None: no expiry
    revoked: bool = False

    def active(self, now: dt.datetime) -> bool:
        if self.revoked:
            return False
        if self.starts is not None and not _before_or_at(self.starts, now):
            return False
        return self.expires is None or _before(now, self.expires)


@dataclasses.dataclass(frozen=True)
class Subject:
    """Who is asking, and what they hold with respect to one dataset."""

    user_id: str | None = None  # None: anonymous
    sysadmin: bool = False
    capacity: str | None = None  # capacity in the dataset's owning organisation
    collaborator: bool = False
    # Agreement version ids this user has a valid (unexpired) acceptance of.
    accepted_versions: Collection[str] = frozenset()
    grants: Collection[Grant] = ()
    request_pending: bool = False

    @property
    def anonymous(self) -> bool:
        return not self.user_id


@dataclasses.dataclass(frozen=True)
class DatasetPolicy:
    """A dataset's terms, as stored. Values are checked here, not trusted."""

    tier: str = OPEN
    embargo_until: object = None  # an aware datetime, or None; anything else denies
    # The version of the attached agreement that must have been accepted.
    agreement_version: str | None = None
    # True when a ``controlled`` dataset has an agreement attached (or the site
    # requires one): a grant alone then is not enough.
    agreement_required: bool = False


@dataclasses.dataclass(frozen=True)
class Decision:
    can_access: bool
    reason: str
    next_step: str | None = None
    embargoed: bool = False
    embargo_until: dt.datetime | None = None


def decide(
    subject: Subject,
    policy: DatasetPolicy,
    now: dt.datetime,
    exempt_capacity: str = "member",
) -> Decision:
    """Decide whether ``subject`` may have the data of a dataset with ``policy``.

    ``now`` must be timezone-aware (UTC). ``exempt_capacity`` is the least
    organisation capacity that is always allowed.
    """
    if not _aware(now):
        # A naive clock would make every embargo comparison False: refuse it.
        raise ValueError("decide() needs a timezone-aware 'now'")
    embargo_valid = policy.embargo_until is None or _aware(policy.embargo_until)
    embargo_until = policy.embargo_until if embargo_valid else None
    embargoed = not embargo_valid or (
        embargo_until is not None and _before(now, embargo_until)  # type: ignore[arg-type]
    )
    facts: dict[str, Any] = {"embargoed": embargoed, "embargo_until": embargo_until}

    if _exempt(subject, exempt_capacity):
        return Decision(True, R_EXEMPT, None, **facts)

    if embargoed:
        # An unreadable date is an embargo with no known end.
        step = N_WAIT_FOR_EMBARGO if embargo_until is not None else None
        return Decision(False, R_EMBARGOED, step, **facts)

    tier = policy.tier
    if tier == OPEN:
        return Decision(True, R_OPEN, None, **facts)
    if tier not in TIERS:
        return Decision(False, R_REQUEST_REQUIRED, None, **facts)
    if subject.anonymous:
        return Decision(False, R_LOGIN_REQUIRED, N_LOG_IN, **facts)
    if tier == REGISTERED:
        return Decision(True, R_OPEN, None, **facts)

    accepted = (
        policy.agreement_version is not None
        and policy.agreement_version in subject.accepted_versions
    )
    if tier == AGREEMENT:
        if accepted:
            return Decision(True, R_ACCEPTED, None, **facts)
        # Without a current agreement there is nothing to accept: closed.
        step = N_ACCEPT_AGREEMENT if policy.agreement_version is not None else None
        return Decision(False, R_AGREEMENT_REQUIRED, step, **facts)

    # CONTROLLED
    if any(g.active(now) for g in subject.grants):
        if policy.agreement_required and not accepted:
            step = N_ACCEPT_AGREEMENT if policy.agreement_version is not None else None
            return Decision(False, R_AGREEMENT_REQUIRED, step, **facts)
        return Decision(True, R_GRANTED, None, **facts)
    if subject.request_pending:
        return Decision(False, R_REQUEST_PENDING, N_WAIT_FOR_REVIEW, **facts)
    if subject.grants:
        return Decision(False, R_GRANT_EXPIRED, N_REQUEST_ACCESS, **facts)
    return Decision(False, R_REQUEST_REQUIRED, N_REQUEST_ACCESS, **facts)


def capacity_at_least(capacity: str | None, minimum: str) -> bool:
    """True when ``capacity`` ranks at or above ``minimum``; unknown ranks deny."""
    if capacity not in CAPACITIES or minimum not in CAPACITIES:
        return False
    return CAPACITIES.index(capacity) >= CAPACITIES.index(minimum)


def _exempt(subject: Subject, exempt_capacity: str) -> bool:
    if subject.anonymous:
        return False
    return (
        subject.sysadmin
        or subject.collaborator
        or capacity_at_least(subject.capacity, exempt_capacity)
    )


def _aware(value: object) -> bool:
    return isinstance(value, dt.datetime) and value.utcoffset() is not None


def _before(a: dt.datetime, b: dt.datetime) -> bool:
    """a < b for aware datetimes; a naive one on either side counts as False."""
    if not (_aware(a) and _aware(b)):
        return False
    return a < b


def _before_or_at(a: dt.datetime, b: dt.datetime) -> bool:
    if not (_aware(a) and _aware(b)):
        return False
    return a <= b
