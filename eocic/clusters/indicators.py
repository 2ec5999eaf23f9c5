"""Cluster mapping indicators per NUTS-2 region x category x year (methodology section 1.4).

A *category* is a NACE division (scheme ``sector``), one of the 51 traded cluster categories
(``cluster``) or one of the 10 emerging industries (``emerging``). Categories are built from the
regional SBS table (``sbs``, one row per region x NACE division x year) with an *allocation
weights* table: ``w_dc`` is the share of division ``d``'s employment that belongs to category
``c`` (columns ``category, category_name, division, weight, basis``; see
:mod:`eocic.clusters.definitions`).

Allocation (:func:`allocate`)
    ``X_rc = sum_d w_dc X_rd`` for X = employment E (persons employed), local units N and wages
    and salaries W (EUR). A category value is ``basis = "exact"`` when all its weights are 1 and
    ``"allocated"`` otherwise.

Missing and confidential cells are never counted as zero (rule)
    A division cell that is missing (confidential ``c``/``C``, not available, or absent from the
    table) is a *missing part* of every category it feeds. Its importance is its expected
    size, the *weight mass* ``m_dc,t = w_dc * X_EU,d,t`` (the EU total of the division in that
    year over the regions where it is published). The column ``incomplete`` is the share of the
    category's weight mass that is missing in the region::

        incomplete_rc,t = sum_{d missing in r} m_dc,t / sum_d m_dc,t

    The category value is the sum over the available parts if ``incomplete <= max_incomplete``
    and NaN otherwise. The default ``max_incomplete = 0`` publishes only complete values (no
    lower bounds). A division with no published cell anywhere in a year has no measurable mass;
    if it is missing, the category is treated as fully incomplete (``incomplete = 1``). Each
    measure has its own share: ``incomplete`` (employment), ``local_units_incomplete``,
    ``wages_incomplete``.

Indicators (:func:`category_indicators`), r = region, c = category, t = year, EU = all regions
of the table (EU-27 plus whatever other countries the data hold, e.g. the UK in 2008-2015):
    - ``employment`` E_rc (persons), ``local_units`` N_rc (number), ``wages_eur`` W_rc (EUR).
    - ``avg_unit_size`` = E_rc / N_rc (persons per local unit).
    - ``wage_per_employee`` = W_rc / E_rc (EUR per person employed; E over the parts where
      wages are published).
    - ``relative_wage`` = (W_rc / E_rc) / (sum_r W_rc / sum_r E_rc) (ratio to the EU average of
      the category over the regions where both are published; 1 = EU average).
    - ``regional_employment`` E_r = the region's business-economy employment (sections B-N
      without K, and S95; not the whole economy): the published aggregate of the
      ``regional_totals`` table, never the sum of the published division cells.
    - ``size_share``, ``focus``, ``lq``: :func:`eocic.measures.size_shares`,
      :func:`eocic.measures.focus`, :func:`eocic.measures.location_quotients` (the one
      definition of the study: LQ_rc = (E_rc / E_r) / (E_EU,c / E_EU^(c)), benchmark over the
      regions where E_rc is known).
    - ``growth`` = (E_rc,t / E_rc,t-k)^(1/k) - 1 (:func:`eocic.measures.compound_growth`, per
      year); k is the requested window if year t-k is in the table, else t - (first year of
      the table); ``growth_years`` records the k used (0 and NaN growth in the first year).
    - ``estimated_share``: the share of E_rc allocated from estimated cells (confidential or
      missing in the source, :mod:`eocic.confidential`), in [0, 1]; ``apportioned``: a part
      comes from a region apportioned after a NUTS split (:mod:`eocic.nuts`).
    References: European Cluster Observatory star methodology; Ketels & Protsiv (2014).

Undefined values are NaN, never inf, and the column ``note`` says why the LQ is missing:
``missing`` (no part of the category published), ``incomplete`` (some parts published, but
the missing share is above the tolerance), ``zero_regional_total`` (E_r = 0 or not published), ``zero_eu_category``
(E_EU,c = 0); ``growth_note`` says why growth is missing (``first_year``, ``base_missing``,
``zero_base``, ``missing``). Both are null (None) where the value exists. Units and meaning of
every column: :data:`eocic.tables.CLUSTER_MAPPING` (``docs/data_dictionary.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic import measures
from eocic.errors import EocicError

MEASURES: tuple[str, ...] = ("employment", "local_units", "wages_eur")
"""SBS measures that are allocated to categories (persons, number, EUR)."""

INCOMPLETE_COLUMN: dict[str, str] = {
    "employment": "incomplete",
    "local_units": "local_units_incomplete",
    "wages_eur": "wages_incomplete",
}
"""Column holding the missing share of each measure's weight mass."""

