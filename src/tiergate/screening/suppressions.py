"""Reviewed false positives: "party P is not list entry E", with who, when, why, and on which
list edition.

A suppression holds only while the entry reads as it did when the person reviewed it: it
stores the entry's fingerprint, and when the list changes the entry (new alias, new address
country, new licence policy), the suppression lapses and the hit comes back, saying so.
Suppressions live in `suppressions.json` in the tiergate home, written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiergate.errors import InputError
from tiergate.screening.lists import ListEdition
from tiergate.screening.store import tiergate_home


@dataclass(frozen=True, slots=True)
class Suppression:
    """One reviewed false positive."""

    party: str
    party_key: str
    country: str | None
    entry_id: str
    entry_fingerprint: str
    list_edition: str
    by: str
    reason: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SuppressionStore:
    """The suppressions recorded under one tiergate home."""

    def __init__(self, home: Path | None = None) -> None:
        self.path = (home or tiergate_home()) / "suppressions.json"

    def all(self) -> list[Suppression]:
        """Every recorded suppression, oldest first."""
        if not self.path.is_file():
            return []
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            return [Suppression(**row) for row in rows]
        except (ValueError, TypeError) as exc:
            raise InputError(f"suppressions file `{self.path}` is damaged: {exc}") from exc

    def add(
        self,
        *,
        party: str,
        party_key: str,
        country: str | None,
        entry_id: str,
        edition: ListEdition,
        by: str,
        reason: str,
    ) -> Suppression:
        """Record that `party` is not `entry_id`, as the entry reads in `edition`."""
        if not by.strip() or not reason.strip():
            raise InputError("a suppression needs the reviewer (--by) and the reason (--reason)")
        entry = next((e for e in edition.entries if e.entry_id == entry_id), None)
        if entry is None:
            raise InputError(
                f"entry `{entry_id}` is not in the list edition of {edition.edition_date}"
            )
        suppression = Suppression(
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
        rows = [s.as_dict() for s in self.all()] + [suppression.as_dict()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(rows, out, indent=2, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return suppression

    def lookup(self) -> dict[tuple[str, str | None, str], Suppression]:
        """The latest suppression per (party key, country, entry id)."""
        return {(s.party_key, s.country, s.entry_id): s for s in self.all()}
