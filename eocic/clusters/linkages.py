"""Linkages between categories and relatedness density (methodology section 5).

All measures are computed per scheme and year from the cluster mapping table (regions x
categories). Missing values (confidential or incomplete categories) are left out pair by pair
("pairwise complete"), never counted as zero.

Co-location relatedness (:func:`colocation_correlation`)
    rel_ij = Spearman rank correlation across regions of LQ_ri and LQ_rj, over the regions where
    both are published (at least ``min_regions``). Spearman rather than Pearson on log LQ:
    LQ = 0 is frequent (log undefined) and LQs are very skewed; ranks need no transformation.
    A pair is *related* if rel_ij > P90 of all pairs of the scheme and year (Delgado, Porter &
    Stern 2016 use the top percentiles of co-location linkages). Categories allocated from
    exactly the same NACE divisions (``same_divisions``, e.g. two categories that both come
    only from C27) have identical regional profiles by construction (rel = 1): such pairs are
    left out of the P90 and never flagged related, since their correlation is an artefact of
    division-level data, not evidence of co-location.

Ellison-Glaeser coagglomeration (:func:`coagglomeration`)
    gamma_ij = sum_r (s_ri - x_r)(s_rj - x_r) / (1 - sum_r x_r^2), s_ri = E_ri / sum_r E_ri
    (region r's share of category i), x_r = E_r / sum_r E_r (share of total employment), both
    over the regions where E_ri and E_rj are published (Ellison & Glaeser 1997, simplified
    form without the plant Herfindahl correction). Positive: the two categories locate in the
    same regions more than total employment does.

Proximity and relatedness density (:func:`proximity`, :func:`relatedness_density`)
    M_ri = 1[LQ_ri >= 1] (revealed comparative advantage); phi_ij = sum_r M_ri M_rj /
    max(k_i, k_j), k_i = sum_r M_ri (the minimum of the two conditional probabilities;
    Hidalgo et al. 2007), over regions where both M are known; phi_ij = 0 if neither category
    is present in any such region; the diagonal is set to 0.
    omega_rc = sum_{i != c} M_ri phi_ic / sum_{i != c} phi_ic over the categories i whose M_ri is
    known (in [0, 1]; EconGeo's ``relatedness_density`` reports 100 * omega). High density
    for a category the region does not have (M_rc = 0) is a *diversification opportunity*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic import tables

#: Columns of the ``cluster_linkages`` table (:data:`eocic.tables.CLUSTER_LINKAGES`).
PAIR_COLUMNS: tuple[str, ...] = tuple(tables.CLUSTER_LINKAGES.column_names)

#: Columns of the ``relatedness_density`` table (:data:`eocic.tables.RELATEDNESS_DENSITY`).
DENSITY_COLUMNS: tuple[str, ...] = tuple(tables.RELATEDNESS_DENSITY.column_names)


def _pairwise_ranks(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """ranks[r, i, j] = average rank (1-based) of region r's value of column i among the regions
    where both i and j are observed (NaN if r is not one of them)."""
    n_regions, n_columns = values.shape
    ranks = np.full((n_regions, n_columns, n_columns), np.nan)
    both = observed.astype(float)
    for i in range(n_columns):
        rows = np.flatnonzero(observed[:, i])
        if len(rows) == 0:
            continue
        order = rows[np.argsort(values[rows, i], kind="mergesort")]
        sorted_values = values[order, i]
        common = both[order, :]
        running = np.vstack([np.zeros((1, n_columns)), np.cumsum(common, axis=0)])
        new_group = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
        starts = np.flatnonzero(new_group)
        ends = np.r_[starts[1:], len(sorted_values)]
        group = np.cumsum(new_group) - 1
        below, through = running[starts[group], :], running[ends[group], :]
        rank = below + (through - below + 1.0) / 2.0   # ties get their average rank
        rank[common == 0] = np.nan
        ranks[order, i, :] = rank
    return ranks


def colocation_correlation(lq: pd.DataFrame, *, min_regions: int = 10) -> pd.DataFrame:
    """Spearman correlation across regions (rows) of the LQs of categories (columns).

    Pairwise complete: for each pair the LQs are ranked (ties: average rank) among the regions
    where both are published, then correlated (Pearson on ranks); the same numbers as
    ``DataFrame.corr(method="spearman")``, vectorised. NaN where fewer than ``min_regions``
    regions have both LQs or a column is constant there.
    """
    values = lq.to_numpy(dtype=float)
    observed = ~np.isnan(values)
    x = _pairwise_ranks(values, observed)
    y = x.transpose(0, 2, 1)
    count = (observed.astype(float).T @ observed.astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        x_centred = x - np.nansum(x, axis=0) / count
        y_centred = y - np.nansum(y, axis=0) / count
        covariance = np.nansum(x_centred * y_centred, axis=0)
        spread = np.sqrt(np.nansum(x_centred ** 2, axis=0) * np.nansum(y_centred ** 2, axis=0))
        correlation = np.where(spread > 0, covariance / spread, np.nan)
    correlation[count < max(min_regions, 2)] = np.nan
    correlation = np.clip(correlation, -1.0, 1.0)
    return pd.DataFrame(correlation, index=lq.columns, columns=lq.columns)


def coagglomeration(employment: pd.DataFrame, regional_total: pd.Series) -> pd.DataFrame:
    """Ellison-Glaeser coagglomeration gamma_ij (module docstring), categories x categories.

    Parameters
    ----------
    employment : DataFrame
        Regions (index) x categories (columns), persons employed, NaN where not published.
    regional_total : Series
        E_r per region (same index), persons; regions with E_r <= 0 or NaN are left out.

    The diagonal holds the same formula with i = j; NaN where a share is undefined.
    """
    total = regional_total.reindex(employment.index).astype(float)
    usable_region = (total > 0).to_numpy()
    observed = (employment.notna().to_numpy() & usable_region[:, None]).astype(float)
    values = np.where(observed > 0, employment.to_numpy(dtype=float), 0.0)
    e = np.where(usable_region, total.to_numpy(), 0.0)
    share_sum = values.T @ observed                 # [i, j] = sum_{r in R_ij} E_ri
    total_sum = observed.T @ (e[:, None] * observed)  # sum_{r in R_ij} E_r
    total_sq = observed.T @ ((e ** 2)[:, None] * observed)
    cross = values.T @ values                        # sum E_ri E_rj
    with_total = values.T @ (e[:, None] * observed)  # [i, j] = sum_{r in R_ij} E_ri E_r
    with np.errstate(divide="ignore", invalid="ignore"):
        s_i = share_sum
        s_j = share_sum.T
        numerator = (cross / (s_i * s_j) - with_total / (s_i * total_sum)
                     - with_total.T / (s_j * total_sum) + total_sq / total_sum ** 2)
        denominator = 1.0 - total_sq / total_sum ** 2
        gamma = numerator / denominator
    gamma[~np.isfinite(gamma)] = np.nan
    return pd.DataFrame(gamma, index=employment.columns, columns=employment.columns)


def presence_matrix(lq: pd.DataFrame) -> pd.DataFrame:
    """M_rc = 1.0 if LQ_rc >= 1, 0.0 if LQ_rc < 1, NaN if the LQ is not published."""
    return (lq >= 1).astype(float).where(lq.notna())


def proximity(presence: pd.DataFrame) -> pd.DataFrame:
    """phi_ij = sum_r M_ri M_rj / max(k_i, k_j) over regions where both M are known; diagonal 0."""
    known = presence.notna().to_numpy(dtype=float)
    m = presence.fillna(0.0).to_numpy(dtype=float)
    together = m.T @ m
    k_within = m.T @ known        # [i, j] = sum_{r: M_rj known} M_ri
    largest = np.maximum(k_within, k_within.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(largest > 0, together / largest, 0.0)
    np.fill_diagonal(phi, 0.0)
    return pd.DataFrame(phi, index=presence.columns, columns=presence.columns)


def relatedness_density(presence: pd.DataFrame, phi: pd.DataFrame) -> pd.DataFrame:
    """omega_rc = sum_{i != c} M_ri phi_ic / sum_{i != c, M_ri known} phi_ic (regions x categories)."""
    phi_values = phi.loc[presence.columns, presence.columns].to_numpy(dtype=float).copy()
    np.fill_diagonal(phi_values, 0.0)
    known = presence.notna().to_numpy(dtype=float)
    m = presence.fillna(0.0).to_numpy(dtype=float)
    numerator = m @ phi_values
    denominator = known @ phi_values
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(denominator > 0, numerator / denominator, np.nan)
    return pd.DataFrame(density, index=presence.index, columns=presence.columns)


def _matrices(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Regions x categories LQ and employment (categories sorted) and E_r by region, of one
    scheme and year of the cluster mapping: one pivot for both measures."""
    wide = table.pivot(index="geo", columns="category", values=["lq", "employment"])
    lq = wide["lq"].sort_index(axis=1)
    lq.columns.name = "category"
    employment = wide["employment"].reindex(columns=lq.columns)
    totals = table.drop_duplicates("geo").set_index("geo")["regional_employment"]
    return lq, employment, totals


