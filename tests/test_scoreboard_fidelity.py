"""Fidelity to COINr (issue 14, requirement 4): log_CT default, year-by-year treatment,
deterministic tied ranks and peer comparisons by differences, each checked by hand.

COINr source read for these tests: github.com/bluefoxr/COINr (R/treat.R, R/qfuncs.R,
R/DFtools.R), commit b968203.
"""

import numpy as np
import pandas as pd
import pytest

from eocic.scoreboard import peers, ranks, treatment
from eocic.scoreboard.engine import Scoreboard, ScoreboardError, Settings


# -- log_CT -----------------------------------------------------------------------------------
def coinr_log_ct(x):
    """COINr R/treat.R, verbatim in numpy: log(x - min(x) + 0.01*(max(x) - min(x)))."""
    return np.log(x - np.nanmin(x) + 0.01 * (np.nanmax(x) - np.nanmin(x)))


def test_log_ct_by_hand_on_a_skewed_vector():
    # min 0, max 100 -> a = 0.01 * 100 = 1 -> ln(x + 1); the NaN stays NaN and is ignored
    x = np.array([0.0, 1, 2, 3, 100, np.nan])
    expected = np.array([0.0, np.log(2), np.log(3), np.log(4), np.log(101), np.nan])
    np.testing.assert_allclose(treatment.log_transform(x, "log_CT"), expected)
    np.testing.assert_allclose(treatment.log_transform(x, "log_CT"), coinr_log_ct(x))
    # shifted: negatives handled, minimum maps to ln(a) = ln(0.01 * 10)
    y = np.array([-5.0, -4, -3, 5])
    assert treatment.log_transform(y, "log_CT")[0] == pytest.approx(np.log(0.1))


def test_log_ct_is_the_default_and_is_not_mirrored():
    assert treatment.DEFAULT_LOG_TRANSFORM == "log_CT"
    assert Settings().log_transform == "log_CT"
    assert Settings().treatment_scope == "by_year"
    # fails after five winsorised points -> second transform on the original values
    x = np.array(list(range(1, 101)) + [1e4, 1e5, 1e6, 1e7, 1e8, 1e9])
    treated, log = treatment.treat_indicator(x)
    assert log["method"] == "log_CT"
    np.testing.assert_allclose(treated, coinr_log_ct(x))
    # negative skew: log_CT keeps the (increasing) formula, log_CT_plus mirrors it
    z = -x
    np.testing.assert_allclose(treatment.log_transform(z, "log_CT"), coinr_log_ct(z))
    a = 0.01 * (z.max() - z.min())
    np.testing.assert_allclose(treatment.log_transform(z, "log_CT_plus"),
                               -np.log(z.max() + a - z))
    assert treatment.treat_indicator(z, log_kind="log_CT_plus")[1]["method"] == "log_CT_plus"


# -- treatment scope -------------------------------------------------------------------------
def two_years(values_2019, values_2020):
    geos = [f"R{k:02d}" for k in range(len(values_2019))]
    index = pd.MultiIndex.from_product([geos, [2019, 2020]], names=["geo", "year"])
    frame = pd.DataFrame({"x": np.nan}, index=index)
    frame.loc[(geos, 2019), "x"] = values_2019
    frame.loc[(geos, 2020), "x"] = values_2020
    return frame


def test_treatment_year_by_year_differs_from_pooled():
    # 2019: 1..20 and one outlier 1000 (fails; one winsorised point -> 20, the 2019 runner-up)
    # 2020: 2..22 (passes). Pooled, the runner-up of both years is 2020's 22 -> 1000 becomes 22.
    frame = two_years(list(range(1, 21)) + [1000.0], list(range(2, 23)))
    assert not treatment.passes(frame.xs(2019, level="year")["x"])
    assert treatment.passes(frame.xs(2020, level="year")["x"])
    by_year, log = treatment.treat_frame(frame)
    pooled, pooled_log = treatment.treat_frame(frame, scope="pooled")
    assert by_year.loc[("R20", 2019), "x"] == 20.0
    assert pooled.loc[("R20", 2019), "x"] == 22.0
    pd.testing.assert_series_equal(by_year.xs(2020, level="year")["x"],
                                   frame.xs(2020, level="year")["x"])  # 2020 untouched
    assert list(log["year"]) == [2019, 2020]
    assert list(log["method"]) == ["winsorised", "none"]
    assert list(log["n"]) == [21, 21]
    assert len(pooled_log) == 1 and pooled_log["year"].isna().all()
    assert pooled_log.loc[0, "n"] == 42


