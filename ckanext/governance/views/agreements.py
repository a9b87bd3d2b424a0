"""Web pages for data use agreements: publishers manage them on their
organisation's pages, anyone reads every version, admins export the
acceptances, and researchers see what they accepted ("My agreements")."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, stream_with_context

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import agreements as texts
from .. import capacities, clock, urls
from ..helpers import governance_can_manage_agreements
from ..logic import schema
from ..logic.action.agreements import acceptance_filters
from ..model import DatasetPolicy

__all__ = ["governance_agreements"]

governance_agreements = Blueprint("governance_agreements", __name__)


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


def _organization(id: str) -> dict[str, Any]:
    """The organisation as CKAN shows it (its header and tabs), or a 404."""
    try:
        return tk.get_action("organization_show")(
            _context(), {"id": id, "include_datasets": False, "include_users": False,
                         "include_extras": False, "include_groups": False,
                         "include_tags": False, "include_followers": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Organization not found"))


def _can_manage(org_id: str) -> bool:
    return governance_can_manage_agreements(org_id)


def _can_audit(org_id: str) -> bool:
    """Admins of the organisation (and sysadmins) read who accepted what."""
    user = model.User.get(tk.current_user.name) if tk.current_user.is_authenticated else None
    return capacities.holds(user, org_id)


@governance_agreements.route("/organization/<id>/agreements")
def organization_agreements(id: str) -> Any:
    """The organisation's agreements with acceptance counts per version."""
    org = _organization(id)
    if not _can_manage(org["id"]):
        return tk.abort(403, tk._("Only the organisation's editors and admins manage its agreements"))
    found = tk.get_action("governance_agreement_list")(_context(), {"owner_org": org["id"]})
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


def _agreement_form(org: dict[str, Any], shown: dict[str, Any] | None, data: dict[str, Any],
                    fields: tuple[str, ...], save: Callable[[dict[str, Any]], None]) -> Any:
    """The agreement form with ``data``; a POST of ``fields`` previews them,
    or saves them through ``save`` (which says what it did) and returns to
    the organisation's agreements, or shows the save's errors."""
    errors: dict[str, list[str]] = {}
    preview = None
    if tk.request.method == "POST":
        data = {k: tk.request.form.get(k, "") for k in fields}
        if tk.request.form.get("save") != "preview":
            try:
                save(data)
            except tk.ValidationError as err:
                errors = err.error_dict
            else:
                return tk.redirect_to("governance_agreements.organization_agreements", id=org["name"])
        preview = data
    return tk.render("governance/agreement_form.html", {
        "group_dict": org, "group_type": "organization", "data": data, "errors": errors,
        "preview": preview, "agreement": shown,
    })


@governance_agreements.route("/organization/<id>/agreements/new", methods=["GET", "POST"])
def agreement_new(id: str) -> Any:
    org = _organization(id)
    if not _can_manage(org["id"]):
        return tk.abort(403, tk._("Only the organisation's editors and admins manage its agreements"))

    def save(data: dict[str, Any]) -> None:
        created = tk.get_action("governance_agreement_create")(
            _context(), dict(data, owner_org=org["id"]))
        tk.h.flash_success(tk._("Agreement created: {title}, version 1.").format(
            title=created["title"]))

    return _agreement_form(org, None, {}, ("name", "title", "body", "renewal_days"), save)


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

    def save(data: dict[str, Any]) -> None:
        changed = tk.get_action("governance_agreement_update")(
            _context(), dict(data, id=agreement.id, material=data["material"] or None))
        if changed["current_version"] != shown["current_version"]:
            tk.h.flash_success(tk._("Published version {number}.").format(
                number=changed["current_version"]))
        else:
            tk.h.flash_success(tk._("Saved; the text did not change, so no new version."))

    return _agreement_form(org, shown, {"title": shown["title"], "body": shown["body"],
                                        "renewal_days": shown["renewal_days"] or ""},
                           ("title", "body", "renewal_days", "material"), save)


@governance_agreements.route("/agreement/<name>")
@governance_agreements.route("/agreement/<name>/<int:number>")
def agreement_read(name: str, number: int | None = None) -> Any:
    """Any version of an agreement, readable by anyone, forever."""
    try:
        shown = tk.get_action("governance_agreement_show")(_context(), {"id": name})
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
    org = model.Group.get(id)
    if org is None or not org.is_organization or org.state != "active":
        return tk.abort(404, tk._("Organization not found"))
    if not _can_audit(org.id):
        return tk.abort(403, tk._("Only the organisation's admins may export its acceptances"))
    args = {k: v for k, v in tk.request.args.items()
            if k in ("agreement", "version", "dataset", "user", "since", "until") and v}
    # CKAN's converters of names to ids read the session from the context.
    data, errors = tk.navl_validate(args, schema.acceptance_list(), dict(_context(), session=model.Session))
    try:
        if errors:
            raise tk.ValidationError(errors)
        filters = acceptance_filters(data)
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
    result = tk.get_action("governance_acceptance_list")(
        _context(), {"user": tk.current_user.id, "limit": MY_AGREEMENTS_MAX, "sort": "newest"})
    acceptances = result["results"]
    # An older acceptance replaced by a later one that counts is history, not a to-do.
    in_force = {a["agreement_id"] for a in acceptances if a["status"] == "valid"}
    for item in acceptances:
        if item["status"] != "valid" and item["agreement_id"] in in_force:
            item["status"] = "superseded"
    user_dict = tk.get_action("user_show")(_context(), {"id": tk.current_user.id})
    return tk.render("governance/my_agreements.html", {
        "acceptances": acceptances, "count": result["count"], "user_dict": user_dict,
    })


@governance_agreements.route("/dataset/<id>/agreement", methods=["GET", "POST"])
def dataset_agreement(id: str) -> Any:
    """The data use agreement of a dataset: read it, tick, accept, and go on
    to where the user was going (``next``, a local URL)."""
    pkg = model.Package.get(id)
    if pkg is None or pkg.state == "deleted":
        return tk.abort(404, tk._("Dataset not found"))
    back = urls.local_path(tk.request.values.get("next"), tk.url_for("dataset.read", id=pkg.name))
    if not tk.current_user.is_authenticated:
        here = tk.url_for("governance_agreements.dataset_agreement", id=pkg.name, next=back)
        return tk.redirect_to("user.login", came_from=here)
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        pkg_dict = tk.get_action("package_show")(context, {"id": pkg.id})
    except tk.NotAuthorized:
        return tk.abort(404, tk._("Dataset not found"))
    row = model.Session.get(DatasetPolicy, pkg.id)
    found = texts.get(row.agreement_id) if row is not None else None
    if found is None:
        return tk.abort(404, tk._("This dataset has no agreement"))
    version = texts.versions(found)[-1]
    error = None
    if tk.request.method == "POST":
        if tk.request.form.get("accept") != "yes":
            error = tk._("Tick the box to accept the agreement.")
        else:
            try:
                tk.get_action("governance_agreement_accept")(context, {
                    "id": pkg.id, "channel": "web",
                    "typed_name": tk.request.form.get("typed_name") or None,
                })
            except tk.ValidationError as err:
                error = " ".join(sum(err.error_dict.values(), []))
            else:
                tk.h.flash_success(tk._("You accepted {title}, version {number}.").format(
                    title=version.title, number=version.number))
                return urls.redirect_local(back, tk.url_for("dataset.read", id=pkg.name))
    return tk.render("governance/agreement.html", {
        "pkg_dict": pkg_dict, "agreement": found, "version": version,
        "next": back, "error": error,
    })
