"""Outlier treatment (COINr rules), normalisation and aggregation, checked by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eocic.scoreboard import aggregation, normalisation, treatment


# -- skewness / kurtosis (type 2, Excel SKEW / KURT) -------------------------------------------
def test_type2_skew_and_kurtosis_against_hand_values():
    # x = 1,2,3,4,10: mean 4, deviations -3,-2,-1,0,6; m2 = 10, m3 = 36, m4 = 278.8
    # G1 = sqrt(20)/3 * 36/10^1.5 = 1.2*sqrt(2); G2 = ((6)(278.8/100 - 3) + 6)(4)/(3*2) = 3.152
    x = [1, 2, 3, 4, 10]
    assert treatment.skewness(x) == pytest.approx(1.2 * np.sqrt(2), rel=1e-12)
    assert treatment.kurtosis(x) == pytest.approx(3.152, rel=1e-12)


def test_type2_formulas_match_scipy_unbiased_estimators():
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=50)
    assert treatment.skewness(x) == pytest.approx(stats.skew(x, bias=False))
    assert treatment.kurtosis(x) == pytest.approx(stats.kurtosis(x, bias=False))


def test_nan_ignored_and_too_few_points():
    assert treatment.skewness([1, 2, np.nan, 3, 4, 10]) == pytest.approx(
        treatment.skewness([1, 2, 3, 4, 10]))
    assert np.isnan(treatment.skewness([1, 2]))
    assert np.isnan(treatment.kurtosis([1, 2, 3]))


def test_skew_and_kurtosis_together_are_the_two_functions_bit_for_bit():
    # the treatment computes both moments in one pass; the numbers must not move by one ulp
    rng = np.random.default_rng(7)
    samples = [rng.lognormal(size=n) for n in (4, 5, 17, 200)] + [
        np.array([1.0, 2.0, 10.0]), np.array([3.0, 3.0, 3.0, 3.0]), np.array([1.0, np.nan]),
        np.r_[rng.normal(size=30), [np.nan] * 5]]
    for x in samples:
        skew, kurt = treatment.skew_and_kurtosis(x)
        np.testing.assert_array_equal([skew, kurt],
                                      [treatment.skewness(x), treatment.kurtosis(x)])
    assert np.isnan(treatment.skew_and_kurtosis(np.array([1.0, 2.0, 10.0]))[1])


def test_pass_rule_is_skew_or_kurtosis():
    # 1,2,3,4,10: |skew| 1.70 < 2 -> passes although kurtosis 3.15 is close
    assert treatment.passes([1, 2, 3, 4, 10])
    # one huge outlier among 20 ones-to-twenty: skew > 2 and kurtosis > 3.5 -> fails
    x = list(range(1, 21)) + [1000]
    assert treatment.skewness(x) > 2 and treatment.kurtosis(x) > 3.5
    assert not treatment.passes(x)


# -- winsorisation ------------------------------------------------------------------------------
def test_winsorisation_stops_at_the_first_passing_step():
    # 1..20 plus 200 and 1000: step 1 sets 1000 -> 200 (two tied maxima),
    # step 2 sets both to 20; the rule must stop as soon as the data pass.
    x = np.array(list(range(1, 21)) + [200, 1000], dtype=float)
    step1 = x.copy(); step1[-1] = 200
    step2 = step1.copy(); step2[-2:] = 20
    assert not treatment.passes(x)
    expected_points = 1 if treatment.passes(step1) else 2
    result = treatment.winsorise(x)
    assert result.passed
    assert result.points == expected_points
    np.testing.assert_array_equal(result.values, step1 if expected_points == 1 else step2)
    assert result.high == expected_points and result.low == 0


def test_winsorisation_on_the_low_side_for_negative_skew():
    x = -np.array(list(range(1, 21)) + [1000], dtype=float)
    result = treatment.winsorise(x)
    assert result.low >= 1 and result.high == 0
    assert result.values.min() == -20  # the outlier became the next-lowest value
    assert result.passed


def test_winsorisation_never_changes_more_than_winmax_then_log_on_original():
    # 1..100 plus six outliers 1e4..1e9: steps move 1, 2, 3, 4, 5 tied maxima down (the
    # original 1e9, 1e8, 1e7, 1e6, 1e5 are changed: 5 points), leaving six values at 1e4,
    # which still fail; no sixth step
    x = np.array(list(range(1, 101)) + [1e4, 1e5, 1e6, 1e7, 1e8, 1e9])
    result = treatment.winsorise(x, winmax=5)
    assert result.points == 5 and not result.passed
    assert (result.values == 1e4).sum() == 6 and result.values.max() == 1e4
    treated, log = treatment.treat_indicator(x)
    assert log["method"] == "log_CT"          # COINr's default second transform
    a = 0.01 * (x.max() - x.min())
    np.testing.assert_allclose(treated, np.log(x - x.min() + a))  # on the ORIGINAL values
    assert log["winsorised_high"] == 0


def test_passing_indicator_untouched():
    x = np.arange(10.0)
    treated, log = treatment.treat_indicator(x)
    np.testing.assert_array_equal(treated, x)
    assert log["method"] == "none"


# -- log transforms -----------------------------------------------------------------------------
def test_log_ct_plus_mirrors_negative_skew_and_handles_negatives():
    x = np.array([-1000.0, -5, -4, -3, -2, -1, 0])
    a = 0.01 * (0 - -1000)
    np.testing.assert_allclose(treatment.log_transform(x, "log_CT_plus"),
                               -np.log(x.max() + a - x))
    assert np.isfinite(treatment.log_transform(x, "log_CT_plus")).all()


def test_other_log_forms():
    x = np.array([0.0, 1, 3, 10])
    np.testing.assert_allclose(treatment.log_transform(x, "log_CT_orig"), np.log(x + 1))
    np.testing.assert_allclose(treatment.log_transform(x, "log_GII"),
                               np.log((10 - 1) * x / 10 + 1))


def test_plain_log_of_non_positive_values_is_an_error():
    with pytest.raises(treatment.TreatmentError, match="log_CT_plus"):
        treatment.log_transform(np.array([0.0, 1, 2]), "log")
    with pytest.raises(treatment.TreatmentError, match="unknown log transform"):
        treatment.log_transform(np.array([1.0, 2]), "log10")


# -- normalisation ------------------------------------------------------------------------------
def _panel():
    index = pd.MultiIndex.from_product([["A", "B", "C"], [2019, 2020]], names=["geo", "year"])
    return pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 11], "y": [5.0, 5, 5, 5, np.nan, 5]}, index=index)


def test_minmax_pooled_bounds_and_direction():
    frame = _panel()
    scaled = normalisation.normalise(frame, {"x": 1, "y": 1}, "minmax")
    assert scaled["x"].min() == 0 and scaled["x"].max() == 100
    assert scaled.loc[("B", 2019), "x"] == pytest.approx(20.0)  # (3 - 1)/(11 - 1)
    assert (scaled["y"].dropna() == 50).all() and np.isnan(scaled.loc[("C", 2019), "y"])
    flipped = normalisation.normalise(frame, {"x": -1, "y": 1}, "minmax")
    assert flipped.loc[("C", 2020), "x"] == 0 and flipped.loc[("A", 2019), "x"] == 100


def test_zscore_rank_and_frontier():
    frame = _panel()[["x"]]
    z = normalisation.normalise(frame, {"x": 1}, "zscore")["x"]
    assert z.mean() == pytest.approx(0) and z.std(ddof=1) == pytest.approx(1)
    ranks = normalisation.normalise(frame, {"x": 1}, "rank")["x"]
    # 2019: A=1, B=3, C=5 -> 0, 50, 100
    assert list(ranks.xs(2019, level="year")) == [0.0, 50.0, 100.0]
    frontier = normalisation.normalise(frame, {"x": 1}, "distance_to_frontier")["x"]
    # 2020: A=2, B=4, C=11 -> B = 100 * (4 - 2)/(11 - 2)
    assert frontier.loc[("B", 2020)] == pytest.approx(200 / 9)
    positive = normalisation.rescale_positive(frame)["x"]
    assert positive.min() == 1 and positive.max() == 100


# -- aggregation ---------------------------------------------------------------------------------
def test_weighted_arithmetic_mean_with_data_threshold():
    frame = pd.DataFrame({"a": [10.0, 10.0], "b": [20.0, np.nan], "c": [np.nan, np.nan]})
    score = aggregation.arithmetic_mean(frame, {"a": 1, "b": 3, "c": 1}, 2 / 3)
    assert score[0] == pytest.approx((10 + 3 * 20) / 4)  # 2 of 3 available: kept
    assert np.isnan(score[1])  # 1 of 3 available < 2/3: dropped, not scored as zero
    lenient = aggregation.arithmetic_mean(frame, {"a": 1, "b": 3, "c": 1}, 0.3)
    assert lenient[1] == pytest.approx(10.0)


def test_geometric_mean_and_zero_handling():
    frame = pd.DataFrame({"a": [1.0, 4.0], "b": [100.0, 16.0]})
    score = aggregation.geometric_mean(frame, {"a": 1, "b": 1})
    np.testing.assert_allclose(score, [10.0, 8.0])
    weighted = aggregation.geometric_mean(frame, {"a": 1, "b": 3})
    assert weighted[1] == pytest.approx((4 * 16**3) ** 0.25)
    with pytest.raises(aggregation.AggregationError, match="rescale"):
        aggregation.geometric_mean(pd.DataFrame({"a": [0.0], "b": [5.0]}), {})
    # documented handling: min-max to [1, 100] first, so the worst value is 1, never 0
    rescaled = normalisation.rescale_positive(pd.DataFrame({"a": [0.0, 5.0, 10.0]}))
    assert rescaled["a"].tolist() == [1.0, 50.5, 100.0]
