"""Actions: the governance API, and CKAN's actions chained so no path leaks data.

Each chained action calls CKAN's own implementation first and then shapes the
result for the caller through ``access`` (which asks ``policy``). CKAN's core
functions are never replaced.
"""
from __future__ import annotations

import contextvars
import difflib
import json
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from .. import access, config, datasets, duo, events, policy, publication, requests
from .. import agreements, core_compat
from .. import resource_search as governance_resource_search
from ..model import Agreement, DatasetPolicy
from . import schema
from .validators import governance_utc_datetime, parse_boolean, parse_days, parse_text

__all__ = [
    "governance_access_show",
    "governance_agreement_create",
    "governance_agreement_update",
    "governance_agreement_show",
    "governance_agreement_list",
    "governance_agreement_accept",
    "governance_acceptance_list",
    "governance_embargo_subscribe",
    "governance_event_list",
    "governance_request_create",
    "governance_request_update",
    "governance_request_show",
    "governance_request_list",
    "governance_request_withdraw",
    "governance_request_decide",
    "governance_grant_list",
    "governance_grant_revoke",
    "governance_publication_check",
    "package_create",
    "package_update",
    "package_patch",
    "bulk_update_public",
    "bulk_update_private",
    "package_owner_org_update",
    "package_show",
    "resource_show",
    "package_search",
    "current_package_list_with_resources",
    "resource_search",
    "resource_view_show",
    "resource_view_list",
]

# Where the fields a caller sent to package_create wait for
# IPackageController.after_dataset_create, which stores them in the
# transaction that saves the dataset (package_update stores them itself).
PENDING = "governance_pending_fields"

# Computed for each caller: never stored, ignored on input.
READ_ONLY = ("governance", "governance_warnings")
# "I have read the publication warnings": in the context once taken from the call.
CONFIRM = "governance_confirm"
GRANT_DAYS_MAX = 36_500
# Set while CKAN's organisation bulk "make public/private" runs: its form
# cannot ask for confirmation, so its changes are warned of (and recorded).
_BULK = contextvars.ContextVar("governance_bulk", default=False)


def _take_fields(context: Context, data_dict: DataDict) -> None:
    """Move our fields out of ``data_dict`` into the context, validated first:
    a bad value raises before CKAN writes anything."""
    for key in READ_ONLY:
        data_dict.pop(key, None)
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "access_tier" in data_dict:
        tier = data_dict.pop("access_tier")
        if tier not in policy.TIERS:
            errors["access_tier"] = [tk._("Must be one of: {}").format(", ".join(policy.TIERS))]
        fields["access_tier"] = tier
    if "embargo_until" in data_dict:
        value = data_dict.pop("embargo_until")
        if value in (None, ""):
            fields["embargo_until"] = None  # removes the embargo
        else:
            try:
                fields["embargo_until"] = governance_utc_datetime(value)
            except tk.Invalid as err:
                errors["embargo_until"] = [str(err.error)]
    if "embargo_reason" in data_dict:
        reason = data_dict.pop("embargo_reason")
        try:
            fields["embargo_reason"] = ("" if reason is None else parse_text(reason)).strip() or None
        except tk.Invalid as err:
            errors["embargo_reason"] = [str(err.error)]
    if "agreement" in data_dict:
        ref = data_dict.pop("agreement")
        try:
            fields["agreement"] = ("" if ref is None else parse_text(ref)) or None
        except tk.Invalid:
            errors["agreement"] = [tk._("Must be the id or name of an agreement")]
    if "data_use" in data_dict:
        try:
            fields["data_use"] = duo.codes_of(duo.parse(data_dict.pop("data_use"))) or None
        except ValueError as err:
            errors["data_use"] = [str(err)]
    if "grant_days" in data_dict:
        value = data_dict.pop("grant_days")
        if value in (None, ""):
            fields["grant_days"] = None  # the site default
        else:
            try:
                fields["grant_days"] = parse_days(value, 0, GRANT_DAYS_MAX, tk._(
                    "Must be a whole number of days from 0 (grants do not expire) to {n}").format(
                        n=GRANT_DAYS_MAX))
            except tk.Invalid as err:
                errors["grant_days"] = [str(err.error)]
    confirm = data_dict.pop(CONFIRM, None)
    confirmed = False
    if confirm not in (None, ""):
        try:
            confirmed = parse_boolean(confirm)
        except tk.Invalid as err:
            errors[CONFIRM] = [str(err.error)]
    if errors:
        raise tk.ValidationError(errors)
    # Always reset: an outer call's fields must not leak into a nested one.
    context[PENDING] = fields  # type: ignore[literal-required]
    context[CONFIRM] = confirmed  # type: ignore[literal-required]


def _present(context: Context, pkg_dict: dict[str, Any]) -> dict[str, Any]:
    return access.present_packages(context, [pkg_dict])[0]


