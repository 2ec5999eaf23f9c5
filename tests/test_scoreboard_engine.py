"""Scoreboard framework validation and engine stages on a tiny hand-made panel.

Fixture (tests/fixtures/scoreboard/): six regions x 2019-2020, four context indicators, index
``tiny`` = mean of dim_a (gerd, tertiary) and dim_b (broadband, learning with direction -1).
"""

import copy
import hashlib

import numpy as np
import pandas as pd
import pytest

from eocic.scoreboard import outputs
from eocic.scoreboard.engine import Scoreboard, ScoreboardError, build_scoreboards
from eocic.scoreboard.framework import FrameworkError, load_framework, parse_framework


def _board(tiny, **settings):
    framework, tables, _ = tiny
    settings.setdefault("year", 2020)
    settings.setdefault("treat", False)
    return Scoreboard(framework["tiny"], tables, **settings)


# -- framework ------------------------------------------------------------------------------
def test_shipped_framework_is_valid_and_complete():
    framework = load_framework()
    assert set(framework.indices) == {"industrial_change", "ecosystem"}
    industrial = framework["industrial_change"]
    assert len([g for g in industrial.groups if g.level == "dimension"]) == 8
    ecosystem = framework["ecosystem"]
    assert len([g for g in ecosystem.groups if g.level == "dimension"]) == 6
    for index in framework.indices.values():
        assert index.not_available, "unavailable official indicators must be listed"
        for indicator in index.indicators:
            assert indicator.rationale and indicator.unit and indicator.direction in (1, -1)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["indices"]["tiny"]["indicators"][0]["source"].update(table="patents"),
     "unknown source table 'patents'"),
    (lambda d: d["indices"]["tiny"]["indicators"][0]["source"].update(indicator="gerd_xx"),
     "unknown context indicator 'gerd_xx'"),
    (lambda d: d["indices"]["tiny"]["indicators"][1].update(code="gerd"),
     "duplicate code 'gerd'"),
    (lambda d: d["indices"]["tiny"]["indicators"][0].pop("rationale"),
     "missing field 'rationale'"),
    (lambda d: d["indices"]["tiny"]["indicators"][0].update(weight=0), "must be > 0"),
    (lambda d: d["indices"]["tiny"]["groups"][0].update(weight=-1), "must be > 0"),
    (lambda d: d["indices"]["tiny"]["indicators"][0].update(direction=2), "direction 2"),
    (lambda d: d["indices"]["tiny"]["indicators"][0].update(parent="dim_z"),
     "unknown parent 'dim_z'"),
    (lambda d: d["indices"]["tiny"]["groups"].append(
        {"code": "dim_c", "name": "C", "parent": "tiny"}), "group 'dim_c' has no indicator"),
])
def test_framework_errors_name_the_item_and_the_fix(tiny, edit, message):
    document = copy.deepcopy(tiny[2])
    edit(document)
    with pytest.raises(FrameworkError, match=message):
        parse_framework(document, "tiny.yaml")


def test_cycle_in_parents_is_reported(tiny):
    document = copy.deepcopy(tiny[2])
    groups = document["indices"]["tiny"]["groups"]
    groups[0]["parent"] = "dim_b"
    groups[1]["parent"] = "dim_a"
    with pytest.raises(FrameworkError, match="cycle in parents: .*dim_a.*dim_b"):
        parse_framework(document, "tiny.yaml")


# -- engine stages ------------------------------------------------------------------------
def test_imputation_flags_and_rules(tiny):
    board = _board(tiny)
    method = board.imputation_method
    # DE11 gerd 2020 missing -> carried forward from 2019 (4.0)
    assert board.imputed.loc[("DE11", 2020), "gerd"] == 4.0
    assert method.loc[("DE11", 2020), "gerd"] == 1
    # FR10 tertiary 2020 missing -> 2019 value 45 carried forward
    assert board.imputed.loc[("FR10", 2020), "tertiary"] == 45
    # FR10 gerd never published; France has no other region -> stays missing
    assert method.loc[("FR10", 2020), "gerd"] == -1 and np.isnan(board.imputed.loc[("FR10", 2020), "gerd"])
    assert board.imputed_mask.sum().sum() == 2
    assert not board.imputed_mask.loc[("AT11", 2020)].any()


def test_country_mean_used_when_no_recent_value(tiny):
    board = _board(tiny, impute_window=0)
    # window 0: DE11 gerd 2020 takes the mean of German regions in 2020 = DE12's 2.6
    assert board.imputed.loc[("DE11", 2020), "gerd"] == pytest.approx(2.6)
    assert board.imputation_method.loc[("DE11", 2020), "gerd"] == 2


def test_hand_computed_scores(tiny):
    board = _board(tiny)
    row = board.aggregated.loc[("AT12", 2020)]
    # pooled min-max: gerd (2.2-1)/(4-1), tertiary (31-20)/(45-20),
    # broadband (82-60)/(96-60), learning reversed (-12+20)/(-8+20)
    gerd, tertiary, broadband, learning = 40.0, 44.0, 2200 / 36, 800 / 12
    assert row["gerd"] == pytest.approx(gerd)
    assert row["dim_a"] == pytest.approx((gerd + tertiary) / 2)
    assert row["dim_b"] == pytest.approx((broadband + learning) / 2)
    assert row["tiny"] == pytest.approx(((gerd + tertiary) / 2 + (broadband + learning) / 2) / 2)
    # FR10 2020: dim_a has 1 of 2 children (< 2/3) -> no score, and so no index score
    assert np.isnan(board.aggregated.loc[("FR10", 2020), "dim_a"])
    assert np.isnan(board.aggregated.loc[("FR10", 2020), "tiny"])
    assert board.imputed_share.loc[("DE11", 2020), "dim_a"] == pytest.approx(0.5)


