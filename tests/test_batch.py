"""The columnar path (`tiergate.batch`) against the row path: on generated books it writes the
same CSV, byte for byte, and the same summary. The books cover every catalog item and item
type, many countries, every transaction type, every rule epoch from 2022 to 2026, both views,
bad rows of every kind, screened parties, and allowances that run out."""

from __future__ import annotations

import csv
import errno
import io
import json
import random
import threading
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl
import pytest
from books import HEADER, TODAY, write_book
from conftest import run_tiergate
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tiergate.batch.cells import text_cell
from tiergate.batch.checking import Columns
from tiergate.batch.document import json_of
from tiergate.batch.lines import ShapeJson, jsonl_of, jsonl_text
from tiergate.batch.own import json_number
from tiergate.batch.reading import (
    FIELDS,
    book_lines,
    frame_lines,
    line_chunks,
    line_of,
    open_csv_book,
    open_parquet_book,
    read_csv_book,
)
from tiergate.batch.table import report_table, table_of, write_parquet
from tiergate.batch.writing import (
    SLICE,
    Behind,
    Stream,
    check_book,
    csv_header,
    csv_of,
    csv_pieces,
)
from tiergate.engine import Engine
from tiergate.inputs import parse_book, parse_csv, read_book
from tiergate.outputs import QUOTED, cell, encode_cell, to_csv, to_json, to_jsonl
from tiergate.rulebook import View
from tiergate.textfiles import decode_text
from tiergate.workflow import LONG_BOOK


def _compare(path: Path, engine: Engine, *, view: View, as_of: date | None = None) -> None:
    book = read_csv_book(decode_text(path.read_bytes()), str(path))
    assert book is not None, "the book was written for the columnar reader"
    checked = check_book(engine, book, as_of=as_of, view=view, today=TODAY)
    report = Engine(screener=engine.screening.screener if engine.screening else None).check(
        read_book(path), as_of=as_of, view=view, today=TODAY
    )
    expected = to_csv(report)
    if checked.text != expected:
        rows = zip(expected.split("\n"), checked.text.split("\n"), strict=False)
        first = next(i for i, (a, b) in enumerate(rows) if a != b)
        pytest.fail(
            f"line {first} differs:\nrow path: {expected.split(chr(10))[first][:400]}\n"
            f"columnar: {checked.text.split(chr(10))[first][:400]}"
        )
    assert checked.summary == report.summary
    assert checked.summary.lines_in == sum(1 for _ in read_book(path))
    header = {"view": view.value, "rulebook_version": engine.rulebook.version}
    found = Columns(engine, book, as_of=as_of, view=view, today=TODAY)
    assert jsonl_of(found, header).text == to_jsonl(report)
    assert json_of(found).text == to_json(report)


@pytest.mark.parametrize("view", [View.ENFORCED, View.WRITTEN])
def test_a_100000_line_book_is_written_byte_for_byte_as_the_row_path_writes_it(
    tmp_path: Path, view: View
) -> None:
    path = tmp_path / "book.csv"
    write_book(path, 100_000, seed=11, engine=Engine())
    _compare(path, Engine(), view=view)


@pytest.mark.parametrize(
    ("as_of", "delimiter", "seed"),
    [(None, ";", 1), (date(2025, 6, 1), ",", 2), (date(2026, 2, 1), "\t", 3)],
)
def test_smaller_books_on_one_date_and_other_delimiters(
    tmp_path: Path, as_of: date | None, delimiter: str, seed: int
) -> None:
    path = tmp_path / "book.csv"
    write_book(path, 8_000, seed=seed, engine=Engine(), delimiter=delimiter)
    for view in View:
        _compare(path, Engine(), view=view, as_of=as_of)


def test_screened_parties_give_the_same_answers(tmp_path: Path) -> None:
    from tiergate.screening.service import Screener

    path = tmp_path / "book.csv"
    write_book(path, 6_000, seed=5, engine=Engine())
    _compare(path, Engine(screener=Screener.shared()), view=View.ENFORCED)


