r"""Estimation samples for the cluster regressions, built from the processed tables.

Three units of analysis (the ``unit`` of a specification):

``region_division`` (table A), one row per NUTS-2 region ``r`` x NACE division ``i``:
    ``geo``, ``country``, ``nace_r2``, ``section``, ``category`` (the division's cluster,
    ``""`` if none), ``employment_t0``, ``employment_T``, ``wages_t0``, ``wages_T`` (EUR),
    ``local_units_t0``, ``local_units_T``, ``window`` (T - t0, years), ``status``
    (``continuing`` | ``entry`` | ``exit`` | ``absent`` | ``missing``), ``estimated_t0``,
    ``estimated_T`` (bool: the cell's employment is an estimate of a confidential value,
    :mod:`eocic.confidential`), ``own_estimated`` (1 if either), ``apportioned`` (bool: the
    region was split by a NUTS revision), ``cluster_members_estimated`` (other divisions of the
    own cluster estimated at t0), ``cluster_members_missing`` (other divisions of the own
    cluster without any value at t0: they count as 0 in the cluster LQ), and

    - ``employment_growth`` = ln(E_T / E_t0) / (T - t0), annual log growth (where both > 0);
      ``wage_growth`` the same for the average wage W / E (EUR per person employed);
      ``local_units_growth`` the same for local units (:func:`eocic.measures.log_growth`);
    - ``ln_employment_t0`` = ln E_t0;
    - ``ln_lq_t0`` = ln LQ_ri at t0, the location quotient of :func:`eocic.measures.
      location_quotients` with E_r the published business-economy total: the same number as
      the ``sector`` scheme of the cluster mapping (stage 02) for every cell;
    - ``ln_lq_cluster_t0`` = ln max(floor, [(G_rc - w_ic E_ri) / E_r] / [(G_c - w_ic E_i) / E])
      with ``c`` the division's cluster, ``G_rc = sum_j w_jc E_rj`` the region's cluster
      employment (weights of the grouping), ``G_c = sum_r G_rc``, ``E_i = sum_r E_ri`` and
      ``E = sum_r E_r``: the strength of the surrounding cluster *excluding the own division*
      (Delgado, Porter & Stern 2014). 0 for a division outside every cluster or alone in its
      cluster (the sector fixed effect absorbs that level);
    - ``ln_lq_related_t0`` = ln max(floor, LQ of the pooled employment of the clusters related
      to ``c``): related = the co-location linkages of :mod:`eocic.clusters.linkages`
      (Spearman correlation of the clusters' LQs across regions above the P90 of all pairs,
      never zero-filled; categories from the same divisions never related; a cluster never
      related to itself), through :func:`eocic.measures.related_categories`, less every
      related cluster allocated from a division of ``c`` (:func:`related_term_clusters`: the
      own division, and any other division of the own cluster, never sits inside the term).
      0 where ``c`` has no related cluster left or the division no cluster (absorbed by the
      sector fixed effect). ``related_members_missing`` counts the divisions of the term's
      clusters without any value at t0 in the region (they would count as 0; table A leaves
      such cells out);
    - ``ln_lq_neighbours_t0`` = ln max(floor, LQ of ``c``'s pooled employment in the
      neighbouring regions), :func:`neighbour_cluster_lq` (Delgado, Porter & Stern 2014: the
      same cluster in adjacent regions); neighbours = queen contiguity of the GISCO NUTS-2
      polygons (:func:`eocic.nuts.neighbours`, a cached list). NaN for a region without a
      neighbour in the data (islands, outermost regions: left out of the models that use the
      term, in every cell, so that the region leaves those models whole), 0 for a division
      outside every cluster elsewhere. ``neighbour_regions`` = number of
      neighbours in the data; ``neighbour_members_missing`` = (neighbour, division of ``c``)
      cells without any value at t0. Built when :func:`build_samples` gets a neighbour list
      (the default).

``region_section`` (table B), one row per region x NACE section ``s``:
    ``births_t0``, ``births_T``, ``active_t0``, ``active_T``, ``high_growth_T`` (enterprises,
    business demography; T is capped at the last demography year), ``births_growth`` (annual
    log growth), ``ln_births_t0``, ``ln_birth_rate_t0`` = ln(births / active) at t0,
    ``ln_high_growth_share_T`` = ln(high-growth / active enterprises) at T, and from SBS:
    ``employment_t0``, ``local_units_t0``, ``local_units_T``, ``local_units_growth``,
    ``ln_local_units_t0``, ``ln_lq_section_t0`` (employment LQ of the section, t0, E_r the
    published business-economy total), ``strong_share_t0`` (share of the section's employment
    in division cells with LQ >= 2).

``region`` (table C), one row per region:
    ``ln_gdp_per_head_t0``, ``ln_gdp_per_head_T`` (EUR per inhabitant), ``gdp_per_head_growth``
    (annual log growth), ``ln_population_t0`` (population, or GDP / GDP per head when the
    population series is absent), ``tertiary_share_t0``, ``lifelong_learning_t0`` (% of the
    25-64 population), ``strong_cluster_share_t0`` (share of the region's business-economy
    employment in starred clusters, every division counted once: from the cluster mapping's
    ``scheme_employment`` if given, else in division cells with LQ >= 2, a documented proxy;
    ``Sample.notes`` says which), ``apportioned`` (GDP per head copied from the source region of
    a NUTS split).

A *grouping* maps divisions to clusters: a DataFrame ``[division, category, weight]`` (weight
= share of the division's employment allocated to the category, in (0, 1]). A division split
over several categories is assigned to the one with the largest weight (ties: first in
sort order) for its own cluster LQ; all weights enter the cluster totals ``G_rc``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from eocic import measures
from eocic.classifications.nace import nace_sections

LQ_FLOOR = 0.01
"""Floor of the cluster and related-cluster LQs before taking logs (as in the demo's DGP)."""

RELATED_PERCENTILE = 90.0
"""Cluster pairs whose co-location correlation exceeds this percentile are related."""

STRONG_LQ = 2.0
"""Specialisation star threshold (ECO): LQ >= 2."""

VARIABLE_LABELS: dict[str, str] = {
    "employment_growth": "Employment growth (annual, log)",
    "wage_growth": "Average wage growth (annual, log)",
    "local_units_growth": "Local units growth (annual, log)",
    "employment_T": "Persons employed, T",
    "ln_employment_t0": "Persons employed (log), t0",
    "ln_lq_t0": "Location quotient of the region's own sector (log), t0",
    "ln_lq_cluster_t0": "Location quotient of the sector's cluster, own sector excluded (log), t0",
    "ln_lq_related_t0": "Location quotient of the related clusters (log), t0",
    "ln_lq_neighbours_t0": "Location quotient of the sector's cluster in the neighbouring "
                           "regions (log), t0",
    "births_growth": "Enterprise births growth (annual, log)",
    "ln_births_t0": "Enterprise births (log), t0",
    "ln_birth_rate_t0": "Enterprise births per active enterprise (log), t0",
    "ln_high_growth_share_T": "Share of high-growth enterprises in active ones (log), T",
    "ln_local_units_t0": "Local units (log), t0",
    "ln_lq_section_t0": "Location quotient of the section, its cluster strength (log), t0",
    "strong_share_t0": "Share of the section's employment in divisions with LQ >= 2, t0",
    "ln_gdp_per_head_T": "GDP per head (EUR, log), T",
    "ln_gdp_per_head_t0": "GDP per head (EUR, log), t0",
    "gdp_per_head_growth": "GDP per head growth (annual, log)",
    "strong_cluster_share_t0": "Share of employment in strong clusters, t0",
    "ln_population_density_t0": "Population density (log), t0",
    "ln_population_t0": "Population (log), t0",
    "tertiary_share_t0": "Tertiary attainment (% of the 25-64 population), t0",
    "lifelong_learning_t0": "Lifelong learning (% of the 25-64 population), t0",
}
"""The variables of the regression samples in words, for the regression tables, the narrative
and the key findings: what is measured, its transformation (log, annual log growth) and when
(t0 = first year, T = last year of the growth window; :func:`eocic.findings.regression_findings`
puts the years in). Definitions and units: the module docstring."""

UNIT_VARIABLES: dict[str, tuple[str, ...]] = {
    "region_division": (
        "employment_growth", "wage_growth", "local_units_growth", "employment_T",
        "employment_t0", "ln_employment_t0", "ln_lq_t0", "ln_lq_cluster_t0", "ln_lq_related_t0",
        "wages_t0", "wages_T", "local_units_t0", "local_units_T", "cluster_members_missing",
        "related_members_missing", "ln_lq_neighbours_t0", "neighbour_regions",
        "neighbour_members_missing"),
    "region_section": (
        "births_growth", "births_t0", "births_T", "active_t0", "active_T", "high_growth_T",
        "ln_births_t0", "ln_birth_rate_t0", "ln_high_growth_share_T", "employment_t0",
        "local_units_t0", "local_units_T", "local_units_growth", "ln_local_units_t0",
        "ln_lq_section_t0", "strong_share_t0"),
    "region": (
        "ln_gdp_per_head_T", "ln_gdp_per_head_t0", "gdp_per_head_growth",
        "strong_cluster_share_t0", "ln_population_density_t0", "ln_population_t0",
        "tertiary_share_t0", "lifelong_learning_t0"),
}
"""Variables each sample builder knows (a column may be absent when its source is)."""


@dataclasses.dataclass
class Sample:
    """An estimation sample: the frame, its unit and window, and notes on how it was built.

    ``counts`` has one row per growth status (``continuing``, ``entry``, ``exit``, ``absent``,
    ``missing``) and measure, so nothing is dropped without being counted.
    """

    unit: str
    frame: pd.DataFrame
    t0: int
    T: int
    notes: list[str]
    counts: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)


