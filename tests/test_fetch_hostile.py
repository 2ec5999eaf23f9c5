"""Hostile and broken replies, damaged archives and bad dataset names for ``eocic fetch``.

Every case runs against loopback HTTP servers (no internet) and checks the archive's
guarantees after it: an archived vintage is never overwritten or changed, ``manifest.json``
stays valid JSON consistent with the files on disk, and no temporary file is left (the folder
contents are listed exactly; the only file ever kept is the documented resumable
``incoming.tsv.gz.part`` + ``.part.json`` of a broken transfer whose retries ran out). Each
case asserts the message the user sees.

Families: server errors (5xx), truncated bodies, web pages and other non-data served with 200,
redirects, oversized bodies, inflating bodies (gzip bombs), damaged manifests, bad dataset
names, unwritable folders, and the ``eocic fetch`` command's handling of all of them.
"""

from __future__ import annotations

import hashlib
import json
import re
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_eurostat_fetch import (  # noqa: F401  (server is a pytest fixture)
    CODE,
    DATA_PATH,
    MARCH_14,
    MARCH_15,
    V1,
    V2,
    FixtureServer,
    Reply,
    fetch,
    fixture_bytes,
    server,
)

from eocic import cli
from eocic.atomic import gzip_bytes
from eocic.eurostat.archive import ArchiveError, DatasetCodeError
from eocic.eurostat.fetch import FetchError, check_eurostat_tsv_gzip, fetch_nuts_geometries

OLD_VINTAGE = "20250314T091500Z.tsv.gz"
NEW_VINTAGE = "20250315T100000Z.tsv.gz"
QUERY = "?format=TSV&compressed=true"
PART = f"eurostat/{CODE}/incoming.tsv.gz.part"
RESUMABLE = (PART, PART + ".json")  # the documented resume files of a broken transfer
ASYNC_KEY = "3f1c6a2e-0d4b-4d2c-9a51-7b8e2c1d0f99"

TSV_HEADER = b"freq,unit,geo\\TIME_PERIOD\t2021\n"
MAINTENANCE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Eurostat - Service maintenance</title>"
                    b"</head><body><p>We will be back soon.</p></body></html>\n")
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1)) * 10
                                                        if n > 1 else b"&lol;" * 10)
                             for n in range(1, 10))
                  + b"]>\n<lolz>&lol9;</lolz>\n")


def gzip_stream(header: bytes, row: bytes, inflated_bytes: int) -> bytes:
    """A gzip file of ``header`` then ``row`` repeated up to ``inflated_bytes``, built in
    1 MiB steps (never the whole inflated text in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    pieces = [compressor.compress(header)]
    block = row * max(1, (1 << 20) // len(row))
    written = len(header)
    while written < inflated_bytes:
        pieces.append(compressor.compress(block))
        written += len(block)
    pieces.append(compressor.flush())
    return b"".join(pieces)


# --------------------------------------------------------------------------------------------
# The archive before and after each case


@pytest.fixture
def other_server():
    """A second loopback server: another origin (same host, other port)."""
    second = FixtureServer()
    yield second
    second.close()


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (temporary files included), relative, sorted."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file())


def seed_archive(server: FixtureServer, raw_dir: Path) -> str:
    """Archive V1 as the vintage of March 14; return the manifest's text."""
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, raw_dir, now=MARCH_14)
    server.requests.clear()
    return (raw_dir / "eurostat" / "manifest.json").read_text(encoding="utf-8")


def assert_manifest_matches_disk(raw_dir: Path) -> dict:
    """The manifest is valid JSON and every entry not flagged missing is its file."""
    recorded = json.loads((raw_dir / "eurostat" / "manifest.json").read_text(encoding="utf-8"))
    for code, entries in recorded["items"].items():
        for entry in entries:
            path = raw_dir / "eurostat" / entry["path"]
            assert path.parent.name == code
            if entry.get("missing"):
                assert not path.exists()
                continue
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert path.stat().st_size == entry["bytes"]
    return recorded


def assert_archive_intact(raw_dir: Path, manifest_before: str, kept: tuple[str, ...] = ()):
    """Only the old vintage, the unchanged manifest and the ``kept`` files are on disk."""
    assert files_under(raw_dir) == sorted(
        ["eurostat/manifest.json", f"eurostat/{CODE}/{OLD_VINTAGE}", *kept])
    assert (raw_dir / "eurostat" / CODE / OLD_VINTAGE).read_bytes() == V1
    assert (raw_dir / "eurostat" / "manifest.json").read_text(encoding="utf-8") == \
        manifest_before
    assert_manifest_matches_disk(raw_dir)


