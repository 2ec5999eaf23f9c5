"""Hostile inputs and faults (issue 15): each case is a file a careless or hostile user could
hand eocic, and the documented error (or validation note) it must get, with its message.

Families (one test function each, parametrised per case):

* bounded reading: gzip bombs and oversized files stop at the documented limit
  (:class:`eocic.provenance.InflationLimit`), naming the file and the limit;
* validation before work: year range of every source format, a reference year with no or
  all-zero employment, numbers beyond float range, two files for one dataset code;
* validation notes: what a run may go on with is written to ``validation.json``;
* encodings and empty tables: UTF-16, Latin-1, header-only files, Latin-1 scenario files.

Modules are imported whole and their names looked up inside the tests, so the file also runs
against an older eocic to show which cases used to pass (see the report of issue 15).
"""

from __future__ import annotations

import gzip
import json
import shutil
import tracemalloc
import warnings
from pathlib import Path

import pytest

from eocic import pipeline, provenance, sources
from eocic.config import StudyConfig
from eocic.errors import EocicError
from eocic.eurostat import reader
from eocic.stress import scenarios

MB = 1_000_000

SBS_HEADER = "nace_r2,indic_sb,geo\\time\t2015 \t2014 \n"
SBS_ROW = "B05,V16110,AT11\t100 \t90 \n"


# --- building hostile files ----------------------------------------------------------------------

