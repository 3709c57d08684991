"""The models of the item files: item_classes.yaml (control classes, their parameter tests
and ECCNs) and chips.yaml (the chip catalog with sourced figures)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from tiergate.rulebook.base import Cited, ItemType, Strict

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
    exclusions: list[Test] = Field(default=[])
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
    outside_ear: list[str] = Field(default=[])
    classes: list[ItemClass]
    eccn_scopes: list[EccnScope]


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
    aliases: list[str] = Field(default=[])
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
