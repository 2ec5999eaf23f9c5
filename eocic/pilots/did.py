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

Estimators: every model is fitted by the one estimation engine,
:func:`eocic.models.engine.fit` (pyfixest, region and year fixed effects absorbed), with
standard errors clustered by pilot (the parts of a pilot share one cluster; each control
region is its own) and the engine's fixest defaults (:data:`INFERENCE`):

- two-way fixed-effects DiD, :func:`did`: ``ln y_rt = a_r + l_t + tau D_rt + e_rt`` with
  ``D_rt = P_r 1[t >= t*]`` (``effect="level"``: tau = the average post-period effect) or
  ``D_rt = P_r max(0, t - t* + 1)`` (``effect="trend"``: tau = the effect on the annual growth
  rate from ``t*`` on, a trend break);
- event study, :func:`event_study`: ``ln y_rt = a_r + l_t + sum_{k != -1} b_k P_r 1[t - t* = k]
  + e_rt``; the leads ``b_k, k <= -2`` test for pre-trends (joint Wald F test of ``b_k = 0``
  with the CRV1 variance, F(q, G-1)).

With one adoption year for every treated unit the TWFE DiD is the plain 2x2 comparison of
means, so the heterogeneity problems of staggered designs (Goodman-Bacon 2021) do not arise.
Reference: Angrist & Pischke (2009), ch. 5; Freyaldenhoven et al. (2021) on event-study plots.

Inference (:mod:`eocic.pilots.inference`): about ten treated clusters are few, and CRV1 with
t(G-1) over-rejects then (MacKinnon & Webb 2017). Every DiD estimate therefore carries three
p-values and intervals: CRV1, the restricted wild cluster bootstrap (Webb weights when the
clusters are few) and randomisation inference over pilot-sized sets of regions; every
event-study coefficient carries CRV1 and the wild bootstrap. :func:`inference_footer` states
N, the clusters, the SE correction, the bootstrap and the permutations under every table.

Controls (:func:`select_controls`): the ``k`` nearest regions of each treated region on
*pre-period covariates* (manufacturing share, ln employment, ln GDP per head; Mahalanobis on
standardised pre-period means, :func:`pre_period_covariates`), never on the outcome path,
which would bias the pre-trend test toward passing (Roth 2022). The seed pilots and the two
other pilots of the action (Grand Est, Greater Manchester,
:data:`eocic.pilots.regions.EXCLUDED_FROM_CONTROLS`) are never controls.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import scipy.stats
from threadpoolctl import threadpool_limits

from eocic import measures
from eocic.errors import EocicError
from eocic.models import engine
from eocic.models.engine import Inference
from eocic.pilots import inference, regions
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

COVARIATES: tuple[str, ...] = ("manufacturing_share", "ln_employment", "ln_gdp_per_head")
"""Pre-period covariates the controls are matched on (:func:`pre_period_covariates`)."""


def pre_period_covariates(event_year: int, *, sbs: pd.DataFrame, totals: pd.DataFrame,
                          context: pd.DataFrame | None = None
                          ) -> tuple[pd.DataFrame, list[str]]:
    """Every region's pre-period means of :data:`COVARIATES` (index ``geo``) and notes.

    Means over the years ``t < event_year`` each region has:

    ``manufacturing_share``
        Structure: SBS persons employed in NACE section C (divisions C10-C33) / all SBS
        persons employed, that year (fraction).
    ``ln_employment``
        Size: ln business-economy persons employed (``regional_totals``).
    ``ln_gdp_per_head``
        Income: ln GDP per head in PPS (EUR when PPS is absent, noted), from ``context``;
        left out (noted) without it.

    A region with a covariate missing in every pre-period year has it missing (and cannot be
    matched: :func:`select_controls`).
    """
    notes: list[str] = []
    rows = sbs[(sbs["year"] < event_year)].dropna(subset=["employment"])
    if rows.empty:
        raise EventStudyError(f"no SBS employment before {event_year}: the controls are "
                              "matched on pre-period covariates, which need pre-period data")
    grouped = rows.groupby(["geo", "year"])["employment"]
    manufacturing = (rows[rows["nace_r2"].str.startswith("C")]
                     .groupby(["geo", "year"])["employment"].sum())
    total = grouped.sum()
    share = (manufacturing.reindex(total.index, fill_value=0.0) / total.where(total > 0))
    variables = {"manufacturing_share": share.groupby(level="geo").mean()}
    size = totals[(totals["year"] < event_year) & (totals["employment"] > 0)]
    variables["ln_employment"] = np.log(size["employment"]).groupby(size["geo"]).mean()
    if context is not None:
        for code, label in (("gdp_pps_per_head", "PPS"), ("gdp_eur_per_head", "EUR")):
            income = context[(context["indicator"] == code) & (context["year"] < event_year)
                             & (context["value"] > 0)]
            if not income.empty:
                variables["ln_gdp_per_head"] = np.log(income["value"]).groupby(
                    income["geo"]).mean()
                if label == "EUR":
                    notes.append("income: GDP per head in EUR (PPS not available)")
                break
    if "ln_gdp_per_head" not in variables:
        notes.append("income (GDP per head) left out of the matching: no pre-period GDP in "
                     "the context table")
    frame = pd.DataFrame(variables)
    frame.index.name = "geo"
    return frame.sort_index(), notes


