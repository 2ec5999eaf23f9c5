"""Figures of the scoreboard notebook (matplotlib / seaborn); each returns the Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from eocic import plotting
from eocic.measures import spearman_rho
from eocic.plotting import place_labels

plotting.configure()


def correlation_heatmap(correlation: pd.DataFrame, title: str = ""):
    """Indicator correlation matrix (Pearson r of the normalised values, -1 to 1)."""
    size = max(6, 0.45 * len(correlation))
    figure, axis = plt.subplots(figsize=(size, size * 0.85))
    sns.heatmap(correlation, vmin=-1, vmax=1, cmap="RdBu_r", center=0, annot=len(correlation) <= 20,
                fmt=".1f", annot_kws={"size": 7}, square=True, ax=axis,
                cbar_kws={"shrink": 0.7, "label": "Pearson r"})
    axis.set_title(title)
    figure.tight_layout()
    return figure


def score_distributions(scores: pd.DataFrame, names: dict[str, str], title: str = ""):
    """Box plots of the dimension scores (0-100) across regions (one year)."""
    long = scores.melt(var_name="code", value_name="score").dropna()
    long["dimension"] = long["code"].map(names)
    figure, axis = plt.subplots(figsize=(8, 0.5 * scores.shape[1] + 1.5))
    sns.boxplot(data=long, y="dimension", x="score", ax=axis, color="#9ecae1", fliersize=2)
    axis.set_xlabel("score (0-100)")
    axis.set_ylabel("")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def radar(profile: pd.DataFrame, region: str, names: dict[str, str], title: str = ""):
    """Radar chart of a region (black, filled) against its peers: dimension scores (0-100) of
    ``profile`` (geo x dimensions), one axis per dimension."""
    labels = [names.get(code, code) for code in profile.columns]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False).tolist()
    angles += angles[:1]
    figure = plt.figure(figsize=(7, 7.4), layout="constrained")
    axis = figure.add_subplot(polar=True)
    for geo, row in profile.iterrows():
        values = row.tolist() + row.tolist()[:1]
        own = geo == region
        axis.plot(angles, values, linewidth=2.5 if own else 1, label=geo,
                  color="black" if own else None, alpha=1 if own else 0.7)
        if own:
            axis.fill(angles, values, alpha=0.1, color="black")
    axis.set_xticks(angles[:-1])
    axis.set_xticklabels(labels, fontsize=8)
    axis.tick_params(axis="x", pad=10)  # names clear of the outer circle
    axis.set_ylim(0, 100)
    axis.set_rlabel_position(180 / len(labels))  # scale labels between two axes, not on one
    # legend in one row under the chart, title above the axis names: nothing overlaps
    figure.legend(loc="outside lower center", ncol=min(len(profile), 6), fontsize=8,
                  frameon=False)
    axis.set_title(title, pad=24)
    return figure


def rank_uncertainty(summary: pd.DataFrame, highlight: list[str] | None = None, title: str = ""):
    """Median rank (dot) and nominal rank (cross) of every region with the 5-95 % interval of
    its Monte Carlo ranks (bar; 1 = best), regions sorted by median rank. The ``highlight``
    regions (the profiled region first, drawn black, then its peers) are named, labels placed
    so that they do not overlap (:func:`eocic.plotting.place_labels`)."""
    data = summary.dropna(subset=["rank_median"]).sort_values(["rank_median", "geo"])
    positions = np.arange(len(data))
    figure, axis = plt.subplots(figsize=(12, 4.5))
    axis.vlines(positions, data["rank_p05"], data["rank_p95"], color="#9ecae1", linewidth=1)
    axis.scatter(positions, data["rank_median"], s=4, color="#08519c", label="median rank")
    if "nominal_rank" in data:
        axis.scatter(positions, data["nominal_rank"], s=4, color="#de2d26", marker="x",
                     label="nominal rank", linewidths=0.6)
    codes = data["geo"].to_numpy()
    shown = [geo for geo in dict.fromkeys(highlight or []) if geo in set(codes)]
    where = [int(np.flatnonzero(codes == geo)[0]) for geo in shown]
    if shown:
        axis.scatter(where[:1], data["rank_median"].iloc[where[:1]], s=18, color="black",
                     zorder=3, label=shown[0])
    axis.invert_yaxis()
    axis.set_xlabel("regions, sorted by median rank")
    axis.set_ylabel("rank (1 = best), 5-95 % interval")
    axis.legend(loc="upper right")  # the sorted ranks run from upper left to lower right
    axis.set_title(title)
    figure.tight_layout()
    place_labels(axis, where, [float(data["rank_median"].iloc[i]) for i in where], shown,
                 fontsize=8, gaps=(6, 14, 24),
                 directions=((0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)))
    return figure


def external_scatter(scores: pd.Series, reference: pd.Series, title: str = ""):
    """Ranks (1 = best) of the composite against ranks of a published index over the regions
    both score; the title adds Spearman's rank correlation and the number of regions."""
    joined = pd.concat([scores.rename("composite"), reference.rename("reference")], axis=1,
                       join="inner").dropna()
    reference_rank = joined["reference"].rank(ascending=False)
    composite_rank = joined["composite"].rank(ascending=False)
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.scatter(reference_rank, composite_rank, s=8, alpha=0.7)
    axis.set_xlabel(f"rank in {reference.name} (1 = best)")
    axis.set_ylabel("rank in the open composite (1 = best)")
    rho = spearman_rho(joined["composite"], joined["reference"]) if len(joined) > 2 \
        else float("nan")
    axis.set_title(f"{title}\nSpearman rho = {rho:.2f}, {len(joined)} regions".strip(),
                   fontsize=10)
    figure.tight_layout()
    return figure
