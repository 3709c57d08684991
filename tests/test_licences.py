"""Licences held: which lines they cover, how their quantity is drawn down, what they never
cover (list hits, expired or exhausted licences, other destinations)."""

from __future__ import annotations

from datetime import date

from tiergate import Line, Outcome, Party
from tiergate.engine import Engine
from tiergate.licences import LicenceBook, LicenceGrant
from tiergate.screening.service import Screener

ON = date(2025, 3, 1)


def _grant(**changes: object) -> LicenceGrant:
    values: dict[str, object] = {
        "number": "D1234567",
        "holder": "Example Exporter Inc",
        "items": ("3A090",),
        "destinations": ("CN",),
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2028, 12, 31),
        "quantity_left": 100,
        "conditions": "no reexport without BIS approval",
    }
    values.update(changes)
    return LicenceGrant(**values)  # type: ignore[arg-type]


def _line(
    line_id: str,
    quantity: int,
    destination: str = "China",
    when: date = ON,
    consignee: str = "Beijing Lab",
    value: str | float | None = None,
) -> Line:
    return Line(
        line_id=line_id,
        date=when.isoformat(),
        item="H100 SXM",
        quantity=quantity,
        value=value,
        destination=destination,
        consignee=Party(name=consignee, country="CN"),
    )


def test_a_licence_covers_lines_until_its_quantity_runs_out() -> None:
    engine = Engine()
    book = LicenceBook([_grant()])
    report = engine.check(
        [
            _line("2", 60, when=date(2025, 3, 2)),
            _line("1", 30),
            _line("3", 20, when=date(2025, 3, 3)),
        ],
        licences=book,
    )
    by_id = {line.line_id: line for line in report.lines}
    assert by_id["1"].outcome is Outcome.LICENSED
    assert by_id["1"].licence == "D1234567"
    assert by_id["2"].outcome is Outcome.LICENSED  # 30 + 60 <= 100, drawn in date order
    assert by_id["3"].outcome is Outcome.PROHIBITED  # 10 left, 20 asked
    assert book.left == {"D1234567": 10}
    assert any("100 units left before" in r.message for r in by_id["1"].reasons)
    assert by_id["1"].conditions == ("no reexport without BIS approval",)
    assert report.exit_code == 3


def test_a_licence_never_covers_what_it_does_not_name() -> None:
    engine = Engine()
    lines = [
        _line("expired", 1, when=date(2029, 1, 2)),
        _line("elsewhere", 1, destination="Russia"),
        _line("party", 1, consignee="Somebody Else"),
    ]
    book = LicenceBook([_grant(valid_to=date(2028, 12, 31), parties=("Beijing Lab",))])
    report = engine.check(lines, licences=book)
    assert all(line.outcome is not Outcome.LICENSED for line in report.lines)
    assert all(line.licence is None for line in report.lines)
    assert book.left == {"D1234567": 100}
    shipped = engine.check([_line("ok", 1)], licences=book)
    assert shipped.lines[0].outcome is Outcome.LICENSED


def test_a_licence_does_not_clear_a_listed_party() -> None:
    engine = Engine(screener=Screener.shared())
    line = Line(
        line_id="1",
        date=ON.isoformat(),
        item="H100 SXM",
        quantity=1,
        destination="China",
        consignee=Party(name="Huawei Technologies Co., Ltd.", country="CN"),
    )
    book = LicenceBook([_grant()])
    report = engine.check([line], licences=book)
    assert report.lines[0].outcome is Outcome.PROHIBITED
    assert any(r.rule.startswith("list.EL:") for r in report.lines[0].reasons)
    # The licence is not spent on a line that cannot ship under it.
    assert report.lines[0].licence is None
    assert book.left == {"D1234567": 100}


def test_a_licence_that_authorizes_a_value_draws_it_down() -> None:
    engine = Engine()
    book = LicenceBook([_grant(value_left=1_000_000.0)])
    report = engine.check(
        [
            _line("1", 10, value="400000"),
            _line("2", 10, value=500_000),
            _line("3", 1, value="150000.50"),
        ],
        licences=book,
    )
    outcomes = [(line.outcome, line.licence, line.value) for line in report.lines]
    assert outcomes == [
        (Outcome.LICENSED, "D1234567", 400_000.0),
        (Outcome.LICENSED, "D1234567", 500_000.0),
        (Outcome.PROHIBITED, None, 150_000.5),  # 900,000 + 150,000.50 > 1,000,000
    ]
    message = next(r.message for r in report.lines[1].reasons if r.rule == "licence.D1234567")
    assert "US$600,000.00 of value left before, US$100,000.00 after" in message
    # Quantity is left (79 units) but the value is not: the value cap alone refused line 3.
    assert book.left == {"D1234567": 80}
    assert book.cents_left == {"D1234567": 10_000_000}


def test_a_value_capped_licence_needs_the_line_value() -> None:
    engine = Engine()
    book = LicenceBook([_grant(value_left=1_000_000.0)])
    report = engine.check([_line("1", 10), _line("2", 1, value="a lot")], licences=book)
    first, second = report.lines
    assert first.outcome is Outcome.PROHIBITED
    assert first.licence is None
    assert any(
        r.rule == "licence.D1234567" and "give the line's `value`" in r.message
        for r in first.reasons
    )
    # A bad value is an error on the line (which stays PROHIBITED: no licence covers it).
    assert (second.outcome, second.licence) == (Outcome.PROHIBITED, None)
    assert any("`value` value `a lot` is not a number" in e for e in second.errors)
    assert book.left == {"D1234567": 100}


def test_a_licence_covers_the_destination_it_names_not_the_one_the_rules_treat_it_as() -> None:
    # Hong Kong is determined as China for the rules, but a licence for Hong Kong is a document
    # naming Hong Kong: it does not cover mainland China, and one for China does not cover HK.
    engine = Engine()
    hong_kong = _grant(number="D-HK", destinations=("HK",))
    report = engine.check(
        [_line("1", 1, destination="China"), _line("2", 1, destination="Hong Kong")],
        licences=LicenceBook([hong_kong]),
    )
    # Without a licence, an H100 to China in 2025 is a presumption of denial: PROHIBITED.
    assert [line.outcome for line in report.lines] == [Outcome.PROHIBITED, Outcome.LICENSED]
    assert [line.licence for line in report.lines] == [None, "D-HK"]
    china = engine.check(
        [_line("1", 1, destination="CN"), _line("2", 1, destination="HK")],
        licences=LicenceBook([_grant()]),
    )
    assert [line.outcome for line in china.lines] == [Outcome.LICENSED, Outcome.PROHIBITED]
    # A licence for Ukraine does not reach Crimea, which has its own embargo and licences.
    ukraine = engine.check(
        [_line("1", 1, destination="Crimea")],
        licences=LicenceBook([_grant(destinations=("UA",), items=("3A090", "EAR99"))]),
    )
    assert ukraine.lines[0].licence is None


def test_a_licence_names_its_parties_as_allowances_count_them() -> None:
    # One consignee, two spellings: before, it shared its LPP allowance (name_key) but missed
    # its licence (a case-only comparison).
    engine = Engine()
    book = LicenceBook([_grant(parties=("Beijing Lab Co., Ltd.",))])
    report = engine.check([_line("1", 1, consignee="BEIJING LAB CO LTD")], licences=book)
    assert report.lines[0].licence == "D1234567"
    other = engine.check([_line("2", 1, consignee="Beijing Labs Co")], licences=book)
    assert other.lines[0].licence is None
