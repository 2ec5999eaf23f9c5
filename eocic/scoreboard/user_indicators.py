"""A user indicator table: many indicators at once, from two small files an economist writes.

Values file (CSV, UTF-8, optionally ``.csv.gz``): one row per region, year and indicator::

    geo,year,indicator,value
    AT11,2021,corruption,0.606
    AT11,2021,unemployment_rate,4.9

Metadata file (CSV or YAML) beside it, one entry per indicator::

    indicator,unit,direction,description,dimension
    corruption,z-score,1,European Quality of Government Index pillar,institutions
    unemployment_rate,% of active population,-1,Unemployment rate 15-74,labour_market

``direction`` is +1 (more is better) or -1 (less is better); ``dimension`` is optional (the
dimension an indicator joins when a framework takes every indicator of the table, see
:func:`framework_document`); ``name`` is optional (a label; the code is used otherwise). The
YAML form is a list of mappings with the same keys, or a mapping ``indicator -> {unit, ...}``.
By default the metadata file of ``indicators.csv`` is ``indicators.metadata.csv`` (or
``.metadata.yaml`` / ``.metadata.yml``) in the same folder.

Rules (:func:`read_user_indicators`), each broken one a :class:`UserIndicatorError` naming the
file, the line (header = line 1) and the fix:

- ``geo`` is a NUTS code of level 0-3 (two capital letters, then up to three capital letters or
  digits: ``DE``, ``DE1``, ``DE11``, ``DE111``); merged or custom regions (``AT_C``) are refused,
  because the scoreboard joins the table with the NUTS regions of the processed data;
- ``year`` is an integer between 1900 and 2100;
- ``indicator`` is a code of letters, digits and underscores starting with a letter (at most
  64 characters): it becomes an indicator code of the framework;
- ``value`` is a number, or empty for a missing value (``:``, ``n/a`` and the like are refused
  rather than silently read as missing);
- each (geo, year, indicator) occurs once;
- every indicator has exactly one metadata entry, and every metadata entry has values.

Nothing in either file is executed or rendered as markup; text fields are kept as plain
strings (the notebooks escape them when they display them).

The scoreboard framework reads an indicator of such a table through a ``csv`` source that
names it: ``source: {table: csv, path: indicators.csv, indicator: corruption}`` (the
``indicator`` key is what distinguishes the tidy table from the one-indicator
``geo, year, value`` file). :func:`framework_document` writes a whole index from a table's
metadata, one dimension per ``dimension`` value (or all indicators in one named dimension).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eocic.errors import EocicError

#: Columns of the values file, in order.
VALUE_COLUMNS = ("geo", "year", "indicator", "value")
#: Required and optional columns of the metadata file.
METADATA_COLUMNS = ("indicator", "unit", "direction", "description")
OPTIONAL_METADATA_COLUMNS = ("dimension", "name")

#: A NUTS code of level 0-3 (country codes such as EL and UK included).
NUTS_CODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")
#: An indicator or dimension code.
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
#: Metadata file names tried beside ``<stem>.csv``.
METADATA_SUFFIXES = (".metadata.csv", ".metadata.yaml", ".metadata.yml")


class UserIndicatorError(EocicError, ValueError):
    """A user indicator table that cannot be used; the message names file, line and fix."""


@dataclasses.dataclass(frozen=True)
class UserIndicatorTable:
    """A validated user indicator table.

    Attributes
    ----------
    values : DataFrame
        ``geo`` (str), ``year`` (int64), ``indicator`` (str), ``value`` (float64, NaN =
        missing), sorted by indicator, geo, year.
    metadata : DataFrame
        ``indicator, unit, direction (int +1/-1), description, dimension, name``, in file order
        (``dimension`` and ``name`` empty strings when not given).
    values_path, metadata_path : Path
    """

    values: pd.DataFrame
    metadata: pd.DataFrame
    values_path: Path
    metadata_path: Path

    @property
    def indicators(self) -> list[str]:
        return list(self.metadata["indicator"])

    def series(self, indicator: str) -> pd.Series | None:
        """Values of one indicator by (geo, year), or None when the table lacks it."""
        rows = self.values[self.values["indicator"] == indicator]
        if rows.empty:
            return None
        return rows.set_index(["geo", "year"])["value"].sort_index().astype(float)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def metadata_path_for(values_path: str | Path) -> Path:
    """The metadata file of a values file: the first existing ``<stem>.metadata.csv``,
    ``.metadata.yaml`` or ``.metadata.yml`` beside it (the ``.csv`` one when none exists)."""
    values_path = Path(values_path)
    candidates = [values_path.with_name(_stem(values_path) + s) for s in METADATA_SUFFIXES]
    return next((c for c in candidates if c.is_file()), candidates[0])


def _read_csv_text(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise UserIndicatorError(f"{path}: {what} file not found; write it (see "
                                 "eocic.scoreboard.user_indicators) or pass its path")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                           encoding="utf-8", skipinitialspace=True)
    except UnicodeDecodeError as error:
        raise UserIndicatorError(f"{path}: not UTF-8 text (byte {error.start}); save the file "
                                 "as UTF-8 CSV") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserIndicatorError(f"{path}: not a readable CSV ({error}); write comma-separated "
                                 "rows under one header line") from error


def _check_columns(frame: pd.DataFrame, path: Path, required: tuple[str, ...]) -> None:
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UserIndicatorError(f"{path}: missing column(s) {missing} (columns found: "
                                 f"{list(frame.columns)}); the header must contain "
                                 f"{', '.join(required)}")


def _parse_number(text: str) -> float | None:
    """A float, NaN for an empty cell, None for anything else."""
    text = text.strip()
    if text == "":
        return math.nan
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def read_values(path: str | Path) -> pd.DataFrame:
    """Read and check the values file (see the module docstring for the rules)."""
    path = Path(path)
    frame = _read_csv_text(path, "values")
    _check_columns(frame, path, VALUE_COLUMNS)
    frame = frame[list(VALUE_COLUMNS)].apply(lambda column: column.str.strip())
    lines = frame.index.to_numpy() + 2  # header is line 1
    bad_geo = ~frame["geo"].str.fullmatch(NUTS_CODE)
    if bad_geo.any():
        at = int(bad_geo.to_numpy().argmax())
        raise UserIndicatorError(
            f"{path}, line {lines[at]}: geo {frame['geo'].iloc[at]!r} is not a NUTS code "
            f"({int(bad_geo.sum())} such row(s)); write NUTS 0-3 codes such as DE, DE1, DE11 "
            "or DE111 (split merged regions such as AT_C into their NUTS regions)")
    years = pd.to_numeric(frame["year"], errors="coerce")
    bad_year = ~(frame["year"].str.fullmatch(r"\d{4}") & years.between(1900, 2100))
    if bad_year.any():
        at = int(bad_year.to_numpy().argmax())
        raise UserIndicatorError(
            f"{path}, line {lines[at]}: year {frame['year'].iloc[at]!r} is not a year between "
            "1900 and 2100; write the reference year as four digits (2021)")
    bad_code = ~frame["indicator"].str.fullmatch(CODE)
    if bad_code.any():
        at = int(bad_code.to_numpy().argmax())
        raise UserIndicatorError(
            f"{path}, line {lines[at]}: indicator {frame['indicator'].iloc[at]!r} is not a "
            "code; use letters, digits and underscores, starting with a letter (at most 64)")
    numbers = [_parse_number(text) for text in frame["value"]]
    bad_value = pd.Series([number is None for number in numbers], index=frame.index)
    parsed = pd.Series([math.nan if number is None else number for number in numbers],
                       index=frame.index, dtype="float64")
    if bad_value.any():
        at = int(bad_value.to_numpy().argmax())
        raise UserIndicatorError(
            f"{path}, line {lines[at]}: value {frame['value'].iloc[at]!r} of "
            f"{frame['indicator'].iloc[at]} is not a number ({int(bad_value.sum())} such "
            "row(s)); write a number with a dot as decimal mark, or leave the cell empty for a "
            "missing value")
    key = ["geo", "year", "indicator"]
    duplicated = frame.duplicated(key, keep=False)
    if duplicated.any():
        rows = frame[duplicated]
        first = rows.iloc[0]
        same = rows[(rows[key] == first[key]).all(axis=1)]
        at = [int(i) + 2 for i in same.index[:2]]
        raise UserIndicatorError(
            f"{path}, lines {at[0]} and {at[1]}: {first['indicator']} for {first['geo']} "
            f"{first['year']} is given twice ({int(duplicated.sum())} duplicated row(s) in "
            "all); keep one row per geo, year and indicator")
    values = pd.DataFrame({"geo": frame["geo"], "year": years.astype("int64"),
                           "indicator": frame["indicator"],
                           "value": parsed.astype("float64")})
    return values.sort_values(["indicator", "geo", "year"], ignore_index=True)


def _metadata_records(path: Path) -> tuple[pd.DataFrame, str]:
    """The metadata as strings, and how to name an entry's position (``line`` or ``entry``)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            raise UserIndicatorError(f"{path}: metadata file not found")
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise UserIndicatorError(f"{path}: not valid UTF-8 YAML ({error})") from error
        if isinstance(document, dict):
            document = [{"indicator": code, **(fields if isinstance(fields, dict) else {})}
                        for code, fields in document.items()]
        if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
            raise UserIndicatorError(
                f"{path}: the metadata must be a list of mappings (indicator, unit, direction, "
                "description) or a mapping indicator -> {unit, direction, description}")
        frame = pd.DataFrame([{k: "" if v is None else str(v) for k, v in entry.items()}
                              for entry in document])
        frame.index = frame.index - 1  # entry n is reported as "entry n"
        return frame, "entry"
    return _read_csv_text(path, "metadata"), "line"


