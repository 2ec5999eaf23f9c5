"""Figures of the stress test: exposure map (when :mod:`eocic.maps` exists), ranked bars,
and the breakdown of one region's expected change (waterfall)."""

from __future__ import annotations


import matplotlib.pyplot as plt
from matplotlib import colors
import pandas as pd

from eocic import plotting

plotting.configure()


def exposure_map(table: pd.DataFrame, scenario: str, *, raw_root=None, shared=None,
                 highlight: tuple[str, ...] = ()):
    """Choropleth of ``expected_change_pct`` (% of the region's SBS employment) for one
    scenario, drawn with :mod:`eocic.maps`.

    The geometries are looked up as every stage does (:func:`eocic.maps.load_geometries`): the
    GISCO archive under ``raw_root``, the source folder ``shared`` (the notebook's
    ``data_dir``), then the shared data folder. Returns ``(figure, note)``: ``figure`` is None,
    and ``note`` says why and how to get a map, when there are no readable geometries (the
    caller then shows ranked bars and the note); with a map the note is empty (the map writes
    its own, e.g. the regions outside its frame, under it).
    """
    from eocic import maps

    geometries, no_map = maps.load_geometries(raw_root, shared)
    if geometries is None:
        return None, f"{no_map} Ranked bars instead."
    rows = table[table["scenario"] == scenario].set_index("geo")
    values = rows["expected_change_pct"]
    limit = float(values.abs().max()) if values.notna().any() else 1.0
    drawn = maps.choropleth(
        values, geometries, title=f"Expected employment change, scenario {scenario}",
        cmap="RdBu", norm=colors.Normalize(vmin=-limit, vmax=limit),
        label="% of regional business-economy employment", highlight=list(highlight),
        estimated=list(rows.index[rows["estimated_share"] >= maps.ESTIMATED_MARK]),
        apportioned=list(rows.index[rows["apportioned"].astype(bool)]))
    return drawn.figure, ""  # the map writes its own note (regions outside the frame) under it


def ranked_bars(table: pd.DataFrame, scenario: str, n: int = 25, names: dict | None = None):
    """Horizontal bars of the ``n`` most exposed regions (``expected_change_pct``), with the
    share of employment of unknown exposure written beside each bar when positive."""
    part = table[(table["scenario"] == scenario) & table["rank"].notna()]
    part = part.sort_values("rank").head(n).iloc[::-1]
    labels = [f"{g} {names.get(g, '')}".strip() if names else g for g in part["geo"]]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.28 * len(part) + 1)))
    colors = ["#b2182b" if v < 0 else "#2166ac" for v in part["expected_change_pct"]]
    ax.barh(labels, part["expected_change_pct"], color=colors)
    for y, (value, unknown) in enumerate(zip(part["expected_change_pct"], part["unknown_share"])):
        if unknown and unknown > 0:
            ax.annotate(f"unknown {100 * unknown:.1f}%", (value, y), xytext=(-4, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("expected employment change, % of regional SBS employment")
    ax.set_title(f"Most exposed regions: scenario {scenario}")
    fig.tight_layout()
    return fig


def region_waterfall(contributions: pd.DataFrame, geo: str, n: int = 8, title: str = ""):
    """Waterfall of one region's expected change: the ``n`` largest contributions (persons),
    the rest as "other", and the total; unknown (confidential) contributions are listed in the
    subtitle, not drawn.

    ``contributions``: ``geo, unit, name, contribution`` (see
    :func:`eocic.stress.exposure.division_contributions`).
    """
    part = contributions[contributions["geo"] == geo]
    unknown = part[part["contribution"].isna()]["unit"].tolist()
    known = part[part["contribution"].notna()].copy()
    known["size"] = known["contribution"].abs()
    known = known.sort_values(["size", "unit"], ascending=[False, True], kind="mergesort")
    top = known.head(n)
    steps = [(f"{u} {str(nm)[:45]}", v) for u, nm, v in
             zip(top["unit"], top["name"], top["contribution"])]
    rest = known["contribution"].iloc[n:].sum()
    if len(known) > n:
        steps.append((f"other ({len(known) - n})", rest))
    fig, ax = plt.subplots(figsize=(10, 0.4 * (len(steps) + 1) + 1.5))
    running = 0.0
    for y, (label, value) in enumerate(steps):
        ax.barh(y, value, left=running, color="#b2182b" if value < 0 else "#2166ac")
        running += value
    ax.barh(len(steps), running, color="#444444")
    ax.set_yticks(range(len(steps) + 1), [s[0] for s in steps] + ["total"])
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("expected change in persons employed")
    subtitle = f"\nunknown (confidential): {', '.join(unknown)}" if unknown else ""
    ax.set_title((title or f"{geo}: contributions to the expected change") + subtitle, fontsize=10)
    fig.tight_layout()
    return fig
