"""End to end: notebook 05 served by voila, opened in headless Debian chromium, region switched.

Needs ``voila`` and ``playwright`` (the Python package only: it drives the system chromium
through ``executable_path``, no browser download) and ``/usr/bin/chromium``; skips with a
message otherwise. The screenshot is kept as a test artifact in pytest's tmp dir (path
printed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_explorer import write_run

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "05_region_explorer.ipynb"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 60          # seconds until voila listens
PAGE_TIMEOUT = 240_000      # milliseconds until the notebook has run and the widgets show
UPDATE_TIMEOUT = 60_000     # milliseconds for a region change to show

pytestmark = pytest.mark.e2e


def chromium_path() -> str | None:
    for candidate in (os.environ.get("EOCIC_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"voila exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"voila did not listen on port {port} within {START_TIMEOUT} s:\n"
                         f"{log.read_text()}")


@pytest.fixture
def served_explorer(tmp_path):
    """voila serving notebook 05 over a hand-made run; yields the URL; always stops voila."""
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("chromium not found (apt-get install chromium); browser test skipped")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) missing")
    voila = Path(sys.executable).with_name("voila")
    if not voila.exists():
        pytest.skip("voila is not installed in this environment")
    run = write_run(tmp_path / "processed" / "browser-run")
    port = free_port()
    log = tmp_path / "voila.log"
    environment = {**os.environ, "EOCIC_PROCESSED_DIR": str(run), "EOCIC_REGION": "DE11",
                   "EOCIC_RUN_ID": ""}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(voila), str(NOTEBOOK), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
            cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_listening(port, process, log)
        yield f"http://127.0.0.1:{port}/", chromium, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_region_switch_in_the_browser(served_explorer, tmp_path):
    from playwright.sync_api import sync_playwright

    url, chromium, log = served_explorer
    screenshot = tmp_path / "explorer_browser.png"
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 1600})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url, timeout=PAGE_TIMEOUT, wait_until="domcontentloaded")
            heading = page.locator(".eocic-heading")
            try:
                heading.filter(has_text="DE11").wait_for(timeout=PAGE_TIMEOUT)
            except Exception:
                page.screenshot(path=str(screenshot), full_page=True)
                raise AssertionError(f"explorer did not show DE11; screenshot {screenshot}; "
                                     f"voila log:\n{log.read_text()[-3000:]}") from None
            assert "Stuttgart" in heading.inner_text()
            portfolio = page.locator(".eocic-table-portfolio")
            assert "automotive" in portfolio.inner_text()

            figure = page.locator(".eocic-figure-portfolio")
            before = figure.get_attribute("src")
            page.locator(".eocic-region select").select_option(label="DE12 Karlsruhe")
            heading.filter(has_text="DE12").wait_for(timeout=UPDATE_TIMEOUT)
            assert "Karlsruhe" in heading.inner_text()
            page.locator(".eocic-title-portfolio").filter(has_text="DE12").wait_for(
                timeout=UPDATE_TIMEOUT)
            page.wait_for_function(
                "before => document.querySelector('.eocic-figure-portfolio').src !== before",
                arg=before, timeout=UPDATE_TIMEOUT)
            table = page.locator(".eocic-table-portfolio")
            table.filter(has_text="Digital industries").wait_for(timeout=UPDATE_TIMEOUT)
            peers = page.locator(".eocic-peer-list").inner_text()
            assert "Peers" in peers
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    assert screenshot.stat().st_size > 10_000
    print(f"\nscreenshot: {screenshot}")
