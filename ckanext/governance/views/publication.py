"""Publication warnings in the browser: the interstitial page between saving
the dataset form and publishing, and the "Check before publishing" page."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint

import ckan.model as model
import ckan.plugins.toolkit as tk

from .. import access, config, csrf, ledger
from ..logic import schema

__all__ = ["governance_publication"]

governance_publication = Blueprint("governance_publication", __name__)

CONFIRM = schema.CONFIRM
_CODE = re.compile(r"[a-z_]{1,64}")


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name, "auth_user_obj": tk.current_user}


@governance_publication.before_app_request
def interstitial() -> Any:
    """A save of the dataset edit form that makes data more reachable shows
    the warnings first; "Publish anyway" posts the same form again, confirmed."""
    endpoint = tk.request.endpoint or ""
    blueprint, _, name = endpoint.rpartition(".")
    if tk.request.method != "POST" or name != "edit" or not blueprint.endswith("dataset"):
        return None
    form = tk.request.form
    if form.get(CONFIRM) or config.publication_mode() == "off":
        return None  # confirmed: the chained package_update records the choice
    if not csrf.token_valid():
        return None  # CKAN's own CSRF protection refuses the request next
    ref = (tk.request.view_args or {}).get("id") or ""
    pkg = model.Package.get(ref) if "\x00" not in ref else None
    if pkg is None or not tk.current_user.is_authenticated:
        return None
    try:
        tk.check_access("package_update", _context(), {"id": pkg.id})
    except tk.NotAuthorized:
        return None  # CKAN refuses it itself
    proposal: dict[str, Any] = {"id": pkg.id}
    if "private" in form:
        proposal["private"] = form.get("private")
    for key in ("access_tier", "embargo_until"):
        if key in form:
            proposal[key] = form.get(key)
    if len(proposal) == 1:
        # A form without these fields (CKAN's own, another plugin's) keeps them
        # as they are: nothing becomes more reachable. Without a proposal the
        # check would answer for publishing the dataset afresh.
        return None
    try:
        outcome = tk.get_action("governance_publication_check")(_context(), proposal)
    except tk.ValidationError:
        return None  # the form shows the field errors itself
    if not outcome["more_reachable"] and not any(
            w["code"] == "linked_from_public" for w in outcome["warnings"]):
        return None
    if not outcome["warnings"]:
        return None
    fields = [(k, v) for k, values in form.lists() for v in values if k != "_csrf_token"]
    return tk.render("governance/publication_interstitial.html", {
        "pkg": pkg, "warnings": outcome["warnings"], "fields": fields,
        "more_reachable": outcome["more_reachable"],
        "action_url": tk.request.path,
    })


@governance_publication.route("/dataset/<id>/governance/publication/cancel", methods=["POST"])
def cancel(id: str) -> Any:
    """ "Go back": the publisher chose not to publish; the choice is recorded."""
    pkg = model.Package.get(id)
    if pkg is None:
        return tk.abort(404, tk._("Dataset not found"))
    try:
        tk.check_access("package_update", _context(), {"id": pkg.id})
    except tk.NotAuthorized:
        return tk.abort(403)
    # The codes come back from the interstitial's form: keep only code-shaped ones.
    codes = [c for c in tk.request.form.getlist("codes") if _CODE.fullmatch(c)][:50]
    ledger.record(ledger.PUBLICATION_CANCELLED, actor_id=access.viewer_for(_context()).user_id,
                  package_id=pkg.id, organization_id=pkg.owner_org,
                  detail={"warnings": codes})
    model.Session.commit()
    tk.h.flash_notice(tk._("Nothing was published; your changes were not saved."))
    return tk.redirect_to(f"{pkg.type}.edit", id=pkg.name)


@governance_publication.route("/dataset/<id>/governance/check")
def check_page(id: str) -> Any:
    """ "Check before publishing": the dry run for publishing the dataset as it is."""
    try:
        pkg_dict = tk.get_action("package_show")(_context(), {"id": id})
        outcome = tk.get_action("governance_publication_check")(_context(), {"id": pkg_dict["id"]})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Dataset not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only the dataset's publishers can check it"))
    return tk.render("governance/publication_check.html", {
        "pkg_dict": pkg_dict, "dataset_type": pkg_dict["type"], "warnings": outcome["warnings"],
    })

