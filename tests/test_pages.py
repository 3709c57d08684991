"""The web pages: sign-in and sessions (cookie flags, the ledger keeping only hashes, forms
refused without their token, a revoked key's session ended), the holds queue by role, and
the same driven in a real browser (Debian's Chromium, through Playwright) against a served
process. Screenshots of the browser tests are written to `artefacts/browser/`."""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from conftest import ROOT, Service, chromium, serving
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.testclient import TestClient

from tiergate.keys import Role
from tiergate.rulebook import default_rulebook
from tiergate.service.app import create_app
from tiergate.service.pages import SESSION_COOKIE
from tiergate.workflow.service import revoke_key

HELD = {
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
ARTEFACTS = ROOT / "artefacts" / "browser"


class Site(Service):
    """The service with a key of each role, two lines held, and a client that says it is on
    HTTPS (Secure cookies go back only over HTTPS)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, base_url="https://testserver")
        checked = self.client.post(
            "/v1/check", headers=self.headers(Role.ANALYST), params={"screen": "false"}, json=HELD
        )
        assert [line["outcome"] for line in checked.json()["lines"]] == ["HOLD", "HOLD"]

    def sign_in(self, role: Role) -> str:
        """Sign the client in with `role`'s key; the holds page's form token."""
        self.client.cookies.clear()
        form = self.client.get("/sign-in")
        token = _form_token(form.text)
        signed = self.client.post(
            "/sign-in", data={"key": self.keys[role], "form_token": token}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/holds"
        return _form_token(self.client.get("/holds").text)

    def hold_statuses(self) -> list[str]:
        return [
            h["status"] for h in self.client.get("/v1/holds", headers=self.bearer()).json()["holds"]
        ]

    def bearer(self) -> dict[str, str]:
        return self.headers(Role.VIEWER)


def _form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]*)"', page)
    assert found is not None, page
    return found.group(1)


@pytest.fixture
def site(url: str) -> Iterator[Site]:
    found = Site(url)
    yield found
    found.client.close()
    found.workspace.close()


def test_a_page_needs_a_session_and_a_session_needs_a_key(site: Site) -> None:
    away = site.client.get("/holds", follow_redirects=False)
    assert (away.status_code, away.headers["location"]) == (303, "/sign-in")
    form = site.client.get("/sign-in")
    assert form.status_code == 200
    assert "default-src 'self'" in form.headers["content-security-policy"]
    token = _form_token(form.text)
    wrong = site.client.post("/sign-in", data={"key": "tg_not-a-key", "form_token": token})
    assert wrong.status_code == 401
    assert "not an API key of this service" in wrong.text
    site.client.cookies.clear()  # the sign-in form's own cookie gone: a form from elsewhere
    forged = site.client.post("/sign-in", data={"key": site.keys[Role.VIEWER], "form_token": token})
    assert forged.status_code == 403
    assert SESSION_COOKIE not in site.client.cookies


def test_a_session_cookie_is_secure_and_the_ledger_keeps_only_its_hash(site: Site) -> None:
    form = site.client.get("/sign-in")
    signed = site.client.post(
        "/sign-in",
        data={"key": site.keys[Role.OFFICER], "form_token": _form_token(form.text)},
        follow_redirects=False,
    )
    cookie = next(
        value
        for name, value in signed.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE)
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags
    token = site.client.cookies[SESSION_COOKIE]
    engine = sa.create_engine(site.url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT token_hash, key_name FROM web_sessions")).all()
        stored = " ".join(
            str(v) for row in connection.execute(sa.text("SELECT * FROM web_sessions")) for v in row
        )
        actions = connection.execute(sa.text("SELECT actor, action FROM audit_log")).all()
    engine.dispose()
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), "officer-key")]
    assert token not in stored
    assert ("officer-key", "session.open") in [tuple(a) for a in actions]


def test_an_officer_decides_a_hold_on_the_page_and_a_viewer_may_not(site: Site) -> None:
    form_token = site.sign_in(Role.VIEWER)
    page = site.client.get("/holds").text
    assert "H1 / 1" in page
    assert "Release" not in page
    refused = site.client.post("/holds/1/release", data={"form_token": form_token, "reason": "ok"})
    assert refused.status_code == 403
    assert "only officers release or reject holds" in refused.text
    form_token = site.sign_in(Role.OFFICER)
    forged = site.client.post("/holds/1/release", data={"form_token": "x" * 43, "reason": "ok"})
    assert forged.status_code == 403
    assert "not sent from this site's page" in html.unescape(forged.text)
    assert site.hold_statuses() == ["open", "open"]
    unsaid = site.client.post("/holds/1/release", data={"form_token": form_token, "reason": " "})
    assert unsaid.status_code == 400
    released = site.client.post(
        "/holds/1/release", data={"form_token": form_token, "reason": "end user verified"}
    )
    assert released.status_code == 200  # the queue again, after the redirect
    rejected = site.client.post(
        "/holds/2/reject", data={"form_token": form_token, "reason": "diversion red flags"}
    )
    assert rejected.status_code == 200
    assert site.hold_statuses() == ["released", "rejected"]
    again = site.client.post("/holds/1/reject", data={"form_token": form_token, "reason": "no"})
    assert again.status_code == 409
    assert "already released" in again.text


def test_revoking_a_key_or_signing_out_ends_its_sessions(site: Site) -> None:
    form_token = site.sign_in(Role.OFFICER)
    assert site.client.get("/holds").status_code == 200
    out = site.client.post("/sign-out", data={"form_token": form_token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    away = site.client.get("/holds", follow_redirects=False)
    assert away.status_code == 303
    site.sign_in(Role.OFFICER)
    revoke_key(site.workspace, "officer-key", "test")
    away = site.client.get("/holds", follow_redirects=False)
    assert (away.status_code, away.headers["location"]) == (303, "/sign-in")


@pytest.fixture
def browser() -> Iterator[Browser]:
    found = chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests: `.ci/run` installs it")
        pytest.skip("the browser tests need Chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=found)
        yield launched
        launched.close()


def test_in_a_browser_an_officer_releases_a_hold_and_a_viewer_cannot(
    url: str, tmp_path: Path, browser: Browser
) -> None:
    site = Site(url)
    site.client.close()
    site.workspace.close()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    backend = url.split(":", 1)[0]
    with serving(url, tmp_path) as base:
        viewer = browser.new_page()
        viewer.goto(f"{base}/holds")
        expect(viewer).to_have_url(f"{base}/sign-in")
        viewer.fill("#key", site.keys[Role.VIEWER])
        viewer.click("button[type=submit]")
        expect(viewer.get_by_test_id("signed-in-as")).to_have_text("viewer-key · viewer")
        expect(viewer.locator("tr[data-hold]")).to_have_count(2)
        expect(viewer.get_by_role("button", name="Release")).to_have_count(0)
        viewer.screenshot(path=ARTEFACTS / f"holds-viewer-{backend}.png", full_page=True)
        # The page offers the viewer no button; a form sent anyway is refused.
        status = viewer.evaluate(
            """async () => {
                const form = new FormData();
                form.set("form_token", document.querySelector("[name=form_token]").value);
                form.set("reason", "viewer tries");
                const answer = await fetch("/holds/1/release", {method: "POST", body: form});
                return answer.status;
            }"""
        )
        assert status == 403

        officer = browser.new_context().new_page()
        officer.goto(f"{base}/sign-in")
        officer.fill("#key", site.keys[Role.OFFICER])
        officer.click("button[type=submit]")
        first = officer.locator("tr[data-hold='1']")
        expect(first).to_have_attribute("data-status", "open")
        first.get_by_role("textbox").fill("end user verified on site")
        first.get_by_role("button", name="Release").click()
        expect(officer.locator("tr[data-hold='1']")).to_have_attribute("data-status", "released")
        expect(first).to_contain_text("licence required for H20-class chips to China")
        expect(officer.locator("tr[data-hold='1']")).to_contain_text(
            "officer-key: end user verified on site"
        )
        officer.screenshot(path=ARTEFACTS / f"holds-officer-{backend}.png", full_page=True)
        viewer.reload()
        expect(viewer.locator("tr[data-hold='1']")).to_have_attribute("data-status", "released")


def _signed_in(browser: Browser, base: str, key: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{base}/sign-in")
    page.fill("#key", key)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/holds")
    return page


def test_in_a_browser_the_map_shows_a_tier_2_country_change_on_2025_05_15_as_written(
    url: str, tmp_path: Path, browser: Browser
) -> None:
    site = Site(url)
    site.client.close()
    site.workspace.close()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with serving(url, tmp_path) as base:
        page = _signed_in(browser, base, site.keys[Role.VIEWER])
        page.get_by_role("link", name="Tier map").click()
        shown = page.locator("#tier-map")
        mexico = page.locator("[data-country=MX]")
        expect(shown).to_have_attribute("data-shown", re.compile(r"/enforced/"))
        page.get_by_label("as written").check()
        for day, tier in (("2025-05-14", "unrestricted"), ("2025-05-16", "restricted")):
            page.fill("#map-date", day)
            page.dispatch_event("#map-date", "change")
            expect(shown).to_have_attribute("data-shown", f"{day}/written/3A090.a")
            expect(mexico).to_have_attribute("data-tier", tier)
        mexico.click()
        panel = page.locator("#map-country")
        expect(panel).to_contain_text("Mexico (MX)")
        expect(panel).to_contain_text("diffusion.tier2")
        expect(panel.locator("[data-fact='licence exception']")).to_have_text("LPP")
        page.screenshot(path=ARTEFACTS / f"map-written-{url.split(':', 1)[0]}.png", full_page=True)
        page.get_by_label("as enforced").check()  # the AI Diffusion rule was never enforced
        expect(shown).to_have_attribute("data-shown", "2025-05-16/enforced/3A090.a")
        expect(mexico).to_have_attribute("data-tier", "unrestricted")
        # Play steps through the dates on which a tier may change, from the first.
        changes = page.request.get(f"{base}/data/tiers?as_of=2025-05-16").json()["change_dates"]
        page.get_by_role("button", name="Play").click()
        for change in changes[:2]:
            expect(shown).to_have_attribute("data-shown", re.compile(f"^{change}/enforced/"))
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("button", name="Play")).to_be_visible()


def test_the_maps_data_needs_a_session_and_says_what_is_wrong(site: Site) -> None:
    signed_out = site.client.get("/data/tiers", params={"as_of": "2025-05-16"})
    assert signed_out.status_code == 401
    assert signed_out.headers["content-type"] == "application/problem+json"
    site.sign_in(Role.VIEWER)
    found = site.client.get("/data/tiers", params={"as_of": "2025-05-16", "view": "written"})
    assert found.status_code == 200
    body = found.json()
    mexico = next(row for row in body["countries"] if row["country"] == "MX")
    assert mexico["tier"] == "restricted"
    assert body["rules"]["diffusion.tier2"]["citation"].startswith("90 FR 4544")
    assert "2025-05-15" in body["change_dates"]
    first = default_rulebook().meta.earliest_date.isoformat()
    assert min(body["change_dates"]) == first  # none before the rulebook's first date
    early = site.client.get("/data/tiers", params={"as_of": "2019-01-01"})
    assert early.status_code == 400
    assert "2019-01-01" in early.json()["detail"]
    world = site.client.get("/static/world.json").json()
    assert {"MX", "CN", "SG", "MO"} <= set(world["shapes"]) | set(world["dots"])


EXAMPLE = ROOT / "examples" / "mixed_book.csv"
FORM = "application/x-www-form-urlencoded"


def test_an_analyst_checks_a_line_given_in_the_form_and_a_viewer_may_not(site: Site) -> None:
    line = {
        "item": "H100 SXM",
        "quantity": "8",
        "destination": "Germany",
        "ship_date": "2026-02-01",
    }
    form_token = site.sign_in(Role.VIEWER)
    refused = site.client.post("/check", data={"form_token": form_token, **line})
    assert refused.status_code == 403
    assert "analysts and officers check shipments" in html.unescape(refused.text)
    form_token = site.sign_in(Role.ANALYST)
    unsaid = site.client.post("/check", data={"form_token": form_token, "item": "H100 SXM"})
    assert unsaid.status_code == 400
    assert "give the line's quantity, destination" in html.unescape(unsaid.text)
    shown = site.client.post("/check", data={"form_token": form_token, **line})
    assert shown.status_code == 200
    assert re.findall(r'<tbody class="line" data-outcome="([A-Z_]+)"', shown.text) == ["NLR"]
    audit = site.client.get("/v1/audit", headers=site.bearer()).json()["audit"]
    assert [e["actor"] for e in audit if e["action"] == "check"][-1] == "analyst-key"
    twice = [(name, value) for name, value in {"form_token": form_token, **line}.items()]
    twice.append(("quantity", "80"))  # a second quantity is refused, never the last one kept
    refused = site.client.post("/check", content=urlencode(twice), headers={"Content-Type": FORM})
    assert refused.status_code == 422
    assert "`quantity` more than once" in refused.json()["detail"]
    bad = site.client.post("/check", data={"form_token": form_token, **line, "quantity": "many"})
    assert re.findall(r'data-outcome="([A-Z_]+)"', bad.text)[:1] == ["INDETERMINATE"]


def test_the_check_page_gives_the_report_of_an_uploaded_book(site: Site) -> None:
    form_token = site.sign_in(Role.ANALYST)
    raw = EXAMPLE.read_bytes()
    made = site.client.post(
        "/check",
        data={"form_token": form_token, "want": "report", "as_of": "2025-06-01"},
        files={"book": ("mixed_book.csv", raw, "text/csv")},
    )
    assert made.status_code == 200
    assert made.headers["content-disposition"].startswith('attachment; filename="tiergate-report-')
    assert hashlib.sha256(raw).hexdigest() in made.text
    lines_in_file = sum(1 for row in raw.decode().splitlines()[1:] if row.strip())
    assert len(re.findall(r'<tr data-outcome="', made.text)) == lines_in_file


def test_in_a_browser_an_analyst_uploads_the_example_book_filters_and_downloads_the_report(
    url: str, tmp_path: Path, browser: Browser
) -> None:
    site = Site(url)
    site.client.close()
    site.workspace.close()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    lines_in_file = sum(1 for row in EXAMPLE.read_text().splitlines()[1:] if row.strip())
    with serving(url, tmp_path) as base:
        page = _signed_in(browser, base, site.keys[Role.ANALYST])
        page.get_by_role("link", name="Check").click()
        page.set_input_files("#book", EXAMPLE)
        page.fill("input[name=as_of]", "2025-06-01")
        page.get_by_role("button", name="Check", exact=True).click()
        # Checked in the background (a job), its progress shown, then its results.
        expect(page.locator("h1")).to_have_text("Results: mixed_book.csv", timeout=30_000)
        expect(page).to_have_url(re.compile(rf"^{base}/jobs/[A-Za-z0-9_-]{{22}}$"))
        expect(page.locator("[data-count=lines_in]")).to_have_text(str(lines_in_file))
        expect(page.locator("tbody.line")).to_have_count(lines_in_file)
        expect(page.locator(".charts figcaption")).to_have_text(
            ["Lines by tier, by outcome", "H100-equivalents by destination, by outcome"]
        )
        prohibited = int(page.locator("[data-count=PROHIBITED]").inner_text())
        assert prohibited > 0
        page.select_option("#filter-outcome", "PROHIBITED")
        expect(page.locator("tbody.line:visible")).to_have_count(prohibited)
        expect(page.locator("#filter-shown")).to_have_text(
            f"{prohibited} of {lines_in_file} lines shown"
        )
        first = page.locator("tbody.line:visible").first
        first.get_by_text("Reasons and citations").click()
        expect(first.locator("cite").first).to_be_visible()
        page.screenshot(path=ARTEFACTS / f"results-{url.split(':', 1)[0]}.png", full_page=True)
        with page.expect_download() as answering:
            page.get_by_role("link", name="Download the whole answer (JSON Lines)").click()
        answer = tmp_path / "answer.jsonl"
        answering.value.save_as(answer)
        assert len(answer.read_text(encoding="utf-8").splitlines()) == lines_in_file
        page.get_by_role("link", name="Check another").click()
        page.set_input_files("#book", EXAMPLE)
        with page.expect_download() as downloading:
            page.get_by_role("button", name="Check and download the report").click()
        saved = tmp_path / "report.html"
        downloading.value.save_as(saved)
        report = saved.read_text(encoding="utf-8")
        assert hashlib.sha256(EXAMPLE.read_bytes()).hexdigest() in report
        assert report.count('<tr data-outcome="') == lines_in_file


def test_the_licences_page_shows_used_reserved_and_remaining_as_bars(site: Site) -> None:
    officer = {"Authorization": f"Bearer {site.keys[Role.OFFICER]}"}
    licence = {
        "number": "D1234567",
        "holder": "Example Inc",
        "items": ["3A090"],
        "destinations": ["CN"],
        "quantity": 100,
        "valid_from": "2025-01-01",
        "valid_to": "2028-12-31",
    }
    assert site.client.post("/v1/licences", headers=officer, json=licence).status_code == 201

    def book(shipment: str, quantity: int) -> dict[str, Any]:
        line = {"line_id": "1", "item": "H100 SXM", "quantity": quantity}
        return {
            "shipments": [
                {
                    "shipment_id": shipment,
                    "date": "2025-03-01",
                    "destination": "China",
                    "lines": [line],
                }
            ]
        }

    committed = site.client.post(
        "/v1/check",
        headers=officer,
        params={"commit": "true", "screen": "false"},
        json=book("C1", 60),
    )
    assert committed.json()["lines"][0]["outcome"] == "LICENSED"
    reserved = site.client.post(
        "/v1/check", headers=officer, params={"screen": "false"}, json=book("C2", 25)
    )
    assert reserved.json()["lines"][0]["outcome"] == "LICENSED"
    site.sign_in(Role.VIEWER)
    page = site.client.get("/licences").text
    row = page[page.index('data-licence="D1234567"') :]
    assert "60 used · 25 reserved · 15 remaining of 100" in html.unescape(row)
    assert 'class="used" x="0" y="0" width="60.0"' in row
    assert 'class="reserved" x="60.0" y="0" width="25.0"' in row
    assert "No allowance has been drawn on." in page
    tier2 = {
        "shipments": [
            {
                "shipment_id": "M1",
                "date": "2025-06-01",
                "destination": "Mexico",
                "parties": {"consignee": {"name": "Monterrey AI", "country": "MX"}},
                "lines": [{"line_id": "1", "item": "H100 SXM", "quantity": 64}],
            }
        ]
    }
    drawn = site.client.post(
        "/v1/check",
        headers=officer,
        params={"commit": "true", "screen": "false", "view": "written"},
        json=tier2,
    )
    assert drawn.json()["lines"][0]["outcome"] == "EXCEPTION"
    (usage,) = site.client.get("/v1/allowances", headers=site.bearer()).json()["allowances"]
    page = html.unescape(site.client.get("/licences").text)
    assert f"{usage['used_h100_equivalents']:,.1f} H100-eq. used" in page
    width = round(100 * usage["used_tpp"] / usage["limit_tpp"], 2)
    assert f'class="used" x="0" y="0" width="{width}"' in page


def test_the_audit_page_lists_entries_and_verifies_the_chain(site: Site) -> None:
    site.sign_in(Role.VIEWER)
    listed = site.client.get("/audit")
    assert listed.status_code == 200
    actions = re.findall(r'<tr data-action="([a-z_.]+)">', listed.text)
    exported = site.client.get("/v1/audit", headers=site.bearer()).json()
    assert actions == [e["action"] for e in exported["audit"]][::-1]
    assert f'data-testid="entries">{exported["head"]["entries"]}<' in listed.text
    verified = site.client.get("/audit", params={"verify": "true"})
    assert "The chain holds" in verified.text
    engine = sa.create_engine(site.url)
    with engine.begin() as connection:  # tamper with the first entry
        connection.execute(sa.text("UPDATE audit_log SET actor = 'someone' WHERE id = 1"))
    engine.dispose()
    broken = site.client.get("/audit", params={"verify": "true"})
    assert "The chain is broken" in broken.text
    assert site.client.get("/audit", params={"verfy": "true"}).status_code == 422


def test_a_session_is_held_to_its_keys_rate_and_told_so_on_a_page(site: Site) -> None:
    from tiergate.service.access import RateLimits

    now = [0.0]
    limited = TestClient(
        create_app(site.workspace, limits=RateLimits(1.0, 2.0, clock=lambda: now[0])),
        base_url="https://testserver",
    )
    form = limited.get("/sign-in")
    signed = limited.post(
        "/sign-in",
        data={"key": site.keys[Role.VIEWER], "form_token": _form_token(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert [limited.get("/holds").status_code for _ in range(3)] == [200, 200, 429]
    refused = limited.get("/holds")
    assert "made too many requests" in html.unescape(refused.text)
    assert refused.headers["content-type"].startswith("text/html")
    now[0] += 1.0  # a second later, one more token
    assert limited.get("/holds").status_code == 200
    limited.close()