def read_metadata(path: str | Path) -> pd.DataFrame:
    """Read and check the metadata file (CSV or YAML)."""
    path = Path(path)
    frame, position = _metadata_records(path)
    if frame.empty:
        raise UserIndicatorError(f"{path}: no indicator listed; add one entry per indicator")
    _check_columns(frame, path, METADATA_COLUMNS)
    for column in OPTIONAL_METADATA_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[list(METADATA_COLUMNS + OPTIONAL_METADATA_COLUMNS)].fillna("")
    frame = frame.apply(lambda column: column.astype(str).str.strip())
    directions = []
    for number, row in zip(frame.index + 2, frame.itertuples(index=False)):
        where = f"{path}, {position} {number} ({row.indicator or '?'})"
        if not CODE.fullmatch(row.indicator):
            raise UserIndicatorError(f"{where}: indicator {row.indicator!r} is not a code; use "
                                     "letters, digits and underscores, starting with a letter")
        if row.direction.lstrip("+") not in ("1", "-1", "1.0", "-1.0"):
            raise UserIndicatorError(f"{where}: direction {row.direction!r} must be +1 (more is "
                                     "better) or -1 (less is better)")
        if not row.unit:
            raise UserIndicatorError(f"{where}: unit is empty; give the unit of the values "
                                     "(e.g. '% of GDP')")
        if row.dimension and not CODE.fullmatch(row.dimension):
            raise UserIndicatorError(f"{where}: dimension {row.dimension!r} is not a code; use "
                                     "letters, digits and underscores, starting with a letter")
        directions.append(int(float(row.direction)))
    frame["direction"] = directions
    repeated = frame[frame["indicator"].duplicated(keep=False)]
    if not repeated.empty:
        code = repeated["indicator"].iloc[0]
        at = [int(i) + 2 for i in repeated[repeated["indicator"] == code].index[:2]]
        raise UserIndicatorError(f"{path}, {position}s {at[0]} and {at[1]}: indicator {code!r} "
                                 "is described twice; keep one entry per indicator")
    return frame.reset_index(drop=True)


