"""Data use agreements, their versions, and users' acceptances."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped

import ckan.plugins.toolkit as tk

from .. import clock
from ckan.model.types import make_uuid


class Agreement(tk.BaseModel):
    __tablename__ = "governance_agreement"

    id: Mapped[str] = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    name: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False, unique=True)
    owner_org: Mapped[str] = sa.Column(sa.UnicodeText, sa.ForeignKey("group.id"), nullable=False)
    title: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    renewal_days: Mapped[int | None] = sa.Column(sa.Integer)
    created: Mapped[dt.datetime] = sa.Column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )


class AgreementVersion(tk.BaseModel):
    """One published text. Never changed once written: edits make a new version."""

    __tablename__ = "governance_agreement_version"

    id: Mapped[str] = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    agreement_id: Mapped[str] = sa.Column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement.id"), nullable=False
    )
    number: Mapped[int] = sa.Column(sa.Integer, nullable=False)
    title: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    body: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    sha256: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    material: Mapped[bool] = sa.Column(sa.Boolean, nullable=False)
    created: Mapped[dt.datetime] = sa.Column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    created_by: Mapped[str | None] = sa.Column(sa.UnicodeText)


class Acceptance(tk.BaseModel):
    __tablename__ = "governance_acceptance"

    id: Mapped[int] = sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = sa.Column(sa.UnicodeText, sa.ForeignKey("user.id"), nullable=False)
    agreement_id: Mapped[str] = sa.Column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement.id"), nullable=False
    )
    version_id: Mapped[str] = sa.Column(
        sa.UnicodeText, sa.ForeignKey("governance_agreement_version.id"), nullable=False
    )
    version_number: Mapped[int] = sa.Column(sa.Integer, nullable=False)
    package_id: Mapped[str | None] = sa.Column(sa.UnicodeText)
    created: Mapped[dt.datetime] = sa.Column(
        sa.DateTime(timezone=True), nullable=False, default=clock.now, server_default=sa.func.now()
    )
    channel: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    text_sha256: Mapped[str] = sa.Column(sa.UnicodeText, nullable=False)
    typed_name: Mapped[str | None] = sa.Column(sa.UnicodeText)
