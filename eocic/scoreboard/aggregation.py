"""Aggregation of normalised indicators up the framework tree (COINr ``Aggregate``).

For each group g with children c (indicators or sub-groups), weights w_c > 0 and a region-year
whose available children are A:

arithmetic  s_g = sum_{c in A} w_c x_c / sum_{c in A} w_c          (COINr ``a_amean``)
geometric   s_g = exp( sum_{c in A} w_c ln x_c / sum_{c in A} w_c ) (COINr ``a_gmean``)

Weights are renormalised over the available children. The group score is missing (NaN) when
the share of available children |A| / |children| is below the data threshold (COINr
``dat_thresh``; default 2/3): a region is dropped from an aggregate it has too little data for,
never scored as if the missing children were zero.

Geometric means need x > 0. :func:`geometric_mean` refuses zeros and negatives with an error;
the engine rescales normalised indicators to [1, 100] before a geometric aggregation
(:func:`eocic.scoreboard.normalisation.rescale_positive`), so the worst region gets 1, not 0.

Reference: Becker W. et al., COINr ``Aggregate``; OECD/JRC (2008) Handbook, step 6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic.errors import EocicError

AGGREGATIONS = ("arithmetic", "geometric")


class AggregationError(EocicError, ValueError):
    """Unknown method or values a method cannot take."""


def _weights(columns: list[str], weights: dict[str, float]) -> np.ndarray:
    return np.array([float(weights.get(code, 1.0)) for code in columns])


def arithmetic_mean(frame: pd.DataFrame, weights: dict[str, float],
                    data_threshold: float = 2 / 3) -> pd.Series:
    """Weighted arithmetic mean of the columns per row over available values (formula above)."""
    w = _weights(list(frame.columns), weights)
    values = frame.to_numpy(dtype=float)
    present = ~np.isnan(values)
    numerator = np.where(present, values, 0.0) @ w
    denominator = present @ w
    share = present.mean(axis=1) if values.shape[1] else np.zeros(len(frame))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = numerator / denominator
    score[(share < data_threshold - 1e-12) | (denominator == 0)] = np.nan
    return pd.Series(score, index=frame.index)


def geometric_mean(frame: pd.DataFrame, weights: dict[str, float],
                   data_threshold: float = 2 / 3) -> pd.Series:
    """Weighted geometric mean of the columns per row over available values (formula above).

    Raises
    ------
    AggregationError
        If any value is <= 0 (rescale to [1, 100] first).
    """
    values = frame.to_numpy(dtype=float)
    bad = ~np.isnan(values) & (values <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise AggregationError(
            f"geometric mean needs values > 0, but {frame.columns[col]!r} is "
            f"{values[row, col]:g} at {frame.index[row]!r} ({int(bad.sum())} such values); "
            "rescale the normalised indicators to [1, 100] first (rescale_positive)")
    with np.errstate(divide="ignore"):
        logs = pd.DataFrame(np.log(values), index=frame.index, columns=frame.columns)
    return np.exp(arithmetic_mean(logs, weights, data_threshold))


def aggregate_tree(indicators: pd.DataFrame, framework, method: str = "arithmetic",
                   data_threshold: float = 2 / 3,
                   weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Score every group of the framework from normalised indicators.

    Parameters
    ----------
    indicators : DataFrame
        Normalised indicators, one column per indicator code of ``framework`` (strictly
        positive for ``geometric``).
    framework : IndexFramework
        The (screened) tree.
    method : {"arithmetic", "geometric"}
    data_threshold : float
        Minimum share of available children for a group score.
    weights : dict, optional
        code -> weight overriding the framework weights.

    Returns
    -------
    DataFrame
        The indicator columns followed by one column per group, bottom-up.
    """
    if method not in AGGREGATIONS:
        raise AggregationError(f"unknown aggregation {method!r}; use one of {list(AGGREGATIONS)}")
    combine = arithmetic_mean if method == "arithmetic" else geometric_mean
    all_weights = {code: framework.weight_of(code)
                   for code in framework.group_codes + framework.indicator_codes}
    all_weights.update(weights or {})
    scores = {code: indicators[code] for code in framework.indicator_codes}
    for group in framework.groups_bottom_up():
        children = framework.children(group)
        block = pd.DataFrame({code: scores[code] for code in children}, index=indicators.index)
        scores[group] = combine(block, all_weights, data_threshold)
    return pd.DataFrame(scores, index=indicators.index)
