"""The HTTP service: `create_app` gives a FastAPI application over one `Workspace`.

Every route calls `tiergate.workflow`, the layer the CLI calls, and answers with the same
documents the CLI prints as JSON. A route needs an API key (`Authorization: Bearer KEY`,
`tiergate keys create`) whose role allows it (`keys.Role`); `GET /v1/status` and the OpenAPI
document do not. Every error is a JSON problem details document (RFC 9457): a request tiergate
cannot use is a 4xx that says what was expected; a 5xx is tiergate's fault or its database's.

The workspace's engine and ledger are not shared between threads: the routes take turns on
them (`_Turns`), so one process answers one request at a time; `tiergate serve --workers N`
runs N processes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from tiergate import __version__, settings
from tiergate.errors import InputError, OverlayError, TiergateError, UsageError
from tiergate.keys import HoldStatus, Role
from tiergate.ledger.api_keys import ApiKey
from tiergate.ledger.store import LedgerError, NotRecorded, RecordConflict
from tiergate.rulebook import View
from tiergate.terms import MAX_QUANTITY
from tiergate.workflow import Workspace

if TYPE_CHECKING:
    from tiergate.ledger.ledger import Ledger

log = logging.getLogger("tiergate")

PROBLEM = "application/problem+json"
# The largest request body taken (a book of about 300,000 JSON lines).
MAX_BODY = 64 * 1024 * 1024
# The requests a second a key may make on average, by default (TIERGATE_RATE_LIMIT).
RATE = 100.0

T = TypeVar("T")

# A date in a query: YYYY-MM-DD only (not a number of seconds, which pydantic takes).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_DAY: dict[str, Any] = {"pattern": DATE_PATTERN, "json_schema_extra": {"format": "date"}}
AsOf = Annotated[
    str | None,
    Query(
        description="The date to determine on (YYYY-MM-DD; default: each line's own, else today).",
        **_DAY,
    ),
]
Since = Annotated[str | None, Query(description="Entries from this date on (YYYY-MM-DD).", **_DAY)]
ViewQuery = Annotated[View, Query(description="The rules as enforced, or as written.")]
Commit = Annotated[bool, Query(description="Commit the lines (needs an officer's key).")]


@dataclass(frozen=True, slots=True)
class Checker:
    """Who checks (their key) and whether they commit: committing needs an officer."""

    key: ApiKey
    commit: bool


def day(value: str | None, where: str) -> date | None:
    """The date a request gives at `where` (YYYY-MM-DD, its form checked already), if any."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(422, f"{where}: `{value}` is not a date (YYYY-MM-DD)") from None


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


class _Turns:
    """One request at a time on the workspace's engine and ledger."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            return work()


class RateLimits:
    """Each key's requests held to `rate` a second on average and `burst` at once: a bucket
    of `burst` tokens per key, refilled at `rate` a second, one token a request."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key: tokens, when
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Take a token for `key`: 0 where it has one, else the seconds until it will."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1, now)
            return 0.0


