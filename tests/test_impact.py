"""`tiergate diff`: what a change of date, view or rules does to a book, and rulebook overlays.

The comparison is checked against two `tiergate check --as-of` runs of the same book (another
door, each line compared here field by field); the regulatory expectations come from the AI
Diffusion rule's compliance date (90 FR 4544: 2025-05-15) and its non-enforcement."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_tiergate

import tiergate
from tiergate.errors import OverlayError, UsageError
from tiergate.rulebook import View, default_rulebook
from tiergate.rulebook.overlay import apply_overlay, read_overlay
from tiergate.workflow import LONG_BOOK
from tiergate.workflow.impact import COLUMNS, Side

BOOK = ROOT / "examples" / "mixed_book.csv"
EXAMPLE_OVERLAY = ROOT / "examples" / "overlays" / "hypothetical-tier2-licence.yaml"
# What makes a line changed (issue #12: tier, outcome, exception, review policy; and the
# conditions, which a user reads as part of the answer).
COMPARED = ("tier", "outcome", "exception", "review_policy", "conditions")


def _json(*args: str) -> dict[str, Any]:
    done = run_tiergate(*args, "--format", "json")
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _rows_in(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(
            1 for row in csv.DictReader(handle) if any(cell.strip() for cell in row.values())
        )


def _compared(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(tuple(v) if isinstance(v, list) else v for v in (line[n] for n in COMPARED))


@pytest.mark.parametrize(
    ("before", "after"),
    [("2025-05-14:written", "2025-05-15:written"), ("2024-01-01", "2026-03-01:written")],
)
def test_diff_lists_exactly_the_lines_two_checks_disagree_on(before: str, after: str) -> None:
    old_day, _, old_view = before.partition(":")
    new_day, _, new_view = after.partition(":")
    old = _json(
        "check", str(BOOK), "--no-screen", "--as-of", old_day, "--view", old_view or "enforced"
    )
    new = _json(
        "check", str(BOOK), "--no-screen", "--as-of", new_day, "--view", new_view or "enforced"
    )
    found = _json("diff", str(BOOK), "--from", before, "--to", after)

    expected = [
        row
        for row, (a, b) in enumerate(zip(old["lines"], new["lines"], strict=True), start=1)
        if _compared(a) != _compared(b)
    ]
    assert [line["row"] for line in found["lines"]] == expected
    assert expected, "the dates were chosen so that some line changes"
    summary = found["summary"]
    assert summary["lines_in"] == _rows_in(BOOK) == len(old["lines"])
    assert summary["lines_changed"] + summary["lines_unchanged"] == summary["lines_in"]
    for line in found["lines"]:
        a, b = old["lines"][line["row"] - 1], new["lines"][line["row"] - 1]
        assert (line["shipment_id"], line["line_id"]) == (b["shipment_id"], b["line_id"])
        assert line["changed"] == [n for n in COMPARED if a[n] != b[n]]
        for side, checked in (("from", a), ("to", b)):
            for name in ("tier", "outcome", "exception", "review_policy", "conditions"):
                assert line[side][name] == checked[name], (line["row"], side, name)
            assert line[side]["rules"] == list(dict.fromkeys(r["rule"] for r in checked["reasons"]))


def test_the_summary_adds_up_the_changed_lines_h100_equivalents() -> None:
    new = _json("check", str(BOOK), "--no-screen", "--as-of", "2025-05-15", "--view", "written")
    found = _json("diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written")
    by_destination: dict[str, float] = {}
    for line in found["lines"]:
        checked = new["lines"][line["row"] - 1]
        by_destination[line["destination"]] = by_destination.get(line["destination"], 0.0) + (
            checked["h100_equivalents"] or 0.0
        )
    summary = found["summary"]
    assert set(summary["by_destination"]) == set(by_destination)
    for destination, expected in by_destination.items():
        transitions = summary["by_destination"][destination]["transitions"]
        assert sum(t["h100_equivalents"] for t in transitions) == pytest.approx(expected, abs=0.05)
        assert (
            sum(t["lines"] for t in transitions)
            == summary["by_destination"][destination]["lines_changed"]
        )
    overall = summary["transitions"]
    assert sum(t["lines"] for t in overall) == summary["lines_changed"]
    assert (
        sum(t["lines"] for g in summary["by_item_class"].values() for t in g["transitions"])
        == (summary["lines_changed"])
    )


def test_ai_diffusion_compliance_date_changes_lines_in_the_written_view_only() -> None:
    """From 2025-05-15 (90 FR 4544's compliance date) the written view applies the AI
    Diffusion rule to 3A090.a-class items; the enforced view never does (non-enforcement)."""
    written = tiergate.diff(
        _lines(),
        Side(date(2025, 5, 14), View.WRITTEN),
        Side(date(2025, 5, 15), View.WRITTEN),
    )
    diffusion = [
        c for c in written.changes if any(r.startswith("diffusion.") for r in c.after.rules)
    ]
    assert diffusion
    assert all(c.before.outcome == "NLR" or c.before.tier is not None for c in diffusion)
    enforced = tiergate.diff(_lines(), date(2025, 5, 14), date(2025, 5, 15))
    assert not [
        c for c in enforced.changes if any(r.startswith("diffusion.") for r in c.after.rules)
    ]


def _lines() -> list[tiergate.Line]:
    from tiergate.inputs import read_book

    return read_book(BOOK)


def test_the_same_side_twice_changes_nothing_and_csv_still_has_its_header(tmp_path: Path) -> None:
    out = tmp_path / "same.csv"
    done = run_tiergate(
        "diff",
        str(BOOK),
        "--from",
        "2026-01-20",
        "--to",
        "2026-01-20:enforced",
        "-f",
        "csv",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == list(COLUMNS)
        assert list(reader) == []


def test_csv_rows_are_the_json_lines_flattened(tmp_path: Path) -> None:
    args = ("diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written")
    found = _json(*args)
    out = tmp_path / "diff.csv"
    assert run_tiergate(*args, "-f", "csv", "-o", str(out)).returncode == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(found["lines"])
    for row, line in zip(rows, found["lines"], strict=True):
        assert int(row["row"]) == line["row"]
        assert row["changed"] == " ".join(line["changed"])
        assert row["to_outcome"] == line["to"]["outcome"]
        assert row["from_rules"] == "; ".join(line["from"]["rules"])


def test_the_table_names_both_sides_and_counts_every_line() -> None:
    done = run_tiergate(
        "diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written"
    )
    assert done.returncode == 0, done.stderr
    assert "from 2025-05-14:written to 2025-05-15:written" in done.stdout
    found = _json("diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written")
    summary = found["summary"]
    assert f"{summary['lines_in']} lines: {summary['lines_changed']} changed" in done.stdout


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-13-01", "`--from` value `2025-13-01` is not a date"),
        ("2025-05-01:drafted", "names the view `drafted`: expected enforced or written"),
        ("", "`--from` is empty"),
        ("2021-01-01", "before the rulebook's first date"),
    ],
)
def test_a_bad_side_is_a_usage_error_naming_the_option(value: str, message: str) -> None:
    done = run_tiergate("diff", str(BOOK), "--from", value, "--to", "2025-05-15")
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())


def test_side_parse_reads_the_view_in_any_case() -> None:
    assert Side.parse(" 2025-05-15:Written ", "--to") == Side(date(2025, 5, 15), View.WRITTEN)
    assert Side.parse("2025-05-15", "--to") == Side(date(2025, 5, 15), View.ENFORCED)
    assert Side.parse("2025-05-15:", "--to") == Side(date(2025, 5, 15), View.ENFORCED)
    with pytest.raises(UsageError, match="`--to` value `tomorrow` is not a date"):
        Side.parse("tomorrow", "--to")


# --- overlays ------------------------------------------------------------------------------


def test_the_example_overlay_changes_only_lines_its_rule_reaches() -> None:
    found = _json(
        "diff",
        str(BOOK),
        "--from",
        "2027-01-01",
        "--to",
        "2027-01-01",
        "--rulebook-overlay",
        str(EXAMPLE_OVERLAY),
    )
    assert found["lines"]
    for line in found["lines"]:
        assert "hypothetical.tier2-licence" in line["to"]["rules"]
        assert "hypothetical.tier2-licence" not in line["from"]["rules"]
    assert found["overlay"]["name"].startswith("Hypothetical")
    assert found["rulebook"]["from"] == default_rulebook().version
    assert found["rulebook"]["to"] != found["rulebook"]["from"]
    # Before the overlay's rule takes effect, the overlay changes nothing.
    early = _json(
        "diff",
        str(BOOK),
        "--from",
        "2026-12-31",
        "--to",
        "2026-12-31",
        "--rulebook-overlay",
        str(EXAMPLE_OVERLAY),
    )
    assert early["lines"] == []


def test_an_overlay_replaces_a_bundled_rule_by_its_id(tmp_path: Path) -> None:
    """Ending the H200 case-by-case rule (91 FR 1684) on 2026-06-30: H200-class exports to
    China go back to the rules it superseded."""
    rule = next(r for r in default_rulebook().rules.rules if r.id == "h200.export-prc-macau")
    ended = {**rule.model_dump(mode="json", exclude_defaults=True), "effective_to": "2026-06-30"}
    overlay = tmp_path / "end-h200.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "name": "End the H200 rule",
                "description": "A test: the case-by-case policy ends on 2026-06-30.",
                "citation": "91 FR 1684 (ended in this test only)",
                "rules": [ended],
            }
        ),
        encoding="utf-8",
    )
    found = _json(
        "diff",
        str(BOOK),
        "--from",
        "2026-07-01",
        "--to",
        "2026-07-01",
        "--rulebook-overlay",
        str(overlay),
    )
    changed = [line for line in found["lines"] if "h200.export-prc-macau" in line["from"]["rules"]]
    assert changed
    for line in changed:
        assert "h200.export-prc-macau" not in line["to"]["rules"]
        assert line["from"]["review_policy"] == "case_by_case"


def _diff_with_overlay(
    before: str, after: str, overlay: Path | str
) -> subprocess.CompletedProcess[str]:
    return run_tiergate(
        "diff", str(BOOK), "--from", before, "--to", after, "--rulebook-overlay", str(overlay)
    )


def _overlay(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_OVERLAY.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["rules"][0].update(bogus=1),
            "at `rules.0.bogus`: Extra inputs are not permitted",
        ),
        (lambda d: d["rules"][0].pop("citation"), "at `rules.0.citation`: Field required"),
        (lambda d: d.pop("name"), "at `name`: Field required"),
        (
            lambda d: d["rules"].append(dict(d["rules"][0])),
            "gives rule `hypothetical.tier2-licence` twice",
        ),
        (lambda d: d["rules"][0].update(destinations="atlantis"), "makes an invalid rulebook"),
        (lambda d: d["rules"][0].update(exceptions=["NOPE"]), "makes an invalid rulebook"),
    ],
)
def test_a_bad_overlay_is_refused_naming_the_file_and_what_is_wrong(
    tmp_path: Path, change: Any, message: str
) -> None:
    document = _example()
    change(document)
    path = _overlay(tmp_path, document)
    with pytest.raises(OverlayError) as raised:
        _apply(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)
    done = _diff_with_overlay("2027-01-01", "2027-01-01", str(path))
    assert done.returncode == 2
    assert f"rulebook overlay `{path}`" in " ".join(done.stderr.split())


def _apply(path: Path) -> None:
    overlay, text = read_overlay(path)
    apply_overlay(default_rulebook(), overlay, text, str(path))


def test_a_missing_or_unreadable_overlay_is_an_input_error(tmp_path: Path) -> None:
    done = _diff_with_overlay("2027-01-01", "2027-01-01", str(tmp_path / "absent.yaml"))
    assert done.returncode == 2
    assert "cannot read rulebook overlay" in done.stderr
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(OverlayError, match="cannot read rulebook overlay"):
        read_overlay(binary)


def test_the_library_gives_what_the_cli_gives() -> None:
    found = _json("diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written")
    impact = tiergate.diff(
        _lines(), Side(date(2025, 5, 14), View.WRITTEN), Side(date(2025, 5, 15), View.WRITTEN)
    )
    document = impact.document()
    assert document["summary"] == found["summary"]
    assert document["lines"] == found["lines"]


@pytest.mark.parametrize(
    ("before", "after", "overlay"),
    [
        ("2025-05-14:written", "2025-05-15:written", None),
        ("2024-01-01", "2026-03-01", None),
        ("2026-12-31", "2027-01-01", EXAMPLE_OVERLAY),
    ],
)
def test_a_long_book_compared_in_columns_gives_what_the_row_path_gives(
    tmp_path: Path, before: str, after: str, overlay: Path | None
) -> None:
    from books import write_book

    from tiergate.engine import Engine
    from tiergate.inputs import read_book
    from tiergate.workflow import LONG_BOOK

    path = tmp_path / "book.csv"
    write_book(path, LONG_BOOK + 1_500, seed=4, engine=Engine())
    args = ["diff", str(path), "--from", before, "--to", after]
    found = _json(*args, *(["--rulebook-overlay", str(overlay)] if overlay else []))
    rulebook = None
    if overlay is not None:
        loaded, text = read_overlay(overlay)
        rulebook = apply_overlay(default_rulebook(), loaded, text, str(overlay))
    impact = tiergate.diff(
        read_book(path), Side.parse(before, "--from"), Side.parse(after, "--to"), rulebook=rulebook
    )
    expected = impact.document()
    assert found["lines"] == expected["lines"]
    assert found["summary"] == expected["summary"]
    assert found["lines"], "the sides were chosen so that lines change"


def test_parquet_holds_the_json_lines_typed(tmp_path: Path) -> None:
    import polars as pl

    args = ("diff", str(BOOK), "--from", "2025-05-14:written", "--to", "2025-05-15:written")
    found = _json(*args)
    out = tmp_path / "diff.parquet"
    assert run_tiergate(*args, "-f", "parquet", "-o", str(out)).returncode == 0
    table = pl.read_parquet(out)
    assert table.columns == list(COLUMNS)
    assert table.height == len(found["lines"])
    for row, line in zip(table.iter_rows(named=True), found["lines"], strict=True):
        assert row["row"] == line["row"]
        assert row["changed"] == line["changed"]
        assert row["to_rules"] == line["to"]["rules"]
        assert row["from_outcome"] == line["from"]["outcome"]
        assert row["h100_equivalents"] == line["h100_equivalents"]
    refused = run_tiergate(*args, "-f", "parquet")
    assert refused.returncode == 2
    assert "give --output" in refused.stderr


def test_a_long_json_book_is_compared_by_the_row_path(tmp_path: Path) -> None:
    """A JSON book is never read as CSV, however many lines its text has."""
    lines = [
        {"line_id": str(i), "item": "H100 SXM", "quantity": 1, "destination": "India"}
        for i in range(LONG_BOOK)
    ]
    shipments = [{"shipment_id": "S1", "date": "2025-06-01", "lines": lines}]
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"shipments": shipments}, indent=2), encoding="utf-8")
    assert book.read_text(encoding="utf-8").count("\n") >= LONG_BOOK
    done = run_tiergate(
        "diff",
        str(book),
        "--from",
        "2025-05-14:written",
        "--to",
        "2025-05-15:written",
        "-f",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["lines_in"] == LONG_BOOK
