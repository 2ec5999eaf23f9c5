"""National SBS by NACE class: registry, pipeline table, and the class-employment weights.

The fixture ``tests/fixtures/national_classes/sbs_na_ind_r2.tsv`` is a hand-written legacy bulk
TSV (``nace_r2,indic_sb,geo\\time``, years 2015 and 2014) with persons employed (V16110) for
DE and FR, plus EU28 rows, a division (C29), a group (C291), a code that is no class (C2999) and
a turnover series (V12110) that must not be selected. Its numbers:

=====  =====================================================  =====================
class  DE 2015 / FR 2015                                      DE 2014 / FR 2014
=====  =====================================================  =====================
29.10  500 / 100          29.20  60 / 40                      480 / 90, 60 / 40
29.31  150 / 50           29.32  80 / 20 p                    140 / 50, 80 / 20
27.11  300 / 100          27.12  200 / 50    27.20  50 / 20   280/100 200/50 50/20
27.31  10 / 5             27.32  40 / 25     27.33 100 / 50   10/5 40/25 100/50
27.40  100 / 30           27.51  120 / 200   27.52  30 / : c  100/30 100/150 20/50
27.90  50 / 20                                                100 / 20
10.11  400 / : c   10.12 100 / 50   10.13 300 / 150   10.20 80 / 60 (4 of C10's 25 classes)
=====  =====================================================  =====================

Cluster categories of C27 (10 classes): CL04 Appliances = 27.51, 27.52; CL47 Upstream Metal
Production = 27.32; CL29 Lighting and Electrical Equipment = the other seven.
"""

from __future__ import annotations

import gzip
import http.server
import shutil
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eocic import cli, pipeline, sources, tables
from eocic.clusters import mapping
from eocic.eurostat.reader import read_eurostat
from eocic.eurostat.registry import DATASETS, datasets_feeding

FIXTURE = "national_classes/sbs_na_ind_r2.tsv"


@pytest.fixture()
def national(fixtures_dir: Path) -> pd.DataFrame:
    raw = {"sbs_na_ind_r2": read_eurostat(fixtures_dir / FIXTURE)}
    return pipeline.build_national_classes(raw, [])


def _weights(national: pd.DataFrame, year: int) -> pd.DataFrame:
    weights = mapping.default_weights(("cluster",), national_classes=national, year=year)
    return weights["cluster"].set_index(["category", "division"])


# --------------------------------------------------------------------------------------------
# registry


def test_registry_lists_the_national_class_datasets():
    codes = [dataset.code for dataset in datasets_feeding("national_classes")]
    assert codes == ["sbs_ovw_act", "sbs_na_ind_r2", "sbs_na_con_r2", "sbs_na_dt_r2",
                     "sbs_na_1a_se_r2"]
    assert DATASETS["sbs_na_ind_r2"].indicators[0].filters == {"indic_sb": "V16110"}
    assert DATASETS["sbs_ovw_act"].indicators[0].filters == {"indic_sbs": "EMP_NR"}


def test_class_codes_are_converted_to_the_dotted_form():
    assert pipeline.nace_class_code("C2910") == "29.10"
    assert pipeline.nace_class_code("G4711") == "47.11"
    with pytest.raises(pipeline.PipelineError, match="C291"):
        pipeline.nace_class_code("C291")


# --------------------------------------------------------------------------------------------
# pipeline


def test_table_from_the_legacy_tsv(national: pd.DataFrame):
    tables.validate(national, tables.NATIONAL_CLASSES)
    assert sorted(national["country"].unique()) == ["DE", "FR"]  # EU28 is out
    assert len(national) == 72  # 36 country x class series x 2 years
    cells = national.set_index(["country", "nace_class", "year"])
    assert cells.loc[("DE", "29.10", 2015), "employment"] == 500
    assert cells.loc[("DE", "29.10", 2015), "division"] == "C29"
    assert cells.loc[("FR", "29.32", 2015), "flags"] == "p"
    confidential = cells.loc[("FR", "27.52", 2015)]
    assert np.isnan(confidential["employment"]) and confidential["flags"] == "c"
    assert np.isnan(cells.loc[("DE", "10.12", 2014), "employment"])  # ':' without flag
    assert "29.99" not in set(national["nace_class"])


