"""The ledger on a real database: SQLite always, PostgreSQL when TIERGATE_TEST_DATABASE_URL is
set (CI sets it). The same tests run on both."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import replace
from datetime import date
from functools import partial

import pytest
import sqlalchemy as sa
from conftest import run_tiergate

from tiergate import Line, Outcome, Party, View
from tiergate.engine import Engine
from tiergate.ledger.canonical import canonical
from tiergate.ledger.ledger import GENESIS, HEAD, Ledger, LedgerError, entry_hash
from tiergate.ledger.models import AuditEntry
from tiergate.licences import LicenceBook
from tiergate.model import Report
from tiergate.rulebook import default_rulebook

H100 = 15_832
LPP_LIMIT = 26_900_000
LPP = next(a for a in default_rulebook().allowances.allowances if a.id == "lpp-consignee-year")


def _report(engine: Engine, ids: list[str], quantity: int, ledger: Ledger | None = None) -> Report:
    lines = _lines(ids, quantity)
    state = ledger.allowance_state(exclude={("S", i) for i in ids}) if ledger else None
    return engine.check(lines, as_of=date(2025, 6, 1), view=View.WRITTEN, allowances=state)


def _licence(quantity: int = 100, value: float | None = None) -> dict[str, object]:
    return {
        "number": "D1234567",
        "holder": "Example Inc",
        "items": ["3A090"],
        "destinations": ["CN"],
        "parties": [],
        "authorized_quantity": quantity,
        "authorized_value": value,
        "valid_from": "2025-01-01",
        "valid_to": "2028-12-31",
        "conditions": None,
    }


def _china_line(shipment: str, line_id: str, quantity: int, value: float | None = None) -> Line:
    return Line(
        shipment_id=shipment,
        line_id=line_id,
        item="H100 SXM",
        quantity=quantity,
        value=value,
        destination="China",
        consignee=Party(name="Beijing Lab", country="CN"),
    )


def _china(engine: Engine, ledger: Ledger, shipment: str, *lines: tuple[str, int]) -> Report:
    """A check of China lines against the ledger's licences, as `tiergate check` does it."""
    keys = {(shipment, line_id) for line_id, _ in lines}
    return engine.check(
        [_china_line(shipment, line_id, quantity) for line_id, quantity in lines],
        as_of=date(2025, 6, 1),
        licences=ledger.licence_book(exclude=keys),
    )


def _balance(ledger: Ledger) -> tuple[int, int, int]:
    (licence,) = ledger.licences()
    return (
        licence["reserved_quantity"],
        licence["used_quantity"],
        licence["remaining_quantity"],
    )


def _limits(engine: Engine) -> dict[str, float]:
    return engine.allowance_limits()


def test_an_unmigrated_database_says_to_migrate(url: str) -> None:
    ledger = Ledger(url)
    with pytest.raises(LedgerError, match="tiergate db upgrade"):
        ledger.allowance_state()
    assert ledger.upgrade() == (None, HEAD)
    assert ledger.revision() == HEAD
    assert ledger.upgrade() == (HEAD, HEAD)  # upgrading twice changes nothing


def test_migrating_from_the_previous_schema_keeps_the_data(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    assert ledger.upgrade(to="0001") == (None, "0001")
    with pytest.raises(LedgerError, match="at schema revision 0001"):
        ledger.licences()
    # A ledger at 0001 holds committed lines; write one the way 0001's code did.
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO allowance_usage (allowance_id, holder, period, used_tpp) "
                "VALUES ('lpp-consignee-year', 'acme|IN', '2025', 1583200)"
            )
        )
    assert ledger.upgrade() == ("0001", HEAD)
    assert ledger.allowance_state().used == {("lpp-consignee-year", "acme|IN", "2025"): 1583200.0}
    assert ledger.licences() == []
    report = _report(engine, ["x"], 10, ledger)
    assert ledger.commit(report, _limits(engine), "after migration").committed == ["S/x"]


