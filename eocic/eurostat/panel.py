"""Reader for regional panel tables: one row per region and year, one column per series.

Research databases and repackaged Eurostat extracts often come as a wide panel rather than in
a Eurostat layout, for example (all in ``../shared/data/regional_context``, see ``SOURCES.md``):

* ``I40_indicator_db.tsv`` (Honti, Czvetko & Abonyi 2020, "Data describing the regional
  Industry 4.0 readiness index", Data in Brief 33:106464, CC BY 4.0): tab-separated, columns
  ``NUTS2, YEAR`` then one column per Eurostat series, named after the dataset and its
  filters (``htec_emp_reg2_NACE_R2_C_HTC__UNIT_PC_EMP__SEX_T``);
* ``eurostat_tgs_nuts2_panel_2007_2018.csv``: comma-separated, ``geo, NUTS_NAME, CNTR_CODE,
  year`` then Eurostat's tgs tables under short names (``unemployment_rate_t`` = tgs00010,
  ``broadband_access_household`` = tgs00049);
* ``isoc_daily_internet_users_nuts.csv`` (rOpenGov ``regions``): ``geo, time, values``.

The header names a region column (``geo``, ``NUTS2``, ``NUTS_ID`` or ``NUTS2_ID``, any case) and
a year column (``year`` or ``time``); every other column is either a **series** (each
non-empty cell a number) or a **label** (no cell a number, e.g. a region name), which is left
out. The output has the tidy schema of :func:`eocic.eurostat.tsv.read_tsv`: dimensions
``variable`` (the series' column name as written, stripped of spaces) and ``geo`` (category),
``time`` (category, the four-digit year), ``value`` (float64, NaN when missing), ``flags``
(``""``: panels carry no flags); one row per region, year and series, sorted by variable, geo
and time. The registry selects a series with ``variable`` (:mod:`eocic.eurostat.registry`).

Cells read as missing: empty, ``NA``, ``NaN``, ``:``. A year may be written ``2019.0`` (R and
pandas write integer years read as doubles that way); anything else that is not a four-digit
year is refused.
"""

from __future__ import annotations

import csv
import io
import os
import re

import numpy as np
import pandas as pd

from eocic.eurostat.errors import EurostatFormatError, read_payload
from eocic.provenance import InflationLimit

#: Names of the region column (upper case).
GEO_COLUMNS = ("GEO", "NUTS2", "NUTS_ID", "NUTS2_ID")
#: Names of the year column (upper case).
YEAR_COLUMNS = ("YEAR", "TIME")
#: Spellings of a missing cell.
MISSING_VALUES = ("", "NA", "NaN", "nan", ":")

_YEAR = re.compile(r"^(\d{4})(?:\.0*)?$")


def _names(header: str) -> tuple[list[str], str]:
    delimiter = "\t" if "\t" in header else ","
    names = next(csv.reader([header.rstrip("\r")], delimiter=delimiter), [])
    return [name.strip() for name in names], delimiter


def is_panel_header(header: str) -> bool:
    """Whether a (decoded) first line is a regional panel header: a region column and a year
    column (see the module docstring), and neither an ARDECO (``NUTSCODE``) nor an SDMX-CSV
    (``TIME_PERIOD``, ``OBS_VALUE``) nor a Eurostat TSV header (``...\\time``)."""
    names, _ = _names(header)
    upper = {name.upper() for name in names}
    if not names or "\\" in names[0] or upper & {"NUTSCODE", "TIME_PERIOD", "OBS_VALUE"}:
        return False
    return bool(upper & set(GEO_COLUMNS)) and bool(upper & set(YEAR_COLUMNS))


def read_panel(path: str | os.PathLike[str], limit: InflationLimit | None = None) -> pd.DataFrame:
    """Read a regional panel table (plain or gzip) as a tidy table; see the module docstring.

    Raises
    ------
    EurostatFormatError
        Naming the file and line: no region or year column, or two of either; a year that is
        not a four-digit year; a series column holding a cell that is not a number (with the
        column); a region and year given twice; a row with the wrong number of fields.
    """
    return parse_panel(read_payload(path, limit), source=str(path))


