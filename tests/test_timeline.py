"""Key figures across years (eocic.timeline), checked by hand on schema-true tables."""

from __future__ import annotations

import math

import pandas as pd

from eocic import tables, timeline
from schema_frames import complete, write
from test_findings import _mapping, _regressions, _scheme_totals


def _scoreboard() -> pd.DataFrame:
    return complete("scoreboard", pd.DataFrame({
        "geo": ["AT11", "AT12", "AT13"], "score": [50.0, 70.0, 70.0], "rank": [3, 1, 1]}),
        index_code="tiny", year=2020, level="index", code="tiny", name="Tiny index",
        imputed_share=0.0)


def test_year_figures_by_hand(tmp_path):
    folder = tmp_path / "demo-2020"
    write(folder, "cluster_mapping", _mapping())
    write(folder, "scheme_employment", _scheme_totals())
    write(folder, "scoreboard", _scoreboard())
    write(folder, "regressions", _regressions(
        [{"spec": "B", "model": "Births (1)", "term": "ln_local_units_t0", "coef": -0.04,
          "dependent": "local_units_growth", "proxy_for": "ln_births_t0",
          "dependent_proxy_for": "births_growth"}], ci_low=-0.05, ci_high=-0.03))
    figures, problems = timeline.key_figures([(2020, "demo-2020", folder)],
                                             {"AT12": "Niederösterreich"})
    assert problems == {}
    value = figures.set_index("figure")["value"]
    # 2 clusters (AT11, AT12), one of class high; (500 + 100) / (3000 + 1000 + 1000) = 12 %
    assert value["clusters"] == 2 and value["high_clusters"] == 1
    assert math.isclose(value["cluster_employment_share"], 12.0)
    # tied first ranks: the lowest code's score, both regions named
    leader = figures[figures["figure"] == "leader:tiny"].iloc[0]
    assert leader["value"] == 70.0 and leader["text"] == "Niederösterreich (AT12), AT13 (AT13)"
    coefficient = figures[figures["figure"] == "regression:B:ln_local_units_t0"].iloc[0]
    assert (coefficient["value"], coefficient["ci_low"], coefficient["ci_high"]) == (
        -0.04, -0.05, -0.03)
    assert "which the source lacks" in coefficient["label"]  # the proxy is said
    tables.validate(figures, "key_figures")


def test_a_run_with_a_broken_table_has_no_figures_and_says_why(tmp_path):
    folder = tmp_path / "demo-2019"
    folder.mkdir()
    pd.DataFrame({"label": ["edited by hand"]}).to_parquet(folder / "cluster_mapping.parquet")
    figures, problems = timeline.key_figures([(2019, "demo-2019", folder)])
    assert figures.empty and "TableValidationError" in problems[2019]
    page = timeline.years_index_html(
        "demo-2019-2019", [{"year": 2019, "run_id": "demo-2019", "status": "complete",
                            "seconds": 1.0}], figures, synthetic=True, seconds=1.0,
        problems=problems, root=tmp_path)
    assert "2019: no key figures" in page and str(tmp_path) not in page


def test_the_status_badges_of_runs_across_years_have_their_colours():
    from eocic.report import _STATUS_COLOURS, status_badge

    # a complete year is green like a stage that ran; the grey of unknown statuses is for
    # "pending" / "not run" only
    assert _STATUS_COLOURS["complete"] == _STATUS_COLOURS["ok"] != _STATUS_COLOURS["pending"]
    page = timeline.years_index_html(
        "demo-2019-2020", [{"year": 2019, "run_id": "demo-2019", "status": "complete",
                            "seconds": 1.0},
                           {"year": 2020, "run_id": "demo-2020", "status": "failed",
                            "seconds": 2.0}],
        timeline.key_figures([])[0], synthetic=True, seconds=3.0)
    assert status_badge("complete") in page and _STATUS_COLOURS["complete"] in page
    assert _STATUS_COLOURS["failed"] in page
