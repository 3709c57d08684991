"""Licences a company holds, as the engine applies them.

A licence covers a line when it is valid on the line's date, names the line's ECCN (or a
prefix of it) or its control scope, the line's destination as written (a licence for Hong Kong
does not cover mainland China, nor one for China Hong Kong), and (when it names parties) the
line's consignee, and has enough quantity left (and, when it authorizes a value, enough value
left for the line's value, which must then be given). A covered line is `LICENSED`: the licence
replaces the EAR licence requirements that matched the line, never a list hit (SDN, DPL,
Entity List) or an advisory. Within one check, quantity is drawn down line by line in date
order; the ledger records what checked lines reserve and committed lines use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tiergate.normalise import name_key


@dataclass(frozen=True, slots=True)
class LicenceGrant:
    """A licence as the engine sees it, with the quantity left before this check."""

    number: str
    holder: str
    items: tuple[str, ...]  # ECCNs, ECCN prefixes (3A090, 4A090.a) or scopes (3A090.a)
    # ISO 3166-1 alpha-2 codes as the licence names them (`Place.as_written`): HK is not CN
    # though the rules treat it as China; a region is `UA:crimea`.
    destinations: tuple[str, ...]
    valid_from: date
    valid_to: date
    quantity_left: int
    parties: tuple[str, ...] = ()  # consignee names; empty: any consignee
    conditions: str | None = None
    value_left: float | None = None  # US dollars left; None: the licence authorizes no value

    def covers(
        self,
        on: date,
        eccn: str | None,
        scope: str | None,
        destination: str | None,
        consignee: str | None,
    ) -> bool:
        """True when this licence reaches the line (quantity aside)."""
        if not (self.valid_from <= on <= self.valid_to):
            return False
        if destination is None or destination not in self.destinations:
            return False
        # Names compare as allowances count them (`name_key`): a consignee that shares an
        # allowance under one spelling reaches its licence under the same spelling.
        if self.parties and (
            consignee is None
            or name_key(consignee) not in {name_key(party) for party in self.parties}
        ):
            return False
        names = [value for value in (eccn, scope) if value]
        return any(
            name == item or name.startswith(item + ".") or name.startswith(item + " ")
            for name in names
            for item in self.items
        )


@dataclass(frozen=True, slots=True)
class Draw:
    """What a line took from a licence: the balances before and after it."""

    grant: LicenceGrant
    quantity_before: int
    quantity_after: int
    value_before: float | None = None
    value_after: float | None = None


@dataclass
class LicenceBook:
    """The licences in force for a check, with their balances as lines draw on them."""

    grants: list[LicenceGrant]
    left: dict[str, int] = field(default_factory=dict)
    # Value left in whole cents: exact, so US$0.10 and US$0.20 fit a licence's US$0.30.
    cents_left: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.left = {grant.number: grant.quantity_left for grant in self.grants}
        self.cents_left = {
            grant.number: _cents(grant.value_left)
            for grant in self.grants
            if grant.value_left is not None
        }

    def draw(
        self,
        on: date,
        eccn: str | None,
        scope: str | None,
        destination: str | None,
        consignee: str | None,
        quantity: int,
        value: float | None = None,
    ) -> Draw | list[str]:
        """Take `quantity` (and `value`) from the first licence that covers the line and has
        them left. When none does, returns the numbers of the licences that cover the line but
        authorize a value the line does not give (so the user can be told to give it)."""
        wants_value = []
        for grant in self.grants:
            before = self.left[grant.number]
            if before < quantity or not grant.covers(on, eccn, scope, destination, consignee):
                continue
            cents_before = self.cents_left.get(grant.number)
            cents_after = None
            if cents_before is not None:
                if value is None:
                    wants_value.append(grant.number)
                    continue
                cents_after = cents_before - _cents(value)
                if cents_after < 0:
                    continue
                self.cents_left[grant.number] = cents_after
            self.left[grant.number] = before - quantity
            return Draw(
                grant,
                before,
                before - quantity,
                None if cents_before is None else cents_before / 100,
                None if cents_after is None else cents_after / 100,
            )
        return wants_value

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": dict(self.left),
            "value_left": {number: cents / 100 for number, cents in self.cents_left.items()},
        }


def _cents(dollars: float) -> int:
    """US dollars in whole cents (values are kept to the cent)."""
    return round(dollars * 100)
