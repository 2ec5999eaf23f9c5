"""Outlier treatment of indicators, following COINr's ``qTreat()`` / ``Treat()`` defaults.

Rule (COINr ``check_SkewKurt``): an indicator *passes* when ``|skew| < 2`` OR
``kurtosis < 3.5``, with the type-2 (Excel, ``e1071`` type 2) sample skewness and excess
kurtosis. A failing indicator is winsorised: the current maximum (all tied maxima) is set to
the next-highest value when the skew is >= 0, otherwise the minimum(s) to the next-lowest
value, re-testing after every step, until it passes or ``winmax`` points (default 5) have been
changed. If it still fails, a log transform is applied to the ORIGINAL data (not the
winsorised data) and the winsorisation is discarded (COINr ``combine_treat = FALSE``).

Scope (:data:`TREATMENT_SCOPES`): ``by_year`` (default) tests, winsorises and transforms each
year's cross-section of regions on its own, as COINr does for a panel: ``Treat.purse`` calls
``Treat.coin`` once per coin, i.e. per year (its pooled "global" branch is commented out in
the COINr source). ``pooled`` treats each indicator once over every region x year, which is
what eocic did before issue 14; it stays available because it keeps one transform per
indicator over time.

Log transforms (COINr names; NaN ignored in min, max and skew, as COINr's ``f2_para =
list(na.rm = TRUE)``):

``log_CT``       ln(x - min + a), a = 0.01 (max - min)  [default, COINr's ``f2`` default]
``log_CT_plus``  log_CT if skew > 0, else -ln(max + a - x) (negative skew mirrored)
``log_CT_orig``  ln(x - min + 1)
``log_GII``      ln[(max - 1)(x - min)/(max - min) + 1] (COINr: not recommended)
``log``          plain ln(x); refused with an error when any value is <= 0

The shifted forms handle zeros and negative values by construction. ``log_CT`` is monotone
increasing, so on a negatively skewed indicator it keeps the order but does not reduce the
skew (COINr's reason for offering ``log_CT_plus``); the treatment log says whether the
transformed indicator passes.

Checked against COINr's source (github.com/bluefoxr/COINr, commit b968203, 2025-04-04):
``R/treat.R`` defines ``log_CT <- log(x - min(x) + 0.01*(max(x) - min(x)))``,
``log_CT_plus`` as above (``skew(x) > 0`` else ``-log(xmax + a - x)``), ``skew``/``kurt`` as the
e1071 type-2 formulas, ``check_SkewKurt`` as ``abs(sk) < skew_thresh | kt < kurt_thresh``, and
``Treat.data.frame``'s default ``f2 = "log_CT"``; ``R/qfuncs.R``: ``qTreat`` defaults
``winmax = 5, skew_thresh = 2, kurt_thresh = 3.5, f2 = "log_CT"``.

Deviations from COINr kept here: an indicator whose skew or kurtosis cannot be computed
(fewer than 4 values, or zero variance) counts as passing and is left as it is (COINr's
``Treat`` errors inside ``tryCatch`` and also returns it untreated, with a warning); a constant
vector given to a shifted log uses a = 1 instead of COINr's a = 0 (ln 0 = -inf), a case the
pass rule never reaches.

Reference: Becker W. et al., COINr (JRC COIN), ``R/treat.R``; OECD/JRC (2008) Handbook on
Constructing Composite Indicators, step 3.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from eocic.errors import EocicError

LOG_TRANSFORMS = ("log_CT", "log_CT_plus", "log_CT_orig", "log_GII", "log")
DEFAULT_LOG_TRANSFORM = "log_CT"
TREATMENT_SCOPES = ("by_year", "pooled")
DEFAULT_TREATMENT_SCOPE = "by_year"


class TreatmentError(EocicError, ValueError):
    """A treatment that cannot be applied (e.g. plain log of non-positive values)."""


def skewness(values: np.ndarray | pd.Series) -> float:
    """Type-2 sample skewness (Excel ``SKEW``, e1071 type 2), NaN ignored.

    G1 = sqrt(n (n - 1)) / (n - 2) * m3 / m2^(3/2), with m_k = sum((x - mean)^k) / n.
    NaN when fewer than 3 values or zero variance.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return float("nan")
    deviation = x - x.mean()
    m2 = np.mean(deviation**2)
    if m2 == 0:
        return float("nan")
    m3 = np.mean(deviation**3)
    return float(np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)


