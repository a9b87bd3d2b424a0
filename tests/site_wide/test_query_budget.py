"""Deciding for a page of search results costs a fixed number of SQL queries.

Counted with SQLAlchemy events around real package_search calls: the extra
queries the plugin adds must not grow with the number of results.
"""
from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

import ckan.model as model
from ckan.logic.action.get import package_search as core_package_search
from ckan.tests import factories
from ckan.tests.helpers import call_action

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

TIERS = ("open", "registered", "agreement", "controlled")


@contextlib.contextmanager
def count_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = model.meta.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def catalogue():
    editor = factories.User()
    member = factories.User()
    org = factories.Organization(users=[
        {"name": editor["name"], "capacity": "editor"},
        {"name": member["name"], "capacity": "member"},
    ])
    for i in range(104):
        call_action(
            "package_create", {"user": editor["name"]}, name=f"budget-{i:03d}",
            owner_org=org["id"], access_tier=TIERS[i % 4],
            # Uploads too: their download URLs are computed per resource.
            resources=[{"url": f"https://data.example.org/{i}.csv"},
                       {"url": f"upload-{i}.csv", "url_type": "upload"}],
        )
    return {"member": member, "outsider": factories.User()}


def _extra_queries(user: str, rows: int) -> tuple[int, int]:
    """(queries of package_search with the plugin, without its chain)."""
    context = {"user": user}
    call_action("package_search", dict(context), rows=rows)  # warm caches alike
    with count_queries() as with_plugin:
        result = call_action("package_search", dict(context), rows=rows)
    assert len(result["results"]) == rows
    with count_queries() as core:
        core_package_search(
            dict(context, model=model, session=model.Session, ignore_auth=True), {"rows": rows}
        )
    return len(with_plugin), len(core)


@pytest.mark.parametrize("who", ["", "outsider", "member"])
def test_package_search_costs_the_same_extra_queries_for_10_and_100_results(catalogue, who):
    user = catalogue[who]["name"] if who else ""
    plugin_10, core_10 = _extra_queries(user, 10)
    plugin_100, core_100 = _extra_queries(user, 100)
    extra_10, extra_100 = plugin_10 - core_10, plugin_100 - core_100
    print(f"{who or 'anonymous'}: extra queries 10 rows={extra_10}, 100 rows={extra_100}")
    assert extra_10 == extra_100
    assert extra_100 <= 3


@pytest.mark.parametrize("tier", ["open", "controlled"])
def test_a_download_decides_once_however_often_ckan_asks(app, tier):
    """The download route asks for the dataset four times (the guard, CKAN's
    resource_show and its package_show, the view's package_show): one decision
    statement serves them all, and the researcher without a grant is still refused."""
    member, outsider = factories.User(), factories.User()
    org = factories.Organization(users=[{"name": member["name"], "capacity": "member"}])
    pkg = call_action("package_create", {"user": member["name"], "ignore_auth": True},
                      name="flows", owner_org=org["id"], access_tier=tier,
                      resources=[{"url": "https://data.example.org/zz-flows.csv"}])
    path = f"/dataset/flows/resource/{pkg['resources'][0]['id']}/download"
    for user, status in ((member, 302), (outsider, 302 if tier == "open" else 403)):
        token = call_action("api_token_create", {"ignore_auth": True},
                            user=user["name"], name="t")["token"]
        decisions = []

        def record(conn, cursor, statement, parameters, *rest):
            if "governance_dataset_facts" in statement and pkg["id"] in str(parameters):
                decisions.append(statement)

        sa.event.listen(model.meta.engine, "before_cursor_execute", record)
        try:
            resp = app.get(path, headers={"Authorization": token}, follow_redirects=False,
                           status=status)
        finally:
            sa.event.remove(model.meta.engine, "before_cursor_execute", record)
        # (The page header's activity count decides for other datasets.)
        assert len(decisions) == 1, (user["name"], len(decisions))
        if status == 302:
            assert resp.headers["Location"] == "https://data.example.org/zz-flows.csv"
        else:
            assert "zz-flows" not in resp.body
