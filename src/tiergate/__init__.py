"""tiergate: export-control determinations for AI chips and AI technology.

Library first: `check` determines shipment lines (screening their parties), `screen` screens
one party, `classify` classifies one item, `tiers` maps every country to its tier for an item
class; `tiergate.workflow.Workspace` adds the ledger (allowances, licences, holds, audit,
commit); `tiergate.spark.check` checks a Spark DataFrame (the `[spark]` extra). The CLI
only parses, calls and formats.

The names below are imported when first used (PEP 562), so that `import tiergate` (and
`tiergate --help`) does not load the engine, the rulebook or pydantic.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tiergate.terms import View

if TYPE_CHECKING:
    from tiergate.classify import Classification, Specs
    from tiergate.engine import AllowanceState, Engine
    from tiergate.model import Line, LineResult, Outcome, Party, Reason, Report, Shipment
    from tiergate.rulebook import ItemType, ReviewPolicy, Rulebook, Tier, Transaction
    from tiergate.screening.service import Screener, ScreenResult
    from tiergate.workflow.impact import Impact, Side

__version__ = "0.1.0"

_LAZY = {
    "AllowanceState": "tiergate.engine",
    "Classification": "tiergate.classify",
    "Engine": "tiergate.engine",
    "ItemType": "tiergate.rulebook",
    "Line": "tiergate.model",
    "LineResult": "tiergate.model",
    "Outcome": "tiergate.model",
    "Party": "tiergate.model",
    "Reason": "tiergate.model",
    "Report": "tiergate.model",
    "ReviewPolicy": "tiergate.rulebook",
    "Rulebook": "tiergate.rulebook",
    "ScreenResult": "tiergate.screening.service",
    "Shipment": "tiergate.model",
    "Side": "tiergate.workflow.impact",
    "Specs": "tiergate.classify",
    "Tier": "tiergate.rulebook",
    "Transaction": "tiergate.rulebook",
}

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
    "Side",
    "Specs",
    "Tier",
    "Transaction",
    "View",
    "check",
    "classify",
    "default_engine",
    "diff",
    "screen",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tiergate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """`tiergate.classify` stays the function below when the module `tiergate.classify` is
    first imported, lazily, after this package (Python sets a package's attribute to each
    submodule it imports; with eager imports the function was defined after it)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "classify" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def default_engine() -> Engine:
    """The engine over the bundled rulebook, built once per process."""
    from tiergate.engine import Engine

    return Engine.shared()


@lru_cache(maxsize=4)
def _screening_engine(screener: Screener) -> Engine:
    """The engine over the bundled rulebook with `screener`, built once per screener."""
    from tiergate.engine import Engine

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
    from tiergate.screening.service import Screener

    engine = _screening_engine(Screener.shared()) if screen else default_engine()
    return engine.check(shipments, as_of=as_of, view=view, today=today, allowances=allowances)


def diff(
    shipments: Iterable[Shipment | Line],
    before: Side | date,
    after: Side | date,
    *,
    rulebook: Rulebook | None = None,
) -> Impact:
    """What changes for `shipments` between `before` and `after` (a date, enforced view, or
    a `Side` with its view), the `after` side under `rulebook` when given (e.g. the bundled
    rulebook with an overlay, `tiergate.rulebook.overlay`), as `tiergate diff` does: parties
    are not screened, allowances are counted from the lines alone."""
    from tiergate.model import Shipment
    from tiergate.workflow.impact import Side, compare

    lines: list[Line] = []
    for item in shipments:
        lines.extend(item.flatten() if isinstance(item, Shipment) else [item])
    from tiergate.engine import Engine

    first = default_engine()
    second = first if rulebook is None else Engine(rulebook)
    sides = [side if isinstance(side, Side) else Side(side) for side in (before, after)]
    return compare(lines, sides[0], sides[1], (first, second))


def screen(name: str, country: str | None = None) -> ScreenResult:
    """Screen one party against the list edition in use (installed, else bundled), as
    `tiergate screen NAME --country CC` does without a ledger's suppressions."""
    from tiergate.screening.service import Screener

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
