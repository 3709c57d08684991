"""The `tiergate` command: a thin shell over the library that parses, calls and formats.

Exit codes: 0 every line may ship, 3 some line may not ship as is, 2 unusable input or
usage, 1 internal error. They live on the exception classes in `tiergate.errors`.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tiergate import __version__
from tiergate.classify import Specs
from tiergate.country_map import default_item
from tiergate.country_map import tiers as country_tiers
from tiergate.engine import Engine
from tiergate.errors import TiergateError, UsageError
from tiergate.home import tiergate_home
from tiergate.keys import HolderKey, HoldStatus, Period
from tiergate.model import Report
from tiergate.normalise import (
    MAX_QUANTITY,
    ValueProblem,
    name_key,
    parse_date,
    parse_money,
)
from tiergate.outputs import render_table, rows_to_csv, to_csv, to_json, to_jsonl
from tiergate.rulebook import View
from tiergate.screening.parties import read_parties
from tiergate.screening.readers import diff_editions, read_list
from tiergate.screening.rescreen import rescreen
from tiergate.screening.service import Screener, ScreenResult
from tiergate.screening.store import ListStore
from tiergate.workflow import Settings, Workspace

if TYPE_CHECKING:
    from tiergate.ledger.ledger import Ledger

app = typer.Typer(
    name="tiergate",
    help="Export-control determinations for AI chips and AI technology, line by line, as of any "
    "date, with reasons and citations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


class CheckFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


class ClassifyFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


# Options shared by several commands, declared once.
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


def _measure(value: float | None) -> float | None:
    """A number option must be a finite number >= 0 (nan, inf and -1 are not measures)."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a finite number >= 0")
    return value


MatchThreshold = Annotated[
    float | None,
    typer.Option(
        "--match-threshold",
        min=0.0,
        max=1.0,
        callback=_measure,
        help="Score from which a list hit decides the outcome (default 0.92, data/screening.yaml).",
    ),
]
PotentialThreshold = Annotated[
    float | None,
    typer.Option(
        "--potential-threshold",
        min=0.0,
        max=1.0,
        callback=_measure,
        help="Score from which a hit is a possible match, held for review (default 0.80).",
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
        callback=_measure,
        help="Tier 2 country allocation in TPP (default: the rulebook's, flagged UNCERTAIN).",
    ),
]


def _ledger(db: str | None, *, read_only: bool = False) -> Ledger:
    """The ledger at `db` (see `Ledger`); SQLAlchemy is imported only by commands using it."""
    from tiergate.ledger.ledger import Ledger

    return Ledger(db, read_only=read_only)


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


OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of the terminal.",
        callback=_writable,
    ),
]


def _date(value: str | None, option: str) -> date | None:
    try:
        return parse_date(value, option)
    except ValueProblem as problem:
        raise UsageError(str(problem)) from None


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --output `{output}`: {exc.strerror or exc}") from exc


