"""The governance ledger: record facts, and read them back for those who may.

``record`` adds an event to the current database session, so it commits (or
rolls back) with the fact it records. Nothing here updates or deletes ledger.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

import ckan.model as model

from . import capacities, clock, csv_export
from .model import Event

# The kinds of fact the ledger holds. Later capabilities add theirs here.
TIER_CHANGED = "tier_changed"


DOWNLOAD = "download"


EMBARGO_SET = "embargo_set"


EMBARGO_CHANGED = "embargo_changed"


EMBARGO_REMOVED = "embargo_removed"


EMBARGO_LIFTED = "embargo_lifted"


AGREEMENT_ACCEPTED = "agreement_accepted"


REQUEST_CREATED = "request_created"


REQUEST_RESUBMITTED = "request_resubmitted"


REQUEST_WITHDRAWN = "request_withdrawn"


REQUEST_APPROVED = "request_approved"


REQUEST_REJECTED = "request_rejected"


REQUEST_RETURNED = "request_returned"


GRANT_CREATED = "grant_created"


GRANT_REVOKED = "grant_revoked"


GRANT_EXPIRED = "grant_expired"


PUBLICATION_WARNED = "publication_warned"


PUBLICATION_CONFIRMED = "publication_confirmed"


PUBLICATION_CANCELLED = "publication_cancelled"


KINDS = (TIER_CHANGED, DOWNLOAD, EMBARGO_SET, EMBARGO_CHANGED, EMBARGO_REMOVED, EMBARGO_LIFTED,
         AGREEMENT_ACCEPTED, REQUEST_CREATED, REQUEST_RESUBMITTED, REQUEST_WITHDRAWN,
         REQUEST_APPROVED, REQUEST_REJECTED, REQUEST_RETURNED, GRANT_CREATED, GRANT_REVOKED,
         GRANT_EXPIRED, PUBLICATION_WARNED, PUBLICATION_CONFIRMED, PUBLICATION_CANCELLED)


CSV_COLUMNS = ("id", "created", "kind", "actor_id", "actor_name", "package_id",
               "package_name", "organization_id", "detail")


def record(
    kind: str,
    *,
    actor_id: str | None,
    package_id: str | None = None,
    organization_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the session; the caller's commit writes it with its fact."""
    if kind not in KINDS:
        raise ValueError(f"unknown governance event kind {kind!r}")
    event = Event(
        kind=kind,
        actor_id=actor_id,
        package_id=package_id,
        organization_id=organization_id,
        detail=detail or {},
    )
    model.Session.add(event)
    return event


def visible_to(user: model.User | None) -> sa.ColumnElement[bool]:
    """Which events a user may read: sysadmins all, organisation admins their
    organisations', everyone their own; anonymous users none."""
    if user is None:
        return sa.false()
    if user.sysadmin:
        return sa.true()
    return sa.or_(Event.actor_id == user.id, Event.organization_id.in_(capacities.org_ids_where(user)))


def select_events(user: model.User | None, filters: dict[str, Any]) -> sa.Select[Any]:
    """Events the user may read that match the (validated) filters, oldest first.

    Ordered by id: new events only ever come after, so pages are stable.
    """
    query = sa.select(Event).where(visible_to(user))
    for key, column in (
        ("organization_id", Event.organization_id),
        ("package_id", Event.package_id),
        ("actor_id", Event.actor_id),
        ("kind", Event.kind),
    ):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("since"):
        query = query.where(Event.created >= filters["since"])
    if filters.get("until"):
        query = query.where(Event.created < filters["until"])
    return query.order_by(Event.id)


def as_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "created": clock.iso(event.created),
        "kind": event.kind,
        "actor_id": event.actor_id,
        "package_id": event.package_id,
        "organization_id": event.organization_id,
        "detail": event.detail,
    }


def stream_csv(user: model.User | None, filters: dict[str, Any]) -> Iterator[str]:
    """The matching events as CSV text, chunk by chunk, in flat memory.

    Reads through a server-side cursor on a connection of its own, so a
    million rows never sit in memory at once, whatever the web or CLI caller.
    """
    query = (
        select_events(user, filters)
        .with_only_columns(
            Event.id, Event.created, Event.kind, Event.actor_id, model.User.name,
            Event.package_id, model.Package.name, Event.organization_id, Event.detail,
        )
        .outerjoin(model.User, model.User.id == Event.actor_id)
        .outerjoin(model.Package, model.Package.id == Event.package_id)
    )
    return csv_export.stream(query, CSV_COLUMNS, _csv_row)


def _csv_row(values: list[Any]) -> list[Any]:
    values[1] = clock.iso(values[1])
    values[8] = json.dumps(values[8], sort_keys=True)
    return values
