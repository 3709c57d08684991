"""Benchmark `check` on a generated book: end to end (read CSV, determine, write JSON) and the
engine alone, in lines per second, on one core.

Usage: python benchmarks/check_rows.py [--lines 100000] [--seed 1] [--view enforced]
       [--book order-book|scatter|both]

Baselines measured in the same run, so ratios are comparable across machines:
- `csv.DictReader` reading the same file (the floor any CSV-fed checker pays), and
- the engine with its memo tables emptied before every line ("cold"), on a sample.
Two books (see `generate`): a realistic order book and a worst-case scatter.
Target (issue #2): the engine at >= 50,000 lines/s.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tiergate.engine import Engine
from tiergate.inputs import read_book
from tiergate.outputs import to_json
from tiergate.rulebook import View
from tiergate.screening.service import Screener

TARGET_LINES_PER_SECOND = 50_000
COUNTRIES = [
    "KR",
    "JP",
    "DE",
    "IN",
    "VN",
    "CN",
    "Hong Kong",
    "SG",
    "AE",
    "SA",
    "BR",
    "MX",
    "MY",
    "TH",
    "ID",
    "IL",
    "RU",
    "IR",
    "Macau",
    "United Kingdom",
    "France",
    "Republic of Korea",
    "PK",
    "KZ",
]
EXTRA_ITEMS = ["Unknown GPU 9000"]


def generate(path: Path, lines: int, seed: int, engine: Engine, kind: str) -> None:
    """Write a book of `lines` rows.

    `order-book`: what a vendor's or distributor's book looks like: 2,000 customers, each with
    one country and one headquarters, buying from the catalog over one year (2025-07-01 to
    2026-06-30), a few lines per shipment.
    `scatter`: every field drawn independently over four years (2022-11 to 2026-10): nearly
    every line is a new combination of date epoch, item, country and headquarters, so the
    engine's memo tables help least. A worst case, not a typical book.
    """
    rng = random.Random(seed)
    items = [chip.name for chip in engine.catalog.chips.values()] + EXTRA_ITEMS
    if kind == "order-book":
        start, span = date(2025, 7, 1), 365
        customers = []
        for i in range(2000):
            country = rng.choice(COUNTRIES)
            headquarters = country if rng.random() < 0.85 else rng.choice(["US", "CN", "JP", "DE"])
            customers.append((f"Customer {i}", country, headquarters))
    else:
        start, span = date(2022, 11, 1), (date(2026, 10, 31) - date(2022, 11, 1)).days
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "shipment_id",
                "line_id",
                "date",
                "item",
                "quantity",
                "destination",
                "transaction",
                "consignee",
                "consignee_country",
                "consignee_hq_country",
                "erp_ref",
            ]
        )
        for i in range(lines):
            if kind == "order-book":
                name, country, headquarters = rng.choice(customers)
            else:
                country = rng.choice(COUNTRIES)
                name = f"Consignee {rng.randrange(500)}"
                headquarters = rng.choice([country, country, country, "CN", "US"])
            writer.writerow(
                [
                    f"S{i // 4}",
                    str(i % 4 + 1),
                    (start + timedelta(days=rng.randrange(span))).isoformat(),
                    rng.choice(items),
                    rng.randint(1, 2000),
                    country,
                    rng.choice(["export", "export", "export", "reexport"]),
                    name,
                    country,
                    headquarters,
                    f"ERP-{i}",
                ]
            )


def measure(book: Path, view: View) -> dict[str, float]:
    """Time each stage on `book`; every figure is lines per second."""
    started = time.perf_counter()
    with book.open(encoding="utf-8", newline="") as handle:
        baseline_rows = sum(1 for _ in csv.DictReader(handle))
    csv_seconds = time.perf_counter() - started

    started = time.perf_counter()
    lines = read_book(book)
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    engine = Engine()
    startup = time.perf_counter() - started
    print(f"  engine start-up (rulebook, catalog, country names): {startup:.2f} s")
    started = time.perf_counter()
    report = engine.check(lines, view=view)
    engine_seconds = time.perf_counter() - started

    started = time.perf_counter()
    warm_report = engine.check(lines, view=view)
    warm_seconds = time.perf_counter() - started

    started = time.perf_counter()
    document = to_json(report)
    write_seconds = time.perf_counter() - started

    screener = Screener.shared()  # list index built outside the timing, like the rulebook
    screening = Engine(screener=screener)
    started = time.perf_counter()
    screened = screening.check(lines, view=view)
    screened_seconds = time.perf_counter() - started

    sample = lines[: min(2000, len(lines))]
    cold = Engine()
    started = time.perf_counter()
    for line in sample:
        cold.clear_memos()  # the cold baseline: every memo table emptied before each line
        cold.check([line], view=view)
    cold_seconds = time.perf_counter() - started

    n = len(lines)
    assert baseline_rows == n == report.summary.lines_out == warm_report.summary.lines_out
    assert screened.summary.lines_out == n
    print(f"  outcomes: {report.summary.by_outcome}")
    print(f"  JSON output: {len(document) / 1e6:.0f} MB")
    return {
        "csv.DictReader (baseline)": n / csv_seconds,
        "read_book": n / read_seconds,
        "engine, first run": n / engine_seconds,
        "engine, memo warm": n / warm_seconds,
        "engine with party screening, first run": n / screened_seconds,
        "engine, memo emptied per line (baseline)": len(sample) / cold_seconds,
        "write JSON": n / write_seconds,
        "end to end (read + check + write)": n / (read_seconds + engine_seconds + write_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--view", choices=[v.value for v in View], default="enforced")
    parser.add_argument("--book", choices=["order-book", "scatter", "both"], default="both")
    args = parser.parse_args()
    view = View(args.view)
    kinds = ["order-book", "scatter"] if args.book == "both" else [args.book]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            book = Path(folder) / "book.csv"
            generate(book, args.lines, args.seed, Engine(), kind)
            print(f"{kind}: {args.lines:,} lines, {args.view} view")
            rates = measure(book, view)
        for name, rate in rates.items():
            print(f"  {name:42} {rate:12,.0f} lines/s")
        engine_rate = rates["engine, first run"]
        baseline = rates["csv.DictReader (baseline)"]
        print(f"  ratio engine / csv.DictReader: {engine_rate / baseline:.3f}")
        cold = rates["engine, memo emptied per line (baseline)"]
        print(f"  ratio engine / memo emptied per line: {engine_rate / cold:.1f}")
        target = engine_rate / TARGET_LINES_PER_SECOND
        print(f"  ratio engine / target {TARGET_LINES_PER_SECOND:,}: {target:.2f}")


if __name__ == "__main__":
    main()
