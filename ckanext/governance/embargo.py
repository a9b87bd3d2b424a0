"""Embargo lifecycle: the advance notice, the lift, and "tell me when available".

Access opens at the embargo's instant through the policy core, with no job.
``lift_due`` finishes the transition for datasets whose date has passed: it
marks them lifted, writes the ledger event, tells the publishers and the
subscribers, and reindexes them (search fields and facets stop saying
embargoed). It reads only due rows through a partial index, takes each under
``FOR UPDATE SKIP LOCKED`` and commits it on its own, so runs are idempotent
and concurrent runs lift and notify each dataset once.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

import ckan.model as model
from ckan.lib import search

from . import access, capacities, clock, config, ledger, notifications
from .model import DatasetPolicy, EmbargoSubscription

log = logging.getLogger(__name__)


def due_for_lift(when: dt.datetime) -> sa.Select[Any]:
    """The next embargo to lift: through the partial index of unlifted embargoes."""
    return _due(DatasetPolicy.embargo_until <= when, DatasetPolicy.embargo_lifted.is_(None))


def lift_due(now: dt.datetime | None = None) -> list[str]:
    """Lift every embargo that has ended; returns the dataset ids lifted."""
    lifted: list[str] = []
    while True:
        when = now or access.utcnow()
        row = _take(due_for_lift(when))
        if row is None:
            break
        row.embargo_lifted = when
        pkg = model.Package.get(row.package_id)
        ledger.record(
            ledger.EMBARGO_LIFTED, actor_id=None, package_id=row.package_id,
            organization_id=pkg.owner_org if pkg is not None else None,
            detail={"embargo_until": clock.iso(row.embargo_until), "tier": row.access_tier},
        )
        if pkg is not None and pkg.state == "active":
            _notify_lift(pkg, row)
        model.Session.commit()
        lifted.append(row.package_id)
        _reindex(row.package_id)
    return lifted


def send_notices(now: dt.datetime | None = None) -> list[str]:
    """Tell organisation admins, once, that an embargo ends within notice_days."""
    days = config.embargo_notice_days()
    sent: list[str] = []
    if days <= 0:
        return sent
    while True:
        when = now or access.utcnow()
        row = _take(_due(
            DatasetPolicy.embargo_until > when,
            DatasetPolicy.embargo_until <= when + dt.timedelta(days=days),
            DatasetPolicy.embargo_lifted.is_(None),
            DatasetPolicy.embargo_notice_sent.is_(None),
        ))
        if row is None:
            break
        row.embargo_notice_sent = when
        pkg = model.Package.get(row.package_id)
        if pkg is not None and pkg.state == "active" and pkg.owner_org:
            variables = _variables(pkg, row)
            for user in capacities.users_with(pkg.owner_org, ("admin",)):
                notifications.enqueue(user, "embargo_ending", variables)
        model.Session.commit()
        sent.append(row.package_id)
    return sent


def subscribe(package_id: str, user_id: str) -> bool:
    """Ask to be told when the data opens; True when newly subscribed."""
    stmt = (
        sa.dialects.postgresql.insert(EmbargoSubscription)
        .values(package_id=package_id, user_id=user_id)
        .on_conflict_do_nothing()
    )
    created = model.Session.execute(stmt).rowcount == 1
    model.Session.commit()
    return created


def _due(*conditions: Any) -> sa.Select[Any]:
    return (
        sa.select(DatasetPolicy)
        .where(DatasetPolicy.embargo_until.isnot(None), *conditions)
        .order_by(DatasetPolicy.embargo_until)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _take(query: sa.Select[Any]) -> DatasetPolicy | None:
    """The next row of ``query``, locked; None (and the transaction ended) when none."""
    row = model.Session.execute(query).scalar_one_or_none()
    if row is None:
        model.Session.rollback()
    return row


def _notify_lift(pkg: model.Package, row: DatasetPolicy) -> None:
    variables = _variables(pkg, row)
    if pkg.owner_org:
        for user in capacities.users_with(pkg.owner_org, ("admin", "editor")):
            notifications.enqueue(user, "embargo_lifted", variables)
    subscriptions = model.Session.execute(
        sa.select(EmbargoSubscription)
        .where(EmbargoSubscription.package_id == pkg.id, EmbargoSubscription.notified.is_(None))
    ).scalars().all()
    for sub in subscriptions:
        user = model.Session.get(model.User, sub.user_id)
        if user is not None and user.state == "active":
            notifications.enqueue(user, "embargo_available", variables)
        sub.notified = row.embargo_lifted


def _variables(pkg: model.Package, row: DatasetPolicy) -> dict[str, Any]:
    # Values, not words: the e-mail is worded when it is sent, in the site's language.
    return {
        **notifications.dataset_variables(pkg),
        "embargo_at": clock.iso(row.embargo_until),
        "tier": row.access_tier,
    }


def _reindex(package_id: str) -> None:
    try:
        search.rebuild(package_id)
    except search.SearchError as err:
        # The lift stands (access opened at the instant); the index catches up
        # with the next update or `ckan search-index rebuild`.
        log.error("Lifted embargo of %s but could not reindex it: %s", package_id, err)
