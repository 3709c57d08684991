"""tiergate's own list snapshot format: one gzip'd JSON document per edition.

`{"format": "tiergate-list-snapshot/1", "name", "edition_date", "source", "retrieved_at",
"content_hash", "provenance", "fields": [...], "entries": [[...], ...]}`: entries as arrays in
`fields` order, so a 26,000-entry edition is about a megabyte. The content hash is recomputed
on load and must equal the stored one, so a damaged file is refused, never half-used.
"""

from __future__ import annotations

import gzip
import json
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
        "entries": [
            [list(v) if isinstance(v, tuple) else v for v in (getattr(e, f) for f in FIELDS)]
            for e in edition.entries
        ],
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same edition always gives the same bytes.
    path.write_bytes(gzip.compress(data, mtime=0))


def read_snapshot(path: Path | Any) -> ListEdition:
    """Read a snapshot written by `write_snapshot` (a path or an importlib resource)."""
    try:
        document = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise ListFormatError(f"list snapshot `{path}` cannot be read: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ListFormatError(f"list snapshot `{path}` is not in format {FORMAT}")
    fields: list[str] = document["fields"]

    def entry(row: list[Any]) -> ListEntry:
        values: dict[str, Any] = {
            name: tuple(value) if name in _TUPLES else value
            for name, value in zip(fields, row, strict=True)
        }
        return ListEntry(**values)

    try:
        entries = tuple(entry(row) for row in document["entries"])
        edition = ListEdition(
            name=document["name"],
            edition_date=date.fromisoformat(document["edition_date"]),
            source=document["source"],
            entries=entries,
            retrieved_at=document.get("retrieved_at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ListFormatError(f"list snapshot `{path}` is damaged: {exc}") from exc
    if edition.content_hash != document.get("content_hash"):
        raise ListFormatError(
            f"list snapshot `{path}` fails its content hash: the file is damaged or edited"
        )
    return edition
