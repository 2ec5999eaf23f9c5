"""Atomic file writing: no half-written file is ever left behind.

Every writer in eocic writes to a temporary file in the destination folder and renames it
into place (``os.replace`` is atomic on POSIX when source and target share a file system).
If the writer raises, the temporary file is removed and the previous target, if any, is
left untouched.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary file lives in the same folder (same file system), is named
    ``.<name>.<random>.tmp<suffixes>`` (it keeps the target's suffixes, so tools that check
    extensions accept it) and is deleted if the ``with`` block raises.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + "".join(target.suffixes), dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; published tables and reports are read by others
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


#: Name of a temporary file of :func:`atomic_path` (``.<name>.<8 random chars>.tmp<suffixes>``).
PARTIAL_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]+)*$")


def remove_partial_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files :func:`atomic_path` left under ``folder`` (recursively) when
    its process was killed before the rename (e.g. a dask worker lost while a stage ran);
    returns them. Call it only when no writer is active in ``folder``."""
    removed = []
    for path in sorted(Path(folder).rglob(".*.tmp*")):
        if path.is_file() and PARTIAL_FILE.match(path.name):
            path.unlink()
            removed.append(path)
    return removed


def write_bytes_atomic(target: str | os.PathLike[str], payload: bytes) -> Path:
    """Write ``payload`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the target path."""
    return write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON (byte-stable for equal inputs)."""
    return write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def gzip_bytes(payload: bytes) -> bytes:
    """Gzip ``payload`` deterministically: no file name and a zero timestamp in the header,
    so equal inputs give byte-identical ``.gz`` files."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", filename="", mtime=0, compresslevel=6) as gz:
        gz.write(payload)
    return buffer.getvalue()


def write_parquet_atomic(frame: "pandas.DataFrame", target: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to parquet atomically (pyarrow, no index, snappy compression).

    Equal frames give byte-identical files for a given pyarrow version.
    """
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="snappy")
    return Path(target)
