"""Count the machine instructions the engine spends per line, with valgrind's cachegrind: a
figure that does not move with the load of a shared machine, unlike lines per second.

Usage: python benchmarks/instructions.py [--lines 5000] [--seed 1] [--view enforced]
       [--book order-book|scatter|both]
       python benchmarks/against.py REV instructions.py --script this --rounds 1

Each book of `check_rows.py` is written once; then three processes run under cachegrind (with
a fixed hash seed): one reads the book and builds the engine, one also checks the book, one
checks it twice. The differences, divided by the number of lines, are the instructions of the
engine's first run and of its memo-warm run. Two runs of the same tree give the same figures
to within a few hundred instructions per 5,000 lines; the ratios `against.py` prints are
this figure then / now, so above 1.0 is fewer instructions now.

Needs `valgrind` on the PATH (Debian's package). About 20 times slower than a plain run:
5,000 lines of both books take about three minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STAGES = ("setup", "first", "warm")
TOTAL = re.compile(r"^==\d+== I\s+refs:\s+([\d,]+)", re.MULTILINE)


def child(stage: str, book: Path, view: str) -> None:
    """Read the book, build the engine, and check the book as many times as `stage` says."""
    from tiergate.engine import Engine
    from tiergate.inputs import read_book
    from tiergate.rulebook import View

    lines = read_book(book)
    engine = Engine()
    for _ in range(STAGES.index(stage)):
        engine.check(lines, view=View(view))


def instructions(stage: str, book: Path, view: str) -> int:
    """The instructions a child process runs for `stage`, counted by cachegrind."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            stage,
            str(book),
            view,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    found = TOTAL.search(done.stderr)
    if found is None:
        raise SystemExit(f"cachegrind printed no instruction count:\n{done.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--view", choices=["enforced", "written"], default="enforced")
    parser.add_argument("--book", choices=["order-book", "scatter", "both"], default="both")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    sys.path.insert(0, str(Path(__file__).parent))
    from check_rows import generate

    from tiergate.engine import Engine

    kinds = ["order-book", "scatter"] if args.book == "both" else [args.book]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            book = Path(folder) / "book.csv"
            generate(book, args.lines, args.seed, Engine(), kind)
            counts = {stage: instructions(stage, book, args.view) for stage in STAGES}
        print(f"{kind}: {args.lines:,} lines, {args.view} view")
        first = (counts["first"] - counts["setup"]) / args.lines
        warm = (counts["warm"] - counts["first"]) / args.lines
        print(f"  {'engine, first run':42} {first:12,.0f} instructions/line")
        print(f"  {'engine, memo warm':42} {warm:12,.0f} instructions/line")


if __name__ == "__main__":
    main()
