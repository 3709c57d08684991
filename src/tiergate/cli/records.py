"""Commands over the ledger's records: `allowances`, `license`, `cancel`, `holds`, `audit`
and `db`. Each calls one operation of `tiergate.workflow.records` and formats its answer."""

from __future__ import annotations

from typing import Annotated

import typer

from tiergate.cli.options import (
    CountryAllocationOption,
    DbOption,
    Output,
    measure,
    note,
    output_options,
    parse_day,
    table_of,
    workspace,
)
from tiergate.keys import HoldStatus
from tiergate.terms import MAX_QUANTITY

Actor = Annotated[str, typer.Option("--actor", help="Who records it.")]
HoldId = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="The hold's id (see `holds list`).")
]
Reviewer = Annotated[str, typer.Option("--by", help="The reviewer.")]
Justification = Annotated[str, typer.Option("--reason", help="The justification.")]
LicenceNumber = Annotated[str, typer.Argument(help="The licence number.")]
LICENCE_COLUMNS = (
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

license_app = typer.Typer(
    help="Licences the company holds (recorded in the ledger).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
holds_app = typer.Typer(
    help="Held lines and the decisions reviewers take on them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
audit_app = typer.Typer(
    help="The ledger's audit trail.", no_args_is_help=True, rich_markup_mode=None
)
db_app = typer.Typer(help="The ledger database.", no_args_is_help=True, rich_markup_mode=None)


@output_options("table", "json")
def allowances(
    out: Output,
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
) -> None:
    """Allowance usage recorded in the ledger: used and remaining TPP and H100-equivalents.

    Example: tiergate allowances --country IN --year 2025 --format json

    LPP allowances are counted per ultimate consignee and calendar year; Tier 2 country
    allocations per country over their period, from the lines committed under a licence.
    """
    from rich.table import Table

    from tiergate.workflow.records import allowances as usage

    places = workspace(db=db, country_allocation_tpp=country_allocation_tpp)
    rows = usage(places, country=country, consignee=consignee, year=year)
    if out.format == "json":
        out.json({"allowances": rows})
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
    out.table(table)


@license_app.command("add")
def license_add(
    number: LicenceNumber,
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
            "--value", callback=measure, help="Authorized value in US dollars (to the cent)."
        ),
    ] = None,
    conditions: Annotated[
        str | None, typer.Option("--conditions", help="The licence's conditions.")
    ] = None,
    db: DbOption = None,
    actor: Actor = "cli",
) -> None:
    """Record a licence the company holds.

    Example: tiergate license add D1234567 --holder "Example Inc" --item 3A090 --destination CN
    --quantity 100 --valid-from 2025-01-01 --valid-to 2028-12-31
    """
    from tiergate.workflow.records import LicenceTerms, add_licence

    terms = LicenceTerms(
        number=number,
        holder=holder,
        items=item,
        destinations=destination,
        quantity=quantity,
        valid_from=parse_day(valid_from, "--valid-from"),
        valid_to=parse_day(valid_to, "--valid-to"),
        parties=list(party or []),
        value=value,
        conditions=conditions,
    )
    record = add_licence(workspace(db=db), terms, actor)
    worth = record["authorized_value"]
    typer.echo(
        f"licence {number} recorded: {quantity:,} units"
        f"{f' worth US${worth:,.2f}' if worth is not None else ''}, "
        f"{record['valid_from']} to {record['valid_to']}"
    )


@license_app.command("list")
@output_options("table", "json")
def license_list(out: Output, db: DbOption = None) -> None:
    """Every licence with its used, reserved and remaining quantity (and value).

    Example: tiergate license list --format json
    """
    from tiergate.workflow.records import licences

    rows = licences(workspace(db=db))
    if out.format == "json":
        out.json({"licences": rows})
    else:
        out.table(table_of("licences", LICENCE_COLUMNS, rows))


@license_app.command("show")
@output_options("json")
def license_show(out: Output, number: LicenceNumber, db: DbOption = None) -> None:
    """One licence in full, with its balance.

    Example: tiergate license show D1234567
    """
    from tiergate.workflow.records import licence

    out.json(licence(workspace(db=db), number))


@license_app.command("revoke")
def license_revoke(
    number: LicenceNumber,
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked.")],
    db: DbOption = None,
    actor: Annotated[str, typer.Option("--actor", help="Who revokes it.")] = "cli",
) -> None:
    """Revoke a licence: it covers nothing from now on.

    Example: tiergate license revoke D1234567 --reason "returned to BIS"
    """
    from tiergate.workflow.records import revoke_licence

    revoke_licence(workspace(db=db), number, reason, actor)
    typer.echo(f"licence {number} revoked")


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
    from tiergate.workflow.records import cancel as cancel_lines

    released = cancel_lines(workspace(db=db), shipment_id, line, reason, actor)
    which = f"line {line} of shipment {shipment_id}" if line else f"shipment {shipment_id}"
    typer.echo(f"{which} cancelled: {released} licence reservation(s) released")


@holds_app.command("list")
@output_options("table", "json")
def holds_list(
    out: Output,
    status: Annotated[
        HoldStatus | None, typer.Option("--status", help="Only the holds with this status.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Held lines recorded by checks against the ledger.

    Example: tiergate holds list --status open
    """
    from tiergate.workflow.records import holds

    rows = holds(workspace(db=db), status)
    if out.format == "json":
        out.json({"holds": rows})
    else:
        columns = ("id", "shipment_id", "line_id", "status", "signature", "decided_by")
        out.table(table_of("holds", columns, rows))


def _decide(hold_id: int, status: HoldStatus, by: str, reason: str, db: str | None) -> None:
    from tiergate.workflow.records import decide_hold

    decide_hold(workspace(db=db), hold_id, status, by, reason)
    typer.echo(f"hold {hold_id} {status} by {by}")


@holds_app.command("release")
def holds_release(
    hold_id: HoldId, by: Reviewer, reason: Justification, db: DbOption = None
) -> None:
    """Release a held line: it may ship while the same reasons hold it.

    Example: tiergate holds release 3 --by "J. Doe" --reason "end user verified on site"
    """
    _decide(hold_id, HoldStatus.RELEASED, by, reason, db)


@holds_app.command("reject")
def holds_reject(hold_id: HoldId, by: Reviewer, reason: Justification, db: DbOption = None) -> None:
    """Reject a held line: it is PROHIBITED from now on.

    Example: tiergate holds reject 3 --by "J. Doe" --reason "diversion red flags"
    """
    _decide(hold_id, HoldStatus.REJECTED, by, reason, db)


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
    from tiergate.workflow.records import verify_audit

    verified = verify_audit(workspace(db=db), anchor)
    if verified.problems:
        for problem in verified.problems:
            note(f"audit: {problem}")
        raise typer.Exit(3)
    head = verified.head
    typer.echo(
        f"audit trail intact: {head['entries']} entries; head {head['last_hash']} "
        "(keep it outside the database and give it as --anchor to a later verify)"
    )


@audit_app.command("export")
@output_options("json", "csv")
def audit_export(
    out: Output,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries from this date (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export the audit trail with its head (entries and the newest entry's hash: keep it
    outside the database).

    Example: tiergate audit export --format csv --since 2026-01-01
    """
    import json

    from tiergate.workflow.records import export_audit

    entries, head = export_audit(workspace(db=db), parse_day(since, "--since"))
    if out.format == "csv":
        out.csv({**e, "payload": json.dumps(e["payload"])} for e in entries)
        note(
            f"audit head: {head['entries']} entries, last entry {head['last_id']}, "
            f"hash {head['last_hash']}"
        )
    else:
        out.json({"head": head, "audit": entries})


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the ledger database to the current schema.

    Example: tiergate db upgrade --db postgresql://postgres@127.0.0.1:5432/test
    """
    from tiergate.workflow.records import upgrade

    done = upgrade(workspace(db=db))
    typer.echo(f"ledger `{done.url}`: schema {done.before or 'none'} -> {done.after}")
    if done.legacy is not None:
        typer.echo(
            f"moved {done.moved} suppression(s) from `{done.legacy}` into the ledger (audited)"
        )
