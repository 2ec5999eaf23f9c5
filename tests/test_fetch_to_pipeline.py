"""From download to processed tables: `eocic fetch` against a loopback server, then the
pipeline on the archived vintages (what `--source eurostat` reads)."""

from __future__ import annotations

import warnings
from pathlib import Path

from test_eurostat_fetch import Reply, server  # noqa: F401  (pytest fixture)

from eocic import cli, pipeline, sources
from eocic.atomic import gzip_bytes


def test_cli_fetch_then_pipeline_on_archive(server, tmp_path: Path, fixtures_dir: Path,  # noqa: F811
                                            capsys):
    for code in ("sbs_r_nuts06_r2", "nama_10r_2gdp"):
        payload = gzip_bytes((fixtures_dir / "pipeline" / f"{code}.tsv").read_bytes())
        server.route(f"/sdmx/2.1/data/{code.upper()}", Reply(body=payload))
        server.route(f"/sdmx/2.1/data/{code}", Reply(body=payload))
    raw = tmp_path / "raw"
    code = cli.main(["fetch", "--datasets", "sbs_r_nuts06_r2", "nama_10r_2gdp",
                     "--raw-dir", str(raw), "--base-url", server.base_url])
    assert code == 0, capsys.readouterr().err
    archived = sources.locate_archived(raw)
    assert sorted(archived) == ["nama_10r_2gdp", "sbs_r_nuts06_r2"]
    assert all(path.parent.parent == raw / "eurostat" for path in archived.values())
    assert (raw / "eurostat" / "manifest.json").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pipeline.run_pipeline(archived, raw, tmp_path / "processed", year=2015)
    sbs = result.tables["sbs"].set_index(["geo", "nace_r2", "year"])
    assert sbs.loc[("AT12", "B05", 2015), "employment"] == 900


def test_cli_fetch_offline_exit_code(tmp_path: Path, capsys):
    code = cli.main(["fetch", "--datasets", "nama_10r_2gdp", "--raw-dir", str(tmp_path),
                     "--base-url", "http://127.0.0.1:9"])
    assert code == 1
    assert "offline" in capsys.readouterr().err.lower()
