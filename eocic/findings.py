"""Key findings of a run, in words, for the landing page (``reports/<run_id>/index.html``).

Each finding is computed from a processed table of the run (never typed by hand), read and
checked against its schema (:func:`eocic.tables.read_table`), and is skipped when the stage
that writes the table has not run. A finding is a short sentence with the numbers that support
it; the stage reports hold the detail. Variables are named in words
(:data:`eocic.models.variables.VARIABLE_LABELS`, with the years of the growth window), and a
regression says which variable stands in for which only where a proxy was really used (the
``proxy_for`` and ``dependent_proxy_for`` columns of the ``regressions`` table).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from eocic import tables


def region_names() -> dict[str, str]:
    from eocic.nuts import regions

    table = regions(2021, include_uk=True)
    return dict(zip(table["geo"], table["name"]))


def cluster_findings(mapping: pd.DataFrame, year: int, names: dict[str, str], *,
                     scheme_totals: pd.DataFrame | None = None,
                     total_employment: pd.Series | None = None) -> list[str]:
    """Clusters by performance class, their share of employment, the largest high-performing
    clusters, and how much rests on estimates, in ``year``.

    Uses the ``cluster`` scheme when mapped, else ``sector``. Categories identical at the
    resolution of the data are already merged, so each cluster counts once. The clusters'
    employment (every division once: ``scheme_totals``) is compared like with like with the
    EOCIC 2020 Panorama: as a share of total employment (LFS, ``total_employment``, persons by
    region) with its 23.4 %, else as a share of the business economy (no Panorama figure).
    """
    schemes = set(mapping["scheme"].unique())
    scheme = "cluster" if "cluster" in schemes else "sector"
    current = mapping[(mapping["scheme"] == scheme) & (mapping["year"] == year)]
    clusters = current[current["is_cluster"]]
    if current.empty:
        return []
    counts = clusters["performance_class"].value_counts()
    by_region = (scheme_totals[(scheme_totals["scheme"] == scheme)
                               & (scheme_totals["year"] == year)].set_index("geo")
                 if scheme_totals is not None else None)
    if by_region is not None and total_employment is not None:
        both = pd.concat([by_region["cluster_employment"],
                          total_employment.rename("total")], axis=1).dropna()
        share_text = (f"they hold {both['cluster_employment'].sum() / both['total'].sum():.1%} of "
                      f"total employment in the {len(both)} regions with LFS data (EOCIC 2020 "
                      "Panorama: 2,950 clusters, 23.4% of total employment)")
    elif by_region is not None:
        share = by_region["cluster_employment"].sum() / by_region["regional_employment"].sum()
        share_text = (f"they hold {share:.1%} of business-economy employment (no LFS "
                      "employment in this run to compare with the Panorama's 23.4% of total "
                      "employment)")
    else:
        share_text = f"they employ {clusters['employment'].sum():,.0f} persons"
    findings = [
        f"{len(clusters):,} regional clusters ({scheme} scheme, location quotient &ge; 2) in "
        f"{year}: {counts.get('high', 0):,} high-performing, {counts.get('medium', 0):,} "
        f"medium, {counts.get('basic', 0):,} basic; {share_text}."
    ]
    top = clusters[clusters["performance_class"] == "high"].nlargest(3, "employment")
    if len(top):
        listed = "; ".join(
            f"{html.escape(row.category_name)} in {html.escape(names.get(row.geo, row.geo))} "
            f"({row.employment:,.0f} "
            f"persons, LQ {row.lq:.1f})" for row in top.itertuples())
        findings.append(f"Largest high-performing clusters: {listed}.")
    weight = current["employment"].fillna(0.0)
    estimated = (current["estimated_share"].fillna(0.0) * weight).sum() / weight.sum()
    resting = clusters[clusters["estimated_share"] >= 0.5]
    apportioned = current.loc[current["apportioned"], "geo"].nunique()
    findings.append(
        f"{estimated:.1%} of the employment mapped rests on estimates of cells Eurostat "
        f"keeps confidential (estimated to add up to the published totals); "
        f"{len(resting):,} of the clusters rest mostly on them"
        + (f"; {apportioned} regions split by a NUTS revision carry values apportioned "
           "from their former region" if apportioned else "")
        + ". Both are flagged in the tables and maps of the stage reports.")
    return findings


def scoreboard_coverage(scoreboard: pd.DataFrame, framework, year: int) -> list[str]:
    """Per composite index, how much of the framework was actually measured in ``year``.

    Counts the indicators and dimensions that have rows in ``scoreboard`` (those that survived
    screening and aggregation) against those the framework defines (``framework``: a
    :class:`~eocic.scoreboard.framework.Framework`; placeholder dimensions, which have no open
    data, count in the framework's total), and names every dimension left unmeasured with the
    reason: a placeholder has no open regional source (its ``not_available`` entries say
    which), any other dimension lost all its indicators to screening. A measured dimension
    whose surviving indicators are all proxies (names starting ``[proxy]``) is named too. The
    reason: an index
    ranks regions on what was measured, and a reader must see when whole dimensions (say,
    entrepreneurship or governance) are missing before reading the ranking. An index absent
    from ``framework`` is reported with its measured counts only.
    """
    if scoreboard.empty:
        return []
    rows = scoreboard[scoreboard["year"] == (year if (scoreboard["year"] == year).any()
                                             else scoreboard["year"].max())]
    findings = []
    for code, group in rows.groupby("index_code", sort=True):
        measured_indicators = set(group.loc[group["level"] == "indicator", "code"])
        measured_dimensions = set(group.loc[group["level"] == "dimension", "code"])
        index_rows = group[group["level"] == "index"]
        name = index_rows["name"].iloc[0] if not index_rows.empty else code
        in_year = int(group["year"].iloc[0])
        index = framework.indices.get(code) if framework is not None else None
        if index is None:
            findings.append(f"{html.escape(str(name))} (scoreboard index): "
                            f"{len(measured_indicators)} indicators in "
                            f"{len(measured_dimensions)} dimensions measured in {in_year}.")
            continue
        dimensions = [g for g in index.groups if g.level == "dimension"]
        unmeasured = []
        for dimension in dimensions:
            if dimension.code in measured_dimensions:
                continue
            reason = ("no open regional data source" if dimension.placeholder
                      else "no indicator survived screening")
            unmeasured.append(f"{html.escape(dimension.name)} ({reason})")
        sentence = (f"{html.escape(index.name)} (scoreboard index): "
                    f"{len(measured_indicators & set(index.indicator_codes))} of "
                    f"{len(index.indicators)} indicators and "
                    f"{len(measured_dimensions & {d.code for d in dimensions})} of "
                    f"{len(dimensions)} dimensions measured in {in_year} after screening")
        proxies_only = [
            html.escape(dimension.name) for dimension in dimensions
            if dimension.code in measured_dimensions
            and (kept := [c for c in index.leaves_under(dimension.code)
                          if c in measured_indicators])
            and all(index.indicator(c).name.startswith("[proxy]") for c in kept)]
        sentence += (f"; not measured: {'; '.join(unmeasured)}" if unmeasured else "")
        sentence += (f"; measured by proxies only: {'; '.join(proxies_only)}"
                     if proxies_only else "")
        sentence += (". The ranking below rests on the measured dimensions only."
                     if unmeasured else ".")
        findings.append(sentence)
    return findings


def scoreboard_findings(scoreboard: pd.DataFrame, year: int, names: dict[str, str]) -> list[str]:
    """The top regions of each composite index, with their 5-95% rank interval.

    The top three ranks, and every region tied with them (tied regions share a rank, see
    :mod:`eocic.scoreboard.ranks`; none is dropped for its code), listed by rank then code."""
    index = scoreboard[scoreboard["level"] == "index"]
    if index.empty:
        return []
    latest = index[index["year"] == (year if (index["year"] == year).any() else index["year"].max())]
    findings = []
    for _, group in latest.groupby("index_code", sort=True):
        top = group.nsmallest(3, "rank", keep="all").sort_values(["rank", "geo"],
                                                                 kind="mergesort")
        listed = ", ".join(
            f"{html.escape(names.get(row.geo, row.geo))} (rank {row.rank:.0f}"
            + (f", 90% interval {row.rank_p05:.0f}-{row.rank_p95:.0f}"
               if pd.notna(row.rank_p05) else "") + ")" for row in top.itertuples())
        findings.append(f"{html.escape(group['name'].iloc[0])} (scoreboard index), top regions "
                        f"in {int(group['year'].iloc[0])}: {listed}.")
    return findings


def _rho_text(row) -> str:
    return ("n/a" if pd.isna(row.spearman) else f"{row.spearman:.2f}") + f" (n = {row.matched})"


def external_reference_findings(processed_dir: Path, *, synthetic: bool,
                                folder: Path | None = None) -> list[str]:
    """Spearman rank correlation of each open index with the published RCI (2016 and 2019
    editions) and RIS 2023 summary index (2016-2023), years matched as
    :mod:`eocic.scoreboard.external` states; HTML-safe sentences, empty when the run has no
    ``scoreboard`` table. ``synthetic`` (a demo run) puts first a sentence saying the
    correlations are no evidence. Reference files absent from the shared data folder
    (``folder``, default ``$EOCIC_SHARED_DATA``) are named.

    Raises
    ------
    eocic.tables.TableValidationError
        The scoreboard table breaks its schema.
    eocic.scoreboard.external.ExternalReferenceError
        A reference file is present but not in its published layout.
    """
    from eocic.scoreboard import external

    scoreboard = tables.read_table(Path(processed_dir), "scoreboard", missing_ok=True)
    if scoreboard is None:
        return []
    index_rows = scoreboard[scoreboard["level"] == "index"]
    checks, messages = external.reference_correlations(
        index_rows[["index_code", "geo", "year", "score"]], folder)
    findings = []
    if synthetic:
        findings.append("Demo data: the open indices are computed on a synthetic economy, so "
                        "their correlations with the published indices say nothing about the "
                        "method; they are only meaningful on real data.")
    findings += [f"Not checked: {html.escape(message)}." for message in messages]
    names = index_rows.drop_duplicates("index_code").set_index("index_code")["name"]
    for index_code, rows in checks.groupby("index_code", sort=True):
        parts = []
        reached = rows[rows["note"] == ""]
        for row in reached[reached["reference"] == "RCI"].itertuples():
            parts.append(f"RCI {row.edition} (open index {row.index_year}) {_rho_text(row)}")
        ris = reached[reached["reference"] == "RIS 2023 summary index"]
        if len(ris):
            lag = int(ris["reference_year"].iloc[0] - ris["index_year"].iloc[0])
            parts.append(f"RIS 2023 summary index by year (open index {lag} years earlier) "
                         + ", ".join(f"{row.reference_year}: {_rho_text(row)}"
                                     for row in ris.itertuples()))
        for row in reached[reached["reference"] == "RIS 2019 RII"].itertuples():
            parts.append(f"RIS 2019 RII (rough check) {_rho_text(row)}")
        unreached = rows[rows["note"] != ""].groupby("reference", sort=False)["reference_year"]
        missing = ("; not compared, the open index has no score for the matched year: "
                   + "; ".join(f"{reference} {', '.join(map(str, years))}"
                               for reference, years in unreached)) if len(unreached) else ""
        name = names.get(index_code, index_code)
        findings.append(html.escape(
            f"{name}: Spearman rank correlation with published indices (n = matched NUTS-2 "
            f"regions): {'; '.join(parts) if parts else 'no year matched'}{missing}.",
            quote=False))
    return findings


def _in_words(name: str, t0: int, T: int) -> str:
    """Variable ``name`` in words inside a sentence: its label (VARIABLE_LABELS) with the years
    of the growth window for t0 and T, the first letter in lower case unless it starts an
    acronym (GDP, LQ)."""
    from eocic.models.variables import VARIABLE_LABELS

    label = VARIABLE_LABELS.get(name, name)
    label = re.sub(r", t0$", f", {t0}", re.sub(r", T$", f", {T}", label))
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        label = label[0].lower() + label[1:]
    return label


def regression_findings(regressions: pd.DataFrame) -> list[str]:
    """Sign and significance of the first model of each specification's key terms.

    ``regressions`` is the ``regressions`` table (:data:`eocic.tables.REGRESSIONS`). Each
    sentence names the outcome and the regressors in words; where the model uses a proxy (the
    dependent variable or a shown regressor stands in for a variable the source lacks) it says
    which variable stands in for which.
    """
    findings = []
    for spec, group in regressions.groupby("spec", sort=True):
        model = group["model"].iloc[0]
        rows = group[group["model"] == model]
        terms = rows[(rows["term"] != "Intercept") & ~rows["term"].str.startswith("C(")].head(3)
        if terms.empty:
            continue
        first = terms.iloc[0]
        t0, T = int(first["t0"]), int(first["T"])

        def words(name: str) -> str:
            return html.escape(_in_words(name, t0, T), quote=False)

        listed = "; ".join(
            f"{words(row.term)} {row.coef:+.3g} (s.e. {row.se:.2g}"
            f"{', p &lt; 0.05' if row.pvalue < 0.05 else ''})" for row in terms.itertuples())
        proxies = []
        if pd.notna(first["dependent_proxy_for"]):
            proxies.append((first["dependent"], first["dependent_proxy_for"]))
        proxies += [(row.term, row.proxy_for) for row in terms.itertuples()
                    if pd.notna(row.proxy_for)]
        proxy = ("" if not proxies else " Proxies, for data the source lacks: " + "; ".join(
            f"{words(used)} stands in for {words(original)}" for used, original in proxies)
            + ".")
        findings.append(
            f"Regression table {html.escape(spec)}, model {html.escape(model)} "
            f"({html.escape(first['estimator'].upper())}, N = {int(first['nobs']):,}, "
            f"{t0}-{T}), outcome {words(first['dependent'])}: {listed}.{proxy}")
    return findings


def key_findings(processed_dir: Path, year: int) -> list[str]:
    """All findings the run's tables support, as HTML-safe sentences (empty if none).

    Raises
    ------
    eocic.tables.TableValidationError
        A table of the run breaks its schema.
    """
    processed_dir = Path(processed_dir)
    findings: list[str] = []

    def read(name: str) -> pd.DataFrame | None:
        return tables.read_table(processed_dir, name, missing_ok=True)

    from eocic.clusters.mapping import summary_rows

    mapping, _ = summary_rows(processed_dir, year)  # the rows cluster_findings reads
    scoreboard = read("scoreboard")
    regressions = read("regressions")
    names = region_names() if mapping is not None or scoreboard is not None else {}
    if mapping is not None:
        from eocic.clusters.stars import total_employment

        findings += cluster_findings(mapping, year, names, scheme_totals=read("scheme_employment"),
                                     total_employment=total_employment(read("context"), year))
    if scoreboard is not None:
        from eocic.scoreboard.framework import load_framework

        findings += scoreboard_coverage(scoreboard, load_framework(), year)
        findings += scoreboard_findings(scoreboard, year, names)
    if regressions is not None:
        findings += regression_findings(regressions)
    return findings
