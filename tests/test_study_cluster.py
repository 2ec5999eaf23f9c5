"""The study runner on a dask.distributed cluster: a LocalCluster on loopback stands in for an
HPC cluster (same file system, worker processes of their own)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eocic.config import StudyConfig
from eocic.scheduler import SchedulerError
from eocic.study import StageFailed, run_study
from tests.test_study import ECHO, _write_notebook

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # the scheduler's HTTP endpoint on a free loopback port (dashboard_address=None alone
    # still opens 8787 on every interface)
    with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local:
        yield local


@pytest.fixture()
def project(tmp_path: Path, fixtures_dir: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    _write_notebook(tmp_path / "notebooks" / "01_echo.ipynb", ECHO)
    _write_notebook(tmp_path / "notebooks" / "02_where.ipynb",
                    "import os\nprint('stage 02 in process', os.getpid())")
    (tmp_path / "source").mkdir()
    shutil.copy(fixtures_dir / "study" / "sbs_r_nuts06_r2.tsv", tmp_path / "source")
    return tmp_path


def _config(project: Path, scheduler: str) -> StudyConfig:
    return StudyConfig(source=str(project / "source"), year=2014, root=project,
                       cell_timeout=120, scheduler=scheduler)


def test_stages_execute_on_the_workers_and_the_record_says_where(project: Path, cluster):
    import os

    config = _config(project, cluster.scheduler_address)
    run = run_study(config, log=lambda line: None, jobs=2)
    assert run.ok
    record = json.loads((config.report_dir / "run.json").read_text())
    workers = set(cluster.scheduler_info["workers"])
    for stage in record["stages"]:
        assert stage["status"] == "ok"
        host, _, address = stage["where"].partition(" (")
        assert address.rstrip(")") in workers, stage["where"]
    # the notebooks ran in kernels the workers started, not in this process's children
    log = (config.report_dir / "logs" / "02_where.log").read_text()
    assert f"process {os.getpid()}" not in log and "stage 02 in process" in log
    params = json.loads((config.processed_dir / "params.json").read_text())
    assert params["year"] == 2014
    assert (config.report_dir / "01_echo.html").is_file()
    index = (config.report_dir / "index.html").read_text()
    assert all(f"on {stage['where']}" in index for stage in record["stages"])


def test_a_failing_stage_on_a_worker_fails_the_run_with_its_error(project: Path, cluster):
    _write_notebook(project / "notebooks" / "02_where.ipynb",
                    "raise ValueError('broken on the worker')")
    config = _config(project, cluster.scheduler_address)
    with pytest.raises(StageFailed, match="broken on the worker"):
        run_study(config, log=lambda line: None)
    record = json.loads((config.report_dir / "run.json").read_text())
    assert [stage["status"] for stage in record["stages"]] == ["ok", "failed"]


def test_an_unreachable_scheduler_is_refused_before_any_stage(project: Path):
    config = _config(project, "tcp://127.0.0.1:9")
    with pytest.raises(SchedulerError, match="tcp://127.0.0.1:9"):
        run_study(config, log=lambda line: None)
    assert not (project / "reports" / config.run_id / "run.json").exists()


def test_a_stage_whose_worker_dies_runs_again_on_another_worker(project: Path, cluster):
    # the first attempt kills its worker process (the kernel's parent); the scheduler moves the
    # task to another worker, where the second attempt finds the marker and finishes
    _write_notebook(project / "notebooks" / "02_where.ipynb", f"""
import os, signal
from pathlib import Path
marker = Path({str(project / 'first_attempt')!r})
if not marker.exists():
    marker.touch()
    os.kill(os.getppid(), signal.SIGKILL)
print('second attempt finished')
""")
    config = _config(project, cluster.scheduler_address)
    run = run_study(config, log=lambda line: None)
    assert run.ok and (project / "first_attempt").exists()
    assert "second attempt finished" in (config.report_dir / "logs" / "02_where.log").read_text()
    # the killed attempt's half-written notebook was not published
    leftovers = [path.name for path in config.report_dir.rglob(".*.tmp*")]
    assert leftovers == []
