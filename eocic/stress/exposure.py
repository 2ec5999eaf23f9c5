"""Regional exposure to a shock scenario: expected employment change, drivers, concentration.

For region ``r``, reference year ``t`` and a scenario with shock ``s_d`` (fraction) for NACE
division ``d`` (0 for divisions not listed):

- expected employment change (persons)  ``dE_r = sum_d s_d * E_rdt`` over the cells with a
  value (published, or estimated where the source keeps them confidential,
  :mod:`eocic.confidential`);
- in percent of the region's employment ``100 * dE_r / E_rt`` with ``E_rt`` the region's
  business-economy employment (sections B-N without K, and S95; the published aggregate of the
  ``regional_totals`` table, persons employed);
- top contributors: the divisions (or cluster categories, via allocation weights) with the
  largest ``|s_d * E_rdt|``;
- portfolio concentration: Herfindahl-Hirschman index ``HHI_r = sum_k (E_rk / sum_j E_rj)^2``
  of the employment shares of the region's divisions (or cluster categories), and its inverse
  the *effective number* of equally sized activities ``1 / HHI_r`` (Adelman 1969);
- relatedness-density cushion: the mean relatedness density ``omega_rc`` (Hidalgo et al. 2007,
  :mod:`eocic.clusters.linkages`) over the categories ``c`` in which the region is present
  (``LQ_rc >= 1``): how well a region's activities are connected to other activities it already
  has, i.e. how easily shocked workers and firms can move into related activities (Neffke et
  al. 2018; Boschma 2015, regional resilience);
- rank of exposure: 1 = the largest expected loss in percent of employment.

Cells without a value (only with ``confidential_cells="exclude"`` in stage 01) are missing, never
zero: a shocked division without employment has an unknown contribution. It is counted
(``unknown_cells``) and its size is taken from the nearest year in which the same cell has a
value, to report the share of the region's employment whose exposure is unknown
(``unknown_share``, a lower bound when some cells never have one). ``expected_change`` is the sum
over the known cells; ``estimated_share`` says how much of it rests on estimated cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic import measures, tables
from eocic.errors import EocicError
from eocic.stress.scenarios import Scenario

STRESS_COLUMNS: tuple[str, ...] = tuple(tables.STRESS_TEST.column_names)
"""Columns of ``stress_test.parquet`` (schema, units and meaning:
:data:`eocic.tables.STRESS_TEST`): ``employment`` (persons, the region's published
business-economy employment), ``expected_change`` (persons), ``expected_change_pct`` (% of
``employment``), ``estimated_share`` (share of ``|expected_change|`` contributed by estimated
cells), ``apportioned`` (bool, the region was split by a NUTS revision),
``unknown_share`` (fraction of the region's employment in shocked cells that are not
published), ``unknown_cells`` (number of such cells), ``hhi`` (0-1), ``effective_number``
(1/hhi), ``hhi_basis`` (``division`` or ``cluster``), ``density_cushion`` (0-1),
``cushion_basis`` (where the density comes from), ``top_contributor`` (text; null when no
shocked cell has a value), ``rank`` (1 = most exposed; null when the region has no published
employment). Notebook 06 writes it with ``eocic.tables.write_table(table, "stress_test",
processed_dir)``."""


class ExposureError(EocicError, ValueError):
    """Input tables cannot give an exposure (year absent, columns missing)."""


def _year_cells(sbs: pd.DataFrame, year: int) -> pd.DataFrame:
    missing = {"geo", "nace_r2", "year", "employment"} - set(sbs.columns)
    if missing:
        raise ExposureError(f"sbs table lacks columns {sorted(missing)}")
    cells = sbs.loc[sbs["year"] == year, ["geo", "nace_r2", "employment"]]
    if cells.empty:
        years = sorted(sbs["year"].unique())
        raise ExposureError(f"sbs table has no rows for year {year}; available years: {years}. "
                            "Choose a reference year in that list.")
    return cells.sort_values(["geo", "nace_r2"], kind="mergesort").reset_index(drop=True)


def nearest_year_estimates(sbs: pd.DataFrame, year: int) -> pd.DataFrame:
    """Size estimate of every cell that is missing in ``year``: the same region x division's
    published employment in the nearest year (the earlier one on a tie).

    Returns ``geo, nace_r2, estimate`` (persons; NaN when the cell is never published) and
    ``estimate_year``.
    """
    cells = _year_cells(sbs, year)
    missing = cells[cells["employment"].isna()][["geo", "nace_r2"]]
    published = sbs.loc[sbs["employment"].notna(), ["geo", "nace_r2", "year", "employment"]]
    candidates = missing.merge(published, on=["geo", "nace_r2"], how="left")
    candidates["distance"] = (candidates["year"] - year).abs()
    candidates = candidates.sort_values(["geo", "nace_r2", "distance", "year"], kind="mergesort")
    best = candidates.drop_duplicates(["geo", "nace_r2"], keep="first")
    return (best.rename(columns={"employment": "estimate", "year": "estimate_year"})
            [["geo", "nace_r2", "estimate", "estimate_year"]].reset_index(drop=True))


def division_exposure(sbs: pd.DataFrame, shocks: pd.Series, year: int) -> pd.DataFrame:
    """Cell-level exposure in the reference year.

    Returns one row per region x division of ``sbs`` in ``year``: ``geo, nace_r2,
    employment`` (persons, NaN if not published), ``shock`` (fraction, 0 if not in the
    scenario), ``contribution`` = shock * employment (persons; NaN when the division is shocked
    and its employment is not published, 0 when the shock is 0), ``estimate`` (nearest-year
    size of a missing cell, see :func:`nearest_year_estimates`).
    """
    cells = _year_cells(sbs, year)
    flags = sbs.loc[sbs["year"] == year].set_index(["geo", "nace_r2"])
    index = pd.MultiIndex.from_frame(cells[["geo", "nace_r2"]])
    for column in ("employment_estimated", "apportioned"):
        cells[column] = (flags[column].reindex(index).fillna(False).astype(bool).to_numpy()
                         if column in flags.columns else False)
    cells["shock"] = cells["nace_r2"].map(shocks).fillna(0.0).astype("float64")
    cells["contribution"] = np.where(cells["shock"] == 0.0, 0.0,
                                     cells["shock"] * cells["employment"])
    estimates = nearest_year_estimates(sbs, year)[["geo", "nace_r2", "estimate"]]
    return cells.merge(estimates, on=["geo", "nace_r2"], how="left")


def uncovered_divisions(sbs: pd.DataFrame, shocks: pd.Series, year: int) -> list[str]:
    """Shocked divisions with no row at all in ``sbs`` for ``year`` (their shock cannot act)."""
    present = set(_year_cells(sbs, year)["nace_r2"].unique())
    return sorted(d for d, s in shocks.items() if s != 0 and d not in present)


def regional_exposure(cells: pd.DataFrame, regional: pd.Series) -> pd.DataFrame:
    """Aggregate :func:`division_exposure` to regions.

    ``regional``: E_r, the published business-economy employment by region (persons). Returns
    ``geo, employment, expected_change, expected_change_pct, estimated_share, apportioned,
    unknown_share, unknown_cells`` (formulas in the module docstring). A region without
    employment has NaN change and percentage.
    """
    shocked_unknown = (cells["shock"] != 0.0) & cells["employment"].isna()
    frame = cells.assign(
        known_change=cells["contribution"].fillna(0.0),
        estimated_change=cells["contribution"].where(cells["employment_estimated"],
                                                     0.0).fillna(0.0).abs(),
        absolute_change=cells["contribution"].fillna(0.0).abs(),
        unknown_size=cells["estimate"].where(shocked_unknown, 0.0).fillna(0.0),
        shocked_unknown=shocked_unknown.astype("int64"))
    grouped = frame.groupby("geo", sort=True)
    result = pd.DataFrame({
        "expected_change": grouped["known_change"].sum(),
        "estimated_change": grouped["estimated_change"].sum(),
        "absolute_change": grouped["absolute_change"].sum(),
        "unknown_size": grouped["unknown_size"].sum(),
        "unknown_cells": grouped["shocked_unknown"].sum().astype("int64"),
        "apportioned": grouped["apportioned"].any(),
    })
    result["employment"] = regional.reindex(result.index).astype(float)
    has_employment = result["employment"] > 0
    result["expected_change"] = result["expected_change"].where(has_employment)
    result["expected_change_pct"] = 100.0 * result["expected_change"] / result["employment"]
    result["estimated_share"] = (result["estimated_change"]
                                 / result["absolute_change"].where(result["absolute_change"] > 0)
                                 ).fillna(0.0).where(has_employment)
    result["unknown_share"] = (result["unknown_size"] / result["employment"]).where(
        has_employment)
    return (result.reset_index()
            [["geo", "employment", "expected_change", "expected_change_pct", "estimated_share",
              "apportioned", "unknown_share", "unknown_cells"]])


def herfindahl(employment: pd.Series) -> float:
    """HHI = sum_k s_k^2 with s_k = E_k / sum_j E_j over the non-missing values (0-1; NaN if the
    total is not positive)."""
    values = employment.dropna().to_numpy(dtype=float)
    total = values.sum()
    if total <= 0:
        return float("nan")
    shares = values / total
    return float(np.sum(shares * shares))


def concentration(portfolio: pd.DataFrame) -> pd.DataFrame:
    """Portfolio concentration per region.

    Parameters
    ----------
    portfolio : DataFrame
        ``geo, unit, employment`` (persons; ``unit`` a division or a cluster category; NaN for
        unpublished values, which are left out of the shares and counted).

    Returns
    -------
    DataFrame
        ``geo, hhi, effective_number, units, units_missing``.
    """
    rows = []
    for geo, part in portfolio.groupby("geo", sort=True):
        hhi = herfindahl(part["employment"])
        rows.append({"geo": geo, "hhi": hhi, "effective_number": 1.0 / hhi if hhi > 0 else np.nan,
                     "units": int(part["employment"].notna().sum()),
                     "units_missing": int(part["employment"].isna().sum())})
    return pd.DataFrame(rows, columns=["geo", "hhi", "effective_number", "units", "units_missing"])


def division_portfolio(sbs: pd.DataFrame, year: int) -> pd.DataFrame:
    """``geo, unit, employment``: the region's SBS divisions in ``year``."""
    return _year_cells(sbs, year).rename(columns={"nace_r2": "unit"})


