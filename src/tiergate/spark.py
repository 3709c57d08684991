"""A Spark DataFrame checked by tiergate's engine (`check`, the `[spark]` extra): the same
table as the local columnar path's (`tiergate.batch.table`), one row per line, in the
DataFrame's order. Nothing here decides anything: it moves Arrow batches in and out and
calls the functions the local path calls.

1. The book's order is the DataFrame's. Each line's place (from 0) is its partition's offset
   plus its place in the partition (a first job counts each partition's lines); as locally,
   a line without `line_id` is given its number, and lines of one date draw on allowances
   in this order. A source that reads its rows in another order on another run (an
   unsorted shuffle) gives other places: sort it first.
2. The static part (`mapInArrow`): each partition's Arrow batches, as polars frames, are
   determined by the columnar path (`Terms.part`); every line gets its row of the table,
   but the lines that draw on an allowance, which are passed on with their book columns
   and every (allowance, holder, period) they may count against (`Engine.holdings`).
3. The allowances (a grouped apply): the lines that share a holding, directly or through
   other lines, are settled together by `Engine.determine`, in date order, then place, as
   one pass over the whole book settles them. Grouping by one holder is not enough: a line
   under License Exception LPP counts against its consignee's allowance for the year (the
   consignee's name and country), and if it does not fit, the licence requirement it falls
   back to may wait on the Tier 2 allocation of its destination, a country that need not
   be the consignee's; and a consignee may receive in several destinations. The distinct
   sets of holdings (as many as consignees and destinations, not lines) are joined on the
   driver into connected groups (union-find); lines of different groups count against no
   allowance in common, so settling them apart gives exactly the one-pass answers.

Each Python worker builds the engine once and keeps it, with its memo tables, between
batches. `check` runs the first two steps when called (the static part is kept with
`localCheckpoint`); the allowances are settled when the result is read. A text the columnar
path cannot read as the row path does (a NUL, a character from \\x1c to \\x1f) stops the
check: locally such a book goes to the row path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import LongType, StructField, StructType

from tiergate.batch.checking import Terms
from tiergate.batch.reading import FIELDS, Header, exact, frame_book, typed_book_frame, typed_header
from tiergate.batch.table import placed_table, results_table, table_schema
from tiergate.engine import Engine
from tiergate.errors import InputError, UsageError
from tiergate.rulebook import View

SOURCE = "DataFrame"
# The columns `check` adds on the way and drops: a line's place, its book columns (the lines
# that draw on an allowance), what it may count against, its group.
PLACE = "__tiergate_place"
LINE = "__tiergate_line"
HOLDINGS = "__tiergate_holdings"
GROUP = "__tiergate_group"
# `monotonically_increasing_id`: the partition in the upper 31 bits, the row in the lower 33.
_ROW_BITS = 33
_HOLDING_FIELDS = ("allowance", "holder", "period")
_HOLDING = pl.Struct(dict.fromkeys(_HOLDING_FIELDS, pl.String()))

Holding = tuple[str, str, str]


def check(
    df: DataFrame,
    *,
    as_of: date | None = None,
    view: View | str = View.ENFORCED,
    today: date | None = None,
    screen: bool = True,
) -> DataFrame:
    """Determine every line of `df` (one line per row, its columns read by name as a book's
    header, every value as text) as `tiergate check BOOK --format parquet` does, screening
    named parties against the list edition each worker has (installed, else bundled;
    `screen=False` skips it). Returns the typed table's columns, in `df`'s order."""
    if not isinstance(df, DataFrame):
        raise UsageError(f"`df` is a {type(df).__name__}: expected a Spark DataFrame")
    if as_of is not None and not isinstance(as_of, date):
        raise UsageError(f"`as_of` is a {type(as_of).__name__}: expected a date or None")
    job = _Job.of(df, as_of, _view(view), today or date.today(), screen)
    tagged = df.withColumn(PLACE, F.monotonically_increasing_id())
    static = tagged.mapInArrow(job.static(_offsets(tagged)), job.spark_schema(job.static_schema))
    static = static.localCheckpoint()  # read twice below: determined once
    pending = static.where(F.col(LINE).isNotNull()).select(PLACE, LINE, HOLDINGS)
    settled = (
        _grouped(pending)
        .groupBy(GROUP)
        .applyInArrow(job.settle(), job.spark_schema(job.result_schema))
    )
    # By place, not by name: a pass-through column may differ from one of tiergate's only in
    # case (`Outcome`), which Spark's names, compared without case, cannot tell apart.
    done = static.where(F.col(LINE).isNull()).drop(LINE, HOLDINGS)
    return done.union(settled).orderBy(PLACE).drop(PLACE)


def _offsets(tagged: DataFrame) -> dict[int, int]:
    """Each partition's first place in the book: the lines of the partitions before it."""
    counts = tagged.groupBy(F.shiftright(PLACE, _ROW_BITS).alias("p")).count().collect()
    offsets: dict[int, int] = {}
    total = 0
    for partition, lines in sorted((int(p), int(n)) for p, n in counts):
        offsets[partition], total = total, total + lines
    return offsets


