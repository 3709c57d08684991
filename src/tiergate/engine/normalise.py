"""Stage 1, normalise: a line's raw values parsed, and split into the part that decides its
static determination (`StaticLine`, its own memo key) and the part read per line.

`StaticLine` names every raw value the static stages may read; they receive that value, never
the `Line`, so a value they read is always part of the key. Every other column is listed in
`PER_LINE_FIELDS`; a test checks that the two together cover every column of `Line`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import NamedTuple, TypeVar

from tiergate.classify import Specs
from tiergate.engine.classify import ItemQuery
from tiergate.engine.memo import Memo
from tiergate.model import Line, Party
from tiergate.normalise import (
    MAX_ID_LENGTH,
    ValueProblem,
    blank,
    check_stored_text,
    parse_choice,
    parse_date,
    parse_flag,
    parse_number,
    text,
)
from tiergate.rulebook import ItemType, Transaction
from tiergate.terms import MAX_NAME_LENGTH, Raw


class StaticLine(NamedTuple):
    """The raw values of a line that its static determination reads, as given."""

    item: Raw
    eccn: Raw
    tpp: Raw
    die_area_mm2: Raw
    dram_bandwidth_gbps: Raw
    interconnect_gbps: Raw
    tops: Raw
    memory_bandwidth_density: Raw
    datacenter: Raw
    item_type: Raw
    training_operations: Raw
    weights_published: Raw
    published: Raw
    derived_from_published: Raw
    additional_training_operations: Raw
    destination: Raw
    transaction: Raw
    end_use: Raw
    veu: Raw
    consignee_country: Raw
    consignee_hq_country: Raw
    end_user_country: Raw
    end_user_hq_country: Raw
    # Whole parties (only their countries are read): intermediate consignees are rare.
    intermediate_consignees: tuple[Party, ...]


# Where each field of `StaticLine` comes from in a `Line`, where its name differs.
STATIC_SOURCES = {
    "consignee_country": "consignee.country",
    "consignee_hq_country": "consignee.hq_country",
    "end_user_country": "end_user.country",
    "end_user_hq_country": "end_user.hq_country",
}

# The columns read per line, never by the static stages: ids, date, quantity, value, party
# names (screening, allowances, licences), pass-through columns and the reader's errors.
PER_LINE_FIELDS = frozenset(
    {
        "shipment_id",
        "line_id",
        "date",
        "quantity",
        "value",
        "consignee.name",
        "end_user.name",
        "extra",
        "errors",
    }
)

_new_static = tuple.__new__  # StaticLine._make without its length check: one C call per line
_STATIC_VALUES = attrgetter(*(STATIC_SOURCES.get(name, name) for name in StaticLine._fields))


def static_line(line: Line) -> StaticLine:
    """The static part of `line`."""
    return _new_static(StaticLine, _STATIC_VALUES(line))


@dataclass(frozen=True, slots=True)
class ParsedStatic:
    """The vocabularies and parameters of a static line, parsed."""

    query: ItemQuery
    transaction: Transaction
    end_use: str | None
    veu: str | None
    errors: tuple[str, ...]


def parse_static(
    line: StaticLine, end_uses: Collection[str], veu_kinds: Collection[str]
) -> ParsedStatic:
    """Parse the item type, transaction, end use, VEU and item parameters; each problem is an
    error on the line, in column order."""
    errors: list[str] = []
    item_type = _parsed(parse_choice, line.item_type, "item_type", errors, ItemType)
    transaction = Transaction.EXPORT
    try:
        transaction = (
            parse_choice(line.transaction, "transaction", Transaction) or Transaction.EXPORT
        )
    except ValueProblem as problem:
        errors.append(str(problem))
    end_use = text(line.end_use)
    if end_use is not None:
        end_use = end_use.casefold().replace(" ", "_").replace("-", "_")
        if end_use not in end_uses:
            errors.append(f"`end_use` value `{line.end_use}` is not one of: " + ", ".join(end_uses))
            end_use = None
    veu = text(line.veu)
    if veu is not None:
        veu = veu.casefold()
        if veu not in veu_kinds:
            errors.append(f"`veu` value `{line.veu}` is not one of: " + ", ".join(veu_kinds))
            veu = None
    specs = parse_specs(line, errors)
    query = ItemQuery(text(line.item), text(line.eccn), specs, item_type)
    return ParsedStatic(query, transaction, end_use, veu, tuple(errors))


_NO_SPECS = Specs()
# The columns that state item parameters (`published` and `weights_published` are one fact);
# a test checks they cover every field of `Specs` a line can state.
SPEC_COLUMNS = (
    "tpp",
    "die_area_mm2",
    "dram_bandwidth_gbps",
    "interconnect_gbps",
    "tops",
    "memory_bandwidth_density",
    "datacenter",
    "training_operations",
    "weights_published",
    "published",
    "derived_from_published",
    "additional_training_operations",
)
_SPEC_VALUES = attrgetter(*SPEC_COLUMNS)


def parse_specs(line: StaticLine, errors: list[str]) -> Specs:
    """The item parameters the line states (most lines name a catalog item and state none)."""
    if all(value is None for value in _SPEC_VALUES(line)):
        return _NO_SPECS

    def number(value: Raw, column: str) -> float | None:
        return _parsed(parse_number, value, column, errors)

    return Specs(
        tpp=number(line.tpp, "tpp"),
        die_area_mm2=number(line.die_area_mm2, "die_area_mm2"),
        dram_bandwidth_gbps=number(line.dram_bandwidth_gbps, "dram_bandwidth_gbps"),
        interconnect_gbps=number(line.interconnect_gbps, "interconnect_gbps"),
        tops=number(line.tops, "tops"),
        memory_bandwidth_density=number(line.memory_bandwidth_density, "memory_bandwidth_density"),
        datacenter=_parsed(parse_flag, line.datacenter, "datacenter", errors),
        training_operations=number(line.training_operations, "training_operations"),
        weights_published=_published(line, errors),
        derived_from_published=_parsed(
            parse_flag, line.derived_from_published, "derived_from_published", errors
        ),
        additional_training_operations=number(
            line.additional_training_operations, "additional_training_operations"
        ),
    )


def _published(line: StaticLine, errors: list[str]) -> bool | None:
    """`published`, or its model-weights spelling `weights_published`: one fact, so two
    values that disagree are an error, never one of them silently."""
    published = _parsed(parse_flag, line.published, "published", errors)
    weights = _parsed(parse_flag, line.weights_published, "weights_published", errors)
    if published is not None and weights is not None and published != weights:
        errors.append(
            f"`published` value `{line.published}` and `weights_published` value "
            f"`{line.weights_published}` disagree: give one"
        )
        return None
    return published if published is not None else weights


def line_date(
    value: Raw, as_of: date | None, today: date, earliest: date, parsed: Memo[Raw, date | str]
) -> tuple[date | None, str | None]:
    """The date a line is determined on (`as_of`, else its own, else `today`), or None with
    the problem; `parsed` memoises the dates seen."""
    on = as_of
    if on is None:
        found = parsed.get(value)
        if found is None:
            if blank(value):
                found = today  # not remembered: `today` differs between checks
            else:
                try:
                    found = parse_date(value, "date") or today
                except ValueProblem as problem:
                    found = str(problem)
                parsed.put(value, found)
        if isinstance(found, str):
            return None, found
        on = found
    if on < earliest:
        return None, (
            f"date `{on.isoformat()}` is before {earliest.isoformat()}, the first date the "
            "rulebook covers"
        )
    return on, None


def check_stored_texts(line: Line, errors: list[str]) -> None:
    """The ids and party names the ledger stores keep the same limits on every database."""
    texts: tuple[tuple[str, Raw, int], ...] = (
        ("shipment_id", line.shipment_id, MAX_ID_LENGTH),
        ("line_id", line.line_id, MAX_ID_LENGTH),
        ("consignee", line.consignee.name, MAX_NAME_LENGTH),
        ("end_user", line.end_user.name, MAX_NAME_LENGTH),
    )
    if line.intermediate_consignees:
        texts += tuple(
            ("intermediate consignee", party.name, MAX_NAME_LENGTH)
            for party in line.intermediate_consignees
        )
    for column, value, most in texts:
        # The common case, a short text without NUL, is settled here without a call.
        if isinstance(value, str) and (len(value) > most or "\x00" in value):
            try:
                check_stored_text(value, column, most)
            except ValueProblem as problem:
                errors.append(str(problem))


V = TypeVar("V")


def _parsed(
    parser: Callable[..., V | None], value: Raw, column: str, errors: list[str], *more: object
) -> V | None:
    """`parser(value, column, *more)`, or None with its problem added to `errors`."""
    try:
        return parser(value, column, *more)
    except ValueProblem as problem:
        errors.append(str(problem))
        return None
