"""Checks that run in the background: a book is given, a job is made at once, and its state
(how far it is, then its summary or its error) and its answer (JSON Lines) are read while or
after it runs.

A job lives in the tiergate home (`jobs/ID/`): the book's bytes, its state (`state.json`,
replaced whole at each change, so a reader never sees half of one) and its answer. Every
process serving the same home sees every job. Only the key that made a job may read it (or
an admin key); an id is 128 random bits. Jobs are forgotten a day after they end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tiergate.progress import Silent
from tiergate.terms import View

if TYPE_CHECKING:
    from tiergate.workflow import Workspace

T = TypeVar("T")
log = logging.getLogger("tiergate")

# How often a running job writes how far it is, at most (seconds).
EVERY = 0.25
# How long a job is kept after it ends.
KEPT_FOR = timedelta(days=1)
_ID = re.compile(r"[A-Za-z0-9_-]{22}")


class JobState(StrEnum):
    """Where a job is: waiting its turn, running, done (its answer ready) or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    """A job as its state file holds it."""

    id: str
    owner: str  # the key's name that made it
    name: str  # the book's name (its extension its format)
    state: JobState
    stage: str  # what it is doing, in words
    done: int  # lines determined so far (where the path counts them)
    total: int | None  # lines in the book, once read
    created_at: str
    finished_at: str | None = None
    error: str | None = None  # a failed job's reason
    error_status: int | None = None  # its HTTP status (4xx: the book's fault)
    summary: dict[str, Any] | None = None  # a done job's counts
    input_hash: str | None = None
    pid: int | None = None  # the process that runs it, while it waits or runs

    def document(self) -> dict[str, Any]:
        found = asdict(self)
        found["state"] = self.state.value
        return found


class Jobs:
    """The jobs of a tiergate home."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "jobs"

    def create(self, owner: str, name: str, raw: bytes) -> Job:
        """A new job for the book `raw` named `name`, queued."""
        self.forget_ended()
        job = Job(
            id=secrets.token_urlsafe(16),
            owner=owner,
            name=name,
            state=JobState.QUEUED,
            stage="waiting its turn",
            done=0,
            total=None,
            created_at=_now(),
            pid=os.getpid(),
        )
        folder = self.folder / job.id
        folder.mkdir(parents=True)
        (folder / "book").write_bytes(raw)
        self._write(job)
        return job

    def read(self, job_id: str) -> Job | None:
        """The job `job_id`, when there is one."""
        if not _ID.fullmatch(job_id):
            return None
        try:
            found = json.loads((self.folder / job_id / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        job = Job(**{**found, "state": JobState(found["state"])})
        if job.state in (JobState.QUEUED, JobState.RUNNING) and not _alive(job.pid):
            return replace(
                job,
                state=JobState.FAILED,
                stage="failed",
                error="the process that ran it ended before it did: send the book again",
                error_status=503,
            )
        return job

    def of(self, job_id: str, key: str, *, every: bool = False) -> Job | None:
        """The job `job_id` when the key named `key` made it, or when `every` (an admin's
        key reads every job); None otherwise, as when there is none."""
        found = self.read(job_id)
        return found if found is not None and (every or found.owner == key) else None

    def answer(self, job: Job) -> Path:
        """Where a done job's answer is (JSON Lines)."""
        return self.folder / job.id / "answer.jsonl"

    def run(
        self,
        workspace: Workspace,
        job: Job,
        status_of: Callable[[Exception], int],
        *,
        as_of: date | None,
        view: View,
        screen: bool,
        commit: bool,
        reserve: bool,
    ) -> Job:
        """Run `job` in `workspace` (its progress reported in the job's state): the job as
        it ended, done, or failed with its error and the status `status_of` gives it."""
        from tiergate.errors import TiergateError
        from tiergate.workflow.uploads import check_upload

        folder = self.folder / job.id
        raw = (folder / "book").read_bytes()
        running = _Running(self, replace(job, state=JobState.RUNNING, stage="reading the book"))
        before, workspace.progress = workspace.progress, running
        try:
            with (folder / "answer.partial").open("wb") as into:
                answered = check_upload(
                    workspace,
                    raw,
                    job.name,
                    into,
                    as_of=as_of,
                    view=view,
                    screen=screen,
                    commit=commit,
                    reserve=reserve,
                    actor=job.owner,
                )
            (folder / "answer.partial").replace(folder / "answer.jsonl")
            ended = replace(
                running.job,
                state=JobState.DONE,
                stage="done",
                done=answered.lines,
                total=answered.lines,
                summary=answered.summary,
                input_hash=answered.input_hash,
                finished_at=_now(),
                pid=None,
            )
        except Exception as error:  # the job's end, whatever it is: never left running
            if not isinstance(error, TiergateError):
                log.exception("job %s failed", job.id)
            said = str(error) if isinstance(error, TiergateError) else "internal error"
            ended = replace(
                running.job,
                state=JobState.FAILED,
                stage="failed",
                error=said,
                error_status=status_of(error),
                finished_at=_now(),
                pid=None,
            )
        finally:
            workspace.progress = before
            (folder / "book").unlink(missing_ok=True)
        self._write(ended)
        return ended

    def forget_ended(self) -> None:
        """Forget the jobs that ended more than `KEPT_FOR` ago."""
        if not self.folder.is_dir():
            return
        oldest = (datetime.now(UTC) - KEPT_FOR).isoformat(timespec="seconds")
        for folder in self.folder.iterdir():
            job = self.read(folder.name)
            if job is not None and job.finished_at is not None and job.finished_at < oldest:
                shutil.rmtree(folder, ignore_errors=True)

    def _write(self, job: Job) -> None:
        state = self.folder / job.id / "state.json"
        partial = state.with_name("state.partial")
        partial.write_text(json.dumps(job.document()), encoding="utf-8")
        os.replace(partial, state)


class _Running(Silent):
    """A running job's progress: how far it is, written to its state now and then."""

    def __init__(self, jobs: Jobs, job: Job) -> None:
        self.jobs, self.job = jobs, job
        self._written = 0.0
        jobs._write(job)

    def _show(self, job: Job, *, now: bool = False) -> None:
        self.job = job
        moment = time.monotonic()
        if now or moment - self._written >= EVERY:
            self._written = moment
            self.jobs._write(job)

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        self._show(replace(self.job, stage=description, total=len(items), done=0), now=True)
        for done, item in enumerate(items, 1):
            yield item
            if done % 1000 == 0:
                self._show(replace(self.job, done=done))
        self._show(replace(self.job, done=len(items)), now=True)

    def working(self, description: str) -> AbstractContextManager[object]:
        return self._stage(description)

    @contextmanager
    def _stage(self, description: str) -> Iterator[None]:
        self._show(replace(self.job, stage=description), now=True)
        yield


def _alive(pid: int | None) -> bool:
    """Whether the process `pid` still runs (on this machine, where the home is)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but another user's
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