def test_commit_is_idempotent_and_never_commits_what_may_not_ship(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    report = _report(engine, ["1", "2", "3"], 700, ledger)
    assert [line.exception for line in report.lines] == ["LPP", "LPP", None]  # 3 x 700 > 1,699
    first = ledger.commit(report, _limits(engine), "tester")
    assert first.committed == ["S/1", "S/2"]
    assert [key for key, _ in first.refused] == ["S/3"]
    again = ledger.commit(report, _limits(engine), "tester")
    assert again.committed == []
    assert again.already == ["S/1", "S/2"]
    used = ledger.allowance_state().used
    assert used == {("lpp-consignee-year", "acme|IN", "2025"): 2 * 700 * H100}
    # Re-checking the same book does not count its own committed lines twice.
    recheck = _report(engine, ["1", "2", "3"], 700, ledger)
    assert [line.exception for line in recheck.lines] == ["LPP", "LPP", None]
    # A new line sees what is left.
    after = _report(engine, ["4"], 299, ledger)
    assert after.lines[0].exception == "LPP"  # 1,400 + 299 <= 1,699
    assert _report(engine, ["5"], 300, ledger).lines[0].exception is None  # 1,700 > 1,699


def test_a_stale_check_cannot_overdraw_an_allowance(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    # Both reports were computed from the same empty ledger: each alone fits the allowance.
    first = _report(engine, ["a"], 1000)
    second = _report(engine, ["b"], 1000)
    assert ledger.commit(first, _limits(engine), "one").committed == ["S/a"]
    late = ledger.commit(second, _limits(engine), "two")
    assert late.committed == []
    assert "does not fit" in late.refused[0][1]
    assert sum(ledger.allowance_state().used.values()) == 1000 * H100
    # The loser's report says what the ledger recorded, not the stale EXCEPTION LPP.
    assert second.lines[0].exception == "LPP"
    assert late.report is not None
    (line,) = late.report.lines
    assert (line.outcome.value, line.exception, line.debits) == ("LICENSE_REQUIRED", None, ())
    assert line.reasons[-1].rule == "ledger.commit"
    assert "does not fit" in line.reasons[-1].message
    assert line.reasons[-1].citation == LPP.citation
    assert late.report.exit_code == 3
    assert late.report.summary.may_not_ship == 1
    assert late.report.summary.lines_in == second.summary.lines_in == 1
    # The audit entry keeps the recorded outcome.
    assert ledger.audit_entries()[-1]["payload"]["lines"][0][2] == "LICENSE_REQUIRED"


def _three_commits(url: str) -> tuple[Engine, Ledger]:
    """A new ledger with three commits of one line each (S/1, S/2, S/3), its trail intact."""
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    for ids in (["1"], ["2"], ["3"]):
        ledger.commit(_report(engine, ids, 10, ledger), _limits(engine), "tester")
    assert ledger.audit_verify() == []
    return engine, ledger


def test_a_payload_is_stored_as_its_canonical_text_and_read_in_any_json_form(url: str) -> None:
    """An entry's payload is stored as the canonical text its hash is taken over; one stored
    as `json.dumps` writes it (spaces, escaped non-ASCII: entries of earlier versions) reads
    and verifies the same, and a changed value is still found."""
    _, ledger = _three_commits(url)
    entry = ledger.audit_entries()[0]
    as_text = sa.text("SELECT CAST(payload AS TEXT) FROM audit_log WHERE id = :id")
    with ledger.engine.connect() as connection:
        stored = connection.execute(as_text, {"id": entry["id"]}).scalar_one()
    assert stored == canonical(entry["payload"])
    update = sa.text("UPDATE audit_log SET payload = :payload WHERE id = :id")
    for payload, problems in (
        (entry["payload"], 0),
        ({**entry["payload"], "source": "é elsewhere"}, 1),
    ):
        with ledger.engine.begin() as connection:
            connection.execute(update, {"payload": json.dumps(payload), "id": entry["id"]})
        assert len(ledger.audit_verify()) == problems


def test_audit_trail_detects_edits_deletions_and_insertions(url: str) -> None:
    engine, ledger = _three_commits(url)
    entries = ledger.audit_entries()
    assert len(entries) == 3
    assert entries[0]["rulebook_version"] == engine.rulebook.version
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"),
            {"id": entries[1]["id"]},
        )
    assert any(f"entry {entries[1]['id']}" in p and "changed" in p for p in ledger.audit_verify())
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_log SET actor = 'tester' WHERE id = :id"),
            {"id": entries[1]["id"]},
        )
    assert ledger.audit_verify() == []
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": entries[1]["id"]}
        )
    problems = ledger.audit_verify()
    assert any(f"entry {entries[2]['id']}" in p and "deleted or inserted" in p for p in problems)


def test_deleting_the_newest_entries_is_detected_by_the_head_and_an_anchor(url: str) -> None:
    # Before the head, deleting the newest entry with its line and its debit left a chain
    # that verified clean.
    _, ledger = _three_commits(url)
    head = ledger.audit_head()
    entries = ledger.audit_entries()
    assert head == {"entries": 3, "last_id": entries[-1]["id"], "last_hash": entries[-1]["hash"]}
    anchor = head["last_hash"]
    with ledger.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": head["last_id"]})
        connection.execute(sa.text("DELETE FROM committed_lines WHERE line_id = '3'"))
        connection.execute(sa.text("UPDATE allowance_usage SET used_tpp = used_tpp - 158320"))
    (problem,) = ledger.audit_verify()
    assert "holds 2 entries" in problem
    assert "records 3" in problem
    # Someone who also rewinds the head is caught by the hash kept outside the database.
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_head SET entries = 2, last_id = :id, last_hash = :hash"),
            {"id": entries[1]["id"], "hash": entries[1]["hash"]},
        )
    assert ledger.audit_verify() == []
    (problem,) = ledger.audit_verify(anchor)
    assert f"no entry has the hash {anchor}" in problem
    assert ledger.audit_verify(entries[0]["hash"]) == []
    with ledger.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_head"))
    assert "head record is missing" in ledger.audit_verify()[0]


def test_migrating_to_0006_starts_the_head_at_the_newest_entry(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade(to="0005")
    # An entry as 0005's code wrote it: chained to the previous hash, no head to move.
    fields = {
        "at": "2026-01-01T00:00:00.000000+00:00",
        "actor": "before",
        "action": "licence.revoke",
        "input_hash": "0" * 64,
        "rulebook_version": "",
        "list_edition": None,
        "payload": {"number": "D1", "reason": "test"},
    }
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.insert(AuditEntry).values(
                **fields, prev_hash=GENESIS, hash=entry_hash(GENESIS, fields)
            )
        )
    ledger.upgrade()
    assert ledger.audit_head()["entries"] == 1
    assert ledger.audit_verify() == []
    ledger.commit(_report(engine, ["1"], 10, ledger), _limits(engine), "after")
    assert ledger.audit_head()["entries"] == 2
    assert ledger.audit_verify() == []