def parse_panel(payload: bytes, source: str = "<bytes>") -> pd.DataFrame:
    """Parse the decompressed bytes of a regional panel table; see :func:`read_panel`."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        line = payload[:error.start].count(b"\n") + 1
        raise EurostatFormatError(source, line, f"invalid UTF-8 at byte {error.start}",
                                  "UTF-8 text") from error
    header = text.split("\n", 1)[0]
    names, delimiter = _names(header)
    upper = [name.upper() for name in names]
    geo = [name for name, key in zip(names, upper) if key in GEO_COLUMNS]
    year = [name for name, key in zip(names, upper) if key in YEAR_COLUMNS]
    if len(geo) != 1 or len(year) != 1:
        raise EurostatFormatError(
            source, 1, f"{len(geo)} region column(s) and {len(year)} year column(s) in header "
            f"{names[:6]}", f"one region column ({', '.join(GEO_COLUMNS)}) and one year column "
            f"({', '.join(YEAR_COLUMNS)}), any case")
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise EurostatFormatError(source, 1, f"column(s) {repeated} appear twice",
                                  "each column once")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            na_filter=False, header=0, names=names, engine="c")
    except pd.errors.ParserError as error:
        match = re.search(r"line (\d+)", str(error))
        raise EurostatFormatError(source, int(match.group(1)) if match else None,
                                  f"unreadable row ({error})",
                                  f"{len(names)} fields per row, as in the header") from error
    frame = frame.apply(lambda column: column.str.strip())
    lines = np.arange(len(frame)) + 2  # header = line 1
    years = frame[year[0]].str.extract(_YEAR, expand=False)
    bad = years.isna().to_numpy()
    if bad.any():
        at = int(bad.argmax())
        raise EurostatFormatError(source, int(lines[at]),
                                  f"{year[0]} {frame[year[0]].iloc[at]!r} is not a year",
                                  "a four-digit year such as 2014 (2014.0 is read as 2014)")
    empty_geo = (frame[geo[0]] == "").to_numpy()
    if empty_geo.any():
        at = int(empty_geo.argmax())
        raise EurostatFormatError(source, int(lines[at]), f"empty {geo[0]}",
                                  "a region code in every row")
    duplicated = pd.DataFrame({"geo": frame[geo[0]], "year": years}).duplicated(keep=False)
    if duplicated.any():
        first = np.flatnonzero(duplicated.to_numpy())[:2]
        raise EurostatFormatError(
            source, int(lines[first[1]]), f"region {frame[geo[0]].iloc[first[0]]} and year "
            f"{years.iloc[first[0]]} already given on line {int(lines[first[0]])}",
            "one row per region and year (remove the duplicate row)")
    series = {}
    for name in names:
        if name in (geo[0], year[0]):
            continue
        cells = frame[name]
        present = ~cells.isin(MISSING_VALUES)
        numbers = pd.to_numeric(cells.where(present), errors="coerce")
        not_number = present & numbers.isna()
        if present.any() and not_number[present].all():
            continue  # a label column (region names, country codes): no cell is a number
        if not_number.any():
            at = int(not_number.to_numpy().argmax())
            raise EurostatFormatError(
                source, int(lines[at]), f"{cells.iloc[at]!r} in column {name!r} is not a "
                "number, though other cells of the column are",
                "a number (dot as decimal mark) or an empty cell, NA or ':' for a missing value")
        series[name] = numbers.to_numpy(dtype=np.float64)
    variables = sorted(series)
    regions = frame[geo[0]].to_numpy(dtype=object)
    count = len(frame)
    tidy = pd.DataFrame({
        "variable": np.repeat(np.array(variables, dtype=object), count),
        "geo": np.tile(regions, len(variables)),
        "time": np.tile(years.to_numpy(dtype=object), len(variables)),
        "value": np.concatenate([series[v] for v in variables]) if variables else np.zeros(0),
    })
    tidy = tidy.sort_values(["variable", "geo", "time"], ignore_index=True, kind="stable")
    for column in ("variable", "geo", "time"):
        categories = pd.Index(sorted(tidy[column].unique()), dtype="str")
        tidy[column] = pd.Categorical(tidy[column], categories=categories)
    tidy["value"] = tidy["value"].astype("float64")
    tidy["flags"] = pd.array([""] * len(tidy), dtype="str")
    return tidy
