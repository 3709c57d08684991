"""Items made ahead of the caller on a thread of their own (`behind.ahead`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tiergate.behind import ahead
from tiergate.gcpause import WRITER


class _Made:
    """Items 0, 1, 2, ... up to `count`, recording the thread that made each; `fail_at`
    raises instead of making that item."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.threads: list[threading.Thread] = []

    def __iter__(self) -> Iterator[int]:
        for n in range(self.count):
            if n == self.fail_at:
                raise KeyError(f"item {n}")
            self.threads.append(threading.current_thread())
            yield n


def _take(items: Iterator[int], into: list[int]) -> None:
    for item in items:
        into.append(item)


def test_every_item_comes_in_order_made_on_a_thread_of_its_own() -> None:
    made = _Made(50)
    assert list(ahead(made)) == list(range(50))
    assert {thread.name for thread in made.threads} == {WRITER}
    assert len(set(made.threads)) == 1
    assert list(ahead(_Made(0))) == []


def test_a_failure_is_raised_where_its_item_would_have_come() -> None:
    taken: list[int] = []
    with pytest.raises(KeyError, match="item 3"):
        _take(ahead(_Made(10, fail_at=3)), taken)
    assert taken == [0, 1, 2]


def test_a_caller_that_stops_early_leaves_no_item_made_beyond_the_next() -> None:
    made = _Made(1000)
    items = ahead(made)
    assert next(items) == 0
    items.close()  # returns once its thread has ended
    # The item given, one waiting, and one being made when the caller stopped, at most.
    assert 1 <= len(made.threads) <= 3
    assert not made.threads[0].is_alive()


def test_a_caller_that_fails_while_holding_an_item_ends_the_thread() -> None:
    made = _Made(1000)
    with pytest.raises(ValueError, match="mine"):  # noqa: PT012
        for item in ahead(made):
            if item == 5:
                raise ValueError("mine")
    assert len(made.threads) <= 8
    assert not made.threads[0].is_alive()
