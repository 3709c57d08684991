"""The country map: every destination's tier for an item on a date, and the rules in force.

Built by running each country through the same engine as `check` (a one-unit export with no
named parties), so the map can never disagree with a determination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tiergate.classify import scope_of_eccn
from tiergate.engine import Engine
from tiergate.errors import UsageError
from tiergate.model import Line, Outcome
from tiergate.rulebook import View


@dataclass(frozen=True, slots=True)
class TierRow:
    """One destination's standing for an item on a date."""

    country: str
    name: str
    tier: str | None
    outcome: str
    exception: str | None
    review_policy: str | None
    rules: tuple[str, ...]
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "name": self.name,
            "tier": self.tier,
            "outcome": self.outcome,
            "exception": self.exception,
            "review_policy": self.review_policy,
            "rules": list(self.rules),
            "note": self.note,
        }


def _is_eccn(item: str) -> bool:
    head = item.strip()[:5].upper()
    return (len(head) == 5 and head[0].isdigit() and head[1].isalpha() and head[2:].isdigit()) or (
        item.strip().upper() == "EAR99"
    )


def default_item(engine: Engine, on: date) -> str:
    """The advanced-computing IC class in force on `on`: 3A090.a, or 3A090 before 2023-11-17."""
    eccn_scopes = engine.compiled(on, View.WRITTEN).eccn_scopes
    for candidate in ("3A090.a", "3A090"):
        if scope_of_eccn(candidate, eccn_scopes, on)[1] is None:
            return candidate
    return "3A090.a"


def tiers(engine: Engine, on: date, view: View, item: str = "3A090.a") -> list[TierRow]:
    """Every country's tier for `item` (an ECCN such as 3A090.a, or a catalog name); an item
    tiergate cannot classify is a `UsageError`, not a map of indeterminate countries."""
    engine.check_range(on)
    as_eccn = _is_eccn(item)
    known = engine.classify(on, item=None if as_eccn else item, eccn=item if as_eccn else None)
    if known.errors:
        raise UsageError(known.errors[0])
    results = [
        engine.standing(
            Line(
                line_id=code,
                destination=code,
                quantity=1,
                item=None if as_eccn else item,
                eccn=item if as_eccn else None,
            ),
            on,
            view,
        )
        for code in sorted(engine.countries.codes)
    ]
    rows = []
    for result in results:
        code = result.line_id or ""
        rules = tuple(
            r.rule
            for r in result.reasons
            if not r.rule.startswith(("class.", "catalog.", "eccn.", "nlr", "assumption."))
        )
        note = None
        if result.outcome is Outcome.INDETERMINATE:
            note = "; ".join(result.errors)
        elif any(r.rule == "allowance.assumed" for r in result.reasons):
            note = "subject to an allowance counted per consignee or country"
        rows.append(
            TierRow(
                country=code,
                name=engine.countries.name(code),
                tier=result.tier.value if result.tier else None,
                outcome=result.outcome.value,
                exception=result.exception,
                review_policy=result.review_policy.value if result.review_policy else None,
                rules=rules,
                note=note,
            )
        )
    return rows
