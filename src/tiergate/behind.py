"""Work done behind the caller: each item given is handed to a thread of its own, in order,
while the caller makes the next (`Behind`); or items made ahead of the caller on a thread of
their own, while the caller works on the one before (`ahead`)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

from tiergate.gcpause import WRITER

Item = TypeVar("Item")


class Behind(Generic[Item]):
    """Does `work` on each item given (`put`), in the order given, in a thread of its own
    (named `gcpause.WRITER`: the work builds no reference cycles) while the caller makes the
    next: what lets go of the interpreter's lock (polars, the kernel's copy of a file, a
    database driver) runs meanwhile. Used as a block (its thread starts with the first item:
    a block given none costs nothing); at most one item waits. A failure is
    raised by the next `put`, by `finish`, or when the block ends (never lost); no item is
    worked on after it. Leaving the block on an error of its own lets the thread finish what
    it holds and stop, and that error stands."""

    def __init__(self, work: Callable[[Item], object]) -> None:
        self._work = work
        self._waiting: queue.Queue[tuple[Item] | None] = queue.Queue(maxsize=1)  # None: done
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=WRITER, daemon=True)
        self._open = False  # in its block, and not finished

    def __enter__(self) -> Self:
        self._open = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop()
        if error is None:
            self._raise()

    def put(self, item: Item) -> None:
        """Work on `item` after those given before."""
        if not self._open:
            self._raise()
            raise RuntimeError(f"give items in a block: `with {type(self).__name__}(...)`")
        self._raise()
        if not self._thread.is_alive():
            self._thread.start()
        self._waiting.put((item,))

    def finish(self) -> None:
        """Wait until every item given is worked on."""
        self._stop()
        self._raise()

    def _stop(self) -> None:
        """Let the thread work on what it holds, and end."""
        self._open = False
        if self._thread.is_alive():
            self._waiting.put(None)
            self._thread.join()

    def _raise(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while (given := self._waiting.get()) is not None:
            if self._failure is not None:
                continue  # nothing more is worked on after a failure
            try:
                self._work(given[0])
            except BaseException as failure:  # raised in the caller's thread
                self._failure = failure


def ahead(items: Iterable[Item]) -> Iterator[Item]:
    """Each of `items`, in order, the next made on a thread of its own (named
    `gcpause.WRITER`: making them builds no reference cycles) while the caller works on the
    one given: what lets go of the interpreter's lock in making it (polars) runs meanwhile.
    At most one item is made ahead. What making an item raised is raised where that item
    would have come; a caller that stops taking items (closes the iterator) waits for the
    item being made, and no other is made."""
    made: queue.Queue[tuple[Item] | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def make() -> None:
        try:
            for item in items:
                made.put((item,))
                if stop.is_set():
                    break
        except BaseException as failure:  # raised in the caller's thread
            made.put(failure)
        else:
            made.put(None)  # no more

    thread = threading.Thread(target=make, name=WRITER, daemon=True)
    thread.start()
    ended = False
    try:
        while (given := made.get()) is not None:
            if isinstance(given, BaseException):
                ended = True
                raise given
            yield given[0]
        ended = True
    finally:
        if not ended:
            stop.set()
            # Take what it puts until its last word: it never waits on a full queue.
            while isinstance(made.get(), tuple):
                pass
        thread.join()
