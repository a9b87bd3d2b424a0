"""Updates, persistence and the HTTP surface of the Solr stand-in."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pysolr
import pytest
import solr_standin
from solr_standin.dates import resolve
from solr_standin.query import min_should_match
from standin_helpers import DEV_DIR, dataset, names, skip_with_real_solr

pytestmark = skip_with_real_solr


def http(url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, bytes]:
    request = Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


def test_add_commit_and_delete_by_id(solr: pysolr.Solr) -> None:
    solr.add([dataset("a"), dataset("b"), dataset("c")], commit=True)
    assert solr.search("*:*").hits == 3

    solr.delete(id=["index-a", "index-c"], commit=True)
    assert names(solr.search("*:*", fl="name")) == ["b"]


def test_delete_by_query_like_ckan(solr: pysolr.Solr) -> None:
    solr.add([dataset("a"), dataset("b"), dataset("c", site_id="other")], commit=True)

    # Exactly what ckan.lib.search.index.PackageSearchIndex.delete_package sends.
    solr.delete(q='+entity_type:package AND +(id:"id-a" OR name:"id-a") AND +site_id:"default"',
                commit=True)
    assert sorted(names(solr.search("*:*", fl="name"))) == ["b", "c"]
    solr.delete(q='+site_id:"default"', commit=True)  # search-index clear
    assert names(solr.search("*:*", fl="name")) == ["c"]


def test_add_overwrites_by_unique_key(solr: pysolr.Solr) -> None:
    solr.add([dataset("a", notes="first")], commit=True)
    solr.add([dataset("a", notes="second")], commit=True)

    results = solr.search("*:*", fl="notes")
    assert results.hits == 1 and results.docs[0]["notes"] == "second"
    assert solr.search("notes:first").hits == 0


def test_xml_add_as_pysolr_sends_with_boosts(solr: pysolr.Solr) -> None:
    # pysolr switches from JSON to its XML message format when boosts are given.
    solr.add([dataset("a", tags=["x", "y"])], boost={"title": "2.0"}, commit=True)
    doc = solr.search("*:*", fl="name tags").docs[0]
    assert doc == {"name": "a", "tags": ["x", "y"]}


def test_json_update_commands_for_curl_users(standin: solr_standin.Handle, solr: pysolr.Solr) -> None:
    # Solr's JSON command syntax repeats keys, so it is written out by hand.
    adds = ", ".join('"add": {"doc": ' + json.dumps(dataset(name)) + "}" for name in "ab")
    body = "{" + adds + ', "commit": {}}'
    status, _ = http(standin.url + "/update", body.encode())
    assert status == 200
    assert solr.search("*:*").hits == 2

    status, _ = http(standin.url + "/update?commit=true", b'{"delete": {"query": "name:a"}}')
    assert status == 200 and names(solr.search("*:*", fl="name")) == ["b"]
    status, _ = http(standin.url + "/update", b'{"delete": "index-b"}')
    assert status == 200 and solr.search("*:*").hits == 0


def test_invalid_documents_are_rejected(solr: pysolr.Solr) -> None:
    with pytest.raises(pysolr.SolrError, match="multiple values encountered for non multiValued field title"):
        solr.add([dataset("a", title=["one", "two"])], commit=True)
    with pytest.raises(pysolr.SolrError, match="Invalid Date String"):
        solr.add([dataset("a", metadata_modified="2024-01-01")], commit=True)
    with pytest.raises(pysolr.SolrError, match="missing mandatory uniqueKey"):
        solr.add([{"id": "x", "site_id": "default"}], commit=True)
    assert solr.search("*:*").hits == 0


def test_ping_schema_and_unknown_paths(standin: solr_standin.Handle, solr: pysolr.Solr) -> None:
    assert json.loads(solr.ping())["status"] == "OK"
    for path in ("/schema?wt=schema.xml", "/admin/file/?file=schema.xml"):
        status, body = http(standin.url + path)
        assert status == 200 and b'name="ckan-2.12"' in body, path
    status, body = http(standin.url + "/nonsense")
    assert status == 404 and json.loads(body)["error"]["code"] == 404
    status, _ = http(standin.url.replace("/solr/ckan", "/solr/othercore") + "/select?q=*:*")
    assert status == 404


def test_query_error_has_solr_json_shape(standin: solr_standin.Handle) -> None:
    status, body = http(standin.url + "/select?q=title:(&wt=json")
    error = json.loads(body)
    assert status == 400
    assert error["responseHeader"]["status"] == 400
    assert error["error"]["code"] == 400 and "Cannot parse" in error["error"]["msg"]


def test_unknown_fields_and_sort_fields_with_a_strict_schema(tmp_path: Path) -> None:
    schema = tmp_path / "schema.xml"
    schema.write_text("""<schema name="tiny" version="1.6">
      <fieldType name="string" class="solr.StrField" sortMissingLast="true"/>
      <field name="id" type="string" indexed="true" stored="true" required="true"/>
      <uniqueKey>id</uniqueKey></schema>""")
    handle = solr_standin.serve_in_thread(schema_path=schema)
    try:
        client = pysolr.Solr(handle.url, timeout=10)
        client.add([{"id": "1"}], commit=True)
        assert client.search("id:1").hits == 1
        with pytest.raises(pysolr.SolrError, match="undefined field nope"):
            client.search("nope:1")
        with pytest.raises(pysolr.SolrError, match="sort param field can't be found: nope"):
            client.search("*:*", sort="nope asc")
        with pytest.raises(pysolr.SolrError, match="unknown field 'extra'"):
            client.add([{"id": "2", "extra": "x"}])
    finally:
        handle.shutdown()


def test_persistence_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "index.json"
    handle = solr_standin.serve_in_thread(data_path=data)
    try:
        client = pysolr.Solr(handle.url, timeout=10)
        client.add([dataset("kept", tags=["x"]), dataset("gone")], commit=True)
        client.delete(id="index-gone", commit=True)
        version = client.search("*:*", fl="_version_").docs[0]["_version_"]
    finally:
        handle.shutdown()
    assert [doc["name"] for doc in json.loads(data.read_text())["docs"]] == [["kept"]]
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]  # no temp file left

    handle = solr_standin.serve_in_thread(data_path=data)
    try:
        client = pysolr.Solr(handle.url, timeout=10)
        results = client.search("tags:x", fl="name _version_")
        assert names(results) == ["kept"] and results.docs[0]["_version_"] == version
        assert len(handle.index) == 1
    finally:
        handle.shutdown()


def test_cli_serves_persists_and_refuses_remote_hosts(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(DEV_DIR), "PATH": "/usr/bin:/bin"}
    refused = subprocess.run([sys.executable, "-m", "solr_standin", "--host", "0.0.0.0"],
                             env=env, capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode == 2 and "non-loopback" in refused.stderr

    data = tmp_path / "cli.json"
    process = subprocess.Popen([sys.executable, "-m", "solr_standin", "--port", "0", "--core", "demo",
                                "--data", str(data), "--verbose"],
                               env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = banner.split()[-1]
        assert url.endswith("/solr/demo")
        pysolr.Solr(url, timeout=10).add([dataset("cli")], commit=True)
        assert data.exists()
        assert "POST /solr/demo/update/" in process.stderr.readline()  # --verbose logs requests
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_date_math_and_minimum_match_rules() -> None:
    now = datetime(2024, 3, 31, 15, 30, 45, 123000, tzinfo=timezone.utc)
    assert resolve("NOW", now) == now
    assert resolve("NOW/DAY", now) == datetime(2024, 3, 31, tzinfo=timezone.utc)
    assert resolve("NOW/DAY-1DAY", now) == datetime(2024, 3, 30, tzinfo=timezone.utc)
    assert resolve("NOW-1MONTH", now).date().isoformat() == "2024-02-29"  # clamped month end
    assert resolve("NOW+6MONTHS/MONTH", now) == datetime(2024, 9, 1, tzinfo=timezone.utc)
    assert resolve("2020-01-01T00:00:00Z+1YEAR", now).year == 2021
    with pytest.raises(ValueError):
        resolve("NOW-1FORTNIGHT", now)
    # CKAN's "2<-1 5<80%": all of up to 2 clauses, all but one up to 5, then 80%.
    assert [min_should_match(n, "2<-1 5<80%") for n in (1, 2, 3, 5, 6, 10)] == [1, 2, 2, 4, 4, 8]
    assert min_should_match(4, "-25%") == 3 and min_should_match(3, "100%") == 3
