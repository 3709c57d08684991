"""Run a benchmark on this working tree and on an earlier revision in the same run, and print
each figure's ratio: how a change moved speed, measured under the same load.

Usage: python benchmarks/against.py REV BENCHMARK [ARGS...] [--rounds N]
e.g.   python benchmarks/against.py HEAD~1 startup.py --runs 3
       python benchmarks/against.py main check_rows.py --lines 50000 --book order-book

REV's own copy of the benchmark runs against REV's package (a temporary git worktree), and
this tree's copy against this tree's (`--script this` runs this tree's copy on both, for a
benchmark that REV's copy cannot run right), alternately for `--rounds` rounds, which of them
goes first alternating too, so that the load of a shared machine falls on both alike. Every
figure a benchmark prints as `NAME  NUMBER lines/s`, `NAME  NUMBER s` or `NAME  NUMBER
instructions/line` is compared: for lines/s the ratio is now / then, for seconds and
instructions then / now, so a ratio above 1.0 is always faster now. The best figure of the
rounds is kept for each.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER_IS_BETTER = frozenset({"s", "instructions/line"})
FIGURE = re.compile(
    r"^\s*(?P<name>\S.*?)\s{2,}(?P<value>[\d,]+(?:\.\d+)?) "
    r"(?P<unit>lines/s|s|instructions/line)(?!\S)"
)


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """A temporary worktree of `revision`, removed afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), revision],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
            )


def figures(tree: Path, script: Path, arguments: list[str]) -> dict[str, tuple[float, str]]:
    """Run the benchmark `script` against `tree`'s package; its figures by name."""
    done = subprocess.run(
        [sys.executable, str(script), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree / "src")},
    )
    found: dict[str, tuple[float, str]] = {}
    section = ""
    for line in done.stdout.splitlines():
        match = FIGURE.match(line)
        if match is None:
            section = line.split(":")[0].strip() if line and not line.startswith(" ") else section
            continue
        name = f"{section}: {match['name']}" if line.startswith(" ") and section else match["name"]
        found[name] = (float(match["value"].replace(",", "")), match["unit"])
    return found


def best(
    runs: list[dict[str, tuple[float, str]]],
) -> dict[str, tuple[float, str]]:
    """The best of each figure over the rounds (most lines/s, fewest seconds)."""
    kept: dict[str, tuple[float, str]] = {}
    for run in runs:
        for name, (value, unit) in run.items():
            if name not in kept:
                kept[name] = (value, unit)
                continue
            if (unit in LOWER_IS_BETTER) == (value < kept[name][0]):
                kept[name] = (value, unit)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revision")
    parser.add_argument("benchmark", help="a script in benchmarks/, e.g. startup.py")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--script", choices=["own", "this"], default="own")
    args, rest = parser.parse_known_args()
    then_runs, now_runs = [], []
    with checkout(args.revision) as tree:
        script = (tree if args.script == "own" else ROOT) / "benchmarks" / args.benchmark
        for round_number in range(args.rounds):
            # Which runs first alternates (then-now, now-then, ...), so that whatever the
            # machine does to a second run in a row falls on both alike.
            order = [
                (then_runs, tree, script),
                (now_runs, ROOT, ROOT / "benchmarks" / args.benchmark),
            ]
            for runs, where, path in order if round_number % 2 == 0 else reversed(order):
                runs.append(figures(where, path, rest))
    then, now = best(then_runs), best(now_runs)
    print(f"{args.benchmark} {' '.join(rest)}: {args.revision} -> this tree, best of {args.rounds}")
    for name, (value, unit) in now.items():
        if name not in then:
            print(f"  {name:60} {value:12,.3f} {unit:7}  (not measured at {args.revision})")
            continue
        old = then[name][0]
        ratio = old / value if unit in LOWER_IS_BETTER else value / old
        print(f"  {name:60} {old:12,.3f} -> {value:12,.3f} {unit:7} ratio {ratio:5.2f}")


if __name__ == "__main__":
    main()
