"""The garbage collector is paused only in a process with one thread, and always restored.

The one-thread cases run in a fresh interpreter: a test worker (pytest-xdist) has threads of
its own, under which the pause rightly does nothing.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import threading

from tiergate.gcpause import cyclic_gc_paused

ONE_THREAD = """
import gc, threading
from tiergate.gcpause import cyclic_gc_paused

assert threading.active_count() == 1
try:
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():  # a pause inside a pause leaves it to the outer one
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("restored even on error")
except RuntimeError:
    pass
assert gc.isenabled()
print("ok")
"""


def test_paused_and_restored_in_a_process_with_one_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ONE_THREAD], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


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


WITH_A_WRITER = """
import gc, io
import polars as pl
from tiergate.batch.writing import Behind
from tiergate.gcpause import cyclic_gc_paused

def paused(frame):
    assert gc.isenabled(), "the writer does not pause the collector"
    return (frame,)

with Behind(io.BytesIO(), paused) as behind:
    behind.put(pl.DataFrame({"a": ["1"]}))
    with cyclic_gc_paused():
        assert not gc.isenabled()
    behind.finish()
assert gc.isenabled()
print("ok")
"""


def test_paused_while_a_writer_of_batches_runs() -> None:
    """A check whose batches are written behind it is still a process with one thread for
    the pause: the writer builds no cycles."""
    done = subprocess.run(
        [sys.executable, "-c", WITH_A_WRITER], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
