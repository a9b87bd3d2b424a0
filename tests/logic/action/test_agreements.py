"""Data use agreements through the action API: versions, acceptance, the access they open."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import Acceptance

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

URL = "https://files.example.org/zz-agreement-secret/data.csv"
BODY = "You will not try to identify anyone in this data."


@pytest.fixture
def org():
    editor = factories.User()
    org = factories.Organization(name="hydro", users=[{"name": editor["name"], "capacity": "editor"}])
    ctx = {"user": editor["name"]}
    agreement = call_action("governance_agreement_create", dict(ctx), owner_org="hydro",
                            name="hydro-dua", title="Hydro data use agreement", body=BODY)
    call_action("package_create", dict(ctx), name="survey", owner_org=org["id"],
                access_tier="agreement", agreement="hydro-dua",
                resources=[{"url": URL, "name": "Answers"}])
    return {"org": org, "editor": editor, "ctx": ctx, "agreement": agreement}


def show(user):
    return call_action("package_show", {"user": user["name"] if user else ""}, id="survey")


def accept(user, **extra):
    return call_action("governance_agreement_accept", {"user": user["name"]}, id="survey", **extra)


def revise(org, material, body):
    return call_action("governance_agreement_update", dict(org["ctx"]), id="hydro-dua",
                       body=body, material=material)


def test_dataset_returns_its_agreement_and_tells_users_to_accept_it(org):
    user = factories.User()
    shown = show(user)
    assert shown["agreement"] == "hydro-dua"
    assert (shown["governance"]["reason"], shown["governance"]["next_step"]) == (
        "agreement_required", "accept_agreement")
    assert shown["resources"][0]["url"] == ""


def test_accepting_opens_the_data_and_records_the_text_hash(org):
    user = factories.User()
    result = accept(user, typed_name="Ann Onymous")
    expected = hashlib.sha256(f"Hydro data use agreement\n\n{BODY}".encode()).hexdigest()
    assert result["sha256"] == expected == org["agreement"]["sha256"]
    assert result["version"] == 1 and result["new"] is True
    shown = show(user)
    assert shown["governance"]["reason"] == "accepted"
    assert shown["resources"][0]["url"] == URL
    (record,) = model.Session.query(Acceptance).all()
    assert (record.channel, record.typed_name, record.package_id) == ("api", "Ann Onymous", shown["id"])
    assert record.created.tzinfo is not None


def test_accepting_twice_keeps_one_record(org):
    user = factories.User()
    assert accept(user)["new"] is True
    assert accept(user)["new"] is False
    assert model.Session.query(Acceptance).count() == 1


def test_twenty_concurrent_accepts_by_one_user_make_one_record(org, concurrently):
    user = factories.User()
    results, errors = concurrently(lambda: accept(user), 20)
    assert errors == [] and len(results) == 20
    assert sum(r["new"] for r in results) == 1
    assert model.Session.query(Acceptance).count() == 1


def test_material_change_asks_everyone_again_and_minor_change_does_not(org):
    user = factories.User()
    accept(user)
    minor = revise(org, False, BODY + " (typo fixed)")
    assert (minor["current_version"], minor["required_version"]) == (2, 1)
    assert show(user)["governance"]["can_access"] is True
    material = revise(org, True, BODY + " You will also not link it to other data.")
    assert (material["current_version"], material["required_version"]) == (3, 3)
    again = show(user)
    assert (again["governance"]["can_access"], again["governance"]["reason"]) == (False, "agreement_required")
    assert accept(user)["version"] == 3
    assert show(user)["governance"]["can_access"] is True
    versions = call_action("governance_agreement_show", {"user": ""}, id="hydro-dua")["versions"]
    assert [(v["number"], v["material"]) for v in versions] == [(1, True), (2, False), (3, True)]
    assert versions[0]["body"] == BODY  # old versions stay readable


def test_acceptance_expires_after_the_renewal_period(org):
    call_action("governance_agreement_update", dict(org["ctx"]), id="hydro-dua", renewal_days=30)
    user = factories.User()
    accept(user)
    assert show(user)["governance"]["can_access"] is True
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)):
        later = show(user)
        assert later["governance"]["reason"] == "agreement_required"
        assert later["resources"][0]["url"] == ""


def test_controlled_dataset_with_an_agreement_needs_more_than_acceptance(org):
    call_action("package_patch", dict(org["ctx"]), id="survey", access_tier="controlled")
    user = factories.User()
    accept(user)
    assert show(user)["governance"]["reason"] == "request_required"


def test_publisher_changing_only_the_renewal_makes_no_version(org):
    result = call_action("governance_agreement_update", dict(org["ctx"]), id="hydro-dua",
                         renewal_days=90)
    assert (result["current_version"], result["renewal_days"]) == (1, 90)


@pytest.mark.parametrize("field, data", [
    ("owner_org", {"owner_org": "no-such-org", "name": "x-dua", "title": "T", "body": "B"}),
    ("name", {"owner_org": "hydro", "name": "hydro-dua", "title": "T", "body": "B"}),
    ("name", {"owner_org": "hydro", "name": "Bad Name!", "title": "T", "body": "B"}),
    ("title", {"owner_org": "hydro", "name": "x-dua", "title": "", "body": "B"}),
    ("body", {"owner_org": "hydro", "name": "x-dua", "title": "T", "body": "   "}),
    ("renewal_days", {"owner_org": "hydro", "name": "x-dua", "title": "T", "body": "B",
                      "renewal_days": "-3"}),
])
def test_bad_agreement_input_is_a_validation_error_naming_the_field(org, field, data):
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_agreement_create", dict(org["ctx"]), **data)
    assert field in err.value.error_dict


def test_changed_text_must_say_material_or_minor(org):
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_agreement_update", dict(org["ctx"]), id="hydro-dua", body="New")
    assert "material" in err.value.error_dict


def test_only_the_organisations_editors_manage_its_agreements(org):
    outsider = factories.User()
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_agreement_create", {"user": outsider["name"], "ignore_auth": False},
                    owner_org="hydro", name="x-dua", title="T", body="B")
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_agreement_update", {"user": outsider["name"], "ignore_auth": False},
                    id="hydro-dua", body="Mine now", material=True)


def test_anyone_may_read_agreements(org):
    shown = call_action("governance_agreement_show", {"user": "", "ignore_auth": False}, id="hydro-dua")
    assert shown["body"] == BODY
    listed = call_action("governance_agreement_list", {"user": "", "ignore_auth": False}, owner_org="hydro")
    assert [a["name"] for a in listed] == ["hydro-dua"]


@pytest.mark.parametrize("ref, message", [
    ("no-such-dua", "Agreement not found"),
    ("soil-dua", "The agreement must belong to the dataset's organisation"),
])
def test_dataset_agreement_must_exist_and_belong_to_its_organisation(org, ref, message):
    other_editor = factories.User()
    factories.Organization(name="soil", users=[{"name": other_editor["name"], "capacity": "editor"}])
    call_action("governance_agreement_create", {"user": other_editor["name"]}, owner_org="soil",
                name="soil-dua", title="Soil", body="Soil terms")
    with pytest.raises(tk.ValidationError) as err:
        call_action("package_patch", dict(org["ctx"]), id="survey", agreement=ref)
    assert err.value.error_dict["agreement"] == [message]
    assert show(org["editor"])["agreement"] == "hydro-dua"


def test_detaching_the_agreement_closes_an_agreement_dataset(org):
    user = factories.User()
    accept(user)
    call_action("package_patch", dict(org["ctx"]), id="survey", agreement="")
    shown = show(user)
    assert shown["agreement"] is None
    assert (shown["governance"]["can_access"], shown["governance"]["next_step"]) == (False, None)


def test_accepting_needs_a_login_and_an_agreement(org):
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_agreement_accept", {"user": "", "ignore_auth": False}, id="survey")
    call_action("package_create", dict(org["ctx"]), name="plain", owner_org=org["org"]["id"])
    with pytest.raises(tk.ValidationError) as err:
        call_action("governance_agreement_accept", {"user": factories.User()["name"]}, id="plain")
    assert "id" in err.value.error_dict
