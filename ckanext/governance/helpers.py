"""Template helpers: plain words for the access decision."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk

from . import config, policy

__all__ = [
    "governance_default_tier",
    "governance_embargo_label",
    "governance_date_words",
    "governance_can_subscribe",
    "governance_tier_label",
    "governance_tier_help",
    "governance_tier_options",
    "governance_access_message",
    "governance_next_step",
    "governance_can_manage_agreements",
    "governance_renew_link",
    "governance_agreement_options",
    "governance_is_reviewer",
    "governance_data_use",
    "governance_data_use_source",
    "governance_request_state_label",
    "governance_grant_state_label",
    "governance_duo_codes",
    "governance_default_grant_days",
    "governance_severity_class",
]


def governance_default_tier() -> str:
    return config.default_tier()


def governance_embargo_label(value: str | None) -> str:
    return tk._("Embargoed") if value == "true" else tk._("Available")


def governance_date_words(value: str | None) -> str:
    """"3 March 2027" for an ISO date-time (UTC); empty when unreadable."""
    return _date_words(value) or ""


def governance_can_subscribe(pkg: dict[str, Any] | None) -> bool:
    """A logged-in user without access to an embargoed dataset may ask to be told."""
    block = (pkg or {}).get("governance") or {}
    return bool(
        block.get("embargoed") and not block.get("can_access")
        and tk.current_user.is_authenticated
    )


def governance_tier_label(tier: str | None) -> str:
    labels = {
        policy.OPEN: tk._("Open"),
        policy.REGISTERED: tk._("Registered users"),
        policy.AGREEMENT: tk._("Data use agreement"),
        policy.CONTROLLED: tk._("Controlled access"),
    }
    return labels.get(tier or "", tk._("Restricted"))


def governance_tier_help(tier: str | None) -> str:
    texts = {
        policy.OPEN: tk._("Anyone can download the data."),
        policy.REGISTERED: tk._("Anyone with an account can download the data once logged in."),
        policy.AGREEMENT: tk._(
            "Logged-in users can download the data after accepting the data use agreement."
        ),
        policy.CONTROLLED: tk._(
            "Users can download the data once the publishing organisation approves their access request."
        ),
    }
    return texts.get(tier or "", tk._("The data is not available."))


def governance_tier_options() -> list[dict[str, str]]:
    return [
        {"value": t, "text": f"{governance_tier_label(t)} — {governance_tier_help(t)}"}
        for t in policy.TIERS
    ]


def governance_access_message(block: dict[str, Any] | None) -> str:
    """One sentence saying whether this user can have the data, and why not."""
    if not block:
        return ""
    reason = block.get("reason")
    if block.get("can_access"):
        if reason == policy.R_EXEMPT and block.get("tier") != policy.OPEN:
            if getattr(tk.current_user, "sysadmin", False):
                return tk._("You can access the data as a site administrator.")
            return tk._(
                "You can access the data as a member of the publishing organisation "
                "or a collaborator on this dataset."
            )
        return tk._("You can access the data.")
    until = _date_words(block.get("embargo_until"))
    messages = {
        policy.R_LOGIN_REQUIRED: tk._("Log in to access the data."),
        policy.R_AGREEMENT_REQUIRED: tk._("Accept the data use agreement to access the data."),
        policy.R_REQUEST_REQUIRED: tk._("Request access: the publisher reviews each request."),
        policy.R_REQUEST_PENDING: tk._("Your access request is waiting for review."),
        policy.R_GRANT_EXPIRED: tk._("Your access has expired. Request access again to renew it."),
        policy.R_EMBARGOED: (
            tk._("Data available from {date} (UTC).").format(date=until)
            if until else tk._("The data is under embargo.")
        ),
    }
    return messages.get(reason, tk._("The data is not available to you."))


def governance_next_step(
    block: dict[str, Any] | None, came_from: str | None = None, dataset: str | None = None
) -> dict[str, str] | None:
    """The button that replaces the download button: label and link, or None.

    ``came_from`` is where to return after the step (default: this page).
    """
    if not block or block.get("can_access"):
        return None
    step = block.get("next_step")
    back = came_from or (tk.request.full_path.rstrip("?") if tk.request else None)
    if step == policy.N_LOG_IN:
        return {"label": tk._("Log in to access"), "url": tk.h.url_for("user.login", came_from=back)}
    if step == policy.N_ACCEPT_AGREEMENT and dataset:
        return {"label": tk._("Read and accept the agreement"),
                "url": tk.h.url_for("governance.agreement", id=dataset, next=back)}
    if step == policy.N_REQUEST_ACCESS and dataset:
        return {"label": tk._("Request access"),
                "url": tk.h.url_for("governance_requests.request_new", id=dataset)}
    if step == policy.N_WAIT_FOR_REVIEW:
        return {"label": tk._("See my request"),
                "url": tk.h.url_for("governance_requests.my_access")}
    return None


def _date_words(value: str | None) -> str | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when.astimezone(dt.timezone.utc)
    words = f"{when.day} {when:%B %Y}"
    # A date alone means midnight UTC; any other moment is worth its time.
    return words if (when.hour, when.minute) == (0, 0) else f"{words}, {when:%H:%M}"


def governance_can_manage_agreements(org_id: str | None) -> bool:
    """Whether the current user manages the organisation's agreements (editors, admins)."""
    if not org_id or not tk.current_user.is_authenticated:
        return False
    return tk.h.check_access("governance_agreement_create", {"owner_org": org_id})


