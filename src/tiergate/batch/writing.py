"""A book checked by the columnar path, written as CSV batch by batch: each plain line's own
cells around its shape's, the other lines' rows as the row path writes them, byte for byte
what `outputs.to_csv` writes for the same book. `Stream` writes the batches that are final as
soon as they are determined while the book is read, and the others after."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import polars as pl

from tiergate.batch.cells import PIECES, text_cell
from tiergate.batch.checking import BATCH, KEPT, Columns, Determined
from tiergate.batch.reading import Book
from tiergate.engine import Engine
from tiergate.engine.allowances import AllowanceState
from tiergate.model import LineResult, Summary, passthrough_name
from tiergate.outputs import CSV_COLUMNS, csv_row, encode_cell, write_header
from tiergate.rulebook import View


@dataclass(frozen=True, slots=True)
class Checked:
    """A checked book: its text, as a header, the texts of its lines batch by batch in book
    order (made as they are written: a line's texts are written one after another, with a
    comma between two, each line followed by a line break) and a trailer, and the summary of
    its lines."""

    header: str
    batches: Callable[[], Iterator[pl.DataFrame]]  # text columns, written side by side
    summary: Summary
    trailer: str = ""

    @property
    def exit_code(self) -> int:
        """0 when every line may ship, 3 when some line may not ship as it is."""
        return 0 if self.summary.may_not_ship == 0 else 3

    def write(self, handle: BinaryIO) -> None:
        """The CSV, written to `handle` without building it as one string."""
        handle.write(self.header.encode())
        for lines in self.batches():
            lines.write_csv(handle, include_header=False, quote_style="never")
        handle.write(self.trailer.encode())

    @property
    def text(self) -> str:
        """The text as one string."""
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue().decode()


def check_book(
    engine: Engine,
    book: Book,
    *,
    as_of: date | None = None,
    view: View = View.ENFORCED,
    today: date | None = None,
    allowances: AllowanceState | None = None,
    batch: int = BATCH,
    keep: int = KEPT,
) -> Checked:
    """Check `book` as `Engine.check` would, written as `outputs.to_csv` would write it
    (`Columns` says what `batch` and `keep` are)."""
    found = Columns(
        engine,
        book,
        as_of=as_of,
        view=view,
        today=today,
        allowances=allowances,
        batch=batch,
        keep=keep,
    )
    return csv_of(found)


def csv_of(found: Columns) -> Checked:
    """A determined book written as `outputs.to_csv` would write it, batch by batch."""

    def batches() -> Iterator[pl.DataFrame]:
        for part in found.batches():
            yield csv_pieces(part)

    return Checked(csv_header(found.book), batches, found.summary)


def csv_header(book: Book) -> str:
    """The CSV's header row, with its line break."""
    head = io.StringIO()
    write_header(head, _columns(book))
    return head.getvalue()


def csv_pieces(part: Determined) -> pl.DataFrame:
    """A determined batch's CSV text: its lines' pieces, written side by side."""
    columns = _columns(part.book)
    groups = (*PIECES, *((name,) for name in columns[len(CSV_COLUMNS) :]))
    # The other lines' pieces, each at its place: the book's order without sorting.
    rows = part.special_rows - part.first
    texts = [_result_pieces(result, groups) for result in part.results]
    size = part.frame.height
    return part.frame.select(
        pl.when(pl.col("plain_line"))
        .then(plain)
        .otherwise(
            pl.repeat(None, size, dtype=pl.String, eager=True).scatter(
                rows, [pieces[i] for pieces in texts]
            )
        )
        .alias(f"piece:{i}")
        for i, plain in enumerate(_plain_pieces(part.book))
    )


class Stream:
    """Writes determined batches to `handle` in the order given, each as `text` makes it,
    after `head` (the book's header, written once): `ready` is `Columns`' `ready`; `finish`
    writes the rest of the book."""

    def __init__(
        self,
        handle: BinaryIO,
        head: Callable[[Book], str],
        text: Callable[[Determined], pl.DataFrame],
    ) -> None:
        self._handle = handle
        self._head = head
        self._text = text
        self._started = False

    def ready(self, part: Determined) -> None:
        """A batch, written after those given before."""
        if not self._started:
            self._handle.write(self._head(part.book).encode())
            self._started = True
        self._text(part).write_csv(self._handle, include_header=False, quote_style="never")

    def finish(self, found: Columns) -> None:
        """Write the batches of `found` not given to `ready`."""
        for part in found.batches():
            self.ready(part)


def _plain_pieces(book: Book) -> list[pl.Expr]:
    """A plain line's CSV pieces (`PIECES`, then each pass-through cell): its own cells
    around its shape's."""
    return [
        text_cell(pl.col("shipment_text")),
        text_cell(pl.col("line_text")),
        pl.col("as_of_cell"),
        pl.col("item_cells"),
        pl.col("quantity_cell"),
        pl.col("value_cell"),
        pl.col("total_cell"),
        pl.col("h100_cell"),
        pl.col("place_cells"),
        text_cell(pl.col("consignee").str.strip_chars()),
        pl.col("verdict_cells"),
        *(text_cell(pl.col(f"extra:{i}")) for i in range(len(book.extras))),
    ]


def _columns(book: Book) -> list[str]:
    """The CSV header: tiergate's columns, then the pass-through ones (renamed where they
    would take one of tiergate's names, as `outputs.csv_row` renames them)."""
    taken: dict[str, object] = dict.fromkeys(CSV_COLUMNS)
    for name in book.extras:
        taken[passthrough_name(name, taken)] = None
    return list(taken)


def _result_pieces(result: LineResult, groups: tuple[tuple[str, ...], ...]) -> list[str]:
    row = csv_row(result)
    return [",".join(encode_cell(row.get(name, "")) for name in group) for group in groups]
