"""Commands that check: a shipments book (`check`), parties (`screen`), and the reviewed
false positives screening skips (`suppress`, `suppressions`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tiergate.cli.options import (
    AsOf,
    CountryAllocationOption,
    DbOption,
    MatchThreshold,
    Output,
    PotentialThreshold,
    ViewOption,
    note,
    output_options,
    parse_day,
    table_of,
    workspace,
)
from tiergate.errors import UsageError
from tiergate.terms import View

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rich.table import Table

    from tiergate.batch.checking import Columns
    from tiergate.ledger.commits import CommitResult
    from tiergate.model import Report
    from tiergate.workflow import CheckResult, Workspace
    from tiergate.workflow.screening import Screened

NoScreen = Annotated[
    bool,
    typer.Option(
        "--no-screen", help="Do not screen the named parties against the restricted-party lists."
    ),
]
Commit = Annotated[
    bool,
    typer.Option(
        "--commit",
        help="Record the lines that may ship as shipped in the ledger, debiting allowances "
        "and licences.",
    ),
]
NoReserve = Annotated[
    bool,
    typer.Option(
        "--no-reserve",
        help="A what-if check: do not reserve licence quantity in the ledger (still audited).",
    ),
]
Detail = Annotated[
    bool,
    typer.Option("--detail", help="After the table, every reason of every line with its citation."),
]


@output_options("table", "json", "jsonl", "csv", "parquet")
def check(
    file: Annotated[
        Path,
        typer.Argument(help="Shipments book: .csv (one row per line), .json or .parquet."),
    ],
    out: Output,
    as_of: AsOf = None,
    view: ViewOption = View.ENFORCED,
    country_allocation_tpp: CountryAllocationOption = None,
    no_screen: NoScreen = False,
    match_threshold: MatchThreshold = None,
    potential_threshold: PotentialThreshold = None,
    commit: Commit = False,
    no_reserve: NoReserve = False,
    db: DbOption = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is checking or committing, for the audit trail.")
    ] = "cli",
    detail: Detail = False,
) -> None:
    """Determine every line of a shipments book.

    Example: tiergate check examples/korea_ai_computing_centre.csv --as-of 2025-06-01 --view written

    Every named party (consignee, end user, intermediate consignees) is screened against the
    bundled Consolidated Screening List unless --no-screen is given.

    With a ledger (--db, TIERGATE_DATABASE_URL or the default file), the check is audited
    and reserves the licence quantity of the lines a licence covers (not with --no-reserve);
    --commit uses it.

    Exit status: 0 every line may ship, 3 some line may not ship as is, 2 unusable input,
    1 internal error (a fault in tiergate: please report it).
    """
    place = workspace(
        db=db,
        match_threshold=match_threshold,
        potential_threshold=potential_threshold,
        country_allocation_tpp=country_allocation_tpp,
    )
    day = parse_day(as_of, "--as-of")
    if not commit:
        reserve = not no_reserve
        _in_columns(place, file, out, day, view, screen=not no_screen, reserve=reserve, actor=actor)
    else:
        _committed_in_columns(place, file, out, day, view, screen=not no_screen, actor=actor)
    checked = place.check(
        file,
        as_of=day,
        view=view,
        screen=not no_screen,
        commit=commit,
        reserve=not no_reserve,
        actor=actor,
    )
    _written(checked, out, detail=detail)
    raise typer.Exit(checked.report.exit_code)


# The lines not committed named on the terminal (all of them are in the report).
REFUSALS_SHOWN = 20


def _written(checked: CheckResult, out: Output, *, detail: bool) -> None:
    """What the ledger did (on stderr) and the report; a report that cannot be written
    after a commit says the commit stands."""
    if checked.commit is None:
        _write_report(checked.report, out, detail=detail)
        return
    _committed_note(checked.commit)
    with _commit_stands():
        _write_report(checked.report, out, detail=detail)


def _committed_note(commit: CommitResult) -> None:
    """What the commit did, on stderr: its counts, and the first lines not committed."""
    refused = commit.refused
    shown = [f"  not committed {key}: {why}" for key, why in refused[:REFUSALS_SHOWN]]
    if len(refused) > REFUSALS_SHOWN:
        shown.append(
            f"  and {len(refused) - REFUSALS_SHOWN} more not committed: the report gives "
            "each line's outcome and reasons"
        )
    note("\n".join([f"ledger: {commit.summary()}", *shown]))


@contextmanager
def _commit_stands() -> Iterator[None]:
    """A report that cannot be written after a commit says the commit stands."""
    try:
        yield
    except UsageError as exc:
        raise _standing(exc) from exc


def _standing(exc: UsageError) -> UsageError:
    """`exc`, a report not written, saying that the commit stands."""
    return UsageError(
        f"{exc}. The commit itself is recorded in the ledger; run the same check again "
        "(without --commit) to write the report"
    )


# The formats the columnar path writes.
COLUMNAR_FORMATS = ("csv", "parquet", "jsonl", "json")


def _committed_in_columns(
    place: Workspace,
    file: Path,
    out: Output,
    day: date | None,
    view: View,
    *,
    screen: bool,
    actor: str,
) -> None:
    """Commit a book the columnar path takes, write the report in a format it writes, and
    exit with its status; return, having committed nothing, when the row path must.

    A report to a file is written while the ledger ends its writes (the audit entry and the
    database's commit take seconds on a big book), to a file beside the --output file that
    becomes it once the commit is recorded; to the terminal, once it is."""
    out.needs_file("parquet")
    if out.format not in COLUMNAR_FORMATS:
        return

    def commit(weighed: Callable[[Columns], None] | None) -> tuple[Columns, CommitResult] | None:
        return place.commit_columnar(
            file, as_of=day, view=view, screen=screen, actor=actor, weighed=weighed
        )

    if out.path is None:
        done = commit(None)
        if done is None:
            return
        _committed_note(done[1])
        with _commit_stands():
            _write_columns(done[0], out, view)
    else:
        done = _committed_beside(commit, out, view)
        if done is None:
            return
    raise typer.Exit(0 if done[0].summary.may_not_ship == 0 else 3)


def _committed_beside(
    commit: Callable[[Callable[[Columns], None]], tuple[Columns, CommitResult] | None],
    out: Output,
    view: View,
) -> tuple[Columns, CommitResult] | None:
    """`commit` (`Workspace.commit_columnar`) with its report written to the --output file
    from the moment the ledger has weighed every line (on a thread of its own: polars and
    the file let go of the interpreter's lock), the file whole only once the commit is."""
    from concurrent.futures import ThreadPoolExecutor

    done = None
    try:
        with (
            out.staged() as staged,
            ThreadPoolExecutor(1, thread_name_prefix="tiergate-report") as report,
        ):
            writing: list[Future[None]] = []

            def weighed(found: Columns) -> None:
                from tiergate.workflow.uploads import columns_writer

                write = columns_writer(found, out.format, view)
                writing.append(report.submit(write, staged.handle))

            done = commit(weighed)
            if done is None:
                return None
            _committed_note(done[1])
            # The ledger says once that every line is weighed: one report, or none (an
            # empty file never becomes the --output file).
            (written,) = writing
            written.result()  # what writing raised
            staged.done = True
    except UsageError as exc:
        if done is None:
            raise
        raise _standing(exc) from exc
    return done


def _in_columns(
    place: Workspace,
    file: Path,
    out: Output,
    day: date | None,
    view: View,
    *,
    screen: bool,
    reserve: bool,
    actor: str,
) -> None:
    """Write a CSV, JSON, JSON Lines or Parquet check the columnar path takes (audited when
    there is a ledger), and exit with its status; return when the row path must check the
    book."""
    out.needs_file("parquet")
    if out.format not in COLUMNAR_FORMATS or not place.takes_columns(file):
        return
    streams = out.format in ("csv", "jsonl") and out.path is not None
    if streams and place.ledger() is None:  # an audit reads every batch after the check
        _streamed(place, file, out, day, view, screen=screen)
        return
    found = place.check_columnar(
        file, as_of=day, view=view, screen=screen, reserve=reserve, actor=actor
    )
    if found is None:
        return
    _write_columns(found, out, view)
    raise typer.Exit(0 if found.summary.may_not_ship == 0 else 3)


def _write_columns(found: Columns, out: Output, view: View) -> None:
    """A book the columnar path determined, written in `out`'s format."""
    from tiergate.workflow.uploads import columns_writer

    out.binary(columns_writer(found, out.format, view))


def _streamed(
    place: Workspace, file: Path, out: Output, day: date | None, view: View, *, screen: bool
) -> None:
    """A CSV or JSON Lines check written to the --output file while the book is read
    (`Stream`), and exit with its status; return, writing nothing, when the row path must
    check the book."""
    from tiergate.batch.writing import SLICE, Stream, csv_header, csv_pieces

    with out.staged() as staged:
        if out.format == "csv":
            stream = Stream(staged.handle, csv_header, csv_pieces)
        else:
            from tiergate.batch.lines import ShapeJson, jsonl_text
            from tiergate.rulebook import default_rulebook

            header = {"view": view.value, "rulebook_version": default_rulebook().version}
            text = partial(jsonl_text, header=header, shaped=ShapeJson())
            stream = Stream(staged.handle, lambda _: "", text, SLICE)
        with stream:
            found = place.check_columnar(
                file, as_of=day, view=view, screen=screen, ready=stream.ready
            )
            if found is None:
                return
            stream.finish(found)
        staged.done = True
    raise typer.Exit(0 if found.summary.may_not_ship == 0 else 3)


def _write_report(report: Report, out: Output, *, detail: bool) -> None:
    from tiergate.outputs import render_table, to_csv, to_json, to_jsonl

    if out.format == "parquet":
        from tiergate.batch.table import report_table

        out.binary(report_table(report).write_parquet)
    elif out.format == "table":
        with out.console() as console:
            render_table(report, console, detail=detail)
    elif out.format == "json":
        out.text(to_json(report))
    elif out.format == "jsonl":
        out.text(to_jsonl(report))
    else:
        out.text(to_csv(report))


@output_options("table", "json", "csv")
def screen(
    out: Output,
    name: Annotated[str | None, typer.Argument(help="A party name to screen.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="The party's country (name or ISO code).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A CSV of parties: `name`, optional `country` and `id`."),
    ] = None,
    match_threshold: MatchThreshold = None,
    potential_threshold: PotentialThreshold = None,
    db: DbOption = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is screening, for the audit trail.")
    ] = "cli",
) -> None:
    """Screen parties against the Consolidated Screening List (installed, else bundled).

    Suppressions (reviewed false positives) come from the ledger when there is one; a
    suppression found lapsed (the list changed its entry) is recorded there, audited.

    Example: tiergate screen "Huawei Technologies Co., Ltd." --country CN --format json

    Example: tiergate screen --file parties.csv --format csv --output screened.csv

    Exit status: 0 every party is clear, 3 some party matches or may match a listed party.
    """
    from tiergate.workflow.screening import screen as screen_parties

    places = workspace(
        db=db, match_threshold=match_threshold, potential_threshold=potential_threshold
    )
    screened = screen_parties(places, name=name, country=country, file=file, actor=actor)
    if out.format == "json":
        out.json(screened.document())
    elif out.format == "csv":
        out.csv(screened.rows())
    else:
        out.table(_screening_table(screened))
    raise typer.Exit(0 if screened.clear else 3)


def _screening_table(screened: Screened) -> Table:
    from rich.table import Table

    table = Table(
        title=f"screening against {screened.edition_name} of {screened.edition_date.isoformat()}"
    )
    for column in ("party", "country", "status", "list", "entry", "matched name", "score"):
        table.add_column(column, overflow="fold")
    for result in screened.results:
        party = (result.name, result.country or "", result.status)
        if not result.hits:
            table.add_row(*party, "", "", "; ".join(result.errors), "")
        # Every hit, best first: a possible match below the top one is for the reviewer too.
        for number, hit in enumerate(result.hits):
            table.add_row(
                *(party if number == 0 else ("", "", "")),
                hit.entry.list_code,
                hit.entry.entry_id,
                hit.matched_name,
                f"{hit.score:.3f}",
            )
    return table


def suppress(
    name: Annotated[str, typer.Argument(help="The party name, as screened.")],
    entry: Annotated[str, typer.Option("--entry", help="The list entry id it is not.")],
    by: Annotated[str, typer.Option("--by", help="Who reviewed it.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the party is not the entry.")],
    country: Annotated[
        str | None, typer.Option("--country", help="The party's country, as screened.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Record a reviewed false positive in the ledger (audited): the party is not that list
    entry. It lapses when the list changes the entry.

    Example: tiergate suppress "Kunlun Bank Ohio" --entry CAP:15268 --by "J. Doe" --reason "US bank"
    """
    from tiergate.workflow.screening import suppress as record_suppression

    suppression = record_suppression(workspace(db=db), name, country, entry, by, reason)
    typer.echo(
        f"recorded: `{suppression.party}` is not {suppression.entry_id} "
        f"(list edition {suppression.list_edition}, by {suppression.by})"
    )


@output_options("table", "json")
def suppressions(out: Output, db: DbOption = None) -> None:
    """List the recorded suppressions (reviewed false positives), active and lapsed.

    Example: tiergate suppressions --format json
    """
    from tiergate.workflow.screening import suppressions as recorded

    rows = recorded(workspace(db=db))
    if out.format == "json":
        out.json({"suppressions": rows})
        return
    columns = ("id", "party", "country", "entry_id", "status", "by", "at", "reason")
    out.table(table_of("suppressions", columns, rows))


def report(
    file: Annotated[
        Path,
        typer.Argument(help="Shipments book: .csv (one row per line), .json or .parquet."),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Where to write the report (.html)."),
    ],
    as_of: AsOf = None,
    view: ViewOption = View.ENFORCED,
    country_allocation_tpp: CountryAllocationOption = None,
    no_screen: NoScreen = False,
    match_threshold: MatchThreshold = None,
    potential_threshold: PotentialThreshold = None,
    no_reserve: NoReserve = False,
    db: DbOption = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is checking, for the audit trail.")
    ] = "cli",
) -> None:
    """Check a shipments book and write its determination report: one self-contained HTML
    file with the summary, charts, a map of the destinations, every line with its reasons
    and citations, the data editions and the input's SHA-256, fit to file as a record.

    Example: tiergate report examples/korea_ai_computing_centre.csv --output report.html

    The check is the one `tiergate check` makes (audited when there is a ledger).

    Exit status: 0 every line may ship, 3 some line may not ship as is, 2 unusable input,
    1 internal error (a fault in tiergate: please report it).
    """
    from tiergate import reporting

    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--output `{output}` must name an .html file")
    if not output.parent.is_dir():
        raise UsageError(f"--output `{output}`: the folder `{output.parent}` does not exist")
    if output.resolve() == file.resolve():
        raise UsageError(f"--output `{output}` is the book itself: name another file")
    place = workspace(
        db=db,
        match_threshold=match_threshold,
        potential_threshold=potential_threshold,
        country_allocation_tpp=country_allocation_tpp,
    )
    checked = place.check(
        file,
        as_of=parse_day(as_of, "--as-of"),
        view=view,
        screen=not no_screen,
        reserve=not no_reserve,
        actor=actor,
    )
    source = reporting.Source(file.name, checked.input_hash, reporting.now())
    reporting.write(checked.report, source, output)
    summary = checked.report.summary
    note(
        f"report written to {output}: {summary.lines_out} lines, {summary.may_ship} may ship, "
        f"{summary.may_not_ship} may not ship as they are"
    )
    raise typer.Exit(checked.report.exit_code)
