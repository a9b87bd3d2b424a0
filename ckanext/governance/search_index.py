"""The search index: each dataset's document without gated URLs, and searches
that answer from the documents the caller may see only.

``before_dataset_index`` and ``before_dataset_search`` (``plugin.py``) call
these. The index is shared by all users, so it holds gated URLs for nobody;
the chained ``package_search`` (``logic/action/redaction.py``) redacts or
restores each result for the caller.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import ckan.lib.search as search
import ckan.model as model

from . import access, clock, config, harvest, policy, redaction
from .model import DatasetPolicy


def index_document(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_index: add the tier, and keep gated URLs out of the index."""
    pol = access.load_policies([pkg_dict["id"]])[pkg_dict["id"]]
    pkg_dict["access_tier"] = pol.tier
    # Search fields for the Embargo facet and date queries; `embargo lift`
    # reindexes a dataset when its date passes.
    decision = policy.decide(policy.Subject(), pol, access.utcnow())
    pkg_dict["embargoed"] = "true" if decision.embargoed else "false"
    if isinstance(pol.embargo_until, dt.datetime):
        pkg_dict["embargo_until"] = clock.iso(pol.embargo_until)
        # CKAN's schema indexes unknown names as strings, where date math and
        # ranges with NOW do not work; its "*_date" fields are dates.
        pkg_dict["embargo_until_date"] = pkg_dict["embargo_until"]
    # Whether this copy stays right when the site default changes (see
    # search_params): stored terms reindex the dataset whenever they change.
    if model.Session.get(DatasetPolicy, pkg_dict["id"]) is not None:
        pkg_dict[INDEX_TERMS] = "stored"
    else:
        pkg_dict[INDEX_TERMS] = "default_closed" if access.indexed_without_urls(pol) else "default_open"
    return redaction.redact_index_document(harvest.index_document(pkg_dict), pol)


# Index field saying which terms a dataset's copy was made under.
INDEX_TERMS = "governance_index_terms"


# Solr functions over the whole index, past every filter query: in a field
# list, a sort or a boost they tell whether any document holds a value.
_INDEX_STATISTICS = re.compile(
    r"\b(?:docfreq|idf|maxdoc|numdocs|totaltermfreq|ttf|sumtotaltermfreq|sttf)\s*\(",
    re.IGNORECASE)


# What ``fl`` may name: fields, globs and ``score``; no function, transformer
# (``[explain]`` prints term statistics of the whole index) or alias.
_FIELD_NAME = re.compile(r"[\w.*-]+")


def search_params(search_params: dict[str, Any]) -> dict[str, Any]:
    """before_dataset_search: answer from the documents the caller may see only.

    Solr filters the results by CKAN's and our filter queries, but a facet
    asked for with ``facet.mincount`` 0 lists the values of every document in
    the index, and index statistics (``docfreq()`` and its kin, ``[explain]``)
    count them: both would name or confirm a private dataset's values, or a
    stale copy's URLs (below), to anyone. Zero counts are therefore dropped,
    ``fl`` names fields only, and a sort or boost using index statistics is a
    SearchQueryError (as CKAN's own invalid sort).

    While the site default keeps data closed, search only copies that were
    made under it or under terms of their own: a copy made while the default
    was open (or by CKAN before the extension) holds the URLs of datasets that
    now follow a closed default, until ``ckan search-index rebuild`` remakes it.
    """
    try:
        mincount = int(search_params.get("facet.mincount", 1))
    except (TypeError, ValueError):
        mincount = 0
    if mincount < 1:
        search_params["facet.mincount"] = 1
    fl = search_params.get("fl")
    items = [fl] if isinstance(fl, str) else fl if isinstance(fl, (list, tuple)) else []
    for item in items:
        if not all(_FIELD_NAME.fullmatch(name)
                   for name in re.split(r"[\s,]+", str(item).strip()) if name):
            raise search.SearchQueryError('Invalid "fl" parameter: field names only')
    for key in ("sort", "bf", "boost"):
        values = search_params.get(key)
        for value in values if isinstance(values, (list, tuple)) else [values]:
            if isinstance(value, str) and _INDEX_STATISTICS.search(value):
                raise search.SearchQueryError(f'Invalid "{key}" parameter: no index statistics')
    if access.indexed_without_urls(policy.DatasetPolicy(tier=config.default_tier())):
        search_params.setdefault("fq_list", []).append(
            f"{INDEX_TERMS}:(stored OR default_closed)")
    return search_params
