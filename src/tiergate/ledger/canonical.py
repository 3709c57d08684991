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
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

from tiergate.model import LineResult, Reason, Report

T = TypeVar("T")

_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def canonical(value: Any) -> str:
    """`value` as canonical JSON text."""
    return _ENCODE(value)


def canonical_members(members: Mapping[str, Any], written: Mapping[str, str]) -> str:
    """`canonical` of the object of `members` and `written`, whose members are given as their
    canonical text already (a big book's audit entry: a text per line, joined once). An
    object's canonical text is its members sorted by name, each its name's text, a colon and
    its value's text, separated by commas."""
    texts = ["{"]
    for n, name in enumerate(sorted({*members, *written})):
        value = written[name] if name in written else _ENCODE(members[name])
        texts += ["," if n else "", _ENCODE(name), ":", value]
    texts.append("}")
    return "".join(texts)


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
        self._rules: dict[int, tuple[tuple[Reason, ...], tuple[str, str]]] = {}

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

    def rules(self, reasons: tuple[Reason, ...]) -> tuple[str, str]:
        """The list of the rule of each of `reasons` as an audit entry names it: its key
        (`rules_key`) and its canonical text."""
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


def _rules(reasons: tuple[Reason, ...]) -> tuple[str, str]:
    written = _ENCODE([reason.rule for reason in reasons])
    return rules_key(written), written


def rules_key(rules: str) -> str:
    """The key an audit entry names a list of rules by, its canonical text given (`rules`):
    the first 16 hexadecimal digits of the text's SHA-256. A book's lines share a few
    hundred lists of a hundred bytes each; an entry writes each list once, by its key, and
    each line names the key (`audit.Decisions`)."""
    return text_hash(rules)[:16]


# Items a `ListHash` joins at a time, and how many items it hashes on a thread of its own.
_CHUNK = 10_000
_BEHIND = 2 * _CHUNK


def _list_hash(items: Iterable[str]) -> str:
    """The hash of the canonical text of a list whose items' texts are `items`, taken as they
    come (a big report's text is never held whole)."""
    digest = ListHash()
    for item in items:
        digest.add(item)
    return digest.hexdigest()


class ListHash:
    """The hash of the canonical text of a list, its items' texts given one at a time, or
    many at a time (`add_all`); a text given again within a chunk of `_CHUNK` items (a
    shape's lines share theirs) is encoded once.

    Many items (an audited book's reasons: about 1.3 KB a line) are hashed by a thread of
    their own while the caller goes on (`hashlib` lets go of the interpreter's lock over a
    long text); one call's items at a time, in order."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256(b"[")
        self._first = True
        self._hashing: Future[None] | None = None  # the items being hashed behind

    def add(self, item: str) -> None:
        self.add_all([item])

    def add_all(self, items: Sequence[str | None]) -> None:
        """Items, in order (none is None: the type is the caller's lists')."""
        if None in items:
            raise ValueError("a list's item has no text")
        if not items:
            return
        given = cast(list[str], list(items))
        self._hashed()
        if len(given) < _BEHIND:
            _hash_items(self._digest, given, first=self._first)
        else:
            hashing = ThreadPoolExecutor(1, thread_name_prefix="tiergate-hashing")
            self._hashing = hashing.submit(_hash_items, self._digest, given, first=self._first)
            hashing.shutdown(wait=False)  # its thread ends once the items are hashed
        self._first = False

    def _hashed(self) -> None:
        """Wait for the items being hashed behind (raising what hashing them raised)."""
        if self._hashing is not None:
            hashing, self._hashing = self._hashing, None
            hashing.result()

    def hexdigest(self) -> str:
        self._hashed()
        digest = self._digest.copy()
        digest.update(b"]")
        return digest.hexdigest()


def _hash_items(digest: hashlib._Hash, items: list[str], *, first: bool) -> None:
    """Add `items` to `digest`, each after a comma (but the list's first), a chunk at a time."""
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        encoded = {text: b"," + text.encode() for text in set(chunk)}
        joined = b"".join(map(encoded.__getitem__, chunk))
        digest.update(joined[1:] if first and not start else joined)
