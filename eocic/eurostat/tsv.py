"""Reader for the Eurostat TSV format (legacy bulk download and dissemination API).

Format
------
One header row, then one series per row, tab-separated::

    nace_r2,indic_sb,geo\\time<TAB>2015 <TAB>2014 ...        (legacy bulk, years descending)
    freq,unit,geo\\TIME_PERIOD<TAB>2014<TAB>2015 ...          (API, periods ascending)
    B,V11210,AT<TAB>708 <TAB>692 ...

The first field joins the dimension codes with commas. A cell is a value, optional
spaces, then optional flag letters: ``708 ``, ``12.5 bp``, ``: c``, ``:``, ``0n``,
``-3.2 e``. ``:`` means missing. Flags are described in :mod:`eocic.eurostat.flags`.

Output (shared with :mod:`eocic.eurostat.sdmx_csv`)
----------------------------------------------------
A tidy long :class:`pandas.DataFrame`, one row per cell of the file (missing cells
included, as NaN):

* one ``category`` column per dimension, named as in the file in lower case;
* ``time``: ``category`` of period labels in the API form (``2015``, ``2015-S1``,
  ``2015-Q4``, ``2015-02``, ``2015-W01``, ``2015-12-31``);
* ``value``: float64, NaN when missing (units as in the dataset);
* ``flags``: pandas ``str`` dtype, the flag letters as written (``""`` when none).
  Use ``frame["flags"]``: ``frame.flags`` is pandas' own ``DataFrame.flags`` attribute.

Rows are sorted by the dimension codes (in file column order, byte-wise/code-point
order) and then by the period label. The label order is chronological within one
frequency; mixed frequencies sort as strings (``2015`` < ``2015-Q1`` < ``2016``).
Categories are the sorted observed codes, so equal files give equal frames.

Speed: the text is split by the pyarrow CSV reader, every distinct cell string is
parsed once (a file of 1.5 million cells has about 100 thousand distinct ones) and
the result is gathered with integer indices. Errors found in bulk are then located
exactly (line and column) for the message.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from eocic.eurostat.errors import EurostatFormatError, UnknownFlagWarning, read_payload, utf8_problem
from eocic.eurostat.flags import KNOWN_FLAGS
from eocic.provenance import InflationLimit

#: Regular expression of one TSV cell: ``:`` or a decimal number, then flag letters.
#: No exponent: Eurostat TSV never writes one, and ``3e`` means 3, estimated.
CELL_PATTERN = (
    r"^\s*(?:(?P<missing>:)|(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)))"
    r"\s*(?P<flags>[A-Za-z]+(?:\s+[A-Za-z]+)*)?\s*$"
)
#: Regular expression of a plain decimal number (SDMX-CSV ``OBS_VALUE``).
NUMBER_PATTERN = r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$"

TIME_KEYWORDS = ("time", "time_period")
PERIOD_FORMS = (
    "annual 2015, semester 2015-S1 (2015S1), quarter 2015-Q4 (2015Q4), month 2015-02 "
    "(2015M02), week 2015-W01 (2015W01) or day 2015-12-31 (2015M12D31)"
)

_ANNUAL = re.compile(r"^(\d{4})$")
_SEMESTER = re.compile(r"^(\d{4})-?S([12])$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})(?:-|M)(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
_DAY = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2})|M(\d{2})D(\d{2}))$")


def normalise_period(label: str) -> str | None:
    """Period label in the API form, or ``None`` if ``label`` is not a period.

    ``2015`` -> ``2015``; ``2015S1``/``2015-S1`` -> ``2015-S1``; ``2015Q4``/``2015-Q4`` ->
    ``2015-Q4``; ``2015M02``/``2015-02`` -> ``2015-02``; ``2015W01``/``2015-W01`` ->
    ``2015-W01``; ``2015M12D31``/``2015-12-31`` -> ``2015-12-31``. Surrounding spaces are
    ignored; months must be 01-12, weeks 01-53 and days valid calendar dates.
    """
    text = label.strip()
    if match := _ANNUAL.match(text):
        return match.group(1)
    if match := _SEMESTER.match(text):
        return f"{match.group(1)}-S{match.group(2)}"
    if match := _QUARTER.match(text):
        return f"{match.group(1)}-Q{match.group(2)}"
    if (match := _MONTH.match(text)) and 1 <= int(match.group(2)) <= 12:
        return f"{match.group(1)}-{match.group(2)}"
    if (match := _WEEK.match(text)) and 1 <= int(match.group(2)) <= 53:
        return f"{match.group(1)}-W{match.group(2)}"
    if match := _DAY.match(text):
        year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError:
            return None
        return f"{year}-{month}-{day}"
    return None


def read_tsv(path: str | os.PathLike[str], limit: InflationLimit | None = None) -> pd.DataFrame:
    """Read a Eurostat TSV file (plain or gzip, detected by magic bytes) as a tidy table.

    Parameters
    ----------
    path : path of a ``.tsv`` or ``.tsv.gz`` file (legacy bulk or API TSV).
    limit : most bytes the file may hold once decompressed
        (:class:`eocic.provenance.InflationLimit`; default 1 GiB, and 100 times the stored size
        of a gzip file above 64 MiB).

    Returns
    -------
    pandas.DataFrame
        Columns: the dimensions (lower case, category), ``time`` (category), ``value``
        (float64, NaN when missing), ``flags`` (str, ``""`` when none); one row per cell,
        sorted by dimensions then time (see the module docstring).

    Raises
    ------
    EurostatFormatError
        Naming the file and line: header without ``\\time``/``\\TIME_PERIOD``, bad period
        label, a row with the wrong number of fields or dimension codes, a cell that is
        neither a number nor ``:`` (e.g. ``12x5``), a number beyond the float64 range
        (about 1.8e308: it would become infinite), a series key present twice, invalid
        UTF-8 (with the byte offset), UTF-16 text, or a truncated/corrupt gzip stream.
    eocic.provenance.InflatedSizeError
        If the file inflates past ``limit`` (reading stops there).

    Warns
    -----
    UnknownFlagWarning
        Once per file, listing flag letters outside the known code lists with their
        cell counts. The letters are kept in ``flags``.
    """
    return parse_tsv(read_payload(path, limit), source=str(path))


def parse_tsv(payload: bytes, source: str = "<bytes>") -> pd.DataFrame:
    """Parse the decompressed bytes of a Eurostat TSV file; see :func:`read_tsv`.

    ``source`` names the file in error messages. The data rows are handed to the CSV
    splitter as a view of ``payload``, never copied.
    """
    header_end = payload.find(b"\n")
    header_bytes = payload if header_end < 0 else payload[:header_end]
    body_start, body_end = body_bounds(payload, header_end)
    dimensions, periods = _parse_header(header_bytes, source)
    n_fields = 1 + len(periods)

    if body_end > body_start:
        table = _split_body(payload, body_start, body_end, n_fields, source)
        keys = table.column(0).combine_chunks()
        cells = pa.concat_arrays([chunk for column in table.columns[1:] for chunk in column.chunks])
    else:
        keys = pa.array([], pa.string())
        cells = pa.array([], pa.string())
    n_series = len(keys)

    dimension_codes, dimension_categories = _split_keys(keys, dimensions, source)
    series_order = _series_order(dimension_codes, dimensions, keys, source)

    encoded = pc.dictionary_encode(cells)
    cell_index = encoded.indices.to_numpy(zero_copy_only=False)
    values, flag_codes, flag_labels = _parse_distinct_cells(
        encoded.dictionary, cell_index, n_series, periods, source)

    time_order = np.argsort(np.array(periods, dtype=object), kind="stable")
    # cells are column-major: cell (series r, period j) sits at j * n_series + r.
    gather = (time_order[None, :] * n_series + series_order[:, None]).ravel()
    distinct = cell_index[gather]
    return tidy_frame(
        dimensions=dimensions,
        dimension_codes=[np.repeat(codes[series_order], len(periods)) for codes in dimension_codes],
        dimension_categories=dimension_categories,
        time_codes=np.tile(np.arange(len(periods), dtype=np.int32), n_series),
        time_categories=[periods[j] for j in time_order],
        values=values[distinct],
        flag_codes=flag_codes[distinct],
        flag_labels=flag_labels,
    )


def body_bounds(payload: bytes, header_end: int) -> tuple[int, int]:
    """Byte range ``[start, end)`` of the data rows of ``payload`` whose header line ends at
    ``header_end`` (-1: no newline, no rows); trailing line breaks are left out."""
    if header_end < 0:
        return len(payload), len(payload)
    start, end = header_end + 1, len(payload)
    while end > start and payload[end - 1] in b"\r\n":
        end -= 1
    return start, end


def body_reader(payload: bytes, start: int, end: int) -> pa.BufferReader:
    """A zero-copy stream over ``payload[start:end]`` for pyarrow's CSV reader."""
    return pa.BufferReader(pa.py_buffer(payload).slice(start, end - start))


