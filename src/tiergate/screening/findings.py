"""What screening hits do to a shipment line (brief section 6), as engine findings.

The effect of a hit on each list is data (`lists` in `data/screening.yaml`): `prohibited`
(SDN, DPL), `entry_policy` (the Entity List entry's own licence requirement and policy decide),
or `hold`. A possible match (between the potential and match thresholds) is always HOLD for a
person to clear.
"""

from __future__ import annotations

from tiergate.model import Outcome, Reason
from tiergate.rulebook import ReviewPolicy
from tiergate.screening.matcher import Hit
from tiergate.screening.names import MatchSettings


def hit_outcome(hit: Hit, settings: MatchSettings) -> tuple[Outcome, ReviewPolicy | None, Reason]:
    """The outcome a hit gives a line, its review policy, and the reason saying why."""
    entry = hit.entry
    effect = settings.lists.get(entry.list_code)
    citation = effect.citation if effect else entry.source
    where = (
        f"{entry.list_code} entry {entry.entry_id} `{entry.name}`"
        f" (matched `{hit.matched_name}`, score {hit.score:.2f})"
    )
    if hit.status != "match":
        message = f"possible match with {where}: a person must clear it before release"
        return Outcome.HOLD, None, Reason(f"list.{entry.entry_id}", message, citation)
    if effect is None or effect.effect == "hold":
        label = effect.description if effect else entry.source
        message = f"match with {where}: {label}; review before release"
        return Outcome.HOLD, None, Reason(f"list.{entry.entry_id}", message, citation)
    if effect.effect == "prohibited":
        message = f"match with {where}: {effect.description}"
        return (
            Outcome.PROHIBITED,
            ReviewPolicy.DENIAL,
            Reason(f"list.{entry.entry_id}", message, citation),
        )
    requirement = entry.license_requirement or "not stated"
    policy = entry.license_policy or "not stated"
    message = f"match with {where}: licence requirement `{requirement}`, licence policy `{policy}`"
    reason = Reason(f"list.{entry.entry_id}", message, citation)
    lowered = policy.casefold()
    if "denial" in lowered:
        return Outcome.PROHIBITED, ReviewPolicy.DENIAL, reason
    if "case" in lowered:
        return Outcome.LICENSE_REQUIRED, ReviewPolicy.CASE_BY_CASE, reason
    if "approval" in lowered:
        return Outcome.LICENSE_REQUIRED, ReviewPolicy.APPROVAL, reason
    return Outcome.HOLD, None, reason