Routes = Callable[[str, str], dict[str, list[Reply]]]


@dataclass
class Case:
    """One hostile reply script. ``routes(base, other)`` maps URL paths of the main server
    (``base``) and, under ``other:``, of the other origin's server to replies. ``message`` is
    the regex the error must match (after ``{base}``/``{other}`` are filled in, escaped);
    ``None`` means the fetch must succeed with a new vintage (``final_url`` checked when
    given)."""

    id: str
    routes: Routes
    message: str | None
    options: dict = field(default_factory=dict)
    kept: tuple[str, ...] = ()
    final_url: str | None = None
    setup: Callable[[Path, str], None] | None = None


def run_case(case: Case, server: FixtureServer, other: FixtureServer, raw_dir: Path):
    """Seed the archive, play the case at March 15, check the outcome and the archive."""
    manifest_before = seed_archive(server, raw_dir)
    for path, replies in case.routes(server.base_url, other.base_url).items():
        target = other if path.startswith("other:") else server
        target.route(path.removeprefix("other:"), *replies)
    if case.setup is not None:
        case.setup(raw_dir, server.base_url)
    options = {"retries": 1, **case.options}
    if case.message is not None:
        pattern = case.message.format(base=re.escape(server.base_url),
                                      other=re.escape(other.base_url))
        with pytest.raises(FetchError, match=pattern) as caught:
            fetch(server, raw_dir, now=MARCH_15, **options)
        assert "Traceback" not in str(caught.value)
        assert_archive_intact(raw_dir, manifest_before, case.kept)
        return None
    [result] = fetch(server, raw_dir, now=MARCH_15, **options)
    assert result.status == "new" and result.vintage == NEW_VINTAGE[:16]
    assert files_under(raw_dir) == ["eurostat/manifest.json", f"eurostat/{CODE}/{OLD_VINTAGE}",
                                    f"eurostat/{CODE}/{NEW_VINTAGE}"]
    assert (raw_dir / "eurostat" / CODE / OLD_VINTAGE).read_bytes() == V1
    recorded = assert_manifest_matches_disk(raw_dir)
    entry = recorded["items"][CODE][-1]
    assert entry["url"] == f"{server.base_url}{DATA_PATH}{QUERY}"  # what was asked for
    if case.final_url is not None:
        final = case.final_url.format(base=server.base_url, other=other.base_url)
        assert entry["final_url"] == final and result.final_url == final
    return result


def _routes(*replies: Reply, **more: list[Reply]) -> Routes:
    return lambda base, other: {DATA_PATH: list(replies), **more}


# --------------------------------------------------------------------------------------------
# Family 1: server errors (5xx, 429) keep the archive as it was


SERVER_ERRORS = [
    Case("500-every-time", _routes(Reply(status=500)),
         r"failed after 2 attempt\(s\): HTTP 500 Internal Server Error$"),
    Case("503-error-body-cut-short", _routes(Reply(status=503, body=b"x" * 900, cut_after=10)),
         r"failed after 2 attempt\(s\): HTTP 503"),
    Case("502-entity-bomb-in-error-body", _routes(Reply(status=502, body=BILLION_LAUGHS)),
         r"failed after 2 attempt\(s\): HTTP 502 Bad Gateway$"),
    Case("429-retry-after", _routes(Reply(status=429, headers={"Retry-After": "1"})),
         r"failed after 2 attempt\(s\): HTTP 429"),
    Case("403-html-body-quoted-as-text", _routes(Reply(status=403, body=MAINTENANCE_PAGE)),
         r"Eurostat refused .* HTTP 403 Forbidden: <!DOCTYPE html>"),
    Case("500-then-data", _routes(Reply(status=500), Reply(body=V2)), None),
]


@pytest.mark.parametrize("case", SERVER_ERRORS, ids=lambda case: case.id)
def test_server_errors_keep_the_archive(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)


# --------------------------------------------------------------------------------------------
# Family 2: truncated bodies


