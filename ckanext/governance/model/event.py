"""The governance ledger: append-only facts, and the notification outbox."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk

from .. import clock


class Event(tk.BaseModel):
    """One governance fact. Rows are only ever inserted: no code path updates
    or deletes them, and no foreign keys tie them to rows that can be purged."""

    __tablename__ = "governance_event"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    kind: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    actor_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    package_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    organization_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


class Notification(tk.BaseModel):
    """A message waiting in the outbox, written with the fact that causes it."""

    __tablename__ = "governance_notification"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    recipient_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    recipient_name: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    recipient_email: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    template: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    next_attempt: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    sent: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