def select_controls(covariates: pd.DataFrame, treated: list[str], *, k: int = 5,
                    eligible: set[str] | None = None) -> pd.DataFrame:
    """The ``k`` nearest eligible regions of each treated region on pre-period covariates.

    Distance: Mahalanobis on the standardised pre-period means (``covariates``, e.g.
    :func:`pre_period_covariates`): every covariate z-scored over the treated regions and the
    pool, ``d(i, j) = sqrt((z_i - z_j)' S^-1 (z_i - z_j))`` with ``S`` the covariance of the
    z-scores over the same regions (pseudo-inverse if singular), so that correlated covariates
    (size and income) do not count twice. Matching with replacement: a region may be the
    control of several treated regions; the control group is the union.

    Pool: regions with every covariate, never a seed pilot nor one of
    :data:`eocic.pilots.regions.EXCLUDED_FROM_CONTROLS` (Grand Est, Greater Manchester), and
    in ``eligible`` when given (e.g. the regions with the outcome).

    Why covariates and not the outcome: choosing controls whose pre-period *outcome path*
    matches the treated regions makes the event-study leads small by construction, so the
    pre-trend test can no longer fail, and conditioning on passing it biases the estimates
    (Roth 2022, "Pretest with caution", AER: Insights 4); it also invites regression to the
    mean (Daw & Hatfield 2018). Covariates fixed before the event (structure, size, income)
    leave the leads free to reveal diverging trends.

    Returns ``geo`` (treated), ``control``, ``distance``, ``rank`` (1 = closest), ``basis``.
    A treated region lacking a covariate gets no control (and no row).

    Raises
    ------
    EventStudyError
        No covariate, ``k < 1`` or an empty pool.
    """
    if covariates.shape[1] == 0:
        raise EventStudyError("no pre-period covariate to match the controls on")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise EventStudyError(f"k (controls per treated region) must be a positive integer, "
                              f"got {k!r}")
    complete = covariates.dropna()
    never = regions.never_controls()
    pool = [g for g in complete.index if g not in never and (eligible is None or g in eligible)]
    if not pool:
        raise EventStudyError("no eligible control region has every pre-period covariate "
                              f"({', '.join(covariates.columns)})")
    matched = [g for g in treated if g in complete.index]
    reference = complete.loc[sorted(set(pool) | set(matched))]
    spread = reference.std(ddof=1).replace(0, np.nan)
    z = ((reference - reference.mean()) / spread).dropna(axis=1, how="all").fillna(0.0)
    inverse = np.linalg.pinv(np.atleast_2d(np.cov(z.to_numpy(), rowvar=False)))
    pool_z = z.loc[pool].to_numpy()
    rows = []
    for geo in matched:
        difference = pool_z - z.loc[geo].to_numpy()
        distance = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", difference, inverse,
                                                difference), 0.0))
        ranked = (pd.Series(distance, index=pool).sort_index()
                  .sort_values(kind="mergesort").head(int(k)))
        for rank, (control, value) in enumerate(ranked.items(), start=1):
            rows.append({"geo": geo, "control": control, "distance": float(value),
                         "rank": rank, "basis": "pre-period covariates (Mahalanobis)"})
    return pd.DataFrame(rows, columns=["geo", "control", "distance", "rank", "basis"])


