"""The estimation engine (eocic.models.engine) on its own: settings, footer text, refusals.

The numbers are checked against hand computations in test_models_estimation.py (OLS cluster
sandwich, PPML score and sandwich, CRV3); here: that the engine equals statsmodels' dummy
regression with the old settings, that the inference settings are validated, and that every
hostile input fails with a message naming the model and the fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eocic.errors import EocicError
from eocic.models import engine
from eocic.models.engine import EstimationError, Inference, fit


@pytest.fixture
def panel():
    """400 rows, 20 regions (clusters), 6 sectors; y = 0.5 x - 0.2 z + FE + e; count Poisson."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"geo": rng.integers(0, 20, n), "sector": rng.integers(0, 6, n),
                          "x": rng.normal(size=n), "z": rng.normal(size=n)})
    frame["geo"] = "R" + frame["geo"].astype(str)
    region_effect = frame["geo"].str[1:].astype(int) / 10
    frame["y"] = 0.5 * frame["x"] - 0.2 * frame["z"] + region_effect + rng.normal(size=n)
    frame["count"] = rng.poisson(np.exp(0.3 + 0.2 * frame["x"]))
    return frame


def test_old_settings_equal_statsmodels_dummy_regression(panel):
    import statsmodels.formula.api as smf

    result = fit(panel, "y", ["x", "z"], ["geo", "sector"],
                 Inference(clusters=("geo",), **engine.STATSMODELS_DUMMIES))
    groups = panel.groupby("geo").ngroup()
    reference = smf.ols("y ~ x + z + C(geo) + C(sector)", panel).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    table = result.coefficients()
    np.testing.assert_allclose(table["coef"], reference.params[["x", "z"]], rtol=1e-8)
    np.testing.assert_allclose(table["se"], reference.bse[["x", "z"]], rtol=1e-7)
    np.testing.assert_allclose(table["pvalue"], reference.pvalues[["x", "z"]], rtol=1e-6)
    np.testing.assert_allclose(table[["ci_low", "ci_high"]],
                               reference.conf_int().loc[["x", "z"]], rtol=1e-7)
    assert result.rsquared == pytest.approx(reference.rsquared, rel=1e-8)
    assert (result.nobs, result.n_clusters, result.singletons, result.df) == (400, 20, 0, 19)


def test_defaults_follow_fixest():
    default = Inference()
    assert (default.vcov, default.k_adj, default.k_fixef, default.G_adj, default.G_df,
            default.fixef_rm, default.distribution) == (
        "HC1", True, "nonnested", True, "min", "singleton", "auto")
    import pyfixest

    assert pyfixest.ssc() == default.pyfixest_ssc()  # pyfixest 0.60's own defaults
    clustered = Inference(clusters="geo")
    assert clustered.vcov == "CRV1" and clustered.clusters == ("geo",)
    assert clustered.pyfixest_vcov() == {"CRV1": "geo"}
    assert Inference(clusters=("geo", "sector")).pyfixest_vcov() == {"CRV1": "geo+sector"}
    assert clustered.distribution_for("ols") == "t"
    assert clustered.distribution_for("ppml") == "normal"
    assert clustered.describe(estimator="ols") == (
        "SE clustered by geo (CRV1); small-sample correction (N-1)/(N-K) x G/(G-1), fixed "
        "effects nested in clusters not counted in K; singletons dropped; t(G-1) p-values")
    assert Inference(vcov="iid", k_adj=False).describe(estimator="ppml") == (
        "SE conventional (homoskedastic); no small-sample correction; singletons dropped; "
        "normal p-values")
    assert "min(G)/(min(G)-1)" in Inference(clusters=("geo", "sector")).describe()


