"""The HTTP service (`tiergate serve`, `tiergate.service`): every route and every role, API
keys kept hashed, errors as problem details, the same answers as the CLI, the committed
OpenAPI document, and a served process answering over a real socket. Run on SQLite, and on
PostgreSQL where TIERGATE_TEST_DATABASE_URL is given."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from conftest import ROOT, Service, run_tiergate, serving
from starlette.testclient import TestClient

from tiergate.keys import Role
from tiergate.ledger.ledger import Ledger
from tiergate.ledger.store import HEAD
from tiergate.service.access import RateLimits
from tiergate.service.app import create_app
from tiergate.service.openapi import document
from tiergate.workflow import Settings, Workspace, screening
from tiergate.workflow.service import create_key, revoke_key

BOOK = {
    "shipments": [
        {
            "shipment_id": "S-1",
            "date": "2026-02-01",
            "destination": "CN",
            "parties": {"consignee": {"name": "Acme Compute", "country": "CN"}},
            "lines": [
                {"line_id": "1", "item": "H200", "quantity": 8},
                {"line_id": "2", "item": "RTX 4090", "quantity": 2},
            ],
        },
        {
            "shipment_id": "S-2",
            "date": "2025-03-01",
            "destination": "DE",
            "lines": [{"line_id": "1", "item": "H100 SXM", "quantity": 4}],
        },
    ]
}


@pytest.fixture
def service(url: str) -> Iterator[Service]:
    found = Service(url)
    yield found
    found.client.close()
    found.workspace.close()


def _problem(response: httpx2.Response, status: int) -> dict[str, Any]:
    """The problem details document of an error response, checked for its form."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


