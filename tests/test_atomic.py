"""Atomic writers: all or nothing, readable by others, deterministic gzip."""

from __future__ import annotations

import gzip
import os
import stat

import pytest

from eocic.atomic import atomic_path, gzip_bytes, write_text_atomic


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.parquet"]


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "index.html", "<html>")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_gzip_is_byte_identical_and_round_trips():
    payload = b"nace_r2,indic_sb,geo\\time\t2015 \n"
    assert gzip_bytes(payload) == gzip_bytes(payload)
    assert gzip.decompress(gzip_bytes(payload)) == payload


def test_partial_files_of_a_killed_writer_are_found_and_removed(tmp_path):
    from eocic.atomic import atomic_path, remove_partial_files

    kept = tmp_path / "logs" / ".hidden.tmp.notes"  # not atomic_path's pattern: kept
    kept.parent.mkdir()
    kept.write_text("mine")
    (tmp_path / "table.parquet").write_bytes(b"done")
    context = atomic_path(tmp_path / "logs" / "03_scoreboard.ipynb")
    partial = context.__enter__()  # the writer dies here: no rename, no clean-up
    partial.write_text("half")
    assert remove_partial_files(tmp_path) == [partial]
    assert not partial.exists() and kept.exists() and (tmp_path / "table.parquet").exists()
