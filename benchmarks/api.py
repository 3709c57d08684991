"""Load `tiergate serve` on loopback as an ERP would: one-line checks and one-name screens,
from client threads each with a kept-alive connection, bounded in count and in time.

Usage: python benchmarks/api.py [--workers 1] [--clients 8] [--requests 2000] [--seconds 20]

The server runs in its own processes (`--workers`), on a new SQLite ledger in an empty
tiergate home, with no rate limit. Every check is audited in the ledger (the service keeps its
keys there, so there is always one). Measured in the same run, as the baseline: `GET
/v1/status` (the framework and the loopback, with little of tiergate's work), and each
figure's ratio to it.

Then one upload of a generated order book (`--upload-lines`, 100,000 by default; the book of
benchmarks/batch.py) to `POST /v1/check/file`: the time to the answer's first byte and to its
last, and the lines it holds.

The key is an officer's, and a fourth load commits one-line books (`POST /v1/check?commit=true`,
each its own shipment). With `--postgresql URL` the ledger is a new PostgreSQL database.

Targets (issue #13, on 2 cores): one-line `POST /v1/check` >= 1,000 requests/s with p99 <=
20 ms; `POST /v1/screen` >= 1,500 requests/s with p99 <= 10 ms; commits of one-line books
from 8 clients on PostgreSQL >= 1,000 requests/s; a 100,000-line upload: its time stated,
the first result within 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import httpx2

sys.path.insert(0, str(Path(__file__).parent))
from check_rows import generate

from tiergate.engine import Engine

BOOK = {
    "shipments": [
        {
            "shipment_id": "S-1",
            "date": "2026-02-01",
            "destination": "DE",
            "parties": {"consignee": {"name": "Acme Compute", "country": "DE"}},
            "lines": [{"line_id": "1", "item": "H100 SXM", "quantity": 8}],
        }
    ]
}
TARGETS = {
    "check, one line": (1_000, 20.0),
    "screen, one name": (1_500, 10.0),
    "commit, one line": (1_000, 1e9),  # no p99 target
}


class Load(NamedTuple):
    """What a load gave: requests answered, seconds, and each request's milliseconds."""

    done: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request's bytes, made once and sent again and again."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _answer(reader: BinaryIO) -> tuple[int, bytes]:
    """The status and body of the next response on a kept-alive connection."""
    status = int(reader.readline().split()[1])
    length = 0
    while (header := reader.readline()) not in (b"\r\n", b""):
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, reader.read(length)


