r"""The data-generating process (DGP) of the demo economy: a seeded synthetic EU regional economy.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order, so a seed
gives the same economy on every machine. Indices: region ``r`` (the 242 real NUTS-2 regions of
NUTS 2021, country ``c(r)``), division ``i`` (the 71 NACE Rev. 2 divisions B05-N82 and S95),
section ``s`` (B-N), year ``t`` from ``t0 = first_year`` to ``T = last_year``. Published values
are rounded like Eurostat's (persons and units: integers; wages: 0.1 million EUR), and all
later quantities are computed from the rounded base year, so the planted parameters are
recoverable from the simulated tables (the published files hide the confidential cells of step
9; ``truth_confidential.csv.gz`` holds their values).

1. Base-year employment (persons employed, SBS ``V16110``)
   - region size: ``ln S_r = ln 380000 + nu_c + a_r``, ``nu_c ~ N(0, 0.3^2)``,
     ``a_r ~ N(0, 0.75^2)``;
   - division base share ``s_i`` (EU employment, :data:`~eocic.demo.profiles.DIVISION_PROFILES`);
   - specialisation ``ln x_ri = k_ci + e_ri + K_i (2 xi_r + 0.3 (ln Y_c - mean_c ln Y_c))``,
     ``k_ci ~ N(0, 0.25^2)``, ``e_ri ~ N(0, 0.55^2)``, ``K_i`` = 1 for the knowledge-intensive
     divisions (``KNOWLEDGE_DIVISIONS``), ``xi_r`` the regional GDP residual of step 6 and
     ``Y_c`` the country GDP per head (richer regions hold more high-tech and KIS jobs);
   - planted strong clusters: ``truth["planted_pairs"]`` lists about 80 (region, demo group)
     pairs (every pilot region gets one manufacturing group, the rest are drawn at random);
     all divisions of the group get the multiplier ``m_rg`` that lifts the group's share of
     the region to ``min(L*_rg x EU share of the group, 0.45)`` with target LQ
     ``L*_rg ~ U(2.5, 5)`` (at least 1.5; four sweeps over the pairs, as pairs in one region dilute each other);
   - ``E_ri,t0 = round(S_r * w_ri / sum_j w_rj)`` with ``w_ri = s_i x_ri m_rg(i)``.
2. Location quotients in the base year (from the rounded ``E_t0``; ``E_r`` = sum over the 71
   divisions, ``E_i`` = sum over the 242 regions, ``E`` = grand total)
   - ``LQ_ri = (E_ri / E_r) / (E_i / E)``;
   - ``LQcl_ri`` (cluster LQ excluding the own division) for ``i`` in demo group ``g``:
     ``LQcl_ri = ((G_rg - E_ri) / E_r) / ((G_g - E_i) / E)`` with ``G_rg = sum_{j in g} E_rj``
     and ``G_g = sum_r G_rg``, floored at ``truth["lq_cluster_floor"] = 0.01`` before the log.
     Divisions in no group have no cluster term (their regressor is 0).
3. Employment growth (annual log growth of cell ri)::

       g_ri = mu_i + rho_r + delta * ln LQ_ri + beta * ln LQcl_ri + eps_ri

   with ``delta = -0.02`` (convergence), ``beta = +0.01`` (cluster strength),
   ``mu_i`` = division trend (``truth["division_trend_growth"]``),
   ``rho_r = rho_c + rho'_r`` (``N(0, 0.006^2)`` and ``N(0, 0.004^2)``),
   ``eps_ri ~ N(0, 0.012^2)``. Path::

       ln E_rit = ln E_ri,t0 + g_ri (t - t0) + k1_i (C1_t - C1_t0) + k2_i (C2_t - C2_t0)
                  + pilot * D_ri * (max(0, t - 2017) - max(0, t0 - 2017)) + u_rit

   ``C1`` = 2009 recession path, ``C2`` = 2020 pandemic path (:mod:`eocic.demo.profiles`),
   ``k1_i``, ``k2_i`` division sensitivities, ``u_rit ~ N(0, 0.015^2)`` with ``u_ri,t0 = 0``,
   ``D_ri`` = 1 for pilot-treated cells (divisions of the planted group of a pilot region,
   ``truth["pilot_treated_cells"]``), ``pilot = +0.015`` per year from 2018. Cells with
   ``E_ri,t0 = 0`` stay 0. Because of the pilot term, a long-difference regression over a
   window reaching past 2017 must control for ``D_ri`` (or stop in 2017).
   Recovery: OLS of ``(ln E_T - ln E_t0)/(T - t0)`` on ``ln LQ``, ``ln LQcl``, ``D`` and region
   and division fixed effects gives ``delta`` and ``beta``.
4. Local units (``V11210``): ``U_rit = E_rit / (p_i q_c) * exp(v_ri + v_rit)``, ``p_i`` persons
   per unit, ``q_c`` country size factor, ``v_ri ~ N(0, 0.25^2)``, ``v_rit ~ N(0, 0.03^2)``;
   rounded, and between 1 and ``E_rit`` when ``E_rit > 0``.
5. Wages and salaries (``V13320``, million EUR)::

       W_rit = E_rit * 0.9 Y_c * omega_i * exp(theta * strong_ri + 0.4 xi_r + f_ri + f_rit)
               * exp(0.02 (t - t0)) / 1e6

   ``Y_c`` country GDP per head, ``omega_i`` division relative wage, ``strong_ri`` = 1 in the
   divisions of a planted pair, ``theta = 0.15`` (productivity premium), ``xi_r`` the regional
   GDP residual below, ``f_ri ~ N(0, 0.03^2)``, ``f_rit ~ N(0, 0.02^2)``.
6. GDP per head (EUR) and population::

       ln y_r,t0 = ln Y_c + lambda * share_r + xi_r,      xi_r ~ N(0, 0.15^2)
       gy_r = 0.02 + a_c + gamma * (ln y_r,t0 - mean_r ln y_r,t0) + e_r
       ln y_rt = ln y_r,t0 + gy_r (t - t0) + (Z_t - Z_t0) + n_rt

   ``share_r`` = share of the region's persons employed (t0) in planted strong cluster cells,
   ``lambda = 1.5``, ``gamma = -0.012`` (convergence), ``a_c ~ N(0, 0.006^2)``,
   ``e_r ~ N(0, 0.004^2)``, ``Z`` the common GDP cycle, ``n_rt ~ N(0, 0.01^2)``
   (``n_r,t0 = 0``). Population ``ln P_r,t0 = ln E_r,t0 + ln 2.9 + N(0, 0.12^2)``, growing at
   the country trend plus ``N(0, 0.003^2)``. PPS per head = EUR per head / country price level.
7. Business demography by section ``s`` (years ``t0 .. T-1``): active enterprises
   ``A_rst = round(U_rst * a_s * exp(h_rs + h_rst))`` (``U_rst`` local units of the section);
   births ``B_rs,t0 = round(A_rs,t0 * b_s exp(b_c + b_rs))``, initial birth rate
   ``br_rs = B_rs,t0 / A_rs,t0``, then::

       gb_rs = mub_s + rhob_r + delta_b * ln br_rs + beta_b * ln LQsec_rs + epsb_rs
       ln B_rst = ln B_rs,t0 + gb_rs (t - t0) + 1.5 (C1_t - C1_t0) + 2 (C2_t - C2_t0) + ub_rst

   ``delta_b = -0.03``, ``beta_b = +0.02``, ``LQsec_rs`` = employment LQ of the section (t0),
   ``epsb ~ N(0, 0.015^2)``, ``ub ~ N(0, 0.03^2)`` (0 at t0). Deaths
   ``D_rst = round(A_rst d_s exp(d_c + d_rs + d_rst))``. High-growth enterprises
   ``H_rst = round(A_rst h_s exp(phi * sshare_rs + j_rs + j_rst))`` with ``sshare_rs`` the share
   of the section's persons employed (t0) in planted strong cluster cells, ``phi = 1.0``.
8. Context indicators follow ``z_rt``, the standardised log PPS per head across regions:
   R&D intensity, tertiary attainment, lifelong learning, household broadband, high-tech and
   knowledge-intensive employment shares (the latter computed from the simulated employment)
   and LFS employment by section group; see :func:`_simulate_context`.
9. Publication of ``sbs_r_nuts06_r2`` (NUTS-2, NUTS-1 and country rows; divisions and
   sections; every aggregate the sum of its NUTS-2 x division cells, suppressed ones included).
   Primary confidentiality: in each year the ``CONFIDENTIAL_SHARE`` = 12 % of NUTS-2 x division
   cells with the highest score::

       score_rit = -0.5 ln(1 + E_rit / (p_i q_c)) - 0.3 ln(S_r / median S) + 0.7 K_i
                   + b_c + c_ri + n_rit

   are confidential: few expected local units ``E / (p_i q_c)`` (small cells, divisions of
   large units), small regions (``S_r`` persons employed at t0), ``K_i`` = 1 in the
   concentrated divisions ``CONCENTRATED_DIVISIONS`` (B05-B07, B09, C12, C19, C21, C30, D35,
   H51), national practice ``b_c ~ N(0, 0.3^2)``, cell effect ``c_ri ~ N(0, 0.7^2)``
   (persistence over the years) and yearly noise ``n_rit ~ N(0, 0.3^2)``. Persons employed
   (V16110) and wages (V13320) of a confidential cell are ``: c``; its local units (V11210) only
   with probability ``LOCAL_UNITS_CONFIDENTIAL_SHARE`` = 0.5 %. Secondary suppression
   (:mod:`eocic.demo.suppression`, separately for V16110/V13320 and for V11210) then hides
   further cells until no published aggregate reveals a single suppressed cell: a region x
   section with one suppressed division loses its smallest other division (the total stays
   published, also in two-division sections); a NUTS-1 value with one suppressed child is
   suppressed itself; a country value with one suppressed NUTS-1 child keeps its value and
   loses the smallest NUTS-1 sibling instead (one with a suppressed child first; the sibling
   then loses its smallest NUTS-2 child). About 15 % of NUTS-2 x division cells end up
   suppressed (``truth["confidentiality"]["measured_shares"]``); their true values are in
   ``truth_confidential.csv.gz``. Of the other NUTS-2 x division values 0.3 % per indicator
   are not available (bare ``:``), and the last year is provisional.
   Draws: ``c_ri``, ``n_rit`` and the not-available draws come right after step 6, where the
   earlier 4 % rule drew them, so steps 7-8 draw the same numbers as before; ``b_c`` and the
   local-units draw come after step 8.

``truth.json`` keys: see :func:`DemoEconomy.truth` (documented in ``TRUTH_KEYS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eocic.demo.clusters import DEMO_CLUSTER_GROUPS, INDUSTRIAL_GROUPS, group_of_division
from eocic.demo.nace import nace_divisions
from eocic.demo.profiles import (
    COUNTRY_PROFILES,
    CRISIS_PATH,
    DIVISION_PROFILES,
    GDP_CYCLE_PATH,
    PANDEMIC_PATH,
    SECTION_PROFILES,
)
from eocic.demo.regions import PILOT_REGIONS, nuts2_regions_2021
from eocic.demo.suppression import SuppressionPattern, publication_grid, secondary_suppression

DEFAULT_SEED = 20260101

PARAMETERS: dict[str, float] = {
    "delta": -0.02,
    "beta": 0.01,
    "theta": 0.15,
    "lambda_gdp_cluster_share": 1.5,
    "gamma_gdp_convergence": -0.012,
    "delta_b": -0.03,
    "beta_b": 0.02,
    "phi_high_growth": 1.0,
    "pilot_effect_per_year": 0.015,
}
"""The planted parameters (see the module docstring for where each enters)."""

KNOWLEDGE_DIVISIONS = ("C21", "C26", "J59", "J60", "J61", "J62", "J63", "K64", "K65", "K66",
                       "M69", "M70", "M71", "M72", "M73", "M74")
"""Divisions whose specialisation rises with regional (xi_r) and national GDP per head."""

PILOT_START_YEAR = 2018
N_PLANTED_PAIRS = 80
LQ_CLUSTER_FLOOR = 0.01
CONFIDENTIAL_SHARE = 0.12
"""Share of NUTS-2 x division cells per year that are primary confidential (step 9)."""
LOCAL_UNITS_CONFIDENTIAL_SHARE = 0.005
"""Probability that a primary confidential cell's local units are confidential too (step 9)."""
CONCENTRATED_DIVISIONS = ("B05", "B06", "B07", "B09", "C12", "C19", "C21", "C30", "D35", "H51")
"""Divisions dominated by a few large enterprises (mining, tobacco, refined petroleum,
pharmaceuticals, other transport equipment, energy supply, air transport): their cells are
more often confidential under Eurostat's dominance rule (step 9)."""
CONFIDENTIALITY_WEIGHTS = {"units": 0.5, "region_size": 0.3, "concentrated": 0.7, "country_sd": 0.3}
"""Weights of ``-ln(1 + expected local units)``, of ``-ln(S_r / median S)`` and of
``CONCENTRATED_DIVISIONS`` in the primary confidentiality score, and the standard deviation of
its country effect (step 9)."""
NOT_AVAILABLE_SHARE = 0.003
DEMO_FORMAT_VERSION = 3
"""Version of the demo folder's format, recorded in ``truth.json``; a folder with another
version is written again (:func:`eocic.sources.prepare_source`). 1 (no key): NUTS-2 and country
rows, 4 % confidential, no secondary suppression; 2: NUTS-1 rows, primary and secondary
suppression, ``truth_confidential.csv.gz``; 3: ``htec_emp_reg2`` also holds high-technology
manufacturing (``C_HTC``, the series the registry reads)."""
CONFIDENTIAL_TRUTH_FILE = "truth_confidential.csv.gz"
"""File beside ``truth.json`` with the true values of the suppressed cells."""
DEMOGRAPHY_SECTIONS = tuple("BCDEFGHIJKLMN")

