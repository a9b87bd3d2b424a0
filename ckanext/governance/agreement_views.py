"""Web pages for data use agreements: publishers manage them on their
organisation's pages, anyone reads every version, admins export the
acceptances, and researchers see what they accepted ("My agreements")."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, stream_with_context

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import agreements as texts
from . import clock
from .model import DatasetPolicy

__all__ = ["governance_agreements"]

governance_agreements = Blueprint("governance_agreements", __name__)


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


def _organization(id: str) -> dict[str, Any]:
    """The organisation as CKAN shows it (its header and tabs), or a 404."""
    try:
        return tk.get_action("organization_show")(  # type: ignore[arg-type]
            _context(), {"id": id, "include_datasets": False, "include_users": False,
                         "include_extras": False, "include_groups": False,
                         "include_tags": False, "include_followers": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Organization not found"))


def _can_manage(org_id: str) -> bool:
    from .helpers import governance_can_manage_agreements

    return governance_can_manage_agreements(org_id)


def _can_audit(org_id: str) -> bool:
    """Admins of the organisation (and sysadmins) read who accepted what."""
    from ckan import authz

    return bool(tk.current_user.is_authenticated and authz.has_user_permission_for_group_or_org(
        org_id, tk.current_user.name, "admin"))


@governance_agreements.route("/organization/<id>/agreements")
def organization_agreements(id: str) -> Any:
    """The organisation's agreements with acceptance counts per version."""
    org = _organization(id)
    if not _can_manage(org["id"]):
        return tk.abort(403, tk._("Only the organisation's editors and admins manage its agreements"))
    found = tk.get_action("governance_agreement_list")(_context(), {"owner_org": org["id"]})  # type: ignore[arg-type]
    ids = [a["id"] for a in found]
    counts = texts.acceptance_counts(ids)
    datasets = texts.dataset_counts(ids)
    for item in found:
        item["acceptances"] = [
            {"number": n, "count": counts.get((item["id"], n), 0)}
            for n in range(1, (item["current_version"] or 0) + 1)
        ]
        item["datasets"] = datasets.get(item["id"], 0)
    return tk.render("governance/organization_agreements.html", {
        "group_dict": org, "group_type": "organization", "agreements": found,
        "can_audit": _can_audit(org["id"]),
    })


@governance_agreements.route("/organization/<id>/agreements/new", methods=["GET", "POST"])
def agreement_new(id: str) -> Any:
    org = _organization(id)
    if not _can_manage(org["id"]):
        return tk.abort(403, tk._("Only the organisation's editors and admins manage its agreements"))
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    preview = None
    if tk.request.method == "POST":
        data = {k: tk.request.form.get(k, "") for k in ("name", "title", "body", "renewal_days")}
        if tk.request.form.get("save") != "preview":
            try:
                created = tk.get_action("governance_agreement_create")(  # type: ignore[arg-type]
                    _context(), dict(data, owner_org=org["id"]))
            except tk.ValidationError as err:
                errors = err.error_dict  # type: ignore[assignment]
            else:
                tk.h.flash_success(tk._("Agreement created: {title}, version 1.").format(
                    title=created["title"]))
                return tk.redirect_to("governance_agreements.organization_agreements", id=org["name"])
        preview = data
    return tk.render("governance/agreement_form.html", {
        "group_dict": org, "group_type": "organization", "data": data, "errors": errors,
        "preview": preview, "agreement": None,
    })


@governance_agreements.route("/agreement/<name>/edit", methods=["GET", "POST"])
def agreement_edit(name: str) -> Any:
    """Publish a changed text as a new version, material or minor."""
    agreement = texts.get(name)
    if agreement is None:
        return tk.abort(404, tk._("Agreement not found"))
    org = _organization(agreement.owner_org)
    if not _can_manage(org["id"]):
        return tk.abort(403, tk._("Only the organisation's editors and admins manage its agreements"))
    shown = texts.as_dict(agreement, with_versions=False)
    data: dict[str, Any] = {"title": shown["title"], "body": shown["body"],
                            "renewal_days": shown["renewal_days"] or ""}
    errors: dict[str, list[str]] = {}
    preview = None
    if tk.request.method == "POST":
        data = {k: tk.request.form.get(k, "") for k in ("title", "body", "renewal_days", "material")}
        if tk.request.form.get("save") != "preview":
            try:
                changed = tk.get_action("governance_agreement_update")(  # type: ignore[arg-type]
                    _context(), dict(data, id=agreement.id,
                                     material=data["material"] or None))
            except tk.ValidationError as err:
                errors = err.error_dict  # type: ignore[assignment]
            else:
                if changed["current_version"] != shown["current_version"]:
                    tk.h.flash_success(tk._("Published version {number}.").format(
                        number=changed["current_version"]))
                else:
                    tk.h.flash_success(tk._("Saved; the text did not change, so no new version."))
                return tk.redirect_to("governance_agreements.organization_agreements", id=org["name"])
        preview = data
    return tk.render("governance/agreement_form.html", {
        "group_dict": org, "group_type": "organization", "data": data, "errors": errors,
        "preview": preview, "agreement": shown,
    })


