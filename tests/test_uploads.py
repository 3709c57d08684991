"""`inputs.first_look`: what a job refuses before it queues a book. It must never refuse a
book the reader reads, and it refuses what the reader refuses whole, with the same words."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from tiergate.errors import InputError
from tiergate.inputs import first_look, parse_book

COLUMNS = st.lists(st.sampled_from(["item", "destination", " Item", "x", '"item"', ""]), max_size=4)
CELLS = st.text(alphabet=st.sampled_from(list(',;\t"\r xH1DE8é')), max_size=20)


@given(
    st.sampled_from(["", "\n", " \n", "\r\n"]),
    COLUMNS,
    st.sampled_from([",", ";", "\t"]),
    st.lists(CELLS, max_size=4),
    st.sampled_from(["\n", "\r\n"]),
)
def test_first_look_never_refuses_a_csv_book_the_reader_reads(
    lead: str, columns: list[str], mark: str, rows: list[str], end: str
) -> None:
    raw = (lead + mark.join(columns) + end + end.join(rows)).encode()
    try:
        parse_book(raw, Path("book.csv"))
    except InputError:
        return
    first_look(raw, Path("book.csv"))


@given(st.binary(max_size=64))
def test_first_look_never_refuses_bytes_the_reader_reads(raw: bytes) -> None:
    for name in ("book.csv", "book.json"):
        try:
            parse_book(raw, Path(name))
        except InputError:
            continue
        first_look(raw, Path(name))


@pytest.mark.parametrize(
    ("raw", "name", "says"),
    [
        (b"", "b.csv", "is empty"),
        (b"{}\n", "b.csv", "has no `item`, `eccn`, `tpp` or `destination` column"),
        (b"item,destination\n", "b.csv", "has a header but no lines"),
        (b"item,item\nH100,DE\n", "b.csv", "twice"),
        (b"{", "b.json", "is not valid JSON"),
        (b"item\nH100\n", "b.parquet", "is not a Parquet file"),
        (b"item\nH100\n", "b.xlsx", "must be a .csv, .json or .parquet file"),
    ],
)
def test_first_look_refuses_a_book_that_cannot_be_read_at_all(
    raw: bytes, name: str, says: str
) -> None:
    with pytest.raises(InputError, match=says):
        first_look(raw, Path(name))
    if name != "b.parquet":
        with pytest.raises(InputError, match=says):
            parse_book(raw, Path(name))


def test_first_look_takes_the_example_books() -> None:
    for path in (ROOT / "examples").glob("*.*"):
        if path.suffix in (".csv", ".json"):
            first_look(path.read_bytes(), path)


def test_a_running_job_says_how_far_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tiergate.workflow import jobs as jobs_module
    from tiergate.workflow.jobs import Jobs, JobState, _Running

    monkeypatch.setattr(jobs_module, "EVERY", 0.0)  # write every change, not every 0.25 s
    jobs = Jobs(tmp_path)
    job = jobs.create("erp", "book.csv", b"item,destination\nH100,DE\n")
    assert jobs.read(job.id) == job
    assert job.state is JobState.QUEUED
    running = _Running(jobs, job)
    seen = []
    for item in running.track(list(range(2_500)), "determining lines"):
        if item in (0, 1_500, 2_499):
            found = jobs.read(job.id)
            assert found is not None
            seen.append((found.stage, found.done, found.total))
    with running.working("writing the answer"):
        found = jobs.read(job.id)
    assert found is not None
    assert seen == [
        ("determining lines", 0, 2_500),
        ("determining lines", 1_000, 2_500),
        ("determining lines", 2_000, 2_500),
    ]
    assert (found.stage, found.done) == ("writing the answer", 2_500)
    assert jobs.read("not-an-id") is None
    assert jobs.read("A" * 22) is None


def test_a_job_whose_process_ended_before_it_is_said_to_have_failed(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tiergate.workflow.jobs import Jobs, JobState

    jobs = Jobs(tmp_path)
    job = jobs.create("erp", "book.csv", b"item,destination\nH100,DE\n")
    assert jobs.read(job.id) == job  # this process runs it
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    state = tmp_path / "jobs" / job.id / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "pid": int(ended.stdout)}))
    found = jobs.read(job.id)
    assert found is not None
    assert (found.state, found.error_status) == (JobState.FAILED, 503)
    assert "ended before it did" in (found.error or "")
