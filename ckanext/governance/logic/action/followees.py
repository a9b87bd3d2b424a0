"""Chains over CKAN's lists of followed datasets, which hold whole datasets.

``dataset_followee_list`` (and ``followee_list``, which calls it directly)
returns each followed dataset as CKAN's ``package_dictize`` gives it, resources
whole; following a gated public dataset is open to anyone. The datasets are
shaped for the caller by ``access``, like ``package_show``'s.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Action, Context, DataDict

from ... import redaction

__all__ = ["dataset_followee_list", "followee_list"]



@tk.side_effect_free
@tk.chained_action
def dataset_followee_list(up: Action, context: Context, data_dict: DataDict) -> Any:
    return redaction.present_packages(context, up(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def followee_list(up: Action, context: Context, data_dict: DataDict) -> Any:
    result = up(context, data_dict)
    datasets = [f.get("dict") for f in result if isinstance(f, dict) and f.get("type") == "dataset"]
    redaction.present_packages(context, datasets)
    return result
