"""Screening parties against the list edition in use: the library entry point.

`Screener().screen("Huawei Technologies", country="CN")` returns the party's status
(`clear`, `potential`, `match`) and every hit with its evidence. It uses the edition installed
with `tiergate data update`, else the bundled one (the 2026-07-31 Consolidated Screening List).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiergate.countries import default_resolver
from tiergate.home import tiergate_cache
from tiergate.keys import SuppressionStatus
from tiergate.screening.index import build, stored
from tiergate.screening.lists import ListEdition
from tiergate.screening.matcher import Hit, Matcher
from tiergate.screening.names import MatchSettings, default_settings
from tiergate.screening.store import ListStore
from tiergate.screening.suppressions import Suppression, latest, new_suppression
from tiergate.terms import MAX_NAME_LENGTH

if TYPE_CHECKING:
    from tiergate.engine.parties import PartyHit


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """One party's screening result."""

    party_id: str | None
    name: str
    country: str | None
    status: str  # "clear", "potential", "match", or "indeterminate" (nothing to screen)
    hits: tuple[Hit, ...]
    errors: tuple[str, ...] = ()
    suppressed: tuple[tuple[Hit, Suppression], ...] = ()
    lapsed: tuple[tuple[Hit, Suppression], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.party_id,
            "name": self.name,
            "country": self.country,
            "status": self.status,
            "hits": [{**hit.as_dict(), **_lapse_note(hit, self.lapsed)} for hit in self.hits],
            "suppressed": [
                {**hit.as_dict(), "suppression": suppression.as_dict()}
                for hit, suppression in self.suppressed
            ],
            "errors": list(self.errors),
        }


def _lapse_note(hit: Hit, lapsed: tuple[tuple[Hit, Suppression], ...]) -> dict[str, Any]:
    for lapsed_hit, suppression in lapsed:
        if lapsed_hit is hit:
            return {
                "suppression_lapsed": (
                    f"suppressed by {suppression.by} on {suppression.at[:10]}, but the entry "
                    "has changed since: review again"
                )
            }
    return {}


