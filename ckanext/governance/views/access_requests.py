"""Web pages for access requests: the request form, "My access", the
organisation's review queue with bulk decisions, and a request's page with
its history. Every page goes through the actions (and their auth functions)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import access_requests, capacities, duo, urls
from ..model import AccessRequest, DatasetPolicy

__all__ = ["governance_requests"]

governance_requests = Blueprint("governance_requests", __name__)

QUEUE_PAGE = 50
QUEUE_FILTERS = ("state", "dataset", "older_than_days")


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


def _action(name: str, data: dict[str, Any]) -> Any:
    return tk.get_action(name)(_context(), data)


def _found(action: str, id: str, not_found: str, **options: Any) -> Any:
    """What ``action`` shows of ``id`` to the current user, or a 404 saying ``not_found``."""
    try:
        return _action(action, {"id": id, **options})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, not_found)


def _login(here: str) -> Any:
    return tk.redirect_to("user.login", came_from=here)


def _form_fields() -> dict[str, Any]:
    form = tk.request.form
    data: dict[str, Any] = {k: form.get(k, "") for k in access_requests.FIELDS}
    data["commercial"] = form.get("commercial") or None
    return data


def _errors_of(err: tk.ValidationError) -> dict[str, list[str]]:
    return err.error_dict


def _send(action: str, data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The form's fields to ``action``: (its result, no errors), or (None, the errors by field)."""
    try:
        return _action(action, data), {}
    except tk.ValidationError as err:
        return None, _errors_of(err)


def _render_form(pkg_dict: dict[str, Any], data: dict[str, Any], errors: dict[str, list[str]],
                 shown: dict[str, Any] | None, conditions: Any, renewal: bool) -> Any:
    data_use = pkg_dict.get("data_use")
    return tk.render("governance/request_form.html", {
        "pkg_dict": pkg_dict, "data": data, "errors": errors, "request_dict": shown,
        "conditions": conditions, "needs_ethics": duo.needs_ethics(data_use),
        "non_commercial": duo.non_commercial(data_use), "renewal": renewal,
    })


@governance_requests.route("/dataset/<id>/request", methods=["GET", "POST"])
def request_new(id: str) -> Any:
    """The request form, its fields driven by the dataset's data use conditions."""
    if not tk.current_user.is_authenticated:
        return _login(tk.url_for("governance_requests.request_new", id=id))
    pkg_dict = _found("package_show", id, tk._("Dataset not found"))
    mine = model.Session.query(AccessRequest).filter(
        AccessRequest.package_id == pkg_dict["id"], AccessRequest.user_id == tk.current_user.id,
        AccessRequest.state.in_(access_requests.OPEN_STATES)).one_or_none()
    if mine is not None:  # one open request: go to it
        endpoint = ("governance_requests.request_edit" if mine.state == access_requests.RETURNED
                    else "governance_requests.request_read")
        return tk.redirect_to(endpoint, id=mine.id)
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        data = _form_fields()
        created, errors = _send("governance_request_create", dict(data, id=pkg_dict["id"]))
        if created is not None:
            tk.h.flash_success(tk._("Your request was sent to the publisher for review."))
            return tk.redirect_to("governance_requests.request_read", id=created["id"])
    return _render_form(pkg_dict, data, errors, None, duo.describe(pkg_dict.get("data_use")),
                        renewal=pkg_dict["governance"]["reason"] == "granted")


@governance_requests.route("/request/<id>/edit", methods=["GET", "POST"])
def request_edit(id: str) -> Any:
    """The requester edits a returned request and submits it again."""
    if not tk.current_user.is_authenticated:
        return _login(tk.url_for("governance_requests.request_edit", id=id))
    shown = _found("governance_request_show", id, tk._("Access request not found"))
    if shown["user_id"] != tk.current_user.id or shown["state"] != access_requests.RETURNED:
        return tk.redirect_to("governance_requests.request_read", id=id)
    data = {k: shown[k] for k in access_requests.FIELDS}
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        data = _form_fields()
        updated, errors = _send("governance_request_update", dict(data, id=id))
        if updated is not None:
            tk.h.flash_success(tk._("Your request was sent again for review."))
            return tk.redirect_to("governance_requests.request_read", id=id)
    pkg_dict = _found("package_show", shown["dataset_id"], tk._("Dataset not found"))
    return _render_form(pkg_dict, data, errors, shown, shown["data_use"], renewal=False)


