"""Event study and difference-in-differences template for the pilot regions.

Outcomes (:data:`OUTCOMES`, region x year, estimated in natural logs):

``starred_employment``
    Persons employed in the region's *starred clusters*, with the set of starred cells fixed
    in a pre-period base year (default: the first year of the data), so that later changes in
    stars, which the pilot may cause, do not change the outcome's definition:
    ``S_rt = sum_d w_rd E_rdt``. From the cluster mapping (:func:`starred_cells_from_mapping`:
    categories with ``is_cluster`` in the base year, ``w_rd`` = allocation weights summed over
    the starred categories, capped at 1) or, without it, the documented proxy
    :func:`starred_cells` (divisions with ``LQ_rd >= 2`` in the base year, ``w_rd = 1``; the
    ECO specialisation-star threshold). ``S_rt`` is missing if any starred cell is not
    published in year ``t`` (a partial sum would be a fake drop).
``enterprise_births``
    Enterprise births summed over the NACE sections (business demography); missing if a
    section is missing.
``gdp_per_head``
    GDP per head in EUR (context; an outcome of interest for the narrative, not of the pilot
    action itself).
``employment``
    The region's business-economy employment (the published aggregate, ``regional_totals``).

Estimators (statsmodels OLS, standard errors clustered by pilot / region, t(G - 1) inference):

- two-way fixed-effects DiD, :func:`did`: ``ln y_rt = a_r + l_t + tau D_rt + e_rt`` with
  ``D_rt = P_r 1[t >= t*]`` (``effect="level"``: tau = the average post-period effect) or
  ``D_rt = P_r max(0, t - t* + 1)`` (``effect="trend"``: tau = the effect on the annual growth
  rate from ``t*`` on, a trend break);
- event study, :func:`event_study`: ``ln y_rt = a_r + l_t + sum_{k != -1} b_k P_r 1[t - t* = k]
  + e_rt``; the leads ``b_k, k <= -2`` test for pre-trends (joint Wald F test of ``b_k = 0``).

With one adoption year for every treated unit the TWFE DiD is the plain 2x2 comparison of
means, so the heterogeneity problems of staggered designs (Goodman-Bacon 2021) do not arise.
Reference: Angrist & Pischke (2009), ch. 5; Freyaldenhoven et al. (2021) on event-study plots.

Controls: the pilot regions' peers (``peers.parquet``: the ``k`` best-ranked peers of each
treated region) or, without them, the ``k`` nearest non-pilot regions on the pre-period path
of the outcome (root mean squared difference of ``ln y`` over the pre-period years), see
:func:`select_controls`. Pilot regions are never controls.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import statsmodels.api as sm

from eocic import measures
from eocic.errors import EocicError
from eocic.pilots.regions import PILOT_START_YEAR, pilot_of

OUTCOMES: tuple[str, ...] = ("starred_employment", "enterprise_births", "gdp_per_head",
                             "employment")


class EventStudyError(EocicError, ValueError):
    """The panel cannot identify the effect (no post-period years, no controls, ...)."""


# --------------------------------------------------------------------------- outcomes

def starred_cells(sbs: pd.DataFrame, totals: pd.DataFrame, base_year: int,
                  threshold: float = 2.0, weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Starred cells fixed in ``base_year``: ``geo, nace_r2, weight``.

    Without ``weights`` (the proxy): divisions with ``LQ_rd >= threshold`` in the base year,
    weight 1. With ``weights`` (``category, division, weight``, e.g. allocation weights or the
    demo cluster groups): categories whose ``LQ_rc >= threshold`` (``E_rc = sum_d w_cd E_rd``,
    missing if a part is missing) contribute their divisions with weight ``w_cd`` (summed over
    starred categories, capped at 1).
    """
    lq = measures.division_location_quotients(sbs, totals, base_year)
    if weights is None:
        starred = lq[lq["lq"] >= threshold]
        return (starred.assign(weight=1.0)[["geo", "nace_r2", "weight"]]
                .reset_index(drop=True))
    parts = lq.merge(weights.rename(columns={"division": "nace_r2"}), on="nace_r2")
    parts["weighted"] = parts["weight"] * parts["employment"]
    grouped = parts.groupby(["geo", "category"])
    category = grouped["weighted"].sum(min_count=1).where(grouped["weighted"].count()
                                                          == grouped.size())
    category = category.rename("employment").reset_index()
    regional = lq.drop_duplicates("geo").set_index("geo")["regional_employment"]
    category["regional_employment"] = category["geo"].map(regional)
    category["lq"] = measures.location_quotients(category, by=("category",))
    chosen = category.loc[category["lq"] >= threshold, ["geo", "category"]]
    return _cells_of_categories(chosen, weights)


