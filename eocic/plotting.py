"""How the study's figures are rendered: one resolution for every stage.

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

"""

from __future__ import annotations

import sys

import matplotlib

#: CSS pixels per inch of figure on a page (matplotlib's default ``figure.dpi``).
SCREEN_DPI = 100
#: Pixels per inch of the PNGs shown in notebooks and reports (IPython's ``retina``: twice
#: :data:`SCREEN_DPI`) and of figures saved without an explicit ``dpi``.
PNG_DPI = 2 * SCREEN_DPI
#: Inline figure formats (``InlineBackend.figure_formats``).
INLINE_FORMATS = frozenset({"retina"})


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


def _ipython_shell():
    """The running IPython shell with rich display (a kernel), or ``None``."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "display_formatter") else None
