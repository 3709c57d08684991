"""A book determined by the columnar path, as the ledger commits it (`Committing`): every
line as the row path's `LineResult`, in book order, a batch at a time.

A plain line's result is its shape's result with the line's own values (ids, date, quantity,
value, totals, pass-through columns, the line itself): the fields `Verdicts.build` takes from
the line; every other field is its shape's verdict. The lines determined alone come from the
engine as they are. No rule is written here: the ledger re-checks every line as it re-checks
the row path's.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from tiergate.batch.checking import BATCH, SHARED_TEXTS, Columns, Determined
from tiergate.batch.own import ID_TEXTS
from tiergate.batch.reading import Book, frame_lines
from tiergate.ledger.commits import Committing
from tiergate.model import LineResult
from tiergate.normalise import text


def committing(found: Columns, keys: set[tuple[str, str]]) -> Committing:
    """The book `found` determined, as a commit takes it; `keys` holds every line's ids
    (`book_keys`)."""
    drawing = [line for line in found.settled() if line.debits or line.licence is not None]
    return Committing(
        lambda: (line for part in found.batches() for line in part_lines(part)),
        keys,
        drawing,
        frozenset(found.summary.duplicate_ids),
        found.engine.rulebook.version,
        found.engine.editions(),
    )


def book_keys(book: Book) -> set[tuple[str, str]]:
    """Every line's ids (shipment_id, line_id) as the row path gives them: stripped, a
    missing line id numbered by the line's place in the book."""
    keys: set[tuple[str, str]] = set()
    first = 0
    for frame in book.frames(BATCH):
        ids = frame.with_row_index("row", offset=first).select(**ID_TEXTS)
        keys.update(ids.iter_rows())
        first += frame.height
    return keys


def part_lines(part: Determined) -> list[LineResult]:
    """Every line of a determined batch as the row path's result, in book order."""
    placed: list[LineResult | None] = [None] * part.frame.height
    for row, result in zip(part.special_rows.to_list(), part.results, strict=True):
        placed[row - part.first] = result
    plain = part.frame.filter(pl.col("plain_line"))
    sources = frame_lines(plain, part.book.extras, SHARED_TEXTS)
    own = plain.select("row", "shape", "line_text", "on", "units", "value_number", "total", "h100")
    shapes = part.shapes
    for line, (row, shape, line_id, on, units, value, total, h100) in zip(
        sources, own.iter_rows(), strict=True
    ):
        shaped = shapes[shape].result
        assert shaped is not None  # a plain line's shape has a result
        placed[row - part.first] = replace(
            shaped,
            shipment_id=text(line.shipment_id),
            line_id=line_id,
            as_of=on,
            quantity=units,
            total_tpp=total,
            h100_equivalents=h100,
            extra=line.extra,
            value=value,
            source=line,
        )
    found = [line for line in placed if line is not None]
    if len(found) != len(placed):
        raise RuntimeError(f"a batch gave {len(found)} results for {len(placed)} lines")
    return found