TRUTH_KEYS: dict[str, str] = {
    "seed": "seed of numpy.random.default_rng",
    "first_year": "t0, base year of every growth formula",
    "last_year": "T, last year of SBS, GDP and context files",
    "demography_last_year": "last year of bd_hgnace2_r3 (T - 1)",
    "parameters": "planted parameters: delta, beta (employment growth), theta (wage premium), "
    "lambda_gdp_cluster_share, gamma_gdp_convergence, delta_b, beta_b (births), "
    "phi_high_growth, pilot_effect_per_year",
    "definitions": "text definitions of every regressor and outcome",
    "demo_cluster_groups": "group -> list of NACE divisions",
    "planted_pairs": "list of {geo, group, multiplier, group_lq_t0, pilot}",
    "strong_cluster_cells": "list of [geo, division] in planted pairs",
    "pilot_regions": "pilot region name -> NUTS-2 codes",
    "pilot_treated_cells": "list of [geo, division] receiving the pilot effect",
    "pilot_start_year": "first year with the pilot effect",
    "division_trend_growth": "mu_i by division",
    "lq_cluster_floor": "floor of LQcl before taking logs",
    "noise_sd": "standard deviations of the noise terms",
    "confidential_share_target": "share of NUTS-2 x division cells per year that are primary "
    "confidential (CONFIDENTIAL_SHARE)",
    "confidentiality": "primary_share_target, local_units_confidential_share (of primary cells), "
    "concentrated_divisions, score_weights (step 9), truth_file (truth_confidential.csv.gz: one "
    "row per suppressed NUTS-2 x division x year x indicator with geo, nace_r2, year, indicator "
    "= employment | local_units | wages_eur, true_value in persons, units or EUR, suppression = "
    "primary | secondary) and measured_shares (all years: NUTS-2 x division persons-employed "
    "cells primary, secondary, suppressed; NUTS-1 and national division cells suppressed; "
    "suppressed NUTS-2 cells with local units published)",
    "demo_format_version": "format version of the demo folder (DEMO_FORMAT_VERSION); "
    "eocic.sources rewrites a folder of another version",
    "n_regions": "number of NUTS-2 regions",
    "nuts_version": "NUTS version of the region codes",
}


