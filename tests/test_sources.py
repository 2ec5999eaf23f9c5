"""Locating dataset files: folders searched by code, archived vintages newest or pinned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eocic import sources
from eocic.atomic import gzip_bytes
from eocic.config import ConfigError, StudyConfig


def _archive(raw: Path, code: str, stamp: str, payload: bytes) -> Path:
    path = raw / "eurostat" / code / f"{stamp}.tsv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_bytes(payload))
    return path


@pytest.fixture()
def project(tmp_path: Path, fixtures_dir: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    sbs = (fixtures_dir / "pipeline" / "sbs_r_nuts06_r2.tsv").read_bytes()
    _archive(tmp_path / "data" / "raw", "sbs_r_nuts06_r2", "20250101T000000Z", sbs)
    newer = sbs.replace(b"\t2015 \t2014 ", b"\t2016 \t2015 ")
    _archive(tmp_path / "data" / "raw", "sbs_r_nuts06_r2", "20260101T000000Z", newer)
    return tmp_path


def test_newest_vintage_by_default_and_pins(project: Path):
    newest = sources.prepare_source(StudyConfig(source="eurostat", year=2016, root=project),
                                    log=lambda line: None)
    assert newest["datasets"]["sbs_r_nuts06_r2"].endswith("20260101T000000Z.tsv.gz")
    assert newest["sbs_years"] == [2015, 2016]
    pinned = sources.prepare_source(
        StudyConfig(source="eurostat", year=2014, root=project,
                    pins=(("sbs_r_nuts06_r2", "2025"),)), log=lambda line: None)
    assert pinned["datasets"]["sbs_r_nuts06_r2"].endswith("20250101T000000Z.tsv.gz")
    with pytest.raises(ConfigError):
        sources.prepare_source(StudyConfig(source="eurostat", year=2014, root=project,
                                           pins=(("sbs_r_nuts06_r2", "1999"),)),
                               log=lambda line: None)


def test_year_outside_the_archived_data(project: Path):
    with pytest.raises(ConfigError, match="cover 2015-2016"):
        sources.prepare_source(StudyConfig(source="eurostat", year=2014, root=project),
                               log=lambda line: None)


def test_folder_search_is_recursive_and_refuses_two_files_for_one_code(tmp_path: Path,
                                                                      fixtures_dir: Path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    shutil.copy(fixtures_dir / "pipeline" / "sbs_r_nuts06_r2.tsv", deep)
    (tmp_path / "unrelated_code.tsv").write_text("x")
    found = sources.locate_datasets(tmp_path)
    assert found == {"sbs_r_nuts06_r2": deep / "sbs_r_nuts06_r2.tsv"}
    assert sources.years_covered(found["sbs_r_nuts06_r2"]) == [2014, 2015]
    # a second file for the same code, even compressed or elsewhere in the tree: refused
    (tmp_path / "sbs_r_nuts06_r2.tsv.gz").write_bytes(
        gzip_bytes((fixtures_dir / "pipeline" / "sbs_r_nuts06_r2.tsv").read_bytes()))
    with pytest.raises(ConfigError, match=r"a/b/sbs_r_nuts06_r2\.tsv and .*sbs_r_nuts06_r2\.tsv\.gz"):
        sources.locate_datasets(tmp_path)


def test_pins_need_the_eurostat_source(tmp_path: Path):
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(ConfigError, match="--source eurostat"):
        StudyConfig(source="demo", root=tmp_path, pins=(("x", "1"),)).validate()


def test_demo_seed_gets_its_own_folder(tmp_path: Path):
    (tmp_path / "notebooks").mkdir()
    assert StudyConfig(source="demo", root=tmp_path).data_dir.name == "demo"
    assert StudyConfig(source="demo", root=tmp_path, seed=7).data_dir.name == "demo-seed7"


def test_demo_with_a_foreign_seed_is_refused(tmp_path: Path):
    (tmp_path / "notebooks").mkdir()
    folder = tmp_path / "data" / "raw" / "demo"
    folder.mkdir(parents=True)
    (folder / "truth.json").write_text('{"seed": 1}')
    with pytest.raises(ConfigError, match="another seed"):
        sources.prepare_source(StudyConfig(source="demo", root=tmp_path), log=lambda line: None)


def test_demo_of_an_older_format_is_written_again(tmp_path: Path, monkeypatch):
    import json

    import eocic.demo
    from eocic.demo.economy import DEMO_FORMAT_VERSION

    real = eocic.demo.generate_demo_economy
    calls = []

    def three_years(out_dir, *, seed):  # the real writer, on fewer years to keep the test fast
        calls.append(seed)
        return real(out_dir, seed=seed, first_year=2018, last_year=2020)

    monkeypatch.setattr(eocic.demo, "generate_demo_economy", three_years)
    (tmp_path / "notebooks").mkdir()
    config = StudyConfig(source="demo", root=tmp_path)
    folder = config.data_dir
    folder.mkdir(parents=True)
    # a folder of format version 1 (no version recorded, no NUTS-1 rows, no confidential truth)
    (folder / "truth.json").write_text(json.dumps({"seed": config.seed}))
    (folder / "sbs_r_nuts06_r2.tsv.gz").write_bytes(b"stale")
    lines: list[str] = []
    described = sources.prepare_source(config, log=lines.append)
    assert calls == [config.seed]
    assert any(f"format version 1, this eocic writes version {DEMO_FORMAT_VERSION}" in line
               for line in lines), lines
    assert json.loads((folder / "truth.json").read_text())["demo_format_version"] == \
        DEMO_FORMAT_VERSION
    assert (folder / "truth_confidential.csv.gz").exists()
    assert described["sbs_years"] == [2018, 2020]
    # a folder of the current format is used as it is
    lines.clear()
    sources.prepare_source(config, log=lines.append)
    assert calls == [config.seed] and not any("writing" in line for line in lines)
