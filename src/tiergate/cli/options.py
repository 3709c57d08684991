"""What several commands share, declared once: options, the output options and their one
writer, and the workspace a command works in.

Kept light: importing this module (as `tiergate --help` does) loads neither the engine nor
the rulebook, pydantic, SQLAlchemy or screening; commands import those when they run.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar, get_type_hints

import typer

from tiergate.errors import UsageError
from tiergate.terms import View

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

    from tiergate.workflow import Workspace

R = TypeVar("R")


def measure(value: float | None) -> float | None:
    """A number option must be a finite number >= 0 (nan, inf and -1 are not measures)."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a finite number >= 0")
    return value


def _writable(path: Path | None) -> Path | None:
    """--output must name a file tiergate can write, checked before any work is done (and
    before anything is committed)."""
    if path is None:
        return None
    folder = path.parent
    if path.is_dir():
        raise typer.BadParameter(f"`{path}` is a folder: name a file in it")
    if not folder.is_dir():
        raise typer.BadParameter(f"the folder `{folder}` of `{path}` does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise typer.BadParameter(f"`{path}` cannot be written (no permission)")
    return path


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date to determine as of (YYYY-MM-DD); default: each line's date, else today.",
    ),
]
ViewOption = Annotated[
    View,
    typer.Option(
        "--view", help="enforced (what BIS enforces; default) or written (the text as in force)."
    ),
]
MatchThreshold = Annotated[
    float | None,
    typer.Option(
        "--match-threshold",
        min=0.0,
        max=1.0,
        callback=measure,
        help="Score from which a list hit decides the outcome (default 0.92, data/screening.yaml; "
        "TIERGATE_MATCH_THRESHOLD).",
    ),
]
PotentialThreshold = Annotated[
    float | None,
    typer.Option(
        "--potential-threshold",
        min=0.0,
        max=1.0,
        callback=measure,
        help="Score from which a hit is a possible match, held for review (default 0.80; "
        "TIERGATE_POTENTIAL_THRESHOLD).",
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Ledger database URL (sqlite:///path or postgresql://...); default: "
        "TIERGATE_DATABASE_URL, else ledger.sqlite3 in the tiergate home.",
    ),
]
CountryAllocationOption = Annotated[
    float | None,
    typer.Option(
        "--country-allocation-tpp",
        callback=measure,
        help="Tier 2 country allocation in TPP (default: TIERGATE_COUNTRY_ALLOCATION_TPP, else "
        "the rulebook's, flagged UNCERTAIN).",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of the terminal.",
        callback=_writable,
    ),
]


def parse_day(value: str | None, option: str) -> date | None:
    """The date `option` gives (YYYY-MM-DD), None when not given."""
    from tiergate.normalise import ValueProblem, parse_date

    try:
        return parse_date(value, option)
    except ValueProblem as problem:
        raise UsageError(str(problem)) from None


def workspace(
    *,
    db: str | None = None,
    match_threshold: float | None = None,
    potential_threshold: float | None = None,
    country_allocation_tpp: float | None = None,
) -> Workspace:
    """The workspace a command works in: the environment's settings with the command's
    options over them, progress drawn on stderr when it is a terminal."""
    from tiergate.cli.logs import progress_for
    from tiergate.workflow import Settings, Workspace

    settings = Settings.load(
        db=db,
        match_threshold=match_threshold,
        potential_threshold=potential_threshold,
        country_allocation_tpp=country_allocation_tpp,
    )
    return Workspace(settings, progress=progress_for(sys.stderr))


def note(message: str) -> None:
    """A message for the person at the terminal (stderr), never part of the data."""
    from rich.console import Console

    Console(stderr=True).print(message, highlight=False)


@dataclass(slots=True)
class Staged:
    """A file being written (`Output.staged`): `done` once it is whole."""

    handle: BinaryIO
    done: bool = False


@dataclass(frozen=True, slots=True)
class Output:
    """The one writer of a command's data: in the chosen `format`, to the terminal or to the
    --output file `path`."""

    format: str
    path: Path | None = None

    def text(self, text: str) -> None:
        """`text` as it is."""
        if self.path is None:
            sys.stdout.write(text)
            return
        try:
            self.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write --output `{self.path}`: {exc.strerror or exc}") from exc

    def needs_file(self, *formats: str) -> None:
        """Refuse, before any work, to write one of `formats` (binary) to a terminal."""
        if self.format in formats and self.path is None:
            raise UsageError(
                f"--format {self.format} writes a file: give --output FILE.{self.format}"
            )

    def binary(self, write: Callable[[BinaryIO], None]) -> None:
        """What `write` writes to a binary handle: the --output file, or standard output."""
        if self.path is None:
            write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        try:
            with self.path.open("wb") as handle:
                write(handle)
        except OSError as exc:
            raise UsageError(f"cannot write --output `{self.path}`: {exc.strerror or exc}") from exc

    @contextmanager
    def staged(self) -> Iterator[Staged]:
        """A binary handle on a file beside the --output file, which becomes it (renamed)
        where the block sets `Staged.done`; otherwise it is removed and the --output file is
        as it was: a reader never finds half a file there. An --output file that is a
        symbolic link is written where it points; one that exists keeps its permissions."""
        assert self.path is not None, "a staged output is a file"
        target = self.path.resolve() if self.path.is_symlink() else self.path
        partial = target.with_name(f".{target.name}.partial")
        try:
            handle = partial.open("wb")
        except OSError as exc:
            raise UsageError(f"cannot write --output `{self.path}`: {exc.strerror or exc}") from exc
        try:
            with handle:
                staged = Staged(handle)
                yield staged
            if staged.done:
                if target.exists():
                    shutil.copymode(target, partial)
                partial.replace(target)
        except OSError as exc:
            raise UsageError(f"cannot write --output `{self.path}`: {exc.strerror or exc}") from exc
        finally:
            partial.unlink(missing_ok=True)

    def json(self, document: Any) -> None:
        """`document` as indented JSON, non-ASCII characters as they are."""
        self.text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    def csv(self, rows: Iterable[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
        """`rows` as CSV, one column per key (per name of `columns`, when given)."""
        from tiergate.outputs import rows_to_csv

        self.text(rows_to_csv(rows, columns))

    def table(self, table: RenderableType) -> None:
        """A rich table (or any renderable), as wide as the terminal or 200 columns in a file."""
        with self.console() as console:
            console.print(table)

    @contextmanager
    def console(self) -> Iterator[Console]:
        """A console writing where the data goes (plain text in a file)."""
        from rich.console import Console

        if self.path is None:
            yield Console()
            return
        try:
            with self.path.open("w", encoding="utf-8") as handle:
                yield Console(file=handle, width=200, color_system=None)
        except OSError as exc:
            raise UsageError(f"cannot write --output `{self.path}`: {exc.strerror or exc}") from exc


def table_of(title: str, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> Table:
    """A table of `rows` showing `columns`, None as an empty cell."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    return table


def _listed(formats: tuple[str, ...]) -> str:
    return (", ".join(formats[:-1]) + " or " + formats[-1] + ".") if len(formats) > 1 else ""


def output_options(*formats: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command --format (one of `formats`, the first by default; none when there is
    one) and --output, and pass it the `out: Output` they make instead: every command that
    prints data writes through `Output` (sqlite-utils' `output_options`, for typer). --output
    is checked before the command runs, so nothing is committed when it cannot be written."""
    added: list[inspect.Parameter] = []
    if len(formats) > 1:
        choices = StrEnum("Format", [(name.upper(), name) for name in formats])  # type: ignore[misc]
        option = typer.Option("--format", "-f", help=_listed(formats))
        added.append(_keyword("output_format", choices(formats[0]), Annotated[choices, option]))
    added.append(_keyword("output", None, OutputOption))

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        hints = get_type_hints(command, include_extras=True)
        signature = inspect.signature(command)
        kept = [p for name, p in signature.parameters.items() if name != "out"]

        @functools.wraps(command)
        def run(
            *args: Any, output_format: str = formats[0], output: Path | None = None, **kwargs: Any
        ) -> R:
            return command(*args, out=Output(output_format, output), **kwargs)

        parameters = [p.replace(annotation=hints[p.name]) for p in kept] + added
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate


def _keyword(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )
