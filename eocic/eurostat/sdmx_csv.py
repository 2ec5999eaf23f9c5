"""Reader for SDMX-CSV 1.0 as served by the Eurostat dissemination API (``format=SDMX-CSV``).

One observation per row, comma-separated, columns selected by NAME (any order)::

    DATAFLOW,LAST UPDATE,freq,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS
    ESTAT:NAMA_10R_2GDP(1.0),26/03/24 23:00:00,A,MIO_EUR,AT11,2015,8000.5,p,

* Dimensions: every column that is not one of the known metadata/attribute columns
  (:data:`NON_DIMENSION_COLUMNS`, compared in upper case); Eurostat writes them in lower
  case (``freq``, ``unit``, ``geo``).
* The "labels=both" variant (``AT11:Burgenland``, headers like ``geo:Geopolitical
  entity``) is read by keeping the code before the first ``:`` in headers, dimension
  values and flag columns.
* ``OBS_VALUE``: a decimal number, or empty/``NaN`` for missing.
* ``flags``: the ``OBS_FLAG`` (or ``OBS_STATUS``) letters followed by the ``CONF_STATUS``
  letters (e.g. ``e`` + ``C`` -> ``eC``).

The output has exactly the schema of :func:`eocic.eurostat.tsv.read_tsv` (dimensions
lower case as category, ``time``, ``value``, ``flags``), sorted by dimensions then time.
"""

from __future__ import annotations

import csv
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from eocic.eurostat.errors import EurostatFormatError, read_payload, utf8_problem
from eocic.eurostat.tsv import (
    NUMBER_PATTERN, PERIOD_FORMS, body_bounds, body_reader, encode_sorted, normalise_period,
    tidy_frame, warn_unknown_flags,
)
from eocic.provenance import InflationLimit

#: Columns that are not dimensions (upper-cased header codes).
NON_DIMENSION_COLUMNS = frozenset({
    "DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "LAST UPDATE",
    "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "OBS_STATUS", "CONF_STATUS",
})
REQUIRED_COLUMNS = ("TIME_PERIOD", "OBS_VALUE")
FLAG_COLUMNS = ("OBS_FLAG", "OBS_STATUS", "CONF_STATUS")  # joined in this order


def read_sdmx_csv(path: str | os.PathLike[str], limit: InflationLimit | None = None) -> pd.DataFrame:
    """Read an SDMX-CSV 1.0 file (plain or gzip, detected by magic bytes) as a tidy table.

    ``limit``: most bytes the file may hold once decompressed (see
    :func:`eocic.eurostat.tsv.read_tsv`).

    Returns
    -------
    pandas.DataFrame
        The dimension columns (lower case, category; DATAFLOW/LAST UPDATE dropped),
        ``time`` (category, API period labels), ``value`` (float64, NaN when missing),
        ``flags`` (str, OBS_FLAG then CONF_STATUS letters, ``""`` when none); one row
        per observation, sorted by the dimensions then time.

    Raises
    ------
    EurostatFormatError
        Naming the file and line: missing TIME_PERIOD/OBS_VALUE column, no dimension
        column, a bad period or value (or one beyond the float64 range), a repeated
        observation key, unreadable CSV, invalid UTF-8 (with the byte offset), UTF-16 text.
    eocic.provenance.InflatedSizeError
        If the file inflates past ``limit``.
    """
    return parse_sdmx_csv(read_payload(path, limit), source=str(path))


