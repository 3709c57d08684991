"""tiergate: export-control determinations for AI chips and AI technology.

Library first: `check` determines shipment lines (screening their parties), `screen` screens
one party, `classify` classifies one item, `tiers` maps every country to its tier for an item
class; `tiergate.workflow.Workspace` adds the ledger (allowances, licences, holds, audit,
commit). The CLI only parses, calls and formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from tiergate.classify import Classification, Specs
from tiergate.engine import AllowanceState, Engine
from tiergate.model import Line, LineResult, Outcome, Party, Reason, Report, Shipment
from tiergate.rulebook import ItemType, ReviewPolicy, Rulebook, Tier, Transaction, View
from tiergate.screening.service import Screener, ScreenResult

__version__ = "0.1.0"

__all__ = [
    "AllowanceState",
    "Classification",
    "Engine",
    "ItemType",
    "Line",
    "LineResult",
    "Outcome",
    "Party",
    "Reason",
    "Report",
    "ReviewPolicy",
    "Rulebook",
    "ScreenResult",
    "Shipment",
    "Specs",
    "Tier",
    "Transaction",
    "View",
    "check",
    "classify",
    "default_engine",
    "screen",
]


def default_engine() -> Engine:
    """The engine over the bundled rulebook, built once per process."""
    return Engine.shared()


@lru_cache(maxsize=4)
def _screening_engine(screener: Screener) -> Engine:
    """The engine over the bundled rulebook with `screener`, built once per screener."""
    return Engine(screener=screener)


def check(
    shipments: Iterable[Shipment | Line],
    *,
    as_of: date | None = None,
    view: View = View.ENFORCED,
    today: date | None = None,
    allowances: AllowanceState | None = None,
    screen: bool = True,
) -> Report:
    """Determine every line of `shipments` (see `Engine.check`), screening every named party
    against the list edition in use as `tiergate check` does (`screen=False` skips it). For
    the workflow with a ledger (allowances used, licences, holds, audit, commit), use
    `tiergate.workflow.Workspace`."""
    engine = _screening_engine(Screener.shared()) if screen else default_engine()
    return engine.check(shipments, as_of=as_of, view=view, today=today, allowances=allowances)


def screen(name: str, country: str | None = None) -> ScreenResult:
    """Screen one party against the list edition in use (installed, else bundled), as
    `tiergate screen NAME --country CC` does without a ledger's suppressions."""
    return Screener.shared().screen(name, country)


def classify(
    item: str | None = None,
    *,
    on: date | None = None,
    eccn: str | None = None,
    specs: Specs | None = None,
    item_type: ItemType | None = None,
) -> Classification:
    """Classify one item on `on` (default today) from a catalog name, an ECCN or raw specs."""
    return default_engine().classify(
        on or date.today(), item=item, eccn=eccn, specs=specs, item_type=item_type
    )
