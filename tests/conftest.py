"""Fixtures, kept as small as they can be.

- `engine`: one `Engine` over the bundled rulebook for the whole session. It is pure (no
  I/O, no state between `check` calls except memo tables), so sharing it is safe and fast.
- `rulebook_copy`: a writable copy of the bundled rulebook files in a temp folder, for tests
  that break a file on purpose to show a check fails.
- hypothesis runs without deadlines: tests check answers, never timing.
- `isolated_home` (automatic): TIERGATE_HOME points at an empty temp folder, so screening
  uses the bundled list edition whatever is installed on the machine.
- `shared_data`: the `../shared/data` folder of real public data, present on developer
  machines and in CI; tests that compare against it skip only where it is absent.
- `url`: a ledger database URL, once per backend: a SQLite file always, and a PostgreSQL
  schema of its own (dropped afterwards) when TIERGATE_TEST_DATABASE_URL is set (CI sets it).
- `run_tiergate`: the CLI as a user runs it, in this process with a plain tiergate
  environment (fast); `process=True` runs a real `python -m tiergate` subprocess, for tests of
  the process itself (the entry point, exit status, concurrency).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from tiergate.engine import Engine
from tiergate.keys import Role
from tiergate.rulebook import RULEBOOK_FILES

# No deadlines: property tests check answers, never timing (timing lives in benchmarks/).
settings.register_profile("tiergate", deadline=None)
settings.load_profile("tiergate")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def run_tiergate(
    *args: str, home: Path | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """`tiergate ARGS` from the project root; `home` replaces TIERGATE_HOME, and no other
    TIERGATE_ variable is seen. In this process unless `process` (then `python -m tiergate`)."""
    env = {
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "TIERGATE_HOME": str(home) if home is not None else os.environ["TIERGATE_HOME"],
        "TIERGATE_CACHE": os.environ["TIERGATE_CACHE"],
    }
    if process:
        return subprocess.run(
            [sys.executable, "-m", "tiergate", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **env},
            check=False,
        )
    return _in_process(list(args), env)


def _in_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `tiergate.cli.main` as the console script does, with `env` as the only tiergate
    settings, capturing stdout, stderr and the exit status."""
    from tiergate.cli import main

    unset: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("TIERGATE_") and name not in env
    }
    folder, argv = Path.cwd(), sys.argv
    with CliRunner().isolation(env={**unset, **env}) as (stdout, stderr, _):
        os.chdir(ROOT)
        sys.argv = ["tiergate", *args]
        try:
            main()
            status = 0
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.chdir(folder)
            sys.argv = argv
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess(["tiergate", *args], status, out, err)


@pytest.fixture(autouse=True, scope="session")
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point TIERGATE_HOME at an empty folder for the whole run (subprocesses inherit it), so
    no list edition installed on this machine changes a test's answer; TIERGATE_CACHE at
    another, shared by every test's home as users' homes share theirs."""
    home = tmp_path_factory.mktemp("tiergate-home")
    os.environ["TIERGATE_HOME"] = str(home)
    os.environ["TIERGATE_CACHE"] = str(tmp_path_factory.mktemp("tiergate-cache"))
    return home


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


@pytest.fixture
def rulebook_copy(tmp_path: Path) -> Path:
    source = resources.files("tiergate.data")
    for name in RULEBOOK_FILES:
        (tmp_path / name).write_text(
            source.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    return tmp_path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


def java_runtime() -> bool:
    """Whether Spark can start here: a `java` on PATH or JAVA_HOME set. CI (`CI` set) has
    one, and there the Spark tests run whatever this says."""
    return bool(os.environ.get("CI") or os.environ.get("JAVA_HOME") or shutil.which("java"))


def chromium() -> str | None:
    """Debian's Chromium for the browser tests (`TIERGATE_TEST_CHROMIUM`, else `chromium`
    on PATH); None where there is none. CI installs it (`.ci/run`)."""
    return os.environ.get("TIERGATE_TEST_CHROMIUM") or shutil.which("chromium")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line when tests were skipped for want of PostgreSQL, Java, Chromium or
    `../shared/data`."""
    skipped = terminalreporter.stats.get("skipped", [])
    missing = []
    if not os.environ.get("TIERGATE_TEST_DATABASE_URL"):
        missing.append("PostgreSQL ledger tests (set TIERGATE_TEST_DATABASE_URL to run them)")
    if not java_runtime():
        missing.append("Spark tests (they need a Java 17 runtime: java on PATH or JAVA_HOME)")
    if chromium() is None:
        missing.append("browser tests (they need Chromium: apt-get install chromium)")
    if not SHARED_DATA.is_dir() and skipped:
        missing.append(f"{len(skipped)} test(s) that need ../shared/data beside the clone")
    if missing:
        terminalreporter.write_line("tiergate: not run: " + "; ".join(missing), yellow=True)


def _backends() -> list[str]:
    found = ["sqlite"]
    if os.environ.get("TIERGATE_TEST_DATABASE_URL"):
        found.append("postgresql")
    return found


@contextmanager
def ledger_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a new, empty ledger database: a SQLite file, or a PostgreSQL schema of its
    own in TIERGATE_TEST_DATABASE_URL (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}"
        return
    import sqlalchemy as sa  # only for the PostgreSQL ledger tests

    base = os.environ["TIERGATE_TEST_DATABASE_URL"]
    schema = f"tg_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """Each ledger database the run has: SQLite, and PostgreSQL where it is given."""
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ledger_url(backend, tmp_path_factory) as found:
        yield found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(url: str, home: Path) -> Iterator[str]:
    """`tiergate serve` over the ledger at `url`, in its own process on a free port of
    loopback, with `home` as its tiergate home: its base URL, once it answers (it is
    stopped after)."""
    port = _free_port()
    env = {**os.environ, "TIERGATE_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tiergate", "serve", "--port", str(port), "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # until it listens, or it ended, or a minute went by
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "tiergate serve did not listen in 60 s"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


class Service:
    """The HTTP service over a new ledger at `url`, with one key of each role (`keys`, by
    role), and a test client on `base_url` (https, for a page's Secure cookies)."""

    def __init__(self, url: str, base_url: str = "http://testserver") -> None:
        from starlette.testclient import TestClient

        from tiergate.ledger.ledger import Ledger
        from tiergate.service.app import create_app
        from tiergate.workflow import Settings, Workspace
        from tiergate.workflow.service import create_key

        Ledger(url).upgrade()
        self.url = url
        self.workspace = Workspace(Settings.load(db=url))
        self.keys = {
            role: create_key(self.workspace, f"{role.value}-key", role.value, "test")
            for role in Role
        }
        self.client = TestClient(create_app(self.workspace), base_url=base_url)

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}
