"""US dollars and TPP sums become exact decimals (two places): NUMERIC(30, 2) on PostgreSQL,
decimal text on SQLite (whose NUMERIC would keep floating-point numbers). Existing values are
rounded to two places once, here; from then on sums are exact.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

COLUMNS = (
    ("committed_lines", "total_tpp"),
    ("allowance_usage", "used_tpp"),
    ("licences", "authorized_value"),
    ("licence_uses", "value"),
)
HUNDREDTH = Decimal("0.01")


def upgrade() -> None:
    connection = op.get_bind()
    for table, column in COLUMNS:
        if connection.dialect.name == "postgresql":
            op.alter_column(
                table,
                column,
                type_=sa.Numeric(30, 2),
                postgresql_using=f"round({column}::numeric, 2)",
            )
            continue
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(40))
        rows = connection.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
        ).all()
        for row_id, value in rows:
            exact = Decimal(str(value)).quantize(HUNDREDTH)
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                {"value": str(exact), "id": row_id},
            )


def downgrade() -> None:
    for table, column in COLUMNS:
        if op.get_bind().dialect.name == "postgresql":
            op.alter_column(
                table, column, type_=sa.Float(), postgresql_using=f"{column}::double precision"
            )
            continue
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Float())
