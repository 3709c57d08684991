"""Output formats carry every line, its reasons, and the pass-through columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from rich.console import Console

from tiergate import Line, Party, check
from tiergate.outputs import render_table, to_csv, to_json, to_jsonl


def _report():  # type: ignore[no-untyped-def]
    lines = [
        Line(item="H100 SXM", quantity=8, destination="China", extra={"erp_ref": "A1"}),
        Line(
            item="L40", quantity=2, destination="Vietnam", consignee=Party(name="X", country="VN")
        ),
        Line(item="bogus", quantity=1, destination="DE"),
    ]
    return check(lines, as_of=date(2024, 6, 1), screen=False)  # party "X" is a name, not a party


def test_json_document_shape() -> None:
    document = json.loads(to_json(_report()))
    assert document["as_of"] == "2024-06-01"
    assert document["view"] == "enforced"
    assert document["summary"]["lines_in"] == document["summary"]["lines_out"] == 3
    assert document["summary"]["by_outcome"]["PROHIBITED"] == 1
    assert [line["outcome"] for line in document["lines"]] == [
        "PROHIBITED",
        "EXCEPTION",
        "INDETERMINATE",
    ]
    assert document["lines"][0]["erp_ref"] == "A1"
    assert document["lines"][0]["tier"] == "prohibited"
    assert document["lines"][1]["conditions"]


def test_jsonl_one_object_per_line() -> None:
    rows = [json.loads(line) for line in to_jsonl(_report()).splitlines()]
    assert len(rows) == 3
    assert rows[2]["errors"]


def test_csv_flattens_reasons_and_keeps_extra_columns() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(_report()))))
    assert len(rows) == 3
    assert rows[0]["erp_ref"] == "A1"
    assert "ac2023.macau-d5:" in rows[0]["reasons"]
    assert "[" in rows[0]["reasons"]  # citations in brackets
    assert rows[2]["errors"].startswith("item `bogus`")


def test_table_shows_outcomes_and_summary() -> None:
    console = Console(record=True, width=220, color_system=None)
    render_table(_report(), console)
    text = console.export_text()
    for word in ("PROHIBITED", "EXCEPTION", "INDETERMINATE", "lines by tier", "may not ship"):
        assert word in text
    assert "lines in 3, out 3, with errors 1" in text
    assert "conditions: no notification required" in text  # ACA to Vietnam


@pytest.mark.parametrize("first", ["outcome", "input:outcome"])
def test_pass_through_columns_never_overwrite_or_vanish(first: str) -> None:
    """A column named as tiergate's own output is kept as `input:` + its name, and a column
    already named so beside it is kept too, whichever comes first."""
    given = {"outcome": "theirs", "input:outcome": "also theirs"}
    extra = {first: given[first], **given, "note": "n"}
    lines = [Line(item="L4", quantity=1, destination="DE", extra=extra)]
    report = check(lines, as_of=date(2024, 6, 1))
    document = json.loads(to_json(report))["lines"][0]
    row = next(csv.DictReader(io.StringIO(to_csv(report))))
    line = json.loads(to_jsonl(report))
    for written in (document, row, line):
        assert written["outcome"] == "NLR"
        assert written["note"] == "n"
        kept = [written[name] for name in ("input:outcome", "input:input:outcome")]
        assert sorted(kept) == ["also theirs", "theirs"]


def test_the_table_fits_80_columns_and_detail_shows_every_citation() -> None:
    report = _report()
    narrow = Console(record=True, width=80, color_system=None)
    render_table(report, narrow)
    text = narrow.export_text()
    assert max(len(row) for row in text.splitlines()) <= 80
    assert "denial" in text  # the review policy and the deciding reason, in words
    assert "presumption" in text
    detailed = Console(record=True, width=80, color_system=None)
    render_table(report, detailed, detail=True)
    flat = " ".join(detailed.export_text().split())
    for line in report.lines:
        for reason in line.reasons:
            assert " ".join(reason.citation.split()) in flat


def test_a_passthrough_column_named_like_a_jsonl_field_is_kept_renamed() -> None:
    """Each JSON Lines object also carries `view` and `rulebook_version`: a column of the
    book with one of those names is kept as `input:view`, never overwritten."""
    line = Line(item="H100 SXM", quantity=1, destination="DE", extra={"view": "north"})
    report = check([line], as_of=date(2025, 6, 1), screen=False)
    found = json.loads(to_jsonl(report))
    assert found["input:view"] == "north"
    assert found["view"] == "enforced"
