"""Schemas of the governance actions.

They check the shape of what a caller sends (text without NUL characters,
booleans, day counts, dates); the actions then check what the values mean
(that a dataset exists, that a decision needs a message...). Keys the
schemas do not list are ignored.
"""
from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator, ValidatorFactory

from ..access_requests import DECISIONS, FIELDS
from ..agreements import CHANNELS
from ..parse import DAYS_MAX
from ..policy import TIERS

# "I have read the publication warnings" (the dataset form's and the API's).
CONFIRM = "governance_confirm"


@validator_args
def id_only(not_empty: Validator, governance_text: Validator) -> Schema:
    """Actions on one object named by ``id`` (its id, or name where it has one)."""
    return {"id": [not_empty, governance_text]}


@validator_args
def agreement_create(
    not_empty: Validator,
    governance_text: Validator,
    governance_ignore_blank: Validator,
    governance_days: ValidatorFactory,
) -> Schema:
    return {
        "owner_org": [not_empty, governance_text],
        "name": [not_empty, governance_text],
        "title": [not_empty, governance_text],
        "body": [not_empty, governance_text],
        "renewal_days": [governance_ignore_blank, governance_days(1, DAYS_MAX)],
    }


@validator_args
def agreement_update(
    not_empty: Validator,
    ignore_missing: Validator,
    governance_text: Validator,
    governance_boolean: Validator,
    governance_ignore_blank: Validator,
    governance_ignore_absent: Validator,
    governance_days: ValidatorFactory,
) -> Schema:
    return {
        "id": [not_empty, governance_text],
        "title": [ignore_missing, governance_text],
        "body": [ignore_missing, governance_text],
        "material": [governance_ignore_blank, governance_boolean],
        # Null or blank removes the renewal period; left out keeps it.
        "renewal_days": [governance_ignore_absent, governance_days(1, DAYS_MAX)],
    }


@validator_args
def agreement_list(governance_ignore_blank: Validator, governance_text: Validator) -> Schema:
    return {"owner_org": [governance_ignore_blank, governance_text]}


@validator_args
def agreement_accept(
    not_empty: Validator,
    ignore_missing: Validator,
    governance_ignore_blank: Validator,
    governance_text: Validator,
    one_of: ValidatorFactory,
) -> Schema:
    return {
        "id": [not_empty, governance_text],
        "typed_name": [ignore_missing, governance_text],
        "channel": [governance_ignore_blank, one_of(list(CHANNELS))],
    }


@validator_args
def request_fields(
    not_empty: Validator,
    governance_text: Validator,
    governance_ignore_absent: Validator,
) -> Schema:
    """``governance_request_create`` and ``_update``: the request's own fields
    are checked by ``access_requests.clean_fields`` (they depend on the dataset's
    data use conditions); here they only pass through."""
    return {"id": [not_empty, governance_text]} | {key: [governance_ignore_absent] for key in FIELDS}


@validator_args
def request_withdraw(
    not_empty: Validator,
    ignore_missing: Validator,
    governance_text: Validator,
) -> Schema:
    return {"id": [not_empty, governance_text], "message": [ignore_missing, governance_text]}


@validator_args
def request_decide(
    ignore_missing: Validator,
    not_empty: Validator,
    governance_text: Validator,
    governance_request_ids: Validator,
    one_of: ValidatorFactory,
) -> Schema:
    return {
        "id": [ignore_missing, governance_text],
        "ids": [ignore_missing, governance_request_ids],
        "decision": [not_empty, one_of(list(DECISIONS))],
        "message": [ignore_missing, governance_text],
    }


@validator_args
def grant_revoke(
    not_empty: Validator,
    ignore_missing: Validator,
    governance_text: Validator,
) -> Schema:
    return {"id": [not_empty, governance_text], "reason": [ignore_missing, governance_text]}


@validator_args
def publication_check(
    not_empty: Validator,
    governance_text: Validator,
    governance_boolean: Validator,
    governance_ignore_absent: Validator,
) -> Schema:
    # access_tier and embargo_until are read by _take_fields, as in
    # package_update; null in embargo_until proposes removing the embargo.
    return {
        "id": [not_empty, governance_text],
        "private": [governance_ignore_absent, governance_boolean],
        "access_tier": [governance_ignore_absent],
        "embargo_until": [governance_ignore_absent],
    }


