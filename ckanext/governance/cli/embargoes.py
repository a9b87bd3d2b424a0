"""``ckan governance embargo``: finish embargo transitions (for cron)."""
from __future__ import annotations

import click

from ckanext.governance import embargo as lifecycle


@click.group(short_help="Embargo notices and lifts.")
def embargo() -> None:
    """Embargo lifecycle."""


@embargo.command()
def lift() -> None:
    """Send the advance notices that are due and lift the embargoes that ended.

    Data opens at the embargo's instant without this command; it reindexes the
    lifted datasets, writes the ledger events and queues the notifications.
    Idempotent, and safe to run twice at once."""
    noticed = lifecycle.send_notices()
    lifted = lifecycle.lift_due()
    click.echo(f"{len(noticed)} advance notices, {len(lifted)} embargoes lifted")
