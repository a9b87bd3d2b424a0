"""Validators of the governance fields and filters."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk

from .. import events

__all__ = ["governance_event_kind", "governance_grant_state", "governance_ignore_blank",
           "governance_positive_int",
           "governance_request_state", "governance_sort", "governance_utc_datetime"]

# Larger numbers for pages, limits, versions or ages mean nothing but can overflow.
INT_MAX = 1_000_000


def governance_event_kind(value: Any) -> Any:
    if value not in events.KINDS:
        raise tk.Invalid(tk._("Unknown event kind. Known kinds: {}").format(", ".join(events.KINDS)))
    return value


def governance_ignore_blank(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """Leave out a missing, null or blank value (a form's empty field); unlike
    CKAN's ignore_empty, a 0 stays, to be refused."""
    from ckan.lib.navl.dictization_functions import StopOnError, missing

    value = data.get(key)
    if value is missing or value is None or (isinstance(value, str) and not value.strip()):
        data.pop(key, None)
        raise StopOnError


def governance_positive_int(value: Any) -> int:
    """A whole number from 1 to INT_MAX (an empty value is left out before this)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise tk.Invalid(tk._("Must be a whole number"))
    if isinstance(value, bool) or not 1 <= number <= INT_MAX:
        raise tk.Invalid(tk._("Must be a whole number from 1 to {n}").format(n=INT_MAX))
    return number


def governance_sort(value: Any) -> Any:
    if value not in ("oldest", "newest"):
        raise tk.Invalid(tk._("Must be oldest or newest"))
    return value


def governance_request_state(value: Any) -> Any:
    from .. import requests

    if value not in requests.STATES:
        raise tk.Invalid(tk._("Must be one of: {}").format(", ".join(requests.STATES)))
    return value


def governance_grant_state(value: Any) -> Any:
    from .. import requests

    if value not in requests.GRANT_STATES:
        raise tk.Invalid(tk._("Must be one of: {}").format(", ".join(requests.GRANT_STATES)))
    return value


def governance_utc_datetime(value: Any) -> dt.datetime:
    """ISO 8601 date or date-time, as an aware UTC datetime.

    A date alone means 00:00 UTC of that day; a date-time without a zone is UTC.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif not isinstance(value, str):
        raise tk.Invalid(tk._("Not an ISO 8601 date or date-time: {}").format(value))
    else:
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise tk.Invalid(tk._("Not an ISO 8601 date or date-time: {}").format(text))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)
