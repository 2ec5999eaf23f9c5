"""How figures are rendered: shown as sharp images in notebooks, labels that never overlap.

The display tests run a real IPython shell in a subprocess (the inline backend and IPython's
formatters are process-wide state), with ``MPLBACKEND`` set as ipykernel sets it, and capture
what the cells display.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from eocic import plotting  # noqa: E402
from eocic.clusters import figures as cluster_figures  # noqa: E402
from eocic.data_quality import plot_coverage  # noqa: E402
from eocic.explorer import figures as explorer_figures  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- display

SHELL = textwrap.dedent('''
    import json, sys, types
    import nbformat
    import pandas as pd
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.display_pub = CapturingDisplayPublisher()
    if sys.argv[1] == "warm":  # the inline backend already runs: a pyplot figure was drawn
        shell.run_cell("import matplotlib.pyplot as plt\\nplt.plot([0, 1]);", store_history=False)
        shell.display_pub.outputs.clear()
    tidy = pd.DataFrame({"spec": ["A1", "A1", "A2"], "model": ["ols"] * 3,
                         "term": ["lq", "lq_cluster", "lq"], "coef": [-0.1, 0.2, -0.05],
                         "ci_low": [-0.2, 0.1, -0.1], "ci_high": [0.0, 0.3, 0.0],
                         "expected_sign": ["-", "+", "-"]})
    from eocic.models.figures import coefficient_plot  # run_regressions draws it once
    from eocic.plotting import render
    shell.user_ns["run"] = types.SimpleNamespace(
        tidy=tidy, t0=2015, T=2020,
        coefficient_figure=render(coefficient_plot(tidy, title="Coefficients, growth 2015-2020")))
    result = shell.run_cell(sys.stdin.read(), store_history=False)
    result.raise_error()
    outputs = [{"data": {k: v for k, v in o["data"].items()}, "metadata": o.get("metadata") or {}}
               for o in shell.display_pub.outputs]
    print("OUTPUTS " + json.dumps(outputs))
''')


def _displayed(cell: str, mode: str) -> list[dict]:
    """What ``cell`` displays in a fresh IPython shell (``mode``: "cold" or "warm")."""
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", SHELL, mode], input=cell, text=True,
                          capture_output=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("OUTPUTS "))
    return json.loads(line[len("OUTPUTS "):])


def _png_width(output: dict) -> int:
    data = base64.b64decode(output["data"]["image/png"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


def _one_sharp_image(outputs: list[dict]) -> dict:
    images = [o for o in outputs if "image/png" in o["data"]]
    texts = [o["data"].get("text/plain", "") for o in outputs if "image/png" not in o["data"]]
    assert len(images) == 1, outputs
    assert not [t for t in texts if "<Figure" in str(t)], texts   # no figure shown as text
    shown = images[0]["metadata"]["image/png"]["width"]           # CSS pixels on the page
    assert abs(_png_width(images[0]) - 2 * shown) <= 1            # drawn at twice that
    return images[0]


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_stage_04_coefficient_cell_shows_the_plot_as_one_sharp_image(mode):
    notebook = json.loads((REPO / "notebooks" / "04_regressions.ipynb").read_text())
    cell = next("".join(c["source"]) for c in notebook["cells"]
                if "display(run.coefficient_figure)" in "".join(c["source"]))
    # the notebook imports these in its first code cell
    imports = "from IPython.display import Markdown, display\n"
    image = _one_sharp_image(_displayed(imports + cell, mode))
    assert image["metadata"]["image/png"]["width"] > 600   # a 7.5 in figure at 100 px / in


def test_pyplot_figures_of_a_stage_are_shown_once_sharp():
    cell = ("from eocic.clusters import figures\nimport matplotlib.pyplot as plt\n"
            "figure, axis = plt.subplots(figsize=(6, 4))\naxis.plot([0, 1], [1, 0]);")
    _one_sharp_image(_displayed(cell, "cold"))


def test_configure_sets_the_resolution_outside_ipython():
    plotting.configure()
    assert matplotlib.rcParams["figure.dpi"] == plotting.SCREEN_DPI
    assert matplotlib.rcParams["savefig.dpi"] == plotting.PNG_DPI == 2 * plotting.SCREEN_DPI


# --------------------------------------------------------------------------- labels

def test_place_labels_never_overlap_and_stay_inside():
    rng = np.random.default_rng(3)
    figure, axis = plt.subplots(figsize=(5, 4))
    x, y = rng.normal(size=40), rng.normal(size=40)
    axis.scatter(x, y)
    axis.set_xlim(-3.5, 3.5)
    axis.set_ylim(-3.5, 3.5)
    figure.tight_layout()
    labels = plotting.place_labels(axis, x, y, [f"category number {i}" for i in range(40)])
    assert 5 < len(labels) < 40                       # crowded: some are left out
    assert plotting.overlapping_pairs(labels) == 0
    inside = axis.get_window_extent()
    for label in labels:
        box = label.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1
    naive = [axis.annotate(f"category number {i}", (a, b), xytext=(3, 3),
                           textcoords="offset points") for i, (a, b) in enumerate(zip(x, y))]
    assert plotting.overlapping_pairs(naive) > 10     # what the old fixed offset gave
    plt.close(figure)


def test_overlapping_pairs_counts_text_boxes():
    figure, axis = plt.subplots()
    texts = [axis.text(0.5, 0.5, "one"), axis.text(0.5, 0.5, "two"),
             axis.text(0.1, 0.1, "three"), axis.text(0.9, 0.9, "")]
    assert plotting.overlapping_pairs(texts) == 1
    plt.close(figure)


def crowded_portfolio(n: int = 45, geo: str = "AT13") -> pd.DataFrame:
    """One region's cluster-mapping rows: many categories near LQ 1 and zero growth."""
    rng = np.random.default_rng(7)
    lq = np.exp(rng.normal(0, 0.35, n))
    lq[:3] = [2.5, 3.1, 2.2]
    classes = ["high", "medium", "basic"] + [None] * (n - 3)
    return pd.DataFrame({
        "scheme": "cluster", "year": 2020, "geo": geo,
        "category": [f"CL{i:02d}" for i in range(n)],
        "category_name": [f"Category with a long name number {i}" for i in range(n)],
        "lq": lq, "growth": rng.normal(0, 0.01, n),
        "employment": np.r_[[900.0, 400.0, 300.0], rng.lognormal(8, 1, n - 3)],
        "performance_class": classes, "stars": [3, 2, 1] + [0] * (n - 3),
        "is_cluster": [True] * 3 + [False] * (n - 3), "growth_years": 5})


