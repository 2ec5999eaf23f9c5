"""Format errors of Eurostat files, and the raw-byte loader that reports corrupt files.

Every reader in :mod:`eocic.eurostat` raises :class:`EurostatFormatError` for bad input.
The message names the file, the 1-based line number (the header is line 1) and what
was expected, so the user can open the file at that line and fix or re-download it.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from eocic.errors import EocicError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


class EurostatFormatError(EocicError, ValueError):
    """A Eurostat file does not follow the expected format.

    Attributes
    ----------
    source : str
        The file (path as given).
    line : int or None
        1-based physical line number of the offending line (header = 1), or ``None``
        when the problem concerns the whole file (e.g. a corrupt gzip stream).
    problem : str
        What was found.
    expected : str
        What the reader expected instead, i.e. how to fix the file.
    """

    def __init__(self, source: str | os.PathLike[str], line: int | None, problem: str,
                 expected: str) -> None:
        self.source = str(source)
        self.line = line
        self.problem = problem
        self.expected = expected
        where = f"{self.source}, line {line}" if line is not None else self.source
        super().__init__(f"{where}: {problem}; expected {expected}")


def read_payload(path: str | os.PathLike[str]) -> bytes:
    """Return the decompressed bytes of ``path``, without a UTF-8 byte-order mark.

    Gzip is detected by its magic bytes (``1f 8b``), not by the file name, so a
    ``.tsv`` that is really gzipped (or a ``.gz`` that is not) is read correctly.

    Raises
    ------
    EurostatFormatError
        If the gzip stream is truncated or corrupt (the fix: download the file again).
    """
    raw = Path(path).read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise EurostatFormatError(
                path, None, f"truncated or corrupt gzip stream ({exc})",
                "a complete gzip file (download it again)") from exc
    if raw[:3] == UTF8_BOM:
        raw = raw[3:]
    return raw


class UnknownFlagWarning(UserWarning):
    """A Eurostat file carries flag letters outside the known code lists (kept as is)."""