def _grouped(pending: DataFrame) -> DataFrame:
    """The lines that draw on an allowance, each with its group (`_groups`), worked out
    from their distinct sets of holdings on the driver."""
    distinct = pending.select(HOLDINGS).distinct().collect()
    found = [tuple(tuple(holding) for holding in row[0]) for row in distinct]
    schema = StructType([pending.schema[HOLDINGS], StructField(GROUP, LongType(), False)])
    groups = pending.sparkSession.createDataFrame(
        list(zip(found, _groups(found), strict=True)), schema
    )
    return pending.join(F.broadcast(groups), on=HOLDINGS).select(PLACE, LINE, GROUP)


def _view(view: View | str) -> View:
    try:
        return View(view)
    except ValueError:
        names = ", ".join(v.value for v in View)
        raise UsageError(f"`view` value `{view}` is not a view: expected one of {names}") from None


def _groups(holdings: list[tuple[Holding, ...]]) -> list[int]:
    """Each set of holdings' group: sets that share a holding, directly or through other
    sets, share one (union-find); a line that may count against nothing is -1."""
    parent: dict[Holding, Holding] = {}

    def root(holding: Holding) -> Holding:
        while (up := parent.setdefault(holding, holding)) != holding:
            parent[holding] = parent.setdefault(up, up)
            holding = up
        return holding

    for found in holdings:
        for other in found[1:]:
            parent[root(other)] = root(found[0])
    roots: dict[Holding, int] = {}
    return [roots.setdefault(root(found[0]), len(roots)) if found else -1 for found in holdings]


@lru_cache(maxsize=4)
def _terms(
    screen: bool, as_of: date | None, view: View, today: date, extras: tuple[str, ...]
) -> Terms:
    """What this Python process (a Spark worker) determines batches with: one engine, its
    memo tables and the shapes already determined kept between batches."""
    from tiergate.screening.service import Screener

    engine = Engine(screener=Screener.shared() if screen else None)
    return Terms(engine, frame_book(pl.DataFrame(), extras, SOURCE), as_of, view, today)


