"""Benchmark `check` on a generated book: end to end (read CSV, determine, write JSON) and the
engine alone, in lines per second, on one core.

Usage: python benchmarks/check_rows.py [--lines 100000] [--seed 1] [--view enforced]

Baselines measured in the same run, so ratios are comparable across machines:
- `csv.DictReader` reading the same file (the floor any CSV-fed checker pays), and
- the engine with its memo tables emptied before every line ("cold"), on a sample.
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


def generate(path: Path, lines: int, seed: int, engine: Engine) -> None:
    """Write a book of `lines` rows over many items, countries, consignees and dates."""
    rng = random.Random(seed)
    items = [chip.name for chip in engine.catalog.chips.values()] + EXTRA_ITEMS
    consignees = [f"Consignee {i}" for i in range(500)]
    start = date(2022, 11, 1)
    span = (date(2026, 10, 31) - start).days
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
            country = rng.choice(COUNTRIES)
            writer.writerow(
                [
                    f"S{i // 4}",
                    str(i % 4 + 1),
                    (start + timedelta(days=rng.randrange(span))).isoformat(),
                    rng.choice(items),
                    rng.randint(1, 2000),
                    country,
                    rng.choice(["export", "export", "export", "reexport"]),
                    rng.choice(consignees),
                    country,
                    rng.choice([country, country, country, "CN", "US"]),
                    f"ERP-{i}",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--view", choices=[v.value for v in View], default="enforced")
    args = parser.parse_args()
    view = View(args.view)

    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "book.csv"
        engine = Engine()
        generate(book, args.lines, args.seed, engine)

        started = time.perf_counter()
        with book.open(encoding="utf-8", newline="") as handle:
            baseline_rows = sum(1 for _ in csv.DictReader(handle))
        csv_seconds = time.perf_counter() - started

        started = time.perf_counter()
        lines = read_book(book)
        read_seconds = time.perf_counter() - started

        fresh = Engine()
        started = time.perf_counter()
        report = fresh.check(lines, view=view)
        engine_seconds = time.perf_counter() - started

        started = time.perf_counter()
        warm_report = fresh.check(lines, view=view)
        warm_seconds = time.perf_counter() - started

        started = time.perf_counter()
        document = to_json(report)
        write_seconds = time.perf_counter() - started

        sample = lines[: min(2000, len(lines))]
        cold = Engine()
        started = time.perf_counter()
        for line in sample:
            cold._classified.clear()  # the cold baseline empties the memo tables
            cold._statics.clear()
            cold._bundles.clear()
            cold.check([line], view=view)
        cold_seconds = time.perf_counter() - started

    n = len(lines)
    assert baseline_rows == n == report.summary.lines_out == warm_report.summary.lines_out
    end_to_end = read_seconds + engine_seconds + write_seconds
    engine_rate = n / engine_seconds
    print(f"lines: {n:,} ({args.view} view), outcomes: {report.summary.by_outcome}")
    print(f"csv.DictReader baseline:  {n / csv_seconds:12,.0f} lines/s")
    print(f"read_book:                {n / read_seconds:12,.0f} lines/s")
    print(f"engine (first run):       {engine_rate:12,.0f} lines/s")
    print(f"engine (warm memo):       {n / warm_seconds:12,.0f} lines/s")
    cold_rate = len(sample) / cold_seconds
    print(f"engine cold per line:     {cold_rate:12,.0f} lines/s (memo emptied each line)")
    print(f"write JSON ({len(document) / 1e6:.0f} MB):     {n / write_seconds:12,.0f} lines/s")
    print(f"end to end (read+check+write): {n / end_to_end:,.0f} lines/s")
    print(f"ratio engine / csv.DictReader: {engine_rate / (n / csv_seconds):.2f}")
    target_ratio = engine_rate / TARGET_LINES_PER_SECOND
    print(f"ratio engine / target {TARGET_LINES_PER_SECOND:,}: {target_ratio:.2f}")


if __name__ == "__main__":
    main()
