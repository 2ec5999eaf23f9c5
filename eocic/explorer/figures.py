"""Figures of the region explorer, drawn on plain :class:`matplotlib.figure.Figure` objects
(not pyplot: a long-running explorer must not accumulate open figures).

Every function takes the tables the controller has already selected for the current region
and returns a ``Figure``; none recomputes an indicator.

Titles and labels quote data and user choices (specification names from a user's YAML,
category names, region names), so every figure is drawn and saved with matplotlib's mathtext
off (:func:`literal_text`): a ``$`` is shown as a dollar sign, and ``$\\frac{`` in a spec name
cannot make drawing fail.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Iterator
from typing import TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from eocic.clusters.figures import draw_portfolio

REGION_COLOUR = "#1f4e79"
PEER_COLOUR = "#e67e22"
#: CSS pixels per inch of figure in the explorer's widgets (the size they always had).
SCREEN_DPI = 80
#: Pixels per inch of the explorer's PNGs: twice :data:`SCREEN_DPI`, as the notebooks'
#: inline figures (:mod:`eocic.plotting`), so they stay sharp at :func:`css_width`.
PNG_DPI = 2 * SCREEN_DPI


_Drawing = TypeVar("_Drawing", bound=Callable[..., Figure])


@contextlib.contextmanager
def literal_text() -> Iterator[None]:
    """Inside, matplotlib text is shown as written: ``$...$`` is not parsed as mathtext
    (``text.parse_math`` off for every text created, e.g. titles and tick labels drawn when
    the figure is saved)."""
    with matplotlib.rc_context({"text.parse_math": False}):
        yield


def drawn_literally(draw: _Drawing) -> _Drawing:
    """``draw`` run inside :func:`literal_text`."""
    @functools.wraps(draw)
    def literal(*args, **kwargs):
        with literal_text():
            return draw(*args, **kwargs)
    return literal  # type: ignore[return-value]


def _short(name: str, width: int = 30) -> str:
    name = str(name)
    return name if len(name) <= width else name[: width - 1] + "…"


@drawn_literally
def _empty(title: str, text: str) -> Figure:
    figure = Figure(figsize=(8, 3))
    axis = figure.subplots()
    axis.text(0.5, 0.5, text, ha="center", va="center", transform=axis.transAxes, wrap=True)
    axis.set_axis_off()
    axis.set_title(title)
    return figure


def png_bytes(figure: Figure, dpi: int = PNG_DPI, tight: bool = False) -> bytes:
    """The figure as PNG bytes (what the explorer shows and exports), ``dpi`` pixels per inch
    (default :data:`PNG_DPI`: sharp when shown at :func:`css_width`). ``tight=True`` crops to
    the drawn content (one more drawing pass: for exports, not for callbacks)."""
    buffer = io.BytesIO()
    with literal_text():
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                       metadata={"Software": None})
    return buffer.getvalue()


def css_width(figure: Figure, screen_dpi: float = SCREEN_DPI) -> str:
    """Width to show ``figure``'s (untrimmed) PNG at in a widget, e.g. ``"760px"``: its width in
    inches x ``screen_dpi``, so a high-dpi PNG keeps the on-screen size of an 80-dpi one."""
    return f"{round(figure.get_figwidth() * screen_dpi)}px"


@drawn_literally
def portfolio_bubbles(portfolio: pd.DataFrame, title: str, labels: int = 8) -> Figure:
    """Bubble chart (:func:`eocic.clusters.figures.draw_portfolio`): location quotient (log
    x) vs employment growth (% per year, y); bubble area proportional to employment (persons);
    colour = performance class (grey: not a cluster); the clusters and largest categories are
    named, up to ``labels``, without overlapping labels."""
    data = portfolio[(portfolio["lq"] > 0) & portfolio["growth"].notna()
                     & portfolio["employment"].notna()]
    if data.empty:
        return _empty(title, "no category with both a location quotient and a growth rate")
    figure = Figure(figsize=(9.5, 5.5))
    axis = figure.subplots()
    axis.set_xlabel("location quotient (log scale; dashed: LQ = 2, cluster threshold)")
    axis.set_ylabel("employment growth (% per year)")
    axis.set_title(title)
    draw_portfolio(axis, data, labels=labels)
    return figure


@drawn_literally
def radar(scores: pd.DataFrame, title: str) -> Figure:
    """Radar (spider) chart of scores 0-100; ``scores`` has one row per axis (index = label)
    and columns ``region`` and ``peer_mean`` (and optionally ``index_code``: one radar per
    composite index). A group with fewer than three axes is drawn as horizontal bars."""
    scores = scores.dropna(how="all", subset=["region", "peer_mean"])
    if scores.empty:
        return _empty(title, "no scores for this region")
    groups = (list(scores.groupby("index_code", sort=True)) if "index_code" in scores
              else [("", scores)])
    figure = Figure(figsize=(6.5 * len(groups), 6))
    for number, (group, part) in enumerate(groups, start=1):
        labels = [_short(str(label).replace("_", " "), 22) for label in part.index]
        heading = str(group).replace("_", " ")
        if len(part) < 3:
            axis = figure.add_subplot(1, len(groups), number)
            position = np.arange(len(part))
            axis.barh(position - 0.2, part["region"], height=0.4, color=REGION_COLOUR,
                      label="region")
            axis.barh(position + 0.2, part["peer_mean"], height=0.4, color=PEER_COLOUR,
                      label="peer mean")
            axis.set_yticks(position, labels)
            axis.set_xlim(0, 100)
            axis.legend(fontsize=8)
            axis.set_title(heading)
            continue
        angles = np.linspace(0, 2 * np.pi, len(part), endpoint=False)
        closed = np.append(angles, angles[0])
        axis = figure.add_subplot(1, len(groups), number, projection="polar")
        for column, colour, name in (("peer_mean", PEER_COLOUR, "peer mean"),
                                     ("region", REGION_COLOUR, "region")):
            values = part[column].fillna(0).to_numpy(dtype=float)
            values = np.append(values, values[0])
            axis.plot(closed, values, color=colour, linewidth=1.8, label=name)
            axis.fill(closed, values, color=colour, alpha=0.15)
        axis.set_xticks(angles, labels, fontsize=8)
        axis.set_ylim(0, 100)
        axis.set_yticks([25, 50, 75, 100])
        axis.legend(loc="upper right", bbox_to_anchor=(1.25, 1.1), fontsize=8)
        axis.set_title(heading, pad=22)
    figure.suptitle(title)
    figure.subplots_adjust(left=0.1, right=0.88, bottom=0.08, top=0.82, wspace=0.6)
    return figure


@drawn_literally
def rank_intervals(ranks: pd.DataFrame, title: str) -> Figure:
    """Rank of the region with its 5-95 % interval (from the uncertainty analysis) per node:
    ``ranks`` has index = node label and columns ``rank, rank_p05, rank_p95``."""
    ranks = ranks.dropna(subset=["rank"])
    if ranks.empty:
        return _empty(title, "no ranks for this region")
    figure = Figure(figsize=(8, 0.45 * len(ranks) + 1.5))
    axis = figure.subplots()
    position = np.arange(len(ranks))
    low = (ranks["rank"] - ranks["rank_p05"]).clip(lower=0).fillna(0)
    high = (ranks["rank_p95"] - ranks["rank"]).clip(lower=0).fillna(0)
    axis.errorbar(ranks["rank"], position, xerr=[low, high], fmt="o", color=REGION_COLOUR,
                  capsize=3)
    axis.set_yticks(position, [_short(label.replace("_", " "), 30) for label in ranks.index])
    axis.invert_yaxis()
    axis.set_xlabel("rank (1 = best); bars: 5-95 % interval")
    axis.set_title(title)
    figure.tight_layout()
    return figure


@drawn_literally
def development(history: pd.DataFrame, title: str) -> Figure:
    """Employment and location quotient over the years of the region's top categories;
    ``history`` has columns ``category_name, year, employment, lq``."""
    if history.empty:
        return _empty(title, "no history for this region")
    figure = Figure(figsize=(11, 4.2))
    left, right = figure.subplots(1, 2)
    for name, rows in history.groupby("category_name", sort=False):
        rows = rows.sort_values("year")
        left.plot(rows["year"], rows["employment"], marker=".", label=_short(name, 28))
        right.plot(rows["year"], rows["lq"], marker=".", label=_short(name, 28))
    for axis in (left, right):  # whole years on the axis, never 2007.5
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylabel("employment (persons)")
    left.set_title("employment")
    right.set_ylabel("location quotient")
    right.axhline(2.0, color="black", linestyle="--", linewidth=0.8)
    right.set_title("location quotient (dashed: 2)")
    right.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.suptitle(title)
    figure.subplots_adjust(left=0.07, right=0.78, bottom=0.12, top=0.86, wspace=0.28)
    return figure


@drawn_literally
def coefficients(table: pd.DataFrame, title: str) -> Figure:
    """Coefficient plot: ``coef`` with ``[ci_low, ci_high]`` per ``term`` (one model)."""
    if table.empty:
        return _empty(title, "no coefficients")
    figure = Figure(figsize=(11, 0.32 * len(table) + 1.5))
    axis = figure.subplots()
    position = np.arange(len(table))
    axis.errorbar(table["coef"], position,
                  xerr=[(table["coef"] - table["ci_low"]).clip(lower=0).fillna(0),
                        (table["ci_high"] - table["coef"]).clip(lower=0).fillna(0)],
                  fmt="o", color=REGION_COLOUR, capsize=3)
    axis.axvline(0, color="grey", linewidth=0.8)
    axis.set_yticks(position, [_short(term, 75) for term in table["term"]])
    axis.invert_yaxis()
    axis.set_xlabel("coefficient with confidence interval")
    axis.set_title(title)
    figure.tight_layout()
    return figure
