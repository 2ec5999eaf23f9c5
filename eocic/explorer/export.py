"""Exports of the explorer: the current region's tables (CSV) and figures (PNG).

Files are named ``<region>_<tab>[_<part>].csv|png`` and written atomically into
``reports/<run_id>/exports/`` (:func:`default_export_dir`); the same selection gives
byte-identical files (CSV with ``\\n`` line ends; PNG without a time stamp).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from eocic.atomic import write_bytes_atomic, write_text_atomic
from eocic.explorer import figures
from eocic.explorer.controller import TABS, RegionExplorer


def default_export_dir(root: str | os.PathLike[str], run_id: str) -> Path:
    """``<root>/reports/<run_id>/exports`` (``root``: the project root)."""
    return Path(root) / "reports" / run_id / "exports"


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def export_tables(explorer: RegionExplorer, folder: str | os.PathLike[str],
                  tabs: tuple[str, ...] = TABS) -> list[Path]:
    """Write every table of ``tabs`` for the current region as CSV; return the files.

    Tabs whose input table is missing (a message instead of content) write nothing.
    """
    folder = Path(folder)
    written = []
    for tab in tabs:
        panel = explorer.panel(tab)
        if panel.message:
            continue
        stem = f"{explorer.region}_{tab}"
        written.append(write_text_atomic(folder / f"{stem}.csv", _csv(panel.table)))
        for name, table in panel.extra.items():
            written.append(write_text_atomic(folder / f"{stem}_{name}.csv", _csv(table)))
    return written


def export_figures(explorer: RegionExplorer, folder: str | os.PathLike[str],
                   tabs: tuple[str, ...] = TABS, dpi: int = 120) -> list[Path]:
    """Write every figure of ``tabs`` for the current region as PNG; return the files."""
    folder = Path(folder)
    written = []
    for tab in tabs:
        panel = explorer.panel(tab)
        figure = panel.figure()
        if figure is None:
            continue
        stem = f"{explorer.region}_{tab}"
        written.append(write_bytes_atomic(folder / f"{stem}.png",
                                          figures.png_bytes(figure, dpi=dpi, tight=True)))
        for name, draw in panel.extra_draw.items():
            written.append(write_bytes_atomic(folder / f"{stem}_{name}.png",
                                              figures.png_bytes(draw(), dpi=dpi, tight=True)))
    return written
