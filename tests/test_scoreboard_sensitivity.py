"""Sobol sensitivity: estimators against analytic indices, the vectorised runs against the
engine, and the specification's refusals."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from eocic.errors import EocicError
from eocic.scoreboard import sensitivity
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import load_framework
from test_scoreboard_uncertainty import _synthetic_board


# The analytic values are checked against 99 % intervals: the intervals are calibrated (over 300
# replications of the linear model below, N = 1000, the 95 % intervals held the true value in
# 92-96 % of cases), so with ~8 checks per test 95 % intervals would miss one by chance for about
# a third of the seeds, while a wrong estimator misses by far more than the interval width.
def _inside(estimate, name, expected):
    low = getattr(estimate, f"{name}_low").ravel()
    high = getattr(estimate, f"{name}_high").ravel()
    assert np.all((low <= expected) & (expected <= high)), (name, low, expected, high)


# -- estimators on functions with known indices ------------------------------------------------
def test_ishigami_indices_lie_within_their_bootstrap_intervals():
    # Ishigami (a = 7, b = 0.1), x_i ~ U(-pi, pi): analytic V_1, V_2, V_13 (Saltelli 2010, 4.2)
    a, b, n = 7.0, 0.1, 10_000
    design = sensitivity.saltelli_design([1, 1, 1], n, np.random.default_rng(1))
    x = np.hstack(design) * 2 * np.pi - np.pi
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    variance = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    estimate = sensitivity.sobol_indices(y, n, 3, n_boot=500, confidence=0.99, seed=2)
    _inside(estimate, "first_order", np.array([v1, v2, 0.0]) / variance)
    _inside(estimate, "total", np.array([v1 + v13, v2, v13]) / variance)
    # and the estimates are close, not merely covered by wide intervals
    assert estimate.total.ravel() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)
    assert (estimate.total_high - estimate.total_low).max() < 0.1


def test_linear_model_indices_and_a_dummy_factor_at_zero():
    # y = sum a_i x_i, x_i ~ U(0, 1): S_i = S_T,i = a_i^2 / sum a_j^2; the 4th factor is inert
    coefficients, n = np.array([4.0, 2.0, 1.0, 0.0]), 4000
    design = sensitivity.saltelli_design([1] * 4, n, np.random.default_rng(5))
    y = np.hstack(design) @ coefficients
    estimate = sensitivity.sobol_indices(y, n, 4, n_boot=400, confidence=0.99, seed=6)
    expected = coefficients ** 2 / (coefficients ** 2).sum()
    _inside(estimate, "first_order", expected)
    _inside(estimate, "total", expected)
    assert estimate.first_order.ravel() == pytest.approx(expected, abs=0.03)
    for name in ("first_order", "first_order_low", "first_order_high", "total", "total_low",
                 "total_high"):
        assert getattr(estimate, name)[3, 0] == 0.0  # exactly: f(A_B^(4)) = f(A)


def test_a_group_of_inputs_is_one_factor():
    # y = x1 + x2 + x3 with (x1, x2) one factor: S_group = 2/3, S_3 = 1/3
    n = 4000
    group, single = sensitivity.saltelli_design([2, 1], n, np.random.default_rng(8))
    assert group.shape == (4 * n, 2) and single.shape == (4 * n, 1)
    y = group.sum(axis=1) + single[:, 0]
    estimate = sensitivity.sobol_indices(y, n, 2, n_boot=400, confidence=0.99, seed=9)
    _inside(estimate, "first_order", np.array([2 / 3, 1 / 3]))
    _inside(estimate, "total", np.array([2 / 3, 1 / 3]))


def test_design_rows_take_exactly_factor_i_from_b():
    n = 5
    factors = sensitivity.saltelli_design([2, 1, 3], n, np.random.default_rng(0))
    for i in range(3):
        for k, block in enumerate(factors):
            a, b, ab_i = block[:n], block[n:2 * n], block[(2 + i) * n:(3 + i) * n]
            np.testing.assert_array_equal(ab_i, b if k == i else a)
    assert not np.array_equal(factors[0][:n], factors[0][n:2 * n])


def test_pooled_indices_weight_outputs_by_their_variance():
    n = 3000
    design = np.hstack(sensitivity.saltelli_design([1, 1], n, np.random.default_rng(3)))
    # output 1 depends on x1 only (variance 100/12), output 2 on x2 only (variance 1/12)
    y = np.stack([10 * design[:, 0], design[:, 1]], axis=1)
    pooled = sensitivity.sobol_indices(y, n, 2, n_boot=0, pooled=True)
    share = 100 / 101
    assert pooled.total.ravel() == pytest.approx([share, 1 - share], abs=0.02)
    assert np.isnan(pooled.total_low).all()  # no bootstrap asked


# -- the scoreboard as the model ---------------------------------------------------------------
@pytest.fixture(scope="module")
def board(fixtures_dir):
    framework = load_framework(fixtures_dir / "scoreboard" / "tiny_framework.yaml")
    return Scoreboard(framework["tiny"], {"context": _synthetic_board(n_regions=40)}, year=2020)


def _engine_ranks(board, inputs, runs, run):
    """The index ranks of one run rebuilt with the pandas engine from its decoded levels."""
    levels = {factor: inputs.levels[factor][runs.level[factor][run]] for factor in inputs.levels}
    framework = board.framework
    if levels["removed indicator"] is not None:
        framework, _ = framework.without([levels["removed indicator"]])
    weights = dict(zip(inputs.structure.nodes, runs.weights[run]))
    framework = framework.with_weights({code: weights[code] for code in
                                        framework.indicator_codes + framework.group_codes
                                            if code in weights})
    window, parent = levels["imputation"]
    engine = Scoreboard(framework, board.tables, year=board.year, availability_threshold=0.0,
                        impute_window=window, impute_parent=parent,
                        treat=levels["outlier treatment"],
                        treatment_scope=levels["treatment scope"],
                        normalisation=levels["normalisation"],
                        aggregation=levels["aggregation"],
                        data_threshold=levels["data threshold"])
    scores = engine.year_frame(["tiny"])["tiny"].reindex(board.regions)
    return scores.rank(ascending=False, method="min").to_numpy()


def test_every_kind_of_run_equals_the_engine_rebuilt_with_its_choices(board):
    spec = sensitivity.SensitivitySpec(n=12, seed=4, data_thresholds=(0.5, 0.75))
    inputs = sensitivity.prepare_inputs(board, spec)
    runs = sensitivity.sample_runs(inputs, spec)
    ranks = sensitivity.evaluate(inputs, runs)
    removed = runs.level["removed indicator"]
    checked = set()
    for run in range(runs.count):
        key = (removed[run] > 0, runs.level["aggregation"][run],
               runs.level["imputation"][run], runs.level["data threshold"][run],
               runs.level["outlier treatment"][run], runs.level["treatment scope"][run])
        if key in checked and run % 7:
            continue
        checked.add(key)
        np.testing.assert_array_equal(ranks[:, run], _engine_ranks(board, inputs, runs, run),
                                      err_msg=f"run {run}")
    assert len(checked) >= 12  # removal, aggregation, imputation and thresholds all covered
    # treatment on (level 0) in both scopes, each checked against the engine
    assert {(key[4], key[5]) for key in checked} >= {(0, 0), (0, 1)}


def test_nominal_ranks_are_the_scoreboard_ranks(board):
    inputs = sensitivity.prepare_inputs(board, sensitivity.SensitivitySpec(n=2))
    expected = board.aggregated["tiny"].xs(2020, level="year").reindex(board.regions)
    np.testing.assert_array_equal(inputs.nominal_ranks,
                                  expected.rank(ascending=False, method="min").to_numpy())


def test_an_inert_factor_gets_zero_indices_and_the_result_is_seeded(board):
    # two children per group: shares of available children are 0, 1/2 or 1, so thresholds
    # 0.1 and 0.4 select the same regions, the factor cannot move any rank
    spec = sensitivity.SensitivitySpec(n=200, factors=("normalisation", "aggregation",
                                                       "data threshold"),
                                       data_thresholds=(0.1, 0.4), n_boot=200, seed=21)
    result = sensitivity.run_sensitivity(board, spec)
    table = result.indices.set_index(["output", "factor"])
    for output in ("mean absolute rank change", "region ranks (pooled)"):
        row = table.loc[(output, "data threshold")]
        assert row[["first_order", "total", "total_low", "total_high"]].tolist() == [0.0] * 4
        assert table.loc[(output, "normalisation"), "total"] > 0.05
    again = sensitivity.run_sensitivity(board, spec)
    pd.testing.assert_frame_equal(result.indices, again.indices)
    pd.testing.assert_frame_equal(result.regions, again.regions)
    other = sensitivity.run_sensitivity(board, dataclasses.replace(spec, seed=22))
    assert not np.array_equal(result.outputs, other.outputs)


def test_treatment_scope_moves_ranks_where_it_can_and_is_inert_where_it_cannot(board):
    # board: lognormal indicators over 2019-2020, where treating 2020 alone (by_year) and
    # treating both years at once (pooled) transform some indicator differently, so the scope
    # moves 2020 ranks; the treatment stays on (one level) and the normalisation also varies
    spec = sensitivity.SensitivitySpec(n=150, factors=("treatment scope", "normalisation"),
                                       treatments=(True,), n_boot=100, seed=5)
    inputs = sensitivity.prepare_inputs(board, spec)
    by_year, pooled = (inputs.matrices[(0, 0, scope, 0, 0)] for scope in (0, 1))
    assert not np.array_equal(by_year, pooled, equal_nan=True)
    table = sensitivity.run_sensitivity(board, spec, inputs).indices.set_index(
        ["output", "factor"])
    for output in ("mean absolute rank change", "region ranks (pooled)"):
        assert table.loc[(output, "treatment scope"), "total_low"] > 0, output
    # one year of data: by year and pooled treat the same rows, the scope cannot move a rank
    context = board.tables["context"]
    one_year = Scoreboard(board.full_framework, {"context": context[context["year"] == 2020]},
                          year=2020)
    inputs = sensitivity.prepare_inputs(one_year, spec)
    np.testing.assert_array_equal(inputs.matrices[(0, 0, 0, 0, 0)],
                                  inputs.matrices[(0, 0, 1, 0, 0)])
    table = sensitivity.run_sensitivity(one_year, spec, inputs).indices.set_index(
        ["output", "factor"])
    for output in ("mean absolute rank change", "region ranks (pooled)"):
        row = table.loc[(output, "treatment scope")]
        assert row[["first_order", "total", "total_low", "total_high"]].tolist() == [0.0] * 4
        assert table.loc[(output, "normalisation"), "total"] > 0.05


def test_without_treatment_the_scope_shares_the_untreated_matrices(board):
    spec = sensitivity.SensitivitySpec(n=2, factors=("outlier treatment", "treatment scope"))
    inputs = sensitivity.prepare_inputs(board, spec)
    assert inputs.levels["outlier treatment"] == (True, False)
    assert inputs.levels["treatment scope"] == ("by_year", "pooled")
    untreated = board.rerun(treat=False).normalised.xs(2020, level="year")
    expected = untreated.reindex(board.regions)[board.indicator_codes].to_numpy(float)
    for scope in (0, 1):
        assert inputs.matrices[(0, 1, scope, 0, 0)] is inputs.matrices[(0, 1, 0, 0, 0)]
        np.testing.assert_array_equal(inputs.matrices[(0, 1, scope, 0, 0)], expected)


def test_run_tables_cover_every_region_factor_and_removed_indicator(board):
    spec = sensitivity.SensitivitySpec(n=64, n_boot=50, seed=3)
    result = sensitivity.run_sensitivity(board, spec)
    d = len(sensitivity.FACTORS)
    assert result.ranks.shape == (len(board.regions), 64 * (d + 2))
    assert list(result.indices["factor"]) == list(sensitivity.FACTORS) * 2
    assert len(result.regions) == len(board.regions) * d
    assert set(result.removal["removed"]) <= {"none", *board.indicator_codes}
    assert result.removal["runs"].sum() == 2 * 64
    complete = result.regions["runs_with_rank"] == result.ranks.shape[1]
    # regions unranked in some run carry no per-region indices
    assert result.regions.loc[~complete, "total"].isna().all()
    assert result.regions.loc[complete, "total"].notna().any()
    changes = np.abs(result.ranks[:, :5] - result.inputs.nominal_ranks[:, None])
    np.testing.assert_allclose(result.outputs[:5], np.nanmean(changes, axis=0))


# -- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, message", [
    (dict(n=1), "at least 2 rows"),
    (dict(factors=("weights", "normalisation")), "unknown sensitivity factors \\['weights'\\]"),
    (dict(factors=("normalisation",)), "at least 2 factors"),
    (dict(factors=("normalisation", "normalisation")), "name a factor twice"),
    (dict(weight_noise=1.0), "weight_noise = 1.0 must be in \\[0, 1\\)"),
    (dict(normalisations=("minmax", "log")), "unknown normalisations \\['log'\\]"),
    (dict(aggregations=("harmonic",)), "unknown aggregations \\['harmonic'\\]"),
    (dict(imputations=((-1, True),)), "imputation \\(-1, True\\)"),
    (dict(imputations=((2, "yes"),)), "imputation \\(2, 'yes'\\)"),
    (dict(data_thresholds=(0.5, 1.5)), "data thresholds \\[1.5\\] must lie in \\[0, 1\\]"),
    (dict(treatments=()), "treatments is empty"),
    (dict(treatment_scopes=("global",)), "unknown treatment scopes \\['global'\\]"),
    (dict(treatment_scopes=()), "treatment_scopes is empty"),
    (dict(n_boot=-1), "n_boot = -1"),
    (dict(confidence=95), "confidence = 95 must be in \\(0, 1\\)"),
])
def test_bad_specifications_are_refused_with_the_fix(changes, message):
    with pytest.raises(sensitivity.SensitivityError, match=message) as caught:
        sensitivity.SensitivitySpec(**changes)
    assert isinstance(caught.value, EocicError) and isinstance(caught.value, ValueError)


def test_estimator_refuses_a_wrong_length_or_missing_outputs():
    with pytest.raises(sensitivity.SensitivityError, match="N \\(d \\+ 2\\) = 50 runs"):
        sensitivity.sobol_indices(np.zeros(49), 10, 3)
    outputs = np.zeros(50)
    outputs[7] = np.nan
    with pytest.raises(sensitivity.SensitivityError, match="contain NaN"):
        sensitivity.sobol_indices(outputs, 10, 3)


def test_removing_the_only_indicator_is_refused(board):
    framework, _ = board.framework.without(["gerd", "tertiary", "broadband"])
    single = Scoreboard(framework, board.tables, year=2020)
    with pytest.raises(sensitivity.SensitivityError, match="only 1 indicator survives"):
        sensitivity.run_sensitivity(single, sensitivity.SensitivitySpec(n=4))


def test_a_constant_output_gets_nan_indices_not_a_division_error():
    estimate = sensitivity.sobol_indices(np.full(40, 3.0), 10, 2, n_boot=20)
    assert np.isnan(estimate.first_order).all() and np.isnan(estimate.total_high).all()


def test_runs_that_score_no_region_are_refused_naming_the_year(board):
    # every region lacks one of the two dimension-A indicators in 2020 (half lack each, so
    # both survive screening) and nothing is imputed: at data threshold 1 nobody is scored
    context = _synthetic_board(n_regions=40)
    geos = sorted(context["geo"].unique())
    first_half = context["geo"].isin(geos[:20])
    in_2020 = context["year"] == 2020
    context.loc[in_2020 & first_half & (context["indicator"] == "rd_gerd_pc_gdp"),
                "value"] = np.nan
    context.loc[in_2020 & ~first_half & (context["indicator"] == "tertiary_pc_25_64"),
                "value"] = np.nan
    framework = board.full_framework
    sparse = Scoreboard(framework, {"context": context}, year=2020, impute_window=0,
                        impute_parent=False, availability_threshold=0.4)
    spec = sensitivity.SensitivitySpec(n=8, factors=("normalisation", "data threshold"),
                                       data_thresholds=(0.5, 1.0), n_boot=0)
    with pytest.raises(sensitivity.SensitivityError,
                       match="runs leave no region with an index score in 2020"):
        sensitivity.run_sensitivity(sparse, spec)


def test_an_indicator_no_region_has_in_a_run_is_out_of_that_run(board):
    # broadband is published for 2019 only: carried forward it is in the index; in runs
    # without carry-forward no region has it, and at data threshold 1 it would otherwise
    # leave every region without a score
    context = _synthetic_board(n_regions=30)
    late = (context["year"] == 2020) & (context["indicator"] == "broadband_pc_households")
    context.loc[late, "value"] = np.nan
    stale = Scoreboard(board.full_framework, {"context": context}, year=2020)
    assert "broadband" in stale.indicator_codes
    spec = sensitivity.SensitivitySpec(n=8, seed=5, factors=("normalisation", "imputation"),
                                       imputations=((2, True), (0, False)),
                                       data_thresholds=(1.0,), n_boot=0)
    inputs = sensitivity.prepare_inputs(stale, spec)
    runs = sensitivity.sample_runs(inputs, spec)
    ranks = sensitivity.evaluate(inputs, runs)
    without_carry = np.flatnonzero(runs.level["imputation"] == 1)
    assert without_carry.size and (~np.isnan(ranks)).any(axis=0).all()
    engine = stale.rerun(impute_window=0, impute_parent=False,
                         normalisation=inputs.levels["normalisation"][
                             runs.level["normalisation"][without_carry[0]]])
    expected = (engine.year_frame([stale.framework.code])[stale.framework.code]
                .rank(ascending=False, method="min").reindex(stale.regions))
    np.testing.assert_array_equal(ranks[:, without_carry[0]], expected.to_numpy())
    sensitivity.run_sensitivity(stale, spec)  # no run is left without a ranked region
