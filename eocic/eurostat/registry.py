"""Registry of the datasets the study uses: what each is, how it is filtered, what it feeds.

Each :class:`Dataset` names a dataset code (the file name a source folder holds it under), the
dimension filters that select the series the study needs, the unit of the selected values and
the processed table it feeds. Context indicators (``feeds="context"``) carry the indicator code
they become in the tidy ``context`` table (``geo, year, indicator, value, flags``).

All datasets are Eurostat's (``provider="eurostat"``, fetched by ``eocic fetch``) except
``ardeco_nuts2_population``: total population by NUTS 2021 region from JRC ARDECO
(``provider="ardeco"``, read by :mod:`eocic.eurostat.ardeco`; dimensions ``variable``,
``nuts_version``, ``level``, ``geo``, ``unit``), the ``population`` indicator of runs whose
source lacks Eurostat's ``demo_r_d2jan``. Where several datasets feed one indicator, the first
in registry order that the source holds wins, for the whole indicator (no mixing of sources
across years).

National SBS by NACE Rev. 2 class (``feeds="national_classes"``) give the class-level employment
of each country: the weights that split a regional division between cluster categories
(:func:`eocic.clusters.definitions.allocation_weights`). These datasets code a class as section
letter + four digits (``C2910``); the pipeline turns it into the dotted form ``29.10`` of
``eocic/classifications/nace_r2_classes.csv``.

Dataset codes and dimension codes follow the Eurostat database. Codes marked *unverified* in a
dataset's ``note`` could not be checked offline against the Eurostat catalogue.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType


@dataclasses.dataclass(frozen=True)
class Indicator:
    """One series selected from a dataset.

    Attributes
    ----------
    code : str
        Name of the indicator in the processed tables (``employment``, ``rd_gerd_pc_gdp``, ...).
    filters : dict
        Dimension -> code selecting the series (e.g. ``{"unit": "PC_GDP", "sectperf": "TOTAL"}``);
        a tuple of codes lists alternatives in order of preference (vintages differ), the first
        one present in the file is used.
    unit : str
        Unit of the values after selection (e.g. ``"persons"``, ``"% of GDP"``).
    additive : bool
        Whether values of two regions can be summed (levels yes; rates and shares no). Used by
        NUTS harmonisation to decide between aggregating and dropping merged regions.
    scale : float
        Factor turning the published unit into the processed unit (e.g. 1e6 for million EUR
        into EUR).
    """

    code: str
    filters: dict[str, str | tuple[str, ...]]
    unit: str
    additive: bool
    scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset the study reads.

    ``provider`` is who publishes it: ``"eurostat"`` (downloadable by ``eocic fetch`` from the
    Eurostat API) or ``"ardeco"`` (JRC ARDECO export, put in a source folder by hand).
    """

    code: str
    title: str
    feeds: str  # sbs | demography | gdp | population | context | national_classes
    indicators: tuple[Indicator, ...]
    note: str = ""
    provider: str = "eurostat"


def _ind(code: str, unit: str, additive: bool, scale: float = 1.0, /,
         **filters: str | tuple[str, ...]) -> Indicator:
    return Indicator(code=code, filters=dict(filters), unit=unit, additive=additive, scale=scale)