def parse_sdmx_csv(payload: bytes, source: str = "<bytes>") -> pd.DataFrame:
    """Parse the decompressed bytes of an SDMX-CSV file; see :func:`read_sdmx_csv`."""
    names = header_names(payload, source, example="an SDMX-CSV header such as "
                         "'DATAFLOW,LAST UPDATE,freq,geo,TIME_PERIOD,OBS_VALUE'")
    columns: dict[str, str] = {}  # header code (upper case for metadata, else lower) -> file name
    for name in names:
        code = name.split(":", 1)[0].strip()
        key = code.upper() if code.upper() in NON_DIMENSION_COLUMNS else code.lower()
        if key in columns or not key:
            raise EurostatFormatError(source, 1, f"column {name!r} is empty or appears twice",
                                      "each column once, with a name")
        columns[key] = name
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise EurostatFormatError(source, 1, f"no {' or '.join(missing)} column in header {names}",
                                  "SDMX-CSV columns TIME_PERIOD and OBS_VALUE (request format=SDMX-CSV)")
    dimensions = [key for key in columns if key.upper() not in NON_DIMENSION_COLUMNS]
    if not dimensions:
        raise EurostatFormatError(source, 1, "no dimension column", "dimension columns such as freq, unit, geo")
    reserved = {"time", "value", "flags"} & set(dimensions)
    if reserved:
        raise EurostatFormatError(source, 1, f"dimension column(s) {sorted(reserved)} clash with output columns",
                                  "dimensions other than time/value/flags")
    table = csv_rows(payload, names, source)

    def text(key: str) -> pa.Array:
        return pc.utf8_trim_whitespace(table.column(columns[key]).combine_chunks())

    def code(key: str) -> pa.Array:  # "AT11:Burgenland" -> "AT11"
        return pc.utf8_trim_whitespace(pc.replace_substring_regex(text(key), r":.*$", ""))

    n_rows = table.num_rows
    dimension_codes, dimension_categories = encode_dimensions(
        [(name, code(name)) for name in dimensions], source, "a code in every dimension column")

    period_codes, raw_periods = encode_sorted(text("TIME_PERIOD"))
    periods = []
    for position, label in enumerate(raw_periods):
        period = normalise_period(label)
        if period is None:
            row = int(np.flatnonzero(period_codes == position)[0])
            raise EurostatFormatError(source, row + 2, f"TIME_PERIOD {label!r} is not a period", PERIOD_FORMS)
        periods.append(period)
    time_categories = sorted(set(periods))
    time_rank = {label: rank for rank, label in enumerate(time_categories)}
    time_codes = np.array([time_rank[p] for p in periods], dtype=np.int32)[period_codes] \
        if n_rows else np.zeros(0, np.int32)

    values = decimal_values(text("OBS_VALUE"), source)

    flag_text = pa.array([""] * n_rows, pa.string())
    for key in FLAG_COLUMNS:
        if key in columns:
            letters = pc.replace_substring_regex(code(key), r"\s+", "")
            flag_text = pc.binary_join_element_wise(flag_text, letters, "")
    flag_codes, flag_labels = encode_sorted(flag_text)
    if not flag_labels or flag_labels[0] != "":
        flag_labels = ["", *flag_labels]
        flag_codes = flag_codes + 1
    warn_unknown_flags(flag_labels, flag_codes, np.arange(n_rows), source)

    order = observation_order(dimension_codes, dimension_categories, dimensions, time_codes,
                              time_categories, "time", source, "each observation key once")

    return tidy_frame(
        dimensions=dimensions,
        dimension_codes=[c[order] for c in dimension_codes],
        dimension_categories=dimension_categories,
        time_codes=time_codes[order],
        time_categories=time_categories,
        values=values[order],
        flag_codes=flag_codes[order],
        flag_labels=flag_labels,
    )


def observation_order(dimension_codes: list[np.ndarray], dimension_categories: list[list[str]],
                      dimension_names: list[str], time_codes: np.ndarray,
                      time_categories: list[str], time_name: str, source: str,
                      fix: str) -> np.ndarray:
    """Row order that sorts the observations by key (dimensions in order, then time).

    Raises
    ------
    EurostatFormatError
        Two rows share a key: names the file, the later line (1-based, after the header), the
        key, the earlier line and ``fix``.
    """
    order = np.lexsort([time_codes, *dimension_codes[::-1]])
    keys = np.column_stack([c[order] for c in [*dimension_codes, time_codes]])
    repeated = np.flatnonzero((keys[1:] == keys[:-1]).all(axis=1))
    if len(repeated):
        first, second = sorted((int(order[repeated[0]]), int(order[repeated[0] + 1])))
        described = ", ".join(f"{name}={dimension_categories[i][dimension_codes[i][second]]}"
                              for i, name in enumerate(dimension_names))
        raise EurostatFormatError(
            source, second + 2, f"observation ({described}, "
            f"{time_name}={time_categories[time_codes[second]]}) repeats line {first + 2}", fix)
    return order


def encode_dimensions(columns: list[tuple[str, pa.Array]], source: str,
                      expected: str) -> tuple[list[np.ndarray], list[list[str]]]:
    """Integer codes and sorted categories of each (name, values) dimension column.

    Raises
    ------
    EurostatFormatError
        Naming the file and line (header = line 1) of the first empty code, and ``expected``.
    """
    dimension_codes, dimension_categories = [], []
    for name, values in columns:
        empty = np.flatnonzero(pc.equal(values, "").to_numpy(zero_copy_only=False))
        if len(empty):
            raise EurostatFormatError(source, int(empty[0]) + 2, f"empty {name} code", expected)
        codes, categories = encode_sorted(values)
        dimension_codes.append(codes)
        dimension_categories.append(categories)
    return dimension_codes, dimension_categories


