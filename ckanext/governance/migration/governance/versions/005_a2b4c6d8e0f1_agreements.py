"""Data use agreements: versions, acceptances, and the agreement of a dataset.

Revision ID: a2b4c6d8e0f1
Revises: e7a1b3c5d9f2
Create Date: 2026-11-21 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a2b4c6d8e0f1"
down_revision = "e7a1b3c5d9f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_agreement",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("name", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("owner_org", sa.UnicodeText, sa.ForeignKey("group.id"), nullable=False),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("renewal_days", sa.Integer),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("governance_agreement_owner_org_idx", "governance_agreement", ["owner_org"])
    op.create_table(
        "governance_agreement_version",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("agreement_id", sa.UnicodeText,
                  sa.ForeignKey("governance_agreement.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("body", sa.UnicodeText, nullable=False),
        sa.Column("sha256", sa.UnicodeText, nullable=False),
        sa.Column("material", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", sa.UnicodeText),
        sa.UniqueConstraint("agreement_id", "number"),
    )
    op.create_table(
        "governance_acceptance",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=False),
        sa.Column("agreement_id", sa.UnicodeText,
                  sa.ForeignKey("governance_agreement.id"), nullable=False),
        sa.Column("version_id", sa.UnicodeText,
                  sa.ForeignKey("governance_agreement_version.id"), nullable=False),
        sa.Column("version_number", sa.Integer, nullable=False),
        sa.Column("package_id", sa.UnicodeText),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("channel", sa.UnicodeText, nullable=False),
        sa.Column("text_sha256", sa.UnicodeText, nullable=False),
        sa.Column("typed_name", sa.UnicodeText),
        # One record per user and version: accepting twice is harmless.
        sa.UniqueConstraint("user_id", "version_id"),
    )
    # The access decision asks: has this user accepted this agreement recently enough?
    op.create_index("governance_acceptance_user_agreement_idx", "governance_acceptance",
                    ["user_id", "agreement_id", "version_number"])
    op.add_column("governance_dataset_policy",
                  sa.Column("agreement_id", sa.UnicodeText,
                            sa.ForeignKey("governance_agreement.id")))


def downgrade() -> None:
    op.drop_column("governance_dataset_policy", "agreement_id")
    op.drop_table("governance_acceptance")
    op.drop_table("governance_agreement_version")
    op.drop_table("governance_agreement")
