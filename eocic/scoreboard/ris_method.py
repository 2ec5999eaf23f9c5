"""The Regional Innovation Scoreboard method applied to open regional indicators (optional).

How close do open data get to the official scoreboard? This module scores the indicators of
``ris_open.yaml`` (the RIS 2023 framework restricted to indicators with an open NUTS-2 series,
each marked used / proxied / not available) with the RIS method, and compares the result with
the published RIS 2023 summary index, year by year, by Spearman correlation and by agreement of
performance groups. It is an optional check (notebook 03, parameter ``ris_method``); the EOCIC
indices of ``framework.yaml`` are built by :mod:`eocic.scoreboard.engine` and do not use it.

Inputs. Reading, screening (an indicator is kept when half of the regions have a value around
the reference year) and imputation (carry forward at most two years, then the same-country
mean) are the engine's (:class:`eocic.scoreboard.engine.Scoreboard` with ``treat=False``);
this module starts from its ``imputed`` frame, restricted to the countries the RIS 2023 covers
(:data:`RIS_COUNTRIES`: EU-27, CH, NO, RS, UK).

Method, for each indicator i (x: its values over every region r and year t of the window):

1. **Outliers** (pooled over regions and years): z = (x - mean) / sd (sample sd, ddof 1);
   values with z > k are replaced by the largest value with z <= k, values with z < -k by the
   smallest value with z >= -k; k = :data:`OUTLIER_SD` = 2.
2. **Transformation**: if the type-2 sample skewness
   (:func:`eocic.scoreboard.treatment.skewness`) of the replaced values exceeds
   :data:`SKEW_THRESHOLD` = 1, every value is replaced by its square root.
3. **Min-max over all regions and years**: y = (d x - min(d x)) / (max(d x) - min(d x)) in
   [0, 1], d = direction (+1 / -1), min and max over the whole window, so a region's scores
   compare over time. A constant indicator gets 0.5.
4. **Composite** = weighted arithmetic mean of the available y (weights of the framework: 1,
   except the two halves of public R&D, 1/2 each), scored only where at least
   :data:`MIN_INDICATOR_SHARE` of the indicators of the year have a value
   (:func:`eocic.scoreboard.aggregation.arithmetic_mean`).
5. **EU reference**: the tables hold no EU aggregate of each indicator, so the EU's value of
   indicator i in year t is the population-weighted mean of the EU-27 NUTS-2 regions with a
   value (unweighted when no population is given), steps 1-4 are applied to it with the
   outlier bounds, transformation and min / max fitted on the regions.
6. **Index** = 100 x composite(r, t) / composite(EU, t0), t0 = first year of the window (the
   RIS 2023 database scales its summary index so that EU 2016 = 100, and keeps that base for
   every year, so the index moves over time).
7. **Performance relative to the EU** = 100 x composite(r, t) / composite(EU, t), and
   **performance groups** (:func:`performance_group`): Innovation Leader above 125, Strong
   Innovator above 100 up to 125, Moderate Innovator above 70 up to 100, Emerging Innovator at
   70 or below.

What is verified and what is not (recorded here as the issue asks):

* [V, RIS 2023 database in the shared data] The summary index is relative to EU 2016 = 100
  (the EU row is 100.00 in 2016, 108.47 in 2023). The published ``performance group`` column
  is the same in every year and equals the group of 100 x RII(r, 2023) / RII(EU, 2023) with the
  thresholds 125 / 100 / 70: Leaders span 125.6-156.3, Strong 100.2-124.9, Moderate
  70.1-99.8, Emerging 18.9-69.4 (``tests/test_scoreboard_ris_method.py`` re-derives every
  region's published group). Which group a value exactly on a threshold gets is not visible in
  the data; here it gets the lower group [I]. The database has no "+" / "-" subgroups (the
  RIS 2021 report split each group into thirds [K]); they are not computed.
* [V, "The RIS under scrutiny", Annex I, online.flippingbook.com/view/744644360/86-87, citing
  Hollanders & Es-Sadki, RIS 2021 methodology] Three steps: remove or replace outliers, reduce
  skewness by a transformation, min-max to [0, 1]; the index is the simple average of the
  normalised indicators; a country correction factor then aligns the RIS's country ordering
  with the EIS. The correction factor needs EIS country scores, which are not in the data; it
  is NOT applied here.
* [V, EIS 2008 technical annex, proinno-europe.eu/page/technical-annex] Square root for
  skewed, unbounded indicators; outliers beyond the mean +/- 3 sd, then excluded from the
  min / max. That is the 2008 rule, kept as an option (``outlier_sd=3``).
* [K, from memory of the EIS/RIS 2017-2023 methodology reports (Hollanders & Es-Sadki), not
  re-read here; also methodology.md 3.2] Outliers beyond the mean +/- 2 sd replaced by the
  largest / smallest non-outlier value; square root when the skewness exceeds 1; min and max
  over all units and the eight years of the scoreboard. These are this module's defaults. Where
  the RIS measures skewness (one year or the pooled panel) is not known; here it is the pooled
  panel after outlier replacement, so one transformation holds for every year [I].
* [I] The EU reference (step 5), the 50 % data rule (step 4), the restriction to RIS
  countries, and comparing NUTS-2 regions only (the RIS publishes AT, BE, FR, UK and parts of
  DE, EL, ES, FI, PT at NUTS-1 and CY, EE, LU, LV, MT as countries: those are not matched,
  :mod:`eocic.scoreboard.external`).

Comparison with the published RIS (:func:`compare_with_ris`). RIS year Y is compared with the
open index of year Y - :data:`eocic.scoreboard.external.RIS_LAG` (2), the rule of
:mod:`eocic.scoreboard.external`; a year the open index does not reach is a row with a note,
never replaced by another year. Spearman's rho (:func:`eocic.scoreboard.external.spearman_check`)
over matched NUTS-2 regions, and the share of matched regions in the same performance group
(the official group of year Y re-derived from the published values of Y as above).

References: European Commission (2023), Regional Innovation Scoreboard 2023 and its
methodology report (Hollanders H., Es-Sadki N., Maastricht University / UNU-MERIT); European
Innovation Scoreboard 2008 technical annex; OECD/JRC (2008) Handbook on Constructing Composite
Indicators, steps 3-6.
"""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from eocic.errors import EocicError
from eocic.scoreboard import aggregation, external, treatment
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import YAML_LOADER, IndexFramework, Source, parse_framework
from eocic.scoreboard.sources import source_series

