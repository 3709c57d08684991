"""Errors over HTTP as problem details documents (RFC 9457): `Problem` raised by a route,
every other error mapped to its status (`handle_errors`), and the errors the OpenAPI
document lists for every route (`PROBLEMS`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tiergate.errors import InputError, OverlayError, TiergateError, UsageError
from tiergate.ledger.store import LedgerError, NotRecorded, RecordConflict

log = logging.getLogger("tiergate")

PROBLEM = "application/problem+json"


class Problem(Exception):
    """An error answered as a problem details document with `status`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **more: Any
) -> Response:
    """A problem details document (RFC 9457) for `status`, saying what went wrong."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    return JSONResponse(
        {**body, "detail": detail, **more}, status_code=status, media_type=PROBLEM, headers=headers
    )


class ProblemDetails(BaseModel):
    """An error (RFC 9457): its status, its title, and what went wrong (`detail`); for a
    request not as expected, each problem and where it is (`errors`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


# The errors any route may answer, each a problem details document.
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "model": ProblemDetails,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    for status, description in {
        400: "A value tiergate cannot use (a date before the rulebook's, an unknown item).",
        401: "No API key, or one not known or revoked.",
        403: "The key's role may not do this.",
        404: "What the request names is not in the ledger.",
        409: "The ledger's records refuse it (decided already, a name taken).",
        413: "The body is too large.",
        422: "The request or its book is not as expected.",
        429: "The key made too many requests: try again after `Retry-After`.",
        500: "tiergate failed.",
        503: "The ledger's database cannot be used.",
    }.items()
}


def status_of(error: TiergateError) -> int:
    """The HTTP status of a tiergate error: the request's fault (4xx), or the ledger's
    database unusable (503: missing, not migrated, unreachable), or tiergate's (500)."""
    if isinstance(error, InputError | OverlayError):
        return 422
    if isinstance(error, UsageError):
        return 400
    if isinstance(error, NotRecorded):
        return 404
    if isinstance(error, RecordConflict):
        return 409
    log.error("request failed: %s", error)
    return 503 if isinstance(error, LedgerError) else 500


def any_status(error: Exception) -> int:
    """`status_of` a tiergate error; 500 for any other (a fault)."""
    return status_of(error) if isinstance(error, TiergateError) else 500


def handle_errors(app: FastAPI) -> None:
    """Every error as a problem details document."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> Response:
        return problem(error.status, error.detail, error.headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Every method of the path, not only those of the first route that matched it.
            path = request.url.path
            methods = {
                method
                for route in app.routes
                if isinstance(route, APIRoute) and route.path_regex.match(path)
                for method in route.methods or ()
            }
            headers["Allow"] = ", ".join(sorted(methods))
        return problem(error.status_code, str(error.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> Response:
        errors = [
            {"where": ".".join(str(part) for part in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        said = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        return problem(422, f"the request is not as expected: {said}", errors=errors)

    @app.exception_handler(TiergateError)
    async def _tiergate(_: Request, error: TiergateError) -> Response:
        return problem(status_of(error), error.for_http())

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> Response:
        log.exception("internal error")
        return problem(500, f"internal error: {type(error).__name__}")
