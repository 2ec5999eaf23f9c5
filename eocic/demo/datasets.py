"""Turn the simulated demo economy into the tidy tables of real Eurostat datasets.

Each :class:`DemoDataset` holds one dataset in the tidy shape of
:func:`eocic.eurostat.tsv.read_tsv` (dimension columns, ``time``, ``value``, ``flags``) plus
how Eurostat lays it out (dimension order, legacy or API layout, decimals). Rules applied here
(deterministic; every random draw happened in :mod:`eocic.demo.economy`):

- rows for the NUTS-2 regions and for their countries (NUTS-0 codes, ``EL`` for Greece); a
  country value is the sum of its regions (counts, money) or their weighted mean (shares);
- ``sbs_r_nuts06_r2`` also has NUTS-1 rows (the first three characters of the NUTS-2 code),
  as the real file does; section rows (B, C, ... N) at all three levels are sums of their
  divisions. Every aggregate includes the confidential cells. Which cells are ``: c`` comes
  from ``economy.sbs_suppression`` (primary and secondary suppression, step 9 of
  :mod:`eocic.demo.economy`, rules in :mod:`eocic.demo.suppression`): persons employed and
  wages together, local units on their own (mostly published). A one-division section (D, L),
  a one-region NUTS-1 and a one-region country are suppressed exactly where their only part
  is;
- ``truth_confidential.csv.gz`` (:func:`confidential_truth`): the true values of the
  suppressed NUTS-2 x division cells;
- legacy files use the pre-2025 flags (``c``, ``p``, ``b``, ``u``), API files the 2025 ones
  (``C`` confidential in the confidentiality list, ``p``, ``b``, ``u`` observation status);
- the last year is provisional (``p``); LFS-based indicators carry a break (``b``) in 2021
  and low reliability (``u``) for small values or small regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eocic.demo.economy import DemoEconomy, LFS_GROUPS
from eocic.demo.profiles import COUNTRY_PROFILES

SBS_INDICATORS = {"V11210": "local_units", "V13320": "wages", "V16110": "persons_employed"}
"""SBS indic_sb code -> employment-panel column (V13320 in million EUR)."""

DEMOGRAPHY_INDICATORS = {
    "V11910": "active", "V11920": "births", "V11930": "deaths", "V11960": "high_growth",
}
"""bd_hgnace2_r3 indic_sb code -> demography-panel column.

Verified (Eurostat dictionary as quoted in public code using bd_hgnace2_r3): V11910
population of active enterprises in t, V11920 births of enterprises in t, V11930 deaths of
enterprises in t, V11960 high-growth enterprises measured in employment (growth by 10 % or
more), all numbers. Assumed, not verified: that the dataset lists the single NACE sections
B ... N as ``nace_r2`` codes (the real one certainly has the aggregate ``B-S_X_K642``, which
the demo does not write)."""

DEMOGRAPHY_GAP_COUNTRIES = ("EL", "MT")
"""Countries whose first two demography years are not available (bare ``:``)."""

LFS_BREAK_YEAR = 2021
SMALL_REGION_POPULATION = 400_000


@dataclass
class DemoDataset:
    """One Eurostat dataset of the demo: its tidy table and how to lay it out."""

    code: str
    table: pd.DataFrame
    dimensions: list[str]
    layout: str
    decimals: int = 0
    decimals_by: dict[str, dict[str, int]] = field(default_factory=dict)
    description: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.code}.tsv.gz"


def _tidy(frame: pd.DataFrame, constants: dict[str, str], dimensions: list[str]) -> pd.DataFrame:
    """Add constant dimension columns and order the columns as dimensions, time, value, flags."""
    frame = frame.copy()
    for name, code in constants.items():
        frame[name] = code
    frame["time"] = pd.Categorical.from_codes(
        frame["year"].to_numpy() - frame["year"].min(),
        [str(y) for y in range(frame["year"].min(), frame["year"].max() + 1)],
    )
    frame["value"] = frame["value"].astype(float)
    frame["flags"] = frame["flags"].astype(str)
    return frame[[*dimensions, "time", "value", "flags"]].reset_index(drop=True)


def _add_flag(flags: np.ndarray, where: np.ndarray, letter: str) -> np.ndarray:
    """Append ``letter`` to ``flags`` where ``where`` holds (flags stay sorted: 'b' < 'p' < 'u')."""
    out = flags.astype(object).copy()
    out[where] = [("".join(sorted(f + letter))) if letter not in f else f for f in out[where]]
    return out


def _sbs_cubes(economy: DemoEconomy) -> dict[str, np.ndarray]:
    """NUTS-2 x division x year arrays (R, I, T) of the SBS indicators (``SBS_INDICATORS``
    columns) and of the not-available flags (``na_<code>``), in the grid's order."""
    pattern = economy.sbs_suppression
    grid = pattern.grid
    panel = economy.employment
    shape = (grid.n_regions, grid.n_divisions, len(pattern.years))
    # the panel is laid out region x division x year, like the grid (checked, not assumed)
    first = panel.iloc[:: shape[1] * shape[2]]
    if (first["geo"].tolist() != grid.geo[: shape[0]]
            or panel["nace_r2"].iloc[: shape[1] * shape[2]: shape[2]].tolist()
            != grid.activity[: shape[1]]
            or panel["year"].iloc[: shape[2]].tolist() != pattern.years.tolist()):
        raise ValueError("the employment panel is not laid out region x division x year")
    cubes = {column: panel[column].to_numpy(dtype=float).reshape(shape)
             for column in SBS_INDICATORS.values()}
    for code in SBS_INDICATORS:
        unavailable = panel["not_available"].str.contains(code, regex=False).to_numpy()
        cubes[f"na_{code}"] = unavailable.reshape(shape)
    return cubes


