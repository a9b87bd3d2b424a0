"""Accessors for the extension's options; defaults live in config_declaration.yaml."""
from __future__ import annotations

import ckan.plugins.toolkit as tk


def default_tier() -> str:
    return tk.config["ckanext.governance.default_tier"]


def exempt_capacity() -> str:
    return tk.config["ckanext.governance.exempt_capacity"]


def log_downloads() -> bool:
    return tk.asbool(tk.config["ckanext.governance.log_downloads"])


def notify_max_attempts() -> int:
    return int(tk.config["ckanext.governance.notify.max_attempts"])


def embargo_max_months() -> int:
    return int(tk.config["ckanext.governance.embargo.max_months"])


def embargo_require_reason() -> bool:
    return tk.asbool(tk.config["ckanext.governance.embargo.require_reason"])


def embargo_notice_days() -> int:
    return int(tk.config["ckanext.governance.embargo.notice_days"])


def reviewer_capacity() -> str:
    return tk.config["ckanext.governance.reviewer_capacity"]


def grant_days() -> int:
    return int(tk.config["ckanext.governance.grant_days"])


def grant_reminder_days() -> list[int]:
    """Distinct positive day counts, largest first."""
    values = tk.config["ckanext.governance.grant_reminder_days"]
    if isinstance(values, str):
        values = values.split()
    return sorted({int(v) for v in values if int(v) > 0}, reverse=True)


def request_min_use_length() -> int:
    return int(tk.config["ckanext.governance.request.min_use_length"])


def _words(key: str) -> list[str]:
    value = tk.config[key]
    return value.split() if isinstance(value, str) else [str(v) for v in value or []]


def publication_mode() -> str:
    return tk.config["ckanext.governance.publication.mode"]


def link_fields() -> list[str]:
    return _words("ckanext.governance.link_fields")


def controlled_requires_agreement() -> bool:
    return tk.asbool(tk.config["ckanext.governance.controlled_requires_agreement"])


def personal_data_patterns() -> list[str]:
    return _words("ckanext.governance.publication.personal_data_patterns")


def contact_fields() -> list[str]:
    return _words("ckanext.governance.publication.contact_fields")


def csrf_guard_core() -> bool:
    return tk.asbool(tk.config["ckanext.governance.csrf.guard_core"])
