"""``ckan governance grants``: finish grant transitions (for cron)."""
from __future__ import annotations

import click

from ckanext.governance import grants as lifecycle


@click.group(short_help="Grant expiry and reminders.")
def grants() -> None:
    """Grants of access to controlled data."""


@grants.command()
def expire() -> None:
    """Record the grants that ended and remind holders of grants about to end.

    Access ends at the grant's instant without this command; it writes the
    ledger events and queues the notifications (reminders at
    ``ckanext.governance.grant_reminder_days``). Idempotent, and safe to run
    twice at once."""
    counts = lifecycle.expire_due()
    click.echo(f"{counts['expired']} grants expired, {counts['reminded']} reminders queued")
