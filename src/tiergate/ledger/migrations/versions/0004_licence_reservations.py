"""Licence uses get a state (reserved on check, used on commit, released on cancel) and the
value (US dollars) they take from a licence that authorizes one.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Rows written before this revision were all uses by committed lines.
    with op.batch_alter_table("licence_uses") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=False, server_default="used"))
        batch.add_column(sa.Column("value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licence_uses") as batch:
        batch.drop_column("value")
        batch.drop_column("state")
