"""CSV exports streamed in flat memory: the ledger's and the acceptances'."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

import ckan.model as model

# Rows fetched from the server-side cursor at a time.
BATCH = 2000


def stream(query: sa.Select[Any], columns: Sequence[str],
           shape: Callable[[list[Any]], list[Any]]) -> Iterator[str]:
    """The query's rows as CSV text under a header of ``columns``, chunk by
    chunk; ``shape`` turns a row's values into its cells.

    Reads through a server-side cursor on a connection of its own, so a
    million rows never sit in memory at once, whatever the web or CLI caller.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    engine = model.meta.engine
    assert engine is not None
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        for partition in result.partitions():
            for row in partition:
                writer.writerow(shape(list(row)))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
