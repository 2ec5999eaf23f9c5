"""Schemas of the processed tables: declared once, checked where a table is written and where it
is read.

Every table a stage writes under ``data/processed/<run_id>/`` (``<name>.parquet``) has one
:class:`TableSchema` below: its columns in order, each with its kind (``str``, ``int``,
``float``, ``bool``), whether it may be missing, its unit and meaning, allowed values or
bounds where useful, and the table's key (unique). The data dictionary
``docs/data_dictionary.md`` is generated from these declarations (:func:`data_dictionary`;
``python -m eocic.tables > docs/data_dictionary.md`` or ``eocic tables``) and
``tests/test_tables.py`` fails when it is out of date.

Writing and reading
-------------------
:func:`write_table` is the one writer of every processed table (stages 01-04 call it from
``eocic``; the stress-test and pilot notebooks 06 and 07 call it too): it validates the frame
against its schema and writes the parquet file atomically (:mod:`eocic.atomic`), so a table
that breaks its schema is never written. :func:`read_table` is the one reader: it checks the
file against the schema again, so a table left by another version of eocic, or edited by hand,
is refused with the name of the file and the stage to re-run, instead of reaching a figure.
:func:`eocic.load_run` reads a whole run with it.

Conventions
-----------
- **Missing is null, never a stand-in value**: NaN in ``float`` columns, ``<NA>`` / None in
  ``str`` and nullable ``int`` columns; never ``""``, ``-1`` or ``inf``. The one exception is
  the Eurostat flag columns (``flags``, ``<measure>_flags``), where ``""`` is a value: the cell
  carries no flag (the empty set of flag letters, known, not missing). Such columns declare
  what ``""`` means (:attr:`Column.empty`); any other ``""`` is an error.
- Shares are fractions in [0, 1]; growth rates are fractions per year (0.02 = 2 % a year);
  columns in percent say so in their unit. Reports multiply fractions by 100 where they print
  "%".
- ``geo`` is a NUTS-2 code of NUTS 2021 (UK regions keep their last NUTS codes); years are
  calendar years.

Errors
------
:class:`TableValidationError` names the table and its file, the column, up to five offending
rows (by key) and the fix; :class:`TableNotFoundError` (a ``FileNotFoundError``) names the file
and the stage that writes it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from eocic.clusters.definitions import SCHEMES
from eocic.clusters.stars import PERFORMANCE_CLASSES
from eocic.errors import EocicError
from eocic.eurostat.registry import DATASETS
from eocic.models.specifications import ESTIMATORS
from eocic.nuts import ACTIONS
from eocic.scoreboard.framework import LEVELS

KINDS = ("str", "int", "float", "bool")


class TableValidationError(EocicError, ValueError):
    """A processed table breaks its schema; the message names table, file, column, rows and
    the fix."""


class TableNotFoundError(EocicError, FileNotFoundError):
    """A processed table is absent from a run folder; the message names the stage to run."""


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a processed table.

    Attributes
    ----------
    name : str
    kind : {"str", "int", "float", "bool"}
    description : str
        Its meaning in one or two sentences (formula or source where useful).
    unit : str
        Unit of the values (``persons``, ``EUR``, ``fraction``, ``code`` ...), empty when none
        applies (flags, free text).
    nullable : bool
        Whether a value may be missing (null).
    non_negative : bool
        Counts and amounts: a negative value is an error of the source.
    pattern : str, optional
        Regular expression every value matches (codes).
    values : tuple of str, optional
        The allowed values (non-missing values must be one of them).
    bounds : (low, high), optional
        Inclusive range of the values (None: unbounded on that side).
    empty : str, optional
        For ``str`` columns where ``""`` is a value and not a missing one: what it means.
    """

    name: str
    kind: str
    description: str
    unit: str = ""
    nullable: bool = False
    non_negative: bool = False
    pattern: str | None = None
    values: tuple[str, ...] | None = None
    bounds: tuple[float | None, float | None] | None = None
    empty: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def dtype(self) -> str:
        """The pandas dtype of an empty column of this kind."""
        if self.kind == "int":
            return "Int64" if self.nullable else "int64"
        return {"str": "str", "float": "float64", "bool": "bool"}[self.kind]


@dataclasses.dataclass(frozen=True)
class TableSchema:
    """A processed table: ``data/processed/<run_id>/<name>.parquet``.

    Attributes
    ----------
    name : str
        File stem of the table.
    stage : str
        Number of the stage writing it (``"01"`` ... ``"07"``).
    writer : str
        The function (or notebook cell) that writes it.
    row : str
        What one row is ("NUTS-2 region x NACE division x year").
    description : str
        What the table holds and is for.
    columns : tuple of Column
        In file order.
    key : tuple of str
        Columns whose values identify a row (unique).
    """

    name: str
    stage: str
    writer: str
    row: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def __post_init__(self) -> None:
        names = self.column_names
        unknown = [k for k in self.key if k not in names]
        if unknown or len(set(names)) != len(names):
            raise ValueError(f"schema {self.name}: key {unknown} not among the columns, or a "
                             "column declared twice")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def file_name(self) -> str:
        return f"{self.name}.parquet"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name!r}; columns: "
                       f"{', '.join(self.column_names)}")


# ------------------------------------------------------------------------ building blocks

_NUTS2 = r"^[A-Z]{2}[A-Z0-9]{2}$"
_DIVISION = r"^[A-S]\d{2}$"
_SECTION = r"^[A-S]$"
_COUNTRY = r"^[A-Z]{2}$"
_UNIT_INTERVAL = (0.0, 1.0)

_NO_FLAG = "no Eurostat flag on the value"
_FLAGS_MEANING = ("Eurostat flag letters (sorted, de-duplicated; c/C confidential, p "
                  "provisional, e estimated, b break, u low reliability, f forecast, ...)")


def _geo(description: str = "NUTS-2 region (NUTS 2021 code; UK regions keep their last "
                            "NUTS code)") -> Column:
    return Column("geo", "str", description, unit="code", pattern=_NUTS2)


def _year(description: str = "Calendar year of the values") -> Column:
    return Column("year", "int", description, unit="year")


def _flags(name: str = "flags", of: str = "the value") -> Column:
    return Column(name, "str", f"{_FLAGS_MEANING} of {of}", empty=_NO_FLAG)


