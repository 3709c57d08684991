"""Parsing raw input values: dates, numbers, flags and vocabularies.

Each parser returns the value, or raises `ValueProblem` with a message a person can act on:
the column, the offending input in backticks, and what was expected.
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

from tiergate.terms import MAX_QUANTITY, Raw

E = TypeVar("E", bound=StrEnum)

_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})


class ValueProblem(ValueError):
    """A raw value that cannot be used; the message is the error shown on the line."""


def blank(value: Raw) -> bool:
    """True for None and for strings with nothing but spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Raw) -> str | None:
    """A stripped string, or None when blank."""
    if blank(value):
        return None
    return str(value).strip()


_NAME_NOISE = re.compile(r"[^\w]+")


def name_key(name: str) -> str:
    """A party name as allowances count it: case-folded words joined by single spaces."""
    return _NAME_NOISE.sub(" ", name.casefold()).strip()


def parse_date(value: Raw, column: str) -> date | None:
    """An ISO 8601 date (YYYY-MM-DD), or None when blank."""
    if blank(value):
        return None
    raw = str(value).strip()
    try:
        return date.fromisoformat(raw[:10] if len(raw) > 10 and raw[10] in "T " else raw)
    except ValueError:
        raise ValueProblem(f"`{column}` value `{raw}` is not a date: expected YYYY-MM-DD") from None


# Money fits the ledger's NUMERIC(15, 2) (quantities: see `tiergate.terms.MAX_QUANTITY`).
MAX_MONEY = 1_000_000_000_000.0
# The longest shipment or line id the ledger stores (names: `tiergate.terms.MAX_NAME_LENGTH`).
MAX_ID_LENGTH = 200


def parse_number(value: Raw, column: str) -> float | None:
    """A finite, non-negative number (thousands separators allowed), or None when blank."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"`{column}` value `{value}` is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        raw = str(value).strip().replace(",", "").replace("_", "")
        try:
            number = float(raw)
        except ValueError:
            raise ValueProblem(
                f"`{column}` value `{str(value).strip()}` is not a number: expected e.g. 15832 "
                "or 1.2e26"
            ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueProblem(f"`{column}` value `{value}` must be a finite number >= 0")
    return number


def parse_quantity(value: Raw, column: str = "quantity") -> int | None:
    """A whole number of units from 1 to `MAX_QUANTITY`, or None when blank."""
    number = parse_number(value, column)
    if number is None:
        return None
    if number != int(number) or number < 1:
        raise ValueProblem(f"`{column}` value `{value}` must be a whole number of units >= 1")
    if number > MAX_QUANTITY:
        raise ValueProblem(
            f"`{column}` value `{value}` is more than {MAX_QUANTITY:,} units, the most one line "
            "or licence may hold"
        )
    return int(number)


def parse_money(value: Raw, column: str = "value") -> float | None:
    """US dollars from 0 to `MAX_MONEY`, rounded to the cent, or None when blank."""
    number = parse_number(value, column)
    if number is None:
        return None
    if number > MAX_MONEY:
        raise ValueProblem(
            f"`{column}` value `{value}` is more than US${MAX_MONEY:,.0f}, the most tiergate "
            "records for one line or licence"
        )
    return round(number, 2)


def check_stored_text(value: Raw, column: str, most: int) -> None:
    """Raise `ValueProblem` when a text the ledger stores is longer than `most` characters or
    holds a NUL character (which PostgreSQL cannot store): the same limits on every database."""
    if not isinstance(value, str):
        return
    if len(value) > most:
        raise ValueProblem(
            f"`{column}` is {len(value):,} characters long: the most tiergate keeps is {most:,}"
        )
    if "\x00" in value:
        raise ValueProblem(f"`{column}` holds a NUL character (byte 0): remove it")


def parse_flag(value: Raw, column: str) -> bool | None:
    """true/false, yes/no, 1/0 (any case), or None when blank."""
    if blank(value):
        return None
    if isinstance(value, bool):
        return value
    raw = str(value).strip().casefold()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueProblem(f"`{column}` value `{value}` is not true or false (yes/no, 1/0)")


def parse_choice(value: Raw, column: str, choices: type[E]) -> E | None:
    """One of an enumeration's values (case-insensitive, '-' or ' ' for '_'), or None."""
    if blank(value):
        return None
    raw = str(value).strip().casefold().replace("-", "_").replace(" ", "_")
    try:
        return choices(raw)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise ValueProblem(f"`{column}` value `{value}` is not one of: {allowed}") from None
