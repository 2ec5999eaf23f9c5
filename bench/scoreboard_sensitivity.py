"""Benchmark: vectorised Sobol analysis against plain Monte Carlo and a per-run pandas loop.

Usage::

    python bench/scoreboard_sensitivity.py [--processed DIR] [--index ecosystem] [--n 1000]
                                           [--loop-runs 200] [--year 2020]
                                           [--regions 280] [--indicators 40] [--no-cluster]

(the reference year defaults to 2020, the demo's year: in later years the demo has too few
values for a run without imputation to score any region)

Two cases: first a synthetic index at the issue's scale (``--regions`` 280 regions,
``--indicators`` 40 indicators in 8 dimensions, lognormal values with 5 % gaps over 2018-2020,
read through ``csv`` sources written to a temporary folder), then one index of the demo
economy: the processed tables of ``--processed`` (a folder where stage 01 ran) or, by default,
the demo economy processed by stage 01 in a temporary folder (about a minute, not timed;
:func:`demo_runs.demo_processed`). For each it times, in one process:

* Sobol (:func:`eocic.scoreboard.sensitivity.run_sensitivity`, every factor of
  :data:`eocic.scoreboard.sensitivity.FACTORS`, N = ``--n``): sampling, the N (d + 2)
  vectorised model runs and every estimate with its bootstrap intervals (mean absolute rank
  change, each region, pooled);
* plain Monte Carlo of today's engine (:func:`eocic.scoreboard.uncertainty.run_uncertainty`
  after its precomputation: its draws ranked and summarised) with as many draws as Sobol has
  model runs, N (d + 2);
* the baseline: for each run, the framework without the run's removed indicator and with its
  weights, aggregated by the pandas engine (:func:`eocic.scoreboard.aggregation.aggregate_tree`)
  at the run's data threshold and ranked with ``Series.rank`` -- the straightforward loop, on
  the first ``--loop-runs`` runs, its per-run time extrapolated to N (d + 2) runs.

The precomputation of each method (engine runs for every combination of the discrete choices)
is timed and printed apart, as in ``bench/scoreboard_uncertainty.py``. The loop's ranks are
checked to equal the vectorised ranks on the runs it made. Prints times and ratios (issue 14:
Sobol within 3x of the Monte Carlo, at least 20x faster than the loop).

Then, unless ``--no-cluster``, the chunks on a dask.distributed cluster (issue 16): a
``LocalCluster`` of two single-thread worker processes on loopback, started once (its start is
timed apart), runs the Sobol model runs (:func:`eocic.scoreboard.sensitivity.evaluate`) and the
Monte Carlo draws (:func:`eocic.scoreboard.uncertainty.simulate`) of each case; the ranks are
checked to equal the local ones and the ratio cluster / local is printed. On a 2-core machine
the workers share the cores with this process: expect no speed-up, only the cost of sending
the inputs and chunks. No wall-clock assertion.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import distributed
import numpy as np
import pandas as pd

from eocic.scheduler import connect
from eocic.scoreboard import aggregation, sensitivity, uncertainty
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import load_framework, parse_framework
from eocic.scoreboard.sources import load_tables

from demo_runs import demo_processed


def loop_ranks(board: Scoreboard, inputs: sensitivity.SensitivityInputs,
               runs: sensitivity.Runs, n_runs: int) -> np.ndarray:
    """Baseline: one pandas aggregation and ranking per run (index ranks, regions x runs)."""
    structure = inputs.structure
    frames = {key: pd.DataFrame(matrix, index=structure.regions,
                                columns=structure.indicator_codes)
              for key, matrix in inputs.matrices.items()}
    ranks = np.full((len(structure.regions), n_runs), np.nan)
    for run in range(n_runs):
        level = {factor: int(runs.level[factor][run]) for factor in inputs.levels}
        key = (level["imputation"], level["outlier treatment"], level["treatment scope"],
               level["normalisation"], level["aggregation"])
        framework = board.framework
        removed = inputs.levels["removed indicator"][level["removed indicator"]]
        if removed is not None:
            framework, _ = framework.without([removed])
        weights = dict(zip(structure.nodes, runs.weights[run]))
        framework = framework.with_weights({code: weights[code] for code in
                                            framework.indicator_codes + framework.group_codes
                                            if code in weights})
        scores = aggregation.aggregate_tree(
            frames[key][framework.indicator_codes], framework,
            inputs.levels["aggregation"][level["aggregation"]],
            inputs.levels["data threshold"][level["data threshold"]])[inputs.index_code]
        ranks[:, run] = scores.rank(ascending=False, method="first").to_numpy()
    return ranks


def synthetic_scoreboard(folder: Path, n_regions: int, n_indicators: int,
                         n_dimensions: int = 8) -> Scoreboard:
    """An index of ``n_indicators`` csv indicators over ``n_regions`` regions, 2018-2020."""
    rng = np.random.default_rng(7)
    geos = [f"{chr(65 + k // 260 % 26)}{chr(65 + k // 10 % 26)}{k % 10}{k % 7}"
            for k in range(n_regions)]
    groups = [dict(code=f"dim_{k}", name=f"Dimension {k}", parent="synthetic")
              for k in range(n_dimensions)]
    indicators = []
    for k in range(n_indicators):
        values = rng.lognormal(rng.uniform(0, 3), rng.uniform(0.3, 1.2), (n_regions, 3))
        values[rng.random(values.shape) < 0.05] = np.nan
        frame = pd.DataFrame(dict(geo=np.repeat(geos, 3), year=np.tile([2018, 2019, 2020],
                                                                       n_regions),
                                  value=values.ravel())).dropna()
        frame.to_csv(folder / f"ind_{k}.csv", index=False)
        indicators.append(dict(code=f"ind_{k}", name=f"Indicator {k}",
                               parent=f"dim_{k % n_dimensions}",
                               source=dict(table="csv", path=f"ind_{k}.csv"), unit="x",
                               direction=1 if k % 3 else -1, rationale="bench"))
    document = dict(version=1, indices=dict(synthetic=dict(name="Synthetic", groups=groups,
                                                           indicators=indicators)))
    framework = parse_framework(document, "<bench>", base_dir=folder)["synthetic"]
    return Scoreboard(framework, {}, year=2020)


def bench(board: Scoreboard, label: str, n: int, loop_runs: int,
          client: distributed.Client | None) -> None:
    """Time Sobol, today's Monte Carlo and the pandas loop on one board; print the ratios;
    with a ``client``, also the model runs on its cluster against this process."""
    spec = sensitivity.SensitivitySpec(n=n, seed=2024)
    n_runs = n * (len(spec.factors) + 2)
    started = time.perf_counter()
    inputs = sensitivity.prepare_inputs(board, spec)
    sobol_prepare = time.perf_counter() - started
    started = time.perf_counter()
    result = sensitivity.run_sensitivity(board, spec, inputs)
    sobol_seconds = time.perf_counter() - started

    mc_spec = uncertainty.UncertaintySpec(draws=n_runs, seed=2024)
    started = time.perf_counter()
    mc_inputs = uncertainty.prepare_inputs(board, mc_spec)
    mc_prepare = time.perf_counter() - started
    started = time.perf_counter()
    draws = uncertainty.sample_draws(mc_inputs, mc_spec)
    mc_ranks = uncertainty.simulate(mc_inputs, draws, mc_spec)
    mc_model_seconds = time.perf_counter() - started
    uncertainty.rank_summary(mc_inputs, mc_ranks)
    mc_seconds = time.perf_counter() - started

    n_loop = min(loop_runs, n_runs)
    # the first runs (rows of A): every factor varies among them
    started = time.perf_counter()
    baseline = loop_ranks(board, inputs, result.runs, n_loop)
    loop_seconds = time.perf_counter() - started
    np.testing.assert_array_equal(np.nan_to_num(baseline),
                                  np.nan_to_num(result.ranks[:, :n_loop]))
    loop_total = loop_seconds / n_loop * n_runs

    print(f"== {label}: {len(board.regions)} regions, {len(board.indicator_codes)} "
          f"indicators, {len(inputs.structure.group_codes)} groups, reference year {board.year}")
    print(f"precompute: Sobol {len(inputs.matrices)} matrices in {sobol_prepare:.2f} s, "
          f"Monte Carlo {len(mc_inputs.matrices)} matrices in {mc_prepare:.2f} s")
    print(f"Sobol: {len(spec.factors)} factors, N = {n}, {n_runs} runs + estimates with "
          f"{spec.n_boot} bootstrap resamples in {sobol_seconds:.2f} s")
    print(f"Monte Carlo (today's engine): {n_runs} draws in {mc_seconds:.2f} s "
          f"(index + {len(mc_inputs.tracked) - 1} dimension ranks, summary; model runs "
          f"alone {mc_model_seconds:.2f} s)")
    print(f"pandas loop: {n_loop} runs in {loop_seconds:.2f} s "
          f"({loop_seconds / n_loop * 1e3:.2f} ms per run) -> {loop_total:.0f} s for "
          f"{n_runs} runs (extrapolated)")
    print(f"ratio Sobol / Monte Carlo (same number of runs): {sobol_seconds / mc_seconds:.2f}x "
          "(issue 14: <= 3x)")
    print(f"ratio Sobol / Monte Carlo model runs alone (simulate, no summary): "
          f"{sobol_seconds / mc_model_seconds:.2f}x")
    print(f"ratio Sobol incl. precompute / Monte Carlo incl. precompute: "
          f"{(sobol_seconds + sobol_prepare) / (mc_seconds + mc_prepare):.2f}x")
    print(f"ratio loop / Sobol: {loop_total / sobol_seconds:.0f}x (issue 14: >= 20x; "
          "identical index ranks on the loop's runs)")
    if client is None:
        return
    workers = len(client.scheduler_info(n_workers=-1)["workers"])
    started = time.perf_counter()
    local_ranks = sensitivity.evaluate(inputs, result.runs)
    sobol_local = time.perf_counter() - started
    started = time.perf_counter()
    cluster_ranks = sensitivity.evaluate(inputs, result.runs, client=client)
    sobol_cluster = time.perf_counter() - started
    np.testing.assert_array_equal(cluster_ranks, local_ranks)
    started = time.perf_counter()
    cluster_draws = uncertainty.simulate(mc_inputs, draws, mc_spec, client=client)
    mc_cluster = time.perf_counter() - started
    for code in mc_inputs.tracked:
        np.testing.assert_array_equal(cluster_draws[code], mc_ranks[code])
    print(f"cluster ({workers} worker processes, LocalCluster on loopback): Sobol model runs "
          f"{sobol_cluster:.2f} s against {sobol_local:.2f} s here, ratio cluster / local "
          f"{sobol_cluster / sobol_local:.2f}x; Monte Carlo draws {mc_cluster:.2f} s against "
          f"{mc_model_seconds:.2f} s, ratio {mc_cluster / mc_model_seconds:.2f}x "
          "(identical ranks; inputs scattered, chunks sent and gathered)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", default=None,
                        help="processed folder of a run (stage 01 done); default: the demo "
                             "economy, processed in a temporary folder")
    parser.add_argument("--index", default="ecosystem")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--loop-runs", type=int, default=200)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--regions", type=int, default=280)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--no-cluster", action="store_true",
                        help="skip the timing of the chunks on a 2-worker LocalCluster")
    args = parser.parse_args(argv)
    if args.processed is not None and not (Path(args.processed) / "context.parquet").is_file():
        print(f"{args.processed}: no context.parquet there; pass the processed folder of a run "
              "where stage 01 ran, or leave --processed out to use the demo economy",
              file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        client = None
        if not args.no_cluster:
            started = time.perf_counter()
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
            client = stack.enter_context(connect(cluster.scheduler_address))
            print(f"LocalCluster of 2 worker processes started in "
                  f"{time.perf_counter() - started:.2f} s (not in the ratios)")
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="eocic-bench-")))
        (folder / "synthetic").mkdir()
        board = synthetic_scoreboard(folder / "synthetic", args.regions, args.indicators)
        bench(board, "synthetic index", args.n, args.loop_runs, client)
        processed = (Path(args.processed) if args.processed is not None
                     else demo_processed(folder / "demo", args.year))
        board = Scoreboard(load_framework()[args.index], load_tables(processed), year=args.year)
        bench(board, f"index {args.index} of {processed}", args.n, args.loop_runs, client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
