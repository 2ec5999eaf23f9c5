"""Variance-based (Sobol) sensitivity of the scoreboard ranks: first-order and total indices.

Which assumption of the scoreboard moves the ranks most, alone (first order S_i) and with its
interactions (total effect S_T,i)? The answer of Saisana, Saltelli & Tarantola (2005) and of
COINr ``get_sensitivity(SA_type = "SA")``, vectorised.

Uncertain input factors (:data:`FACTORS`; any subset may be chosen, the others stay at the
nominal choice of the scoreboard):

``indicator weights``  every indicator weight w becomes w (1 + f (2u - 1)), u ~ U(0, 1) per
                       indicator, f = ``weight_noise`` (0.25, COINr ``get_noisy_weights``). The
                       vector of all indicator weights is ONE factor (a group of inputs, whose
                       group indices the same estimators give, Jansen 1999).
``group weights``      the same for the weights of the sub-dimensions and dimensions.
``normalisation``      one of ``normalisations`` (min-max, z-score, rank).
``aggregation``        arithmetic or geometric (indicators rescaled to [1, 100] first).
``outlier treatment``  on or off (the engine's treatment, whatever its settings).
``treatment scope``    one of ``treatment_scopes``: each year's regions treated on their own
                       (``by_year``, COINr) or all regions and years at once (``pooled``), see
                       :mod:`eocic.scoreboard.treatment`. It acts only in runs where the
                       treatment is on; with the treatment off it cannot move a rank, so its
                       indices then measure its interaction with the on/off factor.
``imputation``         one of ``imputations``, pairs (carry-forward window in years, same-country
                       mean yes/no); (0, False) = no imputation, aggregation over the available
                       indicators only. Screening is kept as in the nominal scoreboard, so every
                       run scores the same indicators.
``removed indicator``  none, or one of the K indicators: K + 1 equally likely levels. The
                       framework then loses that indicator exactly as
                       :meth:`IndexFramework.without` prunes it (a group left empty is dropped).
``data threshold``     the minimum share of a group's children with a value (COINr
                       ``dat_thresh``), one of ``data_thresholds``.

Indicator removal is ONE discrete factor, as in COINr (its vignette varies "exclude one
indicator" as one input), not one binary factor per indicator: with ~40 indicators binary factors
would make d ~ 46, so N (d + 2) ~ 48 N model runs instead of 10 N, and a fair coin per indicator
would remove half the framework in a typical run, which no analyst would call a plausible
variant of the index. The price: S_i of the factor says how much the choice of the removed
indicator matters, not which indicator; :attr:`SensitivityResult.removal` gives the mean
absolute rank change with each indicator removed (from the A and B runs).

The treatment's own choices (winsorisation up to ``winmax`` points, then the log transform
named by the engine's ``log_transform``) stay as the scoreboard sets them: on/off and the scope
are the treatment's factors. Its thresholds are COINr's defaults, not judgements an analyst
varies, and a second log form would be a further factor (``log_CT`` vs ``log_CT_plus`` differ
only on negatively skewed indicators).

Discrete factors are sampled as in COINr ``sample_2_para``: a uniform u in [0, 1) picks level
floor(u L) of L equally likely levels.

Design (Saltelli et al. 2010, section 3; COINr ``SA_sample``): two independent N x d sample
matrices A and B; A_B^(i) is A with its i-th factor (all columns of a group) taken from B. The
model runs on A, B and the d matrices A_B^(i): N (d + 2) runs in that order.

Estimators for an output Y (Saltelli et al. 2010, table 2; COINr ``SA_estimate``):

    V(Y)   = variance of the 2N values f(A), f(B) (divisor 2N)
    V_i    = (1/N) sum_j f(B)_j (f(A_B^(i))_j - f(A)_j)          (Saltelli 2010, table 2 (b))
    V_T,i  = (1/2N) sum_j (f(A)_j - f(A_B^(i))_j)^2               (Jansen 1999; table 2 (f))
    S_i = V_i / V(Y),  S_T,i = V_T,i / V(Y)

Y is centred on the mean of f(A) and f(B) before V_i is estimated (V_i is unchanged in
expectation; the estimator's variance falls when the output is far from 0, as ranks are).
Estimates are Monte Carlo estimates: S_i may come out slightly below 0 and S_T,i < S_i for
factors that hardly matter; they are reported as estimated, with their interval.

Confidence intervals: percentile bootstrap over the N rows j (Archer, Saltelli & Sobol 1997):
the same resampled rows for A, B and every A_B^(i), V(Y) re-estimated on each resample;
``n_boot`` resamples (default 1000), interval ``confidence`` (default 0.95; COINr reports 5-95 %).
The resampling is a matrix product (counts x terms), so 1000 resamples over 280 regions cost
about a second.

Outputs (as COINr, plus the per-region view the issue asks for):

* the mean absolute rank change of the index against the nominal scoreboard,
  (1/R) sum_r |rank_r - nominal rank_r| over regions ranked in both (COINr's target);
* each region's index rank: S_i, S_T,i per region, and pooled over regions as
  sum_r V_i,r / sum_r V_r (the share of all rank variance). A region left without an index score
  in some run (data threshold, removal, no imputation) has no per-region indices (NaN) and is
  left out of the pooled ones; ``runs_with_rank`` says how often it was ranked. A region whose
  rank never moves has V_r = 0 and NaN indices.

Ranks: 1 = highest index score; tied regions share the lowest rank of the tie
(:func:`eocic.scoreboard.ranks.rank_columns`, the one rule, as COINr). The vectorised aggregation
of :mod:`eocic.scoreboard.uncertainty` is reused:
runs sharing (imputation, treatment, treatment scope, normalisation, aggregation) are aggregated
together by matrix products, removal and data threshold vary run by run inside the product.

Chunks on a cluster: with a ``scheduler`` (an address or a :class:`distributed.Client`),
:func:`evaluate` sends its chunks of runs to the dask.distributed cluster
(:func:`eocic.scheduler.map_chunks`: inputs scattered once, one task per chunk, results in
order). The design is sampled here in any case, so the ranks are identical, byte for byte, to
those computed on this machine.

Same seed, same sample, same results.

References: Saltelli A., Annoni P., Azzini I., Campolongo F., Ratto M., Tarantola S. (2010),
"Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index", Computer Physics Communications 181(2), 259-270,
doi:10.1016/j.cpc.2009.09.018. Jansen M.J.W. (1999), "Analysis of variance designs for model
output", Computer Physics Communications 117, 35-43. Saisana M., Saltelli A., Tarantola S.
(2005), "Uncertainty and sensitivity analysis techniques as tools for the quality assessment of
composite indicators", JRSS A 168(2), 307-323, doi:10.1111/j.1467-985X.2005.00350.x. Archer
G.E.B., Saltelli A., Sobol I.M. (1997), J. Statist. Comput. Simul. 58, 99-120. Becker W. et al.,
COINr ``R/sensitivity.R`` (``get_sensitivity``, ``SA_sample``, ``SA_estimate``).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from eocic import scheduler as scheduler_module
from eocic.errors import EocicError
from eocic.scoreboard.ranks import rank_columns
from eocic.scoreboard import normalisation as normalisation_module
from eocic.scoreboard import treatment as treatment_module
from eocic.scoreboard import uncertainty
from eocic.scoreboard.engine import Scoreboard

if TYPE_CHECKING:
    import distributed

FACTORS = ("indicator weights", "group weights", "normalisation", "aggregation",
           "outlier treatment", "treatment scope", "imputation", "removed indicator",
           "data threshold")


class SensitivityError(EocicError, ValueError):
    """The sensitivity analysis cannot run as specified; the message names the fix."""


@dataclasses.dataclass(frozen=True)
class SensitivitySpec:
    """The uncertain factors, their alternatives and the sample size.

    Attributes
    ----------
    n : int
        Base sample size N (>= 2); the model runs N (d + 2) times, d = number of factors.
    factors : tuple of str
        Factors varied (a subset of :data:`FACTORS`, at least 2); the others stay nominal.
    weight_noise : float
        Half-width f of the multiplicative weight noise, in [0, 1).
    normalisations, aggregations, treatments, treatment_scopes, imputations, data_thresholds
        The equally likely alternatives of each discrete factor. ``treatments`` are on/off
        (True/False), ``treatment_scopes`` names of
        :data:`eocic.scoreboard.treatment.TREATMENT_SCOPES`; ``imputations`` holds pairs
        (carry-forward window in years >= 0, same-country mean); thresholds lie in [0, 1].
    n_boot : int
        Bootstrap resamples for the intervals (0 = no intervals).
    confidence : float
        Coverage of the percentile intervals, in (0, 1).
    seed : int
    """

    n: int = 1000
    factors: tuple[str, ...] = FACTORS
    weight_noise: float = 0.25
    normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")
    treatments: tuple[bool, ...] = (True, False)
    treatment_scopes: tuple[str, ...] = treatment_module.TREATMENT_SCOPES
    imputations: tuple[tuple[int, bool], ...] = ((2, True), (2, False), (0, True), (0, False))
    data_thresholds: tuple[float, ...] = (0.5, 2 / 3, 0.75)
    n_boot: int = 1000
    confidence: float = 0.95
    seed: int = 12345

    def __post_init__(self):
        if self.n < 2:
            raise SensitivityError(f"n = {self.n}: the base sample needs at least 2 rows "
                                   "(1000 is usual)")
        unknown = [f for f in self.factors if f not in FACTORS]
        if unknown:
            raise SensitivityError(f"unknown sensitivity factors {unknown}; use names from "
                                   f"{list(FACTORS)}")
        if len(set(self.factors)) != len(self.factors):
            raise SensitivityError(f"factors {list(self.factors)} name a factor twice")
        if len(self.factors) < 2:
            raise SensitivityError("a sensitivity analysis needs at least 2 factors (with one, "
                                   "its index is 1 by definition); use the Monte Carlo "
                                   "uncertainty analysis instead")
        if not 0 <= self.weight_noise < 1:
            raise SensitivityError(f"weight_noise = {self.weight_noise} must be in [0, 1) so "
                                   "weights stay > 0")
        for name in ("normalisations", "aggregations", "treatments", "treatment_scopes",
                     "imputations", "data_thresholds"):
            if not getattr(self, name):
                raise SensitivityError(f"{name} is empty; give at least one alternative")
        bad = [m for m in self.normalisations if m not in normalisation_module.NORMALISATIONS]
        if bad:
            raise SensitivityError(f"unknown normalisations {bad}; use "
                                   f"{list(normalisation_module.NORMALISATIONS)}")
        bad = [a for a in self.aggregations if a not in ("arithmetic", "geometric")]
        if bad:
            raise SensitivityError(f"unknown aggregations {bad}; use arithmetic or geometric")
        bad = [t for t in self.treatment_scopes if t not in treatment_module.TREATMENT_SCOPES]
        if bad:
            raise SensitivityError(f"unknown treatment scopes {bad}; use "
                                   f"{list(treatment_module.TREATMENT_SCOPES)}")
        for window, parent in self.imputations:
            if int(window) != window or window < 0 or not isinstance(parent, bool):
                raise SensitivityError(f"imputation {(window, parent)!r}: give (window in whole "
                                       "years >= 0, True/False for the same-country mean)")
        bad = [t for t in self.data_thresholds if not 0 <= t <= 1]
        if bad:
            raise SensitivityError(f"data thresholds {bad} must lie in [0, 1]")
        if self.n_boot < 0:
            raise SensitivityError(f"n_boot = {self.n_boot} must be >= 0")
        if not 0 < self.confidence < 1:
            raise SensitivityError(f"confidence = {self.confidence} must be in (0, 1), "
                                   "e.g. 0.95")


# -- the generic design and estimators -------------------------------------------------------
def saltelli_design(widths: list[int], n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Saltelli design for d factors of the given widths (columns per factor, >= 1).

    Returns one U(0, 1) array of shape (N (d + 2), width) per factor, rows in the order
    A (N), B (N), A_B^(1) (N), ..., A_B^(d) (N), where A_B^(i) is A with factor i from B.
    """
    d = len(widths)
    total = sum(widths)
    both = rng.random((n, 2 * total))
    a, b = both[:, :total], both[:, total:]
    bounds = np.cumsum([0] + list(widths))
    columns = []
    for i in range(d):
        part = slice(bounds[i], bounds[i + 1])
        blocks = [a[:, part], b[:, part]]
        blocks += [b[:, part] if k == i else a[:, part] for k in range(d)]
        columns.append(np.concatenate(blocks, axis=0))
    return columns