def _engine() -> Engine:
    return Engine()


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="Shipments book: .csv (one row per line) or .json.")],
    as_of: AsOf = None,
    view: ViewOption = View.ENFORCED,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table (terminal), json, jsonl or csv.")
    ] = CheckFormat.TABLE,
    output: OutputOption = None,
    country_allocation_tpp: CountryAllocationOption = None,
    no_screen: Annotated[
        bool,
        typer.Option(
            "--no-screen",
            help="Do not screen the named parties against the restricted-party lists.",
        ),
    ] = False,
    match_threshold: MatchThreshold = None,
    potential_threshold: PotentialThreshold = None,
    commit: Annotated[
        bool,
        typer.Option(
            "--commit",
            help="Record the lines that may ship as shipped in the ledger, debiting allowances "
            "and licences.",
        ),
    ] = False,
    no_reserve: Annotated[
        bool,
        typer.Option(
            "--no-reserve",
            help="A what-if check: do not reserve licence quantity in the ledger (still audited).",
        ),
    ] = False,
    db: DbOption = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is checking or committing, for the audit trail.")
    ] = "cli",
    detail: Annotated[
        bool,
        typer.Option(
            "--detail", help="After the table, every reason of every line with its citation."
        ),
    ] = False,
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
    workspace = Workspace(
        Settings(
            db=db,
            match_threshold=match_threshold,
            potential_threshold=potential_threshold,
            country_allocation_tpp=country_allocation_tpp,
        )
    )
    checked = workspace.check(
        file,
        as_of=_date(as_of, "--as-of"),
        view=view,
        screen=not no_screen,
        commit=commit,
        reserve=not no_reserve,
        actor=actor,
    )
    report = checked.report
    if checked.commit is not None:
        Console(stderr=True).print(f"ledger: {checked.commit.summary()}", highlight=False)
        for key, why in checked.commit.refused:
            Console(stderr=True).print(f"  not committed {key}: {why}", highlight=False)
    try:
        _write_report(report, output_format, output, detail=detail)
    except UsageError as exc:
        if not commit:
            raise
        raise UsageError(
            f"{exc}. The commit itself is recorded in the ledger; run the same check again "
            "(without --commit) to write the report"
        ) from exc
    raise typer.Exit(report.exit_code)


def _write_report(
    report: Report, output_format: CheckFormat, output: Path | None, *, detail: bool = False
) -> None:
    if output_format is CheckFormat.TABLE:
        if output is None:
            render_table(report, Console(), detail=detail)
            return
        try:
            with output.open("w", encoding="utf-8") as handle:
                console = Console(file=handle, width=200, color_system=None)
                render_table(report, console, detail=detail)
        except OSError as exc:
            raise UsageError(f"cannot write --output `{output}`: {exc.strerror or exc}") from exc
    elif output_format is CheckFormat.JSON:
        _emit(to_json(report), output)
    elif output_format is CheckFormat.JSONL:
        _emit(to_jsonl(report), output)
    else:
        _emit(to_csv(report), output)


