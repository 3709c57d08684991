"""Committing a long book by the columnar path (`Workspace.commit_columnar`, which
`tiergate check BOOK --commit` takes for a CSV or JSON Lines output) against the row path
(`Workspace.check(..., commit=True)`): on the same ledger state (lines committed before, some
of them changed since; licences that run out; reservations; decisions on holds) and a book
with ids given twice and allowances that run out, both record the same rows in every table,
the same audit entries, and write the same report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from books import HEADER, write_book
from conftest import ledger_url, run_tiergate

from tiergate.batch import committing
from tiergate.batch.checking import Columns
from tiergate.batch.committing import book_keys, checked_book
from tiergate.batch.document import json_of
from tiergate.batch.lines import jsonl_of
from tiergate.batch.reading import read_csv_book
from tiergate.batch.table import report_table, table_of
from tiergate.batch.writing import csv_of
from tiergate.engine import Engine
from tiergate.keys import HoldStatus
from tiergate.ledger.ledger import Ledger
from tiergate.outputs import to_csv, to_json, to_jsonl
from tiergate.rulebook import View
from tiergate.textfiles import decode_text
from tiergate.workflow import Settings, Workspace

CHINA_LICENCE = {
    "number": "D7654321",
    "holder": "Example Inc",
    "items": ["3A090"],
    "destinations": ["CN"],
    "parties": [],
    "authorized_quantity": 3_000,
    "authorized_value": None,
    "valid_from": "2022-01-01",
    "valid_to": "2028-12-31",
    "conditions": "no re-export",
}


def _books(folder: Path) -> tuple[Path, Path, Path]:
    """A book of 6,000 lines and more (`book`), its first 1,500 lines (`before`, committed
    before it), 300 lines of it checked before (`checked`); in `book`, 20 of the lines
    committed before now say another quantity, and two lines carry ids another line
    carries."""
    whole = folder / "whole.csv"
    write_book(whole, 6_000, seed=31, engine=Engine())
    header, *rows = decode_text(whole.read_bytes()).splitlines()
    quantity = HEADER.index("quantity")
    changed = []
    for n, row in enumerate(rows):
        cells = row.split(",")
        if n < 1_500 and n % 75 == 0:
            cells[quantity] = "7" if cells[quantity] != "7" else "8"
        changed.append(",".join(cells))
    paths = folder / "before.csv", folder / "checked.csv", folder / "book.csv"
    for path, lines in zip(
        paths, (rows[:1_500], rows[1_500:1_800], [*changed, rows[2_000], rows[4_000]]), strict=True
    ):
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return paths


def _ledger_state(url: str, before: Path, checked: Path) -> Workspace:
    """A ledger with the China licence, `before` committed, `checked` checked (reserving),
    and its first holds decided: two released, one rejected."""
    workspace = Workspace(Settings.load(db=url))
    ledger = workspace.ledger(required=True)
    ledger.upgrade()
    ledger.add_licence(CHINA_LICENCE, "tester")
    workspace.check(before, view=View.WRITTEN, screen=False, commit=True, actor="tester")
    workspace.check(checked, view=View.WRITTEN, screen=False, actor="tester")
    holds = ledger.holds(HoldStatus.OPEN)
    assert len(holds) >= 3, "the book holds lines for review"
    decided = [HoldStatus.RELEASED, HoldStatus.RELEASED, HoldStatus.REJECTED]
    for hold, status in zip(holds[:3], decided, strict=True):
        ledger.decide_hold(hold["id"], status, "reviewer", "looked at it")
    return workspace


_VOLATILE = {"id", "at", "hash", "prev_hash", "last_hash", "last_id", "hold_id"}


def _tables(url: str) -> dict[str, list[str]]:
    """Every row of every table of the ledger, but the columns that name a moment or a row
    id (and the hashes chained through moments), as sorted JSON texts (a JSON column as the
    text it holds)."""
    ledger = Ledger(url)
    found: dict[str, list[str]] = {}
    with ledger.engine.connect() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        for name, table in metadata.tables.items():
            kept = [
                # JSON as the text stored, byte for byte.
                sa.cast(c, sa.Text).label(c.name) if isinstance(c.type, sa.JSON) else c
                for c in table.c
                if c.name not in _VOLATILE and not c.name.endswith("_at")
            ]
            rows = connection.execute(sa.select(*kept)).mappings()
            found[name] = sorted(json.dumps(dict(row), default=str, sort_keys=True) for row in rows)
    ledger.close()
    return found


@pytest.fixture
def urls(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with (
        ledger_url(backend, tmp_path_factory) as first,
        ledger_url(backend, tmp_path_factory) as second,
    ):
        yield first, second


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_columnar_commit_records_what_the_row_path_records(
    tmp_path: Path, urls: tuple[str, str], kind: str
) -> None:
    before, checked, book = _books(tmp_path)
    if kind == "parquet":
        table = pl.read_csv(book, infer_schema=False)
        book = book.with_suffix(".parquet")
        table.write_parquet(book)
    rows_url, columns_url = urls
    by_rows = _ledger_state(rows_url, before, checked)
    by_columns = _ledger_state(columns_url, before, checked)
    assert by_columns.ledger(required=True).hold_decisions()

    expected = by_rows.check(book, view=View.WRITTEN, screen=False, commit=True, actor="cli")
    done = by_columns.commit_columnar(book, view=View.WRITTEN, screen=False, actor="cli")
    assert done is not None, "the columnar path takes a long CSV book"
    found, commit = done

    assert expected.commit is not None
    assert commit.recorded() == expected.commit.recorded()
    refusals = " ".join(why for _, why in commit.refused)
    assert "committed before with other content" in refusals
    assert "more than one line of the book carries this id" in refusals
    assert commit.already
    assert commit.committed
    assert commit.changed
    outcomes = {line.outcome.value for line in expected.report.lines}
    assert {"LICENSED", "LICENSE_REQUIRED", "HOLD", "PROHIBITED", "NLR"} <= outcomes
    assert found.summary == expected.report.summary
    assert csv_of(found).text == to_csv(expected.report)
    header = {"view": "written", "rulebook_version": found.engine.rulebook.version}
    assert jsonl_of(found, header).text == to_jsonl(expected.report)
    assert json_of(found).text == to_json(expected.report)
    assert table_of(found).equals(report_table(expected.report))
    by_rows.close()
    by_columns.close()
    assert _tables(columns_url) == _tables(rows_url)


# Each format the columnar path writes, as the row path writes it; None: to the terminal.
_WRITTEN = [("csv", to_csv), ("jsonl", to_jsonl), ("json", to_json), (None, to_csv)]


@pytest.mark.parametrize(("kind", "written"), _WRITTEN)
def test_the_cli_commits_a_long_book_by_the_columnar_path(
    tmp_path: Path, urls: tuple[str, str], kind: str | None, written: Any
) -> None:
    """The report is the row path's, in each format: to a file, it is written while the
    ledger ends its writes (from the lines as the ledger weighed them, 20 of them changed
    since they were committed before), to the terminal once the commit is recorded."""
    before, checked, book = _books(tmp_path)
    rows_url, columns_url = urls
    by_rows = _ledger_state(rows_url, before, checked)
    _ledger_state(columns_url, before, checked).close()
    expected = by_rows.check(book, screen=False, commit=True, actor="cli")
    by_rows.close()
    out = tmp_path / f"out.{kind}"
    output = ["--format", kind or "csv", *(["--output", str(out)] if kind else [])]
    result = run_tiergate(
        "-v", "check", str(book), "--commit", "--no-screen", "--db", columns_url, *output
    )
    assert result.returncode == 3, result.stderr
    assert "into columns" in result.stderr
    report = out.read_text(encoding="utf-8") if kind else result.stdout
    assert report == written(expected.report)
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []
    assert expected.commit is not None
    assert expected.commit.summary() in result.stderr
    assert _tables(columns_url) == _tables(rows_url)


# A database that refuses every audit entry: a commit fails after its lines are weighed,
# when its report is being written.
_REFUSE_ENTRIES = {
    "sqlite": [
        "CREATE TRIGGER refuse_entries BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log refuses entries'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_entries() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log refuses entries'; END $$",
        "CREATE TRIGGER refuse_entries BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_entries()",
    ],
}


def _committed_lines(url: str) -> int:
    ledger = Ledger(url)
    with ledger.engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM committed_lines")).scalar_one()
    ledger.close()
    return int(count)


def _long_book(folder: Path) -> Path:
    book = folder / "book.csv"
    write_book(book, 3_000, seed=7, engine=Engine())
    return book


def test_a_commit_that_fails_leaves_the_report_file_as_it_was(tmp_path: Path, url: str) -> None:
    """The report written while the ledger ends its writes is thrown away when the commit
    then fails: the --output file is as it was, and nothing is left beside it."""
    book = _long_book(tmp_path)
    ledger = Ledger(url)
    ledger.upgrade()
    with ledger.engine.begin() as connection:
        for statement in _REFUSE_ENTRIES[ledger.engine.dialect.name]:
            connection.exec_driver_sql(statement)
    ledger.close()
    out = tmp_path / "out.csv"
    out.write_text("an earlier report\n", encoding="utf-8")
    result = run_tiergate(
        "-v", "check", str(book), "--commit", "--no-screen", "--db", url,
        "-f", "csv", "-o", str(out),
    )  # fmt: skip
    assert result.returncode not in (0, 3), result.stderr
    assert "the audit log refuses entries" in result.stderr
    assert "into columns" in result.stderr
    assert out.read_text(encoding="utf-8") == "an earlier report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.csv", "out.csv"]
    assert _committed_lines(url) == 0


def test_a_report_that_cannot_be_written_is_refused_before_the_commit(
    tmp_path: Path, url: str
) -> None:
    """A report that cannot be written stops the command before it commits anything: here
    the file the report is written to before it becomes the --output file cannot be made (the
    --output file's name is as long as the file system allows, that file's is longer)."""
    book = _long_book(tmp_path)
    with Ledger(url) as ledger:
        ledger.upgrade()
    out = tmp_path / f"{'r' * 251}.csv"
    result = run_tiergate(
        "-v", "check", str(book), "--commit", "--no-screen", "--db", url,
        "-f", "csv", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot write --output" in result.stderr
    assert "File name too long" in " ".join(result.stderr.split())
    assert "commit itself is recorded" not in result.stderr
    assert "into columns" not in result.stderr, "the book was not read"
    assert _committed_lines(url) == 0


@pytest.mark.parametrize(("reserve", "screen"), [(True, True), (False, False)])
def test_an_audited_columnar_check_records_what_the_row_path_records(
    tmp_path: Path, urls: tuple[str, str], reserve: bool, screen: bool
) -> None:
    before, checked, book = _books(tmp_path)
    rows_url, columns_url = urls
    by_rows = _ledger_state(rows_url, before, checked)
    by_columns = _ledger_state(columns_url, before, checked)
    expected = by_rows.check(book, screen=screen, reserve=reserve, actor="cli")
    found = by_columns.check_columnar(book, screen=screen, reserve=reserve, actor="cli")
    assert found is not None, "the columnar path takes a long CSV book with a ledger"
    assert found.summary == expected.report.summary
    assert csv_of(found).text == to_csv(expected.report)
    by_rows.close()
    by_columns.close()
    tables = _tables(columns_url)
    assert tables == _tables(rows_url)
    assert any('"action": "check"' in entry for entry in tables["audit_log"])


@pytest.mark.parametrize(("batch", "keep", "shapes"), [(700, 0, 3), (1_000, 10_000, 100_000)])
def test_a_columnar_commit_in_many_batches_records_what_one_pass_records(
    tmp_path: Path,
    urls: tuple[str, str],
    batch: int,
    keep: int,
    shapes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The book committed a batch at a time (kept between the passes, or read again): every
    batch's lines reach the ledger at their places, and the lines it refuses are amended in
    the batch that holds them; the shapes' texts forgotten on the way are written again
    alike."""
    monkeypatch.setattr(committing, "AUDITS_KEPT", shapes)
    before, checked, book = _books(tmp_path)
    rows_url, columns_url = urls
    by_rows = _ledger_state(rows_url, before, checked)
    by_columns = _ledger_state(columns_url, before, checked)
    expected = by_rows.check(book, view=View.WRITTEN, screen=False, commit=True, actor="cli")
    raw = book.read_bytes()
    columnar = read_csv_book(decode_text(raw), str(book))
    assert columnar is not None
    ledger = by_columns.ledger(required=True)
    keys = book_keys(columnar)
    assert keys == {(line.shipment_id or "", line.line_id or "") for line in expected.report.lines}
    assert keys.shipments == {shipment_id for shipment_id, _ in set(keys)}
    found = Columns(
        by_columns.engine(None),
        columnar,
        view=View.WRITTEN,
        allowances=ledger.allowance_state(exclude=keys),
        licences=ledger.licence_book(exclude=keys),
        hold_decisions=ledger.hold_decisions(),
        batch=batch,
        keep=keep,
    )
    engine = found.engine
    limits = engine.allowance_limits()
    digest = hashlib.sha256(raw).hexdigest()
    commit = ledger.commit_lines(
        checked_book(found, keys), limits, "cli", source=str(book), input_hash=digest
    )
    found.amend(commit.changed)
    assert expected.commit is not None
    assert commit.recorded() == expected.commit.recorded()
    assert max(commit.changed) > batch, "a line refused beyond the first batch"
    assert csv_of(found).text == to_csv(expected.report)
    by_rows.close()
    by_columns.close()
    assert _tables(columns_url) == _tables(rows_url)
