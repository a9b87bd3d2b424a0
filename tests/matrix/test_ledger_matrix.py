"""Matrix rows for the ledger: who reads an organisation's governance events.

Sysadmins and the organisation's admins read all of its events; every other
kind of user reads none of them (only events they caused themselves), and
anonymous users are refused.
"""
from __future__ import annotations

import json

import pytest

from .conftest import USER_KINDS, World

READERS = {"admin", "sysadmin"}


@pytest.mark.parametrize("kind", USER_KINDS)
def test_event_list_of_the_organisation(world: World, kind: str):
    headers = {"Authorization": world.tokens[kind]} if world.tokens[kind] else {}
    resp = world.app.get(
        "/api/3/action/governance_event_list?organization=matrix-org&kind=tier_changed",
        headers=headers,
    )
    if kind == "anonymous":
        assert resp.status_code == 403
        return
    assert resp.status_code == 200
    result = json.loads(resp.get_data(as_text=True))["result"]
    if kind in READERS:
        # One tier set per dataset of the world, by its publisher.
        assert result["count"] == len(world.datasets)
        assert {e["package_id"] for e in result["results"]} == {d.id for d in world.datasets.values()}
    else:
        assert result["count"] == 0


@pytest.mark.parametrize("kind", USER_KINDS)
def test_event_csv_of_the_organisation(world: World, kind: str):
    headers = {"Authorization": world.tokens[kind]} if world.tokens[kind] else {}
    resp = world.app.get("/organization/matrix-org/governance/events.csv", headers=headers)
    body = resp.get_data(as_text=True)
    if kind in READERS:
        assert resp.status_code == 200
        assert all(d.name in body for d in world.datasets.values())
    else:
        assert resp.status_code == 403
        assert not any(d.id in body for d in world.datasets.values())
