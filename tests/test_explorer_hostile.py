"""Hostile input to the region explorer (issue 15): run ids from the URL that try to leave
``data/processed``, runs whose tables do not all belong to them, and values that try to become
markup in the page (stage 05).

Families (each case is one parametrised test id):

* run ids refused before they touch the file system (traversal, absolute paths, NUL, URL
  escapes, newline, over-long), directly and through the voila query string;
* symlinks leaving ``data/processed``; messages that must not reveal other folders;
* year, scheme, manifest and ``EOCIC_PROCESSED_DIR`` misuse;
* mixed or unpublished runs (:func:`eocic.run_integrity.verify_tables`);
* escaping: every user value shown in the widget page, the error panel and the notebook's
  HTML is parsed and must hold no element or attribute that came from the value;
* ``$`` (mathtext) in figure text, hostile region codes in export file names;
* the notebook itself, executed as voila executes it (``SERVER_SOFTWARE=voila``): the error is
  a readable panel, not a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from eocic.config import is_valid_run_id
from eocic.explorer import controller
from eocic.explorer.controller import ExplorerError, RegionExplorer
from eocic.presentation import escape_html
from eocic.run_integrity import RunIntegrityError, record_tables
from test_explorer import NAMES, mapping_rows, regression_rows, write_run
from test_explorer_browser import CHROMIUM_FLAGS, PAGE_TIMEOUT, served_explorer  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
VOILA = {"SERVER_SOFTWARE": "voila/0.5", "EOCIC_RUN_ID": ""}

#: Values a hostile or careless user types into a URL or a parameter.
HOSTILE = {
    "img-onerror": "<img src=x onerror=alert(1)>",
    "close-attribute-script": '"><script>alert(1)</script>',
    "single-quote-attribute": "' onmouseover='alert(1)",
    "backtick": "`<marquee>bold</marquee>`",
    "javascript-link": "[click](javascript:alert(1))",
    "svg-onload": "<svg/onload=alert(1)>",
    "comment-and-entity": "<!-- &lt;script&gt; -->",
}


class _Markup(HTMLParser):
    """Every start tag of an HTML fragment with its attributes (names and values)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def markup(fragment: str) -> list[tuple[str, tuple]]:
    parser = _Markup()
    parser.feed(fragment)
    parser.close()
    assert parser.comments == [], f"a comment came from a value: {parser.comments}"
    return parser.elements


def assert_value_is_text(page: str, value: str) -> None:
    """``value`` made no element or attribute in ``page``: none of the tags or attribute
    names the value holds (parsed as HTML on its own) is in the page, no event-handler
    attribute, no attribute value holding ``alert(`` or ``javascript:``, no comment."""
    own = _Markup()
    own.feed(value)
    own.close()
    value_tags = {tag for tag, _ in own.elements}
    value_attributes = {name for _, attributes in own.elements for name, _ in attributes}
    elements = markup(page)
    assert not value_tags & {tag for tag, _ in elements}, (value, page)
    for tag, attributes in elements:
        for name, content in attributes:
            assert name not in value_attributes, (tag, name, page)
            assert not name.startswith("on"), (tag, name, page)
            assert "alert(" not in (content or "").lower(), (tag, name, content)
            assert "javascript:" not in (content or "").lower(), (tag, name, content)


def visible_text(fragment: str) -> str:
    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data):
            self.parts.append(data)

    parser = Text()
    parser.feed(fragment)
    return "".join(parser.parts)


@pytest.fixture
def root(tmp_path):
    """``data/processed`` with two published runs, and a folder outside it that holds
    tables (what a traversal would serve) and a file whose name must never be shown."""
    processed = tmp_path / "project" / "data" / "processed"
    write_run(processed / "demo-2020")
    older = write_run(processed / "demo-2018", tables=("peers",))
    os.utime(older / "peers.parquet", (1, 1))                  # demo-2020 is the newest run
    outside = write_run(tmp_path / "secret-folder" / "stolen-run")
    (outside.parent / "private-notes.txt").write_text("do not list me")
    return processed


