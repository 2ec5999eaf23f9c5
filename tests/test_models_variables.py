"""Estimation-sample variables of eocic.models.variables against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.models.variables import (
    cluster_employment,
    division_lq,
    grouping_from_mapping,
    growth_status,
    growth_window,
    region_division_sample,
    region_sample,
    related_of_grouping,
    section_grouping,
    validate_grouping,
)


def _sbs(rows):
    frame = pd.DataFrame(rows, columns=["geo", "nace_r2", "year", "employment"])
    frame["local_units"] = frame["employment"] / 10
    frame["wages_eur"] = frame["employment"] * 30000.0
    frame["employment_estimated"] = False
    frame["apportioned"] = False
    return frame


@pytest.fixture
def two_regions():
    """R1: A01=10, A02=30, B03=60; R2: A01=40, A02=20, B03=140 (2010). Cluster X = {A01, A02}.

    2015: R1 A01 doubles, R1 A02 exits (0), R2 B03 unpublished, the rest unchanged."""
    start = [("XX11", "A01", 2010, 10.0), ("XX11", "A02", 2010, 30.0), ("XX11", "B03", 2010, 60.0),
             ("XX12", "A01", 2010, 40.0), ("XX12", "A02", 2010, 20.0), ("XX12", "B03", 2010, 140.0)]
    end = [("XX11", "A01", 2015, 20.0), ("XX11", "A02", 2015, 0.0), ("XX11", "B03", 2015, 60.0),
           ("XX12", "A01", 2015, 40.0), ("XX12", "A02", 2015, 20.0), ("XX12", "B03", 2015, np.nan)]
    return _sbs(start + end)


@pytest.fixture
def totals():
    """The published business-economy totals (2015: XX12 still 200, B03 only unpublished)."""
    return pd.DataFrame({"geo": ["XX11", "XX12", "XX11", "XX12"], "year": [2010, 2010, 2015, 2015],
                         "employment": [100.0, 200.0, 80.0, 200.0]})


def test_location_quotient_by_hand(two_regions):
    cells = two_regions[two_regions["year"] == 2010].copy()
    cells["regional_employment"] = cells["geo"].map({"XX11": 100.0, "XX12": 200.0})
    lq = division_lq(cells[["geo", "nace_r2", "employment", "regional_employment"]])
    lq.index = pd.MultiIndex.from_frame(cells[["geo", "nace_r2"]])
    assert lq[("XX11", "A01")] == pytest.approx((10 / 100) / (50 / 300))
    assert lq[("XX12", "B03")] == pytest.approx((140 / 200) / (200 / 300))


def test_cluster_lq_excludes_the_own_division(two_regions, totals):
    grouping = grouping_from_mapping({"X": ("A01", "A02")})
    sample = region_division_sample(two_regions, totals, grouping, 2010, 2015)
    frame = sample.frame.set_index(["geo", "nace_r2"])
    expected = {("XX11", "A01"): 1.8, ("XX11", "A02"): 0.6, ("XX12", "A01"): 0.6,
                ("XX12", "A02"): 1.2}
    for key, lq in expected.items():
        assert frame.loc[key, "ln_lq_cluster_t0"] == pytest.approx(np.log(lq)), key
    assert frame.loc[("XX11", "B03"), "ln_lq_cluster_t0"] == 0.0  # outside every cluster
    assert frame.loc[("XX11", "A01"), "ln_lq_t0"] == pytest.approx(np.log(0.6))
    assert frame.loc[("XX11", "A01"), "employment_growth"] == pytest.approx(np.log(2) / 5)
    assert np.isnan(frame.loc[("XX11", "A02"), "employment_growth"])  # exit: no growth
    assert frame.loc[("XX11", "A02"), "status"] == "exit"
    assert frame.loc[("XX12", "B03"), "status"] == "missing"
    counts = sample.counts.set_index(["measure", "status"])["cells"]
    assert counts[("employment", "continuing")] == 4 and counts[("employment", "exit")] == 1
    assert any("exit 1" in note for note in sample.notes)


def test_weighted_grouping_and_validation():
    employment = pd.Series([10.0, 30.0], index=pd.MultiIndex.from_tuples(
        [("XX11", "A01"), ("XX11", "A02")], names=["geo", "nace_r2"]))
    grouping = validate_grouping(pd.DataFrame({
        "division": ["A01", "A01", "A02"], "category": ["X", "Y", "X"],
        "weight": [0.25, 0.75, 1.0]}))
    wide = cluster_employment(employment, grouping)
    assert wide.loc["XX11", "X"] == pytest.approx(0.25 * 10 + 30)
    assert wide.loc["XX11", "Y"] == pytest.approx(7.5)
    with pytest.raises(ValueError, match="sum to more than 1"):
        validate_grouping(pd.DataFrame({"division": ["A01", "A01"], "category": ["X", "Y"],
                                        "weight": [0.6, 0.6]}))
    with pytest.raises(ValueError, match="missing column"):
        validate_grouping(pd.DataFrame({"division": ["A01"]}))
    assert set(section_grouping(["C10", "C11", "J62"])["category"]) == {"section C", "section J"}


def test_related_clusters_are_the_top_decile_of_co_location():
    # twelve regions of equal size; c2 moves with c1; c6 is c3's clone (allocated from the
    # same division): perfectly correlated with it, but never related to it
    rng = np.random.default_rng(4)
    base = np.arange(1.0, 13.0)
    wide = pd.DataFrame({"c1": base, "c2": 2 * base + rng.normal(0, 0.1, 12)},
                        index=[f"XX{k:02d}" for k in range(12)])
    for name in ("c3", "c4", "c5"):
        wide[name] = rng.permutation(base)
    wide["c6"] = 0.5 * wide["c3"]
    regional = pd.Series(1000.0, index=wide.index)
    grouping = validate_grouping(pd.DataFrame({
        "division": ["A01", "A02", "A03", "A04", "A05", "A03"],
        "category": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "weight": [1.0, 1.0, 0.5, 1.0, 1.0, 0.5]}))
    related, threshold = related_of_grouping(wide, regional, grouping)
    assert "c2" in related["c1"] and "c1" in related["c2"]
    assert "c6" not in related.get("c3", []) and "c3" not in related.get("c6", [])
    assert all(category not in others for category, others in related.items())
    assert 0 < threshold < 1.0


def test_growth_status_and_window():
    start = pd.Series([0.0, 5.0, 5.0, 0.0, np.nan])
    end = pd.Series([3.0, 0.0, 6.0, 0.0, 1.0])
    assert growth_status(start, end).tolist() == ["entry", "exit", "continuing", "absent",
                                                  "missing"]
    assert growth_window(range(2008, 2016), 2014) == (2009, 2014)
    assert growth_window(range(2011, 2016), 2014) == (2011, 2014)  # data start later
    assert growth_window(range(2008, 2016), 2014, t0=2010) == (2010, 2014)
    with pytest.raises(ValueError, match="no data for the final year 2020"):
        growth_window(range(2008, 2016), 2020)


def test_region_sample_derives_population_and_uses_the_lq_proxy(two_regions, totals):
    context = pd.DataFrame({
        "geo": ["XX11", "XX12", "XX11", "XX12", "XX11", "XX12"],
        "year": [2010, 2010, 2015, 2015, 2010, 2010],
        "indicator": ["gdp_eur_per_head"] * 4 + ["gdp_mio_eur"] * 2,
        "value": [20000.0, 30000.0, 22000.0, 30000.0, 2000.0, 6000.0],
    })
    sample = region_sample(two_regions, totals, context, 2010, 2015)
    frame = sample.frame.set_index("geo")
    assert frame.loc["XX11", "ln_population_t0"] == pytest.approx(np.log(100_000))
    assert frame.loc["XX11", "gdp_per_head_growth"] == pytest.approx(np.log(1.1) / 5)
    # LQ >= 2 cells: none in XX11 (max LQ 1.8 is a cluster LQ, own LQs are 0.6, 1.8, 0.9)
    lq_r1_a02 = (30 / 100) / (50 / 300)
    assert lq_r1_a02 < 2 and frame.loc["XX11", "strong_cluster_share_t0"] == 0.0
    assert any(note.startswith("PROXY: strong clusters") for note in sample.notes)
    assert any("Population derived" in note for note in sample.notes)
