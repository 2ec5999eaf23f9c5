"""Rendered HTML opens offline: nothing is loaded from the internet."""

from __future__ import annotations

import base64
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from eocic.report import render_notebook_html

#: Patterns that make a browser fetch a remote resource.
REMOTE_LOADS = (
    r"<script[^>]+src=[\"']https?://",
    r"<link[^>]+href=[\"']https?://",
    r"<img[^>]+src=[\"']https?://",
    r"@import\s+(url\()?[\"']?https?://",
    r"import\(\s*[\"']https?://",
    r"url\(\s*[\"']?https?://",
)

# a 1x1 PNG
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def remote_loads(html: str) -> list[str]:
    """Every pattern in REMOTE_LOADS found in ``html``."""
    return [pattern for pattern in REMOTE_LOADS if re.search(pattern, html, re.IGNORECASE)]


def _executed_notebook(path, *, source="demo", run_id="demo-2020"):
    """A small executed notebook as papermill leaves it: parameter cells with machine paths,
    a figure, a stderr warning, an object repr, headings for the table of contents."""
    parameters = new_code_cell('data_dir = "data/raw/demo"', metadata={"tags": ["parameters"]})
    injected = new_code_cell(f'data_dir = "/home/someone/eocic/data/raw/demo"\nrun_id = "{run_id}"',
                             metadata={"tags": ["injected-parameters"]})
    cell = new_code_cell("draw_coverage_map()", outputs=[
        new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"}),
        new_output("stream", name="stderr",
                   text="/tmp/ipykernel_1/2.py:1: UserWarning: something\n  draw()\n"),
        new_output("stream", name="stdout", text="12 regions drawn\n"),
        new_output("display_data", data={"text/plain": "<Figure size 640x480 with 1 Axes>"}),
        new_output("display_data",
                   data={"text/plain": "<pandas.io.formats.style.Styler at 0x7f87ed3cccd0>"}),
    ])
    hidden = new_code_cell("secret_setup()", metadata={"tags": ["remove_cell"]})
    nb = new_notebook(cells=[
        new_markdown_cell("# 2. Cluster mapping\n\nIntro with $x^2$."), parameters, injected, cell,
        hidden, new_markdown_cell('## Rules: LQ >= 2 & "stars"'), new_markdown_cell("### Stars"),
        new_markdown_cell("## Linkages")])
    nb.metadata["papermill"] = {"parameters": {"source": source, "run_id": run_id}}
    nbformat.write(nb, path)


def _render(tmp_path, **options):
    _executed_notebook(tmp_path / "02_cluster_mapping.ipynb",
                       **{k: options.pop(k) for k in ("source", "run_id") if k in options})
    return render_notebook_html(tmp_path / "02_cluster_mapping.ipynb",
                                tmp_path / "02_cluster_mapping.html", **options).read_text()


def test_html_loads_nothing_remote_and_embeds_images(tmp_path):
    html = _render(tmp_path, show_code=True)
    assert remote_loads(html) == []
    assert f"data:image/png;base64,{PIXEL}" in html
    assert "draw_coverage_map" in html and "secret_setup" not in html


def test_code_is_hidden_by_default_and_shown_on_request(tmp_path):
    hidden = _render(tmp_path)
    assert "draw_coverage_map" not in hidden and "data:image/png;base64," in hidden
    assert "In&nbsp;[" not in hidden and "12 regions drawn" in hidden
    shown = _render(tmp_path, show_code=True)
    assert "draw_coverage_map" in shown


def test_parameter_cells_never_appear_not_even_with_code(tmp_path):
    for show_code in (False, True):
        html = _render(tmp_path, show_code=show_code)
        assert "data_dir" not in html and "/home/someone" not in html, show_code


def test_stderr_and_bare_reprs_are_left_out(tmp_path):
    html = _render(tmp_path, show_code=True)
    assert "UserWarning" not in html and "ipykernel" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert "Styler at 0x" not in html
    assert "12 regions drawn" in html
    # a figure that was never drawn stays visible: the reader (and the browser test) must see
    # that something is missing
    assert "&lt;Figure size 640x480 with 1 Axes&gt;" in html
    # the executed notebook keeps everything
    notebook = nbformat.read(tmp_path / "02_cluster_mapping.ipynb", as_version=4)
    assert "UserWarning" in notebook.cells[3].outputs[1].text


def test_title_back_link_and_table_of_contents(tmp_path):
    html = _render(tmp_path)
    assert re.search(r"<title>2\. Cluster mapping — eocic demo-2020</title>", html)
    assert "href=\"index.html\"" in html
    toc = re.search(r"<nav class='eocic-toc'.*?</nav>", html, re.DOTALL).group(0)
    anchors = re.findall(r"href='#([^']+)'", toc)
    assert len(anchors) == 3
    for anchor in anchors:  # every entry points at a heading of the page
        assert f'id="{anchor}"' in html
    assert "Rules: LQ &gt;= 2 &amp; &quot;stars&quot;" in toc  # heading text escaped
    assert toc.index("Rules") < toc.index("Stars") < toc.index("Linkages")


