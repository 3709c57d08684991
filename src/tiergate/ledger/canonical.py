"""Canonical JSON: sorted keys, no spaces, UTF-8 text as it is (`canonical`), the form every
hash in the ledger is taken over.

A book's lines share their reasons (most lines the very tuple of reasons of the other lines
with the same verdict), and a line's reasons are most of its text, so `LineTexts` writes each
tuple of reasons once and puts the written text into every line and list that gives it. The
text is byte for byte `canonical` of the same value (a JSON object with sorted keys is its
members in order, a list its items in order, each separated by a comma): a hash does not
depend on how its text was put together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from tiergate.model import LineResult, Reason, Report

T = TypeVar("T")

_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def canonical(value: Any) -> str:
    """`value` as canonical JSON text."""
    return _ENCODE(value)


def canonical_hash(value: Any) -> str:
    """The SHA-256 of a JSON value written canonically."""
    return text_hash(_ENCODE(value))


def text_hash(text: str) -> str:
    """The SHA-256 of canonical JSON text already written."""
    return hashlib.sha256(text.encode()).hexdigest()


class LineTexts:
    """The canonical text of a report's lines and of their reasons, each tuple of reasons
    written once.

    Tuples of reasons are remembered by identity for as long as this object lives, together
    with the tuple itself, so a remembered identity can never be taken by another tuple."""

    def __init__(self) -> None:
        self._as_dicts: dict[int, tuple[tuple[Reason, ...], str]] = {}
        self._as_lists: dict[int, tuple[tuple[Reason, ...], str]] = {}
        self._rules: dict[int, tuple[tuple[Reason, ...], list[str]]] = {}

    def line(self, line: LineResult) -> str:
        """Canonical text of `line.as_dict()`."""
        # `as_dict` is asked to leave the reasons as a placeholder (no dict per reason), which
        # the written reasons then replace. Only the line itself has a member `reasons` (its
        # own columns are flat values, an allowance debit names no reasons) and a quote
        # within a text is written escaped, so the placeholder's first place is its place.
        fields = line.as_dict({id(line.reasons): []})
        fields["reasons"] = 0
        reasons = f"{_PLACEHOLDER[:-1]}{self._written(line.reasons, self._as_dicts, _dicts)}"
        return _ENCODE(fields).replace(_PLACEHOLDER, reasons, 1)

    def lines_hash(self, report: Report) -> str:
        """The hash of the list of every line of `report` (each as `line` writes it)."""
        return _list_hash(self.line(line) for line in report.lines)

    def listed(self, reasons: tuple[Reason, ...]) -> str:
        """Canonical text of `reasons` as `[rule, message, citation]` lists."""
        return self._written(reasons, self._as_lists, _lists)

    def rules(self, reasons: tuple[Reason, ...]) -> list[str]:
        """The rule of each of `reasons` (one list for every line that gives the tuple: it
        is written, never changed)."""
        return self._written(reasons, self._rules, _rules)

    @staticmethod
    def _written(
        reasons: tuple[Reason, ...],
        known: dict[int, tuple[tuple[Reason, ...], T]],
        write: Callable[[tuple[Reason, ...]], T],
    ) -> T:
        found = known.get(id(reasons))
        if found is None:
            found = known[id(reasons)] = (reasons, write(reasons))
        return found[1]


_PLACEHOLDER = '"reasons":0'


def _dicts(reasons: tuple[Reason, ...]) -> str:
    return _ENCODE([reason.as_dict() for reason in reasons])


def _lists(reasons: tuple[Reason, ...]) -> str:
    return _ENCODE([[reason.rule, reason.message, reason.citation] for reason in reasons])


def _rules(reasons: tuple[Reason, ...]) -> list[str]:
    return [reason.rule for reason in reasons]


# Texts a `ListHash` keeps encoded (each with the text itself), and items it joins at a time.
_TEXTS_KEPT = 4096
_CHUNK = 10_000


def _list_hash(items: Iterable[str]) -> str:
    """The hash of the canonical text of a list whose items' texts are `items`, taken as they
    come (a big report's text is never held whole)."""
    digest = ListHash()
    for item in items:
        digest.add(item)
    return digest.hexdigest()


class ListHash:
    """The hash of the canonical text of a list, its items' texts given one at a time; a
    text given again (the same object: a shape's lines share theirs) is encoded once."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256(b"[")
        self._first = True
        self._encoded: dict[int, tuple[str, bytes]] = {}

    def add(self, item: str) -> None:
        self.add_all([item])

    def add_all(self, items: Sequence[str | None]) -> None:
        """Items, in order (none is None: the type is the caller's lists')."""
        for start in range(0, len(items), _CHUNK):
            chunk = [self._comma_text(item) for item in items[start : start + _CHUNK]]
            if chunk:
                joined = b"".join(chunk)
                self._digest.update(joined[1:] if self._first else joined)
                self._first = False

    def _comma_text(self, item: str | None) -> bytes:
        if item is None:
            raise ValueError("a list's item has no text")
        known = self._encoded.get(id(item))
        if known is None or known[0] is not item:
            if len(self._encoded) >= _TEXTS_KEPT:
                self._encoded.clear()
            known = self._encoded[id(item)] = (item, b"," + item.encode())
        return known[1]

    def hexdigest(self) -> str:
        digest = self._digest.copy()
        digest.update(b"]")
        return digest.hexdigest()
