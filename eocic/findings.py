"""Key findings of a run, in words, for the landing page (``reports/<run_id>/index.html``).

Each finding is computed from a processed table of the run (never typed by hand) and is
skipped when the stage that writes the table has not run. A finding is a short sentence with
the numbers that support it; the stage reports hold the detail.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd


def _read(processed_dir: Path, name: str) -> pd.DataFrame | None:
    path = processed_dir / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _region_names() -> dict[str, str]:
    try:
        from eocic.nuts import regions

        table = regions(2021, include_uk=True)
        return dict(zip(table["geo"], table["name"]))
    except Exception:  # names are a courtesy; codes are enough
        return {}


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
    schemes = set(mapping["scheme"])
    scheme = "cluster" if "cluster" in schemes else "sector"
    current = mapping[(mapping["scheme"] == scheme) & (mapping["year"] == year)]
    clusters = current[current["is_cluster"].fillna(False).astype(bool)]
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
        f"{len(clusters):,} regional clusters ({scheme} scheme, LQ &ge; 2) in {year}: "
        f"{counts.get('high', 0):,} high-performing, {counts.get('medium', 0):,} medium, "
        f"{counts.get('basic', 0):,} basic; {share_text}."
    ]
    top = clusters[clusters["performance_class"] == "high"].nlargest(3, "employment")
    if len(top):
        listed = "; ".join(
            f"{html.escape(row.category_name)} in {html.escape(names.get(row.geo, row.geo))} "
            f"({row.employment:,.0f} "
            f"persons, LQ {row.lq:.1f})" for row in top.itertuples())
        findings.append(f"Largest high-performing clusters: {listed}.")
    if "estimated_share" in current.columns:
        weight = current["employment"].fillna(0.0)
        estimated = (current["estimated_share"].fillna(0.0) * weight).sum() / weight.sum()
        resting = clusters[clusters["estimated_share"] >= 0.5]
        apportioned = current.loc[current["apportioned"].astype(bool), "geo"].nunique()
        findings.append(
            f"{estimated:.1%} of the employment mapped rests on estimates of cells Eurostat "
            f"keeps confidential (estimated to add up to the published totals); "
            f"{len(resting):,} of the clusters rest mostly on them"
            + (f"; {apportioned} regions split by a NUTS revision carry values apportioned "
               "from their former region" if apportioned else "")
            + ". Both are flagged in the tables and maps of the stage reports.")
    return findings


def scoreboard_findings(scoreboard: pd.DataFrame, year: int, names: dict[str, str]) -> list[str]:
    """The top regions of each composite index, with their 5-95% rank interval."""
    index = scoreboard[scoreboard["level"] == "index"]
    if index.empty:
        return []
    latest = index[index["year"] == (year if (index["year"] == year).any() else index["year"].max())]
    findings = []
    for code, group in latest.groupby("code", sort=True):
        top = group.nsmallest(3, "rank")
        listed = ", ".join(
            f"{html.escape(names.get(row.geo, row.geo))} (rank {row.rank:.0f}, 90% interval "
            f"{row.rank_p05:.0f}-{row.rank_p95:.0f})" for row in top.itertuples())
        findings.append(f"Scoreboard index <code>{html.escape(code)}</code>, top regions: "
                        f"{listed}.")
    return findings


def regression_findings(regressions: pd.DataFrame) -> list[str]:
    """Sign and significance of the first model of each specification's key terms."""
    findings = []
    for spec, group in regressions.groupby("spec", sort=True):
        model = group["model"].iloc[0]
        terms = group[(group["model"] == model) & (group["term"] != "Intercept")]
        terms = terms[~terms["term"].str.startswith("C(")].head(3)
        if terms.empty:
            continue
        listed = "; ".join(
            f"{html.escape(row.term)} {row.coef:+.3g} (s.e. {row.se:.2g}{', p &lt; 0.05' if row.pvalue < 0.05 else ''})"
            for row in terms.itertuples())
        proxy = ""
        if "proxy_for" in terms.columns and terms["proxy_for"].notna().any():
            dependent = terms["dependent"].iloc[0] if "dependent" in terms.columns else "a proxy"
            proxy = (f" [proxy: {html.escape(str(dependent))} stands in for data the source "
                     "lacks]")
        findings.append(f"Specification {html.escape(spec)} ({html.escape(model)}, "
                        f"N = {int(terms['nobs'].iloc[0]):,}){proxy}: {listed}.")
    return findings


def key_findings(processed_dir: Path, year: int) -> list[str]:
    """All findings the run's tables support, as HTML-safe sentences (empty if none)."""
    processed_dir = Path(processed_dir)
    names = None
    findings: list[str] = []
    mapping = _read(processed_dir, "cluster_mapping")
    scheme_totals = _read(processed_dir, "scheme_employment")
    context = _read(processed_dir, "context")
    scoreboard = _read(processed_dir, "scoreboard")
    regressions = _read(processed_dir, "regressions")
    if mapping is not None or scoreboard is not None:
        names = _region_names()
    if mapping is not None:
        from eocic.clusters.stars import total_employment

        findings += cluster_findings(mapping, year, names or {}, scheme_totals=scheme_totals,
                                     total_employment=total_employment(context, year))
    if scoreboard is not None:
        findings += scoreboard_findings(scoreboard, year, names or {})
    if regressions is not None:
        findings += regression_findings(regressions)
    return findings