@dataclasses.dataclass
class SobolEstimate:
    """First-order and total indices with bootstrap intervals, shape (d, outputs).

    ``variance`` is V(Y) per output (outputs,). Pooled estimates have one output.
    """

    first_order: np.ndarray
    first_order_low: np.ndarray
    first_order_high: np.ndarray
    total: np.ndarray
    total_low: np.ndarray
    total_high: np.ndarray
    variance: np.ndarray


def _resampling_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(1 + n_boot, n): row 0 = 1/n each (the estimate), then bootstrap counts / n."""
    weights = np.empty((1 + n_boot, n))
    weights[0] = 1.0 / n
    if n_boot:
        draws = rng.integers(0, n, size=(n_boot, n))
        flat = (draws + n * np.arange(n_boot)[:, None]).ravel()
        weights[1:] = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n) / n
    return weights


def _resampled_partial_variances(outputs: np.ndarray, n: int, d: int, n_boot: int, seed: int
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """V_i, V_T,i (1 + n_boot, d, m) and V(Y) (1 + n_boot, m); row 0 = the estimate."""
    y = np.asarray(outputs, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != n * (d + 2):
        raise SensitivityError(f"{y.shape[0]} outputs do not match a design of N = {n} and "
                               f"d = {d} factors, which has N (d + 2) = {n * (d + 2)} runs")
    if np.isnan(y).any():
        raise SensitivityError("model outputs contain NaN; drop those outputs (regions) first")
    m = y.shape[1]
    y = y - y[:2 * n].mean(axis=0, keepdims=True)
    y_a, y_b = y[:n], y[n:2 * n]
    y_ab = y[2 * n:].reshape(d, n, m)
    first_terms = (y_b[None] * (y_ab - y_a[None])).transpose(1, 0, 2).reshape(n, d * m)
    total_terms = (0.5 * (y_a[None] - y_ab) ** 2).transpose(1, 0, 2).reshape(n, d * m)
    resample = _resampling_weights(n, n_boot, np.random.default_rng(seed))
    partial_first = (resample @ first_terms).reshape(-1, d, m)
    partial_total = (resample @ total_terms).reshape(-1, d, m)
    mean = resample @ (0.5 * (y_a + y_b))
    variance = resample @ (0.5 * (y_a ** 2 + y_b ** 2)) - mean ** 2
    return partial_first, partial_total, variance


def _indices(partial_first: np.ndarray, partial_total: np.ndarray, variance: np.ndarray,
             confidence: float) -> SobolEstimate:
    """Ratios to V(Y) and percentile intervals over the bootstrap rows (if any)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        usable = variance > 1e-12 * max(1.0, float(np.abs(variance).max(initial=0.0)))
        scale = np.where(usable, variance, np.nan)[:, None, :]
        first = partial_first / scale
        total = partial_total / scale
    tail = (1 - confidence) / 2
    bounds = []
    for boot in (first[1:], total[1:]):
        if not len(boot):
            bounds += [np.full_like(first[0], np.nan)] * 2
        elif np.isnan(boot).any():
            with warnings.catch_warnings():  # outputs with no usable resample stay NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                bounds += list(np.nanquantile(boot, [tail, 1 - tail], axis=0))
        else:
            bounds += list(np.quantile(boot, [tail, 1 - tail], axis=0))
    return SobolEstimate(first[0], bounds[0], bounds[1], total[0], bounds[2], bounds[3],
                         variance[0])


