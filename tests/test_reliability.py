"""The CLI never reports what did not happen: a changed line committed again, an output file
that cannot be written, a number that is not one. Each case here failed once (issue #10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_tiergate

BOOK = (
    "shipment_id,line_id,date,item,quantity,destination,consignee,consignee_country\n"
    "S1,1,2025-06-01,H100 SXM,{quantity},India,Acme,IN\n"
)


def _check(book: Path, *extra: str) -> list[str]:
    return ["check", str(book), "--view", "written", "--no-screen", "--format", "json", *extra]


def test_a_changed_line_committed_again_is_refused_and_shown_as_not_shippable(
    tmp_path: Path,
) -> None:
    book = tmp_path / "book.csv"
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    book.write_text(BOOK.format(quantity=10), encoding="utf-8")
    first = run_tiergate(*_check(book, "--commit"), home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 line(s) committed" in first.stderr
    book.write_text(BOOK.format(quantity=1600), encoding="utf-8")
    second = run_tiergate(*_check(book, "--commit"), home=tmp_path)
    assert second.returncode == 3
    assert "0 line(s) committed, 0 already committed (unchanged), 1 not committed" in second.stderr
    assert "quantity '10' then, '1600' now" in second.stderr
    (line,) = json.loads(second.stdout)["lines"]
    assert line["outcome"] == "INDETERMINATE"
    assert line["reasons"][-1]["rule"] == "ledger.commit"
    rows = json.loads(run_tiergate("allowances", "--format", "json", home=tmp_path).stdout)
    assert rows["allowances"][0]["used_h100_equivalents"] == 10.0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing/out.json", "the folder `{tmp}/missing` of `{tmp}/missing/out.json` does not"),
        (".", "is a folder: name a file in it"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_anything_is_committed(
    tmp_path: Path, target: str, expected: str
) -> None:
    book = tmp_path / "book.csv"
    book.write_text(BOOK.format(quantity=10), encoding="utf-8")
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    output = str(tmp_path / target)
    run = run_tiergate(*_check(book, "--commit", "--output", output), home=tmp_path)
    assert run.returncode == 2
    assert "--output" in run.stderr
    assert expected.format(tmp=tmp_path) in " ".join(run.stderr.replace("│", " ").split())
    assert "Traceback" not in run.stderr
    rows = json.loads(run_tiergate("allowances", "--format", "json", home=tmp_path).stdout)
    assert rows["allowances"] == []  # nothing was committed
