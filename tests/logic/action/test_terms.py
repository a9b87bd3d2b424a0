"""The access fields and governance_access_show through CKAN's action API."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def publisher():
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "context": {"user": user["name"]}}


def create(publisher, **fields):
    return call_action(
        "package_create", dict(publisher["context"]), owner_org=publisher["org"]["id"],
        name=fields.pop("name", "rivers"), **fields,
    )


def show(name, user=None):
    return call_action("package_show", {"user": user["name"] if user else ""}, id=name)


@pytest.mark.parametrize("tier", ["open", "registered", "agreement", "controlled"])
def test_tier_given_at_creation_is_returned_by_show_and_search(publisher, tier):
    created = create(publisher, access_tier=tier)
    assert created["access_tier"] == tier
    assert show("rivers", publisher["user"])["access_tier"] == tier
    found = call_action("package_search", {"user": ""}, q="name:rivers")["results"][0]
    assert found["access_tier"] == tier
    assert found["governance"]["tier"] == tier


def test_new_dataset_gets_the_site_default_tier(publisher):
    assert create(publisher)["access_tier"] == "open"


@pytest.mark.ckan_config("ckanext.governance.default_tier", "registered")
def test_default_tier_follows_configuration(publisher):
    assert create(publisher)["access_tier"] == "registered"


def test_dataset_created_under_one_default_keeps_its_tier_when_the_default_changes(publisher, ckan_config, monkeypatch):
    create(publisher)
    monkeypatch.setitem(ckan_config, "ckanext.governance.default_tier", "controlled")
    assert show("rivers", publisher["user"])["access_tier"] == "open"


@pytest.mark.parametrize("bad", ["secret", "", "OPEN", 3, ["open"]])
def test_unknown_tier_is_a_validation_error_on_the_field(publisher, bad):
    with pytest.raises(tk.ValidationError) as err:
        create(publisher, access_tier=bad)
    assert "access_tier" in err.value.error_dict
    assert call_action("package_search", {"user": publisher["user"]["name"]},
                       q="name:rivers", include_private=True)["count"] == 0


def test_update_changes_the_tier_and_patch_too(publisher):
    created = create(publisher, access_tier="open")
    updated = call_action(
        "package_update", dict(publisher["context"]), **dict(created, access_tier="controlled")
    )
    assert updated["access_tier"] == "controlled"
    patched = call_action("package_patch", dict(publisher["context"]), id="rivers",
                          access_tier="registered")
    assert patched["access_tier"] == "registered"
    assert show("rivers")["governance"]["reason"] == "login_required"


def test_update_without_the_field_keeps_the_tier(publisher):
    """A harvester that knows nothing of tiers must not reopen a dataset."""
    created = create(publisher, access_tier="controlled")
    created.pop("access_tier")
    created.pop("governance")
    updated = call_action("package_update", dict(publisher["context"]), **dict(created, notes="New"))
    assert updated["access_tier"] == "controlled"
    patched = call_action("package_patch", dict(publisher["context"]), id="rivers", notes="Newer")
    assert patched["access_tier"] == "controlled"


def test_bad_tier_on_patch_changes_nothing(publisher):
    create(publisher, access_tier="controlled", notes="Before")
    with pytest.raises(tk.ValidationError) as err:
        call_action("package_patch", dict(publisher["context"]), id="rivers",
                    access_tier="public", notes="After")
    assert "access_tier" in err.value.error_dict
    after = show("rivers", publisher["user"])
    assert (after["access_tier"], after["notes"]) == ("controlled", "Before")


def test_only_those_who_may_update_the_dataset_may_set_its_tier(publisher):
    create(publisher, access_tier="controlled")
    outsider = factories.User()
    with pytest.raises(tk.NotAuthorized):
        call_action("package_patch", {"user": outsider["name"], "ignore_auth": False},
                    id="rivers", access_tier="open")
    assert show("rivers", publisher["user"])["access_tier"] == "controlled"


def test_governance_block_explains_the_decision_to_each_user(publisher):
    create(publisher, access_tier="registered",
           resources=[{"url": "https://data.example.org/r.csv"}])
    anon = show("rivers")["governance"]
    assert anon == {
        "tier": "registered", "embargoed": False, "embargo_until": None,
        "can_access": False, "reason": "login_required", "next_step": "log_in",
    }
    user = factories.User()
    assert show("rivers", user)["governance"]["reason"] == "open"
    assert show("rivers", publisher["user"])["governance"]["reason"] == "exempt"


def test_access_show_lists_resources_with_download_urls_only_when_allowed(publisher):
    create(publisher, access_tier="registered",
           resources=[{"name": "Flows", "url": "https://data.example.org/flows.csv"}])
    anon = call_action("governance_access_show", {"user": ""}, id="rivers")
    assert anon["reason"] == "login_required"
    assert anon["resources"][0]["name"] == "Flows"
    assert anon["resources"][0]["download_url"] is None
    user = factories.User()
    mine = call_action("governance_access_show", {"user": user["name"]}, id="rivers")
    assert mine["can_access"] is True
    assert mine["resources"][0]["download_url"] == "https://data.example.org/flows.csv"


def test_access_show_of_unknown_dataset_is_not_found():
    with pytest.raises(tk.ObjectNotFound):
        call_action("governance_access_show", {"user": ""}, id="no-such-dataset")


def test_access_show_of_private_dataset_is_refused_to_outsiders(publisher):
    create(publisher, private=True)
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_access_show", {"user": factories.User()["name"], "ignore_auth": False},
                    id="rivers")


def test_search_facet_counts_datasets_per_tier_with_readable_labels(publisher):
    create(publisher, name="aa", access_tier="open")
    create(publisher, name="bb", access_tier="controlled")
    create(publisher, name="cc", access_tier="controlled")
    result = call_action("package_search", {"user": ""}, **{"facet.field": ["access_tier"]})
    items = {i["name"]: (i["count"], i["display_name"]) for i in result["search_facets"]["access_tier"]["items"]}
    assert items == {"controlled": (2, "Controlled access"), "open": (1, "Open")}
    only = call_action("package_search", {"user": ""}, fq="access_tier:controlled")
    assert sorted(d["name"] for d in only["results"]) == ["bb", "cc"]