def sobol_indices(outputs: np.ndarray, n: int, d: int, n_boot: int = 1000,
                  confidence: float = 0.95, seed: int = 0, pooled: bool = False
                  ) -> SobolEstimate:
    """S_i (Saltelli 2010) and S_T,i (Jansen) from runs on a :func:`saltelli_design`.

    Parameters
    ----------
    outputs : array (N (d + 2),) or (N (d + 2), m)
        Model outputs in design order; no NaN.
    pooled : bool
        Sum the partial variances and V(Y) over the m outputs before dividing
        (sum_r V_i,r / sum_r V_r), giving one estimate.

    An output with V(Y) = 0 gets NaN indices. See the module docstring for the formulas.
    """
    each, pooled_estimate = sobol_indices_each_and_pooled(outputs, n, d, n_boot, confidence,
                                                          seed)
    return pooled_estimate if pooled else each


def sobol_indices_each_and_pooled(outputs: np.ndarray, n: int, d: int, n_boot: int = 1000,
                                  confidence: float = 0.95, seed: int = 0
                                  ) -> tuple[SobolEstimate, SobolEstimate]:
    """:func:`sobol_indices` per output and pooled, from one set of resampled sums."""
    partial_first, partial_total, variance = _resampled_partial_variances(outputs, n, d,
                                                                          n_boot, seed)
    each = _indices(partial_first, partial_total, variance, confidence)
    pooled = _indices(partial_first.sum(axis=2, keepdims=True),
                      partial_total.sum(axis=2, keepdims=True),
                      variance.sum(axis=1, keepdims=True), confidence)
    return each, pooled


