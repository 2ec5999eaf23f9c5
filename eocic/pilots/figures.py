"""Figures of the pilot-region analysis: event-study coefficients and pilot-vs-peer profiles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from eocic import plotting
from eocic.pilots.did import EventStudyResult

plotting.configure()


def plot_event_study(result: EventStudyResult, outcome: str, expected: pd.Series | None = None):
    """Event-study coefficients (log points) with 95 % confidence intervals; the reference
    period is the hollow point at 0. ``expected`` (index event time) draws a known effect path,
    e.g. the demo economy's planted effect."""
    table = result.table
    fig, ax = plt.subplots(figsize=(8, 4))
    estimated = table[table["se"].notna()]
    ax.errorbar(estimated["event_time"], estimated["coef"],
                yerr=[estimated["coef"] - estimated["ci_low"], estimated["ci_high"] - estimated["coef"]],
                fmt="o", color="#2166ac", capsize=3, label="estimate, 95 % CI")
    ax.plot([result.reference], [0.0], "o", mfc="white", color="#2166ac", label="reference")
    if expected is not None:
        ax.plot(expected.index, expected.to_numpy(), "--", color="#b2182b", label="planted (demo)")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(f"years since {result.event_year} (pilot action start)")
    ax.set_ylabel(f"effect on ln {outcome}")
    ax.set_title(f"Event study, {result.n_treated} pilot NUTS-2 regions vs "
                 f"{result.n_regions - result.n_treated} controls; pre-trend F = "
                 f"{result.pretrend_f:.2f} (p = {result.pretrend_p:.2f})", fontsize=10)
    ax.legend(fontsize=8)
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
