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
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from tiergate.engine import LICENCE_CITATION, AllowanceState, HoldDecision, summarise
from tiergate.errors import TiergateError
from tiergate.home import default_ledger_path, tiergate_home
from tiergate.ledger.models import (
    AllowanceUsage,
    AuditEntry,
    AuditHead,
    Base,
    CommittedLine,
    Hold,
    Licence,
    LicenceUse,
    SuppressionRow,
)
from tiergate.licences import LicenceBook, LicenceGrant
from tiergate.model import LineResult, Outcome, Reason, Report, line_content
from tiergate.screening.suppressions import Suppression, read_legacy_file

HEAD = "0008"
# The tables written in bulk, as Core tables.
_COMMITTED = Base.metadata.tables["committed_lines"]
_USAGE = Base.metadata.tables["allowance_usage"]
_USES = Base.metadata.tables["licence_uses"]
_HOLDS = Base.metadata.tables["holds"]
GENESIS = "0" * 64
# Any fixed 64-bit number: the advisory lock all PostgreSQL committers take.
_PG_LOCK = 7_302_861_905


class LedgerError(TiergateError):
    """The ledger database cannot be used as it is (missing, not migrated, unreachable)."""

    exit_code = 2


def database_url(url: str | None = None, *, create_home: bool = True) -> str:
    """`url`, else `TIERGATE_DATABASE_URL`, else a SQLite file in the tiergate home (whose
    folder is made unless `create_home` is false)."""
    if url:
        return url
    configured = os.environ.get("TIERGATE_DATABASE_URL")
    if configured:
        return configured
    home = tiergate_home()
    if create_home:
        home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{default_ledger_path()}"


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
    # The report as the ledger recorded it: a line that may ship but was refused is shown as
    # what it now is (LICENSE_REQUIRED or INDETERMINATE, with the reason).
    report: Report | None = None

    def summary(self) -> str:
        return (
            f"{len(self.committed)} line(s) committed, {len(self.already)} already committed "
            f"(unchanged), {len(self.refused)} not committed"
        )


