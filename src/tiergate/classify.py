"""Classification: from a catalog name, an ECCN or raw specs to a control scope and an ECCN.

The thresholds are data (`data/item_classes.yaml`); this module only evaluates them, with
three-valued logic: a test is True, False, or unknown when a parameter it needs is missing.
An unknown that could change the class makes the classification indeterminate, and the
error names the parameters that would settle it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tiergate.catalog import Catalog
from tiergate.model import Reason
from tiergate.rulebook import Chip, EccnMap, EccnScope, ItemClass, ItemType, Rulebook, Test

# Parameters a test may read, with the name a user sees in an error.
PARAMETER_NAMES = {
    "tpp": "tpp",
    "pd": "die_area_mm2 (for performance density)",
    "interconnect": "interconnect_gbps",
    "tops": "tops",
    "dram_bandwidth": "dram_bandwidth_gbps",
    "memory_bandwidth_density": "memory_bandwidth_density",
    "training_operations": "training_operations",
    "weights_published": "weights_published",
    "datacenter": "datacenter",
    "released": "release date",
}


@dataclass(frozen=True, slots=True)
class Specs:
    """The parameters classification reads; None means not known."""

    tpp: float | None = None
    die_area_mm2: float | None = None
    dram_bandwidth_gbps: float | None = None
    interconnect_gbps: float | None = None
    tops: float | None = None
    memory_bandwidth_density: float | None = None
    datacenter: bool | None = None
    training_operations: float | None = None
    weights_published: bool | None = None
    derived_from_published: bool | None = None
    additional_training_operations: float | None = None
    release_date: date | None = None

    @property
    def performance_density(self) -> float | None:
        """TPP divided by the applicable die area (3A090 technical note 4)."""
        if self.tpp is None or not self.die_area_mm2:
            return None
        return self.tpp / self.die_area_mm2


def _compare(
    value: float | None, bound: float | None, op: str, name: str, missing: set[str]
) -> bool | None:
    if bound is None:
        return True
    if value is None:
        missing.add(name)
        return None
    if op == "min":
        return value >= bound
    if op == "below":
        return value < bound
    return value > bound


def evaluate(test: Test, specs: Specs, missing: set[str]) -> bool | None:
    """Evaluate a conjunction of thresholds: False beats unknown, unknown beats True."""
    pd = specs.performance_density
    released = (
        None
        if test.released_by is None or specs.release_date is None
        else specs.release_date <= test.released_by
    )
    if test.released_by is not None and released is None:
        missing.add("released")
    results = [
        _compare(specs.tpp, test.tpp_min, "min", "tpp", missing),
        _compare(specs.tpp, test.tpp_below, "below", "tpp", missing),
        _compare(pd, test.pd_min, "min", "pd", missing),
        _compare(pd, test.pd_below, "below", "pd", missing),
        _compare(specs.interconnect_gbps, test.interconnect_min, "min", "interconnect", missing),
        _compare(specs.tops, test.tops_min, "min", "tops", missing),
        _compare(
            specs.dram_bandwidth_gbps, test.dram_bandwidth_min, "min", "dram_bandwidth", missing
        ),
        _compare(
            specs.dram_bandwidth_gbps, test.dram_bandwidth_below, "below", "dram_bandwidth", missing
        ),
        _compare(
            specs.memory_bandwidth_density,
            test.memory_bandwidth_density_above,
            "above",
            "memory_bandwidth_density",
            missing,
        ),
        _compare(
            specs.memory_bandwidth_density,
            test.memory_bandwidth_density_below,
            "below",
            "memory_bandwidth_density",
            missing,
        ),
        _compare(
            specs.training_operations,
            test.training_operations_min,
            "min",
            "training_operations",
            missing,
        ),
        _flag(specs.weights_published, test.weights_published, "weights_published", missing),
        _flag(specs.datacenter, test.datacenter, "datacenter", missing),
        True if test.released_by is None else released,
    ]
    if False in results:
        return False
    if None in results:
        return None
    return True


def _flag(value: bool | None, wanted: bool | None, name: str, missing: set[str]) -> bool | None:
    if wanted is None:
        return True
    if value is None:
        missing.add(name)
        return None
    return value == wanted


# How each threshold of a `Test` reads, in the order `describe` lists them.
_BOUNDS = (
    ("tpp_min", "TPP >= {}"),
    ("tpp_below", "TPP < {}"),
    ("pd_min", "performance density >= {}"),
    ("pd_below", "performance density < {}"),
    ("interconnect_min", "interconnect >= {} GB/s"),
    ("tops_min", "TOPS >= {}"),
    ("dram_bandwidth_min", "DRAM bandwidth >= {} GB/s"),
    ("dram_bandwidth_below", "DRAM bandwidth < {} GB/s"),
    ("memory_bandwidth_density_above", "memory bandwidth density > {} GB/s/mm²"),
    ("memory_bandwidth_density_below", "memory bandwidth density < {} GB/s/mm²"),
    ("training_operations_min", "training operations >= {}"),
    ("weights_published", "weights published: {}"),
    ("datacenter", "datacenter: {}"),
    ("released_by", "released by {}"),
)


def describe(test: Test) -> str:
    """One branch of a threshold, as text: `TPP >= 1600 and performance density >= 5.92`
    (empty for a branch with no bounds)."""
    parts = []
    for name, text in _BOUNDS:
        bound = getattr(test, name)
        if bound is not None:
            shown = f"{bound:g}" if isinstance(bound, float) else str(bound).lower()
            parts.append(text.format(shown))
    return " and ".join(parts)


def branch_met(tests: list[Test], specs: Specs) -> Test | None:
    """The first test the specs meet (the branch of a disjunction that decided), or None."""
    return next((test for test in tests if evaluate(test, specs, set()) is True), None)


def any_of(tests: list[Test], specs: Specs, missing: set[str]) -> bool | None:
    """True if any test is True; False if all are False; else unknown."""
    seen_unknown = False
    for test in tests:
        result = evaluate(test, specs, missing)
        if result is True:
            return True
        if result is None:
            seen_unknown = True
    return None if seen_unknown else False


@dataclass(frozen=True, slots=True)
class Classification:
    """What an item is on a date: its control scope, ECCN and the figures that decided it."""

    item_type: ItemType
    scope: str | None
    eccn: str | None
    item_class: str | None
    specs: Specs
    chip: Chip | None
    units_per_item: int
    threshold: str | None
    reasons: tuple[Reason, ...]
    errors: tuple[str, ...]
    uncertain: bool = False
    # The ECCNs the item is (a declared ECCN and the one its parameters give), and those of
    # classes not ruled out for lack of a parameter (`eccn_needed` names it): rules and
    # exceptions that name ECCNs read these (see `eccn_fits`).
    eccn_names: tuple[str, ...] = ()
    eccn_alternatives: tuple[str, ...] = ()
    eccn_needed: str | None = None

    @property
    def unit_tpp(self) -> float | None:
        """TPP of one unit of the line (a board counts every IC on it)."""
        if self.specs.tpp is None:
            return None
        return self.specs.tpp * self.units_per_item


def unclassified(
    item_type: ItemType,
    specs: Specs,
    chip: Chip | None,
    units_per_item: int,
    reasons: tuple[Reason, ...],
    errors: tuple[str, ...],
) -> Classification:
    """A classification that could not settle the item's class; `errors` say why."""
    return Classification(
        item_type=item_type,
        scope=None,
        eccn=None,
        item_class=None,
        specs=specs,
        chip=chip,
        units_per_item=units_per_item,
        threshold=None,
        reasons=reasons,
        errors=errors,
    )


