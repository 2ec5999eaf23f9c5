"""Raw indicator values from the processed tables: numerators, denominators, ratios.

Each :class:`~eocic.scoreboard.framework.Source` becomes a wide column indexed by
``(geo, year)``:

``context``          the indicator's ``value`` as published.
``demography``       the indicator summed over the requested NACE sections (all if none).
                     When numerator and denominator are both demography indicators over the
                     same sections, the sums run over the sections where BOTH are published
                     (pairwise complete), so a confidential numerator cell does not bias the
                     ratio down.
``sbs``              the measure summed over the requested divisions or sections (all if
                     none). Confidential cells hold estimates (stage 01); cells still missing
                     (``confidential_cells="exclude"``) are left out of the sum: the number of
                     region-years with at least one such cell is reported per indicator.
``regional_totals``  the region's published business-economy total of the measure: the
                     denominator of shares of SBS employment.
``cluster_mapping``  ``employment`` summed over the scheme / categories (and clusters only if
                     asked) from ``cluster_mapping.parquet`` (columns geo, scheme, category,
                     year, employment, is_cluster).
``scheme_employment``  the employment of a scheme's categories (or of its clusters) with every
                     division counted once (emerging industries overlap), from
                     ``scheme_employment.parquet`` (stage 02).
``csv``              a user file with columns ``geo, year, value``; with ``indicator``, one
                     indicator of a user indicator table (``geo, year, indicator, value`` plus
                     metadata, :mod:`eocic.scoreboard.user_indicators`; errors in the table
                     raise :class:`~eocic.scoreboard.user_indicators.UserIndicatorError`).

A source whose table is absent yields no column and a message; the engine then drops the
indicator with that reason (never silently).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eocic.errors import EocicError
from eocic.scoreboard.framework import Indicator, Source

#: Processed tables the scoreboard may read from ``data/processed/<run_id>/``.
TABLE_NAMES = ("context", "demography", "sbs", "regional_totals", "cluster_mapping",
               "scheme_employment")


class SourceError(EocicError, ValueError):
    """A source table or file with the wrong layout."""


def load_tables(processed_dir: str | Path) -> dict[str, pd.DataFrame | None]:
    """Read the processed tables the scoreboard may use, each checked against its schema
    (:func:`eocic.tables.read_table`); absent ones are None.

    Raises
    ------
    eocic.tables.TableValidationError
        A table breaks its schema.
    """
    from eocic import tables

    return {name: tables.read_table(processed_dir, name, missing_ok=True)
            for name in TABLE_NAMES}


def _series(frame: pd.DataFrame, value: str) -> pd.Series:
    grouped = frame.groupby(["geo", "year"], sort=True)[value].sum(min_count=1)
    grouped.index = grouped.index.set_levels(grouped.index.levels[1].astype(int), level=1)
    return grouped.astype(float)


def _sbs_rows(sbs: pd.DataFrame, source: Source) -> pd.DataFrame:
    if not source.divisions:
        return sbs
    codes = sbs["nace_r2"].astype(str)
    keep = pd.Series(False, index=sbs.index)
    for item in source.divisions:
        keep |= (codes.str[0] == item) if len(item) == 1 else (codes == item)
    return sbs[keep]


def _demography_rows(demography: pd.DataFrame, source: Source) -> pd.DataFrame:
    rows = demography[demography["indicator"] == source.indicator]
    if source.sections:
        rows = rows[rows["nace_r2"].isin(source.sections)]
    return rows


def _csv_series(path: Path) -> pd.Series:
    if not path.is_file():
        raise FileNotFoundError(path)
    frame = pd.read_csv(path)
    missing = {"geo", "year", "value"} - set(frame.columns)
    if missing:
        raise SourceError(f"{path}: missing columns {sorted(missing)}; a csv source needs "
                          "columns geo, year, value")
    if frame.duplicated(["geo", "year"]).any():
        first = frame[frame.duplicated(["geo", "year"], keep=False)].head(1)
        raise SourceError(f"{path}: duplicate geo-year rows (first: "
                          f"{first.iloc[0]['geo']} {first.iloc[0]['year']}); keep one per pair")
    frame["year"] = frame["year"].astype(int)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame.set_index(["geo", "year"])["value"].sort_index().astype(float)


def source_series(source: Source, tables: dict[str, pd.DataFrame | None]
                  ) -> tuple[pd.Series | None, str]:
    """The source's values by (geo, year), or None with the reason it is unavailable."""
    if source.table == "csv" and source.indicator is not None:
        from eocic.scoreboard.user_indicators import load_cached

        if not source.path.is_file():
            return None, f"user indicator table {source.path} not found"
        user_table = load_cached(source.path)
        series = user_table.series(source.indicator)
        if series is None:
            return None, (f"user indicator table {source.path} has no indicator "
                          f"{source.indicator!r} (it has {len(user_table.indicators)}: "
                          f"{', '.join(user_table.indicators[:8])} ...)")
        return series, ""
    if source.table == "csv":
        try:
            return _csv_series(source.path), ""
        except FileNotFoundError:
            return None, f"csv file {source.path} not found"
    table = tables.get(source.table)
    if table is None:
        hint = (" (built by the cluster-mapping stage 02)" if source.table == "cluster_mapping"
                else "")
        return None, f"table {source.table!r} not in the processed data{hint}"
    if source.table == "context":
        rows = table[table["indicator"] == source.indicator]
        if rows.empty:
            return None, f"context has no indicator {source.indicator!r}"
        return _series(rows, "value"), ""
    if source.table == "demography":
        rows = _demography_rows(table, source)
        if rows.empty:
            return None, f"demography has no {source.indicator!r} rows for {source.describe()}"
        return _series(rows, "value"), ""
    if source.table == "sbs":
        rows = _sbs_rows(table, source)
        if rows.empty:
            return None, f"sbs has no rows for {source.describe()}"
        return _series(rows, source.measure), ""
    if source.table == "regional_totals":
        return _series(table, source.measure), ""
    if source.table == "scheme_employment":
        rows = table[table["scheme"] == source.scheme]
        if rows.empty:
            return None, (f"scheme_employment has no scheme {source.scheme!r} (schemes: "
                          f"{sorted(table['scheme'].unique())})")
        return _series(rows, source.measure), ""
    # cluster_mapping
    needed = {"geo", "year", "employment", "scheme", "category", "is_cluster"}
    missing = needed - set(table.columns)
    if missing:
        raise SourceError(f"cluster_mapping.parquet lacks columns {sorted(missing)}")
    rows = table
    if source.scheme is not None:
        rows = rows[rows["scheme"] == source.scheme]
        if rows.empty:
            return None, (f"cluster_mapping has no scheme {source.scheme!r} (schemes: "
                          f"{sorted(table['scheme'].unique())})")
    if source.categories:
        rows = rows[rows["category"].isin(source.categories)]
    if source.clusters_only:
        rows = rows[rows["is_cluster"].astype(bool)]
    if rows.empty:
        return None, f"cluster_mapping has no rows for {source.describe()}"
    return _series(rows, source.measure), ""


def _pairwise_demography(indicator: Indicator, demography: pd.DataFrame
                         ) -> tuple[pd.Series, pd.Series]:
    keys = ["geo", "year", "nace_r2"]
    numerator = _demography_rows(demography, indicator.source).set_index(keys)["value"]
    denominator = _demography_rows(demography, indicator.denominator).set_index(keys)["value"]
    both = pd.concat([numerator.rename("num"), denominator.rename("den")], axis=1).dropna()
    sums = both.groupby(level=["geo", "year"], sort=True).sum()
    sums.index = sums.index.set_levels(sums.index.levels[1].astype(int), level=1)
    return sums["num"].astype(float), sums["den"].astype(float)


def indicator_values(indicator: Indicator, tables: dict[str, pd.DataFrame | None]
                     ) -> tuple[pd.Series | None, pd.Series | None, pd.Series | None, str]:
    """Numerator, denominator and value (scale * num / den) of one indicator.

    Returns ``(numerator, denominator, value, note)``; all three series are None when the
    source is unavailable, with the reason in ``note``. A zero denominator gives NaN.
    """
    source, denominator_source = indicator.source, indicator.denominator
    pairwise = (denominator_source is not None and source.table == "demography"
                and denominator_source.table == "demography"
                and source.sections == denominator_source.sections
                and tables.get("demography") is not None)
    note = ""
    if pairwise:
        numerator, denominator = _pairwise_demography(indicator, tables["demography"])
        if numerator.empty:
            return None, None, None, f"demography has no complete {source.describe()} rows"
        note = "sections where numerator and denominator are both published"
    else:
        numerator, reason = source_series(source, tables)
        if numerator is None:
            return None, None, None, reason
        denominator = None
        if denominator_source is not None:
            denominator, reason = source_series(denominator_source, tables)
            if denominator is None:
                return None, None, None, f"denominator: {reason}"
        if source.table == "sbs" and tables.get("sbs") is not None:
            rows = _sbs_rows(tables["sbs"], source)
            gaps = rows[rows[source.measure].isna()].groupby(["geo", "year"]).size()
            if len(gaps):
                note = (f"{len(gaps)} region-years with confidential/missing {source.measure} "
                        "cells left out of the sum")
    if denominator is None:
        value = numerator * indicator.scale
    else:
        numerator, denominator = numerator.align(denominator, join="outer")
        with np.errstate(divide="ignore", invalid="ignore"):
            value = indicator.scale * numerator / denominator.where(denominator != 0)
    return numerator, denominator, value.replace([np.inf, -np.inf], np.nan), note
