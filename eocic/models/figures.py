"""Coefficient plot: point estimates with 95% confidence intervals, one panel per term.

The figure is a plain :class:`matplotlib.figure.Figure`, not a pyplot one: a notebook shows it
with ``display(figure)``, as an image (the PNG format :func:`eocic.plotting.configure`
selects for every ``Figure``), and pyplot's inline backend, which does not know it, cannot show
it a second time, or as a ``<Figure ... with 0 Axes>`` line once the cell has cleared it.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from eocic import plotting
from eocic.models.variables import VARIABLE_LABELS
from eocic.presentation import figure_text

plotting.configure()

SIGN_COLOURS = {"+": "#1b7837", "-": "#762a83", "": "#444444"}


def coefficient_plot(tidy: pd.DataFrame, terms: list[str] | None = None,
                     title: str | None = None) -> Figure:
    """Coefficients with 95% CIs (``ci_low``, ``ci_high``), one panel per term.

    Parameters
    ----------
    tidy : DataFrame
        Rows of :meth:`RegressionResults.tidy` / ``regressions.parquet`` (``spec, model, term,
        coef, ci_low, ci_high, expected_sign``).
    terms : list of str, optional
        Terms to show (default: every term, in order of appearance).
    title : str, optional

    x: the coefficient in the units of its model (outcome per unit of the term: log points
    of growth per log point of LQ, for instance) with its 95% interval; y: one row per
    ``spec / model``. The dashed line marks 0; the marker colour gives the published expected
    sign (green +, purple -, grey none). Returns a plain ``Figure`` (module docstring).
    """
    if tidy.empty:
        raise ValueError("coefficient_plot: no coefficients to plot")
    terms = terms or list(dict.fromkeys(tidy["term"]))
    panels = [t for t in terms if (tidy["term"] == t).any()]
    if not panels:
        raise ValueError(f"coefficient_plot: none of the terms {terms} is in the results")
    heights = [max(1.0, 0.35 * (tidy["term"] == t).sum()) for t in panels]
    figure = Figure(figsize=(7.5, 1.2 + sum(heights)))
    axes = figure.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights},
                           squeeze=False)
    for axis, term in zip(axes[:, 0], panels):
        rows = tidy[tidy["term"] == term].reset_index(drop=True)
        # table and model names come from a user's YAML: drawn as text, never as mathtext
        labels = [figure_text(label) for label in rows["spec"] + " / " + rows["model"]]
        positions = range(len(rows))[::-1]
        sign = rows["expected_sign"].iloc[0] if "expected_sign" in rows else None
        sign = sign if isinstance(sign, str) else ""  # null: no published sign
        colour = SIGN_COLOURS.get(sign, SIGN_COLOURS[""])
        axis.errorbar(rows["coef"], list(positions),
                      xerr=[rows["coef"] - rows["ci_low"], rows["ci_high"] - rows["coef"]],
                      fmt="o", color=colour, ecolor=colour, capsize=3)
        axis.axvline(0.0, color="#999999", linewidth=0.8, linestyle="--")
        axis.set_yticks(list(positions), labels, fontsize=8)
        expected = f" (expected {sign})" if sign else ""
        axis.set_title(figure_text(VARIABLE_LABELS.get(term, term)) + expected, fontsize=9,
                       loc="left")
        axis.tick_params(axis="x", labelsize=8)
    axes[-1, 0].set_xlabel("coefficient with 95% confidence interval", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    # the top 0.25 in is the title's: tight_layout alone let the first panel's title run into it
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.25 / figure.get_figheight()) if title else None)
    return figure