def test_each_set_of_parties_is_screened_once_for_the_book_whatever_its_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiergate.batch import checking
    from tiergate.model import Line
    from tiergate.screening.service import Screener

    path = tmp_path / "book.csv"
    write_book(path, 3_000, seed=5, engine=Engine())
    book = open_csv_book(path)
    assert book is not None

    def screened_by(batch: int) -> tuple[list[tuple[object, ...]], str]:
        engine = Engine(screener=Screener.shared())
        assert engine.screening is not None
        line = engine.screening.line
        sets: list[tuple[object, ...]] = []

        def screen(given: Line, today: date) -> object:
            sets.append((given.consignee, given.end_user))
            return line(given, today)

        monkeypatch.setattr(engine.screening, "line", screen)
        found = Columns(engine, book, today=TODAY, batch=batch)
        return sets, csv_of(found).text

    # One batch: each distinct set once, and each line determined alone (its own errors, an
    # allowance to draw) once more, as `Engine.check` screens it.
    whole, text = screened_by(3_000)
    assert len(set(whole)) > 100
    batched, batched_text = screened_by(250)
    assert sorted(map(repr, batched)) == sorted(map(repr, whole))
    assert batched_text == text
    # Past as many sets as are remembered, they are forgotten and screened again, alike.
    monkeypatch.setattr(checking, "SHAPES_KEPT", 4)
    again, again_text = screened_by(250)
    assert len(again) > len(whole)
    assert again_text == text


