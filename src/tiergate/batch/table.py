"""A checked book as a typed table, for Parquet: the CSV's columns with the values the JSON
output gives (numbers as numbers, dates as dates, conditions, reasons and errors as lists),
made from the columns of the columnar path or from a report's lines, the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

import polars as pl
from polars.io.plugins import register_io_source

from tiergate.batch.checking import SHAPES_KEPT, Columns, Determined
from tiergate.model import LineResult, Report, passthrough_name
from tiergate.outputs import CSV_COLUMNS

REASON = pl.Struct(
    {
        "rule": pl.String,
        "message": pl.String,
        "citation": pl.String,
        "uncertain": pl.Boolean,
        "note": pl.String,
    }
)
_TYPED: dict[str, pl.DataType] = {
    "tpp": pl.Float64(),
    "performance_density": pl.Float64(),
    "quantity": pl.Int64(),
    "value": pl.Float64(),
    "total_tpp": pl.Float64(),
    "h100_equivalents": pl.Float64(),
    "conditions": pl.List(pl.String),
    "reasons": pl.List(REASON),
    "errors": pl.List(pl.String),
}
SCHEMA: dict[str, pl.DataType] = {name: _TYPED.get(name, pl.String()) for name in CSV_COLUMNS}
SCHEMA["as_of"] = pl.Date()
SCHEMA["uncertain"] = pl.Boolean()
# The columns that are each line's own; a line's shape decides the others.
_OWN = frozenset(
    {
        "shipment_id",
        "line_id",
        "as_of",
        "quantity",
        "value",
        "total_tpp",
        "h100_equivalents",
        "consignee",
    }
)
_SHAPED = tuple(name for name in CSV_COLUMNS if name not in _OWN)


def result_row(result: LineResult, cache: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """A line's result as a row of the table: its JSON fields, typed; pass-through values
    under their output names."""
    data = result.as_dict(cache)
    row = {name: data[name] for name in CSV_COLUMNS}
    row["as_of"] = date.fromisoformat(data["as_of"]) if data["as_of"] else None
    row["reasons"] = [{"uncertain": False, "note": None, **reason} for reason in data["reasons"]]
    for key, value in result.extra.items():
        row[passthrough_name(key, row)] = None if value is None else str(value)
    return row


def _schema(extras: list[str]) -> dict[str, pl.DataType]:
    return {**SCHEMA, **{name: pl.String() for name in extras}}


def table_schema(passthrough: tuple[str, ...]) -> dict[str, pl.DataType]:
    """The table's columns for a book with the pass-through columns `passthrough`."""
    return _schema(_extras(passthrough))


def _extras(names: tuple[str, ...]) -> list[str]:
    taken: dict[str, object] = dict.fromkeys(CSV_COLUMNS)
    for name in names:
        taken[passthrough_name(name, taken)] = None
    return list(taken)[len(CSV_COLUMNS) :]


def report_table(report: Report) -> pl.DataFrame:
    """A report's lines as the table."""
    cache: dict[int, list[dict[str, Any]]] = {}
    rows = [result_row(line, cache) for line in report.lines]
    extras = [name for name in (rows[0] if rows else {}) if name not in SCHEMA]
    return pl.DataFrame(rows, schema=_schema(extras))


def results_table(
    results: tuple[LineResult, ...],
    rows: pl.Series,
    passthrough: tuple[str, ...],
    cache: dict[int, list[dict[str, Any]]],
) -> pl.DataFrame:
    """Lines determined one by one as the table's rows, each with its place (`rows`)."""
    schema = table_schema(passthrough)
    table = pl.DataFrame([result_row(result, cache) for result in results], schema=schema)
    return table.with_columns(row=rows)


def _text(values: pl.Expr) -> pl.Expr:
    """`normalise.text`: stripped, None when blank (no book read here holds a character
    that `str.strip` and polars strip differently: `batch.reading`)."""
    stripped = values.str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def table_of(found: Columns) -> pl.DataFrame:
    """The table of a book the columnar path determined, batch after batch."""
    shaped = ShapeRows()
    return pl.concat([batch_table(part, shaped) for part in found.batches()], how="vertical")


def write_parquet(found: Columns, handle: BinaryIO) -> None:
    """The table of a book the columnar path determined, written to `handle` as Parquet a
    batch at a time (polars' streaming sink): memory holds one batch, whatever the book's
    size."""

    def batches(
        columns: list[str] | None, predicate: pl.Expr | None, rows: int | None, size: int | None
    ) -> Iterator[pl.DataFrame]:
        # The sink reads the whole table: no columns, filter or row count to apply here.
        if columns is not None or predicate is not None or rows is not None:
            raise RuntimeError("the Parquet sink asked for part of the table")
        for part in found.batches():
            yield batch_table(part, shaped)

    shaped = ShapeRows()

    schema = table_schema(found.book.extras)
    register_io_source(io_source=batches, schema=pl.Schema(schema)).sink_parquet(handle)


def batch_table(found: Determined, shaped: ShapeRows | None = None) -> pl.DataFrame:
    """A batch's table: each plain line's shape columns joined to its own values, the other
    lines from their results, in book order (`shaped`: the shapes' columns worked out for
    the batches before)."""
    return placed_table(found, shaped).drop("row")


class ShapeRows:
    """The columns each shape decides, worked out once for the batches of a book, which
    share their shapes (each `Shape` an object the terms' memo shares)."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[object, dict[str, Any]]] = {}
        self._reasons: dict[int, list[dict[str, Any]]] = {}

    def frame(self, found: Determined) -> pl.DataFrame:
        """The columns of each of the batch's shapes (row `shape`: its index)."""
        if len(self._rows) > SHAPES_KEPT:
            self._rows.clear()
            self._reasons.clear()
        at: dict[int, int] = {}
        rows: list[dict[str, Any]] = []
        for shape in found.shapes:
            if id(shape) not in at:
                at[id(shape)] = len(rows)
                rows.append(self._row(shape, shape.result))
        table = pl.DataFrame(rows, schema={name: SCHEMA[name] for name in _SHAPED})
        return table[[at[id(shape)] for shape in found.shapes]].with_row_index("shape")

    def _row(self, shape: object, result: LineResult | None) -> dict[str, Any]:
        found = self._rows.get(id(shape))
        if found is None:
            row = result_row(result, self._reasons) if result else dict.fromkeys(_SHAPED)
            # The shape is kept with its row: its id stays its own.
            found = self._rows[id(shape)] = (shape, {name: row[name] for name in _SHAPED})
        return found[1]


def placed_table(found: Determined, shaped: ShapeRows | None = None) -> pl.DataFrame:
    """A batch's table with each line's place in the book (`row`), in book order."""
    extras = _extras(found.book.extras)
    cache: dict[int, list[dict[str, Any]]] = {}
    shapes = (shaped or ShapeRows()).frame(found)
    own = found.frame.filter(pl.col("plain_line")).select(
        "row",
        "shape",
        shipment_id=_text(pl.col("shipment_id")),
        line_id=pl.col("line_text"),
        as_of=pl.col("on"),
        quantity=pl.col("units"),
        value=pl.col("value_number"),
        total_tpp=pl.col("total"),
        h100_equivalents=pl.col("h100"),
        consignee=_text(pl.col("consignee")),
        **{name: pl.col(f"extra:{i}") for i, name in enumerate(extras)},
    )
    plain = own.join(shapes, on="shape", how="left", maintain_order="left").drop("shape")
    alone = results_table(found.results, found.special_rows, found.book.extras, cache)
    order = ["row", *SCHEMA, *extras]
    return pl.concat([plain.select(order), alone.select(order)]).sort("row")
