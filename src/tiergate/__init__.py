"""tiergate: export-control determinations for AI chips and AI technology.

Library first: `check` determines shipment lines, `classify` classifies one item, `tiers`
maps every country to its tier for an item class. The CLI only parses, calls and formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from tiergate.classify import Classification, Specs
from tiergate.engine import AllowanceState, Engine
from tiergate.model import Line, LineResult, Outcome, Party, Reason, Report, Shipment
from tiergate.rulebook import ItemType, ReviewPolicy, Rulebook, Tier, Transaction, View

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
    "Shipment",
    "Specs",
    "Tier",
    "Transaction",
    "View",
    "check",
    "classify",
    "default_engine",
]


def default_engine() -> Engine:
    """The engine over the bundled rulebook, built once per process."""
    return Engine.shared()


def check(
    shipments: Iterable[Shipment | Line],
    *,
    as_of: date | None = None,
    view: View = View.ENFORCED,
    today: date | None = None,
    allowances: AllowanceState | None = None,
) -> Report:
    """Determine every line of `shipments` (see `Engine.check`)."""
    return default_engine().check(
        shipments, as_of=as_of, view=view, today=today, allowances=allowances
    )


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
