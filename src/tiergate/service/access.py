"""Who may do what over HTTP, and how often: roles (`require`), each key's rate
(`RateLimits`), one request at a time on a workspace (`Turns`), no query parameter a route
does not take (`known_query`) and no JSON key given twice (`unique_keys`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiergate.errors import InputError
from tiergate.inputs import object_without_duplicates
from tiergate.keys import Role
from tiergate.ledger.api_keys import ApiKey
from tiergate.service.problems import Problem, problem

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Checker:
    """Who checks (their key) and whether they commit: committing needs an officer."""

    key: ApiKey
    commit: bool


class BodyLimit:
    """Refuse a request whose body is over `most` bytes (413, a problem document): at once
    by its `Content-Length`, else as its chunks come. A route that reads the body itself
    (`app._body`) says the same sooner; this holds for every route, a page's form too,
    before FastAPI reads the form."""

    def __init__(self, app: ASGIApp, most: int) -> None:
        self.app, self.most = app, most

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.most:
            said = f"the body is {int(length):,} bytes: at most {self.most:,} are taken"
            await problem(413, said)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.most:
                    raise Problem(413, f"the body is over {self.most:,} bytes: at most that")
            return message

        await self.app(scope, counted, send)


# A body up to this many bytes (a few hundred lines, some milliseconds) is short work.
SHORT_BODY = 64 * 1024


class Turns:
    """One piece of work at a time on the workspace's engine and ledger, in the order asked.

    Short work (a one-line check, a key's lookup) runs at once on the event loop's thread:
    handing it to another thread costs a switch of the GIL, up to 5 ms while the loop is
    busy, which is more than the work. Long work (a big book, the audit trail) runs on the
    one thread kept for it, so the loop answers other requests meanwhile; while any is there
    or waiting, short work queues behind it, as the engine and ledger are not shared between
    threads."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tiergate-work")
        self._queued = 0  # long work given to the thread and not yet done (the loop's count)

    def start(self, work: Callable[[], object]) -> None:
        """`work` as long work, in its turn, without waiting for it (a job). It is handed to
        the thread at once, so it runs even if nothing on the loop waits for it any more."""
        loop = asyncio.get_running_loop()
        self._queued += 1

        def done(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # a loop closed: none on it waits any more
                loop.call_soon_threadsafe(self._ended)

        self._thread.submit(work).add_done_callback(done)

    def _ended(self) -> None:
        self._queued -= 1

    async def run(self, work: Callable[[], T], *, long: bool = False) -> T:
        if not long and not self._queued:
            return work()
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, work)
        finally:
            self._queued -= 1


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


def require(key: ApiKey, needed: Role) -> None:
    if not key.role.allows(needed):
        raise Problem(
            403,
            f"the key `{key.name}` has the role `{key.role.value}`: this needs "
            f"`{needed.value}` or above",
        )


async def known_query(request: Request) -> None:
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


# The bodies of the web pages' forms.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def unique_keys(request: Request) -> None:
    """Refuse a JSON body that gives a key twice, as tiergate refuses such a book, and a form
    that gives a field twice: the body's model would keep the last one silently. (A book
    sent to a check is read by the book reader, which refuses it itself.)"""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()  # read already, for the route: this is that reading
        given = Counter(name for name, _ in form.multi_items())
        twice = sorted(name for name, count in given.items() if count > 1)
        if twice:
            raise Problem(422, f"the form gives `{'`, `'.join(twice)}` more than once")
        return
    try:
        json.loads(await request.body(), object_pairs_hook=object_without_duplicates)
    except InputError as error:
        raise Problem(422, f"body: {error}") from None
    except ValueError:
        return  # not JSON: the body's own validation says so
