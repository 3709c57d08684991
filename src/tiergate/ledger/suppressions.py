"""Suppressions (reviewed false positives, see `screening.suppressions`) as the ledger keeps
them: each one, each lapse and each import an audit entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from tiergate.keys import SuppressionStatus
from tiergate.ledger.audit import append_event
from tiergate.ledger.models import SuppressionRow
from tiergate.ledger.store import Store
from tiergate.screening.suppressions import Suppression, read_legacy_file


class Suppressions(Store):
    """Recording, listing and lapsing suppressions."""

    def add_suppression(self, suppression: Suppression, actor: str) -> Suppression:
        """Record a reviewed false positive (audited); returns it with its ledger id."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            return _insert_suppression(connection, suppression, actor, "suppression.add")

    def suppressions(self) -> list[Suppression]:
        """Every suppression, oldest first, active or lapsed."""
        self.require_current()
        columns = [c for c in SuppressionRow.__table__.columns if c.name != "lapsed_at"]
        with self.engine.connect() as connection:
            rows = connection.execute(select(*columns).order_by(SuppressionRow.id)).mappings()
            return [Suppression.from_row(row) for row in rows]

    def record_lapses(self, lapsed: Iterable[Suppression], actor: str) -> int:
        """Mark suppressions lapsed (the list changed their entry), each an audit entry;
        returns how many were still active."""
        found = {s.id: s for s in lapsed if s.id is not None}
        if not found:
            return 0
        self.require_current()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        count = 0
        with self._writing() as connection:
            self._serialise(connection)
            for suppression_id, suppression in sorted(found.items()):
                changed = connection.execute(
                    update(SuppressionRow)
                    .where(
                        SuppressionRow.id == suppression_id,
                        SuppressionRow.status == SuppressionStatus.ACTIVE,
                    )
                    .values(status=SuppressionStatus.LAPSED, lapsed_at=now)
                ).rowcount
                if changed:
                    count += 1
                    append_event(
                        connection,
                        actor,
                        "suppression.lapse",
                        {
                            "id": suppression_id,
                            "party": suppression.party,
                            "entry_id": suppression.entry_id,
                            "reviewed_fingerprint": suppression.entry_fingerprint,
                            "why": "the list changed the entry since the review",
                        },
                    )
        return count

    def import_suppressions(self, path: Path, actor: str) -> int:
        """Move a `suppressions.json` written before 0008 into the ledger (each an audit
        entry) and rename the file `.imported`; returns how many were imported."""
        legacy = read_legacy_file(path)
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            for suppression in legacy:
                _insert_suppression(connection, suppression, actor, "suppression.import")
        path.replace(path.with_name(path.name + ".imported"))
        return len(legacy)


def _insert_suppression(
    connection: Connection, suppression: Suppression, actor: str, action: str
) -> Suppression:
    """Insert a suppression as active and audit it under `action`."""
    values = {**suppression.as_dict(), "status": SuppressionStatus.ACTIVE}
    values.pop("id")
    row_id = connection.execute(
        insert(SuppressionRow).values(**values, lapsed_at=None).returning(SuppressionRow.id)
    ).scalar_one()
    recorded = replace(suppression, id=row_id, status=SuppressionStatus.ACTIVE)
    append_event(connection, actor, action, recorded.as_dict())
    return recorded
