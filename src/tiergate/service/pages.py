"""The web pages, served by the same process as the API and calling the same workflow.

A browser signs in with an API key (`/sign-in`) and gets a session: a random token in a
cookie (`HttpOnly`, `Secure`, `SameSite=Strict`) of which the ledger keeps the SHA-256
(`Ledger.open_session`). Every form sends back the session's form token, and a form that
does not is refused: another site cannot make a signed-in browser release a hold. The sign-in
form itself carries a token set in a cookie when the form was shown. Roles are the API's: a
viewer sees the holds queue, an officer also releases and rejects holds. The pages are
rendered here (Jinja2, escaping every value); their stylesheet and script are tiergate's own,
bundled with the package, and nothing is fetched from elsewhere.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool

from tiergate import __version__, reporting
from tiergate.errors import TiergateError
from tiergate.keys import HoldStatus, Role
from tiergate.ledger.api_keys import WebSession
from tiergate.service.access import SHORT_BODY, RateLimits, Turns
from tiergate.service.background import start_job
from tiergate.service.models import AsOf, ViewQuery, day
from tiergate.service.problems import Problem, problem, status_of
from tiergate.terms import View
from tiergate.workflow.jobs import Job, Jobs, JobState

if TYPE_CHECKING:
    from tiergate.ledger.ledger import Ledger
    from tiergate.workflow import Workspace

WEB = Path(__file__).parent / "web"
# The cookie that holds a session's token, and the one the sign-in form's token is set in.
SESSION_COOKIE = "tiergate_session"
SIGN_IN_COOKIE = "tiergate_sign_in"
# The lines of a book the results page lists (the answer has them all).
LINES_SHOWN = 2_000
# The newest audit entries the audit page lists (the API and CLI export them all).
AUDIT_SHOWN = 500
# How long a session lasts.
SESSION_HOURS = 8.0
# What every page may load: only what this server sends.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SignedOut(Exception):
    """A page needs a session, and the browser has none (or it ended)."""


def add_pages(
    app: FastAPI,
    workspace: Workspace,
    turns: Turns,
    ledger: Callable[[], Ledger],
    lookups: Callable[[], Ledger],
    limits: RateLimits,
    max_body: int,
) -> None:
    """The web pages on `app`, over the same workspace, turns and rate limits as the API,
    taking an uploaded book of at most `max_body` bytes; sessions are found in `lookups`."""
    from tiergate.workflow import records, reference

    folders = [WEB / "templates", reporting.HERE]  # the report's charts too
    environment = Environment(loader=FileSystemLoader(folders), autoescape=True)
    environment.filters["figure"] = reporting.figure
    templates = Jinja2Templates(env=environment)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("session", None)
        shown: HTMLResponse = templates.TemplateResponse(
            request,
            name,
            {"version": __version__, **values},
            status_code=status,
            headers=HEADERS,
        )
        return shown

    async def signed_in(request: Request) -> WebSession:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise SignedOut
        found = lookups().session_named_by(token)
        if found is None:
            raise SignedOut
        return found

    def checked_form(session: WebSession, given: str) -> None:
        if not secrets.compare_digest(session.form_token.encode(), given.encode()):
            raise Problem(403, "the form was not sent from this site's page: open it again")

    async def as_signed_in(
        request: Request,
        work: Callable[[WebSession], Awaitable[Response]],
        *,
        data: bool = False,
    ) -> Response:
        """`work` for the signed-in browser, its errors shown as a page (as problem
        details for a page's `data` request)."""
        try:
            session = await signed_in(request)
        except SignedOut:
            if data:
                return problem(401, "the session ended: sign in again")
            return RedirectResponse("/sign-in", status_code=303)
        try:
            wait = limits.wait(session.key.name)
            if wait:
                said = f"the key `{session.key.name}` made too many requests: wait {wait:.1f} s"
                raise Problem(429, said)
            return await work(session)
        except Problem as error:
            if data:
                return problem(error.status, error.detail)
            return page(request, "error.html", error.status, session=session, error=error.detail)
        except TiergateError as error:
            found = status_of(error)
            if data:
                return problem(found, error.for_http())
            return page(request, "error.html", found, session=session, error=error.for_http())

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        target = "/holds" if request.cookies.get(SESSION_COOKIE) else "/sign-in"
        return RedirectResponse(target, status_code=303)

    @app.get("/sign-in", include_in_schema=False)
    async def sign_in_form(request: Request) -> Response:
        form_token = secrets.token_urlsafe(32)
        shown = page(request, "sign_in.html", form_token=form_token, error=None)
        shown.set_cookie(SIGN_IN_COOKIE, form_token, max_age=3600, **_cookie())
        return shown

    @app.post("/sign-in", include_in_schema=False)
    async def sign_in(
        request: Request,
        key: Annotated[str, Form(max_length=200)],
        form_token: Annotated[str, Form(max_length=200)],
    ) -> Response:
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected.encode(), form_token.encode()):
            return page(
                request,
                "sign_in.html",
                403,
                form_token="",
                error="the sign-in form was not sent from this site's page: open it again",
            )
        opened = await turns.run(lambda: ledger().open_session(key.strip(), SESSION_HOURS))
        if opened is None:
            return page(
                request,
                "sign_in.html",
                401,
                form_token=form_token,
                error="that is not an API key of this service, or it was revoked",
            )
        token, _ = opened
        done = RedirectResponse("/holds", status_code=303)
        done.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_HOURS * 3600), **_cookie())
        done.delete_cookie(SIGN_IN_COOKIE, **_cookie())
        return done

    @app.post("/sign-out", include_in_schema=False)
    async def sign_out(
        request: Request, form_token: Annotated[str, Form(max_length=200)]
    ) -> Response:
        async def work(session: WebSession) -> Response:
            checked_form(session, form_token)
            token = request.cookies[SESSION_COOKIE]
            await turns.run(lambda: ledger().close_session(token))
            done = RedirectResponse("/sign-in", status_code=303)
            done.delete_cookie(SESSION_COOKIE, **_cookie())
            return done

        return await as_signed_in(request, work)

    @app.get("/holds", include_in_schema=False)
    async def holds_page(request: Request) -> Response:
        async def work(session: WebSession) -> Response:
            found = await turns.run(lambda: records.holds(workspace), long=True)
            return page(
                request,
                "holds.html",
                session=session,
                holds=found,
                decides=session.key.role.allows(Role.OFFICER),
            )

        return await as_signed_in(request, work)

    @app.get("/map", include_in_schema=False)
    async def map_page(request: Request) -> Response:
        async def work(session: WebSession) -> Response:
            return page(request, "map.html", session=session, today=date.today().isoformat())

        return await as_signed_in(request, work)

    @app.get("/data/tiers", include_in_schema=False)
    async def tiers_data(
        request: Request,
        as_of: AsOf = None,
        view: ViewQuery = View.ENFORCED,
        item: Annotated[str | None, Query(min_length=1)] = None,
    ) -> Response:
        """`GET /v1/tiers` with the rules in force, for the map (a session, not a key)."""

        async def work(_: WebSession) -> Response:
            on = day(as_of, "query.as_of") or date.today()

            def both() -> dict[str, Any]:
                found = reference.tiers(workspace, on, view, item)
                in_force = reference.rules(workspace, on, view)["in_force"]
                return {**found, "rules": {rule["id"]: rule for rule in in_force}}

            return JSONResponse(await turns.run(both), headers=HEADERS)

        return await as_signed_in(request, work, data=True)

    @app.get("/licences", include_in_schema=False)
    async def licences_page(request: Request) -> Response:
        async def work(session: WebSession) -> Response:
            def both() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
                return records.licences(workspace), records.allowances(workspace)

            licences, allowances = await turns.run(both)
            return page(
                request,
                "licences.html",
                session=session,
                licences=[_licence_bar(row) for row in licences],
                allowances=[_allowance_bar(row) for row in allowances],
            )

        return await as_signed_in(request, work)

    @app.get("/audit", include_in_schema=False)
    async def audit_page(
        request: Request,
        verify: Annotated[bool, Query(description="Verify the hash chain.")] = False,
    ) -> Response:
        async def work(session: WebSession) -> Response:
            entries, head = await turns.run(lambda: records.export_audit(workspace), long=True)
            checked = None
            if verify:
                checked = await turns.run(lambda: records.verify_audit(workspace), long=True)
            shown = entries[-AUDIT_SHOWN:][::-1]
            return page(
                request,
                "audit.html",
                session=session,
                entries=[{**e, "said": _said(e)} for e in shown],
                total=len(entries),
                head=head,
                checked=checked,
            )

        return await as_signed_in(request, work)

    @app.get("/check", include_in_schema=False)
    async def check_form(request: Request) -> Response:
        async def work(session: WebSession) -> Response:
            return page(request, "check.html", session=session, today=date.today().isoformat())

        return await as_signed_in(request, work)

    @app.post("/check", include_in_schema=False)
    async def check_page(
        request: Request,
        form_token: Annotated[str, Form(max_length=200)],
        book: Annotated[UploadFile | None, File()] = None,
        as_of: Annotated[str, Form(max_length=20)] = "",
        view: Annotated[View, Form()] = View.ENFORCED,
        screen: Annotated[bool, Form()] = False,
        want: Annotated[str, Form(max_length=20)] = "results",
        item: Annotated[str, Form(max_length=200)] = "",
        quantity: Annotated[str, Form(max_length=20)] = "",
        destination: Annotated[str, Form(max_length=200)] = "",
        ship_date: Annotated[str, Form(max_length=20)] = "",
        consignee: Annotated[str, Form(max_length=500)] = "",
        consignee_country: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        """A book uploaded, or one line given in the form, checked as `POST /v1/check`
        checks it (audited, reserving licence quantity): the results page, or the report."""

        async def work(session: WebSession) -> Response:
            checked_form(session, form_token)
            _may_check(session)
            if book is not None and book.filename:
                name = Path(book.filename).name
                raw = await book.read(max_body + 1)
                if len(raw) > max_body:
                    raise Problem(413, f"the book is over {max_body:,} bytes")
            else:
                fields = {"item": item, "quantity": quantity, "destination": destination}
                missing = [name for name, value in fields.items() if not value.strip()]
                if missing:
                    raise Problem(400, "upload a book, or give the line's " + ", ".join(missing))
                name, raw = (
                    "form.json",
                    _one_line(item, quantity, destination, ship_date, consignee, consignee_country),
                )
            on = day(as_of or None, "form.as_of")
            actor = session.key.name
            checked = await turns.run(
                lambda: workspace.check_bytes(
                    raw, Path(name), as_of=on, view=view, screen=screen, actor=actor
                ),
                long=len(raw) > SHORT_BODY,
            )
            source = reporting.Source(name, checked.input_hash, reporting.now())
            if want == "report":
                made = "".join(reporting.render(checked.report, source))
                saved = f"tiergate-report-{Path(name).stem}-{checked.input_hash[:12]}.html"
                return HTMLResponse(
                    made,
                    headers={**HEADERS, "Content-Disposition": f'attachment; filename="{saved}"'},
                )
            report = checked.report
            cache: dict[int, list[dict[str, Any]]] = {}
            return results(
                request,
                session,
                Shown(
                    name,
                    checked.input_hash,
                    report.view.value,
                    report.rulebook_version,
                    list(report.editions),
                    report.summary.as_dict(),
                    [line.as_dict(cache) for line in report.lines],
                    list(reporting.charted(report)),
                ),
            )

        return await as_signed_in(request, work)

    def results(request: Request, session: WebSession, shown: Shown) -> HTMLResponse:
        return page(
            request,
            "results.html",
            session=session,
            shown=shown,
            outcomes=[o.value for o in reporting.OUTCOMES],
            by_tier=reporting.outcomes_by_tier(shown.charted),
            by_destination=reporting.h100_by_destination(shown.charted),
        )

    jobs = Jobs(workspace.settings.home)

    @app.post("/jobs", include_in_schema=False)
    async def new_job_page(
        request: Request,
        form_token: Annotated[str, Form(max_length=200)],
        book: Annotated[UploadFile, File()],
        as_of: Annotated[str, Form(max_length=20)] = "",
        view: Annotated[View, Form()] = View.ENFORCED,
        screen: Annotated[bool, Form()] = False,
    ) -> Response:
        """A book uploaded from the check page, checked in the background: where to follow
        it (the page shows its progress, then its results)."""

        async def work(session: WebSession) -> Response:
            checked_form(session, form_token)
            _may_check(session)
            name = Path(book.filename or "book.csv").name
            raw = await book.read(max_body + 1)
            if len(raw) > max_body:
                raise Problem(413, f"the book is over {max_body:,} bytes")
            job = await start_job(
                workspace,
                turns,
                jobs,
                session.key.name,
                name,
                raw,
                as_of=day(as_of or None, "form.as_of"),
                view=view,
                screen=screen,
                commit=False,
                reserve=True,
            )
            return JSONResponse(
                {"state_url": f"/data/jobs/{job.id}", "results_url": f"/jobs/{job.id}"},
                status_code=202,
                headers=HEADERS,
            )

        return await as_signed_in(request, work, data=True)

    async def own_job(job_id: str, session: WebSession) -> Job:
        key = session.key
        every = key.role.allows(Role.ADMIN)
        found = await run_in_threadpool(lambda: jobs.of(job_id, key.name, every=every))
        if found is None:
            raise Problem(404, f"no job `{job_id}` of the key `{key.name}`")
        return found

    @app.get("/data/jobs/{job_id}", include_in_schema=False)
    async def job_data(request: Request, job_id: str) -> Response:
        async def work(session: WebSession) -> Response:
            job = await own_job(job_id, session)
            return JSONResponse(job.document(), headers=HEADERS)

        return await as_signed_in(request, work, data=True)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    async def job_results(request: Request, job_id: str) -> Response:
        async def work(session: WebSession) -> Response:
            job = await own_job(job_id, session)
            if job.state is JobState.FAILED:
                raise Problem(job.error_status or 500, f"the check failed: {job.error}")
            if job.state is not JobState.DONE:
                raise Problem(409, f"the check is {job.state.value}: {job.stage}")
            shown = await run_in_threadpool(_job_shown, jobs, job)
            return results(request, session, shown)

        return await as_signed_in(request, work)

    @app.get("/jobs/{job_id}/answer", include_in_schema=False)
    async def job_answer(request: Request, job_id: str) -> Response:
        async def work(session: WebSession) -> Response:
            job = await own_job(job_id, session)
            if job.state is not JobState.DONE:
                raise Problem(409, f"the check is {job.state.value}: it has no answer")
            saved = f"tiergate-{Path(job.name).stem}-{job.id[:8]}.jsonl"
            return FileResponse(
                jobs.answer(job),
                media_type="application/x-ndjson",
                filename=saved,
                headers=HEADERS,
            )

        return await as_signed_in(request, work)

    async def decide(
        request: Request, hold_id: int, status: HoldStatus, form_token: str, reason: str
    ) -> Response:
        async def work(session: WebSession) -> Response:
            checked_form(session, form_token)
            if not session.key.role.allows(Role.OFFICER):
                raise Problem(
                    403,
                    f"the key `{session.key.name}` is a {session.key.role.value} key: "
                    "only officers release or reject holds",
                )
            if not reason.strip():
                raise Problem(400, "say why: a decision on a hold needs a reason")
            by = session.key.name
            await turns.run(lambda: records.decide_hold(workspace, hold_id, status, by, reason))
            return RedirectResponse("/holds", status_code=303)

        return await as_signed_in(request, work)

    @app.post("/holds/{hold_id}/release", include_in_schema=False)
    async def release(
        request: Request,
        hold_id: int,
        form_token: Annotated[str, Form(max_length=200)],
        reason: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        return await decide(request, hold_id, HoldStatus.RELEASED, form_token, reason)

    @app.post("/holds/{hold_id}/reject", include_in_schema=False)
    async def reject(
        request: Request,
        hold_id: int,
        form_token: Annotated[str, Form(max_length=200)],
        reason: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        return await decide(request, hold_id, HoldStatus.REJECTED, form_token, reason)


@dataclass(frozen=True, slots=True)
class Shown:
    """What the results page shows of a check: the book's name and SHA-256, the view, the
    rulebook and editions, the summary, the lines (as the JSON answer gives them; the first
    `LINES_SHOWN`) and what the charts read of every line."""

    name: str
    sha256: str
    view: str
    rulebook_version: str
    editions: list[dict[str, str]]
    summary: dict[str, Any]
    lines: list[dict[str, Any]]
    charted: list[reporting.Charted]
    answer_url: str | None = None  # a job's whole answer


def _job_shown(jobs: Jobs, job: Job) -> Shown:
    """A done job's results, read from its answer."""
    lines: list[dict[str, Any]] = []
    charted: list[reporting.Charted] = []
    view = rulebook = ""
    with jobs.answer(job).open("rb") as answer:
        for text in answer:
            line = json.loads(text)
            view, rulebook = line.get("view", view), line.get("rulebook_version", rulebook)
            if len(lines) < LINES_SHOWN:
                lines.append(line)
            charted.append(
                (line["tier"], line["outcome"], line["destination"], line["h100_equivalents"])
            )
    summary = job.summary or {}
    whole = f"/jobs/{job.id}/answer"
    return Shown(job.name, job.input_hash or "", view, rulebook, [], summary, lines, charted, whole)


def _may_check(session: WebSession) -> None:
    if not session.key.role.allows(Role.ANALYST):
        raise Problem(
            403,
            f"the key `{session.key.name}` is a {session.key.role.value} key: "
            "analysts and officers check shipments",
        )


def _share(part: float, whole: float) -> float:
    """`part` as a percentage of `whole`, from 0 to 100 (a bar's width)."""
    return 0.0 if whole <= 0 else round(max(0.0, min(100.0, 100 * part / whole)), 2)


def _licence_bar(row: dict[str, Any]) -> dict[str, Any]:
    """A licence with its bar: used, then reserved, of the authorized quantity."""
    whole = float(row["authorized_quantity"])
    used = _share(row["used_quantity"], whole)
    reserved = min(_share(row["reserved_quantity"], whole), 100 - used)
    return {**row, "bar": {"used": used, "reserved": reserved}}


def _allowance_bar(row: dict[str, Any]) -> dict[str, Any]:
    """An allowance with its bar: used of the limit."""
    return {**row, "bar": {"used": _share(row["used_tpp"], row["limit_tpp"])}}


def _said(entry: dict[str, Any]) -> str:
    """An audit entry's payload in one line, shortened."""
    text = json.dumps(entry.get("payload"), sort_keys=True, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def _one_line(
    item: str,
    quantity: str,
    destination: str,
    ship_date: str,
    consignee: str,
    consignee_country: str,
) -> bytes:
    """The check form's line as a JSON book: read by the same reader as any book, so a bad
    quantity or date is that line's error, as in a book."""
    shipment: dict[str, Any] = {
        "shipment_id": "FORM-1",
        "destination": destination.strip(),
        "lines": [{"line_id": "1", "item": item.strip(), "quantity": quantity.strip()}],
    }
    if ship_date.strip():
        shipment["date"] = ship_date.strip()
    if consignee.strip():
        party = {"name": consignee.strip()}
        if consignee_country.strip():
            party["country"] = consignee_country.strip()
        shipment["parties"] = {"consignee": party}
    return json.dumps({"shipments": [shipment]}).encode()


def _cookie() -> dict[str, Any]:
    """A cookie only this site's pages send, only over HTTPS (browsers count loopback as
    secure), and no script can read."""
    return {"httponly": True, "secure": True, "samesite": "strict", "path": "/"}
