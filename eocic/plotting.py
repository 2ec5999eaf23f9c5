"""How the study's figures are rendered: one resolution for every stage, and labels that do
not overlap.

Resolution
----------
Figures are sized in inches. On a report page one inch is :data:`SCREEN_DPI` (100) CSS
pixels, matplotlib's default and the size the pages always had; the PNG behind it has
:data:`PNG_DPI` (200) pixels per inch. In a notebook this is IPython's ``retina`` format: the
image carries its CSS width and height, which nbconvert writes on the ``<img>`` of the HTML
report, so a figure keeps its size on the page and stays sharp on high-density screens and when
zoomed. :func:`configure` sets it up; every figure module of eocic calls it when it is imported,
so every stage gets it without a notebook cell, and before any pyplot figure exists (a plain
:class:`matplotlib.figure.Figure` passed to ``display`` is shown as an image too).

Labels
------
:func:`place_labels` writes point labels (e.g. on a bubble chart) so that no two overlap: each
label, in order of priority, takes the first free position around its point (right, left,
above, below, the diagonals, then further out with a leader line), preferring positions that
cover no other marker; a label with no free position is left out. :func:`overlapping_pairs` counts overlapping text boxes (what the tests
measure).
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: CSS pixels per inch of figure on a page (matplotlib's default ``figure.dpi``).
SCREEN_DPI = 100
#: Pixels per inch of the PNGs shown in notebooks and reports (IPython's ``retina``: twice
#: :data:`SCREEN_DPI`) and of figures saved without an explicit ``dpi``.
PNG_DPI = 2 * SCREEN_DPI
#: Inline figure formats (``InlineBackend.figure_formats``).
INLINE_FORMATS = frozenset({"retina"})
#: matplotlib's name of the IPython kernel's inline backend (ipykernel sets ``MPLBACKEND`` to it).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def configure() -> None:
    """Render figures at :data:`PNG_DPI`, shown at :data:`SCREEN_DPI` (idempotent).

    Sets ``figure.dpi`` (on-screen size) and ``savefig.dpi`` in matplotlib's rcParams. In an
    IPython kernel it also selects the ``retina`` PNG format for :class:`~matplotlib.figure.Figure`
    objects, both now (so ``display(figure)`` shows an image even before pyplot's inline
    backend has started) and in ``InlineBackend.figure_formats`` (so the inline backend keeps
    it when it starts later).
    """
    matplotlib.rcParams["figure.dpi"] = SCREEN_DPI
    matplotlib.rcParams["savefig.dpi"] = PNG_DPI
    shell = _ipython_shell()
    if shell is None:
        return
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib_inline.config import InlineBackend

    inline = InlineBackend.instance(parent=shell)
    if set(inline.figure_formats) != INLINE_FORMATS:
        inline.figure_formats = set(INLINE_FORMATS)
    select_figure_formats(shell, set(INLINE_FORMATS), **inline.print_figure_kwargs)
    _render_each_figure_once()


def _render_each_figure_once() -> None:
    """With the inline backend, drop pyplot's after-cell hook that draws every changed figure.

    After each cell two hooks run: pyplot's (``_draw_all_if_interactive``: render every stale
    figure, as a GUI window would need) and then the inline backend's (``flush_figures``:
    render each new figure to PNG, display it and close it). In a kernel the first rendering
    is never seen, yet it costs a whole draw of each figure at ``figure.dpi``: stage 02's cells
    (demo year 2020, 7 figures, run in one process) took 8.45 s of CPU with it, 7.4-7.7 s
    without. The PNGs shown are the same without it;
    :func:`matplotlib.pyplot.uninstall_repl_displayhook` is matplotlib's own switch for the
    hook. Done only when pyplot can select the inline backend with no figure open (selecting
    a backend closes open figures); otherwise nothing changes.
    """
    import matplotlib.pyplot as pyplot

    if matplotlib.get_backend() != INLINE_BACKEND or pyplot.get_fignums():
        return
    pyplot.switch_backend(INLINE_BACKEND)  # installs the hook now, not at the first figure
    pyplot.uninstall_repl_displayhook()


@dataclasses.dataclass(frozen=True)
class RenderedFigure:
    """A figure drawn once, as the PNG a notebook shows: :data:`PNG_DPI` pixels per inch,
    cropped to its content (``bbox_inches="tight"``, as IPython's ``retina`` format), shown at
    half its pixel size (``width`` x ``height`` CSS pixels).

    For a figure that is both saved as a file and shown in a notebook: :func:`render` draws
    it once, :meth:`save` writes those bytes and ``display(rendered)`` shows them
    (``_repr_png_``), instead of a second drawing by the notebook's figure formatter.
    """

    png: bytes
    width: int
    height: int

    def _repr_png_(self) -> tuple[str, dict[str, int]]:
        # base64 text, as IPython's own figure formatter hands PNGs to the notebook
        import base64

        return (base64.b64encode(self.png).decode("ascii"),
                {"width": self.width, "height": self.height})

    def __repr__(self) -> str:
        return f"<figure, {self.width} x {self.height} px>"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the PNG to ``path`` atomically; returns the path."""
        from eocic.atomic import atomic_path

        with atomic_path(path) as partial:
            partial.write_bytes(self.png)
        return Path(path)


def render(figure) -> RenderedFigure:
    """Draw ``figure`` (a matplotlib ``Figure``) once to the PNG notebooks show
    (:class:`RenderedFigure`); the same image as ``display(figure)`` in a kernel after
    :func:`configure` (IPython's ``retina_figure`` with the inline backend's
    ``bbox_inches="tight"``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight",
                   facecolor=figure.get_facecolor(), edgecolor=figure.get_edgecolor(),
                   metadata={"Software": None})  # no matplotlib version in the file
    png = buffer.getvalue()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk of the PNG
    return RenderedFigure(png, width // 2, height // 2)


def _ipython_shell():
    """The running IPython shell with rich display (a kernel), or ``None``."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "display_formatter") else None


# --------------------------------------------------------------------------- labels

#: Directions tried around a point, in order: right, left, above, below, then the diagonals.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _alignment(dx: float, dy: float) -> tuple[str, str]:
    horizontal = "left" if dx > 0 else "right" if dx < 0 else "center"
    vertical = "bottom" if dy > 0 else "top" if dy < 0 else "center"
    return horizontal, vertical


def place_labels(axis, x: Sequence[float], y: Sequence[float], texts: Sequence[str], *,
                 radii: Sequence[float] | None = None, fontsize: float = 7,
                 avoid: Sequence[tuple[float, float]] = (),
                 avoid_radii: Sequence[float] | None = None, gaps: Sequence[float] = (2, 10, 20),
                 directions: Sequence[tuple[int, int]] = DIRECTIONS) -> list[Annotation]:
    """Label points so that no two labels overlap; returns the labels drawn.

    Parameters
    ----------
    axis : Axes
        Its limits and position must be final (after ``tight_layout``/``subplots_adjust``):
        the labels are placed in display space.
    x, y : data coordinates of the points, in order of priority (the first gets the best spot).
    texts : their labels.
    radii : radius of each point's marker in points (a bubble's ``sqrt(s) / 2``), so the label
        starts beside the marker, not on it. Default 3.
    avoid, avoid_radii : other markers (data coordinates, radii in points, default 3), e.g.
        unlabelled bubbles, that labels should preferably not cover.
    gaps : distances (points) from the marker's edge to try, nearest first; beyond the first a
        thin leader line joins label and point.
    directions : ``(dx, dy)`` signs of the positions to try at each gap, in order (default
        :data:`DIRECTIONS`).

    Each label takes the first position (gap by gap, direction by direction) that lies inside
    the axes, overlaps no label already placed and covers no other marker; failing that, the
    first that covers no other marker's centre; failing that, the first free of labels. A label
    with no such position is left out (so the result can be shorter than ``texts``).
    """
    radii = [3.0] * len(texts) if radii is None else list(radii)
    avoid_radii = [3.0] * len(avoid) if avoid_radii is None else list(avoid_radii)
    to_pixels = axis.figure.dpi / 72.0
    inside = axis.get_window_extent()
    markers = [(axis.transData.transform((px, py)), radius * to_pixels)
               for (px, py), radius in zip(list(zip(x, y)) + list(avoid), radii + avoid_radii)]
    probe = axis.annotate("", (0, 0), xytext=(0, 0), textcoords="offset points",
                          fontsize=fontsize, annotation_clip=False)
    renderer = _renderer(axis.figure)
    tiers = (lambda box, centre, r: _distance(box, centre) < 0.85 * r,   # covers the marker
             lambda box, centre, r: _distance(box, centre) == 0.0,       # covers its centre
             None)
    placed: list[Bbox] = []
    labels: list[Annotation] = []
    for number, (px, py, text, radius) in enumerate(zip(x, y, texts, radii)):
        probe.set_text(text)
        probe.xy = (px, py)
        others = markers[:number] + markers[number + 1:]
        chosen = None
        for covers in tiers:
            for gap in gaps:
                for dx, dy in directions:
                    distance = (radius + gap) / (np.sqrt(2) if dx and dy else 1)
                    offset = (dx * distance, dy * distance)
                    horizontal, vertical = _alignment(dx, dy)
                    probe.xyann = offset
                    probe.set_horizontalalignment(horizontal)
                    probe.set_verticalalignment(vertical)
                    box = probe.get_window_extent(renderer).padded(1.5 * to_pixels)
                    if not _contains(inside, box) or any(box.overlaps(b) for b in placed):
                        continue
                    if covers and any(covers(box, centre, r) for centre, r in others):
                        continue
                    chosen = (offset, horizontal, vertical, gap, box)
                    break
                if chosen:
                    break
            if chosen:
                break
        if chosen is None:
            continue
        offset, horizontal, vertical, gap, box = chosen
        leader = (None if gap == gaps[0] else
                  dict(arrowstyle="-", color="#555555", linewidth=0.5, shrinkA=0,
                       shrinkB=radius))
        labels.append(axis.annotate(text, (px, py), xytext=offset, textcoords="offset points",
                                    ha=horizontal, va=vertical, fontsize=fontsize,
                                    arrowprops=leader, annotation_clip=False))
        placed.append(box)
    probe.remove()
    return labels


def _renderer(figure):
    """One renderer for every text measured on ``figure``: without it, each
    ``get_window_extent()`` of a figure without an Agg canvas (a plain
    :class:`~matplotlib.figure.Figure`) renders the whole figure once more to find one, about
    80 renderings per labelled portfolio chart. A plain figure gets the Agg canvas it would get
    when saved as PNG; a pyplot figure keeps its own (inline or Agg)."""
    canvas = figure.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(figure)
    return canvas.get_renderer()


def _distance(box: Bbox, point) -> float:
    """Distance (pixels) from ``point`` to the nearest point of ``box`` (0 inside)."""
    dx = max(box.x0 - point[0], 0.0, point[0] - box.x1)
    dy = max(box.y0 - point[1], 0.0, point[1] - box.y1)
    return float(np.hypot(dx, dy))


def _contains(outer: Bbox, inner: Bbox) -> bool:
    return (inner.x0 >= outer.x0 and inner.x1 <= outer.x1 and inner.y0 >= outer.y0
            and inner.y1 <= outer.y1)


def overlapping_pairs(texts: Sequence[Text]) -> int:
    """Number of pairs of visible, non-empty texts whose boxes (display space) overlap; the box
    of an annotation is its text's, without its leader line."""
    boxes = []
    for text in texts:
        if text.get_visible() and text.get_text():
            text.get_window_extent()  # an annotation updates its text position here
            boxes.append(Text.get_window_extent(text))
    return sum(1 for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if boxes[i].overlaps(boxes[j]))
