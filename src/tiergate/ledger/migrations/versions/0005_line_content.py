"""Committed lines keep their content (every column of the line as given), so a re-commit of
the same ids with other content is refused instead of reported unchanged. Lines committed
before keep None: they are compared on the destination, ECCN and quantity they recorded.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("committed_lines") as batch:
        batch.add_column(sa.Column("content", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("committed_lines") as batch:
        batch.drop_column("content")
