"""Readers for the downloadable list formats, and the difference between two editions.

- `read_csl_csv` (`formats.csl_csv`): the trade.gov Consolidated Screening List CSV (29
  columns) and the 11-column expanded CSV kept in the shared data; which one is told by the
  header.
- `read_csl_json` (`formats.csl_json`): trade.gov's `consolidated.json` (or the compact
  snapshot, handed on to `read_csl_compact_json`).
- `read_ofac_sdn` (`formats.ofac_sdn`): Treasury's raw `sdn.csv` (no header, `-0-` for
  empty, latin-1, a trailing `\\x1a`).
- `read_list`: picks one of the above from the file's content.
- `diff_editions`: what was added, removed and changed between two editions.

Like the compact reader, every reader is strict: a row it cannot use raises `ListFormatError`
naming the file and the line, and no row is ever dropped without a word.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tiergate.screening.formats.csl_csv import CSL_FULL_COLUMNS, read_csl_csv
from tiergate.screening.formats.csl_json import read_csl_json
from tiergate.screening.formats.ofac_sdn import (
    read_ofac_sdn,
    sdn_aliases,
    sdn_nationalities,
    sdn_programs,
)
from tiergate.screening.lists import ListEdition, ListEntry, ListFormatError

__all__ = [
    "CSL_FULL_COLUMNS",
    "EditionDiff",
    "diff_editions",
    "read_csl_csv",
    "read_csl_json",
    "read_list",
    "read_ofac_sdn",
    "sdn_aliases",
    "sdn_nationalities",
    "sdn_programs",
]


def read_list(path: Path, edition_date: date | None = None) -> ListEdition:
    """Any supported list file, the format told from its content: JSON goes to
    `read_csl_json`; a CSV whose header holds `source` and `name` to `read_csl_csv`; a CSV
    whose first field is a number to `read_ofac_sdn`.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise ListFormatError(f"`{path}` cannot be read: {exc}") from exc
    text = head.decode("latin-1").removeprefix("\xef\xbb\xbf")
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        return read_csl_json(path, edition_date)
    first_line = text.splitlines()[0] if text.strip() else ""
    fields = [f.strip().lower() for f in next(csv.reader([first_line]), [])]
    if "source" in fields and "name" in fields:
        return read_csl_csv(path, edition_date)
    if fields and fields[0].isdigit():
        return read_ofac_sdn(path, edition_date)
    raise ListFormatError(
        f"`{path}` is not a list format tiergate reads (trade.gov CSL JSON or CSV, OFAC "
        f"sdn.csv); it begins `{first_line[:60]}`"
    )


# --- editions compared --------------------------------------------------------------------


@dataclass(frozen=True)
class EditionDiff:
    """What changed from one edition to the next, by entry id."""

    added: tuple[ListEntry, ...]
    removed: tuple[ListEntry, ...]
    changed: tuple[tuple[ListEntry, ListEntry], ...]

    def counts(self) -> dict[str, int]:
        """How many entries were added, removed and changed."""
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
        }

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def diff_editions(old: ListEdition, new: ListEdition) -> EditionDiff:
    """Entries of `new` whose id `old` lacks (added), of `old` that `new` lacks (removed),
    and those in both whose `fingerprint()` differs (changed, as `(old, new)` pairs); each in
    the order of the edition it comes from."""
    before: Mapping[str, ListEntry] = {entry.entry_id: entry for entry in old.entries}
    after: Mapping[str, ListEntry] = {entry.entry_id: entry for entry in new.entries}
    return EditionDiff(
        added=tuple(e for e in new.entries if e.entry_id not in before),
        removed=tuple(e for e in old.entries if e.entry_id not in after),
        changed=tuple(
            (before[e.entry_id], e)
            for e in new.entries
            if e.entry_id in before and before[e.entry_id].fingerprint() != e.fingerprint()
        ),
    )
