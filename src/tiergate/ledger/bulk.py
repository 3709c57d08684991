"""Writing many rows of one table at once: `COPY ... FROM STDIN` on PostgreSQL, statements of
many rows each on SQLite, inside the caller's transaction.

Each value passes through the conversion SQLAlchemy gives its column for the connection's
dialect (JSON columns written as JSON text, exact decimals as the ledger stores them), so the
rows stored are the rows an INSERT would store: only SQLAlchemy's work per row on building
parameters is left out, which costs more than the database's own work on a big commit. A JSON
value may come `models.Written` already, as the text to store.

Rows worked out as columns (a big book's plain lines) come as a polars frame whose values are
as stored already (`insert_frame`): on PostgreSQL, polars writes them as the CSV text COPY
reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table

from tiergate.behind import Behind

if TYPE_CHECKING:
    import polars as pl

# Rows of a frame written at a time (their text, or their values as Python objects).
_FRAME_ROWS = 50_000


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, each a column of `table`) into `table`."""
    if not rows:
        return
    names = tuple(rows[0])
    for row in rows:
        if row.keys() != rows[0].keys():
            raise ValueError(f"rows for {table.name} name different columns: {sorted(row)}")
    insert_values(connection, table, names, [tuple(row[name] for name in names) for row in rows])


def insert_values(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert `rows` (values of the columns `names`, in order) into `table`, each with the
    values of `same` (one value per column for every row, converted once)."""
    if not rows:
        return
    constant = dict(same or {})
    columns = [*names, *constant]
    values = _converted(connection, table, names, rows)
    fixed = tuple(_converter(connection, table, name)(value) for name, value in constant.items())
    preparer = connection.dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in columns)})"
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in values:
                copy.write_row(row + fixed)
    else:
        sqlite_insert(connection, target, len(columns), [row + fixed for row in values])


def insert_frame(
    connection: Connection,
    table: Table,
    frame: pl.DataFrame,
    *,
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert the rows of `frame` into `table`: its columns are columns of `table`, each of
    texts or integers as the column stores them (a JSON column's text; an exact column's
    decimal text, which PostgreSQL reads as its NUMERIC); each row with the values of `same`
    (converted by their columns, as `insert_values` converts them)."""
    if frame.is_empty():
        return
    import polars as pl

    postgres = connection.dialect.name == "postgresql"
    constants = {}
    for name, value in (same or {}).items():
        stored = _converter(connection, table, name)(value)
        # COPY reads a value from its text (a moment: `str` of a datetime, which it parses).
        constants[name] = pl.lit(str(stored) if postgres and stored is not None else stored)
    frame = frame.with_columns(**constants)
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in frame.columns)
    target = f"{preparer.format_table(table)} ({columns})"
    if postgres:
        driver = connection.connection.driver_connection
        assert driver is not None
        # CSV: a quoted empty text is a text, an unquoted empty value NULL; COPY takes a
        # quoted value that spans lines, or reads `\.`, as the value it is.
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy,
        ):
            for chunk in frame.iter_slices(_FRAME_ROWS):
                copy.write(chunk.write_csv(include_header=False))
    else:
        for chunk in frame.iter_slices(_FRAME_ROWS):
            sqlite_insert(connection, target, len(frame.columns), chunk.rows())


def sqlite_insert(
    connection: Connection, target: str, width: int, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert `rows` (each of `width` values) into `target` (`table (columns)`) on SQLite, as
    many rows a statement as its limit on parameters allows. The driver lets go of the
    interpreter's lock for every statement it runs, and waits for it again after: a row a
    statement, a thread writing rows beside one running Python waited for the lock once a
    row (536,440 rows took 1,629 s there, 2.9 s alone); 2,520 rows a statement, about 3 s
    there (and alone 1.4 to 1.8 s against 2.2 to 2.9 s: SQLite runs one statement's program,
    not 2,520)."""
    driver = connection.connection.driver_connection
    limit = (  # SQLite's own limit before 3.32 for a driver that cannot say
        driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        if isinstance(driver, sqlite3.Connection)
        else 999
    )
    each = max(1, limit // width)
    full = len(rows) - len(rows) % each

    def statement(count: int) -> str:
        one = f"({', '.join(['?'] * width)})"
        return f"INSERT INTO {target} VALUES {', '.join([one] * count)}"

    flat = list(chain.from_iterable(rows))
    step = each * width
    if full:
        groups = [tuple(flat[start : start + step]) for start in range(0, full * width, step)]
        connection.exec_driver_sql(statement(each), groups)
    if full < len(rows):
        connection.exec_driver_sql(statement(len(rows) - full), tuple(flat[full * width :]))


def _converted(
    connection: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    """Each row's values, converted as their columns convert them."""
    converters = [
        (index, _once(_converter(connection, table, name))) for index, name in enumerate(names)
    ]
    converters = [(index, convert) for index, convert in converters if convert is not _same]
    for row in rows:
        if len(row) != len(names):
            raise ValueError(f"a row for {table.name} has {len(row)} values for {len(names)}")
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        yield tuple(values)


def _converter(connection: Connection, table: Table, name: str) -> Callable[[Any], Any]:
    """How column `name` converts a value for the connection's driver."""
    dialect = connection.dialect
    processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return _same if processor is None else processor


def _same(value: Any) -> Any:
    return value


def _once(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A conversion that converts each object it is given once, however many rows give it
    (rows share their reasons, every row of a commit has the same moment). It keeps every
    object it converted while it lives, so no other object can come to have its id."""
    if processor is _same:
        return _same
    converted: dict[int, tuple[Any, Any]] = {}

    def convert(value: Any) -> Any:
        known = converted.get(id(value))
        if known is None:
            known = converted[id(value)] = (value, processor(value))
        return known[1]

    return convert


class FramesBehind(Behind["pl.DataFrame"]):
    """Frames of rows inserted into `table` (`insert_frame`, with the values of `same`)
    behind the caller (`tiergate.behind.Behind`: SQLite's driver and PostgreSQL's COPY let go
    of the interpreter's lock while the database works), in order. The caller does not use
    the connection between `put` and `finish`, nor after leaving the block on an error."""

    def __init__(self, connection: Connection, table: Table, same: Mapping[str, Any]) -> None:
        super().__init__(lambda frame: insert_frame(connection, table, frame, same=same))