# -- the scoreboard as a model ---------------------------------------------------------------
@dataclasses.dataclass
class SensitivityInputs:
    """Everything a run needs, precomputed from a :class:`Scoreboard` (reference year)."""

    structure: uncertainty.Inputs  # tree, base weights, nominal data threshold
    levels: dict[str, tuple]  # discrete factor -> alternatives (one = fixed at nominal)
    # (imputation, treatment, treatment scope, normalisation, aggregation) level indices ->
    # regions x indicators; combinations that cannot differ share one array
    matrices: dict[tuple[int, int, int, int, int], np.ndarray]
    nominal_ranks: np.ndarray  # (regions,), NaN = no index score
    index_code: str


def _nominal_levels(scoreboard: Scoreboard) -> dict[str, tuple]:
    settings = scoreboard.settings
    return {"normalisation": (settings.normalisation,),
            "aggregation": (settings.aggregation,),
            "outlier treatment": (settings.treat,),
            "treatment scope": (settings.treatment_scope,),
            "imputation": ((settings.impute_window, settings.impute_parent),),
            "removed indicator": (None,),
            "data threshold": (settings.data_threshold,)}


def _imputation_variant(scoreboard: Scoreboard, window: int, parent: bool, treat: bool,
                        scope: str) -> Scoreboard:
    """The scoreboard with its imputation and treatment stages re-run with other choices
    (``scope``: the treatment scope, by_year or pooled).

    The engine's own stage methods run on a shallow copy (they assign new frames, never edit
    the shared ones), so sources and screening stay those of the nominal scoreboard: about 0.15 s
    instead of 2 s for a full rebuild on the demo, and exactly the nominal indicators.
    """
    settings = scoreboard.settings
    if (window, parent, treat, scope) == (settings.impute_window, settings.impute_parent,
                                          settings.treat, settings.treatment_scope):
        return scoreboard
    variant = copy.copy(scoreboard)
    variant.settings = dataclasses.replace(settings, impute_window=window,
                                           impute_parent=parent, treat=treat,
                                           treatment_scope=scope)
    variant._impute()
    variant._treat()
    return variant