def test_treatment_scope_errors_name_the_fix():
    frame = pd.DataFrame({"x": [1.0, 2, 3]}, index=pd.Index(["A", "B", "C"], name="geo"))
    with pytest.raises(treatment.TreatmentError, match="needs rows indexed by.*scope='pooled'"):
        treatment.treat_frame(frame)
    treated, log = treatment.treat_frame(frame, scope="pooled")   # no year level: fine
    assert log.loc[0, "method"] == "none"
    with pytest.raises(treatment.TreatmentError, match="unknown treatment scope 'global'"):
        treatment.treat_frame(frame, scope="global")
    with pytest.raises(treatment.TreatmentError, match="unknown log transform 'log10'"):
        treatment.treat_frame(frame, log_kind="log10", scope="pooled")
    with pytest.raises(ScoreboardError, match=r"unknown treatment_scope 'global'.*by_year"):
        Settings(treatment_scope="global")
    with pytest.raises(ScoreboardError, match="unknown log transform"):
        Settings(log_transform="log_CT_neg")


def test_engine_reports_indicators_logged_in_some_years_only(tiny):
    framework, _, _ = tiny
    # 100 regions; gerd has six extreme values 1e4..1e9 in 2019 only (winsorising five
    # points is not enough, as in test_scoreboard_treatment), a plain spread in 2020
    rng = np.random.default_rng(3)
    rows = []
    for k in range(100):
        geo = f"AT{k:02d}"
        for year in (2019, 2020):
            gerd = 1.0 + k / 10
            if year == 2019 and k >= 94:
                gerd = 10.0 ** (k - 90)
            for code, value in (("rd_gerd_pc_gdp", gerd),
                                ("tertiary_pc_25_64", 20 + rng.random() * 20),
                                ("broadband_pc_households", 60 + rng.random() * 30),
                                ("lifelong_learning_pc_25_64", 5 + rng.random() * 10)):
                rows.append(dict(geo=geo, year=year, indicator=code, value=value, flags=""))
    context = pd.DataFrame(rows)
    board = Scoreboard(framework["tiny"], {"context": context}, year=2020, treat=True)
    gerd_log = board.treatment_log[board.treatment_log["indicator"] == "gerd"]
    assert dict(zip(gerd_log["year"], gerd_log["method"])) == {2019: "log_CT", 2020: "none"}
    assert board.treatment_mixed == {"gerd": [2019]}
    assert any("'gerd' is log-transformed in 1 of 2 years but not in 2020; its pooled "
               "normalisation mixes log and level values" in m for m in board.messages)
    pooled = board.rerun(treatment_scope="pooled")
    assert pooled.treatment_mixed == {}
    assert pooled.treatment_log.set_index("indicator").loc["gerd", "method"] == "log_CT"
    # by year, the 2020 cross-section is untreated: its gerd values are the raw ones
    np.testing.assert_allclose(board.treated.xs(2020, level="year")["gerd"],
                               board.imputed.xs(2020, level="year")["gerd"])


# -- ranks -------------------------------------------------------------------------------------
def test_ties_share_the_lowest_rank_like_r_min():
    # R: rank(-c(5, 7, 5, NA, 2), ties.method = "min", na.last = "keep") = 2 1 2 NA 4
    result = ranks.rank_columns(np.array([5.0, 7, 5, np.nan, 2]))
    np.testing.assert_array_equal(result, [2, 1, 2, np.nan, 4])
    # column-wise on draws, and equal to pandas' min method on random ties
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 15, size=(200, 40)).astype(float)
    draws[rng.random(draws.shape) < 0.1] = np.nan
    expected = pd.DataFrame(draws).rank(ascending=False, method="min").to_numpy()
    np.testing.assert_array_equal(ranks.rank_columns(draws), expected)
    assert ranks.rank_columns(np.array([])).shape == (0,)


def test_ranks_within_groups_are_the_ranks_of_each_group_alone():
    # rank_within ranks every group at once; each group's ranks must be rank_series of it
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"code": rng.choice(["a", "b", "c"], 400),
                          "year": rng.choice([2019, 2020], 400),
                          "score": rng.integers(0, 12, 400).astype(float)})
    frame.loc[rng.random(400) < 0.1, "score"] = np.nan
    frame.loc[[5, 9], "score"] = [np.inf, -np.inf]
    frame.loc[[7], "code"] = None  # a missing key: no group, no rank
    result = ranks.rank_within(frame, "score", ["code", "year"])
    expected = frame.groupby(["code", "year"], sort=False)["score"].transform(ranks.rank_series)
    pd.testing.assert_series_equal(result, expected)
    assert np.isnan(result[7])


def test_tied_regions_get_the_same_rank_whatever_their_order(tiny):
    framework, tables, _ = tiny
    context = tables["context"]
    # DE12 gets exactly AT12's values: the two tie on every node
    twin = context[context["geo"] == "AT12"].assign(geo="DE12")
    tied = pd.concat([context[context["geo"] != "DE12"], twin], ignore_index=True)
    board = Scoreboard(framework["tiny"], {"context": tied}, year=2020, treat=False)
    scores = board.scores()
    shuffled = Scoreboard(framework["tiny"], {"context": tied.iloc[::-1]}, year=2020,
                          treat=False).scores()
    pd.testing.assert_frame_equal(scores, shuffled)
    for code, rows in scores[scores["year"] == 2020].groupby("code"):
        by_geo = rows.set_index("geo")
        assert by_geo.loc["AT12", "rank"] == by_geo.loc["DE12", "rank"], code
        higher = (by_geo["score"] > by_geo.loc["AT12", "score"]).sum()
        assert by_geo.loc["AT12", "rank"] == higher + 1, code


