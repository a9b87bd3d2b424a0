"""Embargo lifecycle: lift and notice marks, and "tell me when available".

Revision ID: e7a1b3c5d9f2
Revises: c5d9e2f4a6b8
Create Date: 2026-11-21 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e7a1b3c5d9f2"
down_revision = "c5d9e2f4a6b8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("governance_dataset_policy",
                  sa.Column("embargo_lifted", sa.DateTime(timezone=True)))
    op.add_column("governance_dataset_policy",
                  sa.Column("embargo_notice_sent", sa.DateTime(timezone=True)))
    # The lift job reads only embargoes not yet lifted, in date order.
    op.create_index(
        "governance_dataset_policy_embargo_due_idx", "governance_dataset_policy",
        ["embargo_until"],
        postgresql_where=sa.text("embargo_until IS NOT NULL AND embargo_lifted IS NULL"),
    )
    op.create_table(
        "governance_embargo_subscription",
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.UnicodeText,
                  sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("notified", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("governance_embargo_subscription")
    op.drop_index("governance_dataset_policy_embargo_due_idx", "governance_dataset_policy")
    op.drop_column("governance_dataset_policy", "embargo_notice_sent")
    op.drop_column("governance_dataset_policy", "embargo_lifted")
