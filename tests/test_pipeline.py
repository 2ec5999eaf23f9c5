"""The data pipeline on hand-written Eurostat files: every number checked by hand."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from eocic import pipeline, sources
from eocic.provenance import sha256_of
from eocic.tables import TableValidationError, SBS, validate


@pytest.fixture()
def raw_folder(tmp_path: Path, fixtures_dir: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(fixtures_dir / "pipeline", folder)
    return folder


def _run(raw_folder: Path, out: Path, year: int = 2015) -> pipeline.PipelineResult:
    files = sources.locate_datasets(raw_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run_pipeline(files, raw_folder, out, year=year,
                                     parameters={"source": "fixture"})


def test_sbs_table_by_hand(raw_folder: Path, tmp_path: Path):
    result = _run(raw_folder, tmp_path / "out")
    sbs = result.tables["sbs"].set_index(["geo", "nace_r2", "year"])
    # only NUTS-2 x division rows: the section B row, the country row AT and group G451 are out
    assert sorted(sbs.index.unique()) == [("AT11", "B05", 2014), ("AT11", "B05", 2015),
                                          ("AT12", "B05", 2014), ("AT12", "B05", 2015)]
    assert sbs.loc[("AT12", "B05", 2015), "employment"] == 900
    assert sbs.loc[("AT12", "B05", 2015), "local_units"] == 40
    assert sbs.loc[("AT12", "B05", 2015), "wages_eur"] == pytest.approx(30.2e6)
    assert sbs.loc[("AT12", "B05", 2015), "flags"] == "p"
    assert sbs.loc[("AT12", "B05", 2014), "flags"] == "e"
    # confidential: never zero, estimated from what the country row leaves (990 - 880), within
    # the rounding tolerance 0.5 x (1 published cell + 1)
    confidential = sbs.loc[("AT11", "B05", 2014)]
    assert confidential["flags"] == "c" and confidential["employment_flags"] == "c"
    assert confidential["employment"] == pytest.approx(110.0)
    assert confidential["employment_estimated"]
    assert (confidential["employment_lower"], confidential["employment_upper"]) == (109.0, 111.0)
    # local units: no published aggregate; the neighbouring year (5 in 2015), unbounded
    assert confidential["local_units"] == pytest.approx(5.0)
    assert confidential["local_units_estimated"]
    assert math.isnan(confidential["local_units_upper"])
    published = sbs.loc[("AT12", "B05", 2015)]
    assert not published["employment_estimated"]
    assert published["employment_lower"] == published["employment_upper"] == 900
    # the negative wage is rejected (set to missing, reported), then estimated like any
    # unpublished cell: the neighbouring year 2015 (30.2 million EUR; no national wages)
    assert sbs.loc[("AT12", "B05", 2014), "wages_eur_estimated"]
    assert sbs.loc[("AT12", "B05", 2014), "wages_eur"] == pytest.approx(30.2e6)
    assert result.rejected[["geo", "nace_r2", "year", "column", "value"]].to_dict("records") == [
        {"geo": "AT12", "nace_r2": "B05", "year": 2014, "column": "wages_eur", "value": -1e6}]


def test_confidential_cells_excluded_on_request(raw_folder: Path, tmp_path: Path):
    files = sources.locate_datasets(raw_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pipeline.run_pipeline(files, raw_folder, tmp_path / "out", year=2015,
                                       confidential_cells="exclude")
    sbs = result.tables["sbs"].set_index(["geo", "nace_r2", "year"])
    row = sbs.loc[("AT11", "B05", 2014)]
    assert math.isnan(row["employment"]) and not row["employment_estimated"]
    assert row["employment_upper"] == 111.0  # the bounds stay informative
    with pytest.raises(pipeline.PipelineError, match="confidential='drop'"):
        pipeline.run_pipeline(files, raw_folder, tmp_path / "other", year=2015,
                              confidential_cells="drop")


def test_regional_totals_are_the_published_sections(raw_folder: Path, tmp_path: Path):
    totals = _run(raw_folder, tmp_path / "out").tables["regional_totals"]
    totals = totals.set_index(["geo", "year"])
    # section B is not a constraint (B06-B09 are not in the file), so the total is the sum of
    # the region's division cells: AT11 2015 = 100, 2014 = the estimate 110
    assert totals.loc[("AT11", 2015), "employment"] == 100
    assert totals.loc[("AT11", 2014), "employment"] == pytest.approx(110.0)
    assert totals.loc[("AT11", 2014), "employment_estimated_share"] == pytest.approx(1.0)
    assert totals.loc[("AT12", 2015), "employment_estimated_share"] == 0.0


def test_scope_counts_nothing_silently(raw_folder: Path, tmp_path: Path):
    selection = _run(raw_folder, tmp_path / "out").selection.set_index(["dataset", "indicator"])
    employment = selection.loc[("sbs_r_nuts06_r2", "employment")]
    # 5 series x 2 years read: section B (AT11), B05 for AT, AT11 and AT12 kept (the hierarchy
    # of the confidential-cell estimation) = 8 rows; group G451 = 2 at another NACE level
    assert (employment["rows_read"], employment["rows_kept"], employment["not_nuts"],
            employment["nace_other_level"]) == (10, 8, 0, 2)
    gdp = selection.loc[("nama_10r_2gdp", "gdp_mio_eur")]
    assert (gdp["rows_read"], gdp["rows_kept"], gdp["not_nuts2"]) == (4, 2, 2)


def test_context_and_manifest(raw_folder: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = _run(raw_folder, out)
    context = result.tables["context"].set_index(["geo", "year", "indicator"])["value"]
    assert context[("AT11", 2014, "gdp_mio_eur")] == 8000.5
    assert math.isnan(context[("AT11", 2015, "gdp_eur_per_head")])
    manifest = json.loads((out / "manifest.json").read_text())
    entries = {entry["dataset"]: entry for entry in manifest["inputs"]}
    assert entries["sbs_r_nuts06_r2"] == {
        "dataset": "sbs_r_nuts06_r2", "path": "sbs_r_nuts06_r2.tsv",
        "sha256": sha256_of(raw_folder / "sbs_r_nuts06_r2.tsv"),
        "bytes": (raw_folder / "sbs_r_nuts06_r2.tsv").stat().st_size, "rows": 9}
    assert manifest["parameters"]["source"] == "fixture"
    assert "demo_r_d2jan" in manifest["missing_datasets"]
    for name in ("sbs", "context", "coverage"):
        assert (out / f"{name}.parquet").exists()


def test_processed_tables_are_byte_identical_across_runs(raw_folder: Path, tmp_path: Path):
    _run(raw_folder, tmp_path / "a")
    _run(raw_folder, tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_coverage_and_confidentiality(raw_folder: Path, tmp_path: Path):
    result = _run(raw_folder, tmp_path / "out", year=2014)
    coverage = result.coverage.set_index(["table", "indicator", "country"])
    assert coverage.loc[("sbs", "employment", "AT"), "share"] == 0.5  # AT11 confidential
    flags = result.flags_summary.set_index("country")
    assert flags.loc["AT", "confidential"] == 1 and flags.loc["AT", "cells"] == 2


def test_flags_are_sorted_and_unique():
    flags = pd.Series(["pc", "cp", "", None, "p e"])
    assert pipeline.normalise_flags(flags).tolist() == ["cp", "cp", "", "", "ep"]


def test_schema_rejects_duplicates_and_negative_counts():
    frame = pd.DataFrame({
        "geo": ["AT11", "AT11"], "nace_r2": ["C10", "C10"], "year": [2014, 2014],
        "employment": [1.0, 2.0], "local_units": [1.0, 1.0], "wages_eur": [1.0, 1.0],
        "flags": ["", ""], "employment_flags": ["", ""], "local_units_flags": ["", ""],
        "wages_eur_flags": ["", ""]})
    for measure in ("employment", "local_units", "wages_eur"):
        frame[f"{measure}_estimated"] = False
        frame[f"{measure}_lower"] = frame[measure]
        frame[f"{measure}_upper"] = frame[measure]
    frame["apportioned"] = False
    frame = frame[SBS.column_names]
    with pytest.raises(TableValidationError, match="share a key"):
        validate(frame, SBS)
    frame.loc[1, "year"] = 2015
    frame.loc[1, "employment"] = -5.0
    with pytest.raises(TableValidationError, match="negative value"):
        validate(frame, SBS)


def test_unknown_dimension_names_the_dataset(raw_folder: Path, tmp_path: Path):
    (raw_folder / "nama_10r_2gdp.tsv").write_text(
        "freq,na_item,geo\\TIME_PERIOD\t2014\nA,B1GQ,AT11\t1\n")
    with pytest.raises(pipeline.PipelineError, match="nama_10r_2gdp.*no dimension 'unit'"):
        _run(raw_folder, tmp_path / "out")
    assert not (tmp_path / "out" / "sbs.parquet").exists()  # nothing half-written


@pytest.mark.shared_data
def test_real_sbs_2014(shared_data: Path, tmp_path: Path):
    files = sources.locate_datasets(shared_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pipeline.run_pipeline(files, shared_data, tmp_path, year=2014)
    sbs = result.tables["sbs"]
    current = sbs[sbs["year"] == 2014]
    print(f"\nreal sbs 2014: {len(current)} region x division rows, "
          f"{current['geo'].nunique()} regions, {int(current['employment'].notna().sum())} "
          f"employment values; rejected {len(result.rejected)}")
    assert current["geo"].nunique() > 200
    assert current["nace_r2"].nunique() >= 60
    assert (current["employment"] >= 0).all()
    # confidential cells are estimated (flagged), never zero or missing
    confidential = current["employment_flags"].str.contains("c")
    assert confidential.sum() > 100
    assert current.loc[confidential, "employment_estimated"].all()
    assert current["employment"].notna().all()
