"""Cluster stars and performance classes (methodology section 1.5).

Stars of a region x category in a year (thresholds in :class:`StarRules`):

- **size star**: E_rc >= P90 of E over the regions of the same category and year (top decile;
  ECO phase I rule) and E_rc > 0;
- **specialisation star**: LQ_rc >= 2 (ECO phase I rule);
- **productivity star**: wage per employee W_rc / E_rc >= P90 over the regions of the same
  category and year (EOCIC 2019+ uses average wages per person employed as the productivity
  proxy; the percentile is a proposed default, the official threshold is not published);

``stars`` = number of stars (0-3). A region x category is a **cluster** iff it has the
specialisation star, with performance class ``basic`` (specialisation only), ``medium``
(+ size *or* productivity) or ``high`` (+ both); non-clusters have no class (missing value).
Percentiles are linear-interpolation quantiles (as ``numpy.percentile``) over the regions where the
value is published; a missing value never gets a star.

:func:`panorama_2020_comparison` sets the counts beside the European Panorama of Clusters and
Industrial Change 2020 (Hollanders & Merkelbach 2020): 2,950 clusters (198 high, 898 medium,
1,854 basic) holding 61.8 million jobs, 23.4 % of **total** employment and 50.3 % of the
employment of the 51 traded (exporting) industries; each share is compared like with like.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

PERFORMANCE_CLASSES: tuple[str, ...] = ("high", "medium", "basic")

PANORAMA_2020: dict[str, float] = {
    "clusters": 2950, "high": 198, "medium": 898, "basic": 1854,
    "share_of_total_employment": 0.234, "share_of_traded_employment": 0.503,
}
"""Published EOCIC 2020 Panorama figures (EU-28 regions, 51 traded categories, NACE 4-digit):
clusters by class, and the clusters' 61.8 million jobs as a share of total employment and of
employment in the 51 traded industries (methodology section 8)."""

COMPARISON_MEASURES: dict[str, str] = {
    "clusters": "regional clusters (LQ >= 2)",
    "high": "high-performing clusters",
    "medium": "medium clusters",
    "basic": "basic clusters",
    "share_of_total_employment": "cluster employment / total employment (LFS)",
    "share_of_traded_employment": "cluster employment / employment of the traded categories",
    "share_of_business_economy": "cluster employment / SBS business-economy employment",
}
"""Measures of :func:`panorama_2020_comparison`, in words."""


@dataclasses.dataclass(frozen=True)
class StarRules:
    """Thresholds of the three stars.

    Attributes
    ----------
    size_percentile : float
        Size star if E_rc >= this percentile (0-100) of the category's regions (default 90).
    specialisation_lq : float
        Specialisation star if LQ_rc >= this value (default 2).
    productivity_percentile : float
        Productivity star if wage per employee >= this percentile (default 90).
    min_employment : float
        No star at all below this many persons employed in the region x category (default 0,
        i.e. only E_rc > 0 is required); raise it to keep tiny cells from being clusters.
    """

    size_percentile: float = 90.0
    specialisation_lq: float = 2.0
    productivity_percentile: float = 90.0
    min_employment: float = 0.0

    def __post_init__(self) -> None:
        for name in ("size_percentile", "productivity_percentile"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ValueError(f"StarRules.{name}={value}: give a percentile between 0 and 100")
        if self.specialisation_lq <= 0:
            raise ValueError(f"StarRules.specialisation_lq={self.specialisation_lq} must be > 0")


def _group_percentile(values: pd.Series, groups: list[pd.Series], percentile: float) -> pd.Series:
    """Percentile (linear interpolation) of ``values`` within groups, over non-missing values."""
    return values.groupby(groups).transform("quantile", percentile / 100.0)


def award_stars(table: pd.DataFrame, rules: StarRules = StarRules()) -> pd.DataFrame:
    """Add ``size_star, specialisation_star, productivity_star, stars, is_cluster,
    performance_class`` to an indicators table (one scheme or several: percentiles are taken
    within scheme x category x year when a ``scheme`` column exists)."""
    keys = [k for k in ("scheme", "category", "year") if k in table.columns]
    groups = [table[k] for k in keys]
    employment = table["employment"]
    eligible = (employment > 0) & (employment >= rules.min_employment)
    size_cut = _group_percentile(employment, groups, rules.size_percentile)
    wage_cut = _group_percentile(table["wage_per_employee"], groups, rules.productivity_percentile)
    starred = table.copy()
    starred["size_star"] = (eligible & (employment >= size_cut)).astype(bool)
    starred["specialisation_star"] = (eligible & (table["lq"] >= rules.specialisation_lq)).astype(bool)
    starred["productivity_star"] = (
        eligible & (table["wage_per_employee"] >= wage_cut)).astype(bool)
    starred["stars"] = (starred["size_star"].astype("int64")
                        + starred["specialisation_star"].astype("int64")
                        + starred["productivity_star"].astype("int64"))
    starred["is_cluster"] = starred["specialisation_star"]
    extra = starred["size_star"].astype(int) + starred["productivity_star"].astype(int)
    performance = pd.Series(None, index=starred.index, dtype=object)
    performance[starred["is_cluster"] & (extra == 0)] = "basic"
    performance[starred["is_cluster"] & (extra == 1)] = "medium"
    performance[starred["is_cluster"] & (extra == 2)] = "high"
    starred["performance_class"] = performance
    return starred


def class_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Clusters by performance class per scheme and year, with their employment.

    Returns ``scheme, year, performance_class, clusters, employment`` (persons) for the classes
    high, medium, basic (zero rows kept).
    """
    keys = [k for k in ("scheme", "year") if k in table.columns]
    clusters = table[table["is_cluster"]]
    counted = (clusters.groupby(keys + ["performance_class"])
               .agg(clusters=("employment", "size"), employment=("employment", "sum")))
    index = pd.MultiIndex.from_product(
        [sorted(table[k].unique()) for k in keys] + [list(PERFORMANCE_CLASSES)],
        names=keys + ["performance_class"])
    counted = counted.reindex(index, fill_value=0)
    counted["clusters"] = counted["clusters"].astype("int64")
    return counted.reset_index()


