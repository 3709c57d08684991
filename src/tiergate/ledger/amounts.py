"""How the ledger keeps numbers: US dollars and TPP sums as exact decimals to the cent."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")


def exact(value: float | int | str | Decimal) -> Decimal:
    """A number as the ledger keeps US dollars and TPP sums: an exact decimal to two places.
    A float goes through its shortest repr, so a product such as 4,988.8 x 3 =
    14,966.400000000001 is 14,966.40; text and ints (debits recorded as JSON) are exact."""
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT)
