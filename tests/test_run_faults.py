"""Run integrity under faults: concurrent studies, killed, interrupted and failed runs,
read-only folders and runs of some stages on top of another run.

The kill tests run ``eocic study`` in a subprocess on a tiny project (two or three stage
notebooks; stage 02 waits until the test creates a ``release`` file, so that a signal lands
while it runs) and send real signals; each asserts the state of the published folders.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from eocic import cli, run_integrity
from eocic.config import StudyConfig
from eocic.run_integrity import (PublishedRunMismatch, RunFolderError, RunLock, RunLockedError,
                                 verify_tables)
from eocic.study import StageFailed, run_study

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_ID = "faults"

PARAMETERS = ('year = 1999\nsource = "x"\ndata_dir = "x"\nrun_id = "x"\nprocessed_dir = "x"\n'
              'report_dir = "x"\nlabel = "default"')

#: Stage 01: one table, stamped with the run's year and label.
WRITE_TABLE = """
import pandas as pd
from pathlib import Path
pd.DataFrame({"year": [year], "label": [label]}).to_parquet(Path(processed_dir, "first.parquet"))
print("stage 01 wrote its table")
"""

#: Stage 02: says it started, then waits for the test's ``release`` file (in the project root,
#: the kernel's working directory), then writes its table.
WAIT_FOR_RELEASE = """
import time
import pandas as pd
from pathlib import Path
Path(processed_dir, "02.started").write_text("running")
while not Path("release").exists():
    time.sleep(0.05)
pd.DataFrame({"year": [year]}).to_parquet(Path(processed_dir, "second.parquet"))
"""


def _write_notebook(path: Path, body: str) -> None:
    cell = new_code_cell(PARAMETERS)
    cell.metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=[cell, new_code_cell(body)])
    notebook.metadata["kernelspec"] = {"name": "eocic", "display_name": "Python (eocic)",
                                       "language": "python"}
    nbformat.write(notebook, path)


@pytest.fixture()
def project(tmp_path: Path, fixtures_dir: Path) -> Path:
    """A project root with stages 01 (writes a table) and 02 (waits for ``release``)."""
    (tmp_path / "notebooks").mkdir()
    _write_notebook(tmp_path / "notebooks" / "01_first.ipynb", WRITE_TABLE)
    _write_notebook(tmp_path / "notebooks" / "02_second.ipynb", WAIT_FOR_RELEASE)
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(fixtures_dir / "study" / "sbs_r_nuts06_r2.tsv", source)
    return tmp_path


def _config(project: Path, **overrides) -> StudyConfig:
    settings = {"source": str(project / "source"), "year": 2014, "root": project,
                "run_id": RUN_ID, "cell_timeout": 120} | overrides
    return StudyConfig(**settings)


def _publish_a_good_run(project: Path, label: str = "good") -> dict:
    """A complete run of every stage; returns its tables record."""
    (project / "release").touch()
    run_study(_config(project), extra_parameters={"label": label}, log=lambda line: None)
    (project / "release").unlink()
    return verify_tables(project / "data" / "processed" / RUN_ID)


def _study_process(project: Path, *arguments: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "eocic", "study", "--source", "source", "--year", "2014",
         "--run-id", RUN_ID, "--cell-timeout", "120", *arguments],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until(condition, process: subprocess.Popen | None = None, limit: float = 180.0):
    """Poll ``condition`` (a guard against a hung test, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"study ended early ({process.returncode}): {out}\n{err}")
        time.sleep(0.05)
    pytest.fail("condition not reached")


def _stage_two_running(project: Path) -> Path | None:
    processed = project / "data" / "processed"
    started = list(processed.glob(f".staging-{RUN_ID}-*/{RUN_ID}/02.started"))
    return started[0] if started else None


def _kernels_of(process: subprocess.Popen) -> list[psutil.Process]:
    from eocic.study import kernel_processes

    return kernel_processes(psutil.Process(process.pid))


def _reap(kernels: list[psutil.Process]) -> list[psutil.Process]:
    """Kernels still alive once given time to end; the test kills them (it started them)."""
    gone, alive = psutil.wait_procs(kernels, timeout=30)
    for kernel in alive:
        kernel.kill()
    return alive


# -- the lock ------------------------------------------------------------------------------

