"""Data use agreements: create, publish new versions, read, accept, and the
acceptances' audit trail."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, agreements, clock, ledger
from ...model import Agreement, DatasetPolicy
from .. import lookup, schema

__all__ = [
    "governance_agreement_create",
    "governance_agreement_update",
    "governance_agreement_show",
    "governance_agreement_list",
    "governance_agreement_accept",
    "governance_acceptance_list",
]


def _agreement_text(data_dict: DataDict, errors: dict[str, list[str]], current=None) -> tuple[str, str]:
    # The schema made them text (or left them out, to keep the current ones).
    title = data_dict.get("title", current.title if current else "")
    body = data_dict.get("body", current.body if current else "")
    if not title.strip():
        errors["title"] = [tk._("Missing value")]
    if not body.strip():
        errors["body"] = [tk._("Missing value")]
    return title.strip(), body.strip()


@tk.validate(schema.agreement_create)
def governance_agreement_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Create a data use agreement owned by an organisation (its first version).

    :param owner_org: id or name of the organisation
    :param name: URL-friendly unique name
    :param title: title shown to users
    :param body: the text, in Markdown
    :param renewal_days: acceptance must be repeated after this many days (optional)
    :returns: the agreement, as ``governance_agreement_show`` returns it
    """
    errors: dict[str, list[str]] = {}
    org = model.Group.get(data_dict["owner_org"])
    if org is None or not org.is_organization:
        raise tk.ValidationError({"owner_org": [tk._("Organization not found")]})
    tk.check_access("governance_agreement_create", context, {"owner_org": org.id})
    name = data_dict["name"]
    try:
        tk.get_validator("name_validator")(name, context)
    except tk.Invalid as err:
        errors["name"] = [str(err.error)]
    if agreements.get(name) is not None:
        errors["name"] = [tk._("That name is already in use")]
    title, body = _agreement_text(data_dict, errors)
    renewal = data_dict.get("renewal_days")
    if errors:
        raise tk.ValidationError(errors)
    agreement = Agreement(name=name, owner_org=org.id, title=title, renewal_days=renewal)
    model.Session.add(agreement)
    model.Session.flush()
    agreements.add_version(agreement, title, body, True, access.viewer_for(context).user_id)
    model.Session.commit()
    return agreements.as_dict(agreement)


