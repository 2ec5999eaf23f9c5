"""Estimation, registry validation, tables and narrative of eocic.models on small hand-made data.

The cluster-robust standard errors are checked against the sandwich formula computed here in
numpy, with statsmodels' small-sample correction G/(G-1) * (N-1)/(N-K) and t(G-1) inference.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eocic.models import narrative
from eocic.models.estimation import RegressionModel, estimate_table, results_frame
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
    with pytest.raises(SpecificationError, match=r"singular design .* x[123]"):
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


def test_winsorising_clips_and_counts(small):
    spec = _spec(_table_yaml(extra="winsorise: [0.1, 0.9]"))
    result = RegressionModel(spec, small).fit()
    assert any("winsorised at P10/P90 (6 low, 6 high values clipped)" in n for n in result.notes)
    fitted_y = result.fitted.model.endog
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


def test_ppml_matches_poisson_glm_and_annualises(small):
    frame = small.assign(window=4)
    text = _table_yaml(dependent="count", regressors="[x1]", covariance="HC1",
                       extra="estimator: ppml\n  annualise: true")
    result = RegressionModel(_spec(text), frame).fit()
    import statsmodels.formula.api as smf
    import statsmodels.api as sm
    reference = smf.glm("count ~ x1 + C(sector)", frame, family=sm.families.Poisson()).fit(
        cov_type="HC1")
    assert result.params["x1"] == pytest.approx(reference.params["x1"] / 4, rel=1e-8)
    assert result.bse["x1"] == pytest.approx(reference.bse["x1"] / 4, rel=1e-8)
    assert 0.1 < reference.params["x1"] < 0.5


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
    assert table.loc["SE clusters (region)", "m1"] == "8"  # groups of the SEs, not industrial clusters
    assert "Clusters" not in table.index
    latex = to_latex(estimated)
    assert r"\toprule" in latex and "sector FE & Yes" in latex
    assert latex_escape("a_b & 5%") == r"a\_b \& 5\%"
    first = [p.read_bytes() for p in write_tables([estimated], tmp_path / "one")]
    second = [p.read_bytes() for p in write_tables([estimated], tmp_path / "two")]
    assert first == second  # deterministic
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
