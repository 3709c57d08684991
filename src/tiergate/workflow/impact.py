"""Impact analysis: what a change of date, of view or of rules does to a book.

Every line is determined twice, as of the `--from` date and view and as of the `--to` date
and view (the lines' own dates are not used), the second time with a rulebook overlay when
one is given. A line is changed when its tier, outcome, licence exception, review policy or
conditions differ; every changed line is listed, with what it was and what it becomes, and
the summary counts the transitions of outcome by destination and by item class, with the
H100-equivalents they carry.

Parties are not screened (the list edition is the same on both dates) and no ledger is read
(allowances are counted from the book alone on each date): `tiergate check` does both.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiergate.errors import UsageError
from tiergate.terms import View

if TYPE_CHECKING:
    import polars as pl

    from tiergate.batch.reading import Book
    from tiergate.engine import Engine
    from tiergate.model import Line, LineResult, Report
    from tiergate.rulebook.overlay import Overlay
    from tiergate.workflow import Workspace

# What makes a line changed, in the order the output lists them.
COMPARED = ("tier", "outcome", "exception", "review_policy", "conditions")
# The CSV columns: the line, then each side's determination.
_SIDE = ("tier", "outcome", "exception", "review_policy", "conditions", "rules")
COLUMNS = (
    "row",
    "shipment_id",
    "line_id",
    "item",
    "eccn",
    "destination",
    "quantity",
    "h100_equivalents",
    "changed",
    *(f"{side}_{name}" for side in ("from", "to") for name in _SIDE),
)


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: a date and a view."""

    on: date
    view: View = View.ENFORCED

    @classmethod
    def parse(cls, value: str, option: str) -> Side:
        """`DATE` or `DATE:enforced` / `DATE:written`, as `option` gives it."""
        from tiergate.normalise import ValueProblem, parse_date

        expected = "expected YYYY-MM-DD, optionally with :enforced or :written"
        day, _, view = value.strip().partition(":")
        try:
            on = parse_date(day, option)
        except ValueProblem:
            raise UsageError(f"`{option}` value `{value}` is not a date: {expected}") from None
        if on is None:
            raise UsageError(f"`{option}` is empty: {expected}")
        if not view:
            return cls(on)
        try:
            return cls(on, View(view.strip().casefold()))
        except ValueError:
            raise UsageError(
                f"`{option}` value `{value}` names the view `{view}`: expected enforced or written"
            ) from None

    @property
    def label(self) -> str:
        return f"{self.on.isoformat()}:{self.view.value}"


