"""Registry of the datasets the study uses: what each is, how it is filtered, what it feeds.

Each :class:`Dataset` names a dataset code (the file name a source folder holds it under), the
dimension filters that select the series the study needs, the unit of the selected values and
the processed table it feeds. Context indicators (``feeds="context"``) carry the indicator code
they become in the tidy ``context`` table (``geo, year, indicator, value, flags``).

Most datasets are Eurostat's (``provider="eurostat"``, fetched by ``eocic fetch``). The others
are put in a source folder by hand under the file name that is their code, and ``eocic fetch``
skips them:

* JRC ARDECO exports (``provider="ardeco"``, read by :mod:`eocic.eurostat.ardeco`; dimensions
  ``variable``, ``nuts_version``, ``level``, ``geo``, extra columns such as ``isced11``,
  ``unit``): population (the ``population`` indicator of runs whose source lacks Eurostat's
  ``demo_r_d2jan``), educational attainment, investment and GDP per head, NUTS 2021;
* regional panel tables, one row per region and year and one column per series (read by
  :mod:`eocic.eurostat.panel`; dimensions ``variable``, the column name, and ``geo``): the
  Industry 4.0 readiness database (``provider="i40"``), the Eurostat tgs panel
  (``"eurostat-tgs"``) and rOpenGov's daily internet users (``"rOpenGov-regions"``), each a
  copy of Eurostat series.

Where several datasets feed one indicator, the first in registry order that the source holds
wins, for the whole indicator (no mixing of sources across years): the Eurostat dataset
first, then the copies in other layouts.

National SBS by NACE Rev. 2 class (``feeds="national_classes"``) give the class-level employment
of each country: the weights that split a regional division between cluster categories
(:func:`eocic.clusters.definitions.allocation_weights`). These datasets code a class as section
letter + four digits (``C2910``); the pipeline turns it into the dotted form ``29.10`` of
``eocic/classifications/nace_r2_classes.csv``.

Dataset codes and dimension codes follow the Eurostat database. Codes marked *unverified* in a
dataset's ``note`` could not be checked offline against the Eurostat catalogue.

What was checked is recorded in the entry itself: ``checked`` says where the dimension names
and codes were seen (a shared extract under ``shared/data``, or public code that calls the
Eurostat API; public code is cited by the index id of the file the search tool found, since
the search answers give no repository for a string match), and ``unverified`` lists what was
not seen anywhere (an entry with an empty ``checked`` is unverified as a whole). A file whose
dimensions differ from the registry's stops the pipeline with an error naming the dimension;
a code that matches no row gives a warning naming the dataset and indicator.

Successors: Eurostat replaces datasets (``bd_hgnace2_r3`` by ``bd_hgnace_r``, 2021+ data).
A dataset's ``successors`` lists its replacements, newest (preferred) first, each a registry
entry of its own. When a source holds a dataset and one of its successors,
:func:`newest_present` picks the newest present; :func:`eocic.sources.resolve_successors`
drops the others from the run and the run's log and ``source.json`` say which replaced which.
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
    ``checked`` records where the dimension names and codes were seen, ``unverified`` what
    was not seen anywhere; ``successors`` are the registry codes of the datasets replacing
    this one, newest first (see the module docstring).
    """

    code: str
    title: str
    feeds: str  # sbs | demography | gdp | population | context | national_classes
    indicators: tuple[Indicator, ...]
    note: str = ""
    provider: str = "eurostat"
    checked: str = ""
    unverified: str = ""
    successors: tuple[str, ...] = ()