@validator_args
def event_list(
    ignore_missing: Validator,
    governance_text: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_event_kind: Validator,
    governance_utc_datetime: Validator,
    convert_group_name_or_id_to_id: Validator,
    convert_package_name_or_id_to_id: Validator,
    convert_user_name_or_id_to_id: Validator,
) -> Schema:
    return {
        "organization": [governance_ignore_blank, governance_text, convert_group_name_or_id_to_id],
        "dataset": [governance_ignore_blank, governance_text, convert_package_name_or_id_to_id],
        "user": [governance_ignore_blank, governance_text, convert_user_name_or_id_to_id],
        "kind": [ignore_missing, governance_event_kind],
        "since": [ignore_missing, governance_utc_datetime],
        "until": [ignore_missing, governance_utc_datetime],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def acceptance_list(
    ignore_missing: Validator,
    governance_text: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_utc_datetime: Validator,
    governance_sort: Validator,
    convert_group_name_or_id_to_id: Validator,
    convert_package_name_or_id_to_id: Validator,
    convert_user_name_or_id_to_id: Validator,
    governance_agreement_id: Validator,
) -> Schema:
    return {
        "organization": [governance_ignore_blank, governance_text, convert_group_name_or_id_to_id],
        "agreement": [governance_ignore_blank, governance_text, governance_agreement_id],
        "version": [governance_ignore_blank, governance_positive_int],
        "dataset": [governance_ignore_blank, governance_text, convert_package_name_or_id_to_id],
        "user": [governance_ignore_blank, governance_text, convert_user_name_or_id_to_id],
        "since": [ignore_missing, governance_utc_datetime],
        "until": [ignore_missing, governance_utc_datetime],
        "sort": [governance_ignore_blank, governance_sort],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def request_list(
    ignore_missing: Validator,
    governance_text: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_days: ValidatorFactory,
    governance_request_state: Validator,
    governance_sort: Validator,
    convert_group_name_or_id_to_id: Validator,
    convert_package_name_or_id_to_id: Validator,
    convert_user_name_or_id_to_id: Validator,
) -> Schema:
    return {
        "state": [ignore_missing, governance_request_state],
        "organization": [governance_ignore_blank, governance_text, convert_group_name_or_id_to_id],
        "dataset": [governance_ignore_blank, governance_text, convert_package_name_or_id_to_id],
        "user": [governance_ignore_blank, governance_text, convert_user_name_or_id_to_id],
        "older_than_days": [governance_ignore_blank, governance_days(1)],
        "sort": [governance_ignore_blank, governance_sort],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def grant_list(
    ignore_missing: Validator,
    governance_text: Validator,
    governance_ignore_blank: Validator,
    governance_positive_int: Validator,
    governance_grant_state: Validator,
    convert_group_name_or_id_to_id: Validator,
    convert_package_name_or_id_to_id: Validator,
    convert_user_name_or_id_to_id: Validator,
) -> Schema:
    return {
        "state": [ignore_missing, governance_grant_state],
        "organization": [governance_ignore_blank, governance_text, convert_group_name_or_id_to_id],
        "dataset": [governance_ignore_blank, governance_text, convert_package_name_or_id_to_id],
        "user": [governance_ignore_blank, governance_text, convert_user_name_or_id_to_id],
        "page": [governance_ignore_blank, governance_positive_int],
        "limit": [governance_ignore_blank, governance_positive_int],
    }


@validator_args
def dataset_terms(
    governance_ignore_absent: Validator,
    not_empty: Validator,
    governance_none_if_empty: Validator,
    governance_ignore_blank: Validator,
    governance_text: Validator,
    governance_strip_or_none: Validator,
    governance_utc_datetime: Validator,
    governance_agreement_ref: Validator,
    governance_data_use: Validator,
    governance_grant_days: Validator,
    governance_boolean: Validator,
    one_of: ValidatorFactory,
) -> Schema:
    """The terms a dataset's create, update, patch and publication check
    take (fields left out keep their values; empty means none, or the
    site's default), and the publisher's "I have read the warnings"."""
    return {
        # CKAN's one_of lets an empty string through: not_empty refuses it first.
        "access_tier": [governance_ignore_absent, not_empty, one_of(list(TIERS))],
        "embargo_until": [governance_ignore_absent, governance_none_if_empty, governance_utc_datetime],
        "embargo_reason": [governance_ignore_absent, governance_none_if_empty, governance_text,
                           governance_strip_or_none],
        "agreement": [governance_ignore_absent, governance_none_if_empty, governance_agreement_ref],
        "data_use": [governance_ignore_absent, governance_data_use],
        "grant_days": [governance_ignore_absent, governance_none_if_empty, governance_grant_days],
        CONFIRM: [governance_ignore_blank, governance_boolean],
    }
