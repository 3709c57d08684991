"""A big commit's fast parts give what the plain ones give: line text written from remembered
pieces is the canonical JSON of the line, and rows written by COPY or `executemany` are the
rows an INSERT stores (SQLite always, PostgreSQL when TIERGATE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate import Line, Party, View
from tiergate.engine import Engine
from tiergate.ledger.audit import Decisions
from tiergate.ledger.books import ROW_NAMES, CheckedBook, Keys, Part
from tiergate.ledger.bulk import insert_frame, insert_rows
from tiergate.ledger.canonical import LineTexts, canonical, canonical_hash, canonical_members
from tiergate.ledger.ledger import Ledger
from tiergate.ledger.models import COMMITTED
from tiergate.ledger.store import rows_in
from tiergate.model import LineResult, Reason, Report

ODD_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
) | st.sampled_from(["", "\t", "\n", "\\", '"', "\\N", "a\tb\\nc", "é", "😀", "\x00", "\x7f"])


def _lines() -> list[Line]:
    """Lines of every kind: an exception with an allowance debit, a licence requirement, an
    error, an unknown item, a prohibited party, pass-through columns in any order."""
    return [
        Line(
            shipment_id=f"S{n}",
            line_id=str(n),
            item=item,
            quantity=quantity,
            value=value,
            destination=destination,
            consignee=Party(name=f"Consignee {n} é\t\\", country=destination),
            extra={"reasons": "theirs", "Ärger": n, "a": None, "zz": "[1]"},
        )
        for n, (item, quantity, value, destination) in enumerate(
            [
                ("H100 SXM", 10, 1.5, "India"),
                ("H100 SXM", 10, None, "China"),
                ("B200", -3, None, "IN"),
                ("Unknown GPU 9000", 1, 2e20, "Germany"),
                ("H20", 1, 0.1, "Russia"),
                ("", None, None, ""),
            ]
        )
    ]


@pytest.fixture(scope="module")
def report(engine: Engine) -> Report:
    return engine.check(_lines(), as_of=date(2025, 6, 1), view=View.WRITTEN)


def test_line_texts_are_the_canonical_json_of_each_line(report: Report) -> None:
    texts = LineTexts()
    for line in report.lines:
        assert texts.line(line) == canonical(line.as_dict())
    assert texts.lines_hash(report) == canonical_hash([line.as_dict() for line in report.lines])
    kept = Decisions(texts)
    kept.add_part(Part(report.lines), report.lines)
    assert kept.payload()["reasons_hash"] == canonical_hash(
        [[[r.rule, r.message, r.citation] for r in line.reasons] for line in report.lines]
    )


@settings(max_examples=60, deadline=None)
@given(
    reasons=st.lists(
        st.builds(Reason, rule=ODD_TEXT, message=ODD_TEXT, citation=ODD_TEXT), max_size=4
    ),
    extra=st.dictionaries(
        ODD_TEXT | st.sampled_from(["reasons", "reason", "reasonsX", "Reasons", "rf", "r"]),
        ODD_TEXT | st.none() | st.integers() | st.floats(allow_nan=False),
        max_size=4,
    ),
)
def test_any_reasons_and_columns_are_written_as_canonical_json(
    report: Report, reasons: list[Reason], extra: dict[str, Any]
) -> None:
    line: LineResult = replace(report.lines[0], reasons=tuple(reasons), extra=extra)
    texts = LineTexts()
    assert texts.line(line) == canonical(line.as_dict())
    assert texts.line(line) == canonical(line.as_dict())  # the second time from memory


def _row(shipment: str, line: str, text: str) -> dict[str, Any]:
    return {
        "shipment_id": shipment,
        "line_id": line,
        "as_of": "2025-06-01",
        "destination": None if text == "" else "IN",
        "eccn": text or None,
        "quantity": 7,
        "total_tpp": Decimal("110824.004"),
        "outcome": "NLR",
        "exception": None,
        "input_hash": "a" * 64,
        "committed_at": datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC),
        "debits": [["lpp-consignee-year", f"{text}|IN", "2025", "110824.00"]],
        "content": {"consignee": text, "note": f"{text}\n{text}"},
    }


@pytest.mark.parametrize("text", ["plain", "", "tab\there", "back\\slash \\N", 'quote " é 😀'])
def test_bulk_rows_are_the_rows_an_insert_stores(url: str, text: str) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    with ledger.engine.begin() as connection:
        connection.execute(sa.insert(COMMITTED), [_row("insert", "1", text)])
        insert_rows(connection, COMMITTED, [_row("bulk", "1", text), _row("bulk", "2", text)])
    with ledger.engine.connect() as connection:
        rows = {
            (row.shipment_id, row.line_id): {
                key: value
                for key, value in row._mapping.items()
                if key not in ("id", "shipment_id")
            }
            for row in connection.execute(sa.select(COMMITTED))
        }
    assert set(rows) == {("insert", "1"), ("bulk", "1"), ("bulk", "2")}
    assert rows[("bulk", "1")] == rows[("insert", "1")]
    assert rows[("bulk", "1")]["content"] == {"consignee": text, "note": f"{text}\n{text}"}
    assert rows[("bulk", "1")]["total_tpp"] == Decimal("110824.00")


@pytest.mark.parametrize(("stored", "asked"), [(1_200, 600), (300, 600), (40, 3)])
def test_rows_are_found_by_value_whether_the_table_is_read_whole_or_by_chunks(
    url: str, stored: int, asked: int
) -> None:
    """`rows_in` reads the whole table when it holds fewer rows than values are asked for:
    either way it finds the rows with one of the values, and only them."""
    ledger = Ledger(url)
    ledger.upgrade()
    with ledger.engine.begin() as connection:
        insert_rows(connection, COMMITTED, [_row(f"S{n}", "1", "x") for n in range(stored)])
    values = {f"S{n}" for n in range(0, 2 * asked, 2)}
    query = sa.select(COMMITTED.c.line_id, COMMITTED.c.shipment_id)
    with ledger.engine.connect() as connection:
        found = sorted(rows_in(connection, query, COMMITTED.c.shipment_id, values))
    assert found == sorted(("1", f"S{n}") for n in range(min(stored, 2 * asked)) if n % 2 == 0)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "",
        "tab\there",
        "back\\slash \\N",
        'quote " é 😀, comma',
        "cr\r\nlf",
        "a\n\\.\nb",
        "\\.",
    ],
)
def test_rows_of_a_frame_are_the_rows_an_insert_stores(url: str, text: str) -> None:
    """A frame's rows, given as stored (JSON and exact columns as their text), are stored as
    an INSERT of the same values stores them: texts that CSV quotes or that COPY could read
    otherwise (a lone `\\.` line, `\\N`), empty texts apart from missing values."""

    def stored(row: dict[str, Any]) -> dict[str, Any]:
        given = {key: value for key, value in row.items() if key != "committed_at"}
        return {
            **given,
            "total_tpp": str(row["total_tpp"].quantize(Decimal("0.01"))),
            "debits": json.dumps(row["debits"]),
            "content": json.dumps(row["content"]),
        }

    inserted = [_row("insert", "1", text), {**_row("insert", text, text), "quantity": None}]
    frame = pl.DataFrame(
        [stored(_row("frame", "1", text)), stored({**_row("frame", text, text), "quantity": None})],
        schema={
            name: pl.Int64 if name == "quantity" else pl.String for name in stored(_row("", "", ""))
        },
    )
    moment = _row("", "", "")["committed_at"]
    ledger = Ledger(url)
    ledger.upgrade()
    with ledger.engine.begin() as connection:
        connection.execute(sa.insert(COMMITTED), inserted)
        insert_frame(connection, COMMITTED, frame, same={"committed_at": moment})
        insert_frame(connection, COMMITTED, frame.clear(), same={"committed_at": moment})
    with ledger.engine.connect() as connection:
        found = connection.execute(sa.select(COMMITTED).order_by(COMMITTED.c.id)).mappings().all()
        texts = connection.execute(
            sa.text("SELECT CAST(content AS TEXT), CAST(debits AS TEXT) FROM committed_lines")
        ).all()
    rows = [
        {key: value for key, value in row.items() if key not in ("id", "shipment_id")}
        for row in found
    ]
    assert [row["shipment_id"] for row in found] == ["insert", "insert", "frame", "frame"]
    assert rows[2:] == rows[:2]
    assert rows[2]["eccn"] == (text or None)
    assert rows[3]["line_id"] == text
    assert rows[3]["quantity"] is None
    assert texts[2:] == texts[:2]


def test_bulk_rows_must_name_the_same_columns(url: str) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    odd = _row("bulk", "2", "x")
    del odd["eccn"]
    with pytest.raises(ValueError, match="committed_lines"), ledger.engine.begin() as connection:
        insert_rows(connection, COMMITTED, [_row("bulk", "1", "x"), odd])


def test_a_committed_line_records_the_hash_of_its_canonical_json(url: str, engine: Engine) -> None:
    report = engine.check(_lines(), as_of=date(2025, 6, 1), view=View.WRITTEN)
    ledger = Ledger(url)
    ledger.upgrade()
    limits = engine.allowance_limits()
    result = ledger.commit(report, limits, "tester")
    assert result.committed, "the book has lines that may ship"
    with ledger.engine.connect() as connection:
        query = sa.select(COMMITTED.c.shipment_id, COMMITTED.c.input_hash)
        recorded = {row[0]: row[1] for row in connection.execute(query)}
    expected = {
        line.shipment_id: canonical_hash(line.as_dict())
        for line in report.lines
        if f"{line.shipment_id}/{line.line_id}" in result.committed
    }
    assert recorded == expected


def test_ids_given_later_are_made_only_when_the_ledger_looks_for_one(
    url: str, engine: Engine
) -> None:
    """A book's ids given as a function (`Keys(pairs, count=...)`) are made when the ledger
    first looks for one, never by a commit of lines it does not hold, and answer as the ids
    given at once do."""
    report = engine.check(_lines(), as_of=date(2025, 6, 1), view=View.WRITTEN)
    pairs = [(line.shipment_id or "", line.line_id or "") for line in report.lines]
    made: list[int] = []

    def later() -> Iterator[tuple[str, str]]:
        made.append(1)
        return iter(pairs)

    keys = Keys(later, {shipment for shipment, _ in pairs}, count=len(set(pairs)))
    at_once = Keys(pairs)
    assert len(keys) == len(at_once)
    assert keys.shipments == at_once.shipments
    ledger = Ledger(url)
    ledger.upgrade()
    limits = engine.allowance_limits()
    book = replace(CheckedBook.of_report(report), keys=keys)
    result = ledger.commit_lines(book, limits, "a", source=None, input_hash="0" * 64)
    assert result.committed
    assert not made  # no line of the book was in the ledger
    # The book's committed lines debit allowances, which a check of it again must not count.
    assert ledger.allowance_state() != ledger.allowance_state(exclude=at_once)
    assert ledger.allowance_state(exclude=keys) == ledger.allowance_state(exclude=at_once)
    assert made == [1]
    assert set(keys) == set(at_once)
    assert all(pair in keys for pair in pairs)
    assert ("S1", "no such line") not in keys
    with pytest.raises(RuntimeError, match="2 distinct ids were given for 3"):
        list(Keys(lambda: [("a", "1"), ("a", "1"), ("b", "1")], count=3))
    with pytest.raises(TypeError, match="need their count"):
        Keys(later)


def test_the_audit_entry_of_a_commit_keeps_what_the_ledger_recorded(
    url: str, engine: Engine
) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    limits = engine.allowance_limits()
    ledger.commit(engine.check(_lines(), as_of=date(2025, 6, 1), view=View.WRITTEN), limits, "a")
    changed = [replace(line, quantity=(line.quantity or 0) + 1) for line in _lines()]
    report = engine.check(changed, as_of=date(2025, 6, 1), view=View.WRITTEN)
    result = ledger.commit(report, limits, "b")
    assert result.report is not None
    assert result.report is not report
    assert not result.committed
    assert result.refused
    entry = ledger.audit_entries()[-1]
    assert entry["input_hash"] == canonical_hash([line.as_dict() for line in report.lines])
    assert [line[2] for line in entry["payload"]["lines"]] == [
        line.outcome.value for line in result.report.lines
    ]
    # Each line names the list of its rules, which the entry gives once by its key.
    rules = entry["payload"]["rules"]
    named = [rules[line[5]] for line in entry["payload"]["lines"]]
    assert named == [[r.rule for r in line.reasons] for line in result.report.lines]
    assert len(rules) == len({tuple(n) for n in named})
    assert entry["payload"]["reasons_hash"] == canonical_hash(
        [[[r.rule, r.message, r.citation] for r in line.reasons] for line in result.report.lines]
    )


def test_two_lists_of_rules_with_one_key_are_refused(report: Report) -> None:
    """An entry never names two lists of rules by one key: it could not say which a line's
    is."""
    texts = LineTexts()
    kept = Decisions(texts)
    kept.add_part(Part(report.lines), report.lines)
    key, rules = texts.rules(report.lines[0].reasons)
    kept.add_part(Part((), rules=[(key, rules)]), ())  # the same list again
    with pytest.raises(RuntimeError, match=f"have one key, {key}"):
        kept.add_part(Part((), rules=[(key, '["another.rule"]')]), ())
    # Two lists with one key in one part are refused too (neither is taken for the other).
    with pytest.raises(RuntimeError, match="have one key, 0123456789abcdef"):
        Decisions(texts).add_part(
            Part((), rules=[("0123456789abcdef", '["a"]'), ("0123456789abcdef", '["b"]')]), ()
        )


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(ODD_TEXT, st.recursive(st.none() | st.integers() | ODD_TEXT, st.lists)),
    st.data(),
)
def test_an_object_with_members_written_already_is_its_canonical_text(
    members: dict[str, Any], data: st.DataObject
) -> None:
    """`canonical_members` writes what `canonical` writes of the whole object, whichever of
    its members come written already."""
    written = data.draw(st.sets(st.sampled_from(sorted(members)))) if members else set()
    text = canonical_members(
        {name: value for name, value in members.items() if name not in written},
        {name: canonical(members[name]) for name in written},
    )
    assert text == canonical(members)


def test_a_list_hash_over_many_chunks_is_the_hash_of_the_list_written_whole() -> None:
    """`ListHash` joins its items a chunk at a time and encodes a repeated text once: the
    hash is that of the list's canonical text all the same."""
    from tiergate.ledger.canonical import ListHash

    shared = canonical(["a", "é", 'q"'])
    items = [shared if n % 3 else canonical([str(n)]) for n in range(25_001)]
    digest = ListHash()
    digest.add(items[0])
    digest.add_all(items[1:])
    assert digest.hexdigest() == canonical_hash(
        [["a", "é", 'q"'] if n % 3 else [str(n)] for n in range(25_001)]
    )
    assert ListHash().hexdigest() == canonical_hash([])


