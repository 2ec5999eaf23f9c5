"""Stars, performance classes and the EOCIC 2020 comparison, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.clusters.indicators import allocate, category_indicators
from eocic.clusters.mapping import sector_weights
from eocic.clusters.stars import StarRules, award_stars, class_counts, panorama_2020_comparison


def tiny_sbs() -> pd.DataFrame:
    """The tiny economy of test_cluster_indicators (persons employed, 2020)."""
    employment = {"AA11": {"C10": 5, "C20": 80, "C30": 15},
                  "AA12": {"C10": 40, "C20": 40, "C30": 20},
                  "AA13": {"C10": 50, "C20": 30, "C30": 120}}
    return pd.DataFrame([{"geo": geo, "nace_r2": division, "year": 2020,
                          "employment": float(persons), "local_units": persons / 5.0,
                          "wages_eur": persons * 40_000.0}
                         for geo, cells in employment.items() for division, persons in cells.items()])


def test_stars_on_the_tiny_economy():
    sbs = tiny_sbs()
    wage = {("AA11", "C20"): 50_000, ("AA12", "C20"): 40_000, ("AA13", "C20"): 30_000}
    sbs["wages_eur"] = [row.employment * wage.get((row.geo, row.nace_r2), 35_000)
                        for row in sbs.itertuples()]
    allocated, _ = allocate(sbs, sector_weights(sbs["nace_r2"]))
    totals = (sbs.groupby(["geo", "year"], as_index=False)["employment"].sum()
              .rename(columns={"employment": "regional_employment"}))
    table = award_stars(category_indicators(allocated, totals))
    table = table.set_index(["geo", "category"])
    # C20: P90 of E [30, 40, 80] = 40 + 0.8 * 40 = 72 -> AA11; LQ 2.13 >= 2; wage P90 =
    # 40,000 + 0.8 * 10,000 = 48,000 -> AA11 (50,000): three stars, class high
    aa11 = table.loc[("AA11", "C20")]
    assert (aa11["size_star"], aa11["specialisation_star"], aa11["productivity_star"]) == (
        True, True, True)
    assert aa11["stars"] == 3 and aa11["is_cluster"] and aa11["performance_class"] == "high"
    # C10: P90 of [5, 40, 50] = 48 -> AA13 (50) has the size star but LQ 1.05: no cluster
    assert table.loc[("AA13", "C10"), "size_star"]
    assert not table.loc[("AA12", "C10"), "size_star"]
    assert not table.loc[("AA13", "C10"), "is_cluster"]
    assert pd.isna(table.loc[("AA13", "C10"), "performance_class"])
    # C30: P90 of [15, 20, 120] = 100 -> AA13 only
    assert table["size_star"].sum() == 3
    assert table["is_cluster"].sum() == 1


def crafted_table() -> pd.DataFrame:
    """Ten regions, two categories; P90 over ten values lies between the 9th and the 10th."""
    rows = []
    for k in range(10):
        rows.append({"geo": f"R{k}", "category": "a", "year": 2020, "employment": 10.0 * (k + 1),
                     "lq": 3.0 if k == 9 else 1.0, "wage_per_employee": 1000.0 * (k + 1),
                     "regional_employment": 1000.0})
        rows.append({"geo": f"R{k}", "category": "b", "year": 2020, "employment": 10.0 * (k + 1),
                     "lq": {9: 2.5, 8: 1.9, 0: 2.0, 5: 0.5}.get(k, 1.0),
                     "wage_per_employee": 20_000.0 if k == 5 else 1000.0,
                     "regional_employment": 1000.0})
    table = pd.DataFrame(rows)
    table.loc[(table["geo"] == "R3") & (table["category"] == "b"), "wage_per_employee"] = np.nan
    table.loc[(table["geo"] == "R4") & (table["category"] == "b"), "lq"] = np.nan
    return table


def test_classes_basic_medium_high():
    starred = award_stars(crafted_table()).set_index(["geo", "category"])
    assert starred.loc[("R9", "a"), "performance_class"] == "high"
    assert starred.loc[("R9", "b"), "performance_class"] == "medium"  # size, low wage
    assert starred.loc[("R9", "b"), "stars"] == 2
    assert starred.loc[("R0", "b"), "performance_class"] == "basic"  # LQ exactly 2
    assert not starred.loc[("R8", "b"), "is_cluster"]                  # LQ 1.9
    assert starred.loc[("R5", "b"), "productivity_star"]                # wage star only
    assert starred.loc[("R5", "b"), "stars"] == 1 and not starred.loc[("R5", "b"), "is_cluster"]
    assert not starred.loc[("R4", "b"), "specialisation_star"]         # missing LQ
    assert not starred.loc[("R3", "b"), "productivity_star"]           # missing wage
    counts = class_counts(starred.reset_index()).set_index("performance_class")
    assert counts.loc["high", "clusters"] == 1
    assert counts.loc["medium", "clusters"] == 1
    assert counts.loc["basic", "clusters"] == 1
    assert counts.loc["basic", "employment"] == 10.0


def test_rules_are_configurable():
    strict = award_stars(crafted_table(), StarRules(min_employment=50)).set_index(
        ["geo", "category"])
    assert not strict.loc[("R0", "b"), "is_cluster"]
    loose = award_stars(crafted_table(), StarRules(specialisation_lq=1.5, size_percentile=80))
    loose = loose.set_index(["geo", "category"])
    assert loose.loc[("R8", "b"), "is_cluster"]
    assert loose.loc[("R8", "b"), "size_star"]  # P80 of 10..100 = 82
    with pytest.raises(ValueError, match="percentile"):
        StarRules(size_percentile=190)


def test_panorama_comparison_by_hand():
    starred = award_stars(crafted_table()).assign(scheme="cluster")
    clustered = starred[starred["is_cluster"]].groupby("geo")["employment"].sum()
    scheme_totals = pd.DataFrame({
        "geo": [f"R{k}" for k in range(10)], "scheme": "cluster", "year": 2020,
        "employment": [20.0 * (k + 1) for k in range(10)],  # both categories
        "regional_employment": 1000.0})
    scheme_totals["cluster_employment"] = scheme_totals["geo"].map(clustered).fillna(0.0)
    total = pd.Series(2000.0, index=[f"R{k}" for k in range(9)])  # LFS, R9 without
    comparison = panorama_2020_comparison(starred, 2020, "cluster", scheme_totals=scheme_totals,
                                          total_employment=total).set_index("measure")
    assert comparison.loc["clusters", "this_study"] == 3
    assert comparison.loc["clusters", "panorama_2020"] == 2950
    assert comparison.loc["high", "ratio"] == pytest.approx(1 / 198)
    # clusters employ 100 (R9 a) + 100 (R9 b) + 10 (R0 b)
    traded = comparison.loc["share_of_traded_employment"]
    assert traded["this_study"] == pytest.approx(210 / 1100)
    assert traded["panorama_2020"] == 0.503
    assert comparison.loc["share_of_business_economy", "this_study"] == pytest.approx(210 / 10_000)
    assert np.isnan(comparison.loc["share_of_business_economy", "panorama_2020"])
    # total employment over the regions with LFS data (R0..R8): only R0's 10 clustered persons
    lfs = comparison.loc["share_of_total_employment"]
    assert lfs["this_study"] == pytest.approx(10 / (9 * 2000)) and lfs["regions"] == 9
    assert lfs["panorama_2020"] == 0.234
    without = panorama_2020_comparison(starred, 2020, "cluster", scheme_totals=scheme_totals)
    assert np.isnan(without.set_index("measure").loc["share_of_total_employment", "this_study"])
    with pytest.raises(ValueError, match="no rows"):
        panorama_2020_comparison(starred, 1999, "cluster", scheme_totals=scheme_totals)


def test_value_flags_mark_estimates_and_apportioned_regions():
    from eocic.clusters.stars import value_flags

    frame = pd.DataFrame({"estimated_share": [0.0, 0.004, 0.5, np.nan, 0.2],
                          "apportioned": [False, False, True, True, False]})
    assert value_flags(frame).tolist() == [None, "estimated <1%", "estimated 50%; apportioned",
                                           "apportioned", "estimated 20%"]
