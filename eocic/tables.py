"""Schemas of the processed tables, and their validation.

Every table the pipeline writes under ``data/processed/<run_id>/`` has a :class:`TableSchema`:
its columns with their kinds, its key (unique), and value checks. :func:`validate` raises a
:class:`TableValidationError` naming the table, the column and up to five offending rows, so a
wrong input is caught where it enters and never reaches a published figure.

Tables
------
``sbs`` (regional structural business statistics), one row per NUTS-2 region x NACE Rev.2
division x year:
    ``geo`` (str, NUTS-2 code), ``nace_r2`` (str, division such as ``C29``), ``year`` (int),
    ``employment`` (float, persons employed), ``local_units`` (float, number), ``wages_eur``
    (float, wages and salaries in EUR): the published value, or where the source has none
    (confidential or not available) the estimate of :mod:`eocic.confidential` (with
    ``confidential_cells="exclude"``: NaN);
    ``flags`` (str, Eurostat flag letters of the three values, sorted and de-duplicated),
    ``employment_flags``, ``local_units_flags``, ``wages_eur_flags`` (str, the flags of each
    value as published: a ``c`` in ``wages_eur_flags`` says the wages are confidential even
    where employment is published);
    ``employment_estimated``, ``local_units_estimated``, ``wages_eur_estimated`` (bool, the
    value is an estimate);
    ``employment_lower``, ``employment_upper`` ... ``wages_eur_upper`` (float, bounds of an
    estimate implied by the published aggregates; equal to the value when published; upper
    NaN when no published aggregate bounds the cell);
    ``apportioned`` (bool, the row's region was split by a NUTS revision and its values are
    apportioned from the source region, see :mod:`eocic.nuts`).
``regional_totals`` (business-economy totals: NACE sections B-N without K, and division S95),
one row per NUTS-2 region x year:
    ``geo``, ``year``, ``employment`` (float, persons), ``local_units`` (float),
    ``wages_eur`` (float, EUR): the sum of the region's published section totals, and of its
    division cells where a section is not published; ``employment_estimated_share``,
    ``local_units_estimated_share``, ``wages_eur_estimated_share`` (float in [0, 1], the part
    resting on estimates); ``apportioned`` (bool). The denominator ``E_r`` of every location
    quotient and share of regional employment.
``demography`` (business demography), one row per region x NACE section x year x indicator:
    ``geo``, ``nace_r2`` (section letter), ``year``, ``indicator`` (``births``, ``deaths``,
    ``active_enterprises``, ``high_growth_enterprises``), ``value`` (float, enterprises),
    ``flags``, ``apportioned`` (bool, see ``sbs``).
``context`` (regional context indicators: GDP, population, R&D, education, ...), one row per
region x year x indicator: ``geo``, ``year``, ``indicator``, ``value`` (float, unit in
``eocic.eurostat.registry``), ``flags``. ``population`` (persons) comes from Eurostat's
``demo_r_d2jan`` (1 January) or, when the source lacks it, from JRC ARDECO's
``ardeco_nuts2_population`` (average population of the year; ARDECO's projected years
carry flag ``f``); ``apportioned`` (bool: the value of a region split by a NUTS revision,
apportioned from, or for rates copied from, its source region; see :mod:`eocic.nuts`).
``national_classes`` (national SBS by NACE Rev.2 class, written only when the source holds one
of the datasets feeding it), one row per country x class x year:
    ``country`` (str, NUTS-0 / ISO code such as ``DE``, ``EL``, ``UK``; EU and euro-area
    aggregates are not kept), ``nace_class`` (str, dotted class such as ``29.10``), ``division``
    (str, ``C29``), ``year`` (int), ``employment`` (float, persons employed, NaN if not
    available or confidential), ``flags`` (str).
"""

from __future__ import annotations

import dataclasses

import pandas as pd


class TableValidationError(ValueError):
    """A processed table breaks its schema; the message names table, column and rows."""


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str" | "int" | "float" | "bool"
    nullable: bool = False
    non_negative: bool = False
    pattern: str | None = None


@dataclasses.dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


_NUTS2 = r"^[A-Z]{2}[A-Z0-9]{2}$"
_DIVISION = r"^[A-S]\d{2}$"
_SECTION = r"^[A-S]$"

SBS = TableSchema(
    "sbs",
    (
        Column("geo", "str", pattern=_NUTS2),
        Column("nace_r2", "str", pattern=_DIVISION),
        Column("year", "int"),
        Column("employment", "float", nullable=True, non_negative=True),
        Column("local_units", "float", nullable=True, non_negative=True),
        Column("wages_eur", "float", nullable=True, non_negative=True),
        Column("flags", "str"),
        Column("employment_flags", "str"),
        Column("local_units_flags", "str"),
        Column("wages_eur_flags", "str"),
        Column("employment_estimated", "bool"),
        Column("local_units_estimated", "bool"),
        Column("wages_eur_estimated", "bool"),
        Column("employment_lower", "float", nullable=True, non_negative=True),
        Column("employment_upper", "float", nullable=True, non_negative=True),
        Column("local_units_lower", "float", nullable=True, non_negative=True),
        Column("local_units_upper", "float", nullable=True, non_negative=True),
        Column("wages_eur_lower", "float", nullable=True, non_negative=True),
        Column("wages_eur_upper", "float", nullable=True, non_negative=True),
        Column("apportioned", "bool"),
    ),
    key=("geo", "nace_r2", "year"),
)

