"""Rendered reports: notebook HTML and the run's ``index.html`` landing page.

The HTML of each executed notebook is produced by nbconvert's ``HTMLExporter`` (``lab``
template) with images embedded as data URIs, so a report folder can be zipped and shared as it
is. ``index.html`` links every stage with its status and duration, and shows the run's
parameters, package versions, git commit and the data manifest of the pipeline stage.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from eocic.atomic import write_text_atomic

if TYPE_CHECKING:  # pragma: no cover
    from eocic.study import StudyRun

#: nbconvert templates shipped with eocic (``offline``: the lab template without CDN scripts).
TEMPLATES = Path(__file__).resolve().parent / "templates"

_STATUS_COLOURS = {
    "ok": "#1a7f37", "failed": "#cf222e", "running": "#9a6700", "pending": "#57606a",
    "not run": "#57606a",
}


def render_notebook_html(notebook_path: Path, html_path: Path, *, no_input: bool = False) -> Path:
    """Render an executed notebook to a standalone HTML page (written atomically).

    The page loads nothing from the internet (``offline`` template: no require.js, widget
    manager, MathJax or Mermaid from CDNs) and embeds figures as data URIs, so it opens on a
    machine without network access.

    ``no_input=True`` hides code cells and prompts (the version for policy readers); cells
    tagged ``remove_input`` lose their code in either version, cells tagged ``remove_cell``
    disappear.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    settings = Config()
    settings.TagRemovePreprocessor.enabled = True
    settings.TagRemovePreprocessor.remove_cell_tags = ("remove_cell",)
    settings.TagRemovePreprocessor.remove_input_tags = ("remove_input",)
    exporter = HTMLExporter(config=settings, template_name="offline",
                            extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = no_input
    exporter.exclude_input_prompt = no_input
    exporter.exclude_output_prompt = no_input
    notebook = nbformat.read(notebook_path, as_version=4)
    body, _ = exporter.from_notebook_node(notebook)
    return write_text_atomic(html_path, body)


def run_record(run: "StudyRun", run_info: dict) -> dict:
    """JSON-serialisable record of a run (``reports/<run_id>/run.json``)."""
    return {
        "run_id": run.config.run_id,
        "ok": run.ok,
        "seconds": round(run.seconds, 3),
        **run_info,
        "stages": [
            {
                "stage": result.stage.stem,
                "status": result.status,
                "seconds": None if result.seconds is None else round(result.seconds, 3),
                "error": result.error,
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


def write_index(run: "StudyRun", run_info: dict) -> Path:
    """Write ``reports/<run_id>/index.html`` for the run's current state."""
    config = run.config
    manifest_path = config.processed_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    stage_rows = []
    for result in run.results:
        stage = result.stage
        colour = _STATUS_COLOURS.get(result.status, "#57606a")
        seconds = "" if result.seconds is None else f"{result.seconds:.1f}"
        links = []
        if result.html_path is not None:
            links.append(f"<a href='{html.escape(result.html_path.name)}'>report</a>")
        if result.notebook_path is not None:
            links.append(f"<a href='{html.escape(result.notebook_path.name)}'>notebook</a>")
        error = f"<div class='err'>{html.escape(result.error)}</div>" if result.error else ""
        stage_rows.append(
            f"<tr><td>{stage.number}</td><td>{html.escape(stage.title)}{error}</td>"
            f"<td><span class='status' style='background:{colour}'>{result.status}</span></td>"
            f"<td class='num'>{seconds}</td><td>{' · '.join(links)}</td></tr>"
        )
    try:
        from eocic.findings import key_findings

        findings = key_findings(config.processed_dir, config.year)
        findings_html = ("<ul>" + "".join(f"<li>{f}</li>" for f in findings) + "</ul>"
                         if findings else "<p>No findings yet: the analysis stages have not "
                         "written their tables.</p>")
    except Exception as error:  # the index must still be written; say why findings are absent
        findings_html = (f"<p class='err'>Key findings could not be computed: "
                         f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</p>")
    overall = "complete" if run.ok else (
        "FAILED" if any(r.status == "failed" for r in run.results) else "in progress"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>eocic study {html.escape(config.run_id)}</title>
<style>
body {{ font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #1f2328; line-height: 1.45; }}
h1 {{ margin-bottom: .2rem; }} .sub {{ color: #57606a; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .92rem; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.kv th {{ width: 14rem; font-weight: 600; }}
.status {{ color: white; border-radius: 1rem; padding: .05rem .6rem; font-size: .8rem; }}
.err {{ color: #cf222e; font-size: .85rem; }} .warn {{ color: #9a6700; }}
code {{ font-size: .85rem; }}
</style></head><body>
<h1>eocic study: {html.escape(config.run_id)}</h1>
<p class="sub">Run {overall}; started {html.escape(run.started_at)};
{run.seconds:.1f} s so far. Source <b>{html.escape(config.source)}</b>, reference year
<b>{config.year}</b>.</p>
<h2>Key findings</h2>{findings_html}
<h2>Stages</h2>
<table><thead><tr><th>#</th><th>stage</th><th>status</th><th>seconds</th><th>output</th></tr>
</thead><tbody>{''.join(stage_rows)}</tbody></table>
<h2>Parameters</h2>{_definition_list(run_info['parameters'])}
<h2>Data</h2>{_manifest_table(manifest)}
<h2>Software</h2>{_definition_list({'git commit': run_info['git_commit'], **run_info['packages']})}
<p class="sub">Source: Eurostat (reuse authorised with acknowledgement, Commission Decision
2011/833/EU) for real data; the demo economy is synthetic.</p>
</body></html>
"""
    return write_text_atomic(run.index_path, page)
