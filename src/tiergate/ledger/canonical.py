"""Canonical JSON: sorted keys, no spaces, UTF-8 text as it is (`canonical`), the form every
hash in the ledger is taken over.

A book's lines share most of their reasons, and a line's reasons are most of its text, so
`LineTexts` writes each reason once and joins the written pieces into every line and list
that gives it. The joined text is byte for byte `canonical` of the same value (a JSON object
with sorted keys is its members in order, a list its items in order, each separated by a
comma): a hash does not depend on how its text was put together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from tiergate.model import LineResult, Reason, Report

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


def _joined(items: list[str]) -> str:
    """The canonical text of a list whose items' canonical texts are `items`."""
    return f"[{','.join(items)}]"


class LineTexts:
    """The canonical text of a report's lines and of their reasons, each reason written once.

    Reasons are remembered by identity for as long as this object lives, together with the
    reason itself, so a remembered identity can never be taken by another reason."""

    def __init__(self) -> None:
        self._as_dict: dict[int, tuple[Reason, str]] = {}
        self._as_list: dict[int, tuple[Reason, str]] = {}

    def line(self, line: LineResult) -> str:
        """Canonical text of `line.as_dict()`."""
        # The reasons are written here, from the remembered pieces: `as_dict` is asked to
        # leave them as one placeholder list rather than build a dict per reason.
        fields = line.as_dict({id(line.reasons): []})
        reasons = f'"reasons":{_joined([self._reason(r) for r in line.reasons])}'
        del fields["reasons"]
        before = _ENCODE({key: value for key, value in fields.items() if key < "reasons"})
        after = _ENCODE({key: value for key, value in fields.items() if key > "reasons"})
        members = [part[1:-1] for part in (before, after) if part != "{}"]
        members.insert(1 if before != "{}" else 0, reasons)
        return f"{{{','.join(members)}}}"

    def lines_hash(self, report: Report) -> str:
        """The hash of the list of every line of `report` (each as `line` writes it)."""
        return _list_hash(self.line(line) for line in report.lines)

    def reasons_hash(self, report: Report) -> str:
        """The hash of every line's reasons as `[rule, message, citation]` lists, in order."""
        return _list_hash(_joined([self._listed(r) for r in line.reasons]) for line in report.lines)

    def _reason(self, reason: Reason) -> str:
        known = self._as_dict.get(id(reason))
        if known is None:
            known = self._as_dict[id(reason)] = (reason, _ENCODE(reason.as_dict()))
        return known[1]

    def _listed(self, reason: Reason) -> str:
        known = self._as_list.get(id(reason))
        if known is None:
            text = _ENCODE([reason.rule, reason.message, reason.citation])
            known = self._as_list[id(reason)] = (reason, text)
        return known[1]


def _list_hash(items: Iterable[str]) -> str:
    """The hash of the canonical text of a list whose items' texts are `items`, taken as they
    come (a big report's text is never held whole)."""
    digest = hashlib.sha256(b"[")
    separator = b""
    for item in items:
        digest.update(separator)
        digest.update(item.encode())
        separator = b","
    digest.update(b"]")
    return digest.hexdigest()
