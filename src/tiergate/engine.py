"""The determination engine: shipment lines in, outcomes with reasons out. Pure: no I/O.

Order of work for each line (the issue's order, each step reading compiled tables):
normalise -> classify -> embargo/region -> party headquarters -> end use -> item x destination
-> licence exceptions -> advisories -> outcome by the precedence table in `model.SEVERITY`.

Allowances (LPP per consignee per calendar year, Tier 2 country allocations) depend on the
lines before: the static part of every line is determined first (and memoised: large books
repeat the same item, place and parties), then the allowance-dependent parts are settled in
date order, so splitting a book and carrying the allowance state over never changes answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

from tiergate.catalog import Catalog
from tiergate.classify import (
    PARAMETER_NAMES,
    Classification,
    Specs,
    any_of,
    classify_specs,
    eccn_fits,
    scope_of_eccn,
    specs_from_chip,
    unclassified,
)
from tiergate.compiled import CompiledException, CompiledRule, CompiledRules, Compiler
from tiergate.countries import CountryResolver, Place
from tiergate.errors import UsageError
from tiergate.gcpause import cyclic_gc_paused
from tiergate.licences import LicenceBook, LicenceGrant
from tiergate.model import (
    SEVERITY,
    SHIPPABLE,
    TIER_SEVERITY,
    Line,
    LineResult,
    Outcome,
    Reason,
    Report,
    Shipment,
    Summary,
)
from tiergate.normalise import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    ValueProblem,
    blank,
    check_stored_text,
    name_key,
    parse_choice,
    parse_date,
    parse_flag,
    parse_money,
    parse_number,
    parse_quantity,
    text,
)
from tiergate.rulebook import (
    Allowance,
    ItemType,
    LicenceException,
    ReviewPolicy,
    Rulebook,
    Test,
    Tier,
    Transaction,
    View,
    default_rulebook,
)
from tiergate.screening.findings import hit_outcome
from tiergate.screening.service import Screener

NON_ENFORCEMENT = Reason(
    rule="non-enforcement.ai-diffusion",
    message="BIS announced on 2025-05-13 that its enforcement officials were instructed not to "
    "enforce the AI Diffusion rule; the text remains in the CFR",
    citation="Department of Commerce press release of 2025-05-13 ('Department of Commerce "
    "Announces Rescission of Biden-Era Artificial Intelligence Diffusion Rule'); GAO decision "
    "B-337935 (2026-05-12: the announcement is a rule under the Congressional Review Act); "
    "90 FR 4544",
)

_INFORMATION_ITEMS = frozenset({ItemType.TECHNOLOGY, ItemType.SOFTWARE, ItemType.MODEL_WEIGHTS})
_ASSUMED_UNPUBLISHED = Reason(
    rule="assumption.unpublished",
    message="`published` not stated: treated as unpublished, so subject to the EAR (the stricter "
    "reading of 15 CFR 734.3(b)(3) and 734.7; for weights, Note 1 to 4E091)",
    citation="15 CFR 734.3(b)(3), 734.7; CCL 4E091 Note 1",
)
_COUNTED_ITEMS = frozenset({ItemType.CHIP, ItemType.BOARD, ItemType.SYSTEM, ItemType.HBM})
LICENCE_CITATION = "15 CFR Part 750 (licence issued by BIS)"


@dataclass(frozen=True, slots=True)
class Finding:
    """One contribution to a line's outcome."""

    outcome: Outcome
    tier: Tier | None
    review_policy: ReviewPolicy | None = None
    exception: str | None = None
    conditions: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pending:
    """A finding that depends on an allowance: `within` if the line fits, else `beyond`."""

    allowance: Allowance
    key_kind: str  # "consignee" or "country"
    within: Finding
    beyond: Finding | Pending


@dataclass(slots=True)
class AllowanceState:
    """TPP used per (allowance, consignee or country, year or period); pass it on to continue."""

    used: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        rows = [
            {"allowance": a, "holder": h, "period": p, "used_tpp": used}
            for (a, h, p), used in sorted(self.used.items())
        ]
        return {"used": rows}


@dataclass(frozen=True, slots=True)
class _Static:
    """Everything about a line that does not depend on earlier lines."""

    findings: tuple[Finding, ...]
    pendings: tuple[Pending, ...]
    tier: Tier | None


@dataclass(frozen=True, slots=True)
class _Bundle:
    """A line's raw values (other than quantity, consignee name and date) normalised and
    classified: memoised, because large books repeat the same item, places and parties."""

    classification: Classification
    place: Place | None
    consignee_country: str
    transaction: Transaction
    places: tuple[tuple[Place, str], ...]
    place_keys: tuple[tuple[str, str | None, str], ...]
    hqs: tuple[tuple[str, str], ...]
    end_use: str | None
    end_use_place: Place | None
    veu: str | None
    errors: tuple[str, ...]
    reasons: tuple[Reason, ...]
    base: int  # equal for bundles that combine alike (same classification, place, notes)


@dataclass(frozen=True, slots=True)
class _Combined:
    """A line's outcome with everything that does not depend on its quantity or date."""

    outcome: Outcome
    tier: Tier | None
    exception: str | None
    review_policy: ReviewPolicy | None
    conditions: tuple[str, ...]
    reasons: tuple[Reason, ...]
    errors: tuple[str, ...]
    uncertain: bool
    item_name: str | None
    item_type: str | None
    eccn: str | None
    scope: str | None
    unit_tpp: float | None
    performance_density: float | None
    destination: str | None
    destination_note: str | None
    hold_signature: str | None = None


@dataclass(slots=True)
class _Work:
    """A line being determined."""

    index: int
    line: Line
    as_of: date | None
    errors: list[str]
    reasons: list[Reason]
    classification: Classification | None = None
    quantity: int | None = None
    value: float | None = None
    place: Place | None = None
    consignee_key: str | None = None
    static: _Static | None = None
    bundle: _Bundle | None = None
    resolved: list[Finding] = field(default_factory=list)
    parties: tuple[Finding, ...] = ()
    debits: list[tuple[str, str, str, float]] = field(default_factory=list)
    licence: tuple[LicenceGrant, Finding] | None = None
    hold_decision: HoldDecision | None = None


