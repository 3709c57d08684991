"""A CSV book read into columns by polars, when polars reads it exactly as the row reader
(`tiergate.inputs.parse_csv`) does; otherwise the book is left to the row reader.

The row reader reads one record per physical line with Python's `csv` module. polars reads
the same cells from a text without quotes, NUL characters, carriage returns (but in line
ends) or cells longer than `csv`'s field limit, whose every non-blank line has as many cells
as the header: those are the books read here (ERP exports nearly always are). A book with
any of them is read by the row reader, which reports each such row as it always has.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import polars as pl

from tiergate.inputs import PARTY_COLUMNS, delimiter, header
from tiergate.model import LINE_FIELDS

# Every column tiergate reads, by its name in `Line` or in `inputs.PARTY_COLUMNS`.
FIELDS = (*LINE_FIELDS, *PARTY_COLUMNS)
# Characters `str.strip()` removes and polars' `strip_chars()` does not (checked by a test
# over every code point): a book holding one is read by the row reader.
_PYTHON_ONLY_SPACES = "\x1c\x1d\x1e\x1f"
_ROW_READER_ONLY = ('"', "\r", "\x00", *_PYTHON_ONLY_SPACES)
_UNIT_SEPARATOR = "\x1f"  # one of them


@dataclass(frozen=True, slots=True)
class Book:
    """A book in columns: one `pl.String` column per name of `FIELDS` (null where blank or
    absent, as the row reader's None), then the pass-through columns `extra:0`, `extra:1`,
    ... as given, whose names are `extras`."""

    frame: pl.DataFrame
    extras: tuple[str, ...]
    source: str


def read_csv_book(content: str, source: str) -> Book | None:
    """`content` (decoded text) as a `Book`, or None when the row reader must read it (see
    the module docstring); a header the row reader refuses is refused here the same way."""
    # Lines end with \r\n, \r or \n for the row reader; a \r left after \r\n is a line
    # break of its own, or inside a cell: then the row reader reads the book.
    content = content.replace("\r\n", "\n")
    if not content.strip() or any(mark in content for mark in _ROW_READER_ONLY):
        return None
    separator = delimiter(content)
    head, _, rest = content.partition("\n")
    names, keys = header(head.split(separator), source)
    if not rest.strip() or len(head) > csv.field_size_limit():
        return None
    # Each line whole, as one cell: the unit separator never occurs in a book read here.
    lines = pl.read_csv(
        rest.encode(),
        has_header=False,
        separator=_UNIT_SEPARATOR,
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        empty_string_is_null=False,
    ).get_column("line")
    # A line whose cells are all blank is skipped, as the row reader skips it.
    data = lines.filter(lines.str.replace_all(separator, "", literal=True).str.strip_chars() != "")
    cells = len(keys) - 1
    if data.is_empty() or (data.str.count_matches(separator, literal=True) != cells).any():
        return None
    if (data.str.len_chars() > csv.field_size_limit()).any():
        return None  # a cell may be longer than csv reads: the row reader says which
    raw = (
        data.str.split_exact(separator, cells)
        .struct.rename_fields([f"c{i}" for i in range(len(keys))])
        .struct.unnest()
    )
    columns: list[pl.Expr] = []
    extras: list[str] = []
    for i, (key, name) in enumerate(zip(keys, names, strict=True)):
        cell = pl.col(f"c{i}")
        if key in FIELDS:
            columns.append(
                pl.when(cell.str.strip_chars() == "").then(None).otherwise(cell).alias(key)
            )
        else:
            columns.append(cell.alias(f"extra:{len(extras)}"))
            extras.append(name)
    given = set(keys)
    absent = [pl.lit(None, pl.String).alias(name) for name in FIELDS if name not in given]
    frame = raw.select(*columns, *absent)
    return Book(
        frame.select(*FIELDS, *(f"extra:{i}" for i in range(len(extras)))), tuple(extras), source
    )
