"""Stage 07 in one call (eocic.pilots.run) on the demo economy read by stage 01."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from eocic import pipeline, sources
from eocic.pilots.run import OUTPUT_TABLES, run_pilots


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from eocic.demo import generate_demo_economy

    raw = tmp_path_factory.mktemp("raw")
    processed = tmp_path_factory.mktemp("processed")
    generate_demo_economy(raw, last_year=2021)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run_pipeline(sources.locate_datasets(raw), raw, processed, year=2021)
    return raw, processed


def test_event_study_written_and_planted_effect_known(demo):
    raw, processed = demo
    run = run_pilots(processed, 2021, data_dir=raw)
    assert run.estimated and set(run.did_results["effect"]) == {
        "level", "trend", "trend + region trends"}
    assert [p.stem for p in run.paths] == list(OUTPUT_TABLES)
    written = pd.read_parquet(processed / "pilot_did.parquet")
    assert set(written["outcome"]) == {"starred_employment"}
    # without stage 02 the starred clusters are the LQ >= 2 proxy, and the notes say so
    assert run.cells_basis.startswith("proxy")
    assert any(note.startswith("cluster_mapping:") for note in run.notes)
    assert run.planted["per_cell"] == 0.015
    path = run.planted_path()
    assert path.loc[-1] == 0 and path.loc[3] == pytest.approx(4 * run.planted["implied_trend"])
    assert len(run.treated) > 10 and run.pilots["in_sbs_data"].all()


def test_no_post_period_no_estimate(demo):
    _, processed = demo
    run = run_pilots(processed, 2021, event_year=2030)
    assert not run.estimated and run.paths == [] and run.planted is None
    assert run.missing_post[0] == 2030
    assert set(run.pre_period_paths().columns) == {"pilot regions", "controls"}
