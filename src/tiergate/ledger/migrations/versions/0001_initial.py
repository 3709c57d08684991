"""Initial ledger: committed lines, allowance usage, audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "committed_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("line_id", sa.String(200), nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("destination", sa.String(2), nullable=True),
        sa.Column("eccn", sa.String(100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("total_tpp", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("exception", sa.String(20), nullable=True),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("debits", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_committed_lines"),
        sa.UniqueConstraint("shipment_id", "line_id", name="uq_committed_lines_key"),
    )
    op.create_table(
        "allowance_usage",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("allowance_id", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(400), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("used_tpp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_allowance_usage"),
        sa.UniqueConstraint("allowance_id", "holder", "period", name="uq_allowance_usage_key"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("rulebook_version", sa.String(100), nullable=False),
        sa.Column("list_edition", sa.String(100), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("allowance_usage")
    op.drop_table("committed_lines")
