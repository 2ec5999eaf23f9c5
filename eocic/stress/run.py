"""Stage 06 in one call: the stress test of a run, its outputs written, a results object.

:func:`run_stress_test` reads the run's processed tables, runs every shipped scenario and the
chosen one (:func:`eocic.stress.exposure.stress_test`), writes ``stress_test.parquet`` and
returns a :class:`StressTestRun` that notebook 06 only narrates: the table, the summary per
scenario, the most exposed regions, one region's breakdown, the correlations of exposure with
concentration and cushion.

Upstream tables: ``sbs`` and ``regional_totals`` (stage 01) are required. The cluster portfolio
(HHI over cluster categories) and the relatedness-density cushion come from the cluster
mapping (stage 02) when its tables hold the reference year; otherwise they are computed from
the SBS divisions, and :attr:`StressTestRun.notes` says so.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from eocic.measures import spearman_rho
from eocic.pipeline import load_table
from eocic.tables import read_table, write_table
from eocic.stress import exposure
from eocic.stress.scenarios import Scenario, load_scenario, shipped_scenarios



@dataclasses.dataclass
class StressTestRun:
    """Everything stage 06 produced.

    Attributes
    ----------
    table : DataFrame
        :data:`eocic.stress.exposure.STRESS_COLUMNS`, every scenario x region.
    scenarios : list of Scenario
        The shipped scenarios and the chosen one (if it is a user file).
    chosen : Scenario
    year : int
    sbs : DataFrame
        The run's SBS cells (for breakdowns).
    weights : DataFrame
        Allocation weights of the cluster categories (as the mapping uses them).
    portfolio_basis, cushion_basis : str
        Where the concentration and the cushion come from.
    notes : list of str
        Sentences on the upstream tables used or missing.
    path : Path
        The written ``stress_test.parquet``.
    """

    table: pd.DataFrame
    scenarios: list[Scenario]
    chosen: Scenario
    year: int
    sbs: pd.DataFrame
    weights: pd.DataFrame
    portfolio_basis: str
    cushion_basis: str
    notes: list[str]
    path: Path

    def of(self, scenario: str | None = None) -> pd.DataFrame:
        """Rows of one scenario (default: the chosen one), ranked."""
        return self.table[self.table["scenario"] == (scenario or self.chosen.name)]

    def summary(self) -> pd.DataFrame:
        """Per scenario: divisions shocked, shocked divisions absent from the SBS, regions
        ranked and without employment, shocked cells without a value, the median share of a
        region's change resting on estimated cells (%), regions apportioned."""
        rows = []
        for scenario in self.scenarios:
            part = self.of(scenario.name)
            uncovered = exposure.uncovered_divisions(self.sbs, scenario.shocks, self.year)
            rows.append({
                "scenario": scenario.name,
                "divisions shocked": int((scenario.shocks != 0).sum()),
                "not in the SBS data": ", ".join(uncovered) or None,
                "regions ranked": int(part["rank"].notna().sum()),
                "regions without employment": int(part["rank"].isna().sum()),
                "shocked cells without a value": int(part["unknown_cells"].sum()),
                "median estimated share of the change (%)":
                    100 * float(part["estimated_share"].median()),
                "regions apportioned": int(part["apportioned"].sum())})
        return pd.DataFrame(rows)

    def breakdown(self, region: str) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
        """One region under the chosen scenario: its row of the table, the contributions of the
        shocked divisions (:func:`~eocic.stress.exposure.division_contributions`) and its five
        largest cluster-category contributions.

        Raises
        ------
        eocic.stress.exposure.ExposureError
            When the region is not in the table.
        """
        rows = self.of()
        if region not in set(rows["geo"].unique()):
            raise exposure.ExposureError(
                f"region {region!r} is not in the stress test of {self.year}; choose one of the "
                f"{rows['geo'].nunique()} regions of the table (e.g. {rows['geo'].iloc[0]})")
        cells = exposure.division_exposure(self.sbs, self.chosen.shocks, self.year)
        categories = exposure.top_contributors(
            exposure.category_contributions(cells, self.weights), n=5)
        return (rows[rows["geo"] == region].iloc[0], exposure.division_contributions(cells),
                categories[categories["geo"] == region].reset_index(drop=True))

    def correlations(self) -> pd.DataFrame:
        """Spearman rank correlations across regions, per scenario, of the expected change (%)
        with the HHI and with the density cushion."""
        return pd.DataFrame([
            {"scenario": name,
             "exposure vs HHI": spearman_rho(part["expected_change_pct"], part["hhi"]),
             "exposure vs density cushion": spearman_rho(part["expected_change_pct"],
                                                         part["density_cushion"])}
            for name, part in self.table.groupby("scenario", sort=False)])