# ------------------------------------------------------------------------------ groupings


def validate_grouping(grouping: pd.DataFrame) -> pd.DataFrame:
    """Check a division -> cluster grouping; returns ``[division, category, weight]`` sorted.

    Raises
    ------
    ValueError
        Missing columns, empty codes, weights outside (0, 1] or a division whose weights sum
        to more than 1.
    """
    missing = {"division", "category", "weight"} - set(grouping.columns)
    if missing:
        raise ValueError(
            f"grouping: missing column(s) {', '.join(sorted(missing))}; expected a DataFrame "
            "[division, category, weight] (e.g. from eocic.clusters.definitions."
            "allocation_weights or grouping_from_mapping)")
    table = grouping[["division", "category", "weight"]].copy()
    table["division"] = table["division"].astype(str)
    table["category"] = table["category"].astype(str)
    table["weight"] = table["weight"].astype(float)
    bad = table[(table["division"] == "") | (table["category"] == "")
                | ~(table["weight"] > 0) | ~(table["weight"] <= 1 + 1e-9)]
    if len(bad):
        raise ValueError(f"grouping: rows with empty codes or weights outside (0, 1]: "
                         f"{bad.head(5).to_dict('records')}")
    table = table.groupby(["division", "category"], as_index=False)["weight"].sum()
    totals = table.groupby("division")["weight"].sum()
    over = totals[totals > 1 + 1e-6]
    if len(over):
        raise ValueError(f"grouping: weights of a division sum to more than 1: "
                         f"{over.head(5).round(4).to_dict()}")
    return table.sort_values(["division", "category"], ignore_index=True)


def grouping_from_mapping(groups: dict[str, tuple[str, ...] | list[str]]) -> pd.DataFrame:
    """``{cluster: divisions}`` (e.g. ``demo_cluster_groups`` of the demo's ``truth.json``) as a
    grouping ``[division, category, weight=1]``."""
    rows = [(division, category, 1.0) for category, divisions in groups.items()
            for division in divisions]
    return validate_grouping(pd.DataFrame(rows, columns=["division", "category", "weight"]))


