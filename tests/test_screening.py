"""Screening: name analysis, matching with explanations, snapshots, and its effect on check."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import run_tiergate

import tiergate
from tiergate import Line, Outcome, Party
from tiergate.engine import Engine
from tiergate.rulebook import Tier
from tiergate.screening import index
from tiergate.screening.index import MemoryIndex, StoredIndex, build, stored
from tiergate.screening.lists import ListEdition, ListEntry, ListFormatError
from tiergate.screening.matcher import Hit, Matcher
from tiergate.screening.names import Analyser, default_settings
from tiergate.screening.service import Screener
from tiergate.screening.snapshot import (
    FIELDS,
    Snapshot,
    open_snapshot,
    read_snapshot,
    write_snapshot,
)
from tiergate.screening.store import bundled_edition, bundled_snapshot


def _edition(*entries: ListEntry) -> ListEdition:
    return ListEdition("test list", date(2026, 7, 31), "tests", tuple(entries))


def _entry(
    entry_id: str, name: str, *aliases: str, code: str = "EL", countries: tuple[str, ...] = ()
) -> ListEntry:
    return ListEntry(
        entry_id=entry_id,
        list_code=code,
        source=f"test ({code})",
        name=name,
        alt_names=aliases,
        countries=countries,
        license_requirement="For all items subject to the EAR.",
        license_policy="Presumption of denial.",
    )


SMALL = _edition(
    _entry("EL:1", "11420 CORP."),
    _entry("EL:2", "Huawei Technologies Co., Ltd.", "Huawei", countries=("CN",)),
    _entry("SDN:3", "MIKRON 2 JSC", code="SDN"),
    _entry("EL:4", "Shenzhen Xinyuan International Trading Company Limited", countries=("CN",)),
    _entry("SDN:5", "ROSOBORONEXPORT OAO", code="SDN", countries=("RU",)),
)


@pytest.fixture(scope="module")
def small() -> Matcher:
    return Matcher.of(SMALL)


def test_analysis_separates_legal_forms_and_joins_initials() -> None:
    analyser = Analyser(default_settings())
    key = analyser.analyse("J.P. Morgan Chase & Co., Ltd.")
    assert key.strong == ("jp", "morgan", "chase")
    assert "company" in key.weak
    cyrillic = "\u041e\u041e\u041e \u0420\u043e\u043c\u0430\u0448\u043a\u0430"  # OOO Romashka
    assert analyser.analyse(cyrillic).strong == ("romashka",)
    assert "international" in analyser.analyse("Acme Intl Tech").weak
    assert analyser.analyse("Acme Tech").strong == ("acme", "technology")


def test_legal_form_words_alone_never_match(small: Matcher) -> None:
    # The false positive other tools report: "BELLETECH CORP" scored 100 against "11420 CORP.".
    assert small.screen("BELLETECH CORP") == []
    assert small.screen("Corp Ltd Co") == []


def test_numbers_must_agree(small: Matcher) -> None:
    assert [h.entry.entry_id for h in small.screen("Mikron 2")] == ["SDN:3"]
    assert small.screen("Mikron 3") == []


def test_variants_match_with_the_alias_named(small: Matcher) -> None:
    for query in (
        "HUAWEI TECHNOLOGIES COMPANY LIMITED",
        "Technologies Huawei",
        "Huawei Tech Co",
        "Huawai Technologies",
    ):
        hits = small.screen(query)
        assert hits, query
        assert hits[0].entry.entry_id == "EL:2"
    alias = small.screen("Huawei")[0]
    assert alias.matched_name == "Huawei"
    assert alias.status == "match"
    assert small.screen("Shenzhen Xinyuan Intl Trading Co Ltd")[0].entry.entry_id == "EL:4"
    assert small.screen("Рособоронэкспорт")[0].entry.entry_id == "SDN:5"


def test_country_is_a_qualifier_and_explanations_add_up(small: Matcher) -> None:
    home = small.screen("Huawei Technologies", "CN")[0]
    away = small.screen("Huawei Technologies", "MY")[0]
    assert home.score > away.score
    assert home.features["country_agrees"] > 0
    assert away.features["country_disagrees"] < 0
    for hit in (home, away):
        assert min(1.0, max(0.0, sum(hit.features.values()))) == pytest.approx(hit.score)


def test_few_candidates_are_scored() -> None:
    matcher = Screener.shared().matcher
    query = matcher.analyser.analyse("Huawei Technologies")
    assert 0 < len(matcher.candidates(query)) <= default_settings().candidates.max_per_query


def test_listed_names_find_themselves_and_made_up_names_stay_clear() -> None:
    screener = Screener.shared()
    sample = bundled_edition().entries[::250]
    missed = [
        e.entry_id
        for e in sample
        if e.entry_id not in {h.entry.entry_id for h in screener.screen(e.name).hits}
    ]
    assert len(sample) > 100
    assert missed == []
    clean = [
        "Acme Widgets GmbH",
        "Northwind Traders Ltd",
        "Contoso Pharmaceuticals Inc",
        "Fabrikam Semiconductor BV",
        "Blue Yonder Airlines",
        "Tailspin Toys Co",
        "Wide World Importers LLC",
        "Margie's Travel",
    ]
    statuses = {name: screener.screen(name).status for name in clean}
    assert set(statuses.values()) == {"clear"}, statuses


def test_snapshot_round_trip_and_damage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.json.gz"
    write_snapshot(SMALL, path, "tests")
    again = read_snapshot(path)
    assert again.entries == SMALL.entries
    assert again.content_hash == SMALL.content_hash
    document = json.loads(gzip.decompress(path.read_bytes()))
    document["entries"][1][3] = "Someone Else"
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    with pytest.raises(ListFormatError, match="content hash"):
        read_snapshot(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ListFormatError, match="cannot be read"):
        read_snapshot(path)


def test_bundled_edition_is_the_2026_07_31_csl() -> None:
    edition = bundled_edition()
    assert edition.edition_date == date(2026, 7, 31)
    assert len(edition.entries) == 25921
    assert edition.counts()["EL"] == 3420
    assert edition.counts()["SDN"] == 19181


def test_check_screens_parties_and_list_decides() -> None:
    engine = Engine(screener=Screener.shared())
    lines = [
        Line(
            line_id="el",
            item="L20",
            quantity=1,
            destination="Germany",
            consignee=Party(name="Huawei Technologies Co., Ltd.", country="CN"),
        ),
        Line(
            line_id="sdn",
            item="L20",
            quantity=1,
            destination="Germany",
            end_user=Party(name="Banco Nacional de Cuba"),
        ),
        Line(
            line_id="clean",
            item="L20",
            quantity=1,
            destination="Germany",
            consignee=Party(name="Acme Widgets GmbH", country="DE"),
        ),
    ]
    report = engine.check(lines, as_of=date(2026, 3, 1))
    by_id = {line.line_id: line for line in report.lines}
    assert by_id["el"].outcome is Outcome.PROHIBITED
    assert any(
        r.rule.startswith("list.EL:") and "licence policy" in r.message for r in by_id["el"].reasons
    )
    assert by_id["sdn"].outcome is Outcome.PROHIBITED
    assert any(r.rule.startswith("list.SDN:") for r in by_id["sdn"].reasons)
    assert by_id["clean"].outcome is Outcome.NLR
    # One rule for tiers: a denied party makes the line's tier prohibited (README).
    assert (by_id["sdn"].tier, by_id["el"].tier) == (Tier.PROHIBITED, Tier.PROHIBITED)
    assert by_id["clean"].tier is Tier.UNRESTRICTED
    assert any(e["name"] == "US Consolidated Screening List" for e in report.editions)
    unscreened = tiergate.check(lines, as_of=date(2026, 3, 1), screen=False)
    assert [line.outcome for line in unscreened.lines] == [Outcome.NLR] * 3


def test_screen_command(tmp_path: Path) -> None:
    done = run_tiergate("screen", "Rosoboronexport", "--country", "Russia", "--format", "json")
    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    assert document["list_editions"]["csl"]["edition_date"] == "2026-07-31"
    result = document["results"][0]
    assert result["status"] == "match"
    assert result["country"] == "RU"
    hit = result["hits"][0]
    for key in (
        "entry_id",
        "list",
        "name",
        "matched_name",
        "score",
        "countries",
        "programs",
        "license_requirement",
        "license_policy",
        "explanation",
    ):
        assert key in hit
    assert run_tiergate("screen", "Acme Widgets GmbH").returncode == 0
    assert run_tiergate("screen").returncode == 2
    parties = tmp_path / "parties.csv"
    parties.write_text(
        "id,name,country,ref\nP1,Bank of Kunlun,CN,r1\nP2,,DE,r2\nP3,Acme Widgets,DE,r3\n",
        encoding="utf-8",
    )
    done = run_tiergate("screen", "--file", str(parties), "--format", "json")
    results = json.loads(done.stdout)["results"]
    assert [r["status"] for r in results] == ["match", "indeterminate", "clear"]
    assert [r["ref"] for r in results] == ["r1", "r2", "r3"]
    assert done.returncode == 3


def test_check_no_screen_flag() -> None:
    done = run_tiergate("check", "examples/mixed_book.csv", "--format", "json")
    lines = {line["line_id"]: line for line in json.loads(done.stdout)["lines"]}
    assert lines["56"]["outcome"] == "PROHIBITED"
    assert lines["57"]["outcome"] == "HOLD"
    done = run_tiergate("check", "examples/mixed_book.csv", "--format", "json", "--no-screen")
    lines = {line["line_id"]: line for line in json.loads(done.stdout)["lines"]}
    assert lines["56"]["outcome"] == "NLR"


def test_suppressions_hide_a_reviewed_hit_until_the_entry_changes(tmp_path: Path) -> None:
    from dataclasses import replace

    import sqlalchemy as sa

    from tiergate.ledger.ledger import Ledger

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    ledger.upgrade()
    screener = Screener(SMALL)
    assert screener.screen("Huawei Technologies", "CN").status == "match"
    with pytest.raises(tiergate.errors.InputError, match="--by"):
        screener.suppression("Huawei Technologies", "CN", "EL:2", "", "no reason")
    with pytest.raises(tiergate.errors.InputError, match="not in the list edition"):
        screener.suppression("Huawei Technologies", "CN", "EL:999", "J. Doe", "reviewed")
    recorded = ledger.add_suppression(
        screener.suppression("Huawei Technologies", "China", "EL:2", "J. Doe", "a namesake"),
        "J. Doe",
    )
    assert recorded.country == "CN"
    assert recorded.list_edition.startswith("2026-07-31")
    assert recorded.id is not None
    screener = Screener(SMALL, suppressions=ledger.suppressions())
    result = screener.screen("Technologies Huawei", "CN")
    assert result.status == "clear"
    assert [s.by for _, s in result.suppressed] == ["J. Doe"]
    assert screener.screen("Huawei Technologies", "MY").status != "clear"  # other country
    assert screener.lapsed == {}
    # The list changes the entry: the suppression lapses and the hit is back, saying so.
    changed = _edition(
        *(
            replace(e, alt_names=(*e.alt_names, "HW")) if e.entry_id == "EL:2" else e
            for e in SMALL.entries
        )
    )
    later = Screener(changed, suppressions=ledger.suppressions())
    again = later.screen("Huawei Technologies", "CN")
    assert again.status == "match"
    assert again.lapsed
    assert "suppression_lapsed" in again.as_dict()["hits"][0]
    # The lapse is recorded once, audited, and the suppression shows as lapsed.
    assert ledger.record_lapses(later.lapsed.values(), "screening") == 1
    assert ledger.record_lapses(later.lapsed.values(), "screening") == 0
    assert [s.status for s in ledger.suppressions()] == ["lapsed"]
    actions = [entry["action"] for entry in ledger.audit_entries()]
    assert actions == ["suppression.add", "suppression.lapse"]
    assert ledger.audit_verify() == []
    # Reviving a lapsed suppression behind the trail's back is found.
    with ledger.engine.begin() as connection:
        connection.execute(sa.text("UPDATE suppressions SET status = 'active'"))
    assert "is active, which its audit entries do not say" in ledger.audit_verify()[0]


def test_suppress_commands_keep_suppressions_in_the_ledger(tmp_path: Path) -> None:
    suppress = (
        *("suppress", "Bank of Kunlun", "--entry", "CAP:15268"),
        *("--by", "J. Doe", "--reason", "test", "--country", "CN"),
    )
    refused = run_tiergate(*suppress, home=tmp_path)
    assert refused.returncode == 2
    assert "tiergate db upgrade" in refused.stderr
    assert (
        run_tiergate("screen", "Bank of Kunlun", "--country", "CN", home=tmp_path).returncode == 3
    )
    # A suppressions.json from before is moved into the ledger by `db upgrade`.
    legacy = tmp_path / "suppressions.json"
    legacy.write_text(
        json.dumps(
            [
                {
                    "party": "Huawei Technologies",
                    "party_key": "huawei technologies",
                    "country": "CN",
                    "entry_id": "EL:1",
                    "entry_fingerprint": "0" * 64,
                    "list_edition": "2026-07-31 82fe457632c3",
                    "by": "A. Reviewer",
                    "reason": "earlier review",
                    "at": "2026-08-01T00:00:00+00:00",
                }
            ]
        ),
        encoding="utf-8",
    )
    upgraded = run_tiergate("db", "upgrade", home=tmp_path)
    assert "moved 1 suppression(s)" in upgraded.stdout
    assert not legacy.exists()
    done = run_tiergate(*suppress, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CAP:15268" in done.stdout
    listed = json.loads(run_tiergate("suppressions", "--format", "json", home=tmp_path).stdout)
    assert [(s["entry_id"], s["status"]) for s in listed["suppressions"]] == [
        ("EL:1", "active"),
        ("CAP:15268", "active"),
    ]
    assert (
        run_tiergate("screen", "Bank of Kunlun", "--country", "CN", home=tmp_path).returncode == 0
    )
    exported = json.loads(run_tiergate("audit", "export", home=tmp_path).stdout)["audit"]
    assert [e["action"] for e in exported] == ["suppression.import", "suppression.add"]
    assert exported[1]["actor"] == "J. Doe"


def test_thresholds_are_configurable_from_the_command_line() -> None:
    default = json.loads(
        run_tiergate("screen", "Huawei Technologies", "--country", "MY", "--format", "json").stdout
    )
    assert default["results"][0]["status"] == "potential"  # perfect name, other country: 0.90
    lowered = run_tiergate(
        "screen",
        "Huawei Technologies",
        "--country",
        "MY",
        "--match-threshold",
        "0.9",
        "--format",
        "json",
    )
    assert json.loads(lowered.stdout)["results"][0]["status"] == "match"
    assert (
        run_tiergate(
            "screen", "x", "--match-threshold", "0.5", "--potential-threshold", "0.7"
        ).returncode
        == 2
    )


def test_the_index_is_kept_and_read_back_with_the_same_answers() -> None:
    settings = default_settings()
    snapshot = bundled_snapshot()
    folder = Path(os.environ["TIERGATE_CACHE"]) / "screening"  # the session's: built once
    names = [("Huawei Technologies", "CN"), ("Bank of Kunlun", None), ("Rosoboronexport", "RU")]
    names += [(entry.name, None) for entry in bundled_edition().entries[::500]]

    def answers(built: index.Index) -> list[list[tuple[str, str, float]]]:
        matcher = Matcher(built, settings)
        return [
            [
                (hit.entry.entry_id, hit.entry.fingerprint(), round(hit.score, 9))
                for hit in matcher.screen(name, country)
            ]
            for name, country in names
        ]

    stored(folder, snapshot, settings)
    read = stored(folder, snapshot, settings)
    assert isinstance(read, StoredIndex)
    assert answers(read) == answers(build(bundled_edition(), settings))
    assert read.info == bundled_edition().info()
    assert read.entry("CMIC:30947") == next(
        e for e in bundled_edition().entries if e.entry_id == "CMIC:30947"
    )
    assert read.entry("CMIC:none") is None
    # Read without parsing the snapshot: bytes that are no snapshot at all, under the real
    # digest, still find the kept index.
    unparsable = Snapshot(snapshot.path, b"not a snapshot", snapshot.sha256, recorded=True)
    assert isinstance(stored(folder, unparsable, settings), StoredIndex)


def _part_of_the_bundled_edition(folder: Path) -> Snapshot:
    """A snapshot of every tenth bundled entry: quick to index."""
    whole = bundled_edition()
    part = ListEdition(whole.name, whole.edition_date, whole.source, whole.entries[::10])
    write_snapshot(part, folder / "part.json.gz", "tests")
    return open_snapshot(folder / "part.json.gz")


@pytest.mark.parametrize("damage", ["truncated", "one byte changed"])
def test_a_damaged_index_file_is_rebuilt_with_the_same_answers(damage: str, tmp_path: Path) -> None:
    settings = default_settings()
    snapshot = _part_of_the_bundled_edition(tmp_path)
    names = [entry.name for entry in snapshot.edition().entries[::100]]

    def answers(built: index.Index) -> list[list[Hit]]:
        return [Matcher(built, settings).screen(name) for name in names]

    expected = answers(build(snapshot.edition(), settings))
    assert all(expected)
    stored(tmp_path / "cache", snapshot, settings)
    assert len(list((tmp_path / "cache").glob("index-*.sqlite.checked"))) == 1  # hashed on save
    assert isinstance(stored(tmp_path / "cache", snapshot, settings), StoredIndex)
    (kept,) = (tmp_path / "cache").glob("index-*.sqlite")
    before = kept.stat()
    raw = bytearray(kept.read_bytes())
    if damage == "truncated":
        del raw[-4096:]
    else:
        raw[len(raw) // 2] ^= 0x01
    kept.write_bytes(bytes(raw))
    # Even with its modification time put back, the change is seen (its change time moved).
    os.utime(kept, ns=(before.st_atime_ns, before.st_mtime_ns))
    rebuilt = stored(tmp_path / "cache", snapshot, settings)
    assert isinstance(rebuilt, MemoryIndex)  # the damaged file was not used
    assert answers(rebuilt) == expected
    (replacement,) = (tmp_path / "cache").glob("index-*.sqlite")  # the damaged one is gone
    assert replacement.read_bytes() != bytes(raw)
    read = stored(tmp_path / "cache", snapshot, settings)
    assert isinstance(read, StoredIndex)
    assert answers(read) == expected


def test_a_stored_index_gives_the_same_answers_whatever_it_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = default_settings()
    snapshot = _part_of_the_bundled_edition(tmp_path)
    names = [entry.name for entry in snapshot.edition().entries[::50]]
    built = Matcher(build(snapshot.edition(), settings), settings)
    expected = [built.screen(name) for name in names]
    stored(tmp_path / "cache", snapshot, settings)
    for kept in (index._KEPT, 40):  # everything read, or a few rows at a time
        monkeypatch.setattr(index, "_KEPT", kept)
        read = stored(tmp_path / "cache", snapshot, settings)
        assert isinstance(read, StoredIndex)
        matcher = Matcher(read, settings)
        assert [matcher.screen(n) for n in names] == expected
        assert [matcher.screen(n) for n in names] == expected  # again, from what it kept


def test_settings_that_shape_the_index_name_another_file(tmp_path: Path) -> None:
    settings = default_settings()
    snapshot = _part_of_the_bundled_edition(tmp_path)
    stored(tmp_path / "cache", snapshot, settings)
    (kept,) = (tmp_path / "cache").glob("index-*.sqlite")
    rescored = settings.model_copy(
        update={"thresholds": settings.thresholds.model_copy(update={"match": 0.99})}
    )
    assert isinstance(stored(tmp_path / "cache", snapshot, rescored), StoredIndex)
    reshaped = settings.model_copy(update={"weak_tokens": [*settings.weak_tokens, "bank"]})
    assert isinstance(stored(tmp_path / "cache", snapshot, reshaped), MemoryIndex)
    assert len(list((tmp_path / "cache").glob("index-*.sqlite"))) == 2
    assert kept.is_file()


def test_the_index_cache_keeps_the_most_recently_used(tmp_path: Path) -> None:
    small = build(SMALL, default_settings())
    keys = [f"{n:02x}" * 32 for n in range(index.KEEP + 1)]
    for key in keys:
        index.save(tmp_path, key, small)
        assert index.load(tmp_path, keys[0]) is not None  # the first is used after each save
    # The cache holds KEEP: the least recently used (the second saved) went, the first stays.
    assert len(list(tmp_path.glob("index-*.sqlite"))) == index.KEEP
    assert index.load(tmp_path, keys[1]) is None
    last = index.load(tmp_path, keys[-1])
    assert last is not None
    assert last.variants(range(small.size)) == small.variants(range(small.size))
    assert last.postings(["huawei", "nothing"]) == small.postings(["huawei"])


def test_snapshot_fields_are_the_entry_fields_in_order() -> None:
    assert tuple(ListEntry.__dataclass_fields__) == FIELDS


def test_homes_share_the_screening_index_in_the_cache(tmp_path: Path) -> None:
    cache = Path(os.environ["TIERGATE_CACHE"]) / "screening"
    for home in ("one", "two"):
        assert run_tiergate("screen", "Huawei Technologies", home=tmp_path / home).returncode == 3
    assert not list(tmp_path.rglob("index-*.sqlite"))  # nothing derived in a home
    assert len(list(cache.glob("index-*.sqlite"))) == 1


def test_an_analyser_keeps_a_bounded_number_of_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiergate.screening import names

    monkeypatch.setattr(names, "_ANALYSED", 10)
    analyser = Analyser(default_settings())
    fresh = Analyser(default_settings())
    keys = [analyser.analyse(f"Trading Company {n}") for n in range(35)]
    assert len(analyser._cache) <= 10
    assert keys == [fresh.analyse(f"Trading Company {n}") for n in range(35)]
    assert analyser.analyse("Trading Company 0") == keys[0]  # analysed again after a clear
