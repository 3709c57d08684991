"""Engine behaviour beyond single cases: allowances over a book, order, splitting, counts."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate import AllowanceState, Line, Outcome, Party, View
from tiergate.classify import Specs
from tiergate.engine import Engine
from tiergate.engine.memo import Memo
from tiergate.engine.normalise import (
    PER_LINE_FIELDS,
    SPEC_COLUMNS,
    STATIC_SOURCES,
    StaticLine,
    parse_specs,
    static_line,
)

WRITTEN_DAY = date(2025, 6, 1)
LPP_LIMIT = 26_900_000
H100 = 15_832


def h100_line(line_id: str, quantity: int, consignee: str = "Acme", on: date = WRITTEN_DAY) -> Line:
    return Line(
        line_id=line_id,
        date=on.isoformat(),
        item="H100 SXM",
        quantity=quantity,
        destination="India",
        consignee=Party(name=consignee, country="IN", hq_country="IN"),
    )


def test_lpp_accumulates_per_consignee_in_date_order() -> None:
    engine = Engine.shared()
    # Out of input order on purpose: the later-dated line is first.
    lines = [
        h100_line("late", 1000, on=WRITTEN_DAY + timedelta(days=10)),
        h100_line("early", 1000),
        h100_line("other consignee", 1000, consignee="Other Ltd"),
    ]
    report = engine.check(lines, view=View.WRITTEN)
    by_id = {line.line_id: line for line in report.lines}
    assert by_id["early"].outcome is Outcome.EXCEPTION
    assert by_id["early"].exception == "LPP"
    # 2 x 15,832,000 > 26,900,000: the second line to the same consignee needs a licence.
    assert by_id["late"].outcome is Outcome.LICENSE_REQUIRED
    assert by_id["other consignee"].exception == "LPP"


def test_lpp_allowance_resets_each_calendar_year() -> None:
    engine = Engine.shared()
    lines = [h100_line("2025", 1600), h100_line("2026", 1600, on=date(2026, 1, 2))]
    report = engine.check(lines, view=View.WRITTEN)
    assert [line.exception for line in report.lines] == ["LPP", "LPP"]


def test_lpp_limit_is_inclusive() -> None:
    engine = Engine.shared()
    # 1,699 H100 = 26,898,568 TPP fits; 1,700 = 26,914,400 does not.
    fits = engine.check([h100_line("a", 1699)], view=View.WRITTEN).lines[0]
    over = engine.check([h100_line("a", 1700)], view=View.WRITTEN).lines[0]
    assert 1699 * H100 <= LPP_LIMIT < 1700 * H100
    assert fits.exception == "LPP"
    assert over.outcome is Outcome.LICENSE_REQUIRED


def test_country_allocation_exceeded_becomes_denial() -> None:
    engine = Engine(country_allocation_tpp=40_000_000)
    lines = [h100_line("1", 2000, consignee="A"), h100_line("2", 2000, consignee="B")]
    report = engine.check(lines, view=View.WRITTEN)
    assert report.lines[0].outcome is Outcome.LICENSE_REQUIRED
    assert report.lines[1].outcome is Outcome.PROHIBITED
    assert any(r.rule == "tier2-country-allocation" for r in report.lines[1].reasons)


def test_missing_consignee_makes_lpp_indeterminate() -> None:
    engine = Engine.shared()
    line = Line(item="H100 SXM", quantity=10, destination="India", date="2025-06-01")
    result = engine.check([line], view=View.WRITTEN).lines[0]
    assert result.outcome is Outcome.INDETERMINATE
    assert any("consignee" in error for error in result.errors)


book_lines = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400),  # day offset
        st.integers(min_value=1, max_value=1200),  # quantity
        st.sampled_from(["Acme", "Beta", "Gamma"]),
        st.sampled_from(["India", "Vietnam", "Brazil", "Japan", "China"]),
    ),
    min_size=1,
    max_size=25,
)


def _book(rows: list[tuple[int, int, str, str]]) -> list[Line]:
    start = date(2025, 5, 20)
    return [
        Line(
            line_id=str(i),
            date=(start + timedelta(days=offset)).isoformat(),
            item="H100 SXM",
            quantity=quantity,
            destination=country,
            consignee=Party(name=name, country=country),
        )
        for i, (offset, quantity, name, country) in enumerate(rows)
    ]


@settings(max_examples=60, deadline=None)
@given(rows=book_lines, split=st.integers(min_value=0, max_value=25))
def test_splitting_a_book_never_changes_answers(
    rows: list[tuple[int, int, str, str]], split: int
) -> None:
    engine = Engine.shared()
    lines = sorted(_book(rows), key=lambda line: str(line.date))
    whole = engine.check(lines, view=View.WRITTEN)
    state = AllowanceState()
    first = (
        engine.check(lines[:split], view=View.WRITTEN, allowances=state) if lines[:split] else None
    )
    second = (
        engine.check(lines[split:], view=View.WRITTEN, allowances=state) if lines[split:] else None
    )
    parts = [*(first.lines if first else ()), *(second.lines if second else ())]
    assert [(r.outcome, r.exception, r.review_policy) for r in parts] == [
        (r.outcome, r.exception, r.review_policy) for r in whole.lines
    ]
    assert state.as_dict() == whole.allowances


@settings(max_examples=40, deadline=None)
@given(rows=book_lines, data=st.data())
def test_input_order_does_not_change_answers_for_distinct_dates(
    rows: list[tuple[int, int, str, str]], data: st.DataObject
) -> None:
    unique = list({offset: row for row in rows for offset in [row[0]]}.values())
    lines = _book(unique)
    shuffled = data.draw(st.permutations(lines))
    engine = Engine.shared()
    first = {
        r.line_id: (r.outcome, r.exception) for r in engine.check(lines, view=View.WRITTEN).lines
    }
    second = {
        r.line_id: (r.outcome, r.exception) for r in engine.check(shuffled, view=View.WRITTEN).lines
    }
    assert first == second


def test_lines_in_equal_lines_out_with_errors_counted() -> None:
    engine = Engine.shared()
    lines = [
        Line(item="H100 SXM", quantity=1, destination="KR", date="2025-02-18"),
        Line(item="nonsense", quantity=1, destination="KR", date="2025-02-18"),
        Line(item="H100 SXM", quantity="many", destination="KR", date="2025-02-18"),
        Line(item="H100 SXM", quantity=1, destination="Narnia", date="2025-02-18"),
        Line(item="H100 SXM", quantity=1, destination="KR", date="18/02/2025"),
    ]
    report = engine.check(lines)
    assert report.summary.lines_in == report.summary.lines_out == 5
    assert report.summary.lines_with_errors == 4
    assert [r.outcome for r in report.lines] == [Outcome.NLR] + [Outcome.INDETERMINATE] * 4
    assert report.exit_code == 3
    assert "`many`" in report.lines[2].errors[0]
    assert "`Narnia`" in report.lines[3].errors[0]


def test_enforced_view_says_what_is_not_enforced() -> None:
    engine = Engine.shared()
    result = engine.check([h100_line("1", 10)]).lines[0]
    assert result.outcome is Outcome.NLR
    rules = [r.rule for r in result.reasons]
    assert "non-enforcement.ai-diffusion" in rules
    assert "diffusion.tier2" in rules


def test_every_result_carries_a_citation() -> None:
    engine = Engine.shared()
    lines = _book([(0, 10, "Acme", country) for country in ["India", "China", "Japan", "Brazil"]])
    for view in View:
        for result in engine.check(lines, view=view).lines:
            assert result.reasons
            assert all(reason.citation for reason in result.reasons)


def test_check_restores_the_garbage_collector_state() -> None:
    import gc

    engine = Engine.shared()
    assert gc.isenabled()
    engine.check([h100_line("1", 1)])
    assert gc.isenabled()
    gc.disable()
    try:
        engine.check([h100_line("1", 1)])
        assert not gc.isenabled()
    finally:
        gc.enable()
    bad_date = engine.check([Line(item="L4", destination="DE", quantity=1, date="31/12/2025")])
    assert bad_date.lines[0].outcome is Outcome.INDETERMINATE
    assert gc.isenabled()


def _columns() -> set[str]:
    """Every column of `Line`, a party's columns named `party.column`."""
    found = set()
    for f in fields(Line):
        if f.name in ("consignee", "end_user"):
            found.update(f"{f.name}.{p.name}" for p in fields(Party))
        else:
            found.add(f.name)
    return found


