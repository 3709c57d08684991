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
from tiergate.ledger.ledger import Ledger

H100 = 15_832
LIMIT = 26_900_000


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
    limits = {a.id: engine.allowance_limit(a.id) for a in engine.rulebook.allowances.allowances}
    # Every line checked against an empty ledger (stale on purpose), committed in a random order.
    reports = [
        engine.check(
            [
                Line(
                    shipment_id="P",
                    line_id=str(i),
                    item="H100 SXM",
                    quantity=q,
                    destination="India",
                    consignee=Party(name="Acme", country="IN"),
                )
            ],
            as_of=date(2025, 6, 1),
            view=View.WRITTEN,
        )
        for i, q in enumerate(quantities)
    ]
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
