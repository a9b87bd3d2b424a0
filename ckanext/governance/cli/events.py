"""``ckan governance events``: the ledger, for auditors."""
from __future__ import annotations

import sys

import click

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.governance import ledger
from ckanext.governance.logic.validators import governance_event_kind, governance_utc_datetime


@click.group(short_help="The governance event ledger.")
def events() -> None:
    """The governance event ledger."""


@events.command()
@click.option("--organization", "-o", help="Only this organisation's events (id or name).")
@click.option("--kind", help=f"Only events of this kind ({', '.join(ledger.KINDS)}).")
@click.option("--since", help="From this ISO 8601 date or date-time (UTC), inclusive.")
@click.option("--until", help="Up to this ISO 8601 date or date-time (UTC), exclusive.")
@click.option("--output", "-f", type=click.File("w"), default="-",
              help="File to write (default: standard output).")
def export(organization: str | None, kind: str | None, since: str | None,
           until: str | None, output) -> None:
    """Write events as CSV, streamed: memory stays flat for millions of rows."""
    filters: dict = {}
    try:
        if organization:
            org = model.Group.get(organization)
            if org is None or not org.is_organization:
                raise tk.Invalid(f"no organisation {organization}")
            filters["organization_id"] = org.id
        if kind:
            filters["kind"] = governance_event_kind(kind)
        if since:
            filters["since"] = governance_utc_datetime(since)
        if until:
            filters["until"] = governance_utc_datetime(until)
    except tk.Invalid as err:
        click.secho(str(err.error), fg="red", err=True)
        sys.exit(2)
    site_user = model.User.get(tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"])
    for chunk in ledger.stream_csv(site_user, filters):
        output.write(chunk)