def test_every_line_column_is_static_or_per_line() -> None:
    static = {STATIC_SOURCES.get(name, name) for name in StaticLine._fields}
    assert not static & PER_LINE_FIELDS
    assert static | PER_LINE_FIELDS == _columns()


def _with(line: Line, path: str, value: Any) -> Line:
    if "." in path:
        party_field, column = path.split(".")
        return replace(
            line, **{party_field: replace(getattr(line, party_field), **{column: value})}
        )
    return replace(line, **{path: value})


@pytest.mark.parametrize("name", StaticLine._fields)
def test_each_static_field_is_part_of_the_memo_key(name: str) -> None:
    base = h100_line("1", 10)
    path = STATIC_SOURCES.get(name, name)
    if name == "intermediate_consignees":
        first, second = (Party(country="DE"),), (Party(country="FR"),)
    else:
        first, second = "first", "second"
    one, other = _with(base, path, first), _with(base, path, second)
    assert getattr(static_line(one), name) == first
    assert static_line(one) != static_line(other)
    assert len({static_line(one): 1, static_line(other): 2}) == 2


def test_memo_forgets_its_oldest_entry_when_full() -> None:
    memo: Memo[int, str] = Memo(maxsize=2)
    memo.put(1, "a")
    memo.put(2, "b")
    memo.put(3, "c")
    assert dict(memo) == {2: "b", 3: "c"}