_DATASETS = (
    Dataset(
        "sbs_r_nuts06_r2",
        "SBS data by NUTS 2 regions and NACE Rev. 2 (2008-2020)",
        "sbs",
        (
            _ind("employment", "persons employed", True, indic_sb="V16110"),
            _ind("local_units", "local units", True, indic_sb="V11210"),
            _ind("wages_eur", "EUR", True, 1e6, indic_sb="V13320"),
        ),
        "Wages and salaries are published in million EUR and stored in EUR.",
    ),
    Dataset(
        "sbs_r_nuts2021",
        "Enterprise statistics by NUTS 2 regions and NACE Rev. 2 (from 2021 onwards)",
        "sbs",
        (
            _ind("employment", "persons employed", True, indic_sbs="EMP_LOC_NR"),
            _ind("local_units", "local units", True, indic_sbs="LOC_NR"),
            _ind("wages_eur", "EUR", True, 1e6, indic_sbs="WAG_SAL_MEUR"),
        ),
        "Successor of sbs_r_nuts06_r2; indic_sbs codes unverified offline.",
    ),
    Dataset(
        "bd_hgnace2_r3",
        "Business demography and high growth enterprises by NACE Rev. 2 and NUTS 3 regions",
        "demography",
        (
            _ind("active_enterprises", "enterprises", True, indic_sb="V11910"),
            _ind("births", "enterprises", True, indic_sb="V11920"),
            _ind("deaths", "enterprises", True, indic_sb="V11930"),
            _ind("high_growth_enterprises", "enterprises", True, indic_sb="V11960"),
        ),
        "V11960: high-growth enterprises measured in employment (growth by 10% or more).",
    ),
    Dataset(
        "bd_size_r3",
        "Business demography by size class and NUTS 3 regions",
        "demography",
        (
            _ind("active_enterprises", "enterprises", True, indic_sb="V11910", sizeclas="TOTAL"),
            _ind("births", "enterprises", True, indic_sb="V11920", sizeclas="TOTAL"),
        ),
        "Used only when bd_hgnace2_r3 is absent.",
    ),
    Dataset(
        "sbs_ovw_act",
        "Enterprise statistics by NACE Rev. 2 activity (from 2021 onwards)",
        "national_classes",
        (_ind("employment", "persons employed", True, indic_sbs="EMP_NR"),),
        "Successor (2021+) of the four sbs_na_*_r2 datasets below, all business-economy "
        "sections in one dataset; classes coded like C2910 and EMP_NR = persons employed "
        "(seen in public code using the dataset, not checked against the Eurostat catalogue). "
        "Assumed to have no other dimension than freq, indic_sbs, nace_r2 and geo (a size-class "
        "dimension would make the pipeline's key check fail with a clear error). Preferred to "
        "the older datasets for a year both hold.",
    ),
    Dataset(
        "sbs_na_ind_r2",
        "Annual detailed enterprise statistics for industry (NACE Rev. 2, B-E), 2005-2020",
        "national_classes",
        (_ind("employment", "persons employed", True, indic_sb="V16110"),),
        "Classes coded like C2910 (checked in public code citing this dataset's C2030); "
        "legacy TSV key nace_r2,indic_sb,geo.",
    ),
    Dataset(
        "sbs_na_con_r2",
        "Annual detailed enterprise statistics for construction (NACE Rev. 2, F), 2005-2020",
        "national_classes",
        (_ind("employment", "persons employed", True, indic_sb="V16110"),),
        "Same layout as sbs_na_ind_r2 (F4120 ...), assumed.",
    ),
    Dataset(
        "sbs_na_dt_r2",
        "Annual detailed enterprise statistics for trade (NACE Rev. 2, G), 2005-2020",
        "national_classes",
        (_ind("employment", "persons employed", True, indic_sb="V16110"),),
        "Same layout as sbs_na_ind_r2 (G4711 ...), assumed.",
    ),
    Dataset(
        "sbs_na_1a_se_r2",
        "Annual detailed enterprise statistics for services (NACE Rev. 2, H-N and S95), "
        "2005-2020",
        "national_classes",
        (_ind("employment", "persons employed", True, indic_sb="V16110"),),
        "Same layout as sbs_na_ind_r2 (H4941 ...), assumed; no financial services (K).",
    ),
    Dataset(
        "nama_10r_2gdp",
        "Gross domestic product (GDP) at current market prices by NUTS 2 regions",
        "gdp",
        (
            _ind("gdp_mio_eur", "million EUR", True, unit="MIO_EUR"),
            _ind("gdp_eur_per_head", "EUR per inhabitant", False, unit="EUR_HAB"),
            _ind("gdp_pps_per_head", "PPS per inhabitant", False, unit="PPS_HAB"),
        ),
    ),
    Dataset(
        "nama_10r_3gdp",
        "Gross domestic product (GDP) at current market prices by NUTS 3 regions",
        "gdp",
        (
            _ind("gdp_mio_eur", "million EUR", True, unit="MIO_EUR"),
            _ind("gdp_eur_per_head", "EUR per inhabitant", False, unit="EUR_HAB"),
        ),
        "Fallback for NUTS-2 GDP: NUTS-3 rows are ignored, NUTS-2 rows used.",
    ),
    Dataset(
        "demo_r_d2jan",
        "Population on 1 January by age, sex and NUTS 2 region",
        "population",
        (_ind("population", "persons", True, unit="NR", sex="T", age="TOTAL"),),
        "Population on 1 January. Preferred to ardeco_nuts2_population when both are present.",
    ),
    Dataset(
        "ardeco_nuts2_population",
        "ARDECO total population (SNPTD) by NUTS 2 region, NUTS 2021, 1960 onwards",
        "population",
        (_ind("population", "persons", True, variable="SNPTD", unit="Persons",
              nuts_version="2021", level="2"),),
        "JRC ARDECO (Annual Regional Database of the European Commission, JRC and DG REGIO, "
        "https://territorial.ec.europa.eu/ardeco), © European Union, CC BY 4.0; region codes "
        "of NUTS 2021 (UK and candidate countries' statistical regions included). Read only "
        "when demo_r_d2jan is absent (or has no NUTS-2 rows). SNPTD looks like the regional accounts' average "
        "population of the year (values up to 2023 rounded to 10 or 100 persons), not "
        "Eurostat's 1 January count: against demo_r_d2jan (as copied in the I40 database of "
        "the shared data) its 2014 values differ by 0.4 % at the median and by up to 4 % "
        "(BG33). Its last years are ARDECO projections, flagged f (2024-2026 in the 2025 "
        "export; see eocic.eurostat.ardeco).",
        provider="ardeco",
    ),
    Dataset(
        "lfst_r_lfe2en2",
        "Employment by age, economic activity and NUTS 2 regions (NACE Rev. 2), LFS",
        "context",
        (_ind("lfs_employment_ths", "thousand persons", True, unit="THS", nace_r2="TOTAL",
              age=("Y_GE15", "Y15-74")),),
        "All-economy employment, the denominator for shares of total employment. Older "
        "vintages publish ages 15 and over (Y_GE15), newer ones 15-74 (Y15-74): the first "
        "present is used.",
    ),
    Dataset(
        "rd_e_gerdreg",
        "Intramural R&D expenditure (GERD) by sectors of performance and NUTS 2 regions",
        "context",
        (
            _ind("rd_gerd_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="TOTAL"),
            _ind("rd_berd_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="BES"),
        ),
    ),
    Dataset(
        "edat_lfse_04",
        "Population aged 25-64 by educational attainment level and NUTS 2 regions (%)",
        "context",
        (_ind("tertiary_pc_25_64", "% of population 25-64", False, unit="PC", sex="T",
              isced11="ED5-8", age="Y25-64"),),
    ),
    Dataset(
        "trng_lfse_04",
        "Participation in education and training (last 4 weeks) by NUTS 2 regions",
        "context",
        (_ind("lifelong_learning_pc_25_64", "% of population 25-64", False, unit="PC",
              sex="T", age="Y25-64"),),
    ),
    Dataset(
        "htec_emp_reg2",
        "Employment in technology and knowledge-intensive sectors by NUTS 2 regions",
        "context",
        (
            _ind("hightech_mfg_pc_emp", "% of total employment", False, nace_r2="HTC",
                 sex="T", unit="PC_EMP"),
            _ind("kis_pc_emp", "% of total employment", False, nace_r2="KIS", sex="T",
                 unit="PC_EMP"),
        ),
    ),
    Dataset(
        "isoc_r_broad_h",
        "Households with broadband access by NUTS 2 regions",
        "context",
        (_ind("broadband_pc_households", "% of households", False, unit="PC_HH"),),
    ),
)

#: Dataset code -> :class:`Dataset`, read-only.
DATASETS = MappingProxyType({dataset.code: dataset for dataset in _DATASETS})


def datasets_feeding(table: str) -> list[Dataset]:
    """Datasets feeding one processed table, in registry (preference) order."""
    return [dataset for dataset in _DATASETS if dataset.feeds == table]
