"""Licences the company holds, and what lines take from them: a check reserves a licensed
line's quantity (and value), a commit turns the reservation into a use, and a cancellation
or a re-check without the licence releases it."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from tiergate.keys import LicenceStatus, LicenceUseState
from tiergate.ledger.amounts import ZERO, exact
from tiergate.ledger.audit import append_event
from tiergate.ledger.books import CheckedBook, shipments_of
from tiergate.ledger.models import USES, CommittedLine, Licence, LicenceUse
from tiergate.ledger.store import NotRecorded, RecordConflict, Store, rows_in
from tiergate.licences import LicenceBook, LicenceGrant
from tiergate.model import LineResult, Outcome


class Licences(Store):
    """Recording licences, reading what is left of them, cancelling reservations."""

    def add_licence(self, licence: dict[str, Any], actor: str) -> None:
        """Record a licence the company holds (its number must be new)."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            taken = connection.execute(
                select(Licence.id).where(Licence.number == licence["number"])
            ).first()
            if taken is not None:
                raise RecordConflict(f"licence `{licence['number']}` is already recorded")
            value = licence.get("authorized_value")
            dollars = None if value is None else exact(value)
            connection.execute(
                insert(Licence).values(
                    **{**licence, "authorized_value": dollars}, status=LicenceStatus.ACTIVE
                )
            )
            append_event(connection, actor, "licence.add", licence)

    def revoke_licence(self, number: str, actor: str, reason: str) -> None:
        """Mark a licence revoked: it covers nothing from now on."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            found = connection.execute(
                update(Licence).where(Licence.number == number).values(status=LicenceStatus.REVOKED)
            )
            if found.rowcount == 0:
                raise NotRecorded(f"licence `{number}` is not recorded")
            append_event(connection, actor, "licence.revoke", {"number": number, "reason": reason})

    def licences(self) -> list[dict[str, Any]]:
        """Every licence with its used, reserved and remaining quantity (and value, for a
        licence that authorizes one)."""
        self.require_current()
        with self.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(select(Licence.__table__)).mappings()]
            taken: dict[tuple[str, LicenceUseState], tuple[int, Decimal]] = {}
            # Summed here, not in SQL: SQLite would sum decimal text as floating point.
            for number, state, quantity, value in connection.execute(
                select(
                    LicenceUse.licence_number,
                    LicenceUse.state,
                    LicenceUse.quantity,
                    LicenceUse.value,
                ).where(LicenceUse.state != LicenceUseState.RELEASED)
            ):
                key = (number, LicenceUseState(state))
                units, dollars = taken.get(key, (0, ZERO))
                taken[key] = (units + quantity, dollars + (value or ZERO))
        for row in rows:
            row.pop("id", None)
            used = taken.get((row["number"], LicenceUseState.USED), (0, ZERO))
            reserved = taken.get((row["number"], LicenceUseState.RESERVED), (0, ZERO))
            row["status"] = LicenceStatus(row["status"])
            row["used_quantity"], row["reserved_quantity"] = used[0], reserved[0]
            row["remaining_quantity"] = row["authorized_quantity"] - used[0] - reserved[0]
            authorized: Decimal | None = row["authorized_value"]
            # US dollars to the cent: exact as decimals, shown as JSON numbers.
            row["authorized_value"] = None if authorized is None else float(authorized)
            row["used_value"], row["reserved_value"] = float(used[1]), float(reserved[1])
            row["remaining_value"] = (
                None if authorized is None else float(authorized - used[1] - reserved[1])
            )
        return sorted(rows, key=lambda row: row["number"])

    def licence_book(self, exclude: Set[tuple[str, str]] | None = None) -> LicenceBook:
        """The active licences with what is left of them, for a check; lines in `exclude`
        give back what they reserved or used (a re-check of the same book)."""
        self.require_current()
        given_back: dict[str, tuple[int, Decimal]] = {}
        if exclude:
            with self.engine.connect() as connection:
                for number, shipment_id, line_id, quantity, value in rows_in(
                    connection,
                    select(
                        USES.c.licence_number,
                        USES.c.shipment_id,
                        USES.c.line_id,
                        USES.c.quantity,
                        USES.c.value,
                    ).where(USES.c.state != LicenceUseState.RELEASED),
                    USES.c.shipment_id,
                    shipments_of(exclude),
                ):
                    if (shipment_id, line_id) in exclude:
                        units, dollars = given_back.get(number, (0, ZERO))
                        given_back[number] = (units + quantity, dollars + (value or ZERO))
        grants = []
        for row in self.licences():
            if row["status"] is not LicenceStatus.ACTIVE:
                continue
            units, dollars = given_back.get(row["number"], (0, ZERO))
            grants.append(
                LicenceGrant(
                    number=row["number"],
                    holder=row["holder"],
                    items=tuple(row["items"]),
                    destinations=tuple(row["destinations"]),
                    valid_from=date.fromisoformat(row["valid_from"]),
                    valid_to=date.fromisoformat(row["valid_to"]),
                    quantity_left=row["remaining_quantity"] + units,
                    parties=tuple(row["parties"]),
                    conditions=row["conditions"],
                    value_left=None
                    if row["remaining_value"] is None
                    else float(exact(row["remaining_value"]) + dollars),
                )
            )
        return LicenceBook(grants)

    def cancel(self, shipment_id: str, line_id: str | None, actor: str, reason: str) -> int:
        """Release the licence quantity reserved by lines that will not ship; returns how many
        reservations were released. A committed (shipped) line cannot be cancelled here."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            query = select(CommittedLine.line_id).where(CommittedLine.shipment_id == shipment_id)
            if line_id is not None:
                query = query.where(CommittedLine.line_id == line_id)
            shipped = [row[0] for row in connection.execute(query)]
            if shipped:
                raise RecordConflict(
                    f"line(s) {', '.join(shipped)} of shipment `{shipment_id}` are committed as "
                    "shipped and cannot be cancelled"
                )
            known = LicenceUse.shipment_id == shipment_id
            if line_id is not None:
                known = known & (LicenceUse.line_id == line_id)
            if connection.execute(select(LicenceUse.id).where(known).limit(1)).first() is None:
                which = f"line {line_id} of shipment" if line_id is not None else "shipment"
                raise NotRecorded(
                    f"{which} `{shipment_id}`: no check reserved licence quantity for it, so "
                    "there is nothing to cancel (check the id)"
                )
            condition = known & (LicenceUse.state == LicenceUseState.RESERVED)
            released = connection.execute(
                update(LicenceUse).where(condition).values(state=LicenceUseState.RELEASED)
            ).rowcount
            append_event(
                connection,
                actor,
                "cancel",
                {"shipment_id": shipment_id, "line_id": line_id, "reason": reason},
            )
        return int(released or 0)


