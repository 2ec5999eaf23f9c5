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
    neighbour_cluster_lq,
    related_of_grouping,
    related_term_clusters,
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


# ------------------------------------------------------------ related term: own-division rule


@pytest.fixture
def overlapping_clusters():
    """Twelve regions, six divisions. X = {A01, half of A02}, Y = {half of A02, A03}: A02 is
    split over X and Y, which are related (they co-locate, partly because they share A02).
    Z = {B04}, W = {B05} (B05 moves with B04: related), V = {B06} (related to Z at P70)."""
    rng = np.random.default_rng(7)
    geos = [f"XX{k:02d}" for k in range(12)]
    base = np.linspace(10, 120, 12)
    columns = {"A01": base, "A02": base * 1.5 + rng.normal(0, 1, 12),
               "A03": base * 0.8 + rng.normal(0, 1, 12), "B04": rng.permutation(base),
               "B06": rng.permutation(base)}
    columns["B05"] = columns["B04"] * 2 + rng.normal(0, 1, 12)
    rows = [(g, d, 2010, float(v[k])) for d, v in columns.items() for k, g in enumerate(geos)]
    rows += [(g, d, 2015, float(v[k]) * 1.1) for d, v in columns.items()
             for k, g in enumerate(geos)]
    sbs = _sbs(rows)
    totals = sbs.groupby(["geo", "year"], as_index=False)["employment"].sum()
    totals["employment"] *= 3
    grouping = validate_grouping(pd.DataFrame({
        "division": ["A01", "A02", "A02", "A03", "B04", "B05", "B06"],
        "category": ["X", "X", "Y", "Y", "Z", "W", "V"],
        "weight": [1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0]}))
    return sbs, totals, grouping


def test_own_division_never_sits_inside_the_related_term(overlapping_clusters):
    sbs, totals, grouping = overlapping_clusters
    start = sbs[sbs["year"] == 2010].set_index(["geo", "nace_r2"])["employment"]
    regional = totals[totals["year"] == 2010].set_index("geo")["employment"]
    wide = cluster_employment(start, grouping)
    related, _ = related_of_grouping(wide, regional, grouping, percentile=70)
    assert related["X"] == ["Y"] and related["Z"] == ["V", "W"]   # the one definition: kept
    term = related_term_clusters(related, grouping)
    assert term["X"] == [] and term["Y"] == []   # X and Y share A02: out of each other's term
    assert term["Z"] == ["V", "W"] and term["W"] == ["Z"]
    sample = region_division_sample(sbs, totals, grouping, 2010, 2015, related_percentile=70)
    frame = sample.frame.set_index(["geo", "nace_r2"])
    members = grouping.groupby("category")["division"].agg(set)
    for (geo, division), category in frame["category"].items():
        inside = set().union(*(members[c] for c in term.get(category, [])))
        assert division not in inside and not (inside & members[category]), (geo, division)
    # A02's cell in XX03: its cluster X has no related cluster left -> 0 (sector FE absorbs it)
    assert (frame.xs("A02", level="nace_r2")["ln_lq_related_t0"] == 0.0).all()
    assert (frame.xs("A01", level="nace_r2")["ln_lq_related_t0"] == 0.0).all()
    # W's term is Z alone: the LQ of B04, by hand
    geo = "XX05"
    by_hand = ((start[(geo, "B04")] / regional[geo])
               / (start.xs("B04", level="nace_r2").sum() / regional.sum()))
    assert frame.loc[(geo, "B05"), "ln_lq_related_t0"] == pytest.approx(np.log(by_hand))
    assert any("share a division and are left out" in note for note in sample.notes)


