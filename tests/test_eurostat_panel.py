"""Regional panel tables (eocic.eurostat.panel) and the non-Eurostat-layout registry datasets
that feed the scoreboard on the real 2014 extracts (issue 14, requirement 3).

The hand-checked values below were read in the shared files with grep (the row of the region
and year, the column named in the registry); a reader or a registry filter that picks another
column, unit or category fails them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from eocic import pipeline, sources
from eocic.eurostat.errors import EurostatFormatError
from eocic.eurostat.panel import is_panel_header, parse_panel
from eocic.eurostat.reader import detect_format, read_eurostat
from eocic.eurostat.registry import DATASETS

CONTEXT = "regional_context"


def _panel(text: str):
    return parse_panel(text.encode("utf-8"), source="panel.csv")


def test_series_labels_missing_cells_and_float_years():
    frame = _panel("geo,NUTS_NAME,year,rate,count\n"
                   "AT11,Burgenland,2014.0,4.8,\n"
                   "AT12,Niederösterreich,2014,NA,12\n"
                   "AT11,Burgenland,2013,:,7\n")
    assert list(frame.columns) == ["variable", "geo", "time", "value", "flags"]
    assert sorted(frame["variable"].unique()) == ["count", "rate"]  # NUTS_NAME is a label
    rate = frame[frame["variable"] == "rate"].set_index(["geo", "time"])["value"]
    assert rate[("AT11", "2014")] == 4.8
    assert np.isnan(rate[("AT12", "2014")]) and np.isnan(rate[("AT11", "2013")])
    count = frame[frame["variable"] == "count"].set_index(["geo", "time"])["value"]
    assert count[("AT12", "2014")] == 12 and np.isnan(count[("AT11", "2014")])
    assert (frame["flags"] == "").all()
    # sorted by variable, geo, time like the other readers
    assert list(frame["time"].astype(str)[:2]) == ["2013", "2014"]


def test_tab_separated_panel_with_upper_case_columns():
    frame = _panel("NUTS2\tYEAR\thtec_emp_reg2_NACE_R2_C_HTC__UNIT_PC_EMP__SEX_T\n"
                   "DE11\t2014\t2.3\n")
    assert frame["value"].tolist() == [2.3]
    assert frame["variable"].tolist() == ["htec_emp_reg2_NACE_R2_C_HTC__UNIT_PC_EMP__SEX_T"]


@pytest.mark.parametrize("text, match", [
    ("geo,year,rate\nAT11,14,4.8\n", "line 2: year '14' is not a year"),
    ("geo,year,rate\nAT11,2014,4.8\nAT12,2014,4,9\n", "line 3"),
    ("geo,year,rate\nAT11,2014,4.8\nAT11,2014,5.0\n", "line 3: region AT11 and year 2014 "
     "already given on line 2"),
    ("geo,year,rate\nAT11,2014,4.8\nAT12,2014,n/a\n", "line 3: 'n/a' in column 'rate' is not a "
     "number"),
    ("geo,rate\nAT11,4.8\n", "0 year column"),
    ("geo,year,rate\n,2014,4.8\n", "line 2: empty geo"),
])
def test_bad_panels_name_the_line_and_the_fix(text, match):
    with pytest.raises(EurostatFormatError, match=match):
        _panel(text)


def test_detection_keeps_the_other_formats():
    assert is_panel_header("geo,time,values") and is_panel_header("NUTS2\tYEAR\tx")
    assert not is_panel_header('"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"')
    assert not is_panel_header("DATAFLOW,freq,geo,TIME_PERIOD,OBS_VALUE")
    assert not is_panel_header("unit,geo\\time\t2014")
    assert detect_format(b"geo,year,rate\nAT11,2014,1\n", "x.csv") == "panel"
    assert detect_format(b'"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"\n',
                         "x.csv") == "ardeco"
    assert detect_format(b"DATAFLOW,geo,TIME_PERIOD,OBS_VALUE\n", "x.csv") == "sdmx-csv"


def test_years_covered_reads_the_year_column(tmp_path: Path):
    path = tmp_path / "panel.tsv"
    path.write_text("NUTS2\tYEAR\tx\nAT11\t2013\t1\nAT11\t2014.0\t2\n", encoding="utf-8")
    assert sources.years_covered(path) == [2013, 2014]


# -- the shared extracts, through the registry's filters ------------------------------------------

#: (dataset, file under regional_context, indicator, geo, year, value read by hand)
HAND_CHECKED = [
    ("i40_indicator_db", "I40_indicator_db.tsv", "hightech_mfg_pc_emp", "DE11", 2014, 2.3),
    ("i40_indicator_db", "I40_indicator_db.tsv", "kis_pc_emp", "DE11", 2014, 35.6),
    ("i40_indicator_db", "I40_indicator_db.tsv", "tertiary_pc_30_34", "DE11", 2014, 37.0),
    ("eurostat_tgs_nuts2_panel_2007_2018", "eurostat_tgs_nuts2_panel_2007_2018.csv",
     "unemployment_rate_15_plus", "AT11", 2014, 4.8),
    ("eurostat_tgs_nuts2_panel_2007_2018", "eurostat_tgs_nuts2_panel_2007_2018.csv",
     "gender_employment_gap_pp", "DE11", 2014, 9.8),
    ("isoc_daily_internet_users_nuts", "isoc_daily_internet_users_nuts.csv",
     "internet_daily_pc_individuals", "AT11", 2014, 57.0),
    ("ardeco_nuts2_education", "ardeco/ardeco_nuts2_education.csv", "tertiary_pc_25_64",
     "DE11", 2014, 30.8),
    ("ardeco_nuts2_investment", "ardeco/ardeco_nuts2_investment.csv", "gfcf_mio_eur2015",
     "AT11", 2014, 2046.8),
    ("ardeco_nuts2_gdp", "ardeco/ardeco_nuts2_gdp.csv", "gdp_eur2015_per_head", "AT11", 2014,
     27169.0),
    ("nama_10r_2hhinc", "nama_10r_2hhinc.tsv.gz", "disposable_income_pps_per_head", "AT11",
     2013, 20400.0),
]


@pytest.mark.shared_data
@pytest.mark.parametrize("code, file, indicator, geo, year, expected", HAND_CHECKED,
                         ids=[f"{row[2]}-{row[3]}" for row in HAND_CHECKED])
def test_registry_filters_pick_the_hand_checked_value(shared_data: Path, code, file, indicator,
                                                      geo, year, expected):
    dataset = DATASETS[code]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ARDECO: projected years of ROIGT/SOVGDP not known
        raw = read_eurostat(shared_data / CONTEXT / file)
    selected = pipeline.select_indicator(
        raw, dataset, next(i for i in dataset.indicators if i.code == indicator))
    values = selected[(selected["geo"].astype(str) == geo)
                      & (selected["time"].astype(str) == str(year))]["value"]
    assert values.tolist() == [pytest.approx(expected)]


@pytest.mark.shared_data
def test_the_shared_folder_locates_the_panel_and_ardeco_datasets(shared_data: Path):
    files = sources.locate_datasets(shared_data)
    for code in ("i40_indicator_db", "eurostat_tgs_nuts2_panel_2007_2018",
                 "isoc_daily_internet_users_nuts", "ardeco_nuts2_education",
                 "ardeco_nuts2_investment", "ardeco_nuts2_gdp", "nama_10r_2hhinc"):
        assert code in files, code


# -- the real 2014 run: at least 30 indicators per index survive screening --------------------

#: Indicators per index that must survive screening on the shared 2014 extracts (issue 14).
MIN_SURVIVING = 30


@pytest.fixture(scope="module")
def real_2014_tables(shared_data: Path, tmp_path_factory) -> dict:
    """Stages 01 and 02 of ``eocic study --source <shared> --year 2014`` through the package
    (the pipeline, then the cluster mapping as notebook 02 builds it), about 40 s."""
    from eocic.clusters import mapping
    from eocic.scoreboard.sources import load_tables

    processed = tmp_path_factory.mktemp("real-2014")
    files, _ = sources.resolve_successors(sources.locate_datasets(shared_data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run_pipeline(files, shared_data, processed, year=2014)
        sbs = pipeline.load_table(processed, "sbs")
        totals = pipeline.load_table(processed, "regional_totals")
        weights = mapping.default_weights(processed_dir=processed, year=2014)
        result = mapping.build_cluster_mapping(sbs, weights, growth_years=5, totals=totals)
        mapping.write_cluster_mapping(result, processed)
    return load_tables(processed)


@pytest.mark.shared_data
def test_real_2014_screening_keeps_at_least_30_indicators_per_index(real_2014_tables):
    """Survival is the engine's own rule (data for at least half of the regions in 2012-2014,
    the reference year and its imputation window); nothing here lowers it."""
    from eocic.scoreboard.engine import Scoreboard, Settings
    from eocic.scoreboard.framework import load_framework

    assert Settings().availability_threshold == 0.5 and Settings().impute_window == 2
    framework = load_framework()
    for code, index in framework.indices.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            board = Scoreboard(index, real_2014_tables, year=2014)
        kept = board.availability[board.availability["kept"]]
        print(f"\n{code}: {len(kept)} of {len(index.indicators)} indicators survive screening, "
              f"{len(board.framework.dimensions())} dimensions measured")
        assert len(kept) >= MIN_SURVIVING, board.availability.to_string()
        # the indicators this issue added from the shared folder survive for coverage, not luck
        added = {"tertiary", "kis_employment"} | (
            {"hightech_mfg_employment", "investment_per_head"} if code == "industrial_change"
            else {"tertiary_30_34", "rd_personnel", "disposable_income",
                  "unemployment_rate_15_plus", "gender_employment_gap"})
        shares = board.availability.set_index("indicator")["available_share"]
        assert (shares[sorted(added)] >= 0.7).all(), shares[sorted(added)]