WEIGHT_COLUMNS: tuple[str, ...] = ("category", "category_name", "division", "weight", "basis")


class AllocationError(EocicError, ValueError):
    """An allocation weights table is malformed; the message names the rows and the fix."""


def check_weights(weights: pd.DataFrame, scheme: str = "?") -> pd.DataFrame:
    """Validate an allocation weights table and return it with clean dtypes.

    Raises :class:`AllocationError` if a column is missing, a weight is not in (0, 1], a
    (category, division) pair repeats, or a category has two names.
    """
    missing = [column for column in WEIGHT_COLUMNS if column not in weights.columns]
    if missing:
        raise AllocationError(
            f"weights of scheme {scheme!r}: columns {missing} missing; expected "
            f"{list(WEIGHT_COLUMNS)} (see eocic.clusters.definitions.allocation_weights)")
    clean = weights.loc[:, list(WEIGHT_COLUMNS)].copy()
    for column in ("category", "category_name", "division", "basis"):
        clean[column] = clean[column].astype(str)
    clean["weight"] = pd.to_numeric(clean["weight"], errors="coerce").astype(float)
    bad = clean[~((clean["weight"] > 0) & (clean["weight"] <= 1))]
    if len(bad):
        raise AllocationError(
            f"weights of scheme {scheme!r}: {len(bad)} weight(s) outside (0, 1], e.g. rows "
            f"{bad.head(5).to_dict('records')}; drop zero weights and give shares, not percent")
    repeated = clean[clean.duplicated(["category", "division"], keep=False)]
    if len(repeated):
        raise AllocationError(
            f"weights of scheme {scheme!r}: (category, division) repeated, e.g. "
            f"{repeated.head(5).to_dict('records')}; sum the weights of one pair into one row")
    names = clean.groupby("category")["category_name"].nunique()
    if (names > 1).any():
        raise AllocationError(
            f"weights of scheme {scheme!r}: categories with two names: "
            f"{sorted(names[names > 1].index)[:5]}")
    return clean


