"""Stage 3, destination and embargo: where the line goes and who receives it, resolved to
the places the rules use, and the destination rules (embargoes first among them) that reach
the item there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from tiergate.classify import Classification
from tiergate.compiled import CompiledRule, CompiledRules
from tiergate.countries import CountryResolver, Place
from tiergate.engine.memo import Memo
from tiergate.model import Reason
from tiergate.normalise import text
from tiergate.rulebook import Transaction
from tiergate.terms import Raw


class Match(NamedTuple):
    """A rule that reaches the line, through which place and in which role."""

    rule: CompiledRule
    place: str
    role: str


class PlaceFinder:
    """Resolves the places a line names, remembering each answer per epoch (the country
    names a rulebook treats as another country change only between epochs)."""

    def __init__(self, countries: CountryResolver, epoch_of: Callable[[date], int]) -> None:
        self.countries = countries
        self.epoch_of = epoch_of
        self.memo: Memo[tuple[Raw, str, int], tuple[Place | None, str | None]] = Memo()

    def find(self, value: Raw, column: str, on: date, errors: list[str]) -> Place | None:
        """The place `value` names on `on`; a name tiergate cannot resolve adds an error."""
        if value is None:
            return None
        key = (value, column, self.epoch_of(on))
        found = self.memo.get(key)
        if found is None:
            found = self.memo.put(key, self._resolve(value, column, on))
        if found[1] is not None:
            errors.append(found[1])
        return found[0]

    def _resolve(self, value: Raw, column: str, on: date) -> tuple[Place | None, str | None]:
        name = text(value)
        place = None if name is None else self.countries.resolve(name, on)
        if name is None or place is not None:
            return place, None
        ambiguity = self.countries.ambiguity(name)
        return None, (
            f"`{column}` value `{name}` is ambiguous: it {ambiguity}; give the ISO code"
            if ambiguity
            else f"`{column}` value `{name}` is not a country tiergate knows: expected an "
            "ISO 3166 code (e.g. KR) or a country name (e.g. Republic of Korea)"
        )


@dataclass(frozen=True, slots=True)
class Receivers:
    """The destination and the countries of the consignee and end user, resolved."""

    destination: Place | None
    consignee: Place | None
    end_user: Place | None


def receivers(
    finder: PlaceFinder,
    destination: Raw,
    consignee_country: Raw,
    end_user_country: Raw,
    on: date,
    errors: list[str],
) -> Receivers:
    """Resolve the destination (required) and the receiving parties' countries."""
    place = finder.find(destination, "destination", on, errors)
    if text(destination) is None:
        errors.append("`destination` is missing: expected a country name or ISO code")
    return Receivers(
        place,
        finder.find(consignee_country, "consignee_country", on, errors),
        finder.find(end_user_country, "end_user_country", on, errors),
    )


def places_reached(
    found: Receivers, treated_as_citation: str
) -> tuple[tuple[tuple[Place, str], ...], tuple[Reason, ...]]:
    """Every distinct place the item reaches, with its role (the destination first), and the
    reason a destination the rules treat as another country gives."""
    places: list[tuple[Place, str]] = []
    reasons: list[Reason] = []
    destination = found.destination
    if destination is not None:
        places.append((destination, "destination"))
        if destination.note:
            reasons.append(
                Reason(
                    rule="country.treated-as",
                    message=destination.note,
                    citation=destination.citation or treated_as_citation,
                )
            )
    for place, role in ((found.consignee, "consignee"), (found.end_user, "end user")):
        if place is not None and all(
            place.code != p.code or place.region != p.region for p, _ in places
        ):
            places.append((place, role))
    return tuple(places), tuple(reasons)


def destination_matches(
    compiled: CompiledRules,
    c: Classification,
    transaction: Transaction,
    places: tuple[tuple[Place, str], ...],
    known_hqs: tuple[str, ...],
) -> list[Match]:
    """The destination rules that reach the item at each place (only embargoes reach an item
    that could not be classified)."""
    scope = c.scope
    classified = c.item_class is not None
    matched = []
    for place, role in places:
        # Goods exported to one country for a party in another are reexported there.
        onward = (
            Transaction.REEXPORT
            if role != "destination" and transaction is Transaction.EXPORT
            else transaction
        )
        for cr in compiled.destination_rules.get((scope, place.code), ()):
            rule = cr.rule
            if rule.kind != "embargo" and not classified:
                continue
            if rule.regions is not None and place.region not in rule.regions:
                continue
            if not cr.fits_item(scope, c.item_type, onward) or not cr.fits_parties(known_hqs):
                continue
            matched.append(Match(cr, place.code, role))
    return matched
