"""How the ledger keeps numbers: US dollars and TPP sums as exact decimals to the cent."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")


def exact(value: float | int | str | Decimal) -> Decimal:
    """A number as the ledger keeps US dollars and TPP sums: an exact decimal to two places.
    A float goes through its shortest repr, so a product such as 4,988.8 x 3 =
    14,966.400000000001 is 14,966.40; text and ints (debits recorded as JSON) are exact."""
    if not isinstance(value, float):
        return Decimal(value).quantize(CENT)
    text = repr(value)
    found = _FLOATS.get(text)
    if found is None:
        if len(_FLOATS) >= _FLOATS_KEPT:
            _FLOATS.clear()
        found = _FLOATS[text] = Decimal(text).quantize(CENT)
    return found


# Floats made exact, by their repr (a big commit's lines repeat their totals): a decimal is
# immutable, so one is shared by every line that gives its float.
_FLOATS: dict[str, Decimal] = {}
_FLOATS_KEPT = 100_000
