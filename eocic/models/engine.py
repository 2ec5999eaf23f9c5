r"""The one estimation engine of eocic: OLS and PPML with absorbed fixed effects, on pyfixest.

Stage 04 (:mod:`eocic.models.estimation`, the YAML registry) and the pilot evaluation
(:mod:`eocic.pilots`) both fit through :func:`fit`; the inference choices that used to be
implicit in two hand-built dummy-variable engines are the fields of one :class:`Inference`,
printed under every table by :meth:`Inference.describe`.

Estimators
----------
``ols``
    ``pyfixest.feols``: ``y ~ x1 + ... | fe1 + fe2``, fixed effects absorbed by alternating
    projections (coefficients identical to the dummy-variable regression).
``ppml``
    ``pyfixest.fepois``: Poisson pseudo-maximum likelihood, ``E[y | x] = exp(offset + b'x +
    FE)`` (Santos Silva & Tenreyro 2006), fitted by IRLS with absorbed fixed effects
    (``ppmlhdfe`` algorithm); ``y >= 0``, zeros kept.

Covariance (``Inference.vcov``)
-------------------------------
``iid`` (homoskedastic), ``HC1`` (heteroskedasticity-robust), ``CRV1`` (cluster-robust,
Liang-Zeger sandwich ``(X'X)^-1 [sum_g X_g'u_g u_g'X_g] (X'X)^-1``) and ``CRV3`` (cluster
jackknife as pyfixest 0.60 computes it: ``sum_g (b_(-g) - b)(b_(-g) - b)'``, the leave-one-
cluster-out estimates centred on the full-sample one; OLS only), times the small-sample
factor::

    c = (N-1)/(N-K) [k_adj]  x  G/(G-1) [G_adj, cluster covariances only]

where ``N`` counts the observations actually used (singletons dropped) and ``K`` the
parameters: the regressors plus, by ``k_fixef``, all fixed-effect levels (``"full"``, what
statsmodels' dummy regression counts), those not nested in a cluster (``"nonnested"``: a fixed
effect whose groups lie inside the clusters adds nothing to K, fixest's rule), or none
(``"none"``). With two-way clustering ``G_df="min"`` applies min(G)/(min(G)-1) to every term.
For ``HC1`` the factor is N/(N-K).

Defaults follow fixest (and pyfixest 0.60, its Python port, whose ``ssc()`` defaults are
``k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min"``): singletons dropped
(``fixef_rm="singleton"``: an observation alone in a fixed-effect group is fitted perfectly and
carries no identifying variation, yet would count as a cluster), t(G-1) p-values for OLS with
clustered SEs (t(N-K) otherwise) and normal p-values for PPML (``distribution="auto"``).
eocic's old engine counted every dummy in K (``k_fixef="full"``), kept singletons and used
t(G-1) for PPML too; :data:`STATSMODELS_DUMMIES` reproduces those choices.

Every row the caller passes must be complete (no missing or infinite value in a used column):
the engine never drops a row silently, except singletons, which it counts
(:attr:`Fit.singletons`).

Example
-------
>>> inference = Inference(vcov="CRV1", clusters=("geo",))       # doctest: +SKIP
>>> result = fit(frame, "employment_growth", ["ln_lq_t0"], ["geo", "nace_r2"], inference)
>>> result.coefficients()       # coef, se, tstat, pvalue, ci_low, ci_high per regressor
>>> inference.describe(result)  # the footer line of a table
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eocic.errors import EocicError

VCOV_TYPES = ("iid", "HC1", "HC2", "HC3", "CRV1", "CRV3")
"""Covariance estimators: homoskedastic, heteroskedasticity-robust (HC2/HC3 without fixed
effects only, a pyfixest limit), cluster-robust (CRV1) and cluster jackknife (CRV3, OLS)."""
K_FIXEF = ("nonnested", "full", "none")
G_DF = ("min", "conventional")
FIXEF_RM = ("singleton", "none")
DISTRIBUTIONS = ("auto", "t", "normal")
ESTIMATORS = ("ols", "ppml")

#: The unit one cluster is, in words (footer text).
CLUSTER_UNITS = {"geo": "region", "country": "country", "nace_r2": "sector",
                 "section": "section", "category": "cluster category", "year": "year"}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class EstimationError(EocicError, ValueError):
    """A model cannot be fitted as asked (bad settings, incomplete rows, collinear regressor,
    one cluster); the message names the model (``label``) and the fix."""


@dataclasses.dataclass(frozen=True)
class Inference:
    """How standard errors, p-values and confidence intervals are computed.

    Attributes
    ----------
    vcov : str
        One of :data:`VCOV_TYPES`. Default ``"CRV1"`` when ``clusters`` is given, else
        ``"HC1"`` (set by :meth:`__post_init__` when left ``None``).
    clusters : tuple of str
        Cluster column(s) of ``CRV1``/``CRV3`` (two columns: two-way clustering).
    k_adj : bool
        Multiply by (N-1)/(N-K) (N/(N-K) for HC1). Default True.
    k_fixef : str
        Which fixed-effect levels count in K: ``"nonnested"`` (default, fixest), ``"full"``
        (every level, as a dummy regression), ``"none"``.
    G_adj : bool
        Multiply cluster covariances by G/(G-1). Default True.
    G_df : str
        Two-way clustering: ``"min"`` (default, fixest) or ``"conventional"``.
    fixef_rm : str
        ``"singleton"`` (default): drop observations alone in a fixed-effect group (they are
        counted); ``"none"``: keep them.
    distribution : str
        Of the test statistic: ``"t"`` (t on G-1 degrees of freedom with clusters, N-K
        otherwise), ``"normal"``, or ``"auto"`` (default, fixest): t for OLS, normal for PPML.
    level : float
        Confidence level of the intervals (default 0.95).
    """

    vcov: str | None = None
    clusters: tuple[str, ...] = ()
    k_adj: bool = True
    k_fixef: str = "nonnested"
    G_adj: bool = True
    G_df: str = "min"
    fixef_rm: str = "singleton"
    distribution: str = "auto"
    level: float = 0.95

    def __post_init__(self) -> None:
        clusters = (self.clusters,) if isinstance(self.clusters, str) else tuple(self.clusters)
        object.__setattr__(self, "clusters", clusters)
        if self.vcov is None:
            object.__setattr__(self, "vcov", "CRV1" if clusters else "HC1")
        problems = []
        if self.vcov not in VCOV_TYPES:
            problems.append(f"vcov {self.vcov!r} is not one of {', '.join(VCOV_TYPES)}")
        elif self.vcov.startswith("CRV") and not 1 <= len(clusters) <= 2:
            problems.append(f"vcov {self.vcov} needs one or two cluster columns, got "
                            f"{len(clusters)}")
        elif not self.vcov.startswith("CRV") and clusters:
            problems.append(f"cluster columns {', '.join(clusters)} given with vcov "
                            f"{self.vcov}; use CRV1 or CRV3")
        if self.vcov == "CRV3" and len(clusters) > 1:
            problems.append("CRV3 takes one cluster column")
        bad_names = [c for c in clusters if not isinstance(c, str) or not _IDENTIFIER.match(c)]
        if bad_names:
            problems.append(f"cluster column names must be identifiers, got {bad_names!r}")
        for name, value in (("k_adj", self.k_adj), ("G_adj", self.G_adj)):
            if not isinstance(value, bool):
                problems.append(f"{name} must be true or false, got {value!r}")
        for name, value, allowed in (("k_fixef", self.k_fixef, K_FIXEF),
                                     ("G_df", self.G_df, G_DF),
                                     ("fixef_rm", self.fixef_rm, FIXEF_RM),
                                     ("distribution", self.distribution, DISTRIBUTIONS)):
            if value not in allowed:
                problems.append(f"{name} {value!r} is not one of {', '.join(allowed)}")
        if not (isinstance(self.level, float) and 0.5 <= self.level < 1):
            problems.append(f"level must be a float in [0.5, 1), got {self.level!r}")
        if problems:
            raise EstimationError("inference settings: " + "; ".join(problems))

    # -- what pyfixest is given ----------------------------------------------------------
    @property
    def clustered(self) -> bool:
        return self.vcov.startswith("CRV")

    def pyfixest_vcov(self) -> str | dict[str, str]:
        """The ``vcov`` argument of ``pyfixest.feols``/``fepois``."""
        if self.clustered:
            return {self.vcov: "+".join(self.clusters)}
        return {"iid": "iid", "HC1": "hetero"}.get(self.vcov, self.vcov)

    def pyfixest_ssc(self) -> dict:
        """The ``ssc`` argument (``pyfixest.ssc(k_adj, k_fixef, G_adj, G_df)``)."""
        import pyfixest

        return pyfixest.ssc(k_adj=self.k_adj, k_fixef=self.k_fixef, G_adj=self.G_adj,
                            G_df=self.G_df)

    def distribution_for(self, estimator: str) -> str:
        """``"t"`` or ``"normal"``: ``auto`` resolves to t for OLS, normal for PPML."""
        if self.distribution != "auto":
            return self.distribution
        return "normal" if estimator == "ppml" else "t"

    # -- words ---------------------------------------------------------------------------
    def covariance_label(self) -> str:
        """Short name, e.g. ``clustered by geo (CRV1)`` or ``heteroskedasticity-robust (HC1)``."""
        if self.clustered:
            return f"clustered by {' x '.join(self.clusters)} ({self.vcov})"
        if self.vcov == "iid":
            return "conventional (homoskedastic)"
        return f"heteroskedasticity-robust ({self.vcov})"

    def correction_text(self) -> str:
        """The small-sample factor in words."""
        factors = []
        if self.k_adj:
            factors.append("N/(N-K)" if self.vcov == "HC1" else "(N-1)/(N-K)")
        if self.clustered and self.G_adj:
            factors.append("min(G)/(min(G)-1)" if len(self.clusters) > 1 and self.G_df == "min"
                           else "G/(G-1)")
        text = ("small-sample correction " + " x ".join(factors)) if factors else (
            "no small-sample correction")
        if self.k_adj:
            text += {"nonnested": ", fixed effects nested in clusters not counted in K",
                     "full": ", every fixed-effect level counted in K",
                     "none": ", fixed effects not counted in K"}[self.k_fixef]
        return text

    def describe(self, result: "Fit | None" = None, estimator: str | None = None) -> str:
        """The one-line footer of a table, e.g. ``SE clustered by geo (CRV1); small-sample
        correction (N-1)/(N-K) x G/(G-1), fixed effects nested in clusters not counted in K;
        singletons dropped (12); t(G-1) p-values``. With ``result``, the singleton count and
        the degrees of freedom are filled in."""
        estimator = result.estimator if result is not None else estimator
        parts = [f"SE {self.covariance_label()}", self.correction_text()]
        if self.fixef_rm == "singleton":
            parts.append("singletons dropped" + (f" ({result.singletons})" if result else ""))
        else:
            parts.append("singletons kept")
        if estimator is None and self.distribution == "auto":
            parts.append("t p-values for OLS, normal for PPML")
        else:
            dist = self.distribution_for(estimator or "ols")
            if dist == "normal":
                parts.append("normal p-values")
            elif self.clustered:
                parts.append("t(G-1) p-values" + (f", G-1 = {result.df:g}" if result else ""))
            else:
                parts.append("t(N-K) p-values")
        return "; ".join(parts)


DEFAULT = Inference()
"""fixest's defaults with heteroskedasticity-robust SEs (set ``clusters`` to cluster)."""

