"""`tiergate.spark` against the local columnar path: PySpark in local mode (two cores, small
Arrow batches, so that every partition sends several) checks a generated book, and its table
equals the local path's field by field, for both views, on each line's own date and on one
date, and with parties screened. The book has bad rows, every epoch from 2022 to 2026, a
consignee whose LPP allowance runs out and Tier 2 destinations whose country allocation runs
out."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date

import polars as pl
import pytest
from books import TODAY, write_book
from conftest import java_runtime

pytest.importorskip("pyspark", reason="tiergate.spark needs the [spark] extra")
if not java_runtime():
    pytest.skip("Spark needs a Java 17 runtime", allow_module_level=True)

from pyspark.errors import PythonException
from pyspark.sql import SparkSession

from tiergate.batch.checking import Columns
from tiergate.batch.reading import Book, read_csv_book
from tiergate.batch.table import table_of
from tiergate.engine import Engine
from tiergate.errors import InputError, UsageError
from tiergate.rulebook import View
from tiergate.spark import _groups, check


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """One local Spark session for the module: two cores, no web UI, few shuffle partitions,
    Arrow batches of 400 rows; its Python workers run this interpreter."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("tiergate-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "400")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    path = tmp_path_factory.mktemp("spark") / "book.csv"
    write_book(path, 4_000, seed=31, engine=Engine(), blanks=False)
    found = read_csv_book(path.read_text(encoding="utf-8"), str(path))
    assert found is not None, "the book was written for the columnar reader"
    return found


def _frame(book: Book) -> pl.DataFrame:
    """The book's lines under its own column names."""
    names = {f"extra:{i}": name for i, name in enumerate(book.extras)}
    return pl.concat(book.frames(100_000)).rename(names)


def _compare(want: pl.DataFrame, got: pl.DataFrame) -> None:
    assert got.schema == want.schema
    assert got.height == want.height
    for name in want.columns:
        expected, found = want.get_column(name), got.get_column(name)
        if not found.equals(expected):
            row = next(i for i in range(want.height) if found[i] != expected[i])
            pytest.fail(f"line {row}, `{name}`: local {expected[row]!r}, Spark {found[row]!r}")


@pytest.mark.parametrize("view", [View.ENFORCED, View.WRITTEN])
@pytest.mark.parametrize("as_of", [None, date(2025, 6, 1)])
def test_spark_gives_the_local_table_field_by_field(
    spark: SparkSession, book: Book, view: View, as_of: date | None
) -> None:
    want = table_of(Columns(Engine(), book, as_of=as_of, view=view, today=TODAY))
    df = spark.createDataFrame(_frame(book).to_arrow())  # two partitions, in book order
    got = pl.from_arrow(check(df, as_of=as_of, view=view, today=TODAY, screen=False).toArrow())
    assert isinstance(got, pl.DataFrame)
    _compare(want, got)
    if view is View.WRITTEN:  # the enforced view has no allowances since 2025-05-13
        drawn = want.select(pl.col("reasons").explode().struct.unnest())
        for rule, beyond in [
            ("lpp-consignee-year", "not within"),
            ("tier2-country-allocation", "exceeded"),
        ]:
            messages = drawn.filter(pl.col("rule") == rule).get_column("message")
            assert messages.str.contains(beyond).any(), f"`{rule}` runs out"
            assert messages.str.contains("used before").any(), f"lines fit in `{rule}`"


def test_screened_parties_give_the_local_answers(spark: SparkSession, book: Book) -> None:
    """Each worker screens against the same list edition as this process (the bundled one:
    `TIERGATE_HOME` is an empty folder for the whole run, and the workers inherit it)."""
    from tiergate.screening.service import Screener

    engine = Engine(screener=Screener.shared())
    want = table_of(Columns(engine, book, view=View.WRITTEN, today=TODAY))
    df = spark.createDataFrame(_frame(book).to_arrow())
    got = pl.from_arrow(check(df, view=View.WRITTEN, today=TODAY).toArrow())
    assert isinstance(got, pl.DataFrame)
    _compare(want, got)
    listed = want.select(pl.col("reasons").explode().struct.field("rule"))
    assert listed.get_column("rule").str.starts_with("list.").any(), "a party is listed"


def test_lines_that_share_a_holding_through_others_are_settled_together() -> None:
    def allocation(code: str) -> tuple[str, str, str]:
        return ("tier2-country-allocation", code, "2025-01-13/2027-12-31")

    lpp = ("lpp-consignee-year", "acme|IN", "2025")
    india, vietnam, malaysia = allocation("IN"), allocation("VN"), allocation("MY")
    # Acme's LPP joins India's allocation to Vietnam's: one group; Malaysia's is its own.
    holdings = [(lpp, india), (vietnam,), (malaysia,), (india,), (vietnam, lpp), ()]
    assert _groups(holdings) == [0, 0, 1, 0, 0, -1]


def test_bad_arguments_are_named(spark: SparkSession) -> None:
    df = spark.createDataFrame([("H100 SXM", "IN")], "item string, destination string")
    with pytest.raises(UsageError, match="`df` is a list: expected a Spark DataFrame"):
        check([], screen=False)  # type: ignore[arg-type]  # what is refused
    with pytest.raises(UsageError, match="`view` value `north` is not a view"):
        check(df, view="north", screen=False)
    with pytest.raises(UsageError, match="`as_of` is a str"):
        check(df, as_of="2025-06-01", screen=False)  # type: ignore[arg-type]  # what is refused
    nested = spark.createDataFrame([("H100 SXM", ["IN"])], "item string, destination array<string>")
    with pytest.raises(InputError, match="column `destination` holds lists or records"):
        check(nested, screen=False)


def test_a_text_the_columnar_path_cannot_read_is_refused_by_name(spark: SparkSession) -> None:
    """Locally such a book goes to the row path; Spark has none, so the check stops."""
    df = spark.createDataFrame([("H100\x00 SXM", "IN")], "item string, destination string")
    with pytest.raises(PythonException, match="holds a NUL or a character between"):
        check(df, screen=False)
