"""Stage 04 in one call: build the samples, estimate the registry, write the outputs.

Outputs (the contract of the stage):

- ``<processed_dir>/regressions.parquet``: one row per model x regressor with ``spec, model,
  term, label, coef, se, tstat, pvalue, ci_low, ci_high, nobs, n_groups, rsquared, dependent,
  dependent_proxy_for, proxy_for, estimator, covariance, expected_sign, t0, T`` (schema, units
  and meaning: :data:`eocic.tables.REGRESSIONS`; built by
  :func:`eocic.models.estimation.results_frame`); ``nobs`` counts the observations used
  (singletons dropped), ``n_groups`` the SE clusters used, and ``covariance`` holds the
  column's inference in one line (SE type, small-sample correction, singletons, distribution);
- ``<report_dir>/tables/table_<name>.html|.tex|.csv`` for every table;
- ``<report_dir>/tables/coefficients.png``, the coefficient plot.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pandas as pd

from eocic import tables as schemas
from eocic.plotting import RenderedFigure, render
from eocic.models import estimation, figures, specifications, tables, variables

GROUPING_CHOICES = ("auto", "cluster", "demo", "section")


def choose_grouping(choice: str, divisions, *, processed_dir: str | Path | None = None,
                    year: int | None = None,
                    data_dir: str | Path | None = None) -> tuple[pd.DataFrame, str]:
    """The division -> cluster grouping and a sentence saying what it is.

    ``auto`` and ``cluster``: the EOCIC traded categories exactly as the cluster mapping
    (stage 02) allocates them (:func:`eocic.clusters.mapping.default_weights`, split by EU class
    employment when stage 01 found national class data, clones merged by
    :func:`eocic.clusters.definitions.merge_clones`); ``demo``: the demo economy's planted
    groups, read from ``truth.json`` in ``data_dir`` (valid for the demo only); ``section``:
    the NACE section as a labelled proxy.
    """
    if choice not in GROUPING_CHOICES:
        raise ValueError(f"grouping {choice!r}: use one of {', '.join(GROUPING_CHOICES)}")
    if choice in ("auto", "cluster"):
        from eocic.clusters.mapping import mapped_weights

        weights, clones = mapped_weights("cluster", divisions, processed_dir=processed_dir,
                                         year=year)
        merged = (f" {len(clones)} groups of categories identical at division level are "
                  "merged (" + "; ".join(clones["category_name"]) + ")." if len(clones) else "")
        return variables.validate_grouping(weights), (
            "Clusters: the EOCIC traded cluster categories, allocated to NACE divisions as in "
            "the cluster mapping." + merged)
    if choice == "demo":
        truth = Path(data_dir or "") / "truth.json"
        if data_dir is None or not truth.exists():
            raise ValueError("grouping 'demo' reads the demo's planted groups from truth.json "
                             f"in the data folder ({truth} not found): use it with --source "
                             "demo, or grouping 'cluster'")
        groups = json.loads(truth.read_text(encoding="utf-8"))["demo_cluster_groups"]
        return variables.grouping_from_mapping(groups), (
            "Clusters: the demo economy's planted division groups (truth.json); valid for the "
            "demo data only.")
    return variables.section_grouping(divisions), (
        "PROXY clusters: each division's 'cluster' is its NACE section.")


@dataclasses.dataclass
class RegressionRun:
    """Everything stage 04 produced."""

    samples: dict[str, variables.Sample]
    estimated: list[estimation.TableResults]
    tidy: pd.DataFrame
    grouping_note: str
    t0: int
    T: int
    paths: list[Path]
    seconds: dict[str, float]
    #: The coefficient plot (:func:`eocic.models.figures.coefficient_plot`), drawn once
    #: (:func:`eocic.plotting.render`): the notebook shows it and ``tables/coefficients.png``
    #: holds the same PNG. None: no coefficient.
    coefficient_figure: RenderedFigure | None = None


def load_tables(processed_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The processed tables the regressions read, each checked against its schema
    (:func:`eocic.tables.read_table`); absent optional tables are left out. Of
    ``cluster_mapping`` only the rows of the ``cluster`` scheme are read (the samples use no
    other).

    Raises
    ------
    eocic.tables.TableNotFoundError
        No ``sbs`` table (stage 01 has not run).
    eocic.tables.TableValidationError
        A table breaks its schema.
    """
    loaded = {"sbs": schemas.read_table(processed_dir, "sbs")}
    # the samples read the cluster scheme of the mapping only (variables.strong_cluster_share)
    filters = {"cluster_mapping": [("scheme", "==", "cluster")]}
    for name in ("regional_totals", "demography", "context", "cluster_mapping",
                 "scheme_employment"):
        frame = schemas.read_table(processed_dir, name, missing_ok=True,
                                   filters=filters.get(name))
        if frame is not None:
            loaded[name] = frame
    return loaded


def run_regressions(processed_dir: str | Path, report_dir: str | Path | None, *, year: int,
                    t0: int = 0, window: int = 5, specs: str = "", extra_specs: str = "",
                    grouping: str = "auto", same_sample: bool | None = None,
                    processed: dict[str, pd.DataFrame] | None = None,
                    data_dir: str | Path | None = None) -> RegressionRun:
    """Run the selected specifications and write the outputs.

    Parameters
    ----------
    processed_dir : path
        ``data/processed/<run_id>``; ``regressions.parquet`` is written here.
    report_dir : path or None
        ``reports/<run_id>``; tables and the figure go to ``<report_dir>/tables``. None: no
        report files.
    year : int
        Final year T of the growth window.
    t0 : int
        First year; 0 = ``year - window`` (or the first year with SBS data if later).
    specs, extra_specs : str
        Comma-separated table names (empty = all); path or YAML text of user specifications.
    grouping : str
        See :func:`choose_grouping`.
    same_sample : bool, optional
        Override every table's ``same_sample`` option.
    processed : dict, optional
        Already loaded processed tables (default: read from ``processed_dir``).
    data_dir : path, optional
        The run's raw data folder (grouping ``demo`` reads the demo's ``truth.json`` there).
    """
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    data = processed if processed is not None else load_tables(processed_dir)
    registry = specifications.load_registry(extra_specs or None)
    chosen = specifications.select_tables(registry, specs)
    start, end = variables.growth_window(data["sbs"]["year"], year, t0, window)
    grouping_frame, grouping_note = choose_grouping(
        grouping, data["sbs"]["nace_r2"].unique(), processed_dir=processed_dir, year=start,
        data_dir=data_dir)
    units = tuple(dict.fromkeys(table.unit for table in chosen))
    samples = variables.build_samples(data, grouping_frame, start, end, units)
    seconds["samples"] = time.perf_counter() - clock
    estimated = estimation.estimate_registry(chosen, samples, same_sample)
    seconds["estimation"] = time.perf_counter() - clock - seconds["samples"]
    tidy = estimation.results_frame(estimated, t0=start, T=end)
    paths = [schemas.write_table(tidy, "regressions", processed_dir)]
    figure = (None if tidy.empty else
              render(figures.coefficient_plot(tidy, title=f"Coefficients, growth {start}-{end}")))
    if report_dir is not None:
        table_dir = Path(report_dir) / "tables"
        paths += tables.write_tables(estimated, table_dir)
        if figure is not None:
            paths.append(figure.save(table_dir / "coefficients.png"))
    seconds["total"] = time.perf_counter() - clock
    return RegressionRun(samples, estimated, tidy, grouping_note, start, end, paths, seconds,
                         figure)
