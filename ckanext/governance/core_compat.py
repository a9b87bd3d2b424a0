"""CKAN's own behaviour kept where governance adds keys to package dicts.

Every package dict governance returns carries the keys of ``ADDED_KEYS``
(``redaction.present_package``, and the chained create/update). Two places of
CKAN compare or select keys and must not see them:

- ``package_update`` skips the write, the reindex and the "changed package"
  activity when what is sent equals what ``package_show`` gives. The chained
  ``package_update`` takes our keys out of what is sent, so the comparison is
  made against the show output without them (``without_added_keys``) whenever
  the terms themselves do not change (``terms_change``).
- ``package_search`` with ``fl`` answers the fields asked for, and only those
  (``keep_requested``).
"""
from __future__ import annotations

from typing import Any

from . import config
from .model import DatasetPolicy

# What governance adds to a package dict; the first six are also accepted on input.
ADDED_KEYS = ("access_tier", "embargo_until", "embargo_reason", "agreement", "data_use",
              "grant_days", "governance", "governance_warnings")


def terms_change(fields: dict[str, Any], row: DatasetPolicy | None) -> bool:
    """Whether storing ``fields`` (validated by ``_take_fields`` and
    ``terms.check_terms``) would change the terms stored in ``row`` (None:
    no row yet, so the site default applies)."""
    current: dict[str, Any] = {
        "access_tier": row.access_tier if row is not None else config.default_tier(),
        "embargo_until": row.embargo_until if row is not None else None,
        "embargo_reason": row.embargo_reason if row is not None else None,
        "agreement": row.agreement_id if row is not None else None,
        "data_use": list(row.data_use or []) if row is not None else [],
        "grant_days": row.grant_days if row is not None else None,
    }
    for key, value in fields.items():
        if key == "agreement":
            value = fields.get("agreement_id") if value else None  # check_terms resolved it
        elif key == "data_use":
            value = list(value or [])
        elif key not in current:
            continue
        if current[key] != value:
            return True
    return False


def without_added_keys(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """A copy of a package dict as CKAN alone would have shown it."""
    return {k: v for k, v in pkg_dict.items() if k not in ADDED_KEYS}


def requested_fields(fl: Any) -> set[str] | None:
    """The field names of package_search's ``fl`` (a list, or a string as
    CKAN passes it on to Solr); None when the caller did not choose fields."""
    if not fl:
        return None
    items = [fl] if isinstance(fl, str) else fl if isinstance(fl, (list, tuple)) else []
    names = {name for item in items if isinstance(item, str)
             for name in item.replace(",", " ").split()}
    return names or None


def keep_requested(results: list[Any], requested: set[str]) -> None:
    """Drop the keys governance added that the caller's ``fl`` did not ask for."""
    for result in results:
        if isinstance(result, dict):
            for key in ADDED_KEYS:
                if key not in requested:
                    result.pop(key, None)
