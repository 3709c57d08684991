"""Stage 6, item x destination: of the rules that reach the line, those whose item
conditions the item meets, each resolved to the licence requirement it sets (or, for a Tier 2
country allocation, to one that waits on the allocation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tiergate.classify import PARAMETER_NAMES, Classification, any_of, eccn_fits
from tiergate.compiled import CompiledRule
from tiergate.engine.destination import Match
from tiergate.engine.findings import Finding, Pending, most_severe_tier
from tiergate.model import Outcome, Reason
from tiergate.rulebook import Allowance, ItemType, ReviewPolicy, Tier

# Items whose units an allowance counts (technology and software carry no TPP).
COUNTED_ITEMS = frozenset({ItemType.CHIP, ItemType.BOARD, ItemType.SYSTEM, ItemType.HBM})


def apply_conditions(
    matched: list[Match], c: Classification, findings: list[Finding]
) -> list[Match]:
    """Drop rules whose ECCNs or item conditions the item does not meet; one it cannot be
    told whether it meets makes the line INDETERMINATE (a finding), and so do the rules that
    one would supersede, except for an unknown release date, which becomes a condition to
    certify. Superseded rules are dropped."""
    kept = []
    unsettled: set[str] = set()
    for match in matched:
        cr = match.rule
        settled = _eccn_settled(cr, c, unsettled, findings)
        if settled is not True:
            continue
        test = cr.rule.item_conditions
        if test is None:
            kept.append(match)
            continue
        missing: set[str] = set()
        result = any_of([test], c.specs, missing)
        if result is None and missing == {"released"}:
            without_date = test.model_copy(update={"released_by": None})
            if any_of([without_date], c.specs, set()) is True:
                kept.append(match)
            continue
        if result is None:
            # The rules this one would supersede are unsettled too: drop them, so the line
            # is INDETERMINATE rather than shown under a policy that may not apply. Its tier
            # is the strictest either could give: a map never shows less than a check.
            unsettled.update(cr.rule.supersedes)
            needed = ", ".join(sorted(PARAMETER_NAMES[name] for name in missing))
            candidates = [cr.rule.tier] + [
                m.rule.rule.tier for m in matched if m.rule.rule.id in cr.rule.supersedes
            ]
            message = f"cannot tell whether {cr.rule.id} applies: give {needed}"
            findings.append(_cannot_tell(cr, most_severe_tier(candidates), message))
            continue
        if result:
            kept.append(match)
    kept = [m for m in kept if m.rule.rule.id not in unsettled]
    superseded = {s for m in kept for s in m.rule.rule.supersedes}
    return [m for m in kept if m.rule.rule.id not in superseded]


def _eccn_settled(
    cr: CompiledRule, c: Classification, unsettled: set[str], findings: list[Finding]
) -> bool:
    """Whether a rule that names ECCNs reaches the item: False when it does not, or when that
    cannot be told (a finding then says what to give)."""
    if cr.eccns is None:
        return True
    named = eccn_fits(cr.eccns, c)
    if named is None and not c.eccn_names and cr.rule.kind == "embargo":
        # An unclassified item (the line is INDETERMINATE anyway): an embargo is kept, the
        # stricter reading, so the line shows the denial it may face.
        named = True
    if named is None:
        unsettled.update(cr.rule.supersedes)
        message = (
            f"cannot tell whether {cr.rule.id} applies: it reaches only the ECCNs it "
            f"names, and the item may be {c.eccn or 'unclassified'}"
            + (f": give {c.eccn_needed}" if c.eccn_needed else "")
        )
        findings.append(_cannot_tell(cr, cr.rule.tier, message))
        return False
    return named


def _cannot_tell(cr: CompiledRule, tier: Tier | None, message: str) -> Finding:
    return Finding(
        Outcome.INDETERMINATE,
        tier,
        reasons=(Reason(cr.rule.id, message, cr.rule.citation),),
        errors=(message,),
    )


def rule_reason(match: Match) -> Reason:
    """The rule's reason, naming the place and role unless it is the destination."""
    reason = match.rule.reason
    if match.role == "destination":
        return reason
    where = f" ({match.role}: {match.place})"
    return Reason(
        reason.rule, reason.message + where, reason.citation, reason.uncertain, reason.note
    )


def licence_requirement(
    match: Match,
    reason: Reason,
    c: Classification,
    allowance: Callable[[str], Allowance],
) -> Finding | Pending:
    """The licence requirement a rule sets for the item; under a country allocation, one that
    turns to denial once the allocation is used up."""
    rule = match.rule.rule
    extra_conditions: tuple[str, ...] = ()
    if rule.release_condition is not None and c.specs.release_date is None:
        extra_conditions = (rule.release_condition,)
    licence = Finding(
        outcome=Outcome.PROHIBITED
        if rule.review_policy is ReviewPolicy.DENIAL
        else Outcome.LICENSE_REQUIRED,
        tier=rule.tier,
        review_policy=rule.review_policy,
        conditions=(*rule.conditions, *extra_conditions),
        reasons=(reason,),
    )
    if rule.allocation is None:
        return licence
    allocation = allowance(rule.allocation)
    if c.item_type not in COUNTED_ITEMS:
        # An allocation counts the TPP of commodities; technology and software carry none.
        return replace(
            licence, conditions=(*licence.conditions, str(allocation.uncounted_condition))
        )
    if licence.outcome is Outcome.LICENSE_REQUIRED:
        exceeded = Reason(
            rule=allocation.id,
            message=str(allocation.exceeded_message),
            citation=allocation.citation,
            uncertain=allocation.uncertain,
            note=allocation.uncertain_note,
        )
        denial = Finding(
            outcome=Outcome.PROHIBITED,
            tier=Tier.PROHIBITED,
            review_policy=ReviewPolicy.DENIAL,
            reasons=(reason, exceeded),
        )
        return Pending(allowance=allocation, key_kind="country", within=licence, beyond=denial)
    return licence


def doubts(doubted: dict[str, tuple[Reason, ...]], codes: set[str]) -> list[Finding]:
    """The country-group memberships the sources leave uncertain, for every place and
    headquarters the line names (informational: NLR findings)."""
    return [
        Finding(Outcome.NLR, None, reasons=doubted[code]) for code in sorted(codes & doubted.keys())
    ]