@tk.chained_action
def package_create(up: Action, context: Context, data_dict: DataDict):
    """Create a dataset; accepts ``access_tier`` (open, registered, agreement,
    controlled; default from ``ckanext.governance.default_tier``),
    ``embargo_until`` (ISO 8601 date or date-time, UTC; a date is 00:00 UTC)
    and ``embargo_reason``."""
    _take_fields(context, data_dict)
    owner = model.Group.get(data_dict.get("owner_org") or "")
    fields = context[PENDING]  # type: ignore[literal-required]
    datasets.check_terms(fields, None, owner.id if owner else None)
    tk.check_access("package_create", dict(context), data_dict)
    outcome = _publication_check(context, None, data_dict, fields)
    result = up(context, data_dict)
    if isinstance(result, dict):
        _present(context, result)
        _publication_done(context, result, outcome)
    return result


@tk.chained_action
def package_update(up: Action, context: Context, data_dict: DataDict):
    """Update a dataset. ``access_tier``, ``embargo_until`` and
    ``embargo_reason`` left out keep their values; an empty ``embargo_until``
    removes the embargo."""
    _take_fields(context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or data_dict.get("name") or "")
    fields = context.pop(PENDING, {})  # type: ignore[misc]
    outcome = None
    owner_before = pkg.owner_org if pkg is not None else None
    if pkg is not None:
        # As CKAN's own package_update does before its check: the auth function
        # compares the groups sent with the dataset's, and without the dataset
        # takes each of them for a group being added.
        tk.check_access("package_update", dict(context, package=pkg), data_dict)
        row = model.Session.get(DatasetPolicy, pkg.id)
        if fields:
            owner = model.Group.get(data_dict.get("owner_org") or "") if data_dict.get("owner_org") else None
            datasets.check_terms(fields, row, owner.id if owner else pkg.owner_org)
        outcome = _publication_check(context, pkg, data_dict, fields)
        if not core_compat.terms_change(fields, row):
            # Our keys, taken out of what was sent, must not make CKAN see a
            # change: an unchanged re-send is then neither written, reindexed
            # nor recorded as an activity, as without the extension.
            fields = {}
            context["original_package"] = core_compat.without_added_keys(  # type: ignore[typeddict-unknown-key]
                _original_package(context, pkg))
        if fields:
            # CKAN only calls after_dataset_update when core fields changed, so a
            # tier-only update is written here, into the transaction CKAN commits
            # (and indexes) next. A refusal or a failure below rolls it back.
            actor = access.viewer_for(context).user_id
            datasets.store_terms(pkg.id, fields, created=False, actor_id=actor)
    try:
        result = up(context, data_dict)
    except Exception:
        model.Session.rollback()
        raise
    if isinstance(result, dict):
        _present(context, result)
        if owner_before is not None and result.get("owner_org") not in (None, owner_before):
            requests.follow_owner(pkg.id, result["owner_org"])  # type: ignore[union-attr]
            if not context.get("defer_commit"):
                model.Session.commit()
        _publication_done(context, result, outcome)
    return result


def _original_package(context: Context, pkg: model.Package) -> dict[str, Any]:
    """The dataset as CKAN's package_update compares it: what a caller (such as
    package_patch) handed over, or package_show as CKAN itself calls it."""
    given = context.get("original_package")
    if isinstance(given, dict) and given.get("id") == pkg.id:
        return given
    return tk.get_action("package_show")(
        tk.fresh_context(context, ignore_auth=True), {"id": pkg.id})  # type: ignore[attr-defined]


def _publication_check(context: Context, pkg: model.Package | None, data_dict: DataDict,
                       fields: dict[str, Any]) -> dict[str, Any] | None:
    """The publication warnings of this create/update (None: none, or mode off).
    In ``confirm`` mode, warnings refuse the call unless it says ``governance_confirm``."""
    mode = config.publication_mode()
    if mode == "off" or data_dict.get("state") == "draft":
        return None  # a draft (the web form's first stage) is seen by nobody yet
    # Finishing a draft publishes it as creating would.
    before = publication.current_state(pkg) if pkg is not None and pkg.state != "draft" else None
    after = publication.proposed_state(before, data_dict, fields)
    data = dict(data_dict)
    if pkg is not None and "resources" not in data:
        data["resources"] = [{"url": r.url} for r in pkg.resources]
    agreement: Any = fields.get("agreement_id") if "agreement" in fields else ...
    if pkg is None and agreement is ...:
        agreement = None
    outcome = publication.check(access.viewer_for(context).user_id, pkg.id if pkg else None,
                                data, before, after, agreement)
    if not outcome["warnings"]:
        return None
    outcome["confirmed"] = bool(context.get(CONFIRM))
    # The web form's last stage cannot ask for confirmation: finishing a draft warns.
    finishing_draft = pkg is not None and pkg.state == "draft"
    if mode == "confirm" and not outcome["confirmed"] and not finishing_draft and not _BULK.get():
        raise tk.ValidationError({CONFIRM: [
            f"{w['code']}: {w['message']}" for w in outcome["warnings"]]})
    return outcome


def _publication_done(context: Context, result: dict[str, Any], outcome: dict[str, Any] | None) -> None:
    """The warnings go back with the result and into the ledger (codes and the
    ids the publisher could see; never the texts)."""
    result["governance_warnings"] = outcome["warnings"] if outcome else []
    if not outcome:
        return
    events.record(
        events.PUBLICATION_CONFIRMED if outcome["confirmed"] else events.PUBLICATION_WARNED,
        actor_id=access.viewer_for(context).user_id, package_id=result.get("id"),
        organization_id=result.get("owner_org"),
        detail={"more_reachable": outcome["more_reachable"], "mode": config.publication_mode(),
                # Codes only: the ids the publisher could see may be private
                # datasets that the ledger's other readers may not know of.
                "warnings": [w["code"] for w in outcome["warnings"]]},
    )
    if not context.get("defer_commit"):
        model.Session.commit()


