"""Dataset search through CKAN's own actions and pages.

These run against the suite's real Apache Solr (the session's own, or the one
``CKAN_SOLR_URL`` names) and pin down what CKAN users see: free text, fielded,
phrase and wildcard queries, facets (the Access and Embargo ones too), every
sort the UI offers, paging, private datasets, dataset types, date ranges,
local parameters and special characters, and what the index itself holds of
gated datasets (asked of Solr directly).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re

import pysolr
import pytest
import requests

import ckan.lib.search as search_lib
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import access

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


def search(user: dict | None = None, **params) -> dict:
    context = {"user": user["name"] if user else "", "ignore_auth": False}
    return tk.get_action("package_search")(context, params)


def names(result: dict) -> list[str]:
    return [d["name"] for d in result["results"]]


@pytest.fixture
def catalogue():
    org = factories.Organization(name="hydrology-lab", title="Hydrology Lab")
    other = factories.Organization(name="soil-lab", title="Soil Lab")
    rivers = factories.Dataset(
        name="river-flows",
        title="River flow measurements",
        notes="Daily discharge of the rivers in the northern basin.",
        owner_org=org["id"],
        tags=[{"name": "hydrology"}, {"name": "water"}],
        license_id="cc-by",
        resources=[{"url": "https://data.example.org/flows.csv", "format": "CSV"}],
    )
    rain = factories.Dataset(
        name="rainfall-2025",
        title="Rainfall 2025",
        notes="Hourly precipitation totals from forty stations.",
        owner_org=org["id"],
        tags=[{"name": "water"}, {"name": "weather"}],
        license_id="cc-by",
    )
    soil = factories.Dataset(
        name="soil-moisture",
        title="Soil moisture survey",
        notes="Volumetric soil water content, spring campaign.",
        owner_org=other["id"],
        tags=[{"name": "soil"}],
        license_id="odc-odbl",
    )
    return {"org": org, "other": other, "rivers": rivers, "rain": rain, "soil": soil}


def test_created_dataset_is_found_by_a_word_from_its_description(catalogue):
    result = search(q="discharge")
    assert names(result) == ["river-flows"]
    assert result["count"] == 1


def test_text_query_matches_word_forms_as_solr_stemming_does(catalogue):
    # "river" is in none of the texts literally; "rivers" and "River" are.
    assert names(search(q="river")) == ["river-flows"]
    assert names(search(q="stations")) == ["rainfall-2025"]


def test_text_query_with_several_words_needs_them_all(catalogue):
    assert names(search(q="soil spring")) == ["soil-moisture"]
    assert search(q="soil discharge")["count"] == 0


def test_field_filter_limits_results_to_one_organization(catalogue):
    result = search(fq="organization:hydrology-lab", sort="name asc")
    assert names(result) == ["rainfall-2025", "river-flows"]


def test_fielded_query_on_tags(catalogue):
    result = search(q="tags:water", sort="name asc")
    assert names(result) == ["rainfall-2025", "river-flows"]


def test_facets_count_datasets_per_value(catalogue):
    result = search(**{"facet.field": ["organization", "tags", "license_id"]})
    facets = result["search_facets"]
    orgs = {i["name"]: i["count"] for i in facets["organization"]["items"]}
    assert orgs == {"hydrology-lab": 2, "soil-lab": 1}
    tags = {i["name"]: i["count"] for i in facets["tags"]["items"]}
    assert tags == {"water": 2, "hydrology": 1, "weather": 1, "soil": 1}
    licenses = {i["name"]: i["count"] for i in facets["license_id"]["items"]}
    assert licenses == {"cc-by": 2, "odc-odbl": 1}


def test_facet_limit_keeps_the_most_frequent_values(catalogue):
    result = search(**{"facet.field": ["tags"], "facet.limit": 1})
    items = result["search_facets"]["tags"]["items"]
    assert [(i["name"], i["count"]) for i in items] == [("water", 2)]


def test_sort_and_paging(catalogue):
    first = search(sort="name asc", rows=2)
    second = search(sort="name asc", rows=2, start=2)
    assert first["count"] == second["count"] == 3
    assert names(first) == ["rainfall-2025", "river-flows"]
    assert names(second) == ["soil-moisture"]
    assert names(search(sort="name desc", rows=1)) == ["soil-moisture"]


def test_default_order_puts_the_best_match_first(catalogue):
    # "water" is a tag of two datasets but also in the soil text; the title hit wins.
    factories.Dataset(name="water-quality", title="Water quality", notes="Water water.")
    assert names(search(q="water"))[0] == "water-quality"


def test_deleted_dataset_disappears_from_search(catalogue):
    admin = factories.Sysadmin()
    call_action("package_delete", {"user": admin["name"]}, id="rainfall-2025")
    assert names(search(q="precipitation")) == []
    assert search()["count"] == 2


def test_updated_dataset_is_found_by_its_new_words_only(catalogue):
    admin = factories.Sysadmin()
    call_action("package_patch", {"user": admin["name"]}, id="soil-moisture", notes="Autumn campaign.")
    assert names(search(q="autumn")) == ["soil-moisture"]
    assert names(search(q="spring")) == []


def test_private_dataset_is_invisible_to_a_non_member(catalogue):
    factories.Dataset(
        name="unpublished-gauges",
        title="Unpublished gauges",
        owner_org=catalogue["org"]["id"],
        private=True,
    )
    outsider = factories.User()
    assert names(search(outsider, q="gauges", include_private=True)) == []
    assert names(search(None, q="gauges", include_private=True)) == []
    assert "unpublished-gauges" not in names(search(outsider, include_private=True, rows=50))


def test_private_dataset_is_visible_to_a_member_of_its_organization(catalogue):
    member = factories.User()
    call_action(
        "organization_member_create",
        id=catalogue["org"]["id"],
        username=member["name"],
        role="member",
    )
    factories.Dataset(
        name="unpublished-gauges",
        owner_org=catalogue["org"]["id"],
        private=True,
        title="Unpublished gauges",
    )
    assert names(search(member, q="gauges", include_private=True)) == [
        "unpublished-gauges"
    ]
    # Without include_private even members get public datasets only, as in CKAN.
    assert names(search(member, q="gauges")) == []


def test_organization_is_created_and_listed_with_its_dataset_count(catalogue):
    orgs = call_action("organization_list", all_fields=True, sort="name asc")
    counts = {o["name"]: o["package_count"] for o in orgs}
    assert counts == {"hydrology-lab": 2, "soil-lab": 1}


def test_dataset_search_page_lists_matches(app, catalogue):
    response = app.get(tk.url_for("dataset.search", q="precipitation"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Rainfall 2025" in body
    assert "River flow measurements" not in body
    assert "1 dataset found" in body


def test_search_page_facet_link_filters_results(app, catalogue):
    response = app.get(tk.url_for("dataset.search", tags="hydrology"))
    body = response.get_data(as_text=True)
    assert "River flow measurements" in body
    assert "Rainfall 2025" not in body


# Queries as users type them ------------------------------------------------


def test_free_text_finds_words_of_the_organization_and_resource_names(catalogue):
    # The organization's name and resource names are copied into "text" too.
    assert names(search(q="hydrology", sort="name asc")) == ["rainfall-2025", "river-flows"]
    call_action("package_patch", {"user": factories.Sysadmin()["name"]}, id="soil-moisture",
                resources=[{"url": "https://data.example.org/probes.csv", "name": "Probe readings"}])
    assert names(search(q="probe")) == ["soil-moisture"]


def test_fielded_queries_match_one_field(catalogue):
    assert names(search(q="title:moisture")) == ["soil-moisture"]
    assert names(search(q="notes:moisture")) == []  # the word is in the title only
    assert names(search(q="organization:soil-lab")) == ["soil-moisture"]
    assert names(search(q="res_format:CSV")) == ["river-flows"]
    assert names(search(q="license_id:odc-odbl")) == ["soil-moisture"]
    assert names(search(q="tags:water AND -tags:weather")) == ["river-flows"]
    assert names(search(q="name:rainfall-2025")) == ["rainfall-2025"]


def test_phrase_queries_need_the_words_together_and_in_order(catalogue):
    assert names(search(q='"soil water"')) == ["soil-moisture"]
    assert names(search(q='"water soil"')) == []
    assert names(search(q='notes:"northern basin"')) == ["river-flows"]
    assert names(search(q='notes:"basin northern"')) == []


def test_wildcard_queries_on_names_and_words(catalogue):
    assert names(search(q="name:rain*")) == ["rainfall-2025"]
    assert names(search(q="name:*-2025")) == ["rainfall-2025"]
    assert names(search(q="title:moist*")) == ["soil-moisture"]
    assert names(search(q="title:MOIST*")) == ["soil-moisture"]  # text wildcards are lowercased
    assert names(search(q="name:RAIN*")) == []  # names are strings: case kept
    # Without a colon CKAN uses dismax, where "*" is not a wildcard but a
    # character of the word, which the analysis then drops.
    assert names(search(q="precipitation*")) == ["rainfall-2025"]
    assert names(search(q="precip*")) == []


# Facets ---------------------------------------------------------------------


@pytest.fixture
def tiers():
    """One dataset per tier and an embargoed open one, in one organisation."""
    editor = factories.User()
    org = factories.Organization(name="geology-lab", users=[{"name": editor["name"], "capacity": "editor"}])
    until = (access.utcnow() + dt.timedelta(days=30)).isoformat()
    made = {}
    for key, tier, extra in (("open", "open", {}), ("registered", "registered", {}),
                             ("agreement", "agreement", {}), ("controlled", "controlled", {}),
                             ("embargoed", "open", {"embargo_until": until, "embargo_reason": "Paper in review"})):
        made[key] = call_action(
            "package_create", {"user": editor["name"]}, name=f"cores-{key}",
            title=f"Drill cores {key}", owner_org=org["id"], access_tier=tier,
            notes="Rock cores from the northern quarry.", **extra)
    return {"editor": editor, "org": org, "datasets": made}


def test_access_and_embargo_facets_count_datasets_with_their_labels(tiers):
    result = search(**{"facet.field": ["access_tier", "embargoed"]})
    facets = result["search_facets"]
    access_items = {i["name"]: (i["count"], i["display_name"]) for i in facets["access_tier"]["items"]}
    assert access_items == {
        "open": (2, "Open"), "registered": (1, "Registered users"),
        "agreement": (1, "Data use agreement"), "controlled": (1, "Controlled access")}
    embargo_items = {i["name"]: (i["count"], i["display_name"]) for i in facets["embargoed"]["items"]}
    assert embargo_items == {"false": (4, "Available"), "true": (1, "Embargoed")}


def test_access_and_embargo_fields_filter_searches(tiers):
    assert names(search(fq="access_tier:controlled")) == ["cores-controlled"]
    assert names(search(fq="embargoed:true")) == ["cores-embargoed"]
    assert names(search(q="access_tier:open AND embargoed:false")) == ["cores-open"]
    assert sorted(names(search(fq="-access_tier:open"))) == [
        "cores-agreement", "cores-controlled", "cores-registered"]


def test_search_page_has_access_and_embargo_facets_whose_links_filter(app, tiers):
    body = app.get(tk.url_for("dataset.search")).get_data(as_text=True)
    assert 'aria-label="Filter by: Access"' in body and 'aria-label="Filter by: Embargo"' in body
    assert re.search(r'href="/dataset/\?access_tier=registered"[^>]*>\s*<span class="item-label">'
                     r'Registered users</span>', body)
    assert re.search(r'href="/dataset/\?embargoed=true"[^>]*>\s*<span class="item-label">Embargoed</span>', body)
    body = app.get(tk.url_for("dataset.search", access_tier="registered")).get_data(as_text=True)
    assert "Drill cores registered" in body and "1 dataset found" in body
    assert "Drill cores open" not in body
    body = app.get(tk.url_for("dataset.search", embargoed="true")).get_data(as_text=True)
    assert "Drill cores embargoed" in body and "1 dataset found" in body


def test_zero_count_facets_do_not_list_values_of_datasets_outside_the_results(catalogue):
    # With facet.mincount 0 Solr lists at zero the values of every document
    # of the index, past every filter: a private dataset's name and resource
    # URL were named to everyone (and a stale copy's URLs, see the last test).
    # The extension raises mincount to 1.
    factories.Dataset(name="unpublished-gauges", owner_org=catalogue["org"]["id"], private=True,
                      resources=[{"url": "https://data.example.org/unpublished-gauges.csv"}])
    result = search(None, q="name:soil-moisture",
                    **{"facet.field": ["name", "res_url"], "facet.mincount": 0, "facet.limit": -1})
    listed = {f: [i["name"] for i in v["items"]] for f, v in result["search_facets"].items()}
    assert listed == {"name": ["soil-moisture"], "res_url": []}
    assert "unpublished-gauges" not in json.dumps(result)


# Sorting and paging --------------------------------------------------------


@pytest.fixture
def shelf():
    """Four datasets created one after another; names, titles and creation
    order each sort them differently."""
    made = []
    for name, title in (("delta-sediment", "Sediment of the delta"), ("alpine-lakes", "Lakes of the Alps"),
                        ("coastal-tides", "Tides at the coast"), ("basin-aquifers", "aquifers of the basin")):
        made.append(factories.Dataset(name=name, title=title, notes="Survey of water bodies."))
    return made


def test_sort_by_title_is_by_the_exact_title_string(shelf):
    # title_string is a string field: upper case sorts before lower case.
    assert names(search(sort="title_string asc")) == [
        "alpine-lakes", "delta-sediment", "coastal-tides", "basin-aquifers"]
    assert names(search(sort="title_string desc")) == [
        "basin-aquifers", "coastal-tides", "delta-sediment", "alpine-lakes"]


def test_sort_by_name_both_ways(shelf):
    assert names(search(sort="name asc")) == [
        "alpine-lakes", "basin-aquifers", "coastal-tides", "delta-sediment"]
    assert names(search(sort="name desc")) == [
        "delta-sediment", "coastal-tides", "basin-aquifers", "alpine-lakes"]


def test_sort_by_modification_and_creation_dates(shelf):
    created = ["delta-sediment", "alpine-lakes", "coastal-tides", "basin-aquifers"]
    assert names(search(sort="metadata_modified desc")) == created[::-1]
    assert names(search(sort="metadata_created asc")) == created
    call_action("package_patch", {"user": factories.Sysadmin()["name"]}, id="alpine-lakes",
                notes="Survey of water bodies, revised.")
    assert names(search(sort="metadata_modified desc")) == [
        "alpine-lakes", "basin-aquifers", "coastal-tides", "delta-sediment"]
    assert names(search(sort="metadata_created asc")) == created  # creation order stays
    assert names(search(sort="metadata_created desc")) == created[::-1]


def test_relevance_sort_breaks_ties_by_the_latest_modification():
    # Twins: the same words in fields of the same lengths, so the same score.
    for name in ("gauge-north", "gauge-south"):
        factories.Dataset(name=name, title="River gauge", notes="Hourly readings.")
    relevance = "score desc, metadata_modified desc"  # the UI's "Relevance"
    assert names(search(q="readings", sort=relevance)) == ["gauge-south", "gauge-north"]
    # A change to a field outside the searched text: same score, newer.
    call_action("package_patch", {"user": factories.Sysadmin()["name"]}, id="gauge-north", version="2")
    assert names(search(q="readings", sort=relevance)) == ["gauge-north", "gauge-south"]


def test_relevance_sort_puts_a_title_match_before_a_description_match(shelf):
    factories.Dataset(name="estuary-survey", title="Estuary survey", notes="Salinity.")
    factories.Dataset(name="salt-marsh", title="Salt marsh", notes="Marsh at the estuary mouth.")
    assert names(search(q="estuary", sort="score desc, metadata_modified desc")) == [
        "estuary-survey", "salt-marsh"]
    # No sort given: the configured default, which is the same.
    result = search(q="estuary")
    assert result["sort"] == "score desc, metadata_modified desc"
    assert names(result) == ["estuary-survey", "salt-marsh"]


def test_search_page_sorts_as_asked(app, shelf):
    body = app.get(tk.url_for("dataset.search", sort="title_string desc")).get_data(as_text=True)
    positions = [body.index(d["title"]) for d in shelf]
    titles = [d["title"] for _, d in sorted(zip(positions, shelf))]
    assert titles == ["aquifers of the basin", "Tides at the coast", "Sediment of the delta",
                      "Lakes of the Alps"]


def test_paging_past_the_first_page_with_rows_and_start(shelf):
    first = search(sort="name asc", rows=3)
    rest = search(sort="name asc", rows=3, start=3)
    assert first["count"] == rest["count"] == 4
    assert names(first) + names(rest) == [
        "alpine-lakes", "basin-aquifers", "coastal-tides", "delta-sediment"]
    beyond = search(sort="name asc", rows=3, start=10)
    assert beyond["count"] == 4 and beyond["results"] == []


@pytest.mark.ckan_config("ckan.datasets_per_page", 3)
def test_search_page_two_lists_the_next_datasets(app, shelf):
    one = app.get(tk.url_for("dataset.search", sort="name asc")).get_data(as_text=True)
    two = app.get(tk.url_for("dataset.search", sort="name asc", page=2)).get_data(as_text=True)
    assert "4 datasets found" in one and "4 datasets found" in two
    for title in ("Lakes of the Alps", "aquifers of the basin", "Tides at the coast"):
        assert title in one and title not in two
    assert "Sediment of the delta" in two and "Sediment of the delta" not in one
    assert "page=2" in one  # the pager links on


# Who sees what ---------------------------------------------------------------


@pytest.fixture
def private_shelf(catalogue):
    member, outsider, admin = factories.User(), factories.User(), factories.Sysadmin()
    call_action("organization_member_create", id=catalogue["org"]["id"],
                username=member["name"], role="member")
    factories.Dataset(name="unpublished-gauges", title="Unpublished gauges", notes="Gauge drafts.",
                      owner_org=catalogue["org"]["id"], private=True)
    factories.Dataset(name="unpublished-cores", title="Unpublished cores", notes="Core drafts.",
                      owner_org=catalogue["other"]["id"], private=True)
    return {"member": member, "outsider": outsider, "admin": admin}


def test_include_private_shows_the_private_datasets_of_the_users_organizations_only(private_shelf):
    member, outsider, admin = (private_shelf[k] for k in ("member", "outsider", "admin"))
    privates = "capacity:private"
    assert names(search(member, fq=privates, include_private=True)) == ["unpublished-gauges"]
    assert names(search(outsider, fq=privates, include_private=True)) == []
    assert names(search(None, fq=privates, include_private=True)) == []
    assert sorted(names(search(admin, fq=privates, include_private=True))) == [
        "unpublished-cores", "unpublished-gauges"]
    assert names(search(admin, fq=privates)) == []  # not asked for: public only, even for sysadmins
    assert search(member, include_private=True)["count"] == 4


ESCAPES = [
    {"q": "{!lucene}*:*"},
    {"q": "{!lucene q.op=OR}capacity:private"},
    {"q": "{!lucene v=$fq}"},
    {"q": "*:* OR {!lucene}capacity:private"},
    {"q": '_query_:"{!lucene}capacity:private"'},
    {"q": "_val_:1"},
    {"fq": "{!lucene}capacity:private"},
    {"fq": "capacity:private OR *:*"},
    {"fq": "+state:active OR capacity:private"},
    {"fq": "-permission_labels:nothing"},
    {"q": "capacity:private", "defType": "lucene"},
    {"q": "capacity:private", "defType": "edismax", "qf": "capacity"},
    {"q": "private", "qf": "capacity"},
]


def test_local_params_and_filter_tricks_do_not_reveal_private_datasets(private_shelf):
    refused = 0
    for params in ESCAPES:
        for user in (None, private_shelf["outsider"]):
            try:
                result = search(user, include_private=True, rows=50, **params)
            except (tk.ValidationError, search_lib.SearchError):
                refused += 1  # CKAN refuses local parameters and magic fields
                continue
            assert not {"unpublished-gauges", "unpublished-cores"} & set(names(result)), params
            assert "unpublished" not in json.dumps(result), params
    # CKAN refuses local parameters ("{!") and its magic fields outright.
    assert refused == 2 * sum(1 for params in ESCAPES if any(
        "{!" in v or "_query_" in v or "_val_" in v for v in params.values()))
    # The same tricks as the member: the member's own private dataset only.
    member = private_shelf["member"]
    assert names(search(member, include_private=True, fq="capacity:private")) == ["unpublished-gauges"]
    assert "unpublished-cores" not in names(search(member, include_private=True, fq="capacity:private OR *:*"))


def test_local_params_through_the_api_are_a_clear_error_not_a_leak(app, private_shelf):
    answer = app.get("/api/3/action/package_search", query_string={"q": "{!lucene}*:*", "include_private": "true"})
    assert answer.status_code == 409
    assert answer.json["error"]["__type"] == "Search Error"
    assert "unpublished" not in answer.get_data(as_text=True)


TWO_TYPES = [
    pytest.mark.ckan_config("ckan.plugins", "scheming_datasets governance"),
    pytest.mark.ckan_config("scheming.dataset_schemas",
                            "ckanext.scheming:ckan_dataset.yaml ckanext.scheming:camel_photos.yaml"),
]


@pytest.fixture
def camels(catalogue):
    """A second dataset type (ckanext-scheming's camel-photos), gated."""
    admin = factories.Sysadmin()
    camel = call_action(
        "package_create", {"user": admin["name"]}, type="camel-photos", name="camel-no-5",
        title="Larry the camel", humps=2, owner_org=catalogue["org"]["id"], access_tier="registered",
        resources=[{"url": "https://photos.example.org/dromedary/larry.jpg", "name": "Larry at the oasis"}])
    return camel


@TWO_TYPES[0]
@TWO_TYPES[1]
def test_a_second_dataset_type_is_searched_by_its_type(app, camels):
    assert names(search(fq="dataset_type:camel-photos")) == ["camel-no-5"]
    assert names(search(q="camel")) == ["camel-no-5"]  # the API searches every type
    facets = search(**{"facet.field": ["dataset_type"]})["search_facets"]["dataset_type"]["items"]
    assert {i["name"]: i["count"] for i in facets} == {"dataset": 3, "camel-photos": 1}
    # CKAN 2.12's default (ckan.search.show_all_types = dataset): the
    # /dataset page lists every type, another type's page its own only.
    body = app.get("/dataset/").get_data(as_text=True)
    assert "River flow measurements" in body and "Larry the camel" in body
    assert "4 datasets found" in body
    body = app.get("/camel-photos/").get_data(as_text=True)
    assert "Larry the camel" in body and "River flow measurements" not in body
    assert re.search(r"<h1>\s*1 [\w -]+ found", body)
    # And the tier holds for it as for any dataset.
    found = search(None, q="name:camel-no-5")["results"][0]
    assert found["governance"]["reason"] == "login_required"
    assert "dromedary" not in json.dumps(found)
    assert engine().search("urls:dromedary OR res_url:*dromedary*").hits == 0


@TWO_TYPES[0]
@TWO_TYPES[1]
@pytest.mark.ckan_config("ckan.search.show_all_types", "false")
def test_without_show_all_types_the_dataset_page_lists_its_own_type(app, camels):
    body = app.get("/dataset/").get_data(as_text=True)
    assert "River flow measurements" in body and "Larry the camel" not in body
    assert "3 datasets found" in body


# Dates -----------------------------------------------------------------------


def solr_date(value: str) -> str:
    """A CKAN timestamp (UTC, no zone, microseconds) as Solr keeps it: to the
    millisecond."""
    return value[:23] + "Z"


def test_date_range_queries_relative_to_a_datasets_own_timestamps(shelf):
    # Relative to the datasets' own times, not NOW: the test process's clock
    # may run ahead (make test-future) while Solr's is the real one.
    first, second, last = shelf[0], shelf[1], shelf[-1]
    start, end = solr_date(first["metadata_modified"]), solr_date(last["metadata_modified"])
    everyone = sorted(d["name"] for d in shelf)
    assert sorted(names(search(q=f"metadata_modified:[{start} TO {end}]"))) == everyone
    assert names(search(q=f"metadata_modified:[* TO {start}]")) == ["delta-sediment"]
    assert names(search(q=f'metadata_modified:"{start}"')) == ["delta-sediment"]
    # Exclusive bounds leave the instant itself out.
    assert "delta-sediment" not in names(search(fq=f"metadata_modified:{{{start} TO *]"))
    second_at = solr_date(second["metadata_modified"])
    assert names(search(fq=f"metadata_created:{{{start} TO {second_at}]")) == ["alpine-lakes"]
    # Date math on a dataset's own value.
    assert sorted(names(search(fq=f"metadata_created:[{start}-1DAY TO {end}+1DAY]"))) == everyone
    assert "delta-sediment" in names(search(fq=f"metadata_created:[{start}/DAY TO {start}/DAY+1DAY]"))
    assert search(fq=f"metadata_created:[{end}+1DAY TO *]")["count"] == 0
    assert search(fq=f"metadata_created:[* TO {start}-1DAY]")["count"] == 0


def test_embargo_dates_are_searchable_as_dates(tiers):
    until = tiers["datasets"]["embargoed"]["embargo_until"]
    # embargo_until itself falls to CKAN's catch-all string field: exact
    # values only. embargo_until_date is a date field (CKAN's "*_date").
    assert names(search(fq=f'embargo_until:"{until}"')) == ["cores-embargoed"]
    assert names(search(fq=f"embargo_until_date:[{until}-1DAY TO {until}+1DAY]")) == ["cores-embargoed"]
    assert names(search(fq=f"embargo_until_date:[{until}-1HOUR TO *]")) == ["cores-embargoed"]
    assert search(fq=f"embargo_until_date:[{until}+1SECOND TO *]")["count"] == 0
    # Solr's NOW is the real time; the embargo is 30 days ahead of the
    # application's clock, which runs ahead of it or with it.
    assert names(search(fq="embargo_until_date:[NOW TO *]")) == ["cores-embargoed"]
    assert search(fq="embargo_until_date:[* TO NOW]")["count"] == 0


def test_a_lifted_embargo_leaves_no_date_in_the_index(tiers):
    call_action("package_patch", {"user": tiers["editor"]["name"]}, id="cores-embargoed", embargo_until="")
    assert search(fq="embargo_until_date:*")["count"] == 0
    assert names(search(fq="embargoed:true")) == []


# Special characters ------------------------------------------------------


def assert_search_finds(app, q: str, expected: list[str]) -> None:
    """Through the action, the API and the search page."""
    assert names(search(q=q)) == expected, q
    answer = app.get("/api/3/action/package_search", query_string={"q": q})
    assert answer.status_code == 200, q
    assert [d["name"] for d in answer.json["result"]["results"]] == expected, q
    body = app.get(tk.url_for("dataset.search", q=q)).get_data(as_text=True)
    assert "There was an error while searching" not in body, q
    assert (f"{len(expected)} dataset found" if expected else "No datasets found") in body, q


def test_syntax_characters_without_a_colon_are_searched_as_words(app, catalogue):
    # Without a colon CKAN sends dismax, which escapes syntax characters and
    # drops unbalanced quotes: the words are searched.
    for q in ('river "flows', "(river", "river)", "river -", "data/flows", "/flows/", "river\\",
              "river \\ flows", "river~", "river && flows", "river || flows", "!river", "river^",
              "river-flows"):
        assert_search_finds(app, q, ["river-flows"])
    # ... or nothing is left to search, or only a negation: dismax finds nothing.
    for q in ("\\", "((", "[river TO", "*", "?", "^2", "{", "}", "-river"):
        assert_search_finds(app, q, [])


def test_fielded_queries_with_special_characters_find_what_they_name(app, catalogue):
    assert_search_finds(app, "river:flows", [])  # a field no dataset has
    assert_search_finds(app, "title:river\\:flow", ["river-flows"])
    assert_search_finds(app, 'res_url:"https://data.example.org/flows.csv"', ["river-flows"])
    assert_search_finds(app, r"res_url:https\:\/\/data.example.org\/flows.csv", ["river-flows"])
    assert_search_finds(app, r"name:river\-flows", ["river-flows"])
    assert_search_finds(app, 'title:"River flow"', ["river-flows"])


def test_queries_neither_parser_takes_are_a_search_error_not_a_500(app, catalogue):
    # CKAN's "Search error": a 409 from the API, the search page's message.
    for q in ("--included", '"', "a:b:c", "title:", ":", "title:(river", 'notes:"unclosed',
              "name:[a TO", "https://data.example.org/flows.csv"):  # "/" opens a regex
        with pytest.raises(search_lib.SearchError):
            search(q=q)
        answer = app.get("/api/3/action/package_search", query_string={"q": q})
        assert answer.status_code == 409, q
        assert answer.json["success"] is False and answer.json["error"]["__type"] == "Search Error"
        page = app.get(tk.url_for("dataset.search", q=q))
        assert page.status_code == 200 and "There was an error while searching" in page.get_data(as_text=True), q


# What the index holds of gated datasets -----------------------------------


SECRETS = {"registered": "sandstone", "agreement": "limestone", "controlled": "granite",
           "embargoed": "basalt", "open": "marble"}


@pytest.fixture
def mirror_field(index_resource_extra):
    index_resource_extra("mirror")


@pytest.fixture
def vault(mirror_field):
    """A dataset per gated tier, an embargoed open one, and an open control,
    each with its own word only in its resource's URL and an extra."""
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    until = (access.utcnow() + dt.timedelta(days=30)).isoformat()
    made = {}
    for key, word in SECRETS.items():
        extra = {"embargo_until": until, "embargo_reason": "Paper in review"} if key == "embargoed" else {}
        made[key] = call_action(
            "package_create", {"user": editor["name"]}, name=f"survey-{key}",
            title=f"Rock survey {key}", notes="Thin sections of drill cores.", owner_org=org["id"],
            access_tier="open" if key == "embargoed" else key,
            resources=[{"name": "Thin sections", "format": "CSV",
                        "url": f"https://{word}.example.org/cores/{word}-sections.csv",
                        "mirror": f"https://mirror.example.org/{word}/sections.csv"}],
            **extra)
    return {"editor": editor, "datasets": made}


def engine() -> pysolr.Solr:
    return pysolr.Solr(os.environ["CKAN_SOLR_URL"], timeout=30)


def indexed_text_fields() -> list[str]:
    """Every string or text field the index holds terms of (dynamic ones too)."""
    luke = requests.get(os.environ["CKAN_SOLR_URL"].rstrip("/") + "/admin/luke",
                        params={"wt": "json", "numTerms": 0}, timeout=30)
    fields = luke.json()["fields"]
    return sorted(name for name, info in fields.items()
                  if info.get("type") in ("string", "text", "text_general", "text_ngram")
                  and "I" in (info.get("schema") or ""))


def ours(dataset: dict) -> str:
    return f'+site_id:"{tk.config["ckan.site_id"]}" +id:"{dataset["id"]}"'


def test_the_index_holds_no_url_of_a_gated_dataset_in_any_field(vault):
    fields = indexed_text_fields()
    assert {"res_url", "urls", "text", "res_extras_mirror"} <= set(fields)
    for key, word in SECRETS.items():
        dataset = vault["datasets"][key]
        stored = engine().search("*:*", fq=ours(dataset), fl="*").docs
        assert len(stored) == 1
        copies = [stored[0].get("data_dict") or "", stored[0].get("validated_data_dict") or ""]
        matching = [f for f in fields
                    if engine().search(f"{f}:*{word}*", fq=ours(dataset), rows=0).hits]
        if key == "open":
            # The control: the same checks see an open dataset's URL.
            assert word in json.dumps(stored)
            assert all(word in copy for copy in copies)
            assert {"res_url", "urls", "text", "res_extras_mirror"} <= set(matching)
            assert engine().search(f"text:{word}", fq=ours(dataset)).hits == 1
        else:
            assert word not in json.dumps(stored), key
            assert all(json.loads(copy) and word not in copy for copy in copies), key
            assert matching == [], (key, matching)
            assert engine().search(f"text:{word}", fq=ours(dataset)).hits == 0
            assert engine().search("res_url:*", fq=ours(dataset)).hits == 0
            assert engine().search("urls:*", fq=ours(dataset)).hits == 0
            # What is not data stays findable.
            assert engine().search("res_name:thin", fq=ours(dataset)).hits == 1


def test_a_tier_change_replaces_the_index_copy(vault):
    editor = {"user": vault["editor"]["name"]}
    dataset = vault["datasets"]["registered"]
    call_action("package_patch", dict(editor), id=dataset["id"], access_tier="open")
    assert engine().search("text:sandstone", fq=ours(dataset)).hits == 1
    call_action("package_patch", dict(editor), id=dataset["id"], access_tier="controlled")
    assert engine().search("text:sandstone", fq=ours(dataset)).hits == 0
    assert engine().search("*:*", fq=ours(dataset)).hits == 1  # one copy, overwritten
    assert "sandstone" not in json.dumps(engine().search("*:*", fq=ours(dataset), fl="*").docs)


STATISTICS = [
    {"fl": ["name", "docfreq(name,'unpublished-gauges')"]},
    {"fl": ["name", "found:docfreq(res_url,'https://data.example.org/unpublished-gauges.csv')"]},
    {"fl": "name,idf(name,'unpublished-gauges')"},
    {"fl": ["name", "[explain]"]},
    {"sort": "if(gt(docfreq(name,'unpublished-gauges'),0),ms(metadata_modified),0) desc"},
    {"bf": "docfreq(name,'unpublished-gauges')", "fl": ["name", "score"], "q": "soil"},
    {"boost": "sum(1,ttf(name,'unpublished-gauges'))", "defType": "edismax", "q": "soil"},
]


def test_index_statistics_cannot_count_what_the_caller_may_not_see(app, catalogue):
    # docfreq() and its kin count documents in the whole index, past every
    # filter: a private dataset's name or URL would be confirmed to anyone
    # (real Solr answered docfreq(name,'unpublished-gauges') = 1 to anonymous).
    factories.Dataset(name="unpublished-gauges", owner_org=catalogue["org"]["id"], private=True,
                      resources=[{"url": "https://data.example.org/unpublished-gauges.csv"}])
    for params in STATISTICS:
        with pytest.raises(search_lib.SearchQueryError):
            search(None, **params)
        query = {k: (",".join(v) if isinstance(v, list) else v) for k, v in params.items()}
        answer = app.get("/api/3/action/package_search", query_string=query)
        assert answer.status_code == 400 and answer.json["error"]["__type"] == "Search Query Error", params
        assert "unpublished" not in json.dumps(answer.json["error"]).replace(json.dumps(params)[1:-1], "")


def test_field_lists_of_field_names_still_work(catalogue):
    found = search(q="name:river-flows", fl=["name", "title", "score"])["results"]
    assert [set(d) for d in found] == [{"name", "title", "score"}]
    assert search(q="name:river-flows", fl="name,title")["results"] == [
        {"name": "river-flows", "title": "River flow measurements"}]


def test_a_search_page_sorted_by_index_statistics_is_a_400(app, catalogue):
    answer = app.get(tk.url_for("dataset.search", sort="docfreq(name,'soil-moisture') desc"))
    assert answer.status_code == 400


def test_a_stale_copy_hidden_by_the_closed_default_is_neither_listed_at_zero_nor_counted(
        ckan_config, monkeypatch):
    # The copy plain CKAN made before the extension (URLs included), on a
    # site whose default tier is now closed: search_params' filter keeps it
    # out of results, and neither a zero-count facet nor docfreq() gets past.
    from ckan import model

    from ckanext.governance import search_index
    from ckanext.governance.model import DatasetPolicy

    factories.Dataset(name="visible-survey", title="Visible survey")
    url = "https://obsidian.example.org/cores/obsidian-sections.csv"
    pkg = factories.Dataset(name="stale-survey", resources=[{"url": url, "name": "Sections"}])
    model.Session.query(DatasetPolicy).filter_by(package_id=pkg["id"]).delete()
    model.Session.commit()
    with monkeypatch.context() as plain:
        plain.setattr(search_index, "index_document", lambda pkg_dict: pkg_dict)
        search_lib.rebuild(pkg["id"])
    assert engine().search(f'res_url:"{url}"').hits == 1  # the copy holds the URL
    monkeypatch.setitem(ckan_config, "ckanext.governance.default_tier", "registered")

    assert names(search(None)) == ["visible-survey"]
    zero = search(None, **{"facet.field": ["res_url", "name"], "facet.mincount": 0, "facet.limit": -1})
    assert "obsidian" not in json.dumps(zero) and "stale-survey" not in json.dumps(zero)
    with pytest.raises(search_lib.SearchQueryError):
        search(None, fl=["name", f"docfreq(res_url,'{url}')"])