@app.command()
def classify(
    name: Annotated[
        str | None, typer.Argument(help="A catalog name or alias, e.g. 'H100 SXM'.")
    ] = None,
    tpp: Annotated[
        float | None, typer.Option("--tpp", callback=_measure, help="Total processing performance.")
    ] = None,
    die_area: Annotated[
        float | None,
        typer.Option("--die-area", callback=_measure, help="Applicable die area, mm²."),
    ] = None,
    dram_bandwidth: Annotated[
        float | None,
        typer.Option("--dram-bandwidth", callback=_measure, help="DRAM bandwidth, GB/s."),
    ] = None,
    interconnect: Annotated[
        float | None,
        typer.Option(
            "--interconnect", callback=_measure, help="Bidirectional chip-to-chip rate, GB/s."
        ),
    ] = None,
    non_datacenter: Annotated[
        bool, typer.Option("--non-datacenter", help="Not designed or marketed for datacenters.")
    ] = False,
    as_of: AsOf = None,
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """Classify a chip by catalog name or by raw specs.

    Example: tiergate classify "RTX 4090" --as-of 2024-06-01

    Example: tiergate classify --tpp 4000 --die-area 600 --format json
    """
    on = _date(as_of, "--as-of") or date.today()
    engine = _engine()
    specs = Specs(
        tpp=tpp,
        die_area_mm2=die_area,
        dram_bandwidth_gbps=dram_bandwidth,
        interconnect_gbps=interconnect,
        datacenter=False if non_datacenter else None,
    )
    if name is None and specs == Specs(datacenter=None):
        raise UsageError("give a catalog name or at least --tpp (see `tiergate classify --help`)")
    result = engine.classify(on, item=name, specs=specs)
    h100 = engine.rulebook.meta.h100_tpp
    data: dict[str, Any] = {
        "as_of": on.isoformat(),
        "item": name,
        "item_name": result.chip.name if result.chip else None,
        "item_type": result.item_type.value,
        "eccn": result.eccn,
        "scope": result.scope,
        "tpp": result.unit_tpp,
        "performance_density": (
            round(result.specs.performance_density, 2)
            if result.specs.performance_density is not None
            else None
        ),
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
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", None)
    else:
        table = Table(title=f"classification as of {on.isoformat()}", show_header=False)
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for key, value in data.items():
            if key == "reasons":
                value = "\n".join(f"{r['rule']}: {r['message']} [{r['citation']}]" for r in value)
            elif key == "errors":
                value = "\n".join(value)
            table.add_row(key, "" if value is None else str(value))
        Console().print(table)
    raise typer.Exit(2 if result.errors else 0)


@app.command()
def tiers(
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
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = ListFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Every country with its tier for an item class: the country map.

    Example: tiergate tiers --as-of 2025-06-01 --view written --item 3A090.a --format csv
    """
    on = _date(as_of, "--as-of") or date.today()
    engine = _engine()
    engine.check_range(on)
    item = item or default_item(engine, on)
    rows = country_tiers(engine, on, view, item)
    if output_format is ListFormat.JSON:
        document = {
            "as_of": on.isoformat(),
            "view": view.value,
            "item": item,
            "rulebook_version": engine.rulebook.version,
            "countries": [row.as_dict() for row in rows],
        }
        _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)
    elif output_format is ListFormat.CSV:
        _emit(rows_to_csv(row.as_dict() for row in rows), output)
    else:
        table = Table(title=f"tiers for {item} as of {on.isoformat()} ({view.value} view)")
        for column in ("country", "name", "tier", "outcome", "exception / policy", "rules"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(
                row.country,
                row.name,
                row.tier or "",
                row.outcome,
                row.exception or row.review_policy or "",
                ", ".join(row.rules),
            )
        if output is None:
            Console().print(table)
        else:
            with output.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=200, color_system=None).print(table)


@app.command()
def rules(
    as_of: AsOf = None,
    view: ViewOption = View.ENFORCED,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = ListFormat.TABLE,
) -> None:
    """Which rule sets, licence exceptions and advisories are in force, with their sources.

    Example: tiergate rules --as-of 2026-02-01 --view written
    """
    on = _date(as_of, "--as-of") or date.today()
    engine = _engine()
    engine.check_range(on)
    compiled = engine.compiled(on, view)
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
    if output_format is ListFormat.JSON:
        document = {
            "as_of": on.isoformat(),
            "view": view.value,
            "rulebook_version": engine.rulebook.version,
            "in_force": rows,
        }
        _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", None)
    elif output_format is ListFormat.CSV:
        _emit(rows_to_csv(rows), None)
    else:
        table = Table(
            title=f"in force on {on.isoformat()} ({view.value} view), "
            f"rulebook {engine.rulebook.version}"
        )
        for column in ("kind", "id", "from", "to", "policy", "tier", "citation", "uncertain"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        Console().print(table)


@app.command()
def screen(
    name: Annotated[str | None, typer.Argument(help="A party name to screen.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="The party's country (name or ISO code).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A CSV of parties: `name`, optional `country` and `id`."),
    ] = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = ListFormat.TABLE,
    output: OutputOption = None,
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
    if (name is None) == (file is None):
        raise UsageError("give either a NAME or --file (see `tiergate screen --help`)")
    workspace = Workspace(
        Settings(db=db, match_threshold=match_threshold, potential_threshold=potential_threshold)
    )
    screener = workspace.screener(workspace.ledger(read_only=True))
    if file is not None:
        rows = read_parties(file)
        results = [screener.screen(r.name or "", r.country, r.party_id, r.error) for r in rows]
        extras = [r.extra for r in rows]
    else:
        assert name is not None
        results = [screener.screen(name, country)]
        extras = [{}]
    if screener.lapsed:
        ledger = workspace.ledger(required=True)
        assert ledger is not None
        ledger.record_lapses(screener.lapsed.values(), actor)
    if output_format is ListFormat.JSON:
        document = {
            "list_editions": screener.editions(),
            "results": [
                {**result.as_dict(), **extra} for result, extra in zip(results, extras, strict=True)
            ],
        }
        _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)
    elif output_format is ListFormat.CSV:
        _emit(rows_to_csv(screening_rows(results, extras)), output)
    else:
        edition = screener.edition
        table = Table(
            title=f"screening against {edition.name} of {edition.edition_date.isoformat()}"
        )
        for column in ("party", "country", "status", "list", "entry", "matched name", "score"):
            table.add_column(column, overflow="fold")
        for result in results:
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
        if output is None:
            Console().print(table)
        else:
            with output.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=200, color_system=None).print(table)
    raise typer.Exit(0 if all(r.status == "clear" for r in results) else 3)


def screening_rows(
    results: list[ScreenResult], extras: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """One CSV row per party: its status, its best hit, and its pass-through columns."""
    rows = []
    for result, extra in zip(results, extras, strict=True):
        top = result.hits[0] if result.hits else None
        rows.append(
            {
                "id": result.party_id,
                "name": result.name,
                "country": result.country,
                "status": result.status,
                "hits": len(result.hits),
                "list": top.entry.list_code if top else None,
                "entry_id": top.entry.entry_id if top else None,
                "listed_name": top.entry.name if top else None,
                "matched_name": top.matched_name if top else None,
                "score": round(top.score, 3) if top else None,
                "license_requirement": top.entry.license_requirement if top else None,
                "license_policy": top.entry.license_policy if top else None,
                "errors": list(result.errors),
                **extra,
            }
        )
    return rows


@app.command()
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
    ledger = _ledger(db)
    ledger.require_current()
    suppression = ledger.add_suppression(
        Screener.shared().suppression(name, country, entry, by, reason), by.strip()
    )
    typer.echo(
        f"recorded: `{suppression.party}` is not {suppression.entry_id} "
        f"(list edition {suppression.list_edition}, by {suppression.by})"
    )


@app.command()
def suppressions(
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
    db: DbOption = None,
) -> None:
    """List the recorded suppressions (reviewed false positives), active and lapsed.

    Example: tiergate suppressions --format json
    """
    rows = [s.as_dict() for s in _ledger(db, read_only=True).suppressions()]
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps({"suppressions": rows}, indent=2, ensure_ascii=False) + "\n", None)
        return
    columns = ("id", "party", "country", "entry_id", "status", "by", "at", "reason")
    table = Table(title="suppressions")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in columns))
    Console().print(table)


db_app = typer.Typer(help="The ledger database.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the ledger database to the current schema.

    Example: tiergate db upgrade --db postgresql://postgres@127.0.0.1:5432/test
    """
    ledger = _ledger(db)
    before, after = ledger.upgrade()
    typer.echo(f"ledger `{ledger.url}`: schema {before or 'none'} -> {after}")
    legacy = tiergate_home() / "suppressions.json"
    if legacy.is_file():
        count = ledger.import_suppressions(legacy, "db upgrade")
        typer.echo(f"moved {count} suppression(s) from `{legacy}` into the ledger (audited)")


@app.command()
def allowances(
    country: Annotated[
        str | None, typer.Option("--country", help="Only this country (name or ISO code).")
    ] = None,
    consignee: Annotated[
        str | None, typer.Option("--consignee", help="Only consignees whose name contains this.")
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            "--year", min=2022, max=9999, help="Only periods that include this calendar year."
        ),
    ] = None,
    country_allocation_tpp: CountryAllocationOption = None,
    db: DbOption = None,
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """Allowance usage recorded in the ledger: used and remaining TPP and H100-equivalents.

    Example: tiergate allowances --country IN --year 2025 --format json

    LPP allowances are counted per ultimate consignee and calendar year; Tier 2 country
    allocations per country over their period, from the lines committed under a licence.
    """
    engine = Engine(country_allocation_tpp=country_allocation_tpp)
    code = None
    if country is not None:
        place = engine.countries.resolve(country, date.today())
        if place is None:
            raise UsageError(f"--country `{country}` is not a country tiergate knows")
        code = place.code
    h100 = engine.rulebook.meta.h100_tpp
    rows: list[dict[str, Any]] = []
    for (allowance_id, holder, period), used in sorted(
        _ledger(db, read_only=True).allowance_state().used.items()
    ):
        key = HolderKey.parse(holder)
        if year is not None and not Period.parse(period).includes(year):
            continue
        if code is not None and key.country != code:
            continue
        if consignee is not None and (key.name is None or name_key(consignee) not in key.name):
            continue
        allowance = engine.allowance(allowance_id)
        limit = allowance.limit_tpp
        rows.append(
            {
                "allowance": allowance_id,
                "holder": holder,
                "period": period,
                "used_tpp": used,
                "remaining_tpp": max(limit - used, 0.0),
                "limit_tpp": limit,
                "used_h100_equivalents": round(used / h100, 1),
                "remaining_h100_equivalents": round(max(limit - used, 0.0) / h100, 1),
                "uncertain": allowance.uncertain and country_allocation_tpp is None,
                "citation": allowance.citation,
            }
        )
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps({"allowances": rows}, indent=2) + "\n", None)
        return
    table = Table(title="allowance usage (ledger)")
    columns = ("allowance", "holder", "period", "used_tpp", "remaining_tpp", "limit_tpp", "H100-eq")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["allowance"]) + (" (UNCERTAIN)" if row["uncertain"] else ""),
            str(row["holder"]),
            str(row["period"]),
            f"{row['used_tpp']:,.0f}",
            f"{row['remaining_tpp']:,.0f}",
            f"{row['limit_tpp']:,.0f}",
            f"{row['used_h100_equivalents']:,} used, {row['remaining_h100_equivalents']:,} left",
        )
    Console().print(table)


