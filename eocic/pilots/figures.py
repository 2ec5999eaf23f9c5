"""Figures of the pilot-region analysis: event-study coefficients and pilot-vs-peer profiles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from eocic import plotting
from eocic.pilots.did import EventStudyResult

plotting.configure()


def plot_event_study(result: EventStudyResult, outcome: str, expected: pd.Series | None = None):
    """Event-study coefficients (log points) with two 95 % intervals side by side: CRV1
    (t with G - 1 df, blue, left) and the restricted wild cluster bootstrap (test inversion,
    orange, right; an end the data do not bound is drawn to the edge of the plot as an
    arrow-less open bar). The reference period is the hollow point at 0. ``expected`` (index
    event time) draws a known effect path, e.g. the demo economy's planted effect."""
    table = result.table
    fig, ax = plt.subplots(figsize=(9, 4.5))
    estimated = table[table["se"].notna()]
    offset = 0.14
    ax.errorbar(estimated["event_time"] - offset, estimated["coef"],
                yerr=[estimated["coef"] - estimated["ci_low"],
                      estimated["ci_high"] - estimated["coef"]],
                fmt="o", color="#2166ac", capsize=3, markersize=4,
                label="estimate, 95 % CI (CRV1, t(G-1))")
    wild = estimated.copy()
    low = wild["ci_low_wild"].fillna(wild["coef"] - 10 * wild["se"])
    high = wild["ci_high_wild"].fillna(wild["coef"] + 10 * wild["se"])
    ax.errorbar(wild["event_time"] + offset, wild["coef"],
                yerr=[wild["coef"] - low, high - wild["coef"]],
                fmt="s", color="#e08214", capsize=3, markersize=4,
                label=f"estimate, 95 % CI (wild cluster bootstrap, {result.wild_weights})")
    ax.plot([result.reference], [0.0], "o", mfc="white", color="#2166ac", label="reference")
    if expected is not None:
        ax.plot(expected.index, expected.to_numpy(), "--", color="#b2182b", label="planted (demo)")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle=":", linewidth=1)
    finite = pd.concat([estimated["ci_low"], estimated["ci_high"], wild["ci_low_wild"],
                        wild["ci_high_wild"]]).dropna()
    if len(finite):
        span = finite.max() - finite.min()
        ax.set_ylim(finite.min() - 0.08 * span, finite.max() + 0.08 * span)
    ax.set_xlabel(f"years since {result.event_year} (pilot action start)")
    ax.set_ylabel(f"effect on ln {outcome}")
    ax.set_title(f"Event study, {result.n_treated} pilot NUTS-2 regions ({result.n_treated_clusters} "
                 f"pilots) vs {result.n_regions - result.n_treated} controls; pre-trend F = "
                 f"{result.pretrend_f:.2f} (p = {result.pretrend_p:.3f})", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_profiles(profile: pd.DataFrame, value: str, title: str, xlabel: str):
    """Pilot value beside the median of its peers (``profile``: ``pilot, value_pilot,
    value_peers``)."""
    part = profile.sort_values("pilot", ascending=False)
    positions = np.arange(len(part))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(part) + 1.2))
    ax.barh(positions + 0.2, part[f"{value}_pilot"], height=0.4, color="#b2182b", label="pilot")
    ax.barh(positions - 0.2, part[f"{value}_peers"], height=0.4, color="#999999",
            label="peers (median)")
    ax.set_yticks(positions, part["pilot"])
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