# --------------------------------------------------------------------------- run ids

BAD_RUN_IDS = {
    "parent": "..",
    "traversal": "../../../../secret-folder/stolen-run",
    "traversal-after-name": "demo-2020/../../../secret-folder",
    "absolute-etc": "/etc",
    "absolute-root": "/",
    "absolute-outside": "/tmp",
    "url-encoded-once-left-encoded": "%2e%2e%2fsecret-folder",
    "url-encoded-twice": "%252e%252e%252f",
    "nul-byte": "demo-2020\x00",
    "trailing-newline": "demo-2020\n",
    "leading-dot-hidden": ".staging-demo-2020",
    "backslash": "..\\..\\secret-folder",
    "home": "~",
    "space": "demo 2020",
    "trailing-slash": "demo-2020/",
    "too-long": "a" * 81,
    "markup": "<img src=x onerror=alert(1)>",
}


@pytest.mark.parametrize("run_id", BAD_RUN_IDS.values(), ids=BAD_RUN_IDS.keys())
def test_find_run_refuses_what_is_not_a_run_id(root, run_id):
    assert not is_valid_run_id(run_id)
    with pytest.raises(ExplorerError, match="is not a run id") as caught:
        controller.find_run(root, run_id)
    message = str(caught.value)
    for secret in ("private-notes", "passwd", "hostname", str(root), "demo-2018"):
        assert secret not in message                # nothing listed, no folder probed
    assert len(message) < 400                      # a long value is cut, not echoed in full


# (query string as a browser sends it, what parse_qs makes of it)
URL_RUN_IDS = {
    "traversal-encoded": "run_id=..%2F..%2F..%2F..%2Fsecret-folder%2Fstolen-run",
    "traversal-plain": "run_id=../../../../secret-folder/stolen-run",
    "absolute-etc": "run_id=%2Fetc",
    "double-encoded": "run_id=%252e%252e%252fsecret-folder",
    "nul": "run_id=demo-2020%00",
    "repeated-last-wins": "run_id=demo-2020&run_id=..%2F..",
    "newline": "run_id=demo-2020%0A",
}


@pytest.mark.parametrize("query", URL_RUN_IDS.values(), ids=URL_RUN_IDS.keys())
def test_url_run_id_is_checked_before_any_folder_is_read(root, query):
    defaults = {"run_id": "demo-2020", "processed_dir": str(root / "demo-2020"),
                "region": "DE11", "peers": ""}
    with pytest.raises(ExplorerError, match="is not a run id") as caught:
        controller.settings_from_environment(defaults, {**VOILA, "QUERY_STRING": query})
    assert "private-notes" not in str(caught.value) and str(root) not in str(caught.value)


def test_environment_run_id_follows_the_same_rule(root):
    defaults = {"run_id": "x", "processed_dir": str(root / "x"), "region": "", "peers": ""}
    with pytest.raises(ExplorerError, match="is not a run id"):
        controller.settings_from_environment(
            defaults, {**VOILA, "EOCIC_RUN_ID": "../../secret-folder/stolen-run",
                       "QUERY_STRING": ""})


def test_unknown_run_lists_only_the_projects_runs_and_no_machine_path(root):
    with pytest.raises(ExplorerError) as caught:
        controller.find_run(root, "etc")
    message = str(caught.value)
    assert "run 'etc' not found" in message
    assert "demo-2018, demo-2020" in message                  # the project's runs: the fix
    assert str(root) not in message and "…/processed" in message
    assert "passwd" not in message and "stolen-run" not in message


def test_symlink_leaving_the_processed_folder_is_refused_and_never_the_latest(root, tmp_path):
    link = root / "linked-run"
    link.symlink_to(tmp_path / "secret-folder" / "stolen-run", target_is_directory=True)
    os.utime(link / "peers.parquet")                           # the newest tables of all
    with pytest.raises(ExplorerError, match="link to a folder outside") as caught:
        controller.find_run(root, "linked-run")
    assert "secret-folder" not in str(caught.value)
    assert controller.latest_run(root).name == "demo-2020"
    with pytest.raises(ExplorerError, match="runs there: demo-2018, demo-2020 "):
        controller.find_run(root, "no-such-run")               # the link is not listed