class Engine:
    """Holds a rulebook's resolvers and compiled tables; `check` is safe to call repeatedly."""

    def __init__(
        self,
        rulebook: Rulebook | None = None,
        *,
        country_allocation_tpp: float | None = None,
        screener: Screener | None = None,
    ) -> None:
        self.rulebook = rulebook or default_rulebook()
        # With a screener, every named party (consignee, end user, intermediate consignees)
        # is screened and list hits become findings; without one, lists are not consulted.
        self.screener = screener
        self._party_findings: dict[tuple[str, str, Any], tuple[Finding, ...]] = {}
        self.countries = CountryResolver(self.rulebook)
        self.catalog = Catalog(self.rulebook)
        self.compiler = Compiler(self.rulebook, self.countries)
        if country_allocation_tpp is not None and country_allocation_tpp <= 0:
            raise UsageError(
                f"country allocation `{country_allocation_tpp}` must be a positive TPP figure"
            )
        self.country_allocation_tpp = country_allocation_tpp
        self._classified: dict[tuple[Any, ...], Classification] = {}
        self._statics: dict[tuple[Any, ...], _Static] = {}
        self._earliest = self.rulebook.meta.earliest_date
        self._epochs: dict[tuple[date, View], tuple[int, CompiledRules]] = {}
        self._h100 = self.rulebook.meta.h100_tpp
        self._bundles: dict[tuple[Any, ...], _Bundle] = {}
        self._decided: dict[tuple[int, int, View], _Static] = {}
        self._signatures: dict[int, int] = {}
        self._verdicts: dict[int, _Verdict] = {}
        self._nlr_reasons: dict[tuple[str | None, str], Reason] = {}
        self._signature_ids: dict[tuple[Any, ...], int] = {}
        # Every item test a rule or advisory reads, and every chip an advisory names: a line's
        # static determination depends on its item only through these (see `_signature`).
        self._item_tests: tuple[Test, ...] = tuple(
            [r.item_conditions for r in self.rulebook.rules.rules if r.item_conditions]
            + [
                r.item_conditions.model_copy(update={"released_by": None})
                for r in self.rulebook.rules.rules
                if r.item_conditions
            ]
            + [t for a in self.rulebook.advisories.advisories for t in a.item_any_of or ()]
            + [e.item_conditions for e in self.rulebook.exceptions.exceptions if e.item_conditions]
        )
        self._outside_ear = frozenset(self.rulebook.item_classes.outside_ear)
        self._named_chips = frozenset(
            chip for a in self.rulebook.advisories.advisories for chip in a.chips or ()
        )
        self._combined: dict[tuple[int, int], _Combined] = {}
        self._bases: dict[tuple[Any, ...], int] = {}
        self._dates: dict[Any, date | str] = {}
        self._quantities: dict[Any, int | str | None] = {}
        self._consignee_keys: dict[tuple[Any, str], str] = {}
        self._texts: dict[Any, str | None] = {}
        self._places: dict[tuple[Any, str, int], tuple[Place | None, str | None]] = {}

    # --- public --------------------------------------------------------------------------

    @classmethod
    def shared(cls) -> Engine:
        """One engine over the bundled rulebook per process (its memo tables are shared)."""
        global _SHARED
        if _SHARED is None:
            _SHARED = cls()
        return _SHARED

    def check(
        self,
        shipments: Iterable[Shipment | Line],
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        today: date | None = None,
        allowances: AllowanceState | None = None,
        licences: LicenceBook | None = None,
        hold_decisions: Mapping[tuple[str, str], HoldDecision] | None = None,
    ) -> Report:
        """Determine every line; lines in equal lines out, in input order. With `licences`,
        lines they cover are LICENSED (see `tiergate.licences`); with `hold_decisions`, a held
        line a person released (for the same reasons) is cleared, one they rejected is
        PROHIBITED."""
        with cyclic_gc_paused():
            return self._check(
                shipments,
                as_of,
                view,
                today or date.today(),
                allowances,
                licences,
                hold_decisions or {},
            )

    def _check(
        self,
        shipments: Iterable[Shipment | Line],
        as_of: date | None,
        view: View,
        today: date,
        allowances: AllowanceState | None,
        licences: LicenceBook | None,
        hold_decisions: Mapping[tuple[str, str], HoldDecision],
    ) -> Report:
        state = allowances if allowances is not None else AllowanceState()
        lines: list[Line] = []
        for item in shipments:
            lines.extend(item.flatten() if isinstance(item, Shipment) else [item])
        work = []
        for i, line in enumerate(lines):
            w = self._prepare(i, line, as_of, today)
            self._determine_static(w, view)
            if self.screener is not None:
                w.parties = self._screen_parties(line)
            if hold_decisions:
                key = (text(line.shipment_id) or "", text(line.line_id) or str(i + 1))
                w.hold_decision = hold_decisions.get(key)
            work.append(w)
        counted = [w for w in work if w.static is not None and w.static.pendings]
        for w in sorted(counted, key=lambda w: (w.as_of or date.max, w.index)):
            self._settle_allowances(w, state)
        if licences is not None:
            for w in sorted(work, key=lambda w: (w.as_of or date.max, w.index)):
                self._apply_licence(w, licences)
        results = tuple(self._result(w) for w in work)
        return Report(
            as_of=as_of,
            view=view,
            rulebook_version=self.rulebook.version,
            editions=self._editions(),
            lines=results,
            summary=summarise(len(lines), results),
            allowances=state.as_dict(),
        )

    def _editions(self) -> tuple[dict[str, str], ...]:
        editions = [
            {"name": e.name, "date": e.date.isoformat(), "licence": e.licence}
            for e in self.rulebook.meta.editions
        ]
        if self.screener is not None:
            edition = self.screener.edition
            editions.append(
                {
                    "name": edition.name,
                    "date": edition.edition_date.isoformat(),
                    "licence": "public domain (US government work)",
                    "content_hash": edition.content_hash,
                }
            )
        return tuple(editions)

    def _screen_parties(self, line: Line) -> tuple[Finding, ...]:
        """Findings from screening every named party of the line (memoised per party)."""
        assert self.screener is not None
        parties = [(line.consignee, "consignee"), (line.end_user, "end user")]
        parties += [(p, "intermediate consignee") for p in line.intermediate_consignees]
        found: list[Finding] = []
        for party, role in parties:
            name = text(party.name)
            if name is None:
                continue
            key = (name, role, party.country)
            findings = self._party_findings.get(key)
            if findings is None:
                findings = self._screen_party(name, role, text(party.country))
                self._party_findings[key] = findings
            found.extend(findings)
        return tuple(found)

    def _screen_party(self, name: str, role: str, country: str | None) -> tuple[Finding, ...]:
        assert self.screener is not None
        result = self.screener.screen(name, country)
        findings = []
        lapsed = {id(hit) for hit, _ in result.lapsed}
        for hit in result.hits[:5]:
            outcome, policy, reason = hit_outcome(hit, self.screener.matcher.settings)
            note = (
                " (a suppression of this hit lapsed: the entry changed since it was reviewed)"
                if id(hit) in lapsed
                else ""
            )
            message = f"{role} `{name}`: {reason.message}{note}"
            reason = Reason(reason.rule, message, reason.citation)
            findings.append(
                Finding(outcome, tier_of_policy(policy), review_policy=policy, reasons=(reason,))
            )
        return tuple(findings)

    def standing(self, line: Line, on: date, view: View) -> LineResult:
        """One line's result with every allowance assumed available: for country maps and
        rule listings, never for shipments (use `check`, which counts allowances)."""
        w = self._prepare(0, line, on, on)
        self._determine_static(w, view)
        if w.static is not None:
            for pending in w.static.pendings:
                w.resolved.append(pending.within)
                w.reasons.append(
                    Reason(
                        rule="allowance.assumed",
                        message=f"assumes allowance `{pending.allowance.id}` is not used up",
                        citation=pending.allowance.citation,
                    )
                )
        return self._result(w)

    def compiled(self, on: date, view: View) -> CompiledRules:
        """The compiled tables for a date and view."""
        return self.compiler.for_date(on, view)

    def classify(
        self,
        on: date,
        *,
        item: str | None = None,
        eccn: str | None = None,
        specs: Specs | None = None,
        item_type: ItemType | None = None,
    ) -> Classification:
        """Classify one item on a date from a catalog name, an ECCN, or raw specs."""
        self._check_range(on)
        compiled = self.compiler.for_date(on, View.WRITTEN)
        return self._classify(compiled, on, item, eccn, specs or Specs(), item_type)

    def check_range(self, on: date) -> None:
        """Raise `UsageError` for a date before the rulebook's first date."""
        self._check_range(on)

    # --- normalise -----------------------------------------------------------------------

    def _check_range(self, on: date) -> None:
        earliest = self.rulebook.meta.earliest_date
        if on < earliest:
            raise UsageError(
                f"date `{on.isoformat()}` is before the rulebook's first date "
                f"{earliest.isoformat()}: tiergate encodes the rules from then on"
            )

    def _prepare(self, index: int, line: Line, as_of: date | None, today: date) -> _Work:
        errors = list(line.errors) if line.errors else []
        _check_stored_texts(line, errors)
        w = _Work(index, line, None, errors, [])
        on = as_of
        if on is None and blank(line.date):
            on = today
        elif on is None:
            parsed = self._dates.get(line.date)
            if parsed is None:
                try:
                    parsed = parse_date(line.date, "date") or today
                except ValueProblem as problem:
                    parsed = str(problem)
                self._dates[line.date] = parsed
            if isinstance(parsed, str):
                errors.append(parsed)
            else:
                on = parsed
        earliest = self._earliest
        if on is not None and on < earliest:
            errors.append(
                f"date `{on.isoformat()}` is before {earliest.isoformat()}, the first date the "
                "rulebook covers"
            )
            on = None
        w.as_of = on
        return w

    def _parse_specs(self, line: Line, errors: list[str]) -> Specs:
        if (
            line.tpp is None
            and line.die_area_mm2 is None
            and line.dram_bandwidth_gbps is None
            and line.interconnect_gbps is None
            and line.tops is None
            and line.memory_bandwidth_density is None
            and line.datacenter is None
            and line.training_operations is None
            and line.weights_published is None
            and line.published is None
            and line.derived_from_published is None
            and line.additional_training_operations is None
        ):
            return _NO_SPECS

        def number(value: Any, column: str) -> float | None:
            return _parsed(parse_number, value, column, errors)

        def flag(value: Any, column: str) -> bool | None:
            return _parsed(parse_flag, value, column, errors)

        return Specs(
            tpp=number(line.tpp, "tpp"),
            die_area_mm2=number(line.die_area_mm2, "die_area_mm2"),
            dram_bandwidth_gbps=number(line.dram_bandwidth_gbps, "dram_bandwidth_gbps"),
            interconnect_gbps=number(line.interconnect_gbps, "interconnect_gbps"),
            tops=number(line.tops, "tops"),
            memory_bandwidth_density=number(
                line.memory_bandwidth_density, "memory_bandwidth_density"
            ),
            datacenter=flag(line.datacenter, "datacenter"),
            training_operations=number(line.training_operations, "training_operations"),
            weights_published=self._published(line, errors),
            derived_from_published=flag(line.derived_from_published, "derived_from_published"),
            additional_training_operations=number(
                line.additional_training_operations, "additional_training_operations"
            ),
        )

    @staticmethod
    def _published(line: Line, errors: list[str]) -> bool | None:
        """`published`, or its model-weights spelling `weights_published`: one fact, so two
        values that disagree are an error, never one of them silently."""
        published = _parsed(parse_flag, line.published, "published", errors)
        weights = _parsed(parse_flag, line.weights_published, "weights_published", errors)
        if published is not None and weights is not None and published != weights:
            errors.append(
                f"`published` value `{line.published}` and `weights_published` value "
                f"`{line.weights_published}` disagree: give one"
            )
            return None
        return published if published is not None else weights

    def _place(self, value: Any, column: str, on: date, errors: list[str]) -> Place | None:
        if value is None:
            return None
        key = (value, column, self.compiler.epoch_of(on))
        found = self._places.get(key)
        if found is None:
            name = text(value)
            place = None if name is None else self.countries.resolve(name, on)
            problem = None
            if name is not None and place is None:
                ambiguity = self.countries.ambiguity(name)
                problem = (
                    f"`{column}` value `{name}` is ambiguous: it {ambiguity}; give the ISO code"
                    if ambiguity
                    else f"`{column}` value `{name}` is not a country tiergate knows: expected an "
                    "ISO 3166 code (e.g. KR) or a country name (e.g. Republic of Korea)"
                )
            found = (place, problem)
            self._places[key] = found
        if found[1] is not None:
            errors.append(found[1])
        return found[0]

    # --- classify ------------------------------------------------------------------------

    def _classify(
        self,
        compiled: CompiledRules,
        on: date,
        item: str | None,
        eccn: str | None,
        specs: Specs,
        item_type: ItemType | None,
    ) -> Classification:
        key = (compiled.classification_key, item, eccn, specs, item_type)
        found = self._classified.get(key)
        if found is None:
            found = self._classify_uncached(compiled, on, item, eccn, specs, item_type)
            self._classified[key] = found
        return found

    def _classify_uncached(
        self,
        compiled: CompiledRules,
        on: date,
        item: str | None,
        eccn: str | None,
        specs: Specs,
        item_type: ItemType | None,
    ) -> Classification:
        errors: list[str] = []
        reasons: list[Reason] = []
        chip = None
        units = 1
        given_specs = specs != Specs()
        if item is not None:
            found = self.catalog.find(item)
            if found is not None:
                chip_specs, _inner, units = specs_from_chip(found, self.catalog)
                specs = _overlay(chip_specs, specs)
                chip = found
                reasons.append(
                    Reason(
                        rule=f"catalog.{found.id}",
                        message=_catalog_message(found, chip_specs),
                        citation=f"tiergate chip catalog ({self.rulebook.chips.edition}): "
                        f"{found.tpp.source}",
                        uncertain=found.uncertain,
                        note=found.note if found.uncertain else None,
                    )
                )
            elif not given_specs and eccn is None:
                hint = self.catalog.suggest(item)
                did_you_mean = f"; did you mean {', '.join(hint)}?" if hint else ""
                errors.append(
                    f"item `{item}` is not in the chip catalog and the line gives no specs "
                    f"(tpp, die_area_mm2, ...) or eccn{did_you_mean}"
                )
        if item_type is None:
            item_type = ItemType(chip.kind) if chip is not None else ItemType.CHIP
        if specs.datacenter is None and item_type is not ItemType.MODEL_WEIGHTS:
            specs = _overlay(specs, Specs(datacenter=True))
            if chip is None and (given_specs or item is not None):
                reasons.append(
                    Reason(
                        rule="assumption.datacenter",
                        message="datacenter use not stated: treated as designed or marketed for "
                        "datacenters (the stricter reading of Note 2 to 3A090)",
                        citation="CCL 3A090 Note 2 (15 CFR 774 Supp. 1)",
                    )
                )
        if specs.weights_published is None and item_type in _INFORMATION_ITEMS:
            specs = _overlay(specs, Specs(weights_published=False))
            reasons.append(_ASSUMED_UNPUBLISHED)
        declared = None
        if eccn is not None:
            entry, problem = scope_of_eccn(eccn, compiled.eccn_scopes, on)
            if problem is not None:
                errors.append(problem)
            else:
                assert entry is not None
                declared = entry
        if errors:
            return unclassified(item_type, specs, chip, units, tuple(reasons), tuple(errors))
        has_basis = chip is not None or given_specs or item_type is ItemType.MODEL_WEIGHTS
        if not has_basis:
            if declared is not None and declared.scope is not None:
                reason = Reason(
                    rule=f"eccn.{declared.id}",
                    message=f"classified {eccn} as declared on the line ({declared.description})",
                    citation=declared.citation,
                )
                return Classification(
                    item_type,
                    declared.scope,
                    str(eccn),
                    declared.id,
                    specs,
                    chip,
                    units,
                    declared.description,
                    (*reasons, reason),
                    (),
                    eccn_names=(str(eccn).strip(),),
                )
            if declared is not None:
                errors.append(
                    f"ECCN `{eccn}` does not say which scope applies ({declared.description}); "
                    "give the item or its specs"
                )
            else:
                errors.append(
                    "the line names no item: give `item` (a catalog name), `eccn`, or specs "
                    "(tpp, die_area_mm2, ...)"
                )
            return unclassified(item_type, specs, chip, units, tuple(reasons), tuple(errors))
        result = classify_specs(compiled.classes, specs, item_type, chip, units)
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
                item_type, specs, chip, units, (*reasons, *result.reasons), (problem,)
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
            reasons=(*reasons, *result.reasons),
            errors=result.errors,
            uncertain=result.uncertain,
            # A declared ECCN settles which of the item's possible ECCNs it has.
            eccn_names=(
                (eccn.strip(), *result.eccn_names) if eccn is not None else result.eccn_names
            ),
            eccn_alternatives=result.eccn_alternatives if eccn is None else (),
            eccn_needed=result.eccn_needed if eccn is None else None,
        )

    # --- static determination ------------------------------------------------------------

    def _determine_static(self, w: _Work, view: View) -> None:
        line = w.line
        if w.as_of is None:
            return
        epoch = self._epochs.get((w.as_of, view))
        if epoch is None:
            epoch = (self.compiler.epoch_of(w.as_of), self.compiler.for_date(w.as_of, view))
            self._epochs[(w.as_of, view)] = epoch
        epoch_index, compiled = epoch
        consignee, end_user = line.consignee, line.end_user
        key = (
            compiled.normalisation_key,
            line.item,
            line.eccn,
            line.tpp,
            line.die_area_mm2,
            line.dram_bandwidth_gbps,
            line.interconnect_gbps,
            line.tops,
            line.memory_bandwidth_density,
            line.datacenter,
            line.item_type,
            line.training_operations,
            line.weights_published,
            line.published,
            line.derived_from_published,
            line.additional_training_operations,
            line.destination,
            line.transaction,
            line.end_use,
            line.veu,
            consignee.country,
            consignee.hq_country,
            end_user.country,
            end_user.hq_country,
            tuple(p.country for p in line.intermediate_consignees),
        )
        bundle = self._bundles.get(key)
        if bundle is None:
            bundle = self._bundle(line, w.as_of, compiled)
            self._bundles[key] = bundle
        decision_key = (id(bundle), epoch_index, view)
        static = self._decided.get(decision_key)
        if static is None:
            static = self._decide(bundle, w.as_of, compiled, view)
            self._decided[decision_key] = static
        w.bundle = bundle
        w.classification = bundle.classification
        w.place = bundle.place
        w.static = static
        w.errors.extend(bundle.errors)
        quantity = self._quantities.get(line.quantity, _UNSEEN)
        if quantity is _UNSEEN:
            try:
                quantity = parse_quantity(line.quantity)
            except ValueProblem as problem:
                quantity = str(problem)
            self._quantities[line.quantity] = quantity
        if isinstance(quantity, str):
            w.errors.append(quantity)
        else:
            w.quantity = quantity
        if (
            w.quantity is None
            and blank(line.quantity)
            and bundle.classification.item_type in _COUNTED_ITEMS
        ):
            w.errors.append("`quantity` is missing: expected a whole number of units >= 1")
        if line.value is not None:
            try:
                w.value = parse_money(line.value, "value")
            except ValueProblem as problem:
                w.errors.append(str(problem))
        if not blank(consignee.name):
            seen = (consignee.name, bundle.consignee_country)
            consignee_key = self._consignee_keys.get(seen)
            if consignee_key is None:
                consignee_key = name_key(str(consignee.name)) + "|" + bundle.consignee_country
                self._consignee_keys[seen] = consignee_key
            w.consignee_key = consignee_key

    def _bundle(self, line: Line, on: date, compiled: CompiledRules) -> _Bundle:
        errors: list[str] = []
        reasons: list[Reason] = []
        try:
            item_type = parse_choice(line.item_type, "item_type", ItemType)
        except ValueProblem as problem:
            errors.append(str(problem))
            item_type = None
        try:
            transaction = (
                parse_choice(line.transaction, "transaction", Transaction) or Transaction.EXPORT
            )
        except ValueProblem as problem:
            errors.append(str(problem))
            transaction = Transaction.EXPORT
        end_use = text(line.end_use)
        if end_use is not None:
            end_use = end_use.casefold().replace(" ", "_").replace("-", "_")
            if end_use not in self.rulebook.rules.end_uses:
                errors.append(
                    f"`end_use` value `{line.end_use}` is not one of: "
                    + ", ".join(self.rulebook.rules.end_uses)
                )
                end_use = None
        veu = text(line.veu)
        if veu is not None:
            veu = veu.casefold()
            if veu not in ("uveu", "nveu"):
                errors.append(f"`veu` value `{line.veu}` is not one of: uveu, nveu")
                veu = None
        specs = self._parse_specs(line, errors)
        classification = self._classify(
            compiled, on, text(line.item), text(line.eccn), specs, item_type
        )
        errors.extend(classification.errors)
        item_type = classification.item_type
        if transaction is Transaction.DEEMED_EXPORT and item_type not in _INFORMATION_ITEMS:
            errors.append(
                f"`transaction` value `deemed_export` applies to technology, software or model "
                f"weights, not to a `{item_type.value}` line"
            )

        destination = self._place(line.destination, "destination", on, errors)
        if text(line.destination) is None:
            errors.append("`destination` is missing: expected a country name or ISO code")
        consignee_place = self._place(line.consignee.country, "consignee_country", on, errors)
        end_user_place = self._place(line.end_user.country, "end_user_country", on, errors)
        hqs: list[tuple[str, str]] = []
        for party, role in ((line.consignee, "consignee"), (line.end_user, "end user")):
            hq = self._place(party.hq_country, f"{role.replace(' ', '_')}_hq_country", on, errors)
            if hq is not None:
                hqs.append((hq.code, role))
        for i, party in enumerate(line.intermediate_consignees):
            self._place(party.country, f"intermediate_consignees[{i}].country", on, errors)

        places: list[tuple[Place, str]] = []
        if destination is not None:
            places.append((destination, "destination"))
            if destination.note:
                reasons.append(
                    Reason(
                        rule="country.treated-as",
                        message=destination.note,
                        citation=destination.citation or "15 CFR 734",
                    )
                )
        for place, role in ((consignee_place, "consignee"), (end_user_place, "end user")):
            if place is not None and all(
                place.code != p.code or place.region != p.region for p, _ in places
            ):
                places.append((place, role))
        end_use_place = end_user_place or destination

        consignee_country = (
            consignee_place.code if consignee_place else destination.code if destination else ""
        )
        base_key = (id(classification), destination, tuple(errors), tuple(reasons))
        return _Bundle(
            base=self._bases.setdefault(base_key, len(self._bases)),
            classification=classification,
            place=destination,
            consignee_country=consignee_country,
            transaction=transaction,
            places=tuple(places),
            place_keys=tuple((p.code, p.region, role) for p, role in places),
            hqs=tuple(hqs),
            end_use=end_use,
            end_use_place=end_use_place,
            veu=veu,
            errors=tuple(errors),
            reasons=tuple(reasons),
        )

    def _decide(self, b: _Bundle, on: date, compiled: CompiledRules, view: View) -> _Static:
        """The static determination of a bundle on an epoch, shared across epochs whose
        tables for this line are the same objects (the compiler interns them)."""
        scope = b.classification.scope
        written = self.compiler.for_date(on, View.WRITTEN) if view is View.ENFORCED else compiled
        destination_rules = compiled.destination_rules
        written_rules = written.destination_rules
        headquarters_rules = compiled.headquarters_rules
        key = (
            view,
            self._signature(b.classification),
            b.transaction,
            b.place_keys,
            b.hqs,
            b.end_use,
            b.end_use_place.code if b.end_use_place else None,
            b.veu,
            tuple(id(destination_rules.get((scope, p.code), ())) for p, _ in b.places),
            tuple(id(written_rules.get((scope, p.code), ())) for p, _ in b.places),
            tuple(id(headquarters_rules.get((scope, hq), ())) for hq, _ in b.hqs),
            id(compiled.end_use_rules),
            id(compiled.advisories),
            id(compiled.doubts),
        )
        static = self._statics.get(key)
        if static is None:
            static = self._static(
                compiled,
                view,
                on,
                b.classification,
                b.transaction,
                list(b.places),
                list(b.hqs),
                b.end_use,
                b.end_use_place,
                b.veu,
            )
            self._statics[key] = static
        return static

    def _signature(self, c: Classification) -> int:
        """What the rules can see of a classified item (its scope, ECCN and type, the chips
        an advisory names, and the outcome of every item test in the rulebook), as a small int:
        equal for items the rules cannot tell apart."""
        found = self._signatures.get(id(c))  # classifications are memoised: ids are stable
        if found is None:
            named = None
            if c.chip is not None:
                inner = c.chip.contains.chip if c.chip.contains else None
                named = tuple(chip for chip in (c.chip.id, inner) if chip in self._named_chips)
            tests = []
            for test in self._item_tests:
                missing: set[str] = set()
                tests.append((any_of([test], c.specs, missing), frozenset(missing)))
            signature = (
                c.scope,
                c.eccn,  # exceptions name ECCNs (AIA: 4E001 but not 3E001)
                c.item_type,
                c.item_class is not None,
                named,
                c.specs.release_date is None,
                tuple(tests),
            )
            found = self._signature_ids.setdefault(signature, len(self._signature_ids))
            self._signatures[id(c)] = found
        return found

    def _static(
        self,
        compiled: CompiledRules,
        view: View,
        on: date,
        c: Classification,
        transaction: Transaction,
        places: list[tuple[Place, str]],
        hqs: list[tuple[str, str]],
        end_use: str | None,
        end_use_place: Place | None,
        veu: str | None,
    ) -> _Static:
        scope = c.scope
        findings: list[Finding] = []
        pendings: list[Pending] = []
        matched: list[tuple[CompiledRule, str, str]] = []
        classified = c.item_class is not None
        known_hqs = tuple(hq for hq, _ in hqs)
        # An item not subject to the EAR (published information) meets no EAR rule at all.
        for place, role in places if scope not in self._outside_ear else ():
            # Goods exported to one country for a party in another are reexported there.
            onward = (
                Transaction.REEXPORT
                if role != "destination" and transaction is Transaction.EXPORT
                else transaction
            )
            for cr in compiled.destination_rules.get((scope, place.code), ()):
                rule = cr.rule
                if rule.kind != "embargo" and not classified:
                    continue
                if rule.regions is not None and place.region not in rule.regions:
                    continue
                if not cr.fits_item(scope, c.item_type, onward) or not cr.fits_parties(known_hqs):
                    continue
                matched.append((cr, place.code, role))
        if classified and scope not in self._outside_ear:
            for hq, role in hqs:
                for cr in compiled.headquarters_rules.get((scope, hq), ()):
                    if cr.fits_item(scope, c.item_type, transaction) and cr.fits_parties(known_hqs):
                        matched.append((cr, hq, f"{role} headquarters"))
        if end_use is not None and end_use_place is not None and scope not in self._outside_ear:
            for cr in compiled.end_use_rules:
                rule = cr.rule
                assert rule.end_uses is not None
                if (
                    end_use in rule.end_uses
                    and end_use_place.code in cr.places
                    and cr.fits_item(scope, c.item_type, transaction)
                ):
                    matched.append((cr, end_use_place.code, "end use"))
        matched = self._apply_conditions(matched, c, findings)
        superseded = {s for cr, _, _ in matched for s in cr.rule.supersedes}
        matched = [m for m in matched if m[0].rule.id not in superseded]
        doubted = {p.code for p, _ in places} | set(known_hqs)
        findings.extend(
            Finding(Outcome.NLR, None, reasons=compiled.doubts[code])
            for code in sorted(doubted & compiled.doubts.keys())
        )
        for cr, place_code, role in matched:
            result = self._resolve_rule(cr, place_code, role, c, transaction, known_hqs, veu)
            if isinstance(result, Pending):
                pendings.append(result)
            else:
                findings.append(result)
        findings.extend(self._advisories(compiled, c, places, hqs, end_use, end_use_place))
        if view is View.ENFORCED and classified:
            findings.extend(self._written_only(on, c, transaction, places))
        tier = most_severe_tier(
            [cr.rule.tier for cr, _, _ in matched] + [f.tier for f in findings if f.tier]
        )
        if tier is None and classified and places:
            tier = Tier.UNRESTRICTED
        return _Static(tuple(findings), tuple(pendings), tier)

    def _apply_conditions(
        self,
        matched: list[tuple[CompiledRule, str, str]],
        c: Classification,
        findings: list[Finding],
    ) -> list[tuple[CompiledRule, str, str]]:
        """Drop rules whose item conditions fail; an unknown condition makes the line
        INDETERMINATE, except an unknown release date, which becomes a condition to certify."""
        kept = []
        unsettled: set[str] = set()
        for cr, place, role in matched:
            if cr.eccns is not None:
                named = eccn_fits(cr.eccns, c)
                if named is False:
                    continue
                if named is None and not c.eccn_names and cr.rule.kind == "embargo":
                    # An unclassified item (the line is INDETERMINATE anyway): an embargo is
                    # kept, the stricter reading, so the line shows the denial it may face.
                    named = True
                if named is None:
                    unsettled.update(cr.rule.supersedes)
                    message = (
                        f"cannot tell whether {cr.rule.id} applies: it reaches only the ECCNs it "
                        f"names, and the item may be {c.eccn or 'unclassified'}"
                        + (f": give {c.eccn_needed}" if c.eccn_needed else "")
                    )
                    findings.append(
                        Finding(
                            Outcome.INDETERMINATE,
                            cr.rule.tier,
                            reasons=(Reason(cr.rule.id, message, cr.rule.citation),),
                            errors=(message,),
                        )
                    )
                    continue
            test = cr.rule.item_conditions
            if test is None:
                kept.append((cr, place, role))
                continue
            missing: set[str] = set()
            result = any_of([test], c.specs, missing)
            if result is None and missing == {"released"}:
                without_date = test.model_copy(update={"released_by": None})
                if any_of([without_date], c.specs, set()) is True:
                    kept.append((cr, place, role))
                continue
            if result is None:
                # The rules this one would supersede are unsettled too: drop them, so the line
                # is INDETERMINATE rather than shown under a policy that may not apply. Its tier
                # is the strictest either could give: a map never shows less than a check.
                unsettled.update(cr.rule.supersedes)
                needed = ", ".join(sorted(PARAMETER_NAMES[name] for name in missing))
                message = f"cannot tell whether {cr.rule.id} applies: give {needed}"
                candidates = [cr.rule.tier] + [
                    m.rule.tier for m, _, _ in matched if m.rule.id in cr.rule.supersedes
                ]
                findings.append(
                    Finding(
                        Outcome.INDETERMINATE,
                        most_severe_tier(candidates),
                        reasons=(Reason(cr.rule.id, message, cr.rule.citation),),
                        errors=(message,),
                    )
                )
                continue
            if result:
                kept.append((cr, place, role))
        return [m for m in kept if m[0].rule.id not in unsettled]

    def _resolve_rule(
        self,
        cr: CompiledRule,
        place: str,
        role: str,
        c: Classification,
        transaction: Transaction,
        hqs: tuple[str, ...],
        veu: str | None,
    ) -> Finding | Pending:
        rule = cr.rule
        where = f" ({role}: {place})" if role != "destination" else ""
        reason = (
            cr.reason
            if not where
            else Reason(
                cr.reason.rule,
                cr.reason.message + where,
                cr.reason.citation,
                cr.reason.uncertain,
                cr.reason.note,
            )
        )
        extra_conditions: tuple[str, ...] = ()
        conditions_test = rule.item_conditions
        if (
            conditions_test is not None
            and conditions_test.released_by is not None
            and c.specs.release_date is None
        ):
            extra_conditions = (
                "the exporter certifies the chip was commercially available in the US on "
                f"{conditions_test.released_by.isoformat()}",
            )
        licence = Finding(
            outcome=Outcome.PROHIBITED
            if rule.review_policy is ReviewPolicy.DENIAL
            else Outcome.LICENSE_REQUIRED,
            tier=rule.tier,
            review_policy=rule.review_policy,
            conditions=(*rule.conditions, *extra_conditions),
            reasons=(reason,),
        )
        fallback: Finding | Pending = licence
        if rule.allocation is not None and c.item_type not in _COUNTED_ITEMS:
            # An allocation counts the TPP of commodities; technology and software carry none.
            fallback = licence = replace(
                licence,
                conditions=(
                    *licence.conditions,
                    f"the country allocation `{rule.allocation}` counts commodities only: "
                    "tiergate does not count this line against it, and once the destination's "
                    "allocation is used up the review policy becomes denial",
                ),
            )
        elif rule.allocation is not None and licence.outcome is Outcome.LICENSE_REQUIRED:
            allocation = self.allowance(rule.allocation)
            fallback = Pending(
                allowance=allocation,
                key_kind="country",
                within=licence,
                beyond=Finding(
                    outcome=Outcome.PROHIBITED,
                    tier=Tier.PROHIBITED,
                    review_policy=ReviewPolicy.DENIAL,
                    reasons=(
                        reason,
                        Reason(
                            rule=allocation.id,
                            message="the destination's country allocation would be exceeded: "
                            "presumption of denial",
                            citation=allocation.citation,
                            uncertain=allocation.uncertain,
                            note=allocation.uncertain_note,
                        ),
                    ),
                ),
            )
        if c.scope is None:
            return fallback
        held: list[LicenceException] = []
        for ce in cr.exceptions:
            if not self._exception_fits(ce, place, c, transaction, hqs, veu):
                continue
            e = ce.exception
            if e.review_required:
                held.append(e)  # unless an exception tiergate can check fits too
                continue
            exc_reason = Reason(
                rule=e.id,
                message=f"License Exception {e.symbol} ({e.title}) may be used",
                citation=e.citation,
                uncertain=e.uncertain,
                note=e.uncertain_note,
            )
            conditions = tuple(e.conditions)
            found = Finding(
                outcome=Outcome.EXCEPTION,
                tier=rule.tier,
                exception=e.symbol,
                conditions=conditions,
                reasons=(reason, exc_reason),
            )
            if e.allowance is not None:
                return Pending(self.allowance(e.allowance), "consignee", found, fallback)
            return found
        if held:
            return Finding(
                outcome=Outcome.HOLD,
                tier=rule.tier,
                exception="+".join(dict.fromkeys(e.symbol for e in held)),
                conditions=tuple(dict.fromkeys(cond for e in held for cond in e.conditions)),
                reasons=(
                    reason,
                    *(
                        Reason(
                            e.id,
                            f"License Exception {e.symbol} may apply; "
                            "a person must confirm its conditions",
                            e.citation,
                            e.uncertain,
                            e.uncertain_note,
                        )
                        for e in held
                    ),
                ),
            )
        return fallback

    @staticmethod
    def _exception_fits(
        ce: CompiledException,
        place: str,
        c: Classification,
        transaction: Transaction,
        hqs: tuple[str, ...],
        veu: str | None,
    ) -> bool:
        assert c.scope is not None
        e = ce.exception
        if not ce.fits_item(c.scope, c.item_type, transaction):
            return False
        if ce.eccns is not None and eccn_fits(ce.eccns, c) is not True:
            return False
        if ce.places is not None and place not in ce.places:
            return False
        if e.headquarters_required and not hqs:
            return False
        if ce.headquarters_in is not None and any(hq not in ce.headquarters_in for hq in hqs):
            return False
        conditions = e.item_conditions
        if conditions is not None and any_of([conditions], c.specs, set()) is not True:
            return False
        if ce.headquarters_not_in is not None and any(hq in ce.headquarters_not_in for hq in hqs):
            return False
        required = e.requires_veu
        return required is None or (veu is not None and veu in required)

    def allowance_limit(self, allowance_id: str) -> float:
        """The limit in TPP of an allowance, as this engine applies it."""
        return self.allowance(allowance_id).limit_tpp

    def allowance(self, allowance_id: str) -> Allowance:
        """An allowance as this engine applies it (its country allocation, when given)."""
        for allowance in self.rulebook.allowances.allowances:
            if allowance.id == allowance_id:
                if allowance.kind == "per_country_period" and self.country_allocation_tpp:
                    return allowance.model_copy(update={"limit_tpp": self.country_allocation_tpp})
                return allowance
        raise UsageError(f"allowance `{allowance_id}` is not defined in allowances.yaml")

    def _advisories(
        self,
        compiled: CompiledRules,
        c: Classification,
        places: list[tuple[Place, str]],
        hqs: list[tuple[str, str]],
        end_use: str | None,
        end_use_place: Place | None,
    ) -> list[Finding]:
        found: list[Finding] = []
        chip_id = c.chip.id if c.chip is not None else None
        inner_id = c.chip.contains.chip if c.chip is not None and c.chip.contains else None
        for ca in compiled.advisories:
            a = ca.advisory
            if a.item_types is not None and c.item_type not in a.item_types:
                continue
            if (
                a.scopes is not None
                and c.scope not in a.scopes
                and not (a.chips and chip_id in a.chips)
            ):
                continue
            message = ca.reason.message
            if a.end_uses is not None:
                if (
                    end_use not in a.end_uses
                    or end_use_place is None
                    or end_use_place.code not in ca.places
                ):
                    continue
            elif a.regions is not None:
                if not any(p.code in ca.places and p.region in a.regions for p, _ in places):
                    continue
            elif not any(p.code in ca.places for p, _ in places):
                # Not by destination: by a party's headquarters, where the advisory has that prong.
                by_hq = [f"{role} headquarters: {hq}" for hq, role in hqs if hq in ca.headquarters]
                if not by_hq:
                    continue
                message += " (" + "; ".join(by_hq) + ")"
            if a.chips is not None or a.item_any_of is not None:
                named = a.chips is not None and (chip_id in a.chips or inner_id in a.chips)
                missing: set[str] = set()
                by_parameters = any_of(a.item_any_of, c.specs, missing) if a.item_any_of else False
                if not named and by_parameters is False:
                    continue
                if not named and by_parameters is None:
                    message += (
                        " (parameters missing: "
                        + ", ".join(sorted(missing))
                        + "; cannot rule it out)"
                    )
            found.append(
                Finding(
                    Outcome.HOLD,
                    None,
                    reasons=(Reason(a.id, message, a.citation, a.uncertain, a.uncertain_note),),
                )
            )
        return found

    def _written_only(
        self, on: date, c: Classification, transaction: Transaction, places: list[tuple[Place, str]]
    ) -> list[Finding]:
        """In the enforced view, say which written-only rules would bind (informational)."""
        written = self.compiler.for_date(on, View.WRITTEN)
        notes: list[Reason] = []
        for place, _role in places:
            for cr in written.destination_rules.get((c.scope, place.code), ()):
                if cr.rule.views == [View.WRITTEN] and cr.fits_item(
                    c.scope, c.item_type, transaction
                ):
                    notes.append(
                        Reason(
                            rule=cr.rule.id,
                            message=f"not enforced: in the written view, {cr.rule.message}",
                            citation=cr.rule.citation,
                        )
                    )
        if not notes:
            return []
        return [Finding(Outcome.NLR, None, reasons=(NON_ENFORCEMENT, *notes))]

    # --- licences ------------------------------------------------------------------------

    def _apply_licence(self, w: _Work, book: LicenceBook) -> None:
        """Cover the line's EAR licence requirements with a held licence, if one reaches it."""
        static, c = w.static, w.classification
        if static is None or c is None or w.as_of is None or w.errors:
            return
        needing = [f for f in (*static.findings, *w.resolved) if _needs_licence(f)]
        if not needing or w.quantity is None:
            return
        if any(f.outcome is Outcome.PROHIBITED for f in w.parties):
            return  # a licence never covers a listed party: do not spend it on the line
        consignee = text(w.line.consignee.name)
        drawn = book.draw(
            w.as_of,
            c.eccn,
            c.scope,
            w.place.as_written if w.place else None,
            consignee,
            w.quantity,
            w.value,
        )
        if isinstance(drawn, list):
            w.reasons.extend(
                Reason(
                    rule=f"licence.{number}",
                    message=f"licence {number} reaches this line but authorizes a value: give the "
                    "line's `value` (US dollars) to draw on it",
                    citation=LICENCE_CITATION,
                )
                for number in drawn
            )
            return
        grant = drawn.grant
        balance = (
            f"{drawn.quantity_before:,} units left before this line, {drawn.quantity_after:,} after"
        )
        if drawn.value_before is not None and drawn.value_after is not None:
            balance += (
                f"; US${drawn.value_before:,.2f} of value left before, "
                f"US${drawn.value_after:,.2f} after"
            )
        w.licence = (
            grant,
            Finding(
                Outcome.LICENSED,
                None,
                conditions=(grant.conditions,) if grant.conditions else (),
                reasons=(
                    Reason(
                        rule=f"licence.{grant.number}",
                        message=f"covered by licence {grant.number} held by {grant.holder}: "
                        + balance,
                        citation=LICENCE_CITATION,
                    ),
                ),
            ),
        )

    # --- allowances ----------------------------------------------------------------------

    def _settle_allowances(self, w: _Work, state: AllowanceState) -> None:
        static = w.static
        if static is None or not static.pendings:
            return
        blocking = any(
            SEVERITY[f.outcome] >= SEVERITY[Outcome.INDETERMINATE] and f.outcome is not Outcome.HOLD
            for f in (*static.findings, *w.parties)
        ) or bool(w.errors)
        assert w.as_of is not None
        assert w.classification is not None
        unit = w.classification.unit_tpp
        for pending in static.pendings:
            node: Finding | Pending = pending
            while isinstance(node, Pending):
                if unit is None or w.quantity is None:
                    w.errors.append(
                        f"cannot count allowance `{node.allowance.id}`: the line's TPP and "
                        "quantity are needed"
                    )
                    break
                amount = unit * w.quantity
                if node.key_kind == "consignee":
                    if w.consignee_key is None:
                        w.errors.append(
                            f"cannot count allowance `{node.allowance.id}`: the consignee's name "
                            "is needed (LPP is counted per ultimate consignee)"
                        )
                        break
                    key = (node.allowance.id, w.consignee_key, str(w.as_of.year))
                else:
                    assert w.place is not None
                    period = f"{node.allowance.period_start}/{node.allowance.period_end}"
                    key = (node.allowance.id, w.place.code, period)
                used = state.used.get(key, 0.0)
                limit = node.allowance.limit_tpp
                if used + amount <= limit:
                    if not blocking:
                        state.used[key] = used + amount
                        w.debits.append((*key, amount))
                    usage = Reason(
                        rule=node.allowance.id,
                        message=f"{_fmt(amount)} TPP on this line; {_fmt(used)} used before, "
                        f"{_fmt(used + amount)} of {_fmt(limit)} after",
                        citation=node.allowance.citation,
                        uncertain=node.allowance.uncertain,
                        note=node.allowance.uncertain_note,
                    )
                    within = node.within
                    w.resolved.append(
                        Finding(
                            within.outcome,
                            within.tier,
                            within.review_policy,
                            within.exception,
                            within.conditions,
                            (*within.reasons, usage),
                        )
                    )
                    node = within
                    break
                w.reasons.append(
                    Reason(
                        rule=node.allowance.id,
                        message=f"{_fmt(amount)} TPP on this line would take the total from "
                        f"{_fmt(used)} past {_fmt(limit)}: not within the allowance",
                        citation=node.allowance.citation,
                        uncertain=node.allowance.uncertain,
                        note=node.allowance.uncertain_note,
                    )
                )
                node = node.beyond
            if isinstance(node, Finding) and node not in w.resolved:
                w.resolved.append(node)

    # --- combine -------------------------------------------------------------------------

    def _result(self, w: _Work) -> LineResult:
        bundle = w.bundle
        if (
            bundle is not None
            and not w.resolved
            and not w.parties
            and w.licence is None
            and w.hold_decision is None
            and not w.reasons
            and len(w.errors) == len(bundle.errors)
        ):
            # Nothing line-specific: lines with the same bundle basis and static share it.
            key = (bundle.base, id(w.static))
            found = self._combined.get(key)
            if found is None:
                found = self._combined[key] = self._combine(w)
            combined = found
        else:
            combined = self._combine(w)
        line = w.line
        unit = combined.unit_tpp
        quantity = w.quantity
        total = unit * quantity if unit is not None and quantity is not None else None
        line_id = self._text(line.line_id)
        # Positional, in LineResult's field order: this runs once per line of a large book.
        return LineResult(
            self._text(line.shipment_id),
            line_id if line_id is not None else str(w.index + 1),
            w.as_of,
            self._text(line.item) or self._text(line.eccn),
            combined.item_name,
            combined.item_type,
            combined.eccn,
            combined.scope,
            unit,
            combined.performance_density,
            quantity,
            total,
            round(total / self._h100, 2) if total is not None else None,
            combined.destination,
            combined.destination_note,
            combined.tier,
            combined.outcome,
            combined.exception,
            combined.review_policy,
            combined.conditions,
            combined.reasons,
            combined.errors,
            combined.uncertain,
            line.extra,
            tuple(w.debits),
            w.licence[0].number if w.licence is not None else None,
            combined.hold_signature,
            w.value,
            line,
        )

    def _text(self, value: Any) -> str | None:
        found = self._texts.get(value, _UNSEEN)
        if found is _UNSEEN:
            found = text(value)
            if len(self._texts) < 1_000_000:  # bounded: ids are often unique
                self._texts[value] = found
        return found  # type: ignore[no-any-return]

    def _combine(self, w: _Work) -> _Combined:
        """Apply the precedence table (`model.SEVERITY`) to a line's findings."""
        c = w.classification
        static = w.static
        findings: list[Finding] = []
        if static is not None:
            findings.extend(static.findings)
        findings.extend(w.resolved)
        tier = most_severe_tier(
            [static.tier if static else None, *(f.tier for f in (*findings, *w.parties))]
        )
        if w.licence is not None:
            # The licence replaces the EAR licence requirements; list hits and advisories stay,
            # and so does what the line counts against an allowance (a Tier 2 country
            # allocation counts licensed exports).
            replaced = [f for f in findings if _needs_licence(f)]
            findings = [f for f in findings if not _needs_licence(f)]
            debited = {debit[0] for debit in w.debits}
            counted = tuple(r for f in replaced for r in f.reasons if r.rule in debited)
            licensed = w.licence[1]
            findings.append(replace(licensed, reasons=(*licensed.reasons, *counted)))
        findings.extend(w.parties)
        held = [f for f in findings if f.outcome is Outcome.HOLD]
        hold_signature = (
            ",".join(sorted({r.rule for f in held for r in f.reasons})) if held else None
        )
        decision = w.hold_decision
        if decision is not None and held and decision.signature == hold_signature:
            findings = [f for f in findings if f.outcome is not Outcome.HOLD]
            note = (
                f"hold {decision.status} by {decision.by} on {decision.at[:10]}: {decision.reason}"
            )
            reason = Reason(f"hold.{decision.status}", note, "tiergate ledger (holds)")
            outcome = Outcome.PROHIBITED if decision.status == "rejected" else Outcome.NLR
            findings.append(Finding(outcome, None, reasons=(reason,)))
        errors = tuple(dict.fromkeys([*w.errors, *(e for f in findings for e in f.errors)]))
        if errors:
            findings.append(Finding(Outcome.INDETERMINATE, None))
        if (
            static is not None
            and not w.resolved
            and not w.parties
            and w.licence is None
            and w.hold_decision is None
            and not errors
        ):
            verdict = self._verdicts.get(id(static))
            if verdict is None:
                verdict = self._verdicts[id(static)] = _verdict(findings)
        else:
            verdict = _verdict(findings)
        outcome = verdict.outcome
        reasons: list[Reason] = []
        if c is not None:
            reasons.extend(c.reasons)
        if w.bundle is not None:
            reasons.extend(w.bundle.reasons)
        reasons.extend(w.reasons)
        reasons.extend(verdict.reasons)
        if outcome is Outcome.NLR and not errors and c is not None:
            place = w.place.code if w.place else "?"
            nlr = self._nlr_reasons.get((c.eccn, place))
            if nlr is None:
                nlr = self._nlr_reasons[(c.eccn, place)] = Reason(
                    rule="nlr",
                    message=f"no licence requirement for {c.eccn} to {place} on the line's date "
                    "under the rules tiergate encodes",
                    citation="15 CFR 742.6 and Part 746 as encoded in the rulebook",
                )
            reasons.append(nlr)
        exception = verdict.exception
        review_policy = verdict.review_policy
        conditions = verdict.conditions
        return _Combined(
            outcome=outcome,
            tier=tier,
            exception=exception,
            review_policy=review_policy,
            conditions=conditions,
            # Reasons are shared objects: dedupe by identity, which is cheap, not by value.
            reasons=tuple({id(reason): reason for reason in reasons}.values()),
            errors=errors,
            uncertain=any(r.uncertain for r in reasons) or (c is not None and c.uncertain),
            item_name=c.chip.name if c is not None and c.chip is not None else None,
            item_type=c.item_type.value if c is not None else None,
            eccn=c.eccn if c is not None else None,
            scope=c.scope if c is not None else None,
            unit_tpp=c.unit_tpp if c is not None else None,
            performance_density=(
                round(c.specs.performance_density, 2)
                if c is not None and c.specs.performance_density is not None
                else None
            ),
            destination=w.place.code if w.place else None,
            destination_note=w.place.note if w.place else None,
            hold_signature=hold_signature,
        )


