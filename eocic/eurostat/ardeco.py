"""Reader for the export format of JRC ARDECO (Annual Regional Database of the European Commission).

ARDECO is maintained by the European Commission's Joint Research Centre with DG REGIO
(https://territorial.ec.europa.eu/ardeco); its data are © European Union, CC BY 4.0. It
complements Eurostat's regional accounts with long series (population from 1960) in one
NUTS version, and carries short-term regional projections derived from DG ECFIN's AMECO
forecasts. Its CSV export has one observation per row, comma-separated, quoted text::

    "VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"
    "SNPTD",2021,2,"AT11",2022,"Persons",3e+05
    "SNPTD",2021,2,"LT01",2014,"Persons",800080

Columns are selected by name (case-insensitive, any order):

* ``VARIABLE`` -> dimension ``variable`` (ARDECO variable code, e.g. ``SNPTD`` total
  population, ``SOVGDP`` real GDP);
* ``VERSIONS`` -> dimension ``nuts_version`` (NUTS version of the region codes, ``2021``);
* ``LEVEL`` -> dimension ``level`` (NUTS level, ``0``-``3``);
* ``NUTSCODE`` -> dimension ``geo`` (region code, the name the pipeline expects);
* ``UNIT`` -> dimension ``unit`` (unit label as written, e.g. ``Persons``,
  ``Million EUR2015``);
* any other column (e.g. ``SEX``, ``AGE``, ``ISCED11`` of the education export) -> a
  dimension named in lower case;
* ``YEAR`` -> ``time`` (four digits);
* ``VALUE`` -> ``value``: a decimal number, R's exponent form included (``3e+05`` is
  300000: R writes round numbers that way), or ``NA``/empty for missing.

The dimensions keep the file's column order. The registry selects a series with
``variable``, ``unit``, ``nuts_version`` and ``level``
(:mod:`eocic.eurostat.registry`); ``geo`` and ``time`` become the keys of the processed
tables.

Projections and the ``f`` flag
------------------------------
ARDECO has no flag column. ``flags`` is ``f`` (forecast, a code of Eurostat's OBS_STATUS
list, :mod:`eocic.eurostat.flags`) for the years after the last non-projected year of the
variable, ``""`` otherwise. The cut-off per variable is :data:`LAST_OBSERVED_YEAR`; it depends
on the export's vintage (ARDECO is updated twice a year, after DG ECFIN's spring and autumn
AMECO forecasts; https://ec.europa.eu/knowledge4policy/territorial/ardeco-database_en) and was
established from the data themselves on the export in ``../shared/data`` (taken from a GitHub
repository at its commit of 2025-06-22, see ``SOURCES.md``), for SNPTD:

* up to 2023 the values look like published figures, many of them in thousands with one
  decimal: 45-65 % of the values of each year 2013-2023 are multiples of 10 persons (AT11:
  293000, 293900, 295100); from 2024 on only 11-15 % are, as expected of model output
  (AT11: 302709, 303832, 304161);
* regions ARDECO publishes but does not project have no value after 2023 (LI00, most
  extra-regio codes ``..ZZ``; ATZZ and ITZZ reappear in 2026 with 0).

So 2024-2026 are flagged ``f``. 2024 is probably a regional estimate for a year whose
official regional figures were not out yet rather than a forecast; it is flagged ``f`` all
the same because it is model output, not a published figure.

A cut-off is only right for the vintage it was established on. :data:`VINTAGE_LAST_YEAR`
records that vintage's last year per variable: a file whose series of the variable ends in
another year (a newer or older export) raises :class:`ArdecoProjectionWarning`, and so does
a variable without a known cut-off (its rows get no ``f``). Pass ``last_observed_year`` to
:func:`read_ardeco` to set the cut-off for such a file.

The output has the tidy schema of :func:`eocic.eurostat.tsv.read_tsv` (dimensions as
category, ``time`` category, ``value`` float64, ``flags`` str), sorted by the dimensions then
time.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eocic.eurostat.errors import EurostatFormatError, read_payload
from eocic.eurostat.sdmx_csv import (
    csv_rows,
    decimal_values,
    encode_dimensions,
    header_names,
    observation_order,
)
from eocic.eurostat.tsv import encode_sorted, tidy_frame
from eocic.provenance import InflationLimit

#: Columns every ARDECO export has (upper case) -> output column (``None``: not a dimension).
REQUIRED_COLUMNS: Mapping[str, str | None] = MappingProxyType({
    "VARIABLE": "variable", "VERSIONS": "nuts_version", "LEVEL": "level", "NUTSCODE": "geo",
    "YEAR": None, "UNIT": "unit", "VALUE": None,
})

#: ARDECO variable -> last year that is not a projection, in the export the cut-off was
#: established on (see the module docstring for the evidence).
LAST_OBSERVED_YEAR: Mapping[str, int] = MappingProxyType({"SNPTD": 2023})

#: ARDECO variable -> last year of its series in that export (2025 vintage); a file ending in
#: another year is another vintage, whose cut-off may differ.
VINTAGE_LAST_YEAR: Mapping[str, int] = MappingProxyType({"SNPTD": 2026})

#: Flag of a projected year (Eurostat OBS_STATUS ``f`` = forecast).
PROJECTION_FLAG = "f"

#: Spellings of a missing VALUE (R writes ``NA``).
MISSING_VALUES = ("", "NA", "NaN", "nan")

_EXAMPLE_HEADER = '"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"'


class ArdecoProjectionWarning(UserWarning):
    """The projected years of an ARDECO file are not known for sure (see :mod:`eocic.eurostat.ardeco`)."""


def is_ardeco_header(header: str) -> bool:
    """Whether a (decoded) first line is an ARDECO export header: comma-separated, with a
    ``NUTSCODE`` column (a name neither Eurostat format uses)."""
    if "\t" in header:
        return False
    names = next(csv.reader([header.rstrip("\r")]), [])
    return "NUTSCODE" in {name.strip().upper() for name in names}


def read_ardeco(path: str | os.PathLike[str], *, last_observed_year: int | None = None,
                limit: InflationLimit | None = None) -> pd.DataFrame:
    """Read an ARDECO CSV export (plain or gzip, detected by magic bytes) as a tidy table.

    Parameters
    ----------
    path : path of the export (e.g. ``ardeco_nuts2_population.csv``).
    last_observed_year : int, optional
        Years after it are flagged ``f`` for every variable of the file. Default: the cut-off
        of :data:`LAST_OBSERVED_YEAR` per variable.

    Returns
    -------
    pandas.DataFrame
        Dimensions ``variable``, ``nuts_version``, ``level``, ``geo``, any extra column, ``unit``
        (file column order, category), ``time`` (category, the year), ``value`` (float64, NaN
        when missing; unit as in ``unit``), ``flags`` (str, ``f`` for projected years, else
        ``""``); one row per observation, sorted by the dimensions then time.

    Raises
    ------
    EurostatFormatError
        Naming the file and line: a required column missing or repeated, an empty code, a
        YEAR that is not four digits, a VALUE that is not a number, a repeated observation
        key, a row with the wrong number of fields, invalid UTF-8 (with the byte offset),
        UTF-16 text, a VALUE beyond the float64 range.
    eocic.provenance.InflatedSizeError
        If the file inflates past ``limit`` (see :func:`eocic.eurostat.tsv.read_tsv`).

    Warns
    -----
    ArdecoProjectionWarning
        When a variable has no known cut-off, or the file is another vintage than the one its
        cut-off was established on (and ``last_observed_year`` is not given).
    """
    return parse_ardeco(read_payload(path, limit), source=str(path),
                        last_observed_year=last_observed_year)


def parse_ardeco(payload: bytes, source: str = "<bytes>", *,
                 last_observed_year: int | None = None) -> pd.DataFrame:
    """Parse the decompressed bytes of an ARDECO export; see :func:`read_ardeco`."""
    names = header_names(payload, source)
    columns: dict[str, str] = {}  # output name (or YEAR/VALUE) -> name in the file
    for name in names:
        upper = name.strip().upper()
        if upper in REQUIRED_COLUMNS:
            key = REQUIRED_COLUMNS[upper] or upper  # YEAR and VALUE keep their upper-case name
        else:
            key = upper.lower()
        if not upper or key in columns:
            raise EurostatFormatError(source, 1, f"column {name!r} is empty or appears twice "
                                      "(NUTSCODE is read as geo)", "each column once, with a name")
        columns[key] = name
    missing = [upper for upper, key in REQUIRED_COLUMNS.items() if (key or upper) not in columns]
    if missing:
        raise EurostatFormatError(
            source, 1, f"no {', '.join(missing)} column in header {names}",
            f"an ARDECO export header such as {_EXAMPLE_HEADER} (download the variable again "
            "from https://territorial.ec.europa.eu/ardeco)")
    dimensions = [key for key in columns if key not in ("YEAR", "VALUE")]
    reserved = {"time", "value", "flags"} & set(dimensions)
    if reserved:
        raise EurostatFormatError(source, 1, f"column(s) {sorted(reserved)} clash with output columns",
                                  "extra columns other than time/value/flags")

    table = csv_rows(payload, names, source)

    def text(key: str) -> pa.Array:
        return pc.utf8_trim_whitespace(table.column(columns[key]).combine_chunks())

    dimension_codes, dimension_categories = encode_dimensions(
        [(columns[key], text(key)) for key in dimensions], source,
        "a code in every column but VALUE")

    years = text("YEAR")
    bad_year = np.flatnonzero(~pc.match_substring_regex(years, r"^\d{4}$").to_numpy(zero_copy_only=False))
    if len(bad_year):
        row = int(bad_year[0])
        raise EurostatFormatError(source, row + 2, f"YEAR {years[row].as_py()!r} is not a year",
                                  "a four-digit year such as 2021")
    time_codes, time_categories = encode_sorted(years)
    values = decimal_values(text("VALUE"), source, column="VALUE", missing=tuple(MISSING_VALUES),
                            expected="a decimal number (3e+05 allowed), or NA/empty for a "
                            "missing value")

    order = observation_order(dimension_codes, dimension_categories,
                              [columns[key] for key in dimensions], time_codes, time_categories,
                              "YEAR", source, "each observation key once (remove the duplicate row)")

    variable_position = dimensions.index("variable")
    variables = np.asarray(dimension_categories[variable_position], dtype=object)[
        dimension_codes[variable_position]] if len(years) else np.zeros(0, dtype=object)
    year_numbers = np.asarray(time_categories, dtype=np.int64)[time_codes] \
        if len(years) else np.zeros(0, np.int64)
    projected = _projected(variables, year_numbers, last_observed_year, source)
    return tidy_frame(
        dimensions=dimensions,
        dimension_codes=[c[order] for c in dimension_codes],
        dimension_categories=dimension_categories,
        time_codes=time_codes[order],
        time_categories=time_categories,
        values=values[order],
        flag_codes=projected[order].astype(np.int32),
        flag_labels=["", PROJECTION_FLAG],
    )


def _projected(variables: np.ndarray, years: np.ndarray, last_observed_year: int | None,
               source: str) -> np.ndarray:
    """True for the rows whose year is a projection of their variable (see the module docstring)."""
    projected = np.zeros(len(years), dtype=bool)
    if last_observed_year is not None:
        return years > last_observed_year
    for variable in sorted(set(variables.tolist())):
        rows = variables == variable
        cutoff = LAST_OBSERVED_YEAR.get(variable)
        if cutoff is None:
            warnings.warn(
                f"{source}: projected years of ARDECO variable {variable} are not known, no year "
                "is flagged f; find the last non-projected year (ARDECO release notes) and pass "
                "last_observed_year to eocic.eurostat.ardeco.read_ardeco",
                ArdecoProjectionWarning, stacklevel=4)
            continue
        last_year = int(years[rows].max())
        if last_year != VINTAGE_LAST_YEAR[variable]:
            warnings.warn(
                f"{source}: ARDECO variable {variable} ends in {last_year}, the export its "
                f"cut-off was established on ends in {VINTAGE_LAST_YEAR[variable]}: another "
                f"vintage. Years after {cutoff} are flagged f; check which years this vintage "
                "projects and pass last_observed_year to eocic.eurostat.ardeco.read_ardeco",
                ArdecoProjectionWarning, stacklevel=4)
        projected[rows] = years[rows] > cutoff
    return projected
