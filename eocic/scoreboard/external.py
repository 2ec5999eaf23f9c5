"""External references: rank correlation of the open composites with published regional indices.

The published indices are read from the shared data folder (never copied into the repository):
``$EOCIC_SHARED_DATA`` or ``../shared/data`` beside the project root.

* **EU Regional Competitiveness Index**, z-scores of the 2010-2019 editions
  (``composite_indices/rci_2010_2019_zscores_nuts2.csv``, NUTS 2016 codes). Editions 2016 and
  2019 are compared by default. RCI merges some capitals with their commuting areas under codes
  such as ``AT00``, which are no NUTS-2 region: they are counted as *not NUTS-2*.
* **Regional Innovation Scoreboard 2023**, Summary Innovation Index of its regions (the
  Regional Innovation Index) for 2016-2023 (``composite_indices/RIS_2023_database_long.xlsx``,
  sheet ``RIS``, indicator ``0 Summary Innovation Index``; NUTS 2021 codes). RIS publishes
  some countries at NUTS-1 (AT, BE, FR, UK, parts of DE, EL, ES, FI, PT) or country level
  (CY, EE, LU, LV, MT): those regions are counted as *not NUTS-2* and are not matched (the open
  index is NUTS-2; averaging its scores up to NUTS-1 would invent a weighting).
* **RIS 2019** Regional Innovation Index (column ``RII`` of
  ``composite_indices/i40_readiness_rankings_nuts2.csv``; documented by its source as RIS 2019,
  182 regions, NUTS 2016 codes; a rough check only).

Region codes. The open indices are in NUTS 2021 (:data:`eocic.nuts.DEFAULT_VERSION`). Each
reference code is mapped from its NUTS version with :func:`eocic.nuts.code_mappings`
(``additive=False``, no apportionment: a composite score cannot be summed or shared out):
unchanged codes are kept, codes of the same territory under a new code are *recoded*, codes
split, merged or whose boundary moved are *lost to code changes*. Every count is in the table;
:attr:`Reference.codes` lists each code's fate and reason.

Matching rule for years (a stated approximation: the reference files carry no data years).
A published index uses data older than its edition. An RCI edition ``E`` is compared with the
open index computed for year ``E - rci_lag`` (default 3: RCI 2016 -> 2013, RCI 2019 -> 2016),
an RIS year ``Y`` (the RIS 2023 database runs 2016-2023; also the RIS 2019 RII) with the open
index of year ``Y - ris_lag`` (default 2). A pair whose open-index year is not computed is kept
as a row with no correlation and a note (never replaced by another year).

The RIS method itself (outliers, square root, min-max over years, relative to the EU,
performance groups) applied to open indicators, and its agreement with the published groups,
is :mod:`eocic.scoreboard.ris_method`, which reads the RIS file through this module.

Statistic: Spearman's rank correlation :func:`eocic.measures.spearman_rho` (average ranks for
ties) over the regions with a value on both sides, with the number of matched regions; NaN
with fewer than three matched regions. On the synthetic demo economy the correlations say
nothing about the method: they are only meaningful on real data.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import pandas as pd

from eocic import nuts
from eocic.errors import EocicError
from eocic.measures import spearman_rho

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RCI_FILE = "composite_indices/rci_2010_2019_zscores_nuts2.csv"
RII_FILE = "composite_indices/i40_readiness_rankings_nuts2.csv"
RIS_FILE = "composite_indices/RIS_2023_database_long.xlsx"
RIS_SHEET = "RIS"
RIS_SUMMARY = "0 Summary Innovation Index"
RCI_NUTS_VERSION = 2016
RII_NUTS_VERSION = 2016
RIS_NUTS_VERSION = 2021
#: RCI editions compared by default (both are in the z-score file).
RCI_EDITIONS = (2016, 2019)
#: RIS 2023 years compared by default (the whole database).
RIS_YEARS = tuple(range(2016, 2024))
#: Years between a published edition and the year of the open index it is compared with.
RCI_LAG = 3
RIS_LAG = 2
#: Columns of :func:`reference_correlations`'s table.
CORRELATION_COLUMNS = ["index_code", "reference", "edition", "reference_year", "index_year",
                       "reference_regions", "not_nuts2", "lost_to_code_changes", "recoded",
                       "scored_regions", "matched", "spearman", "note"]
#: Fewest matched regions for which a correlation is reported.
MIN_MATCHED = 3


class ExternalReferenceError(EocicError, ValueError):
    """A reference file is present but not in the layout this module reads (the message names
    the file, the column or code, and the fix)."""


def shared_data_dir() -> Path:
    """``$EOCIC_SHARED_DATA`` or ``../shared/data`` relative to the project root."""
    return Path(os.environ.get("EOCIC_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def _require(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ExternalReferenceError(
            f"{path.name}: column(s) {', '.join(map(repr, missing))} missing (columns: "
            f"{', '.join(map(str, frame.columns))}); restore the file as described in the "
            "shared data's SOURCES.md")


def _numbers(values: pd.Series, codes: pd.Series, path: Path, column: str) -> pd.Series:
    """``values`` as floats; text that is not a number is an error naming the code."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna() & (values.astype("string").str.strip() != "")
    if bad.any():
        first = bad.idxmax()
        raise ExternalReferenceError(
            f"{path.name}: column {column!r} of region {codes[first]!r} holds "
            f"{str(values[first])[:40]!r}, not a number; fix or blank that cell")
    return numbers.astype(float)