def test_a_second_study_of_the_same_run_id_is_refused_naming_the_holder(project, monkeypatch,
                                                                        capsys):
    lock_path = project / "data" / "processed" / f".{RUN_ID}.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from eocic.run_integrity import RunLock; "
         "RunLock(sys.argv[1], 'x').acquire(); print('held', flush=True); time.sleep(600)",
         str(lock_path)],
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.chdir(project)
        code = cli.main(["study", "--source", "source", "--year", "2014", "--run-id", RUN_ID,
                         "--cell-timeout", "60"])
        assert code == 2
        err = capsys.readouterr().err
        assert f"run {RUN_ID!r} is being written by another study (PID {holder.pid}" in err
        assert "--wait" in err and f"kill {holder.pid}" in err
        assert not (project / "reports").exists()  # nothing was written
        assert [p.name for p in (project / "data" / "processed").iterdir()] == [lock_path.name]
    finally:
        holder.kill()  # SIGKILL: the lock dies with its holder
        holder.wait()
    (project / "release").touch()
    run = run_study(_config(project), log=lambda line: None)
    assert run.ok and verify_tables(project / "data" / "processed" / RUN_ID)["status"] == "complete"


def test_two_studies_at_once_one_runs_the_other_is_refused(project):
    first = _study_process(project)
    try:
        _wait_until(lambda: _stage_two_running(project), first)
        second = _study_process(project)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 2, err
        assert f"run {RUN_ID!r} is being written by another study (PID {first.pid}" in err
        (project / "release").touch()
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
    record = verify_tables(project / "data" / "processed" / RUN_ID)
    assert record["status"] == "complete" and set(record["tables"]) == {"first.parquet",
                                                                         "second.parquet"}


def test_wait_queues_behind_the_holder(project):
    lock_path = project / "data" / "processed" / f".{RUN_ID}.lock"
    lock = RunLock(lock_path, RUN_ID).acquire()
    waiting = _study_process(project, "--wait")
    try:
        (project / "release").touch()

        def waits_on_the_lock() -> bool:
            return any(Path(item.path) == lock_path
                       for item in psutil.Process(waiting.pid).open_files())

        _wait_until(waits_on_the_lock, waiting)
        assert waiting.poll() is None and not list(project.rglob(".staging-*"))
        lock.release()
        out, err = waiting.communicate(timeout=300)
        assert waiting.returncode == 0, err
    finally:
        lock.release()
        if waiting.poll() is None:
            waiting.kill()
    assert verify_tables(project / "data" / "processed" / RUN_ID)["status"] == "complete"


# -- signals -------------------------------------------------------------------------------

