"""Typed keys and statuses that pass between the engine, the ledger and the CLI.

Each key is frozen (it is its own dictionary key) and reads and writes the very text the
ledger stores today (`parse` / `str`), so no stored row changes; text that is not such a key
is refused with a `ValueError` that quotes it. Each status is a `StrEnum` whose values are the
words stored today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = [
    "HoldSignature",
    "HoldStatus",
    "HolderKey",
    "LicenceStatus",
    "LicenceUseState",
    "Period",
    "Role",
    "SuppressionStatus",
]

_YEAR = re.compile(r"\d{4}")


class LicenceStatus(StrEnum):
    """A recorded licence: it covers lines while active; revoked, it covers nothing more."""

    ACTIVE = "active"
    REVOKED = "revoked"


class LicenceUseState(StrEnum):
    """What a line holds of a licence: reserved by a check, used by a commit, released when
    the line is cancelled or checked again without the licence."""

    RESERVED = "reserved"
    USED = "used"
    RELEASED = "released"


class HoldStatus(StrEnum):
    """A held line: open until a named reviewer releases or rejects it."""

    OPEN = "open"
    RELEASED = "released"
    REJECTED = "rejected"


class SuppressionStatus(StrEnum):
    """A reviewed false positive: active until the list changes the entry, then lapsed."""

    ACTIVE = "active"
    LAPSED = "lapsed"


class Role(StrEnum):
    """What an API key of the HTTP service may do, each role all that the one before may:
    viewers read; analysts also check and screen; officers also commit, decide holds and
    add licences; admins also manage keys."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    OFFICER = "officer"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class HolderKey:
    """Who an allowance is counted for: a consignee (its `name_key` and country) for the LPP
    allowance, or a country alone (`name` None) for a Tier 2 country allocation. Stored as
    `name|CC` or `CC`; keys sort as their stored text does, so listings keep their order."""

    country: str
    name: str | None = None

    def __post_init__(self) -> None:
        # A consignee's country is empty when the line gives none (the line then takes from
        # no allowance); a country holder is its country.
        if (
            "|" in self.country
            or self.country != self.country.strip()
            or (self.name is None and not self.country)
        ):
            raise ValueError(f"`{self.country}` is not a country code")
        if self.name is not None and "|" in self.name:
            raise ValueError(f"`{self.name}` is not a name key")

    @classmethod
    def consignee(cls, name: str, country: str) -> HolderKey:
        """A consignee's key, its name as allowances count it (`name_key`)."""
        from tiergate.normalise import name_key  # keys stay light: the CLI imports them

        return cls(country, name_key(name))

    @classmethod
    def parse(cls, text: str) -> HolderKey:
        """The key stored as `text` (`name|CC` or `CC`)."""
        name, bar, country = text.rpartition("|")
        try:
            return cls(country, name if bar else None)
        except ValueError as exc:
            raise ValueError(
                f"allowance holder `{text}` is neither `name|CC` (a consignee) nor `CC` (a "
                f"country): {exc}"
            ) from None

    def __str__(self) -> str:
        return self.country if self.name is None else f"{self.name}|{self.country}"

    def __lt__(self, other: HolderKey) -> bool:
        return str(self) < str(other)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """The span an allowance counts over: a calendar year (stored `2025`) or the dates a
    country allocation runs between (stored `2025-01-13/2027-12-31`). Periods sort by start,
    then end."""

    start: date
    end: date
    calendar_year: bool = False  # stored as the year alone

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"allowance period ends ({self.end}) before it starts ({self.start})")
        if self.calendar_year and (self.start, self.end) != (
            date(self.start.year, 1, 1),
            date(self.start.year, 12, 31),
        ):
            raise ValueError(f"{self.start}/{self.end} is not one calendar year")

    @classmethod
    def year(cls, year: int) -> Period:
        """Calendar year `year`."""
        return cls(date(year, 1, 1), date(year, 12, 31), calendar_year=True)

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period stored as `text`."""
        if _YEAR.fullmatch(text):
            return cls.year(int(text))
        first, slash, last = text.partition("/")
        try:
            if not slash:
                raise ValueError("no `/` between two dates")
            return cls(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError as exc:
            raise ValueError(
                f"allowance period `{text}` is neither a year (2025) nor two dates "
                f"(2025-01-13/2027-12-31): {exc}"
            ) from None

    def includes(self, year: int) -> bool:
        """True when some day of calendar year `year` is in the period."""
        return self.start.year <= year <= self.end.year

    def __str__(self) -> str:
        if self.calendar_year:
            return str(self.start.year)
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True, slots=True, order=True)
class HoldSignature:
    """The rules that held a line, sorted and distinct (stored joined by commas): a person's
    decision on a hold covers the line only while the same rules hold it."""

    rules: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("a hold signature names at least one rule")
        if any(not rule or "," in rule or rule != rule.strip() for rule in self.rules):
            raise ValueError(f"hold signature rules {list(self.rules)} are not rule ids")
        if list(self.rules) != sorted(set(self.rules)):
            raise ValueError(f"hold signature rules {list(self.rules)} are not sorted and distinct")

    @classmethod
    def of(cls, rules: Iterable[str]) -> HoldSignature:
        """The signature of the rules that held a line, in any order, repeats allowed."""
        return cls(tuple(sorted(set(rules))))

    @classmethod
    def parse(cls, text: str) -> HoldSignature:
        """The signature stored as `text` (`rule,rule`)."""
        try:
            return cls(tuple(text.split(",")))
        except ValueError as exc:
            raise ValueError(
                f"hold signature `{text}` is not rule ids joined by commas: {exc}"
            ) from None

    def __str__(self) -> str:
        return ",".join(self.rules)