# -- peers -------------------------------------------------------------------------------------
def test_peer_difference_by_hand():
    scores = pd.DataFrame({"dim": [55.0, 50, 40, 30, 25]},
                          index=["R0", "R1", "R2", "R3", "R4"])
    table = peers.compare_with_peers(scores, "R0", ["R1", "R2"])
    # peer mean 45, difference 10; sd of 55, 50, 40, 30, 25: mean 40, squares 225 + 100 + 0 +
    # 100 + 225 = 650, / 4 = 162.5
    assert table.loc["dim", "peer_mean"] == pytest.approx(45.0)
    assert table.loc["dim", "difference"] == pytest.approx(10.0)
    assert table.loc["dim", "difference_sd"] == pytest.approx(10.0 / np.sqrt(162.5))  # 0.78
    assert table.loc["dim", "flag"] == "strength"
    assert "relative" not in table
    table = peers.compare_with_peers(scores, "R3", ["R1", "R2"])
    assert table.loc["dim", "difference"] == pytest.approx(-15.0)
    assert table.loc["dim", "flag"] == "weakness"
    table = peers.compare_with_peers(scores, "R2", ["R1", "R3"])      # 40 vs 40
    assert table.loc["dim", "difference"] == 0.0 and table.loc["dim", "flag"] == "neutral"


def test_peer_comparison_does_not_depend_on_the_scale_zero():
    # the same data min-max scaled and z-scored: a ratio flips, the difference in sd does not
    raw = pd.Series([3.0, 5, 6, 9, 12, 14], index=[f"R{k}" for k in range(6)])
    minmax = 100 * (raw - raw.min()) / (raw.max() - raw.min())
    zscore = (raw - raw.mean()) / raw.std()
    results = [peers.compare_with_peers(s.to_frame("dim"), "R2", ["R1", "R3"])
               for s in (minmax, zscore, raw + 1000)]
    first = results[0].loc["dim"]
    for table in results[1:]:
        assert table.loc["dim", "difference_sd"] == pytest.approx(first["difference_sd"])
        assert table.loc["dim", "flag"] == first["flag"]
    # the ratio shown before: 100 x region / peer mean called the same comparison a weakness
    # (min-max: 27.3 / 36.4 -> 75), a strength (z-scores: both negative -> 186) and neutral
    # (raw values + 1000 -> 99.9)
    ratios = [100 * s["R2"] / s[["R1", "R3"]].mean() for s in (minmax, zscore, raw + 1000)]
    assert ratios == pytest.approx([75.0, 1300 / 7, 100 * 1006 / 1007])


def test_peer_errors_name_the_fix():
    scores = pd.DataFrame({"dim": [1.0, 2, 3]}, index=["R0", "R1", "R2"])
    with pytest.raises(peers.PeerError, match="'XX99' has no scores; choose one of the 3"):
        peers.compare_with_peers(scores, "XX99", ["R1"])
    with pytest.raises(peers.PeerError, match=r"peers \['ZZ11'\] have no scores"):
        peers.compare_with_peers(scores, "R0", ["R1", "ZZ11"])
    with pytest.raises(peers.PeerError, match="threshold_sd = 0 must be > 0"):
        peers.compare_with_peers(scores, "R0", ["R1"], threshold_sd=0)
    # a node where every region has the same score: no sd, no flag (never a division by 0)
    flat = pd.DataFrame({"dim": [4.0, 4, 4]}, index=["R0", "R1", "R2"])
    assert peers.compare_with_peers(flat, "R0", ["R1"]).loc["dim", "flag"] == "no score"



def test_findings_list_every_region_tied_in_the_top_three():
    from eocic.findings import scoreboard_findings
    rows = pd.DataFrame(dict(index_code="ic", level="index", name="Index", year=2020,
                             geo=["ZZ11", "AT11", "DE11", "FR10", "BE21"],
                             rank=[1, 2, 3, 3, 5], rank_p05=np.nan, rank_p95=np.nan))
    text = scoreboard_findings(rows, 2020, {})[0]
    assert "ZZ11 (rank 1), AT11 (rank 2), DE11 (rank 3), FR10 (rank 3)." in text
    assert "BE21" not in text


def test_percentile_rank_normalisation_gives_ties_the_lowest_rank_like_n_prank():
    from eocic.scoreboard import normalisation
    # COINr n_prank(c(1, 2, 2, 4)) = (c(1, 2, 2, 4) - 1) / 3 = 0, 1/3, 1/3, 1
    index = pd.MultiIndex.from_product([["A", "B", "C", "D"], [2020]], names=["geo", "year"])
    frame = pd.DataFrame({"x": [1.0, 2, 2, 4]}, index=index)
    result = normalisation.normalise(frame, {"x": 1}, "rank")["x"]
    np.testing.assert_allclose(result, [0, 100 / 3, 100 / 3, 100])
