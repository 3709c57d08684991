"""Drawdown arithmetic as properties: whatever the order of commits, usage equals what the
committed lines debited and never passes the allowance."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiergate import Line, Party, View
from tiergate.engine import Engine
from tiergate.ledger.ledger import Ledger, LedgerError
from tiergate.model import Report

H100 = 15_832
LIMIT = 26_900_000


def _india(engine: Engine, shipment: str, line_id: str, quantity: int, consignee: str) -> Report:
    """A one-line check of H100s to an Indian consignee (LPP), against no ledger."""
    line = Line(
        shipment_id=shipment,
        line_id=line_id,
        item="H100 SXM",
        quantity=quantity,
        destination="India",
        consignee=Party(name=consignee, country="IN"),
    )
    return engine.check([line], as_of=date(2025, 6, 1), view=View.WRITTEN)


@settings(max_examples=25, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_usage_is_exact_and_never_over_the_limit(
    tmp_path_factory: pytest.TempPathFactory, quantities: list[int], order: random.Random
) -> None:
    folder = tmp_path_factory.mktemp("property")
    ledger = Ledger(f"sqlite:///{folder / 'ledger.sqlite3'}")
    ledger.upgrade()
    engine = Engine()
    limits = engine.allowance_limits()
    # Every line checked against an empty ledger (stale on purpose), committed in a random order.
    reports = [_india(engine, "P", str(i), q, "Acme") for i, q in enumerate(quantities)]
    order.shuffle(reports)
    committed: list[int] = []
    for report in reports:
        if ledger.commit(report, limits, "property").committed:
            committed.append(report.lines[0].quantity or 0)
    used = sum(ledger.allowance_state().used.values())
    assert used == sum(committed) * H100
    assert used <= LIMIT
    assert all(amount >= 0 for amount in ledger.allowance_state().used.values())
    # Greedy in commit order: a refused line really did not fit at its turn.
    running = 0
    for report in reports:
        quantity = report.lines[0].quantity or 0
        fits = (running + quantity) * H100 <= LIMIT and quantity <= 1699
        if fits:
            running += quantity
    assert running == sum(committed)


@settings(max_examples=15, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_the_order_of_commits_does_not_change_the_totals(
    tmp_path_factory: pytest.TempPathFactory, quantities: list[int], order: random.Random
) -> None:
    """Lines of three consignees that all fit: committed in two different orders into two
    ledgers, they leave the same usage per consignee."""
    engine = _engine()
    limits = engine.allowance_limits()
    # Six lines over three consignees: at most two 400-unit lines each, so all fit LPP.
    reports = [
        _india(engine, "O", str(i), q, f"Consignee {i % 3}") for i, q in enumerate(quantities)
    ]
    totals = []
    for _ in range(2):
        folder = tmp_path_factory.mktemp("order")
        ledger = Ledger(f"sqlite:///{folder / 'ledger.sqlite3'}")
        ledger.upgrade()
        order.shuffle(reports)
        for report in reports:
            assert len(ledger.commit(report, limits, "property").committed) == 1
        totals.append(ledger.allowance_state().used)
        ledger.close()
    assert totals[0] == totals[1]
    assert sum(totals[0].values()) == sum(r.lines[0].quantity or 0 for r in reports) * H100


_ENGINE: list[Engine] = []


def _engine() -> Engine:
    if not _ENGINE:
        _ENGINE.append(Engine())
    return _ENGINE[0]


AUTHORIZED = 100
operations = st.lists(
    st.tuples(
        st.sampled_from(["check", "commit", "cancel"]),
        st.integers(min_value=0, max_value=4),  # which line
        st.integers(min_value=1, max_value=70),  # its quantity (a line may change between checks)
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=40, deadline=None)
@given(steps=operations)
def test_reserve_use_release_is_exact_and_never_over_the_licence(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int, int]]
) -> None:
    """Random checks, commits and cancels of five lines under one licence: the ledger's
    reserved and used quantities equal a model's at every step and never pass the licence."""
    folder = tmp_path_factory.mktemp("licence-property")
    ledger = Ledger(f"sqlite:///{folder / 'ledger.sqlite3'}")
    ledger.upgrade()
    ledger.add_licence(
        {
            "number": "D1",
            "holder": "Example Inc",
            "items": ["3A090"],
            "destinations": ["CN"],
            "parties": [],
            "authorized_quantity": AUTHORIZED,
            "authorized_value": None,
            "valid_from": "2025-01-01",
            "valid_to": "2028-12-31",
            "conditions": None,
        },
        "property",
    )
    engine = _engine()
    # The model: line -> (reserved or used, quantity); absent: the line holds nothing.
    model: dict[int, tuple[str, int]] = {}
    held_once: set[int] = set()  # lines that ever reserved or used quantity

    def total(status: str) -> int:
        return sum(quantity for s, quantity in model.values() if s == status)

    for action, i, quantity in steps:
        shipped = model.get(i, ("", 0))[0] == "used"
        if action == "cancel":
            if i not in held_once:  # the ledger never saw it: nothing is cancelled
                with pytest.raises(LedgerError, match="no check reserved"):
                    ledger.cancel(f"P{i}", None, "property", "withdrawn")
            elif not shipped:  # a committed line cannot be cancelled (tested elsewhere)
                ledger.cancel(f"P{i}", None, "property", "withdrawn")
                model.pop(i, None)
        else:
            line = Line(
                shipment_id=f"P{i}",
                line_id="1",
                item="H100 SXM",
                quantity=quantity,
                destination="China",
                consignee=Party(name="Beijing Lab", country="CN"),
            )
            report = engine.check(
                [line],
                as_of=date(2025, 6, 1),
                licences=ledger.licence_book(exclude={(f"P{i}", "1")}),
            )
            others = sum(q for j, (_, q) in model.items() if j != i)
            fits = others + quantity <= AUTHORIZED
            if not shipped:
                assert (report.lines[0].licence == "D1") is fits
            if action == "check":
                ledger.record_check(report, "property", "property")
            else:
                ledger.commit(report, {}, "property")
            if not shipped and fits:
                model[i] = ("reserved" if action == "check" else "used", quantity)
                held_once.add(i)
            elif not shipped:
                model.pop(i, None)  # no longer covered: what it reserved goes back
        (licence,) = ledger.licences()
        assert (licence["reserved_quantity"], licence["used_quantity"]) == (
            total("reserved"),
            total("used"),
        )
        assert licence["remaining_quantity"] == AUTHORIZED - total("reserved") - total("used")
        assert licence["remaining_quantity"] >= 0
    assert ledger.audit_verify() == []
