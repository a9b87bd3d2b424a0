"""Validators of the governance fields and filters.

One parser per kind of value (text, boolean, day count, date): the schemas,
``_take_fields`` and the request fields all use these, so a value is read the
same way wherever it arrives and bad input is always an ``Invalid`` on its
field, never an error from the database or the standard library.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import ckan.plugins.toolkit as tk

from .. import events

__all__ = ["governance_boolean", "governance_days", "governance_event_kind",
           "governance_grant_state", "governance_ignore_absent", "governance_ignore_blank",
           "governance_positive_int", "governance_request_ids",
           "governance_request_state", "governance_sort", "governance_text",
           "governance_utc_datetime"]

# Larger numbers for pages, limits or versions mean nothing but can overflow.
INT_MAX = 1_000_000
# Longest period in days anything may last or look back (a century): day
# counts become dates, and dates beyond year 9999 do not exist.
DAYS_MAX = 36_500

_WHOLE = re.compile(r"[0-9]{1,9}")
TRUE = ("true", "yes", "on", "t", "y", "1")
FALSE = ("false", "no", "off", "f", "n", "0")


def parse_text(value: Any) -> str:
    """Text as the database can store it: a string without NUL characters
    (PostgreSQL refuses them in text and JSON)."""
    if not isinstance(value, str):
        raise tk.Invalid(tk._("Must be text"))
    if "\x00" in value:
        raise tk.Invalid(tk._("Must not contain NUL characters"))
    return value


def governance_text(value: Any) -> Any:
    """A string without NUL characters; unlike unicode_safe, a number, list or
    object is refused rather than turned into its text."""
    return parse_text(value)


def parse_boolean(value: Any) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case), or a JSON boolean; nothing
    else (CKAN's boolean_validator reads anything unknown as false)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    raise tk.Invalid(tk._("Must be true or false"))


def governance_boolean(value: Any) -> bool:
    return parse_boolean(value)


def parse_whole_number(value: Any, least: int, most: int, message: str) -> int:
    """An integer (not a boolean, not a float) or its decimal digits, from
    ``least`` to ``most``; ``message`` is the error otherwise."""
    if isinstance(value, bool):
        raise tk.Invalid(message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise tk.Invalid(message)
    if not least <= number <= most:
        raise tk.Invalid(message)
    return number


def parse_days(value: Any, least: int, most: int = DAYS_MAX, message: str | None = None) -> int:
    """A number of days from ``least`` to ``most`` (at most a century)."""
    return parse_whole_number(value, least, min(most, DAYS_MAX), message or tk._(
        "Must be a whole number of days from {least} to {most}").format(
            least=least, most=min(most, DAYS_MAX)))


def governance_days(least: int, most: int = DAYS_MAX, message: str | None = None
                    ) -> Callable[[Any], Any]:
    """A validator of day counts from ``least`` to ``most``; null or blank
    passes as None (the default, or none), so put it after whatever decides
    whether a missing value is allowed."""
    def validator(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse_days(value, least, most, message)
    return validator


def governance_positive_int(value: Any) -> int:
    """A whole number from 1 to INT_MAX (an empty value is left out before this)."""
    return parse_whole_number(value, 1, INT_MAX, tk._(
        "Must be a whole number from 1 to {n}").format(n=INT_MAX))


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


def governance_ignore_absent(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """Leave out a key that was not sent; unlike ignore_missing, a null stays
    (for fields where null means "remove")."""
    from ckan.lib.navl.dictization_functions import StopOnError, missing

    if data.get(key, missing) is missing:
        data.pop(key, None)
        raise StopOnError


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


IDS_MAX = 1000


def governance_request_ids(value: Any) -> list[str]:
    """A list of request ids, or one string of them separated by commas or
    spaces (a form's); at least one, at most IDS_MAX, duplicates dropped."""
    if isinstance(value, str):
        value = [i for i in value.replace(",", " ").split() if i]
    if not isinstance(value, list) or not value:
        raise tk.Invalid(tk._("Must be a list of request ids"))
    for ref in value:
        if not isinstance(ref, str) or not ref:
            raise tk.Invalid(tk._("Must be a list of request ids"))
        parse_text(ref)
    if len(value) > IDS_MAX:
        raise tk.Invalid(tk._("At most {n} at once").format(n=IDS_MAX))
    return list(dict.fromkeys(value))


def governance_utc_datetime(value: Any) -> dt.datetime:
    """ISO 8601 date or date-time, as an aware UTC datetime.

    A date alone means 00:00 UTC of that day; a date-time without a zone is
    UTC. A value whose UTC instant falls outside years 1 to 9999 (say
    ``0001-01-01T00:00:00+14:00``) is refused like an unreadable one.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif not isinstance(value, str) or "\x00" in value:
        raise tk.Invalid(tk._("Not an ISO 8601 date or date-time"))
    else:
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise tk.Invalid(tk._("Not an ISO 8601 date or date-time: {}").format(text[:100]))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:
        raise tk.Invalid(tk._("Out of range: a date-time must fall between years 1 and 9999 in UTC"))
