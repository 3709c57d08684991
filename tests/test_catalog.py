"""The chip catalog: coverage, provenance, and agreement with Epoch AI's data it cites."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tiergate.catalog import Catalog
from tiergate.rulebook import default_rulebook

REQUIRED = [
    "H100 SXM",
    "H100 PCIe",
    "H100 NVL",
    "H200 SXM",
    "H800 SXM",
    "H20",
    "A100 SXM 80GB",
    "A800",
    "B200",
    "B300",
    "GB200",
    "L40",
    "L40S",
    "L4",
    "A40",
    "RTX 4090",
    "RTX 4090 D",
    "RTX 5090",
    "RTX 6000 Ada",
    "MI300X",
    "MI308X",
    "MI325X",
    "Gaudi 2",
    "Gaudi 3",
    "Ascend 910B",
    "Ascend 910C",
    "TPU v5p",
    "HGX H100 8-GPU",
    "DGX H100",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(default_rulebook())


def test_catalog_covers_the_issue_list(catalog: Catalog) -> None:
    assert len(catalog) >= 30
    missing = [name for name in REQUIRED if catalog.find(name) is None]
    assert missing == []


def test_lookup_ignores_case_spacing_and_vendor(catalog: Catalog) -> None:
    h100 = catalog.find("H100 SXM")
    assert h100 is not None
    for spelling in ("h100-sxm", "NVIDIA H100 SXM", "nvidia h100sxm", "H100_SXM5"):
        assert catalog.find(spelling) is h100, spelling
    assert catalog.find("H100 SXM6") is None
    assert "H100 SXM" in catalog.suggest("H100 SMX")


def test_every_figure_has_a_source(catalog: Catalog) -> None:
    for chip in catalog.chips.values():
        for figure in (
            chip.tpp,
            chip.die_area_mm2,
            chip.dram_bandwidth_gbps,
            chip.interconnect_gbps,
        ):
            assert figure.source.strip(), chip.id


def test_brief_figures(catalog: Catalog) -> None:
    # Brief section 8: H100 SXM 15,832 TPP on 814 mm² (PD 19.45); H20 2,368 TPP.
    h100 = catalog.find("H100 SXM")
    assert h100 is not None
    assert h100.tpp.value == 15832
    assert h100.die_area_mm2.value == 814
    assert round(15832 / 814, 2) == 19.45
    h20 = catalog.find("H20")
    assert h20 is not None
    assert h20.tpp.value == 2368


def test_boards_contain_catalog_chips(catalog: Catalog) -> None:
    hgx = catalog.find("HGX H100 8-GPU")
    assert hgx is not None
    inner, count = catalog.unit_chip(hgx)
    assert inner.id == "nvidia-h100-sxm"
    assert count == 8


def test_figures_citing_epoch_match_epoch(catalog: Catalog, shared_data: Path) -> None:
    path = shared_data / "hardware" / "epoch_ml_hardware_2026-07-18.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    compared = 0
    for row in rows:
        chip = catalog.find(row["Hardware name"])
        raw = row["Total processing performance (bit-OP/s)"]
        if chip is None or not raw or chip.tpp.value is None:
            continue
        if not chip.tpp.source.startswith("Epoch"):
            continue
        compared += 1
        assert chip.tpp.value == pytest.approx(float(raw) / 1e12, rel=0.005), chip.id
    assert compared >= 10
