"""Stage 10, advisories: red flags that hold a line for a person (by destination, region,
end use or a party's headquarters, for named chips or items meeting a test), and, in the
enforced view, the written-only rules that would bind (informational)."""

from __future__ import annotations

from tiergate.classify import Classification, any_of
from tiergate.compiled import CompiledAdvisory, CompiledRules
from tiergate.countries import Place
from tiergate.engine.findings import Finding
from tiergate.model import Outcome, Reason
from tiergate.rulebook import Transaction, View


def advisories(
    compiled: CompiledRules,
    c: Classification,
    places: tuple[tuple[Place, str], ...],
    hqs: tuple[tuple[str, str], ...],
    end_use: str | None,
    end_use_place: Place | None,
) -> list[Finding]:
    """A HOLD for every advisory in force that reaches the line."""
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
        message = _reaches(ca, places, hqs, end_use, end_use_place)
        if message is None:
            continue
        if a.chips is not None or a.item_any_of is not None:
            named = a.chips is not None and (chip_id in a.chips or inner_id in a.chips)
            missing: set[str] = set()
            by_parameters = any_of(a.item_any_of, c.specs, missing) if a.item_any_of else False
            if not named and by_parameters is False:
                continue
            if not named and by_parameters is None:
                message += (
                    " (parameters missing: " + ", ".join(sorted(missing)) + "; cannot rule it out)"
                )
        reason = Reason(a.id, message, a.citation, a.uncertain, a.uncertain_note)
        found.append(Finding(Outcome.HOLD, None, reasons=(reason,)))
    return found


def _reaches(
    ca: CompiledAdvisory,
    places: tuple[tuple[Place, str], ...],
    hqs: tuple[tuple[str, str], ...],
    end_use: str | None,
    end_use_place: Place | None,
) -> str | None:
    """The advisory's message if it reaches the line's places, end use or headquarters."""
    a = ca.advisory
    message = ca.reason.message
    if a.end_uses is not None:
        if (
            end_use not in a.end_uses
            or end_use_place is None
            or end_use_place.code not in ca.places
        ):
            return None
    elif a.regions is not None:
        if not any(p.code in ca.places and p.region in a.regions for p, _ in places):
            return None
    elif not any(p.code in ca.places for p, _ in places):
        # Not by destination: by a party's headquarters, where the advisory has that prong.
        by_hq = [f"{role} headquarters: {hq}" for hq, role in hqs if hq in ca.headquarters]
        if not by_hq:
            return None
        message += " (" + "; ".join(by_hq) + ")"
    return message


def written_only(
    written: CompiledRules,
    c: Classification,
    transaction: Transaction,
    places: tuple[tuple[Place, str], ...],
    non_enforcement: Reason,
) -> list[Finding]:
    """In the enforced view, which written-only rules would bind (an NLR finding that says
    so, with the notice that they are not enforced)."""
    notes: list[Reason] = []
    for place, _role in places:
        for cr in written.destination_rules.get((c.scope, place.code), ()):
            if cr.rule.views == [View.WRITTEN] and cr.fits_item(c.scope, c.item_type, transaction):
                notes.append(
                    Reason(
                        rule=cr.rule.id,
                        message=f"not enforced: in the written view, {cr.rule.message}",
                        citation=cr.rule.citation,
                    )
                )
    if not notes:
        return []
    return [Finding(Outcome.NLR, None, reasons=(non_enforcement, *notes))]