@pytest.fixture(scope="module")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The lines of a 600-line book (header first) with allowances that run out."""
    path = tmp_path_factory.mktemp("small") / "book.csv"
    write_book(path, 600, seed=21, engine=Engine(), blanks=False)
    return decode_text(path.read_bytes()).replace("\r\n", "\n").splitlines()


@settings(max_examples=15)
@given(
    batch=st.integers(5, 700),
    keep=st.sampled_from([0, 10_000]),
    order=st.randoms(use_true_random=False),
)
def test_any_batches_of_any_order_give_what_one_pass_gives(
    small_book: list[str], batch: int, keep: int, order: random.Random
) -> None:
    """Allowances are drawn in date order over the whole book, whatever the batches and
    whatever the order of the lines in the file."""
    lines = small_book[1:]
    order.shuffle(lines)
    text = "\n".join([small_book[0], *lines]) + "\n"
    book = read_csv_book(text, "book.csv")
    assert book is not None
    checked = check_book(_ENGINES[0], book, view=View.WRITTEN, today=TODAY, batch=batch, keep=keep)
    report = _ENGINES[1].check(parse_csv(text, "book.csv"), view=View.WRITTEN, today=TODAY)
    assert checked.text == to_csv(report)
    assert checked.summary == report.summary
    big = {
        line.outcome
        for line in report.lines
        if line.source is not None and line.source.consignee.name == "Big Buyer"
    }
    assert len(big) > 1, "some of the big buyer's lines fit in its allowance, some do not"


_ENGINES = (Engine(), Engine())


@pytest.mark.parametrize(("keep", "at_a_time"), [(0, None), (10_000, SLICE), (0, 7)])
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_batches_written_as_soon_as_they_are_final_give_the_same_text(
    small_book: list[str], keep: int, at_a_time: int | None, kind: str
) -> None:
    """In date order (a line without a date is checked on today's), the lines before 2025
    draw on no allowance: their batches are written while the book is read, the others once
    the allowances are settled (kept, or read again); a batch's text is made whole or
    `at_a_time` lines at a time (in slices of 7 lines, some slices hold lines determined
    alone, some not, and the slices of a batch share its shapes' JSON)."""
    header, *lines = small_book
    lines.sort(key=lambda line: line.split(",")[HEADER.index("date")] or "9")
    text = "\n".join([header, *lines]) + "\n"
    book = read_csv_book(text, "book.csv")
    assert book is not None
    report = _ENGINES[1].check(parse_csv(text, "book.csv"), view=View.WRITTEN, today=TODAY)
    buffer = io.BytesIO()
    if kind == "csv":
        stream = Stream(buffer, csv_header, csv_pieces, at_a_time)
    else:
        first = {"view": "written", "rulebook_version": report.rulebook_version}
        text = partial(jsonl_text, header=first, shaped=ShapeJson())
        stream = Stream(buffer, lambda _: "", text, at_a_time)
    with stream:
        found = Columns(
            _ENGINES[0],
            book,
            view=View.WRITTEN,
            today=TODAY,
            batch=40,
            keep=keep,
            ready=stream.ready,
        )
        stream.finish(found)
    expected = to_csv(report) if kind == "csv" else to_jsonl(report)
    assert buffer.getvalue().decode() == expected
    assert 0 < found.given < len(lines) // 40, "some batches were written early, some not"


class _FullDisk(io.BytesIO):
    """A file that takes `room` bytes and refuses more, as a full disk does."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tiergate-writer"]


def _texts(count: int) -> list[pl.DataFrame]:
    return [
        pl.DataFrame({"a": [f"{i}-{j}" for j in range(50)], "b": [str(i)] * 50})
        for i in range(count)
    ]


def test_batches_written_behind_come_in_the_order_given() -> None:
    frames = _texts(30)
    handle = io.BytesIO()
    with Behind(handle, lambda frame: (frame.select(pl.concat_str("a", "b")),)) as behind:
        for frame in frames:
            behind.put(frame)
        behind.finish()
    expected = "".join(f"{i}-{j}{i}\n" for i in range(30) for j in range(50))
    assert handle.getvalue().decode() == expected
    assert not _writers()


def test_a_write_that_fails_behind_is_raised_where_the_batches_are_given() -> None:
    """The disk fills while the eleventh frame is written: its error is raised to the
    caller (by a later `put` or by `finish`), nothing is written after it, and the thread
    is gone."""
    frames = _texts(40)
    size = len(frames[0].write_csv(include_header=False))
    handle = _FullDisk(10 * size + size // 2)
    with (  # noqa: PT012
        pytest.raises(OSError, match="No space left"),
        Behind(handle, lambda frame: (frame,)) as behind,
    ):
        for frame in frames:
            behind.put(frame)
        behind.finish()
    assert handle.getvalue().decode() == "".join(
        frame.write_csv(include_header=False) for frame in frames[:10]
    )
    assert not _writers()


def test_batches_given_outside_a_block_are_refused() -> None:
    """Nothing would write them: without the refusal, `finish` waited for ever."""
    book = read_csv_book("item,quantity\nNVIDIA H100 SXM5 80GB,1\n", "book.csv")
    assert book is not None
    stream = Stream(io.BytesIO(), csv_header, csv_pieces)
    with pytest.raises(RuntimeError, match="in a block"):
        stream.finish(Columns(_ENGINES[0], book, today=TODAY))


def test_a_write_that_fails_behind_is_raised_when_the_block_ends_without_finish() -> None:
    """A caller that leaves the block without `finish` still learns that the output is not
    whole: the failure is never lost. (The second frame fails after both were given, so
    neither `put` can see it.)"""
    frames = _texts(2)
    size = len(frames[0].write_csv(include_header=False))
    handle = _FullDisk(size + size // 2)
    with (  # noqa: PT012
        pytest.raises(OSError, match="No space left"),
        Behind(handle, lambda frame: (frame,)) as behind,
    ):
        for frame in frames:
            behind.put(frame)
    assert not _writers()


def test_a_block_left_on_its_own_error_stops_the_writer() -> None:
    handle = io.BytesIO()
    with pytest.raises(KeyError, match="mine"), Behind(handle, lambda frame: (frame,)) as behind:  # noqa: PT012
        for frame in _texts(3):
            behind.put(frame)
        raise KeyError("mine")
    assert not _writers()


@pytest.mark.parametrize("batch", [7, 1_000])
def test_ids_given_twice_are_found_as_the_row_path_finds_them(
    small_book: list[str], batch: int
) -> None:
    """Lines that repeat another's ids, one whose missing line id is its row's number, and
    ids that differ only by spaces around them (stripped, they are the same)."""
    header, *lines = small_book
    shipment, line = HEADER.index("shipment_id"), HEADER.index("line_id")
    cells = [row.split(",") for row in lines]
    cells[50][shipment], cells[50][line] = cells[10][shipment], cells[10][line]
    cells[400][shipment], cells[400][line] = f" {cells[11][shipment]} ", cells[11][line]
    cells[300][line] = ""  # numbered 301 by its row
    cells[500][shipment], cells[500][line] = cells[300][shipment], "301"
    text = "\n".join([header, *(",".join(row) for row in cells)]) + "\n"
    book = read_csv_book(text, "book.csv")
    assert book is not None
    found = Columns(_ENGINES[0], book, view=View.WRITTEN, today=TODAY, batch=batch)
    report = _ENGINES[1].check(parse_csv(text, "book.csv"), view=View.WRITTEN, today=TODAY)
    assert found.summary.duplicate_ids == report.summary.duplicate_ids
    before = _ENGINES[1].check(parse_csv("\n".join(small_book), "book.csv"), today=TODAY)
    assert len(found.summary.duplicate_ids) == len(before.summary.duplicate_ids) + 3


@pytest.mark.parametrize("keep", [0, 10_000])
def test_json_made_a_slice_at_a_time_is_the_row_paths(
    small_book: list[str], keep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's JSON Lines and JSON document made 7 lines at a time: some slices hold lines
    determined alone, some not, a batch's slices share its shapes' JSON, and the document's
    last line (without a comma) is in the last slice of the last batch."""
    from tiergate.batch import lines

    monkeypatch.setattr(lines, "SLICE", 7)
    text = "\n".join(small_book) + "\n"
    book = read_csv_book(text, "book.csv")
    assert book is not None
    found = Columns(_ENGINES[0], book, view=View.WRITTEN, today=TODAY, batch=40, keep=keep)
    report = _ENGINES[1].check(parse_csv(text, "book.csv"), view=View.WRITTEN, today=TODAY)
    assert json_of(found).text == to_json(report)
    header = {"view": "written", "rulebook_version": _ENGINES[0].rulebook.version}
    assert jsonl_of(found, header).text == to_jsonl(report)


def test_shapes_forgotten_between_batches_are_determined_again_alike(
    small_book: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A book of more shapes than are remembered, in batches read again (nothing kept
    between them), gives what one pass gives."""
    from tiergate.batch import checking

    monkeypatch.setattr(checking, "SHAPES_KEPT", 4)
    text = "\n".join(small_book) + "\n"
    book = read_csv_book(text, "book.csv")
    assert book is not None
    found = Columns(_ENGINES[0], book, view=View.WRITTEN, today=TODAY, batch=40, keep=0)
    assert len(found.terms.shapes) <= 4
    assert len(found.terms.memo) <= 4
    report = _ENGINES[1].check(parse_csv(text, "book.csv"), view=View.WRITTEN, today=TODAY)
    assert csv_of(found).text == to_csv(report)
    assert json_of(found).text == to_json(report)  # every batch's last line but the book's
    header = {"view": "written", "rulebook_version": _ENGINES[0].rulebook.version}
    assert jsonl_of(found, header).text == to_jsonl(report)  # reasons of batches gone
    parquet = io.BytesIO()
    write_parquet(found, parquet)  # streamed, a batch at a time
    assert pl.read_parquet(parquet.getvalue()).equals(report_table(report))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('item,destination\n"H100",KR\n', "a quote"),
        ("item,destination\rH100,KR\r", "a carriage return ending lines"),
        ("item,destination\r\nH1\r00,KR\r\n", "a carriage return in a cell"),
        ("item,destination\nH100,KR,extra\n", "a ragged row"),
        ("item,destination\nH10\x000,KR\n", "a NUL"),
        ("item,destination\nH100,\x1cKR\n", "a space only Python strips"),
        ("item,destination\n\n", "no lines"),
        ("", "nothing"),
    ],
)
def test_what_the_columnar_reader_cannot_read_exactly_is_left_to_the_row_reader(
    text: str, why: str
) -> None:
    assert read_csv_book(text, "book.csv") is None, why


def test_a_bad_header_is_refused_by_both_readers_alike(tmp_path: Path) -> None:
    from tiergate.errors import InputError

    for text in ("item,Item\nH100,H100\n", "name,country\nA,B\n"):
        path = tmp_path / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as row:
            read_book(path)
        with pytest.raises(InputError) as columnar:
            read_csv_book(text, str(path))
        assert str(columnar.value) == str(row.value)


def test_polars_strips_what_python_strips_but_four_separators() -> None:
    """The claim `batch.reading` rests on, over every code point."""
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    stripped = pl.Series(characters).str.strip_chars().to_list()
    differ = {
        c for c, s in zip(characters, stripped, strict=True) if (s == "") != (c.strip() == "")
    }
    assert differ == set("\x1c\x1d\x1e\x1f")


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_text_cells_are_quoted_as_csv_quotes_them(values: list[str]) -> None:
    cells = [cell(value) for value in values]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([*cells, "end"])
    assert ",".join([*(encode_cell(c) for c in cells), "end"]) + "\n" == buffer.getvalue()
    found = pl.DataFrame({"v": values}).select(text_cell(pl.col("v"))).to_series().to_list()
    assert found == [encode_cell(c) for c in cells]


def test_the_quoted_characters_include_what_csv_documents() -> None:
    """QUOTE_MINIMAL quotes the delimiter, the quote character and the line terminator."""
    assert {",", '"', "\n"} <= set(QUOTED)
    assert ";" not in QUOTED


def test_the_cli_takes_the_columnar_path_for_a_long_csv_book(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    write_book(path, LONG_BOOK + 500, seed=7, engine=Engine())
    out = tmp_path / "out.csv"
    done = run_tiergate("check", str(path), "--no-screen", "--format", "csv", "--output", str(out))
    report = Engine().check(read_book(path))
    assert out.read_text(encoding="utf-8") == to_csv(report)
    assert done.returncode == report.exit_code == 3
    assert (
        "into columns"
        in run_tiergate(
            "-v", "check", str(path), "--no-screen", "--format", "csv", "--output", str(out)
        ).stderr
    )
    lines = tmp_path / "out.jsonl"
    done = run_tiergate("check", str(path), "--no-screen", "-f", "jsonl", "-o", str(lines))
    assert done.returncode == 3, done.stderr
    assert lines.read_text(encoding="utf-8") == to_jsonl(report)
    document = tmp_path / "out.json"
    done = run_tiergate("-v", "check", str(path), "--no-screen", "-f", "json", "-o", str(document))
    assert done.returncode == 3, done.stderr
    assert "into columns" in done.stderr
    assert document.read_text(encoding="utf-8") == to_json(report)


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_out_is_the_same_table_by_either_path(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    write_book(path, LONG_BOOK + 1_000, seed=8, engine=Engine())
    out = tmp_path / "out.parquet"
    done = run_tiergate("check", str(path), "--no-screen", "-f", "parquet", "-o", str(out))
    report = Engine().check(read_book(path))
    assert done.returncode == report.exit_code, done.stderr
    columnar = pl.read_parquet(out)
    assert columnar.equals(report_table(report))
    assert columnar.height == report.summary.lines_out
    assert columnar.schema["as_of"] == pl.Date
    assert columnar.schema["quantity"] == pl.Int64
    first = report.lines[0]
    assert columnar.row(0, named=True)["reasons"][0]["rule"] == first.reasons[0].rule


def test_a_parquet_book_gives_what_the_same_book_in_csv_gives(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    write_book(path, LONG_BOOK + 1_000, seed=9, engine=Engine(), blanks=False)
    texts = pl.read_csv(path, infer_schema=False, quote_char=None)
    typed = texts.with_columns(
        pl.col("quantity").cast(pl.Int64, strict=False).fill_null(pl.col("quantity")),
    )
    expected = to_csv(Engine().check(read_book(path)))
    for table in (texts, typed):
        parquet = tmp_path / "book.parquet"
        table.write_parquet(parquet)
        out = tmp_path / "out.csv"
        done = run_tiergate("check", str(parquet), "--no-screen", "-f", "csv", "-o", str(out))
        assert done.returncode == 3, done.stderr
        assert out.read_text(encoding="utf-8") == expected


def test_typed_parquet_columns_are_read_as_the_same_text(tmp_path: Path) -> None:
    table = pl.DataFrame(
        {
            "Item": ["H100 SXM", "H100 SXM"],
            "quantity": [8, 8],
            "date": [date(2025, 6, 1), date(2025, 6, 1)],
            "destination": ["IN", "IN"],
            "flag": [True, None],
        }
    )
    parquet = tmp_path / "typed.parquet"
    table.write_parquet(parquet)
    lines = read_book(parquet)
    assert [(line.item, line.quantity, line.date, line.extra) for line in lines] == [
        ("H100 SXM", "8", "2025-06-01", {"flag": "true"}),
        ("H100 SXM", "8", "2025-06-01", {"flag": None}),
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (b"PAR1 not really", "cannot be read as Parquet"),
        (pl.DataFrame({"item": [["H100"]], "destination": ["IN"]}), "holds lists or records"),
        (pl.DataFrame({"item": ["H100"], "Item": ["H100"]}), "has the column `item` twice"),
        (
            pl.DataFrame(
                {"item": [], "destination": []},
                schema={"item": pl.String, "destination": pl.String},
            ),
            "no lines",
        ),
        (pl.DataFrame({"name": ["x"]}), "no `item`, `eccn`, `tpp` or `destination` column"),
    ],
)
def test_a_bad_parquet_book_is_an_input_error(tmp_path: Path, table: object, message: str) -> None:
    parquet = tmp_path / "bad.parquet"
    if isinstance(table, bytes):
        parquet.write_bytes(table)
    else:
        assert isinstance(table, pl.DataFrame)
        table.write_parquet(parquet)
    done = run_tiergate("check", str(parquet), "--no-screen")
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())


def test_a_parquet_text_with_a_nul_is_determined_by_the_row_path(tmp_path: Path) -> None:
    table = pl.DataFrame(
        {
            "item": ["H100 SXM", "H100 SXM"],
            "destination": ["DE", "DE"],
            "quantity": ["1", "1"],
            "shipment_id": ["A\x00", "B"],
        }
    )
    parquet = tmp_path / "nul.parquet"
    table.write_parquet(parquet)
    out = tmp_path / "out.csv"
    done = run_tiergate("check", str(parquet), "--no-screen", "-f", "csv", "-o", str(out))
    assert done.returncode == 3, done.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["outcome"] for r in rows] == ["INDETERMINATE", "NLR"]
    assert "NUL" in rows[0]["errors"]


def test_parquet_needs_an_output_file() -> None:
    done = run_tiergate("check", "examples/mixed_book.csv", "-f", "parquet")
    assert done.returncode == 2
    assert "give --output" in done.stderr


# --- reading a book from its file, a batch at a time --------------------------------------


def test_a_book_read_from_its_file_in_batches_gives_what_one_pass_gives(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    write_book(path, 3_000, seed=12, engine=Engine())
    book = open_csv_book(path)
    assert book is not None
    report = Engine().check(read_book(path), view=View.WRITTEN, today=TODAY)
    for keep in (0, 10_000):  # read and prepared again to write, or kept from the count
        found = Columns(Engine(), book, view=View.WRITTEN, today=TODAY, batch=700, keep=keep)
        checked = csv_of(found)
        assert checked.text == to_csv(report)
        assert checked.summary == report.summary


def test_a_book_that_changes_between_its_two_readings_is_an_error(tmp_path: Path) -> None:
    from tiergate.errors import InputError

    path = tmp_path / "book.csv"
    write_book(path, 1_000, seed=13, engine=Engine())
    book = open_csv_book(path)
    assert book is not None
    found = Columns(Engine(), book, today=TODAY, batch=300, keep=0)  # read again to write
    with path.open("a", encoding="utf-8") as handle:
        handle.write("S-late,1,2025-06-01,H100 SXM,,,1,,DE,,,,,,,,,,\r\n")
    with pytest.raises(InputError, match="changed while it was being checked"):
        csv_of(found).write(io.BytesIO())


def test_a_parquet_book_is_read_a_batch_at_a_time_and_must_not_change(tmp_path: Path) -> None:
    from tiergate.errors import InputError

    text = tmp_path / "book.csv"
    write_book(text, 1_000, seed=13, engine=Engine())
    path = tmp_path / "book.parquet"
    pl.read_csv(text, infer_schema=False).write_parquet(path)
    book = open_parquet_book(path)
    report = Engine().check(parse_book(path.read_bytes(), path), view=View.WRITTEN, today=TODAY)
    found = Columns(Engine(), book, view=View.WRITTEN, today=TODAY, batch=300, keep=0)
    assert table_of(found).equals(report_table(report))
    pl.read_csv(text, infer_schema=False).head(10).write_parquet(path)
    with pytest.raises(InputError, match="changed while it was being checked"):
        table_of(found)


def test_a_quote_deep_in_a_long_book_sends_it_to_the_row_path(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    write_book(path, LONG_BOOK + 500, seed=14, engine=Engine())
    lines = path.read_bytes().split(b"\r\n")
    lines[LONG_BOOK] = lines[LONG_BOOK].replace(b"ERP-", b'"ERP, quoted"-', 1)
    path.write_bytes(b"\r\n".join(lines))
    out = tmp_path / "out.csv"
    done = run_tiergate("check", str(path), "--no-screen", "-f", "csv", "-o", str(out))
    report = Engine().check(read_book(path))
    assert done.returncode == report.exit_code
    assert out.read_text(encoding="utf-8") == to_csv(report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "out.csv"]


def test_a_short_book_is_checked_without_importing_polars(tmp_path: Path) -> None:
    """The columnar path pays polars' import only for the books it takes."""
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "tiergate",
            "check",
            "examples/mixed_book.csv",
            "--no-screen",
            "-f",
            "csv",
            "-o",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert " polars" not in done.stderr


@st.composite
def _csv_books(draw: st.DrawFn) -> str:
    """A CSV text of three columns: mostly rows of three cells, some of two or four, blank
    lines and lines of blank cells; cells of letters, spaces of several kinds and the
    other delimiters."""
    separator = draw(st.sampled_from([",", ";", "\t"]))
    cells = st.text(alphabet=" ab;\t,\u00e9\u3000\u00a0", max_size=5).map(
        lambda cell: cell.replace(separator, "")
    )
    three = st.lists(cells, min_size=3, max_size=3)
    rows = st.one_of(
        three,
        three,
        three,
        st.lists(cells, min_size=2, max_size=4),
        st.sampled_from([[""], [" "], ["", "", ""], [" ", "", "  "]]),
    )
    lines = [separator.join(row) for row in draw(st.lists(rows, min_size=1, max_size=8))]
    ending = draw(st.sampled_from(["", "\n", "\n\n"]))
    return separator.join(["item", "destination", "erp_ref"]) + "\n" + "\n".join(lines) + ending


@settings(max_examples=400, deadline=None)
@given(_csv_books())
@example("item,destination,erp_ref\n,,\n,;\n,,,")  # polars took the last line's extra cell
def test_the_columnar_reader_reads_a_book_as_the_row_reader_or_leaves_it(text: str) -> None:
    book = read_csv_book(text, "book.csv")
    if book is not None:
        assert book_lines(book) == parse_csv(text, "book.csv")


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=60).map(lambda data: data.replace(b"\0", b"\n")),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=9),
)
@example(b"a\nb\nc\n", 2, 1)
@example(b"a\nb\nc", 3, 64)
def test_a_file_is_read_in_chunks_of_as_many_lines_as_iterating_it_gives(
    data: bytes, size: int, block: int
) -> None:
    chunks = list(line_chunks(io.BytesIO(data), size, block))
    lines = list(io.BytesIO(data))
    assert chunks == [b"".join(lines[at : at + size]) for at in range(0, len(lines), size)]


