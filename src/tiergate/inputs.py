"""Reading shipment books: CSV (one row per line) and JSON (shipments with nested lines).

A problem with one row never stops the book: the row becomes a line with its errors, and the
engine reports it INDETERMINATE. Only a file that cannot be read at all (missing, not UTF-8,
not JSON, no header, no rows) raises `InputError`.

CSV columns are matched case-insensitively; columns tiergate does not know pass through to
the output untouched. See docs/input-format.md for the full schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tiergate.csvrows import csv_records, refuse_duplicate_columns
from tiergate.errors import InputError
from tiergate.gcpause import cyclic_gc_paused
from tiergate.model import LINE_FIELDS, Line, Party, Shipment
from tiergate.terms import Raw
from tiergate.textfiles import TextProblem, decode_text, load_json

PARTY_COLUMNS = {
    "consignee": ("consignee", "name"),
    "consignee_country": ("consignee", "country"),
    "consignee_hq_country": ("consignee", "hq_country"),
    "end_user": ("end_user", "name"),
    "end_user_country": ("end_user", "country"),
    "end_user_hq_country": ("end_user", "hq_country"),
}
KNOWN_COLUMNS = frozenset(LINE_FIELDS) | frozenset(PARTY_COLUMNS)
PARTY_KEYS = frozenset({"name", "country", "hq_country"})
SHIPMENT_KEYS = frozenset(
    {"shipment_id", "date", "destination", "transaction", "end_use", "veu", "parties", "lines"}
)


SUFFIXES = (".csv", ".json", ".parquet")


def read_book(path: Path) -> list[Line]:
    """Read a CSV, JSON or Parquet book by its extension; every row or line becomes a
    `Line`."""
    return parse_book(read_input(path), path)


def read_input(path: Path) -> bytes:
    """A book's bytes, read once: what is parsed is what is hashed for the audit trail."""
    if path.suffix.casefold() not in SUFFIXES:
        raise InputError(f"input `{path}` must be a .csv, .json or .parquet file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read input `{path}`: {exc.strerror or exc}") from exc


