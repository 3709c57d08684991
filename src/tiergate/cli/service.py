"""Commands of the HTTP service: `serve`, and `keys` (create, list, revoke). Each calls
`tiergate.workflow.service` or `tiergate.service` and formats its answer."""

from __future__ import annotations

from typing import Annotated

import typer

from tiergate.cli.options import DbOption, Output, note, output_options, table_of, workspace

keys_app = typer.Typer(help="API keys of the HTTP service (stored hashed in the ledger).")

Actor = Annotated[str, typer.Option("--actor", help="Who does it, for the audit trail.")]
KeyName = Annotated[str, typer.Option("--name", help="The key's name (who or what uses it).")]


def serve(
    host: Annotated[
        str, typer.Option("--host", help="The address to listen on (other machines: 0.0.0.0).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Processes answering requests.")
    ] = 1,
    db: DbOption = None,
) -> None:
    """Serve tiergate over HTTP: the API under /v1 and its OpenAPI document at /openapi.json.

    Every route but GET /v1/status needs an API key (`tiergate keys create`).

    Example: tiergate serve --port 8000
    """
    import os

    import uvicorn

    workspace(db=db).ledger(required=True).require_current()  # else the error says why
    if db is not None:
        os.environ["TIERGATE_DATABASE_URL"] = db  # the settings of the process(es) serving
    uvicorn.run(
        "tiergate.service.served:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@keys_app.command("create")
def keys_create(
    name: KeyName,
    role: Annotated[
        str, typer.Option("--role", help="viewer, analyst, officer or admin.")
    ] = "viewer",
    actor: Actor = "cli",
    db: DbOption = None,
) -> None:
    """Make an API key and print it, once: only its SHA-256 is kept.

    Example: tiergate keys create --name erp --role analyst
    """
    from tiergate.workflow.service import create_key

    key = create_key(workspace(db=db), name, role, actor)
    typer.echo(key)
    note(f"key `{name}` ({role}) made: it is shown this once, keep it now")


@keys_app.command("list")
@output_options("table", "json", "csv")
def keys_list(out: Output, db: DbOption = None) -> None:
    """Every API key's name, role and history (never the key).

    Example: tiergate keys list --format json
    """
    from tiergate.workflow.service import api_keys

    rows = api_keys(workspace(db=db))
    if out.format == "json":
        out.json(rows)
    elif out.format == "csv":
        out.csv(rows)
    else:
        columns = ("name", "role", "created_at", "created_by", "revoked_at", "revoked_by")
        out.table(table_of("API keys", columns, rows))


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    actor: Actor = "cli",
    db: DbOption = None,
) -> None:
    """Revoke an API key: it opens nothing from then on.

    Example: tiergate keys revoke erp
    """
    from tiergate.workflow.service import revoke_key

    revoke_key(workspace(db=db), name, actor)
    typer.echo(f"key `{name}` revoked")
