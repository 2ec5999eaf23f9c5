"""Write tidy tables as Eurostat TSV files (the legacy bulk layout and the current API layout).

Both layouts put one series per line: the first column joins the dimension codes with commas,
its header ends with a backslash and the name of the time axis; every later column is one
period. A cell is the formatted value, one space, then the flags (``"708 "``, ``"12 p"``); a
missing value is a colon (``": "``, or ``": c"`` with a flag).

=========  ===================================  ==============  ============================
layout     header of the first column           period order    example dataset
=========  ===================================  ==============  ============================
legacy     ``nace_r2,indic_sb,geo\\time``        newest first    bulk download before 2023
api        ``freq,unit,geo\\TIME_PERIOD``        oldest first    dissemination API (2023 on)
=========  ===================================  ==============  ============================

Period labels are written with a trailing space (``"2015 "``), as Eurostat does, and the file
ends with a newline. Rows are sorted by their dimension codes (string order, dimension by
dimension), which is the order of the real bulk files. The input is the tidy shape that
:func:`eocic.eurostat.tsv.read_tsv` returns, so writing then reading gives the table back.

Reference: Eurostat, "Bulk download: the TSV format" (database guide), and the dissemination
API documentation (``format=TSV``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from eocic.atomic import gzip_bytes, write_bytes_atomic

Layout = Literal["legacy", "api"]

TIME_AXIS_NAME: dict[str, str] = {"legacy": "time", "api": "TIME_PERIOD"}
"""Name written after the backslash of the first header cell, per layout."""

MISSING_VALUE = ":"
"""Eurostat's symbol for a value that is not available (or not published)."""

_FORBIDDEN_IN_CODES = (",", "\t", "\n", "\r", "\\")
_TEXT = np.dtypes.StringDType()  # numpy >= 2.0: variable-width strings with vectorised ops


