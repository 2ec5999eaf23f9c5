"""The one definition of the specialisation measures (eocic.measures), against hand values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic import measures


def frame() -> pd.DataFrame:
    """Three regions, two categories, one year; E_r are the published business-economy
    totals (larger than the two categories together), one cell unknown."""
    return pd.DataFrame({
        "geo": ["A", "B", "C"] * 2,
        "category": ["x"] * 3 + ["y"] * 3,
        "year": 2020,
        "employment": [10.0, 30.0, 60.0, 50.0, np.nan, 50.0],
        "regional_employment": [100.0, 200.0, 300.0] * 2,
    })


def test_location_quotient_by_hand():
    data = frame()
    lq = measures.location_quotients(data)
    # x: E_x = 100 over all regions, E = 600
    assert lq[0] == pytest.approx((10 / 100) / (100 / 600))
    assert lq[2] == pytest.approx((60 / 300) / (100 / 600))
    # y: B unknown, so the benchmark is A and C: E_y = 100, E = 400 (a zero for B would give
    # (50/100) / (100/600) = 3.0 instead of 2.0)
    assert lq[3] == pytest.approx((50 / 100) / (100 / 400))
    assert np.isnan(lq[4])
    # the employment-weighted mean LQ over the benchmark is 1
    for category in ("x", "y"):
        part = data[data["category"] == category].assign(lq=lq)
        part = part[part["lq"].notna()]
        assert (part["regional_employment"] * part["lq"]).sum() / part[
            "regional_employment"].sum() == pytest.approx(1.0)


def test_size_share_and_focus():
    data = frame()
    assert measures.size_shares(data).tolist()[:3] == pytest.approx([0.1, 0.3, 0.6])
    assert measures.size_shares(data)[3] == pytest.approx(0.5)
    assert measures.focus(data)[1] == pytest.approx(0.15)
    zero = data.assign(regional_employment=0.0)
    assert measures.focus(zero).isna().all() and measures.location_quotients(zero).isna().all()


def test_growth_rates():
    cagr = measures.compound_growth(np.array([121.0, 0.0, 5.0, 5.0]),
                                    np.array([100.0, 10.0, 0.0, 5.0]),
                                    np.array([2, 2, 2, 0]))
    assert cagr[0] == pytest.approx(0.1)
    assert cagr[1] == -1.0           # exit
    assert np.isnan(cagr[2]) and np.isnan(cagr[3])  # zero base, no window
    log = measures.log_growth(pd.Series([100.0, 0.0]), pd.Series([121.0, 5.0]), 2)
    assert log[0] == pytest.approx(np.log(1.21) / 2) and np.isnan(log[1])


def test_related_categories_both_ways_never_self():
    pairs = pd.DataFrame({"category_i": ["a", "a", "b", "c"], "category_j": ["b", "c", "c", "c"],
                          "related": [True, False, True, True]})
    assert measures.related_categories(pairs) == {"a": ["b"], "b": ["a", "c"], "c": ["b"]}


def test_spearman_rho_matches_scipy_with_ties_and_gaps():
    from scipy import stats

    x = pd.Series([1.0, 2.0, 2.0, 5.0, None, 3.0, 7.0], index=list("abcdefg"))
    y = pd.Series([0.3, 0.1, 0.9, 0.9, 4.0, None, 0.2], index=list("abcdefg"))
    known = x.notna() & y.notna()
    expected = stats.spearmanr(x[known], y[known]).statistic
    assert measures.spearman_rho(x, y) == pytest.approx(expected, abs=1e-12)
    # constant side: NaN and no warning
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(measures.spearman_rho(x, pd.Series(1.0, index=x.index)))
