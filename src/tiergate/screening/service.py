"""Screening parties against the list edition in use: the library entry point.

`Screener().screen("Huawei Technologies", country="CN")` returns the party's status
(`clear`, `potential`, `match`) and every hit with its evidence. It uses the edition installed
with `tiergate data update`, else the bundled one (the 2026-07-31 Consolidated Screening List).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from tiergate.countries import CountryResolver
from tiergate.rulebook import default_rulebook
from tiergate.screening.lists import ListEdition
from tiergate.screening.matcher import Hit, Matcher, MatchSettings, default_settings
from tiergate.screening.store import ListStore


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """One party's screening result."""

    party_id: str | None
    name: str
    country: str | None
    status: str  # "clear", "potential", "match", or "indeterminate" (nothing to screen)
    hits: tuple[Hit, ...]
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.party_id,
            "name": self.name,
            "country": self.country,
            "status": self.status,
            "hits": [hit.as_dict() for hit in self.hits],
            "errors": list(self.errors),
        }


class Screener:
    """Screens names against one list edition; build it once, screen many parties."""

    def __init__(
        self, edition: ListEdition | None = None, settings: MatchSettings | None = None
    ) -> None:
        self.edition = edition or ListStore().current()
        self.matcher = Matcher(self.edition, settings or default_settings())
        self._countries = CountryResolver(default_rulebook())

    @classmethod
    @cache
    def shared(cls) -> Screener:
        """One screener over the edition in use (installed, else bundled) per process."""
        return cls()

    def editions(self) -> dict[str, dict[str, Any]]:
        """The edition in use, for every output that reports results."""
        e = self.edition
        return {
            "csl": {
                "name": e.name,
                "edition_date": e.edition_date.isoformat(),
                "source": e.source,
                "entries": len(e.entries),
                "counts": e.counts(),
                "content_hash": e.content_hash,
            }
        }

    def screen(
        self, name: str, country: str | None = None, party_id: str | None = None
    ) -> ScreenResult:
        """Screen one party; `country` is a name or ISO code (used as a qualifier)."""
        errors: list[str] = []
        code = None
        if country is not None and country.strip():
            place = self._countries.resolve(country, date.today())
            if place is None:
                errors.append(
                    f"`country` value `{country}` is not a country tiergate knows; screened "
                    "without it"
                )
            else:
                code = place.given_code
        if not name.strip():
            errors.append("the party has no name: nothing to screen")
            return ScreenResult(party_id, name, code, "indeterminate", (), tuple(errors))
        hits = tuple(self.matcher.screen(name, code))
        if any(hit.status == "match" for hit in hits):
            status = "match"
        elif hits:
            status = "potential"
        else:
            status = "clear"
        return ScreenResult(party_id, name, code, status, hits, tuple(errors))
