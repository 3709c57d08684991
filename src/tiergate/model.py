"""The public data model: shipments in, determinations out.

Inputs keep the raw values a user gave (strings from a CSV, numbers from JSON); the engine's
first step normalises them and turns anything unusable into an error on that line. Outputs are
immutable dataclasses, cheap to build for large books.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from tiergate.rulebook import ReviewPolicy, Tier, View
from tiergate.terms import Raw


class Outcome(StrEnum):
    """Whether a line may ship, most restrictive first in `SEVERITY`."""

    NLR = "NLR"
    EXCEPTION = "EXCEPTION"
    LICENSED = "LICENSED"
    LICENSE_REQUIRED = "LICENSE_REQUIRED"
    INDETERMINATE = "INDETERMINATE"
    HOLD = "HOLD"
    PROHIBITED = "PROHIBITED"


# The precedence table (brief section 1): a line's outcome is the most severe of its findings.
#   PROHIBITED       a licence with a denial policy, an embargo, or a denied party
#   HOLD             an advisory or an exception tiergate cannot verify: a person must review
#   INDETERMINATE    data missing or invalid: never shown as clear
#   LICENSE_REQUIRED a licence with an approval or case-by-case policy
#   LICENSED         covered by a licence the user holds
#   EXCEPTION        a named licence exception, with its conditions
#   NLR              no licence required
SEVERITY: dict[Outcome, int] = {
    Outcome.NLR: 0,
    Outcome.EXCEPTION: 1,
    Outcome.LICENSED: 2,
    Outcome.LICENSE_REQUIRED: 3,
    Outcome.INDETERMINATE: 4,
    Outcome.HOLD: 5,
    Outcome.PROHIBITED: 6,
}

# Outcomes under which a line may leave as it is.
SHIPPABLE = frozenset({Outcome.NLR, Outcome.EXCEPTION, Outcome.LICENSED})

TIER_SEVERITY: dict[Tier, int] = {Tier.UNRESTRICTED: 0, Tier.RESTRICTED: 1, Tier.PROHIBITED: 2}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line got its outcome: the rule id, a one-line message, and the citation."""

    rule: str
    message: str
    citation: str
    uncertain: bool = False
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "message": self.message,
            "citation": self.citation,
        }
        if self.uncertain:
            out["uncertain"] = True
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Party:
    """A party to a shipment: name, country where located, country of its ultimate parent."""

    name: Raw = None
    country: Raw = None
    hq_country: Raw = None


LINE_FIELDS = (
    "shipment_id",
    "line_id",
    "date",
    "item",
    "eccn",
    "tpp",
    "die_area_mm2",
    "dram_bandwidth_gbps",
    "interconnect_gbps",
    "tops",
    "memory_bandwidth_density",
    "datacenter",
    "item_type",
    "training_operations",
    "weights_published",
    "published",
    "derived_from_published",
    "additional_training_operations",
    "quantity",
    "destination",
    "transaction",
    "end_use",
    "veu",
    "value",
)


@dataclass(frozen=True, slots=True)
class Line:
    """One shipment line as the user gave it; every value is raw until the engine normalises it.

    `extra` holds columns tiergate does not know; they pass through to the output untouched.
    """

    shipment_id: Raw = None
    line_id: Raw = None
    date: Raw = None
    item: Raw = None
    eccn: Raw = None
    tpp: Raw = None
    die_area_mm2: Raw = None
    dram_bandwidth_gbps: Raw = None
    interconnect_gbps: Raw = None
    tops: Raw = None  # processing performance in TOPS as 3A991.p counts it (2 x MacTOPS)
    memory_bandwidth_density: Raw = None
    datacenter: Raw = None
    item_type: Raw = None
    training_operations: Raw = None
    weights_published: Raw = None
    published: Raw = None  # technology, software or weights 'published' (15 CFR 734.7)
    derived_from_published: Raw = None
    additional_training_operations: Raw = None
    quantity: Raw = None
    destination: Raw = None
    transaction: Raw = None
    end_use: Raw = None
    veu: Raw = None
    value: Raw = None  # the line's value in US dollars (drawn from a licence's authorized value)
    consignee: Party = field(default_factory=Party)
    end_user: Party = field(default_factory=Party)
    intermediate_consignees: tuple[Party, ...] = ()
    extra: Mapping[str, Raw] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # problems the reader found (kept, never dropped)


