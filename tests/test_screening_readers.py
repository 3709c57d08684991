"""The list readers against the real downloads in ../shared/data/screening and small
hand-written files in the published formats."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tiergate.screening.lists import (
    ListEdition,
    ListEntry,
    ListFormatError,
    make_entry_id,
    read_csl_compact_json,
)
from tiergate.screening.readers import (
    CSL_FULL_COLUMNS,
    diff_editions,
    read_csl_csv,
    read_csl_json,
    read_list,
    read_ofac_sdn,
    sdn_aliases,
    sdn_nationalities,
    sdn_programs,
)

SCREENING = Path(__file__).resolve().parents[2] / "shared" / "data" / "screening"
COMPACT = "csl_consolidated_screening_list_compact_2026-07-31.json"
EXPANDED = "csl_consolidated_screening_list_compact_2026-07-31_expanded.csv"
SDN_2024 = "ofac_sdn_2024-05-03.csv"
SDN_2021 = "ofac_sdn_2021-08-18.csv"


@pytest.fixture(scope="module")
def screening() -> Path:
    if not SCREENING.is_dir():
        pytest.skip("../shared/data/screening is not present on this machine")
    return SCREENING


@pytest.fixture(scope="module")
def compact(screening: Path) -> ListEdition:
    return read_csl_compact_json(screening / COMPACT)


@pytest.fixture(scope="module")
def expanded(screening: Path) -> ListEdition:
    return read_csl_csv(screening / EXPANDED)


@pytest.fixture(scope="module")
def sdn_2024(screening: Path) -> ListEdition:
    return read_ofac_sdn(screening / SDN_2024)


@pytest.fixture(scope="module")
def sdn_2021(screening: Path) -> ListEdition:
    return read_ofac_sdn(screening / SDN_2021)


def _by_id(edition: ListEdition) -> dict[str, ListEntry]:
    return {entry.entry_id: entry for entry in edition.entries}


# --- CSL CSV ---------------------------------------------------------------------------


def test_expanded_csv_matches_the_compact_snapshot(
    expanded: ListEdition, compact: ListEdition
) -> None:
    assert len(expanded.entries) == 25_921
    assert expanded.edition_date == date(2026, 7, 31)
    assert expanded.counts() == compact.counts()
    assert expanded.counts()["SDN"] == 19_181
    assert expanded.counts()["EL"] == 3_420
    assert [e.entry_id for e in expanded.entries] == [e.entry_id for e in compact.entries]
    # The same entries; the CSV splits joined programs ("E.O. 13382; Export-Import Bank
    # Act"), which the compact snapshot keeps as one table string, and one alias cell that
    # the snapshot keeps whole.
    changes = diff_editions(compact, expanded)
    assert changes.counts()["added"] == changes.counts()["removed"] == 0
    for old, new in changes.changed:
        assert "; ".join(old.programs) == "; ".join(new.programs)
        assert replace(old, programs=new.programs, alt_names=new.alt_names) == new


def test_entity_list_rows_get_stable_hash_ids(expanded: ListEdition, screening: Path) -> None:
    listed = [e for e in expanded.entries if e.list_code == "EL"]
    assert len(listed) == 3_420
    assert all(e.entry_id.startswith("EL:h") for e in listed)
    assert all(e.entry_id.split("#")[0] == make_entry_id("EL", None, e.name) for e in listed)
    assert all(e.entity_type is None for e in listed)
    again = read_csl_csv(screening / EXPANDED)
    assert [e.entry_id for e in again.entries] == [e.entry_id for e in expanded.entries]
    assert again.content_hash == expanded.content_hash
    ids = [e.entry_id for e in expanded.entries]
    assert len(set(ids)) == len(ids)


def _full_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSL_FULL_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


FULL_ROWS = [
    {
        "_id": "a1",
        "source": "Specially Designated Nationals (SDN) - Treasury Department",
        "entity_number": "12345",
        "type": "Entity",
        "programs": "IRAN; SDGT",
        "name": ' "PARS" TRADING, LLC ',
        "addresses": "12 Azadi St., Tehran, , 1234, IR; Office 4\nSheikh Zayed Rd, Dubai, , , AE",
        "alt_names": "PARS TRADING CO.; شركة پارس",
        "remarks": "a.k.a. 'PARS'.",
        "source_list_url": "https://sanctionslist.ofac.treas.gov/Home/SdnList",
    },
    {
        "_id": "b2",
        "source": "Entity List (EL) - Bureau of Industry and Security",
        "name": "Acme Elektronik A.S.",
        "addresses": "Ataturk Cad. 1, Istanbul, , 34000, TURKIYE",
        "federal_register_notice": "89 FR 12345",
        "license_requirement": " For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 ",
        "license_policy": "Presumption of denial.",
    },
    {
        "_id": "c3",
        "source": "Denied Persons List (DPL) - Bureau of Industry and Security",
        "name": " MICKEY MOUSE",
        "addresses": "123 S. TEST DRIVE, SCOTTSDALE, AZ, 85251",
        "standard_order": "Y",
    },
]


def test_full_trade_gov_csv(tmp_path: Path) -> None:
    path = tmp_path / "consolidated_2025-01-15.csv"
    path.write_text(_full_csv(FULL_ROWS), encoding="utf-8-sig")
    edition = read_csl_csv(path)
    assert edition.edition_date == date(2025, 1, 15)
    sdn, el, dpl = edition.entries
    assert sdn.entry_id == "SDN:12345"
    assert sdn.name == '"PARS" TRADING, LLC'
    assert sdn.alt_names == ("PARS TRADING CO.", "شركة پارس")
    assert sdn.programs == ("IRAN", "SDGT")
    assert sdn.countries == ("IR", "AE")
    assert sdn.entity_type == "Entity"
    assert el.list_code == "EL"
    assert el.entry_id == make_entry_id("EL", None, "Acme Elektronik A.S.")
    assert el.countries == ("TR",)
    assert el.entity_type is None
    assert el.programs == ()
    # Kept as published, footnote digit and all; only stripped.
    assert el.license_requirement == "For all items subject to the EAR, see §§ 734.9(e)1 and 744.11"
    assert el.federal_register_notice == "89 FR 12345"
    assert dpl.name == "MICKEY MOUSE"
    assert dpl.countries == ()  # an address that ends at its postal code names no country
    assert read_list(path).content_hash == edition.content_hash


def test_csv_edition_date_is_given_or_in_the_name(tmp_path: Path) -> None:
    path = tmp_path / "consolidated.csv"
    path.write_text(_full_csv(FULL_ROWS[:1]), encoding="utf-8")
    with pytest.raises(ListFormatError, match="pass `edition_date`"):
        read_csl_csv(path)
    assert read_csl_csv(path, edition_date=date(2025, 2, 1)).edition_date == date(2025, 2, 1)


def test_csv_row_with_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    text = _full_csv(FULL_ROWS) + "x,Entity List (EL) - Bureau of Industry and Security,,\r\n"
    path = tmp_path / "consolidated_2025-01-15.csv"
    path.write_text(text, encoding="utf-8")
    # The header is line 1 and the first row's address runs over two lines.
    with pytest.raises(ListFormatError, match=r"line 6 has 4 fields"):
        read_csl_csv(path)


def test_csv_row_without_a_name_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "consolidated_2025-01-15.csv"
    path.write_text(_full_csv([{**FULL_ROWS[2], "name": "  "}]), encoding="utf-8")
    with pytest.raises(ListFormatError, match=r"line 2 has no `name`"):
        read_csl_csv(path)


def test_csv_with_another_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other_2025-01-15.csv"
    path.write_text("source,name,country\r\nX,Y,CN\r\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match=r"neither the trade\.gov CSL CSV"):
        read_csl_csv(path)


# --- CSL JSON --------------------------------------------------------------------------


def _trade_gov_json(results: list[dict[str, object]], total: int | None = None) -> str:
    return json.dumps(
        {
            "total": len(results) if total is None else total,
            "sources": [],
            "results": results,
        },
        ensure_ascii=False,
    )


JSON_RESULTS: list[dict[str, object]] = [
    {
        "source": "Military End User (MEU) List - Bureau of Industry and Security",
        "entity_number": None,
        "type": None,
        "programs": [],
        "name": "Xian Aero-Engine Corporation",
        "alt_names": ["XAEC", " "],
        "addresses": [
            {"address": "1 Road", "city": "Xi'an", "country": "CN"},
            {"address": "2 Road", "city": "Hong Kong", "country": "HK"},
        ],
        "license_requirement": "For all items subject to the EAR.",
        "license_policy": "Presumption of denial.",
        "federal_register_notice": "85 FR 83793",
        "source_list_url": "https://www.bis.doc.gov/",
    },
    {
        "source": "Specially Designated Nationals (SDN) - Treasury Department",
        "entity_number": 36,
        "type": "Entity",
        "programs": ["CUBA"],
        "name": "AEROCARIBBEAN AIRLINES",
        "alt_names": None,
        "addresses": [{"city": "Havana", "country": "CU"}],
    },
]


def test_trade_gov_json(tmp_path: Path) -> None:
    path = tmp_path / "consolidated.json"
    path.write_text(_trade_gov_json(JSON_RESULTS), encoding="utf-8")
    edition = read_csl_json(path, edition_date=date(2026, 8, 1))
    meu, sdn = edition.entries
    assert meu.entry_id == make_entry_id("MEU", None, "Xian Aero-Engine Corporation")
    assert meu.alt_names == ("XAEC",)
    assert meu.countries == ("CN", "HK")
    assert meu.programs == ()
    assert meu.license_policy == "Presumption of denial."
    assert sdn.entry_id == "SDN:36"
    assert sdn.programs == ("CUBA",)
    assert sdn.countries == ("CU",)
    assert read_list(path, date(2026, 8, 1)).content_hash == edition.content_hash


def test_trade_gov_json_refuses_a_partial_page_and_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "consolidated_2026-08-01.json"
    path.write_text(_trade_gov_json(JSON_RESULTS, total=2_000), encoding="utf-8")
    with pytest.raises(ListFormatError, match="says `total` 2000 but holds 2 results"):
        read_csl_json(path)
    path.write_text(_trade_gov_json([*JSON_RESULTS, {**JSON_RESULTS[1], "programs": 7}]))
    with pytest.raises(ListFormatError, match=r"result 3 cannot be read: `programs`"):
        read_csl_json(path)
    path.write_text(_trade_gov_json([{**JSON_RESULTS[1], "name": None}]))
    with pytest.raises(ListFormatError, match=r"result 1 has no `name`"):
        read_csl_json(path)


def test_json_reader_hands_the_compact_snapshot_on(screening: Path, compact: ListEdition) -> None:
    edition = read_csl_json(screening / COMPACT)
    assert edition.content_hash == compact.content_hash
    assert edition.edition_date == compact.edition_date
    later = read_csl_json(screening / COMPACT, edition_date=date(2026, 8, 2))
    assert later.edition_date == date(2026, 8, 2)


# --- OFAC sdn.csv ----------------------------------------------------------------------


def test_ofac_files_parse(sdn_2024: ListEdition, sdn_2021: ListEdition) -> None:
    assert len(sdn_2024.entries) == 14_965
    assert len(sdn_2021.entries) == 9_083
    assert sdn_2024.edition_date == date(2024, 5, 3)
    assert sdn_2021.edition_date == date(2021, 8, 18)
    assert sdn_2024.counts() == {"SDN": 14_965}
    types = {e.entity_type for e in sdn_2024.entries}
    assert types == {"Entity", "Individual", "Vessel", "Aircraft"}


def test_ofac_trailing_eof_byte_is_skipped(screening: Path, tmp_path: Path) -> None:
    data = (screening / SDN_2024).read_bytes()
    assert data.endswith(b"\r\n\x1a")
    assert data.count(b"\r\n") == 14_965  # every line but the lone \x1a one
    without = tmp_path / "sdn_2024-05-03.csv"
    without.write_bytes(data[:-1])
    assert read_ofac_sdn(without).content_hash == read_ofac_sdn(screening / SDN_2024).content_hash
    # A \x1a anywhere but at the end is a line with the wrong field count.
    inside = tmp_path / "sdn_inside_2024-05-03.csv"
    first_line_end = data.index(b"\r\n") + 2
    inside.write_bytes(data[:first_line_end] + b"\x1a\r\n" + data[first_line_end:])
    with pytest.raises(ListFormatError, match=r"line 2 has 1 fields, expected 12"):
        read_ofac_sdn(inside)


def test_ofac_empty_marker_is_empty(sdn_2024: ListEdition) -> None:
    entry = _by_id(sdn_2024)["SDN:36"]
    assert entry == replace(
        entry,
        name="AEROCARIBBEAN AIRLINES",
        alt_names=(),
        entity_type="Entity",
        programs=("CUBA",),
        countries=(),
        license_requirement=None,
        federal_register_notice=None,
    )
    for e in sdn_2024.entries:
        assert "-0-" not in (e.name, e.entity_type, *e.alt_names, *e.programs, *e.countries)


def test_ofac_aliases_programs_and_nationalities(sdn_2024: ListEdition) -> None:
    entries = _by_id(sdn_2024)
    bnc = entries["SDN:306"]
    assert bnc.name == "BANCO NACIONAL DE CUBA"
    assert bnc.alt_names == ("BNC",)
    assert bnc.source == "Specially Designated Nationals (SDN) - Treasury Department"
    jarraya = entries["SDN:7835"]
    assert "ABDEL' AZIZ BEN NARVAN" in jarraya.alt_names  # an apostrophe inside the quotes
    assert len(jarraya.alt_names) == 7
    assert jarraya.countries == ("TN", "BA")  # nationality, alt. nationality
    assert jarraya.entity_type == "Individual"
    assert entries["SDN:4632"].programs == ("IRAN", "SDGT", "IRGC", "IFSR")
    # Remarks are cut at 1,000 characters: the last, unfinished alias is not taken.
    assert entries["SDN:27307"].alt_names[-1] == "THE NEW ROMANTIC CYBER ARMY TEAM"
    assert sum(bool(e.alt_names) for e in sdn_2024.entries) > 2_000


def test_sdn_cell_parsers() -> None:
    assert sdn_programs("SDGT] [IRGC") == ("SDGT", "IRGC")
    assert sdn_programs("[SDGT] [IRGC]") == ("SDGT", "IRGC")
    assert sdn_programs("CUBA") == ("CUBA",)
    assert sdn_programs(None) == ()
    assert sdn_aliases("a.k.a. 'BNC'.") == ("BNC",)
    assert sdn_aliases("DOB 1970; a.k.a. 'ABU AL-WAFA''; f.k.a. 'PEOPLE'S ARMY'.") == (
        "ABU AL-WAFA'",
        "PEOPLE'S ARMY",
    )
    assert sdn_aliases("n.k.a. 'LGOK'; Linked To: X.") == ("LGOK",)
    assert sdn_aliases("a.k.a. 'FOO'; a.k.a. 'BA") == ("FOO",)
    assert sdn_nationalities("nationality Russia; Nationality of Registration Korea, North.") == (
        "RU",
        "KP",
    )
    assert sdn_nationalities("POB Moscow, Russia; citizen Russia.") == ()


@pytest.mark.parametrize(
    ("partial", "message"),
    [
        (b'99999,"HALF A NAM', r"line 101 is not valid CSV"),
        (b'99999,"HALF A NAME",-0- ,"SDGT",-0- ', r"line 101 has 5 fields, expected 12"),
    ],
)
def test_truncated_ofac_file_names_the_line(
    screening: Path, tmp_path: Path, partial: bytes, message: str
) -> None:
    data = (screening / SDN_2024).read_bytes()
    offset = 0
    for _ in range(100):
        offset = data.index(b"\r\n", offset) + 2
    path = tmp_path / "sdn_2024-05-03.csv"
    path.write_bytes(data[:offset] + partial)
    with pytest.raises(ListFormatError, match=message):
        read_ofac_sdn(path)


def test_ofac_row_without_a_number_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "sdn_2024-05-03.csv"
    path.write_bytes(b'36,"A",-0- ,"CUBA"' + b",-0- " * 8 + b'\r\nX,"B"' + b",-0- " * 10 + b"\r\n")
    with pytest.raises(ListFormatError, match=r"line 2 has `X` for `ent_num`"):
        read_ofac_sdn(path)


# --- diffs and dispatch ------------------------------------------------------------------


def test_diff_between_ofac_editions(sdn_2021: ListEdition, sdn_2024: ListEdition) -> None:
    changes = diff_editions(sdn_2021, sdn_2024)
    old_ids = {e.entry_id for e in sdn_2021.entries}
    new_ids = {e.entry_id for e in sdn_2024.entries}
    counts = changes.counts()
    assert counts["added"] == len(new_ids - old_ids) > 0
    assert counts["removed"] == len(old_ids - new_ids) > 0
    assert len(sdn_2021.entries) - counts["removed"] + counts["added"] == len(sdn_2024.entries)
    assert 0 < counts["changed"] <= len(old_ids & new_ids)
    for old, new in changes.changed:
        assert old.entry_id == new.entry_id
        assert old.fingerprint() != new.fingerprint()
    assert {e.entry_id for e in changes.added} == new_ids - old_ids
    assert {e.entry_id for e in changes.removed} == old_ids - new_ids
    same = diff_editions(sdn_2024, sdn_2024)
    assert same.counts() == {"added": 0, "removed": 0, "changed": 0}
    assert not same
    assert changes


def test_read_list_dispatches(screening: Path, tmp_path: Path) -> None:
    assert read_list(screening / COMPACT).name == "US Consolidated Screening List"
    assert len(read_list(screening / EXPANDED).entries) == 25_921
    sdn = read_list(screening / SDN_2021)
    assert sdn.counts() == {"SDN": 9_083}
    other = tmp_path / "notes_2024-01-01.csv"
    other.write_text("id;name\r\n1;x\r\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="not a list format"):
        read_list(other)


def test_compact_json_and_expanded_csv_are_the_same_edition() -> None:
    if not SCREENING.is_dir():
        pytest.skip("shared screening data is not present")
    compact = read_csl_compact_json(
        SCREENING / "csl_consolidated_screening_list_compact_2026-07-31.json"
    )
    expanded = read_csl_csv(
        SCREENING / "csl_consolidated_screening_list_compact_2026-07-31_expanded.csv"
    )
    assert diff_editions(compact, expanded).counts() == {"added": 0, "removed": 0, "changed": 0}
    assert compact.content_hash == expanded.content_hash
