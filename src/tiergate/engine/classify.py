"""Stage 2, classify: what the line's item is on its date (scope, ECCN, the figures that
decided it), from a catalog name, a declared ECCN or the parameters the line gives.

Also what the rules can see of a classified item (`Signature`): items with equal signatures
get equal static determinations, so the engine shares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tiergate.catalog import Catalog
from tiergate.classify import (
    Classification,
    Specs,
    any_of,
    classify_specs,
    scope_of_eccn,
    specs_from_chip,
    unclassified,
)
from tiergate.compiled import CompiledRules
from tiergate.engine.standing import StandingReasons
from tiergate.model import Reason
from tiergate.rulebook import Chip, EccnScope, ItemType, Rulebook, Test

INFORMATION_ITEMS = frozenset({ItemType.TECHNOLOGY, ItemType.SOFTWARE, ItemType.MODEL_WEIGHTS})


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """What a line says about its item: the memo key of a classification on an epoch."""

    item: str | None
    eccn: str | None
    specs: Specs
    item_type: ItemType | None


@dataclass(frozen=True, slots=True)
class _Known:
    """What the catalog and the line's own words settle before the parameters are read."""

    item_type: ItemType
    specs: Specs
    chip: Chip | None
    units: int
    reasons: tuple[Reason, ...]
    errors: tuple[str, ...]


def classify_item(
    catalog: Catalog,
    standing: StandingReasons,
    compiled: CompiledRules,
    on: date,
    query: ItemQuery,
) -> Classification:
    """Classify one item on `on` (uncached: the engine memoises by `query` and epoch)."""
    errors: list[str] = []
    known = _known(catalog, standing, query, errors)
    declared = None
    if query.eccn is not None:
        entry, problem = scope_of_eccn(query.eccn, compiled.eccn_scopes, on)
        if problem is not None:
            errors.append(problem)
        else:
            assert entry is not None
            declared = entry
    if errors:
        return _unclassified(known, tuple(errors))
    given_specs = query.specs != Specs()
    if known.chip is None and not given_specs and known.item_type is not ItemType.MODEL_WEIGHTS:
        return _by_eccn_alone(known, query.eccn, declared)
    result = classify_specs(compiled.classes, known.specs, known.item_type, known.chip, known.units)
    return _with_declared(known, result, query.eccn, declared)


def _known(
    catalog: Catalog, standing: StandingReasons, query: ItemQuery, errors: list[str]
) -> _Known:
    """The catalog entry, item type and specs with the stricter readings of what is unstated."""
    reasons: list[Reason] = []
    chip = None
    units = 1
    specs = query.specs
    given_specs = specs != Specs()
    if query.item is not None:
        found = catalog.find(query.item)
        if found is not None:
            chip_specs, _inner, units = specs_from_chip(found, catalog)
            specs = overlay(chip_specs, specs)
            chip = found
            reasons.append(_catalog_reason(catalog.edition, found, chip_specs))
        elif not given_specs and query.eccn is None:
            hint = catalog.suggest(query.item)
            did_you_mean = f"; did you mean {', '.join(hint)}?" if hint else ""
            errors.append(
                f"item `{query.item}` is not in the chip catalog and the line gives no specs "
                f"(tpp, die_area_mm2, ...) or eccn{did_you_mean}"
            )
    item_type = query.item_type
    if item_type is None:
        item_type = ItemType(chip.kind) if chip is not None else ItemType.CHIP
    if specs.datacenter is None and item_type is not ItemType.MODEL_WEIGHTS:
        specs = overlay(specs, Specs(datacenter=True))
        if chip is None and (given_specs or query.item is not None):
            reasons.append(standing.assumed_datacenter)
    if specs.weights_published is None and item_type in INFORMATION_ITEMS:
        specs = overlay(specs, Specs(weights_published=False))
        reasons.append(standing.assumed_unpublished)
    return _Known(item_type, specs, chip, units, tuple(reasons), tuple(errors))


def _unclassified(known: _Known, errors: tuple[str, ...]) -> Classification:
    return unclassified(
        known.item_type, known.specs, known.chip, known.units, known.reasons, errors
    )


def _by_eccn_alone(known: _Known, eccn: str | None, declared: EccnScope | None) -> Classification:
    """An item with no catalog entry and no parameters: its declared ECCN, if that settles
    the scope, else an error saying what to give."""
    if declared is not None and declared.scope is not None:
        reason = Reason(
            rule=f"eccn.{declared.id}",
            message=f"classified {eccn} as declared on the line ({declared.description})",
            citation=declared.citation,
        )
        return Classification(
            known.item_type,
            declared.scope,
            str(eccn),
            declared.id,
            known.specs,
            known.chip,
            known.units,
            declared.description,
            (*known.reasons, reason),
            (),
            eccn_names=(str(eccn).strip(),),
        )
    if declared is not None:
        problem = (
            f"ECCN `{eccn}` does not say which scope applies ({declared.description}); "
            "give the item or its specs"
        )
    else:
        problem = (
            "the line names no item: give `item` (a catalog name), `eccn`, or specs "
            "(tpp, die_area_mm2, ...)"
        )
    return _unclassified(known, (problem,))