def panorama_2020_comparison(table: pd.DataFrame, year: int, scheme: str = "cluster", *,
                             scheme_totals: pd.DataFrame,
                             total_employment: pd.Series | None = None) -> pd.DataFrame:
    """This study's clusters and their employment shares beside the EOCIC 2020 Panorama.

    Parameters
    ----------
    table : DataFrame
        Starred cluster mapping table (:func:`award_stars`), with ``scheme`` if several;
        categories identical at the resolution of the data are already merged, so every
        cluster counts once.
    year, scheme : the reference year and category scheme compared.
    scheme_totals : DataFrame
        The ``scheme_employment`` table (:func:`eocic.clusters.mapping.scheme_employment`):
        per region the employment of the scheme's categories and of its clusters, every
        division counted once, and E_r.
    total_employment : Series, optional
        Total employment of each region (persons, index ``geo``; LFS
        ``lfs_employment_ths`` x 1000 in the reference year). Without it the share of total
        employment is NaN.

    Returns
    -------
    DataFrame
        ``measure`` (:data:`COMPARISON_MEASURES`), ``description``, ``this_study``,
        ``panorama_2020`` (NaN where the Panorama has no counterpart), ``ratio``,
        ``regions`` (regions behind the number). Shares: the clusters' employment summed over
        the regions having the denominator, divided by the denominator summed over the same
        regions.
    """
    selected = table[table["year"] == year]
    if "scheme" in selected.columns:
        selected = selected[selected["scheme"] == scheme]
    if selected.empty:
        raise ValueError(f"no rows for scheme {scheme!r} and year {year} in the cluster mapping")
    counts = selected.loc[selected["is_cluster"], "performance_class"].value_counts()
    totals = scheme_totals[(scheme_totals["scheme"] == scheme)
                           & (scheme_totals["year"] == year)].set_index("geo")
    regions = selected["geo"].nunique()
    rows = [{"measure": "clusters", "this_study": float(selected["is_cluster"].sum()),
             "regions": regions}]
    rows += [{"measure": c, "this_study": float(counts.get(c, 0)), "regions": regions}
             for c in ("high", "medium", "basic")]

    def share(denominator: pd.Series) -> tuple[float, int]:
        both = pd.concat([totals["cluster_employment"], denominator], axis=1).dropna()
        both = both[both.iloc[:, 1] > 0]
        value = both.iloc[:, 0].sum() / both.iloc[:, 1].sum() if len(both) else np.nan
        return float(value), len(both)

    lfs = (total_employment if total_employment is not None
           else pd.Series(dtype=float)).reindex(totals.index)
    for measure, denominator in (("share_of_total_employment", lfs),
                                 ("share_of_traded_employment", totals["employment"]),
                                 ("share_of_business_economy", totals["regional_employment"])):
        value, count = share(denominator)
        rows.append({"measure": measure, "this_study": value, "regions": count})
    comparison = pd.DataFrame(rows)
    comparison.insert(1, "description", comparison["measure"].map(COMPARISON_MEASURES))
    comparison["panorama_2020"] = comparison["measure"].map(PANORAMA_2020).astype(float)
    comparison["ratio"] = comparison["this_study"] / comparison["panorama_2020"]
    return comparison.loc[:, ["measure", "description", "this_study", "panorama_2020", "ratio",
                              "regions"]]


