"""The registry's open regional datasets: each records what was checked, successors resolve to
the newest present, and the shared extracts hold the dimension codes the registry selects."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from eocic import pipeline, sources
from eocic.config import StudyConfig
from eocic.eurostat.reader import read_eurostat
from eocic.eurostat.registry import DATASETS, newest_present

#: Datasets issue 14 asks the registry to know.
ISSUE_14_DATASETS = (
    "hrst_st_rcat", "rd_p_persreg", "rd_e_gerdreg", "isoc_r_iuse_i", "isoc_r_blt12_i",
    "isoc_r_gov_i", "isoc_r_iacc_h", "nama_10r_2gfcf", "lfst_r_lfsd2pwc", "ipr_ta_reg",
    "ipr_da_reg", "lfst_r_lfe2estat", "lfst_r_lfe2emprt", "lfst_r_lfu3rt", "nama_10r_3gva",
    "nama_10r_3empers", "nama_10r_2coe", "edat_lfse_22", "demo_r_d3dens", "pat_ep_rtot",
    "pat_ep_rtec", "bd_hgnace2_r3", "bd_hgnace_r", "bd_salge1_nace_r")


@pytest.mark.parametrize("code", ISSUE_14_DATASETS)
def test_every_new_dataset_records_its_check(code):
    dataset = DATASETS[code]
    assert dataset.checked or dataset.unverified, f"{code}: neither checked nor unverified"
    assert dataset.indicators


def test_gerd_by_sector_includes_government_and_higher_education():
    filters = {i.code: i.filters for i in DATASETS["rd_e_gerdreg"].indicators}
    assert filters["rd_gov_pc_gdp"]["sectperf"] == "GOV"
    assert filters["rd_hes_pc_gdp"]["sectperf"] == "HES"


def test_foreign_born_is_country_of_birth_not_citizenship():
    filters = [i.filters for i in DATASETS["lfst_r_lfsd2pwc"].indicators]
    assert {f["c_birth"] for f in filters} == {"TOTAL", "FOR"}
    assert "lfst_r_lfsd2pwn" not in DATASETS


def test_successors_are_registered_and_feed_the_same_table():
    for dataset in DATASETS.values():
        for successor in dataset.successors:
            assert successor in DATASETS, f"{dataset.code}: unknown successor {successor}"
            assert DATASETS[successor].feeds == dataset.feeds
    assert DATASETS["bd_hgnace2_r3"].successors == ("bd_hgnace_r",)


def test_newest_present_wins():
    assert newest_present("bd_hgnace2_r3", {"bd_hgnace2_r3"}) == "bd_hgnace2_r3"
    assert newest_present("bd_hgnace2_r3", {"bd_hgnace2_r3", "bd_hgnace_r"}) == "bd_hgnace_r"
    assert newest_present("rd_e_gerdreg", {"rd_e_gerdreg"}) == "rd_e_gerdreg"


def test_resolve_successors_drops_the_superseded_file(tmp_path: Path):
    files = {"bd_hgnace2_r3": tmp_path / "a.tsv", "bd_hgnace_r": tmp_path / "b.tsv",
             "sbs_r_nuts06_r2": tmp_path / "c.tsv"}
    kept, superseded = sources.resolve_successors(files)
    assert superseded == {"bd_hgnace2_r3": "bd_hgnace_r"}
    assert set(kept) == {"bd_hgnace_r", "sbs_r_nuts06_r2"}


def test_prepare_source_says_which_successor_it_used(tmp_path: Path, fixtures_dir: Path):
    """A folder with the old and the new business demography: the run uses the new one, logs
    it and records it in the source description (a run that silently read both would let the
    older dataset feed the demography table)."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(fixtures_dir / "pipeline" / "sbs_r_nuts06_r2.tsv", folder)
    (folder / "bd_hgnace2_r3.tsv").write_text(
        "indic_sb,nace_r2,geo\\time\t2015 \t2014 \nV11920,C,AT11\t5 \t4 \n")
    (folder / "bd_hgnace_r.tsv").write_text(
        "freq,indic_sbs,nace_r2,geo\\TIME_PERIOD\t2014 \t2015 \nA,V11920,C,AT11\t6 \t7 \n")
    lines: list[str] = []
    info = sources.prepare_source(StudyConfig(source=str(folder), year=2015, root=tmp_path),
                                  log=lines.append)
    assert info["superseded_datasets"] == {"bd_hgnace2_r3": "bd_hgnace_r"}
    assert "bd_hgnace2_r3" not in info["datasets"] and "bd_hgnace_r" in info["datasets"]
    assert "bd_hgnace2_r3" not in info["missing_datasets"]
    assert any("bd_hgnace_r (the newest) is used, bd_hgnace2_r3 is left out" in line
               for line in lines)