def test_geometric_aggregation_on_one_to_hundred_scale(tiny):
    board = _board(tiny, aggregation="geometric")
    gerd, tertiary = 1 + 99 * 0.40, 1 + 99 * 0.44
    assert board.aggregated.loc[("AT12", 2020), "dim_a"] == pytest.approx(np.sqrt(gerd * tertiary))
    # the worst gerd value maps to 1, not 0: AT11 2019 is in the product
    assert board.aggregation_input().loc[("AT11", 2019), "gerd"] == 1.0


def test_weight_change_in_the_framework_changes_the_index_as_expected(tiny):
    framework, tables, document = tiny
    base = _board(tiny).aggregated.loc[("AT12", 2020)]
    edited = copy.deepcopy(document)
    edited["indices"]["tiny"]["groups"][0]["weight"] = 3
    reweighted = Scoreboard(parse_framework(edited)["tiny"], tables, year=2020, treat=False)
    row = reweighted.aggregated.loc[("AT12", 2020)]
    assert row["tiny"] == pytest.approx((3 * base["dim_a"] + base["dim_b"]) / 4)
    # removing an indicator from the framework: dim_a is then gerd alone
    edited = copy.deepcopy(document)
    edited["indices"]["tiny"]["indicators"].pop(1)
    fewer = Scoreboard(parse_framework(edited)["tiny"], tables, year=2020, treat=False)
    assert fewer.aggregated.loc[("AT12", 2020), "dim_a"] == pytest.approx(base["gerd"])


def test_screening_drops_sparse_indicator_with_message(tiny):
    framework, tables, _ = tiny
    context = tables["context"]
    sparse = context[~((context["indicator"] == "rd_gerd_pc_gdp") & (context["geo"] != "AT11"))]
    board = Scoreboard(framework["tiny"], {"context": sparse}, year=2020, treat=False)
    assert "gerd" not in board.indicator_codes
    assert any("'gerd' dropped" in m for m in board.messages)
    row = board.availability.set_index("indicator").loc["gerd"]
    assert row["available_share"] == pytest.approx(1 / 6) and not row["kept"]


def test_indicator_with_no_data(tiny):
    framework, tables, _ = tiny
    context = tables["context"]
    no_broadband = {"context": context[context["indicator"] != "broadband_pc_households"]}
    with pytest.raises(ScoreboardError, match="'broadband'.*has no data.*context has no "
                                              "indicator 'broadband_pc_households'"):
        Scoreboard(framework["tiny"], no_broadband, year=2020, on_missing="error")
    board = Scoreboard(framework["tiny"], no_broadband, year=2020, treat=False)
    assert "broadband" not in board.indicator_codes
    with pytest.raises(ScoreboardError, match="no indicator has data"):
        Scoreboard(framework["tiny"], {"context": None}, year=2020)


def test_dimension_all_missing_for_a_region(tiny):
    framework, tables, _ = tiny
    context = tables["context"]
    keep = ~((context["geo"] == "FR10") & context["indicator"].isin(
        ["rd_gerd_pc_gdp", "tertiary_pc_25_64"]))
    board = Scoreboard(framework["tiny"], {"context": context[keep]}, year=2020, treat=False)
    with pytest.raises(ScoreboardError, match="FR10 has no data for any indicator of "
                                              "dimension 'dim_a'"):
        board.region_profile("FR10")
    profile = board.region_profile("FR10", strict=False)
    assert np.isnan(profile["dim_a"]) and not np.isnan(profile["dim_b"])
    with pytest.raises(ScoreboardError, match="not in the tiny data"):
        board.region_profile("XX99")


def test_bad_settings_and_year(tiny):
    with pytest.raises(ScoreboardError, match="unknown normalisation"):
        _board(tiny, normalisation="softmax")
    with pytest.raises(ScoreboardError, match="outside the data"):
        _board(tiny, year=2030)


def test_output_contract_and_determinism(tiny, tmp_path):
    framework, tables, _ = tiny
    boards = build_scoreboards(framework, tables, year=2020)
    table = outputs.scoreboard_table(boards)
    for column in ["geo", "year", "level", "code", "score", "rank", "rank_p05", "rank_p95",
                   "imputed_share"]:
        assert column in table.columns
    assert set(table["level"]) == {"index", "dimension", "indicator"}
    ranks = table[(table["code"] == "tiny") & (table["year"] == 2020)].set_index("geo")["rank"]
    assert ranks.min() == 1 and "FR10" not in ranks.index
    peers = pd.DataFrame(dict(geo=["AT11"], peer=["AT12"], distance=[0.5], rank=[1]))
    peers = outputs.peers_table(peers)
    digests = []
    for attempt in range(2):
        folder = tmp_path / str(attempt)
        again = outputs.scoreboard_table(build_scoreboards(framework, tables, year=2020))
        paths = outputs.write_outputs(folder, again, peers)
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in paths])
    assert digests[0] == digests[1]
