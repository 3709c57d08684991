"""The ledger API: migrate, read allowance usage, commit shipped lines, keep the audit trail.

`Ledger` is one ledger database with every part's methods; each concern is its own module:
`store` (opening, transactions, schema), `commits`, `allowances`, `licensing`, `holds`,
`suppressions`, `api_keys`, `audit` and `verify`.
"""

from __future__ import annotations

from tiergate.ledger.allowances import Allowances
from tiergate.ledger.api_keys import ApiKeys
from tiergate.ledger.audit import GENESIS, AuditTrail, entry_hash
from tiergate.ledger.commits import CommitResult, Commits
from tiergate.ledger.holds import Holds
from tiergate.ledger.licensing import Licences
from tiergate.ledger.store import HEAD, LedgerError
from tiergate.ledger.suppressions import Suppressions

__all__ = [
    "GENESIS",
    "HEAD",
    "CommitResult",
    "Ledger",
    "LedgerError",
    "entry_hash",
]


class Ledger(Commits, Allowances, Licences, Holds, Suppressions, ApiKeys, AuditTrail):
    """One ledger database."""
