"""The `tiergate` command: a thin shell over `tiergate.workflow` that parses, calls and
formats. Each module holds a family of commands; this one assembles them into `app`.

Exit codes: 0 every line may ship, 3 some line may not ship as is, 2 unusable input or
usage, 1 internal error. They live on the exception classes in `tiergate.errors`.

Start-up matters (`tiergate --help` answers in a fraction of a second): nothing here imports
the engine, the rulebook, pydantic, SQLAlchemy or screening; commands import them as they run.
"""

from __future__ import annotations

import gc
import sys
from enum import StrEnum
from typing import Annotated

import typer

from tiergate import __version__
from tiergate.cli import checking, impact, lists, records, reference, service
from tiergate.cli.logs import configure
from tiergate.errors import TiergateError


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


app = typer.Typer(
    name="tiergate",
    help="Export-control determinations for AI chips and AI technology, line by line, as of any "
    "date, with reasons and citations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# The order of `tiergate --help`.
for command in (
    checking.check,
    checking.report,
    impact.diff,
    reference.classify,
    reference.tiers,
    reference.rules,
    checking.screen,
    checking.suppress,
    checking.suppressions,
    records.allowances,
    records.cancel,
    service.serve,
    reference.version,
):
    app.command()(command)
app.add_typer(records.db_app, name="db")
app.add_typer(records.license_app, name="license")
app.add_typer(records.holds_app, name="holds")
app.add_typer(records.audit_app, name="audit")
app.add_typer(lists.data_app, name="data")
app.add_typer(service.keys_app, name="keys")


def _print_version(show: bool) -> None:
    if show:
        typer.echo(f"tiergate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print tiergate's version and exit (`tiergate version` adds the rulebook's).",
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="Log the main steps on stderr: -v what is done (info), -vv details (debug).",
        ),
    ] = 0,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="text, or json: one JSON object per line."),
    ] = LogFormat.TEXT,
) -> None:
    """Options for every command (the app's help is the `Typer`'s)."""
    configure(verbose, log_format, sys.stderr)


def main() -> None:
    """Entry point: run the app, mapping tiergate errors to their exit codes."""
    try:
        app()
    except TiergateError as error:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/bold red] {error}", highlight=False)
        sys.exit(error.exit_code)
    except Exception as error:  # last resort: report, exit 1
        from rich.console import Console

        Console(stderr=True).print(
            f"[bold red]internal error:[/bold red] {error!r}", highlight=False
        )
        sys.exit(1)
    finally:
        # The process ends here. The collector's passes over every object at exit took about
        # 0.2 s of a 1 s command (benchmarks/startup.py); frozen objects are skipped by them,
        # and everything else (flushing, closing, exit handlers) happens as usual.
        gc.freeze()
