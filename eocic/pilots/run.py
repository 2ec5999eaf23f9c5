"""Stage 07 in one call: the pilot regions' profiles and the event study, outputs written.

:func:`run_pilots` reads the run's processed tables and returns a :class:`PilotRun` that
notebook 07 only narrates:

- the pilot regions (NUTS 2021 parts, whether the SBS has them, whether a NUTS revision split
  them so that their values are apportioned);
- their cluster profile against their peers (:func:`eocic.pilots.regions.cluster_profile`,
  from the cluster mapping, or the proxy "SBS divisions with LQ >= 2" without it) and their
  scoreboard profile (when stage 03 ran);
- the outcome panel (:data:`eocic.pilots.did.OUTCOMES`; starred clusters fixed in the first
  year of the data); the controls, chosen on pre-period covariates (structure, size, income;
  :func:`eocic.pilots.did.select_controls`), with the regions kept out of the pool named
  (the two other pilots of the action, :func:`eocic.pilots.regions.excluded_regions`) and the
  covariate balance; the estimation sample; and when the data reach the event year the DiD
  (level, trend, trend with region trends) and the event study, each with CRV1,
  wild-bootstrap and (DiD) randomisation inference, written to ``pilot_did.parquet`` and
  ``pilot_event_study.parquet``;
- on the demo economy, the planted pilot effect the estimates should recover.

A missing upstream table (peers, scoreboard, cluster mapping, demography) is named in
:attr:`PilotRun.notes`, with the fallback taken.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from eocic.pilots import did, regions
from eocic.pipeline import apportioned_regions, load_table
from eocic.tables import read_table, write_table

#: Output tables of the stage (written only when the effect can be estimated).
OUTPUT_TABLES = ("pilot_did", "pilot_event_study")


@dataclasses.dataclass
class PilotRun:
    """Everything stage 07 produced (see the module docstring); ``None`` where a part could
    not be computed, with the reason in ``notes``."""

    pilots: pd.DataFrame
    profile_year: int
    cluster_profile: pd.DataFrame
    cluster_basis: str
    score_profile: pd.DataFrame | None
    outcome: str
    event_year: int
    cells_basis: str
    panel: pd.DataFrame | None
    years: list[int]
    missing_post: list[int]
    treated: list[str]
    excluded: pd.DataFrame
    covariates: pd.DataFrame | None
    balance: pd.DataFrame | None
    controls: pd.DataFrame | None
    sample: pd.DataFrame | None
    lost: int
    did_results: pd.DataFrame | None
    study: did.EventStudyResult | None
    planted: dict | None
    notes: list[str]
    paths: list[Path]
    settings: did.FewClusterSettings

    did_estimates: list = dataclasses.field(default_factory=list)

    def did_long(self) -> pd.DataFrame:
        """The DiD results one row per effect x inference (``CRV1``, ``wild bootstrap``,
        ``randomisation``): ``effect, inference, estimate, p-value, 95 % CI low, 95 % CI
        high`` (the table notebook 07 shows; counts go in :meth:`footer`)."""
        if self.did_results is None:
            return pd.DataFrame()
        rows = []
        for record in self.did_results.to_dict("records"):
            for method, suffix in (("CRV1", ""), ("wild bootstrap", "_wild"),
                                   ("randomisation", "_ri")):
                rows.append({"effect": record["effect"], "inference": method,
                             "estimate": record["coef"],
                             "p-value": record["p_value" if not suffix else "p" + suffix],
                             "95 % CI low": record["ci_low" + suffix],
                             "95 % CI high": record["ci_high" + suffix]})
        return pd.DataFrame(rows)

    def footer(self, table: str = "did") -> str:
        """The inference footer under the DiD table (``"did"``) or the event-study figure
        (``"event_study"``), :func:`eocic.pilots.did.inference_footer`; empty without an
        estimate."""
        if not self.estimated:
            return ""
        return did.inference_footer(self.did_estimates if table == "did" else [self.study])

    @property
    def estimated(self) -> bool:
        """Whether the effect was estimated (the data reach the event year)."""
        return self.did_results is not None

    def planted_path(self) -> pd.Series | None:
        """On the demo economy: the planted effect on this outcome by event time,
        ``implied_trend x max(0, k + 1)`` (log points; the dashed line of the event-study
        figure); None elsewhere."""
        if self.planted is None or self.study is None:
            return None
        k = self.study.table["event_time"]
        return pd.Series(self.planted["implied_trend"] * (k + 1).clip(lower=0).to_numpy(),
                         index=k.to_numpy())

    def pre_period_paths(self) -> pd.DataFrame:
        """Mean ``100 x (ln y - ln y_first year)`` of the pilots and of their controls by year
        (columns ``pilot regions``, ``controls``): the picture when there is no post-period."""
        if self.sample is None:
            return pd.DataFrame()
        profile = self.sample.assign(group=self.sample["treated"].map(
            {1: "pilot regions", 0: "controls"}))
        first = profile.groupby("geo")["y"].transform("first")
        return (profile.assign(index=100 * (profile["y"] - first))
                .groupby(["year", "group"])["index"].mean().unstack())


def _estimates(sample: pd.DataFrame, event_year: int, settings: did.FewClusterSettings,
               shared_dir: str | Path | None) -> tuple[list, "did.EventStudyResult"]:
    """The three difference-in-differences estimates (level, trend, region trends) and the
    event study of ``sample``; with ``shared_dir``, computed once per sample, event year and
    settings (:func:`eocic.shared_work.computed_once`)."""
    def estimate() -> tuple[list, "did.EventStudyResult"]:
        return ([did.did(sample, event_year, "level", settings=settings),
                 did.did(sample, event_year, "trend", settings=settings),
                 did.did(sample, event_year, "trend", region_trends=True, settings=settings)],
                did.event_study(sample, event_year, settings=settings))

    if not shared_dir:
        return estimate()
    from eocic import shared_work

    material = {"sample": shared_work.frame_digest(sample), "event_year": event_year,
                "settings": {key: float(value) if isinstance(value, float) else int(value)
                             for key, value in dataclasses.asdict(settings).items()}}
    return shared_work.computed_once(
        shared_dir, shared_work.shared_key("pilot_estimates", material), estimate)[0]


def run_pilots(processed_dir: str | Path, year: int, *, outcome: str = "starred_employment",
               event_year: int = regions.PILOT_START_YEAR,
               data_dir: str | Path | None = None, controls_per_region: int = 5,
               settings: did.FewClusterSettings | None = None,
               shared_dir: str | Path | None = None) -> PilotRun:
    """Profiles of the pilot regions and the event study of ``outcome`` around
    ``event_year`` for the run in ``processed_dir``; writes the estimates.

    ``data_dir`` (the run's raw data folder) is read only for the demo economy's
    ``truth.json`` (the planted effect). ``controls_per_region``: the ``k`` nearest regions
    on pre-period covariates per treated region (:func:`eocic.pilots.did.select_controls`).
    ``settings``: bootstrap and permutation draws and seed (defaults of
    :class:`eocic.pilots.did.FewClusterSettings`). ``shared_dir``: store of work shared by
    runs (:mod:`eocic.shared_work`); the difference-in-differences and event-study estimates
    (their bootstrap and permutation draws) depend on the estimation sample, the event year
    and ``settings``, not on ``year``, so the runs of ``eocic study --years`` estimate them
    once per sample.

    Raises
    ------
    FileNotFoundError
        ``sbs`` or ``regional_totals`` absent (run stage 01 first).
    eocic.pilots.did.EventStudyError
        An unknown outcome, bad draws or seed, ``controls_per_region < 1``.
    """
    settings = settings or did.FewClusterSettings()
    if isinstance(controls_per_region, bool) or not isinstance(controls_per_region, int) \
            or controls_per_region < 1:
        raise did.EventStudyError(f"controls_per_region must be a positive integer, got "
                                  f"{controls_per_region!r}")
    if outcome not in did.OUTCOMES:
        raise did.EventStudyError(f"unknown outcome {outcome!r}; use one of {did.OUTCOMES}")
    processed = Path(processed_dir)
    sbs = load_table(processed, "sbs")
    totals = load_table(processed, "regional_totals")
    # the cluster mapping's rows of the cluster scheme in the first SBS year (the starred
    # cells) and the profile year: the only ones read below
    profile_year = year if year in set(sbs["year"]) else int(sbs["year"].max())
    base_year = int(sbs["year"].min())
    filters = {"cluster_mapping": [("scheme", "==", "cluster"),
                                   ("year", "in", sorted({base_year, profile_year}))]}
    tables = {name: read_table(processed, name, missing_ok=True, filters=filters.get(name))
              for name in ("demography", "context", "cluster_mapping", "scoreboard", "peers")}
    notes = [f"{name}: not written by an earlier stage of this run; " + {
        "peers": "no peer comparison (the event study's controls do not need it)",
        "scoreboard": "no scoreboard profile",
        "cluster_mapping": "starred clusters are the proxy 'SBS divisions with LQ >= 2'",
        "demography": "no enterprise-births outcome",
        "context": "no GDP outcome"}[name] for name, frame in tables.items() if frame is None]
    context = tables["context"]
    if context is not None and not context["indicator"].isin(
            ["gdp_eur_per_head", "gdp_mio_eur"]).any():
        # GDP (nama_10r_2gdp) is an optional dataset: say what its absence leaves out
        if outcome == "gdp_per_head":
            raise did.EventStudyError(
                "outcome gdp_per_head needs GDP by region (Eurostat nama_10r_2gdp), which this "
                "run's source lacks; choose another outcome (--param outcome=...) or add the "
                "dataset")
        notes.append("context: no GDP in this run (Eurostat nama_10r_2gdp is absent from the "
                     "source): the pilots' GDP per head is blank and the gdp_per_head outcome "
                     "is not available")

    pilots = regions.pilot_regions(2021)
    pilots["in_sbs_data"] = pilots["geo"].isin(set(sbs.loc[sbs["year"] == year, "geo"]))
    pilots["apportioned"] = pilots["geo"].isin(
        apportioned_regions({"sbs": sbs, "regional_totals": totals}))
    if pilots["apportioned"].any():
        notes.append("Pilot regions marked apportioned were split by a NUTS revision after the "
                     "SBS year: their values are apportioned from their former region (stage "
                     "01), so their profiles rest on that estimate.")

    peer_sets = regions.peer_sets(tables["peers"])
    mapping = tables["cluster_mapping"]
    if mapping is not None and not ((mapping["scheme"] == "cluster")
                                    & (mapping["year"] == profile_year)).any():
        mapping = None
    cluster_regions, cluster_basis = regions.cluster_profile(
        profile_year, sbs=sbs, totals=totals, cluster_mapping=mapping)
    cluster_profile = regions.pilot_vs_peers(
        cluster_regions, ["clusters", "starred_employment", "regional_employment"],
        {"starred_share": ("starred_employment", "regional_employment")}, peer_sets)
    scoreboard = tables["scoreboard"]
    score_profile = None
    if scoreboard is not None and (scoreboard["year"] == profile_year).any():
        weights = cluster_regions.set_index("geo")["regional_employment"]
        score_profile = regions.scoreboard_profile(scoreboard, peer_sets, profile_year, weights)

    cells, cells_basis = None, ""
    if outcome == "starred_employment":
        if tables["cluster_mapping"] is not None:
            from eocic.clusters.mapping import mapped_weights

            weights, _ = mapped_weights("cluster", sbs["nace_r2"].unique(),
                                        processed_dir=processed, year=base_year)
            cells = did.starred_cells_from_mapping(tables["cluster_mapping"], weights, base_year)
            cells_basis = f"cluster mapping (clusters of {base_year}, allocation weights)"
        else:
            cells = did.starred_cells(sbs, totals, base_year)
            cells_basis = f"proxy: SBS divisions with LQ >= 2 in {base_year} (no cluster mapping)"
    excluded = regions.excluded_regions(set(sbs["geo"].unique()))
    result = PilotRun(pilots=pilots, profile_year=profile_year, cluster_profile=cluster_profile,
                      cluster_basis=cluster_basis, score_profile=score_profile,
                      outcome=outcome, event_year=int(event_year), cells_basis=cells_basis,
                      panel=None, years=[], missing_post=[], treated=[], excluded=excluded,
                      covariates=None, balance=None, controls=None, sample=None, lost=0,
                      did_results=None, study=None, planted=None, notes=notes, paths=[],
                      settings=settings)
    try:
        panel = did.outcome_panel(outcome, sbs=sbs, demography=tables["demography"],
                                  context=tables["context"], cells=cells, totals=totals)
    except did.EventStudyError as error:
        notes.append(f"No event study: {error}.")
        return result
    result.panel = panel
    result.years = sorted(int(y) for y in panel.loc[panel["value"] > 0, "year"].unique())
    post = did.post_period_years(result.years, event_year)
    wanted = range(event_year, max(event_year, 2023) + 1)
    result.missing_post = [y for y in wanted if y not in post]
    in_panel = set(panel["geo"].unique())
    result.treated = sorted(g for g in regions.pilot_of() if g in in_panel)
    observed = panel[panel["value"] > 0]
    eligible = set(observed.loc[observed["year"] < event_year, "geo"])
    if post:   # a control must be observed before and after the event (availability only)
        eligible &= set(observed.loc[observed["year"] >= event_year, "geo"])
    try:
        result.covariates, covariate_notes = did.pre_period_covariates(
            event_year, sbs=sbs, totals=totals, context=tables["context"])
        result.controls = did.select_controls(result.covariates, result.treated,
                                              k=controls_per_region, eligible=eligible)
    except did.EventStudyError as error:
        notes.append(f"No event study: {error}.")
        return result
    notes.extend(f"Controls: {note}." for note in covariate_notes)
    control_regions = sorted(result.controls["control"].unique())
    unmatched = sorted(set(result.treated) - set(result.controls["geo"]))
    if unmatched:
        notes.append(f"Pilot regions without every pre-period covariate, so without controls "
                     f"of their own (still treated): {', '.join(unmatched)}.")
    result.balance = did.covariate_balance(result.covariates, result.treated, control_regions)
    result.sample = did.estimation_sample(panel, result.treated, control_regions)
    result.lost = did.sample_losses(panel, result.treated + control_regions)
    if not (result.treated and post):
        return result
    estimates, result.study = _estimates(result.sample, int(event_year), settings, shared_dir)
    result.did_estimates = estimates
    result.did_results = did.did_table(estimates)
    result.paths = [
        write_table(result.did_results.assign(outcome=outcome), "pilot_did", processed),
        write_table(result.study.table.assign(outcome=outcome), "pilot_event_study", processed)]
    truth = Path(data_dir) / "truth.json" if data_dir is not None else None
    if truth is not None and truth.exists() and outcome == "starred_employment":
        result.planted = did.planted_effect(json.loads(truth.read_text(encoding="utf-8")), cells,
                                            sbs, result.treated, base_year)
    return result
