"""Readers for the downloadable list formats, and the difference between two editions.

- `read_csl_csv`: the trade.gov Consolidated Screening List CSV (29 columns) and the 11-column
  expanded CSV kept in the shared data; which one is told by the header.
- `read_csl_json`: trade.gov's `consolidated.json` (or the compact snapshot, handed on to
  `read_csl_compact_json`).
- `read_ofac_sdn`: Treasury's raw `sdn.csv` (no header, `-0-` for empty, latin-1, a trailing
  `\\x1a`).
- `read_list`: picks one of the above from the file's content.
- `diff_editions`: what was added, removed and changed between two editions.

Like the compact reader, every reader is strict: a row it cannot use raises `ListFormatError`
naming the file and the line, and no row is ever dropped without a word.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import countrynames

from tiergate.errors import InputError
from tiergate.inputs import object_without_duplicates, refuse_duplicate_columns
from tiergate.screening.lists import (
    ListEdition,
    ListEntry,
    ListFormatError,
    _dedupe_ids,
    _text,
    list_code,
    make_entry_id,
    read_csl_compact_json,
)
from tiergate.textfiles import TextProblem, decode_text, load_json

CSL_NAME = "US Consolidated Screening List"
SDN_NAME = "OFAC Specially Designated Nationals and Blocked Persons List"
SDN_CODE = "SDN"
SDN_SOURCE = "Specially Designated Nationals (SDN) - Treasury Department"

# The columns the CSV readers use; a header must hold all of them (in any order, extra
# columns allowed). The full trade.gov file has `addresses`, the expanded one `address_countries`.
_CSL_COMMON = (
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "alt_names",
    "federal_register_notice",
    "license_requirement",
    "license_policy",
    "source_list_url",
)
CSL_FULL_COLUMNS = (
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
)
CSL_EXPANDED_COLUMNS = (
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "alt_names",
    "address_countries",
    "federal_register_notice",
    "license_requirement",
    "license_policy",
    "source_list_url",
)

SDN_COLUMNS = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
_SDN_TYPES = {"individual": "Individual", "vessel": "Vessel", "aircraft": "Aircraft"}
# Quoted names after a.k.a. / f.k.a. / n.k.a., each ending at a quote followed by `;` or the
# end of the remarks; names may hold apostrophes (`'PEOPLE'S ARMY'`, `'ABU AL-WAFA''`).
# OFAC cuts Remarks at 1,000 characters: a last alias with no closing quote is incomplete
# and is not taken.
_ALIAS = re.compile(r"(?:^|;)\s*[afn]\.k\.a\.\s+'(.*?)'(?=\s*(?:;|\.?\s*$))")
_NATIONALITY = re.compile(
    r"(?:^|;)\s*(?:alt\.\s+)?nationality:?\s+(?:of registration\s+)?([^;]+?)\.?\s*(?=;|$)",
    re.IGNORECASE,
)
_PROGRAM_SPLIT = re.compile(r"\]\s*\[")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
_ALPHA2 = re.compile(r"[A-Za-z]{2}")


# --- shared helpers ---------------------------------------------------------------------


def _read_text(path: Path, encoding: str | None = None) -> str:
    """The file's text in `encoding`, else as `textfiles.decode_text` reads it."""
    try:
        raw = path.read_bytes()
        return decode_text(raw) if encoding is None else raw.decode(encoding)
    except OSError as exc:
        raise ListFormatError(f"`{path}` cannot be read: {exc}") from exc
    except TextProblem as exc:
        raise ListFormatError(f"`{path}`: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ListFormatError(
            f"`{path}` is not {encoding} text (byte {exc.start}): {exc.reason}"
        ) from exc


