"""OFAC's raw `sdn.csv`: the Specially Designated Nationals list as Treasury publishes it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import countrynames

from tiergate.screening.formats.common import (
    ALPHA2,
    csv_records,
    edition_date_of,
    read_text,
    unique,
)
from tiergate.screening.lists import (
    ListEdition,
    ListEntry,
    ListFormatError,
    _dedupe_ids,
    make_entry_id,
)

SDN_NAME = "OFAC Specially Designated Nationals and Blocked Persons List"
SDN_CODE = "SDN"
SDN_SOURCE = "Specially Designated Nationals (SDN) - Treasury Department"

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
    return unique([a.strip() for a in _ALIAS.findall(remarks.strip()) if a.strip()])


def sdn_nationalities(remarks: str | None) -> tuple[str, ...]:
    """ISO-2 codes of the `nationality <Country>` statements in an SDN remark (names that
    countrynames does not know are left out)."""
    if not remarks:
        return ()
    codes = []
    for name in _NATIONALITY.findall(remarks):
        code = countrynames.to_code(name.strip())
        if code is not None and ALPHA2.fullmatch(code):
            codes.append(code)
    return unique(codes)


def read_ofac_sdn(path: Path, edition_date: date | None = None) -> ListEdition:
    """OFAC's raw `sdn.csv`: no header, 12 columns (`ent_num` ... `Remarks`), `-0-` for
    empty, latin-1, CRLF, ending with a lone `\\x1a` byte (skipped).

    Programs come from `Program` (`[SDGT] [IRGC]` or `CUBA`); aliases from the quoted
    `a.k.a.` / `f.k.a.` / `n.k.a.` names in `Remarks`; countries only from `nationality
    <Country>` there (the file has no addresses). A blank type is `Entity`. The edition date
    is `edition_date`, else the YYYY-MM-DD in the file name.
    """
    text = read_text(path, "latin-1")
    body = text.rstrip("\r\n")
    if body.endswith("\x1a"):
        text = body[:-1]
    entries = []
    for line, row in csv_records(path, text):
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
        edition_date=edition_date_of(path, edition_date),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
    )