@dataclass(frozen=True, slots=True)
class Determination:
    """What a side says of a line: the line as given, and its determination."""

    shipment_id: str | None
    line_id: str | None
    item: str | None
    eccn: str | None
    destination: str | None
    quantity: int | None
    h100_equivalents: float | None
    tier: str | None
    outcome: str
    exception: str | None
    review_policy: str | None
    conditions: tuple[str, ...]
    rules: tuple[str, ...]  # the rules of its reasons, in order, each once

    @classmethod
    def of(cls, line: LineResult) -> Determination:
        """A line's result as the row path gives it."""
        return cls(
            line.shipment_id,
            line.line_id,
            line.item,
            line.eccn,
            line.destination,
            line.quantity,
            line.h100_equivalents,
            line.tier.value if line.tier else None,
            line.outcome.value,
            line.exception,
            line.review_policy.value if line.review_policy else None,
            line.conditions,
            tuple(dict.fromkeys(r.rule for r in line.reasons)),
        )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Determination:
        """A row of the columnar path's table (`batch.table`)."""
        return cls(
            row["shipment_id"],
            row["line_id"],
            row["item"],
            row["eccn"],
            row["destination"],
            row["quantity"],
            row["h100_equivalents"],
            row["tier"],
            row["outcome"],
            row["exception"],
            row["review_policy"],
            tuple(row["conditions"]),
            tuple(dict.fromkeys(r["rule"] for r in row["reasons"])),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """A line whose determination differs between the two sides."""

    row: int  # the line's place in the book, from 1
    before: Determination
    after: Determination
    changed: tuple[str, ...]

    @property
    def destination(self) -> str:
        return self.after.destination or self.before.destination or "unknown"

    @property
    def item_class(self) -> str:
        return self.after.eccn or self.before.eccn or "unknown"

    @property
    def h100_equivalents(self) -> float:
        found = self.after.h100_equivalents
        return (found if found is not None else self.before.h100_equivalents) or 0.0

    @property
    def transition(self) -> str:
        """`OUTCOME[/exception or review policy] -> ...`; when both sides read the same,
        what else changed, in brackets."""
        before, after = _qualified(self.before), _qualified(self.after)
        if before != after:
            return f"{before} -> {after}"
        return f"{before} -> {after} ({', '.join(self.changed)})"

    def as_dict(self) -> dict[str, Any]:
        line = self.after
        return {
            "row": self.row,
            "shipment_id": line.shipment_id,
            "line_id": line.line_id,
            "item": line.item,
            "eccn": self.item_class,
            "destination": self.destination,
            "quantity": line.quantity,
            "h100_equivalents": self.h100_equivalents,
            "changed": list(self.changed),
            "from": _determination(self.before),
            "to": _determination(self.after),
        }

    def row_dict(self, *, lists: bool = False) -> dict[str, Any]:
        """One flat row: the line, then each compared field before and after; lists joined
        with `; ` (`changed` with spaces) for CSV, kept as lists with `lists` (Parquet)."""
        found = self.as_dict()
        flat = {k: v for k, v in found.items() if k not in ("changed", "from", "to")}
        flat["changed"] = list(self.changed) if lists else " ".join(self.changed)
        for side in ("from", "to"):
            for name, value in found[side].items():
                joined = isinstance(value, list) and not lists
                flat[f"{side}_{name}"] = "; ".join(value) if joined else value
        return flat


def _qualified(line: Determination) -> str:
    """The outcome with the licence exception (EXCEPTION, HOLD) or review policy it names."""
    qualifier = line.exception or line.review_policy
    return f"{line.outcome}/{qualifier}" if qualifier else line.outcome


def _determination(line: Determination) -> dict[str, Any]:
    return {
        "tier": line.tier,
        "outcome": line.outcome,
        "exception": line.exception,
        "review_policy": line.review_policy,
        "conditions": list(line.conditions),
        "rules": list(line.rules),
    }


def change(row: int, before: Determination, after: Determination) -> Change | None:
    """The change of the line at `row` (from 1), None when the sides agree."""
    changed = tuple(name for name in COMPARED if getattr(before, name) != getattr(after, name))
    return Change(row, before, after, changed) if changed else None


def changes(before: Report, after: Report) -> Iterator[Change]:
    """The lines whose determination differs, in book order."""
    if len(before.lines) != len(after.lines):
        raise RuntimeError(
            f"the two checks gave {len(before.lines)} and {len(after.lines)} lines of one book"
        )
    for row, (old, new) in enumerate(zip(before.lines, after.lines, strict=True), start=1):
        found = change(row, Determination.of(old), Determination.of(new))
        if found is not None:
            yield found


@dataclass(frozen=True, slots=True)
class Impact:
    """What changes between two sides on one book."""

    source: str
    input_hash: str | None
    before: Side
    after: Side
    before_rulebook: str
    after_rulebook: str
    overlay: dict[str, str] | None
    lines_in: int
    lines_with_errors: int
    changes: tuple[Change, ...]

    def summary(self) -> dict[str, Any]:
        """Counts: lines in, changed and unchanged; transitions of outcome overall, by
        destination and by item class, each with the lines and H100-equivalents."""
        return {
            "lines_in": self.lines_in,
            "lines_compared": self.lines_in,
            "lines_changed": len(self.changes),
            "lines_unchanged": self.lines_in - len(self.changes),
            "lines_with_errors": self.lines_with_errors,
            "changed_fields": {
                name: sum(1 for c in self.changes if name in c.changed) for name in COMPARED
            },
            "transitions": _transitions(self.changes),
            "by_destination": _grouped(self.changes, lambda c: c.destination),
            "by_item_class": _grouped(self.changes, lambda c: c.item_class),
        }

    def document(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "input_sha256": self.input_hash,
            "from": {"as_of": self.before.on.isoformat(), "view": self.before.view.value},
            "to": {"as_of": self.after.on.isoformat(), "view": self.after.view.value},
            "rulebook": {"from": self.before_rulebook, "to": self.after_rulebook},
            "overlay": self.overlay,
            "summary": self.summary(),
            "lines": [change.as_dict() for change in self.changes],
        }

    def rows(self) -> list[dict[str, Any]]:
        return [change.row_dict() for change in self.changes]

    def table(self) -> pl.DataFrame:
        """The changed lines as a typed table (Parquet): CSV's columns, lists kept as lists."""
        import polars as pl

        text, listed = pl.String(), pl.List(pl.String)
        kinds = {"row": pl.Int64(), "quantity": pl.Int64(), "h100_equivalents": pl.Float64()}
        schema = {
            name: kinds.get(name)
            or (listed if name == "changed" or name.endswith(("_conditions", "_rules")) else text)
            for name in COLUMNS
        }
        return pl.DataFrame([c.row_dict(lists=True) for c in self.changes], schema=schema)


def _transitions(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """Each transition of outcome with its lines and H100-equivalents, most lines first."""
    counted: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for change in changes:
        key = (change.transition, change.before.outcome, change.after.outcome)
        found = counted[key]
        found[0] += 1
        found[1] += change.h100_equivalents
    ordered = sorted(counted.items(), key=lambda item: (-item[1][0], item[0]))
    return [
        {
            "transition": name,
            "from_outcome": before,
            "to_outcome": after,
            "lines": int(lines),
            "h100_equivalents": round(h100, 2),
        }
        for (name, before, after), (lines, h100) in ordered
    ]


def _grouped(changes: tuple[Change, ...], key: Any) -> dict[str, Any]:
    groups: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        groups[key(change)].append(change)
    return {
        name: {"lines_changed": len(found), "transitions": _transitions(found)}
        for name, found in sorted(groups.items())
    }


def compare(
    lines: list[Line],
    before: Side,
    after: Side,
    engines: tuple[Engine, Engine],
    *,
    source: str = "<lines>",
    input_hash: str | None = None,
    overlay: dict[str, str] | None = None,
) -> Impact:
    """Determine `lines` on both sides (the first engine before, the second after) and
    compare them. Lines in equal lines compared, always."""
    first, second = engines
    first.check_range(before.on)
    second.check_range(after.on)
    old = first.check(lines, as_of=before.on, view=before.view)
    new = second.check(lines, as_of=after.on, view=after.view)
    found = tuple(changes(old, new))
    errors = sum(1 for a, b in zip(old.lines, new.lines, strict=True) if a.errors or b.errors)
    return Impact(
        source=source,
        input_hash=input_hash,
        before=before,
        after=after,
        before_rulebook=first.rulebook.version,
        after_rulebook=second.rulebook.version,
        overlay=overlay,
        lines_in=len(lines),
        lines_with_errors=errors,
        changes=found,
    )


def overlay_record(overlay: Overlay, path: Path, text: str) -> dict[str, str]:
    """What an impact records of the overlay it applied."""
    return {
        "name": overlay.name,
        "citation": overlay.citation,
        "file": str(path),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def compare_book(
    book: Book,
    before: Side,
    after: Side,
    engines: tuple[Engine, Engine],
    *,
    input_hash: str | None = None,
    overlay: dict[str, str] | None = None,
) -> Impact:
    """`compare` for a book in columns (`tiergate.batch`), batch by batch: the two sides'
    tables are compared column by column and only the changed lines are made objects.
    Raises `NotColumnar` for a book the row path must read."""
    import polars as pl

    from tiergate.batch.checking import Columns
    from tiergate.batch.table import ShapeRows, batch_table

    first, second = engines
    first.check_range(before.on)
    second.check_range(after.on)
    old = Columns(first, book, as_of=before.on, view=before.view)
    new = Columns(second, book, as_of=after.on, view=after.view)
    found: list[Change] = []
    errors = 0
    shaped = (ShapeRows(), ShapeRows())  # each side's shapes, for all its batches
    for a, b in zip(old.batches(), new.batches(), strict=True):
        left, right = batch_table(a, shaped[0]), batch_table(b, shaped[1])
        differ = pl.repeat(False, left.height, eager=True)
        for name in COMPARED:
            differ = differ | left.get_column(name).ne_missing(right.get_column(name))
        at = differ.arg_true()
        pairs = zip(
            at.to_list(),
            left[at].iter_rows(named=True),
            right[at].iter_rows(named=True),
            strict=True,
        )
        for i, old_row, new_row in pairs:
            line = change(
                a.first + i + 1, Determination.of_row(old_row), Determination.of_row(new_row)
            )
            assert line is not None  # the tables differ on a compared field
            found.append(line)
        flagged = (left.get_column("errors").list.len() > 0) | (
            right.get_column("errors").list.len() > 0
        )
        errors += int(flagged.sum())
    return Impact(
        source=book.source,
        input_hash=input_hash,
        before=before,
        after=after,
        before_rulebook=first.rulebook.version,
        after_rulebook=second.rulebook.version,
        overlay=overlay,
        lines_in=old.lines,
        lines_with_errors=errors,
        changes=tuple(found),
    )


def diff(
    workspace: Workspace,
    path: Path,
    before: Side,
    after: Side,
    overlay: Path | None = None,
) -> Impact:
    """Compare the book at `path` between `before` and `after`, the `after` side with the
    rulebook overlay file `overlay` when given; by the columnar path where `check` would
    take it (a long CSV book, a Parquet book), which gives the same answers."""
    from tiergate.batch.reading import NotColumnar
    from tiergate.inputs import read_input

    base = workspace.engine()
    second, record = base, None
    if overlay is not None:
        from tiergate.rulebook.overlay import apply_overlay, read_overlay

        loaded, text = read_overlay(overlay)
        second = workspace.engine(rulebook=apply_overlay(base.rulebook, loaded, text, str(overlay)))
        record = overlay_record(loaded, overlay, text)
    book = workspace.columnar_book(path)
    if book is not None:
        try:
            return compare_book(
                book, before, after, (base, second), input_hash=_file_hash(path), overlay=record
            )
        except NotColumnar:
            pass  # the row path reads it
    return _compared(read_input(path), path, before, after, (base, second), record)


def diff_bytes(
    workspace: Workspace,
    raw: bytes,
    path: Path,
    before: Side,
    after: Side,
    overlay: tuple[bytes, str] | None = None,
) -> Impact:
    """`diff` of a book given as its bytes (`raw`, a CSV, JSON or Parquet book by the
    extension of `path`, which names its source: a request's body), the `after` side with
    the rulebook overlay `overlay` (its bytes and its name) when given."""
    from tiergate.rulebook.overlay import apply_overlay, parse_overlay

    base = workspace.engine()
    if overlay is None:
        return _compared(raw, path, before, after, (base, base), None)
    given, name = overlay
    loaded, text = parse_overlay(given, name)
    second = workspace.engine(rulebook=apply_overlay(base.rulebook, loaded, text, name))
    record = overlay_record(loaded, Path(name), text)
    return _compared(raw, path, before, after, (base, second), record)


def _compared(
    raw: bytes,
    path: Path,
    before: Side,
    after: Side,
    engines: tuple[Engine, Engine],
    overlay: dict[str, str] | None,
) -> Impact:
    """The book of `raw` compared by the row path."""
    from tiergate.inputs import parse_book

    return compare(
        parse_book(raw, path),
        before,
        after,
        engines,
        source=str(path),
        input_hash=hashlib.sha256(raw).hexdigest(),
        overlay=overlay,
    )


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
