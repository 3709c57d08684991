"""The CLI's log and progress: both on stderr, the log as JSON lines when asked, the progress
bar only on a terminal."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from conftest import run_tiergate

from tiergate.cli.logs import TerminalProgress, progress_for
from tiergate.progress import Silent

BOOK_HEADER = "shipment_id,line_id,date,item,quantity,destination\n"


def _book(path: Path, lines: int) -> Path:
    rows = "".join(f"S,{n},2025-06-01,H100 SXM,1,DE\n" for n in range(1, lines + 1))
    path.write_text(BOOK_HEADER + rows, encoding="utf-8")
    return path


def test_json_logs_are_one_json_object_per_line(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.csv", 3)
    done = run_tiergate("-v", "--log-format", "json", "check", str(book), "--format", "json")
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert {entry["level"] for entry in entries} == {"info"}
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("read 3 lines from ") for m in messages)
    assert any(m.startswith("rulebook ") for m in messages)
    assert json.loads(done.stdout)["summary"]  # the data on stdout is untouched


def test_without_verbose_nothing_is_logged(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.csv", 3)
    done = run_tiergate("check", str(book), "--format", "json")
    assert done.returncode == 0
    assert done.stderr == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    # A long book (a progress bar on a terminal), its stderr a pipe: nothing on stderr.
    book = _book(tmp_path / "long.csv", 2_500)
    done = run_tiergate("check", str(book), "--no-screen", "--format", "csv")
    assert done.returncode == 0
    assert done.stderr == ""
    assert isinstance(progress_for(io.StringIO()), Silent)


def test_progress_is_drawn_on_a_terminal() -> None:
    controller, terminal = os.openpty()
    with open(terminal, "w", encoding="utf-8") as stream:
        progress = progress_for(stream)
        assert isinstance(progress, TerminalProgress)
        assert list(progress.track([1, 2, 3], "counting parties")) == [1, 2, 3]
    drawn = os.read(controller, 65536).decode("utf-8", errors="replace")
    os.close(controller)
    assert "counting parties" in drawn
