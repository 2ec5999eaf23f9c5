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
    model : pyfixest Feols or Fepois
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

        position = [list(self.model._coefnames).index(name) for name in self.regressors]
        coef = np.asarray(self.model._beta_hat, dtype=float).ravel()[position]
        se = np.asarray(self.model._se, dtype=float).ravel()[position]
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
    for name in used:
        values = data[name]
        bad_rows = values.isna()
        if name in numeric:
            if not pd.api.types.is_numeric_dtype(values):
                raise EstimationError(f"{label}: column {name!r} is not numeric "
                                      f"(dtype {values.dtype})")
            bad_rows |= ~np.isfinite(values.astype(float))
        if bad_rows.any():
            raise EstimationError(
                f"{label}: {int(bad_rows.sum())} rows with a missing or non-finite {name!r}; "
                "drop incomplete rows before fitting (the engine drops no row silently)")
    if estimator == "ppml" and (data[dependent] < 0).any():
        raise EstimationError(f"{label}: PPML needs a non-negative dependent variable; "
                              f"{dependent} has {int((data[dependent] < 0).sum())} negative "
                              "values")
    # fixed-effect and cluster labels as integer codes (pyfixest casts them to int32 anyway;
    # factorising here is faster than its string handling and accepts any label type)
    for name in dict.fromkeys([*fixed_effects, *inference.clusters]):
        data[name] = pd.factorize(data[name])[0].astype("int64")
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
        others = ", ".join([r for r in regressors if r not in collinear]
                           + [f"{fe} fixed effect" for fe in fixed_effects]) or "the constant"
        raise EstimationError(
            f"{label}: singular design: regressor(s) {', '.join(collinear)} are linearly "
            f"dependent on {others}; drop one of the collinear terms or the fixed effect")
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
    return Fit(model=model, estimator=estimator, inference=inference, regressors=regressors,
               rows=rows, nobs=nobs, singletons=singletons, n_clusters=n_clusters,
               df=float(model._df_t), rsquared=rsquared, warnings=messages)