class ProblemDetails(BaseModel):
    """An error (RFC 9457): its status, its title, and what went wrong (`detail`); for a
    request not as expected, each problem and where it is (`errors`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


# The errors any route may answer, each a problem details document.
_PROBLEMS: dict[int | str, dict[str, Any]] = {
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


class Status(BaseModel):
    """What the service runs with: its version, the rulebook's, the screening lists' edition
    and age, and whether its ledger database answers."""

    version: str
    rulebook_version: str
    lists: dict[str, Any]
    database: dict[str, Any]


class ClassifyRequest(BaseModel):
    """An item to classify: a catalog name, or raw specs (at least `tpp`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    item: str | None = Field(None, description="A catalog name or alias, e.g. 'H100 SXM'.")
    tpp: float | None = Field(None, ge=0, description="Total processing performance.")
    die_area: float | None = Field(None, gt=0, description="Applicable die area, mm².")
    dram_bandwidth: float | None = Field(None, ge=0, description="DRAM bandwidth, GB/s.")
    interconnect: float | None = Field(
        None, ge=0, description="Bidirectional chip-to-chip rate, GB/s."
    )
    non_datacenter: bool = Field(False, description="Not designed or marketed for datacenters.")


class ScreenRequest(BaseModel):
    """A party to screen against the restricted-party lists."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=500, description="The party's name.")
    country: str | None = Field(None, max_length=100, description="Its country (name or code).")


HoldId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The hold's id.")]


class Decision(BaseModel):
    """Why a person decides (a hold, a licence's revocation)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=2000, description="The justification.")


class Cancellation(BaseModel):
    """Checked lines that will not ship: one line, else every line of the shipment."""

    model_config = ConfigDict(extra="forbid", strict=True)

    shipment_id: str = Field(min_length=1, max_length=200)
    line_id: str | None = Field(None, min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000, description="Why they are cancelled.")


class NewLicence(BaseModel):
    """A licence as granted: items are ECCNs, ECCN prefixes, EAR99 or control scopes;
    destinations are country names or codes; dates are inclusive."""

    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=1, max_length=200)
    holder: str = Field(min_length=1, max_length=200)
    items: list[str] = Field(min_length=1, description="e.g. 3A090, 4A090.a, EAR99.")
    destinations: list[str] = Field(min_length=1, description="Country names or ISO codes.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Units authorised.")
    valid_from: str = Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})
    valid_to: str = Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})
    parties: list[str] = Field(default_factory=list, description="Named parties, if any.")
    value: float | None = Field(None, ge=0, description="US dollars authorised, if any.")
    conditions: str | None = Field(None, max_length=2000)


class NewSuppression(BaseModel):
    """A reviewed false positive: the party is not the list entry."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=500, description="The party's name.")
    country: str | None = Field(None, min_length=1, max_length=100)
    entry: str = Field(min_length=1, max_length=100, description="The list entry's id.")
    reason: str = Field(min_length=1, max_length=2000, description="Why it is not the entry.")


class NewKey(BaseModel):
    """A key to make: its name (who or what uses it) and role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(strict=False, description="viewer, analyst, officer or admin.")