@pytest.mark.parametrize(("signal_number", "exit_code"),
                         [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_stage_publishes_the_run_as_interrupted(project, signal_number,
                                                                   exit_code):
    _publish_a_good_run(project)
    study = _study_process(project)
    kernels = []
    try:
        _wait_until(lambda: _stage_two_running(project), study)
        kernels = _kernels_of(study)
        assert kernels, "the stage's kernel is a child of the study"
        study.send_signal(signal_number)
        out, err = study.communicate(timeout=300)
    finally:
        if study.poll() is None:
            study.kill()
    assert study.returncode == exit_code, err
    name = signal.Signals(signal_number).name
    assert f"interrupted by {name} while stage 02_second ran" in err
    assert _reap(kernels) == [], "the kernel was stopped"
    processed = project / "data" / "processed" / RUN_ID
    reports = project / "reports" / RUN_ID
    record = verify_tables(processed)
    assert record["status"] == "interrupted"
    # stage 01 of the interrupted run, not the good run's stage 02
    assert set(record["tables"]) == {"first.parquet"}
    run_record = json.loads((reports / "run.json").read_text())
    assert run_record["status"] == "interrupted" and run_record["interrupted_by"] == name
    assert run_record["run_token"] == record["run_token"]
    assert [s["status"] for s in run_record["stages"]] == ["ok", "interrupted"]
    index = (reports / "index.html").read_text()
    assert f"INTERRUPTED by {name}" in index and "in progress" not in index
    assert not (reports / "02_second.ipynb").exists() and not (reports / "02_second.html").exists()
    assert not [p for p in project.rglob(".*.tmp*")], "no temporary file is left"
    assert not list(project.rglob(".staging-*")) and not list(project.rglob(".replaced-*"))


def test_sigkill_leaves_the_published_run_intact_and_the_next_run_cleans_up(project):
    good = _publish_a_good_run(project)
    index_before = (project / "reports" / RUN_ID / "index.html").read_text()
    study = _study_process(project, "--year", "2013")  # a re-run for another year
    kernels = []
    try:
        _wait_until(lambda: _stage_two_running(project), study)
        kernels = _kernels_of(study)
        study.kill()
        study.wait()
    finally:
        _reap(kernels)
    processed = project / "data" / "processed" / RUN_ID
    assert verify_tables(processed) == good  # the published run, as it was
    assert (project / "reports" / RUN_ID / "index.html").read_text() == index_before
    import pandas as pd
    assert pd.read_parquet(processed / "first.parquet")["year"].tolist() == [2014]
    assert list((project / "data" / "processed").glob(f".staging-{RUN_ID}-*"))  # left behind
    lines = []
    (project / "release").touch()
    run = run_study(_config(project, year=2013), log=lines.append)
    assert run.ok
    assert any(line.startswith("  cleaned up after a killed run: .staging-") for line in lines)
    assert not list(project.rglob(".staging-*"))
    assert verify_tables(processed)["status"] == "complete"
    assert pd.read_parquet(processed / "second.parquet")["year"].tolist() == [2013]


def test_a_run_killed_between_its_two_renames_is_restored(project):
    """SIGKILL after the published folder was moved aside but before the new one took its
    place: the next study puts the moved-aside run back before anything else."""
    good = _publish_a_good_run(project)
    processed = project / "data" / "processed" / RUN_ID
    aside = processed.parent / f"{run_integrity.REPLACED_PREFIX}{RUN_ID}-20260101T000000Z-0"
    os.rename(processed, aside)
    restored = run_integrity.recover_stale(processed)
    assert restored == [aside] and verify_tables(processed) == good


# -- failed runs and runs of some stages ------------------------------------------------------

def test_a_failed_rerun_never_shows_tables_of_the_earlier_run(project):
    _publish_a_good_run(project)
    _write_notebook(project / "notebooks" / "01_first.ipynb",
                    'raise ValueError("stage 01 breaks on this input")')
    with pytest.raises(StageFailed, match="stage 01 breaks") as raised:
        run_study(_config(project, year=2013), log=lambda line: None)
    # the message names the published notebook, not the staging folder it was written in
    assert str(project / "reports" / RUN_ID / "01_first.ipynb") in str(raised.value)
    assert ".staging" not in str(raised.value)
    processed = project / "data" / "processed" / RUN_ID
    record = verify_tables(processed)
    assert record["status"] == "failed" and record["tables"] == {}
    assert not list(processed.glob("*.parquet"))  # the 2014 tables are gone, not beside 2013's
    assert json.loads((processed / "source.json").read_text())
    run_record = json.loads((project / "reports" / RUN_ID / "run.json").read_text())
    assert run_record["status"] == "failed" and run_record["parameters"]["year"] == 2013
    assert [s["status"] for s in run_record["stages"]] == ["failed", "not run"]
    assert "FAILED" in (project / "reports" / RUN_ID / "index.html").read_text()
    assert not (project / "reports" / RUN_ID / "02_second.html").exists()  # the earlier run's


def test_a_run_of_some_stages_keeps_the_other_stages_outputs(project):
    good = _publish_a_good_run(project)
    (project / "release").touch()
    run = run_study(_config(project), stages=["02"], log=lambda line: None)
    assert run.ok
    processed = project / "data" / "processed" / RUN_ID
    record = verify_tables(processed)
    assert record["status"] == "complete" and record["run_token"] != good["run_token"]
    assert record["tables"]["first.parquet"] == good["tables"]["first.parquet"]
    assert (project / "reports" / RUN_ID / "01_first.html").exists()


@pytest.mark.parametrize("change", [{"year": 2013}, {"source": "elsewhere"}])
def test_a_run_of_some_stages_on_a_run_of_other_data_is_refused(project, change):
    good = _publish_a_good_run(project)
    if "source" in change:
        shutil.copytree(project / "source", project / "elsewhere")
        change = {"source": str(project / "elsewhere")}
    with pytest.raises(PublishedRunMismatch) as raised:
        run_study(_config(project, **change), stages=["02"], log=lambda line: None)
    message = str(raised.value)
    assert f"run {RUN_ID!r} was published with other data" in message
    assert "omit --stage" in message and "--run-id" in message
    assert verify_tables(project / "data" / "processed" / RUN_ID) == good
    assert not list(project.rglob(".staging-*"))


def test_a_run_of_some_stages_on_tables_of_an_unknown_run_is_refused(project):
    processed = project / "data" / "processed" / RUN_ID
    processed.mkdir(parents=True)
    import pandas as pd
    pd.DataFrame({"year": [2011]}).to_parquet(processed / "first.parquet")
    with pytest.raises(PublishedRunMismatch, match="the run they belong to is unknown"):
        run_study(_config(project), stages=["02"], log=lambda line: None)


# -- read-only folders ------------------------------------------------------------------------

def _deny_writes_to(monkeypatch, folder: Path) -> None:
    """As root every folder is writable; make ``os.access`` answer as for another user."""
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(run_integrity.os, "access", access)


@pytest.mark.parametrize("where", ["reports/faults", "data/processed/faults",
                                   "reports/faults/logs", "data/processed"])
def test_a_read_only_run_folder_is_refused_before_any_work(project, monkeypatch, capsys, where):
    good = _publish_a_good_run(project)
    folder = project / where
    _deny_writes_to(monkeypatch, folder)
    monkeypatch.chdir(project)
    (project / "release").touch()  # should the check miss, the run ends instead of waiting
    code = cli.main(["study", "--source", "source", "--year", "2014", "--run-id", RUN_ID,
                     "--cell-timeout", "60"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{folder} is read-only" in err and f"chmod -R u+w {folder}" in err
    assert "nothing was run" in err
    assert verify_tables(project / "data" / "processed" / RUN_ID) == good
    assert not list(project.rglob(".staging-*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_reports_folder_is_refused_by_its_permissions(project):
    _publish_a_good_run(project)
    reports = project / "reports" / RUN_ID
    reports.chmod(0o555)
    try:
        with pytest.raises(RunFolderError, match="is read-only"):
            run_study(_config(project), log=lambda line: None)
    finally:
        reports.chmod(0o755)


def test_a_held_lock_is_refused_in_process(project):
    """flock locks belong to an open file: a second open in one process is refused too."""
    path = project / "data" / "processed" / f".{RUN_ID}.lock"
    with RunLock(path, RUN_ID):
        with pytest.raises(RunLockedError, match=f"PID {os.getpid()}"):
            RunLock(path, RUN_ID).acquire()
    RunLock(path, RUN_ID).acquire().release()


def test_reports_print_paths_in_the_staging_folder_as_published(tmp_path):
    from eocic.presentation import display_path

    staged = StudyConfig(source="demo", year=2020, root=tmp_path).staged("20260101T000000Z-0a")
    table = staged.processed_dir / "regressions.parquet"
    assert display_path(table, tmp_path) == "data/processed/demo-2020/regressions.parquet"
    assert display_path("reports/.staging-x-1/x/tables") == "reports/x/tables"


# -- a missing optional dataset ---------------------------------------------------------------

@pytest.mark.e2e
def test_without_gdp_the_stages_say_what_they_skip_and_the_run_goes_on(tmp_path):
    """The README promises that a missing dataset makes the stages needing it say what they
    skip; without GDP (nama_10r_2gdp) stage 04 used to abort (table C) and 05-07 never ran."""
    import re
    from html import unescape

    from eocic.demo import generate_demo_economy

    source = tmp_path / "no_gdp"
    generate_demo_economy(source)
    for path in source.glob("nama_10r_2gdp*"):
        path.unlink()
    root = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    config = StudyConfig(source=str(source), year=2020, root=root, run_id="no-gdp")
    run = run_study(config, extra_parameters={"specs": "C", "draws": 50},
                    stages=["01", "02", "03", "04", "07"], log=lambda line: None)
    assert run.ok and verify_tables(config.processed_dir)["status"] == "complete"

    def page_text(stem: str) -> str:
        page = (config.report_dir / f"{stem}.html").read_text()
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())

    regressions = page_text("04_regressions")
    assert "ln GDP per head, T (1) was not estimated: variable 'ln_gdp_per_head_T' has no data" \
        in regressions
    assert "no GDP in this run (Eurostat nama_10r_2gdp is absent from the source)" \
        in page_text("07_pilot_regions")
    assert "indicator 'market_size' left out: context has no indicator 'gdp_mio_eur'" \
        in page_text("03_scoreboard")
    assert "nama_10r_2gdp" in (config.report_dir / "index.html").read_text()


def test_a_signal_before_the_first_stage_publishes_nothing(project, monkeypatch):
    from eocic import study

    good = _publish_a_good_run(project)
    original_install = study.SignalWatch.install

    def install_then_receive(self):
        original_install(self)
        self._receive(signal.SIGTERM, None)  # as if SIGTERM arrived while the run was set up
        return self

    monkeypatch.setattr(study.SignalWatch, "install", install_then_receive)
    with pytest.raises(study.StudyInterrupted, match="before the first stage") as raised:
        run_study(_config(project), log=lambda line: None)
    assert raised.value.exit_code == 143
    assert verify_tables(project / "data" / "processed" / RUN_ID) == good
    assert not list(project.rglob(".staging-*"))


def test_an_unexpected_error_leaves_the_published_run_and_no_staging(project, monkeypatch):
    from eocic import report

    good = _publish_a_good_run(project)
    real_write_index = report.write_index
    calls = []

    def write_index_then_break(run, run_info, **options):
        calls.append(run)
        if len(calls) == 2:  # after stage 01: a bug or a full disk
            raise OSError("no space left on device (simulated)")
        return real_write_index(run, run_info, **options)

    monkeypatch.setattr(report, "write_index", write_index_then_break)
    (project / "release").touch()
    with pytest.raises(OSError, match="simulated"):
        run_study(_config(project, year=2013), log=lambda line: None)
    assert verify_tables(project / "data" / "processed" / RUN_ID) == good
    assert not list(project.rglob(".staging-*"))
