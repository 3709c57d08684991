"""The CLI as a user runs it, checking output and exit codes: in this process (fast), and as a
real `python -m tiergate` process where the process itself is what is tested."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from conftest import run_tiergate

import tiergate
from tiergate.cli.options import Output
from tiergate.errors import UsageError
from tiergate.inputs import read_book

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


run = run_tiergate


def test_check_example_is_clear_and_exits_0() -> None:
    done = run("check", str(EXAMPLES / "korea_ai_computing_centre.csv"))
    assert done.returncode == 0, done.stderr
    assert "NLR" in done.stdout
    assert "every line may ship" in done.stdout


def test_the_installed_entry_point_runs_as_a_process_with_its_exit_statuses(
    tmp_path: Path,
) -> None:
    clear = run("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), process=True)
    assert clear.returncode == 0, clear.stderr
    assert "every line may ship" in clear.stdout
    blocked = run("check", str(EXAMPLES / "mixed_book.csv"), "--format", "json", process=True)
    assert blocked.returncode == 3, blocked.stderr
    assert json.loads(blocked.stdout)["lines"]
    refused = run("check", str(tmp_path / "missing.csv"), process=True)
    assert refused.returncode == 2
    assert "missing.csv" in refused.stderr
    assert run("--version", process=True).stdout.startswith("tiergate ")


def test_check_json_written_view() -> None:
    done = run(
        "check",
        str(EXAMPLES / "korea_ai_computing_centre.csv"),
        "--as-of",
        "2025-06-01",
        "--view",
        "written",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"as_of", "view", "rulebook_version", "lines", "summary"}
    line = report["lines"][0]
    for key in (
        "shipment_id",
        "line_id",
        "item",
        "eccn",
        "tpp",
        "quantity",
        "destination",
        "tier",
        "outcome",
        "exception",
        "review_policy",
        "conditions",
        "reasons",
        "errors",
    ):
        assert key in line
    assert line["outcome"] == "EXCEPTION"
    assert line["exception"] == "AIA"
    assert line["purchase_order"] == "PO-2025-0001"  # unknown columns pass through
    assert all({"rule", "message", "citation"} <= set(r) for r in line["reasons"])


def test_check_mixed_book_exits_3_and_keeps_every_row(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = run("check", str(EXAMPLES / "mixed_book.csv"), "--format", "csv", "--output", str(out))
    assert done.returncode == 3, done.stderr
    with (EXAMPLES / "mixed_book.csv").open(encoding="utf-8") as handle:
        rows_in = list(csv.DictReader(handle))
    rows_out = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows_in) == len(rows_out) >= 50
    assert [r["sales_order"] for r in rows_in] == [r["sales_order"] for r in rows_out]
    assert {r["outcome"] for r in rows_out} >= {
        "NLR",
        "EXCEPTION",
        "PROHIBITED",
        "HOLD",
        "INDETERMINATE",
        "LICENSE_REQUIRED",
    }


def test_check_jsonl_has_one_object_per_line() -> None:
    done = run("check", str(EXAMPLES / "technology_and_weights.json"), "--format", "jsonl")
    assert done.returncode == 3
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(objects) == 9
    assert all(o["view"] == "enforced" for o in objects)


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    for args in (
        ("check", str(tmp_path / "missing.csv")),
        ("check", str(empty)),
        ("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--as-of", "2025-13-01"),
        ("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--as-of", "2020-01-01"),
        ("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--view", "wishful"),
        ("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--no-such-option"),
    ):
        done = run(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.strip(), args


def test_error_message_names_the_input(tmp_path: Path) -> None:
    done = run("check", str(tmp_path / "missing.csv"))
    assert "missing.csv" in done.stderr
    done = run("check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--as-of", "2025-13-01")
    assert "`2025-13-01`" in done.stderr


def test_classify_by_name_and_specs() -> None:
    done = run("classify", "RTX 4090", "--as-of", "2024-06-01", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["eccn"] == "3A090.a"
    assert data["scope"] == "3A090.a:non-datacenter"
    assert data["h100_equivalents"] == pytest.approx(5286 / 15832, abs=0.001)
    done = run("classify", "--tpp", "4000", "--die-area", "600", "--format", "json")
    data = json.loads(done.stdout)
    assert data["eccn"] == "3A090.a"  # PD 6.67 >= 5.92
    # The branch of the threshold that was met, not the whole disjunction.
    assert data["threshold_met"] == "TPP >= 1600 and performance density >= 5.92"
    done = run("classify", "--tpp", "2000")
    assert done.returncode == 2
    assert "die_area_mm2" in done.stdout
    assert run("classify").returncode == 2


def test_tiers_country_map() -> None:
    done = run("tiers", "--as-of", "2025-06-01", "--view", "written", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {row["country"]: row for row in json.loads(done.stdout)["countries"]}
    assert rows["KR"]["tier"] == "unrestricted"
    assert rows["IN"]["tier"] == "restricted"
    assert rows["CN"]["tier"] == "prohibited"
    assert rows["MO"]["tier"] == "prohibited"
    assert len(rows) >= 240
    done = run("tiers", "--as-of", "2024-06-01", "--item", "L40", "--format", "csv")
    table = {r["country"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert table["VN"]["exception"] == "ACA"
    assert table["DE"]["tier"] == "unrestricted"


def test_rules_lists_what_is_in_force() -> None:
    done = run("rules", "--as-of", "2026-02-01", "--view", "written", "--format", "json")
    ids = {row["id"] for row in json.loads(done.stdout)["in_force"]}
    assert {"h200.export-prc-macau", "diffusion.tier2", "lpp", "aia"} <= ids
    done = run("rules", "--as-of", "2026-02-01", "--format", "json")
    ids = {row["id"] for row in json.loads(done.stdout)["in_force"]}
    assert "diffusion.tier2" not in ids
    assert "ac2023.d1-d4" in ids
    done = run("rules", "--as-of", "2023-06-01", "--format", "json")
    ids = {row["id"] for row in json.loads(done.stdout)["in_force"]}
    assert "ac2022.prc-macau" in ids
    assert "ac2023.macau-d5" not in ids


def test_version() -> None:
    done = run("version")
    assert done.returncode == 0
    assert "rulebook" in done.stdout


def test_every_command_has_an_example_in_its_help() -> None:
    from tiergate.reference import leaf_commands

    commands = dict(leaf_commands())
    assert set(commands) >= {
        "tiergate check",
        "tiergate classify",
        "tiergate tiers",
        "tiergate rules",
        "tiergate screen",
        "tiergate data status",
        "tiergate data update",
        "tiergate data diff",
    }
    for path, command in commands.items():
        assert "Example: tiergate " in (command.help or ""), path


def test_tiers_table_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "tiers.txt"
    done = run("tiers", "--as-of", "2024-06-01", "--output", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "Vietnam" in text
    assert "prohibited" in text


def test_internal_error_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Fault injection: a failure tiergate did not foresee must exit 1, named as internal.
    import tiergate.cli as cli
    import tiergate.inputs as inputs

    def broken(raw: bytes, path: Path) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(inputs, "parse_book", broken)
    monkeypatch.setattr(sys, "argv", ["tiergate", "check", str(EXAMPLES / "mixed_book.csv")])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 1
    assert "internal error" in capsys.readouterr().err


def test_tiers_default_item_follows_the_date() -> None:
    done = run("tiers", "--as-of", "2023-03-01", "--format", "json")
    document = json.loads(done.stdout)
    assert document["item"] == "3A090"
    rows = {row["country"]: row for row in document["countries"]}
    assert rows["CN"]["tier"] == "prohibited"
    assert rows["MO"]["tier"] == "prohibited"  # Macau joined the China rule on 2023-01-17
    assert rows["RU"]["tier"] == "prohibited"  # embargo
    assert rows["VN"]["tier"] == "unrestricted"


def test_the_library_and_the_cli_give_the_same_answer_field_by_field(tmp_path: Path) -> None:
    # Before, the library did not screen parties: a listed consignee was NLR from
    # `tiergate.check` and HOLD or PROHIBITED from the CLI.
    book = EXAMPLES / "mixed_book.csv"
    done = run_tiergate("check", str(book), "--format", "json", home=tmp_path)
    assert done.returncode in (0, 3), done.stderr
    from_cli = json.loads(done.stdout)
    report = tiergate.check(read_book(book))
    from_library = json.loads(json.dumps(report.as_dict()))
    assert from_library["lines"] == from_cli["lines"]
    assert from_library["summary"] == from_cli["summary"]
    screened = [
        line for line in report.lines if any(r.rule.startswith("list.") for r in line.reasons)
    ]
    assert screened  # the book names listed parties: the comparison covers screening
    unscreened = tiergate.check(read_book(book), screen=False)
    assert [line.outcome for line in unscreened.lines] != [line.outcome for line in report.lines]


def test_the_library_screens_one_party_as_the_cli_does(tmp_path: Path) -> None:
    done = run_tiergate(
        "screen", "Huawei Technologies", "--country", "CN", "--format", "json", home=tmp_path
    )
    (from_cli,) = json.loads(done.stdout)["results"]
    assert tiergate.screen("Huawei Technologies", "CN").as_dict() == from_cli


def test_what_a_newcomer_looked_for_is_there(tmp_path: Path) -> None:
    assert run_tiergate("--version", home=tmp_path).stdout.startswith("tiergate ")
    assert "1 internal error" in run_tiergate("check", "--help", home=tmp_path).stdout
    csv_out = run_tiergate(
        "check", str(EXAMPLES / "korea_ai_computing_centre.csv"), "--format", "csv", home=tmp_path
    )
    (row,) = csv.DictReader(io.StringIO(csv_out.stdout))
    assert (row["consignee"], row["consignee_country"], row["transaction"]) == (
        "National AI Computing Center",
        "KR",
        "export",
    )
    # The screening table shows every hit, not only the best one.
    as_json = run_tiergate("screen", "Huawei Technologies", "--format", "json", home=tmp_path)
    hits = json.loads(as_json.stdout)["results"][0]["hits"]
    assert len(hits) > 1
    table = run_tiergate("screen", "Huawei Technologies", home=tmp_path).stdout
    assert all(hit["entry_id"] in table for hit in hits)


def _half_written(out: Output) -> None:
    with out.staged() as staged:
        staged.handle.write(b"half")
        raise RuntimeError


def _whole(out: Output) -> None:
    with out.staged() as staged:
        staged.handle.write(b"whole")
        staged.done = True


def test_a_staged_output_becomes_the_file_only_when_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("before", encoding="utf-8")
    out = Output("csv", target)
    with pytest.raises(RuntimeError):
        _half_written(out)
    assert target.read_text(encoding="utf-8") == "before"
    with out.staged() as staged:
        staged.handle.write(b"not done")
    assert target.read_text(encoding="utf-8") == "before"
    _whole(out)
    assert target.read_text(encoding="utf-8") == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with pytest.raises(UsageError, match="cannot write --output"):
        _whole(Output("csv", tmp_path / "absent" / "out.csv"))
    with pytest.raises(UsageError, match="cannot write --output"):
        _whole(Output("csv", tmp_path))  # a folder
    # A name as long as a name may be: the file written beside it cannot be made.
    with pytest.raises(UsageError, match=r"cannot write --output .*: File name too long"):
        _whole(Output("csv", tmp_path / f"{'r' * 251}.csv"))


def test_a_staged_output_writes_through_a_link_and_keeps_the_permissions(
    tmp_path: Path,
) -> None:
    target = tmp_path / "reports" / "out.csv"
    target.parent.mkdir()
    target.write_text("before", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    _whole(Output("csv", link))
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "whole"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv"]
