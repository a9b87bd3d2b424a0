"""The extension installs the way an operator would install it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as p
from ckan.tests import factories

from ckanext.governance.cli import status as status_cli


def test_plugin_is_loaded_from_ckan_plugins(app):
    """Loaded through the ``ckan.plugins`` entry point, with what it registers."""
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="ckan.plugins") if e.name == "governance"]
    assert entry.value == "ckanext.governance.plugin:GovernancePlugin"
    assert p.plugin_loaded("governance")
    assert isinstance(p.get_plugin("governance"), entry.load())
    import ckan.logic as logic
    from ckan import authz

    assert logic.get_action("governance_access_show") is not None
    assert "governance_request_decide" in authz.auth_functions_list()
    assert "governance_requests.review_queue" in app.flask_app.view_functions


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
    """The benchmarks EXPLAIN access.facts_query(), read from the database
    function of migration 007: run as text it must answer as the function does."""
    from ckanext.governance import access

    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    ids = [factories.Dataset(owner_org=org["id"])["id"], factories.Dataset()["id"]]
    params = {"user_id": user["id"], "ids": ids, "now": access.utcnow()}
    called = model.Session.execute(sa.text(
        "SELECT * FROM governance_dataset_facts(:user_id, :ids, :now)"), params).all()
    as_text = model.Session.execute(access.facts_query(), params).all()
    assert sorted(map(tuple, called)) == sorted(map(tuple, as_text))
    assert {row[0] for row in called} == set(ids)
    with model.meta.engine.connect() as conn:
        settings = conn.execute(sa.text(
            "SELECT proconfig FROM pg_proc WHERE proname = 'governance_dataset_facts'")).scalar_one()
    # Planned once per connection: the generic plan is kept, reading by index.
    assert "plan_cache_mode=force_generic_plan" in settings
    assert "enable_seqscan=off" in settings