def decimal_values(observations: pa.Array, source: str, *, column: str = "OBS_VALUE",
                   missing: tuple[str, ...] = ("", "NaN", "nan"),
                   expected: str = "a decimal number, or an empty field for a missing value"
                   ) -> np.ndarray:
    """The strings of a value column as float64, the ``missing`` spellings as NaN.

    Raises
    ------
    EurostatFormatError
        Naming the file, the line (header = line 1) and ``expected`` for the first value that
        is not a number, or that lies beyond the float64 range (about 1.8e308: a 400-digit
        number would become infinite).
    """
    is_missing = pc.is_in(observations, pa.array(list(missing)))
    valid = pc.or_(is_missing, pc.match_substring_regex(observations, NUMBER_PATTERN))
    bad = np.flatnonzero(~valid.to_numpy(zero_copy_only=False))
    if len(bad):
        row = int(bad[0])
        raise EurostatFormatError(source, row + 2,
                                  f"{column} {observations[row].as_py()!r} is not a number",
                                  expected)
    numbers = pc.if_else(is_missing, pa.scalar(None, pa.string()), observations)
    values = pc.cast(numbers, pa.float64()).to_numpy(zero_copy_only=False)
    beyond = np.flatnonzero(np.isinf(values))
    if len(beyond):
        row = int(beyond[0])
        text = observations[row].as_py()
        shown = text if len(text) <= 60 else f"{text[:25]}...{text[-10:]} ({len(text)} characters)"
        raise EurostatFormatError(source, row + 2, f"{column} {shown!r} is beyond the float64 "
                                  "range (about 1.8e308) and would become infinite",
                                  "a finite number: a value this large is a corrupt cell "
                                  "(check that line against the source)")
    return values


def header_names(payload: bytes, source: str, *, example: str | None = None) -> list[str]:
    """Column names of the header row (CSV quoting honoured); with ``example``, an empty
    header is an error whose fix shows it."""
    header_end = payload.find(b"\n")
    first_line = (payload if header_end < 0 else payload[:header_end]).rstrip(b"\r")
    try:
        header = first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise utf8_problem(source, 1, 0, exc) from exc
    if example is not None and not header.strip():
        raise EurostatFormatError(source, 1, "empty header row", example)
    return next(csv.reader([header]), [])


def csv_rows(payload: bytes, names: list[str], source: str) -> pa.Table:
    """The data rows of a comma-separated file (``payload`` including its header line) as
    string columns named ``names`` (:func:`split_csv_body`); no rows: an empty table.
    Trailing line breaks are ignored; the rows are read from a view of ``payload``, not a copy."""
    start, end = body_bounds(payload, payload.find(b"\n"))
    if end <= start:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return split_csv_body(payload, start, end, names, source)


def split_csv_body(payload: bytes, start: int, end: int, names: list[str], source: str) -> pa.Table:
    """Parse the comma-separated data rows ``payload[start:end]`` (after the header) into
    string columns named ``names``.

    CSV quoting is honoured, every field is kept as text (no type inference, no null values).
    Shared by the comma-separated readers (SDMX-CSV, :mod:`eocic.eurostat.ardeco`) through
    :func:`csv_rows`.

    Raises
    ------
    EurostatFormatError
        Naming the first line (header = 1) with a wrong field count or invalid UTF-8.
    """
    try:
        return pacsv.read_csv(
            body_reader(payload, start, end),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=",", ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=False,
                null_values=[], check_utf8=True),
        )
    except pa.ArrowInvalid as exc:
        _raise_row_problem(payload[start:end], start, len(names), source)
        raise EurostatFormatError(source, None, f"unreadable CSV ({exc})",
                                  "comma-separated UTF-8 rows with as many fields as the header") from exc


def _raise_row_problem(body: bytes, body_offset: int, n_fields: int, source: str) -> None:
    """Find the first data row (line 2 on) with a wrong field count or invalid UTF-8; raise for
    it (``body_offset``: byte offset of ``body`` in the file, for the message)."""
    offset = body_offset
    for number, line in enumerate(body.split(b"\n"), start=2):
        try:
            text = line.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            raise utf8_problem(source, number, offset, exc) from exc
        offset += len(line) + 1
        found = len(next(csv.reader([text]), []))
        if found != n_fields:
            raise EurostatFormatError(source, number, f"{found} comma-separated field(s) in {text[:60]!r}",
                                      f"{n_fields} fields as in the header")
