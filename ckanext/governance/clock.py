"""The one clock of every time-based decision: the application's.

Decisions (is the embargo over, is the grant still valid, is the acceptance
within its renewal period, which notifications are due) and the timestamps
they compare against are all read here and passed to the database as
parameters; no query of ours reads PostgreSQL's ``now()``. Mixing the two
clocks let a notification written with the database's time wait behind a
decision taken with the application's, and a frozen or skewed clock then
left it unsent. CKAN itself stamps ``metadata_modified`` the same way.
Several app servers must keep their clocks in step (NTP): a skew of s moves
each decision of that server by s, never more.
"""
from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def iso(value: dt.datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC with a ``Z``, as every answer of ours gives it."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
