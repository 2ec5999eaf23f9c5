"""Peer regions: structurally similar regions, and scores relative to them.

Structural variables (reference year, latest value up to two years before if missing):

``ln_gdp_per_head``     ln GDP per head in PPS (EUR per head if PPS is absent)
``ln_population``       ln population; stands in for ln population density, because region
                        areas are not in the processed tables
``manufacturing_share`` SBS employment in section C / all SBS employment
``kis_share``           employment in knowledge-intensive services (% of total), if present
``rd_intensity``        GERD (% of GDP), if present

A variable published for fewer than 80 % of the regions is left out (reported). Each
variable is z-scored over regions; the distance between two regions is Euclidean over the
variables both have, rescaled to the full set: d = sqrt(p / p_common * sum (z_a - z_b)^2)
(needs p_common >= 2). Default peers are the k = 5 nearest regions (methodology 2.4 [I]; the
scoreboard tool lets users pick up to five peers).

Comparison with peers (:func:`peer_comparison`, the one definition used by notebook 03 and the
explorer), per node (index, dimension, sub-dimension, indicator) in one year:

``difference``     score_region - mean(score_peers), in score points (0-100 under min-max)
``difference_sd``  difference / sd of the node's scores over all regions of the year
                   (sample sd, ddof 1)

Strength if difference_sd >= +0.5, weakness if <= -0.5 (:data:`STRENGTH_SD` [I]): half a
cross-regional standard deviation above or below the peers.

Why differences, not ratios: the earlier "relative score" 100 * region / peer mean depends on
where the scale puts its zero. Min-max puts 0 at the worst region, so the same gap of 5 points
is +50 % above a peer mean of 10 and +6 % above 80, and adding or dropping one region moves
the zero; under z-scores the peer mean can be 0 or negative and the ratio is undefined or
flips sign. A difference is unchanged by a shift of the scale, and dividing it by the
cross-regional sd makes it unchanged by any positive affine rescaling, so the strength rule
reads the same under min-max, z-score and percentile ranks. The mean of the peers (not the
median) is used because it is the "peer mean" drawn in the radar charts; with at most five
peers the two rarely differ in sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eocic.errors import EocicError

MAX_PEERS = 5
STRENGTH_SD = 0.5  # |difference| / cross-regional sd flagged as strength / weakness [I]
PEER_COMPARISON_COLUMNS = ["region", "peer_mean", "peers_with_score", "difference",
                           "difference_sd", "flag"]


class PeerError(EocicError, ValueError):
    """Unusable peer choice; the message names the fix."""


def _latest(frame: pd.DataFrame, indicator: str, year: int, window: int = 2) -> pd.Series:
    rows = frame[(frame["indicator"] == indicator) & frame["year"].between(year - window, year)]
    rows = rows.dropna(subset=["value"]).sort_values(["geo", "year"])
    return rows.groupby("geo")["value"].last()


def structural_variables(tables: dict, year: int, min_coverage: float = 0.8
                         ) -> tuple[pd.DataFrame, list[str]]:
    """The structural variables of every region (see module docstring) and notes."""
    context, sbs = tables.get("context"), tables.get("sbs")
    variables: dict[str, pd.Series] = {}
    notes: list[str] = []
    if context is not None:
        gdp = _latest(context, "gdp_pps_per_head", year)
        if gdp.empty:
            gdp = _latest(context, "gdp_eur_per_head", year)
            notes.append("GDP per head in EUR (PPS not available)")
        if not gdp.empty:
            variables["ln_gdp_per_head"] = np.log(gdp.where(gdp > 0))
        population = _latest(context, "population", year)
        if not population.empty:
            variables["ln_population"] = np.log(population.where(population > 0))
            notes.append("ln population stands in for ln population density (no area data)")
        else:
            employment = _latest(context, "lfs_employment_ths", year)
            if not employment.empty:
                variables["ln_employment"] = np.log(employment.where(employment > 0))
                notes.append("ln employment stands in for ln population density (no "
                             "population or area data)")
        for name, code in (("kis_share", "kis_pc_emp"), ("rd_intensity", "rd_gerd_pc_gdp")):
            series = _latest(context, code, year)
            if not series.empty:
                variables[name] = series
    if sbs is not None:
        rows = sbs[sbs["year"].between(year - 2, year)].dropna(subset=["employment"])
        latest_year = rows.groupby("geo")["year"].max()
        rows = rows[rows["year"] == rows["geo"].map(latest_year)]
        total = rows.groupby("geo")["employment"].sum()
        manufacturing = rows[rows["nace_r2"].str[0] == "C"].groupby("geo")["employment"].sum()
        variables["manufacturing_share"] = (manufacturing.reindex(total.index).fillna(0)
                                            / total.where(total > 0))
    structure = pd.DataFrame(variables)
    structure.index.name = "geo"
    if structure.empty:
        raise PeerError("no structural variable available (needs context or sbs tables)")
    coverage = structure.notna().mean()
    low = coverage[coverage < min_coverage]
    for name, share in low.items():
        notes.append(f"{name} left out of the peer distance: available for {share:.0%} of "
                     "regions")
    structure = structure.drop(columns=list(low.index))
    return structure.sort_index(), notes


def distance_matrix(structure: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distances between regions on z-scored variables (module docstring)."""
    z = (structure - structure.mean()) / structure.std(ddof=1).replace(0, np.nan)
    z = z.dropna(axis=1, how="all")
    values = z.to_numpy()
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    p = values.shape[1]
    squared = np.zeros((len(z), len(z)))
    for column in range(p):
        both = np.outer(present[:, column], present[:, column])
        difference = filled[:, column][:, None] - filled[:, column][None, :]
        squared += np.where(both, difference**2, 0.0)
    common = present.astype(float) @ present.T.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.sqrt(squared * p / common)
    distance[common < 2] = np.nan
    np.fill_diagonal(distance, 0.0)
    return pd.DataFrame(distance, index=z.index, columns=z.index)


