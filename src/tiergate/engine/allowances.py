"""Stage 8, allowances: findings that wait on an allowance (LPP per consignee per calendar
year, a Tier 2 country's allocation per period) settled in date order against the TPP the
lines before used, so splitting a book and carrying the state over never changes answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tiergate.engine.findings import Finding, Pending, Work
from tiergate.errors import UsageError
from tiergate.keys import HolderKey
from tiergate.model import SEVERITY, Outcome, Reason
from tiergate.rulebook import Allowance, Rulebook


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


def holder_key(name: str, country: str) -> str:
    """How an allowance counted per consignee knows the consignee, as the ledger stores it:
    the `HolderKey` of its name as allowances count it (`name_key`) and its country."""
    return str(HolderKey.consignee(name, country))


def allowance_of(
    rulebook: Rulebook, allowance_id: str, country_allocation_tpp: float | None
) -> Allowance:
    """An allowance as the engine applies it (`country_allocation_tpp`, when given, replaces
    the limit of a country allocation)."""
    for allowance in rulebook.allowances.allowances:
        if allowance.id == allowance_id:
            if allowance.kind == "per_country_period" and country_allocation_tpp:
                return allowance.model_copy(update={"limit_tpp": country_allocation_tpp})
            return allowance
    raise UsageError(f"allowance `{allowance_id}` is not defined in allowances.yaml")


def settle(w: Work, state: AllowanceState) -> None:
    """Resolve each of the line's pending findings against `state`, counting the line's TPP
    where it fits (unless the line is blocked anyway: an error, or a finding at least as
    severe as INDETERMINATE other than a hold)."""
    static = w.static
    if static is None or not static.pendings:
        return
    blocking = any(
        SEVERITY[f.outcome] >= SEVERITY[Outcome.INDETERMINATE] and f.outcome is not Outcome.HOLD
        for f in (*static.findings, *w.parties)
    ) or bool(w.errors)
    for pending in static.pendings:
        node = _walk(w, pending, state, blocking)
        if isinstance(node, Finding) and node not in w.resolved:
            w.resolved.append(node)


def _walk(w: Work, pending: Pending, state: AllowanceState, blocking: bool) -> Finding | Pending:
    """Follow a pending finding through its allowances until one fits (its `within`
    finding, with the usage) or none is left (the last `beyond`)."""
    assert w.classification is not None
    unit = w.classification.unit_tpp
    node: Finding | Pending = pending
    while isinstance(node, Pending):
        allowance = node.allowance
        if unit is None or w.quantity is None:
            w.errors.append(
                f"cannot count allowance `{allowance.id}`: the line's TPP and quantity are needed"
            )
            return node
        key = _key(w, node)
        if key is None:
            return node
        amount = unit * w.quantity
        used = state.used.get(key, 0.0)
        limit = allowance.limit_tpp
        if used + amount <= limit:
            if not blocking:
                state.used[key] = used + amount
                w.debits.append((*key, amount))
            usage = _reason(
                allowance,
                f"{_fmt(amount)} TPP on this line; {_fmt(used)} used before, "
                f"{_fmt(used + amount)} of {_fmt(limit)} after",
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
            return within
        w.reasons.append(
            _reason(
                allowance,
                f"{_fmt(amount)} TPP on this line would take the total from "
                f"{_fmt(used)} past {_fmt(limit)}: not within the allowance",
            )
        )
        node = node.beyond
    return node


def _key(w: Work, node: Pending) -> tuple[str, str, str] | None:
    """The allowance, holder and period the line counts against (None, with an error, when
    the consignee's name is needed and not given)."""
    key = _holding(w, node)
    if key is None:
        w.errors.append(
            f"cannot count allowance `{node.allowance.id}`: the consignee's name "
            "is needed (LPP is counted per ultimate consignee)"
        )
    return key


def _holding(w: Work, node: Pending) -> tuple[str, str, str] | None:
    assert w.as_of is not None
    if node.key_kind == "consignee":
        if w.consignee_key is None:
            return None
        return (node.allowance.id, w.consignee_key, str(w.as_of.year))
    assert w.place is not None
    period = f"{node.allowance.period_start}/{node.allowance.period_end}"
    return (node.allowance.id, w.place.code, period)


def holdings(w: Work) -> tuple[tuple[str, str, str], ...]:
    """Every (allowance, holder, period) the line may count against, whichever its pending
    findings reach: a consignee's LPP and its destination's country allocation may both be
    among them. Lines that share none settle apart, in any order."""
    static = w.static
    found: dict[tuple[str, str, str], None] = {}
    for pending in static.pendings if static is not None else ():
        node: Finding | Pending = pending
        while isinstance(node, Pending):
            key = _holding(w, node)
            if key is not None:
                found[key] = None
            node = node.beyond
    return tuple(found)


def _reason(allowance: Allowance, message: str) -> Reason:
    return Reason(
        rule=allowance.id,
        message=message,
        citation=allowance.citation,
        uncertain=allowance.uncertain,
        note=allowance.uncertain_note,
    )


def _fmt(number: float) -> str:
    return f"{number:,.0f}"
