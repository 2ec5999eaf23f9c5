"""Downloading Eurostat datasets and GISCO geometries into the never-overwriting archive.

Every test runs against a loopback HTTP server (127.0.0.1, random port) that replays scripted
replies built from the fixtures in ``tests/fixtures/fetch``. Client time-outs are 2 s, retries
sleep through a recorder (no real waiting), and every scripted route has a finite reply list.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http.server
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eocic.atomic import gzip_bytes
from eocic.eurostat.archive import ArchiveError, MissingVintageError
from eocic.eurostat.fetch import (
    DEFAULT_BASE_URL,
    FetchError,
    OfflineError,
    archived_datasets,
    dataset_url,
    fetch_datasets,
    fetch_nuts_geometries,
    newest_vintage,
    nuts_geometry_name,
)

FETCH_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fetch"
CODE = "nama_10r_2gdp"
DATA_PATH = f"/sdmx/2.1/data/{CODE}"
MARCH_14 = dt.datetime(2025, 3, 14, 9, 15, 0, tzinfo=dt.timezone.utc)
MARCH_15 = dt.datetime(2025, 3, 15, 10, 0, 0, tzinfo=dt.timezone.utc)
MAX_REQUESTS_PER_TEST = 50


def fixture_bytes(name: str) -> bytes:
    return (FETCH_FIXTURES / name).read_bytes()


def gz_fixture(name: str) -> bytes:
    """A TSV fixture gzipped deterministically, as Eurostat serves ``compressed=true``."""
    return gzip_bytes(fixture_bytes(name))


V1 = gz_fixture("gdp_regions_v1.tsv")
V2 = gz_fixture("gdp_regions_v2.tsv")


# --------------------------------------------------------------------------------------------
# Loopback fixture server


@dataclass
class Reply:
    """One scripted reply. ``cut_after`` sends only that many body bytes (advertising the
    full length) and closes the connection; ``honour_range`` answers a ``Range`` request with
    ``206 Partial Content``; ``content_length`` is the header sent (``"auto"``: the body's
    length; ``None``: no header, the body ends when the connection closes; any other text is
    sent as is)."""

    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    honour_range: bool = True
    cut_after: int | None = None
    drop: bool = False
    content_length: str | None = "auto"


class FixtureServer:
    """``http.server`` in a daemon thread; routes map a URL path to a list of replies served
    in order (the last one repeats). Requests are recorded as (path with query, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold a handler thread for long

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.requests.append((self.path, dict(self.headers)))
                if len(server.requests) > MAX_REQUESTS_PER_TEST:
                    self.send_error(503, "request budget of the test exhausted")
                    return
                route = self.path.split("?", 1)[0]
                replies = server.routes.get(route)
                if not replies:
                    self.send_error(404, "no such fixture")
                    return
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.drop:  # close without any reply (server restart, load balancer)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body, status = reply.body, reply.status
                headers = dict(reply.headers)
                wanted = self.headers.get("Range")
                if wanted and status == 200 and reply.honour_range:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    body, status = body[start:], 206
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if reply.content_length == "auto":
                    self.send_header("Content-Length", str(len(body)))
                elif reply.content_length is not None:
                    self.send_header("Content-Length", reply.content_length)
                self.end_headers()
                if reply.cut_after is not None:
                    self.wfile.write(body[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fixture_server = FixtureServer()
    yield fixture_server
    fixture_server.close()


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetch(server: FixtureServer, raw_dir: Path, *, codes=(CODE,), now=MARCH_14, **options):
    """``fetch_datasets`` against the fixture server, quiet and without real sleeping."""
    options.setdefault("sleep", SleepRecorder())
    options.setdefault("timeout", 2.0)
    return fetch_datasets(list(codes), raw_dir, base_url=server.base_url, now=now,
                          log=lambda line: None, **options)


def vintage_files(raw_dir: Path, code: str = CODE) -> list[str]:
    folder = raw_dir / "eurostat" / code
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def manifest(raw_dir: Path, folder: str = "eurostat") -> dict:
    return json.loads((raw_dir / folder / "manifest.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# URLs


def test_dataset_url_has_the_sdmx_tsv_form():
    assert dataset_url("NAMA_10R_2GDP") == (
        "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/nama_10r_2gdp"
        "?format=TSV&compressed=true")
    assert dataset_url("sbs_r_nuts2021", base_url=DEFAULT_BASE_URL + "/", key="A..DE+FR",
                       start_period="2015", end_period="2022") == (
        "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/sbs_r_nuts2021/A..DE+FR"
        "?format=TSV&compressed=true&startPeriod=2015&endPeriod=2022")
    with pytest.raises(ValueError, match="invalid Eurostat dataset code"):
        dataset_url("nama 10/../x")


def test_nuts_geometry_name_and_options():
    assert nuts_geometry_name() == "NUTS_RG_20M_2021_4326_LEVL_2"
    assert nuts_geometry_name(year=2016, scale="01M", crs=3035, level=3) == \
        "NUTS_RG_01M_2016_3035_LEVL_3"
    with pytest.raises(ValueError, match="scale"):
        nuts_geometry_name(scale="5M")
    with pytest.raises(ValueError, match="level"):
        nuts_geometry_name(level=4)


# --------------------------------------------------------------------------------------------
# Archiving


def test_download_is_archived_under_its_timestamp_with_a_manifest_entry(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1, headers={
        "Last-Modified": "Thu, 13 Mar 2025 23:00:00 GMT", "ETag": '"v1"'}))
    [result] = fetch(server, tmp_path)

    target = tmp_path / "eurostat" / CODE / "20250314T091500Z.tsv.gz"
    assert result.path == target and result.status == "new"
    assert target.read_bytes() == V1
    assert vintage_files(tmp_path) == ["20250314T091500Z.tsv.gz"]  # no .part left behind
    assert server.requests[0][0] == f"{DATA_PATH}?format=TSV&compressed=true"

    text = (tmp_path / "eurostat" / "manifest.json").read_text(encoding="utf-8")
    recorded = json.loads(text)
    assert text == json.dumps(recorded, indent=2, sort_keys=True) + "\n"  # stable form
    [entry] = recorded["items"][CODE]
    assert entry == {
        "code": CODE, "vintage": "20250314T091500Z",
        "path": f"{CODE}/20250314T091500Z.tsv.gz",
        "url": f"{server.base_url}{DATA_PATH}?format=TSV&compressed=true",
        "final_url": f"{server.base_url}{DATA_PATH}?format=TSV&compressed=true",
        "sha256": hashlib.sha256(V1).hexdigest(), "bytes": len(V1),
        "retrieved_at": "2025-03-14T09:15:00Z", "last_confirmed_at": "2025-03-14T09:15:00Z",
        "last_modified": "Thu, 13 Mar 2025 23:00:00 GMT", "etag": '"v1"',
    }
    assert result.sha256 == entry["sha256"] and result.bytes == len(V1)


def test_changed_payload_adds_a_second_vintage_and_keeps_the_first(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    server.route(DATA_PATH, Reply(body=V2))
    [result] = fetch(server, tmp_path, now=MARCH_15)

    assert result.status == "new" and result.vintage == "20250315T100000Z"
    assert vintage_files(tmp_path) == ["20250314T091500Z.tsv.gz", "20250315T100000Z.tsv.gz"]
    folder = tmp_path / "eurostat" / CODE
    assert (folder / "20250314T091500Z.tsv.gz").read_bytes() == V1
    assert (folder / "20250315T100000Z.tsv.gz").read_bytes() == V2
    entries = manifest(tmp_path)["items"][CODE]
    assert [entry["sha256"] for entry in entries] == [hashlib.sha256(V1).hexdigest(),
                                                      hashlib.sha256(V2).hexdigest()]


def test_identical_payload_is_recorded_as_unchanged_not_duplicated(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    [result] = fetch(server, tmp_path, now=MARCH_15)

    assert result.status == "unchanged" and result.vintage == "20250314T091500Z"
    assert vintage_files(tmp_path) == ["20250314T091500Z.tsv.gz"]
    [entry] = manifest(tmp_path)["items"][CODE]
    assert entry["retrieved_at"] == "2025-03-14T09:15:00Z"
    assert entry["last_confirmed_at"] == "2025-03-15T10:00:00Z"
    assert len(server.requests) == 2


def test_same_day_rerun_skips_done_datasets_unless_forced(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    later_that_day = MARCH_14.replace(hour=17)
    [skipped] = fetch(server, tmp_path, now=later_that_day)
    assert skipped.status == "skipped" and skipped.vintage == "20250314T091500Z"
    assert len(server.requests) == 1

    # another query of the same code (startPeriod) is not "done"
    fetch(server, tmp_path, now=later_that_day, start_period="2021")
    assert len(server.requests) == 2 and server.requests[1][0].endswith("startPeriod=2021")

    server.route(DATA_PATH, Reply(body=V2))
    [forced] = fetch(server, tmp_path, now=later_that_day.replace(minute=1), force=True)
    assert forced.status == "new" and len(server.requests) == 3


def test_rerun_after_a_failure_fetches_only_the_rest(server, tmp_path):
    other = "sbs_r_nuts2021"
    server.route(DATA_PATH, Reply(body=V1))
    with pytest.raises(FetchError, match=f"{other} not found"):
        fetch(server, tmp_path, codes=[CODE, other])
    server.route(f"/sdmx/2.1/data/{other}", Reply(body=gz_fixture("legacy_bulk.tsv")))
    results = fetch(server, tmp_path, codes=[CODE, other], now=MARCH_14.replace(hour=12))
    assert [item.status for item in results] == ["skipped", "new"]
    assert [path.split("?")[0] for path, _ in server.requests] == [
        DATA_PATH, f"/sdmx/2.1/data/{other}", f"/sdmx/2.1/data/{other}"]


def test_lost_manifest_is_rebuilt_from_the_files(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    (tmp_path / "eurostat" / "manifest.json").unlink()
    [result] = fetch(server, tmp_path, now=MARCH_15)
    assert result.status == "unchanged"  # compared with the file on disk, not the manifest
    [entry] = manifest(tmp_path)["items"][CODE]
    assert entry["recovered"] is True and entry["url"] is None
    assert entry["sha256"] == hashlib.sha256(V1).hexdigest()
    assert entry["last_confirmed_at"] == "2025-03-15T10:00:00Z"

    (tmp_path / "eurostat" / "manifest.json").write_text("{not json", encoding="utf-8")
    requests_before = len(server.requests)
    with pytest.raises(ArchiveError, match="manifest.json: not valid JSON"):
        fetch(server, tmp_path, now=MARCH_15, force=True)
    assert len(server.requests) == requests_before  # stopped before downloading


def test_an_archived_vintage_is_never_overwritten(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    server.route(DATA_PATH, Reply(body=V2))
    with pytest.raises(ArchiveError, match="never overwritten"):
        fetch(server, tmp_path, now=MARCH_14, force=True)  # same stamp, other bytes
    folder = tmp_path / "eurostat" / CODE
    assert (folder / "20250314T091500Z.tsv.gz").read_bytes() == V1
    assert vintage_files(tmp_path) == ["20250314T091500Z.tsv.gz"]


def test_legacy_time_header_is_accepted(server, tmp_path):
    server.route("/sdmx/2.1/data/demo_r_legacy", Reply(body=gz_fixture("legacy_bulk.tsv")))
    [result] = fetch(server, tmp_path, codes=["demo_r_legacy"])
    assert gzip.decompress(result.path.read_bytes()).startswith(b"unit,nace_r2,geo\\time")


# --------------------------------------------------------------------------------------------
# Resolving vintages


def test_newest_and_pinned_vintage_resolution(server, tmp_path):
    with pytest.raises(MissingVintageError, match=f"run `eocic fetch --datasets {CODE}`"):
        newest_vintage(tmp_path, CODE)
    server.route(DATA_PATH, Reply(body=V1))
    fetch(server, tmp_path, now=MARCH_14)
    server.route(DATA_PATH, Reply(body=V2))
    fetch(server, tmp_path, now=MARCH_15)
    folder = tmp_path / "eurostat" / CODE
    (folder / "incoming.tsv.gz.part").write_bytes(b"partial")  # never resolved as a vintage

    assert newest_vintage(tmp_path, CODE.upper()) == folder / "20250315T100000Z.tsv.gz"
    assert newest_vintage(tmp_path, CODE, pinned="20250314T091500Z") == \
        folder / "20250314T091500Z.tsv.gz"
    assert newest_vintage(tmp_path, CODE, pinned="20250314") == \
        folder / "20250314T091500Z.tsv.gz"
    with pytest.raises(MissingVintageError, match="20250314T091500Z, 20250315T100000Z"):
        newest_vintage(tmp_path, CODE, pinned="20240101")
    with pytest.raises(MissingVintageError, match="ambiguous"):
        newest_vintage(tmp_path, CODE, pinned="202503")

    server.route("/sdmx/2.1/data/demo_r_legacy", Reply(body=gz_fixture("legacy_bulk.tsv")))
    fetch(server, tmp_path, codes=["demo_r_legacy"], now=MARCH_15)
    assert archived_datasets(tmp_path) == {
        "demo_r_legacy": tmp_path / "eurostat" / "demo_r_legacy" / "20250315T100000Z.tsv.gz",
        CODE: folder / "20250315T100000Z.tsv.gz"}
    assert archived_datasets(tmp_path, pins={CODE: "20250314T091500Z"})[CODE] == \
        folder / "20250314T091500Z.tsv.gz"
    with pytest.raises(MissingVintageError, match="eocic fetch --datasets sbs_r_nuts2021"):
        archived_datasets(tmp_path, pins={"sbs_r_nuts2021": "20250314"})
    assert archived_datasets(tmp_path / "nowhere") == {}


# --------------------------------------------------------------------------------------------
# Errors and retries


def test_unknown_code_gives_a_not_found_message(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1))
    with pytest.raises(FetchError, match="dataset code nama_10r_3gdp not found at Eurostat; "
                                         "check the code") as caught:
        fetch(server, tmp_path, codes=[CODE, "nama_10r_3gdp"])
    assert [item.code for item in caught.value.archived] == [CODE]  # the good one is kept
    assert "1 of 2 dataset(s) failed" in str(caught.value)
    assert not (tmp_path / "eurostat" / "nama_10r_3gdp" / "incoming.tsv.gz.part").exists()


def test_connection_refused_is_reported_as_offline_at_once(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = SleepRecorder()
    started = time.monotonic()
    with pytest.raises(OfflineError) as caught:
        fetch_datasets([CODE], tmp_path, base_url=f"http://127.0.0.1:{port}", timeout=2.0,
                       now=MARCH_14, log=lambda line: None, sleep=sleeps)
    message = str(caught.value)
    assert message.startswith(f"cannot reach http://127.0.0.1:{port}{DATA_PATH}")
    assert "You are offline or Eurostat is unreachable" in message
    assert "(--source eurostat)" in message and "(--source demo)" in message
    assert sleeps.calls == [] and time.monotonic() - started < 2.0
    assert vintage_files(tmp_path) == []


def test_server_errors_are_retried_with_backoff(server, tmp_path):
    server.route(DATA_PATH, Reply(status=500), Reply(status=503), Reply(body=V1))
    sleeps = SleepRecorder()
    [result] = fetch(server, tmp_path, sleep=sleeps, backoff=0.5)
    assert result.status == "new" and result.path.read_bytes() == V1
    assert sleeps.calls == [0.5, 1.0]  # backoff * 2**attempt
    assert len(server.requests) == 3


def test_connection_dropped_without_reply_is_retried_not_offline(server, tmp_path):
    server.route(DATA_PATH, Reply(drop=True), Reply(body=V1))
    sleeps = SleepRecorder()
    [result] = fetch(server, tmp_path, sleep=sleeps)
    assert result.path.read_bytes() == V1 and sleeps.calls == [1.0]


def test_retry_after_header_is_honoured_and_retries_are_bounded(server, tmp_path):
    server.route(DATA_PATH, Reply(status=503, headers={"Retry-After": "7"}))
    sleeps = SleepRecorder()
    with pytest.raises(FetchError, match="failed after 3 attempt"):
        fetch(server, tmp_path, sleep=sleeps, retries=2)
    assert sleeps.calls == [7.0, 7.0] and len(server.requests) == 3
    assert vintage_files(tmp_path) == []


@pytest.mark.parametrize("body, problem", [
    (V1[: len(V1) // 2], "truncated or corrupt gzip stream"),
    (gzip_bytes(b"<html><body>Service page</body></html>\n"), "an HTML web page, not data"),
    (gzip_bytes(b"geo,unit\n1,2\n"), "not a Eurostat TSV header"),
    (b"freq,unit,geo\\TIME_PERIOD\t2021\n", "not gzip"),
])
def test_invalid_payload_is_rejected_and_nothing_is_left(server, tmp_path, body, problem):
    server.route(DATA_PATH, Reply(body=body))
    with pytest.raises(FetchError, match=problem):
        fetch(server, tmp_path)
    assert vintage_files(tmp_path) == []  # neither .part, .part.json nor a vintage
    assert not (tmp_path / "eurostat" / "manifest.json").exists()


def test_oversize_extraction_fault_is_quoted(server, tmp_path):
    server.route(DATA_PATH, Reply(status=413, body=fixture_bytes("fault_too_big.xml")))
    with pytest.raises(FetchError, match="HTTP 413.*EXTRACTION_TOO_BIG"):
        fetch(server, tmp_path)


# --------------------------------------------------------------------------------------------
# Resuming


def _leave_part(raw_dir: Path, url: str, payload: bytes, etag: str | None = None) -> Path:
    part = raw_dir / "eurostat" / CODE / "incoming.tsv.gz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(payload)
    part.with_name(part.name + ".json").write_text(
        json.dumps({"url": url, "etag": etag, "last_modified": None}), encoding="utf-8")
    return part


def test_part_left_by_an_interrupted_run_is_resumed_with_range(server, tmp_path):
    url = f"{server.base_url}{DATA_PATH}?format=TSV&compressed=true"
    _leave_part(tmp_path, url, V1[:40], etag='"v1"')
    server.route(DATA_PATH, Reply(body=V1, headers={"ETag": '"v1"'}))
    [result] = fetch(server, tmp_path)

    headers = server.requests[0][1]
    assert headers["Range"] == "bytes=40-" and headers["If-Range"] == '"v1"'
    assert result.path.read_bytes() == V1 and result.sha256 == hashlib.sha256(V1).hexdigest()
    assert vintage_files(tmp_path) == ["20250314T091500Z.tsv.gz"]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    url = f"{server.base_url}{DATA_PATH}?format=TSV&compressed=true"
    _leave_part(tmp_path, url, b"garbage from another file")
    server.route(DATA_PATH, Reply(body=V1, honour_range=False))
    [result] = fetch(server, tmp_path)
    assert server.requests[0][1]["Range"] == "bytes=25-"
    assert result.path.read_bytes() == V1


def test_part_of_another_query_is_discarded(server, tmp_path):
    _leave_part(tmp_path, "http://elsewhere.invalid/other", V2[:40])
    server.route(DATA_PATH, Reply(body=V1))
    [result] = fetch(server, tmp_path)
    assert "Range" not in server.requests[0][1]
    assert result.path.read_bytes() == V1


def test_broken_transfer_is_resumed_within_the_run(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1, cut_after=50), Reply(body=V1))
    sleeps = SleepRecorder()
    [result] = fetch(server, tmp_path, sleep=sleeps)
    assert server.requests[1][1]["Range"] == "bytes=50-"
    assert result.path.read_bytes() == V1 and sleeps.calls == [1.0]


def test_broken_transfer_keeps_the_part_for_the_next_run(server, tmp_path):
    server.route(DATA_PATH, Reply(body=V1, cut_after=50))
    with pytest.raises(FetchError, match="kept and resumed by the next run"):
        fetch(server, tmp_path, retries=0)
    part = tmp_path / "eurostat" / CODE / "incoming.tsv.gz.part"
    assert part.read_bytes() == V1[:50]

    server.route(DATA_PATH, Reply(body=V1))
    [result] = fetch(server, tmp_path)
    assert server.requests[-1][1]["Range"] == "bytes=50-"
    assert result.path.read_bytes() == V1 and not part.exists()


def test_resumed_file_failing_the_check_is_downloaded_in_full(server, tmp_path):
    url = f"{server.base_url}{DATA_PATH}?format=TSV&compressed=true"
    _leave_part(tmp_path, url, V2[:80])  # the file changed on the server meanwhile
    assert V2[:80] != V1[:80]
    server.route(DATA_PATH, Reply(body=V1))
    [result] = fetch(server, tmp_path)
    assert [("Range" in headers) for _, headers in server.requests] == [True, False]
    assert result.path.read_bytes() == V1


# --------------------------------------------------------------------------------------------
# Asynchronous replies


def test_asynchronous_reply_is_polled_then_downloaded(server, tmp_path):
    key = "3f1c6a2e-0d4b-4d2c-9a51-7b8e2c1d0f99"
    server.route(DATA_PATH, Reply(body=fixture_bytes("async_queued.xml"),
                                  headers={"Content-Type": "application/xml"}))
    server.route(f"/1.0/async/status/{key}",
                 Reply(body=fixture_bytes("async_status_processing.xml")),
                 Reply(body=fixture_bytes("async_status_available.xml")))
    server.route(f"/1.0/async/data/{key}", Reply(body=V1))
    sleeps = SleepRecorder()
    [result] = fetch(server, tmp_path, sleep=sleeps, poll_interval=3.0)

    assert [path.split("?")[0] for path, _ in server.requests] == [
        DATA_PATH, f"/1.0/async/status/{key}", f"/1.0/async/status/{key}",
        f"/1.0/async/data/{key}"]
    assert sleeps.calls == [3.0, 3.0]
    assert result.path.read_bytes() == V1 and result.url.endswith("compressed=true")
    [entry] = manifest(tmp_path)["items"][CODE]
    assert entry["async_key"] == key
    assert entry["download_url"] == f"{server.base_url}/1.0/async/data/{key}"


def test_expired_or_slow_asynchronous_request_fails_clearly(server, tmp_path):
    key = "3f1c6a2e-0d4b-4d2c-9a51-7b8e2c1d0f99"
    server.route(DATA_PATH, Reply(body=fixture_bytes("async_queued.xml")))
    server.route(f"/1.0/async/status/{key}", Reply(body=fixture_bytes("async_status_expired.xml")))
    with pytest.raises(FetchError, match="ended with status EXPIRED"):
        fetch(server, tmp_path)

    server.route(f"/1.0/async/status/{key}",
                 Reply(body=fixture_bytes("async_status_processing.xml")))
    with pytest.raises(FetchError, match="after 2 polls"):
        fetch(server, tmp_path, max_polls=2)
    assert vintage_files(tmp_path) == []


# --------------------------------------------------------------------------------------------
# GISCO geometries


def test_nuts_geometries_are_archived_with_their_own_manifest(server, tmp_path):
    name = "NUTS_RG_20M_2021_4326_LEVL_2"
    geojson = fixture_bytes("nuts_level2.geojson")
    server.route(f"/nuts/geojson/{name}.geojson", Reply(body=geojson))
    result = fetch_nuts_geometries(tmp_path, base_url=server.base_url, now=MARCH_14,
                                   log=lambda line: None, timeout=2.0, sleep=SleepRecorder())

    assert result.path == tmp_path / "gisco" / name / "20250314T091500Z.geojson"
    assert result.path.read_bytes() == geojson and result.status == "new"
    [entry] = manifest(tmp_path, "gisco")["items"][name]
    assert entry["sha256"] == hashlib.sha256(geojson).hexdigest()
    assert entry["bytes"] == len(geojson)
    assert entry["url"] == f"{server.base_url}/nuts/geojson/{name}.geojson"

    again = fetch_nuts_geometries(tmp_path, base_url=server.base_url, now=MARCH_15,
                                  log=lambda line: None, timeout=2.0, sleep=SleepRecorder())
    assert again.status == "unchanged"
    assert sorted(p.name for p in (tmp_path / "gisco" / name).iterdir()) == \
        ["20250314T091500Z.geojson"]


def test_nuts_geometry_that_is_not_a_feature_collection_is_rejected(server, tmp_path):
    name = "NUTS_RG_60M_2021_4326_LEVL_0"
    server.route(f"/nuts/geojson/{name}.geojson", Reply(body=b'{"type": "Feature"}'))
    with pytest.raises(FetchError, match="expected a GeoJSON FeatureCollection"):
        fetch_nuts_geometries(tmp_path, scale="60M", level=0, base_url=server.base_url,
                              now=MARCH_14, log=lambda line: None, timeout=2.0)
    assert list((tmp_path / "gisco" / name).iterdir()) == []

    with pytest.raises(FetchError, match="NUTS geometry NUTS_RG_20M_2013_4326_LEVL_2 not found"):
        fetch_nuts_geometries(tmp_path, year=2013, base_url=server.base_url, now=MARCH_14,
                              log=lambda line: None, timeout=2.0)