STATSMODELS_DUMMIES = dict(k_fixef="full", fixef_rm="none", distribution="t")
"""The choices of eocic's old statsmodels engine (every dummy in K, singletons kept, t(G-1)
for OLS and PPML): ``Inference(clusters=("geo",), **STATSMODELS_DUMMIES)`` reproduces its SEs
and p-values."""


@dataclasses.dataclass
class Fit:
    """One fitted model: the pyfixest object and what the tables need beside it.

    Attributes
    ----------
    model : pyfixest Feols or Fepois, or None
        None for a fit of :func:`fit_within` (no pyfixest model object is built).
    estimator : str
    inference : Inference
    regressors : tuple of str
    rows : int
        Complete rows passed in.
    nobs : int
        Observations used (``rows - singletons``).
    singletons : int
        Rows dropped as singletons of a fixed effect.
    n_clusters : int or None
        Clusters with at least one used observation (the smallest dimension with two-way
        clustering); None without clustering.
    df : float
        Degrees of freedom of the t distribution (G-1 with clusters, N-K otherwise).
    rsquared : float
        OLS: R-squared with the fixed effects; PPML: squared correlation of y and the fit.
    warnings : list of str
        Messages pyfixest raised while fitting, other than the singleton count.
    coef, se : ndarray
        Coefficients and standard errors of ``regressors``, in that order.
    """

    model: object
    estimator: str
    inference: Inference
    regressors: tuple[str, ...]
    rows: int
    nobs: int
    singletons: int
    n_clusters: int | None
    df: float
    rsquared: float
    warnings: list[str]
    coef: np.ndarray
    se: np.ndarray

    @property
    def distribution(self) -> str:
        return self.inference.distribution_for(self.estimator)

    def coefficients(self) -> pd.DataFrame:
        """One row per regressor (index = name): ``coef, se, tstat, pvalue, ci_low,
        ci_high`` with p-values and intervals from the distribution of the inference
        settings (two-sided; level ``inference.level``)."""
        # imported here: eocic.tables imports this module (for ESTIMATORS), and scipy.stats
        # alone takes 0.9 s, which every stage's kernel would otherwise pay
        import scipy.stats

        coef, se = self.coef, self.se
        tstat = coef / se
        if self.distribution == "normal":
            pvalue = 2 * scipy.stats.norm.sf(np.abs(tstat))
            critical = scipy.stats.norm.ppf(0.5 + self.inference.level / 2)
        else:
            pvalue = 2 * scipy.stats.t.sf(np.abs(tstat), self.df)
            critical = scipy.stats.t.ppf(0.5 + self.inference.level / 2, self.df)
        return pd.DataFrame({"coef": coef, "se": se, "tstat": tstat, "pvalue": pvalue,
                             "ci_low": coef - critical * se, "ci_high": coef + critical * se},
                            index=pd.Index(self.regressors, name="term"))

    def describe(self) -> str:
        """The footer line for this fit (:meth:`Inference.describe`)."""
        return self.inference.describe(self)


