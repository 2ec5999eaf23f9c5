r"""Estimates of the confidential and missing cells of the regional structural business statistics.

Eurostat's regional SBS (``sbs_r_nuts06_r2``, ``sbs_r_nuts2021``) publish persons employed, local
units and wages by NUTS-2 region x NACE division, and the same series for NUTS-1 regions,
countries and NACE sections. About a quarter of the NUTS-2 x division cells are confidential
(flag ``c``/``C``) or not available. Leaving them out makes whole clusters vanish and shrinks
regional totals; counting them as zero is wrong. This module estimates every missing NUTS-2 x
division cell so that the estimates are consistent with everything the same source publishes,
in the spirit of Isserman & Westervelt (2006) and Eckert, Fort, Schott & Yang (2020):

* the **adding-up constraints** of the two hierarchies: for every published aggregate ``a`` (a
  NUTS-2 region's section, a NUTS-1 region's or a country's division or section) the missing
  NUTS-2 x division cells it contains sum to what the aggregate leaves after its published
  cells, the *residual* ``R_a = X_a - sum_{published cells c in a} x_c``;
* the **bounds** those constraints imply: ``0 <= x_u <= min_a R_a`` over the aggregates holding
  ``u`` ("0 to what the parent leaves"), and ``x_u >= R_a - sum_{other missing v in a} upper_v``;
* a **prior** for each missing cell, from the same source, in this order of preference
  (column ``<measure>_basis``; :data:`PRIOR_ORDER`):

  ``neighbouring year``
      the same cell's published value in the nearest year ``t'`` (ties: the earlier),
      scaled by the growth of the country's value of the division,
      ``x_rd,t' * X_cd,t / X_cd,t'`` (unscaled when a national value is missing);
  ``local units x national unit size`` (employment)
      the cell's local units (published, or estimated first) times the national persons per
      local unit of the division, ``N_rd,t * E_cd,t / N_cd,t`` (NUTS-1, then the EU median
      unit size when the national one is missing);
  ``employment x national wage`` (wages)
      the cell's persons employed (published or estimated) times the national wages per
      person of the division, ``E_rd,t * W_cd,t / E_cd,t``;
  ``section x national structure``
      the region's published section total times the division's national share of the
      section, ``X_rs,t * X_cd,t / X_cs,t``;
  ``equal split``
      a uniform prior: the residuals are split equally.

  The order was chosen by the masked-cell validation (:func:`validate_by_masking`) on the
  2014 regional SBS: with the neighbouring year first the median absolute error of masked
  employment cells was 2.0 % (P90 19 %), with local units first 5.4 % (P90 39 %); for wages
  2.8 % against 2.9 %. Priors are floored at half a rounding unit: a confidential cell holds a
  few units, so it is positive, and a zero could never take a share of a residual.

Estimation (:func:`estimate_measure`) starts from the priors and applies **iterative
proportional fitting** over the constraint families in turn (NUTS-2 sections, NUTS-1
divisions, NUTS-1 sections, national divisions, national sections): within each aggregate the
missing cells are scaled by ``R_a / sum_{missing u in a} x_u`` (an aggregate whose missing cells
are all zero gets its residual split equally). Each family is a partition of the cells, so a
sweep is five passes over the missing cells (compiled loops, :mod:`eocic.proportional_fitting`);
sweeps repeat until every residual is met within ``tolerance`` (relative) or ``max_sweeps``.
Every aggregate lies within one year, so the years are independent problems: from
:data:`PARALLEL_FIT_CELLS` missing cells on (NUTS-3 x NACE class detail), blocks of years are
fitted side by side in threads (the compiled loops release the GIL). A block stops at the
first sweep where its own cells change by at most ``tolerance``, which one loop over the whole
grid reaches only when its slowest block does: the estimates then differ by less than
``tolerance`` (relative), and not at all when the fitting ends at ``max_sweeps``. The result
minimises the Kullback-Leibler divergence from the priors subject to the constraints (Bishop,
Fienberg & Holland 1975, ch. 3) and keeps every estimate between 0 and what its parents leave.

Rounding and inconsistent input
    Published values are rounded (persons and units to 1, wages to 0.1 million EUR), so a
    residual may be slightly negative; within ``0.5 x unit x (published members + 1)`` it is
    set to 0. A parent smaller than the sum of its published children beyond that (an error of
    the source) is **dropped** as a constraint with a warning naming the cells
    (:attr:`EstimationResult.inconsistencies`); a region-year whose every cell is missing is
    estimated from the other constraints and priors, also with a warning. Nothing is ever
    silently set to zero.

Which NUTS-2 codes belong to a year
    Eurostat files mix NUTS versions (a 2006 code keeps a row of empty cells after its region
    was redrawn), so a NUTS-2 code is a cell of year ``t`` when it publishes anything that year,
    or when it is valid in the NUTS version most of that year's codes are valid in
    (:func:`eocic.nuts.regions`). Extra-regio codes (``..ZZ``) are cells too, as they are part
    of their parents; the pipeline drops them afterwards.

References
    Isserman, A. M. & Westervelt, J. (2006), "1.5 million missing numbers: overcoming employment
    suppression in County Business Patterns data", International Regional Science Review 29(3).
    Eckert, F., Fort, T. C., Schott, P. K. & Yang, N. J. (2020), "Imputing missing values in the
    US Census Bureau's County Business Patterns", NBER Working Paper 26632.
    Bishop, Y. M. M., Fienberg, S. E. & Holland, P. W. (1975), *Discrete Multivariate
    Analysis*, MIT Press.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings

import numpy as np
import pandas as pd

#: Measures in the order they are estimated (employment's prior uses local units; wages' prior
#: uses employment).
MEASURES: tuple[str, ...] = ("local_units", "employment", "wages_eur")

#: Rounding unit of each published measure in the processed unit (wages: 0.1 million EUR).
ROUNDING_UNIT: dict[str, float] = {"employment": 1.0, "local_units": 1.0, "wages_eur": 1e5}

#: What the pipeline does with missing cells: ``estimate`` fills them (flagged), ``exclude``
#: keeps them missing (the estimates are still computed for the report and the totals).
CONFIDENTIAL_MODES: tuple[str, ...] = ("estimate", "exclude")

#: Constraint families, applied in this order in each sweep, coarse to fine: (NUTS level of the
#: aggregate, ``"section"`` or ``"division"``). NUTS-2 divisions are the cells themselves. Where
#: published aggregates contradict each other (they do, by a few persons, in real files), the
#: fitting cannot meet all of them; the last family, the region's own section totals, is met
#: exactly, so regional totals and shares stay those the source publishes.
CONSTRAINT_FAMILIES: tuple[tuple[int, str], ...] = (
    (0, "section"), (0, "division"), (1, "section"), (1, "division"), (2, "section"))

BASES: tuple[str, ...] = (
    "neighbouring year", "local units x national unit size", "employment x national wage",
    "section x national structure", "equal split")

#: Which prior comes first where both exist: ``temporal`` (the neighbouring year) or
#: ``structural`` (local units x unit size, employment x wage). Chosen by the masked-cell
#: validation on the 2014 regional SBS (notebook 01 reruns it).
PRIOR_ORDER: dict[str, str] = {"employment": "temporal", "local_units": "temporal",
                               "wages_eur": "temporal"}
"""Bases of the prior of an estimate (column ``<measure>_basis``)."""

_DIVISION = re.compile(r"^[A-S]\d{2}$")
_SECTION = re.compile(r"^[A-S]$")


class EstimationWarning(UserWarning):
    """Input the estimator had to work around (an inconsistent parent, a region without data):
    the message names the cells and the fallback taken."""


@dataclasses.dataclass
class MeasureEstimate:
    """Estimates of one measure on the NUTS-2 x division x year grid.

    Attributes
    ----------
    value : ndarray (regions, divisions, years)
        Published values, with estimates in the missing cells (NaN outside the grid).
    estimated : ndarray of bool
        True where ``value`` is an estimate.
    lower, upper : ndarray
        Bounds: equal to the value for published cells; for estimates ``0 <= lower <= value
        <= upper``; ``upper`` is NaN when no published aggregate holds the cell.
    basis : ndarray of int8
        Basis of the prior of estimates, as its position in :data:`BASES`; -1 for published
        cells (codes: at NUTS-3 x class scale an array of 11.5 million label objects costs
        seconds to build and to turn into a column).
    sweeps : int
        Sweeps of iterative proportional fitting run.
    constraints : int
        Published aggregates used as constraints (holding at least one missing cell).
    constraints_missed : int
        Of those, how many the estimates miss by more than the rounding tolerance (published
        aggregates that contradict each other).
    max_miss : float
        Largest such miss beyond the rounding tolerance, relative to the residual.
    """

    value: np.ndarray
    estimated: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    basis: np.ndarray
    sweeps: int
    constraints: int
    constraints_missed: int
    max_miss: float


@dataclasses.dataclass
class EstimationResult:
    """Output of :func:`estimate_cells`.

    Attributes
    ----------
    cells : DataFrame
        One row per NUTS-2 region x division x year of the grid: ``geo, nace_r2, year``, then
        per measure ``<m>`` (published or estimated value), ``<m>_estimated`` (bool),
        ``<m>_lower``, ``<m>_upper`` (float bounds), ``<m>_basis`` (str or None).
    totals : DataFrame
        Business-economy totals per region x year (sections B-N without K, plus division S95):
        ``geo, year`` and per measure ``<m>`` = the sum over sections of the published section
        value, or of the section's division cells (published and estimated) where the section
        is not published, and ``<m>_estimated_share`` = the share of ``<m>`` resting on
        estimates (0 when every section is published).
    inconsistencies : DataFrame
        Aggregates dropped as constraints: ``measure, geo, nace_r2, year, published,
        published_children, residual`` (the parent is smaller than its published children).
    diagnostics : DataFrame
        Per measure: ``cells`` (of the grid, all years), ``missing`` (estimated), ``sweeps``,
        ``constraints`` (published aggregates used), ``constraints_missed`` and ``max_miss``
        (see :class:`MeasureEstimate`), and the count of estimates per basis
        (``basis: <basis>``).
    """

    cells: pd.DataFrame
    totals: pd.DataFrame
    inconsistencies: pd.DataFrame
    diagnostics: pd.DataFrame


# --------------------------------------------------------------------------- grid


@dataclasses.dataclass
class _Grid:
    """The hierarchy in dense arrays: NUTS-2 codes x divisions x years, and the aggregates."""

    regions: np.ndarray        # NUTS-2 codes (str), sorted
    divisions: np.ndarray      # division codes, sorted
    years: np.ndarray          # int, sorted
    present: np.ndarray        # bool (regions, years): the code is a cell of that year
    cells: dict[str, np.ndarray]        # measure -> (R, D, Y) published values (NaN missing)
    aggregates: dict[tuple[int, str], "_Family"]
    sections_covered: dict[str, np.ndarray]  # section -> division indices (full sections only)


@dataclasses.dataclass
class _Family:
    """One constraint family: parent index of every region and nace index of every division."""

    parents: np.ndarray        # parent codes (str)
    naces: np.ndarray          # nace codes of the aggregates (division or section codes)
    region_parent: np.ndarray  # (R,) index into parents, -1 if none
    division_nace: np.ndarray  # (D,) index into naces, -1 if the division is in no aggregate
    values: dict[str, np.ndarray]  # measure -> (P, N, Y) published aggregate values


def _full_sections(divisions: np.ndarray) -> dict[str, np.ndarray]:
    """Sections all of whose NACE divisions (``eocic/classifications/nace_r2_divisions.csv``)
    are in ``divisions``: only their totals can be used as constraints."""
    from eocic.classifications.nace import nace_divisions

    listed = nace_divisions()
    present = {code: k for k, code in enumerate(divisions)}
    covered = {}
    for section, part in listed.groupby("section"):
        codes = list(part["division"])
        if codes and all(code in present for code in codes):
            covered[section] = np.array([present[code] for code in codes])
    return covered


def _year_cells(regions: np.ndarray, with_data: np.ndarray, ever: np.ndarray) -> np.ndarray:
    """Which NUTS-2 codes are cells of one year (module docstring).

    ``with_data``: the code publishes something that year; ``ever``: in some year. The year's
    NUTS version is the one in which most codes with data are valid. A code with data that is
    not valid in it (an older or newer vintage) is a cell unless a code of that version
    covering the same territory (:func:`eocic.nuts.counterpart_codes`) publishes data too, in
    which case it is a duplicate and is left out. A code without data is a cell when it is
    valid in the year's version, publishes in some other year, its country publishes NUTS-2
    data that year, and no cell of another vintage covers its territory that year (Leipzig
    DED5 in 2010, when the data are for the old DED1 and DED3).
    """
    from eocic import nuts

    have = {code for code, flag in zip(regions, with_data) if flag}
    if not have:
        return np.zeros(len(regions), dtype=bool)
    best, best_count, best_version = set(), -1, None
    for version in (2021, 2016, 2013, 2010, 2006, 2024):
        valid = set(nuts.regions(version, 2, include_uk=True)["geo"])
        count = len(have & valid)
        if count > best_count:
            best, best_count, best_version = valid, count, version
    countries = {code[:2] for code in have}
    cells = np.zeros(len(regions), dtype=bool)
    covered: set[str] = set()
    for k, code in enumerate(regions):
        if code not in have:
            continue
        if code in best or code.endswith("ZZ"):
            cells[k] = True
            continue
        counterparts = nuts.counterpart_codes(code, best_version)
        cells[k] = not any(other in have for other in counterparts)
        if cells[k]:
            covered |= set(counterparts)
    for k, code in enumerate(regions):
        if code not in have:
            cells[k] = (code in best and ever[k] and code[:2] in countries
                        and code not in covered)
    return cells


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A code column as (position of each row's code, the distinct codes as ``str``): at
    NUTS-3 x class scale (11.5 million rows, a few thousand distinct codes) every pass over the
    rows' strings costs seconds, so codes are matched, classified and looked up once each."""
    positions, distinct = pd.factorize(column, use_na_sentinel=False)
    return positions, np.array([str(code) for code in distinct], dtype=object)


