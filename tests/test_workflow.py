"""The workflow's operations, called directly, give what the CLI prints: every door (CLI,
HTTP, batch) calls the same ones."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import run_tiergate

from tiergate.classify import Specs
from tiergate.errors import UsageError
from tiergate.ledger.store import NotRecorded
from tiergate.rulebook import View
from tiergate.workflow import LONG_BOOK, Settings, Workspace, records, reference, screening

T = TypeVar("T")


@pytest.fixture
def workspace() -> Workspace:
    return Workspace(Settings.load())


def _cli_json(*args: str, home: Path | None = None) -> dict[str, object]:
    done = run_tiergate(*args, "--format", "json", home=home)
    assert done.returncode in (0, 3), done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_classify_tiers_and_rules_are_what_the_cli_prints(workspace: Workspace) -> None:
    on = date(2025, 6, 1)
    assert reference.classify(workspace, "H100 SXM", Specs(datacenter=None), on) == _cli_json(
        "classify", "H100 SXM", "--as-of", "2025-06-01"
    )
    assert reference.tiers(workspace, on, View.WRITTEN, None) == _cli_json(
        "tiers", "--as-of", "2025-06-01", "--view", "written"
    )
    assert reference.rules(workspace, on, View.ENFORCED) == _cli_json(
        "rules", "--as-of", "2025-06-01"
    )


def test_classify_needs_a_name_or_a_measure(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="give a catalog name or at least --tpp"):
        reference.classify(workspace, None, Specs(datacenter=None), date(2025, 6, 1))
    done = run_tiergate("classify")
    assert done.returncode == 2
    assert "give a catalog name or at least --tpp" in done.stderr


def test_screening_is_what_the_cli_prints(workspace: Workspace) -> None:
    screened = screening.screen(workspace, name="Huawei Technologies Co., Ltd.", country="CN")
    assert not screened.clear
    assert screened.document() == _cli_json(
        "screen", "Huawei Technologies Co., Ltd.", "--country", "CN"
    )


def test_ledger_records_are_what_the_cli_prints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    workspace = Workspace(Settings.load(db=url))
    assert records.upgrade(workspace).before is None
    terms = records.LicenceTerms(
        number="D1",
        holder="Example Inc",
        items=["3a090"],
        destinations=["China"],
        quantity=100,
        valid_from=date(2025, 1, 1),
        valid_to=date(2028, 12, 31),
        parties=[],
        value=2e12,
    )
    with pytest.raises(UsageError, match="--value"):
        records.add_licence(workspace, terms, "test")  # more than a licence may hold
    stored = records.add_licence(workspace, replace(terms, value=1000.0), "test")
    assert (stored["items"], stored["destinations"]) == (["3A090"], ["CN"])
    workspace.close()
    run = partial(_cli_json, home=tmp_path)
    shown = run_tiergate("license", "show", "D1", "--db", url, home=tmp_path)
    assert records.licence(workspace, "D1") == json.loads(shown.stdout)
    assert {"licences": records.licences(workspace)} == run("license", "list", "--db", url)
    assert {"holds": records.holds(workspace)} == run("holds", "list", "--db", url)
    assert {"suppressions": screening.suppressions(workspace)} == run("suppressions", "--db", url)
    entries, head = records.export_audit(workspace)
    assert {"head": head, "audit": entries} == run("audit", "export", "--db", url)
    with pytest.raises(NotRecorded, match="licence `D9` is not recorded"):
        records.licence(workspace, "D9")


class _Counting:
    """Progress that keeps what it was shown (a `tiergate.progress.Progress`)."""

    def __init__(self) -> None:
        self.counted: list[object] = []

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        for item in items:
            self.counted.append(item)
            yield item

    def working(self, description: str) -> AbstractContextManager[object]:
        return nullcontext()


@pytest.mark.parametrize("lines", [LONG_BOOK - 1, LONG_BOOK])
def test_a_long_book_counts_every_line_off_and_the_answer_is_the_same(
    tmp_path: Path, lines: int
) -> None:
    book = tmp_path / "book.csv"
    rows = [f"S,{n},2025-06-01,H100 SXM,8,DE" for n in range(lines)]
    book.write_text("shipment_id,line_id,date,item,quantity,destination\n" + "\n".join(rows))
    counting = _Counting()
    counted = Workspace(Settings.load(), progress=counting).check(book).report
    silent = Workspace(Settings.load()).check(book).report
    assert len(counting.counted) == (lines if lines >= LONG_BOOK else 0)
    assert counted.as_dict()["lines"] == silent.as_dict()["lines"]
    assert counted.summary.lines_out == lines


def test_a_progress_that_loses_lines_is_an_error_never_a_shorter_report(tmp_path: Path) -> None:
    class Losing(_Counting):
        def track(self, items: Sequence[T], description: str) -> Iterator[T]:
            yield from list(items)[1:]

    book = tmp_path / "book.csv"
    rows = [f"S,{n},2025-06-01,H100 SXM,8,DE" for n in range(LONG_BOOK)]
    book.write_text("shipment_id,line_id,date,item,quantity,destination\n" + "\n".join(rows))
    with pytest.raises(RuntimeError, match=f"{LONG_BOOK - 1} of {LONG_BOOK} lines"):
        Workspace(Settings.load(), progress=Losing()).check(book)