def _apportioned(of: str = "the row's values") -> Column:
    return Column("apportioned", "bool",
                  f"True when {of} belong to a region split by a NUTS revision and are "
                  "apportioned from (rates: copied from) its former region (eocic.nuts)")


def _scheme() -> Column:
    return Column("scheme", "str",
                  "Category scheme: sector (NACE divisions), cluster (the 51 EOCIC traded "
                  "cluster categories, identical ones merged), emerging (the 10 emerging "
                  "industries)", unit="code", values=SCHEMES)


def _indicators(*feeds: str) -> tuple[str, ...]:
    """Indicator codes of the registry's datasets feeding ``feeds`` (eocic.eurostat.registry)."""
    return tuple(sorted({indicator.code for dataset in DATASETS.values() if dataset.feeds in feeds
                         for indicator in dataset.indicators}))


def _measure_columns() -> tuple[Column, ...]:
    units = {"employment": ("persons employed", "persons"),
             "local_units": ("local units", "number"), "wages_eur": ("wages and salaries", "EUR")}
    values = tuple(Column(measure, "float", f"{words.capitalize()}: the published value, or where "
                          "the source has none (confidential or not available) the estimate of "
                          "eocic.confidential (with confidential_cells=exclude: null)",
                          unit=unit, nullable=True, non_negative=True)
                   for measure, (words, unit) in units.items())
    flags = (_flags("flags", "the three values (the union of the columns below)"),
             *(_flags(f"{measure}_flags", f"{measure} as published (a c here says the value is "
                                          "confidential even where another measure is published)")
               for measure in units))
    estimated = tuple(Column(f"{measure}_estimated", "bool",
                             f"True when {measure} is an estimate of a cell the source does not "
                             "publish") for measure in units)
    bounds = []
    for measure, (words, unit) in units.items():
        bounds.append(Column(f"{measure}_lower", "float",
                             f"Lower bound of {measure} implied by the published aggregates "
                             "(the value itself when published)", unit=unit, nullable=True,
                             non_negative=True))
        bounds.append(Column(f"{measure}_upper", "float",
                             f"Upper bound of {measure} implied by the published aggregates "
                             "(the value itself when published; null when no published "
                             "aggregate bounds the cell)", unit=unit, nullable=True,
                             non_negative=True))
    return (*values, *flags, *estimated, *bounds)


# ------------------------------------------------------------------------ stage 01

SBS = TableSchema(
    "sbs", "01", "eocic.pipeline.run_pipeline", "NUTS-2 region x NACE division x year",
    "Regional structural business statistics (sbs_r_nuts06_r2, sbs_r_nuts2021), confidential "
    "and missing cells estimated to add up to the published totals (eocic.confidential), "
    "harmonised to NUTS 2021.",
    (
        _geo(),
        Column("nace_r2", "str", "NACE Rev. 2 division, section letter and two digits (C29)",
               unit="code", pattern=_DIVISION),
        _year(),
        *_measure_columns(),
        _apportioned(),
    ),
    key=("geo", "nace_r2", "year"),
)

REGIONAL_TOTALS = TableSchema(
    "regional_totals", "01", "eocic.pipeline.run_pipeline", "NUTS-2 region x year",
    "Business-economy totals (NACE sections B-N without K, and division S95): the published "
    "section aggregates, and the division cells where a section is not published. E_r, the "
    "denominator of every location quotient and share of regional employment.",
    (
        _geo(),
        _year(),
        Column("employment", "float", "Persons employed in the business economy (E_r)",
               unit="persons", nullable=True, non_negative=True),
        Column("local_units", "float", "Local units in the business economy", unit="number",
               nullable=True, non_negative=True),
        Column("wages_eur", "float", "Wages and salaries in the business economy", unit="EUR",
               nullable=True, non_negative=True),
        *(Column(f"{measure}_estimated_share", "float",
                 f"Part of {measure} resting on estimates of unpublished cells",
                 unit="fraction", nullable=True, bounds=_UNIT_INTERVAL)
          for measure in ("employment", "local_units", "wages_eur")),
        _apportioned(),
    ),
    key=("geo", "year"),
)

DEMOGRAPHY = TableSchema(
    "demography", "01", "eocic.pipeline.run_pipeline",
    "NUTS-2 region x NACE section x year x indicator",
    "Business demography (bd_hgnace2_r3, bd_size_r3): enterprises born, dead, active and "
    "growing fast.",
    (
        _geo(),
        Column("nace_r2", "str", "NACE Rev. 2 section letter", unit="code", pattern=_SECTION),
        _year(),
        Column("indicator", "str", "What is counted: active enterprises, enterprise births, "
               "deaths, high-growth enterprises (employment growth of 10 % a year or more)",
               unit="code", values=_indicators("demography")),
        Column("value", "float", "Number of enterprises (null: not published)",
               unit="enterprises", nullable=True, non_negative=True),
        _flags(),
        _apportioned(),
    ),
    key=("geo", "nace_r2", "year", "indicator"),
)

CONTEXT = TableSchema(
    "context", "01", "eocic.pipeline.run_pipeline", "NUTS-2 region x year x indicator",
    "Regional context indicators (GDP, population, LFS employment, R&D, education, digital "
    "...). population is Eurostat's demo_r_d2jan (1 January) or, when the source lacks it, "
    "JRC ARDECO's average population of the year (projected years flagged f).",
    (
        _geo(),
        _year(),
        Column("indicator", "str", "Indicator code of eocic.eurostat.registry (its unit is "
               "given there)", unit="code", values=_indicators("gdp", "population", "context")),
        Column("value", "float", "Value of the indicator (null: not published)",
               unit="unit of the indicator (registry)", nullable=True),
        _flags(),
        Column("apportioned", "bool", "True when the value belongs to a region split by a "
               "NUTS revision: a level apportioned from, a rate copied from, its former region "
               "(eocic.nuts)"),
    ),
    key=("geo", "year", "indicator"),
)

