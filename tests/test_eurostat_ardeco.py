"""The JRC ARDECO export reader and the ARDECO population in the pipeline.

Fixtures (tests/fixtures/ardeco/): ``ardeco_nuts2_population.csv`` holds 17 rows copied from
the real export (SNPTD, LT01/LT02/AT11/ATZZ, 2014, 2022-2024 and 2026, with AT11 2022 written
``3e+05`` as R writes it) plus one hand-made missing value (ATZZ 2024 ``NA``); the other files
are malformed variants for the error tests.
"""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from eocic import pipeline, sources, tables
from eocic.atomic import gzip_bytes, write_bytes_atomic
from eocic.eurostat.ardeco import ArdecoProjectionWarning, read_ardeco
from eocic.eurostat.errors import EurostatFormatError
from eocic.eurostat.reader import detect_format, read_eurostat
from eocic.eurostat.registry import DATASETS, datasets_feeding

POPULATION = "ardeco_nuts2_population.csv"
HEADER = b'"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"\n'


@pytest.fixture
def ardeco_fixtures(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ardeco"


def cells(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in frame.itertuples(index=False)]


# --- reader -----------------------------------------------------------------------------------

def test_schema_values_and_projection_flags(ardeco_fixtures):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fixture's vintage matches: no warning
        frame = read_ardeco(ardeco_fixtures / POPULATION)
    assert list(frame.columns) == ["variable", "nuts_version", "level", "geo", "unit", "time",
                                   "value", "flags"]
    assert frame.dtypes.astype(str).to_dict() == {
        "variable": "category", "nuts_version": "category", "level": "category",
        "geo": "category", "unit": "category", "time": "category", "value": "float64",
        "flags": "str"}
    assert list(frame["time"].cat.categories) == ["2014", "2022", "2023", "2024", "2026"]
    rows = [(geo, time, value, flags) for _, _, _, geo, _, time, value, flags in cells(frame)]
    # sorted by geo then year; 2024 and 2026 are projections (flag f), NA is missing
    assert rows == [
        ("AT11", "2014", 287800.0, ""), ("AT11", "2022", 300000.0, ""),
        ("AT11", "2023", 301500.0, ""), ("AT11", "2024", 302709.0, "f"),
        ("AT11", "2026", 304161.0, "f"),
        ("ATZZ", "2014", 0.0, ""), ("ATZZ", "2023", 0.0, ""), ("ATZZ", "2024", None, "f"),
        ("LT01", "2014", 800080.0, ""), ("LT01", "2022", 833340.0, ""),
        ("LT01", "2023", 858490.0, ""), ("LT01", "2024", 869639.0, "f"),
        ("LT01", "2026", 868640.0, "f"),
        ("LT02", "2014", 2137170.0, ""), ("LT02", "2022", 1998300.0, ""),
        ("LT02", "2023", 2013100.0, ""), ("LT02", "2024", 2020870.0, "f"),
        ("LT02", "2026", 2018554.0, "f"),
    ]
    assert set(frame["variable"]) == {"SNPTD"} and set(frame["unit"]) == {"Persons"}
    assert set(frame["nuts_version"]) == {"2021"} and set(frame["level"]) == {"2"}


def test_dispatch_by_content_gzip_and_misnamed(ardeco_fixtures, tmp_path):
    expected = read_ardeco(ardeco_fixtures / POPULATION)
    payload = (ardeco_fixtures / POPULATION).read_bytes()
    assert detect_format(payload, "anything.tsv") == "ardeco"
    pd.testing.assert_frame_equal(read_eurostat(ardeco_fixtures / POPULATION), expected)
    packed = write_bytes_atomic(tmp_path / "pop.csv.gz", gzip_bytes(payload))
    pd.testing.assert_frame_equal(read_eurostat(packed), expected)
    misnamed = write_bytes_atomic(tmp_path / "pop.tsv", payload)  # header wins over suffix
    pd.testing.assert_frame_equal(read_eurostat(misnamed), expected)
    # an ARDECO header with a column missing is still recognised, and the error says so
    assert detect_format((ardeco_fixtures / "no_value_column.csv").read_bytes(), "x.csv") == "ardeco"
    # the suffix still breaks a tie for headers of no known format
    assert detect_format(b"a,b\n1,2\n", "x.csv") == "sdmx-csv"


def test_extra_columns_become_dimensions(tmp_path):
    path = write_bytes_atomic(tmp_path / "education.csv", (
        b'"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","SEX","ISCED11","UNIT","VALUE"\n'
        b'"RPDTN",2021,2,"AT11",2000,"Total","Tertiary education (levels 5-8)","Percent",9.5\n'))
    with pytest.warns(ArdecoProjectionWarning, match="RPDTN are not known"):
        frame = read_eurostat(path)
    assert list(frame.columns) == ["variable", "nuts_version", "level", "geo", "sex", "isced11",
                                   "unit", "time", "value", "flags"]
    assert cells(frame) == [("RPDTN", "2021", "2", "AT11", "Total",
                             "Tertiary education (levels 5-8)", "Percent", "2000", 9.5, "")]


def test_other_vintage_warns_and_cutoff_can_be_set(tmp_path):
    path = write_bytes_atomic(tmp_path / "newer.csv", HEADER + (
        b'"SNPTD",2021,2,"AT11",2024,"Persons",302000\n'
        b'"SNPTD",2021,2,"AT11",2027,"Persons",305000\n'))
    with pytest.warns(ArdecoProjectionWarning, match="SNPTD ends in 2027.*ends in 2026"):
        frame = read_ardeco(path)
    assert frame["flags"].tolist() == ["f", "f"]  # the 2023 cut-off, conservatively
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_ardeco(path, last_observed_year=2024)
    assert frame["flags"].tolist() == ["", "f"]


def test_header_only_file_gives_empty_frame(tmp_path):
    frame = read_ardeco(write_bytes_atomic(tmp_path / "empty.csv", HEADER))
    assert list(frame.columns) == ["variable", "nuts_version", "level", "geo", "unit", "time",
                                   "value", "flags"]
    assert len(frame) == 0


@pytest.mark.parametrize(("name", "line", "fragments"), [
    ("no_value_column.csv", 1, ["no_value_column.csv, line 1", "no VALUE column",
                                "an ARDECO export header such as"]),
    ("bad_value.csv", 3, ["bad_value.csv, line 3", "VALUE '2 137 170' is not a number"]),
    ("duplicate.csv", 4, ["duplicate.csv, line 4", "NUTSCODE=LT01", "YEAR=2014",
                          "repeats line 2", "remove the duplicate row"]),
])
def test_malformed_files(ardeco_fixtures, name, line, fragments):
    with pytest.raises(EurostatFormatError) as caught:
        read_eurostat(ardeco_fixtures / name)
    assert caught.value.line == line
    assert caught.value.source.endswith(name)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(("row", "message"), [
    (b'"SNPTD",2021,2,"AT11",14,"Persons",1\n', r"line 3: YEAR '14' is not a year"),
    (b'"SNPTD",2021,2,"","2014","Persons",1\n', r"line 3: empty NUTSCODE code"),
    (b'"SNPTD",2021,2,"AT12",2014,"Persons"\n', r"line 3: 6 comma-separated field"),
])
def test_bad_rows_name_the_line(tmp_path, row, message):
    path = write_bytes_atomic(tmp_path / "bad.csv",
                              HEADER + b'"SNPTD",2021,2,"AT11",2013,"Persons",1\n' + row)
    with pytest.raises(EurostatFormatError, match=message):
        read_ardeco(path, last_observed_year=2023)


def test_repeated_column_is_an_error(tmp_path):
    path = write_bytes_atomic(tmp_path / "twice.csv", b'"NUTSCODE","GEO","VARIABLE"\n')
    with pytest.raises(EurostatFormatError, match=r"line 1: column 'GEO' is empty or appears twice"):
        read_ardeco(path)


# --- registry and pipeline --------------------------------------------------------------------

def test_registry_prefers_eurostat_population():
    feeding = [dataset.code for dataset in datasets_feeding("population")]
    assert feeding == ["demo_r_d2jan", "ardeco_nuts2_population"]
    dataset = DATASETS["ardeco_nuts2_population"]
    assert dataset.provider == "ardeco" and DATASETS["demo_r_d2jan"].provider == "eurostat"
    assert "CC BY 4.0" in dataset.note and "NUTS 2021" in dataset.note
    (indicator,) = dataset.indicators
    assert (indicator.code, indicator.unit, indicator.additive) == ("population", "persons", True)


def test_fetch_refuses_ardeco(tmp_path, capsys):
    from eocic import cli

    assert cli.main(["fetch", "--datasets", "ardeco_nuts2_population",
                     "--raw-dir", str(tmp_path)]) == 2
    assert "not published by Eurostat" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.fixture()
def raw_folder(tmp_path: Path, fixtures_dir: Path) -> Path:
    """The pipeline fixtures (SBS, GDP) plus the ARDECO population export."""
    folder = tmp_path / "raw"
    shutil.copytree(fixtures_dir / "pipeline", folder)
    (folder / "ardeco").mkdir()
    shutil.copy(fixtures_dir / "ardeco" / POPULATION, folder / "ardeco" / POPULATION)
    return folder


def _run(raw_folder: Path, out: Path) -> pipeline.PipelineResult:
    files = sources.locate_datasets(raw_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run_pipeline(files, raw_folder, out, year=2014)


def test_pipeline_reads_ardeco_population(raw_folder, tmp_path):
    assert sources.locate_datasets(raw_folder)["ardeco_nuts2_population"] == \
        raw_folder / "ardeco" / POPULATION
    result = _run(raw_folder, tmp_path / "out")
    context = result.tables["context"]
    population = context[context["indicator"] == "population"]
    assert not population["apportioned"].any()  # ARDECO is NUTS 2021 already
    population = population.drop(columns="apportioned")
    assert cells(population) == [
        ("AT11", 2014, "population", 287800.0, ""), ("AT11", 2022, "population", 300000.0, ""),
        ("AT11", 2023, "population", 301500.0, ""), ("AT11", 2024, "population", 302709.0, "f"),
        ("AT11", 2026, "population", 304161.0, "f"),
        ("LT01", 2014, "population", 800080.0, ""), ("LT01", 2022, "population", 833340.0, ""),
        ("LT01", 2023, "population", 858490.0, ""), ("LT01", 2024, "population", 869639.0, "f"),
        ("LT01", 2026, "population", 868640.0, "f"),
        ("LT02", 2014, "population", 2137170.0, ""), ("LT02", 2022, "population", 1998300.0, ""),
        ("LT02", 2023, "population", 2013100.0, ""), ("LT02", 2024, "population", 2020870.0, "f"),
        ("LT02", 2026, "population", 2018554.0, "f"),
    ]
    selection = result.selection.set_index(["dataset", "indicator"])
    row = selection.loc[("ardeco_nuts2_population", "population")]
    assert (row["rows_read"], row["rows_kept"], row["not_nuts2"]) == (18, 15, 3)  # ATZZ out
    assert "ardeco_nuts2_population" not in result.missing_datasets
    assert "demo_r_d2jan" in result.missing_datasets


def test_eurostat_population_wins_over_ardeco(raw_folder, tmp_path):
    (raw_folder / "demo_r_d2jan.tsv").write_text(
        "freq,unit,sex,age,geo\\TIME_PERIOD\t2014\t2015\n"
        "A,NR,T,TOTAL,AT11\t287416\t288356\n")
    result = _run(raw_folder, tmp_path / "out")
    context = result.tables["context"]
    population = context[context["indicator"] == "population"]
    assert not population["apportioned"].any()  # ARDECO is NUTS 2021 already
    population = population.drop(columns="apportioned")
    assert cells(population) == [("AT11", 2014, "population", 287416.0, ""),
                                 ("AT11", 2015, "population", 288356.0, "")]
    assert "ardeco_nuts2_population" not in set(result.selection["dataset"])


# --- real data (integration) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_population(shared_data) -> Path:
    path = shared_data / "regional_context" / "ardeco" / POPULATION
    if not path.exists():
        pytest.skip(f"{path} not in the shared data")
    return path


@pytest.mark.shared_data
def test_real_population_file(real_population):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_eurostat(real_population)
    assert len(frame) == 23_030
    assert frame["geo"].nunique() == 349
    assert list(frame["time"].cat.categories) == [str(year) for year in range(1960, 2027)]
    assert set(frame["variable"]) == {"SNPTD"} and set(frame["unit"]) == {"Persons"}
    assert frame["value"].notna().all()
    regions = frame[~frame["geo"].astype(str).str.endswith("ZZ") & (frame["geo"] != "NO0B")]
    assert (regions["value"] > 0).all()  # extra-regio and Svalbard/Jan Mayen hold zeros
    projected = sorted(set(frame.loc[frame["flags"] == "f", "time"].astype(str)))
    assert projected == ["2024", "2025", "2026"]
    assert set(frame["flags"]) == {"", "f"}
    values = frame.set_index(["geo", "time"])["value"]
    # Lithuania's NUTS 2016 split of LT00: the two regions as the file reports them
    assert values[("LT01", "2014")] == 800_080 and values[("LT02", "2014")] == 2_137_170
    assert values[("LT01", "2014")] + values[("LT02", "2014")] == 2_937_250
    assert values[("AT11", "2022")] == 300_000  # written 3e+05 in the file
    for split in ("PL91", "PL92", "HU11", "HU12", "IE04", "IE05", "IE06", "HR02", "HR05",
                  "HR06", "NO08", "NO09", "NO0A", "UKM8", "UKM9"):
        assert len(frame[frame["geo"] == split]) == 67, split


@pytest.mark.shared_data
def test_real_population_in_context(real_population):
    selection: list[dict] = []
    context = pipeline.build_context(pipeline.read_datasets(
        {"ardeco_nuts2_population": real_population}), selection)
    harmonised, report, _ = pipeline.harmonise_regions({"context": context}, 2021)
    context = tables.validate(harmonised["context"], tables.CONTEXT)
    assert selection[0]["rows_read"] == 23_030 and selection[0]["not_nuts2"] == 187  # ..ZZ
    # the export labelled NUTS 2021 also holds the NUTS 2024 codes of NL and PT: dropped
    dropped = set(report.loc[report["action"] == "dropped", "code"])
    assert dropped == {"NL35", "NL36", "PT19", "PT1A", "PT1B", "PT1C", "PT1D"}
    assert (len(context), context["geo"].nunique(), context["year"].nunique()) == (22_374, 334, 67)
    lithuania = context[context["geo"].isin(["LT01", "LT02"]) & (context["year"] == 2014)]
    assert lithuania["value"].sum() == 2_937_250
