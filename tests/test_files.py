"""CKAN 2.12's file subsystem hands a gated dataset's files only to who may have its data.

A file created with ``file_create`` and given to a dataset or one of its
resources (``file_ownership_transfer``) is the dataset's data. CKAN's cascade
access lets anyone who can read the owner read the file; a gated dataset's
metadata is public, so the gate must refuse where the tier or embargo does.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import pytest
from people import api_headers

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

STORAGE = "test_files"  # configured in test.ini
GATED = ("registered", "agreement", "controlled", "open-embargoed")
OWNERS = ("resource", "package")


@dataclasses.dataclass
class File:
    id: str
    name: str
    content: bytes


@dataclasses.dataclass
class Dataset:
    id: str
    resource_id: str
    files: dict[str, File]  # by owner type


@dataclasses.dataclass
class World:
    sysadmin: dict
    admin: dict  # of the owning organisation (publisher and reviewer)
    member: dict  # read-only member of the organisation: exempt
    outsider: dict  # logged in, nothing else
    datasets: dict[str, Dataset]


def _attach(sysadmin: dict, owner_type: str, owner_id: str, label: str,
            created: list[str]) -> File:
    token = secrets.token_hex(6)
    name = f"zz{label}file{token}.csv"
    content = f"station,value\nA,zz{label}content{token}\n".encode()
    ctx = {"user": sysadmin["name"]}
    made = call_action("file_create", dict(ctx), name=name, storage=STORAGE, upload=content)
    created.append(made["id"])
    call_action("file_ownership_transfer", dict(ctx), id=made["id"],
                owner_type=owner_type, owner_id=owner_id)
    return File(made["id"], made["name"], content)


@pytest.fixture
def created():
    """Ids of the files a test stored; removed afterwards (the database is
    reset for each test, the storage directory is not)."""
    ids: list[str] = []
    yield ids
    for file_id in ids:
        try:
            call_action("file_delete", {"ignore_auth": True}, id=file_id)
        except tk.ObjectNotFound:
            pass


@pytest.fixture
def world(created) -> World:
    sysadmin = factories.Sysadmin()
    admin, member, outsider = factories.User(), factories.User(), factories.User()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": member["name"], "capacity": "member"}])
    ctx = {"user": admin["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org=org["id"],
                name="files-dua", title="Files DUA", body="Use it well.")
    datasets = {}
    for key in GATED + ("open",):
        tier, _, state = key.partition("-")
        terms: dict = {"access_tier": tier}
        if state == "embargoed":
            terms["embargo_until"] = (dt.datetime.now(dt.timezone.utc)
                                      + dt.timedelta(days=30)).isoformat()
        if tier in ("agreement", "controlled"):
            terms["agreement"] = "files-dua"
        pkg = call_action("package_create", dict(ctx), name=f"files-{key}", owner_org=org["id"],
                          resources=[{"url": "https://example.org/described.csv",
                                      "name": "Described"}], **terms)
        rid = pkg["resources"][0]["id"]
        label = key.replace("-", "")
        files = {"resource": _attach(sysadmin, "resource", rid, label, created),
                 "package": _attach(sysadmin, "package", pkg["id"], label, created)}
        datasets[key] = Dataset(pkg["id"], rid, files)
    return World(sysadmin, admin, member, outsider, datasets)


def _show(app, f: File, user: dict | None):
    return app.get(f"/api/3/action/file_show?id={f.id}", headers=api_headers(user))


def _download(app, f: File, user: dict | None):
    return app.get(f"/file/download/{f.id}", headers=api_headers(user), follow_redirects=False)


def _assert_refused(app, f: File, user: dict | None) -> None:
    shown, got = _show(app, f, user), _download(app, f, user)
    assert shown.status_code == 403
    assert got.status_code == 404  # CKAN's answer for a file one may not read
    for resp in (shown, got):
        text = resp.get_data(as_text=True) + str(resp.headers)
        assert f.name not in text
        assert f.content.decode().split(",")[-1].strip() not in text


def _assert_served(app, f: File, user: dict | None) -> None:
    shown = _show(app, f, user)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert shown.json["result"]["name"] == f.name
    got = _download(app, f, user)
    assert got.status_code == 200
    assert got.get_data() == f.content


# Refused --------------------------------------------------------------------------


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("key", GATED)
def test_anonymous_visitor_gets_no_file_of_a_gated_dataset(app, world, key, owner):
    _assert_refused(app, world.datasets[key].files[owner], None)


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("key", ["agreement", "controlled", "open-embargoed"])
def test_unrelated_user_gets_no_file_of_a_gated_dataset(app, world, key, owner):
    _assert_refused(app, world.datasets[key].files[owner], world.outsider)


def test_accepting_the_agreement_does_not_open_a_controlled_datasets_files(app, world):
    ds = world.datasets["controlled"]
    call_action("governance_agreement_accept", {"user": world.outsider["name"]}, id=ds.id)
    _assert_refused(app, ds.files["resource"], world.outsider)


# Served ---------------------------------------------------------------------------


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("key", GATED)
def test_organisation_member_gets_the_files_of_a_gated_dataset(app, world, key, owner):
    _assert_served(app, world.datasets[key].files[owner], world.member)


@pytest.mark.parametrize("owner", OWNERS)
def test_logged_in_user_gets_the_files_of_a_registered_dataset(app, world, owner):
    _assert_served(app, world.datasets["registered"].files[owner], world.outsider)


@pytest.mark.parametrize("owner", OWNERS)
def test_user_who_accepted_the_agreement_gets_the_files(app, world, owner):
    ds = world.datasets["agreement"]
    _assert_refused(app, ds.files[owner], world.outsider)
    call_action("governance_agreement_accept", {"user": world.outsider["name"]}, id=ds.id)
    _assert_served(app, ds.files[owner], world.outsider)


def test_user_with_a_grant_who_accepted_the_agreement_gets_the_files(app, world):
    ds = world.datasets["controlled"]
    user = {"user": world.outsider["name"]}
    request = call_action(
        "governance_request_create", dict(user), id=ds.id, commercial=False,
        intended_use="Research on the river measurements, for the tests of files.")
    call_action("governance_request_decide", {"user": world.admin["name"]}, id=request["id"],
                decision="approve", message="Approved")
    call_action("governance_agreement_accept", dict(user), id=ds.id)
    for owner in OWNERS:
        _assert_served(app, ds.files[owner], world.outsider)


@pytest.mark.parametrize("owner", OWNERS)
def test_files_of_an_open_dataset_are_served_to_anyone_as_ckan_does(app, world, owner):
    _assert_served(app, world.datasets["open"].files[owner], None)


def test_sysadmin_gets_the_files_of_an_embargoed_dataset(app, world):
    _assert_served(app, world.datasets["open-embargoed"].files["resource"], world.sysadmin)


def test_file_owned_by_a_user_stays_theirs_alone(app, world, created):
    """Not a dataset's file: CKAN's rules (the owner, and file managers)."""
    mine = call_action("file_create", {"user": world.sysadmin["name"]},
                       name=f"zzmine{secrets.token_hex(6)}.csv", storage=STORAGE, upload=b"mine")
    created.append(mine["id"])
    call_action("file_ownership_transfer", {"user": world.sysadmin["name"]}, id=mine["id"],
                owner_type="user", owner_id=world.outsider["id"])
    f = File(mine["id"], mine["name"], b"mine")
    _assert_served(app, f, world.outsider)
    _assert_refused(app, f, world.member)


# Listing a dataset's files --------------------------------------------------------


@tk.auth_allow_anonymous_access
def _anyone(context, data_dict):
    return {"success": True}


class ListAnyFiles(p.SingletonPlugin):
    """A site that lets anyone list any dataset's or resource's files."""

    p.implements(p.IAuthFunctions)

    def get_auth_functions(self):
        return {"package_file_scan": _anyone, "resource_file_scan": _anyone}


def listing_open_to_anyone(test):
    """Run ``test`` on a site whose file listing defers to that plugin."""
    marks = [
        pytest.mark.provide_plugin("governance_test_list_files", ListAnyFiles),
        pytest.mark.ckan_config("ckan.plugins", "activity datastore image_view webpage_view "
                                                "governance governance_test_list_files"),
        pytest.mark.ckan_config("ckan.files.owner.scan_as_update", False),
    ]
    for mark in marks:
        test = mark(test)
    return test


def _scan(app, owner_type: str, owner_id: str, user: dict | None):
    return app.get(f"/api/3/action/file_owner_scan?owner_type={owner_type}&owner_id={owner_id}",
                   headers=api_headers(user))


def _owner_id(ds: Dataset, owner: str) -> str:
    return ds.resource_id if owner == "resource" else ds.id


@listing_open_to_anyone
@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("key", GATED)
def test_listing_a_gated_datasets_files_is_refused_to_anonymous_visitors(app, world, key, owner):
    ds = world.datasets[key]
    resp = _scan(app, owner, _owner_id(ds, owner), None)
    assert resp.status_code == 403
    assert ds.files[owner].name not in resp.get_data(as_text=True)


@listing_open_to_anyone
@pytest.mark.parametrize("owner", OWNERS)
def test_listing_files_of_an_open_dataset_or_for_a_member_is_left_to_ckan(app, world, owner):
    for key, user in (("open", None), ("controlled", world.member)):
        ds = world.datasets[key]
        resp = _scan(app, owner, _owner_id(ds, owner), user)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert [f["name"] for f in resp.json["result"]["results"]] == [ds.files[owner].name]


def test_nothing_else_lists_files(app):
    """The file actions of this CKAN, classified: a new one (a ``file_search``,
    say) must be gated here before this test is updated."""
    from ckan.logic import _actions, get_action

    get_action("file_show")  # fills CKAN's action registry
    file_actions = {name for name in _actions if name.startswith("file_")}
    assert file_actions == {
        "file_create", "file_register", "file_delete", "file_rename", "file_pin",
        "file_unpin", "file_ownership_transfer",  # write: editors, cascade to *_update
        "file_show",  # gated: files_file_allows("show")
        "file_owner_scan",  # gated: files_owner_allows("file_scan")
    }
