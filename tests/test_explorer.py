"""Region explorer: the controller (headless), the exports, and the widget view wired to it.

The run folder is written by the tests from small hand-made tables that follow the output
contracts of stages 02-04 (cluster_mapping, scoreboard, peers, regressions), so expected
values are computed by hand here.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
import pytest

from eocic.explorer import controller as explorer_controller
from eocic.explorer.controller import ExplorerError, RegionExplorer
from eocic.models.variables import VARIABLE_LABELS
from eocic.run_integrity import record_tables
from schema_frames import complete

NAMES = {"DE11": "Stuttgart", "DE12": "Karlsruhe", "FR10": "Ile-de-France",
         "FR71": "Rhone-Alpes", "ITC4": "Lombardia", "AT13": "Wien", "AT12": "Niederosterreich"}
REGIONS = sorted(NAMES)
CATEGORIES = {"automotive": "Automotive", "biopharma": "Biopharmaceuticals",
              "digital": "Digital industries"}
YEARS = [2018, 2019, 2020]


def mapping_rows() -> pd.DataFrame:
    """3 categories x 7 regions x 3 years; DE11's numbers are set by hand below."""
    rows = []
    for r, geo in enumerate(REGIONS):
        for c, (category, name) in enumerate(CATEGORIES.items()):
            for y, year in enumerate(YEARS):
                employment = 1000.0 * (r + 1) * (c + 1) + 100 * y
                lq = 0.5 + 0.1 * r + 0.2 * c
                rows.append(dict(geo=geo, scheme="cluster", category=category,
                                 category_name=name, year=year, employment=employment,
                                 lq=lq, growth=0.01 * (c - 1), relative_wage=1.0,
                                 size_star=False, specialisation_star=lq >= 2,
                                 productivity_star=False))
    table = pd.DataFrame(rows)
    de11 = (table["geo"] == "DE11") & (table["year"] == 2020)
    # DE11 2020: automotive a 3-star cluster, digital a 1-star cluster (LQ 2.5), biopharma LQ 0.4
    for category, employment, lq, size, productivity in (
            ("automotive", 90000.0, 3.2, True, True), ("digital", 5000.0, 2.5, False, False),
            ("biopharma", 800.0, 0.4, False, False)):
        cell = de11 & (table["category"] == category)
        table.loc[cell, ["employment", "lq"]] = [employment, lq]
        table.loc[cell, ["size_star", "productivity_star"]] = [size, productivity]
        table.loc[cell, "specialisation_star"] = lq >= 2
    stars = table[["size_star", "specialisation_star", "productivity_star"]].sum(axis=1)
    table["stars"] = stars.astype("int64")
    table["is_cluster"] = table["specialisation_star"]
    table["performance_class"] = np.select(
        [~table["is_cluster"], stars == 3, stars == 2], [None, "high", "medium"], "basic")
    # a second scheme, which the explorer must not mix into the cluster portfolio
    sector = table.assign(scheme="sector", category="C29", category_name="Motor vehicles")
    sector = sector.drop_duplicates(["geo", "year"])
    return complete("cluster_mapping", pd.concat([table, sector], ignore_index=True),
                    growth_years=5, weight_basis="exact", incomplete=0.0,
                    local_units_incomplete=0.0, wages_incomplete=0.0)


def scoreboard_rows() -> pd.DataFrame:
    """Index ``ic`` with dimensions d1, d2, d3 and indicator i1 for 2020 (and 2019)."""
    scores = {  # code -> scores of DE11, DE12, FR10, others
        "ic": (54.0, 50.0, 50.0, 45.0), "d1": (66.0, 50.0, 70.0, 40.0),
        "d2": (40.0, 50.0, 50.0, 45.0), "d3": (52.0, 50.0, 50.0, 30.0),
        "i1": (99.0, 90.0, 90.0, 10.0)}
    levels = {"ic": "index", "d1": "dimension", "d2": "dimension", "d3": "dimension",
              "i1": "indicator"}
    rows = []
    for year in (2019, 2020):
        for code, values in scores.items():
            for geo in REGIONS:
                score = {"DE11": values[0], "DE12": values[1], "FR10": values[2]}.get(geo,
                                                                                       values[3])
                rank = {"DE11": 3, "DE12": 4, "FR10": 5}.get(geo, 6)
                rows.append(dict(geo=geo, year=year, level=levels[code], code=code,
                                 name=code.upper(), score=score - (year == 2019), rank=rank,
                                 rank_p05=rank - 2, rank_p95=rank + 1, imputed_share=0.0))
    return complete("scoreboard", pd.DataFrame(rows), index_code="ic")


