"""`tiergate diff`: what a change of date, view or rules does to a book."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tiergate.cli.options import CountryAllocationOption, Output, output_options, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from tiergate.workflow.impact import Impact

# Changed lines shown in the terminal table; --format csv or json lists every one.
SHOWN = 40


@output_options("table", "json", "csv", "parquet")
def diff(
    file: Annotated[Path, typer.Argument(help="Shipments book: .csv (one row per line) or .json.")],
    out: Output,
    from_: Annotated[
        str,
        typer.Option(
            "--from", help="The date and view before: YYYY-MM-DD[:enforced|written] (enforced)."
        ),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="The date and view after: YYYY-MM-DD[:enforced|written] (enforced)."
        ),
    ],
    rulebook_overlay: Annotated[
        Path | None,
        typer.Option(
            "--rulebook-overlay",
            help="A YAML of rules added or changed (examples/overlays/), applied to the --to "
            "side only.",
        ),
    ] = None,
    country_allocation_tpp: CountryAllocationOption = None,
) -> None:
    """The lines whose tier, outcome, exception, review policy or conditions change between
    two dates (or views, or with a proposed rule), and a summary of the transitions by
    destination and item class with their H100-equivalents.

    Example: tiergate diff examples/mixed_book.csv --from 2025-05-14:written --to 2025-05-15:written

    Example: tiergate diff examples/mixed_book.csv --from 2026-12-01 --to 2027-01-01
    --rulebook-overlay examples/overlays/hypothetical-tier2-licence.yaml

    Each line is determined as of each date (not its own). Parties are not screened and no
    ledger is read: allowances are counted from the book alone.

    Exit status: 0 compared, 2 unusable input or options, 1 internal error.
    """
    from tiergate.workflow.impact import COLUMNS, Side
    from tiergate.workflow.impact import diff as compare_book

    out.needs_file("parquet")
    impact = compare_book(
        workspace(country_allocation_tpp=country_allocation_tpp),
        file,
        Side.parse(from_, "--from"),
        Side.parse(to, "--to"),
        rulebook_overlay,
    )
    if out.format == "json":
        out.json(impact.document())
    elif out.format == "parquet":
        out.binary(impact.table().write_parquet)
    elif out.format == "csv":
        out.csv(impact.rows(), COLUMNS)
    else:
        with out.console() as console:
            _render(impact, console)


def _render(impact: Impact, console: Console) -> None:
    from rich.table import Table

    summary = impact.summary()
    overlay = f", with overlay `{impact.overlay['name']}`" if impact.overlay else ""
    console.print(
        f"{impact.source}: from {impact.before.label} to {impact.after.label}{overlay}\n"
        f"{summary['lines_in']} lines: {summary['lines_changed']} changed, "
        f"{summary['lines_unchanged']} unchanged ({summary['lines_with_errors']} with errors)",
        highlight=False,
    )
    if not impact.changes:
        return
    table = Table(title="transitions by destination")
    for column in ("destination", "transition", "lines", "H100-eq"):
        table.add_column(column, justify="right" if column in ("lines", "H100-eq") else "left")
    for destination, found in summary["by_destination"].items():
        for number, transition in enumerate(found["transitions"]):
            table.add_row(
                destination if number == 0 else "",
                transition["transition"],
                str(transition["lines"]),
                f"{transition['h100_equivalents']:,.2f}",
            )
    console.print(table)
    lines = Table(title="changed lines")
    for column in ("row", "line", "item", "dest", "from", "to"):
        lines.add_column(column, overflow="fold")
    for change in impact.changes[:SHOWN]:
        before, after = change.before, change.after
        lines.add_row(
            str(change.row),
            f"{after.shipment_id or ''}/{after.line_id or ''}",
            after.item or "",
            change.destination,
            _short(before.outcome, before.tier),
            _short(after.outcome, after.tier),
        )
    console.print(lines)
    if len(impact.changes) > SHOWN:
        console.print(
            f"... and {len(impact.changes) - SHOWN} more changed lines: --format csv or json "
            "lists every one",
            highlight=False,
        )


def _short(outcome: str, tier: str | None) -> str:
    return f"{outcome} ({tier})" if tier else outcome
