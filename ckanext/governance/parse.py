"""One parser per kind of value: text, boolean, whole number, day count, date.

The schemas' validators (``logic/validators.py``), the dataset terms and the
request fields read values through these, so a value is read the same way
wherever it arrives and bad input is always an ``Invalid`` naming what was
expected, never an error from the database or the standard library.

CKAN's ``boolean_validator`` is not used for booleans: it reads any word it
does not know as false, so a typo would pass as a decision.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import ckan.plugins.toolkit as tk

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


def optional_days(value: Any, least: int, most: int = DAYS_MAX, message: str | None = None) -> int | None:
    """``parse_days``, with null or blank read as None (the default, or none)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_days(value, least, most, message)


def utc_datetime(value: Any) -> dt.datetime:
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