def prepare_inputs(scoreboard: Scoreboard, spec: SensitivitySpec) -> SensitivityInputs:
    """Reference-year matrices of every (imputation, treatment, treatment scope,
    normalisation, aggregation).

    Each (imputation, treatment, scope) re-runs the engine's imputation and treatment stages
    (:func:`_imputation_variant`; screening stays nominal, so every run scores the nominal
    indicators); normalisation and the [1, 100] rescaling for geometric means are the engine's
    functions. Without treatment the scope cannot matter: those combinations are computed once
    and share their arrays.
    """
    codes = list(scoreboard.indicator_codes)
    if "removed indicator" in spec.factors and len(codes) < 2:
        raise SensitivityError(f"{scoreboard.framework.code}: only {len(codes)} indicator "
                               "survives screening; removing it leaves no index. Drop "
                               "'removed indicator' from the factors")
    levels = _nominal_levels(scoreboard)
    varied = {"normalisation": spec.normalisations, "aggregation": spec.aggregations,
              "outlier treatment": spec.treatments,
              "treatment scope": spec.treatment_scopes,
              "imputation": tuple((int(w), bool(p)) for w, p in spec.imputations),
              "removed indicator": (None, *codes), "data threshold": spec.data_thresholds}
    for factor, alternatives in varied.items():
        if factor in spec.factors:
            levels[factor] = tuple(alternatives)
    year, regions = scoreboard.year, scoreboard.regions
    matrices = {}
    computed: dict[tuple, np.ndarray] = {}  # (window, parent, treat, scope, norm, agg) -> array
    for i_imp, (window, parent) in enumerate(levels["imputation"]):
        for i_treat, treat in enumerate(levels["outlier treatment"]):
            for i_scope, scope in enumerate(levels["treatment scope"]):
                scope = scope if treat else scoreboard.settings.treatment_scope  # inert
                variant = None
                for i_norm, method in enumerate(levels["normalisation"]):
                    for i_agg, how in enumerate(levels["aggregation"]):
                        same = (window, parent, treat, scope, method, how)
                        if same not in computed:
                            if variant is None:
                                variant = _imputation_variant(scoreboard, window, parent, treat,
                                                              scope)
                            normalised = normalisation_module.normalise(
                                variant.treated, variant.directions, method)
                            ready = (normalisation_module.rescale_positive(normalised)
                                     if how == "geometric" else normalised)
                            computed[same] = (ready.xs(year, level="year").reindex(regions)
                                              [codes].to_numpy(float))
                        matrices[(i_imp, i_treat, i_scope, i_norm, i_agg)] = computed[same]
    framework = scoreboard.framework
    groups = framework.groups_bottom_up()
    structure = uncertainty.Inputs(
        regions=regions, indicator_codes=codes, group_codes=groups,
        children={g: framework.children(g) for g in groups},
        base_weights={c: framework.weight_of(c) for c in codes + groups},
        matrices={}, data_threshold=scoreboard.settings.data_threshold,
        tracked=[framework.code])
    nominal = scoreboard.aggregated[framework.code].xs(year, level="year").reindex(regions)
    nominal_ranks = rank_columns(nominal.to_numpy(float)[:, None])[:, 0]
    return SensitivityInputs(structure, levels, matrices, nominal_ranks.astype(float),
                             framework.code)


