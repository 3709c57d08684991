"""The HTTP service: `create_app` gives a FastAPI application over one `Workspace`.

Every route calls `tiergate.workflow`, the layer the CLI calls, and answers with the same
documents the CLI prints as JSON. A route needs an API key (`Authorization: Bearer KEY`,
`tiergate keys create`) whose role allows it (`keys.Role`); `GET /v1/status` and the OpenAPI
document do not. Every error is a JSON problem details document (RFC 9457): a request tiergate
cannot use is a 4xx that says what was expected; a 5xx is tiergate's fault or its database's.

The workspace's engine and ledger are not shared between threads: the routes take turns on
them (`access.Turns`), so one process answers one request at a time; `tiergate serve
--workers N` runs N processes. What requests and answers look like is `models`; who may do
what, and how often, `access`; errors, `problems`.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path as FilePath
from typing import IO, TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tiergate import __version__, settings
from tiergate.keys import HoldStatus, Role
from tiergate.ledger.api_keys import ApiKey
from tiergate.rulebook import View, default_rulebook
from tiergate.service.access import (
    SHORT_BODY,
    BodyLimit,
    Checker,
    RateLimits,
    Turns,
    known_query,
    require,
    unique_keys,
)
from tiergate.service.background import start_job
from tiergate.service.models import (
    BOOK,
    DIFF,
    FILE,
    JSONL,
    SIDE,
    AsOf,
    BookFormat,
    Cancellation,
    ClassifyRequest,
    Commit,
    Decision,
    HoldId,
    NewKey,
    NewLicence,
    NewSuppression,
    Reserve,
    ScreenLines,
    ScreenRequest,
    Since,
    Status,
    ViewQuery,
    day,
)
from tiergate.service.pages import add_pages
from tiergate.service.problems import PROBLEMS, Problem, handle_errors
from tiergate.workflow import Workspace
from tiergate.workflow.jobs import Job, Jobs, JobState

if TYPE_CHECKING:
    from tiergate.ledger.ledger import Ledger
    from tiergate.model import Report

log = logging.getLogger("tiergate")

# The largest request body taken (a book of about 300,000 JSON lines).
MAX_BODY = 64 * 1024 * 1024
# What a form adds to the file it carries, at the most (boundaries, part headers, fields).
FORM_MARGIN = 64 * 1024
# The requests a second a key may make on average, by default (TIERGATE_RATE_LIMIT).
RATE = 100.0
# An uploaded book's answer, written to a temporary file, is sent this many bytes at a time.
_PIECE = 1 << 20


def _job_document(job: Job) -> dict[str, Any]:
    """A job's state, with where to ask for it and for its answer."""
    return {
        **job.document(),
        "state_url": f"/v1/jobs/{job.id}",
        "answer_url": f"/v1/jobs/{job.id}/answer",
    }