def gzip_bomb(path: Path, inflated_bytes: int, *, block: bytes,
              header: bytes = SBS_HEADER.encode()) -> Path:
    """A gzip file of repeated gzip members of ``block`` (multi-member gzip is valid and read
    whole by every gzip reader): a few KB per 4 MB of repeated content, so a bomb of hundreds
    of MB is written in a fraction of a second without ever holding it in memory."""
    member = gzip.compress(block * max(1, (4 << 20) // len(block)), compresslevel=9)
    per_member = len(block) * max(1, (4 << 20) // len(block))
    with open(path, "wb") as out:
        out.write(gzip.compress(header))
        for _ in range(-(-inflated_bytes // per_member)):
            out.write(member)
    return path


@pytest.fixture(scope="module")
def bomb_400mb(tmp_path_factory) -> Path:
    """A 1 MB ``sbs_r_nuts06_r2.tsv.gz`` that inflates to 400 MB: one series row repeated."""
    folder = tmp_path_factory.mktemp("bomb")
    return gzip_bomb(folder / "sbs_r_nuts06_r2.tsv.gz", 400 * MB, block=SBS_ROW.encode())


def write(path: Path, payload: bytes | str, *, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload if isinstance(payload, bytes) else payload.encode(encoding))
    return path


def sbs_tsv(year_values: dict[int, list[str]]) -> str:
    """A regional SBS TSV: country AT, regions AT11/AT12, division B05, persons employed."""
    years = sorted(year_values, reverse=True)
    lines = ["nace_r2,indic_sb,geo\\time\t" + "\t".join(f"{y} " for y in years)]
    for position, geo in enumerate(("AT", "AT11", "AT12")):
        lines.append(f"B05,V16110,{geo}\t" + "\t".join(year_values[y][position] for y in years))
    return "\n".join(lines) + "\n"


def sdmx_sbs(years: list[int]) -> str:
    rows = ["DATAFLOW,LAST UPDATE,freq,nace_r2,indic_sb,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG"]
    rows += [f"ESTAT:SBS_R_NUTS06_R2(1.0),01/01/25,A,B05,V16110,{geo},{year},{value},"
             for year in years for geo, value in (("AT", 1000), ("AT11", 100), ("AT12", 900))]
    return "\n".join(rows) + "\n"


def folder_config(folder: Path, year: int) -> StudyConfig:
    return StudyConfig(source=str(folder), year=year, root=folder.parent)


def run_pipeline_quietly(folder: Path, year: int, out: Path) -> pipeline.PipelineResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run_pipeline(sources.locate_datasets(folder), folder, out, year=year)


# --- family 1: bounded reading -------------------------------------------------------------------

def _bomb_read_eurostat(tmp_path: Path, bomb: Path):
    return reader.read_eurostat(bomb)


def _bomb_in_prepared_pipeline(tmp_path: Path, bomb: Path):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(bomb, folder)
    # the header is fine, so the year check passes on one line; the pipeline then stops
    return run_pipeline_quietly(folder, 2015, tmp_path / "out")


def _bomb_count_rows(tmp_path: Path, bomb: Path):
    return provenance.count_data_rows(bomb)


def _zeros_bomb_header(tmp_path: Path, bomb: Path):
    zeros = gzip_bomb(tmp_path / "sbs_r_nuts06_r2.tsv.gz", 200 * MB, block=b"\x00" * 4096, header=b"")
    return sources.years_covered(zeros)


def _newline_free_header(tmp_path: Path, bomb: Path):
    path = tmp_path / "sbs_r_nuts06_r2.tsv.gz"
    path.write_bytes(gzip.compress(b"a" * (3 << 20)))
    return sources.years_covered(path)


def _plain_file_over_the_cap(tmp_path: Path, bomb: Path):
    path = write(tmp_path / "big.tsv", SBS_HEADER + SBS_ROW * 2000)
    return reader.read_eurostat(path, provenance.InflationLimit(max_bytes=10_000))


def _environment_cap(tmp_path: Path, bomb: Path):
    path = write(tmp_path / "big.tsv", SBS_HEADER + SBS_ROW * 2000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EOCIC_MAX_INFLATED_BYTES", "10000")
        return reader.read_eurostat(path)


def _environment_cap_not_a_number(tmp_path: Path, bomb: Path):
    path = write(tmp_path / "small.tsv", SBS_HEADER + SBS_ROW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EOCIC_MAX_INFLATED_BYTES", "4GB")
        return reader.read_eurostat(path)


def _small_bomb_strict_ratio(tmp_path: Path, bomb: Path):
    path = gzip_bomb(tmp_path / "x.tsv.gz", 8 << 20, block=SBS_ROW.encode())
    return reader.read_eurostat(path, provenance.InflationLimit(ratio_exempt_bytes=0))


BOUNDED_READING = {
    # case: (action, fragments of the message)
    "bomb_read_eurostat": (_bomb_read_eurostat, [
        "sbs_r_nuts06_r2.tsv.gz", "100 times", "MAX_INFLATION_RATIO", "decompression bomb"]),
    "bomb_in_the_pipeline": (_bomb_in_prepared_pipeline, [
        "sbs_r_nuts06_r2.tsv.gz", "reading stopped"]),
    "bomb_manifest_row_count": (_bomb_count_rows, ["sbs_r_nuts06_r2.tsv.gz", "100 times"]),
    "zeros_bomb_header_is_not_text": (_zeros_bomb_header, [
        "sbs_r_nuts06_r2.tsv.gz", "NUL byte at byte offset 0"]),
    "newline_free_header": (_newline_free_header, ["no line break in the first 1,048,576 bytes"]),
    "plain_file_over_the_cap": (_plain_file_over_the_cap, [
        "big.tsv", "0.0 MB (eocic.provenance.MAX_INFLATED_BYTES", "nothing was read"]),
    "environment_cap": (_environment_cap, ["big.tsv", "EOCIC_MAX_INFLATED_BYTES"]),
    "environment_cap_not_a_number": (_environment_cap_not_a_number, [
        "EOCIC_MAX_INFLATED_BYTES='4GB' is not a positive number of bytes"]),
    "small_bomb_strict_ratio": (_small_bomb_strict_ratio, ["x.tsv.gz", "100 times"]),
}


@pytest.mark.parametrize("case", list(BOUNDED_READING))
def test_bounded_reading(case: str, bomb_400mb: Path, tmp_path: Path):
    action, fragments = BOUNDED_READING[case]
    tracemalloc.start()
    try:
        with pytest.raises(EocicError) as caught:
            action(tmp_path, bomb_400mb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for fragment in fragments:
        assert fragment in str(caught.value)
    # reading stops at the limit (100 x 1 MB stored, or the 64 MiB floor): the Python
    # memory of reading stays far below the 400 MB the bomb inflates to (before: >= 400 MB)
    assert peak < 150 * MB, f"{case}: peak {peak / MB:.0f} MB"


def test_a_raised_limit_reads_a_genuine_compressible_file(tmp_path: Path):
    """The ratio is a guard, not a ban: a caller who knows the file raises it."""
    path = tmp_path / "x.tsv.gz"
    path.write_bytes(gzip.compress((SBS_HEADER + SBS_ROW).encode()))
    assert len(reader.read_eurostat(path, provenance.InflationLimit(ratio_exempt_bytes=0,
                                                                     max_ratio=1000))) == 2


# --- family 2: validation before work (errors) ---------------------------------------------------

def _sdmx_year_outside(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.csv", sdmx_sbs([2014, 2015]))
    return sources.prepare_source(folder_config(folder, 2020), log=lambda line: None)


def _tsv_year_outside(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", sbs_tsv({2015: ["1000 ", "100 ", "900 "],
                                                   2014: ["990 ", "90 ", "900 "]}))
    return sources.prepare_source(folder_config(folder, 2020), log=lambda line: None)


def _sdmx_header_only(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.csv", sdmx_sbs([]))
    return sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)


def _reference_year_all_missing(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", sbs_tsv({2015: [": ", ": c", ": c"],
                                                   2014: ["990 ", "90 ", "900 "]}))
    sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)  # year is there
    return run_pipeline_quietly(folder, 2015, tmp_path / "out")


def _all_zero_employment(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", sbs_tsv({2015: ["0 ", "0 ", "0 "],
                                                   2014: ["0 ", "0 ", "0 "]}))
    return run_pipeline_quietly(folder, 2015, tmp_path / "out")


def _huge_number_tsv(tmp_path: Path):
    path = write(tmp_path / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW
                 + "B05,V16110,AT12\t" + "9" * 400 + " \t1 \n")
    return reader.read_eurostat(path)


def _huge_number_sdmx(tmp_path: Path):
    text = sdmx_sbs([2015]).replace(",900,", "," + "1" * 400 + ",")
    return reader.read_eurostat(write(tmp_path / "sbs_r_nuts06_r2.csv", text))


def _huge_number_ardeco(tmp_path: Path):
    text = ('"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"\n'
            '"SNPTD",2021,2,"AT11",2022,"Persons",3e+05\n'
            '"SNPTD",2021,2,"AT12",2022,"Persons",1e+400\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reader.read_eurostat(write(tmp_path / "ardeco_nuts2_population.csv", text))


def _tsv_beside_tsv_gz(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW)
    write(folder / "sbs_r_nuts06_r2.tsv.gz", gzip.compress((SBS_HEADER + SBS_ROW).encode()))
    return sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)


def _tsv_and_csv(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW)
    write(folder / "SBS_R_NUTS06_R2.csv", sdmx_sbs([2015]))
    return sources.locate_datasets(folder)


VALIDATION_ERRORS = {
    "sdmx_csv_year_outside_the_data": (_sdmx_year_outside, [
        "year 2020 is outside the data", "cover 2014-2015", "--year"]),
    "tsv_year_outside_the_data": (_tsv_year_outside, ["year 2020 is outside", "cover 2014-2015"]),
    "sdmx_csv_sbs_header_only": (_sdmx_header_only, [
        "sbs_r_nuts06_r2.csv: no periods found", "download it again"]),
    "reference_year_all_missing": (_reference_year_all_missing, [
        "sbs_r_nuts06_r2.tsv", "no SBS employment value for the reference year 2015",
        "every cell is missing", "pass --year"]),
    "all_zero_employment": (_all_zero_employment, [
        "sbs_r_nuts06_r2.tsv", "every published SBS employment value of the reference year "
        "2015 is 0", "No year has employment values"]),
    "number_beyond_float_range_tsv": (_huge_number_tsv, [
        "sbs_r_nuts06_r2.tsv, line 3", "(401 characters)", "beyond the float64 range"]),
    "number_beyond_float_range_sdmx_csv": (_huge_number_sdmx, [
        "sbs_r_nuts06_r2.csv, line 4", "OBS_VALUE", "beyond the float64 range"]),
    "number_beyond_float_range_ardeco": (_huge_number_ardeco, [
        "ardeco_nuts2_population.csv, line 3", "VALUE '1e+400'", "beyond the float64 range"]),
    "tsv_beside_tsv_gz": (_tsv_beside_tsv_gz, [
        "sbs_r_nuts06_r2.tsv and ", "sbs_r_nuts06_r2.tsv.gz", "Keep one file per dataset"]),
    "tsv_and_csv_of_one_code": (_tsv_and_csv, [
        "SBS_R_NUTS06_R2.csv and ", "sbs_r_nuts06_r2.tsv", "Keep one file per dataset"]),
}


@pytest.mark.parametrize("case", list(VALIDATION_ERRORS))
def test_validation_before_work(case: str, tmp_path: Path):
    action, fragments = VALIDATION_ERRORS[case]
    with pytest.raises(EocicError) as caught:
        action(tmp_path)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert not (tmp_path / "out" / "sbs.parquet").exists()  # nothing written before the error


# --- family 3: validation notes (the run goes on, the notes are recorded) ------------------------

def _population_below_employment(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", sbs_tsv({2015: ["1000 ", "100 ", "900 "],
                                                   2014: ["990 ", "90 ", "900 "]}))
    write(folder / "demo_r_d2jan.tsv", "freq,unit,sex,age,geo\\TIME_PERIOD\t2014\t2015\n"
          "A,NR,T,TOTAL,AT11\t500000\t500000\nA,NR,T,TOTAL,AT12\t400\t450\n")
    out = tmp_path / "out"
    with pytest.warns(sources.DataValidationWarning, match="region AT12"):
        result = pipeline.run_pipeline(sources.locate_datasets(folder), folder, out, year=2015)
    recorded = json.loads((out / "validation.json").read_text())
    assert recorded == result.validation
    return recorded


