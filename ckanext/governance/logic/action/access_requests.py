"""Access requests: file, edit, read, list, withdraw, decide."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, access_requests, capacities, duo, grants
from ...model import AccessRequest, DatasetPolicy
from .. import lookup, schema

__all__ = [
    "governance_request_create",
    "governance_request_update",
    "governance_request_show",
    "governance_request_list",
    "governance_request_withdraw",
    "governance_request_decide",
]


def _request(data_dict: DataDict) -> Any:
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
    result = access_requests.request_dict(req, pkg.name if pkg else None, pkg.title if pkg else None,
                                   user.name if user else None)
    if not capacities.is_reviewer(viewer, req.organization_id):
        result["prescreen"] = []
    if with_history:
        result["history"] = access_requests.history(req)
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
    pkg = lookup.dataset(context, data_dict, "governance_request_create")
    user = lookup.caller(context)
    req = access_requests.create(user, pkg, {k: data_dict.get(k) for k in access_requests.FIELDS})
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
    req = access_requests.lock([req.id])[req.id]  # a decision at the same moment waits, or wins
    user = lookup.caller(context)
    access_requests.resubmit(user, req, {k: data_dict[k] for k in access_requests.FIELDS if k in data_dict})
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
    return _shown_request(req, lookup.caller(context), with_history=True)


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
    user = lookup.caller(context)
    filters = lookup.named_filters(data_dict)
    filters["state"] = data_dict.get("state")
    filters["older_than_days"] = data_dict.get("older_than_days")
    query, counting = access_requests.select_requests(user, filters, newest=data_dict.get("sort") == "newest")
    result, rows = lookup.page(data_dict, query, counting)
    reviewed = (None if user.sysadmin
                else set(model.Session.execute(capacities.reviewer_org_ids(user)).scalars()))
    result["results"] = []
    for row in rows.all():
        shown = access_requests.request_dict(*row)
        if reviewed is not None and shown["organization_id"] not in reviewed:
            shown["prescreen"] = []  # the reviewers' aid, not the requester's
        result["results"].append(shown)
    return result


@tk.validate(schema.request_withdraw)
def governance_request_withdraw(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Withdraw one's own pending or returned request.

    :param id: the request id
    :param message: why (optional)
    """
    req = _request(data_dict)
    tk.check_access("governance_request_withdraw", context, {"id": req.id})
    message = data_dict.get("message")
    req = access_requests.lock([req.id])[req.id]  # a decision at the same moment waits, or wins
    user = lookup.caller(context)
    access_requests.withdraw(user, req, (message or "").strip() or None)
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
    found = access_requests.lock(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        model.Session.rollback()
        raise tk.ObjectNotFound(tk._("Access request not found: {}").format(", ".join(missing)))
    try:
        tk.check_access("governance_request_decide", context, {"ids": ids})
        done = access_requests.decide(lookup.caller(context), [found[i] for i in ids], decision, message)
    except Exception:
        model.Session.rollback()
        raise
    model.Session.commit()
    now = access.utcnow()
    results = []
    actor = lookup.caller(context)
    for req, grant in done:
        shown = _shown_request(req, actor)
        shown["grant"] = (grants.grant_dict(grant, shown["dataset"], shown["dataset_title"],
                                              shown["user_name"], now) if grant else None)
        results.append(shown)
    return {"results": results}