def tidy_frame(dimensions: Sequence[str], dimension_codes: Sequence[np.ndarray],
               dimension_categories: Sequence[Sequence[str]], time_codes: np.ndarray,
               time_categories: Sequence[str], values: np.ndarray, flag_codes: np.ndarray,
               flag_labels: Sequence[str]) -> pd.DataFrame:
    """Assemble the tidy output frame from integer codes (rows already in final order).

    ``*_codes`` index into the matching ``*_categories``/``flag_labels``; categories
    must be sorted so that the categorical order equals the string order.
    """
    columns: dict[str, object] = {}
    for name, codes, categories in zip(dimensions, dimension_codes, dimension_categories):
        columns[name] = _categorical(codes, categories)
    columns["time"] = _categorical(time_codes, time_categories)
    columns["value"] = np.asarray(values, dtype=np.float64)
    flag_text = pa.array(list(flag_labels), pa.string()).take(pa.array(flag_codes, pa.int32()))
    columns["flags"] = pd.array(flag_text, dtype="str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(values)))


def encode_sorted(strings: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``strings`` into their sorted distinct values (code-point order)."""
    encoded = pc.dictionary_encode(strings)
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)] if len(strings) else np.zeros(0, np.int32)
    return codes, encoded.dictionary.take(pa.array(order)).to_pylist()


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    dtype = pd.CategoricalDtype(pd.Index(list(categories), dtype="str"), ordered=False)
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _parse_header(header_bytes: bytes, source: str) -> tuple[list[str], list[str]]:
    """Dimension names (lower case) and normalised period labels of the header row."""
    try:
        header = header_bytes.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise utf8_problem(source, 1, 0, exc) from exc
    fields = header.split("\t")
    first = fields[0].strip()
    dims_text, _, keyword = first.rpartition("\\")
    if not header.strip():
        raise EurostatFormatError(source, 1, "empty header row",
                                  "a header such as 'unit,geo\\time<TAB>2015<TAB>2014'")
    if not dims_text or keyword.strip().lower() not in TIME_KEYWORDS:
        raise EurostatFormatError(
            source, 1, f"first header field {first[:80]!r} does not end in '\\time' or '\\TIME_PERIOD'",
            "a Eurostat TSV header such as 'nace_r2,indic_sb,geo\\time' (legacy bulk) or "
            "'freq,unit,geo\\TIME_PERIOD' (API) followed by tab-separated periods")
    dimensions = [name.strip().lower() for name in dims_text.split(",")]
    if any(not name for name in dimensions) or len(set(dimensions)) != len(dimensions):
        raise EurostatFormatError(source, 1, f"dimension names {dims_text!r} are empty or repeated",
                                  "distinct comma-separated dimension names")
    reserved = {"time", "value", "flags"} & set(dimensions)
    if reserved:
        raise EurostatFormatError(source, 1, f"dimension name(s) {sorted(reserved)} clash with output columns",
                                  "dimensions other than time/value/flags")
    if len(fields) < 2:
        raise EurostatFormatError(source, 1, "no period columns after the dimension field",
                                  "at least one tab-separated period column")
    periods = []
    for column, label in enumerate(fields[1:], start=2):
        period = normalise_period(label)
        if period is None:
            raise EurostatFormatError(source, 1, f"column {column} header {label!r} is not a period",
                                      PERIOD_FORMS)
        periods.append(period)
    repeated = sorted({p for p in periods if periods.count(p) > 1})
    if repeated:
        raise EurostatFormatError(source, 1, f"period(s) {repeated} appear more than once",
                                  "each period column once")
    return dimensions, periods


def _split_body(payload: bytes, start: int, end: int, n_fields: int, source: str) -> pa.Table:
    """Split the data rows ``payload[start:end]`` into ``n_fields`` string columns (pyarrow,
    multithreaded)."""
    names = [f"field{i}" for i in range(n_fields)]
    try:
        return pacsv.read_csv(
            body_reader(payload, start, end),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=False,
                null_values=[], check_utf8=True),
        )
    except pa.ArrowInvalid as exc:
        _raise_row_problem(payload[start:end], start, n_fields, source)
        raise EurostatFormatError(source, None, f"unreadable TSV body ({exc})",
                                  "tab-separated UTF-8 rows") from exc


def _raise_row_problem(body: bytes, body_offset: int, n_fields: int, source: str) -> None:
    """Find the first row with a wrong field count or invalid UTF-8 and raise for it
    (``body_offset``: byte offset of ``body`` in the file, for the message)."""
    offset = body_offset
    for number, line in enumerate(body.split(b"\n"), start=2):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise utf8_problem(source, number, offset, exc) from exc
        offset += len(line) + 1
        found = text.count("\t") + 1
        if found != n_fields:
            raise EurostatFormatError(
                source, number, f"{found} tab-separated field(s) in {text[:60]!r}",
                f"{n_fields} fields as in the header (series key + {n_fields - 1} periods)")


def _split_keys(keys: pa.Array, dimensions: list[str], source: str
                ) -> tuple[list[np.ndarray], list[list[str]]]:
    """Codes and sorted categories of each dimension from the comma-joined key field."""
    parts = pc.split_pattern(keys, ",")
    counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    wrong = np.flatnonzero(counts != len(dimensions))
    if len(wrong):
        row = int(wrong[0])
        raise EurostatFormatError(
            source, row + 2, f"series key {keys[row].as_py()!r} has {counts[row]} code(s)",
            f"{len(dimensions)} comma-separated codes for {','.join(dimensions)}")
    codes, categories = [], []
    for position, name in enumerate(dimensions):
        values = pc.utf8_trim_whitespace(pc.list_element(parts, position)) if len(keys) else pa.array([], pa.string())
        empty = np.flatnonzero(pc.equal(values, "").to_numpy(zero_copy_only=False)) if len(keys) else []
        if len(empty):
            row = int(empty[0])
            raise EurostatFormatError(source, row + 2, f"empty {name} code in series key {keys[row].as_py()!r}",
                                      "a non-empty code for every dimension")
        dimension_codes, dimension_categories = encode_sorted(values)
        codes.append(dimension_codes)
        categories.append(dimension_categories)
    return codes, categories


def _series_order(codes: list[np.ndarray], dimensions: list[str], keys: pa.Array, source: str) -> np.ndarray:
    """Row permutation sorting the series by their codes; raises on a repeated key."""
    n_series = len(keys)
    if n_series == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort(codes[::-1])
    ordered = np.column_stack([c[order] for c in codes])
    repeated = np.flatnonzero((ordered[1:] == ordered[:-1]).all(axis=1))
    if len(repeated):
        first, second = sorted((int(order[repeated[0]]), int(order[repeated[0] + 1])))
        raise EurostatFormatError(
            source, second + 2,
            f"series key {keys[second].as_py()!r} ({','.join(dimensions)}) repeats line {first + 2}",
            "each series key once (remove or merge the duplicate row)")
    return order


def _parse_distinct_cells(distinct: pa.Array, cell_index: np.ndarray, n_series: int,
                          periods: list[str], source: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Value and flag code of every distinct cell string.

    Returns ``values`` (float64 per distinct cell), ``flag_codes`` (int32 per distinct
    cell) and ``flag_labels`` (the distinct flag strings, ``""`` first).
    """
    if len(distinct) == 0:
        return np.zeros(0), np.zeros(0, np.int32), [""]
    valid = pc.match_substring_regex(distinct, CELL_PATTERN).to_numpy(zero_copy_only=False)
    if not valid.all():
        _raise_bad_cell(distinct, np.flatnonzero(~valid), cell_index, n_series, periods, source)
    parts = pc.extract_regex(distinct, CELL_PATTERN)
    number = pc.struct_field(parts, "number")
    is_missing = pc.equal(pc.struct_field(parts, "missing"), ":")
    number = pc.if_else(is_missing, pa.scalar(None, pa.string()), number)
    values = pc.cast(number, pa.float64()).to_numpy(zero_copy_only=False)
    beyond = np.isinf(values)
    if beyond.any():
        _raise_bad_cell(distinct, np.flatnonzero(beyond), cell_index, n_series, periods, source,
                        problem="is beyond the float64 range (about 1.8e308) and would become "
                        "infinite", expected="a finite number: a value this large is a "
                        "corrupt cell (check that line against the source)")
    flag_text = pc.replace_substring_regex(pc.struct_field(parts, "flags"), r"\s+", "")
    flag_codes, flag_labels = encode_sorted(flag_text)
    if flag_labels[0] != "":  # keep "" as code 0 even when every cell is flagged
        flag_labels = ["", *flag_labels]
        flag_codes = flag_codes + 1
    warn_unknown_flags(flag_labels, flag_codes, cell_index, source)
    return values, flag_codes.astype(np.int32), flag_labels


def _raise_bad_cell(distinct: pa.Array, bad: np.ndarray, cell_index: np.ndarray, n_series: int,
                    periods: list[str], source: str, *, problem: str = "is not a value",
                    expected: str = "a number with optional flag letters ('12.5 bp', '708 ') "
                    "or ':' for missing") -> None:
    positions = np.flatnonzero(np.isin(cell_index, bad))
    period_position, row = np.divmod(positions, n_series)
    first = np.lexsort((period_position, row))[0]  # file order: line first, then column
    row, period_position = int(row[first]), int(period_position[first])
    text = distinct[int(cell_index[positions[first]])].as_py()
    shown = text if len(text) <= 60 else f"{text[:25]}...{text[-10:]} ({len(text)} characters)"
    raise EurostatFormatError(
        source, row + 2, f"cell {shown!r} in column {period_position + 2} (period "
        f"{periods[period_position]}) {problem}", expected)


def warn_unknown_flags(flag_labels: list[str], flag_codes: np.ndarray, cell_index: np.ndarray,
                        source: str) -> None:
    """One warning per file listing unknown flag letters and how many cells carry each."""
    suspicious = [code for code, label in enumerate(flag_labels) if set(label) - KNOWN_FLAGS]
    if not suspicious:
        return
    cells_per_flag = np.bincount(flag_codes[cell_index], minlength=len(flag_labels))
    counts: Counter[str] = Counter()
    for code in suspicious:
        for letter in set(flag_labels[code]) - KNOWN_FLAGS:
            counts[letter] += int(cells_per_flag[code])
    listed = ", ".join(f"{letter!r}: {count}" for letter, count in sorted(counts.items()))
    warnings.warn(
        f"{source}: unknown Eurostat flag letter(s) {{{listed}}} (cells per letter); kept in the "
        f"'flags' column. Known letters: {''.join(sorted(KNOWN_FLAGS))}",
        UnknownFlagWarning, stacklevel=4)