#: The framework file shipped beside ``framework.yaml`` and its index code.
RIS_FRAMEWORK = "ris_open.yaml"
RIS_INDEX = "ris_open"
#: EU-27 member states (since 1 February 2020), Eurostat codes (EL = Greece).
EU27 = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
#: Countries with regions in the RIS 2023 database (EU-27 and CH, NO, RS, UK).
RIS_COUNTRIES = EU27 + ("CH", "NO", "RS", "UK")
#: Outliers: beyond mean +/- OUTLIER_SD standard deviations (RIS/EIS 2017-2023 [K]; 3 in 2008).
OUTLIER_SD = 2.0
#: Square root when the skewness exceeds this ([K]).
SKEW_THRESHOLD = 1.0
#: Share of the year's indicators a region needs for a composite score ([I]).
MIN_INDICATOR_SHARE = 0.5
#: Performance groups, best first, and the lower bounds (exclusive) of all but the last,
#: in % of the EU score of the same year.
GROUPS = ("Innovation Leader", "Strong Innovator", "Moderate Innovator", "Emerging Innovator")
GROUP_THRESHOLDS = (125.0, 100.0, 70.0)
#: The database's names of the groups.
RIS_GROUP_NAMES = {"Leader": "Innovation Leader", "Strong": "Strong Innovator",
                   "Moderate": "Moderate Innovator", "Emerging": "Emerging Innovator"}
#: The RIS 2023 database's years: the default window is these years minus the lag.
RIS_YEARS = external.RIS_YEARS
#: Columns of :func:`compare_with_ris`.
COMPARISON_COLUMNS = ["reference_year", "index_year", "ris_regions", "ris_nuts2",
                      "scored_regions", "matched", "spearman", "same_group", "same_group_share",
                      "adjacent_group_share", "note"]


class RisMethodError(EocicError, ValueError):
    """The RIS method cannot be applied to these values; the message names the indicator and
    the fix."""


# -- framework -----------------------------------------------------------------------------------

def load_ris_framework(path: str | Path | None = None) -> IndexFramework:
    """The ``ris_open`` index of ``ris_open.yaml`` (or of ``path``)."""
    import yaml

    if path is None:
        text = resources.files("eocic.scoreboard").joinpath(RIS_FRAMEWORK).read_text("utf-8")
        origin, base_dir = f"eocic/scoreboard/{RIS_FRAMEWORK}", None
    else:
        text, origin, base_dir = Path(path).read_text("utf-8"), str(path), Path(path).parent
    return parse_framework(yaml.load(text, Loader=YAML_LOADER), origin, base_dir)[RIS_INDEX]


