"""Auth functions: ours, and CKAN's DataStore ones chained to the access decision."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan import authz
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from .. import access, capacities
from ..model import AccessRequest, Grant

__all__ = [
    "governance_access_show",
    "governance_acceptance_list",
    "governance_agreement_accept",
    "governance_agreement_create",
    "governance_agreement_list",
    "governance_agreement_show",
    "governance_agreement_update",
    "governance_embargo_subscribe",
    "governance_event_list",
    "governance_grant_list",
    "governance_grant_revoke",
    "governance_publication_check",
    "governance_request_create",
    "governance_request_decide",
    "governance_request_list",
    "governance_request_show",
    "governance_request_update",
    "governance_request_withdraw",
]


def _org_editor(context: Context, data_dict: DataDict) -> AuthResult:
    """Editors and admins of the owning organisation (and sysadmins) manage its agreements."""
    allowed = authz.has_user_permission_for_group_or_org(
        data_dict.get("owner_org"), context.get("user"), "create_dataset")
    return {"success": bool(allowed), "msg": tk._("Only the organisation's editors and admins manage its agreements")}


governance_agreement_create = _org_editor
governance_agreement_update = _org_editor


@tk.auth_allow_anonymous_access
def governance_agreement_show(context: Context, data_dict: DataDict) -> AuthResult:
    """Agreements are public texts: anyone may read every version."""
    return {"success": True}


governance_agreement_list = governance_agreement_show


def governance_agreement_accept(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users who may see the dataset."""
    if not context.get("user"):
        return {"success": False, "msg": tk._("Log in to accept an agreement")}
    return {"success": tk.check_access("package_show", context, data_dict)}


@tk.auth_allow_anonymous_access
def governance_access_show(context: Context, data_dict: DataDict) -> AuthResult:
    """Anyone who may see a dataset's metadata may ask what access they have."""
    return {"success": tk.check_access("package_show", context, data_dict)}


