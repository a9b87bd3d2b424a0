"""The data gate in front of CKAN's download, view and DataTables routes."""
from __future__ import annotations

from typing import Any

import flask
from flask import Blueprint, Response

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import access, config, ledger

__all__ = ["governance"]

governance = Blueprint("governance", __name__)


def refuse_nul_in_path() -> Any:
    """No id or name holds a NUL character (PostgreSQL refuses it in text):
    such a URL names nothing, instead of failing in the database."""
    if any("\x00" in str(v) for v in (tk.request.view_args or {}).values()):
        return tk.abort(404)
    return None


# Endpoints that hand out a resource's data (not just its description). The
# blueprint is ``resource``, ``dataset_resource`` or ``<type>_resource``, so
# every dataset type is covered.
DATA_ENDPOINTS = ("download", "view")


@governance.before_app_request
def gate_resource_data() -> Any:
    endpoint = tk.request.endpoint or ""
    blueprint, _, name = endpoint.rpartition(".")
    if not (blueprint.endswith("resource") and name in DATA_ENDPOINTS):
        return None
    # The route decides this dataset again in CKAN's resource_show and
    # package_show: one decision serves the request.
    access.remember_decisions()
    resource_id = (tk.request.view_args or {}).get("resource_id") or ""
    resource = model.Resource.get(resource_id) if "\x00" not in resource_id else None
    if resource is None:
        return None  # CKAN answers 404 itself
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    gate = access.gate_for(context, resource.package_id)
    if gate is None:
        return None  # no such dataset: CKAN answers 404 itself
    if gate.can_access:
        if name == "download":
            viewer_id = access.viewer_for(context).user_id
            resource_name = resource.name

            @flask.after_this_request
            def log(response: Response) -> Response:
                # Once CKAN answered (and only if it handed the data out), so
                # the commit does not expire what its view still reads.
                if response.status_code < 400:
                    _log_download(viewer_id, resource.id, resource_name, gate)
                return response
        return None
    pkg = resource.package
    try:
        pkg_dict = tk.get_action("package_show")(context, {"id": pkg.id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Resource not found"))
    body = tk.render(
        "governance/denied.html",
        {"pkg_dict": pkg_dict, "governance": gate.block(), "resource_id": resource.id},
    )
    return body, 403


# The table view's POST routes read a resource's rows by view id. CKAN's
# filtered download does not catch datastore_search's refusal (a 500).
TABLE_ENDPOINTS = ("datatablesview.ajax", "datatablesview.filtered_download")


@governance.before_app_request
def gate_table_view_data() -> Any:
    if tk.request.endpoint not in TABLE_ENDPOINTS:
        return None
    view_id = (tk.request.view_args or {}).get("resource_view_id") or ""
    view = model.ResourceView.get(view_id) if "\x00" not in view_id else None
    resource = model.Resource.get(view.resource_id) if view is not None else None
    if resource is None:
        return None  # CKAN answers 404 itself
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    gate = access.gate_for(context, resource.package_id)
    if gate is not None and gate.can_access:
        return None
    return tk.abort(403, tk._("The data of this dataset is not available to you."))


def _log_download(viewer_id: str | None, resource_id: str, resource_name: str | None,
                  gate: access.Gate) -> None:
    """A download of gated data is a governance fact: record who took what."""
    if not config.log_downloads() or not access.indexed_without_urls(gate.policy):
        return
    ledger.record(
        ledger.DOWNLOAD,
        actor_id=viewer_id,
        package_id=gate.package_id,
        organization_id=gate.owner_org,
        detail={"resource_id": resource_id, "resource_name": resource_name,
                "tier": gate.tier, "reason": gate.decision.reason},
    )
    model.Session.commit()
