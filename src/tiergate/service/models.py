"""What the HTTP service's requests and answers look like: query parameters, bodies (strict:
`0` is not `false`), and the books a check takes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tiergate.keys import Role
from tiergate.rulebook import View
from tiergate.service.problems import Problem
from tiergate.terms import MAX_QUANTITY

# A date in a query: YYYY-MM-DD only (not a number of seconds, which pydantic takes).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DAY: dict[str, Any] = {"pattern": DATE_PATTERN, "json_schema_extra": {"format": "date"}}
AsOf = Annotated[
    str | None,
    Query(
        description="The date to determine on (YYYY-MM-DD; default: each line's own, else today).",
        **_DAY,
    ),
]
Since = Annotated[str | None, Query(description="Entries from this date on (YYYY-MM-DD).", **_DAY)]
ViewQuery = Annotated[View, Query(description="The rules as enforced, or as written.")]
Reserve = Annotated[bool, Query(description="Reserve licence quantities.")]
ScreenLines = Annotated[bool, Query(description="Screen the lines' parties.")]
Commit = Annotated[bool, Query(description="Commit the lines (needs an officer's key).")]


def day(value: str | None, where: str) -> date | None:
    """The date a request gives at `where` (YYYY-MM-DD, its form checked already), if any."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(422, f"{where}: `{value}` is not a date (YYYY-MM-DD)") from None


class Status(BaseModel):
    """What the service runs with: its version, the rulebook's, the screening lists' edition
    and age, and whether its ledger database answers."""

    version: str
    rulebook_version: str
    lists: dict[str, Any]
    database: dict[str, Any]


class ClassifyRequest(BaseModel):
    """An item to classify: a catalog name, or raw specs (at least `tpp`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    item: str | None = Field(None, description="A catalog name or alias, e.g. 'H100 SXM'.")
    tpp: float | None = Field(None, ge=0, description="Total processing performance.")
    die_area: float | None = Field(None, gt=0, description="Applicable die area, mm².")
    dram_bandwidth: float | None = Field(None, ge=0, description="DRAM bandwidth, GB/s.")
    interconnect: float | None = Field(
        None, ge=0, description="Bidirectional chip-to-chip rate, GB/s."
    )
    non_datacenter: bool = Field(False, description="Not designed or marketed for datacenters.")


class ScreenRequest(BaseModel):
    """A party to screen against the restricted-party lists."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=500, description="The party's name.")
    country: str | None = Field(None, max_length=100, description="Its country (name or code).")


HoldId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The hold's id.")]


class Decision(BaseModel):
    """Why a person decides (a hold, a licence's revocation)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=2000, description="The justification.")


class Cancellation(BaseModel):
    """Checked lines that will not ship: one line, else every line of the shipment."""

    model_config = ConfigDict(extra="forbid", strict=True)

    shipment_id: str = Field(min_length=1, max_length=200)
    line_id: str | None = Field(None, min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000, description="Why they are cancelled.")


class NewLicence(BaseModel):
    """A licence as granted: items are ECCNs, ECCN prefixes, EAR99 or control scopes;
    destinations are country names or codes; dates are inclusive."""

    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=1, max_length=200)
    holder: str = Field(min_length=1, max_length=200)
    items: list[str] = Field(min_length=1, description="e.g. 3A090, 4A090.a, EAR99.")
    destinations: list[str] = Field(min_length=1, description="Country names or ISO codes.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Units authorised.")
    valid_from: str = Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})
    valid_to: str = Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})
    parties: list[str] = Field(default_factory=list, description="Named parties, if any.")
    value: float | None = Field(None, ge=0, description="US dollars authorised, if any.")
    conditions: str | None = Field(None, max_length=2000)


class NewSuppression(BaseModel):
    """A reviewed false positive: the party is not the list entry."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=500, description="The party's name.")
    country: str | None = Field(None, min_length=1, max_length=100)
    entry: str = Field(min_length=1, max_length=100, description="The list entry's id.")
    reason: str = Field(min_length=1, max_length=2000, description="Why it is not the entry.")


class NewKey(BaseModel):
    """A key to make: its name (who or what uses it) and role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(strict=False, description="viewer, analyst, officer or admin.")


class BookFormat(StrEnum):
    """The formats a book may be uploaded in."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


JSONL = "application/x-ndjson"
SIDE = "The date and view {}: YYYY-MM-DD, optionally with :enforced or :written (enforced)."
FILE = {
    "description": "The book's file as it is: CSV (the header first), a JSON book, or "
    "Parquet (as application/octet-stream).",
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


BOOK: dict[str, Any] = {
    "description": "The shipments, as a JSON book for `tiergate check BOOK.json`: "
    "`shipments`, each with its `lines` (see the README's Input section).",
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["shipments"],
                "properties": {
                    "shipments": {
                        "type": "array",
                        "description": "Each shipment an object with its `lines`, a list of "
                        "line objects. A shipment or line tiergate cannot read is answered as "
                        "an INDETERMINATE line that says why, never dropped.",
                        "items": {},
                    }
                },
            },
            "example": {
                "shipments": [
                    {
                        "shipment_id": "S-1",
                        "date": "2026-02-01",
                        "destination": "CN",
                        "lines": [{"line_id": "1", "item": "H200", "quantity": 8}],
                    }
                ]
            },
        }
    },
}


DIFF: dict[str, Any] = {
    "description": "The book, as a JSON book (`application/json`), or as a form with its file "
    "(`book`: CSV, JSON or Parquet, by its name) and a rulebook overlay (`overlay`: YAML, "
    "applied to the `to` side).",
    "required": True,
    "content": {
        **BOOK["content"],
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["book"],
                "properties": {
                    "book": {"type": "string", "format": "binary"},
                    "overlay": {"type": "string", "format": "binary"},
                },
            }
        },
    },
}
