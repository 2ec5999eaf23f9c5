"""One entry point for dataset files: Eurostat TSV (bulk or API) or SDMX-CSV, the JRC
ARDECO CSV export, and regional panel tables (one row per region and year), plain or gzip.

:func:`read_eurostat` looks at the content first (gzip magic bytes, then the header
row) and uses the file suffix only to break a tie, so a mis-named download is still
read correctly. All formats give the same tidy schema; see
:mod:`eocic.eurostat.tsv` for the column contract and :mod:`eocic.eurostat.ardeco` for
how ARDECO's columns map onto it, :mod:`eocic.eurostat.panel` for panel tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from eocic.eurostat.ardeco import ArdecoProjectionWarning, is_ardeco_header, parse_ardeco
from eocic.eurostat.errors import EurostatFormatError, UnknownFlagWarning, read_payload
from eocic.eurostat.panel import is_panel_header, parse_panel
from eocic.eurostat.sdmx_csv import parse_sdmx_csv
from eocic.eurostat.tsv import parse_tsv
from eocic.provenance import InflatedSizeError, InflationLimit

__all__ = ["ArdecoProjectionWarning", "EurostatFormatError", "InflatedSizeError",
           "InflationLimit", "UnknownFlagWarning", "detect_format", "read_eurostat"]

TSV = "tsv"
SDMX_CSV = "sdmx-csv"
ARDECO = "ardeco"
PANEL = "panel"


def detect_format(payload: bytes, name: str = "") -> str:
    """``"tsv"``, ``"ardeco"``, ``"sdmx-csv"`` or ``"panel"`` for decompressed ``payload``, or
    raise ``ValueError``.

    A header whose first tab-separated field ends in ``\\time``/``\\TIME_PERIOD`` is TSV;
    a comma-separated header naming ``NUTSCODE`` is an ARDECO export; a comma-separated
    header naming ``TIME_PERIOD`` and ``OBS_VALUE`` is SDMX-CSV; a header naming a region
    column (``geo``, ``NUTS2``, ...) and a year column (``year``, ``time``) is a regional panel
    table (:func:`eocic.eurostat.panel.is_panel_header`). Otherwise the suffix of ``name``
    decides (``.tsv[.gz]`` TSV, ``.csv[.gz]`` SDMX-CSV).
    """
    header_end = payload.find(b"\n")
    header = (payload if header_end < 0 else payload[:header_end]).decode("utf-8", errors="replace")
    first_field = header.split("\t", 1)[0].strip().lower()
    if first_field.endswith(("\\time", "\\time_period")):
        return TSV
    if is_ardeco_header(header):
        return ARDECO
    upper = header.upper()
    if "\t" not in header and "TIME_PERIOD" in upper and "OBS_VALUE" in upper:
        return SDMX_CSV
    if is_panel_header(header):
        return PANEL
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    if suffixes[-1:] == [".tsv"]:
        return TSV
    if suffixes[-1:] == [".csv"]:
        return SDMX_CSV
    raise ValueError(name)


def read_eurostat(path: str | os.PathLike[str], limit: InflationLimit | None = None) -> pd.DataFrame:
    """Read a Eurostat TSV or SDMX-CSV file, or an ARDECO export (plain or gzip), into the
    tidy schema.

    Returns the frame of :func:`eocic.eurostat.tsv.read_tsv` /
    :func:`eocic.eurostat.sdmx_csv.read_sdmx_csv` / :func:`eocic.eurostat.ardeco.read_ardeco`
    (with ARDECO's default projection cut-offs): dimension columns (category), ``time``,
    ``value`` (float64), ``flags`` (str).

    ``limit`` caps the bytes the file may inflate to (:class:`eocic.provenance.InflationLimit`;
    default 1 GiB, and 100 times the stored size of a gzip file above 64 MiB).

    Raises
    ------
    EurostatFormatError
        If the format cannot be recognised (neither header nor suffix tells), or the
        file is malformed (see the three readers), or it is not UTF-8 text.
    eocic.provenance.InflatedSizeError
        If the file inflates past ``limit``: reading stops there (a decompression bomb).

    Warns
    -----
    UnknownFlagWarning, ArdecoProjectionWarning
        See the readers.
    """
    payload = read_payload(path, limit)
    try:
        kind = detect_format(payload, str(path))
    except ValueError:
        raise EurostatFormatError(
            path, 1, "header is neither a Eurostat TSV header (…\\time or …\\TIME_PERIOD), an "
            "SDMX-CSV header (TIME_PERIOD, OBS_VALUE) nor an ARDECO header (NUTSCODE), and the "
            "suffix is not .tsv/.csv[.gz]",
            "a Eurostat TSV or SDMX-CSV file, or an ARDECO CSV export") from None
    if kind == TSV:
        return parse_tsv(payload, source=str(path))
    if kind == ARDECO:
        return parse_ardeco(payload, source=str(path))
    if kind == PANEL:
        return parse_panel(payload, source=str(path))
    return parse_sdmx_csv(payload, source=str(path))
