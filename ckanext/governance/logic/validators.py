"""Validators of the governance schemas (``logic/schema.py``).

Each wraps one parser of ``parse`` (text, boolean, day count, date) or checks
one closed list of values, so the schemas declare what a field is and bad
input is an ``Invalid`` on its field.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import StopOnError, missing

from .. import access_requests, agreements, duo, grants, ledger, parse, policy

__all__ = ["governance_boolean", "governance_days", "governance_event_kind",
           "governance_grant_state", "governance_ignore_absent", "governance_ignore_blank",
           "governance_positive_int", "governance_request_ids",
           "governance_request_state", "governance_sort", "governance_text",
           "governance_utc_datetime", "governance_none_if_empty",
           "governance_strip_or_none", "governance_agreement_ref", "governance_data_use",
           "governance_grant_days", "governance_agreement_id", "governance_access_tier"]


def governance_utc_datetime(value: Any) -> dt.datetime:
    """ISO 8601 date or date-time, as an aware UTC datetime (see ``parse.utc_datetime``)."""
    return parse.utc_datetime(value)


def governance_text(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """A string without NUL characters; unlike unicode_safe, a number, list or
    object is refused rather than turned into its text. A refusal stops the
    field's chain: the validators after it (CKAN's converters that look a
    name up, say) only ever see text."""
    try:
        parse.parse_text(data.get(key))
    except tk.Invalid as err:
        errors[key].append(err.error)
        raise StopOnError


def governance_boolean(value: Any) -> bool:
    return parse.parse_boolean(value)


def governance_days(least: int, most: int = parse.DAYS_MAX, message: str | None = None
                    ) -> Callable[[Any], Any]:
    """A validator of day counts from ``least`` to ``most``; null or blank
    passes as None (the default, or none), so put it after whatever decides
    whether a missing value is allowed."""
    def validator(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse.parse_days(value, least, most, message)
    return validator


def governance_positive_int(value: Any) -> int:
    """A whole number from 1 to parse.INT_MAX (an empty value is left out before this)."""
    return parse.parse_whole_number(value, 1, parse.INT_MAX, tk._(
        "Must be a whole number from 1 to {n}").format(n=parse.INT_MAX))


def governance_event_kind(value: Any) -> Any:
    if value not in ledger.KINDS:
        raise tk.Invalid(tk._("Unknown event kind. Known kinds: {}").format(", ".join(ledger.KINDS)))
    return value


def governance_ignore_blank(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """Leave out a missing, null or blank value (a form's empty field); unlike
    CKAN's ignore_empty, a 0 stays, to be refused."""
    value = data.get(key)
    if value is missing or value is None or (isinstance(value, str) and not value.strip()):
        data.pop(key, None)
        raise StopOnError


def governance_ignore_absent(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """Leave out a key that was not sent; unlike ignore_missing, a null stays
    (for fields where null means "remove")."""
    if data.get(key, missing) is missing:
        data.pop(key, None)
        raise StopOnError


def governance_sort(value: Any) -> Any:
    if value not in ("oldest", "newest"):
        raise tk.Invalid(tk._("Must be oldest or newest"))
    return value


def governance_request_state(value: Any) -> Any:
    if value not in access_requests.STATES:
        raise tk.Invalid(tk._("Must be one of: {}").format(", ".join(access_requests.STATES)))
    return value


def governance_grant_state(value: Any) -> Any:
    if value not in grants.GRANT_STATES:
        raise tk.Invalid(tk._("Must be one of: {}").format(", ".join(grants.GRANT_STATES)))
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
        parse.parse_text(ref)
    if len(value) > IDS_MAX:
        raise tk.Invalid(tk._("At most {n} at once").format(n=IDS_MAX))
    return list(dict.fromkeys(value))


def governance_none_if_empty(key: Any, data: dict[Any, Any], errors: Any, context: Any) -> None:
    """A null or empty value is None and nothing more is checked (for fields
    where empty means "none" or "the default")."""
    if data.get(key) in (None, ""):
        data[key] = None
        raise StopOnError


def governance_strip_or_none(value: Any) -> Any:
    """Text without surrounding space; None when nothing is left."""
    return value.strip() or None


def governance_access_tier(value: Any) -> str:
    """One of the access tiers (the scheming preset's validator; the terms schema
    checks the same list)."""
    if isinstance(value, str) and value in policy.TIERS:
        return value
    raise tk.Invalid(tk._("Value must be one of {}").format(", ".join(policy.TIERS)))


def governance_agreement_ref(value: Any) -> Any:
    """The id or name of an agreement (checked against the organisation's
    agreements when the terms are stored)."""
    try:
        return parse.parse_text(value)
    except tk.Invalid:
        raise tk.Invalid(tk._("Must be the id or name of an agreement"))


def governance_data_use(value: Any) -> Any:
    """DUO codes (a list, or one string separated by commas): the codes, or None for none."""
    try:
        return duo.codes_of(duo.parse(value)) or None
    except ValueError as err:
        raise tk.Invalid(str(err))


def governance_grant_days(value: Any) -> int:
    """How long a grant of the dataset lasts: 0 (no end) to ``parse.DAYS_MAX`` days (a century)."""
    return parse.parse_days(value, 0, parse.DAYS_MAX, tk._(
        "Must be a whole number of days from 0 (grants do not expire) to {n}").format(n=parse.DAYS_MAX))


def governance_agreement_id(value: Any) -> str:
    """The id or name of an existing agreement, as its id (as CKAN's
    ``convert_group_name_or_id_to_id`` does for organisations)."""
    found = agreements.get(value)
    if found is None:
        raise tk.Invalid("{}: {}".format(tk._("Not found"), tk._("Agreement")))
    return found.id
