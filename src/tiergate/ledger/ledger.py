"""The ledger API: migrate, read allowance usage, commit shipped lines, keep the audit trail.

One commit is one database transaction, serialised against other committers: on SQLite by a
`BEGIN IMMEDIATE` transaction, on PostgreSQL by a transaction-scoped advisory lock. Inside it,
every debit is re-checked against its allowance's limit, so concurrent committers can never
take an allowance past its limit; a line that no longer fits is not committed and says why.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tiergate.engine import AllowanceState, HoldDecision
from tiergate.errors import TiergateError
from tiergate.ledger.models import (
    AllowanceUsage,
    AuditEntry,
    CommittedLine,
    Hold,
    Licence,
    LicenceUse,
)
from tiergate.licences import LicenceBook, LicenceGrant
from tiergate.model import Outcome, Report
from tiergate.screening.store import tiergate_home

HEAD = "0004"
GENESIS = "0" * 64
# Any fixed 64-bit number: the advisory lock all PostgreSQL committers take.
_PG_LOCK = 7_302_861_905


class LedgerError(TiergateError):
    """The ledger database cannot be used as it is (missing, not migrated, unreachable)."""

    exit_code = 2


def default_ledger_exists() -> bool:
    """True when the default SQLite ledger file is there (check then reads its allowances)."""
    return (tiergate_home() / "ledger.sqlite3").is_file()


def database_url(url: str | None = None) -> str:
    """`url`, else `TIERGATE_DATABASE_URL`, else a SQLite file in the tiergate home."""
    if url:
        return url
    configured = os.environ.get("TIERGATE_DATABASE_URL")
    if configured:
        return configured
    home = tiergate_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'ledger.sqlite3'}"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The chain hash of an audit entry: its fields and the previous entry's hash."""
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


@dataclass
class CommitResult:
    """What a commit did, line by line."""

    committed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.committed)} line(s) committed, {len(self.already)} already committed "
            f"(unchanged), {len(self.refused)} not committed"
        )