def _dataset_without_the_reference_year(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", sbs_tsv({2015: ["1000 ", "100 ", "900 "],
                                                   2014: ["990 ", "90 ", "900 "]}))
    write(folder / "ardeco_nuts2_population.csv",
          '"VARIABLE","VERSIONS","LEVEL","NUTSCODE","YEAR","UNIT","VALUE"\n'
          '"SNPTD",2021,2,"AT11",2011,"Persons",287800\n'
          '"SNPTD",2021,2,"AT11",2012,"Persons",287900\n')
    info = sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)
    out = tmp_path / "out"
    out.mkdir()
    (out / sources.RESOLVED_SOURCE).write_text(json.dumps(info))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run_pipeline(sources.locate_datasets(folder), folder, out, year=2015)
    return json.loads((out / "validation.json").read_text())


VALIDATION_NOTES = {
    "employment_above_population": (_population_below_employment, "sbs_r_nuts06_r2", [
        "region AT12", "exceed its population (demo_r_d2jan) in 2 year(s) (2014, 2015)",
        "e.g. 2014: 900 employed, 400 inhabitants"]),
    "ardeco_without_the_reference_year": (_dataset_without_the_reference_year,
                                          "ardeco_nuts2_population", [
        "covers 2011-2012, not the reference year 2015"]),
}


