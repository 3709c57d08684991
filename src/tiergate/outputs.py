"""Formatting reports: JSON, JSON Lines, CSV, and a rich table for terminals."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tiergate.gcpause import cyclic_gc_paused
from tiergate.model import LineResult, Outcome, Report, passthrough_name

OUTCOME_STYLES = {
    Outcome.NLR: "green",
    Outcome.EXCEPTION: "cyan",
    Outcome.LICENSED: "blue",
    Outcome.LICENSE_REQUIRED: "yellow",
    Outcome.INDETERMINATE: "magenta",
    Outcome.HOLD: "bold yellow",
    Outcome.PROHIBITED: "bold red",
}

CSV_COLUMNS = (
    "shipment_id",
    "line_id",
    "as_of",
    "item",
    "item_name",
    "item_type",
    "eccn",
    "scope",
    "tpp",
    "performance_density",
    "quantity",
    "value",
    "total_tpp",
    "h100_equivalents",
    "destination",
    "destination_note",
    "consignee",
    "consignee_country",
    "transaction",
    "tier",
    "outcome",
    "exception",
    "licence",
    "review_policy",
    "conditions",
    "reasons",
    "errors",
    "uncertain",
)


def compact(value: Any) -> str:
    """A JSON value as the JSON outputs write it: UTF-8 as it is, on one line."""
    return json.dumps(value, ensure_ascii=False)


def to_json(report: Report) -> str:
    """The whole report as one JSON document: one top-level key per text line, and in
    `lines` one determination per text line (compact, so large books serialise quickly)."""
    with cyclic_gc_paused():
        return _to_json(report)


def _to_json(report: Report) -> str:
    before, after = around_lines(report)
    cache: dict[int, list[dict[str, Any]]] = {}
    body = ",\n".join(f"    {compact(line.as_dict(cache))}" for line in report.lines)
    return before + (f"\n{body}\n  " if report.lines else "") + after


def around_lines(report: Report) -> tuple[str, str]:
    """The JSON document of `report` (`to_json`) around its lines' members: the text up to
    `"lines": [` and the text from its `]` on (the report's own lines are left out)."""
    document = replace(report, lines=()).as_dict()
    keys = list(document)
    place = keys.index("lines")
    members = [f"  {compact(key)}: {compact(document[key])}" for key in keys]
    before = "{\n" + "".join(f"{member},\n" for member in members[:place]) + '  "lines": ['
    return before, "]" + "".join(f",\n{member}" for member in members[place + 1 :]) + "\n}\n"


def to_jsonl(report: Report) -> str:
    """One JSON object per line, each with the report's view and rulebook version."""
    header = {"view": report.view.value, "rulebook_version": report.rulebook_version}
    cache: dict[int, list[dict[str, Any]]] = {}
    reserved = tuple(header)  # a pass-through column named `view` is kept, renamed
    return "".join(
        compact({**line.as_dict(cache, reserved), **header}) + "\n" for line in report.lines
    )


# A spreadsheet program reads a cell starting with one of these as a formula (OWASP "CSV
# injection"): such a text cell is written with a leading apostrophe, which shows it as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A value as a CSV cell: None empty, booleans true/false, whole floats without `.0`, a
    text that a spreadsheet would read as a formula with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_header(buffer: io.StringIO, columns: list[str]) -> None:
    """The header row, its names neutralised like any cell (pass-through names are input)."""
    csv.writer(buffer, lineterminator="\n").writerow([cell(name) for name in columns])


def _written_by_csv(cell: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow((cell, ""))
    return buffer.getvalue()[:-2]


# The characters that make `csv` quote a cell (derived from `csv` itself, not assumed).
QUOTED = "".join(c for c in ',"\n\r\t;' if _written_by_csv(f"a{c}b").startswith('"'))
_QUOTED = re.compile(f"[{re.escape(QUOTED)}]")


def encode_cell(cell: str) -> str:
    """One CSV cell as `csv` writes it among others (`QUOTE_MINIMAL`: a cell holding one of
    `QUOTED` is quoted, its quotes doubled; a test compares it with `csv` on any text)."""
    if _QUOTED.search(cell) is None:
        return cell
    return '"' + cell.replace('"', '""') + '"'


def csv_row(line: LineResult, reason_cells: dict[int, str] | None = None) -> dict[str, str]:
    """A line flattened for CSV: lists joined, reasons as `rule: message [citation]`. Pass
    one `reason_cells` for the lines of one report, which share their reason tuples: each
    tuple's cell is then worked out once (by the tuple's id, while the report holds it)."""
    data = line.as_dict({id(line.reasons): []})  # its reasons' dicts are not needed here
    row = {name: cell(data[name]) for name in CSV_COLUMNS}
    row["conditions"] = cell("; ".join(line.conditions))
    reasons = None if reason_cells is None else reason_cells.get(id(line.reasons))
    if reasons is None:
        reasons = cell(" | ".join(f"{r.rule}: {r.message} [{r.citation}]" for r in line.reasons))
        if reason_cells is not None:
            reason_cells[id(line.reasons)] = reasons
    row["reasons"] = reasons
    row["errors"] = cell("; ".join(line.errors))
    for key, value in line.extra.items():
        row[passthrough_name(key, row)] = cell(value)
    return row


def to_csv(report: Report) -> str:
    """One CSV row per line; pass-through columns follow tiergate's own."""
    with cyclic_gc_paused():
        return _to_csv(report)


def _to_csv(report: Report) -> str:
    cells: dict[int, str] = {}  # the report holds every reason tuple: their ids stay theirs
    rows = [csv_row(line, cells) for line in report.lines]
    # The pass-through columns in the order first met (nearly every row has no new one).
    names = dict.fromkeys(CSV_COLUMNS)
    for row in rows:
        if not names.keys() >= row.keys():
            names.update(dict.fromkeys(row))
    columns = list(names)
    buffer = io.StringIO()
    write_header(buffer, columns)
    # Each cell as `csv` writes it among others (`encode_cell`).
    buffer.writelines(
        ",".join([encode_cell(row.get(name, "")) for name in columns]) + "\n" for row in rows
    )
    return buffer.getvalue()


_BACKGROUND = ("class.", "catalog.", "assumption.", "eccn.", "country.")


def _why(line: LineResult) -> str:
    """The exception or review policy, then the first reason that decided the line, in words
    (its first error when it has errors), and its conditions."""
    if line.errors:
        first = line.errors[0]
    else:
        decisive = [r for r in line.reasons if not r.rule.startswith(_BACKGROUND)]
        first = decisive[0].message if decisive else ""
    policy = line.exception or (line.review_policy.value if line.review_policy else "")
    text = f"{policy}: {first}" if policy and first else policy or first
    if line.conditions:
        text += "\nconditions: " + "; ".join(line.conditions)
    return text


def render_table(report: Report, console: Console, *, detail: bool = False) -> None:
    """A table coloured by outcome that fits 80 columns (the line, item, destination, outcome,
    tier and why), then a summary of lines by tier and outcome. With `detail`, every reason of
    every line follows, with its citation."""
    title = f"tiergate check ({report.view.value} view, rulebook {report.rulebook_version})"
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("line", overflow="fold", max_width=14)
    table.add_column("item", overflow="fold", max_width=14)
    table.add_column("dest")
    table.add_column("outcome / tier", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=1)
    for line in report.lines:
        outcome = Text(line.outcome.value, style=OUTCOME_STYLES[line.outcome])
        if line.tier is not None:
            outcome.append(f"\n{line.tier.value}")
        table.add_row(
            f"{line.shipment_id or ''}/{line.line_id or ''}",
            line.item_name or line.item or "",
            line.destination or "",
            outcome,
            _why(line),
        )
    console.print(table)
    if detail:
        for line in report.lines:
            console.print(
                f"\n[bold]{line.shipment_id or ''}/{line.line_id or ''}[/bold] "
                f"{line.outcome.value}, as of {line.as_of.isoformat() if line.as_of else '?'}",
                highlight=False,
            )
            for error in line.errors:
                console.print(f"  error: {error}", highlight=False, markup=False)
            for reason in line.reasons:
                console.print(
                    f"  {reason.rule}: {reason.message} [{reason.citation}]",
                    highlight=False,
                    markup=False,
                )
        console.print()
    console.print(summary_table(report))
    summary = report.summary
    verdict = (
        "[green]every line may ship as it is[/green]"
        if summary.may_not_ship == 0
        else f"[bold red]{summary.may_not_ship} line(s) may not ship as they are[/bold red]"
    )
    console.print(
        f"lines in {summary.lines_in}, out {summary.lines_out}, with errors "
        f"{summary.lines_with_errors}; {verdict}"
    )
    if summary.duplicate_ids:
        console.print(
            "[yellow]warning:[/yellow] more than one line carries the id "
            + ", ".join(summary.duplicate_ids)
            + ": a commit refuses them (give each line its own shipment_id/line_id)"
        )


def summary_table(report: Report) -> Table:
    """Lines by tier (rows) and outcome (columns)."""
    counts: dict[tuple[str, Outcome], int] = {}
    for line in report.lines:
        tier = line.tier.value if line.tier else "unknown"
        counts[(tier, line.outcome)] = counts.get((tier, line.outcome), 0) + 1
    outcomes = [o for o in Outcome if any(o is key[1] for key in counts)]
    tiers = [
        t
        for t in ("unrestricted", "restricted", "prohibited", "unknown")
        if any(t == key[0] for key in counts)
    ]
    table = Table(title="summary: lines by tier and outcome")
    table.add_column("tier")
    for outcome in outcomes:
        table.add_column(Text(outcome.value, style=OUTCOME_STYLES[outcome]), justify="right")
    table.add_column("total", justify="right")
    for tier in tiers:
        row = [counts.get((tier, o), 0) for o in outcomes]
        table.add_row(tier, *(str(n) if n else "" for n in row), str(sum(row)))
    totals = [sum(counts.get((t, o), 0) for t in tiers) for o in outcomes]
    table.add_row("total", *(str(n) for n in totals), str(sum(totals)))
    return table


def rows_to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Generic dict rows to CSV (lists joined with '; '), one column per key of the first row
    or per name of `columns` (then the header is written even when there are no rows)."""
    materialised = list(rows)
    if not materialised and columns is None:
        return ""
    buffer = io.StringIO()
    columns = list(columns if columns is not None else materialised[0])
    known = set(columns)
    writer = csv.writer(buffer, lineterminator="\n")
    write_header(buffer, columns)
    for row in materialised:
        if not known.issuperset(row):
            raise ValueError(f"row has columns not in {columns}: {sorted(row.keys() - known)}")
        writer.writerow([_joined_cell(row[name]) if name in row else "" for name in columns])
    return buffer.getvalue()


def _joined_cell(value: Any) -> str:
    """`cell`, a list's items joined with '; '."""
    return cell("; ".join(map(str, value))) if isinstance(value, list | tuple) else cell(value)