class Ledger:
    """One ledger database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        try:
            parsed = make_url(self.url)
        except Exception as exc:  # SQLAlchemy raises several kinds here
            raise LedgerError(f"database URL `{self.url}` is not valid: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No pool: the CLI and batch jobs open the ledger briefly, and a closed connection
        # must not linger (a long-running service can pass its own engine settings later).
        self.engine: Engine = create_engine(parsed, poolclass=NullPool)
        if self.dialect == "sqlite":
            _sqlite_immediate(self.engine)
        self._current = False

    # --- schema --------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The database's migration revision (None when empty)."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def upgrade(self, to: str = "head") -> tuple[str | None, str]:
        """Migrate to the newest schema (or to revision `to`); returns (before, after)."""
        before = self.revision()
        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("tiergate.ledger").joinpath("migrations"))
        )
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, to)
        self._current = False
        return before, HEAD if to == "head" else to

    def require_current(self) -> None:
        """Raise `LedgerError` telling the user to migrate when the schema is not current
        (checked once per `Ledger`: a schema does not go back)."""
        if self._current:
            return
        try:
            revision = self.revision()
        except Exception as exc:  # a driver error: report it as unusable
            raise LedgerError(f"cannot open the ledger database `{self.url}`: {exc}") from exc
        if revision != HEAD:
            raise LedgerError(
                f"the ledger database `{self.url}` is at schema revision {revision or 'none'}, "
                f"tiergate needs {HEAD}: run `tiergate db upgrade` first"
            )
        self._current = True

    # --- allowances ----------------------------------------------------------------------

    def allowance_state(self, exclude: set[tuple[str, str]] | None = None) -> AllowanceState:
        """The TPP used so far, as the engine's starting allowance state. Lines in `exclude`
        (shipment_id, line_id) that are already committed do not count: re-checking a book
        must not count its own committed lines twice."""
        self.require_current()
        with self.engine.connect() as connection:
            used: dict[tuple[str, str, str], float] = {}
            if exclude:
                for shipment_id, line_id, debits in connection.execute(
                    select(CommittedLine.shipment_id, CommittedLine.line_id, CommittedLine.debits)
                ):
                    if (shipment_id, line_id) in exclude:
                        for allowance_id, holder, period, amount in debits:
                            key = (allowance_id, holder, period)
                            used[key] = used.get(key, 0.0) - amount
            result = connection.execute(
                select(
                    AllowanceUsage.allowance_id,
                    AllowanceUsage.holder,
                    AllowanceUsage.period,
                    AllowanceUsage.used_tpp,
                )
            )
            for allowance_id, holder, period, total in result:
                key = (allowance_id, holder, period)
                used[key] = used.get(key, 0.0) + total
            return AllowanceState(used={key: value for key, value in used.items() if value > 0})

    # --- commit --------------------------------------------------------------------------

    def commit(self, report: Report, limits: dict[str, float], actor: str) -> CommitResult:
        """Record every line that may ship as shipped, debiting its allowances; idempotent
        by (shipment_id, line_id)."""
        self.require_current()
        outcome = CommitResult()
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            self._serialise(connection)
            self._release_stale(connection, report)
            for line in report.lines:
                key = f"{line.shipment_id or ''}/{line.line_id}"
                exists = connection.execute(
                    select(CommittedLine.id).where(
                        CommittedLine.shipment_id == (line.shipment_id or ""),
                        CommittedLine.line_id == (line.line_id or ""),
                    )
                ).first()
                if exists is not None:
                    outcome.already.append(key)
                    continue
                if not line.may_ship:
                    outcome.refused.append((key, f"outcome {line.outcome.value} may not ship"))
                    continue
                # A savepoint per line: a line refused half-way leaves none of its writes.
                savepoint = connection.begin_nested()
                problem = self._debit(connection, line.debits, limits)
                if problem is None and line.licence is not None:
                    problem = self._take_licence(connection, line, "used")
                if problem is not None:
                    savepoint.rollback()
                    outcome.refused.append((key, problem))
                    continue
                connection.execute(
                    insert(CommittedLine).values(
                        shipment_id=line.shipment_id or "",
                        line_id=line.line_id or "",
                        as_of=line.as_of.isoformat() if line.as_of else "",
                        destination=line.destination,
                        eccn=line.eccn,
                        quantity=line.quantity,
                        total_tpp=line.total_tpp,
                        outcome=line.outcome.value,
                        exception=line.exception,
                        input_hash=_line_hash(line.as_dict()),
                        committed_at=now,
                        debits=[list(debit) for debit in line.debits],
                    )
                )
                savepoint.commit()
                outcome.committed.append(key)
            self._record_holds(connection, report)
            self._append(
                connection,
                actor=actor,
                action="commit",
                input_hash=_canonical_hash([line.as_dict() for line in report.lines]),
                rulebook_version=report.rulebook_version,
                list_edition=_list_edition(report),
                payload={
                    "committed": outcome.committed,
                    "already": outcome.already,
                    "refused": [list(r) for r in outcome.refused],
                },
            )
        return outcome

    def _serialise(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})

    def _debit(
        self,
        connection: Connection,
        debits: tuple[tuple[str, str, str, float], ...],
        limits: dict[str, float],
    ) -> str | None:
        """Add every debit, or none: a debit past its limit refuses the whole line."""
        planned = []
        for allowance_id, holder, period, amount in debits:
            row = connection.execute(
                select(AllowanceUsage.id, AllowanceUsage.used_tpp).where(
                    AllowanceUsage.allowance_id == allowance_id,
                    AllowanceUsage.holder == holder,
                    AllowanceUsage.period == period,
                )
            ).first()
            used = row[1] if row is not None else 0.0
            limit = limits.get(allowance_id)
            if limit is not None and used + amount > limit:
                return (
                    f"allowance `{allowance_id}` for `{holder}` ({period}) has {used:,.0f} of "
                    f"{limit:,.0f} TPP used; {amount:,.0f} more does not fit: check again"
                )
            row_id = row[0] if row is not None else None
            planned.append((row_id, allowance_id, holder, period, used + amount))
        for row_id, allowance_id, holder, period, total in planned:
            if row_id is None:
                connection.execute(
                    insert(AllowanceUsage).values(
                        allowance_id=allowance_id, holder=holder, period=period, used_tpp=total
                    )
                )
            else:
                connection.execute(
                    update(AllowanceUsage).where(AllowanceUsage.id == row_id).values(used_tpp=total)
                )
        return None

    # --- licences ------------------------------------------------------------------------

    def add_licence(self, licence: dict[str, Any], actor: str) -> None:
        """Record a licence the company holds (its number must be new)."""
        self.require_current()
        with self.engine.begin() as connection:
            self._serialise(connection)
            taken = connection.execute(
                select(Licence.id).where(Licence.number == licence["number"])
            ).first()
            if taken is not None:
                raise LedgerError(f"licence `{licence['number']}` is already recorded")
            connection.execute(insert(Licence).values(**licence, status="active"))
            self._append_event(connection, actor, "licence.add", licence)

    def revoke_licence(self, number: str, actor: str, reason: str) -> None:
        """Mark a licence revoked: it covers nothing from now on."""
        self.require_current()
        with self.engine.begin() as connection:
            self._serialise(connection)
            found = connection.execute(
                update(Licence).where(Licence.number == number).values(status="revoked")
            )
            if found.rowcount == 0:
                raise LedgerError(f"licence `{number}` is not recorded")
            self._append_event(
                connection, actor, "licence.revoke", {"number": number, "reason": reason}
            )

    def licences(self) -> list[dict[str, Any]]:
        """Every licence with its used, reserved and remaining quantity (and value, for a
        licence that authorizes one)."""
        self.require_current()
        with self.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(select(Licence.__table__)).mappings()]
            taken: dict[tuple[str, str], tuple[int, float]] = {}
            for number, quantity, value, state in connection.execute(
                select(
                    LicenceUse.licence_number,
                    LicenceUse.quantity,
                    LicenceUse.value,
                    LicenceUse.state,
                ).where(LicenceUse.state != "released")
            ):
                units, dollars = taken.get((number, state), (0, 0.0))
                taken[(number, state)] = (units + quantity, dollars + (value or 0.0))
        for row in rows:
            row.pop("id", None)
            used = taken.get((row["number"], "used"), (0, 0.0))
            reserved = taken.get((row["number"], "reserved"), (0, 0.0))
            row["used_quantity"], row["reserved_quantity"] = used[0], reserved[0]
            row["remaining_quantity"] = row["authorized_quantity"] - used[0] - reserved[0]
            authorized_value = row["authorized_value"]
            row["used_value"], row["reserved_value"] = used[1], reserved[1]
            row["remaining_value"] = (
                None if authorized_value is None else authorized_value - used[1] - reserved[1]
            )
        return sorted(rows, key=lambda row: row["number"])

    def licence_book(self, exclude: set[tuple[str, str]] | None = None) -> LicenceBook:
        """The active licences with what is left of them, for a check; lines in `exclude`
        give back what they reserved or used (a re-check of the same book)."""
        given_back: dict[str, tuple[int, float]] = {}
        if exclude:
            with self.engine.connect() as connection:
                for number, shipment_id, line_id, quantity, value in connection.execute(
                    select(
                        LicenceUse.licence_number,
                        LicenceUse.shipment_id,
                        LicenceUse.line_id,
                        LicenceUse.quantity,
                        LicenceUse.value,
                    ).where(LicenceUse.state != "released")
                ):
                    if (shipment_id, line_id) in exclude:
                        units, dollars = given_back.get(number, (0, 0.0))
                        given_back[number] = (units + quantity, dollars + (value or 0.0))
        grants = []
        for row in self.licences():
            if row["status"] != "active":
                continue
            units, dollars = given_back.get(row["number"], (0, 0.0))
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
                    else row["remaining_value"] + dollars,
                )
            )
        return LicenceBook(grants)

    def _take_licence(self, connection: Connection, line: Any, state: str) -> str | None:
        """Reserve (`reserved`) or use (`used`) the line's quantity and value of its licence,
        re-checked against what every other line holds; a reservation of the same line becomes
        the use. Returns why it does not fit, or None."""
        number = line.licence
        shipment_id, line_id = line.shipment_id or "", line.line_id or ""
        licence = connection.execute(
            select(Licence.authorized_quantity, Licence.authorized_value, Licence.status).where(
                Licence.number == number
            )
        ).first()
        if licence is None or licence[2] != "active":
            return f"licence `{number}` is not active in the ledger"
        own = connection.execute(
            select(LicenceUse.id, LicenceUse.state).where(
                LicenceUse.licence_number == number,
                LicenceUse.shipment_id == shipment_id,
                LicenceUse.line_id == line_id,
            )
        ).first()
        if own is not None and own[1] == "used":
            return None
        units, dollars = 0, 0.0
        for quantity_taken, value_taken in connection.execute(
            select(LicenceUse.quantity, LicenceUse.value).where(
                LicenceUse.licence_number == number,
                LicenceUse.state != "released",
                (LicenceUse.shipment_id != shipment_id) | (LicenceUse.line_id != line_id),
            )
        ):
            units += quantity_taken
            dollars += value_taken or 0.0
        quantity = line.quantity or 0
        if units + quantity > licence[0]:
            return (
                f"licence `{number}` has {licence[0] - units:,} units left; {quantity:,} "
                "do not fit: check again"
            )
        if licence[1] is not None:
            if line.value is None:
                return f"licence `{number}` authorizes a value: the line's value is needed"
            if dollars + line.value > licence[1]:
                return (
                    f"licence `{number}` has US${licence[1] - dollars:,.2f} of value left; "
                    f"US${line.value:,.2f} does not fit: check again"
                )
        values = {"quantity": quantity, "value": line.value, "state": state}
        if own is None:
            connection.execute(
                insert(LicenceUse).values(
                    licence_number=number, shipment_id=shipment_id, line_id=line_id, **values
                )
            )
        else:
            connection.execute(update(LicenceUse).where(LicenceUse.id == own[0]).values(**values))
        return None

    def _release_stale(self, connection: Connection, report: Report) -> None:
        """A line checked again without a licence, or under another one, gives back what an
        earlier check reserved for it."""
        wanted = {(line.shipment_id or "", line.line_id or ""): line for line in report.lines}
        stale = []
        for row_id, number, shipment_id, line_id in connection.execute(
            select(
                LicenceUse.id, LicenceUse.licence_number, LicenceUse.shipment_id, LicenceUse.line_id
            ).where(LicenceUse.state == "reserved")
        ):
            line = wanted.get((shipment_id, line_id))
            if line is not None and (line.licence != number or not _reserves(line)):
                stale.append(row_id)
        if stale:
            connection.execute(
                update(LicenceUse).where(LicenceUse.id.in_(stale)).values(state="released")
            )

    def cancel(self, shipment_id: str, line_id: str | None, actor: str, reason: str) -> int:
        """Release the licence quantity reserved by lines that will not ship; returns how many
        reservations were released. A committed (shipped) line cannot be cancelled here."""
        self.require_current()
        with self.engine.begin() as connection:
            self._serialise(connection)
            query = select(CommittedLine.line_id).where(CommittedLine.shipment_id == shipment_id)
            if line_id is not None:
                query = query.where(CommittedLine.line_id == line_id)
            shipped = [row[0] for row in connection.execute(query)]
            if shipped:
                raise LedgerError(
                    f"line(s) {', '.join(shipped)} of shipment `{shipment_id}` are committed as "
                    "shipped and cannot be cancelled"
                )
            condition = (LicenceUse.shipment_id == shipment_id) & (LicenceUse.state == "reserved")
            if line_id is not None:
                condition = condition & (LicenceUse.line_id == line_id)
            released = connection.execute(
                update(LicenceUse).where(condition).values(state="released")
            ).rowcount
            self._append_event(
                connection,
                actor,
                "cancel",
                {"shipment_id": shipment_id, "line_id": line_id, "reason": reason},
            )
        return int(released or 0)

    def _append_event(
        self, connection: Connection, actor: str, action: str, payload: dict[str, Any]
    ) -> None:
        self._append(
            connection,
            actor=actor,
            action=action,
            input_hash=_canonical_hash(payload),
            rulebook_version="",
            list_edition=None,
            payload=payload,
        )

    # --- holds ---------------------------------------------------------------------------

    def _record_holds(self, connection: Connection, report: Report) -> None:
        """Open a hold for every held line not already recorded for the same reasons."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for line in report.lines:
            if line.outcome is not Outcome.HOLD or not line.hold_signature:
                continue
            key = (line.shipment_id or "", line.line_id or "", line.hold_signature)
            known = connection.execute(
                select(Hold.id).where(
                    Hold.shipment_id == key[0], Hold.line_id == key[1], Hold.signature == key[2]
                )
            ).first()
            if known is None:
                connection.execute(
                    insert(Hold).values(
                        shipment_id=key[0],
                        line_id=key[1],
                        signature=key[2],
                        reasons=[r.message for r in line.reasons if r.rule in key[2].split(",")],
                        status="open",
                        created_at=now,
                    )
                )

    def holds(self, status: str | None = None) -> list[dict[str, Any]]:
        """Recorded holds, oldest first (optionally only `open`, `released` or `rejected`)."""
        self.require_current()
        query = select(Hold.__table__).order_by(Hold.id)
        if status is not None:
            query = query.where(Hold.status == status)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def decide_hold(self, hold_id: int, status: str, by: str, reason: str) -> None:
        """Release or reject an open hold, naming the reviewer and the justification."""
        if status not in ("released", "rejected"):
            raise LedgerError(f"a hold is `released` or `rejected`, not `{status}`")
        if not by.strip() or not reason.strip():
            raise LedgerError("a decision on a hold needs the reviewer (--by) and the reason")
        self.require_current()
        with self.engine.begin() as connection:
            self._serialise(connection)
            row = connection.execute(select(Hold.status).where(Hold.id == hold_id)).first()
            if row is None:
                raise LedgerError(f"hold {hold_id} is not recorded")
            if row[0] != "open":
                raise LedgerError(f"hold {hold_id} is already {row[0]}")
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
            self._append_event(
                connection, by.strip(), f"hold.{status}", {"hold": hold_id, "reason": reason}
            )

    def hold_decisions(self) -> dict[tuple[str, str], HoldDecision]:
        """The latest decision per held line, for the engine."""
        decided: dict[tuple[str, str], HoldDecision] = {}
        for row in self.holds():
            if row["status"] in ("released", "rejected"):
                decided[(row["shipment_id"], row["line_id"])] = HoldDecision(
                    signature=row["signature"],
                    status=row["status"],
                    by=row["decided_by"] or "",
                    at=row["decided_at"] or "",
                    reason=row["decision_reason"] or "",
                )
        return decided

    # --- audit ---------------------------------------------------------------------------

    def record_check(self, report: Report, source: str, actor: str) -> None:
        """Audit a check that did not commit: what was checked and what came out."""
        self.require_current()
        with self.engine.begin() as connection:
            self._serialise(connection)
            self._record_holds(connection, report)
            self._release_stale(connection, report)
            for line in report.lines:
                if _reserves(line):
                    # A reservation that no longer fits is not made: committing the line will
                    # say why.
                    savepoint = connection.begin_nested()
                    if self._take_licence(connection, line, "reserved") is None:
                        savepoint.commit()
                    else:
                        savepoint.rollback()
            self._append(
                connection,
                actor=actor,
                action="check",
                input_hash=_canonical_hash([line.as_dict() for line in report.lines]),
                rulebook_version=report.rulebook_version,
                list_edition=_list_edition(report),
                payload={
                    "source": source,
                    "view": report.view.value,
                    "as_of": report.as_of.isoformat() if report.as_of else None,
                    "summary": report.summary.as_dict(),
                    "lines": [
                        [line.shipment_id, line.line_id, line.outcome.value]
                        for line in report.lines
                    ],
                },
            )

    def _append(self, connection: Connection, **fields: Any) -> None:
        last = connection.execute(
            select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).scalar_one_or_none()
        prev_hash = last or GENESIS
        fields["at"] = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = entry_hash(prev_hash, fields)
        connection.execute(insert(AuditEntry).values(**fields, prev_hash=prev_hash, hash=digest))

    def audit_entries(self, since: date | None = None) -> list[dict[str, Any]]:
        """The audit trail in order (optionally from a date on)."""
        self.require_current()
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntry.__table__).order_by(AuditEntry.id)
            ).mappings()
            entries = [dict(row) for row in rows]
        if since is not None:
            entries = [e for e in entries if str(e["at"])[:10] >= since.isoformat()]
        return entries

    def audit_verify(self) -> list[str]:
        """Every break in the chain: an edited entry (its hash no longer matches), or an
        inserted or deleted one (its `prev_hash` is not the previous entry's hash)."""
        problems = []
        previous = GENESIS
        for entry in self.audit_entries():
            fields = {
                key: entry[key]
                for key in (
                    "at",
                    "actor",
                    "action",
                    "input_hash",
                    "rulebook_version",
                    "list_edition",
                    "payload",
                )
            }
            if entry["prev_hash"] != previous:
                problems.append(
                    f"entry {entry['id']}: does not follow the entry before it (an entry was "
                    "deleted or inserted before it)"
                )
            if entry_hash(entry["prev_hash"], fields) != entry["hash"]:
                problems.append(f"entry {entry['id']}: its content was changed after writing")
            previous = entry["hash"]
        return problems


def _sqlite_immediate(engine: Engine) -> None:
    """SQLite: take the write lock when a transaction begins, and wait for it (not fail)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # tiergate issues BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _reserves(line: Any) -> bool:
    """A check reserves licence quantity for a line that may ship under it, or may once a
    person releases its hold."""
    return line.licence is not None and line.outcome in (Outcome.LICENSED, Outcome.HOLD)


def _canonical_hash(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _line_hash(line: dict[str, Any]) -> str:
    return _canonical_hash(line)


def _list_edition(report: Report) -> str | None:
    for edition in report.editions:
        if edition.get("name") == "US Consolidated Screening List":
            return f"{edition['date']} {edition.get('content_hash', '')[:12]}"
    return None