@dataclass
class DemoEconomy:
    """The simulated economy, as in-memory tables (before any file is written).

    Attributes
    ----------
    regions : DataFrame
        ``geo``, ``name``, ``country``, ``country_name``, ``pilot`` (bool).
    employment : DataFrame
        One row per NUTS-2 region x division x year, ordered region x division x year (true
        published-precision values, suppressed ones too): ``geo``, ``country``, ``section``,
        ``nace_r2``, ``year``, ``persons_employed`` (int), ``local_units`` (int), ``wages``
        (million EUR, 0.1), ``confidential`` (bool: persons employed and wages published as
        ``: c``, primary or secondary), ``suppression`` (``""``, ``"primary"``,
        ``"secondary"``), ``local_units_confidential`` (bool) and ``local_units_suppression``
        (the same for local units), ``not_available`` (str: ``""`` or the SBS indicator codes
        joined by ``|`` that are published as bare ``:``), ``group`` (demo group or ``""``),
        ``strong_cluster`` (bool), ``pilot_treated`` (bool), ``ln_lq_t0``,
        ``ln_lq_cluster_t0`` (0 for divisions in no group), ``growth_rate`` (g_ri).
    demography : DataFrame
        NUTS-2 x section x year (``t0 .. T-1``): ``geo``, ``country``, ``nace_r2`` (section),
        ``year``, ``active``, ``births``, ``deaths``, ``high_growth`` (ints),
        ``birth_rate_t0``, ``ln_lq_section_t0``, ``strong_share_t0``, ``birth_growth_rate``.
    regional : DataFrame
        NUTS-2 x year: ``geo``, ``country``, ``year``, ``population`` (1 January),
        ``gdp_meur``, ``gdp_per_head`` (EUR, unrounded), ``pps_per_head`` (unrounded),
        ``strong_share_t0``, ``total_employment`` (persons), context indicators
        ``rd_total``, ``rd_business`` (% of GDP), ``tertiary`` (%), ``lifelong_learning``
        (%), ``broadband`` (% of households), ``htc_share``, ``htc_manufacturing_share``,
        ``kis_share`` (% of employment),
        and ``lfs_<group>`` employment by section group (thousands), plus ``*_missing`` flags.
    truth : dict
        Parameters and definitions, written to ``truth.json`` (keys in ``TRUTH_KEYS``).
    sbs_suppression : SuppressionPattern
        Suppressed cells of every geography (NUTS-2, NUTS-1, country) x activity (division,
        section) x year of ``sbs_r_nuts06_r2`` (step 9).
    """

    regions: pd.DataFrame
    employment: pd.DataFrame
    demography: pd.DataFrame
    regional: pd.DataFrame
    truth: dict = field(default_factory=dict)
    sbs_suppression: SuppressionPattern | None = None


def _path(values: dict[int, float], years: np.ndarray) -> np.ndarray:
    """Cycle path evaluated at ``years`` (0 where not listed), relative to the first year."""
    path = np.array([values.get(int(y), 0.0) for y in years])
    return path - path[0]


