"""``ckan governance notify``: deliver the outbox (for cron)."""
from __future__ import annotations

import click

from ckanext.governance import notifications as outbox


@click.group(short_help="Deliver governance notifications.")
def notify() -> None:
    """The notification outbox."""


@notify.command()
@click.option("--limit", type=int, default=None, help="Deliver at most this many now.")
@click.option("--retry-failed", is_flag=True,
              help="First give notifications that ran out of attempts another round.")
def send(limit: int | None, retry_failed: bool) -> None:
    """Deliver the notifications that are due. Safe to run from cron while
    background jobs deliver too: each message is sent once."""
    if retry_failed:
        click.echo(f"{outbox.retry_failed()} failed notifications queued again")
    counts = outbox.send_due(limit=limit)
    click.echo(f"{counts['sent']} sent, {counts['failed']} failed (will be retried)")
