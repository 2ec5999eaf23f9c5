"""Cluster mapping stage: the ``sbs`` table -> ``cluster_mapping`` (+ linkages, density) tables.

:func:`build_cluster_mapping` allocates the SBS divisions to the categories of each scheme
(:mod:`eocic.clusters.indicators`), computes the indicators, awards stars and classes
(:mod:`eocic.clusters.stars`) and the linkages (:mod:`eocic.clusters.linkages`);
:func:`write_cluster_mapping` writes the three tables atomically.

Output tables under ``data/processed/<run_id>/``
    ``cluster_mapping.parquet``: one row per scheme x region x category x year, columns
    :data:`MAPPING_COLUMNS` (units and formulas in :mod:`eocic.clusters.indicators` and
    :mod:`eocic.clusters.stars`), sorted by scheme (sector, cluster, emerging), geo, category,
    year. ``cluster_linkages.parquet``: one row per scheme x year x category pair
    (:data:`eocic.clusters.linkages.PAIR_COLUMNS`). ``relatedness_density.parquet``: one row per
    scheme x region x category x year (:data:`eocic.clusters.linkages.DENSITY_COLUMNS`).

Allocation weights from national class employment (:func:`eu_class_employment`)
    When the run's processed folder holds ``national_classes.parquet`` (national SBS by NACE
    class, written by stage 01 when the source has ``sbs_na_*_r2`` or ``sbs_ovw_act``),
    :func:`default_weights` splits each division between categories by the EU employment of
    its classes (``basis = class_employment``) instead of equally by class count
    (``basis = class_count``).

    Confidential cells are never counted as zero. A country enters the total of a division only
    in a year in which it publishes every class of the division (a *complete* country); a
    country with one confidential or unpublished class of the division is left out of that
    division's total, whole, so the class shares are not biased towards the published classes.
    For each division the year used is the latest year up to the reference year with at least
    one complete country (if there is none up to it, the earliest later year). A division with
    no complete country in any year keeps the class-count weights. So
    ``E_i = sum over complete countries k of E_ki`` for every class i of the division, and
    ``w_dc = sum_{i in c, i in d} E_i / sum_{i in d} E_i`` (see
    :mod:`eocic.clusters.definitions`). The set of countries behind a division is therefore the
    complete ones, not always the whole EU: a share estimated on the countries that publish.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd

from eocic import tables
from eocic.clusters.definitions import SCHEMES
from eocic.clusters.indicators import (
    allocate,
    category_indicators,
    complete_grid,
    regional_employment,
)
from eocic.clusters.linkages import build_linkages
from eocic.clusters.stars import StarRules, award_stars

#: Columns of the ``cluster_mapping`` table (schema, units and meaning:
#: :data:`eocic.tables.CLUSTER_MAPPING`).
MAPPING_COLUMNS: tuple[str, ...] = tuple(tables.CLUSTER_MAPPING.column_names)

#: Columns of the ``scheme_employment`` table (:func:`scheme_employment`,
#: :data:`eocic.tables.SCHEME_EMPLOYMENT`).
SCHEME_EMPLOYMENT_COLUMNS: tuple[str, ...] = tuple(tables.SCHEME_EMPLOYMENT.column_names)

#: National SBS by NACE class in a run's processed folder (:data:`eocic.tables.NATIONAL_CLASSES`).
NATIONAL_CLASSES_FILE = tables.NATIONAL_CLASSES.file_name

#: Columns of :func:`eu_class_employment`.
CLASS_EMPLOYMENT_COLUMNS: tuple[str, ...] = ("nace_class", "division", "year", "employment",
                                             "countries")

#: The tables stage 02 writes: attribute of :class:`ClusterMapping` -> processed table.
TABLE_NAMES: dict[str, str] = {
    "table": "cluster_mapping",
    "linkages": "cluster_linkages",
    "density": "relatedness_density",
    "scheme_totals": "scheme_employment",
}


@dataclasses.dataclass
class ClusterMapping:
    """Result of :func:`build_cluster_mapping`.

    Attributes
    ----------
    table : DataFrame
        The cluster mapping (:data:`MAPPING_COLUMNS`).
    linkages, density : DataFrame
        Category pairs and relatedness density (:mod:`eocic.clusters.linkages`).
    uncovered : DataFrame
        ``scheme, category, division, weight``: weight rows whose division is not in the SBS
        table (left out of the category, e.g. agriculture or public services).
    unmapped_categories : DataFrame
        ``scheme, category, category_name``: categories none of whose divisions is in the SBS
        table, so they have no row at all (e.g. Forestry, Performing Arts).
    notes : DataFrame
        ``scheme, year, note, rows``: why LQ or growth values are missing, counted.
    scheme_totals : DataFrame
        :data:`SCHEME_EMPLOYMENT_COLUMNS`: per region, scheme and year the employment of the
        scheme's categories and of its clusters with every division counted once
        (:func:`scheme_employment`).
    clones : DataFrame
        ``scheme, category, merged_categories, category_name``: categories merged because they
        are identical at the resolution of the data
        (:func:`eocic.clusters.definitions.merge_clones`).
    grid_rows_added : int
        Region x division x year rows absent from ``sbs`` (treated as missing, not zero).
    rules, growth_years, max_incomplete : the parameters used.
    """

    table: pd.DataFrame
    linkages: pd.DataFrame
    density: pd.DataFrame
    uncovered: pd.DataFrame
    unmapped_categories: pd.DataFrame
    notes: pd.DataFrame
    grid_rows_added: int
    rules: StarRules
    growth_years: int
    max_incomplete: float
    scheme_totals: pd.DataFrame
    clones: pd.DataFrame
    #: Key of the result in the store of shared work (:mod:`eocic.shared_work`) when
    #: :func:`build_cluster_mapping` was given one; :func:`write_cluster_mapping` keeps the
    #: written tables under it.
    store_key: str | None = None

    @property
    def schemes(self) -> list[str]:
        """Schemes present in the table, in :data:`SCHEMES` order."""
        present = set(self.table["scheme"].unique())
        return [s for s in SCHEMES if s in present]


def sector_weights(divisions: list[str] | pd.Series) -> pd.DataFrame:
    """Scheme ``sector`` built from the divisions themselves: each is its own category
    (weight 1, basis ``exact``), named after the NACE Rev. 2 division table."""
    from eocic.classifications.nace import nace_divisions

    names = dict(zip(nace_divisions()["division"], nace_divisions()["name"]))
    codes = sorted(set(divisions))
    return pd.DataFrame({"category": codes, "category_name": [names.get(c, c) for c in codes],
                         "division": codes, "weight": 1.0, "basis": "exact"})


def weights_from_groups(groups: dict[str, tuple[str, ...] | list[str]],
                        names: dict[str, str] | None = None) -> pd.DataFrame:
    """Weights table for disjoint or overlapping sets of whole divisions (weight 1 each),
    e.g. the demo economy's planted groups (``demo_cluster_groups`` of its ``truth.json``)."""
    rows = [{"category": group, "category_name": (names or {}).get(group, group),
             "division": division, "weight": 1.0, "basis": "exact"}
            for group, divisions in groups.items() for division in divisions]
    return pd.DataFrame(rows)


