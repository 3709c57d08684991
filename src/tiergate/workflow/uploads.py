"""A book sent as bytes (an HTTP upload) checked, or committed, and its answer written as
JSON Lines, as `tiergate check BOOK --format jsonl` writes it.

A CSV or Parquet book the columnar path takes (`tiergate.batch`) goes that way: its bytes
are written to a file beside the tiergate home's others, and the book is read from there a
batch at a time, so a big upload costs the memory of a batch rather than an object for
every line. Any other book takes the row path (`Workspace.check_bytes`). Either way the lines
are those the ledger recorded, and the answer is written only once the ledger has recorded
the check: a failure leaves no answer.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tiergate.terms import View

if TYPE_CHECKING:
    from collections.abc import Callable

    from tiergate.batch.checking import Columns
    from tiergate.workflow import Workspace


@dataclass(frozen=True, slots=True)
class Answered:
    """What an upload's check gave: its lines, its summary and the SHA-256 of its bytes."""

    lines: int
    summary: dict[str, Any]  # `Summary.as_dict`
    input_hash: str


def columns_writer(found: Columns, format: str, view: View) -> Callable[[BinaryIO], None]:
    """What writes a book the columnar path determined in `format` (csv, json, jsonl or
    parquet) to a binary handle."""
    from tiergate.batch.document import json_of
    from tiergate.batch.lines import jsonl_of
    from tiergate.batch.table import write_parquet
    from tiergate.batch.writing import csv_of

    if format == "parquet":
        return partial(write_parquet, found)
    if format == "json":
        return json_of(found).write
    if format == "jsonl":
        header = {"view": view.value, "rulebook_version": found.engine.rulebook.version}
        return jsonl_of(found, header).write
    return csv_of(found).write


def check_upload(
    workspace: Workspace,
    raw: bytes,
    name: str,
    into: BinaryIO,
    *,
    as_of: date | None = None,
    view: View = View.ENFORCED,
    screen: bool = True,
    commit: bool = False,
    reserve: bool = True,
    actor: str = "library",
) -> Answered:
    """Check (or commit) the book `raw`, named `name` (its extension its format), and write
    its JSON Lines answer to `into`."""
    from tiergate.errors import UsageError
    from tiergate.outputs import to_jsonl

    if commit and not reserve:
        raise UsageError("a commit uses the check's reservations: reserve is for checks only")
    path = Path(name)
    if path.suffix.casefold() in (".csv", ".parquet"):
        folder = workspace.settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            kept = Path(scratch) / path.name
            kept.write_bytes(raw)
            if workspace.takes_columns(kept):
                with workspace.progress.working("determining the lines"):
                    found = _columnar(
                        workspace, kept, name, as_of, view, screen, commit, reserve, actor
                    )
                if found is not None:
                    with workspace.progress.working("writing the answer"):
                        columns_writer(found, "jsonl", view)(into)
                    digest = hashlib.sha256(raw).hexdigest()
                    return Answered(found.lines, found.summary.as_dict(), digest)
    checked = workspace.check_bytes(
        raw,
        path,
        as_of=as_of,
        view=view,
        screen=screen,
        commit=commit,
        reserve=reserve,
        actor=actor,
    )
    with workspace.progress.working("writing the answer"):
        into.write(to_jsonl(checked.report).encode())
    summary = checked.report.summary
    return Answered(summary.lines_out, summary.as_dict(), checked.input_hash)


def _columnar(
    workspace: Workspace,
    path: Path,
    source: str,
    as_of: date | None,
    view: View,
    screen: bool,
    commit: bool,
    reserve: bool,
    actor: str,
) -> Columns | None:
    if commit:
        done = workspace.commit_columnar(
            path, as_of=as_of, view=view, screen=screen, actor=actor, source=source
        )
        return None if done is None else done[0]
    return workspace.check_columnar(
        path, as_of=as_of, view=view, screen=screen, reserve=reserve, actor=actor, source=source
    )