def test_a_list_hash_of_long_texts_hashed_behind_is_the_hash_of_the_list_written_whole() -> None:
    """Many items are hashed by a thread of their own, in order: the hash is that of the
    list's canonical text all the same, however the items are given."""
    from tiergate.ledger.canonical import ListHash

    texts = [canonical([f"{n} {'é' * 900}"]) for n in range(40)]
    items = [texts[(n * 7) % 40] for n in range(62_345)]
    digest = ListHash()
    digest.add_all(items[:25_000])
    digest.add_all(items[25_000:50_000])
    digest.add(items[50_000])
    assert digest.hexdigest() == canonical_hash([json.loads(item) for item in items[:50_001]])
    digest.add_all(items[50_001:])
    assert digest.hexdigest() == canonical_hash([json.loads(item) for item in items])


def test_items_hashed_behind_that_fail_raise_where_the_hash_is_waited_for() -> None:
    """A text that cannot be written as UTF-8 (a lone surrogate), among items hashed by a
    thread of their own: the failure is raised where the hash is waited for."""
    from tiergate.ledger.canonical import ListHash

    digest = ListHash()
    digest.add_all(["fine"] * 30_000 + ["\ud800"])
    with pytest.raises(UnicodeEncodeError, match="surrogates"):
        digest.hexdigest()


