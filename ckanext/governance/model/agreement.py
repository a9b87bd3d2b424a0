"""Data use agreements, their versions, and users' acceptances."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk
from ckan.model.types import make_uuid

from .. import clock


class Agreement(tk.BaseModel):
    __tablename__ = "governance_agreement"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=make_uuid)
    name: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, unique=True)
    owner_org: Mapped[str] = mapped_column(sa.UnicodeText, sa.ForeignKey("group.id"), nullable=False)
    title: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    renewal_days: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )


class AgreementVersion(tk.BaseModel):
    """One published text. Never changed once written: edits make a new version."""

    __tablename__ = "governance_agreement_version"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=make_uuid)
    agreement_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement.id"), nullable=False
    )
    number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    title: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    body: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    material: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    created_by: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)


class Acceptance(tk.BaseModel):
    __tablename__ = "governance_acceptance"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(sa.UnicodeText, sa.ForeignKey("user.id"), nullable=False)
    agreement_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement.id"), nullable=False
    )
    version_id: Mapped[str] = mapped_column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement_version.id"), nullable=False
    )
    version_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    package_id: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    channel: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    text_sha256: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    typed_name: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
