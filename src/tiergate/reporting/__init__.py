"""The determination report: one self-contained HTML file of a check, fit to file as a
record (`tiergate report`, and the web pages' download).

It holds the summary, two charts (outcomes by tier, H100-equivalents by destination), the
map of the book's destinations coloured by their most severe outcome, every line with its
reasons and citations, the data editions and rulebook used, and the input's SHA-256. It
loads nothing: the style, the charts and the map are in the file, and it has no script.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from tiergate import __version__
from tiergate.model import SEVERITY, Outcome, Report

HERE = Path(__file__).parent
WORLD = HERE.parent / "service" / "web" / "static" / "world.json"
# The outcomes in the order a reader weighs them: those that may ship first.
OUTCOMES = sorted(Outcome, key=SEVERITY.__getitem__)
TIERS = ("unrestricted", "restricted", "prohibited", "none")
# The destinations the H100-equivalents chart names; the rest are summed as one bar.
TOP_DESTINATIONS = 15


@dataclass(frozen=True, slots=True)
class Source:
    """What was checked: its name, the SHA-256 of its bytes, and when it was checked."""

    name: str
    sha256: str
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart: its label, its parts (name, amount) and their sum."""

    label: str
    parts: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        return sum(amount for _, amount in self.parts)


# What the charts read of a line: its tier (None: none), outcome, destination and
# H100-equivalents.
Charted = tuple[str | None, str, str | None, float | None]


def charted(report: Report) -> Iterator[Charted]:
    """What the charts read of each line of `report`."""
    for line in report.lines:
        tier = line.tier.value if line.tier else None
        yield tier, line.outcome.value, line.destination, line.h100_equivalents


def outcomes_by_tier(lines: Iterable[Charted]) -> list[Bar]:
    """For each tier the lines fall in, its lines by outcome."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for tier, outcome, _, _ in lines:
        counts[tier or "none"][outcome] += 1
    return [
        Bar(
            tier,
            tuple(
                (o.value, float(counts[tier][o.value])) for o in OUTCOMES if counts[tier][o.value]
            ),
        )
        for tier in TIERS
        if counts[tier]
    ]


def h100_by_destination(lines: Iterable[Charted]) -> list[Bar]:
    """The H100-equivalents of the lines by destination, largest first, each by outcome;
    past `TOP_DESTINATIONS`, the rest as one bar."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for _, outcome, destination, h100 in lines:
        if h100:
            sums[destination or "unknown"][outcome] += h100
    ordered = sorted(sums, key=lambda d: (-sum(sums[d].values()), d))
    bars = [_bar(d, sums[d]) for d in ordered[:TOP_DESTINATIONS]]
    rest: dict[str, float] = defaultdict(float)
    for destination in ordered[TOP_DESTINATIONS:]:
        for outcome, amount in sums[destination].items():
            rest[outcome] += amount
    if rest:
        bars.append(_bar(f"{len(ordered) - TOP_DESTINATIONS} others", rest))
    return bars


def _bar(label: str, by_outcome: Mapping[str, float]) -> Bar:
    return Bar(
        label, tuple((o.value, by_outcome[o.value]) for o in OUTCOMES if by_outcome.get(o.value))
    )


def destinations(report: Report) -> dict[str, str]:
    """Each destination's most severe outcome among the book's lines."""
    worst: dict[str, Outcome] = {}
    for line in report.lines:
        if line.destination is None:
            continue
        found = worst.get(line.destination)
        if found is None or SEVERITY[line.outcome] > SEVERITY[found]:
            worst[line.destination] = line.outcome
    return {code: outcome.value for code, outcome in worst.items()}


@lru_cache(maxsize=1)
def _world() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(WORLD.read_text(encoding="utf-8"))
    return found


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["figure"] = figure
    return environment


def figure(value: float | None) -> str:
    """A figure as a report shows it: whole above 100, else to two places."""
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def render(report: Report, source: Source) -> Iterator[str]:
    """The report's HTML, a piece at a time (a book of 100,000 lines makes a big file)."""
    template = _environment().get_template("report.html")
    return template.generate(
        report=report,
        source=source,
        version=__version__,
        outcomes=[o.value for o in OUTCOMES],
        by_tier=outcomes_by_tier(charted(report)),
        by_destination=h100_by_destination(charted(report)),
        destinations=destinations(report),
        world=_world(),
        lines=report.lines,
    )


def write(report: Report, source: Source, path: Path) -> None:
    """The report written to `path`, whole or not at all (written beside it, then moved)."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for piece in render(report, source):
            out.write(piece)
    partial.replace(path)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