def peers_rows() -> pd.DataFrame:
    rows = [("DE11", "FR10", 0.4, 2), ("DE11", "DE12", 0.3, 1), ("FR10", "FR71", 0.2, 1),
            ("FR10", "DE11", 0.5, 2)]
    return complete("peers", pd.DataFrame(rows, columns=["geo", "peer", "distance", "rank"]),
                    chosen_by="nearest")


def regression_rows() -> pd.DataFrame:
    rows = [("growth", "ols", "Intercept", 0.01), ("growth", "ols", "strong_cluster", 0.02),
            ("growth", "ols", "ln_lq_t0", 0.005), ("wages", "fe", "cluster_share", 0.1)]
    frame = pd.DataFrame(rows, columns=["spec", "model", "term", "coef"])
    frame["se"] = 0.004
    frame["pvalue"] = 0.01
    frame["ci_low"] = frame["coef"] - 0.008
    frame["ci_high"] = frame["coef"] + 0.008
    frame["nobs"] = 1200
    return complete("regressions", frame, label=frame["term"], tstat=2.5, dependent="growth",
                    estimator="ols", covariance="clustered by geo", t0=2015, T=2020)


def write_run(folder, tables=("cluster_mapping", "scoreboard", "peers", "regressions")):
    """A published run: the tables, then the tables record a finished study writes (the
    explorer refuses a folder without one, :mod:`eocic.run_integrity`)."""
    folder.mkdir(parents=True, exist_ok=True)
    makers = {"cluster_mapping": mapping_rows, "scoreboard": scoreboard_rows,
              "peers": peers_rows, "regressions": regression_rows}
    for name in tables:
        makers[name]().to_parquet(folder / f"{name}.parquet", index=False)
    record_tables(folder, folder.name, "20260101T000000Z-test")
    return folder


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "processed" / "test-run")


@pytest.fixture
def explorer(run_dir):
    return RegionExplorer(run_dir, year=2020, region_names=NAMES, region="DE11")


# --------------------------------------------------------------------------- selection

def test_pickers_list_the_run_regions_with_names(explorer):
    assert explorer.region_codes == REGIONS
    assert ("Germany (DE)", "DE") in explorer.countries()
    assert explorer.regions_of("DE") == [("DE11 Stuttgart", "DE11"), ("DE12 Karlsruhe", "DE12")]
    assert explorer.title() == "DE11 Stuttgart (Germany), 2020"


def test_default_peers_come_from_peers_table_nearest_first(explorer):
    assert explorer.peers == ["DE12", "FR10"]
    assert explorer.peer_source == "peers.parquet"
    explorer.set_region("FR10")
    assert explorer.peers == ["FR71", "DE11"]


def test_region_change_changes_what_is_shown(explorer):
    portfolio = explorer.panel("portfolio")
    assert portfolio.title.startswith("Cluster portfolio of DE11 Stuttgart (Germany), 2020")
    # sorted by stars then employment: automotive (3 stars), digital (1), biopharma (0)
    assert list(portfolio.table["category"]) == ["automotive", "digital", "biopharma"]
    assert list(portfolio.table["stars"]) == [3, 1, 0]
    assert portfolio.table.loc[0, "employment"] == 90000.0
    assert "2 cluster(s) (LQ >= 2) among 3 categories" in " ".join(portfolio.notes)

    explorer.set_country("FR")          # first French region of the run
    assert explorer.region == "FR10"
    portfolio = explorer.panel("portfolio")
    assert "FR10 Ile-de-France (France)" in portfolio.title
    # FR10 is the 5th region in code order (r = 4): employment 1000 * 5 * (c + 1) + 200 in 2020
    employment = dict(zip(portfolio.table["category"], portfolio.table["employment"]))
    assert employment == {"automotive": 5200.0, "biopharma": 10200.0, "digital": 15200.0}
    assert set(portfolio.table.columns) >= {"lq", "growth", "stars", "performance_class"}


def test_unknown_region_is_a_clear_error(explorer):
    with pytest.raises(ExplorerError, match="XX99.*not in run test-run"):
        explorer.set_region("XX99")


def test_initial_region_not_in_run_falls_back_with_message(run_dir):
    explorer = RegionExplorer(run_dir, region_names=NAMES, region="PL91")
    assert explorer.region == "AT12"
    assert "Region PL91 is not in run test-run" in explorer.messages[0]
    assert explorer.year == 2020        # latest year by default


