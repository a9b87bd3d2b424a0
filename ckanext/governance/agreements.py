"""Data use agreements: versioned texts owned by an organisation, and acceptances.

A changed text is a new version; the publisher says whether the change is
material (everyone must accept again) or minor (acceptances carry over). The
version a user must have accepted is therefore the latest material one (the
first version always is); an acceptance of it or of any later version counts,
unless the agreement's renewal period has passed since.
"""
from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

import ckan.model as model
import ckan.plugins.toolkit as tk

from .model import Acceptance, Agreement, AgreementVersion

CHANNELS = ("web", "api")


def text_hash(title: str, body: str) -> str:
    """SHA-256 of the exact text a user is shown (title and body)."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def get(ref: str | None) -> Agreement | None:
    if not ref:
        return None
    return model.Session.execute(
        sa.select(Agreement).where(sa.or_(Agreement.id == ref, Agreement.name == ref))
    ).scalar_one_or_none()


def versions(agreement: Agreement) -> list[AgreementVersion]:
    return list(model.Session.execute(
        sa.select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement.id)
        .order_by(AgreementVersion.number)
    ).scalars())


def add_version(agreement: Agreement, title: str, body: str, material: bool,
                user_id: str | None) -> AgreementVersion:
    latest = model.Session.execute(
        sa.select(sa.func.max(AgreementVersion.number))
        .where(AgreementVersion.agreement_id == agreement.id)
    ).scalar()
    number = (latest or 0) + 1
    version = AgreementVersion(
        agreement_id=agreement.id, number=number, title=title, body=body,
        sha256=text_hash(title, body), material=material or number == 1, created_by=user_id,
    )
    model.Session.add(version)
    model.Session.flush()
    return version


def required_version(agreement: Agreement) -> AgreementVersion | None:
    """The version whose acceptance (or a later one's) opens data now."""
    return model.Session.execute(
        sa.select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement.id, AgreementVersion.material.is_(True))
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def accept(user_id: str, version: AgreementVersion, package_id: str | None,
           channel: str, typed_name: str | None) -> tuple[Acceptance, bool]:
    """Record an acceptance; (the record, True when new). Concurrent calls make one record."""
    stmt = (
        insert(Acceptance)
        .values(user_id=user_id, agreement_id=version.agreement_id, version_id=version.id,
                version_number=version.number, package_id=package_id, channel=channel,
                text_sha256=version.sha256, typed_name=typed_name)
        .on_conflict_do_nothing(index_elements=["user_id", "version_id"])
        .returning(Acceptance.id)
    )
    new_id = model.Session.execute(stmt).scalar()
    record = model.Session.execute(
        sa.select(Acceptance).where(Acceptance.user_id == user_id,
                                    Acceptance.version_id == version.id)
    ).scalar_one()
    return record, new_id is not None


def as_dict(agreement: Agreement, with_versions: bool = True) -> dict[str, Any]:
    all_versions = versions(agreement)
    required = required_version(agreement)
    current = all_versions[-1] if all_versions else None
    result: dict[str, Any] = {
        "id": agreement.id,
        "name": agreement.name,
        "owner_org": agreement.owner_org,
        "title": current.title if current else agreement.title,
        "renewal_days": agreement.renewal_days,
        "current_version": current.number if current else None,
        "required_version": required.number if required else None,
        "body": current.body if current else "",
        "sha256": current.sha256 if current else None,
    }
    if with_versions:
        result["versions"] = [
            {"id": v.id, "number": v.number, "title": v.title, "body": v.body,
             "sha256": v.sha256, "material": v.material,
             "created": v.created.isoformat() if v.created else None}
            for v in all_versions
        ]
    return result


def ensure_same_org(agreement: Agreement | None, owner_org: str | None, field: str) -> Agreement:
    if agreement is None:
        raise tk.ValidationError({field: [tk._("Agreement not found")]})
    if not owner_org or agreement.owner_org != owner_org:
        raise tk.ValidationError({field: [tk._("The agreement must belong to the dataset's organisation")]})
    return agreement
