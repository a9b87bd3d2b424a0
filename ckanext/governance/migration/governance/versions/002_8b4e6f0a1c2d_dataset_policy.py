"""Dataset policies: access tier and embargo per dataset.

Revision ID: 8b4e6f0a1c2d
Revises: 3f1c2a9d8e7b
Create Date: 2026-11-21 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8b4e6f0a1c2d"
down_revision = "3f1c2a9d8e7b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_dataset_policy",
        sa.Column(
            "package_id",
            sa.UnicodeText,
            sa.ForeignKey("package.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("access_tier", sa.UnicodeText, nullable=False),
        sa.Column("embargo_until", sa.DateTime(timezone=True)),
        sa.Column("embargo_reason", sa.UnicodeText),
        sa.Column(
            "modified",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )


def downgrade() -> None:
    op.drop_table("governance_dataset_policy")
