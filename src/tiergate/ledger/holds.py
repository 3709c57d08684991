"""Holds: a line a person must look at before it ships, recorded by the check that held it,
released or rejected by a named reviewer with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from tiergate.engine import HoldDecision
from tiergate.errors import UsageError, option
from tiergate.keys import HoldSignature, HoldStatus
from tiergate.ledger.audit import append_event
from tiergate.ledger.books import Held
from tiergate.ledger.bulk import insert_rows
from tiergate.ledger.models import HOLDS, Hold
from tiergate.ledger.store import NotRecorded, RecordConflict, Store, rows_in
from tiergate.model import LineResult, Outcome
from tiergate.normalise import MAX_ID_LENGTH

# The statuses a person's decision gives a hold.
_DECIDED = (HoldStatus.RELEASED, HoldStatus.REJECTED)


class Holds(Store):
    """Reading holds and deciding on them."""

    def holds(self, status: HoldStatus | None = None) -> list[dict[str, Any]]:
        """Recorded holds, oldest first (optionally only `open`, `released` or `rejected`)."""
        self.require_current()
        query = select(HOLDS).order_by(Hold.id)
        if status is not None:
            query = query.where(Hold.status == status)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def decide_hold(self, hold_id: int, status: HoldStatus, by: str, reason: str) -> None:
        """Release or reject an open hold, naming the reviewer and the justification."""
        if status not in _DECIDED:
            raise UsageError(f"a hold is `released` or `rejected`, not `{status}`")
        if not by.strip() or not reason.strip():
            raise UsageError(
                f"a decision on a hold needs the reviewer ({option('by')}) and the "
                f"{option('reason')}"
            )
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            row = connection.execute(select(Hold.status).where(Hold.id == hold_id)).first()
            if row is None:
                raise NotRecorded(f"hold {hold_id} is not recorded")
            if row[0] != HoldStatus.OPEN:
                raise RecordConflict(f"hold {hold_id} is already {row[0]}")
            connection.execute(
                update(Hold)
                .where(Hold.id == hold_id)
                .values(
                    status=status,
                    decided_by=by.strip(),
                    decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    decision_reason=reason.strip(),
                )
            )
            append_event(
                connection, by.strip(), f"hold.{status}", {"hold": hold_id, "reason": reason}
            )

    def hold_decisions(self) -> dict[tuple[str, str], HoldDecision]:
        """The latest decision per held line, for the engine."""
        decided: dict[tuple[str, str], HoldDecision] = {}
        for row in self.holds():
            if row["status"] in _DECIDED:
                decided[(row["shipment_id"], row["line_id"])] = HoldDecision(
                    signature=row["signature"],
                    status=row["status"],
                    by=row["decided_by"] or "",
                    at=row["decided_at"] or "",
                    reason=row["decision_reason"] or "",
                )
        return decided


def record_holds(connection: Connection, lines: Iterable[Held]) -> None:
    """Open a hold for every held line of `lines` (`books.Held`: its ids and its result)
    not already recorded for the same reasons. A line whose ids are longer than the ledger
    keeps has no hold: the line says so among its errors, and with them it can never ship,
    released or not."""
    held = [
        (shipment_id or "", line_id or "", line)
        for shipment_id, line_id, line in lines
        if line.outcome is Outcome.HOLD
        and line.hold_signature
        and _storable(shipment_id or "", line_id or "")
    ]
    if not held:
        return
    known = {
        (shipment_id, line_id, signature)
        for shipment_id, line_id, signature in rows_in(
            connection,
            select(HOLDS.c.shipment_id, HOLDS.c.line_id, HOLDS.c.signature),
            HOLDS.c.shipment_id,
            {shipment_id for shipment_id, _, _ in held},
        )
    }
    now = datetime.now(UTC).isoformat(timespec="seconds")
    # Each result's signature and reasons, worked out once (many lines share a result).
    recorded: dict[int, tuple[LineResult, str, list[str]]] = {}
    # Equal reasons as one list, converted for the database once (`bulk.insert_rows`).
    shared: dict[tuple[str, ...], list[str]] = {}
    rows = []
    for shipment_id, line_id, line in held:
        found = recorded.get(id(line))
        if found is None:
            assert line.hold_signature is not None
            signature = HoldSignature.parse(line.hold_signature)
            reasons = [r.message for r in line.reasons if r.rule in signature.rules]
            reasons = shared.setdefault(tuple(reasons), reasons)
            found = recorded[id(line)] = (line, str(signature), reasons)
        key = (shipment_id, line_id, found[1])
        if key in known:
            continue
        known.add(key)
        rows.append(
            {
                "shipment_id": key[0],
                "line_id": key[1],
                "signature": key[2],
                "reasons": found[2],
                "status": HoldStatus.OPEN,
                "created_at": now,
            }
        )
    insert_rows(connection, HOLDS, rows)


def _storable(shipment_id: str, line_id: str) -> bool:
    """Whether the ledger keeps the line's ids (`normalise.MAX_ID_LENGTH` at most)."""
    return len(shipment_id) <= MAX_ID_LENGTH and len(line_id) <= MAX_ID_LENGTH