def format_eurostat_tsv(
    frame: pd.DataFrame,
    dimensions: Sequence[str],
    *,
    layout: Layout = "legacy",
    decimals: int = 0,
    decimals_by: Mapping[str, Mapping[str, int]] | None = None,
    periods: Sequence[str] | None = None,
) -> str:
    """Render a tidy table as the text of a Eurostat TSV file.

    Parameters
    ----------
    frame : DataFrame
        One row per observation with the columns ``dimensions`` (codes, str), ``time``
        (period label such as ``"2015"``), ``value`` (float; NaN when missing) and
        optionally ``flags`` (str, ``""`` when none; e.g. ``"p"``, ``"c"``, ``"C"``, ``"bu"``).
        Series/period pairs absent from ``frame`` are written as missing (``": "``).
    dimensions : sequence of str
        Dimension columns in file order; the last one is usually ``geo``. For the API layout
        the first one is usually ``freq``.
    layout : {"legacy", "api"}
        ``legacy``: header ``...\\time``, periods newest first. ``api``: header
        ``...\\TIME_PERIOD``, periods oldest first.
    decimals : int
        Decimal places of every value unless ``decimals_by`` says otherwise.
    decimals_by : mapping, optional
        ``{dimension: {code: decimals}}``, e.g. ``{"indic_sb": {"V13320": 1}}``: rows whose
        ``dimension`` column holds ``code`` get that many decimals (first match wins in the
        order of the mapping).
    periods : sequence of str, optional
        Period columns to write (also those without any value). Default: the distinct
        labels in ``frame["time"]``.

    Returns
    -------
    str
        The file text, lines separated by ``"\\n"`` and ending with one.

    Raises
    ------
    ValueError
        When a column is missing, a code contains a comma, tab, newline or backslash, a flag
        contains white space, a value is infinite, or a series has two values for a period.
    """
    dimensions = list(dimensions)
    if layout not in TIME_AXIS_NAME:
        raise ValueError(f"layout must be 'legacy' or 'api', got {layout!r}")
    if not dimensions:
        raise ValueError("at least one dimension column is needed (e.g. ['unit', 'geo'])")
    missing_columns = [c for c in [*dimensions, "time", "value"] if c not in frame.columns]
    if missing_columns:
        raise ValueError(
            f"tidy table lacks column(s) {missing_columns}; expected the dimensions "
            f"{dimensions} plus 'time', 'value' and optionally 'flags'"
        )

    # every column is factorised once: positions index the sorted distinct codes
    positions: dict[str, np.ndarray] = {}
    uniques_by_dim: dict[str, np.ndarray] = {}
    for dim in dimensions:
        position, uniques = _factorize_sorted(frame[dim])
        for code in uniques:
            if code == "" or any(ch in code for ch in _FORBIDDEN_IN_CODES):
                raise ValueError(
                    f"dimension {dim!r} has code {code!r}: Eurostat codes are non-empty and "
                    "hold no commas, tabs, newlines or backslashes"
                )
        positions[dim], uniques_by_dim[dim] = position, uniques
    values = frame["value"].to_numpy(dtype=float)
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"row {row} has an infinite value; write NaN for a missing value")
    if "flags" in frame.columns:
        flag_position, flag_codes = pd.factorize(frame["flags"].fillna("").astype(str))
        flag_codes = np.asarray(flag_codes, dtype=object)
        for flag in flag_codes:
            if any(ch.isspace() for ch in flag):
                row = int(np.flatnonzero(flag_codes[flag_position] == flag)[0])
                raise ValueError(
                    f"row {row} has flags {flag!r} with white space; flags are letters only, "
                    "e.g. 'p' or 'bu'"
                )
        flags = np.asarray(flag_codes, dtype=_TEXT)[flag_position] if len(flag_codes) else \
            np.full(len(frame), "", dtype=_TEXT)
    else:
        flags = np.full(len(frame), "", dtype=_TEXT)

    row_decimals = np.full(len(frame), int(decimals), dtype=np.int64)
    if decimals_by:
        assigned = np.zeros(len(frame), dtype=bool)
        for dim, by_code in decimals_by.items():
            if dim not in positions:
                raise ValueError(f"decimals_by names {dim!r}, which is not one of {dimensions}")
            for code, places in by_code.items():
                found = np.flatnonzero(uniques_by_dim[dim] == code)
                if len(found):
                    hit = (positions[dim] == found[0]) & ~assigned
                    row_decimals[hit] = int(places)
                    assigned |= hit

    cells = _format_cells(values, row_decimals, flags)

    # series: sorted by the codes of each dimension in turn (mixed-radix key of sorted codes)
    series_key = np.zeros(len(frame), dtype=np.int64)
    for dim in dimensions:
        series_key = series_key * len(uniques_by_dim[dim]) + positions[dim]
    row_of, series_keys_sorted = pd.factorize(series_key, sort=True)
    labels_parts = []
    remainder = np.asarray(series_keys_sorted, dtype=np.int64)
    for dim in reversed(dimensions):
        uniques = uniques_by_dim[dim]
        labels_parts.append(np.asarray(uniques, dtype=_TEXT)[remainder % len(uniques)])
        remainder = remainder // len(uniques)
    labels = labels_parts[-1]
    for part in reversed(labels_parts[:-1]):
        labels = _join_strings(_join_strings(labels, ","), part)

    time_position, time_codes = _factorize_sorted(frame["time"])
    time_codes = [str(t) for t in time_codes]
    if periods is None:
        period_labels = sorted(set(time_codes))
    else:
        period_labels = sorted({str(p) for p in periods})
        unknown = sorted(set(time_codes) - set(period_labels))
        if unknown:
            raise ValueError(f"periods {unknown[:5]} occur in the table but not in `periods`")
    period_labels = sorted(period_labels, reverse=(layout == "legacy"))
    column_of = pd.Index(period_labels).get_indexer(time_codes)[time_position]

    cell_key = row_of.astype(np.int64) * len(period_labels) + column_of
    if len(cell_key) and np.bincount(cell_key).max() > 1:
        row = int(np.flatnonzero(pd.Series(cell_key).duplicated().to_numpy())[0])
        raise ValueError(
            "two values for one series and period: "
            + ", ".join(f"{dim}={uniques_by_dim[dim][positions[dim][row]]}" for dim in dimensions)
            + f", time={time_codes[time_position[row]]}; aggregate or drop duplicates before writing"
        )

    grid = np.full((len(labels), len(period_labels)), MISSING_VALUE + " ", dtype=_TEXT)
    grid[row_of, column_of] = cells
    lines_body = labels
    for column in range(len(period_labels)):
        lines_body = _join_strings(_join_strings(lines_body, "\t"), grid[:, column])

    header = ",".join(dimensions) + "\\" + TIME_AXIS_NAME[layout]
    lines = ["\t".join([header, *(label + " " for label in period_labels)])]
    lines.extend(lines_body.tolist())
    return "\n".join(lines) + "\n"


