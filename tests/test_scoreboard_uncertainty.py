"""Monte Carlo uncertainty (vectorised) against the engine, and peers by hand."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from eocic.scoreboard import peers, uncertainty
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import load_framework


def _synthetic_board(n_regions=30, seed=3):
    """A bigger synthetic panel for the tiny framework (random but fixed)."""
    rng = np.random.default_rng(seed)
    geos = [f"A{chr(65 + k // 10)}{k % 10}{k % 7}" for k in range(n_regions)]
    rows = []
    for geo in geos:
        for year in (2019, 2020):
            for code in ("rd_gerd_pc_gdp", "tertiary_pc_25_64", "broadband_pc_households",
                         "lifelong_learning_pc_25_64"):
                value = rng.lognormal(1, 0.8) if rng.random() > 0.05 else np.nan
                rows.append((geo, year, code, value, ""))
    context = pd.DataFrame(rows, columns=["geo", "year", "indicator", "value", "flags"])
    return context


@pytest.fixture(scope="module")
def board(fixtures_dir):
    framework = load_framework(fixtures_dir / "scoreboard" / "tiny_framework.yaml")
    return Scoreboard(framework["tiny"], {"context": _synthetic_board()}, year=2020)


def _engine_ranks(board, **settings):
    scores = board.rerun(**settings).year_frame(["tiny"])["tiny"]
    return scores.rank(ascending=False, method="min").reindex(board.regions)


@pytest.mark.parametrize("treat", [True, False])
@pytest.mark.parametrize("method", ["minmax", "zscore", "rank"])
@pytest.mark.parametrize("how", ["arithmetic", "geometric"])
def test_vectorised_draw_equals_engine_without_weight_noise(board, treat, method, how):
    spec = uncertainty.UncertaintySpec(draws=3, weight_noise=0.0, normalisations=(method,),
                                       aggregations=(how,), treatments=(treat,))
    result = uncertainty.run_uncertainty(board, spec)
    expected = _engine_ranks(board, treat=treat, normalisation=method, aggregation=how)
    for draw in range(3):
        np.testing.assert_array_equal(result.ranks["tiny"][:, draw], expected.to_numpy())


def test_vectorised_noisy_weights_equal_engine_with_those_weights(board):
    spec = uncertainty.UncertaintySpec(draws=4, seed=7)
    inputs = uncertainty.prepare_inputs(board, spec)
    draws = uncertainty.sample_draws(inputs, spec)
    ranks = uncertainty.simulate(inputs, draws, spec)
    for d in range(4):
        weights = dict(zip(inputs.nodes, draws.weights[d]))
        framework = board.framework.with_weights(weights)
        engine = Scoreboard(framework, board.tables, year=2020,
                            treat=bool(draws.treatment[d]),
                            normalisation=spec.normalisations[draws.normalisation[d]],
                            aggregation=spec.aggregations[draws.aggregation[d]])
        scores = engine.year_frame(["tiny"])["tiny"]
        expected = scores.rank(ascending=False, method="min").reindex(board.regions)
        np.testing.assert_array_equal(ranks["tiny"][:, d], expected.to_numpy())


def test_weight_noise_stays_within_the_band(board):
    spec = uncertainty.UncertaintySpec(draws=500, weight_noise=0.25)
    inputs = uncertainty.prepare_inputs(board, spec)
    draws = uncertainty.sample_draws(inputs, spec)
    assert draws.weights.min() >= 0.75 and draws.weights.max() <= 1.25
    assert set(np.unique(draws.normalisation)) == {0, 1, 2}


def test_reproducible_with_a_seed(board):
    spec = uncertainty.UncertaintySpec(draws=200, seed=11)
    first = uncertainty.run_uncertainty(board, spec)
    second = uncertainty.run_uncertainty(board, spec)
    np.testing.assert_array_equal(first.ranks["tiny"], second.ranks["tiny"])
    pd.testing.assert_frame_equal(first.summary, second.summary)
    other = uncertainty.run_uncertainty(board, dataclasses.replace(spec, seed=12))
    assert not np.array_equal(np.nan_to_num(first.ranks["tiny"]),
                              np.nan_to_num(other.ranks["tiny"]))


def test_rank_interval_by_hand(board):
    # only the normalisation varies
    spec = uncertainty.UncertaintySpec(draws=300, weight_noise=0.0,
                                       normalisations=("minmax", "rank"),
                                       aggregations=("arithmetic",), treatments=(True,))
    result = uncertainty.run_uncertainty(board, spec)
    summary = result.summary[result.summary["code"] == "tiny"].dropna(subset=["rank_median"])
    assert (summary["rank_p05"] <= summary["rank_median"]).all()
    assert (summary["rank_median"] <= summary["rank_p95"]).all()
    # each region's ranks take only the two engine values
    ranks_minmax = _engine_ranks(board, normalisation="minmax")
    ranks_rank = _engine_ranks(board, normalisation="rank")
    geo = summary["geo"].iloc[0]
    low, high = sorted([ranks_minmax[geo], ranks_rank[geo]])
    row = summary.set_index("geo").loc[geo]
    assert low <= row["rank_p05"] and row["rank_p95"] <= high


# -- peers ----------------------------------------------------------------------------------
def test_distance_by_hand_and_nearest():
    structure = pd.DataFrame({"a": [0.0, 1.0, 2.0, 10.0], "b": [0.0, 0.0, 1.0, np.nan]},
                             index=pd.Index(["R1", "R2", "R3", "R4"], name="geo"))
    distances = peers.distance_matrix(structure)
    sd_a, sd_b = structure["a"].std(), structure["b"].std()
    expected = np.sqrt((1 / sd_a) ** 2 + 0)  # R1-R2 differ by 1 on a only
    assert distances.loc["R1", "R2"] == pytest.approx(expected)
    # R4 lacks b: only one common variable (< 2) -> no distance
    assert np.isnan(distances.loc["R1", "R4"])
    nearest = peers.nearest_peers(distances, k=2)
    r1 = nearest[nearest["geo"] == "R1"]
    assert list(r1["peer"]) == ["R2", "R3"] and list(r1["rank"]) == [1, 2]


def test_user_peers_and_relative_scores():
    index = pd.Index([f"R{k}" for k in range(8)], name="geo")
    distances = pd.DataFrame(np.abs(np.subtract.outer(range(8), range(8))).astype(float),
                             index=index, columns=index)
    chosen = peers.choose_peers("R0", distances, "r3, R5")
    assert list(chosen["peer"]) == ["R3", "R5"] and set(chosen["chosen_by"]) == {"user"}
    with pytest.raises(peers.PeerError, match="choose at most 5"):
        peers.choose_peers("R0", distances, "R1,R2,R3,R4,R5,R6")
    with pytest.raises(peers.PeerError, match="unknown peer"):
        peers.choose_peers("R0", distances, "ZZ99")
    default = peers.choose_peers("R0", distances, "")
    assert list(default["peer"]) == ["R1", "R2", "R3", "R4", "R5"]
    scores = pd.DataFrame({"dim": [55.0, 50, 50, 40, 60]}, index=["R0", "R1", "R2", "R3", "R4"])
    table = peers.compare_with_peers(scores, "R0", ["R1", "R2"])   # differences: see
    assert table.loc["dim", "difference"] == pytest.approx(5.0)     # test_scoreboard_fidelity
    assert table.loc["dim", "flag"] == "strength"
    table = peers.compare_with_peers(scores, "R3", ["R1", "R2"])
    assert table.loc["dim", "difference"] == pytest.approx(-10.0)
    assert table.loc["dim", "flag"] == "weakness"
