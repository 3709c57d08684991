"""The models of the place files: countries.yaml (names, territories, regions),
country_groups.yaml (groups and their dated members) and destination_sets.yaml."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from tiergate.rulebook.base import Cited, Strict

# --- countries.yaml ----------------------------------------------------------------------


class CountryAlias(Strict):
    name: str
    code: str


class TreatedAs(Cited):
    """A territory the rules treat as another country (Hong Kong as China)."""

    code: str
    treated_as: str


class Region(Strict):
    """A region inside a country that carries its own embargo (Crimea, DNR, LNR)."""

    id: str
    country: str
    names: list[str]
    description: str


class AmbiguousName(Strict):
    """A name that means more than one country: refused, with the choices, never guessed."""

    name: str
    choices: list[str]
    why: str


class CountriesFile(Strict):
    aliases: list[CountryAlias]
    ambiguous: list[AmbiguousName]
    treated_as: list[TreatedAs]
    regions: list[Region]


# --- country_groups.yaml -----------------------------------------------------------------


class Membership(Strict):
    """A country's membership of a group; the interval defaults to the group's baseline."""

    country: str
    effective_from: date | None = None
    effective_to: date | None = None
    citation: str | None = None
    uncertain: bool = False
    uncertain_note: str | None = None


class CountryGroup(Strict):
    id: str
    label: str
    citation: str
    description: str
    members: list[Membership]


class CountryGroupsFile(Strict):
    baseline_from: date
    baseline_note: str
    groups: list[CountryGroup]


# --- destination_sets.yaml ---------------------------------------------------------------


class SetTerm(Strict):
    """One term of a destination set: a group, a single country, or another set."""

    group: str | None = None
    country: str | None = None
    set: str | None = None
    all_countries: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> SetTerm:
        given = [self.group, self.country, self.set, True if self.all_countries else None]
        if sum(v is not None for v in given) != 1:
            raise ValueError("a set term names exactly one of group, country, set, all_countries")
        return self


class DestinationSet(Strict):
    id: str
    description: str
    citation: str
    any_of: list[SetTerm]
    none_of: list[SetTerm] = Field(default=[])


class DestinationSetsFile(Strict):
    sets: list[DestinationSet]
