"""The study across reference years: key figures over time, read from each year's run.

``eocic study --years 2013-2020`` (:func:`eocic.study.run_years`) runs the study once per
reference year, each into its own run (``reports/<source>-<year>/``, with its own index), and
then writes the run across years: the table ``key_figures``
(:data:`eocic.tables.KEY_FIGURES`, in ``data/processed/<run_id>/``) and the page
``reports/<run_id>/index.html`` with the development of the key figures and a link to every
year's index.

Each figure is computed from the processed tables of that year's run, read and checked
against their schemas (:func:`eocic.tables.read_table`), for the run's own reference year, with
the definitions the landing page of one run uses (:mod:`eocic.findings`); a figure whose table
the run lacks (a failed stage) is null, never zero.

Figures (:data:`FIGURES`)
-------------------------
``clusters``
    Region x category cells of the ``cluster`` scheme (``sector`` when no cluster scheme was
    mapped) with the specialisation star (LQ >= 2), in the reference year: a count.
``high_clusters``
    Of those, the clusters of performance class ``high`` (size and productivity stars too).
``cluster_employment_share``
    Employment of the clusters, every division counted once (``scheme_employment``), in % of
    the business-economy employment of the regions: ``100 x sum_r E_r,clusters / sum_r E_r``.
``leader:<index>``
    The region ranked first on each composite index of the scoreboard (``text``; ``value`` its
    score, 0-100; ties: the lowest region code, the others are listed in ``text``).
``regression:<spec>:<term>``
    The first coefficient of every regression table (``spec``) of stage 04, the first model:
    ``value`` the estimate, ``ci_low`` and ``ci_high`` its 95 % confidence interval (from the
    covariance stage 04 used), ``text`` both in words.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from eocic import tables
from eocic.atomic import atomic_path

#: The key figures, in words (prefixes for the per-index and per-regression figures).
FIGURES = {
    "clusters": "Clusters (region x category cells with LQ >= 2), count",
    "high_clusters": "High-performing clusters (size, specialisation and productivity stars), "
                     "count",
    "cluster_employment_share": "Employment in clusters, % of business-economy employment",
    "leader": "Region ranked first",
    "regression": "Coefficient",
}


def _row(year: int, run_id: str, figure: str, label: str, value: float | None,
         text: str | None = None, interval: tuple[float, float] | None = None) -> dict:
    return {"year": year, "run_id": run_id, "figure": figure, "label": label,
            "value": None if value is None else float(value), "text": text,
            "ci_low": None if interval is None else float(interval[0]),
            "ci_high": None if interval is None else float(interval[1])}


def year_figures(processed_dir: Path, year: int, run_id: str,
                 names: dict[str, str] | None = None) -> list[dict]:
    """The key figures (:data:`FIGURES`) of one year's run, as rows of ``key_figures``.

    Raises
    ------
    eocic.tables.TableValidationError
        A table of the run breaks its schema.
    """
    def read(name: str) -> pd.DataFrame | None:
        return tables.read_table(processed_dir, name, missing_ok=True)

    from eocic.clusters.mapping import summary_rows

    rows: list[dict] = []
    mapping, scheme = summary_rows(processed_dir, year)
    if mapping is not None:
        current = mapping
        clusters = current[current["is_cluster"].astype(bool)]
        rows.append(_row(year, run_id, "clusters", FIGURES["clusters"], len(clusters)))
        rows.append(_row(year, run_id, "high_clusters", FIGURES["high_clusters"],
                         int((clusters["performance_class"] == "high").sum())))
    totals = tables.read_table(processed_dir, "scheme_employment", missing_ok=True,
                               filters=[("year", "==", int(year))])
    if totals is not None and mapping is not None:
        current = totals[totals["scheme"] == scheme]
        both = current[["cluster_employment", "regional_employment"]].dropna()
        share = (100 * both["cluster_employment"].sum() / both["regional_employment"].sum()
                 if len(both) and both["regional_employment"].sum() > 0 else None)
        rows.append(_row(year, run_id, "cluster_employment_share",
                         FIGURES["cluster_employment_share"], share))
    index = tables.read_table(processed_dir, "scoreboard", missing_ok=True,
                              filters=[("level", "==", "index"), ("year", "==", int(year))])
    if index is not None:
        for code, group in index.groupby("index_code", sort=True):
            first = group[group["rank"] == group["rank"].min()].sort_values("geo")
            leaders = [f"{(names or {}).get(geo, geo)} ({geo})" for geo in first["geo"]]
            rows.append(_row(year, run_id, f"leader:{code}",
                             f"{FIGURES['leader']}: {group['name'].iloc[0]} (score 0-100)",
                             first["score"].iloc[0], ", ".join(leaders)))
    regressions = read("regressions")
    if regressions is not None:
        from eocic.models.variables import VARIABLE_LABELS

        for spec, group in regressions.groupby("spec", sort=True):
            model = group["model"].iloc[0]
            first = group[group["model"] == model].iloc[0]
            proxies = "".join(
                f"; {VARIABLE_LABELS.get(used, used)} stands in for "
                f"{VARIABLE_LABELS.get(specified, specified)}, which the source lacks"
                for used, specified in ((first["term"], first["proxy_for"]),
                                        (first["dependent"], first["dependent_proxy_for"]))
                if isinstance(specified, str))
            rows.append(_row(
                year, run_id, f"regression:{spec}:{first['term']}",
                f"{FIGURES['regression']} of {first['label']} on "
                f"{VARIABLE_LABELS.get(first['dependent'], first['dependent'])} "
                f"(table {spec}, {model}; t0-T: the growth window ending in the year{proxies})",
                first["coef"],
                f"{first['coef']:.3g} (95% CI {first['ci_low']:.3g} to {first['ci_high']:.3g})",
                (first["ci_low"], first["ci_high"])))
    return rows


def run_figures(processed_dir: Path, year: int, run_id: str,
                names: dict[str, str] | None = None) -> tuple[list[dict], str | None]:
    """The key-figure rows of one year's run (:func:`year_figures`) and, instead of raising,
    why it has none: ``(rows, None)``, or ``([], message)`` for a run whose table is missing or
    breaks its schema (a failed stage, an older eocic).

    ``eocic study --years`` calls it for each year as soon as that year's run is published,
    while other years still run; only the table of all years (:func:`figures_table`) and its
    chart are left for the end."""
    try:
        return year_figures(Path(processed_dir), year, run_id, names), None
    except (tables.TableNotFoundError, tables.TableValidationError) as error:
        return [], f"{type(error).__name__}: {error}"


def key_figures(runs: Sequence[tuple[int, str, Path]], names: dict[str, str] | None = None
                ) -> tuple[pd.DataFrame, dict[int, str]]:
    """The ``key_figures`` table of ``runs`` (``(year, run_id, processed folder)``), checked
    against its schema, and why some years have no figures: ``{year: message}`` for a run
    whose table is missing or breaks its schema (a failed stage, an older eocic); runs without
    analysis tables give no rows."""
    return figures_table({year: run_figures(Path(folder), year, run_id, names)
                          for year, run_id, folder in runs})


def figures_table(by_year: dict[int, tuple[list[dict], str | None]]
                  ) -> tuple[pd.DataFrame, dict[int, str]]:
    """The ``key_figures`` table (checked against its schema) and the problems per year, from
    each year's :func:`run_figures`."""
    rows = [row for year in sorted(by_year) for row in by_year[year][0]]
    problems = {year: problem for year, (_, problem) in sorted(by_year.items())
                if problem is not None}
    frame = (pd.DataFrame.from_records(rows) if rows else tables.empty_frame("key_figures"))
    frame = frame.sort_values(["figure", "year"], kind="mergesort", ignore_index=True)
    frame = frame.astype({"year": "int64", "value": "float64", "ci_low": "float64",
                          "ci_high": "float64"})
    return tables.validate(frame[tables.KEY_FIGURES.column_names], "key_figures",
                           where="eocic.timeline.key_figures"), problems