def sbs_table(economy: DemoEconomy) -> pd.DataFrame:
    """Tidy ``sbs_r_nuts06_r2``: nace_r2 (divisions and sections), indic_sb, geo (NUTS-2,
    NUTS-1, NUTS-0), time, value, flags.

    Every aggregate (section, NUTS-1, country) is the sum of its NUTS-2 x division cells,
    confidential ones included; confidential cells (``economy.sbs_suppression``, primary and
    secondary) are ``: c``, not-available NUTS-2 x division cells a bare ``:``, the last year
    ``p``.
    """
    pattern = economy.sbs_suppression
    grid = pattern.grid
    cubes = _sbs_cubes(economy)
    n_g, n_a, n_t = len(grid.geo), len(grid.activity), len(pattern.years)
    g_idx, a_idx, t_idx = (index.reshape(-1) for index in np.indices((n_g, n_a, n_t)))
    hidden_by = {"V11210": pattern.local_units, "V13320": pattern.employment,
                 "V16110": pattern.employment}
    last = t_idx == n_t - 1
    parts = []
    for code, column in SBS_INDICATORS.items():
        if code == "V13320":  # sums of 0.1 million EUR: exact in integer tenths
            values = grid.aggregate(np.rint(cubes[column] * 10)) / 10
        else:
            values = grid.aggregate(cubes[column])
        unavailable = np.zeros((n_g, n_a, n_t), dtype=bool)
        unavailable[: grid.n_regions, : grid.n_divisions] = cubes[f"na_{code}"]
        confidential = hidden_by[code].reshape(-1)
        unavailable = unavailable.reshape(-1) & ~confidential
        values = values.reshape(-1).copy()
        values[confidential | unavailable] = np.nan
        flags = np.where(confidential, "c", np.where(last & ~unavailable, "p", "")).astype(object)
        parts.append(pd.DataFrame({
            "nace_r2": pd.Categorical.from_codes(a_idx, grid.activity),
            "geo": pd.Categorical.from_codes(g_idx, grid.geo),
            "year": pattern.years[t_idx], "indic_sb": code, "value": values,
            "flags": pd.Categorical(flags),
        }))
    return _tidy(pd.concat(parts, ignore_index=True), {}, ["nace_r2", "indic_sb", "geo"])


def confidential_truth(economy: DemoEconomy) -> pd.DataFrame:
    """The true values of the suppressed NUTS-2 x division cells (``truth_confidential.csv.gz``).

    One row per suppressed NUTS-2 x division x year x indicator: ``geo``, ``nace_r2``,
    ``year``, ``indicator`` (``employment`` = persons employed V16110, ``local_units`` =
    V11210, ``wages_eur`` = wages and salaries V13320 in EUR, i.e. the published 0.1 million
    EUR value x 1e6, as the pipeline's ``wages_eur``), ``true_value`` (int64: the value
    Eurostat would have published) and ``suppression`` (``primary`` or ``secondary``); sorted
    by geo, nace_r2, year, indicator.
    """
    panel = economy.employment
    key = panel[["geo", "nace_r2", "year"]]
    wages_eur = np.rint(panel["wages"].to_numpy() * 10).astype(np.int64) * 100_000
    parts = [
        key.assign(indicator="employment", true_value=panel["persons_employed"].astype(np.int64),
                   suppression=panel["suppression"])[panel["confidential"]],
        key.assign(indicator="local_units", true_value=panel["local_units"].astype(np.int64),
                   suppression=panel["local_units_suppression"])[panel["local_units_confidential"]],
        key.assign(indicator="wages_eur", true_value=wages_eur,
                   suppression=panel["suppression"])[panel["confidential"]],
    ]
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(["geo", "nace_r2", "year", "indicator"], ignore_index=True)