def ris_number(code: str) -> str:
    """RIS indicator number of a framework code: ``ris_2_1_1_gov`` -> ``2.1.1``.

    Raises
    ------
    RisMethodError
        The code does not start with ``ris_<a>_<b>_<c>``.
    """
    match = re.match(r"ris_(\d)_(\d)_(\d)(?:_|$)", code)
    if match is None:
        raise RisMethodError(f"indicator code {code!r} does not name its RIS indicator; use "
                             "ris_<main type>_<dimension>_<number>[_<part>], e.g. ris_2_2_1")
    return ".".join(match.groups())


def indicator_status(framework: IndexFramework, kept: list[str] | None = None) -> pd.DataFrame:
    """Every RIS indicator of the framework with its status in open data.

    Columns: ``ris`` (number, e.g. ``2.2.1``), ``name``, ``status`` (``used``, ``proxied``,
    ``not available``), ``open_indicators`` (framework codes, ``;``-separated), ``measured``
    (True when one of them survived screening in this run; ``kept`` = the surviving codes,
    None = not checked), ``note`` (rationale or reason). Sorted by RIS number.
    """
    rows: dict[str, dict] = {}
    for indicator in framework.indicators:
        number = ris_number(indicator.code)
        proxy = indicator.name.startswith("[proxy]")
        row = rows.setdefault(number, dict(ris=number, names=[], codes=[], note=[],
                                           status="proxied" if proxy else "used"))
        row["names"].append(indicator.name.removeprefix("[proxy] "))
        row["codes"].append(indicator.code)
        row["note"].append(indicator.rationale)
    for item in framework.not_available:
        rows[str(item["ris"])] = dict(ris=str(item["ris"]), names=[item["name"]],
                                      status="not available", codes=[], note=[item["reason"]])
    table = pd.DataFrame([dict(ris=row["ris"], name=" + ".join(row["names"]),
                               status=row["status"],
                               open_indicators=";".join(row["codes"]),
                               measured=(None if kept is None else
                                         any(code in kept for code in row["codes"])),
                               note=" ".join(row["note"])) for row in rows.values()])
    order = table["ris"].str.split(".", expand=True).astype(int)
    return table.iloc[np.lexsort([order[2], order[1], order[0]])].reset_index(drop=True)