def figures_chart(figures: pd.DataFrame) -> str:
    """The numeric key figures over the years as small line charts, a PNG as a data URI
    (empty when fewer than two years have values)."""
    import matplotlib

    matplotlib.use("Agg")
    import textwrap

    import matplotlib.pyplot as plt

    numeric = figures.dropna(subset=["value"])
    numeric = numeric[numeric["figure"].isin(["clusters", "high_clusters",
                                              "cluster_employment_share"])
                      | numeric["figure"].str.startswith("regression:")]
    panels = [(figure, part) for figure, part in numeric.groupby("figure", sort=False)
              if part["year"].nunique() >= 2]
    if not panels:
        return ""
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for axis, (figure, part) in zip(axes.flat, panels):
        axis.plot(part["year"], part["value"], marker="o", color="#0969da")
        if part["ci_low"].notna().any():  # a coefficient: its 95 % confidence interval
            axis.fill_between(part["year"], part["ci_low"], part["ci_high"], color="#0969da",
                              alpha=0.15, linewidth=0, label="95% CI")
            axis.axhline(0, color="#57606a", linewidth=0.8)
        axis.set_title("\n".join(textwrap.wrap(part["label"].iloc[0], 48)), fontsize=8)
        ticks = sorted(part["year"].unique())
        axis.set_xticks(ticks, [str(year) for year in ticks])
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_key_figures(figures: pd.DataFrame, processed_dir: Path, report_dir: Path) -> None:
    """Write ``key_figures.parquet`` (validated) and, for readers, ``key_figures.csv``."""
    tables.write_tables({"key_figures": figures}, processed_dir)
    with atomic_path(Path(report_dir) / "key_figures.csv") as partial:
        figures.to_csv(partial, index=False)


