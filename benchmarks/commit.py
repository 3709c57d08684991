"""Commit a large book end to end as a user does (`tiergate check BOOK --commit --no-screen
--format csv --output OUT`) into a new SQLite ledger and, with `TIERGATE_TEST_DATABASE_URL` or
`--postgres URL`, into a new PostgreSQL schema; and check it with a ledger (audited, without
committing). Each run is a fresh process; its peak memory is its own.

Usage: python benchmarks/commit.py [--lines 1000000] [--seed 1] [--postgres URL]

Measured in the same run, for scale: the same check without a ledger, and the floor of each
database: the rows the commit stored written again into an empty ledger by the driver alone
(the ledger's statements of many rows on SQLite, `COPY` of their CSV text on PostgreSQL), with
none of a commit's work. The two together bound a commit: one that did nothing else could
reach at most the lines/s printed as the bound, one after the other; and, however it shared
the machine's cores between them, at most their CPU time (the check's process; the driver's,
and the PostgreSQL server process taking the rows where it runs on this machine) spread over
all the cores. Where the PostgreSQL server runs on this machine, the CPU time its processes
used during the commit is added to the commit's own, against what the cores give at the target.

Targets (issue #12): >= 50,000 lines/s into SQLite, >= 100,000 lines/s into PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from batch import Ran, run
from check_rows import generate
from ledger import floor, fresh_postgres

from tiergate.engine import Engine
from tiergate.ledger.ledger import Ledger

TARGETS = {"SQLite": 50_000, "PostgreSQL": 100_000}


def _settled(scratch: Path) -> None:
    """No output of an earlier run left to write back while the next is timed: the outputs
    removed, the rest flushed to disk."""
    for name in ("checked.csv", "audited.csv", "committed.csv"):
        (scratch / name).unlink(missing_ok=True)
    os.sync()


def _audited(label: str, url: str, book: Path, scratch: Path, lines: int) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.close()
    out = str(scratch / "audited.csv")
    arguments = ["check", str(book), "--no-screen", "--db", url, "-f", "csv", "-o", out]
    _settled(scratch)
    seconds, peak, _ = run(arguments, scratch)
    name = f"{label}, check audited (no commit)"
    print(f"  {name:44} {lines / seconds:12,.0f} lines/s  peak {peak:,.0f} MiB")


def _server_cpu() -> float | None:
    """The CPU time (user and system, with their waited-for children) of every process on
    this machine named `postgres...`, read from /proc: the PostgreSQL server's, when it runs
    here; None where there is no /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if name.startswith("postgres"):
            total += sum(int(value) for value in fields.split()[11:15])
    return total / tick


def _commit(
    label: str,
    url: str,
    book: Path,
    scratch: Path,
    lines: int,
    make: Callable[[], str],
    checked: Ran,
) -> None:
    """Commit `book` into the ledger at `url` and print the figures; `checked` is what the same
    check took without a ledger."""
    _audited(label, make(), book, scratch, lines)
    ledger = Ledger(url)
    ledger.upgrade()
    out = str(scratch / "committed.csv")
    arguments = ["check", str(book), "--commit", "--no-screen", "--db", url, "-f", "csv", "-o", out]
    _settled(scratch)
    server_before = _server_cpu() if label == "PostgreSQL" else None
    seconds, peak, cpu = run(arguments, scratch)
    server_after = _server_cpu() if server_before is not None else None
    written = pl.scan_csv(out, infer_schema=False).select(pl.len()).collect().item()
    assert written == lines, f"{written} lines written for {lines}"
    floor_seconds, floor_cpu = floor(ledger, make())
    with ledger.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT count(*) FROM committed_lines")).scalar_one()
    ledger.close()
    print(
        f"  {label + ', check --commit':44} {lines / seconds:12,.0f} lines/s  peak {peak:,.0f} MiB"
        f" ({rows:,} lines committed, {cpu:.1f} CPU-s)"
    )
    print(
        f"  {label + ', the driver alone writing those rows':44} "
        f"{rows / floor_seconds:12,.0f} rows/s ({floor_cpu:.1f} CPU-s)"
    )
    print(
        f"  {label}: {lines / seconds / TARGETS[label]:.2f} of the {TARGETS[label]:,} "
        "lines/s target"
    )
    cores = os.cpu_count() or 1
    if server_before is not None and server_after is not None:
        server = server_after - server_before
        budget = cores * lines / TARGETS[label]
        print(
            f"  {label}: the commit used {cpu:.1f} CPU-s and the server's processes on this "
            f"machine {server:.1f} more, {cpu + server:.1f} in all ({(cpu + server) / seconds:.2f}"
            f" of {cores} cores busy); at the target, {cores} cores give {budget:.0f} CPU-s"
        )
    bound = lines / (checked.seconds + floor_seconds)
    print(
        f"  {label}: the check alone and the driver alone writing the rows take "
        f"{checked.seconds + floor_seconds:.1f} s: a commit could reach at most {bound:,.0f} "
        f"lines/s one after the other ({bound / TARGETS[label]:.2f} of the target)"
    )
    spread = (checked.cpu_seconds + floor_cpu) / cores
    print(
        f"  {label}: they use {checked.cpu_seconds + floor_cpu:.1f} CPU-s, {spread:.1f} s on "
        f"{cores} cores: at most {lines / spread:,.0f} lines/s side by side "
        f"({lines / spread / TARGETS[label]:.2f} of the target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("TIERGATE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        book = scratch / "book.csv"
        generate(book, args.lines, args.seed, Engine(), "order-book")
        out = str(scratch / "checked.csv")
        _settled(scratch)
        checked = run(["check", str(book), "--no-screen", "-f", "csv", "-o", out], scratch)
        print(f"order-book: {args.lines:,} lines, CSV in and out")
        print(
            f"  {'check without a ledger':44} {args.lines / checked.seconds:12,.0f} lines/s  "
            f"peak {checked.peak_mib:,.0f} MiB ({checked.cpu_seconds:.1f} CPU-s)"
        )

        def sqlite_url() -> str:
            return f"sqlite:///{scratch / f'{uuid.uuid4().hex}.sqlite3'}"

        _commit("SQLite", sqlite_url(), book, scratch, args.lines, sqlite_url, checked)
        if not args.postgres:
            print("PostgreSQL: skipped (give --postgres URL or set TIERGATE_TEST_DATABASE_URL)")
            return
        cleanups: list[tuple[sa.Engine, str]] = []

        def postgres_url() -> str:
            url, admin, schema = fresh_postgres(args.postgres)
            cleanups.append((admin, schema))
            return url

        try:
            _commit("PostgreSQL", postgres_url(), book, scratch, args.lines, postgres_url, checked)
        finally:
            for admin, schema in cleanups:
                with admin.begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
