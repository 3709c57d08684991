"""Reading books: CSV and JSON, bad rows kept as error lines, unusable files refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tiergate
from tiergate.errors import InputError
from tiergate.inputs import parse_csv, parse_json_document, read_book
from tiergate.model import Outcome


def test_csv_columns_are_case_insensitive_and_unknown_ones_pass_through() -> None:
    lines = parse_csv(
        "Shipment_ID,ITEM,Quantity,Destination,Consignee,Consignee_HQ_Country,Our Ref\n"
        "S1,H100 SXM,8,Singapore,Lion Pte,CN,R-1\n"
    )
    assert len(lines) == 1
    line = lines[0]
    assert line.item == "H100 SXM"
    assert line.consignee.name == "Lion Pte"
    assert line.consignee.hq_country == "CN"
    assert line.extra == {"Our Ref": "R-1"}


def test_csv_row_with_wrong_field_count_is_kept_with_an_error() -> None:
    lines = parse_csv("item,quantity,destination\nH100 SXM,8\nL4,1,DE,extra\nL4,1,DE\n")
    assert len(lines) == 3
    assert "has 2 fields but the header has 3" in lines[0].errors[0]
    assert "has 4 fields" in lines[1].errors[0]
    assert lines[2].errors == ()
    report = tiergate.check(lines)
    assert report.summary.lines_out == 3
    assert report.lines[0].outcome is Outcome.INDETERMINATE


def test_blank_rows_are_not_lines() -> None:
    assert len(parse_csv("item,destination\nL4,DE\n,\n\nL4,FR\n")) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("item,destination\n", "no lines"),
        ("colour,size\nred,2\n", "no `item`, `eccn`, `tpp` or `destination` column"),
    ],
)
def test_unusable_csv_is_refused(content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_csv(content, "book.csv")


def test_read_book_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match=r"\.csv, \.json or \.parquet"):
        read_book(tmp_path / "book.xlsx")
    (tmp_path / "latin.csv").write_bytes(
        "item,destination\nL4,C\xf4te d'Ivoire\n".encode("latin-1")
    )
    with pytest.raises(InputError, match="not UTF-8"):
        read_book(tmp_path / "latin.csv")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_book(tmp_path / "bad.json")


def test_json_nests_parties_and_lines_and_lines_override() -> None:
    lines = parse_json_document(
        {
            "shipments": [
                {
                    "shipment_id": "S1",
                    "date": "2025-06-01",
                    "destination": "India",
                    "parties": {
                        "consignee": {"name": "Acme", "country": "IN", "hq_country": "IN"},
                        "intermediate_consignees": [{"name": "Hub", "country": "AE"}],
                    },
                    "lines": [
                        {"line_id": "1", "item": "H100 SXM", "quantity": 1},
                        {
                            "line_id": "2",
                            "item": "L4",
                            "quantity": 2,
                            "destination": "Japan",
                            "consignee_name_note": "kept",
                        },
                    ],
                }
            ]
        }
    )
    assert [line.destination for line in lines] == ["India", "Japan"]
    assert lines[0].consignee.name == "Acme"
    assert lines[0].intermediate_consignees[0].country == "AE"
    assert lines[1].extra == {"consignee_name_note": "kept"}
    assert all(line.shipment_id == "S1" for line in lines)


def test_malformed_json_shipments_become_error_lines() -> None:
    lines = parse_json_document(
        {
            "shipments": [
                "not an object",
                {"shipment_id": "S2", "lines": "nope"},
                {
                    "shipment_id": "S3",
                    "parties": {"consignee": {"nmae": "x"}},
                    "lines": [{"item": "L4"}],
                },
            ]
        }
    )
    assert len(lines) == 3
    assert "must be an object" in lines[0].errors[0]
    assert "non-empty list" in lines[1].errors[0]
    assert "unknown keys: nmae" in lines[2].errors[0]
    report = tiergate.check(lines)
    assert [r.outcome for r in report.lines] == [Outcome.INDETERMINATE] * 3


@pytest.mark.parametrize("document", [[], {"rows": []}, {"shipments": []}, {"shipments": {}}])
def test_unusable_json_is_refused(document: object) -> None:
    with pytest.raises(InputError):
        parse_json_document(document)


# Cells without line breaks: a book holds one record per line (tiergate.csvrows), so a quoted
# cell with a line break is an error of its row (tests/test_csvrows.py).
cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
    max_size=12,
)


@given(rows=st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=20))
def test_any_csv_rows_come_out_one_for_one(rows: list[tuple[str, str, str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["item", "quantity", "destination"])
    kept = [row for row in rows if any(value.strip() for value in row)]
    writer.writerows(rows)
    if not kept:
        with pytest.raises(InputError):
            parse_csv(buffer.getvalue())
        return
    lines = parse_csv(buffer.getvalue())
    assert len(lines) == len(kept)
    report = tiergate.check(lines)
    assert report.summary.lines_in == report.summary.lines_out == len(kept)


def test_semicolon_and_tab_delimited_books() -> None:
    for mark in (";", "\t"):
        lines = parse_csv(
            mark.join(["item", "quantity", "destination"])
            + "\nH100 SXM"
            + mark
            + "8"
            + mark
            + "Japan\n"
        )
        assert len(lines) == 1
        assert lines[0].destination == "Japan"
        assert lines[0].errors == ()
