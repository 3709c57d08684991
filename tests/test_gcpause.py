"""The garbage collector is paused only in a process with one thread, and always restored."""

from __future__ import annotations

import gc
import threading

import pytest

from tiergate.gcpause import cyclic_gc_paused


def _fail_while_paused() -> None:
    with cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("restored even on error")


def test_paused_and_restored_with_one_thread() -> None:
    assert threading.active_count() == 1
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        _fail_while_paused()
    assert gc.isenabled()


def test_never_touched_while_another_thread_runs() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with cyclic_gc_paused():
            assert gc.isenabled()
    finally:
        release.set()
        other.join()
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_it_to_the_outer_one() -> None:
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