def test_a_chunk_of_no_lines_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        list(line_chunks(io.BytesIO(b"a\n"), 0))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.none() | st.text(alphabet="ab ", max_size=3), min_size=len(FIELDS) + 2),
        min_size=1,
        max_size=5,
    )
)
def test_lines_read_a_column_at_a_time_are_the_lines_of_each_row(rows: list[list[str]]) -> None:
    names = [*FIELDS, "extra:0", "extra:1"]
    frame = pl.DataFrame(
        [row[: len(names)] for row in rows], schema=dict.fromkeys(names, pl.String), orient="row"
    )
    extras = ("erp_ref", "note")
    expected = [
        line_of(row, {"erp_ref": row["extra:0"], "note": row["extra:1"]})
        for row in frame.iter_rows(named=True)
    ]
    assert frame_lines(frame, extras) == expected
    assert frame_lines(frame, extras, frozenset(FIELDS)) == expected


@settings(max_examples=200)
@given(
    values=st.lists(st.none() | st.text(st.characters(exclude_categories=("Cs",)), max_size=12)),
    strip=st.booleans(),
    ascii=st.booleans(),
)
@example(
    values=['a"b', "a\\b", "\x00", "\x1f", "\x7f", " é ", "  ", "", "😀\n", "~ !"],
    strip=True,
    ascii=True,
)
def test_texts_are_written_as_json_writes_them(
    values: list[str | None], strip: bool, ascii: bool
) -> None:
    import json

    from tiergate.batch.lines import json_column
    from tiergate.normalise import text

    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    written = json_column(frame, "v", strip=strip).get_column("v:json").to_list()
    assert written == [json.dumps(text(v) if strip else v, ensure_ascii=False) for v in values]


@given(st.floats(allow_nan=True, allow_infinity=True))
@example(1e16)
@example(0.1 + 0.2)
@example(-0.0)
def test_a_total_is_written_in_json_as_json_writes_it(number: float) -> None:
    assert json_number(number) == json.dumps(number)


def test_work_behind_starts_its_thread_with_the_first_item_and_ends_it_at_finish() -> None:
    """A block given nothing costs no thread (a one-line commit's rows are never behind);
    items are worked on in order; after `finish`, items are refused."""
    from tiergate.behind import Behind

    done: list[int] = []
    with Behind(done.append) as behind:
        assert not _writers()
        behind.put(1)
        behind.put(2)
        behind.finish()
        assert not _writers()
        with pytest.raises(RuntimeError, match="in a block"):
            behind.put(3)
    assert done == [1, 2]
    with Behind(done.append):
        assert not _writers()
    assert not _writers()
