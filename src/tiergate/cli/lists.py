"""`tiergate data`: the restricted-party list editions (status, update, differences)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tiergate.cli.options import Output, note, output_options, parse_day, workspace

data_app = typer.Typer(
    help="Restricted-party list editions: status, updates, differences.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@data_app.command("status")
@output_options("table", "json")
def data_status(out: Output) -> None:
    """The list edition in use: date, age, entries per list; warns when it is stale.

    Example: tiergate data status --format json
    """
    from rich.table import Table

    from tiergate.workflow.screening import list_status

    status = list_status(workspace())
    if out.format == "json":
        out.json({"editions": {"csl": status}})
        return
    table = Table(title="restricted-party list editions", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key in ("name", "edition_date", "age_days", "entries", "source", "installed_at"):
        table.add_row(key, str(status[key]))
    table.add_row("entries per list", ", ".join(f"{k} {v}" for k, v in status["counts"].items()))
    table.add_row("content hash", status["content_hash"][:16])
    out.table(table)
    for warning in status["warnings"]:
        note(f"[yellow]warning:[/yellow] {warning}")


@data_app.command("update")
def data_update(
    url: Annotated[
        str | None, typer.Option("--url", help="Download the edition from here.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Import the edition from a file.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Accept an edition in which a list shrank by > 10 %, or one older than the "
            "installed edition.",
        ),
    ] = False,
    edition_date: Annotated[
        str | None,
        typer.Option("--edition-date", help="The edition's date, when the file does not say it."),
    ] = None,
) -> None:
    """Install a new list edition; a failed or suspicious update keeps the current one.

    Example: tiergate data update --file consolidated.csv --edition-date 2026-11-25

    Example: tiergate data update --url https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json
    """
    from tiergate.workflow.screening import update_lists

    when = parse_day(edition_date, "--edition-date")
    result = update_lists(workspace(), file=file, url=url, force=force, edition_date=when)
    typer.echo(result.message)


@data_app.command("diff")
@output_options("table", "json")
def data_diff(
    out: Output,
    old: Annotated[Path, typer.Argument(help="The older list file (any supported format).")],
    new: Annotated[Path, typer.Argument(help="The newer list file.")],
    parties: Annotated[
        Path | None,
        typer.Option("--parties", help="A parties CSV to re-screen against both editions."),
    ] = None,
) -> None:
    """Entries added, removed and changed between two editions, and the parties whose
    screening result changes.

    Example: tiergate data diff sdn_2021-08-18.csv sdn_2024-05-03.csv --parties parties.csv
    """
    from tiergate.workflow.screening import diff_lists

    diff = diff_lists(workspace(), old, new, parties)
    if out.format == "json":
        out.json(diff.document)
    else:
        counts, before, after = diff.document["counts"], diff.document["old"], diff.document["new"]
        lines = [
            f"{before['date']} -> {after['date']}: {counts['added']} added, "
            f"{counts['removed']} removed, {counts['changed']} changed"
        ]
        lines += [
            f"party `{change.party.name}` (row {change.party.row}): "
            f"{change.old_status} -> {change.new_status} "
            f"({', '.join(change.new_entries) or 'no hits'})"
            for change in diff.changes
        ]
        out.text("".join(line + "\n" for line in lines))
    raise typer.Exit(3 if diff.changes else 0)
