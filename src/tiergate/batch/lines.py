"""A book checked by the columnar path, written as JSON Lines batch by batch: byte for byte
what `outputs.to_jsonl` writes. Each plain line is its own fields around its shape's, each
field encoded by `json` (per distinct value for the line's own, once per shape for the
rest); the other lines are encoded whole, as the row path encodes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import polars as pl

from tiergate.batch.checking import Columns, Determined, Shape
from tiergate.batch.writing import SLICE, Checked
from tiergate.model import passthrough_name
from tiergate.normalise import text

# The fields of `LineResult.as_dict`, in order, by who decides them.
_OWN_FIRST = ("shipment_id", "line_id", "as_of")
_ITEM = ("item", "item_name", "item_type", "eccn", "scope", "tpp", "performance_density")
_OWN_NUMBERS = ("quantity", "value", "total_tpp", "h100_equivalents")
_PLACE = ("destination", "destination_note")
_VERDICT = (
    "consignee_country",
    "transaction",
    "tier",
    "outcome",
    "exception",
    "review_policy",
    "conditions",
    "reasons",
    "errors",
    "uncertain",
    "licence",
    "hold_signature",
    "allowance_debits",
)
FIELDS = (*_OWN_FIRST, *_ITEM, *_OWN_NUMBERS, *_PLACE, "consignee", *_VERDICT)


def _encoded(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _pairs(data: dict[str, Any], names: tuple[str, ...]) -> str:
    return ", ".join(f"{_encoded(name)}: {_encoded(data[name])}" for name in names)


def jsonl_of(found: Columns, header: dict[str, str]) -> Checked:
    """A determined book written as `outputs.to_jsonl` would write it, with `header` (the
    report's view and rulebook version) in every line."""

    def batches() -> Iterator[pl.DataFrame]:
        # A batch's JSON Lines are 0.5 GB of text: made and written a slice at a time.
        shaped = ShapeJson()
        for part in found.batches():
            for piece in part.slices(SLICE):
                yield jsonl_text(piece, header, shaped)

    return Checked("", batches, found.summary)


def jsonl_text(
    part: Determined, header: dict[str, str], shaped: ShapeJson | None = None
) -> pl.DataFrame:
    """A determined batch's JSON Lines (one column, `text`), with `header` in every line
    (`shaped`: the shapes' JSON, worked out for the slice before, when it has the same)."""
    extras = extra_names(part.book.extras, tuple(header))
    ending = "".join(f", {_encoded(k)}: {_encoded(v)}" for k, v in header.items()) + "}"
    # Reasons are remembered by the identity of their tuple, so only while the batch holding
    # them lives: an identity of a batch gone may be taken by another tuple.
    cache: dict[int, list[dict[str, Any]]] = {}
    reserved = tuple(header)
    texts = [_encoded({**r.as_dict(cache, reserved), **header}) for r in part.results]
    own = pl.repeat(None, part.frame.height, dtype=pl.String, eager=True).scatter(
        part.special_rows - part.first, texts
    )
    shapes = (shaped or ShapeJson()).frame(part)
    plain = _plain_texts(part, shapes, extras, ending)
    return pl.DataFrame({"text": plain.zip_with(plain.is_not_null(), own)})


def _plain_texts(
    part: Determined, shapes: pl.DataFrame, extras: list[str], ending: str
) -> pl.Series:
    """Each plain line's JSON text (null for the other lines), in the batch's order, with its
    shape's fields as JSON (`shapes`)."""
    frame = part.frame.join(shapes, on="shape", how="left", maintain_order="left")
    frame = own_json(frame, len(extras))
    units = pl.col("units").cast(pl.String).fill_null("null")
    parts: list[pl.Expr | str] = [
        '{"shipment_id": ',
        pl.col("shipment_id:json"),
        ', "line_id": ',
        pl.col("line_text:json"),
        ', "as_of": "',
        pl.col("as_of_cell"),
        '", ',
        pl.col("item_json"),
        ', "quantity": ',
        units,
        ', "value": ',
        pl.col("value_number:json"),
        ', "total_tpp": ',
        pl.col("total:json"),
        ', "h100_equivalents": ',
        pl.col("h100:json"),
        ", ",
        pl.col("place_json"),
        ', "consignee": ',
        pl.col("consignee:json"),
        ", ",
        pl.col("verdict_json"),
    ]
    for i, name in enumerate(extras):
        parts += [f", {_encoded(name)}: ", pl.col(f"extra:{i}:json")]
    parts.append(ending)
    written = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])
    return frame.select(pl.when(pl.col("plain_line")).then(written).alias("text")).to_series()


