"""The governance ledger (events) and the notification outbox.

Revision ID: c5d9e2f4a6b8
Revises: 8b4e6f0a1c2d
Create Date: 2026-11-21 11:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "c5d9e2f4a6b8"
down_revision = "8b4e6f0a1c2d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_event",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("actor_id", sa.UnicodeText),
        sa.Column("package_id", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )
    # Every filter of governance_event_list pages by id within it.
    for column in ("organization_id", "package_id", "actor_id", "kind"):
        op.create_index(f"governance_event_{column}_idx", "governance_event", [column, "id"])
    op.create_index("governance_event_created_idx", "governance_event", ["created"])

    op.create_table(
        "governance_notification",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("recipient_id", sa.UnicodeText),
        sa.Column("recipient_name", sa.UnicodeText, nullable=False),
        sa.Column("recipient_email", sa.UnicodeText, nullable=False),
        sa.Column("template", sa.UnicodeText, nullable=False),
        sa.Column("variables", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.UnicodeText, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("sent", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.UnicodeText),
    )
    # The sender reads only what is due.
    op.create_index(
        "governance_notification_due_idx", "governance_notification", ["next_attempt", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("governance_notification")
    op.drop_table("governance_event")
