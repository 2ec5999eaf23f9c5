"""Where a study's raw files come from: the demo economy, archived Eurostat vintages, a folder.

:func:`locate_datasets` maps each registered dataset code to the one file that holds it;
:func:`prepare_source` makes the source ready (writes the demo economy on first use), checks the
reference year against the years the data cover, and returns a description that the run
records. Datasets absent from a source are listed once; stages that need them say what they
skip.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from eocic.config import ConfigError, StudyConfig
from eocic.eurostat.ardeco import is_ardeco_header
from eocic.eurostat.panel import YEAR_COLUMNS as PANEL_YEAR_COLUMNS
from eocic.eurostat.panel import is_panel_header
from eocic.eurostat.errors import (
    UTF8_BOM, EurostatFormatError, check_text_encoding, gzip_errors_named, utf8_problem,
)
from eocic.eurostat.registry import DATASETS, absent_datasets, newest_present
from eocic.provenance import InflatedSizeError, InflationLimit, open_maybe_gzipped

#: File name endings recognised as a dataset file, in order of preference.
DATASET_SUFFIXES = (".tsv.gz", ".tsv", ".csv.gz", ".csv")

_YEAR = re.compile(r"^(\d{4})")


def _code_of(path: Path) -> str | None:
    name = path.name
    for suffix in DATASET_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)].lower()
    return None


def locate_datasets(folder: Path) -> dict[str, Path]:
    """Registered dataset code -> file, found recursively in ``folder``.

    A file counts when its name is ``<code>.tsv``, ``<code>.tsv.gz``, ``<code>.csv`` or
    ``<code>.csv.gz`` for a code in :data:`~eocic.eurostat.registry.DATASETS` (case-insensitive).
    One file per code: two files for one code (``x.tsv`` beside ``x.tsv.gz``, a ``.tsv`` and a
    ``.csv``, or copies in two subfolders) are refused, because they may hold different values
    and choosing one would silently ignore the other.

    Raises
    ------
    ConfigError
        If ``folder`` does not exist, or a code has several files (naming them and the fix).
    """
    if not folder.is_dir():
        raise ConfigError(f"data folder {folder} does not exist")
    candidates: dict[str, list[Path]] = {}
    for path in folder.rglob("*"):
        code = _code_of(path)
        if code in DATASETS and path.is_file():
            candidates.setdefault(code, []).append(path)
    repeated = {code: sorted(paths) for code, paths in candidates.items() if len(paths) > 1}
    if repeated:
        listed = "; ".join(f"{code}: " + " and ".join(str(p) for p in paths)
                           for code, paths in sorted(repeated.items()))
        raise ConfigError(
            f"several files hold one dataset in {folder} ({listed}); they may hold different "
            "values, so none is chosen. Keep one file per dataset code (delete, rename or move "
            "the others out of the data folder)")
    return {code: paths[0] for code, paths in sorted(candidates.items())}


def resolve_successors(files: dict[str, Path]) -> tuple[dict[str, Path], dict[str, str]]:
    """Keep, for each dataset with registered successors, only the newest present.

    A source may hold a dataset and its replacement (``bd_hgnace2_r3`` and ``bd_hgnace_r``,
    :attr:`eocic.eurostat.registry.Dataset.successors`). Reading both would let the older
    one feed an indicator in registry order, or mix vintages; the newest present wins for the
    whole run and the older file is left out.

    Returns
    -------
    (files, superseded)
        The files without the superseded datasets, and ``{old code: code used instead}``
        (recorded by :func:`prepare_source` in ``source.json`` and logged).
    """
    present = frozenset(files)
    superseded = {}
    for code in sorted(present):
        newest = newest_present(code, present)
        if newest != code:
            superseded[code] = newest
    kept = {code: path for code, path in files.items() if code not in superseded}
    return kept, superseded


def locate_archived(raw_root: Path, pins: dict[str, str] | None = None) -> dict[str, Path]:
    """Newest (or pinned) archived vintage of each dataset under ``raw_root/eurostat``."""
    from eocic.eurostat.archive import archived_datasets

    found = archived_datasets(raw_root, pins=pins)
    return {code: Path(path) for code, path in sorted(found.items()) if code in DATASETS}


#: Longest header line read to find a file's periods or columns (1 MiB; a Eurostat header
#: of 60 years of periods takes about 500 bytes).
MAX_HEADER_BYTES = 1 << 20


def header_line(path: Path, limit: InflationLimit | None = None) -> str:
    """The first line of a dataset file (gzip-aware, without a UTF-8 byte-order mark and line
    break), reading at most :data:`MAX_HEADER_BYTES`.

    Raises
    ------
    EurostatFormatError
        Corrupt gzip, UTF-16 text or NUL bytes, invalid UTF-8 (with the byte offset), or no
        line break in the first :data:`MAX_HEADER_BYTES` (not a text table).
    """
    with gzip_errors_named(path), open_maybe_gzipped(path, limit) as handle:
        head = handle.readline(MAX_HEADER_BYTES + 1)
    check_text_encoding(head, path)
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM):]
    if len(head) > MAX_HEADER_BYTES:
        raise EurostatFormatError(path, 1, f"no line break in the first {MAX_HEADER_BYTES:,} bytes",
                                  "a text table whose first line is its header")
    try:
        return head.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise utf8_problem(path, 1, 0, exc) from exc


def periods_in_header(path: Path) -> list[str]:
    """Period labels of a Eurostat TSV from its header line (cheap: reads one line).

    For SDMX-CSV files (one observation per row) the periods are not in the header and an
    empty list is returned.
    """
    fields = [field.strip() for field in header_line(path).split("\t")]
    if len(fields) < 2 or "\\" not in fields[0]:
        return []
    return fields[1:]


def time_column(header: str) -> str | None:
    """Name of the column holding the periods of a dataset file with one row per observation
    or per region and year: ``YEAR`` of an ARDECO export, ``TIME_PERIOD`` of SDMX-CSV (also as
    ``TIME_PERIOD:label``), the year column of a regional panel table
    (:mod:`eocic.eurostat.panel`, comma- or tab-separated); ``None`` for any other header."""
    if is_panel_header(header):
        names = [name.strip() for name in next(csv.reader(
            [header], delimiter="\t" if "\t" in header else ","), [])]
        return next(name for name in names if name.upper() in PANEL_YEAR_COLUMNS)
    if "\t" in header:
        return None
    names = next(csv.reader([header]), [])
    wanted = "YEAR" if is_ardeco_header(header) else "TIME_PERIOD"
    return next((name for name in names if name.split(":", 1)[0].strip().upper() == wanted), None)


def years_covered(path: Path, limit: InflationLimit | None = None) -> list[int]:
    """Years with data in a dataset file (sorted, unique), for every format the readers take.

    A Eurostat TSV lists its periods in the header (one line read). SDMX-CSV and ARDECO
    exports have one observation per row: their ``TIME_PERIOD``/``YEAR`` column is streamed in
    blocks, keeping only the distinct years (memory: one block, about 4 MB). Any other file
    gives ``[]``.

    Raises
    ------
    EurostatFormatError
        The file is not readable text (see :func:`header_line`) or its rows are malformed (the
        full reader then names the line).
    eocic.provenance.InflatedSizeError
        The file inflates past ``limit``.
    """
    header = header_line(path, limit)
    fields = [field.strip() for field in header.split("\t")]
    if len(fields) >= 2 and "\\" in fields[0]:
        labels = fields[1:]
    elif (column := time_column(header)) is not None:
        labels = _streamed_periods(path, header, column, limit)
    else:
        labels = []
    return sorted({int(m.group(1)) for label in labels if (m := _YEAR.match(label.strip()))})


def _streamed_periods(path: Path, header: str, column: str,
                      limit: InflationLimit | None) -> list[str]:
    delimiter = "\t" if "\t" in header else ","  # tab: a panel table such as the I40 database
    names = [name.strip() for name in next(csv.reader([header], delimiter=delimiter), [])]
    labels: set[str] = set()
    try:
        with gzip_errors_named(path), open_maybe_gzipped(path, limit) as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[column], column_types={column: pa.string()},
                    strings_can_be_null=False, null_values=[]))
            for batch in reader:
                labels.update(pc.unique(batch.column(0)).to_pylist())
    except pa.ArrowInvalid as error:
        from eocic.eurostat.reader import read_eurostat

        read_eurostat(path, limit)  # raises the error located at its line
        raise EurostatFormatError(path, None, f"unreadable CSV ({error})",
                                  "comma-separated UTF-8 rows") from error
    return sorted(labels)


#: File in ``data/processed/<run_id>/`` recording the dataset files the runner resolved.
RESOLVED_SOURCE = "source.json"


def dataset_files(source: str, data_dir: str | Path, processed_dir: str | Path) -> dict[str, Path]:
    """The dataset files a run reads: those the runner resolved (``source.json`` in the
    processed folder, which honours pinned vintages), else located afresh (a notebook opened
    on its own in JupyterLab)."""
    resolved = Path(processed_dir) / RESOLVED_SOURCE
    if resolved.exists():
        recorded = json.loads(resolved.read_text())["datasets"]
        return {code: Path(path) for code, path in sorted(recorded.items())}
    if source == "eurostat":
        return resolve_successors(locate_archived(Path(data_dir).parent))[0]
    return resolve_successors(locate_datasets(Path(data_dir)))[0]


#: File in ``data/processed/<run_id>/`` listing what the validation of the inputs found that
#: does not stop a run: a JSON list of ``{"code", "file", "message"}`` (``code``: the dataset
#: code, ``file``: the input file, ``message``: what was found and what it means). Written by
#: :func:`eocic.pipeline.run_pipeline`; the notes also appear on stage 01's page.
VALIDATION_FILE = "validation.json"


class DataValidationWarning(UserWarning):
    """Something in the inputs that a study can run with but its reader must know (a dataset
    without the reference year, a region employing more people than live there); recorded in
    :data:`VALIDATION_FILE`."""


def validation_note(code: str, file: str | Path, message: str) -> dict[str, str]:
    """One entry of :data:`VALIDATION_FILE`."""
    return {"code": code, "file": str(file), "message": message}


def check_years(files: dict[str, Path], year: int, data_dir: Path) -> tuple[list[int], list[dict]]:
    """The SBS years of the source, and notes on the other datasets, for reference ``year``.

    Every file is checked, whatever its format (TSV periods from the header; SDMX-CSV and
    ARDECO by streaming their period column, :func:`years_covered`).

    Returns
    -------
    (years, notes)
        The years of the regional SBS files; one :func:`validation_note` per other dataset that
        has no data for ``year`` (stages using it will lack that year).

    Raises
    ------
    ConfigError
        ``year`` is not a year of the SBS (or an SBS file has no periods at all), or a file is
        unreadable (not UTF-8 text, corrupt gzip, inflating past the limit), naming the file.
    """
    try:
        covered = {code: years_covered(path) for code, path in sorted(files.items())}
    except (EurostatFormatError, InflatedSizeError) as error:
        raise ConfigError(str(error)) from error
    sbs_codes = [code for code in SBS_CODES if code in files]
    for code in sbs_codes:
        if not covered[code]:
            raise ConfigError(
                f"{files[code]}: no periods found in this structural business statistics file "
                "(no data rows, or no period columns); download it again")
    years = sorted({y for code in sbs_codes for y in covered[code]})
    if year not in years:
        raise ConfigError(
            f"year {year} is outside the data: the structural business statistics in "
            f"{data_dir} cover {_spans(years)}. Pass --year between them."
        )
    notes = []
    for code, found in covered.items():
        if code in sbs_codes or year in found:
            continue
        span = f"covers {_spans(found)}" if found else "has no periods"
        notes.append(validation_note(
            code, files[code], f"{code} {span}, not the reference year {year}: the stages that "
            f"use it have no {code} values for {year}"))
    return years, notes


#: Dataset codes of the regional structural business statistics, one of which a study needs.
SBS_CODES = ("sbs_r_nuts06_r2", "sbs_r_nuts2021")


def _spans(years: list[int]) -> str:
    """``[2008, 2009, 2010, 2013]`` -> ``"2008-2010, 2013"``."""
    spans, start = [], None
    for position, year in enumerate(years):
        start = year if start is None else start
        if position + 1 == len(years) or years[position + 1] != year + 1:
            spans.append(str(year) if start == year else f"{start}-{year}")
            start = None
    return ", ".join(spans)


def prepare_source(config: StudyConfig, *, log: Callable[[str], None] = print) -> dict:
    """Make the source ready and check the reference year; return what the run records.

    For ``demo`` the embedded demo economy is written to ``data/raw/demo`` when absent, and
    written again (with a logged message) when the folder's ``truth.json`` records another
    ``demo_format_version`` than :data:`eocic.demo.economy.DEMO_FORMAT_VERSION` (a folder
    written by an older version of the package; none recorded counts as version 1). The
    reference year must lie within the years of the structural business statistics the source
    holds, whatever the file format (:func:`check_years`); datasets without that year are
    listed under ``validation`` (entries of :data:`VALIDATION_FILE`). Of a dataset and its
    registered successors only the newest present is used (:func:`resolve_successors`); the
    description lists the others under ``superseded_datasets`` and the log says which.

    Raises
    ------
    ConfigError
        No SBS dataset in the source, the year outside the years it covers, two files for
        one dataset code, or a file that is not readable text (UTF-16, corrupt gzip, a
        decompression bomb), naming the file.
    """
    if config.source == "demo":
        from eocic.demo import generate_demo_economy
        from eocic.demo.economy import DEMO_FORMAT_VERSION

        marker = config.data_dir / "truth.json"
        recorded = json.loads(marker.read_text()) if marker.exists() else None
        if recorded is None:
            log(f"writing the demo economy (seed {config.seed}) to {config.data_dir}")
            generate_demo_economy(config.data_dir, seed=config.seed)
        elif recorded.get("seed") != config.seed:
            raise ConfigError(
                f"{config.data_dir} holds a demo economy with another seed than {config.seed}; "
                "delete the folder to have it written again"
            )
        elif (version := recorded.get("demo_format_version", 1)) != DEMO_FORMAT_VERSION:
            log(f"{config.data_dir} holds demo files of format version {version}, this eocic "
                f"writes version {DEMO_FORMAT_VERSION}: writing the demo economy (seed "
                f"{config.seed}) again")
            generate_demo_economy(config.data_dir, seed=config.seed)
        files = locate_datasets(config.data_dir)
    elif config.source == "eurostat":
        try:
            files = locate_archived(config.raw_root, dict(config.pins) or None)
        except FileNotFoundError as error:  # a pin naming no archived vintage
            raise ConfigError(str(error)) from error
    else:
        files = locate_datasets(config.data_dir)
    files, superseded = resolve_successors(files)
    missing = absent_datasets(set(files) | set(superseded))
    sbs_codes = [code for code in SBS_CODES if code in files]
    if not sbs_codes:
        raise ConfigError(
            f"no regional structural business statistics in {config.data_dir}: expected a file "
            "named sbs_r_nuts06_r2.tsv(.gz) or sbs_r_nuts2021.tsv(.gz). Point --source at the "
            "folder holding them, or use --source demo."
        )
    years, notes = check_years(files, config.year, config.data_dir)
    if missing:
        log(f"datasets absent from the source ({len(missing)}): {', '.join(missing)}")
    for old, new in superseded.items():
        log(f"{old} and its successor {new} are both in the source: {new} (the newest) is "
            f"used, {old} is left out")
    for note in notes:
        log(f"note: {note['message']}")
    return {
        "kind": config.source_kind,
        "data_dir": str(config.data_dir),
        "datasets": {code: str(path) for code, path in files.items()},
        "missing_datasets": missing,
        "superseded_datasets": superseded,
        "sbs_years": [years[0], years[-1]],
        "validation": notes,
    }