def test_chosen_peers_at_most_five(explorer):
    assert explorer.set_peers("fr71, itc4") == []
    assert explorer.peers == ["FR71", "ITC4"] and explorer.peer_source == "user"
    messages = explorer.set_peers("DE12,FR10,FR71,ITC4,AT13,AT12")
    assert "6 peers given" in messages[0] and "at most 5" in messages[0]
    assert explorer.peers == ["DE12", "FR10"]            # default peers stay
    assert "cannot be its own peer" in explorer.set_peers("DE11,FR10")[0]
    assert "XX11 not in run" in explorer.set_peers("XX11")[0]
    assert "duplicate" in explorer.set_peers("FR10,FR10")[0]
    assert explorer.set_peers("") == [] and explorer.peers == ["DE12", "FR10"]


# --------------------------------------------------------------------------- scoreboard

def test_scoreboard_peer_differences_strengths_and_weaknesses(explorer):
    panel = explorer.panel("scoreboard")
    table = panel.table.set_index("code")

    def sd(region, peer_a, peer_b, other):    # sample sd over the 7 regions of the run
        return np.std([region, peer_a, peer_b] + [other] * 4, ddof=1)

    # DE11 vs mean of DE12 and FR10: differences in score points, never ratios
    assert table.loc["d1", "peer_mean"] == pytest.approx(60.0)
    assert table.loc["d1", "difference"] == pytest.approx(6.0)       # 66 - 60
    assert table.loc["d2", "difference"] == pytest.approx(-10.0)     # 40 - 50
    assert table.loc["d3", "difference"] == pytest.approx(2.0)       # 52 - 50
    assert table.loc["i1", "difference"] == pytest.approx(9.0)       # 99 - 90
    assert table.loc["ic", "difference"] == pytest.approx(4.0)       # 54 - 50
    assert table.loc["d1", "difference_sd"] == pytest.approx(6.0 / sd(66, 50, 70, 40))  # 0.45
    assert table.loc["i1", "difference_sd"] == pytest.approx(9.0 / sd(99, 90, 90, 10))  # 0.20
    assert table.loc["ic", "difference_sd"] == pytest.approx(4.0 / sd(54, 50, 50, 45))  # 1.10
    assert "relative" not in panel.table
    # i1: 99 vs 90 was a "strength" as a ratio (110); it is 0.2 sd of a spread-out indicator
    assert dict(table["flag"]) == {"ic": "strength", "d1": "neutral", "d2": "weakness",
                                   "d3": "neutral", "i1": "neutral"}
    assert list(panel.table["level"]) == ["index", "dimension", "dimension", "dimension",
                                          "indicator"]
    assert list(panel.extra["strengths"]["code"]) == []       # the index is not listed
    assert list(panel.extra["weaknesses"]["code"]) == ["d2"]
    assert any("0.5 standard deviation" in note for note in panel.notes)
    ranks = panel.extra["ranks"].set_index("code")
    assert ranks.loc["ic", ["rank", "rank_p05", "rank_p95"]].tolist() == [3, 1, 4]
    assert "2020" in panel.title

    explorer.set_peers("AT13")          # other peer: 40 on d1 -> difference 26, strength
    panel = explorer.panel("scoreboard")
    table = panel.table.set_index("code")
    assert table.loc["d1", "difference"] == pytest.approx(26.0)
    assert table.loc["d1", "flag"] == "strength"
    assert list(panel.extra["strengths"]["code"]) == ["i1", "d3", "d1"]   # by difference_sd


def test_scoreboard_year_follows_reference_year(run_dir):
    explorer = RegionExplorer(run_dir, year=2019, region_names=NAMES, region="DE11")
    table = explorer.panel("scoreboard").table.set_index("code")
    assert table.loc["d1", "region"] == 65.0


# --------------------------------------------------------------------------- other tabs

def test_development_shows_top_clusters_over_time(explorer):
    panel = explorer.panel("development")
    # LQ >= 1 in 2020: automotive (90,000) before digital (5,000); biopharma (LQ 0.4) left out
    assert list(dict.fromkeys(panel.table["category"])) == ["automotive", "digital"]
    assert list(panel.table["year"]) == YEARS * 2
    assert "DE11 Stuttgart" in panel.title
    figure = panel.figure()
    ticks = [tick for axis in figure.axes[:2] for tick in axis.get_xticks()]
    assert ticks and all(float(tick).is_integer() for tick in ticks)  # whole years only