def eu_class_employment(national_classes: pd.DataFrame, year: int) -> pd.DataFrame:
    """EU employment by NACE class, summed over the countries that publish every class of the
    division (rule in the module docstring), for :func:`allocation_weights`.

    Parameters
    ----------
    national_classes : DataFrame
        The ``national_classes`` table (:data:`eocic.tables.NATIONAL_CLASSES`): ``country,
        nace_class, division, year, employment`` (persons employed, NaN when confidential).
    year : int
        Reference year: per division, the latest year up to it with a complete country is used
        (the earliest later one if none).

    Returns
    -------
    DataFrame
        :data:`CLASS_EMPLOYMENT_COLUMNS`: ``nace_class`` (``29.10``), ``division``, ``year``
        (the year used for the division), ``employment`` (persons, sum over the complete
        countries), ``countries`` (how many). Every class of each usable division; divisions
        with no complete country are absent, so their weights stay ``class_count``.
    """
    from eocic.clusters.definitions import nace_classes

    classes_per_division = nace_classes().groupby("division")["nace_class"].size()
    published = national_classes[national_classes["employment"].notna()]
    per_country = published.groupby(["division", "year", "country"], as_index=False).agg(
        published=("nace_class", "nunique"))
    complete = per_country[per_country["published"]
                           == per_country["division"].map(classes_per_division)]
    if complete.empty:
        return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in zip(
            CLASS_EMPLOYMENT_COLUMNS, (object, object, "int64", "float64", "int64"))})
    years = complete[["division", "year"]].drop_duplicates()
    up_to = years[years["year"] <= year].groupby("division")["year"].max()
    later = years[years["year"] > year].groupby("division")["year"].min()
    chosen = up_to.combine_first(later).astype("int64").rename("year").reset_index()
    complete = complete.merge(chosen, on=["division", "year"])
    cells = published.merge(complete[["division", "year", "country"]],
                            on=["division", "year", "country"])
    totals = cells.groupby(["nace_class", "division", "year"], as_index=False).agg(
        employment=("employment", "sum"), countries=("country", "nunique"))
    totals["employment"] = totals["employment"].astype("float64")
    totals["countries"] = totals["countries"].astype("int64")
    return totals.loc[:, list(CLASS_EMPLOYMENT_COLUMNS)].sort_values(
        "nace_class", ignore_index=True)


