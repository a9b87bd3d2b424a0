"""The authorisation matrix: every tier x embargo state x kind of user x enforcement point.

For a user who may not have a dataset's data, no response at any enforcement
point carries any of that dataset's secrets (resource URL, uploaded file name
and content, DataStore rows, resource extra, view config), in body or headers,
and refusals are refusals. For a user who may, the data is really there, so
the test fails if enforcement ever over-reaches or a point stops being reached.
"""
from __future__ import annotations

import pytest

from .conftest import DATASET_KEYS, USER_KINDS, World, expected_access
from .points import POINTS


@pytest.mark.parametrize("point_name", list(POINTS))
@pytest.mark.parametrize("kind", USER_KINDS)
@pytest.mark.parametrize("dataset", DATASET_KEYS)
def test_matrix(world: World, dataset: str, kind: str, point_name: str):
    ds = world.datasets[dataset]
    outcome = POINTS[point_name](world, ds, world.tokens[kind])
    allowed = expected_access(dataset, kind)

    for resp in outcome.responses:
        assert resp.status < 500, f"{resp.label}: server error {resp.status}\n{resp.text[:2000]}"
        if allowed:
            if outcome.allowed_status is not None:
                assert resp.status == outcome.allowed_status, f"{resp.label}: {resp.status}"
        else:
            leaked = [s for s in ds.all_secrets() if s in resp.text]
            assert not leaked, f"{resp.label} leaked {leaked} to {kind}: {_around(resp.text, leaked[0])}"
            if outcome.denied_statuses is not None:
                assert resp.status in outcome.denied_statuses, f"{resp.label}: {resp.status}"

    if allowed:
        body = "\n".join(r.text for r in outcome.responses)
        missing = [s for s in outcome.shows_when_allowed if s not in body]
        assert not missing, f"{kind} may access {dataset} data but {point_name} withheld {missing}"


def _around(text: str, secret: str, width: int = 150) -> str:
    at = text.find(secret)
    return text[max(0, at - width): at + len(secret) + width]