@dataclass(frozen=True, slots=True)
class _Job:
    """A check of one DataFrame: what the workers are sent (a Spark function pickles it)."""

    header: Header
    as_of: date | None
    view: View
    today: date
    screen: bool
    large: bool  # Spark's Arrow batches hold large strings and lists

    @classmethod
    def of(cls, df: DataFrame, as_of: date | None, view: View, today: date, screen: bool) -> _Job:
        """The job for `df`, its header read from its schema as a Parquet book's is."""
        if PLACE in df.columns:
            raise InputError(f"input `{SOURCE}` has a column `{PLACE}`: tiergate.spark uses it")
        try:
            arrow = to_arrow_schema(df.schema)
        except PySparkException as exc:  # a type Spark cannot send as Arrow
            raise InputError(f"input `{SOURCE}` has a column Arrow cannot hold: {exc}") from exc
        header = typed_header(_frame(arrow.empty_table()).schema, SOURCE)
        if as_of is not None:
            Engine.shared().check_range(as_of)
        conf = df.sparkSession.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")
        return cls(header, as_of, view, today, screen, conf == "true")

    @property
    def book_columns(self) -> list[str]:
        return [*FIELDS, *(f"extra:{i}" for i in range(len(self.header.extras)))]

    @property
    def result_schema(self) -> dict[str, pl.DataType]:
        """The table's columns, with each line's place."""
        return table_schema(self.header.extras) | {PLACE: pl.Int64()}

    @property
    def static_schema(self) -> dict[str, pl.DataType]:
        """The table's columns, with the book columns and holdings of each line that draws
        on an allowance (null for the others)."""
        return self.result_schema | {
            LINE: pl.Struct(dict.fromkeys(self.book_columns, pl.String())),
            HOLDINGS: pl.List(_HOLDING),
        }

    def spark_schema(self, schema: dict[str, pl.DataType]) -> StructType:
        """`schema` as Spark's."""
        arrow = pl.DataFrame(schema=schema).to_arrow(compat_level=pl.CompatLevel.oldest())
        return from_arrow_schema(arrow.schema)

    def _arrow(self, frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> Any:
        """`frame`, in `schema`, as the Arrow table Spark reads for it."""
        spark = to_arrow_schema(self.spark_schema(schema), prefers_large_types=self.large)
        table = frame.select(list(schema)).cast(pl.Schema(schema))
        return table.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(spark)

    def terms(self) -> Terms:
        return _terms(self.screen, self.as_of, self.view, self.today, self.header.extras)

    def static(self, offsets: dict[int, int]) -> Callable[[Iterator[Any]], Iterator[Any]]:
        """The static part, for `mapInArrow` (`offsets`: each partition's first place)."""

        def static(batches: Iterator[Any]) -> Iterator[Any]:
            for batch in batches:
                if batch.num_rows:
                    found = self._determined(offsets, _frame(batch))
                    yield from self._arrow(found, self.static_schema).to_batches()

        return static

    def _determined(self, offsets: dict[int, int], table: pl.DataFrame) -> pl.DataFrame:
        """A batch's lines determined, but those that draw on an allowance: they are given
        with their book columns and holdings."""
        terms = self.terms()
        tag = table.get_column(PLACE)
        partition = (tag // 2**_ROW_BITS).replace_strict(offsets, return_dtype=pl.Int64)
        place = (partition + tag % 2**_ROW_BITS).cast(pl.get_index_type())
        frame = typed_book_frame(table.drop(PLACE), self.header, SOURCE).with_columns(row=place)
        if not exact(frame):
            raise InputError(
                f"input `{SOURCE}` holds a NUL or a character between \\x1c and \\x1f in a text: "
                "tiergate.spark reads texts as the columnar path, which cannot read these as "
                "the row path does; check such a book with `tiergate check`"
            )
        part, drawing = terms.part(frame)
        lines = terms.lines(drawing)
        holdings = terms.engine.holdings(lines, as_of=self.as_of, view=self.view, today=self.today)
        pending = drawing.select(
            pl.col("row").alias(PLACE),
            pl.struct(self.book_columns).alias(LINE),
            pl.Series(
                HOLDINGS, [[_named(h) for h in found] for found in holdings], pl.List(_HOLDING)
            ),
        )
        done = placed_table(part).rename({"row": PLACE})
        return pl.concat([done, pending], how="diagonal_relaxed")

    def settle(self) -> Callable[[Any], Any]:
        """The allowances, for `applyInArrow` (Spark reads a function's arguments: one, the
        group's table, not a method's two)."""

        def settle(table: Any) -> Any:
            return self._settled(table)

        return settle

    def _settled(self, table: Any) -> Any:
        """The lines of one group settled in date order, then place."""
        terms = self.terms()
        frame = _frame(table).select(pl.col(PLACE).alias("row"), pl.col(LINE).struct.unnest())
        lines = terms.lines(frame)
        rows = pl.Series("row", [row for row, _ in lines], pl.Int64)
        found = results_table(terms.determine(lines), rows, self.header.extras, {})
        found = found.rename({"row": PLACE})
        return self._arrow(found, self.result_schema)


def _named(holding: Holding) -> dict[str, str]:
    return dict(zip(_HOLDING_FIELDS, holding, strict=True))


def _frame(arrow: Any) -> pl.DataFrame:
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return frame