@dataclass(frozen=True, slots=True)
class _Verdict:
    """The precedence table applied to a set of findings."""

    outcome: Outcome
    exception: str | None
    review_policy: ReviewPolicy | None
    conditions: tuple[str, ...]
    reasons: tuple[Reason, ...]


def _verdict(findings: list[Finding]) -> _Verdict:
    """The most severe outcome among `findings`, with what the deciding findings say."""
    deciding = [f for f in findings if f.outcome is not Outcome.NLR]
    outcome = max((f.outcome for f in deciding), key=SEVERITY.__getitem__, default=Outcome.NLR)
    top = [f for f in deciding if f.outcome is outcome]
    exception = None
    review_policy = None
    conditions: tuple[str, ...] = ()
    if outcome in (Outcome.EXCEPTION, Outcome.HOLD):
        # On HOLD, an exception named here is one a person must confirm before use.
        exception = "+".join(dict.fromkeys(f.exception for f in top if f.exception)) or None
    if outcome in (Outcome.LICENSE_REQUIRED, Outcome.PROHIBITED):
        policies = [f.review_policy for f in top if f.review_policy is not None]
        review_policy = max(policies, key=_POLICY_ORDER.__getitem__) if policies else None
    if outcome in (Outcome.EXCEPTION, Outcome.LICENSED, Outcome.LICENSE_REQUIRED, Outcome.HOLD):
        conditions = tuple(dict.fromkeys(cond for f in top for cond in f.conditions))
    reasons = tuple(
        reason for f in sorted(findings, key=lambda f: -SEVERITY[f.outcome]) for reason in f.reasons
    )
    return _Verdict(outcome, exception, review_policy, conditions, reasons)


