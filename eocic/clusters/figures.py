"""Figures of the cluster mapping; each function returns a matplotlib ``Figure``.

Inputs are the tables of :mod:`eocic.clusters.mapping` (``cluster_mapping`` and
``cluster_linkages``); the functions select, never recompute, indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from eocic import plotting
from eocic.plotting import place_labels
from eocic.presentation import escape_markdown, markdown_code

plotting.configure()

CLASS_COLOURS: dict[str, str] = {"high": "#c0392b", "medium": "#e67e22", "basic": "#f1c40f",
                                 "none": "#95a5a6"}


def _select(table: pd.DataFrame, *, scheme: str | None = None, year: int | None = None,
            geo: str | None = None) -> pd.DataFrame:
    selected = table
    if scheme is not None:
        selected = selected[selected["scheme"] == scheme]
    if year is not None:
        selected = selected[selected["year"] == year]
    if geo is not None:
        selected = selected[selected["geo"] == geo]
    if selected.empty:
        raise ValueError(f"no cluster mapping rows for scheme={scheme!r}, year={year!r}, "
                         f"geo={geo!r}")
    return selected


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


#: Ticks of a log LQ axis (plain numbers, not powers of ten).
LQ_TICKS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32)
#: Area (points^2) of the largest bubble of a portfolio chart.
BUBBLE_AREA = 2000.0


def _bubble_area(employment: pd.Series | float, largest: float) -> pd.Series | float:
    return employment * BUBBLE_AREA / max(largest, 1.0) + 8


def _round_sizes(largest: float) -> list[float]:
    """Up to three round employment values (1, 2 or 5 x 10^k, at most ``largest``) for the
    bubble-size key: about the largest, a quarter and a twentieth of it."""
    if not largest >= 1:
        return []

    def round_down(value: float) -> float:
        power = 10 ** np.floor(np.log10(value))
        return max(step * power for step in (1, 2, 5) if step * power <= value)

    values = {round_down(largest / share) for share in (20, 4, 1) if largest / share >= 1}
    return sorted(values)


def draw_portfolio(axis, data: pd.DataFrame, *, labels: int = 10) -> list:
    """Draw a portfolio bubble chart on ``axis`` and return the labels drawn.

    ``data``: one region's categories with ``lq`` (> 0), ``growth`` (fraction per year),
    ``employment`` (persons), ``performance_class`` (``high``/``medium``/``basic``, empty or NaN
    = not a cluster), ``category_name`` and optionally ``stars``. x = LQ on a log axis (dotted:
    1, dashed: 2 = the specialisation star), y = growth in % per year, bubble area =
    employment, colour = performance class. Legends (class, bubble size) go outside the axes,
    right. Up to ``labels`` bubbles are named, clusters first (most stars, then employment),
    then the largest others, placed by :func:`eocic.plotting.place_labels` so that no two labels
    overlap (a label with no free position is left out). The figure's layout is final when
    this returns.
    """
    data = data.copy()
    data["class"] = data["performance_class"].fillna("none").replace("", "none")
    largest = float(data["employment"].max())
    for name in ("none", "basic", "medium", "high"):
        part = data[data["class"] == name]
        if len(part):
            axis.scatter(part["lq"], part["growth"] * 100,
                         s=_bubble_area(part["employment"], largest),
                         color=CLASS_COLOURS[name], alpha=0.65, edgecolor="black",
                         linewidth=0.4)
    axis.set_xscale("log")
    low, high = float(data["lq"].min()), float(data["lq"].max())
    axis.set_xlim(low / 1.4, high * 1.4)
    axis.xaxis.set_major_locator(FixedLocator(
        [v for v in LQ_TICKS if low / 1.4 <= v <= high * 1.4] or [1.0]))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.xaxis.set_minor_formatter(NullFormatter())
    spread = float(np.ptp(data["growth"] * 100)) or 1.0
    axis.set_ylim(float(data["growth"].min() * 100) - 0.08 * spread,
                  float(data["growth"].max() * 100) + 0.08 * spread)
    axis.axvline(2.0, color="black", linestyle="--", linewidth=0.8)
    axis.axvline(1.0, color="grey", linestyle=":", linewidth=0.8)
    axis.axhline(0.0, color="grey", linewidth=0.8)
    handles = [Line2D([], [], linestyle="", marker="o", markersize=8, alpha=0.65,
                      markerfacecolor=CLASS_COLOURS[name], markeredgecolor="black",
                      markeredgewidth=0.4, label=name if name != "none" else "not a cluster")
               for name in ("high", "medium", "basic", "none") if (data["class"] == name).any()]
    sizes = [Line2D([], [], linestyle="", marker="o", markerfacecolor="none",
                    markeredgecolor="black", markeredgewidth=0.6,
                    markersize=float(np.sqrt(_bubble_area(value, largest))),
                    label=f"{value:,.0f}") for value in _round_sizes(largest)]
    classes = axis.legend(handles=handles, title="performance class", fontsize=8,
                          title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                          frameon=False)
    if sizes:
        axis.add_artist(classes)
        classes.set_clip_on(False)  # else the layout, taking it for clipped, leaves it out
        widest = max(handle.get_markersize() for handle in sizes)   # points
        axis.legend(handles=sizes, title="employment", fontsize=8, title_fontsize=8,
                    loc="lower left", bbox_to_anchor=(1.01, 0.0), frameon=False,
                    labelspacing=1.6, borderpad=1.0, handlelength=widest / 8 + 0.5)
    axis.figure.tight_layout()
    rank = data.assign(is_cluster=data["class"] != "none",
                       star_count=data["stars"].fillna(0) if "stars" in data else 0)
    chosen = rank.sort_values(["is_cluster", "star_count", "employment"],
                              ascending=[False, False, False], kind="mergesort").head(labels)
    others = data.drop(index=chosen.index)
    return place_labels(axis, chosen["lq"].tolist(), (chosen["growth"] * 100).tolist(),
                        [_short(str(name), 26) for name in chosen["category_name"]],
                        radii=np.sqrt(_bubble_area(chosen["employment"], largest)) / 2,
                        avoid=list(zip(others["lq"], others["growth"] * 100)),
                        avoid_radii=np.sqrt(_bubble_area(others["employment"], largest)) / 2)


def plot_portfolio(table: pd.DataFrame, geo: str, year: int, scheme: str, *,
                   labels: int = 10, title: str | None = None) -> plt.Figure:
    """Bubble chart of a region's portfolio (:func:`draw_portfolio`): location quotient (log
    axis) vs employment growth (% per year, CAGR over ``growth_years``), bubble area =
    employment (persons), colour = performance class (grey: not a cluster); the clusters and
    largest categories are named without overlapping labels."""
    data = _select(table, scheme=scheme, year=year, geo=geo)
    data = data[(data["lq"] > 0) & data["growth"].notna() & data["employment"].notna()]
    figure, axis = plt.subplots(figsize=(10, 6))
    if data.empty:
        axis.text(0.5, 0.5, "no category with LQ and growth", ha="center", transform=axis.transAxes)
        return figure
    growth_years = int(data["growth_years"].mode().iloc[0])
    axis.set_xlabel("location quotient (log scale; dashed: specialisation star LQ = 2)")
    axis.set_ylabel(f"employment growth, % per year (CAGR over {growth_years} years)")
    axis.set_title(title or f"Cluster portfolio of {geo}, {year} ({scheme}); bubble = employment")
    draw_portfolio(axis, data, labels=labels)
    return figure


def plot_lq_heatmap(table: pd.DataFrame, country: str, year: int, scheme: str, *,
                    title: str | None = None) -> plt.Figure:
    """Heatmap of log2 LQ by region (rows) x category (columns) for one country;
    missing LQs are blank, clusters (LQ >= 2) are log2 LQ >= 1."""
    data = _select(table, scheme=scheme, year=year)
    data = data[data["geo"].str.startswith(country)]
    if data.empty:
        raise ValueError(f"no region of country {country!r} in the cluster mapping")
    matrix = data.pivot(index="geo", columns="category", values="lq").sort_index(axis=1)
    names = data.drop_duplicates("category").set_index("category")["category_name"]
    matrix.columns = [f"{c} {names[c]}" if names[c] != c else c for c in matrix.columns]
    with np.errstate(divide="ignore"):
        log_lq = np.log2(matrix.where(matrix > 0)).clip(-3, 3)
    width = max(8.0, 0.22 * matrix.shape[1] + 3)
    height = max(3.0, 0.32 * matrix.shape[0] + 3)
    figure, axis = plt.subplots(figsize=(width, height))
    sns.heatmap(log_lq, cmap="RdBu_r", center=0, vmin=-3, vmax=3, linewidths=0.2,
                cbar_kws={"label": "log2 LQ (1 = LQ 2, clipped at ±3)"}, ax=axis)
    axis.set_xticks(np.arange(matrix.shape[1]) + 0.5)
    axis.set_xticklabels([_short(str(c), 32) for c in matrix.columns], rotation=90, fontsize=7)
    axis.set_xlabel("")
    axis.set_ylabel("NUTS-2 region")
    axis.set_title(title or f"Specialisation (LQ) of the regions of {country}, {year} ({scheme})")
    figure.tight_layout()
    return figure


def plot_development(table: pd.DataFrame, geo: str, scheme: str, categories: list[str], *,
                     measure: str = "employment_index", title: str | None = None) -> plt.Figure:
    """Development over the years of a region's categories: ``employment_index`` (first year
    with a value = 100) or ``lq``."""
    if measure not in ("employment_index", "lq"):
        raise ValueError(f"measure={measure!r}: use 'employment_index' or 'lq'")
    data = _select(table, scheme=scheme, geo=geo)
    data = data[data["category"].isin(categories)].sort_values("year")
    figure, axis = plt.subplots(figsize=(9, 5))
    for category, part in data.groupby("category", sort=False):
        values = part.set_index("year")["employment" if measure == "employment_index" else "lq"]
        if measure == "employment_index":
            base = values.dropna()
            if base.empty or base.iloc[0] <= 0:
                continue
            values = values / base.iloc[0] * 100
        axis.plot(values.index, values.to_numpy(), marker="o", markersize=3,
                  label=_short(str(part["category_name"].iloc[0]), 40))
    if measure == "lq":
        axis.axhline(2.0, color="black", linestyle="--", linewidth=0.8)
    axis.set_xlabel("year")
    axis.set_ylabel("employment, first year = 100" if measure == "employment_index"
                    else "location quotient")
    axis.set_title(title or f"{geo}: development of its largest specialisations ({scheme})")
    axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return figure


def colocation_order(matrix: pd.DataFrame) -> list[str]:
    """Categories of a symmetric correlation matrix ordered so that categories that co-locate
    sit together: the leaves of an average-linkage clustering on the distance 1 - r (missing
    r counted as 0), with the optimal leaf ordering (adjacent leaves as similar as possible)."""
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import squareform

    if len(matrix) < 3:
        return list(matrix.index)
    distance = 1.0 - matrix.fillna(0.0).to_numpy(dtype=float)
    distance = np.clip((distance + distance.T) / 2, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    condensed = squareform(distance, checks=False)
    tree = optimal_leaf_ordering(linkage(condensed, method="average"), condensed)
    return [matrix.index[i] for i in leaves_list(tree)]


def plot_colocation(pairs: pd.DataFrame, table: pd.DataFrame, year: int, scheme: str, *,
                    title: str | None = None) -> plt.Figure:
    """Co-location of categories across regions: heatmap of the Spearman correlation of their
    location quotients (``colocation_corr`` of :func:`eocic.clusters.linkages.linkage_pairs`,
    -1 to 1), categories ordered by clustering (:func:`colocation_order`) so that groups that
    co-locate form red blocks on the diagonal; a dot marks a *related* pair (correlation above
    the 90th percentile). Pairs allocated from the same divisions (correlation 1 by
    construction) and pairs with too few regions are blank.

    A matrix rather than a network: with some 50 categories and 100 related pairs any
    node-link drawing crosses its edges into a hairball, while every cell here is one pair.
    Rows carry code and name, columns the code.
    """
    data = _select(table, scheme=scheme, year=year)
    part = pairs[(pairs["scheme"] == scheme) & (pairs["year"] == year)]
    if part.empty:
        raise ValueError(f"no linkage pairs for scheme={scheme!r}, year={year!r}")
    names = data.drop_duplicates("category").set_index("category")["category_name"]
    categories = sorted(set(part["category_i"]) | set(part["category_j"]))
    shown = part.assign(corr=part["colocation_corr"].where(~part["same_divisions"]),
                        related=part["related"].astype(float))
    both = pd.concat([shown.rename(columns={"category_i": "row", "category_j": "column"}),
                      shown.rename(columns={"category_j": "row", "category_i": "column"})])
    matrix = both.pivot(index="row", columns="column", values="corr").reindex(
        index=categories, columns=categories)
    related = both.pivot(index="row", columns="column", values="related").reindex(
        index=categories, columns=categories).fillna(0.0) > 0
    order = colocation_order(matrix)
    matrix, related = matrix.loc[order, order], related.loc[order, order]
    n = len(order)
    cell = 0.19
    figure, axis = plt.subplots(figsize=(cell * n + 4.2, cell * n + 2.0))
    sns.heatmap(matrix, cmap="RdBu_r", vmin=-1, vmax=1, center=0, square=True, linewidths=0.2,
                linecolor="white", xticklabels=True, yticklabels=True, ax=axis,
                cbar_kws={"label": "Spearman correlation of LQs across regions",
                          "shrink": 0.5})
    rows, columns = np.nonzero(related.to_numpy())
    dark = matrix.to_numpy()[rows, columns] > 0.6
    axis.scatter(columns + 0.5, rows + 0.5, s=5, linewidths=0,
                 color=np.where(dark, "white", "black"))
    axis.set_yticks(np.arange(n) + 0.5,
                    [f"{c} {_short(str(names.get(c, c)), 30)}" if names.get(c, c) != c else c
                     for c in order], fontsize=6.5, rotation=0)
    axis.set_xticks(np.arange(n) + 0.5, order, fontsize=6.5, rotation=90)
    axis.set_xlabel("")
    axis.set_ylabel("")
    threshold = part.loc[part["related"], "colocation_corr"].min()
    related_count = int(part["related"].sum())
    axis.set_title(title or f"Co-location of categories across regions, {year} ({scheme})",
                   loc="left", fontsize=11, pad=14)
    axis.text(0.0, 1.004, f"dot: related pair ({related_count} pairs, r > {threshold:.2f}, the "
              "90th percentile); blank: same divisions or too few regions", fontsize=7.5,
              transform=axis.transAxes, va="bottom")
    figure.tight_layout()
    return figure


def map_category(table: pd.DataFrame, geo: str, year: int, scheme: str,
                 requested: str = "") -> tuple[str, str]:
    """The category to map for region ``geo``, and one sentence saying why.

    ``requested`` (a category code of ``scheme``) is used when the mapping has it. Otherwise
    the region's strongest cluster (most stars, then employment:
    :func:`eocic.clusters.stars.strongest_clusters`); without a cluster, its largest category
    (employment) with LQ >= 1; else its largest category.

    The sentence is Markdown; ``requested``, ``scheme`` and ``geo`` are stage parameters a user
    typed and category names come from an editable definitions file, so each is escaped
    (:func:`eocic.presentation.markdown_code`, :func:`~eocic.presentation.escape_markdown`).
    """

    rows = _select(table, scheme=scheme, year=year, geo=geo)
    names = rows.set_index("category")["category_name"]
    known = set(table.loc[table["scheme"] == scheme, "category"].unique())
    note = ""
    if requested:
        if requested in known:
            name = table.loc[(table["scheme"] == scheme) & (table["category"] == requested),
                             "category_name"].iloc[0]
            return requested, f"{markdown_code(requested)} {escape_markdown(name)}, as requested."
        note = (f"Category {markdown_code(requested)} is not in scheme {markdown_code(scheme)} "
                "(its codes are in the `category` column); instead ")
    clusters = rows[rows["is_cluster"].fillna(False).astype(bool)]
    if len(clusters):
        best = clusters.sort_values(["stars", "employment", "category"],
                                    ascending=[False, False, True], kind="mergesort").iloc[0]
        why = (f"{escape_markdown(geo)}'s strongest cluster ({int(best['stars'])} star(s), "
               f"{best['employment']:,.0f} employed, LQ {best['lq']:.2f})")
    else:
        specialised = rows[rows["lq"] >= 1]
        pool = specialised if len(specialised) else rows
        best = pool.sort_values(["employment", "category"], ascending=[False, True],
                                kind="mergesort").iloc[0]
        why = (f"{escape_markdown(geo)} has no cluster in {year}: its largest category"
               + (" with LQ >= 1" if len(specialised) else ""))
    category = str(best["category"])
    return category, (f"{note}{markdown_code(category)} {escape_markdown(names[category])}: "
                      f"{why}.")


def plot_panorama_comparison(comparison: pd.DataFrame, *, title: str | None = None) -> plt.Figure:
    """Bars: clusters by class in this study vs the EOCIC 2020 Panorama
    (:func:`eocic.clusters.stars.panorama_2020_comparison`)."""
    counts = comparison[comparison["measure"].isin(["high", "medium", "basic"])]
    figure, axis = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(counts))
    axis.bar(x - 0.2, counts["this_study"], width=0.4, label="this study", color="#4c72b0")
    axis.bar(x + 0.2, counts["panorama_2020"], width=0.4, label="Panorama 2020", color="#dd8452")
    axis.set_xticks(x)
    axis.set_xticklabels(counts["measure"])
    axis.set_ylabel("number of regional clusters")
    axis.set_title(title or "Clusters by performance class")
    axis.legend()
    figure.tight_layout()
    return figure