def release_stale(connection: Connection, book: CheckedBook) -> None:
    """A line of `book` checked again without a licence, or under another one, or whose
    ids another line of the book carries too (it is never committed), gives back what an
    earlier check reserved for it (the lines that name a licence are among its drawing
    lines)."""
    keys = book.keys
    named: dict[tuple[str, str], LineResult] = {}
    for line in book.drawing:
        ident = (line.shipment_id or "", line.line_id or "")
        if f"{ident[0]}/{ident[1]}" not in book.repeated:
            named[ident] = line
    stale = []
    uses = USES.c
    for row_id, number, shipment_id, line_id in rows_in(
        connection,
        select(uses.id, uses.licence_number, uses.shipment_id, uses.line_id).where(
            uses.state == LicenceUseState.RESERVED
        ),
        uses.shipment_id,
        keys.shipments,
    ):
        key = (shipment_id, line_id)
        if key in keys:
            given = named.get(key)
            if given is None or given.licence != number or not reserves(given):
                stale.append(row_id)
    if stale:
        connection.execute(
            update(LicenceUse)
            .where(LicenceUse.id.in_(stale))
            .values(state=LicenceUseState.RELEASED)
        )


@dataclass
class LicenceTaker:
    """The licences a report's lines name, with what every line holds of them: read once under
    the write lock, re-checked line by line, written back in bulk."""

    licences: dict[
        str, tuple[int, Decimal | None, LicenceStatus]
    ]  # number -> quantity, value, status
    taken: dict[str, tuple[int, Decimal]]  # number -> units and dollars reserved or used
    # (number, shipment_id, line_id) -> (row id, state, quantity, value)
    own: dict[tuple[str, str, str], tuple[int | None, LicenceUseState, int, Decimal | None]]
    changed: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, connection: Connection, lines: Iterable[LineResult]) -> LicenceTaker:
        """The licences `lines` name and every line's use of them."""
        numbers = {line.licence for line in lines if line.licence is not None}
        licences: dict[str, tuple[int, Decimal | None, LicenceStatus]] = {}
        taken: dict[str, tuple[int, Decimal]] = {}
        own: dict[
            tuple[str, str, str], tuple[int | None, LicenceUseState, int, Decimal | None]
        ] = {}
        for number, quantity, value, status in rows_in(
            connection,
            select(
                Licence.number,
                Licence.authorized_quantity,
                Licence.authorized_value,
                Licence.status,
            ),
            Licence.number,
            numbers,
        ):
            licences[number] = (quantity, value, LicenceStatus(status))
        uses = USES.c
        for row_id, number, shipment_id, line_id, quantity, value, state in rows_in(
            connection,
            select(
                uses.id,
                uses.licence_number,
                uses.shipment_id,
                uses.line_id,
                uses.quantity,
                uses.value,
                uses.state,
            ),
            uses.licence_number,
            numbers,
        ):
            state = LicenceUseState(state)
            own[(number, shipment_id, line_id)] = (row_id, state, quantity, value)
            if state is not LicenceUseState.RELEASED:
                units, dollars = taken.get(number, (0, ZERO))
                taken[number] = (units + quantity, dollars + (value or ZERO))
        return cls(licences, taken, own)

    def _others(self, number: str, ident: tuple[str, str, str]) -> tuple[int, Decimal]:
        """Units and dollars of the licence held by every line but this one."""
        units, dollars = self.taken.get(number, (0, ZERO))
        mine = self.own.get(ident)
        if mine is not None and mine[1] is not LicenceUseState.RELEASED:
            units, dollars = units - mine[2], dollars - (mine[3] or ZERO)
        return units, dollars

    def problem(self, line: LineResult) -> str | None:
        """Why the line's quantity (and value) does not fit its licence, or None."""
        number, ident = _licence_key(line)
        licence = self.licences.get(number)
        if licence is None or licence[2] is not LicenceStatus.ACTIVE:
            return f"licence `{number}` is not active in the ledger"
        mine = self.own.get(ident)
        if mine is not None and mine[1] is LicenceUseState.USED:
            return None
        units, dollars = self._others(number, ident)
        quantity = line.quantity or 0
        if units + quantity > licence[0]:
            return (
                f"licence `{number}` has {licence[0] - units:,} units left; {quantity:,} "
                "do not fit: check again"
            )
        if licence[1] is not None:
            if line.value is None:
                return f"licence `{number}` authorizes a value: the line's value is needed"
            if dollars + exact(line.value) > licence[1]:
                return (
                    f"licence `{number}` has US${licence[1] - dollars:,.2f} of value left; "
                    f"US${line.value:,.2f} does not fit: check again"
                )
        return None

    def take(self, line: LineResult, state: LicenceUseState) -> None:
        """Reserve or use the line's quantity and value (after `problem` said None): a line's
        reservation becomes its use, and a use stays as it is."""
        number, ident = _licence_key(line)
        mine = self.own.get(ident)
        if mine is not None and mine[1] is LicenceUseState.USED:
            return
        units, dollars = self._others(number, ident)
        quantity = line.quantity or 0
        value = None if line.value is None else exact(line.value)
        self.taken[number] = (units + quantity, dollars + (value or ZERO))
        self.own[ident] = (mine[0] if mine else None, state, quantity, value)
        self.changed.add(ident)

    def write(self, connection: Connection) -> None:
        """Write the changed uses back: an update per known row, an insert per new one."""
        table = USES
        updates, inserts = [], []
        for ident in sorted(self.changed):
            row_id, state, quantity, value = self.own[ident]
            if row_id is None:
                inserts.append(
                    {
                        "licence_number": ident[0],
                        "shipment_id": ident[1],
                        "line_id": ident[2],
                        "quantity": quantity,
                        "value": value,
                        "state": state,
                    }
                )
            else:
                updates.append({"row_id": row_id, "q": quantity, "v": value, "s": state})
        if updates:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(quantity=bindparam("q"), value=bindparam("v"), state=bindparam("s")),
                updates,
            )
        if inserts:
            connection.execute(insert(table), inserts)


def _licence_key(line: LineResult) -> tuple[str, tuple[str, str, str]]:
    """A licensed line's licence number and its (licence, shipment_id, line_id) key."""
    assert line.licence is not None, "only a line a licence covers takes from one"
    return line.licence, (line.licence, line.shipment_id or "", line.line_id or "")


def reserves(line: LineResult) -> bool:
    """A check reserves licence quantity for a line that may ship under it, or may once a
    person releases its hold."""
    return line.licence is not None and line.outcome in (Outcome.LICENSED, Outcome.HOLD)