@dataclass(frozen=True, slots=True)
class Shipment:
    """A shipment: shared fields, parties and lines; a line's own values override the shipment's."""

    lines: tuple[Line, ...]
    shipment_id: Raw = None
    date: Raw = None
    destination: Raw = None
    transaction: Raw = None
    end_use: Raw = None
    veu: Raw = None
    consignee: Party = field(default_factory=Party)
    end_user: Party = field(default_factory=Party)
    intermediate_consignees: tuple[Party, ...] = ()

    def flatten(self) -> list[Line]:
        """The shipment's lines with the shipment-level values filled in where a line has none."""
        shared = {
            "shipment_id": self.shipment_id,
            "date": self.date,
            "destination": self.destination,
            "transaction": self.transaction,
            "end_use": self.end_use,
            "veu": self.veu,
        }
        out = []
        for line in self.lines:
            changes: dict[str, Any] = {
                name: value
                for name, value in shared.items()
                if value is not None and getattr(line, name) is None
            }
            changes["consignee"] = _merge_party(line.consignee, self.consignee)
            changes["end_user"] = _merge_party(line.end_user, self.end_user)
            if not line.intermediate_consignees:
                changes["intermediate_consignees"] = self.intermediate_consignees
            out.append(replace(line, **changes))
        return out


def _merge_party(own: Party, shared: Party) -> Party:
    return Party(
        name=own.name if own.name is not None else shared.name,
        country=own.country if own.country is not None else shared.country,
        hq_country=own.hq_country if own.hq_country is not None else shared.hq_country,
    )


