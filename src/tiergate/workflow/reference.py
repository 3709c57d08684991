"""What the rulebook says, without a book: classify one item, map every country to its tier,
list the rules in force. Each returns the document the CLI prints as JSON (and formats as a
table), so every door gives the same fields."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from tiergate.classify import Specs
from tiergate.country_map import default_item
from tiergate.country_map import tiers as country_tiers
from tiergate.errors import UsageError
from tiergate.rulebook import View

if TYPE_CHECKING:
    from tiergate.compiled import CompiledRules
    from tiergate.workflow import Workspace


def classify(
    workspace: Workspace,
    name: str | None,
    specs: Specs,
    on: date,
) -> dict[str, Any]:
    """The classification of catalog item `name`, or of raw `specs`, on `on`: ECCN, scope,
    TPP, performance density, H100-equivalents, reasons and errors (non-empty: unusable)."""
    if name is None and specs == Specs(datacenter=None):
        raise UsageError("give a catalog name or at least --tpp (see `tiergate classify --help`)")
    engine = workspace.engine()
    result = engine.classify(on, item=name, specs=specs)
    h100 = engine.rulebook.meta.h100_tpp
    density = result.specs.performance_density
    return {
        "as_of": on.isoformat(),
        "item": name,
        "item_name": result.chip.name if result.chip else None,
        "item_type": result.item_type.value,
        "eccn": result.eccn,
        "scope": result.scope,
        "tpp": result.unit_tpp,
        "performance_density": round(density, 2) if density is not None else None,
        "h100_equivalents": round(result.unit_tpp / h100, 3)
        if result.unit_tpp is not None
        else None,
        "dram_bandwidth_gbps": result.specs.dram_bandwidth_gbps,
        "interconnect_gbps": result.specs.interconnect_gbps,
        "datacenter": result.specs.datacenter,
        "threshold_met": result.threshold,
        "reasons": [r.as_dict() for r in result.reasons],
        "errors": list(result.errors),
        "rulebook_version": engine.rulebook.version,
    }


def tiers(workspace: Workspace, on: date, view: View, item: str | None) -> dict[str, Any]:
    """Every country with its tier for `item` (default: the advanced-computing IC class in
    force on `on`)."""
    engine = workspace.engine()
    engine.check_range(on)
    item = item or default_item(engine, on)
    return {
        "as_of": on.isoformat(),
        "view": view.value,
        "item": item,
        "rulebook_version": engine.rulebook.version,
        "countries": [row.as_dict() for row in country_tiers(engine, on, view, item)],
        # Where a country's tier may change, from the rulebook's first date: a map steps
        # through them.
        "change_dates": [
            d.isoformat()
            for d in engine.compiler.change_dates
            if d >= engine.rulebook.meta.earliest_date
        ],
    }


def rules(workspace: Workspace, on: date, view: View) -> dict[str, Any]:
    """The rule sets, licence exceptions and advisories in force on `on`, with sources."""
    engine = workspace.engine()
    engine.check_range(on)
    return {
        "as_of": on.isoformat(),
        "view": view.value,
        "rulebook_version": engine.rulebook.version,
        "in_force": _in_force(engine.compiled(on, view)),
    }


def _in_force(compiled: CompiledRules) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rule in compiled.rules_in_force:
        rows.append(
            {
                "kind": f"rule:{rule.kind}",
                "id": rule.id,
                "from": rule.effective_from.isoformat(),
                "to": rule.effective_to.isoformat() if rule.effective_to else None,
                "policy": rule.review_policy.value,
                "tier": rule.tier.value,
                "citation": rule.citation,
                "uncertain": rule.uncertain,
            }
        )
    for exc in compiled.exceptions_in_force:
        rows.append(
            {
                "kind": "exception",
                "id": exc.id,
                "from": exc.effective_from.isoformat(),
                "to": exc.effective_to.isoformat() if exc.effective_to else None,
                "policy": exc.symbol,
                "tier": None,
                "citation": exc.citation,
                "uncertain": exc.uncertain,
            }
        )
    for advisory in compiled.advisories:
        a = advisory.advisory
        rows.append(
            {
                "kind": "advisory",
                "id": a.id,
                "from": a.effective_from.isoformat(),
                "to": a.effective_to.isoformat() if a.effective_to else None,
                "policy": "HOLD",
                "tier": None,
                "citation": a.citation,
                "uncertain": a.uncertain,
            }
        )
    return rows
