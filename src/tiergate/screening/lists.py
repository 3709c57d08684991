"""Restricted-party list editions: the entry model and the readers for each published format.

An edition is parsed completely before anything uses it; a reader that meets a row it cannot
use raises `ListFormatError` naming the file and the row, so a truncated or garbled download
never half-replaces a good edition.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tiergate.errors import InputError
from tiergate.textfiles import decode_text, load_json

# The edition name of the Consolidated Screening List, whatever file it was read from.
CSL_NAME = "US Consolidated Screening List"


class ListFormatError(InputError):
    """A list file that cannot be read as the format it claims to be."""


# "Entity List (EL) - Bureau of Industry and Security" -> "EL";
# "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department" -> "NS-MBS".
_CODE = re.compile(r"\(([A-Z][A-Z0-9\-]*)(?: List)?\)")


def list_code(source: str) -> str:
    """The short code of a list from its full CSL source name (`EL`, `SDN`, `DPL`, ...)."""
    found = _CODE.search(source)
    if found is None:
        return source.strip().upper()
    return found.group(1)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed party, as the list publishes it."""

    entry_id: str
    list_code: str
    source: str
    name: str
    alt_names: tuple[str, ...] = ()
    entity_type: str | None = None
    programs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    license_requirement: str | None = None
    license_policy: str | None = None
    federal_register_notice: str | None = None
    source_list_url: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The listed name followed by its aliases."""
        return (self.name, *self.alt_names)

    def fingerprint(self) -> str:
        """A hash of what the entry says; it changes when the list changes the entry."""
        payload = json.dumps(
            [
                self.name,
                sorted(set(self.alt_names)),
                self.entity_type,
                sorted(set(self.programs)),
                sorted(self.countries),
                self.license_requirement,
                self.license_policy,
                self.federal_register_notice,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def make_entry_id(code: str, number: str | None, name: str) -> str:
    """`CODE:number`, or `CODE:h` + a hash of the name for lists without numbers (the
    Entity List publishes none)."""
    if number:
        return f"{code}:{number}"
    return f"{code}:h{hashlib.sha256(name.strip().upper().encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class EditionInfo:
    """What names an edition and what reports say of it, without its entries."""

    name: str
    edition_date: date
    source: str
    retrieved_at: str | None
    content_hash: str
    counts: dict[str, int]  # entries per list code

    @property
    def entries(self) -> int:
        """How many entries the edition holds."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class ListEdition:
    """A whole list edition: where and when it came from, and every entry."""

    name: str
    edition_date: date
    source: str
    entries: tuple[ListEntry, ...]
    retrieved_at: str | None = None
    content_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.content_hash:
            digest = hashlib.sha256()
            for entry in self.entries:
                digest.update(entry.entry_id.encode())
                digest.update(entry.fingerprint().encode())
            object.__setattr__(self, "content_hash", digest.hexdigest())

    def counts(self) -> dict[str, int]:
        """Entries per list code."""
        return dict(sorted(Counter(entry.list_code for entry in self.entries).items()))

    def info(self) -> EditionInfo:
        """The edition without its entries."""
        return EditionInfo(
            self.name,
            self.edition_date,
            self.source,
            self.retrieved_at,
            self.content_hash,
            self.counts(),
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _split(values: Iterable[str]) -> tuple[str, ...]:
    """Values as published, with cells that join several by `;` split apart."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in str(value).split(";") if part.strip())
    return tuple(dict.fromkeys(out))


def _dedupe_ids(entries: list[ListEntry]) -> list[ListEntry]:
    """Give repeated ids (the same party listed twice on one list) a stable suffix."""
    seen: Counter[str] = Counter()
    out = []
    for entry in entries:
        seen[entry.entry_id] += 1
        if seen[entry.entry_id] > 1:
            entry = ListEntry(
                **{**_as_dict(entry), "entry_id": f"{entry.entry_id}#{seen[entry.entry_id]}"}
            )
        out.append(entry)
    return out


def _as_dict(entry: ListEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ListEntry.__slots__}


def read_csl_compact_json(path: Path) -> ListEdition:
    """The compacted CSL snapshot (short keys with lookup tables) in the shared data."""
    try:
        document = load_json(decode_text(path.read_bytes()))
        tables = document["tables"]
        raw_entries = document["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ListFormatError(f"`{path}` is not a compact CSL snapshot: {exc}") from exc

    def table(name: str, index: Any) -> str | None:
        if index is None:
            return None
        return _text(tables[name][index])

    entries = []
    for number, raw in enumerate(raw_entries, start=1):
        try:
            source = tables["sources"][raw["s"]]
            code = list_code(source)
            programs = raw.get("pg")
            entries.append(
                ListEntry(
                    entry_id=make_entry_id(code, _text(raw.get("e")), raw["n"]),
                    list_code=code,
                    source=source,
                    name=raw["n"].strip(),
                    alt_names=_split(raw.get("a", ())),
                    entity_type=_text(raw.get("t")),
                    programs=(
                        ()
                        if programs is None
                        else _split(
                            tables["programmes"][p]
                            for p in (programs if isinstance(programs, list) else [programs])
                        )
                    ),
                    countries=tuple(raw.get("c", ())),
                    license_requirement=table("licenceRequirements", raw.get("lr")),
                    license_policy=table("licencePolicies", raw.get("lp")),
                    federal_register_notice=_text(raw.get("fr")),
                    source_list_url=table("urls", raw.get("u")),
                )
            )
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ListFormatError(f"`{path}` entry {number} cannot be read: {exc!r}") from exc
    generated = str(document.get("sourceGeneratedAt") or document.get("retrievedAt") or "")
    try:
        edition_date = date.fromisoformat(generated[:10])
    except ValueError as exc:
        raise ListFormatError(f"`{path}` has no edition date (sourceGeneratedAt)") from exc
    return ListEdition(
        name=CSL_NAME,
        edition_date=edition_date,
        source=str(document.get("source", {}).get("url", path.name)),
        entries=tuple(_dedupe_ids(entries)),
        retrieved_at=document.get("retrievedAt"),
    )
