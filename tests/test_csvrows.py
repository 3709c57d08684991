"""CSV rows counted from the file: a stray quote never swallows the rows after it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT, run_tiergate
from hypothesis import given
from hypothesis import strategies as st

from tiergate.csvrows import csv_records
from tiergate.inputs import parse_csv
from tiergate.screening.parties import read_parties

MIXED_BOOK = ROOT / "examples" / "mixed_book.csv"
run = run_tiergate


def _with_stray_quote(text: str, row: int) -> str:
    """`text` with a `"` opening the second cell of line `row` (1-based) and never closing."""
    lines = text.split("\n")
    cells = lines[row - 1].split(",")
    cells[1] = '"' + cells[1]
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines)


def test_stray_quote_keeps_every_row_of_the_book() -> None:
    text = MIXED_BOOK.read_text(encoding="utf-8")
    physical = [line for line in text.split("\n")[1:] if line.strip()]
    lines = parse_csv(_with_stray_quote(text, 2), "mixed_book.csv")
    assert len(lines) == len(physical) == 57
    assert lines[0].errors
    assert "row 2" in lines[0].errors[0]
    assert all(not line.errors for line in lines[1:])


def test_check_counts_lines_from_the_file(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(_with_stray_quote(MIXED_BOOK.read_text(encoding="utf-8"), 2), "utf-8")
    intact = run("check", str(MIXED_BOOK), "--as-of", "2025-06-01", "--format", "json")
    done = run("check", str(book), "--as-of", "2025-06-01", "--format", "json")
    summary = json.loads(done.stdout)["summary"]
    assert (summary["lines_in"], summary["lines_out"]) == (57, 57)
    # The broken row is one more line with errors; every other line is still there.
    assert (
        summary["lines_with_errors"]
        == json.loads(intact.stdout)["summary"]["lines_with_errors"] + 1
    )
    assert done.returncode != 0


def test_screen_file_keeps_parties_after_a_stray_quote(tmp_path: Path) -> None:
    parties = tmp_path / "parties.csv"
    parties.write_text(
        'name,country\n"Acme Widgets GmbH,DE\nHuawei Technologies Co., Ltd.,CN\n'
        "Bank of Kunlun,CN\n",
        encoding="utf-8",
    )
    rows = read_parties(parties)
    assert [row.row for row in rows] == [2, 3, 4]
    assert rows[0].error is not None
    assert "row 2" in rows[0].error
    done = run("screen", "--file", str(parties), "--format", "json")
    results = json.loads(done.stdout)["results"]
    assert [r["status"] for r in results[:1]] == ["indeterminate"]
    assert len(results) == 3
    assert done.returncode == 3


def test_quoted_cell_across_lines_is_an_error_of_its_row() -> None:
    records = list(csv_records('h1,h2\na,"b\nc"\nd,e\n'))
    assert [(r.row, r.cells is None) for r in records] == [
        (1, False),
        (2, True),
        (3, False),
        (4, False),
    ]


@given(st.lists(st.text(alphabet='ab,"\r ', max_size=12), min_size=1, max_size=30))
def test_one_record_per_physical_line(lines: list[str]) -> None:
    # Whatever the quotes do, every physical line is one record, in order.
    text = "\n".join(lines)
    physical = re.split(r"\r\n|\r|\n", text)
    if physical[-1] == "":
        physical.pop()
    assert [r.row for r in csv_records(text)] == list(range(1, len(physical) + 1))


def test_duplicate_columns_are_refused(tmp_path: Path) -> None:
    # Two `destination` cells (China and Singapore): keeping either would be a silent answer.
    book = tmp_path / "book.csv"
    book.write_text("item,quantity,destination,Destination\nH100 SXM,8,China,Singapore\n", "utf-8")
    done = run("check", str(book), "--as-of", "2025-06-01")
    assert done.returncode == 2
    assert "`destination` twice (columns 3 and 4)" in done.stderr
    parties = tmp_path / "parties.csv"
    parties.write_text("name,country,name\nAcme,DE,Huawei\n", encoding="utf-8")
    screened = run("screen", "--file", str(parties))
    assert screened.returncode == 2
    assert "`name` twice" in screened.stderr


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    book = tmp_path / "book.json"
    book.write_text(
        '{"shipments": [{"shipment_id": "S1", "destination": "China", "destination": "Singapore",'
        ' "lines": [{"item": "H100 SXM", "quantity": 8}]}]}',
        encoding="utf-8",
    )
    done = run("check", str(book), "--as-of", "2025-06-01")
    assert done.returncode == 2
    assert "`destination` gives that key twice" in done.stderr
    assert str(book) in done.stderr


def test_check_warns_of_lines_sharing_an_id(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(
        "shipment_id,line_id,item,quantity,destination\nS1,1,H100 SXM,8,Japan\n"
        "S1,1,H100 SXM,8,China\n",
        encoding="utf-8",
    )
    table = run("check", str(book), "--as-of", "2025-06-01")
    assert "more than one line carries the id S1/1" in table.stdout
    as_json = run("check", str(book), "--as-of", "2025-06-01", "--format", "json")
    assert json.loads(as_json.stdout)["summary"]["duplicate_ids"] == ["S1/1"]
