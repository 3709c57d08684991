"""Re-screening on list change: which screened parties change result between two editions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiergate.progress import Progress, Silent
from tiergate.screening.lists import ListEdition
from tiergate.screening.parties import PartyRow
from tiergate.screening.service import Screener


@dataclass(frozen=True, slots=True)
class PartyChange:
    """A party whose screening result differs between two editions."""

    party: PartyRow
    old_status: str
    new_status: str
    old_entries: tuple[str, ...]
    new_entries: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.party.row,
            "id": self.party.party_id,
            "name": self.party.name,
            "country": self.party.country,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "old_entries": list(self.old_entries),
            "new_entries": list(self.new_entries),
        }


def rescreen(
    parties: list[PartyRow],
    old: ListEdition,
    new: ListEdition,
    progress: Progress | None = None,
) -> list[PartyChange]:
    """Screen every party against both editions; keep those whose status or hits differ.
    `progress` is told of each party screened."""
    before, after = Screener(old), Screener(new)
    changes = []
    for party in (progress or Silent()).track(parties, "re-screening"):
        name = party.name or ""
        a = before.screen(name, party.country, party.party_id)
        b = after.screen(name, party.country, party.party_id)
        a_ids = tuple(hit.entry.entry_id for hit in a.hits)
        b_ids = tuple(hit.entry.entry_id for hit in b.hits)
        if a.status != b.status or a_ids != b_ids:
            changes.append(PartyChange(party, a.status, b.status, a_ids, b_ids))
    return changes
