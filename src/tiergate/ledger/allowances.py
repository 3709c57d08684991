"""Allowance usage: the TPP committed lines took from each allowance, per holder and period,
re-checked against the allowance's limit inside the commit's locked transaction."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from tiergate.engine import AllowanceState
from tiergate.keys import HolderKey, Period
from tiergate.ledger.amounts import ZERO, exact
from tiergate.ledger.books import shipments_of
from tiergate.ledger.bulk import insert_rows
from tiergate.ledger.models import COMMITTED, USAGE, AllowanceUsage
from tiergate.ledger.store import Store, rows_in
from tiergate.model import LineResult

# What a line takes from allowances: (allowance id, holder, period, TPP) each (`LineResult.debits`).
Debits = tuple[tuple[str, str, str, float], ...]


class Allowances(Store):
    """Reading allowance usage for a check."""

    def allowance_state(self, exclude: Set[tuple[str, str]] | None = None) -> AllowanceState:
        """The TPP used so far, as the engine's starting allowance state. Lines in `exclude`
        (shipment_id, line_id) that are already committed do not count: re-checking a book
        must not count its own committed lines twice."""
        self.require_current()
        with self.engine.connect() as connection:
            used: dict[tuple[str, str, str], Decimal] = {}
            if exclude:
                for shipment_id, line_id, debits in rows_in(
                    connection,
                    select(COMMITTED.c.shipment_id, COMMITTED.c.line_id, COMMITTED.c.debits),
                    COMMITTED.c.shipment_id,
                    shipments_of(exclude),
                ):
                    if (shipment_id, line_id) in exclude:
                        for allowance_id, holder, period, amount in debits:
                            key = (allowance_id, holder, period)
                            used[key] = used.get(key, ZERO) - exact(amount)
            result = connection.execute(
                select(
                    AllowanceUsage.allowance_id,
                    AllowanceUsage.holder,
                    AllowanceUsage.period,
                    AllowanceUsage.used_tpp,
                )
            )
            for allowance_id, holder, period, total in result:
                key = (allowance_id, holder, period)
                used[key] = used.get(key, ZERO) + total
            return AllowanceState(
                used={key: float(value) for key, value in used.items() if value > 0}
            )


class UsageKey(NamedTuple):
    """One row of allowance usage: the allowance, who it counts for, and over which period."""

    allowance: str
    holder: HolderKey
    period: Period


@dataclass
class Usage:
    """Allowance usage of the holders a commit touches, read once under the write lock and
    written back in bulk."""

    rows: dict[UsageKey, tuple[int | None, Decimal]]  # key -> (row id, used TPP)
    changed: set[UsageKey] = field(default_factory=set)

    @classmethod
    def load(cls, connection: Connection, lines: Iterable[LineResult]) -> Usage:
        """The usage of every holder `lines` debit."""
        columns = USAGE.c
        rows: dict[UsageKey, tuple[int | None, Decimal]] = {}
        for row_id, allowance_id, holder, period, used in rows_in(
            connection,
            select(
                columns.id, columns.allowance_id, columns.holder, columns.period, columns.used_tpp
            ),
            columns.holder,
            {debit[1] for line in lines for debit in line.debits},
        ):
            rows[_key(allowance_id, holder, period)] = (row_id, used)
        return cls(rows)

    @staticmethod
    def planned(debits: Debits) -> dict[UsageKey, Decimal]:
        """A line's debits summed per usage row."""
        planned: dict[UsageKey, Decimal] = {}
        for allowance_id, holder, period, amount in debits:
            key = _key(allowance_id, holder, period)
            planned[key] = planned.get(key, ZERO) + exact(amount)
        return planned

    def problem(self, planned: dict[UsageKey, Decimal], limits: dict[str, float]) -> str | None:
        """Why a line's `planned` debits do not fit (all of them or none), or None."""
        for key, more in planned.items():
            used = self.rows.get(key, (None, ZERO))[1]
            limit = limits.get(key.allowance)
            if limit is not None and used + more > exact(limit):
                return (
                    f"allowance `{key.allowance}` for `{key.holder}` ({key.period}) has "
                    f"{used:,.0f} of {limit:,.0f} TPP used; {more:,.0f} more does not fit: "
                    "check again"
                )
        return None

    def take(self, planned: dict[UsageKey, Decimal]) -> None:
        """Count a line's `planned` debits (after `problem` said None)."""
        for key, more in planned.items():
            row_id, used = self.rows.get(key, (None, ZERO))
            self.rows[key] = (row_id, used + more)
            self.changed.add(key)

    def write(self, connection: Connection) -> None:
        """Write the changed usage back: an update per known row, an insert per new one."""
        table = USAGE
        updates, inserts = [], []
        # In the order of the stored text, as every writer writes them.
        for stored, key in sorted((_stored(key), key) for key in self.changed):
            row_id, used = self.rows[key]
            if row_id is None:
                allowance_id, holder, period = stored
                inserts.append(
                    {
                        "allowance_id": allowance_id,
                        "holder": holder,
                        "period": period,
                        "used_tpp": used,
                    }
                )
            else:
                updates.append({"row_id": row_id, "total": used})
        if updates:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(used_tpp=bindparam("total")),
                updates,
            )
        insert_rows(connection, table, inserts)


def _key(allowance_id: str, holder: str, period: str) -> UsageKey:
    """A usage row's key from the text the ledger stores."""
    return UsageKey(allowance_id, HolderKey.parse(holder), _period(period))


def _stored(key: UsageKey) -> tuple[str, str, str]:
    """A usage row's key as the ledger stores it."""
    return key.allowance, str(key.holder), str(key.period)


# Periods are few (calendar years, the rulebook's allocation periods) and parsing one takes
# several microseconds: remembered, a batch commit keeps its pace.
_period = lru_cache(maxsize=256)(Period.parse)
