"""Exports of the explorer: the current region's tables (CSV) and figures (PNG).

Files are named ``<region>_<tab>[_<part>].csv|png`` and written atomically into
``reports/<run_id>/exports/`` (:func:`default_export_dir`); the same selection gives
byte-identical files (CSV with ``\\n`` line ends; PNG without a time stamp). The region
part is :func:`file_stem` of the region code, so a code read from a table can never name a
file outside the export folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from eocic.atomic import write_bytes_atomic, write_text_atomic
from eocic.explorer import figures
from eocic.explorer.controller import TABS, RegionExplorer


def default_export_dir(root: str | os.PathLike[str], run_id: str) -> Path:
    """``<root>/reports/<run_id>/exports`` (``root``: the project root)."""
    return Path(root) / "reports" / run_id / "exports"


def file_stem(text: str) -> str:
    """``text`` as part of a file name: letters, digits and ``-`` kept, every other run of
    characters (``/``, ``.``, spaces, markup) replaced by ``_``; ``region`` if nothing is
    left. NUTS codes (``DE11``) pass unchanged."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", str(text)).strip("_") or "region"


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
        stem = f"{file_stem(explorer.region)}_{tab}"
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
        stem = f"{file_stem(explorer.region)}_{tab}"
        written.append(write_bytes_atomic(folder / f"{stem}.png",
                                          figures.png_bytes(figure, dpi=dpi, tight=True)))
        for name, draw in panel.extra_draw.items():
            written.append(write_bytes_atomic(folder / f"{stem}_{name}.png",
                                              figures.png_bytes(draw(), dpi=dpi, tight=True)))
    return written