def _eccn_key(item_type: ItemType, chip: Chip | None) -> str:
    system_like = chip is not None and chip.kind in ("board", "system")
    if item_type is ItemType.TECHNOLOGY:
        return "technology_system" if system_like else "technology_chip"
    if item_type is ItemType.SOFTWARE:
        return "software_system" if system_like else "software_chip"
    return item_type.value


def _eccn_for(item_class: ItemClass, item_type: ItemType, chip: Chip | None) -> str:
    return _eccn_from(item_class.eccn, item_type, chip)


def _eccn_from(eccns: EccnMap, item_type: ItemType, chip: Chip | None) -> str:
    value = getattr(eccns, _eccn_key(item_type, chip))
    if value is None:
        return eccns.chip
    return str(value)


def _derived_exempt(item_class: ItemClass, specs: Specs, missing: set[str]) -> bool | None:
    rule = item_class.derived_model_exclusion
    if rule is None or specs.derived_from_published is not True:
        return False
    if specs.additional_training_operations is None or specs.training_operations is None:
        missing.add("training_operations")
        return None
    limit = max(rule.min_operations, rule.share * specs.training_operations)
    return specs.additional_training_operations <= limit


def classify_specs(
    classes: tuple[ItemClass, ...],
    specs: Specs,
    item_type: ItemType,
    chip: Chip | None,
    units_per_item: int,
) -> Classification:
    """Run the item classes in order against `specs` (classes already filtered to one date).

    A class whose tests are unknown for lack of a parameter does not stop classification when
    every class that could still apply has the same scope: then the scope (which is all the
    rules read) is certain and only the ECCN is given as alternatives.
    """
    possible: list[tuple[ItemClass, set[str]]] = []
    for item_class in classes:
        if item_type not in item_class.item_types:
            continue
        missing: set[str] = set()
        met = any_of(item_class.tests, specs, missing)
        excluded = any_of(item_class.exclusions, specs, missing) if item_class.exclusions else False
        if excluded is False:
            excluded = _derived_exempt(item_class, specs, missing)
        if met is False or excluded is True:
            continue
        if met is None or excluded is None:
            possible.append((item_class, missing))
            continue
        return _classified(item_class, possible, specs, item_type, chip, units_per_item)
    if possible:
        return _unsettled(possible, specs, item_type, chip, units_per_item)
    return unclassified(
        item_type,
        specs,
        chip,
        units_per_item,
        (),
        (f"no item class applies to a `{item_type.value}` line on this date",),
    )


