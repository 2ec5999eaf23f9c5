r"""Estimation of the registry's specifications on the pyfixest engine.

Model and results objects: :class:`RegressionModel` holds a
:class:`~eocic.models.specifications.Specification` and its data, checks them and selects the
estimation rows; :meth:`RegressionModel.fit` returns a :class:`RegressionResults` with the
coefficients of the regressors (fixed effects are absorbed and not reported), the engine's
:class:`~eocic.models.engine.Fit` and a tidy table.

The fitting itself is :func:`eocic.models.engine.fit` (``pyfixest.feols`` / ``fepois`` with
the fixed effects absorbed); this module is the layer above it that the registry needs:

- variables: substitutes (labelled proxies), ``when_unavailable: skip``, unknown names;
- rows: the sample filter, then rows with a missing or non-finite used value (counted per
  column), then the table's same-sample rule (:func:`estimate_table`); the engine gets only
  complete rows and drops nothing but singletons, which it counts;
- winsorising of the dependent variable, annualising of PPML coefficients;
- identification checks, each a :class:`SpecificationError` naming the spec and the problem
  (no term is ever dropped silently): a fixed-effect or cluster column not in the sample; a
  regressor without variation, or constant within the groups of a fixed effect (absorbed);
  fewer observations than parameters; a regressor collinear with the others and the fixed
  effects (pyfixest's collinearity check, turned into an error).

Inference (covariance type, small-sample correction, singletons, distribution of the test
statistic) is the spec's :attr:`~eocic.models.specifications.Specification.inference`,
documented in :mod:`eocic.models.engine`; its one-line description is in every result
(:attr:`RegressionResults.inference_note`), the ``covariance`` column of the tidy table and the
notes of every table. With ``small_sample: {k_fixef: full}``, ``singletons: keep`` and
``distribution: t`` the numbers equal the statsmodels dummy-variable regression eocic used
before issue 13: ``V = G/(G-1) (N-1)/(N-K) (X'X)^-1 [sum_g X_g'u_g u_g'X_g] (X'X)^-1`` with every
dummy in K, and t(G-1) inference.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from eocic.errors import EocicError
from eocic.models import engine
from eocic.models.specifications import Specification, SpecificationError, TableSpec
from eocic.models.variables import UNIT_VARIABLES, VARIABLE_LABELS, Sample
from eocic.tables import REGRESSIONS, empty_frame

FEW_CLUSTERS = 50
"""Below this number of clusters the table notes warn that cluster-robust SEs are unreliable
(Cameron, Gelbach & Miller 2008; Angrist & Pischke 2009 suggest about 42)."""

FE_LABELS = {"geo": "Region FE", "nace_r2": "Sector FE", "country": "Country FE",
             "section": "Section FE", "year": "Year FE", "category": "Cluster FE"}


class ModelUnavailable(EocicError):
    """A model marked ``when_unavailable: skip`` lacks data in this run (reason in the message)."""


@dataclasses.dataclass
class RegressionResults:
    """Results of one specification (one column of a table).

    Attributes
    ----------
    spec : Specification
    dependent : str
        Dependent variable actually used (a proxy when ``proxies`` says so).
    regressors : tuple of str
        Regressors actually used, in table order.
    proxies : dict
        ``{variable used: variable it stands for}``.
    params, bse, pvalues, tvalues : Series
        Coefficients of the regressors, their standard errors, p-values and t statistics
        (scaled by ``scale`` where the spec annualises).
    conf_int : DataFrame
        95% confidence interval (``ci_low``, ``ci_high``).
    nobs : int
    n_groups : int or None
        Number of clusters *used* (with at least one observation after singletons are
        dropped; cluster covariance only).
    rsquared : float
        OLS R-squared (fixed effects included); PPML: squared correlation of y and fitted.
    scale : float
        Factor applied to coefficients and SEs (1, or 1 / (T - t0) when annualised).
    notes : list of str
        Sample construction, proxies, winsorising, singletons, few clusters.
    fitted : eocic.models.engine.Fit or None
        The engine's fit (its ``model`` is the pyfixest object).
    skipped : str or None
        Why the model was not estimated (``when_unavailable: skip``).
    singletons : int
        Observations dropped as singletons of a fixed effect.
    inference_note : str
        The inference settings in one line (:meth:`eocic.models.engine.Inference.describe`).
    """

    spec: Specification
    dependent: str
    regressors: tuple[str, ...]
    proxies: dict
    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    tvalues: pd.Series
    conf_int: pd.DataFrame
    nobs: int
    n_groups: int | None
    rsquared: float
    scale: float
    notes: list[str]
    fitted: object = None
    skipped: str | None = None
    singletons: int = 0
    inference_note: str = ""

    @classmethod
    def not_estimated(cls, spec: Specification, reason: str) -> "RegressionResults":
        empty = pd.Series(dtype=float)
        return cls(spec, spec.dependent, (), {}, empty, empty, empty, empty,
                   pd.DataFrame(columns=["ci_low", "ci_high"]), 0, None, float("nan"), 1.0,
                   [f"{spec.name}: not estimated: {reason}"], None, reason)

    @property
    def estimated(self) -> bool:
        return self.skipped is None

    def tidy(self) -> pd.DataFrame:
        """One row per regressor: the columns of :data:`eocic.tables.REGRESSIONS` but the
        window (``spec, model, term, label, coef, se, tstat, pvalue, ci_low, ci_high, nobs,
        n_groups, rsquared, dependent, dependent_proxy_for, proxy_for, estimator, covariance,
        expected_sign``). Missing is null: ``n_groups`` without clustering, ``proxy_for`` and
        ``dependent_proxy_for`` when the variable is the one specified, ``expected_sign`` when
        none is published. No row when the model was not estimated."""
        columns = [c for c in REGRESSIONS.column_names if c not in ("t0", "T")]
        if not self.estimated:
            return empty_frame(REGRESSIONS)[columns]
        signs = self.spec.expected_signs
        rows = []
        for term in self.regressors:
            stands_for = self.proxies.get(term)
            rows.append({
                "spec": self.spec.table, "model": self.spec.name, "term": term,
                "label": VARIABLE_LABELS.get(term, term),
                "coef": float(self.params[term]), "se": float(self.bse[term]),
                "tstat": float(self.tvalues[term]), "pvalue": float(self.pvalues[term]),
                "ci_low": float(self.conf_int.loc[term, "ci_low"]),
                "ci_high": float(self.conf_int.loc[term, "ci_high"]),
                "nobs": int(self.nobs), "n_groups": self.n_groups,
                "rsquared": float(self.rsquared), "dependent": self.dependent,
                "dependent_proxy_for": self.proxies.get(self.dependent),
                "proxy_for": stands_for, "estimator": self.spec.estimator,
                "covariance": self.inference_note,
                "expected_sign": signs.get(term, signs.get(stands_for)),
            })
        frame = pd.DataFrame(rows, columns=columns)
        frame["n_groups"] = frame["n_groups"].astype("Int64")
        return frame

    def summary(self) -> str:
        """Plain-text summary (coefficients, SEs, N, R-squared)."""
        if not self.estimated:
            return f"{self.spec.label}: not estimated ({self.skipped})"
        lines = [f"{self.spec.label}: {self.dependent} ({self.spec.estimator}; "
                 f"{self.inference_note})"]
        for term in self.regressors:
            lines.append(f"  {term:<28} {self.params[term]: .5f}  ({self.bse[term]:.5f})  "
                         f"p={self.pvalues[term]:.3f}")
        lines.append(f"  N = {self.nobs}, R2 = {self.rsquared:.3f}"
                     + (f", clusters = {self.n_groups}" if self.n_groups else ""))
        return "\n".join(lines)


def _available(frame: pd.DataFrame, name: str) -> bool:
    return name in frame.columns and bool(frame[name].notna().any())


class RegressionModel:
    """A specification bound to its estimation sample.

    Parameters
    ----------
    spec : Specification
    data : Sample or DataFrame
        The estimation sample of the spec's unit (:mod:`eocic.models.variables`).
    """

    def __init__(self, spec: Specification, data: Sample | pd.DataFrame):
        self.spec = spec
        self.sample = data if isinstance(data, Sample) else None
        self.frame = data.frame if isinstance(data, Sample) else data
        self.proxies: dict[str, str] = {}
        self.dependent, self.regressors, self.offset = self._resolve()
        filter_proxies = {original: proxy for original, proxy in spec.substitutes.items()
                         if not _available(self.frame, original)
                         and _available(self.frame, proxy)}
        self.sample_filter = spec.sample.rename(filter_proxies) if spec.sample else None
        self._usable: tuple[pd.Series, list[str]] | None = None  # usable_rows, computed once
        self._codes: dict[str, np.ndarray] | None = None  # _group_codes, computed once
        self._numeric: tuple[np.ndarray, np.ndarray] | None = None  # _arrays, taken once

    # -- variables -------------------------------------------------------------------------
    def _resolve_one(self, name: str) -> str:
        spec, frame = self.spec, self.frame
        if _available(frame, name):
            return name
        proxy = spec.substitutes.get(name)
        if proxy and _available(frame, proxy):
            self.proxies[proxy] = name
            return proxy
        known = set(UNIT_VARIABLES.get(spec.unit, ())) | set(frame.columns)
        if name not in known:
            raise SpecificationError(
                f"specification {spec.label}: unknown variable {name!r} for unit {spec.unit}; "
                f"available: {', '.join(sorted(c for c in frame.columns if _available(frame, c)))}")
        reason = f"variable {name!r} has no data in this run" + (
            f" (nor its substitute {proxy!r})" if proxy else "")
        if spec.when_unavailable == "skip":
            raise ModelUnavailable(reason)
        raise SpecificationError(
            f"specification {spec.label}: {reason}; give a substitute, set when_unavailable: "
            "skip, or drop the variable")

    def _resolve(self) -> tuple[str, tuple[str, ...], str | None]:
        spec = self.spec
        dependent = self._resolve_one(spec.dependent)
        regressors = tuple(self._resolve_one(name) for name in spec.regressors)
        offset = self._resolve_one(spec.offset) if spec.offset else None
        for column in (*spec.fixed_effects, *spec.covariance.groups):
            if column not in self.frame.columns:
                role = ("fixed effect" if column in spec.fixed_effects
                        else "cluster grouping of the covariance")
                raise SpecificationError(
                    f"specification {spec.label}: {role} column {column!r} is not in the "
                    f"{spec.unit} sample; columns: {', '.join(self.frame.columns)}")
        if dependent in regressors:
            raise SpecificationError(
                f"specification {spec.label}: the dependent variable {dependent!r} is also a "
                "regressor")
        return dependent, regressors, offset

    @property
    def columns(self) -> list[str]:
        """Columns the model reads, after substitution."""
        names = [self.dependent, *self.regressors, *self.spec.fixed_effects,
                 *self.spec.covariance.groups]
        if self.offset:
            names.append(self.offset)
        return list(dict.fromkeys(names))

    @property
    def formula(self) -> str:
        """The model in fixest syntax, ``y ~ x1 + x2 | fe1 + fe2`` (for display)."""
        formula = f"{self.dependent} ~ " + " + ".join(self.regressors)
        return formula + (" | " + " + ".join(self.spec.fixed_effects)
                          if self.spec.fixed_effects else "")

    # -- rows -------------------------------------------------------------------------------
    def usable_rows(self) -> tuple[pd.Series, list[str]]:
        """Boolean mask of the rows the model can use, and notes counting what was dropped.

        Rows are dropped, in order, by the sample filter, then by missing or non-finite values
        of any used column (counted per column). Computed once per model: the data of a model
        is not changed after it is built.
        """
        if self._usable is not None:
            return self._usable[0].copy(), list(self._usable[1])
        frame, spec = self.frame, self.spec
        mask = pd.Series(True, index=frame.index)
        notes = []
        if self.sample_filter:
            mask &= self.sample_filter.mask(frame, f"specification {spec.label} "
                                                   f"({spec.unit} sample)")
            notes.append(f"sample filter {str(self.sample_filter)!r} keeps {int(mask.sum())} "
                         f"of {len(frame)} rows")
        for column in self.columns:
            values = frame[column]
            ok = values.notna()
            if pd.api.types.is_numeric_dtype(values):
                ok &= np.isfinite(values.astype(float))
            dropped = int((mask & ~ok).sum())
            if dropped:
                notes.append(f"{dropped} rows without {column}")
            mask &= ok
        if spec.estimator == "ppml" and (frame.loc[mask, self.dependent] < 0).any():
            raise SpecificationError(
                f"specification {spec.label}: PPML needs a non-negative dependent variable; "
                f"{self.dependent} has negative values")
        self._usable = (mask, notes)
        return mask.copy(), list(notes)

    def _group_codes(self) -> dict[str, np.ndarray]:
        """Integer codes of the fixed-effect and cluster columns over the whole sample (the
        same groups as the labels; missing labels are -1, never in usable rows)."""
        if self._codes is None:
            spec = self.spec
            self._codes = {column: pd.factorize(self.frame[column])[0]
                           for column in dict.fromkeys([*spec.fixed_effects,
                                                        *spec.covariance.groups])}
        return self._codes

    # -- checks -----------------------------------------------------------------------------
    def _check_identification(self, values: np.ndarray, fixed_effects: dict[str, np.ndarray]
                              ) -> None:
        """Refuse an unidentified model: ``values`` (N, K) are the regressors on the rows of
        the fit, ``fixed_effects`` the integer codes of each fixed effect on those rows."""
        spec = self.spec
        terms = list(self.regressors)
        # each fixed effect's groups once (codes 0..k-1; no label is missing in usable rows),
        # and every regressor's largest range within a group of it: 0 = constant in each
        spreads = {}
        n_params = 1 + len(terms)
        rows = len(values)
        for fe in spec.fixed_effects:
            codes = pd.factorize(fixed_effects[fe])[0]
            groups = int(codes.max()) + 1 if len(codes) else 0
            n_params += groups - 1
            # each group's rows side by side, then the range of every regressor per group
            order = np.argsort(codes, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0]) if groups \
                else np.zeros(0, dtype=int)
            ordered = values[order]
            spread = (np.maximum.reduceat(ordered, starts, axis=0)
                      - np.minimum.reduceat(ordered, starts, axis=0)) if groups \
                else np.zeros((0, len(terms)))
            spreads[fe] = pd.Series(spread.max(axis=0, initial=-np.inf), index=terms)
        if rows <= n_params:
            raise SpecificationError(
                f"specification {spec.label}: {rows} observations for {n_params} "
                "parameters (regressors, intercept and fixed-effect dummies); fewer "
                "observations than parameters — widen the sample or drop fixed effects")
        for position, term in enumerate(terms):
            column = values[:, position]
            if (column == column[0]).all():  # finite values (usable rows): one distinct value
                raise SpecificationError(
                    f"specification {spec.label}: regressor {term!r} does not vary in the "
                    f"estimation sample (value {column[0]!r}); it is collinear with "
                    "the intercept")
            for fe in spec.fixed_effects:
                if not spreads[fe][term] > 0:
                    raise SpecificationError(
                        f"specification {spec.label}: regressor {term!r} is constant within "
                        f"every {fe!r} group, so the {FE_LABELS.get(fe, fe + ' FE')} absorbs it; "
                        f"drop the regressor or the fixed effect")

    def _winsorise(self, dependent: np.ndarray, notes: list[str]) -> np.ndarray:
        """The dependent variable clipped at the spec's percentiles (OLS; linear interpolation
        between order statistics, as ``pandas.Series.quantile``), with a note."""
        spec = self.spec
        if not (spec.winsorise and spec.estimator == "ols" and len(dependent)):
            return dependent
        low, high = np.percentile(dependent, [100 * spec.winsorise[0], 100 * spec.winsorise[1]])
        notes.append(f"{self.dependent} winsorised at P{100 * spec.winsorise[0]:g}/"
                     f"P{100 * spec.winsorise[1]:g} ({int((dependent < low).sum())} low, "
                     f"{int((dependent > high).sum())} high values clipped)")
        return np.clip(dependent, low, high)

    def _fit_frame(self, chosen: np.ndarray, notes: list[str]) -> engine.Fit:
        """:func:`eocic.models.engine.fit` (pyfixest) on the rows ``chosen``."""
        spec = self.spec
        # fixed-effect and cluster labels as integer codes, made once per model: the fit
        # and its checks group by them, which is faster on integers than on region codes
        group_codes = self._group_codes()
        data = self.frame.loc[chosen, [c for c in self.columns if c not in group_codes]]
        data = data.reset_index(drop=True)
        for column, codes in group_codes.items():
            data[column] = codes[chosen]
        data = data.loc[:, self.columns]
        if spec.winsorise and spec.estimator == "ols":  # otherwise the column stays as read
            data[self.dependent] = self._winsorise(
                data[self.dependent].to_numpy(dtype=float), notes)
        self._check_identification(data[list(self.regressors)].to_numpy(dtype=float),
                                   {fe: data[fe].to_numpy() for fe in spec.fixed_effects})
        return engine.fit(data, self.dependent, self.regressors, spec.fixed_effects,
                          spec.inference, estimator=spec.estimator, offset=self.offset,
                          label=f"specification {spec.label}")

    def _fit_within(self, chosen: np.ndarray, notes: list[str]) -> engine.Fit:
        """:func:`eocic.models.engine.fit_within_arrays` on the rows ``chosen``: the model's
        columns are taken as arrays once (:meth:`_arrays`), so a refit on a subset of rows
        builds no frame (the 140 re-estimates of a leave-one-country-out check)."""
        spec = self.spec
        dependent, regressors, codes = self._arrays()
        rows = np.flatnonzero(chosen)
        y = self._winsorise(dependent[rows], notes)
        x = regressors[rows]
        fixed_effects = {fe: codes[fe][rows] for fe in spec.fixed_effects}
        self._check_identification(x, fixed_effects)
        cluster = (codes[spec.inference.clusters[0]][rows] if spec.inference.vcov == "CRV1"
                   else None)
        fixed_effect_codes = (np.column_stack([fixed_effects[fe] for fe in spec.fixed_effects])
                              if spec.fixed_effects else None)
        return engine.fit_within_arrays(y, x, self.regressors, fixed_effect_codes,
                                        spec.fixed_effects, cluster, spec.inference,
                                        label=f"specification {spec.label}")

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The dependent variable (N,), the regressors (N, K) as floats over every row of the
        sample (NaN where missing: never in usable rows) and :meth:`_group_codes`; once."""
        if self._numeric is None:
            self._numeric = (
                self.frame[self.dependent].to_numpy(dtype=float, na_value=np.nan),
                self.frame[list(self.regressors)].to_numpy(dtype=float, na_value=np.nan))
        return (*self._numeric, self._group_codes())

    # -- fit --------------------------------------------------------------------------------
    def fit(self, rows: pd.Series | None = None, *, within: bool = False) -> RegressionResults:
        """Estimate the model on ``rows`` (a boolean mask; default: :meth:`usable_rows`).

        ``rows`` lets a table estimate every column on the same (intersection) sample; rows
        outside :meth:`usable_rows` are never used. ``within``: fit through
        :func:`eocic.models.engine.fit_within_arrays` where it supports the model (OLS, iid /
        HC1 / one-way CRV1): the same numbers without a pyfixest model object
        (``fitted.model`` is None) and without a frame per fit (the model's columns are taken
        as arrays once), for the many fits of one model in :mod:`eocic.models.robustness`.
        """
        spec = self.spec
        usable, notes = self.usable_rows()
        if rows is not None:
            rows = rows.reindex(usable.index, fill_value=False)
            lost = int((usable & ~rows).sum())
            usable = usable & rows
            if lost:
                notes.append(f"{lost} rows outside the common sample of the table")
        chosen = usable.to_numpy()
        try:
            if within and engine.fits_within(spec.estimator, spec.inference,
                                             offset=self.offset):
                fitted = self._fit_within(chosen, notes)
            else:
                fitted = self._fit_frame(chosen, notes)
        except engine.EstimationError as error:
            raise SpecificationError(str(error)) from error
        if fitted.singletons:
            notes.append(f"{fitted.singletons} singleton observations (alone in a fixed-effect "
                         "group) dropped")
        for message in fitted.warnings:
            notes.append(f"pyfixest: {message}")
        if fitted.n_clusters is not None and fitted.n_clusters < FEW_CLUSTERS:
            notes.append(f"only {fitted.n_clusters} clusters ({spec.covariance.label}): "
                         "cluster-robust SEs and their p-values may be unreliable with few "
                         "clusters")
        scale = 1.0
        if spec.annualise:
            window = self.frame.loc[usable, "window"] if "window" in self.frame else None
            if window is None or window.nunique() != 1:
                raise SpecificationError(f"specification {spec.label}: annualise needs one "
                                         "growth window (column 'window') in the sample")
            scale = 1.0 / float(window.iloc[0])
            notes.append(f"coefficients and SEs divided by the window of {window.iloc[0]} years")
        table = fitted.coefficients()
        terms = list(self.regressors)
        conf = table[["ci_low", "ci_high"]] * scale
        for proxy, original in self.proxies.items():
            notes.append(f"PROXY: {proxy} stands in for {original} (no data for {original})")
        return RegressionResults(
            spec=spec, dependent=self.dependent, regressors=tuple(terms),
            proxies=dict(self.proxies), params=table["coef"] * scale, bse=table["se"] * scale,
            pvalues=table["pvalue"], tvalues=table["tstat"], conf_int=conf,
            nobs=fitted.nobs, n_groups=fitted.n_clusters, rsquared=fitted.rsquared,
            scale=scale, notes=[f"{spec.name}: {note}" for note in notes], fitted=fitted,
            singletons=fitted.singletons, inference_note=fitted.describe())


