"""Benchmark ledger commits: committed lines per second on SQLite and PostgreSQL, with 1 and 8
writers, and one large batch commit.

Usage: python benchmarks/ledger.py [--commits 400] [--batch 2000] [--postgres URL]
(PostgreSQL defaults to TIERGATE_TEST_DATABASE_URL; it is skipped when neither is given.)

Each commit is one line in its own transaction, as a per-shipment integration would send it;
every line debits the LPP allowance of its own consignee, so no commit is refused. The batch
figure commits one book of `--batch` lines in a single transaction (as `check BOOK --commit`
does, naming the file's hash). The baselines, measured in the same run: the same engine check
without committing, and, for the batch, the floor: the rows the commit stored written again
into an empty ledger by the driver alone (the ledger's statements of many rows on SQLite,
`COPY` on PostgreSQL), with none of a commit's work.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import sqlalchemy as sa

from tiergate import Line, Party, View
from tiergate.engine import Engine
from tiergate.ledger.bulk import sqlite_insert
from tiergate.ledger.ledger import Ledger
from tiergate.ledger.models import COMMITTED, Json
from tiergate.model import Report


def _report(engine: Engine, prefix: str, count: int) -> Report:
    lines = [
        Line(
            shipment_id=prefix,
            line_id=str(i),
            item="H100 SXM",
            quantity=10,
            destination="India",
            consignee=Party(name=f"{prefix} consignee {i}", country="IN"),
        )
        for i in range(count)
    ]
    return engine.check(lines, as_of=date(2025, 6, 1), view=View.WRITTEN)


def _writer(url: str, worker: int, commits: int, barrier: Any, queue: Any) -> None:
    engine = Engine()
    ledger = Ledger(url)
    limits = engine.allowance_limits()
    reports = [_report(engine, f"w{worker}-{n}", 1) for n in range(commits)]
    ledger.require_current()
    barrier.wait()  # every writer is ready: only the commits are timed
    started = time.perf_counter()
    for report in reports:
        ledger.commit(report, limits, f"writer {worker}")
    queue.put((started, time.perf_counter()))


def _writers(url: str, workers: int, commits: int) -> float:
    """Seconds from the first writer's first commit to the last writer's last commit."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    queue = context.Queue()
    processes = [
        context.Process(target=_writer, args=(url, w, commits // workers, barrier, queue))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    spans: list[tuple[float, float]] = [queue.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a writer failed with exit code {process.exitcode}")
    return max(end for _, end in spans) - min(start for start, _ in spans)


def fresh_postgres(base: str) -> tuple[str, sa.Engine, str]:
    schema = f"tgbench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", admin, schema


def measure(label: str, make_url: object, commits: int, batch: int) -> None:
    assert callable(make_url)
    engine = Engine()
    limits = engine.allowance_limits()
    for workers in (1, 8):
        url = make_url()
        Ledger(url).upgrade()
        seconds = _writers(url, workers, commits)
        done = commits // workers * workers
        print(f"  {label}, {workers} writer(s): {done / seconds:10,.0f} committed lines/s")
    url = make_url()
    ledger = Ledger(url)
    ledger.upgrade()
    report = _report(engine, "batch", batch)
    started = time.perf_counter()
    result = ledger.commit(report, limits, "batch", source="book.csv", input_hash="0" * 64)
    seconds = time.perf_counter() - started
    assert len(result.committed) == batch
    del report, result
    floor_seconds = floor(ledger, make_url()).seconds
    print(
        f"  {label}, one batch of {batch}: {batch / seconds:10,.0f} committed lines/s; "
        f"the driver alone writes the same rows at {batch / floor_seconds:10,.0f} rows/s "
        f"({floor_seconds / seconds:.1%} of the floor's speed)"
    )


class Floor(NamedTuple):
    """What the driver alone took to write a ledger's committed rows."""

    seconds: float
    # User and system time of this process and, on PostgreSQL, of the server process that
    # took the rows where it runs on this machine (not counted otherwise, nor the server's
    # other processes: a figure that can only be below what the writing cost).
    cpu_seconds: float


def _server_cpu(pid: int) -> float:
    """CPU seconds the process `pid` of this machine has used; 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor(ledger: Ledger, url: str) -> Floor:
    """What the driver alone takes to write the rows `ledger` committed into an empty ledger
    at `url`, the fastest way in: on SQLite, the ledger's statements of as many rows each as
    its limit on parameters allows (`bulk.sqlite_insert`); on PostgreSQL, COPY of the rows'
    CSV text (made before the clock starts)."""
    table = COMMITTED
    columns = [column for column in table.c if column.name != "id"]
    names = [column.name for column in columns]
    # JSON read back as its text, to be written back as it is.
    as_text = "::text" if ledger.dialect == "postgresql" else ""
    json = (sa.JSON, Json)
    read = [f"{c.name}{as_text}" if isinstance(c.type, json) else c.name for c in columns]
    with ledger.engine.connect() as connection:
        rows = [
            tuple(row)
            for row in connection.exec_driver_sql(f"SELECT {', '.join(read)} FROM {table.name}")
        ]
    target = Ledger(url)
    target.upgrade()
    text = _csv(rows, names) if target.dialect == "postgresql" else ""
    with target.engine.begin() as connection:
        driver: Any = connection.connection.driver_connection
        server = driver.info.backend_pid if connection.dialect.name == "postgresql" else None
        served = _server_cpu(server) if server else 0.0
        started, used = time.perf_counter(), time.process_time()
        if connection.dialect.name == "postgresql":
            copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
            with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
                copy.write(text)
        else:
            sqlite_insert(connection, f"{table.name} ({', '.join(names)})", len(names), rows)
    seconds, cpu = time.perf_counter() - started, time.process_time() - used
    if server:
        cpu += _server_cpu(server) - served
    return Floor(seconds, cpu)


def _csv(rows: list[tuple[Any, ...]], names: list[str]) -> str:
    """`rows` as the CSV text COPY reads: each value as text, None left NULL (polars quotes an
    empty text, not a missing one)."""
    return pl.DataFrame(
        [tuple(None if value is None else str(value) for value in row) for row in rows],
        schema=dict.fromkeys(names, pl.String),
        orient="row",
    ).write_csv(include_header=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=400)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("TIERGATE_TEST_DATABASE_URL"))
    args = parser.parse_args()

    engine = Engine()
    started = time.perf_counter()
    for n in range(args.commits):
        _report(engine, f"baseline-{n}", 1)
    baseline = args.commits / (time.perf_counter() - started)
    print(f"baseline, check without committing: {baseline:10,.0f} lines/s (one line a check)")

    folder = Path(tempfile.mkdtemp())

    def sqlite_url() -> str:
        return f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}"

    print("SQLite (WAL, BEGIN IMMEDIATE):")
    measure("SQLite", sqlite_url, args.commits, args.batch)
    if args.postgres:
        cleanups: list[tuple[sa.Engine, str]] = []

        def postgres_url() -> str:
            url, admin, schema = fresh_postgres(args.postgres)
            cleanups.append((admin, schema))
            return url

        print("PostgreSQL (advisory lock per commit):")
        try:
            measure("PostgreSQL", postgres_url, args.commits, args.batch)
        finally:
            for admin, schema in cleanups:
                with admin.begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    else:
        print("PostgreSQL: skipped (give --postgres URL or set TIERGATE_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