REGIONAL_TOTALS = TableSchema(
    "regional_totals",
    (
        Column("geo", "str", pattern=_NUTS2),
        Column("year", "int"),
        Column("employment", "float", nullable=True, non_negative=True),
        Column("local_units", "float", nullable=True, non_negative=True),
        Column("wages_eur", "float", nullable=True, non_negative=True),
        Column("employment_estimated_share", "float", nullable=True, non_negative=True),
        Column("local_units_estimated_share", "float", nullable=True, non_negative=True),
        Column("wages_eur_estimated_share", "float", nullable=True, non_negative=True),
        Column("apportioned", "bool"),
    ),
    key=("geo", "year"),
)

DEMOGRAPHY = TableSchema(
    "demography",
    (
        Column("geo", "str", pattern=_NUTS2),
        Column("nace_r2", "str", pattern=_SECTION),
        Column("year", "int"),
        Column("indicator", "str"),
        Column("value", "float", nullable=True, non_negative=True),
        Column("flags", "str"),
        Column("apportioned", "bool"),
    ),
    key=("geo", "nace_r2", "year", "indicator"),
)

CONTEXT = TableSchema(
    "context",
    (
        Column("geo", "str", pattern=_NUTS2),
        Column("year", "int"),
        Column("indicator", "str"),
        Column("value", "float", nullable=True),
        Column("flags", "str"),
        Column("apportioned", "bool"),
    ),
    key=("geo", "year", "indicator"),
)

NATIONAL_CLASSES = TableSchema(
    "national_classes",
    (
        Column("country", "str", pattern=r"^[A-Z]{2}$"),
        Column("nace_class", "str", pattern=r"^\d{2}\.\d{2}$"),
        Column("division", "str", pattern=_DIVISION),
        Column("year", "int"),
        Column("employment", "float", nullable=True, non_negative=True),
        Column("flags", "str"),
    ),
    key=("country", "nace_class", "year"),
)

SCHEMAS = {schema.name: schema for schema in (SBS, REGIONAL_TOTALS, DEMOGRAPHY, CONTEXT,
                                               NATIONAL_CLASSES)}


def _examples(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> str:
    rows = frame.loc[mask, columns].head(5)
    return "; ".join(
        ", ".join(f"{col}={row[col]!r}" for col in columns) for _, row in rows.iterrows()
    )


def validate(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Check ``frame`` against ``schema``; return it unchanged when valid.

    Checks: exact column set and order; kinds (str / integer / float); no missing values where
    not nullable; non-negative where required; code patterns; unique key.

    Raises
    ------
    TableValidationError
    """
    if list(frame.columns) != schema.column_names:
        raise TableValidationError(
            f"table {schema.name}: columns {list(frame.columns)} differ from the schema "
            f"{schema.column_names}"
        )
    key = list(schema.key)
    for column in schema.columns:
        values = frame[column.name]
        if column.kind == "int" and not pd.api.types.is_integer_dtype(values):
            raise TableValidationError(f"table {schema.name}: column {column.name} must be integer")
        if column.kind == "float" and not pd.api.types.is_float_dtype(values):
            raise TableValidationError(f"table {schema.name}: column {column.name} must be float")
        if column.kind == "bool" and not pd.api.types.is_bool_dtype(values):
            raise TableValidationError(f"table {schema.name}: column {column.name} must be "
                                       f"boolean, not {values.dtype}")
        missing = values.isna()
        if not column.nullable and missing.any():
            raise TableValidationError(
                f"table {schema.name}: {int(missing.sum())} missing value(s) in {column.name}, "
                f"e.g. {_examples(frame, missing, key)}"
            )
        if column.non_negative:
            negative = values < 0
            if negative.any():
                raise TableValidationError(
                    f"table {schema.name}: {int(negative.sum())} negative value(s) in "
                    f"{column.name}, e.g. {_examples(frame, negative, key + [column.name])}. "
                    "Negative counts or amounts are not possible; check the source file."
                )
        if column.pattern is not None:
            wrong = ~values.astype(str).str.match(column.pattern)
            if wrong.any():
                raise TableValidationError(
                    f"table {schema.name}: {int(wrong.sum())} value(s) of {column.name} do not "
                    f"match {column.pattern}, e.g. {_examples(frame, wrong, [column.name])}"
                )
    duplicated = frame.duplicated(key, keep=False)
    if duplicated.any():
        raise TableValidationError(
            f"table {schema.name}: {int(duplicated.sum())} rows share a key {key}, e.g. "
            f"{_examples(frame, duplicated, key)}"
        )
    return frame
