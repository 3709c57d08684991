"""Installing list editions: status, safe updates (file and HTTP), refusal, rollback, diff."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import run_tiergate

from tiergate.screening.index import StoredIndex, stored
from tiergate.screening.lists import ListFormatError
from tiergate.screening.names import default_settings
from tiergate.screening.store import ListStore, UpdateRefused, bundled_edition

ROOT = Path(__file__).resolve().parents[1]
SCREENING = ROOT.parent / "shared" / "data" / "screening"
EXPANDED = SCREENING / "csl_consolidated_screening_list_compact_2026-07-31_expanded.csv"
OFAC_OLD = SCREENING / "ofac_sdn_2021-08-18.csv"
OFAC_NEW = SCREENING / "ofac_sdn_2024-05-03.csv"


@pytest.fixture
def store(tmp_path: Path) -> ListStore:
    if not SCREENING.is_dir():
        pytest.skip("shared screening data is not present")
    return ListStore(tmp_path / "home")


def _shrunk_csv(tmp_path: Path, keep: float) -> Path:
    """The real CSL CSV with only a share of its Entity List rows (a truncated download)."""
    lines = EXPANDED.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    entity = [r for r in rows if r.startswith("Entity List")]
    kept = set(entity[: int(len(entity) * keep)])
    path = tmp_path / f"csl_2026-08-01_keep{int(keep * 100)}.csv"
    path.write_text(
        header + "".join(r for r in rows if not r.startswith("Entity List") or r in kept),
        encoding="utf-8",
    )
    return path


def test_status_reports_the_bundled_edition_and_warns_when_stale(store: ListStore) -> None:
    status = store.status(today=date(2026, 11, 26))
    assert status["edition_date"] == "2026-07-31"
    assert status["entries"] == 25921
    assert status["installed_at"] == "bundled with tiergate"
    assert status["age_days"] == 118
    assert status["warnings"]
    assert store.status(today=date(2026, 8, 3))["warnings"] == []


def test_same_content_changes_nothing(store: ListStore) -> None:
    result = store.update(file=EXPANDED)
    assert not result.switched
    assert "already current" in result.message
    assert store.installed() is None


def test_a_shrunken_list_is_refused_unless_forced(store: ListStore, tmp_path: Path) -> None:
    shrunk = _shrunk_csv(tmp_path, keep=0.5)
    with pytest.raises(UpdateRefused, match="EL from 3420 to 1710"):
        store.update(file=shrunk)
    assert store.installed() is None
    assert store.current().content_hash == bundled_edition().content_hash
    small_change = _shrunk_csv(tmp_path, keep=0.95)
    result = store.update(file=small_change)
    assert result.switched
    assert store.current().counts()["EL"] == int(3420 * 0.95)
    forced = store.update(file=shrunk, force=True)
    assert forced.switched
    assert store.current().counts()["EL"] == 1710
    assert store.status()["installed_at"].endswith(".json.gz")


def test_an_edition_from_the_future_is_refused_and_an_older_one_needs_force(
    store: ListStore,
) -> None:
    # A date from the future would silence the staleness warning for good.
    with pytest.raises(UpdateRefused, match=r"dated 2099-01-01, after today"):
        store.update(file=EXPANDED, edition_date=date(2099, 1, 1))
    # An older edition than the one in use is a downgrade: only on purpose.
    with pytest.raises(UpdateRefused, match="before the installed edition of 2026-07-31"):
        store.update(file=OFAC_OLD)
    assert store.installed() is None
    result = store.update(file=OFAC_OLD, force=True)
    assert result.switched
    assert store.current().edition_date == date(2021, 8, 18)


def test_a_garbled_file_leaves_the_current_edition(store: ListStore, tmp_path: Path) -> None:
    store.update(file=_shrunk_csv(tmp_path, keep=0.95))
    before = store.current().content_hash
    broken = tmp_path / "ofac_sdn_2024-05-03.csv"
    data = OFAC_NEW.read_bytes()
    broken.write_bytes(data[: len(data) // 2] + b'\r\n123,"HALF A LINE')
    with pytest.raises(ListFormatError):
        store.update(file=broken)
    assert store.current().content_hash == before


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # stdlib signature
        return


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving `tmp_path`."""
    handler = lambda *a, **k: _Quiet(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_update_over_http(store: ListStore, tmp_path: Path, served: str) -> None:
    source = _shrunk_csv(tmp_path, keep=0.97)
    result = store.update(url=f"{served}/{source.name}", edition_date=date(2026, 8, 1))
    assert result.switched
    assert store.current().edition_date == date(2026, 8, 1)
    with pytest.raises(UpdateRefused, match="cannot download"):
        store.update(url=f"{served}/missing.csv")
    assert store.current().edition_date == date(2026, 8, 1)


def test_data_commands(tmp_path: Path) -> None:
    if not SCREENING.is_dir():
        pytest.skip("shared screening data is not present")
    home = tmp_path / "home"
    done = run_tiergate("data", "status", "--format", "json", home=home)
    assert json.loads(done.stdout)["editions"]["csl"]["edition_date"] == "2026-07-31"
    shrunk = _shrunk_csv(tmp_path, keep=0.5)
    refused = run_tiergate("data", "update", "--file", str(shrunk), home=home)
    assert refused.returncode == 2
    assert "EL from 3420 to 1710" in refused.stderr
    assert (
        run_tiergate("data", "update", "--file", str(shrunk), "--force", home=home).returncode == 0
    )
    # The update indexed the new edition: the next screen reads the index from the cache.
    cache = Path(os.environ["TIERGATE_CACHE"]) / "screening"
    installed = ListStore(home).current_snapshot()
    assert isinstance(stored(cache, installed, default_settings()), StoredIndex)
    done = run_tiergate("data", "status", "--format", "json", home=home)
    assert json.loads(done.stdout)["editions"]["csl"]["counts"]["EL"] == 1710
    parties = tmp_path / "parties.csv"
    parties.write_text("id,name\nA,Acme Widgets\nB,AEROCARIBBEAN AIRLINES\n", encoding="utf-8")
    done = run_tiergate(
        "data",
        "diff",
        str(OFAC_OLD),
        str(OFAC_NEW),
        "--parties",
        str(parties),
        "--format",
        "json",
        home=home,
    )
    document = json.loads(done.stdout)
    assert document["counts"] == {"added": 6761, "removed": 879, "changed": 229}
    assert done.returncode in (0, 3)
    assert all(change["id"] != "A" for change in document["parties_changed"])


def test_an_edition_read_by_its_recorded_digest_is_the_edition_read_in_full(
    store: ListStore, tmp_path: Path
) -> None:
    # The bundled snapshot's recorded digest is its bytes', and trusting it gives the content
    # hash that recomputing every entry gives.
    from importlib import resources

    from tiergate.screening.snapshot import read_snapshot, snapshot_digest
    from tiergate.screening.store import BUNDLED_SHA256, BUNDLED_SNAPSHOT

    bundled = resources.files("tiergate.data").joinpath(BUNDLED_SNAPSHOT)
    assert snapshot_digest(bundled) == BUNDLED_SHA256
    assert read_snapshot(bundled).content_hash == bundled_edition().content_hash
    # An installed edition records its digest; a snapshot changed after installing is refused.
    assert store.update(file=OFAC_NEW, force=True).switched
    pointer = json.loads(store.pointer.read_text(encoding="utf-8"))
    installed = store.installed()
    assert installed is not None
    assert pointer["sha256"] == snapshot_digest(installed)
    pointer_edition_hash = read_snapshot(installed).content_hash
    assert store.current().content_hash == pointer_edition_hash
    installed.write_bytes(installed.read_bytes() + b"\0")
    with pytest.raises(ListFormatError, match="not the file that was installed"):
        store.current()
    # A pointer written before digests were recorded reads the snapshot verified in full:
    # gzip ignores the trailing zero, and every entry's content is as it was.
    store.pointer.write_text(json.dumps({"csl": installed.name}), encoding="utf-8")
    assert store.current().content_hash == pointer_edition_hash


def test_a_workspace_screens_against_the_edition_of_its_own_home(store: ListStore) -> None:
    # Before, the screener read the environment's home whatever home the workspace was given.
    from tiergate.workflow import Settings, Workspace

    installed = store.update(file=OFAC_OLD, force=True).edition
    home = store.folder.parent
    mine = Workspace(Settings.load()).screener(None).edition
    theirs = Workspace(replace(Settings.load(), home=home)).screener(None).edition
    assert (mine.name, mine.edition_date) == (
        bundled_edition().name,
        bundled_edition().edition_date,
    )
    assert (theirs.name, theirs.edition_date) == (installed.name, installed.edition_date)