def simulate_demo_economy(
    seed: int = DEFAULT_SEED, *, first_year: int = 2008, last_year: int = 2023
) -> DemoEconomy:
    """Simulate the demo economy in memory (see the module docstring for the formulas).

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; equal seeds give equal economies.
    first_year, last_year : int
        Years of the SBS, GDP and context tables; business demography stops at
        ``last_year - 1``. At least three years are needed.
    """
    if last_year - first_year < 2:
        raise ValueError(
            f"first_year={first_year}, last_year={last_year}: the demo needs at least three years"
        )
    rng = np.random.default_rng(seed)
    regions = nuts2_regions_2021()
    pilot_of = {code: name for name, codes in PILOT_REGIONS.items() for code in codes}
    regions["pilot"] = regions["geo"].isin(pilot_of)
    divisions = nace_divisions()
    years = np.arange(first_year, last_year + 1)
    elapsed = (years - first_year).astype(float)
    n_regions, n_divisions, n_years = len(regions), len(divisions), len(years)

    countries = list(dict.fromkeys(regions["country"]))
    country_index = regions["country"].map({c: k for k, c in enumerate(countries)}).to_numpy()
    profile = [DIVISION_PROFILES[d] for d in divisions["division"]]
    base_share = np.array([p.employment_thousands for p in profile])
    base_share = base_share / base_share.sum()
    trend_growth = np.array([p.trend_growth for p in profile])
    crisis_sensitivity = np.array([p.crisis_sensitivity for p in profile])
    pandemic_sensitivity = np.array([p.pandemic_sensitivity for p in profile])
    country_gdp = np.array([COUNTRY_PROFILES[c].gdp_per_head for c in countries])
    membership = group_of_division()
    group_names = list(DEMO_CLUSTER_GROUPS)
    division_group = np.array(
        [group_names.index(membership[d]) if d in membership else -1 for d in divisions["division"]]
    )

    # 1. base-year employment ----------------------------------------------------------------
    size_country = rng.normal(0.0, 0.3, len(countries))
    log_size = np.log(380_000) + size_country[country_index] + rng.normal(0.0, 0.75, n_regions)
    spec_country = rng.normal(0.0, 0.25, (len(countries), n_divisions))
    log_spec = spec_country[country_index] + rng.normal(0.0, 0.55, (n_regions, n_divisions))
    # richer regions specialise in knowledge-intensive divisions (xi_r: regional GDP residual)
    xi = rng.normal(0.0, 0.15, n_regions)
    knowledge = np.isin(divisions["division"].to_numpy(), KNOWLEDGE_DIVISIONS)
    log_country_gdp = np.log(country_gdp) - np.log(country_gdp).mean()
    log_spec[:, knowledge] += (2.0 * xi + 0.3 * log_country_gdp[country_index])[:, None]

    planted: dict[tuple[int, int], float] = {}
    geo_list = regions["geo"].tolist()
    for name, codes in PILOT_REGIONS.items():
        for code in codes:
            group = INDUSTRIAL_GROUPS[int(rng.integers(len(INDUSTRIAL_GROUPS)))]
            planted[(geo_list.index(code), group_names.index(group))] = 0.0
    candidates = [
        (r, g) for r in range(n_regions) for g in range(len(group_names)) if (r, g) not in planted
    ]
    drawn = rng.choice(len(candidates), size=N_PLANTED_PAIRS - len(planted), replace=False)
    for k in sorted(drawn.tolist()):
        planted[candidates[k]] = 0.0
    planted_keys = sorted(planted)
    target_lq = rng.uniform(2.5, 5.0, len(planted_keys))
    weights = base_share[None, :] * np.exp(log_spec)
    strong = np.zeros((n_regions, n_divisions), dtype=bool)
    for (r, g) in planted_keys:
        strong[r, division_group == g] = True
        planted[(r, g)] = 1.0
    for sweep in range(4):  # pairs in one region dilute each other: repeat until the targets hold
        for (r, g), lq_target in zip(planted_keys, target_lq):
            in_group = division_group == g
            eu_weights = weights * np.exp(log_size)[:, None] / weights.sum(axis=1, keepdims=True)
            eu_share = eu_weights[:, in_group].sum() / eu_weights.sum()
            share_now = weights[r, in_group].sum() / weights[r].sum()
            share_after = min(lq_target * eu_share, 0.45)
            needed = share_after * (1 - share_now) / (share_now * (1 - share_after))
            if sweep == 0:
                needed = max(needed, 1.5)
            if needed > 1.0:
                planted[(r, g)] *= float(needed)
                weights[r, in_group] *= needed
    weights = weights / weights.sum(axis=1, keepdims=True)
    employment_t0 = np.rint(np.exp(log_size)[:, None] * weights)

    # 2. location quotients ------------------------------------------------------------------
    region_total = employment_t0.sum(axis=1, keepdims=True)
    division_total = employment_t0.sum(axis=0, keepdims=True)
    grand_total = employment_t0.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (employment_t0 / region_total) / (division_total / grand_total)
        ln_lq = np.where(employment_t0 > 0, np.log(lq), np.nan)
    ln_lq_cluster = np.zeros((n_regions, n_divisions))
    for g in range(len(group_names)):
        in_group = division_group == g
        group_region = employment_t0[:, in_group].sum(axis=1, keepdims=True)
        group_eu = employment_t0[:, in_group].sum()
        others_region = group_region - employment_t0[:, in_group]
        others_eu = group_eu - division_total[:, in_group]
        lq_cluster = (others_region / region_total) / (others_eu / grand_total)
        ln_lq_cluster[:, in_group] = np.log(np.maximum(lq_cluster, LQ_CLUSTER_FLOOR))
    group_lq = {}
    for (r, g) in planted_keys:
        in_group = division_group == g
        group_lq[(r, g)] = float(
            (employment_t0[r, in_group].sum() / region_total[r, 0])
            / (division_total[0, in_group].sum() / grand_total)
        )

    # 3. employment growth and path ------------------------------------------------------------
    p = PARAMETERS
    rho = rng.normal(0.0, 0.006, len(countries))[country_index] + rng.normal(0.0, 0.004, n_regions)
    eps = rng.normal(0.0, 0.012, (n_regions, n_divisions))
    growth = (
        trend_growth[None, :] + rho[:, None] + p["delta"] * np.nan_to_num(ln_lq)
        + p["beta"] * ln_lq_cluster + eps
    )
    pilot_rows = regions["pilot"].to_numpy()
    treated = strong & pilot_rows[:, None]
    pilot_years = np.maximum(0, years - (PILOT_START_YEAR - 1)) - max(0, first_year - (PILOT_START_YEAR - 1))
    crisis = _path(CRISIS_PATH, years)
    pandemic = _path(PANDEMIC_PATH, years)
    yearly = rng.normal(0.0, 0.015, (n_regions, n_divisions, n_years))
    yearly[:, :, 0] = 0.0
    with np.errstate(divide="ignore"):
        log_e0 = np.log(employment_t0)
    log_path = (
        log_e0[:, :, None]
        + growth[:, :, None] * elapsed[None, None, :]
        + crisis_sensitivity[None, :, None] * crisis[None, None, :]
        + pandemic_sensitivity[None, :, None] * pandemic[None, None, :]
        + p["pilot_effect_per_year"] * treated[:, :, None] * pilot_years[None, None, :]
        + yearly
    )
    employment = np.where(employment_t0[:, :, None] > 0, np.rint(np.exp(log_path)), 0.0)

    # 4. local units -----------------------------------------------------------------------------
    persons_per_unit = np.array([p_.persons_per_unit for p_ in profile])
    unit_size = np.array([COUNTRY_PROFILES[c].unit_size for c in countries])[country_index]
    unit_effect = rng.normal(0.0, 0.25, (n_regions, n_divisions))
    unit_yearly = rng.normal(0.0, 0.03, (n_regions, n_divisions, n_years))
    units = employment / (persons_per_unit[None, :, None] * unit_size[:, None, None])
    units = np.rint(units * np.exp(unit_effect[:, :, None] + unit_yearly))
    units = np.where(employment > 0, np.clip(units, 1, np.maximum(employment, 1)), 0.0)

    # 6 (first part). GDP per head level, needed by wages ------------------------------------------
    strong_share = (employment_t0 * strong).sum(axis=1) / region_total[:, 0]
    log_gdp_t0 = np.log(country_gdp[country_index]) + p["lambda_gdp_cluster_share"] * strong_share + xi

    # 5. wages -------------------------------------------------------------------------------------
    relative_wage = np.array([p_.relative_wage for p_ in profile])
    wage_cell = rng.normal(0.0, 0.03, (n_regions, n_divisions))
    wage_yearly = rng.normal(0.0, 0.02, (n_regions, n_divisions, n_years))
    wage_per_person = (
        0.9 * country_gdp[country_index][:, None, None] * relative_wage[None, :, None]
        * np.exp(p["theta"] * strong[:, :, None] + 0.4 * xi[:, None, None]
                 + wage_cell[:, :, None] + wage_yearly + 0.02 * elapsed[None, None, :])
    )
    wages = np.round(employment * wage_per_person / 1e6, 1)

    # 6. GDP per head and population ---------------------------------------------------------------
    gdp_country_trend = rng.normal(0.0, 0.006, len(countries))[country_index]
    gdp_growth = (
        0.02 + gdp_country_trend
        + p["gamma_gdp_convergence"] * (log_gdp_t0 - log_gdp_t0.mean())
        + rng.normal(0.0, 0.004, n_regions)
    )
    gdp_noise = rng.normal(0.0, 0.01, (n_regions, n_years))
    gdp_noise[:, 0] = 0.0
    log_gdp = (
        log_gdp_t0[:, None] + gdp_growth[:, None] * elapsed[None, :]
        + _path(GDP_CYCLE_PATH, years)[None, :] + gdp_noise
    )
    population_trend = np.array([COUNTRY_PROFILES[c].population_trend for c in countries])
    log_pop_t0 = np.log(region_total[:, 0]) + np.log(2.9) + rng.normal(0.0, 0.12, n_regions)
    pop_growth = population_trend[country_index] + rng.normal(0.0, 0.003, n_regions)
    pop_noise = rng.normal(0.0, 0.002, (n_regions, n_years))
    pop_noise[:, 0] = 0.0
    population = np.rint(np.exp(log_pop_t0[:, None] + pop_growth[:, None] * elapsed + pop_noise))
    gdp_per_head = np.exp(log_gdp)
    price_level = np.array([COUNTRY_PROFILES[c].price_level for c in countries])[country_index]
    pps_per_head = gdp_per_head / price_level[:, None]

    # 9 (draws). publication noise, drawn here so that steps 7-8 draw the same numbers whatever
    # the confidentiality rules; used after step 8 -----------------------------------------------
    conf_cell = rng.normal(0.0, 0.7, (n_regions, n_divisions))
    conf_yearly = rng.normal(0.0, 0.3, (n_regions, n_divisions, n_years))
    gap_draw = rng.random((3, n_regions, n_divisions, n_years))

    # 7. business demography ---------------------------------------------------------------------
    demography_panel = _simulate_demography(
        rng, regions, divisions, years[:-1], country_index, len(countries), employment_t0,
        units[:, :, :-1], strong,
    )

    # 8. context indicators ----------------------------------------------------------------------
    regional_panel = _simulate_context(
        rng, regions, divisions, years, countries, country_index, employment, population,
        gdp_per_head, pps_per_head, strong_share,
    )

    # 9. publication: primary confidentiality, secondary suppression, gaps --------------------
    conf_country = rng.normal(0.0, CONFIDENTIALITY_WEIGHTS["country_sd"], len(countries))
    unit_draw = rng.random((n_regions, n_divisions, n_years))
    primary = _primary_confidentiality(
        employment, persons_per_unit, unit_size, region_total[:, 0],
        divisions["division"].to_numpy(), conf_country[country_index], conf_cell, conf_yearly,
    )
    units_primary = primary & (unit_draw < LOCAL_UNITS_CONFIDENTIAL_SHARE)
    grid = publication_grid(geo_list, regions["country"].tolist(),
                            divisions["division"].tolist(), divisions["section"].tolist())
    suppressed, _ = secondary_suppression(grid, primary, employment)
    units_suppressed, _ = secondary_suppression(grid, units_primary, units)
    sbs_suppression = SuppressionPattern(grid, years, suppressed, units_suppressed)
    confidential = suppressed[:n_regions, :n_divisions]
    units_confidential = units_suppressed[:n_regions, :n_divisions]
    hidden = np.stack([units_confidential, confidential, confidential])  # V11210, V13320, V16110
    not_available = (gap_draw < NOT_AVAILABLE_SHARE) & ~hidden

    # assemble the employment panel -------------------------------------------------------------------
    indicator_codes = np.array(["V11210", "V13320", "V16110"])
    na_text = np.full((n_regions, n_divisions, n_years), "", dtype=object)
    for k in range(3):
        hit = not_available[k]
        na_text[hit] = np.where(na_text[hit] == "", indicator_codes[k], na_text[hit] + "|" + indicator_codes[k])
    grid_index = pd.MultiIndex.from_product(
        [range(n_regions), range(n_divisions), range(n_years)], names=["r", "i", "t"]
    ).to_frame(index=False)
    r_idx, i_idx, t_idx = (grid_index[c].to_numpy() for c in ("r", "i", "t"))
    group_label = np.array([membership.get(d, "") for d in divisions["division"]], dtype=object)
    suppression_label = np.where(primary, "primary", np.where(confidential, "secondary", ""))
    units_label = np.where(units_primary, "primary", np.where(units_confidential, "secondary", ""))
    employment_panel = pd.DataFrame(
        {
            "geo": regions["geo"].to_numpy()[r_idx],
            "country": regions["country"].to_numpy()[r_idx],
            "section": divisions["section"].to_numpy()[i_idx],
            "nace_r2": divisions["division"].to_numpy()[i_idx],
            "year": years[t_idx],
            "persons_employed": employment.reshape(-1).astype(np.int64),
            "local_units": units.reshape(-1).astype(np.int64),
            "wages": wages.reshape(-1),
            "confidential": confidential.reshape(-1),
            "suppression": suppression_label.reshape(-1).astype(object),
            "local_units_confidential": units_confidential.reshape(-1),
            "local_units_suppression": units_label.reshape(-1).astype(object),
            "not_available": na_text.reshape(-1),
            "group": group_label[i_idx],
            "strong_cluster": strong[r_idx, i_idx],
            "pilot_treated": treated[r_idx, i_idx],
            "ln_lq_t0": ln_lq[r_idx, i_idx],
            "ln_lq_cluster_t0": ln_lq_cluster[r_idx, i_idx],
            "growth_rate": growth[r_idx, i_idx],
        }
    )

    measured_shares = {
        "nuts2_primary": float(primary.mean()),
        "nuts2_secondary": float((confidential & ~primary).mean()),
        "nuts2_suppressed": float(confidential.mean()),
        "nuts1_suppressed": float(suppressed[grid.level == 1, :n_divisions].mean()),
        "national_suppressed": float(suppressed[grid.level == 0, :n_divisions].mean()),
        "nuts2_suppressed_with_local_units_published": float(
            (~units_confidential[confidential]).mean()),
    }
    truth = _truth(
        seed, first_year, last_year, regions, divisions, planted_keys, planted, group_lq,
        strong, treated, trend_growth, measured_shares,
    )
    return DemoEconomy(
        regions=regions, employment=employment_panel, demography=demography_panel,
        regional=regional_panel, truth=truth, sbs_suppression=sbs_suppression,
    )


