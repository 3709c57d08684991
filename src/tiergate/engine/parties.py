"""Stage 4, parties and headquarters: the countries the parties are headquartered in and the
rules that reach the item through them; and, with a screener, what the lists say of every
named party.

The engine never imports a screener: one is passed in (`PartyScreener`), and it is given the
party's country as the engine's own resolver reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from tiergate.classify import Classification
from tiergate.compiled import CompiledRules
from tiergate.countries import CountryResolver
from tiergate.engine.destination import Match, PlaceFinder
from tiergate.engine.findings import Finding, tier_of_policy
from tiergate.engine.memo import Memo
from tiergate.model import Line, Outcome, Party, Reason
from tiergate.normalise import text
from tiergate.rulebook import ReviewPolicy, Transaction
from tiergate.terms import Raw


@dataclass(frozen=True, slots=True)
class PartyHit:
    """What one hit on a party does to a line: its outcome, review policy and reason, and
    whether a suppression of it lapsed (the entry changed since a person reviewed it)."""

    outcome: Outcome
    review_policy: ReviewPolicy | None
    reason: Reason
    lapsed: bool = False


class PartyScreener(Protocol):
    """What the engine asks of a list screener (`tiergate.screening.service.Screener` is
    one): the hits on one named party, and the list edition it reads, for the report."""

    def party_hits(self, name: str, country: str | None) -> Sequence[PartyHit]:
        """The hits on `name` (most relevant first); `country` is an ISO code or None."""
        ...

    def edition_record(self) -> dict[str, str]:
        """The list edition in use: name, date, licence and content hash."""
        ...


def headquarters(
    finder: PlaceFinder,
    consignee_hq: Raw,
    end_user_hq: Raw,
    intermediate_consignees: tuple[Party, ...],
    on: date,
    errors: list[str],
) -> tuple[tuple[str, str], ...]:
    """The countries the consignee and end user are headquartered in, with the party's role;
    intermediate consignees' countries are checked (an unknown one is an error)."""
    found: list[tuple[str, str]] = []
    for value, role in ((consignee_hq, "consignee"), (end_user_hq, "end user")):
        hq = finder.find(value, f"{role.replace(' ', '_')}_hq_country", on, errors)
        if hq is not None:
            found.append((hq.code, role))
    for i, party in enumerate(intermediate_consignees):
        finder.find(party.country, f"intermediate_consignees[{i}].country", on, errors)
    return tuple(found)


def headquarters_matches(
    compiled: CompiledRules,
    c: Classification,
    transaction: Transaction,
    hqs: tuple[tuple[str, str], ...],
) -> list[Match]:
    """The rules that reach a classified item through a party's headquarters."""
    known_hqs = tuple(hq for hq, _ in hqs)
    matched = []
    for hq, role in hqs:
        for cr in compiled.headquarters_rules.get((c.scope, hq), ()):
            if cr.fits_item(c.scope, c.item_type, transaction) and cr.fits_parties(known_hqs):
                matched.append(Match(cr, hq, f"{role} headquarters"))
    return matched


class PartyScreening:
    """Screens the named parties of lines with a `PartyScreener`, remembering each party's
    findings (large books name the same customers again and again)."""

    def __init__(self, screener: PartyScreener, countries: CountryResolver) -> None:
        self.screener = screener
        self.countries = countries
        self.memo: Memo[tuple[str, str, Raw], tuple[Finding, ...]] = Memo()

    def line(self, line: Line, today: date) -> tuple[Finding, ...]:
        """Findings from screening every named party of `line`."""
        parties = [(line.consignee, "consignee"), (line.end_user, "end user")]
        parties += [(p, "intermediate consignee") for p in line.intermediate_consignees]
        found: list[Finding] = []
        for party, role in parties:
            name = text(party.name)
            if name is None:
                continue
            key = (name, role, party.country)
            findings = self.memo.get(key)
            if findings is None:
                findings = self.memo.put(key, self._party(name, role, party.country, today))
            found.extend(findings)
        return tuple(found)

    def _party(self, name: str, role: str, country: Raw, today: date) -> tuple[Finding, ...]:
        given = text(country)
        place = None if given is None else self.countries.resolve(given, today)
        findings = []
        for hit in self.screener.party_hits(name, place.given_code if place else None)[:5]:
            note = (
                " (a suppression of this hit lapsed: the entry changed since it was reviewed)"
                if hit.lapsed
                else ""
            )
            reason = hit.reason
            message = f"{role} `{name}`: {reason.message}{note}"
            findings.append(
                Finding(
                    hit.outcome,
                    tier_of_policy(hit.review_policy),
                    review_policy=hit.review_policy,
                    reasons=(Reason(reason.rule, message, reason.citation),),
                )
            )
        return tuple(findings)