def parse_book(raw: bytes, path: Path) -> list[Line]:
    """The lines of a book's bytes (`read_input`), a CSV, JSON or Parquet book by `path`'s
    extension."""
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise InputError(f"input `{path}` must be a .csv, .json or .parquet file")
    if suffix == ".parquet":
        from tiergate.batch.reading import book_lines, read_parquet_book

        return book_lines(read_parquet_book(raw, str(path)))
    try:
        content = decode_text(raw)
    except TextProblem as exc:
        raise InputError(f"input `{path}`: {exc}") from exc
    if suffix == ".csv":
        with cyclic_gc_paused():
            return parse_csv(content, str(path))
    try:
        document = load_json(content, object_pairs_hook=object_without_duplicates)
    except InputError as exc:
        raise InputError(f"input `{path}`: {exc}") from exc
    except TextProblem as exc:
        raise InputError(f"input `{path}`: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"input `{path}` is not valid JSON: {exc}") from exc
    return parse_json_document(document, str(path))


def first_look(raw: bytes, path: Path) -> None:
    """Refuse at once a book that cannot be read at all, as `parse_book` would, without
    reading its lines: an unknown extension, a CSV book without a usable header or without a
    line, JSON that is not a book, a file that is not Parquet. (A job refuses such a book
    before it queues it; a book that passes is still read whole, line by line, later.)"""
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise InputError(f"input `{path}` must be a .csv, .json or .parquet file")
    if suffix == ".parquet":
        if not (raw.startswith(b"PAR1") and raw.endswith(b"PAR1") and len(raw) > 8):
            raise InputError(
                f"input `{path}` is not a Parquet file: it does not start and end with PAR1"
            )
        return
    if suffix == ".json":
        parse_book(raw, path)  # a JSON book is read whole to be read at all
        return
    try:
        content = decode_text(raw)
    except TextProblem as exc:
        raise InputError(f"input `{path}`: {exc}") from exc
    if not content.strip():
        raise InputError(f"input `{path}` is empty: expected a header row and at least one line")
    first = next(csv_records(content, delimiter(content)))
    if first.cells is None:
        raise InputError(f"input `{path}` header cannot be read as CSV: {first.error}")
    header(first.cells, str(path))
    rest = content.lstrip().split("\n", 1)[1:]
    if not rest or not rest[0].strip():
        raise InputError(f"input `{path}` has a header but no lines")


def object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it gives a key twice (json keeps the last one silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise InputError(f"the JSON object with `{key}` gives that key twice: give it once")
        found[key] = value
    return found


def _value(raw: Any) -> Raw:
    if raw is None or isinstance(raw, str | int | float | bool):
        return raw
    return json.dumps(raw)


def parse_csv(content: str, source: str = "<csv>") -> list[Line]:
    """Parse CSV text with a header row, delimited by commas, semicolons or tabs. Every
    non-blank line of the text is one line of the book (`tiergate.csvrows`)."""
    if not content.strip():
        raise InputError(f"input `{source}` is empty: expected a header row and at least one line")
    records = csv_records(content, delimiter(content))
    first = next(records)
    if first.cells is None:
        raise InputError(f"input `{source}` header cannot be read as CSV: {first.error}")
    names, keys = header(first.cells, source)
    lines: list[Line] = []
    for record in records:
        if record.cells is None:
            lines.append(Line(line_id=f"row {record.row}", errors=(str(record.error),)))
            continue
        row = record.cells
        if not any(cell.strip() for cell in row):
            continue
        errors: list[str] = []
        if len(row) != len(keys):
            errors.append(f"row {record.row} has {len(row)} fields but the header has {len(keys)}")
        lines.append(_line_from_row(keys, names, row, errors))
    if not lines:
        raise InputError(f"input `{source}` has a header but no lines")
    return lines


def header(cells: list[str], source: str) -> tuple[list[str], list[str]]:
    """A book's column names as given (stripped) and as matched (case-folded); a column named
    twice, or no column tiergate can determine a line by, is refused."""
    names = [name.strip() for name in cells]
    keys = [name.casefold() for name in names]
    refuse_duplicate_columns(keys, f"input `{source}`")
    recognised = {"item", "eccn", "tpp", "destination"} & set(keys)
    if not recognised:
        raise InputError(
            f"input `{source}` has no `item`, `eccn`, `tpp` or `destination` column: the header "
            f"was {', '.join(names) or '(empty)'}"
        )
    return names, keys


def delimiter(content: str) -> str:
    """The header line's most frequent of `,` `;` and tab (ERP exports in many locales use
    semicolons); commas when none appears."""
    header = content.lstrip().split("\n", 1)[0]
    counts = {mark: header.count(mark) for mark in (",", ";", "\t")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def _line_from_row(keys: list[str], names: list[str], row: list[str], errors: list[str]) -> Line:
    fields: dict[str, Raw] = {}
    parties: dict[str, dict[str, Raw]] = {"consignee": {}, "end_user": {}}
    extra: dict[str, Raw] = {}
    for key, name, cell in zip(keys, names, row, strict=False):
        value: Raw = cell if cell.strip() else None
        if key in PARTY_COLUMNS:
            role, attribute = PARTY_COLUMNS[key]
            parties[role][attribute] = value
        elif key in LINE_FIELDS:
            fields[key] = value
        else:
            extra[name] = cell
    return Line(
        **fields,  # type: ignore[arg-type]  # keys are LINE_FIELDS, values are Raw
        consignee=Party(**parties["consignee"]),
        end_user=Party(**parties["end_user"]),
        extra=extra,
        errors=tuple(errors),
    )


def parse_json_document(document: Any, source: str = "<json>") -> list[Line]:
    """Parse `{"shipments": [...]}`; a malformed shipment or line becomes an error line."""
    if not isinstance(document, Mapping) or not isinstance(document.get("shipments"), list):
        raise InputError(
            f"input `{source}` must be a JSON object with a `shipments` list: "
            '{"shipments": [{"shipment_id": ..., "lines": [...]}]}'
        )
    shipments = document["shipments"]
    if not shipments:
        raise InputError(f"input `{source}` has an empty `shipments` list")
    lines: list[Line] = []
    for index, raw in enumerate(shipments):
        lines.extend(_shipment(raw, index).flatten())
    return lines


def _party(raw: Any, where: str, errors: list[str]) -> Party:
    if raw is None:
        return Party()
    if not isinstance(raw, Mapping):
        errors.append(f"`{where}` must be an object with name, country, hq_country")
        return Party()
    unknown = set(raw) - PARTY_KEYS
    if unknown:
        errors.append(f"`{where}` has unknown keys: {', '.join(sorted(unknown))}")
    return Party(
        name=_value(raw.get("name")),
        country=_value(raw.get("country")),
        hq_country=_value(raw.get("hq_country")),
    )


def _shipment(raw: Any, index: int) -> Shipment:
    where = f"shipments[{index}]"
    if not isinstance(raw, Mapping):
        return Shipment(lines=(Line(line_id="1", errors=(f"`{where}` must be an object",)),))
    errors: list[str] = []
    consignee, end_user, intermediates = _shipment_parties(raw.get("parties") or {}, where, errors)
    raw_lines = raw.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(f"`{where}.lines` must be a non-empty list of lines")
        raw_lines = [{}]
    extra_shipment = {k: _value(v) for k, v in raw.items() if k not in SHIPMENT_KEYS}
    lines = tuple(
        _shipment_line(raw_line, f"{where}.lines[{i}]", str(i + 1), errors, extra_shipment)
        for i, raw_line in enumerate(raw_lines)
    )
    return Shipment(
        lines=lines,
        shipment_id=_value(raw.get("shipment_id")),
        date=_value(raw.get("date")),
        destination=_value(raw.get("destination")),
        transaction=_value(raw.get("transaction")),
        end_use=_value(raw.get("end_use")),
        veu=_value(raw.get("veu")),
        consignee=consignee,
        end_user=end_user,
        intermediate_consignees=intermediates,
    )


def _shipment_parties(
    parties: Any, where: str, errors: list[str]
) -> tuple[Party, Party, tuple[Party, ...]]:
    """A shipment's consignee, end user and intermediate consignees; what is malformed is
    added to `errors`, which every line of the shipment carries."""
    if not isinstance(parties, Mapping):
        errors.append(f"`{where}.parties` must be an object")
        parties = {}
    consignee = _party(parties.get("consignee"), f"{where}.parties.consignee", errors)
    end_user = _party(parties.get("end_user"), f"{where}.parties.end_user", errors)
    intermediates_raw = parties.get("intermediate_consignees") or []
    if not isinstance(intermediates_raw, list):
        errors.append(f"`{where}.parties.intermediate_consignees` must be a list")
        intermediates_raw = []
    intermediates = tuple(
        _party(p, f"{where}.parties.intermediate_consignees[{i}]", errors)
        for i, p in enumerate(intermediates_raw)
    )
    unknown_parties = set(parties) - {"consignee", "end_user", "intermediate_consignees"}
    if unknown_parties:
        errors.append(f"`{where}.parties` has unknown keys: {', '.join(sorted(unknown_parties))}")
    return consignee, end_user, intermediates


def _shipment_line(
    raw_line: Any,
    where: str,
    default_id: str,
    shipment_errors: list[str],
    extra_shipment: dict[str, Raw],
) -> Line:
    """One line of a JSON shipment, `where` its path in the document: it carries the
    shipment's errors before its own, and the shipment's unknown keys before its own."""
    line_errors = list(shipment_errors)
    if not isinstance(raw_line, Mapping):
        line_errors.append(f"`{where}` must be an object")
        raw_line = {}
    fields = {k: _value(v) for k, v in raw_line.items() if k in LINE_FIELDS}
    extra = dict(extra_shipment)
    extra.update(
        {k: _value(v) for k, v in raw_line.items() if k not in KNOWN_COLUMNS and k != "parties"}
    )
    consignee, end_user = _line_parties(raw_line, where, line_errors)
    if "line_id" not in fields:
        fields["line_id"] = default_id
    return Line(
        **fields,  # type: ignore[arg-type]  # keys are LINE_FIELDS, values are Raw
        consignee=consignee,
        end_user=end_user,
        extra=extra,
        errors=tuple(line_errors),
    )


def _line_parties(
    raw_line: Mapping[str, Any], where: str, line_errors: list[str]
) -> tuple[Party, Party]:
    """A line's own consignee and end user: its `parties` object, then its party columns
    (`consignee_country` ...), which override that object's attribute of the same name."""
    consignee, end_user = Party(), Party()
    own_parties = raw_line.get("parties")
    if isinstance(own_parties, Mapping):
        consignee = _party(own_parties.get("consignee"), f"{where}.parties.consignee", line_errors)
        end_user = _party(own_parties.get("end_user"), f"{where}.parties.end_user", line_errors)
    elif own_parties is not None:
        line_errors.append(f"`{where}.parties` must be an object")
    for column, (role, attribute) in PARTY_COLUMNS.items():
        if column in raw_line:
            current = consignee if role == "consignee" else end_user
            updated = Party(**{**_party_dict(current), attribute: _value(raw_line[column])})
            if role == "consignee":
                consignee = updated
            else:
                end_user = updated
    return consignee, end_user


def _party_dict(party: Party) -> dict[str, Raw]:
    return {"name": party.name, "country": party.country, "hq_country": party.hq_country}
