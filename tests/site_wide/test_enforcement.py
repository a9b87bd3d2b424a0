"""Enforcement details the matrix does not spell out: the index copy, internal calls."""
from __future__ import annotations

import json

import pytest
from people import api_headers

import ckan.lib.search as search
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

URL = "https://files.example.org/zz-index-secret/data.csv"


@pytest.fixture
def editor():
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "ctx": {"user": user["name"]}}


def make(editor, tier):
    return call_action("package_create", dict(editor["ctx"]), name="rivers",
                       owner_org=editor["org"]["id"], access_tier=tier,
                       resources=[{"url": URL, "name": "Flows"}])


def indexed(pkg_id) -> str:
    """Everything the search index holds about a dataset, as one string."""
    return json.dumps(search.show(pkg_id))


@pytest.mark.parametrize("tier", ["registered", "agreement", "controlled"])
def test_search_index_holds_no_url_of_a_gated_dataset(editor, tier):
    pkg = make(editor, tier)
    doc = search.show(pkg["id"])
    assert "zz-index-secret" not in indexed(pkg["id"])
    assert json.loads(doc["validated_data_dict"])["resources"][0]["name"] == "Flows"


def test_open_dataset_is_indexed_whole(editor):
    pkg = make(editor, "open")
    assert URL in indexed(pkg["id"])


def test_changing_the_tier_reindexes_the_dataset_both_ways(editor):
    pkg = make(editor, "open")
    call_action("package_patch", dict(editor["ctx"]), id=pkg["id"], access_tier="controlled")
    assert "zz-index-secret" not in indexed(pkg["id"])
    assert call_action("package_search", {"user": ""}, fq="access_tier:controlled")["count"] == 1
    call_action("package_patch", dict(editor["ctx"]), id=pkg["id"], access_tier="open")
    assert URL in indexed(pkg["id"])
    assert call_action("package_search", {"user": ""}, fq="access_tier:controlled")["count"] == 0


def test_package_show_from_the_index_copy_is_redacted_and_exempt_users_get_the_database(editor):
    pkg = make(editor, "controlled")
    outsider = factories.User()
    # Default use_cache: CKAN serves the outsider from the (URL-free) index copy.
    shown = call_action("package_show", {"user": outsider["name"]}, id=pkg["id"])
    assert shown["resources"][0]["url"] == ""
    assert shown["resources"][0]["name"] == "Flows"
    mine = call_action("package_show", dict(editor["ctx"]), id=pkg["id"])
    assert mine["resources"][0]["url"] == URL


def test_internal_call_with_ignore_auth_and_no_user_is_treated_as_anonymous(editor):
    pkg = make(editor, "registered")
    internal = call_action("package_show", {"ignore_auth": True, "user": ""}, id=pkg["id"])
    assert internal["resources"][0]["url"] == ""
    assert internal["governance"]["reason"] == "login_required"


def test_resource_show_of_gated_resource_keeps_what_it_is_not_where(editor):
    pkg = make(editor, "controlled")
    res = call_action("resource_show", {"user": ""}, id=pkg["resources"][0]["id"])
    assert res["url"] == ""
    assert res["name"] == "Flows"
    assert set(res) <= {"id", "package_id", "name", "description", "format", "mimetype", "size",
                        "created", "last_modified", "metadata_modified", "position", "state",
                        "resource_type", "url_type", "datastore_active", "has_views", "url"}


def test_denied_download_answers_403_with_the_reason(editor, app):
    pkg = make(editor, "registered")
    resp = app.get(f"/dataset/rivers/resource/{pkg['resources'][0]['id']}/download",
                   follow_redirects=False)
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "Log in to access the data." in body
    assert "zz-index-secret" not in body + str(resp.headers)


def test_rebuilding_the_whole_index_keeps_gated_urls_out(editor, cli):
    from ckan.cli.cli import ckan as ckan_cli

    gated = make(editor, "controlled")
    opened = call_action("package_create", dict(editor["ctx"]), name="open-rivers",
                         owner_org=editor["org"]["id"], access_tier="open",
                         resources=[{"url": URL.replace("data.csv", "open.csv")}])
    result = cli.invoke(ckan_cli, ["search-index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "zz-index-secret" not in indexed(gated["id"])
    assert "open.csv" in indexed(opened["id"])
    found = call_action("package_search", dict(editor["ctx"]), q="name:rivers")["results"][0]
    assert found["resources"][0]["url"] == URL


def test_only_those_who_may_edit_see_check_before_publishing(app, editor):
    """The button rides on CKAN's "Manage": editors get both, others neither."""
    make(editor, "open")
    reader = factories.User()
    call_action("organization_member_create", id=editor["org"]["id"], username=reader["name"],
                role="member")
    pages = {
        "editor": app.get("/dataset/rivers", headers=api_headers(editor["user"])).body,
        "member": app.get("/dataset/rivers", headers=api_headers(reader)).body,
        "anonymous": app.get("/dataset/rivers").body,
    }
    assert "governance-check-publication" in pages["editor"]
    assert "/dataset/edit/rivers" in pages["editor"]
    for who in ("member", "anonymous"):
        assert "governance-check-publication" not in pages[who], who
        assert "/dataset/edit/rivers" not in pages[who], who
