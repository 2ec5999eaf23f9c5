r"""Few-cluster inference for the pilot DiD: the restricted wild cluster bootstrap and
randomisation inference, each with a p-value and a confidence interval by test inversion.

Why. The pilot DiD has about ten treated clusters (the pilots) among some sixty. Cluster-robust
(CRV1) t-tests with t(G - 1) critical values over-reject when the treated clusters are few
(MacKinnon & Webb 2017, "Wild bootstrap inference for wildly different cluster sizes", J.
Applied Econometrics 32; MacKinnon & Webb 2018, "The wild bootstrap for few (treated)
clusters", Econometrics Journal 21). Notebook 07 shows three answers side by side: CRV1 (from
the estimation engine, :mod:`eocic.models.engine`), the wild cluster bootstrap and
randomisation inference.

Wild cluster bootstrap, restricted (WCR)
----------------------------------------
For a coefficient ``b_j`` and a null value ``b0``: fit the model under ``b_j = b0`` (restricted
residuals ``u~``), draw one weight ``v_g`` per cluster, form ``y* = X b~ + v_g u~`` and the
bootstrap t-statistic of ``b_j - b0`` with the CRV1 variance; the p-value is the share of the
``B`` bootstrap ``|t*|`` strictly above the sample ``|t|`` (Cameron, Gelbach & Miller 2008,
WCR "11" of Roodman, MacKinnon, Nielsen & Webb 2019, "Fast and wild", Stata Journal 19). The
computation is the closed form of Roodman et al. that the ``wildboottest`` package (what
``pyfixest``'s ``Feols.wildboottest()`` calls) implements, vectorised over the draws; with the
same ``seed`` and weights it gives the package's p-value exactly
(``tests/test_pilots_inference.py``). The weights are drawn by the package's own
``wildboottest.weights.draw_weights``.

*Weights*: Webb's six-point distribution (``+-sqrt(1/2), +-1, +-sqrt(3/2)``, Webb 2023,
"Reworking wild bootstrap-based inference for clustered errors", Canadian J. Economics 56)
when clusters are few, Rademacher (``+-1``) otherwise. "Few" (:data:`WEBB_MAX_CLUSTERS`): the
treated or the untreated clusters number at most 12. Reason: with Rademacher weights the
bootstrap t is driven by the sign patterns of the few treated clusters, only ``2^G1``
distinct ones (1,024 for ten pilots), which leaves the p-value coarse and the interval
jumpy; Webb's weights give ``6^G1`` (about 60 million).

*Confidence interval*: ``pyfixest``/``wildboottest`` 0.3 give a p-value only (the package
tests ``b_j = 0``; its ``r`` is fixed at 0). The interval here is the set of ``b0`` the
bootstrap does not reject at level ``1 - level``, found by test inversion: the restricted
residuals are linear in ``b0``, so the bootstrap numerator is linear and the squared
denominator quadratic in ``b0`` for the *same* draws, and ``p(b0)`` is evaluated on a grid
around the estimate and refined by bisection at both ends (the interval is the hull of the
accepted grid points).

Randomisation inference (RI)
----------------------------
Under the sharp null of no effect in any region, the treatment labels are exchangeable among
the regions of the estimation sample. Each draw gives the label "treated" to as many regions
as there are treated regions (pilot-sized sets: the DiD estimate depends on *which* regions
are treated, not on how they group into pilots), re-estimates ``tau`` by the same regression
(Frisch-Waugh-Lovell: the permuted treatment residualised on the fixed effects, all draws at
once as one matrix) and the p-value is ``(1 + #{|tau_perm| >= |tau|}) / (1 + draws)`` (the
actual assignment counts as one draw, so the test has exact size; Fisher 1935, Imbens &
Rubin 2015 ch. 5; MacKinnon & Webb 2020, "Randomization inference for difference-in-
differences with few treated clusters", J. Econometrics 218). The interval inverts the
constant-effect sharp null ``y_rt(1) - y_rt(0) = b0``: ``tau_perm(b0) = tau_perm - b0 c_perm``
with ``c_perm`` the permuted estimate on the actual treatment, again a closed form on a grid.

All draws are seeded (``seed``); the number of draws is stated under every table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import functools

import numpy as np
import scipy.sparse
from threadpoolctl import threadpool_limits

from eocic.errors import EocicError

WEBB_MAX_CLUSTERS = 12
"""Webb weights when the treated or the untreated clusters number at most this many."""

BOOTSTRAP_DRAWS = 9999
"""Default wild-bootstrap draws (B + 1 = 10,000, so a 5 % test has a whole number of rejections)."""

PERMUTATION_DRAWS = 1999
"""Default randomisation-inference draws (plus the actual assignment: 2,000)."""

SEED = 20180101
"""Default seed of the bootstrap weights and of the permutations (the pilot action's start)."""

BLAS_THREADS = 1
"""BLAS threads inside the bootstrap and the permutations. The matrices are small (about
1,500 x 200); with two OpenBLAS threads on a busy 2-core machine a QR factorisation of that
size took 2 s instead of 0.05 s (threads spin-waiting), so one thread is used."""

_GRID_POINTS = 81
_BISECTION_STEPS = 40


class InferenceError(EocicError, ValueError):
    """The bootstrap or the permutation test cannot be run as asked (one cluster, a singular
    design, too few regions to permute, bad settings); the message names the fix."""


def _one_blas_thread(function):
    """Run ``function`` with :data:`BLAS_THREADS` BLAS threads (restored afterwards)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            return function(*args, **kwargs)
    return wrapper


def wild_weights_for(n_treated_clusters: int, n_untreated_clusters: int) -> str:
    """``"webb"`` when the treated or the untreated clusters are few
    (``<= WEBB_MAX_CLUSTERS``), else ``"rademacher"`` (module docstring)."""
    if min(n_treated_clusters, n_untreated_clusters) <= WEBB_MAX_CLUSTERS:
        return "webb"
    return "rademacher"


@dataclasses.dataclass(frozen=True)
class WildBootstrap:
    """Restricted wild cluster bootstrap (WCR11) of one coefficient: two-sided ``p_value`` of
    ``b_j = 0``, the ``level`` interval by test inversion (``nan`` at an end the grid could not
    close), the sample ``t_stat`` (CRV1, ``(N-1)/(N-K) x G/(G-1)``), ``weights``, ``draws``
    (the number actually used: ``2^G`` when Rademacher weights are enumerated), ``seed``,
    ``n_clusters``."""

    p_value: float
    ci_low: float
    ci_high: float
    t_stat: float
    weights: str
    draws: int
    seed: int
    n_clusters: int
    level: float


@dataclasses.dataclass(frozen=True)
class Randomisation:
    """Randomisation inference of one DiD coefficient: the ``estimate``, its p-value
    ``(1 + #{|tau_perm| >= |tau|}) / (1 + draws)``, the ``level`` interval by inverting the
    constant-effect sharp null (``nan`` where not closed), ``draws`` used, ``seed``, the
    ``n_regions`` permuted over and ``n_treated`` labels per draw."""

    estimate: float
    p_value: float
    ci_low: float
    ci_high: float
    draws: int
    seed: int
    n_regions: int
    n_treated: int
    level: float


# --------------------------------------------------------------------------- test inversion

def invert_test(p_of: Callable[[np.ndarray], np.ndarray], estimate: float, scale: float,
                alpha: float) -> tuple[float, float]:
    """The interval ``{b0 : p(b0) > alpha}`` around ``estimate`` (its hull).

    ``p_of`` maps an array of null values to their p-values. A grid of 81 points over
    ``estimate +- w * scale`` (``w`` = 5, doubled up to four times until both ends are
    rejected) locates the ends, bisection refines each to ``1e-12`` of the grid step. An end
    that stays accepted at the widest grid is ``nan`` (the data do not bound it).
    """
    if not (np.isfinite(estimate) and np.isfinite(scale) and scale > 0):
        return float("nan"), float("nan")
    width = 5.0
    for _ in range(5):
        grid = estimate + scale * np.linspace(-width, width, _GRID_POINTS)
        accepted = p_of(grid) > alpha
        if not accepted[0] and not accepted[-1]:
            break
        width *= 2
    if not accepted.any():
        return float("nan"), float("nan")
    index = np.flatnonzero(accepted)
    ends = []
    for inside, outside in ((index[0], index[0] - 1), (index[-1], index[-1] + 1)):
        if outside < 0 or outside >= len(grid):
            ends.append(float("nan"))
            continue
        accept, reject = grid[inside], grid[outside]
        for _ in range(_BISECTION_STEPS):
            middle = (accept + reject) / 2
            if p_of(np.array([middle]))[0] > alpha:
                accept = middle
            else:
                reject = middle
        ends.append(float((accept + reject) / 2))
    return ends[0], ends[1]


# --------------------------------------------------------------------------- wild bootstrap

def _cluster_codes(clusters) -> tuple[np.ndarray, int]:
    # sorted unique labels, the order in which wildboottest assigns the weight rows
    _, codes = np.unique(np.asarray(clusters), return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1


def draw_bootstrap_weights(weights: str, n_clusters: int, draws: int, seed: int) -> np.ndarray:
    """``n_clusters x draws`` weights from ``wildboottest.weights.draw_weights`` (the package
    ``pyfixest`` uses; Rademacher weights are enumerated when ``2^G < draws``)."""
    from wildboottest.weights import draw_weights

    if weights not in ("webb", "rademacher"):
        raise InferenceError(f"bootstrap weights {weights!r}: use 'webb' or 'rademacher'")
    enumerate_all = weights == "rademacher" and 2 ** n_clusters < draws
    matrix, _ = draw_weights(t=weights, full_enumeration=enumerate_all,
                             N_G_bootcluster=n_clusters, boot_iter=draws,
                             rng=np.random.default_rng(seed))
    return np.asarray(matrix, dtype=float)


@_one_blas_thread
def wild_cluster_bootstrap(design: np.ndarray, y: np.ndarray, clusters, columns: list[int], *,
                           weights: str, draws: int = BOOTSTRAP_DRAWS, seed: int = SEED,
                           level: float = 0.95) -> list[WildBootstrap]:
    """WCR11 p-values and intervals of the coefficients ``columns`` of ``y = design b + u``.

    Parameters
    ----------
    design : (N, K) array
        Every regressor, fixed effects as dummy columns; full column rank.
    y : (N,) array
    clusters : (N,) labels
    columns : list of int
        The coefficients to test, each separately (``b_j = 0``), with the same draws.
    weights : ``"webb"`` or ``"rademacher"`` (:func:`wild_weights_for`)
    draws, seed, level : bootstrap draws, seed of the weights, interval level.

    Raises
    ------
    InferenceError
        Fewer than two clusters, fewer than 99 draws, or a singular design (named).
    """
    X = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if not isinstance(draws, (int, np.integer)) or draws < 99:
        raise InferenceError(f"bootstrap draws must be an integer >= 99, got {draws!r}")
    codes, n_clusters = _cluster_codes(clusters)
    if n_clusters < 2:
        raise InferenceError("the wild cluster bootstrap needs at least two clusters")
    n, k = X.shape
    if np.linalg.matrix_rank(X) < k:
        raise InferenceError(f"the bootstrap design ({n} rows x {k} columns) is not of full "
                             "column rank: a region with too few years, or no variation in "
                             "the treatment")
    v = draw_bootstrap_weights(weights, n_clusters, int(draws), int(seed))
    membership = scipy.sparse.csr_matrix((np.ones(n), (codes, np.arange(n))),
                                         shape=(n_clusters, n))     # G x N: cluster sums
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ (X.T @ y)
    residual = y - X @ beta
    ssc = (n - 1) / (n - k) * n_clusters / (n_clusters - 1)
    scores_hat = np.asarray(membership @ (X * residual[:, None])).T        # K x G
    variance = xtx_inv @ (scores_hat @ scores_hat.T) @ xtx_inv
    alpha = 1 - level
    results = []
    for j in columns:
        a = X @ xtx_inv[:, j]                                # R (X'X)^-1 x_i for every row
        m = xtx_inv[j, j]
        # restricted residuals u(b0) = u_A + b0 u_B (linear in the null value)
        u_a = residual + a * beta[j] / m
        u_b = -a / m
        projection = np.asarray(membership @ (a[:, None] * X)) @ xtx_inv      # G x K
        c = np.vstack([membership @ (a * u) for u in (u_a, u_b)])             # 2 x G
        h = np.vstack([projection @ np.asarray(membership @ (X * u[:, None])).T
                       for u in (u_a, u_b)])                                  # 2G x G
        hv = h @ v
        z_a = c[0][:, None] * v - hv[:n_clusters]
        z_b = c[1][:, None] * v - hv[n_clusters:]
        num_a, num_b = c[0] @ v, c[1] @ v
        q0 = ssc * np.einsum("gb,gb->b", z_a, z_a)
        q1 = ssc * np.einsum("gb,gb->b", z_a, z_b)
        q2 = ssc * np.einsum("gb,gb->b", z_b, z_b)
        se = float(np.sqrt(ssc * variance[j, j]))

        def p_of(null: np.ndarray, num_a=num_a, num_b=num_b, q0=q0, q1=q1, q2=q2,
                 estimate=beta[j], se=se) -> np.ndarray:
            # |t| < |t*|  <=>  t^2 * denominator^2 < numerator^2 (no square root, no division)
            null = np.asarray(null, dtype=float)[:, None]
            squared_t = ((estimate - null) / se) ** 2
            denominator = np.maximum(q0 + null * (2 * q1 + null * q2), 0.0)
            numerator = num_a + null * num_b
            return np.mean(squared_t * denominator < numerator * numerator, axis=1)

        low, high = invert_test(p_of, float(beta[j]), se, alpha)
        results.append(WildBootstrap(p_value=float(p_of(np.array([0.0]))[0]), ci_low=low,
                                     ci_high=high, t_stat=float(beta[j] / se), weights=weights,
                                     draws=int(v.shape[1]), seed=int(seed),
                                     n_clusters=n_clusters, level=level))
    return results


# --------------------------------------------------------------------------- randomisation

def _column_basis(design: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of ``design``: QR, or SVD when QR finds the
    columns dependent (only the space matters for the residual-maker)."""
    design = np.asarray(design, dtype=float)
    q, r = np.linalg.qr(design)
    diagonal = np.abs(np.diag(r))
    if diagonal.size and diagonal.min() > diagonal.max() * max(design.shape) * 1e-10:
        return q
    u, s, _ = np.linalg.svd(design, full_matrices=False)
    keep = s > s.max() * max(design.shape) * np.finfo(float).eps
    return u[:, keep]


@_one_blas_thread
def randomisation_inference(controls: np.ndarray, y: np.ndarray, region: np.ndarray,
                            treated: np.ndarray, dose: np.ndarray, *,
                            draws: int = PERMUTATION_DRAWS, seed: int = SEED,
                            level: float = 0.95, batch: int = 500) -> Randomisation:
    """Randomisation inference of ``tau`` in ``y = tau * treated[region] * dose + controls c + e``.

    Parameters
    ----------
    controls : (N, P) array
        The other columns (fixed-effect dummies, region trends); any rank.
    y, dose : (N,) arrays
        Outcome and the treatment dose of a treated row (1 after the event, or years since).
    region : (N,) int array
        Region index ``0 .. R-1`` of every row.
    treated : (R,) bool array
        The actual treated regions.
    draws, seed, level, batch : permutations, their seed, interval level, draws per batch
        (memory: ``batch x R`` floats).

    Raises
    ------
    InferenceError
        Fewer than 99 draws, no treated or no untreated region, or an actual treatment the
        controls absorb.
    """
    if not isinstance(draws, (int, np.integer)) or draws < 99:
        raise InferenceError(f"permutation draws must be an integer >= 99, got {draws!r}")
    treated = np.asarray(treated, dtype=bool)
    region = np.asarray(region).ravel()
    y = np.asarray(y, dtype=float).ravel()
    dose = np.asarray(dose, dtype=float).ravel()
    n_regions, n_treated = len(treated), int(treated.sum())
    if n_treated == 0 or n_treated == n_regions:
        raise InferenceError(f"randomisation inference needs treated and untreated regions "
                             f"({n_treated} of {n_regions} treated)")
    basis = _column_basis(controls)
    # a treatment column is D = B @ labels with B[i, r] = dose_i 1[region_i = r], so its
    # residual on the controls is W @ labels with W = M_controls B (N x R, computed once);
    # every draw's estimate and slope are then small quadratic forms in its labels
    spread = np.zeros((len(y), n_regions))
    spread[np.arange(len(y)), region] = dose
    residualised = spread - basis @ (basis.T @ spread)                       # W
    gram = residualised.T @ residualised
    on_y = residualised.T @ y
    actual = treated[region] * dose
    on_actual_treatment = residualised.T @ actual
    information = float(treated @ gram @ treated)
    if information <= 1e-12 * max(float(actual @ actual), 1.0):
        raise InferenceError("the treatment is absorbed by the fixed effects (no treated "
                             "region observed both before and after the event)")
    estimate = float(treated @ on_y) / information
    rng = np.random.default_rng(seed)
    estimates, on_actual = [], []
    remaining = int(draws)
    while remaining > 0:
        size = min(batch, remaining)
        chosen = np.argsort(rng.random((size, n_regions)), axis=1)[:, :n_treated]
        labels = np.zeros((size, n_regions))
        np.put_along_axis(labels, chosen, 1.0, axis=1)
        norms = np.einsum("br,rs,bs->b", labels, gram, labels, optimize=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            estimates.append((labels @ on_y) / norms)
            on_actual.append((labels @ on_actual_treatment) / norms)
        remaining -= size
    tau = np.concatenate(estimates)
    slope = np.concatenate(on_actual)
    usable = np.isfinite(tau) & np.isfinite(slope)     # a draw whose treatment is absorbed
    tau, slope = tau[usable], slope[usable]
    tolerance = 1e-10 * max(abs(estimate), 1e-12)

    def p_of(null: np.ndarray) -> np.ndarray:
        null = np.asarray(null, dtype=float)[:, None]
        extreme = np.abs(tau[None, :] - null * slope[None, :]) >= (
            np.abs(estimate - null) - tolerance)
        return (1 + extreme.sum(axis=1)) / (1 + tau.size)

    scale = float(np.std(tau)) if tau.size > 1 and np.std(tau) > 0 else abs(estimate) or 1.0
    low, high = invert_test(p_of, estimate, scale, 1 - level)
    return Randomisation(estimate=estimate, p_value=float(p_of(np.array([0.0]))[0]),
                         ci_low=low, ci_high=high, draws=int(tau.size), seed=int(seed),
                         n_regions=n_regions, n_treated=n_treated, level=level)