@functools.lru_cache(maxsize=8)
def _read_rci_file(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"NUTS CODE 2016": "string"})
    _require(frame, ["NUTS CODE 2016", "Year", "value"], Path(path))
    return frame


def read_rci(edition: int = 2016, folder: Path | None = None) -> pd.Series | None:
    """RCI z-scores of one edition (2010, 2013, 2016, 2019) by NUTS 2016 code of four
    characters (NUTS-2 regions and RCI's merged capital regions such as ``AT00``); None if the
    file is absent.

    Raises
    ------
    ExternalReferenceError
        A column is missing, a value is not a number, the edition is not in the file, or a
        code occurs twice in the edition.
    """
    path = (folder or shared_data_dir()) / RCI_FILE
    if not path.is_file():
        return None
    stat = path.stat()
    frame = _read_rci_file(str(path), stat.st_mtime_ns, stat.st_size)
    rows = frame[(frame["Year"] == edition) & (frame["NUTS CODE 2016"].str.len() == 4)]
    if rows.empty:
        raise ExternalReferenceError(f"{path.name}: no RCI {edition} rows; editions are "
                                     f"{sorted(int(year) for year in frame['Year'].unique())}")
    twice = rows["NUTS CODE 2016"][rows["NUTS CODE 2016"].duplicated()]
    if len(twice):
        raise ExternalReferenceError(f"{path.name}: region {twice.iloc[0]!r} occurs twice in "
                                     f"RCI {edition}; keep one row per region and edition")
    values = _numbers(rows["value"], rows["NUTS CODE 2016"], path, "value")
    return pd.Series(values.to_numpy(), index=pd.Index(rows["NUTS CODE 2016"], name="geo"),
                     name=f"RCI {edition}")


def read_rii(folder: Path | None = None) -> pd.Series | None:
    """RIS 2019 Regional Innovation Index by NUTS 2016 code (regions with a value); None if
    the file is absent."""
    path = (folder or shared_data_dir()) / RII_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    _require(frame, ["Regio", "RII"], path)
    values = _numbers(frame["RII"], frame["Regio"], path, "RII")
    return pd.Series(values.to_numpy(), index=pd.Index(frame["Regio"], name="geo"),
                     name="RIS 2019 RII").dropna()


