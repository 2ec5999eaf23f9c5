"""Estimation, registry validation, tables and narrative of eocic.models on small hand-made data.

The cluster-robust standard errors are checked against the sandwich formula computed here in
numpy, with the small-sample correction G/(G-1) * (N-1)/(N-K) and t(G-1) inference: K counts
every dummy when the registry says ``small_sample: {k_fixef: full}`` (what eocic's statsmodels
engine did) and leaves out fixed effects nested in the clusters by default (fixest). PPML is
checked against the Poisson score X'(y - exp(Xb)) = 0 and its sandwich, computed here.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eocic.models import narrative
from eocic.models.estimation import RegressionModel, TableModel, estimate_table, results_frame
from eocic.models.narrative import describe, sign_pattern
from eocic.models.sample_filter import SampleFilterError
from eocic.models.specifications import (
    Covariance,
    SpecificationError,
    load_registry,
    parse_registry,
    select_tables,
    shipped_registry,
)
from eocic.models.tables import latex_escape, regression_table, stars, to_latex, write_tables
from eocic.models.variables import VARIABLE_LABELS
from eocic.presentation import escape_markdown, markdown_code


def _spec(yaml_text: str, model: int = 0, table: str = "T"):
    return parse_registry(yaml_text)[table].models[model]


def _table_yaml(regressors="[x1, x2]", covariance="cluster: region", fixed="[sector]",
                extra="", dependent="y", model_extra=""):
    return f"""
T:
  title: test table
  unit: region_division
  fixed_effects: {fixed}
  covariance: "{covariance}"
  expected_signs: {{x1: "+", x2: "-"}}
  {extra}
  models:
    - name: m1
      dependent: {dependent}
      regressors: {regressors}
      {model_extra}
