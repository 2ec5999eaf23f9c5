"""Rendered reports: notebook HTML and the run's ``index.html`` landing page.

The HTML of each executed notebook is produced by nbconvert's ``HTMLExporter`` (``offline``
template: the ``lab`` template without CDN scripts) with images embedded as data URIs, so a report
folder can be zipped and shared as it is. ``index.html`` links every stage with its status and
duration, and shows the run's parameters, package versions, git commit and the data manifest of
the pipeline stage.

The pages are written for policy readers (the ``.ipynb`` beside them keeps everything):

* code and prompts are hidden unless ``show_code=True`` (``eocic study --show-code``);
* the parameter cells (tagged ``parameters`` and papermill's ``injected-parameters``) never
  appear: they hold machine paths and say nothing a reader needs (``index.html`` lists the
  run's parameters);
* stderr streams (warnings, progress bars) are left out: papermill logs them in
  ``reports/<run_id>/logs/NN_<stage>.log`` (as ``WARNING`` lines) and the ``.ipynb`` keeps them;
* every page has a ``<title>`` taken from the notebook's first heading ("2. Cluster mapping —
  eocic demo-2020"), a link back to ``index.html``, a table of contents built from the page's
  headings and, on a run of the synthetic demo economy, a banner saying so (also on the index).
"""

from __future__ import annotations

import html
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from eocic.atomic import write_text_atomic
from eocic.presentation import display_path

if TYPE_CHECKING:  # pragma: no cover
    from eocic.study import StudyRun

#: nbconvert templates shipped with eocic (``offline``: the lab template without CDN scripts).
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Cells with these tags never reach the HTML (papermill's parameter cells: machine paths).
PARAMETER_TAGS = ("parameters", "injected-parameters")

#: What every page of a run on the synthetic demo economy says first (plain text, escaped).
SYNTHETIC_NOTICE = (
    "Synthetic demo data: every figure in this report is invented by a seeded simulation of a "
    "European economy, not published by Eurostat. Region names and codes are real; their "
    "numbers are not."
)

#: Where the table of contents goes in the template (replaced once, after rendering).
_TOC_MARKER = "<!--eocic:table-of-contents-->"

#: Outputs whose only content is the Python repr of an object (``<pandas...Styler at 0x...>``,
#: ``<IPython.core.display.Markdown object>``) say nothing to a reader. ``<Figure size ...>``
#: is kept: it means a figure was not drawn, which the reader must see.
_BARE_REPR = re.compile(r"^<(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*(?: object)?(?: at 0x[0-9a-fA-F]+)?>$"
                        r"|^<[A-Za-z_]\w*(?: object)? at 0x[0-9a-fA-F]+>$")

#: A WARNING record of the stage log (study._configure_cell_log's format).
_LOG_WARNING = re.compile(r"^\d{4}-\d{2}-\d{2} [\d:,]+ WARNING ")

_STATUS_COLOURS = {
    "ok": "#1a7f37", "failed": "#cf222e", "running": "#9a6700", "pending": "#57606a",
    "not run": "#57606a", "interrupted": "#bc4c00", "reused": "#0969da",
    "complete": "#1a7f37",  # a run (StudyRun.status) whose stages all ran or were reused
}


def page_title(notebook, stem: str, run_id: str | None = None) -> str:
    """The page title: the notebook's first Markdown heading (else the stage's name from the
    file ``NN_<name>``) and ``— eocic <run_id>``."""
    heading = None
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
        if match:
            heading = re.sub(r"[*_`]", "", match.group(1)).strip()
            break
    if not heading:
        number, _, name = stem.partition("_")
        heading = (f"{int(number)}. {name.replace('_', ' ').capitalize()}"
                   if number.isdigit() and name else stem)
    return f"{heading} — eocic {run_id}" if run_id else f"{heading} — eocic"


def _reader_outputs(outputs: list) -> list:
    """``outputs`` without stderr streams and bare object reprs."""
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        data = output.get("data", {})
        if set(data) == {"text/plain"} and _BARE_REPR.match("".join(data["text/plain"]).strip()):
            continue
        kept.append(output)
    return kept


class _Headings(HTMLParser):
    """Collects ``<h2>``/``<h3>`` elements with an ``id`` (nbconvert's heading anchors)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str, str]] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []
        self._skip = 0  # inside the heading's own anchor link (the pilcrow)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("h2", "h3") and attributes.get("id"):
            self._open, self._text = (int(tag[1]), attributes["id"]), []
        elif self._open and tag == "a" and "anchor-link" in (attributes.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if self._open and tag == "a" and self._skip:
            self._skip -= 1
        elif self._open and tag == f"h{self._open[0]}":
            text = " ".join("".join(self._text).split())
            if text:
                self.headings.append((self._open[0], self._open[1], text))
            self._open = None

    def handle_data(self, data):
        if self._open and not self._skip:
            self._text.append(data)


def table_of_contents(body: str) -> str:
    """HTML of a table of contents linking the ``h2``/``h3`` headings of a rendered page
    (empty when the page has fewer than two). Repeated anchors are linked once."""
    parser = _Headings()
    parser.feed(body)
    seen: set[str] = set()
    sections: list[tuple[str, list[str]]] = []  # h2 item, its h3 items
    for level, anchor, text in parser.headings:
        if anchor in seen:
            continue
        seen.add(anchor)
        item = f"<a href='#{html.escape(anchor)}'>{html.escape(text)}</a>"
        if level == 2 or not sections:
            sections.append((item, []))
        else:
            sections[-1][1].append(item)
    if len(seen) < 2:
        return ""
    items = "".join(
        f"<li>{item}" + (f"<ul>{''.join(f'<li>{sub}</li>' for sub in subs)}</ul>" if subs else "")
        + "</li>" for item, subs in sections)
    return ("<nav class='eocic-toc' aria-label='Contents'><span class='eocic-toc-title'>"
            f"Contents</span><ul>{items}</ul></nav>")


#: This thread's HTML exporters by ``show_code`` (see :func:`_html_exporter`).
_EXPORTERS = threading.local()


#: What nbconvert's ``HTMLExporter`` does to a rendered page with BeautifulSoup (nbconvert
#: 7.x): an image without ``alt`` gets this text, and cell inputs and outputs get
#: ``tabindex="0"`` (reachable with the keyboard).
MISSING_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\salt\s*=)([^>]*)>", re.IGNORECASE)
_FOCUSABLE = re.compile(r"(<div\b(?=[^>]*\sclass=\"(?:[^\"]*\s)?"
                        r"(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?:\s[^\"]*)?\")[^>]*)>",
                        re.IGNORECASE)


def reader_accessibility(page: str) -> str:
    """The accessibility attributes nbconvert's ``HTMLExporter`` adds to a page (``alt`` on
    images without one, ``tabindex="0"`` on cell inputs and outputs), added to the template's
    text. nbconvert does it by parsing and re-serialising the whole page with BeautifulSoup:
    about 40 % of a page's rendering (the study runner renders 7 pages a year, 56 in an 8-year
    study). ``tests/test_report.py`` checks that BeautifulSoup reads the result as the same
    document as nbconvert's page."""
    page = _IMG_WITHOUT_ALT.sub(lambda match: f'<img{match.group(1)} alt="{MISSING_ALT}">', page)
    return _FOCUSABLE.sub(r'\1 tabindex="0">', page)


