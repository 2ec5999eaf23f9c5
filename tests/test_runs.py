"""``eocic.load_run``: a run's parameters, manifest and typed tables as one object."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import eocic
from conftest import REPO_ROOT
from eocic.tables import TableNotFoundError, TableValidationError
from schema_frames import write


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root (``notebooks/``, ``data/processed/demo-2020``, ``reports/``) as cwd."""
    (tmp_path / "notebooks").mkdir()
    run = tmp_path / "data" / "processed" / "demo-2020"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps(
        {"parameters": {"year": 2020, "source": "demo", "run_id": "demo-2020"}, "inputs": []}))
    reports = tmp_path / "reports" / "demo-2020"
    reports.mkdir(parents=True)
    (reports / "run.json").write_text(json.dumps(
        {"parameters": {"year": 2020, "region": "DE11"}, "ok": True}))
    mapping = pd.DataFrame({
        "geo": ["AT11", "AT11", "AT11", "AT12", "AT11"],
        "category": ["CL01", "CL02", "CL03", "CL01", "CL01"],
        "category_name": ["One", "Two", "Three", "One", "One"],
        "year": [2020, 2020, 2020, 2020, 2019],
        "employment": [100.0, 900.0, 50.0, 10.0, 95.0], "lq": [2.5, 0.8, 3.0, 0.2, 2.4],
        "stars": [2, 0, 1, 0, 1], "is_cluster": [True, False, True, False, True],
        "performance_class": ["medium", None, "basic", None, "basic"]})
    write(run, "cluster_mapping", mapping.assign(specialisation_star=mapping["is_cluster"]),
          scheme="cluster", growth_years=5, weight_basis="class_count", incomplete=0.0,
          local_units_incomplete=0.0, wages_incomplete=0.0)
    write(run, "peers", pd.DataFrame({"geo": ["AT11", "AT12"], "peer": ["AT12", "AT11"],
                                      "distance": [0.4, 0.4], "rank": [1, 1]}),
          chosen_by="nearest")
    (tmp_path / "data" / "processed" / ".staging-demo-2020-20260101T000000Z-0" / "demo-2020"
     ).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_import_eocic_is_fast_and_lists_load_run():
    code = ("import sys, eocic; assert 'pandas' not in sys.modules, 'pandas imported'; "
            "print(sorted(n for n in dir(eocic) if not n.startswith('_')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=REPO_ROOT).stdout
    assert output.strip() == "['Run', 'RunNotFoundError', 'load_run']"
    assert "load_run" in eocic.__all__ and "load_run" in dir(eocic)


def test_a_run_id_is_found_under_the_project_root(project):
    run = eocic.load_run("demo-2020")
    assert run.folder == project / "data" / "processed" / "demo-2020"
    assert (run.run_id, run.year, run.source) == ("demo-2020", 2020, "demo")
    assert run.parameters["region"] == "DE11"  # from reports/<run_id>/run.json
    assert run.manifest["parameters"]["run_id"] == "demo-2020"
    assert run.tables == ["cluster_mapping", "peers"]  # present ones, in stage order
    assert "cluster_mapping" in dir(run)
    assert eocic.load_run(run.folder).folder == run.folder  # a path works too
    assert repr(run) == ("Run('demo-2020', source='demo', year=2020, "
                         "tables=['cluster_mapping', 'peers'])")


def test_tables_are_read_on_first_use_typed_and_checked(project):
    run = eocic.load_run("demo-2020")
    assert run._cache == {}
    peers = run.peers
    assert list(run._cache) == ["peers"] and run["peers"] is peers
    assert peers["rank"].dtype == "int64" and list(peers.columns)[:2] == ["geo", "peer"]
    with pytest.raises(TableNotFoundError, match="stage 03"):
        run.scoreboard
    with pytest.raises(AttributeError, match="no attribute 'peer_table'"):
        run.peer_table
    pd.DataFrame({"geo": ["AT11"]}).to_parquet(run.folder / "regressions.parquet")
    with pytest.raises(TableValidationError, match=r"regressions\.parquet.*Re-run stage 04"):
        run.regressions


def test_a_table_read_with_conditions_has_only_those_rows(project):
    run = eocic.load_run("demo-2020")
    clusters = run.table("cluster_mapping", year=2020, category="CL01")
    assert run._cache == {}  # read with the conditions, not the whole table
    assert list(clusters["geo"]) == ["AT11", "AT12"] and (clusters["year"] == 2020).all()
    assert run.table("cluster_mapping", geo="AT11", year=2019)["lq"].tolist() == [2.4]
    assert run.table("cluster_mapping", geo="XX99").empty
    whole = run.cluster_mapping  # once the whole table is read, conditions select from it
    expected = whole[(whole["year"] == 2020) & (whole["category"] == "CL01")]
    pd.testing.assert_frame_equal(run.table("cluster_mapping", year=2020, category="CL01"),
                                  expected.reset_index(drop=True))
    pd.testing.assert_frame_equal(clusters, expected.reset_index(drop=True))
    with pytest.raises(KeyError, match="no column 'region'.*columns are geo"):
        run.table("cluster_mapping", region="AT11")
    with pytest.raises(KeyError, match="no processed table 'clusters'; tables: sbs"):
        run.table("clusters", geo="AT11")


def test_a_missing_run_names_the_folder_and_the_fix(project):
    with pytest.raises(eocic.RunNotFoundError) as raised:
        eocic.load_run("demo-2019")
    message = str(raised.value)
    assert str(project / "data" / "processed" / "demo-2019") in message
    assert "runs in" in message and "demo-2020" in message
    assert "eocic study --source demo --year 2020" in message
    assert ".staging" not in message  # a study's staging folder is not a run
    with pytest.raises(FileNotFoundError):  # RunNotFoundError is one
        eocic.load_run(project / "elsewhere" / "demo-2020")


def test_a_region_view(project):
    region = eocic.load_run("demo-2020").region("at11")
    assert (region.geo, region.year) == ("AT11", 2020)
    assert region.name != "AT11"  # the NUTS 2021 name
    assert list(region.portfolio["category"]) == ["CL01", "CL03", "CL02"]  # stars, employment
    assert list(region.clusters["category"]) == ["CL01", "CL03"]
    assert list(region["peers"]["peer"]) == ["AT12"]
    assert list(eocic.load_run("demo-2020").region("AT11", year=2019).portfolio["year"]) == [2019]
    with pytest.raises(KeyError, match="no scoreboard table"):
        region.scores
    with pytest.raises(KeyError, match="'XX99' has no row in run demo-2020"):
        eocic.load_run("demo-2020").region("XX99")


@pytest.mark.e2e
def test_the_readme_example_runs_on_the_demo_study(demo_study, monkeypatch, capsys):
    """The "Explore a hypothesis" example of the README, run as written."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Explore a hypothesis", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(demo_study)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "is_cluster" in printed and "True" in printed and "False" in printed


def test_a_run_says_how_the_study_that_published_it_ended(project):
    from eocic.run_integrity import record_tables

    run = eocic.load_run("demo-2020")
    assert run.status is None  # written by hand, not published by a study
    record_tables(run.folder, "demo-2020", "20260101T000000Z-0", "failed")
    run = eocic.load_run("demo-2020")
    assert run.status == "failed" and "status='failed'" in repr(run)