def _race(url: str, worker: int, commits: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = Engine()
    ledger = Ledger(url)
    # Stale on purpose: every check sees the licence whole and the allowance unused (the
    # ledger's balance when this worker starts may already be spent by the others).
    whole = [replace(grant, quantity_left=1000) for grant in ledger.licence_book().grants]
    committed = {"S": 0, "C": 0}
    for n in range(commits):
        key = f"w{worker}-{n}"
        lines = [
            Line(
                shipment_id="S",
                line_id=key,
                item="H100 SXM",
                quantity=100,
                destination="India",
                consignee=Party(name="Acme", country="IN"),
            ),
            _china_line("C", key, 100),
        ]
        report = engine.check(
            lines,
            as_of=date(2025, 6, 1),
            view=View.WRITTEN,
            licences=LicenceBook(list(whole)),
        )
        assert [line.outcome.value for line in report.lines] == ["EXCEPTION", "LICENSED"]
        for done in ledger.commit(report, _limits(engine), f"worker {worker}").committed:
            committed[done.split("/")[0]] += 1
    queue.put(committed)


def test_concurrent_committers_never_exceed_the_allowance_or_the_licence(url: str) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=1000), "tester")
    workers, commits = 8, 50  # 400 tries at 16 allowance and 10 licence slots
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_race, args=(url, w, commits, queue)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    counts = [queue.get(timeout=10) for _ in processes]
    committed = sum(count["S"] for count in counts)
    licensed = sum(count["C"] for count in counts)
    # 100 H100 = 1,583,200 TPP a line: exactly 16 lines fit in 26,900,000.
    assert committed == LPP_LIMIT // (100 * H100) == 16
    assert sum(ledger.allowance_state().used.values()) == committed * 100 * H100 <= LPP_LIMIT
    # 100 units a line: exactly 10 lines fit in the licence's 1,000.
    assert licensed == 10
    (licence,) = ledger.licences()
    assert (licence["used_quantity"], licence["reserved_quantity"]) == (1000, 0)
    assert ledger.audit_verify() == []
    assert len(ledger.audit_entries()) == 1 + workers * commits


_KILLED_CHILD = """
import sys
from datetime import date
from sqlalchemy import event
from tiergate import Line, Outcome, Party, View
from tiergate.engine import Engine
from tiergate.ledger.ledger import Ledger

url = sys.argv[1]
engine = Engine()
ledger = Ledger(url)
# Even lines debit an allowance (LPP to India), odd lines a licence (China).
lines = [
    Line(shipment_id="K", line_id=str(i), item="H100 SXM", quantity=10,
         destination="India" if i % 2 == 0 else "China",
         consignee=Party(name="Acme", country="IN") if i % 2 == 0 else Party(name="Beijing Lab"))
    for i in range(20)
]
report = engine.check(lines, as_of=date(2025, 6, 1), view=View.WRITTEN,
                      licences=ledger.licence_book())
assert {line.outcome.value for line in report.lines} == {"EXCEPTION", "LICENSED"}

def pause_inside(conn, cursor, statement, *args):
    # The committed lines and allowance debits are written by now, inside the open
    # transaction; the licence uses come next.
    if statement.lstrip().upper().startswith("INSERT INTO LICENCE_USES"):
        print("inside", flush=True)
        sys.stdin.read()  # wait here until killed

event.listen(ledger.engine, "before_cursor_execute", pause_inside)
limits = engine.allowance_limits()
ledger.commit(report, limits, "child")
"""


def test_a_commit_killed_midway_leaves_nothing_and_a_rerun_finishes(url: str) -> None:
    import signal
    import subprocess
    import sys

    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=100), "tester")
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "inside"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert child.stdin is not None
    child.stdin.close()
    child.stdout.close()
    # Nothing of the killed transaction is visible: no line, no debit, no licence use, no
    # audit entry (the lines and the debits were written inside it).
    assert ledger.allowance_state().used == {}
    assert _balance(ledger) == (0, 0, 100)
    assert [entry["action"] for entry in ledger.audit_entries()] == ["licence.add"]
    engine = Engine()
    lines = [
        Line(
            shipment_id="K",
            line_id=str(i),
            item="H100 SXM",
            quantity=10,
            destination="India" if i % 2 == 0 else "China",
            consignee=Party(name="Acme", country="IN") if i % 2 == 0 else Party(name="Beijing Lab"),
        )
        for i in range(20)
    ]
    report = engine.check(
        lines, as_of=date(2025, 6, 1), view=View.WRITTEN, licences=ledger.licence_book()
    )
    result = ledger.commit(report, _limits(engine), "rerun")
    assert len(result.committed) == 20
    assert sum(ledger.allowance_state().used.values()) == 10 * 10 * H100
    assert _balance(ledger) == (0, 100, 0)
    assert ledger.audit_verify() == []


