"""The bundled rulebook loads strictly, passes lint, and matches the eCFR data it came from."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tiergate.compiled import Compiler
from tiergate.countries import CountryResolver
from tiergate.errors import RulebookError
from tiergate.lint import lint
from tiergate.rulebook import View, default_rulebook, load_rulebook


def test_bundled_rulebook_passes_lint() -> None:
    assert lint(default_rulebook()) == []


def test_rulebook_version_changes_with_content(rulebook_copy: Path) -> None:
    before = load_rulebook(rulebook_copy).version
    path = rulebook_copy / "allowances.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("26900000", "26900001"), encoding="utf-8"
    )
    assert load_rulebook(rulebook_copy).version != before


def test_unknown_key_fails_with_file_and_path(rulebook_copy: Path) -> None:
    path = rulebook_copy / "rules.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    kind: embargo\n", "    kind: embargo\n    kidn: x\n", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as error:
        load_rulebook(rulebook_copy)
    message = str(error.value)
    assert "rules.yaml" in message
    assert "rules.0.kidn" in message


def test_norway_code_must_be_quoted(rulebook_copy: Path) -> None:
    # YAML reads a bare NO as false: the strict loader must refuse it, not drop Norway.
    path = rulebook_copy / "country_groups.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('country: "NO"', "country: NO"), encoding="utf-8"
    )
    with pytest.raises(RulebookError, match="country"):
        load_rulebook(rulebook_copy)


def _lint_after(rulebook_copy: Path, name: str, old: str, new: str) -> list[str]:
    path = rulebook_copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return lint(load_rulebook(rulebook_copy))


def test_lint_finds_uncited_rule(rulebook_copy: Path) -> None:
    old = (
        'citation: "15 CFR Part 746 (746.4 North Korea: all items but EAR99 food and medicine; '
        '746.7 Iran); neither excludes deemed exports"'
    )
    problems = _lint_after(rulebook_copy, "rules.yaml", old, 'citation: "a blog post"')
    assert any("embargo.comprehensive" in p and "cites" in p for p in problems)


def test_lint_finds_overlapping_intervals(rulebook_copy: Path) -> None:
    problems = _lint_after(
        rulebook_copy,
        "rules.yaml",
        "    effective_to: 2023-05-18\n",
        "    effective_to: 2023-05-25\n",
    )
    assert any("embargo.russia-belarus" in p and "overlapping" in p for p in problems)


def test_lint_finds_unknown_country_code(rulebook_copy: Path) -> None:
    problems = _lint_after(rulebook_copy, "countries.yaml", 'code: "MM"', 'code: "ZZ"')
    assert any("`ZZ`" in p for p in problems)


def test_lint_finds_duplicate_ids(rulebook_copy: Path) -> None:
    problems = _lint_after(
        rulebook_copy, "rules.yaml", "id: embargo.syria-ccl", "id: embargo.syria"
    )
    assert any("`embargo.syria`" in p and "2 times" in p for p in problems)


def test_lint_finds_dangling_reference(rulebook_copy: Path) -> None:
    problems = _lint_after(
        rulebook_copy, "rules.yaml", "exceptions: [NAC, ACA]", "exceptions: [NAC, ACB]"
    )
    assert any("ACB" in p for p in problems)


def test_every_uncertain_fact_explains_itself() -> None:
    rb = default_rulebook()
    for fact in [
        *rb.rules.rules,
        *rb.exceptions.exceptions,
        *rb.advisories.advisories,
        *rb.allowances.allowances,
    ]:
        if fact.uncertain:
            assert fact.uncertain_note, fact.id


def test_brief_uncertain_items_are_flagged() -> None:
    # The brief marks these UNCERTAIN: they must be flagged in the data, never silent truth.
    rb = default_rulebook()
    uae_d4 = [
        m for g in rb.country_groups.groups if g.id == "D:4" for m in g.members if m.country == "AE"
    ]
    assert uae_d4
    assert all(m.uncertain for m in uae_d4)
    nveu = next(e for e in rb.exceptions.exceptions if e.id == "veu-national")
    assert nveu.uncertain
    cambodia = [
        m for g in rb.country_groups.groups if g.id == "D:5" for m in g.members if m.country == "KH"
    ]
    assert [(m.effective_to, m.uncertain) for m in cambodia] == [
        (date(2025, 11, 6), False),
        (date(2026, 2, 2), True),
    ]


def test_allocation_figure_is_read_from_the_text() -> None:
    # 742.6(b)(10)(iii)(B)(1) writes the figure; the brief had called it derived.
    rb = default_rulebook()
    allocation = next(a for a in rb.allowances.allowances if a.id == "tier2-country-allocation")
    assert allocation.limit_tpp == 790_000_000
    assert not allocation.uncertain
    assert "742.6(b)(10)(iii)(B)(1)" in allocation.citation


def test_country_groups_on_2026_07_23_match_ecfr(shared_data: Path) -> None:
    rb = default_rulebook()
    resolver = CountryResolver(rb.countries)
    compiled = Compiler(rb, resolver).for_date(date(2026, 7, 23), View.WRITTEN)
    source = json.loads(
        (shared_data / "ecfr" / "ecfr_15cfr740_supp1_country_groups_2026-07-23.json").read_text(
            encoding="utf-8"
        )
    )
    for group, names in source["groups"].items():
        expected = set()
        for name in names:
            place = resolver.resolve(name, date(2026, 7, 23))
            assert place is not None, name
            expected.add(place.given_code)
        assert compiled.group_members.get(group, frozenset()) == expected, group


def test_dated_group_changes() -> None:
    rb = default_rulebook()
    compiler = Compiler(rb, CountryResolver(rb.countries))
    d5 = lambda on: compiler.for_date(on, View.ENFORCED).group_members["D:5"]  # noqa: E731
    assert "KH" in d5(date(2026, 2, 2))
    assert "KH" not in d5(date(2026, 2, 3))
    assert "NI" not in d5(date(2024, 3, 14))
    assert "NI" in d5(date(2024, 3, 15))
    assert "CY" in d5(date(2024, 5, 29))
    assert "CY" not in d5(date(2024, 5, 30))
    assert len(d5(date(2025, 1, 15))) == 23


def test_tier1_has_us_and_eighteen() -> None:
    rb = default_rulebook()
    compiled = Compiler(rb, CountryResolver(rb.countries)).for_date(date(2025, 6, 1), View.WRITTEN)
    assert len(compiled.sets["tier1"]) == 19
    assert "US" in compiled.sets["tier1"]
    assert "KR" in compiled.sets["tier1"]
    assert "IN" in compiled.sets["tier2"]
    assert "MO" in compiled.sets["macau-or-d5"]
    assert "CN" not in compiled.sets["tier2"]


def test_uae_in_advanced_computing_scope_although_in_a5() -> None:
    # The CCL 3A090.b country chart names the UAE besides D:1/D:4/D:5 less A:5/A:6.
    rb = default_rulebook()
    compiled = Compiler(rb, CountryResolver(rb.countries)).for_date(date(2026, 8, 1), View.ENFORCED)
    assert "AE" in compiled.group_members["A:5"]
    assert "AE" in compiled.sets["advanced-computing-scope"]
    assert "IL" not in compiled.sets["advanced-computing-scope"]  # D:4 but also A:6


def test_compiled_tables_are_shared_within_an_epoch() -> None:
    rb = default_rulebook()
    compiler = Compiler(rb, CountryResolver(rb.countries))
    assert compiler.for_date(date(2024, 6, 1), View.ENFORCED) is compiler.for_date(
        date(2024, 7, 1), View.ENFORCED
    )
    assert compiler.for_date(date(2024, 4, 3), View.ENFORCED) is not compiler.for_date(
        date(2024, 4, 4), View.ENFORCED
    )


def _drop_first(path: Path, key: str) -> None:
    """Remove the first line of the rulebook file `path` that sets `key`."""
    text = path.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.strip().startswith(key))
    path.write_text(text.replace(line + "\n", "", 1), encoding="utf-8")


def test_a_release_date_condition_is_stated_in_the_rule_that_asks_for_it(
    rulebook_copy: Path,
) -> None:
    # The certification asked for an item of unknown release date is the rule's text, in data.
    _drop_first(rulebook_copy / "rules.yaml", "release_condition:")
    with pytest.raises(RulebookError, match="release_condition"):
        load_rulebook(rulebook_copy)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("    period_end: 2027-12-31\n", "", "needs `period_start` and `period_end`"),
        ("    period_end: 2027-12-31\n", "    period_end: 2024-12-31\n", "is after"),
        (
            "    kind: per_consignee_year\n",
            "    kind: per_consignee_year\n    period_start: 2025-01-13\n",
            "counts calendar years",
        ),
    ],
)
def test_an_allowance_period_is_complete_and_fits_its_kind(
    rulebook_copy: Path, old: str, new: str, problem: str
) -> None:
    # Before, a per-country allowance without dates was counted under the period `None/None`.
    path = rulebook_copy / "allowances.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulebookError, match=problem):
        load_rulebook(rulebook_copy)


def test_a_rule_counts_only_against_a_per_country_allowance(rulebook_copy: Path) -> None:
    # The per-consignee LPP allowance carries no allocation texts: a rule naming it is refused.
    problems = _lint_after(
        rulebook_copy,
        "rules.yaml",
        "allocation: tier2-country-allocation",
        "allocation: lpp-consignee-year",
    )
    assert any("unknown per-country allowance `lpp-consignee-year`" in p for p in problems)


def test_a_country_allocation_states_what_it_does_in_data(rulebook_copy: Path) -> None:
    _drop_first(rulebook_copy / "allowances.yaml", "exceeded_message:")
    with pytest.raises(RulebookError, match="exceeded_message"):
        load_rulebook(rulebook_copy)
