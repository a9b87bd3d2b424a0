"""package_search answers as if the data-bearing values of gated resources did not exist.

The search index is shared by every caller, so it holds the resource URLs and
extras of a dataset only while anyone may have its data: a query (``q``,
``fq``), a facet, a sort or a field list (``fl``) over ``res_url``, ``urls``,
``res_extras_*`` or the ``text`` catch-all they are copied into finds, counts,
orders and returns the values of open datasets and nothing of the others.
Each check guesses a value that exists and one that does not, as anonymous,
as a logged-in outsider, and as a member of the organisation (who may have
the data: the positive control finds it through the fields it may see, with
its URL restored from the database).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import string

import pytest
from people import organisation_with_people

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import access

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

KEYS = ("open", "registered", "agreement", "controlled", "open-embargoed")
GATED = KEYS[1:]
CALLERS = ("anonymous", "outsider", "member", "sysadmin")
# What of a resource carries its data, and the extra CKAN indexes
# (ckan.extra_resource_fields) beside one it does not.
HIDDEN = ("url", "hash", "cache_url", "mimetype_inner", "alt_source", "other_note")
SEARCH_ERRORS = (tk.ValidationError, search.SearchError, search.SearchQueryError)


@dataclasses.dataclass
class Catalogue:
    users: dict[str, dict]
    datasets: dict[str, dict]  # key -> package as created
    values: dict[str, dict[str, str]]  # key -> its resource's hidden values
    tags: dict[str, str]  # key -> a word found in every hidden value of it, only

    def ctx(self, caller: str) -> dict:
        return {"user": "" if caller == "anonymous" else self.users[caller]["name"]}

    def names(self, caller: str, **params) -> list[str]:
        found = call_action("package_search", self.ctx(caller), rows=100, **params)
        return [d["name"] for d in found["results"]]


@pytest.fixture
def extra_field(index_resource_extra):
    index_resource_extra("alt_source")


@pytest.fixture
def catalogue(extra_field) -> Catalogue:
    users, org = organisation_with_people()
    publisher = users["publisher"]
    datasets, values, tags = {}, {}, {}
    for key in KEYS:
        # Letters only: Solr's text analysis splits words at digits, and a
        # number part shared by two tags would be a match of its own.
        tag = f"zz{key.replace('-', '')}{''.join(secrets.choice(string.ascii_lowercase) for _ in range(10))}"
        terms = {}
        if key.endswith("embargoed"):
            terms = {"embargo_until": (access.utcnow() + dt.timedelta(days=30)).isoformat(),
                     "embargo_reason": "Until the paper is out"}
        hidden = {
            "url": f"https://files.example.org/{tag}/flows.csv",
            "hash": f"{tag}hash",
            "cache_url": f"https://cache.example.org/{tag}/flows.csv",
            "mimetype_inner": f"text/{tag}",
            "alt_source": f"https://mirror.example.org/{tag}/flows.csv",
            "other_note": f"kept at {tag} station",
        }
        datasets[key] = call_action(
            "package_create", {"user": publisher["name"]}, name=f"oracle-{key}",
            title=f"Oracle {key}", owner_org=org["id"], access_tier=key.partition("-")[0],
            resources=[dict(hidden, name="River flows", format="CSV", description="Daily flows")],
            **terms,
        )
        values[key], tags[key] = hidden, tag
    return Catalogue(users, datasets, values, tags)


def _probes(cat: Catalogue, key: str) -> dict[str, dict]:
    """Ways to ask the index about the values of dataset ``key``."""
    v, tag = cat.values[key], cat.tags[key]
    quoted = json.dumps(v["url"])
    return {
        "q res_url exact": {"q": f"res_url:{quoted}"},
        "q res_url wildcard": {"q": f"res_url:*{tag}*"},
        "q urls": {"q": f"urls:{tag}"},
        "q free text": {"q": tag},
        "q text field": {"q": f"text:{tag}"},
        "q extra": {"q": f"res_extras_alt_source:{tag}"},
        "q any field": {"q": f"*:* AND (res_url:*{tag}* OR urls:{tag} OR text:{tag})"},
        "fq res_url": {"fq": f"res_url:{quoted}"},
        "fq urls": {"fq": f"urls:{tag}"},
        "fq text": {"fq": f"text:{tag}"},
        "fq extra": {"fq": f"res_extras_alt_source:{tag}"},
        "fq download_url": {"fq": f"download_url:*{tag}*"},
    }


def test_queries_on_data_fields_never_find_a_dataset_by_the_values_of_its_gated_resources(catalogue):
    for key in GATED:
        for label, params in _probes(catalogue, key).items():
            for caller in CALLERS:
                assert catalogue.names(caller, **params) == [], (key, label, caller)


def test_queries_on_data_fields_find_an_open_dataset_by_its_values_for_everyone(catalogue):
    for label, params in _probes(catalogue, "open").items():
        if label == "fq download_url":
            continue  # CKAN does not fill this field
        for caller in CALLERS:
            assert catalogue.names(caller, **params) == ["oracle-open"], (label, caller)


def test_guesses_that_match_nothing_find_nothing(catalogue):
    for caller in CALLERS:
        for params in ({"q": "res_url:*zznosuchword*"}, {"fq": "urls:zznosuchword"},
                       {"q": "zznosuchword"}, {"fq": "res_extras_alt_source:zznosuchword"}):
            assert catalogue.names(caller, **params) == [], (caller, params)


def test_the_member_finds_a_gated_dataset_by_what_it_shows_and_gets_its_url(catalogue):
    found = call_action("package_search", catalogue.ctx("member"), q="res_name:flows",
                        fq="name:oracle-controlled")
    assert found["count"] == 1
    assert found["results"][0]["resources"][0]["url"] == catalogue.values["controlled"]["url"]
    outsider = call_action("package_search", catalogue.ctx("outsider"), q="res_name:flows",
                           fq="name:oracle-controlled")
    assert outsider["count"] == 1 and outsider["results"][0]["resources"][0]["url"] == ""


def test_facets_on_data_fields_count_only_values_anyone_may_read(catalogue):
    fields = ["res_url", "urls", "res_extras_alt_source", "text", "download_url", "res_format"]
    for caller in CALLERS:
        found = call_action("package_search", catalogue.ctx(caller), q="*:*", rows=0,
                            **{"facet.field": fields, "facet.limit": -1, "facet.mincount": 1})
        items = json.dumps(found["facets"]) + json.dumps(found["search_facets"])
        for key in GATED:
            assert catalogue.tags[key] not in items, (key, caller)
        assert catalogue.values["open"]["url"] in items  # the guess that exists
        assert found["facets"]["res_format"] == {"CSV": len(KEYS)}


def test_field_lists_cannot_pull_gated_values(catalogue):
    fl = ["id", "name", "res_url", "urls", "text", "res_extras_alt_source", "download_url",
          "data_dict", "validated_data_dict"]
    for caller in CALLERS:
        for listed in (fl, "*"):
            found = call_action("package_search", catalogue.ctx(caller), q="name:oracle-*",
                                fl=listed, rows=100)
            assert found["count"] == len(KEYS)
            body = json.dumps(found)
            for key in GATED:
                assert not any(v in body for v in catalogue.values[key].values()), (key, caller)
                assert catalogue.tags[key] not in body, (key, caller)
            assert catalogue.values["open"]["url"] in body


@pytest.mark.parametrize("field", ["res_url", "urls", "res_extras_alt_source", "text", "download_url"])
def test_sorting_on_a_data_field_does_not_place_gated_datasets_by_their_values(catalogue, field):
    """A dataset of the outsider's own moved from the lowest value to the
    highest: the gated datasets sorted before it must stay the same (or the
    sort is refused the same way both times)."""
    outsider = catalogue.ctx("outsider")
    probe = call_action("package_create", outsider, name="oracle-probe",
                        resources=[{"url": "https://a.example/a", "alt_source": "https://a.example/a"}])
    res_id = probe["resources"][0]["id"]

    def before_probe(value: str, caller: str):
        call_action("resource_patch", outsider, id=res_id, url=value, alt_source=value)
        try:
            names = catalogue.names(caller, q="name:oracle-*", sort=f"{field} asc")
        except SEARCH_ERRORS as err:
            return type(err).__name__
        return set(names[: names.index("oracle-probe")]) & {f"oracle-{k}" for k in GATED}

    for caller in CALLERS:
        low, high = before_probe("https://a.example/a", caller), before_probe("https://zzzz.example/z", caller)
        assert low == high, caller


def _sent_documents(monkeypatch) -> list[dict]:
    """Every document CKAN sends to the index from now on, all fields (the
    copies Solr makes land in fields that are not stored, so only the sent
    document tells what they hold)."""
    import pysolr

    sent: list[dict] = []
    add = pysolr.Solr.add

    def recording(self, docs, *args, **kwargs):
        sent.extend(docs)
        return add(self, docs, *args, **kwargs)

    monkeypatch.setattr(pysolr.Solr, "add", recording)
    return sent


def test_no_document_sent_to_the_index_holds_a_hidden_value_of_a_gated_resource(catalogue, monkeypatch):
    sent = _sent_documents(monkeypatch)
    editor = {"user": catalogue.users["publisher"]["name"]}
    # Every way a dataset is (re)indexed: as its editor (who may have the
    # data), by a rebuild (no user), after a resource is added or changed.
    for key in GATED:
        pkg = catalogue.datasets[key]
        call_action("package_patch", dict(editor), id=pkg["id"], notes="Updated.")
        call_action("resource_create", dict(editor), package_id=pkg["id"], name="More flows",
                    **catalogue.values[key])
        call_action("resource_patch", dict(editor), id=pkg["resources"][0]["id"],
                    description="Daily flows, checked")
        search.rebuild(pkg["id"])
    assert len(sent) >= 4 * len(GATED)
    for doc in sent:
        key = doc["name"].removeprefix("oracle-")
        text = json.dumps(doc)
        assert not any(v in text for v in catalogue.values[key].values()), (key, sorted(doc))
        assert catalogue.tags[key] not in text, key
        assert "River flows" in text  # what the data is stays findable


# Copies indexed under other terms ------------------------------------------------


def _indexed_before_the_extension(pkg_id: str, monkeypatch) -> None:
    """The dataset as one that existed before the extension was installed: no
    stored terms (the site default applies, here still ``open``), and the
    index copy plain CKAN made of it (URLs, none of the extension's fields)."""
    from ckanext.governance import search_index
    from ckanext.governance.model import DatasetPolicy

    model.Session.query(DatasetPolicy).filter_by(package_id=pkg_id).delete()
    model.Session.commit()
    with monkeypatch.context() as plain:
        plain.setattr(search_index, "index_document", lambda pkg_dict: pkg_dict)
        search.rebuild(pkg_id)


def test_a_copy_indexed_before_a_closed_default_tier_cannot_be_searched_by_its_urls(
        ckan_config, monkeypatch):
    publisher = factories.User()
    org = factories.Organization(users=[{"name": publisher["name"], "capacity": "editor"}])
    url = f"https://files.example.org/zzstale{secrets.token_hex(4)}/flows.csv"
    pkg = call_action("package_create", {"user": publisher["name"]}, name="oracle-stale",
                      owner_org=org["id"], resources=[{"url": url, "name": "River flows"}])
    _indexed_before_the_extension(pkg["id"], monkeypatch)
    assert call_action("package_search", {"user": ""}, fq=f"res_url:{json.dumps(url)}")["count"] == 1

    # The site now closes the data of datasets without terms of their own.
    monkeypatch.setitem(ckan_config, "ckanext.governance.default_tier", "registered")
    for caller in ({"user": ""}, {"user": factories.User()["name"]}):
        for params in ({"q": f"res_url:{json.dumps(url)}"}, {"fq": "urls:zzstale*"}, {"q": "zzstale*"}):
            assert call_action("package_search", dict(caller), **params)["count"] == 0, params
        for params in ({"q": "name:oracle-stale", "fl": ["name", "res_url", "data_dict"]},
                       {"q": "*:*", "facet.field": ["res_url", "urls", "text"], "facet.limit": -1}):
            found = call_action("package_search", dict(caller), **params)
            assert "zzstale" not in json.dumps(found), params
    # A rebuild of the index makes the dataset findable again, by what it shows only.
    search.rebuild(pkg["id"])
    assert call_action("package_search", {"user": ""}, q="name:oracle-stale")["count"] == 1
    assert call_action("package_search", {"user": ""}, fq=f"res_url:{json.dumps(url)}")["count"] == 0