def _national_classes(national_classes: pd.DataFrame | None,
                      processed_dir: str | os.PathLike[str] | None) -> pd.DataFrame | None:
    if national_classes is None and processed_dir is not None:
        return tables.read_table(processed_dir, tables.NATIONAL_CLASSES, missing_ok=True)
    if national_classes is None:
        return None
    return tables.validate(national_classes, tables.NATIONAL_CLASSES)


def default_weights(schemes: tuple[str, ...] = SCHEMES, *,
                    national_classes: pd.DataFrame | None = None,
                    processed_dir: str | os.PathLike[str] | None = None,
                    year: int | None = None) -> dict[str, pd.DataFrame]:
    """Weights of each scheme from :func:`eocic.clusters.definitions.allocation_weights`.

    Parameters
    ----------
    schemes : tuple of str
    national_classes : DataFrame, optional
        The ``national_classes`` table; default: ``national_classes.parquet`` of
        ``processed_dir`` when it exists. With it, divisions are split by EU class employment
        (:func:`eu_class_employment`, ``basis = class_employment``); without it, or for a
        division with no complete country, by class count (``basis = class_count``).
    processed_dir : path, optional
        The run's processed folder.
    year : int, optional
        Reference year of the class employment; default: the latest year of the table.

    Returns ``{scheme: weights}`` (the category definitions, clones not yet merged).

    Raises
    ------
    eocic.tables.TableValidationError
        When the national class table breaks its schema.
    eocic.clusters.definitions.DefinitionError
        When a shipped definitions table is malformed.
    """
    from eocic.clusters.definitions import allocation_weights

    national = _national_classes(national_classes, processed_dir)
    class_employment = None
    if national is not None and len(national):
        reference = int(year) if year is not None else int(national["year"].max())
        class_employment = eu_class_employment(national, reference)
        if class_employment.empty:
            class_employment = None
    return {scheme: (allocation_weights(scheme, class_employment) if scheme != "sector"
                     else allocation_weights(scheme))
            for scheme in schemes}