def _reader_exporter_class():
    """nbconvert's ``HTMLExporter`` whose page is the template's text with
    :func:`reader_accessibility`, instead of a BeautifulSoup pass over it."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReaderHTMLExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node (nbconvert 7.17) up to the template's output
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return reader_accessibility(page), resources

    return ReaderHTMLExporter


def _html_exporter(show_code: bool):
    """The nbconvert ``HTMLExporter`` of :func:`render_notebook_html`, one per thread and
    ``show_code``: building one compiles its Jinja templates again (0.25 s a page), and an
    exporter keeps per-call state (its filters), so threads rendering side by side (the
    runner's stages) never share one."""
    exporters = getattr(_EXPORTERS, "by_show_code", None)
    if exporters is None:
        exporters = _EXPORTERS.by_show_code = {}
    if show_code not in exporters:
        from traitlets.config import Config

        settings = Config()
        settings.TagRemovePreprocessor.enabled = True
        settings.TagRemovePreprocessor.remove_cell_tags = ("remove_cell", *PARAMETER_TAGS)
        settings.TagRemovePreprocessor.remove_input_tags = ("remove_input",)
        exporter = _reader_exporter_class()(config=settings, template_name="offline",
                                extra_template_basedirs=[str(TEMPLATES)])
        exporter.exclude_input = not show_code
        exporter.exclude_input_prompt = not show_code
        exporter.exclude_output_prompt = not show_code
        exporters[show_code] = exporter
    return exporters[show_code]


def render_notebook_html(notebook_path: Path, html_path: Path, *, show_code: bool = False,
                         run_id: str | None = None, synthetic: bool | None = None) -> Path:
    """Render an executed notebook to a standalone HTML page for readers (written atomically).

    The page loads nothing from the internet (``offline`` template: no require.js, widget
    manager, MathJax or Mermaid from CDNs) and embeds figures as data URIs, so it opens on a
    machine without network access.

    Parameters
    ----------
    show_code : bool
        Show code cells and prompts (default: hidden, the version for policy readers). Cells
        tagged ``remove_input`` lose their code in either version; cells tagged
        ``remove_cell`` and the parameter cells (:data:`PARAMETER_TAGS`) disappear.
    run_id : str, optional
        Named in the title and the back link; default: the ``run_id`` papermill injected.
    synthetic : bool, optional
        Show the synthetic-data banner; default: the notebook ran with ``source = "demo"``
        (papermill's record of the injected parameters).
    """
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    injected = notebook.metadata.get("papermill", {}).get("parameters", {})
    run_id = run_id if run_id is not None else injected.get("run_id")
    synthetic = synthetic if synthetic is not None else injected.get("source") == "demo"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _reader_outputs(cell.outputs)
    notebook.metadata["title"] = page_title(notebook, Path(notebook_path).stem, run_id)

    exporter = _html_exporter(show_code)
    page = {"run_id": run_id or "", "index_href": "index.html", "toc_marker": _TOC_MARKER,
            "notice": SYNTHETIC_NOTICE if synthetic else ""}
    body, _ = exporter.from_notebook_node(notebook, resources={"eocic": page})
    body = body.replace(_TOC_MARKER, table_of_contents(body), 1)
    return write_text_atomic(html_path, body)


def run_record(run: "StudyRun", run_info: dict) -> dict:
    """JSON-serialisable record of a run (``reports/<run_id>/run.json``)."""
    return {
        "run_id": run.config.run_id,
        "ok": run.ok,
        "status": run.status,
        "interrupted_by": run.interrupted_by,
        "seconds": round(run.seconds, 3),
        **run_info,
        "stages": [
            {
                "stage": result.stage.stem,
                "status": result.status,
                "seconds": None if result.seconds is None else round(result.seconds, 3),
                "error": result.error,
                "cache": result.cache,
                "where": result.where,
                "html": result.html_path.name if result.html_path else None,
                "notebook": result.notebook_path.name if result.notebook_path else None,
            }
            for result in run.results
        ],
    }


def _definition_list(mapping: dict) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
        for key, value in mapping.items()
    )
    return f"<table class='kv'>{rows}</table>"


def _manifest_table(manifest: dict | None) -> str:
    if not manifest:
        return "<p>No data manifest yet (the data pipeline stage writes it).</p>"
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(entry.get('dataset', ''))}</td>"
        f"<td><code>{html.escape(entry['path'])}</code></td>"
        f"<td class='num'>{entry['rows']:,}</td>"
        f"<td class='num'>{entry['bytes']:,}</td>"
        f"<td><code>{html.escape(entry['sha256'][:16])}</code></td>"
        "</tr>"
        for entry in manifest.get("inputs", [])
    )
    missing = manifest.get("missing_datasets") or []
    missing_note = (
        f"<p class='warn'>Datasets absent from the source: {html.escape(', '.join(missing))}.</p>"
        if missing else ""
    )
    return (
        "<table><thead><tr><th>dataset</th><th>file (relative to the data folder)</th>"
        "<th>rows</th><th>bytes</th><th>sha256 (first 16)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{missing_note}"
    )