def demography_table(economy: DemoEconomy) -> pd.DataFrame:
    """Tidy ``bd_hgnace2_r3``: freq, indic_sb, nace_r2 (sections B-N), geo, time, value, flags."""
    panel = economy.demography
    first_year, last_year = int(panel["year"].min()), int(panel["year"].max())
    regions_per_country = economy.regions.groupby("country")["geo"].nunique()
    columns = list(DEMOGRAPHY_INDICATORS.values())
    national = panel.groupby(["country", "nace_r2", "year"], sort=False)[columns].sum().reset_index()
    national["geo"] = national["country"]
    parts = []
    for code, column in DEMOGRAPHY_INDICATORS.items():
        for level, frame in (("nuts2", panel), ("nuts0", national)):
            values = frame[column].to_numpy(dtype=float).copy()
            small = np.isin(values, (1.0, 2.0)) if code != "V11910" else np.zeros(len(values), bool)
            if level == "nuts0":
                # a one-region country would reveal its region's confidential cell
                single = frame["country"].map(regions_per_country.eq(1)).to_numpy()
                small &= single
            gap = np.isin(frame["country"].to_numpy(), DEMOGRAPHY_GAP_COUNTRIES) & (
                frame["year"].to_numpy() < first_year + 2)
            values[small | gap] = np.nan
            flags = np.where(small & ~gap, "C", "").astype(object)
            flags = _add_flag(flags, (frame["year"].to_numpy() == last_year) & ~small & ~gap, "p")
            parts.append(pd.DataFrame({
                "indic_sb": code, "nace_r2": frame["nace_r2"].to_numpy(),
                "geo": frame["geo"].to_numpy(), "year": frame["year"].to_numpy(),
                "value": values, "flags": flags,
            }))
    return _tidy(pd.concat(parts, ignore_index=True), {"freq": "A"},
                 ["freq", "indic_sb", "nace_r2", "geo"])


def _national_mean(panel: pd.DataFrame, column: str, weight: str) -> pd.DataFrame:
    """Weighted mean of ``column`` by country and year (weights ``weight``)."""
    weighted = panel.assign(__w=panel[weight].astype(float), __x=panel[column] * panel[weight])
    sums = weighted.groupby(["country", "year"], sort=False)[["__x", "__w"]].sum()
    return (sums["__x"] / sums["__w"]).rename(column).reset_index().rename(columns={"country": "geo"})


def _regional_series(
    economy: DemoEconomy, column: str, *, weight: str, decimals: int, missing: str | None,
    lfs: bool = False,
) -> pd.DataFrame:
    """NUTS-2 and NUTS-0 rows of one context indicator: geo, year, value, flags."""
    panel = economy.regional
    last_year = int(panel["year"].max())
    regional = panel[["geo", "year", column]].rename(columns={column: "value"})
    if missing is not None:
        regional.loc[panel[f"{missing}_missing"].to_numpy(), "value"] = np.nan
    national = _national_mean(panel, column, weight).rename(columns={column: "value"})
    national["value"] = national["value"].round(decimals)
    frame = pd.concat([regional, national], ignore_index=True)
    has_value = frame["value"].notna().to_numpy()
    flags = np.full(len(frame), "", dtype=object)
    if lfs:
        population = pd.concat([
            panel[["geo", "year", "population"]],
            panel.groupby(["country", "year"], sort=False)["population"].sum().reset_index()
            .rename(columns={"country": "geo"}),
        ], ignore_index=True)
        small = frame.merge(population, on=["geo", "year"], how="left")["population"].to_numpy()
        flags = _add_flag(flags, has_value & (frame["year"].to_numpy() == LFS_BREAK_YEAR), "b")
        flags = _add_flag(flags, has_value & (small < SMALL_REGION_POPULATION), "u")
    flags = _add_flag(flags, has_value & (frame["year"].to_numpy() == last_year), "p")
    frame["flags"] = flags
    return frame


