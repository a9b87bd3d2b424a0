"""Per-dataset terms: the access tier and the embargo.

Kept in a table of our own rather than in package extras so that a page of
search results loads its policies with one indexed query, and so that the
terms are there whichever dataset schema plugin (plain CKAN, scheming) is in
use. A dataset without a row has the site's default tier.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk

from .. import clock


class DatasetPolicy(tk.BaseModel):
    __tablename__ = "governance_dataset_policy"

    package_id: Mapped[str] = mapped_column(
        sa.UnicodeText,
        sa.ForeignKey("package.id", ondelete="CASCADE"),
        primary_key=True,
    )
    access_tier: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    embargo_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    embargo_reason: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    agreement_id: Mapped[str | None] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement.id"), nullable=True)
    # GA4GH DUO codes (data use conditions), e.g. ["HMB", "IRB", "DS:MONDO:0005148"].
    data_use: Mapped[list[str] | None] = mapped_column(sa.ARRAY(sa.UnicodeText), nullable=True)
    # Days a grant of this dataset lasts (None: the site default; 0: no expiry).
    grant_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # Set by `ckan governance embargo lift` once the date has passed, and by
    # the advance notice; cleared whenever the date changes.
    embargo_lifted: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    embargo_notice_sent: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    modified: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )


class EmbargoSubscription(tk.BaseModel):
    """A user who asked to be told when an embargoed dataset's data opens."""

    __tablename__ = "governance_embargo_subscription"

    package_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("package.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    notified: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