def _primary_confidentiality(
    employment: np.ndarray,
    persons_per_unit: np.ndarray,
    unit_size: np.ndarray,
    region_size: np.ndarray,
    division_codes: np.ndarray,
    conf_country: np.ndarray,
    conf_cell: np.ndarray,
    conf_yearly: np.ndarray,
) -> np.ndarray:
    """Primary confidential NUTS-2 x division cells (R, I, T), step 9.

    ``score_rit = -w_U ln(1 + E_rit / (p_i q_c)) - w_S ln(S_r / median_r S_r) + w_K K_i + b_c
    + c_ri + n_rit`` with ``E_rit / (p_i q_c)`` the expected number of local units of the cell
    (persons employed over persons per unit x country size factor: few units means small cells
    and divisions of large units), ``S_r`` the region's persons employed at t0, ``K_i`` = 1
    for :data:`CONCENTRATED_DIVISIONS`, weights ``w`` in :data:`CONFIDENTIALITY_WEIGHTS`,
    country effect ``b_c`` (``conf_country``), cell effect ``c_ri ~ N(0, 0.7^2)`` (persistence
    over the years) and yearly noise ``n_rit ~ N(0, 0.3^2)``. In each year the
    ``CONFIDENTIAL_SHARE`` of cells with the highest scores are confidential (a rough
    stand-in for Eurostat's threshold and dominance rules, which bite where a cell has few
    enterprises or one dominates).
    """
    weights = CONFIDENTIALITY_WEIGHTS
    expected_units = employment / (persons_per_unit[None, :, None] * unit_size[:, None, None])
    concentrated = np.isin(division_codes, CONCENTRATED_DIVISIONS).astype(float)
    small_region = np.median(np.log(region_size)) - np.log(region_size)
    score = (
        -weights["units"] * np.log1p(expected_units)
        + weights["region_size"] * small_region[:, None, None]
        + weights["concentrated"] * concentrated[None, :, None]
        + conf_country[:, None, None] + conf_cell[:, :, None] + conf_yearly
    )
    n_years = employment.shape[2]
    threshold = np.quantile(score.reshape(-1, n_years), 1.0 - CONFIDENTIAL_SHARE, axis=0)
    return score > threshold[None, None, :]


