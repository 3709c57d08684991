"""Time `tiergate diff` against `tiergate check` on the same generated book, in the same run.

Usage: python benchmarks/impact.py [--lines 100000] [--seed 1] [--runs 3]

Both run as a user runs them, each in a fresh process with an empty tiergate home (no
ledger): `diff BOOK --from 2025-05-14:written --to 2025-05-15:written --format csv --output
...` (the AI Diffusion rule's compliance date: most lines of the order book change) and the
check of its second side, `check BOOK --as-of 2025-05-15 --view written --no-screen --format
csv --output ...`. The book is `check_rows.py`'s order book. Target (issue #12): a diff takes
at most twice the time of one check.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from check_rows import generate

from tiergate.engine import Engine

TARGET_RATIO = 2.0


def seconds(arguments: list[str], home: Path) -> float:
    """Wall-clock seconds of `python -m tiergate ARGUMENTS`."""
    env = {**os.environ, "TIERGATE_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tiergate", *arguments], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"tiergate {' '.join(arguments)} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        book = scratch / "book.csv"
        generate(book, args.lines, args.seed, Engine(), "order-book")
        check = ["check", str(book), "--as-of", "2025-05-15", "--view", "written"]
        check += ["--no-screen", "--format", "csv"]
        check += ["--output", str(scratch / "checked.csv")]
        diff = ["diff", str(book), "--from", "2025-05-14:written", "--to", "2025-05-15:written"]
        diff += ["--format", "csv", "--output", str(scratch / "diff.csv")]
        checks, diffs = [], []
        for _ in range(args.runs):  # alternating, so the machine's load falls on both alike
            checks.append(seconds(check, scratch))
            diffs.append(seconds(diff, scratch))
        with (scratch / "diff.csv").open(encoding="utf-8") as handle:
            changed = sum(1 for _ in handle) - 1
    check_time, diff_time = min(checks), min(diffs)
    print(f"order-book: {args.lines:,} lines, {changed:,} changed, best of {args.runs}")
    print(f"  {'check of the second side (CSV out)':42} {check_time:12.2f} s")
    print(f"  {'diff (two dates, CSV of changed lines)':42} {diff_time:12.2f} s")
    ratio = diff_time / check_time
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"  ratio diff / check: {ratio:.2f} (target <= {TARGET_RATIO:.1f}, {verdict})")


if __name__ == "__main__":
    main()