def test_selection_counts_what_is_dropped(fixtures_dir: Path):
    selection: list[dict] = []
    pipeline.build_national_classes({"sbs_na_ind_r2": read_eurostat(fixtures_dir / FIXTURE)},
                                    selection)
    # 44 V16110 series x 2 years read; EU28: 4 series; C29, C291 (DE), C29 (FR): 3 series;
    # C2999: 1 series; the V12110 turnover series is never read
    assert selection == [{"dataset": "sbs_na_ind_r2", "indicator": "employment",
                          "rows_read": 88, "rows_kept": 72, "not_annual": 0,
                          "eu_aggregate": 8, "not_country": 0, "nace_other_level": 6,
                          "unknown_class": 2, "superseded": 0}]


def test_successor_dataset_wins_for_the_cells_both_hold(fixtures_dir: Path, tmp_path: Path):
    successor = tmp_path / "sbs_ovw_act.tsv"
    successor.write_text("freq,indic_sbs,nace_r2,geo\\TIME_PERIOD\t2015\t2021\n"
                         "A,EMP_NR,C2910,DE\t510\t530\n"
                         "A,EMP_NR,C2910,EU27_2020\t600\t620\n"
                         "A,ENT_NR,C2910,DE\t40\t41\n", encoding="utf-8")
    raw = {"sbs_na_ind_r2": read_eurostat(fixtures_dir / FIXTURE),
           "sbs_ovw_act": read_eurostat(successor)}
    selection: list[dict] = []
    national = pipeline.build_national_classes(raw, selection)
    cells = national.set_index(["country", "nace_class", "year"])["employment"]
    assert cells[("DE", "29.10", 2015)] == 510  # successor's value, not the legacy 500
    assert cells[("DE", "29.10", 2021)] == 530
    assert cells[("DE", "29.10", 2014)] == 480
    counts = {row["dataset"]: row for row in selection}
    assert (counts["sbs_ovw_act"]["rows_kept"], counts["sbs_ovw_act"]["eu_aggregate"]) == (2, 2)
    assert (counts["sbs_na_ind_r2"]["rows_kept"], counts["sbs_na_ind_r2"]["superseded"]) == (71, 1)
    assert len(national) == 73


def _raw_folder(tmp_path: Path, fixtures_dir: Path, *, with_classes: bool) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(fixtures_dir / "pipeline" / "sbs_r_nuts06_r2.tsv", folder)
    if with_classes:
        shutil.copy(fixtures_dir / FIXTURE, folder)
    return folder


def _run(folder: Path, out: Path) -> pipeline.PipelineResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run_pipeline(sources.locate_datasets(folder), folder, out, year=2015)


def test_pipeline_writes_the_table_and_reports_the_selection(tmp_path: Path,
                                                              fixtures_dir: Path):
    out = tmp_path / "processed"
    result = _run(_raw_folder(tmp_path, fixtures_dir, with_classes=True), out)
    written = pd.read_parquet(out / "national_classes.parquet")
    pd.testing.assert_frame_equal(written, result.national_classes)
    assert "national_classes" not in result.tables  # NUTS-2 tables only
    assert len(written) == 72
    assert result.manifest["tables"]["national_classes"]["rows"] == 72
    row = result.selection.set_index(["dataset", "indicator"]).loc[
        ("sbs_na_ind_r2", "employment")]
    assert (row["eu_aggregate"], row["unknown_class"]) == (8, 2)
    assert "sbs_na_ind_r2" not in result.missing_datasets
    # the regional SBS is unaffected
    assert set(result.tables["sbs"]["geo"]) == {"AT11", "AT12"}


def test_absent_datasets_give_no_table_and_no_error(tmp_path: Path, fixtures_dir: Path):
    out = tmp_path / "processed"
    result = _run(_raw_folder(tmp_path, fixtures_dir, with_classes=False), out)
    assert result.national_classes is None and "national_classes" not in result.manifest["tables"]
    assert not (out / "national_classes.parquet").exists()
    assert "sbs_na_ind_r2" in result.missing_datasets


# --------------------------------------------------------------------------------------------
# weights