def _scope(item_class: ItemClass, specs: Specs) -> str:
    if item_class.non_datacenter_scope is not None and specs.datacenter is False:
        return item_class.non_datacenter_scope
    return item_class.scope


def _met_text(item_class: ItemClass, specs: Specs) -> str:
    """The branch of the class's threshold the specs met (its whole text when none is known,
    as for an item classified by its declared ECCN)."""
    met = branch_met(item_class.tests, specs)
    return (describe(met) if met is not None else "") or item_class.threshold_text


def _unsettled(
    possible: list[tuple[ItemClass, set[str]]],
    specs: Specs,
    item_type: ItemType,
    chip: Chip | None,
    units_per_item: int,
) -> Classification:
    item_class, missing = possible[0]
    needed = ", ".join(sorted(PARAMETER_NAMES[name] for name in missing))
    return unclassified(
        item_type,
        specs,
        chip,
        units_per_item,
        (),
        (
            f"cannot tell whether the item is {item_class.id} "
            f"({item_class.threshold_text}): give {needed}",
        ),
    )


def _classified(
    item_class: ItemClass,
    possible: list[tuple[ItemClass, set[str]]],
    specs: Specs,
    item_type: ItemType,
    chip: Chip | None,
    units_per_item: int,
) -> Classification:
    scope = _scope(item_class, specs)
    if any(_scope(other, specs) != scope for other, _ in possible):
        return _unsettled(possible, specs, item_type, chip, units_per_item)
    eccn = _eccn_for(item_class, item_type, chip)
    names: tuple[str, ...] = (eccn,)
    if chip is not None and chip.declared_eccn and item_type in (ItemType.BOARD, ItemType.SYSTEM):
        names = (chip.declared_eccn, eccn)
        eccn = f"{chip.declared_eccn} ({eccn} parameters)"
    others = [_eccn_for(other, item_type, chip) for other, _ in possible]
    deciding = sorted({PARAMETER_NAMES[name] for _, missing in possible for name in missing})
    if item_class.eccn_alternatives is not None:
        others.append(_eccn_from(item_class.eccn_alternatives, item_type, chip))
        deciding.append("eccn")
    alternatives = tuple(dict.fromkeys(alt for alt in others if alt not in names))
    if alternatives:
        eccn = " or ".join([*alternatives, eccn])
    reasons = [
        Reason(
            rule=f"class.{item_class.id}",
            message=f"classified {eccn}: {item_class.threshold_text}",
            citation=item_class.citation,
            uncertain=item_class.uncertain,
            note=item_class.uncertain_note,
        )
    ]
    for other, missing in possible:
        needed = ", ".join(sorted(PARAMETER_NAMES[name] for name in missing))
        reasons.append(
            Reason(
                rule=f"class.{other.id}",
                message=f"{other.id} not ruled out (give {needed}); rules that name ECCNs "
                "hold the line where the answer depends on which it is",
                citation=other.citation,
            )
        )
    return Classification(
        item_type=item_type,
        scope=scope,
        eccn=eccn,
        item_class=item_class.id,
        specs=specs,
        chip=chip,
        units_per_item=units_per_item,
        threshold=_met_text(item_class, specs),
        reasons=tuple(reasons),
        errors=(),
        uncertain=item_class.uncertain,
        eccn_names=names,
        eccn_alternatives=alternatives,
        eccn_needed=", ".join(deciding) if alternatives else None,
    )


