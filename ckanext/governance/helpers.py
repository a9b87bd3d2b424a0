"""Template helpers: plain words for the access decision."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import agreements, capacities, config, duo, labels, policy
from .model import Agreement

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
    "governance_request_state_label",
    "governance_grant_state_label",
    "governance_duo_codes",
    "governance_field_text",
    "governance_default_grant_days",
    "governance_severity_class",
]

# Plain words, from ``labels`` (pages and e-mails share them).
governance_embargo_label = labels.embargo_label
governance_tier_label = labels.tier_label
governance_tier_help = labels.tier_help
governance_tier_options = labels.tier_options
governance_access_message = labels.access_message
governance_date_words = labels.date_words
governance_request_state_label = labels.request_state_label
governance_grant_state_label = labels.grant_state_label
governance_severity_class = labels.severity_class


def governance_default_tier() -> str:
    return config.default_tier()


def governance_can_subscribe(pkg: dict[str, Any] | None) -> bool:
    """A logged-in user without access to an embargoed dataset may ask to be told."""
    block = (pkg or {}).get("governance") or {}
    return bool(
        block.get("embargoed") and not block.get("can_access")
        and tk.current_user.is_authenticated
    )


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
                "url": tk.h.url_for("governance_agreements.dataset_agreement", id=dataset, next=back)}
    if step == policy.N_REQUEST_ACCESS and dataset:
        return {"label": tk._("Request access"),
                "url": tk.h.url_for("governance_requests.request_new", id=dataset)}
    if step == policy.N_WAIT_FOR_REVIEW:
        return {"label": tk._("See my request"),
                "url": tk.h.url_for("governance_requests.my_access")}
    return None


def governance_can_manage_agreements(org_id: str | None) -> bool:
    """Whether the current user manages the organisation's agreements (editors, admins)."""
    if not org_id or not tk.current_user.is_authenticated:
        return False
    return tk.h.check_access("governance_agreement_create", {"owner_org": org_id})


def governance_renew_link(item: dict[str, Any]) -> str | None:
    return agreements.renew_link(item)


def governance_agreement_options() -> list[dict[str, Any]]:
    """The agreements the current user may attach to a dataset, by organisation:
    ``[{"organization": title, "options": [{"value": name, "text": title}]}]``."""
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
    if not org_id or not tk.current_user.is_authenticated:
        return False
    return capacities.is_reviewer(model.User.get(tk.current_user.id), org_id)


def governance_data_use(codes: list[str] | None) -> list[dict[str, Any]]:
    """A dataset's data use conditions with DUO labels and IRIs."""
    return duo.describe(codes)


def governance_field_text(value: Any, default: str) -> str:
    """A scheming schema's label or help text (a string, or ``{language: text}``)
    in the user's language, or ``default`` (ours) when the schema gives none."""
    if isinstance(value, dict) and value:
        value = (value.get(tk.h.lang()) or value.get(tk.config.get("ckan.locale_default"))
                 or next(iter(value.values())))
    if isinstance(value, str) and value:
        return tk._(value)
    return default


def governance_duo_codes() -> list[tuple[str, str]]:
    """(code, label) of every DUO term, permissions first (for the form's suggestions)."""
    return [(t.code + (":" if t.parameter else ""), t.label) for t in duo.terms().values()]


def governance_default_grant_days() -> int:
    return config.grant_days()
