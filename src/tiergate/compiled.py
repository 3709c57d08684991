"""Compile the rulebook for one (date, view) into plain lookup tables.

Every fact in the rulebook is dated, so the timeline splits into epochs between change dates;
within an epoch the compiled tables are identical. `Compiler.for_date` compiles each
(epoch, view) once. The engine, and later a columnar batch path, read only these tables:
no rule is interpreted twice.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from tiergate.classify import classes_in_force
from tiergate.countries import CountryResolver
from tiergate.errors import RulebookError
from tiergate.model import Reason
from tiergate.rulebook import (
    Advisory,
    Allowance,
    DestinationSet,
    EccnScope,
    ItemClass,
    ItemType,
    LicenceException,
    Rule,
    Rulebook,
    SetTerm,
    Transaction,
    View,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class CompiledException:
    """A licence exception with its destination sets resolved to country codes."""

    exception: LicenceException
    places: frozenset[str] | None
    headquarters_in: frozenset[str] | None
    headquarters_not_in: frozenset[str] | None
    eccns: re.Pattern[str] | None

    def fits_item(self, scope: str, item_type: ItemType, transaction: Transaction) -> bool:
        e = self.exception
        return (
            scope in e.scopes
            and (e.item_types is None or item_type in e.item_types)
            and (e.transactions is None or transaction in e.transactions)
        )


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule in force, with its sets resolved, its reason prebuilt, and its exceptions."""

    rule: Rule
    places: frozenset[str]
    reason: Reason
    exceptions: tuple[CompiledException, ...]
    headquarters_outside: frozenset[str] | None
    eccns: re.Pattern[str] | None

    def fits_parties(self, headquarters: tuple[str, ...]) -> bool:
        """False for a rule bound to parties headquartered outside a set, unless the line
        states headquarters and none is inside it."""
        outside = self.headquarters_outside
        return outside is None or (bool(headquarters) and not outside.intersection(headquarters))

    def fits_item(self, scope: str | None, item_type: ItemType, transaction: Transaction) -> bool:
        r = self.rule
        if r.scopes is not None and scope not in r.scopes:
            return False
        if r.item_types is not None and item_type not in r.item_types:
            return False
        return r.transactions is None or transaction in r.transactions