class BookFormat(StrEnum):
    """The formats a book may be uploaded in."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


JSONL = "application/x-ndjson"
_SIDE = "The date and view {}: YYYY-MM-DD, optionally with :enforced or :written (enforced)."
# An uploaded book's text is answered this many characters at a time.
_PIECE = 1 << 20

_FILE = {
    "description": "The book's file as it is: CSV (the header first), a JSON book, or "
    "Parquet (as application/octet-stream).",
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


def _pieces(text: str) -> Iterator[bytes]:
    for start in range(0, len(text), _PIECE):
        yield text[start : start + _PIECE].encode()


_BOOK = {
    "description": "The shipments, as a JSON book for `tiergate check BOOK.json`: "
    "`shipments`, each with its `lines` (see the README's Input section).",
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["shipments"],
                "properties": {
                    "shipments": {
                        "type": "array",
                        "description": "Each shipment an object with its `lines`, a list of "
                        "line objects. A shipment or line tiergate cannot read is answered as "
                        "an INDETERMINATE line that says why, never dropped.",
                        "items": {},
                    }
                },
            },
            "example": {
                "shipments": [
                    {
                        "shipment_id": "S-1",
                        "date": "2026-02-01",
                        "destination": "CN",
                        "lines": [{"line_id": "1", "item": "H200", "quantity": 8}],
                    }
                ]
            },
        }
    },
}


def create_app(
    workspace: Workspace, *, max_body: int = MAX_BODY, limits: RateLimits | None = None
) -> FastAPI:
    """The service over `workspace`. Its ledger keeps the API keys: it is opened at the first
    request that needs it (`tiergate serve` checks first that it is there and current)."""
    from tiergate.workflow import reference, screening

    def ledger() -> Ledger:
        found = workspace.ledger(required=True)
        found.require_current()
        return found

    turns = _Turns()
    if limits is None:
        rate = settings.load().rate_limit
        rate = RATE if rate is None else rate
        limits = RateLimits(rate, 2 * rate)
    app = FastAPI(
        dependencies=[Depends(_no_unknown_query)],
        responses=_PROBLEMS,
        title="tiergate",
        version=__version__,
        description="Export-control determinations for AI chips and AI technology, line by "
        "line, as of any date, with reasons and citations.",
    )
    bearer = HTTPBearer(auto_error=False, description="An API key: `tiergate keys create`.")
    _handlers(app)
    # Dependencies are given as defaults: FastAPI reads annotations in the module's names,
    # and these are the application's own.
    credentials = Depends(bearer)

    def identified(given: HTTPAuthorizationCredentials | None) -> ApiKey:
        challenge = {"WWW-Authenticate": "Bearer"}
        if given is None:
            raise Problem(401, "send an API key as `Authorization: Bearer KEY`", challenge)
        key = turns.run(lambda: ledger().key_named_by(given.credentials))
        if key is None:
            raise Problem(401, "the API key is not known, or was revoked", challenge)
        wait = limits.wait(key.name)
        if wait:
            raise Problem(
                429,
                f"the key `{key.name}` made more than its {limits.rate:g} requests a second: "
                f"try again in {wait:.2f} s",
                {"Retry-After": str(math.ceil(wait))},
            )
        return key

    def caller(needed: Role) -> Callable[..., ApiKey]:
        def authorised(given: HTTPAuthorizationCredentials | None = credentials) -> ApiKey:
            key = identified(given)
            _require(key, needed)
            return key

        return authorised

    def checker(
        given: HTTPAuthorizationCredentials | None = credentials, commit: Commit = False
    ) -> Checker:
        key = identified(given)
        _require(key, Role.OFFICER if commit else Role.ANALYST)
        return Checker(key, commit)

    viewer = Depends(caller(Role.VIEWER))
    analyst = Depends(caller(Role.ANALYST))
    checking = Depends(checker)

    @app.get("/v1/status", tags=["service"])
    def status() -> Status:
        """The service's version, the rulebook's, the lists' edition and age, and whether
        the ledger database answers. Needs no key."""
        try:
            revision = turns.run(lambda: ledger().revision())
            database = {"reachable": True, "revision": revision}
        except Exception as error:  # no ledger, or any driver error: it does not answer
            log.warning("ledger database unreachable: %s", error)
            database = {"reachable": False, "revision": None}
        lists = turns.run(lambda: screening.list_status(workspace))
        version = turns.run(lambda: workspace.engine().rulebook.version)
        return Status(version=__version__, rulebook_version=version, lists=lists, database=database)

    @app.post("/v1/check", tags=["check"], openapi_extra={"requestBody": _BOOK})
    async def check(
        request: Request,
        caller: Checker = checking,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        reserve: Annotated[bool, Query(description="Reserve licence quantities.")] = True,
        screen: Annotated[bool, Query(description="Screen the lines' parties.")] = True,
    ) -> Response:
        """Check shipments, line by line: the report the CLI writes as JSON (`tiergate
        check BOOK.json --format json`), recorded in the ledger (audited, or committed)."""
        raw = await _body(request, max_body)
        result = await run_in_threadpool(
            turns.run,
            lambda: workspace.check_bytes(
                raw,
                FilePath("request.json"),
                as_of=day(as_of, "query.as_of"),
                view=view,
                screen=screen,
                commit=caller.commit,
                reserve=reserve,
                actor=caller.key.name,
            ),
        )
        from tiergate.outputs import to_json

        return Response(to_json(result.report), media_type="application/json")

    @app.post(
        "/v1/check/file",
        tags=["check"],
        openapi_extra={"requestBody": _FILE},
        responses={200: {"content": {JSONL: {}}, "description": "One JSON object per line."}},
        response_class=StreamingResponse,
    )
    async def check_file(
        request: Request,
        kind: Annotated[BookFormat, Query(alias="format", description="The book's format.")],
        caller: Checker = checking,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        reserve: Annotated[bool, Query(description="Reserve licence quantities.")] = True,
        screen: Annotated[bool, Query(description="Screen the lines' parties.")] = True,
    ) -> StreamingResponse:
        """Check a book uploaded as a file (CSV, JSON or Parquet, the body as it is): the
        CLI's JSON Lines (`tiergate check BOOK --format jsonl`), one line at a time."""
        raw = await _body(request, max_body)
        result = await run_in_threadpool(
            turns.run,
            lambda: workspace.check_bytes(
                raw,
                FilePath(f"upload.{kind.value}"),
                as_of=day(as_of, "query.as_of"),
                view=view,
                screen=screen,
                commit=caller.commit,
                reserve=reserve,
                actor=caller.key.name,
            ),
        )
        from tiergate.outputs import to_jsonl

        text = to_jsonl(result.report)
        return StreamingResponse(_pieces(text), media_type=JSONL)

    @app.post("/v1/diff", tags=["check"], openapi_extra={"requestBody": _BOOK})
    async def diff(
        request: Request,
        before: Annotated[str, Query(alias="from", description=_SIDE.format("before"))],
        after: Annotated[str, Query(alias="to", description=_SIDE.format("after"))],
        _: ApiKey = analyst,
    ) -> dict[str, Any]:
        """The lines of a JSON book whose tier, outcome, exception, review policy or
        conditions change between two dates or views, and a summary of the transitions
        (`tiergate diff BOOK.json --format json`)."""
        from tiergate.workflow.impact import Side, diff_bytes

        sides = Side.parse(before, "from"), Side.parse(after, "to")
        raw = await _body(request, max_body)
        impact = await run_in_threadpool(
            turns.run,
            lambda: diff_bytes(workspace, raw, FilePath("request.json"), *sides),
        )
        return impact.document()

    @app.post("/v1/classify", tags=["rules"])
    def classify(
        item: ClassifyRequest,
        _: ApiKey = viewer,
        as_of: AsOf = None,
    ) -> dict[str, Any]:
        """Classify a chip by catalog name or by raw specs (`tiergate classify`)."""
        from tiergate.classify import Specs

        specs = Specs(
            tpp=item.tpp,
            die_area_mm2=item.die_area,
            dram_bandwidth_gbps=item.dram_bandwidth,
            interconnect_gbps=item.interconnect,
            datacenter=False if item.non_datacenter else None,
        )
        on = day(as_of, "query.as_of") or date.today()
        return turns.run(lambda: reference.classify(workspace, item.item, specs, on))

    @app.get("/v1/tiers", tags=["rules"])
    def tiers(
        _: ApiKey = viewer,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        item: Annotated[
            str | None, Query(min_length=1, description="An item class, e.g. 3A090.a.")
        ] = None,
    ) -> dict[str, Any]:
        """Every country with its tier for an item class on a date (`tiergate tiers`)."""
        on = day(as_of, "query.as_of") or date.today()
        return turns.run(lambda: reference.tiers(workspace, on, view, item))

    @app.get("/v1/rules", tags=["rules"])
    def rules(
        _: ApiKey = viewer,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
    ) -> dict[str, Any]:
        """The rule sets, licence exceptions and advisories in force (`tiergate rules`)."""
        on = day(as_of, "query.as_of") or date.today()
        return turns.run(lambda: reference.rules(workspace, on, view))

    @app.post("/v1/screen", tags=["screening"])
    def screen_party(party: ScreenRequest, key: ApiKey = analyst) -> dict[str, Any]:
        """Screen a party against the restricted-party lists (`tiergate screen`)."""
        found = turns.run(
            lambda: screening.screen(
                workspace, name=party.name, country=party.country, actor=key.name
            )
        )
        return found.document()

    officer = Depends(caller(Role.OFFICER))
    admin = Depends(caller(Role.ADMIN))
    _records(app, workspace, turns, viewer, officer)
    _keys(app, workspace, turns, admin)
    return app