@tk.validate(schema.agreement_update)
def governance_agreement_update(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Publish a changed agreement text as a new version (old versions stay readable).

    :param id: id or name of the agreement
    :param title: new title (optional)
    :param body: new Markdown text (optional)
    :param material: true if users must accept again; false for a minor
        change, whose acceptances carry over (required when the text changes)
    :param renewal_days: new renewal period, or empty for none (optional)
    """
    agreement = agreements.get(data_dict["id"])
    if agreement is None:
        raise tk.ObjectNotFound(tk._("Agreement not found"))
    tk.check_access("governance_agreement_update", context, {"owner_org": agreement.owner_org})
    errors: dict[str, list[str]] = {}
    current = agreements.versions(agreement)[-1]
    title, body = _agreement_text(data_dict, errors, current)
    changed = (title, body) != (current.title, current.body)
    material = data_dict.get("material")
    if changed and material is None:
        errors["material"] = [tk._("Say whether the change is material (true) or minor (false)")]
    if errors:
        raise tk.ValidationError(errors)
    if "renewal_days" in data_dict:
        agreement.renewal_days = data_dict["renewal_days"]
    if changed:
        agreement.title = title
        agreements.add_version(agreement, title, body, material,
                               access.viewer_for(context).user_id)
    model.Session.commit()
    return agreements.as_dict(agreement)


@tk.side_effect_free
@tk.validate(schema.id_only)
def governance_agreement_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An agreement with all its versions (anyone may read them).

    :param id: id or name of the agreement
    """
    agreement = agreements.get(data_dict["id"])
    if agreement is None:
        raise tk.ObjectNotFound(tk._("Agreement not found"))
    tk.check_access("governance_agreement_show", context, data_dict)
    return agreements.as_dict(agreement)


@tk.side_effect_free
@tk.validate(schema.agreement_list)
def governance_agreement_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Agreements, optionally of one organisation (without their version history).

    :param owner_org: id or name of an organisation (optional)
    """
    tk.check_access("governance_agreement_list", context, data_dict)
    query = sa.select(Agreement).order_by(Agreement.name)
    if data_dict.get("owner_org"):
        org = model.Group.get(data_dict["owner_org"])
        if org is None:
            raise tk.ValidationError({"owner_org": [tk._("Organization not found")]})
        query = query.where(Agreement.owner_org == org.id)
    return [agreements.as_dict(a, with_versions=False)
            for a in model.Session.execute(query).scalars()]


@tk.validate(schema.agreement_accept)
def governance_agreement_accept(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Accept the current version of a dataset's agreement.

    Records the user, agreement, version, dataset, time (UTC), channel and
    the SHA-256 of the text accepted. Accepting twice makes one record.

    :param id: id or name of the dataset whose agreement is accepted
    :param typed_name: the name the user typed as a signature (optional)
    :param channel: ``web`` or ``api`` (optional, default ``api``)
    :returns: ``{"agreement", "version", "sha256", "created", "new"}``
    """
    pkg = lookup.dataset(context, data_dict, "governance_agreement_accept")
    user_id = access.viewer_for(context).user_id
    if user_id is None:
        raise tk.NotAuthorized(tk._("Log in to accept an agreement"))
    row = model.Session.get(DatasetPolicy, pkg.id)
    agreement = agreements.get(row.agreement_id) if row is not None else None
    if agreement is None:
        raise tk.ValidationError({"id": [tk._("This dataset has no agreement to accept")]})
    channel = data_dict.get("channel") or "api"
    typed = data_dict.get("typed_name")
    version = agreements.versions(agreement)[-1]
    record, new = agreements.accept(user_id, version, pkg.id, channel, (typed or "").strip() or None)
    if new:
        ledger.record(
            ledger.AGREEMENT_ACCEPTED, actor_id=user_id, package_id=pkg.id,
            organization_id=agreement.owner_org,
            detail={"agreement": agreement.name, "version": version.number,
                    "sha256": record.text_sha256, "channel": channel},
        )
    model.Session.commit()
    return {"agreement": agreement.name, "version": version.number, "sha256": record.text_sha256,
            "created": clock.iso(record.created), "new": new}


@tk.side_effect_free
@tk.validate(schema.acceptance_list)
def governance_acceptance_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Acceptances of data use agreements (the audit trail), oldest first.

    Sysadmins see every acceptance, organisation admins those of their
    organisations' agreements, every other user their own ("My agreements").

    :param organization: id or name of the organisation owning the agreements (optional)
    :param agreement: id or name of an agreement (optional)
    :param version: version number of the agreement (optional)
    :param dataset: id or name of the dataset through which it was accepted (optional)
    :param user: id or name of the user who accepted (optional)
    :param since: ISO 8601 date or date-time, inclusive (optional; a date is 00:00 UTC)
    :param until: ISO 8601 date or date-time, exclusive (optional)
    :param sort: ``oldest`` (default) or ``newest`` first (optional)
    :param page: page number, from 1 (optional, default 1)
    :param limit: acceptances per page (optional, default 100, at most 1000)

    :returns: ``{"count", "page", "limit", "results": [{"id", "created",
        "user_id", "user_name", "agreement_id", "agreement", "version",
        "version_title", "dataset_id", "dataset", "channel", "sha256",
        "typed_name", "organization_id", "expires", "status"}]}``; ``status``
        is ``valid``, ``expired`` (renewal period passed) or ``outdated`` (a
        later material version must be accepted)
    :rtype: dictionary
    """
    tk.check_access("governance_acceptance_list", context, data_dict)
    user = model.User.get(access.viewer_for(context).user_id or "")
    filters = acceptance_filters(data_dict)
    query = agreements.select_acceptances(user, filters, newest=data_dict.get("sort") == "newest")
    result, rows = lookup.page(data_dict, query)
    result["results"] = agreements.acceptance_dicts(rows.all(), access.utcnow())
    return result


def acceptance_filters(data_dict: DataDict) -> dict[str, Any]:
    """Validated filters of the acceptance list (also the CSV export's):
    names were turned into ids by the schema."""
    filters: dict[str, Any] = {k: data_dict.get(k) for k in ("version", "since", "until")}
    filters.update(lookup.renamed(data_dict, {"organization": "organization_id", "agreement": "agreement_id",
                                              "dataset": "package_id", "user": "user_id"}))
    lookup.check_period(filters)
    return filters
