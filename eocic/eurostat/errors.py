"""Format errors of Eurostat files, and the raw-byte loader that reports corrupt files.

Every reader in :mod:`eocic.eurostat` raises :class:`EurostatFormatError` for bad input.
The message names the file, the 1-based line number (the header is line 1) and what
was expected, so the user can open the file at that line and fix or re-download it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator

from eocic.errors import EocicError
from eocic.provenance import GZIP_MAGIC  # noqa: F401  (still importable from here)
from eocic.provenance import READ_CHUNK_BYTES, InflationLimit, open_maybe_gzipped

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


def read_payload(path: str | os.PathLike[str], limit: InflationLimit | None = None) -> bytes:
    """Return the decompressed bytes of ``path``, without a UTF-8 byte-order mark.

    Gzip is detected by its magic bytes (``1f 8b``), not by the file name, so a
    ``.tsv`` that is really gzipped (or a ``.gz`` that is not) is read correctly. The file is
    decompressed chunk by chunk and reading stops once it passes ``limit`` (default
    :func:`eocic.provenance.default_inflation_limit`: 1 GiB, and 100 times the stored size of a
    gzip file above 64 MiB), so a decompression bomb fails after at most that many bytes.

    Raises
    ------
    EurostatFormatError
        If the gzip stream is truncated or corrupt (the fix: download the file again), or the
        text is UTF-16/UTF-32 or holds NUL bytes (:func:`check_text_encoding`).
    eocic.provenance.InflatedSizeError
        If the file holds or inflates to more bytes than ``limit`` allows.
    """
    chunks = []
    with gzip_errors_named(path), open_maybe_gzipped(path, limit) as handle:
        first = handle.read(READ_CHUNK_BYTES)
        check_text_encoding(first, path)
        chunks.append(first[len(UTF8_BOM):] if first.startswith(UTF8_BOM) else first)
        while chunk := handle.read(READ_CHUNK_BYTES):
            chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@contextlib.contextmanager
def gzip_errors_named(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn the errors of a truncated or corrupt gzip stream read in the block into an
    :class:`EurostatFormatError` naming ``path`` and the fix (download the file again)."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise EurostatFormatError(
            path, None, f"truncated or corrupt gzip stream ({exc})",
            "a complete gzip file (download it again)") from exc


#: Byte-order marks of the encodings a text file may be saved in, other than UTF-8 (longest
#: first: the UTF-32 little-endian mark starts with the UTF-16 one).
OTHER_BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)"),
)

#: How a user converts a file to UTF-8.
CONVERT_TO_UTF8 = ("re-save it as UTF-8 (spreadsheet: 'CSV UTF-8'; shell: "
                   "iconv -f {encoding} -t UTF-8 FILE > FILE.utf8) or download it again")


def check_text_encoding(head: bytes, source: str | os.PathLike[str]) -> None:
    """Raise when the first bytes of a file show it is not UTF-8 text at all: a UTF-16/UTF-32
    byte-order mark, or NUL bytes (UTF-16 without a mark: every other byte of ASCII text is 0;
    or a binary file). A UTF-8 file never holds a NUL byte in text.

    Raises
    ------
    EurostatFormatError
        Naming the file, the encoding found (or the offset of the first NUL byte) and the fix.
    """
    for mark, encoding in OTHER_BYTE_ORDER_MARKS:
        if head.startswith(mark):
            raise EurostatFormatError(
                source, None, f"the file is {encoding} text (byte-order mark "
                f"{mark.hex(' ').upper()}), not UTF-8",
                "a UTF-8 file: " + CONVERT_TO_UTF8.format(encoding=encoding.split()[0]))
    nul = head.find(b"\x00")
    if nul >= 0:
        guess = ("UTF-16 without a byte-order mark" if head[1:200:2].count(0) > 50
                 or head[0:200:2].count(0) > 50 else "binary data")
        raise EurostatFormatError(
            source, head.count(b"\n", 0, nul) + 1, f"NUL byte at byte offset {nul}: the file looks "
            f"like {guess}, not UTF-8 text",
            "a UTF-8 text file: " + CONVERT_TO_UTF8.format(encoding="UTF-16"))


def utf8_problem(source: str | os.PathLike[str], line: int, line_offset: int,
                 error: UnicodeDecodeError) -> EurostatFormatError:
    """The error for invalid UTF-8 in line ``line`` that starts at byte ``line_offset`` of the
    (decompressed) file: names the file, line, byte offset and bytes, and the likely fix
    (a file saved as Latin-1/Windows-1252)."""
    offset = line_offset + error.start
    found = error.object[error.start:error.start + 4].hex(" ").upper()
    return EurostatFormatError(
        source, line, f"invalid UTF-8 at byte offset {offset} of the file (bytes {found}: "
        f"{error.reason}); the file is probably Latin-1/Windows-1252",
        "a UTF-8 text file: " + CONVERT_TO_UTF8.format(encoding="LATIN1"))


class UnknownFlagWarning(UserWarning):
    """A Eurostat file carries flag letters outside the known code lists (kept as is)."""