def _load(
    port: int, request: bytes | list[bytes], clients: int, requests: int, seconds: float
) -> Load:
    """`requests` requests (or as many as `seconds` allow) from `clients` threads, each on
    its own kept-alive connection. The requests are bytes made once and the answers are read
    by their length: the load generator shares the machine's cores with the server, so it
    does as little as it can."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [requests]
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        with socket.create_connection(("127.0.0.1", port)) as connection:
            reader = connection.makefile("rb")
            while time.perf_counter() < deadline:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                    index = left[0]
                sent = request if isinstance(request, bytes) else request[index % len(request)]
                started = time.perf_counter()
                connection.sendall(sent)
                status, body = _answer(reader)
                took = (time.perf_counter() - started) * 1000
                if status != 200:
                    failures.append(f"{status} {body[:200]!r}")
                    return
                with lock:
                    latencies.append(took)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"a request failed: {failures[0]}")
    return Load(len(latencies), elapsed, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--upload-lines", type=int, default=100_000)
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="A PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the "
        "ledger is a new database there, dropped after. Default: a new SQLite file.",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, _database(args.postgresql) as database:
        home = Path(folder)
        env = {**os.environ, "TIERGATE_HOME": str(home), "TIERGATE_RATE_LIMIT": "0"}
        env.pop("TIERGATE_DATABASE_URL", None)
        if database is not None:
            env["TIERGATE_DATABASE_URL"] = database
        tiergate = [sys.executable, "-m", "tiergate"]
        subprocess.run([*tiergate, "db", "upgrade"], env=env, check=True, capture_output=True)
        made = subprocess.run(
            [*tiergate, "keys", "create", "--name", "bench", "--role", "officer"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*tiergate, "serve", "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(base, server)
            book = json.dumps(BOOK).encode()
            party = json.dumps({"name": "Acme Compute", "country": "DE"}).encode()
            sent = {**headers, "Content-Type": "application/json"}
            loads: dict[str, bytes | list[bytes]] = {
                "status (baseline)": _request("GET", "/v1/status", {}),
                "check, one line": _request("POST", "/v1/check", sent, book),
                "screen, one name": _request("POST", "/v1/screen", sent, party),
                "commit, one line": [
                    _request("POST", "/v1/check?commit=true", sent, _committed(i))
                    for i in range(args.requests + 20)
                ],
            }
            for request in loads.values():  # warm: the engine, the screening index, the ledger
                _load(port, request, 1, 20, args.seconds)
            found = {
                name: _load(port, request, args.clients, args.requests, args.seconds)
                for name, request in loads.items()
            }
            book = home / "upload.csv"
            generate(book, args.upload_lines, 1, Engine(), "order-book")
            book_mib = book.stat().st_size / 2**20
            upload = _upload(port, headers, book.read_bytes())
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"tiergate serve, {args.workers} worker(s), {args.clients} clients, loopback, "
        f"{os.cpu_count()} cores"
    )
    baseline = found["status (baseline)"].rate
    for name, load in found.items():
        print(
            f"  {name:24} {load.rate:10,.0f} requests/s  p50 {load.percentile(0.5):6.1f} ms  "
            f"p99 {load.percentile(0.99):6.1f} ms  ({load.done:,} requests, "
            f"{load.rate / baseline:.2f} of the baseline)"
        )
    first, last, lines = upload
    print(
        f"  upload of {args.upload_lines:,} lines (CSV, {book_mib:.1f} MiB): first byte "
        f"{first:.2f} s, whole answer {last:.2f} s, {lines:,} lines answered "
        f"({first:.2f} of the 1 s target for the first result)"
    )
    for name, (rate, p99) in TARGETS.items():
        load = found[name]
        against = f"; p99 {load.percentile(0.99):.1f} ms against {p99:g} ms" if p99 < 1e9 else ""
        print(f"  {name}: {load.rate / rate:.2f} of the {rate:,} requests/s target{against}")


def _committed(number: int) -> bytes:
    """A one-line book of its own shipment, to commit (a line is committed once)."""
    book = json.loads(json.dumps(BOOK))
    book["shipments"][0]["shipment_id"] = f"C-{number}"
    return json.dumps(book).encode()


@contextmanager
def _database(server: str | None) -> Iterator[str | None]:
    """A new PostgreSQL database on `server`, dropped after; None without a server."""
    if server is None:
        yield None
        return
    import psycopg
    from sqlalchemy import make_url

    name = f"tiergate_bench_{os.getpid()}"
    url = make_url(server)
    with psycopg.connect(
        url.set(drivername="postgresql").render_as_string(False), autocommit=True
    ) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _upload(port: int, headers: dict[str, str], book: bytes) -> tuple[float, float, int]:
    """One upload of `book`: seconds to the answer's first byte and to its last, and the
    lines answered (the answer comes in chunks: it is read to its end)."""
    request = _request("POST", "/v1/check/file?format=csv", headers, book)
    with socket.create_connection(("127.0.0.1", port)) as connection:
        reader = connection.makefile("rb")
        started = time.perf_counter()
        connection.sendall(request)
        status = int(reader.readline().split()[1])
        first = time.perf_counter() - started
        while reader.readline() not in (b"\r\n", b""):
            pass  # the headers: the body is chunked
        lines = 0
        while size := int(reader.readline().strip(), 16):
            lines += reader.read(size).count(b"\n")
            reader.readline()
        last = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"the upload failed: {status}")
    return first, last, lines


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers, or a minute went by, or it ended."""
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx2.get(f"{base}/v1/status")
            return
        except httpx2.ConnectError:
            if server.poll() is not None:
                raise SystemExit("tiergate serve ended before it listened") from None
            if time.monotonic() > deadline:
                raise SystemExit("tiergate serve did not listen in 60 s") from None
            time.sleep(0.1)


if __name__ == "__main__":
    main()
