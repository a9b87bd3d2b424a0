"""Plain words for the access decision: labels of tiers, states and
severities, the sentence that says why data is closed, dates in words.

Pages, e-mails and facets use these; ``helpers`` hands them to templates.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from babel import dates as babel_dates

import ckan.plugins.toolkit as tk

from . import policy


def embargo_label(value: str | None) -> str:
    return tk._("Embargoed") if value == "true" else tk._("Available")


def tier_label(tier: str | None) -> str:
    labels = {
        policy.OPEN: tk._("Open"),
        policy.REGISTERED: tk._("Registered users"),
        policy.AGREEMENT: tk._("Data use agreement"),
        policy.CONTROLLED: tk._("Controlled access"),
    }
    return labels.get(tier or "", tk._("Restricted"))


def tier_help(tier: str | None) -> str:
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


def tier_options() -> list[dict[str, str]]:
    return [
        {"value": t, "text": f"{tier_label(t)} — {tier_help(t)}"}
        for t in policy.TIERS
    ]


def access_message(block: dict[str, Any] | None) -> str:
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
    until = date_words(block.get("embargo_until"))
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
    return messages.get(reason or "", tk._("The data is not available to you."))


def locale() -> str:
    """The language of this request's pages, or the site's outside a request (e-mails
    sent by cron and jobs)."""
    try:
        return tk.h.lang() or tk.config.get("ckan.locale_default") or "en"
    except RuntimeError:  # no request: a job or a command
        return tk.config.get("ckan.locale_default") or "en"


def date_words(value: str | None) -> str:
    """"3 March 2027" (English), "3. März 2027", "3 de marzo de 2027" for an ISO
    date-time (UTC), in the page's language; empty when unreadable."""
    if not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    when = when.astimezone(dt.timezone.utc)
    lang = locale()
    try:
        # English keeps day-month-year; other languages take their long date.
        words = babel_dates.format_date(when.date(), "d MMMM y" if lang.startswith("en") else "long",
                                        locale=lang)
    except (ValueError, LookupError):  # a locale babel does not know
        words = babel_dates.format_date(when.date(), "d MMMM y", locale="en")
    # A date alone means midnight UTC; any other moment is worth its time.
    return words if (when.hour, when.minute) == (0, 0) else f"{words}, {when:%H:%M}"


def request_state_label(state: str | None) -> str:
    labels = {
        "pending": tk._("Waiting for review"),
        "approved": tk._("Approved"),
        "rejected": tk._("Rejected"),
        "returned": tk._("Returned for more information"),
        "withdrawn": tk._("Withdrawn"),
    }
    return labels.get(state or "", state or "")


def grant_state_label(state: str | None) -> str:
    labels = {"active": tk._("Active"), "expired": tk._("Expired"), "revoked": tk._("Revoked")}
    return labels.get(state or "", state or "")


def severity_class(severity: str | None) -> str:
    """Bootstrap colour of a publication warning's severity."""
    return {"high": "danger", "medium": "warning", "low": "secondary"}.get(severity or "", "info")