def _formula(dependent: str, regressors: Sequence[str], fixed_effects: Sequence[str]) -> str:
    formula = f"{dependent} ~ " + " + ".join(regressors)
    return formula + (" | " + " + ".join(fixed_effects) if fixed_effects else "")


def _collinear(label: str, collinear: Sequence[str], regressors: tuple[str, ...],
               fixed_effects: tuple[str, ...]) -> EstimationError:
    others = ", ".join([r for r in regressors if r not in collinear]
                       + [f"{fe} fixed effect" for fe in fixed_effects]) or "the constant"
    return EstimationError(
        f"{label}: singular design: regressor(s) {', '.join(collinear)} are linearly "
        f"dependent on {others}; drop one of the collinear terms or the fixed effect")


def _estimation_rows(frame: pd.DataFrame, dependent: str, regressors: tuple[str, ...],
                     fixed_effects: tuple[str, ...], inference: Inference, estimator: str,
                     offset: str | None, weights: str | None, label: str) -> pd.DataFrame:
    """The columns a model uses, checked (the :func:`fit` contract: names, completeness,
    PPML outcome), with fixed-effect and cluster labels as integer codes."""
    if estimator not in ESTIMATORS:
        raise EstimationError(f"{label}: unknown estimator {estimator!r}; use one of "
                              f"{', '.join(ESTIMATORS)}")
    if offset and estimator != "ppml":
        raise EstimationError(f"{label}: an offset needs estimator 'ppml'")
    if inference.vcov == "CRV3" and estimator == "ppml":
        raise EstimationError(f"{label}: CRV3 is available for OLS only; use CRV1 for PPML")
    if inference.vcov in ("HC2", "HC3") and fixed_effects:
        raise EstimationError(f"{label}: {inference.vcov} needs the leverage of the full "
                              "design, which pyfixest does not compute with absorbed fixed "
                              "effects; use HC1, or cluster")
    if not regressors:
        raise EstimationError(f"{label}: at least one regressor is needed")
    names = [dependent, *regressors, *fixed_effects, *inference.clusters]
    names += [n for n in (offset, weights) if n]
    used = list(dict.fromkeys(names))
    bad = [n for n in used if not isinstance(n, str) or not _IDENTIFIER.match(n)]
    if bad:
        raise EstimationError(f"{label}: column names must be Python identifiers, got {bad!r}")
    missing = [n for n in used if n not in frame.columns]
    if missing:
        raise EstimationError(f"{label}: column(s) {', '.join(missing)} not in the data; "
                              f"columns: {', '.join(map(str, frame.columns))}")
    numeric = [n for n in [dependent, *regressors, offset, weights] if n]
    data = frame.loc[:, used].reset_index(drop=True)
    for name in numeric:
        if not pd.api.types.is_numeric_dtype(data[name]):
            raise EstimationError(f"{label}: column {name!r} is not numeric "
                                  f"(dtype {data[name].dtype})")
    numeric = list(dict.fromkeys(numeric))
    values = data[numeric].to_numpy(dtype=float, na_value=np.nan)  # nullable NA: missing
    bad_counts = dict(zip(numeric, (~np.isfinite(values)).sum(axis=0).tolist()))
    for name in used:
        bad = bad_counts[name] if name in bad_counts else int(data[name].isna().sum())
        if bad:
            raise EstimationError(
                f"{label}: {bad} rows with a missing or non-finite {name!r}; "
                "drop incomplete rows before fitting (the engine drops no row silently)")
    if estimator == "ppml" and (data[dependent] < 0).any():
        raise EstimationError(f"{label}: PPML needs a non-negative dependent variable; "
                              f"{dependent} has {int((data[dependent] < 0).sum())} negative "
                              "values")
    # fixed-effect and cluster labels as integer codes (pyfixest casts them to int32 anyway;
    # factorising here is faster than its string handling and accepts any label type)
    for name in dict.fromkeys([*fixed_effects, *inference.clusters]):
        data[name] = pd.factorize(data[name])[0].astype("int64")
    return data


