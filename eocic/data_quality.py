"""Figures that show what the data cover: availability by country x indicator, confidentiality.

Pure plotting functions on the pipeline's summary tables (see :mod:`eocic.pipeline`); each
returns the matplotlib ``Figure`` so a notebook shows it and a test can inspect it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from eocic import plotting

plotting.configure()


def coverage_matrix(coverage: pd.DataFrame) -> pd.DataFrame:
    """Share of NUTS-2 cells with a value, countries in rows, ``table:indicator`` in columns."""
    labelled = coverage.assign(series=coverage["table"] + ": " + coverage["indicator"])
    return labelled.pivot_table(index="country", columns="series", values="share",
                                aggfunc="first").sort_index()


def plot_coverage(coverage: pd.DataFrame, *, title: str | None = None) -> plt.Figure:
    """Heatmap of data availability: share of a country's NUTS-2 cells with a value (0-100 %),
    countries in rows, ``table: indicator`` in columns.

    Every row and column is labelled. Country codes are horizontal, 9 pt on rows 0.28 in
    (20 pt) high, whatever the number of countries (seaborn writes row labels vertically when
    they fit, and vertical codes of adjacent rows read as one word: "BEAT", "CYBG")."""
    matrix = coverage_matrix(coverage) * 100
    height = max(4.0, 0.28 * len(matrix) + 1.5)
    width = max(6.0, 0.45 * len(matrix.columns) + 3)
    figure, axis = plt.subplots(figsize=(width, height))
    sns.heatmap(matrix, vmin=0, vmax=100, cmap="viridis", annot=False, linewidths=0.3,
                xticklabels=True, yticklabels=True,
                cbar_kws={"label": "% of NUTS-2 cells with a value"}, ax=axis)
    axis.tick_params(axis="y", labelsize=9, labelrotation=0)
    axis.tick_params(axis="x", labelsize=9, labelrotation=90)
    axis.set_xlabel("")
    axis.set_ylabel("country")
    year = int(coverage["year"].iloc[0]) if len(coverage) else None
    axis.set_title(title or f"Data availability by country and indicator, {year}")
    figure.tight_layout()
    return figure


def plot_confidentiality(flags_summary: pd.DataFrame, *, year: int) -> plt.Figure:
    """Bar chart: share of SBS employment cells that are confidential, by country."""
    ordered = flags_summary.sort_values("confidential_share", ascending=False)
    figure, axis = plt.subplots(figsize=(max(6.0, 0.3 * len(ordered) + 2), 3.5))
    axis.bar(ordered["country"], ordered["confidential_share"] * 100, color="#4c72b0")
    axis.set_ylabel("% of region x division cells")
    axis.set_title(f"Confidential employment cells (flag c/C) in regional SBS, {year}")
    axis.tick_params(axis="x", rotation=90)
    figure.tight_layout()
    return figure
