"""Grants: the access an approved request gives, until it expires or is revoked.

A grant lasts the dataset's ``grant_days`` (else the site's, 0: no end). The
policy core checks the expiry at the instant; ``expire_due`` (the cron
command ``ckan governance grants expire``) records each expiry once and
reminds holders before their grant ends. Revoking ends every grant the
holder has of the dataset. The actions commit.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, capacities, clock, config, ledger, notifications
from .model import AccessRequest, DatasetPolicy, Grant

GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED = "active", "expired", "revoked"


GRANT_STATES = (GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED)


def grant_days_of(row: DatasetPolicy | None) -> int:
    if row is not None and row.grant_days is not None:
        return row.grant_days
    return config.grant_days()


def active_grant(user_id: str, package_id: str, now: dt.datetime) -> Grant | None:
    return model.Session.execute(
        sa.select(Grant)
        .where(Grant.user_id == user_id, Grant.package_id == package_id,
               Grant.revoked_at.is_(None), Grant.starts <= now,
               sa.or_(Grant.expires.is_(None), Grant.expires > now))
        .order_by(Grant.expires.desc().nulls_first()).limit(1)
    ).scalar_one_or_none()


def issue(req: AccessRequest, now: dt.datetime) -> Grant:
    days = grant_days_of(model.Session.get(DatasetPolicy, req.package_id))
    if req.duration_days and (not days or req.duration_days < days):
        days = req.duration_days
    start_from = now
    if req.renewal_of:
        prior = model.Session.get(Grant, req.renewal_of)
        if prior is not None and prior.revoked_at is None:
            if prior.expires is None:
                days = 0
            elif prior.expires > now:
                start_from = prior.expires  # renewed in time: no gap, no lost days
    grant = Grant(request_id=req.id, package_id=req.package_id, user_id=req.user_id,
                  organization_id=req.organization_id, starts=now,
                  expires=(start_from + dt.timedelta(days=days)) if days else None, created=now)
    model.Session.add(grant)
    model.Session.flush()
    return grant


def revoke(actor: model.User, grant: Grant, reason: str) -> Grant:
    """End the holder's access to the dataset: this grant and any other of
    theirs for it (a renewal's grant runs beside the one it renews), locked so
    two revocations at once make one."""
    if not capacities.is_reviewer(actor, grant.organization_id):
        raise tk.NotAuthorized(tk._("Only the dataset organisation's reviewers revoke its grants"))
    held = list(model.Session.execute(
        sa.select(Grant).where(Grant.user_id == grant.user_id, Grant.package_id == grant.package_id)
        .order_by(Grant.id).with_for_update().execution_options(populate_existing=True)
    ).scalars())
    if grant.revoked_at is not None:
        raise tk.ValidationError({"id": [tk._("This grant was already revoked")]})
    now = access.utcnow()
    for g in held:
        if g.revoked_at is None:
            g.revoked_at, g.revoked_by, g.revoke_reason = now, actor.id, reason
            ledger.record(ledger.GRANT_REVOKED, actor_id=actor.id, package_id=g.package_id,
                          organization_id=g.organization_id,
                          detail={"grant_id": g.id, "user_id": g.user_id, "reason": reason})
    _tell_holder(grant, "grant_revoked", {"reason": reason})
    return grant


def due_for_expiry(now: dt.datetime) -> sa.Select[Any]:
    """Grants whose end passed and was not yet recorded (the partial index)."""
    return (
        sa.select(Grant)
        .where(Grant.expires.is_not(None), Grant.revoked_at.is_(None),
               Grant.expiry_recorded.is_(None), Grant.expires <= now)
        .order_by(Grant.expires)
    )


def expire_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Record expired grants and remind holders of grants about to expire.

    Each grant is handled in its own transaction under FOR UPDATE SKIP LOCKED,
    so runs at once never record or remind twice.
    """
    now = now or access.utcnow()
    counts = {"expired": 0, "reminded": 0}
    while True:
        grant = model.Session.execute(
            due_for_expiry(now).limit(1).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if grant is None:
            break
        grant.expiry_recorded = now
        ledger.record(ledger.GRANT_EXPIRED, actor_id=None, package_id=grant.package_id,
                      organization_id=grant.organization_id,
                      detail={"grant_id": grant.id, "user_id": grant.user_id,
                              "expires": clock.iso(grant.expires)})
        if not _renewed(grant):
            _tell_holder(grant, "grant_expired", {})
        model.Session.commit()
        counts["expired"] += 1
    # Smallest threshold first: a grant 5 days from its end gets the 7-day
    # reminder, not the 30-day one; each run sends a grant one reminder at most,
    # and marking it takes it out of the selection (no list of seen rows).
    for days in sorted(config.grant_reminder_days()):
        while True:
            grant = model.Session.execute(
                sa.select(Grant)
                .where(Grant.expires.is_not(None), Grant.revoked_at.is_(None),
                       Grant.expiry_recorded.is_(None), Grant.expires > now,
                       Grant.expires <= now + dt.timedelta(days=days),
                       sa.or_(Grant.reminded_days.is_(None), Grant.reminded_days > days))
                .order_by(Grant.expires, Grant.id).limit(1).with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if grant is None:
                break
            grant.reminded_days = days
            if not _renewed(grant):
                left = grant.expires - now
                days_left = -(-left // dt.timedelta(days=1))  # whole days, rounded up
                _tell_holder(grant, "grant_reminder", {"days_left": days_left})
                counts["reminded"] += 1
            model.Session.commit()
    return counts


def _renewed(grant: Grant) -> bool:
    """Whether a later grant of the same data carries on after this one."""
    return model.Session.execute(
        sa.select(sa.literal(True)).where(sa.exists().where(
            Grant.user_id == grant.user_id, Grant.package_id == grant.package_id,
            Grant.id != grant.id, Grant.revoked_at.is_(None),
            sa.or_(Grant.expires.is_(None), Grant.expires > grant.expires)))
    ).scalar() is True


def _tell_holder(grant: Grant, template: str, extra: dict[str, Any]) -> None:
    user = model.Session.get(model.User, grant.user_id)
    if user is None:
        return
    notifications.enqueue(user, template, {
        **notifications.dataset_variables(package_id=grant.package_id),
        "expires": clock.iso(grant.expires),
        "access_url": tk.url_for("governance_requests.my_access", qualified=True),
        **extra,
    })


def grant_state(grant: Grant, now: dt.datetime) -> str:
    if grant.revoked_at is not None:
        return GRANT_REVOKED
    if grant.expires is not None and grant.expires <= now:
        return GRANT_EXPIRED
    return GRANT_ACTIVE


def visible_grants(user: model.User | None) -> sa.ColumnElement[bool]:
    if user is None:
        return sa.false()
    if user.sysadmin:
        return sa.true()
    return sa.or_(Grant.user_id == user.id, Grant.organization_id.in_(capacities.reviewer_org_ids(user)))


def select_grants(user: model.User | None, filters: dict[str, Any], now: dt.datetime) -> sa.Select[Any]:
    query = (
        sa.select(Grant, model.Package.name, model.Package.title, model.User.name)
        .join(model.Package, model.Package.id == Grant.package_id)
        .join(model.User, model.User.id == Grant.user_id)
        .where(visible_grants(user))
    )
    for key, column in (("package_id", Grant.package_id),
                        ("organization_id", Grant.organization_id),
                        ("user_id", Grant.user_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    state = filters.get("state")
    if state == GRANT_REVOKED:
        query = query.where(Grant.revoked_at.is_not(None))
    elif state == GRANT_EXPIRED:
        query = query.where(Grant.revoked_at.is_(None), Grant.expires <= now)
    elif state == GRANT_ACTIVE:
        query = query.where(Grant.revoked_at.is_(None),
                            sa.or_(Grant.expires.is_(None), Grant.expires > now))
    return query.order_by(Grant.created.desc(), Grant.id)


def grant_dict(grant: Grant, dataset: str | None, title: str | None, user_name: str | None,
               now: dt.datetime) -> dict[str, Any]:
    return {
        "id": grant.id, "request_id": grant.request_id, "state": grant_state(grant, now),
        "dataset_id": grant.package_id, "dataset": dataset, "dataset_title": title,
        "user_id": grant.user_id, "user_name": user_name,
        "organization_id": grant.organization_id,
        "starts": clock.iso(grant.starts), "expires": clock.iso(grant.expires),
        "revoked_at": clock.iso(grant.revoked_at), "revoke_reason": grant.revoke_reason,
        "created": clock.iso(grant.created),
    }