license_app = typer.Typer(
    help="Licences the company holds (recorded in the ledger).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(license_app, name="license")


@license_app.command("add")
def license_add(
    number: Annotated[str, typer.Argument(help="The licence number.")],
    holder: Annotated[str, typer.Option("--holder", help="Who holds it.")],
    item: Annotated[
        list[str], typer.Option("--item", help="An ECCN, ECCN prefix or scope it covers (repeat).")
    ],
    destination: Annotated[
        list[str], typer.Option("--destination", help="A destination it covers (repeat).")
    ],
    quantity: Annotated[
        int, typer.Option("--quantity", min=1, max=MAX_QUANTITY, help="Authorized units.")
    ],
    valid_from: Annotated[str, typer.Option("--valid-from", help="First day (YYYY-MM-DD).")],
    valid_to: Annotated[str, typer.Option("--valid-to", help="Last day (YYYY-MM-DD).")],
    party: Annotated[
        list[str] | None, typer.Option("--party", help="A consignee it names (repeat).")
    ] = None,
    value: Annotated[
        float | None,
        typer.Option(
            "--value", callback=_measure, help="Authorized value in US dollars (to the cent)."
        ),
    ] = None,
    conditions: Annotated[
        str | None, typer.Option("--conditions", help="The licence's conditions.")
    ] = None,
    db: DbOption = None,
    actor: Annotated[str, typer.Option("--actor", help="Who records it.")] = "cli",
) -> None:
    """Record a licence the company holds.

    Example: tiergate license add D1234567 --holder "Example Inc" --item 3A090 --destination CN
    --quantity 100 --valid-from 2025-01-01 --valid-to 2028-12-31
    """
    start = _date(valid_from, "--valid-from")
    end = _date(valid_to, "--valid-to")
    if start is None or end is None:
        raise UsageError("give --valid-from and --valid-to as YYYY-MM-DD")
    if end < start:
        raise UsageError(f"--valid-to {end} is before --valid-from {start}")
    engine = _engine()
    items = [_licence_item(given, engine) for given in item]
    authorized_value = None if value is None else _money(value, "--value")
    resolver = engine.countries
    codes = []
    for name in destination:
        place = resolver.resolve(name, start)
        if place is None:
            raise UsageError(f"--destination `{name}` is not a country tiergate knows")
        codes.append(place.as_written)
    _ledger(db).add_licence(
        {
            "number": number,
            "holder": holder,
            "items": items,
            "destinations": codes,
            "parties": list(party or []),
            "authorized_quantity": quantity,
            "authorized_value": authorized_value,
            "valid_from": start.isoformat(),
            "valid_to": end.isoformat(),
            "conditions": conditions,
        },
        actor,
    )
    worth = f" worth US${authorized_value:,.2f}" if authorized_value is not None else ""
    typer.echo(f"licence {number} recorded: {quantity:,} units{worth}, {start} to {end}")


_ECCN = re.compile(r"[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*", re.IGNORECASE)


def _licence_item(given: str, engine: Engine) -> str:
    """An ECCN (3A090), an ECCN prefix (4A090.a), EAR99 or a control scope tiergate knows."""
    value = given.strip()
    scopes = sorted({c.scope for c in engine.rulebook.item_classes.classes if _ECCN.match(c.scope)})
    if value in scopes or value.upper() == "EAR99":
        return value.upper() if value.upper() == "EAR99" else value
    if _ECCN.fullmatch(value):
        return value[:5].upper() + value[5:].casefold()
    raise UsageError(
        f"--item `{given}` is not an ECCN (e.g. 3A090 or 4A090.a), EAR99 or a control scope "
        f"tiergate knows ({', '.join(scopes)})"
    )


def _money(value: float, option: str) -> float:
    try:
        money = parse_money(value, option)
    except ValueProblem as problem:
        raise UsageError(str(problem)) from problem
    assert money is not None
    return money


@license_app.command("list")
def license_list(
    db: DbOption = None,
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """Every licence with its used, reserved and remaining quantity (and value).

    Example: tiergate license list --format json
    """
    rows = _ledger(db, read_only=True).licences()
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps({"licences": rows}, indent=2, ensure_ascii=False) + "\n", None)
        return
    columns = (
        "number",
        "holder",
        "status",
        "valid_from",
        "valid_to",
        "authorized_quantity",
        "used_quantity",
        "reserved_quantity",
        "remaining_quantity",
        "authorized_value",
        "used_value",
        "reserved_value",
        "remaining_value",
    )
    table = Table(title="licences")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    Console().print(table)


@license_app.command("show")
def license_show(
    number: Annotated[str, typer.Argument(help="The licence number.")], db: DbOption = None
) -> None:
    """One licence in full, with its balance.

    Example: tiergate license show D1234567
    """
    found = [row for row in _ledger(db, read_only=True).licences() if row["number"] == number]
    if not found:
        raise UsageError(f"licence `{number}` is not recorded")
    _emit(json.dumps(found[0], indent=2, ensure_ascii=False) + "\n", None)


@license_app.command("revoke")
def license_revoke(
    number: Annotated[str, typer.Argument(help="The licence number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked.")],
    db: DbOption = None,
    actor: Annotated[str, typer.Option("--actor", help="Who revokes it.")] = "cli",
) -> None:
    """Revoke a licence: it covers nothing from now on.

    Example: tiergate license revoke D1234567 --reason "returned to BIS"
    """
    _ledger(db).revoke_licence(number, actor, reason)
    typer.echo(f"licence {number} revoked")


@app.command()
def cancel(
    shipment_id: Annotated[str, typer.Argument(help="The shipment whose lines will not ship.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the lines are cancelled.")],
    line: Annotated[
        str | None, typer.Option("--line", help="Only this line (default: every line).")
    ] = None,
    db: DbOption = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who cancels, for the audit trail.")
    ] = "cli",
) -> None:
    """Cancel checked lines that will not ship: the licence quantity and value their check
    reserved goes back to the licence. Lines committed as shipped cannot be cancelled.

    Example: tiergate cancel SO-1042 --line 2 --reason "order withdrawn by the customer"
    """
    if not reason.strip():
        raise UsageError("--reason must say why the lines are cancelled")
    released = _ledger(db).cancel(shipment_id, line, actor, reason.strip())
    which = f"line {line} of shipment {shipment_id}" if line else f"shipment {shipment_id}"
    typer.echo(f"{which} cancelled: {released} licence reservation(s) released")


