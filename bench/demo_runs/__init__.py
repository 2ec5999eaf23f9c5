"""Inputs the benchmarks make for themselves: the demo economy, processed by stage 01 or by the
whole study, in a temporary folder removed afterwards (issue 16: ``make bench`` never depends
on an earlier run being on disk, and never writes into the repository's ``data/`` or
``reports/``).

Not a benchmark: ``make bench`` runs the scripts ``bench/*.py``; they import this package
(``bench/`` is the script folder, so it is on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def demo_processed(folder: Path, year: int) -> Path:
    """Write the demo economy's raw files under ``folder/raw`` and run stage 01 (the pipeline,
    without its notebook) into ``folder/processed``; returns that folder (about a minute)."""
    from eocic import pipeline, sources
    from eocic.demo import generate_demo_economy

    raw, processed = folder / "raw", folder / "processed"
    generate_demo_economy(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stage 01's data-quality warnings, not benchmarked
        pipeline.run_pipeline(sources.locate_datasets(raw), raw, processed, year=year)
    return processed


@contextlib.contextmanager
def demo_study(stages: Sequence[str], year: int = 2020) -> Iterator[Path]:
    """Run ``eocic study --source demo`` for ``stages`` in a temporary project root (the
    repository's ``notebooks`` linked into it, so the study writes its ``data/`` and
    ``reports/`` there, not into the repository) and yield the run's processed folder; the
    temporary root is removed on exit. The study's output goes to stderr; a failed study
    raises ``subprocess.CalledProcessError``."""
    with tempfile.TemporaryDirectory(prefix="eocic-bench-") as scratch:
        root = Path(scratch)
        (root / "notebooks").symlink_to(REPO_ROOT / "notebooks", target_is_directory=True)
        run_id = "bench"
        command = [sys.executable, "-m", "eocic", "study", "--source", "demo", "--year",
                   str(year), "--run-id", run_id]
        for stage in stages:
            command += ["--stage", stage]
        environment = dict(os.environ)
        # the notebook kernels import eocic from this checkout, as the benchmark does
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [environment.get("PYTHONPATH")])])
        subprocess.run(command, cwd=root, env=environment, check=True,
                       stdout=sys.stderr, stderr=sys.stderr)
        yield root / "data" / "processed" / run_id