def test_symlink_between_runs_of_the_project_is_the_run_it_points_to(root):
    (root / "latest").symlink_to(root / "demo-2020", target_is_directory=True)
    assert controller.find_run(root, "latest") == (root / "demo-2020").resolve()


def test_latest_run_prefers_published_runs_and_ignores_hidden_folders(root):
    unpublished = root / "half-written"
    write_run(unpublished, tables=("peers",))
    (unpublished / "tables.json").unlink()                     # a study still writing it
    staging = write_run(root / ".staging-demo-2021", tables=("peers",))
    assert staging.exists()
    assert controller.latest_run(root).name == "demo-2020"     # newest published run


# --------------------------------------------------------------------------- other URL values

@pytest.mark.parametrize("query, expected", [
    ("year=%C2%B2", "not a four-digit year"),                  # '²'.isdigit() is True
    ("year=20200", "not a four-digit year"),
    ("year=2020%3Bdrop", "not a four-digit year"),
    ("year=-1", "not a four-digit year"),
    ("scheme=%3Cimg%20src%3Dx%3E", "is not one of sector, cluster, emerging"),
    ("scheme=cluster%00", "is not one of"),
], ids=["superscript-two", "five-digits", "semicolon", "negative", "scheme-markup", "scheme-nul"])
def test_year_and_scheme_from_the_url_are_checked(root, query, expected):
    defaults = {"run_id": "demo-2020", "processed_dir": str(root / "demo-2020"),
                "region": "", "peers": ""}
    with pytest.raises(ExplorerError, match=expected):
        controller.settings_from_environment(
            defaults, {**VOILA, "QUERY_STRING": f"run_id=demo-2020&{query}"})


@pytest.mark.parametrize("content, expected", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b'{"parameters": {}}', "no parameters.year"),
    (b'{"parameters": {"year": "2020; rm -rf"}}', "not a year"),
    (b"[]", "no parameters.year"),
], ids=["broken", "utf16-bytes", "no-year", "string-year", "list"])
def test_damaged_manifest_is_a_clear_error(root, content, expected):
    (root / "demo-2020" / "manifest.json").write_bytes(content)
    with pytest.raises(ExplorerError, match=f"manifest.json of run 'demo-2020' is damaged.*"
                                            f"{expected}"):
        controller.run_year(root / "demo-2020")


@pytest.mark.parametrize("value", ["/", "/tmp/..", "/etc/no-such-run", "/etc/passwd"],
                         ids=["root", "dotdot", "absent", "a-file"])
def test_processed_dir_environment_must_name_a_run_folder(root, value):
    defaults = {"run_id": "", "processed_dir": str(root / "x"), "region": "", "peers": ""}
    with pytest.raises(ExplorerError, match="EOCIC_PROCESSED_DIR") as caught:
        controller.settings_from_environment(
            defaults, {**VOILA, "EOCIC_PROCESSED_DIR": value, "QUERY_STRING": ""})
    assert "hostname" not in str(caught.value) and "runs there" not in str(caught.value)


# --------------------------------------------------------------------------- run integrity

def _unpublished(folder: Path) -> None:
    (folder / "tables.json").unlink()


def _other_run(folder: Path) -> None:
    record_tables(folder, "demo-2018", "20260101T000000Z-other")


def _table_replaced(folder: Path) -> None:
    regression_rows().assign(coef=9.9).to_parquet(folder / "regressions.parquet", index=False)


def _stray_table(folder: Path) -> None:
    regression_rows().to_parquet(folder / "stress_test.parquet", index=False)


def _table_removed(folder: Path) -> None:
    (folder / "scoreboard.parquet").unlink()


def _record_damaged(folder: Path) -> None:
    (folder / "tables.json").write_text('{"run_id": "demo-2020", "tables": ')