@tk.chained_action
def package_patch(up: Action, context: Context, data_dict: DataDict):
    # Validate here so a bad value fails before CKAN merges the patch; the
    # value itself goes on to package_update with the merged dict.
    if {"access_tier", "embargo_until", "embargo_reason", "agreement"} & set(data_dict):
        _take_fields(dict(context), dict(data_dict))
    return up(context, data_dict)


def _bulk(up: Action, context: Context, data_dict: DataDict):
    token = _BULK.set(True)
    try:
        return up(context, data_dict)
    finally:
        _BULK.reset(token)


@tk.chained_action
def bulk_update_public(up: Action, context: Context, data_dict: DataDict):
    """CKAN's organisation bulk "Make public": each dataset's publication
    warnings are recorded; the bulk form cannot ask for confirmation."""
    return _bulk(up, context, data_dict)


@tk.chained_action
def bulk_update_private(up: Action, context: Context, data_dict: DataDict):
    return _bulk(up, context, data_dict)


@tk.chained_action
def package_owner_org_update(up: Action, context: Context, data_dict: DataDict):
    """Moving a dataset moves its access requests and grants to the new
    organisation's reviewers."""
    result = up(context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or "")
    if pkg is not None:
        requests.follow_owner(pkg.id, pkg.owner_org)
        if not context.get("defer_commit"):  # package_update calls it inside its own
            model.Session.commit()
    return result


@tk.side_effect_free
@tk.chained_action
def package_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    # validate=False is CKAN's raw path (indexing), validated after this.
    raw = context.get("validate", True) is False
    gate = access.gate_for(context, result.get("id") or "")
    if gate is None:
        for resource in result.get("resources") or []:
            access.redact_resource(resource, keep_keys=raw)
        return result
    if gate.can_access and access.index_copy_may_lack_urls(gate.policy) and any(
        not r.get("url") for r in result.get("resources") or []
    ):
        # CKAN answered from the search index, whose copy of a gated dataset
        # has no URLs: this viewer may have them, so take them from the database.
        access.restore_resources([result])
    return access.present_package(result, gate, raw=raw)


@tk.side_effect_free
@tk.chained_action
def resource_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    # CKAN's resource_show loaded the resource: its dataset comes from the session.
    resource = model.Resource.get(result.get("id") or "")
    gate = access.gate_for(context, resource.package_id) if resource is not None else None
    if gate is None or not gate.can_access:
        access.redact_resource(result)
    return result


@tk.side_effect_free
@tk.chained_action
def package_search(up: Action, context: Context, data_dict: DataDict):
    requested = core_compat.requested_fields(data_dict.get("fl"))
    result = up(context, data_dict)
    access.present_packages(context, result.get("results") or [])
    if requested is not None:
        # A caller that chose its fields gets those, as without the extension.
        core_compat.keep_requested(result.get("results") or [], requested)
    from ..helpers import governance_embargo_label, governance_tier_label

    facets = result.get("search_facets") or {}
    for field, label in (("access_tier", governance_tier_label), ("embargoed", governance_embargo_label)):
        for item in (facets.get(field) or {}).get("items") or []:
            item["display_name"] = label(item.get("name"))
    return result