def _with_declared(
    known: _Known, result: Classification, eccn: str | None, declared: EccnScope | None
) -> Classification:
    """The parameters' classification, checked against (and settled by) a declared ECCN."""
    if (
        declared is not None
        and declared.scope is not None
        and result.scope is not None
        and declared.scope != result.scope
    ):
        problem = (
            f"declared ECCN `{eccn}` ({declared.scope}) disagrees with the item's "
            f"parameters ({result.eccn}, {result.scope}): check the classification"
        )
        return unclassified(
            known.item_type,
            known.specs,
            known.chip,
            known.units,
            (*known.reasons, *result.reasons),
            (problem,),
        )
    return Classification(
        item_type=result.item_type,
        scope=result.scope,
        eccn=result.eccn,
        item_class=result.item_class,
        specs=result.specs,
        chip=result.chip,
        units_per_item=result.units_per_item,
        threshold=result.threshold,
        reasons=(*known.reasons, *result.reasons),
        errors=result.errors,
        uncertain=result.uncertain,
        # A declared ECCN settles which of the item's possible ECCNs it has.
        eccn_names=((eccn.strip(), *result.eccn_names) if eccn is not None else result.eccn_names),
        eccn_alternatives=result.eccn_alternatives if eccn is None else (),
        eccn_needed=result.eccn_needed if eccn is None else None,
    )


@dataclass(frozen=True, slots=True)
class ItemTests:
    """Every item test a rule, exception or advisory reads, and every chip an advisory names:
    a line's static determination depends on its item only through these."""

    tests: tuple[Test, ...]
    named_chips: frozenset[str]

    @classmethod
    def of(cls, rulebook: Rulebook) -> ItemTests:
        rules = [r.item_conditions for r in rulebook.rules.rules if r.item_conditions]
        return cls(
            tests=tuple(
                rules
                + [t.model_copy(update={"released_by": None}) for t in rules]
                + [t for a in rulebook.advisories.advisories for t in a.item_any_of or ()]
                + [e.item_conditions for e in rulebook.exceptions.exceptions if e.item_conditions]
            ),
            named_chips=frozenset(
                chip for a in rulebook.advisories.advisories for chip in a.chips or ()
            ),
        )


Signature = tuple[object, ...]


def signature(c: Classification, item_tests: ItemTests) -> Signature:
    """What the rules can see of a classified item (its scope, ECCN and type, the chips an
    advisory names, and the outcome of every item test): equal for items the rules cannot
    tell apart."""
    named = None
    if c.chip is not None:
        inner = c.chip.contains.chip if c.chip.contains else None
        named = tuple(chip for chip in (c.chip.id, inner) if chip in item_tests.named_chips)
    tests = []
    for test in item_tests.tests:
        missing: set[str] = set()
        tests.append((any_of([test], c.specs, missing), frozenset(missing)))
    return (
        c.scope,
        c.eccn,  # exceptions name ECCNs (AIA: 4E001 but not 3E001)
        c.eccn_names,  # rules that name ECCNs read every name the item may have (eccn_fits)
        c.eccn_alternatives,
        c.item_type,
        c.item_class is not None,
        named,
        c.specs.release_date is None,
        tuple(tests),
    )


def overlay(base: Specs, given: Specs) -> Specs:
    """`base` with every parameter `given` states replacing it."""
    values = {
        name: getattr(given, name) if getattr(given, name) is not None else getattr(base, name)
        for name in Specs.__slots__
    }
    return Specs(**values)


def _catalog_reason(edition: str, chip: Chip, specs: Specs) -> Reason:
    parts = [f"catalog item {chip.name}"]
    if chip.contains is not None:
        parts.append(f"contains {chip.contains.count} x {chip.contains.chip}")
    if specs.tpp is not None:
        parts.append(f"TPP {specs.tpp:,.0f} per IC")
    if specs.performance_density is not None:
        parts.append(f"PD {specs.performance_density:.2f}")
    parts.append("datacenter" if chip.datacenter else "not designed for datacenters")
    return Reason(
        rule=f"catalog.{chip.id}",
        message=", ".join(parts),
        citation=f"tiergate chip catalog ({edition}): {chip.tpp.source}",
        uncertain=chip.uncertain,
        note=chip.note if chip.uncertain else None,
    )
