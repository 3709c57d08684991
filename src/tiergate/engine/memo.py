"""Bounded memo tables: large books repeat the same item, places and parties, so the engine
remembers what it worked out, but never more than a fixed number of answers per table."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Entries per table: several times what the worst-case book of benchmarks/check_rows.py needs
# (its scatter book fills the largest table, a bundle's static determination per epoch, with
# 34,000 entries per 50,000 lines), few enough that a long-running server's memory stays bounded.
DEFAULT_SIZE = 200_000


class Memo(dict[K, V]):
    """A dict that forgets its oldest entry once it holds `maxsize`; reads are plain dict reads
    (`get`), writes go through `put`. Safe to share between threads: each step is one dict
    operation, and losing an entry only costs working it out again."""

    __slots__ = ("maxsize",)

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        super().__init__()
        self.maxsize = maxsize

    def put(self, key: K, value: V) -> V:
        """Remember `value` for `key` (forgetting the oldest entry when full); returns it."""
        if len(self) >= self.maxsize:
            self.pop(next(iter(self), key), None)
        self[key] = value
        return value