def cluster_portfolio(cluster_mapping: pd.DataFrame, year: int,
                      scheme: str = "cluster") -> pd.DataFrame:
    """``geo, unit, employment``: the region's categories of ``scheme`` in ``year`` from the
    cluster mapping table (categories need not cover the whole economy: shares are among the
    categories)."""
    rows = cluster_mapping[(cluster_mapping["scheme"] == scheme) & (cluster_mapping["year"] == year)]
    if rows.empty:
        raise ExposureError(f"cluster_mapping has no rows for scheme {scheme!r} and year {year}")
    return rows[["geo", "category", "employment"]].rename(columns={"category": "unit"})


def sector_density(sbs: pd.DataFrame, totals: pd.DataFrame, year: int) -> pd.DataFrame:
    """Relatedness density of the divisions (scheme ``sector``) computed from ``sbs`` with
    :func:`eocic.clusters.linkages.density_table`: ``geo, category, lq, presence, density,
    opportunity_rank``. Used when ``relatedness_density.parquet`` is absent."""
    from eocic.clusters.linkages import density_table

    lq = measures.division_location_quotients(sbs, totals, year).rename(
        columns={"nace_r2": "category"})
    return density_table(lq[["geo", "category", "lq"]])


def density_cushion(density: pd.DataFrame) -> pd.Series:
    """Mean relatedness density over the categories where the region is present.

    ``density`` holds one scheme and one year (``geo, category, presence, density``). Returns a
    Series indexed by ``geo`` (0-1; NaN when the region has no present category with a known
    density).
    """
    present = density[(density["presence"] == 1) & density["density"].notna()]
    cushion = present.groupby("geo", sort=True)["density"].mean()
    regions = pd.Index(sorted(density["geo"].unique()), name="geo")
    return cushion.reindex(regions).rename("density_cushion")


