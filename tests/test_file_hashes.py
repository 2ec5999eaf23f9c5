"""Content hashes of files (eocic.provenance): remembered per process while a file keeps its
inode, size and modification time; a table rewritten the way eocic writes (temporary file,
rename) is hashed again."""

from __future__ import annotations

import hashlib
import os

from eocic import provenance


def test_file_sha256_is_the_content_hash_and_is_read_once(tmp_path, monkeypatch):
    path = tmp_path / "table.parquet"
    path.write_bytes(b"first version")
    calls = []
    real = provenance.sha256_of
    monkeypatch.setattr(provenance, "sha256_of", lambda p: calls.append(p) or real(p))
    provenance._remembered_sha256.cache_clear()
    assert provenance.file_sha256(path) == hashlib.sha256(b"first version").hexdigest()
    assert provenance.file_sha256(path) == hashlib.sha256(b"first version").hexdigest()
    assert len(calls) == 1
    # rewritten as eocic writes tables: a new file renamed over the old one
    partial = tmp_path / ".table.parquet.partial"
    partial.write_bytes(b"other version")
    os.replace(partial, path)
    assert provenance.file_sha256(path) == hashlib.sha256(b"other version").hexdigest()
    # rewritten in place with the same size, but another modification time
    path.write_bytes(b"third version")
    os.utime(path, ns=(1, 1))
    assert provenance.file_sha256(path) == hashlib.sha256(b"third version").hexdigest()
    assert len(calls) == 3
