"""Typed keys read and write the very text the ledger stores, and refuse any other text."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiergate.keys import (
    HolderKey,
    HoldSignature,
    HoldStatus,
    LicenceStatus,
    LicenceUseState,
    Period,
    SuppressionStatus,
)
from tiergate.normalise import name_key

# The stored forms, as the engine writes them today (`name_key(name) + "|" + country`, the
# year as text, `f"{period_start}/{period_end}"`, the rules joined by commas).
STORED_HOLDERS = ["acme labs|IN", "IN", "UA:crimea", "tata consultancy services|IN", "x|"]
STORED_PERIODS = ["2025", "2025-01-13/2027-12-31", "2025-01-01/2025-12-31", "2026-03-01/2026-03-01"]
STORED_SIGNATURES = ["advisory.h20-letters", "advisory.h20-letters,list.entity-list"]


@pytest.mark.parametrize("text", STORED_HOLDERS)
def test_a_stored_holder_reads_back_as_written(text: str) -> None:
    assert str(HolderKey.parse(text)) == text


def test_a_consignee_holder_is_its_name_key_and_country() -> None:
    key = HolderKey.consignee("  ACME  Labs, Ltd. ", "IN")
    assert key == HolderKey("IN", "acme labs ltd")
    assert str(key) == name_key("  ACME  Labs, Ltd. ") + "|IN"
    assert HolderKey.parse(str(key)) == key


def test_a_country_holder_has_no_name() -> None:
    key = HolderKey.parse("IN")
    assert (key.country, key.name) == ("IN", None)


def test_holders_sort_as_their_stored_text() -> None:
    keys = [HolderKey.parse(text) for text in STORED_HOLDERS]
    assert [str(key) for key in sorted(keys)] == sorted(STORED_HOLDERS)


@given(st.text(), st.from_regex(r"[A-Z]{2}", fullmatch=True))
def test_any_consignee_round_trips(name: str, country: str) -> None:
    key = HolderKey.consignee(name, country)
    assert HolderKey.parse(str(key)) == key


@pytest.mark.parametrize("text", ["", " IN", "a|b|"])
def test_text_that_is_no_holder_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"allowance holder `{text}` is neither")):
        HolderKey.parse(text)


@pytest.mark.parametrize("text", STORED_PERIODS)
def test_a_stored_period_reads_back_as_written(text: str) -> None:
    assert str(Period.parse(text)) == text


def test_a_year_and_the_same_dates_are_different_stored_periods() -> None:
    year, dates = Period.parse("2025"), Period.parse("2025-01-01/2025-12-31")
    assert (year.start, year.end) == (dates.start, dates.end)
    assert year != dates


@pytest.mark.parametrize(
    ("text", "year", "included"),
    [
        ("2025", 2025, True),
        ("2025", 2024, False),
        ("2025", 2026, False),
        ("2025-01-13/2027-12-31", 2025, True),
        ("2025-01-13/2027-12-31", 2027, True),
        ("2025-01-13/2027-12-31", 2028, False),
        ("2025-01-13/2027-12-31", 2024, False),
    ],
)
def test_a_period_includes_the_years_it_touches(text: str, year: int, included: bool) -> None:
    assert Period.parse(text).includes(year) is included


def test_periods_sort_by_start_then_end() -> None:
    texts = ["2026", "2025-01-13/2027-12-31", "2025", "2025-01-13/2025-06-30"]
    assert [str(p) for p in sorted(Period.parse(t) for t in texts)] == [
        "2025",
        "2025-01-13/2025-06-30",
        "2025-01-13/2027-12-31",
        "2026",
    ]


@given(st.dates(), st.dates())
def test_any_range_round_trips(first: date, second: date) -> None:
    period = Period(min(first, second), max(first, second))
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(
    "text", ["", "25", "2025/", "2025-13-01/2026-01-01", "2027-01-01/2025-01-01", "None/None"]
)
def test_text_that_is_no_period_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"allowance period `{text}` is neither a year")):
        Period.parse(text)


def test_a_calendar_year_must_be_one_whole_year() -> None:
    with pytest.raises(ValueError, match="is not one calendar year"):
        Period(date(2025, 1, 1), date(2025, 12, 30), calendar_year=True)


@pytest.mark.parametrize("text", STORED_SIGNATURES)
def test_a_stored_signature_reads_back_as_written(text: str) -> None:
    assert str(HoldSignature.parse(text)) == text


def test_a_signature_of_rules_in_any_order_is_the_same() -> None:
    one = HoldSignature.of(["list.entity-list", "advisory.h20-letters", "list.entity-list"])
    assert one == HoldSignature.parse("advisory.h20-letters,list.entity-list")
    assert one.rules == ("advisory.h20-letters", "list.entity-list")


@pytest.mark.parametrize("text", ["", "b,a", "a,a", "a,,b", " a"])
def test_text_that_is_no_signature_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"hold signature `{text}` is not rule ids")):
        HoldSignature.parse(text)


@pytest.mark.parametrize(
    ("status", "stored"),
    [
        (LicenceStatus, ["active", "revoked"]),
        (LicenceUseState, ["reserved", "used", "released"]),
        (HoldStatus, ["open", "released", "rejected"]),
        (SuppressionStatus, ["active", "lapsed"]),
    ],
)
def test_statuses_are_the_words_stored_today(status: type[StrEnum], stored: list[str]) -> None:
    assert [member.value for member in status] == stored
    assert all(status(word) == word and f"{status(word)}" == word for word in stored)