def _pairs_of(lq: pd.DataFrame, employment: pd.DataFrame, totals: pd.Series, *,
              related_percentile: float, min_regions: int,
              divisions: dict[str, frozenset[str]] | None) -> pd.DataFrame:
    """:func:`linkage_pairs` from the matrices of :func:`_matrices`: the upper triangle
    (i < j) of each pair measure, as columns of one frame."""
    observed = lq.notna().to_numpy(dtype=float)
    rows, cols = np.triu_indices(len(lq.columns), k=1)
    upper = {
        "n_regions": observed.T @ observed,
        "colocation_corr": colocation_correlation(lq, min_regions=min_regions).to_numpy(float),
        "coagglomeration": coagglomeration(employment, totals).to_numpy(float),
        "proximity": proximity(presence_matrix(lq)).to_numpy(float),
    }
    pairs = pd.DataFrame({"category_i": lq.columns[rows], "category_j": lq.columns[cols]}
                         | {name: matrix[rows, cols] for name, matrix in upper.items()})
    pairs["n_regions"] = pairs["n_regions"].astype("int64")
    divisions = divisions or {}
    pairs["same_divisions"] = [
        bool(divisions.get(i)) and divisions.get(i) == divisions.get(j)
        for i, j in zip(pairs["category_i"], pairs["category_j"])]
    eligible = ~pairs["same_divisions"]
    correlations = pairs.loc[eligible, "colocation_corr"].dropna()
    threshold = np.percentile(correlations, related_percentile) if len(correlations) else np.nan
    pairs["related"] = (eligible & (pairs["colocation_corr"] > threshold)).astype(bool)
    return pairs