def test_portfolio_labels_do_not_overlap_and_name_the_clusters():
    table = crowded_portfolio()
    figure = cluster_figures.plot_portfolio(table, "AT13", 2020, "cluster", labels=12)
    labels = figure.axes[0].texts
    assert plotting.overlapping_pairs(labels) == 0
    named = {label.get_text() for label in labels}
    clusters = [cluster_figures._short(n, 26) for n in table["category_name"][:3]]
    assert set(clusters) <= named                     # the clusters are named first
    figure.canvas.draw()
    legend_right = max(legend.get_window_extent().x1 for legend in figure.axes[0].findobj(
        matplotlib.legend.Legend))
    assert legend_right <= figure.bbox.x1             # legends outside the axes, on the figure
    plt.close(figure)


def test_explorer_bubbles_share_the_label_placement():
    figure = explorer_figures.portfolio_bubbles(crowded_portfolio(), "AT13", labels=10)
    assert isinstance(figure, Figure)
    labels = figure.axes[0].texts
    assert 3 <= len(labels) <= 10
    assert plotting.overlapping_pairs(labels) == 0


def test_explorer_pngs_are_sharp_at_their_css_width():
    figure = explorer_figures.portfolio_bubbles(crowded_portfolio(), "AT13")
    png = explorer_figures.png_bytes(figure)
    width = struct.unpack(">I", png[16:20])[0]
    assert explorer_figures.css_width(figure) == f"{round(9.5 * 80)}px"
    assert width == round(9.5 * explorer_figures.PNG_DPI) == 2 * round(9.5 * 80)


def test_coverage_heatmap_labels_every_country_horizontally_without_overlap():
    countries = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(32)]
    coverage = pd.DataFrame([{"country": c, "table": "context", "indicator": f"indicator_{k}",
                              "share": 0.9, "year": 2020}
                             for c in countries for k in range(15)])
    figure = plot_coverage(coverage)
    figure.canvas.draw()
    axis = figure.axes[0]
    rows = axis.get_yticklabels()
    assert [t.get_text() for t in rows] == countries
    assert all(t.get_rotation() == 0 for t in rows)
    assert plotting.overlapping_pairs(rows) == 0
    assert plotting.overlapping_pairs(axis.get_xticklabels()) == 0
    plt.close(figure)


# --------------------------------------------------------------------------- linkages

def _pairs_with_two_blocks() -> tuple[pd.DataFrame, pd.DataFrame]:
    codes = ["a1", "b1", "a2", "b2", "a3", "b3", "c1"]
    rows = []
    for i, first in enumerate(codes):
        for second in codes[i + 1:]:
            same_block = first[0] == second[0]
            rows.append({"scheme": "cluster", "year": 2020, "category_i": first,
                         "category_j": second, "n_regions": 50,
                         "colocation_corr": 0.8 if same_block else -0.1,
                         "related": same_block, "same_divisions": {first, second} == {"a3", "c1"},
                         "coagglomeration": 0.0, "proximity": 0.0})
    table = pd.DataFrame({"scheme": "cluster", "year": 2020, "geo": "AT13", "category": codes,
                          "category_name": [f"name of {c}" for c in codes]})
    return pd.DataFrame(rows), table