def test_ledger_commands(url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    book = home / "book.csv"
    book.write_text(
        "shipment_id,line_id,date,item,quantity,destination,consignee,consignee_country\n"
        "S1,1,2025-06-01,H100 SXM,1000,India,Acme,IN\n"
        "S1,2,2025-06-02,H100 SXM,600,India,Acme,IN\n"
        "S2,1,2025-06-03,H100 SXM,700,India,Acme,IN\n",
        encoding="utf-8",
    )

    run = partial(run_tiergate, home=home)

    check = (
        "check",
        str(book),
        "--view",
        "written",
        "--no-screen",
        "--db",
        url,
        "--format",
        "json",
    )
    unmigrated = run(*check, "--commit")
    assert unmigrated.returncode == 2
    assert "tiergate db upgrade" in unmigrated.stderr
    assert run("db", "upgrade", "--db", url).returncode == 0
    first = run(*check, "--commit")
    assert "2 line(s) committed" in first.stderr
    assert "S2/1: outcome LICENSE_REQUIRED may not ship" in first.stderr
    second = run(*check, "--commit")
    assert "0 line(s) committed, 2 already committed" in second.stderr
    outcomes = [line["outcome"] for line in json.loads(second.stdout)["lines"]]
    assert outcomes == ["EXCEPTION", "EXCEPTION", "LICENSE_REQUIRED"]  # same answers on re-check
    rows = json.loads(run("allowances", "--db", url, "--format", "json").stdout)["allowances"]
    assert rows == [
        {
            "allowance": "lpp-consignee-year",
            "holder": "acme|IN",
            "period": "2025",
            "used_tpp": 1600 * H100,
            "remaining_tpp": LPP_LIMIT - 1600 * H100,
            "limit_tpp": LPP_LIMIT,
            "used_h100_equivalents": 1600.0,
            "remaining_h100_equivalents": round((LPP_LIMIT - 1600 * H100) / H100, 1),
            "uncertain": False,
            "citation": LPP.citation,
        }
    ]
    assert run(*check).returncode == 3  # a plain check is audited too
    verified = run("audit", "verify", "--db", url)
    assert verified.returncode == 0
    assert "3 entries" in verified.stdout
    exported = json.loads(run("audit", "export", "--db", url).stdout)["audit"]
    assert [e["action"] for e in exported] == ["commit", "commit", "check"]
    # Each entry names the input file by the SHA-256 of its bytes and keeps every line's
    # outcome and the rules behind it.
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    assert {e["input_hash"] for e in exported} == {digest}
    first_lines = exported[0]["payload"]["lines"]
    assert [line[:3] for line in first_lines] == [
        ["S1", "1", "EXCEPTION"],
        ["S1", "2", "EXCEPTION"],
        ["S2", "1", "LICENSE_REQUIRED"],
    ]
    # A line names the list of its rules by key; the entry gives each list once.
    assert "lpp-consignee-year" in exported[0]["payload"]["rules"][first_lines[0][5]]
    assert exported[0]["payload"]["source"] == str(book)
    assert len(exported[0]["payload"]["reasons_hash"]) == 64
    csv_export = run("audit", "export", "--db", url, "--format", "csv", "--since", "2020-01-01")
    assert csv_export.stdout.count("\n") == 4


def test_licences_in_the_ledger(url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    book = home / "china.csv"
    book.write_text(
        "shipment_id,line_id,date,item,quantity,destination,consignee\n"
        "C1,1,2025-03-01,H100 SXM,60,China,Beijing Lab\n"
        "C1,2,2025-03-02,H100 SXM,60,China,Beijing Lab\n",
        encoding="utf-8",
    )

    run = partial(run_tiergate, home=home)

    assert run("db", "upgrade", "--db", url).returncode == 0
    added = run(
        "license",
        "add",
        "D1234567",
        "--holder",
        "Example Inc",
        "--item",
        "3A090",
        "--destination",
        "China",
        "--quantity",
        "100",
        "--valid-from",
        "2025-01-01",
        "--valid-to",
        "2028-12-31",
        "--db",
        url,
    )
    assert added.returncode == 0, added.stderr
    assert "licence D1234567 recorded: 100 units, 2025-01-01 to 2028-12-31" in added.stdout
    assert (
        run(
            "license",
            "add",
            "D1234567",
            "--holder",
            "x",
            "--item",
            "3A090",
            "--destination",
            "CN",
            "--quantity",
            "1",
            "--valid-from",
            "2025-01-01",
            "--valid-to",
            "2025-12-31",
            "--db",
            url,
        ).returncode
        == 2
    )
    check = ("check", str(book), "--no-screen", "--db", url, "--format", "json")
    first = run(*check, "--commit")
    outcomes = [(line["outcome"], line["licence"]) for line in json.loads(first.stdout)["lines"]]
    assert outcomes == [("LICENSED", "D1234567"), ("PROHIBITED", None)]  # 60 + 60 > 100
    assert "1 line(s) committed" in first.stderr
    shown = json.loads(run("license", "show", "D1234567", "--db", url).stdout)
    assert (shown["used_quantity"], shown["remaining_quantity"]) == (60, 40)
    again = run(*check, "--commit")  # a re-check gives the same answers and commits nothing new
    assert [line["outcome"] for line in json.loads(again.stdout)["lines"]] == [
        "LICENSED",
        "PROHIBITED",
    ]
    assert "0 line(s) committed, 1 already committed" in again.stderr
    # A what-if check reserves nothing; a plain check reserves; `cancel` gives it back.
    pending = home / "pending.csv"
    pending.write_text(
        "shipment_id,line_id,date,item,quantity,value,destination,consignee\n"
        "C3,1,2025-03-04,H100 SXM,15,450000,China,Beijing Lab\n",
        encoding="utf-8",
    )
    what_if = run("check", str(pending), "--no-screen", "--no-reserve", "--db", url, "-f", "json")
    assert json.loads(what_if.stdout)["lines"][0]["outcome"] == "LICENSED"
    shown = json.loads(run("license", "show", "D1234567", "--db", url).stdout)
    assert (shown["reserved_quantity"], shown["remaining_quantity"]) == (0, 40)
    both = run("check", str(pending), "--no-reserve", "--commit", "--db", url)
    assert both.returncode == 2
    assert "--no-reserve is for checks that do not commit" in both.stderr
    checked = json.loads(
        run("check", str(pending), "--no-screen", "--db", url, "-f", "json").stdout
    )
    assert (checked["lines"][0]["outcome"], checked["lines"][0]["value"]) == ("LICENSED", 450000.0)
    shown = json.loads(run("license", "show", "D1234567", "--db", url).stdout)
    assert (shown["reserved_quantity"], shown["remaining_quantity"]) == (15, 25)
    cancelled = run("cancel", "C3", "--reason", "order withdrawn", "--db", url)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "1 licence reservation(s) released" in cancelled.stdout
    shown = json.loads(run("license", "show", "D1234567", "--db", url).stdout)
    assert (shown["reserved_quantity"], shown["remaining_quantity"]) == (0, 40)
    refused = run("cancel", "C1", "--reason", "x", "--db", url)
    assert refused.returncode == 2
    assert "committed as shipped" in refused.stderr
    assert run("license", "revoke", "D1234567", "--reason", "returned", "--db", url).returncode == 0
    revoked = json.loads(run("license", "list", "--db", url, "--format", "json").stdout)["licences"]
    assert revoked[0]["status"] == "revoked"
    book.write_text(
        "shipment_id,line_id,date,item,quantity,destination,consignee\n"
        "C2,1,2025-03-03,H100 SXM,10,China,Beijing Lab\n",
        encoding="utf-8",
    )
    after = run(*check)
    assert json.loads(after.stdout)["lines"][0]["outcome"] == "PROHIBITED"
    actions = [e["action"] for e in json.loads(run("audit", "export", "--db", url).stdout)["audit"]]
    assert actions[0] == "licence.add"
    assert "licence.revoke" in actions
    assert run("audit", "verify", "--db", url).returncode == 0


def test_a_held_line_whose_id_the_ledger_cannot_keep_opens_no_hold(url: str) -> None:
    """A line held for review whose shipment id is longer than the ledger keeps (an error
    of its own: it can never ship) is checked and audited like the others, on every
    database, with no hold opened for it."""
    ledger = Ledger(url)
    ledger.upgrade()
    long_id = "x" * 201
    lines = [
        Line(shipment_id=sid, line_id="1", date="2025-06-01", item="H20", quantity=100,
             destination="China")
        for sid in ("H1", long_id)
    ]  # fmt: skip
    report = Engine().check(lines)
    assert [line.outcome.value for line in report.lines] == ["HOLD", "HOLD"]
    assert any("201 characters" in error for error in report.lines[1].errors)
    ledger.record_check(report, "held.csv", "tester")
    assert [hold["shipment_id"] for hold in ledger.holds()] == ["H1"]
    assert ledger.audit_entries()[-1]["payload"]["lines"][1][0] == long_id


def test_holds_are_recorded_and_decided_by_a_named_reviewer(
    url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    book = home / "held.csv"
    book.write_text(
        "shipment_id,line_id,date,item,quantity,destination\n"
        "H1,1,2025-06-01,H20,100,China\n"
        "H1,2,2025-06-01,H20,100,China\n",
        encoding="utf-8",
    )

    run = partial(run_tiergate, home=home)

    assert run("db", "upgrade", "--db", url).returncode == 0
    check = ("check", str(book), "--no-screen", "--db", url, "--format", "json")
    first = json.loads(run(*check).stdout)["lines"]
    assert [line["outcome"] for line in first] == ["HOLD", "HOLD"]
    holds = json.loads(
        run("holds", "list", "--status", "open", "--db", url, "--format", "json").stdout
    )["holds"]
    assert [(h["shipment_id"], h["line_id"], h["signature"]) for h in holds] == [
        ("H1", "1", "advisory.h20-letters"),
        ("H1", "2", "advisory.h20-letters"),
    ]
    assert (
        run(
            "holds", "release", str(holds[0]["id"]), "--by", "", "--reason", "x", "--db", url
        ).returncode
        == 2
    )
    released = run(
        "holds",
        "release",
        str(holds[0]["id"]),
        "--by",
        "J. Doe",
        "--reason",
        "licence from the vendor seen",
        "--db",
        url,
    )
    assert released.returncode == 0, released.stderr
    assert (
        run(
            "holds",
            "reject",
            str(holds[1]["id"]),
            "--by",
            "J. Doe",
            "--reason",
            "red flags",
            "--db",
            url,
        ).returncode
        == 0
    )
    assert (
        run(
            "holds",
            "release",
            str(holds[1]["id"]),
            "--by",
            "J. Doe",
            "--reason",
            "again",
            "--db",
            url,
        ).returncode
        == 2
    )
    after = json.loads(run(*check).stdout)["lines"]
    assert [line["outcome"] for line in after] == ["NLR", "PROHIBITED"]
    assert any(
        r["rule"] == "hold.released" and "J. Doe" in r["message"] for r in after[0]["reasons"]
    )
    assert any(r["rule"] == "hold.rejected" for r in after[1]["reasons"])
    actions = [e["action"] for e in json.loads(run("audit", "export", "--db", url).stdout)["audit"]]
    assert "hold.released" in actions
    assert "hold.rejected" in actions
    assert run("audit", "verify", "--db", url).returncode == 0


def test_a_release_lapses_when_the_reasons_change() -> None:
    from tiergate.engine import HoldDecision

    engine = Engine()
    line = Line(shipment_id="H", line_id="1", item="H20", quantity=1, destination="China")
    held = engine.check([line], as_of=date(2025, 6, 1)).lines[0]
    assert held.outcome.value == "HOLD"
    assert held.hold_signature == "advisory.h20-letters"
    same = HoldDecision("advisory.h20-letters", "released", "J. Doe", "2025-06-02T10:00:00", "ok")
    other = HoldDecision("advisory.other", "released", "J. Doe", "2025-06-02T10:00:00", "ok")
    cleared = engine.check([line], as_of=date(2025, 6, 1), hold_decisions={("H", "1"): same})
    assert cleared.lines[0].outcome.value == "NLR"
    lapsed = engine.check([line], as_of=date(2025, 6, 1), hold_decisions={("H", "1"): other})
    assert lapsed.lines[0].outcome.value == "HOLD"


def test_a_check_reserves_a_commit_uses_and_a_cancel_releases_licence_quantity(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=100), "tester")
    first = _china(engine, ledger, "A", ("1", 60))
    assert first.lines[0].outcome.value == "LICENSED"
    ledger.record_check(first, "a.csv", "tester")
    assert _balance(ledger) == (60, 0, 40)
    # Another book cannot use what A reserved.
    other = _china(engine, ledger, "B", ("1", 50))
    assert (other.lines[0].outcome.value, other.lines[0].licence) == ("PROHIBITED", None)
    ledger.record_check(other, "b.csv", "tester")
    assert _balance(ledger) == (60, 0, 40)
    # Checking A again keeps one reservation, not two.
    again = _china(engine, ledger, "A", ("1", 60))
    assert again.lines[0].outcome.value == "LICENSED"
    ledger.record_check(again, "a.csv", "tester")
    assert _balance(ledger) == (60, 0, 40)
    # Committing A turns its reservation into use.
    assert ledger.commit(again, _limits(engine), "tester").committed == ["A/1"]
    assert _balance(ledger) == (0, 60, 40)
    with pytest.raises(LedgerError, match="committed as shipped"):
        ledger.cancel("A", None, "tester", "too late")
    # C reserves 30, then is cancelled: the 30 go back.
    ledger.record_check(_china(engine, ledger, "C", ("1", 30)), "c.csv", "tester")
    assert _balance(ledger) == (30, 60, 10)
    assert ledger.cancel("C", None, "J. Doe", "order withdrawn") == 1
    assert _balance(ledger) == (0, 60, 40)
    assert ledger.cancel("C", "1", "J. Doe", "again") == 0
    # A shipment or line the ledger never saw is not "cancelled": nothing happened.
    with pytest.raises(LedgerError, match="shipment `NOPE`: no check reserved"):
        ledger.cancel("NOPE", None, "J. Doe", "typo")
    with pytest.raises(LedgerError, match="line 9 of shipment `C`: no check reserved"):
        ledger.cancel("C", "9", "J. Doe", "typo")
    # D reserves 20; checked again as an India line (no licence needed), it gives them back.
    ledger.record_check(_china(engine, ledger, "D", ("1", 20)), "d.csv", "tester")
    assert _balance(ledger) == (20, 60, 20)
    india = engine.check(
        [
            Line(
                shipment_id="D",
                line_id="1",
                item="H100 SXM",
                quantity=20,
                destination="India",
                consignee=Party(name="Acme", country="IN"),
            )
        ],
        as_of=date(2025, 6, 1),
        view=View.WRITTEN,
    )
    assert (india.lines[0].outcome.value, india.lines[0].licence) == ("EXCEPTION", None)
    ledger.record_check(india, "d.csv", "tester")
    assert _balance(ledger) == (0, 60, 40)
    actions = [entry["action"] for entry in ledger.audit_entries()]
    assert actions.count("cancel") == 2
    assert ledger.audit_verify() == []


def test_a_licence_value_is_reserved_used_and_never_exceeded(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=100, value=1_000_000.0), "tester")
    # Two checks computed from the same ledger: each fits alone, together they do not.
    books = [
        engine.check(
            [_china_line(shipment, "1", 10, value)],
            as_of=date(2025, 6, 1),
            licences=ledger.licence_book(),
        )
        for shipment, value in (("V1", 400_000.0), ("V2", 700_000.0))
    ]
    assert [book.lines[0].outcome.value for book in books] == ["LICENSED", "LICENSED"]
    assert ledger.commit(books[0], _limits(engine), "tester").committed == ["V1/1"]
    refused = ledger.commit(books[1], _limits(engine), "tester").refused
    assert refused == [
        (
            "V2/1",
            "licence `D1234567` has US$600,000.00 of value left; US$700,000.00 does not fit: "
            "check again",
        )
    ]
    (licence,) = ledger.licences()
    assert (licence["used_value"], licence["remaining_value"]) == (400_000.0, 600_000.0)
    assert licence["remaining_quantity"] == 90
    # A check against the ledger sees the value left.
    late = engine.check(
        [_china_line("V3", "1", 1, 650_000.0)],
        as_of=date(2025, 6, 1),
        licences=ledger.licence_book(exclude={("V3", "1")}),
    )
    assert late.lines[0].outcome.value == "PROHIBITED"


def test_migrating_from_0003_keeps_licence_uses_as_used(url: str) -> None:
    ledger = Ledger(url)
    assert ledger.upgrade(to="0003") == (None, "0003")
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO licences (number, holder, items, destinations, parties, "
                "authorized_quantity, authorized_value, valid_from, valid_to, conditions, status) "
                "VALUES ('D1234567', 'Example Inc', '[\"3A090\"]', '[\"CN\"]', '[]', 100, NULL, "
                "'2025-01-01', '2028-12-31', NULL, 'active')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO licence_uses (licence_number, shipment_id, line_id, quantity) "
                "VALUES ('D1234567', 'OLD', '1', 25)"
            )
        )
    assert ledger.upgrade() == ("0003", HEAD)
    assert _balance(ledger) == (0, 25, 75)
    # The old use cannot be cancelled away: it was committed.
    assert ledger.cancel("OLD", None, "tester", "mistake") == 0
    assert _balance(ledger) == (0, 25, 75)


