"""Allocation and indicators of the cluster mapping, against numbers computed by hand.

The tiny economy (persons employed, one year 2020):

    region   C10  C20  C30 | E_r
    AA11       5   80   15 | 100
    AA12      40   40   20 | 100
    AA13      50   30  120 | 200
    EU        95  150  155 | 400
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.clusters.indicators import AllocationError, allocate, category_indicators
from eocic.clusters.mapping import sector_weights

EMPLOYMENT_2020 = {
    "AA11": {"C10": 5, "C20": 80, "C30": 15},
    "AA12": {"C10": 40, "C20": 40, "C30": 20},
    "AA13": {"C10": 50, "C20": 30, "C30": 120},
}


def tiny_sbs(employment: dict = EMPLOYMENT_2020, year: int = 2020) -> pd.DataFrame:
    rows = []
    for geo, cells in employment.items():
        for division, persons in cells.items():
            rows.append({"geo": geo, "nace_r2": division, "year": year,
                         "employment": float(persons), "local_units": float(persons) / 5,
                         "wages_eur": float(persons) * 40_000.0})
    return pd.DataFrame(rows)


def business_economy(employment: dict = EMPLOYMENT_2020, year: int = 2020) -> pd.DataFrame:
    """E_r as the ``regional_totals`` table publishes it: the regions' whole employment,
    whether or not a cell is confidential."""
    return pd.DataFrame({"geo": list(employment), "year": year,
                         "regional_employment": [float(sum(cells.values()))
                                                 for cells in employment.values()]})


def indicators_of(sbs: pd.DataFrame, weights: pd.DataFrame, totals: pd.DataFrame | None = None,
                  **kwargs) -> pd.DataFrame:
    allocated, _ = allocate(sbs, weights, max_incomplete=kwargs.pop("max_incomplete", 0.0))
    if totals is None:  # every cell published: the total is their sum
        totals = (sbs.groupby(["geo", "year"], as_index=False)["employment"].sum()
                  .rename(columns={"employment": "regional_employment"}))
    return category_indicators(allocated, totals, **kwargs).set_index(
        ["geo", "category", "year"])


def test_location_quotients_and_size_shares_by_hand():
    sbs = tiny_sbs()
    table = indicators_of(sbs, sector_weights(sbs["nace_r2"]))
    expected_lq = {  # (E_rc / E_r) / (E_EU,c / E_EU)
        ("AA11", "C10"): 0.05 / (95 / 400), ("AA11", "C20"): 0.80 / (150 / 400),
        ("AA11", "C30"): 0.15 / (155 / 400), ("AA12", "C10"): 0.40 / (95 / 400),
        ("AA13", "C30"): 0.60 / (155 / 400),
    }
    for (geo, category), lq in expected_lq.items():
        assert table.loc[(geo, category, 2020), "lq"] == pytest.approx(lq)
    assert table.loc[("AA11", "C20", 2020), "lq"] == pytest.approx(2.133333, abs=1e-6)
    assert table.loc[("AA12", "C10", 2020), "lq"] == pytest.approx(1.684211, abs=1e-6)
    assert table.loc[("AA11", "C20", 2020), "size_share"] == pytest.approx(80 / 150)
    assert table.loc[("AA13", "C30", 2020), "size_share"] == pytest.approx(120 / 155)
    assert table.loc[("AA13", "C30", 2020), "focus"] == pytest.approx(0.6)
    assert table.loc[("AA13", "C30", 2020), "regional_employment"] == 200
    assert table.loc[("AA11", "C20", 2020), "avg_unit_size"] == pytest.approx(5.0)
    assert table.loc[("AA11", "C20", 2020), "wage_per_employee"] == pytest.approx(40_000.0)
    assert (table["basis"] == "exact").all()
    assert table["note"].isna().all()  # an LQ with a value has no note (null)


def test_allocated_category_sums_weighted_divisions():
    sbs = tiny_sbs()
    weights = pd.DataFrame({
        "category": ["mix", "mix", "solo"], "category_name": ["Mix", "Mix", "Solo"],
        "division": ["C10", "C20", "C30"], "weight": [1.0, 0.5, 1.0],
        "basis": ["exact", "class_count", "exact"]})
    table = indicators_of(sbs, weights)
    # E_AA11,mix = 5 + 0.5 * 80 = 45; EU mix = 95 + 75 = 170
    assert table.loc[("AA11", "mix", 2020), "employment"] == pytest.approx(45.0)
    assert table.loc[("AA11", "mix", 2020), "lq"] == pytest.approx(0.45 / (170 / 400))
    assert table.loc[("AA11", "mix", 2020), "basis"] == "allocated"
    assert table.loc[("AA11", "mix", 2020), "weight_basis"] == "class_count|exact"
    assert table.loc[("AA11", "solo", 2020), "basis"] == "exact"
    # wages are allocated with the same weights: W = 40,000 EUR x E
    assert table.loc[("AA11", "mix", 2020), "wages_eur"] == pytest.approx(45 * 40_000.0)
    assert table.loc[("AA11", "mix", 2020), "relative_wage"] == pytest.approx(1.0)


def test_confidential_cell_is_missing_never_zero():
    sbs = tiny_sbs()
    sbs.loc[(sbs["geo"] == "AA12") & (sbs["nace_r2"] == "C30"), "employment"] = np.nan
    table = indicators_of(sbs, sector_weights(sbs["nace_r2"]), business_economy())
    assert np.isnan(table.loc[("AA12", "C30", 2020), "lq"])
    assert table.loc[("AA12", "C30", 2020), "note"] == "missing"
    # E_AA12 is the published business-economy total, 100, not the 80 of its published cells;
    # the benchmark of C30 is taken over the regions publishing C30: E_EU,C30 = 15 + 120 = 135,
    # E_EU^(C30) = 100 + 200 = 300 (a zero would give 0.15 / (135 / 400))
    assert table.loc[("AA11", "C30", 2020), "lq"] == pytest.approx(0.15 / (135 / 300))
    assert table.loc[("AA12", "C10", 2020), "lq"] == pytest.approx((40 / 100) / (95 / 400))
    assert table.loc[("AA11", "C30", 2020), "size_share"] == pytest.approx(15 / 135)


def test_incomplete_share_and_tolerance():
    sbs = tiny_sbs()
    sbs.loc[(sbs["geo"] == "AA12") & (sbs["nace_r2"] == "C30"), "employment"] = np.nan
    weights = pd.DataFrame({"category": ["both", "both"], "category_name": ["Both", "Both"],
                            "division": ["C10", "C30"], "weight": [1.0, 1.0],
                            "basis": ["exact", "exact"]})
    strict = indicators_of(sbs, weights, business_economy())
    # weight mass = w x EU division employment over published cells: C10 95, C30 135
    assert strict.loc[("AA12", "both", 2020), "incomplete"] == pytest.approx(135 / 230)
    assert np.isnan(strict.loc[("AA12", "both", 2020), "employment"])
    assert strict.loc[("AA12", "both", 2020), "note"] == "incomplete"
    assert strict.loc[("AA11", "both", 2020), "incomplete"] == 0.0
    lenient = indicators_of(sbs, weights, business_economy(), max_incomplete=0.6)
    assert lenient.loc[("AA12", "both", 2020), "employment"] == pytest.approx(40.0)
    just_below = indicators_of(sbs, weights, business_economy(), max_incomplete=0.58)  # 135/230 = 0.587 > 0.58
    assert np.isnan(just_below.loc[("AA12", "both", 2020), "employment"])


def test_absent_row_counts_as_missing_and_uncovered_division_is_reported():
    sbs = tiny_sbs()
    sbs = sbs[~((sbs["geo"] == "AA13") & (sbs["nace_r2"] == "C10"))]
    weights = pd.DataFrame({"category": ["food", "food"], "category_name": ["Food", "Food"],
                            "division": ["C10", "A01"], "weight": [1.0, 1.0],
                            "basis": ["exact", "exact"]})
    allocated, uncovered = allocate(sbs, weights)
    assert uncovered.to_dict("records") == [{"category": "food", "division": "A01", "weight": 1.0}]
    food = allocated.set_index("geo")
    assert np.isnan(food.loc["AA13", "employment"])
    assert food.loc["AA11", "employment"] == 5.0


def test_growth_cagr_and_window_fallback():
    sbs = pd.concat([
        tiny_sbs({"AA11": {"C20": 50, "C30": 10}, "AA12": {"C20": 0, "C30": 10}}, 2015),
        tiny_sbs({"AA11": {"C20": 70, "C30": 10}, "AA12": {"C20": 5, "C30": 10}}, 2018),
        tiny_sbs({"AA11": {"C20": 80, "C30": 10}, "AA12": {"C20": 8, "C30": 10}}, 2020),
    ], ignore_index=True)
    table = indicators_of(sbs, sector_weights(sbs["nace_r2"]), growth_years=5)
    assert table.loc[("AA11", "C20", 2020), "growth"] == pytest.approx(1.6 ** 0.2 - 1)
    assert table.loc[("AA11", "C20", 2020), "growth_years"] == 5
    # 2013 is not in the data: the first year 2015 is the base, k = 3
    assert table.loc[("AA11", "C20", 2018), "growth"] == pytest.approx(1.4 ** (1 / 3) - 1)
    assert table.loc[("AA11", "C20", 2018), "growth_years"] == 3
    assert np.isnan(table.loc[("AA11", "C20", 2015), "growth"])
    assert table.loc[("AA11", "C20", 2015), "growth_note"] == "first_year"
    assert np.isnan(table.loc[("AA12", "C20", 2020), "growth"])  # zero base: never inf
    assert table.loc[("AA12", "C20", 2020), "growth_note"] == "zero_base"
    assert not np.isinf(table.select_dtypes("number").to_numpy()).any()


def test_zero_totals_give_nan_with_reason_never_inf():
    sbs = tiny_sbs({"AA11": {"C10": 0, "C20": 0}, "AA12": {"C10": 0, "C20": 10},
                    "AA13": {"C10": 0, "C20": 5}})
    table = indicators_of(sbs, sector_weights(sbs["nace_r2"]))
    assert table.loc[("AA11", "C20", 2020), "note"] == "zero_regional_total"
    assert table.loc[("AA12", "C10", 2020), "note"] == "zero_eu_category"
    assert np.isnan(table.loc[("AA12", "C10", 2020), "lq"])
    assert not np.isinf(table.select_dtypes("number").to_numpy()).any()


def test_bad_weights_named():
    sbs = tiny_sbs()
    with pytest.raises(AllocationError, match="outside"):
        allocate(sbs, pd.DataFrame({"category": ["x"], "category_name": ["X"],
                                    "division": ["C10"], "weight": [50.0], "basis": ["exact"]}))
    with pytest.raises(AllocationError, match="columns"):
        allocate(sbs, pd.DataFrame({"category": ["x"], "division": ["C10"]}))


def random_sbs(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    geos = [f"AA{n:02d}" for n in range(20)]
    divisions = [f"C{n}" for n in range(10, 18)]
    index = pd.MultiIndex.from_product([geos, divisions, [2019, 2020, 2021]],
                                       names=["geo", "nace_r2", "year"])
    sbs = index.to_frame(index=False)
    sbs["employment"] = rng.lognormal(6, 1.5, len(sbs)).round()
    sbs["local_units"] = (sbs["employment"] / 8).round() + 1
    sbs["wages_eur"] = sbs["employment"] * rng.uniform(2e4, 6e4, len(sbs))
    sbs.loc[rng.random(len(sbs)) < 0.08, "employment"] = np.nan
    return sbs


def test_invariants_on_random_economy():
    sbs = random_sbs()
    weights = pd.DataFrame({
        "category": ["a", "a", "b", "b", "c", "d"], "category_name": list("aabbcd"),
        "division": ["C10", "C11", "C11", "C12", "C13", "C17"],
        "weight": [1.0, 0.3, 0.7, 1.0, 1.0, 1.0], "basis": "class_employment"})
    table = indicators_of(sbs, weights, max_incomplete=0.2).reset_index()
    shares = table.groupby(["category", "year"])["size_share"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)
    with_lq = table[table["lq"].notna()]
    weighted_mean = (with_lq["regional_employment"] * with_lq["lq"]).groupby(
        [with_lq["category"], with_lq["year"]]).sum() / with_lq.groupby(
        ["category", "year"])["regional_employment"].sum()
    np.testing.assert_allclose(weighted_mean.to_numpy(), 1.0)
    assert table["incomplete"].between(0, 1).all()


def test_weights_in_another_code_format_are_rejected():
    sbs = tiny_sbs()
    weights = pd.DataFrame({"category": ["x"], "category_name": ["X"], "division": ["10"],
                            "weight": [1.0], "basis": ["exact"]})
    with pytest.raises(AllocationError, match="C29"):
        allocate(sbs, weights)
