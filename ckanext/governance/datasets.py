"""Dataset lifecycle hooks: store the terms with the dataset, index without gated URLs."""
from __future__ import annotations

from typing import Any

import ckan.model as model
from . import access, config
from .model import DatasetPolicy


def store_terms(package_id: str, fields: dict[str, Any], created: bool) -> None:
    """Write a dataset's terms into the transaction that saves the dataset.

    Runs before CKAN commits and indexes, so both see the new terms, and a
    failure rolls both back. A new dataset always gets a row (so a later change
    of the site default does not change it); an update without
    ``access_tier`` keeps the tier.
    """
    row = model.Session.get(DatasetPolicy, package_id)
    if row is None:
        if not created and not fields:
            return
        row = DatasetPolicy(package_id=package_id, access_tier=config.default_tier())
        model.Session.add(row)
    if "access_tier" in fields and fields["access_tier"] != row.access_tier:
        row.access_tier = fields["access_tier"]
        row.modified = access.utcnow()
    model.Session.flush()


def index_document(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_index: add the tier, and keep gated URLs out of the index."""
    pol = access.load_policies([pkg_dict["id"]])[pkg_dict["id"]]
    pkg_dict["access_tier"] = pol.tier
    return access.redact_index_document(pkg_dict, pol)
