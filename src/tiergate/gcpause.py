"""Pausing the cyclic garbage collector around large, acyclic allocation bursts, in a
process with one thread only."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The name of the threads tiergate starts to work behind the caller (`behind.Behind`: a
# checked book written while the next batch is made, a commit's rows inserted): they build no
# reference cycles and never pause the collector themselves, so they count as no thread here.
WRITER = "tiergate-writer"


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large book is read, determined or written,
    when the calling thread is the process's only thread (but for tiergate's writers);
    otherwise do nothing.

    A 100,000-line book allocates hundreds of thousands of small, acyclic objects (lines,
    work items, results, output dicts); each allocation burst triggers generational
    collections that rescan everything alive, which measured as half the engine's time
    (benchmarks/check_rows.py). Nothing tiergate builds in these paths forms reference cycles,
    and reference counting still frees everything; the previous state is restored even on
    error. The switch is process-wide: in a process with other threads (a threaded server)
    they would run without the collector, and two overlapping pauses could leave it off, so
    there it is never touched. A pause inside a pause leaves it to the outer one.
    """
    others = [t for t in threading.enumerate() if t.name != WRITER]
    if len(others) > 1 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