def _edition_date(path: Path, given: date | None, found: str | None = None) -> date:
    """The date given, else one the file states (`found`), else the YYYY-MM-DD in the name."""
    if given is not None:
        return given
    if found:
        try:
            return date.fromisoformat(found[:10])
        except ValueError:
            pass
    dates = set(_ISO_DATE.findall(path.name))
    if len(dates) == 1:
        (text,) = dates
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise ListFormatError(
                f"`{path.name}` holds `{text}`, which is not a date; pass `edition_date`"
            ) from exc
    raise ListFormatError(
        f"`{path}` has no edition date in its name (YYYY-MM-DD); pass `edition_date`"
    )


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for row in reader:
            if row:
                yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ListFormatError(f"`{path}` line {line} is not valid CSV: {exc}") from exc


def _split(value: str | None, separator: str = ";") -> tuple[str, ...]:
    """A joined multi-value cell as its stripped, non-empty, distinct parts (some published
    cells join values with `;` and no space, so any `;` separates)."""
    if not value:
        return ()
    return tuple(
        dict.fromkeys(part for part in (p.strip() for p in value.split(separator)) if part)
    )


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _address_country(address: str) -> str | None:
    """The ISO-2 country of a `street, city, state, postal, COUNTRY` address.

    The last comma part when it is two letters; otherwise that part looked up as a country
    name (trade.gov writes a few as names: `TURKIYE`, `REGION: WEST BANK`), never when it
    holds a digit (an older address ending at its postal code).
    """
    last = address.rsplit(",", 1)[-1].strip()
    if _ALPHA2.fullmatch(last):
        return last.upper()
    if not last or any(ch.isdigit() for ch in last):
        return None
    last = re.sub(r"^region:\s*", "", last, flags=re.IGNORECASE)
    code = countrynames.to_code(last)
    return code if code is not None and _ALPHA2.fullmatch(code) else None


def _csl_entry(
    where: str,
    *,
    source: str | None,
    entity_number: str | None,
    name: str | None,
    entity_type: str | None,
    programs: tuple[str, ...],
    alt_names: tuple[str, ...],
    countries: tuple[str, ...],
    license_requirement: str | None,
    license_policy: str | None,
    federal_register_notice: str | None,
    source_list_url: str | None,
) -> ListEntry:
    if source is None:
        raise ListFormatError(f"{where} has no `source`")
    if name is None:
        raise ListFormatError(f"{where} has no `name`")
    code = list_code(source)
    return ListEntry(
        entry_id=make_entry_id(code, entity_number, name),
        list_code=code,
        source=source,
        name=name,
        alt_names=alt_names,
        entity_type=entity_type,
        programs=programs,
        countries=countries,
        license_requirement=license_requirement,
        license_policy=license_policy,
        federal_register_notice=federal_register_notice,
        source_list_url=source_list_url,
    )


# --- trade.gov CSV ------------------------------------------------------------------------


def read_csl_csv(path: Path, edition_date: date | None = None) -> ListEdition:
    """The Consolidated Screening List as CSV: trade.gov's full 29-column download or the
    11-column expanded file, told apart by the header.

    Multi-valued cells are joined with `; `. In the full file each address is
    `street, city, state, postal, COUNTRY` and the entry's countries are the addresses'
    ISO-2 countries; the expanded file lists them in `address_countries`, kept as written.
    Licence texts are kept as published (stray footnote digits included), only stripped.
    The edition date is `edition_date`, else the YYYY-MM-DD in the file name.
    """
    text = _read_text(path)
    records = _csv_records(path, text)
    first = next(records, None)
    if first is None:
        raise ListFormatError(f"`{path}` is empty")
    header = [column.strip().lower() for column in first[1]]
    refuse_duplicate_columns(header, f"`{path}`")
    if "addresses" in header:
        countries_column = "addresses"
    elif "address_countries" in header:
        countries_column = "address_countries"
    else:
        raise ListFormatError(
            f"`{path}` header `{','.join(first[1])[:200]}` is neither the trade.gov CSL CSV "
            "(`addresses`) nor the expanded CSV (`address_countries`)"
        )
    missing = [c for c in (*_CSL_COMMON, countries_column) if c not in header]
    if missing:
        raise ListFormatError(f"`{path}` header lacks the columns `{', '.join(missing)}`")
    column = {name: header.index(name) for name in (*_CSL_COMMON, countries_column)}
    full = countries_column == "addresses"

    entries = []
    for line, row in records:
        if len(row) != len(header):
            raise ListFormatError(
                f"`{path}` line {line} has {len(row)} fields, the header {len(header)}"
            )

        def cell(name: str, row: list[str] = row) -> str | None:
            return _text(row[column[name]])

        where = f"`{path}` line {line}"
        if full:
            countries = _unique(
                [
                    code
                    for address in _split(cell("addresses"), ";")
                    if (code := _address_country(address)) is not None
                ]
            )
        else:
            countries = _split(cell("address_countries"))
        entries.append(
            _csl_entry(
                where,
                source=cell("source"),
                entity_number=cell("entity_number"),
                name=cell("name"),
                entity_type=cell("type"),
                programs=_split(cell("programs")),
                alt_names=_split(cell("alt_names")),
                countries=countries,
                license_requirement=cell("license_requirement"),
                license_policy=cell("license_policy"),
                federal_register_notice=cell("federal_register_notice"),
                source_list_url=cell("source_list_url"),
            )
        )
    return ListEdition(
        name=CSL_NAME,
        edition_date=_edition_date(path, edition_date),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
    )


