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

import json
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.logic.schema import default_show_package_schema

from . import terms

NOT_OVERWRITE = "ckan.harvest.not_overwrite_fields"


def register_fields(config_: Any) -> None:
    """Append the term fields to the fields harvests keep (an operator's own stay)."""
    configured = tk.aslist(config_.get(NOT_OVERWRITE) or "")
    configured += [f for f in terms.TERM_FIELDS if f not in configured]
    config_[NOT_OVERWRITE] = " ".join(configured)


def is_import(context: Any, package_id: str | None) -> bool:
    """Whether ``package_id`` is being written by a harvest import: ckanext-harvest
    flushes the harvest object naming the dataset as current before it creates or
    updates the dataset, and its harvesters write with ``ignore_auth`` (which no
    API call can set: a caller naming the id of a harvested dataset is not one)."""
    if not package_id or not context.get("ignore_auth") or not p.plugin_loaded("harvest"):
        return False
    # ckanext-harvest is an optional plugin: imported only when it is loaded.
    from ckanext.harvest.model import HarvestObject

    return bool(model.Session.execute(sa.select(sa.exists().where(
        HarvestObject.package_id == package_id, HarvestObject.current.is_(True)))).scalar())


# A harvest source (a dataset of type ``harvest``) has a ``config``: the
# harvester's settings, which may hold credentials for the origin (the CKAN
# harvester's ``api_key``). ckanext-harvest keeps it as the source's extra
# ``config`` and shows each of its keys as a field of the source besides; it
# lists every source with it to anyone, shows it with the source and indexes it.
# Here it is for those who may update the source.
SOURCE_TYPE = "harvest"


def _may(action: str, context: Any, source_id: str) -> bool:
    # The caller's identity only: CKAN's auth functions read ``package`` and the
    # like from the context, left there by the action that called us.
    fresh = {k: context[k] for k in ("user", "auth_user_obj", "ignore_auth") if k in context}
    try:
        tk.check_access(action, fresh, {"id": source_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def _config_keys(config_: Any) -> set[str]:
    try:
        parsed = json.loads(config_) if isinstance(config_, str) and config_ else {}
    except ValueError:
        return set()
    return {str(k) for k in parsed} if isinstance(parsed, dict) else set()


def _source_fields() -> set[str]:
    """The fields of a source that are not its config's (a config key of the same
    name, which ckanext-harvest's show schema would let overwrite one, is left)."""
    fields = set(default_show_package_schema())
    if p.plugin_loaded("harvest"):
        # ckanext-harvest is an optional plugin: imported only when it is loaded.
        from ckanext.harvest.logic.schema import harvest_source_show_package_schema

        fields |= set(harvest_source_show_package_schema())
    return fields - {"config"}


def strip_source_config(pkg_dict: Any, config_: Any = None) -> None:
    """A harvest source's dict without its config: the ``config`` field, the
    fields made of its keys, the ``config`` extra. ``config_``: the config when
    the dict may lack it (a copy from the search index)."""
    if not isinstance(pkg_dict, dict) or pkg_dict.get("type") != SOURCE_TYPE:
        return
    extras: list[Any] = pkg_dict.get("extras") or []
    if not isinstance(extras, list):
        extras = []
    stored = [e.get("value") for e in extras if isinstance(e, dict) and e.get("key") == "config"]
    keys = _config_keys(pkg_dict.get("config")) | _config_keys(config_)
    for value in stored:
        keys |= _config_keys(value)
    for key in (keys - _source_fields()) | {"config"}:
        pkg_dict.pop(key, None)
    if stored:
        pkg_dict["extras"] = [e for e in extras if not (isinstance(e, dict) and e.get("key") == "config")]


def _stored_config(source_id: str) -> str | None:
    # ckanext-harvest is an optional plugin: imported only when it is loaded.
    from ckanext.harvest.model import HarvestSource

    source = HarvestSource.get(source_id)
    return source.config if source is not None else None


def present_source(context: Any, pkg_dict: dict[str, Any]) -> None:
    """package_show of a harvest source: its config for those who may update it
    (read from the database when the dict came from the search index, which holds
    none); none of it for others."""
    if pkg_dict.get("type") != SOURCE_TYPE or not pkg_dict.get("id") or not p.plugin_loaded("harvest"):
        return
    # The database's config only where the dict lacks it (a copy from the index).
    missing = "config" not in pkg_dict and "extras" not in pkg_dict
    if _may("harvest_source_update", context, pkg_dict["id"]):
        if missing:
            pkg_dict["config"] = _stored_config(pkg_dict["id"])
        return
    strip_source_config(pkg_dict, _stored_config(pkg_dict["id"]) if missing else None)


def index_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep a harvest source's config out of the search index: not a field to query,
    sort or facet on, and not in the stored dicts a ``fl`` could ask for."""
    if doc.get("dataset_type", doc.get("type")) != SOURCE_TYPE:
        return doc
    keys = {"config", "extras_config"} | _config_keys(doc.get("config"))
    for key in ("data_dict", "validated_data_dict"):
        if isinstance(doc.get(key), str):
            stored = json.loads(doc[key])
            keys |= _config_keys(stored.get("config"))
            strip_source_config(stored, doc.get("config"))
            doc[key] = json.dumps(stored)
    for key in keys:
        doc.pop(key, None)
    return doc


@tk.side_effect_free
@tk.chained_action
def harvest_source_list(up: Any, context: Any, data_dict: Any) -> list[dict[str, Any]]:
    """ckanext-harvest lists every source, private ones too, with its config, to
    anyone: here, the sources the caller may see, each with its config only for
    those who may update it. (Its auth function, which allows everyone, is called
    here: ckanext-harvest's action never calls it, which CKAN's audit of a chained
    action would answer with a server error.)"""
    tk.check_access("harvest_source_list", context, data_dict)
    shown = []
    for source in up(context, data_dict):
        if not _may("package_show", context, source["id"]):
            continue
        if not _may("harvest_source_update", context, source["id"]):
            source.pop("config", None)
        shown.append(source)
    return shown


def get_actions() -> dict[str, Any]:
    """The chained ckanext-harvest actions, registered only when it is loaded."""
    return {"harvest_source_list": harvest_source_list} if p.plugin_loaded("harvest") else {}