def nearest_peers(distances: pd.DataFrame, k: int = MAX_PEERS,
                  exclude_same_country: bool = False) -> pd.DataFrame:
    """The k nearest regions of every region: columns geo, peer, distance, rank (1 = nearest).

    Ties are broken by region code, so the result is deterministic.
    """
    rows = []
    codes = list(distances.index)
    for geo in codes:
        candidates = distances.loc[geo].drop(geo).dropna()
        if exclude_same_country:
            candidates = candidates[[c[:2] != geo[:2] for c in candidates.index]]
        ordered = candidates.reset_index()
        ordered.columns = ["peer", "distance"]
        ordered = ordered.sort_values(["distance", "peer"], kind="stable").head(k)
        for rank, (peer, distance) in enumerate(ordered.itertuples(index=False), start=1):
            rows.append((geo, peer, float(distance), rank))
    return pd.DataFrame(rows, columns=["geo", "peer", "distance", "rank"])


def parse_peer_list(text: str | list[str] | None) -> list[str]:
    """Comma-separated user peers -> list of codes (empty -> [])."""
    if text is None:
        return []
    items = text.split(",") if isinstance(text, str) else list(text)
    return [item.strip().upper() for item in items if item.strip()]


def choose_peers(region: str, distances: pd.DataFrame, user_peers: str | list[str] | None = None,
                 k: int = MAX_PEERS) -> pd.DataFrame:
    """Peers of one region: the user's (at most 5) or the k nearest.

    Returns columns peer, distance, rank, chosen_by ("user" | "nearest").
    """
    if region not in distances.index:
        raise PeerError(f"region {region!r} has no structural data; pick a NUTS-2 code among "
                        f"{len(distances)} regions such as {distances.index[0]!r}")
    chosen = parse_peer_list(user_peers)
    if chosen:
        if len(chosen) > MAX_PEERS:
            raise PeerError(f"{len(chosen)} peers given ({', '.join(chosen)}); choose at most "
                            f"{MAX_PEERS}, or leave peers empty for the {k} nearest regions")
        if region in chosen:
            raise PeerError(f"region {region} cannot be its own peer; remove it from peers")
        unknown = [code for code in chosen if code not in distances.index]
        if unknown:
            raise PeerError(f"unknown peer regions {unknown}; use NUTS-2 codes present in the "
                            "data")
        if len(set(chosen)) != len(chosen):
            raise PeerError(f"duplicate peers in {chosen}; list each region once")
        table = pd.DataFrame(dict(peer=chosen,
                                  distance=[float(distances.loc[region, c]) for c in chosen]))
        table["rank"] = range(1, len(table) + 1)
        table["chosen_by"] = "user"
        return table
    nearest = nearest_peers(distances.loc[:, :], k)
    table = nearest[nearest["geo"] == region].drop(columns="geo")
    table["chosen_by"] = "nearest"
    return table.reset_index(drop=True)


