"""Benchmark: confidential-cell estimation and mapping measures at NUTS-3 x NACE class scale.

Usage::

    python bench/scale_mapping.py [--sizes 1/16,1/4,full] [--seed 16] [--confidential 0.25]

The issue-16 target: a synthetic economy of about 1,165 regions x 615 industries x 16 years
(11.5 million cells, the NUTS-3 x NACE class detail) through the confidential-cell estimation
and the cluster-mapping measures in under 60 s and under 4 GB peak memory on 2 cores.

The economy is generated here, vectorised and seeded (:func:`synthetic_economy`; nothing is
read from disk): employment ``E_rct = region size_r x industry weight_c x lognormal noise x
exp(trend_rc x t)``, rounded to persons; a share ``--confidential`` of the cells (more of the
small ones, as in Eurostat files) is masked as confidential. Every published aggregate the
estimator uses (:data:`eocic.confidential.CONSTRAINT_FAMILIES`: country and parent-region
totals by section and by industry, each region's section totals) is the sum of the true
cells, as a statistical office would publish it.

How the grid maps onto :func:`eocic.confidential.estimate_cells`, whose cell level is the
4-character NUTS code x the NACE code ``[A-S]dd``: the synthetic regions get 4-character codes
(country + parent-region character + region character, lower case: never a real
NUTS code), so the estimator's "NUTS-2" cells are
the 1,165 regions, their "NUTS-1" parents are groups of eight regions and their countries are
the 27 member states; the industries are the 68 real NACE divisions of the business economy
(so its sections are complete and their totals are constraints) plus synthetic codes of the
same letters up to 615 (outside any section: constrained by the country and parent totals of
the industry only). Only ``employment`` is estimated, the measure the mapping uses.

Then, on the estimated cells, the measures of the cluster mapping, each called from
:mod:`eocic.measures` (the one definition): location quotients and size shares by industry and
year, focus, and the 5-year compound growth of every region x industry; ``E_r`` is the
estimator's business-economy total of the region.

A baseline in the same run, for comparing runs across machines and hours (wall-clock on a
shared host drifts by up to 2x within an hour): :func:`baseline_passes`, a fixed numpy
workload over as many float64 values as the size has cells (element-wise passes and
``bincount`` sums, the operations the estimator is made of), timed in the same child after the
phases. ``ratio`` is (estimation + measures) / baseline.

Each size runs in its own subprocess (``--child``), so its peak memory is its own: the
resident set size high-water mark (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which
includes the interpreter and imports, given as ``base``). Sizes scale regions and industries
by the same factor (1/16 = a quarter of each), years stay 16. Prints seconds per phase (the
generation is not timed against the target), peak MB and the growth from one size to the
next. No assertion; the exit status is 0 unless a child fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

FULL_REGIONS, FULL_INDUSTRIES, YEARS = 1165, 615, 16
FIRST_YEAR = 2008
#: The 27 member states: the countries of the synthetic economy.
COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR",
             "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
#: Sections of the business economy (B-N without K, and S for S95), as in the regional SBS.
SECTIONS = ("B", "C", "D", "E", "F", "G", "H", "I", "J", "L", "M", "N", "S")
REGIONS_PER_PARENT = 8
#: Characters of the parent-region and region positions of a code: lower case, so that no
#: synthetic code is a real NUTS code (the estimator would take a real code of another NUTS
#: version for a duplicate of its successor and drop it, :func:`eocic.nuts.counterpart_codes`).
CODE_CHARACTERS = "abcdefghijklmnopqrstuvwxy"
GROWTH_YEARS = 5
SIZES = {"1/16": 0.25, "1/4": 0.5, "full": 1.0}


def region_codes(n_regions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_regions`` 4-character codes, round-robin over :data:`COUNTRIES`, sorted, with their
    parent (3-character) and country codes."""
    k = np.arange(n_regions)
    within = k // len(COUNTRIES)
    if within.max(initial=0) >= len(CODE_CHARACTERS) * REGIONS_PER_PARENT:
        raise ValueError(f"{n_regions} regions: at most "
                         f"{len(COUNTRIES) * len(CODE_CHARACTERS) * REGIONS_PER_PARENT}")
    countries = np.array(COUNTRIES, dtype=object)[k % len(COUNTRIES)]
    chars = np.array(list(CODE_CHARACTERS), dtype=object)
    parents = countries + chars[within // REGIONS_PER_PARENT]
    codes = parents + chars[within % REGIONS_PER_PARENT]
    order = np.argsort(codes)  # sorted, as the estimator's grid is
    return codes[order], parents[order], countries[order]


def industry_codes(n_industries: int) -> tuple[np.ndarray, np.ndarray]:
    """The real NACE divisions of :data:`SECTIONS` first, then synthetic codes of the same
    letters (round-robin) up to ``n_industries``; with each code's section, or ``""`` for a
    synthetic code (no section holds it: sections must be complete real ones)."""
    from eocic.classifications.nace import nace_divisions

    listed = nace_divisions()
    listed = listed[listed["section"].isin(SECTIONS)]
    codes = list(listed["division"])[:n_industries]
    sections = list(listed["section"])[:n_industries]
    taken = set(codes)
    free = {letter: [f"{letter}{number:02d}" for number in range(1, 100)
                     if f"{letter}{number:02d}" not in taken] for letter in SECTIONS}
    k = 0
    while len(codes) < n_industries:
        letter = SECTIONS[k % len(SECTIONS)]
        codes.append(free[letter].pop(0))
        sections.append("")
        k += 1
    order = np.argsort(codes)
    return np.array(codes, dtype=object)[order], np.array(sections, dtype=object)[order]


def synthetic_economy(n_regions: int, n_industries: int, n_years: int, *, seed: int,
                      confidential: float) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The hierarchy frame for :func:`eocic.confidential.estimate_cells` (cells with the
    confidential ones NaN, and every aggregate), the true cells (R, C, Y) and the codes."""
    rng = np.random.default_rng(seed)
    regions, parents, countries = region_codes(n_regions)
    industries, industry_section = industry_codes(n_industries)
    years = np.arange(FIRST_YEAR, FIRST_YEAR + n_years)
    region_size = rng.lognormal(11.0, 0.8, n_regions)             # persons employed
    industry_weight = rng.dirichlet(np.full(n_industries, 0.7))
    trend = rng.normal(0.01, 0.03, (n_regions, n_industries)).astype(np.float32)
    truth = (region_size[:, None, None] * industry_weight[None, :, None]).astype(np.float32)
    truth = truth * rng.lognormal(0.0, 1.0, (n_regions, n_industries, 1)).astype(np.float32)
    truth = truth * np.exp(trend[:, :, None] * np.arange(n_years, dtype=np.float32))
    truth *= rng.lognormal(0.0, 0.05, truth.shape).astype(np.float32)
    truth = np.rint(truth).astype(np.float64)
    del trend
    # confidential: more often among the small cells (below the median: 1.6 x the share)
    small = truth < np.median(truth)
    masked = rng.random(truth.shape, dtype=np.float32) < np.where(
        small, 1.6 * confidential, 0.4 * confidential)
    published = np.where(masked, np.nan, truth)
    del small, masked

    # aggregates: sums of the true cells (a statistical office publishes exact totals)
    parent_codes, parent_of = np.unique(parents, return_inverse=True)
    country_codes, country_of = np.unique(countries, return_inverse=True)
    section_codes = np.array(sorted(set(industry_section) - {""}), dtype=object)
    section_of = np.array([list(section_codes).index(s) if s else -1 for s in industry_section])

    def by_region_group(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
        out = np.zeros((n_groups,) + values.shape[1:])
        np.add.at(out, group, values)
        return out

    def by_section(values: np.ndarray) -> np.ndarray:
        out = np.zeros((values.shape[0], len(section_codes), values.shape[2]))
        for s in range(len(section_codes)):
            out[:, s, :] = values[:, section_of == s, :].sum(axis=1)
        return out

    parent_industry = by_region_group(truth, parent_of, len(parent_codes))
    country_industry = by_region_group(truth, country_of, len(country_codes))
    blocks = [(regions, industries, published),
              (regions, section_codes, by_section(truth)),
              (parent_codes, industries, parent_industry),
              (parent_codes, section_codes, by_section(parent_industry)),
              (country_codes, industries, country_industry),
              (country_codes, section_codes, by_section(country_industry))]
    geo_categories = np.concatenate([regions, parent_codes, country_codes])
    nace_categories = np.concatenate([industries, section_codes])
    geo_index, nace_index = pd.Index(geo_categories), pd.Index(nace_categories)
    geo, nace, year, value = [], [], [], []
    for geo_codes, nace_codes, values in blocks:
        g = geo_index.get_indexer(geo_codes)
        n = nace_index.get_indexer(nace_codes)
        shape = values.shape
        geo.append(np.broadcast_to(g[:, None, None], shape).reshape(-1))
        nace.append(np.broadcast_to(n[None, :, None], shape).reshape(-1))
        year.append(np.broadcast_to(years[None, None, :], shape).reshape(-1))
        value.append(values.reshape(-1))
    hierarchy = pd.DataFrame({
        "geo": pd.Categorical.from_codes(np.concatenate(geo), categories=geo_categories),
        "nace_r2": pd.Categorical.from_codes(np.concatenate(nace), categories=nace_categories),
        "year": np.concatenate(year).astype(np.int64),
        "employment": np.concatenate(value)})
    codes = {"regions": regions, "industries": industries, "years": years}
    return hierarchy, truth, codes


def mapping_measures(cells: pd.DataFrame, totals: pd.DataFrame,
                     n_years: int) -> dict[str, pd.Series | np.ndarray]:
    """The cluster mapping's measures (:mod:`eocic.measures`) of every region x industry x
    year of the estimated ``cells``; industries as the categories."""
    from eocic import measures

    frame = cells[["geo", "nace_r2", "year", "employment"]].rename(
        columns={"nace_r2": "category"})
    regional = totals.set_index(["geo", "year"])["employment"]
    frame["regional_employment"] = regional.reindex(
        pd.MultiIndex.from_arrays([frame["geo"], frame["year"]])).to_numpy()
    lq = measures.location_quotients(frame, by=("category", "year"))
    shares = measures.size_shares(frame, by=("category", "year"))
    focus = measures.focus(frame)
    # cells come region x industry x year in order (estimate_cells), every year present
    values = frame["employment"].to_numpy().reshape(-1, n_years)
    growth = measures.compound_growth(values[:, -1], values[:, -1 - GROWTH_YEARS],
                                      GROWTH_YEARS)
    return {"lq": lq, "size_share": shares, "focus": focus, "growth": growth}


BASELINE_PASSES = 60


def baseline_passes(n_cells: int, *, seed: int = 0) -> float:
    """Seconds for a fixed workload over ``n_cells`` float64 values: :data:`BASELINE_PASSES`
    rounds of an in-place multiply, an in-place divide and a ``bincount`` into 100,000 bins.
    Best of three, so a passing hiccup of the host does not count."""
    rng = np.random.default_rng(seed)
    values = rng.random(n_cells) + 0.5
    bins = rng.integers(0, 100_000, n_cells).astype(np.int32)
    best = np.inf
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(BASELINE_PASSES):
            np.multiply(values, 1.0000001, out=values)
            np.divide(values, 1.0000001, out=values)
            np.bincount(bins, weights=values, minlength=100_000)
        best = min(best, time.perf_counter() - started)
    return best


def run_size(n_regions: int, n_industries: int, n_years: int, *, seed: int,
             confidential: float) -> dict:
    """One size, in this process: phases' seconds and the peak resident memory (MB)."""
    from eocic.confidential import EstimationWarning, estimate_cells

    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    hierarchy, truth, codes = synthetic_economy(n_regions, n_industries, n_years, seed=seed,
                                                confidential=confidential)
    generate = time.perf_counter() - started
    missing_share = float(hierarchy["employment"].isna().sum() / truth.size)

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)  # reported in the diagnostics
        result = estimate_cells(hierarchy, ("employment",))
    estimate = time.perf_counter() - started
    del hierarchy
    diagnostics = result.diagnostics.iloc[0]
    cells = result.cells
    if len(cells) != truth.size:
        raise RuntimeError(f"estimate_cells returned {len(cells)} cells for a grid of "
                           f"{truth.size}: some synthetic region-years were not cells")
    estimated = cells["employment_estimated"].to_numpy()
    true_values = truth.reshape(-1)[estimated]
    error = np.abs(cells["employment"].to_numpy()[estimated] - true_values) / np.maximum(
        true_values, 1.0)

    started = time.perf_counter()
    measured = mapping_measures(cells, result.totals, n_years)
    mapping = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del result, cells, estimated, true_values
    baseline = baseline_passes(int(truth.size))
    return {"regions": n_regions, "industries": n_industries, "years": n_years,
            "cells": int(truth.size), "missing_share": missing_share,
            "sweeps": int(diagnostics["sweeps"]),
            "median_abs_error": float(np.median(error)) if len(error) else 0.0,
            "generate_s": generate, "estimate_s": estimate, "measures_s": mapping,
            "baseline_s": baseline,
            "lq_finite": int(np.isfinite(measured["lq"]).sum()),
            "base_mb": base_mb, "peak_mb": peak_mb}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES),
                        help=f"comma-separated sizes among {', '.join(SIZES)} (default all)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--confidential", type=float, default=0.25,
                        help="share of cells masked as confidential (default 0.25)")
    parser.add_argument("--child", nargs=3, type=int, metavar=("REGIONS", "INDUSTRIES", "YEARS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import eocic.confidential  # noqa: F401  imports count in the base memory, not the time
        import eocic.measures  # noqa: F401
        print(json.dumps(run_size(*args.child, seed=args.seed, confidential=args.confidential)))
        return 0

    sizes = [size.strip() for size in args.sizes.split(",")]
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        parser.error(f"--sizes: unknown {unknown}; choose among {', '.join(SIZES)}")
    rows = []
    for size in sizes:
        factor = SIZES[size]
        dimensions = [round(FULL_REGIONS * factor), round(FULL_INDUSTRIES * factor), YEARS]
        completed = subprocess.run(
            [sys.executable, __file__, "--seed", str(args.seed), "--confidential",
             str(args.confidential), "--child", *map(str, dimensions)],
            capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            print(f"size {size} failed:\n{completed.stderr}", file=sys.stderr)
            return 1
        rows.append({"size": size, **json.loads(completed.stdout.strip().splitlines()[-1])})

    print(f"synthetic economy: regions x industries x {YEARS} years, "
          f"{args.confidential:.0%} of cells masked as confidential (seed {args.seed}); "
          f"one subprocess per size")
    header = (f"{'size':>5} {'regions':>7} {'indus.':>6} {'cells':>11} {'missing':>8} "
              f"{'sweeps':>6} {'gen s':>6} {'estim. s':>8} {'meas. s':>7} {'total s':>7} "
              f"{'baseline s':>10} {'ratio':>5} {'peak MB':>8} {'base MB':>7} {'x time':>6} "
              f"{'x mem':>6}")
    print(header)
    previous = None
    for row in rows:
        total = row["estimate_s"] + row["measures_s"]
        growth = ("", "")
        if previous is not None:
            growth = (f"{total / previous[0]:.1f}", f"{row['peak_mb'] / previous[1]:.1f}")
        print(f"{row['size']:>5} {row['regions']:>7} {row['industries']:>6} "
              f"{row['cells']:>11,} {row['missing_share']:>8.1%} {row['sweeps']:>6} "
              f"{row['generate_s']:>6.1f} {row['estimate_s']:>8.1f} {row['measures_s']:>7.1f} "
              f"{total:>7.1f} {row['baseline_s']:>10.2f} {total / row['baseline_s']:>5.1f} "
              f"{row['peak_mb']:>8.0f} {row['base_mb']:>7.0f} "
              f"{growth[0]:>6} {growth[1]:>6}")
        previous = (total, row["peak_mb"])
    last = rows[-1]
    print(f"cells grow 4x per step; 'x time' and 'x mem' are the ratios to the previous size. "
          f"Estimates' median absolute error vs the true cells at {last['size']}: "
          f"{last['median_abs_error']:.1%}. Baseline: {BASELINE_PASSES} rounds of multiply, "
          f"divide and bincount over as many float64 values as cells (best of 3, same child); "
          f"ratio = total / baseline. Target (issue 16) at full size on 2 cores: "
          f"estimation + measures < 60 s, peak < 4,096 MB.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
