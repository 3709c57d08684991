"""Licences a company holds, as the engine applies them.

A licence covers a line when it is valid on the line's date, names the line's ECCN (or a
prefix of it) or its control scope, the line's destination, and (when it names parties) the
line's consignee, and has enough quantity left. A covered line is `LICENSED`: the licence
replaces the EAR licence requirements that matched the line, never a list hit (SDN, DPL,
Entity List) or an advisory. Within one check, quantity is drawn down line by line in date
order; the ledger records what committed lines used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class LicenceGrant:
    """A licence as the engine sees it, with the quantity left before this check."""

    number: str
    holder: str
    items: tuple[str, ...]  # ECCNs, ECCN prefixes (3A090, 4A090.a) or scopes (3A090.a)
    destinations: tuple[str, ...]  # ISO 3166-1 alpha-2 codes
    valid_from: date
    valid_to: date
    quantity_left: int
    parties: tuple[str, ...] = ()  # consignee names; empty: any consignee
    conditions: str | None = None

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
        if self.parties and (
            consignee is None
            or consignee.casefold() not in {party.casefold() for party in self.parties}
        ):
            return False
        names = [value for value in (eccn, scope) if value]
        return any(
            name == item or name.startswith(item + ".") or name.startswith(item + " ")
            for name in names
            for item in self.items
        )


@dataclass
class LicenceBook:
    """The licences in force for a check, with their balances as lines draw on them."""

    grants: list[LicenceGrant]
    left: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.left = {grant.number: grant.quantity_left for grant in self.grants}

    def draw(
        self,
        on: date,
        eccn: str | None,
        scope: str | None,
        destination: str | None,
        consignee: str | None,
        quantity: int,
    ) -> tuple[LicenceGrant, int, int] | None:
        """Take `quantity` from the first licence that covers the line and has it left;
        returns the licence and its balance before and after."""
        for grant in self.grants:
            before = self.left[grant.number]
            if before >= quantity and grant.covers(on, eccn, scope, destination, consignee):
                self.left[grant.number] = before - quantity
                return grant, before, before - quantity
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"left": dict(self.left)}