TRUNCATED = [
    # Content-Length longer than the body: retried, then the .part is kept for resuming
    Case("content-length-longer-than-body", _routes(Reply(body=V2, cut_after=20)),
         r"failed after 1 attempt\(s\): transfer broken after 20 bytes \(expected 99\); the "
         r"partial download .* is kept and resumed by the next run", kept=RESUMABLE,
         options={"retries": 0}),
    # no Content-Length, connection closed mid-body: only the gzip check can tell
    Case("closed-mid-body-without-length",
         _routes(Reply(body=V2, cut_after=20, content_length=None)),
         r"rejected the reply of .*: truncated or corrupt gzip stream"),
    # a chunked body whose chunk stops short
    Case("chunked-body-cut-mid-chunk",
         _routes(Reply(body=b"400\r\n" + V2[:100], content_length=None,
                       headers={"Transfer-Encoding": "chunked"})),
         r"transfer broken after [\d,]+ bytes \(IncompleteRead", kept=RESUMABLE),
    Case("connection-dropped-before-any-reply", _routes(Reply(drop=True)),
         r"failed after 2 attempt\(s\): connection broken \(RemoteDisconnected"),
    Case("content-length-shorter-than-body",
         _routes(Reply(body=V2, content_length="40")),
         r"truncated or corrupt gzip stream"),
    # malformed Content-Length headers are ignored, the body is read to its end and checked
    Case("content-length-not-a-number", _routes(Reply(body=V2, content_length="lots")), None),
    Case("content-length-negative", _routes(Reply(body=V2, content_length="-5")), None),
    Case("cut-then-resumed-with-range", _routes(Reply(body=V2, cut_after=20), Reply(body=V2)),
         None),
]


@pytest.mark.parametrize("case", TRUNCATED, ids=lambda case: case.id)
def test_truncated_bodies_never_become_vintages(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)


def test_kept_partial_download_is_resumed_by_the_next_run(server, other_server, tmp_path):
    run_case(TRUNCATED[0], server, other_server, tmp_path)
    server.route(DATA_PATH, Reply(body=V2))
    [result] = fetch(server, tmp_path, now=MARCH_15)
    assert server.requests[-1][1]["Range"] == "bytes=20-"
    assert result.path.read_bytes() == V2
    assert files_under(tmp_path) == ["eurostat/manifest.json", f"eurostat/{CODE}/{OLD_VINTAGE}",
                                     f"eurostat/{CODE}/{NEW_VINTAGE}"]


# --------------------------------------------------------------------------------------------
# Family 3: web pages and other non-data served with 200