INNOVATION = "regional_context/eurostat_innovation_2022"


@pytest.mark.parametrize("code", ["hrst_st_rcat", "rd_p_persreg", "rd_e_gerdreg",
                                  "pat_ep_rtot", "pat_ep_rtec"])
def test_shared_extract_holds_every_registered_series(shared_data: Path, code: str):
    """Every indicator of the registry entries checked against the shared 2022 extracts
    selects rows at NUTS-2 (a renamed code would select none)."""
    raw = read_eurostat(shared_data / INNOVATION / f"{code}.tsv.gz")
    dataset = DATASETS[code]
    for indicator in dataset.indicators:
        selected = pipeline.select_indicator(raw, dataset, indicator)
        nuts2 = selected[selected["geo"].astype(str).str.len() == 4]
        assert nuts2["value"].notna().sum() > 100, f"{code}:{indicator.code} selects nothing"


def test_new_context_indicators_reach_the_context_table(shared_data: Path, tmp_path: Path):
    """A source folder of the shared 2017 SBS and the 2022 innovation extracts: the pipeline
    puts HRST, scientists and engineers, researchers, R&D personnel, GERD of government and
    higher education, and EPO patents into ``context`` for some 250-330 NUTS-2 regions."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "sbs_r_nuts06_r2.tsv.gz").symlink_to(
        shared_data / "eurostat_sbs" / "sbs_r_nuts06_r2.tsv.gz")
    for code in ("hrst_st_rcat", "rd_p_persreg", "rd_e_gerdreg", "pat_ep_rtot", "pat_ep_rtec"):
        (folder / f"{code}.tsv.gz").symlink_to(shared_data / INNOVATION / f"{code}.tsv.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pipeline.run_pipeline(sources.locate_datasets(folder), folder,
                                       tmp_path / "out", year=2014)
    assert not result.selection.query("rows_read == 0").shape[0], result.selection
    import pandas as pd

    context = pd.read_parquet(tmp_path / "out" / "context.parquet")
    regions = context.groupby(["indicator", "year"])["geo"].nunique()
    for code in ("hrst_pc_active", "scientists_engineers_pc_active", "researchers_pc_employment",
                 "rd_personnel_pc_employment", "rd_gov_pc_gdp", "rd_hes_pc_gdp"):
        assert regions[(code, 2014)] > 250, code
    for code in ("epo_patents_per_million_inhabitants",
                 "hightech_patents_per_million_inhabitants"):
        assert regions[(code, 2012)] > 250, code


def test_a_dataset_stood_for_by_its_successor_or_predecessor_is_not_missing():
    from eocic.eurostat.registry import absent_datasets

    assert "bd_hgnace2_r3" not in absent_datasets({"bd_hgnace_r"})
    assert "bd_hgnace_r" not in absent_datasets({"bd_hgnace2_r3"})
    both_absent = absent_datasets(set())
    assert {"bd_hgnace2_r3", "bd_hgnace_r"} <= set(both_absent)
