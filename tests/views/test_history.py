"""ckanext-activity's history pages show a gated dataset's past versions without its data.

The stored snapshot of each version holds the resources whole (URL, cache URL,
hash, inner mimetype, extras, the upload's file name). The pages that render a
snapshot must give a viewer only what they may see now, like the activity
actions do; an activity id that is not about the dataset (or resource) in the
address answers 404.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from io import BytesIO

import pytest
from people import api_headers

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

# Datasets whose data is closed to anonymous visitors (and, but for
# ``registered``, to any logged-in user without an agreement or a grant).
GATED = ("registered", "agreement", "controlled", "open-embargoed")
PUBLIC_DETAIL = "ckan.auth.public_activity_stream_detail"


@dataclasses.dataclass
class Dataset:
    name: str
    id: str
    link_id: str
    upload_id: str
    activity_ids: list[str]  # oldest first
    secrets: dict[str, str]


@dataclasses.dataclass
class World:
    org: dict
    publisher: dict
    member: dict
    outsider: dict
    datasets: dict[str, Dataset]


def _secret(label: str) -> str:
    return f"zz{label}{secrets.token_hex(5)}"


def _api(app, token: str, action: str, **data) -> dict:
    """Call an action over HTTP, as the probe did: CKAN stores the snapshot of
    a version with the calling user's view of it (a ``call_action`` from a
    test has no user, and the snapshot would be the anonymous one)."""
    upload = data.pop("upload", None)
    if upload is not None:
        resp = app.post(f"/api/3/action/{action}", headers={"Authorization": token},
                        data=dict(data, upload=upload), content_type="multipart/form-data")
    else:
        resp = app.post(f"/api/3/action/{action}", headers={"Authorization": token}, json=data)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json["result"]


def _build(app, key: str, org: dict, token: str) -> Dataset:
    tier, _, state = key.partition("-")
    s = {field: _secret(field) for field in ("url", "cache", "hash", "inner", "extra", "file")}
    terms: dict = {"access_tier": tier}
    if state == "embargoed":
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
        terms["embargo_until"] = until.isoformat()
    if tier in ("agreement", "controlled"):
        terms["agreement"] = "history-dua"
    pkg = _api(app, token, "package_create", name=f"history-{key}", owner_org=org["id"],
               title=f"History {key}", **terms)
    link = _api(
        app, token, "resource_create", package_id=pkg["id"], name="Measurements", format="CSV",
        url=f"https://files.example.org/{s['url']}/data.csv",
        cache_url=f"https://cache.example.org/{s['cache']}.csv",
        hash=s["hash"], mimetype_inner=f"text/{s['inner']}",
        alt_source=f"https://mirror.example.org/{s['extra']}.csv",
    )
    upload = _api(
        app, token, "resource_create", package_id=pkg["id"], name="Upload", format="CSV",
        upload=(BytesIO(b"station,value\nA,1\n"), f"{s['file']}.csv"),
    )
    # A later version, so there is something to compare with.
    _api(app, token, "package_patch", id=pkg["id"], notes="Second version.")
    from ckanext.activity.model import Activity

    ids = [a.id for a in model.Session.query(Activity).filter(Activity.object_id == pkg["id"])
           .order_by(Activity.timestamp)]
    stored = model.Session.get(Activity, ids[-1]).data["package"]["resources"]
    assert s["url"] in stored[0]["url"], "the snapshot holds the data, as on a real site"
    return Dataset(pkg["name"], pkg["id"], link["id"], upload["id"], ids, s)


@pytest.fixture
def world(app) -> World:
    publisher = factories.User()
    member = factories.User()
    outsider = factories.User()
    org = factories.Organization(users=[{"name": publisher["name"], "capacity": "editor"},
                                        {"name": member["name"], "capacity": "member"}])
    call_action("governance_agreement_create", {"user": publisher["name"]}, owner_org=org["id"],
                name="history-dua", title="History DUA", body="Use it well.")
    token = api_headers(publisher)["Authorization"]
    datasets = {key: _build(app, key, org, token) for key in GATED + ("open",)}
    return World(org, publisher, member, outsider, datasets)


def _history_pages(ds: Dataset) -> dict[str, str]:
    first, last = ds.activity_ids[0], ds.activity_ids[-1]
    return {
        "link history": f"/dataset/{ds.name}/resources/{ds.link_id}/history/{last}",
        "upload history": f"/dataset/{ds.name}/resources/{ds.upload_id}/history/{last}",
        "dataset history": f"/dataset/{ds.name}/history/{last}",
        "changes": f"/dataset/changes/{last}",
        "changes range": f"/dataset/changes_multiple?new_id={last}&old_id={first}",
    }


def _bodies(app, ds: Dataset, user: dict | None) -> dict[str, tuple[int, str]]:
    headers = api_headers(user)
    found = {}
    for label, url in _history_pages(ds).items():
        resp = app.get(url, headers=headers, follow_redirects=False)
        found[label] = (resp.status_code, resp.get_data(as_text=True) + str(resp.headers))
    return found


def _leaks(bodies: dict[str, tuple[int, str]], ds: Dataset) -> list[str]:
    return [f"{label}: {field}" for label, (_status, body) in bodies.items()
            for field, secret in ds.secrets.items() if secret in body]


# The resource history page -----------------------------------------------------


@pytest.mark.parametrize("key", GATED)
@pytest.mark.parametrize("public_detail", [False, True])
def test_anonymous_visitor_reads_no_data_of_a_gated_resource_in_its_history(
        app, world, key, public_detail, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, PUBLIC_DETAIL, public_detail)
    ds = world.datasets[key]
    for rid in (ds.link_id, ds.upload_id):
        resp = app.get(f"/dataset/{ds.name}/resources/{rid}/history/{ds.activity_ids[-1]}")
        body = resp.get_data(as_text=True)
        # Still the page of that version of the resource: what it is, not where.
        assert resp.status_code == 200
        assert ("Measurements" if rid == ds.link_id else "Upload") in body
        leaked = [field for field, secret in ds.secrets.items() if secret in body]
        assert leaked == [], leaked


@pytest.mark.parametrize("key", ["agreement", "controlled", "open-embargoed"])
def test_unrelated_user_reads_no_data_of_a_gated_resource_in_its_history(app, world, key):
    ds = world.datasets[key]
    headers = api_headers(world.outsider)
    for rid in (ds.link_id, ds.upload_id):
        resp = app.get(f"/dataset/{ds.name}/resources/{rid}/history/{ds.activity_ids[-1]}",
                       headers=headers)
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
        assert [f for f, s in ds.secrets.items() if s in body] == []


def test_logged_in_user_reads_the_history_of_a_registered_resource(app, world):
    """The tier lets any logged-in user have the data, past versions included."""
    ds = world.datasets["registered"]
    resp = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{ds.activity_ids[-1]}",
                   headers=api_headers(world.outsider))
    assert ds.secrets["url"] in resp.get_data(as_text=True)


@pytest.mark.parametrize("key", GATED)
def test_organisation_member_reads_the_whole_history_of_a_gated_resource(app, world, key):
    ds = world.datasets[key]
    headers = api_headers(world.member)
    link = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{ds.activity_ids[-1]}",
                   headers=headers).get_data(as_text=True)
    upload = app.get(f"/dataset/{ds.name}/resources/{ds.upload_id}/history/{ds.activity_ids[-1]}",
                     headers=headers).get_data(as_text=True)
    for field in ("url", "extra"):
        assert ds.secrets[field] in link, field
    assert ds.secrets["file"] in upload


def test_history_of_an_open_resource_is_what_ckan_shows(app, world):
    ds = world.datasets["open"]
    body = app.get(
        f"/dataset/{ds.name}/resources/{ds.link_id}/history/{ds.activity_ids[-1]}"
    ).get_data(as_text=True)
    for field in ("url", "extra"):
        assert ds.secrets[field] in body, field


# Every page that renders a snapshot --------------------------------------------


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
@pytest.mark.parametrize("key", GATED)
def test_no_history_page_shows_gated_data_to_anonymous_visitors(app, world, key):
    ds = world.datasets[key]
    bodies = _bodies(app, ds, None)
    assert _leaks(bodies, ds) == []
    assert {label: status for label, (status, _b) in bodies.items()} == dict.fromkeys(bodies, 200)


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
@pytest.mark.parametrize("key", ["agreement", "controlled", "open-embargoed"])
def test_no_history_page_shows_gated_data_to_an_unrelated_user(app, world, key):
    ds = world.datasets[key]
    assert _leaks(_bodies(app, ds, world.outsider), ds) == []


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
@pytest.mark.parametrize("key", GATED + ("open",))
def test_history_pages_show_the_data_to_an_organisation_member(app, world, key):
    ds = world.datasets[key]
    bodies = _bodies(app, ds, world.member)
    for label in ("link history", "dataset history"):
        assert ds.secrets["url"] in bodies[label][1], label
    assert ds.secrets["file"] in bodies["upload history"][1]


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
def test_history_pages_of_an_open_dataset_show_its_data_to_anonymous_visitors(app, world):
    ds = world.datasets["open"]
    bodies = _bodies(app, ds, None)
    for label in ("link history", "dataset history"):
        assert ds.secrets["url"] in bodies[label][1], label
    assert ds.secrets["file"] in bodies["upload history"][1]


# Activity ids that are not about the page's dataset ----------------------------


def _org_activity_id(org: dict) -> str:
    from ckanext.activity.model import Activity

    return model.Session.query(Activity.id).filter(Activity.object_id == org["id"]).first()[0]


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_resource_history_of_an_activity_that_is_not_about_a_dataset_is_not_found(
        app, world, who):
    ds = world.datasets["open"]
    user = world.member if who == "member" else None
    org_activity = _org_activity_id(world.org)
    resp = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{org_activity}",
                   headers=api_headers(user))
    assert resp.status_code == 404


def test_resource_history_of_another_datasets_activity_is_not_found(app, world):
    ds, other = world.datasets["controlled"], world.datasets["open"]
    for rid in (ds.link_id, other.link_id):
        resp = app.get(f"/dataset/{ds.name}/resources/{rid}/history/{other.activity_ids[-1]}")
        assert resp.status_code == 404
        assert ds.secrets["url"] not in resp.get_data(as_text=True)


def test_resource_history_of_a_resource_the_version_did_not_have_is_not_found(app, world):
    ds = world.datasets["controlled"]
    # The dataset's first version had no resources yet.
    resp = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{ds.activity_ids[0]}")
    assert resp.status_code == 404


def test_resource_history_of_an_unknown_activity_is_not_found(app, world):
    ds = world.datasets["controlled"]
    resp = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/no-such-activity")
    assert resp.status_code == 404


def _view_activity_id(world: World, ds: Dataset) -> str:
    """An activity about the dataset that is not a version of it (a new view)."""
    from ckanext.activity.model import Activity

    call_action("resource_view_create", {"user": world.publisher["name"]}, resource_id=ds.link_id,
                view_type="webpage_view", title="Page", page_url="https://viewer.example.org/p")
    return (model.Session.query(Activity.id)
            .filter(Activity.object_id == ds.id, Activity.activity_type == "new resource view")
            .one()[0])


def test_resource_history_of_an_activity_about_the_dataset_but_not_a_version_is_not_found(
        app, world):
    ds = world.datasets["open"]
    view_activity = _view_activity_id(world, ds)
    resp = app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{view_activity}")
    assert resp.status_code == 404


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
def test_range_of_changes_between_activities_not_of_one_dataset_is_not_found(app, world):
    ds, other = world.datasets["open"], world.datasets["registered"]
    org_activity = _org_activity_id(world.org)
    for user in (None, factories.Sysadmin()):
        headers = api_headers(user)
        for new, old in ((org_activity, ds.activity_ids[0]), (ds.activity_ids[-1], org_activity),
                         (ds.activity_ids[-1], other.activity_ids[0]),
                         (ds.activity_ids[-1], _view_activity_id(world, ds) if user else "nothing"),
                         (ds.activity_ids[-1], "")):
            url = f"/dataset/changes_multiple?new_id={new}&old_id={old}"
            assert app.get(url, headers=headers).status_code == 404, url
        # Reversed, without the version to fall back on.
        url = f"/dataset/changes_multiple?new_id={ds.activity_ids[0]}&old_id={ds.activity_ids[-1]}"
        assert app.get(url, headers=headers).status_code == 404


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
def test_range_of_changes_of_one_dataset_is_shown(app, world):
    ds = world.datasets["open"]
    first, last = ds.activity_ids[0], ds.activity_ids[-1]
    resp = app.get(f"/dataset/changes_multiple?new_id={last}&old_id={first}")
    assert resp.status_code == 200
    assert "Second version." in resp.get_data(as_text=True)
    reversed_ = app.get(f"/dataset/changes_multiple?new_id={first}&old_id={last}"
                        f"&current_new_id={last}")
    assert reversed_.status_code == 200


@pytest.mark.ckan_config(PUBLIC_DETAIL, True)
def test_other_history_pages_of_an_activity_that_is_not_a_dataset_version_fail_cleanly(app, world):
    """CKAN's own answers (403 before it looks, 404 for a sysadmin), never a 500."""
    ds = world.datasets["open"]
    org_activity = _org_activity_id(world.org)
    for user in (None, factories.Sysadmin()):
        headers = api_headers(user)
        for url in (f"/dataset/{ds.name}/history/{org_activity}",
                    f"/dataset/changes/{org_activity}"):
            assert app.get(url, headers=headers).status_code in (403, 404), url


