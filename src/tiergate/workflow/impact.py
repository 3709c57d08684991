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
class Change:
    """A line whose determination differs between the two sides."""

    row: int  # the line's place in the book, from 1
    before: LineResult
    after: LineResult
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

    def row_dict(self) -> dict[str, Any]:
        """One flat row (CSV): the line, then each compared field before and after."""
        found = self.as_dict()
        flat = {k: v for k, v in found.items() if k not in ("changed", "from", "to")}
        flat["changed"] = " ".join(self.changed)
        for side in ("from", "to"):
            for name, value in found[side].items():
                flat[f"{side}_{name}"] = "; ".join(value) if isinstance(value, list) else value
        return flat


def _qualified(line: LineResult) -> str:
    """The outcome with the licence exception (EXCEPTION, HOLD) or review policy it names."""
    qualifier = line.exception or (line.review_policy.value if line.review_policy else None)
    return f"{line.outcome.value}/{qualifier}" if qualifier else line.outcome.value


def _determination(line: LineResult) -> dict[str, Any]:
    return {
        "tier": line.tier.value if line.tier else None,
        "outcome": line.outcome.value,
        "exception": line.exception,
        "review_policy": line.review_policy.value if line.review_policy else None,
        "conditions": list(line.conditions),
        "rules": list(dict.fromkeys(r.rule for r in line.reasons)),
    }


def changes(before: Report, after: Report) -> Iterator[Change]:
    """The lines whose determination differs, in book order."""
    if len(before.lines) != len(after.lines):
        raise RuntimeError(
            f"the two checks gave {len(before.lines)} and {len(after.lines)} lines of one book"
        )
    for row, (old, new) in enumerate(zip(before.lines, after.lines, strict=True), start=1):
        changed = tuple(name for name in COMPARED if getattr(old, name) != getattr(new, name))
        if changed:
            yield Change(row, old, new, changed)


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


def _transitions(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """Each transition of outcome with its lines and H100-equivalents, most lines first."""
    counted: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for change in changes:
        key = (change.transition, change.before.outcome.value, change.after.outcome.value)
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


def diff(
    workspace: Workspace,
    path: Path,
    before: Side,
    after: Side,
    overlay: Path | None = None,
) -> Impact:
    """Compare the book at `path` between `before` and `after`, the `after` side with the
    rulebook overlay file `overlay` when given."""
    from tiergate.inputs import parse_book, read_input

    raw = read_input(path)
    lines = parse_book(raw, path)
    base = workspace.engine()
    second, record = base, None
    if overlay is not None:
        from tiergate.rulebook.overlay import apply_overlay, read_overlay

        loaded, text = read_overlay(overlay)
        second = workspace.engine(rulebook=apply_overlay(base.rulebook, loaded, text, str(overlay)))
        record = overlay_record(loaded, overlay, text)
    return compare(
        lines,
        before,
        after,
        (base, second),
        source=str(path),
        input_hash=hashlib.sha256(raw).hexdigest(),
        overlay=record,
    )
