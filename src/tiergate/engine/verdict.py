"""Stage 11, verdict: a line's findings combined by the precedence table (`model.SEVERITY`)
into its outcome, tier and reasons, and the line's result; and the summary of a report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from tiergate.engine.findings import (
    Finding,
    StaticDetermination,
    Work,
    most_severe_tier,
    needs_licence,
)
from tiergate.engine.memo import Memo
from tiergate.model import SEVERITY, SHIPPABLE, LineResult, Outcome, Reason, Summary
from tiergate.normalise import text
from tiergate.rulebook import ReviewPolicy, Tier
from tiergate.terms import Raw

_POLICY_ORDER = {ReviewPolicy.APPROVAL: 0, ReviewPolicy.CASE_BY_CASE: 1, ReviewPolicy.DENIAL: 2}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The precedence table applied to a set of findings."""

    outcome: Outcome
    exception: str | None
    review_policy: ReviewPolicy | None
    conditions: tuple[str, ...]
    reasons: tuple[Reason, ...]


def verdict(findings: list[Finding]) -> Verdict:
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
    return Verdict(outcome, exception, review_policy, conditions, reasons)


@dataclass(frozen=True, slots=True)
class Combined:
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


class Verdicts:
    """Combines lines' findings into results, sharing the work among lines with nothing of
    their own (same bundle basis and static determination)."""

    def __init__(self, h100_tpp: float, nlr_citation: str) -> None:
        self.h100_tpp = h100_tpp
        self.nlr_citation = nlr_citation
        self.combined: Memo[tuple[int, StaticDetermination], Combined] = Memo()
        self.verdicts: Memo[StaticDetermination, Verdict] = Memo()
        self.nlr_reasons: Memo[tuple[str | None, str], Reason] = Memo()

    def clear(self) -> None:
        for table in (self.combined, self.verdicts, self.nlr_reasons):
            table.clear()

    def shared(self, w: Work) -> Combined | None:
        """The combined verdict of a line with nothing of its own (no per-line errors,
        allowance draws, party findings, licence or hold decision), shared by every line of
        the same bundle basis and static determination; None for a line with something of
        its own."""
        bundle = w.bundle
        if (
            bundle is None
            or w.static is None
            or w.resolved
            or w.parties
            or w.licence is not None
            or w.hold_decision is not None
            or w.reasons
            or len(w.errors) != len(bundle.errors)
        ):
            return None
        key = (bundle.base, w.static)
        combined = self.combined.get(key)
        if combined is None:
            combined = self.combined.put(key, self._combine(w))
        return combined

    def result(self, w: Work) -> LineResult:
        """The line's result."""
        combined = self.shared(w)
        return self.build(w, combined if combined is not None else self._combine(w))

    def build(self, w: Work, combined: Combined) -> LineResult:
        """The line's result from its combined verdict and its own values."""
        line = w.line
        unit = combined.unit_tpp
        quantity = w.quantity
        total = unit * quantity if unit is not None and quantity is not None else None
        line_id = _text(line.line_id)
        # Positional, in LineResult's field order: this runs once per line of a large book.
        return LineResult(
            _text(line.shipment_id),
            line_id if line_id is not None else str(w.index + 1),
            w.as_of,
            _text(line.item) or _text(line.eccn),
            combined.item_name,
            combined.item_type,
            combined.eccn,
            combined.scope,
            unit,
            combined.performance_density,
            quantity,
            total,
            round(total / self.h100_tpp, 2) if total is not None else None,
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

    def _combine(self, w: Work) -> Combined:
        """Apply the precedence table (`model.SEVERITY`) to a line's findings."""
        c = w.classification
        static = w.static
        findings = _findings(w)
        tier = most_severe_tier(
            [static.tier if static else None, *(f.tier for f in (*findings, *w.parties))]
        )
        findings = _licensed(w, findings)
        findings.extend(w.parties)
        held = [f for f in findings if f.outcome is Outcome.HOLD]
        hold_signature = (
            ",".join(sorted({r.rule for f in held for r in f.reasons})) if held else None
        )
        findings = _decided(w, findings, hold_signature)
        errors = tuple(dict.fromkeys([*w.errors, *(e for f in findings for e in f.errors)]))
        if errors:
            findings.append(Finding(Outcome.INDETERMINATE, None))
        if static is not None and not errors and _own_findings_none(w):
            found = self.verdicts.get(static)
            if found is None:
                found = self.verdicts.put(static, verdict(findings))
        else:
            found = verdict(findings)
        reasons = self._reasons(w, found, errors)
        return Combined(
            outcome=found.outcome,
            tier=tier,
            exception=found.exception,
            review_policy=found.review_policy,
            conditions=found.conditions,
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

    def _reasons(self, w: Work, found: Verdict, errors: tuple[str, ...]) -> list[Reason]:
        """The classification's reasons, the line's own, the verdict's, and for an NLR line
        the reason no licence is required."""
        c = w.classification
        reasons: list[Reason] = []
        if c is not None:
            reasons.extend(c.reasons)
        if w.bundle is not None:
            reasons.extend(w.bundle.reasons)
        reasons.extend(w.reasons)
        reasons.extend(found.reasons)
        if found.outcome is Outcome.NLR and not errors and c is not None:
            place = w.place.code if w.place else "?"
            nlr = self.nlr_reasons.get((c.eccn, place))
            if nlr is None:
                nlr = self.nlr_reasons.put(
                    (c.eccn, place),
                    Reason(
                        rule="nlr",
                        message=f"no licence requirement for {c.eccn} to {place} on the line's "
                        "date under the rules tiergate encodes",
                        citation=self.nlr_citation,
                    ),
                )
            reasons.append(nlr)
        return reasons


def _text(value: Raw) -> str | None:
    """`normalise.text`, with a string (nearly every value) settled without a further call."""
    return (value.strip() or None) if isinstance(value, str) else text(value)


def _own_findings_none(w: Work) -> bool:
    """Whether the line has no findings of its own (so its verdict is its static one's)."""
    return not w.resolved and not w.parties and w.licence is None and w.hold_decision is None


def _findings(w: Work) -> list[Finding]:
    findings: list[Finding] = []
    if w.static is not None:
        findings.extend(w.static.findings)
    findings.extend(w.resolved)
    return findings


def _licensed(w: Work, findings: list[Finding]) -> list[Finding]:
    """With a licence, the licence replaces the EAR licence requirements; list hits and
    advisories stay, and so does what the line counts against an allowance (a Tier 2 country
    allocation counts licensed exports)."""
    if w.licence is None:
        return findings
    replaced = [f for f in findings if needs_licence(f)]
    kept = [f for f in findings if not needs_licence(f)]
    debited = {debit[0] for debit in w.debits}
    counted = tuple(r for f in replaced for r in f.reasons if r.rule in debited)
    licensed = w.licence[1]
    kept.append(replace(licensed, reasons=(*licensed.reasons, *counted)))
    return kept


def _decided(w: Work, findings: list[Finding], hold_signature: str | None) -> list[Finding]:
    """A person's decision on the line's hold, for the same rules, replaces the hold:
    released is NLR, rejected is PROHIBITED."""
    decision = w.hold_decision
    if decision is None or hold_signature is None or decision.signature != hold_signature:
        return findings
    kept = [f for f in findings if f.outcome is not Outcome.HOLD]
    note = f"hold {decision.status} by {decision.by} on {decision.at[:10]}: {decision.reason}"
    reason = Reason(f"hold.{decision.status}", note, "tiergate ledger (holds)")
    outcome = Outcome.PROHIBITED if decision.status == "rejected" else Outcome.NLR
    kept.append(Finding(outcome, None, reasons=(reason,)))
    return kept


def summarise(lines_in: int, results: tuple[LineResult, ...]) -> Summary:
    """Counts by outcome and tier; `lines_in == lines_out` always."""
    # Counted by member and by id pair, then named: `.value` and an f-string per line cost
    # more than the counting (this runs over every line of a large book).
    by_outcome = Counter(r.outcome for r in results)
    by_tier = Counter(r.tier for r in results)
    keys = Counter((r.shipment_id or "", r.line_id or "") for r in results)
    return summary_of(
        lines_in,
        len(results),
        {outcome.value: n for outcome, n in by_outcome.items()},
        {tier.value if tier else None: n for tier, n in by_tier.items()},
        sum(1 for r in results if r.errors),
        (key for key, count in keys.items() if count > 1),
    )


def summary_of(
    lines_in: int,
    lines_out: int,
    outcomes: Mapping[str, int],
    tiers: Mapping[str | None, int],
    with_errors: int,
    repeated: Iterable[tuple[str, str]],
) -> Summary:
    """The summary from the lines' counts by outcome and by tier (None: no tier), the lines
    with errors, and the (shipment, line) ids given more than once: one place for what is
    counted and how it is named, whoever counted it (`summarise`, the columnar path)."""
    may_ship = sum(outcomes.get(outcome.value, 0) for outcome in SHIPPABLE)
    return Summary(
        lines_in=lines_in,
        lines_out=lines_out,
        by_outcome={o.value: outcomes.get(o.value, 0) for o in Outcome},
        by_tier=dict(sorted((tier or "unknown", n) for tier, n in tiers.items())),
        lines_with_errors=with_errors,
        may_ship=may_ship,
        may_not_ship=lines_out - may_ship,
        duplicate_ids=tuple(sorted(f"{shipment}/{line}" for shipment, line in repeated)),
    )
