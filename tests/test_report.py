"""`tiergate report`: the determination report as one self-contained HTML file. Its lines,
counts, reasons and citations are checked against the source file and against `tiergate
check --format json` of the same book."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from conftest import ROOT, run_tiergate

BOOK = ROOT / "examples" / "mixed_book.csv"


class Links(HTMLParser):
    """Every element and attribute that would load something."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.tags: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data") and value:
                self.loads.append(f"{tag} {name}={value}")


def test_a_report_holds_every_line_with_its_reasons_citations_and_the_inputs_hash(
    tmp_path: Path,
) -> None:
    output = tmp_path / "report.html"
    args = ("--as-of", "2025-06-01", "--view", "written", "--no-reserve")
    made = run_tiergate("report", str(BOOK), "--output", str(output), *args, home=tmp_path)
    assert made.returncode == 3, made.stderr  # some lines may not ship
    page = output.read_text(encoding="utf-8")
    checked = run_tiergate("check", str(BOOK), "-f", "json", *args, home=tmp_path)
    expected = json.loads(checked.stdout)
    lines_in_file = sum(1 for row in BOOK.read_text().splitlines()[1:] if row.strip())
    rows = re.findall(r'<tr data-outcome="([A-Z_]+)">', page)
    assert len(rows) == lines_in_file == len(expected["lines"])
    assert rows == [line["outcome"] for line in expected["lines"]]
    for outcome, count in expected["summary"]["by_outcome"].items():
        shown = f'data-outcome="{outcome}">{count}</td>'
        assert (shown in page) == (count > 0)
    text = html.unescape(page)
    assert hashlib.sha256(BOOK.read_bytes()).hexdigest() in text
    for line in expected["lines"]:
        for reason in line["reasons"]:
            assert reason["message"] in text
            assert reason["citation"] in text
        for error in line["errors"]:
            assert error in text
    for edition in expected["editions"]:
        assert edition["name"] in text
    assert expected["rulebook_version"] in text
    links = Links()
    links.feed(page)
    assert links.loads == []  # self-contained: it loads nothing
    assert links.tags["script"] == 0
    assert links.tags["svg"] == 3  # two charts and the map
    assert "report written to" in made.stderr


def test_report_refuses_an_output_it_cannot_write_as_a_report(tmp_path: Path) -> None:
    for output, says in (
        (tmp_path / "report.txt", "must name an .html file"),
        (tmp_path / "missing" / "report.html", "does not exist"),
    ):
        refused = run_tiergate("report", str(BOOK), "--output", str(output), home=tmp_path)
        assert refused.returncode == 2
        assert says in refused.stderr
        assert not output.exists()
    unreadable = tmp_path / "book.csv"
    unreadable.write_bytes(b"\xff\xfe not a book")
    refused = run_tiergate("report", str(unreadable), "-o", str(tmp_path / "r.html"), home=tmp_path)
    assert refused.returncode == 2
    assert not (tmp_path / "r.html").exists()
