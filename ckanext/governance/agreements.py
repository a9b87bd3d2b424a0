"""Data use agreements: versioned texts owned by an organisation, and acceptances.

A changed text is a new version; the publisher says whether the change is
material (everyone must accept again) or minor (acceptances carry over). The
version a user must have accepted is therefore the latest material one (the
first version always is); an acceptance of it or of any later version counts,
unless the agreement's renewal period has passed since.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import capacities, clock, csv_export
from .model import Acceptance, Agreement, AgreementVersion, DatasetPolicy

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


# The acceptance ledger ----------------------------------------------------------

ACCEPTANCE_COLUMNS = (
    "id", "created", "user_id", "user_name", "agreement_id", "agreement", "version",
    "version_title", "dataset_id", "dataset", "channel", "sha256", "typed_name",
    "organization_id", "expires",
)


def select_acceptances(user: model.User | None, filters: dict[str, Any],
                       newest: bool = False) -> sa.Select[Any]:
    """Acceptances the user may read that match the (validated) filters, oldest first.

    Sysadmins read all, organisation admins those of their organisations'
    agreements, every other user their own; anonymous users none. The columns
    are ACCEPTANCE_COLUMNS, with ``expires`` computed from the renewal period.
    """
    visible: sa.ColumnElement[bool]
    if user is None:
        visible = sa.false()
    elif user.sysadmin:
        visible = sa.true()
    else:
        visible = sa.or_(Acceptance.user_id == user.id,
                         Agreement.owner_org.in_(capacities.org_ids_where(user)))
    expires = sa.case(
        (Agreement.renewal_days.is_(None), sa.null()),
        else_=Acceptance.created + sa.func.make_interval(0, 0, 0, Agreement.renewal_days),
    )
    query = (
        sa.select(
            Acceptance.id, Acceptance.created, Acceptance.user_id, model.User.name,
            Acceptance.agreement_id, Agreement.name, Acceptance.version_number,
            AgreementVersion.title, Acceptance.package_id, model.Package.name,
            Acceptance.channel, Acceptance.text_sha256, Acceptance.typed_name,
            Agreement.owner_org, expires,
        )
        .join(Agreement, Agreement.id == Acceptance.agreement_id)
        .join(AgreementVersion, AgreementVersion.id == Acceptance.version_id)
        .join(model.User, model.User.id == Acceptance.user_id)
        .outerjoin(model.Package, model.Package.id == Acceptance.package_id)
        .where(visible)
    )
    for key, column in (
        ("organization_id", Agreement.owner_org),
        ("agreement_id", Acceptance.agreement_id),
        ("version", Acceptance.version_number),
        ("package_id", Acceptance.package_id),
        ("user_id", Acceptance.user_id),
    ):
        if filters.get(key) is not None:
            query = query.where(column == filters[key])
    if filters.get("since"):
        query = query.where(Acceptance.created >= filters["since"])
    if filters.get("until"):
        query = query.where(Acceptance.created < filters["until"])
    return query.order_by(Acceptance.id.desc() if newest else Acceptance.id)


def acceptance_dicts(rows: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Rows of select_acceptances as dicts, each with its ``status`` now:
    ``valid``, ``expired`` (renewal period passed) or ``outdated`` (a later
    material version must be accepted). One query for all the agreements."""
    rows = list(rows)
    required = dict(model.Session.execute(
        sa.select(AgreementVersion.agreement_id, sa.func.max(AgreementVersion.number))
        .where(AgreementVersion.agreement_id.in_({r[4] for r in rows}),
               AgreementVersion.material.is_(True))
        .group_by(AgreementVersion.agreement_id)
    ).all()) if rows else {}
    result = []
    for row in rows:
        item = dict(zip(ACCEPTANCE_COLUMNS, row))
        expires = item["expires"]
        if expires is not None and expires <= now:
            item["status"] = "expired"
        elif item["version"] < required.get(item["agreement_id"], 0):
            item["status"] = "outdated"
        else:
            item["status"] = "valid"
        item["created"] = clock.iso(item["created"])
        item["expires"] = clock.iso(expires)
        result.append(item)
    return result


def stream_acceptances_csv(user: model.User | None, filters: dict[str, Any]) -> Iterator[str]:
    """The matching acceptances as CSV, chunk by chunk (a server-side cursor)."""
    return csv_export.stream(select_acceptances(user, filters), ACCEPTANCE_COLUMNS, _csv_row)


def _csv_row(values: list[Any]) -> list[Any]:
    values[1] = clock.iso(values[1])
    values[14] = clock.iso(values[14])
    return [_cell(v) for v in values]


def _cell(value: Any) -> Any:
    """A typed name is the user's own text: keep a spreadsheet from reading it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def acceptance_counts(agreement_ids: list[str]) -> dict[tuple[str, int], int]:
    """(agreement id, version number) → how many users accepted it."""
    if not agreement_ids:
        return {}
    rows = model.Session.execute(
        sa.select(Acceptance.agreement_id, Acceptance.version_number, sa.func.count())
        .where(Acceptance.agreement_id.in_(agreement_ids))
        .group_by(Acceptance.agreement_id, Acceptance.version_number)
    ).all()
    return {(a, n): c for a, n, c in rows}


def dataset_counts(agreement_ids: list[str]) -> dict[str, int]:
    """Agreement id → how many datasets use it."""
    if not agreement_ids:
        return {}

    rows = model.Session.execute(
        sa.select(DatasetPolicy.agreement_id, sa.func.count())
        .join(model.Package, model.Package.id == DatasetPolicy.package_id)
        .where(DatasetPolicy.agreement_id.in_(agreement_ids), model.Package.state == "active")
        .group_by(DatasetPolicy.agreement_id)
    ).all()
    return dict(rows)


def renew_link(item: dict[str, Any]) -> str | None:
    """Where to accept again: the agreement page of the dataset it was accepted through."""
    if not item.get("dataset"):
        return None
    row = model.Session.get(DatasetPolicy, item["dataset_id"])
    if row is None or row.agreement_id != item["agreement_id"]:
        return None
    return tk.url_for("governance_agreements.dataset_agreement", id=item["dataset"])
