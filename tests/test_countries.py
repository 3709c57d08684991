"""Country names users type map to the codes the rules use; nothing is guessed."""

from __future__ import annotations

from datetime import date

import pytest

from tiergate.countries import CountryResolver
from tiergate.rulebook import default_rulebook

ON = date(2025, 6, 1)


@pytest.fixture(scope="module")
def resolver() -> CountryResolver:
    return CountryResolver(default_rulebook().countries)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Korea, South", "KR"),
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("kr", "KR"),
        ("KOR", "KR"),
        ("Burma", "MM"),
        ("Myanmar", "MM"),
        ("Macao", "MO"),
        ("Macau", "MO"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("China (PRC)", "CN"),
        ("People's Republic of China", "CN"),
        ("Russian Federation", "RU"),
        ("United Arab Emirates", "AE"),
        ("UAE", "AE"),
        ("Viet Nam", "VN"),
        ("Taiwan", "TW"),
        ("Congo (Democratic Republic of)", "CD"),
        ("South Sudan, Republic of", "SS"),
        ("  united   states  ", "US"),
    ],
)
def test_names_resolve(resolver: CountryResolver, text: str, code: str) -> None:
    place = resolver.resolve(text, ON)
    assert place is not None
    assert place.code == code


def test_hong_kong_is_treated_as_china_and_says_so(resolver: CountryResolver) -> None:
    place = resolver.resolve("Hong Kong", ON)
    assert place is not None
    assert place.code == "CN"
    assert place.given_code == "HK"
    assert place.note is not None
    assert "treated as China" in place.note
    assert place.citation is not None
    assert "85 FR 83788" in place.citation


def test_embargoed_regions_keep_their_region(resolver: CountryResolver) -> None:
    for text, region in (("Crimea", "crimea"), ("Donetsk", "dnr"), ("LNR", "lnr")):
        place = resolver.resolve(text, ON)
        assert place is not None
        assert place.code == "UA"
        assert place.region == region
    plain = resolver.resolve("Ukraine", ON)
    assert plain is not None
    assert plain.region is None


@pytest.mark.parametrize("text", ["Atlantis", "Korea", "", "XX", "Chin"])
def test_unknown_or_ambiguous_names_are_not_guessed(resolver: CountryResolver, text: str) -> None:
    assert resolver.resolve(text, ON) is None


def test_ambiguous_names_explain_the_choices(resolver: CountryResolver) -> None:
    import tiergate

    assert resolver.resolve("Congo", ON) is None
    result = tiergate.check([tiergate.Line(item="L4", quantity=1, destination="Korea")]).lines[0]
    assert result.outcome is tiergate.Outcome.INDETERMINATE
    assert "ambiguous" in result.errors[0]
    assert "KR or KP" in result.errors[0]


def test_iso_names_resolve_as_countrynames_reads_them() -> None:
    # ISO 3166 names are looked up before countrynames (whose table takes 0.7 s to build):
    # that must not change what any of them resolves to.
    import countrynames
    import pycountry

    resolver = CountryResolver(default_rulebook().countries)
    on = date(2026, 1, 1)
    checked = 0
    for country in pycountry.countries:
        for name in (
            country.name,
            *(getattr(country, f, None) for f in ("common_name", "official_name")),
        ):
            if not name:
                continue
            place = resolver.resolve(name, on)
            if resolver.ambiguity(name) is not None:
                assert place is None
                continue
            assert place is not None, name
            via_countrynames = countrynames.to_code(name)
            assert via_countrynames in (None, place.given_code), (name, via_countrynames)
            checked += 1
    assert checked > 400
    # The rulebook's aliases name what countrynames names, where it knows the name.
    for alias in default_rulebook().countries.aliases:
        assert countrynames.to_code(alias.name) in (None, alias.code), alias
