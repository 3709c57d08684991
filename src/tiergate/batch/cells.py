"""CSV cells as the row path writes them (`outputs.cell`, then Python's `csv` quoting,
`outputs.encode_cell`), vectorised for a column of texts (the same rules, which a test
compares with `csv` on every kind of character), and the pieces of a line's CSV text."""

from __future__ import annotations

from typing import Any

import polars as pl

from tiergate.outputs import CSV_COLUMNS, QUOTED, cell, encode_cell

# A text cell starting with one of these is written with a leading apostrophe (`outputs`).
_FORMULA = r"^[=+\-@\t\r]"


def joined(cells: list[str]) -> str:
    return ",".join(encode_cell(cell) for cell in cells)


def text_cell(values: pl.Expr) -> pl.Expr:
    """`outputs._cell` and `csv` quoting, vectorised, for text cells (null: empty)."""
    escaped = pl.when(values.str.contains(_FORMULA)).then(pl.lit("'") + values).otherwise(values)
    quoted = escaped.str.contains_any(list(QUOTED)) if QUOTED else pl.lit(False)
    written = (
        pl.when(quoted)
        .then(pl.lit('"') + escaped.str.replace_all('"', '""', literal=True) + pl.lit('"'))
        .otherwise(escaped)
    )
    return written.fill_null("")


def csv_cell(value: Any) -> str:
    """A value as `outputs.csv_row` writes it, quoted as `csv` quotes it."""
    return encode_cell(cell(value))


def _span(first: str, last: str) -> tuple[str, ...]:
    return CSV_COLUMNS[CSV_COLUMNS.index(first) : CSV_COLUMNS.index(last) + 1]


# The CSV cells a line's shape decides, around the line's own.
ITEM_CELLS = _span("item", "performance_density")
PLACE_CELLS = _span("destination", "destination_note")
VERDICT_CELLS = _span("consignee_country", CSV_COLUMNS[-1])
# A line's CSV cells in pieces, each written as its cells with commas between them: the
# pieces, in order, are `CSV_COLUMNS`.
PIECES = (
    ("shipment_id",),
    ("line_id",),
    ("as_of",),
    ITEM_CELLS,
    ("quantity",),
    ("value",),
    ("total_tpp",),
    ("h100_equivalents",),
    PLACE_CELLS,
    ("consignee",),
    VERDICT_CELLS,
)
