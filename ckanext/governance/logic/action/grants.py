"""Grants: list and revoke."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, grants
from ...model import Grant
from .. import lookup, schema

__all__ = ["governance_grant_list", "governance_grant_revoke"]


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
    user = lookup.caller(context)
    filters = lookup.named_filters(data_dict)
    filters["state"] = data_dict.get("state")
    now = access.utcnow()
    result, rows = lookup.page(data_dict, grants.select_grants(user, filters, now))
    result["results"] = [grants.grant_dict(grant, dataset, title, user_name, now)
                         for grant, dataset, title, user_name in rows.all()]
    return result


@tk.validate(schema.grant_revoke)
def governance_grant_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke a grant at once (the dataset organisation's reviewers, sysadmins).

    :param id: the grant id
    :param reason: told to the holder and kept in the ledger (required)
    """
    ref = tk.get_or_bust(data_dict, "id")
    grant = model.Session.get(Grant, ref) if isinstance(ref, str) else None
    if grant is None:
        raise tk.ObjectNotFound(tk._("Grant not found"))
    tk.check_access("governance_grant_revoke", context, {"id": grant.id})
    reason = data_dict.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise tk.ValidationError({"reason": [tk._("Give the reason for revoking")]})
    grants.revoke(lookup.caller(context), grant, reason.strip())
    model.Session.commit()
    pkg = model.Package.get(grant.package_id)
    user = model.Session.get(model.User, grant.user_id)
    return grants.grant_dict(grant, pkg.name if pkg else None, pkg.title if pkg else None,
                               user.name if user else None, access.utcnow())