MIXED = {
    "no-record": (_unpublished, "has no tables.json"),
    "record-of-another-run": (_other_run, "belongs to run 'demo-2018'"),
    "table-changed": (_table_replaced, "regressions.parquet was changed after run"),
    "table-not-listed": (_stray_table, "holds tables no finished run .* wrote: "
                                       "stress_test.parquet"),
    "listed-table-missing": (_table_removed, "scoreboard.parquet is listed .* but missing"),
    "record-damaged": (_record_damaged, "tables.json is damaged"),
}


@pytest.mark.parametrize("damage, expected", MIXED.values(), ids=MIXED.keys())
def test_explorer_refuses_a_run_whose_tables_are_not_all_its_own(root, damage, expected):
    folder = root / "demo-2020"
    damage(folder)
    with pytest.raises(RunIntegrityError, match=expected) as caught:
        RegionExplorer(folder, region_names=NAMES, region="DE11")
    assert "re-run the study" in str(caught.value)


def test_stage_05_of_a_running_study_reads_its_own_unpublished_tables(root):
    folder = root / "demo-2020"
    _unpublished(folder)
    explorer = RegionExplorer(folder, region_names=NAMES, region="DE11", verify=False)
    assert explorer.region == "DE11"


# --------------------------------------------------------------------------- escaping

@pytest.fixture
def explorer(root):
    return RegionExplorer(root / "demo-2020", year=2020, region_names=NAMES, region="DE11")


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_escape_html_leaves_no_markup(value):
    assert_value_is_text(f"<p>{escape_html(value)}</p>", value)
    assert visible_text(f"<p>{escape_html(value)}</p>") == value
    for quote in "'\"":        # inside an attribute the value stays that attribute's value
        assert markup(f"<p title={quote}{escape_html(value)}{quote}>x</p>") == [
            ("p", (("title", value),))]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_widget_page_shows_hostile_region_and_peers_as_text(root, value):
    pytest.importorskip("ipywidgets")
    from eocic.explorer.app import ExplorerApp

    explorer = RegionExplorer(root / "demo-2020", year=2020, region_names=NAMES, region=value)
    app = ExplorerApp(explorer)
    assert_value_is_text(app.message.value, value)        # "Region <value> is not in run ..."
    assert "is not in run demo-2020" in visible_text(app.message.value)
    app.peer_text.value = value
    app.apply_peers()
    assert_value_is_text(app.message.value, value)
    assert "not in run demo-2020" in visible_text(app.message.value)
    app.select_region(value)                               # as a stale picker value would
    assert_value_is_text(app.message.value, value)
    for page in app.pages.values():
        for part in page.values():
            if isinstance(getattr(part, "value", None), str):
                assert_value_is_text(part.value, value)
    assert_value_is_text(app.heading.value + app.peer_label.value, value)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_scheme_and_data_values_stay_text_in_every_tab(root, tmp_path, value):
    pytest.importorskip("ipywidgets")
    from eocic.explorer.app import ExplorerApp

    folder = tmp_path / "processed" / "hostile-run"
    write_run(folder, tables=("scoreboard", "peers"))
    # a category name and a specification label as a user's YAML could hold them
    mapping_rows().assign(category_name=value).to_parquet(folder / "cluster_mapping.parquet")
    regression_rows().assign(spec=value).to_parquet(folder / "regressions.parquet")
    record_tables(folder, "hostile-run", "20260101T000000Z-test")
    explorer = RegionExplorer(folder, year=2020, scheme=value, region_names=NAMES,
                              region="DE11")
    app = ExplorerApp(explorer)
    for index, tab in enumerate(controller.TABS):
        app.tabs.selected_index = index                        # draws the tab (figures too)
        for part in app.pages[tab].values():
            if isinstance(getattr(part, "value", None), str):
                assert_value_is_text(part.value, value)
    notes = visible_text(app.pages["portfolio"]["notes"].value)
    assert f"Scheme {value!r} is not in the cluster mapping" in notes
    assert value in visible_text(app.pages["portfolio"]["table"].value)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_error_panel_and_notebook_helpers_escape(root, value):
    pytest.importorskip("ipywidgets")
    from eocic.explorer.app import error_html, heading_html, text_html

    for page in (error_html(ExplorerError(f"run {value!r} not found")),
                 text_html(value), text_html(value, "em"), heading_html(value, 2)):
        assert_value_is_text(page, value)
        assert value in visible_text(page)
    panel = error_html(ExplorerError(f"{root}/demo-2020 has {value}"), root=root.parents[1])
    assert str(root) not in panel and "data/processed/demo-2020 has" in visible_text(panel)


