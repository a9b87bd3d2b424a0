"""The decision's function reaches every row it reads through an index.

The generic plan the function keeps took the agreement version table for too
small to need its index and scanned it once per dataset (about 1 ms of a page
of 100 at 50 agreements; a custom plan memoises per agreement, a generic one
cannot). Every table the query reads is reached by a key that has an index, so
the function turns sequential scans off for itself.

Revision ID: d5f7b9c1e3a4
Revises: c4e6a8b0d2f3
Create Date: 2026-11-21 12:40:00
"""
from __future__ import annotations

from alembic import op

revision = "d5f7b9c1e3a4"
down_revision = "c4e6a8b0d2f3"
branch_labels = None
depends_on = None

SIGNATURE = "governance_dataset_facts(text, text[], timestamptz)"


def upgrade() -> None:
    op.execute(f"ALTER FUNCTION {SIGNATURE} SET enable_seqscan = off")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {SIGNATURE} RESET enable_seqscan")
