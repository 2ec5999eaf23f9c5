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
    # fit_within checks its rows as fit does (the OLS cases: no estimator, offset or
    # covariance it does not fit)
    within = [(changes, message) for changes, message in cases
              if not {"estimator", "offset", "inference"} & set(changes)]
    assert len(within) == 10
    for fitting, chosen in ((fit, cases), (engine.fit_within, within)):
        for changes, message in chosen:
            arguments = dict(frame=panel, dependent="y", regressors=["x"],
                             fixed_effects=["geo"], inference=clustered, label="m") | changes
            with pytest.raises(EstimationError, match=message):
                fitting(**arguments)


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


def _within_panel() -> pd.DataFrame:
    """Two-way panel with singletons that appear only once others are dropped (a sector seen
    in one region only, that region's other rows alone in their sector), unbalanced clusters
    and regions nested in countries."""
    rng = np.random.default_rng(11)
    n = 600
    frame = pd.DataFrame({"geo": rng.integers(0, 40, n), "sector": rng.integers(0, 12, n),
                          "x": rng.normal(size=n), "z": rng.lognormal(size=n)})
    frame["country"] = "C" + (frame["geo"] // 5).astype(str)
    frame["geo"] = "R" + frame["geo"].astype(str)
    frame["y"] = (0.4 * frame["x"] - 0.1 * frame["z"] + frame["geo"].str[1:].astype(int) / 20
                  + frame["sector"] / 7 + rng.normal(size=n) * (1 + frame["x"].abs()))
    chain = pd.DataFrame({"geo": ["RX", "RX", "RY"], "sector": [98, 99, 99],
                          "x": [0.3, -1.2, 0.8], "z": [1.0, 2.0, 0.5], "country": "C0",
                          "y": [1.0, 0.2, -0.4]})
    return pd.concat([frame, chain], ignore_index=True)


WITHIN_SETTINGS = [
    Inference(clusters="geo"), Inference(clusters="country"), Inference(clusters="sector"),
    Inference(vcov="iid"), Inference(vcov="HC1"),
    Inference(clusters="geo", k_fixef="full", fixef_rm="none"),
    Inference(clusters="country", k_fixef="none", k_adj=False, G_adj=False),
    Inference(clusters="geo", distribution="normal", level=0.9),
]


@pytest.mark.parametrize("settings", WITHIN_SETTINGS, ids=lambda s: s.describe(estimator="ols"))
@pytest.mark.parametrize("fixed_effects", [("geo", "sector"), ("sector",), ()],
                         ids=lambda f: "+".join(f) or "no FE")
def test_fit_within_equals_pyfixest_feols(settings, fixed_effects):
    """The within path gives pyfixest's numbers: coefficients, SEs, p-values, intervals, N,
    singletons (here some appear only once others are gone), clusters, t degrees of freedom
    and R-squared, for every covariance, small-sample and singleton setting it supports."""
    frame = _within_panel()
    reference = fit(frame, "y", ["x", "z"], fixed_effects, settings, label="m")
    within = engine.fit_within(frame, "y", ["x", "z"], fixed_effects, settings, label="m")
    assert within.model is None
    assert (within.rows, within.nobs, within.singletons, within.n_clusters, within.df) == (
        reference.rows, reference.nobs, reference.singletons, reference.n_clusters,
        reference.df)
    if settings.fixef_rm == "singleton" and fixed_effects == ("geo", "sector"):
        assert within.singletons == 3   # RY (sector 99 with RX), then RX's rows: iterated
    # both demean to pyfixest's tolerance (1e-6); feols itself varies by up to 4e-9 between
    # runs on this panel (its demeaning stops at another iteration), fit_within does not
    pd.testing.assert_frame_equal(within.coefficients(), reference.coefficients(),
                                  rtol=1e-7, atol=1e-12)
    assert within.rsquared == pytest.approx(reference.rsquared, rel=1e-9)
    assert within.describe() == reference.describe()


def test_fit_within_refuses_the_models_it_does_not_fit(panel):
    for settings in (Inference(vcov="CRV3", clusters="geo"),
                     Inference(clusters=("geo", "sector")), Inference(vcov="HC3")):
        assert not engine.fits_within("ols", settings)
        with pytest.raises(EstimationError, match="m: fit_within fits OLS with iid, HC1 or"):
            engine.fit_within(panel, "y", ["x"], [], settings, label="m")
    assert not engine.fits_within("ppml", Inference())
    assert not engine.fits_within("ols", Inference(), weights="w")
