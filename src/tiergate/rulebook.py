"""The rulebook: dated, cited facts loaded strictly from the YAML files in `tiergate/data/`.

One concern per file (see `data/README.md`): countries, country groups, destination sets,
item classes, rules, licence exceptions, advisories, allowances and the chip catalog. Every
model forbids unknown keys, so a typo in a rulebook fails at load with the file, the path
inside it and what was expected, instead of silently meaning nothing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tiergate.errors import RulebookError
from tiergate.rulebook_files import RULEBOOK_FILES as RULEBOOK_FILES
from tiergate.rulebook_files import content_hash, rulebook_version
from tiergate.terms import View as View


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
    """Base for every rulebook model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


# --- rulebook.yaml -----------------------------------------------------------------------


class Edition(Strict):
    """One outside data edition the rulebook was derived from."""

    name: str
    date: date
    source: str
    licence: str


class RulebookMeta(Strict):
    version: str
    earliest_date: date
    description: str
    h100_tpp: float = Field(gt=0)
    h100_tpp_source: str
    editions: list[Edition]


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
    none_of: list[SetTerm] = []


class DestinationSetsFile(Strict):
    sets: list[DestinationSet]


# --- item_classes.yaml -------------------------------------------------------------------


class Test(Strict):
    """A conjunction of parameter thresholds; `_min` is >=, `_below` is <, `_above` is >."""

    tpp_min: float | None = None
    tpp_below: float | None = None
    pd_min: float | None = None
    pd_below: float | None = None
    interconnect_min: float | None = None
    tops_min: float | None = None
    dram_bandwidth_min: float | None = None
    dram_bandwidth_below: float | None = None
    memory_bandwidth_density_above: float | None = None
    memory_bandwidth_density_below: float | None = None
    training_operations_min: float | None = None
    weights_published: bool | None = None
    datacenter: bool | None = None
    released_by: date | None = None


class EccnMap(Strict):
    """The ECCN an item class takes for each kind of line."""

    chip: str
    board: str
    system: str
    hbm: str | None = None
    technology_chip: str
    technology_system: str
    software_chip: str
    software_system: str
    model_weights: str | None = None


class DerivedModelExclusion(Strict):
    """Note 1 to 4E091: a model derived from published weights stays out of 4E091 unless the
    extra training exceeds the greater of `min_operations` and `share` of its training."""

    min_operations: float
    share: float


class ItemClass(Cited):
    """A control class with its parameter tests, checked in file order (first match wins)."""

    scope: str
    item_types: list[ItemType]
    tests: list[Test]
    exclusions: list[Test] = []
    non_datacenter_scope: str | None = None
    derived_model_exclusion: DerivedModelExclusion | None = None
    eccn: EccnMap
    # ECCNs the item may have instead, by paragraphs tiergate does not check (an EAR99 chip
    # may be 3A991 for its other parameters): rules naming them hold the line for an ECCN.
    eccn_alternatives: EccnMap | None = None
    threshold_text: str


class EccnScope(Cited):
    """How an ECCN the user typed maps to a control scope (`pattern` is a full-match regex)."""

    pattern: str
    scope: str | None  # None: the ECCN alone does not say; the item or its specs must


class ItemClassesFile(Strict):
    scopes: dict[str, str]
    # Scopes of items not subject to the EAR (published information): no EAR rule reaches them.
    outside_ear: list[str] = []
    classes: list[ItemClass]
    eccn_scopes: list[EccnScope]


# --- rules.yaml, exceptions.yaml, advisories.yaml ----------------------------------------


RuleKind = Literal["embargo", "destination", "headquarters", "end_use"]


class Rule(Cited):
    """A licence requirement: which items, which transactions, where, and the review policy."""

    kind: RuleKind
    views: list[View] = [View.ENFORCED, View.WRITTEN]
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
    exceptions: list[str] = []
    supersedes: list[str] = []
    allocation: str | None = None
    conditions: list[str] = []
    message: str

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
    views: list[View] = [View.ENFORCED, View.WRITTEN]
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
    conditions: list[str] = []


class Advisory(Cited):
    """Guidance or letters that make a line HOLD for a person's review, not a legal verdict."""

    views: list[View] = [View.ENFORCED, View.WRITTEN]
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