@tk.side_effect_free
@tk.chained_action
def current_package_list_with_resources(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    return access.present_packages(context, result)


@tk.side_effect_free
@tk.chained_action
def resource_search(up: Action, context: Context, data_dict: DataDict):
    """Resources matching a query, as CKAN's ``resource_search``, for the caller.

    Fields that say where or what the data is (``url``, ``hash``,
    ``cache_url``, ``mimetype_inner``, ``cache_last_updated``, resource
    extras) exist only in datasets whose data the caller may have: elsewhere a
    ``query`` term on one matches nothing, and ``order_by`` one sorts those
    resources as if the value were empty (last). ``count`` counts what
    matches for the caller. Other fields (``name``, ``description``,
    ``format`` ...) match every resource; results the caller may not have the
    data of come without those fields. Sysadmins get CKAN's answer.

    :param query: ``{field}:{term}`` or a list of them (see CKAN's resource_search)
    :param order_by: a field of the resource to sort on (ascending)
    :param offset: results to skip
    :param limit: most results to return
    :returns: ``{"count": int, "results": [resource, ...]}``
    """
    return governance_resource_search.search(up, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def resource_view_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    _redact_views(context, [result])
    return result


@tk.side_effect_free
@tk.chained_action
def resource_view_list(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    _redact_views(context, result)
    return result


def _dataset(context: Context, data_dict: DataDict, auth: str) -> model.Package:
    """The dataset ``data_dict["id"]`` names (404 when absent or deleted),
    once the caller passes ``auth`` for it."""
    pkg = model.Package.get(tk.get_or_bust(data_dict, "id"))
    if pkg is None or pkg.state == "deleted":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tk.check_access(auth, context, {"id": pkg.id})
    return pkg


@tk.side_effect_free
@tk.validate(schema.id_only)
def governance_access_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What the caller may do with a dataset's data, and why.

    :param id: the id or name of the dataset
    :type id: string

    :returns: the ``governance`` block (``tier``, ``embargoed``,
        ``embargo_until``, ``can_access``, ``reason``, ``next_step``) plus
        ``resources``: one ``{"id", "name", "can_access", "download_url"}`` per
        resource, ``download_url`` being null when the caller may not download;
        for ``controlled`` datasets also ``request`` (the caller's open request:
        ``{"id", "state"}``, or null) and ``grant`` (the caller's grant that
        lasts longest: ``{"id", "state", "expires"}``, or null).
    :rtype: dictionary
    """
    pkg = _dataset(context, data_dict, "governance_access_show")
    gate = access.gate_for(context, pkg.id)
    assert gate is not None  # the dataset exists: it has facts
    block = gate.block()
    user_id = access.viewer_for(context).user_id
    if gate.tier == policy.CONTROLLED:
        block["request"] = block["grant"] = None
        if user_id:
            block.update(_my_request_and_grant(user_id, pkg.id))
    block["resources"] = [
        {
            "id": res.id,
            "name": res.name,
            "can_access": gate.can_access,
            "download_url": (res.url if res.url_type != "upload" else tk.url_for(
                "resource.download", id=pkg.id, resource_id=res.id,
                filename=res.url.rsplit("/", 1)[-1], qualified=True,
            )) if gate.can_access else None,
        }
        for res in pkg.resources
    ]
    return block


def _my_request_and_grant(user_id: str, package_id: str) -> dict[str, Any]:
    from ..model import AccessRequest, Grant

    found: dict[str, Any] = {}
    req = model.Session.execute(
        sa.select(AccessRequest.id, AccessRequest.state).where(
            AccessRequest.user_id == user_id, AccessRequest.package_id == package_id,
            AccessRequest.state.in_(requests.OPEN_STATES))
    ).first()
    if req is not None:
        found["request"] = {"id": req.id, "state": req.state}
    grant = model.Session.execute(
        sa.select(Grant).where(Grant.user_id == user_id, Grant.package_id == package_id)
        .order_by(Grant.revoked_at.is_not(None), Grant.expires.desc().nulls_first()).limit(1)
    ).scalar_one_or_none()
    if grant is not None:
        found["grant"] = {"id": grant.id, "state": requests.grant_state(grant, access.utcnow()),
                          "expires": events.iso(grant.expires)}
    return found


@tk.validate(schema.id_only)
def governance_embargo_subscribe(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask to be told (once, by e-mail) when an embargoed dataset's data opens.

    :param id: the id or name of the dataset
    :type id: string

    :returns: ``{"subscribed": true, "embargo_until": ...}``; asking twice is harmless.
    :rtype: dictionary
    """
    pkg = _dataset(context, data_dict, "governance_embargo_subscribe")
    gate = access.gate_for(context, pkg.id)
    assert gate is not None
    if not gate.decision.embargoed:
        raise tk.ValidationError({"id": [tk._("This dataset is not under embargo")]})
    viewer = access.viewer_for(context)
    if viewer.user_id is None:
        raise tk.NotAuthorized(tk._("Log in to be told when the data opens"))
    from .. import embargo

    embargo.subscribe(pkg.id, viewer.user_id)
    return {"subscribed": True, "embargo_until": gate.block()["embargo_until"]}


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
    pkg = _dataset(context, data_dict, "governance_agreement_accept")
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
        events.record(
            events.AGREEMENT_ACCEPTED, actor_id=user_id, package_id=pkg.id,
            organization_id=agreement.owner_org,
            detail={"agreement": agreement.name, "version": version.number,
                    "sha256": record.text_sha256, "channel": channel},
        )
    model.Session.commit()
    return {"agreement": agreement.name, "version": version.number, "sha256": record.text_sha256,
            "created": events.iso(record.created), "new": new}


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
    result, rows = _page(data_dict, query)
    result["results"] = agreements.acceptance_dicts(rows.all(), access.utcnow())
    return result


def acceptance_filters(data_dict: DataDict) -> dict[str, Any]:
    """Validated filters of the acceptance list (also the CSV export's):
    names resolved to ids; an unknown one is a ValidationError on its field."""
    filters: dict[str, Any] = {k: data_dict.get(k) for k in ("version", "since", "until")}
    filters.update(_resolve(data_dict, {"organization": "organization_id",
                                        "agreement": "agreement_id",
                                        "dataset": "package_id", "user": "user_id"}))
    _check_period(filters)
    return filters


PAGE_MAX = 1000


def _page(data_dict: DataDict, query: sa.Select[Any], counting: sa.Select[Any] | None = None
          ) -> tuple[dict[str, Any], Any]:
    """One page of a list action's (validated) ``page``/``limit``: the
    ``{"count", "page", "limit"}`` of the answer, and the page's rows.
    ``counting`` counts the matches when a cheaper query than the page's can."""
    limit = min(int(data_dict.get("limit", 100)), PAGE_MAX)
    page = int(data_dict.get("page", 1))
    if counting is None:
        counting = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    count = model.Session.execute(counting).scalar_one()
    rows = model.Session.execute(query.limit(limit).offset((page - 1) * limit))
    return {"count": count, "page": page, "limit": limit}, rows


@tk.side_effect_free
@tk.validate(schema.event_list)
def governance_event_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Governance events (the ledger), oldest first, a page at a time.

    Sysadmins see every event, organisation admins their organisations'
    events, every other user the events they caused.

    :param organization: id or name of an organisation (optional)
    :param dataset: id or name of a dataset (optional)
    :param user: id or name of the user who caused the events (optional)
    :param kind: one kind of event, e.g. ``tier_changed`` or ``download`` (optional)
    :param since: ISO 8601 date or date-time, inclusive (optional; a date is 00:00 UTC)
    :param until: ISO 8601 date or date-time, exclusive (optional)
    :param page: page number, from 1 (optional, default 1)
    :param limit: events per page (optional, default 100, at most 1000)

    :returns: ``{"count", "page", "limit", "results": [{"id", "created", "kind",
        "actor_id", "package_id", "organization_id", "detail"}]}``
    :rtype: dictionary
    """
    tk.check_access("governance_event_list", context, data_dict)
    user = model.User.get(access.viewer_for(context).user_id or "")
    filters = _event_filters(data_dict)
    result, rows = _page(data_dict, events.select_events(user, filters))
    result["results"] = [events.as_dict(e) for e in rows.scalars()]
    _hide_prescreen_flags(user, result["results"])
    return result


def _hide_prescreen_flags(user: model.User | None, shown: list[dict[str, Any]]) -> None:
    """A request's events carry its pre-screen flags, the reviewers' aid: a
    requester reading the events they caused does not get them."""
    if user is None or user.sysadmin:
        return
    flagged = [e for e in shown if "flags" in (e["detail"] or {})]
    if not flagged:
        return
    reviewed = set(model.Session.execute(requests.reviewer_org_ids(user)).scalars())
    for event in flagged:
        if event["organization_id"] not in reviewed:
            event["detail"] = {k: v for k, v in event["detail"].items() if k != "flags"}


def _event_filters(data_dict: DataDict) -> dict[str, Any]:
    """Names resolved to ids; an unknown one is a ValidationError on its field."""
    filters: dict[str, Any] = {k: data_dict.get(k) for k in ("kind", "since", "until")}
    filters.update(_resolve(data_dict, {"organization": "organization_id",
                                        "dataset": "package_id", "user": "actor_id"}))
    _check_period(filters)
    return filters


_LOOKUPS: dict[str, Any] = {
    "organization": lambda ref: model.Group.get(ref),
    "dataset": lambda ref: model.Package.get(ref),
    "user": lambda ref: model.User.get(ref),
    "agreement": lambda ref: agreements.get(ref),
}


def _resolve(data_dict: DataDict, keys: dict[str, str]) -> dict[str, str]:
    """``{field: filter key}`` → ``{filter key: id}`` for the fields given, each
    an id or name; an unknown one is a ValidationError on its field."""
    found: dict[str, str] = {}
    for field, key in keys.items():
        ref = data_dict.get(field)
        if ref:
            obj = _LOOKUPS[field](ref)
            if obj is None:
                raise tk.ValidationError({field: [tk._("Not found: {}").format(ref)]})
            found[key] = obj.id
    return found


def _check_period(filters: dict[str, Any]) -> None:
    if filters.get("since") and filters.get("until") and filters["since"] >= filters["until"]:
        raise tk.ValidationError({"until": [tk._("Must be later than since")]})


# Access requests and grants ---------------------------------------------------

REQUEST_FIELDS = requests.FIELDS


def _caller(context: Context) -> model.User:
    user = model.User.get(access.viewer_for(context).user_id or "")
    if user is None:
        raise tk.NotAuthorized(tk._("Log in first"))
    return user


def _request(data_dict: DataDict) -> Any:
    from ..model import AccessRequest

    ref = tk.get_or_bust(data_dict, "id")
    req = model.Session.get(AccessRequest, ref) if isinstance(ref, str) else None
    if req is None:
        raise tk.ObjectNotFound(tk._("Access request not found"))
    return req


def _shown_request(req: Any, viewer: model.User, with_history: bool = False) -> dict[str, Any]:
    """The request as ``viewer`` may see it: the pre-screen flags are the
    reviewers' aid, never shown to anyone else (the requester included)."""
    pkg = model.Package.get(req.package_id)
    user = model.Session.get(model.User, req.user_id)
    result = requests.request_dict(req, pkg.name if pkg else None, pkg.title if pkg else None,
                                   user.name if user else None)
    if not requests.is_reviewer(viewer, req.organization_id):
        result["prescreen"] = []
    if with_history:
        result["history"] = requests.history(req)
        result["data_use"] = duo.describe(_data_use(req.package_id))
    return result


def _data_use(package_id: str) -> list[str] | None:
    row = model.Session.get(DatasetPolicy, package_id)
    return row.data_use if row is not None else None


@tk.validate(schema.request_fields)
def governance_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask for access to the data of a ``controlled`` dataset.

    One open (pending or returned) request per user and dataset. A user who
    holds a grant asks for its renewal this way: if approved before the grant
    ends, the new grant carries on from its end.

    :param id: id or name of the dataset
    :param intended_use: what the data will be used for (required; at least
        ``ckanext.governance.request.min_use_length`` characters)
    :param institution: the requester's institution (optional)
    :param project_title: the project the data is for (optional)
    :param ethics_reference: ethics (IRB/ERB) approval reference (required when
        the dataset's ``data_use`` has ``IRB``)
    :param commercial: whether the use is commercial (required; must be false
        when ``data_use`` has ``NCU``, ``NPU`` or ``NPUNCU``)
    :param duration_days: how long access is needed, in days (optional)
    :returns: the request, as ``governance_request_show`` returns it
    """
    pkg = _dataset(context, data_dict, "governance_request_create")
    user = _caller(context)
    req = requests.create(user, pkg, {k: data_dict.get(k) for k in REQUEST_FIELDS})
    model.Session.commit()
    return _shown_request(req, user, with_history=True)


@tk.validate(schema.request_fields)
def governance_request_update(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Edit a returned request and submit it again (it becomes pending).

    :param id: the request id
    :param intended_use, institution, project_title, ethics_reference,
        commercial, duration_days: as for ``governance_request_create``;
        fields left out keep their values
    """
    req = _request(data_dict)
    tk.check_access("governance_request_update", context, {"id": req.id})
    req = requests.lock([req.id])[req.id]  # a decision at the same moment waits, or wins
    user = _caller(context)
    requests.resubmit(user, req, {k: data_dict[k] for k in REQUEST_FIELDS if k in data_dict})
    model.Session.commit()
    return _shown_request(req, user, with_history=True)


@tk.side_effect_free
@tk.validate(schema.id_only)
def governance_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An access request with its history (its requester, the dataset
    organisation's reviewers and sysadmins).

    :param id: the request id
    :returns: the request: ``id``, ``state``, ``dataset``, ``user_name``,
        the requester's fields, ``prescreen`` (flags for reviewers),
        ``message`` (of the last decision), ``history`` and the dataset's
        ``data_use`` with labels
    """
    req = _request(data_dict)
    tk.check_access("governance_request_show", context, {"id": req.id})
    return _shown_request(req, _caller(context), with_history=True)


@tk.side_effect_free
@tk.validate(schema.request_list)
def governance_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Access requests, oldest first: a requester's own, the review queue of
    the organisations the caller reviews, everything for sysadmins.

    :param state: pending, approved, rejected, returned or withdrawn (optional)
    :param organization: id or name of the reviewing organisation (optional)
    :param dataset: id or name of a dataset (optional)
    :param user: id or name of the requester (optional)
    :param older_than_days: only requests made at least this many days ago (optional)
    :param sort: ``oldest`` (default) or ``newest`` first (optional)
    :param page: from 1 (optional); :param limit: at most 1000 (optional, default 100)
    :returns: ``{"count", "page", "limit", "results": [request, ...]}``; the
        pre-screen flags only on requests the caller reviews
    """
    tk.check_access("governance_request_list", context, data_dict)
    user = _caller(context)
    filters = _named_filters(data_dict)
    filters["state"] = data_dict.get("state")
    filters["older_than_days"] = data_dict.get("older_than_days")
    query, counting = requests.select_requests(user, filters, newest=data_dict.get("sort") == "newest")
    result, rows = _page(data_dict, query, counting)
    reviewed = (None if user.sysadmin
                else set(model.Session.execute(requests.reviewer_org_ids(user)).scalars()))
    result["results"] = []
    for row in rows.all():
        shown = requests.request_dict(*row)
        if reviewed is not None and shown["organization_id"] not in reviewed:
            shown["prescreen"] = []  # the reviewers' aid, not the requester's
        result["results"].append(shown)
    return result


def _named_filters(data_dict: DataDict) -> dict[str, Any]:
    return _resolve(data_dict, {"organization": "organization_id",
                                "dataset": "package_id", "user": "user_id"})


@tk.validate(schema.request_withdraw)
def governance_request_withdraw(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Withdraw one's own pending or returned request.

    :param id: the request id
    :param message: why (optional)
    """
    req = _request(data_dict)
    tk.check_access("governance_request_withdraw", context, {"id": req.id})
    message = data_dict.get("message")
    req = requests.lock([req.id])[req.id]  # a decision at the same moment waits, or wins
    user = _caller(context)
    requests.withdraw(user, req, (message or "").strip() or None)
    model.Session.commit()
    return _shown_request(req, user, with_history=True)


@tk.validate(schema.request_decide)
def governance_request_decide(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve, reject or return (for more information) pending requests, all
    or none: the dataset organisation's reviewers and sysadmins, never on
    their own request. Approval creates a grant.

    :param id: a request id, or
    :param ids: a list of request ids (a bulk decision)
    :param decision: approve, reject or return
    :param message: to the requester (required to reject or return)
    :returns: ``{"results": [request, ...]}``, each approved one with its ``grant``
    """
    ids = data_dict.get("ids") or ([data_dict["id"]] if data_dict.get("id") else None)
    if not ids:
        raise tk.ValidationError({"id": [tk._("Missing value")]})
    decision = data_dict["decision"]
    message = (data_dict.get("message") or "").strip() or None
    if decision in ("reject", "return") and not message:
        raise tk.ValidationError({"message": [tk._("Tell the requester why")]})
    found = requests.lock(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        model.Session.rollback()
        raise tk.ObjectNotFound(tk._("Access request not found: {}").format(", ".join(missing)))
    try:
        tk.check_access("governance_request_decide", context, {"ids": ids})
        done = requests.decide(_caller(context), [found[i] for i in ids], decision, message)
    except Exception:
        model.Session.rollback()
        raise
    model.Session.commit()
    now = access.utcnow()
    results = []
    actor = _caller(context)
    for req, grant in done:
        shown = _shown_request(req, actor)
        shown["grant"] = (requests.grant_dict(grant, shown["dataset"], shown["dataset_title"],
                                              shown["user_name"], now) if grant else None)
        results.append(shown)
    return {"results": results}


@tk.side_effect_free
@tk.validate(schema.grant_list)
def governance_grant_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Grants, newest first: a user's own, those of the organisations the caller
    reviews, everything for sysadmins.

    :param state: active, expired or revoked (optional)
    :param organization: id or name (optional); :param dataset: id or name (optional)
    :param user: id or name of the grant holder (optional)
    :param page: from 1 (optional); :param limit: at most 1000 (optional, default 100)
    :returns: ``{"count", "page", "limit", "results": [{"id", "state", "dataset",
        "user_name", "starts", "expires", "revoked_at", "revoke_reason", ...}]}``
    """
    tk.check_access("governance_grant_list", context, data_dict)
    user = _caller(context)
    filters = _named_filters(data_dict)
    filters["state"] = data_dict.get("state")
    now = access.utcnow()
    result, rows = _page(data_dict, requests.select_grants(user, filters, now))
    result["results"] = [requests.grant_dict(*row, now) for row in rows.all()]
    return result


@tk.validate(schema.grant_revoke)
def governance_grant_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke a grant at once (the dataset organisation's reviewers, sysadmins).

    :param id: the grant id
    :param reason: told to the holder and kept in the ledger (required)
    """
    from ..model import Grant

    ref = tk.get_or_bust(data_dict, "id")
    grant = model.Session.get(Grant, ref) if isinstance(ref, str) else None
    if grant is None:
        raise tk.ObjectNotFound(tk._("Grant not found"))
    tk.check_access("governance_grant_revoke", context, {"id": grant.id})
    reason = data_dict.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise tk.ValidationError({"reason": [tk._("Give the reason for revoking")]})
    requests.revoke(_caller(context), grant, reason.strip())
    model.Session.commit()
    pkg = model.Package.get(grant.package_id)
    user = model.Session.get(model.User, grant.user_id)
    return requests.grant_dict(grant, pkg.name if pkg else None, pkg.title if pkg else None,
                               user.name if user else None, access.utcnow())


# Publication check ----------------------------------------------------------------


@tk.side_effect_free
@tk.validate(schema.publication_check)
def governance_publication_check(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What publishing a change would expose, and what stays behind (a dry run).

    For the dataset's publishers (who may update it). With no proposed change,
    it checks publishing the dataset as it is, as if it were new.

    :param id: id or name of the dataset
    :param private: proposed value (optional)
    :param access_tier: proposed tier (optional)
    :param embargo_until: proposed embargo end, or empty to remove it (optional)
    :returns: ``{"warnings": [{"code", "severity", "message", "item": {"type",
        "id", "title", "url"}}], "more_reachable": bool}``; codes:
        ``linked_dataset_private``, ``linked_dataset_more_restricted``,
        ``linked_dataset_embargoed``, ``linked_from_public``,
        ``agreement_missing``, ``license_missing``, ``description_missing``,
        ``personal_data_suspected``, ``irreversible``
    """
    pkg = _dataset(context, data_dict, "governance_publication_check")
    proposal = {k: data_dict[k] for k in ("access_tier", "embargo_until") if k in data_dict}
    inner: dict[str, Any] = {}
    _take_fields(inner, proposal)  # type: ignore[arg-type]
    fields = inner[PENDING]
    data = tk.get_action("package_show")(dict(context), {"id": pkg.id})
    changes = bool(fields)
    if "private" in data_dict:
        data["private"] = data_dict["private"]  # the schema's boolean
        changes = True
    before = publication.current_state(pkg)
    if not changes:
        before, data["private"] = None, False
    if "embargo_until" in fields or "access_tier" in fields:
        datasets.check_terms(fields, model.Session.get(DatasetPolicy, pkg.id), pkg.owner_org)
    after = publication.proposed_state(before, data, fields)
    return publication.check(access.viewer_for(context).user_id, pkg.id, data, before, after)


# Activity stream (registered only when ckanext-activity is loaded) ------------


def activity_actions() -> dict[str, Action]:
    """Chains over ckanext-activity's actions: stored snapshots hold full
    URLs, so every way of reading them is redacted for the caller."""
    return {
        name: _chain_activity_list(name) for name in (
            "package_activity_list", "dashboard_activity_list",
            "user_activity_list", "group_activity_list",
            "organization_activity_list", "recently_changed_packages_activity_list",
        )
    } | {
        "activity_show": activity_show,
        "activity_data_show": activity_data_show,
        "activity_diff": activity_diff,
    }


def get_actions() -> dict[str, Action]:
    """What the plugin registers: ``__all__``, plus the activity chains when
    ckanext-activity is loaded (chaining an absent action is an error)."""
    import ckan.plugins as p

    from . import followees

    actions = {name: globals()[name] for name in __all__} | followees.get_actions()
    if p.plugin_loaded("activity"):
        actions.update(activity_actions())
    return actions


def _chain_activity_list(name: str) -> Action:
    @tk.side_effect_free
    @tk.chained_action
    def chained(up: Action, context: Context, data_dict: DataDict):
        result = up(context, data_dict)
        _redact_activities(context, result)
        return result

    chained.__name__ = name
    return chained


@tk.side_effect_free
@tk.chained_action
def activity_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    _redact_activities(context, [result])
    return result


@tk.side_effect_free
@tk.chained_action
def activity_data_show(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    from ckanext.activity.model import Activity

    activity = model.Session.get(Activity, data_dict.get("id"))
    if activity is None:
        return result
    gate = access.gates(context, [activity.object_id]).get(activity.object_id)
    if gate is not None and gate.can_access:
        return result
    object_type = data_dict.get("object_type")
    if object_type == "package":
        _redact_snapshot(result)
    elif not object_type and isinstance(result.get("package"), dict):
        _redact_snapshot(result["package"])
    return result


@tk.side_effect_free
@tk.chained_action
def activity_diff(up: Action, context: Context, data_dict: DataDict):
    result = up(context, data_dict)
    activities = result.get("activities") or []
    object_ids = {a.get("object_id") for a in activities}
    gates = access.gates(context, object_ids)
    if all(gates.get(i) is not None and gates[i].can_access for i in object_ids):
        return result
    # The diff was computed from the stored snapshots: compute it again from
    # redacted copies, in the format that was asked for.
    _redact_activities(context, activities, gates)
    object_type = data_dict.get("object_type")
    objs = [(a.get("data") or {}).get(object_type) or {} for a in activities]
    lines = [json.dumps(o, indent=2, sort_keys=True).split("\n") for o in objs]
    kind = data_dict.get("diff_type", "unified")
    if kind == "html":
        result["diff"] = difflib.HtmlDiff().make_table(*lines)
    elif kind == "context":
        result["diff"] = "\n".join(difflib.context_diff(*lines))
    else:
        result["diff"] = "\n".join(difflib.unified_diff(*lines))
    return result


def _redact_activities(context: Context, activities: list[Any], gates=None) -> None:
    dicts = [a for a in activities if isinstance(a, dict)]
    if gates is None:
        gates = access.gates(context, {a.get("object_id") for a in dicts})
    for activity in dicts:
        data = activity.get("data")
        if not isinstance(data, dict):
            continue
        gate = gates.get(activity.get("object_id"))
        if gate is not None and gate.can_access:
            continue
        if gate is None and not isinstance(data.get("package"), dict):
            continue  # not about a dataset (a user, group or organisation)
        # A snapshot of a dataset the caller may not have the data of, or of
        # one that no longer exists (closed to all but sysadmins, whose gate
        # exists only for existing datasets): keep what it describes, drop
        # anything that can say where the data is.
        _redact_activity_data(data)


def _redact_activity_data(data: dict[str, Any]) -> None:
    for key in list(data):
        value = data[key]
        if key == "package" and isinstance(value, dict):
            _redact_snapshot(value)
        elif key == "resource" and isinstance(value, dict):
            access.redact_resource(value)
        elif key == "resource_view" and isinstance(value, dict):
            _redact_view(value)
        elif key != "actor":
            del data[key]


def _redact_snapshot(pkg_dict: dict[str, Any]) -> None:
    for resource in pkg_dict.get("resources") or []:
        if isinstance(resource, dict):
            access.redact_resource(resource)


# Helpers ----------------------------------------------------------------------


def _resource_gates(context: Context, resource_ids) -> dict[str, access.Gate]:
    """Gate per resource id, via its dataset (one query for all of them)."""
    ids = [i for i in resource_ids if i]
    if not ids:
        return {}
    rows = (
        model.Session.query(model.Resource.id, model.Resource.package_id)
        .filter(model.Resource.id.in_(ids))
        .all()
    )
    pkg_gates = access.gates(context, [p for _r, p in rows])
    return {r: pkg_gates[p] for r, p in rows if p in pkg_gates}


def _redact_views(context: Context, views: list[Any]) -> None:
    dicts = [v for v in views if isinstance(v, dict)]
    gates = _resource_gates(context, [v.get("resource_id") for v in dicts])
    for view in dicts:
        gate = gates.get(view.get("resource_id"))
        if gate is None or not gate.can_access:
            _redact_view(view)


def _redact_view(view: dict[str, Any]) -> None:
    """Keep what a view is; its config (and flattened config keys) can hold URLs."""
    for key in list(view):
        if key not in access.VISIBLE_VIEW_FIELDS:
            del view[key]

