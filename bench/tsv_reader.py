"""Benchmark: eocic's Eurostat TSV reader against a naive pandas baseline.

Usage::

    python bench/tsv_reader.py [--repeat N] [--file PATH]

Reads the real bulk file ``eurostat_sbs/sbs_r_nuts06_r2.tsv.gz`` (195,227 series x 8
years) from ``$EOCIC_SHARED_DATA`` (default ``../shared/data`` beside the repository),
runs the baseline and :func:`eocic.eurostat.tsv.read_tsv` in the same process (best
wall time of N runs each), checks the outputs are identical with
``pandas.testing.assert_frame_equal`` and prints the times and their ratio. When the
file is absent the benchmark writes a synthetic bulk file of the same shape and cell
mix into a temporary folder (:func:`synthetic_bulk_file`) and reads that instead; it
never skips.

The baseline is the obvious pandas recipe: ``read_csv(sep='\\t')``, split the key
column, ``melt``, ``.str.extract`` with a regex to separate value and flags,
``to_numeric``, sort, then convert the dimension and time columns to category. It
is the reference for correctness, not product code.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
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


#: Cells of the real file by kind (share of the 1.56 million): value, missing, negative
#: value, confidential, flagged values and flagged missing ones.
CELL_KINDS = {"{v} ": 0.613, ": ": 0.220, "-{v} ": 0.060, ": c": 0.060, "{v} d": 0.0105,
              "{v} b": 0.0105, ": u": 0.0077, "{v} p": 0.0065, ": cd": 0.0025,
              ": bc": 0.0018, "{v} e": 0.0080}


def synthetic_bulk_file(path: Path, n_series: int = 195_227, seed: int = 6) -> Path:
    """Write a gzipped annual Eurostat bulk TSV like ``sbs_r_nuts06_r2`` (``nace_r2,indic_sb,
    geo\\time`` keys, 2015-2008, cells of :data:`CELL_KINDS`) with ``n_series`` rows."""
    rng = np.random.default_rng(seed)
    sections = "BCDEFGHIJLMNS"
    naces = [letter for letter in sections] + [f"{letter}{k:02d}" for letter in sections
                                               for k in range(1, 8)]
    indicators = ["V11210", "V11910", "V13310", "V16110", "V16130", "V94310"]
    countries = ("AT", "BE", "CZ", "DE", "DK", "ES", "FI", "FR", "HU", "IT", "NL", "PL", "PT", "SE")
    geos = [f"{country}{suffix}" for country in countries
            for suffix in ["", *"123", *[f"{a}{b}" for a in "123" for b in "1234567"]]]
    keys = [f"{n},{i},{g}" for n in naces for i in indicators for g in geos]
    if n_series > len(keys):
        raise ValueError(f"at most {len(keys)} series")
    keys = sorted(keys)[:n_series]
    years = list(range(2015, 2007, -1))
    kinds = np.array(list(CELL_KINDS))
    shares = np.array(list(CELL_KINDS.values()))
    chosen = rng.choice(len(kinds), size=(n_series, len(years)), p=shares / shares.sum())
    values = rng.integers(0, 100_000, size=(n_series, len(years)))
    lines = ["nace_r2,indic_sb,geo\\time\t" + "\t".join(f"{year} " for year in years)]
    for key, row_kinds, row_values in zip(keys, chosen, values):
        cells = [kinds[k].format(v=v) for k, v in zip(row_kinds, row_values)]
        lines.append(key + "\t" + "\t".join(cells))
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


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
    if args.file is not None and not path.is_file():
        print(f"{path}: no such file (pass an annual Eurostat bulk TSV)", file=sys.stderr)
        return 1
    if not path.is_file():
        with tempfile.TemporaryDirectory(prefix="eocic-bench-") as scratch:
            print(f"{path} absent (set EOCIC_SHARED_DATA): reading a synthetic file of the "
                  "same shape instead")
            return bench(read_tsv, synthetic_bulk_file(Path(scratch) / "synthetic.tsv.gz"),
                         args.repeat)
    return bench(read_tsv, path, args.repeat)


def bench(read_tsv, path: Path, repeat: int) -> int:
    """Time the baseline and ``read_tsv`` on ``path``, check they agree, print the table."""
    baseline_seconds, expected = best_time(baseline_read_tsv, path, repeat)
    ours_seconds, ours = best_time(read_tsv, path, repeat)
    pd.testing.assert_frame_equal(ours, expected)

    ratio = baseline_seconds / ours_seconds
    print(f"file: {path} ({len(ours):,} rows, best of {repeat}); outputs identical")
    print(f"{'reader':<28}{'seconds':>10}{'speed-up':>10}")
    print(f"{'baseline (pandas melt)':<28}{baseline_seconds:>10.3f}{1.0:>9.1f}x")
    print(f"{'eocic.eurostat.tsv':<28}{ours_seconds:>10.3f}{ratio:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
