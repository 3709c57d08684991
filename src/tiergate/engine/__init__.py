"""The determination engine: shipment lines in, outcomes with reasons out. Pure: no I/O.

One module per stage, in the brief's order of determination, each a few functions over
typed values: `normalise` -> `classify` -> `destination` (and embargo) -> `parties` (and
headquarters) -> `end_use` -> `item_destination` -> `exceptions` -> `allowances` ->
`licences` -> `advisories` -> `verdict`. `driver.Engine` runs them; `statics` runs stages
3 to 7 and 10 for a line's static part, once per distinct one; `memo` bounds what they
remember between lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiergate.engine.allowances import AllowanceState, holder_key
from tiergate.engine.driver import Engine
from tiergate.engine.findings import (
    Finding,
    HoldDecision,
    Pending,
    most_severe_tier,
    tier_of_policy,
)
from tiergate.engine.parties import PartyHit, PartyScreener
from tiergate.engine.verdict import summarise
from tiergate.rulebook import default_rulebook

if TYPE_CHECKING:
    LICENCE_CITATION: str
else:

    def __getattr__(name: str) -> str:
        """`LICENCE_CITATION`: the bundled rulebook's licence citation, read when first asked
        for (loading the rulebook on import would slow every command's start)."""
        if name == "LICENCE_CITATION":
            return default_rulebook().rules.standing.licence_citation
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LICENCE_CITATION",
    "AllowanceState",
    "Engine",
    "Finding",
    "HoldDecision",
    "PartyHit",
    "PartyScreener",
    "Pending",
    "holder_key",
    "most_severe_tier",
    "summarise",
    "tier_of_policy",
]
