"""Check a large CSV book end to end as a user does (`tiergate check BOOK --format csv
--output OUT`), against the floor of polars reading the same CSV and writing it back, in the
same run. Each tiergate run is a fresh process; its peak memory is its own.

Usage: python benchmarks/batch.py [--lines 1000000] [--seed 1] [--book order-book|scatter]
       [--runs 2]

Each figure is the best of `--runs` runs, the two kinds of check alternating (the first run
of a fresh book pays for reading it from disk). Each run writes a new output file, as the
floor does: the one before is removed first, untimed.

Then the same book as Parquet, in and out (`check BOOK.parquet --format parquet --output
OUT.parquet --no-screen`). For scale, the time polars alone takes to write what each check
wrote (read back into memory first): a check's output is about 16 times its input (each line
with its reasons and citations), so writing it costs more than the whole floor. The last two
lines say what that leaves reachable: a check cannot be faster than writing its output alone.

Targets (issue #12): without screening, >= 200,000 lines/s and >= 25 % of the polars floor;
with screening (each distinct party screened once), >= 150,000 lines/s; Parquet to Parquet,
>= 1,000,000 lines/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from check_rows import generate

from tiergate.engine import Engine

TARGET = 200_000
TARGET_SCREENED = 150_000
TARGET_FLOOR_SHARE = 0.25
TARGET_PARQUET = 1_000_000


class Ran(NamedTuple):
    """What one `python -m tiergate ARGUMENTS` took."""

    seconds: float
    peak_mib: float
    cpu_seconds: float  # user and system, of all its threads


def run(arguments: list[str], home: Path) -> Ran:
    """Seconds, peak resident memory and CPU time of `python -m tiergate ARGUMENTS`."""
    env = {**os.environ, "TIERGATE_HOME": str(home)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tiergate", *arguments],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"tiergate {' '.join(arguments)} failed:\n{errors}")
    return Ran(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def _settled(*outputs: str) -> None:
    """No output of an earlier run left for the next to replace, nor to write back while it is
    timed: `outputs` removed, the rest flushed to disk. (Replacing a 1.5 GB output file took
    about 1 s of the timed run here, in the rename: the file system freeing the old one.)"""
    for output in outputs:
        Path(output).unlink(missing_ok=True)
    os.sync()


def _writing(table: pl.DataFrame, kind: str, scratch: Path) -> float:
    """Seconds polars takes to write `table` (what a check wrote, read back) as `kind`: what
    writing the output costs alone, whatever checked it."""
    path = scratch / f"again.{kind}"
    started = time.perf_counter()
    if kind == "csv":
        table.write_csv(path)
    else:
        table.write_parquet(path)
    seconds = time.perf_counter() - started
    path.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--book", choices=["order-book", "scatter"], default="order-book")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        book = scratch / "book.csv"
        generate(book, args.lines, args.seed, Engine(), args.book)
        started = time.perf_counter()
        pl.read_csv(book, infer_schema=False).write_csv(scratch / "floor.csv")
        floor = time.perf_counter() - started
        out = str(scratch / "checked.csv")
        plains, screens = [], []
        for _ in range(args.runs):
            _settled(out)
            plains.append(run(["check", str(book), "--no-screen", "-f", "csv", "-o", out], scratch))
            _settled(out)
            screens.append(run(["check", str(book), "-f", "csv", "-o", out], scratch))
        size = Path(out).stat().st_size
        csv_out = _writing(pl.read_csv(out, infer_schema=False), "csv", scratch)
        parquet = scratch / "book.parquet"
        pl.read_csv(book, infer_schema=False).write_parquet(parquet)
        written = str(scratch / "checked.parquet")
        arguments = ["check", str(parquet), "--no-screen", "-f", "parquet", "-o", written]
        tables = []
        for _ in range(args.runs):
            _settled(written)
            tables.append(run(arguments, scratch))
        parquet_out = _writing(pl.read_parquet(written), "parquet", scratch)
    plain, plain_mib, _ = min(plains)
    table, table_mib, _ = min(tables)
    screened, screened_mib, _ = min(screens)
    n = args.lines
    print(f"{args.book}: {n:,} lines, CSV in and out ({size / 1e6:,.0f} MB written)")
    print(f"  {'polars read + write CSV (floor)':44} {n / floor:12,.0f} lines/s")
    print(f"  {'check, no screening':44} {n / plain:12,.0f} lines/s  peak {plain_mib:,.0f} MiB")
    print(f"  {'check, screening':44} {n / screened:12,.0f} lines/s  peak {screened_mib:,.0f} MiB")
    name = "check, Parquet in and out, no screening"
    print(f"  {name:44} {n / table:12,.0f} lines/s  peak {table_mib:,.0f} MiB")
    print(f"  {'polars writing the checked CSV alone':44} {n / csv_out:12,.0f} lines/s")
    print(f"  {'polars writing the checked Parquet alone':44} {n / parquet_out:12,.0f} lines/s")
    share = floor / plain
    print(f"  no screening: {n / plain / TARGET:.2f} of the {TARGET:,} lines/s target")
    print(f"  no screening: {share:.2f} of the polars floor (target {TARGET_FLOOR_SHARE:.2f})")
    print(f"  screening: {n / screened / TARGET_SCREENED:.2f} of the {TARGET_SCREENED:,} target")
    print(f"  Parquet: {n / table / TARGET_PARQUET:.2f} of the {TARGET_PARQUET:,} lines/s target")
    # What writing the output alone leaves reachable, whatever checks the book: a check that
    # did nothing but write what it writes could not be faster.
    print(
        f"  bound: writing the checked CSV alone takes {csv_out / floor:.1f}x the floor; no check"
        f" writing it can reach more than {floor / csv_out:.2f} of the floor"
    )
    print(
        f"  bound: writing the checked Parquet alone allows at most {n / parquet_out:,.0f}"
        f" lines/s ({n / parquet_out / TARGET_PARQUET:.2f} of the target)"
    )


if __name__ == "__main__":
    main()