def gdp_table(economy: DemoEconomy) -> pd.DataFrame:
    """Tidy ``nama_10r_2gdp``: unit (MIO_EUR, EUR_HAB, PPS_HAB), geo, time, value, flags.

    MIO_EUR: integer million EUR; EUR_HAB and PPS_HAB rounded to 100 like the real file.
    Country rows: MIO_EUR = sum of regions, per-head values = national GDP / population.
    """
    panel = economy.regional
    last_year = int(panel["year"].max())
    price_level = panel["country"].map({c: p.price_level for c, p in COUNTRY_PROFILES.items()})
    regional = pd.DataFrame({"geo": panel["geo"], "year": panel["year"], "country": panel["country"],
                             "gdp": panel["gdp_meur"], "population": panel["population"],
                             "price_level": price_level})
    national = regional.groupby(["country", "year"], sort=False).agg(
        gdp=("gdp", "sum"), population=("population", "sum"), price_level=("price_level", "first"),
    ).reset_index()
    national["geo"] = national["country"]
    frame = pd.concat([regional, national], ignore_index=True)
    per_head = frame["gdp"] * 1e6 / frame["population"]
    units = {
        "MIO_EUR": frame["gdp"].to_numpy(dtype=float),
        "EUR_HAB": np.round(per_head.to_numpy() / 100) * 100,
        "PPS_HAB": np.round((per_head / frame["price_level"]).to_numpy() / 100) * 100,
    }
    parts = []
    for unit, values in units.items():
        flags = np.where(frame["year"].to_numpy() == last_year, "p", "").astype(object)
        parts.append(pd.DataFrame({"unit": unit, "geo": frame["geo"].to_numpy(),
                                   "year": frame["year"].to_numpy(), "value": values,
                                   "flags": flags}))
    return _tidy(pd.concat(parts, ignore_index=True), {}, ["unit", "geo"])


def population_table(economy: DemoEconomy) -> pd.DataFrame:
    """Tidy ``demo_r_d2jan``: freq, unit (NR), sex (T), age (TOTAL), geo, time, value, flags."""
    panel = economy.regional
    national = panel.groupby(["country", "year"], sort=False)["population"].sum().reset_index()
    frame = pd.concat([panel[["geo", "year", "population"]],
                       national.rename(columns={"country": "geo"})], ignore_index=True)
    frame = frame.rename(columns={"population": "value"}).assign(flags="")
    return _tidy(frame, {"freq": "A", "unit": "NR", "sex": "T", "age": "TOTAL"},
                 ["freq", "unit", "sex", "age", "geo"])


def lfs_employment_table(economy: DemoEconomy) -> pd.DataFrame:
    """Tidy ``lfst_r_lfe2en2`` (legacy): unit THS, nace_r2 groups and TOTAL, age Y15-74, geo.

    Values in thousands (0.1); TOTAL = sum of the groups; ``u`` below 10 thousand, ``b`` in
    2021, ``p`` in the last year.
    """
    panel = economy.regional
    last_year = int(panel["year"].max())
    groups = ["A", *LFS_GROUPS, "O-Q", "R-U"]
    wide = panel[["geo", "country", "year", *(f"lfs_{g}" for g in groups)]].copy()
    wide["lfs_TOTAL"] = wide[[f"lfs_{g}" for g in groups]].sum(axis=1).round(1)
    national = wide.groupby(["country", "year"], sort=False)[
        [f"lfs_{g}" for g in [*groups, "TOTAL"]]].sum().reset_index()
    national["geo"] = national["country"]
    wide = pd.concat([wide, national], ignore_index=True)
    parts = []
    for group in [*groups, "TOTAL"]:
        values = wide[f"lfs_{group}"].round(1).to_numpy(dtype=float)
        flags = np.full(len(values), "", dtype=object)
        flags = _add_flag(flags, wide["year"].to_numpy() == LFS_BREAK_YEAR, "b")
        flags = _add_flag(flags, values < 10.0, "u")
        flags = _add_flag(flags, wide["year"].to_numpy() == last_year, "p")
        parts.append(pd.DataFrame({"nace_r2": group, "geo": wide["geo"].to_numpy(),
                                   "year": wide["year"].to_numpy(), "value": values,
                                   "flags": flags}))
    return _tidy(pd.concat(parts, ignore_index=True), {"unit": "THS", "age": "Y15-74"},
                 ["unit", "nace_r2", "age", "geo"])


