"""Benchmark: stage 04's estimation on the pyfixest engine against the statsmodels path it replaced.

Usage::

    python bench/regressions_engine.py [--processed DIR] [--year 2020] [--repeat 3]

Builds the estimation samples of every shipped table (A, A_ppml, B, C) of the demo economy,
grouping ``auto`` as stage 04 does, then times, in the same process,

* the new path: :func:`eocic.models.estimation.estimate_registry` (pyfixest, fixed effects
  absorbed), with the old engine's inference settings (``k_fixef: full``, singletons kept, t
  p-values: :data:`eocic.models.engine.STATSMODELS_DUMMIES`) so both paths compute the same
  numbers, which the bench checks;
* the baseline: eocic's statsmodels path before issue 13, kept here only as the reference
  (:func:`statsmodels_fit`): the same rows and checks, fixed effects as ``C(fe)`` dummies in
  ``smf.ols`` / ``smf.glm(Poisson)``, the pivoted-QR rank check of the dummy design, one BLAS
  thread, cluster covariance with ``use_t``.

Each path runs once to warm up (imports, numba compilation), then ``--repeat`` times; the best
time of each is compared and the ratio printed, with the largest differences between the two
paths' numbers (they must agree within the PPML convergence tolerance, else exit 1). ``--processed`` takes a run's processed folder
(stage 01 done); without it the demo economy is generated and stage 01 run in a temporary
folder first (about a minute, not timed). No wall-clock assertion anywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.linalg
import statsmodels.api as sm
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

from eocic.models import engine, estimation, specifications, variables
from eocic.models.regressions import choose_grouping, load_tables

from demo_runs import demo_processed


def statsmodels_fit(model: estimation.RegressionModel, rows: pd.Series | None):
    """Baseline: the statsmodels estimation of eocic before issue 13 (coefficients, SEs and
    p-values of the regressors, N and clusters), on the rows :meth:`RegressionModel.fit`
    would use."""
    spec = model.spec
    usable, _ = model.usable_rows()
    if rows is not None:
        usable = usable & rows.reindex(usable.index, fill_value=False)
    data = model.frame.loc[usable, model.columns].copy().reset_index(drop=True)
    if spec.winsorise and spec.estimator == "ols" and len(data):
        low, high = data[model.dependent].quantile(list(spec.winsorise))
        data[model.dependent] = data[model.dependent].clip(low, high)
    for column in spec.fixed_effects:
        data[column] = data[column].astype(str)
    model._check_identification(data)
    formula = f"{model.dependent} ~ " + " + ".join(
        list(model.regressors) + [f"C({fe})" for fe in spec.fixed_effects])
    with threadpool_limits(limits=1, user_api="blas"):
        if spec.estimator == "ols":
            fitted_model = smf.ols(formula, data=data)
        else:
            fitted_model = smf.glm(formula, data=data, family=sm.families.Poisson(),
                                   offset=data[model.offset].to_numpy() if model.offset else None)
        exog = fitted_model.exog
        norms = np.linalg.norm(exog, axis=0)
        scaled = exog / norms
        _, r, _ = scipy.linalg.qr(scaled.T @ scaled, pivoting=True)
        diagonal = np.abs(np.diag(r))
        if int((diagonal > diagonal[0] * 1e-10).sum()) < exog.shape[1]:
            raise RuntimeError(f"{spec.label}: singular design")
        kwargs: dict = {"use_t": True}
        n_groups = None
        if spec.covariance.kind == "cluster":
            codes = data.groupby(list(spec.covariance.groups), sort=True).ngroup().to_numpy()
            n_groups = int(codes.max()) + 1
            kwargs |= {"cov_type": "cluster", "cov_kwds": {"groups": codes}}
        elif spec.covariance.kind != "nonrobust":
            kwargs["cov_type"] = spec.covariance.kind
        fitted = fitted_model.fit(**kwargs)
    terms = list(model.regressors)
    return {"params": fitted.params[terms], "bse": fitted.bse[terms],
            "pvalues": fitted.pvalues[terms], "nobs": int(fitted.nobs), "n_groups": n_groups}


def statsmodels_registry(tables, samples) -> list[list[dict | None]]:
    """Baseline :func:`estimate_registry`: every table, same-sample rule included."""
    estimated = []
    for table in tables:
        sample = samples[table.unit]
        models = []
        for spec in table.models:
            try:
                models.append(estimation.RegressionModel(spec, sample))
            except estimation.ModelUnavailable:
                models.append(None)
        common = None
        if table.same_sample:
            for model in models:
                if model is not None:
                    mask, _ = model.usable_rows()
                    common = mask if common is None else (common & mask)
        estimated.append([statsmodels_fit(m, common) if m is not None else None
                          for m in models])
    return estimated


def with_old_settings(table: specifications.TableSpec) -> specifications.TableSpec:
    """The table with the old engine's inference settings (same numbers as the baseline)."""
    models = tuple(dataclasses.replace(spec, inference=dataclasses.replace(
        spec.inference, **engine.STATSMODELS_DUMMIES)) for spec in table.models)
    return dataclasses.replace(table, models=models)