def eccn_fits(pattern: re.Pattern[str], c: Classification) -> bool | None:
    """Whether a rule or exception naming ECCNs (`pattern`, full match) reaches the item:
    True or False when every class still possible for it gives the same answer, else None."""
    if not c.eccn_names:
        return None
    answer = any(pattern.fullmatch(name) for name in c.eccn_names)
    if any(bool(pattern.fullmatch(alt)) != answer for alt in c.eccn_alternatives):
        return None
    return answer


def scope_of_eccn(
    eccn: str, eccn_scopes: tuple[tuple[re.Pattern[str], EccnScope], ...], on: date
) -> tuple[EccnScope | None, str | None]:
    """The scope entry an ECCN the user typed maps to, or an error saying why it does not."""
    text = eccn.strip()
    periods: list[str] = []
    for pattern, entry in eccn_scopes:
        if pattern.fullmatch(text):
            if entry.in_force(on):
                return entry, None
            ending = f" to {entry.effective_to.isoformat()}" if entry.effective_to else ""
            periods.append(f"from {entry.effective_from.isoformat()}{ending}")
    if periods:
        # The periods, not the line's date: lines of one epoch share this answer (the
        # engine's memo tables), so it must not name one of them.
        return None, (
            f"ECCN `{eccn}` was not in force on the line's date: it is in force "
            f"{', '.join(periods)}"
        )
    return None, (
        f"ECCN `{eccn}` is not one tiergate knows (expected e.g. 3A090.a, 4A090.b, 3A090.c, "
        "4E091, 5A002.z.1.a, 3A991.p, EAR99)"
    )


def specs_from_chip(chip: Chip, catalog: Catalog) -> tuple[Specs, Chip, int]:
    """The parameters of the IC inside `chip` (itself, or the chip a board or system holds)."""
    inner, count = catalog.unit_chip(chip)
    density = None
    if (
        chip.memory_bandwidth_gbps is not None
        and chip.package_area_mm2 is not None
        and chip.memory_bandwidth_gbps.value is not None
        and chip.package_area_mm2.value
    ):
        density = chip.memory_bandwidth_gbps.value / chip.package_area_mm2.value
    specs = Specs(
        tpp=inner.tpp.value,
        die_area_mm2=inner.die_area_mm2.value,
        dram_bandwidth_gbps=inner.dram_bandwidth_gbps.value,
        interconnect_gbps=inner.interconnect_gbps.value,
        memory_bandwidth_density=density,
        datacenter=chip.datacenter,
        release_date=inner.release_date,
    )
    return specs, inner, count


def classes_in_force(rulebook: Rulebook, on: date) -> tuple[ItemClass, ...]:
    """The item classes of `rulebook` that hold on `on`, in file order."""
    return tuple(c for c in rulebook.item_classes.classes if c.in_force(on))