def category_contributions(cells: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Contributions of categories: ``sum_d w_cd * s_d * E_rd`` over the known cells.

    ``weights``: ``category, category_name, division, weight`` (as
    ``eocic.clusters.definitions.allocation_weights``). Returns ``geo, unit, name,
    contribution``; a category whose shocked parts are all unknown gets NaN.
    """
    allocated = cells.merge(weights.rename(columns={"division": "nace_r2"}), on="nace_r2")
    allocated = allocated[allocated["shock"] != 0.0]
    allocated["weighted"] = allocated["weight"] * allocated["contribution"]
    grouped = allocated.groupby(["geo", "category", "category_name"], sort=True)["weighted"]
    result = grouped.sum(min_count=1).reset_index()
    return result.rename(columns={"category": "unit", "category_name": "name",
                                  "weighted": "contribution"})


def division_contributions(cells: pd.DataFrame) -> pd.DataFrame:
    """``geo, unit, name, contribution`` of the shocked divisions (NaN when unknown)."""
    from eocic.classifications.nace import nace_divisions

    names = dict(zip(nace_divisions()["division"], nace_divisions()["name"]))
    shocked = cells[cells["shock"] != 0.0]
    return pd.DataFrame({"geo": shocked["geo"].to_numpy(), "unit": shocked["nace_r2"].to_numpy(),
                         "name": shocked["nace_r2"].map(names).to_numpy(),
                         "contribution": shocked["contribution"].to_numpy()})


def top_contributors(contributions: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` known contributions of largest absolute size per region.

    ``contributions``: ``geo, unit, name, contribution`` (:func:`division_contributions` or
    :func:`category_contributions`). Returns the same columns plus ``position`` (1 = largest),
    ties broken by unit code.
    """
    known = contributions[contributions["contribution"].notna()
                          & (contributions["contribution"] != 0)].copy()
    known["size"] = known["contribution"].abs()
    known = known.sort_values(["geo", "size", "unit"], ascending=[True, False, True],
                              kind="mergesort")
    known["position"] = known.groupby("geo").cumcount() + 1
    return known[known["position"] <= n].drop(columns="size").reset_index(drop=True)


def exposure_rank(change_pct: pd.Series, geo: pd.Series) -> pd.Series:
    """Rank 1 = most negative ``expected_change_pct``; ties by region code; NaN -> <NA>."""
    order = pd.DataFrame({"pct": change_pct.to_numpy(), "geo": geo.to_numpy()},
                         index=change_pct.index)
    known = order[order["pct"].notna()].sort_values(["pct", "geo"], kind="mergesort")
    rank = pd.Series(np.arange(1, len(known) + 1), index=known.index)
    return rank.reindex(change_pct.index).astype("Int64")


def stress_test(sbs: pd.DataFrame, scenarios: list[Scenario], year: int, *,
                totals: pd.DataFrame,
                portfolio: pd.DataFrame | None = None, portfolio_basis: str = "division",
                density: pd.DataFrame | None = None, cushion_basis: str = "sector (from sbs)",
                weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exposure of every region to every scenario in the reference year.

    Parameters
    ----------
    sbs : DataFrame
        The ``sbs`` table (``geo, nace_r2, year, employment``).
    scenarios : list of Scenario
    year : int
        Reference year.
    totals : DataFrame
        The ``regional_totals`` table: E_r, the denominator of ``expected_change_pct``.
    portfolio : DataFrame, optional
        ``geo, unit, employment`` for the HHI (default: the SBS divisions of ``year``), with
        ``portfolio_basis`` naming it.
    density : DataFrame, optional
        Relatedness density of one scheme and year (``geo, category, presence, density``);
        default :func:`sector_density` of ``sbs``; ``cushion_basis`` names it.
    weights : DataFrame, optional
        Allocation weights (category, category_name, division, weight): top contributors are
        then cluster categories instead of divisions.

    Returns
    -------
    DataFrame
        :data:`STRESS_COLUMNS`, sorted by scenario (input order) and rank (unranked last, by
        geo).
    """
    if portfolio is None:
        portfolio = division_portfolio(sbs, year)
    if density is None:
        density = sector_density(sbs, totals, year)
    regional_employment = totals[totals["year"] == year].set_index("geo")["employment"]
    hhi = concentration(portfolio).set_index("geo")
    cushion = density_cushion(density)
    frames = []
    for position, scenario in enumerate(scenarios):
        cells = division_exposure(sbs, scenario.shocks, year)
        regional = regional_exposure(cells, regional_employment)
        contributions = (category_contributions(cells, weights) if weights is not None
                         else division_contributions(cells))
        top = top_contributors(contributions, n=1).set_index("geo")
        label = (top["unit"] + " " + top["name"] + " ("
                 + top["contribution"].map(lambda v: f"{v:+,.0f}") + ")")
        regional["scenario"] = scenario.name
        regional["year"] = int(year)
        regional["hhi"] = regional["geo"].map(hhi["hhi"])
        regional["effective_number"] = regional["geo"].map(hhi["effective_number"])
        regional["hhi_basis"] = portfolio_basis
        regional["density_cushion"] = regional["geo"].map(cushion)
        regional["cushion_basis"] = cushion_basis
        regional["top_contributor"] = regional["geo"].map(label)  # null: no known contribution
        regional["rank"] = exposure_rank(regional["expected_change_pct"], regional["geo"])
        regional["order"] = position
        frames.append(regional)
    table = pd.concat(frames, ignore_index=True)
    table["rank_sort"] = table["rank"].astype("float64").fillna(np.inf)
    table = table.sort_values(["order", "rank_sort", "geo"], kind="mergesort")
    return table.loc[:, list(STRESS_COLUMNS)].reset_index(drop=True)
