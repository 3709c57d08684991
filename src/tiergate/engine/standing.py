"""Reasons the engine gives that no single rule owns (`standing` in `data/rules.yaml`): the
assumptions it makes where a line is silent, the non-enforcement notice, and the citations of
licences and of answers with no licence requirement."""

from __future__ import annotations

from dataclasses import dataclass

from tiergate.model import Reason
from tiergate.rulebook import Rulebook, StandingReason


@dataclass(frozen=True, slots=True)
class StandingReasons:
    """The standing reasons of one rulebook, as the engine's reasons."""

    non_enforcement: Reason
    assumed_datacenter: Reason
    assumed_unpublished: Reason
    licence_citation: str
    nlr_citation: str
    treated_as_citation: str

    @classmethod
    def of(cls, rulebook: Rulebook) -> StandingReasons:
        standing = rulebook.rules.standing
        return cls(
            non_enforcement=_reason(standing.non_enforcement),
            assumed_datacenter=_reason(standing.assumed_datacenter),
            assumed_unpublished=_reason(standing.assumed_unpublished),
            licence_citation=standing.licence_citation,
            nlr_citation=standing.no_licence_citation,
            treated_as_citation=standing.treated_as_citation,
        )


def _reason(given: StandingReason) -> Reason:
    return Reason(rule=given.rule, message=given.message, citation=given.citation)