def _read_out(answer: IO[bytes]) -> Iterator[bytes]:
    """`answer` a piece at a time, closed at its end (or when the client goes)."""
    with answer:
        while piece := answer.read(_PIECE):
            yield piece


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

    def lookups() -> Ledger:
        """The ledger apart, for finding keys and sessions at once on the event loop, even
        while long work holds the workspace's."""
        found = workspace.ledger(required=True, apart=True)
        found.require_current()
        return found

    turns = Turns()
    if limits is None:
        rate = settings.load().rate_limit
        rate = RATE if rate is None else rate
        limits = RateLimits(rate, 2 * rate)
    app = FastAPI(
        dependencies=[Depends(known_query), Depends(unique_keys)],
        responses=PROBLEMS,
        title="tiergate",
        version=__version__,
        description="Export-control determinations for AI chips and AI technology, line by "
        "line, as of any date, with reasons and citations.",
    )
    # Every body, a page's form too, is refused past the limit (413) as it arrives; the
    # margin is a form's own (its boundaries and part headers).
    app.add_middleware(BodyLimit, most=max_body + FORM_MARGIN)
    bearer = HTTPBearer(auto_error=False, description="An API key: `tiergate keys create`.")
    handle_errors(app)
    # Dependencies are given as defaults: FastAPI reads annotations in the module's names,
    # and these are the application's own.
    credentials = Depends(bearer)

    async def identified(given: HTTPAuthorizationCredentials | None) -> ApiKey:
        challenge = {"WWW-Authenticate": "Bearer"}
        if given is None:
            raise Problem(401, "send an API key as `Authorization: Bearer KEY`", challenge)
        key = lookups().key_named_by(given.credentials)
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

    def caller(needed: Role) -> Callable[..., Awaitable[ApiKey]]:
        async def authorised(given: HTTPAuthorizationCredentials | None = credentials) -> ApiKey:
            key = await identified(given)
            require(key, needed)
            return key

        return authorised

    async def checker(
        given: HTTPAuthorizationCredentials | None = credentials, commit: Commit = False
    ) -> Checker:
        key = await identified(given)
        require(key, Role.OFFICER if commit else Role.ANALYST)
        return Checker(key, commit)

    viewer = Depends(caller(Role.VIEWER))
    analyst = Depends(caller(Role.ANALYST))
    checking = Depends(checker)

    @app.get("/v1/status", tags=["service"])
    async def status() -> Status:
        """The service's version, the rulebook's, the lists' edition and age, and whether
        the ledger database answers. Needs no key."""
        try:
            revision = lookups().revision()
            database = {"reachable": True, "revision": revision}
        except Exception as error:  # no ledger, or any driver error: it does not answer
            log.warning("ledger database unreachable: %s", error)
            database = {"reachable": False, "revision": None}
        lists = screening.list_status(workspace)
        version = default_rulebook().version  # the engines' (`Workspace.engine`)
        return Status(version=__version__, rulebook_version=version, lists=lists, database=database)

    async def checked(
        request: Request,
        name: str,
        caller: Checker,
        as_of: str | None,
        view: View,
        reserve: bool,
        screen: bool,
    ) -> Report:
        """The request's body checked as the book `name` (its extension its format)."""
        raw = await _body(request, max_body)
        result = await turns.run(
            lambda: workspace.check_bytes(
                raw,
                FilePath(name),
                as_of=day(as_of, "query.as_of"),
                view=view,
                screen=screen,
                commit=caller.commit,
                reserve=reserve,
                actor=caller.key.name,
            ),
            long=len(raw) > SHORT_BODY,
        )
        return result.report

    @app.post("/v1/check", tags=["check"], openapi_extra={"requestBody": BOOK})
    async def check(
        request: Request,
        caller: Checker = checking,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        reserve: Reserve = True,
        screen: ScreenLines = True,
    ) -> Response:
        """Check shipments, line by line: the report the CLI writes as JSON (`tiergate
        check BOOK.json --format json`), recorded in the ledger (audited, or committed)."""
        from tiergate.outputs import to_json

        report = await checked(request, "request.json", caller, as_of, view, reserve, screen)
        return Response(to_json(report), media_type="application/json")

    @app.post(
        "/v1/check/file",
        tags=["check"],
        openapi_extra={"requestBody": FILE},
        responses={200: {"content": {JSONL: {}}, "description": "One JSON object per line."}},
        response_class=StreamingResponse,
    )
    async def check_file(
        request: Request,
        kind: Annotated[BookFormat, Query(alias="format", description="The book's format.")],
        caller: Checker = checking,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        reserve: Reserve = True,
        screen: ScreenLines = True,
    ) -> StreamingResponse:
        """Check a book uploaded as a file (CSV, JSON or Parquet, the body as it is): the
        CLI's JSON Lines (`tiergate check BOOK --format jsonl`), once the ledger has
        recorded the check. A CSV or Parquet book the columnar path takes is read a batch
        at a time (`workflow.uploads`)."""
        from tiergate.workflow.uploads import check_upload

        raw = await _body(request, max_body)
        on = day(as_of, "query.as_of")
        answer = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _read_out, or below)
        try:
            await turns.run(
                lambda: check_upload(
                    workspace,
                    raw,
                    f"upload.{kind.value}",
                    answer,
                    as_of=on,
                    view=view,
                    screen=screen,
                    commit=caller.commit,
                    reserve=reserve,
                    actor=caller.key.name,
                ),
                long=len(raw) > SHORT_BODY,
            )
        except BaseException:
            answer.close()
            raise
        answer.seek(0)
        return StreamingResponse(_read_out(answer), media_type=JSONL)

    jobs = Jobs(workspace.settings.home)

    @app.post(
        "/v1/jobs",
        tags=["jobs"],
        openapi_extra={"requestBody": FILE},
        status_code=202,
    )
    async def new_job(
        request: Request,
        kind: Annotated[BookFormat, Query(alias="format", description="The book's format.")],
        caller: Checker = checking,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        reserve: Reserve = True,
        screen: ScreenLines = True,
    ) -> Response:
        """Check (or commit) a book in the background, as `POST /v1/check/file` would: the
        job at once (202), its state at `GET /v1/jobs/{id}` (how far it is, then its
        summary or its error), its JSON Lines at `GET /v1/jobs/{id}/answer` once done."""
        raw = await _body(request, max_body)
        name = f"upload.{kind.value}"
        if caller.commit and not reserve:
            raise Problem(
                400, "a commit uses the check's reservations: reserve=false is for checks"
            )
        job = await start_job(
            workspace,
            turns,
            jobs,
            caller.key.name,
            name,
            raw,
            as_of=day(as_of, "query.as_of"),
            view=view,
            screen=screen,
            commit=caller.commit,
            reserve=reserve,
        )
        found = _job_document(job)
        return JSONResponse(found, status_code=202, headers={"Location": found["state_url"]})

    async def owned(job_id: str, key: ApiKey) -> Job:
        every = key.role.allows(Role.ADMIN)
        found = await run_in_threadpool(lambda: jobs.of(job_id, key.name, every=every))
        if found is None:
            raise Problem(404, f"no job `{job_id}` of the key `{key.name}`")
        return found

    @app.get("/v1/jobs/{job_id}", tags=["jobs"])
    async def job_state(job_id: str, key: ApiKey = analyst) -> dict[str, Any]:
        """A job's state: queued, running (its stage, lines done of the book's), done (its
        summary) or failed (its error and the status it would have had)."""
        return _job_document(await owned(job_id, key))

    @app.get(
        "/v1/jobs/{job_id}/answer",
        tags=["jobs"],
        responses={200: {"content": {JSONL: {}}, "description": "One JSON object per line."}},
        response_class=StreamingResponse,
    )
    async def job_answer(job_id: str, key: ApiKey = analyst) -> StreamingResponse:
        """A done job's answer, the JSON Lines `POST /v1/check/file` gives."""
        job = await owned(job_id, key)
        if job.state is JobState.FAILED:
            raise Problem(409, f"job `{job_id}` failed: {job.error}")
        if job.state is not JobState.DONE:
            raise Problem(409, f"job `{job_id}` is {job.state.value}: it has no answer yet")
        return StreamingResponse(_read_out(jobs.answer(job).open("rb")), media_type=JSONL)

    @app.post("/v1/diff", tags=["check"], openapi_extra={"requestBody": DIFF})
    async def diff(
        request: Request,
        before: Annotated[str, Query(alias="from", description=SIDE.format("before"))],
        after: Annotated[str, Query(alias="to", description=SIDE.format("after"))],
        _: ApiKey = analyst,
    ) -> dict[str, Any]:
        """The lines of a JSON book whose tier, outcome, exception, review policy or
        conditions change between two dates or views, and a summary of the transitions
        (`tiergate diff BOOK.json --format json`). Sent as a form with the parts `book` and
        `overlay`, the `to` side applies the rulebook overlay (`--rulebook-overlay`)."""
        from tiergate.workflow.impact import Side, diff_bytes

        sides = Side.parse(before, "from"), Side.parse(after, "to")
        name, overlay = "request.json", None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            raw, name, overlay = await _book_and_overlay(request, max_body)
        else:
            raw = await _body(request, max_body)
        impact = await turns.run(
            lambda: diff_bytes(workspace, raw, FilePath(name), *sides, overlay),
            long=len(raw) > SHORT_BODY,
        )
        return impact.document()

    @app.post("/v1/classify", tags=["rules"])
    async def classify(
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
        return await turns.run(lambda: reference.classify(workspace, item.item, specs, on))

    @app.get("/v1/tiers", tags=["rules"])
    async def tiers(
        _: ApiKey = viewer,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        item: Annotated[
            str | None, Query(min_length=1, description="An item class, e.g. 3A090.a.")
        ] = None,
    ) -> dict[str, Any]:
        """Every country with its tier for an item class on a date (`tiergate tiers`)."""
        on = day(as_of, "query.as_of") or date.today()
        return await turns.run(lambda: reference.tiers(workspace, on, view, item))

    @app.get("/v1/rules", tags=["rules"])
    async def rules(
        _: ApiKey = viewer,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
    ) -> dict[str, Any]:
        """The rule sets, licence exceptions and advisories in force (`tiergate rules`)."""
        on = day(as_of, "query.as_of") or date.today()
        return await turns.run(lambda: reference.rules(workspace, on, view))

    @app.post("/v1/screen", tags=["screening"])
    async def screen_party(party: ScreenRequest, key: ApiKey = analyst) -> dict[str, Any]:
        """Screen a party against the restricted-party lists (`tiergate screen`)."""
        found = await turns.run(
            lambda: screening.screen(
                workspace, name=party.name, country=party.country, actor=key.name
            )
        )
        return found.document()

    officer = Depends(caller(Role.OFFICER))
    admin = Depends(caller(Role.ADMIN))
    _records(app, workspace, turns, viewer, officer)
    _keys(app, workspace, turns, admin)
    add_pages(app, workspace, turns, ledger, lookups, limits, max_body)
    return app


def _records(app: FastAPI, workspace: Workspace, turns: Turns, viewer: Any, officer: Any) -> None:
    """The ledger's records: holds, licences, suppressions, allowances, cancellations, the
    audit trail."""
    from tiergate.workflow import records, screening

    @app.get("/v1/holds", tags=["holds"])
    async def holds(_: ApiKey = viewer, status: HoldStatus | None = None) -> dict[str, Any]:
        """Held lines recorded by checks (`tiergate holds list`)."""
        return {"holds": await turns.run(lambda: records.holds(workspace, status), long=True)}

    async def decide(hold_id: int, status: HoldStatus, key: ApiKey, reason: str) -> dict[str, Any]:
        await turns.run(lambda: records.decide_hold(workspace, hold_id, status, key.name, reason))
        return {"id": hold_id, "status": status.value, "decided_by": key.name}

    @app.post("/v1/holds/{hold_id}/release", tags=["holds"])
    async def release(hold_id: HoldId, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Release a held line: it may ship while the same reasons hold it (officers)."""
        return await decide(hold_id, HoldStatus.RELEASED, key, decision.reason)

    @app.post("/v1/holds/{hold_id}/reject", tags=["holds"])
    async def reject(hold_id: HoldId, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Reject a held line: it is PROHIBITED from then on (officers)."""
        return await decide(hold_id, HoldStatus.REJECTED, key, decision.reason)

    @app.get("/v1/licences", tags=["licences"])
    async def licences(_: ApiKey = viewer) -> dict[str, Any]:
        """Every licence with its used, reserved and remaining quantity (`license list`)."""
        return {"licences": await turns.run(lambda: records.licences(workspace))}

    @app.post("/v1/licences", tags=["licences"], status_code=201)
    async def add_licence(given: NewLicence, key: ApiKey = officer) -> dict[str, Any]:
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
        return await turns.run(lambda: records.add_licence(workspace, terms, key.name))

    @app.get("/v1/suppressions", tags=["screening"])
    async def suppressions(_: ApiKey = viewer) -> dict[str, Any]:
        """The recorded suppressions of false positives, active and lapsed (`suppressions`)."""
        return {"suppressions": await turns.run(lambda: screening.suppressions(workspace))}

    @app.post("/v1/suppressions", tags=["screening"], status_code=201)
    async def suppress(given: NewSuppression, key: ApiKey = officer) -> dict[str, Any]:
        """Record that a party is not a list entry, reviewed by the key's holder (`tiergate
        suppress`, officers); it lapses when the list changes the entry."""
        found = await turns.run(
            lambda: screening.suppress(
                workspace, given.name, given.country, given.entry, key.name, given.reason
            )
        )
        return found.as_dict()

    @app.get("/v1/licences/{number}", tags=["licences"])
    async def licence(number: str, _: ApiKey = viewer) -> dict[str, Any]:
        """One licence in full, with its balance (`license show`)."""
        return await turns.run(lambda: records.licence(workspace, number))

    @app.post("/v1/licences/{number}/revoke", tags=["licences"])
    async def revoke(number: str, decision: Decision, key: ApiKey = officer) -> dict[str, Any]:
        """Revoke a licence: it covers nothing from then on (officers)."""
        await turns.run(
            lambda: records.revoke_licence(workspace, number, decision.reason, key.name)
        )
        return {"number": number, "status": "revoked", "revoked_by": key.name}

    @app.get("/v1/allowances", tags=["allowances"])
    async def allowances(
        _: ApiKey = viewer,
        country: Annotated[str | None, Query(min_length=1, description="Name or code.")] = None,
        consignee: Annotated[
            str | None, Query(min_length=1, description="Part of a consignee's name.")
        ] = None,
        year: Annotated[int | None, Query(ge=2022, le=9999)] = None,
    ) -> dict[str, Any]:
        """Allowance usage: used and remaining TPP and H100-equivalents (`allowances`)."""
        rows = await turns.run(
            lambda: records.allowances(workspace, country=country, consignee=consignee, year=year)
        )
        return {"allowances": rows}

    @app.post("/v1/cancellations", tags=["licences"])
    async def cancel(cancelled: Cancellation, key: ApiKey = officer) -> dict[str, Any]:
        """Cancel checked lines that will not ship; their licence reservations go back
        (`tiergate cancel`, officers)."""
        returned = await turns.run(
            lambda: records.cancel(
                workspace, cancelled.shipment_id, cancelled.line_id, cancelled.reason, key.name
            )
        )
        return {"shipment_id": cancelled.shipment_id, "reservations_returned": returned}

    @app.get("/v1/audit", tags=["audit"])
    async def audit(_: ApiKey = viewer, since: Since = None) -> dict[str, Any]:
        """The audit trail and its head (`audit export --format json`)."""
        after = day(since, "query.since")
        entries, head = await turns.run(lambda: records.export_audit(workspace, after), long=True)
        return {"head": head, "audit": entries}

    @app.get("/v1/audit/verify", tags=["audit"])
    async def verify(
        _: ApiKey = viewer,
        anchor: Annotated[
            str | None, Query(min_length=1, description="A hash kept outside the database.")
        ] = None,
    ) -> dict[str, Any]:
        """Check the audit trail's hash chain (`audit verify`): its problems, or its head."""
        found = await turns.run(lambda: records.verify_audit(workspace, anchor), long=True)
        return {"ok": not found.problems, "problems": found.problems, "head": found.head}


def _keys(app: FastAPI, workspace: Workspace, turns: Turns, admin: Any) -> None:
    """The service's keys, for admins (`tiergate keys`)."""
    from tiergate.workflow import service

    @app.get("/v1/keys", tags=["keys"])
    async def keys(_: ApiKey = admin) -> dict[str, Any]:
        """Every key's name, role and history (never the key)."""
        return {"keys": await turns.run(lambda: service.api_keys(workspace))}

    @app.post("/v1/keys", tags=["keys"], status_code=201)
    async def create(made: NewKey, key: ApiKey = admin) -> dict[str, Any]:
        """Make a key: it is in this answer, once, and kept nowhere (only its SHA-256)."""
        secret = await turns.run(
            lambda: service.create_key(workspace, made.name, made.role.value, key.name)
        )
        return {"name": made.name, "role": made.role.value, "key": secret}

    @app.post("/v1/keys/{name}/revoke", tags=["keys"])
    async def revoke(name: str, key: ApiKey = admin) -> dict[str, Any]:
        """Revoke a key: it opens nothing from then on."""
        await turns.run(lambda: service.revoke_key(workspace, name, key.name))
        return {"name": name, "revoked_by": key.name}


async def _book_and_overlay(
    request: Request, most: int
) -> tuple[bytes, str, tuple[bytes, str] | None]:
    """A diff's form: the book (its bytes and name) and the overlay (its bytes and name)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > most:
        raise Problem(413, f"the body is {int(length):,} bytes: at most {most:,} are taken")
    form = await request.form(max_files=2, max_fields=0)
    try:
        return await _read_form(form)
    finally:
        await form.close()


async def _read_form(form: FormData) -> tuple[bytes, str, tuple[bytes, str] | None]:
    parts: dict[str, UploadFile | None] = {}
    for field in ("book", "overlay"):
        found = form.getlist(field)
        if len(found) > 1:
            raise Problem(422, f"the form gives `{field}` {len(found)} times: give it once")
        if found and not isinstance(found[0], UploadFile):
            raise Problem(422, f"the form's `{field}` must be a file")
        parts[field] = found[0] if found and isinstance(found[0], UploadFile) else None
    unknown = sorted(set(form.keys()) - set(parts))
    if unknown:
        said = "`, `".join(unknown)
        raise Problem(422, f"the form has parts `{said}`: it takes `book` and `overlay`")
    book, overlay = parts["book"], parts["overlay"]
    if book is None:
        raise Problem(422, "the form has no `book` part: send the book's file as `book`")
    raw = await book.read()
    name = FilePath(book.filename or "book.json").name
    if overlay is None:
        return raw, name, None
    return raw, name, (await overlay.read(), FilePath(overlay.filename or "overlay.yaml").name)


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
