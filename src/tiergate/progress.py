"""How long work shows that it is moving: the workflow reports progress through a `Progress`,
and each door decides how (the CLI draws a bar on a terminal; the library stays silent)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    """Where long work reports how far it is."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """`items` one by one, counting them off."""
        ...

    def working(self, description: str) -> AbstractContextManager[object]:
        """Work whose length is not known in advance (a download, a whole book's check)."""
        ...


class Silent:
    """Progress nobody sees: the library's default, and the CLI's off a terminal."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        return iter(items)

    def working(self, description: str) -> AbstractContextManager[object]:
        return nullcontext()