"""


@pytest.fixture
def small():
    """60 rows, 8 regions (clusters), 3 sectors, heteroskedastic and within-region correlated
    errors; y = 1 + 0.5 x1 - 0.3 x2 + sector effect + e."""
    rng = np.random.default_rng(7)
    n = 60
    region = np.repeat([f"R{i}" for i in range(8)], [6, 7, 8, 9, 6, 8, 7, 9])
    sector = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n) + 0.3 * x1
    shock = pd.Series(rng.normal(size=8), index=[f"R{i}" for i in range(8)])
    e = rng.normal(size=n) * (1 + np.abs(x1)) + shock.reindex(region).to_numpy()
    sector_effect = pd.Series({"A": 0.0, "B": 0.4, "C": -0.2}).reindex(sector).to_numpy()
    y = 1 + 0.5 * x1 - 0.3 * x2 + sector_effect + e
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "region": region, "sector": sector,
                         "firm": np.arange(n) % 5, "count": rng.poisson(np.exp(1 + 0.3 * x1))})


def _hand_cluster_se(frame: pd.DataFrame, regressors: list[str], fixed: str, groups: str):
    dummies = pd.get_dummies(frame[fixed], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(len(frame)), frame[regressors].to_numpy(), dummies.to_numpy()])
    y = frame["y"].to_numpy()
    bread = np.linalg.inv(X.T @ X)
    beta = bread @ X.T @ y
    u = y - X @ beta
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(frame[groups]):
        rows = (frame[groups] == g).to_numpy()
        score = X[rows].T @ u[rows]
        meat += np.outer(score, score)
    n, k = X.shape
    n_groups = frame[groups].nunique()
    correction = n_groups / (n_groups - 1) * (n - 1) / (n - k)
    cov = correction * bread @ meat @ bread
    return beta[1:1 + len(regressors)], np.sqrt(np.diag(cov))[1:1 + len(regressors)], n_groups


# ------------------------------------------------------------------------ standard errors


def test_cluster_robust_se_equal_the_hand_built_sandwich(small):
    result = RegressionModel(_spec(_table_yaml()), small).fit()
    beta, se, n_groups = _hand_cluster_se(small, ["x1", "x2"], "sector", "region")
    np.testing.assert_allclose(result.params[["x1", "x2"]], beta, rtol=1e-10)
    np.testing.assert_allclose(result.bse[["x1", "x2"]], se, rtol=1e-10)
    assert result.n_groups == n_groups == 8 and result.nobs == 60
    # inference on t(G - 1) degrees of freedom
    t = beta / se
    np.testing.assert_allclose(result.pvalues[["x1", "x2"]], 2 * stats.t.sf(np.abs(t), 7),
                               rtol=1e-8)
    half = stats.t.ppf(0.975, 7) * se
    np.testing.assert_allclose(result.conf_int["ci_low"], beta - half, rtol=1e-8)
    assert any("only 8 clusters" in note for note in result.notes)


def test_clustering_by_the_wrong_variable_changes_the_se(small):
    by_region = RegressionModel(_spec(_table_yaml()), small).fit()
    by_firm = RegressionModel(_spec(_table_yaml(covariance="cluster: firm")), small).fit()
    hc1 = RegressionModel(_spec(_table_yaml(covariance="HC1")), small).fit()
    np.testing.assert_allclose(by_region.params, by_firm.params)
    assert abs(by_region.bse["x1"] / by_firm.bse["x1"] - 1) > 0.05
    assert abs(by_region.bse["x1"] / hc1.bse["x1"] - 1) > 0.05
    _, se_firm, _ = _hand_cluster_se(small, ["x1", "x2"], "sector", "firm")
    np.testing.assert_allclose(by_firm.bse[["x1", "x2"]], se_firm, rtol=1e-10)


def test_grouping_column_not_in_the_sample_is_rejected(small):
    with pytest.raises(SpecificationError, match=r"T / m1: cluster grouping .* 'nuts3' is not in"):
        RegressionModel(_spec(_table_yaml(covariance="cluster: nuts3")), small)


def test_cluster_groups_built_from_the_rows_used(small):
    """Rows with missing values are dropped before the groups are built: the SEs equal the
    hand computation on the complete rows, whatever the missing pattern."""
    holes = small.copy()
    holes.loc[[0, 7, 20, 21, 22, 59], "x2"] = np.nan
    result = RegressionModel(_spec(_table_yaml()), holes).fit()
    _, se, _ = _hand_cluster_se(holes.dropna(), ["x1", "x2"], "sector", "region")
    np.testing.assert_allclose(result.bse[["x1", "x2"]], se, rtol=1e-10)
    assert result.nobs == 54
    assert any("6 rows without x2" in note for note in result.notes)


# ------------------------------------------------------------------------ bad input


def test_unknown_variable_names_spec_and_variable(small):
    with pytest.raises(SpecificationError, match=r"T / m1: unknown variable 'x9'"):
        RegressionModel(_spec(_table_yaml(regressors="[x1, x9]")), small)


def test_fixed_effect_absorbing_the_regressor_is_detected(small):
    frame = small.assign(region_size=small["region"].str[1:].astype(float) ** 2)
    spec = _spec(_table_yaml(regressors="[x1, region_size]", fixed="[region]"))
    with pytest.raises(SpecificationError, match=r"'region_size' is constant within every "
                       r"'region' group, so the region FE absorbs it"):
        RegressionModel(spec, frame).fit()


def test_fewer_observations_than_parameters(small):
    tiny = small.iloc[:5]
    spec = _spec(_table_yaml(fixed="[sector, firm]"))
    with pytest.raises(SpecificationError, match=r"T / m1: 5 observations for \d+ parameters"):
        RegressionModel(spec, tiny).fit()


def test_singular_design_names_the_collinear_term(small):
    frame = small.assign(x3=small["x1"] + 2 * small["x2"])
    spec = _spec(_table_yaml(regressors="[x1, x2, x3]"))
    with pytest.raises(SpecificationError, match=r"T / m1: singular design: regressor.s. x3 are linearly dependent on x1, x2, sector fixed effect"):
        RegressionModel(spec, frame).fit()


def test_regressor_without_variation(small):
    spec = _spec(_table_yaml(regressors="[x1, one]"))
    with pytest.raises(SpecificationError, match="'one' does not vary"):
        RegressionModel(spec, small.assign(one=1.0)).fit()


def test_bad_sample_filter_is_reported(small):
    spec = _spec(_table_yaml(extra='sample: "nonsense > 3"'))
    with pytest.raises(SampleFilterError,
                       match="sample filter 'nonsense > 3' names column.s. nonsense that the "
                             "sample does not have"):
        RegressionModel(spec, small).fit()


# ------------------------------------------------------------------------ samples and proxies


def test_same_sample_option_uses_the_intersection(small):
    frame = small.copy()
    frame["y2"] = frame["y"] + 0.1
    frame.loc[:9, "y2"] = np.nan
    frame.loc[50:, "x2"] = np.nan
    text = _table_yaml(model_extra="") + """    - name: m2
      dependent: y2
      regressors: [x1]
