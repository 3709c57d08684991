"""Stage 7, licence exceptions: an exception whose conditions the line meets replaces a rule's
licence requirement (pending its allowance, where it has one); one a person must confirm
holds the line."""

from __future__ import annotations

from collections.abc import Callable

from tiergate.classify import Classification, any_of, eccn_fits
from tiergate.compiled import CompiledException
from tiergate.engine.destination import Match
from tiergate.engine.findings import Finding, Pending
from tiergate.model import Outcome, Reason
from tiergate.rulebook import Allowance, LicenceException, Transaction


def with_exceptions(
    match: Match,
    reason: Reason,
    requirement: Finding | Pending,
    c: Classification,
    transaction: Transaction,
    hqs: tuple[str, ...],
    veu: str | None,
    allowance: Callable[[str], Allowance],
) -> Finding | Pending:
    """The first exception tiergate can check that fits, else a HOLD for the exceptions a
    person must confirm, else `requirement` unchanged."""
    if c.scope is None:
        return requirement
    rule = match.rule.rule
    held: list[LicenceException] = []
    for ce in match.rule.exceptions:
        if not exception_fits(ce, match.place, c, transaction, hqs, veu):
            continue
        e = ce.exception
        if e.review_required:
            held.append(e)  # unless an exception tiergate can check fits too
            continue
        found = Finding(
            outcome=Outcome.EXCEPTION,
            tier=rule.tier,
            exception=e.symbol,
            conditions=tuple(e.conditions),
            reasons=(
                reason,
                Reason(
                    rule=e.id,
                    message=f"License Exception {e.symbol} ({e.title}) may be used",
                    citation=e.citation,
                    uncertain=e.uncertain,
                    note=e.uncertain_note,
                ),
            ),
        )
        if e.allowance is not None:
            return Pending(allowance(e.allowance), "consignee", found, requirement)
        return found
    return _held(match, reason, held) if held else requirement


def _held(match: Match, reason: Reason, held: list[LicenceException]) -> Finding:
    """A HOLD naming the exceptions that may apply, for a person to confirm."""
    return Finding(
        outcome=Outcome.HOLD,
        tier=match.rule.rule.tier,
        exception="+".join(dict.fromkeys(e.symbol for e in held)),
        conditions=tuple(dict.fromkeys(cond for e in held for cond in e.conditions)),
        reasons=(
            reason,
            *(
                Reason(
                    e.id,
                    f"License Exception {e.symbol} may apply; a person must confirm its conditions",
                    e.citation,
                    e.uncertain,
                    e.uncertain_note,
                )
                for e in held
            ),
        ),
    )


def exception_fits(
    ce: CompiledException,
    place: str,
    c: Classification,
    transaction: Transaction,
    hqs: tuple[str, ...],
    veu: str | None,
) -> bool:
    """Whether the line meets every condition of an exception tiergate can check."""
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
