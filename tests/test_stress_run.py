"""Stage 06 in one call (eocic.stress.run): outputs written, results object for the notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import schema_frames
from eocic.stress import exposure
from eocic.stress.run import run_stress_test


@pytest.fixture
def processed(tmp_path):
    rows = [("AA11", "C24", 1000.0), ("AA11", "C20", 500.0), ("AA11", "G47", 2000.0),
            ("AA12", "C24", 400.0), ("AA12", "C20", 100.0), ("AA12", "G47", 900.0)]
    sbs = pd.DataFrame(rows, columns=["geo", "nace_r2", "employment"]).assign(year=2020)
    sbs["employment_estimated"] = [False, False, False, True, False, False]
    schema_frames.write(tmp_path, "sbs", sbs, flags="", employment_flags="",
                        local_units_flags="", wages_eur_flags="")
    schema_frames.write(tmp_path, "regional_totals", pd.DataFrame(
        {"geo": ["AA11", "AA12"], "year": 2020, "employment": [3500.0, 1400.0]}))
    return tmp_path


def test_run_writes_the_table_and_narrates(processed, tmp_path):
    scenario = tmp_path / "steel.csv"
    scenario.write_text("nace_r2,shock\nC24,-0.10\nC20,-0.05\n")
    run = run_stress_test(processed, 2020, str(scenario))
    assert run.path == processed / "stress_test.parquet"
    written = pd.read_parquet(run.path)
    assert list(written.columns) == list(exposure.STRESS_COLUMNS)
    assert set(written["scenario"]) == {s.name for s in run.scenarios} and run.chosen.name == "steel"
    mine = run.of().set_index("geo")
    # AA11: -0.10 x 1000 - 0.05 x 500 = -125 of 3500; AA12: -40 - 5 = -45 of 1400, 40 estimated
    assert mine.loc["AA11", "expected_change"] == pytest.approx(-125.0)
    assert mine.loc["AA12", "expected_change_pct"] == pytest.approx(-45 / 1400 * 100)
    assert mine.loc["AA12", "estimated_share"] == pytest.approx(40 / 45)
    summary = run.summary().set_index("scenario")
    assert summary.loc["steel", "divisions shocked"] == 2
    assert pd.isna(summary.loc["steel", "not in the SBS data"])
    assert any("SBS divisions instead" in note for note in run.notes)  # no stage 02 tables
    row, contributions, categories = run.breakdown("AA11")
    assert row["rank"] in (1, 2) and set(contributions["unit"]) == {"C24", "C20"}
    with pytest.raises(exposure.ExposureError, match="region 'XX99' is not in the stress test"):
        run.breakdown("XX99")
    assert list(run.correlations().columns) == ["scenario", "exposure vs HHI",
                                                "exposure vs density cushion"]


def test_missing_stage_01_tables_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="processed table sbs not found.*stage 01"):
        run_stress_test(tmp_path, 2020)


def test_correlations_are_spearman_and_quiet_on_constant_input(processed, tmp_path):
    import dataclasses
    import warnings

    from scipy import stats

    run = run_stress_test(processed, 2020, "energy_price")
    rng = np.random.default_rng(4)
    varied = pd.DataFrame({"scenario": "varied", "expected_change_pct": rng.normal(size=30),
                           "hhi": rng.uniform(size=30), "density_cushion": rng.uniform(size=30)})
    varied.loc[3, "hhi"] = np.nan  # a region without a portfolio is left out of that pair
    flat = varied.assign(scenario="flat", expected_change_pct=0.0)
    table = pd.concat([varied, flat], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = dataclasses.replace(run, table=table).correlations().set_index("scenario")
    known = varied["hhi"].notna()
    expected = stats.spearmanr(varied.loc[known, "expected_change_pct"], varied.loc[known, "hhi"])
    assert result.loc["varied", "exposure vs HHI"] == pytest.approx(expected.statistic)
    assert result.loc["varied", "exposure vs density cushion"] == pytest.approx(
        stats.spearmanr(varied["expected_change_pct"], varied["density_cushion"]).statistic)
    assert result.loc["flat"].isna().all()
