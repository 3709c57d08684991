"""Reviewed false positives: "party P is not list entry E", with who, when, why, and on which
list edition.

A suppression holds only while the entry reads as it did when the person reviewed it: it
stores the entry's fingerprint, and when the list changes the entry (new alias, new address
country, new licence policy), the suppression lapses and the hit comes back, saying so.
Suppressions live in the ledger database (`Ledger.add_suppression`), where each one and each
lapse is an audit entry. Before, they lived in `suppressions.json` in the tiergate home:
`tiergate db upgrade` moves such a file into the ledger (`read_legacy_file`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiergate.errors import InputError
from tiergate.keys import SuppressionStatus
from tiergate.screening.lists import EditionInfo, ListEntry

# A suppression applies to a party (its name key and country) and one list entry.
SuppressionKey = tuple[str, str | None, str]


@dataclass(frozen=True, slots=True)
class Suppression:
    """One reviewed false positive; `id` and `status` (active or lapsed) are the ledger's."""

    party: str
    party_key: str
    country: str | None
    entry_id: str
    entry_fingerprint: str
    list_edition: str
    by: str
    reason: str
    at: str
    id: int | None = None
    status: SuppressionStatus = SuppressionStatus.ACTIVE

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Suppression:
        """A suppression as a ledger row or `as_dict` holds it (its status as stored text)."""
        fields = {**row}
        status = SuppressionStatus(fields.pop("status", SuppressionStatus.ACTIVE))
        return cls(**fields, status=status)

    @property
    def key(self) -> SuppressionKey:
        return (self.party_key, self.country, self.entry_id)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_suppression(
    edition: EditionInfo,
    entry: ListEntry | None,
    *,
    party: str,
    party_key: str,
    country: str | None,
    entry_id: str,
    by: str,
    reason: str,
) -> Suppression:
    """That `party` is not `entry_id`, as the entry reads (`entry`, None when `edition` does
    not have it), reviewed by `by`."""
    if not by.strip() or not reason.strip():
        raise InputError("a suppression needs the reviewer (--by) and the reason (--reason)")
    if entry is None:
        raise InputError(f"entry `{entry_id}` is not in the list edition of {edition.edition_date}")
    return Suppression(
        party=party,
        party_key=party_key,
        country=country,
        entry_id=entry_id,
        entry_fingerprint=entry.fingerprint(),
        list_edition=f"{edition.edition_date.isoformat()} {edition.content_hash[:12]}",
        by=by.strip(),
        reason=reason.strip(),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def latest(suppressions: Iterable[Suppression]) -> dict[SuppressionKey, Suppression]:
    """The latest suppression per (party key, country, entry id), from oldest-first ones."""
    return {suppression.key: suppression for suppression in suppressions}


def read_legacy_file(path: Path) -> list[Suppression]:
    """The suppressions of a `suppressions.json` written before they moved to the ledger."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Suppression.from_row(row) for row in rows]
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"suppressions file `{path}` cannot be read: {exc}") from exc