def governance_renew_link(item: dict[str, Any]) -> str | None:
    from .agreement_views import renew_link

    return renew_link(item)


def governance_agreement_options() -> list[dict[str, Any]]:
    """The agreements the current user may attach to a dataset, by organisation:
    ``[{"organization": title, "options": [{"value": name, "text": title}]}]``."""
    import sqlalchemy as sa

    import ckan.model as model

    from .model import Agreement

    if not tk.current_user.is_authenticated:
        return []
    orgs = tk.get_action("organization_list_for_user")(
        {"user": tk.current_user.name}, {"permission": "create_dataset"})
    titles = {o["id"]: o.get("display_name") or o["name"] for o in orgs}
    if not titles:
        return []
    rows = model.Session.execute(
        sa.select(Agreement.owner_org, Agreement.name, Agreement.title)
        .where(Agreement.owner_org.in_(titles)).order_by(Agreement.title)
    ).all()
    groups: dict[str, list[dict[str, str]]] = {}
    for owner, name, title in rows:
        groups.setdefault(owner, []).append({"value": name, "text": title})
    return [{"organization": titles[o], "organization_id": o, "options": opts}
            for o, opts in sorted(groups.items(), key=lambda kv: titles[kv[0]])]


def governance_is_reviewer(org_id: str | None) -> bool:
    """Whether the current user reviews the organisation's access requests."""
    import ckan.model as model

    from . import requests

    if not org_id or not tk.current_user.is_authenticated:
        return False
    return requests.is_reviewer(model.User.get(tk.current_user.id), org_id)


def governance_data_use(codes: list[str] | None) -> list[dict[str, Any]]:
    """A dataset's data use conditions with DUO labels and IRIs."""
    from . import duo

    return duo.describe(codes)


def governance_data_use_source() -> dict[str, str]:
    from . import duo

    return duo.source()


def governance_request_state_label(state: str | None) -> str:
    labels = {
        "pending": tk._("Waiting for review"),
        "approved": tk._("Approved"),
        "rejected": tk._("Rejected"),
        "returned": tk._("Returned for more information"),
        "withdrawn": tk._("Withdrawn"),
    }
    return labels.get(state or "", state or "")


def governance_grant_state_label(state: str | None) -> str:
    labels = {"active": tk._("Active"), "expired": tk._("Expired"), "revoked": tk._("Revoked")}
    return labels.get(state or "", state or "")


def governance_duo_codes() -> list[tuple[str, str]]:
    """(code, label) of every DUO term, permissions first (for the form's suggestions)."""
    from . import duo

    return [(t.code + (":" if t.parameter else ""), t.label) for t in duo.terms().values()]


def governance_default_grant_days() -> int:
    return config.grant_days()


def governance_severity_class(severity: str | None) -> str:
    """Bootstrap colour of a publication warning's severity."""
    return {"high": "danger", "medium": "warning", "low": "secondary"}.get(severity or "", "info")
