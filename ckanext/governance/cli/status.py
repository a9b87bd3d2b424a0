"""``ckan governance status``: is the extension installed and migrated?"""
from __future__ import annotations

import os

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import ckan.model as model

MIGRATIONS = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "migration", "governance"
)
VERSION_TABLE = "governance_alembic_version"


def head_revision() -> str | None:
    return ScriptDirectory(MIGRATIONS).get_current_head()


def current_revision() -> str | None:
    engine = model.meta.engine
    assert engine is not None, "CKAN's database engine is not configured"
    if not sa.inspect(engine).has_table(VERSION_TABLE):
        return None
    with engine.connect() as conn:
        return conn.execute(
            sa.text(f"SELECT version_num FROM {VERSION_TABLE}")
        ).scalar()


@click.command()
def status() -> None:
    """Show whether the extension's database tables are up to date.

    Exits with status 1 when ``ckan db upgrade -p governance`` is still due,
    so deployment scripts can check it.
    """
    current = current_revision()
    head = head_revision()
    click.echo(f"governance tables: revision {current or 'none'} (latest {head})")
    if current != head:
        click.secho(
            "Run `ckan db upgrade -p governance` to bring them up to date.",
            fg="yellow",
            err=True,
        )
        raise SystemExit(1)
    click.secho("up to date", fg="green")