def test_ppml_uses_normal_p_values_by_default_and_t_when_asked(panel):
    normal = fit(panel, "count", ["x"], ["geo"], Inference(clusters="geo"), estimator="ppml")
    student = fit(panel, "count", ["x"], ["geo"], Inference(clusters="geo", distribution="t"),
                  estimator="ppml")
    a, b = normal.coefficients().loc["x"], student.coefficients().loc["x"]
    assert a["se"] == b["se"]
    assert a["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(a["tstat"])))
    assert b["pvalue"] == pytest.approx(2 * stats.t.sf(abs(b["tstat"]), 19))
    assert normal.describe().endswith("normal p-values")


@pytest.mark.parametrize("settings, message", [
    (dict(vcov="HC0"), "vcov 'HC0' is not one of iid, HC1, HC2, HC3, CRV1, CRV3"),
    (dict(vcov="CRV1"), "vcov CRV1 needs one or two cluster columns, got 0"),
    (dict(vcov="HC1", clusters=("geo",)), "cluster columns geo given with vcov HC1"),
    (dict(clusters=("a", "b", "c")), "needs one or two cluster columns, got 3"),
    (dict(vcov="CRV3", clusters=("a", "b")), "CRV3 takes one cluster column"),
    (dict(clusters=("geo; import os",)), "cluster column names must be identifiers"),
    (dict(k_adj="yes"), "k_adj must be true or false, got 'yes'"),
    (dict(k_fixef="nested"), "k_fixef 'nested' is not one of nonnested, full, none"),
    (dict(G_df="max"), "G_df 'max' is not one of min, conventional"),
    (dict(fixef_rm="singletons"), "fixef_rm 'singletons' is not one of singleton, none"),
    (dict(distribution="z"), "distribution 'z' is not one of auto, t, normal"),
    (dict(level=95), "level must be a float in \\[0.5, 1\\), got 95"),
])
def test_bad_inference_settings_are_refused(settings, message):
    with pytest.raises(EstimationError, match=message) as caught:
        Inference(**settings)
    assert isinstance(caught.value, EocicError) and isinstance(caught.value, ValueError)


def test_hostile_and_broken_inputs_fail_naming_the_model(panel):
    clustered = Inference(clusters="geo")
    holes = panel.assign(x=panel["x"].where(panel.index % 50 != 0))
    cases = [
        (dict(frame=holes), "m: 8 rows with a missing or non-finite 'x'; drop incomplete rows"),
        (dict(frame=panel.assign(x=np.where(panel.index == 3, np.inf, panel["x"]))),
         "m: 1 rows with a missing or non-finite 'x'"),
        (dict(regressors=["x", "__import__('os').system('echo owned')"]),
         "m: column names must be Python identifiers"),
        (dict(dependent="y + x"), "m: column names must be Python identifiers"),
        (dict(regressors=["x", "w"]), r"m: column\(s\) w not in the data"),
        (dict(regressors=[]), "m: at least one regressor is needed"),
        (dict(estimator="tobit"), "m: unknown estimator 'tobit'; use one of ols, ppml"),
        (dict(offset="z"), "m: an offset needs estimator 'ppml'"),
        (dict(dependent="y", estimator="ppml"), "m: PPML needs a non-negative dependent"),
        (dict(inference=Inference(vcov="CRV3", clusters=("geo",)), estimator="ppml",
              dependent="count"), "m: CRV3 is available for OLS only"),
        (dict(frame=panel.assign(geo="R1")), r"m: one cluster only \(clustered by geo"),
        (dict(inference=Inference(vcov="HC3")), "m: HC3 needs the leverage of the full design"),
        (dict(frame=panel.assign(label=panel["geo"]), regressors=["x", "label"]),
         "m: column 'label' is not numeric"),
        (dict(frame=panel.assign(w=panel["x"] - panel["z"]), regressors=["x", "z", "w"]),
         "m: singular design: regressor.s. w are linearly dependent on x, z, geo fixed effect"),
        (dict(frame=panel.assign(size=panel["geo"].str[1:].astype(float) ** 2),
              regressors=["x", "size"]),
         "m: singular design: regressor.s. size are linearly dependent on x, geo fixed effect"),
    ]
    for changes, message in cases:
        arguments = dict(frame=panel, dependent="y", regressors=["x"], fixed_effects=["geo"],
                         inference=clustered, label="m") | changes
        with pytest.raises(EstimationError, match=message):
            fit(**arguments)


def test_singletons_counted_and_clusters_used(panel):
    lonely = pd.concat([panel, panel.iloc[:3].assign(geo=["S1", "S2", "S3"])],
                       ignore_index=True)
    dropped = fit(lonely, "y", ["x"], ["geo"], Inference(clusters="geo"))
    kept = fit(lonely, "y", ["x"], ["geo"], Inference(clusters="geo", fixef_rm="none"))
    assert (dropped.rows, dropped.nobs, dropped.singletons, dropped.n_clusters) == (
        403, 400, 3, 20)
    assert (kept.nobs, kept.singletons, kept.n_clusters) == (403, 0, 23)
    assert "singletons dropped (3)" in dropped.describe()
    assert dropped.warnings == []  # the singleton warning is the count, not noise