class Screener:
    """Screens names against one list edition; build it once, screen many parties."""

    def __init__(
        self,
        edition: ListEdition | None = None,
        settings: MatchSettings | None = None,
        suppressions: Iterable[Suppression] = (),
        home: Path | None = None,
    ) -> None:
        """`suppressions`: the reviewed false positives to apply, oldest first (from
        `Ledger.suppressions`). Without `edition`, the edition in use in the tiergate `home`
        (default: the settings'), whose index is kept in the cache for the next command."""
        settings = settings or default_settings()
        if edition is None:
            snapshot = ListStore(home).current_snapshot()
            index = stored(tiergate_cache() / "screening", snapshot, settings)
        else:
            index = build(edition, settings)
        self.edition = index.info
        self.matcher = Matcher(index, settings)
        # Country names read as the engine over the bundled rulebook reads them (one resolver).
        self._countries = default_resolver()
        self._suppressed = latest(suppressions)
        # Suppressions found lapsed while screening (the entry changed), by id: the caller
        # records them in the ledger (`Ledger.record_lapses`).
        self.lapsed: dict[int, Suppression] = {}

    def party_key(self, name: str) -> str:
        """How suppressions recognise a party: its analysed name, word order ignored."""
        key = self.matcher.analyser.analyse(name)
        return " ".join(sorted(key.strong))

    def suppression(
        self, name: str, country: str | None, entry_id: str, by: str, reason: str
    ) -> Suppression:
        """That party `name` is not `entry_id` as this screener's edition reads it (a reviewed
        false positive), to record with `Ledger.add_suppression`."""
        return new_suppression(
            self.edition,
            self.matcher.index.entry(entry_id),
            party=name,
            party_key=self.party_key(name),
            country=self._country_code(country, []),
            entry_id=entry_id,
            by=by,
            reason=reason,
        )

    def apply(self, suppression: Suppression) -> None:
        """Apply a suppression from now on (after recording it)."""
        self._suppressed[suppression.key] = suppression

    def _country_code(self, country: str | None, errors: list[str]) -> str | None:
        if country is None or not country.strip():
            return None
        place = self._countries.resolve(country, date.today())
        if place is None:
            errors.append(
                f"`country` value `{country}` is not a country tiergate knows; screened without it"
            )
            return None
        return place.given_code

    @classmethod
    def shared(cls, home: Path | None = None) -> Screener:
        """One screener per edition in use (installed, else bundled) in the tiergate `home`
        (default: the settings') in this process, without suppressions (they live in a
        ledger: pass `Ledger.suppressions()` to a new one). An edition installed since, or
        another home, gets its own."""
        store = ListStore(home)
        pointer = store.pointer.read_bytes() if store.pointer.is_file() else b""
        return _shared_screener(store.folder.parent, pointer)

    def editions(self) -> dict[str, dict[str, Any]]:
        """The edition in use, for every output that reports results."""
        e = self.edition
        return {
            "csl": {
                "name": e.name,
                "edition_date": e.edition_date.isoformat(),
                "source": e.source,
                "entries": e.entries,
                "counts": e.counts,
                "content_hash": e.content_hash,
            }
        }

    def edition_record(self) -> dict[str, str]:
        """The edition in use, as a report lists it among the data editions it used."""
        edition = self.edition
        return {
            "name": edition.name,
            "date": edition.edition_date.isoformat(),
            "licence": "public domain (US government work)",
            "content_hash": edition.content_hash,
        }

    def party_hits(self, name: str, country: str | None) -> list[PartyHit]:
        """What each hit on a shipment's party does to its line (`country`: the ISO code the
        engine resolved, or None); the engine's side of `tiergate.engine.PartyScreener`."""
        from tiergate.engine.parties import PartyHit
        from tiergate.screening.findings import hit_outcome

        result = self.screen_code(name, country, [])
        lapsed = {id(hit) for hit, _ in result.lapsed}
        hits = []
        for hit in result.hits:
            outcome, policy, reason = hit_outcome(hit, self.matcher.settings)
            hits.append(PartyHit(outcome, policy, reason, lapsed=id(hit) in lapsed))
        return hits

    def screen(
        self,
        name: str,
        country: str | None = None,
        party_id: str | None = None,
        read_error: str | None = None,
    ) -> ScreenResult:
        """Screen one party; `country` is a name or ISO code (used as a qualifier). A party
        whose row could not be read (`read_error`) is indeterminate, never clear."""
        errors: list[str] = []
        code = self._country_code(country, errors)
        return self.screen_code(name, code, errors, party_id, read_error)

    def screen_code(
        self,
        name: str,
        code: str | None,
        errors: list[str],
        party_id: str | None = None,
        read_error: str | None = None,
    ) -> ScreenResult:
        """Screen one party whose country is already resolved to an ISO code (or None);
        `errors`: what resolving it found."""
        if read_error is not None:
            errors.append(read_error)
            return ScreenResult(party_id, name, code, "indeterminate", (), tuple(errors))
        if not name.strip():
            errors.append("the party has no name: nothing to screen")
            return ScreenResult(party_id, name, code, "indeterminate", (), tuple(errors))
        if len(name) > MAX_NAME_LENGTH:
            errors.append(
                f"the party's name is {len(name):,} characters long: the most tiergate screens "
                f"is {MAX_NAME_LENGTH:,}"
            )
            return ScreenResult(
                party_id, name[:100] + "…", code, "indeterminate", (), tuple(errors)
            )
        found = self.matcher.screen(name, code)
        suppressed, lapsed, kept = [], [], []
        party_key = self.party_key(name) if self._suppressed else ""
        for hit in found:
            suppression = self._suppressed.get((party_key, code, hit.entry.entry_id))
            if suppression is None:
                kept.append(hit)
            elif suppression.entry_fingerprint == hit.entry.fingerprint():
                suppressed.append((hit, suppression))
            else:
                kept.append(hit)
                lapsed.append((hit, suppression))
                if suppression.id is not None and suppression.status is SuppressionStatus.ACTIVE:
                    self.lapsed[suppression.id] = suppression
        hits = tuple(kept)
        if any(hit.status == "match" for hit in hits):
            status = "match"
        elif hits:
            status = "potential"
        else:
            status = "clear"
        return ScreenResult(
            party_id, name, code, status, hits, tuple(errors), tuple(suppressed), tuple(lapsed)
        )


@lru_cache(maxsize=4)
def _shared_screener(home: Path, pointer: bytes) -> Screener:
    """The screener of the edition `pointer` (the bytes of `current.json`) names in `home`."""
    return Screener(home=home)
