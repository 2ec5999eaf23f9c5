"""Stress test arithmetic on a tiny hand-made SBS table (expected values computed by hand)."""

import math

import numpy as np
import pandas as pd
import pytest

from eocic.stress import exposure
from eocic.stress.scenarios import Scenario


def _sbs(rows):
    frame = pd.DataFrame(rows, columns=["geo", "nace_r2", "year", "employment"])
    frame["employment_estimated"] = False
    frame["apportioned"] = False
    return frame


def test_estimated_share_of_the_change(sbs, totals):
    marked = sbs.copy()
    marked.loc[(marked["geo"] == "AA11") & (marked["nace_r2"] == "C20"),
               "employment_estimated"] = True
    table = exposure.stress_test(marked, [_scenario(SHOCKS)], 2020, totals=totals)
    # AA11: C24 -100 published, C20 -25 estimated: 25 of 125
    assert table.set_index("geo").loc["AA11", "estimated_share"] == pytest.approx(0.2)


@pytest.fixture
def sbs():
    nan = float("nan")
    return _sbs([
        ("AA11", "C24", 2020, 1000.0), ("AA11", "C20", 2020, 500.0), ("AA11", "G47", 2020, 2000.0),
        ("AA12", "C24", 2020, nan), ("AA12", "C20", 2020, 100.0), ("AA12", "G47", 2020, 900.0),
        ("AA12", "C24", 2019, 400.0), ("AA12", "C24", 2021, 380.0),   # nearest: 2019 (tie -> earlier)
        ("AA13", "C24", 2020, 800.0), ("AA13", "C20", 2020, 0.0), ("AA13", "G47", 2020, 0.0),
    ])


@pytest.fixture
def totals():
    """Published business-economy totals: AA12 holds its confidential C24 (400 in 2019)."""
    return pd.DataFrame({"geo": ["AA11", "AA12", "AA13"], "year": 2020,
                         "employment": [3500.0, 1400.0, 800.0]})


def _scenario(shocks):
    return Scenario(name="hand", title="hand", unit="employment", horizon="", description="",
                    sources=(), shocks=pd.Series(shocks, dtype=float), path="<test>")


SHOCKS = {"C24": -0.10, "C20": -0.05}


def test_expected_change_by_hand(sbs, totals):
    table = exposure.stress_test(sbs[sbs["year"].isin([2019, 2020, 2021])], [_scenario(SHOCKS)], 2020,
                                 totals=totals)
    by_geo = table.set_index("geo")
    # AA11: -0.10 * 1000 - 0.05 * 500 = -125 persons, of 3500
    assert by_geo.loc["AA11", "expected_change"] == pytest.approx(-125.0)
    assert by_geo.loc["AA11", "expected_change_pct"] == pytest.approx(-125.0 / 3500 * 100)
    assert by_geo.loc["AA11", "unknown_cells"] == 0
    # AA12: C24 without a value -> missing, not zero: only -0.05 * 100 known; the denominator
    # is the published business-economy total, 1400, not the 1000 of the cells with a value
    assert by_geo.loc["AA12", "expected_change"] == pytest.approx(-5.0)
    assert by_geo.loc["AA12", "employment"] == pytest.approx(1400.0)
    assert by_geo.loc["AA12", "expected_change_pct"] == pytest.approx(-5.0 / 1400 * 100)
    assert by_geo.loc["AA12", "unknown_cells"] == 1
    # unknown C24 sized from the nearest year (2019 and 2021 equally near -> 2019: 400)
    assert by_geo.loc["AA12", "unknown_share"] == pytest.approx(400.0 / 1400.0)


def test_region_with_one_cluster_gets_its_full_shock(sbs, totals):
    table = exposure.stress_test(sbs, [_scenario(SHOCKS)], 2020, totals=totals).set_index("geo")
    assert table.loc["AA13", "expected_change"] == pytest.approx(-80.0)
    assert table.loc["AA13", "expected_change_pct"] == pytest.approx(-10.0)
    assert table.loc["AA13", "hhi"] == pytest.approx(1.0)
    assert table.loc["AA13", "effective_number"] == pytest.approx(1.0)