def _records(app: FastAPI, workspace: Workspace, turns: _Turns, viewer: Any, officer: Any) -> None:
    """The ledger's records: holds, licences, suppressions, allowances, cancellations, the
    audit trail."""
    from tiergate.workflow import records, screening

    @app.get("/v1/holds", tags=["holds"])
    def holds(_: ApiKey = viewer, status: HoldStatus | None = None) -> dict[str, Any]:
        """Held lines recorded by checks (`tiergate holds list`)."""
        return {"holds": turns.run(lambda: records.holds(workspace, status))}

    def decide(hold_id: int, status: HoldStatus, key: ApiKey, reason: str) -> dict[str, Any]:
        turns.run(lambda: records.decide_hold(workspace, hold_id, status, key.name, reason))
        return {"id": hold_id, "status": status.value, "decided_by": key.name}

    @app.post("/v1/holds/{hold_id}/release", tags=["holds"])
    def release(hold_id: HoldId, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Release a held line: it may ship while the same reasons hold it (officers)."""
        return decide(hold_id, HoldStatus.RELEASED, key, decision.reason)

    @app.post("/v1/holds/{hold_id}/reject", tags=["holds"])
    def reject(hold_id: HoldId, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Reject a held line: it is PROHIBITED from then on (officers)."""
        return decide(hold_id, HoldStatus.REJECTED, key, decision.reason)

    @app.get("/v1/licences", tags=["licences"])
    def licences(_: ApiKey = viewer) -> dict[str, Any]:
        """Every licence with its used, reserved and remaining quantity (`license list`)."""
        return {"licences": turns.run(lambda: records.licences(workspace))}

    @app.post("/v1/licences", tags=["licences"], status_code=201)
    def add_licence(given: NewLicence, key: ApiKey = officer) -> dict[str, Any]:
        """Record a licence, checked first (`tiergate license add`, officers): the record as
        stored."""
        terms = records.LicenceTerms(
            number=given.number,
            holder=given.holder,
            items=given.items,
            destinations=given.destinations,
            quantity=given.quantity,
            valid_from=day(given.valid_from, "body.valid_from"),
            valid_to=day(given.valid_to, "body.valid_to"),
            parties=given.parties,
            value=given.value,
            conditions=given.conditions,
        )
        return turns.run(lambda: records.add_licence(workspace, terms, key.name))

    @app.get("/v1/suppressions", tags=["screening"])
    def suppressions(_: ApiKey = viewer) -> dict[str, Any]:
        """The recorded suppressions of false positives, active and lapsed (`suppressions`)."""
        return {"suppressions": turns.run(lambda: screening.suppressions(workspace))}

    @app.post("/v1/suppressions", tags=["screening"], status_code=201)
    def suppress(given: NewSuppression, key: ApiKey = officer) -> dict[str, Any]:
        """Record that a party is not a list entry, reviewed by the key's holder (`tiergate
        suppress`, officers); it lapses when the list changes the entry."""
        found = turns.run(
            lambda: screening.suppress(
                workspace, given.name, given.country, given.entry, key.name, given.reason
            )
        )
        return found.as_dict()

    @app.get("/v1/licences/{number}", tags=["licences"])
    def licence(number: str, _: ApiKey = viewer) -> dict[str, Any]:
        """One licence in full, with its balance (`license show`)."""
        return turns.run(lambda: records.licence(workspace, number))

    @app.post("/v1/licences/{number}/revoke", tags=["licences"])
    def revoke(number: str, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Revoke a licence: it covers nothing from then on (officers)."""
        turns.run(lambda: records.revoke_licence(workspace, number, decision.reason, key.name))
        return {"number": number, "status": "revoked", "revoked_by": key.name}

    @app.get("/v1/allowances", tags=["allowances"])
    def allowances(
        _: ApiKey = viewer,
        country: Annotated[str | None, Query(min_length=1, description="Name or code.")] = None,
        consignee: Annotated[
            str | None, Query(min_length=1, description="Part of a consignee's name.")
        ] = None,
        year: Annotated[int | None, Query(ge=2022, le=9999)] = None,
    ) -> dict[str, Any]:
        """Allowance usage: used and remaining TPP and H100-equivalents (`allowances`)."""
        rows = turns.run(
            lambda: records.allowances(workspace, country=country, consignee=consignee, year=year)
        )
        return {"allowances": rows}

    @app.post("/v1/cancellations", tags=["licences"])
    def cancel(cancelled: Cancellation, key: ApiKey = officer) -> dict[str, Any]:
        """Cancel checked lines that will not ship; their licence reservations go back
        (`tiergate cancel`, officers)."""
        returned = turns.run(
            lambda: records.cancel(
                workspace, cancelled.shipment_id, cancelled.line_id, cancelled.reason, key.name
            )
        )
        return {"shipment_id": cancelled.shipment_id, "reservations_returned": returned}

    @app.get("/v1/audit", tags=["audit"])
    def audit(_: ApiKey = viewer, since: Since = None) -> dict[str, Any]:
        """The audit trail and its head (`audit export --format json`)."""
        after = day(since, "query.since")
        entries, head = turns.run(lambda: records.export_audit(workspace, after))
        return {"head": head, "audit": entries}

    @app.get("/v1/audit/verify", tags=["audit"])
    def verify(
        _: ApiKey = viewer,
        anchor: Annotated[
            str | None, Query(min_length=1, description="A hash kept outside the database.")
        ] = None,
    ) -> dict[str, Any]:
        """Check the audit trail's hash chain (`audit verify`): its problems, or its head."""
        found = turns.run(lambda: records.verify_audit(workspace, anchor))
        return {"ok": not found.problems, "problems": found.problems, "head": found.head}


def _keys(app: FastAPI, workspace: Workspace, turns: _Turns, admin: Any) -> None:
    """The service's keys, for admins (`tiergate keys`)."""
    from tiergate.workflow import service

    @app.get("/v1/keys", tags=["keys"])
    def keys(_: ApiKey = admin) -> dict[str, Any]:
        """Every key's name, role and history (never the key)."""
        return {"keys": turns.run(lambda: service.api_keys(workspace))}

    @app.post("/v1/keys", tags=["keys"], status_code=201)
    def create(made: NewKey, key: ApiKey = admin) -> dict[str, Any]:
        """Make a key: it is in this answer, once, and kept nowhere (only its SHA-256)."""
        secret = turns.run(
            lambda: service.create_key(workspace, made.name, made.role.value, key.name)
        )
        return {"name": made.name, "role": made.role.value, "key": secret}

    @app.post("/v1/keys/{name}/revoke", tags=["keys"])
    def revoke(name: str, key: ApiKey = admin) -> dict[str, Any]:
        """Revoke a key: it opens nothing from then on."""
        turns.run(lambda: service.revoke_key(workspace, name, key.name))
        return {"name": name, "revoked_by": key.name}


def _no_unknown_query(request: Request) -> None:
    """Refuse a query parameter the route does not take, or one given more than once: a
    misspelt `as_of` would otherwise be passed over, and of two `as_of` one would win, and
    the answer be given for another date."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        names = ", ".join(f"`{name}` ({counts[name]} times)" for name in repeated)
        raise Problem(422, f"query: {names} given more than once: give each parameter once")
    taken = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - taken)
    if unknown:
        names = ", ".join(f"`{name}`" for name in unknown)
        expected = ", ".join(f"`{name}`" for name in sorted(taken)) or "none"
        raise Problem(422, f"query: unknown parameter {names}: this route takes {expected}")


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (or a dependency) takes, its dependencies' included."""
    names = {parameter.alias for parameter in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


def _require(key: ApiKey, needed: Role) -> None:
    if not key.role.allows(needed):
        raise Problem(
            403,
            f"the key `{key.name}` has the role `{key.role.value}`: this needs "
            f"`{needed.value}` or above",
        )


async def _body(request: Request, most: int) -> bytes:
    """The request's body, refused past `most` bytes (before reading it, by its length)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > most:
        raise Problem(413, f"the body is {int(length):,} bytes: at most {most:,} are taken")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > most:
            raise Problem(413, f"the body is over {most:,} bytes: at most {most:,} are taken")
        chunks.append(chunk)
    return b"".join(chunks)


def _handlers(app: FastAPI) -> None:
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
        if isinstance(error, InputError | OverlayError):
            return problem(422, str(error))
        if isinstance(error, UsageError):
            return problem(400, str(error))
        if isinstance(error, NotRecorded):
            return problem(404, str(error))
        if isinstance(error, RecordConflict):
            return problem(409, str(error))
        log.error("request failed: %s", error)
        # The ledger's database unusable (missing, not migrated, unreachable), or a fault.
        return problem(503 if isinstance(error, LedgerError) else 500, str(error))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> Response:
        log.exception("internal error")
        return problem(500, f"internal error: {type(error).__name__}")