def _cells_of_categories(chosen: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    cells = chosen.merge(weights, on="category").rename(columns={"division": "nace_r2"})
    cells = cells.groupby(["geo", "nace_r2"], sort=True)["weight"].sum().clip(upper=1.0)
    return cells.reset_index()[["geo", "nace_r2", "weight"]]


def starred_cells_from_mapping(cluster_mapping: pd.DataFrame, weights: pd.DataFrame,
                               base_year: int, scheme: str = "cluster") -> pd.DataFrame:
    """Starred cells from the cluster mapping: categories of ``scheme`` with ``is_cluster`` in
    ``base_year``, expanded to divisions with the allocation ``weights``."""
    rows = cluster_mapping[(cluster_mapping["scheme"] == scheme)
                           & (cluster_mapping["year"] == base_year)
                           & cluster_mapping["is_cluster"].fillna(False).astype(bool)]
    if rows.empty:
        raise EventStudyError(f"cluster_mapping has no {scheme} clusters in {base_year}")
    return _cells_of_categories(rows[["geo", "category"]], weights)


def starred_employment(sbs: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``geo, year, value``: ``S_rt = sum_d w_rd E_rdt`` over the starred ``cells``; missing
    when a starred cell is not published in that year."""
    panel = sbs[["geo", "nace_r2", "year", "employment"]].merge(cells, on=["geo", "nace_r2"])
    panel["weighted"] = panel["weight"] * panel["employment"]
    grouped = panel.groupby(["geo", "year"], sort=True)["weighted"]
    expected = cells.groupby("geo").size()
    value = grouped.sum(min_count=1)
    complete = grouped.count() == value.index.get_level_values("geo").map(expected).to_numpy()
    return value.where(complete).rename("value").reset_index()


def outcome_panel(outcome: str, *, sbs: pd.DataFrame | None = None,
                  demography: pd.DataFrame | None = None, context: pd.DataFrame | None = None,
                  cells: pd.DataFrame | None = None,
                  totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One outcome as a region x year panel: ``geo, year, value`` (levels; missing kept).

    ``cells`` (starred cells) is needed for ``starred_employment``; see :data:`OUTCOMES`.
    """
    if outcome not in OUTCOMES:
        raise EventStudyError(f"unknown outcome {outcome!r}; use one of {OUTCOMES}")
    needs = {"starred_employment": ("sbs", sbs), "employment": ("regional_totals", totals),
             "enterprise_births": ("demography", demography),
             "gdp_per_head": ("context", context)}[outcome]
    if needs[1] is None:
        raise EventStudyError(f"outcome {outcome} needs the {needs[0]} table, which is absent")
    if outcome == "starred_employment":
        if cells is None:
            raise EventStudyError("starred_employment needs the starred cells (starred_cells)")
        return starred_employment(sbs, cells)
    if outcome == "employment":
        return (totals[["geo", "year", "employment"]].rename(columns={"employment": "value"})
                .sort_values(["geo", "year"], kind="mergesort").reset_index(drop=True))
    if outcome == "enterprise_births":
        births = demography[demography["indicator"] == "births"]
        grouped = births.groupby(["geo", "year"], sort=True)["value"]
        value = grouped.sum(min_count=1).where(grouped.count() == grouped.size())
        return value.rename("value").reset_index()
    rows = context[context["indicator"] == "gdp_eur_per_head"]
    return (rows[["geo", "year", "value"]].sort_values(["geo", "year"], kind="mergesort")
            .reset_index(drop=True))


# --------------------------------------------------------------------------- controls

def select_controls(panel: pd.DataFrame, treated: list[str], event_year: int = PILOT_START_YEAR,
                    *, peers: pd.DataFrame | None = None, k: int = 5,
                    min_pre_years: int = 3, match_on: str = "path") -> pd.DataFrame:
    """Control regions for each treated region.

    Returns ``geo`` (treated), ``control``, ``distance``, ``rank`` (1 = closest), ``basis``
    (``peers`` or ``pre-period outcome``). With ``peers`` (``geo, peer, distance, rank``), the
    ``k`` best-ranked non-pilot peers that have the outcome; otherwise the ``k`` non-pilot
    regions nearest on ``sqrt(mean_t (ln y_treated,t - ln y_control,t)^2)`` over the
    pre-period years ``t < event_year`` both observe (at least ``min_pre_years``).
    """
    pilots = set(pilot_of())
    observed = set(panel.loc[panel["value"] > 0, "geo"])
    if peers is not None and not peers.empty:
        candidates = peers[peers["geo"].isin(treated) & ~peers["peer"].isin(pilots)
                           & peers["peer"].isin(observed)]
        candidates = candidates.sort_values(["geo", "rank", "peer"], kind="mergesort")
        chosen = candidates.groupby("geo").head(k).copy()
        chosen["rank"] = chosen.groupby("geo").cumcount() + 1
        return (chosen.rename(columns={"peer": "control"})
                .assign(basis="peers")[["geo", "control", "distance", "rank", "basis"]]
                .reset_index(drop=True))
    pre = panel[(panel["year"] < event_year) & (panel["value"] > 0)]
    wide = np.log(pre.pivot(index="geo", columns="year", values="value"))
    if match_on == "path":
        wide = wide.sub(wide.mean(axis=1), axis=0)
    elif match_on != "level":
        raise EventStudyError(f"match_on {match_on!r}: use 'path' or 'level'")
    pool = wide.loc[[g for g in wide.index if g not in pilots]]
    rows = []
    for geo in treated:
        if geo not in wide.index:
            continue
        difference = pool.sub(wide.loc[geo], axis=1)
        common = difference.notna().sum(axis=1)
        distance = np.sqrt((difference ** 2).mean(axis=1)).where(common >= min_pre_years)
        distance = distance.dropna().sort_index().sort_values(kind="mergesort").head(k)
        for rank, (control, value) in enumerate(distance.items(), start=1):
            rows.append({"geo": geo, "control": control, "distance": float(value),
                         "rank": rank, "basis": "pre-period outcome"})
    return pd.DataFrame(rows, columns=["geo", "control", "distance", "rank", "basis"])


def estimation_sample(panel: pd.DataFrame, treated: list[str], controls: list[str]) -> pd.DataFrame:
    """``geo, year, y = ln value, treated (0/1), cluster`` for the treated and control regions;
    rows with a missing or non-positive value are left out (count them with
    :func:`sample_losses`). ``cluster`` is the pilot of a treated region, the region itself
    for a control."""
    membership = pilot_of()
    keep = panel[panel["geo"].isin(set(treated) | set(controls))].copy()
    keep = keep[keep["value"] > 0]
    keep["y"] = np.log(keep["value"])
    keep["treated"] = keep["geo"].isin(treated).astype("int64")
    keep["cluster"] = [membership.get(g, g) if t else g for g, t in zip(keep["geo"], keep["treated"])]
    return keep[["geo", "year", "y", "treated", "cluster"]].sort_values(
        ["geo", "year"], kind="mergesort").reset_index(drop=True)


def sample_losses(panel: pd.DataFrame, regions: list[str]) -> int:
    """Region-years of ``regions`` in ``panel`` whose value is missing or not positive."""
    part = panel[panel["geo"].isin(regions)]
    return int((~(part["value"] > 0)).sum())


# --------------------------------------------------------------------------- estimation

@dataclasses.dataclass(frozen=True)
class DidResult:
    """Two-way FE DiD estimate: ``coef`` (log points; ``effect`` level or trend), ``se``
    (cluster-robust), 95 % ``ci_low``/``ci_high`` (t with G-1 df), ``p_value``, sample counts."""

    effect: str
    coef: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_obs: int
    n_regions: int
    n_treated: int
    n_clusters: int
    first_year: int
    last_year: int
    event_year: int


@dataclasses.dataclass(frozen=True)
class EventStudyResult:
    """Event-study coefficients (``table``: ``event_time, year, coef, se, ci_low, ci_high``;
    the reference period has coef 0 and no SE) and the pre-trend test (joint F of the leads)."""

    table: pd.DataFrame
    pretrend_f: float
    pretrend_p: float
    pretrend_df: tuple[int, int]
    n_obs: int
    n_regions: int
    n_treated: int
    n_clusters: int
    event_year: int
    reference: int


def post_period_years(years: pd.Series | list[int], event_year: int) -> list[int]:
    """Years of the data at or after ``event_year``."""
    return sorted({int(y) for y in years if y >= event_year})


def _check_identified(sample: pd.DataFrame, event_year: int) -> None:
    years = sorted(sample["year"].unique())
    if sample.empty:
        raise EventStudyError("the estimation sample is empty (no treated or control data)")
    if not post_period_years(years, event_year):
        raise EventStudyError(
            f"no year at or after {event_year} in the data (years {years[0]}-{years[-1]}): "
            "the post-period is missing, so no effect can be estimated; show the pre-period "
            "profile only")
    if min(years) >= event_year:
        raise EventStudyError(f"no pre-period year before {event_year}")
    if sample["treated"].nunique() < 2:
        raise EventStudyError("need both treated and control regions")


def _fit(sample: pd.DataFrame, treatment: pd.DataFrame, region_trends: bool = False):
    fixed = pd.get_dummies(sample[["geo", "year"]].astype(str), drop_first=True, dtype=float)
    parts = [treatment, fixed]
    if region_trends:
        regions = pd.get_dummies(sample["geo"], dtype=float)
        time = (sample["year"] - sample["year"].min()).astype(float)
        trends = regions.mul(time, axis=0).iloc[:, 1:]
        trends.columns = [f"trend_{c}" for c in trends.columns]
        parts.append(trends)
    design = pd.concat(parts, axis=1)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        raise EventStudyError("the design matrix is rank-deficient (a region with too few "
                              "years, or no variation in the treatment); check the sample")
    design.insert(0, "const", 1.0)
    groups = pd.factorize(sample["cluster"], sort=True)[0]
    model = sm.OLS(sample["y"].to_numpy(), design)
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def _inference(fit, terms: list[str], level: float = 0.95) -> pd.DataFrame:
    """Coefficient, cluster-robust standard error, t(G - 1) confidence interval and p-value of
    ``terms`` only, from the variance matrix of the fit.

    The fixed-effect dummies of a region that is its own cluster have a cluster-robust variance
    that is not positive (one cluster cannot estimate it); statsmodels' ``bse`` would take the
    square root of every diagonal element and warn. The terms of interest are identified by
    many clusters, so only their diagonal is used.
    """
    from scipy import stats

    variance = np.diag(fit.cov_params().loc[terms, terms].to_numpy())
    coef = fit.params[terms].to_numpy()
    se = np.sqrt(variance)
    df = float(fit.df_resid_inference)
    critical = stats.t.ppf(0.5 + level / 2, df)
    p_value = 2 * stats.t.sf(np.abs(coef / se), df)
    return pd.DataFrame({"coef": coef, "se": se, "ci_low": coef - critical * se,
                         "ci_high": coef + critical * se, "p_value": p_value}, index=terms)


def did(sample: pd.DataFrame, event_year: int = PILOT_START_YEAR,
        effect: str = "level", region_trends: bool = False) -> DidResult:
    """Two-way fixed-effects DiD on :func:`estimation_sample` (see the module docstring).

    ``region_trends=True`` adds a linear trend per region (``+ c_r t``; Angrist & Pischke
    2009, 5.2): with ``effect="trend"`` the effect is then the *break* in each region's own
    growth path at ``event_year``, robust to regions growing at different constant rates.
    Regions with fewer than 3 years are left out of that model (they cannot carry a trend).
    """
    _check_identified(sample, event_year)
    if region_trends:
        years_per_region = sample.groupby("geo")["year"].transform("size")
        sample = sample[years_per_region >= 3]
    if effect == "level":
        dose = (sample["year"] >= event_year).astype(float)
    elif effect == "trend":
        dose = (sample["year"] - event_year + 1).clip(lower=0).astype(float)
    else:
        raise EventStudyError(f"effect {effect!r}: use 'level' or 'trend'")
    treatment = pd.DataFrame({"D": sample["treated"] * dose}, index=sample.index)
    fit = _fit(sample, treatment, region_trends)
    term = _inference(fit, ["D"]).loc["D"]
    return DidResult(effect=effect + (" + region trends" if region_trends else ""),
                     coef=float(term["coef"]), se=float(term["se"]),
                     ci_low=float(term["ci_low"]), ci_high=float(term["ci_high"]),
                     p_value=float(term["p_value"]),
                     n_obs=int(fit.nobs), n_regions=int(sample["geo"].nunique()),
                     n_treated=int(sample.loc[sample["treated"] == 1, "geo"].nunique()),
                     n_clusters=int(sample["cluster"].nunique()),
                     first_year=int(sample["year"].min()), last_year=int(sample["year"].max()),
                     event_year=int(event_year))


def _event_name(k: int) -> str:
    return f"lead_{-k}" if k < 0 else f"lag_{k}"


def event_study(sample: pd.DataFrame, event_year: int = PILOT_START_YEAR,
                reference: int = -1) -> EventStudyResult:
    """Event-study leads and lags with the pre-trend test (see the module docstring)."""
    _check_identified(sample, event_year)
    event_time = sample["year"] - event_year
    times = sorted(int(k) for k in event_time.unique() if k != reference)
    treatment = pd.DataFrame(
        {_event_name(k): ((event_time == k) & (sample["treated"] == 1)).astype(float)
         for k in times}, index=sample.index)
    fit = _fit(sample, treatment)
    terms = _inference(fit, [_event_name(k) for k in times])
    rows = [{"event_time": k, "year": event_year + k,
             **{column: float(terms.loc[_event_name(k), column])
                for column in ("coef", "se", "ci_low", "ci_high")}} for k in times]
    rows.append({"event_time": reference, "year": event_year + reference, "coef": 0.0,
                 "se": np.nan, "ci_low": np.nan, "ci_high": np.nan})
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    leads = [_event_name(k) for k in times if k < reference]
    if leads:
        test = fit.f_test(", ".join(f"{name} = 0" for name in leads))
        f_value, p_value = float(np.squeeze(test.fvalue)), float(test.pvalue)
        df = (int(test.df_num), int(test.df_denom))
    else:
        f_value, p_value, df = np.nan, np.nan, (0, 0)
    return EventStudyResult(table=table, pretrend_f=f_value, pretrend_p=p_value, pretrend_df=df,
                            n_obs=int(fit.nobs), n_regions=int(sample["geo"].nunique()),
                            n_treated=int(sample.loc[sample["treated"] == 1, "geo"].nunique()),
                            n_clusters=int(sample["cluster"].nunique()),
                            event_year=int(event_year), reference=int(reference))


def did_table(results: list[DidResult]) -> pd.DataFrame:
    """DiD results as a table (one row per result). With an ``outcome`` column it is the
    ``pilot_did`` table (:data:`eocic.tables.PILOT_DID`), which notebook 07 writes with
    ``eocic.tables.write_table(frame, "pilot_did", processed_dir)`` (and the event-study
    ``table`` with an ``outcome`` column as ``pilot_event_study``)."""
    return pd.DataFrame([dataclasses.asdict(r) for r in results])


# --------------------------------------------------------------------------- demo truth

def planted_effect(truth: dict, cells: pd.DataFrame, sbs: pd.DataFrame, treated: list[str],
                   base_year: int) -> dict[str, float]:
    """The demo economy's planted pilot effect, and what it implies for this outcome.

    The demo plants ``truth["parameters"]["pilot_effect_per_year"]`` on the growth of the
    cells in ``truth["pilot_treated_cells"]``. On ``ln S_rt`` (employment in the starred
    ``cells``) that growth effect is diluted by the share ``w_r`` of the region's base-year
    starred employment in treated cells: ``d ln S_rt / dt ~= w_r * pilot``. The trend DiD then
    estimates ``pilot * mean_r w_r`` (treated regions weighted equally).

    Returns ``{"per_cell": pilot, "treated_share": mean w_r, "implied_trend": pilot * mean w_r}``.
    """
    pilot = float(truth["parameters"]["pilot_effect_per_year"])
    planted = {tuple(c) for c in truth["pilot_treated_cells"]}
    base = sbs[sbs["year"] == base_year][["geo", "nace_r2", "employment"]].merge(
        cells, on=["geo", "nace_r2"])
    base = base[base["geo"].isin(treated)]
    base["weighted"] = base["weight"] * base["employment"]
    base["planted"] = [(g, d) in planted for g, d in zip(base["geo"], base["nace_r2"])]
    total = base.groupby("geo")["weighted"].sum()
    inside = base[base["planted"]].groupby("geo")["weighted"].sum().reindex(total.index,
                                                                           fill_value=0.0)
    share = float((inside / total).mean())
    return {"per_cell": pilot, "treated_share": share, "implied_trend": pilot * share}