def _used(positions: np.ndarray, n_codes: int) -> np.ndarray:
    """Which of ``n_codes`` distinct codes occur at ``positions`` (counting, not sorting:
    ``np.unique`` sorts millions of rows to find a few thousand codes)."""
    return np.bincount(positions, minlength=n_codes) > 0


def _build_grid(hierarchy: pd.DataFrame, measures: tuple[str, ...]) -> _Grid:
    geo_of_row, geos = _codes(hierarchy["geo"])
    nace_of_row, naces_read = _codes(hierarchy["nace_r2"])
    year_of_row, years_read = pd.factorize(hierarchy["year"], use_na_sentinel=False)
    # each code's NUTS level and kind of NACE code, matched once per distinct code
    geo_level = np.array([len(code) - 2 for code in geos], dtype=np.int64)
    nace_division = np.array([bool(_DIVISION.match(code)) for code in naces_read], dtype=bool)
    nace_section = np.array([bool(_SECTION.match(code)) for code in naces_read], dtype=bool)
    level = geo_level[geo_of_row]
    is_division, is_section = nace_division[nace_of_row], nace_section[nace_of_row]
    kept = np.isin(level, [0, 1, 2]) & (is_division | is_section)
    cell_rows = np.flatnonzero(kept & (level == 2) & is_division)
    nuts2 = kept & (level == 2)
    regions = np.array(sorted(set(geos[_used(geo_of_row[nuts2], len(geos))])), dtype=object)
    divisions = np.array(sorted(set(naces_read[_used(nace_of_row[cell_rows],
                                                     len(naces_read))])), dtype=object)
    years = np.array(sorted(years_read[_used(year_of_row[kept], len(years_read))]),
                     dtype=np.int64)
    region_index = pd.Index(regions)
    year_index = pd.Index(years)
    # the grid position of each distinct code (-1: not a region / division / year of the grid)
    region_of_geo = region_index.get_indexer(geos)
    division_of_nace = pd.Index(divisions).get_indexer(naces_read)
    year_of_read = year_index.get_indexer(years_read)
    shape = (len(regions), len(divisions), len(years))
    # flat grid position of each cell row, from the part each distinct code contributes
    # (cell rows are NUTS-2 x division rows of the grid's years: no -1 among them)
    flat = (region_of_geo[geo_of_row[cell_rows]] * (shape[1] * shape[2])
            + division_of_nace[nace_of_row[cell_rows]] * shape[2]
            + year_of_read[year_of_row[cell_rows]])
    measure_values = {measure: hierarchy[measure].to_numpy(dtype=float)
                      for measure in measures}
    cells = {}
    for measure in measures:
        array = np.full(shape, np.nan)
        array.reshape(-1)[flat] = measure_values[measure][cell_rows]
        cells[measure] = array
    del flat

    # which NUTS-2 codes are cells of each year (_year_cells): one vintage per territory;
    # which distinct geo x year pairs publish something is counted, then put on the grid
    with_data = nuts2 & np.logical_or.reduce(
        [~np.isnan(values) for values in measure_values.values()])
    pair_published = _used((geo_of_row * len(years_read) + year_of_row)[with_data],
                           len(geos) * len(years_read)).reshape(len(geos), len(years_read))
    geo_published, year_published = np.nonzero(pair_published)
    has_data = np.zeros((len(regions), len(years)), dtype=bool)
    has_data[region_of_geo[geo_published], year_of_read[year_published]] = True
    ever = has_data.any(axis=1)
    present = np.column_stack([_year_cells(regions, has_data[:, k], ever)
                               for k in range(len(years))])

    sections_covered = _full_sections(divisions)
    division_section = {divisions[k]: section for section, ks in sections_covered.items()
                        for k in ks}
    aggregates = {}
    for agg_level, kind in CONSTRAINT_FAMILIES:
        if kind == "section":
            naces = np.array(sorted(sections_covered), dtype=object)
            division_nace = np.array([list(naces).index(division_section[code])
                                      if code in division_section else -1
                                      for code in divisions])
            nace_used = nace_section & np.isin(naces_read, naces)
        else:
            naces = divisions
            division_nace = np.arange(len(divisions))
            nace_used = nace_division & (division_of_nace >= 0)
        rows = np.flatnonzero(kept & (level == agg_level) & nace_used[nace_of_row])
        width = agg_level + 2
        parents = np.array(sorted(set(geos[_used(geo_of_row[rows], len(geos))])
                                  | {code[:width] for code in regions}), dtype=object)
        parent_index = pd.Index(parents)
        region_parent = parent_index.get_indexer([code[:width] for code in regions])
        values = {}
        p = parent_index.get_indexer(geos)[geo_of_row[rows]]
        n = pd.Index(naces).get_indexer(naces_read)[nace_of_row[rows]]
        t = year_of_read[year_of_row[rows]]
        for measure in measures:
            array = np.full((len(parents), len(naces), len(years)), np.nan)
            array[p, n, t] = measure_values[measure][rows]
            values[measure] = array
        aggregates[(agg_level, kind)] = _Family(parents, naces, region_parent, division_nace,
                                                values)
    return _Grid(regions, divisions, years, present, cells, aggregates, sections_covered)


