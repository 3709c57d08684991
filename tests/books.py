"""Generated books for the tests that compare the columnar path (`tiergate.batch`, and
`tiergate.spark` on it) with the row path: every catalog item and item type, many countries,
every transaction type, every rule epoch from 2022 to 2026, bad rows of every kind, and
allowances that run out."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from tiergate.engine import Engine

# The date the books are checked on (lines without a date are dated today).
TODAY = date(2026, 11, 1)
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
    "MY",
    "IL",
    "RU",
    "IR",
    "Macau",
    "France",
    "PK",
    "KZ",
    "US",
    "Atlantis",
    " kr ",
]
HEADER = [
    "shipment_id",
    "line_id",
    "date",
    "item",
    "eccn",
    "item_type",
    "quantity",
    "value",
    "destination",
    "transaction",
    "end_use",
    "consignee",
    "consignee_country",
    "consignee_hq_country",
    "end_user",
    "end_user_country",
    "erp_ref",
    "Outcome",
    "view",  # a name the JSON Lines output gives each line too
]


def _odd_value(rng: random.Random, column: str) -> str:
    """A value the reader or the engine treats specially."""
    return rng.choice(
        {
            "shipment_id": ["", "=SUM(A1)", "x" * 201, "  S-pad  ", "+1"],
            "line_id": ["", "-2", "1"],
            "date": ["", "2019-01-01", "not a date", "2025-05-15T10:00:00", " 2025-01-13 "],
            "quantity": ["", "0", "1.5", "abc", "1,000", "100000000", " 7 "],
            "value": ["", "-5", "12.345", "1e13", "abc", "1,000.50"],
            "consignee": ["", "Huawei Technologies Co. Ltd.", "y" * 301, "@corp"],
        }[column]
    )


def write_book(
    path: Path, lines: int, seed: int, engine: Engine, delimiter: str = ",", blanks: bool = True
) -> None:
    """A book drawing every field independently over 2022-10 to 2026-10, with odd values in
    about one line in twelve, and one Tier 2 consignee buying 300 B200 (10,800,000 TPP) a
    time in 2025: two such lines fit in its LPP allowance (26,900,000 TPP a year), not three."""
    rng = random.Random(seed)
    items = [chip.name for chip in engine.catalog.chips.values()] + ["Unknown GPU 9000", ""]
    eccns = ["", "", "", "3A090.a", "4E091", "3E001", "5A992"]
    types = ["", "", "", "", "chip", "board", "system", "technology", "model_weights", "hbm"]
    start = date(2022, 10, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE, escapechar=None)
        writer.writerow(HEADER)
        for i in range(lines):
            country = rng.choice(COUNTRIES)
            row = {
                "shipment_id": f"S{i // 3}",
                "line_id": str(i % 3 + 1),
                "date": (start + timedelta(days=rng.randrange(1490))).isoformat(),
                "item": rng.choice(items),
                "eccn": rng.choice(eccns),
                "item_type": rng.choice(types),
                "quantity": str(rng.randint(1, 3000)),
                "value": rng.choice(
                    ["", "", str(rng.randint(1, 10**6)), f"{rng.random() * 1e5:.2f}"]
                ),
                "destination": country,
                "transaction": rng.choice(
                    ["", "export", "reexport", "in_country_transfer", "deemed_export", "gift"]
                ),
                "end_use": rng.choice(["", "", "", "civil", "military", "supercomputer"]),
                "consignee": f"Consignee {rng.randrange(300)}",
                "consignee_country": rng.choice([country, country, "", "CN"]),
                "consignee_hq_country": rng.choice(["", "", "US", "CN", "Macau", country]),
                "end_user": rng.choice(["", "", "End User 1", "Sugon"]),
                "end_user_country": rng.choice(["", country]),
                "erp_ref": rng.choice(
                    [f"ERP-{i}", f"=HYPERLINK({i})", "a;b" if delimiter == "," else "a,b", "  "]
                ),
                "Outcome": rng.choice(["", "kept"]),
                "view": rng.choice(["", "north"]),
            }
            if rng.random() < 1 / 12:
                column = rng.choice(
                    ["shipment_id", "line_id", "date", "quantity", "value", "consignee"]
                )
                row[column] = _odd_value(rng, column)
            if i % 97 == 0:  # one Tier 2 consignee, far beyond its LPP allowance
                row.update(
                    item="B200",
                    eccn="",
                    item_type="",
                    quantity="300",
                    destination="IN",
                    consignee="Big Buyer",
                    consignee_country="IN",
                    consignee_hq_country="IN",
                    transaction="export",
                    date=f"2025-0{rng.randint(6, 9)}-1{rng.randint(0, 9)}",
                )
            if blanks and i % 501 == 0:
                writer.writerow([""] * len(HEADER))  # a blank row: skipped by both paths
            # A cell holding the delimiter would need quotes: the columnar reader reads none.
            writer.writerow([row[name].replace(delimiter, " ") for name in HEADER])
