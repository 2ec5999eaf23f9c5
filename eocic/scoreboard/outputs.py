"""The scoreboard's published tables (output contract) and their atomic, deterministic writing.

``scoreboard.parquet``, one row per index x region x year x node:
    ``index_code`` (str, the composite index's code), ``geo`` (NUTS-2), ``year`` (int),
    ``level`` (``indicator`` | ``subdimension`` | ``dimension`` | ``index``), ``code``,
    ``name``, ``score`` (normalised 0-100 scale for the default min-max), ``rank`` (1 = best
    within index, code and year), ``rank_median``, ``rank_p05``, ``rank_p95`` (Monte Carlo
    rank distribution; reference year, index and dimension rows only, NaN elsewhere),
    ``imputed_share`` (share of the node's available indicators that are imputed).
``peers.parquet``, one row per region x peer: ``geo``, ``peer``, ``distance`` (z-score
    Euclidean), ``rank`` (1 = nearest), ``chosen_by`` (``nearest`` | ``user``).

Schemas (units, meaning, checks): :data:`eocic.tables.SCOREBOARD`, :data:`eocic.tables.PEERS`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eocic import tables

SCOREBOARD_COLUMNS = tables.SCOREBOARD.column_names
PEER_COLUMNS = tables.PEERS.column_names


def scoreboard_table(scoreboards: dict, uncertainty: dict | None = None) -> pd.DataFrame:
    """Long table of every index (contract above); ``uncertainty`` maps index code to an
    :class:`~eocic.scoreboard.uncertainty.UncertaintyResult`."""
    frames = []
    for code, scoreboard in scoreboards.items():
        table = scoreboard.scores()
        result = (uncertainty or {}).get(code)
        if result is not None:
            summary = result.summary[["geo", "code", "rank_median", "rank_p05", "rank_p95"]]
            summary = summary.assign(year=scoreboard.year)
            table = table.merge(summary, on=["geo", "year", "code"], how="left")
        else:
            table = table.assign(rank_median=float("nan"), rank_p05=float("nan"),
                                 rank_p95=float("nan"))
        frames.append(table[SCOREBOARD_COLUMNS])
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["year"].astype("int64")
    table["rank"] = table["rank"].astype("int64")
    return table.reset_index(drop=True)


def peers_table(nearest: pd.DataFrame, region: str | None = None,
                chosen: pd.DataFrame | None = None) -> pd.DataFrame:
    """Nearest peers of every region; the user's choice replaces ``region``'s rows."""
    table = nearest.assign(chosen_by="nearest")
    if region is not None and chosen is not None and (chosen["chosen_by"] == "user").any():
        user = chosen.assign(geo=region)[PEER_COLUMNS]
        table = pd.concat([table[table["geo"] != region], user], ignore_index=True)
    return table.sort_values(["geo", "rank"], kind="stable")[PEER_COLUMNS].reset_index(drop=True)


def write_outputs(processed_dir: str | Path, scoreboard: pd.DataFrame,
                  peers: pd.DataFrame) -> list[Path]:
    """Write ``scoreboard.parquet`` and ``peers.parquet`` (:func:`eocic.tables.write_tables`:
    checked against their schemas, neither written if one breaks it, atomically); return the
    paths.

    Raises
    ------
    eocic.tables.TableValidationError
    """
    paths = tables.write_tables({"scoreboard": scoreboard, "peers": peers}, processed_dir)
    return [paths["scoreboard"], paths["peers"]]