def read_user_indicators(values_path: str | Path,
                         metadata_path: str | Path | None = None) -> UserIndicatorTable:
    """Read a values file and its metadata, checking each against the other.

    Raises
    ------
    UserIndicatorError
        A rule of the module docstring is broken, or an indicator of the values has no
        metadata entry (or an entry has no values), naming the file, line and fix.
    """
    values_path = Path(values_path)
    metadata_path = metadata_path_for(values_path) if metadata_path is None else Path(metadata_path)
    values = read_values(values_path)
    metadata = read_metadata(metadata_path)
    described = set(metadata["indicator"])
    undescribed = values[~values["indicator"].isin(described)]
    if not undescribed.empty:
        codes = sorted(set(undescribed["indicator"]))
        raise UserIndicatorError(
            f"{values_path}: indicator(s) {codes[:5]}{' ...' if len(codes) > 5 else ''} have "
            f"no entry in the metadata file {metadata_path}; add a row (indicator, unit, "
            "direction, description) for each")
    without_values = sorted(described - set(values["indicator"]))
    if without_values:
        raise UserIndicatorError(
            f"{metadata_path}: indicator(s) {without_values[:5]} have no row in the values file "
            f"{values_path}; add their values or remove their metadata entries")
    return UserIndicatorTable(values, metadata, values_path, metadata_path)


