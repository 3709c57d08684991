"""The models of the requirement files: rules.yaml (licence requirements and the engine's
standing reasons), exceptions.yaml, advisories.yaml and allowances.yaml."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from tiergate.rulebook.base import Cited, ItemType, ReviewPolicy, Strict, Tier, Transaction
from tiergate.rulebook.items import Test
from tiergate.terms import View

# --- rules.yaml, exceptions.yaml, advisories.yaml ----------------------------------------


RuleKind = Literal["embargo", "destination", "headquarters", "end_use"]


class Rule(Cited):
    """A licence requirement: which items, which transactions, where, and the review policy."""

    kind: RuleKind
    views: list[View] = Field(default=[View.ENFORCED, View.WRITTEN])
    scopes: list[str] | None = None  # None: every item, controlled or not
    item_types: list[ItemType] | None = None
    # Full-match patterns of the ECCNs the rule names (a supplement's list, a paragraph's item
    # scope); None: every ECCN of its scopes. An item that may be either side of the list for
    # lack of a parameter makes the line INDETERMINATE.
    eccns: list[str] | None = None
    transactions: list[Transaction] | None = None
    destinations: str | None = None  # destination set id (embargo, destination)
    headquarters: str | None = None  # destination set id (headquarters)
    end_uses: list[str] | None = None
    end_use_destinations: str | None = None
    regions: list[str] | None = None  # region ids from countries.yaml
    item_conditions: Test | None = None
    # A destination set: the rule binds only when the line states the consignee's or end
    # user's headquarters and none of them is in this set (a review policy for such parties).
    headquarters_outside: str | None = None
    review_policy: ReviewPolicy
    tier: Tier
    exceptions: list[str] = Field(default=[])
    supersedes: list[str] = Field(default=[])
    allocation: str | None = None
    conditions: list[str] = Field(default=[])
    # The condition the exporter meets for an item whose release date tiergate does not know,
    # when `item_conditions` has `released_by` (a certification the rule asks for).
    release_condition: str | None = None
    message: str

    @model_validator(mode="after")
    def _release_condition(self) -> Rule:
        dated = self.item_conditions is not None and self.item_conditions.released_by is not None
        if dated != bool(self.release_condition):
            raise ValueError(
                "`release_condition` goes with, and only with, item conditions that have "
                "`released_by`"
            )
        return self

    @model_validator(mode="after")
    def _kind_fields(self) -> Rule:
        needs = {
            "embargo": ("destinations",),
            "destination": ("destinations",),
            "headquarters": ("headquarters",),
            "end_use": ("end_uses",),
        }[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"a rule of kind `{self.kind}` needs `{name}`")
        return self


class LicenceException(Cited):
    """A licence exception: where it may be used and the conditions the exporter must meet."""

    symbol: str
    title: str
    views: list[View] = Field(default=[View.ENFORCED, View.WRITTEN])
    scopes: list[str]
    item_types: list[ItemType] | None = None
    transactions: list[Transaction] | None = None
    destinations: str | None = None
    headquarters_in: str | None = None
    headquarters_not_in: str | None = None
    # True: the exception needs the parties' headquarters stated (it is available by where
    # they are headquartered, not by where they are).
    headquarters_required: bool = False
    # Full-match patterns of the ECCNs the exception names; None: every ECCN of its scopes.
    eccns: list[str] | None = None
    # Item parameters the exception requires (an unknown parameter: not available).
    item_conditions: Test | None = None
    requires_veu: list[str] | None = None
    allowance: str | None = None
    review_required: bool = False  # eligibility tiergate cannot check: HOLD for a person
    conditions: list[str] = Field(default=[])


class Advisory(Cited):
    """Guidance or letters that make a line HOLD for a person's review, not a legal verdict."""

    views: list[View] = Field(default=[View.ENFORCED, View.WRITTEN])
    scopes: list[str] | None = None
    item_types: list[ItemType] | None = None
    chips: list[str] | None = None
    item_any_of: list[Test] | None = None
    destinations: str | None = None
    regions: list[str] | None = None  # region ids from countries.yaml: only these regions
    # A destination set: the advisory also reaches lines whose consignee or end user is
    # headquartered there (or has its ultimate parent there), wherever the line goes.
    headquarters: str | None = None
    end_uses: list[str] | None = None
    message: str


class StandingReason(Strict):
    """A reason the engine gives that no single rule owns (an assumption it makes where a line
    is silent, a notice on how rules are enforced)."""

    rule: str
    message: Annotated[str, Field(min_length=3)]
    citation: Annotated[str, Field(min_length=3)]
    description: Annotated[str, Field(min_length=3)]


class Standing(Strict):
    """The reasons and citations the engine gives on every rulebook date."""

    non_enforcement: StandingReason = Field(
        description="Added, with the written-only rules that would bind, to a line checked in "
        "the enforced view."
    )
    assumed_datacenter: StandingReason = Field(
        description="Given when a line with parameters but no catalog item does not say "
        "whether the item is designed or marketed for datacenters."
    )
    assumed_unpublished: StandingReason = Field(
        description="Given when a technology, software or model-weights line does not say "
        "whether it is published."
    )
    licence_citation: Annotated[str, Field(min_length=3)] = Field(
        description="Cited by a line a licence the exporter holds covers or could cover."
    )
    no_licence_citation: Annotated[str, Field(min_length=3)] = Field(
        description="Cited by a line with no licence requirement (NLR)."
    )
    treated_as_citation: Annotated[str, Field(min_length=3)] = Field(
        description="Cited when a destination is treated as another country and the "
        "countries.yaml entry gives no citation of its own."
    )


class RulesFile(Strict):
    end_uses: dict[str, str]
    standing: Standing
    rules: list[Rule]


class ExceptionsFile(Strict):
    exceptions: list[LicenceException]


class AdvisoriesFile(Strict):
    advisories: list[Advisory]


# --- allowances.yaml ---------------------------------------------------------------------


class Allowance(Cited):
    """A quantity limit in TPP, per consignee per calendar year or per country per period."""

    kind: Literal["per_consignee_year", "per_country_period"]
    limit_tpp: float = Field(gt=0)
    period_start: date | None = None
    period_end: date | None = None
    limit_h100_equivalents: float | None = None
    # A per-country allocation: the reason given when a line would use it up (the review
    # policy the rule turns to), and the condition stated on a line it does not count
    # (technology and software carry no TPP).
    exceeded_message: str | None = None
    uncounted_condition: str | None = None

    @model_validator(mode="after")
    def _period(self) -> Allowance:
        # A per-country allowance is counted per period (the ledger stores `start/end`); a
        # per-consignee one per calendar year, so a period there would be ignored.
        start, end = self.period_start, self.period_end
        if self.kind == "per_country_period" and (start is None or end is None):
            raise ValueError(
                "a `per_country_period` allowance needs `period_start` and `period_end`"
            )
        if self.kind == "per_consignee_year" and (start is not None or end is not None):
            raise ValueError("a `per_consignee_year` allowance counts calendar years: no period")
        if start is not None and end is not None and start > end:
            raise ValueError("`period_start` is after `period_end`")
        allocation = self.kind == "per_country_period"
        if allocation != bool(self.exceeded_message) or allocation != bool(
            self.uncounted_condition
        ):
            raise ValueError(
                "`exceeded_message` and `uncounted_condition` go with, and only with, a "
                "`per_country_period` allowance"
            )
        return self


class AllowancesFile(Strict):
    allowances: list[Allowance]