def test_licensed_tier2_exports_accumulate_against_the_country_allocation(
    url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    allocation = ("tier2-country-allocation", "IN", "2025-01-13/2027-12-31")
    engine = Engine(country_allocation_tpp=150_000_000)
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(
        {**_licence(quantity=100_000), "number": "D7654321", "destinations": ["IN"]}, "tester"
    )

    def india(shipment: str, quantity: int, licensed: bool) -> Report:
        line = Line(
            shipment_id=shipment,
            line_id="1",
            item="H100 SXM",
            quantity=quantity,
            destination="India",
            consignee=Party(name=f"Datacentre {shipment}", country="IN"),
        )
        keys = {(shipment, "1")}
        return engine.check(
            [line],
            as_of=date(2025, 6, 1),
            view=View.WRITTEN,
            allowances=ledger.allowance_state(exclude=keys),
            licences=ledger.licence_book(exclude=keys) if licensed else None,
        )

    # 5,000 H100 (79,160,000 TPP) shipped under a licence count against India's allocation.
    first = india("T1", 5000, licensed=True)
    assert (first.lines[0].outcome.value, first.lines[0].licence) == ("LICENSED", "D7654321")
    assert any(
        r.rule == "tier2-country-allocation" and "79,160,000 of 150,000,000 after" in r.message
        for r in first.lines[0].reasons
    )
    assert ledger.commit(first, _limits(engine), "tester").committed == ["T1/1"]
    assert ledger.allowance_state().used == {allocation: 5000 * H100}
    # Without a licence, the next application is reviewed against what is left of it.
    within = india("T2", 2000, licensed=False)  # past LPP, within what is left
    assert within.lines[0].outcome.value == "LICENSE_REQUIRED"
    assert within.lines[0].review_policy is not None
    assert within.lines[0].review_policy.value == "approval"
    beyond = india("T3", 5000, licensed=False)
    assert beyond.lines[0].outcome.value == "PROHIBITED"
    assert any("allocation would be exceeded" in r.message for r in beyond.lines[0].reasons)

    shown = run_tiergate(
        *("allowances", "--country", "India", "--year", "2026"),
        *("--country-allocation-tpp", "150000000", "--db", url, "--format", "json"),
        home=tmp_path_factory.mktemp("home"),
    )
    assert shown.returncode == 0, shown.stderr
    (row,) = json.loads(shown.stdout)["allowances"]
    assert (row["allowance"], row["holder"], row["used_tpp"]) == (
        "tier2-country-allocation",
        "IN",
        5000 * H100,
    )
    assert (row["remaining_tpp"], row["uncertain"]) == (150_000_000 - 5000 * H100, False)
    assert row["used_h100_equivalents"] == 5000.0


def test_lines_sharing_an_id_are_refused_on_commit_and_flagged_on_check(url: str) -> None:
    # Two lines S/1 in one book: the ledger keeps one line per id, so neither is committed
    # (before, the second was reported "already committed (unchanged)" and never recorded).
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    report = _report(engine, ["1", "1", "2"], 10, ledger)
    assert report.summary.duplicate_ids == ("S/1",)
    result = ledger.commit(report, _limits(engine), "tester")
    assert result.committed == ["S/2"]
    assert [key for key, _ in result.refused] == ["S/1", "S/1"]
    assert result.already == []


def test_a_line_committed_again_with_other_content_is_refused(url: str) -> None:
    # S/1 committed with quantity 10, then the same ids with quantity 1,600: before, this was
    # "already committed (unchanged)" and the ledger kept 10, under-counting the allowance.
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    assert ledger.commit(_report(engine, ["1"], 10, ledger), _limits(engine), "t").committed == [
        "S/1"
    ]
    changed = ledger.commit(_report(engine, ["1"], 1600, ledger), _limits(engine), "t")
    assert changed.committed == changed.already == []
    ((key, why),) = changed.refused
    assert key == "S/1"
    assert "quantity '10' then, '1600' now" in why
    assert changed.report is not None
    assert changed.report.lines[0].outcome.value == "INDETERMINATE"
    assert changed.report.exit_code == 3
    assert ledger.allowance_state().used == {("lpp-consignee-year", "acme|IN", "2025"): 10 * H100}
    # The same line again, its quantity written as text (as a CSV gives it): unchanged.
    same = [replace(line, quantity="10") for line in _lines(["1"], 10)]
    again = ledger.commit(_check(engine, ledger, same), _limits(engine), "t")
    assert (again.already, again.refused) == (["S/1"], [])
    assert again.report is not None
    assert again.report.exit_code == 0
    # Another consignee is another line, though quantity and destination are the same.
    other = [
        replace(line, consignee=Party(name="Other Co", country="IN")) for line in _lines(["1"], 10)
    ]
    moved = ledger.commit(_check(engine, ledger, other), _limits(engine), "t")
    assert "consignee_name 'Acme' then, 'Other Co' now" in moved.refused[0][1]


def test_lines_committed_before_0005_are_compared_on_what_they_recorded(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade(to="0004")
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO committed_lines (shipment_id, line_id, as_of, destination, eccn, "
                "quantity, total_tpp, outcome, exception, input_hash, committed_at, debits) "
                "VALUES ('S', '1', '2025-06-01', 'IN', '3A090.a', 10, 158320, 'EXCEPTION', "
                "'LPP', 'x', CURRENT_TIMESTAMP, '[]')"
            )
        )
    ledger.upgrade()
    same = ledger.commit(_report(engine, ["1"], 10, ledger), _limits(engine), "t")
    assert (same.already, same.refused) == (["S/1"], [])
    more = ledger.commit(_report(engine, ["1"], 11, ledger), _limits(engine), "t")
    assert "quantity '10' then, '11' now" in more.refused[0][1]


def _lines(ids: list[str], quantity: int) -> list[Line]:
    return [
        Line(
            shipment_id="S",
            line_id=line_id,
            item="H100 SXM",
            quantity=quantity,
            destination="India",
            consignee=Party(name="Acme", country="IN"),
        )
        for line_id in ids
    ]


def _check(engine: Engine, ledger: Ledger, lines: list[Line]) -> Report:
    keys = {(str(line.shipment_id), str(line.line_id)) for line in lines}
    return engine.check(
        lines,
        as_of=date(2025, 6, 1),
        view=View.WRITTEN,
        allowances=ledger.allowance_state(exclude=keys),
    )


def test_both_databases_take_the_same_book_with_values_beyond_their_limits(url: str) -> None:
    # Before, PostgreSQL failed the whole book (an internal error) where SQLite took it.
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    odd = [
        *_lines(["big"], 3_000_000_000),
        *_lines(["nul\x00"], 1),
        *_lines(["x" * 10_000], 1),
        replace(_lines(["name"], 1)[0], consignee=Party(name="A" * 5_000, country="IN")),
        replace(_lines(["text"], 1)[0], end_use="military\x00", item="H100\x00 SXM"),
    ]
    report = _check(engine, ledger, [*_lines(["ok"], 1), *odd])
    assert [line.outcome.value for line in report.lines[1:]] == ["INDETERMINATE"] * 5
    ledger.record_check(report, "book.json", "tester")
    result = ledger.commit(report, _limits(engine), "tester")
    assert result.committed == ["S/ok"]
    assert len(result.refused) == 5
    assert ledger.audit_verify() == []


def test_licence_values_are_exact_to_the_cent(url: str) -> None:
    # In floating point, US$0.10 + US$0.20 is more than US$0.30: the second line was refused.
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=10, value=0.3), "tester")
    lines = [_china_line("C", "1", 1, value=0.1), _china_line("C", "2", 1, value=0.2)]
    report = engine.check(lines, as_of=date(2025, 6, 1), licences=ledger.licence_book())
    assert [line.licence for line in report.lines] == ["D1234567", "D1234567"]
    assert ledger.commit(report, _limits(engine), "tester").committed == ["C/1", "C/2"]
    (licence,) = ledger.licences()
    assert (licence["used_value"], licence["remaining_value"]) == (0.3, 0.0)