class Ledger:
    """One ledger database."""

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        """Open the ledger at `url` (see `database_url`). A `read_only` ledger never creates
        or writes anything: a SQLite file is opened read-only and must exist, and PostgreSQL
        transactions are read-only; an auditor with read access can use it."""
        self.url = database_url(url, create_home=not read_only)
        self.read_only = read_only
        try:
            parsed = make_url(self.url)
        except Exception as exc:  # SQLAlchemy raises several kinds here
            raise LedgerError(f"database URL `{self.url}` is not valid: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise LedgerError(
                f"database URL `{self.url}`: tiergate keeps its ledger in SQLite "
                "(sqlite:///path/to/ledger.sqlite3) or PostgreSQL (postgresql://user@host/db), "
                f"not `{parsed.drivername}`"
            )
        if self.dialect == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # Only `upgrade` creates a SQLite ledger file; every other use needs it there.
        database = parsed.database if self.dialect == "sqlite" else None
        self._sqlite_file = Path(database) if database and database != ":memory:" else None
        if self.dialect == "sqlite" and read_only:
            parsed = _read_only_sqlite(parsed, self.url)
        # A small pool: a process that commits shipment after shipment reuses its connections
        # (on PostgreSQL this more than doubles commits per second); `close` gives them back.
        try:
            engine = create_engine(parsed, poolclass=QueuePool, pool_size=2, max_overflow=6)
        except Exception as exc:  # a missing driver or a bad option
            raise LedgerError(f"cannot use the database URL `{self.url}`: {exc}") from exc
        if read_only and self.dialect == "postgresql":
            engine = engine.execution_options(postgresql_readonly=True)
        self.engine: Engine = engine
        # A ledger dropped without `close` still closes its connections properly.
        weakref.finalize(self, self.engine.dispose)
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine, read_only)
        self._current = False

    def _writing(self) -> AbstractContextManager[Connection]:
        """A write transaction (serialised on SQLite by BEGIN IMMEDIATE)."""
        if self.read_only:
            raise LedgerError(f"the ledger `{self.url}` was opened read-only")
        return self.engine.begin()

    def close(self) -> None:
        """Close the ledger's pooled database connections (it reopens them when used again)."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- schema --------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The database's migration revision (None when empty)."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if found is None else str(found[0])

    def upgrade(self, to: str = "head") -> tuple[str | None, str]:
        """Migrate to the newest schema (or to revision `to`); returns (before, after)."""
        try:
            before = self.revision()
        except Exception as exc:  # a driver error: not a database, or not reachable
            raise LedgerError(
                f"cannot open the ledger database `{self.url}`: {_driver_message(exc)}"
            ) from exc
        # Alembic takes a quarter of a second to import: only migrating needs it.
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("tiergate.ledger").joinpath("migrations"))
        )
        with self._writing() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, to)
        self._current = False
        return before, HEAD if to == "head" else to

    def require_current(self) -> None:
        """Raise `LedgerError` telling the user to migrate when the schema is not current
        (checked once per `Ledger`: a schema does not go back)."""
        if self._current:
            return
        if self._sqlite_file is not None and not self._sqlite_file.is_file():
            # Connecting would create an empty file that then blocks every command.
            raise LedgerError(
                f"no ledger yet at `{self.url}`: run `tiergate db upgrade` to create one"
            )
        try:
            revision = self.revision()
        except Exception as exc:  # a driver error: report it as unusable
            raise LedgerError(
                f"cannot open the ledger database `{self.url}`: {_driver_message(exc)}"
            ) from exc
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
            used: dict[tuple[str, str, str], Decimal] = {}
            if exclude:
                for shipment_id, line_id, debits in _rows_in(
                    connection,
                    select(_COMMITTED.c.shipment_id, _COMMITTED.c.line_id, _COMMITTED.c.debits),
                    _COMMITTED.c.shipment_id,
                    {shipment_id for shipment_id, _ in exclude},
                ):
                    if (shipment_id, line_id) in exclude:
                        for allowance_id, holder, period, amount in debits:
                            key = (allowance_id, holder, period)
                            used[key] = used.get(key, ZERO) - exact(amount)
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
                used[key] = used.get(key, ZERO) + total
            return AllowanceState(
                used={key: float(value) for key, value in used.items() if value > 0}
            )

    # --- commit --------------------------------------------------------------------------

    def commit(
        self,
        report: Report,
        limits: dict[str, float],
        actor: str,
        *,
        source: str | None = None,
        input_hash: str | None = None,
    ) -> CommitResult:
        """Record every line that may ship as shipped, debiting its allowances and licence;
        idempotent by (shipment_id, line_id). `source` and `input_hash` name the input (a
        file and the SHA-256 of its bytes) in the audit trail; without them the report's lines
        are hashed.

        The ledger's balances are read once, inside the locked transaction, every line is
        re-checked against them in order, and the writes go out as a few bulk statements: a
        line that no longer fits is refused and leaves nothing behind."""
        self.require_current()
        outcome = CommitResult()
        now = datetime.now(UTC)
        # Each line as a dict once: its own hash, and the report's when no input hash is given.
        dicts = _line_dicts(report)
        recorded = list(report.lines)
        with self._writing() as connection:
            self._serialise(connection)
            self._release_stale(connection, report)
            shipped = _committed(connection, report)
            usage = _Usage.load(connection, report)
            taker = _LicenceTaker.load(connection, report)
            rows = []
            repeated = frozenset(report.summary.duplicate_ids)
            for i, (line, as_dict) in enumerate(zip(report.lines, dicts, strict=True)):
                ident = (line.shipment_id or "", line.line_id or "")
                key = f"{ident[0]}/{ident[1]}"
                content = line_content(line)
                if key in repeated:
                    # The ledger records one line per id: which of the lines it would be is
                    # not for tiergate to pick, so none is committed.
                    why = "more than one line of the book carries this id: give each its own"
                    outcome.refused.append((key, why))
                    recorded[i] = _not_recorded(line, Outcome.INDETERMINATE, why)
                    continue
                before = shipped.get(ident)
                if before is not None:
                    change = before.difference(line, content)
                    if change is None:
                        outcome.already.append(key)
                        continue
                    why = (
                        f"committed before with other content ({change}): a committed line "
                        "does not change; give a new line its own id"
                    )
                    outcome.refused.append((key, why))
                    recorded[i] = _not_recorded(line, Outcome.INDETERMINATE, why)
                    continue
                if not line.may_ship:
                    outcome.refused.append((key, f"outcome {line.outcome.value} may not ship"))
                    continue
                problem = usage.problem(line.debits, limits)
                if problem is None and line.licence is not None:
                    problem = taker.problem(line)
                if problem is not None:
                    outcome.refused.append((key, problem))
                    recorded[i] = _not_recorded(line, Outcome.LICENSE_REQUIRED, problem)
                    continue
                usage.take(line.debits)
                if line.licence is not None:
                    taker.take(line, "used")
                shipped[ident] = _Committed(content, line.destination, line.eccn, line.quantity)
                rows.append(
                    {
                        "shipment_id": ident[0],
                        "line_id": ident[1],
                        "as_of": line.as_of.isoformat() if line.as_of else "",
                        "destination": line.destination,
                        "eccn": line.eccn,
                        "quantity": line.quantity,
                        "total_tpp": None if line.total_tpp is None else exact(line.total_tpp),
                        "outcome": line.outcome.value,
                        "exception": line.exception,
                        "input_hash": _canonical_hash(as_dict),
                        "committed_at": now,
                        "debits": [
                            [allowance_id, holder, period, str(exact(amount))]
                            for allowance_id, holder, period, amount in line.debits
                        ],
                        "content": content,
                    }
                )
                outcome.committed.append(key)
            if outcome.refused:
                lines = tuple(recorded)
                report = replace(
                    report, lines=lines, summary=summarise(report.summary.lines_in, lines)
                )
            outcome.report = report
            if rows:
                connection.execute(insert(_COMMITTED), rows)
            usage.write(connection)
            taker.write(connection)
            self._record_holds(connection, report)
            self._append(
                connection,
                actor=actor,
                action="commit",
                input_hash=input_hash or _canonical_hash(dicts),
                rulebook_version=report.rulebook_version,
                list_edition=_list_edition(report),
                payload={
                    "source": source,
                    "committed": outcome.committed,
                    "already": outcome.already,
                    "refused": [list(r) for r in outcome.refused],
                    **_decisions(report),
                },
            )
        return outcome

    def _serialise(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})

    # --- licences ------------------------------------------------------------------------

    def add_licence(self, licence: dict[str, Any], actor: str) -> None:
        """Record a licence the company holds (its number must be new)."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            taken = connection.execute(
                select(Licence.id).where(Licence.number == licence["number"])
            ).first()
            if taken is not None:
                raise LedgerError(f"licence `{licence['number']}` is already recorded")
            value = licence.get("authorized_value")
            dollars = None if value is None else exact(value)
            connection.execute(
                insert(Licence).values(**{**licence, "authorized_value": dollars}, status="active")
            )
            self._append_event(connection, actor, "licence.add", licence)

    def revoke_licence(self, number: str, actor: str, reason: str) -> None:
        """Mark a licence revoked: it covers nothing from now on."""
        self.require_current()
        with self._writing() as connection:
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
            taken: dict[tuple[str, str], tuple[int, Decimal]] = {}
            # Summed here, not in SQL: SQLite would sum decimal text as floating point.
            for number, state, quantity, value in connection.execute(
                select(
                    LicenceUse.licence_number,
                    LicenceUse.state,
                    LicenceUse.quantity,
                    LicenceUse.value,
                ).where(LicenceUse.state != "released")
            ):
                units, dollars = taken.get((number, state), (0, ZERO))
                taken[(number, state)] = (units + quantity, dollars + (value or ZERO))
        for row in rows:
            row.pop("id", None)
            used = taken.get((row["number"], "used"), (0, ZERO))
            reserved = taken.get((row["number"], "reserved"), (0, ZERO))
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

    def licence_book(self, exclude: set[tuple[str, str]] | None = None) -> LicenceBook:
        """The active licences with what is left of them, for a check; lines in `exclude`
        give back what they reserved or used (a re-check of the same book)."""
        self.require_current()
        given_back: dict[str, tuple[int, Decimal]] = {}
        if exclude:
            with self.engine.connect() as connection:
                for number, shipment_id, line_id, quantity, value in _rows_in(
                    connection,
                    select(
                        _USES.c.licence_number,
                        _USES.c.shipment_id,
                        _USES.c.line_id,
                        _USES.c.quantity,
                        _USES.c.value,
                    ).where(_USES.c.state != "released"),
                    _USES.c.shipment_id,
                    {shipment_id for shipment_id, _ in exclude},
                ):
                    if (shipment_id, line_id) in exclude:
                        units, dollars = given_back.get(number, (0, ZERO))
                        given_back[number] = (units + quantity, dollars + (value or ZERO))
        grants = []
        for row in self.licences():
            if row["status"] != "active":
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

    def _release_stale(self, connection: Connection, report: Report) -> None:
        """A line checked again without a licence, or under another one, gives back what an
        earlier check reserved for it."""
        wanted = {(line.shipment_id or "", line.line_id or ""): line for line in report.lines}
        stale = []
        uses = _USES.c
        for row_id, number, shipment_id, line_id in _rows_in(
            connection,
            select(uses.id, uses.licence_number, uses.shipment_id, uses.line_id).where(
                uses.state == "reserved"
            ),
            uses.shipment_id,
            {shipment_id for shipment_id, _ in wanted},
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
        with self._writing() as connection:
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
            known = LicenceUse.shipment_id == shipment_id
            if line_id is not None:
                known = known & (LicenceUse.line_id == line_id)
            if connection.execute(select(LicenceUse.id).where(known).limit(1)).first() is None:
                which = f"line {line_id} of shipment" if line_id is not None else "shipment"
                raise LedgerError(
                    f"{which} `{shipment_id}`: no check reserved licence quantity for it, so "
                    "there is nothing to cancel (check the id)"
                )
            condition = known & (LicenceUse.state == "reserved")
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
        held = [
            line for line in report.lines if line.outcome is Outcome.HOLD and line.hold_signature
        ]
        if not held:
            return
        known = {
            (shipment_id, line_id, signature)
            for shipment_id, line_id, signature in _rows_in(
                connection,
                select(_HOLDS.c.shipment_id, _HOLDS.c.line_id, _HOLDS.c.signature),
                _HOLDS.c.shipment_id,
                {line.shipment_id or "" for line in held},
            )
        }
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = []
        for line in held:
            assert line.hold_signature is not None
            key = (line.shipment_id or "", line.line_id or "", line.hold_signature)
            if key in known:
                continue
            known.add(key)
            rules = key[2].split(",")
            rows.append(
                {
                    "shipment_id": key[0],
                    "line_id": key[1],
                    "signature": key[2],
                    "reasons": [r.message for r in line.reasons if r.rule in rules],
                    "status": "open",
                    "created_at": now,
                }
            )
        if rows:
            connection.execute(insert(_HOLDS), rows)

    def holds(self, status: str | None = None) -> list[dict[str, Any]]:
        """Recorded holds, oldest first (optionally only `open`, `released` or `rejected`)."""
        self.require_current()
        query = select(_HOLDS).order_by(Hold.id)
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
        with self._writing() as connection:
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

    # --- suppressions --------------------------------------------------------------------

    def add_suppression(self, suppression: Suppression, actor: str) -> Suppression:
        """Record a reviewed false positive (audited); returns it with its ledger id."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            return self._insert_suppression(connection, suppression, actor, "suppression.add")

    def _insert_suppression(
        self, connection: Connection, suppression: Suppression, actor: str, action: str
    ) -> Suppression:
        values = {**suppression.as_dict(), "status": "active"}
        values.pop("id")
        row_id = connection.execute(
            insert(SuppressionRow).values(**values, lapsed_at=None).returning(SuppressionRow.id)
        ).scalar_one()
        recorded = replace(suppression, id=row_id, status="active")
        self._append_event(connection, actor, action, recorded.as_dict())
        return recorded

    def suppressions(self) -> list[Suppression]:
        """Every suppression, oldest first, active or lapsed."""
        self.require_current()
        columns = [c for c in SuppressionRow.__table__.columns if c.name != "lapsed_at"]
        with self.engine.connect() as connection:
            rows = connection.execute(select(*columns).order_by(SuppressionRow.id)).mappings()
            return [Suppression(**row) for row in rows]

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
                    .where(SuppressionRow.id == suppression_id, SuppressionRow.status == "active")
                    .values(status="lapsed", lapsed_at=now)
                ).rowcount
                if changed:
                    count += 1
                    self._append_event(
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
                self._insert_suppression(connection, suppression, actor, "suppression.import")
        path.replace(path.with_name(path.name + ".imported"))
        return len(legacy)

    # --- audit ---------------------------------------------------------------------------

    def record_check(
        self,
        report: Report,
        source: str,
        actor: str,
        *,
        input_hash: str | None = None,
        reserve: bool = True,
    ) -> None:
        """Audit a check that did not commit: what was checked and what came out; with
        `reserve`, reserve the licence quantity of the lines a licence covers."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            self._record_holds(connection, report)
            if reserve:
                self._release_stale(connection, report)
                taker = _LicenceTaker.load(connection, report)
                for line in report.lines:
                    # A reservation that no longer fits is not made: committing says why.
                    if _reserves(line) and taker.problem(line) is None:
                        taker.take(line, "reserved")
                taker.write(connection)
            self._append(
                connection,
                actor=actor,
                action="check",
                input_hash=input_hash or _canonical_hash(_line_dicts(report)),
                rulebook_version=report.rulebook_version,
                list_edition=_list_edition(report),
                payload={
                    "source": source,
                    "view": report.view.value,
                    "as_of": report.as_of.isoformat() if report.as_of else None,
                    "summary": report.summary.as_dict(),
                    "reserved": reserve,
                    **_decisions(report),
                },
            )

    def _append(self, connection: Connection, **fields: Any) -> None:
        """Add an entry after the one the head names, and move the head to it (the caller
        holds the write lock)."""
        count, prev_hash = connection.execute(
            select(AuditHead.entries, AuditHead.last_hash).where(AuditHead.id == 1)
        ).one()
        fields["at"] = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = entry_hash(prev_hash, fields)
        entry_id = connection.execute(
            insert(AuditEntry)
            .values(**fields, prev_hash=prev_hash, hash=digest)
            .returning(AuditEntry.id)
        ).scalar_one()
        connection.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(entries=count + 1, last_id=entry_id, last_hash=digest)
        )

    def audit_head(self) -> dict[str, Any]:
        """The trail's head as recorded: `entries`, `last_id`, `last_hash`. Keep a copy outside
        the database (`audit export` prints it) and pass its hash to `audit_verify`."""
        self.require_current()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(AuditHead.entries, AuditHead.last_id, AuditHead.last_hash)
            ).first()
        if row is None:
            return {"entries": None, "last_id": None, "last_hash": None}
        return {"entries": row[0], "last_id": row[1], "last_hash": row[2]}

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

    def audit_verify(self, anchor: str | None = None) -> list[str]:
        """Every break in the chain: an edited entry (its hash no longer matches), an
        inserted or deleted one (its `prev_hash` is not the previous entry's hash), newest
        entries deleted (the trail does not end where its head says), and, given the hash of
        an entry kept outside the database (`anchor`), that entry gone from the trail. Then
        every disagreement between the ledger's tables and the trail (`_state_problems`):
        a committed line, allowance usage, licence, hold decision or suppression changed
        outside tiergate."""
        problems = []
        previous = GENESIS
        entries = self.audit_entries()
        head = self.audit_head()
        for entry in entries:
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
        last_id = entries[-1]["id"] if entries else None
        if head["last_hash"] is None:
            problems.append("the trail's head record is missing: it was deleted")
        elif (len(entries), last_id, previous) != (
            head["entries"],
            head["last_id"],
            head["last_hash"],
        ):
            problems.append(
                f"the trail holds {len(entries)} entries ending at entry {last_id}, but its head "
                f"records {head['entries']} ending at entry {head['last_id']} (hash "
                f"{str(head['last_hash'])[:12]}): entries were deleted (or added) outside "
                "tiergate"
            )
        if anchor is not None and not any(entry["hash"] == anchor for entry in entries):
            problems.append(
                f"no entry has the hash {anchor} kept outside the database: the trail was cut "
                "back or rewritten since"
            )
        return problems + self._state_problems(entries)

    def _state_problems(self, entries: list[dict[str, Any]]) -> list[str]:
        """Where the tables say what no audit entry says (or the reverse)."""
        by_action: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            by_action.setdefault(entry["action"], []).append(entry)
        with self.engine.connect() as connection:
            return [
                *_committed_problems(connection, by_action.get("commit", [])),
                *_licence_problems(connection, by_action),
                *_hold_problems(connection, by_action),
                *_suppression_problems(connection, by_action),
            ]


