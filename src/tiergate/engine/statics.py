"""Stages 3 to 7 and 10, the static determination of a bundle on an epoch: the rules that
reach it by destination, headquarters and end use, kept by item conditions, resolved to
licence requirements or exceptions (pending allowances), then advisories, and the tier they
give. A determination is shared across bundles and epochs whose tables hold the same rules
for the line (its memo tables are bounded, `memo.Memo`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import count

from tiergate.compiled import CompiledRules, Compiler
from tiergate.engine import advisories, destination, end_use, exceptions, item_destination, parties
from tiergate.engine.findings import Bundle, Finding, Pending, StaticDetermination, most_severe_tier
from tiergate.engine.memo import Memo
from tiergate.model import Reason
from tiergate.rulebook import Allowance, Tier, View


class Statics:
    """The static determinations of one rulebook's engine."""

    def __init__(
        self,
        compiler: Compiler,
        outside_ear: frozenset[str],
        allowance: Callable[[str], Allowance],
        non_enforcement: Reason,
    ) -> None:
        self.compiler = compiler
        self.outside_ear = outside_ear
        self.allowance = allowance
        self.non_enforcement = non_enforcement
        self._ids = count()
        self.clear()

    def clear(self) -> None:
        """Forget every remembered determination."""
        self._statics: Memo[tuple[object, ...], StaticDetermination] = Memo()
        self._reached: Memo[tuple[object, ...], int] = Memo()
        self._tables: Memo[tuple[object, ...], int] = Memo()

    def decide(
        self, b: Bundle, on: date, epoch: int, compiled: CompiledRules, view: View
    ) -> StaticDetermination:
        """The static determination of a bundle on an epoch, shared across bundles and epochs
        whose tables for this line hold the same rules."""
        written = self.compiler.for_date(on, View.WRITTEN) if view is View.ENFORCED else compiled
        key = (
            view,
            b.signature,
            b.transaction,
            b.place_keys,
            b.hqs,
            b.end_use,
            b.end_use_place.code if b.end_use_place else None,
            b.veu,
            self._rules_reaching(b, epoch, view, compiled, written),
        )
        static = self._statics.get(key)
        if static is None:
            static = self._statics.put(key, self._static(b, compiled, written, view))
        return static

    def _rules_reaching(
        self, b: Bundle, epoch: int, view: View, compiled: CompiledRules, written: CompiledRules
    ) -> int:
        """An id for the rules of the epoch's tables (both views' destination rules) that can
        reach a line of `b`'s scope, places and headquarters: equal ids, equal rules. Worked
        out once per epoch, view, scope and places; the tables are compared by value."""
        scope = b.classification.scope
        reach = (epoch, view, scope, b.place_keys, b.hqs)
        found = self._reached.get(reach)
        if found is None:
            codes = {p.code for p, _ in b.places} | {hq for hq, _ in b.hqs}
            tables = (
                tuple(compiled.destination_rules.get((scope, p.code), ()) for p, _ in b.places),
                tuple(written.destination_rules.get((scope, p.code), ()) for p, _ in b.places),
                tuple(compiled.headquarters_rules.get((scope, hq), ()) for hq, _ in b.hqs),
                compiled.end_use_rules,
                compiled.advisories,
                tuple(compiled.doubts.get(code, ()) for code in sorted(codes)),
            )
            found = self._tables.get(tables)
            if found is None:
                found = self._tables.put(tables, next(self._ids))
            self._reached.put(reach, found)
        return found

    def _static(
        self, b: Bundle, compiled: CompiledRules, written: CompiledRules, view: View
    ) -> StaticDetermination:
        """Stages 3 to 7 and 10 for a bundle: the rules that reach it by destination,
        headquarters and end use, kept by item conditions, resolved to licence requirements
        or exceptions (pending allowances), then advisories; and the tier they give."""
        c = b.classification
        findings: list[Finding] = []
        pendings: list[Pending] = []
        known_hqs = tuple(hq for hq, _ in b.hqs)
        matched: list[destination.Match] = []
        # An item not subject to the EAR (published information) meets no EAR rule at all.
        if c.scope not in self.outside_ear:
            matched += destination.destination_matches(
                compiled, c, b.transaction, b.places, known_hqs
            )
            if c.item_class is not None:
                matched += parties.headquarters_matches(compiled, c, b.transaction, b.hqs)
            matched += end_use.end_use_matches(
                compiled, c, b.transaction, b.end_use, b.end_use_place
            )
        matched = item_destination.apply_conditions(matched, c, findings)
        codes = {p.code for p, _ in b.places} | set(known_hqs)
        findings += item_destination.doubts(compiled.doubts, codes)
        for match in matched:
            reason = item_destination.rule_reason(match)
            requirement = item_destination.licence_requirement(match, reason, c, self.allowance)
            result = exceptions.with_exceptions(
                match, reason, requirement, c, b.transaction, known_hqs, b.veu, self.allowance
            )
            if isinstance(result, Pending):
                pendings.append(result)
            else:
                findings.append(result)
        findings += advisories.advisories(compiled, c, b.places, b.hqs, b.end_use, b.end_use_place)
        if view is View.ENFORCED and c.item_class is not None:
            non_enforcement = self.non_enforcement
            findings += advisories.written_only(
                written, c, b.transaction, b.places, non_enforcement
            )
        tier = most_severe_tier(
            [m.rule.rule.tier for m in matched] + [f.tier for f in findings if f.tier]
        )
        if tier is None and c.item_class is not None and b.places:
            tier = Tier.UNRESTRICTED
        return StaticDetermination(tuple(findings), tuple(pendings), tier)
