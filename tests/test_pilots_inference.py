"""Few-cluster inference of the pilot DiD (eocic.pilots.inference): the restricted wild
cluster bootstrap against pyfixest's wildboottest() (the reference implementation), its
interval by test inversion against direct re-runs at the interval's ends, randomisation
inference against a brute-force loop, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from eocic.pilots import inference


def _panel(effect: float = 0.01, seed: int = 3, treated_regions: int = 8) -> pd.DataFrame:
    """40 regions x 2010-2021; the first ``treated_regions`` treated from 2018 in pairs
    (one cluster per pair, like a two-region pilot); the others their own cluster."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(40):
        treated = r < treated_regions
        level = rng.normal(10, 1)
        for year in range(2010, 2022):
            rows.append({"geo": f"R{r:02d}", "year": year, "treated": int(treated),
                         "D": float(treated and year >= 2018),
                         "y": level + 0.01 * (year - 2010) + effect * treated * (year >= 2018)
                         + rng.normal(0, 0.02),
                         "cluster_label": f"P{r // 2}" if treated else f"C{r:02d}"})
    frame = pd.DataFrame(rows)
    # pyfixest 0.60's wildboottest() fails on string cluster labels (numba typing of the
    # labels); integer codes in the same sorted order give the same weight rows
    frame["cluster"] = pd.factorize(frame["cluster_label"], sort=True)[0]
    return frame


def _design(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame["D"], pd.get_dummies(frame["geo"], dtype=float),
                            pd.get_dummies(frame["year"], dtype=float, drop_first=True)])


def _pyfixest_p(frame: pd.DataFrame, weights: str, draws: int, seed: int,
                shift: float = 0.0) -> float:
    import pyfixest

    data = frame.assign(y=frame["y"] - shift * frame["D"])
    fit = pyfixest.feols("y ~ D | geo + year", data=data, vcov={"CRV1": "cluster"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit.wildboottest(reps=draws, param="D", weights_type=weights,
                                  impose_null=True, seed=seed)
    return float(result["Pr(>|t|)"])


@pytest.mark.parametrize("weights", ["webb", "rademacher"])
def test_wild_bootstrap_p_value_equals_pyfixest(weights):
    frame = _panel()
    mine = inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                            weights=weights, draws=999, seed=11)[0]
    assert mine.p_value == _pyfixest_p(frame, weights, 999, 11)
    assert mine.weights == weights and mine.draws == 999 and mine.n_clusters == 36


def test_wild_bootstrap_same_with_string_cluster_labels():
    frame = _panel()
    by_code = inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"],
                                               [0], weights="webb", draws=499, seed=2)[0]
    by_label = inference.wild_cluster_bootstrap(_design(frame), frame["y"],
                                                frame["cluster_label"], [0], weights="webb",
                                                draws=499, seed=2)[0]
    assert by_code == by_label


def test_wild_interval_ends_are_where_pyfixest_starts_and_stops_rejecting():
    """The interval comes from the closed form in the null value; re-running pyfixest's
    bootstrap on y - b0 D just inside and just outside each end must accept and reject."""
    frame = _panel()
    result = inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                              weights="webb", draws=999, seed=5)[0]
    width = result.ci_high - result.ci_low
    eps = 1e-4 * width
    assert _pyfixest_p(frame, "webb", 999, 5, result.ci_low + eps) > 0.05
    assert _pyfixest_p(frame, "webb", 999, 5, result.ci_low - eps) <= 0.05
    assert _pyfixest_p(frame, "webb", 999, 5, result.ci_high - eps) > 0.05
    assert _pyfixest_p(frame, "webb", 999, 5, result.ci_high + eps) <= 0.05


def test_wild_bootstrap_covers_the_truth_and_rejects_a_real_effect():
    frame = _panel(effect=0.05)
    result = inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                              weights="webb", draws=999, seed=1)[0]
    assert result.ci_low < 0.05 < result.ci_high
    # t = 10 but only four treated clusters: WCR is conservative then (MacKinnon & Webb 2018)
    assert result.t_stat > 8 and result.p_value < 0.05


def test_rademacher_weights_are_enumerated_when_clusters_are_very_few():
    frame = _panel()
    frame["cluster"] = frame["geo"].str[1:].astype(int) % 5
    result = inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                              weights="rademacher", draws=999, seed=1)[0]
    assert result.draws == 2 ** 5


@pytest.mark.parametrize("treated, untreated, expected", [
    (10, 60, "webb"), (60, 10, "webb"), (12, 40, "webb"), (13, 13, "rademacher")])
def test_webb_weights_when_treated_or_control_clusters_are_few(treated, untreated, expected):
    assert inference.wild_weights_for(treated, untreated) == expected


def _ri_inputs(frame: pd.DataFrame):
    controls = np.column_stack([pd.get_dummies(frame["geo"], dtype=float),
                                pd.get_dummies(frame["year"], dtype=float, drop_first=True)])
    region = pd.factorize(frame["geo"], sort=True)[0]
    treated = (frame.groupby("geo", sort=True)["treated"].max() == 1).to_numpy()
    dose = (frame["year"] >= 2018).to_numpy(float)
    return controls, frame["y"].to_numpy(), region, treated, dose


