"""The ledger's records: allowance usage, licences, cancellations, holds, the audit trail and
the database itself. Each operation opens the ledger through `Workspace.ledger` and raises
`tiergate.errors` exceptions with the message a person acts on."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiergate.errors import UsageError, option
from tiergate.keys import HolderKey, HoldStatus, Period
from tiergate.normalise import ValueProblem, name_key, parse_money

if TYPE_CHECKING:
    from tiergate.engine import Engine
    from tiergate.workflow import Workspace

log = logging.getLogger("tiergate")


def allowances(
    workspace: Workspace,
    *,
    country: str | None = None,
    consignee: str | None = None,
    year: int | None = None,
) -> list[dict[str, Any]]:
    """Allowance usage recorded in the ledger, one row per allowance, holder and period:
    used and remaining TPP and H100-equivalents; only `country`'s holders, consignees whose
    name contains `consignee`, and periods including `year`, when given."""
    engine = workspace.engine()
    code = None
    if country is not None:
        place = engine.countries.resolve(country, date.today())
        if place is None:
            raise UsageError(f"{option('country')} `{country}` is not a country tiergate knows")
        code = place.code
    h100 = engine.rulebook.meta.h100_tpp
    allocation_given = workspace.settings.country_allocation_tpp is not None
    rows: list[dict[str, Any]] = []
    usage = workspace.ledger(required=True, read_only=True).allowance_state().used
    for (allowance_id, holder, period), used in sorted(usage.items()):
        key = HolderKey.parse(holder)
        if year is not None and not Period.parse(period).includes(year):
            continue
        if code is not None and key.country != code:
            continue
        if consignee is not None and (key.name is None or name_key(consignee) not in key.name):
            continue
        allowance = engine.allowance(allowance_id)
        limit = allowance.limit_tpp
        rows.append(
            {
                "allowance": allowance_id,
                "holder": holder,
                "period": period,
                "used_tpp": used,
                "remaining_tpp": max(limit - used, 0.0),
                "limit_tpp": limit,
                "used_h100_equivalents": round(used / h100, 1),
                "remaining_h100_equivalents": round(max(limit - used, 0.0) / h100, 1),
                "uncertain": allowance.uncertain and not allocation_given,
                "citation": allowance.citation,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class LicenceTerms:
    """A licence as a person states it, before it is checked: items are ECCNs, ECCN prefixes,
    EAR99 or control scopes; destinations are country names or codes; dates inclusive."""

    number: str
    holder: str
    items: list[str]
    destinations: list[str]
    quantity: int
    valid_from: date | None
    valid_to: date | None
    parties: list[str]
    value: float | None = None
    conditions: str | None = None


def add_licence(workspace: Workspace, terms: LicenceTerms, actor: str) -> dict[str, Any]:
    """Check `terms` and record the licence (audited); returns the record as stored."""
    start, end = terms.valid_from, terms.valid_to
    if start is None or end is None:
        raise UsageError(f"give {option('valid_from')} and {option('valid_to')} as YYYY-MM-DD")
    if end < start:
        raise UsageError(f"{option('valid_to')} {end} is before {option('valid_from')} {start}")
    engine = workspace.engine()
    items = [_licence_item(given, engine) for given in terms.items]
    value = None if terms.value is None else _money(terms.value, option("value"))
    codes = []
    for name in terms.destinations:
        place = engine.countries.resolve(name, start)
        if place is None:
            raise UsageError(f"{option('destination')} `{name}` is not a country tiergate knows")
        codes.append(place.as_written)
    record: dict[str, Any] = {
        "number": terms.number,
        "holder": terms.holder,
        "items": items,
        "destinations": codes,
        "parties": list(terms.parties),
        "authorized_quantity": terms.quantity,
        "authorized_value": value,
        "valid_from": start.isoformat(),
        "valid_to": end.isoformat(),
        "conditions": terms.conditions,
    }
    workspace.ledger(required=True).add_licence(record, actor)
    log.info("licence %s recorded", terms.number)
    return record


_ECCN = re.compile(r"[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*", re.IGNORECASE)


def _licence_item(given: str, engine: Engine) -> str:
    """An ECCN (3A090), an ECCN prefix (4A090.a), EAR99 or a control scope tiergate knows."""
    value = given.strip()
    scopes = sorted({c.scope for c in engine.rulebook.item_classes.classes if _ECCN.match(c.scope)})
    if value in scopes or value.upper() == "EAR99":
        return value.upper() if value.upper() == "EAR99" else value
    if _ECCN.fullmatch(value):
        return value[:5].upper() + value[5:].casefold()
    raise UsageError(
        f"{option('item')} `{given}` is not an ECCN (e.g. 3A090 or 4A090.a), EAR99 or a control "
        f"scope tiergate knows ({', '.join(scopes)})"
    )


def _money(value: float, name: str) -> float:
    try:
        money = parse_money(value, name)
    except ValueProblem as problem:
        raise UsageError(str(problem)) from problem
    assert money is not None
    return money


def licences(workspace: Workspace) -> list[dict[str, Any]]:
    """Every licence with its used, reserved and remaining quantity (and value)."""
    return workspace.ledger(required=True, read_only=True).licences()


def licence(workspace: Workspace, number: str) -> dict[str, Any]:
    """Licence `number` in full, with its balance."""
    from tiergate.ledger.store import NotRecorded

    for row in licences(workspace):
        if row["number"] == number:
            return row
    raise NotRecorded(f"licence `{number}` is not recorded")


def revoke_licence(workspace: Workspace, number: str, reason: str, actor: str) -> None:
    """Revoke licence `number`: it covers nothing from now on (audited)."""
    workspace.ledger(required=True).revoke_licence(number, actor, reason)


def cancel(
    workspace: Workspace, shipment_id: str, line: str | None, reason: str, actor: str
) -> int:
    """Cancel checked lines that will not ship (one `line`, else every line of the shipment);
    returns how many licence reservations went back to their licences."""
    if not reason.strip():
        raise UsageError(f"{option('reason')} must say why the lines are cancelled")
    return workspace.ledger(required=True).cancel(shipment_id, line, actor, reason.strip())


def holds(workspace: Workspace, status: HoldStatus | None = None) -> list[dict[str, Any]]:
    """Held lines recorded by checks against the ledger (only those in `status`, if given)."""
    return workspace.ledger(required=True, read_only=True).holds(status)


def decide_hold(
    workspace: Workspace, hold_id: int, status: HoldStatus, by: str, reason: str
) -> None:
    """Release or reject (`status`) held line `hold_id`, by reviewer `by` (audited)."""
    workspace.ledger(required=True).decide_hold(hold_id, status, by, reason)


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The audit trail's verification: every problem found, and the head (entries, hash)."""

    problems: list[str]
    head: dict[str, Any]