def linkage_pairs(table: pd.DataFrame, *, related_percentile: float = 90.0,
                  min_regions: int = 10,
                  divisions: dict[str, frozenset[str]] | None = None) -> pd.DataFrame:
    """Pairs of categories (i < j) with co-location, coagglomeration and proximity.

    ``table`` holds one scheme and one year of the cluster mapping (``geo, category, lq,
    employment, regional_employment``); ``divisions`` maps a category to the set of divisions
    it is allocated from (to flag ``same_divisions``). Returns :data:`PAIR_COLUMNS` without
    scheme and year.
    """
    return _pairs_of(*_matrices(table), related_percentile=related_percentile,
                     min_regions=min_regions, divisions=divisions)


def _density_of(lq: pd.DataFrame) -> pd.DataFrame:
    """:func:`density_table` from the regions x categories LQ matrix (categories sorted)."""
    presence = presence_matrix(lq)
    density = relatedness_density(presence, proximity(presence))
    long = pd.DataFrame({
        "geo": np.repeat(lq.index.to_numpy(), len(lq.columns)),
        "category": np.tile(lq.columns.to_numpy(), len(lq.index)),
        "lq": lq.to_numpy().ravel(),
        "presence": presence.to_numpy().ravel(),
        "density": density.to_numpy().ravel(),
    })
    candidates = long[(long["presence"] == 0) & long["density"].notna()]
    ordered = candidates.sort_values(["geo", "density", "category"],
                                     ascending=[True, False, True], kind="mergesort")
    rank = ordered.groupby("geo").cumcount() + 1
    long["opportunity_rank"] = rank.reindex(long.index).astype("Int64")
    return long


def density_table(table: pd.DataFrame) -> pd.DataFrame:
    """Relatedness density per region x category of one scheme and year.

    Returns ``geo, category, lq, presence`` (1/0, NaN if the LQ is missing), ``density``
    (omega in [0, 1]) and ``opportunity_rank`` (1 = densest category among those the region
    does not have, M_rc = 0; missing for M_rc = 1 or unknown).
    """
    return _density_of(table.pivot(index="geo", columns="category", values="lq")
                       .sort_index(axis=1))


def build_linkages(mapping_table: pd.DataFrame, *, related_percentile: float = 90.0,
                   min_regions: int = 10,
                   divisions: dict[str, dict[str, frozenset[str]]] | None = None,
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linkage pairs and relatedness density for every scheme and year of the mapping table.

    ``divisions``: ``{scheme: {category: divisions it is allocated from}}`` (optional).

    Returns ``(pairs, density)`` with the columns :data:`PAIR_COLUMNS` and
    :data:`DENSITY_COLUMNS`, sorted by scheme, year, category (pairs) and scheme, geo,
    category, year (density). Each scheme and year is pivoted once for both.
    """
    pair_frames, density_frames = [], []
    for (scheme, year), part in mapping_table.groupby(["scheme", "year"], sort=True):
        if part["category"].nunique() < 2:
            continue
        lq, employment, totals = _matrices(part)
        pairs = _pairs_of(lq, employment, totals, related_percentile=related_percentile,
                          min_regions=min_regions, divisions=(divisions or {}).get(scheme))
        pair_frames.append(pairs.assign(scheme=scheme, year=year))
        density_frames.append(_density_of(lq).assign(scheme=scheme, year=year))
    pairs = (pd.concat(pair_frames, ignore_index=True) if pair_frames
             else tables.empty_frame(tables.CLUSTER_LINKAGES))
    density = (pd.concat(density_frames, ignore_index=True) if density_frames
               else tables.empty_frame(tables.RELATEDNESS_DENSITY))
    pairs = pairs.loc[:, list(PAIR_COLUMNS)].reset_index(drop=True)
    density = (density.loc[:, list(DENSITY_COLUMNS)]
               .sort_values(["scheme", "geo", "category", "year"], kind="mergesort")
               .reset_index(drop=True))
    return pairs, density


def diversification_opportunities(density: pd.DataFrame, geo: str, year: int, scheme: str,
                                  *, top: int = 10) -> pd.DataFrame:
    """Categories the region does not have (M_rc = 0), ranked by relatedness density."""
    selected = density[(density["geo"] == geo) & (density["year"] == year)
                       & (density["scheme"] == scheme) & density["opportunity_rank"].notna()]
    return selected.sort_values("opportunity_rank").head(top).reset_index(drop=True)