ZERO = Decimal(0)
_CENT = Decimal("0.01")


def exact(value: float | int | str | Decimal) -> Decimal:
    """A number as the ledger keeps US dollars and TPP sums: an exact decimal to two places.
    A float goes through its shortest repr, so a product such as 4,988.8 x 3 =
    14,966.400000000001 is 14,966.40; text and ints (debits recorded as JSON) are exact."""
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(_CENT)


def _committed_problems(connection: Connection, commits: list[dict[str, Any]]) -> list[str]:
    """Committed lines against the commit entries that list them, and allowance usage
    against the debits of the committed lines."""
    problems = []
    audited = {key for entry in commits for key in entry["payload"].get("committed", [])}
    recorded: set[str] = set()
    debited: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    for shipment_id, line_id, debits in connection.execute(
        select(_COMMITTED.c.shipment_id, _COMMITTED.c.line_id, _COMMITTED.c.debits)
    ):
        recorded.add(f"{shipment_id}/{line_id}")
        for allowance_id, holder, period, amount in debits:
            key = (allowance_id, holder, period)
            total, legacy = debited.get(key, (ZERO, 0))
            debited[key] = (total + exact(amount), legacy + (not isinstance(amount, str)))
    for line in sorted(recorded - audited):
        problems.append(f"committed line {line} is in no commit entry: added outside tiergate")
    for line in sorted(audited - recorded):
        problems.append(
            f"committed line {line} of a commit entry is gone: deleted outside tiergate"
        )
    usage = {
        (allowance_id, holder, period): used
        for allowance_id, holder, period, used in connection.execute(
            select(_USAGE.c.allowance_id, _USAGE.c.holder, _USAGE.c.period, _USAGE.c.used_tpp)
        )
    }
    for key in sorted(usage.keys() | debited.keys()):
        used = usage.get(key, ZERO)
        total, legacy = debited.get(key, (ZERO, 0))
        # Debits recorded before 0007 were floats: each may differ from its share of the
        # usage (rounded to the cent by the migration) by a cent. Since then, sums are exact.
        if abs(used - total) > _CENT * legacy:
            problems.append(
                f"allowance `{key[0]}` for `{key[1]}` ({key[2]}) has {used:,.2f} TPP used, but "
                f"the committed lines' debits add up to {total:,.2f}: changed outside tiergate"
            )
    return problems