# --------------------------------------------------------------------------- constraints


def _family_sum(values: np.ndarray, family: _Family) -> np.ndarray:
    """Sum of grid ``values`` (R, D, Y; NaN = 0) per aggregate of ``family`` (P, N, Y)."""
    n_parents, n_naces = len(family.parents), len(family.naces)
    n_years = values.shape[2]
    usable = (family.region_parent[:, None] >= 0) & (family.division_nace[None, :] >= 0)
    flat = ((family.region_parent[:, None] * n_naces + family.division_nace[None, :])[:, :, None]
            * n_years + np.arange(n_years)[None, None, :])
    mask = np.broadcast_to(usable[:, :, None], values.shape) & ~np.isnan(values)
    total = np.bincount(flat[mask], weights=values[mask],
                        minlength=n_parents * n_naces * n_years)
    return total.reshape(n_parents, n_naces, n_years)


def _family_lookup(array: np.ndarray, family: _Family) -> np.ndarray:
    """Broadcast an aggregate array (P, N, Y) back to the grid (R, D, Y); NaN where a cell has
    no aggregate of this family."""
    n_years = array.shape[2]
    usable = (family.region_parent[:, None] >= 0) & (family.division_nace[None, :] >= 0)
    p = np.where(usable, family.region_parent[:, None], 0)
    n = np.where(usable, family.division_nace[None, :], 0)
    out = array[p, n, :] if array.size else np.full(p.shape + (n_years,), np.nan)
    return np.where(usable[:, :, None], out, np.nan)


@dataclasses.dataclass
class _Constraint:
    family: _Family
    residual: np.ndarray   # (P, N, Y), NaN where no usable constraint
    tolerance: np.ndarray  # (P, N, Y) absolute rounding tolerance


#: A parent region-year is *additive* when at least this share of its fully published
#: aggregates (all member cells published) equal the sum of their cells within rounding; only
#: then are its aggregates used as constraints.
COHERENCE_SHARE = 0.9


def _constraints(grid: _Grid, measure: str, published: np.ndarray, missing: np.ndarray,
                 inconsistencies: list[dict], incoherent: list[dict]) -> list[_Constraint]:
    """Residuals of the published aggregates: rounding handled, inconsistent aggregates and
    non-additive parents dropped.

    A parent region-year whose fully published aggregates do not add up to their NUTS-2 cells
    (fewer than :data:`COHERENCE_SHARE` within rounding, judged on at least three; e.g. the
    national rows of a country that holds employment not allocated to any region) is not used
    at all: its residuals would push unallocated employment into the missing cells. Such
    parents are listed in ``incoherent``.
    """
    unit = ROUNDING_UNIT.get(measure, 1.0)
    pieces = {}
    checked: dict[tuple[int, str, int], int] = {}
    matching: dict[tuple[int, str, int], int] = {}
    for key in CONSTRAINT_FAMILIES:
        family = grid.aggregates[key]
        parent = family.values[measure]
        published_sum = _family_sum(published, family)
        n_published = _family_sum((~np.isnan(published)).astype(float), family)
        n_missing = _family_sum(missing.astype(float), family)
        tolerance = 0.5 * unit * (n_published + 1.0)
        residual = parent - published_sum
        complete = (n_missing == 0) & ~np.isnan(parent) & (n_published > 0)
        adding_up = complete & (np.abs(residual) <= tolerance)
        for p, t in zip(*np.nonzero(complete.any(axis=1))):
            cell = (key[0], family.parents[p], t)
            checked[cell] = checked.get(cell, 0) + int(complete[p, :, t].sum())
            matching[cell] = matching.get(cell, 0) + int(adding_up[p, :, t].sum())
        pieces[key] = (family, parent, published_sum, n_missing, tolerance, residual)
    not_additive = {cell for cell, count in checked.items()
                    if count >= 3 and matching[cell] < COHERENCE_SHARE * count}
    for level, code, t in sorted(not_additive):
        incoherent.append({"measure": measure, "geo": code, "level": level,
                           "year": int(grid.years[t]), "checked": checked[(level, code, t)],
                           "adding_up": matching[(level, code, t)]})
    constraints = []
    for key, (family, parent, published_sum, n_missing, tolerance, residual) in pieces.items():
        drop = np.zeros(residual.shape, dtype=bool)
        for level, code, t in not_additive:
            if level == key[0] and code in family.parents:
                drop[list(family.parents).index(code), :, t] = True
        residual = np.where(drop, np.nan, residual)
        inconsistent = (residual < -tolerance) & (n_missing > 0)
        for p, n, t in zip(*np.nonzero(inconsistent)):
            inconsistencies.append({
                "measure": measure, "geo": family.parents[p], "nace_r2": family.naces[n],
                "year": int(grid.years[t]), "published": float(parent[p, n, t]),
                "published_children": float(published_sum[p, n, t]),
                "residual": float(residual[p, n, t])})
        residual = np.where(inconsistent | (n_missing == 0), np.nan, np.maximum(residual, 0.0))
        constraints.append(_Constraint(family, residual, tolerance))
    return constraints