def best_time(function, repeat: int) -> tuple[float, object]:
    function()  # warm up: imports, numba compilation, caches
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", default=None,
                        help="processed folder of a run (stage 01 done); default: demo")
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        processed = (Path(args.processed) if args.processed
                     else demo_processed(Path(scratch), args.year))
        data = load_tables(processed)
        tables = [with_old_settings(t) for t in specifications.shipped_registry().values()]
        start, end = variables.growth_window(data["sbs"]["year"], args.year, 0, 5)
        grouping, _ = choose_grouping("auto", data["sbs"]["nace_r2"].unique(),
                                      processed_dir=processed, year=start)
        units = tuple(dict.fromkeys(t.unit for t in tables))
        samples = variables.build_samples(data, grouping, start, end, units)
        setup = time.perf_counter() - started

        new_seconds, new = best_time(
            lambda: estimation.estimate_registry(tables, samples), args.repeat)
        old_seconds, old = best_time(lambda: statsmodels_registry(tables, samples), args.repeat)

    fits, relative, absolute = 0, 0.0, 0.0
    for new_table, old_table in zip(new, old):
        for result, reference in zip(new_table.results, old_table):
            if reference is None:
                assert not result.estimated
                continue
            fits += 1
            assert result.nobs == reference["nobs"] and result.n_groups == reference["n_groups"]
            scale = result.scale
            for ours, theirs in ((result.params, reference["params"] * scale),
                                 (result.bse, reference["bse"] * scale)):
                relative = max(relative, float(np.max(np.abs(ours / theirs - 1))))
            absolute = max(absolute, float(np.max(np.abs(result.pvalues - reference["pvalues"]))))
    where = "demo" if args.processed is None else str(args.processed)
    print(f"stage 04 estimation, {where} {start}-{end}: {len(tables)} tables, {fits} fits "
          f"(samples: {', '.join(f'{u} {len(s.frame):,} rows' for u, s in samples.items())}; "
          f"setup {setup:.0f} s, not timed)")
    print(f"pyfixest engine:  {new_seconds:.2f} s (best of {args.repeat})")
    print(f"statsmodels path: {old_seconds:.2f} s (best of {args.repeat})")
    print(f"ratio statsmodels / pyfixest: {old_seconds / new_seconds:.1f}x "
          f"(same N and clusters; coef and SE within {relative:.1e} relative, p-values within "
          f"{absolute:.1e})")
    # PPML: pyfixest's IRLS stops at a relative deviance change of 1e-8, statsmodels' GLM at
    # its own tolerance, so the two agree to about 1e-4 relative, not to rounding
    if relative > 1e-4 or absolute > 1e-6:
        print("the two paths disagree beyond the PPML convergence tolerance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