def years_index_html(run_id: str, runs: Sequence[dict], figures: pd.DataFrame, *,
                     synthetic: bool, seconds: float, problems: dict[int, str] | None = None,
                     root: Path | None = None) -> str:
    """The page of the run across years: each year's run (status, time, link to its index),
    the key figures as a table (figures x years) and their development as charts.

    ``runs``: one dict per year with ``year``, ``run_id``, ``status`` and ``seconds``;
    ``problems``: why a year has no figures (from :func:`key_figures`; paths under ``root``
    are shown relative to it)."""
    from eocic.report import INDEX_CSS, status_badge, synthetic_banner_html

    run_rows = "".join(
        f"<tr><td>{run['year']}</td><td><a href='../{html.escape(run['run_id'])}/index.html'>"
        f"{html.escape(run['run_id'])}</a></td><td>{status_badge(run['status'])}</td>"
        f"<td class='num'>{run['seconds']:.1f}</td></tr>" for run in runs)
    years = sorted({run["year"] for run in runs})
    cells = {}
    for row in figures.itertuples():
        shown = row.text if isinstance(row.text, str) else (
            "" if pd.isna(row.value) else f"{row.value:,.3g}" if abs(row.value) < 1000
            else f"{row.value:,.0f}")
        cells[(row.figure, row.year)] = shown
    labels = figures.drop_duplicates("figure").set_index("figure")["label"]
    figure_rows = "".join(
        f"<tr><th>{html.escape(labels[figure])}</th>"
        + "".join(f"<td class='num'>{html.escape(cells.get((figure, year), '-'))}</td>"
                  for year in years) + "</tr>" for figure in labels.index)
    chart = figures_chart(figures)
    chart_html = (f"<img alt='Key figures over the reference years' src='{chart}' "
                  "style='max-width:100%'>" if chart else "")
    problem_html = "".join(
        f"<p class='err'>{year}: no key figures: "
        f"{html.escape(text.replace(str(root) + '/', '') if root else text)}</p>"
        for year, text in sorted((problems or {}).items()))
    banner = synthetic_banner_html() if synthetic else ""
    complete = sum(run["status"] == "complete" for run in runs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>eocic study across years {html.escape(run_id)}</title>
<style>
{INDEX_CSS}th {{ font-weight: 600; }}
</style></head><body>
<h1>eocic study across years: {html.escape(run_id)}</h1>{banner}
<p class="sub">{len(runs)} reference years ({years[0]}-{years[-1]}), {complete} complete;
{seconds:.1f} s in all. Each year is a run of its own, with its own index; the figures below
are read from those runs (definitions in <code>eocic.timeline</code>; the table is
<a href='key_figures.csv'>key_figures.csv</a>).</p>
<h2>Key figures over time</h2>
<table><thead><tr><th>figure</th>{''.join(f"<th class='num'>{y}</th>" for y in years)}</tr>
</thead><tbody>{figure_rows}</tbody></table>{problem_html}
{chart_html}
<h2>Runs</h2>
<table><thead><tr><th>year</th><th>run</th><th>status</th><th>seconds</th></tr></thead>
<tbody>{run_rows}</tbody></table>
</body></html>
"""