@dataclass(frozen=True, slots=True)
class HoldDecision:
    """A person's decision on a held line, for the rules (`signature`) that held it."""

    signature: str
    status: str  # "released" or "rejected"
    by: str
    at: str
    reason: str


_SHARED: Engine | None = None
_UNSEEN: Any = object()
_NO_SPECS = Specs()


def _needs_licence(finding: Finding) -> bool:
    """An EAR licence requirement (which a held licence replaces), not a list hit."""
    return (
        finding.outcome in (Outcome.LICENSE_REQUIRED, Outcome.PROHIBITED)
        and finding.review_policy is not None
    )


_POLICY_ORDER = {ReviewPolicy.APPROVAL: 0, ReviewPolicy.CASE_BY_CASE: 1, ReviewPolicy.DENIAL: 2}


def _check_stored_texts(line: Line, errors: list[str]) -> None:
    """The ids and party names the ledger stores keep the same limits on every database."""
    texts = [
        ("shipment_id", line.shipment_id, MAX_ID_LENGTH),
        ("line_id", line.line_id, MAX_ID_LENGTH),
        ("consignee", line.consignee.name, MAX_NAME_LENGTH),
        ("end_user", line.end_user.name, MAX_NAME_LENGTH),
    ]
    texts.extend(
        ("intermediate consignee", party.name, MAX_NAME_LENGTH)
        for party in line.intermediate_consignees
    )
    for column, value, most in texts:
        try:
            check_stored_text(value, column, most)
        except ValueProblem as problem:
            errors.append(str(problem))


