"""What every rulebook model shares: the strict base, dated and cited facts, and the
enumerations the files and the engine speak in (tiers, review policies, item types,
transactions)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Tier(StrEnum):
    """A destination's tier for an item class on a date (brief section 1)."""

    UNRESTRICTED = "unrestricted"
    RESTRICTED = "restricted"
    PROHIBITED = "prohibited"


class ReviewPolicy(StrEnum):
    """How BIS reviews a licence application."""

    APPROVAL = "approval"
    CASE_BY_CASE = "case_by_case"
    DENIAL = "denial"


class ItemType(StrEnum):
    """What a shipment line carries."""

    CHIP = "chip"
    BOARD = "board"
    SYSTEM = "system"
    HBM = "hbm"
    TECHNOLOGY = "technology"
    SOFTWARE = "software"
    MODEL_WEIGHTS = "model_weights"


class Transaction(StrEnum):
    """The kind of transfer (15 CFR 734.13-734.16)."""

    EXPORT = "export"
    REEXPORT = "reexport"
    IN_COUNTRY_TRANSFER = "in_country_transfer"
    DEEMED_EXPORT = "deemed_export"


class Strict(BaseModel):
    """Base for every rulebook model: unknown keys are errors, values are immutable.

    Models in other modules write a list default as `Field(default=[...])`: pydantic copies
    it per instance either way, but ruff cannot see across modules that they are models."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Dated(Strict):
    """A fact that holds from `effective_from` to `effective_to`, both inclusive."""

    effective_from: date
    effective_to: date | None = None

    @model_validator(mode="after")
    def _interval_ordered(self) -> Dated:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        return self

    def in_force(self, on: date) -> bool:
        """True when the fact holds on `on`."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class Cited(Dated):
    """A dated fact with its source, meaning, and an uncertainty flag where the brief has one."""

    id: str
    citation: Annotated[str, Field(min_length=3)]
    description: Annotated[str, Field(min_length=3)]
    uncertain: bool = False
    uncertain_note: str | None = None

    @model_validator(mode="after")
    def _uncertain_explained(self) -> Cited:
        if self.uncertain and not self.uncertain_note:
            raise ValueError(f"`{self.id}` is flagged uncertain but has no uncertain_note")
        return self
