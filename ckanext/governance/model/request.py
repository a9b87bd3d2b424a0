"""Access requests for ``controlled`` datasets, their history, and grants."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk
from ckan.model.types import make_uuid

from .. import clock


class AccessRequest(tk.BaseModel):
    __tablename__ = "governance_request"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=make_uuid)
    package_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    # The owning organisation when the request was made: its reviewers decide.
    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    intended_use: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    institution: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    project_title: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    ethics_reference: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    commercial: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    duration_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # The grant this request renews, if any.
    renewal_of: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    prescreen: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    message: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)  # the last decision's
    decided_by: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now())
    modified: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now())


class RequestChange(tk.BaseModel):
    """One step of a request's history (created, resubmitted, decided, withdrawn)."""

    __tablename__ = "governance_request_change"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_request.id", ondelete="CASCADE"), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    from_state: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    to_state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    message: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now())


class Grant(tk.BaseModel):
    """Access to one dataset's data for one user, from an approved request."""

    __tablename__ = "governance_grant"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=make_uuid)
    request_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_request.id", ondelete="CASCADE"), nullable=False)
    package_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    starts: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    expires: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    # Set by `ckan governance grants expire`: the expiry was recorded and told.
    expiry_recorded: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    # The smallest number of days-before-expiry a reminder was sent for.
    reminded_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now())