def _simulate_demography(
    rng: np.random.Generator,
    regions: pd.DataFrame,
    divisions: pd.DataFrame,
    years: np.ndarray,
    country_index: np.ndarray,
    n_countries: int,
    employment_t0: np.ndarray,
    units: np.ndarray,
    strong: np.ndarray,
) -> pd.DataFrame:
    """Active enterprises, births, deaths and high-growth enterprises by region x section."""
    p = PARAMETERS
    n_regions, n_years = len(regions), len(years)
    elapsed = (years - years[0]).astype(float)
    sections = list(DEMOGRAPHY_SECTIONS)
    section_of = divisions["section"].to_numpy()
    n_sections = len(sections)
    emp_section = np.stack([employment_t0[:, section_of == s].sum(axis=1) for s in sections], axis=1)
    units_section = np.stack([units[:, section_of == s, :].sum(axis=1) for s in sections], axis=1)
    strong_emp = np.stack(
        [(employment_t0 * strong)[:, section_of == s].sum(axis=1) for s in sections], axis=1
    )
    region_total = employment_t0.sum(axis=1, keepdims=True)
    section_eu = emp_section.sum(axis=0, keepdims=True)
    grand_total = employment_t0.sum()
    # the section LQ uses the business-economy total incl. S95, like the division LQ
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_lq_section = np.log((emp_section / region_total) / (section_eu / grand_total))
        strong_share = np.where(emp_section > 0, strong_emp / emp_section, 0.0)
    profile = [SECTION_PROFILES[s] for s in sections]
    per_unit = np.array([q.enterprises_per_unit for q in profile])
    birth_base = np.array([q.birth_rate for q in profile])
    death_base = np.array([q.death_rate for q in profile])
    hg_base = np.array([q.high_growth_rate for q in profile])

    firm_cell = rng.normal(0.0, 0.05, (n_regions, n_sections))
    firm_yearly = rng.normal(0.0, 0.02, (n_regions, n_sections, n_years))
    active = np.rint(units_section * per_unit[None, :, None] * np.exp(firm_cell[:, :, None] + firm_yearly))

    birth_country = rng.normal(0.0, 0.15, n_countries)[country_index]
    birth_cell = rng.normal(0.0, 0.2, (n_regions, n_sections))
    births_t0 = np.rint(active[:, :, 0] * birth_base[None, :] * np.exp(birth_country[:, None] + birth_cell))
    with np.errstate(divide="ignore", invalid="ignore"):
        birth_rate_t0 = np.where(active[:, :, 0] > 0, births_t0 / active[:, :, 0], np.nan)
        ln_birth_rate = np.where(births_t0 > 0, np.log(birth_rate_t0), np.nan)
    mu_b = rng.normal(0.0, 0.01, n_sections)
    rho_b = rng.normal(0.0, 0.01, n_countries)[country_index] + rng.normal(0.0, 0.005, n_regions)
    eps_b = rng.normal(0.0, 0.015, (n_regions, n_sections))
    birth_growth = (
        mu_b[None, :] + rho_b[:, None] + p["delta_b"] * np.nan_to_num(ln_birth_rate)
        + p["beta_b"] * np.nan_to_num(ln_lq_section, neginf=0.0) + eps_b
    )
    birth_yearly = rng.normal(0.0, 0.03, (n_regions, n_sections, n_years))
    birth_yearly[:, :, 0] = 0.0
    cycle = 1.5 * _path(CRISIS_PATH, years) + 2.0 * _path(PANDEMIC_PATH, years)
    with np.errstate(divide="ignore"):
        log_births = (
            np.log(births_t0)[:, :, None] + birth_growth[:, :, None] * elapsed
            + cycle[None, None, :] + birth_yearly
        )
    births = np.where(births_t0[:, :, None] > 0, np.rint(np.exp(log_births)), 0.0)

    death_country = rng.normal(0.0, 0.1, n_countries)[country_index]
    death_cell = rng.normal(0.0, 0.1, (n_regions, n_sections))
    death_yearly = rng.normal(0.0, 0.05, (n_regions, n_sections, n_years))
    deaths = np.rint(
        active * death_base[None, :, None]
        * np.exp(death_country[:, None, None] + death_cell[:, :, None] + death_yearly)
    )
    hg_cell = rng.normal(0.0, 0.15, (n_regions, n_sections))
    hg_yearly = rng.normal(0.0, 0.08, (n_regions, n_sections, n_years))
    high_growth = np.rint(
        active * hg_base[None, :, None]
        * np.exp(p["phi_high_growth"] * strong_share[:, :, None] + hg_cell[:, :, None] + hg_yearly)
    )

    grid = pd.MultiIndex.from_product(
        [range(n_regions), range(n_sections), range(n_years)], names=["r", "s", "t"]
    ).to_frame(index=False)
    r_idx, s_idx, t_idx = (grid[c].to_numpy() for c in ("r", "s", "t"))
    return pd.DataFrame(
        {
            "geo": regions["geo"].to_numpy()[r_idx],
            "country": regions["country"].to_numpy()[r_idx],
            "nace_r2": np.array(sections, dtype=object)[s_idx],
            "year": years[t_idx],
            "active": active.reshape(-1).astype(np.int64),
            "births": births.reshape(-1).astype(np.int64),
            "deaths": deaths.reshape(-1).astype(np.int64),
            "high_growth": high_growth.reshape(-1).astype(np.int64),
            "birth_rate_t0": birth_rate_t0[r_idx, s_idx],
            "ln_lq_section_t0": ln_lq_section[r_idx, s_idx],
            "strong_share_t0": strong_share[r_idx, s_idx],
            "birth_growth_rate": birth_growth[r_idx, s_idx],
        }
    )


