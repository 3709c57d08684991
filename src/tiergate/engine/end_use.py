"""Stage 5, end use: the rules that reach the item because of what the end user will do with
it, where the end user is (the destination when no end user's country is given)."""

from __future__ import annotations

from tiergate.classify import Classification
from tiergate.compiled import CompiledRules
from tiergate.countries import Place
from tiergate.engine.destination import Match
from tiergate.rulebook import Transaction


def end_use_matches(
    compiled: CompiledRules,
    c: Classification,
    transaction: Transaction,
    end_use: str | None,
    end_use_place: Place | None,
) -> list[Match]:
    """The end-use rules that reach the item for `end_use` at `end_use_place`."""
    if end_use is None or end_use_place is None:
        return []
    matched = []
    for cr in compiled.end_use_rules:
        rule = cr.rule
        assert rule.end_uses is not None
        if (
            end_use in rule.end_uses
            and end_use_place.code in cr.places
            and cr.fits_item(c.scope, c.item_type, transaction)
        ):
            matched.append(Match(cr, end_use_place.code, "end use"))
    return matched