# -- method --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RisTransform:
    """Steps 1-3 of the module docstring fitted on the regions, one row per indicator:
    ``lower`` / ``upper`` (outlier bounds mean -/+ k sd), ``floor`` / ``ceiling`` (smallest /
    largest non-outlier value, the replacements), ``outliers`` (values replaced), ``skewness``
    (after replacement), ``sqrt`` (transformed), ``direction``, ``minimum`` / ``maximum``
    (of direction x transformed values, the min-max bounds)."""

    table: pd.DataFrame

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Normalised values in [0, 1] of ``frame`` (same columns as the fit)."""
        fit = self.table.loc[list(frame.columns)]
        replaced = frame.clip(lower=fit["floor"], upper=fit["ceiling"], axis=1)
        transformed = replaced.where(~fit["sqrt"], np.sqrt(replaced.clip(lower=0)), axis=1)
        directed = transformed * fit["direction"]
        spread = (fit["maximum"] - fit["minimum"]).replace(0, np.nan)
        scaled = (directed - fit["minimum"]) / spread
        constant = spread.isna()
        for code in constant[constant].index:
            scaled[code] = directed[code].where(directed[code].isna(), 0.5)
        return scaled


def fit_transform(values: pd.DataFrame, directions: dict[str, int], *,
                  outlier_sd: float = OUTLIER_SD,
                  skew_threshold: float = SKEW_THRESHOLD) -> RisTransform:
    """Fit steps 1-3 on ``values`` (rows = region x year, columns = indicators), pooled.

    Raises
    ------
    RisMethodError
        An indicator to be square-rooted has negative values, or an indicator has no value.
    """
    rows = []
    for code in values.columns:
        x = values[code].dropna().to_numpy(dtype=float)
        if x.size == 0:
            raise RisMethodError(f"indicator {code!r} has no value in the window; drop it from "
                                 "the framework or widen the years")
        mean, sd = float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0
        lower, upper = mean - outlier_sd * sd, mean + outlier_sd * sd
        inside = x[(x >= lower) & (x <= upper)] if sd > 0 else x
        floor, ceiling = float(inside.min()), float(inside.max())
        replaced = np.clip(x, floor, ceiling)
        skew = treatment.skewness(replaced)
        sqrt = bool(not np.isnan(skew) and skew > skew_threshold)
        if sqrt and floor < 0:
            raise RisMethodError(f"indicator {code!r} is skewed (skewness {skew:.2f}) and has "
                                 f"negative values (down to {floor:g}); the RIS square root "
                                 "needs values >= 0: rescale it or give it a shifted source")
        transformed = np.sqrt(replaced) if sqrt else replaced
        direction = int(directions[code])
        directed = transformed * direction
        rows.append(dict(indicator=code, lower=lower, upper=upper, floor=floor,
                         ceiling=ceiling, outliers=int(((x < floor) | (x > ceiling)).sum()),
                         skewness=skew, sqrt=sqrt, direction=direction,
                         minimum=float(directed.min()), maximum=float(directed.max())))
    return RisTransform(pd.DataFrame(rows).set_index("indicator"))


def eu_values(values: pd.DataFrame, population: pd.Series | None = None,
              countries: tuple[str, ...] = EU27) -> pd.DataFrame:
    """EU value of each indicator and year: the mean over the regions of ``countries`` with a
    value, weighted by ``population`` (by geo, year) when given (step 5 of the module
    docstring). Index ``year``."""
    geo = values.index.get_level_values("geo")
    members = values[geo.str[:2].isin(countries)]
    if population is None:
        return members.groupby(level="year").mean()
    weight = population.reindex(members.index).astype(float)
    present = members.notna() & weight.notna().to_numpy()[:, None]
    weighted = members.where(present).mul(weight, axis=0)
    totals = present.astype(float).mul(weight.fillna(0), axis=0)
    sums = weighted.groupby(level="year").sum(min_count=1)
    return sums / totals.groupby(level="year").sum().replace(0, np.nan)


def performance_group(relative: pd.Series | float) -> pd.Series | str:
    """RIS performance group of a score in % of the EU score of the same year (module
    docstring, step 7): above 125 Leader, above 100 Strong, above 70 Moderate, else
    Emerging; NaN stays missing."""
    def one(value: float):
        if value is None or pd.isna(value):
            return None
        for group, bound in zip(GROUPS, GROUP_THRESHOLDS):
            if value > bound:
                return group
        return GROUPS[-1]

    if isinstance(relative, pd.Series):
        return relative.map(one).astype("object")
    return one(relative)


@dataclasses.dataclass
class RisMethodResult:
    """The RIS method on one set of indicator values.

    ``normalised`` (region x year, indicators in [0, 1]); ``transform`` (the fitted
    :class:`RisTransform`); ``scores``: ``geo, year, indicators`` (with a value), ``composite``
    ([0, 1]), ``index`` (EU first year = 100), ``relative_to_eu`` (EU same year = 100),
    ``group``; ``eu``: ``year, indicators, composite`` of the EU reference; ``status`` (see
    :func:`indicator_status`); ``messages``.
    """

    normalised: pd.DataFrame
    transform: RisTransform
    scores: pd.DataFrame
    eu: pd.DataFrame
    status: pd.DataFrame
    messages: list[str]


def ris_scores(values: pd.DataFrame, directions: dict[str, int],
               weights: dict[str, float] | None = None, *,
               population: pd.Series | None = None, countries: tuple[str, ...] = RIS_COUNTRIES,
               outlier_sd: float = OUTLIER_SD, skew_threshold: float = SKEW_THRESHOLD,
               min_indicator_share: float = MIN_INDICATOR_SHARE) -> RisMethodResult:
    """Steps 1-7 of the module docstring on ``values`` (wide, index ``geo, year``, one column
    per indicator, raw units, gaps already imputed or left NaN).

    Raises
    ------
    RisMethodError
        No region of ``countries``, no EU-27 region, or see :func:`fit_transform`.
    """
    geo = values.index.get_level_values("geo")
    values = values[geo.str[:2].isin(countries)].sort_index()
    if values.empty:
        raise RisMethodError(f"no region of the RIS countries ({', '.join(countries[:5])} ...) "
                             "in the values; the RIS method compares European regions")
    values = values.loc[:, values.notna().any()]
    transform = fit_transform(values, directions, outlier_sd=outlier_sd,
                              skew_threshold=skew_threshold)
    normalised = transform.apply(values)
    weights = {code: float((weights or {}).get(code, 1.0)) for code in normalised.columns}
    eu_raw = eu_values(values, population)
    if eu_raw.dropna(how="all").empty:
        raise RisMethodError("no EU-27 region has a value: the EU reference of the RIS "
                             "method cannot be computed")
    eu_norm = transform.apply(eu_raw)

    def composite(frame: pd.DataFrame) -> pd.Series:
        # the share is over the indicators with data in the year somewhere (an indicator whose
        # series has ended does not count against the regions)
        years = frame.index.get_level_values("year")
        parts = []
        for year in sorted(set(years)):
            block = frame[years == year]
            block = block.loc[:, block.notna().any()]
            if block.shape[1] == 0:
                parts.append(pd.Series(np.nan, index=frame.index[years == year]))
                continue
            parts.append(aggregation.arithmetic_mean(block, weights, min_indicator_share))
        return pd.concat(parts).reindex(frame.index)

    scores = pd.DataFrame({"indicators": normalised.notna().sum(axis=1),
                           "composite": composite(normalised)})
    eu_frame = eu_norm.copy()
    eu_frame.index = pd.MultiIndex.from_arrays([["EU"] * len(eu_frame), eu_frame.index],
                                               names=["geo", "year"])
    eu = pd.DataFrame({"indicators": eu_norm.notna().sum(axis=1).to_numpy(),
                       "composite": composite(eu_frame).to_numpy()}, index=eu_norm.index)
    messages = []
    scored_years = eu.index[eu["composite"].notna()]
    if len(scored_years) == 0:
        raise RisMethodError("the EU reference has too few indicators in every year; lower "
                             "min_indicator_share or add data")
    base = int(scored_years.min())
    year = scores.index.get_level_values("year")
    scores["index"] = 100 * scores["composite"] / eu.loc[base, "composite"]
    scores["relative_to_eu"] = 100 * scores["composite"] / eu["composite"].reindex(year).to_numpy()
    scores["group"] = performance_group(scores["relative_to_eu"])
    for code, row in transform.table.iterrows():
        if row["outliers"]:
            messages.append(f"{code}: {row['outliers']} outlier value(s) beyond mean +/- "
                            f"{outlier_sd:g} sd replaced")
        if row["sqrt"]:
            messages.append(f"{code}: skewness {row['skewness']:.2f} > {skew_threshold:g}, "
                            "square root applied")
    messages.append(f"index base: EU composite of {base} = 100")
    eu = eu.reset_index().rename(columns={"index": "year"})
    return RisMethodResult(normalised, transform, scores.reset_index(), eu,
                           pd.DataFrame(), messages)


def default_years(lag: int = external.RIS_LAG) -> tuple[int, ...]:
    """The open-index years matched to the RIS 2023 database's years (2016-2023 minus the lag:
    2014-2021)."""
    return tuple(year - lag for year in RIS_YEARS)


def build(tables: dict, *, years: tuple[int, ...] | None = None, year: int | None = None,
          framework: IndexFramework | None = None, **options) -> RisMethodResult:
    """Read, screen and impute the ``ris_open`` indicators with the engine, then apply the RIS
    method (:func:`ris_scores`; ``options`` go to it) with population weights for the EU
    reference when the context table has population.

    ``years``: the window (min-max over it; default :func:`default_years`); ``year``: the
    screening year (default: the first year of the window). Screening and imputation see the
    regions of the RIS countries only (``options["countries"]``, default :data:`RIS_COUNTRIES`).
    """
    framework = framework or load_ris_framework()
    window = tuple(years or default_years())
    countries = options.get("countries", RIS_COUNTRIES)
    # screening counts the regions of the RIS countries only (the shares of the EOCIC indices
    # count every region of the tables)
    covered = {name: (frame[frame["geo"].astype(str).str[:2].isin(countries)]
                      if frame is not None and "geo" in frame else frame)
               for name, frame in tables.items()}
    board = Scoreboard(framework, covered, years=window, year=year or window[0], treat=False)
    population, _ = source_series(Source("context", indicator="population"), tables)
    codes = board.indicator_codes
    result = ris_scores(board.imputed[codes], board.directions,
                        {code: board.framework.weight_of(code) for code in codes},
                        population=population, **options)
    result.status = indicator_status(framework, list(result.normalised.columns))
    result.messages = board.messages + result.messages
    return result


# -- comparison with the published RIS 2023 ----------------------------------------------------

def official_groups(folder: Path | None = None) -> pd.DataFrame | None:
    """The published RIS 2023 summary index with the performance group of each year: ``geo``
    (as published), ``year``, ``value`` (EU 2016 = 100), ``relative_to_eu`` (100 x value / EU
    value of the same year), ``group`` (:func:`performance_group`); None if the file is absent.
    The EU row is left out, and so are values of 0: the database gives NO0B (Svalbard and Jan
    Mayen) an index of 0 and no performance group, i.e. no score."""
    ris = external.read_ris_2023(folder)
    if ris is None:
        return None
    eu = ris[ris["geo"] == "EU"].set_index("year")["value"]
    regions = ris[(ris["geo"] != "EU") & (ris["value"] > 0)].copy()
    regions["relative_to_eu"] = 100 * regions["value"] / regions["year"].map(eu)
    regions["group"] = performance_group(regions["relative_to_eu"])
    return regions.reset_index(drop=True)


def _matched(scores: pd.DataFrame, official: pd.DataFrame, reference_year: int,
             index_year: int) -> tuple[pd.DataFrame, int, int]:
    rows = official[official["year"] == reference_year]
    values = pd.Series(rows["value"].to_numpy(), index=pd.Index(rows["geo"], name="geo"))
    recoded, fate = external.recode_reference(values, external.RIS_NUTS_VERSION)
    groups = pd.Series(rows["group"].to_numpy(), index=rows["geo"].to_numpy())
    usable = fate[fate["outcome"].isin(["kept", "recoded"])]
    ris = pd.DataFrame({"ris_value": recoded.to_numpy(),
                        "ris_group": groups.loc[usable["code"]].to_numpy()},
                       index=recoded.index)
    mine = scores[(scores["year"] == index_year) & scores["composite"].notna()]
    mine = mine.set_index("geo")[["composite", "relative_to_eu", "group"]]
    return mine.join(ris, how="inner"), len(fate), len(usable)


def compare_with_ris(scores: pd.DataFrame, official: pd.DataFrame,
                     lag: int = external.RIS_LAG) -> pd.DataFrame:
    """Spearman and group agreement of the open RIS-method index with the published RIS,
    one row per RIS year (columns :data:`COMPARISON_COLUMNS`): ``ris_regions`` published
    regions, ``ris_nuts2`` of them comparable NUTS-2 codes, ``scored_regions`` open scores in
    ``index_year`` = RIS year - ``lag``, ``matched`` in both, ``spearman`` (NaN below three
    matched regions), ``same_group`` / ``same_group_share`` (regions in the same performance
    group), ``adjacent_group_share`` (same or next group)."""
    rows = []
    rank = {group: n for n, group in enumerate(GROUPS)}
    computed = sorted(int(y) for y in scores.loc[scores["composite"].notna(), "year"].unique())
    for reference_year in sorted(int(y) for y in official["year"].unique()):
        index_year = reference_year - lag
        joined, published, nuts2 = _matched(scores, official, reference_year, index_year)
        check = external.spearman_check(joined["composite"], joined["ris_value"])
        same = joined["group"] == joined["ris_group"]
        gap = (joined["group"].map(rank).astype(float)
               - joined["ris_group"].map(rank).astype(float)).abs()
        note = ""
        if index_year not in computed:
            note = (f"open index not computed for {index_year}" + (
                f" (its years: {computed[0]}-{computed[-1]})" if computed else ""))
        rows.append(dict(
            reference_year=reference_year, index_year=index_year, ris_regions=published,
            ris_nuts2=nuts2, scored_regions=int(
                scores.loc[scores["year"] == index_year, "composite"].notna().sum()),
            matched=len(joined), spearman=check["spearman"], same_group=int(same.sum()),
            same_group_share=float(same.mean()) if len(joined) else float("nan"),
            adjacent_group_share=float((gap <= 1).mean()) if len(joined) else float("nan"),
            note=note))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def group_agreement(scores: pd.DataFrame, official: pd.DataFrame, reference_year: int,
                    lag: int = external.RIS_LAG) -> pd.DataFrame:
    """Cross-table of matched regions: published RIS group of ``reference_year`` (rows) by
    the open index's group of ``reference_year - lag`` (columns), groups best first."""
    joined, _, _ = _matched(scores, official, reference_year, reference_year - lag)
    table = pd.crosstab(pd.Categorical(joined["ris_group"], categories=GROUPS),
                        pd.Categorical(joined["group"], categories=GROUPS), dropna=False)
    table.index.name, table.columns.name = f"RIS {reference_year}", f"open {reference_year - lag}"
    return table
