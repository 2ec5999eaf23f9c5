"""Benchmark: first render and region change of the region explorer (stage 05).

Usage::

    python bench/explorer_render.py [--run data/processed/demo-2020] [--repeat 3]

Times, on a processed run (``--run``; by default the benchmark makes one: ``eocic study
--source demo`` stages 01-04 in a temporary project root, about a minute, not timed, removed
afterwards, :func:`demo_runs.demo_study`):

* **first render**: :class:`eocic.explorer.RegionExplorer` on the run (reads and checks the
  tables, prepares the portfolio, scoreboard and peers) plus :class:`ExplorerApp` drawing its
  visible tab, as voila does when the page opens (imports excluded: they are paid once per
  kernel);
* **region change**: selecting another region and drawing the visible tab (first visits; the
  cache is not hit);
* **baseline**: reading the same four parquet files with pandas, without checks or
  preparation, in the same run. The ratio first render / baseline is what to compare across
  machines; the issue's target is a first render under 2 s on the 2-core reference machine.

Prints milliseconds (best of ``--repeat``) and the ratio. No assertion.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from eocic.explorer import RegionExplorer
from eocic.explorer.app import ExplorerApp
from eocic.explorer.controller import TABLES

from demo_runs import demo_study

REGIONS = ("FR10", "ITC4", "ES51", "PL91", "SE11", "NL33")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default=None,
                        help="processed folder of a run (stages 01-04 done); default: a demo "
                             "study made in a temporary folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.run is not None:
        run = Path(args.run)
        if not (run / "cluster_mapping.parquet").is_file():
            sys.exit(f"{run}: no processed run there (no cluster_mapping.parquet); pass the "
                     "processed folder of a run, or leave --run out to make a demo run")
        bench(run, args.repeat, str(run))
        return
    with demo_study(["01", "02", "03", "04"]) as run:
        bench(run, args.repeat, "demo 2020 (made by the benchmark)")


def bench(run: Path, repeat: int, label: str) -> None:
    """Time the first render, the region changes and the baseline on the run in ``run``."""
    warnings.simplefilter("ignore")
    baseline, first, changes = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        for name in TABLES:
            if (run / f"{name}.parquet").is_file():
                pd.read_parquet(run / f"{name}.parquet")
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        explorer = RegionExplorer(run, region="DE11")
        app = ExplorerApp(explorer)
        app.render_visible()
        first.append(time.perf_counter() - started)
        for geo in REGIONS:
            if geo in explorer.region_codes:
                started = time.perf_counter()
                app.select_region(geo)
                app.render_visible()
                changes.append(time.perf_counter() - started)
    best_first, best_baseline = min(first), min(baseline)
    print(f"run {label}: first render {1000 * best_first:.0f} ms (best of {repeat}); "
          f"region change median {1000 * statistics.median(changes):.0f} ms, max "
          f"{1000 * max(changes):.0f} ms ({len(changes)} changes); baseline (read the "
          f"{len(TABLES)} parquet files) {1000 * best_baseline:.0f} ms; ratio "
          f"{best_first / best_baseline:.1f}")


if __name__ == "__main__":
    main()