def covariate_balance(covariates: pd.DataFrame, treated: list[str],
                      controls: list[str]) -> pd.DataFrame:
    """Pre-period means of the treated regions, their controls and the whole pool, and the
    standardised difference ``(treated - controls) / sd(pool)`` per covariate (``|d| < 0.25``
    is the usual "balanced", Imbens & Rubin 2015, ch. 14)."""
    never = regions.never_controls()
    pool = covariates.loc[[g for g in covariates.index if g not in never]]
    part_t = covariates.reindex(treated)
    part_c = covariates.reindex(controls)
    return pd.DataFrame({
        "covariate": covariates.columns,
        "treated": part_t.mean().to_numpy(), "controls": part_c.mean().to_numpy(),
        "pool": pool.mean().to_numpy(),
        "standardised_difference": ((part_t.mean() - part_c.mean())
                                    / pool.std(ddof=1).replace(0, np.nan)).to_numpy()})


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

INFERENCE = Inference(vcov="CRV1", clusters=("pilot",))
"""CRV1 by pilot / region with the engine's defaults (fixest's: ``(N-1)/(N-K) x G/(G-1)``, region
fixed effects nested in the clusters not counted in K, t(G-1) p-values)."""


@dataclasses.dataclass(frozen=True)
class FewClusterSettings:
    """Draws and seed of the wild cluster bootstrap and of randomisation inference
    (:mod:`eocic.pilots.inference`), and the interval level."""

    bootstrap_draws: int = inference.BOOTSTRAP_DRAWS
    permutation_draws: int = inference.PERMUTATION_DRAWS
    seed: int = inference.SEED
    level: float = 0.95

    def __post_init__(self) -> None:
        for name in ("bootstrap_draws", "permutation_draws"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 99:
                raise EventStudyError(f"{name} must be an integer >= 99, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise EventStudyError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclasses.dataclass(frozen=True)
class DidResult:
    """Two-way FE DiD estimate: ``coef`` (log points; ``effect`` level or trend) with three
    inferences: CRV1 (``se``, 95 % ``ci_low``/``ci_high`` with t(G-1), ``p_value``), the
    restricted wild cluster bootstrap (``p_wild``, ``ci_low_wild``/``ci_high_wild``) and
    randomisation inference (``p_ri``, ``ci_low_ri``/``ci_high_ri``); sample counts; the
    bootstrap weights and draws and the permutation draws; ``covariance`` (the engine's footer
    text)."""

    effect: str
    coef: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    p_wild: float
    ci_low_wild: float
    ci_high_wild: float
    p_ri: float
    ci_low_ri: float
    ci_high_ri: float
    n_obs: int
    n_regions: int
    n_treated: int
    n_clusters: int
    n_treated_clusters: int
    first_year: int
    last_year: int
    event_year: int
    wild_weights: str
    wild_draws: int
    ri_draws: int
    seed: int
    covariance: str


@dataclasses.dataclass(frozen=True)
class EventStudyResult:
    """Event-study coefficients (``table``: ``event_time, year, coef, se, ci_low, ci_high,
    p_value`` (CRV1, t(G-1)), ``p_wild, ci_low_wild, ci_high_wild`` (wild cluster bootstrap);
    the reference period has coef 0 and nothing else) and the pre-trend test (joint Wald F of
    the leads with the CRV1 variance, F(q, G-1))."""

    table: pd.DataFrame
    pretrend_f: float
    pretrend_p: float
    pretrend_df: tuple[int, int]
    n_obs: int
    n_regions: int
    n_treated: int
    n_clusters: int
    n_treated_clusters: int
    event_year: int
    reference: int
    wild_weights: str
    wild_draws: int
    seed: int
    covariance: str


def post_period_years(years: pd.Series | list[int], event_year: int) -> list[int]:
    """Years of the data at or after ``event_year``."""
    return sorted({int(y) for y in years if y >= event_year})


def _check_identified(sample: pd.DataFrame, event_year: int) -> None:
    if sample.empty:
        raise EventStudyError("the estimation sample is empty (no treated or control data)")
    years = sorted(sample["year"].unique())
    if not post_period_years(years, event_year):
        raise EventStudyError(
            f"no year at or after {event_year} in the data (years {years[0]}-{years[-1]}): "
            "the post-period is missing, so no effect can be estimated; show the pre-period "
            "profile only")
    if min(years) >= event_year:
        raise EventStudyError(f"no pre-period year before {event_year}")
    if sample["treated"].nunique() < 2:
        raise EventStudyError("need both treated and control regions")


def drop_singletons(sample: pd.DataFrame) -> pd.DataFrame:
    """``sample`` without regions observed in one year only and years with one region,
    repeated until none is left (a singleton is fitted by its own fixed effect and carries no
    identifying variation; fixest drops them too). Done here so that the engine, the wild
    bootstrap and the permutations all use the same rows."""
    while len(sample):
        single_region = sample.groupby("geo")["year"].transform("size") < 2
        single_year = sample.groupby("year")["geo"].transform("size") < 2
        if not (single_region | single_year).any():
            break
        sample = sample[~(single_region | single_year)]
    return sample.reset_index(drop=True)


@dataclasses.dataclass
class _Model:
    """One DiD / event-study model in the two forms it is needed in: the engine's frame
    (``terms`` as regressors, ``geo`` and ``year`` absorbed) and dense arrays for the bootstrap
    and the permutations (``terms`` first, then the dummies and trends in ``controls``)."""

    frame: pd.DataFrame
    terms: list[str]
    trends: list[str]
    controls: np.ndarray
    region: np.ndarray


def _model(sample: pd.DataFrame, treatment: pd.DataFrame, region_trends: bool) -> _Model:
    frame = pd.concat([sample.reset_index(drop=True), treatment.reset_index(drop=True)], axis=1)
    frame["pilot"] = frame["cluster"]      # the cluster unit, named as the footer reads it
    region = pd.factorize(frame["geo"], sort=True)[0]
    dummies = [pd.get_dummies(frame["geo"], dtype=float).to_numpy(),
               pd.get_dummies(frame["year"], dtype=float, drop_first=True).to_numpy()]
    trends: list[str] = []
    if region_trends:
        time = (frame["year"] - frame["year"].min()).to_numpy(float)
        slopes = pd.get_dummies(frame["geo"], dtype=float).to_numpy() * time[:, None]
        slopes = slopes[:, 1:]        # the first region's trend is the year effects' span
        trends = [f"region_trend_{i}" for i in range(slopes.shape[1])]
        frame = pd.concat([frame, pd.DataFrame(slopes, columns=trends)], axis=1)
        dummies.append(slopes)
    return _Model(frame=frame, terms=list(treatment.columns), trends=trends,
                  controls=np.column_stack(dummies), region=region)


def _engine_fit(model: _Model, label: str):
    with threadpool_limits(limits=inference.BLAS_THREADS, user_api="blas"):
        result = engine.fit(model.frame, "y", [*model.terms, *model.trends], ["geo", "year"],
                            INFERENCE, label=label)
    if result.singletons:
        raise EventStudyError(f"{label}: the engine dropped {result.singletons} singleton rows "
                              "that drop_singletons kept; the bootstrap would use other rows")
    return result


def _wild(model: _Model, settings: FewClusterSettings, weights: str) -> list:
    design = np.column_stack([model.frame[model.terms].to_numpy(float), model.controls])
    return inference.wild_cluster_bootstrap(
        design, model.frame["y"].to_numpy(float), model.frame["cluster"].to_numpy(),
        list(range(len(model.terms))), weights=weights, draws=settings.bootstrap_draws,
        seed=settings.seed, level=settings.level)


def _cluster_counts(sample: pd.DataFrame) -> tuple[int, int]:
    treated = sample.loc[sample["treated"] == 1, "cluster"].nunique()
    return int(sample["cluster"].nunique()), int(treated)


def did(sample: pd.DataFrame, event_year: int = PILOT_START_YEAR,
        effect: str = "level", region_trends: bool = False,
        settings: FewClusterSettings | None = None) -> DidResult:
    """Two-way fixed-effects DiD on :func:`estimation_sample` (see the module docstring),
    fitted by :func:`eocic.models.engine.fit`, with CRV1, wild-bootstrap and randomisation
    inference (``settings``: draws and seed; defaults of :class:`FewClusterSettings`).

    ``region_trends=True`` adds a linear trend per region (``+ c_r t``; Angrist & Pischke
    2009, 5.2): with ``effect="trend"`` the effect is then the *break* in each region's own
    growth path at ``event_year``, robust to regions growing at different constant rates.
    Regions with fewer than 3 years are left out of that model (they cannot carry a trend).
    Singleton regions and years are dropped first (:func:`drop_singletons`).
    """
    settings = settings or FewClusterSettings()
    if effect not in ("level", "trend"):
        raise EventStudyError(f"effect {effect!r}: use 'level' or 'trend'")
    sample = drop_singletons(sample)
    if region_trends:
        years_per_region = sample.groupby("geo")["year"].transform("size")
        sample = sample[years_per_region >= 3].reset_index(drop=True)
    _check_identified(sample, event_year)
    if effect == "level":
        dose = (sample["year"] >= event_year).astype(float)
    else:
        dose = (sample["year"] - event_year + 1).clip(lower=0).astype(float)
    treatment = pd.DataFrame({"D": sample["treated"] * dose})
    model = _model(sample, treatment, region_trends)
    label = f"pilot DiD ({effect}{' + region trends' if region_trends else ''})"
    fitted = _engine_fit(model, label)
    term = fitted.coefficients().loc["D"]
    n_clusters, n_treated_clusters = _cluster_counts(sample)
    weights = inference.wild_weights_for(n_treated_clusters, n_clusters - n_treated_clusters)
    wild = _wild(model, settings, weights)[0]
    treated_regions = (sample.groupby("geo", sort=True)["treated"].max() == 1).to_numpy()
    ri = inference.randomisation_inference(
        model.controls, model.frame["y"].to_numpy(float), model.region, treated_regions,
        dose.to_numpy(float), draws=settings.permutation_draws, seed=settings.seed,
        level=settings.level)
    return DidResult(effect=effect + (" + region trends" if region_trends else ""),
                     coef=float(term["coef"]), se=float(term["se"]),
                     ci_low=float(term["ci_low"]), ci_high=float(term["ci_high"]),
                     p_value=float(term["pvalue"]), p_wild=wild.p_value,
                     ci_low_wild=wild.ci_low, ci_high_wild=wild.ci_high, p_ri=ri.p_value,
                     ci_low_ri=ri.ci_low, ci_high_ri=ri.ci_high,
                     n_obs=int(fitted.nobs), n_regions=int(sample["geo"].nunique()),
                     n_treated=int(sample.loc[sample["treated"] == 1, "geo"].nunique()),
                     n_clusters=n_clusters, n_treated_clusters=n_treated_clusters,
                     first_year=int(sample["year"].min()), last_year=int(sample["year"].max()),
                     event_year=int(event_year), wild_weights=wild.weights,
                     wild_draws=wild.draws, ri_draws=ri.draws, seed=int(settings.seed),
                     covariance=fitted.describe())


def _event_name(k: int) -> str:
    return f"lead_{-k}" if k < 0 else f"lag_{k}"


def event_study(sample: pd.DataFrame, event_year: int = PILOT_START_YEAR,
                reference: int = -1, settings: FewClusterSettings | None = None
                ) -> EventStudyResult:
    """Event-study leads and lags with the pre-trend test (see the module docstring); CRV1
    and wild-bootstrap inference per coefficient (:func:`did` for ``settings``)."""
    settings = settings or FewClusterSettings()
    sample = drop_singletons(sample)
    _check_identified(sample, event_year)
    event_time = sample["year"] - event_year
    times = sorted(int(k) for k in event_time.unique() if k != reference)
    names = [_event_name(k) for k in times]
    treatment = pd.DataFrame(
        {_event_name(k): ((event_time == k) & (sample["treated"] == 1)).astype(float)
         for k in times})
    model = _model(sample, treatment, region_trends=False)
    fitted = _engine_fit(model, "pilot event study")
    terms = fitted.coefficients()
    n_clusters, n_treated_clusters = _cluster_counts(sample)
    weights = inference.wild_weights_for(n_treated_clusters, n_clusters - n_treated_clusters)
    wild = dict(zip(names, _wild(model, settings, weights)))
    rows = [{"event_time": k, "year": event_year + k,
             "coef": float(terms.loc[name, "coef"]), "se": float(terms.loc[name, "se"]),
             "ci_low": float(terms.loc[name, "ci_low"]),
             "ci_high": float(terms.loc[name, "ci_high"]),
             "p_value": float(terms.loc[name, "pvalue"]), "p_wild": wild[name].p_value,
             "ci_low_wild": wild[name].ci_low, "ci_high_wild": wild[name].ci_high}
            for k, name in zip(times, names)]
    rows.append({"event_time": reference, "year": event_year + reference, "coef": 0.0,
                 **{c: np.nan for c in ("se", "ci_low", "ci_high", "p_value", "p_wild",
                                         "ci_low_wild", "ci_high_wild")}})
    table = pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)
    leads = [name for k, name in zip(times, names) if k < reference]
    if leads:
        coefnames = list(fitted.model._coefnames)
        restriction = np.zeros((len(leads), len(coefnames)))
        for row, name in enumerate(leads):
            restriction[row, coefnames.index(name)] = 1.0
        # Wald F with the engine's CRV1 variance and F(q, G-1), as fixest's wald(); pyfixest
        # 0.60's wald_test() switches to chi2 whenever R is not the identity, so it is not used
        coef = restriction @ fitted.model.coef().reindex(coefnames).to_numpy(float)
        variance = restriction @ np.asarray(fitted.model._vcov, dtype=float) @ restriction.T
        f_value = float(coef @ np.linalg.solve(variance, coef)) / len(leads)
        df = (len(leads), int(round(fitted.df)))
        p_value = float(scipy.stats.f.sf(f_value, *df))
    else:
        f_value, p_value, df = np.nan, np.nan, (0, 0)
    return EventStudyResult(table=table, pretrend_f=f_value, pretrend_p=p_value, pretrend_df=df,
                            n_obs=int(fitted.nobs), n_regions=int(sample["geo"].nunique()),
                            n_treated=int(sample.loc[sample["treated"] == 1, "geo"].nunique()),
                            n_clusters=n_clusters, n_treated_clusters=n_treated_clusters,
                            event_year=int(event_year), reference=int(reference),
                            wild_weights=weights, wild_draws=next(iter(wild.values())).draws,
                            seed=int(settings.seed), covariance=fitted.describe())


DID_COLUMNS = ("effect", "coef", "se", "ci_low", "ci_high", "p_value", "p_wild", "ci_low_wild",
               "ci_high_wild", "p_ri", "ci_low_ri", "ci_high_ri", "n_obs", "n_regions",
               "n_treated", "n_clusters", "n_treated_clusters", "first_year", "last_year",
               "event_year", "wild_weights", "wild_draws", "ri_draws")
"""The columns of :func:`did_table` (the ``pilot_did`` table without ``outcome``)."""


def did_table(results: list[DidResult]) -> pd.DataFrame:
    """DiD results as a table (one row per result, :data:`DID_COLUMNS`). With an ``outcome``
    column it is the ``pilot_did`` table (:data:`eocic.tables.PILOT_DID`), which notebook 07
    writes with ``eocic.tables.write_table(frame, "pilot_did", processed_dir)`` (and the
    event-study ``table`` with an ``outcome`` column as ``pilot_event_study``)."""
    return pd.DataFrame([dataclasses.asdict(r) for r in results], columns=list(DID_COLUMNS))


def inference_footer(results: list[DidResult] | list[EventStudyResult]) -> str:
    """The footer under a DiD table or an event-study figure (``results``: its rows, or the
    one event study): N, the fixed effects, the clusters used (pilots among them), the SE type
    and correction
    (the engine's words), the bootstrap type, weights and draws, the permutation draws and the
    seed. Counts that differ between rows (region trends drop regions with < 3 years) are
    listed in row order."""
    if not results:
        return ""

    def listed(name: str) -> str:
        values = list(dict.fromkeys(
            f"{value:,}" if isinstance(value, (int, np.integer)) else str(value)
            for value in (getattr(r, name) for r in results)))
        return " / ".join(values) if len(values) > 1 else values[0]

    first = results[0]
    parts = [f"N = {listed('n_obs')} region-years, {listed('n_regions')} regions "
             f"({listed('n_treated')} treated)",
             "region and year fixed effects absorbed" + (
                 " (and a linear trend per region in the rows with region trends)"
                 if any("region trends" in getattr(r, "effect", "") for r in results) else ""),
             f"{listed('n_clusters')} clusters used ({listed('n_treated_clusters')} pilots; "
             "each control region is its own cluster)",
             *dict.fromkeys(r.covariance for r in results),
             f"wild cluster bootstrap: restricted (WCR11, null imposed), "
             f"{listed('wild_weights')} weights (Webb when the treated or the control clusters "
             f"are at most {inference.WEBB_MAX_CLUSTERS}, Rademacher otherwise), "
             f"{listed('wild_draws')} draws, interval by test inversion"]
    if isinstance(first, DidResult):
        parts.append(f"randomisation inference: {listed('ri_draws')} random reassignments of "
                     "the treated labels among the sample's regions, p = (1 + #{|tau_perm| >= "
                     "|tau|}) / (1 + draws), interval by inverting a constant effect")
    parts.append(f"seed {first.seed}")
    return "; ".join(parts) + "."


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
