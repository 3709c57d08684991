"""Property-based fuzzing of every reader: whatever the bytes, a reader refuses the file with a
clear error (InputError, exit 2) or reads it, and a book it reads comes out line for line.
Never an internal error. Budgets are bounded so the suite stays fast; hypothesis draws new
examples on every run and shrinks any failure to a small one to report."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from conftest import run_tiergate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiergate.engine import Engine
from tiergate.errors import InputError
from tiergate.inputs import parse_book
from tiergate.outputs import to_csv
from tiergate.screening.parties import read_parties
from tiergate.screening.readers import read_list

FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENGINE = Engine()
_BREAKS = re.compile(r"\r\n|\r|\n")

# Bytes that look like the files people send: CSV punctuation, quotes, BOMs, odd encodings.
noisy_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(
        st.sampled_from(
            [
                *(b",", b";", b"\t", b'"', b"\n", b"\r\n", b"\r", b" ", b"\x00"),
                *(b"\xef\xbb\xbf", b"\xff\xfe", b"item", b"destination", b"H100 SXM"),
                *(b"CN", b"10", b"\xe9", b"="),
            ]
        ),
        max_size=60,
    ).map(b"".join),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    *("shipments", "lines", "item", "quantity", "destination", "parties"),
                    *("consignee", "shipment_id", "line_id", "date", "value", "name"),
                    *("country", "x"),
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _physical_lines(raw: bytes) -> int:
    """An upper bound on the lines a CSV book can hold: its physical lines after the header."""
    text = raw.decode("utf-8", errors="replace")
    return max(len(_BREAKS.split(text)) - 1, 0)


def _read_and_check(raw: bytes, name: str) -> None:
    try:
        lines = parse_book(raw, Path(name))
    except InputError:
        return
    report = ENGINE.check(lines)
    assert report.summary.lines_out == len(lines) == len(report.lines)
    if name.endswith(".csv"):
        assert len(lines) <= _physical_lines(raw)
        rows = list(csv.reader(io.StringIO(to_csv(report))))
        assert len(rows) == len(lines) + 1  # the header and one row per line


@FUZZ
@given(noisy_bytes)
def test_any_bytes_as_a_csv_book_are_refused_or_read_line_for_line(raw: bytes) -> None:
    _read_and_check(raw, "book.csv")


@FUZZ
@given(noisy_bytes)
def test_any_bytes_as_a_json_book_are_refused_or_read_line_for_line(raw: bytes) -> None:
    _read_and_check(raw, "book.json")


@FUZZ
@given(json_values)
def test_any_json_document_is_refused_or_read_line_for_line(document: object) -> None:
    _read_and_check(json.dumps(document).encode(), "book.json")


@FUZZ
@given(noisy_bytes)
def test_any_bytes_as_a_parties_file_are_refused_or_kept_row_for_row(
    tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "parties.csv"
    path.write_bytes(raw)
    try:
        rows = read_parties(path)
    except InputError:
        return
    assert len(rows) <= _physical_lines(raw)
    assert [row.row for row in rows] == sorted({row.row for row in rows})


@FUZZ
@given(noisy_bytes, st.sampled_from(["list.csv", "list.json"]))
def test_any_bytes_as_a_list_edition_are_refused_or_read(
    tmp_path: Path, raw: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(raw)
    try:
        read_list(path)
    except InputError:
        return


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noisy_bytes, st.sampled_from(["book.csv", "book.json"]))
def test_the_cli_never_fails_internally_on_any_book(tmp_path: Path, raw: bytes, name: str) -> None:
    # The CLI as a user runs it: exit 0, 3 or 2 (refused), never 1 (an internal error).
    path = tmp_path / name
    path.write_bytes(raw)
    run = run_tiergate("check", str(path), "--no-screen", "--format", "csv", home=tmp_path)
    assert run.returncode in (0, 2, 3), run.stderr
    if run.returncode != 2:
        assert len(list(csv.reader(io.StringIO(run.stdout)))) - 1 == len(parse_book(raw, path))


def test_the_fuzz_strategies_reach_readable_books() -> None:
    # A fuzz run that only ever produced refusals would prove little: this book, built from
    # the same pieces, is read.
    raw = b"item,destination\nH100 SXM,CN\n=,10\n"
    lines = parse_book(raw, Path("book.csv"))
    assert len(lines) == 2
    with pytest.raises(InputError):
        parse_book(b"\xff\xfeitem", Path("book.csv"))
