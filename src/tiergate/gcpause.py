"""Pausing the cyclic garbage collector around large, acyclic allocation bursts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large book is read, determined or written.

    A 100,000-line book allocates hundreds of thousands of small, acyclic objects (lines,
    work items, results, output dicts); each allocation burst triggers generational
    collections that rescan everything alive, which measured as half the engine's time.
    Nothing tiergate builds in these paths forms reference cycles, and reference counting
    still frees everything; the previous collector state is restored even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