def validation_notes_html(processed_dir: Path) -> str:
    """The notes of the input validation (``validation.json`` of the run, written by stage 01:
    :data:`eocic.sources.VALIDATION_FILE`) as an escaped list; ``""`` when there are none."""
    from eocic.sources import VALIDATION_FILE

    path = Path(processed_dir) / VALIDATION_FILE
    notes = json.loads(path.read_text()) if path.exists() else []
    if not notes:
        return ""
    items = "".join(f"<li><code>{html.escape(str(note.get('code', '')))}</code>: "
                    f"{html.escape(str(note.get('message', '')))}</li>" for note in notes)
    return f"<p class='warn'>What the validation of the inputs noted:</p><ul>{items}</ul>"


def _log_warnings(log_path: Path) -> int:
    """Warnings (stderr output) papermill logged for a stage: its ``WARNING`` records."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return sum(1 for line in log if _LOG_WARNING.match(line))


def _without_root(text: str, root: Path) -> str:
    """``text`` (an error message) with the project root's absolute path taken out."""
    return text.replace(f"{root}{'/'}", "").replace(str(root), ".")


def _external_references_html(config) -> str:
    """The landing page's "External references" section: Spearman of each open index with the
    RCI and RIS (:func:`eocic.findings.external_reference_findings`); empty before stage 03. A
    bad scoreboard table or reference file is shown as the reason, not raised."""
    from eocic.findings import external_reference_findings
    from eocic.scoreboard.external import ExternalReferenceError
    from eocic.tables import TableNotFoundError, TableValidationError

    try:
        lines = external_reference_findings(config.processed_dir,
                                            synthetic=config.source == "demo")
    except (TableNotFoundError, TableValidationError, ExternalReferenceError) as error:
        return ("<h2>External references</h2><p class='err'>Correlations with published "
                f"indices could not be computed: {html.escape(type(error).__name__)}: "
                f"{html.escape(str(error))}</p>")
    if not lines:
        return ""
    return ("<h2>External references</h2><ul>" + "".join(f"<li>{line}</li>" for line in lines)
            + "</ul>")


#: The style of the run pages (a run's index, the run across years).
INDEX_CSS = """\
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: .2rem; } .sub { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 14rem; font-weight: 600; }
.status { color: white; border-radius: 1rem; padding: .05rem .6rem; font-size: .8rem; }
.err { color: #cf222e; font-size: .85rem; } .warn { color: #9a6700; }
.eocic-banner { border: 1px solid #d4a72c; background: #fff8c5; color: #4d2d00;
                border-radius: 6px; padding: .55rem .8rem; margin: .8rem 0; }
code { font-size: .85rem; }
"""


def status_badge(status: str) -> str:
    """A run's or a stage's status as a coloured badge (:data:`_STATUS_COLOURS`)."""
    colour = _STATUS_COLOURS.get(status, "#57606a")
    return f"<span class='status' style='background:{colour}'>{html.escape(status)}</span>"


def synthetic_banner_html() -> str:
    """The banner of pages made from the demo economy (:data:`SYNTHETIC_NOTICE`)."""
    lead, _, rest = SYNTHETIC_NOTICE.partition(": ")
    return (f"<div class='eocic-banner' role='note'><strong>{html.escape(lead)}:</strong> "
            f"{html.escape(rest)}</div>")


