"""Uncertainty of the scoreboard ranks (Monte Carlo, vectorised with numpy).

Each draw d picks, independently and uniformly (COINr ``get_sensitivity`` design, Saisana,
Saltelli & Tarantola 2005):

* weights: every indicator and group weight w becomes w' = w (1 + f u), u ~ U(-1, 1),
  f = 0.25 by default (COINr ``get_noisy_weights``);
* the normalisation: min-max, z-score or rank;
* the aggregation: arithmetic or geometric (indicators rescaled to [1, 100] first);
* outlier treatment on or off.

The reference-year indicator matrix of every (treatment, normalisation, aggregation)
combination is computed once by the engine; a draw then only re-aggregates. Draws sharing a
combination are aggregated together with matrix products (regions x indicators times
indicators x draws), in chunks, so 10,000 draws over ~280 regions take seconds. Given a
``scheduler`` (an address or a :class:`distributed.Client`), the chunks run on that
dask.distributed cluster (:func:`eocic.scheduler.map_chunks`: inputs scattered once, one task
per chunk, results in order); the draws are sampled here in any case, so the ranks are
identical, byte for byte, to those computed on this machine.

Outputs: for every region and tracked node (index and dimensions), the median rank and the
5-95 % rank interval over draws. Same seed, same draws, same results.

Which assumption drives the rank variance is the Sobol analysis of
:mod:`eocic.scoreboard.sensitivity` (first-order and total indices with bootstrap intervals
over weights, normalisation, aggregation, treatment on/off and its scope (by year or pooled),
imputation, indicator removal and the data threshold), which reuses this module's aggregation
and ranking; it replaced the first-order shares of the discrete choices this module computed
from the Monte Carlo draws.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from eocic import scheduler as scheduler_module
from eocic.scoreboard.ranks import rank_columns
from eocic.scoreboard import normalisation as normalisation_module
from eocic.scoreboard.engine import Scoreboard

if TYPE_CHECKING:
    import distributed


@dataclasses.dataclass(frozen=True)
class UncertaintySpec:
    """The uncertain assumptions and the Monte Carlo size."""

    draws: int = 10_000
    weight_noise: float = 0.25
    normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")
    treatments: tuple[bool, ...] = (True, False)
    seed: int = 12345

    def __post_init__(self):
        if self.draws < 1:
            raise ValueError("draws must be >= 1")
        if not 0 <= self.weight_noise < 1:
            raise ValueError("weight_noise must be in [0, 1) so weights stay > 0")


@dataclasses.dataclass
class Inputs:
    """Everything a draw needs, precomputed from a :class:`Scoreboard` (reference year)."""

    regions: list[str]
    indicator_codes: list[str]
    group_codes: list[str]  # bottom-up
    children: dict[str, list[str]]
    base_weights: dict[str, float]
    matrices: dict[tuple[bool, str, str], np.ndarray]  # (treat, norm, agg) -> regions x ind.
    data_threshold: float
    tracked: list[str]  # index code first, then dimensions

    @property
    def nodes(self) -> list[str]:
        return self.indicator_codes + self.group_codes


@dataclasses.dataclass
class Draws:
    """The sampled assumptions: one entry per draw."""

    treatment: np.ndarray  # bool (D,)
    normalisation: np.ndarray  # index into spec.normalisations (D,)
    aggregation: np.ndarray  # index into spec.aggregations (D,)
    weights: np.ndarray  # (D, nodes) in Inputs.nodes order


def prepare_inputs(scoreboard: Scoreboard, spec: UncertaintySpec) -> Inputs:
    """Reference-year matrices for every combination of the discrete assumptions."""
    framework = scoreboard.framework
    year = scoreboard.year
    codes = scoreboard.indicator_codes
    regions = scoreboard.regions
    matrices = {}
    for treat in spec.treatments:
        data = scoreboard.treated if treat and scoreboard.settings.treat else None
        if data is None:
            data = scoreboard.rerun(treat=True).treated if treat else scoreboard.imputed
        for method in spec.normalisations:
            normalised = normalisation_module.normalise(data, scoreboard.directions, method)
            for how in spec.aggregations:
                ready = (normalisation_module.rescale_positive(normalised)
                         if how == "geometric" else normalised)
                matrices[(treat, method, how)] = (
                    ready.xs(year, level="year").reindex(regions)[codes].to_numpy(float))
    groups = framework.groups_bottom_up()
    return Inputs(
        regions=regions, indicator_codes=list(codes), group_codes=groups,
        children={g: framework.children(g) for g in groups},
        base_weights={c: framework.weight_of(c) for c in list(codes) + groups},
        matrices=matrices, data_threshold=scoreboard.settings.data_threshold,
        tracked=[framework.code] + framework.dimensions())


def sample_draws(inputs: Inputs, spec: UncertaintySpec) -> Draws:
    """Sample the assumptions of ``spec.draws`` draws with ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(spec.seed)
    n = spec.draws
    treatment = np.asarray(spec.treatments)[rng.integers(0, len(spec.treatments), n)]
    norm = rng.integers(0, len(spec.normalisations), n)
    agg = rng.integers(0, len(spec.aggregations), n)
    base = np.array([inputs.base_weights[c] for c in inputs.nodes])
    noise = rng.uniform(-1.0, 1.0, size=(n, base.size))
    weights = base[None, :] * (1 + spec.weight_noise * noise)
    return Draws(treatment.astype(bool), norm, agg, weights)