def section_grouping(divisions) -> pd.DataFrame:
    """Proxy grouping: every division's cluster is its NACE section (letter of the code).

    A proxy only: NACE sections group by activity type, not by the co-location, input-output
    and skill linkages that define clusters (Delgado, Porter & Stern 2016).
    """
    codes = sorted(set(map(str, divisions)))
    return validate_grouping(pd.DataFrame(
        {"division": codes, "category": [f"section {c[0]}" for c in codes], "weight": 1.0}))


def primary_category(grouping: pd.DataFrame) -> pd.DataFrame:
    """The division's own cluster: ``[division, category, weight]``, largest weight first."""
    ordered = grouping.sort_values(["division", "weight", "category"],
                                   ascending=[True, False, True])
    return ordered.drop_duplicates("division").reset_index(drop=True)


# ------------------------------------------------------------------------------ indicators


def cluster_employment(employment: pd.Series, grouping: pd.DataFrame) -> pd.DataFrame:
    """``G_rc = sum_j w_jc E_rj``: employment of each region in each cluster.

    ``employment`` is indexed by (geo, nace_r2); missing cells count as 0. Returns a wide
    frame (regions x categories).
    """
    cells = employment.rename("employment").reset_index()
    cells.columns = ["geo", "division", "employment"]
    merged = cells.merge(grouping, on="division", how="inner")
    merged["allocated"] = merged["employment"].fillna(0.0) * merged["weight"]
    wide = merged.pivot_table(index="geo", columns="category", values="allocated",
                              aggfunc="sum", fill_value=0.0)
    return wide.reindex(sorted(set(cells["geo"].unique())), fill_value=0.0)


def division_lq(cells: pd.DataFrame) -> pd.Series:
    """Location quotient of every region x division of ``cells`` (``geo, nace_r2, employment,
    regional_employment``, one year): :func:`eocic.measures.location_quotients` with the
    divisions as categories, the same numbers as the ``sector`` scheme of the cluster mapping.
    """
    return measures.location_quotients(cells.rename(columns={"nace_r2": "category"}),
                                       by=("category",))


def cluster_lq_table(cluster_wide: pd.DataFrame, regional: pd.Series) -> pd.DataFrame:
    """``geo, category, employment, regional_employment, lq`` of the clusters of a grouping:
    G_rc and its location quotient (:func:`eocic.measures.location_quotients`)."""
    long = cluster_wide.rename_axis(index="geo", columns="category").stack().rename(
        "employment").reset_index()
    long["regional_employment"] = long["geo"].map(regional).to_numpy()
    long["lq"] = measures.location_quotients(long, by=("category",)).to_numpy()
    return long


def related_of_grouping(cluster_wide: pd.DataFrame, regional: pd.Series,
                        grouping: pd.DataFrame, percentile: float = RELATED_PERCENTILE,
                        min_regions: int = 10) -> tuple[dict[str, list[str]], float]:
    """Related clusters of a grouping: the co-location linkages of
    :func:`eocic.clusters.linkages.linkage_pairs` (the one definition of the study, also used by
    the cluster mapping) on the clusters' LQs, through :func:`eocic.measures.related_categories`.

    Returns ``({category: related categories}, threshold)`` (the P-``percentile`` correlation).
    """
    from eocic.clusters.linkages import linkage_pairs

    table = cluster_lq_table(cluster_wide, regional)
    divisions = {category: frozenset(part["division"])
                 for category, part in grouping.groupby("category")}
    pairs = linkage_pairs(table, related_percentile=percentile, min_regions=min_regions,
                          divisions=divisions)
    eligible = pairs.loc[~pairs["same_divisions"], "colocation_corr"].dropna()
    threshold = float(np.percentile(eligible, percentile)) if len(eligible) else float("nan")
    return measures.related_categories(pairs), threshold


def related_term_clusters(related: dict[str, list[str]],
                          grouping: pd.DataFrame) -> dict[str, list[str]]:
    """The clusters pooled in the related-clusters term of cluster ``c``'s cells.

    Rule: the related clusters of ``c`` (``related``, the one definition:
    :func:`related_of_grouping`) less every cluster allocated from a division that ``c`` is
    also allocated from. Reason: at NACE-division level a division split over several clusters
    puts the same employment into each of them, so (a) a cell's own division -- or another
    division of its own cluster -- would sit inside its related term, which is then partly the
    own cluster's (or the own sector's) strength, and (b) the two clusters' co-location
    correlation is partly mechanical, the artefact for which categories from identical
    divisions ("twins", correlation 1) are never related (:mod:`eocic.clusters.linkages`).
    Consequence: no division of ``c`` -- the own division of every cell of ``c`` included --
    ever enters the term; a cluster whose related clusters all share a division with it has
    an empty term (the term is then 0, as for a cluster without related clusters: a constant
    per division, absorbed by the sector fixed effect).

    Returns ``{category: sorted clusters of its term}`` for every category of ``related``.
    """
    divisions = {category: frozenset(part["division"])
                 for category, part in grouping[grouping["weight"] > 0].groupby("category")}
    return {category: sorted(other for other in others
                             if not (divisions.get(other, frozenset())
                                     & divisions.get(category, frozenset())))
            for category, others in related.items()}


def _missing_cells(employment: pd.Series, regions, divisions) -> np.ndarray:
    """``[r, j]`` = 1.0 where region r has no employment value for division j at t0 (not
    published and not estimated, or no row at all), else 0.0."""
    known = employment.notna().astype(float)
    wide = known.groupby(level=[0, 1]).max().unstack()
    wide = wide.reindex(index=pd.Index(regions), columns=pd.Index(divisions)).fillna(0.0)
    return 1.0 - wide.to_numpy(dtype=float)