def test_title_falls_back_to_the_stage_name(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("No heading here.")])
    nbformat.write(nb, tmp_path / "06_stress_test.ipynb")
    html = render_notebook_html(tmp_path / "06_stress_test.ipynb", tmp_path / "06.html",
                                run_id="x").read_text()
    assert "<title>6. Stress test — eocic x</title>" in html


def test_synthetic_banner_on_demo_runs_only(tmp_path):
    assert "Synthetic demo data:" in _render(tmp_path)
    assert "Synthetic demo data:" not in _render(tmp_path, source="eurostat",
                                                 run_id="eurostat-2020")
    # the caller can say so explicitly (the study does)
    assert "Synthetic demo data:" in _render(tmp_path, source="x", synthetic=True)


def test_the_check_itself_finds_remote_scripts():
    assert remote_loads('<script src="https://cdn.example/x.js"></script>')
    assert not remote_loads("/* see https://example.org for the colour table */")


def _rich_notebook(path):
    """An executed notebook with every kind of output a stage page has: figures, markdown,
    HTML tables (one with an image without ``alt``), text, an error, code with markup."""
    cells = [
        new_markdown_cell("# 3. Scoreboard\n\nText with <b>bold</b> & an ![inline](data:x)."),
        new_code_cell("x = '<div class=\"jp-OutputArea-output\">' if a < b else \"&amp;\"", outputs=[
            new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"},
                       metadata={"image/png": {"width": 360, "height": 200}}),
            new_output("display_data", data={
                "text/html": "<table class='eocic-table'><tr><th>a &amp; b</th><td>1</td></tr>"
                             "</table><img src='data:image/png;base64,AAAA'><br>",
                "text/plain": "table"}),
            new_output("display_data", data={"text/markdown": "**bold** <img alt='x' src='y'>",
                                             "text/plain": "md"}),
            new_output("execute_result", data={"text/plain": "'<tag>' & 1 < 2"},
                       execution_count=1),
            new_output("stream", name="stdout", text="line\n"),
            new_output("display_data", data={  # a widget: its div has an id before the class
                "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                             "version_minor": 0},
                "text/plain": "Dropdown()"}),
            new_output("error", ename="ValueError", evalue="bad <input>",
                       traceback=["\x1b[0;31mValueError\x1b[0m: bad <input>"]),
        ]),
        new_markdown_cell("## Ranks\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"abc": {"model_name": "DropdownModel", "model_module": "@jupyter-widgets/controls",
                          "model_module_version": "2.0.0", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    nbformat.write(notebook, path)


def test_pages_are_nbconverts_pages_without_its_beautifulsoup_pass(tmp_path, monkeypatch):
    # eocic renders with the template and adds nbconvert's accessibility attributes itself
    # (report.reader_accessibility); BeautifulSoup must read that as the very document
    # nbconvert's HTMLExporter writes, for code shown and hidden
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from eocic import report

    _rich_notebook(tmp_path / "03_scoreboard.ipynb")
    _executed_notebook(tmp_path / "02_cluster_mapping.ipynb")

    ours_exporter = report._html_exporter

    def nbconvert_exporter(show_code):
        exporter = ours_exporter(show_code)
        stock = HTMLExporter(config=exporter.config, template_name="offline",
                             extra_template_basedirs=[str(report.TEMPLATES)])
        for name in ("exclude_input", "exclude_input_prompt", "exclude_output_prompt"):
            setattr(stock, name, getattr(exporter, name))
        return stock

    assert "jupyter-widgets jp-OutputArea-output" in render_notebook_html(
        tmp_path / "03_scoreboard.ipynb", tmp_path / "ours.html").read_text()
    for stem in ("03_scoreboard", "02_cluster_mapping"):
        for show_code in (False, True):
            ours = render_notebook_html(tmp_path / f"{stem}.ipynb", tmp_path / "ours.html",
                                        show_code=show_code).read_text()
            with monkeypatch.context() as patched:
                patched.setattr(report, "_html_exporter", nbconvert_exporter)
                theirs = render_notebook_html(tmp_path / f"{stem}.ipynb",
                                              tmp_path / "theirs.html",
                                              show_code=show_code).read_text()
            assert "BeautifulSoup" not in ours
            # both read by BeautifulSoup (its reading of a blank line where the table of
            # contents marker was differs by a newline)
            # (and a widget's element id is random in each rendering)
            read = [re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID",
                           str(BeautifulSoup(page, features="html.parser")))
                    for page in (ours, theirs)]
            assert read[0] == read[1]
            assert ours.count(f'alt="{report.MISSING_ALT}"') == theirs.count(report.MISSING_ALT)
            assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') > 0
