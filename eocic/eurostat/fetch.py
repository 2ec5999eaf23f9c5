"""Download Eurostat datasets and GISCO NUTS geometries into the never-overwriting archive.

Eurostat serves only the latest vintage of each dataset, so every download is archived under
``raw_dir/eurostat/<code>/<YYYYMMDDTHHMMSSZ>.tsv.gz`` (see :mod:`eocic.eurostat.archive`); the
study then reads the newest, or a pinned, vintage. Only the standard library is used for HTTP.

Data URL (Eurostat SDMX 2.1 REST API, TSV, gzip-compressed; the format we archive)::

    {base}/sdmx/2.1/data/{code}[/{key}]?format=TSV&compressed=true[&startPeriod=..][&endPeriod=..]

where ``key`` holds dimension values in the order of the data structure definition, joined by
dots (empty = all values, ``+`` = or), e.g. ``A.MIO_EUR..``.

Behaviour
---------
Atomic
    The body is streamed to ``<code>/incoming.tsv.gz.part`` in the vintage folder (same file
    system), checked (a complete gzip stream whose first line is a Eurostat TSV header, i.e.
    contains ``\\TIME_PERIOD`` or ``\\time``), and only then linked to its vintage name. A
    payload that fails the check is deleted: neither a ``.part`` nor a vintage is left.
Resumable
    If a transfer breaks off (connection reset, timeout, fewer bytes than ``Content-Length``),
    the ``.part`` and a small ``.part.json`` (URL, ``ETag``, ``Last-Modified``) are kept. The next
    attempt, in this run or the next, asks for the rest with ``Range: bytes=N-`` (and
    ``If-Range``). A ``206 Partial Content`` reply is appended; a ``200`` reply (server
    ignoring ranges, or the file changed) restarts from zero. A resumed file that fails the
    check is downloaded once more in full before giving up.
Interrupted runs
    Datasets are archived one by one (manifest updated after each). A dataset whose newest
    vintage was downloaded from the same URL and retrieved or confirmed on the same UTC day is
    skipped (``status="skipped"``) unless ``force=True``: re-running an interrupted
    ``eocic fetch`` downloads only the rest. Eurostat publishes at most twice a day.
Unchanged data
    A download byte-identical (SHA-256) to the newest vintage is not stored again
    (``status="unchanged"``; the manifest's ``last_confirmed_at`` is updated).
Retries
    Server errors (5xx), ``429``, time-outs and broken transfers are retried ``retries`` times
    after ``backoff * 2**attempt`` seconds (``Retry-After`` honoured, capped at 60 s); ``sleep``
    is injectable. Connection refused and name-resolution failures are not retried: they mean
    "offline", and raise :class:`OfflineError` at once.
Asynchronous replies
    Eurostat may answer a large query with an XML envelope holding a request key and the
    status ``SUBMITTED``/``PROCESSING`` instead of data (Eurostat "API - Detailed guidelines -
    Asynchronous API"). The key is polled at ``{base}/1.0/async/status/{key}`` every
    ``poll_interval`` seconds (at most ``max_polls`` times) until ``AVAILABLE``, then the data
    is downloaded from ``{base}/1.0/async/data/{key}``; ``EXPIRED``, ``ERROR`` and
    ``UNKNOWN_REQUEST`` raise :class:`FetchError`. A SOAP fault (e.g. 413
    ``EXTRACTION_TOO_BIG``) is reported with its fault string. Not verified against the live
    service (no access from the development machine): the envelope is parsed by element
    names (``id``/``key``, ``status``), whatever the XML namespaces, and the data of an
    asynchronous reply must again be a gzip TSV (a ZIP reply is rejected with a clear message).

Hostile or broken replies
    Nothing is archived unless the whole reply passed its check, and a refused reply leaves no
    file behind (the one exception is the documented resumable ``.part`` + ``.part.json`` of a
    broken transfer whose retries ran out, kept so the next run resumes it).

    * Size: a reply larger than ``max_download_bytes`` (default :data:`MAX_DOWNLOAD_BYTES`,
      1 GiB, about 300 times the largest dataset the study reads) is refused: at once when its
      ``Content-Length`` says so, otherwise as soon as the streamed bytes pass the limit (the
      body is written to disk in 64 KiB chunks, never held in memory).
    * Inflation: the gzip check decompresses in 1 MiB chunks and counts; a reply inflating past
      ``max_inflated_bytes`` (default :data:`MAX_INFLATED_BYTES`, 1 GiB, as for readers), or past
      ``max_inflation_ratio`` (:data:`MAX_INFLATION_RATIO`, 100) times its compressed size above
      :data:`INFLATION_RATIO_FLOOR_BYTES` (a gzip "bomb": Eurostat TSV inflate 3-7 times), is
      refused without being decompressed further.
    * Redirects are followed (at most 10) only within the origin (scheme, host and port) of the
      configured base URL: a redirect to another origin raises :class:`FetchError` naming both,
      unless ``allow_other_hosts=True`` (``eocic fetch --allow-other-hosts``), e.g. for a mirror
      that hands out downloads from a CDN. The URL the bytes finally came from is recorded in
      the manifest as ``final_url``.
    * A web page (HTML maintenance, login or error page) served with ``200`` instead of data,
      an empty reply, an XML document with a DTD (never parsed: entity expansion) are refused
      with a message saying what came back.
    * A ``Content-Length`` that is not a number is ignored (the body is read to its end and
      checked); one longer than the body is a broken transfer (retried, then resumable).
    * A folder that cannot be written (read-only, disk full) is a :class:`FetchError` naming it.

Not handled: concurrent ``eocic fetch`` runs on the same ``raw_dir`` (they share the ``.part``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import http.client
import json
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from eocic import __version__, provenance
from eocic.atomic import write_json_atomic
from eocic.errors import EocicError
from eocic.eurostat.archive import (
    DATASET_SUFFIX,
    EUROSTAT_FOLDER,
    GEOMETRY_SUFFIX,
    GISCO_FOLDER,
    ArchivedFile,
    DatasetCodeError,
    archived_datasets,
    as_utc,
    commit_vintage,
    fresh_vintage,
    newest_vintage,
    normalise_code,
    read_manifest,
    utc_now,
)

__all__ = [
    "DEFAULT_BASE_URL", "GISCO_BASE", "MAX_DOWNLOAD_BYTES", "MAX_INFLATED_BYTES",
    "ArchivedFile", "DatasetCodeError", "FetchError", "OfflineError", "checked_codes",
    "archived_datasets", "dataset_url", "fetch_datasets", "fetch_nuts_geometries",
    "newest_vintage", "nuts_geometry_name", "nuts_geometry_url",
]

DEFAULT_BASE_URL = "https://ec.europa.eu/eurostat/api/dissemination"
GISCO_BASE = "https://gisco-services.ec.europa.eu/distribution/v2"

#: Options of the GISCO NUTS distribution: map scale (1:1 million ... 1:60 million), EPSG code
#: of the coordinate reference system, NUTS level.
GISCO_SCALES = ("01M", "03M", "10M", "20M", "60M")
GISCO_CRS = (3035, 3857, 4326)
NUTS_LEVELS = (0, 1, 2, 3)

USER_AGENT = f"eocic/{__version__} (archive of Eurostat vintages; Python urllib)"
CHUNK_BYTES = 1 << 16
#: Bytes of a non-gzip reply read to recognise an XML envelope (asynchronous reply, fault).
ENVELOPE_MAX_BYTES = 1 << 20
#: Largest reply stored, in bytes as served (compressed): 1 GiB, about 300 times the largest
#: dataset the study reads (``sbs_r_nuts06_r2``, 3.1 MB gzip in the 2017 extract; current
#: downloads are larger). Past it the download stops and nothing is kept.
MAX_DOWNLOAD_BYTES = 1 << 30
#: Inflation caps of the gzip check: the same limits every reader applies
#: (:class:`eocic.provenance.InflationLimit`), so that every vintage fetch archives can be read.
#: Eurostat TSV inflate 3-7 times (the extracts in the shared data); one TSV row repeated
#: inflates 515 times, zeros 1029 times (measured).
MAX_INFLATED_BYTES = provenance.MAX_INFLATED_BYTES
MAX_INFLATION_RATIO = provenance.MAX_INFLATION_RATIO
INFLATION_RATIO_FLOOR_BYTES = provenance.RATIO_EXEMPT_BYTES
#: Largest GeoJSON reply parsed (it is parsed whole, so memory is several times this): 256 MiB;
#: the 1:3 million NUTS 2 file of the shared data is 2.4 MB.
MAX_GEOJSON_BYTES = 256 << 20
#: Redirects followed per request (urllib's limit).
MAX_REDIRECTS = 10
MAX_RETRY_AFTER_SECONDS = 60.0
ASYNC_PENDING = ("SUBMITTED", "PROCESSING")
ASYNC_FAILED = ("EXPIRED", "ERROR", "UNKNOWN_REQUEST")
ASYNC_STATUSES = ASYNC_PENDING + ("AVAILABLE",) + ASYNC_FAILED

Log = Callable[[str], None]
Sleep = Callable[[float], None]


class FetchError(EocicError, RuntimeError):
    """A download failed. ``archived`` lists what this run archived before the failure."""

    def __init__(self, message: str, archived: list[ArchivedFile] | None = None) -> None:
        super().__init__(message)
        self.archived = list(archived or [])


class OfflineError(FetchError):
    """The server cannot be reached at all (no network, DNS failure, connection refused)."""


class _Retryable(Exception):
    """A transient failure: server error, time-out, broken transfer."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _RangeNotSatisfiable(_Retryable):
    """HTTP 416: the ``.part`` does not match the file on the server any more."""


