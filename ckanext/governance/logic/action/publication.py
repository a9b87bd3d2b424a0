"""``governance_publication_check``: what publishing a change would expose (a dry run)."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, publication, terms
from ...model import DatasetPolicy
from .. import lookup, schema
from .terms import PENDING, take_fields

__all__ = ["governance_publication_check"]


@tk.side_effect_free
@tk.validate(schema.publication_check)
def governance_publication_check(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What publishing a change would expose, and what stays behind (a dry run).

    For the dataset's publishers (who may update it). With no proposed change,
    it checks publishing the dataset as it is, as if it were new.

    :param id: id or name of the dataset
    :param private: proposed value (optional)
    :param access_tier: proposed tier (optional)
    :param embargo_until: proposed embargo end, or empty to remove it (optional)
    :returns: ``{"warnings": [{"code", "severity", "message", "item": {"type",
        "id", "title", "url"}}], "more_reachable": bool}``; codes:
        ``linked_dataset_private``, ``linked_dataset_more_restricted``,
        ``linked_dataset_embargoed``, ``linked_from_public``,
        ``agreement_missing``, ``license_missing``, ``description_missing``,
        ``personal_data_suspected``, ``irreversible``
    """
    pkg = lookup.dataset(context, data_dict, "governance_publication_check")
    proposal = {k: data_dict[k] for k in ("access_tier", "embargo_until") if k in data_dict}
    inner: dict[str, Any] = {}
    take_fields(inner, proposal)
    fields = inner[PENDING]
    data = tk.get_action("package_show")(dict(context), {"id": pkg.id})
    changes = bool(fields)
    if "private" in data_dict:
        data["private"] = data_dict["private"]  # the schema's boolean
        changes = True
    before = publication.current_state(pkg)
    if not changes:
        before, data["private"] = None, False
    if "embargo_until" in fields or "access_tier" in fields:
        terms.check_terms(fields, model.Session.get(DatasetPolicy, pkg.id), pkg.owner_org)
    after = publication.proposed_state(before, data, fields)
    return publication.check(access.viewer_for(context).user_id, pkg.id, data, before, after)