class ShapeJson:
    """The JSON of the fields of a batch's shapes (`frame`), worked out once for its slices
    (which share the batch's list of shapes: it is held, so its identity stays its own)."""

    def __init__(self) -> None:
        self._shapes: list[Shape] | None = None
        self._frame = pl.DataFrame()

    def frame(self, part: Determined) -> pl.DataFrame:
        """Each of `part`'s shapes' fields as JSON (row `shape`: its index)."""
        if part.shapes is not self._shapes:
            self._shapes, self._frame = part.shapes, _shape_json(part)
        return self._frame


def _shape_json(part: Determined) -> pl.DataFrame:
    """Each shape's fields as JSON, once per distinct result."""
    cache: dict[int, list[dict[str, Any]]] = {}  # reasons, by their tuple, while `part` lives
    encoded: dict[int, tuple[str, str, str]] = {}
    rows = []
    for shape in part.shapes:
        result = shape.result
        if result is None:
            rows.append(("", "", ""))
            continue
        found = encoded.get(id(result))
        if found is None:
            data = result.as_dict(cache)
            found = (_pairs(data, _ITEM), _pairs(data, _PLACE), _pairs(data, _VERDICT))
            encoded[id(result)] = found
        rows.append(found)
    return pl.DataFrame(
        rows,
        orient="row",
        schema={"item_json": pl.String, "place_json": pl.String, "verdict_json": pl.String},
    ).with_row_index("shape")


def own_json(frame: pl.DataFrame, extras: int, *, ids: bool = True) -> pl.DataFrame:
    """`frame` with the JSON of the values a plain line gives itself (`COLUMN:json`): its
    shipment and line ids (unless `ids` is false: the frame has them), value, consignee and
    `extras` pass-through cells (its totals' come with their cells, `own.own_cells`)."""
    if ids:
        frame = json_column(frame, "shipment_id", strip=True)
        frame = json_column(frame, "line_text")
    frame = json_column(frame, "value_number")
    frame = json_column(frame, "consignee", strip=True)
    for i in range(extras):
        frame = json_column(frame, f"extra:{i}")
    return frame


def extra_names(extras: tuple[str, ...], reserved: tuple[str, ...]) -> list[str]:
    """The names `LineResult.as_dict` gives a book's pass-through columns, in order, when
    the caller adds the `reserved` names after them."""
    taken: dict[str, object] = dict.fromkeys((*reserved, *FIELDS))
    names = []
    for name in extras:
        names.append(passthrough_name(name, taken))
        taken[names[-1]] = None
    return names


def json_column(
    frame: pl.DataFrame,
    column: str,
    *,
    strip: bool = False,
    ascii: bool = False,
    name: str | None = None,
) -> pl.DataFrame:
    """`frame` with `name` (by default `column:json`): each value of `column` as `json`
    encodes it, with `ensure_ascii` as `ascii` says (with `strip`, the value as
    `normalise.text` gives it: stripped, None when blank). A text that JSON writes between
    quotes as it is is quoted by polars; any other value is encoded by `json`, once per
    distinct value."""
    name = name or f"{column}:json"
    values = pl.col(column)
    if frame.schema[column] == pl.String:
        if strip:
            values = values.str.strip_chars()
            values = pl.when(values == "").then(None).otherwise(values)
        quoted = pl.concat_str(pl.lit('"'), values, pl.lit('"'))
        frame = frame.with_columns(
            pl.when(values.is_null())
            .then(pl.lit("null"))
            .when(values.str.contains(_ESCAPED_ASCII if ascii else _ESCAPED))
            .then(None)
            .otherwise(quoted)
            .alias(name)
        )
        rest = frame.filter(pl.col(name).is_null()).get_column(column).unique().to_list()
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
        rest = frame.get_column(column).unique().to_list()
    if not rest:
        return frame
    encoded = [json.dumps(text(v) if strip else v, ensure_ascii=ascii) for v in rest]
    table = pl.DataFrame(
        {column: rest, "encoded": encoded},
        schema={column: frame.schema[column], "encoded": pl.String},
    )
    frame = frame.join(table, on=column, how="left", nulls_equal=True, maintain_order="left")
    return frame.with_columns(pl.coalesce(name, "encoded").alias(name)).drop("encoded")


# What `json` writes other than as it is within a text's quotes: with `ensure_ascii` off, a
# quote, a backslash or a control character; with it on, also anything not printable ASCII.
_ESCAPED = r'["\\\x00-\x1f]'
_ESCAPED_ASCII = r"[^\x20-\x21\x23-\x5b\x5d-\x7e]"