def test_migrating_to_0007_makes_money_and_tpp_exact(url: str) -> None:
    ledger = Ledger(url)
    ledger.upgrade(to="0006")
    with ledger.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO licences (number, holder, items, destinations, parties, "
                "authorized_quantity, authorized_value, valid_from, valid_to, status) VALUES "
                "('D1', 'H', '[\"3A090\"]', '[\"CN\"]', '[]', 10, 0.3, '2025-01-01', "
                "'2028-12-31', 'active')"
            )
        )
        for line_id, value in (("1", 0.1), ("2", 0.2)):
            connection.execute(
                sa.text(
                    "INSERT INTO licence_uses (licence_number, shipment_id, line_id, quantity, "
                    "state, value) VALUES ('D1', 'C', :line, 1, 'used', :value)"
                ),
                {"line": line_id, "value": value},
            )
        connection.execute(
            sa.text(
                "INSERT INTO allowance_usage (allowance_id, holder, period, used_tpp) VALUES "
                "('lpp-consignee-year', 'acme|IN', '2025', 14966.400000000001)"
            )
        )
    ledger.upgrade()
    (licence,) = ledger.licences()
    assert (licence["used_value"], licence["remaining_value"]) == (0.3, 0.0)
    assert ledger.allowance_state().used == {("lpp-consignee-year", "acme|IN", "2025"): 14966.4}
    with ledger.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT used_tpp FROM allowance_usage")).scalar_one()
    assert str(stored) == "14966.40"


