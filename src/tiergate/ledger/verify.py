"""Where the ledger's tables say what no audit entry says (or the reverse): a committed line,
allowance usage, licence, hold decision or suppression added, changed or deleted outside
tiergate. Each table is compared with the entries of the actions that write it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from tiergate.keys import HoldStatus, LicenceStatus, SuppressionStatus
from tiergate.ledger.amounts import CENT, ZERO, exact
from tiergate.ledger.models import COMMITTED, USAGE, Hold, Licence, SuppressionRow
from tiergate.ledger.store import column_values
from tiergate.screening.suppressions import Suppression


def state_problems(connection: Connection, entries: list[dict[str, Any]]) -> list[str]:
    """Every disagreement between the tables and the trail's `entries`."""
    by_action: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_action.setdefault(entry["action"], []).append(entry)
    return [
        *_committed_problems(connection, by_action.get("commit", [])),
        *_licence_problems(connection, by_action),
        *_hold_problems(connection, by_action),
        *_suppression_problems(connection, by_action),
    ]


def _committed_problems(connection: Connection, commits: list[dict[str, Any]]) -> list[str]:
    """Committed lines against the commit entries that list them, and allowance usage
    against the debits of the committed lines."""
    problems = []
    audited = {key for entry in commits for key in entry["payload"].get("committed", [])}
    recorded: set[str] = set()
    debited: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    for shipment_id, line_id, debits in connection.execute(
        select(COMMITTED.c.shipment_id, COMMITTED.c.line_id, COMMITTED.c.debits)
    ):
        recorded.add(f"{shipment_id}/{line_id}")
        for allowance_id, holder, period, amount in debits:
            key = (allowance_id, holder, period)
            total, legacy = debited.get(key, (ZERO, 0))
            debited[key] = (total + exact(amount), legacy + (not isinstance(amount, str)))
    for line in sorted(recorded - audited):
        problems.append(f"committed line {line} is in no commit entry: added outside tiergate")
    for line in sorted(audited - recorded):
        problems.append(
            f"committed line {line} of a commit entry is gone: deleted outside tiergate"
        )
    usage = {
        (allowance_id, holder, period): used
        for allowance_id, holder, period, used in connection.execute(
            select(USAGE.c.allowance_id, USAGE.c.holder, USAGE.c.period, USAGE.c.used_tpp)
        )
    }
    for key in sorted(usage.keys() | debited.keys()):
        used = usage.get(key, ZERO)
        total, legacy = debited.get(key, (ZERO, 0))
        # Debits recorded before 0007 were floats: each may differ from its share of the
        # usage (rounded to the cent by the migration) by a cent. Since then, sums are exact.
        if abs(used - total) > CENT * legacy:
            problems.append(
                f"allowance `{key[0]}` for `{key[1]}` ({key[2]}) has {used:,.2f} TPP used, but "
                f"the committed lines' debits add up to {total:,.2f}: changed outside tiergate"
            )
    return problems


def _licence_problems(
    connection: Connection, by_action: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Each licence as its `licence.add` entry recorded it, revoked only by an entry."""
    added = {e["payload"]["number"]: e["payload"] for e in by_action.get("licence.add", [])}
    revoked = {e["payload"]["number"] for e in by_action.get("licence.revoke", [])}
    problems = []
    for row in connection.execute(select(Licence.__table__)).mappings():
        number = row["number"]
        payload = added.get(number)
        if payload is None:
            problems.append(f"licence `{number}` has no licence.add entry: added outside tiergate")
            continue
        for name, value in payload.items():
            held = row[name]
            if name == "authorized_value" and value is not None:
                value = exact(value)
            if held != value:
                problems.append(
                    f"licence `{number}`: `{name}` is {held!r}, its licence.add entry says "
                    f"{value!r}: changed outside tiergate"
                )
        if (row["status"] == LicenceStatus.REVOKED) != (number in revoked):
            problems.append(
                f"licence `{number}` is {row['status']}, which its audit entries do not say: "
                "changed outside tiergate"
            )
    for number in sorted(added.keys() - column_values(connection, Licence.number)):
        problems.append(
            f"licence `{number}` of a licence.add entry is gone: deleted outside tiergate"
        )
    return problems


def _hold_problems(connection: Connection, by_action: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each decided hold as its hold.released or hold.rejected entry recorded it."""
    decisions = {
        e["payload"]["hold"]: (e["action"].removeprefix("hold."), e["actor"], e["payload"])
        for action in ("hold.released", "hold.rejected")
        for e in by_action.get(action, [])
    }
    problems = []
    for hold_id, status, by, reason in connection.execute(
        select(Hold.id, Hold.status, Hold.decided_by, Hold.decision_reason)
    ):
        decided = decisions.pop(hold_id, None)
        if decided is None:
            if status != HoldStatus.OPEN:
                problems.append(
                    f"hold {hold_id} is {status} without a decision in the trail: changed "
                    "outside tiergate"
                )
            continue
        if (status, by, reason) != (decided[0], decided[1], decided[2]["reason"].strip()):
            problems.append(
                f"hold {hold_id} reads {status} by {by!r}, its decision entry says {decided[0]} "
                f"by {decided[1]!r}: changed outside tiergate"
            )
    for hold_id in sorted(decisions):
        problems.append(f"hold {hold_id} of a decision entry is gone: deleted outside tiergate")
    return problems


def _suppression_problems(
    connection: Connection, by_action: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Each suppression as its add (or import) entry recorded it, lapsed only by an entry."""
    added = {
        e["payload"]["id"]: e["payload"]
        for action in ("suppression.add", "suppression.import")
        for e in by_action.get(action, [])
    }
    lapsed = {e["payload"]["id"] for e in by_action.get("suppression.lapse", [])}
    problems = []
    for row in connection.execute(select(SuppressionRow.__table__)).mappings():
        payload = added.pop(row["id"], None)
        fields = [name for name in Suppression.__dataclass_fields__ if name != "status"]
        if payload is None or any(row[name] != payload[name] for name in fields):
            problems.append(
                f"suppression {row['id']} ({row['party']} is not {row['entry_id']}) is not as "
                "its audit entry recorded it: changed outside tiergate"
            )
        elif (row["status"] == SuppressionStatus.LAPSED) != (row["id"] in lapsed):
            problems.append(
                f"suppression {row['id']} is {row['status']}, which its audit entries do not "
                "say: changed outside tiergate"
            )
    for suppression_id in sorted(added):
        problems.append(
            f"suppression {suppression_id} of an audit entry is gone: deleted outside tiergate"
        )
    return problems