def test_colocation_order_puts_co_located_categories_together():
    pairs, _ = _pairs_with_two_blocks()
    codes = sorted(set(pairs["category_i"]) | set(pairs["category_j"]))
    matrix = pd.DataFrame(np.eye(len(codes)), index=codes, columns=codes)
    for row in pairs.itertuples():
        matrix.loc[row.category_i, row.category_j] = row.colocation_corr
        matrix.loc[row.category_j, row.category_i] = row.colocation_corr
    order = cluster_figures.colocation_order(matrix)
    blocks = "".join(code[0] for code in order)
    assert blocks.count("a") == 3 and ("aaa" in blocks) and ("bbb" in blocks)


def test_colocation_heatmap_marks_related_pairs_and_blanks_same_divisions():
    pairs, table = _pairs_with_two_blocks()
    figure = cluster_figures.plot_colocation(pairs, table, 2020, "cluster")
    axis = figure.axes[0]
    matrix = axis.collections[0].get_array()
    dots = axis.collections[1].get_offsets()
    assert len(dots) == 2 * int(pairs["related"].sum())          # both halves of the matrix
    assert np.ma.count_masked(matrix) == 7 + 2                   # diagonal + the same-division pair
    assert [t.get_text() for t in axis.get_yticklabels()][0].endswith(
        "name of " + axis.get_xticklabels()[0].get_text())
    plt.close(figure)


# --------------------------------------------------------------------------- maps

def test_map_category_prefers_the_request_then_the_strongest_cluster():
    table = crowded_portfolio()
    assert cluster_figures.map_category(table, "AT13", 2020, "cluster", "CL05")[0] == "CL05"
    category, why = cluster_figures.map_category(table, "AT13", 2020, "cluster")
    assert category == "CL00" and "strongest cluster (3 star(s)" in why
    category, why = cluster_figures.map_category(table, "AT13", 2020, "cluster", "nope")
    assert category == "CL00" and why.startswith("Category <code>nope</code> is not in scheme")
    no_cluster = table.assign(is_cluster=False, lq=np.where(table["category"] == "CL09", 1.5, 0.5))
    category, why = cluster_figures.map_category(no_cluster, "AT13", 2020, "cluster")
    assert category == "CL09" and "no cluster in 2020" in why


def test_a_rendered_figure_is_the_png_the_notebook_formatter_makes(tmp_path):
    """plotting.render draws once what display(figure) shows in a kernel (IPython's retina
    format with bbox_inches="tight"): the same pixels, shown at half their size."""
    from IPython.core.pylabtools import retina_figure

    figure = Figure(figsize=(4, 3))
    figure.subplots().plot([0, 1, 4], [1, 3, 2])
    figure.suptitle("a title beyond the axes")
    rendered = plotting.render(figure)
    expected, metadata = retina_figure(figure, bbox_inches="tight")
    assert (rendered.width, rendered.height) == (metadata["width"], metadata["height"])
    from PIL import Image
    import io
    ours, theirs = Image.open(io.BytesIO(rendered.png)), Image.open(io.BytesIO(expected))
    assert ours.size == theirs.size
    assert (ours.size[0] // 2, ours.size[1] // 2) == (rendered.width, rendered.height)
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    import base64
    assert rendered._repr_png_() == (base64.b64encode(rendered.png).decode("ascii"),
                                     {"width": rendered.width, "height": rendered.height})
    saved = rendered.save(tmp_path / "figure.png")
    assert saved.read_bytes() == rendered.png and b"matplotlib" not in rendered.png


@pytest.mark.parametrize("rows", [3, 45])
def test_the_coefficient_plot_title_clears_the_panel_titles(rows):
    """The figure title stayed inside tight_layout's area and ran into the first panel's
    title (seen on page 04 with 45 coefficients)."""
    from eocic.models.figures import coefficient_plot

    terms = ["ln_lq_t0", "ln_lq_cluster_t0", "ln_lq_related_t0"]  # long panel titles
    tidy = pd.DataFrame({"spec": [f"T{i // 3}" for i in range(rows)],
                         "model": [f"model ({i})" for i in range(rows)],
                         "term": [terms[i % 3] for i in range(rows)],
                         "coef": np.linspace(-0.1, 0.1, rows), "expected_sign": "-"})
    tidy["ci_low"], tidy["ci_high"] = tidy["coef"] - 0.02, tidy["coef"] + 0.02
    figure = coefficient_plot(tidy, title="Coefficients, growth 2015-2020")
    texts = [figure._suptitle, *(axis.title for axis in figure.axes),
             *(axis._left_title for axis in figure.axes)]
    assert plotting.overlapping_pairs(texts) == 0
