"""The ``ckan governance`` command group, assembled from one module per topic."""
from __future__ import annotations

import click

from . import embargoes, events, grants, notifications, status

__all__ = ["governance"]


@click.group(short_help="Access tiers, embargoes, agreements and requests.")
def governance() -> None:
    """Administer ckanext-governance: data access on terms.

    Scheduled commands (embargo lifts, grant expiry, notification delivery)
    join this group as the features that need them are added.
    """


governance.add_command(status.status)
governance.add_command(events.events)
governance.add_command(notifications.notify)
governance.add_command(embargoes.embargo)
governance.add_command(grants.grants)