LFS_GROUPS: dict[str, tuple[str, ...]] = {
    "B-E": ("B", "C", "D", "E"), "F": ("F",), "G-I": ("G", "H", "I"), "J": ("J",),
    "K": ("K",), "L": ("L",), "M_N": ("M", "N"),
}
"""LFS section groups of lfst_r_lfe2en2 built from the simulated business-economy employment;
A, O-Q and R-U (which holds S95) come from the non-business part of total employment."""

HIGH_TECH_DIVISIONS = ("C21", "C26", "J59", "J60", "J61", "J62", "J63", "M72")
"""Eurostat's high-technology sectors (HTC): high-tech manufacturing plus high-tech
knowledge-intensive services."""

HIGH_TECH_MANUFACTURING_DIVISIONS = ("C21", "C26")
"""Eurostat's high-technology manufacturing (C_HTC): pharmaceuticals (C21) and computer,
electronic and optical products (C26)."""

KIS_DIVISIONS = ("H50", "H51", "J58", "J59", "J60", "J61", "J62", "J63", "K64", "K65", "K66",
                 "M69", "M70", "M71", "M72", "M73", "M74", "M75", "N78", "N80")
"""Business-economy divisions among Eurostat's knowledge-intensive services (KIS); the public
KIS part (O-Q, R) is approximated from the non-business employment."""


def _simulate_context(
    rng: np.random.Generator,
    regions: pd.DataFrame,
    divisions: pd.DataFrame,
    years: np.ndarray,
    countries: list[str],
    country_index: np.ndarray,
    employment: np.ndarray,
    population: np.ndarray,
    gdp_per_head: np.ndarray,
    pps_per_head: np.ndarray,
    strong_share: np.ndarray,
) -> pd.DataFrame:
    """GDP, population and the scoreboard context indicators by NUTS-2 region x year.

    ``z_rt`` = (ln PPS per head - mean) / sd across regions in year t. Formulas (t in years,
    ``T8 = t - 2008``; every ``a_*`` a persistent regional draw):

    - R&D intensity, % of GDP: ``rd = exp(ln 1.1 + 0.55 z + a_rd + N(0, 0.08^2))``, clipped to
      [0.05, 6]; business share ``1 / (1 + exp(-(0.3 + 0.5 z + a_bes)))``.
    - tertiary attainment (ED5-8, 25-64), %: ``22 + 6 z + 0.6 T8 + a_ter + N(0, 0.8^2)``.
    - lifelong learning (25-64), %: ``L_c (1 + 0.15 z + a_lll) + 0.15 T8 + N(0, 0.5^2)``.
    - household broadband, %: ``100 / (1 + exp(-(0.35 (t - 2011) + 0.5 z + a_bb)))``.
    - total employment ``L = E / b_r`` with business share ``b_r = (0.66 - 0.5 A_c) e^{N(0,0.05^2)}``
      (``A_c`` agriculture share); HTC and KIS shares from the simulated divisions.
    """
    n_regions, n_years = len(regions), len(years)
    T8 = (years - 2008).astype(float)[None, :]
    log_pps = np.log(pps_per_head)
    z = (log_pps - log_pps.mean(axis=0, keepdims=True)) / log_pps.std(axis=0, keepdims=True)
    division_codes = divisions["division"].to_numpy()
    section_of = divisions["section"].to_numpy()

    a_rd = rng.normal(0.0, 0.4, n_regions)[:, None]
    rd_total = np.clip(np.exp(np.log(1.1) + 0.55 * z + a_rd + rng.normal(0.0, 0.08, (n_regions, n_years))), 0.05, 6.0)
    a_bes = rng.normal(0.0, 0.3, n_regions)[:, None]
    rd_business = rd_total / (1.0 + np.exp(-(0.3 + 0.5 * z + a_bes)))
    a_ter = rng.normal(0.0, 4.0, n_regions)[:, None]
    tertiary = np.clip(22 + 6 * z + 0.6 * T8 + a_ter + rng.normal(0.0, 0.8, (n_regions, n_years)), 8.0, 65.0)
    lll_country = np.array([COUNTRY_PROFILES[c].lifelong_learning for c in countries])[country_index][:, None]
    a_lll = rng.normal(0.0, 0.12, n_regions)[:, None]
    lifelong = np.clip(lll_country * (1 + 0.15 * z + a_lll) + 0.15 * T8 + rng.normal(0.0, 0.5, (n_regions, n_years)), 0.3, 40.0)
    a_bb = rng.normal(0.0, 0.3, n_regions)[:, None]
    broadband = 100.0 / (1.0 + np.exp(-(0.35 * (years[None, :] - 2011) + 0.5 * z + a_bb)))

    agriculture = np.array([COUNTRY_PROFILES[c].agriculture_share for c in countries])[country_index]
    business_share = (0.66 - 0.5 * agriculture) * np.exp(rng.normal(0.0, 0.05, n_regions))
    business = employment.sum(axis=1)
    total_employment = business / business_share[:, None]
    other_services = 0.06 * total_employment
    public = total_employment * (1.0 - business_share - agriculture - 0.06)[:, None]
    htc = employment[:, np.isin(division_codes, HIGH_TECH_DIVISIONS), :].sum(axis=1)
    kis_business = employment[:, np.isin(division_codes, KIS_DIVISIONS), :].sum(axis=1)
    htc_share = 100.0 * htc / total_employment
    htc_manufacturing = employment[:, np.isin(division_codes,
                                              HIGH_TECH_MANUFACTURING_DIVISIONS), :].sum(axis=1)
    htc_manufacturing_share = 100.0 * htc_manufacturing / total_employment
    kis_share = 100.0 * (kis_business + 0.9 * public + 0.5 * other_services) / total_employment

    lfs_noise = lambda: np.exp(rng.normal(0.0, 0.04, (n_regions, n_years)))  # noqa: E731
    lfs: dict[str, np.ndarray] = {"A": agriculture[:, None] * total_employment * lfs_noise() / 1000}
    for group, sections in LFS_GROUPS.items():
        lfs[group] = employment[:, np.isin(section_of, sections), :].sum(axis=1) * lfs_noise() / 1000
    lfs["O-Q"] = public * lfs_noise() / 1000
    s95 = employment[:, division_codes == "S95", :].sum(axis=1)
    lfs["R-U"] = (other_services + s95) * lfs_noise() / 1000

    missing = {
        name: rng.random((n_regions, n_years)) < share
        for name, share in (("rd", 0.10), ("tertiary", 0.03), ("lifelong_learning", 0.03),
                            ("broadband", 0.05), ("htec", 0.03))
    }
    rd_gap_country = countries[int(rng.integers(len(countries)))]
    odd_years = (years % 2 == 1)[None, :]
    missing["rd"] |= (regions["country"].to_numpy() == rd_gap_country)[:, None] & odd_years

    r_idx = np.repeat(np.arange(n_regions), n_years)
    t_idx = np.tile(np.arange(n_years), n_regions)
    frame = pd.DataFrame(
        {
            "geo": regions["geo"].to_numpy()[r_idx],
            "country": regions["country"].to_numpy()[r_idx],
            "year": years[t_idx],
            "population": population.reshape(-1).astype(np.int64),
            "gdp_per_head": gdp_per_head.reshape(-1),
            "pps_per_head": pps_per_head.reshape(-1),
            "gdp_meur": np.rint(gdp_per_head * population / 1e6).reshape(-1),
            "strong_share_t0": strong_share[r_idx],
            "total_employment": np.rint(total_employment).reshape(-1).astype(np.int64),
            "rd_total": np.round(rd_total, 2).reshape(-1),
            "rd_business": np.round(rd_business, 2).reshape(-1),
            "tertiary": np.round(tertiary, 1).reshape(-1),
            "lifelong_learning": np.round(lifelong, 1).reshape(-1),
            "broadband": np.rint(broadband).reshape(-1),
            "htc_share": np.round(htc_share, 1).reshape(-1),
            "htc_manufacturing_share": np.round(htc_manufacturing_share, 1).reshape(-1),
            "kis_share": np.round(kis_share, 1).reshape(-1),
        }
    )
    for group, values in lfs.items():
        frame[f"lfs_{group}"] = np.round(values, 1).reshape(-1)
    for name, gaps in missing.items():
        frame[f"{name}_missing"] = gaps.reshape(-1)
    return frame