def mapped_weights(scheme: str, divisions, *,
                   processed_dir: str | os.PathLike[str] | None = None,
                   year: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The allocation weights of ``scheme`` exactly as the cluster mapping uses them: the
    definitions (:func:`default_weights`, split by EU class employment when the run has national
    class data), restricted to the ``divisions`` the data hold, with clones merged
    (:func:`eocic.clusters.definitions.merge_clones`). For the stages that reuse the mapping's
    categories (regressions, stress test, pilot regions). Returns ``(weights, clones)``."""
    from eocic.clusters.definitions import merge_clones

    weights = default_weights((scheme,), processed_dir=processed_dir, year=year)[scheme]
    return merge_clones(weights, divisions)


def scheme_employment(sbs: pd.DataFrame, weights_by_scheme: dict[str, pd.DataFrame],
                      table: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Employment of each scheme's categories, and of its clusters, with every division counted
    once (:data:`SCHEME_EMPLOYMENT_COLUMNS`).

    Emerging industries overlap (a division's weights may sum to more than 1), so summing
    category employment counts some persons twice. Here division d enters with the coverage
    ``u_d = min(1, sum_c w_dc)``: ``employment_r = sum_d u_d E_rd``; for the clusters of the
    region (``is_cluster``), ``cluster_employment_r = sum_d min(1, sum_{c cluster in r} w_dc)
    E_rd``. For disjoint schemes this is the plain sum. ``regional_employment`` is E_r (the
    business-economy total); ``estimated_share`` the share of ``employment`` from estimated
    cells. Persons.
    """
    cells = sbs[["geo", "nace_r2", "year", "employment"]].copy()
    cells["estimated"] = (sbs["employment_estimated"].to_numpy()
                          if "employment_estimated" in sbs.columns else False)
    frames = []
    for scheme, weights in weights_by_scheme.items():
        parts = cells.merge(weights[["category", "division", "weight"]],
                            left_on="nace_r2", right_on="division")
        clusters = table.loc[(table["scheme"] == scheme) & table["is_cluster"],
                             ["geo", "category", "year"]].assign(starred=True)
        parts = parts.merge(clusters, on=["geo", "category", "year"], how="left")
        parts["starred"] = parts["starred"].fillna(False).astype(bool)
        parts["cluster_weight"] = parts["weight"].where(parts["starred"], 0.0)
        coverage = parts.groupby(["geo", "nace_r2", "year"], sort=True).agg(
            employment=("employment", "first"), estimated=("estimated", "first"),
            weight=("weight", "sum"), cluster_weight=("cluster_weight", "sum"))
        coverage["weight"] = coverage["weight"].clip(upper=1.0)
        coverage["cluster_weight"] = coverage["cluster_weight"].clip(upper=1.0)
        coverage["covered"] = coverage["weight"] * coverage["employment"]
        coverage["covered_estimated"] = coverage["covered"].where(coverage["estimated"], 0.0)
        coverage["clustered"] = coverage["cluster_weight"] * coverage["employment"]
        summed = coverage.groupby(["geo", "year"], sort=True)[
            ["covered", "covered_estimated", "clustered"]].sum(min_count=1).reset_index()
        summed["scheme"] = scheme
        frames.append(summed)
    result = pd.concat(frames, ignore_index=True).rename(
        columns={"covered": "employment", "clustered": "cluster_employment"})
    result = result.merge(totals, on=["geo", "year"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        result["estimated_share"] = np.where(result["employment"] > 0,
                                             result["covered_estimated"] / result["employment"],
                                             np.nan)
    result["_order"] = _scheme_order(result["scheme"])
    return (result.sort_values(["_order", "geo", "year"], kind="mergesort")
            .loc[:, list(SCHEME_EMPLOYMENT_COLUMNS)].reset_index(drop=True))


def _scheme_order(schemes: pd.Series) -> pd.Series:
    order = {s: k for k, s in enumerate(SCHEMES)}
    return schemes.map(order).fillna(len(order)).astype("int64")


def _note_counts(table: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for column in ("note", "growth_note"):
        counted = (table[table[column].notna()].groupby(["scheme", "year", column]).size()
                   .rename("rows").reset_index().rename(columns={column: "note"}))
        counted["measure"] = "lq" if column == "note" else "growth"
        frames.append(counted)
    notes = pd.concat(frames, ignore_index=True)
    return notes.loc[:, ["scheme", "year", "measure", "note", "rows"]].sort_values(
        ["scheme", "year", "measure", "note"]).reset_index(drop=True)


def build_cluster_mapping(sbs: pd.DataFrame,
                          weights_by_scheme: dict[str, pd.DataFrame] | None = None,
                          rules: StarRules = StarRules(), growth_years: int = 5, *,
                          totals: pd.DataFrame, max_incomplete: float = 0.0,
                          related_percentile: float = 90.0,
                          min_regions: int = 10,
                          shared_dir: str | Path | None = None) -> ClusterMapping:
    """Build the cluster mapping tables from the processed ``sbs`` table.

    Parameters
    ----------
    sbs : DataFrame
        Processed SBS (``geo, nace_r2, year, employment, local_units, wages_eur``, and the
        flags ``employment_estimated``, ``apportioned`` when present).
    weights_by_scheme : dict, optional
        ``{scheme: weights table}`` (columns ``category, category_name, division, weight,
        basis``). Default: :func:`default_weights`. Categories identical at the resolution of
        the data are merged first (:func:`eocic.clusters.definitions.merge_clones`).
    rules : StarRules
        Star thresholds.
    growth_years : int
        Window k of the employment CAGR (years).
    totals : DataFrame
        The ``regional_totals`` table (``geo, year, employment``): E_r, the business-economy
        employment of each region, the denominator of every share and LQ.
    max_incomplete : float
        Tolerated missing share of a category's weight mass (see
        :mod:`eocic.clusters.indicators`); 0 publishes complete values only.
    related_percentile, min_regions : linkage parameters (:mod:`eocic.clusters.linkages`).
    shared_dir : path, optional
        Store of work shared by runs (:mod:`eocic.shared_work`): the mapping does not depend
        on the study's reference year (it covers every year of ``sbs``), so the runs of
        ``eocic study --years`` compute it once. Keyed on the content of ``sbs``, ``totals``
        and the weights, the parameters and the eocic code; the result is the same object as
        computed.
    """
    if weights_by_scheme is None:
        weights_by_scheme = default_weights()
    if not weights_by_scheme:
        raise ValueError("no category scheme to map: pass weights_by_scheme={'sector': ...}")
    options = dict(rules=rules, growth_years=growth_years, totals=totals,
                   max_incomplete=max_incomplete, related_percentile=related_percentile,
                   min_regions=min_regions)
    if not shared_dir:
        return _build_cluster_mapping(sbs, weights_by_scheme, **options)
    from eocic import shared_work

    material = {"sbs": shared_work.frame_digest(sbs),
                "totals": shared_work.frame_digest(totals),
                "weights": {scheme: shared_work.frame_digest(weights)
                            for scheme, weights in weights_by_scheme.items()},
                "rules": dataclasses.asdict(rules), "growth_years": growth_years,
                "max_incomplete": max_incomplete, "related_percentile": related_percentile,
                "min_regions": min_regions}
    key = shared_work.shared_key("cluster_mapping", material)
    mapping, _ = shared_work.computed_once(
        shared_dir, key, lambda: _build_cluster_mapping(sbs, weights_by_scheme, **options))
    return dataclasses.replace(mapping, store_key=key)


def _build_cluster_mapping(sbs: pd.DataFrame, weights_by_scheme: dict[str, pd.DataFrame], *,
                           rules: StarRules, growth_years: int, totals: pd.DataFrame,
                           max_incomplete: float, related_percentile: float,
                           min_regions: int) -> ClusterMapping:
    """:func:`build_cluster_mapping` computed (no store)."""
    from eocic.clusters.definitions import merge_clones

    regional = regional_employment(totals)
    _, grid_rows_added = complete_grid(sbs)
    frames, uncovered_frames, unmapped_frames, clone_frames = [], [], [], []
    divisions: dict[str, dict[str, frozenset[str]]] = {}
    merged_weights: dict[str, pd.DataFrame] = {}
    covered_divisions = set(sbs["nace_r2"].unique())
    for scheme, weights in weights_by_scheme.items():
        named = weights.drop_duplicates("category")[["category", "category_name"]]
        uncovered = weights.loc[~weights["division"].astype(str).isin(covered_divisions),
                                ["category", "division", "weight"]].reset_index(drop=True)
        weights, clones = merge_clones(weights, covered_divisions)
        merged_weights[scheme] = weights
        clone_frames.append(clones.assign(scheme=scheme))
        divisions[scheme] = {category: frozenset(part["division"].astype(str))
                             for category, part in weights.groupby("category")}
        allocated, _ = allocate(sbs, weights, max_incomplete=max_incomplete, scheme=scheme)
        mapped = set(allocated["category"].unique())
        merged_away = {code for codes in clones["merged_categories"] for code in codes.split("|")}
        unmapped_frames.append(named[~named["category"].isin(mapped | merged_away)]
                               .assign(scheme=scheme))
        indicators = category_indicators(allocated, regional, growth_years=growth_years)
        indicators["merged_categories"] = indicators["category"].map(
            dict(zip(clones["category"], clones["merged_categories"])))
        frames.append(indicators.assign(scheme=scheme))
        uncovered_frames.append(uncovered.assign(scheme=scheme))
    table = award_stars(pd.concat(frames, ignore_index=True), rules)
    table = (table.assign(_order=_scheme_order(table["scheme"]))
             .sort_values(["_order", "scheme", "geo", "category", "year"], kind="mergesort")
             .loc[:, list(MAPPING_COLUMNS)].reset_index(drop=True))
    table["growth_years"] = table["growth_years"].astype("int64")
    table["performance_class"] = table["performance_class"].astype(object)
    table["merged_categories"] = table["merged_categories"].astype(object)
    table["apportioned"] = table["apportioned"].astype(bool)
    pairs, density = build_linkages(table, related_percentile=related_percentile,
                                    min_regions=min_regions, divisions=divisions)
    for frame in (pairs, density):
        frame["_order"] = _scheme_order(frame["scheme"])
    pairs = (pairs.sort_values(["_order", "year", "category_i", "category_j"], kind="mergesort")
             .drop(columns="_order").reset_index(drop=True))
    density = (density.sort_values(["_order", "geo", "category", "year"], kind="mergesort")
               .drop(columns="_order").reset_index(drop=True))
    uncovered = pd.concat(uncovered_frames, ignore_index=True).loc[
        :, ["scheme", "category", "division", "weight"]]
    unmapped = (pd.concat(unmapped_frames, ignore_index=True)
                .loc[:, ["scheme", "category", "category_name"]].reset_index(drop=True))
    clones = pd.concat(clone_frames, ignore_index=True).loc[
        :, ["scheme", "category", "merged_categories", "category_name"]]
    return ClusterMapping(table=table, linkages=pairs, density=density, uncovered=uncovered,
                          unmapped_categories=unmapped,
                          notes=_note_counts(table), grid_rows_added=grid_rows_added,
                          rules=rules, growth_years=growth_years, max_incomplete=max_incomplete,
                          scheme_totals=scheme_employment(sbs, merged_weights, table, regional),
                          clones=clones)


def write_cluster_mapping(mapping: ClusterMapping, processed_dir: str | os.PathLike[str],
                          shared_dir: str | Path | None = None) -> dict[str, Path]:
    """Write ``cluster_mapping``, ``cluster_linkages``, ``relatedness_density`` and
    ``scheme_employment`` into ``processed_dir`` (:func:`eocic.tables.write_tables`: each
    checked against its schema, none written if one breaks it, atomically); returns
    ``{attribute: path}``.

    With ``shared_dir`` and a mapping built with it (``mapping.store_key``), the tables are
    written once per store entry and copied by later runs
    (:func:`eocic.shared_work.written_once`: the same bytes; the years of ``eocic study
    --years`` share one mapping).

    Raises
    ------
    eocic.tables.TableValidationError
    """
    def write(folder: Path) -> dict[str, Path]:
        return tables.write_tables({name: getattr(mapping, attribute)
                                    for attribute, name in TABLE_NAMES.items()}, folder)

    if shared_dir and mapping.store_key:
        from eocic import shared_work

        paths, _ = shared_work.written_once(
            shared_dir, shared_work.tables_key(mapping.store_key), processed_dir, write)
    else:
        paths = write(Path(processed_dir))
    return {attribute: paths[name] for attribute, name in TABLE_NAMES.items()}


def summary_rows(processed_dir: str | os.PathLike[str],
                 year: int) -> tuple[pd.DataFrame | None, str | None]:
    """The ``cluster_mapping`` rows the run summaries use (key findings, key figures across
    years): those of ``year`` in the ``cluster`` scheme when the table maps it (in any year),
    else in ``sector``; read with a filter, not the whole table (484,000 rows in the demo).
    Returns ``(rows, scheme)``, or ``(None, None)`` when the run has no mapping."""
    rows = tables.read_table(processed_dir, "cluster_mapping", missing_ok=True,
                             filters=[("year", "==", int(year))])
    if rows is None:
        return None, None
    if (rows["scheme"] == "cluster").any() or len(tables.read_table(
            processed_dir, "cluster_mapping", filters=[("scheme", "==", "cluster")])):
        scheme = "cluster"
    else:
        scheme = "sector"
    return rows[rows["scheme"] == scheme].reset_index(drop=True), scheme


def value_coverage(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """How complete the mapping is in ``year``, per scheme: ``categories``, ``regions``,
    ``cells`` (region x category), ``without_employment`` (share of cells with no employment
    value: missing parts left out with ``confidential_cells="exclude"``), ``with_estimates`` (share of
    cells part of whose employment is estimated), ``estimated_employment`` (share of the
    scheme's employment resting on estimates), ``apportioned_regions`` (regions apportioned
    after a NUTS split), ``merged_clones`` (categories that stand for several identical ones).
    """
    current = table[table["year"] == year]
    rows = []
    for scheme, part in current.groupby("scheme", sort=False):
        employment = part["employment"]
        estimated = (part["estimated_share"].fillna(0.0) * employment.fillna(0.0)).sum()
        rows.append({
            "scheme": scheme, "categories": part["category"].nunique(),
            "regions": part["geo"].nunique(), "cells": len(part),
            "without_employment": float(employment.isna().mean()),
            "with_estimates": float((part["estimated_share"] > 0).mean()),
            "estimated_employment": float(estimated / employment.sum()) if employment.sum() > 0
            else np.nan,
            "apportioned_regions": int(part.loc[part["apportioned"], "geo"].nunique()),
            "merged_clones": int(part.loc[part["merged_categories"].notna(),
                                          "category"].nunique())})
    return pd.DataFrame(rows)
