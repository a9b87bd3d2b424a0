"""The extension installs the way an operator would install it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as p

from ckanext.governance.cli import status as status_cli


def test_plugin_is_loaded_from_ckan_plugins():
    assert p.plugin_loaded("governance")


@pytest.mark.usefixtures("clean_db")
def test_migrations_bring_the_governance_revision_to_head():
    with model.meta.engine.connect() as conn:
        applied = conn.execute(
            sa.text("SELECT version_num FROM governance_alembic_version")
        ).scalar()
    assert applied == status_cli.head_revision()
    assert applied is not None


@pytest.mark.usefixtures("clean_db")
def test_status_command_reports_up_to_date(cli, ckan_config):
    from ckan.cli.cli import ckan as ckan_cli

    result = cli.invoke(ckan_cli, ["governance", "status"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


@pytest.mark.usefixtures("clean_db")
def test_status_command_fails_when_migrations_are_due(cli, migrate_db_for):
    from ckan.cli.cli import ckan as ckan_cli

    migrate_db_for("governance", "base", forward=False)
    result = cli.invoke(ckan_cli, ["governance", "status"])
    assert result.exit_code == 1
    assert "ckan db upgrade -p governance" in result.output


def test_governance_group_is_listed_by_ckan_help(cli):
    from ckan.cli.cli import ckan as ckan_cli

    result = cli.invoke(ckan_cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "governance" in result.output

    result = cli.invoke(ckan_cli, ["governance", "--help"])
    assert result.exit_code == 0, result.output
    assert "status" in result.output


@pytest.mark.usefixtures("clean_db")
def test_the_decision_function_runs_the_statement_the_benchmarks_explain():
    """Migration 007 froze the decision's query into governance_dataset_facts;
    access._FACTS_SQL is the same query as text (for EXPLAIN). A change to one
    without the other would make the benchmarks explain a query nobody runs."""
    from ckanext.governance import access

    with model.meta.engine.connect() as conn:
        source, settings = conn.execute(sa.text(
            "SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'governance_dataset_facts'"
        )).one()
    query = source.split("RETURN QUERY", 1)[1].rsplit(";", 1)[0]
    as_text = (access._FACTS_SQL.text.replace(":user_id", "p_user_id").replace(":ids", "p_ids")
               .replace("CAST(:now AS timestamptz)", "p_now"))
    assert " ".join(query.split()) == " ".join(as_text.split())
    # Planned once per connection: the generic plan is kept, reading by index.
    assert "plan_cache_mode=force_generic_plan" in settings
    assert "enable_seqscan=off" in settings