#: How public code is cited in ``checked`` (the search tool's answers give no repository).
FS = "find_string index id"


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
        "V11960: high-growth enterprises measured in employment (growth by 10% or more). "
        "Replaced by bd_hgnace_r (2021+); the newest present wins.",
        checked="dimensions freq, indic_sb, nace_r2, geo (NUTS 3 and above, business-economy "
        "aggregate B-S_X_K642) and the V119x0 codes seen in public R code calling "
        "get_eurostat('bd_hgnace2_r3', filters = list(indic_sb = 'V11910', nace_r2 = ...)) "
        f"({FS} 41591963833) and in a public data-dictionary comment listing V11910, V11920, "
        "V11930, V11960 and B-S_X_K642; the demo economy writes the same layout",
        successors=("bd_hgnace_r",),
    ),
    Dataset(
        "bd_hgnace_r",
        "Business demography and high growth enterprises by NACE Rev. 2 activity and NUTS 3 "
        "region (2021 onwards)",
        "demography",
        (
            _ind("active_enterprises", "enterprises", True, indic_sbs="V11910"),
            _ind("births", "enterprises", True, indic_sbs="V11920"),
            _ind("deaths", "enterprises", True, indic_sbs="V11930"),
            _ind("high_growth_enterprises", "enterprises", True, indic_sbs="V11960"),
        ),
        "Successor of bd_hgnace2_r3 (2007-2022/23 in one series); preferred when both are "
        "present.",
        checked="dimension names geo, indic_sbs, nace_r2, freq seen in public code mapping "
        f"Eurostat API answers of BD_HGNACE_R ({FS} 65957185678)",
        unverified="the indic_sbs codes: the V119x0 codes of bd_hgnace2_r3 are assumed; if the "
        "file holds others, the pipeline warns that no series matched for bd_hgnace_r",
    ),
    Dataset(
        "bd_size_r3",
        "Business demography by size class and NUTS 3 regions",
        "demography",
        (
            _ind("active_enterprises", "enterprises", True, indic_sb="V11910", sizeclas="TOTAL"),
            _ind("births", "enterprises", True, indic_sb="V11920", sizeclas="TOTAL"),
        ),
        "Used only when bd_hgnace2_r3 and bd_hgnace_r are absent.",
    ),
    Dataset(
        "bd_salge1_nace_r",
        "Employer business demography by NACE Rev. 2 activity and NUTS 3 region",
        "demography",
        (
            _ind("active_enterprises", "enterprises", True, indic_sbs="V11910"),
            _ind("births", "enterprises", True, indic_sbs="V11920"),
            _ind("deaths", "enterprises", True, indic_sbs="V11930"),
        ),
        "Employer enterprises only (at least one employee): fewer enterprises and births than "
        "bd_hgnace_r, so not a like-for-like successor. Listed after bd_hgnace2_r3, bd_hgnace_r "
        "and bd_size_r3, it feeds an indicator only when none of them is present (registry "
        "order; the pipeline's selection table names the dataset used).",
        checked="dimension names geo, indic_sbs, nace_r2, freq seen in public code mapping "
        f"Eurostat API answers of BD_SALGE1_NACE_R ({FS} 65957185678)",
        unverified="the indic_sbs codes (V119x0 assumed, as for bd_hgnace_r)",
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
        (
            _ind("lfs_employment_ths", "thousand persons", True, unit="THS", nace_r2="TOTAL",
                 age=("Y_GE15", "Y15-74")),
            _ind("lfs_ict_employment_ths", "thousand persons", True, unit="THS", nace_r2="J",
                 age=("Y_GE15", "Y15-74")),
            _ind("lfs_finance_employment_ths", "thousand persons", True, unit="THS",
                 nace_r2="K", age=("Y_GE15", "Y15-74")),
            _ind("lfs_professional_services_employment_ths", "thousand persons", True,
                 unit="THS", nace_r2="M_N", age=("Y_GE15", "Y15-74")),
        ),
        "All-economy employment, the denominator for shares of total employment. Older "
        "vintages publish ages 15 and over (Y_GE15), newer ones 15-74 (Y15-74): the first "
        "present is used. Sections J (information and communication), K (finance and "
        "insurance) and M_N (professional, scientific, technical, administrative and support "
        "services) give whole-economy employment shares that SBS lacks (K is outside SBS).",
        checked="key unit,nace_r2,age,geo and the codes THS, TOTAL, J, K, M_N, Y_GE15 seen in "
        "the shared extract regional_context/lfst_r_lfe2en2.tsv.gz (2008-2015)",
        unverified="the age code Y15-74 of newer vintages",
    ),
    Dataset(
        "rd_e_gerdreg",
        "Intramural R&D expenditure (GERD) by sectors of performance and NUTS 2 regions",
        "context",
        (
            _ind("rd_gerd_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="TOTAL"),
            _ind("rd_berd_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="BES"),
            _ind("rd_gov_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="GOV"),
            _ind("rd_hes_pc_gdp", "% of GDP", False, unit="PC_GDP", sectperf="HES"),
        ),
        "GOV: government sector, HES: higher education sector (the official scoreboards use "
        "public R&D = GOV + HES).",
        checked="key freq,sectperf,unit,geo and the codes TOTAL, BES, GOV, HES x PC_GDP seen in "
        "the shared extract regional_context/eurostat_innovation_2022/rd_e_gerdreg.tsv.gz",
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
            _ind("hightech_mfg_pc_emp", "% of total employment", False, nace_r2="C_HTC",
                 sex="T", unit="PC_EMP"),
            _ind("kis_pc_emp", "% of total employment", False, nace_r2="KIS", sex="T",
                 unit="PC_EMP"),
        ),
        "C_HTC is high-technology manufacturing; HTC (used here before) is all high-technology "
        "sectors, manufacturing plus knowledge-intensive high-technology services.",
        checked="the codes C_HTC (high-technology manufacturing), HTC (high-technology sectors: "
        "manufacturing and knowledge-intensive high-technology services), KIS with SEX T and "
        "UNIT PC_EMP seen in the column names and column dictionary of the I40 database "
        "(regional_context/I40_indicator_db_column_description.tsv), a copy of this dataset",
        unverified="the dimension order of a bulk file (the filters do not depend on it)",
    ),
    Dataset(
        "isoc_r_broad_h",
        "Households with broadband access by NUTS 2 regions",
        "context",
        (_ind("broadband_pc_households", "% of households", False, unit="PC_HH"),),
    ),
    Dataset(
        "hrst_st_rcat",
        "Human resources in science and technology (HRST) by category and NUTS 2 region",
        "context",
        (
            _ind("hrst_pc_active", "% of active population", False, category="HRST",
                 unit="PC_ACT"),
            _ind("scientists_engineers_pc_active", "% of active population", False,
                 category="SE", unit="PC_ACT"),
            _ind("hrst_occupation_pc_active", "% of active population", False,
                 category="HRSTO", unit="PC_ACT"),
            _ind("hrst_core_pc_active", "% of active population", False,
                 category="HRSTC", unit="PC_ACT"),
        ),
        "HRST: educated (HRSTE) or employed (HRSTO) in science and technology; HRSTO counts "
        "people in S&T occupations whatever their education; HRSTC (core) those both "
        "tertiary-educated and in S&T occupations.",
        checked="key freq,category,unit,geo and the codes HRST, HRSTO, HRSTC, SE x PC_ACT seen in "
        "the "
        "shared "
        "extract regional_context/eurostat_innovation_2022/hrst_st_rcat.tsv.gz",
    ),
    Dataset(
        "rd_p_persreg",
        "R&D personnel and researchers by sector of performance, sex and NUTS 2 region",
        "context",
        (
            _ind("researchers_pc_employment", "% of total employment (FTE)", False,
                 sectperf="TOTAL", prof_pos="RSE", sex="T", unit="PC_EMP_FTE"),
            _ind("rd_personnel_pc_employment", "% of total employment (FTE)", False,
                 sectperf="TOTAL", prof_pos="TOTAL", sex="T", unit="PC_EMP_FTE"),
            _ind("business_researchers_pc_employment", "% of total employment (FTE)", False,
                 sectperf="BES", prof_pos="RSE", sex="T", unit="PC_EMP_FTE"),
            _ind("higher_education_researchers_pc_employment", "% of total employment (FTE)",
                 False, sectperf="HES", prof_pos="RSE", sex="T", unit="PC_EMP_FTE"),
            _ind("government_researchers_pc_employment", "% of total employment (FTE)", False,
                 sectperf="GOV", prof_pos="RSE", sex="T", unit="PC_EMP_FTE"),
        ),
        checked="key freq,sectperf,prof_pos,sex,unit,geo and the codes TOTAL, BES, HES, GOV, "
        "RSE, T, "
        "PC_EMP_FTE seen in the shared extract "
        "regional_context/eurostat_innovation_2022/rd_p_persreg.tsv.gz",
    ),
    Dataset(
        "isoc_r_iuse_i",
        "Individuals who used the internet, frequency of use and activities, by NUTS 2 region",
        "context",
        (_ind("internet_daily_pc_individuals", "% of individuals", False, indic_is="I_IDAY",
              unit="PC_IND"),),
        checked="indic_is I_IDAY and unit PC_IND seen in rOpenGov/regions R/data-daily_internet.R "
        "(which documents the shared extract regional_context/isoc_daily_internet_users_nuts.csv); "
        f"dimension names indic_is, unit, freq, geo in public code ({FS} 65957185678)",
    ),
    Dataset(
        "isoc_r_blt12_i",
        "Individuals who ordered goods or services over the internet for private use in the "
        "last 12 months (e-commerce), by NUTS 2 region",
        "context",
        (_ind("online_buyers_pc_individuals", "% of individuals", False, indic_is="I_BLT12",
              unit="PC_IND"),),
        checked=f"dimension names unit, indic_is, freq, geo in public code ({FS} 65957185678); "
        "I_BLT12 with PC_IND seen in public code for the national isoc_ec_ib20 / tin00096",
        unverified="that the regional dataset uses the same indic_is code I_BLT12",
    ),
    Dataset(
        "isoc_r_gov_i",
        "Individuals who used the internet for interaction with public authorities, by NUTS 2 "
        "region",
        "context",
        (_ind("egov_pc_individuals", "% of individuals", False, indic_is="I_IUGOV12",
              unit="PC_IND"),),
        checked="unit PC_IND and indic_is I_IUGOV12 seen in public R code calling "
        f"get_eurostat('isoc_r_gov_i') ({FS} 11134345482); dimension names in public code "
        f"({FS} 65957185678)",
    ),
    Dataset(
        "isoc_r_iacc_h",
        "Households with access to the internet at home, by NUTS 2 region",
        "context",
        (_ind("internet_access_pc_households", "% of households", False, unit="PC_HH"),),
        checked="unit PC_HH seen in several public projects calling the API for isoc_r_iacc_h "
        f"({FS} 942256243, 70100001797, 68384656973); dimensions unit, freq, geo only "
        f"({FS} 65957185678)",
    ),
    Dataset(
        "nama_10r_2gfcf",
        "Gross fixed capital formation by NUTS 2 region and NACE Rev. 2",
        "context",
        (_ind("gfcf_mio_eur", "million EUR", True, currency="MIO_EUR", sector="S1",
              nace_r2="TOTAL"),),
        "Investment of all sectors (S1) and activities; divide by GDP for a rate.",
        checked="currency MIO_EUR, sector S1 and nace_r2 TOTAL seen in public R code calling "
        f"get_eurostat('nama_10r_2gfcf', filters = ...) ({FS} 53465540508, 40937911085)",
        unverified="whether the current API renamed currency to unit (as it did for "
        "nama_10r_3gva, CP_MEUR): such a file stops the pipeline with an error naming the "
        "missing dimension 'currency'",
    ),
    Dataset(
        "lfst_r_lfsd2pwc",
        "Population by sex, age, country of birth, labour status and NUTS 2 region (LFS)",
        "context",
        (
            _ind("population_15_64_lfs_ths", "thousand persons", True, sex="T", age="Y15-64",
                 wstatus="POP", unit="THS_PER", c_birth="TOTAL"),
            _ind("foreign_born_15_64_ths", "thousand persons", True, sex="T", age="Y15-64",
                 wstatus="POP", unit="THS_PER", c_birth="FOR"),
        ),
        "Country of BIRTH (foreign-born: c_birth FOR). lfst_r_lfsd2pwn is CITIZENSHIP, another "
        "concept: foreign-born share = foreign_born_15_64_ths / population_15_64_lfs_ths.",
        checked="sex T, age Y15-64, wstatus POP, unit THS_PER, c_birth TOTAL/FOR seen in public "
        f"code calling the Eurostat API ({FS} 70980779873, 71091302022, 59036570262)",
    ),
    Dataset(
        "ipr_ta_reg",
        "European Union trade mark (EUTM) applications by NUTS 3 region",
        "context",
        (_ind("trademark_applications", "applications", True, unit="NR"),),
        checked="unit NR seen in public R code calling get_eurostat('ipr_ta_reg', filters = "
        f"list(unit = 'NR')) ({FS} 41591963833)",
    ),
    Dataset(
        "ipr_da_reg",
        "Community design (RCD) applications by NUTS 3 region",
        "context",
        (_ind("design_applications", "applications", True, unit="NR"),),
        unverified="dimension names and the unit code NR: the layout of ipr_ta_reg is assumed",
    ),
    Dataset(
        "lfst_r_lfe2estat",
        "Employment by sex, age, professional status and NUTS 2 region (LFS)",
        "context",
        (
            _ind("self_employed_ths", "thousand persons", True, wstatus="SELF", sex="T",
                 age=("Y15-74", "Y_GE15"), unit=("THS_PER", "THS")),
            _ind("employed_by_status_ths", "thousand persons", True, wstatus="EMP", sex="T",
                 age=("Y15-74", "Y_GE15"), unit=("THS_PER", "THS")),
        ),
        "Self-employment share = self_employed_ths / employed_by_status_ths (same file, same "
        "ages).",
        checked="wstatus codes SAL, SELF, SELF_S, SELF_NS, CFAM seen in public R code calling "
        f"get_eurostat('lfst_r_lfe2estat', filters = ...) ({FS} 53561846635)",
        unverified="the wstatus total EMP, the age codes and the unit code (alternatives listed, "
        "the first present is used)",
    ),
    Dataset(
        "lfst_r_lfe2emprt",
        "Employment rates by sex, age and NUTS 2 region (%)",
        "context",
        (_ind("employment_rate_15_64", "% of population 15-64", False, sex="T", age="Y15-64",
              unit="PC"),),
        checked="sex T and age Y15-64 seen in public R code filtering "
        f"get_eurostat('lfst_r_lfe2emprt') ({FS} 55977056177, 25387440227)",
        unverified="the unit code PC",
    ),
    Dataset(
        "lfst_r_lfu3rt",
        "Unemployment rates by sex, age, educational attainment and NUTS 2 region (%)",
        "context",
        (_ind("unemployment_rate_20_64", "% of labour force 20-64", False, isced11="TOTAL",
              sex="T", age="Y20-64", unit="PC"),),
        checked="isced11 TOTAL, sex T, age Y20-64 seen in a public project's source table for "
        f"lfst_r_lfu3rt ({FS} 59199701103)",
        unverified="the unit code PC",
    ),
    Dataset(
        "nama_10r_3gva",
        "Gross value added at basic prices by NUTS 3 region and NACE Rev. 2",
        "context",
        (_ind("gva_mio_eur", "million EUR", True, unit="CP_MEUR", nace_r2="TOTAL"),),
        "Productivity = gva_mio_eur / employment_nama_ths (nama_10r_3empers), both regional "
        "accounts. NUTS-2 rows are used.",
        checked="current API layout (dimensions unit, freq, nace_r2, geo; unit CP_MEUR) seen in "
        f"public code ({FS} 65957185678, 55930148979)",
        unverified="older bulk vintages name the dimension currency (MIO_EUR, seen in "
        f"{FS} 40937911085): such a file stops the pipeline with an error naming the missing "
        "dimension 'unit'",
    ),
    Dataset(
        "nama_10r_3empers",
        "Employment (thousand persons) by NUTS 3 region and NACE Rev. 2 (regional accounts)",
        "context",
        (_ind("employment_nama_ths", "thousand persons", True, unit="THS", wstatus="EMP",
              nace_r2="TOTAL"),),
        "NUTS-2 rows are used.",
        checked="key freq,unit,wstatus,nace_r2,geo and THS, EMP, TOTAL seen in the shared "
        "extract eurostat_api_format/nama_10r_3empers_sample_rows.tsv and in public R code "
        f"({FS} 40937911085)",
    ),
    Dataset(
        "nama_10r_2coe",
        "Compensation of employees by NUTS 2 region and NACE Rev. 2",
        "context",
        (_ind("compensation_mio_eur", "million EUR", True, currency="MIO_EUR",
              nace_r2="TOTAL"),),
        checked="dataset named among the regional accounts tables in public code "
        f"({FS} 34120775488)",
        unverified="dimension names and codes: the layout of nama_10r_2gfcf (currency MIO_EUR, "
        "nace_r2 TOTAL) is assumed",
    ),
    Dataset(
        "edat_lfse_22",
        "Young people neither in employment nor in education and training (NEET) by NUTS 2 "
        "region",
        "context",
        (_ind("neet_pc_15_24", "% of population 15-24", False, sex="T", age="Y15-24",
              training="NO_FE_NO_NFE", wstatus="NEMP", unit="PC"),),
        checked="dimension names unit, sex, freq, training, wstatus, age, geo seen in public code "
        f"mapping Eurostat API answers of EDAT_LFSE_22 ({FS} 65957185678)",
        unverified="the codes NO_FE_NO_NFE (no formal or non-formal education), NEMP (not "
        "employed), Y15-24 and PC",
    ),
    Dataset(
        "demo_r_d3dens",
        "Population density by NUTS 3 region",
        "context",
        (_ind("population_density", "persons per km2", False, unit="PER_KM2"),),
        "Peers approximate density by ln population when this dataset is absent.",
        checked="dimension names unit, freq, geo (one unit) seen in public code "
        f"({FS} 65957185678); used without filters in several public projects",
        unverified="the unit code PER_KM2",
    ),
    Dataset(
        "pat_ep_rtot",
        "Patent applications to the EPO by priority year and NUTS 3 region",
        "context",
        (_ind("epo_patents_per_million_inhabitants", "applications per million inhabitants",
              False, unit="P_MHAB"),),
        "The Eurostat series ends with priority year 2012.",
        checked="key freq,unit,geo and P_MHAB seen in the shared extract "
        "regional_context/eurostat_innovation_2022/pat_ep_rtot.tsv.gz",
    ),
    Dataset(
        "pat_ep_rtec",
        "High-tech patent applications to the EPO by priority year and NUTS 3 region",
        "context",
        (
            _ind("hightech_patents_per_million_inhabitants", "applications per million "
                 "inhabitants", False, ipc="HT", unit="P_MHAB"),
            _ind("computer_patents_per_million_inhabitants", "applications per million "
                 "inhabitants", False, ipc="CAB", unit="P_MHAB"),
            _ind("communication_patents_per_million_inhabitants", "applications per million "
                 "inhabitants", False, ipc="CTE", unit="P_MHAB"),
            _ind("biotech_patents_per_million_inhabitants", "applications per million "
                 "inhabitants", False, ipc="MGE", unit="P_MHAB"),
            _ind("semiconductor_patents_per_million_inhabitants", "applications per million "
                 "inhabitants", False, ipc="SMC", unit="P_MHAB"),
        ),
        "The Eurostat series ends with priority year 2012. High-tech fields: CAB computers and "
        "automated business equipment, CTE communication technology, MGE micro-organisms and "
        "genetic engineering, SMC semiconductors (also AVI aviation and LSR lasers, too sparse "
        "by region to use: 149 and 75 NUTS-2 rows in the shared extract). A region without "
        "applications in a field has no row, not a zero. The shipped framework uses HT only: "
        "with the field series as well, a 2014 study's groups rest mostly on values carried "
        "forward from 2012, and the sensitivity alternative without imputation leaves no "
        "region with an industrial-change score.",
        checked="key freq,ipc,unit,geo and HT, CAB, CTE, MGE, SMC x P_MHAB seen in the shared "
        "extract "
        "regional_context/eurostat_innovation_2022/pat_ep_rtec.tsv.gz",
    ),
    Dataset(
        "nama_10r_2hhinc",
        "Income of households by NUTS 2 regions",
        "context",
        (_ind("disposable_income_pps_per_head", "PPS (final consumption) per inhabitant", False,
              unit="PPCS_HAB", na_item="B6N"),),
        "B6N: net disposable income of private households (after taxes, social contributions "
        "and benefits), in purchasing power standards based on final consumption per "
        "inhabitant (PPCS_HAB), comparable across countries.",
        checked="key unit,na_item,geo and the codes PPCS_HAB, B6N (B5N primary income) seen in "
        "the shared extract regional_context/nama_10r_2hhinc.tsv.gz (2000-2014)",
    ),
    Dataset(
        "ardeco_nuts2_education",
        "ARDECO population aged 25-64 by educational attainment (RPDTN), NUTS 2021 regions",
        "context",
        (_ind("tertiary_pc_25_64", "% of population 25-64", False, variable="RPDTN",
              sex="Total", age="From 25 to 64 years",
              isced11="Tertiary education (levels 5-8)", unit="Percent", nuts_version="2021",
              level="2"),),
        "JRC ARDECO (© European Union, CC BY 4.0); the content of Eurostat's edat_lfse_04 in "
        "NUTS 2021 codes. Read for tertiary_pc_25_64 only when edat_lfse_04 is absent.",
        provider="ardeco",
        checked="columns VARIABLE, VERSIONS, LEVEL, NUTSCODE, YEAR, SEX, AGE, ISCED11, UNIT, "
        "VALUE and the labels Total, From 25 to 64 years, Tertiary education (levels 5-8), "
        "Percent seen in the shared extract regional_context/ardeco/ardeco_nuts2_education.csv; "
        "by hand: DE11 2014 = 30.8 there",
    ),
    Dataset(
        "ardeco_nuts2_investment",
        "ARDECO gross fixed capital formation, total (ROIGT), NUTS 2021 regions",
        "context",
        (_ind("gfcf_mio_eur2015", "million EUR at 2015 prices", True, variable="ROIGT",
              unit="Million EUR2015", nuts_version="2021", level="2"),),
        "JRC ARDECO (© European Union, CC BY 4.0): investment of all sectors at constant 2015 "
        "prices (the volume counterpart of nama_10r_2gfcf S1 TOTAL); divide by population for "
        "investment per inhabitant. Not a substitute for gfcf_mio_eur (current prices), which "
        "is divided by current-price GDP.",
        provider="ardeco",
        checked="the variable ROIGT with units Million EUR2015 and Million EUR2020 seen in the "
        "shared extract regional_context/ardeco/ardeco_nuts2_investment.csv; by hand: AT11 2014 "
        "= 2046.8",
        unverified="which years of this export are projections (no cut-off is established for "
        "ROIGT: the reader warns and flags none)",
    ),
    Dataset(
        "ardeco_nuts2_gdp",
        "ARDECO gross domestic product per inhabitant at constant prices (SOVGDP), NUTS 2021 "
        "regions",
        "context",
        (_ind("gdp_eur2015_per_head", "EUR at 2015 prices per inhabitant", False,
              variable="SOVGDP", unit="EUR2015", nuts_version="2021", level="2"),),
        "JRC ARDECO (© European Union, CC BY 4.0). The values are per inhabitant although "
        "the unit reads EUR2015: AT11 2014 = 27,169, times its 287,800 inhabitants (SNPTD) "
        "gives 7.8 billion EUR, Burgenland's GDP; DE11 = 48,878.",
        provider="ardeco",
        checked="the variable SOVGDP with units EUR2015 and EUR2020 seen in the shared extract "
        "regional_context/ardeco/ardeco_nuts2_gdp.csv",
        unverified="which years of this export are projections (no cut-off is established for "
        "SOVGDP: the reader warns and flags none)",
    ),
    Dataset(
        "i40_indicator_db",
        "Industry 4.0 readiness database: Eurostat regional series by NUTS 2 region, 2008-2019 "
        "(Honti, Czvetko & Abonyi 2020)",
        "context",
        (
            _ind("tertiary_pc_25_64", "% of population 25-64", False,
                 variable="edat_lfse_04_SEX_T__ISCED11_ED5-8__AGE_Y25-64__UNIT_PC"),
            _ind("tertiary_pc_30_34", "% of population 30-34", False,
                 variable="edat_lfse_12_SEX_T__ISCED11_ED5-8__AGE_Y30-34__UNIT_PC"),
            _ind("hightech_mfg_pc_emp", "% of total employment", False,
                 variable="htec_emp_reg2_NACE_R2_C_HTC__UNIT_PC_EMP__SEX_T"),
            _ind("kis_pc_emp", "% of total employment", False,
                 variable="htec_emp_reg2_NACE_R2_KIS__UNIT_PC_EMP__SEX_T"),
        ),
        "A regional panel table (eocic.eurostat.panel): columns NUTS2, YEAR, then one column "
        "per Eurostat series named after dataset and filters. Data in Brief 33:106464 (CC BY "
        "4.0), copied from GitHub paezha/edashop; region codes of NUTS 2013 and 2016 mixed. "
        "Each series is read only when its Eurostat dataset (edat_lfse_04, edat_lfse_12, "
        "htec_emp_reg2) is absent; edat_lfse_12 (tertiary attainment 30-34) is read only from "
        "here.",
        provider="i40",
        checked="the column names and their descriptions in the shared extract "
        "regional_context/I40_indicator_db.tsv and its column dictionary; by hand: DE11 2014 "
        "high-technology manufacturing (C_HTC) 2.3 %, all high-technology sectors (HTC) "
        "4.5 %, KIS 35.6 %, tertiary attainment 25-64 30.8 % (as in ARDECO)",
    ),
    Dataset(
        "eurostat_tgs_nuts2_panel_2007_2018",
        "Eurostat regional tgs tables as one panel by NUTS 2 region, 2007-2018",
        "context",
        (
            _ind("unemployment_rate_15_plus", "% of labour force 15 and over", False,
                 variable="unemployment_rate_t"),
            _ind("gender_employment_gap_pp", "percentage points", False,
                 variable="gender_employ_gap"),
        ),
        "A regional panel table (eocic.eurostat.panel) of Eurostat's tgs tables under short "
        "names; unemployment_rate_t = tgs00010 (unemployment rate, both sexes, ages 15 and "
        "over: it equals unemployed / (unemployed + employed) of lfst_r_lfu3pers and "
        "lfst_r_lfe2emp, age Y_GE15, to 0.03 points at the median of 279 regions in 2014). "
        "gender_employ_gap = tepsr_lm220 (employment rate of men minus that of women, ages "
        "20-64, percentage points; AT11 2014 9.8). "
        "Attribute tables of GitHub andrea-ballatore/open-geo-data-education, NUTS 2016 codes. "
        "Its broadband_access_household column (tgs00049) is NOT read: its 2014 values lie "
        "between 87 and 100 in every country (AT11 98), far above the share of all households "
        "with broadband that year, so it is not the % of households isoc_r_broad_h publishes "
        "(probably the share of households with internet access).",
        provider="eurostat-tgs",
        checked="the column names in the shared extract "
        "regional_context/eurostat_tgs_nuts2_panel_2007_2018.csv and their tgs tables in "
        "SOURCES.md; the age of unemployment_rate_t checked against the LFS files (above)",
    ),
    Dataset(
        "isoc_daily_internet_users_nuts",
        "Individuals using the internet daily by NUTS region (isoc_r_iuse_i I_IDAY), rOpenGov "
        "regions",
        "context",
        (_ind("internet_daily_pc_individuals", "% of individuals", False, variable="values"),),
        "A regional panel table (eocic.eurostat.panel) with columns geo, time, values: "
        "Eurostat's isoc_r_iuse_i I_IDAY (% of individuals) as the R package rOpenGov/regions "
        "ships it (data/daily_internet_users.rda, GPL-3 package). Read only when isoc_r_iuse_i "
        "is absent.",
        provider="rOpenGov-regions",
        checked="columns geo, time, values in the shared extract "
        "regional_context/isoc_daily_internet_users_nuts.csv; indic_is I_IDAY and unit PC_IND "
        "in rOpenGov/regions R/data-daily_internet.R (see isoc_r_iuse_i)",
    ),
)

#: Dataset code -> :class:`Dataset`, read-only.
DATASETS = MappingProxyType({dataset.code: dataset for dataset in _DATASETS})


def datasets_feeding(table: str) -> list[Dataset]:
    """Datasets feeding one processed table, in registry (preference) order."""
    return [dataset for dataset in _DATASETS if dataset.feeds == table]


def newest_present(code: str, present: set[str] | frozenset[str]) -> str:
    """The dataset that stands for ``code`` in a source holding the datasets ``present``: the
    first of its successors (newest first) that is present, else ``code`` itself.

    >>> newest_present("bd_hgnace2_r3", {"bd_hgnace2_r3", "bd_hgnace_r"})
    'bd_hgnace_r'
    """
    for successor in DATASETS[code].successors:
        if successor in present:
            return successor
    return code


def absent_datasets(present) -> list[str]:
    """Registry datasets a source lacks (sorted): neither present nor stood for by a present
    successor (:func:`newest_present`); a successor whose predecessor is present is not listed
    either, the predecessor serves. The one rule behind ``missing_datasets`` in ``source.json``
    and ``manifest.json``.

    >>> "bd_hgnace2_r3" in absent_datasets({"bd_hgnace_r"})
    False
    """
    present = set(present)
    served_by_predecessor = {successor for code in present if code in DATASETS
                             for successor in DATASETS[code].successors}
    return sorted(code for code in DATASETS
                  if code not in present and newest_present(code, present) == code
                  and code not in served_by_predecessor)
