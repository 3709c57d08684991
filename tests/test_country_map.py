"""The country map (`tiergate.country_map.tiers`) against `check`.

A map that shows a destination less strictly than a check of a real item would mislead an
analyst, so the map's tier for an item class must be at least as strict as the tier `check`
gives every catalog chip of that class, in every country, on every change date tested.
"""

from __future__ import annotations

from datetime import date

import pytest

import tiergate
from tiergate.country_map import tiers
from tiergate.model import TIER_SEVERITY, Line
from tiergate.rulebook import Tier, View

# The day before and the day of each advanced-computing change, and dates inside each period.
DATES = [
    date(2023, 11, 17),
    date(2024, 6, 1),
    date(2025, 5, 15),
    date(2026, 1, 14),
    date(2026, 1, 15),
    date(2026, 2, 3),
    date(2026, 11, 30),
]


@pytest.mark.parametrize("view", [View.ENFORCED, View.WRITTEN])
@pytest.mark.parametrize("on", DATES, ids=[d.isoformat() for d in DATES])
def test_map_is_never_less_strict_than_check(on: date, view: View) -> None:
    engine = tiergate.default_engine()
    mapped = {row.country: row.tier for row in tiers(engine, on, view, "3A090.a")}
    chips = [
        chip
        for chip in engine.catalog.chips.values()
        if chip.kind == "chip"
        and engine.classify(on, item=chip.name).scope in ("3A090.a", "3A090.a:non-datacenter")
    ]
    assert len(chips) >= 10
    lines = [
        Line(line_id=f"{chip.id}/{code}", destination=code, quantity=1, item=chip.name)
        for chip in chips
        for code in sorted(engine.countries.codes)
    ]
    report = engine.check(lines, as_of=on, view=view)
    looser = []
    for result in report.lines:
        code = result.destination
        assert code is not None
        shown = mapped[code]
        if result.tier is None:
            continue
        if shown is None or TIER_SEVERITY[Tier(shown)] < TIER_SEVERITY[result.tier]:
            looser.append((result.line_id, result.tier.value, shown))
    assert looser == []


def test_china_after_the_h200_rule_is_prohibited_on_the_map() -> None:
    # 91 FR 1684 makes the answer depend on the chip (case-by-case inside the box, denial
    # above it): a map for the whole class shows the stricter tier and says why.
    engine = tiergate.default_engine()
    for view in (View.ENFORCED, View.WRITTEN):
        rows = {row.country: row for row in tiers(engine, date(2026, 2, 1), view, "3A090.a")}
        for code in ("CN", "HK", "MO"):
            assert rows[code].tier == "prohibited", (view, code)
            note = rows[code].note
            assert note is not None
            assert "h200.export-prc-macau" in note