def write_eurostat_tsv(
    frame: pd.DataFrame,
    target: str | os.PathLike[str],
    dimensions: Sequence[str],
    *,
    layout: Layout = "legacy",
    decimals: int = 0,
    decimals_by: Mapping[str, Mapping[str, int]] | None = None,
    periods: Sequence[str] | None = None,
) -> Path:
    """Write ``frame`` as a Eurostat TSV file, atomically; gzip it when ``target`` ends in ``.gz``.

    The gzip stream is deterministic (no name, zero time stamp), so equal tables give
    byte-identical files. See :func:`format_eurostat_tsv` for the parameters.
    """
    text = format_eurostat_tsv(
        frame, dimensions, layout=layout, decimals=decimals, decimals_by=decimals_by,
        periods=periods,
    )
    payload = text.encode("utf-8")
    if str(target).endswith(".gz"):
        payload = gzip_bytes(payload)
    return write_bytes_atomic(target, payload)


def format_value(value: float, decimals: int) -> str:
    """Format one number with ``decimals`` places, never as ``-0`` (Eurostat has no signed zero)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_VALUE
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def _factorize_sorted(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each row in the sorted distinct codes of ``column``, and those codes (str).

    Categorical columns are handled through their categories (no per-row string work).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = np.asarray(column.cat.categories.astype(str), dtype=object)
        row_codes = column.cat.codes.to_numpy()
        if (row_codes < 0).any():
            raise ValueError(f"column {column.name!r} has missing codes (NaN)")
        used = np.unique(row_codes)
        names = categories[used]
        order = np.argsort(names.astype(str), kind="stable")
        rank = np.empty(len(categories), dtype=np.int64)
        rank[used[order]] = np.arange(len(used))
        if len(set(names)) != len(names):
            return _factorize_sorted(column.astype(str))
        return rank[row_codes], names[order]
    position, uniques = pd.factorize(column.astype(str), sort=True)
    return position, np.asarray(uniques, dtype=object)


def _join_strings(left: np.ndarray | str, right: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation (vectorised, numpy ``StringDType``)."""
    return np.strings.add(
        left if isinstance(left, str) else np.asarray(left, dtype=_TEXT),
        right if isinstance(right, str) else np.asarray(right, dtype=_TEXT),
    )


def _format_cells(values: np.ndarray, row_decimals: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Cell strings ``"<value> <flags>"`` with ``":"`` for NaN and never a signed zero.

    Numbers are formatted from integers (``round(value * 10**d)``) so that the text is exact
    and fast: ``-12.5`` with one decimal is ``-125`` -> ``"-12" + "." + "5"``.
    """
    text = np.full(len(values), MISSING_VALUE, dtype=_TEXT)
    present = ~np.isnan(values)
    for places in np.unique(row_decimals):
        places = int(places)
        rows = np.flatnonzero((row_decimals == places) & present)
        if not len(rows):
            continue
        scaled = np.round(values[rows] * 10.0**places)
        if np.abs(scaled).max() >= 2**53:
            text[rows] = [format_value(v, places) for v in values[rows].tolist()]
            continue
        scaled = scaled.astype(np.int64)
        magnitude = np.abs(scaled)
        formatted = (magnitude // 10**places).astype(_TEXT)
        if places:
            fraction = np.strings.zfill((magnitude % 10**places).astype(_TEXT), places)
            formatted = np.strings.add(np.strings.add(formatted, "."), fraction)
        negative = scaled < 0
        formatted[negative] = np.strings.add("-", formatted[negative])
        text[rows] = formatted
    return np.strings.add(np.strings.add(text, " "), flags)
