"""A book checked by the columnar path, written as one JSON document batch by batch: byte for
byte what `outputs.to_json` writes. Its lines are the JSON Lines texts without the view and
rulebook version each JSON line carries (`lines.jsonl_of`); the document's other keys are
written around them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from tiergate.batch.checking import Columns
from tiergate.batch.lines import jsonl_of
from tiergate.batch.writing import Checked
from tiergate.outputs import compact


def json_of(found: Columns) -> Checked:
    """A determined book written as `outputs.to_json` writes the report of the same check."""
    lines = jsonl_of(found, {})
    before = {
        "as_of": found.as_of.isoformat() if found.as_of else None,
        "view": found.view.value,
        "rulebook_version": found.engine.rulebook.version,
        "editions": list(found.engine.editions()),
    }
    after = {"summary": found.summary.as_dict(), "allowances": found.allowances.as_dict()}

    def batches() -> Iterator[pl.DataFrame]:
        # Every line but the book's last is followed by a comma.
        written = 0
        for batch in lines.batches():
            written += batch.height
            yield _indented(batch, last=written == found.lines)

    return Checked(
        "{\n" + "".join(f"  {_member(k, v)},\n" for k, v in before.items()) + '  "lines": [\n',
        batches,
        found.summary,
        "  ],\n" + ",\n".join(f"  {_member(k, v)}" for k, v in after.items()) + "\n}\n",
    )


def _member(key: str, value: Any) -> str:
    return f"{compact(key)}: {compact(value)}"


def _indented(batch: pl.DataFrame, *, last: bool) -> pl.DataFrame:
    """A batch's lines as members of the document's `lines`."""
    comma = pl.lit(",")
    if last:
        comma = pl.when(pl.int_range(pl.len()) < pl.len() - 1).then(comma).otherwise(pl.lit(""))
    return batch.select(pl.concat_str(pl.lit("    "), pl.col("text"), comma).alias("text"))