def _frame_rows(shipment: str, count: int) -> pl.DataFrame:
    """`count` committed rows of `shipment` as a frame of stored values (line ids 1 on)."""
    rows = [_row(shipment, str(n + 1), "x") for n in range(count)]
    return pl.DataFrame(
        [
            {
                **{key: value for key, value in row.items() if key != "committed_at"},
                "total_tpp": str(row["total_tpp"].quantize(Decimal("0.01"))),
                "debits": json.dumps(row["debits"]),
                "content": json.dumps(row["content"]),
            }
            for row in rows
        ]
    )


def _writers() -> list[str]:
    import threading

    from tiergate.gcpause import WRITER

    return [thread.name for thread in threading.enumerate() if thread.name == WRITER]


def test_frames_inserted_behind_are_all_stored_in_order(url: str) -> None:
    from tiergate.ledger.bulk import FramesBehind

    _upgraded(url)
    moment = datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC)
    with (
        Ledger(url) as ledger,
        ledger.engine.begin() as connection,
        FramesBehind(connection, COMMITTED, {"committed_at": moment}) as behind,
    ):
        for shipment in ("A", "B", "C", "D"):
            behind.put(_frame_rows(shipment, 700))
        behind.finish()
        assert not _writers()
        order = connection.execute(
            sa.select(COMMITTED.c.shipment_id, COMMITTED.c.line_id).order_by(COMMITTED.c.id)
        ).all()
    assert order == [(s, str(n + 1)) for s in "ABCD" for n in range(700)]


