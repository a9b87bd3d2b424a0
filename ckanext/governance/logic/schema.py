"""Schemas of the governance actions."""
from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator


@validator_args
def event_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_event_kind: Validator,
    governance_utc_datetime: Validator,
) -> Schema:
    return {
        "organization": [ignore_missing, unicode_safe],
        "dataset": [ignore_missing, unicode_safe],
        "user": [ignore_missing, unicode_safe],
        "kind": [ignore_missing, unicode_safe, governance_event_kind],
        "since": [ignore_missing, governance_utc_datetime],
        "until": [ignore_missing, governance_utc_datetime],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def acceptance_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_utc_datetime: Validator,
    governance_sort: Validator,
) -> Schema:
    return {
        "organization": [ignore_missing, unicode_safe],
        "agreement": [ignore_missing, unicode_safe],
        "version": [governance_ignore_blank, governance_positive_int],
        "dataset": [ignore_missing, unicode_safe],
        "user": [ignore_missing, unicode_safe],
        "since": [ignore_missing, governance_utc_datetime],
        "until": [ignore_missing, governance_utc_datetime],
        "sort": [governance_ignore_blank, governance_sort],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def request_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_request_state: Validator,
    governance_sort: Validator,
) -> Schema:
    return {
        "state": [ignore_missing, unicode_safe, governance_request_state],
        "organization": [ignore_missing, unicode_safe],
        "dataset": [ignore_missing, unicode_safe],
        "user": [ignore_missing, unicode_safe],
        "older_than_days": [governance_ignore_blank, governance_positive_int],
        "sort": [governance_ignore_blank, governance_sort],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def grant_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_grant_state: Validator,
) -> Schema:
    return {
        "state": [ignore_missing, unicode_safe, governance_grant_state],
        "organization": [ignore_missing, unicode_safe],
        "dataset": [ignore_missing, unicode_safe],
        "user": [ignore_missing, unicode_safe],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }
