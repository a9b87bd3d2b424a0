"""Shared bits for the stand-in tests."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pysolr
import pytest

DEV_DIR = Path(__file__).resolve().parents[2] / "dev"

# These tests check the stand-in itself.  Against a real Solr (CKAN_SOLR_URL
# set by hand rather than by tests/conftest.py starting the stand-in) they
# have nothing to test.
skip_with_real_solr = pytest.mark.skipif(
    bool(os.environ.get("CKAN_SOLR_URL")) and not os.environ.get("GOVERNANCE_SOLR_STANDIN"),
    reason="CKAN_SOLR_URL points at a real Solr; the stand-in is not in use")


def dataset(name: str, **fields: Any) -> dict[str, Any]:
    """A document shaped like the ones CKAN's index_package sends."""
    doc: dict[str, Any] = {
        "index_id": f"index-{name}", "id": f"id-{name}", "site_id": "default", "name": name,
        "title": name.replace("-", " ").title(), "entity_type": "package", "dataset_type": "dataset",
        "state": "active", "capacity": "public", "permission_labels": ["public"],
        "metadata_modified": "2024-01-01T00:00:00Z",
    }
    doc.update(fields)
    return doc


def names(results: pysolr.Results) -> list[str]:
    return [doc["name"] for doc in results.docs]