class _InvalidPayload(Exception):
    """A complete reply whose content is not what was asked for."""


@dataclass(frozen=True)
class _Transfer:
    """HTTP facts of one completed download (``final_url``: after redirects)."""

    url: str
    last_modified: str | None
    etag: str | None
    resumed: bool
    final_url: str


@dataclass(frozen=True)
class _Settings:
    """Network settings shared by every request of one fetch call."""

    timeout: float
    retries: int
    backoff: float
    sleep: Sleep
    log: Log
    service: str  # "Eurostat" or "GISCO", for messages
    base_url: str  # redirects must stay within its origin unless allow_other_hosts
    allow_other_hosts: bool = False
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    max_inflated_bytes: int = MAX_INFLATED_BYTES
    max_inflation_ratio: float = MAX_INFLATION_RATIO


# --------------------------------------------------------------------------------------------
# URLs


def dataset_url(code: str, *, base_url: str = DEFAULT_BASE_URL, key: str | None = None,
                start_period: str | None = None, end_period: str | None = None) -> str:
    """Eurostat SDMX 2.1 data URL of ``code`` as gzip-compressed TSV.

    Parameters
    ----------
    code : str
        Dataset code, e.g. ``nama_10r_2gdp`` (lower-cased).
    key : str, optional
        Series key filter: dimension values in data-structure order joined by dots, empty for
        all values, ``+`` between alternatives (e.g. ``A.MIO_EUR.DE+FR``).
    start_period, end_period : str, optional
        First / last period (``2015``, ``2015-Q1``, ...).

    Examples
    --------
    >>> dataset_url("nama_10r_2gdp", start_period="2015")
    'https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/nama_10r_2gdp?format=TSV&compressed=true&startPeriod=2015'
    """
    path = f"{base_url.rstrip('/')}/sdmx/2.1/data/{urllib.parse.quote(normalise_code(code))}"
    if key:
        path += "/" + urllib.parse.quote(key.strip(), safe=".+")
    query = [("format", "TSV"), ("compressed", "true")]
    if start_period:
        query.append(("startPeriod", str(start_period)))
    if end_period:
        query.append(("endPeriod", str(end_period)))
    return f"{path}?{urllib.parse.urlencode(query)}"