def fit(frame: pd.DataFrame, dependent: str, regressors: Sequence[str],
        fixed_effects: Sequence[str] = (), inference: Inference = DEFAULT, *,
        estimator: str = "ols", offset: str | None = None, weights: str | None = None,
        label: str = "model") -> Fit:
    """Fit ``dependent`` on ``regressors`` with ``fixed_effects`` absorbed.

    Parameters
    ----------
    frame : DataFrame
        The estimation rows; every used column complete and finite (the caller decides and
        reports which rows to drop). Fixed-effect and cluster columns may hold any labels.
    dependent, regressors : str, sequence of str
        Column names (Python identifiers: they go into a pyfixest formula, never evaluated
        as Python).
    fixed_effects : sequence of str
        Absorbed columns (empty: a constant is estimated instead).
    inference : Inference
    estimator : str
        ``"ols"`` or ``"ppml"`` (``dependent >= 0``).
    offset : str, optional
        PPML log exposure (coefficient 1).
    weights : str, optional
        Analytic weights (non-negative).
    label : str
        Names the model in error messages (e.g. ``"A / Employment (1)"``).

    Raises
    ------
    EstimationError
        Unknown estimator; a name that is not an identifier or not a column; missing or
        non-finite values; negative PPML outcome; one cluster only; a regressor pyfixest
        finds collinear (absorbed by the fixed effects or a combination of the others), named.
    """
    import pyfixest

    regressors = tuple(regressors)
    fixed_effects = tuple(fixed_effects)
    data = _estimation_rows(frame, dependent, regressors, fixed_effects, inference, estimator,
                            offset, weights, label)
    rows = len(data)
    formula = _formula(dependent, regressors, fixed_effects)
    arguments = dict(vcov=inference.pyfixest_vcov(), ssc=inference.pyfixest_ssc(),
                     fixef_rm=inference.fixef_rm, copy_data=False)
    if weights:
        arguments["weights"] = weights
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if estimator == "ols":
                model = pyfixest.feols(formula, data=data, **arguments)
            else:
                model = pyfixest.fepois(formula, data=data, offset=offset, **arguments)
        except (ValueError, TypeError, np.linalg.LinAlgError) as error:
            raise EstimationError(f"{label}: pyfixest could not fit {formula!r}: "
                                  f"{error}") from error
    messages = []
    for item in caught:
        text = str(item.message)
        # the singleton count is reported as Fit.singletons; pandas 3.1 deprecations raised
        # inside pyfixest 0.60's own code are not about the model
        if "singleton fixed effect(s) dropped" in text or "inplace keyword" in text:
            continue
        messages.append(text)
    collinear = [v for v in getattr(model, "_collin_vars", []) or [] if v in regressors]
    if collinear:
        raise _collinear(label, collinear, regressors, fixed_effects)
    nobs = int(model._N)
    singletons = rows - nobs
    n_clusters = None
    if inference.clustered:
        n_clusters = int(np.min(model._G))
        if n_clusters < 2:
            raise EstimationError(f"{label}: one cluster only ({inference.covariance_label()})")
    if estimator == "ols":
        rsquared = float(model._r2)
    else:
        y = np.asarray(model._Y, dtype=float).ravel()
        fitted_values = np.asarray(model.predict(type="response"), dtype=float).ravel()
        rsquared = float(np.corrcoef(y, fitted_values)[0, 1] ** 2)
    position = [list(model._coefnames).index(name) for name in regressors]
    return Fit(model=model, estimator=estimator, inference=inference, regressors=regressors,
               rows=rows, nobs=nobs, singletons=singletons, n_clusters=n_clusters,
               df=float(model._df_t), rsquared=rsquared, warnings=messages,
               coef=np.asarray(model._beta_hat, dtype=float).ravel()[position],
               se=np.asarray(model._se, dtype=float).ravel()[position])


