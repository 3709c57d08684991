"""The audit trail's head: how many entries it holds and the hash of the newest, written in the
same transaction as every entry, so deleting the newest entries is detected. Initialised from
the entries already there.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

GENESIS = "0" * 64


def upgrade() -> None:
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    connection = op.get_bind()
    count = connection.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar_one()
    last = connection.execute(
        sa.text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).first()
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "entries": count,
                "last_id": last[0] if last else None,
                "last_hash": last[1] if last else GENESIS,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("audit_head")
