"""Leave-one-country-out robustness (eocic.models.robustness) on a frame where one country
drives the result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from eocic.models.robustness import (
    ESTIMATE_COLUMNS,
    SUMMARY_COLUMNS,
    LeaveOneOutError,
    leave_one_country_out,
    leave_one_country_out_figure,
)
from eocic.models.specifications import parse_registry

REGISTRY = """
T:
  title: "test"
  reference: "none"
  unit: region_division
  estimator: ols
  fixed_effects: [geo, nace_r2]
  covariance: "cluster: geo"
  same_sample: false
  expected_signs: {ln_lq_t0: "+"}
  models:
    - name: "Growth (1)"
      dependent: employment_growth
      regressors: [ln_lq_t0]
    - name: "Growth (2)"
      dependent: employment_growth
      regressors: [ln_lq_t0, ln_lq_cluster_t0]
"""


@pytest.fixture
def driven_by_one_country():
    """Four countries x 5 regions x 8 divisions. In AA, BB and CC growth falls slightly with
    ln_lq_t0 (slope -0.02); in DD it rises steeply (slope +1) over a wide range of ln_lq_t0,
    so DD alone makes the pooled slope positive. ln_lq_cluster_t0 varies within regions only
    in DD (0 elsewhere): without DD it is absorbed by the region fixed effect."""
    rng = np.random.default_rng(11)
    rows = []
    for country, slope, spread in (("AA", -0.02, 0.3), ("BB", -0.02, 0.3), ("CC", -0.02, 0.3),
                                   ("DD", 1.0, 2.0)):
        for region in range(5):
            geo = f"{country}{region + 1:02d}"
            for division in range(8):
                x = rng.normal(0.0, spread)
                cluster = rng.normal(0.0, 1.0) if country == "DD" else 0.0
                rows.append({"geo": geo, "country": country, "nace_r2": f"C{10 + division}",
                             "ln_lq_t0": x, "ln_lq_cluster_t0": cluster,
                             "employment_growth": slope * x + 0.01 * cluster
                             + rng.normal(0.0, 0.01)})
    return pd.DataFrame(rows)


def test_one_country_drives_the_coefficient(driven_by_one_country):
    table = parse_registry(REGISTRY)["T"]
    result = leave_one_country_out(table, driven_by_one_country, models=["Growth (1)"])
    assert list(result.estimates.columns) == list(ESTIMATE_COLUMNS)
    assert list(result.summary.columns) == list(SUMMARY_COLUMNS)
    estimates = result.estimates.set_index("country_dropped")
    assert estimates.loc["", "coef"] > 0.5                      # full sample: DD's slope
    assert estimates.loc["DD", "coef"] == pytest.approx(-0.02, abs=0.01)
    assert not estimates.loc["DD", "sign_kept"]
    assert estimates.loc[["AA", "BB", "CC"], "sign_kept"].all()
    assert estimates.loc["DD", "nobs"] == 120 and estimates.loc["", "nobs"] == 160
    assert estimates.loc["DD", "n_groups"] == 15
    summary = result.summary.set_index(["model", "term"]).loc[("Growth (1)", "ln_lq_t0")]
    assert summary["dropped_at_min"] == "DD"
    assert summary["share_sign_kept"] == pytest.approx(0.75)
    assert summary["countries"] == 4 and summary["expected_sign"] == "+"
    assert summary["coef_min"] == pytest.approx(estimates.loc["DD", "coef"])
    figure = leave_one_country_out_figure(result, "Growth (1)", "ln_lq_t0")
    assert isinstance(figure, Figure)


def test_a_refused_re_estimate_is_a_row_with_the_reason(driven_by_one_country):
    table = parse_registry(REGISTRY)["T"]
    result = leave_one_country_out(table, driven_by_one_country, models=["Growth (2)"])
    refused = result.estimates[result.estimates["country_dropped"] == "DD"]
    assert refused["coef"].isna().all() and len(refused) == 2
    assert refused["note"].str.contains("ln_lq_cluster_t0").all()
    assert not refused["sign_kept"].any()
    summary = result.summary.set_index("term")
    assert (summary["countries"] == 3).all()       # the three re-estimates made


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda f: f.drop(columns="country"), {}, "the sample has no 'country' column"),
    (lambda f: f.assign(country="AA"), {}, "holds 1 country \\(AA\\); at least two"),
    (lambda f: f, {"countries": ["AA", "ZZ"]}, "countries ZZ are not in the sample"),
    (lambda f: f, {"models": ["Growth (9)"]}, "no column named 'Growth \\(9\\)'"),
])
def test_hostile_requests_fail_naming_the_table(driven_by_one_country, change, kwargs,
                                                 message):
    table = parse_registry(REGISTRY)["T"]
    with pytest.raises(LeaveOneOutError, match=message) as caught:
        leave_one_country_out(table, change(driven_by_one_country), **kwargs)
    assert "table T" in str(caught.value) and isinstance(caught.value, ValueError)


def test_figure_of_an_unknown_term_fails(driven_by_one_country):
    table = parse_registry(REGISTRY)["T"]
    result = leave_one_country_out(table, driven_by_one_country, models=["Growth (1)"],
                                   countries=["AA"])
    assert set(result.estimates["country_dropped"]) == {"", "AA"}
    with pytest.raises(LeaveOneOutError, match="no estimate of 'ln_lq_related_t0'"):
        leave_one_country_out_figure(result, "Growth (1)", "ln_lq_related_t0")


def test_each_re_estimate_equals_the_table_fitted_by_pyfixest_without_the_country(
        driven_by_one_country):
    """The re-estimates go through engine.fit_within; each must equal the published path
    (estimate_table, pyfixest.feols) on the sample without the country: coefficient, SE,
    p-value, interval, N and clusters, with winsorising and the same-sample rule applied to
    the rows of each fit."""
    from eocic.models.estimation import estimate_table

    spec = REGISTRY.replace("same_sample: false", "same_sample: true\n  winsorise: [0.05, 0.95]")
    table = parse_registry(spec)["T"]
    frame = driven_by_one_country.assign(
        ln_lq_cluster_t0=lambda f: f["ln_lq_cluster_t0"] + np.random.default_rng(2).normal(
            0.0, 0.5, len(f)))
    result = leave_one_country_out(table, frame)
    columns = ["coef", "se", "pvalue", "ci_low", "ci_high", "nobs", "n_groups"]
    for country in ("AA", "DD"):
        mine = (result.estimates[result.estimates["country_dropped"] == country]
                .set_index(["model", "term"])[columns])
        reference = (estimate_table(table, frame[frame["country"] != country]).tidy()
                     .set_index(["model", "term"])[columns])
        assert len(mine) == 3 and mine["coef"].notna().all()
        pd.testing.assert_frame_equal(mine.astype(float), reference.astype(float), rtol=1e-7)


def test_a_refit_on_arrays_keeps_the_notes_and_refusals_of_the_frame_path(
        driven_by_one_country):
    """RegressionModel.fit(within=True) takes the model's columns as arrays once and refits
    subsets of rows without a frame: winsorising (pandas' quantile), its note, the singleton
    and identification rules must be those of the pyfixest path."""
    from eocic.models.estimation import RegressionModel, SpecificationError

    spec = parse_registry(REGISTRY.replace("same_sample: false",
                                           "same_sample: false\n  winsorise: [0.05, 0.95]"))["T"]
    frame = driven_by_one_country.copy()
    frame.loc[frame.index[-1], "geo"] = "DD99"  # a singleton of the region fixed effect
    model = RegressionModel(spec.models[1], frame)
    for dropped in ("AA", "CC"):
        rows = frame["country"] != dropped
        arrays, pyfixest = model.fit(rows, within=True), model.fit(rows)
        assert arrays.notes == pyfixest.notes and arrays.singletons == pyfixest.singletons == 1
        assert any("winsorised at P5/P95" in note for note in arrays.notes)
        np.testing.assert_allclose(arrays.params, pyfixest.params, rtol=1e-7)
        np.testing.assert_allclose(arrays.bse, pyfixest.bse, rtol=1e-7)
    y = frame.loc[frame["country"] != "AA", "employment_growth"]
    low, high = y.quantile([0.05, 0.95])
    assert model._winsorise(y.to_numpy(), []).tolist() == y.clip(low, high).tolist()
    refusals = []
    for within in (True, False):  # without DD, ln_lq_cluster_t0 is absorbed by the region FE
        with pytest.raises(SpecificationError) as refused:
            model.fit(frame["country"] != "DD", within=within)
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1] and "ln_lq_cluster_t0" in refusals[0]
