"""A dataset's terms (tier, embargo, agreement, data use, grant days):
checked against the organisation's agreements and stored with the dataset,
in the transaction that saves it, with their ledger events and notices."""
from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, agreements, capacities, clock, config, ledger, notifications
from .model import DatasetPolicy

# A dataset's terms, as its dicts carry them.
TERM_FIELDS = ("access_tier", "embargo_until", "embargo_reason", "agreement", "data_use", "grant_days")


def check_terms(fields: dict[str, Any], row: DatasetPolicy | None, owner_org: str | None,
                harvested: bool = False) -> None:
    """Refuse embargo terms a publisher may not set; ValidationError per field.

    An embargo set, or moved later, must end in the future and within
    ``embargo.max_months``; shortening or removing one is always allowed. With
    ``embargo.require_reason`` an embargo needs a reason. ``harvested``: the
    origin's terms of a dataset harvested for the first time (harvest.py),
    facts rather than a choice: the embargo rules do not apply, and an
    agreement not found in ``owner_org`` is left off (which closes the data).
    """
    errors: dict[str, list[str]] = {}
    now = access.utcnow()
    current = row.embargo_until if row is not None else None
    until = fields.get("embargo_until", current)
    if ("embargo_until" in fields and not harvested and until is not None
            and (current is None or until > current)):
        if until <= now:
            errors["embargo_until"] = [tk._("An embargo must end in the future")]
        months = config.embargo_max_months()
        if months and until > _add_months(now, months):
            errors["embargo_until"] = [
                tk._("An embargo may last at most {} months").format(months)]
    reason = fields.get("embargo_reason", row.embargo_reason if row is not None else None)
    touches_embargo = "embargo_until" in fields or "embargo_reason" in fields
    if touches_embargo and until is not None and config.embargo_require_reason() and not reason \
            and not harvested:
        errors["embargo_reason"] = [tk._("Give the reason for the embargo")]
    if fields.get("agreement"):
        try:
            found = agreements.ensure_same_org(
                agreements.get(fields["agreement"]), owner_org, "agreement")
            fields["agreement_id"] = found.id
        except tk.ValidationError as err:
            if not harvested:
                errors.update(err.error_dict)
            fields["agreement_id"] = None
    if errors:
        raise tk.ValidationError(errors)


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def store_terms(
    package_id: str, fields: dict[str, Any], created: bool, actor_id: str | None = None
) -> None:
    """Write a dataset's terms into the transaction that saves the dataset.

    Runs before CKAN commits and indexes, so both see the new terms, and a
    failure rolls both back. A new dataset always gets a row (so a later change
    of the site default does not change it); an update without
    ``access_tier`` keeps the tier.
    """
    row = model.Session.get(DatasetPolicy, package_id)
    before = row.access_tier if row is not None else None
    if row is None:
        if not created and not fields:
            return
        row = DatasetPolicy(package_id=package_id, access_tier=config.default_tier())
        if not created:
            before = config.default_tier()  # what applied while there was no row
        model.Session.add(row)
    if "access_tier" in fields and fields["access_tier"] != row.access_tier:
        row.access_tier = fields["access_tier"]
        row.modified = access.utcnow()
    if row.access_tier != before:
        _tier_changed(package_id, before, row.access_tier, actor_id)
    if "embargo_reason" in fields:
        row.embargo_reason = fields["embargo_reason"]
    if "agreement" in fields:
        # check_terms resolved the reference (or it detaches: None).
        row.agreement_id = fields.get("agreement_id")
    if "data_use" in fields:
        row.data_use = fields["data_use"]
    if "grant_days" in fields:
        row.grant_days = fields["grant_days"]
    if "embargo_until" in fields and fields["embargo_until"] != row.embargo_until:
        _embargo_changed(row, fields["embargo_until"], actor_id)
    model.Session.flush()


def _embargo_changed(row: DatasetPolicy, until: dt.datetime | None, actor_id: str | None) -> None:
    before = row.embargo_until
    row.embargo_until = until
    # A new date starts the lifecycle again: a new notice, a new lift.
    row.embargo_lifted = None
    row.embargo_notice_sent = None
    row.modified = access.utcnow()
    kind = (ledger.EMBARGO_SET if before is None
            else ledger.EMBARGO_REMOVED if until is None else ledger.EMBARGO_CHANGED)
    pkg = model.Package.get(row.package_id)
    ledger.record(
        kind, actor_id=actor_id, package_id=row.package_id,
        organization_id=pkg.owner_org if pkg is not None else None,
        detail={"from": clock.iso(before), "to": clock.iso(until),
                "reason": row.embargo_reason},
    )


def _tier_changed(package_id: str, before: str | None, after: str, actor_id: str | None) -> None:
    """Ledger event, and a notice to the organisation's admins (not at creation)."""
    pkg = model.Package.get(package_id)
    org_id = pkg.owner_org if pkg is not None else None
    ledger.record(
        ledger.TIER_CHANGED, actor_id=actor_id, package_id=package_id,
        organization_id=org_id, detail={"from": before, "to": after},
    )
    if before is None or pkg is None or not org_id:
        return

    actor = model.User.get(actor_id) if actor_id else None
    variables = {
        **notifications.dataset_variables(pkg),
        # Values, not words: the e-mail is worded when it is sent, in the site's language.
        "from_tier": before,
        "to_tier": after,
        "actor_name": (actor.fullname or actor.name) if actor else None,
    }
    for admin in capacities.users_with(org_id, ("admin",)):
        if admin.id != actor_id:
            notifications.enqueue(admin, "tier_changed", variables)