def _aggregate_block(inputs: Inputs, matrix: np.ndarray, weights: np.ndarray,
                     geometric: bool, kept: np.ndarray | None = None,
                     data_thresholds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Scores (regions x draws) of every group for draws sharing one matrix.

    ``kept`` (draws x nodes, bool; None = all kept) removes indicators draw by draw exactly as
    :meth:`IndexFramework.without` does: a removed indicator has no weight and does not count
    as a child, a group left with no kept child is pruned (no score, not counted as a child of
    its parent). ``data_thresholds`` (draws,; None = ``inputs.data_threshold``) is the data
    threshold of each draw.

    An indicator with no value for any region in ``matrix`` (an imputation alternative without
    carry-forward, for an indicator whose latest values predate the reference year) is out of
    every draw of the matrix, as if removed: screening would take it out of a scoreboard built
    that way, and kept it would count as a missing child of every region alike, so that a data
    threshold could leave no region with a score.
    """
    node_index = {code: k for k, code in enumerate(inputs.nodes)}
    indicator_position = {code: k for k, code in enumerate(inputs.indicator_codes)}
    present = ~np.isnan(matrix)
    unmeasured = [node_index[code] for code, column in indicator_position.items()
                  if not present[:, column].any()]
    if unmeasured:
        kept = (np.ones((weights.shape[0], len(inputs.nodes)), dtype=bool) if kept is None
                else kept.astype(bool).copy())
        kept[:, unmeasured] = False
    if geometric:
        with np.errstate(divide="ignore", invalid="ignore"):
            base = np.where(present, np.log(matrix), 0.0)
    else:
        base = np.where(present, matrix, 0.0)
    n_regions, n_draws = matrix.shape[0], weights.shape[0]
    if kept is not None:
        kept = kept.astype(bool).copy()
        weights = np.where(kept, weights, 0.0)
    threshold = (inputs.data_threshold if data_thresholds is None
                 else np.asarray(data_thresholds, dtype=float)[None, :])
    scores: dict[str, np.ndarray] = {}
    for group in inputs.group_codes:
        children = inputs.children[group]
        numerator = np.zeros((n_regions, n_draws))
        denominator = np.zeros((n_regions, n_draws))
        count = np.zeros((n_regions, n_draws))
        leaf = [c for c in children if c in indicator_position]
        if leaf:
            columns = [indicator_position[c] for c in leaf]
            leaf_nodes = [node_index[c] for c in leaf]
            w = weights[:, leaf_nodes].T  # (k, D)
            numerator += base[:, columns] @ w
            denominator += present[:, columns].astype(float) @ w
            if kept is None:
                count += present[:, columns].sum(axis=1, keepdims=True)
            else:
                count += present[:, columns].astype(float) @ kept[:, leaf_nodes].T
        for child in children:
            if child in indicator_position:
                continue
            values = scores[child]
            available = ~np.isnan(values)
            w = weights[:, node_index[child]][None, :]
            if geometric:
                with np.errstate(divide="ignore", invalid="ignore"):
                    contribution = np.where(available, np.log(values), 0.0)
            else:
                contribution = np.where(available, values, 0.0)
            numerator += contribution * w
            denominator += available * w
            count += available
        if kept is None:
            n_children = len(children)
        else:
            kept_children = kept[:, [node_index[c] for c in children]].sum(axis=1)
            kept[:, node_index[group]] = kept_children > 0
            n_children = np.maximum(kept_children, 1)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = numerator / denominator
        if geometric:
            mean = np.exp(mean)
        mean[(count / n_children < threshold - 1e-12) | (denominator == 0)] = np.nan
        scores[group] = mean
    return scores


def _tracked_ranks(inputs: Inputs, key: tuple[bool, str, str], weights: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Ranks (regions x draws, float32) of every tracked node for one chunk of draws sharing
    the matrix ``key`` = (treatment, normalisation, aggregation)."""
    scores = _aggregate_block(inputs, inputs.matrices[key], weights, key[2] == "geometric")
    return {code: rank_columns(scores[code]).astype(np.float32) for code in inputs.tracked}


def simulate(inputs: Inputs, draws: Draws, spec: UncertaintySpec, chunk: int = 2000,
             client: distributed.Client | None = None) -> dict[str, np.ndarray]:
    """Ranks (regions x draws, float32) of every tracked node, vectorised by combination.

    Draws sharing a combination are aggregated in chunks of at most ``chunk`` draws; with a
    ``client`` the chunks run on its dask.distributed cluster
    (:func:`eocic.scheduler.map_chunks`), with the same result, byte for byte.
    """
    n_draws = draws.weights.shape[0]
    blocks, chunks = [], []
    for treat, norm, agg in itertools.product(spec.treatments, range(len(spec.normalisations)),
                                              range(len(spec.aggregations))):
        selected = np.flatnonzero((draws.treatment == treat) & (draws.normalisation == norm)
                                  & (draws.aggregation == agg))
        if selected.size == 0:
            continue
        key = (treat, spec.normalisations[norm], spec.aggregations[agg])
        for start in range(0, selected.size, chunk):
            block = selected[start:start + chunk]
            blocks.append(block)
            chunks.append((key, draws.weights[block]))
    ranks = {code: np.full((len(inputs.regions), n_draws), np.nan, dtype=np.float32)
             for code in inputs.tracked}
    for block, block_ranks in zip(blocks, scheduler_module.map_chunks(_tracked_ranks, inputs,
                                                                      chunks, client)):
        for code in inputs.tracked:
            ranks[code][:, block] = block_ranks[code]
    return ranks


def rank_summary(inputs: Inputs, ranks: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per region and tracked node: rank_median, rank_p05, rank_p95, draws_with_rank."""
    frames = []
    for code, matrix in ranks.items():
        with np.errstate(all="ignore"):
            valid = (~np.isnan(matrix)).sum(axis=1)
            quantiles = np.full((matrix.shape[0], 3), np.nan)
            rows = valid > 0
            if rows.any():
                quantiles[rows] = np.nanpercentile(matrix[rows], [50, 5, 95], axis=1).T
        frames.append(pd.DataFrame(dict(geo=inputs.regions, code=code,
                                        rank_median=quantiles[:, 0], rank_p05=quantiles[:, 1],
                                        rank_p95=quantiles[:, 2], draws_with_rank=valid)))
    return pd.concat(frames, ignore_index=True)


@dataclasses.dataclass
class UncertaintyResult:
    """Monte Carlo output: rank summary, raw ranks and the draws."""

    summary: pd.DataFrame
    ranks: dict[str, np.ndarray]
    draws: Draws
    inputs: Inputs
    spec: UncertaintySpec


def run_uncertainty(scoreboard: Scoreboard, spec: UncertaintySpec | None = None,
                    scheduler: str | distributed.Client | None = None) -> UncertaintyResult:
    """Monte Carlo uncertainty analysis of a scoreboard's reference-year ranks.

    ``scheduler``: where the draws are ranked (:func:`eocic.scheduler.client_for`): None or
    ``''`` = this machine, an address such as ``"tcp://10.0.0.5:8786"`` (connected for this
    call) or a :class:`distributed.Client`. The result is the same wherever the draws go.
    """
    spec = spec or UncertaintySpec()
    inputs = prepare_inputs(scoreboard, spec)
    draws = sample_draws(inputs, spec)
    with scheduler_module.client_for(scheduler) as client:
        ranks = simulate(inputs, draws, spec, client=client)
    summary = rank_summary(inputs, ranks)
    nominal = scoreboard.scores()
    nominal = nominal[(nominal["year"] == scoreboard.year)
                      & nominal["code"].isin(inputs.tracked)][["geo", "code", "rank"]]
    summary = summary.merge(nominal.rename(columns={"rank": "nominal_rank"}),
                            on=["geo", "code"], how="left")
    return UncertaintyResult(summary, ranks, draws, inputs, spec)