def nuts_geometry_name(*, year: int = 2021, scale: str = "20M", crs: int = 4326,
                       level: int = 2) -> str:
    """GISCO file stem of NUTS regions, e.g. ``NUTS_RG_20M_2021_4326_LEVL_2``.

    Raises
    ------
    ValueError
        If an option is not one GISCO distributes.
    """
    if scale not in GISCO_SCALES:
        raise ValueError(f"GISCO scale {scale!r} not distributed; use one of {GISCO_SCALES}")
    if int(crs) not in GISCO_CRS:
        raise ValueError(f"GISCO CRS EPSG:{crs} not distributed; use one of {GISCO_CRS}")
    if int(level) not in NUTS_LEVELS:
        raise ValueError(f"NUTS level {level!r} does not exist; use one of {NUTS_LEVELS}")
    if not 2003 <= int(year) <= 2100:
        raise ValueError(f"NUTS year {year!r} implausible; NUTS versions: 2003, 2006, 2010, "
                         "2013, 2016, 2021, 2024")
    return f"NUTS_RG_{scale}_{int(year)}_{int(crs)}_LEVL_{int(level)}"


def nuts_geometry_url(name: str, *, base_url: str = GISCO_BASE) -> str:
    """GISCO download URL of a NUTS GeoJSON file named by :func:`nuts_geometry_name`."""
    return f"{base_url.rstrip('/')}/nuts/geojson/{name}.geojson"


# --------------------------------------------------------------------------------------------
# HTTP


def _offline_message(url: str, reason: object, service: str) -> str:
    return (f"cannot reach {url}: {reason}. You are offline or {service} is unreachable; "
            "the study still runs on archived vintages (--source eurostat) or on the demo "
            "(--source demo)")