def test_class_employment_weights_by_hand(national: pd.DataFrame):
    weights = _weights(national, 2015)
    # C29: 600 + 100 + 200 + 100, all Automotive
    assert weights.loc[("CL05", "C29"), "weight"] == pytest.approx(1.0)
    # C27 in 2015: FR's 27.52 is confidential, so FR is left out of C27 and DE alone gives
    # the shares: DE total 1000; CL04 = (120 + 30) / 1000, CL47 = 40 / 1000,
    # CL29 = (300 + 200 + 50 + 10 + 100 + 100 + 50) / 1000. (Counting the confidential cell
    # as zero would give CL04 = (120 + 30 + 200) / 1500 = 0.233.)
    assert weights.loc[("CL04", "C27"), "weight"] == pytest.approx(0.15)
    assert weights.loc[("CL47", "C27"), "weight"] == pytest.approx(0.04)
    assert weights.loc[("CL29", "C27"), "weight"] == pytest.approx(0.81)
    assert set(weights.xs("C27", level="division")["basis"]) == {"class_employment"}
    # C10: only 4 of its 25 classes published, no complete country: class count
    assert weights.loc[("CL30", "C10"), "weight"] == pytest.approx(3 / 25)
    assert weights.loc[("CL19", "C10"), "weight"] == pytest.approx(21 / 25)
    assert set(weights.xs("C10", level="division")["basis"]) == {"class_count"}


def test_reference_year_picks_the_latest_year_up_to_it(national: pd.DataFrame):
    # 2014: DE and FR both complete in C27. CL04 = (100 + 20 + 150 + 50) / (1000 + 500)
    assert _weights(national, 2014).loc[("CL04", "C27"), "weight"] == pytest.approx(320 / 1500)
    assert _weights(national, 2014).loc[("CL47", "C27"), "weight"] == pytest.approx(65 / 1500)
    # 2020: the latest year up to it is 2015
    assert _weights(national, 2020).loc[("CL04", "C27"), "weight"] == pytest.approx(0.15)
    # 2010: no year up to it; the earliest later year, 2014
    assert _weights(national, 2010).loc[("CL04", "C27"), "weight"] == pytest.approx(320 / 1500)
    used = mapping.eu_class_employment(national, 2015).set_index("nace_class")
    assert (used.loc["27.52", "year"], used.loc["27.52", "countries"]) == (2015, 1)
    assert (used.loc["29.10", "employment"], used.loc["29.10", "countries"]) == (600, 2)


def test_division_confidential_in_every_country_falls_back_to_class_count(
        national: pd.DataFrame):
    national = national[national["year"] == 2015].copy()
    hidden = (national["country"] == "DE") & (national["nace_class"] == "27.11")
    national.loc[hidden, ["employment", "flags"]] = [np.nan, "c"]
    weights = _weights(national, 2015)
    assert weights.loc[("CL04", "C27"), "weight"] == pytest.approx(2 / 10)
    assert weights.loc[("CL29", "C27"), "weight"] == pytest.approx(7 / 10)
    assert set(weights.xs("C27", level="division")["basis"]) == {"class_count"}
    assert weights.loc[("CL05", "C29"), "basis"] == "class_employment"


def test_default_weights_read_the_run_folder(national: pd.DataFrame, tmp_path: Path):
    without = mapping.default_weights(("cluster",), processed_dir=tmp_path, year=2015)
    assert set(without["cluster"]["basis"]) == {"class_count"}
    national.to_parquet(tmp_path / mapping.NATIONAL_CLASSES_FILE)
    weights = mapping.default_weights(("sector", "cluster"), processed_dir=tmp_path, year=2015)
    cluster = weights["cluster"].set_index(["category", "division"])
    assert cluster.loc[("CL04", "C27"), "weight"] == pytest.approx(0.15)
    assert set(weights["sector"]["basis"]) == {"exact"}


def test_a_broken_table_is_rejected_by_its_schema(national: pd.DataFrame):
    with pytest.raises(tables.TableValidationError, match="nace_class"):
        mapping.default_weights(("cluster",),
                                national_classes=national.assign(nace_class="C2910"))


# --------------------------------------------------------------------------------------------
# fetch


def test_fetch_command_archives_the_dataset(tmp_path: Path, fixtures_dir: Path, capsys):
    body = gzip.compress((fixtures_dir / FIXTURE).read_bytes(), mtime=0)
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            requests.append(self.path)
            if self.path.split("?")[0] != "/sdmx/2.1/data/sbs_na_ind_r2" or len(requests) > 5:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        code = cli.main(["fetch", "--datasets", "sbs_na_ind_r2", "--raw-dir", str(tmp_path),
                         "--base-url", f"http://127.0.0.1:{server.server_address[1]}"])
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    assert "not in the registry" not in capsys.readouterr().err
    archived = sources.locate_archived(tmp_path)
    assert list(archived) == ["sbs_na_ind_r2"]
    table = pipeline.build_national_classes(pipeline.read_datasets(archived), [])
    assert len(table) == 72
