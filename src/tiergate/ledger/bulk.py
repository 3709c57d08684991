"""Writing many rows of one table at once: `COPY ... FROM STDIN` on PostgreSQL, one
`executemany` of the driver on SQLite, inside the caller's transaction.

Each value passes through the conversion SQLAlchemy gives its column for the connection's
dialect (JSON columns written as JSON text, exact decimals as the ledger stores them), so the
rows stored are the rows an INSERT would store: only SQLAlchemy's work per row on building
parameters is left out, which costs more than the database's own work on a big commit. A JSON
value may come `Written` already, as the column writes it (`json.dumps`, SQLAlchemy's and
psycopg's default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection, Table


@dataclass(frozen=True, slots=True)
class Written:
    """A JSON column's value as `json.dumps` writes it."""

    text: str


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, each a column of `table`) into `table`."""
    if not rows:
        return
    names = list(rows[0])
    values = _converted(connection, table, names, rows)
    preparer = connection.dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)})"
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", list(values))


def _converted(
    connection: Connection, table: Table, names: list[str], rows: Sequence[Mapping[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    """Each row's values in the order of `names`, converted as the columns convert them."""
    dialect = connection.dialect
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(names):
        kind = table.c[name].type
        processor = kind.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            written = _or_written(processor) if isinstance(kind, JSON) else processor
            converters.append((index, _once(written)))
    for row in rows:
        if row.keys() != rows[0].keys():
            raise ValueError(f"rows for {table.name} name different columns: {sorted(row)}")
        values = [row[name] for name in names]
        for index, convert in converters:
            values[index] = convert(values[index])
        yield tuple(values)


def _or_written(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's conversion, which takes a `Written` value as it is."""

    def convert(value: Any) -> Any:
        return value.text if isinstance(value, Written) else processor(value)

    return convert


def _once(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A conversion that converts a value that is the very object it converted last only
    once (every row of a commit has the same moment)."""
    last: list[Any] = [_NOTHING, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]

    return convert


_NOTHING = object()