DOLLARS = {"unclosed-frac": "$\\frac{$", "unknown-command": "$\\nosuchcommand$",
           "price": "costs $5 and $6", "lone": "$"}


@pytest.mark.parametrize("value", DOLLARS.values(), ids=DOLLARS.keys())
def test_dollar_signs_in_figure_text_are_drawn_as_written(root, tmp_path, value):
    folder = tmp_path / "processed" / "dollar-run"
    write_run(folder, tables=("scoreboard", "peers"))
    mapping_rows().assign(category_name=value).to_parquet(folder / "cluster_mapping.parquet")
    regression_rows().assign(spec=value).to_parquet(folder / "regressions.parquet")
    record_tables(folder, "dollar-run", "20260101T000000Z-test")
    explorer = RegionExplorer(folder, year=2020, region_names=NAMES, region="DE11")
    for tab in ("portfolio", "development", "regressions"):
        assert explorer.panel(tab).png()[:4] == b"\x89PNG"     # mathtext used to raise here
    figure = explorer.panel("regressions").figure()
    assert figure.axes[0].get_title() == f"Coefficients: {value}"


@pytest.mark.parametrize("region, stem", [
    ("../../../escape", "escape"), ("/etc/passwd", "etc_passwd"), ("DE11", "DE11"),
    ("<img src=x>", "img_src_x"), ("..", "region")])
def test_export_file_names_stay_in_the_export_folder(explorer, tmp_path, region, stem):
    from eocic.explorer import export

    assert export.file_stem(region) == stem
    explorer.region = region                                   # as a hostile table could
    explorer._mapping_rows[region] = explorer._mapping_rows["DE11"]
    folder = tmp_path / "exports"
    written = export.export_tables(explorer, folder, tabs=("portfolio",))
    assert [path.parent for path in written] == [folder]
    assert written[0].name == f"{stem}_portfolio.csv"


# --------------------------------------------------------------------------- the notebook

def _execute_stage_05(project: Path, run: Path, environment: dict[str, str], **parameters):
    papermill = pytest.importorskip("papermill")
    from eocic.study import ensure_kernel

    ensure_kernel("eocic")
    (project / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "notebooks" / "05_region_explorer.ipynb", project / "notebooks")
    previous = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    try:
        output = project / "05_out.ipynb"
        papermill.execute_notebook(
            str(project / "notebooks" / "05_region_explorer.ipynb"), str(output),
            kernel_name="eocic", cwd=str(project), progress_bar=False,
            parameters={"run_id": run.name, "processed_dir": str(run), **parameters})
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    notebook = json.loads(output.read_text())
    return [output for cell in notebook["cells"] for output in cell.get("outputs", [])]


def test_served_page_shows_a_refused_run_id_as_a_readable_panel(root):
    """What voila runs for ``?run_id=../../../../etc``: one error panel, no traceback, no
    other cell failing, nothing of /etc or the folder outside named."""
    query = urllib.parse.urlencode({"run_id": "../../../../etc", "region": HOSTILE["img-onerror"]})
    outputs = _execute_stage_05(root.parents[1], root / "demo-2020",
                                {**VOILA, "QUERY_STRING": query})
    assert [o["output_type"] for o in outputs] == ["display_data"]
    page = "".join(outputs[0]["data"]["text/html"])
    assert "class='eocic-error'" in page and "role='alert'" in page
    text = visible_text(page)
    assert "The region explorer cannot show this run" in text
    assert "run id '../../../../etc' is not a run id" in text
    assert_value_is_text(page, HOSTILE["img-onerror"])
    assert "passwd" not in page and str(root) not in page