def test_randomisation_inference_equals_a_brute_force_loop():
    frame = _panel(effect=0.005)
    controls, y, region, treated, dose = _ri_inputs(frame)
    result = inference.randomisation_inference(controls, y, region, treated, dose, draws=199,
                                               seed=4, batch=199)
    # the estimate is the DiD coefficient
    design = _design(frame)
    assert result.estimate == pytest.approx(np.linalg.lstsq(design, y, rcond=None)[0][0],
                                            rel=1e-9)
    # the same draws, one regression each
    keys = np.random.default_rng(4).random((199, len(treated)))
    chosen = np.argsort(keys, axis=1)[:, :treated.sum()]
    extreme = 0
    for draw in chosen:
        labels = np.zeros(len(treated), dtype=bool)
        labels[draw] = True
        permuted = np.column_stack([labels[region] * dose, controls])
        tau = np.linalg.lstsq(permuted, y, rcond=None)[0][0]
        extreme += abs(tau) >= abs(result.estimate) - 1e-12
    assert result.p_value == pytest.approx((1 + extreme) / 200)
    assert result.draws == 199 and result.n_treated == 8 and result.n_regions == 40


def test_randomisation_interval_ends_match_direct_reruns():
    frame = _panel(effect=0.03)
    controls, y, region, treated, dose = _ri_inputs(frame)
    result = inference.randomisation_inference(controls, y, region, treated, dose, draws=499,
                                               seed=9)
    assert result.ci_low < 0.03 < result.ci_high
    actual = treated[region] * dose
    eps = 1e-4 * (result.ci_high - result.ci_low)

    def p_at(null: float) -> float:
        return inference.randomisation_inference(controls, y - null * actual, region, treated,
                                                 dose, draws=499, seed=9).p_value

    assert p_at(result.ci_low + eps) > 0.05 >= p_at(result.ci_low - eps)
    assert p_at(result.ci_high - eps) > 0.05 >= p_at(result.ci_high + eps)


def test_invert_test_leaves_an_unbounded_end_missing():
    low, high = inference.invert_test(lambda null: np.where(null > -1, 1.0, 0.0), 0.0, 1.0, 0.05)
    assert low == pytest.approx(-1, abs=1e-6) and np.isnan(high)


# ------------------------------------------------------------------------ hostile input

@pytest.mark.parametrize("draws", [0, 50, 99.5, "999", None])
def test_bad_bootstrap_draws_are_refused(draws):
    frame = _panel()
    with pytest.raises(inference.InferenceError, match="bootstrap draws must be an integer"):
        inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                         weights="webb", draws=draws)


def test_one_cluster_is_refused():
    frame = _panel()
    with pytest.raises(inference.InferenceError, match="at least two clusters"):
        inference.wild_cluster_bootstrap(_design(frame), frame["y"], np.zeros(len(frame)), [0],
                                         weights="webb", draws=199)


def test_singular_design_is_refused():
    frame = _panel()
    design = np.column_stack([_design(frame), np.ones(len(frame))])   # constant + all regions
    with pytest.raises(inference.InferenceError, match="not of full column rank"):
        inference.wild_cluster_bootstrap(design, frame["y"], frame["cluster"], [0],
                                         weights="webb", draws=199)


def test_unknown_weights_are_refused():
    frame = _panel()
    with pytest.raises(inference.InferenceError, match="bootstrap weights 'mammen'"):
        inference.wild_cluster_bootstrap(_design(frame), frame["y"], frame["cluster"], [0],
                                         weights="mammen", draws=199)


@pytest.mark.parametrize("labels, message", [
    ("none", "needs treated and untreated regions \\(0 of 40 treated\\)"),
    ("all", "needs treated and untreated regions \\(40 of 40 treated\\)")])
def test_permutations_need_treated_and_untreated_regions(labels, message):
    controls, y, region, treated, dose = _ri_inputs(_panel())
    treated = np.zeros_like(treated) if labels == "none" else np.ones_like(treated)
    with pytest.raises(inference.InferenceError, match=message):
        inference.randomisation_inference(controls, y, region, treated, dose, draws=199)


def test_permutations_refuse_a_treatment_the_fixed_effects_absorb():
    controls, y, region, treated, _ = _ri_inputs(_panel())
    with pytest.raises(inference.InferenceError, match="absorbed by the fixed effects"):
        inference.randomisation_inference(controls, y, region, treated,
                                          np.ones(len(y)), draws=199)


@pytest.mark.parametrize("draws", [0, 98, 1e3])
def test_bad_permutation_draws_are_refused(draws):
    controls, y, region, treated, dose = _ri_inputs(_panel())
    with pytest.raises(inference.InferenceError, match="permutation draws must be an integer"):
        inference.randomisation_inference(controls, y, region, treated, dose, draws=draws)