def _licence_problems(
    connection: Connection, by_action: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Each licence as its `licence.add` entry recorded it, revoked only by an entry."""
    added = {e["payload"]["number"]: e["payload"] for e in by_action.get("licence.add", [])}
    revoked = {e["payload"]["number"] for e in by_action.get("licence.revoke", [])}
    problems = []
    for row in connection.execute(select(Licence.__table__)).mappings():
        number = row["number"]
        payload = added.get(number)
        if payload is None:
            problems.append(f"licence `{number}` has no licence.add entry: added outside tiergate")
            continue
        for name, value in payload.items():
            held = row[name]
            if name == "authorized_value" and value is not None:
                value = exact(value)
            if held != value:
                problems.append(
                    f"licence `{number}`: `{name}` is {held!r}, its licence.add entry says "
                    f"{value!r}: changed outside tiergate"
                )
        if (row["status"] == "revoked") != (number in revoked):
            problems.append(
                f"licence `{number}` is {row['status']}, which its audit entries do not say: "
                "changed outside tiergate"
            )
    for number in sorted(added.keys() - _column(connection, Licence.number)):
        problems.append(
            f"licence `{number}` of a licence.add entry is gone: deleted outside tiergate"
        )
    return problems


def _hold_problems(connection: Connection, by_action: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each decided hold as its hold.released or hold.rejected entry recorded it."""
    decisions = {
        e["payload"]["hold"]: (e["action"].removeprefix("hold."), e["actor"], e["payload"])
        for action in ("hold.released", "hold.rejected")
        for e in by_action.get(action, [])
    }
    problems = []
    for hold_id, status, by, reason in connection.execute(
        select(Hold.id, Hold.status, Hold.decided_by, Hold.decision_reason)
    ):
        decided = decisions.pop(hold_id, None)
        if decided is None:
            if status != "open":
                problems.append(
                    f"hold {hold_id} is {status} without a decision in the trail: changed "
                    "outside tiergate"
                )
            continue
        if (status, by, reason) != (decided[0], decided[1], decided[2]["reason"].strip()):
            problems.append(
                f"hold {hold_id} reads {status} by {by!r}, its decision entry says {decided[0]} "
                f"by {decided[1]!r}: changed outside tiergate"
            )
    for hold_id in sorted(decisions):
        problems.append(f"hold {hold_id} of a decision entry is gone: deleted outside tiergate")
    return problems


def _suppression_problems(
    connection: Connection, by_action: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Each suppression as its add (or import) entry recorded it, lapsed only by an entry."""
    added = {
        e["payload"]["id"]: e["payload"]
        for action in ("suppression.add", "suppression.import")
        for e in by_action.get(action, [])
    }
    lapsed = {e["payload"]["id"] for e in by_action.get("suppression.lapse", [])}
    problems = []
    for row in connection.execute(select(SuppressionRow.__table__)).mappings():
        payload = added.pop(row["id"], None)
        fields = [name for name in Suppression.__dataclass_fields__ if name != "status"]
        if payload is None or any(row[name] != payload[name] for name in fields):
            problems.append(
                f"suppression {row['id']} ({row['party']} is not {row['entry_id']}) is not as "
                "its audit entry recorded it: changed outside tiergate"
            )
        elif (row["status"] == "lapsed") != (row["id"] in lapsed):
            problems.append(
                f"suppression {row['id']} is {row['status']}, which its audit entries do not "
                "say: changed outside tiergate"
            )
    for suppression_id in sorted(added):
        problems.append(
            f"suppression {suppression_id} of an audit entry is gone: deleted outside tiergate"
        )
    return problems


def _column(connection: Connection, column: Any) -> set[Any]:
    return {value for (value,) in connection.execute(select(column))}


_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit


def _rows_in(
    connection: Connection, query: Select[*tuple[Any, ...]], column: Any, values: set[str]
) -> Iterator[Any]:
    """The rows of `query` whose `column` is one of `values`, a chunk of values at a time."""
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield from connection.execute(query.where(column.in_(ordered[start : start + _CHUNK])))


@dataclass(frozen=True, slots=True)
class _Committed:
    """What the ledger holds of a committed line: its content (None for lines committed before
    schema 0005, which kept only destination, ECCN and quantity)."""

    content: dict[str, str] | None
    destination: str | None
    eccn: str | None
    quantity: int | None

    def difference(self, line: LineResult, content: dict[str, str]) -> str | None:
        """How `line` differs from this committed line, or None when it is the same line."""
        if self.content is not None:
            before, now = self.content, content
        else:
            before = _recorded_columns(self.destination, self.eccn, self.quantity)
            now = _recorded_columns(line.destination, line.eccn, line.quantity)
        changed = [
            f"{name} {before.get(name, '(blank)')!r} then, {now.get(name, '(blank)')!r} now"
            for name in sorted(before.keys() | now.keys())
            if before.get(name) != now.get(name)
        ]
        if not changed:
            return None
        shown = "; ".join(changed[:3])
        return shown if len(changed) <= 3 else f"{shown}; and {len(changed) - 3} more"


def _recorded_columns(
    destination: str | None, eccn: str | None, quantity: int | None
) -> dict[str, str]:
    columns = {"destination": destination, "eccn": eccn, "quantity": quantity}
    return {name: str(value) for name, value in columns.items() if value is not None}


def _committed(connection: Connection, report: Report) -> dict[tuple[str, str], _Committed]:
    """The report's shipments' lines already committed, by (shipment_id, line_id)."""
    c = _COMMITTED.c
    return {
        (shipment_id, line_id): _Committed(content, destination, eccn, quantity)
        for shipment_id, line_id, content, destination, eccn, quantity in _rows_in(
            connection,
            select(c.shipment_id, c.line_id, c.content, c.destination, c.eccn, c.quantity),
            c.shipment_id,
            {line.shipment_id or "" for line in report.lines},
        )
    }


def _not_recorded(line: LineResult, outcome: Outcome, why: str) -> LineResult:
    """A line that may ship as checked but the ledger refused: what it is once refused."""
    if outcome is Outcome.LICENSE_REQUIRED:
        message = f"not committed: {why}; beyond it a licence is required"
        # The allowance that no longer fits cites itself among the line's reasons.
        citation = next(
            (r.citation for r in line.reasons if f"`{r.rule}`" in why), LICENCE_CITATION
        )
    else:
        message = f"not committed: {why}"
        citation = "tiergate ledger (one committed line per shipment_id and line_id)"
    return replace(
        line,
        outcome=outcome,
        exception=None,
        licence=None,
        debits=(),
        conditions=(),
        reasons=(*line.reasons, Reason(rule="ledger.commit", message=message, citation=citation)),
    )


@dataclass
class _Usage:
    """Allowance usage of the holders a commit touches, read once under the write lock and
    written back in bulk."""

    rows: dict[tuple[str, str, str], tuple[int | None, Decimal]]  # key -> (row id, used TPP)
    changed: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, connection: Connection, report: Report) -> _Usage:
        columns = _USAGE.c
        rows: dict[tuple[str, str, str], tuple[int | None, Decimal]] = {}
        for row_id, allowance_id, holder, period, used in _rows_in(
            connection,
            select(
                columns.id, columns.allowance_id, columns.holder, columns.period, columns.used_tpp
            ),
            columns.holder,
            {debit[1] for line in report.lines for debit in line.debits},
        ):
            rows[(allowance_id, holder, period)] = (row_id, used)
        return cls(rows)

    def problem(
        self, debits: tuple[tuple[str, str, str, float], ...], limits: dict[str, float]
    ) -> str | None:
        """Why the debits do not fit (all of them or none), or None."""
        planned: dict[tuple[str, str, str], Decimal] = {}
        for allowance_id, holder, period, amount in debits:
            key = (allowance_id, holder, period)
            planned[key] = planned.get(key, ZERO) + exact(amount)
        for (allowance_id, holder, period), more in planned.items():
            used = self.rows.get((allowance_id, holder, period), (None, ZERO))[1]
            limit = limits.get(allowance_id)
            if limit is not None and used + more > exact(limit):
                return (
                    f"allowance `{allowance_id}` for `{holder}` ({period}) has {used:,.0f} of "
                    f"{limit:,.0f} TPP used; {more:,.0f} more does not fit: check again"
                )
        return None

    def take(self, debits: tuple[tuple[str, str, str, float], ...]) -> None:
        for allowance_id, holder, period, amount in debits:
            key = (allowance_id, holder, period)
            row_id, used = self.rows.get(key, (None, ZERO))
            self.rows[key] = (row_id, used + exact(amount))
            self.changed.add(key)

    def write(self, connection: Connection) -> None:
        table = _USAGE
        updates, inserts = [], []
        for key in sorted(self.changed):
            row_id, used = self.rows[key]
            if row_id is None:
                inserts.append(
                    {"allowance_id": key[0], "holder": key[1], "period": key[2], "used_tpp": used}
                )
            else:
                updates.append({"row_id": row_id, "total": used})
        if updates:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(used_tpp=bindparam("total")),
                updates,
            )
        if inserts:
            connection.execute(insert(table), inserts)


@dataclass
class _LicenceTaker:
    """The licences a report's lines name, with what every line holds of them: read once under
    the write lock, re-checked line by line, written back in bulk."""

    licences: dict[str, tuple[int, Decimal | None, str]]  # number -> quantity, value, status
    taken: dict[str, tuple[int, Decimal]]  # number -> units and dollars reserved or used
    # (number, shipment_id, line_id) -> (row id, state, quantity, value)
    own: dict[tuple[str, str, str], tuple[int | None, str, int, Decimal | None]]
    changed: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, connection: Connection, report: Report) -> _LicenceTaker:
        numbers = {line.licence for line in report.lines if line.licence is not None}
        licences: dict[str, tuple[int, Decimal | None, str]] = {}
        taken: dict[str, tuple[int, Decimal]] = {}
        own: dict[tuple[str, str, str], tuple[int | None, str, int, Decimal | None]] = {}
        for number, quantity, value, status in _rows_in(
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
            licences[number] = (quantity, value, status)
        uses = _USES.c
        for row_id, number, shipment_id, line_id, quantity, value, state in _rows_in(
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
            own[(number, shipment_id, line_id)] = (row_id, state, quantity, value)
            if state != "released":
                units, dollars = taken.get(number, (0, ZERO))
                taken[number] = (units + quantity, dollars + (value or ZERO))
        return cls(licences, taken, own)

    def _others(self, number: str, ident: tuple[str, str, str]) -> tuple[int, Decimal]:
        """Units and dollars of the licence held by every line but this one."""
        units, dollars = self.taken.get(number, (0, ZERO))
        mine = self.own.get(ident)
        if mine is not None and mine[1] != "released":
            units, dollars = units - mine[2], dollars - (mine[3] or ZERO)
        return units, dollars

    def problem(self, line: LineResult) -> str | None:
        """Why the line's quantity (and value) does not fit its licence, or None."""
        number, ident = _licence_key(line)
        licence = self.licences.get(number)
        if licence is None or licence[2] != "active":
            return f"licence `{number}` is not active in the ledger"
        mine = self.own.get(ident)
        if mine is not None and mine[1] == "used":
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

    def take(self, line: LineResult, state: str) -> None:
        """Reserve or use the line's quantity and value (after `problem` said None): a line's
        reservation becomes its use, and a use stays as it is."""
        number, ident = _licence_key(line)
        mine = self.own.get(ident)
        if mine is not None and mine[1] == "used":
            return
        units, dollars = self._others(number, ident)
        quantity = line.quantity or 0
        value = None if line.value is None else exact(line.value)
        self.taken[number] = (units + quantity, dollars + (value or ZERO))
        self.own[ident] = (mine[0] if mine else None, state, quantity, value)
        self.changed.add(ident)

    def write(self, connection: Connection) -> None:
        table = _USES
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


def _sqlite_setup(engine: Engine, read_only: bool) -> None:
    """SQLite: wait for a lock rather than fail; a writer takes the write lock when its
    transaction begins (BEGIN IMMEDIATE), a reader never asks for it."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # tiergate issues BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _driver_message(exc: Exception) -> str:
    """The database driver's own message, without SQLAlchemy's statement and links."""
    return str(getattr(exc, "orig", None) or exc)


def _read_only_sqlite(parsed: URL, url: str) -> URL:
    """The SQLite URL opened read-only (`mode=ro`), which needs the file to exist."""
    path = parsed.database
    if not path or path == ":memory:" or not Path(path).is_file():
        raise LedgerError(
            f"no ledger yet at `{url}`: run `tiergate db upgrade` to create one (commands "
            "that only read the ledger do not create it)"
        )
    return parsed.set(
        database=f"file:{Path(path).resolve().as_posix()}", query={"mode": "ro", "uri": "true"}
    )


def _licence_key(line: LineResult) -> tuple[str, tuple[str, str, str]]:
    """A licensed line's licence number and its (licence, shipment_id, line_id) key."""
    assert line.licence is not None, "only a line a licence covers takes from one"
    return line.licence, (line.licence, line.shipment_id or "", line.line_id or "")


def _reserves(line: LineResult) -> bool:
    """A check reserves licence quantity for a line that may ship under it, or may once a
    person releases its hold."""
    return line.licence is not None and line.outcome in (Outcome.LICENSED, Outcome.HOLD)


def _canonical_hash(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _line_dicts(report: Report) -> list[dict[str, Any]]:
    """The report's lines as dicts (hashed when no input file is named)."""
    cache: dict[int, list[dict[str, Any]]] = {}
    return [line.as_dict(cache) for line in report.lines]


def _decisions(report: Report) -> dict[str, Any]:
    """What an audit entry keeps of each line: its outcome, exception, licence and the rules
    behind it, plus one hash over every reason's full text and citation (the text itself is
    reproduced by running the same rulebook version on the same input)."""
    texts: dict[int, list[list[str]]] = {}
    lines, reasons = [], []
    for line in report.lines:
        full = texts.get(id(line.reasons))
        if full is None:
            full = texts[id(line.reasons)] = [
                [reason.rule, reason.message, reason.citation] for reason in line.reasons
            ]
        reasons.append(full)
        lines.append(
            [
                line.shipment_id,
                line.line_id,
                line.outcome.value,
                line.exception,
                line.licence,
                [reason[0] for reason in full],
            ]
        )
    return {"lines": lines, "reasons_hash": _canonical_hash(reasons)}


def _list_edition(report: Report) -> str | None:
    for edition in report.editions:
        if edition.get("name") == "US Consolidated Screening List":
            return f"{edition['date']} {edition.get('content_hash', '')[:12]}"
    return None