@governance_requests.route("/request/<id>")
def request_read(id: str) -> Any:
    """A request with its history: its requester, its reviewers, sysadmins."""
    if not tk.current_user.is_authenticated:
        return _login(tk.url_for("governance_requests.request_read", id=id))
    try:
        shown = _action("governance_request_show", {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        # Someone else's request: no hint that it exists.
        return tk.abort(404, tk._("Access request not found"))
    user = model.User.get(tk.current_user.id)
    reviewer = capacities.is_reviewer(user, shown["organization_id"])
    grants = []
    if shown["state"] == access_requests.APPROVED:
        grants = [g for g in _action("governance_grant_list", {
            "dataset": shown["dataset_id"], "user": shown["user_id"]})["results"]
            if g["request_id"] == id]
    return tk.render("governance/request_read.html", {
        "request_dict": shown, "reviewer": reviewer,
        "can_decide": reviewer and shown["user_id"] != tk.current_user.id
                      and shown["state"] == access_requests.PENDING,
        "mine": shown["user_id"] == tk.current_user.id, "grants": grants,
    })


@governance_requests.route("/request/<id>/decide", methods=["POST"])
def request_decide(id: str) -> Any:
    return _decide([id], tk.url_for("governance_requests.request_read", id=id))


@governance_requests.route("/request/<id>/withdraw", methods=["POST"])
def request_withdraw(id: str) -> Any:
    if not tk.current_user.is_authenticated:
        return tk.abort(403)
    try:
        _action("governance_request_withdraw", {"id": id, "message": tk.request.form.get("message")})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Access request not found"))
    except tk.ValidationError as err:
        tk.h.flash_error(_summary(err))
    else:
        tk.h.flash_success(tk._("You withdrew the request."))
    return tk.redirect_to("governance_requests.my_access")


@governance_requests.route("/grant/<id>/revoke", methods=["POST"])
def grant_revoke(id: str) -> Any:
    back = urls.local_path(tk.request.form.get("next"), tk.url_for("governance_requests.my_access"))
    try:
        _action("governance_grant_revoke", {"id": id, "reason": tk.request.form.get("reason")})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(403, tk._("Only the dataset organisation's reviewers revoke its grants"))
    except tk.ValidationError as err:
        tk.h.flash_error(_summary(err))
    else:
        tk.h.flash_success(tk._("The grant was revoked."))
    return tk.redirect_to(back)


def _summary(err: tk.ValidationError) -> str:
    return " ".join(sum((list(v) for v in _errors_of(err).values()), []))


def _decide(ids: list[str], back: str) -> Any:
    if not tk.current_user.is_authenticated:
        return tk.abort(403)
    form = tk.request.form
    try:
        result = _action("governance_request_decide", {
            "ids": ids, "decision": form.get("decision"), "message": form.get("message")})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Access request not found"))
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err))
    except tk.ValidationError as err:
        tk.h.flash_error(_summary(err))
        return tk.redirect_to(back)
    done = len(result["results"])
    words = {"approve": tk._("approved"), "reject": tk._("rejected"), "return": tk._("returned")}
    tk.h.flash_success(tk.ungettext("{n} request {what}.", "{n} requests {what}.", done).format(
        n=done, what=words.get(form.get("decision") or "", "")))
    return tk.redirect_to(back)


@governance_requests.route("/organization/<id>/requests", methods=["GET", "POST"])
def review_queue(id: str) -> Any:
    """The organisation's requests, filtered; bulk approve, reject or return."""
    if not tk.current_user.is_authenticated:
        return _login(tk.url_for("governance_requests.review_queue", id=id))
    org = _found("organization_show", id, tk._("Organization not found"),
                 include_datasets=False, include_users=False, include_extras=False,
                 include_groups=False, include_tags=False, include_followers=False)
    if not capacities.is_reviewer(model.User.get(tk.current_user.id), org["id"]):
        return tk.abort(403, tk._("Only the organisation's reviewers see its access requests"))
    if tk.request.method == "POST":
        ids = tk.request.form.getlist("ids")
        kept = {k: v for k, v in tk.request.args.items() if k in QUEUE_FILTERS and v}
        back = tk.url_for("governance_requests.review_queue", id=org["name"], **kept)
        if not ids:
            tk.h.flash_error(tk._("Tick the requests to decide."))
            return tk.redirect_to(back)
        return _decide(ids, back)
    args = tk.request.args
    filters: dict[str, Any] = {"organization": org["id"], "limit": QUEUE_PAGE,
                               "state": args.get("state", access_requests.PENDING) or None}
    if args.get("dataset"):
        filters["dataset"] = args["dataset"]
    if args.get("older_than_days"):
        filters["older_than_days"] = args["older_than_days"]
    page = tk.h.get_page_number(args)
    filters["page"] = page
    errors: dict[str, Any] = {}
    try:
        result = _action("governance_request_list", filters)
    except tk.ValidationError as err:
        errors = _errors_of(err)
        result = {"count": 0, "results": []}
    datasets = model.Session.query(model.Package.name, model.Package.title).join(
        DatasetPolicy, DatasetPolicy.package_id == model.Package.id).filter(
        model.Package.owner_org == org["id"], model.Package.state == "active",
        DatasetPolicy.access_tier == "controlled").order_by(model.Package.title).all()
    return tk.render("governance/review_queue.html", {
        "group_dict": org, "group_type": "organization", "result": result, "errors": errors,
        "filters": {k: args.get(k, "") for k in ("dataset", "older_than_days")} | {
            "state": filters["state"] or ""},
        "states": access_requests.STATES, "datasets": datasets, "page": page, "limit": QUEUE_PAGE,
    })


@governance_requests.route("/dashboard/access")
def my_access() -> Any:
    """The researcher's requests (states, messages) and grants (expiry, renew)."""
    if not tk.current_user.is_authenticated:
        return _login(tk.url_for("governance_requests.my_access"))
    me = tk.current_user.id
    mine = _action("governance_request_list", {"user": me, "limit": 1000, "sort": "newest"})
    grants = _action("governance_grant_list", {"user": me, "limit": 1000})
    open_for = {r["dataset_id"] for r in mine["results"] if r["state"] in access_requests.OPEN_STATES}
    user_dict = _action("user_show", {"id": me})
    return tk.render("governance/my_access.html", {
        "requests": mine["results"], "grants": grants["results"],
        "open_for": open_for, "user_dict": user_dict,
    })