def _imports(module: str) -> set[str]:
    """The tiergate modules `module` imports at its top level (not under TYPE_CHECKING)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tiergate"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tiergate"))
    return {name for name in found if _is_module(name)}


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, not a module
        return False


def test_the_engine_never_imports_the_screening_service() -> None:
    """The engine is pure: the screening service reads the list store (disk, network), so
    list findings reach the engine through `PartyScreener` instead."""
    seen, todo = set(), ["tiergate.engine"]
    while todo:
        module = todo.pop()
        if module not in seen and module != "tiergate":
            seen.add(module)
            todo.extend(_imports(module))
    assert "tiergate.engine.driver" in seen
    assert not {m for m in seen if m.startswith("tiergate.screening")}


def test_every_stated_item_parameter_reaches_the_specs() -> None:
    # A line states every field of Specs but the release date (from the catalog), and
    # `published` is the other spelling of `weights_published`.
    stated = {field.name for field in fields(Specs)} - {"release_date"}
    assert set(SPEC_COLUMNS) == stated | {"published"}
    base = static_line(h100_line("1", 10))
    for column in SPEC_COLUMNS:
        errors: list[str] = []
        specs = parse_specs(base._replace(**{column: "1"}), errors)
        assert specs != Specs(), column
        assert errors == [], column


def test_a_line_gets_the_same_answer_whichever_line_of_its_epoch_came_first() -> None:
    """Lines of one epoch share what the engine works out once (its memo tables): no answer
    may name one of them, or a line's answer would depend on the lines before it (and on
    how a book is split, as `tiergate.spark` splits it)."""

    def line(on: str) -> Line:
        return Line(date=on, item="NVIDIA A40", eccn="3A090.a", quantity=3, destination="SA")

    alone = Engine().check([line("2022-11-16")], today=WRITTEN_DAY).lines[0]
    after = Engine().check([line("2022-12-30"), line("2022-11-16")], today=WRITTEN_DAY).lines[1]
    assert alone.errors == after.errors
    assert "in force from 2023-11-17" in alone.errors[0]


def test_items_whose_possible_eccns_differ_never_share_a_static_determination() -> None:
    """A TPU classified 3A090.a and one whose typed ECCN tiergate does not know once had the
    same signature, so the second, after the first, lost the end-use rules that may reach an
    item whose ECCN is unknown (`eccn_fits`)."""
    known = Line(
        date="2025-06-01",
        item="Google TPU v4",
        eccn="3A090.a",
        quantity=469,
        destination="CN",
        end_use="military",
    )
    unknown = replace(known, item="Google TPU v5e", eccn="5A992", quantity=155)
    alone = Engine().check([unknown], today=WRITTEN_DAY).lines[0]
    after = Engine().check([known, unknown], today=WRITTEN_DAY).lines[1]
    assert [r.rule for r in after.reasons] == [r.rule for r in alone.reasons]
    assert any(r.rule == "enduse.744-21-military" for r in alone.reasons)


@pytest.mark.parametrize("view", [View.ENFORCED, View.WRITTEN])
def test_every_line_of_a_book_gets_the_answer_it_gets_alone(
    tmp_path_factory: pytest.TempPathFactory, view: View
) -> None:
    """No answer depends on the lines checked before it in the same process (the memo tables
    are shared by every line of an epoch, and by every batch and Spark task of a book): each
    line of a varied book, checked at its place by an engine that has seen nothing, gets what
    it got in the book. Lines that read an allowance are left out: the lines before them
    drew on it first, as they should."""
    from books import TODAY, write_book

    from tiergate.inputs import read_book

    path = tmp_path_factory.mktemp("alone") / "book.csv"
    write_book(path, 1_500, seed=31, engine=Engine(), blanks=False)
    lines = read_book(path)
    engine = Engine()
    allowances = {allowance.id for allowance in engine.rulebook.allowances.allowances}
    report = engine.check(lines, view=view, today=TODAY)
    compared = 0
    for place, (line, in_book) in enumerate(zip(lines, report.lines, strict=True)):
        (alone,) = Engine().determine([(place, line)], view=view, today=TODAY)
        if any(reason.rule in allowances for reason in (*in_book.reasons, *alone.reasons)):
            continue
        compared += 1
        assert alone == in_book, f"line {place + 1}: {line}"
    assert compared > 1_000