@pytest.mark.filterwarnings("ignore:no series matched the registry's filters")
@pytest.mark.parametrize("case", list(VALIDATION_NOTES))
def test_validation_notes_are_recorded(case: str, tmp_path: Path):
    action, code, fragments = VALIDATION_NOTES[case]
    notes = action(tmp_path)
    assert [note["code"] for note in notes] == [code]
    assert set(notes[0]) == {"code", "file", "message"} and notes[0]["file"]
    for fragment in fragments:
        assert fragment in notes[0]["message"]


def test_a_clean_run_records_no_notes(tmp_path: Path, fixtures_dir: Path):
    folder = tmp_path / "raw"
    shutil.copytree(fixtures_dir / "pipeline", folder)
    run_pipeline_quietly(folder, 2015, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "validation.json").read_text()) == []


# --- family 4: encodings and empty tables --------------------------------------------------------

LATIN1_SBS = SBS_HEADER + "B05,V16110,AT11\t100 \t90 \nB05,V16110,AT1\u00e9\t1 \t2 \n"


def _utf16_bom(tmp_path: Path):
    return reader.read_eurostat(write(tmp_path / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW,
                                      encoding="utf-16"))


def _utf16_without_bom(tmp_path: Path):
    return reader.read_eurostat(write(tmp_path / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW,
                                      encoding="utf-16-be"))


def _utf16_gzipped_in_prepare_source(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv.gz",
          gzip.compress((SBS_HEADER + SBS_ROW).encode("utf-16")))
    return sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)


def _latin1_row(tmp_path: Path):
    return reader.read_eurostat(write(tmp_path / "sbs_r_nuts06_r2.tsv", LATIN1_SBS,
                                      encoding="latin-1"))


def _latin1_header_in_prepare_source(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", "nace_r2,indic_sb,g\u00e9o\\time\t2015 \n",
          encoding="latin-1")
    return sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)


def _latin1_sdmx_csv(tmp_path: Path):
    text = sdmx_sbs([2015]).replace("AT12", "AT1\u00e9")
    return reader.read_eurostat(write(tmp_path / "sbs_r_nuts06_r2.csv", text, encoding="latin-1"))


def _header_only_sbs_in_the_pipeline(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", SBS_HEADER)
    sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)  # header: years
    return run_pipeline_quietly(folder, 2015, tmp_path / "out")