def most_severe_tier(tiers: Iterable[Tier | None]) -> Tier | None:
    """The strictest of `tiers` (None when none is given).

    The one rule for a line's tier (README, "Reading an answer"): the strictest tier among
    the licence requirements that reach the line, each rule declaring its own in the rulebook, and
    `prohibited` for any requirement reviewed under a policy of denial (a rule's presumption of
    denial, a country allocation used up, a list hit reviewed under denial).
    """
    given = [t for t in tiers if t is not None]
    return max(given, key=TIER_SEVERITY.__getitem__) if given else None


def tier_of_policy(policy: ReviewPolicy | None) -> Tier | None:
    """The tier a licence requirement with `policy` gives (None: no licence requirement)."""
    if policy is None:
        return None
    return Tier.PROHIBITED if policy is ReviewPolicy.DENIAL else Tier.RESTRICTED


V = TypeVar("V")


def _parsed(
    parser: Callable[[Any, str], V | None], value: Any, column: str, errors: list[str]
) -> V | None:
    """`parser(value, column)`, or None with its problem added to `errors`."""
    try:
        return parser(value, column)
    except ValueProblem as problem:
        errors.append(str(problem))
        return None


def _fmt(number: float) -> str:
    return f"{number:,.0f}"


def _overlay(base: Specs, given: Specs) -> Specs:
    """`base` with every parameter `given` states replacing it."""
    values = {
        name: getattr(given, name) if getattr(given, name) is not None else getattr(base, name)
        for name in Specs.__slots__
    }
    return Specs(**values)