holds_app = typer.Typer(
    help="Held lines and the decisions reviewers take on them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(holds_app, name="holds")


@holds_app.command("list")
def holds_list(
    status: Annotated[
        HoldStatus | None, typer.Option("--status", help="Only the holds with this status.")
    ] = None,
    db: DbOption = None,
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """Held lines recorded by checks against the ledger.

    Example: tiergate holds list --status open
    """
    rows = _ledger(db, read_only=True).holds(status)
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps({"holds": rows}, indent=2, ensure_ascii=False) + "\n", None)
        return
    columns = ("id", "shipment_id", "line_id", "status", "signature", "decided_by")
    table = Table(title="holds")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in columns))
    Console().print(table)


def _decide(hold_id: int, status: HoldStatus, by: str, reason: str, db: str | None) -> None:
    _ledger(db).decide_hold(hold_id, status, by, reason)
    typer.echo(f"hold {hold_id} {status} by {by}")


@holds_app.command("release")
def holds_release(
    hold_id: Annotated[
        int, typer.Argument(min=1, max=2**31 - 1, help="The hold's id (see `holds list`).")
    ],
    by: Annotated[str, typer.Option("--by", help="The reviewer.")],
    reason: Annotated[str, typer.Option("--reason", help="The justification.")],
    db: DbOption = None,
) -> None:
    """Release a held line: it may ship while the same reasons hold it.

    Example: tiergate holds release 3 --by "J. Doe" --reason "end user verified on site"
    """
    _decide(hold_id, HoldStatus.RELEASED, by, reason, db)


