"""CKAN's own behaviour for open datasets, unchanged by governance.

Each test is a difference that CKAN 2.12's own suite showed with governance
appended to its plugins (dev/ckan_suite.sh, issue 14): what a CKAN user or
client did before installing the extension still works the same way.
"""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def editor_site():
    """An organisation editor, and a public open dataset of theirs that sits
    in a group they are no member of (the factories skip authorisation)."""
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    group = factories.Group()
    dataset = factories.Dataset(user=editor, owner_org=org["id"], groups=[{"id": group["id"]}],
                                notes="Daily river levels at forty gauges.",
                                resources=[{"url": "https://data.example.org/levels.csv"}])
    # call_action skips authorisation unless told not to.
    return {"editor": editor, "org": org, "group": group, "dataset": dataset,
            "context": {"user": editor["name"], "ignore_auth": False}}


def activity_types(dataset_id):
    return [a["activity_type"] for a in call_action(
        "package_activity_list", {"ignore_auth": True}, id=dataset_id)]


# 11. An editor may update a dataset of their organisation whatever groups it is in.


def test_an_editor_updates_a_dataset_in_a_group_they_do_not_manage(editor_site):
    shown = call_action("package_show", dict(editor_site["context"]), id=editor_site["dataset"]["id"])
    updated = call_action("package_update", dict(editor_site["context"]),
                          **dict(shown, title="River levels"))
    assert updated["title"] == "River levels"
    assert [g["id"] for g in updated["groups"]] == [editor_site["group"]["id"]]


def test_an_editor_patches_and_adds_resources_to_such_a_dataset(editor_site):
    ctx, dataset_id = editor_site["context"], editor_site["dataset"]["id"]
    assert call_action("package_patch", dict(ctx), id=dataset_id, notes="Hourly now.")["notes"] == "Hourly now."
    call_action("resource_create", dict(ctx), package_id=dataset_id,
                url="https://data.example.org/hourly.csv")
    table = call_action("datastore_create", dict(ctx), resource={"package_id": dataset_id},
                        fields=[{"id": "level", "type": "numeric"}], records=[{"level": 1.5}])
    assert table["resource_id"]
    assert len(call_action("package_show", dict(ctx), id=dataset_id)["resources"]) == 3


def test_an_editor_still_cannot_put_a_dataset_into_a_group_they_do_not_manage(editor_site):
    other = factories.Group()
    shown = call_action("package_show", dict(editor_site["context"]), id=editor_site["dataset"]["id"])
    with pytest.raises(tk.NotAuthorized):
        call_action("package_update", dict(editor_site["context"]),
                    **dict(shown, groups=shown["groups"] + [{"id": other["id"]}]))


# 12. Re-sending an unchanged dataset writes nothing.


@pytest.mark.parametrize("tier", ["open", "controlled"])
def test_resending_an_unchanged_dataset_records_no_activity_and_keeps_its_dates(editor_site, tier):
    """Harvesters re-send what package_show gave them, keys of ours included."""
    ctx, dataset_id = editor_site["context"], editor_site["dataset"]["id"]
    call_action("package_patch", dict(ctx), id=dataset_id, access_tier=tier)
    shown = call_action("package_show", dict(ctx), id=dataset_id)
    before = activity_types(dataset_id)

    returned = call_action("package_update", dict(ctx), **shown)

    assert activity_types(dataset_id) == before
    after = call_action("package_show", dict(ctx), id=dataset_id)
    assert after["metadata_modified"] == shown["metadata_modified"]
    assert returned["access_tier"] == tier and returned["governance"] == shown["governance"]
    assert returned["resources"][0]["url"] == "https://data.example.org/levels.csv"


def test_the_changes_page_of_an_edit_lists_the_edit_alone(editor_site):
    """The changes page compares stored snapshots: the keys governance adds
    (computed per caller) must not show there as changed fields."""
    from ckanext.activity.helpers import compare_pkg_dicts

    ctx, dataset_id = editor_site["context"], editor_site["dataset"]["id"]
    call_action("package_patch", dict(ctx), id=dataset_id, title="River levels")
    ids = [a["id"] for a in call_action("package_activity_list", {"ignore_auth": True}, id=dataset_id)]
    new, old = (call_action("activity_data_show", {"ignore_auth": True}, id=i, object_type="package")
                for i in ids[:2])
    assert [c["type"] for c in compare_pkg_dicts(old, new, ids[1])] == ["title"]


def test_a_change_of_terms_alone_is_still_saved_and_reindexed(editor_site):
    ctx, dataset_id = editor_site["context"], editor_site["dataset"]["id"]
    shown = call_action("package_show", dict(ctx), id=dataset_id)
    call_action("package_update", dict(ctx), **dict(shown, access_tier="registered"))
    found = call_action("package_search", {"user": ""}, q=f"id:{dataset_id}")["results"][0]
    assert found["access_tier"] == "registered"
    assert found["governance"]["reason"] == "login_required"
    assert "https://data.example.org/levels.csv" not in str(found)


# package_search with fl answers the fields asked for.


def test_search_with_fl_returns_only_the_fields_asked_for(editor_site):
    result = call_action("package_search", {"user": ""}, q="*:*", fl=["id"])
    assert result["results"] == [{"id": editor_site["dataset"]["id"]}]
    both = call_action("package_search", {"user": ""}, q="*:*", fl=["id", "access_tier"])
    assert set(both["results"][0]) <= {"id", "access_tier"}


# 14. The dataset edit form saves (or shows its errors) when it opens nothing.


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", False)
def test_edit_form_without_the_access_fields_saves_an_unchanged_public_dataset(editor_site, app):
    """CKAN's own form posts (and those of other plugins) may lack private,
    access_tier and embargo_until: nothing becomes more reachable."""
    token = call_action("api_token_create", {"user": editor_site["editor"]["name"]},
                        user=editor_site["editor"]["name"], name="t")["token"]
    dataset = editor_site["dataset"]
    response = app.post(tk.h.url_for("dataset.edit", id=dataset["name"]),
                        headers={"Authorization": token},
                        data={"notes": "Edited in the form.", "save": ""}, follow_redirects=False)
    assert response.status_code == 302
    assert call_action("package_show", {"ignore_auth": True}, id=dataset["id"])["notes"] == "Edited in the form."

    response = app.post(tk.h.url_for("dataset.edit", id=dataset["name"]),
                        headers={"Authorization": token},
                        data={"name": "Not A Name!", "save": ""}, follow_redirects=False)
    assert "Before you publish" not in response.body
    assert "Must be purely lowercase alphanumeric" in response.body