"""
    table = parse_registry(text)["T"]
    common = estimate_table(table, frame, same_sample=True)
    separate = estimate_table(table, frame, same_sample=False)
    assert [r.nobs for r in common.results] == [40, 40]
    assert [r.nobs for r in separate.results] == [50, 50 - 0]  # m2 loses rows 0-9 only
    assert any("rows outside the common sample" in n for n in common.results[1].notes)


def test_table_model_fitted_on_rows_equals_the_table_on_the_cut_sample(small):
    # leave-one-out re-estimates fit the models built on the whole sample on a subset of its
    # rows; the numbers must be those of the table built on the subset (sample filter,
    # usable rows, same-sample rule, winsorising quantiles and identification all per subset)
    frame = small.copy()
    frame.loc[[3, 17, 41], "x2"] = np.nan
    text = _table_yaml(extra='winsorise: [0.05, 0.95]\n  sample: "x1 > -1.5"\n  '
                             'same_sample: true') + """    - name: m2
      dependent: y
      regressors: [x1]
"""
    table = parse_registry(text)["T"]
    bound = TableModel(table, frame)
    columns = ["model", "term", "coef", "se", "pvalue", "ci_low", "ci_high", "nobs", "n_groups"]
    for region in ["R0", "R3", "R7"]:
        kept = frame["region"] != region
        cut = estimate_table(table, frame[kept].reset_index(drop=True)).tidy()[columns]
        refit = bound.fit(kept).tidy()[columns]
        pd.testing.assert_frame_equal(refit, cut, check_exact=True)
    # and without rows, the published table
    pd.testing.assert_frame_equal(bound.fit().tidy(), estimate_table(table, frame).tidy())


def test_winsorising_clips_and_counts(small):
    spec = _spec(_table_yaml(extra="winsorise: [0.1, 0.9]"))
    result = RegressionModel(spec, small).fit()
    assert any("winsorised at P10/P90 (6 low, 6 high values clipped)" in n for n in result.notes)
    fitted_y = result.fitted.model._Y_untransformed.to_numpy()
    assert fitted_y.min() == pytest.approx(np.quantile(small["y"], 0.1))


def test_substitute_is_used_and_labelled_and_unavailable_models_are_skipped(small):
    frame = small.assign(births=np.nan)
    text = f"""
T:
  title: proxies
  unit: region_section
  fixed_effects: [sector]
  covariance: HC1
  sample: "births > 0 or births != births"
  substitutes: {{births: x2}}
  models:
    - name: proxied
      dependent: y
      regressors: [x1, births]
    - name: skipped
      dependent: y
      regressors: [x1, ln_birth_rate_t0]
      when_unavailable: skip
