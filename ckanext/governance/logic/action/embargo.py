"""``governance_embargo_subscribe``: "tell me when the data opens"."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, embargo
from .. import lookup, schema

__all__ = ["governance_embargo_subscribe"]


@tk.validate(schema.id_only)
def governance_embargo_subscribe(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask to be told (once, by e-mail) when an embargoed dataset's data opens.

    :param id: the id or name of the dataset
    :type id: string

    :returns: ``{"subscribed": true, "embargo_until": ...}``; asking twice is harmless.
    :rtype: dictionary
    """
    pkg = lookup.dataset(context, data_dict, "governance_embargo_subscribe")
    gate = access.gate_for(context, pkg.id)
    assert gate is not None
    if not gate.decision.embargoed:
        raise tk.ValidationError({"id": [tk._("This dataset is not under embargo")]})
    viewer = access.viewer_for(context)
    if viewer.user_id is None:
        raise tk.NotAuthorized(tk._("Log in to be told when the data opens"))

    embargo.subscribe(pkg.id, viewer.user_id)
    return {"subscribed": True, "embargo_until": gate.block()["embargo_until"]}
