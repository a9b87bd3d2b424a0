"""Actions that write a dataset's terms: CKAN's create, update and patch,
chained so that ``access_tier``, ``embargo_until``, ``embargo_reason``,
``agreement``, ``data_use`` and ``grant_days`` are validated before CKAN
writes and stored in the transaction that saves the dataset, with the
publication warnings of the change.
"""
from __future__ import annotations

import contextvars
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ... import (
    access,
    access_requests,
    config,
    core_compat,
    harvest,
    ledger,
    publication,
    redaction,
    terms,
)
from ...model import DatasetPolicy
from .. import schema

__all__ = [
    "package_create",
    "package_update",
    "package_patch",
    "bulk_update_public",
    "bulk_update_private",
    "package_owner_org_update",
]


# Where the fields a caller sent to package_create wait for
# IPackageController.after_dataset_create, which stores them in the
# transaction that saves the dataset (package_update stores them itself).
PENDING = "governance_pending_fields"


# Computed for each caller: never stored, ignored on input.
READ_ONLY = ("governance", "governance_warnings")


# "I have read the publication warnings": in the context once taken from the call.
CONFIRM = schema.CONFIRM
# The fields of a dataset's terms, as a caller sends them.
TERM_FIELDS = terms.TERM_FIELDS




# Set while CKAN's organisation bulk "make public/private" runs: its form
# cannot ask for confirmation, so its changes are warned of (and recorded).
_BULK = contextvars.ContextVar("governance_bulk", default=False)


def take_fields(context: Context, data_dict: DataDict) -> None:
    """Move our fields out of ``data_dict`` into the context, validated by
    ``schema.dataset_terms`` first: a bad value raises before CKAN writes anything."""
    for key in READ_ONLY:
        data_dict.pop(key, None)
    given = {key: data_dict.pop(key) for key in TERM_FIELDS + (CONFIRM,) if key in data_dict}
    fields, errors = tk.navl_validate(given, schema.dataset_terms(), dict(context))
    if errors:
        raise tk.ValidationError(errors)
    confirmed = bool(fields.pop(CONFIRM, False))
    # Always reset: an outer call's fields must not leak into a nested one.
    context[PENDING] = fields
    context[CONFIRM] = confirmed


def _present(context: Context, pkg_dict: dict[str, Any]) -> dict[str, Any]:
    return redaction.present_packages(context, [pkg_dict])[0]


@tk.chained_action
def package_create(up: Action, context: Context, data_dict: DataDict):
    """Create a dataset; accepts ``access_tier`` (open, registered, agreement,
    controlled; default from ``ckanext.governance.default_tier``),
    ``embargo_until`` (ISO 8601 date or date-time, UTC; a date is 00:00 UTC)
    and ``embargo_reason``."""
    take_fields(context, data_dict)
    owner = model.Group.get(data_dict.get("owner_org") or "")
    fields = context[PENDING]
    terms.check_terms(fields, None, owner.id if owner else None,
                      harvested=harvest.is_import(context, data_dict.get("id")))
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
    take_fields(context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or data_dict.get("name") or "")
    fields = context.pop(PENDING, {})
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
            terms.check_terms(fields, row, owner.id if owner else pkg.owner_org)
        outcome = _publication_check(context, pkg, data_dict, fields)
        if not core_compat.terms_change(fields, row):
            # Our keys, taken out of what was sent, must not make CKAN see a
            # change: an unchanged re-send is then neither written, reindexed
            # nor recorded as an activity, as without the extension.
            fields = {}
            context["original_package"] = core_compat.without_added_keys(
                _original_package(context, pkg))
        if fields:
            # CKAN only calls after_dataset_update when core fields changed, so a
            # tier-only update is written here, into the transaction CKAN commits
            # (and indexes) next. A refusal or a failure below rolls it back.
            actor = access.viewer_for(context).user_id
            terms.store_terms(pkg.id, fields, created=False, actor_id=actor)
    try:
        result = up(context, data_dict)
    except Exception:
        model.Session.rollback()
        raise
    if isinstance(result, dict):
        _present(context, result)
        if owner_before is not None and result.get("owner_org") not in (None, owner_before):
            access_requests.follow_owner(pkg.id, result["owner_org"])
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
        tk.fresh_context(context, ignore_auth=True), {"id": pkg.id})


def _publication_check(context: Context, pkg: model.Package | None, data_dict: DataDict,
                       fields: dict[str, Any]) -> dict[str, Any] | None:
    """The publication warnings of this create/update (None: none, or mode off).
    In ``confirm`` mode, warnings refuse the call unless it says ``governance_confirm``."""
    mode = config.publication_mode()
    if mode == "off" or data_dict.get("state") == "draft":
        return None  # a draft (the web form's first stage) is seen by nobody yet
    if (pkg.type if pkg is not None else data_dict.get("type")) == harvest.SOURCE_TYPE:
        return None  # a harvest source holds no data: it says where to harvest from
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
    # Nor can a harvest: its imports are warned of (and recorded), never refused.
    if mode == "confirm" and not outcome["confirmed"] and not finishing_draft and not _BULK.get() \
            and not harvest.is_import(context, pkg.id if pkg is not None else data_dict.get("id")):
        raise tk.ValidationError({CONFIRM: [
            f"{w['code']}: {w['message']}" for w in outcome["warnings"]]})
    return outcome


def _publication_done(context: Context, result: dict[str, Any], outcome: dict[str, Any] | None) -> None:
    """The warnings go back with the result and into the ledger (codes and the
    ids the publisher could see; never the texts)."""
    result["governance_warnings"] = outcome["warnings"] if outcome else []
    if not outcome:
        return
    ledger.record(
        ledger.PUBLICATION_CONFIRMED if outcome["confirmed"] else ledger.PUBLICATION_WARNED,
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
        take_fields(dict(context), dict(data_dict))
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
        access_requests.follow_owner(pkg.id, pkg.owner_org)
        if not context.get("defer_commit"):  # package_update calls it inside its own
            model.Session.commit()
    return result


def store_taken_fields(context: Context, pkg_dict: dict[str, Any]) -> None:
    """``after_dataset_create``: store the terms ``package_create`` took from
    the call (and checked before CKAN saved), in CKAN's transaction."""
    fields = context.pop(PENDING, None) or {}
    actor = access.viewer_for(context).user_id
    terms.store_terms(pkg_dict["id"], fields, created=True, actor_id=actor)