def governance_embargo_subscribe(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users who may see the dataset."""
    if not context.get("user"):
        return {"success": False, "msg": tk._("Log in to be told when the data opens")}
    return {"success": tk.check_access("package_show", context, data_dict)}


def governance_event_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Any logged-in user: the action itself limits what each one sees."""
    return {"success": bool(context.get("user"))}


governance_acceptance_list = governance_event_list


def _user(context: Context) -> model.User | None:
    return model.User.get(access.viewer_for(context).user_id or "")


def governance_request_create(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users who may see the dataset."""
    if not context.get("user"):
        return {"success": False, "msg": tk._("Log in to request access")}
    return {"success": tk.check_access("package_show", context, data_dict)}


def _own_request(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester only."""
    user = _user(context)
    req = model.Session.get(AccessRequest, str(data_dict.get("id") or ""))
    if user is None or req is None or req.user_id != user.id:
        return {"success": False, "msg": tk._("Only the requester may change a request")}
    return {"success": True}


governance_request_update = _own_request
governance_request_withdraw = _own_request


def governance_request_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester, the dataset organisation's reviewers, sysadmins."""
    user = _user(context)
    req = model.Session.get(AccessRequest, str(data_dict.get("id") or ""))
    allowed = user is not None and req is not None and (
        req.user_id == user.id or capacities.is_reviewer(user, req.organization_id))
    return {"success": allowed, "msg": tk._("Not your request, nor one you review")}


def governance_request_decide(context: Context, data_dict: DataDict) -> AuthResult:
    """Reviewers of every named request's organisation, never on their own request."""
    user = _user(context)
    ids = data_dict.get("ids") or [data_dict.get("id")]
    if user is None or not isinstance(ids, list):
        return {"success": False, "msg": tk._("Log in to review requests")}
    for ref in ids:
        req = model.Session.get(AccessRequest, str(ref or ""))
        if req is None or not capacities.is_reviewer(user, req.organization_id):
            return {"success": False,
                    "msg": tk._("Only the dataset organisation's reviewers decide its requests")}
        if req.user_id == user.id:
            return {"success": False, "msg": tk._("Nobody decides their own request")}
    return {"success": True}


def governance_grant_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    user = _user(context)
    grant = model.Session.get(Grant, str(data_dict.get("id") or ""))
    allowed = grant is not None and capacities.is_reviewer(user, grant.organization_id)
    return {"success": allowed,
            "msg": tk._("Only the dataset organisation's reviewers revoke its grants")}


def governance_publication_check(context: Context, data_dict: DataDict) -> AuthResult:
    """The dataset's publishers: those who may update it."""
    return {"success": tk.check_access("package_update", context, data_dict)}


governance_request_list = governance_event_list
governance_grant_list = governance_event_list


def _resource_allowed(context: Context, resource_id: Any) -> bool:
    resource = model.Resource.get(str(resource_id or ""))
    if resource is None:
        return False
    gate = access.gate_for(context, resource.package_id)
    return gate is not None and gate.can_access


_DENIED: AuthResult = {"success": False, "msg": "The data of this dataset is not available to you."}


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_resource_data(up: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    """Chained over datastore_search and datastore_info (and so /datastore/dump)."""
    result = up(context, data_dict)
    if not result.get("success"):
        return result
    rid = data_dict.get("resource_id") or data_dict.get("id")
    # Aliases resolve to a resource id in the action; unknown names deny.
    return result if _resource_allowed(context, rid) else _DENIED


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(up: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    # The DataStore passes the table names as a generator: read it once, for both.
    names = list(context.get("table_names") or [])
    context["table_names"] = names
    result = up(context, data_dict)
    if not result.get("success"):
        return result
    for name in names:
        if not _resource_allowed(context, name):
            return _DENIED
    return result


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def harvest_object_show(up: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    """ckanext-harvest shows anyone a harvest object, whose content is the dataset as
    its origin gave it, resource URLs and all. The object of a dataset here is shown
    to those who may have that dataset's data; an object that made no dataset, to
    those who may update its harvest source (who run and read its jobs)."""
    result = up(context, data_dict)
    if not result.get("success"):
        return result
    # ckanext-harvest is an optional plugin: this chain is registered only when it is loaded.
    from ckanext.harvest.model import HarvestObject

    # The action reads ``id`` first, and ``attr`` changes what ``id`` matches: a call
    # the gate cannot resolve the same way is refused.
    if data_dict.get("attr") or (data_dict.get("id") and data_dict.get("dataset_id")):
        return _DENIED
    if data_dict.get("dataset_id"):
        pkg = model.Package.get(str(data_dict["dataset_id"]))
        package_id, source_id = (pkg.id if pkg else None), None
    else:
        obj = HarvestObject.get(str(data_dict.get("id") or ""))
        if obj is None:
            return result  # the action answers NotFound
        package_id, source_id = obj.package_id, obj.harvest_source_id
    if package_id:
        gate = access.gate_for(context, package_id)
        if gate is None or not gate.can_access:
            return _DENIED
        try:  # private and deleted datasets: CKAN's own rule
            tk.check_access("package_show", dict(context), {"id": package_id})
        except tk.NotAuthorized:
            return _DENIED
        return result
    if source_id:
        try:
            tk.check_access("harvest_source_update", dict(context), {"id": source_id})
        except tk.NotAuthorized:
            return _DENIED
        return result
    return result  # no such dataset: the action answers NotFound


def get_auth_functions() -> dict[str, AuthFunction]:
    """What the plugin registers: ``__all__``, plus the DataStore chains when
    the datastore plugin is loaded and the harvest object's when ckanext-harvest
    is (chaining an absent function is an error)."""
    functions: dict[str, AuthFunction] = {name: globals()[name] for name in __all__}
    if p.plugin_loaded("datastore"):
        functions.update({
            "datastore_search": datastore_resource_data,
            "datastore_info": datastore_resource_data,
            "datastore_search_sql": datastore_search_sql,
        })
    if p.plugin_loaded("harvest"):
        functions["harvest_object_show"] = harvest_object_show
    return functions
