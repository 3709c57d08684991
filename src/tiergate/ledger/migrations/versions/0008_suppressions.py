"""Suppressions (reviewed false positives) move into the ledger, beside the hold decisions,
so each one and each lapse is an audit entry. `tiergate db upgrade` then imports a
`suppressions.json` left in the tiergate home (`Ledger.import_suppressions`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("party_key", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.Column("entry_fingerprint", sa.String(64), nullable=False),
        sa.Column("list_edition", sa.String(100), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lapsed_at", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_suppressions"),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