@dataclass(slots=True)
class LineResult:
    """The determination for one line (not frozen: building 100,000 of them frozen costs more
    than the determination itself; treat it as read-only)."""

    shipment_id: str | None
    line_id: str | None
    as_of: date | None
    item: str | None
    item_name: str | None
    item_type: str | None
    eccn: str | None
    scope: str | None
    tpp: float | None
    performance_density: float | None
    quantity: int | None
    total_tpp: float | None
    h100_equivalents: float | None
    destination: str | None
    destination_note: str | None
    tier: Tier | None
    outcome: Outcome
    exception: str | None
    review_policy: ReviewPolicy | None
    conditions: tuple[str, ...]
    reasons: tuple[Reason, ...]
    errors: tuple[str, ...]
    uncertain: bool
    extra: Mapping[str, Raw]
    # (allowance id, holder, period, TPP) this line takes from an allowance if it ships.
    debits: tuple[tuple[str, str, str, float], ...] = ()
    # The number of the licence that covers the line (outcome LICENSED).
    licence: str | None = None
    # The rules that hold the line (outcome HOLD), or that a person's decision covered.
    hold_signature: str | None = None
    # The line's value in US dollars, when given.
    value: float | None = None
    # The line as given (shipment values filled in): what the ledger records as its content.
    source: Line | None = field(default=None, compare=False, repr=False)

    @property
    def may_ship(self) -> bool:
        """True when the line may leave as it is (NLR, EXCEPTION, LICENSED)."""
        return self.outcome in SHIPPABLE

    def _parties_and_transaction(self) -> dict[str, str | None]:
        """The consignee and the transaction as the line gave them (shipment values filled
        in), so every output says whom and what kind of transaction the answer is for."""
        source = self.source
        if source is None:
            return {"consignee": None, "consignee_country": None, "transaction": None}
        return {
            "consignee": _stripped(source.consignee.name),
            "consignee_country": _stripped(source.consignee.country),
            "transaction": _stripped(source.transaction),
        }

    def as_dict(
        self,
        reason_cache: dict[int, list[dict[str, Any]]] | None = None,
        reserved: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """JSON-ready form; `extra` columns follow tiergate's own fields, renamed where they
        would take one of them or of the `reserved` names the caller adds after them.

        Lines of a book share their reason tuples; pass one `reason_cache` dict for a whole
        report so each tuple is turned into dicts once.
        """
        reasons = None if reason_cache is None else reason_cache.get(id(self.reasons))
        if reasons is None:
            reasons = [reason.as_dict() for reason in self.reasons]
            if reason_cache is not None:
                reason_cache[id(self.reasons)] = reasons
        out: dict[str, Any] = {
            "shipment_id": self.shipment_id,
            "line_id": self.line_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "item": self.item,
            "item_name": self.item_name,
            "item_type": self.item_type,
            "eccn": self.eccn,
            "scope": self.scope,
            "tpp": self.tpp,
            "performance_density": self.performance_density,
            "quantity": self.quantity,
            "value": self.value,
            "total_tpp": self.total_tpp,
            "h100_equivalents": self.h100_equivalents,
            "destination": self.destination,
            "destination_note": self.destination_note,
            **self._parties_and_transaction(),
            "tier": self.tier.value if self.tier else None,
            "outcome": self.outcome.value,
            "exception": self.exception,
            "review_policy": self.review_policy.value if self.review_policy else None,
            "conditions": list(self.conditions),
            "reasons": reasons,
            "errors": list(self.errors),
            "uncertain": self.uncertain,
            "licence": self.licence,
            "hold_signature": self.hold_signature,
            "allowance_debits": [
                {"allowance": a, "holder": h, "period": p, "tpp": t} for a, h, p, t in self.debits
            ],
        }
        taken: dict[str, object] = {**dict.fromkeys(reserved), **out}
        for key, value in self.extra.items():
            name = passthrough_name(key, taken)
            out[name] = taken[name] = value
        return out


def _stripped(value: Raw) -> str | None:
    if value is None:
        return None
    found = str(value).strip()
    return found or None


_CONTENT_FIELDS = tuple(
    name
    for name in Line.__dataclass_fields__
    if name
    not in (
        "shipment_id",
        "line_id",
        "consignee",
        "end_user",
        "intermediate_consignees",
        "extra",
        "errors",
    )
)
_PARTY_PARTS = ("name", "country", "hq_country")
# A book line's content (`line_content`): each key with the column of a one-row-per-line book
# (`inputs.PARTY_COLUMNS`) that gives it, in order.
CONTENT_COLUMNS = (
    *((name, name) for name in _CONTENT_FIELDS),
    *(
        (f"{role}_{part}", role if part == "name" else f"{role}_{part}")
        for role in ("consignee", "end_user")
        for part in _PARTY_PARTS
    ),
)


def line_content(result: LineResult) -> dict[str, str]:
    """What a line says, as text: every column tiergate reads except the ids, with quantity
    and value as parsed (so `10` and `10.0` are the same quantity). Columns tiergate does not
    know pass through and are not part of it. The ledger keeps it with a committed line: the
    same ids with other content are a changed line, not the same one."""
    content: dict[str, str] = {}
    source = result.source
    if source is not None:
        for name in _CONTENT_FIELDS:
            value = _stripped(getattr(source, name))
            if value is not None:
                content[name] = value
        for role, party in (("consignee", source.consignee), ("end_user", source.end_user)):
            _party_content(content, role, party)
        for i, party in enumerate(source.intermediate_consignees, 1):
            _party_content(content, f"intermediate_consignee_{i}", party)
    for name, number in (("quantity", result.quantity), ("value", result.value)):
        if number is not None:
            content[name] = repr(number)
    return content


def _party_content(content: dict[str, str], role: str, party: Party) -> None:
    for part in _PARTY_PARTS:
        value = _stripped(getattr(party, part))
        if value is not None:
            content[f"{role}_{part}"] = value


def passthrough_name(key: str, taken: Mapping[str, object]) -> str:
    """The output name of a pass-through column: its own, or `input:` + it as many times as
    it takes to find a name not taken (so a user's `outcome` column is kept, not
    overwritten, and so is an `input:outcome` column beside it)."""
    name = key
    while name in taken:
        name = f"input:{name}"
    return name


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a report: lines in equals lines out, errors counted."""

    lines_in: int
    lines_out: int
    by_outcome: dict[str, int]
    by_tier: dict[str, int]
    lines_with_errors: int
    may_ship: int
    may_not_ship: int
    # `shipment_id/line_id` keys that more than one line of the book carries: a commit refuses
    # those lines, since the ledger records one line per key.
    duplicate_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines_in": self.lines_in,
            "lines_out": self.lines_out,
            "by_outcome": self.by_outcome,
            "by_tier": self.by_tier,
            "lines_with_errors": self.lines_with_errors,
            "may_ship": self.may_ship,
            "may_not_ship": self.may_not_ship,
            "duplicate_ids": list(self.duplicate_ids),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """What `tiergate.check` returns."""

    as_of: date | None
    view: View
    rulebook_version: str
    editions: tuple[dict[str, str], ...]
    lines: tuple[LineResult, ...]
    summary: Summary
    allowances: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 when every line may ship, 3 when some line may not ship as it is."""
        return 0 if self.summary.may_not_ship == 0 else 3

    def as_dict(self) -> dict[str, Any]:
        cache: dict[int, list[dict[str, Any]]] = {}
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "view": self.view.value,
            "rulebook_version": self.rulebook_version,
            "editions": list(self.editions),
            "lines": [line.as_dict(cache) for line in self.lines],
            "summary": self.summary.as_dict(),
            "allowances": self.allowances,
        }
