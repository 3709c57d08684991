"""tiergate's own list snapshot format: one gzip'd JSON document per edition.

`{"format": "tiergate-list-snapshot/1", "name", "edition_date", "source", "retrieved_at",
"content_hash", "provenance", "fields": [...], "entries": [[...], ...]}`: entries as arrays in
`fields` order, so a 26,000-entry edition is about a megabyte. A damaged file is refused,
never half-used: its content hash is recomputed on load and must equal the stored one, or,
when the caller knows the SHA-256 of the file's bytes (recorded when it was installed), the
bytes must have that digest, which is checked in milliseconds instead of half a second.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tiergate.screening.lists import ListEdition, ListEntry, ListFormatError

FORMAT = "tiergate-list-snapshot/1"
FIELDS = (
    "entry_id",
    "list_code",
    "source",
    "name",
    "alt_names",
    "entity_type",
    "programs",
    "countries",
    "license_requirement",
    "license_policy",
    "federal_register_notice",
    "source_list_url",
)
_TUPLES = frozenset({"alt_names", "programs", "countries"})


def write_snapshot(edition: ListEdition, path: Path, provenance: str) -> None:
    """Write `edition` to `path` (gzip'd JSON), with a note of where it came from."""
    document = {
        "format": FORMAT,
        "name": edition.name,
        "edition_date": edition.edition_date.isoformat(),
        "source": edition.source,
        "retrieved_at": edition.retrieved_at,
        "content_hash": edition.content_hash,
        "provenance": provenance,
        "fields": list(FIELDS),
        "entries": [entry_row(e) for e in edition.entries],
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same edition always gives the same bytes.
    path.write_bytes(gzip.compress(data, mtime=0))


def snapshot_digest(path: Path | Any) -> str:
    """The SHA-256 of a snapshot file's bytes, to record when installing it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """A snapshot file's bytes, read but not parsed: enough to name the edition's screening
    index (by `sha256`) without reading its entries, which takes a third of a second."""

    path: Path | Any
    raw: bytes
    sha256: str
    # Whether the bytes were checked against the digest recorded when the file was
    # installed; if not, parsing recomputes the content hash instead.
    recorded: bool

    def edition(self) -> ListEdition:
        """The edition the snapshot holds, parsed and checked."""
        return _parse(self.raw, self.path, trusted=self.recorded)


def open_snapshot(path: Path | Any, sha256: str | None = None) -> Snapshot:
    """Read a snapshot file (a path or an importlib resource); with `sha256`, its bytes must
    have that digest."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ListFormatError(f"list snapshot `{path}` cannot be read: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ListFormatError(
            f"list snapshot `{path}` is not the file that was installed (its SHA-256 "
            "differs): it was damaged or replaced"
        )
    return Snapshot(path, raw, digest, recorded=sha256 is not None)


def read_snapshot(path: Path | Any, sha256: str | None = None) -> ListEdition:
    """Read a snapshot written by `write_snapshot` (a path or an importlib resource); with
    `sha256`, the file's bytes must have that digest and the stored content hash is trusted."""
    return open_snapshot(path, sha256).edition()


def entry_row(entry: ListEntry) -> list[Any]:
    """An entry's values in `FIELDS` order, as JSON holds them."""
    return [list(v) if isinstance(v, tuple) else v for v in (getattr(entry, f) for f in FIELDS)]


def entry_from_row(row: list[Any]) -> ListEntry:
    """The entry `entry_row` wrote."""
    if len(row) != len(FIELDS):
        raise ValueError(f"an entry has {len(row)} values for {len(FIELDS)} fields")
    values: list[Any] = [tuple(v) if f in _TUPLES else v for f, v in zip(FIELDS, row, strict=True)]
    return ListEntry(*values)


def _parse(raw: bytes, path: Path | Any, trusted: bool) -> ListEdition:
    try:
        document = json.loads(gzip.decompress(raw).decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise ListFormatError(f"list snapshot `{path}` cannot be read: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ListFormatError(f"list snapshot `{path}` is not in format {FORMAT}")
    fields: list[str] = document["fields"]
    # Rows in `ListEntry`'s own field order (as `write_snapshot` writes them) are built
    # positionally: reading 26,000 entries is then a fifth of a second faster.
    positional = tuple(fields) == tuple(ListEntry.__dataclass_fields__)
    tuple_at = [i for i, name in enumerate(fields) if name in _TUPLES]

    def entry(row: list[Any]) -> ListEntry:
        if len(row) != len(fields):
            raise ValueError(f"an entry has {len(row)} values for {len(fields)} fields")
        for i in tuple_at:
            row[i] = tuple(row[i])
        return ListEntry(*row) if positional else ListEntry(**dict(zip(fields, row, strict=True)))

    try:
        entries = tuple(entry(row) for row in document["entries"])
        edition = ListEdition(
            name=document["name"],
            edition_date=date.fromisoformat(document["edition_date"]),
            source=document["source"],
            entries=entries,
            retrieved_at=document.get("retrieved_at"),
            # Bytes known good: the stored hash is the one recomputing would give.
            content_hash=document["content_hash"] if trusted else "",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ListFormatError(f"list snapshot `{path}` is damaged: {exc}") from exc
    if edition.content_hash != document.get("content_hash"):
        raise ListFormatError(
            f"list snapshot `{path}` fails its content hash: the file is damaged or edited"
        )
    return edition
