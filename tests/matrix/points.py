"""Enforcement points (the README's "Security" section), each as a way for a user to ask for data.

A point is a function ``(world, dataset, token) -> Outcome``: it sends the real
HTTP requests a client or browser would send and reports what came back. The
matrix then checks, for users who may not have the data, that the request was
refused where a refusal is the answer, and that no secret of the dataset is
anywhere in any body or header; for users who may, that the data is there.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .conftest import Dataset, World


@dataclasses.dataclass
class Response:
    label: str
    status: int
    text: str  # body and headers together: a secret in either is a leak


@dataclasses.dataclass
class Outcome:
    responses: list[Response]
    # The secrets that must be present when access is allowed (positive control).
    shows_when_allowed: list[str] = dataclasses.field(default_factory=list)
    # Statuses that mean "refused" for this point, when access is denied;
    # None: the point answers 200 with redacted content instead.
    denied_statuses: tuple[int, ...] | None = None
    allowed_status: int | None = 200


Point = Callable[[World, Dataset, "str | None"], Outcome]
POINTS: dict[str, Point] = {}


def point(name: str):
    def register(fn: Point) -> Point:
        POINTS[name] = fn
        return fn
    return register


def _get(world: World, label: str, url: str, token: str | None, **kwargs: Any) -> Response:
    headers = {"Authorization": token} if token else {}
    resp = world.app.get(url, headers=headers, follow_redirects=False, **kwargs)
    return _response(label, resp)


def _post(world: World, label: str, url: str, token: str | None, payload: dict) -> Response:
    headers = {"Authorization": token} if token else {}
    resp = world.app.post(url, headers=headers, json=payload, follow_redirects=False)
    return _response(label, resp)


def _response(label: str, resp: Any) -> Response:
    headers = "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
    return Response(label, resp.status_code, resp.get_data(as_text=True) + "\n" + headers)


def _api(world: World, action: str, token: str | None, **params: Any) -> Response:
    query = "&".join(
        f"{k}={quote(json.dumps(v) if isinstance(v, (list, dict)) else str(v))}"
        for k, v in params.items()
    )
    return _get(world, action, f"/api/3/action/{action}?{query}", token)


# 1. package_show and resource_show ---------------------------------------------


@point("package_show")
def package_show(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [
            _api(world, "package_show", token, id=ds.name),
            _api(world, "package_show", token, id=ds.id, use_default_schema="true"),
        ],
        shows_when_allowed=[ds.secrets["link"], ds.secrets["file"], ds.secrets["extra"]],
    )


@point("resource_show")
def resource_show(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [
            _api(world, "resource_show", token, id=ds.link["id"]),
            _api(world, "resource_show", token, id=ds.upload["id"]),
        ],
        shows_when_allowed=[ds.secrets["link"], ds.secrets["file"]],
    )


@point("governance_access_show")
def governance_access_show(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_api(world, "governance_access_show", token, id=ds.name)],
        shows_when_allowed=[ds.secrets["link"], ds.secrets["file"]],
    )


# 2. package_search and current_package_list_with_resources -------------------


@point("package_search")
def package_search(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_api(world, "package_search", token, q=f"name:{ds.name}", include_private="true")],
        shows_when_allowed=[ds.secrets["link"], ds.secrets["file"]],
    )


@point("current_package_list_with_resources")
def current_package_list(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_api(world, "current_package_list_with_resources", token, limit=100)],
        shows_when_allowed=[ds.secrets["link"]],
    )


# 3. The search index: pulling or probing URLs -------------------------------


@point("search_index_probe")
def search_index_probe(world: World, ds: Dataset, token: str | None) -> Outcome:
    link = ds.secrets["link"]
    return Outcome(
        [
            _api(world, "package_search", token, q=f"res_url:*{link}*"),
            _api(world, "package_search", token, q=f"urls:*{link}*"),
            _api(world, "package_search", token, q=link),
            _api(world, "package_search", token, fq=f"res_url:*{link}*"),
            _api(world, "package_search", token, q=f"name:{ds.name}",
                 fl="id,name,res_url,urls,data_dict,validated_data_dict,res_extras_alt_source"),
            _api(world, "package_search", token, q=f"name:{ds.name}",
                 **{"facet.field": ["res_url", "urls", "res_extras_alt_source"]}),
            _api(world, "package_search", token, q=f"name:{ds.name}"),
        ],
        # The index holds no URL of a gated dataset for anyone, so probing it
        # finds nothing; those who may have the data get the URL in the
        # dataset the search returns.
        shows_when_allowed=[ds.secrets["link"]],
    )


# 4. resource_search -------------------------------------------------------------


@point("resource_search")
def resource_search(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [
            _api(world, "resource_search", token, query=f"url:{ds.secrets['link']}"),
            _api(world, "resource_search", token, query="name:Measurements"),
        ],
        shows_when_allowed=[ds.secrets["link"]],
    )


# 5. Download route -------------------------------------------------------------


@point("download_upload")
def download_upload(world: World, ds: Dataset, token: str | None) -> Outcome:
    url = f"/dataset/{ds.name}/resource/{ds.upload['id']}/download/{ds.secrets['file']}.csv"
    return Outcome(
        [_get(world, "download upload", url, token)],
        shows_when_allowed=[ds.secrets["content"]],
        denied_statuses=(403,),
    )


@point("download_link")
def download_link(world: World, ds: Dataset, token: str | None) -> Outcome:
    url = f"/dataset/{ds.name}/resource/{ds.link['id']}/download"
    return Outcome(
        [_get(world, "download link", url, token)],
        shows_when_allowed=[ds.secrets["link"]],  # in the redirect's Location
        denied_statuses=(403,),
        allowed_status=302,
    )


# 6. DataStore --------------------------------------------------------------------


@point("datastore_search")
def datastore_search(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_post(world, "datastore_search", "/api/3/action/datastore_search", token,
               {"resource_id": ds.link["id"]})],
        shows_when_allowed=[ds.secrets["rows"]],
        denied_statuses=(403,),
    )


@point("datastore_search_sql")
def datastore_search_sql(world: World, ds: Dataset, token: str | None) -> Outcome:
    sql = f'SELECT * FROM "{ds.link["id"]}"'
    return Outcome(
        [_post(world, "datastore_search_sql", "/api/3/action/datastore_search_sql", token,
               {"sql": sql})],
        shows_when_allowed=[ds.secrets["rows"]],
        denied_statuses=(403,),
    )


@point("datastore_info")
def datastore_info(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_post(world, "datastore_info", "/api/3/action/datastore_info", token,
               {"id": ds.link["id"]})],
        # The table's columns, for those who may read it.
        shows_when_allowed=['"station"', '"value"'],
        denied_statuses=(403,),
    )


@point("datastore_dump")
def datastore_dump(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [_get(world, "datastore dump", f"/datastore/dump/{ds.link['id']}", token)],
        shows_when_allowed=[ds.secrets["rows"]],
        denied_statuses=(403, 404),
    )


# 7. Resource views -----------------------------------------------------------------


@point("resource_views")
def resource_views(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [
            _api(world, "resource_view_show", token, id=ds.view_id),
            _api(world, "resource_view_list", token, id=ds.link["id"]),
        ],
        shows_when_allowed=[ds.secrets["view"]],
    )


@point("view_iframe")
def view_iframe(world: World, ds: Dataset, token: str | None) -> Outcome:
    base = f"/dataset/{ds.name}/resource/{ds.link['id']}/view"
    forged = json.dumps({"view_type": "image_view", "image_url": "", "id": "x",
                         "resource_id": ds.link["id"], "title": "x"})
    return Outcome(
        [
            _get(world, "view iframe", f"{base}/{ds.view_id}", token),
            _get(world, "forged view", f"{base}?resource_view={quote(forged)}", token),
        ],
        shows_when_allowed=[ds.secrets["view"]],
        denied_statuses=(403,),
    )


# 8. Activity stream -------------------------------------------------------------


@point("activity")
def activity(world: World, ds: Dataset, token: str | None) -> Outcome:
    first, last = ds.activity_ids[0], ds.activity_ids[-1]
    publisher = "matrix-publisher"
    return Outcome(
        [
            _api(world, "package_activity_list", token, id=ds.id, include_data="true"),
            _api(world, "activity_show", token, id=last, include_data="true"),
            _api(world, "activity_data_show", token, id=last, object_type="package"),
            _api(world, "activity_data_show", token, id=first),
            _api(world, "activity_diff", token, id=last, object_type="package", diff_type="unified"),
            _api(world, "activity_diff", token, id=last, object_type="package", diff_type="html"),
            _api(world, "user_activity_list", token, id=publisher),
            _api(world, "organization_activity_list", token, id=world.org["id"]),
            _api(world, "recently_changed_packages_activity_list", token),
            _api(world, "dashboard_activity_list", token),
        ],
        # Snapshots of a dataset that was never gated hold its resource URL,
        # and those who may have the data see it there (anonymous users get no
        # activity detail at all). A snapshot taken while the dataset was
        # gated was stored without URLs, for everyone.
        shows_when_allowed=[ds.secrets["link"]] if token and ds.key == "open" else [],
        allowed_status=None,
    )


# Pages a person sees -------------------------------------------------------------


@point("pages")
def pages(world: World, ds: Dataset, token: str | None) -> Outcome:
    return Outcome(
        [
            _get(world, "dataset page", f"/dataset/{ds.name}", token),
            _get(world, "resource page", f"/dataset/{ds.name}/resource/{ds.link['id']}", token),
            _get(world, "upload page", f"/dataset/{ds.name}/resource/{ds.upload['id']}", token),
            _get(world, "search page", f"/dataset/?q=name:{ds.name}", token),
            _get(world, "activity page", f"/dataset/activity/{ds.name}", token),
            _get(world, "changes page", f"/dataset/changes/{ds.activity_ids[-1]}", token),
        ],
        shows_when_allowed=[ds.secrets["link"]],
        allowed_status=None,
    )