def _header_only_optional_dataset(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv", SBS_HEADER + SBS_ROW)
    write(folder / "nama_10r_2gdp.tsv", "freq,unit,geo\\TIME_PERIOD\t2014\t2015\n")
    return run_pipeline_quietly(folder, 2015, tmp_path / "out")


def _corrupt_gzip_in_prepare_source(tmp_path: Path):
    folder = tmp_path / "raw"
    write(folder / "sbs_r_nuts06_r2.tsv.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    return sources.prepare_source(folder_config(folder, 2015), log=lambda line: None)


def _scenario(tmp_path: Path, text: str, encoding: str):
    path = write(tmp_path / "my_shock.yaml", text, encoding=encoding)
    return scenarios.load_scenario(path)


SCENARIO = "name: my_shock\ntitle: Cho\u00e7 \u00e9nerg\u00e9tique\nshocks:\n  C24: -0.08\n"

ENCODINGS_AND_EMPTY = {
    "utf16_with_byte_order_mark": (_utf16_bom, [
        "sbs_r_nuts06_r2.tsv", "UTF-16 (little-endian) text (byte-order mark FF FE)", "iconv"]),
    "utf16_without_byte_order_mark": (_utf16_without_bom, [
        "sbs_r_nuts06_r2.tsv, line 1", "NUL byte at byte offset 0",
        "UTF-16 without a byte-order mark"]),
    "utf16_gzip_before_the_run": (_utf16_gzipped_in_prepare_source, [
        "sbs_r_nuts06_r2.tsv.gz", "UTF-16 (little-endian)"]),
    "latin1_row": (_latin1_row, [
        "sbs_r_nuts06_r2.tsv, line 3", "byte offset 77", "bytes E9", "Latin-1", "iconv -f LATIN1"]),
    "latin1_header_before_the_run": (_latin1_header_in_prepare_source, [
        "sbs_r_nuts06_r2.tsv, line 1", "byte offset 18", "Latin-1"]),
    "latin1_sdmx_csv": (_latin1_sdmx_csv, ["sbs_r_nuts06_r2.csv, line 4", "byte offset",
                                            "Latin-1"]),
    "header_only_sbs": (_header_only_sbs_in_the_pipeline, [
        "sbs_r_nuts06_r2.tsv: dataset sbs_r_nuts06_r2 has a header and no data rows"]),
    "header_only_optional_dataset": (_header_only_optional_dataset, [
        "nama_10r_2gdp.tsv: dataset nama_10r_2gdp has a header and no data rows", "remove"]),
    "corrupt_gzip_before_the_run": (_corrupt_gzip_in_prepare_source, [
        "sbs_r_nuts06_r2.tsv.gz", "truncated or corrupt gzip"]),
    "scenario_yaml_latin1": (lambda tmp_path: _scenario(tmp_path, SCENARIO, "latin-1"), [
        "my_shock.yaml, line 2", "byte E7", "not UTF-8", "iconv -f LATIN1"]),
    "scenario_yaml_utf16": (lambda tmp_path: _scenario(tmp_path, SCENARIO, "utf-16"), [
        "my_shock.yaml", "UTF-16"]),
}


@pytest.mark.parametrize("case", list(ENCODINGS_AND_EMPTY))
def test_clear_errors_for_encodings_and_empty_tables(case: str, tmp_path: Path):
    action, fragments = ENCODINGS_AND_EMPTY[case]
    with pytest.raises(EocicError) as caught:
        action(tmp_path)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert not (tmp_path / "out" / "sbs.parquet").exists()  # no empty table was written


def test_utf8_scenario_with_byte_order_mark_still_reads(tmp_path: Path):
    scenario = _scenario(tmp_path, "\ufeff" + SCENARIO, "utf-8")
    assert scenario.title == "Cho\u00e7 \u00e9nerg\u00e9tique"


def test_index_lists_validation_notes_escaped(tmp_path: Path):
    """The index page (eocic.report) lists the notes; a hostile file or region name in a note
    stays text."""
    from eocic import report

    assert report.validation_notes_html(tmp_path) == ""  # no validation.json: nothing shown
    note = sources.validation_note("demo_r_d2jan", tmp_path / "<img src=x onerror=alert(1)>.tsv",
                                   "region <b>AT12</b>: employment exceeds population")
    (tmp_path / sources.VALIDATION_FILE).write_text(json.dumps([note]))
    page = report.validation_notes_html(tmp_path)
    assert "region &lt;b&gt;AT12&lt;/b&gt;: employment exceeds population" in page
    assert "<b>" not in page and "<img" not in page
