"""Benchmark how fast commands that answer one thing start and answer, as a user runs them
(a fresh process each time, an empty tiergate home, no ledger).

Usage: python benchmarks/startup.py [--runs 5]

Baseline measured in the same run: `python -c pass` (the floor for any Python command).
Targets (issue #11): `--help` and `version` <= 0.3 s, a one-line `check` with screening
<= 1 s, `screen NAME` <= 0.6 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "--help": (["--help"], 0.3),
    "version": (["version"], 0.3),
    "classify H100": (["classify", "H100 SXM"], None),
    "screen NAME": (["screen", "Huawei Technologies", "--country", "CN"], 0.6),
    "check, one line, screened": (["check", "{book}"], 1.0),
}
# A PYTHONPATH given to the benchmark reaches the commands it times (benchmarks/against.py).
PYTHONPATH = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
BOOK = (
    "shipment_id,line_id,date,item,quantity,destination,consignee\n"
    "S,1,2025-06-01,H100 SXM,8,DE,Acme\n"
)


def _seconds(arguments: list[str], home: Path, runs: int) -> float:
    """The median wall time of `arguments` over `runs` fresh processes."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            arguments,
            capture_output=True,
            check=False,
            env={"PATH": "/usr/bin:/bin", "TIERGATE_HOME": str(home), **PYTHONPATH},
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        book = home / "one.csv"
        book.write_text(BOOK, encoding="utf-8")
        floor = _seconds([sys.executable, "-c", "pass"], home, runs)
        print(f"python -c pass (baseline)            {floor:6.3f} s")
        for name, (arguments, target) in COMMANDS.items():
            command = [sys.executable, "-m", "tiergate", *(a.format(book=book) for a in arguments)]
            took = _seconds(command, home, runs)
            goal = ""
            if target is not None:
                goal = f"target {target:.1f} s: {'met' if took <= target else 'NOT met'}"
            print(f"{name:36} {took:6.3f} s  {took / floor:6.1f} x baseline  {goal}")


if __name__ == "__main__":
    main()