# Each route, with what it needs at the least.
ROUTES = [
    ("GET", "/v1/tiers", {"params": {"as_of": "2025-03-01"}}, Role.VIEWER),
    ("GET", "/v1/rules", {"params": {"as_of": "2025-03-01"}}, Role.VIEWER),
    ("POST", "/v1/classify", {"json": {"item": "H200"}}, Role.VIEWER),
    ("POST", "/v1/check", {"json": BOOK}, Role.ANALYST),
    ("POST", "/v1/screen", {"json": {"name": "Acme Compute", "country": "DE"}}, Role.ANALYST),
    ("POST", "/v1/check", {"json": BOOK, "params": {"commit": "true"}}, Role.OFFICER),
    ("POST", "/v1/check/file", {"params": {"format": "json"}, "json": BOOK}, Role.ANALYST),
    ("POST", "/v1/jobs", {"params": {"format": "json"}, "json": BOOK}, Role.ANALYST),
    ("GET", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA", {}, Role.ANALYST),
    ("GET", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/answer", {}, Role.ANALYST),
    (
        "POST",
        "/v1/diff",
        {"params": {"from": "2025-05-14:written", "to": "2025-05-15:written"}, "json": BOOK},
        Role.ANALYST,
    ),
    ("GET", "/v1/holds", {"params": {"status": "open"}}, Role.VIEWER),
    ("POST", "/v1/holds/1/release", {"json": {"reason": "verified"}}, Role.OFFICER),
    ("POST", "/v1/holds/1/reject", {"json": {"reason": "red flags"}}, Role.OFFICER),
    ("GET", "/v1/licences", {}, Role.VIEWER),
    ("GET", "/v1/suppressions", {}, Role.VIEWER),
    ("GET", "/v1/licences/L-1", {}, Role.VIEWER),
    ("POST", "/v1/licences/L-1/revoke", {"json": {"reason": "expired"}}, Role.OFFICER),
    ("GET", "/v1/allowances", {"params": {"year": 2025}}, Role.VIEWER),
    (
        "POST",
        "/v1/cancellations",
        {"json": {"shipment_id": "S-9", "reason": "order withdrawn"}},
        Role.OFFICER,
    ),
    ("GET", "/v1/audit", {}, Role.VIEWER),
    ("GET", "/v1/audit/verify", {}, Role.VIEWER),
    ("GET", "/v1/keys", {}, Role.ADMIN),
    ("POST", "/v1/keys", {"json": {"name": "new", "role": "viewer"}}, Role.ADMIN),
    ("POST", "/v1/keys/nobody/revoke", {}, Role.ADMIN),
]


def _ended(service: Service, state_url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The job at `state_url` once it has ended (or a minute went by)."""
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = service.client.get(state_url, headers=headers).json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.mark.parametrize(("method", "path", "given", "needed"), ROUTES)
def test_each_route_answers_the_roles_that_may_use_it_and_refuses_the_others(
    service: Service, method: str, path: str, given: dict[str, Any], needed: Role
) -> None:
    for role in Role:
        response = service.client.request(method, path, headers=service.headers(role), **given)
        if role.allows(needed):
            # Allowed: answered, or refused for what the request names (no hold 1 here).
            assert response.status_code in (200, 201, 202, 404, 409), (role, response.text)
            if response.status_code >= 400:
                _problem(response, response.status_code)
            if response.status_code == 202:  # a job: it ends before the ledger is closed
                _ended(service, response.json()["state_url"], service.headers(role))
        else:
            body = _problem(response, 403)
            assert f"`{role.value}`" in body["detail"]
            assert f"`{needed.value}`" in body["detail"]


@pytest.mark.parametrize(("method", "path", "given", "needed"), ROUTES)
def test_each_route_but_status_needs_a_key_that_is_known_and_not_revoked(
    service: Service, method: str, path: str, given: dict[str, Any], needed: Role
) -> None:
    refused = [
        {},
        {"Authorization": "Bearer tg_not-a-key"},
        {"Authorization": f"Basic {service.keys[Role.ADMIN]}"},
    ]
    for headers in refused:
        response = service.client.request(method, path, headers=headers, **given)
        _problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    revoke_key(service.workspace, f"{needed.value}-key", "test")
    response = service.client.request(method, path, headers=service.headers(needed), **given)
    assert "revoked" in _problem(response, 401)["detail"]


def test_status_needs_no_key_and_says_what_the_service_runs_with(service: Service) -> None:
    response = service.client.get("/v1/status")
    assert response.status_code == 200
    status = response.json()
    rulebook = service.workspace.engine().rulebook.version
    assert status["rulebook_version"] == rulebook
    assert status["database"] == {"reachable": True, "revision": HEAD}
    assert status["lists"]["edition_date"]
    assert status["lists"]["age_days"] >= 0


def test_a_check_over_http_is_the_check_of_the_cli(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    shown = run_tiergate("check", str(path), "--format", "json", "--db", service.url)
    assert shown.returncode == 3, shown.stderr  # the H200 line to China may not ship as is
    response = service.client.post(
        "/v1/check", headers=service.headers(Role.ANALYST), content=path.read_bytes()
    )
    assert response.status_code == 200
    by_cli, by_http = json.loads(shown.stdout), response.json()
    assert by_http["lines"] == by_cli["lines"]
    assert by_http["summary"] == by_cli["summary"]
    assert by_http["lines"][0]["outcome"] == "LICENSE_REQUIRED"


def test_what_a_key_does_is_audited_under_its_name(service: Service) -> None:
    response = service.client.post(
        "/v1/check",
        headers=service.headers(Role.OFFICER),
        params={"commit": "true"},
        json=BOOK,
    )
    assert response.status_code == 200
    entries = Ledger(service.url).audit_entries()
    actions = [(entry["actor"], entry["action"]) for entry in entries]
    assert ("test", "key.create") in actions
    assert actions[-1] == ("officer-key", "commit")


def test_keys_are_kept_as_their_hash_only(service: Service) -> None:
    engine = sa.create_engine(Ledger(service.url).url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM api_keys")).mappings().all()
        audit = connection.execute(sa.text("SELECT * FROM audit_log")).mappings().all()
    engine.dispose()
    stored = json.dumps([dict(row) for row in [*rows, *audit]], default=str)
    for role, key in service.keys.items():
        assert key.startswith("tg_")
        assert len(key) > 40
        assert key not in stored
        row = next(r for r in rows if r["name"] == f"{role.value}-key")
        assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
        assert row["role"] == role.value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "`shipments`"),
        (b'{"shipments": 3}', "`shipments`"),
    ],
)
def test_a_book_tiergate_cannot_read_is_a_4xx_that_says_why(
    service: Service, body: bytes, expected: str
) -> None:
    headers = service.headers(Role.ANALYST)
    response = service.client.post("/v1/check", headers=headers, content=body)
    assert expected in _problem(response, 422)["detail"]


@pytest.mark.parametrize(
    ("path", "params", "status", "expected"),
    [
        ("/v1/tiers", {"as_of": "yesterday"}, 422, "query.as_of"),
        ("/v1/tiers", {"view": "hoped"}, 422, "query.view"),
        ("/v1/tiers", {"as_of": "1990-01-01"}, 400, "before the rulebook's first date"),
        ("/v1/tiers", {"item": "9Z999"}, 400, "9Z999"),
        ("/v1/tiers", {"asof": "2025-03-01"}, 422, "unknown parameter `asof`"),
        ("/v1/tiers", {"as_of": "2025-02-30"}, 422, "`2025-02-30` is not a date"),
        ("/v1/audit", {"since": "0"}, 422, "query.since"),
        ("/v1/tiers", {"as_of": ["2025-03-01", "2026-03-01"]}, 422, "`as_of` (2 times)"),
    ],
)
def test_a_bad_query_is_a_4xx_that_names_it(
    service: Service, path: str, params: dict[str, str | list[str]], status: int, expected: str
) -> None:
    response = service.client.get(path, headers=service.headers(Role.VIEWER), params=params)
    assert expected in _problem(response, status)["detail"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(url: str) -> None:
    found = Service(url)
    small = TestClient(create_app(found.workspace, max_body=1_000))
    headers = found.headers(Role.ANALYST)
    body = json.dumps(BOOK).encode()
    assert len(body) < 1_000
    assert small.post("/v1/check", headers=headers, content=body).status_code == 200
    big = {"shipments": BOOK["shipments"] * 10}
    response = small.post("/v1/check", headers=headers, json=big)
    assert "at most 1,000" in _problem(response, 413)["detail"]
    # A form (a page's upload, a diff with an overlay) is refused past the limit as it comes.
    files = {"book": ("big.csv", b"item,destination\n" + b"H100,DE\n" * 20_000, "text/csv")}
    params = {"from": "2025-05-14", "to": "2025-05-16"}
    response = small.post("/v1/diff", headers=headers, params=params, files=files)
    _problem(response, 413)
    chunks = iter([b"{" + b" " * 40_000, b" " * 40_000 + b"}"])  # no length: counted as it comes
    form = {**headers, "Content-Type": "multipart/form-data; boundary=x"}
    response = small.post("/v1/diff", headers=form, params=params, content=chunks)
    assert "at most" in _problem(response, 413)["detail"]
    found.workspace.close()


def test_the_committed_openapi_document_is_the_services() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == document(), (
        "docs/openapi.json differs from the service's: "
        "python -m tiergate.service.openapi > docs/openapi.json"
    )
    paths = json.loads(committed)["paths"]
    assert {"/v1/status", "/v1/check", "/v1/classify", "/v1/tiers", "/v1/rules"} <= set(paths)


def test_keys_are_made_listed_and_revoked_from_the_cli(url: str) -> None:
    Ledger(url).upgrade()
    made = run_tiergate("keys", "create", "--name", "erp", "--role", "analyst", "--db", url)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("tg_")
    assert "shown this once" in made.stderr
    again = run_tiergate("keys", "create", "--name", "erp", "--db", url)
    assert again.returncode == 2
    assert "exists already" in again.stderr
    bad = run_tiergate("keys", "create", "--name", "x", "--role", "boss", "--db", url)
    assert bad.returncode == 2
    assert "viewer, analyst, officer, admin" in bad.stderr
    listed = run_tiergate("keys", "list", "--format", "json", "--db", url)
    assert [(k["name"], k["role"], k["revoked_at"]) for k in json.loads(listed.stdout)] == [
        ("erp", "analyst", None)
    ]
    assert key not in listed.stdout
    assert run_tiergate("keys", "revoke", "erp", "--db", url).returncode == 0
    listed = run_tiergate("keys", "list", "--format", "json", "--db", url)
    assert json.loads(listed.stdout)[0]["revoked_at"]
    assert run_tiergate("keys", "revoke", "erp", "--db", url).returncode == 2


def test_tiergate_serve_answers_over_http(url: str, tmp_path: Path) -> None:
    Ledger(url).upgrade()
    workspace = Workspace(Settings.load(db=url))
    key = create_key(workspace, "erp", "viewer", "test")
    workspace.close()
    with serving(url, tmp_path) as base:
        status = httpx2.get(f"{base}/v1/status")
        assert status.json()["database"]["reachable"] is True
        headers = {"Authorization": f"Bearer {key}"}
        tiers = httpx2.get(f"{base}/v1/tiers", headers=headers, params={"as_of": "2025-03-01"})
        assert tiers.status_code == 200
        assert any(c["country"] == "CN" for c in tiers.json()["countries"])
        assert httpx2.get(f"{base}/v1/tiers").status_code == 401


def test_serve_refuses_to_start_without_a_ledger(tmp_path: Path) -> None:
    shown = run_tiergate("serve", "--db", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert shown.returncode == 2
    assert "tiergate db upgrade" in shown.stderr


def test_an_officer_decides_holds_that_a_viewer_may_only_read(service: Service) -> None:
    held = {
        "shipments": [
            {
                "shipment_id": "H1",
                "date": "2025-06-01",
                "destination": "China",
                "lines": [
                    {"line_id": "1", "item": "H20", "quantity": 100},
                    {"line_id": "2", "item": "H20", "quantity": 100},
                ],
            }
        ]
    }
    client = service.client
    checked = client.post(
        "/v1/check", headers=service.headers(Role.ANALYST), params={"screen": "false"}, json=held
    )
    assert [line["outcome"] for line in checked.json()["lines"]] == ["HOLD", "HOLD"]
    viewer, officer = service.headers(Role.VIEWER), service.headers(Role.OFFICER)
    listed = client.get("/v1/holds", headers=viewer, params={"status": "open"}).json()["holds"]
    assert [(h["shipment_id"], h["line_id"]) for h in listed] == [("H1", "1"), ("H1", "2")]
    first, second = (hold["id"] for hold in listed)
    decision = {"reason": "end user verified on site"}
    path = f"/v1/holds/{first}/release"
    _problem(client.post(path, headers=viewer, json=decision), 403)
    released = client.post(path, headers=officer, json=decision)
    assert released.json() == {"id": first, "status": "released", "decided_by": "officer-key"}
    assert (
        "already released"
        in _problem(client.post(path, headers=officer, json=decision), 409)["detail"]
    )
    _problem(client.post(path, headers=officer, json={"reason": ""}), 422)
    rejected = client.post(f"/v1/holds/{second}/reject", headers=officer, json=decision)
    assert rejected.json()["status"] == "rejected"
    gone = client.post("/v1/holds/999999/release", headers=officer, json=decision)
    assert "not recorded" in _problem(gone, 404)["detail"]
    decided = client.get("/v1/holds", headers=viewer).json()["holds"]
    assert [(h["status"], h["decided_by"]) for h in decided] == [
        ("released", "officer-key"),
        ("rejected", "officer-key"),
    ]
    again = client.post(
        "/v1/check", headers=service.headers(Role.ANALYST), params={"screen": "false"}, json=held
    )
    assert [line["outcome"] for line in again.json()["lines"]] == ["NLR", "PROHIBITED"]
    verified = client.get("/v1/audit/verify", headers=viewer).json()
    assert verified["ok"] is True
    assert verified["problems"] == []


def test_an_admin_makes_and_revokes_keys_over_http(service: Service) -> None:
    admin = service.headers(Role.ADMIN)
    made = service.client.post("/v1/keys", headers=admin, json={"name": "erp", "role": "analyst"})
    assert made.status_code == 201
    key = made.json()["key"]
    mine = {"Authorization": f"Bearer {key}"}
    assert service.client.post("/v1/screen", headers=mine, json={"name": "Acme"}).status_code == 200
    listed = service.client.get("/v1/keys", headers=admin)
    assert key not in listed.text
    assert ("erp", "analyst") in [(k["name"], k["role"]) for k in listed.json()["keys"]]
    taken = service.client.post("/v1/keys", headers=admin, json={"name": "erp", "role": "viewer"})
    assert "exists already" in _problem(taken, 409)["detail"]
    odd = service.client.post("/v1/keys", headers=admin, json={"name": "x", "role": "boss"})
    assert "body.role" in _problem(odd, 422)["detail"]
    assert service.client.post("/v1/keys/erp/revoke", headers=admin).status_code == 200
    _problem(service.client.post("/v1/screen", headers=mine, json={"name": "Acme"}), 401)
    _problem(service.client.post("/v1/keys/erp/revoke", headers=admin), 404)


def test_each_key_is_held_to_its_rate_and_told_when_to_try_again(url: str) -> None:
    found = Service(url)
    now = [1000.0]
    limits = RateLimits(rate=2, burst=3, clock=lambda: now[0])
    client = TestClient(create_app(found.workspace, limits=limits))
    viewer, other = found.headers(Role.VIEWER), found.headers(Role.ANALYST)
    answered = [client.get("/v1/licences", headers=viewer).status_code for _ in range(4)]
    assert answered == [200, 200, 200, 429]
    refused = client.get("/v1/licences", headers=viewer)
    body = _problem(refused, 429)
    assert "`viewer-key`" in body["detail"]
    assert refused.headers["retry-after"] == "1"
    assert client.get("/v1/licences", headers=other).status_code == 200  # its own bucket
    assert client.get("/v1/status").status_code == 200  # no key, no limit
    now[0] += 0.5  # one token back
    assert client.get("/v1/licences", headers=viewer).status_code == 200
    assert client.get("/v1/licences", headers=viewer).status_code == 429
    client.close()
    found.workspace.close()


def test_a_book_uploaded_as_a_file_is_answered_as_the_clis_json_lines(
    service: Service, tmp_path: Path
) -> None:
    import polars as pl

    book = ROOT / "examples" / "mixed_book.csv"
    shown = run_tiergate("check", str(book), "--format", "jsonl", "--db", service.url)
    assert shown.returncode == 3, shown.stderr
    analyst = service.headers(Role.ANALYST)
    uploaded = service.client.post(
        "/v1/check/file", headers=analyst, params={"format": "csv"}, content=book.read_bytes()
    )
    assert uploaded.status_code == 200
    assert uploaded.headers["content-type"] == "application/x-ndjson"
    assert uploaded.text == shown.stdout
    assert len(uploaded.text.splitlines()) == len(book.read_text().splitlines()) - 1
    parquet = tmp_path / "book.parquet"
    pl.read_csv(book, infer_schema=False).write_parquet(parquet)
    as_table = service.client.post(
        "/v1/check/file",
        headers=analyst,
        params={"format": "parquet"},
        content=parquet.read_bytes(),
    )
    assert as_table.text == shown.stdout
    wrong = service.client.post(
        "/v1/check/file", headers=analyst, params={"format": "parquet"}, content=b"a,b\n1,2\n"
    )
    assert "upload.parquet" in _problem(wrong, 422)["detail"]
    _problem(service.client.post("/v1/check/file", headers=analyst, content=b"x"), 422)


def test_a_long_upload_takes_the_columnar_path_and_answers_as_the_cli(
    service: Service, tmp_path: Path
) -> None:
    from tiergate.workflow import LONG_BOOK

    rows = ["shipment_id,line_id,date,item,quantity,destination,consignee"]
    places = ["Germany", "Mexico", "China", "India", "Singapore"]
    items = ["H100 SXM", "H20", "RTX 4090", "A100 SXM 80GB"]
    for i in range(LONG_BOOK + 500):
        day = f"2025-0{1 + i % 9}-1{i % 10}"
        rows.append(
            f"B{i // 3},{i % 3},{day},{items[i % 4]},{1 + i % 50},{places[i % 5]},Firm {i % 7}"
        )
    book = tmp_path / "long.csv"
    book.write_text("\n".join(rows) + "\n", encoding="utf-8")
    workspace = Workspace(Settings.load(db=service.url))
    try:
        assert workspace.takes_columns(book)
    finally:
        workspace.close()
    args = ("--as-of", "2025-06-01", "--view", "written", "--no-reserve")
    shown = run_tiergate("check", str(book), "--format", "jsonl", "--db", service.url, *args)
    analyst = service.headers(Role.ANALYST)
    params = {"format": "csv", "as_of": "2025-06-01", "view": "written", "reserve": "false"}
    uploaded = service.client.post(
        "/v1/check/file", headers=analyst, params=params, content=book.read_bytes()
    )
    assert uploaded.status_code == 200, uploaded.text
    assert len(uploaded.text.splitlines()) == len(rows) - 1
    assert uploaded.text == shown.stdout
    audit = service.client.get("/v1/audit", headers=service.headers(Role.VIEWER)).json()["audit"]
    checks = [e for e in audit if e["action"] == "check"]
    assert checks[-1]["payload"]["source"] == "upload.csv"
    assert checks[-1]["input_hash"] == hashlib.sha256(book.read_bytes()).hexdigest()
    uploads = service.workspace.settings.home / "uploads"  # the upload's copy is gone
    assert uploads.is_dir()
    assert not any(uploads.iterdir())


def test_a_job_checks_a_book_in_the_background_and_gives_the_same_answer(
    url: str, tmp_path: Path
) -> None:
    Ledger(url).upgrade()
    workspace = Workspace(Settings.load(db=url))
    keys = {name: create_key(workspace, name, "analyst", "test") for name in ("erp", "other")}
    workspace.close()
    book = (ROOT / "examples" / "mixed_book.csv").read_bytes()
    with serving(url, tmp_path) as base:
        erp = {"Authorization": f"Bearer {keys['erp']}"}

        def finished(started: httpx2.Response) -> dict[str, Any]:
            assert started.status_code == 202, started.text
            job: dict[str, Any] = started.json()
            assert started.headers["location"] == job["state_url"]
            deadline = time.monotonic() + 120
            while job["state"] in ("queued", "running"):  # until it ends, or two minutes
                assert time.monotonic() < deadline, job
                time.sleep(0.05)
                job = httpx2.get(f"{base}{job['state_url']}", headers=erp).json()
            return job

        params = {"format": "csv", "reserve": "false"}
        job = finished(httpx2.post(f"{base}/v1/jobs", headers=erp, params=params, content=book))
        assert job["state"] == "done"
        lines = len(book.decode().splitlines()) - 1
        assert (job["done"], job["total"], job["summary"]["lines_in"]) == (lines, lines, lines)
        assert job["input_hash"] == hashlib.sha256(book).hexdigest()
        answer = httpx2.get(f"{base}{job['answer_url']}", headers=erp)
        direct = httpx2.post(f"{base}/v1/check/file", headers=erp, params=params, content=book)
        assert answer.text == direct.text
        assert len(answer.text.splitlines()) == lines
        other = {"Authorization": f"Bearer {keys['other']}"}
        assert httpx2.get(f"{base}{job['state_url']}", headers=other).status_code == 404
        bad = {"format": "parquet"}
        refused = httpx2.post(f"{base}/v1/jobs", headers=erp, params=bad, content=book)
        assert refused.status_code == 422  # not a Parquet file at all: refused at once
        assert "is not a Parquet file" in refused.json()["detail"]
        broken = b"PAR1" + book[:200] + b"PAR1"  # looks like one, but is not readable
        failed = finished(httpx2.post(f"{base}/v1/jobs", headers=erp, params=bad, content=broken))
        assert (failed["state"], failed["error_status"]) == ("failed", 422)
        assert "upload.parquet" in failed["error"]
        refused = httpx2.get(f"{base}{failed['answer_url']}", headers=erp)
        assert refused.status_code == 409
        assert "failed" in refused.json()["detail"]


def test_a_diff_over_http_is_the_diff_of_the_cli(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    sides = ("2025-05-14:written", "2025-05-15:written")
    shown = run_tiergate("diff", str(path), "--from", sides[0], "--to", sides[1], "-f", "json")
    assert shown.returncode == 0, shown.stderr
    analyst = service.headers(Role.ANALYST)
    answered = service.client.post(
        "/v1/diff",
        headers=analyst,
        params={"from": sides[0], "to": sides[1]},
        content=path.read_bytes(),
    )
    assert answered.status_code == 200
    by_cli, by_http = json.loads(shown.stdout), answered.json()
    assert by_http["lines"] == by_cli["lines"]
    assert by_http["summary"] == by_cli["summary"]
    assert by_http["lines"]  # the AI Diffusion rule's compliance date changes a line
    bad = service.client.post(
        "/v1/diff", headers=analyst, params={"from": "soon", "to": sides[1]}, json=BOOK
    )
    assert "`from` value `soon` is not a date" in _problem(bad, 400)["detail"]


def test_an_officer_records_licences_and_suppressions_over_http(service: Service) -> None:
    officer, viewer = service.headers(Role.OFFICER), service.headers(Role.VIEWER)
    licence = {
        "number": "D123",
        "holder": "Example Inc",
        "items": ["3A090"],
        "destinations": ["CN"],
        "quantity": 100,
        "valid_from": "2025-01-01",
        "valid_to": "2028-12-31",
    }
    _problem(service.client.post("/v1/licences", headers=viewer, json=licence), 403)
    added = service.client.post("/v1/licences", headers=officer, json=licence)
    assert added.status_code == 201, added.text
    assert added.json()["number"] == "D123"
    shown = service.client.get("/v1/licences/D123", headers=viewer).json()
    assert (shown["authorized_quantity"], shown["remaining_quantity"]) == (100, 100)
    twice = service.client.post("/v1/licences", headers=officer, json=licence)
    assert "already recorded" in _problem(twice, 409)["detail"]
    backwards = {**licence, "number": "D124", "valid_to": "2024-12-31"}
    _problem(service.client.post("/v1/licences", headers=officer, json=backwards), 400)
    impossible = {**licence, "number": "D125", "valid_to": "2025-02-30"}
    bad = service.client.post("/v1/licences", headers=officer, json=impossible)
    assert "body.valid_to" in _problem(bad, 422)["detail"]
    revoked = service.client.post(
        "/v1/licences/D123/revoke", headers=officer, json={"reason": "superseded"}
    )
    assert revoked.json()["status"] == "revoked"
    listed = service.client.get("/v1/suppressions", headers=viewer).json()["suppressions"]
    assert listed == []
    unknown = {"name": "Acme Compute", "entry": "no-such-entry", "reason": "another firm"}
    refused = service.client.post("/v1/suppressions", headers=officer, json=unknown)
    assert "`no-such-entry` is not in the list edition" in _problem(refused, 422)["detail"]
    party = {"name": "Huawei Technologies", "country": "CN"}
    screened = service.client.post("/v1/screen", headers=service.headers(Role.ANALYST), json=party)
    entry = screened.json()["results"][0]["hits"][0]["entry_id"]
    reviewed = {**party, "entry": entry, "reason": "reviewed: a different firm"}
    _problem(service.client.post("/v1/suppressions", headers=viewer, json=reviewed), 403)
    recorded = service.client.post("/v1/suppressions", headers=officer, json=reviewed)
    assert recorded.status_code == 201, recorded.text
    listed = service.client.get("/v1/suppressions", headers=viewer).json()["suppressions"]
    assert [(s["entry_id"], s["by"], s["status"]) for s in listed] == [
        (entry, "officer-key", "active")
    ]
    actions = [e["action"] for e in service.client.get("/v1/audit", headers=viewer).json()["audit"]]
    assert [a for a in actions if a.startswith("licence")] == ["licence.add", "licence.revoke"]


def test_a_json_body_that_gives_a_key_twice_is_refused(service: Service) -> None:
    body = b'{"name": "Acme Compute", "name": "Huawei Technologies"}'
    headers = {**service.headers(Role.ANALYST), "Content-Type": "application/json"}
    refused = service.client.post("/v1/screen", headers=headers, content=body)
    assert "`name` gives that key twice" in _problem(refused, 422)["detail"]
    book = b'{"shipments": [], "shipments": [{"lines": []}]}'
    refused = service.client.post("/v1/check", headers=headers, content=book)
    assert "`shipments` gives that key twice" in _problem(refused, 422)["detail"]


def test_a_suppression_recorded_applies_to_the_services_next_check(service: Service) -> None:
    """The service keeps its engine and screener between requests; a suppression recorded
    meanwhile (here, or by another process) makes it build the screener again."""
    analyst, officer = service.headers(Role.ANALYST), service.headers(Role.OFFICER)
    party = {"name": "Huawei Technologies", "country": "CN"}
    book = {
        "shipments": [
            {
                "shipment_id": "S-9",
                "date": "2026-02-01",
                "destination": "DE",
                "parties": {"consignee": party},
                "lines": [{"line_id": "1", "item": "RTX 4090", "quantity": 1}],
            }
        ]
    }

    def hits() -> list[str]:
        answered = service.client.post("/v1/check", headers=analyst, json=book)
        assert answered.status_code == 200, answered.text
        (line,) = answered.json()["lines"]
        return [
            r["rule"].removeprefix("list.") for r in line["reasons"] if r["rule"][:5] == "list."
        ]

    before = hits()
    assert before
    screened = service.client.post("/v1/screen", headers=analyst, json=party).json()
    entries = [hit["entry_id"] for hit in screened["results"][0]["hits"]]
    assert sorted(entries) == sorted(before)
    for entry in entries[:-1]:
        reviewed = {**party, "entry": entry, "reason": "reviewed: a different firm"}
        assert service.client.post("/v1/suppressions", headers=officer, json=reviewed).is_success
    assert hits() == entries[-1:]
    other = Workspace(Settings.load(db=service.url))  # as another process records one
    try:
        reason = "reviewed: a different firm"
        screening.suppress(other, party["name"], "CN", entries[-1], "cli", reason)
    finally:
        other.close()
    assert hits() == []


def test_a_diff_over_http_applies_a_rulebook_overlay_as_the_cli_does(
    service: Service, tmp_path: Path
) -> None:
    book = ROOT / "examples" / "mixed_book.csv"
    overlay = ROOT / "examples" / "overlays" / "hypothetical-tier2-licence.yaml"
    sides = ("2027-01-01", "2027-01-01")  # the overlay's rule takes effect that day
    args = ("--from", sides[0], "--to", sides[1], "--rulebook-overlay", str(overlay))
    shown = run_tiergate("diff", str(book), *args, "-f", "json")
    assert shown.returncode == 0, shown.stderr
    analyst = service.headers(Role.ANALYST)
    params = {"from": sides[0], "to": sides[1]}
    files = {
        "book": ("mixed_book.csv", book.read_bytes(), "text/csv"),
        "overlay": ("hypothetical-tier2-licence.yaml", overlay.read_bytes(), "application/yaml"),
    }
    answered = service.client.post("/v1/diff", headers=analyst, params=params, files=files)
    assert answered.status_code == 200, answered.text
    by_cli, by_http = json.loads(shown.stdout), answered.json()
    assert by_http["lines"] == by_cli["lines"]
    assert by_http["lines"]  # the overlay changes some line
    assert by_http["summary"] == by_cli["summary"]
    assert by_http["overlay"]["sha256"] == by_cli["overlay"]["sha256"]
    bad = {**files, "overlay": ("o.yaml", b"rules: [oops", "application/yaml")}
    refused = service.client.post("/v1/diff", headers=analyst, params=params, files=bad)
    assert "o.yaml" in _problem(refused, 422)["detail"]
    alone = {"overlay": files["overlay"]}
    refused = service.client.post("/v1/diff", headers=analyst, params=params, files=alone)
    assert "no `book` part" in _problem(refused, 422)["detail"]


def test_an_error_names_options_as_each_door_does(service: Service, tmp_path: Path) -> None:
    viewer, officer = service.headers(Role.VIEWER), service.headers(Role.OFFICER)
    answered = service.client.get("/v1/allowances", headers=viewer, params={"country": "Atlantis"})
    detail = _problem(answered, 400)["detail"]
    assert detail == "`country` `Atlantis` is not a country tiergate knows"
    shown = run_tiergate("allowances", "--country", "Atlantis", "--db", service.url)
    assert "--country `Atlantis` is not a country tiergate knows" in shown.stderr
    backwards = {
        "number": "D9",
        "holder": "Example Inc",
        "items": ["3A090"],
        "destinations": ["CN"],
        "quantity": 1,
        "valid_from": "2026-01-01",
        "valid_to": "2025-01-01",
    }
    refused = service.client.post("/v1/licences", headers=officer, json=backwards)
    assert _problem(refused, 400)["detail"] == (
        "`valid_to` 2025-01-01 is before `valid_from` 2026-01-01"
    )
