"""Key findings on the landing page are computed from the run's tables."""

from __future__ import annotations

import pandas as pd

from eocic.findings import cluster_findings, key_findings, regression_findings, scoreboard_findings


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
    return frame.assign(scheme="cluster", year=2020)


def _scheme_totals() -> pd.DataFrame:
    return pd.DataFrame({"geo": ["AT11", "AT12", "AT13"], "scheme": "cluster", "year": 2020,
                         "employment": [1500.0, 100.0, 400.0],
                         "cluster_employment": [500.0, 100.0, 0.0],
                         "regional_employment": [3000.0, 1000.0, 1000.0]})


def test_cluster_counts_and_share():
    mapping = _mapping().assign(estimated_share=[0.6, 0.0, 0.0, 0.2],
                                apportioned=[False, True, False, False])
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
    scoreboard = pd.DataFrame({
        "geo": ["AT11", "AT12", "AT13"], "year": 2020, "level": "index", "code": "ecosystem",
        "score": [50.0, 70.0, 60.0], "rank": [3.0, 1.0, 2.0], "rank_p05": [2.0, 1.0, 1.0],
        "rank_p95": [3.0, 2.0, 3.0], "imputed_share": 0.0})
    text = scoreboard_findings(scoreboard, 2020, {})[0]
    assert text.index("AT12 (rank 1, 90% interval 1-2)") < text.index("AT13") < text.index("AT11")


def test_regression_terms_and_escaping():
    regressions = pd.DataFrame({
        "spec": "A", "model": "employment", "term": ["Intercept", "C(geo)[T.AT12]", "ln_lq_own"],
        "coef": [1.0, 0.1, -0.0213], "se": [0.1, 0.1, 0.004], "pvalue": [0.0, 0.5, 0.0001],
        "ci_low": 0.0, "ci_high": 0.0, "nobs": 1000})
    text = regression_findings(regressions)[0]
    assert "ln_lq_own -0.0213 (s.e. 0.004, p &lt; 0.05)" in text and "C(geo)" not in text
    assert "N = 1,000" in text


def test_no_tables_no_findings(tmp_path):
    assert key_findings(tmp_path, 2020) == []
    _mapping().to_parquet(tmp_path / "cluster_mapping.parquet")
    assert "Hospitality &amp; Tourism" not in " ".join(key_findings(tmp_path, 2020))
    assert len(key_findings(tmp_path, 2020)) == 2
    _scheme_totals().to_parquet(tmp_path / "scheme_employment.parquet")
    assert "of business-economy employment" in key_findings(tmp_path, 2020)[0]


def test_proxy_models_say_so():
    regressions = pd.DataFrame({
        "spec": "B", "model": "Births (1)", "term": ["ln_local_units_t0"], "coef": [-0.05],
        "se": [0.004], "pvalue": [0.0], "ci_low": 0.0, "ci_high": 0.0, "nobs": 2651,
        "dependent": "local_units_growth", "proxy_for": "ln_births_t0"})
    assert "[proxy: local_units_growth" in regression_findings(regressions)[0]
