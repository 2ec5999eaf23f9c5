r"""The specialisation measures of the study, each defined once.

Every stage that needs a location quotient, a size share, a focus, a growth rate or the
related categories calls this module: the cluster mapping (stage 02), the regression samples
(stage 04), the stress test (06), the pilot regions (07) and the explorer. r = region,
c = category (a NACE division, a cluster category or an emerging industry), t = year.

``E_rc``
    employment of region r in category c (persons; published or estimated, see
    :mod:`eocic.confidential`).
``E_r``
    the region's business-economy employment, the published aggregate of the regional SBS
    (``regional_totals``: sections B-N without K, and S95), never the sum of the published
    division cells, which a confidential division would shrink.

Location quotient (:func:`location_quotients`)
    ``LQ_rc = (E_rc / E_r) / (E_c / E)`` with ``E_c = sum_{r in B_c} E_rc`` and
    ``E = sum_{r in B_c} E_r`` over the benchmark ``B_c``: the regions where ``E_rc`` is known
    and ``E_r > 0``. With every cell estimated, ``B_c`` is every region; where cells are left
    missing (``confidential_cells="exclude"``) the benchmark shrinks to the same regions in numerator
    and denominator, so a hole never biases the other regions' LQs, and the employment-
    weighted mean LQ is 1: ``sum_{r in B_c} E_r LQ_rc / E = 1``. Reference: methodology
    section 1.4; Isard (1960), Methods of Regional Analysis.
Size share (:func:`size_shares`)
    ``S_rc = E_rc / E_c`` (same benchmark; the shares of a category sum to 1).
Focus (:func:`focus`)
    ``F_rc = E_rc / E_r``.
Growth
    :func:`compound_growth`: ``(E_t / E_t-k)^(1/k) - 1`` (per year, the mapping's ``growth``,
    shown as % per year; -1 for an exit); :func:`log_growth`: ``ln(E_t / E_t-k) / k`` (per
    year, the regressions' dependent variables; NaN unless both values are positive).
Related categories (:func:`related_categories`)
    From the co-location linkages of :mod:`eocic.clusters.linkages` (Spearman correlation of
    LQs across regions above the P90 of all pairs, pairwise complete, never zero-filled;
    categories allocated from the same divisions are never related, and a category is never
    related to itself): ``{category: sorted related categories}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing (never inf)."""
    return numerator / denominator.where(denominator > 0)


def _benchmark(frame: pd.DataFrame, value: str, total: str) -> pd.Series:
    return frame[value].notna() & (frame[total] > 0)


def location_quotients(frame: pd.DataFrame, *, value: str = "employment",
                       total: str = "regional_employment",
                       by: Sequence[str] = ("category", "year")) -> pd.Series:
    """``LQ_rc`` (module docstring) of every row of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        One row per region x category (x year ...): the category's employment ``value`` and
        the region's business-economy employment ``total`` (persons).
    value, total : str
        Column names.
    by : sequence of str
        Columns identifying a category across regions (the benchmark is taken within them),
        e.g. ``("category", "year")`` or ``("scheme", "category", "year")``.

    Returns
    -------
    Series
        Same index as ``frame``; NaN where the row is outside the benchmark (``value``
        missing or ``total`` not positive).
    """
    inside = _benchmark(frame, value, total)
    groups = [frame[column] for column in by]
    category_total = frame[value].where(inside).groupby(groups).transform("sum")
    benchmark_total = frame[total].where(inside).groupby(groups).transform("sum")
    return _ratio(focus(frame, value=value, total=total).where(inside),
                  _ratio(category_total, benchmark_total)).rename("lq")


def size_shares(frame: pd.DataFrame, *, value: str = "employment",
                total: str = "regional_employment",
                by: Sequence[str] = ("category", "year")) -> pd.Series:
    """``S_rc = E_rc / E_c`` over the benchmark (module docstring); NaN outside it."""
    inside = _benchmark(frame, value, total)
    groups = [frame[column] for column in by]
    category_total = frame[value].where(inside).groupby(groups).transform("sum")
    return _ratio(frame[value].where(inside), category_total).rename("size_share")


def focus(frame: pd.DataFrame, *, value: str = "employment",
          total: str = "regional_employment") -> pd.Series:
    """``F_rc = E_rc / E_r`` (share of the region's business-economy employment)."""
    return _ratio(frame[value], frame[total]).rename("focus")


def compound_growth(end: pd.Series | np.ndarray, start: pd.Series | np.ndarray,
                    years: pd.Series | np.ndarray | float) -> np.ndarray:
    """Compound annual growth rate ``(end / start)^(1 / years) - 1`` (fraction per year); NaN
    unless ``start > 0``, ``end >= 0`` and ``years > 0`` (an exit, ``end = 0``, is -1)."""
    end, start = np.asarray(end, dtype=float), np.asarray(start, dtype=float)
    years = np.asarray(years, dtype=float)
    valid = (end >= 0) & (start > 0) & (years > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.power(np.where(valid, end / start, 1.0), 1.0 / np.where(valid, years, 1.0))
    return np.where(valid, rate - 1.0, np.nan)


def log_growth(start: pd.Series, end: pd.Series, years: float) -> pd.Series:
    """Annual log growth ``ln(end / start) / years`` where both are positive, else NaN."""
    positive = (start > 0) & (end > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(positive, np.log(end / start) / years, np.nan),
                         index=start.index)


def spearman_rho(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` over the index labels where both have a
    value: the Pearson correlation of their average ranks (ties share the mean rank, as in
    ``scipy.stats.spearmanr``). NaN, without a warning, when one side is constant or fewer
    than two pairs remain.

    Reference: Spearman (1904), "The proof and measurement of association between two
    things", American Journal of Psychology 15(1).
    """
    known = x.notna() & y.notna()
    return float(x[known].rank().corr(y[known].rank()))


def related_categories(pairs: pd.DataFrame) -> dict[str, list[str]]:
    """``{category: sorted related categories}`` from linkage pairs.

    ``pairs`` holds one scheme and year of :func:`eocic.clusters.linkages.linkage_pairs`
    (``category_i, category_j, related``). Both directions are listed; a category never
    appears among its own related categories.
    """
    chosen = pairs[pairs["related"].astype(bool)
                   & (pairs["category_i"] != pairs["category_j"])]
    related: dict[str, set[str]] = {}
    for first, second in zip(chosen["category_i"], chosen["category_j"]):
        related.setdefault(str(first), set()).add(str(second))
        related.setdefault(str(second), set()).add(str(first))
    return {category: sorted(others) for category, others in sorted(related.items())}


def division_location_quotients(sbs: pd.DataFrame, totals: pd.DataFrame,
                                year: int) -> pd.DataFrame:
    """``geo, nace_r2, employment, regional_employment, lq`` of every region x division of
    ``sbs`` in ``year``: :func:`location_quotients` with the divisions as categories and E_r
    from the ``regional_totals`` table (the ``sector`` scheme of the cluster mapping gives the
    same numbers)."""
    cells = sbs.loc[sbs["year"] == year, ["geo", "nace_r2", "employment"]].copy()
    regional = totals[totals["year"] == year].set_index("geo")["employment"]
    cells["regional_employment"] = cells["geo"].map(regional).astype(float)
    cells["lq"] = location_quotients(cells.rename(columns={"nace_r2": "category"}),
                                     by=("category",)).to_numpy()
    return cells.sort_values(["geo", "nace_r2"], kind="mergesort").reset_index(drop=True)
