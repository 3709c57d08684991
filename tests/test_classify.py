"""Classification by thresholds: property tests against the CCL text, restated independently."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from tiergate.classify import Specs
from tiergate.engine import Engine
from tiergate.rulebook import ItemType

AFTER_2023 = date(2024, 6, 1)
IN_2022_RULE = date(2023, 6, 1)
EDGES = [1599.0, 1600.0, 2399.0, 2400.0, 4799.0, 4800.0, 4800.5, 15832.0]


def expected_scope(tpp: float, area: float, datacenter: bool) -> str:
    """ECCN 3A090.a/.b and Note 2 (15 CFR 774 Supp. 1, eCFR 2026-07-23), restated."""
    pd = tpp / area
    if not datacenter and tpp < 4800:
        return "below-threshold"
    if tpp >= 4800 or (tpp >= 1600 and pd >= 5.92):
        return "3A090.a" if datacenter else "3A090.a:non-datacenter"
    if (2400 <= tpp < 4800 and 1.6 <= pd < 5.92) or (tpp >= 1600 and 3.2 <= pd < 5.92):
        return "3A090.b"
    return "below-threshold"


SEVERITY = {"below-threshold": 0, "3A090.b": 1, "3A090.a": 2, "3A090.a:non-datacenter": 2}

tpps = st.one_of(st.sampled_from(EDGES), st.floats(min_value=0, max_value=60000))
areas = st.one_of(
    st.sampled_from([270.3, 500.0, 814.0, 1000.0]), st.floats(min_value=20, max_value=3000)
)


@given(tpp=tpps, area=areas, datacenter=st.booleans())
def test_scope_matches_the_regulation(tpp: float, area: float, datacenter: bool) -> None:
    engine = Engine.shared()
    result = engine.classify(
        AFTER_2023, specs=Specs(tpp=tpp, die_area_mm2=area, datacenter=datacenter)
    )
    assert result.errors == ()
    assert result.scope == expected_scope(tpp, area, datacenter)


@given(low=tpps, high=tpps, area=areas)
def test_more_tpp_never_lowers_the_class(low: float, high: float, area: float) -> None:
    low, high = sorted((low, high))
    engine = Engine.shared()
    first = engine.classify(AFTER_2023, specs=Specs(tpp=low, die_area_mm2=area, datacenter=True))
    second = engine.classify(AFTER_2023, specs=Specs(tpp=high, die_area_mm2=area, datacenter=True))
    assert first.scope is not None
    assert second.scope is not None
    assert SEVERITY[second.scope] >= SEVERITY[first.scope]


@given(tpp=tpps, interconnect=st.one_of(st.sampled_from([599.0, 600.0]), st.floats(0, 2000)))
def test_2022_rule_needs_both_tests(tpp: float, interconnect: float) -> None:
    engine = Engine.shared()
    result = engine.classify(
        IN_2022_RULE, specs=Specs(tpp=tpp, interconnect_gbps=interconnect, die_area_mm2=800)
    )
    in_class = tpp >= 4800 and interconnect >= 600
    assert (result.scope == "3A090:2022") is in_class


def test_missing_die_area_is_indeterminate_only_when_it_matters() -> None:
    engine = Engine.shared()
    unsure = engine.classify(AFTER_2023, specs=Specs(tpp=2000))
    assert unsure.scope is None
    assert any("die_area_mm2" in error for error in unsure.errors)
    assert engine.classify(AFTER_2023, specs=Specs(tpp=5000)).scope == "3A090.a"
    assert engine.classify(AFTER_2023, specs=Specs(tpp=1000)).scope == "below-threshold"


def test_catalog_items_and_boards() -> None:
    engine = Engine.shared()
    h100 = engine.classify(AFTER_2023, item="H100 SXM")
    assert h100.eccn == "3A090.a"
    assert h100.specs.performance_density is not None
    assert round(h100.specs.performance_density, 2) == 19.45
    hgx = engine.classify(AFTER_2023, item="HGX H100 8-GPU")
    assert hgx.eccn == "4A090.a"
    assert hgx.unit_tpp == 8 * 15832
    l40 = engine.classify(AFTER_2023, item="L40")
    assert l40.scope == "3A090.b"
    gaming = engine.classify(AFTER_2023, item="RTX 4090")
    assert gaming.scope == "3A090.a:non-datacenter"
    h20 = engine.classify(AFTER_2023, item="H20")
    assert h20.scope == "below-threshold"
    tech = engine.classify(AFTER_2023, item="H100 SXM", item_type=ItemType.TECHNOLOGY)
    assert tech.eccn == "3E001"
    assert tech.scope == "3A090.a"


def test_a800_escaped_2022_rule_but_not_2023() -> None:
    engine = Engine.shared()
    assert engine.classify(IN_2022_RULE, item="A800").scope == "below-threshold"
    assert engine.classify(AFTER_2023, item="A800").scope == "3A090.a"


def test_hbm_density() -> None:
    engine = Engine.shared()
    hbm = ItemType.HBM
    over = engine.classify(
        date(2025, 1, 1), specs=Specs(memory_bandwidth_density=2.01), item_type=hbm
    )
    at = engine.classify(date(2025, 1, 1), specs=Specs(memory_bandwidth_density=2.0), item_type=hbm)
    before = engine.classify(
        date(2024, 12, 1), specs=Specs(memory_bandwidth_density=9.0), item_type=hbm
    )
    assert over.scope == "3A090.c"
    assert at.scope == "below-threshold"
    assert before.scope == "below-threshold"


def test_model_weights() -> None:
    engine = Engine.shared()
    weights = ItemType.MODEL_WEIGHTS
    on = date(2025, 6, 1)
    big = engine.classify(on, specs=Specs(training_operations=1e26), item_type=weights)
    small = engine.classify(on, specs=Specs(training_operations=9.99e25), item_type=weights)
    published = engine.classify(
        on, specs=Specs(training_operations=5e26, weights_published=True), item_type=weights
    )
    derived_small = engine.classify(
        on,
        specs=Specs(
            training_operations=2e26,
            derived_from_published=True,
            additional_training_operations=4e25,
        ),
        item_type=weights,
    )
    derived_big = engine.classify(
        on,
        specs=Specs(
            training_operations=2e26,
            derived_from_published=True,
            additional_training_operations=6e25,
        ),
        item_type=weights,
    )
    assert big.eccn == "4E091"
    assert small.eccn == "EAR99"
    # Published weights are outside the EAR altogether (734.3(b)(3), 734.7), not EAR99.
    assert (published.eccn, published.scope) == ("not subject to the EAR", "not-subject")
    assert derived_small.eccn == "EAR99"  # 4e25 <= max(2.5e25, 25 % of 2e26 = 5e25)
    assert derived_big.eccn == "4E091"


def test_declared_eccn() -> None:
    engine = Engine.shared()
    assert engine.classify(AFTER_2023, eccn="5A002.z.1.a").scope == "3A090.a"
    assert engine.classify(AFTER_2023, eccn="4A004.z.2").scope == "3A090.b"
    open_z = engine.classify(AFTER_2023, eccn="5A002.z.1")
    assert open_z.scope is None
    assert open_z.errors
    assert engine.classify(AFTER_2023, item="HGX B200 8-GPU", eccn="5A002.z.1").scope == "3A090.a"
    conflict = engine.classify(AFTER_2023, item="L40", eccn="3A090.a")
    assert conflict.scope is None
    assert "disagrees" in conflict.errors[0]
    unknown = engine.classify(AFTER_2023, eccn="9Z999")
    assert "not one tiergate knows" in unknown.errors[0]


def test_the_threshold_met_is_the_branch_the_specs_meet(engine: Engine) -> None:
    assert engine.classify(AFTER_2023, specs=Specs(tpp=5000)).threshold == "TPP >= 4800"
    dense = engine.classify(AFTER_2023, specs=Specs(tpp=4000, die_area_mm2=600))
    assert dense.threshold == "TPP >= 1600 and performance density >= 5.92"
