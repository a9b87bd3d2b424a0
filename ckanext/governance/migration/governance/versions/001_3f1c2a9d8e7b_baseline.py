"""Baseline: start the governance revision history.

The tables of each capability (dataset policies, events, agreements, requests,
grants, outbox) arrive in the revisions that follow this one, each with the
feature that needs it, so an operator's ``ckan db upgrade -p governance``
always matches the code installed.

Revision ID: 3f1c2a9d8e7b
Revises:
Create Date: 2026-11-21 09:00:00
"""
from __future__ import annotations

revision = "3f1c2a9d8e7b"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