def _put_behind(url: str, shipments: str, *, then: Exception | None = None) -> None:
    """Insert 10 rows of each of `shipments` behind, in one transaction (raising `then`
    before its end)."""
    from tiergate.ledger.bulk import FramesBehind

    moment = datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC)
    with (
        Ledger(url) as ledger,
        ledger.engine.begin() as connection,
        FramesBehind(connection, COMMITTED, {"committed_at": moment}) as behind,
    ):
        for shipment in shipments:
            behind.put(_frame_rows(shipment, 10))
        if then is not None:
            raise then


def _upgraded(url: str) -> None:
    with Ledger(url) as ledger:
        ledger.upgrade()


def _committed_count(url: str) -> int:
    with Ledger(url) as ledger, ledger.engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(COMMITTED)).scalar_one()
        )


def test_a_frame_that_fails_behind_is_raised_and_nothing_is_committed(url: str) -> None:
    """A frame whose rows the table refuses (ids given already) fails on the writer's
    thread: the failure is raised where the frames are given (the frames after it are not
    waited for), and the transaction leaves nothing behind."""
    _upgraded(url)
    # The driver's own error on PostgreSQL (COPY is the driver's), SQLAlchemy's on SQLite.
    with pytest.raises(Exception, match=r"uq_committed_lines_key|UNIQUE constraint failed"):
        _put_behind(url, "AABCDEFG")
    assert not _writers()
    assert _committed_count(url) == 0


