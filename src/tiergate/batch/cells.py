"""CSV cells as the row path writes them (`outputs.cell`, then Python's `csv` quoting): one
at a time, with a memory of the cells already written, or vectorised for a column of texts
(the same rules, which a test compares with `csv` on every kind of character)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import polars as pl

from tiergate.outputs import CSV_COLUMNS, cell


def _encoder() -> Callable[[str], str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    @lru_cache(maxsize=65_536)  # shapes repeat the same cells (reasons, citations) many times
    def encode(cell: str) -> str:
        """One CSV cell as `csv` writes it among others (a lone empty cell is written `""`
        on a row of its own, never among others)."""
        if cell == "":
            return ""
        buffer.seek(0)
        buffer.truncate()
        writer.writerow((cell,))
        return buffer.getvalue()[:-1]

    return encode


encode_cell = _encoder()
# The characters that make `csv` quote a cell (derived from `csv` itself, not assumed).
QUOTED = "".join(c for c in ',"\n\r\t;' if encode_cell(f"a{c}b").startswith('"'))
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
