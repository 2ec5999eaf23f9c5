"""End to end: `eocic study --source demo` renders every stage and the index (marked e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from test_report import remote_loads
from eocic.report import render_notebook_html
from eocic.study import discover_stages

pytestmark = pytest.mark.e2e


# demo_study (conftest.py): the project's notebooks run once per session on the demo economy,
# shared with tests/test_reports_browser.py


def test_every_stage_rendered_and_indexed(demo_study: Path):
    report_dir = demo_study / "reports" / "demo-2020"
    stages = discover_stages(demo_study / "notebooks")
    assert [s.stem for s in stages] == [
        "01_data_pipeline", "02_cluster_mapping", "03_scoreboard", "04_regressions",
        "05_region_explorer", "06_stress_test", "07_pilot_regions"]
    index = (report_dir / "index.html").read_text()
    for stage in stages:
        html = (report_dir / f"{stage.stem}.html").read_text()
        assert "<html" in html and "Traceback" not in html
        assert f"{stage.stem}.html" in index
    record = json.loads((report_dir / "run.json").read_text())
    assert record["ok"] and {s["status"] for s in record["stages"]} == {"ok"}
    assert "data:image/png;base64," in (report_dir / "01_data_pipeline.html").read_text()
    for page in report_dir.glob("*.html"):  # shared reports open offline
        assert remote_loads(page.read_text()) == [], page.name


def test_processed_tables_and_manifest(demo_study: Path):
    processed = demo_study / "data" / "processed" / "demo-2020"
    manifest = json.loads((processed / "manifest.json").read_text())
    datasets = {entry["dataset"] for entry in manifest["inputs"]}
    assert {"sbs_r_nuts06_r2", "bd_hgnace2_r3", "nama_10r_2gdp"} <= datasets
    assert all(len(entry["sha256"]) == 64 and entry["rows"] > 0 for entry in manifest["inputs"])
    sbs = pd.read_parquet(processed / "sbs.parquet")
    assert sbs["geo"].nunique() >= 230 and sbs["year"].min() == 2008
    context = pd.read_parquet(processed / "context.parquet")
    assert {"population", "gdp_mio_eur", "lfs_employment_ths"} <= set(context["indicator"])
    demography = pd.read_parquet(processed / "demography.parquet")
    assert "high_growth_enterprises" in set(demography["indicator"])
    # every analysis stage wrote its output contract
    for name in ("cluster_mapping", "scoreboard", "peers", "regressions", "stress_test"):
        assert len(pd.read_parquet(processed / f"{name}.parquet")) > 0, name
    tables = demo_study / "reports" / "demo-2020" / "tables"
    assert {p.suffix for p in tables.iterdir()} >= {".html", ".tex", ".csv"}
    # the index shows the data manifest and findings computed from the tables
    index = (demo_study / "reports" / "demo-2020" / "index.html").read_text()
    assert "sbs_r_nuts06_r2" in index and "regional clusters" in index


def test_reports_hide_code_unless_asked(demo_study: Path, tmp_path: Path):
    report_dir = demo_study / "reports" / "demo-2020"
    notebook = report_dir / "01_data_pipeline.ipynb"
    study_page = (report_dir / "01_data_pipeline.html").read_text()
    with_code = render_notebook_html(notebook, tmp_path / "with.html", show_code=True).read_text()
    assert "run_pipeline" not in study_page and "run_pipeline" in with_code
    for page in (study_page, with_code):  # the parameter cells never: they hold machine paths
        assert 'processed_dir = "' not in page and str(demo_study) not in page
    assert "run_pipeline" in notebook.read_text()  # the executed notebook keeps the code