@dataclass(frozen=True, slots=True, eq=False)
class CompiledAdvisory:
    advisory: Advisory
    places: frozenset[str]
    headquarters: frozenset[str]
    reason: Reason


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Lookup tables for one epoch and view."""

    epoch_start: date
    epoch_end: date | None
    view: View
    group_members: dict[str, frozenset[str]]
    sets: dict[str, frozenset[str]]
    destination_rules: dict[tuple[str | None, str], tuple[CompiledRule, ...]]
    headquarters_rules: dict[tuple[str | None, str], tuple[CompiledRule, ...]]
    end_use_rules: tuple[CompiledRule, ...]
    advisories: tuple[CompiledAdvisory, ...]
    classes: tuple[ItemClass, ...]
    eccn_scopes: tuple[tuple[re.Pattern[str], EccnScope], ...]
    allowances: dict[str, Allowance]
    classification_key: tuple[str, ...]
    normalisation_key: tuple[str, ...]
    rules_in_force: tuple[Rule, ...]
    exceptions_in_force: tuple[LicenceException, ...]
    # Country-group memberships the rulebook flags uncertain on this date, by country: every
    # line that goes to such a country, or names a party there or headquartered there, says so.
    doubts: dict[str, tuple[Reason, ...]]


def _eccn_pattern(patterns: list[str] | None) -> re.Pattern[str] | None:
    """One full-match pattern for a list of ECCN patterns (None: no ECCN filter)."""
    if patterns is None:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


def _members(sets: dict[str, frozenset[str]], set_id: str | None) -> frozenset[str] | None:
    """The countries of destination set `set_id` (None: the fact names no set)."""
    return None if set_id is None else sets[set_id]


def _reason(fact: Rule | Advisory) -> Reason:
    return Reason(
        rule=fact.id,
        message=fact.message,
        citation=fact.citation,
        uncertain=fact.uncertain,
        note=fact.uncertain_note,
    )


class Compiler:
    """Compiles and caches the tables for each (epoch, view) of one rulebook."""

    def __init__(self, rulebook: Rulebook, countries: CountryResolver) -> None:
        self.rulebook = rulebook
        self.countries = sorted(countries.codes)
        self._sets = {s.id: s for s in rulebook.destination_sets.sets}
        self._boundaries = self._change_dates()
        self._cache: dict[tuple[int, View], CompiledRules] = {}
        self._scopes: list[str | None] = [*rulebook.item_classes.scopes, None]
        # Interned objects: a compiled rule whose inputs are the same in two epochs is the
        # same object, so tables that did not change compare equal by identity. The engine
        # keys its memo tables on these identities, not on the epoch.
        self._interned: dict[tuple[object, ...], Any] = {}

    def _intern(self, key: tuple[object, ...], value: T) -> T:
        """The object already made for `key`, or `value` (made at compile time only)."""
        found: T = self._interned.setdefault(key, value)
        return found

    def _intern_tuple(self, items: tuple[T, ...]) -> tuple[T, ...]:
        return self._intern(("tuple", *(id(item) for item in items)), items)

    def _change_dates(self) -> list[date]:
        """Every date on which some fact starts or stops holding."""
        rb = self.rulebook
        dated = [
            *rb.rules.rules,
            *rb.exceptions.exceptions,
            *rb.advisories.advisories,
            *rb.allowances.allowances,
            *rb.item_classes.classes,
            *rb.item_classes.eccn_scopes,
            *rb.countries.treated_as,
        ]
        points: set[date] = {rb.country_groups.baseline_from}
        for fact in dated:
            points.add(fact.effective_from)
            if fact.effective_to is not None:
                points.add(fact.effective_to + timedelta(days=1))
        for group in rb.country_groups.groups:
            for member in group.members:
                if member.effective_from is not None:
                    points.add(member.effective_from)
                if member.effective_to is not None:
                    points.add(member.effective_to + timedelta(days=1))
        return sorted(points)

    @property
    def change_dates(self) -> list[date]:
        """The dates on which the compiled tables change."""
        return list(self._boundaries)

    def epoch_of(self, on: date) -> int:
        """The index of the epoch `on` falls in; equal indexes mean identical tables."""
        return bisect.bisect_right(self._boundaries, on) - 1

    def for_date(self, on: date, view: View) -> CompiledRules:
        """The tables in force on `on` in `view`, compiled once per epoch."""
        index = self.epoch_of(on)
        key = (index, view)
        compiled = self._cache.get(key)
        if compiled is None:
            start = self._boundaries[index] if index >= 0 else on
            end = (
                self._boundaries[index + 1] - timedelta(days=1)
                if index + 1 < len(self._boundaries)
                else None
            )
            compiled = self._compile(start, end, view)
            self._cache[key] = compiled
        return compiled

    # --- compiling -----------------------------------------------------------------------

    def _groups_of(self, on: date) -> dict[str, frozenset[str]]:
        baseline = self.rulebook.country_groups.baseline_from
        members: dict[str, set[str]] = {}
        for group in self.rulebook.country_groups.groups:
            for m in group.members:
                start = m.effective_from or baseline
                if start <= on and (m.effective_to is None or on <= m.effective_to):
                    members.setdefault(group.id, set()).add(m.country)
        return {group: frozenset(codes) for group, codes in members.items()}

    def _resolve_set(
        self, set_id: str, groups: dict[str, frozenset[str]], done: dict[str, frozenset[str]]
    ) -> frozenset[str]:
        if set_id in done:
            return done[set_id]
        definition: DestinationSet | None = self._sets.get(set_id)
        if definition is None:
            raise RulebookError(
                f"destination set `{set_id}` is not defined in destination_sets.yaml"
            )

        def term(t: SetTerm) -> frozenset[str]:
            if t.all_countries:
                return frozenset(self.countries)
            if t.group is not None:
                return groups.get(t.group, frozenset())
            if t.country is not None:
                return frozenset({t.country})
            assert t.set is not None
            return self._resolve_set(t.set, groups, done)

        included: set[str] = set()
        for t in definition.any_of:
            included |= term(t)
        for t in definition.none_of:
            included -= term(t)
        done[set_id] = frozenset(included)
        return done[set_id]

    def _compile(self, on: date, end: date | None, view: View) -> CompiledRules:
        """Every table for the epoch starting `on` (to `end`) in `view`."""
        rb = self.rulebook
        groups = self._groups_of(on)
        sets: dict[str, frozenset[str]] = {}
        for definition in rb.destination_sets.sets:
            self._resolve_set(definition.id, groups, sets)
        exceptions = [e for e in rb.exceptions.exceptions if e.in_force(on) and view in e.views]
        rules = [r for r in rb.rules.rules if r.in_force(on) and view in r.views]
        compiled = self._compile_rules(rules, sets, self._compile_exceptions(exceptions, sets))
        destination_rules = self._by_scope_and_country(compiled, ("embargo", "destination"))
        headquarters_rules = self._by_scope_and_country(compiled, ("headquarters",))
        advisories = self._compile_advisories(on, view, sets)
        eccn_scopes = tuple(
            (re.compile(e.pattern, re.IGNORECASE), e) for e in rb.item_classes.eccn_scopes
        )
        classification_key = (
            *(c.id for c in classes_in_force(rb, on)),
            *(e.id for e in rb.item_classes.eccn_scopes if e.in_force(on)),
        )
        return CompiledRules(
            epoch_start=on,
            epoch_end=end,
            view=view,
            group_members=groups,
            sets=sets,
            destination_rules=destination_rules,
            headquarters_rules=headquarters_rules,
            end_use_rules=self._intern_tuple(
                tuple(c for c in compiled if c.rule.kind == "end_use")
            ),
            advisories=advisories,
            classes=classes_in_force(rb, on),
            eccn_scopes=eccn_scopes,
            allowances={a.id: a for a in rb.allowances.allowances if a.in_force(on)},
            classification_key=classification_key,
            normalisation_key=(
                *classification_key,
                *(t.id for t in rb.countries.treated_as if t.in_force(on)),
            ),
            rules_in_force=tuple(rules),
            exceptions_in_force=tuple(exceptions),
            doubts=self._doubts(on),
        )

    def _compile_exceptions(
        self, exceptions: list[LicenceException], sets: dict[str, frozenset[str]]
    ) -> dict[str, list[CompiledException]]:
        """The exceptions in force with their sets resolved, by symbol (rules name symbols)."""
        by_symbol: dict[str, list[CompiledException]] = {}
        for e in exceptions:
            places = _members(sets, e.destinations)
            headquarters_in = _members(sets, e.headquarters_in)
            headquarters_not_in = _members(sets, e.headquarters_not_in)
            eccns = _eccn_pattern(e.eccns)
            by_symbol.setdefault(e.symbol, []).append(
                self._intern(
                    ("exception", e.id, places, headquarters_in, headquarters_not_in),
                    CompiledException(e, places, headquarters_in, headquarters_not_in, eccns),
                )
            )
        return by_symbol

    def _compile_rules(
        self,
        rules: list[Rule],
        sets: dict[str, frozenset[str]],
        by_symbol: dict[str, list[CompiledException]],
    ) -> list[CompiledRule]:
        """The rules in force with their places, reasons and exceptions, in file order."""
        compiled: list[CompiledRule] = []
        for r in rules:
            place_set = r.destinations or r.headquarters or r.end_use_destinations or "everywhere"
            relief = tuple(ce for symbol in r.exceptions for ce in by_symbol.get(symbol, []))
            outside = _members(sets, r.headquarters_outside)
            compiled.append(
                self._intern(
                    (
                        "rule",
                        r.id,
                        sets[place_set],
                        outside,
                        *(id(ce) for ce in relief),
                    ),
                    CompiledRule(
                        r,
                        sets[place_set],
                        _reason(r),
                        relief,
                        outside,
                        _eccn_pattern(r.eccns),
                    ),
                )
            )
        return compiled

    def _by_scope_and_country(
        self, compiled: list[CompiledRule], kinds: tuple[str, ...]
    ) -> dict[tuple[str | None, str], tuple[CompiledRule, ...]]:
        """The rules of `kinds` that reach each (scope, country), where any do."""
        table: dict[tuple[str | None, str], tuple[CompiledRule, ...]] = {}
        for scope in self._scopes:
            candidates = [
                c
                for c in compiled
                if c.rule.kind in kinds and (c.rule.scopes is None or scope in c.rule.scopes)
            ]
            for country in self.countries:
                hits = tuple(c for c in candidates if country in c.places)
                if hits:
                    table[(scope, country)] = self._intern_tuple(hits)
        return table

    def _compile_advisories(
        self, on: date, view: View, sets: dict[str, frozenset[str]]
    ) -> tuple[CompiledAdvisory, ...]:
        """The advisories in force in `view`, with their places and headquarters sets."""
        return self._intern_tuple(
            tuple(
                self._intern(
                    ("advisory", a.id, places, headquarters),
                    CompiledAdvisory(a, places, headquarters, _reason(a)),
                )
                for a in self.rulebook.advisories.advisories
                if a.in_force(on) and view in a.views
                for places, headquarters in [
                    (
                        sets[a.destinations or "everywhere"],
                        sets[a.headquarters] if a.headquarters else frozenset(),
                    )
                ]
            )
        )

    def _doubts(self, on: date) -> dict[str, tuple[Reason, ...]]:
        baseline = self.rulebook.country_groups.baseline_from
        found: dict[str, list[Reason]] = {}
        for group in self.rulebook.country_groups.groups:
            for m in group.members:
                start = m.effective_from or baseline
                if not m.uncertain or on < start or (m.effective_to and m.effective_to < on):
                    continue
                found.setdefault(m.country, []).append(
                    Reason(
                        rule=f"country-group.{group.id}.{m.country}",
                        message=f"{m.country} is taken to be in Country Group {group.id} on this "
                        "date, which the sources leave uncertain",
                        citation=m.citation or group.citation,
                        uncertain=True,
                        note=m.uncertain_note,
                    )
                )
        doubts = {code: tuple(reasons) for code, reasons in sorted(found.items())}
        # Interned by content, so epochs with the same doubts share one object (memo keys).
        return self._intern(
            ("doubts", *((code, r.rule) for code, rs in doubts.items() for r in rs)), doubts
        )
