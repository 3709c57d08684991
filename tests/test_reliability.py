"""The CLI never reports what did not happen: a changed line committed again, an output file
that cannot be written, a number that is not one. Each case here failed once (issue #10)."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from conftest import run_tiergate

from tiergate import Line, Outcome, Party, View
from tiergate.cli.checking import REFUSALS_SHOWN
from tiergate.country_map import tiers as country_tiers
from tiergate.engine import Engine
from tiergate.errors import InputError, UsageError
from tiergate.inputs import read_book
from tiergate.ledger.ledger import Ledger, LedgerError
from tiergate.model import LineResult
from tiergate.screening.parties import read_parties
from tiergate.screening.readers import read_list
from tiergate.screening.service import Screener

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


def test_a_commit_names_its_first_refused_lines_and_counts_the_others(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    rows = [f"S{i},1,2025-06-01,H100 SXM,1,China,Acme,CN" for i in range(REFUSALS_SHOWN + 5)]
    book.write_text(BOOK.splitlines()[0] + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run = run_tiergate(*_check(book, "--commit"), home=tmp_path)
    assert run.returncode == 3
    named = [line for line in run.stderr.splitlines() if "not committed S" in line]
    assert len(named) == REFUSALS_SHOWN
    assert "and 5 more not committed" in run.stderr
    lines = json.loads(run.stdout)["lines"]
    assert len(lines) == REFUSALS_SHOWN + 5
    assert "NLR" not in {line["outcome"] for line in lines}


@pytest.mark.parametrize(
    "options",
    [("--tpp", "nan"), ("--tpp", "inf"), ("--tpp", "-1"), ("--tpp", "4000", "--die-area", "-5")],
)
def test_classify_refuses_numbers_that_are_not_measures(options: tuple[str, ...]) -> None:
    run = run_tiergate("classify", *options)
    assert run.returncode == 2
    assert "is not a finite number >= 0" in run.stderr


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--item", ""), "--item `` is not an ECCN"),
        (("--item", "banana"), "--item `banana` is not an ECCN"),
        (("--item", "3A"), "--item `3A` is not an ECCN"),
        (("--item", "3A090", "--quantity", "99999999999999999999"), "--quantity"),
        (("--item", "3A090", "--value", "nan"), "--value"),
    ],
)
def test_license_add_refuses_what_would_cover_nothing_or_not_fit(
    tmp_path: Path, options: tuple[str, ...], expected: str
) -> None:
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    base = ["license", "add", "D1", "--holder", "H", "--destination", "CN"]
    dates = ["--valid-from", "2025-01-01", "--valid-to", "2026-01-01"]
    quantity = [] if "--quantity" in options else ["--quantity", "10"]
    run = run_tiergate(*base, *options, *quantity, *dates, home=tmp_path)
    assert run.returncode == 2
    assert expected in " ".join(run.stderr.replace("│", " ").split())
    listed = run_tiergate("license", "list", "--format", "json", home=tmp_path)
    assert json.loads(listed.stdout)["licences"] == []


def test_a_licence_keeps_its_destination_as_written(tmp_path: Path) -> None:
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    added = run_tiergate(
        *("license", "add", "D-HK", "--holder", "H", "--item", "3a090.a"),
        *("--destination", "Hong Kong", "--quantity", "10", "--value", "1234.565"),
        *("--valid-from", "2025-01-01", "--valid-to", "2026-01-01"),
        home=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    shown = json.loads(run_tiergate("license", "show", "D-HK", home=tmp_path).stdout)
    assert shown["destinations"] == ["HK"]
    assert shown["items"] == ["3A090.a"]
    assert shown["authorized_value"] == 1234.57  # to the cent


def test_read_only_commands_never_create_a_ledger(tmp_path: Path) -> None:
    for command in (
        ["allowances"],
        ["license", "list"],
        ["holds", "list"],
        ["audit", "verify"],
        ["audit", "export"],
    ):
        run = run_tiergate(*command, home=tmp_path)
        assert run.returncode == 2, command
        assert "no ledger yet" in run.stderr
        assert "tiergate db upgrade" in run.stderr
    assert not (tmp_path / "ledger.sqlite3").exists()
    # A later check is not blocked by an empty ledger file a read made.
    book = tmp_path / "book.csv"
    book.write_text(BOOK.format(quantity=10), encoding="utf-8")
    assert run_tiergate(*_check(book), home=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://", "not `foo`"),
        ("mysql://user@localhost/db", "not `mysql`"),
        ("sqlite:///{tmp}/notes.txt", "file is not a database"),
    ],
)
def test_a_database_url_tiergate_cannot_use_is_a_usage_error(
    tmp_path: Path, url: str, expected: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a database, " * 100, encoding="utf-8")
    run = run_tiergate("db", "upgrade", "--db", url.format(tmp=tmp_path), home=tmp_path)
    assert run.returncode == 2
    assert expected in " ".join(run.stderr.split())
    assert "internal error" not in run.stderr


def _one_line(engine: Engine, **values: object) -> LineResult:
    fields: dict[str, object] = {
        "shipment_id": "S",
        "line_id": "1",
        "date": "2025-06-01",
        "item": "H100 SXM",
        "quantity": 10,
        "destination": "India",
    }
    fields.update(values)
    consignee = fields.pop("consignee", "Acme")
    (line,) = engine.check([Line(**fields, consignee=Party(name=consignee, country="IN"))]).lines  # type: ignore[arg-type]
    return line


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"quantity": "1e23"}, "more than 1,000,000,000 units"),
        ({"quantity": 3_000_000_000}, "more than 1,000,000,000 units"),
        ({"quantity": "99999999999999999999"}, "more than 1,000,000,000 units"),
        ({"value": "1e15"}, "more than US$1,000,000,000,000"),
        ({"shipment_id": "S" * 10_000}, "`shipment_id` is 10,000 characters long"),
        ({"line_id": "1\x002"}, "`line_id` holds a NUL character"),
        ({"consignee": "A" * 10_000_000}, "`consignee` is 10,000,000 characters long"),
    ],
)
def test_values_beyond_what_the_ledger_keeps_make_the_line_indeterminate(
    engine: Engine, values: dict[str, object], expected: str
) -> None:
    line = _one_line(engine, **values)
    assert line.outcome is Outcome.INDETERMINATE
    assert any(expected in error for error in line.errors), line.errors


def test_a_value_is_kept_to_the_cent(engine: Engine) -> None:
    assert _one_line(engine, value="1234.565").value == 1234.57
    assert _one_line(engine, value="0.1").value == 0.1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_books_and_party_files_saved_as_unicode_text_are_read(
    tmp_path: Path, encoding: str
) -> None:
    text = BOOK.format(quantity=10) + "S1,2,2025-06-01,H100 SXM,5,Japan,Tōkyō Lab,JP\n"
    book = tmp_path / "book.csv"
    marks = {"utf-16-be": codecs.BOM_UTF16_BE}
    book.write_bytes(marks.get(encoding, b"") + text.encode(encoding))
    lines = read_book(book)
    assert [line.consignee.name for line in lines] == ["Acme", "Tōkyō Lab"]
    parties = tmp_path / "parties.csv"
    parties.write_bytes(marks.get(encoding, b"") + "name,country\nTōkyō Lab,JP\n".encode(encoding))
    assert [row.name for row in read_parties(parties)] == ["Tōkyō Lab"]


def test_utf16_without_a_mark_and_other_encodings_say_how_to_save_the_file(
    tmp_path: Path,
) -> None:
    book = tmp_path / "book.csv"
    book.write_bytes(BOOK.format(quantity=10).encode("utf-16-le"))
    with pytest.raises(InputError, match="looks like UTF-16 without a byte-order mark: save"):
        read_book(book)
    book.write_bytes(BOOK.format(quantity=10).replace("Acme", "Açme").encode("latin-1"))
    with pytest.raises(
        InputError, match=r"not UTF-8 \(byte \d+ cannot be read\): save it as UTF-8"
    ):
        read_book(book)


def test_json_nested_thousands_deep_is_refused_not_a_crash(tmp_path: Path) -> None:
    book = tmp_path / "deep.json"
    book.write_text("[" * 10_000 + "]" * 10_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_book(book)
    run = run_tiergate("check", str(book), home=tmp_path)
    assert run.returncode == 2
    assert "nested too deeply" in run.stderr


def test_a_read_only_ledger_reads_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    url = f"sqlite:///{path}"
    with pytest.raises(LedgerError, match="no ledger yet"):
        Ledger(url, read_only=True)
    assert not path.exists()
    writer = Ledger(url)
    writer.upgrade()
    writer.add_licence(
        {
            "number": "D1",
            "holder": "H",
            "items": ["3A090"],
            "destinations": ["CN"],
            "parties": [],
            "authorized_quantity": 5,
            "authorized_value": None,
            "valid_from": "2025-01-01",
            "valid_to": "2026-01-01",
            "conditions": None,
        },
        "tester",
    )
    writer.close()
    before = path.read_bytes()
    reader = Ledger(url, read_only=True)
    assert reader.audit_verify() == []
    assert [row["number"] for row in reader.licences()] == ["D1"]
    with pytest.raises(LedgerError, match="opened read-only"):
        reader.revoke_licence("D1", "auditor", "no")
    reader.close()
    assert path.read_bytes() == before


def test_csv_output_never_writes_a_spreadsheet_formula(tmp_path: Path) -> None:
    hostile = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tx"]
    book = tmp_path / "book.csv"
    header = "shipment_id,line_id,date,item,quantity,destination,@note\n"
    book.write_text(
        header
        + "".join(
            f"{quoted},{i},2025-06-01,H100 SXM,1,Japan,{quoted}\n"
            for i, quoted in enumerate('"' + cell.replace('"', '""') + '"' for cell in hostile)
        ),
        encoding="utf-8",
    )
    run = run_tiergate("check", str(book), "--no-screen", "--format", "csv", home=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(run.stdout)))
    note = rows[0].index("'@note")  # a pass-through column keeps its cells as given
    assert [row[note] for row in rows[1:]] == ["'" + cell for cell in hostile]
    assert [row[0] for row in rows[1:4]] == ["'" + cell for cell in hostile[:3]]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row)
    parties = tmp_path / "parties.csv"
    parties.write_text('name,country\n"=1+2",JP\n', encoding="utf-8")
    screened = run_tiergate("screen", "--file", str(parties), "--format", "csv", home=tmp_path)
    assert "'=1+2" in screened.stdout


def test_cancelling_a_shipment_the_ledger_never_saw_is_an_error(tmp_path: Path) -> None:
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    run = run_tiergate("cancel", "NOPE", "--reason", "x", home=tmp_path)
    assert run.returncode == 2
    assert "no check reserved" in " ".join(run.stderr.split())
    assert "cancelled" not in run.stdout
    exported = json.loads(run_tiergate("audit", "export", home=tmp_path).stdout)
    assert exported["audit"] == []


@pytest.mark.parametrize("item", ["banana", "", "3A", "5A002"])
def test_a_country_map_for_an_item_tiergate_cannot_classify_is_refused(
    engine: Engine, item: str
) -> None:
    # Before, every country came out INDETERMINATE and the command exited 0.
    with pytest.raises(UsageError):
        country_tiers(engine, date(2025, 6, 1), View.ENFORCED, item)


@pytest.mark.parametrize(
    "command",
    [
        ("holds", "release", "99999999999999999999", "--by", "a", "--reason", "b"),
        ("allowances", "--year", "-5"),
        ("tiers", "--item", "banana"),
    ],
)
def test_numbers_and_items_out_of_range_are_usage_errors(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    assert run_tiergate("db", "upgrade", home=tmp_path).returncode == 0
    run = run_tiergate(*command, home=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "internal error" not in run.stderr


def test_list_editions_with_a_column_or_key_twice_are_refused(tmp_path: Path) -> None:
    doubled = tmp_path / "csl.json"
    doubled.write_text('{"results": [], "results": [{}], "total": 0}', encoding="utf-8")
    with pytest.raises(InputError, match="gives that key twice"):
        read_list(doubled)
    columns = tmp_path / "csl.csv"
    columns.write_text("source,name,name,addresses\nx,y,z,w\n", encoding="utf-8")
    with pytest.raises(InputError, match="has the column `name` twice"):
        read_list(columns)


def test_a_party_name_of_megabytes_is_indeterminate_not_screened() -> None:
    result = Screener.shared().screen("A" * 10_000_000, "CN")
    assert result.status == "indeterminate"
    assert "10,000,000 characters long" in result.errors[0]
    assert len(result.name) < 200