def run_stress_test(processed_dir: str | Path, year: int, scenario: str = "energy_price"
                    ) -> StressTestRun:
    """Run every shipped scenario and ``scenario`` on the run in ``processed_dir`` for
    ``year``; write ``stress_test.parquet``.

    Parameters
    ----------
    processed_dir : path
        ``data/processed/<run_id>``.
    year : int
        Reference year.
    scenario : str
        A shipped scenario name or the path of a scenario file (``.yaml`` / ``.csv``; see
        ``eocic/stress/scenarios/template.yaml``).

    Raises
    ------
    FileNotFoundError
        ``sbs`` or ``regional_totals`` absent (run stage 01 first).
    eocic.stress.scenarios.ScenarioError, eocic.stress.exposure.ExposureError
        A bad scenario file, or a year outside the data.
    """
    from eocic.clusters.mapping import mapped_weights

    processed = Path(processed_dir)
    sbs = load_table(processed, "sbs")
    totals = load_table(processed, "regional_totals")
    chosen = load_scenario(scenario)
    scenarios = shipped_scenarios()
    if chosen.name not in [s.name for s in scenarios]:
        scenarios.append(chosen)
    notes = []
    # the portfolio reads the cluster scheme's rows of the year only (read with a filter)
    mapping = read_table(processed, "cluster_mapping", missing_ok=True,
                         filters=[("scheme", "==", "cluster"), ("year", "==", int(year))])
    portfolio, portfolio_basis = None, "division"
    if mapping is not None and len(mapping):
        portfolio, portfolio_basis = exposure.cluster_portfolio(mapping, year), "cluster"
        notes.append("Concentration (HHI) over the cluster categories of the cluster mapping.")
    else:
        notes.append("The cluster mapping has no cluster rows for this year (stage 02 not run): "
                     "concentration (HHI) over the SBS divisions instead.")
    density_all = read_table(processed, "relatedness_density", missing_ok=True)
    density, cushion_basis = None, "sector (from sbs)"
    if density_all is not None:
        for scheme in ("cluster", "sector"):
            part = density_all[(density_all["scheme"] == scheme) & (density_all["year"] == year)]
            if not part.empty:
                density, cushion_basis = part, f"{scheme} (relatedness density of stage 02)"
                break
    if density is None:
        notes.append("No relatedness density of stage 02 for this year: the cushion is computed "
                     "from the SBS divisions (proximity of divisions, Hidalgo et al. 2007).")
    weights, _ = mapped_weights("cluster", sbs["nace_r2"].unique(), processed_dir=processed,
                                year=year)
    notes.append("Top contributors are cluster categories (the allocation weights of the "
                 "cluster mapping).")
    table = exposure.stress_test(sbs, scenarios, year, totals=totals, portfolio=portfolio,
                                 portfolio_basis=portfolio_basis, density=density,
                                 cushion_basis=cushion_basis, weights=weights)
    path = write_table(table, "stress_test", processed)
    return StressTestRun(table, scenarios, chosen, int(year), sbs, weights, portfolio_basis,
                         cushion_basis, notes, path)
