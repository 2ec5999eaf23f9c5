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
