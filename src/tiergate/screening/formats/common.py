"""What the list readers share: reading a file's text and CSV records, the edition date,
multi-valued cells, countries of addresses, and a Consolidated Screening List entry."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import countrynames

from tiergate.screening.lists import ListEntry, ListFormatError, list_code, make_entry_id
from tiergate.textfiles import TextProblem, decode_text

SDN_NAME = "OFAC Specially Designated Nationals and Blocked Persons List"
SDN_CODE = "SDN"
SDN_SOURCE = "Specially Designated Nationals (SDN) - Treasury Department"

_ISO_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
ALPHA2 = re.compile(r"[A-Za-z]{2}")


def read_text(path: Path, encoding: str | None = None) -> str:
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


def edition_date_of(path: Path, given: date | None, found: str | None = None) -> date:
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


def csv_records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
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


def split_cell(value: str | None, separator: str = ";") -> tuple[str, ...]:
    """A joined multi-value cell as its stripped, non-empty, distinct parts (some published
    cells join values with `;` and no space, so any `;` separates)."""
    if not value:
        return ()
    return tuple(
        dict.fromkeys(part for part in (p.strip() for p in value.split(separator)) if part)
    )


def unique(values: list[str]) -> tuple[str, ...]:
    """The values without repeats, in their first order."""
    return tuple(dict.fromkeys(values))


def address_country(address: str) -> str | None:
    """The ISO-2 country of a `street, city, state, postal, COUNTRY` address.

    The last comma part when it is two letters; otherwise that part looked up as a country
    name (trade.gov writes a few as names: `TURKIYE`, `REGION: WEST BANK`), never when it
    holds a digit (an older address ending at its postal code).
    """
    last = address.rsplit(",", 1)[-1].strip()
    if ALPHA2.fullmatch(last):
        return last.upper()
    if not last or any(ch.isdigit() for ch in last):
        return None
    last = re.sub(r"^region:\s*", "", last, flags=re.IGNORECASE)
    code = countrynames.to_code(last)
    return code if code is not None and ALPHA2.fullmatch(code) else None


def csl_entry(
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
    """A CSL entry from the cells of one row or result (`where` names it in errors)."""
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
