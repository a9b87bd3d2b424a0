"""Web routes: the data gate in front of CKAN's download and view routes."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access

__all__ = ["governance"]

governance = Blueprint("governance", __name__)

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
    resource_id = (tk.request.view_args or {}).get("resource_id")
    resource = model.Resource.get(resource_id or "")
    if resource is None:
        return None  # CKAN answers 404 itself
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    gate = access.gate_for(context, resource.package_id)  # type: ignore[arg-type]
    if gate is None or gate.can_access:
        return None  # no such dataset: CKAN answers 404 itself
    pkg = resource.package
    try:
        pkg_dict = tk.get_action("package_show")(context, {"id": pkg.id})  # type: ignore[arg-type]
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Resource not found"))
    body = tk.render(
        "governance/denied.html",
        {"pkg_dict": pkg_dict, "governance": gate.block(), "resource_id": resource.id},
    )
    return body, 403
