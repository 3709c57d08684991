"""Words and bounds every door shares, kept free of heavy imports so the CLI can declare its
options (`--view`, `--quantity`) without loading the rulebook and pydantic."""

from __future__ import annotations

from enum import StrEnum


class View(StrEnum):
    """Which state of the law a determination describes."""

    ENFORCED = "enforced"  # what BIS enforces, applying announced non-enforcement
    WRITTEN = "written"  # the regulation text as in force


# The most one line (or licence) may hold: quantities stay exact in every number type tiergate
# and its databases use (a 32-bit integer column, a float's 53-bit mantissa once multiplied by
# a TPP), and money fits the ledger's NUMERIC(15, 2).
MAX_QUANTITY = 1_000_000_000
# The longest party name the ledger stores (and the screener reads).
MAX_NAME_LENGTH = 300

# A value as an input file gives it, before normalisation.
Raw = str | int | float | bool | None