def kurtosis(values: np.ndarray | pd.Series) -> float:
    """Type-2 sample excess kurtosis (Excel ``KURT``, e1071 type 2), NaN ignored.

    G2 = ((n + 1) g2 + 6) (n - 1) / ((n - 2)(n - 3)), g2 = m4 / m2^2 - 3.
    NaN when fewer than 4 values or zero variance.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4:
        return float("nan")
    deviation = x - x.mean()
    m2 = np.mean(deviation**2)
    if m2 == 0:
        return float("nan")
    g2 = np.mean(deviation**4) / m2**2 - 3
    return float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes(values: np.ndarray | pd.Series, skew_threshold: float = 2.0,
           kurtosis_threshold: float = 3.5) -> bool:
    """COINr ``check_SkewKurt``: True when |skew| < threshold OR kurtosis < threshold.

    Too few values (skew or kurtosis NaN) count as passing: nothing to treat.
    """
    return _passes_moments(*skew_and_kurtosis(values), skew_threshold, kurtosis_threshold)


def skew_and_kurtosis(values: np.ndarray | pd.Series) -> tuple[float, float]:
    """(:func:`skewness`, :func:`kurtosis`) of the same values from one pass over them.

    The same formulas and the same floating-point operations in the same order as the two
    functions, so the same numbers bit for bit; the treatment tests both moments of every
    indicator and year several times, and computing the deviations once halves its cost.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return float("nan"), float("nan")
    deviation = x - x.mean()
    m2 = np.mean(deviation**2)
    if m2 == 0:
        return float("nan"), float("nan")
    m3 = np.mean(deviation**3)
    skew = float(np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)
    if n < 4:
        return skew, float("nan")
    g2 = np.mean(deviation**4) / m2**2 - 3
    return skew, float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def _passes_moments(skew: float, kurt: float, skew_threshold: float,
                    kurtosis_threshold: float) -> bool:
    """:func:`passes` given the skew and kurtosis."""
    if np.isnan(skew) or np.isnan(kurt):
        return True
    return bool(abs(skew) < skew_threshold or kurt < kurtosis_threshold)


@dataclasses.dataclass
class Winsorisation:
    """Result of :func:`winsorise`: treated values and what was done."""

    values: np.ndarray
    points: int  # number of values changed
    high: int  # values changed at the top
    low: int  # values changed at the bottom
    passed: bool


def winsorise(values: np.ndarray | pd.Series, winmax: int = 5, skew_threshold: float = 2.0,
              kurtosis_threshold: float = 3.5) -> Winsorisation:
    """COINr winsorisation: move the extreme point(s) on the side of the skew, one step at a time.

    While the values fail :func:`passes` and fewer than ``winmax`` points have been changed:
    if skew >= 0 every value equal to the maximum is set to the largest other value, otherwise
    every value equal to the minimum to the smallest other value; then re-test. Tied extremes
    are changed together and all count (COINr counts points the same way). NaN stay NaN.
    """
    x = np.asarray(values, dtype=float).copy()
    present = ~np.isnan(x)
    changed = np.zeros(x.size, dtype=bool)
    high = low = 0
    skew, kurt = skew_and_kurtosis(x)
    passed = _passes_moments(skew, kurt, skew_threshold, kurtosis_threshold)
    while not passed and changed.sum() < winmax:
        data = x[present]
        if np.unique(data).size < 2:
            break
        if skew >= 0:  # not NaN: a NaN moment passes
            top = np.nanmax(x)
            at_extreme = present & (x == top)
            x[at_extreme] = data[data < top].max()
            high += int((at_extreme & ~changed).sum())
        else:
            bottom = np.nanmin(x)
            at_extreme = present & (x == bottom)
            x[at_extreme] = data[data > bottom].min()
            low += int((at_extreme & ~changed).sum())
        changed |= at_extreme
        skew, kurt = skew_and_kurtosis(x)
        passed = _passes_moments(skew, kurt, skew_threshold, kurtosis_threshold)
    return Winsorisation(x, int(changed.sum()), high, low, passed)


def log_transform(values: np.ndarray | pd.Series,
                  kind: str = DEFAULT_LOG_TRANSFORM) -> np.ndarray:
    """Apply one of :data:`LOG_TRANSFORMS` (formulas in the module docstring); NaN kept."""
    x = np.asarray(values, dtype=float)
    if kind not in LOG_TRANSFORMS:
        raise TreatmentError(f"unknown log transform {kind!r}; use one of {list(LOG_TRANSFORMS)}")
    low, high = np.nanmin(x), np.nanmax(x)
    spread = high - low
    if kind == "log":
        if low <= 0:
            raise TreatmentError(
                f"plain log requested but the smallest value is {low:g} (<= 0); use "
                "'log_CT_plus' or 'log_CT' (shifted forms) for data with zeros or negatives")
        return np.log(x)
    if kind == "log_CT_orig":
        return np.log(x - low + 1)
    if kind == "log_GII":
        if spread == 0:
            return np.zeros_like(x)
        return np.log((high - 1) * (x - low) / spread + 1)
    offset = 0.01 * spread if spread > 0 else 1.0
    if kind == "log_CT" or skewness(x) > 0:
        return np.log(x - low + offset)
    return -np.log(high + offset - x)