# --- trade.gov JSON -----------------------------------------------------------------------


def _strings(value: Any, key: str) -> tuple[str, ...]:
    """A JSON list of strings (or one string, or null) as stripped, non-empty strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ListFormatError(f"`{key}` is not a list of strings")
    return tuple(s for s in (v.strip() for v in value) if s)


def _json_countries(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        raise ListFormatError("`addresses` is not a list of objects")
    return tuple(c for c in (_text(a.get("country")) for a in value) if c is not None)


def read_csl_json(path: Path, edition_date: date | None = None) -> ListEdition:
    """The Consolidated Screening List as trade.gov's `consolidated.json` (`results`, `total`).

    Countries are the addresses' `country` values, as written. A file with `tables` and
    `entries` is the compact snapshot and goes to `read_csl_compact_json`. The edition date
    is `edition_date`, else a generation date the file states, else the YYYY-MM-DD in the
    file name.
    """
    try:
        document = load_json(_read_text(path), object_pairs_hook=object_without_duplicates)
    except ListFormatError:
        raise
    except InputError as exc:  # a key given twice
        raise ListFormatError(f"`{path}`: {exc}") from exc
    except ValueError as exc:
        raise ListFormatError(f"`{path}` is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ListFormatError(f"`{path}` is not a CSL JSON object")
    if "tables" in document and "entries" in document:
        edition = read_csl_compact_json(path)
        return edition if edition_date is None else replace(edition, edition_date=edition_date)
    results = document.get("results")
    if not isinstance(results, list):
        raise ListFormatError(f"`{path}` has no `results` list")
    total = document.get("total")
    if isinstance(total, int) and total != len(results):
        raise ListFormatError(
            f"`{path}` says `total` {total} but holds {len(results)} results; "
            "a page of a search is not an edition"
        )

    entries = []
    for number, raw in enumerate(results, start=1):
        where = f"`{path}` result {number}"
        if not isinstance(raw, dict):
            raise ListFormatError(f"{where} is not an object")
        try:
            entries.append(
                _csl_entry(
                    where,
                    source=_text(raw.get("source")),
                    entity_number=_text(raw.get("entity_number")),
                    name=_text(raw.get("name")),
                    entity_type=_text(raw.get("type")),
                    programs=_strings(raw.get("programs"), "programs"),
                    alt_names=_strings(raw.get("alt_names"), "alt_names"),
                    countries=_json_countries(raw.get("addresses")),
                    license_requirement=_text(raw.get("license_requirement")),
                    license_policy=_text(raw.get("license_policy")),
                    federal_register_notice=_text(raw.get("federal_register_notice")),
                    source_list_url=_text(raw.get("source_list_url")),
                )
            )
        except ListFormatError as exc:
            if str(exc).startswith(where):
                raise
            raise ListFormatError(f"{where} cannot be read: {exc}") from exc
    stated = next(
        (
            str(document[key])
            for key in ("sourceGeneratedAt", "search_performed_at", "generated_at")
            if document.get(key)
        ),
        None,
    )
    return ListEdition(
        name=CSL_NAME,
        edition_date=_edition_date(path, edition_date, stated),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
        retrieved_at=_text(document.get("retrievedAt")),
    )


# --- OFAC sdn.csv -------------------------------------------------------------------------


def _ofac(value: str) -> str | None:
    """A cell of sdn.csv: `-0-` (often `-0- `) and blank are empty."""
    value = value.strip()
    return None if value in ("", "-0-") else value


def sdn_programs(value: str | None) -> tuple[str, ...]:
    """`[SDGT] [IRGC]`, `SDGT] [IRGC` (the brackets sdn.csv keeps) or `CUBA` as codes."""
    if not value:
        return ()
    inner = value.strip().removeprefix("[").removesuffix("]")
    return tuple(p for p in (part.strip() for part in _PROGRAM_SPLIT.split(inner)) if p)


def sdn_aliases(remarks: str | None) -> tuple[str, ...]:
    """The quoted names after `a.k.a.`, `f.k.a.` and `n.k.a.` in an SDN remark."""
    if not remarks:
        return ()
    return _unique([a.strip() for a in _ALIAS.findall(remarks.strip()) if a.strip()])


def sdn_nationalities(remarks: str | None) -> tuple[str, ...]:
    """ISO-2 codes of the `nationality <Country>` statements in an SDN remark (names that
    countrynames does not know are left out)."""
    if not remarks:
        return ()
    codes = []
    for name in _NATIONALITY.findall(remarks):
        code = countrynames.to_code(name.strip())
        if code is not None and _ALPHA2.fullmatch(code):
            codes.append(code)
    return _unique(codes)


def read_ofac_sdn(path: Path, edition_date: date | None = None) -> ListEdition:
    """OFAC's raw `sdn.csv`: no header, 12 columns (`ent_num` ... `Remarks`), `-0-` for
    empty, latin-1, CRLF, ending with a lone `\\x1a` byte (skipped).

    Programs come from `Program` (`[SDGT] [IRGC]` or `CUBA`); aliases from the quoted
    `a.k.a.` / `f.k.a.` / `n.k.a.` names in `Remarks`; countries only from `nationality
    <Country>` there (the file has no addresses). A blank type is `Entity`. The edition date
    is `edition_date`, else the YYYY-MM-DD in the file name.
    """
    text = _read_text(path, "latin-1")
    body = text.rstrip("\r\n")
    if body.endswith("\x1a"):
        text = body[:-1]
    entries = []
    for line, row in _csv_records(path, text):
        where = f"`{path}` line {line}"
        if len(row) != len(SDN_COLUMNS):
            raise ListFormatError(
                f"{where} has {len(row)} fields, expected {len(SDN_COLUMNS)}: "
                f"`{','.join(row)[:80]}`"
            )
        number = row[0].strip()
        if not number.isdigit():
            raise ListFormatError(f"{where} has `{number}` for `ent_num`, not a number")
        name = _ofac(row[1])
        if name is None:
            raise ListFormatError(f"{where} has no `SDN_Name`")
        kind = _ofac(row[2])
        remarks = _ofac(row[11])
        entries.append(
            ListEntry(
                entry_id=make_entry_id(SDN_CODE, number, name),
                list_code=SDN_CODE,
                source=SDN_SOURCE,
                name=name,
                alt_names=sdn_aliases(remarks),
                entity_type=(
                    "Entity" if kind is None else _SDN_TYPES.get(kind.lower(), kind.title())
                ),
                programs=sdn_programs(_ofac(row[3])),
                countries=sdn_nationalities(remarks),
            )
        )
    if not entries:
        raise ListFormatError(f"`{path}` holds no SDN rows")
    return ListEdition(
        name=SDN_NAME,
        edition_date=_edition_date(path, edition_date),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
    )


# --- dispatch -----------------------------------------------------------------------------


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
