"""Country names and codes: what users type, mapped to ISO 3166-1 alpha-2.

Resolution order: an alpha-2 or alpha-3 code (pycountry), a region with its own embargo
(Crimea, DNR, LNR), the aliases in `data/countries.yaml`, the ISO 3166 names (pycountry), then
countrynames' exact multilingual table. No fuzzy matching: a wrong country is worse than an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

import pycountry

from tiergate.rulebook.parse import bundled
from tiergate.rulebook.places import CountriesFile

# Kosovo has no ISO 3166-1 code; XK is the user-assigned code the EU and others use.
EXTRA_CODES = {"XK": "Kosovo"}

_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).casefold()


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved destination: the code the rules use, what the user wrote, and why they differ."""

    code: str
    given_code: str
    region: str | None = None
    note: str | None = None
    citation: str | None = None

    @property
    def as_written(self) -> str:
        """The place as a document names it: the code the user gave (HK, not the CN the rules
        treat it as), qualified by its region (UA:crimea is not UA). A licence is matched on
        this, never on the code the rules use."""
        return self.given_code if self.region is None else f"{self.given_code}:{self.region}"


class CountryResolver:
    """Maps names and codes to `Place`s; results are cached per distinct input text."""

    def __init__(self, countries: CountriesFile) -> None:
        """`countries`: a rulebook's `countries.yaml`."""
        self._aliases = {_key(a.name): a.code for a in countries.aliases}
        self._regions = {
            _key(name): (region.id, region.country)
            for region in countries.regions
            for name in region.names
        }
        self._treated = countries.treated_as
        self._ambiguous = {_key(a.name): a for a in countries.ambiguous}
        self._codes = {c.alpha_2 for c in pycountry.countries} | set(EXTRA_CODES)
        self._alpha3 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
        # The ISO 3166 names ("Germany", "Hong Kong", "Korea, Republic of"), so that common
        # names do not wait for countrynames' table.
        self._iso_names = {
            _key(name): c.alpha_2
            for c in pycountry.countries
            for name in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None))
            if name
        }
        # countrynames builds its name table (0.7 s) on the first name that is not a code, one
        # of the rulebook's aliases or an ISO name: a command that never needs it never pays.
        self._cache: dict[str, Place | None] = {}

    @property
    def codes(self) -> frozenset[str]:
        """Every code the resolver can return."""
        return frozenset(self._codes)

    def name(self, code: str) -> str:
        """A display name for a code."""
        if code in EXTRA_CODES:
            return EXTRA_CODES[code]
        country = pycountry.countries.get(alpha_2=code)
        if country is None:
            return code
        return str(getattr(country, "common_name", None) or country.name)

    def ambiguity(self, text: str) -> str | None:
        """Why `text` cannot be resolved to one country, when it names several."""
        entry = self._ambiguous.get(_key(text))
        if entry is None:
            return None
        return f"could be {' or '.join(entry.choices)}: {entry.why}"

    def resolve(self, text: str, on: date) -> Place | None:
        """The place `text` names on `on`, or None when it names no known country."""
        if text not in self._cache:
            self._cache[text] = self._resolve(text)
        place = self._cache[text]
        if place is None or place.region is not None:
            return place
        for rule in self._treated:
            if rule.code == place.code and rule.in_force(on):
                return Place(
                    rule.treated_as,
                    place.code,
                    None,
                    f"{self.name(place.code)} ({place.code}) is treated as "
                    f"{self.name(rule.treated_as)} ({rule.treated_as}) since {rule.effective_from}",
                    rule.citation,
                )
        return place

    def _resolve(self, text: str) -> Place | None:
        key = _key(text)
        if not key or key in self._ambiguous:
            return None
        region = self._regions.get(key)
        if region is not None:
            region_id, country = region
            return Place(
                country, country, region_id, f"`{text}` is the {region_id} region of {country}"
            )
        upper = key.upper()
        code: str | None = None
        if len(upper) == 2 and upper in self._codes:
            code = upper
        elif len(upper) == 3 and upper in self._alpha3:
            code = self._alpha3[upper]
        else:
            code = self._aliases.get(key) or self._iso_names.get(key)
            if code is None:
                # Imported here: it and its transliteration tables take 0.2 s to import, and
                # its name table 0.7 s to build on first use.
                import countrynames

                found = countrynames.to_code(text)
                if found is not None and found in self._codes:
                    code = found
        if code is None:
            return None
        return Place(code, code)


@cache
def default_resolver() -> CountryResolver:
    """The resolver of the bundled rulebook, one per process: the default engine and the
    screener read country names the same way."""
    return CountryResolver(bundled(CountriesFile, "countries.yaml"))
