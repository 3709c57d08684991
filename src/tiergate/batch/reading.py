"""A CSV book read into columns by polars, when polars reads it exactly as the row reader
(`tiergate.inputs.parse_csv`) does; otherwise the book is left to the row reader.

The row reader reads one record per physical line with Python's `csv` module. polars reads
the same cells from a text without quotes, NUL characters, carriage returns (but in line
ends) or cells longer than `csv`'s field limit, whose every non-blank line has as many cells
as the header: those are the books read here (ERP exports nearly always are). A book with
any of them is read by the row reader, which reports each such row as it always has.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from sys import intern
from typing import Any, BinaryIO

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
# Byte-order marks of the encodings read whole (`textfiles.decode_text`), not a chunk at a time.
_OTHER_MARKS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class NotColumnar(Exception):
    """The book holds what the columnar reader cannot read exactly as the row reader: the
    row path must check it (and report each such row as it always has)."""


@dataclass(frozen=True, slots=True)
class Book:
    """A book in columns, a batch of lines at a time (`frames`): each frame has one
    `pl.String` column per name of `FIELDS` (null where blank or absent, as the row reader's
    None), then the pass-through columns `extra:0`, `extra:1`, ... as given, whose names are
    `extras`. `frames` raises `NotColumnar` where the row path must read the book. `exact`:
    its texts are known to be read by the columnar path as the row path reads them (a CSV
    book's text is looked at before it is read); otherwise the columnar path looks at each
    frame (`exact`)."""

    extras: tuple[str, ...]
    source: str
    frames: Callable[[int], Iterator[pl.DataFrame]]
    exact: bool = False


@dataclass(frozen=True, slots=True)
class Header:
    """How a book's columns (a CSV header's, a typed table's) map to a book's frame."""

    separator: str
    keys: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, line: str, source: str) -> Header:
        separator = delimiter(line)
        names, keys = header(line.split(separator), source)
        return cls(separator, tuple(keys), tuple(names))

    def frame(self, text: str) -> pl.DataFrame:
        """The lines of `text` (after the header) in the book's columns; `NotColumnar` where
        the row reader must read them."""
        # Lines end with \r\n, \r or \n for the row reader; a \r left after \r\n is a
        # line break of its own, or inside a cell. (Replacing costs, even with nothing to
        # replace, a fifth of a second per 1,000,000 lines; looking costs a fiftieth.)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if any(mark in text for mark in _ROW_READER_ONLY):
            raise NotColumnar
        if not text or text.isspace():  # `not text.strip()`, without copying the text
            return _book_frame(pl.DataFrame(), self)
        # Lines in are counted from the text, not from what the parser returned.
        lines = text.count("\n") + (not text.endswith("\n"))
        raw = self._cells(text, lines)
        return _book_frame(self._by_line(text, lines) if raw is None else raw, self)

    def _cells(self, text: str, lines: int) -> pl.DataFrame | None:
        """The cells of `text`'s lines but its blank lines (`c0`, `c1`, ...), read by polars
        at the separator, where every line has as many cells as the header: polars refuses
        a line of more; then the separators of the text number one less than the cells of
        each line exactly when no line has fewer. None otherwise (`_by_line` says more)."""
        names = [f"c{i}" for i in range(len(self.keys))]
        # polars takes a last line without its line break even with a cell too many.
        ended = text if text.endswith("\n") else f"{text}\n"
        try:
            raw = pl.read_csv(
                ended.encode(),
                has_header=False,
                separator=self.separator,
                quote_char=None,
                infer_schema=False,
                new_columns=names,
                empty_string_is_null=False,
            )
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            return None
        if raw.height != lines or text.count(self.separator) != lines * (len(names) - 1):
            return None
        # A line whose cells are all blank is skipped, as the row reader skips it (its first
        # cell is blank: the others are read for those lines only).
        maybe = raw.with_row_index("at").filter(pl.col("c0").str.strip_chars() == "")
        if maybe.height:
            blank = maybe.filter(pl.all_horizontal(pl.col(names).str.strip_chars() == ""))
            raw = raw.with_row_index("at").join(blank, on="at", how="anti").drop("at")
        longest = raw.select(pl.max_horizontal(pl.col(names).str.len_bytes().max())).item()
        if longest is not None and longest > csv.field_size_limit():
            most = raw.select(pl.max_horizontal(pl.col(names).str.len_chars().max())).item()
            if most > csv.field_size_limit():
                raise NotColumnar  # a cell longer than csv reads: the row reader says which
        return raw

    def _by_line(self, text: str, lines: int) -> pl.DataFrame:
        """The cells of `text`'s lines but its blank lines, each line read whole then split
        at the separator; `NotColumnar` where some line has more or fewer cells than the
        header, or a cell longer than `csv` reads."""
        # Each line whole, as one cell: the unit separator never occurs in a book read here.
        found = pl.read_csv(
            text.encode(),
            has_header=False,
            separator=_UNIT_SEPARATOR,
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            empty_string_is_null=False,
        ).get_column("line")
        if found.len() != lines:
            raise NotColumnar
        # A line whose cells are all blank is skipped, as the row reader skips it.
        blank = found.str.replace_all(self.separator, "", literal=True).str.strip_chars() == ""
        data = found.filter(~blank)
        cells = len(self.keys) - 1
        if (data.str.count_matches(self.separator, literal=True) != cells).any():
            raise NotColumnar
        if (data.str.len_chars() > csv.field_size_limit()).any():
            raise NotColumnar  # a cell may be longer than csv reads: the row reader says which
        return (
            data.str.split_exact(self.separator, cells)
            .struct.rename_fields([f"c{i}" for i in range(len(self.keys))])
            .struct.unnest()
        )

    @property
    def extras(self) -> tuple[str, ...]:
        return tuple(n for n, k in zip(self.names, self.keys, strict=True) if k not in FIELDS)


def frame_book(
    frame: pl.DataFrame, extras: tuple[str, ...], source: str, *, exact: bool = False
) -> Book:
    """A book held whole as one frame, given in slices (`Book` says what `exact` is)."""

    def frames(size: int) -> Iterator[pl.DataFrame]:
        for first in range(0, frame.height, size):
            yield frame.slice(first, size)

    return Book(extras, source, frames, exact)


def exact(frame: pl.DataFrame) -> bool:
    """Whether the columnar path reads every text of `frame` as the row path does: none holds
    a NUL or a character `str.strip` and polars strip differently (a CSV book read here
    never does; a Parquet book may)."""
    marks = ["\x00", *_PYTHON_ONLY_SPACES]
    found = frame.select(pl.any_horizontal(pl.col(pl.String).str.contains_any(marks)).any())
    return not found.item()


def read_csv_book(content: str, source: str) -> Book | None:
    """`content` (decoded text) as a `Book`, or None when the row reader must read it (see
    the module docstring); a header the row reader refuses is refused here the same way."""
    content = content.replace("\r\n", "\n")
    head, _, rest = content.partition("\n")
    if not head.strip() or any(mark in head for mark in _ROW_READER_ONLY):
        return None
    found = Header.of(head, source)
    if len(head) > csv.field_size_limit():
        return None
    try:
        frame = found.frame(rest)
    except NotColumnar:
        return None
    if frame.is_empty():
        return None
    return frame_book(frame, found.extras, source, exact=True)


def open_csv_book(path: Path) -> Book | None:
    """The UTF-8 CSV book at `path`, read a frame's lines at a time as its frames are asked
    for (each time the book is read again), or None when it must be read whole (a UTF-16 or
    UTF-32 book) or by the row reader. A book that changes while it is read is an error."""
    with path.open("rb") as handle:
        first = handle.readline()
    if first.startswith(_OTHER_MARKS):
        return None
    skip = len(codecs.BOM_UTF8) if first.startswith(codecs.BOM_UTF8) else 0
    try:
        head = first[skip:].decode("utf-8").rstrip("\n").removesuffix("\r")
    except UnicodeDecodeError:
        return None
    if not head.strip() or any(mark in head for mark in _ROW_READER_ONLY):
        return None
    if len(head) > csv.field_size_limit():
        return None
    found = Header.of(head, str(path))
    seen = _stamp(path)

    def frames(size: int) -> Iterator[pl.DataFrame]:
        with path.open("rb") as handle:
            handle.readline()
            for chunk in line_chunks(handle, size):
                try:
                    text = chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise NotColumnar from exc
                yield found.frame(text)
        if _stamp(path) != seen:
            raise InputError(f"input `{path}` changed while it was being checked: check it again")

    return Book(found.extras, str(path), frames, exact=True)


# Bytes read at a time by `line_chunks`.
_BLOCK = 1 << 20


def line_chunks(handle: BinaryIO, size: int, block: int = _BLOCK) -> Iterator[bytes]:
    """The rest of `handle` in chunks of `size` lines each (a line ends after b"\\n", as
    iterating a binary file splits them), the last chunk holding what is left (its last
    line may have no line break); read `block` bytes at a time, not a line at a time."""
    if size < 1:
        raise ValueError(f"a chunk holds at least one line, not {size}")
    pending: list[bytes] = []
    count = 0  # the line breaks in `pending`
    while read := handle.read(block):
        pending.append(read)
        count += read.count(b"\n")
        if count < size:
            continue
        text, start = b"".join(pending), 0
        while count >= size:
            cut = _after_breaks(text, start, size, count)
            yield text[start:cut]
            start, count = cut, count - size
        pending = [text[start:]]
    if tail := b"".join(pending):
        yield tail


def _after_breaks(text: bytes, start: int, n: int, count: int) -> int:
    """Where the `n`th line break of `text` from `start` ends (`text[start:]` holds `count`
    of them, at least `n`): found from whichever end is nearer in line breaks."""
    if n <= count - n:
        for _ in range(n):
            start = text.index(b"\n", start) + 1
        return start
    end = len(text)
    for _ in range(count - n + 1):
        end = text.rindex(b"\n", start, end)
    return end + 1


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _book_frame(raw: pl.DataFrame, found: Header) -> pl.DataFrame:
    """`raw`'s text columns (`c0`, `c1`, ...; none at all for no lines) as a book's frame."""
    extras = [f"extra:{i}" for i in range(len(found.extras))]
    if raw.width == 0:
        return pl.DataFrame(schema=dict.fromkeys([*FIELDS, *extras], pl.String))
    columns: list[pl.Expr] = []
    names = iter(extras)
    for i, key in enumerate(found.keys):
        cell = pl.col(f"c{i}")
        if key in FIELDS:
            columns.append(
                pl.when(cell.str.strip_chars() == "").then(None).otherwise(cell).alias(key)
            )
        else:
            columns.append(cell.alias(next(names)))
    given = set(found.keys)
    absent = [pl.lit(None, pl.String).alias(name) for name in FIELDS if name not in given]
    return raw.select(*columns, *absent).select(*FIELDS, *extras)


def read_parquet_book(raw: bytes, source: str) -> Book:
    """A Parquet book: one line per row, read as `typed_book_frame` reads a table."""
    try:
        table = pl.read_parquet(io.BytesIO(raw))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"input `{source}` cannot be read as Parquet: {exc}") from exc
    found = typed_header(table.schema, source)
    if table.height == 0:
        raise InputError(f"input `{source}` has a header but no lines")
    return frame_book(typed_book_frame(table, found, source), found.extras, source)


def open_parquet_book(path: Path) -> Book:
    """The Parquet book at `path`, read a frame's lines at a time (polars' streaming reader)
    as its frames are asked for, each row read as `read_parquet_book` reads it. A book that
    changes while it is read is an error."""
    source = str(path)
    try:
        found = typed_header(pl.Schema(pl.read_parquet_schema(path)), source)
        lines = pl.scan_parquet(path).select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"input `{source}` cannot be read as Parquet: {exc}") from exc
    if lines == 0:
        raise InputError(f"input `{source}` has a header but no lines")
    seen = _stamp(path)

    def frames(size: int) -> Iterator[pl.DataFrame]:
        read = 0
        for table in pl.scan_parquet(path).collect_batches(chunk_size=size):
            read += table.height
            yield typed_book_frame(table, found, source)
        if _stamp(path) != seen:
            raise InputError(f"input `{path}` changed while it was being checked: check it again")
        # Lines in are the rows the file says it holds, not what the reader returned.
        if read != lines:
            raise InputError(f"input `{path}` holds {lines} rows, but {read} were read")

    return Book(found.extras, source, frames)


def typed_header(schema: pl.Schema, source: str) -> Header:
    """How a table of typed columns (Parquet's, Spark's) maps to a book's frame: its columns
    matched by name as a CSV header's are; a column of lists or records is refused."""
    names, keys = header([str(name) for name in schema.names()], source)
    nested = [n for n, kind in schema.items() if isinstance(kind, pl.List | pl.Struct | pl.Array)]
    if nested:
        raise InputError(
            f"input `{source}` column `{nested[0]}` holds lists or records: expected text, "
            "numbers, dates or true/false"
        )
    return Header(",", tuple(keys), tuple(names))


