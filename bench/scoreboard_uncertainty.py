"""Benchmark: vectorised Monte Carlo of the scoreboard ranks against a per-draw pandas loop.

Usage::

    python bench/scoreboard_uncertainty.py [--processed DIR] [--index ecosystem]
                                           [--draws 10000] [--loop-draws 300] [--year 2020]

Reads the processed tables of a run (``--processed``, a folder where stage 01 ran), or by
default makes them: the demo economy and stage 01 in a temporary folder (about a minute, not
timed; :func:`demo_runs.demo_processed`). It builds one index, then times

* the vectorised path (:func:`eocic.scoreboard.uncertainty.simulate`) on ``--draws`` draws;
* the baseline: for each draw, take the combination's normalised DataFrame, aggregate it with
  the pandas engine (:func:`eocic.scoreboard.aggregation.aggregate_tree`) using the draw's
  weights, and rank with ``Series.rank`` -- the straightforward loop, on the first
  ``--loop-draws`` draws (its per-draw time is extrapolated to ``--draws``).

Both use the same precomputed reference-year matrices and the same draws (same seed). The
loop's ranks are checked to equal the vectorised ranks on the draws it ran. Prints the times
and the ratio. No wall-clock assertion anywhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from eocic.scoreboard import aggregation, uncertainty
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import load_framework
from eocic.scoreboard.sources import load_tables

from demo_runs import demo_processed


def loop_ranks(board: Scoreboard, inputs: uncertainty.Inputs, draws: uncertainty.Draws,
               spec: uncertainty.UncertaintySpec, n_draws: int) -> np.ndarray:
    """Baseline: one pandas aggregation and ranking per draw (index ranks, regions x draws)."""
    frames = {key: pd.DataFrame(matrix, index=inputs.regions, columns=inputs.indicator_codes)
              for key, matrix in inputs.matrices.items()}
    index_code = inputs.tracked[0]
    ranks = np.full((len(inputs.regions), n_draws), np.nan)
    for d in range(n_draws):
        how = spec.aggregations[draws.aggregation[d]]
        key = (bool(draws.treatment[d]), spec.normalisations[draws.normalisation[d]], how)
        weights = dict(zip(inputs.nodes, draws.weights[d]))
        scores = aggregation.aggregate_tree(frames[key], board.framework, how,
                                            inputs.data_threshold, weights)[index_code]
        ranks[:, d] = scores.rank(ascending=False, method="first").to_numpy()
    return ranks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", default=None,
                        help="processed folder of a run (stage 01 done); default: the demo "
                             "economy, processed in a temporary folder")
    parser.add_argument("--index", default="ecosystem")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--loop-draws", type=int, default=300)
    parser.add_argument("--year", type=int, default=None)
    args = parser.parse_args(argv)
    if args.processed is not None:
        folder = Path(args.processed)
        if not (folder / "context.parquet").is_file():
            print(f"{folder}: no context.parquet there; pass the processed folder of a run "
                  "where stage 01 ran, or leave --processed out to use the demo economy",
                  file=sys.stderr)
            return 1
        return bench(folder, args)
    with tempfile.TemporaryDirectory(prefix="eocic-bench-") as scratch:
        year = args.year if args.year is not None else 2020
        return bench(demo_processed(Path(scratch), year), args)


def bench(folder: Path, args: argparse.Namespace) -> int:
    """Time the vectorised path and the loop on the processed tables in ``folder``."""
    tables = load_tables(folder)
    board = Scoreboard(load_framework()[args.index], tables, year=args.year)
    spec = uncertainty.UncertaintySpec(draws=args.draws, seed=2024)

    started = time.perf_counter()
    inputs = uncertainty.prepare_inputs(board, spec)
    prepare_seconds = time.perf_counter() - started
    draws = uncertainty.sample_draws(inputs, spec)
    started = time.perf_counter()
    ranks = uncertainty.simulate(inputs, draws, spec)
    vector_seconds = time.perf_counter() - started

    n_loop = min(args.loop_draws, args.draws)
    started = time.perf_counter()
    baseline = loop_ranks(board, inputs, draws, spec, n_loop)
    loop_seconds = time.perf_counter() - started
    np.testing.assert_array_equal(np.nan_to_num(baseline),
                                  np.nan_to_num(ranks[inputs.tracked[0]][:, :n_loop]))
    loop_total = loop_seconds / n_loop * args.draws

    print(f"index {args.index}: {len(inputs.regions)} regions, {len(inputs.indicator_codes)} "
          f"indicators, {len(inputs.group_codes)} groups, reference year {board.year}")
    print(f"precompute matrices ({len(inputs.matrices)} combinations): {prepare_seconds:.2f} s")
    print(f"vectorised: {args.draws} draws in {vector_seconds:.2f} s "
          f"({vector_seconds / args.draws * 1e3:.3f} ms per draw, index + "
          f"{len(inputs.tracked) - 1} dimension ranks)")
    print(f"pandas loop: {n_loop} draws in {loop_seconds:.2f} s "
          f"({loop_seconds / n_loop * 1e3:.2f} ms per draw) -> {loop_total:.0f} s for "
          f"{args.draws} draws (extrapolated)")
    print(f"ratio loop / vectorised: {loop_total / vector_seconds:.0f}x "
          "(identical index ranks on the loop's draws)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