"""
    estimated = estimate_table(parse_registry(text)["T"], frame)
    proxied, skipped = estimated.results
    assert proxied.regressors == ("x1", "x2") and proxied.proxies == {"x2": "births"}
    assert any("PROXY: x2 stands in for births" in n for n in proxied.notes)
    assert not skipped.estimated and "ln_birth_rate_t0" in skipped.skipped
    table = regression_table(estimated)
    assert "[proxy for births]" in " ".join(table.index)
    assert table.loc["Estimator", "skipped"] == "not estimated"
    # without skip, a known variable without data is an error naming the fix
    strict = text.replace("      when_unavailable: skip\n", "")
    with pytest.raises(SpecificationError, match="has no data in this run"):
        estimate_table(parse_registry(strict)["T"], frame)


def _hand_poisson(frame, regressors, fixed, groups=None, offset=None):
    """Poisson MLE by Newton steps on the dummy design, its score, and the HC0 / cluster
    sandwich ``(X'WX)^-1 [sum s s'] (X'WX)^-1`` with W = diag(mu), s = X'(y - mu)."""
    dummies = pd.get_dummies(frame[fixed], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(len(frame)), frame[regressors].to_numpy(), dummies.to_numpy()])
    y = frame["count"].to_numpy(float)
    exposure = frame[offset].to_numpy(float) if offset else np.zeros(len(frame))
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(y.mean())
    for _ in range(100):
        mu = np.exp(exposure + X @ beta)
        step = np.linalg.solve(X.T @ (mu[:, None] * X), X.T @ (y - mu))
        beta += step
        if np.abs(step).max() < 1e-13:
            break
    mu = np.exp(exposure + X @ beta)
    bread = np.linalg.inv(X.T @ (mu[:, None] * X))
    units = frame[groups].to_numpy() if groups else np.arange(len(frame))
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(units):
        rows = units == g
        score = X[rows].T @ (y[rows] - mu[rows])
        meat += np.outer(score, score)
    return X, y, mu, beta, bread @ meat @ bread


def test_ppml_solves_the_hand_computed_poisson_score_and_annualises(small):
    """PPML with heteroskedasticity-robust SEs: the estimate sets the Poisson score
    X'(y - exp(Xb)) to zero (every column, fixed-effect dummies included), the SE is the HC0
    sandwich times N/(N-K), the p-value normal (fixest's rule for PPML), and annualising
    divides coefficient and SE by the window. (statsmodels' GLM labels HC0 as 'HC1': eocic's
    old engine reported PPML 'HC1' SEs 3.5% too small on this sample.)"""
    frame = small.assign(window=4)
    text = _table_yaml(dependent="count", regressors="[x1]", covariance="HC1",
                       extra="estimator: ppml\n  annualise: true")
    result = RegressionModel(_spec(text), frame).fit()
    X, y, mu, beta, sandwich = _hand_poisson(frame, ["x1"], "sector")
    fitted_mu = np.asarray(result.fitted.model.predict(type="response"), dtype=float)
    np.testing.assert_allclose(X.T @ (y - fitted_mu), 0, atol=1e-6)
    n, k = X.shape
    se = np.sqrt(sandwich[1, 1] * n / (n - k))
    assert result.params["x1"] == pytest.approx(beta[1] / 4, rel=1e-7)
    # pyfixest's IRLS stops at a relative deviance change of 1e-8
    assert result.bse["x1"] == pytest.approx(se / 4, rel=1e-5)
    assert result.pvalues["x1"] == pytest.approx(2 * stats.norm.sf(abs(beta[1] / se)), rel=1e-4)
    assert 0.1 < beta[1] < 0.5
    assert "normal p-values" in result.inference_note


def test_ppml_cluster_sandwich_with_offset_and_t_distribution(small):
    """PPML with an offset, clustered by region with the old engine's settings: the hand
    sandwich times G/(G-1) (N-1)/(N-K), all dummies in K, t(G-1) p-values."""
    frame = small.assign(exposure=np.log(1 + small["firm"]))
    text = _table_yaml(dependent="count", regressors="[x1, x2]",
                       extra="estimator: ppml\n  offset: exposure\n  small_sample: {k_fixef: "
                             "full}\n  singletons: keep\n  distribution: t")
    result = RegressionModel(_spec(text), frame).fit()
    X, y, mu, beta, sandwich = _hand_poisson(frame, ["x1", "x2"], "sector", "region",
                                             offset="exposure")
    n, k = X.shape
    se = np.sqrt(np.diag(sandwich)[1:3] * 8 / 7 * (n - 1) / (n - k))
    np.testing.assert_allclose(result.params[["x1", "x2"]], beta[1:3], rtol=1e-7)
    np.testing.assert_allclose(result.bse[["x1", "x2"]], se, rtol=1e-5)
    np.testing.assert_allclose(result.pvalues[["x1", "x2"]],
                               2 * stats.t.sf(np.abs(beta[1:3] / se), 7), rtol=1e-4)
    assert result.n_groups == 8
    assert result.inference_note == (
        "SE clustered by region (CRV1); small-sample correction (N-1)/(N-K) x G/(G-1), every "
        "fixed-effect level counted in K; singletons kept; t(G-1) p-values, G-1 = 7")


# ------------------------------------------------------------------------ inference settings


def test_fixed_effects_nested_in_the_clusters_leave_k_by_default(small):
    """Region FE with SEs clustered by region: fixest (the default) leaves the region dummies
    out of K, statsmodels (``k_fixef: full``) counts them; both equal the hand sandwich with
    their K."""
    frame = small.assign(region_code=small["region"])
    base = _table_yaml(fixed="[region_code, sector]", extra="EXTRA")
    default = RegressionModel(_spec(base.replace("EXTRA", "")), frame).fit()
    full = RegressionModel(_spec(base.replace("EXTRA", "small_sample: {k_fixef: full}")),
                           frame).fit()
    dummies = pd.get_dummies(frame[["region_code", "sector"]], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(60), frame[["x1", "x2"]].to_numpy(), dummies.to_numpy()])
    y = frame["y"].to_numpy()
    bread = np.linalg.inv(X.T @ X)
    u = y - X @ (bread @ X.T @ y)
    meat = sum(np.outer(X[rows].T @ u[rows], X[rows].T @ u[rows])
               for rows in (frame["region"] == g for g in frame["region"].unique()))
    raw = np.diag(bread @ meat @ bread)[1:3]
    n, k_all = X.shape
    k_nonnested = k_all - 7  # the 7 region dummies sit inside the 8 clusters
    # two fixed effects are absorbed by alternating projections (tolerance 1e-8)
    np.testing.assert_allclose(full.bse[["x1", "x2"]],
                               np.sqrt(raw * 8 / 7 * (n - 1) / (n - k_all)), rtol=1e-6)
    np.testing.assert_allclose(default.bse[["x1", "x2"]],
                               np.sqrt(raw * 8 / 7 * (n - 1) / (n - k_nonnested)), rtol=1e-6)
    assert "fixed effects nested in clusters not counted in K" in default.inference_note
    assert "every fixed-effect level counted in K" in full.inference_note


def test_singletons_are_dropped_counted_and_not_counted_as_clusters(small):
    """A region with one observation and region FE: the default drops it (N 61 -> 60, 8
    clusters used, not 9) and says so; ``singletons: keep`` keeps it (9 clusters)."""
    lone = small.iloc[[0]].assign(region="R9", region_code="R9")
    frame = pd.concat([small.assign(region_code=small["region"]), lone], ignore_index=True)
    base = _table_yaml(fixed="[region_code, sector]", extra="EXTRA")
    dropped = RegressionModel(_spec(base.replace("EXTRA", "")), frame).fit()
    kept = RegressionModel(_spec(base.replace("EXTRA", "singletons: keep")), frame).fit()
    assert (dropped.nobs, dropped.n_groups, dropped.singletons) == (60, 8, 1)
    assert (kept.nobs, kept.n_groups, kept.singletons) == (61, 9, 0)
    assert any("1 singleton observations" in note for note in dropped.notes)
    assert "singletons dropped (1)" in dropped.inference_note
    assert "singletons kept" in kept.inference_note
    np.testing.assert_allclose(dropped.params, kept.params, rtol=1e-8)  # a singleton's FE fits it


def test_distribution_setting_changes_p_values_not_ses(small):
    t_fit = RegressionModel(_spec(_table_yaml()), small).fit()
    normal = RegressionModel(_spec(_table_yaml(extra="distribution: normal")), small).fit()
    np.testing.assert_allclose(t_fit.bse, normal.bse)
    z = normal.params / normal.bse
    np.testing.assert_allclose(normal.pvalues, 2 * stats.norm.sf(np.abs(z)))
    assert (normal.pvalues < t_fit.pvalues).all()
    half = stats.norm.ppf(0.975) * normal.bse
    np.testing.assert_allclose(normal.conf_int["ci_high"], normal.params + half)


def test_crv3_jackknife_matches_the_hand_leave_one_cluster_out(small):
    """CRV3 (pyfixest 0.60) = c sum_g (b_(-g) - b)(b_(-g) - b)', centred on the full-sample
    estimate, c the small-sample factor: with k_adj and G_adj off the plain sum, checked by
    refitting without each region; with the defaults c = G/(G-1) (N-1)/(N-K)."""
    plain = RegressionModel(_spec(_table_yaml(
        covariance="CRV3: region", extra="small_sample: {k_adj: false, G_adj: false}")),
        small).fit()
    corrected = RegressionModel(_spec(_table_yaml(covariance="CRV3: region")), small).fit()
    full = RegressionModel(_spec(_table_yaml()), small).fit().params.to_numpy()
    drops = np.array([RegressionModel(_spec(_table_yaml()), small[small["region"] != g]).fit()
                      .params.to_numpy() for g in sorted(small["region"].unique())])
    hand = np.sqrt(((drops - full) ** 2).sum(axis=0))
    np.testing.assert_allclose(plain.bse.to_numpy(), hand, rtol=1e-8)
    k = 2 + 3  # x1, x2 and the three sector levels (one as the constant)
    np.testing.assert_allclose(corrected.bse.to_numpy(),
                               hand * np.sqrt(8 / 7 * 59 / (60 - k)), rtol=1e-8)
    assert corrected.inference_note.startswith("SE clustered by region (CRV3)")
    assert plain.inference_note.startswith("SE clustered by region (CRV3); no small-sample "
                                           "correction;")


# ------------------------------------------------------------------------ registry


def test_shipped_registry_has_tables_a_b_c_with_the_published_signs():
    registry = shipped_registry()
    assert {"A", "B", "C", "A_ppml"} <= set(registry)
    a = registry["A"].models[2]
    assert a.regressors == ("ln_lq_t0", "ln_lq_cluster_t0", "ln_lq_related_t0")
    assert a.fixed_effects == ("geo", "nace_r2") and a.covariance == Covariance("cluster", ("geo",))
    assert a.expected_signs == {"ln_lq_t0": "-", "ln_lq_cluster_t0": "+", "ln_lq_related_t0": "+"}
    assert registry["C"].models[0].covariance.groups == ("country",)


@pytest.mark.parametrize("bad, message", [
    ("estimator: tobit", "unknown estimator 'tobit'"),
    ('covariance: "cluster geo"', "unknown covariance"),
    ("winsorise: [0.9, 0.1]", "winsorise must be null"),
    ("unit: firm", "unknown unit 'firm'"),
    ("fixed_efects: [geo]", "unknown key.*fixed_efects"),
    ("covariance: HC0", r"'HC0' is HC1 without the small-sample factor: write covariance: HC1 "
                        r"and small_sample: \{k_adj: false\}"),
    ('covariance: "CRV3: region+firm"', "CRV3 takes one cluster column"),
    ('covariance: "cluster: a+b+c"', "at most two-way clustering"),
    ("small_sample: {k_adj: yes please}", "small_sample k_adj must be true or false"),
    ("small_sample: {k_adj: 1}", "small_sample k_adj must be true or false, got 1"),
    ("small_sample: {fixef_k: full}", "unknown small_sample key.s. fixef_k; allowed: k_adj, "
                                      "k_fixef, G_adj, G_df"),
    ("small_sample: {k_fixef: nested}", "small_sample k_fixef 'nested' is not one of "
                                        "nonnested, full, none"),
    ("small_sample: [true]", "small_sample must be a mapping"),
    ("singletons: remove", "singletons must be 'drop' or 'keep', got 'remove'"),
    ("distribution: student", "distribution must be one of auto, t, normal, got 'student'"),
    ('estimator: ppml\n  covariance: "CRV3: region"', "CRV3 is available for OLS only"),
])
def test_registry_validation_rejects_bad_entries(bad, message):
    text = (_table_yaml().replace("unit: region_division", bad) if bad.startswith("unit")
            else _table_yaml(extra=bad))
    with pytest.raises(SpecificationError, match=message):
        parse_registry(text)


def test_user_yaml_extends_and_overrides_the_registry(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(_table_yaml(), encoding="utf-8")
    registry = load_registry(path)
    assert "T" in registry and "A" in registry
    replaced = load_registry(_table_yaml().replace("T:", "A:", 1))
    assert replaced["A"].title == "test table"
    assert [t.name for t in select_tables(registry, "T, A")] == ["T", "A"]
    with pytest.raises(SpecificationError, match="unknown specification table"):
        select_tables(registry, "Z")
    with pytest.raises(SpecificationError, match="no such file"):
        load_registry("does/not/exist.yaml")


# ------------------------------------------------------------------------ tables and text


def test_stars_thresholds():
    assert [stars(p) for p in (0.009, 0.01, 0.049, 0.05, 0.099, 0.1)] == [
        "***", "**", "**", "*", "*", ""]


def test_regression_table_layout_and_exports(small, tmp_path):
    estimated = estimate_table(parse_registry(_table_yaml())["T"], small)
    result = estimated.results[0]
    table = regression_table(estimated)
    first = table.iloc[0, 0]
    assert first == f"{result.params['x1']:.4f}{stars(result.pvalues['x1'])}"
    assert table.iloc[1, 0] == f"({result.bse['x1']:.4f})"
    assert table.loc["sector FE", "m1"] == "Yes" and table.loc["N", "m1"] == "60"
    assert table.loc["SE clusters used (region)", "m1"] == "8"  # groups of the SEs, not industrial clusters
    assert "Clusters" not in table.index
    footer = ("Inference: SE clustered by region (CRV1); small-sample correction (N-1)/(N-K) x "
              "G/(G-1), fixed effects nested in clusters not counted in K; singletons dropped "
              "(0); t(G-1) p-values, G-1 = 7.")
    from eocic.models.tables import table_notes, to_html
    assert table_notes(estimated)[1] == footer
    assert footer.replace("(", "").replace(")", "") in to_html(estimated).replace("(", "").replace(")", "")
    latex = to_latex(estimated)
    assert r"\toprule" in latex and "sector FE & Yes" in latex
    assert latex_escape("a_b & 5%") == r"a\_b \& 5\%"
    first = [p.read_bytes() for p in write_tables([estimated], tmp_path / "one")]
    second = [p.read_bytes() for p in write_tables([estimated], tmp_path / "two")]
    assert first == second  # deterministic
    csv_text = (tmp_path / "one" / "table_T.csv").read_text(encoding="utf-8")
    assert "Note: " + footer in csv_text and "SE clusters used (region),8" in csv_text
    tex_text = (tmp_path / "one" / "table_T.tex").read_text(encoding="utf-8")
    assert "singletons dropped (0); t(G-1) p-values, G-1 = 7." in tex_text
    tidy = results_frame([estimated], t0=2009, T=2014)
    assert {"spec", "model", "term", "coef", "se", "pvalue", "ci_low", "ci_high",
            "nobs"} <= set(tidy.columns)
    assert (tidy["t0"] == 2009).all()


def test_narrative_follows_the_numbers():
    base = pd.DataFrame({
        "spec": ["A", "A"], "model": ["m1", "m2"], "term": ["ln_lq_t0", "ln_lq_t0"],
        "coef": [-0.02, -0.015], "pvalue": [0.001, 0.2], "expected_sign": ["-", "-"],
        "proxy_for": [None, None]})
    text = describe(base)
    assert "significant at 5% in only 1 of 2" in text and "between -0.0200 and -0.0150" in text
    flipped = base.assign(coef=[0.02, 0.01], pvalue=[0.001, 0.001])
    assert "contradicts the published pattern" in describe(flipped)
    agree = base.assign(pvalue=[0.001, 0.01])
    assert "matches the published pattern in every column" in describe(agree)
    assert sign_pattern(agree).loc[0, "agree_significant"] == 2


def test_caveats_name_proxies_few_se_clusters_and_skipped_models(small, tmp_path):
    estimated = estimate_table(parse_registry(_table_yaml())["T"], small)
    tidy = results_frame([estimated], t0=2009, T=2014)
    run = types.SimpleNamespace(tidy=tidy, estimated=[estimated], t0=2009, T=2014,
                                grouping_note="Clusters: the scheme's categories.")
    notes = narrative.caveats(run)
    assert notes == ["Table T has only 8 clusters of the standard errors: cluster-robust "
                     "inference is fragile with so few."]
    proxied = tidy.assign(dependent_proxy_for="births_growth")
    text = " ".join(narrative.caveats(types.SimpleNamespace(
        **{**vars(run), "tidy": proxied, "grouping_note": "PROXY clusters: sections."})))
    assert "**proxies**" in text and escape_markdown(VARIABLE_LABELS["births_growth"]) in text
    assert text.endswith(escape_markdown("PROXY clusters: sections."))
    said = narrative.inference(run)
    assert said.startswith("**Inference.** Estimated with pyfixest") and "follow fixest" in said
    assert "Every table here uses these defaults." in said and "Singletons dropped" not in said
    own = estimate_table(parse_registry(_table_yaml(extra="singletons: keep"))["T"], small)
    said = narrative.inference(types.SimpleNamespace(**{**vars(run), "estimated": [own]}))
    assert "Table(s) T set their own inference in the registry" in said
    # a table name is letters, digits, '_' and '-' (the registry refuses others), but '_'
    # is Markdown emphasis: the name is escaped
    emphasis = parse_registry(_table_yaml(extra="singletons: keep").replace("T:", "x_y_z:", 1))
    said = narrative.inference(types.SimpleNamespace(**{**vars(run), "estimated": [
        estimate_table(emphasis["x_y_z"], small)]}))
    assert f"Table(s) {escape_markdown('x_y_z')} set" in said and "Table(s) x_y_z set" not in said
    lone = small.iloc[[0]].assign(region="R9")
    with_singleton = estimate_table(parse_registry(_table_yaml(fixed="[region, sector]"))["T"],
                                    pd.concat([small, lone], ignore_index=True))
    said = narrative.inference(types.SimpleNamespace(**{**vars(run),
                                                        "estimated": [with_singleton]}))
    assert "Singletons dropped: table T: 1 in each column." in said
    summary = narrative.summary(run)
    assert "**Caveats.**" in summary and "8 clusters" in summary
    assert narrative.overview(run).startswith("Growth window **2009-2014** (5 years); tables "
                                              "estimated: **T**.")
    report_dir = tmp_path / "reports" / "r1"
    listed = narrative.downloads([report_dir / "tables" / "table_T.csv",
                                  tmp_path / "data" / "processed" / "r1" / "regressions.parquet",
                                  Path("/elsewhere/file.csv")], report_dir, tmp_path)
    assert listed.splitlines() == [
        "- [tables&#47;table&#95;T&#46;csv](tables/table_T.csv)",
        f"- {markdown_code('data/processed/r1/regressions.parquet')}",
        f"- {markdown_code('…/file.csv')}"]