@functools.lru_cache(maxsize=4)
def _read_ris_file(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    try:
        # calamine (Rust) reads the same frame as openpyxl, 6x faster (0.6 s against 3.8 s)
        frame = pd.read_excel(path, sheet_name=RIS_SHEET, engine="calamine")
    except ValueError as error:  # pandas: "Worksheet named 'RIS' not found"
        raise ExternalReferenceError(f"{Path(path).name}: {error}; the RIS 2023 database has "
                                     f"one sheet {RIS_SHEET!r}") from error
    _require(frame, ["Indicator", "Year", "Region", "Value"], Path(path))
    summary = frame[frame["Indicator"].astype("string").str.strip() == RIS_SUMMARY]
    if summary.empty:
        raise ExternalReferenceError(f"{Path(path).name}: no rows of indicator {RIS_SUMMARY!r}; "
                                     "is this the RIS 2023 database?")
    region = summary["Region"].astype("string").str.strip()
    year = pd.to_numeric(summary["Year"], errors="coerce")
    if year.isna().any():
        first = year.isna().idxmax()
        raise ExternalReferenceError(f"{Path(path).name}: year {summary['Year'][first]!r} of "
                                     f"region {region[first]!r} is not a year")
    value = _numbers(summary["Value"], region, Path(path), "Value")
    long = pd.DataFrame({"geo": region.to_numpy(), "year": year.astype("int64").to_numpy(),
                         "value": value.to_numpy()})
    twice = long[long.duplicated(["geo", "year"])]
    if len(twice):
        raise ExternalReferenceError(
            f"{Path(path).name}: region {twice['geo'].iloc[0]!r} has two {RIS_SUMMARY!r} "
            f"values in {twice['year'].iloc[0]}; keep one row per region and year")
    return long


def read_ris_2023(folder: Path | None = None) -> pd.DataFrame | None:
    """RIS 2023 Summary Innovation Index of its regions: ``geo`` (NUTS 2021 code as published:
    NUTS-2, NUTS-1 or country; ``EU`` is the EU row), ``year`` (2016-2023), ``value`` (index,
    EU 2016 = 100); None if the file is absent. The workbook is read once per process and
    file version (about 0.6 s).

    Raises
    ------
    ExternalReferenceError
        No sheet ``RIS``, a column missing, no summary-index rows, a year or value that is not
        a number, or a region twice in a year.
    """
    path = (folder or shared_data_dir()) / RIS_FILE
    if not path.is_file():
        return None
    stat = path.stat()
    return _read_ris_file(str(path), stat.st_mtime_ns, stat.st_size).copy()


@dataclasses.dataclass(frozen=True)
class Reference:
    """One published index in one edition or year, recoded to the open indices' NUTS version.

    ``values``: by NUTS-2 code of :data:`eocic.nuts.DEFAULT_VERSION` (kept and recoded codes
    with a value). ``codes``: every published code with a value and its fate: ``code``,
    ``outcome`` (``kept``, ``recoded``, ``not NUTS-2``, ``lost to code change``),
    ``target_code``, ``reason``.
    """

    name: str
    edition: int
    reference_year: int
    index_year: int
    values: pd.Series
    codes: pd.DataFrame


#: Why a four-character RCI code that is no NUTS-2 region (``AT00``, ``UK00`` ...) is left out.
RCI_MERGED_REASON = ("RCI region that merges a capital with its commuting area (no NUTS "
                     "region)")


def recode_reference(values: pd.Series, version: int, *,
                     unknown_reason: str = "") -> tuple[pd.Series, pd.DataFrame]:
    """``values`` (by code of NUTS ``version``) as NUTS :data:`eocic.nuts.DEFAULT_VERSION`
    NUTS-2 codes, and the fate of every code (see :class:`Reference`).

    Only same-territory changes are followed (kept, recoded); a composite score cannot be
    summed over merged regions nor shared out over split ones, so those codes are lost and
    counted. Codes that are no NUTS-2 region (NUTS-1, countries, aggregates, RCI's merged
    capitals) are counted as ``not NUTS-2``; ``unknown_reason`` replaces the generic reason
    for four-character codes that are no NUTS-2 code of any version.
    """
    values = values.dropna()
    codes = [str(code) for code in values.index]
    mappings = nuts.code_mappings(codes, target=nuts.DEFAULT_VERSION, additive=False,
                                  source_version=version, include_uk=True, apportion=False)
    levels = dict(zip(codes, nuts.nuts_level(pd.Series(codes, dtype="string")).tolist()))
    rows = []
    for code in codes:
        mapping = mappings[code]
        if levels[code] != 2 or mapping.action == "unknown":
            outcome = "not NUTS-2"
            reason = (f"NUTS-{levels[code]} region" if levels[code] in (0, 1) else
                      unknown_reason or mapping.reason or "not a NUTS-2 code")
            target = ""
        elif mapping.action in ("kept", "recoded"):
            outcome, target, reason = mapping.action, mapping.target_code, mapping.reason
        else:
            outcome, target, reason = "lost to code change", "", mapping.reason
        rows.append(dict(code=code, outcome=outcome, target_code=target, reason=reason))
    fate = pd.DataFrame(rows, columns=["code", "outcome", "target_code", "reason"])
    usable = fate[fate["outcome"].isin(["kept", "recoded"])]
    recoded = pd.Series(values.loc[usable["code"]].to_numpy(),
                        index=pd.Index(usable["target_code"].to_numpy(), name="geo"),
                        name=values.name)
    return recoded, fate


def _reference(name: str, edition: int, reference_year: int, index_year: int,
               values: pd.Series, version: int, unknown_reason: str = "") -> Reference:
    recoded, fate = recode_reference(values.rename(name), version, unknown_reason=unknown_reason)
    return Reference(name, edition, reference_year, index_year, recoded, fate)


def load_references(folder: Path | None = None, *, rci_editions=RCI_EDITIONS,
                    ris_years=RIS_YEARS, rci_lag: int = RCI_LAG, ris_lag: int = RIS_LAG,
                    include_rii: bool = True) -> tuple[list[Reference], list[str]]:
    """The published indices found in the shared data folder, and a message per absent file
    (file names only: the messages go into shared reports).

    Read and recoded once per process, options and version of the three files (path, size
    and modification time): the study runner checks every year's open indices against them
    (0.2 s a year on 2 cores); each call returns its own copies.

    Raises
    ------
    ExternalReferenceError
        A present file is not in the expected layout, or an RCI edition is not in it.
    """
    folder = (folder or shared_data_dir()).resolve()
    versions = []
    for name in (RCI_FILE, RIS_FILE, RII_FILE):
        path = folder / name
        stat = path.stat() if path.is_file() else None
        versions.append(None if stat is None else (stat.st_mtime_ns, stat.st_size))
    references, messages = _load_references(
        str(folder), tuple(versions), tuple(rci_editions), tuple(ris_years), int(rci_lag),
        int(ris_lag), bool(include_rii))
    return ([dataclasses.replace(reference, values=reference.values.copy(),
                                 codes=reference.codes.copy()) for reference in references],
            list(messages))


@functools.lru_cache(maxsize=4)
def _load_references(folder_name: str, versions: tuple, rci_editions: tuple, ris_years: tuple,
                     rci_lag: int, ris_lag: int, include_rii: bool
                     ) -> tuple[list[Reference], list[str]]:
    """:func:`load_references` for one version of the files (``versions``: the cache key)."""
    folder = Path(folder_name)
    references, messages = [], []

    def absent(what: str, file: str) -> None:
        messages.append(f"{what} file {file} not found in the shared data folder; set "
                        "EOCIC_SHARED_DATA to the folder holding it to check against it")

    for edition in rci_editions:
        rci = read_rci(edition, folder)
        if rci is None:
            absent("RCI", RCI_FILE)
            break
        references.append(_reference("RCI", edition, edition, edition - rci_lag, rci,
                                     RCI_NUTS_VERSION, RCI_MERGED_REASON))
    ris = read_ris_2023(folder) if ris_years else None
    if ris_years and ris is None:
        absent("RIS 2023", RIS_FILE)
    elif ris is not None:
        for year in ris_years:
            rows = ris[(ris["year"] == year) & (ris["geo"] != "EU")]
            if rows.empty:  # a year the database does not reach: no reference, no row
                continue
            values = pd.Series(rows["value"].to_numpy(), index=pd.Index(rows["geo"], name="geo"))
            references.append(_reference("RIS 2023 summary index", 2023, year, year - ris_lag,
                                         values, RIS_NUTS_VERSION))
    if include_rii:
        rii = read_rii(folder)
        if rii is None:
            absent("RIS 2019", RII_FILE)
        else:
            references.append(_reference("RIS 2019 RII", 2019, 2019, 2019 - ris_lag, rii,
                                         RII_NUTS_VERSION))
    return references, messages


def spearman_check(scores: pd.Series, reference: pd.Series) -> dict:
    """Spearman correlation of ``scores`` (by geo) with ``reference`` on matched regions
    (:func:`eocic.measures.spearman_rho`; NaN below :data:`MIN_MATCHED` regions)."""
    joined = pd.concat([scores.rename("score"), reference.rename("reference")],
                       axis=1, join="inner").dropna()
    rho = spearman_rho(joined["score"], joined["reference"]) if len(joined) >= MIN_MATCHED \
        else float("nan")
    return dict(reference=reference.name, matched=len(joined),
                reference_regions=int(reference.notna().sum()),
                scored_regions=int(scores.notna().sum()), spearman=float(rho))


def correlations(index_scores: pd.DataFrame, references: list[Reference]) -> pd.DataFrame:
    """Spearman of each open index with each reference, years matched (module docstring).

    ``index_scores``: long frame ``index_code, geo, year, score`` (the index rows of the
    ``scoreboard`` table, NUTS 2021 codes). One row per index and reference, columns
    :data:`CORRELATION_COLUMNS`: ``reference_regions`` published codes with a value,
    ``not_nuts2`` / ``lost_to_code_changes`` / ``recoded`` their fate, ``scored_regions``
    regions with an open score in ``index_year``, ``matched`` regions in both, ``spearman``.
    """
    missing = [c for c in ("index_code", "geo", "year", "score") if c not in index_scores]
    if missing:
        raise ExternalReferenceError(f"index scores lack column(s) {', '.join(missing)}; pass "
                                     "the index rows of the scoreboard table")
    rows = []
    for index_code, scores in index_scores.groupby("index_code", sort=True):
        years = sorted(int(year) for year in scores["year"].unique())
        for reference in references:
            of_year = scores[scores["year"] == reference.index_year]
            series = pd.Series(of_year["score"].to_numpy(dtype=float),
                               index=of_year["geo"].to_numpy())
            check = spearman_check(series, reference.values)
            outcome = reference.codes["outcome"].value_counts()
            note = ""
            if of_year.empty:
                note = (f"open index not computed for {reference.index_year} (its years: "
                        f"{years[0]}-{years[-1]})")
            elif check["matched"] < MIN_MATCHED:
                note = f"fewer than {MIN_MATCHED} matched regions"
            rows.append(dict(
                index_code=index_code, reference=reference.name, edition=reference.edition,
                reference_year=reference.reference_year, index_year=reference.index_year,
                reference_regions=len(reference.codes), not_nuts2=int(outcome.get("not NUTS-2", 0)),
                lost_to_code_changes=int(outcome.get("lost to code change", 0)),
                recoded=int(outcome.get("recoded", 0)),
                scored_regions=int(series.notna().sum()), matched=check["matched"],
                spearman=check["spearman"], note=note))
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def reference_correlations(index_scores: pd.DataFrame, folder: Path | None = None,
                           **options) -> tuple[pd.DataFrame, list[str]]:
    """:func:`correlations` against every reference :func:`load_references` finds
    (``options`` go to it), and the messages for absent files."""
    references, messages = load_references(folder, **options)
    return correlations(index_scores, references), messages
