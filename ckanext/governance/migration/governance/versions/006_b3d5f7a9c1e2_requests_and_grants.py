"""Access requests, their history, grants; data use conditions and grant length of a dataset.

Revision ID: b3d5f7a9c1e2
Revises: a2b4c6d8e0f1
Create Date: 2026-11-21 08:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "b3d5f7a9c1e2"
down_revision = "a2b4c6d8e0f1"
branch_labels = None
depends_on = None

OPEN_STATES = "state IN ('pending', 'returned')"


def upgrade() -> None:
    op.add_column("governance_dataset_policy",
                  sa.Column("data_use", sa.ARRAY(sa.UnicodeText)))
    op.add_column("governance_dataset_policy", sa.Column("grant_days", sa.Integer))
    op.create_table(
        "governance_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.UnicodeText,
                  sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("intended_use", sa.UnicodeText, nullable=False),
        sa.Column("institution", sa.UnicodeText),
        sa.Column("project_title", sa.UnicodeText),
        sa.Column("ethics_reference", sa.UnicodeText),
        sa.Column("commercial", sa.Boolean, nullable=False),
        sa.Column("duration_days", sa.Integer),
        sa.Column("renewal_of", sa.UnicodeText),
        sa.Column("prescreen", JSONB, nullable=False, server_default="[]"),
        sa.Column("message", sa.UnicodeText),
        sa.Column("decided_by", sa.UnicodeText),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'returned', 'withdrawn')",
            name="governance_request_state_check"),
    )
    # One open request per user and dataset, even when two arrive at once.
    op.create_index("governance_request_one_open_idx", "governance_request",
                    ["user_id", "package_id"], unique=True,
                    postgresql_where=sa.text(OPEN_STATES))
    # The review queue: an organisation's requests by state, oldest first.
    op.create_index("governance_request_queue_idx", "governance_request",
                    ["organization_id", "state", "created"])
    op.create_index("governance_request_user_idx", "governance_request", ["user_id", "created"])
    # The access decision asks: has this user a pending request for these datasets?
    op.create_index("governance_request_pending_idx", "governance_request",
                    ["user_id", "package_id"], postgresql_where=sa.text("state = 'pending'"))
    op.create_table(
        "governance_request_change",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("governance_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor_id", sa.UnicodeText),
        sa.Column("from_state", sa.UnicodeText),
        sa.Column("to_state", sa.UnicodeText, nullable=False),
        sa.Column("message", sa.UnicodeText),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("governance_request_change_request_idx", "governance_request_change",
                    ["request_id", "id"])
    op.create_table(
        "governance_grant",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("governance_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("package_id", sa.UnicodeText,
                  sa.ForeignKey("package.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.UnicodeText,
                  sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.UnicodeText, nullable=False),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.UnicodeText),
        sa.Column("revoke_reason", sa.UnicodeText),
        sa.Column("expiry_recorded", sa.DateTime(timezone=True)),
        sa.Column("reminded_days", sa.Integer),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    # The access decision: this user's grants of these datasets.
    op.create_index("governance_grant_user_package_idx", "governance_grant",
                    ["user_id", "package_id"])
    op.create_index("governance_grant_org_idx", "governance_grant", ["organization_id", "created"])
    # `grants expire` reads only grants still to be expired or reminded.
    op.create_index("governance_grant_due_idx", "governance_grant", ["expires"],
                    postgresql_where=sa.text(
                        "expires IS NOT NULL AND revoked_at IS NULL AND expiry_recorded IS NULL"))


def downgrade() -> None:
    op.drop_table("governance_grant")
    op.drop_table("governance_request_change")
    op.drop_table("governance_request")
    op.drop_column("governance_dataset_policy", "grant_days")
    op.drop_column("governance_dataset_policy", "data_use")