NOT_DATA = [
    Case("maintenance-page", _routes(Reply(body=MAINTENANCE_PAGE,
                                           headers={"Content-Type": "text/html"})),
         r"an HTML web page titled 'Eurostat - Service maintenance', not data: the server "
         r"answered with a page \(maintenance, login or error page\) instead of gzip TSV"),
    Case("maintenance-page-gzipped", _routes(Reply(body=gzip_bytes(MAINTENANCE_PAGE))),
         r"an HTML web page titled 'Eurostat - Service maintenance', not data"),
    Case("login-page-with-comment-no-title",
         _routes(Reply(body=b"  <!-- sso -->\n<HTML lang=en><body>Sign in</body></HTML>")),
         r"an HTML web page, not data"),
    Case("empty-body", _routes(Reply(body=b"")), r"an empty reply \(no data\)"),
    Case("json-error", _routes(Reply(body=b'{"error": {"status": 500, "label": "busy"}}')),
         r"not gzip and not a Eurostat asynchronous reply \(starts b'\{{\"error\""),
    Case("xml-entity-bomb", _routes(Reply(body=BILLION_LAUGHS)),
         r"not gzip and not a Eurostat asynchronous reply"),
    Case("gzipped-csv-not-tsv", _routes(Reply(body=gzip_bytes(b"geo,unit\nDE11,EUR\n"))),
         r"first line 'geo,unit' is not a Eurostat TSV header"),
    Case("zip-archive", _routes(Reply(body=b"PK\x03\x04" + b"\x00" * 60)), r"a ZIP archive"),
    Case("soap-fault-with-200", _routes(Reply(body=fixture_bytes("fault_too_big.xml"))),
         r"Eurostat answered with an error: .*EXTRACTION_TOO_BIG.*narrow the query"),
    Case("gzip-cut-in-half", _routes(Reply(body=V2[: len(V2) // 2])),
         r"truncated or corrupt gzip stream"),
]


@pytest.mark.parametrize("case", NOT_DATA, ids=lambda case: case.id)
def test_pages_and_non_data_with_200_are_refused(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)


def test_html_page_instead_of_geojson_is_refused(server, tmp_path):
    name = "NUTS_RG_20M_2021_4326_LEVL_2"
    server.route(f"/nuts/geojson/{name}.geojson", Reply(body=MAINTENANCE_PAGE))
    with pytest.raises(FetchError, match=r"an HTML web page titled 'Eurostat - Service "
                                         r"maintenance', not data.* instead of GeoJSON"):
        fetch_nuts_geometries(tmp_path, base_url=server.base_url, now=MARCH_14,
                              log=lambda line: None, timeout=2.0, sleep=lambda s: None)
    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------------------------
# Family 4: redirects


def _redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


REDIRECTS = [
    Case("to-another-host-refused",
         lambda base, other: {DATA_PATH: [_redirect(f"{other}/cdn/data.tsv.gz")],
                              "other:/cdn/data.tsv.gz": [Reply(body=V2)]},
         r"Eurostat redirected {base}/sdmx/2\.1/data/nama_10r_2gdp\?format=TSV&compressed=true "
         r"\(HTTP 302\) to {other}/cdn/data\.tsv\.gz, on another host: {other} is not the "
         r"configured {base}\. Redirects to other hosts are refused unless allowed "
         r"\(eocic fetch --allow-other-hosts"),
    Case("https-to-http-like-scheme-change-refused",
         lambda base, other: {DATA_PATH: [_redirect(base.replace("http:", "https:")
                                                    + "/data.tsv.gz", 301)]},
         r"on another host: https://127\.0\.0\.1:\d+ is not the configured {base}"),
    Case("to-a-file-url-refused", _routes(_redirect("file:///etc/passwd")),
         r"redirect from .* not followed: HTTP 302 .*a redirect to a scheme other than "
         r"http/https"),
    Case("redirect-loop", lambda base, other: {DATA_PATH: [_redirect(base + DATA_PATH + QUERY)]},
         r"redirect from .* not followed: HTTP 302 .*a redirect loop"),
    Case("same-host-other-path-followed",
         lambda base, other: {DATA_PATH: [_redirect(f"{base}/mirror/data.tsv.gz", 307)],
                              "/mirror/data.tsv.gz": [Reply(body=V2)]},
         None, final_url="{base}/mirror/data.tsv.gz"),
    Case("relative-location-followed",
         lambda base, other: {DATA_PATH: [_redirect("/mirror/data.tsv.gz")],
                              "/mirror/data.tsv.gz": [Reply(body=V2)]},
         None, final_url="{base}/mirror/data.tsv.gz"),
    Case("to-another-host-when-allowed",
         lambda base, other: {DATA_PATH: [_redirect(f"{other}/cdn/data.tsv.gz")],
                              "other:/cdn/data.tsv.gz": [Reply(body=V2)]},
         None, options={"allow_other_hosts": True}, final_url="{other}/cdn/data.tsv.gz"),
    Case("no-redirect-final-url-is-the-url", _routes(Reply(body=V2)), None,
         final_url="{base}" + DATA_PATH + QUERY),
]


@pytest.mark.parametrize("case", REDIRECTS, ids=lambda case: case.id)
def test_redirects_stay_on_the_configured_host(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)
    if case.message is not None:
        assert other_server.requests == []  # refused before anything was asked of it


# --------------------------------------------------------------------------------------------
# Family 5: oversized bodies


def _leave_resumable_part(size: int) -> Callable[[Path, str], None]:
    def setup(raw_dir: Path, base: str) -> None:
        part = raw_dir / PART
        part.write_bytes(V2[:size])
        part.with_name(part.name + ".json").write_text(
            json.dumps({"url": base + DATA_PATH + QUERY, "etag": None, "last_modified": None}),
            encoding="utf-8")
    return setup


NOISE = bytes(range(256)) * 1200  # 307,200 bytes

OVERSIZED = [
    Case("content-length-over-the-cap", _routes(Reply(body=V2)),
         r"Eurostat reply of .* announces 99 bytes, more than the maximum download size of "
         r"50 bytes; nothing was kept\. Narrow the query .* raise the limit \(eocic fetch "
         r"--max-download-mb, or max_download_bytes=\)", options={"max_download_bytes": 50}),
    Case("streamed-past-the-cap-without-length", _routes(Reply(body=NOISE, content_length=None)),
         r"sent more than 100,000 bytes, more than the maximum download size of 100,000 bytes",
         options={"max_download_bytes": 100_000}),
    Case("resumed-part-plus-rest-over-the-cap", _routes(Reply(body=V2)),
         r"announces [\d,]+ bytes, more than the maximum download size",
         options={"max_download_bytes": len(V2) - 1}, setup=_leave_resumable_part(30)),
    Case("exactly-at-the-cap-accepted", _routes(Reply(body=V2)), None,
         options={"max_download_bytes": len(V2)}),
]


@pytest.mark.parametrize("case", OVERSIZED, ids=lambda case: case.id)
def test_oversized_bodies_are_stopped_and_nothing_is_kept(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)


# --------------------------------------------------------------------------------------------
# Family 6: inflating bodies (gzip bombs)


ROW = b"A.EUR.DE11\t1 \t2 \n"

INFLATING = [
    Case("past-the-absolute-cap",
         lambda base, other: {DATA_PATH: [Reply(body=gzip_stream(TSV_HEADER, ROW, 3 << 20))]},
         r"rejected the reply of .*: the gzip stream of [\d,]+ bytes inflates past 1,000,000 "
         r"bytes \(the limit: at most 1,000,000 bytes.*a compression bomb\?\); nothing was kept",
         options={"max_inflated_bytes": 1_000_000}),
    Case("ratio-bomb-under-default-caps",
         lambda base, other: {DATA_PATH: [Reply(body=gzip_stream(TSV_HEADER, b"\0" * 4096,
                                                                 80 << 20))]},
         r"inflates past 67,108,864 bytes \(the limit: at most 1,073,741,824 bytes, and at most "
         r"100 times the compressed size above 67,108,864\)"),
    Case("bomb-without-a-newline",
         lambda base, other: {DATA_PATH: [Reply(body=gzip_stream(b"", b"A" * 4096, 3 << 20))]},
         r"inflates past 1,000,000 bytes", options={"max_inflated_bytes": 1_000_000}),
    Case("bomb-served-by-the-asynchronous-api",
         lambda base, other: {
             DATA_PATH: [Reply(body=fixture_bytes("async_queued.xml"))],
             f"/1.0/async/status/{ASYNC_KEY}": [
                 Reply(body=fixture_bytes("async_status_available.xml"))],
             f"/1.0/async/data/{ASYNC_KEY}": [Reply(body=gzip_stream(TSV_HEADER, ROW, 3 << 20))]},
         r"rejected the reply of .*/1\.0/async/data/.*inflates past 1,000,000 bytes",
         options={"max_inflated_bytes": 1_000_000, "poll_interval": 0.0}),
    Case("ratio-bomb-accepted-when-the-ratio-is-raised",
         lambda base, other: {DATA_PATH: [Reply(body=gzip_stream(TSV_HEADER, b"\0" * 4096,
                                                                 80 << 20))]},
         None, options={"max_inflation_ratio": 10_000}),
    Case("ordinary-data-under-default-caps", _routes(Reply(body=V2)), None),
]


@pytest.mark.parametrize("case", INFLATING, ids=lambda case: case.id)
def test_inflating_bodies_are_refused_while_checking(server, other_server, tmp_path, case):
    run_case(case, server, other_server, tmp_path)


def test_inflation_check_streams_with_flat_memory(tmp_path):
    """The check decompresses a 96 MiB stream in chunks: Python's peak allocation stays a
    small fraction of the inflated size (measured 3-4 MiB; a whole-file read would need 96)."""
    bomb = tmp_path / "bomb.tsv.gz"
    bomb.write_bytes(gzip_stream(TSV_HEADER, b"\0" * 4096, 96 << 20))
    tracemalloc.start()
    try:
        assert check_eurostat_tsv_gzip(bomb, max_inflation_ratio=1e9) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


# --------------------------------------------------------------------------------------------
# Family 7: damaged manifests (an ArchiveError naming the file and the fix, before any request)


def _edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(raw_dir: Path) -> None:
        path = raw_dir / "eurostat" / "manifest.json"
        recorded = json.loads(path.read_text(encoding="utf-8"))
        change(recorded)
        path.write_text(json.dumps(recorded), encoding="utf-8")
    return damage


def _write_manifest(content: bytes) -> Callable[[Path], None]:
    return lambda raw_dir: (raw_dir / "eurostat" / "manifest.json").write_bytes(content)


def _entry(recorded: dict) -> dict:
    return recorded["items"][CODE][0]


def _replace_manifest_by_folder(raw_dir: Path) -> None:
    path = raw_dir / "eurostat" / "manifest.json"
    path.unlink()
    path.mkdir()


def _grow_vintage(raw_dir: Path) -> None:
    with open(raw_dir / "eurostat" / CODE / OLD_VINTAGE, "ab") as handle:
        handle.write(b"tampered")


RESTORE = r"restore it from a back-up or delete it \(it is rebuilt from the archived files"

DAMAGED_MANIFESTS = [
    ("truncated-json", _write_manifest(b'{"format": 1, "items": {"nama'),
     r"manifest\.json: not valid JSON \(.*\); " + RESTORE),
    ("utf-16", _write_manifest('{"format": 1, "items": {}}'.encode("utf-16")),
     r"manifest\.json: not valid JSON"),
    ("empty-file", _write_manifest(b""), r"manifest\.json: not valid JSON"),
    ("a-list", _write_manifest(b"[]"),
     r"manifest\.json: expected an object with an 'items' mapping; " + RESTORE),
    ("items-a-list", _edit_manifest(lambda m: m.update(items=[])),
     r"expected an object with an 'items' mapping"),
    ("future-format", _edit_manifest(lambda m: m.update(format=2)),
     r"manifest format 2, this eocic reads format 1; use the eocic that wrote it, or restore"),
    ("vintages-not-a-list", _edit_manifest(lambda m: m["items"].update({CODE: "x"})),
     rf"item '{CODE}': expected a list of vintages, found str; " + RESTORE),
    ("vintage-not-an-object", _edit_manifest(lambda m: m["items"].update({CODE: [7]})),
     r"item 'nama_10r_2gdp': vintage 1 is int, expected an object"),
    ("vintage-stamp-missing", _edit_manifest(lambda m: _entry(m).pop("vintage")),
     r"vintage 1: 'vintage' None is not a stamp YYYYMMDDTHHMMSSZ"),
    ("path-outside-the-archive",
     _edit_manifest(lambda m: _entry(m).update(path="../../../../etc/passwd")),
     r"vintage 20250314T091500Z: 'path' '\.\./\.\./\.\./\.\./etc/passwd' is not the vintage's "
     r"own file nama_10r_2gdp/20250314T091500Z<suffix>"),
    ("path-to-another-vintage",
     _edit_manifest(lambda m: _entry(m).update(path=f"{CODE}/20990101T000000Z.tsv.gz")),
     r"'path' 'nama_10r_2gdp/20990101T000000Z\.tsv\.gz' is not the vintage's own file"),
    ("item-name-a-path", _edit_manifest(lambda m: m["items"].update({"../x": []})),
     r"item name '\.\./x' is not a dataset code or geometry name \(it would point outside"),
    ("code-of-another-item", _edit_manifest(lambda m: _entry(m).update(code="other")),
     r"'code' 'other' differs from the item"),
    ("sha256-wrong-type", _edit_manifest(lambda m: _entry(m).update(sha256=12)),
     r"'sha256' 12 is not 64 lower-case hex digits"),
    ("bytes-a-string", _edit_manifest(lambda m: _entry(m).update(bytes="1024")),
     r"'bytes' '1024' is not a non-negative integer"),
    ("bytes-a-boolean", _edit_manifest(lambda m: _entry(m).update(bytes=True)),
     r"'bytes' True is not a non-negative integer"),
    ("retrieved-at-missing", _edit_manifest(lambda m: _entry(m).pop("retrieved_at")),
     r"'retrieved_at' None is not an ISO time string"),
    ("url-a-number", _edit_manifest(lambda m: _entry(m).update(url=5)), r"'url' 5 is not text"),
    ("manifest-is-a-folder", _replace_manifest_by_folder,
     r"manifest\.json: cannot be read \(Is a directory\); check that it is a file you may read"),
    ("vintage-file-changed-after-archiving", _grow_vintage,
     r"vintage 20250314T091500Z: the file .*20250314T091500Z\.tsv\.gz has [\d,]+ bytes but "
     r"[\d,]+ were archived, so it was changed after archiving \(archived vintages are never "
     r"modified\); restore that file from a back-up, or delete it and its entry"),
]


@pytest.mark.parametrize("damage, message", [case[1:] for case in DAMAGED_MANIFESTS],
                         ids=[case[0] for case in DAMAGED_MANIFESTS])
def test_damaged_manifest_is_a_clear_error_before_any_request(server, tmp_path, damage,
                                                              message):
    seed_archive(server, tmp_path)
    damage(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)}
    server.route(DATA_PATH, Reply(body=V2))
    with pytest.raises(ArchiveError, match=message) as caught:
        fetch(server, tmp_path, now=MARCH_15)
    assert str(caught.value).startswith(str(tmp_path / "eurostat" / "manifest.json"))
    assert server.requests == []
    assert {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)} == before


def test_entry_of_a_deleted_vintage_is_flagged_missing_not_an_error(server, tmp_path):
    """Documented behaviour kept: the manifest is a record; a vanished file's entry stays,
    flagged ``missing``, and is never resolved as a vintage."""
    seed_archive(server, tmp_path)
    (tmp_path / "eurostat" / CODE / OLD_VINTAGE).unlink()
    server.route(DATA_PATH, Reply(body=V1))
    [result] = fetch(server, tmp_path, now=MARCH_15)
    assert result.status == "new" and result.vintage == NEW_VINTAGE[:16]
    old, new = assert_manifest_matches_disk(tmp_path)["items"][CODE]
    assert old["missing"] is True and "missing" not in new
    assert files_under(tmp_path) == ["eurostat/manifest.json", f"eurostat/{CODE}/{NEW_VINTAGE}"]


# --------------------------------------------------------------------------------------------
# Family 8: bad dataset names (refused before any request)


BAD_CODES = [
    ("../x", r"invalid Eurostat dataset code\(s\) '\.\./x'"),
    ("a/b", r"'a/b'"),
    ("x;rm -rf ~", r"'x;rm -rf ~'"),
    ("", r"invalid Eurostat dataset code\(s\) ''"),
    ("   ", r"'   '"),
    ("nama 10r", r"'nama 10r'"),
    ("nama\n10r", r"'nama\\n10r'"),
    ("-rf", r"'-rf'"),
    (".hidden", r"'\.hidden'"),
    ("n\u0430ma_10r_2gdp", r"'n\u0430ma_10r_2gdp'"),  # Cyrillic a
    ("a\x00b", r"'a\\x00b'"),
    ("x" * 129, r"'x{129}'"),
    ("%2e%2e", r"'%2e%2e'"),
]


@pytest.mark.parametrize("code, message", BAD_CODES, ids=[repr(c[0])[:20] for c in BAD_CODES])
def test_bad_dataset_name_is_refused_before_any_request(server, tmp_path, code, message):
    server.route(DATA_PATH, Reply(body=V1))
    with pytest.raises(DatasetCodeError, match=message + r".*a code is 1-128 letters, digits "
                                                         r"and _ \. \$ -.*nothing was downloaded"):
        fetch(server, tmp_path, codes=[CODE, code])
    assert server.requests == [] and files_under(tmp_path) == []


def test_every_bad_name_is_listed_and_keys_are_checked_too(server, tmp_path):
    with pytest.raises(DatasetCodeError, match=r"code\(s\) '\.\./a', 'b/c': "):
        fetch(server, tmp_path, codes=["../a", CODE, "b/c"])
    with pytest.raises(DatasetCodeError, match=r"'\.\./k'"):
        fetch(server, tmp_path, keys={"../k": "A.."})
    with pytest.raises(DatasetCodeError, match="no dataset code given"):
        fetch(server, tmp_path, codes=[])
    assert server.requests == [] and files_under(tmp_path) == []


def test_unknown_but_well_formed_code_gets_the_not_found_message(server, tmp_path):
    """The library cannot know Eurostat's catalogue: it asks, and says what 404 means."""
    with pytest.raises(FetchError, match="dataset code nama_10r_2gpd not found at Eurostat; "
                                         "check the code"):
        fetch(server, tmp_path, codes=["nama_10r_2gpd"])
    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------------------------
# Family 9: folders that cannot be written


def _file_where_the_code_folder_goes(raw_dir: Path) -> Path:
    (raw_dir / "eurostat").mkdir(parents=True)
    (raw_dir / "eurostat" / CODE).write_bytes(b"not a folder")
    return raw_dir


def _raw_dir_is_a_file(raw_dir: Path) -> Path:
    (raw_dir / "raw").write_bytes(b"not a folder")
    return raw_dir / "raw"


@pytest.mark.parametrize("prepare, message", [
    (_file_where_the_code_folder_goes, r"cannot create the archive folder .*nama_10r_2gdp: "
                                       r"File exists; make .* writable or choose another "
                                       r"--raw-dir"),
    (_raw_dir_is_a_file, r"cannot create the archive folder .*raw/eurostat/nama_10r_2gdp: "
                         r"Not a directory"),
], ids=["code-folder-is-a-file", "raw-dir-is-a-file"])
def test_unwritable_archive_folder_is_a_clear_error(server, tmp_path, prepare, message):
    raw_dir = prepare(tmp_path)
    before = files_under(tmp_path)
    server.route(DATA_PATH, Reply(body=V1))
    with pytest.raises(FetchError, match=message):
        fetch(server, raw_dir)
    assert server.requests == [] and files_under(tmp_path) == before


# --------------------------------------------------------------------------------------------
# The eocic fetch command: clear messages and exit codes, never a traceback


def _cli(server: FixtureServer, raw_dir: Path, *args: str) -> int:
    return cli.main(["fetch", "--raw-dir", str(raw_dir), "--base-url", server.base_url, *args])


CLI_CASES = [
    (["--datasets", "../x"], 2, r"eocic: error: invalid Eurostat dataset code\(s\) '\.\./x'"),
    (["--datasets", "nama_10r_2gdp", "x;rm"], 2, r"invalid Eurostat dataset code\(s\) 'x;rm'"),
    (["--datasets", ""], 2, r"invalid Eurostat dataset code\(s\) ''"),
    (["--datasets", "nama_10r_2gpd"], 2,
     r"eocic: error: nama_10r_2gpd \(did you mean nama_10r_2gdp( or nama_10r_3gdp)?\?\): not in "
     r"the registry of the datasets the study reads .* pass --any-code to archive it anyway; "
     r"nothing was downloaded"),
    (["--datasets", "zzz_unheard_of"], 2, r"zzz_unheard_of: not in the registry"),
    (["--datasets", "nama_10r_2gpd", "--any-code"], 1,
     r"note: nama_10r_2gpd not in the registry; fetched as given.*dataset code nama_10r_2gpd "
     r"not found at Eurostat"),
    (["--datasets", "nama_10r_2gdp", "--max-download-mb", "0"], 2,
     r"--max-download-mb 0: give a positive size in MB"),
    (["--datasets", "nama_10r_2gdp", "--max-download-mb", "0.00005"], 1,
     r"eocic: 1 of 1 dataset\(s\) failed.*more than the maximum download size of 50 bytes"),
]


@pytest.mark.parametrize("args, exit_code, message", CLI_CASES,
                         ids=[" ".join(case[0])[:40] for case in CLI_CASES])
def test_cli_fetch_reports_bad_input_without_a_traceback(server, tmp_path, capsys, args,
                                                        exit_code, message):
    server.route(DATA_PATH, Reply(body=V1))
    assert _cli(server, tmp_path, *args) == exit_code
    err = capsys.readouterr().err
    assert re.search(message, err, re.DOTALL), err
    assert "Traceback" not in err
    if exit_code == 2:
        assert server.requests == []
    assert [name for name in files_under(tmp_path) if "part" in name or "tmp" in name] == []


def test_cli_fetch_damaged_manifest_exits_1_with_the_fix(server, tmp_path, capsys):
    seed_archive(server, tmp_path)
    (tmp_path / "eurostat" / "manifest.json").write_text("{trunc", encoding="utf-8")
    assert _cli(server, tmp_path, "--datasets", CODE) == 1
    err = capsys.readouterr().err
    assert "manifest.json: not valid JSON" in err and "restore it from a back-up" in err
    assert server.requests == []


def test_cli_fetch_redirect_to_another_host_needs_the_flag(server, other_server, tmp_path,
                                                          capsys):
    server.route(DATA_PATH, _redirect(f"{other_server.base_url}/cdn/data.tsv.gz"))
    other_server.route("/cdn/data.tsv.gz", Reply(body=V1))
    assert _cli(server, tmp_path, "--datasets", CODE) == 1
    err = capsys.readouterr().err
    assert f"{other_server.base_url} is not the configured {server.base_url}" in err
    assert other_server.requests == [] and files_under(tmp_path) == []

    assert _cli(server, tmp_path, "--datasets", CODE, "--allow-other-hosts") == 0
    [entry] = json.loads((tmp_path / "eurostat" / "manifest.json").read_text())["items"][CODE]
    assert entry["final_url"] == f"{other_server.base_url}/cdn/data.tsv.gz"
    assert entry["url"].startswith(server.base_url)
