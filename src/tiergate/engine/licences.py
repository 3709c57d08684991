"""Stage 9, licences: a licence the exporter holds covers a line's EAR licence requirements
when it reaches the line (date, ECCN, destination, consignee) and has quantity (and value)
left; drawn in date order, like allowances."""

from __future__ import annotations

from tiergate.engine.findings import Finding, Work, needs_licence
from tiergate.licences import Draw, LicenceBook
from tiergate.model import Outcome, Reason
from tiergate.normalise import text


def apply_licence(w: Work, book: LicenceBook, citation: str) -> None:
    """Cover the line's EAR licence requirements with a held licence, if one reaches it."""
    static, c = w.static, w.classification
    if static is None or c is None or w.as_of is None or w.errors:
        return
    needing = [f for f in (*static.findings, *w.resolved) if needs_licence(f)]
    if not needing or w.quantity is None:
        return
    if any(f.outcome is Outcome.PROHIBITED for f in w.parties):
        return  # a licence never covers a listed party: do not spend it on the line
    drawn = book.draw(
        w.as_of,
        c.eccn,
        c.scope,
        w.place.as_written if w.place else None,
        text(w.line.consignee.name),
        w.quantity,
        w.value,
    )
    if isinstance(drawn, list):
        w.reasons.extend(
            Reason(
                rule=f"licence.{number}",
                message=f"licence {number} reaches this line but authorizes a value: give the "
                "line's `value` (US dollars) to draw on it",
                citation=citation,
            )
            for number in drawn
        )
        return
    grant = drawn.grant
    covered = Reason(
        rule=f"licence.{grant.number}",
        message=f"covered by licence {grant.number} held by {grant.holder}: " + _balance(drawn),
        citation=citation,
    )
    conditions = (grant.conditions,) if grant.conditions else ()
    w.licence = (grant, Finding(Outcome.LICENSED, None, conditions=conditions, reasons=(covered,)))


def _balance(drawn: Draw) -> str:
    """What the licence has left before and after the line."""
    balance = (
        f"{drawn.quantity_before:,} units left before this line, {drawn.quantity_after:,} after"
    )
    if drawn.value_before is not None and drawn.value_after is not None:
        balance += (
            f"; US${drawn.value_before:,.2f} of value left before, "
            f"US${drawn.value_after:,.2f} after"
        )
    return balance