def test_leaving_the_block_on_an_error_stops_the_writer(url: str) -> None:
    _upgraded(url)
    with pytest.raises(ValueError, match="the caller's own"):
        _put_behind(url, "ABC", then=ValueError("the caller's own error"))
    assert not _writers()
    assert _committed_count(url) == 0
    _put_behind(url, "ABC")
    assert _committed_count(url) == 30


def test_holds_written_in_bulk_are_the_holds_an_insert_stores(url: str) -> None:
    from tiergate.keys import HoldStatus
    from tiergate.ledger.models import HOLDS

    def hold(shipment: str) -> dict[str, Any]:
        return {
            "shipment_id": shipment,
            "line_id": "1",
            "signature": "advisory.x|red-flag.y",
            "reasons": ['quote " é\\n', "second"],
            "status": HoldStatus.OPEN,
            "created_at": "2026-12-02T16:00:00+00:00",
        }

    _upgraded(url)
    with Ledger(url) as ledger:
        with ledger.engine.begin() as connection:
            connection.execute(sa.insert(HOLDS), [hold("insert")])
            insert_rows(connection, HOLDS, [hold("bulk")])
        with ledger.engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT shipment_id, CAST(reasons AS TEXT), status, decided_by FROM holds")
            ).all()
        found = {row["shipment_id"]: row for row in ledger.holds()}
    assert {
        key: value for key, value in found["bulk"].items() if key not in ("id", "shipment_id")
    } == {key: value for key, value in found["insert"].items() if key not in ("id", "shipment_id")}
    assert stored[0][1:] == stored[1][1:]
    assert found["bulk"]["status"] == "open"


