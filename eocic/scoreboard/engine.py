"""The scoreboard engine: one object keeping every stage of a composite index inspectable.

:class:`Scoreboard` (in the spirit of COINr's "coin") builds one index of the framework from
the processed tables, in the OECD/JRC Handbook order, and keeps each stage as a wide frame
indexed by ``(geo, year)`` with one column per indicator:

``raw``            numerators as read from the source tables
``denominators``   denominators (NaN column where the indicator has none)
``denominated``    scale * numerator / denominator, the indicator values
``availability``   screening table: share of regions with data in the reference year (or the
                   imputation window before it); indicators below the threshold are dropped
``imputed``        after imputation (:mod:`eocic.scoreboard.imputation`), with
                   ``imputation_method`` (0 observed, 1 carried forward, 2 country mean,
                   -1 missing) and the boolean mask ``imputed_mask``
``treated``        after outlier treatment (:mod:`eocic.scoreboard.treatment`), each year's
                   regions treated separately (``treatment_scope="by_year"``, COINr) or all
                   regions and years at once (``"pooled"``), with ``treatment_log`` (one row
                   per indicator and year, or per indicator)
``normalised``     direction applied, then normalised (:mod:`eocic.scoreboard.normalisation`)
``aggregated``     indicators as aggregated plus one column per group (sub-dimension,
                   dimension, index) (:mod:`eocic.scoreboard.aggregation`)
``imputed_share``  per node, the share of its available indicators that are imputed

Nothing is dropped silently: ``messages`` lists every indicator or group left out, and why.

Defaults ([I] = proposed, methodology 2.3): availability threshold 0.5 [I], imputation window
2 years, data threshold 2/3 (COINr ``dat_thresh``), COINr treatment (``qTreat`` defaults:
winmax 5, |skew| 2, kurtosis 3.5, ``log_CT``; year by year), pooled min-max 0-100 (COINr
``Normalise.purse`` default ``global = TRUE``), equal weights, arithmetic mean. Ranks: 1 =
best, ties share the lowest rank (:mod:`eocic.scoreboard.ranks`, COINr ``ties.method =
"min"``).

Where this engine still differs from COINr (checked against github.com/bluefoxr/COINr, commit
b968203, 2025-04-04; each difference is deliberate or a gap, and listed in notebook 03):

1. Screening: COINr ``Screen`` drops *units* below a data-availability threshold; here
   *indicators* below ``availability_threshold`` (around the reference year) are dropped and
   every region is kept (a region without enough data gets no group score instead, through
   ``data_threshold``).
2. Imputation: carry forward at most ``impute_window`` years, then the same-country mean
   (COINr ``Impute`` offers ``i_mean_grp`` and, for purses, ``impute_panel`` with "latest";
   the combination and the window are eocic's).
3. Treatment: a skew or kurtosis that cannot be computed (fewer than 4 values, or zero
   variance) counts as passing (COINr warns and leaves the indicator untreated: same result).
4. By-year treatment can log-transform an indicator in some years and not in others; the
   pooled min-max that follows (as in COINr's purse) then mixes log and level values in one
   column. ``treatment_mixed`` lists such indicators and a message names them;
   ``treatment_scope="pooled"`` avoids it.
5. Normalisation: ``rank`` (COINr ``n_prank``, ties at the lowest rank) and
   ``distance_to_frontier`` (COINr ``n_dist2max`` x 100) are computed per year, as COINr does
   when each year's coin is normalised on its own, while ``minmax`` and ``zscore`` are pooled
   over years (COINr's purse default); COINr applies one choice to all methods.
6. Aggregation: a group is scored only where at least ``data_threshold`` (2/3) of its
   children have a value (COINr ``Aggregate``'s ``dat_thresh`` exists but defaults to none);
   geometric aggregation rescales the normalised values to [1, 100] itself (COINr's
   ``a_gmean`` refuses values <= 0 and leaves the rescaling to the user).
7. Peers and strengths/weaknesses (:mod:`eocic.scoreboard.peers`) are eocic's; COINr has no
   peer module. They use differences of scores, never ratios.
8. Uncertainty and sensitivity (:mod:`eocic.scoreboard.uncertainty`) follow their own
   module's docstring, not COINr ``get_sensitivity``.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from eocic.errors import EocicError
from eocic.scoreboard import aggregation, imputation, normalisation, ranks, treatment
from eocic.scoreboard.framework import IndexFramework
from eocic.scoreboard.sources import indicator_values


class ScoreboardError(EocicError, ValueError):
    """The scoreboard cannot be built or queried as asked; the message names the fix."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Choices of a scoreboard run (every one documented in the module docstring).

    Attributes
    ----------
    year : int or None
        Reference year (screening, peers, uncertainty); None = latest year with data.
    years : tuple of int or None
        Years scored; None = every year in the data.
    availability_threshold : float
        Minimum share of regions with data around the reference year to keep an indicator.
    data_threshold : float
        Minimum share of a group's children with a value for the group to be scored.
    impute_window : int
        Years a value may be carried forward.
    impute_parent : bool
        Use the same-country mean for values still missing.
    treat : bool
        Apply outlier treatment.
    winmax, skew_threshold, kurtosis_threshold, log_transform
        COINr treatment parameters (``qTreat``'s ``winmax``, ``skew_thresh``, ``kurt_thresh``,
        ``f2``); ``log_transform`` defaults to COINr's ``log_CT``.
    treatment_scope : {"by_year", "pooled"}
        ``by_year`` (default, COINr) treats each year's regions separately; ``pooled`` treats
        all regions and years at once (one transform per indicator over time).
    normalisation : str
        One of :data:`eocic.scoreboard.normalisation.NORMALISATIONS`.
    aggregation : str
        ``arithmetic`` or ``geometric``.
    on_missing : {"skip", "error"}
        An indicator whose source has no data: drop it with a message, or raise.
    """

    year: int | None = None
    years: tuple[int, ...] | None = None
    availability_threshold: float = 0.5
    data_threshold: float = 2 / 3
    impute_window: int = 2
    impute_parent: bool = True
    treat: bool = True
    winmax: int = 5
    skew_threshold: float = 2.0
    kurtosis_threshold: float = 3.5
    log_transform: str = treatment.DEFAULT_LOG_TRANSFORM
    treatment_scope: str = treatment.DEFAULT_TREATMENT_SCOPE
    normalisation: str = "minmax"
    aggregation: str = "arithmetic"
    on_missing: str = "skip"

    def __post_init__(self):
        if self.normalisation not in normalisation.NORMALISATIONS:
            raise ScoreboardError(f"unknown normalisation {self.normalisation!r}; use one of "
                                  f"{list(normalisation.NORMALISATIONS)}")
        if self.aggregation not in aggregation.AGGREGATIONS:
            raise ScoreboardError(f"unknown aggregation {self.aggregation!r}; use one of "
                                  f"{list(aggregation.AGGREGATIONS)}")
        if self.log_transform not in treatment.LOG_TRANSFORMS:
            raise ScoreboardError(f"unknown log transform {self.log_transform!r}; use one of "
                                  f"{list(treatment.LOG_TRANSFORMS)}")
        if self.treatment_scope not in treatment.TREATMENT_SCOPES:
            raise ScoreboardError(f"unknown treatment_scope {self.treatment_scope!r}; use one "
                                  f"of {list(treatment.TREATMENT_SCOPES)}")
        if self.on_missing not in ("skip", "error"):
            raise ScoreboardError("on_missing must be 'skip' or 'error'")
        for name in ("availability_threshold", "data_threshold"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ScoreboardError(f"{name} = {value} must be between 0 and 1")


class Scoreboard:
    """One composite index built stage by stage (see module docstring).

    Parameters
    ----------
    framework : IndexFramework
        One index of :func:`eocic.scoreboard.framework.load_framework`.
    tables : dict
        Processed tables by name (``context``, ``demography``, ``sbs``, ``cluster_mapping``);
        None or absent = not available.
    settings : Settings, optional
    **changes
        Shortcuts for fields of :class:`Settings` (e.g. ``year=2020``).
    """

    def __init__(self, framework: IndexFramework, tables: dict, settings: Settings | None = None,
                 **changes):
        self.full_framework = framework
        self.tables = tables
        self.settings = dataclasses.replace(settings or Settings(), **changes)
        self.messages: list[str] = []
        self._read_sources()
        self._screen()
        self._impute()
        self._treat()
        self._normalise()
        self._aggregate()

    # -- stages --------------------------------------------------------------------------------
    def _read_sources(self) -> None:
        framework = self.full_framework
        numerators, denominators, values, notes = {}, {}, {}, []
        unavailable = []
        for indicator in framework.indicators:
            numerator, denominator, value, note = indicator_values(indicator, self.tables)
            status = "ok"
            if value is None or value.notna().sum() == 0:
                status = "no data"
                note = note or "the source has rows but no value"
                if self.settings.on_missing == "error":
                    raise ScoreboardError(
                        f"{framework.code}: indicator {indicator.code!r} "
                        f"({indicator.source.describe()}) has no data: {note}. Provide the "
                        "table, fix the source in the framework, or drop the indicator")
                unavailable.append(indicator.code)
                self.messages.append(f"{framework.code}: indicator {indicator.code!r} left "
                                     f"out: {note}")
            else:
                numerators[indicator.code] = numerator
                denominators[indicator.code] = (denominator if denominator is not None
                                                else pd.Series(dtype=float))
                values[indicator.code] = value
            notes.append(dict(indicator=indicator.code, source=indicator.source.describe(),
                              denominator=(indicator.denominator.describe()
                                           if indicator.denominator else ""),
                              status=status, note=note))
        self.source_notes = pd.DataFrame(notes)
        if not values:
            raise ScoreboardError(f"{framework.code}: no indicator has data in the processed "
                                  "tables; run stage 01 for a source with context, sbs or "
                                  "demography data")
        frame = pd.DataFrame(values)
        frame.index.names = ["geo", "year"]
        years = list(self.settings.years) if self.settings.years else None
        self.denominated = imputation.complete_grid(frame, years)
        grid = self.denominated.index
        self.raw = pd.DataFrame(numerators).reindex(grid)
        self.denominators = pd.DataFrame(
            {code: series for code, series in denominators.items()}).reindex(grid)
        available_years = sorted(grid.get_level_values("year").unique())
        if self.settings.year is None:
            with_data = self.denominated.notna().any(axis=1)
            year = int(with_data[with_data].index.get_level_values("year").max())
        else:
            year = int(self.settings.year)
            if year not in available_years:
                raise ScoreboardError(f"{framework.code}: reference year {year} is outside the "
                                      f"data ({available_years[0]}-{available_years[-1]}); "
                                      "choose a year in that range")
        self.year = year
        self._unavailable = unavailable

    def _screen(self) -> None:
        settings = self.settings
        years = self.denominated.index.get_level_values("year")
        window = (years <= self.year) & (years >= self.year - settings.impute_window)
        recent = self.denominated[window].groupby(level="geo").apply(lambda f: f.notna().any())
        share = recent.mean()
        rows = []
        dropped = list(self._unavailable)
        for indicator in self.full_framework.indicators:
            code = indicator.code
            if code in self._unavailable:
                rows.append(dict(indicator=code, available_share=0.0, kept=False,
                                 reason="no data"))
                continue
            kept = bool(share[code] >= settings.availability_threshold)
            reason = "" if kept else (f"available for {share[code]:.0%} of regions around "
                                      f"{self.year} (< {settings.availability_threshold:.0%})")
            if not kept:
                dropped.append(code)
                self.messages.append(f"{self.full_framework.code}: indicator {code!r} dropped: "
                                     f"{reason}")
            rows.append(dict(indicator=code, available_share=float(share[code]), kept=kept,
                             reason=reason))
        self.availability = pd.DataFrame(rows)
        self.framework, pruned = self.full_framework.without(dropped)
        self.messages.extend(pruned)
        for group in self.full_framework.groups:
            if group.placeholder:
                self.messages.append(f"{self.full_framework.code}: {group.level} "
                                     f"{group.code!r} ({group.name}) has no open indicator "
                                     "(see not_available) and is not scored")
        if not self.framework.indicators:
            raise ScoreboardError(f"{self.full_framework.code}: every indicator was dropped "
                                  "by screening; lower availability_threshold or add data")
        self.indicator_codes = self.framework.indicator_codes
        self.directions = {i.code: i.direction for i in self.framework.indicators}

    def _impute(self) -> None:
        data = self.denominated[self.indicator_codes]
        self.imputed, self.imputation_method = imputation.impute(
            data, self.settings.impute_window, self.settings.impute_parent)
        self.imputed_mask = self.imputation_method.isin([1, 2])

    def _treat(self) -> None:
        settings = self.settings
        if settings.treat:
            self.treated, self.treatment_log = treatment.treat_frame(
                self.imputed, settings.winmax, settings.skew_threshold,
                settings.kurtosis_threshold, settings.log_transform,
                scope=settings.treatment_scope)
        else:
            self.treated = self.imputed.copy()
            self.treatment_log = pd.DataFrame(
                dict(indicator=self.indicator_codes, method="not treated"))
        self.treatment_mixed = self._mixed_treatment()
        for code, years in self.treatment_mixed.items():
            log = self.treatment_log
            treated_years = log.loc[(log["indicator"] == code) & (log["n"] > 0), "year"]
            others = sorted(int(year) for year in treated_years if int(year) not in years)
            self.messages.append(
                f"{self.full_framework.code}: indicator {code!r} is log-transformed in "
                f"{len(years)} of {len(treated_years)} years but not in "
                f"{', '.join(map(str, others))}; its pooled normalisation mixes log and level "
                "values, so its scores do not compare across those years (set "
                "treatment_scope='pooled' for one transform over time)")

    def _mixed_treatment(self) -> dict[str, list[int]]:
        """Indicators log-transformed in some years only (by-year scope): code -> those years.

        Years whose cross-section has no value at all are ignored.
        """
        log = self.treatment_log
        if "year" not in log or log["year"].isna().all():
            return {}
        log = log[log["n"] > 0]
        transformed = log["method"].isin(treatment.LOG_TRANSFORMS)
        mixed = {}
        for code, rows in log.groupby("indicator", sort=False):
            flags = transformed.loc[rows.index]
            if flags.any() and not flags.all():
                mixed[code] = sorted(int(year) for year in rows.loc[flags, "year"])
        return mixed

    def _normalise(self) -> None:
        self.normalised = normalisation.normalise(self.treated, self.directions,
                                                  self.settings.normalisation)

    def aggregation_input(self) -> pd.DataFrame:
        """The normalised indicators as they enter aggregation ([1, 100] for geometric)."""
        if self.settings.aggregation == "geometric":
            return normalisation.rescale_positive(self.normalised)
        return self.normalised

    def _aggregate(self) -> None:
        self.aggregated = aggregation.aggregate_tree(
            self.aggregation_input(), self.framework, self.settings.aggregation,
            self.settings.data_threshold)
        available = self.imputed.notna()
        shares = {}
        for code in self.aggregated.columns:
            leaves = self.framework.leaves_under(code)
            n_available = available[leaves].sum(axis=1)
            n_imputed = (self.imputed_mask[leaves] & available[leaves]).sum(axis=1)
            shares[code] = (n_imputed / n_available.where(n_available > 0)).where(
                self.aggregated[code].notna())
        self.imputed_share = pd.DataFrame(shares)

    # -- views ---------------------------------------------------------------------------------
    def rerun(self, **changes) -> Scoreboard:
        """The same index and tables with some settings changed (a new object)."""
        return Scoreboard(self.full_framework, self.tables, self.settings, **changes)

    @functools.cached_property
    def regions(self) -> list[str]:
        return sorted(self.denominated.index.get_level_values("geo").unique())

    def scores(self) -> pd.DataFrame:
        """Long table of scores: index_code (the composite index), geo, year, level, code,
        name, score, rank, imputed_share (see :data:`eocic.tables.SCOREBOARD`).

        Indicator rows hold the normalised value; ranks are 1 = best within (code, year),
        ties share the lowest rank, regions without a score are not ranked.
        """
        framework = self.framework
        values = self.aggregated.copy()
        values[self.indicator_codes] = self.normalised[self.indicator_codes]
        long = values.stack(future_stack=True).rename("score").reset_index()
        long.columns = ["geo", "year", "code", "score"]
        share = self.imputed_share.stack(future_stack=True).rename("imputed_share")
        share.index.names = ["geo", "year", "code"]
        long = long.merge(share.reset_index(), on=["geo", "year", "code"], how="left")
        long = long[long["score"].notna()].copy()
        long["rank"] = ranks.rank_within(long, "score", ["code", "year"]).astype("int64")
        long["level"] = long["code"].map({c: framework.level_of(c) for c in values.columns})
        long["name"] = long["code"].map({c: framework.name_of(c) for c in values.columns})
        long.insert(0, "index_code", framework.code)
        columns = ["index_code", "geo", "year", "level", "code", "name", "score", "rank",
                   "imputed_share"]
        order = {level: n for n, level in enumerate(("index", "dimension", "subdimension",
                                                     "indicator"))}
        long["_order"] = long["level"].map(order)
        long = long.sort_values(["_order", "code", "year", "geo"], kind="stable")
        return long[columns].reset_index(drop=True)

    def year_frame(self, codes: list[str] | None = None, year: int | None = None) -> pd.DataFrame:
        """Scores of one year (default: reference year), geo x codes (default: dimensions and
        the index)."""
        year = self.year if year is None else year
        codes = codes or self.framework.dimensions() + [self.framework.code]
        frame = self.aggregated.xs(year, level="year")[codes].copy()
        for code in codes:
            if code in self.indicator_codes:
                frame[code] = self.normalised.xs(year, level="year")[code]
        return frame

    def region_profile(self, region: str, year: int | None = None,
                       strict: bool = True) -> pd.Series:
        """Dimension and index scores of one region in one year.

        Raises
        ------
        ScoreboardError
            Unknown region; or (``strict``) a dimension for which the region has no indicator
            value at all, even after imputation, naming the dimension.
        """
        year = self.year if year is None else year
        if region not in self.regions:
            raise ScoreboardError(f"region {region!r} is not in the {self.framework.code} data; "
                                  f"use a NUTS-2 code such as {self.regions[0]!r}")
        if strict:
            row = self.imputed.loc[(region, year)]
            for dimension in self.framework.dimensions():
                leaves = self.framework.leaves_under(dimension)
                if row[leaves].isna().all():
                    raise ScoreboardError(
                        f"{self.framework.code}: region {region} has no data for any indicator "
                        f"of dimension {dimension!r} in {year} (even after imputation), so the "
                        "dimension score is missing; choose another year or region, or call "
                        "with strict=False to get NaN")
        return self.year_frame(year=year).loc[region]

    def correlation(self, year: int | None = None) -> pd.DataFrame:
        """Pearson correlation of the normalised indicators in one year."""
        year = self.year if year is None else year
        return self.normalised.xs(year, level="year")[self.indicator_codes].corr()

    def cronbach_alpha(self, year: int | None = None) -> pd.DataFrame:
        """Cronbach's alpha of each dimension's indicators (complete cases, reference year).

        alpha = k / (k - 1) * (1 - sum var(x_i) / var(sum x_i)); NaN for k < 2.
        Reference: Cronbach (1951); OECD/JRC (2008) Handbook, step 4.
        """
        year = self.year if year is None else year
        data = self.normalised.xs(year, level="year")
        rows = []
        for dimension in self.framework.dimensions():
            leaves = self.framework.leaves_under(dimension)
            block = data[leaves].dropna()
            k = len(leaves)
            alpha = np.nan
            if k >= 2 and len(block) > 2:
                total_var = block.sum(axis=1).var(ddof=1)
                if total_var > 0:
                    alpha = k / (k - 1) * (1 - block.var(ddof=1).sum() / total_var)
            rows.append(dict(dimension=dimension, name=self.framework.name_of(dimension),
                             indicators=k, regions=len(block), alpha=alpha))
        return pd.DataFrame(rows)


def build_scoreboards(framework, tables: dict, **settings) -> dict[str, Scoreboard]:
    """A :class:`Scoreboard` for every index of a :class:`Framework`."""
    return {code: Scoreboard(index, tables, **settings)
            for code, index in framework.indices.items()}