@dataclasses.dataclass
class TableResults:
    """The estimated columns of one table, with its sample notes."""

    table: TableSpec
    results: list[RegressionResults]
    sample_notes: list[str]
    common_sample: bool

    def tidy(self) -> pd.DataFrame:
        """The estimated columns' :meth:`RegressionResults.tidy` rows, stacked."""
        frames = [r.tidy() for r in self.results if r.estimated]
        return pd.concat(frames, ignore_index=True) if frames else RegressionResults.not_estimated(
            self.table.models[0], "").tidy()


class TableModel:
    """The columns of a table bound to one estimation sample: each column's model built, and
    the rows it can use chosen, once; fitted on every row (:meth:`fit`) or on a subset of them
    (``fit(rows)``: the re-estimates of :mod:`eocic.models.robustness` without one country).

    Parameters
    ----------
    table : TableSpec
    sample : Sample or DataFrame
        The estimation sample of the table's unit.
    same_sample : bool, optional
        ``True``: every column on the intersection of the rows each column can use (the
        comparison econometricians expect); ``False``: each column on its own rows (N reported
        per column). Default: the table's ``same_sample`` key.
    """

    def __init__(self, table: TableSpec, sample: Sample | pd.DataFrame,
                 same_sample: bool | None = None):
        self.table = table
        self.sample = sample
        self.same_sample = table.same_sample if same_sample is None else same_sample
        self.models: list[RegressionModel | RegressionResults] = []
        for spec in table.models:
            try:
                self.models.append(RegressionModel(spec, sample))
            except ModelUnavailable as reason:
                self.models.append(RegressionResults.not_estimated(spec, str(reason)))
        self.common: pd.Series | None = None
        if self.same_sample:
            for model in self.models:
                if isinstance(model, RegressionModel):
                    mask, _ = model.usable_rows()
                    self.common = mask if self.common is None else (self.common & mask)

    def fit(self, rows: pd.Series | None = None, *, within: bool = False) -> TableResults:
        """Estimate every column; ``rows`` (a boolean mask over the sample's rows, default
        all) restricts every column to those rows, on top of the rows each column can use
        and the table's same-sample rule. The same numbers as building the table on the
        sample cut to ``rows``: the sample filter and the usable rows are row by row, and
        winsorising and the identification checks are made on the rows of each fit.
        ``within``: as in :meth:`RegressionModel.fit`."""
        chosen = self.common
        if rows is not None:
            chosen = rows if chosen is None else (chosen & rows)
        results = [model if isinstance(model, RegressionResults)
                   else model.fit(chosen, within=within) for model in self.models]
        notes = list(self.sample.notes) if isinstance(self.sample, Sample) else []
        return TableResults(self.table, results, notes, self.same_sample)