def _truth(
    seed: int,
    first_year: int,
    last_year: int,
    regions: pd.DataFrame,
    divisions: pd.DataFrame,
    planted_keys: list[tuple[int, int]],
    planted: dict[tuple[int, int], float],
    group_lq: dict[tuple[int, int], float],
    strong: np.ndarray,
    treated: np.ndarray,
    trend_growth: np.ndarray,
    measured_shares: dict[str, float],
) -> dict:
    geo = regions["geo"].tolist()
    pilot = set(regions.loc[regions["pilot"], "geo"])
    group_names = list(DEMO_CLUSTER_GROUPS)
    codes = divisions["division"].tolist()
    return {
        "seed": int(seed),
        "first_year": int(first_year),
        "last_year": int(last_year),
        "demography_last_year": int(last_year - 1),
        "parameters": dict(PARAMETERS),
        "definitions": {
            "employment_growth": "g_ri = (ln E_ri,T - ln E_ri,t0) / (T - t0), E = persons employed "
            "(V16110) of NUTS-2 region r and NACE division i",
            "ln_lq": "ln[(E_ri,t0 / E_r,t0) / (E_i,t0 / E_t0)], totals over the 71 divisions "
            "(B05-N82, S95) and the 242 NUTS-2 regions",
            "ln_lq_cluster": "ln max(0.01, [(G_rg - E_ri) / E_r] / [(G_g - E_i) / E]) at t0 for i in "
            "demo group g, G = employment of the group; 0 for divisions in no group",
            "employment_regression": "OLS of employment_growth on ln_lq, ln_lq_cluster, "
            "pilot_treated dummy, region and division fixed effects recovers delta and beta",
            "wage_premium": "ln(V13320 / V16110) = country/region + division effects + theta * "
            "strong_cluster + noise",
            "gdp_level": "ln GDP per head (t0) = country effect + lambda * strong_share + noise, "
            "strong_share = share of the region's persons employed (t0) in strong_cluster_cells",
            "gdp_convergence": "(ln y_T - ln y_t0)/(T - t0) = country effect + gamma * ln y_t0 + noise",
            "birth_regression": "(ln births_T' - ln births_t0)/(T' - t0) on ln(births_t0 / "
            "active_t0) and ln LQ of the section (persons employed, t0) with region and section "
            "fixed effects recovers delta_b and beta_b (T' = demography_last_year)",
            "high_growth": "ln(V11960 / V11910) = section effect + phi * (share of the section's "
            "persons employed at t0 in strong_cluster_cells) + noise",
            "pilot_effect": "ln E of pilot_treated_cells gains pilot_effect_per_year * (t - 2017) "
            "from 2018 on",
        },
        "demo_cluster_groups": {g: list(d) for g, d in DEMO_CLUSTER_GROUPS.items()},
        "planted_pairs": [
            {
                "geo": geo[r],
                "group": group_names[g],
                "multiplier": round(planted[(r, g)], 4),
                "group_lq_t0": round(group_lq[(r, g)], 4),
                "pilot": geo[r] in pilot,
            }
            for r, g in planted_keys
        ],
        "strong_cluster_cells": [[geo[r], codes[i]] for r, i in zip(*np.nonzero(strong))],
        "pilot_regions": {name: list(c) for name, c in PILOT_REGIONS.items()},
        "pilot_treated_cells": [[geo[r], codes[i]] for r, i in zip(*np.nonzero(treated))],
        "pilot_start_year": PILOT_START_YEAR,
        "division_trend_growth": {c: float(m) for c, m in zip(codes, trend_growth)},
        "lq_cluster_floor": LQ_CLUSTER_FLOOR,
        "noise_sd": {
            "employment_growth_eps": 0.012, "employment_yearly": 0.015, "births_growth_eps": 0.015,
            "births_yearly": 0.03, "gdp_level_xi": 0.15, "gdp_growth": 0.004, "gdp_yearly": 0.01,
        },
        "confidential_share_target": CONFIDENTIAL_SHARE,
        "confidentiality": {
            "primary_share_target": CONFIDENTIAL_SHARE,
            "local_units_confidential_share": LOCAL_UNITS_CONFIDENTIAL_SHARE,
            "concentrated_divisions": list(CONCENTRATED_DIVISIONS),
            "score_weights": dict(CONFIDENTIALITY_WEIGHTS),
            "truth_file": CONFIDENTIAL_TRUTH_FILE,
            "measured_shares": {k: round(v, 4) for k, v in measured_shares.items()},
        },
        "demo_format_version": DEMO_FORMAT_VERSION,
        "n_regions": int(len(regions)),
        "nuts_version": "NUTS 2021",
    }
