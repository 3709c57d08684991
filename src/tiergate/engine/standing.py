"""Reasons the engine gives that no single rule owns: the assumptions it makes where a line
is silent, the non-enforcement notice, and the citations of licences and of answers with no
licence requirement."""

from __future__ import annotations

from dataclasses import dataclass

from tiergate.model import Reason
from tiergate.rulebook import Rulebook


@dataclass(frozen=True, slots=True)
class StandingReasons:
    """The standing reasons of one rulebook."""

    non_enforcement: Reason
    assumed_datacenter: Reason
    assumed_unpublished: Reason
    licence_citation: str
    nlr_citation: str
    treated_as_citation: str

    @classmethod
    def of(cls, rulebook: Rulebook) -> StandingReasons:
        del rulebook
        return cls(
            non_enforcement=Reason(
                rule="non-enforcement.ai-diffusion",
                message="BIS announced on 2025-05-13 that its enforcement officials were "
                "instructed not to enforce the AI Diffusion rule; the text remains in the CFR",
                citation="Department of Commerce press release of 2025-05-13 ('Department of "
                "Commerce Announces Rescission of Biden-Era Artificial Intelligence Diffusion "
                "Rule'); GAO decision B-337935 (2026-05-12: the announcement is a rule under the "
                "Congressional Review Act); 90 FR 4544",
            ),
            assumed_datacenter=Reason(
                rule="assumption.datacenter",
                message="datacenter use not stated: treated as designed or marketed for "
                "datacenters (the stricter reading of Note 2 to 3A090)",
                citation="CCL 3A090 Note 2 (15 CFR 774 Supp. 1)",
            ),
            assumed_unpublished=Reason(
                rule="assumption.unpublished",
                message="`published` not stated: treated as unpublished, so subject to the EAR "
                "(the stricter reading of 15 CFR 734.3(b)(3) and 734.7; for weights, Note 1 to "
                "4E091)",
                citation="15 CFR 734.3(b)(3), 734.7; CCL 4E091 Note 1",
            ),
            licence_citation=LICENCE_CITATION,
            nlr_citation="15 CFR 742.6 and Part 746 as encoded in the rulebook",
            treated_as_citation="15 CFR 734",
        )


LICENCE_CITATION = "15 CFR Part 750 (licence issued by BIS)"