# The stored versions stay whole -------------------------------------------------


def _stored_url(activity_id: str) -> str:
    from ckanext.activity.model import Activity

    model.Session.remove()  # a new session reads the row afresh
    return model.Session.get(Activity, activity_id).data["package"]["resources"][0]["url"]


def test_redacting_a_page_leaves_the_stored_version_whole(app, world):
    ds = world.datasets["controlled"]
    app.get(f"/dataset/{ds.name}/resources/{ds.link_id}/history/{ds.activity_ids[-1]}")
    assert ds.secrets["url"] in _stored_url(ds.activity_ids[-1])


def test_a_redacted_version_stays_redacted_when_reloaded_during_the_request(app, world):
    """Fail closed: a commit (which expires it) or a new session within the
    request reloads the version, and redacts it again."""
    from ckanext.activity.model import Activity

    from ckanext.governance.views import history as history_views

    ds = world.datasets["controlled"]
    aid = ds.activity_ids[-1]
    url = f"/dataset/{ds.name}/resources/{ds.link_id}/history/{aid}"
    with app.flask_app.test_request_context(url):
        assert history_views.guard_history_pages() is None  # CKAN's view renders next
        activity = model.Session.get(Activity, aid)
        assert activity.data["package"]["resources"][0]["url"] == ""
        model.Session.commit()
        assert activity.data["package"]["resources"][0]["url"] == ""
        model.Session.remove()
        again = model.Session.get(Activity, aid)
        assert again.data["package"]["resources"][0]["url"] == ""
        assert again.data["package"]["resources"][0]["name"] == "Measurements"
    assert ds.secrets["url"] in _stored_url(aid)