@dataclasses.dataclass
class Runs:
    """The N (d + 2) runs decoded from the design: weights and a level index per factor."""

    weights: np.ndarray  # (runs, nodes) in structure.nodes order
    level: dict[str, np.ndarray]  # discrete factor -> level index (runs,)

    @property
    def count(self) -> int:
        return self.weights.shape[0]


def _factor_widths(inputs: SensitivityInputs, spec: SensitivitySpec) -> list[int]:
    structure = inputs.structure
    widths = {"indicator weights": len(structure.indicator_codes),
              "group weights": len(structure.group_codes)}
    return [widths.get(factor, 1) for factor in spec.factors]


def sample_runs(inputs: SensitivityInputs, spec: SensitivitySpec) -> Runs:
    """Saltelli design of ``spec.factors`` decoded into weights and levels (seeded)."""
    structure = inputs.structure
    design = saltelli_design(_factor_widths(inputs, spec), spec.n,
                             np.random.default_rng(spec.seed))
    sample = dict(zip(spec.factors, design))
    count = spec.n * (len(spec.factors) + 2)
    base = np.array([structure.base_weights[c] for c in structure.nodes])
    noise = np.zeros((count, base.size))
    n_indicators = len(structure.indicator_codes)
    if "indicator weights" in sample:
        noise[:, :n_indicators] = 2 * sample["indicator weights"] - 1
    if "group weights" in sample:
        noise[:, n_indicators:] = 2 * sample["group weights"] - 1
    weights = base[None, :] * (1 + spec.weight_noise * noise)
    level = {}
    for factor, alternatives in inputs.levels.items():
        if factor in sample:
            level[factor] = np.minimum((sample[factor][:, 0] * len(alternatives)).astype(int),
                                       len(alternatives) - 1)
        else:
            level[factor] = np.zeros(count, dtype=int)
    return Runs(weights, level)


