"""Benchmark: eocic's Eurostat TSV reader against a naive pandas baseline.

Usage::

    python bench/tsv_reader.py [--repeat N] [--file PATH]

Reads the real bulk file ``eurostat_sbs/sbs_r_nuts06_r2.tsv.gz`` (195,227 series x 8
years) from ``$EOCIC_SHARED_DATA`` (default ``../shared/data`` beside the repository),
runs the baseline and :func:`eocic.eurostat.tsv.read_tsv` in the same process (best
wall time of N runs each), checks the outputs are identical with
``pandas.testing.assert_frame_equal`` and prints the times and their ratio. Exits 0
with a skip message when the file is absent.

The baseline is the obvious pandas recipe: ``read_csv(sep='\\t')``, split the key
column, ``melt``, ``.str.extract`` with a regex to separate value and flags,
``to_numeric``, sort, then convert the dimension and time columns to category. It
is the reference for correctness, not product code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = Path("eurostat_sbs") / "sbs_r_nuts06_r2.tsv.gz"


def baseline_read_tsv(path: Path) -> pd.DataFrame:
    """Naive pandas reader of an annual Eurostat bulk TSV, with the same output schema."""
    wide = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    key = wide.columns[0]
    dimensions = [name.strip().lower() for name in key.split("\\")[0].split(",")]
    wide.columns = [key] + [label.strip() for label in wide.columns[1:]]
    codes = wide[key].str.split(",", expand=True).apply(lambda column: column.str.strip())
    codes.columns = dimensions
    wide = pd.concat([codes, wide.drop(columns=key)], axis=1)
    long = wide.melt(id_vars=dimensions, var_name="time", value_name="cell")
    parts = long["cell"].str.extract(r"^\s*(:|[-+]?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
    if parts[0].isna().any():
        raise ValueError(f"{path}: unparsable cell {long.loc[parts[0].isna(), 'cell'].iloc[0]!r}")
    long["value"] = pd.to_numeric(parts[0].replace(":", np.nan))
    long["flags"] = parts[1].fillna("")
    long = long.drop(columns="cell").sort_values([*dimensions, "time"]).reset_index(drop=True)
    for column in [*dimensions, "time"]:
        long[column] = long[column].astype("category")
    return long


def best_time(function, path: Path, repeat: int) -> tuple[float, pd.DataFrame]:
    """Smallest wall time (seconds) over ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(path)
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    from eocic.eurostat.tsv import read_tsv

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader; the best counts (default 3)")
    parser.add_argument("--file", type=Path, default=None,
                        help="TSV file to read (default: $EOCIC_SHARED_DATA/eurostat_sbs/sbs_r_nuts06_r2.tsv.gz)")
    args = parser.parse_args(argv)

    shared = Path(os.environ.get("EOCIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    path = args.file or shared / DEFAULT_FILE
    if not path.is_file():
        print(f"SKIP: benchmark file not found at {path} (set EOCIC_SHARED_DATA or pass --file)")
        return 0

    baseline_seconds, expected = best_time(baseline_read_tsv, path, args.repeat)
    ours_seconds, ours = best_time(read_tsv, path, args.repeat)
    pd.testing.assert_frame_equal(ours, expected)

    ratio = baseline_seconds / ours_seconds
    print(f"file: {path} ({len(ours):,} rows, best of {args.repeat}); outputs identical")
    print(f"{'reader':<28}{'seconds':>10}{'speed-up':>10}")
    print(f"{'baseline (pandas melt)':<28}{baseline_seconds:>10.3f}{1.0:>9.1f}x")
    print(f"{'eocic.eurostat.tsv':<28}{ours_seconds:>10.3f}{ratio:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
