"""External check: rank correlation of the open composite with published regional indices.

Two published indices are read from the shared data folder (never copied into the
repository): ``$EOCIC_SHARED_DATA`` or ``../shared/data`` beside the project root.

* EU Regional Competitiveness Index, z-scores of the 2010-2019 editions
  (``composite_indices/rci_2010_2019_zscores_nuts2.csv``; NUTS 2016 codes; RCI merges some
  capitals with their commuting areas under codes such as ``AT00``, which match no NUTS-2
  region and are left out).
* Regional Innovation Scoreboard 2019, Regional Innovation Index (column ``RII`` of
  ``composite_indices/i40_readiness_rankings_nuts2.csv``; documented by its source as RIS 2019,
  182 regions).

Regions are matched on their code as published (NUTS 2016 vs the workbench's NUTS 2021: the
few recoded regions do not match and are counted). The Spearman rank correlation is reported
with the number of matched regions. On the synthetic demo economy the correlation says
nothing about the method: it is only meaningful on real data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from eocic.measures import spearman_rho

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RCI_FILE = "composite_indices/rci_2010_2019_zscores_nuts2.csv"
RII_FILE = "composite_indices/i40_readiness_rankings_nuts2.csv"


def shared_data_dir() -> Path:
    """``$EOCIC_SHARED_DATA`` or ``../shared/data`` relative to the project root."""
    return Path(os.environ.get("EOCIC_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def read_rci(edition: int = 2016, folder: Path | None = None) -> pd.Series | None:
    """RCI z-scores of one edition (2010, 2013, 2016, 2019) by NUTS-2 code; None if absent."""
    path = (folder or shared_data_dir()) / RCI_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    rows = frame[(frame["Year"] == edition) & (frame["NUTS CODE 2016"].str.len() == 4)]
    if rows.empty:
        raise ValueError(f"{path}: no RCI {edition} rows; editions are "
                         f"{sorted(frame['Year'].unique())}")
    return rows.set_index("NUTS CODE 2016")["value"].astype(float).rename(f"rci_{edition}")


def read_rii(folder: Path | None = None) -> pd.Series | None:
    """RIS 2019 Regional Innovation Index by NUTS-2 code (regions with a value); None if absent."""
    path = (folder or shared_data_dir()) / RII_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    return frame.set_index("Regio")["RII"].dropna().astype(float).rename("ris_2019_rii")


def spearman_check(scores: pd.Series, reference: pd.Series) -> dict:
    """Spearman correlation of ``scores`` (by geo) with ``reference`` on matched regions."""
    joined = pd.concat([scores.rename("score"), reference.rename("reference")],
                       axis=1, join="inner").dropna()
    rho = spearman_rho(joined["score"], joined["reference"]) if len(joined) > 2 \
        else float("nan")
    return dict(reference=reference.name, matched=len(joined),
                reference_regions=int(reference.notna().sum()),
                scored_regions=int(scores.notna().sum()), spearman=float(rho))


def external_checks(scores: dict[str, pd.Series], rci_edition: int = 2016,
                    folder: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Spearman of each composite (name -> scores by geo) with RCI and RII; messages for
    reference files that are absent (file names only: the messages go into shared reports)."""
    references, messages = [], []
    rci = read_rci(rci_edition, folder)
    if rci is None:
        messages.append(f"RCI file {RCI_FILE} not found in the shared data folder; set "
                        "EOCIC_SHARED_DATA to the folder holding it to check against it")
    else:
        references.append(rci)
    rii = read_rii(folder)
    if rii is None:
        messages.append(f"RIS 2019 file {RII_FILE} not found in the shared data folder; set "
                        "EOCIC_SHARED_DATA to the folder holding it to check against it")
    else:
        references.append(rii)
    rows = [dict(composite=name, **spearman_check(series, reference))
            for name, series in scores.items() for reference in references]
    return pd.DataFrame(rows), messages
