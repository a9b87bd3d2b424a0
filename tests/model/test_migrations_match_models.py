"""The models describe the tables the migrations make.

Alembic's autogenerate comparison runs between ``ckanext.governance.model``
and the database as ``ckan db upgrade -p governance`` leaves it (the
``clean_db`` fixture applies the migrations): tables, columns, their types,
nullability and server defaults, indexes, unique constraints and foreign keys
of every ``governance_`` table. Alembic cannot see what the models do not
declare — the SQL function ``governance_dataset_facts`` (checked by
test_plugin.py) and the predicates of partial indexes — so those are left to
the migrations' own tests.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import ckan.model as model

from ckanext.governance import model as governance_model  # noqa: F401 (maps the tables)

PREFIX = "governance_"


def _differences(metadata: sa.MetaData) -> list:
    with model.meta.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": lambda name, type_, parent: (
                type_ != "table" or bool(name and name.startswith(PREFIX))),
        })
        diff = compare_metadata(context, metadata)
    return [d for d in diff if PREFIX in repr(d)]


def _our_metadata() -> sa.MetaData:
    """A copy of the models' metadata (CKAN's tables come along for the
    foreign keys; the comparison looks at ours only)."""
    metadata = sa.MetaData()
    for table in model.meta.metadata.tables.values():
        table.to_metadata(metadata)
    return metadata


@pytest.mark.usefixtures("clean_db")
def test_the_models_match_the_migrated_database():
    metadata = _our_metadata()
    assert len([t for t in metadata.tables if t.startswith(PREFIX)]) >= 10  # every model's
    assert _differences(metadata) == []


@pytest.mark.usefixtures("clean_db")
def test_the_comparison_sees_a_column_and_an_index_the_database_lacks():
    metadata = _our_metadata()
    table = metadata.tables["governance_dataset_policy"]
    table.append_column(sa.Column("not_migrated", sa.Integer))
    sa.Index("governance_not_migrated_idx", table.c.access_tier, table.c.not_migrated)
    found = repr(_differences(metadata))
    assert "not_migrated" in found
    assert "governance_not_migrated_idx" in found


@pytest.mark.usefixtures("clean_db")
def test_the_comparison_sees_a_changed_nullability():
    metadata = _our_metadata()
    metadata.tables["governance_dataset_policy"].c.access_tier.nullable = True
    assert any("access_tier" in repr(d) for d in _differences(metadata))
