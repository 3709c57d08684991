"""A book determined by the columnar path, as the ledger takes it to commit it or to audit
its check (`CheckedBook`), a batch at a time (`Part`), in book order.

Most lines of a book are plain (they share their shape's verdict) and have nothing for the
ledger to weigh but their outcome: no allowance debit, no licence, no hold, no other line or
committed line with their ids. Those are given by their fields, worked out from columns: the
audit entry's rules and reasons once per shape, the content from the line's cells, and the
hash of the line's canonical JSON over text put together from its shape's members (written
once per shape) and its own (written once per distinct value), byte for byte `LineTexts.line`
of its result. Every other line is given as the row path's `LineResult`: a plain line's is
its shape's result with the line's own values (the fields `Verdicts.build` takes from the
line), the others come from the engine. No rule is written here: the ledger weighs every
line with its own code.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace

import polars as pl
from polars_hash import CryptographicHashingNameSpace

from tiergate.batch.checking import BATCH, SHARED_TEXTS, Columns, Determined, Shape
from tiergate.batch.lines import FIELDS as RESULT_FIELDS
from tiergate.batch.lines import extra_names, json_column, own_json
from tiergate.batch.own import ID_TEXTS, ids_among
from tiergate.batch.reading import Book, frame_lines
from tiergate.behind import ahead
from tiergate.ledger.amounts import exact
from tiergate.ledger.books import ROW_NAMES, CheckedBook, Keys, Part
from tiergate.ledger.canonical import LineTexts, canonical
from tiergate.model import CONTENT_COLUMNS, SHIPPABLE, LineResult, Outcome
from tiergate.normalise import text


def checked_book(found: Columns, keys: Keys) -> CheckedBook:
    """The book `found` determined, as the ledger takes it; `keys` holds every line's ids
    (`book_keys`)."""
    drawing = [line for line in found.settled() if line.debits or line.licence is not None]
    lines = _Lines(found)
    return CheckedBook(
        lines.given,
        keys,
        drawing,
        frozenset(found.summary.duplicate_ids),
        found.engine.rulebook.version,
        found.engine.editions(),
    )


def book_keys(book: Book) -> Keys:
    """Every line's ids (shipment_id, line_id) as the row path gives them: stripped, a
    missing line id numbered by the line's place in the book."""
    given = []
    first = 0
    for frame in book.frames(BATCH):
        given.append(frame.with_row_index("row", offset=first).select(**ID_TEXTS))
        first += frame.height
    if not given:
        return Keys()
    ids = pl.concat(given)
    shipments = ids.get_column("shipment_text").unique().to_list()
    return Keys(ids.iter_rows, shipments, count=ids.n_unique())


# The fields of a plain line's result that are its own (`Verdicts.build`), with the JSON of
# each as a column (worked out by `_own_members`).
_OWN = ("shipment_id", "line_id", "as_of", "quantity", "value", "total_tpp", "h100_equivalents")
_OWN_FIELDS = frozenset({*_OWN, "consignee"})
# Shape results whose audit fields and canonical pieces are remembered (about 3 KB each).
AUDITS_KEPT = 100_000
# What a shape's lines record in the ledger: destination, ECCN, outcome, exception, the list
# of the rules of their reasons (its key and canonical text: `LineTexts.rules`), their
# reasons' canonical text as lists, and the canonical text of their audit entry after their
# ids (an entry: `Decisions`).
_Audit = tuple[str | None, str | None, Outcome, str | None, tuple[str, str], str, str]
# The debits of a line that debits nothing, as the column writes them.
_NO_DEBITS = json.dumps([])


def _text(column: str) -> pl.Expr:
    """`column` as `normalise.text` gives each value: stripped, None when blank (the book's
    texts strip alike in polars and in Python: `batch.reading`)."""
    stripped = pl.col(column).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


