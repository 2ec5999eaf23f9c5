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


def test_controls_never_include_the_other_pilots_and_the_tables_carry_three_inferences(demo):
    from eocic.pilots.did import DID_COLUMNS, FewClusterSettings
    from eocic.pilots.regions import never_controls

    raw, processed = demo
    settings = FewClusterSettings(bootstrap_draws=199, permutation_draws=199, seed=3)
    run = run_pilots(processed, 2021, data_dir=raw, settings=settings)
    assert not set(run.controls["control"]) & never_controls()
    assert not set(run.sample.loc[run.sample["treated"] == 0, "geo"]) & never_controls()
    assert set(run.controls["basis"]) == {"pre-period covariates (Mahalanobis)"}
    # Grand Est is in the demo's NUTS 2021 data, Greater Manchester (UK) is not
    excluded = run.excluded.set_index("geo")["in_data"].to_dict()
    assert excluded == {"FRF1": True, "FRF2": True, "FRF3": True, "UKD3": False}
    assert list(run.balance["covariate"]) == ["manufacturing_share", "ln_employment",
                                              "ln_gdp_per_head"]
    written = pd.read_parquet(processed / "pilot_did.parquet")
    assert list(written.columns) == [*DID_COLUMNS, "outcome"]
    assert set(written["wild_draws"]) == {199} and set(written["ri_draws"]) == {199}
    study = pd.read_parquet(processed / "pilot_event_study.parquet")
    assert {"p_wild", "ci_low_wild", "ci_high_wild", "p_value"} <= set(study.columns)
    long = run.did_long()
    assert len(long) == 9 and set(long["inference"]) == {"CRV1", "wild bootstrap",
                                                          "randomisation"}
    footer = run.footer("did")
    assert footer.startswith("N = ") and "clusters used (10 pilots" in footer
    assert "199 draws" in footer and "199 random reassignments" in footer
    assert "randomisation" not in run.footer("event_study")
    assert "region and year fixed effects absorbed (and a linear trend" in footer
    assert "linear trend" not in run.footer("event_study")


@pytest.mark.parametrize("value", [0, -3, 2.0, True, "5"])
def test_bad_number_of_controls_is_refused(demo, value):
    from eocic.pilots.did import EventStudyError

    _, processed = demo
    with pytest.raises(EventStudyError, match="controls_per_region must be a positive integer"):
        run_pilots(processed, 2021, controls_per_region=value)


def test_an_event_year_before_the_data_is_a_note_not_a_crash(demo):
    _, processed = demo
    run = run_pilots(processed, 2021, event_year=2000)
    assert not run.estimated and run.paths == []
    assert any("no SBS employment before 2000" in note for note in run.notes)


def test_estimates_computed_once_per_sample_in_the_shared_store(demo, tmp_path):
    """``shared_dir``: another reference year with the same sample reads the stored estimates
    (the same written tables, byte for byte); other settings make another entry."""
    import hashlib
    import shutil

    from eocic.pilots.did import FewClusterSettings

    raw, processed = demo
    store = tmp_path / "store"
    settings = FewClusterSettings(bootstrap_draws=199, permutation_draws=199, seed=5)
    digests = []
    for year in (2021, 2020, 2021):
        folder = tmp_path / f"run-{len(digests)}"
        shutil.copytree(processed, folder)
        run_pilots(folder, year, data_dir=raw, settings=settings,
                   shared_dir=store if digests else None)
        digests.append({name: hashlib.sha256((folder / f"{name}.parquet").read_bytes())
                        .hexdigest() for name in OUTPUT_TABLES})
    assert digests[0] == digests[1] == digests[2]
    assert len(list(store.glob("pilot_estimates-*.pickle"))) == 1
    run_pilots(tmp_path / "run-1", 2021, data_dir=raw, shared_dir=store,
               settings=FewClusterSettings(bootstrap_draws=199, permutation_draws=199, seed=6))
    assert len(list(store.glob("pilot_estimates-*.pickle"))) == 2