@functools.lru_cache(maxsize=8)
def _cached_table(values_path: str, metadata_path: str, stamp: tuple) -> UserIndicatorTable:
    return read_user_indicators(values_path, metadata_path)


def load_cached(values_path: str | Path) -> UserIndicatorTable:
    """:func:`read_user_indicators` with the default metadata file, read once per version of
    the two files (keyed on their size and modification time): a framework naming 68
    indicators of one table reads it once."""
    values_path = Path(values_path)
    metadata_path = metadata_path_for(values_path)
    stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
                  for p in (values_path, metadata_path))
    return _cached_table(str(values_path), str(metadata_path), stamp)


def framework_document(table: UserIndicatorTable, index_code: str, index_name: str, *,
                       dimension: str | None = None, path: str | Path | None = None
                       ) -> dict[str, Any]:
    """A framework document (the YAML structure of ``framework.yaml``) with one index made of
    every indicator of ``table``.

    Each indicator joins the dimension of its metadata ``dimension`` field, or ``dimension``
    when given (all indicators in that one dimension; required when some entry has no
    dimension). Indicators read the table through ``{table: csv, path, indicator}`` sources
    (``path`` defaults to the table's values file). Weights are equal; the rationale is the
    metadata description. Pass the result to
    :func:`eocic.scoreboard.framework.parse_framework`.

    Raises
    ------
    UserIndicatorError
        An index or dimension code that is not a code, an indicator without dimension when
        ``dimension`` is not given, or an indicator code equal to a dimension code.
    """
    for code in (index_code, dimension):
        if code is not None and not CODE.fullmatch(code):
            raise UserIndicatorError(f"{code!r} is not a code; use letters, digits and "
                                     "underscores, starting with a letter")
    meta = table.metadata
    if dimension is None and (meta["dimension"] == "").any():
        missing = list(meta.loc[meta["dimension"] == "", "indicator"][:5])
        raise UserIndicatorError(f"{table.metadata_path}: indicator(s) {missing} have no "
                                 "dimension; fill the dimension column or pass dimension=")
    dimensions = ([dimension] if dimension is not None
                  else list(dict.fromkeys(meta["dimension"])))
    clash = sorted(set(dimensions) & set(meta["indicator"]) | {index_code} & set(meta["indicator"]))
    if clash:
        raise UserIndicatorError(f"{table.metadata_path}: code(s) {clash} name both an "
                                 "indicator and a dimension or the index; rename one")
    source_path = str(path if path is not None else table.values_path)
    indicators = [{
        "code": row.indicator, "name": row.name or row.indicator,
        "parent": dimension if dimension is not None else row.dimension,
        "source": {"table": "csv", "path": source_path, "indicator": row.indicator},
        "unit": row.unit, "direction": int(row.direction),
        "rationale": row.description or f"user indicator {row.indicator}",
    } for row in meta.itertuples(index=False)]
    groups = [{"code": code, "name": code.replace("_", " "), "parent": index_code}
              for code in dimensions]
    return {"version": 1, "indices": {index_code: {
        "name": index_name, "description": f"Indicators of {table.values_path.name}",
        "groups": groups, "indicators": indicators}}}
