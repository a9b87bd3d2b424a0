"""Searching the Solr stand-in through pysolr, as CKAN does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pysolr
import pytest
from standin_helpers import dataset, names, skip_with_real_solr

pytestmark = skip_with_real_solr

QF = "name^4 title^4 tags^2 groups^2 text"  # CKAN's QUERY_FIELDS
MM = "2<-1 5<80%"  # CKAN's default minimum-match


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_text_search_stems_english_words(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", notes="The river flooded"), dataset("b", notes="Mountain lakes")], commit=True)

    assert names(solr.search("notes:rivers", fl="name")) == ["a"]
    assert names(solr.search("text:floods", fl="name")) == ["a"]  # notes is copied into text
    assert names(solr.search("notes:mountains", fl="name")) == ["b"]
    assert solr.search("notes:riverbank", fl="name").hits == 0


def test_text_analysis_folds_case_accents_and_splits_words(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", notes="Café Wi-Fi hotspots PowerShot"), dataset("b", notes="plain")], commit=True)

    for query in ("notes:cafe", "notes:CAFÉ", "notes:wifi", "notes:fi", "notes:hotspot",
                  "notes:shot", "notes:powershot", 'notes:"wi fi"'):
        assert names(solr.search(query, fl="name")) == ["a"], query


def test_string_fields_match_exactly(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", tags=["Water Quality", "rivers"]), dataset("b", tags=["water"])], commit=True)

    assert names(solr.search('tags:"Water Quality"', fl="name")) == ["a"]
    assert names(solr.search("tags:water", fl="name")) == ["b"]
    assert solr.search("tags:river", fl="name").hits == 0  # no stemming on strings
    assert solr.search("tags:Water", fl="name").hits == 0  # and no splitting either


def test_phrase_needs_adjacent_words_in_order(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", notes="quality of river water"),
              dataset("b", notes="water from the river")], commit=True)

    assert names(solr.search('notes:"river water"', fl="name")) == ["a"]
    assert names(solr.search('notes:"quality water"~2', fl="name")) == ["a"]  # slop
    assert solr.search('notes:"quality water"~1', fl="name").hits == 0
    assert solr.search('notes:"water quality"', fl="name").hits == 0


def test_wildcards_on_string_and_text_fields(solr: pysolr.Solr) -> None:
    solr.add([dataset("river-flow", notes="Rivers"), dataset("lake-levels", notes="Lakes")], commit=True)

    assert names(solr.search("name:river*", fl="name")) == ["river-flow"]
    assert names(solr.search("name:lake?levels", fl="name")) == ["lake-levels"]
    assert names(solr.search("notes:RIV*", fl="name")) == ["river-flow"]  # lowercased, not stemmed
    assert solr.search("name:River*", fl="name").hits == 0  # strings keep case
    assert solr.search("notes:*", fl="name").hits == 2


def test_date_ranges_with_date_math(solr: pysolr.Solr) -> None:
    now = datetime.now(timezone.utc)
    solr.add([dataset("old", metadata_modified=iso(now - timedelta(days=400))),
              dataset("recent", metadata_modified=iso(now - timedelta(hours=2))),
              dataset("fixed", metadata_modified="2020-06-15T12:00:00Z")], commit=True)

    assert names(solr.search("metadata_modified:[NOW-1DAY TO NOW]", fl="name")) == ["recent"]
    assert set(names(solr.search("metadata_modified:[* TO NOW/DAY-1YEAR]", fl="name"))) == {"old", "fixed"}
    assert names(solr.search("metadata_modified:[2020-01-01T00:00:00Z TO 2020-12-31T00:00:00Z]",
                             fl="name")) == ["fixed"]
    assert names(solr.search('metadata_modified:"2020-06-15T12:00:00Z"', fl="name")) == ["fixed"]
    # Exclusive bound: exactly the stored instant is left out.
    assert solr.search("metadata_modified:{2020-06-15T12:00:00Z TO *]", fl="name").hits == 2


def test_numeric_ranges_compare_numbers_not_strings(solr: pysolr.Solr) -> None:
    solr.add([dataset("nine", views_total=9), dataset("ten", views_total=10)], commit=True)

    assert names(solr.search("views_total:[5 TO 9]", fl="name")) == ["nine"]
    assert names(solr.search("views_total:[10 TO *]", fl="name")) == ["ten"]
    assert names(solr.search("views_total:10", fl="name")) == ["ten"]


def test_boolean_operators_and_negation(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", tags=["x", "y"]), dataset("b", tags=["x"]), dataset("c", tags=["z"])],
             commit=True)

    def found(q: str, **params: str) -> set[str]:
        return set(names(solr.search(q, fl="name", rows=10, **params)))

    assert found("tags:x AND tags:y") == {"a"}
    assert found("tags:x OR tags:z") == {"a", "b", "c"}
    assert found("tags:x AND NOT tags:y") == {"b"}
    assert found("+tags:x -tags:y") == {"b"}
    assert found("-tags:x") == {"c"}  # a purely negative query
    assert found("tags:(y OR z)") == {"a", "c"}
    assert found("(tags:x AND tags:y) OR tags:z") == {"a", "c"}
    assert found("tags:x tags:z") == {"a", "b", "c"}  # implicit operator defaults to OR
    assert found("tags:x tags:z", **{"q.op": "AND"}) == set()
    assert found("*:*") == {"a", "b", "c"}


def test_filter_queries_combine(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", state="active", tags=["x"]), dataset("b", state="deleted", tags=["x"]),
              dataset("c", state="active", tags=["y"])], commit=True)

    results = solr.search("*:*", fl="name", fq=['+site_id:"default"', "+state:active", "tags:x"])
    assert names(results) == ["a"]
    assert set(names(solr.search("*:*", fl="name", fq="-state:deleted"))) == {"a", "c"}
    assert solr.search("*:*", fl="name", fq='+site_id:"elsewhere"').hits == 0


def test_permission_labels_filter_private_datasets(solr: pysolr.Solr) -> None:
    solr.add([dataset("public"),
              dataset("member", capacity="private", permission_labels=["member-abc"]),
              dataset("other", capacity="private", permission_labels=["member-xyz"])], commit=True)

    visible = solr.search("*:*", fl="*", fq=['+permission_labels:("public" OR "member-abc")'])
    assert sorted(names(visible)) == ["member", "public"]
    # permission_labels is indexed but not stored, so never returned.
    assert all("permission_labels" not in doc for doc in visible.docs)
    anonymous = solr.search("*:*", fl="name", fq=['+permission_labels:("public")'])
    assert names(anonymous) == ["public"]


def test_facets_honour_limit_mincount_and_sort(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", tags=["x", "y"], res_format=["CSV"]),
              dataset("b", tags=["x"], res_format=["CSV"]),
              dataset("c", tags=["z"])], commit=True)

    def facet(**params: object) -> list[object]:
        results = solr.search("*:*", rows=0, facet="true", **{"facet.field": "tags", **params})
        return results.facets["facet_fields"]["tags"]

    assert facet(**{"facet.mincount": 1}) == ["x", 2, "y", 1, "z", 1]
    assert facet(**{"facet.limit": 1, "facet.mincount": 1}) == ["x", 2]
    assert facet(**{"facet.mincount": 2}) == ["x", 2]
    assert facet(**{"facet.limit": -1, "facet.sort": "index"}) == ["x", 2, "y", 1, "z", 1]
    # With mincount 0 terms of non-matching documents are listed at zero.
    zero = solr.search("tags:y", rows=0, facet="true", **{"facet.field": ["tags", "res_format"]})
    assert zero.facets["facet_fields"] == {"tags": ["x", 1, "y", 1, "z", 0], "res_format": ["CSV", 1]}


def test_sort_by_field_with_missing_values_last(solr: pysolr.Solr) -> None:
    solr.add([dataset("b", title_string="Beta"), dataset("a", title_string="Alpha"),
              dataset("none"), dataset("c", title_string="Gamma")], commit=True)

    assert names(solr.search("*:*", fl="name", sort="title_string asc")) == ["a", "b", "c", "none"]
    assert names(solr.search("*:*", fl="name", sort="title_string desc")) == ["c", "b", "a", "none"]


def test_sort_by_score_then_by_next_clause(solr: pysolr.Solr) -> None:
    solr.add([dataset("weak", notes="river and lots of other words in a long text here",
                      metadata_modified="2024-01-01T00:00:00Z"),
              dataset("strong-old", notes="river river", metadata_modified="2020-01-01T00:00:00Z"),
              dataset("strong-new", notes="river river", metadata_modified="2023-01-01T00:00:00Z")],
             commit=True)

    results = solr.search("notes:river", fl="name score", sort="score desc, metadata_modified desc")
    assert names(results) == ["strong-new", "strong-old", "weak"]
    scores = [doc["score"] for doc in results.docs]
    assert scores[0] == scores[1] > scores[2]


def test_paging_with_start_and_rows(solr: pysolr.Solr) -> None:
    solr.add([dataset(f"d{i}", title_string=f"t{i}") for i in range(7)], commit=True)

    page = solr.search("*:*", fl="name", sort="title_string asc", start=2, rows=3)
    assert page.hits == 7
    assert names(page) == ["d2", "d3", "d4"]
    assert page.raw_response["response"]["start"] == 2
    assert solr.search("*:*", fl="name", start=6, rows=5).docs[0]["name"] == "d6"


def test_fl_returns_only_requested_stored_fields(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", notes="river", tags=["x"], private="false", views_total=3)], commit=True)

    full = solr.search("*:*", fl="*").docs[0]
    assert full["name"] == "a" and full["tags"] == ["x"] and full["notes"] == "river"
    assert full["metadata_modified"] == "2024-01-01T00:00:00Z"
    for unstored in ("text", "permission_labels", "views_total", "private", "title_string"):
        assert unstored not in full
    assert solr.search("*:*", fl="id,name").docs == [{"id": "id-a", "name": "a"}]
    scored = solr.search("notes:river", fl="name score").docs[0]
    assert set(scored) == {"name", "score"} and scored["score"] > 0


def test_dismax_uses_qf_boosts_and_minimum_match(solr: pysolr.Solr) -> None:
    solr.add([dataset("rivers", title="Flow", notes="nothing"),
              dataset("mention", title="Other", notes="about rivers and data"),
              dataset("three", title="river lake sea")], commit=True)

    def dismax(q: str) -> list[str]:
        return names(solr.search(q, defType="dismax", qf=QF, mm=MM, tie="0.1", fl="name",
                                 sort="score desc, metadata_modified desc"))

    # The name field is boosted 4x, so an exact name beats a text mention.
    assert dismax("rivers") == ["rivers", "three", "mention"]
    # Two clauses: both must match ("2<-1": up to 2 clauses, all required).
    assert dismax("rivers data") == ["mention"]
    # Three clauses: "2<-1" lets one of them miss.
    assert dismax("river lake ocean") == ["three"]
    assert dismax("river ocean desert") == []
    # dismax escapes syntax characters and drops unbalanced quotes...
    assert dismax('river (lake "') == ["three"]
    # ...but, like Solr, still rejects what is left unparseable (CKAN's own
    # test_search_solr_syntax_error sends exactly this).
    with pytest.raises(pysolr.SolrError, match="400"):
        dismax("--included")


def test_edismax_accepts_fields_and_operators(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", tags=["x"], notes="river flows"), dataset("b", tags=["y"], notes="river flows")],
             commit=True)

    results = solr.search("river -tags:y", defType="edismax", qf=QF, mm=MM, fl="name")
    assert names(results) == ["a"]
    # edismax falls back to plain words when the syntax is broken (three
    # clauses here, so with CKAN's mm two of them must match).
    lenient = solr.search("river flows (", defType="edismax", qf=QF, mm=MM, fl="name")
    assert sorted(names(lenient)) == ["a", "b"]


def test_bad_lucene_syntax_is_a_400(solr: pysolr.Solr) -> None:
    solr.add([dataset("a")], commit=True)
    for query in ("title:(river", 'notes:"unclosed', "name:[a TO"):
        with pytest.raises(pysolr.SolrError, match="400"):
            solr.search(query)


def test_bad_sort_is_a_400(solr: pysolr.Solr) -> None:
    solr.add([dataset("a")], commit=True)
    with pytest.raises(pysolr.SolrError, match="Can't determine a Sort Order"):
        solr.search("*:*", sort="metadata_modified")  # what CKAN's own test sends
    with pytest.raises(pysolr.SolrError, match="Can't determine a Sort Order"):
        solr.search("*:*", sort="name upwards")
    with pytest.raises(pysolr.SolrError, match="400"):
        solr.search("*:*", sort="tags asc")  # multi-valued


def test_long_queries_are_posted_and_still_work(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", tags=["keep"])], commit=True)
    labels = " OR ".join(f'"member-{i:04d}"' for i in range(150)) + ' OR "public"'
    results = solr.search("*:*", fl="name", fq=f"+permission_labels:({labels})")
    assert names(results) == ["a"]
