"""trade.gov's Consolidated Screening List as JSON: `consolidated.json`, or the compact
snapshot (handed on to `read_csl_compact_json`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from tiergate.errors import InputError
from tiergate.inputs import object_without_duplicates
from tiergate.screening.formats.common import csl_entry, edition_date_of, read_text
from tiergate.screening.lists import (
    CSL_NAME,
    ListEdition,
    ListEntry,
    ListFormatError,
    _dedupe_ids,
    _text,
    read_csl_compact_json,
)
from tiergate.textfiles import load_json


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
    """The `country` of each address object, as written."""
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
    document = _document(path)
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
    entries = [
        _entry(f"`{path}` result {number}", raw) for number, raw in enumerate(results, start=1)
    ]
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
        edition_date=edition_date_of(path, edition_date, stated),
        source=path.name,
        entries=tuple(_dedupe_ids(entries)),
        retrieved_at=_text(document.get("retrievedAt")),
    )


def _document(path: Path) -> dict[str, Any]:
    """The file as a JSON object (a key given twice is refused)."""
    try:
        document = load_json(read_text(path), object_pairs_hook=object_without_duplicates)
    except ListFormatError:
        raise
    except InputError as exc:  # a key given twice
        raise ListFormatError(f"`{path}`: {exc}") from exc
    except ValueError as exc:
        raise ListFormatError(f"`{path}` is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ListFormatError(f"`{path}` is not a CSL JSON object")
    return document


def _entry(where: str, raw: Any) -> ListEntry:
    """The entry of one result (`where` names it in errors)."""
    if not isinstance(raw, dict):
        raise ListFormatError(f"{where} is not an object")
    try:
        return csl_entry(
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
    except ListFormatError as exc:
        if str(exc).startswith(where):
            raise
        raise ListFormatError(f"{where} cannot be read: {exc}") from exc