def test_served_page_shows_a_mixed_run_as_a_readable_panel(root):
    _table_replaced(root / "demo-2020")
    outputs = _execute_stage_05(root.parents[1], root / "demo-2020",
                                {**VOILA, "QUERY_STRING": "run_id=demo-2020"})
    page = "".join(outputs[0]["data"]["text/html"])
    assert "regressions.parquet was changed after run" in visible_text(page)
    assert str(root.parents[1]) not in page                   # no machine path in the page


def test_batch_report_shows_hostile_region_and_peers_as_text(root):
    """``eocic study --param region=<img ...> --param peers=...``: the static profile of the
    shared HTML report quotes them as text."""
    region, peers = HOSTILE["img-onerror"], HOSTILE["close-attribute-script"] + ",`x`"
    outputs = _execute_stage_05(root.parents[1], root / "demo-2020",
                                {"SERVER_SOFTWARE": ""}, region=region, peers=peers,
                                interactive=False)
    assert not [o for o in outputs if o["output_type"] == "error"]
    pages = ["".join(o["data"]["text/html"]) for o in outputs
             if "text/html" in o.get("data", {})]
    markdown = "".join("".join(o["data"]["text/markdown"]) for o in outputs
                       if "text/markdown" in o.get("data", {}))
    assert "img" not in markdown and "SCRIPT" not in markdown.upper()
    for value in (region, peers, peers.upper()):
        for page in pages:
            assert_value_is_text(page, value)
    shown = visible_text("".join(pages))
    assert f"Region {region} is not in run demo-2020" in shown
    assert '"><SCRIPT>ALERT(1)</SCRIPT>' in shown                  # peers are upper-cased codes


# --------------------------------------------------------------------------- in the browser

@pytest.mark.e2e
def test_voila_page_for_a_traversal_url_is_a_readable_message(served_explorer, tmp_path):
    """voila serving notebook 05, opened at ``?run_id=../../../../etc&region=<img ...>`` in
    chromium: the page shows the explorer's own message (not voila's error page), no element
    of the value exists and no script ran (no dialog)."""
    from playwright.sync_api import sync_playwright

    url, chromium, log = served_explorer
    query = urllib.parse.urlencode({"run_id": "../../../../etc",
                                    "region": HOSTILE["img-onerror"]})
    dialogs: list[str] = []
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(f"{url}?{query}", timeout=PAGE_TIMEOUT, wait_until="domcontentloaded")
            panel = page.locator(".eocic-error")
            try:
                panel.wait_for(timeout=PAGE_TIMEOUT)
            except Exception:
                page.screenshot(path=str(tmp_path / "error_page.png"), full_page=True)
                raise AssertionError(f"no error panel; screenshot {tmp_path / 'error_page.png'}; "
                                     f"voila log:\n{log.read_text()[-3000:]}") from None
            text = panel.inner_text()
            assert "The region explorer cannot show this run" in text
            assert "run id '../../../../etc' is not a run id" in text
            body = page.locator("body").inner_text()
            assert "Traceback" not in body and "passwd" not in body
            assert page.locator("img[src='x']").count() == 0
            assert page.locator(".eocic-explorer").count() == 0
        finally:
            context.close()
    assert dialogs == []


def test_a_failed_or_interrupted_run_is_shown_with_its_status(root):
    from eocic.run_integrity import record_tables

    folder = root / "demo-2020"
    record_tables(folder, "demo-2020", "t-interrupted", status="interrupted")
    explorer = RegionExplorer(folder, region_names=NAMES, region="DE11")
    assert explorer.run_status == "interrupted"
    assert any("is interrupted: a stage did not finish" in note for note in explorer.notes)
    record_tables(folder, "demo-2020", "t-complete")
    assert not any("did not finish" in note
                   for note in RegionExplorer(folder, region_names=NAMES, region="DE11").notes)