def _catalog_message(chip: Any, specs: Specs) -> str:
    parts = [f"catalog item {chip.name}"]
    if chip.contains is not None:
        parts.append(f"contains {chip.contains.count} x {chip.contains.chip}")
    if specs.tpp is not None:
        parts.append(f"TPP {specs.tpp:,.0f} per IC")
    if specs.performance_density is not None:
        parts.append(f"PD {specs.performance_density:.2f}")
    parts.append("datacenter" if chip.datacenter else "not designed for datacenters")
    return ", ".join(parts)


def summarise(lines_in: int, results: tuple[LineResult, ...]) -> Summary:
    """Counts by outcome and tier; `lines_in == lines_out` always."""
    by_outcome = Counter(r.outcome.value for r in results)
    by_tier = Counter(r.tier.value if r.tier else "unknown" for r in results)
    may_ship = sum(1 for r in results if r.outcome in SHIPPABLE)
    keys = Counter(f"{r.shipment_id or ''}/{r.line_id or ''}" for r in results)
    return Summary(
        lines_in=lines_in,
        lines_out=len(results),
        by_outcome={o.value: by_outcome.get(o.value, 0) for o in Outcome},
        by_tier=dict(sorted(by_tier.items())),
        lines_with_errors=sum(1 for r in results if r.errors),
        may_ship=may_ship,
        may_not_ship=len(results) - may_ship,
        duplicate_ids=tuple(sorted(key for key, count in keys.items() if count > 1)),
    )
