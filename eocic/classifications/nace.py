"""NACE Rev. 2 sections and divisions covered by regional SBS (sections B-N and division S95).

The table lives in ``eocic/classifications/nace_r2_divisions.csv`` (columns ``section``,
``division``, ``name``; a row with an empty ``division`` holds the section's own name). Codes
are Eurostat's: section letter plus two-digit division (``C29``).
Reference: Eurostat (2008), NACE Rev. 2, Statistical classification of economic activities in
the European Community, Methodologies and Working Papers, KS-RA-07-015.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

NACE_TABLE = "classifications/nace_r2_divisions.csv"


@functools.lru_cache(maxsize=1)
def _nace_table() -> pd.DataFrame:
    text = resources.files("eocic").joinpath(NACE_TABLE).read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if list(table.columns) != ["section", "division", "name"]:
        raise ValueError(f"eocic/{NACE_TABLE}: header must be section,division,name")
    return table


def nace_divisions() -> pd.DataFrame:
    """The 71 divisions: columns ``section``, ``division`` (e.g. ``C29``), ``name``."""
    table = _nace_table()
    return table[table["division"] != ""].reset_index(drop=True)


def nace_sections() -> pd.DataFrame:
    """The 14 sections B-N and S: columns ``section``, ``name``."""
    table = _nace_table()
    return table.loc[table["division"] == "", ["section", "name"]].reset_index(drop=True)
