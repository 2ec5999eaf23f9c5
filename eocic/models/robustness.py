"""Leave-one-country-out robustness of a regression table (methodology section 4.3).

:func:`leave_one_country_out` re-estimates every column of a registry table (default ``A``)
on the sample without each country in turn, through :class:`eocic.models.estimation.
TableModel` (the same sample rules, fixed effects, covariance and identification checks as
the published table, its models built once and fitted on the rows of the other countries),
and returns

- ``estimates``: one row per dropped country x model x term (``country_dropped`` is ``""`` for
  the full sample): ``coef, se, pvalue, ci_low, ci_high, nobs, n_groups``, ``sign_kept`` (the
  sign of the full-sample coefficient kept) and ``note`` (why a re-estimate failed);
- ``summary``: one row per model x term: the full-sample ``coef``, ``coef_min`` / ``coef_max``
  over the re-estimates and the country whose removal gives each, ``share_sign_kept`` (share of
  the re-estimates with the full-sample sign), ``share_significant`` (p < 0.05 with that sign)
  and ``countries`` (re-estimates made).

Reading it: a coefficient whose sign or significance flips when one country is dropped rests on
that country (a large country, or one whose regions drive the within-region variation), not on
a pattern common to the EU; the methodology lists this check beside PPML.

:func:`leave_one_country_out_figure` draws the re-estimates of one term against the
full-sample estimate and its 95% interval.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eocic import plotting
from eocic.errors import EocicError
from eocic.models.estimation import TableModel
from eocic.models.specifications import SpecificationError, TableSpec
from eocic.models.variables import VARIABLE_LABELS, Sample

plotting.configure()

ESTIMATE_COLUMNS = ("country_dropped", "model", "term", "coef", "se", "pvalue", "ci_low",
                    "ci_high", "nobs", "n_groups", "expected_sign", "sign_kept", "note")
"""Columns of :attr:`LeaveOneCountryOut.estimates`."""

SUMMARY_COLUMNS = ("model", "term", "expected_sign", "coef", "coef_min", "dropped_at_min",
                   "coef_max", "dropped_at_max", "share_sign_kept", "share_significant",
                   "countries")
"""Columns of :attr:`LeaveOneCountryOut.summary`."""

SIGNIFICANCE = 0.05
"""p-value below which a re-estimate counts as significant in ``share_significant``."""


class LeaveOneOutError(EocicError, ValueError):
    """A leave-one-country-out run cannot be made: no ``country`` column, fewer than two
    countries, a country asked for that the sample lacks, or a model name the table lacks."""


@dataclasses.dataclass
class LeaveOneCountryOut:
    """Re-estimates of a table without each country (module docstring for the columns)."""

    table: str
    estimates: pd.DataFrame
    summary: pd.DataFrame


def _frame(sample: Sample | pd.DataFrame) -> pd.DataFrame:
    return sample.frame if isinstance(sample, Sample) else sample


def _tidy(table: TableModel, rows: pd.Series | None = None, *,
          within: bool = False) -> pd.DataFrame:
    tidy = table.fit(rows, within=within).tidy()
    columns = ["model", "term", "coef", "se", "pvalue", "ci_low", "ci_high", "nobs",
               "n_groups", "expected_sign"]
    return tidy.loc[:, columns]


def leave_one_country_out(table: TableSpec, sample: Sample | pd.DataFrame, *,
                          models: list[str] | None = None,
                          countries: list[str] | None = None,
                          same_sample: bool | None = None) -> LeaveOneCountryOut:
    """Re-estimate ``table`` on ``sample`` without each country in turn.

    Parameters
    ----------
    table : TableSpec
        A registry table (``shipped_registry()["A"]`` by default in the notebook).
    sample : Sample or DataFrame
        The table's estimation sample; needs a ``country`` column (the samples of
        :mod:`eocic.models.variables` have one: the first two letters of the NUTS code).
    models : list of str, optional
        Names of the table's columns to re-estimate (default: all). Each re-estimate costs
        one fit per column, so a notebook may pick the headline column. With a subset and
        ``same_sample``, the intersection sample is that of the chosen columns: the
        full-sample row (``country_dropped == ""``) is then the reference of the re-estimates
        and may hold more observations than the published table's column.
    countries : list of str, optional
        Countries to drop (default: every country of the sample, sorted).
    same_sample : bool, optional
        As in :func:`eocic.models.estimation.estimate_table` (default: the table's key).

    A re-estimate that the identification checks refuse (a regressor absorbed once a country
    is gone, fewer observations than parameters: :class:`SpecificationError`) is kept as a row
    without a coefficient and with the reason in ``note``; it never stops the others.

    Raises
    ------
    LeaveOneOutError
        No ``country`` column, fewer than two countries, an unknown country or model name.
    SpecificationError
        The full-sample table itself cannot be estimated.
    """
    frame = _frame(sample)
    if "country" not in frame.columns:
        raise LeaveOneOutError(f"leave-one-country-out of table {table.name}: the sample has no "
                               "'country' column (build it with eocic.models.variables)")
    present = sorted(frame["country"].dropna().astype(str).unique())
    if len(present) < 2:
        raise LeaveOneOutError(f"leave-one-country-out of table {table.name}: the sample holds "
                               f"{len(present)} country ({', '.join(present) or 'none'}); at "
                               "least two are needed")
    chosen = present if countries is None else list(countries)
    unknown = [country for country in chosen if country not in present]
    if unknown:
        raise LeaveOneOutError(f"leave-one-country-out of table {table.name}: countries "
                               f"{', '.join(map(str, unknown))} are not in the sample (it has "
                               f"{', '.join(present)})")
    names = [spec.name for spec in table.models]
    if models is not None:
        missing = [name for name in models if name not in names]
        if missing:
            raise LeaveOneOutError(f"leave-one-country-out of table {table.name}: no column "
                                   f"named {', '.join(map(repr, missing))}; the columns are "
                                   f"{', '.join(map(repr, names))}")
    # the columns' models are built and their usable rows chosen once; each re-estimate fits
    # them on the rows of the other countries (the same numbers as a sample without the
    # country: TableModel.fit), OLS columns through engine.fit_within (pyfixest's numbers
    # without its formula layer: 140 fits of table A in about a quarter of the time)
    columns = table if models is None else dataclasses.replace(
        table, models=tuple(spec for spec in table.models if spec.name in models))
    bound = TableModel(columns, sample, same_sample)
    full = _tidy(bound).assign(country_dropped="", note="")
    pieces = [full]
    for country in chosen:
        try:
            rows = _tidy(bound, frame["country"] != country, within=True)
            rows = rows.assign(country_dropped=country, note="")
        except SpecificationError as refused:
            rows = full[["model", "term", "expected_sign"]].assign(
                country_dropped=country, note=str(refused))
        pieces.append(rows)
    estimates = pd.concat(pieces, ignore_index=True)
    reference = full.set_index(["model", "term"])["coef"]
    keys = pd.MultiIndex.from_frame(estimates[["model", "term"]])
    full_coef = reference.reindex(keys).to_numpy()
    estimates["sign_kept"] = (np.sign(estimates["coef"].to_numpy(dtype=float))
                              == np.sign(full_coef)) & estimates["coef"].notna().to_numpy()
    estimates = estimates.loc[:, list(ESTIMATE_COLUMNS)]
    return LeaveOneCountryOut(table.name, estimates, _summary(estimates))


def _summary(estimates: pd.DataFrame) -> pd.DataFrame:
    rows = []
    full = estimates[estimates["country_dropped"] == ""]
    for (model, term), reference in full.groupby(["model", "term"], sort=False):
        dropped = estimates[(estimates["country_dropped"] != "") & (estimates["model"] == model)
                            & (estimates["term"] == term)]
        made = dropped[dropped["coef"].notna()]
        coef = float(reference["coef"].iloc[0])
        significant = made["sign_kept"] & (made["pvalue"] < SIGNIFICANCE)
        rows.append({
            "model": model, "term": term, "expected_sign": reference["expected_sign"].iloc[0],
            "coef": coef,
            "coef_min": float(made["coef"].min()) if len(made) else np.nan,
            "dropped_at_min": made.loc[made["coef"].idxmin(), "country_dropped"] if len(made)
            else "",
            "coef_max": float(made["coef"].max()) if len(made) else np.nan,
            "dropped_at_max": made.loc[made["coef"].idxmax(), "country_dropped"] if len(made)
            else "",
            "share_sign_kept": float(made["sign_kept"].mean()) if len(made) else np.nan,
            "share_significant": float(significant.mean()) if len(made) else np.nan,
            "countries": int(len(made)),
        })
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def leave_one_country_out_figure(result: LeaveOneCountryOut, model: str, term: str) -> Figure:
    """The re-estimates of ``term`` in column ``model``, one point (with its 95% interval) per
    dropped country, against the full-sample coefficient (solid line) and its 95% interval
    (band); the dashed line marks 0. Units: those of the coefficient (log points of annual
    growth per log point of the regressor for table A). Returns a plain ``Figure``."""
    rows = result.estimates[(result.estimates["model"] == model)
                            & (result.estimates["term"] == term)]
    if rows.empty:
        raise LeaveOneOutError(f"leave-one-country-out of table {result.table}: no estimate of "
                               f"{term!r} in column {model!r}")
    full = rows[rows["country_dropped"] == ""].iloc[0]
    dropped = rows[(rows["country_dropped"] != "") & rows["coef"].notna()]
    figure = Figure(figsize=(7.5, 0.22 * max(len(dropped), 8) + 1.4))
    axes = figure.add_subplot()
    positions = np.arange(len(dropped))
    axes.axvspan(full["ci_low"], full["ci_high"], color="#cccccc", alpha=0.5,
                 label="full sample, 95% CI")
    axes.axvline(full["coef"], color="#333333", linewidth=1.2, label="full sample")
    axes.axvline(0.0, color="#999999", linestyle="--", linewidth=0.8)
    colours = np.where(dropped["sign_kept"], "#1b7837", "#b2182b")
    axes.errorbar(dropped["coef"], positions,
                  xerr=[dropped["coef"] - dropped["ci_low"], dropped["ci_high"] - dropped["coef"]],
                  fmt="none", ecolor="#777777", elinewidth=0.8)
    axes.scatter(dropped["coef"], positions, c=list(colours), s=18, zorder=3)
    axes.set_yticks(positions, [f"without {c}" for c in dropped["country_dropped"]], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("coefficient (95% CI)")
    axes.set_title(f"Table {result.table}, {model}: {VARIABLE_LABELS.get(term, term)}",
                   fontsize=9)
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    return figure