@dataclass
class _Lines:
    """The lines of a determined book, for the ledger (`given`)."""

    found: Columns
    texts: LineTexts = field(default_factory=LineTexts)
    # Per shape result (kept with it, so its identity is never another's): its audit fields,
    # and, for a shape whose lines may ship, the canonical text of its members around the
    # line's own.
    shaped: dict[int, tuple[LineResult, _Audit]] = field(default_factory=dict)
    pieces: dict[int, tuple[LineResult, list[str]]] = field(default_factory=dict)

    def given(self, committed: Collection[tuple[str, str]] | None) -> Iterator[Part]:
        """Every line in book order, a batch at a time; `committed` holds the ids of the
        book's lines committed before (such a line is never plain), or is None for a check
        that commits nothing (its plain lines need no row)."""
        rows = committed is not None
        # A line whose ids a line committed before carries, or (as the ledger writes ids it
        # refuses: `shipment_id/line_id`) more than one line, is weighed by the ledger.
        keyed = pl.concat_str("shipment_text", "line_text", separator="/")
        repeated = pl.Series(
            list(self.found.summary.duplicate_ids) if rows else [], dtype=pl.String
        )
        weighed = ids_among(committed or ()) | keyed.is_in(repeated.implode())
        # The next batch's lines are worked out (mostly in polars) while the ledger weighs
        # the lines before them.
        yield from ahead(self._part(part, weighed, rows=rows) for part in self.found.batches())

    def _part(self, part: Determined, weighed: pl.Expr, *, rows: bool) -> Part:
        """A batch's lines: plain where the ledger has nothing to weigh (`weighed` lines are
        not plain)."""
        simple = pl.col("plain_line") & ~weighed
        frame = part.frame.with_columns(simple=simple)
        results: list[LineResult | None] = [None] * frame.height
        for row, result in zip(part.special_rows.to_list(), part.results, strict=True):
            results[row - part.first] = result
        hard = frame.filter(pl.col("plain_line") & ~pl.col("simple"))
        for row, result in zip(hard.get_column("row").to_list(), _results(part, hard), strict=True):
            results[row - part.first] = result
        plain = frame.get_column("simple").to_list()
        if sum(result is None for result in results) != sum(plain):
            raise RuntimeError(f"a batch of {frame.height} lines was not given whole")
        return self._plain(part, frame, results, rows=rows)

    def _plain(
        self, part: Determined, frame: pl.DataFrame, results: list[LineResult | None], *, rows: bool
    ) -> Part:
        """The batch's `Part`: the plain lines' (`frame`'s `simple` lines) audit entries and
        reasons at their places, their ids and outcomes; with `rows`, the row of each that
        may ship."""
        shapes = frame.select(pl.when("simple").then("shape")).to_series().to_list()
        known = {shape: self._shaped(part.shapes[shape]) for shape in set(shapes) - {None}}
        listed = {shape: audit[5] for shape, (_, audit) in known.items()}
        table = pl.DataFrame(
            [
                (shape, audit[0], audit[1], audit[3], audit[6])
                for shape, (_, audit) in known.items()
            ],
            orient="row",
            schema={
                "shape": frame.schema["shape"],
                "shape:destination": pl.String,
                "shape:eccn": pl.String,
                "shape:exception": pl.String,
                "shape:tail": pl.String,
            },
        )
        simple = json_column(frame.filter("simple"), "shipment_id", strip=True)
        simple = json_column(simple, "line_text")
        simple = simple.join(table, on="shape", how="left", maintain_order="left")
        # A plain line's audit entry: [shipment_id, line_id, then its shape's members].
        entry = pl.concat_str(
            pl.lit("["),
            "shipment_id:json",
            pl.lit(","),
            "line_text:json",
            pl.lit(","),
            "shape:tail",
        )
        entries = (
            frame.select("row")
            .join(simple.select("row", entry=entry), on="row", how="left", maintain_order="left")
            .get_column("entry")
            .to_list()
        )
        place = (pl.col("row") - part.first).cast(pl.UInt32).alias("place")
        # A plain line's outcome is its shape's (the frame's `outcome`).
        plain = simple.select(
            place, shipment_id="shipment_text", line_id="line_text", outcome="outcome"
        )
        written = None
        if rows:
            shipping = [outcome.value for outcome in SHIPPABLE]
            ships = own_json(
                simple.filter(pl.col("outcome").is_in(shipping)),
                len(self.found.book.extras),
                ids=False,
            )
            written = self._rows(part, ships).select(place, *ROW_NAMES)
        held = simple.filter(pl.col("outcome") == Outcome.HOLD.value)
        return Part(
            results,
            entries,
            list(map(listed.get, shapes)),
            rules=[audit[4] for _, audit in known.values()],
            plain=plain,
            rows=written,
            held=[
                (shipment_id, line_id, known[shape][0])
                for shipment_id, line_id, shape in held.select(
                    _text("shipment_id"), "line_text", "shape"
                ).iter_rows()
            ],
        )

    def _rows(self, part: Determined, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` (plain lines that may ship, with their own values' JSON and their shapes'
        fields) with the columns of each line's committed row (`ROW_NAMES`) as stored."""
        frame, canonical_text = self._canonical(part, frame)
        totals = frame.get_column("total").unique().to_list()
        exact_totals = pl.DataFrame(
            {"total": totals, "total_tpp": [None if t is None else str(exact(t)) for t in totals]},
            schema={"total": frame.schema["total"], "total_tpp": pl.String},
        )
        frame = frame.join(
            exact_totals, on="total", how="left", nulls_equal=True, maintain_order="left"
        )
        return frame.with_columns(
            shipment_id="shipment_text",
            line_id="line_text",
            as_of="as_of_cell",
            destination="shape:destination",
            eccn="shape:eccn",
            quantity="units",
            exception="shape:exception",
            input_hash=_sha256(canonical_text),
            debits=pl.lit(_NO_DEBITS),
            content=_contents(frame),
        )

    def _shaped(self, shape: Shape) -> tuple[LineResult, _Audit]:
        """A plain shape's result and its audit fields."""
        result = shape.result
        assert result is not None  # a plain line's shape has a result
        found = self.shaped.get(id(result))
        if found is None:
            if len(self.shaped) >= AUDITS_KEPT:
                self.shaped.clear()  # a book of ever new shapes does not fill memory
            rules = self.texts.rules(result.reasons)
            fields = (
                result.destination,
                result.eccn,
                result.outcome,
                result.exception,
                rules,
                self.texts.listed(result.reasons),
                canonical([result.outcome.value, result.exception, None, rules[0]])[1:],
            )
            found = self.shaped[id(result)] = (result, fields)
        return found

    def _pieces_of(self, shape: Shape) -> list[str]:
        """A plain shape's canonical text's pieces (`_pieces`)."""
        result = shape.result
        assert result is not None  # a plain line's shape has a result
        found = self.pieces.get(id(result))
        if found is None:
            if len(self.pieces) >= AUDITS_KEPT:
                self.pieces.clear()
            found = self.pieces[id(result)] = (result, _pieces(result, self._keys()))
        return found[1]

    def _keys(self) -> list[str]:
        """Every member of a line's canonical JSON, in order."""
        return sorted({*RESULT_FIELDS, *extra_names(self.found.book.extras, ())})

    def _canonical(self, part: Determined, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
        """Each line's canonical JSON text (the expression, over the frame given with it): its
        shape's pieces around its own members."""
        keys = self._keys()
        own = [key for key in keys if key not in RESULT_FIELDS or key in _OWN_FIELDS]
        shapes = sorted(set(frame.get_column("shape").to_list()))
        table = pl.DataFrame(
            [(shape, *self._pieces_of(part.shapes[shape])) for shape in shapes],
            orient="row",
            schema={"shape": pl.UInt32, **{f"piece:{i}": pl.String for i in range(len(own) + 1)}},
        )
        frame = _own_members(
            frame.join(table, on="shape", how="left", maintain_order="left"), self.found.book
        )
        parts: list[pl.Expr] = [pl.col("piece:0")]
        for i, key in enumerate(own):
            parts += [pl.col(f"own:{key}"), pl.col(f"piece:{i + 1}")]
        return frame, pl.concat_str(parts)


def _sha256(text: pl.Expr) -> pl.Expr:
    """The SHA-256 of each `text` as UTF-8, in hex, as `hashlib` writes it: taken by polars
    (`polars-hash`), off the interpreter's lock and without a Python object per line."""
    return CryptographicHashingNameSpace(text).sha2_256()


def _pieces(result: LineResult, keys: list[str]) -> list[str]:
    """The canonical JSON text of `result`'s members (its shape's) between the members a
    line gives itself, each of those left as its key: `"key":`."""
    data = result.as_dict()
    pieces, current = [], "{"
    for n, key in enumerate(keys):
        member = f"{',' if n else ''}{canonical(key)}:"
        if key not in RESULT_FIELDS or key in _OWN_FIELDS:
            pieces.append(current + member)
            current = ""
        else:
            current += member + canonical(data[key])
    pieces.append(current + "}")
    return pieces


def _own_members(frame: pl.DataFrame, book: Book) -> pl.DataFrame:
    """`frame` (with the JSON of each line's own values: `own_json`) with `own:KEY`, the JSON
    of each member a line gives itself."""
    columns = {
        "own:shipment_id": pl.col("shipment_id:json"),
        "own:line_id": pl.col("line_text:json"),
        "own:as_of": pl.concat_str(pl.lit('"'), "as_of_cell", pl.lit('"')),
        "own:quantity": pl.col("units").cast(pl.String).fill_null("null"),
        "own:value": pl.col("value_number:json"),
        "own:total_tpp": pl.col("total:json"),
        "own:h100_equivalents": pl.col("h100:json"),
        "own:consignee": pl.col("consignee:json"),
    }
    # A name two pass-through columns take is the last one's, as in `LineResult.as_dict`.
    for i, name in enumerate(extra_names(book.extras, ())):
        columns[f"own:{name}"] = pl.col(f"extra:{i}:json")
    return frame.with_columns(**columns)


def _contents(frame: pl.DataFrame) -> pl.Series:
    """Each line's content (`line_content`) as its column writes it (`json.dumps`), in
    order: every key in `CONTENT_COLUMNS`' order, a blank one left out, with quantity and
    value as parsed."""
    members = []
    for key, column in CONTENT_COLUMNS:
        if key == "quantity":
            frame = frame.with_columns(pl.col("units").cast(pl.String).alias("units:text"))
            frame = json_column(frame, "units:text", ascii=True, name=f"content:{key}")
        elif key == "value":
            frame = _repr_json(frame, "value_number", f"content:{key}")
        elif frame[column].null_count() < frame.height:
            frame = json_column(frame, column, strip=True, ascii=True, name=f"content:{key}")
        else:
            continue  # a column blank on every line gives nothing
        value = pl.col(f"content:{key}")
        member = pl.concat_str(pl.lit(f"{json.dumps(key)}: "), value)
        members.append(pl.when(value == "null").then(None).otherwise(member))
    return frame.select(
        pl.concat_str(
            pl.lit("{"), pl.concat_str(members, separator=", ", ignore_nulls=True), pl.lit("}")
        )
    ).to_series()


def _repr_json(frame: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """`frame` with `name`: the JSON of the text `repr` writes of each number of `column`
    ("null" for none), worked out once per distinct number."""
    numbers = frame.get_column(column).unique().to_list()
    written = ["null" if n is None else json.dumps(repr(n)) for n in numbers]
    table = pl.DataFrame(
        {column: numbers, name: written}, schema={column: frame.schema[column], name: pl.String}
    )
    return frame.join(table, on=column, how="left", nulls_equal=True, maintain_order="left")


def _results(part: Determined, plain: pl.DataFrame) -> list[LineResult]:
    """The row path's result of each of these plain lines of `part`, in order: its shape's
    result with its own values."""
    sources = frame_lines(plain, part.book.extras, SHARED_TEXTS)
    own = plain.select("shape", "line_text", "on", "units", "value_number", "total", "h100")
    found = []
    for line, (shape, line_id, on, units, value, total, h100) in zip(
        sources, own.iter_rows(), strict=True
    ):
        shaped = part.shapes[shape].result
        assert shaped is not None  # a plain line's shape has a result
        found.append(
            replace(
                shaped,
                shipment_id=text(line.shipment_id),
                line_id=line_id,
                as_of=on,
                quantity=units,
                total_tpp=total,
                h100_equivalents=h100,
                extra=line.extra,
                value=value,
                source=line,
            )
        )
    return found