def test_regressions_coefficients_and_note(explorer):
    panel = explorer.panel("regressions")
    assert len(panel.table) == 4
    assert panel.title == "Regressions of the run: growth"
    assert "cannot be shown" in panel.notes[0]
    figure = panel.figure()
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    # intercept left out; a regressor of the registry is named in words, others by their code
    assert labels == ["ols: strong_cluster", "ols: " + VARIABLE_LABELS["ln_lq_t0"]]
    assert panel.table.set_index("term").loc["ln_lq_t0", "variable"] == VARIABLE_LABELS["ln_lq_t0"]


def test_figures_are_drawn_and_titled(explorer):
    portfolio = explorer.panel("portfolio").figure()
    assert portfolio.axes[0].get_xscale() == "log"
    assert "DE11" in portfolio.axes[0].get_title()
    radar = explorer.panel("scoreboard").figure()
    assert radar.axes[0].name == "polar"
    assert explorer.panel("scoreboard").png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_tables_give_stage_messages_not_tracebacks(tmp_path):
    folder = write_run(tmp_path / "only-peers", tables=("peers",))
    explorer = RegionExplorer(folder, region_names=NAMES, region="DE11")
    assert explorer.region == "DE11" and explorer.peers == ["DE12", "FR10"]
    panels = explorer.panels()
    assert "cluster_mapping.parquet not found" in panels["portfolio"].message
    assert "run stage 02" in panels["portfolio"].message
    assert "run stage 02" in panels["development"].message
    assert "scoreboard.parquet not found" in panels["scoreboard"].message
    assert "run stage 03" in panels["scoreboard"].message
    assert "run stage 04" in panels["regressions"].message
    assert all(panel.figure() is None for panel in panels.values())


