"""trade.gov's Consolidated Screening List as CSV: the full 29-column download, or the
11-column expanded file kept in the shared data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tiergate.csvrows import refuse_duplicate_columns
from tiergate.screening.formats.common import (
    address_country,
    csl_entry,
    csv_records,
    edition_date_of,
    read_text,
    split_cell,
    unique,
)
from tiergate.screening.lists import (
    CSL_NAME,
    ListEdition,
    ListEntry,
    ListFormatError,
    _dedupe_ids,
    _text,
)

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


def read_csl_csv(path: Path, edition_date: date | None = None) -> ListEdition:
    """The Consolidated Screening List as CSV: trade.gov's full 29-column download or the
    11-column expanded file, told apart by the header.

    Multi-valued cells are joined with `; `. In the full file each address is
    `street, city, state, postal, COUNTRY` and the entry's countries are the addresses'
    ISO-2 countries; the expanded file lists them in `address_countries`, kept as written.
    Licence texts are kept as published (stray footnote digits included), only stripped.
    The edition date is `edition_date`, else the YYYY-MM-DD in the file name.
    """
    records = csv_records(path, read_text(path))
    first = next(records, None)
    if first is None:
        raise ListFormatError(f"`{path}` is empty")
    width, column = _header(path, first[1])
    entries = []
    for line, row in records:
        if len(row) != width:
            raise ListFormatError(f"`{path}` line {line} has {len(row)} fields, the header {width}")
        entries.append(_entry(f"`{path}` line {line}", row, column))
    return ListEdition(
        name=CSL_NAME,
        edition_date=edition_date_of(path, edition_date),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
    )


def _header(path: Path, cells: list[str]) -> tuple[int, dict[str, int]]:
    """The header's width and where each column the reader uses is; the countries column
    tells the files apart (`addresses` in the full one, `address_countries` in the other)."""
    header = [column.strip().lower() for column in cells]
    refuse_duplicate_columns(header, f"`{path}`")
    if "addresses" in header:
        countries_column = "addresses"
    elif "address_countries" in header:
        countries_column = "address_countries"
    else:
        raise ListFormatError(
            f"`{path}` header `{','.join(cells)[:200]}` is neither the trade.gov CSL CSV "
            "(`addresses`) nor the expanded CSV (`address_countries`)"
        )
    missing = [c for c in (*_CSL_COMMON, countries_column) if c not in header]
    if missing:
        raise ListFormatError(f"`{path}` header lacks the columns `{', '.join(missing)}`")
    return len(header), {name: header.index(name) for name in (*_CSL_COMMON, countries_column)}


def _entry(where: str, row: list[str], column: dict[str, int]) -> ListEntry:
    """The entry of one row, read through the header's `column` positions."""

    def cell(name: str) -> str | None:
        return _text(row[column[name]])

    if "addresses" in column:
        countries = unique(
            [
                code
                for address in split_cell(cell("addresses"), ";")
                if (code := address_country(address)) is not None
            ]
        )
    else:
        countries = split_cell(cell("address_countries"))
    return csl_entry(
        where,
        source=cell("source"),
        entity_number=cell("entity_number"),
        name=cell("name"),
        entity_type=cell("type"),
        programs=split_cell(cell("programs")),
        alt_names=split_cell(cell("alt_names")),
        countries=countries,
        license_requirement=cell("license_requirement"),
        license_policy=cell("license_policy"),
        federal_register_notice=cell("federal_register_notice"),
        source_list_url=cell("source_list_url"),
    )
