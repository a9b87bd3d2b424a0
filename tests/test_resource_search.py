"""resource_search answers as if the hidden values of gated resources did not exist.

A term on a field that redaction hides (``url``, ``hash``, ``cache_url``,
``mimetype_inner``, resource extras) or a sort on one must not tell a caller
anything about a resource whose data they may not have: such a term never
matches it, and such a sort does not place it by its value. Visible fields
keep working for everyone; callers who may have the data get CKAN's answer.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import pytest
import sqlalchemy as sa
from people import organisation_with_people

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.logic.action.get import resource_search as ckan_resource_search
from ckan.tests.helpers import call_action

from ckanext.governance import access, policy

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

# Datasets of the catalogue; who may have the data of each (besides the
# organisation's member and sysadmins, who are exempt).
KEYS = ("open", "registered", "agreement", "controlled", "open-embargoed")
READERS = {
    "open": {"anonymous", "outsider"},
    "registered": {"outsider"},
    "agreement": set(),  # no agreement accepted
    "controlled": set(),  # no grant
    "open-embargoed": set(),
}
CALLERS = ("anonymous", "outsider", "member", "sysadmin")
HIDDEN = ("url", "hash", "cache_url", "mimetype_inner")


@dataclasses.dataclass
class Catalogue:
    users: dict[str, dict]
    resources: dict[str, dict]  # dataset key -> its resource (as created)
    org: dict

    def ctx(self, caller: str) -> dict:
        return {"user": "" if caller == "anonymous" else self.users[caller]["name"]}

    def may_read(self, caller: str, key: str) -> bool:
        return caller in ("member", "sysadmin") or caller in READERS[key]


def _values(key: str) -> dict[str, str]:
    tag = f"zz{key.replace('-', '')}{secrets.token_hex(4)}"
    return {
        "url": f"https://files.example.org/{tag}/measurements.csv",
        "hash": f"{tag}hash",
        "cache_url": f"https://cache.example.org/{tag}",
        "mimetype_inner": f"text/{tag}",
    }


def _build(extra: bool = False) -> Catalogue:
    users, org = organisation_with_people()
    publisher = users["publisher"]
    resources = {}
    for key in KEYS:
        tier = key.partition("-")[0]
        terms = {}
        if key.endswith("embargoed"):
            terms = {"embargo_until": (access.utcnow() + dt.timedelta(days=30)).isoformat(),
                     "embargo_reason": "Until the paper is out"}
        values = _values(key)
        if extra:
            values["alt_source"] = values["url"].replace("files.", "mirror.")
        pkg = call_action(
            "package_create", {"user": publisher["name"]}, name=f"rs-{key}", owner_org=org["id"],
            access_tier=tier, resources=[dict(values, name="Measurements", format="CSV")], **terms,
        )
        resources[key] = pkg["resources"][0] | values
    return Catalogue(users, resources, org)


@pytest.fixture
def catalogue() -> Catalogue:
    return _build()


def _search(cat: Catalogue, caller: str, **data) -> dict:
    return call_action("resource_search", cat.ctx(caller), **data)


def _ids(result: dict) -> list[str]:
    return [r["id"] for r in result["results"]]


# Terms on hidden fields ------------------------------------------------------


@pytest.mark.parametrize("field", HIDDEN)
def test_a_term_on_a_hidden_field_never_matches_a_resource_the_caller_may_not_read(catalogue, field):
    for key, res in catalogue.resources.items():
        for caller in CALLERS:
            if catalogue.may_read(caller, key):
                continue
            for guess in (res[field], res[field][:-3], res[field][5:]):
                found = _search(catalogue, caller, query=f"{field}:{guess}")
                assert found["count"] == 0 and found["results"] == [], (key, caller, guess)


@pytest.mark.parametrize("field", HIDDEN)
def test_a_term_on_a_hidden_field_finds_the_resource_for_callers_who_may_read_it(catalogue, field):
    for key, res in catalogue.resources.items():
        for caller in CALLERS:
            if not catalogue.may_read(caller, key):
                continue
            found = _search(catalogue, caller, query=f"{field}:{res[field]}")
            assert (found["count"], _ids(found)) == (1, [res["id"]]), (key, caller)
            assert found["results"][0][field] == res[field]


def test_guesses_that_match_nothing_count_nothing_for_anyone(catalogue):
    for caller in CALLERS:
        for term in ("url:zznosuchvalue", "hash:zznosuch", "cache_url:nosuch.example",
                     "mimetype_inner:text/zznosuch"):
            assert _search(catalogue, caller, query=term)["count"] == 0, (caller, term)


def test_a_guess_shared_by_open_and_gated_resources_counts_only_what_the_caller_may_read(catalogue):
    expected = {"anonymous": 1, "outsider": 2, "member": 5, "sysadmin": 5}
    for caller, count in expected.items():
        found = _search(catalogue, caller, query=["url:files.example.org", "format:csv"])
        readable = {catalogue.resources[k]["id"] for k in KEYS if catalogue.may_read(caller, k)}
        assert found["count"] == count and set(_ids(found)) == readable, caller


def test_every_extra_field_is_hidden_like_the_url(ckan_config, monkeypatch):
    # ckan.extra_resource_fields makes resource_search match these extras.
    monkeypatch.setitem(ckan_config, "ckan.extra_resource_fields", ["alt_source"])
    monkeypatch.setattr(model.Resource, "extra_columns", None)
    try:
        cat = _build(extra=True)
        for key, res in cat.resources.items():
            for caller in CALLERS:
                found = _search(cat, caller, query=f"alt_source:{res['alt_source']}")
                expected = [res["id"]] if cat.may_read(caller, key) else []
                assert _ids(found) == expected and found["count"] == len(expected), (key, caller)
    finally:
        if "alt_source" in vars(model.Resource):  # the proxy get_extra_columns added
            delattr(model.Resource, "alt_source")


# Sorting on hidden fields ------------------------------------------------------


def _probe_order(cat: Catalogue, caller: str, field: str, mine: dict, value: str) -> list[str]:
    """Where the gated resources sort relative to one of the probing user's own,
    whose ``field`` they set to ``value``: the ids sorted before it."""
    call_action("resource_patch", cat.ctx("outsider"), id=mine["id"], **{field: value})
    found = _search(cat, caller, query="name:Measurements", order_by=field)
    ids = _ids(found)
    assert found["count"] == len(KEYS) + 1
    return ids[: ids.index(mine["id"])]


@pytest.fixture
def probe(catalogue) -> dict:
    """A dataset of the outsider's own (outside any organisation), with a
    resource they can move anywhere in the order by patching it."""
    pkg = call_action("package_create", catalogue.ctx("outsider"), name="rs-probe",
                      resources=[{"url": "https://a.example/x", "name": "Measurements"}])
    return pkg["resources"][0]


@pytest.mark.parametrize("field", HIDDEN)
def test_sorting_on_a_hidden_field_does_not_place_unreadable_resources_by_their_value(
        catalogue, probe, field):
    # Every gated value lies between "a..." and "zzzz...": if the gated
    # resources moved with the probe, the order would bisect their values.
    low, high = ("a", "zzzzzz") if field in ("hash", "mimetype_inner") else ("https://a", "https://zzzz")
    for caller in ("outsider",):
        before_low = _probe_order(catalogue, caller, field, probe, low)
        before_high = _probe_order(catalogue, caller, field, probe, high)
        unreadable = {catalogue.resources[k]["id"] for k in KEYS if not catalogue.may_read(caller, k)}
        assert unreadable & set(before_low) == unreadable & set(before_high)


@pytest.mark.parametrize("field", HIDDEN)
def test_sorting_on_a_hidden_field_orders_by_it_for_a_caller_who_may_read_everything(
        catalogue, probe, field):
    low, high = ("a", "zzzzzz") if field in ("hash", "mimetype_inner") else ("https://a", "https://zzzz")
    assert _probe_order(catalogue, "member", field, probe, low) == []
    assert len(_probe_order(catalogue, "member", field, probe, high)) == len(KEYS)


def test_sorting_by_url_pages_every_resource_exactly_once(catalogue, probe):
    seen = []
    for offset in range(0, 6, 2):
        found = _search(catalogue, "anonymous", query="name:Measurements", order_by="url",
                        offset=offset, limit=2)
        assert found["count"] == 6
        seen += _ids(found)
    assert sorted(seen) == sorted([probe["id"]] + [r["id"] for r in catalogue.resources.values()])


# Visible fields -------------------------------------------------------------------


def test_visible_fields_find_gated_resources_for_everyone_without_their_hidden_values(catalogue):
    for caller in CALLERS:
        found = _search(catalogue, caller, query=["name:measurements", "format:CSV"], order_by="name")
        assert found["count"] == len(KEYS), caller
        by_id = {r["id"]: r for r in found["results"]}
        for key, res in catalogue.resources.items():
            shown = by_id[res["id"]]
            assert shown["name"] == "Measurements"
            if catalogue.may_read(caller, key):
                assert shown["url"] == res["url"] and shown["hash"] == res["hash"], (key, caller)
            else:
                assert shown["url"] == "" and not any(
                    res[f] in str(shown) for f in HIDDEN), (key, caller)


# Paging in the database -------------------------------------------------------------


def test_a_hidden_term_counts_exactly_and_pages_through_what_the_caller_may_read(catalogue):
    org, publisher = catalogue.org, catalogue.users["publisher"]
    many = [{"url": f"https://pages.example.org/zzpaged/{i}.csv", "name": f"Page {i}"} for i in range(7)]
    open_pkg = call_action("package_create", {"user": publisher["name"]}, name="rs-paged-open",
                           owner_org=org["id"], resources=many)
    call_action("package_create", {"user": publisher["name"]}, name="rs-paged-closed",
                owner_org=org["id"], access_tier="controlled", resources=many[:3])
    seen = []
    for offset in (0, 3, 6):
        found = _search(catalogue, "outsider", query="url:zzpaged", offset=offset, limit=3)
        assert found["count"] == 7
        seen += _ids(found)
    assert sorted(seen) == sorted(r["id"] for r in open_pkg["resources"])
    assert _search(catalogue, "member", query="url:zzpaged", limit=3)["count"] == 10


def test_a_url_query_reads_only_the_requested_page_from_the_database(catalogue):
    publisher = catalogue.users["publisher"]
    call_action("package_create", {"user": publisher["name"]}, name="rs-bulk",
                owner_org=catalogue.org["id"],
                resources=[{"url": f"https://bulk.example.org/zzbulk/{i}.csv"} for i in range(300)])
    fetched = []

    def count_rows(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "resource" in statement:
            fetched.append(cursor.rowcount)

    engine = model.Session.get_bind()
    sa.event.listen(engine, "after_cursor_execute", count_rows)
    try:
        found = _search(catalogue, "outsider", query="url:zzbulk", limit=5)
    finally:
        sa.event.remove(engine, "after_cursor_execute", count_rows)
    assert found["count"] == 300 and len(found["results"]) == 5
    assert sum(fetched) < 20, fetched


# ckan.lib.search's resource queries (context search_query) ---------------------------


def test_resource_query_of_ckan_lib_search_finds_by_url_what_anyone_may_read(catalogue):
    query = search.query_for(model.Resource)
    open_res = catalogue.resources["open"]
    found = query.run(fields={"url": open_res["url"]})
    assert found["count"] == 1 and found["results"] == [open_res["id"]]
    gated = catalogue.resources["controlled"]
    assert query.run(fields={"url": gated["url"]})["count"] == 0


def test_resource_query_of_ckan_lib_search_returns_gated_resources_without_their_values(catalogue):
    found = search.query_for(model.Resource).run(fields={"name": "Measurements"}, all_fields=True)
    assert found["count"] == len(KEYS)
    text = str(found["results"])
    for key in ("registered", "agreement", "controlled", "open-embargoed"):
        res = catalogue.resources[key]
        assert not any(res[f] in text for f in HIDDEN), key
    assert catalogue.resources["open"]["url"] in text
    # The copies handed out are not the stored resources, which keep their values.
    model.Session.commit()
    model.Session.remove()
    for key in ("registered", "controlled"):
        res = catalogue.resources[key]
        stored = model.Session.get(model.Resource, res["id"])
        assert (stored.url, stored.hash) == (res["url"], res["hash"])


# Callers who may read everything ----------------------------------------------------


@pytest.mark.parametrize("caller", ["member", "sysadmin"])
def test_a_caller_who_may_read_every_match_gets_ckans_own_answer(catalogue, caller):
    for data in ({"query": "url:files.example.org", "order_by": "url"},
                 {"query": ["hash:zz", "format:csv"], "order_by": "hash", "limit": 3, "offset": 1},
                 {"query": "name:measurements", "order_by": "cache_url"}):
        ours = _search(catalogue, caller, **data)
        ckans = ckan_resource_search(catalogue.ctx(caller) | {"model": model, "session": model.Session},
                                     dict(data))
        assert (ours["count"], _ids(ours)) == (ckans["count"], _ids(ckans)), data


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("data, field", [
    ({}, "query"),
    ({"query": "no pair"}, "query"),
    ({"query": "nosuchfield:x"}, "query"),
    ({"query": 5}, "query"),
    ({"query": ["url:x", {"a": 1}]}, "query"),
    ({"query": "size:ten"}, "query"),
    ({"query": "created:yesterday"}, "query"),
    ({"query": "url:x", "limit": "ten"}, "limit"),
    ({"query": "url:x", "offset": -1}, "offset"),
    ({"query": "name:x", "order_by": "as_dict"}, "order_by"),
])
def test_bad_input_is_a_validation_error_naming_the_field(catalogue, data, field):
    with pytest.raises(tk.ValidationError) as err:
        _search(catalogue, "outsider", **data)
    assert field in err.value.error_dict


def test_bad_input_over_the_api_answers_409_not_500(app, catalogue):
    resp = app.get("/api/3/action/resource_search?query=url:x&limit=ten", status=409)
    assert "limit" in resp.json["error"]


def test_an_unknown_field_in_ckan_lib_search_is_a_search_error(catalogue):
    with pytest.raises(search.SearchError):
        search.query_for(model.Resource).run(fields={"nosuchfield": "x"})


# The SQL twin of the decision ----------------------------------------------------------


@pytest.mark.parametrize("default_tier", ["open", "registered"])
@pytest.mark.parametrize("subject", [policy.Subject(), policy.Subject(user_id="someone")],
                         ids=["anonymous", "logged-in"])
def test_the_sql_filter_agrees_with_the_policy_for_callers_who_hold_nothing(
        ckan_config, monkeypatch, default_tier, subject):
    monkeypatch.setitem(ckan_config, "ckanext.governance.default_tier", default_tier)
    now = access.utcnow()
    for tier in (*policy.TIERS, "unknown", None):  # None: no stored row
        for until in (None, now - dt.timedelta(seconds=1), now, now + dt.timedelta(seconds=1)):
            clause = access.open_to_outsider_sql(
                not subject.anonymous, sa.literal(tier, sa.UnicodeText),
                sa.literal(until, sa.DateTime(timezone=True)), now)
            in_sql = model.Session.execute(sa.select(clause)).scalar()
            decided = policy.decide(subject, policy.DatasetPolicy(
                tier=tier or default_tier, embargo_until=until), now).can_access
            assert bool(in_sql) is decided, (tier, until)
