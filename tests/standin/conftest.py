"""Fixtures for the Solr stand-in's own tests.

These tests need neither CKAN's pytest plugin nor a database: they drive the
stand-in over HTTP with pysolr, so they can run with ``-p no:ckan``.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pysolr
import pytest

DEV = Path(__file__).resolve().parents[2] / "dev"
if str(DEV) not in sys.path:
    sys.path.insert(0, str(DEV))

import solr_standin


def pytest_addoption(parser: pytest.Parser) -> None:
    # pyproject's addopts pass --ckan-ini, which only CKAN's plugin defines;
    # accept it when that plugin is disabled (the same guard CKAN uses).
    try:
        parser.addoption("--ckan-ini", action="store")
    except ValueError:
        pass


@pytest.fixture(autouse=True)
def load_plugins() -> None:
    """Override the suite-wide fixture: no CKAN plugins are involved here."""


@pytest.fixture(scope="session")
def standin() -> Iterator[solr_standin.Handle]:
    handle = solr_standin.serve_in_thread()
    yield handle
    handle.shutdown()


@pytest.fixture
def solr(standin: solr_standin.Handle) -> pysolr.Solr:
    """A pysolr client on an emptied index (the same client CKAN uses)."""
    client = pysolr.Solr(standin.url, timeout=10)
    client.delete(q="*:*", commit=True)
    return client
