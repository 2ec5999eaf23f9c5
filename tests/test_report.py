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


def _executed_notebook(path):
    cell = new_code_cell("draw_coverage_map()", outputs=[new_output("display_data",
                                                        data={"image/png": PIXEL,
                                                              "text/plain": "<Figure>"})])
    hidden = new_code_cell("secret_setup()", metadata={"tags": ["remove_cell"]})
    nb = new_notebook(cells=[new_markdown_cell("# Title with $x^2$"), cell, hidden])
    nbformat.write(nb, path)


def test_html_loads_nothing_remote_and_embeds_images(tmp_path):
    _executed_notebook(tmp_path / "stage.ipynb")
    html = render_notebook_html(tmp_path / "stage.ipynb", tmp_path / "stage.html").read_text()
    assert remote_loads(html) == []
    assert f"data:image/png;base64,{PIXEL}" in html
    assert "draw_coverage_map" in html and "secret_setup" not in html


def test_no_input_hides_code(tmp_path):
    _executed_notebook(tmp_path / "stage.ipynb")
    html = render_notebook_html(tmp_path / "stage.ipynb", tmp_path / "stage.html",
                                no_input=True).read_text()
    assert "draw_coverage_map" not in html and "data:image/png;base64," in html


def test_the_check_itself_finds_remote_scripts():
    assert remote_loads('<script src="https://cdn.example/x.js"></script>')
    assert not remote_loads("/* see https://example.org for the colour table */")