def _index_ranks(inputs: SensitivityInputs, key: tuple[int, ...], weights: np.ndarray,
                 kept: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Index ranks (regions x runs, float32) of one chunk of runs sharing the matrix ``key``."""
    geometric = inputs.levels["aggregation"][key[-1]] == "geometric"
    scores = uncertainty._aggregate_block(inputs.structure, inputs.matrices[key], weights,
                                          geometric, kept, thresholds)
    return rank_columns(scores[inputs.index_code]).astype(np.float32)


def evaluate(inputs: SensitivityInputs, runs: Runs, chunk: int = 2000,
             client: distributed.Client | None = None) -> np.ndarray:
    """Index ranks (regions x runs, float32; NaN = no score), vectorised by combination.

    Runs sharing a matrix are evaluated in chunks of at most ``chunk`` runs; with a
    ``client`` the chunks run on its dask.distributed cluster
    (:func:`eocic.scheduler.map_chunks`), with the same result, byte for byte.
    """
    structure = inputs.structure
    n_nodes = len(structure.nodes)
    removed = runs.level["removed indicator"]  # 0 = none, k = indicator k - 1
    kept = np.ones((runs.count, n_nodes), dtype=bool)
    rows = np.flatnonzero(removed > 0)
    kept[rows, removed[rows] - 1] = False
    thresholds = np.asarray(inputs.levels["data threshold"], dtype=float)[
        runs.level["data threshold"]]
    keys = np.stack([runs.level["imputation"], runs.level["outlier treatment"],
                     runs.level["treatment scope"], runs.level["normalisation"],
                     runs.level["aggregation"]], axis=1)
    blocks, chunks = [], []
    for key in inputs.matrices:
        selected = np.flatnonzero((keys == np.array(key)).all(axis=1))
        for start in range(0, selected.size, chunk):
            block = selected[start:start + chunk]
            blocks.append(block)
            chunks.append((key, runs.weights[block], kept[block], thresholds[block]))
    ranks = np.full((len(structure.regions), runs.count), np.nan, dtype=np.float32)
    for block, block_ranks in zip(blocks, scheduler_module.map_chunks(_index_ranks, inputs,
                                                                      chunks, client)):
        ranks[:, block] = block_ranks
    return ranks


def mean_absolute_rank_change(ranks: np.ndarray, nominal_ranks: np.ndarray) -> np.ndarray:
    """(1/R) sum_r |rank_r - nominal_r| per run, over regions ranked in both (runs,)."""
    change = np.abs(ranks - nominal_ranks[:, None])
    counted = (~np.isnan(change)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted > 0, np.nansum(change, axis=0) / counted, np.nan)


@dataclasses.dataclass
class SensitivityResult:
    """Sobol indices of the index ranks (see module docstring).

    ``indices``: output ("mean absolute rank change" or "region ranks (pooled)"), factor,
    alternatives, first_order, first_order_low, first_order_high, total, total_low, total_high.
    ``regions``: geo, factor, nominal_rank, runs_with_rank, rank_variance and the same index
    columns per region. ``removal``: mean absolute rank change with each indicator removed
    (A and B runs). ``ranks`` (regions x runs) and ``outputs`` (runs,) keep the raw runs.
    """

    indices: pd.DataFrame
    regions: pd.DataFrame
    removal: pd.DataFrame
    ranks: np.ndarray
    outputs: np.ndarray
    runs: Runs
    inputs: SensitivityInputs
    spec: SensitivitySpec


_INDEX_COLUMNS = ("first_order", "first_order_low", "first_order_high", "total", "total_low",
                  "total_high")


def _estimate_frame(estimate: SobolEstimate, column: int) -> dict[str, np.ndarray]:
    return {name: getattr(estimate, name)[:, column] for name in _INDEX_COLUMNS}


def run_sensitivity(scoreboard: Scoreboard, spec: SensitivitySpec | None = None,
                    inputs: SensitivityInputs | None = None,
                    scheduler: str | distributed.Client | None = None) -> SensitivityResult:
    """Sobol sensitivity analysis of a scoreboard's reference-year index ranks.

    ``inputs``: the :func:`prepare_inputs` of this scoreboard and spec, if already computed.
    ``scheduler``: where the model runs go (:func:`eocic.scheduler.client_for`): None or ``''``
    = this machine, an address such as ``"tcp://10.0.0.5:8786"`` (connected for this call) or a
    :class:`distributed.Client`. The result is the same wherever the runs go.
    """
    spec = spec or SensitivitySpec()
    inputs = inputs or prepare_inputs(scoreboard, spec)
    runs = sample_runs(inputs, spec)
    with scheduler_module.client_for(scheduler) as client:
        ranks = evaluate(inputs, runs, client=client)
    n, d = spec.n, len(spec.factors)
    outputs = mean_absolute_rank_change(ranks, inputs.nominal_ranks)
    if np.isnan(outputs).any():
        raise SensitivityError(
            f"{inputs.index_code}: {int(np.isnan(outputs).sum())} of {runs.count} runs leave no "
            f"region with an index score in {scoreboard.year}; choose a reference year with more "
            "data or drop the alternatives that empty the index (no imputation, high data "
            "thresholds)")
    seed = spec.seed + 1
    alternatives = [", ".join(map(str, inputs.levels[f])) if f in inputs.levels
                    else f"w (1 +/- {spec.weight_noise:g})" for f in spec.factors]
    on_mean = sobol_indices(outputs, n, d, spec.n_boot, spec.confidence, seed)
    frames = [pd.DataFrame(dict(output="mean absolute rank change", factor=list(spec.factors),
                                alternatives=alternatives, **_estimate_frame(on_mean, 0)))]
    complete = ~np.isnan(ranks).any(axis=1)
    region_rows = pd.DataFrame(dict(geo=np.repeat(inputs.structure.regions, d),
                                    factor=np.tile(spec.factors, len(complete)),
                                    nominal_rank=np.repeat(inputs.nominal_ranks, d),
                                    runs_with_rank=np.repeat((~np.isnan(ranks)).sum(axis=1), d)))
    per_region = {name: np.full((len(complete), d), np.nan) for name in _INDEX_COLUMNS}
    variance = np.full(len(complete), np.nan)
    if complete.any():
        region_ranks = ranks[complete].T.astype(float)
        each, pooled = sobol_indices_each_and_pooled(region_ranks, n, d, spec.n_boot,
                                                     spec.confidence, seed)
        for name in _INDEX_COLUMNS:
            per_region[name][complete] = getattr(each, name).T
        variance[complete] = each.variance
        frames.append(pd.DataFrame(dict(output="region ranks (pooled)",
                                        factor=list(spec.factors), alternatives=alternatives,
                                        **_estimate_frame(pooled, 0))))
    region_rows["rank_variance"] = np.repeat(variance, d)
    for name in _INDEX_COLUMNS:
        region_rows[name] = per_region[name].ravel()
    removed = runs.level["removed indicator"][:2 * n]
    codes = inputs.structure.indicator_codes
    removal = pd.DataFrame(dict(removed=["none" if k == 0 else codes[k - 1] for k in removed],
                                mean_absolute_rank_change=outputs[:2 * n]))
    removal = (removal.groupby("removed", sort=False)["mean_absolute_rank_change"]
               .agg(["count", "mean"]).rename(columns={"count": "runs", "mean":
                                                       "mean_absolute_rank_change"})
               .reindex(["none", *codes]).dropna(subset=["runs"]).reset_index())
    removal["runs"] = removal["runs"].astype(int)
    return SensitivityResult(pd.concat(frames, ignore_index=True), region_rows, removal, ranks,
                             outputs, runs, inputs, spec)