# --------------------------------------------------------------------------- priors


def _nearest_year_prior(values: np.ndarray, national: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbouring-year prior ``x_rd,t' * X_cd,t / X_cd,t'`` (module docstring) for every grid
    cell (NaN where the cell is never published); returns (prior, available).

    ``t'`` is the nearest other year in which the cell is published, the earlier on a tie; the
    growth factor is 1 where the national ratio is not a positive number. The nearest
    published year before and after each year are running maxima and minima along the years
    (one pass each, instead of one pass per distance and direction)."""
    n_years = values.shape[2]
    years = np.arange(n_years, dtype=np.int16)
    published = ~np.isnan(values)
    # the last published year up to t, then shifted: the last one before t (-1: none)
    last = np.maximum.accumulate(np.where(published, years, np.int16(-1)), axis=2)
    before = np.full(values.shape, -1, dtype=np.int16)
    before[:, :, 1:] = last[:, :, :-1]
    del last
    # the first published year from t on, then shifted: the first one after t (n_years: none)
    first = np.minimum.accumulate(np.where(published, years, np.int16(n_years))[:, :, ::-1],
                                  axis=2)[:, :, ::-1]
    after = np.full(values.shape, n_years, dtype=np.int16)
    after[:, :, :-1] = first[:, :, 1:]
    del first, published
    has_before, has_after = before >= 0, after < n_years
    take_before = has_before & (~has_after | (years - before <= after - years))
    source_year = np.where(take_before, before, np.where(has_after, after, 0)).astype(np.intp)
    del before, after
    available = has_before | has_after
    source = np.take_along_axis(values, source_year, axis=2)
    source_national = np.take_along_axis(national, source_year, axis=2)
    del source_year
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = national / source_national
    growth = np.where(np.isfinite(growth) & (growth > 0), growth, 1.0)
    prior = np.where(available, source * growth, np.nan)
    return prior, ~np.isnan(prior)


def _national(grid: _Grid, measure: str, kind: str = "division") -> np.ndarray:
    """The national (NUTS-0) value of each grid cell's division (or section): (R, D, Y)."""
    return _family_lookup(grid.aggregates[(0, kind)].values[measure],
                          grid.aggregates[(0, kind)])


def _ratio_prior(base: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    ratio = np.where(np.isfinite(ratio) & (denominator > 0), ratio, np.nan)
    return base * ratio


def _unit_size(grid: _Grid, employment: str = "employment",
               units: str = "local_units") -> np.ndarray:
    """Persons employed per local unit of the cell's division: national, else NUTS-1, else the
    EU median over published NUTS-2 cells (persons per unit)."""
    size = np.full(grid.cells[employment].shape, np.nan)
    for level in (0, 1):
        family = grid.aggregates[(level, "division")]
        ratio = _ratio_prior(1.0, _family_lookup(family.values[employment], family),
                             _family_lookup(family.values[units], family))
        size = np.where(np.isnan(size), ratio, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_ratio = grid.cells[employment] / grid.cells[units]
    cell_ratio = np.where(np.isfinite(cell_ratio) & (grid.cells[units] > 0), cell_ratio, np.nan)
    eu = np.nanmedian(np.where(np.isnan(cell_ratio), np.nan, cell_ratio).transpose(1, 0, 2)
                      .reshape(cell_ratio.shape[1], -1), axis=1) if np.isfinite(
        cell_ratio).any() else np.full(cell_ratio.shape[1], np.nan)
    return np.where(np.isnan(size), eu[None, :, None], size)


def _priors(grid: _Grid, measure: str, filled: dict[str, np.ndarray]) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Prior of every grid cell for ``measure`` and its basis (module docstring)."""
    values = grid.cells[measure]
    shape = values.shape
    prior = np.full(shape, np.nan)
    basis = np.full(shape, -1, dtype=np.int8)
    national = _national(grid, measure)
    temporal, has_temporal = _nearest_year_prior(values, national)

    structural = np.full(shape, np.nan)
    if measure == "employment" and "local_units" in filled:
        structural = filled["local_units"] * _unit_size(grid)
        structural_basis = "local units x national unit size"
    elif measure == "wages_eur" and "employment" in filled:
        structural = _ratio_prior(filled["employment"], national, _national(grid, "employment"))
        structural_basis = "employment x national wage"
    else:
        structural_basis = ""
    has_structural = np.isfinite(structural) & (structural >= 0)

    order = ([(temporal, has_temporal, "neighbouring year"),
              (structural, has_structural, structural_basis)]
             if PRIOR_ORDER.get(measure, "temporal") == "temporal" else
             [(structural, has_structural, structural_basis),
              (temporal, has_temporal, "neighbouring year")])
    for candidate, available, label in order:
        take = available & np.isnan(prior)
        prior[take] = candidate[take]
        if take.any():
            basis[take] = BASES.index(label)

    # section share: the region's published section x the division's national share
    section_family = grid.aggregates[(2, "section")]
    region_section = _family_lookup(section_family.values[measure], section_family)
    sectoral = _ratio_prior(region_section, national, _national(grid, measure, "section"))
    take = np.isnan(prior) & np.isfinite(sectoral)
    prior[take] = sectoral[take]
    basis[take] = BASES.index("section x national structure")
    take = np.isnan(prior)
    prior[take] = 1.0
    basis[take] = BASES.index("equal split")
    # a zero prior could never take any of a residual (the fitting is multiplicative); a
    # confidential cell is confidential because it holds a few units, so it is positive
    return np.maximum(prior, 0.5 * ROUNDING_UNIT.get(measure, 1.0)), basis


# --------------------------------------------------------------------------- estimation


def _aggregate_ids(family: _Family, shape: tuple[int, int, int]) -> np.ndarray:
    """Flat index of each grid cell's aggregate in ``family`` (P * N * Y array), -1 if none."""
    n_naces, n_years = len(family.naces), shape[2]
    usable = (family.region_parent[:, None] >= 0) & (family.division_nace[None, :] >= 0)
    flat = ((family.region_parent[:, None] * n_naces + family.division_nace[None, :])[:, :, None]
            * n_years + np.arange(n_years)[None, None, :])
    return np.where(usable[:, :, None], flat, -1)


@dataclasses.dataclass
class _Membership:
    """The missing cells' aggregates in one family (flat arrays over the missing cells)."""

    aggregate: np.ndarray   # aggregate id of each missing cell (valid ones only)
    cells: np.ndarray       # positions (into the missing-cell vector) of those cells
    residual: np.ndarray    # residual per aggregate id (flat)
    tolerance: np.ndarray   # absolute tolerance per aggregate id (flat)
    size: int


def _memberships(missing_flat: np.ndarray, shape: tuple[int, int, int],
                 constraints: list[_Constraint]) -> list[_Membership]:
    memberships = []
    for constraint in constraints:
        ids = _aggregate_ids(constraint.family, shape).reshape(-1)[missing_flat]
        residual = constraint.residual.reshape(-1)
        valid = ids >= 0
        valid[valid] = ~np.isnan(residual[ids[valid]])
        memberships.append(_Membership(ids[valid], np.flatnonzero(valid), residual,
                                       constraint.tolerance.reshape(-1), residual.size))
    return memberships


def _gaps(x: np.ndarray, memberships: list[_Membership]) -> tuple[int, int, float]:
    """Constraints used, constraints missed beyond rounding, and the largest miss beyond
    rounding relative to the residual (0 when every constraint is met)."""
    used_total, missed, worst = 0, 0, 0.0
    for membership in memberships:
        if not len(membership.cells):
            continue
        current = np.bincount(membership.aggregate, weights=x[membership.cells],
                              minlength=membership.size)
        used = np.unique(membership.aggregate)
        excess = (np.abs(current[used] - membership.residual[used])
                  - membership.tolerance[used])
        relative = excess / np.maximum(membership.residual[used], 1.0)
        used_total += len(used)
        missed += int((excess > 0).sum())
        worst = max(worst, float(relative.max()))
    return used_total, missed, max(worst, 0.0)


#: Missing cells from which the fitting runs blocks of years side by side in threads (one per
#: core, at most one per year). Below it a thread costs more than it saves; the demo economy
#: (about 0.1 million missing cells) and the real regional SBS stay under it. The scale
#: benchmark (bench/scale_mapping.py, 2.9 million missing cells): about half the fitting's time
#: on 2 cores.
PARALLEL_FIT_CELLS = 1_000_000


def _year_blocks(years: np.ndarray, n_years: int, workers: int) -> list[np.ndarray]:
    """Positions of the missing cells (``years``: year index of each) in ``workers`` blocks of
    consecutive years with about equal numbers of cells (blocks without cells left out): a
    year goes to the block its middle cell falls in, counting the cells in year order."""
    counts = np.bincount(years, minlength=n_years)
    middle = np.cumsum(counts) - counts / 2
    block_of_year = np.minimum((middle * workers // max(counts.sum(), 1)).astype(np.int64),
                               workers - 1)
    block = block_of_year[years]
    return [positions for positions in (np.flatnonzero(block == number)
                                        for number in range(workers)) if len(positions)]


def _restrict(memberships: list[_Membership], positions: np.ndarray,
              n_missing: int) -> list[_Membership]:
    """The memberships of the missing cells at ``positions`` (sorted), renumbered 0..K-1 in
    that order. Each aggregate's cells keep their order, so its sums are the same numbers."""
    renumbered = np.full(n_missing, -1, dtype=np.int64)
    renumbered[positions] = np.arange(len(positions))
    restricted = []
    for membership in memberships:
        cells = renumbered[membership.cells]
        kept = cells >= 0
        restricted.append(_Membership(membership.aggregate[kept], cells[kept],
                                      membership.residual, membership.tolerance,
                                      membership.size))
    return restricted


def _fit(prior: np.ndarray, memberships: list[_Membership], *, tolerance: float,
         max_sweeps: int, blocks: list[np.ndarray] | None = None) -> tuple[np.ndarray, int]:
    """Iterative proportional fitting of the missing cells (vector ``prior``) to the residuals,
    family after family, until no estimate changes by more than ``tolerance`` (relative) in a
    sweep or ``max_sweeps``.

    ``blocks``: positions of missing cells no aggregate shares with another block (blocks of
    years): each is fitted on its own, in a thread of its own, until its own cells converge
    (module docstring). Returns the estimates and the largest number of sweeps."""
    if blocks is None or len(blocks) < 2:
        return _fit_block(prior, memberships, tolerance=tolerance, max_sweeps=max_sweeps)
    from concurrent.futures import ThreadPoolExecutor

    def fit_block(positions: np.ndarray) -> tuple[np.ndarray, int]:
        return _fit_block(prior[positions], _restrict(memberships, positions, len(prior)),
                          tolerance=tolerance, max_sweeps=max_sweeps)

    x = np.empty(len(prior), dtype=float)
    sweeps = 0
    with ThreadPoolExecutor(max_workers=len(blocks),
                            thread_name_prefix="eocic-fit") as pool:
        for positions, (fitted, block_sweeps) in zip(blocks, pool.map(fit_block, blocks)):
            x[positions] = fitted
            sweeps = max(sweeps, block_sweeps)
    return x, sweeps


def _fit_block(prior: np.ndarray, memberships: list[_Membership], *, tolerance: float,
               max_sweeps: int) -> tuple[np.ndarray, int]:
    """:func:`_fit` of one block (or of every missing cell); the steps of a sweep are compiled
    (:mod:`eocic.proportional_fitting`)."""
    from eocic.proportional_fitting import largest_change, scale_to_residuals

    x = prior.astype(float).copy()
    # Per family, what does not change between sweeps is computed once: the aggregates used,
    # renumbered 0..K-1 (sums into K bins instead of P x N x Y, in the same order, so the sums
    # are the same numbers), each missing cell's residual and the equal split of its aggregate.
    # The cells' positions and aggregates are int32 when they fit: the sweeps stream them
    # from memory 2,500 times at the scale benchmark's size.
    index_type = np.int32 if len(x) < np.iinfo(np.int32).max else np.int64
    steps = []
    for membership in memberships:
        if not len(membership.cells):
            continue
        used, compact = np.unique(membership.aggregate, return_inverse=True)
        count = np.bincount(compact, minlength=len(used))
        residual = membership.residual[used]
        with np.errstate(divide="ignore", invalid="ignore"):
            equal_split = residual / count
        steps.append((membership.cells.astype(index_type), compact.astype(index_type),
                      residual, equal_split, np.empty(len(used))))
    previous = x.copy()
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):
        for cells, compact, residual, equal_split, total in steps:
            scale_to_residuals(x, cells, compact, residual, equal_split, total)
        if not len(x):
            break
        if largest_change(x, previous) <= tolerance:
            break
    return x, sweeps


def _bounds(n_missing: int, memberships: list[_Membership]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the missing cells: ``upper = min_a (R_a + e_a)``; ``lower = max(0, max_a (R_a
    - e_a - sum_{other missing v in a} upper_v))``, with ``e_a`` the rounding tolerance of the
    aggregate; ``upper`` NaN when no constraint holds the cell (and then ``lower`` 0)."""
    upper = np.full(n_missing, np.inf)
    for m in memberships:
        upper[m.cells] = np.minimum(upper[m.cells],
                                    m.residual[m.aggregate] + m.tolerance[m.aggregate])
    lower = np.zeros(n_missing)
    for m in memberships:
        if not len(m.cells):
            continue
        finite = np.isfinite(upper[m.cells])
        upper_sum = np.bincount(m.aggregate, weights=np.where(finite, upper[m.cells], 0.0),
                                minlength=m.size)
        unbounded = np.bincount(m.aggregate, weights=(~finite).astype(float), minlength=m.size)
        others = upper_sum[m.aggregate] - np.where(finite, upper[m.cells], 0.0)
        candidate = m.residual[m.aggregate] - m.tolerance[m.aggregate] - others
        valid = unbounded[m.aggregate] == 0
        lower[m.cells] = np.where(valid, np.maximum(lower[m.cells], candidate), lower[m.cells])
    upper = np.where(np.isinf(upper), np.nan, upper)
    lower = np.where(np.isnan(upper), 0.0, np.minimum(lower, upper))
    return np.maximum(lower, 0.0), upper


def estimate_measure(grid: _Grid, measure: str, filled: dict[str, np.ndarray], *,
                     tolerance: float = 1e-6, max_sweeps: int = 500,
                     inconsistencies: list[dict] | None = None,
                     incoherent: list[dict] | None = None) -> MeasureEstimate:
    """Estimate the missing cells of one measure (see the module docstring)."""
    inconsistencies = [] if inconsistencies is None else inconsistencies
    incoherent = [] if incoherent is None else incoherent
    values = grid.cells[measure]
    missing = np.isnan(values) & grid.present[:, None, :]
    published = np.where(grid.present[:, None, :], values, np.nan)
    constraints = _constraints(grid, measure, published, missing, inconsistencies, incoherent)
    prior, basis = _priors(grid, measure, filled)
    missing_flat = np.flatnonzero(missing)
    memberships = _memberships(missing_flat, missing.shape, constraints)
    workers = min(os.cpu_count() or 1, missing.shape[2])
    blocks = (_year_blocks(missing_flat % missing.shape[2], missing.shape[2], workers)
              if len(missing_flat) >= PARALLEL_FIT_CELLS and workers > 1 else None)
    fitted, sweeps = _fit(prior.reshape(-1)[missing_flat], memberships, tolerance=tolerance,
                          max_sweeps=max_sweeps, blocks=blocks)
    used, missed, worst = _gaps(fitted, memberships)
    lower_missing, upper_missing = _bounds(len(missing_flat), memberships)
    value, lower, upper = published.copy(), published.copy(), published.copy()
    for array, values_missing in ((value, fitted), (lower, lower_missing),
                                  (upper, upper_missing)):
        array.reshape(-1)[missing_flat] = values_missing
    basis = np.where(missing, basis, np.int8(-1))
    return MeasureEstimate(value, missing, lower, upper, basis, sweeps, used, missed, worst)


def _section_totals(grid: _Grid, measure: str, estimate: MeasureEstimate) -> tuple[np.ndarray,
                                                                                     np.ndarray]:
    """Business-economy total per region x year: published sections, else the sum of the
    section's division cells; and the part of it that rests on estimates."""
    n_regions, _, n_years = estimate.value.shape
    total = np.zeros((n_regions, n_years))
    estimated_part = np.zeros((n_regions, n_years))
    family = grid.aggregates[(2, "section")]
    published_sections = family.values[measure]
    in_section = np.zeros(len(grid.divisions), dtype=bool)
    for section, divisions in grid.sections_covered.items():
        in_section[divisions] = True
        n = list(family.naces).index(section)
        rows = np.where(family.region_parent >= 0, family.region_parent, 0)
        published = np.where(family.region_parent[:, None] >= 0,
                             published_sections[rows, n, :], np.nan)
        parts = np.nansum(estimate.value[:, divisions, :], axis=1)
        parts_estimated = np.nansum(np.where(estimate.estimated[:, divisions, :],
                                             estimate.value[:, divisions, :], 0.0), axis=1)
        total += np.where(np.isnan(published), parts, published)
        estimated_part += np.where(np.isnan(published), parts_estimated, 0.0)
    outside = ~in_section
    total += np.nansum(estimate.value[:, outside, :], axis=1)
    estimated_part += np.nansum(np.where(estimate.estimated[:, outside, :],
                                         estimate.value[:, outside, :], 0.0), axis=1)
    return total, estimated_part


def estimate_cells(hierarchy: pd.DataFrame, measures: tuple[str, ...] = MEASURES, *,
                   tolerance: float = 1e-6, max_sweeps: int = 500) -> EstimationResult:
    """Estimate every missing NUTS-2 x division cell of the regional SBS.

    Parameters
    ----------
    hierarchy : DataFrame
        The SBS at every level the source publishes: ``geo`` (NUTS-0, -1 and -2 codes),
        ``nace_r2`` (NACE sections and divisions; other codes are ignored), ``year`` (int) and
        one float column per measure (persons employed, local units, wages in EUR; NaN when
        confidential or not available). One row per geo x nace_r2 x year.
    measures : tuple of str
        Measure columns to estimate, in order (:data:`MEASURES`: employment's prior uses the
        estimated local units, wages' prior the estimated employment).
    tolerance : float
        Iterative proportional fitting stops when no estimate changes by more than this
        (relative) in a sweep.
    max_sweeps : int
        Largest number of sweeps.

    Returns
    -------
    EstimationResult

    Warns
    -----
    EstimationWarning
        When a parent is smaller than the sum of its published children (the constraint is
        dropped), when a region-year has no published cell at all, or when the fitting does not
        converge (constraints that contradict each other).
    """
    _check_hierarchy(hierarchy, measures)
    grid = _build_grid(hierarchy, measures)
    inconsistencies: list[dict] = []
    filled: dict[str, np.ndarray] = {}
    estimates: dict[str, MeasureEstimate] = {}
    diagnostics = []
    for measure in measures:
        before = len(inconsistencies)
        estimate = estimate_measure(grid, measure, filled, tolerance=tolerance,
                                    max_sweeps=max_sweeps, inconsistencies=inconsistencies)
        estimates[measure] = estimate
        filled[measure] = estimate.value
        dropped = inconsistencies[before:]
        if dropped:
            examples = "; ".join(f"{row['geo']} {row['nace_r2']} {row['year']}: published "
                                 f"{row['published']:,.0f} < children {row['published_children']:,.0f}"
                                 for row in dropped[:5])
            warnings.warn(EstimationWarning(
                f"{measure}: {len(dropped)} published aggregate(s) smaller than the sum of their "
                f"published children, e.g. {examples}; these aggregates are not used as "
                "constraints (the estimates rest on the other constraints and the priors)"),
                stacklevel=2)
        if estimate.constraints_missed > 0.01 * max(estimate.constraints, 1):
            warnings.warn(EstimationWarning(
                f"{measure}: {estimate.constraints_missed} of {estimate.constraints} published "
                "aggregates are missed by more than their rounding (largest miss "
                f"{estimate.max_miss:.1%} of the residual): they contradict other published "
                "aggregates; the regions' own section totals are met exactly"), stacklevel=2)
        basis_counts = np.bincount(estimate.basis[estimate.estimated], minlength=len(BASES))
        diagnostics.append({
            "measure": measure, "cells": int(grid.present.sum() * len(grid.divisions)),
            "missing": int(estimate.estimated.sum()), "sweeps": estimate.sweeps,
            "constraints": estimate.constraints,
            "constraints_missed": estimate.constraints_missed, "max_miss": estimate.max_miss,
            **{f"basis: {label}": int(count) for label, count in zip(BASES, basis_counts)}})
    _warn_empty_regions(grid, measures)
    return EstimationResult(
        cells=_cells_frame(grid, estimates), totals=_totals_frame(grid, estimates),
        inconsistencies=pd.DataFrame.from_records(
            inconsistencies, columns=["measure", "geo", "nace_r2", "year", "published",
                                      "published_children", "residual"]),
        diagnostics=pd.DataFrame.from_records(diagnostics))


def _check_hierarchy(hierarchy: pd.DataFrame, measures: tuple[str, ...]) -> None:
    missing = [c for c in ("geo", "nace_r2", "year", *measures) if c not in hierarchy.columns]
    if missing:
        raise ValueError(f"SBS hierarchy: columns {missing} missing; expected geo, nace_r2, "
                         f"year and the measures {list(measures)}")
    repeated = hierarchy.duplicated(["geo", "nace_r2", "year"])
    if repeated.any():
        row = hierarchy.loc[repeated, ["geo", "nace_r2", "year"]].iloc[0].to_dict()
        raise ValueError(f"SBS hierarchy: the key {row} repeats; give one row per geo x nace_r2 "
                         "x year")
    for measure in measures:
        negative = hierarchy[measure] < 0
        if negative.any():
            row = hierarchy.loc[negative, ["geo", "nace_r2", "year", measure]].iloc[0].to_dict()
            raise ValueError(f"SBS hierarchy: negative {measure}, e.g. {row}; set impossible "
                             "values to missing first (eocic.pipeline.reject_negative)")


def _warn_empty_regions(grid: _Grid, measures: tuple[str, ...]) -> None:
    """Warn about region-years of the grid without any published division cell."""
    published = np.zeros(grid.present.shape, dtype=bool)
    for measure in measures:
        published |= (~np.isnan(grid.cells[measure])).any(axis=1)
    empty = grid.present & ~published
    if empty.any():
        listed = [f"{grid.regions[r]} {grid.years[t]}" for r, t in zip(*np.nonzero(empty))]
        warnings.warn(EstimationWarning(
            f"{len(listed)} region-year(s) publish no division cell at all, e.g. "
            f"{', '.join(listed[:6])}: their cells are estimated from the NUTS-1 and national "
            "rows and the neighbouring years only (see the basis and bounds columns)"),
            stacklevel=3)


def _codes_column(codes: np.ndarray, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``codes[positions]`` as a pandas string column: the few codes converted once, then
    taken (the same column as ``DataFrame({...: codes[positions].astype(str)})`` builds, in a
    fraction of the time: 3 s per column of 11.5 million rows in the scale benchmark)."""
    return pd.Series(codes.astype(str)).array.take(positions)


def _basis_column(codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Basis codes (positions in :data:`BASES`, -1: none) as a pandas ``string`` column of
    the labels, NA where there is none: the five labels converted once, then taken."""
    return pd.array(np.array(BASES, dtype=object), dtype="string").take(
        codes.astype(np.intp), allow_fill=True)


def _cells_frame(grid: _Grid, estimates: dict[str, MeasureEstimate]) -> pd.DataFrame:
    """One row per cell, ordered by geo, nace_r2 and year: the order of ``np.nonzero`` (and of
    a boolean mask) over the grid, whose regions, divisions and years are sorted (no sort
    needed). Values are taken with the boolean mask of the cells, or as the whole grid when
    every region-year is a cell: at NUTS-3 x class scale, indexing 17 arrays of 11.5 million
    values with three index arrays took seconds."""
    shape = (len(grid.regions), len(grid.divisions), len(grid.years))
    cell = np.broadcast_to(grid.present[:, None, :], shape)
    r, d, y = np.nonzero(cell)
    if grid.present.all():
        def at_cells(array: np.ndarray) -> np.ndarray:
            return array.reshape(-1)
    else:
        def at_cells(array: np.ndarray) -> np.ndarray:
            return array[cell]
    frame = pd.DataFrame({"geo": _codes_column(grid.regions, r),
                          "nace_r2": _codes_column(grid.divisions, d),
                          "year": grid.years[y].astype("int64")})
    del r, d, y
    for measure, estimate in estimates.items():
        frame[measure] = at_cells(estimate.value).astype("float64")
        frame[f"{measure}_estimated"] = at_cells(estimate.estimated).astype(bool)
        frame[f"{measure}_lower"] = at_cells(estimate.lower).astype("float64")
        frame[f"{measure}_upper"] = at_cells(estimate.upper).astype("float64")
        frame[f"{measure}_basis"] = _basis_column(at_cells(estimate.basis))
    return frame


def _totals_frame(grid: _Grid, estimates: dict[str, MeasureEstimate]) -> pd.DataFrame:
    r, y = np.nonzero(grid.present)
    frame = pd.DataFrame({"geo": _codes_column(grid.regions, r),
                          "year": grid.years[y].astype("int64")})
    for measure, estimate in estimates.items():
        total, estimated_part = _section_totals(grid, measure, estimate)
        frame[measure] = total[r, y]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total[r, y] > 0, estimated_part[r, y] / total[r, y], 0.0)
        frame[f"{measure}_estimated_share"] = share
    return frame.sort_values(["geo", "year"], ignore_index=True)


# --------------------------------------------------------------------------- validation


@dataclasses.dataclass
class ValidationResult:
    """Output of :func:`validate_by_masking`.

    Attributes
    ----------
    cells : DataFrame
        One row per masked cell: ``geo, nace_r2, year, true_value, estimate, lower, upper,
        basis, size_decile`` (1 = smallest tenth of published cells), ``abs_pct_error``
        (``100 |estimate - true| / true``; NaN when the true value is 0), ``within_bounds``
        (``lower - r <= true <= upper + r`` with ``r`` the rounding unit; False when the cell
        has no upper bound), ``bounded`` (an upper bound exists), ``sole_unknown`` (some
        published aggregate holds no other missing cell, so the constraint alone determines it).
    summary : DataFrame
        One row per group (``all``, each size decile, ``sole unknown`` / ``shared``):
        ``cells``, ``median_abs_pct_error``, ``p90_abs_pct_error``, ``within_bounds``
        (share), ``bounded`` (share).
    measure : str
    share : float
        Share of published cells masked.
    seed : int
    """

    cells: pd.DataFrame
    summary: pd.DataFrame
    measure: str
    share: float
    seed: int


def masked_cells(hierarchy: pd.DataFrame, measure: str, *, share: float = 0.1,
                 seed: int = 20260101, years: list[int] | None = None,
                 strata: int = 10) -> pd.DataFrame:
    """A random, size-stratified sample of published NUTS-2 x division cells of ``measure``.

    The published cells (of ``years``, default all) are cut into ``strata`` quantile groups of
    their value and ``share`` of each group is drawn without replacement
    (``numpy.random.default_rng(seed)``; at least one cell per group). Returns ``geo,
    nace_r2, year, true_value, size_decile``.
    """
    if not 0 < share < 1:
        raise ValueError(f"share={share}: give the masked share of published cells in (0, 1)")
    geo = hierarchy["geo"].astype(str)
    nace = hierarchy["nace_r2"].astype(str)
    candidates = hierarchy[(geo.str.len() == 4) & nace.str.match(_DIVISION)
                           & hierarchy[measure].notna() & ~geo.str.endswith("ZZ")]
    if years is not None:
        candidates = candidates[candidates["year"].isin(years)]
    if candidates.empty:
        raise ValueError(f"no published NUTS-2 x division cell of {measure} to mask")
    candidates = candidates.sort_values(["geo", "nace_r2", "year"], ignore_index=True)
    rank = candidates[measure].rank(method="first")
    decile = np.ceil(rank / len(candidates) * strata).astype(int).clip(1, strata)
    rng = np.random.default_rng(seed)
    chosen = []
    for group in range(1, strata + 1):
        rows = np.flatnonzero(decile.to_numpy() == group)
        if len(rows):
            size = max(1, int(round(share * len(rows))))
            chosen.append(np.sort(rng.choice(rows, size=size, replace=False)))
    picked = np.concatenate(chosen)
    return pd.DataFrame({"geo": candidates["geo"].astype(str).to_numpy()[picked],
                         "nace_r2": candidates["nace_r2"].astype(str).to_numpy()[picked],
                         "year": candidates["year"].to_numpy()[picked].astype("int64"),
                         "true_value": candidates[measure].to_numpy()[picked].astype(float),
                         "size_decile": decile.to_numpy()[picked].astype("int64")})


def secondary_suppression(hierarchy: pd.DataFrame, measure: str, *,
                          max_rounds: int = 20) -> pd.DataFrame:
    """Mask further cells as Eurostat's secondary confidentiality does, so that no published
    aggregate reveals a single missing NUTS-2 x division cell.

    Repeatedly, for every published aggregate (of :data:`CONSTRAINT_FAMILIES`) holding exactly
    one missing cell, the smallest published cell it holds is masked too. Returns the cells
    masked (``geo, nace_r2, year, true_value``).
    """
    grid = _build_grid(hierarchy, (measure,))
    values = np.where(grid.present[:, None, :], grid.cells[measure], np.nan)
    original = values.copy()
    for _ in range(max_rounds):
        changed = False
        for key in CONSTRAINT_FAMILIES:
            family = grid.aggregates[key]
            missing = np.isnan(values) & grid.present[:, None, :]
            count = _family_sum(missing.astype(float), family)
            revealing = (count == 1) & ~np.isnan(family.values[measure])
            if not revealing.any():
                continue
            ids = _aggregate_ids(family, values.shape).reshape(-1)
            flat_revealing = revealing.reshape(-1)
            published = ~np.isnan(values.reshape(-1)) & (ids >= 0)
            candidates = np.flatnonzero(published)
            candidates = candidates[flat_revealing[ids[candidates]]]
            if not len(candidates):
                continue
            order = np.lexsort((candidates, values.reshape(-1)[candidates], ids[candidates]))
            ordered = candidates[order]
            first = np.r_[True, ids[ordered][1:] != ids[ordered][:-1]]
            values.reshape(-1)[ordered[first]] = np.nan
            changed = True
        if not changed:
            break
    r, d, y = np.nonzero(np.isnan(values) & ~np.isnan(original))
    return pd.DataFrame({"geo": grid.regions[r].astype(str), "nace_r2": grid.divisions[d].astype(str),
                         "year": grid.years[y].astype("int64"),
                         "true_value": original[r, d, y]})


def validate_by_masking(hierarchy: pd.DataFrame, measure: str = "employment", *,
                        share: float = 0.1, seed: int = 20260101,
                        years: list[int] | None = None,
                        secondary: bool = True) -> ValidationResult:
    """Hide a random, size-stratified ``share`` of the published cells, estimate them with
    :func:`estimate_cells` and compare with the published (true) values.

    The masked cells lose only ``measure`` (a real confidential cell usually keeps its local
    units: 99 % of the missing employment cells of the 2014 regional SBS do); the aggregates
    keep them, as Eurostat's do. With ``secondary`` (default), further cells are masked as
    Eurostat's secondary confidentiality would (:func:`secondary_suppression`), so that no
    published aggregate gives a masked cell away by subtraction, and those are evaluated too
    (column ``suppression``: ``primary`` or ``secondary``); without it, many masked cells are
    the only unknown of an aggregate and are determined exactly (``sole_unknown``).
    """
    masked = masked_cells(hierarchy, measure, share=share, seed=seed, years=years)
    masked["suppression"] = "primary"
    key = ["geo", "nace_r2", "year"]
    frame = hierarchy.copy()
    frame_key = pd.MultiIndex.from_frame(frame[key].astype({"geo": str, "nace_r2": str}))
    frame.loc[frame_key.isin(pd.MultiIndex.from_frame(masked[key])), measure] = np.nan
    if secondary:
        extra = secondary_suppression(frame, measure)
        if years is not None:
            extra = extra[extra["year"].isin(years)]
        extra = extra[~extra["geo"].str.endswith("ZZ")]
        frame.loc[frame_key.isin(pd.MultiIndex.from_frame(extra[key])), measure] = np.nan
        ranks = hierarchy.loc[hierarchy[measure].notna() & (hierarchy["geo"].astype(str).str.len() == 4)
                              & hierarchy["nace_r2"].astype(str).str.match(_DIVISION), measure]
        edges = np.quantile(ranks, np.linspace(0, 1, 11)[1:-1]) if len(ranks) else []
        extra = extra.assign(size_decile=(np.searchsorted(edges, extra["true_value"],
                                                           side="right") + 1).astype("int64"),
                             suppression="secondary")
        masked = pd.concat([masked, extra], ignore_index=True)
    measures = MEASURES[:MEASURES.index(measure) + 1] if measure in MEASURES else (measure,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        result = estimate_cells(frame, measures)
    cells = masked.merge(result.cells[key + [measure, f"{measure}_lower", f"{measure}_upper",
                                             f"{measure}_basis"]], on=key, how="left")
    cells = cells.rename(columns={measure: "estimate", f"{measure}_lower": "lower",
                                  f"{measure}_upper": "upper", f"{measure}_basis": "basis"})
    unit = ROUNDING_UNIT.get(measure, 1.0)
    truth = cells["true_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cells["abs_pct_error"] = np.where(truth > 0, 100 * (cells["estimate"] - truth).abs()
                                          / truth, np.nan)
    cells["bounded"] = cells["upper"].notna()
    cells["within_bounds"] = (cells["bounded"] & (truth >= cells["lower"] - unit)
                              & (truth <= cells["upper"] + unit))
    cells["sole_unknown"] = cells["lower"].sub(cells["upper"]).abs() <= 2 * unit
    groups = [("all", cells), ("primary", cells[cells["suppression"] == "primary"]),
              ("secondary", cells[cells["suppression"] == "secondary"])]
    groups += [(f"size decile {k}", cells[cells["size_decile"] == k])
               for k in sorted(cells["size_decile"].unique())]
    groups += [("sole unknown", cells[cells["sole_unknown"]]),
               ("shared", cells[~cells["sole_unknown"]])]
    summary = pd.DataFrame([{
        "group": name, "cells": len(part),
        "median_abs_pct_error": float(part["abs_pct_error"].median()) if len(part) else np.nan,
        "p90_abs_pct_error": float(part["abs_pct_error"].quantile(0.9)) if len(part) else np.nan,
        "within_bounds": float(part["within_bounds"].mean()) if len(part) else np.nan,
        "bounded": float(part["bounded"].mean()) if len(part) else np.nan,
    } for name, part in groups])
    return ValidationResult(cells, summary, measure, share, seed)


# --------------------------------------------------------------------------- reporting


def estimation_summary(sbs: pd.DataFrame, year: int) -> pd.DataFrame:
    """What the ``sbs`` table of a run holds in ``year``, per measure: ``cells`` (NUTS-2 x
    division), ``published``, ``estimated``, ``missing`` (neither: with
    ``confidential_cells="exclude"``), ``estimated_share`` (of the cells), ``bounded`` (share of the
    estimates with an upper bound), ``median_bound_width`` (median of ``(upper - lower) /
    estimate`` over the bounded estimates)."""
    current = sbs[sbs["year"] == year]
    rows = []
    for measure in MEASURES:
        estimated = current[f"{measure}_estimated"]
        values = current[measure]
        upper, lower = current[f"{measure}_upper"], current[f"{measure}_lower"]
        bounded = estimated & upper.notna()
        with np.errstate(divide="ignore", invalid="ignore"):
            width = ((upper - lower) / values).where(bounded & (values > 0))
        rows.append({"measure": measure, "cells": len(current),
                     "published": int((values.notna() & ~estimated).sum()),
                     "estimated": int(estimated.sum()), "missing": int(values.isna().sum()),
                     "estimated_share": float(estimated.mean()) if len(current) else np.nan,
                     "bounded": float(bounded.sum() / estimated.sum()) if estimated.any()
                     else np.nan,
                     "median_bound_width": float(width.median()) if bounded.any() else np.nan})
    return pd.DataFrame(rows)


def compare_with_truth(sbs: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Estimates against known true values (the demo economy's ``truth_confidential.csv.gz``:
    ``geo, nace_r2, year, indicator, true_value``, indicator a measure name).

    Returns per indicator: ``cells`` (true cells found in ``sbs``), ``estimated`` (of them
    estimated), ``median_abs_pct_error``, ``p90_abs_pct_error`` (``100 |estimate - true| /
    true``, true > 0), ``within_bounds`` (share with ``lower - r <= true <= upper + r``, ``r``
    the rounding unit).
    """
    rows = []
    for measure, part in truth.groupby("indicator", sort=True):
        if measure not in MEASURES:
            continue
        merged = part.merge(sbs[["geo", "nace_r2", "year", measure, f"{measure}_estimated",
                                 f"{measure}_lower", f"{measure}_upper"]],
                            on=["geo", "nace_r2", "year"])
        unit = ROUNDING_UNIT[measure]
        true = merged["true_value"]
        with np.errstate(divide="ignore", invalid="ignore"):
            error = (100 * (merged[measure] - true).abs() / true).where(true > 0)
        within = ((true >= merged[f"{measure}_lower"] - unit)
                  & (true <= merged[f"{measure}_upper"] + unit))
        rows.append({"indicator": measure, "cells": len(merged),
                     "estimated": int(merged[f"{measure}_estimated"].sum()),
                     "median_abs_pct_error": float(error.median()),
                     "p90_abs_pct_error": float(error.quantile(0.9)),
                     "within_bounds": float(within.mean()) if len(merged) else np.nan})
    return pd.DataFrame(rows)