def demo_datasets(economy: DemoEconomy) -> list[DemoDataset]:
    """All Eurostat datasets of the demo, in file-name order."""
    rd = pd.concat([
        _regional_series(economy, "rd_total", weight="gdp_meur", decimals=2, missing="rd")
        .assign(sectperf="TOTAL"),
        _regional_series(economy, "rd_business", weight="gdp_meur", decimals=2, missing="rd")
        .assign(sectperf="BES"),
    ], ignore_index=True)
    htec = pd.concat([
        _regional_series(economy, "htc_share", weight="total_employment", decimals=1,
                         missing="htec", lfs=True).assign(nace_r2="HTC"),
        # high-tech manufacturing alone: the scoreboard's hightech_mfg_pc_emp (registry)
        _regional_series(economy, "htc_manufacturing_share", weight="total_employment",
                         decimals=1, missing="htec", lfs=True).assign(nace_r2="C_HTC"),
        _regional_series(economy, "kis_share", weight="total_employment", decimals=1,
                         missing="htec", lfs=True).assign(nace_r2="KIS"),
    ], ignore_index=True)
    datasets = [
        DemoDataset(
            "sbs_r_nuts06_r2", sbs_table(economy), ["nace_r2", "indic_sb", "geo"], "legacy",
            0, {"indic_sb": {"V13320": 1}},
            "SBS by NUTS-2 region, NUTS-1 region and country and NACE Rev. 2: V11210 local "
            "units (number), V13320 wages and salaries (million EUR), V16110 persons employed "
            "(number); divisions and sections B-N, S95; confidential cells `: c` (primary and "
            "secondary suppression).",
        ),
        DemoDataset(
            "bd_hgnace2_r3", demography_table(economy), ["freq", "indic_sb", "nace_r2", "geo"],
            "api", 0, {},
            "Business demography by NACE section: V11910 active enterprises, V11920 births, "
            "V11930 deaths, V11960 high-growth enterprises (numbers).",
        ),
        DemoDataset(
            "nama_10r_2gdp", gdp_table(economy), ["unit", "geo"], "legacy", 0, {},
            "Regional GDP at current market prices: MIO_EUR, EUR_HAB, PPS_HAB.",
        ),
        DemoDataset(
            "demo_r_d2jan", population_table(economy), ["freq", "unit", "sex", "age", "geo"],
            "api", 0, {}, "Population on 1 January (persons).",
        ),
        DemoDataset(
            "rd_e_gerdreg", _tidy(rd, {"freq": "A", "unit": "PC_GDP"},
                                  ["freq", "sectperf", "unit", "geo"]),
            ["freq", "sectperf", "unit", "geo"], "api", 2, {},
            "R&D expenditure (GERD), TOTAL and business enterprise sector (BES), % of GDP.",
        ),
        DemoDataset(
            "edat_lfse_04",
            _tidy(_regional_series(economy, "tertiary", weight="population", decimals=1,
                                   missing="tertiary", lfs=True),
                  {"freq": "A", "sex": "T", "isced11": "ED5-8", "age": "Y25-64", "unit": "PC"},
                  ["freq", "sex", "isced11", "age", "unit", "geo"]),
            ["freq", "sex", "isced11", "age", "unit", "geo"], "api", 1, {},
            "Population aged 25-64 with tertiary education (ISCED 5-8), %.",
        ),
        DemoDataset(
            "trng_lfse_04",
            _tidy(_regional_series(economy, "lifelong_learning", weight="population", decimals=1,
                                   missing="lifelong_learning", lfs=True),
                  {"freq": "A", "sex": "T", "age": "Y25-64", "unit": "PC"},
                  ["freq", "sex", "age", "unit", "geo"]),
            ["freq", "sex", "age", "unit", "geo"], "api", 1, {},
            "Participation of adults aged 25-64 in education and training (last 4 weeks), %.",
        ),
        DemoDataset(
            "isoc_r_broad_h",
            _tidy(_regional_series(economy, "broadband", weight="population", decimals=0,
                                   missing="broadband"),
                  {"freq": "A", "unit": "PC_HH"}, ["freq", "unit", "geo"]),
            ["freq", "unit", "geo"], "api", 0, {},
            "Households with broadband access, % of households.",
        ),
        DemoDataset(
            "htec_emp_reg2",
            _tidy(htec, {"freq": "A", "sex": "T", "unit": "PC_EMP"},
                  ["freq", "nace_r2", "sex", "unit", "geo"]),
            ["freq", "nace_r2", "sex", "unit", "geo"], "api", 1, {},
            "Employment in high-technology sectors (HTC), high-technology manufacturing "
            "(C_HTC) and knowledge-intensive services (KIS), % of total employment.",
        ),
        DemoDataset(
            "lfst_r_lfe2en2", lfs_employment_table(economy), ["unit", "nace_r2", "age", "geo"],
            "legacy", 1, {},
            "LFS employment by NACE Rev. 2 section group, age 15-74, thousands.",
        ),
    ]
    return sorted(datasets, key=lambda d: d.code)