#: pyfixest 0.60's defaults that :func:`fit_within` repeats: the alternating-projections
#: demeaner's tolerance and iteration cap (``MapDemeaner``), the collinearity tolerance of
#: ``feols`` (``collin_tol``).
WITHIN_TOLERANCE = 1e-06
WITHIN_MAXITER = 10_000
COLLINEARITY_TOLERANCE = 1e-09


def fits_within(estimator: str, inference: Inference, *, offset: str | None = None,
                weights: str | None = None) -> bool:
    """Whether :func:`fit_within` can fit a model: OLS without weights or offset, with
    ``iid``, ``HC1`` or one-way ``CRV1`` covariance. Other models go through :func:`fit`."""
    return (estimator == "ols" and not offset and not weights
            and (inference.vcov in ("iid", "HC1")
                 or (inference.vcov == "CRV1" and len(inference.clusters) == 1)))


def fit_within(frame: pd.DataFrame, dependent: str, regressors: Sequence[str],
               fixed_effects: Sequence[str] = (), inference: Inference = DEFAULT, *,
               label: str = "model") -> Fit:
    r"""The OLS fit of :func:`fit`, without building a pyfixest model: for one model fitted
    on many subsets of its rows (the leave-one-country-out re-estimates of
    :mod:`eocic.models.robustness`: 140 fits a table, where ``pyfixest.feols`` spends three
    quarters of its time parsing the formula and building the model matrix).

    The same estimator from pyfixest's own numerical routines (``pyfixest.core``):
    singletons dropped by ``detect_singletons`` (iterated over the fixed effects, as
    ``feols``), the within transformation of ``y`` and ``X`` by ``demean`` (alternating
    projections, tolerance :data:`WITHIN_TOLERANCE`), collinear regressors found by
    ``find_collinear_variables``, then

    .. math::

        \hat\beta = (\ddot X'\ddot X)^{-1}\ddot X'\ddot y, \qquad
        V = c\,(\ddot X'\ddot X)^{-1} M (\ddot X'\ddot X)^{-1}

    with ``M`` = :math:`\hat\sigma^2 \ddot X'\ddot X` (iid,
    :math:`\hat\sigma^2 = \sum u^2 / (N-1)`), :math:`\sum_i u_i^2 \ddot x_i \ddot x_i'`
    (HC1) or :math:`\sum_g (\sum_{i \in g} u_i \ddot x_i)(\cdot)'` (CRV1), and the
    small-sample factor ``c`` and t degrees of freedom from ``pyfixest.get_ssc`` (fixed
    effects nested in the clusters found by ``count_fixef_fully_nested_all``). Without
    fixed effects a constant is estimated. R-squared is ``1 - SSR / TSS`` on the
    untransformed ``y``, as pyfixest reports it.

    Supported models: :func:`fits_within`; the contract on ``frame`` and the errors are
    those of :func:`fit`. ``tests/test_models_engine.py`` checks coefficients, SEs,
    p-values, N, clusters and R-squared against ``feols`` for every supported setting.
    """
    regressors = tuple(regressors)
    fixed_effects = tuple(fixed_effects)
    if not fits_within("ols", inference):
        raise EstimationError(f"{label}: fit_within fits OLS with iid, HC1 or one-way CRV1 "
                              f"covariance, not {inference.covariance_label()}; use fit")
    data = _estimation_rows(frame, dependent, regressors, fixed_effects, inference, "ols",
                            None, None, label)
    codes = data.loc[:, list(fixed_effects)].to_numpy(dtype=np.int64) if fixed_effects \
        else None
    cluster = (data[inference.clusters[0]].to_numpy(dtype=np.int64)
               if inference.vcov == "CRV1" else None)
    return fit_within_arrays(data[dependent].to_numpy(dtype=float),
                             data.loc[:, list(regressors)].to_numpy(dtype=float), regressors,
                             codes, fixed_effects, cluster, inference, label=label)


