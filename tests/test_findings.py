"""Key findings on the landing page are computed from the run's tables.

The unit tests feed hand-made tables with the schema of the real ones
(:func:`schema_frames.complete`); ``test_findings_of_the_demo_study`` feeds the tables the whole
study wrote (e2e), and ``tests/test_models_demo.py`` the regressions of a run without business
demography, where table B uses its proxies.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from eocic.findings import (
    cluster_findings, key_findings, regression_findings, scoreboard_coverage, scoreboard_findings,
)
from schema_frames import complete, write


def _mapping() -> pd.DataFrame:
    rows = [
        # geo, category, name, employment, lq, is_cluster, class
        ("AT11", "CL05", "Automotive", 500.0, 3.0, True, "high"),
        ("AT12", "CL05", "Automotive", 100.0, 2.2, True, "basic"),
        ("AT13", "CL05", "Automotive", 400.0, 0.5, False, None),
        ("AT11", "CL24", "Hospitality & Tourism", 1000.0, 1.0, False, None),
    ]
    frame = pd.DataFrame(rows, columns=["geo", "category", "category_name", "employment", "lq",
                                        "is_cluster", "performance_class"])
    return complete("cluster_mapping", frame.assign(
        specialisation_star=frame["is_cluster"], stars=[3, 1, 0, 0]),
        scheme="cluster", year=2020, growth_years=5, weight_basis="class_count",
        incomplete=0.0, local_units_incomplete=0.0, wages_incomplete=0.0,
        estimated_share=0.0)


def _scheme_totals() -> pd.DataFrame:
    return complete("scheme_employment", pd.DataFrame({
        "geo": ["AT11", "AT12", "AT13"], "employment": [1500.0, 100.0, 400.0],
        "cluster_employment": [500.0, 100.0, 0.0],
        "regional_employment": [3000.0, 1000.0, 1000.0]}), scheme="cluster", year=2020)


def _regressions(rows: list[dict], **values) -> pd.DataFrame:
    """The regressions table: one dict per coefficient, the rest as stage 04 writes it."""
    from eocic.models.variables import VARIABLE_LABELS

    frame = pd.DataFrame(rows)
    defaults = dict(label=[VARIABLE_LABELS.get(t, t) for t in frame["term"]], se=0.004,
                    tstat=-5.0, pvalue=0.0001, ci_low=0.0, ci_high=0.0, nobs=1000, n_groups=242,
                    rsquared=0.3, estimator="ols", covariance="clustered by geo", t0=2015,
                    T=2020) | values
    return complete("regressions", frame, **defaults)


def test_cluster_counts_and_share():
    mapping = _mapping()
    mapping["estimated_share"] = [0.6, 0.0, 0.0, 0.2]
    mapping["apportioned"] = [False, True, False, False]
    lfs = pd.Series({"AT11": 4000.0, "AT12": 1000.0})  # AT13 without LFS data
    findings = cluster_findings(mapping, 2020, {"AT11": "Burgenland"},
                                scheme_totals=_scheme_totals(), total_employment=lfs)
    # 2 clusters: 1 high, 0 medium, 1 basic; (500 + 100) / (4000 + 1000) = 12.0 % of total
    # employment over the regions with LFS data
    assert "2 regional clusters" in findings[0]
    assert "1 high-performing, 0 medium, 1 basic" in findings[0]
    assert "12.0% of total employment in the 2 regions with LFS data" in findings[0]
    assert "Automotive in Burgenland (500 persons, LQ 3.0)" in findings[1]
    # (0.6 x 500 + 0.2 x 1000) / 2000 = 25 % estimated; one cluster (AT11) mostly estimated
    assert findings[2].startswith("25.0% of the employment mapped rests on estimates")
    assert "1 of the clusters rest mostly on them; 1 regions split" in findings[2]
    without_lfs = cluster_findings(mapping, 2020, {}, scheme_totals=_scheme_totals())
    assert "12.0% of business-economy employment" in without_lfs[0]  # 600 / 5000


def test_scoreboard_top_regions_with_interval():
    scoreboard = complete("scoreboard", pd.DataFrame({
        "geo": ["AT11", "AT12", "AT13"], "score": [50.0, 70.0, 60.0], "rank": [3, 1, 2],
        "rank_p05": [2.0, 1.0, 1.0], "rank_p95": [3.0, 2.0, 3.0]}),
        index_code="ecosystem", year=2020, level="index", code="ecosystem",
        name="Regional ecosystem", imputed_share=0.0)
    text = scoreboard_findings(scoreboard, 2020, {})[0]
    assert text.startswith("Regional ecosystem (scoreboard index), top regions in 2020")
    assert text.index("AT12 (rank 1, 90% interval 1-2)") < text.index("AT13") < text.index("AT11")


def _coverage_framework():
    from eocic.scoreboard.framework import parse_framework

    indicator = {"source": {"table": "context", "indicator": "rd_gerd_pc_gdp"}, "unit": "%",
                 "direction": 1, "rationale": "r"}
    return parse_framework({"version": 1, "indices": {"eco": {
        "name": "Eco <system>", "description": "d",
        "groups": [{"code": "dim_a", "name": "Research", "parent": "eco"},
                   {"code": "dim_b", "name": "Entrepreneurship", "parent": "eco"},
                   {"code": "dim_c", "name": "Quality of governance", "parent": "eco",
                    "placeholder": True}],
        "indicators": [dict(indicator, code="gerd", name="[proxy] GERD", parent="dim_a"),
                       dict(indicator, code="berd", name="BERD", parent="dim_a"),
                       dict(indicator, code="births", name="Births", parent="dim_b")],
        "not_available": [{"name": "EQI", "parent": "dim_c", "reason": "not offline"}],
    }}}, "coverage.yaml")


def test_scoreboard_coverage_counts_measured_against_the_framework():
    """Only GERD (a proxy here) survived screening: 1 of 3 indicators, 1 of 3 dimensions; the
    dimension that lost its indicators and the placeholder (governance) are named with their
    reasons, the dimension left with proxies only is named, and the index name from the
    framework is escaped."""
    rows = [("index", "eco"), ("dimension", "dim_a"), ("indicator", "gerd")]
    scoreboard = complete("scoreboard", pd.DataFrame({
        "level": [level for level, _ in rows], "code": [code for _, code in rows],
        "name": ["Eco", "Research", "GERD"]}),
        index_code="eco", geo="AT11", year=2014, score=50.0, rank=1, imputed_share=0.0)
    (text,) = scoreboard_coverage(scoreboard, _coverage_framework(), 2014)
    assert text.startswith("Eco &lt;system&gt; (scoreboard index): 1 of 3 indicators and 1 of 3 "
                           "dimensions measured in 2014 after screening; not measured: "
                           "Entrepreneurship (no indicator survived screening); Quality of "
                           "governance (no open regional data source); measured by proxies "
                           "only: Research. The ranking below rests on the measured dimensions "
                           "only.")
    full = pd.concat([scoreboard, scoreboard.assign(level="dimension", code="dim_b"),
                      scoreboard.assign(code="berd"), scoreboard.assign(code="births")])
    (text,) = scoreboard_coverage(full, _coverage_framework(), 2014)
    assert "3 of 3 indicators and 2 of 3 dimensions" in text
    assert "not measured: Quality of governance (no open regional data source). " in text
    assert "proxies only" not in text  # Research keeps BERD, which is no proxy
    unknown = scoreboard.assign(index_code="other")
    assert scoreboard_coverage(unknown, _coverage_framework(), 2014) == [
        "Eco (scoreboard index): 1 indicators in 1 dimensions measured in 2014."]
    assert scoreboard_coverage(scoreboard.iloc[0:0], _coverage_framework(), 2014) == []


def test_regression_terms_in_words_and_escaping():
    regressions = _regressions([
        {"spec": "A", "model": "Employment (1)", "term": "ln_lq_t0", "coef": -0.0213,
         "pvalue": 0.0001, "dependent": "employment_growth"},
        {"spec": "A", "model": "Employment (1)", "term": "x<y", "coef": 0.5, "pvalue": 0.2,
         "dependent": "employment_growth"}])
    (text,) = regression_findings(regressions)
    assert text.startswith("Regression table A, model Employment (1) (OLS, N = 1,000, "
                           "2015-2020), outcome employment growth (annual, log): ")
    # the label with the first year of the window, not the variable's name
    assert "location quotient of the region's own sector (log), 2015 -0.0213 (s.e. 0.004, " \
           "p &lt; 0.05)" in text
    assert "x&lt;y +0.5 (s.e. 0.004)" in text and "ln_lq_t0" not in text
    assert "proxy" not in text.lower()  # the outcome is the real thing: no proxy sentence


def test_proxies_name_the_proxied_variable_and_what_stands_in_for_it():
    """Table B without business demography: local units stand in for enterprise births, both
    as the outcome and as the initial level (dependent_proxy_for and proxy_for)."""
    regressions = _regressions([
        {"spec": "B", "model": "Births (1)", "term": "ln_local_units_t0", "coef": -0.05,
         "proxy_for": "ln_births_t0"},
        {"spec": "B", "model": "Births (1)", "term": "ln_lq_section_t0", "coef": 0.01}],
        dependent="local_units_growth", dependent_proxy_for="births_growth", nobs=2651)
    (text,) = regression_findings(regressions)
    assert "outcome local units growth (annual, log):" in text
    assert text.endswith(
        "Proxies, for data the source lacks: local units growth (annual, log) stands in for "
        "enterprise births growth (annual, log); local units (log), 2015 stands in for "
        "enterprise births (log), 2015.")
    # a regressor standing in for another, the outcome being the real one
    regressions = _regressions([
        {"spec": "C", "model": "ln GDP per head, T (1)", "term": "ln_population_t0",
         "coef": 0.1, "proxy_for": "ln_population_density_t0"}],
        dependent="ln_gdp_per_head_T", n_groups=27)
    (text,) = regression_findings(regressions)
    assert "outcome GDP per head (EUR, log), 2020:" in text
    assert text.endswith("Proxies, for data the source lacks: population (log), 2015 stands "
                         "in for population density (log), 2015.")


def test_no_tables_no_findings(tmp_path):
    assert key_findings(tmp_path, 2020) == []
    write(tmp_path, "cluster_mapping", _mapping())
    assert "Hospitality &amp; Tourism" not in " ".join(key_findings(tmp_path, 2020))
    assert len(key_findings(tmp_path, 2020)) == 3
    write(tmp_path, "scheme_employment", _scheme_totals())
    assert "of business-economy employment" in key_findings(tmp_path, 2020)[0]


def test_a_table_breaking_its_schema_is_refused(tmp_path):
    from eocic.tables import TableValidationError

    broken = _regressions([{"spec": "A", "model": "m", "term": "ln_lq_t0", "coef": -0.02,
                            "dependent": "employment_growth"}])
    broken["proxy_for"] = ""  # what stage 04 wrote before proxies were null
    broken.to_parquet(tmp_path / "regressions.parquet")
    with pytest.raises(TableValidationError, match=r"regressions\.parquet.*proxy_for.*"
                                                   r"Re-run stage 04"):
        key_findings(tmp_path, 2020)


@pytest.mark.e2e
def test_findings_of_the_demo_study(demo_study):
    """The findings of the tables the whole demo study wrote: the outcome of table A is real
    SBS employment growth (no proxy sentence); table C uses population for population density
    (the demo has no region areas) and says so; no variable name reaches the page."""
    findings = key_findings(demo_study / "data" / "processed" / "demo-2020", 2020)
    text = "\n".join(findings)
    assert re.search(r"^[\d,]+ regional clusters \(cluster scheme", findings[0])
    assert "(scoreboard index), top regions in 2020" in text and "90% interval" in text
    coverage = [f for f in findings if "dimensions measured in 2020 after screening" in f]
    assert len(coverage) == 2, findings  # one per index, before its ranking
    assert any("Quality of governance (no open regional data source)" in f for f in coverage)
    table_a = next(f for f in findings if f.startswith("Regression table A,"))
    assert "outcome employment growth (annual, log):" in table_a
    assert "location quotient of the region's own sector (log), 2015" in table_a
    assert "Proxies" not in table_a and "stands in" not in table_a
    table_b = next(f for f in findings if f.startswith("Regression table B,"))
    assert "outcome enterprise births growth (annual, log)" in table_b and "Proxies" not in table_b
    table_c = next(f for f in findings if f.startswith("Regression table C,"))
    assert "population (log), 2015 stands in for population density (log), 2015" in table_c
    assert not re.search(r"\b(ln_\w+|\w+_t0|\w+_T)\b", text), text
