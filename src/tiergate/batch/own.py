"""A line's own cells in the columnar path: its quantity, value, totals and ids, worked out
once per distinct value and joined back, and whether the line can share its shape's
verdict."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from tiergate.batch.cells import csv_cell
from tiergate.normalise import MAX_ID_LENGTH, ValueProblem, parse_money, parse_quantity
from tiergate.outputs import cell
from tiergate.terms import MAX_NAME_LENGTH, Raw

# Totals (TPP) whose cells are remembered from one batch to the next (about 0.3 KB each).
TOTALS_KEPT = 1_000_000


def json_number(number: float) -> str:
    """`json.dumps(number)`: a finite float is its `repr` (what `json` writes), which costs a
    seventh as much (two per distinct total: 100,000 on a 1,000,000-line book)."""
    return float.__repr__(number) if math.isfinite(number) else json.dumps(number)


def mapped(
    frame: pl.DataFrame, column: str, work: Callable[[Raw], tuple[Any, ...]], names: dict[str, Any]
) -> pl.DataFrame:
    """`frame` joined with `work` done once per distinct value of `column`; `names` gives the
    columns `work` returns and their types."""
    values = frame.get_column(column).unique().to_list()
    done = [work(value) for value in values]
    table = pl.DataFrame(
        {column: values, **{name: [d[i] for d in done] for i, name in enumerate(names)}},
        schema={column: frame.schema[column], **names},
    )
    return frame.join(table, on=column, how="left", nulls_equal=True, maintain_order="left")


def _quantity(value: Raw) -> tuple[int | None, bool]:
    try:
        return parse_quantity(value), False
    except ValueProblem:
        return None, True


def _value(value: Raw) -> tuple[float | None, str, bool]:
    try:
        money = parse_money(value)
    except ValueProblem:
        return None, "", True
    return money, csv_cell(money), False


# The texts the ledger stores, and their longest (`engine.normalise.check_stored_texts`).
LIMITS = (
    ("shipment_id", MAX_ID_LENGTH),
    ("line_id", MAX_ID_LENGTH),
    ("consignee", MAX_NAME_LENGTH),
    ("end_user", MAX_NAME_LENGTH),
)


# A line's ids as its output gives them: stripped, a missing line id numbered by its row.
ID_TEXTS = {
    "shipment_text": pl.col("shipment_id").str.strip_chars().fill_null(""),
    "line_text": pl.col("line_id").str.strip_chars().fill_null((pl.col("row") + 1).cast(pl.String)),
}
ID_SEED = 12


def ids_among(keys: Iterable[tuple[str, str]]) -> pl.Expr:
    """Whether each line's ids (`ID_TEXTS`) are among `keys` (shipment_id, line_id), joined
    with a NUL, which no text the columnar path reads holds (`batch.reading`)."""
    given = pl.Series([f"{shipment}\x00{line}" for shipment, line in keys], dtype=pl.String)
    ids = pl.concat_str("shipment_text", "line_text", separator="\x00")
    return ids.is_in(given.implode())


# A total's CSV cell, its H100-equivalents, their cell, and the JSON of both.
Total = tuple[str, float, str, str, str]


def own_cells(frame: pl.DataFrame, h100_tpp: float, known: dict[float, Total]) -> pl.DataFrame:
    """Each line's own cells (ids, quantity, value, totals) and whether it can share its
    shape's verdict; `known` holds the cells of the totals worked out before."""
    frame = mapped(frame, "quantity", _quantity, {"units": pl.Int64, "bad_quantity": pl.Boolean})
    frame = mapped(
        frame,
        "value",
        _value,
        {"value_number": pl.Float64, "value_cell": pl.String, "bad_value": pl.Boolean},
    )
    # The product is the float product Python makes (IEEE 754 both); its cells, and the
    # H100-equivalents rounded as `round` rounds, are worked out once per distinct total, and
    # written as CSV and JSON cells. Numbers never need quoting in CSV.
    frame = frame.with_columns(total=pl.col("unit_tpp") * pl.col("units"))
    totals = frame.get_column("total").drop_nulls().unique().to_list()
    if len(known) > TOTALS_KEPT:
        known.clear()
    for total in totals:
        if total not in known:
            h100 = round(total / h100_tpp, 2)
            known[total] = (cell(total), h100, cell(h100), json_number(total), json_number(h100))
    table = pl.DataFrame(
        [(total, *known[total]) for total in totals],
        orient="row",
        schema={
            "total": pl.Float64,
            "total_cell": pl.String,
            "h100": pl.Float64,
            "h100_cell": pl.String,
            "total:json": pl.String,
            "h100:json": pl.String,
        },
    )
    frame = frame.join(table, on="total", how="left", maintain_order="left").with_columns(
        quantity_cell=pl.col("units").cast(pl.String).fill_null(""),
        total_cell=pl.col("total_cell").fill_null(""),
        h100_cell=pl.col("h100_cell").fill_null(""),
        **{name: pl.col(name).fill_null("null") for name in ("total:json", "h100:json")},
    )
    too_long = pl.lit(False)
    for column, most in LIMITS:
        too_long = too_long | (pl.col(column).str.len_chars() > most).fill_null(False)
    missing = pl.col("counted") & pl.col("quantity").is_null()
    return frame.with_columns(**ID_TEXTS).with_columns(
        id_hash=pl.struct(*ID_TEXTS).hash(ID_SEED),
        plain_line=(
            pl.col("plain").fill_null(False)
            & ~pl.col("found")
            & ~pl.col("bad_quantity")
            & ~pl.col("bad_value")
            & ~missing.fill_null(False)
            & ~too_long
        ),
    )