def write_index(run: "StudyRun", run_info: dict, *, findings: bool = True) -> Path:
    """Write ``reports/<run_id>/index.html`` for the run's current state.

    ``findings=False`` (the runner's checkpoints while stages still run, in the staging
    folder nobody reads yet) leaves out the key findings and the external references, which
    read every analysis table and the reference workbooks (seconds each time); the index the
    run publishes always has them."""
    config = run.config
    manifest_path = config.processed_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    stage_rows = []
    for result in run.results:
        stage = result.stage
        seconds = "" if result.seconds is None else f"{result.seconds:.1f}"
        links = []
        if result.html_path is not None:
            links.append(f"<a href='{html.escape(result.html_path.name)}'>report</a>")
        if result.notebook_path is not None:
            links.append(f"<a href='{html.escape(result.notebook_path.name)}'>notebook</a>")
        if result.log_path is not None and result.log_path.exists():
            # warnings are left out of the pages; the log keeps them (papermill: WARNING lines)
            warnings = _log_warnings(result.log_path)
            label = f"log ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else "log"
            links.append(f"<a href='logs/{html.escape(result.log_path.name)}'>{label}</a>")
        # a stage run on a dask cluster: the host and worker it ran on
        where = (f"<div class='sub'>on {html.escape(result.where)}</div>"
                 if result.where else "")
        error = (f"<div class='err'>{html.escape(_without_root(result.error, config.root))}"
                 "</div>" if result.error else "")
        stage_rows.append(
            f"<tr><td>{stage.number}</td><td>{html.escape(stage.title)}{where}{error}</td>"
            f"<td>{status_badge(result.status)}</td>"
            f"<td class='num'>{seconds}</td><td>{' · '.join(links)}</td></tr>"
        )
    from eocic.findings import key_findings
    from eocic.tables import TableNotFoundError, TableValidationError

    if not findings:
        findings_html = "<p>Key findings are written when the run ends.</p>"
        external_html = ""
    else:
        try:
            found = key_findings(config.processed_dir, config.year)
            findings_html = ("<ul>" + "".join(f"<li>{f}</li>" for f in found) + "</ul>"
                             if found else "<p>No findings yet: the analysis stages have not "
                             "written their tables.</p>")
        except (TableNotFoundError, TableValidationError) as error:
            # a table a stage failed to write, or one an older eocic wrote: the index is still
            # written and says why the findings are absent (a bug in findings is not caught)
            findings_html = (f"<p class='err'>Key findings could not be computed: "
                             f"{html.escape(type(error).__name__)}: "
                             f"{html.escape(str(error))}</p>")
        external_html = _external_references_html(config)
    banner = synthetic_banner_html() if config.source == "demo" else ""
    # paths relative to the project root: a shared index shows no machine layout
    parameters = {name: display_path(value, config.root)
                  if isinstance(value, str) and Path(value).is_absolute() else value
                  for name, value in run_info["parameters"].items()}
    # a folder source is shown like the parameters: relative to the project, no machine path
    source = (display_path(config.source, config.root) if Path(config.source).is_absolute()
              else config.source)
    overall = {"complete": "complete", "failed": "FAILED", "running": "in progress",
               "interrupted": f"INTERRUPTED by {run.interrupted_by}"}[run.status]
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>eocic study {html.escape(config.run_id)}</title>
<style>
{INDEX_CSS}</style></head><body>
<h1>eocic study: {html.escape(config.run_id)}</h1>{banner}
<p class="sub">Run {overall}; started {html.escape(run.started_at)};
{run.seconds:.1f} s{'' if run.ok else ' so far'}. Source <b>{html.escape(source)}</b>, reference year
<b>{config.year}</b>.</p>
<h2>Key findings</h2>{findings_html}{external_html}
<h2>Stages</h2>
<table><thead><tr><th>#</th><th>stage</th><th>status</th><th>seconds</th><th>output</th></tr>
</thead><tbody>{''.join(stage_rows)}</tbody></table>
<h2>Parameters</h2>{_definition_list(parameters)}
<h2>Data</h2>{_manifest_table(manifest)}{validation_notes_html(config.processed_dir)}
<h2>Software</h2>{_definition_list({'git commit': run_info['git_commit'], **run_info['packages']})}
<p class="sub">Source: Eurostat (reuse authorised with acknowledgement, Commission Decision
2011/833/EU) for real data; the demo economy is synthetic.</p>
</body></html>
"""
    return write_text_atomic(run.index_path, page)