def treat_indicator(values: np.ndarray | pd.Series, winmax: int = 5,
                    skew_threshold: float = 2.0, kurtosis_threshold: float = 3.5,
                    log_kind: str = DEFAULT_LOG_TRANSFORM) -> tuple[np.ndarray, dict]:
    """COINr two-step treatment of one indicator.

    Returns the treated values and a log: skew and kurtosis before and after, the method
    (``none`` | ``winsorised`` | the log name), points winsorised (high / low) and whether the
    result passes.
    """
    x = np.asarray(values, dtype=float)
    skew, kurt = skew_and_kurtosis(x)
    log = dict(n=int((~np.isnan(x)).sum()), skew_before=skew, kurtosis_before=kurt,
               method="none", winsorised_high=0, winsorised_low=0)
    if _passes_moments(skew, kurt, skew_threshold, kurtosis_threshold):
        treated = x.copy()
    else:
        result = winsorise(x, winmax, skew_threshold, kurtosis_threshold)
        if result.passed:
            treated = result.values
            log.update(method="winsorised", winsorised_high=result.high,
                       winsorised_low=result.low)
        else:
            treated = log_transform(x, log_kind)  # to the ORIGINAL values
            log.update(method=log_kind)
    skew, kurt = skew_and_kurtosis(treated)
    log.update(skew_after=skew, kurtosis_after=kurt,
               passes=_passes_moments(skew, kurt, skew_threshold, kurtosis_threshold))
    return treated, log


TREATMENT_LOG_COLUMNS = ["indicator", "year", "n", "skew_before", "kurtosis_before", "method",
                         "winsorised_high", "winsorised_low", "skew_after", "kurtosis_after",
                         "passes"]


def treat_frame(frame: pd.DataFrame, winmax: int = 5, skew_threshold: float = 2.0,
                kurtosis_threshold: float = 3.5, log_kind: str = DEFAULT_LOG_TRANSFORM,
                scope: str = DEFAULT_TREATMENT_SCOPE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Treat every column of a wide frame (rows = region x year) with :func:`treat_indicator`.

    ``scope`` (:data:`TREATMENT_SCOPES`, module docstring): ``by_year`` treats each year's
    regions separately (needs a ``year`` index level), ``pooled`` treats all rows at once.
    Returns the treated frame (same shape and index) and the treatment log with the columns
    :data:`TREATMENT_LOG_COLUMNS`: one row per indicator and year (``by_year``) or per
    indicator (``pooled``, year = <NA>).

    Raises
    ------
    TreatmentError
        Unknown scope or log transform, or ``by_year`` on a frame without a ``year`` level.
    """
    if scope not in TREATMENT_SCOPES:
        raise TreatmentError(f"unknown treatment scope {scope!r}; use one of "
                             f"{list(TREATMENT_SCOPES)}")
    if log_kind not in LOG_TRANSFORMS:
        raise TreatmentError(f"unknown log transform {log_kind!r}; use one of "
                             f"{list(LOG_TRANSFORMS)}")
    if scope == "pooled":
        blocks = [(pd.NA, np.arange(len(frame)))]
    else:
        if "year" not in (frame.index.names or []):
            raise TreatmentError(
                "treatment by year needs rows indexed by (geo, year) with a 'year' level; "
                f"this frame's index levels are {list(frame.index.names)}: set the index, or "
                "pass scope='pooled'")
        years = frame.index.get_level_values("year")
        blocks = [(int(year), np.flatnonzero(years == year)) for year in sorted(years.unique())]
    treated = frame.copy()
    rows = []
    for code in frame.columns:
        column = frame[code].to_numpy(dtype=float)
        result = column.copy()
        for year, positions in blocks:
            values, log = treat_indicator(column[positions], winmax, skew_threshold,
                                          kurtosis_threshold, log_kind)
            result[positions] = values
            rows.append(dict(indicator=code, year=year, **log))
        treated[code] = result
    log = pd.DataFrame(rows, columns=TREATMENT_LOG_COLUMNS)
    log["year"] = log["year"].astype("Int64")
    return treated, log
