"""Opening a ledger database: its URL, its connections, its transactions and its schema.

One write is one database transaction, serialised against other writers: on SQLite by a
`BEGIN IMMEDIATE` transaction, on PostgreSQL by a transaction-scoped advisory lock
(`Store._serialise`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Set
from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from tiergate.errors import TiergateError
from tiergate.home import default_ledger_path, tiergate_home

HEAD = "0010"
# Any fixed 64-bit number: the advisory lock all PostgreSQL committers take.
_PG_LOCK = 7_302_861_905


class LedgerError(TiergateError):
    """The ledger database cannot be used as it is (missing, not migrated, unreachable)."""

    exit_code = 2


class NotRecorded(LedgerError):
    """What a request names (a hold, a licence, a key) is not in the ledger."""


class RecordConflict(LedgerError):
    """A request the ledger's records refuse: a hold decided already, a licence or key
    recorded already, a line committed as shipped."""


def database_url(url: str | None = None, *, create_home: bool = True) -> str:
    """`url`, else `TIERGATE_DATABASE_URL`, else a SQLite file in the tiergate home (whose
    folder is made unless `create_home` is false)."""
    if url:
        return url
    from tiergate.settings import load

    configured = load().database_url
    if configured:
        return configured
    home = tiergate_home()
    if create_home:
        home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{default_ledger_path()}"


class Store:
    """One ledger database's connections and schema; the ledger's parts build on it."""

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

    def _serialise(self, connection: Connection) -> None:
        """Take the PostgreSQL advisory lock every writer takes (SQLite's BEGIN IMMEDIATE
        already holds the write lock)."""
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})

    def close(self) -> None:
        """Close the ledger's pooled database connections (it reopens them when used again)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

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


_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit


def rows_in(
    connection: Connection, query: Select[*tuple[Any, ...]], column: Any, values: Set[str]
) -> Iterator[Any]:
    """The rows of `query` whose `column` is one of `values`: a chunk of values at a time,
    or, when the rows of `query` are fewer than the values (a big book on a young ledger),
    every row of it, those with another value left out."""
    if len(values) > _CHUNK:
        count = select(func.count()).select_from(query.subquery())
        if connection.execute(count).scalar_one() <= len(values):
            for *row, value in connection.execute(query.add_columns(column)):
                if value in values:
                    yield tuple(row)
            return
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield from connection.execute(query.where(column.in_(ordered[start : start + _CHUNK])))


def column_values(connection: Connection, column: Any) -> set[Any]:
    """Every value of one column."""
    return {value for (value,) in connection.execute(select(column))}


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