def estimate_table(table: TableSpec, sample: Sample | pd.DataFrame,
                   same_sample: bool | None = None) -> TableResults:
    """Estimate every column of ``table`` on ``sample`` (:class:`TableModel`).

    Parameters
    ----------
    same_sample : bool, optional
        ``True``: every column on the intersection of the rows each column can use (the
        comparison econometricians expect); ``False``: each column on its own rows (N reported
        per column). Default: the table's ``same_sample`` key.
    """
    return TableModel(table, sample, same_sample).fit()


def estimate_registry(tables: list[TableSpec], samples: dict[str, Sample],
                      same_sample: bool | None = None) -> list[TableResults]:
    """Estimate several tables; ``samples`` maps unit -> :class:`Sample`."""
    estimated = []
    for table in tables:
        if table.unit not in samples:
            raise SpecificationError(f"specification table {table.name}: no {table.unit} sample "
                                     f"was built (have {', '.join(samples)})")
        estimated.append(estimate_table(table, samples[table.unit], same_sample))
    return estimated


def results_frame(estimated: list[TableResults], *, t0: int, T: int) -> pd.DataFrame:
    """Every coefficient of every table: the ``regressions`` table
    (:data:`eocic.tables.REGRESSIONS`, the output contract of stage 04), for the growth
    window ``t0``-``T`` (years)."""
    frames = [frame for frame in (table.tidy() for table in estimated) if len(frame)]
    frame = (pd.concat(frames, ignore_index=True) if frames
             else empty_frame(REGRESSIONS).drop(columns=["t0", "T"]))
    frame["t0"] = pd.Series(int(t0), index=frame.index, dtype="int64")
    frame["T"] = pd.Series(int(T), index=frame.index, dtype="int64")
    return frame.loc[:, REGRESSIONS.column_names].reset_index(drop=True)