def typed_book_frame(table: pl.DataFrame, found: Header, source: str) -> pl.DataFrame:
    """A table of typed columns as a book's frame (`found`: `typed_header`), every value read
    as text (numbers as Python writes them, dates as YYYY-MM-DD)."""
    try:
        texts = table.select(pl.all().cast(pl.String))
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"input `{source}` has a column tiergate cannot read as text: {exc}"
        ) from exc
    return _book_frame(
        texts.rename(dict(zip(texts.columns, (f"c{i}" for i in range(texts.width)), strict=True))),
        found,
    )


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
    lines: list[Line] = []
    for frame in book.frames(100_000):
        lines.extend(frame_lines(frame, book.extras))
    return lines


def frame_lines(
    frame: pl.DataFrame, extras: tuple[str, ...], shared: frozenset[str] = frozenset()
) -> list[Line]:
    """The `Line` of each row of `frame` (a book's columns), as `line_of` makes it, read a
    column at a time; the texts of the columns named in `shared` are interned (shared with
    every other line that gives them)."""

    def values(name: str) -> list[Any]:
        column = frame.get_column(name).to_list()
        if name in shared:
            return [intern(value) if isinstance(value, str) else value for value in column]
        return column

    given = len(LINE_FIELDS)
    columns = [values(name) for name in FIELDS]
    columns += [frame.get_column(f"extra:{i}").to_list() for i in range(len(extras))]
    # `Line`'s first fields are `LINE_FIELDS`, in order (a test compares with `line_of`).
    return [
        Line(  # type: ignore[misc]
            *row[:given],
            consignee=Party(*row[given : given + 3]),
            end_user=Party(*row[given + 3 : given + 6]),
            extra=dict(zip(extras, row[given + 6 :], strict=True)),
        )
        for row in zip(*columns, strict=True)
    ]