def test_empty_run_folder_has_no_regions(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    record_tables(folder, "empty", "20260101T000000Z-test")
    explorer = RegionExplorer(folder, region_names=NAMES)
    assert explorer.region_codes == [] and explorer.region == ""
    assert "run stage 02" in explorer.panel("portfolio").message


def test_map_tab_without_geometries_says_so(explorer):
    panel = explorer.panel("map")
    assert "No NUTS geometries found" in panel.message


def test_map_tab_outlines_region_and_peers(run_dir):
    square = lambda x, y: [np.array([[x, y], [x + 1e5, y], [x + 1e5, y + 1e5], [x, y]])]
    geometries = pd.DataFrame({"geo": REGIONS, "name": [NAMES[g] for g in REGIONS],
                               "country": [g[:2] for g in REGIONS],
                               "rings": [square(4e6 + 2e5 * i, 3e6) for i in range(7)]})
    explorer = RegionExplorer(run_dir, region_names=NAMES, region="DE11", geometries=geometries)
    panel = explorer.panel("map")
    assert panel.message == ""
    assert panel.title.startswith("Map of automotive: lq")      # DE11's top cluster
    assert dict(zip(panel.table["geo"], panel.table["lq"]))["DE11"] == 3.2
    axis = panel.figure().axes[0]
    assert len(axis.collections[1].get_paths()) == 1            # DE11: thick outline
    assert len(axis.collections) == 4                           # + DE12, FR10 (peers)
    explorer.set_map(kind="score")
    panel = explorer.panel("map")
    assert panel.title.startswith("Map of ic: score") and len(panel.table) == 7
    with pytest.raises(ExplorerError, match="map kind"):
        explorer.set_map(kind="bubbles")


# --------------------------------------------------------------------------- runs

def test_latest_run_and_environment_settings(tmp_path):
    root = tmp_path / "processed"
    older = write_run(root / "older", tables=("peers",))
    newer = write_run(root / "newer", tables=("peers",))
    (root / "no-tables").mkdir()
    import os
    os.utime(older / "peers.parquet", (1, 1))
    assert explorer_controller.latest_run(root) == newer
    assert explorer_controller.find_run(root, "older") == older.resolve()
    with pytest.raises(ExplorerError, match="run 'nope' not found.*newer"):
        explorer_controller.find_run(root, "nope")

    defaults = {"run_id": "demo-2020", "processed_dir": str(root / "demo-2020"),
                "region": "DE11", "peers": ""}
    batch = explorer_controller.settings_from_environment(defaults, {})
    assert batch == {**defaults, "served": False}
    served = explorer_controller.settings_from_environment(
        defaults, {"SERVER_SOFTWARE": "voila/0.5", "QUERY_STRING": "region=FR10&peers=DE11",
                   "EOCIC_RUN_ID": ""})
    assert served["run_id"] == "newer" and served["region"] == "FR10"
    assert served["peers"] == "DE11" and served["processed_dir"] == str(newer.resolve())
    served = explorer_controller.settings_from_environment(
        defaults, {"SERVER_SOFTWARE": "voila/0.5", "EOCIC_RUN_ID": "older",
                   "QUERY_STRING": ""})
    assert served["run_id"] == "older" and served["region"] == "DE11"
    # the reference year is the run's own (its manifest), unless the URL sets it
    (older / "manifest.json").write_text('{"parameters": {"year": 2014}}')
    served = explorer_controller.settings_from_environment(
        defaults | {"year": 2020}, {"SERVER_SOFTWARE": "voila/0.5", "EOCIC_RUN_ID": "older",
                                    "QUERY_STRING": ""})
    assert (served["year"], served["scheme"]) == (2014, "cluster")
    served = explorer_controller.settings_from_environment(
        defaults, {"SERVER_SOFTWARE": "voila/0.5", "EOCIC_RUN_ID": "older",
                   "QUERY_STRING": "year=2012&scheme=sector"})
    assert (served["year"], served["scheme"]) == (2012, "sector")


# --------------------------------------------------------------------------- exports

def test_exports_write_csv_tables_and_png_figures(explorer, tmp_path):
    from eocic.explorer import export
    folder = tmp_path / "reports" / "test-run" / "exports"
    tables = export.export_tables(explorer, folder)
    names = sorted(path.name for path in tables)
    assert "DE11_portfolio.csv" in names and "DE11_scoreboard_strengths.csv" in names
    portfolio = pd.read_csv(folder / "DE11_portfolio.csv")
    assert list(portfolio["category"]) == ["automotive", "digital", "biopharma"]
    first = (folder / "DE11_portfolio.csv").read_bytes()
    export.export_tables(explorer, folder)
    assert (folder / "DE11_portfolio.csv").read_bytes() == first       # deterministic
    pictures = export.export_figures(explorer, folder, tabs=("portfolio", "scoreboard"))
    assert sorted(p.name for p in pictures) == ["DE11_portfolio.png", "DE11_scoreboard.png",
                                                "DE11_scoreboard_ranks.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in pictures)
    assert export.default_export_dir(tmp_path, "test-run") == folder


# --------------------------------------------------------------------------- widgets

def test_widget_view_follows_the_controller(explorer):
    pytest.importorskip("ipywidgets")
    from eocic.explorer.app import ExplorerApp
    app = ExplorerApp(explorer)
    assert app.region_picker.value == "DE11"
    assert "DE11 Stuttgart" in app.heading.value
    app.country_picker.value = "FR"
    assert explorer.region == "FR10" and app.region_picker.value == "FR10"
    assert "FR10 Ile-de-France" in app.heading.value
    assert "FR10" in app.tab_title("portfolio")
    app.peer_text.value = "DE12,FR71,ITC4,AT13,AT12,DE11"
    app.apply_peers()
    assert "6 peers given" in app.message.value
    app.tabs.selected_index = 1         # scoreboard
    assert "Scoreboard of FR10" in app.tab_title("scoreboard")


def test_region_change_callback_time(explorer):
    """Median time of a region change with the visible tab's table and figure (printed, not
    asserted: machines differ)."""
    pytest.importorskip("ipywidgets")
    from eocic.explorer.app import ExplorerApp
    app = ExplorerApp(explorer)
    timings = []
    for geo in REGIONS * 2:
        started = time.perf_counter()
        app.select_region(geo)
        timings.append(time.perf_counter() - started)
    cached = timings[len(REGIONS):]
    print(f"\nregion change: median {statistics.median(timings[:len(REGIONS)]) * 1000:.0f} ms "
          f"first visit, {statistics.median(cached) * 1000:.0f} ms cached "
          f"({len(REGIONS)} regions)")


def test_tab_labels_fit_the_tab_width():
    # ipywidgets' tabs show about 14 characters before cutting a label off
    assert all(len(title) <= 14 for title in explorer_controller.TAB_TITLES.values())


def test_only_the_chosen_scheme_is_read_and_an_absent_one_falls_back(run_dir):
    sector = RegionExplorer(run_dir, year=2020, scheme="sector", region="DE11")
    assert set(sector.mapping["scheme"]) == {"sector"} and sector.scheme == "sector"
    assert set(sector.tables["cluster_mapping"]["scheme"]) == {"sector"}  # filtered when read
    absent = RegionExplorer(run_dir, year=2020, scheme="emerging", region="DE11")
    assert absent.scheme == "cluster" and set(absent.mapping["scheme"]) == {"cluster"}
    assert any("Scheme 'emerging' is not in the cluster mapping" in n for n in absent.notes)
