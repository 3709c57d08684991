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
import io
from dataclasses import dataclass
from typing import Any

import polars as pl

from tiergate.errors import InputError
from tiergate.inputs import PARTY_COLUMNS, delimiter, header
from tiergate.model import LINE_FIELDS, Line, Party
from tiergate.terms import Raw

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
    return _book(raw, keys, names, source)


def _book(raw: pl.DataFrame, keys: list[str], names: list[str], source: str) -> Book:
    """The book of `raw`'s text columns, named by `keys` (matched) and `names` (as given)."""
    columns: list[pl.Expr] = []
    extras: list[str] = []
    for column, key, name in zip(raw.columns, keys, names, strict=True):
        cell = pl.col(column)
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


def read_parquet_book(raw: bytes, source: str) -> Book:
    """A Parquet book: one line per row, its columns matched by name as a CSV header's are,
    every value read as text (numbers as Python writes them, dates as YYYY-MM-DD)."""
    try:
        table = pl.read_parquet(io.BytesIO(raw))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"input `{source}` cannot be read as Parquet: {exc}") from exc
    names, keys = header([str(name) for name in table.columns], source)
    nested = [
        n for n, kind in table.schema.items() if isinstance(kind, pl.List | pl.Struct | pl.Array)
    ]
    if nested:
        raise InputError(
            f"input `{source}` column `{nested[0]}` holds lists or records: expected text, "
            "numbers, dates or true/false"
        )
    if table.height == 0:
        raise InputError(f"input `{source}` has a header but no lines")
    try:
        texts = table.select(pl.all().cast(pl.String))
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"input `{source}` has a column tiergate cannot read as text: {exc}"
        ) from exc
    return _book(texts, keys, names, source)


def exact(book: Book) -> bool:
    """Whether the columnar path reads every text of `book` as the row path does: no text
    holds a NUL or a character that `str.strip` and polars strip differently (a CSV book
    read here never does; a Parquet book may)."""
    marks = ["\x00", *_PYTHON_ONLY_SPACES]
    found = book.frame.select(pl.any_horizontal(pl.col(pl.String).str.contains_any(marks)).any())
    return not found.item()


def line_of(values: dict[str, Any], extra: dict[str, Raw] | None = None) -> Line:
    """The `Line` the row reader makes of a row's `values` (by `FIELDS` name; absent: None)."""
    fields: dict[str, Raw] = {name: values.get(name) for name in FIELDS}
    return Line(
        **{name: fields[name] for name in LINE_FIELDS},  # type: ignore[arg-type]  # Raw values
        consignee=Party(
            fields["consignee"], fields["consignee_country"], fields["consignee_hq_country"]
        ),
        end_user=Party(
            fields["end_user"], fields["end_user_country"], fields["end_user_hq_country"]
        ),
        extra=extra or {},
    )


def book_lines(book: Book) -> list[Line]:
    """Every line of `book` as the row path's `Line`."""
    return [
        line_of(row, {name: row[f"extra:{i}"] for i, name in enumerate(book.extras)})
        for row in book.frame.iter_rows(named=True)
    ]
