"""End to end: every page of the demo run (index and each stage) opened in headless Debian
chromium, checked for what a policy reader must never see, and photographed.

A page fails on: a traceback, ``<Figure size`` (a figure that was not drawn), a warning
(``...Warning:`` text or a stderr block), an absolute path of the machine (``/work/``,
``/home/``, ``/tmp/``, ``/root/``... in the text or a link), a missing ``<title>`` or the
title "Notebook", a stage page without the link back to ``index.html`` or with a table of
contents entry pointing nowhere, a page of the demo run without the synthetic-data banner.

Needs ``playwright`` (the Python package only: it drives the system chromium through
``executable_path``, no browser download) and ``/usr/bin/chromium``; skips with a message
otherwise. Reuses the session's demo study (``demo_study`` in conftest.py, shared with
test_e2e.py). Full-page screenshots are kept as test artefacts in
``<demo study>/reports/demo-2020/screenshots/`` (pytest's tmp dir; the path is printed), or in
``$EOCIC_SCREENSHOTS`` when set (e.g. a CI artefact folder), with ``pages.tsv`` listing each
page's title, height (px) and size (KB).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from test_explorer_browser import CHROMIUM_FLAGS, chromium_path
from eocic.study import discover_stages

pytestmark = pytest.mark.e2e

RUN_ID = "demo-2020"
STAGE_PAGES = [f"{stage.stem}.html" for stage in discover_stages(REPO_ROOT / "notebooks")]
PAGES = ["index.html", *STAGE_PAGES]
PAGE_TIMEOUT = 60_000  # milliseconds to load one page (they are local files)

ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|tmp|root|Users|var/folders|private)/")
WARNING = re.compile(r"\b\w*Warning:")

#: Defects of pages this branch may not edit (notebooks owned by others), each (page, check)
#: with what to fix. The test fails on any other problem, and on an entry that no longer
#: occurs (then delete the entry: the fix landed).
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _problems(page, name: str) -> list[tuple[str, str]]:
    """(check, detail) for everything wrong with the open page."""
    found: list[tuple[str, str]] = []
    text = page.evaluate("document.body.innerText")
    for check, pattern in (("traceback", re.compile(r"Traceback \(most recent call last\)")),
                           ("figure repr", re.compile(r"<Figure size [^>]*>")),
                           ("warning", WARNING), ("absolute path", ABSOLUTE_PATH)):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 60)
            found.append((check, text[start:match.end() + 60].replace("\n", " ")))
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count()
    if stderr:
        found.append(("warning", f"{stderr} stderr block(s)"))
    links = page.evaluate(
        "Array.from(document.querySelectorAll('a[href], img[src], link[href]'))"
        ".map(e => e.getAttribute('href') || e.getAttribute('src'))"
        ".filter(u => !u.startsWith('data:'))")
    for link in links:
        if ABSOLUTE_PATH.search(link) or link.startswith("file:"):
            found.append(("absolute path", f"link {link}"))
    title = page.title().strip()
    if not title or title == "Notebook":
        found.append(("title", f"title {title!r}"))
    if not page.locator(".eocic-banner", has_text="Synthetic demo data").count():
        found.append(("banner", "no synthetic-data banner on a demo page"))
    if name != "index.html":
        if f"eocic {RUN_ID}" not in title:
            found.append(("title", f"title {title!r} does not name the run"))
        if not page.locator("a[href='index.html']").count():
            found.append(("back link", "no link back to index.html"))
        dangling = page.evaluate(
            "Array.from(document.querySelectorAll('.eocic-toc a'))"
            ".map(a => a.getAttribute('href').slice(1))"
            ".filter(id => !document.getElementById(id)"
            " && !document.getElementById(decodeURIComponent(id)))")
        for anchor in dangling:
            found.append(("contents", f"entry #{anchor} points at no heading"))
    else:
        for stage_page in STAGE_PAGES:
            if not page.locator(f"a[href='{stage_page}']").count():
                found.append(("index", f"no link to {stage_page}"))
    return found


@pytest.fixture(scope="module")
def browser_pages(request, tmp_path_factory):
    """A headless chromium context over the demo run's report folder; yields
    (report_dir, context, screenshot_dir); always closes the browser. Checks for chromium
    before asking for the demo study, so a machine without it skips at once."""
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("chromium not found (apt-get install chromium); browser test skipped")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) missing")
    from playwright.sync_api import sync_playwright

    demo_study: Path = request.getfixturevalue("demo_study")
    report_dir = demo_study / "reports" / RUN_ID
    shots = Path(os.environ.get("EOCIC_SCREENSHOTS") or report_dir / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "pages.tsv").write_text("page\ttitle\theight_px\tsize_kb\n")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium,
            headless=True, args=CHROMIUM_FLAGS, viewport={"width": 1300, "height": 1000})
        try:
            yield report_dir, context, shots
        finally:
            context.close()
    print(f"\nscreenshots and page heights: {shots}")


@pytest.mark.parametrize("name", PAGES)
def test_page_is_fit_for_a_policy_reader(browser_pages, name: str):
    report_dir, context, shots = browser_pages
    path = report_dir / name
    assert path.exists(), f"{name} was not written"
    page = context.new_page()
    try:
        page.goto(path.as_uri(), timeout=PAGE_TIMEOUT, wait_until="load")
        screenshot = shots / f"{path.stem}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        height = page.evaluate("document.body.scrollHeight")
        with open(shots / "pages.tsv", "a") as summary:
            summary.write(f"{name}\t{page.title()}\t{height}\t{path.stat().st_size / 1024:.0f}\n")
        problems = _problems(page, name)
    finally:
        page.close()
    assert screenshot.stat().st_size > 5_000
    unexpected = [f"{check}: {detail}" for check, detail in problems
                  if (name, check) not in KNOWN_DEFECTS]
    fixed = [f"{check}: {reason}" for (page_name, check), reason in KNOWN_DEFECTS.items()
             if page_name == name and check not in {c for c, _ in problems}]
    assert not unexpected, (f"{name} (screenshot {screenshot}):\n  " + "\n  ".join(unexpected))
    assert not fixed, (f"{name}: known defect(s) no longer occur, delete them from "
                       "KNOWN_DEFECTS:\n  " + "\n  ".join(fixed))