def neighbour_cluster_lq(cluster_wide: pd.DataFrame, regional: pd.Series,
                         holes: np.ndarray, neighbours: dict[str, tuple[str, ...]]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Cluster strength in the neighbouring regions (Delgado, Porter & Stern 2014).

    ``LQ_{c,N(r)} = (sum_{s in N(r)} G_sc / sum_{s in N(r)} E_s) / (G_c / E)``: the location
    quotient of cluster c's pooled employment in the neighbouring regions N(r) of r, those of
    the data with ``E_s > 0``; identical to the employment-weighted mean of the neighbours'
    cluster LQs, ``sum_s E_s LQ_sc / sum_s E_s``. ``G_sc = sum_j w_jc E_sj`` (all divisions of
    the cluster, the own division too: in another region it is part of the neighbours' cluster
    environment), ``G_c = sum_s G_sc``, ``E = sum_s E_s`` over the data's regions.

    Parameters
    ----------
    cluster_wide : DataFrame
        ``G_rc``, regions x clusters (:func:`cluster_employment`).
    regional : Series
        ``E_r`` by region (persons).
    holes : array
        ``[r, c]``: divisions of cluster c without a value at t0 in region r.
    neighbours : dict
        ``{region: neighbours}`` (:func:`eocic.nuts.neighbours`).

    Returns
    -------
    (lq, count, neighbour_holes)
        ``lq[r, c]`` (NaN where r has no neighbour in the data or is not in ``neighbours``);
        ``count[r]``, the neighbours in the data with ``E_s > 0``; ``neighbour_holes[r, c]``,
        the divisions of c without a value in r's neighbours (each would count as 0).
    """
    regions = pd.Index(cluster_wide.index)
    totals = regional.reindex(regions).astype(float)
    usable = (totals > 0).to_numpy()
    adjacency = np.zeros((len(regions), len(regions)))
    for k, region in enumerate(regions):
        for other in neighbours.get(region, ()):
            position = regions.get_indexer([other])[0]
            if position >= 0 and usable[position]:
                adjacency[k, position] = 1.0
    count = adjacency.sum(axis=1)
    employment = cluster_wide.to_numpy(dtype=float)
    pooled = adjacency @ employment
    pooled_total = adjacency @ np.where(usable, totals.to_numpy(), 0.0)
    share = employment[usable].sum(axis=0) / totals[usable].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (pooled / pooled_total[:, None]) / share[None, :]
    lq[count == 0, :] = np.nan
    return lq, count, adjacency @ holes


def growth_status(start: pd.Series, end: pd.Series) -> pd.Series:
    """``continuing`` (> 0 both), ``entry`` (0 -> > 0), ``exit`` (> 0 -> 0), ``absent`` (0, 0),
    ``missing`` (not published at either end)."""
    status = np.select(
        [start.isna() | end.isna(), (start > 0) & (end > 0), (start == 0) & (end > 0),
         (start > 0) & (end == 0)],
        ["missing", "continuing", "entry", "exit"], default="absent")
    return pd.Series(status, index=start.index)


def _status_counts(frame: pd.DataFrame, pairs: dict[str, tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for measure, (start, end) in pairs.items():
        if start not in frame or end not in frame:
            continue
        counts = growth_status(frame[start], frame[end]).value_counts()
        for status in ("continuing", "entry", "exit", "absent", "missing"):
            rows.append({"measure": measure, "status": status, "cells": int(counts.get(status, 0))})
    return pd.DataFrame(rows)


def _year_values(table: pd.DataFrame, year: int, index: list[str], columns: dict[str, str]
                 ) -> pd.DataFrame:
    rows = table[table["year"] == year].set_index(index)
    return rows[list(columns)].rename(columns=columns)


def growth_window(years, year: int, t0: int = 0, length: int = 5) -> tuple[int, int]:
    """The window ``(t0, T)`` with ``T = year``.

    ``t0 = 0`` means ``year - length``, moved forward to the first year with data when the data
    start later. Raises ValueError when ``year`` has no data or the window is empty.
    """
    available = sorted(set(int(y) for y in years))
    if year not in available:
        raise ValueError(f"growth window: no data for the final year {year}; the data hold "
                         f"{available[0]}-{available[-1]}")
    start = t0 if t0 else max(year - length, available[0])
    if start not in available or start >= year:
        raise ValueError(f"growth window: t0={start} must be a year with data before {year} "
                         f"(data: {available[0]}-{available[-1]})")
    return start, year


# ------------------------------------------------------------------------------ samples


def _regional(totals: pd.DataFrame, year: int) -> pd.Series:
    """E_r (persons) of ``year`` from the ``regional_totals`` table, indexed by geo."""
    rows = totals[totals["year"] == year]
    return rows.set_index("geo")["employment"].astype(float)


def region_division_sample(sbs: pd.DataFrame, totals: pd.DataFrame, grouping: pd.DataFrame,
                           t0: int, T: int, *, lq_floor: float = LQ_FLOOR,
                           related_percentile: float = RELATED_PERCENTILE,
                           neighbours: dict[str, tuple[str, ...]] | None = None) -> Sample:
    """Region x division sample for table A (columns in the module docstring).

    Parameters
    ----------
    sbs : DataFrame
        Processed ``sbs`` table (``geo, nace_r2, year, employment, local_units, wages_eur``
        and the flags ``employment_estimated``, ``apportioned``).
    totals : DataFrame
        The ``regional_totals`` table: E_r, the published business-economy employment.
    grouping : DataFrame
        ``[division, category, weight]`` (see :func:`validate_grouping`).
    t0, T : int
        First and last year of the growth window.
    neighbours : dict, optional
        ``{region: neighbouring regions}`` (:func:`eocic.nuts.neighbours`); without it the
        neighbouring-regions columns are not built.
    """
    grouping = validate_grouping(grouping)
    window = T - t0
    columns = {"employment": "employment", "wages_eur": "wages", "local_units": "local_units"}
    start = _year_values(sbs, t0, ["geo", "nace_r2"], {k: f"{v}_t0" for k, v in columns.items()})
    end = _year_values(sbs, T, ["geo", "nace_r2"], {k: f"{v}_T" for k, v in columns.items()})
    frame = start.join(end, how="outer").sort_index()
    for year, suffix in ((t0, "t0"), (T, "T")):
        flags = _year_values(sbs, year, ["geo", "nace_r2"],
                             {"employment_estimated": f"estimated_{suffix}"})
        frame[f"estimated_{suffix}"] = flags.reindex(frame.index)[f"estimated_{suffix}"].fillna(
            False).astype(bool)
    apportioned = _year_values(sbs, t0, ["geo", "nace_r2"], {"apportioned": "apportioned"})
    frame["apportioned"] = apportioned.reindex(frame.index)["apportioned"].fillna(
        False).astype(bool)
    frame["own_estimated"] = (frame["estimated_t0"] | frame["estimated_T"]).astype(int)
    notes = [f"Growth window {t0}-{T} ({window} years)."]

    employment = frame["employment_t0"]
    geo = frame.index.get_level_values("geo")
    division = frame.index.get_level_values("nace_r2")
    regional = _regional(totals, t0)
    region_total = regional.reindex(geo).to_numpy()
    cells = pd.DataFrame({"geo": geo, "nace_r2": division, "employment": employment.to_numpy(),
                          "regional_employment": region_total})
    lq = division_lq(cells).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ln_lq_t0"] = np.where(lq > 0, np.log(lq), np.nan)
        frame["ln_employment_t0"] = np.where(employment > 0, np.log(employment), np.nan)
    estimated_t0 = int(frame["estimated_t0"].sum())
    notes.append(f"Location quotients at t0 as in the cluster mapping (eocic.measures): E_r is "
                 f"the published business-economy total; {estimated_t0} region x division cells "
                 "hold estimates of confidential values at t0 (flag estimated_t0).")

    frame["employment_growth"] = measures.log_growth(frame["employment_t0"],
                                                     frame["employment_T"], window)
    with np.errstate(divide="ignore", invalid="ignore"):
        wage_t0 = frame["wages_t0"] / frame["employment_t0"]
        wage_T = frame["wages_T"] / frame["employment_T"]
    frame["wage_growth"] = measures.log_growth(wage_t0, wage_T, window)
    frame["local_units_growth"] = measures.log_growth(frame["local_units_t0"],
                                                      frame["local_units_T"], window)

    # own cluster, excluding the own division
    own = primary_category(grouping).set_index("division")
    members = grouping.groupby("category")["division"].nunique()
    cluster_wide = cluster_employment(employment, grouping)
    frame["category"] = own["category"].reindex(division).fillna("").to_numpy()
    own_weight = own["weight"].reindex(division).fillna(0.0).to_numpy()
    known = employment.notna() & pd.Series(region_total > 0, index=frame.index)
    division_total = employment.where(known).groupby(level="nace_r2").sum().reindex(
        division).to_numpy()
    grand_total = float(regional.reindex(sorted(set(geo))).sum())
    cluster_long = cluster_wide.stack().rename("G")
    in_cluster = (frame["category"] != "").to_numpy()
    alone = in_cluster & (members.reindex(frame["category"]).fillna(0).to_numpy() <= 1)
    keys = pd.MultiIndex.from_arrays([geo, frame["category"]])
    region_cluster = cluster_long.reindex(keys).fillna(0.0).to_numpy()
    eu_cluster = cluster_wide.sum().reindex(frame["category"]).fillna(0.0).to_numpy()
    own_employment = frame["employment_t0"].fillna(0.0).to_numpy() * own_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        lq_cluster = (((region_cluster - own_employment) / region_total)
                      / ((eu_cluster - division_total * own_weight) / grand_total))
    published = frame["employment_t0"].notna()
    unpublished = (~published).astype(float).to_numpy()
    estimated = frame["estimated_t0"].astype(float).to_numpy()
    by_cluster = [np.asarray(geo), frame["category"].to_numpy()]
    missing_by_cluster = pd.Series(unpublished).groupby(by_cluster).transform("sum").to_numpy()
    estimated_by_cluster = pd.Series(estimated).groupby(by_cluster).transform("sum").to_numpy()
    frame["cluster_members_missing"] = np.where(
        in_cluster, missing_by_cluster - unpublished, 0).astype(int)
    frame["cluster_members_estimated"] = np.where(
        in_cluster, estimated_by_cluster - estimated, 0).astype(int)
    usable = in_cluster & ~alone
    floored = usable & (lq_cluster < lq_floor)
    frame["ln_lq_cluster_t0"] = np.where(
        usable, np.log(np.maximum(np.nan_to_num(lq_cluster, nan=lq_floor), lq_floor)), 0.0)
    frame.loc[~(region_total > 0), "ln_lq_cluster_t0"] = np.nan
    n_outside = len(set(division[~in_cluster]))
    notes.append(
        f"Cluster LQ (excluding the own division) floored at {lq_floor} in {int(floored.sum())} "
        f"cells; set to 0 for {n_outside} divisions outside every cluster and "
        f"{len(set(division[alone]))} divisions alone in their cluster.")
    incomplete = int(((frame["cluster_members_missing"] > 0) & published).sum())
    if incomplete:
        notes.append(f"{incomplete} cells have another division of their cluster without any "
                     "value at t0 (cluster_members_missing > 0): their cluster LQ counts those "
                     "divisions as 0.")
    split = grouping.groupby("division")["category"].nunique()
    if (split > 1).any():
        notes.append(f"{int((split > 1).sum())} divisions are split over several clusters; "
                     "each takes the cluster with its largest weight as its own.")

    # related clusters (one definition: eocic.clusters.linkages); the term of a cluster never
    # holds one of its own divisions (related_term_clusters), nor a division without a value
    related, threshold = related_of_grouping(cluster_wide, regional, grouping,
                                             related_percentile)
    term_clusters = related_term_clusters(related, grouping)
    categories = list(cluster_wide.columns)
    position = {category: k for k, category in enumerate(categories)}
    relation = np.zeros((len(categories), len(categories)))
    for category, others in term_clusters.items():
        for other in others:
            if category in position and other in position:
                relation[position[category], position[other]] = 1.0
    pooled_region = cluster_wide.to_numpy() @ relation.T          # [r, c] related employment
    pooled_eu = cluster_wide.sum().to_numpy() @ relation.T        # [c]
    own_index = np.array([position.get(c, -1) for c in frame["category"]])
    region_index = pd.Index(cluster_wide.index).get_indexer(geo)
    with_related = in_cluster & np.isin(frame["category"].to_numpy(),
                                        [c for c, others in term_clusters.items() if others])
    with np.errstate(divide="ignore", invalid="ignore"):
        related_lq = ((pooled_region[region_index.clip(0), own_index.clip(0)] / region_total)
                      / (pooled_eu[own_index.clip(0)] / grand_total))
    frame["ln_lq_related_t0"] = np.where(
        with_related, np.log(np.maximum(np.nan_to_num(related_lq, nan=lq_floor), lq_floor)),
        0.0)
    frame.loc[~(region_total > 0), "ln_lq_related_t0"] = np.nan
    membership = (grouping.assign(member=1.0)
                  .pivot_table(index="division", columns="category", values="member",
                               aggfunc="max", fill_value=0.0)
                  .reindex(columns=categories, fill_value=0.0))
    holes = _missing_cells(employment, cluster_wide.index, membership.index)   # [r, j] 0/1
    in_term = (membership.to_numpy() @ relation.T) > 0                          # [j, c]
    holes_in_term = holes @ in_term.astype(float)                               # [r, c]
    frame["related_members_missing"] = np.where(
        with_related, holes_in_term[region_index.clip(0), own_index.clip(0)], 0).astype(int)
    left_out = sum(len(related.get(c, ())) - len(others) for c, others in term_clusters.items())
    notes.append(
        f"Related clusters: co-location correlation of cluster LQs across regions above the "
        f"P{related_percentile:g} ({threshold:.3f}; eocic.clusters.linkages, categories from the "
        f"same divisions never related); {sum(len(v) for v in related.values()) // 2} related "
        f"pairs, {len(related)} of {cluster_wide.shape[1]} clusters have at least one. The "
        f"related term of a cell never holds a division of its own cluster: {left_out // 2} "
        "related pairs share a division and are left out of each other's term.")
    missing_related = int(((frame["related_members_missing"] > 0) & published).sum())
    if missing_related:
        notes.append(f"{missing_related} cells have a division of their related clusters "
                     "without any value at t0 (related_members_missing > 0); such a division "
                     "would count as 0 in the related LQ, so table A leaves these cells out.")

    # the same cluster in the neighbouring regions (Delgado, Porter & Stern 2014)
    if neighbours is not None:
        neighbour_lq, neighbour_count, neighbour_holes = neighbour_cluster_lq(
            cluster_wide, regional, holes @ membership.to_numpy(), neighbours)
        frame["neighbour_regions"] = neighbour_count[region_index.clip(0)].astype(int)
        values = neighbour_lq[region_index.clip(0), own_index.clip(0)]
        frame["ln_lq_neighbours_t0"] = np.where(
            in_cluster, np.log(np.maximum(values, lq_floor)), 0.0)
        frame.loc[in_cluster & np.isnan(values), "ln_lq_neighbours_t0"] = np.nan
        # a region without a neighbour in the data has no neighbour term in any cell
        frame.loc[frame["neighbour_regions"].to_numpy() == 0, "ln_lq_neighbours_t0"] = np.nan
        frame.loc[~(region_total > 0), "ln_lq_neighbours_t0"] = np.nan
        frame["neighbour_members_missing"] = np.where(
            in_cluster, neighbour_holes[region_index.clip(0), own_index.clip(0)], 0).astype(int)
        isolated = sorted(set(np.asarray(geo)[frame["neighbour_regions"].to_numpy() == 0]))
        notes.append(
            "Neighbouring regions: queen contiguity of the NUTS-2 polygons (eocic.nuts."
            "neighbours, cached from GISCO); ln_lq_neighbours_t0 = ln max(floor, LQ of the "
            "cluster's pooled employment in the neighbouring regions of the data), undefined "
            f"(left out) for {len(isolated)} regions without a neighbour in the data"
            + (f" ({', '.join(isolated[:12])}{' ...' if len(isolated) > 12 else ''})"
               if isolated else "") + ".")

    frame = frame.reset_index()
    frame["country"] = frame["geo"].str[:2]
    frame["section"] = frame["nace_r2"].str[0]
    frame["window"] = window
    frame["status"] = growth_status(frame["employment_t0"], frame["employment_T"])
    counts = _status_counts(frame, {"employment": ("employment_t0", "employment_T"),
                                    "wages": ("wages_t0", "wages_T"),
                                    "local_units": ("local_units_t0", "local_units_T")})
    employment_counts = counts[counts["measure"] == "employment"].set_index("status")["cells"]
    notes.append(
        "Employment cells: " + ", ".join(f"{k} {v}" for k, v in employment_counts.items())
        + " (growth defined for continuing cells only).")
    return Sample("region_division", frame, t0, T, notes, counts)


def region_section_sample(sbs: pd.DataFrame, totals: pd.DataFrame,
                          demography: pd.DataFrame | None, t0: int, T: int) -> Sample:
    """Region x section sample for table B (columns in the module docstring).

    Without ``demography`` (or with no data in the window) only the SBS-based columns exist;
    table B then uses its labelled proxies (local units).
    """
    window = T - t0
    division_cells = sbs[sbs["year"].isin([t0, T])].copy()
    division_cells["section"] = division_cells["nace_r2"].str[0]
    regional = _regional(totals, t0)
    start_cells = division_cells[division_cells["year"] == t0].copy()
    start_cells["regional_employment"] = start_cells["geo"].map(regional)
    lq = division_lq(start_cells[["geo", "nace_r2", "employment", "regional_employment"]])
    start_cells["strong"] = start_cells["employment"].where(lq >= STRONG_LQ, 0.0)
    start_cells = start_cells.set_index(["geo", "nace_r2"])
    by_section = division_cells.groupby(["geo", "section", "year"])[
        ["employment", "local_units"]].sum(min_count=1)
    frame = pd.DataFrame({
        "employment_t0": by_section.xs(t0, level="year")["employment"],
        "local_units_t0": by_section.xs(t0, level="year")["local_units"],
        "local_units_T": by_section.xs(T, level="year")["local_units"],
    })
    strong = start_cells.reset_index().groupby(["geo", "section"])["strong"].sum(min_count=1)
    frame["strong_share_t0"] = strong.reindex(frame.index) / frame["employment_t0"]
    frame.index = frame.index.set_names(["geo", "nace_r2"])
    section_cells = pd.DataFrame({
        "geo": frame.index.get_level_values("geo"),
        "nace_r2": frame.index.get_level_values("nace_r2"),
        "employment": frame["employment_t0"].to_numpy(),
        "regional_employment": regional.reindex(frame.index.get_level_values("geo")).to_numpy()})
    section_lq = division_lq(section_cells).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ln_lq_section_t0"] = np.where(section_lq > 0, np.log(section_lq), np.nan)
        frame["ln_local_units_t0"] = np.where(frame["local_units_t0"] > 0,
                                              np.log(frame["local_units_t0"]), np.nan)
    frame["local_units_growth"] = measures.log_growth(frame["local_units_t0"], frame["local_units_T"], window)
    notes = [f"SBS window {t0}-{T} ({window} years); section employment and local units are "
             "sums over the division cells (published or estimated); LQs divide by the "
             "published business-economy totals (eocic.measures)."]
    status_pairs = {"local_units": ("local_units_t0", "local_units_T")}
    demography_end = None
    if demography is not None and len(demography):
        demography_end = min(T, int(demography["year"].max()))
    if demography_end is not None and demography_end > t0 and (demography["year"] == t0).any():
        wide = demography[demography["year"].isin([t0, demography_end])].pivot_table(
            index=["geo", "nace_r2"], columns=["indicator", "year"], values="value",
            aggfunc="first")

        def column(indicator: str, year: int) -> pd.Series:
            key = (indicator, year)
            return wide[key] if key in wide.columns else pd.Series(np.nan, index=wide.index)

        births = pd.DataFrame({
            "births_t0": column("births", t0), "births_T": column("births", demography_end),
            "active_t0": column("active_enterprises", t0),
            "active_T": column("active_enterprises", demography_end),
            "high_growth_T": column("high_growth_enterprises", demography_end),
        })
        frame = frame.join(births, how="outer")
        demography_window = demography_end - t0
        frame["births_growth"] = measures.log_growth(frame["births_t0"], frame["births_T"], demography_window)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["ln_births_t0"] = np.where(frame["births_t0"] > 0, np.log(frame["births_t0"]),
                                             np.nan)
            rate = frame["births_t0"] / frame["active_t0"]
            frame["ln_birth_rate_t0"] = np.where(rate > 0, np.log(rate), np.nan)
            share = frame["high_growth_T"] / frame["active_T"]
            frame["ln_high_growth_share_T"] = np.where(share > 0, np.log(share), np.nan)
        notes.append(f"Business demography window {t0}-{demography_end} "
                     f"({demography_window} years; the demography ends in "
                     f"{int(demography['year'].max())}).")
        status_pairs["births"] = ("births_t0", "births_T")
    else:
        notes.append("No business demography for the window: births and high-growth "
                     "variables are absent (table B uses its labelled proxies).")
    frame = frame.reset_index()
    frame["country"] = frame["geo"].str[:2]
    frame["window"] = window
    return Sample("region_section", frame.sort_values(["geo", "nace_r2"], ignore_index=True),
                  t0, T, notes, _status_counts(frame, status_pairs))


def _context_value(context: pd.DataFrame, indicator: str, year: int) -> pd.Series:
    rows = context[(context["indicator"] == indicator) & (context["year"] == year)]
    return rows.drop_duplicates("geo").set_index("geo")["value"].astype(float)


def strong_cluster_share(sbs: pd.DataFrame, totals: pd.DataFrame, t0: int,
                         cluster_mapping: pd.DataFrame | None = None,
                         scheme_totals: pd.DataFrame | None = None) -> tuple[pd.Series, str]:
    """Share of each region's business-economy employment (t0) in strong clusters, and a note
    on the basis.

    From the cluster mapping when given (``scheme_employment``: the clusters' employment with
    every division counted once, else ``cluster_mapping``, scheme ``cluster``, ``is_cluster``,
    year t0); otherwise the proxy: division cells with LQ >= 2. Denominator: E_r, the published
    business-economy total (``regional_totals``).
    """
    regional = _regional(totals, t0)
    if scheme_totals is not None and len(scheme_totals):
        chosen = scheme_totals[(scheme_totals["scheme"] == "cluster")
                               & (scheme_totals["year"] == t0)]
        if len(chosen):
            strong = chosen.set_index("geo")["cluster_employment"]
            return (strong.reindex(regional.index) / regional.where(regional > 0),
                    f"Strong clusters from the cluster mapping (scheme 'cluster', {t0}).")
    if cluster_mapping is not None and len(cluster_mapping):
        chosen = cluster_mapping[(cluster_mapping["scheme"] == "cluster")
                                 & (cluster_mapping["year"] == t0)]
        if len(chosen):
            strong = chosen[chosen["is_cluster"].astype(bool)].groupby("geo")["employment"].sum()
            share = strong.reindex(regional.index, fill_value=0.0) / regional.where(regional > 0)
            return share, (f"Strong clusters from cluster_mapping.parquet (scheme 'cluster', "
                           f"is_cluster, {t0}).")
    cells = sbs.loc[sbs["year"] == t0, ["geo", "nace_r2", "employment"]].copy()
    cells["regional_employment"] = cells["geo"].map(regional)
    lq = division_lq(cells)
    strong = cells["employment"].where(lq >= STRONG_LQ, 0.0).groupby(cells["geo"]).sum()
    return strong.reindex(regional.index) / regional.where(regional > 0), (
        f"PROXY: strong clusters = NACE division cells with LQ >= {STRONG_LQ:g} in {t0} "
        "(no cluster_mapping.parquet for this year).")


def region_sample(sbs: pd.DataFrame, totals: pd.DataFrame, context: pd.DataFrame, t0: int,
                  T: int, cluster_mapping: pd.DataFrame | None = None,
                  area_km2: pd.Series | None = None,
                  scheme_totals: pd.DataFrame | None = None) -> Sample:
    """Region sample for table C (columns in the module docstring)."""
    window = T - t0
    notes = [f"Window {t0}-{T} ({window} years)."]
    gdp_t0 = _context_value(context, "gdp_eur_per_head", t0)
    gdp_T = _context_value(context, "gdp_eur_per_head", T)
    frame = pd.DataFrame(index=sorted(set(sbs["geo"].unique())))
    frame.index.name = "geo"
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ln_gdp_per_head_t0"] = np.log(gdp_t0.where(gdp_t0 > 0)).reindex(frame.index)
        frame["ln_gdp_per_head_T"] = np.log(gdp_T.where(gdp_T > 0)).reindex(frame.index)
    frame["gdp_per_head_growth"] = ((frame["ln_gdp_per_head_T"] - frame["ln_gdp_per_head_t0"])
                                    / window)
    population = _context_value(context, "population", t0)
    if population.empty:
        gdp_total = _context_value(context, "gdp_mio_eur", t0)
        population = (gdp_total * 1e6 / gdp_t0).dropna()
        if not population.empty:
            notes.append("Population derived as GDP (million EUR) / GDP per head (no population "
                         "series in this run).")
    if not population.empty:
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["ln_population_t0"] = np.log(population.where(population > 0)).reindex(
                frame.index)
        if area_km2 is not None:
            frame["ln_population_density_t0"] = np.log(
                (population / area_km2).where(lambda s: s > 0)).reindex(frame.index)
    for indicator, name in (("tertiary_pc_25_64", "tertiary_share_t0"),
                            ("lifelong_learning_pc_25_64", "lifelong_learning_t0")):
        values = _context_value(context, indicator, t0)
        if not values.empty:
            frame[name] = values.reindex(frame.index)
    share, basis = strong_cluster_share(sbs, totals, t0, cluster_mapping, scheme_totals)
    frame["strong_cluster_share_t0"] = share.reindex(frame.index)
    notes.append(basis)
    apportioned = (context[context["apportioned"] & context["indicator"].isin(
        ["gdp_eur_per_head"]) & context["year"].isin([t0, T])]["geo"].unique()
                   if "apportioned" in context.columns else [])
    frame["apportioned"] = frame.index.isin(apportioned)
    if frame["apportioned"].any():
        notes.append(f"{int(frame['apportioned'].sum())} regions split by a NUTS revision have "
                     "GDP per head copied from (or averaged over) their source region "
                     "(apportioned): a rough value, flagged.")
    frame = frame.reset_index()
    frame["country"] = frame["geo"].str[:2]
    frame["window"] = window
    counts = pd.DataFrame([{"measure": "gdp_per_head", "status": status, "cells": int(n)}
                           for status, n in (
                               ("both years", frame[["ln_gdp_per_head_t0", "ln_gdp_per_head_T"]]
                                .notna().all(axis=1).sum()),
                               ("missing", frame[["ln_gdp_per_head_t0", "ln_gdp_per_head_T"]]
                                .isna().any(axis=1).sum()))])
    return Sample("region", frame, t0, T, notes, counts)


def build_samples(tables: dict[str, pd.DataFrame], grouping: pd.DataFrame, t0: int, T: int,
                  units: tuple[str, ...] = ("region_division", "region_section", "region"),
                  *, lq_floor: float = LQ_FLOOR,
                  related_percentile: float = RELATED_PERCENTILE,
                  neighbours: dict[str, tuple[str, ...]] | None = None) -> dict[str, Sample]:
    """Every estimation sample needed, from the processed tables.

    Parameters
    ----------
    tables : dict
        ``{"sbs": ..., "regional_totals": ..., "demography": ... (optional), "context": ...,
        "cluster_mapping": ..., "scheme_employment": ... (optional)}``: the processed tables of
        a run.
    grouping : DataFrame
        Division -> cluster grouping ``[division, category, weight]``.
    t0, T : int
        Growth window.
    units : tuple of str
        Which samples to build.
    neighbours : dict, optional
        ``{region: neighbouring regions}`` for the neighbouring-regions term; default the
        cached NUTS 2021 queen contiguity (:func:`eocic.nuts.neighbours`; the processed tables
        are NUTS 2021).
    """
    for required in ("sbs", "regional_totals"):
        if required not in tables:
            raise ValueError(f"build_samples: the processed {required} table is required "
                             "(stage 01 writes it)")
    sbs, totals = tables["sbs"], tables["regional_totals"]
    samples = {}
    if "region_division" in units:
        if neighbours is None:
            from eocic import nuts
            neighbours = nuts.neighbours()
        samples["region_division"] = region_division_sample(
            sbs, totals, grouping, t0, T, lq_floor=lq_floor,
            related_percentile=related_percentile, neighbours=neighbours)
    if "region_section" in units:
        samples["region_section"] = region_section_sample(sbs, totals, tables.get("demography"),
                                                          t0, T)
    if "region" in units:
        if "context" not in tables:
            raise ValueError("build_samples: the region sample needs the processed context table")
        samples["region"] = region_sample(sbs, totals, tables["context"], t0, T,
                                          tables.get("cluster_mapping"),
                                          scheme_totals=tables.get("scheme_employment"))
    return samples


def section_names() -> dict[str, str]:
    """``{section letter: name}`` of the NACE sections B-N and S."""
    return dict(nace_sections().itertuples(index=False, name=None))
