"""A book in columns determined through the engine, batch by batch (`Columns`).

Lines are grouped by their shape: their date's epoch and the values the static stages read
(`STATIC`). The engine determines each distinct shape once (`Engine.shape`); a line of a
shape with nothing of its own shares the shape's verdict (`Verdicts.shared`), and only its
ids, date, quantity, value, totals, consignee name and pass-through cells are its own: those
are worked out per distinct value and joined back. The other lines (a per-line error, a list
hit, an allowance to draw) go through `Engine.determine` at their places in the book; the
ones that draw on an allowance all together, in date order over the whole book, so that
batches give what one pass gives. No rule is written here: every answer is the engine's.
`writing` writes the CSV, `table` the typed table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import itemgetter
from typing import Any

import polars as pl

from tiergate.batch.cells import ITEM_CELLS, PLACE_CELLS, VERDICT_CELLS, joined
from tiergate.batch.own import ID_SEED, ID_TEXTS, Total, ids_among, mapped, own_cells
from tiergate.batch.reading import FIELDS, Book, NotColumnar, exact, frame_lines, line_of
from tiergate.engine import Engine
from tiergate.engine.allowances import AllowanceState
from tiergate.engine.findings import HoldDecision, needs_licence
from tiergate.engine.item_destination import COUNTED_ITEMS
from tiergate.engine.memo import Memo
from tiergate.engine.normalise import StaticLine, line_date
from tiergate.engine.verdict import summary_of
from tiergate.licences import LicenceBook
from tiergate.model import Line, LineResult, Summary
from tiergate.outputs import csv_row
from tiergate.rulebook import View
from tiergate.terms import Raw

# The columns a line's shape is made of, besides its date's epoch: what the static stages read.
STATIC = tuple(name for name in StaticLine._fields if name != "intermediate_consignees")
# The parties screening reads (a CSV book names no intermediate consignees).
PARTIES = ("consignee", "consignee_country", "end_user", "end_user_country")


@dataclass(frozen=True, slots=True)
class Shape:
    """What the lines of one shape share: their verdict, its cells, and what they need."""

    plain: bool  # its lines share one verdict, unless a line has something of its own
    counted: bool  # its item is counted in units (a blank quantity is an error)
    unit_tpp: float | None
    item_cells: str  # the CSV cells from item to performance_density
    place_cells: str  # destination and destination_note
    verdict_cells: str  # the CSV cells from consignee_country to uncertain
    outcome: str
    tier: str | None
    errors: bool
    result: LineResult | None  # the shape's result (the line's own values left out)
    pending: bool = False  # its lines draw on an allowance (settled over the whole book)
    licensable: bool = False  # a licence may cover its lines (they need one under the EAR)


@dataclass(frozen=True, slots=True)
class Determined:
    """A batch of a book determined: per line (`frame`, in book order from row `first`) its
    shape and own values, and whether it shares its shape's verdict (`plain_line`); the
    shapes; the lines the engine determined alone (`results`, at `special_rows`)."""

    book: Book
    frame: pl.DataFrame
    shapes: list[Shape]
    first: int
    special_rows: pl.Series
    results: tuple[LineResult, ...]

    def slices(self, size: int) -> Iterator[Determined]:
        """The batch in slices of at most `size` lines, in order, each line at its place
        (the slices share the batch's `shapes`)."""
        rows = self.special_rows  # in book order
        for start in range(0, self.frame.height, size):
            frame = self.frame.slice(start, size)
            first = self.first + start
            low = int(rows.search_sorted(first))
            high = int(rows.search_sorted(first + frame.height))
            results = self.results[low:high]
            yield Determined(self.book, frame, self.shapes, first, rows[low:high], results)


# Lines determined and written at a time: memory holds one batch, whatever the book's size.
BATCH = 200_000
# A book of up to this many lines is read and prepared once (its batches are kept between
# counting and writing: about 0.5 KB a line); a longer one is read and prepared twice.
KEPT = 1_000_000
# Shapes remembered from one batch to the next (each a key and a reference).
SHAPES_KEPT = 500_000


@dataclass(frozen=True, slots=True)
class Terms:
    """What a book's batches are determined with: the engine, the book (its pass-through
    columns), the date (`as_of`, else each line's own), the view and today's date; and the
    shapes already determined (`shapes`, by their values, and `memo`, by their verdicts and
    cells), the cells of the totals worked out (`totals`) and whether screening a set of
    parties found anything (`screened`), shared by the batches; the licences held and the
    decisions on held lines (a ledger's), if any. `part` determines one batch but for its
    lines that draw on an allowance, or that a licence or a decision may reach, for
    `Columns` and for `tiergate.spark`."""

    engine: Engine
    book: Book
    as_of: date | None
    view: View
    today: date
    licences: LicenceBook | None = None
    decisions: Mapping[tuple[str, str], HoldDecision] | None = None
    memo: dict[tuple[Any, ...], Shape] = field(default_factory=dict)
    shapes: dict[tuple[Any, ...], Shape] = field(default_factory=dict)
    totals: dict[float, Total] = field(default_factory=dict)
    screened: dict[tuple[Any, ...], bool] = field(default_factory=dict)

    def part(self, frame: pl.DataFrame) -> tuple[Determined, pl.DataFrame]:
        """A batch (`frame`, its lines numbered in the whole book in `row`) determined, but
        for the lines that draw on an allowance, or that a licence or a decision on a hold
        may reach: they are returned (their book columns and `row`), to be settled with every
        other such line of the book. The batch's `results` are those of its other lines
        determined alone."""
        prepared = self._prepare(frame)
        alone = prepared.frame.filter(~pl.col("plain_line"))
        draws = alone.get_column("pending").fill_null(False)
        lines = self.lines(alone.filter(~draws))
        rows = pl.Series("row", [row for row, _ in lines], frame.schema["row"])
        found = Determined(
            self.book, prepared.frame, prepared.shapes, prepared.first, rows, self.determine(lines)
        )
        return found, alone.filter(draws).select(frame.columns)

    def lines(self, frame: pl.DataFrame) -> list[tuple[int, Line]]:
        """The lines of `frame` (book columns and `row`) as the row path's, at their places."""
        lines = frame_lines(frame, self.book.extras, SHARED_TEXTS)
        return list(zip(frame.get_column("row").to_list(), lines, strict=True))

    def determine(
        self, lines: list[tuple[int, Line]], allowances: AllowanceState | None = None
    ) -> tuple[LineResult, ...]:
        """Lines determined by the engine at their places (`Engine.determine`), with the
        licences and the decisions on holds."""
        return self.engine.determine(
            lines,
            as_of=self.as_of,
            view=self.view,
            today=self.today,
            allowances=allowances,
            licences=self.licences,
            hold_decisions=self.decisions,
        )

    def _prepare(self, frame: pl.DataFrame) -> Determined:
        """A batch's lines with their shapes and own values (`Determined.results` empty)."""
        engine, today = self.engine, self.today
        first = int(frame.item(0, "row"))
        frame = _dated(frame, engine, self.as_of, today)
        # A book gives few of the static columns: only those with a value in the batch are
        # grouped and read (a third of the batch's time went to grouping null columns).
        given = tuple(name for name in STATIC if frame[name].null_count() < frame.height)
        shapes = (
            frame.filter(pl.col("epoch").is_not_null())
            .group_by("epoch", *given, maintain_order=True)
            .agg(pl.col("row"), pl.col("on").first())
            .with_row_index("shape")
        )
        values = shapes.select("epoch", *given, "on").iter_rows()
        found = [self._shape(given, shape) for shape in values]
        rows = shapes.select("shape", "row").explode("row")
        frame = frame.join(rows, on="row", how="left", maintain_order="left")
        frame = frame.join(_shape_frame(found), on="shape", how="left", maintain_order="left")
        frame = _screened(frame, engine, today, self.screened)
        frame = self._routed(own_cells(frame, engine.rulebook.meta.h100_tpp, self.totals))
        empty = pl.Series("row", [], pl.UInt32)
        return Determined(self.book, frame, found, first, empty, ())

    def _routed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with the lines a licence may cover (with licences held: every line but a
        plain one that needs no licence) or a person decided the hold of set to be settled
        with the lines that draw on an allowance: licences are drawn in date order over the
        whole book, as the row path draws them. Sending a line there that needs it not
        changes no answer."""
        routed = pl.lit(False)
        if self.licences is not None and self.licences.grants:
            routed = ~pl.col("plain_line") | pl.col("licensable").fill_null(False)
        if self.decisions:
            routed = routed | ids_among(self.decisions)
        return frame.with_columns(
            plain_line=pl.col("plain_line") & ~routed,
            pending=pl.col("pending").fill_null(False) | routed,
        )

    def _shape(self, given: tuple[str, ...], values: tuple[Any, ...]) -> Shape:
        """The shape of the lines with these epoch and static values (the epoch, then the
        values of the static columns `given`, the others blank, then the date of its first
        line), determined once for the book (its batches share most of their shapes); past
        `SHAPES_KEPT` shapes, the oldest half is forgotten, and past as many cells (`memo`),
        all of them, so a book of ever new shapes does not fill memory."""
        key = (given, *values[:-1])
        found = self.shapes.get(key)
        if found is None:
            if len(self.shapes) >= SHAPES_KEPT:
                for old in list(islice(self.shapes, SHAPES_KEPT // 2)):
                    del self.shapes[old]
            if len(self.memo) >= SHAPES_KEPT:
                self.memo.clear()  # the shapes still remembered keep their cells
            static = dict.fromkeys(STATIC)
            static.update(zip(given, values[1:-1], strict=True))
            found = _determine_shape(self.engine, static, values[-1], self.view, self.memo)
            self.shapes[key] = found
        return found


# The book columns whose texts a kept line shares with the others that give them (a book's
# lines repeat their items, places, dates and names; a line that draws on an allowance is
# kept until the book is written): its pass-through cells and shipment id are its own.
SHARED_TEXTS = frozenset(FIELDS) - {"shipment_id"}


class Columns:
    """A book determined by the columnar path, batch by batch, as `Engine.check` determines
    it in one pass. Building it reads the book once: it counts the outcomes, finds the ids
    given twice, and draws the allowances: the lines that draw on one (and only they) are
    kept and settled together in date order, over the whole book. A batch is final once
    determined when no line of it or before it draws on an allowance: with `ready`, each such
    batch is given to `ready` as it is determined (a writer writes it while the book is
    read; where the book then proves one the row path must read, `NotColumnar`, what was
    given is to be thrown away). `batches` then gives each other batch's lines, determined:
    kept from the first reading for a book of up to `keep` lines, else read and prepared
    again (the engine's memo tables answer the second time)."""

    def __init__(
        self,
        engine: Engine,
        book: Book,
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        today: date | None = None,
        allowances: AllowanceState | None = None,
        licences: LicenceBook | None = None,
        hold_decisions: Mapping[tuple[str, str], HoldDecision] | None = None,
        batch: int = BATCH,
        keep: int = KEPT,
        ready: Callable[[Determined], None] | None = None,
    ) -> None:
        self.engine, self.book, self.as_of, self.view = engine, book, as_of, view
        self.today = today or date.today()
        self.terms = Terms(engine, book, as_of, view, self.today, licences, hold_decisions)
        self.batch = batch
        self.lines = 0
        self.given = 0  # the leading batches given to `ready`
        pending: list[tuple[int, Line]] = []
        tally = _Tally()
        # Up to `keep` lines, the batches determined (but for the lines that draw on an
        # allowance) are kept for `batches`, which then neither reads nor determines them again.
        kept: list[Determined] | None = []
        for first, frame in self._slices():
            part, drawing = self.terms.part(frame)
            tally.part(part)
            pending.extend(self.terms.lines(drawing))
            if ready is not None and not pending:
                ready(part)  # no line of it or before it draws on an allowance: it is final
                self.given += 1
            elif kept is not None and first + frame.height <= keep:
                kept.append(part)
            else:
                kept = None
        # The allowances as drawn by the whole book (as `Report.allowances` gives them).
        self.allowances = allowances if allowances is not None else AllowanceState()
        settled = self.terms.determine(pending, self.allowances)
        tally.results(settled)
        self._settled = dict(zip((row for row, _ in pending), settled, strict=True))
        self._kept = kept
        self._amended: dict[int, LineResult] = {}
        if not self.lines:
            raise NotColumnar  # the row reader says the book has no lines
        self._tally = tally
        self._repeated_ids = self._repeated(pl.concat(tally.hashes))
        self.summary = self._summary()

    def _summary(self) -> Summary:
        tally = self._tally
        return summary_of(
            self.lines, self.lines, tally.outcomes, tally.tiers, tally.errors, self._repeated_ids
        )

    def settled(self) -> list[LineResult]:
        """The results of the lines settled over the whole book (those that draw on an
        allowance, or that a licence or a decision on a hold may reach), in book order."""
        return [self._settled[row] for row in sorted(self._settled)]

    def amend(self, changed: Mapping[int, tuple[LineResult, LineResult]]) -> None:
        """Lines a ledger recorded as other than checked (by their place in the book: the
        line as checked, and as recorded): `batches` and the summary give them as recorded."""
        tally = self._tally
        for row, (checked, recorded) in changed.items():
            for line, step in ((checked, -1), (recorded, 1)):
                tally.outcomes[line.outcome.value] += step
                tally.tiers[line.tier.value if line.tier else None] += step
                tally.errors += step * bool(line.errors)
            self._amended[row] = recorded
        self.summary = self._summary()

    def _slices(self) -> Iterator[tuple[int, pl.DataFrame]]:
        """Each frame of the book with its lines numbered in the whole book."""
        first = 0
        for frame in self.book.frames(self.batch):
            if not self.book.exact and not exact(frame):
                raise NotColumnar
            if frame.height:
                yield first, frame.with_row_index("row", offset=first)
                first += frame.height
        self.lines = first

    def _repeated(self, hashes: pl.Series) -> list[tuple[str, str]]:
        """The ids (shipment and line) more than one line of the book carries. Only a hash of
        each line's ids is kept while the book is read (8 bytes a line); when some hash comes
        twice, the ids of the lines with such a hash are read again and compared as text."""
        # Sorted, a hash that comes twice sits next to itself (counting them in a table took
        # 1 GB more for 10,000,000 lines, sorting 0.09 GB).
        ordered = hashes.sort()
        twice = ordered.filter(ordered == ordered.shift(1)).unique()
        if twice.is_empty():
            return []
        candidates = [
            frame.with_columns(**ID_TEXTS)
            .filter(pl.struct(*ID_TEXTS).hash(ID_SEED).is_in(twice.implode()))
            .select(*ID_TEXTS)
            for _, frame in self._slices()
        ]
        ids = pl.concat(candidates).group_by(*ID_TEXTS).len().filter(pl.col("len") > 1)
        return [(shipment, line) for shipment, line, _ in ids.iter_rows()]

    def batches(self) -> Iterator[Determined]:
        """Each batch's lines determined, in book order, but the batches given to `ready`."""
        parts: Iterable[Determined] = (
            self._kept
            if self._kept is not None
            else (
                self.terms.part(frame)[0]
                for index, (_, frame) in enumerate(self._slices())
                if index >= self.given
            )
        )
        for part in parts:
            yield self._determined(part)

    def _determined(self, part: Determined) -> Determined:
        """A batch with the results of its lines that draw on an allowance settled, and of
        its lines amended."""
        frame = part.frame
        last = part.first + frame.height
        amended = [row for row in self._amended if part.first <= row < last]
        if amended:
            plain = pl.col("plain_line") & ~pl.col("row").is_in(pl.Series(amended).implode())
            frame = frame.with_columns(plain_line=plain)
        rows = frame.filter(~pl.col("plain_line")).get_column("row")
        alone = dict(zip(part.special_rows.to_list(), part.results, strict=True))
        results = tuple(
            self._amended.get(row) or self._settled.get(row) or alone[row] for row in rows
        )
        return Determined(self.book, frame, part.shapes, part.first, rows, results)


@dataclass(slots=True)
class _Tally:
    """What a book's summary counts, batch by batch: outcomes, tiers, lines with errors, and
    the hashes of the lines' ids."""

    outcomes: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str | None] = field(default_factory=Counter)
    errors: int = 0
    hashes: list[pl.Series] = field(default_factory=list)

    def part(self, part: Determined) -> None:
        """A batch determined (its lines that draw on an allowance left out)."""
        self.hashes.append(part.frame.get_column("id_hash"))
        plain = part.frame.filter(pl.col("plain_line"))
        self.outcomes.update(dict(plain.group_by("outcome").len().iter_rows()))
        self.tiers.update(dict(plain.group_by("tier").len().iter_rows()))
        self.errors += int(plain.get_column("has_errors").sum())
        self.results(part.results)

    def results(self, results: Iterable[LineResult]) -> None:
        """Lines determined alone."""
        for result in results:
            self.outcomes[result.outcome.value] += 1
            self.tiers[result.tier.value if result.tier else None] += 1
            self.errors += bool(result.errors)


def _dated(frame: pl.DataFrame, engine: Engine, as_of: date | None, today: date) -> pl.DataFrame:
    """Each line's date (`on`: `as_of`, else its own, else `today`), its epoch (null for a
    date the engine refuses: that line is determined alone) and its `as_of` cell."""
    earliest = engine.rulebook.meta.earliest_date

    def dated(value: Raw) -> tuple[date | None, int | None, str]:
        on, problem = line_date(value, as_of, today, earliest, Memo())
        if on is None or problem is not None:
            return None, None, ""
        return on, engine.compiler.epoch_of(on), on.isoformat()

    names = {"on": pl.Date, "epoch": pl.Int64, "as_of_cell": pl.String}
    return mapped(frame, "date", dated, names)


def _screened(
    frame: pl.DataFrame, engine: Engine, today: date, known: dict[tuple[Any, ...], bool]
) -> pl.DataFrame:
    """Whether screening the line's parties finds anything (then it is determined alone);
    each distinct set of parties is screened once for the book (`known`: the sets screened
    in the batches before, all forgotten past `SHAPES_KEPT` of them)."""
    screening = engine.screening
    if screening is None:
        return frame.with_columns(found=pl.lit(False))
    parties = frame.select(PARTIES).unique()
    if len(known) >= SHAPES_KEPT:
        known.clear()
    found = []
    for row in parties.iter_rows():
        hit = known.get(row)
        if hit is None:
            line = line_of(dict(zip(PARTIES, row, strict=True)))
            hit = known[row] = bool(screening.line(line, today))
        found.append(hit)
    parties = parties.with_columns(pl.Series("found", found, pl.Boolean))
    return frame.join(
        parties, on=list(PARTIES), how="left", nulls_equal=True, maintain_order="left"
    )


def _determine_shape(
    engine: Engine,
    static: dict[str, Any],
    on: date,
    view: View,
    memo: dict[tuple[Any, ...], Shape],
) -> Shape:
    """A shape (its `STATIC` values) determined once, on the date of its first line (every
    date of an epoch gives the same static determination: the engine's memo tables rely on
    it), without parties. Its cells come from its verdict and four raw values, so shapes that
    share them share the cells (`memo`)."""
    w = engine.shape(StaticLine(**static, intermediate_consignees=()), on, view)
    combined = engine.verdicts.shared(w)
    if w.static is not None and w.static.pendings:
        return _PENDING
    if combined is None or w.static is None:
        return _NOT_PLAIN
    licensable = any(map(needs_licence, w.static.findings))
    key = (combined, *_CELL_VALUES(static))
    found = memo.get(key)
    if found is not None:
        return found
    w.line = line_of({**static, "date": on.isoformat()})
    result = engine.verdicts.build(w, combined)
    cells = csv_row(result)
    found = memo[key] = Shape(
        plain=True,
        counted=w.classification is not None and w.classification.item_type in COUNTED_ITEMS,
        unit_tpp=result.tpp,
        item_cells=joined([cells[name] for name in ITEM_CELLS]),
        place_cells=joined([cells[name] for name in PLACE_CELLS]),
        verdict_cells=joined([cells[name] for name in VERDICT_CELLS]),
        outcome=result.outcome.value,
        tier=result.tier.value if result.tier else None,
        errors=bool(result.errors),
        result=result,
        licensable=licensable,
    )
    return found


# The raw values a shape's cells read besides its verdict (of its `STATIC` values).
_CELL_VALUES = itemgetter("item", "eccn", "consignee_country", "transaction")
_NOT_PLAIN = Shape(False, False, None, "", "", "", "", None, False, None)
_PENDING = Shape(False, False, None, "", "", "", "", None, False, None, pending=True)


def _shape_frame(found: list[Shape]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "shape": range(len(found)),
            "plain": [s.plain for s in found],
            "counted": [s.counted for s in found],
            "unit_tpp": [s.unit_tpp for s in found],
            "item_cells": [s.item_cells for s in found],
            "place_cells": [s.place_cells for s in found],
            "verdict_cells": [s.verdict_cells for s in found],
            "outcome": [s.outcome for s in found],
            "tier": [s.tier for s in found],
            "has_errors": [s.errors for s in found],
            "pending": [s.pending for s in found],
            "licensable": [s.licensable for s in found],
        },
        schema={
            "shape": pl.UInt32,
            "plain": pl.Boolean,
            "counted": pl.Boolean,
            "unit_tpp": pl.Float64,
            "item_cells": pl.String,
            "place_cells": pl.String,
            "verdict_cells": pl.String,
            "outcome": pl.String,
            "tier": pl.String,
            "has_errors": pl.Boolean,
            "pending": pl.Boolean,
            "licensable": pl.Boolean,
        },
    )