def verify_audit(workspace: Workspace, anchor: str | None = None) -> AuditCheck:
    """Check the trail's hash chain and head (and that `anchor`, a hash kept outside the
    database, is still in it)."""
    ledger = workspace.ledger(required=True, read_only=True)
    problems = ledger.audit_verify(anchor)
    return AuditCheck(problems, {} if problems else ledger.audit_head())


def export_audit(
    workspace: Workspace, since: date | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The audit entries (from `since`, when given) and the trail's head."""
    ledger = workspace.ledger(required=True, read_only=True)
    return ledger.audit_entries(since), ledger.audit_head()


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What `upgrade` did: the schema before and after, and suppressions moved from the old
    JSON file (`moved` from `legacy`; None when there was none)."""

    url: str
    before: str | None
    after: str
    legacy: Path | None = None
    moved: int = 0


def upgrade(workspace: Workspace) -> Upgrade:
    """Create or migrate the ledger database to the current schema, and move the old
    suppressions file of the home into it (audited)."""
    ledger = workspace.ledger(required=True)
    before, after = ledger.upgrade()
    log.info("ledger schema %s -> %s", before or "none", after)
    legacy = workspace.settings.home / "suppressions.json"
    if not legacy.is_file():
        return Upgrade(ledger.url, before, after)
    moved = ledger.import_suppressions(legacy, "db upgrade")
    return Upgrade(ledger.url, before, after, legacy, moved)
