"""Dataset search through CKAN's own actions and pages.

These run against whatever search service the suite is using: the stand-in
from dev/solr_standin by default, a real Solr when CKAN_SOLR_URL is set. They
pin down what CKAN users see, so the stand-in stays faithful.
"""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

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
