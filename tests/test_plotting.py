"""How figures are rendered: shown as sharp images in notebooks.

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

import pytest  # noqa: E402

from eocic import plotting  # noqa: E402

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
    shell.user_ns["run"] = types.SimpleNamespace(tidy=tidy, t0=2015, T=2020)
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
                if "coefficient_plot(" in "".join(c["source"]))
    image = _one_sharp_image(_displayed(cell, mode))
    assert image["metadata"]["image/png"]["width"] > 600   # a 7.5 in figure at 100 px / in


def test_pyplot_figures_of_a_stage_are_shown_once_sharp():
    cell = ("from eocic.clusters import figures\nimport matplotlib.pyplot as plt\n"
            "figure, axis = plt.subplots(figsize=(6, 4))\naxis.plot([0, 1], [1, 0]);")
    _one_sharp_image(_displayed(cell, "cold"))


def test_configure_sets_the_resolution_outside_ipython():
    plotting.configure()
    assert matplotlib.rcParams["figure.dpi"] == plotting.SCREEN_DPI
    assert matplotlib.rcParams["savefig.dpi"] == plotting.PNG_DPI == 2 * plotting.SCREEN_DPI
