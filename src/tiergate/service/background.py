"""Jobs started over HTTP, by the API (`POST /v1/jobs`) and by the check page alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from tiergate.inputs import first_look
from tiergate.service.problems import any_status
from tiergate.terms import View

if TYPE_CHECKING:
    from tiergate.service.access import Turns
    from tiergate.workflow import Workspace
    from tiergate.workflow.jobs import Job, Jobs


async def start_job(
    workspace: Workspace,
    turns: Turns,
    jobs: Jobs,
    owner: str,
    name: str,
    raw: bytes,
    *,
    as_of: date | None,
    view: View,
    screen: bool,
    commit: bool,
    reserve: bool,
) -> Job:
    """A job checking (or committing) the book `raw`, named `name`, for the key `owner`: made
    and queued in its turn. What can be refused at once is refused at once, before a job is
    made: a book that cannot be read at all, a date before the rulebook's."""
    first_look(raw, Path(name))
    if as_of is not None:
        workspace.engine().check_range(as_of)
    job = await run_in_threadpool(jobs.create, owner, name, raw)

    def run() -> Job:
        return jobs.run(
            workspace,
            job,
            any_status,
            as_of=as_of,
            view=view,
            screen=screen,
            commit=commit,
            reserve=reserve,
        )

    turns.start(run)
    return job