def test_a_related_division_without_value_is_counted_not_zeroed(overlapping_clusters):
    sbs, totals, grouping = overlapping_clusters
    hole = (sbs["geo"] == "XX04") & (sbs["nace_r2"] == "B04") & (sbs["year"] == 2010)
    sbs.loc[hole, "employment"] = np.nan      # neither published nor estimated
    sample = region_division_sample(sbs, totals, grouping, 2010, 2015, related_percentile=70)
    frame = sample.frame.set_index(["geo", "nace_r2"])
    # W's and V's term pools Z = {B04}: the hole is counted in XX04 only
    assert frame.loc[("XX04", "B05"), "related_members_missing"] == 1
    assert frame.loc[("XX04", "B06"), "related_members_missing"] == 1
    assert frame.loc[("XX05", "B05"), "related_members_missing"] == 0
    assert frame.loc[("XX04", "A01"), "related_members_missing"] == 0   # X: empty term
    assert any("related_members_missing > 0" in note for note in sample.notes)
    # the shipped table A leaves these cells out (never a hole counted as zero)
    from eocic.models.specifications import shipped_registry
    for name in ("A", "A_ppml", "A_neighbours"):
        assert "related_members_missing == 0" in str(shipped_registry()[name].models[0].sample)


# ------------------------------------------------------------ neighbouring regions


def test_neighbour_cluster_lq_by_hand(two_regions, totals):
    """XX11 and XX12 are neighbours; XX13 (an island) has none."""
    island = two_regions[two_regions["geo"] == "XX11"].assign(geo="XX13")
    sbs = pd.concat([two_regions, island], ignore_index=True)
    totals = pd.concat([totals, totals[totals["geo"] == "XX11"].assign(geo="XX13")],
                       ignore_index=True)
    grouping = grouping_from_mapping({"X": ("A01", "A02")})
    neighbours = {"XX11": ("XX12",), "XX12": ("XX11",), "XX13": ()}
    sample = region_division_sample(sbs, totals, grouping, 2010, 2015, neighbours=neighbours)
    frame = sample.frame.set_index(["geo", "nace_r2"])
    share = (40 + 60 + 40) / 400     # cluster X over all regions: G_X / E
    assert frame.loc[("XX11", "A01"), "ln_lq_neighbours_t0"] == pytest.approx(
        np.log((60 / 200) / share))   # XX12's cluster X: 40 + 20 of 200
    assert frame.loc[("XX12", "A02"), "ln_lq_neighbours_t0"] == pytest.approx(
        np.log((40 / 100) / share))
    assert np.isnan(frame.loc[("XX13", "A01"), "ln_lq_neighbours_t0"])   # no neighbour
    assert np.isnan(frame.loc[("XX13", "B03"), "ln_lq_neighbours_t0"])   # the whole region
    assert frame.loc[("XX11", "B03"), "ln_lq_neighbours_t0"] == 0.0      # outside clusters
    assert frame.loc[("XX13", "A01"), "neighbour_regions"] == 0
    assert frame.loc[("XX11", "A01"), "neighbour_regions"] == 1
    assert any("without a neighbour in the data (XX13)" in note for note in sample.notes)
    # without a neighbour list, no neighbour columns
    plain = region_division_sample(sbs, totals, grouping, 2010, 2015)
    assert "ln_lq_neighbours_t0" not in plain.frame.columns


def test_neighbour_lq_is_the_employment_weighted_mean_of_the_neighbours_lqs():
    wide = pd.DataFrame({"X": [10.0, 30.0, 5.0, 0.0], "Y": [1.0, 2.0, 3.0, 4.0]},
                        index=["AA11", "AA12", "AA13", "AA14"])
    regional = pd.Series([100.0, 300.0, 50.0, 80.0], index=wide.index)
    neighbours = {"AA11": ("AA12", "AA13", "ZZ99"), "AA12": ("AA11",), "AA13": ("AA11",),
                  "AA14": ()}
    holes = np.zeros((4, 2))
    holes[1, 0] = 1.0
    lq, count, neighbour_holes = neighbour_cluster_lq(wide, regional, holes, neighbours)
    own_lq = (wide.div(regional, axis=0)) / (wide.sum() / regional.sum())
    weighted = ((own_lq.loc[["AA12", "AA13"]].mul(regional[["AA12", "AA13"]], axis=0)).sum()
                / regional[["AA12", "AA13"]].sum())
    assert lq[0] == pytest.approx(weighted.to_numpy())
    assert count.tolist() == [2, 1, 1, 0]          # ZZ99 is not in the data: not counted
    assert np.isnan(lq[3]).all()
    assert neighbour_holes[0, 0] == 1 and neighbour_holes[2, 0] == 0