def peer_comparison(region_scores: pd.Series, peer_scores: pd.DataFrame,
                    all_scores: pd.DataFrame, threshold_sd: float = STRENGTH_SD) -> pd.DataFrame:
    """Differences between a region and the mean of its peers, node by node (module docstring).

    Parameters
    ----------
    region_scores : Series
        The region's scores, indexed by node code (NaN = no score).
    peer_scores : DataFrame
        peers x node codes (may have no rows: no peers).
    all_scores : DataFrame
        regions x node codes of the same year, for the cross-regional sd.
    threshold_sd : float
        |difference_sd| at or above which a node is a strength / weakness (> 0).

    Returns
    -------
    DataFrame indexed by code with :data:`PEER_COMPARISON_COLUMNS`: region, peer_mean,
    peers_with_score, difference (region - peer_mean, score points), difference_sd
    (difference / sd over all regions; NaN when fewer than 2 regions have a score or they are
    all equal), flag (``strength`` | ``weakness`` | ``neutral`` | ``no score``).
    """
    if not threshold_sd > 0:
        raise PeerError(f"threshold_sd = {threshold_sd} must be > 0 (in cross-regional "
                        "standard deviations, default 0.5)")
    codes = region_scores.index
    table = pd.DataFrame(dict(region=region_scores,
                              peer_mean=peer_scores.reindex(columns=codes).mean(),
                              peers_with_score=peer_scores.reindex(columns=codes).notna().sum()),
                         index=codes)
    table["difference"] = table["region"] - table["peer_mean"]
    spread = all_scores.reindex(columns=codes).std(ddof=1)
    table["difference_sd"] = table["difference"] / spread.where(spread > 0)
    table["flag"] = np.select(
        [table["difference_sd"].isna(), table["difference_sd"] >= threshold_sd,
         table["difference_sd"] <= -threshold_sd],
        ["no score", "strength", "weakness"], default="neutral")
    return table[PEER_COMPARISON_COLUMNS]


def compare_with_peers(scores: pd.DataFrame, region: str, peers: list[str],
                       threshold_sd: float = STRENGTH_SD) -> pd.DataFrame:
    """:func:`peer_comparison` of ``region`` with ``peers`` from one year's scores.

    Parameters
    ----------
    scores : DataFrame
        geo x node codes (one year, every region: the sd is taken over them).

    Raises
    ------
    PeerError
        The region or a peer is not a row of ``scores``.
    """
    if region not in scores.index:
        example = f" such as {scores.index[0]!r}" if len(scores) else ""
        raise PeerError(f"region {region!r} has no scores; choose one of the {len(scores)} "
                        f"scored regions{example}")
    missing = [p for p in peers if p not in scores.index]
    if missing:
        raise PeerError(f"peers {missing} have no scores; leave them out of the peer list")
    return peer_comparison(scores.loc[region], scores.loc[list(peers)], scores, threshold_sd)
