"""A book checked by the columnar path, written as one JSON document batch by batch: byte for
byte what `outputs.to_json` writes. Its lines are the JSON Lines texts without the view and
rulebook version each JSON line carries (`lines.jsonl_of`), written between the text
`outputs.around_lines` gives around them."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from tiergate.batch.checking import Columns
from tiergate.batch.lines import jsonl_of
from tiergate.batch.writing import Checked
from tiergate.model import Report
from tiergate.outputs import around_lines


def json_of(found: Columns) -> Checked:
    """A determined book written as `outputs.to_json` writes the report of the same check."""
    lines = jsonl_of(found, {})
    report = Report(
        as_of=found.as_of,
        view=found.view,
        rulebook_version=found.engine.rulebook.version,
        editions=found.engine.editions(),
        lines=(),
        summary=found.summary,
        allowances=found.allowances.as_dict(),
    )
    before, after = around_lines(report)

    def batches() -> Iterator[pl.DataFrame]:
        # Every line but the book's last is followed by a comma.
        written = 0
        for batch in lines.batches():
            written += batch.height
            yield _indented(batch, last=written == found.lines)

    return Checked(f"{before}\n", batches, found.summary, f"  {after}")


def _indented(batch: pl.DataFrame, *, last: bool) -> pl.DataFrame:
    """A batch's lines as members of the document's `lines`."""
    comma = pl.lit(",")
    if last:
        comma = pl.when(pl.int_range(pl.len()) < pl.len() - 1).then(comma).otherwise(pl.lit(""))
    return batch.select(pl.concat_str(pl.lit("    "), pl.col("text"), comma).alias("text"))
