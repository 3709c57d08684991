"""Commands that read the rulebook without a book: `classify`, `tiers`, `rules`, `version`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tiergate import __version__
from tiergate.cli.options import (
    AsOf,
    Output,
    ViewOption,
    measure,
    output_options,
    parse_day,
    workspace,
)
from tiergate.terms import View

if TYPE_CHECKING:
    from rich.table import Table


@output_options("table", "json")
def classify(
    out: Output,
    name: Annotated[
        str | None, typer.Argument(help="A catalog name or alias, e.g. 'H100 SXM'.")
    ] = None,
    tpp: Annotated[
        float | None, typer.Option("--tpp", callback=measure, help="Total processing performance.")
    ] = None,
    die_area: Annotated[
        float | None,
        typer.Option("--die-area", callback=measure, help="Applicable die area, mm²."),
    ] = None,
    dram_bandwidth: Annotated[
        float | None,
        typer.Option("--dram-bandwidth", callback=measure, help="DRAM bandwidth, GB/s."),
    ] = None,
    interconnect: Annotated[
        float | None,
        typer.Option(
            "--interconnect", callback=measure, help="Bidirectional chip-to-chip rate, GB/s."
        ),
    ] = None,
    non_datacenter: Annotated[
        bool, typer.Option("--non-datacenter", help="Not designed or marketed for datacenters.")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Classify a chip by catalog name or by raw specs.

    Example: tiergate classify "RTX 4090" --as-of 2024-06-01

    Example: tiergate classify --tpp 4000 --die-area 600 --format json
    """
    from tiergate.classify import Specs
    from tiergate.workflow.reference import classify as classify_item

    on = parse_day(as_of, "--as-of") or date.today()
    specs = Specs(
        tpp=tpp,
        die_area_mm2=die_area,
        dram_bandwidth_gbps=dram_bandwidth,
        interconnect_gbps=interconnect,
        datacenter=False if non_datacenter else None,
    )
    data = classify_item(workspace(), name, specs, on)
    if out.format == "json":
        out.json(data)
    else:
        out.table(_classification_table(data, on))
    raise typer.Exit(2 if data["errors"] else 0)


def _classification_table(data: dict[str, Any], on: date) -> Table:
    from rich.table import Table

    table = Table(title=f"classification as of {on.isoformat()}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        if key == "reasons":
            value = "\n".join(f"{r['rule']}: {r['message']} [{r['citation']}]" for r in value)
        elif key == "errors":
            value = "\n".join(value)
        table.add_row(key, "" if value is None else str(value))
    return table


@output_options("table", "json", "csv")
def tiers(
    out: Output,
    as_of: AsOf = None,
    view: ViewOption = View.ENFORCED,
    item: Annotated[
        str | None,
        typer.Option(
            "--item",
            help="An ECCN (3A090.a, 3A090.b, 3A090.c, 4E091) or a catalog name; default: "
            "3A090.a (3A090 before 2023-11-17).",
        ),
    ] = None,
) -> None:
    """Every country with its tier for an item class: the country map.

    Example: tiergate tiers --as-of 2025-06-01 --view written --item 3A090.a --format csv
    """
    from rich.table import Table

    from tiergate.workflow.reference import tiers as country_tiers

    on = parse_day(as_of, "--as-of") or date.today()
    document = country_tiers(workspace(), on, view, item)
    if out.format == "json":
        out.json(document)
        return
    if out.format == "csv":
        out.csv(document["countries"])
        return
    table = Table(title=f"tiers for {document['item']} as of {on.isoformat()} ({view.value} view)")
    for column in ("country", "name", "tier", "outcome", "exception / policy", "rules"):
        table.add_column(column, overflow="fold")
    for row in document["countries"]:
        table.add_row(
            row["country"],
            row["name"],
            row["tier"] or "",
            row["outcome"],
            row["exception"] or row["review_policy"] or "",
            ", ".join(row["rules"]),
        )
    out.table(table)


@output_options("table", "json", "csv")
def rules(out: Output, as_of: AsOf = None, view: ViewOption = View.ENFORCED) -> None:
    """Which rule sets, licence exceptions and advisories are in force, with their sources.

    Example: tiergate rules --as-of 2026-02-01 --view written
    """
    from rich.table import Table

    from tiergate.workflow.reference import rules as in_force

    on = parse_day(as_of, "--as-of") or date.today()
    document = in_force(workspace(), on, view)
    if out.format == "json":
        out.json(document)
        return
    if out.format == "csv":
        out.csv(document["in_force"])
        return
    table = Table(
        title=f"in force on {on.isoformat()} ({view.value} view), "
        f"rulebook {document['rulebook_version']}"
    )
    for column in ("kind", "id", "from", "to", "policy", "tier", "citation", "uncertain"):
        table.add_column(column, overflow="fold")
    for row in document["in_force"]:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    out.table(table)


def version() -> None:
    """Print tiergate's version and the rulebook version.

    Example: tiergate version
    """
    from tiergate.rulebook_files import bundled_version

    typer.echo(f"tiergate {__version__}, rulebook {bundled_version()}")