def test_rows_sharing_or_not_sharing_their_values_each_keep_their_own(url: str) -> None:
    """Rows give the same list object, equal lists and different lists, interleaved (and
    copies of them in a second insert): each row is stored with its own."""
    from tiergate.keys import HoldStatus
    from tiergate.ledger.models import HOLDS

    shared = [["shared", "reasons"], ["other", "reasons"]]
    given = [shared[n % 2] if n % 3 else [f"own {n}", "reasons"] for n in range(40)]
    rows = [
        {
            "shipment_id": f"s{n}",
            "line_id": "1",
            "signature": "advisory.x",
            "reasons": reasons,
            "status": HoldStatus.OPEN,
            "created_at": f"2026-12-03T0{n % 10}:00:00+00:00",
        }
        for n, reasons in enumerate(given)
    ]
    _upgraded(url)
    with Ledger(url) as ledger:
        with ledger.engine.begin() as connection:
            insert_rows(connection, HOLDS, rows[:20])
            insert_rows(
                connection, HOLDS, [dict(row, reasons=list(row["reasons"])) for row in rows[20:]]
            )
        found = {row["shipment_id"]: row for row in ledger.holds()}
    assert {key: found[key]["reasons"] for key in found} == {
        f"s{n}": reasons for n, reasons in enumerate(given)
    }
    assert {key: found[key]["created_at"][:13] for key in found} == {
        f"s{n}": f"2026-12-03T0{n % 10}" for n in range(40)
    }


@pytest.mark.parametrize("statements", [(1, -1), (1, 0), (2, 7)])
def test_rows_over_what_one_statement_takes_are_all_stored_in_order(
    url: str, statements: tuple[int, int]
) -> None:
    """On SQLite, one statement inserts as many rows as its limit on parameters allows: rows
    that fill whole statements, and some over or under, are all stored in order, each with
    its own values, whether given as a frame or as rows (PostgreSQL's COPY takes them all)."""
    import sqlite3

    _upgraded(url)
    moment = datetime(2026, 12, 3, 1, 2, 3, tzinfo=UTC)
    with Ledger(url) as ledger, ledger.engine.begin() as connection:
        driver = connection.connection.driver_connection
        each = (
            driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            // (len(ROW_NAMES) + 1)  # and committed_at
            if isinstance(driver, sqlite3.Connection)
            else 2_520
        )
        whole, over = statements
        count = whole * each + over
        insert_frame(connection, COMMITTED, _frame_rows("F", count), same={"committed_at": moment})
        insert_rows(
            connection,
            COMMITTED,
            [{**_row("R", str(n + 1), "x"), "quantity": n} for n in range(count)],
        )
        found = connection.execute(
            sa.select(COMMITTED.c.shipment_id, COMMITTED.c.line_id, COMMITTED.c.quantity).order_by(
                COMMITTED.c.id
            )
        ).all()
    assert [(s, line) for s, line, _ in found] == [
        (s, str(n + 1)) for s in "FR" for n in range(count)
    ]
    assert [quantity for s, _, quantity in found if s == "R"] == list(range(count))
