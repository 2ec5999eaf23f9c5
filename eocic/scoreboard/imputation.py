"""Imputation of missing indicator values, every imputed cell flagged.

Frames are wide, indexed by a complete ``(geo, year)`` grid, one column per indicator.

1. **Latest available year**: a missing value takes the region's latest value from up to
   ``window`` years before (default 2): last observation carried forward, never backward and
   never further than the window.
2. **Parent level**: a value still missing takes the mean of the regions of the same country
   in the same year (after step 1). The processed tables hold NUTS-2 regions only, so the
   same-country NUTS-2 mean stands in for the NUTS-1 parent; a published country value is not
   in the tables and is not used. A region alone in its country (or a country with no value
   that year) stays missing.

Methods per cell (:data:`METHODS`): 0 observed, 1 carried forward, 2 country mean, -1 missing.

Reference: methodology section 2.3 step 2 [I]; EIS/RIS practice of carrying the nearest year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = {0: "observed", 1: "carried forward", 2: "country mean", -1: "missing"}


def complete_grid(frame: pd.DataFrame, years: list[int] | None = None) -> pd.DataFrame:
    """Reindex to every geo x year (years: the given list or the observed range)."""
    geos = sorted(frame.index.get_level_values("geo").unique())
    observed = frame.index.get_level_values("year")
    if years is None:
        years = list(range(int(observed.min()), int(observed.max()) + 1))
    grid = pd.MultiIndex.from_product([geos, sorted(years)], names=["geo", "year"])
    return frame.reindex(grid)


def impute(frame: pd.DataFrame, window: int = 2, parent: bool = True
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Impute ``frame`` (complete geo x year grid, sorted); return values and method codes.

    Returns
    -------
    imputed : DataFrame
        Same shape, gaps filled where the rules allow.
    method : DataFrame of int
        0 observed, 1 carried forward (<= ``window`` years), 2 same-country mean, -1 missing.
    """
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    observed = frame.notna()
    method = pd.DataFrame(np.where(observed, 0, -1), index=frame.index, columns=frame.columns)
    filled = frame.groupby(level="geo", sort=False).ffill(limit=window) if window > 0 else frame
    carried = filled.notna() & ~observed
    method = method.mask(carried, 1)
    if parent:
        country = frame.index.get_level_values("geo").str[:2]
        year = frame.index.get_level_values("year")
        country_mean = filled.groupby([country, year]).transform("mean")
        use_parent = filled.isna() & country_mean.notna()
        filled = filled.fillna(country_mean)
        method = method.mask(use_parent, 2)
    return filled, method
