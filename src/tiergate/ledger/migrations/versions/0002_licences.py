"""Licences and the quantities committed lines used from them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "licences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(400), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("destinations", sa.JSON(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("authorized_quantity", sa.Integer(), nullable=False),
        sa.Column("authorized_value", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.String(10), nullable=False),
        sa.Column("valid_to", sa.String(10), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_licences"),
        sa.UniqueConstraint("number", name="uq_licences_number"),
    )
    op.create_table(
        "licence_uses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("licence_number", sa.String(100), nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("line_id", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_licence_uses"),
        sa.UniqueConstraint("licence_number", "shipment_id", "line_id", name="uq_licence_uses_key"),
    )


def downgrade() -> None:
    op.drop_table("licence_uses")
    op.drop_table("licences")