def fit_within_arrays(y: np.ndarray, x: np.ndarray, regressors: Sequence[str],
                      fixed_effect_codes: np.ndarray | None = None,
                      fixed_effects: Sequence[str] = (), cluster: np.ndarray | None = None,
                      inference: Inference = DEFAULT, *, label: str = "model") -> Fit:
    """:func:`fit_within` on arrays a caller has already checked (the numbers of
    :func:`fit_within`, which validates a frame and calls this): ``y`` (N,) and ``x`` (N, K,
    columns in ``regressors`` order) finite floats; ``fixed_effect_codes`` (N, F) non-negative
    integer codes of ``fixed_effects`` (None without fixed effects); ``cluster`` (N,)
    non-negative integer codes of ``inference.clusters[0]`` for CRV1, else None. For
    :class:`eocic.models.estimation.RegressionModel`, which codes its sample once and refits it
    on many subsets of rows without building a frame each time."""
    import scipy.linalg
    from pyfixest import get_ssc
    from pyfixest.core import (count_fixef_fully_nested_all, demean,
                               find_collinear_variables)
    from pyfixest.core.detect_singletons import detect_singletons

    regressors = tuple(regressors)
    fixed_effects = tuple(fixed_effects)
    rows = len(y)
    codes = (np.asarray(fixed_effect_codes).astype(np.uintp) if fixed_effects
             else np.zeros((rows, 0), dtype=np.uintp))
    keep = np.ones(rows, dtype=bool)
    if fixed_effects and inference.fixef_rm == "singleton":
        keep = ~detect_singletons(np.asfortranarray(codes))
    y = np.asarray(y, dtype=float)[keep]
    x = np.asarray(x, dtype=float)[keep]
    nobs = int(keep.sum())
    if fixed_effects:
        # each fixed effect's levels among the kept rows, numbered 0..k-1
        codes = np.column_stack([pd.factorize(column)[0] for column in codes[keep].T]
                                ).astype(np.uintp)
        levels = codes.max(axis=0).astype(np.int64) + 1
        within, converged = demean(np.column_stack([y, x]), np.asfortranarray(codes),
                                   np.ones(nobs), tol=WITHIN_TOLERANCE, maxiter=WITHIN_MAXITER)
        if not converged:
            raise EstimationError(f"{label}: demeaning did not converge in {WITHIN_MAXITER} "
                                  "iterations")
        y_within, x_within = within[:, 0], within[:, 1:]
        names = regressors
    else:
        levels = np.zeros(0, dtype=np.int64)
        y_within, x_within = y, np.column_stack([np.ones(nobs), x])
        names = ("Intercept", *regressors)
    cross = np.ascontiguousarray(x_within.T @ x_within)
    excluded, n_excluded, all_removed = find_collinear_variables(cross, COLLINEARITY_TOLERANCE)
    if all_removed or n_excluded:
        collinear = [name for name, out in zip(names, np.asarray(excluded).ravel()) if out] \
            if n_excluded else list(regressors)
        raise _collinear(label, [v for v in collinear if v in regressors] or list(regressors),
                         regressors, fixed_effects)
    beta = scipy.linalg.solve(cross, x_within.T @ y_within, assume_a="gen")
    residuals = y_within - x_within @ beta
    bread = np.linalg.inv(cross)
    ssc_dict = inference.pyfixest_ssc()
    counts = dict(ssc_dict=ssc_dict, N=nobs, k=x_within.shape[1], k_fe=int(levels.sum()),
                  n_fe=len(fixed_effects))
    n_clusters = None
    if inference.vcov == "iid":
        factor, _, df = get_ssc(**counts, k_fe_nested=0, n_fe_fully_nested=0, G=1,
                                vcov_sign=1, vcov_type="iid")
        vcov = factor * bread * (residuals @ residuals) / (nobs - 1)
    elif inference.vcov == "HC1":
        factor, _, df = get_ssc(**counts, k_fe_nested=0, n_fe_fully_nested=0, G=nobs,
                                vcov_sign=1, vcov_type="hetero")
        scores = x_within * residuals[:, None]
        vcov = factor * bread @ (scores.T @ scores) @ bread
    else:
        cluster = pd.factorize(np.asarray(cluster)[keep])[0]
        n_clusters = int(cluster.max()) + 1 if nobs else 0
        if n_clusters < 2:
            raise EstimationError(f"{label}: one cluster only ({inference.covariance_label()})")
        nested_levels, fully_nested = 0, 0
        if fixed_effects and ssc_dict["k_fixef"] == "nonnested":
            nested, fully_nested = count_fixef_fully_nested_all(
                all_fixef_array=np.array(fixed_effects, dtype=str),
                cluster_colnames=np.array(inference.clusters, dtype=str),
                cluster_data=cluster.astype(np.uintp)[:, None],
                fe_data=codes)
            nested_levels = int(levels[np.asarray(nested, dtype=bool)].sum()) \
                if fully_nested > 0 else 0
        factor, _, df = get_ssc(**counts, k_fe_nested=nested_levels,
                                n_fe_fully_nested=fully_nested, G=n_clusters, vcov_sign=1,
                                vcov_type="CRV")
        sums = np.zeros((n_clusters, x_within.shape[1]))
        np.add.at(sums, cluster, x_within * residuals[:, None])
        vcov = factor * bread @ (sums.T @ sums) @ bread
    position = [names.index(name) for name in regressors]
    total = float(((y - y.mean()) ** 2).sum())
    return Fit(model=None, estimator="ols", inference=inference, regressors=regressors,
               rows=rows, nobs=nobs, singletons=rows - nobs, n_clusters=n_clusters,
               df=float(np.asarray(df).ravel()[0]),
               rsquared=1 - float(residuals @ residuals) / total, warnings=[], coef=np.asarray(beta, dtype=float).ravel()[position],
               se=np.sqrt(np.diag(vcov))[position])