NATIONAL_CLASSES = TableSchema(
    "national_classes", "01", "eocic.pipeline.run_pipeline", "country x NACE class x year",
    "National SBS by NACE Rev. 2 class (sbs_ovw_act, sbs_na_*_r2; written only when the "
    "source holds one of them): the class employment that splits a division between cluster "
    "categories (eocic.clusters.mapping).",
    (
        Column("country", "str", "Country (NUTS-0 / ISO code: DE, EL, UK; EU and euro-area "
               "aggregates are not kept)", unit="code", pattern=_COUNTRY),
        Column("nace_class", "str", "NACE Rev. 2 class, dotted (29.10)", unit="code",
               pattern=r"^\d{2}\.\d{2}$"),
        Column("division", "str", "NACE Rev. 2 division of the class (C29)", unit="code",
               pattern=_DIVISION),
        _year(),
        Column("employment", "float", "Persons employed (null: not available or confidential)",
               unit="persons", nullable=True, non_negative=True),
        _flags(),
    ),
    key=("country", "nace_class", "year"),
)

COVERAGE = TableSchema(
    "coverage", "01", "eocic.pipeline.run_pipeline (coverage_table)",
    "table x indicator x country", "Data availability in the reference year.",
    (
        Column("table", "str", "Processed table counted", unit="code",
               values=("context", "demography", "sbs")),
        Column("indicator", "str", "Indicator (sbs: employment)", unit="code"),
        Column("country", "str", "Country of the NUTS-2 regions counted", unit="code",
               pattern=_COUNTRY),
        _year("Reference year of the run"),
        Column("cells", "int", "Cells (rows) of the country's NUTS-2 regions", unit="number",
               non_negative=True),
        Column("available", "int", "Cells with a published value (sbs: estimates of "
               "confidential cells do not count)", unit="number", non_negative=True),
        Column("share", "float", "available / cells (null when there are no cells)",
               unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
    ),
    key=("table", "indicator", "country"),
)

NUTS_REPORT = TableSchema(
    "nuts_report", "01", "eocic.pipeline.run_pipeline (harmonise_regions)",
    "table x measure x source code x action x target x reason",
    "What harmonising the tables to NUTS 2021 did to each region code of the source; the rows "
    "sum to the rows read.",
    (
        Column("table", "str", "Processed table", unit="code",
               values=("context", "demography", "regional_totals", "sbs")),
        Column("code", "str", "Region code as the source has it (any NUTS version)",
               unit="code"),
        Column("action", "str", "What happened to the code (eocic.nuts.harmonise)",
               unit="code", values=ACTIONS),
        Column("target_code", "str", "NUTS 2021 code(s) the rows went to ('+'-joined when "
               "several; null when dropped without a target)", unit="code", nullable=True),
        Column("reason", "str", "Why (the NUTS change, apportionment weights); null when the "
               "code is kept as it is", nullable=True),
        Column("rows", "int", "Rows of the table concerned", unit="number", non_negative=True),
        Column("indicator", "str", "Measure harmonised (sbs and regional_totals: employment, "
               "local_units, wages_eur; null for the long tables, harmonised whole)",
               unit="code", nullable=True),
    ),
    key=("table", "indicator", "code", "action", "target_code", "reason"),
)

# ------------------------------------------------------------------------ stage 02

CLUSTER_MAPPING = TableSchema(
    "cluster_mapping", "02", "eocic.clusters.mapping.write_cluster_mapping",
    "scheme x NUTS-2 region x category x year",
    "The cluster mapping: the EOCIC indicators, stars and performance classes (formulas in "
    "eocic.clusters.indicators and eocic.clusters.stars; r = region, c = category, d = "
    "division, EU = all regions of the run).",
    (
        _geo(),
        _scheme(),
        Column("category", "str", "Category code: a division (C29), a cluster category "
               "(CL05), an emerging industry (EI03)", unit="code"),
        Column("category_name", "str", "Name of the category"),
        Column("merged_categories", "str", "'|'-joined codes of the categories identical at "
               "division level that this row stands for (null when not merged)", unit="code",
               nullable=True),
        _year(),
        Column("employment", "float", "E_rc = sum_d w_dc E_rd, persons employed allocated from "
               "the divisions (null when a part is missing beyond the tolerance)",
               unit="persons", nullable=True, non_negative=True),
        Column("local_units", "float", "N_rc, local units allocated from the divisions",
               unit="number", nullable=True, non_negative=True),
        Column("avg_unit_size", "float", "E_rc / N_rc", unit="persons per local unit",
               nullable=True, non_negative=True),
        Column("wages_eur", "float", "W_rc, wages and salaries allocated from the divisions",
               unit="EUR", nullable=True, non_negative=True),
        Column("wage_per_employee", "float", "W_rc / E_rc (the productivity proxy)",
               unit="EUR per person employed", nullable=True, non_negative=True),
        Column("relative_wage", "float", "Wage per employee / the category's EU average "
               "(1 = EU average)", unit="ratio", nullable=True, non_negative=True),
        Column("regional_employment", "float", "E_r, the region's business-economy employment "
               "(regional_totals)", unit="persons", nullable=True, non_negative=True),
        Column("size_share", "float", "E_rc / E_EU,c, the region's share of the category's EU "
               "employment", unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
        Column("lq", "float", "Location quotient (E_rc / E_r) / (E_EU,c / E_EU) (eocic.measures)",
               unit="ratio", nullable=True, non_negative=True),
        Column("focus", "float", "E_rc / E_r, the category's share of the region's employment",
               unit="fraction", nullable=True, non_negative=True),
        Column("growth", "float", "Compound annual growth of E_rc over growth_years years, "
               "(E_rc,t / E_rc,t-k)^(1/k) - 1; reports print 100 x growth as % per year",
               unit="fraction per year", nullable=True, bounds=(-1.0, None)),
        Column("growth_years", "int", "Window k of growth (0 in the first year of the data)",
               unit="years", non_negative=True),
        Column("size_star", "bool", "E_rc >= P90 of the category's regions"),
        Column("specialisation_star", "bool", "LQ >= 2"),
        Column("productivity_star", "bool", "Wage per employee >= P90 of the category's regions"),
        Column("stars", "int", "Number of stars", unit="number", bounds=(0, 3)),
        Column("is_cluster", "bool", "A cluster: the specialisation star"),
        Column("performance_class", "str", "high (size and productivity stars too), medium "
               "(one of them), basic (specialisation only); null when not a cluster",
               unit="code", nullable=True, values=PERFORMANCE_CLASSES),
        Column("basis", "str", "exact (every weight of the category is 1) or allocated",
               unit="code", values=("exact", "allocated")),
        Column("weight_basis", "str", "'|'-joined bases of the allocation weights: exact, "
               "class_count (share of the division's classes), class_employment (share of its "
               "EU class employment)", unit="code"),
        Column("estimated_share", "float", "Part of E_rc allocated from estimated cells",
               unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
        _apportioned("a part of the row"),
        Column("incomplete", "float", "Missing share of the category's employment weight mass "
               "in the region", unit="fraction", bounds=_UNIT_INTERVAL),
        Column("local_units_incomplete", "float", "The same for local units", unit="fraction",
               bounds=_UNIT_INTERVAL),
        Column("wages_incomplete", "float", "The same for wages", unit="fraction",
               bounds=_UNIT_INTERVAL),
        Column("note", "str", "Why lq is missing: missing (no part published), incomplete "
               "(missing share above the tolerance), zero_regional_total, zero_eu_category; "
               "null when lq has a value", unit="code", nullable=True,
               values=("missing", "incomplete", "zero_regional_total", "zero_eu_category")),
        Column("growth_note", "str", "Why growth is missing: first_year, base_missing, "
               "zero_base, missing; null when growth has a value", unit="code", nullable=True,
               values=("first_year", "base_missing", "zero_base", "missing")),
    ),
    key=("scheme", "geo", "category", "year"),
)

CLUSTER_LINKAGES = TableSchema(
    "cluster_linkages", "02", "eocic.clusters.mapping.write_cluster_mapping",
    "scheme x year x pair of categories (i < j)",
    "Linkages between categories: co-location, coagglomeration, proximity "
    "(eocic.clusters.linkages).",
    (
        _scheme(),
        _year(),
        Column("category_i", "str", "First category of the pair", unit="code"),
        Column("category_j", "str", "Second category of the pair", unit="code"),
        Column("n_regions", "int", "Regions where both LQs are published", unit="number",
               non_negative=True),
        Column("colocation_corr", "float", "Spearman correlation of the two LQs across regions "
               "(null with fewer than min_regions regions or a constant LQ)", unit="correlation",
               nullable=True, bounds=(-1.0, 1.0)),
        Column("related", "bool", "colocation_corr above the P90 of the scheme and year's pairs "
               "(never for same_divisions pairs)"),
        Column("same_divisions", "bool", "Both categories come from exactly the same divisions"),
        Column("coagglomeration", "float", "Ellison-Glaeser coagglomeration gamma_ij",
               unit="index", nullable=True),
        Column("proximity", "float", "phi_ij, minimum of the conditional probabilities of "
               "LQ >= 1 in both (Hidalgo et al. 2007)", unit="fraction", nullable=True,
               bounds=_UNIT_INTERVAL),
    ),
    key=("scheme", "year", "category_i", "category_j"),
)

RELATEDNESS_DENSITY = TableSchema(
    "relatedness_density", "02", "eocic.clusters.mapping.write_cluster_mapping",
    "NUTS-2 region x scheme x category x year",
    "Relatedness density and diversification opportunities (eocic.clusters.linkages).",
    (
        _geo(),
        _scheme(),
        Column("category", "str", "Category code", unit="code"),
        _year(),
        Column("lq", "float", "Location quotient (as in cluster_mapping)", unit="ratio",
               nullable=True, non_negative=True),
        Column("presence", "float", "M_rc = 1 if LQ >= 1, else 0 (null when the LQ is missing)",
               unit="0/1", nullable=True, bounds=_UNIT_INTERVAL),
        Column("density", "float", "omega_rc, relatedness density of the region around the "
               "category", unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
        Column("opportunity_rank", "int", "1 = densest category the region does not have "
               "(M_rc = 0); null when present or unknown", unit="rank", nullable=True,
               bounds=(1, None)),
    ),
    key=("scheme", "geo", "category", "year"),
)

SCHEME_EMPLOYMENT = TableSchema(
    "scheme_employment", "02", "eocic.clusters.mapping.write_cluster_mapping",
    "scheme x NUTS-2 region x year",
    "Employment of each scheme's categories and of its clusters with every division counted "
    "once (eocic.clusters.mapping.scheme_employment).",
    (
        _geo(),
        _scheme(),
        _year(),
        Column("employment", "float", "sum_d min(1, sum_c w_dc) E_rd: persons employed in the "
               "scheme's categories", unit="persons", nullable=True, non_negative=True),
        Column("cluster_employment", "float", "The same over the region's clusters",
               unit="persons", nullable=True, non_negative=True),
        Column("regional_employment", "float", "E_r, the region's business-economy employment",
               unit="persons", nullable=True, non_negative=True),
        Column("estimated_share", "float", "Part of employment from estimated cells",
               unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
    ),
    key=("scheme", "geo", "year"),
)

# ------------------------------------------------------------------------ stage 03

SCOREBOARD = TableSchema(
    "scoreboard", "03", "eocic.scoreboard.outputs.write_outputs",
    "index x NUTS-2 region x year x node",
    "Scores and ranks of the composite indices (eocic/scoreboard/framework.yaml) at every node: "
    "index, dimension, subdimension, indicator.",
    (
        Column("index_code", "str", "Composite index the row belongs to (framework code)",
               unit="code"),
        _geo(),
        _year(),
        Column("level", "str", "Level of the node", unit="code", values=LEVELS),
        Column("code", "str", "Code of the node (index, dimension, subdimension or indicator)",
               unit="code"),
        Column("name", "str", "Name of the node"),
        Column("score", "float", "Normalised score (min-max: 0 = lowest region, 100 = highest)",
               unit="score 0-100"),
        Column("rank", "int", "Rank within index, code and year (1 = best; ties share the "
               "lowest)", unit="rank", bounds=(1, None)),
        Column("rank_median", "float", "Median rank over the Monte Carlo draws (reference year, "
               "index and dimension rows; null elsewhere)", unit="rank", nullable=True),
        Column("rank_p05", "float", "5th percentile of the Monte Carlo ranks", unit="rank",
               nullable=True),
        Column("rank_p95", "float", "95th percentile of the Monte Carlo ranks", unit="rank",
               nullable=True),
        Column("imputed_share", "float", "Share of the node's available indicators that are "
               "imputed", unit="fraction", bounds=_UNIT_INTERVAL),
    ),
    key=("index_code", "geo", "year", "code"),
)

PEERS = TableSchema(
    "peers", "03", "eocic.scoreboard.outputs.write_outputs", "NUTS-2 region x peer",
    "Structural peers of every region (eocic.scoreboard.peers).",
    (
        _geo(),
        Column("peer", "str", "Peer region", unit="code", pattern=_NUTS2),
        Column("distance", "float", "Euclidean distance of the z-scored structural variables",
               unit="z-score distance", non_negative=True),
        Column("rank", "int", "1 = nearest", unit="rank", bounds=(1, None)),
        Column("chosen_by", "str", "nearest (computed) or user (the stage's peers parameter)",
               unit="code", values=("nearest", "user")),
    ),
    key=("geo", "peer"),
)

# ------------------------------------------------------------------------ stage 04

REGRESSIONS = TableSchema(
    "regressions", "04", "eocic.models.regressions.run_regressions",
    "regression table x model x regressor",
    "Every coefficient of every estimated model of the specification registry "
    "(eocic/models/specifications.yaml). Variable names are the columns of the estimation "
    "samples (eocic.models.variables; in words: VARIABLE_LABELS).",
    (
        Column("spec", "str", "Regression table (registry key: A, A_ppml, B, C ...)",
               unit="code"),
        Column("model", "str", "Model (column of the table)"),
        Column("term", "str", "Regressor actually used (a proxy when proxy_for is set)",
               unit="code"),
        Column("label", "str", "Label of the regressor in words"),
        Column("coef", "float", "Estimate (annualised for PPML specifications that say so)",
               unit="per unit of the regressor"),
        Column("se", "float", "Standard error (cluster-robust where covariance says so)",
               non_negative=True),
        Column("tstat", "float", "t statistic"),
        Column("pvalue", "float", "Two-sided p-value", unit="probability",
               bounds=_UNIT_INTERVAL),
        Column("ci_low", "float", "Lower end of the 95 % confidence interval"),
        Column("ci_high", "float", "Upper end of the 95 % confidence interval"),
        Column("nobs", "int", "Observations", unit="number", non_negative=True),
        Column("n_groups", "int", "Clusters of the covariance (null when not clustered)",
               unit="number", nullable=True, non_negative=True),
        Column("rsquared", "float", "R-squared (PPML: squared correlation of y and fitted)",
               unit="fraction", nullable=True),
        Column("dependent", "str", "Dependent variable actually used", unit="code"),
        Column("dependent_proxy_for", "str", "The dependent variable of the specification that "
               "dependent stands in for, because the source lacks it; null when dependent is "
               "the specified variable", unit="code", nullable=True),
        Column("proxy_for", "str", "The regressor of the specification that term stands in "
               "for, because the source lacks it; null when term is the specified regressor",
               unit="code", nullable=True),
        Column("estimator", "str", "ols or ppml (Poisson pseudo-maximum likelihood)",
               unit="code", values=ESTIMATORS),
        Column("covariance", "str", "Covariance estimator, in words"),
        Column("expected_sign", "str", "Sign the literature reports (+ or -); null when none is "
               "published", unit="code", nullable=True, values=("+", "-")),
        Column("t0", "int", "First year of the growth window", unit="year"),
        Column("T", "int", "Last year of the growth window", unit="year"),
    ),
    key=("spec", "model", "term"),
)

# ------------------------------------------------------------------------ stage 06

STRESS_TEST = TableSchema(
    "stress_test", "06", "notebook 06_stress_test (eocic.stress.exposure.stress_test)",
    "scenario x NUTS-2 region",
    "Exposure of every region to every shock scenario in the reference year "
    "(eocic.stress.exposure).",
    (
        _geo(),
        Column("scenario", "str", "Scenario name (eocic/stress/scenarios)", unit="code"),
        _year("Reference year"),
        Column("employment", "float", "E_r, the region's business-economy employment",
               unit="persons", nullable=True, non_negative=True),
        Column("expected_change", "float", "sum_d s_d E_rd over the cells with a value",
               unit="persons", nullable=True),
        Column("expected_change_pct", "float", "100 x expected_change / employment",
               unit="% of employment", nullable=True),
        Column("estimated_share", "float", "Share of |expected_change| from estimated cells",
               unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
        _apportioned("the region's values"),
        Column("unknown_share", "float", "Share of employment in shocked cells without a value",
               unit="fraction", nullable=True, non_negative=True),
        Column("unknown_cells", "int", "Shocked cells without a value", unit="number",
               non_negative=True),
        Column("hhi", "float", "Herfindahl-Hirschman index of the employment shares of the "
               "region's divisions or cluster categories", unit="index 0-1", nullable=True,
               bounds=_UNIT_INTERVAL),
        Column("effective_number", "float", "1 / hhi, equally sized activities",
               unit="number", nullable=True, non_negative=True),
        Column("hhi_basis", "str", "What hhi is computed over: division or cluster",
               unit="code", values=("division", "cluster")),
        Column("density_cushion", "float", "Mean relatedness density over the categories the "
               "region has (LQ >= 1)", unit="fraction", nullable=True, bounds=_UNIT_INTERVAL),
        Column("cushion_basis", "str", "Where the density comes from"),
        Column("top_contributor", "str", "Largest contribution: unit code, name and persons "
               "(null when no shocked cell has a value)", nullable=True),
        Column("rank", "int", "1 = largest expected loss in % of employment; null without "
               "employment", unit="rank", nullable=True, bounds=(1, None)),
    ),
    key=("scenario", "geo"),
)

# ------------------------------------------------------------------------ stage 07

PILOT_DID = TableSchema(
    "pilot_did", "07", "notebook 07_pilot_regions (eocic.pilots.did.did_table)",
    "outcome x effect",
    "Difference-in-differences of the pilot regions in industrial transition against their "
    "controls around the event year (eocic.pilots.did); written only when the data have a "
    "post-period.",
    (
        Column("effect", "str", "level (average post-period effect), trend (change of the "
               "annual growth rate), trend + region trends", unit="code",
               values=("level", "trend", "level + region trends", "trend + region trends")),
        Column("coef", "float", "Estimate", unit="log points (trend: per year)"),
        Column("se", "float", "Standard error clustered by pilot / region", unit="log points",
               non_negative=True),
        Column("ci_low", "float", "Lower end of the 95 % interval (t, G - 1 df)",
               unit="log points"),
        Column("ci_high", "float", "Upper end of the 95 % interval", unit="log points"),
        Column("p_value", "float", "Two-sided p-value (CRV1, t with G - 1 df)",
               unit="probability", bounds=_UNIT_INTERVAL),
        Column("p_wild", "float", "Two-sided p-value of the restricted wild cluster bootstrap "
               "(eocic.pilots.inference)", unit="probability", bounds=_UNIT_INTERVAL),
        Column("ci_low_wild", "float", "Lower end of the 95 % wild-bootstrap interval (test "
               "inversion; null when the data do not bound it)", unit="log points",
               nullable=True),
        Column("ci_high_wild", "float", "Upper end of the 95 % wild-bootstrap interval",
               unit="log points", nullable=True),
        Column("p_ri", "float", "Randomisation-inference p-value, (1 + #|tau_perm| >= |tau|) / "
               "(1 + draws)", unit="probability", bounds=_UNIT_INTERVAL),
        Column("ci_low_ri", "float", "Lower end of the 95 % randomisation interval (constant "
               "effect; null when not bounded)", unit="log points", nullable=True),
        Column("ci_high_ri", "float", "Upper end of the 95 % randomisation interval",
               unit="log points", nullable=True),
        Column("n_obs", "int", "Region-years", unit="number", non_negative=True),
        Column("n_regions", "int", "Regions", unit="number", non_negative=True),
        Column("n_treated", "int", "Treated (pilot) regions", unit="number", non_negative=True),
        Column("n_clusters", "int", "Clusters of the covariance", unit="number",
               non_negative=True),
        Column("n_treated_clusters", "int", "Clusters with treated regions (pilots)",
               unit="number", non_negative=True),
        Column("first_year", "int", "First year of the sample", unit="year"),
        Column("last_year", "int", "Last year of the sample", unit="year"),
        Column("event_year", "int", "Year the pilot action started", unit="year"),
        Column("wild_weights", "str", "Wild-bootstrap weights (webb when clusters are few)",
               unit="code", values=("webb", "rademacher")),
        Column("wild_draws", "int", "Wild-bootstrap draws", unit="number", non_negative=True),
        Column("ri_draws", "int", "Randomisation-inference draws", unit="number",
               non_negative=True),
        Column("outcome", "str", "Outcome, in logs (eocic.pilots.did.OUTCOMES)", unit="code"),
    ),
    key=("outcome", "effect"),
)

PILOT_EVENT_STUDY = TableSchema(
    "pilot_event_study", "07", "notebook 07_pilot_regions (eocic.pilots.did.event_study)",
    "outcome x event time",
    "Event-study leads and lags of the pilot regions (eocic.pilots.did.event_study); the "
    "reference period has coefficient 0 and no interval.",
    (
        Column("event_time", "int", "Year minus event year", unit="years"),
        _year(),
        Column("coef", "float", "Estimate relative to the reference period", unit="log points"),
        Column("se", "float", "Standard error (null in the reference period)",
               unit="log points", nullable=True, non_negative=True),
        Column("ci_low", "float", "Lower end of the 95 % interval", unit="log points",
               nullable=True),
        Column("ci_high", "float", "Upper end of the 95 % interval", unit="log points",
               nullable=True),
        Column("p_value", "float", "Two-sided p-value (CRV1, t with G - 1 df; null in the "
               "reference period)", unit="probability", nullable=True, bounds=_UNIT_INTERVAL),
        Column("p_wild", "float", "Two-sided p-value of the restricted wild cluster bootstrap",
               unit="probability", nullable=True, bounds=_UNIT_INTERVAL),
        Column("ci_low_wild", "float", "Lower end of the 95 % wild-bootstrap interval (test "
               "inversion)", unit="log points", nullable=True),
        Column("ci_high_wild", "float", "Upper end of the 95 % wild-bootstrap interval",
               unit="log points", nullable=True),
        Column("outcome", "str", "Outcome, in logs (eocic.pilots.did.OUTCOMES)", unit="code"),
    ),
    key=("outcome", "event_time"),
)

# ------------------------------------------------------------------------ many years

KEY_FIGURES = TableSchema(
    "key_figures", "study", "eocic.timeline.write_key_figures (eocic study --years)",
    "reference year x key figure",
    "The development of the study's key figures over the reference years of one `eocic study "
    "--years` run, each read from that year's own run (eocic.timeline); written to "
    "data/processed/<run_id>/ of the run across years.",
    (
        Column("year", "int", "Reference year of the run the figure comes from", unit="year"),
        Column("run_id", "str", "Run of that year (data/processed/<run_id>/)", unit="code"),
        Column("figure", "str", "Key figure (eocic.timeline.FIGURES)", unit="code"),
        Column("label", "str", "The key figure in words, with its unit"),
        Column("value", "float", "Its value (null when the run has no table to compute it)",
               nullable=True),
        Column("text", "str", "A value in words where the figure is not a number (the leading "
               "region); null otherwise", nullable=True),
        Column("ci_low", "float", "Lower end of the 95 % confidence interval (regression "
               "coefficients; null for the other figures)", nullable=True),
        Column("ci_high", "float", "Upper end of the 95 % confidence interval", nullable=True),
    ),
    key=("year", "figure"),
)

SCHEMAS: dict[str, TableSchema] = {schema.name: schema for schema in (
    SBS, REGIONAL_TOTALS, DEMOGRAPHY, CONTEXT, NATIONAL_CLASSES, COVERAGE, NUTS_REPORT,
    CLUSTER_MAPPING, CLUSTER_LINKAGES, RELATEDNESS_DENSITY, SCHEME_EMPLOYMENT,
    SCOREBOARD, PEERS, REGRESSIONS, STRESS_TEST, PILOT_DID, PILOT_EVENT_STUDY, KEY_FIGURES)}
"""Every processed table, in stage order."""

STAGE_NAMES = {"01": "data pipeline", "02": "cluster mapping", "03": "scoreboard",
               "04": "regressions", "06": "stress test", "07": "pilot regions",
               "study": "the study across years, eocic study --years"}


# ------------------------------------------------------------------------ checks

def schema_of(table: str | TableSchema) -> TableSchema:
    """The schema of ``table`` (a name of :data:`SCHEMAS` or a schema)."""
    if isinstance(table, TableSchema):
        return table
    if table not in SCHEMAS:
        raise KeyError(f"no processed table {table!r}; tables: {', '.join(SCHEMAS)}")
    return SCHEMAS[table]


def _examples(frame: pd.DataFrame, mask: pd.Series | np.ndarray, columns: list[str]) -> str:
    rows = frame.loc[np.asarray(mask, dtype=bool), list(dict.fromkeys(columns))].head(5)
    return "; ".join(
        ", ".join(f"{col}={row[col]!r}" for col in dict.fromkeys(columns))
        for _, row in rows.iterrows()
    )


def _is_str(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string", "empty")


def validate(frame: pd.DataFrame, schema: TableSchema | str, *, where: str | None = None,
             fix: str = "") -> pd.DataFrame:
    """Check ``frame`` against ``schema``; return it unchanged when valid.

    Checks: exact columns and order; kinds (str / integer / float / bool); no missing value
    where not nullable; no ``""`` where ``""`` is not a declared value (missing is null); no
    infinite floats; non-negative counts; allowed values; bounds; code patterns; unique key.

    Parameters
    ----------
    where : str, optional
        The file the frame is written to or read from, named in the message.
    fix : str
        What to do about a violation, appended to the message.

    Raises
    ------
    TableValidationError
    """
    schema = schema_of(schema)
    label = f"table {schema.name}" + (f" ({where})" if where else "")
    tail = f" {fix}" if fix else ""

    def fail(message: str) -> None:
        raise TableValidationError(f"{label}: {message}.{tail}")

    if list(frame.columns) != schema.column_names:
        present, wanted = list(frame.columns), schema.column_names
        missing = [c for c in wanted if c not in present]
        extra = [c for c in present if c not in wanted]
        detail = (f"missing {missing}" if missing else "") + (
            f"{'; ' if missing else ''}unexpected {extra}" if extra else "")
        fail(f"columns {present} differ from the schema {wanted} ("
             + (detail or "same columns, other order") + ")")
    key = list(schema.key)
    for column in schema.columns:
        values = frame[column.name]
        if column.kind == "int" and not pd.api.types.is_integer_dtype(values):
            fail(f"column {column.name} must be integer, not {values.dtype}"
                 + (" (a nullable integer is Int64)" if column.nullable else ""))
        if column.kind == "float" and not pd.api.types.is_float_dtype(values):
            fail(f"column {column.name} must be float, not {values.dtype}")
        if column.kind == "bool" and not pd.api.types.is_bool_dtype(values):
            fail(f"column {column.name} must be boolean, not {values.dtype}")
        if column.kind == "str" and not _is_str(values):
            fail(f"column {column.name} must hold text, not {values.dtype} ("
                 f"{pd.api.types.infer_dtype(values, skipna=True)})")
        missing = values.isna().to_numpy()
        if not column.nullable and missing.any():
            fail(f"{int(missing.sum())} missing value(s) in {column.name}, e.g. "
                 f"{_examples(frame, missing, key)}")
        if column.kind == "str" and column.empty is None:
            empty = (values == "").fillna(False).to_numpy(dtype=bool)
            if empty.any():
                fail(f'{int(empty.sum())} empty string(s) "" in {column.name}, e.g. '
                     f"{_examples(frame, empty, key)}; a missing value is null, never \"\"")
        if column.kind == "float":
            infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                fail(f"{int(infinite.sum())} infinite value(s) in {column.name}, e.g. "
                     f"{_examples(frame, infinite, key + [column.name])}; an undefined value "
                     "is null")
        if column.non_negative:
            negative = (values < 0).fillna(False).to_numpy(dtype=bool)
            if negative.any():
                fail(f"{int(negative.sum())} negative value(s) in {column.name}, e.g. "
                     f"{_examples(frame, negative, key + [column.name])}. Negative counts or "
                     "amounts are not possible; check the source file")
        if column.bounds is not None:
            low, high = column.bounds
            outside = pd.Series(False, index=frame.index)
            if low is not None:
                outside |= (values < low).fillna(False)
            if high is not None:
                outside |= (values > high).fillna(False)
            if outside.any():
                fail(f"{int(outside.sum())} value(s) of {column.name} outside [{low}, {high}], "
                     f"e.g. {_examples(frame, outside, key + [column.name])}")
        if column.values is not None or column.pattern is not None:
            distinct = pd.Series(values.dropna().unique(), dtype=object).astype(str)
            if column.values is not None:
                wrong = set(distinct[~distinct.isin(column.values)])
                rule = f"one of {list(column.values)}"
            else:
                wrong = set(distinct[~distinct.str.match(column.pattern)])
                rule = f"matching {column.pattern}"
            if wrong and column.empty is not None:
                wrong.discard("")
            if wrong:
                bad = values.isin(wrong).to_numpy(dtype=bool)
                fail(f"{int(bad.sum())} value(s) of {column.name} not {rule}: "
                     f"{sorted(wrong)[:5]}, e.g. {_examples(frame, bad, key + [column.name])}")
    duplicated = frame.duplicated(key, keep=False).to_numpy()
    if duplicated.any():
        fail(f"{int(duplicated.sum())} rows share a key {key}, e.g. "
             f"{_examples(frame, duplicated, key)}")
    return frame


def empty_frame(table: str | TableSchema) -> pd.DataFrame:
    """A table with no rows and the schema's columns and dtypes."""
    schema = schema_of(table)
    return pd.DataFrame({column.name: pd.Series(dtype=column.dtype)
                         for column in schema.columns})


# ------------------------------------------------------------------------ writing, reading

def table_path(folder: str | os.PathLike[str], table: str | TableSchema) -> Path:
    """``<folder>/<name>.parquet``."""
    return Path(folder) / schema_of(table).file_name


def _stage_hint(schema: TableSchema, folder: Path) -> str:
    stage = f"stage {schema.stage} ({STAGE_NAMES.get(schema.stage, schema.writer)})"
    return (f"Re-run {stage}: eocic study --stage {schema.stage} --run-id {folder.name} (the "
            "stages before it must have run)")


def write_tables(frames: dict[str, pd.DataFrame],
                 folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Validate every frame of ``{table name: frame}`` against its schema, then write each to
    ``<folder>/<name>.parquet`` atomically (pyarrow, no index, snappy compression: equal
    frames give byte-identical files). The one writer of the processed tables; a stage
    writing several tables writes none of them if one breaks its schema.

    Returns ``{table name: path}``.

    Raises
    ------
    TableValidationError
        Before anything is written; the message names the file, column and rows.
    """
    from eocic.atomic import write_parquet_atomic

    folder = Path(folder)
    for name, frame in frames.items():
        schema = schema_of(name)
        validate(frame, schema, where=str(table_path(folder, schema)),
                 fix=f"The writer ({schema.writer}) must produce the schema of eocic.tables."
                     f"{schema.name.upper()}; no table was written.")
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write_parquet_atomic(frame, table_path(folder, name))
            for name, frame in frames.items()}


def write_table(frame: pd.DataFrame, table: str | TableSchema,
                folder: str | os.PathLike[str]) -> Path:
    """Validate ``frame`` against the schema of ``table`` and write ``<folder>/<name>.parquet``
    atomically (:func:`write_tables`); returns the path. For a notebook::

        tables.write_table(frame, "stress_test", processed_dir)

    Raises
    ------
    TableValidationError
        Before anything is written; the message names the file, column and rows.
    """
    name = schema_of(table).name
    return write_tables({name: frame}, folder)[name]


def read_table(folder: str | os.PathLike[str], table: str | TableSchema, *,
               missing_ok: bool = False,
               filters: list[tuple[str, str, object]] | None = None) -> pd.DataFrame | None:
    """Read ``<folder>/<name>.parquet`` and check it against its schema.

    Parameters
    ----------
    folder : path
        A run folder, ``data/processed/<run_id>``.
    table : str or TableSchema
    missing_ok : bool
        Return None when the file is absent instead of raising.
    filters : list of (column, op, value), optional
        Rows to read, as pyarrow filters (e.g. ``[("scheme", "==", "cluster")]``), selected
        while reading: a large table is neither loaded nor checked in full. The rows read are
        checked like the whole table (a subset of a valid table is valid).

    Raises
    ------
    TableNotFoundError
        The file is absent (naming the stage that writes it).
    TableValidationError
        The file breaks its schema (written by another version of eocic, or edited): the
        message names file, column and rows, and the stage to re-run.
    """
    schema = schema_of(table)
    folder = Path(folder)
    path = table_path(folder, schema)
    if not path.is_file():
        if missing_ok:
            return None
        raise TableNotFoundError(
            f"processed table {schema.name} not found at {path}; it is written by stage "
            f"{schema.stage} ({STAGE_NAMES.get(schema.stage, schema.writer)}): run it, e.g. "
            f"eocic study --stage {schema.stage} --run-id {folder.name} (the stages before it "
            "must have run)")
    if filters:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(path).names)
        if not all(column in present for column, _, _ in filters):
            filters = None  # a file without a filtered column: the check below names it
    frame = pd.read_parquet(path, filters=filters)
    return validate(frame, schema, where=str(path),
                    fix=f"The file was written by another version of eocic or edited by hand. "
                        f"{_stage_hint(schema, folder)}.")


# ------------------------------------------------------------------------ data dictionary

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _meaning(column: Column) -> str:
    parts = [column.description.rstrip(".") + "."]
    if column.values is not None:
        parts.append("One of " + ", ".join(f"`{v}`" for v in column.values) + ".")
    if column.bounds is not None:
        low, high = column.bounds
        parts.append(f"In [{'-inf' if low is None else f'{low:g}'}, "
                     f"{'inf' if high is None else f'{high:g}'}].")
    if column.pattern is not None:
        parts.append(f"Matches `{column.pattern}`.")
    if column.empty is not None:
        parts.append(f'`""`: {column.empty}.')
    return _cell(" ".join(parts))


def data_dictionary() -> str:
    """The data dictionary of every processed table, as Markdown (``docs/data_dictionary.md``)."""
    lines = [
        "# Data dictionary of the processed tables",
        "",
        "<!-- Generated from eocic/tables.py by `python -m eocic.tables > "
        "docs/data_dictionary.md`; do not edit by hand (tests/test_tables.py checks it). -->",
        "",
        "Each run writes its tables to `data/processed/<run_id>/<table>.parquet` (with "
        "`manifest.json`: inputs, their SHA-256 and the parameters; `source.json`: the dataset "
        "files the run read). Read a run with `eocic.load_run(run_id)`. Conventions: a missing "
        "value is null (NaN, `<NA>`, None), never `\"\"` or a stand-in such as -1 (the Eurostat "
        "flag columns are the one place where `\"\"` is a value: no flag); shares are fractions "
        "in [0, 1] and growth rates fractions per year (reports multiply by 100 to print %); "
        "`geo` is a NUTS-2 code of NUTS 2021.",
        "",
        "| table | stage | one row per | key |",
        "|---|---|---|---|",
    ]
    for schema in SCHEMAS.values():
        lines.append(f"| [{schema.name}](#{schema.name}) | {schema.stage} | "
                     f"{_cell(schema.row)} | {', '.join(f'`{k}`' for k in schema.key)} |")
    for schema in SCHEMAS.values():
        lines += [
            "",
            f"## {schema.name}",
            "",
            f"One row per {schema.row}. {schema.description}",
            "",
            f"File `{schema.file_name}`, written by stage {schema.stage} "
            f"({STAGE_NAMES.get(schema.stage, '')}: `{schema.writer}`); key "
            + ", ".join(f"`{k}`" for k in schema.key) + ".",
            "",
            "| column | type | unit | missing | meaning |",
            "|---|---|---|---|---|",
        ]
        for column in schema.columns:
            lines.append(f"| `{column.name}` | {column.kind} | {_cell(column.unit) or '–'} | "
                         f"{'null allowed' if column.nullable else 'never'} | "
                         f"{_meaning(column)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m eocic.tables``: print the data dictionary (Markdown) to stdout."""
    args = sys.argv[1:] if argv is None else argv
    if args and args != ["--markdown"]:
        print("usage: python -m eocic.tables [--markdown] > docs/data_dictionary.md",
              file=sys.stderr)
        return 2
    sys.stdout.write(data_dictionary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