class AllowancesFile(Strict):
    allowances: list[Allowance]


# --- chips.yaml --------------------------------------------------------------------------


class Figure(Strict):
    """A number with where it came from; `value` is None when no source gives it."""

    value: float | None
    source: str
    uncertain: bool = False


class Contains(Strict):
    chip: str
    count: int = Field(gt=0)


class Chip(Strict):
    id: str
    name: str
    vendor: str
    kind: Literal["chip", "board", "system", "hbm"]
    aliases: list[str] = []
    datacenter: bool
    release_date: date | None = None
    tpp: Figure
    die_area_mm2: Figure
    dram_bandwidth_gbps: Figure
    interconnect_gbps: Figure
    memory_bandwidth_gbps: Figure | None = None
    package_area_mm2: Figure | None = None
    contains: Contains | None = None
    declared_eccn: str | None = None
    uncertain: bool = False
    note: str | None = None


class ChipsFile(Strict):
    edition: str
    sources: dict[str, str]
    chips: list[Chip]


# --- loading -----------------------------------------------------------------------------


class Rulebook(Strict):
    """Every rulebook file, loaded and validated; `version` names the exact content."""

    meta: RulebookMeta
    countries: CountriesFile
    country_groups: CountryGroupsFile
    destination_sets: DestinationSetsFile
    item_classes: ItemClassesFile
    rules: RulesFile
    exceptions: ExceptionsFile
    advisories: AdvisoriesFile
    allowances: AllowancesFile
    chips: ChipsFile
    content_hash: str

    @property
    def version(self) -> str:
        """The rulebook version with a short hash of the files, so an edit shows."""
        return rulebook_version(self.meta.version, self.content_hash)


_FILE_MODELS: dict[str, type[Strict]] = {
    "rulebook.yaml": RulebookMeta,
    "countries.yaml": CountriesFile,
    "country_groups.yaml": CountryGroupsFile,
    "destination_sets.yaml": DestinationSetsFile,
    "item_classes.yaml": ItemClassesFile,
    "rules.yaml": RulesFile,
    "exceptions.yaml": ExceptionsFile,
    "advisories.yaml": AdvisoriesFile,
    "allowances.yaml": AllowancesFile,
    "chips.yaml": ChipsFile,
}


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"rulebook file `{source}` is invalid:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  at `{where}`: {item['msg']}")
    return "\n".join(lines)


# libyaml's safe loader when PyYAML was built with it (eight times faster on the rulebook),
# else the pure-Python one: the same constructor, so the same values.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_file(name: str, text: str, source: str) -> Strict:
    """Parse one rulebook file's text with its model; errors name `source` and the path."""
    try:
        raw: Any = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise RulebookError(f"rulebook file `{source}` is not valid YAML: {exc}") from exc
    try:
        return _FILE_MODELS[name].model_validate(raw)
    except ValidationError as exc:
        raise RulebookError(_describe(exc, source)) from exc


def load_rulebook(directory: Path | None = None) -> Rulebook:
    """Load the rulebook from `directory`, or the one bundled with the package."""
    texts: dict[str, tuple[str, str]] = {}
    for name in RULEBOOK_FILES:
        if directory is None:
            text = resources.files("tiergate.data").joinpath(name).read_text(encoding="utf-8")
            source = f"tiergate/data/{name}"
        else:
            path = directory / name
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise RulebookError(f"cannot read rulebook file `{path}`: {exc}") from exc
            source = str(path)
        texts[name] = (text, source)
    parsed = {name: parse_file(name, text, source) for name, (text, source) in texts.items()}
    return Rulebook(
        meta=parsed["rulebook.yaml"],
        countries=parsed["countries.yaml"],
        country_groups=parsed["country_groups.yaml"],
        destination_sets=parsed["destination_sets.yaml"],
        item_classes=parsed["item_classes.yaml"],
        rules=parsed["rules.yaml"],
        exceptions=parsed["exceptions.yaml"],
        advisories=parsed["advisories.yaml"],
        allowances=parsed["allowances.yaml"],
        chips=parsed["chips.yaml"],
        content_hash=content_hash({name: text for name, (text, _) in texts.items()}),
    )


@cache
def default_rulebook() -> Rulebook:
    """The bundled rulebook, loaded once per process."""
    return load_rulebook()
