"""Benchmark: :func:`eocic.nuts.harmonise` on a synthetic table the size of the regional SBS.

Usage::

    python bench/nuts_harmonise.py [--repeat N] [--regions 300] [--divisions 64]
                                   [--weights]

Builds a frame of ``--regions`` NUTS 2013 NUTS-2 codes (every code of the split, regrouped and
boundary-shift groups of 2013 -> 2021 first, the United Kingdom included) x ``--divisions``
NACE divisions x 8 years (2008-2015), three value columns (employment, units, wages) and a flag
column, about 150,000-200,000 rows, and times ``harmonise(..., additive=True, include_uk=True)``
to NUTS 2021 (best wall time of N runs). ``--weights`` also passes a synthetic population table
(NUTS 2021 codes, 2014-2020) as apportionment weights. Prints the rows in and out, the report's
actions and the time. No wall-clock assertion anywhere. To compare with the code before
apportionment, run it with ``PYTHONPATH`` on an export of that commit (``git archive``).
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings

import numpy as np
import pandas as pd

from eocic import nuts


def synthetic_frame(n_regions: int, n_divisions: int, seed: int = 0) -> pd.DataFrame:
    """Regions x divisions x years 2008-2015 with three value columns and flags."""
    rng = np.random.default_rng(seed)
    codes = nuts.regions(2013, 2)["geo"].tolist()
    changed = ["IE01", "IE02", "LT00", "PL12", "HU10", "HR04", "NO01", "NO02", "NO03", "NO04",
               "NO05", "UKM2", "UKM3", "SI03", "SI04"]
    codes = changed + [code for code in codes if code not in changed]
    codes = (codes * (n_regions // len(codes) + 1))[:n_regions]
    codes = list(dict.fromkeys(codes))
    divisions = [f"C{index:02d}" for index in range(10, 10 + n_divisions)]
    years = [str(year) for year in range(2008, 2016)]
    index = pd.MultiIndex.from_product([codes, divisions, years], names=["geo", "nace_r2", "time"])
    frame = index.to_frame(index=False)
    n = len(frame)
    for column in ("employment", "units", "wages"):
        values = rng.gamma(2.0, 500.0, n).round(0)
        values[rng.random(n) < 0.05] = np.nan
        frame[column] = values
    frame["flags"] = np.where(rng.random(n) < 0.03, "c", np.where(rng.random(n) < 0.05, "e", ""))
    return frame


def population_weights() -> pd.DataFrame:
    """Synthetic population by NUTS 2021 region (UK included) and year, 2014-2020."""
    codes = nuts.regions(2021, 2, include_uk=True)["geo"].tolist()
    rng = np.random.default_rng(1)
    rows = [(code, year, float(rng.integers(100_000, 3_000_000))) for code in codes
            for year in range(2014, 2021)]
    return pd.DataFrame(rows, columns=["geo", "year", "weight"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regions", type=int, default=300)
    parser.add_argument("--divisions", type=int, default=64)
    parser.add_argument("--weights", action="store_true")
    args = parser.parse_args()
    frame = synthetic_frame(args.regions, args.divisions)
    kwargs = dict(additive=True, value_columns=("employment", "units", "wages"), include_uk=True)
    # an older eocic (before apportionment) is timed without the weights, for comparison
    if args.weights and "apportion_weights" in inspect.signature(nuts.harmonise).parameters:
        kwargs["apportion_weights"] = [nuts.ApportionWeights("population", population_weights())]
    best = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # equal-split warnings when no weights are given
        nuts.harmonise(frame.head(1000), **kwargs)  # warm the code tables
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = nuts.harmonise(frame, **kwargs)
            best = min(best, time.perf_counter() - start)
    actions = result.report.groupby("action")["rows"].sum().to_dict()
    print(f"rows in {len(frame)}, rows out {len(result.table)}; report rows by action {actions}")
    print(f"harmonise: best of {args.repeat}: {best:.2f} s")


if __name__ == "__main__":
    main()