@holds_app.command("reject")
def holds_reject(
    hold_id: Annotated[
        int, typer.Argument(min=1, max=2**31 - 1, help="The hold's id (see `holds list`).")
    ],
    by: Annotated[str, typer.Option("--by", help="The reviewer.")],
    reason: Annotated[str, typer.Option("--reason", help="The justification.")],
    db: DbOption = None,
) -> None:
    """Reject a held line: it is PROHIBITED from now on.

    Example: tiergate holds reject 3 --by "J. Doe" --reason "diversion red flags"
    """
    _decide(hold_id, HoldStatus.REJECTED, by, reason, db)


audit_app = typer.Typer(
    help="The ledger's audit trail.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="The hash of an entry kept outside the database (from an earlier `audit "
            "verify` or `audit export`): it must still be in the trail.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Check the audit trail's hash chain and head; names every edited, inserted or deleted
    entry.

    Example: tiergate audit verify --anchor 3f5c...
    """
    ledger = _ledger(db, read_only=True)
    problems = ledger.audit_verify(anchor)
    if problems:
        for problem in problems:
            Console(stderr=True).print(f"audit: {problem}", highlight=False)
        raise typer.Exit(3)
    head = ledger.audit_head()
    typer.echo(
        f"audit trail intact: {head['entries']} entries; head {head['last_hash']} "
        "(keep it outside the database and give it as --anchor to a later verify)"
    )


@audit_app.command("export")
def audit_export(
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="json or csv.")
    ] = ListFormat.JSON,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries from this date (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export the audit trail with its head (entries and the newest entry's hash: keep it
    outside the database).

    Example: tiergate audit export --format csv --since 2026-01-01
    """
    ledger = _ledger(db, read_only=True)
    entries = ledger.audit_entries(_date(since, "--since"))
    head = ledger.audit_head()
    if output_format is ListFormat.CSV:
        _emit(rows_to_csv({**e, "payload": json.dumps(e["payload"])} for e in entries), None)
        Console(stderr=True).print(
            f"audit head: {head['entries']} entries, last entry {head['last_id']}, "
            f"hash {head['last_hash']}",
            highlight=False,
        )
    else:
        document = {"head": head, "audit": entries}
        _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", None)


data_app = typer.Typer(
    help="Restricted-party list editions: status, updates, differences.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(data_app, name="data")


@data_app.command("status")
def data_status(
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """The list edition in use: date, age, entries per list; warns when it is stale.

    Example: tiergate data status --format json
    """
    status = ListStore().status()
    if output_format is ClassifyFormat.JSON:
        _emit(json.dumps({"editions": {"csl": status}}, indent=2, ensure_ascii=False) + "\n", None)
        return
    table = Table(title="restricted-party list editions", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key in ("name", "edition_date", "age_days", "entries", "source", "installed_at"):
        table.add_row(key, str(status[key]))
    table.add_row("entries per list", ", ".join(f"{k} {v}" for k, v in status["counts"].items()))
    table.add_row("content hash", status["content_hash"][:16])
    console = Console()
    console.print(table)
    for warning in status["warnings"]:
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


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
    when = _date(edition_date, "--edition-date")
    result = ListStore().update(file=file, url=url, force=force, edition_date=when)
    typer.echo(result.message)


@data_app.command("diff")
def data_diff(
    old: Annotated[Path, typer.Argument(help="The older list file (any supported format).")],
    new: Annotated[Path, typer.Argument(help="The newer list file.")],
    parties: Annotated[
        Path | None,
        typer.Option("--parties", help="A parties CSV to re-screen against both editions."),
    ] = None,
    output_format: Annotated[
        ClassifyFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ClassifyFormat.TABLE,
) -> None:
    """Entries added, removed and changed between two editions, and the parties whose
    screening result changes.

    Example: tiergate data diff sdn_2021-08-18.csv sdn_2024-05-03.csv --parties parties.csv
    """
    before, after = read_list(old), read_list(new)
    difference = diff_editions(before, after)
    changes = rescreen(read_parties(parties), before, after) if parties else []
    if output_format is ClassifyFormat.JSON:
        document = {
            "old": {"date": before.edition_date.isoformat(), "entries": len(before.entries)},
            "new": {"date": after.edition_date.isoformat(), "entries": len(after.entries)},
            "counts": difference.counts(),
            "added": [e.entry_id for e in difference.added],
            "removed": [e.entry_id for e in difference.removed],
            "changed": [n.entry_id for _, n in difference.changed],
            "parties_changed": [change.as_dict() for change in changes],
        }
        _emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", None)
    else:
        counts = difference.counts()
        typer.echo(
            f"{before.edition_date} -> {after.edition_date}: {counts['added']} added, "
            f"{counts['removed']} removed, {counts['changed']} changed"
        )
        for change in changes:
            typer.echo(
                f"party `{change.party.name}` (row {change.party.row}): "
                f"{change.old_status} -> {change.new_status} "
                f"({', '.join(change.new_entries) or 'no hits'})"
            )
    raise typer.Exit(3 if changes else 0)


@app.command()
def version() -> None:
    """Print tiergate's version and the rulebook version.

    Example: tiergate version
    """
    engine = _engine()
    typer.echo(f"tiergate {__version__}, rulebook {engine.rulebook.version}")


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
) -> None:
    """Options for every command (the app's help is the `Typer`'s)."""


def main() -> None:
    """Entry point: run the app, mapping tiergate errors to their exit codes."""
    try:
        app()
    except TiergateError as error:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {error}", highlight=False)
        sys.exit(error.exit_code)
    except Exception as error:  # last resort: report, exit 1
        Console(stderr=True).print(
            f"[bold red]internal error:[/bold red] {error!r}", highlight=False
        )
        sys.exit(1)