def complete_grid(sbs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Reindex ``sbs`` to every region x division x year of the table.

    Returns the grid (``geo, nace_r2, year`` + :data:`MEASURES`, absent rows as NaN, so they
    count as missing, never as zero) and the number of rows added.
    """
    index = pd.MultiIndex.from_product(
        [sorted(sbs["geo"].unique()), sorted(sbs["nace_r2"].unique()),
         sorted(sbs["year"].unique())], names=["geo", "nace_r2", "year"])
    grid = (sbs.set_index(["geo", "nace_r2", "year"])[list(MEASURES)].astype(float)
            .reindex(index).reset_index())
    return grid, len(grid) - len(sbs)


def regional_employment(totals: pd.DataFrame) -> pd.DataFrame:
    """``geo, year, regional_employment`` (persons) from the ``regional_totals`` table
    (:data:`eocic.tables.REGIONAL_TOTALS`): the denominator E_r of every share and LQ."""
    return (totals.loc[:, ["geo", "year", "employment"]]
            .rename(columns={"employment": "regional_employment"}).reset_index(drop=True))


def allocate(sbs: pd.DataFrame, weights: pd.DataFrame, *, max_incomplete: float = 0.0,
             scheme: str = "?") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate division values to categories: X_rc = sum_d w_dc X_rd (see module docstring).

    Parameters
    ----------
    sbs : DataFrame
        Processed ``sbs`` table (``geo, nace_r2, year, employment, local_units, wages_eur``).
    weights : DataFrame
        ``category, category_name, division, weight, basis`` (:func:`check_weights`).
    max_incomplete : float
        Largest missing share of a category's weight mass for which the value is still
        published (summed over the available parts); default 0 (complete values only).

    Returns
    -------
    (allocated, uncovered)
        ``allocated``: one row per region x category x year with ``category_name``, the three
        measures, their ``*_incomplete`` shares, ``employment_paired_wages`` and
        ``employment_paired_units`` (E over the parts where W, resp. N, are also published),
        ``estimated_share`` (share of E from estimated cells; columns ``employment_estimated``
        and ``apportioned`` of the ``sbs`` table, absent = none), ``apportioned`` (bool),
        ``basis`` (``exact``/``allocated``), ``weight_basis`` (bases of the weights table
        joined by ``|``). ``uncovered``: the weight rows whose division is not in the SBS
        table at all (``category, division, weight``); they are left out of the category and
        reported, since SBS does not cover the division anywhere.
    """
    if not 0 <= max_incomplete <= 1:
        raise ValueError(f"max_incomplete={max_incomplete}: give a share between 0 and 1")
    weights = check_weights(weights, scheme)
    divisions = set(sbs["nace_r2"].unique())
    covered = weights["division"].isin(divisions)
    if len(weights) and not covered.any():
        raise AllocationError(
            f"weights of scheme {scheme!r}: none of the divisions {sorted(weights['division'])[:5]}"
            f"... is in the SBS table, whose divisions look like {sorted(divisions)[:3]}; write "
            "divisions as Eurostat NACE Rev. 2 codes (section letter + two digits, e.g. C29)")
    uncovered = weights.loc[~covered, ["category", "division", "weight"]].reset_index(drop=True)
    weights = weights[covered]
    categories = (weights.groupby("category", sort=True)
                  .agg(category_name=("category_name", "first"),
                       basis=("weight", lambda w: "exact" if (w == 1).all() else "allocated"),
                       weight_basis=("basis", lambda b: "|".join(sorted(set(b)))))
                  .reset_index())
    grid, _ = complete_grid(sbs)
    flags = sbs.set_index(["geo", "nace_r2", "year"]).reindex(
        pd.MultiIndex.from_frame(grid[["geo", "nace_r2", "year"]]))
    estimated = (flags["employment_estimated"].fillna(False).astype(bool).to_numpy()
                 if "employment_estimated" in sbs.columns else np.zeros(len(grid), dtype=bool))
    apportioned = (flags["apportioned"].fillna(False).astype(bool).to_numpy()
                   if "apportioned" in sbs.columns else np.zeros(len(grid), dtype=bool))
    grid["_estimated"] = estimated
    grid["_apportioned"] = apportioned
    eu_division = grid.groupby(["nace_r2", "year"])[list(MEASURES)].sum(min_count=1)
    eu_division = eu_division.add_prefix("eu_").reset_index()
    parts = grid.merge(weights[["category", "division", "weight"]],
                       left_on="nace_r2", right_on="division", how="inner")
    parts = parts.merge(eu_division, on=["nace_r2", "year"], how="left")
    keys = ["geo", "category", "year"]
    sums = {}
    for measure in MEASURES:
        available = parts[measure].notna()
        mass = parts["weight"] * parts[f"eu_{measure}"]
        unweighable = mass.isna() & ~available
        sums[measure] = (parts["weight"] * parts[measure]).where(available, 0.0)
        sums[f"{measure}__any"] = available.astype(float)
        sums[f"{measure}__mass"] = mass.fillna(0.0)
        sums[f"{measure}__missing_mass"] = mass.where(~available, 0.0).fillna(0.0)
        sums[f"{measure}__unweighable"] = unweighable.astype(float)
    both_wages = parts["employment"].notna() & parts["wages_eur"].notna()
    both_units = parts["employment"].notna() & parts["local_units"].notna()
    weighted_employment = parts["weight"] * parts["employment"]
    sums["employment_paired_wages"] = weighted_employment.where(both_wages, 0.0)
    sums["employment_paired_units"] = weighted_employment.where(both_units, 0.0)
    sums["employment_estimated_part"] = weighted_employment.where(
        parts["_estimated"] & parts["employment"].notna(), 0.0)
    sums["apportioned"] = (parts["_apportioned"] & parts["employment"].notna()).astype(float)
    frame = pd.DataFrame(sums)
    for key in keys:
        frame[key] = parts[key].to_numpy()
    grouped = frame.groupby(keys, sort=True).sum().reset_index()
    allocated = grouped[keys].copy()
    for measure in MEASURES:
        total_mass = grouped[f"{measure}__mass"]
        missing_mass = grouped[f"{measure}__missing_mass"]
        share = (missing_mass / total_mass.where(total_mass > 0)).fillna(0.0)
        any_missing = missing_mass > 0
        share = share.where(~(any_missing & (total_mass <= 0)), 1.0)
        share = share.where(grouped[f"{measure}__unweighable"] == 0, 1.0)
        published = (share <= max_incomplete + 1e-12) & (grouped[f"{measure}__any"] > 0)
        allocated[measure] = grouped[measure].where(published)
        allocated[INCOMPLETE_COLUMN[measure]] = share.clip(0.0, 1.0)
    allocated["employment_paired_wages"] = grouped["employment_paired_wages"].where(
        allocated["employment"].notna() & allocated["wages_eur"].notna())
    allocated["employment_paired_units"] = grouped["employment_paired_units"].where(
        allocated["employment"].notna() & allocated["local_units"].notna())
    with np.errstate(divide="ignore", invalid="ignore"):
        share = grouped["employment_estimated_part"] / grouped["employment"]
    allocated["estimated_share"] = share.where(allocated["employment"] > 0,
                                               0.0).where(allocated["employment"].notna())
    allocated["apportioned"] = grouped["apportioned"] > 0
    allocated = allocated.merge(categories, on="category", how="left")
    return allocated, uncovered


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing (never inf)."""
    return numerator / denominator.where(denominator > 0)


def growth_base_year(years: pd.Series, available_years: list[int], window: int) -> pd.Series:
    """Base year of the growth rate: t - window if it is in the data, else the first year.

    Returns the base year per row (equal to t in the first year: no growth).
    """
    first = min(available_years)
    wanted = years - window
    return wanted.where(wanted.isin(available_years), first).where(years > first, years)


def category_indicators(allocated: pd.DataFrame, totals: pd.DataFrame, *,
                        growth_years: int = 5) -> pd.DataFrame:
    """Indicators of the module docstring from an :func:`allocate` table and E_r totals.

    Parameters
    ----------
    allocated : DataFrame
        Output of :func:`allocate`.
    totals : DataFrame
        ``geo, year, regional_employment`` (persons; :func:`regional_employment` of the
        ``regional_totals`` table).
    growth_years : int
        Requested window k of the compound annual growth rate (years, >= 1).

    Returns
    -------
    DataFrame
        ``allocated`` plus ``regional_employment``, ``avg_unit_size``, ``wage_per_employee``,
        ``relative_wage``, ``size_share``, ``focus``, ``lq``, ``note``, ``growth``,
        ``growth_years``, ``growth_note``; sorted by geo, category, year.
    """
    if growth_years < 1:
        raise ValueError(f"growth_years={growth_years}: the growth window must be >= 1 year")
    table = allocated.merge(totals, on=["geo", "year"], how="left")
    employment = table["employment"]
    regional = table["regional_employment"]
    table["avg_unit_size"] = _ratio(table["employment_paired_units"], table["local_units"])
    table["wage_per_employee"] = _ratio(table["wages_eur"], table["employment_paired_wages"])
    by_category = ["category", "year"]
    paired = table["wage_per_employee"].notna()
    eu_wages = table["wages_eur"].where(paired).groupby(
        [table[k] for k in by_category]).transform("sum")
    eu_wage_employment = table["employment_paired_wages"].where(paired).groupby(
        [table[k] for k in by_category]).transform("sum")
    table["relative_wage"] = _ratio(table["wage_per_employee"],
                                    _ratio(eu_wages, eu_wage_employment))
    table["size_share"] = measures.size_shares(table, by=by_category)
    table["focus"] = measures.focus(table)
    table["lq"] = measures.location_quotients(table, by=by_category)
    in_benchmark = employment.notna() & (regional > 0)
    eu_category = employment.where(in_benchmark).groupby(
        [table[k] for k in by_category]).transform("sum")
    note = pd.Series(None, index=table.index, dtype=object)
    note[eu_category.fillna(0) <= 0] = "zero_eu_category"
    note[~(regional > 0)] = "zero_regional_total"
    note[employment.isna()] = "missing"
    partly = (table["incomplete"] > 0) & (table["incomplete"] < 1)
    note[employment.isna() & partly] = "incomplete"
    table["note"] = note.where(table["lq"].isna(), None)

    years = sorted(int(y) for y in table["year"].unique())
    table["growth_base_year"] = growth_base_year(table["year"], years, growth_years)
    base = table[["geo", "category", "year", "employment"]].rename(
        columns={"year": "growth_base_year", "employment": "base_employment"})
    table = table.merge(base, on=["geo", "category", "growth_base_year"], how="left")
    table["growth_years"] = (table["year"] - table["growth_base_year"]).astype("int64")
    table["growth"] = measures.compound_growth(table["employment"], table["base_employment"],
                                               table["growth_years"])
    growth_note = pd.Series(None, index=table.index, dtype=object)
    growth_note[table["base_employment"] == 0] = "zero_base"
    growth_note[table["base_employment"].isna()] = "base_missing"
    growth_note[table["growth_years"] == 0] = "first_year"
    growth_note[table["employment"].isna()] = "missing"
    table["growth_note"] = growth_note.where(table["growth"].isna(), None)
    table = table.drop(columns=["growth_base_year", "base_employment"])
    return table.sort_values(["geo", "category", "year"]).reset_index(drop=True)
