"""CSV rows counted from the file itself: one record per physical line, never swallowed.

The `csv` module lets a quoted cell run over line breaks, so one stray `"` can swallow every
row after it into a single cell, and a count of what the parser returned then hides the loss.
Books and party files hold one record per line, so a quoted cell that runs past the end of its
line is an error of that row, and reading goes on at the next line.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tiergate.errors import InputError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Record:
    """One physical line of a CSV file: its cells, or why they cannot be read."""

    row: int  # 1-based line number in the file (the header is row 1)
    cells: list[str] | None
    error: str | None = None


def csv_records(content: str, delimiter: str = ",") -> Iterator[Record]:
    """Every physical line of `content` as a `Record`, blank lines included (as `[]`)."""
    lines = _LINE_BREAK.split(content)
    if lines and lines[-1] == "":
        lines.pop()  # the break that ends the last line opens no new one
    start = 0
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None), delimiter=delimiter, strict=True)
        read = 0  # physical lines the reader has consumed
        try:
            for cells in reader:
                if reader.line_num - read > 1:
                    break  # a quoted cell went on past its line: the row is unreadable
                read = reader.line_num
                yield Record(start + read, cells)
            else:
                return
        except csv.Error as exc:
            row = start + read + 1
            why = (
                f"a cell is longer than {csv.field_size_limit():,} characters"
                if "field limit" in str(exc)
                else f"{exc} (a quoted cell must close on its own row)"
            )
            yield Record(row, None, f"row {row} cannot be read as CSV: {why}")
            start += read + 1
            continue
        opened = start + read + 1
        yield Record(
            opened,
            None,
            f"row {opened}: a quoted cell opened on this row is not closed before the end of "
            "the row (one record per line)",
        )
        start = opened  # read on from the line after the one whose quote ran away


def refuse_duplicate_columns(keys: list[str], what: str) -> None:
    """Refuse a header that names a column twice (compared case-insensitively): which of the
    two cells a line means cannot be known, and keeping either one would be silent."""
    seen: dict[str, int] = {}
    for number, key in enumerate(keys, start=1):
        if key and key in seen:
            raise InputError(
                f"{what} has the column `{key}` twice (columns {seen[key]} and {number}): "
                "each column must appear once"
            )
        seen[key] = number
