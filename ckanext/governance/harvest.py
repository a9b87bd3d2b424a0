"""ckanext-harvest beside governance: what a harvest may change of a dataset's terms.

The terms of a harvested dataset belong to the harvesting site's publishers:

- a re-harvest never changes them. The plugin appends the term fields to
  ckanext-harvest's ``ckan.harvest.not_overwrite_fields``, so its harvesters
  carry the stored values into every update (the origin's values, or their
  absence from a plain CKAN's dicts, never reach ``package_update``);
- a dataset harvested for the first time takes the origin's terms (a
  governed origin's ``access_tier``, ``embargo_until``, ``agreement``,
  ``data_use``, ``grant_days``), so the copy is never more open than the
  origin, whatever the harvester's credentials let it read there. They are
  the origin's facts, not a publisher's choice: the rules that guard a
  publisher's embargo (in the future, within ``embargo.max_months``, with a
  reason) do not refuse them, and an agreement the harvesting organisation
  does not hold under the same name is left off, which closes the data
  (``agreement`` and ``controlled`` without an agreement deny every download)
  until a publisher attaches one; publication warnings name it.

This module imports ckanext-harvest only when the ``harvest`` plugin is loaded.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import terms

NOT_OVERWRITE = "ckan.harvest.not_overwrite_fields"


def register_fields(config_: Any) -> None:
    """Append the term fields to the fields harvests keep (an operator's own stay)."""
    configured = tk.aslist(config_.get(NOT_OVERWRITE) or "")
    configured += [f for f in terms.TERM_FIELDS if f not in configured]
    config_[NOT_OVERWRITE] = " ".join(configured)


def is_import(package_id: str | None) -> bool:
    """Whether ``package_id`` is being written by a harvest import: ckanext-harvest
    flushes the harvest object naming the dataset as current before it creates or
    updates the dataset."""
    if not package_id or not p.plugin_loaded("harvest"):
        return False
    # ckanext-harvest is an optional plugin: imported only when it is loaded.
    from ckanext.harvest.model import HarvestObject

    return bool(model.Session.execute(sa.select(sa.exists().where(
        HarvestObject.package_id == package_id, HarvestObject.current.is_(True)))).scalar())
