"""Publication warnings: the dry run, the three modes, links, and no leaks."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance.model import Event

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

NOTES = "River gauge readings from the northern basin, every fifteen minutes."
SITE = "http://test.ckan.net"


@pytest.fixture
def site(ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.link_fields", "related_dataset")
    editor = factories.User(name="ed-editor")
    other = factories.User(name="olga-other")
    lab = factories.Organization(name="lab", users=[{"name": "ed-editor", "capacity": "editor"}])
    elsewhere = factories.Organization(name="elsewhere", users=[{"name": "olga-other", "capacity": "editor"}])
    call_action("package_create", {"user": "olga-other"}, name="secret-other", title="Secret other title",
                owner_org=elsewhere["id"], private=True, notes=NOTES, license_id="cc-by")
    return {"lab": lab, "editor": editor, "other": other}


def make(name, private=True, **extra):
    data = {"name": name, "title": name.title(), "owner_org": "lab", "private": private,
            "notes": NOTES, "license_id": "cc-by", "governance_confirm": True}
    data.update(extra)
    return call_action("package_create", {"user": "ed-editor"}, **data)


def check(name, **proposal):
    return call_action("governance_publication_check", {"user": "ed-editor", "ignore_auth": False},
                       id=name, **proposal)


def codes(result):
    return sorted({w["code"] for w in result["warnings"]})


def test_publishing_a_clean_dataset_only_reminds_it_is_irreversible(site):
    make("clean")
    result = check("clean", private=False)
    assert result["more_reachable"] is True
    assert codes(result) == ["irreversible"]


def test_a_change_that_opens_nothing_warns_of_nothing(site):
    make("quiet", private=False)
    assert check("quiet", private=False) == {"warnings": [], "more_reachable": False}
    assert check("quiet", access_tier="controlled")["more_reachable"] is False


@pytest.mark.parametrize("how", ["relationship_from", "relationship_to", "field", "resource_url", "extra"])
def test_linked_private_dataset_is_reported_however_it_is_linked(site, how):
    make("hidden")
    extra = {}
    if how == "field":
        extra["extras"] = [{"key": "related_dataset", "value": "hidden"}]
    elif how == "extra":
        extra["extras"] = [{"key": "related_dataset", "value": f"{SITE}/dataset/hidden"}]
    elif how == "resource_url":
        extra["resources"] = [{"name": "See", "url": f"{SITE}/dataset/hidden/resource/abc"}]
    make("main", **extra)
    if how == "relationship_from":
        call_action("package_relationship_create", {"user": "ed-editor"}, subject="main",
                    object="hidden", type="links_to")
    elif how == "relationship_to":
        call_action("package_relationship_create", {"user": "ed-editor"}, subject="hidden",
                    object="main", type="links_to")
    (found,) = [w for w in check("main", private=False)["warnings"] if w["code"] == "linked_dataset_private"]
    assert found["severity"] == "high"
    assert found["item"]["title"] == "Hidden" and found["item"]["url"] == "/dataset/hidden"


def test_public_open_linked_dataset_is_no_warning(site):
    make("fine", private=False)
    make("main", extras=[{"key": "related_dataset", "value": "fine"}])
    assert codes(check("main", private=False)) == ["irreversible"]


def test_linked_dataset_under_stricter_terms_or_embargo(site):
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
    make("strict", private=False, access_tier="controlled")
    make("later", private=False, embargo_until=until)
    make("main", access_tier="open", extras=[{"key": "related_dataset", "value": "strict later"}])
    result = check("main", private=False)
    assert codes(result) == ["irreversible", "linked_dataset_embargoed", "linked_dataset_more_restricted"]
    # Under the same or stricter terms, the stricter link is no news.
    assert "linked_dataset_more_restricted" not in codes(check("main", private=False, access_tier="controlled"))


def test_a_dataset_the_publisher_cannot_see_is_told_as_a_link_to_nothing(site):
    # secret-other is private (another organisation's) and, here, under embargo:
    # the answer must be the one a link to no dataset at all gets.
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
    call_action("package_patch", {"user": "olga-other"}, id="secret-other", embargo_until=until)
    make("main", extras=[{"key": "related_dataset", "value": "secret-other"}])
    make("other", extras=[{"key": "related_dataset", "value": "no-such-dataset"}])
    hidden = check("main", private=False)["warnings"]
    absent = check("other", private=False)["warnings"]
    assert [w["code"] for w in hidden] == [w["code"] for w in absent]
    (found,) = [w for w in hidden if w["code"].startswith("linked")]
    (nothing,) = [w for w in absent if w["code"].startswith("linked")]
    assert found["code"] == "linked_dataset_unavailable"
    assert found["item"] == nothing["item"] == {"type": "dataset", "id": None, "title": None, "url": None}
    assert found["message"].replace("secret-other", "X") == nothing["message"].replace("no-such-dataset", "X")
    assert "Secret other title" not in str(hidden) and "embargo" not in str(hidden)


def test_the_owner_of_the_linked_dataset_hears_it_is_private_and_embargoed(site):
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
    call_action("package_patch", {"user": "olga-other"}, id="secret-other", embargo_until=until)
    call_action("package_create", {"user": "olga-other"}, name="olgas", owner_org="elsewhere",
                private=True, notes=NOTES, license_id="cc-by", governance_confirm=True,
                extras=[{"key": "related_dataset", "value": "secret-other"}])
    result = call_action("governance_publication_check", {"user": "olga-other", "ignore_auth": False},
                         id="olgas", private=False)
    assert {"linked_dataset_private", "linked_dataset_embargoed"} <= set(codes(result))


def test_self_links_and_relationship_cycles_end(site):
    make("aa", extras=[{"key": "related_dataset", "value": "aa bb"}])
    make("bb")
    call_action("package_relationship_create", {"user": "ed-editor"}, subject="aa", object="bb", type="links_to")
    call_action("package_relationship_create", {"user": "ed-editor"}, subject="bb", object="aa", type="links_to")
    found = [w for w in check("aa", private=False)["warnings"] if w["code"].startswith("linked")]
    assert [(w["code"], w["item"]["title"]) for w in found] == [("linked_dataset_private", "Bb")]


@pytest.mark.parametrize("tier, agreement, requires, expected", [
    ("agreement", False, False, True),
    ("agreement", True, False, False),
    ("controlled", False, False, False),
    ("controlled", False, True, True),
    ("open", False, True, False),
])
def test_agreement_missing(site, ckan_config, monkeypatch, tier, agreement, requires, expected):
    monkeypatch.setitem(ckan_config, "ckanext.governance.controlled_requires_agreement", requires)
    extra = {}
    if agreement:
        call_action("governance_agreement_create", {"user": "ed-editor"}, owner_org="lab",
                    name="lab-dua", title="Lab DUA", body="Terms.")
        extra["agreement"] = "lab-dua"
    make("main", access_tier=tier, **extra)
    assert ("agreement_missing" in codes(check("main", private=False))) is expected


@pytest.mark.parametrize("field, value, code", [
    ("license_id", "", "license_missing"),
    ("license_id", "notspecified", "license_missing"),
    ("notes", "", "description_missing"),
    ("notes", "Data.", "description_missing"),
])
def test_licence_and_description_missing(site, field, value, code):
    make("main", **{field: value})
    assert code in codes(check("main", private=False))


@pytest.mark.parametrize("where, text", [
    ("notes", NOTES + " Questions to jane.doe@example.org please."),
    ("title", "Readings, call +44 20 7946 0958"),
    ("tags", "ssn-123-45-6789"),
    ("extras", "AB 12 34 56 C"),
])
def test_personal_data_is_suspected_in_metadata(site, where, text):
    extra: dict = {}
    if where == "tags":
        extra["tags"] = [{"name": text}]
    elif where == "extras":
        extra["extras"] = [{"key": "note", "value": text}]
    else:
        extra[where] = text
    make("main", **extra)
    (found,) = [w for w in check("main", private=False)["warnings"] if w["code"] == "personal_data_suspected"]
    assert "jane.doe@example.org" not in found["message"]  # masked, not repeated


@pytest.mark.parametrize("text", [
    "a" * 200_000, "a@" * 100_000, "a." * 100_000, "@" + "a" * 200_000, "1 " * 100_000,
    "A" * 200_000, "a@a." * 50_000,
])
def test_the_personal_data_scan_takes_time_linear_in_the_text(text):
    # 200,000 characters: the quadratic email pattern took about a minute and a
    # half on this kind of input (3.7 s at 40,000); each pattern now reads the
    # text about once.
    from ckanext.governance import publication

    started = time.perf_counter()
    assert publication.personal_data({"notes": text}) == []
    assert time.perf_counter() - started < 2.0


def test_an_email_address_in_a_long_description_is_still_found(site):
    make("main", notes="a" * 100_000 + " write to jane.doe@example.org " + "b" * 100_000)
    assert "personal_data_suspected" in codes(check("main", private=False))


def test_contact_fields_and_plain_numbers_are_not_personal_data(site):
    make("main", author_email="jane.doe@example.org", maintainer="Jane Doe",
         notes=NOTES + " Version 2.1.3, 2010 to 2020, 15 minutes, 1,024 stations.",
         extras=[{"key": "contact_email", "value": "desk@example.org"}])
    assert "personal_data_suspected" not in codes(check("main", private=False))


def test_personal_data_patterns_are_configurable(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.personal_data_patterns",
                        r"PATIENT-\d{4}")
    make("main", notes=NOTES + " Row for PATIENT-0042 removed. Mail a@b.org")
    found = [w for w in check("main", private=False)["warnings"] if w["code"] == "personal_data_suspected"]
    assert len(found) == 1 and "pattern" in found[0]["message"]


def test_closing_a_dataset_that_public_datasets_link_to(site):
    make("target", private=False)
    make("linker", private=False, resources=[{"name": "Source", "url": f"{SITE}/dataset/target"}])
    make("by-field", private=False, extras=[{"key": "related_dataset", "value": "target"}])
    make("unrelated", private=False)
    result = check("target", private=True)
    assert result["more_reachable"] is False
    found = [w for w in result["warnings"] if w["code"] == "linked_from_public"]
    assert sorted(w["item"]["title"] for w in found) == ["By-Field", "Linker"]
    assert [w["code"] for w in check("target", access_tier="controlled")["warnings"]] == [
        "linked_from_public", "linked_from_public"]


# The modes, through the action API -------------------------------------------------


def update(name, **data):
    return call_action("package_patch", {"user": "ed-editor"}, id=name, **data)


def test_warn_mode_proceeds_returns_and_records_the_warnings(site):
    make("main", notes="Short.")
    result = update("main", private=False)
    assert result["private"] is False
    assert {w["code"] for w in result["governance_warnings"]} == {"description_missing", "irreversible"}
    (event,) = model.Session.query(Event).filter_by(kind="publication_warned").all()
    assert set(event.detail["warnings"]) == {"description_missing", "irreversible"}
    assert event.detail["more_reachable"] is True


def test_warn_mode_lets_a_harvester_create_public_datasets(site):
    created = call_action("package_create", {"user": "ed-editor"}, name="harvested",
                          owner_org="lab", notes=NOTES, license_id="cc-by")
    assert [w["code"] for w in created["governance_warnings"]] == ["irreversible"]


def test_confirm_mode_refuses_until_confirmed(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "confirm")
    make("main")
    with pytest.raises(tk.ValidationError) as err:
        update("main", private=False, access_tier="open")
    assert any(m.startswith("irreversible:") for m in err.value.error_dict["governance_confirm"])
    shown = call_action("package_show", {"user": "ed-editor"}, id="main")
    assert shown["private"] is True  # nothing changed
    result = update("main", private=False, governance_confirm=True)
    assert result["private"] is False
    assert model.Session.query(Event).filter_by(kind="publication_confirmed").count() == 1
    # Changes that open nothing need no confirmation.
    assert update("main", title="Renamed")["title"] == "Renamed"


def test_confirm_mode_refuses_a_new_public_dataset_until_confirmed(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "confirm")
    with pytest.raises(tk.ValidationError) as err:
        call_action("package_create", {"user": "ed-editor"}, name="new-one", owner_org="lab",
                    notes=NOTES, license_id="cc-by")
    assert "governance_confirm" in err.value.error_dict
    assert model.Package.get("new-one") is None
    assert call_action("package_create", {"user": "ed-editor"}, name="private-one", owner_org="lab",
                       private=True)["governance_warnings"] == []


def test_off_mode_checks_nothing(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "off")
    make("main", notes="")
    assert update("main", private=False)["governance_warnings"] == []
    assert model.Session.query(Event).filter(Event.kind.like("publication%")).count() == 0


def test_dry_run_input_and_permissions(site):
    make("main")
    with pytest.raises(tk.ValidationError) as err:
        check("main", private="perhaps")
    assert "private" in err.value.error_dict
    with pytest.raises(tk.ValidationError) as err:
        check("main", access_tier="secret")
    assert "access_tier" in err.value.error_dict
    with pytest.raises(tk.ObjectNotFound):
        check("no-such-dataset")
    with pytest.raises(tk.NotAuthorized):
        call_action("governance_publication_check", {"user": "olga-other", "ignore_auth": False}, id="main")
    as_new = check("main")  # no change proposed: publishing it as it is
    assert as_new["more_reachable"] is True and "irreversible" in codes(as_new)


def test_a_thousand_links_are_checked_with_a_bounded_number_of_queries(site):
    lab = model.Group.get("lab")
    names = [f"bulk-{i}" for i in range(1000)]
    model.Session.execute(sa.insert(model.Package.__table__), [
        {"id": str(uuid.uuid4()), "name": n, "title": n, "state": "active", "type": "dataset",
         "private": i % 2 == 0, "owner_org": lab.id} for i, n in enumerate(names)])
    model.Session.commit()
    make("few", extras=[{"key": "related_dataset", "value": " ".join(names[:10])}])
    make("many", extras=[{"key": "related_dataset", "value": " ".join(names)}])

    def counted(name):
        statements = []

        def count(*_args):
            statements.append(1)

        engine = model.meta.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            result = check(name, private=False)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements), result

    few, few_result = counted("few")
    many, many_result = counted("many")
    assert sum(w["code"] == "linked_dataset_private" for w in many_result["warnings"]) == 500
    assert sum(w["code"] == "linked_dataset_private" for w in few_result["warnings"]) == 5
    assert many == few, (few, many)


def test_private_is_read_as_ckan_reads_it(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "confirm")
    make("main")
    # CKAN stores anything but true/yes/t/y/1 as False: "on" publishes, so it must be confirmed.
    with pytest.raises(tk.ValidationError) as err:
        update("main", private="on")
    assert "governance_confirm" in err.value.error_dict
    assert update("main", private="on", governance_confirm="yes")["private"] is False


def test_the_ledger_keeps_codes_not_ids_of_linked_datasets(site):
    make("main", extras=[{"key": "related_dataset", "value": "secret-other"}])
    sysadmin = factories.Sysadmin()
    call_action("package_patch", {"user": sysadmin["name"]}, id="main", private=False)
    (event,) = model.Session.query(Event).filter_by(kind="publication_warned").all()
    other = model.Package.get("secret-other")
    assert "linked_dataset_private" in event.detail["warnings"]
    assert other.id not in str(event.detail)


def test_organisation_bulk_make_public_warns_even_in_confirm_mode(site, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", "confirm")
    ids = [make(n)["id"] for n in ("one", "two")]
    call_action("bulk_update_public", {"user": "ed-editor"}, datasets=ids, org_id=site["lab"]["id"])
    assert all(not model.Package.get(i).private for i in ids)
    assert model.Session.query(Event).filter_by(kind="publication_warned").count() == 2