def test_rank_most_negative_first(sbs, totals):
    table = exposure.stress_test(sbs, [_scenario(SHOCKS)], 2020, totals=totals)
    assert table["geo"].tolist() == ["AA13", "AA11", "AA12"]
    assert table["rank"].tolist() == [1, 2, 3]


def test_herfindahl_by_hand(sbs):
    portfolio = exposure.division_portfolio(sbs, 2020)
    hhi = exposure.concentration(portfolio).set_index("geo")
    # AA11 shares 2/7, 1/7, 4/7 -> (4 + 1 + 16) / 49
    assert hhi.loc["AA11", "hhi"] == pytest.approx(21 / 49)
    assert hhi.loc["AA11", "effective_number"] == pytest.approx(49 / 21)
    # AA12: C24 missing is left out and counted: shares 0.1, 0.9
    assert hhi.loc["AA12", "hhi"] == pytest.approx(0.01 + 0.81)
    assert hhi.loc["AA12", "units_missing"] == 1
    assert exposure.herfindahl(pd.Series([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.25)
    assert math.isnan(exposure.herfindahl(pd.Series([np.nan, 0.0])))


def test_positive_and_zero_shocks_and_confidential_unshocked(sbs, totals):
    # a confidential cell of an unshocked division does not make the change unknown
    table = exposure.stress_test(sbs, [_scenario({"G47": 0.02})], 2020,
                                 totals=totals).set_index("geo")
    assert table.loc["AA12", "expected_change"] == pytest.approx(18.0)
    assert table.loc["AA12", "unknown_cells"] == 0
    assert table.loc["AA12", "unknown_share"] == 0.0


def test_category_contributions_with_weights(sbs):
    cells = exposure.division_exposure(sbs, pd.Series(SHOCKS), 2020)
    weights = pd.DataFrame({"category": ["X", "X", "Y"], "category_name": ["x", "x", "y"],
                            "division": ["C24", "C20", "G47"], "weight": [0.5, 1.0, 1.0]})
    contributions = exposure.category_contributions(cells, weights).set_index(["geo", "unit"])
    # AA11: 0.5 * (-100) + 1.0 * (-25) = -75
    assert contributions.loc[("AA11", "X"), "contribution"] == pytest.approx(-75.0)
    # Y has no shocked division: not listed
    assert ("AA11", "Y") not in contributions.index
    top = exposure.top_contributors(exposure.division_contributions(cells), n=2)
    assert top[top["geo"] == "AA11"]["unit"].tolist() == ["C24", "C20"]


def test_density_cushion_mean_over_present_categories():
    density = pd.DataFrame({"geo": ["R1", "R1", "R1", "R2"], "category": ["a", "b", "c", "a"],
                            "presence": [1.0, 1.0, 0.0, 0.0], "density": [0.2, 0.6, 0.9, 0.5]})
    cushion = exposure.density_cushion(density)
    assert cushion["R1"] == pytest.approx(0.4)
    assert math.isnan(cushion["R2"])


def test_unknown_year_is_a_clear_error(sbs, totals):
    with pytest.raises(exposure.ExposureError, match="available years"):
        exposure.stress_test(sbs, [_scenario(SHOCKS)], 1999, totals=totals)


def test_output_is_deterministic(sbs, totals):
    first = exposure.stress_test(sbs, [_scenario(SHOCKS), _scenario({"G47": -0.01})], 2020,
                                 totals=totals)
    second = exposure.stress_test(sbs.sample(frac=1.0, random_state=3),
                                  [_scenario(SHOCKS), _scenario({"G47": -0.01})], 2020,
                                  totals=totals)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == list(exposure.STRESS_COLUMNS)
