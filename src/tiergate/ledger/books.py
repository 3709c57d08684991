"""A checked book as the ledger takes it, to commit it or to audit the check (`CheckedBook`):
its lines a batch at a time (`Part`), from a report or from the columnar path."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tiergate.model import LineResult, Report

# A line held for review, as its hold records it: its ids (shipment_id, line_id) and its
# result, or a result it shares its outcome, hold signature and reasons with.
Held = tuple[str | None, str | None, LineResult]

if TYPE_CHECKING:
    import polars as pl

# A committed line's row: the columns given, in order (the commit adds `committed_at`).
ROW_NAMES = (
    "shipment_id",
    "line_id",
    "as_of",
    "destination",
    "eccn",
    "quantity",
    "total_tpp",
    "outcome",
    "exception",
    "input_hash",
    "debits",
    "content",
)


@dataclass(frozen=True, slots=True)
class Part:
    """Lines of a book in order: each a `LineResult` (`results`), or None for a plain line.

    A plain line has nothing for the ledger to weigh but its outcome: it debits no allowance,
    names no licence, and (when committing) no other line of the book or line committed
    before carries its ids; a producer that cannot say so gives the line's result.
    What the ledger records of a plain line is given by its place: its audit entry's
    canonical text (`entries`: [shipment_id, line_id, outcome, exception, licence, the key of
    the list of the rules of its reasons]) and its reasons' canonical text as
    `LineTexts.listed` writes it (`reasons`) at its place in those lists (what is at another
    place is not read); the lists of rules the entries name (`rules`: each list's key and
    canonical text, as `LineTexts.rules` gives them, a list given as often as it comes:
    `Decisions` refuses two lists with one key); its ids
    and outcome in `plain` (a row per plain line in order: `place`, `shipment_id`, `line_id`,
    `outcome`), and, when committing, the committed row of each plain line that may ship in
    `rows` (in order: `place`, then `ROW_NAMES` as stored: `bulk.insert_frame`). A plain
    line held for review is in `held` too (in order), by its ids and a result it shares
    everything its hold records with (`holds.record_holds`)."""

    results: Sequence[LineResult | None]
    entries: Sequence[str | None] = ()
    reasons: Sequence[str | None] = ()
    rules: Sequence[tuple[str, str]] = ()
    plain: pl.DataFrame | None = None
    rows: pl.DataFrame | None = None
    held: Sequence[Held] = ()


class Keys(Set[tuple[str, str]]):
    """Lines' ids (shipment_id, line_id), and the shipments they name (`shipments`: given,
    or worked out once; a commit reads the ledger's lines of those shipments several
    times).

    The ids may be given as what gives them when first looked for (`pairs` a function, with
    how many distinct ids there are: `count`): a big book's are a million Python tuples,
    and a commit only looks for the ids of the ledger's lines of the book's shipments, of
    which a book of new lines has none."""

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]] | Callable[[], Iterable[tuple[str, str]]] = (),
        shipments: Iterable[str] | None = None,
        *,
        count: int | None = None,
    ) -> None:
        if callable(pairs):
            if count is None:
                raise TypeError("ids given later need their count")
            self._later: Callable[[], Iterable[tuple[str, str]]] | None = pairs
            self._count = count
        else:
            self.__dict__["_pairs"] = frozenset(pairs)
            self._later, self._count = None, len(self._pairs)
        if shipments is not None:
            self.__dict__["shipments"] = frozenset(shipments)

    @cached_property
    def _pairs(self) -> frozenset[tuple[str, str]]:
        assert self._later is not None  # ids given as they are are set at once
        pairs = frozenset(self._later())
        if len(pairs) != self._count:
            raise RuntimeError(f"{len(pairs)} distinct ids were given for {self._count}")
        return pairs

    def __contains__(self, key: object) -> bool:
        return key in self._pairs

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return self._count

    @cached_property
    def shipments(self) -> frozenset[str]:
        return frozenset(shipment_id for shipment_id, _ in self)


def shipments_of(keys: Set[tuple[str, str]]) -> frozenset[str]:
    """The shipments lines' ids (`keys`) name."""
    return keys.shipments if isinstance(keys, Keys) else Keys(keys).shipments


@dataclass(frozen=True)
class CheckedBook:
    """A checked book as the ledger takes it: its lines in book order (`lines`, given the ids
    of the book's lines committed before, or None for a check that commits nothing, read once
    under the write lock), every line's ids (`keys`: shipment_id, line_id), the lines that
    debit an allowance or name a licence (`drawing`, all of them), the ids more than one line
    carries (`repeated`, as "shipment_id/line_id"), and the rulebook version and data
    editions it was checked with. A report gives one (`of_report`); so does the columnar
    path (`tiergate.batch.committing`)."""

    lines: Callable[[Collection[tuple[str, str]] | None], Iterable[Part]]
    keys: Keys
    drawing: Sequence[LineResult]
    repeated: frozenset[str]
    rulebook_version: str
    editions: Sequence[Mapping[str, str]]

    @classmethod
    def of_report(cls, report: Report) -> CheckedBook:
        return cls(
            lambda _: [Part(report.lines)],
            Keys((line.shipment_id or "", line.line_id or "") for line in report.lines),
            report.lines,
            frozenset(report.summary.duplicate_ids),
            report.rulebook_version,
            report.editions,
        )


@dataclass(frozen=True, slots=True)
class Checked:
    """How a book was checked, as its audit entry says: the view, the date (None: each
    line's own) and the summary (`Summary.as_dict`)."""

    view: str
    as_of: date | None
    summary: dict[str, Any]