def value_flags(frame: pd.DataFrame) -> pd.Series:
    """A reader's marker per row of a cluster-mapping table: ``"estimated x%"`` when part of the
    employment rests on estimates of confidential cells, ``"apportioned"`` when the region was
    split by a NUTS revision, both joined by ``"; "``; None otherwise."""
    estimated = frame["estimated_share"].fillna(0.0)
    text = np.where(estimated > 0, [f"estimated {share:.0%}" if share >= 0.005
                                    else "estimated <1%" for share in estimated], "")
    text = np.where(frame["apportioned"].astype(bool),
                    np.where(text == "", "apportioned", np.char.add(text.astype(str),
                                                                    "; apportioned")), text)
    return pd.Series(np.where(text == "", None, text), index=frame.index, dtype=object)


def strongest_clusters(table: pd.DataFrame, year: int, scheme: str, *, top: int = 20,
                       geo: str | None = None) -> pd.DataFrame:
    """The clusters of a year and scheme ranked by stars, then employment (largest first).

    Columns ``geo, category, category_name, employment, lq, size_share, relative_wage,
    growth, stars, performance_class, flag`` (:func:`value_flags`); ``geo`` restricts to one
    region.
    """
    selected = table[(table["year"] == year) & (table["scheme"] == scheme) & table["is_cluster"]]
    if geo is not None:
        selected = selected[selected["geo"] == geo]
    columns = ["geo", "category", "category_name", "employment", "lq", "size_share",
               "relative_wage", "growth", "stars", "performance_class"]
    ranked = selected.sort_values(["stars", "employment", "geo", "category"],
                                  ascending=[False, False, True, True], kind="mergesort").head(top)
    return ranked.loc[:, columns].assign(flag=value_flags(ranked)).reset_index(drop=True)


def total_employment(context: pd.DataFrame | None, year: int) -> pd.Series | None:
    """Total employment by region in ``year`` (persons): LFS ``lfs_employment_ths`` x 1000 of
    the ``context`` table (``lfst_r_lfe2en2``, all NACE activities), the denominator of the
    Panorama's 23.4 %; None when the run has no LFS employment for that year."""
    if context is None:
        return None
    rows = context[(context["indicator"] == "lfs_employment_ths") & (context["year"] == year)]
    if rows.empty:
        return None
    return rows.set_index("geo")["value"].astype(float) * 1000.0
