"""Reading a parties file for batch screening: CSV with `name`, optional `country` and `id`.

Other columns pass through. A row without a name, or one that cannot be read as CSV, is kept
and reported `indeterminate`, never dropped and never shown as clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tiergate.csvrows import csv_records, refuse_duplicate_columns
from tiergate.errors import InputError
from tiergate.textfiles import TextProblem, decode_text


@dataclass(frozen=True, slots=True)
class PartyRow:
    """One party to screen, as the file gave it."""

    row: int
    name: str | None
    country: str | None
    party_id: str | None
    extra: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why the row cannot be read: screened as indeterminate


def read_parties(path: Path) -> list[PartyRow]:
    """Read a parties CSV (UTF-8 or UTF-16 with a byte-order mark; a header row with at
    least `name`)."""
    try:
        content = decode_text(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read parties file `{path}`: {exc.strerror or exc}") from exc
    except TextProblem as exc:
        raise InputError(f"parties file `{path}`: {exc}") from exc
    records = csv_records(content)
    header = next(records, None)
    if header is None:
        raise InputError(f"parties file `{path}` is empty: expected a header with `name`")
    if header.cells is None:
        raise InputError(f"parties file `{path}` header cannot be read as CSV: {header.error}")
    keys = [cell.strip().casefold() for cell in header.cells]
    refuse_duplicate_columns(keys, f"parties file `{path}`")
    if "name" not in keys:
        raise InputError(
            f"parties file `{path}` has no `name` column: the header was {', '.join(header.cells)}"
        )
    rows = []
    for record in records:
        if record.cells is None:
            rows.append(
                PartyRow(row=record.row, name=None, country=None, party_id=None, error=record.error)
            )
            continue
        cells = record.cells
        if not any(cell.strip() for cell in cells):
            continue
        values = dict(zip(keys, cells, strict=False))
        extra = {
            original.strip(): cell
            for original, key, cell in zip(header.cells, keys, cells, strict=False)
            if key not in ("name", "country", "id")
        }
        rows.append(
            PartyRow(
                row=record.row,
                name=(values.get("name") or "").strip() or None,
                country=(values.get("country") or "").strip() or None,
                party_id=(values.get("id") or "").strip() or None,
                extra=extra,
            )
        )
    if not rows:
        raise InputError(f"parties file `{path}` has a header but no parties")
    return rows
