"""Normalisation of indicators to a common scale (COINr ``Normalise``), direction applied first.

Every method first multiplies the values by the indicator's direction (+1 / -1), so that a
higher normalised value is always better. Frames are wide: rows indexed by (geo, year),
one column per indicator.

``minmax`` (default)        100 (x - min) / (max - min), min and max pooled over all regions
                            and years (COINr ``global=TRUE``), so scores compare over time.
``zscore``                  (x - mean) / sd, pooled, sample sd (ddof 1).
``rank``                    percentile rank within each year: 100 (r - 1) / (n - 1), r = rank
                            (1 = lowest), tied values get the lowest rank of the tie (COINr
                            ``n_prank``, ``ties.method = "min"``).
``distance_to_frontier``    100 (x - min_t) / (frontier_t - min_t): distance to the best region
                            of the same year (the frontier moves every year).

A constant indicator (max = min, sd = 0) gets 50 (minmax, frontier) or 0 (zscore).

For geometric aggregation the normalised values are rescaled to [1, 100] with
:func:`rescale_positive` (COINr: geometric mean needs x > 0, normalise to [1, 100]).

Reference: Becker W. et al., COINr ``Normalise``; OECD/JRC (2008) Handbook, step 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic.errors import EocicError

NORMALISATIONS = ("minmax", "zscore", "rank", "distance_to_frontier")


class NormalisationError(EocicError, ValueError):
    """Unknown method or unusable input."""


def apply_direction(frame: pd.DataFrame, directions: dict[str, int]) -> pd.DataFrame:
    """Multiply each column by its direction (+1 / -1)."""
    missing = [code for code in frame.columns if code not in directions]
    if missing:
        raise NormalisationError(f"no direction for indicators {missing}")
    return frame * pd.Series({code: float(directions[code]) for code in frame.columns})


def minmax(frame: pd.DataFrame, low: float = 0.0, high: float = 100.0) -> pd.DataFrame:
    """Pooled min-max to [low, high]; constant columns get the middle of the range."""
    minimum, maximum = frame.min(), frame.max()
    spread = (maximum - minimum).replace(0, np.nan)
    scaled = (frame - minimum) / spread * (high - low) + low
    constant = spread.isna() & frame.notna().any()
    for code in constant[constant].index:
        scaled[code] = frame[code].where(frame[code].isna(), (low + high) / 2)
    return scaled


def zscore(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled z-score (x - mean) / sd with the sample sd; constant columns get 0."""
    sd = frame.std(ddof=1).replace(0, np.nan)
    scored = (frame - frame.mean()) / sd
    constant = sd.isna() & frame.notna().any()
    for code in constant[constant].index:
        scored[code] = frame[code].where(frame[code].isna(), 0.0)
    return scored


def _by_year(frame: pd.DataFrame):
    return frame.groupby(level="year", group_keys=False, sort=False)


def percentile_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentile rank within each year: 100 (rank - 1) / (n - 1), ties at the lowest rank.

    COINr ``n_prank``: ``(rank(x, ties.method = "min") - 1) / (sum(!is.na(x)) - 1)``, x 100.
    """
    ranks = _by_year(frame).rank(method="min")
    counts = _by_year(frame).transform("count")
    return 100 * (ranks - 1) / (counts - 1).where(counts > 1)


def distance_to_frontier(frame: pd.DataFrame) -> pd.DataFrame:
    """100 (x - min_t) / (frontier_t - min_t), frontier = best value of the same year."""
    minimum = _by_year(frame).transform("min")
    frontier = _by_year(frame).transform("max")
    spread = (frontier - minimum).where(frontier > minimum)
    return (100 * (frame - minimum) / spread).where(spread.notna(), 50.0).where(frame.notna())


def normalise(frame: pd.DataFrame, directions: dict[str, int],
              method: str = "minmax") -> pd.DataFrame:
    """Direction, then one of :data:`NORMALISATIONS` (see module docstring)."""
    if method not in NORMALISATIONS:
        raise NormalisationError(f"unknown normalisation {method!r}; use one of "
                                 f"{list(NORMALISATIONS)}")
    directed = apply_direction(frame, directions)
    if method == "minmax":
        return minmax(directed)
    if method == "zscore":
        return zscore(directed)
    if method == "rank":
        return percentile_rank(directed)
    return distance_to_frontier(directed)


def rescale_positive(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled min-max to [1, 100], the strictly positive scale geometric aggregation needs.

    The worst observed value maps to 1 (not 0), so no zero enters a geometric mean.
    """
    return minmax(frame, low=1.0, high=100.0)