@governance_agreements.route("/agreement/<name>")
@governance_agreements.route("/agreement/<name>/<int:number>")
def agreement_read(name: str, number: int | None = None) -> Any:
    """Any version of an agreement, readable by anyone, forever."""
    try:
        shown = tk.get_action("governance_agreement_show")(_context(), {"id": name})  # type: ignore[arg-type]
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Agreement not found"))
    versions = shown["versions"]
    wanted = number or shown["current_version"]
    version = next((v for v in versions if v["number"] == wanted), None)
    if version is None:
        return tk.abort(404, tk._("No such version"))
    org = model.Group.get(shown["owner_org"])
    return tk.render("governance/agreement_read.html", {
        "agreement": shown, "version": version, "organization": org,
        "can_manage": _can_manage(shown["owner_org"]),
    })


@governance_agreements.route("/organization/<id>/governance/acceptances.csv")
def organization_acceptances_csv(id: str) -> Any:
    """Who accepted which agreement of the organisation, as CSV (its admins and sysadmins).

    Query string: agreement, version, dataset, user, since, until.
    """
    from .logic import action, schema

    org = model.Group.get(id)
    if org is None or not org.is_organization or org.state != "active":
        return tk.abort(404, tk._("Organization not found"))
    if not _can_audit(org.id):
        return tk.abort(403, tk._("Only the organisation's admins may export its acceptances"))
    args = {k: v for k, v in tk.request.args.items()
            if k in ("agreement", "version", "dataset", "user", "since", "until") and v}
    data, errors = tk.navl_validate(args, schema.acceptance_list(), _context())
    try:
        if errors:
            raise tk.ValidationError(errors)
        filters = action.acceptance_filters(data)
    except tk.ValidationError as err:
        return tk.abort(400, str(err.error_summary))
    filters["organization_id"] = org.id
    user = model.User.get(tk.current_user.name)
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        stream_with_context(texts.stream_acceptances_csv(user, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition":
                 f'attachment; filename="{org.name}-agreement-acceptances-{stamp}.csv"'},
    )


MY_AGREEMENTS_MAX = 1000


@governance_agreements.route("/dashboard/agreements")
def my_agreements() -> Any:
    """What the logged-in user accepted, when, and whether it still counts."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=tk.url_for("governance_agreements.my_agreements"))
    result = tk.get_action("governance_acceptance_list")(  # type: ignore[arg-type]
        _context(), {"user": tk.current_user.id, "limit": MY_AGREEMENTS_MAX, "sort": "newest"})
    acceptances = result["results"]
    # An older acceptance replaced by a later one that counts is history, not a to-do.
    in_force = {a["agreement_id"] for a in acceptances if a["status"] == "valid"}
    for item in acceptances:
        if item["status"] != "valid" and item["agreement_id"] in in_force:
            item["status"] = "superseded"
    user_dict = tk.get_action("user_show")(_context(), {"id": tk.current_user.id})  # type: ignore[arg-type]
    return tk.render("governance/my_agreements.html", {
        "acceptances": acceptances, "count": result["count"], "user_dict": user_dict,
    })


def renew_link(item: dict[str, Any]) -> str | None:
    """Where to accept again: the agreement page of the dataset it was accepted through."""
    if not item.get("dataset"):
        return None
    row = model.Session.get(DatasetPolicy, item["dataset_id"])
    if row is None or row.agreement_id != item["agreement_id"]:
        return None
    return tk.url_for("governance.agreement", id=item["dataset"])