def _fault_text(body: bytes) -> str | None:
    """``faultstring`` of a SOAP fault, or ``None`` (also for XML with a DTD, never parsed:
    entity expansion can inflate a small reply without bound)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1].lower() == "faultstring" and element.text:
            return element.text.strip()
    return None


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, min((when - dt.datetime.now(dt.timezone.utc)).total_seconds(),
                            MAX_RETRY_AFTER_SECONDS))


def origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host (lower case) and port (the scheme's default when absent) of ``url``: what
    must match for a redirect to stay on the configured server."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


def _origin_text(url: str) -> str:
    scheme, host, port = origin_of(url)
    return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Follows redirects within the origin of the configured base URL only (or anywhere when
    allowed); a redirect elsewhere raises :class:`FetchError` naming both origins."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, settings: _Settings) -> None:
        self.settings = settings

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 (urllib API)
        if not self.settings.allow_other_hosts \
                and origin_of(newurl) != origin_of(self.settings.base_url):
            fp.close()
            raise FetchError(
                f"{self.settings.service} redirected {req.full_url} (HTTP {code}) to "
                f"{newurl}, on another host: {_origin_text(newurl)} is not the configured "
                f"{_origin_text(self.settings.base_url)}. Redirects to other hosts are refused "
                "unless allowed (eocic fetch --allow-other-hosts, or allow_other_hosts=True); "
                "allow them only if you trust that host, or set --base-url to it")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _content_length(headers) -> int | None:
    """``Content-Length`` as a non-negative integer, ``None`` when absent or not a number
    (the body is then read to its end; http.client does the same)."""
    value = (headers.get("Content-Length") or "").strip() if headers is not None else ""
    return int(value) if value.isdigit() else None


def _too_large(url: str, size: int, settings: _Settings, *, announced: bool) -> FetchError:
    how = "announces" if announced else "sent more than"
    return FetchError(
        f"{settings.service} reply of {url} {how} {size:,} bytes, more than the maximum "
        f"download size of {settings.max_download_bytes:,} bytes; nothing was kept. Narrow "
        "the query (a key filter or startPeriod) or, if the dataset really is that large, "
        "raise the limit (eocic fetch --max-download-mb, or max_download_bytes=)")


def _open(url: str, headers: Mapping[str, str], settings: _Settings,
          not_found: str) -> http.client.HTTPResponse:
    """Open ``url`` (redirects guarded by :class:`_RedirectGuard`); classify failures as
    :class:`FetchError`, :class:`OfflineError` or :class:`_Retryable`."""
    request = urllib.request.Request(url, headers={
        "User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers})
    opener = urllib.request.build_opener(_RedirectGuard(settings))
    try:
        return opener.open(request, timeout=settings.timeout)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(ENVELOPE_MAX_BYTES) if exc.fp is not None else b""
        except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException):
            body = b""  # the error body is only quoted; a broken one is not a new failure
        fault = _fault_text(body)
        detail = f": {fault}" if fault else ""
        if 300 <= exc.code < 400:
            reason = " ".join(str(exc.reason).split())
            raise FetchError(f"{settings.service} redirect from {url} not followed: HTTP "
                             f"{exc.code} {reason} (a redirect loop, more than {MAX_REDIRECTS} "
                             "redirects, a redirect to a scheme other than http/https, or no "
                             "Location); check --base-url") from None
        if exc.code == 404:
            raise FetchError(f"{not_found} (HTTP 404 from {url}){detail}") from None
        if exc.code == 416:
            raise _RangeNotSatisfiable("HTTP 416: the partial download does not match the "
                                       "file on the server; restarting") from None
        if exc.code >= 500 or exc.code == 429:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}{detail}",
                             _retry_after(exc.headers)) from None
        raise FetchError(f"{settings.service} refused {url}: HTTP {exc.code} {exc.reason}"
                         f"{detail or ': ' + body[:300].decode('utf-8', 'replace')}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _Retryable(f"timed out connecting ({reason})") from None
        if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                               http.client.HTTPException)):
            raise _Retryable(f"connection dropped by the server ({reason!r})") from None
        if isinstance(reason, ssl.SSLError):
            raise FetchError(f"TLS failure talking to {url}: {reason}; check the system "
                             "certificates or a proxy that intercepts HTTPS") from None
        raise OfflineError(_offline_message(url, reason, settings.service)) from None
    except (TimeoutError, socket.timeout) as exc:
        raise _Retryable(f"timed out ({exc})") from None
    except (ConnectionError, http.client.HTTPException) as exc:
        raise _Retryable(f"connection broken ({exc!r})") from None


def _with_retries(action: Callable[[], object], url: str, settings: _Settings,
                  on_give_up: Callable[[], str] = str):
    """Run ``action`` with up to ``settings.retries`` retries of :class:`_Retryable`;
    ``on_give_up()`` is appended to the final message."""
    for attempt in range(settings.retries + 1):
        try:
            return action()
        except _Retryable as exc:
            if attempt == settings.retries:
                raise FetchError(f"{settings.service} download of {url} failed after "
                                 f"{attempt + 1} attempt(s): {exc}{on_give_up()}") from None
            delay = exc.retry_after if exc.retry_after is not None \
                else settings.backoff * 2 ** attempt
            settings.log(f"  {exc}; retry {attempt + 1}/{settings.retries} in {delay:g} s")
            settings.sleep(delay)
    raise AssertionError("unreachable")


def _read_small(url: str, settings: _Settings, not_found: str) -> bytes:
    """Body of a small reply (asynchronous status), with retries."""
    def attempt() -> bytes:
        with _open(url, {}, settings, not_found) as response:
            try:
                return response.read(ENVELOPE_MAX_BYTES)
            except (TimeoutError, socket.timeout, ConnectionError,
                    http.client.HTTPException) as exc:
                raise _Retryable(f"transfer broken ({exc!r})") from None
    return _with_retries(attempt, url, settings)


def _sidecar(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _discard(part: Path) -> None:
    for path in (part, _sidecar(part)):
        if path.exists():
            path.unlink()


def _resumable_bytes(part: Path, url: str) -> tuple[int, dict]:
    """Size of a ``.part`` left by an earlier transfer of ``url`` (0 if none or another URL),
    and the validators recorded with it."""
    sidecar = _sidecar(part)
    if not part.exists() or not sidecar.exists():
        _discard(part)
        return 0, {}
    try:
        recorded = json.loads(sidecar.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        recorded = {}
    if recorded.get("url") != url:
        _discard(part)
        return 0, {}
    return part.stat().st_size, recorded


def _download_once(url: str, part: Path, settings: _Settings, not_found: str) -> _Transfer:
    """One attempt at transferring ``url`` into ``part``, resuming a ``.part`` if possible."""
    offset, recorded = _resumable_bytes(part, url)
    headers = {}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        etag = recorded.get("etag")
        strong_etag = etag if etag and not etag.startswith("W/") else None
        validator = strong_etag or recorded.get("last_modified")  # If-Range: strong only
        if validator:
            headers["If-Range"] = validator
    try:
        response = _open(url, headers, settings, not_found)
    except _RangeNotSatisfiable:
        _discard(part)
        raise
    with response:
        status = response.status
        if offset and status == 206:
            content_range = response.headers.get("Content-Range", "")
            start = content_range.removeprefix("bytes ").split("-", 1)[0].strip()
            if start != str(offset):
                _discard(part)
                raise _Retryable(f"server resumed at {content_range!r}, not at byte {offset}; "
                                 "restarting the download")
            settings.log(f"  resuming {part.name} at byte {offset:,}")
            mode, resumed = "ab", True
        elif status == 206:
            raise _Retryable("HTTP 206 partial content to a request for the whole file")
        else:
            if offset:
                settings.log(f"  server sent the whole file (HTTP {status}); restarting")
            mode, resumed, offset = "wb", False, 0
        last_modified = response.headers.get("Last-Modified")
        etag = response.headers.get("ETag")
        final_url = response.geturl()
        expected = _content_length(response.headers)
        if expected is not None and offset + expected > settings.max_download_bytes:
            _discard(part)
            raise _too_large(url, offset + expected, settings, announced=True)
        received = 0
        try:
            if not resumed or etag or last_modified:
                write_json_atomic(_sidecar(part), {"url": url, "etag": etag,
                                                   "last_modified": last_modified})
            with open(part, mode) as sink:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except (OSError, http.client.HTTPException) as exc:  # time-out, reset, TLS
                        raise _Retryable(f"transfer broken after {offset + received:,} bytes "
                                         f"({exc!r})") from None
                    if not chunk:
                        break
                    received += len(chunk)
                    if offset + received > settings.max_download_bytes:
                        sink.close()
                        _discard(part)
                        raise _too_large(url, settings.max_download_bytes, settings,
                                         announced=False)
                    sink.write(chunk)
        except OSError as exc:  # the archive folder, not the network (converted above)
            _discard(part)
            raise FetchError(f"cannot write the download to {part.parent}: "
                             f"{exc.strerror or exc}; make the folder writable and free some "
                             "disk space, or choose another --raw-dir") from None
        if expected is not None and received < expected:
            raise _Retryable(f"transfer broken after {offset + received:,} bytes "
                             f"(expected {offset + expected:,})")
    if resumed:  # validators of the original transfer, if the resumed reply lacks them
        last_modified = last_modified or recorded.get("last_modified")
        etag = etag or recorded.get("etag")
    return _Transfer(url=url, last_modified=last_modified, etag=etag, resumed=resumed,
                     final_url=final_url)


def _download(url: str, part: Path, settings: _Settings, not_found: str) -> _Transfer:
    """Transfer ``url`` into ``part`` with retries; a broken transfer keeps its ``.part``
    (resumed by the next run); any other failure but being offline removes it."""
    try:
        part.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create the archive folder {part.parent}: "
                         f"{exc.strerror or exc}; make {part.parent.parent} writable or choose "
                         "another --raw-dir") from None

    def attempt() -> _Transfer:
        try:
            return _download_once(url, part, settings, not_found)
        except OfflineError:
            raise
        except FetchError:
            _discard(part)
            raise

    def keep_note() -> str:
        if not part.exists():
            return ""
        return f"; the partial download {part} is kept and resumed by the next run"

    return _with_retries(attempt, url, settings, on_give_up=keep_note)


def _download_checked(url: str, part: Path, settings: _Settings, not_found: str,
                      check: Callable[[Path], object]) -> tuple[_Transfer, object]:
    """Download and check ``part``; a resumed download failing the check is redone in full.
    A payload failing the check is deleted and reported as :class:`FetchError`."""
    transfer = _download(url, part, settings, not_found)
    try:
        return transfer, check(part)
    except FetchError:
        _discard(part)
        raise
    except _InvalidPayload as exc:
        if not transfer.resumed:
            _discard(part)
            raise FetchError(f"rejected the reply of {url}: {exc}") from None
        settings.log(f"  resumed file failed the check ({exc}); downloading it in full")
    _discard(part)
    transfer = _download(url, part, settings, not_found)
    try:
        return transfer, check(part)
    except (FetchError, _InvalidPayload) as exc:
        _discard(part)
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"rejected the reply of {url}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Payload checks


@dataclass(frozen=True)
class _AsyncReply:
    key: str
    status: str


def _async_reply(body: bytes) -> _AsyncReply | None:
    """Request key and status of a Eurostat asynchronous envelope, or ``None``.

    Recognises ``<queued><id>KEY</id><status>SUBMITTED</status></queued>`` (initial reply) and
    ``<status><key>KEY</key><status>AVAILABLE</status></status>`` (status reply), in any
    namespace.
    """
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    key = status = None
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1].lower()
        text = (element.text or "").strip()
        if not text:
            continue
        if name in ("id", "key") and key is None:
            key = text
        elif name == "status" and text.upper() in ASYNC_STATUSES and status is None:
            status = text.upper()
    if key is None or status is None or not all(c.isalnum() or c in "-_." for c in key):
        return None
    return _AsyncReply(key=key, status=status)


def _head_of(part: Path) -> bytes:
    with open(part, "rb") as handle:
        return handle.read(ENVELOPE_MAX_BYTES)


_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])",
                         re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _html_page(body: bytes) -> str | None:
    """Description of an HTML page (with its title), or ``None`` when ``body`` is not one."""
    if not _HTML_START.match(body[:4096]):
        return None
    title = _HTML_TITLE.search(body)
    text = " ".join(title.group(1).decode("utf-8", "replace").split())[:100] if title else ""
    return ("an HTML web page" + (f" titled {text!r}" if text else "")
            + ", not data: the server answered with a page (maintenance, login or error page) "
            "instead of gzip TSV; try again later, or check --base-url")


def _inflation_limit(compressed: int, max_inflated_bytes: int,
                     max_inflation_ratio: float) -> int:
    """Inflated bytes allowed for a gzip file of ``compressed`` bytes (see the module
    docstring): the absolute cap, and the ratio cap above its floor."""
    limit = provenance.InflationLimit(max_bytes=max_inflated_bytes, max_ratio=max_inflation_ratio)
    return limit.bytes_allowed(compressed, gzipped=True)


def check_eurostat_tsv_gzip(part: Path, *, max_inflated_bytes: int = MAX_INFLATED_BYTES,
                            max_inflation_ratio: float = MAX_INFLATION_RATIO
                            ) -> _AsyncReply | None:
    """Check a Eurostat reply: ``None`` for a valid gzip TSV, the asynchronous request for an
    async envelope.

    A valid reply is a complete gzip stream (the whole file is decompressed in 1 MiB chunks
    and discarded, so a truncated or corrupt stream fails its CRC/length check while memory
    stays flat) whose first line contains ``\\TIME_PERIOD`` (API) or ``\\time`` (legacy bulk
    files), and which inflates to at most ``max_inflated_bytes`` and, above
    :data:`INFLATION_RATIO_FLOOR_BYTES`, to at most ``max_inflation_ratio`` times its size.

    Raises
    ------
    FetchError
        For a SOAP fault (its fault string is quoted).
    _InvalidPayload
        For anything else.
    """
    head = _head_of(part)
    gzipped = head[:2] == b"\x1f\x8b"
    if not head.strip():
        raise _InvalidPayload("an empty reply (no data); try again later")
    if not gzipped:
        envelope = head
    else:
        compressed = part.stat().st_size
        limit = _inflation_limit(compressed, max_inflated_bytes, max_inflation_ratio)
        try:
            with gzip.open(part, "rb") as stream:
                first_line = stream.readline(ENVELOPE_MAX_BYTES)
                inflated = len(first_line)
                while step := len(stream.read(CHUNK_BYTES * 16)):  # chunk dropped at once
                    inflated += step
                    if inflated > limit:
                        raise _InvalidPayload(
                            f"the gzip stream of {compressed:,} bytes inflates past "
                            f"{limit:,} bytes (the limit: at most {max_inflated_bytes:,} "
                            f"bytes, and at most {max_inflation_ratio:g} times the compressed "
                            f"size above {INFLATION_RATIO_FLOOR_BYTES:,}); not Eurostat data "
                            "as published (a compression bomb?); nothing was kept")
        except (EOFError, OSError, zlib.error) as exc:
            raise _InvalidPayload(f"truncated or corrupt gzip stream ({exc})") from None
        text = first_line.decode("utf-8-sig", "replace")
        if "\\TIME_PERIOD" in text or "\\time" in text:
            return None
        not_tsv = (f"first line {text[:120].rstrip()!r} is not a Eurostat TSV header (expected "
                   "a first field ending in \\TIME_PERIOD or \\time)")
        if not text.lstrip().startswith("<"):
            raise _InvalidPayload(not_tsv)
        with gzip.open(part, "rb") as stream:
            envelope = stream.read(ENVELOPE_MAX_BYTES)
    if envelope[:2] == b"PK":
        raise _InvalidPayload("a ZIP archive, not gzip TSV (not supported; ask for "
                              "format=TSV&compressed=true)")
    fault = _fault_text(envelope)
    if fault:
        hint = ("; narrow the query with a key filter or startPeriod"
                if "TOO_BIG" in fault.upper() else "")
        raise FetchError(f"Eurostat answered with an error: {fault}{hint}")
    reply = _async_reply(envelope)
    if reply is not None:
        return reply
    page = _html_page(envelope)
    if page:
        raise _InvalidPayload(page)
    if gzipped:
        raise _InvalidPayload(not_tsv)
    raise _InvalidPayload(f"not gzip and not a Eurostat asynchronous reply (starts "
                          f"{envelope[:80]!r})")


def check_geojson(part: Path) -> None:
    """Check that ``part`` is a GeoJSON FeatureCollection with a list of features.

    Raises
    ------
    _InvalidPayload
        If it is larger than :data:`MAX_GEOJSON_BYTES` (it is parsed whole), an HTML page, not
        JSON, or not a FeatureCollection.
    """
    size = part.stat().st_size
    if size > MAX_GEOJSON_BYTES:
        raise _InvalidPayload(f"{size:,} bytes of GeoJSON, more than the {MAX_GEOJSON_BYTES:,} "
                              "parsed at most; choose a coarser scale")
    page = _html_page(_head_of(part))
    if page:
        raise _InvalidPayload(page.replace("gzip TSV", "GeoJSON"))
    try:
        document = json.loads(part.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _InvalidPayload(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        kind = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise _InvalidPayload(f"JSON of type {kind!r}, expected a GeoJSON FeatureCollection "
                              "with a 'features' list")


# --------------------------------------------------------------------------------------------
# Eurostat datasets


def _resolve_async(reply: _AsyncReply, code: str, part: Path, base_url: str,
                   settings: _Settings, poll_interval: float, max_polls: int) -> _Transfer:
    """Poll an asynchronous Eurostat request until available, then download its data."""
    base = base_url.rstrip("/")
    status_url = f"{base}/1.0/async/status/{urllib.parse.quote(reply.key)}"
    data_url = f"{base}/1.0/async/data/{urllib.parse.quote(reply.key)}"
    settings.log(f"  {code}: Eurostat prepares the data asynchronously (key {reply.key}, "
                 f"{reply.status}); polling every {poll_interval:g} s, at most {max_polls} times")
    status = reply.status
    for poll in range(max_polls):
        if status == "AVAILABLE":
            break
        if status in ASYNC_FAILED:
            raise FetchError(f"Eurostat asynchronous request {reply.key} for {code} ended "
                             f"with status {status}; fetch again to submit a new request")
        settings.sleep(poll_interval)
        answer = _async_reply(_read_small(status_url, settings,
                                          f"asynchronous request {reply.key} unknown"))
        if answer is None:
            raise FetchError(f"unreadable reply of {status_url} (no key/status)")
        status = answer.status
    else:
        if status != "AVAILABLE":
            raise FetchError(
                f"Eurostat still prepares {code} (key {reply.key}, {status}) after {max_polls} "
                f"polls; run the fetch again later")
    transfer, nested = _download_checked(data_url, part, settings,
                                         f"asynchronous data {reply.key} not found",
                                         _dataset_check(settings))
    if nested is not None:
        _discard(part)
        raise FetchError(f"Eurostat asynchronous data {data_url} is another asynchronous reply")
    return transfer


def fetch_datasets(codes: Iterable[str], raw_dir: str | os.PathLike[str], *,
                   base_url: str = DEFAULT_BASE_URL, timeout: float = 60.0, retries: int = 3,
                   now: dt.datetime | None = None, log: Log = print,
                   force: bool = False, start_period: str | None = None,
                   keys: Mapping[str, str] | None = None, backoff: float = 1.0,
                   sleep: Sleep = time.sleep, poll_interval: float = 10.0,
                   max_polls: int = 60, allow_other_hosts: bool = False,
                   max_download_bytes: int = MAX_DOWNLOAD_BYTES,
                   max_inflated_bytes: int = MAX_INFLATED_BYTES,
                   max_inflation_ratio: float = MAX_INFLATION_RATIO) -> list[ArchivedFile]:
    """Download Eurostat datasets (gzip TSV) into the archive; never overwrite a vintage.

    Parameters
    ----------
    codes : iterable of str
        Eurostat dataset codes (case-insensitive; duplicates are fetched once). Every code is
        checked before any request (:func:`eocic.eurostat.archive.normalise_code`).
    raw_dir : path
        Raw-data folder; vintages go to ``raw_dir/eurostat/<code>/<stamp>.tsv.gz`` and are
        listed in ``raw_dir/eurostat/manifest.json``.
    base_url : str
        Root of the Eurostat dissemination API.
    timeout : float
        Seconds a connection may stay silent before the attempt counts as timed out.
    retries : int
        Retries after the first attempt, for 5xx, 429, time-outs and broken transfers.
    now : datetime, optional
        Download time used for every dataset's stamp (tests); default: the clock, read per
        dataset.
    log : callable
        Receives one progress line per event.
    force : bool
        Download even when the newest vintage of the same URL was fetched today (UTC).
    start_period : str, optional
        ``startPeriod`` of every query (e.g. ``"2008"``).
    keys : mapping, optional
        Code -> series-key filter (dots between dimensions), see :func:`dataset_url`.
    backoff : float
        First retry delay in seconds; doubled at each retry.
    sleep : callable
        ``time.sleep`` replacement (tests).
    poll_interval, max_polls : float, int
        Polling of asynchronous replies (seconds between polls; at most ``max_polls`` polls).
    allow_other_hosts : bool
        Follow redirects to another scheme, host or port than ``base_url``'s (refused by
        default: the archive must hold what the configured server published).
    max_download_bytes : int
        Largest reply stored, in bytes as served (default :data:`MAX_DOWNLOAD_BYTES`, 1 GiB).
    max_inflated_bytes : int
        Largest inflated size of a reply (default :data:`MAX_INFLATED_BYTES`, 1 GiB, as for readers).
    max_inflation_ratio : float
        Largest inflated / compressed size once the inflated size passes
        :data:`INFLATION_RATIO_FLOOR_BYTES` (default :data:`MAX_INFLATION_RATIO`, 100); raise
        it only for a dataset known to compress that well.

    Returns
    -------
    list of ArchivedFile
        One per code, in the order given, with ``status`` ``"new"``, ``"unchanged"`` or
        ``"skipped"``.

    Raises
    ------
    DatasetCodeError
        Before any request, if a code cannot be a Eurostat code (all bad codes are named).
    OfflineError
        At once when Eurostat cannot be reached (the message says how to work offline).
    ArchiveError
        If ``manifest.json`` is damaged (checked before any download), or a new vintage
        would overwrite an archived file.
    FetchError
        After trying every code, if some failed (404: the code does not exist; rejected
        payload; redirect to another host; reply over a size limit; retries exhausted).
        Codes that succeeded stay archived (``exc.archived``).
    """
    collection_dir = Path(raw_dir) / EUROSTAT_FOLDER
    settings = _Settings(timeout=timeout, retries=retries, backoff=backoff, sleep=sleep,
                         log=log, service="Eurostat", base_url=base_url,
                         allow_other_hosts=allow_other_hosts,
                         max_download_bytes=max_download_bytes,
                         max_inflated_bytes=max_inflated_bytes,
                         max_inflation_ratio=max_inflation_ratio)
    codes = [codes] if isinstance(codes, str) else list(codes)
    ordered = list(dict.fromkeys(checked_codes(codes)))
    key_filters = dict(zip(checked_codes(list(keys or {})), (keys or {}).values()))
    if not ordered:
        raise DatasetCodeError("no dataset code given; name at least one (e.g. nama_10r_2gdp)")
    read_manifest(collection_dir)  # a damaged manifest stops the run before any download
    archived: list[ArchivedFile] = []
    failures: list[str] = []
    for number, code in enumerate(ordered, start=1):
        moment = as_utc(now) if now is not None else utc_now()
        url = dataset_url(code, base_url=base_url, key=key_filters.get(code),
                          start_period=start_period)
        if not force:
            done = fresh_vintage(collection_dir, code, DATASET_SUFFIX, url=url, moment=moment)
            if done is not None:
                log(f"[{number}/{len(ordered)}] {code}: already fetched today "
                    f"(vintage {done.vintage}); skipped (use force to download again)")
                archived.append(done)
                continue
        log(f"[{number}/{len(ordered)}] {code}: downloading {url}")
        part = collection_dir / code / f"incoming{DATASET_SUFFIX}.part"
        try:
            result = _fetch_one_dataset(code, url, part, collection_dir, moment, base_url,
                                        settings, poll_interval, max_polls)
        except OfflineError as exc:
            raise OfflineError(str(exc), archived) from None
        except FetchError as exc:
            log(f"  {code}: FAILED: {exc}")
            failures.append(f"{code}: {exc}")
            continue
        archived.append(result)
        if result.status == "new":
            log(f"  {code}: new vintage {result.vintage} ({result.bytes:,} bytes, "
                f"sha256 {result.sha256[:12]})")
        else:
            log(f"  {code}: unchanged since vintage {result.vintage}; nothing stored")
    if failures:
        raise FetchError(f"{len(failures)} of {len(ordered)} dataset(s) failed "
                         f"({len(archived)} archived or up to date; re-running fetches only "
                         "the rest):\n  " + "\n  ".join(failures), archived)
    return archived


def checked_codes(codes: list) -> list[str]:
    """Normalised codes (lower case, stripped); every invalid one is named in a single
    :class:`DatasetCodeError`, raised before anything is requested."""
    normalised, invalid = [], []
    for code in codes:
        try:
            normalised.append(normalise_code(code))
        except DatasetCodeError:
            invalid.append(repr(code))
    if invalid:
        raise DatasetCodeError(
            f"invalid Eurostat dataset code(s) {', '.join(invalid)}: a code is 1-128 letters, "
            "digits and _ . $ - starting with a letter or digit (e.g. nama_10r_2gdp, as shown "
            "in the Eurostat data browser); nothing was downloaded")
    return normalised


def _dataset_check(settings: _Settings) -> Callable[[Path], _AsyncReply | None]:
    return lambda part: check_eurostat_tsv_gzip(
        part, max_inflated_bytes=settings.max_inflated_bytes,
        max_inflation_ratio=settings.max_inflation_ratio)


def _fetch_one_dataset(code: str, url: str, part: Path, collection_dir: Path,
                       moment: dt.datetime, base_url: str, settings: _Settings,
                       poll_interval: float, max_polls: int) -> ArchivedFile:
    not_found = f"dataset code {code} not found at Eurostat; check the code"
    transfer, reply = _download_checked(url, part, settings, not_found,
                                        _dataset_check(settings))
    extra = {}
    if reply is not None:
        _discard(part)
        data_transfer = _resolve_async(reply, code, part, base_url, settings,
                                       poll_interval, max_polls)
        extra = {"async_key": reply.key, "download_url": data_transfer.url}
        transfer = data_transfer
    extra["final_url"] = transfer.final_url
    _sidecar(part).unlink(missing_ok=True)
    return commit_vintage(collection_dir, code, DATASET_SUFFIX, part, moment=moment, url=url,
                          last_modified=transfer.last_modified, etag=transfer.etag,
                          extra=extra)


# --------------------------------------------------------------------------------------------
# GISCO geometries


def fetch_nuts_geometries(raw_dir: str | os.PathLike[str], *, year: int = 2021,
                          scale: str = "20M", crs: int = 4326, level: int = 2,
                          base_url: str = GISCO_BASE, timeout: float = 60.0, retries: int = 3,
                          now: dt.datetime | None = None, log: Log = print,
                          force: bool = False, backoff: float = 1.0,
                          sleep: Sleep = time.sleep, allow_other_hosts: bool = False,
                          max_download_bytes: int = MAX_DOWNLOAD_BYTES) -> ArchivedFile:
    """Download GISCO NUTS region polygons (GeoJSON) into the archive.

    Archived as ``raw_dir/gisco/NUTS_RG_{scale}_{year}_{crs}_LEVL_{level}/<stamp>.geojson``
    and listed in ``raw_dir/gisco/manifest.json``, with the same rules as
    :func:`fetch_datasets` (atomic, resumable, never overwritten, identical bytes not stored
    twice, skipped when fetched today unless ``force``). The file must parse as a GeoJSON
    FeatureCollection.

    Parameters
    ----------
    year : int
        NUTS version (2003, 2006, 2010, 2013, 2016, 2021, 2024).
    scale : str
        Map scale: ``01M``, ``03M``, ``10M``, ``20M``, ``60M`` (1:1 to 1:60 million).
    crs : int
        EPSG code: 4326 (WGS 84), 3035 (ETRS89-LAEA), 3857 (web Mercator).
    level : int
        NUTS level 0-3.

    Raises
    ------
    OfflineError, FetchError
        As for :func:`fetch_datasets`.
    """
    name = nuts_geometry_name(year=year, scale=scale, crs=crs, level=level)
    url = nuts_geometry_url(name, base_url=base_url)
    collection_dir = Path(raw_dir) / GISCO_FOLDER
    moment = as_utc(now) if now is not None else utc_now()
    settings = _Settings(timeout=timeout, retries=retries, backoff=backoff, sleep=sleep,
                         log=log, service="GISCO", base_url=base_url,
                         allow_other_hosts=allow_other_hosts,
                         max_download_bytes=max_download_bytes)
    read_manifest(collection_dir)  # a damaged manifest stops the run before any download
    if not force:
        done = fresh_vintage(collection_dir, name, GEOMETRY_SUFFIX, url=url, moment=moment)
        if done is not None:
            log(f"{name}: already fetched today (vintage {done.vintage}); skipped")
            return done
    log(f"{name}: downloading {url}")
    part = collection_dir / name / f"incoming{GEOMETRY_SUFFIX}.part"
    not_found = (f"NUTS geometry {name} not found at GISCO; check year, scale, crs and level")
    transfer, _ = _download_checked(url, part, settings, not_found, check_geojson)
    _sidecar(part).unlink(missing_ok=True)
    result = commit_vintage(collection_dir, name, GEOMETRY_SUFFIX, part, moment=moment,
                            url=url, last_modified=transfer.last_modified, etag=transfer.etag,
                            extra={"final_url": transfer.final_url})
    log(f"  {name}: {'new vintage' if result.status == 'new' else 'unchanged since'} "
        f"{result.vintage} ({result.bytes:,} bytes)")
    return result
