"""The ipywidgets view of the region explorer, wired to :class:`RegionExplorer`.

Layout: heading; country and region pickers; peers (text, "Apply peers", "Default peers");
tabs (cluster portfolio, scoreboard, development over time, regressions, map); export buttons
(CSV tables, PNG figures into ``reports/<run_id>/exports/``). Figures are PNG images
(``widgets.Image``), tables HTML. Only the visible tab is drawn after a change; the others
are drawn when opened (the controller caches each tab's content per selection).

Widgets carry CSS classes ``eocic-...`` (``eocic-heading``, ``eocic-region`` ...) so that a
browser test can find them.

Every text that reaches an HTML widget or an HTML output goes through
:func:`eocic.presentation.escape_html` (tables through pandas' escaping ``to_html``): region,
peers, run id, scheme and the messages quoting them are shown as text, never as markup.
:func:`error_html` is what the page shows instead of the explorer when the run cannot be
shown (:data:`PAGE_ERRORS`), and :func:`text_html` / :func:`heading_html` are how notebook 05
writes any other text that may quote a user's value (HTML, not Markdown: Markdown would turn
``[x](javascript:...)`` into a link and a backtick into a code span).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from eocic.explorer import export, figures
from eocic.explorer.controller import MAP_KINDS, TAB_TITLES, TABS, ExplorerError, Panel, RegionExplorer
from eocic.presentation import display_path, escape_html
from eocic.run_integrity import RunIntegrityError
from eocic.tables import TableValidationError

MAX_TABLE_ROWS = 60
#: The errors the explorer's page shows as a message (:func:`error_html`) instead of failing:
#: a run or choice it cannot show (bad run id, unknown run, year or scheme in the address),
#: tables that do not all belong to the run, a table breaking its schema.
PAGE_ERRORS = (ExplorerError, RunIntegrityError, TableValidationError)
MESSAGE_STYLE = "color:#9a3412"
ERROR_STYLE = ("border-left:4px solid #9a3412;background:#fff7ed;padding:0.4em 1em;"
               "margin:0.5em 0;max-width:60em")


def error_html(error: BaseException, root: str | os.PathLike[str] | None = None) -> str:
    """A readable panel (``div.eocic-error``, ``role=alert``) saying why the explorer cannot
    show a run: the error's message, escaped, and what to do. ``root`` (the project root):
    its absolute path is left out of the message, so no machine layout reaches the page."""
    text = str(error)
    if root is not None:
        text = text.replace(str(Path(root).resolve()) + os.sep, "")
    return (f"<div class='eocic-error' role='alert' style='{ERROR_STYLE}'>"
            "<h3>The region explorer cannot show this run</h3>"
            f"<p>{escape_html(text)}</p>"
            "<p>Open the explorer without parameters for the newest run, or with "
            "<code>?run_id=</code> and the id of a run of this project (the folder name under "
            "<code>data/processed</code>).</p></div>")


def text_html(text: str, tag: str = "p", style: str = "") -> str:
    """``<tag>text</tag>`` with ``text`` escaped (``tag`` and ``style`` are the caller's own
    constants, e.g. ``"em"`` or :data:`MESSAGE_STYLE`)."""
    attribute = f" style='{style}'" if style else ""
    return f"<{tag}{attribute}>{escape_html(text)}</{tag}>"


def heading_html(text: str, level: int = 3) -> str:
    """An ``<h2>``/``<h3>``... heading of ``text`` (escaped) with an ``id`` made of its
    letters and digits, so the report's table of contents (:func:`eocic.report.
    table_of_contents`) links it as it links Markdown headings."""
    anchor = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-") or "section"
    return f"<h{level} id='{anchor}'>{escape_html(text)}</h{level}>"


def table_html(frame: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> str:
    """HTML of a table: numbers rounded for reading, stars as ★, at most ``max_rows`` rows
    (the note says how many more; the CSV export has them all)."""
    if frame is None or frame.empty:
        return "<p><i>no rows</i></p>"
    shown = frame.head(max_rows).copy()
    if "stars" in shown:
        shown["stars"] = [("★" * int(n) if pd.notna(n) else "") for n in shown["stars"]]
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = ["–" if pd.isna(v) else f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
                             for v in shown[column]]
    text = shown.to_html(index=False, border=0, classes="eocic-table", na_rep="–", escape=True)
    if len(frame) > max_rows:
        text += f"<p><i>{max_rows} of {len(frame):,} rows shown; export CSV for all.</i></p>"
    return text


class ExplorerApp:
    """Widgets over one :class:`RegionExplorer`; ``app.widget`` is what to display.

    Parameters
    ----------
    explorer : RegionExplorer
    export_dir : path, optional
        Where the export buttons write (default ``reports/<run_id>/exports`` under the current
        project root).
    """

    def __init__(self, explorer: RegionExplorer, export_dir: str | Path | None = None) -> None:
        from eocic.config import project_root
        self.explorer = explorer
        self.export_dir = Path(export_dir) if export_dir else export.default_export_dir(
            project_root(), explorer.run_id)
        self._busy = False
        self._stale: set[str] = set(TABS)
        self.heading = widgets.HTML().add_class("eocic-heading")
        self.message = widgets.HTML().add_class("eocic-message")
        self.country_picker = widgets.Dropdown(options=explorer.countries(),
                                               description="Country").add_class("eocic-country")
        self.region_picker = widgets.Dropdown(description="Region").add_class("eocic-region")
        self.peer_text = widgets.Text(placeholder="up to 5 codes, e.g. FR10,ITC4",
                                      description="Peers").add_class("eocic-peers")
        self.apply_button = widgets.Button(description="Apply peers")
        self.default_button = widgets.Button(description="Default peers")
        self.peer_label = widgets.HTML().add_class("eocic-peer-list")
        self.map_kind = widgets.Dropdown(options=list(MAP_KINDS), value=explorer.map_kind,
                                         description="Map of")
        self.map_category = widgets.Dropdown(description="Showing")
        self.csv_button = widgets.Button(description="Export tables (CSV)", icon="table")
        self.png_button = widgets.Button(description="Export figures (PNG)", icon="image")
        self.export_status = widgets.HTML().add_class("eocic-export-status")
        self.pages: dict[str, dict[str, widgets.Widget]] = {}
        children = []
        for tab in TABS:
            page = {"title": widgets.HTML().add_class(f"eocic-title-{tab}"),
                    "notes": widgets.HTML(),
                    "image": widgets.Image(format="png", layout=widgets.Layout(
                        width="auto", max_width="100%")).add_class(f"eocic-figure-{tab}"),
                    "table": widgets.HTML().add_class(f"eocic-table-{tab}")}
            if tab == "scoreboard":
                page["extra"] = widgets.HTML()
                page["ranks"] = widgets.Image(format="png", layout=widgets.Layout(
                    max_width="100%"))
            self.pages[tab] = page
            parts = list(page.values())
            if tab == "map":
                parts.insert(1, widgets.HBox([self.map_kind, self.map_category]))
            children.append(widgets.VBox(parts))
        self.tabs = widgets.Tab(children=children).add_class("eocic-tabs")
        for index, tab in enumerate(TABS):
            self.tabs.set_title(index, TAB_TITLES[tab])

        if explorer.region:
            self.country_picker.value = explorer.country
            self.region_picker.options = explorer.regions_of(explorer.country)
            self.region_picker.value = explorer.region
        self.country_picker.observe(self._on_country, names="value")
        self.region_picker.observe(self._on_region, names="value")
        self.apply_button.on_click(lambda _: self.apply_peers())
        self.default_button.on_click(lambda _: self.apply_peers(default=True))
        self.tabs.observe(lambda _: self.render_visible(), names="selected_index")
        self.map_kind.observe(self._on_map_kind, names="value")
        self.map_category.observe(self._on_map_category, names="value")
        self.csv_button.on_click(lambda _: self.export_tables())
        self.png_button.on_click(lambda _: self.export_figures())
        self.widget = widgets.VBox([
            self.heading,
            widgets.HBox([self.country_picker, self.region_picker]),
            widgets.HBox([self.peer_text, self.apply_button, self.default_button]),
            self.peer_label, self.message, self.tabs,
            widgets.HBox([self.csv_button, self.png_button]), self.export_status,
        ]).add_class("eocic-explorer")
        self.refresh(explorer.messages)

    # -- display --------------------------------------------------------------------
    #: What a page without a kernel (the nbconvert HTML of a batch run) shows for the widgets.
    NO_KERNEL_TEXT = ("[Live region explorer: needs a running kernel. Open the notebook in "
                      "JupyterLab or run `make explore`; the static profile follows.]")

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The widget view, with a readable text fallback instead of the widget's repr."""
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
        bundle["text/plain"] = self.NO_KERNEL_TEXT
        return bundle

    @property
    def visible_tab(self) -> str:
        return TABS[self.tabs.selected_index or 0]

    def tab_title(self, tab: str) -> str:
        """The heading shown on ``tab`` (drawn if needed)."""
        self._render(tab)
        return html.unescape(self.pages[tab]["title"].value)

    def refresh(self, messages: list[str] | None = None) -> None:
        """Show the controller's selection: heading, peers, messages, the visible tab."""
        explorer = self.explorer
        self.heading.value = (f"<h3>{escape_html(explorer.title())}</h3>" if explorer.region
                              else f"<h3>Run {escape_html(explorer.run_id)}: no region</h3>")
        peers = ", ".join(explorer.label(p) for p in explorer.peers) or "none"
        self.peer_label.value = (f"<b>Peers</b> ({escape_html(explorer.peer_source)}): "
                                 f"{escape_html(peers)}")
        messages = list(messages or [])
        self.message.value = "".join(text_html(m, style=MESSAGE_STYLE)
                                     for m in messages)
        self._update_map_choices()
        self._stale = set(TABS)
        self.render_visible()

    def render_visible(self) -> None:
        self._render(self.visible_tab)

    def _render(self, tab: str) -> None:
        if tab not in self._stale:
            return
        self._stale.discard(tab)
        page = self.pages[tab]
        if not self.explorer.region:
            page["title"].value = "<h4>No region in this run</h4>"
            page["notes"].value = "".join(
                f"<p>{escape_html(m)}</p>" for m in self.explorer.missing.values())
            return
        panel: Panel = self.explorer.panel(tab)
        page["title"].value = f"<h4>{escape_html(panel.title)}</h4>"
        notes = [f"<p style='color:#9a3412'><b>{escape_html(panel.message)}</b></p>"
                 if panel.message else ""]
        notes += [f"<p>{escape_html(note)}</p>" for note in panel.notes]
        page["notes"].value = "".join(notes)
        png = panel.png()
        page["image"].value = png or b""
        page["image"].layout.display = None if png else "none"
        page["image"].layout.width = figures.css_width(panel.figure()) if png else "auto"
        page["table"].value = "" if panel.message else table_html(panel.table)
        if tab == "scoreboard":
            extra = "".join(f"<h5>{name.capitalize()}</h5>" + table_html(table)
                            for name, table in panel.extra.items() if name != "ranks")
            page["extra"].value = extra
            ranks = panel.extra_draw.get("ranks")
            figure = ranks() if ranks else None
            page["ranks"].value = figures.png_bytes(figure) if figure else b""
            page["ranks"].layout.width = figures.css_width(figure) if figure else "auto"
            page["ranks"].layout.display = None if ranks else "none"

    # -- callbacks ------------------------------------------------------------------
    def _on_country(self, change) -> None:
        if self._busy:
            return
        try:
            messages = self.explorer.set_country(change["new"])
        except ExplorerError as error:
            self.message.value = text_html(str(error), style=MESSAGE_STYLE)
            return
        self._busy = True
        try:
            self.region_picker.options = self.explorer.regions_of(self.explorer.country)
            self.region_picker.value = self.explorer.region
        finally:
            self._busy = False
        self.peer_text.value = ""
        self.refresh(messages)

    def _on_region(self, change) -> None:
        if self._busy or change["new"] is None:
            return
        self.select_region(change["new"])

    def select_region(self, geo: str) -> None:
        """Select ``geo`` (as the region picker does) and redraw the visible tab."""
        try:
            messages = self.explorer.set_region(geo)
        except ExplorerError as error:
            self.message.value = text_html(str(error), style=MESSAGE_STYLE)
            return
        self._busy = True
        try:
            if self.country_picker.value != self.explorer.country:
                self.country_picker.value = self.explorer.country
                self.region_picker.options = self.explorer.regions_of(self.explorer.country)
            if self.region_picker.value != geo:
                self.region_picker.value = geo
        finally:
            self._busy = False
        self.peer_text.value = ""
        self.refresh(messages)

    def apply_peers(self, default: bool = False) -> None:
        """Use the peers typed in the text box (or the default peers)."""
        if default:
            self.peer_text.value = ""
        self.refresh(self.explorer.set_peers("" if default else self.peer_text.value))

    def _update_map_choices(self) -> None:
        choices = self.explorer.map_choices()
        self._busy = True
        try:
            self.map_category.options = choices
            codes = [code for _, code in choices]
            current = self.explorer.map_category
            default = self.explorer._default_map_category() if choices else None
            self.map_category.value = current if current in codes else default
        finally:
            self._busy = False

    def _on_map_kind(self, change) -> None:
        self.explorer.set_map(kind=change["new"])
        self.explorer.map_category = None
        self._update_map_choices()
        self._stale.add("map")
        self.render_visible()

    def _on_map_category(self, change) -> None:
        if self._busy or change["new"] is None:
            return
        self.explorer.set_map(category=change["new"])
        self._stale.add("map")
        self.render_visible()

    def export_tables(self) -> list[Path]:
        written = export.export_tables(self.explorer, self.export_dir)
        self.export_status.value = (f"{len(written)} CSV file(s) written to "
                                    f"<code>{escape_html(display_path(self.export_dir))}</code>")
        return written

    def export_figures(self) -> list[Path]:
        written = export.export_figures(self.explorer, self.export_dir)
        self.export_status.value = (f"{len(written)} PNG file(s) written to "
                                    f"<code>{escape_html(display_path(self.export_dir))}</code>")
        return written
