"""Web routes: the data gate in front of CKAN's download and view routes."""
from __future__ import annotations

import datetime as dt
from typing import Any

import flask
from flask import Blueprint, Response, stream_with_context

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, clock, config, events, urls
from .agreement_views import governance_agreements
from .csrf import governance_csrf
from .history_views import governance_history
from .publication_views import governance_publication
from .request_views import governance_requests

__all__ = ["governance_csrf", "governance", "governance_agreements", "governance_history", "governance_publication",
           "governance_requests"]

governance = Blueprint("governance", __name__)


def _refuse_nul_in_path() -> Any:
    """No id or name holds a NUL character (PostgreSQL refuses it in text):
    such a URL names nothing, instead of failing in the database."""
    if any("\x00" in str(v) for v in (tk.request.view_args or {}).values()):
        return tk.abort(404)
    return None


for _blueprint in (governance, governance_agreements, governance_publication, governance_requests):
    _blueprint.before_request(_refuse_nul_in_path)

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
    gate = access.gate_for(context, resource.package_id)  # type: ignore[arg-type]
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
        pkg_dict = tk.get_action("package_show")(context, {"id": pkg.id})  # type: ignore[arg-type]
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
    gate = access.gate_for(context, resource.package_id)  # type: ignore[arg-type]
    if gate is not None and gate.can_access:
        return None
    return tk.abort(403, tk._("The data of this dataset is not available to you."))


def _log_download(viewer_id: str | None, resource_id: str, resource_name: str | None,
                  gate: access.Gate) -> None:
    """A download of gated data is a governance fact: record who took what."""
    if not config.log_downloads() or not access.indexed_without_urls(gate.policy):
        return
    events.record(
        events.DOWNLOAD,
        actor_id=viewer_id,
        package_id=gate.package_id,
        organization_id=gate.owner_org,
        detail={"resource_id": resource_id, "resource_name": resource_name,
                "tier": gate.tier, "reason": gate.decision.reason},
    )
    model.Session.commit()


@governance.route("/organization/<id>/governance/events.csv")
def organization_events_csv(id: str) -> Any:
    """The organisation's ledger as CSV, streamed (admins of it and sysadmins)."""
    org = model.Group.get(id)
    if org is None or not org.is_organization or org.state != "active":
        return tk.abort(404, tk._("Organization not found"))
    user = model.User.get(tk.current_user.name) if tk.current_user.is_authenticated else None
    if user is None or not (user.sysadmin or _is_admin(user, org)):
        return tk.abort(403, tk._("Only the organisation's admins may export its ledger"))
    try:
        filters = _csv_filters(org)
    except tk.ValidationError as err:
        return tk.abort(400, str(err.error_summary))
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        stream_with_context(events.stream_csv(user, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{org.name}-governance-events-{stamp}.csv"'},
    )


def _is_admin(user: model.User, org: model.Group) -> bool:
    return (
        model.Session.query(model.Member)
        .filter_by(group_id=org.id, table_name="user", table_id=user.id,
                   state="active", capacity="admin")
        .count() > 0
    )


def _csv_filters(org: model.Group) -> dict[str, Any]:
    """The query string's kind/since/until, validated like the action's."""
    from .logic.validators import governance_event_kind, governance_utc_datetime

    args = tk.request.args
    filters: dict[str, Any] = {"organization_id": org.id}
    try:
        if args.get("kind"):
            filters["kind"] = governance_event_kind(args["kind"])
        for key in ("since", "until"):
            if args.get(key):
                filters[key] = governance_utc_datetime(args[key])
    except tk.Invalid as err:
        raise tk.ValidationError({"filter": [str(err.error)]})
    return filters


@governance.route("/dataset/<id>/governance/subscribe", methods=["POST"])
def embargo_subscribe(id: str) -> Any:
    """The "Tell me when available" button (a CSRF-protected form)."""
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        result = tk.get_action("governance_embargo_subscribe")(context, {"id": id})  # type: ignore[arg-type]
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Dataset not found"))
    except tk.NotAuthorized:
        return tk.redirect_to("user.login", came_from=tk.url_for("dataset.read", id=id))
    except tk.ValidationError as err:
        tk.h.flash_error(" ".join(sum(err.error_dict.values(), [])))
        return tk.redirect_to("dataset.read", id=id)
    tk.h.flash_success(tk._("We will e-mail you when the data becomes available on {date} (UTC).")
                       .format(date=tk.h.governance_date_words(result["embargo_until"])))
    return tk.redirect_to("dataset.read", id=id)


@governance.route("/dataset/<id>/agreement", methods=["GET", "POST"])
def agreement(id: str) -> Any:
    """The data use agreement of a dataset: read it, tick, accept, and go on
    to where the user was going (``next``, a local URL)."""
    from . import agreements as agreement_texts
    from .model import DatasetPolicy

    pkg = model.Package.get(id)
    if pkg is None or pkg.state == "deleted":
        return tk.abort(404, tk._("Dataset not found"))
    back = urls.local_path(tk.request.values.get("next"), tk.url_for("dataset.read", id=pkg.name))
    if not tk.current_user.is_authenticated:
        here = tk.url_for("governance.agreement", id=pkg.name, next=back)
        return tk.redirect_to("user.login", came_from=here)
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        pkg_dict = tk.get_action("package_show")(context, {"id": pkg.id})  # type: ignore[arg-type]
    except tk.NotAuthorized:
        return tk.abort(404, tk._("Dataset not found"))
    row = model.Session.get(DatasetPolicy, pkg.id)
    found = agreement_texts.get(row.agreement_id) if row is not None else None
    if found is None:
        return tk.abort(404, tk._("This dataset has no agreement"))
    version = agreement_texts.versions(found)[-1]
    error = None
    if tk.request.method == "POST":
        if tk.request.form.get("accept") != "yes":
            error = tk._("Tick the box to accept the agreement.")
        else:
            try:
                tk.get_action("governance_agreement_accept")(context, {  # type: ignore[arg-type]
                    "id": pkg.id, "channel": "web",
                    "typed_name": tk.request.form.get("typed_name") or None,
                })
            except tk.ValidationError as err:
                error = " ".join(sum(err.error_dict.values(), []))  # type: ignore[arg-type]
            else:
                tk.h.flash_success(tk._("You accepted {title}, version {number}.").format(
                    title=version.title, number=version.number))
                return urls.redirect_local(back, tk.url_for("dataset.read", id=pkg.name))
    return tk.render("governance/agreement.html", {
        "pkg_dict": pkg_dict, "agreement": found, "version": version,
        "next": back, "error": error,
    })
