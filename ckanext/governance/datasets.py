"""Dataset lifecycle hooks: store the terms with the dataset, index without gated URLs."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, agreements, config, events, notify, policy
from .model import DatasetPolicy


def check_terms(fields: dict[str, Any], row: DatasetPolicy | None, owner_org: str | None) -> None:
    """Refuse embargo terms a publisher may not set; ValidationError per field.

    An embargo set, or moved later, must end in the future and within
    ``embargo.max_months``; shortening or removing one is always allowed. With
    ``embargo.require_reason`` an embargo needs a reason.
    """
    errors: dict[str, list[str]] = {}
    now = access.utcnow()
    current = row.embargo_until if row is not None else None
    until = fields.get("embargo_until", current)
    if "embargo_until" in fields and until is not None and (current is None or until > current):
        if until <= now:
            errors["embargo_until"] = [tk._("An embargo must end in the future")]
        months = config.embargo_max_months()
        if months and until > _add_months(now, months):
            errors["embargo_until"] = [
                tk._("An embargo may last at most {} months").format(months)]
    reason = fields.get("embargo_reason", row.embargo_reason if row is not None else None)
    touches_embargo = "embargo_until" in fields or "embargo_reason" in fields
    if touches_embargo and until is not None and config.embargo_require_reason() and not reason:
        errors["embargo_reason"] = [tk._("Give the reason for the embargo")]
    if fields.get("agreement"):
        try:
            found = agreements.ensure_same_org(
                agreements.get(fields["agreement"]), owner_org, "agreement")
            fields["agreement_id"] = found.id
        except tk.ValidationError as err:
            errors.update(err.error_dict)
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
    kind = (events.EMBARGO_SET if before is None
            else events.EMBARGO_REMOVED if until is None else events.EMBARGO_CHANGED)
    pkg = model.Package.get(row.package_id)
    events.record(
        kind, actor_id=actor_id, package_id=row.package_id,
        organization_id=pkg.owner_org if pkg is not None else None,
        detail={"from": events.iso(before), "to": events.iso(until),
                "reason": row.embargo_reason},
    )


def _tier_changed(package_id: str, before: str | None, after: str, actor_id: str | None) -> None:
    """Ledger event, and a notice to the organisation's admins (not at creation)."""
    pkg = model.Package.get(package_id)
    org_id = pkg.owner_org if pkg is not None else None
    events.record(
        events.TIER_CHANGED, actor_id=actor_id, package_id=package_id,
        organization_id=org_id, detail={"from": before, "to": after},
    )
    if before is None or pkg is None or not org_id:
        return
    from .helpers import governance_tier_label

    actor = model.User.get(actor_id) if actor_id else None
    variables = {
        "dataset_title": pkg.title or pkg.name,
        "dataset_url": tk.url_for("dataset.read", id=pkg.name, qualified=True),
        "from_label": governance_tier_label(before),
        "to_label": governance_tier_label(after),
        "actor_name": (actor.fullname or actor.name) if actor else tk._("the site"),
    }
    for admin in notify.organization_users(org_id, ("admin",)):
        if admin.id != actor_id:
            notify.enqueue(admin, "tier_changed", variables)


def index_document(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_index: add the tier, and keep gated URLs out of the index."""
    pol = access.load_policies([pkg_dict["id"]])[pkg_dict["id"]]
    pkg_dict["access_tier"] = pol.tier
    # Search fields for the Embargo facet and date queries; `embargo lift`
    # reindexes a dataset when its date passes.
    decision = policy.decide(policy.Subject(), pol, access.utcnow())
    pkg_dict["embargoed"] = "true" if decision.embargoed else "false"
    if isinstance(pol.embargo_until, dt.datetime):
        pkg_dict["embargo_until"] = events.iso(pol.embargo_until)
        # CKAN's schema indexes unknown names as strings, where date math and
        # ranges with NOW do not work; its "*_date" fields are dates.
        pkg_dict["embargo_until_date"] = pkg_dict["embargo_until"]
    # Whether this copy stays right when the site default changes (see
    # search_params): stored terms reindex the dataset whenever they change.
    if model.Session.get(DatasetPolicy, pkg_dict["id"]) is not None:
        pkg_dict[INDEX_TERMS] = "stored"
    else:
        pkg_dict[INDEX_TERMS] = "default_closed" if access.indexed_without_urls(pol) else "default_open"
    return access.redact_index_document(pkg_dict, pol)


# Index field saying which terms a dataset's copy was made under.
INDEX_TERMS = "governance_index_terms"


# Solr functions over the whole index, past every filter query: in a field
# list, a sort or a boost they tell whether any document holds a value.
_INDEX_STATISTICS = re.compile(
    r"\b(?:docfreq|idf|maxdoc|numdocs|totaltermfreq|ttf|sumtotaltermfreq|sttf)\s*\(",
    re.IGNORECASE)
# What ``fl`` may name: fields, globs and ``score``; no function, transformer
# (``[explain]`` prints term statistics of the whole index) or alias.
_FIELD_NAME = re.compile(r"[\w.*-]+")


def search_params(search_params: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_search: answer from the documents the caller may see only.

    Solr filters the results by CKAN's and our filter queries, but a facet
    asked for with ``facet.mincount`` 0 lists the values of every document in
    the index, and index statistics (``docfreq()`` and its kin, ``[explain]``)
    count them: both would name or confirm a private dataset's values, or a
    stale copy's URLs (below), to anyone. Zero counts are therefore dropped,
    ``fl`` names fields only, and a sort or boost using index statistics is a
    SearchQueryError (as CKAN's own invalid sort).

    While the site default keeps data closed, search only copies that were
    made under it or under terms of their own: a copy made while the default
    was open (or by CKAN before the extension) holds the URLs of datasets that
    now follow a closed default, until ``ckan search-index rebuild`` remakes it.
    """
    try:
        mincount = int(search_params.get("facet.mincount", 1))
    except (TypeError, ValueError):
        mincount = 0
    if mincount < 1:
        search_params["facet.mincount"] = 1
    fl = search_params.get("fl")
    items = [fl] if isinstance(fl, str) else fl if isinstance(fl, (list, tuple)) else []
    for item in items:
        if not all(_FIELD_NAME.fullmatch(name)
                   for name in re.split(r"[\s,]+", str(item).strip()) if name):
            raise search.SearchQueryError('Invalid "fl" parameter: field names only')
    for key in ("sort", "bf", "boost"):
        values = search_params.get(key)
        for value in values if isinstance(values, (list, tuple)) else [values]:
            if isinstance(value, str) and _INDEX_STATISTICS.search(value):
                raise search.SearchQueryError(f'Invalid "{key}" parameter: no index statistics')
    if access.indexed_without_urls(policy.DatasetPolicy(tier=config.default_tier())):
        search_params.setdefault("fq_list", []).append(
            f"{INDEX_TERMS}:(stored OR default_closed)")
    return search_params
