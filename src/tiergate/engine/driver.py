"""The driver: `Engine` holds a rulebook's resolvers, compiled tables and bounded memo tables,
and runs the stages over every line in the brief's order of determination.

The static part of a line (`normalise.StaticLine`) is determined first, memoised by that
value: large books repeat the same item, places and parties. Then, in date order, the parts
that depend on the lines before (allowances, licences), and finally each line's verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from itertools import count
from typing import Any

from tiergate.catalog import Catalog
from tiergate.classify import Classification, Specs
from tiergate.compiled import CompiledRules, Compiler
from tiergate.countries import CountryResolver, default_resolver
from tiergate.engine import allowances as allowance_stage
from tiergate.engine import classify as classify_stage
from tiergate.engine import (
    destination,
    item_destination,
    normalise,
    parties,
)
from tiergate.engine import licences as licence_stage
from tiergate.engine.allowances import AllowanceState
from tiergate.engine.findings import Bundle, HoldDecision, StaticDetermination, Work
from tiergate.engine.memo import Memo
from tiergate.engine.standing import StandingReasons
from tiergate.engine.statics import Statics
from tiergate.engine.verdict import Verdicts, summarise
from tiergate.errors import UsageError
from tiergate.gcpause import cyclic_gc_paused
from tiergate.licences import LicenceBook
from tiergate.model import Line, LineResult, Reason, Report, Shipment
from tiergate.normalise import ValueProblem, blank, parse_money, parse_quantity, text
from tiergate.progress import Progress
from tiergate.rulebook import (
    Allowance,
    ItemType,
    Rulebook,
    Transaction,
    View,
    default_rulebook,
)
from tiergate.terms import Raw


class Engine:
    """Holds a rulebook's resolvers and compiled tables; `check` is safe to call repeatedly."""

    def __init__(
        self,
        rulebook: Rulebook | None = None,
        *,
        country_allocation_tpp: float | None = None,
        screener: parties.PartyScreener | None = None,
    ) -> None:
        """With a `screener`, every named party (consignee, end user, intermediate
        consignees) is screened and list hits become findings; without one, lists are not
        consulted."""
        self.rulebook = rulebook or default_rulebook()
        if country_allocation_tpp is not None and country_allocation_tpp <= 0:
            raise UsageError(
                f"country allocation `{country_allocation_tpp}` must be a positive TPP figure"
            )
        self.country_allocation_tpp = country_allocation_tpp
        self.countries = (
            default_resolver() if rulebook is None else CountryResolver(rulebook.countries)
        )
        self.catalog = Catalog(self.rulebook)
        self.compiler = Compiler(self.rulebook, self.countries)
        self.standing_reasons = StandingReasons.of(self.rulebook)
        self.screening = (
            parties.PartyScreening(screener, self.countries) if screener is not None else None
        )
        self._item_tests = classify_stage.ItemTests.of(self.rulebook)
        self._veu_kinds = tuple(
            dict.fromkeys(
                v for e in self.rulebook.exceptions.exceptions for v in e.requires_veu or ()
            )
        )
        self._places = destination.PlaceFinder(self.countries, self.compiler.epoch_of)
        self._verdicts = Verdicts(self.rulebook.meta.h100_tpp, self.standing_reasons.nlr_citation)
        self._statics = Statics(
            self.compiler,
            frozenset(self.rulebook.item_classes.outside_ear),
            self.allowance,
            self.standing_reasons.non_enforcement,
        )
        self._ids = count()
        self._earliest = self.rulebook.meta.earliest_date
        self.clear_memos()

    def clear_memos(self) -> None:
        """Forget every remembered answer (the benchmark's cold baseline; answers never change)."""
        self._epochs: Memo[tuple[date, View], tuple[int, CompiledRules]] = Memo()
        self._classified: Memo[
            tuple[tuple[str, ...], classify_stage.ItemQuery], tuple[Classification, int]
        ] = Memo()
        self._signatures: Memo[classify_stage.Signature, int] = Memo()
        self._bundles: Memo[tuple[tuple[str, ...], normalise.StaticLine], Bundle] = Memo()
        self._bases: Memo[tuple[object, ...], int] = Memo()
        self._decided: Memo[tuple[Bundle, int, View], StaticDetermination] = Memo()
        self._dates: Memo[Raw, date | str] = Memo()
        self._quantities: Memo[Raw, int | str | None] = Memo()
        self._consignee_keys: Memo[tuple[Raw, str], str] = Memo()
        self._places.memo.clear()
        self._statics.clear()
        self._verdicts.clear()
        if self.screening is not None:
            self.screening.memo.clear()

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
        progress: Progress | None = None,
    ) -> Report:
        """Determine every line; lines in equal lines out, in input order. With `licences`,
        lines they cover are LICENSED (see `tiergate.licences`); with `hold_decisions`, a held
        line a person released (for the same reasons) is cleared, one they rejected is
        PROHIBITED. `progress` counts the lines off as they are determined."""
        with cyclic_gc_paused():  # only in a process with one thread (see gcpause)
            return self._check(
                shipments,
                as_of,
                view,
                today or date.today(),
                allowances,
                licences,
                hold_decisions,
                progress,
            )

    def _check(
        self,
        shipments: Iterable[Shipment | Line],
        as_of: date | None,
        view: View,
        today: date,
        allowances: AllowanceState | None,
        licences: LicenceBook | None,
        hold_decisions: Mapping[tuple[str, str], HoldDecision] | None,
        progress: Progress | None,
    ) -> Report:
        state = allowances if allowances is not None else AllowanceState()
        lines: list[Line] = []
        for item in shipments:
            lines.extend(item.flatten() if isinstance(item, Shipment) else [item])
        read = lines if progress is None else progress.track(lines, "determining lines")
        results = self._results(
            enumerate(read), as_of, view, today, state, licences, hold_decisions or {}
        )
        if len(results) != len(lines):  # lines in equal lines out, whatever a progress yields
            raise RuntimeError(f"progress gave {len(results)} of {len(lines)} lines")
        return Report(
            as_of=as_of,
            view=view,
            rulebook_version=self.rulebook.version,
            editions=self.editions(),
            lines=results,
            summary=summarise(len(lines), results),
            allowances=state.as_dict(),
        )

    def _results(
        self,
        indexed: Iterable[tuple[int, Line]],
        as_of: date | None,
        view: View,
        today: date,
        state: AllowanceState,
        licences: LicenceBook | None,
        decisions: Mapping[tuple[str, str], HoldDecision],
    ) -> tuple[LineResult, ...]:
        work = [self._static_work(i, line, as_of, today, view, decisions) for i, line in indexed]
        counted = [w for w in work if w.static is not None and w.static.pendings]
        for w in sorted(counted, key=_date_order):
            allowance_stage.settle(w, state)
        if licences is not None:
            for w in sorted(work, key=_date_order):
                licence_stage.apply_licence(w, licences, self.standing_reasons.licence_citation)
        return tuple(self._verdicts.result(w) for w in work)

    def determine(
        self,
        indexed: Iterable[tuple[int, Line]],
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        today: date | None = None,
        allowances: AllowanceState | None = None,
        licences: LicenceBook | None = None,
        hold_decisions: Mapping[tuple[str, str], HoldDecision] | None = None,
    ) -> tuple[LineResult, ...]:
        """`check` of lines at their places in a book (from 0: a line without an id takes
        its number; lines of a date draw allowances and licences in this order): the columnar
        path (`tiergate.batch`) sends those it cannot share, among them every line that draws
        on an allowance or that a licence may cover, as one pass over the book would."""
        with cyclic_gc_paused():  # only in a process with one thread (see gcpause)
            state = allowances if allowances is not None else AllowanceState()
            on = today or date.today()
            return self._results(indexed, as_of, view, on, state, licences, hold_decisions or {})

    def holdings(
        self,
        indexed: Iterable[tuple[int, Line]],
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        today: date | None = None,
    ) -> tuple[tuple[tuple[str, str, str], ...], ...]:
        """For each line, every (allowance, holder, period) it may count against
        (`allowances.holdings`): `tiergate.spark` settles together the lines that share one."""
        on = today or date.today()
        with cyclic_gc_paused():  # only in a process with one thread (see gcpause)
            work = [self._static_work(i, line, as_of, on, view, {}) for i, line in indexed]
            return tuple(allowance_stage.holdings(w) for w in work)

    def shape(self, static: normalise.StaticLine, on: date, view: View) -> Work:
        """What every line with the static part `static`, dated `on` (a date the rulebook
        covers) and without a value of its own (ids, party names, quantity, value) shares:
        its static determination and the errors it carries. The columnar path determines
        each distinct shape of a book once (`Verdicts.shared` gives the rest); its `line`
        holds no value, and is replaced by a line of the shape to build a result."""
        w = Work(0, _NO_VALUES, on, [], [])
        self._determine_static(w, view, static)
        return w

    @property
    def verdicts(self) -> Verdicts:
        """The verdict stage, with its memo tables."""
        return self._verdicts

    def standing(self, line: Line, on: date, view: View) -> LineResult:
        """One line's result with every allowance assumed available: for country maps and
        rule listings, never for shipments (use `check`, which counts allowances)."""
        w = self._prepare(0, line, on, on)
        self._determine_static(w, view, normalise.static_line(line))
        if w.bundle is not None:
            self._per_line(w, w.bundle)
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
        return self._verdicts.result(w)

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
        self.check_range(on)
        compiled = self.compiler.for_date(on, View.WRITTEN)
        query = classify_stage.ItemQuery(item, eccn, specs or Specs(), item_type)
        return self._classify(compiled, on, query)[0]

    def check_range(self, on: date) -> None:
        """Raise `UsageError` for a date before the rulebook's first date."""
        earliest = self.rulebook.meta.earliest_date
        if on < earliest:
            raise UsageError(
                f"date `{on.isoformat()}` is before the rulebook's first date "
                f"{earliest.isoformat()}: tiergate encodes the rules from then on"
            )

    def allowance_limits(self) -> dict[str, float]:
        """Every allowance's limit in TPP as this engine applies it, by its id (what a ledger
        commit checks against)."""
        return {a.id: self.allowance(a.id).limit_tpp for a in self.rulebook.allowances.allowances}

    def allowance(self, allowance_id: str) -> Allowance:
        """An allowance as this engine applies it (its country allocation, when given)."""
        return allowance_stage.allowance_of(
            self.rulebook, allowance_id, self.country_allocation_tpp
        )

    # --- stages 1 and 2: normalise and classify ------------------------------------------

    def _static_work(
        self,
        index: int,
        line: Line,
        as_of: date | None,
        today: date,
        view: View,
        decisions: Mapping[tuple[str, str], HoldDecision],
    ) -> Work:
        """A line with its static part determined, its parties screened and a person's
        decision on its hold (if any) attached."""
        w = self._prepare(index, line, as_of, today)
        self._determine_static(w, view, normalise.static_line(line))
        if w.bundle is not None:
            self._per_line(w, w.bundle)
        if self.screening is not None:
            w.parties = self.screening.line(line, today)
        if decisions:
            key = (text(line.shipment_id) or "", text(line.line_id) or str(index + 1))
            w.hold_decision = decisions.get(key)
        return w

    def _prepare(self, index: int, line: Line, as_of: date | None, today: date) -> Work:
        errors = list(line.errors) if line.errors else []
        normalise.check_stored_texts(line, errors)
        on, problem = normalise.line_date(line.date, as_of, today, self._earliest, self._dates)
        if problem is not None:
            errors.append(problem)
        return Work(index, line, on, errors, [])

    def _determine_static(self, w: Work, view: View, static_line: normalise.StaticLine) -> None:
        if w.as_of is None:
            return
        epoch = self._epochs.get((w.as_of, view))
        if epoch is None:
            epoch = self._epochs.put(
                (w.as_of, view),
                (self.compiler.epoch_of(w.as_of), self.compiler.for_date(w.as_of, view)),
            )
        epoch_index, compiled = epoch
        key = (compiled.normalisation_key, static_line)
        bundle = self._bundles.get(key)
        if bundle is None:
            bundle = self._bundles.put(key, self._bundle(key[1], w.as_of, compiled))
        decision_key = (bundle, epoch_index, view)
        static = self._decided.get(decision_key)
        if static is None:
            static = self._decided.put(
                decision_key, self._statics.decide(bundle, w.as_of, epoch_index, compiled, view)
            )
        w.bundle = bundle
        w.classification = bundle.classification
        w.place = bundle.place
        w.static = static
        w.errors.extend(bundle.errors)

    def _per_line(self, w: Work, bundle: Bundle) -> None:
        """The values read per line: quantity, value and the consignee allowances count."""
        line = w.line
        quantity = self._quantities.get(line.quantity, _UNSEEN)
        if quantity is _UNSEEN:
            try:
                quantity = parse_quantity(line.quantity)
            except ValueProblem as problem:
                quantity = str(problem)
            self._quantities.put(line.quantity, quantity)
        if isinstance(quantity, str):
            w.errors.append(quantity)
        else:
            w.quantity = quantity
        if (
            w.quantity is None
            and blank(line.quantity)
            and bundle.classification.item_type in item_destination.COUNTED_ITEMS
        ):
            w.errors.append("`quantity` is missing: expected a whole number of units >= 1")
        if line.value is not None:
            try:
                w.value = parse_money(line.value, "value")
            except ValueProblem as problem:
                w.errors.append(str(problem))
        name = line.consignee.name
        seen = (name, bundle.consignee_country)
        consignee_key = self._consignee_keys.get(seen)
        if consignee_key is None and not blank(name):
            consignee_key = self._consignee_keys.put(
                seen, allowance_stage.holder_key(str(name), bundle.consignee_country)
            )
        w.consignee_key = consignee_key

    def _classify(
        self, compiled: CompiledRules, on: date, query: classify_stage.ItemQuery
    ) -> tuple[Classification, int]:
        """The item's classification on the epoch, and its signature's id (memoised)."""
        key = (compiled.classification_key, query)
        found = self._classified.get(key)
        if found is None:
            c = classify_stage.classify_item(
                self.catalog, self.standing_reasons, compiled, on, query
            )
            signature = classify_stage.signature(c, self._item_tests)
            signature_id = self._signatures.get(signature)
            if signature_id is None:
                signature_id = self._signatures.put(signature, next(self._ids))
            found = self._classified.put(key, (c, signature_id))
        return found

    def _bundle(self, line: normalise.StaticLine, on: date, compiled: CompiledRules) -> Bundle:
        """Stages 1 to 4 for a static line: parsed, classified, places and parties resolved."""
        parsed = normalise.parse_static(line, self.rulebook.rules.end_uses, self._veu_kinds)
        errors = list(parsed.errors)
        classification, signature = self._classify(compiled, on, parsed.query)
        errors.extend(classification.errors)
        item_type = classification.item_type
        if (
            parsed.transaction is Transaction.DEEMED_EXPORT
            and item_type not in classify_stage.INFORMATION_ITEMS
        ):
            errors.append(
                f"`transaction` value `deemed_export` applies to technology, software or model "
                f"weights, not to a `{item_type.value}` line"
            )
        found = destination.receivers(
            self._places,
            line.destination,
            line.consignee_country,
            line.end_user_country,
            on,
            errors,
        )
        hqs = parties.headquarters(
            self._places,
            line.consignee_hq_country,
            line.end_user_hq_country,
            line.intermediate_consignees,
            on,
            errors,
        )
        places, reasons = destination.places_reached(
            found, self.standing_reasons.treated_as_citation
        )
        place = found.destination
        consignee_country = found.consignee.code if found.consignee else place.code if place else ""
        base_key = (compiled.classification_key, parsed.query, place, tuple(errors), reasons)
        base = self._bases.get(base_key)
        if base is None:
            base = self._bases.put(base_key, next(self._ids))
        return Bundle(
            classification=classification,
            signature=signature,
            place=place,
            consignee_country=consignee_country,
            transaction=parsed.transaction,
            places=places,
            place_keys=tuple((p.code, p.region, role) for p, role in places),
            hqs=hqs,
            end_use=parsed.end_use,
            end_use_place=found.end_user or place,
            veu=parsed.veu,
            errors=tuple(errors),
            reasons=reasons,
            base=base,
        )

    def editions(self) -> tuple[dict[str, str], ...]:
        """The data editions a report names: the rulebook's sources, the list's if screened."""
        editions = [
            {"name": e.name, "date": e.date.isoformat(), "licence": e.licence}
            for e in self.rulebook.meta.editions
        ]
        if self.screening is not None:
            editions.append(self.screening.screener.edition_record())
        return tuple(editions)


def _date_order(w: Work) -> tuple[date, int]:
    """Lines in date order (undated last), then input order: how allowances and licences are
    drawn."""
    return (w.as_of or date.max, w.index)


_SHARED: Engine | None = None
_UNSEEN: Any = object()
_NO_VALUES = Line()