def test_audit_verify_finds_table_changes_the_trail_does_not_record(url: str) -> None:
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=100), "tester")
    for ids in (["1"], ["2"]):
        ledger.commit(_report(engine, ids, 10, ledger), _limits(engine), "tester")
    held = engine.check(
        [Line(shipment_id="H", line_id="1", item="H100 SXM", quantity=1, destination="India")],
        as_of=date(2025, 6, 1),
        view=View.WRITTEN,
    )
    # A held line (as an advisory would hold it) gives the ledger an open hold.
    line = replace(held.lines[0], outcome=Outcome.HOLD, hold_signature="x")
    ledger.record_check(replace(held, lines=(line,)), "h.csv", "tester")
    assert ledger.audit_verify() == []
    tampering = {
        "UPDATE allowance_usage SET used_tpp = '1.00'": "has 1.00 TPP used",
        "DELETE FROM committed_lines WHERE line_id = '2'": "S/2 of a commit entry is gone",
        "UPDATE licences SET authorized_quantity = 1000": "`authorized_quantity` is 1000",
        "UPDATE licences SET status = 'revoked'": "is revoked, which its audit entries",
        "UPDATE holds SET status = 'released', decided_by = 'mallory'": "released without",
    }
    for statement, expected in tampering.items():
        with ledger.engine.begin() as connection:
            connection.execute(sa.text(statement))
        problems = ledger.audit_verify()
        assert any(expected in problem for problem in problems), (statement, problems)


def test_lines_that_share_their_ids_reserve_nothing(url: str) -> None:
    """Two lines of a book with the same ids are never committed (which of them would be is
    not for tiergate to pick), so a check reserves nothing for them rather than one
    reservation holding the last one's quantity; a reservation made for those ids before is
    given back."""
    engine = Engine()
    ledger = Ledger(url)
    ledger.upgrade()
    ledger.add_licence(_licence(quantity=100), "tester")
    ledger.record_check(_china(engine, ledger, "A", ("1", 10)), "a.csv", "tester")
    assert _balance(ledger) == (10, 0, 90)
    twice = _china(engine, ledger, "A", ("1", 20), ("1", 30))
    assert [line.outcome.value for line in twice.lines] == ["LICENSED", "LICENSED"]
    assert twice.summary.duplicate_ids == ("A/1",)
    ledger.record_check(twice, "a.csv", "tester")
    assert _balance(ledger) == (0, 0, 100)
