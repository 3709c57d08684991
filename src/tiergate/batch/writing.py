"""A book checked by the columnar path, written as CSV batch by batch: each plain line's own
cells around its shape's, the other lines' rows as the row path writes them, byte for byte
what `outputs.to_csv` writes for the same book. `Stream` writes the batches that are final as
soon as they are determined while the book is read, and the others after. Either way a batch is
written by a thread of its own (`Behind`) while the next is made."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, TypeVar

import polars as pl

from tiergate import behind
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
        """The CSV, written to `handle` without building it as one string: a batch is
        written while the next is made."""
        handle.write(self.header.encode())
        with Behind(handle, _alone) as behind:
            for lines in self.batches():
                behind.put(lines)
            behind.finish()
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


Item = TypeVar("Item")


class Behind(behind.Behind[Item]):
    """Writes items to `handle` in the order given, each as the text frames `text` makes of
    it (their columns side by side), behind the caller (`tiergate.behind.Behind`): polars
    makes and writes a frame without holding the interpreter's lock, and the kernel's copy
    of a 1,000,000-line book's CSV (1.5 GB) alone took about a quarter of the run
    (benchmarks/batch.py)."""

    def __init__(self, handle: BinaryIO, text: Callable[[Item], Iterable[pl.DataFrame]]) -> None:
        def write(item: Item) -> None:
            for frame in text(item):
                frame.write_csv(handle, include_header=False, quote_style="never")

        super().__init__(write)
        self._handle = handle


def _alone(frame: pl.DataFrame) -> tuple[pl.DataFrame]:
    return (frame,)


# Lines of a batch whose JSON Lines (or JSON document) are made and written at a time: a
# batch's are 0.5 GB of text while the next batch is determined (its CSV, 0.3 GB, is written
# faster whole: in slices, the check took 0.1 GB more).
SLICE = 25_000


class Stream(Behind[Determined]):
    """Writes determined batches to `handle` in the order given, each as `text` makes it,
    after `head` (the book's header, written once): `ready` is `Columns`' `ready`; `finish`
    writes the rest of the book. A block, as `Behind` is. A batch's text is made and written
    whole, or `lines` at a time (`Determined.slices`)."""

    def __init__(
        self,
        handle: BinaryIO,
        head: Callable[[Book], str],
        text: Callable[[Determined], pl.DataFrame],
        lines: int | None = None,
    ) -> None:
        if lines is None:
            super().__init__(handle, lambda part: (text(part),))
        else:
            super().__init__(handle, lambda part: map(text, part.slices(lines)))
        self._head = head
        self._started = False

    def ready(self, part: Determined) -> None:
        """A batch, written after those given before."""
        if not self._started:
            # Nothing is being written before the first batch.
            self._handle.write(self._head(part.book).encode())
            self._started = True
        self.put(part)

    def finish(self, found: Columns | None = None) -> None:
        """Write the batches of `found` not given to `ready`, and wait until all are written."""
        for part in found.batches() if found is not None else ():
            self.ready(part)
        super().finish()


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
