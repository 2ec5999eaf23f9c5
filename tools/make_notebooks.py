"""Write the stage notebooks (without outputs) from the cell sources below.

Notebooks are the narrative layer: every computation is a call into the ``eocic`` package.
Run ``python tools/make_notebooks.py`` after editing the cells here; the committed ``.ipynb``
files are its output (tests check that the ``parameters`` tag is present).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = '''# Parameters (papermill injects the run's values after this cell)
year = 2020
source = "demo"
data_dir = "data/raw/demo"
run_id = "demo-2020"
processed_dir = "data/processed/demo-2020"'''


def parameters_cell(extra: str = "") -> nbformat.NotebookNode:
    cell = new_code_cell(PARAMETERS + ("\n" + extra if extra else ""))
    cell.metadata["tags"] = ["parameters"]
    return cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "eocic", "display_name": "Python (eocic)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


STAGES: dict[str, list] = {}

STAGES["01_data_pipeline"] = [
    new_markdown_cell(
        "# 1. Data pipeline\n\n"
        "Raw Eurostat files (or the demo economy, written in the same formats) become tidy, "
        "validated tables under `data/processed/<run_id>/`, with a manifest recording the "
        "exact input bytes. Every step is a call into `eocic.pipeline`; this notebook shows "
        "what was read, what was kept, and what the data cover."),
    parameters_cell(),
    new_code_cell(
        "from pathlib import Path\n\n"
        "import pandas as pd\n"
        "from IPython.display import Markdown, display\n\n"
        "from eocic import data_quality, pipeline, sources\n\n"
        "pd.set_option('display.max_rows', 60)\n"
        "files = sources.dataset_files(source, data_dir, processed_dir)\n"
        "display(Markdown(f'**Source** `{source}`: {len(files)} dataset files in `{data_dir}`.'))\n"
        "pd.DataFrame({'dataset': list(files), 'file': [str(p) for p in files.values()]})"),
    new_code_cell(
        "result = pipeline.run_pipeline(files, Path(data_dir), Path(processed_dir), year=year,\n"
        "                               parameters={'source': source, 'run_id': run_id})\n"
        "pd.DataFrame([{'table': name, 'rows': len(frame), 'regions': frame['geo'].nunique(),\n"
        "               'years': f\"{frame['year'].min()}-{frame['year'].max()}\"}\n"
        "              for name, frame in result.tables.items()])"),
    new_markdown_cell(
        "## What was read and what was kept\n\n"
        "Rows outside the study's scope are counted, never dropped silently: country and "
        "NUTS-1 aggregates (`not_nuts2`), NACE sections or groups where divisions are used "
        "(`nace_other_level`), non-annual periods."),
    new_code_cell("result.selection"),
    new_markdown_cell("## Data availability in the reference year"),
    new_code_cell("data_quality.plot_coverage(result.coverage);"),
    new_markdown_cell(
        "## Confidential cells\n\n"
        "Confidential cells (flag `c`, since 2025 `C`) are kept as missing values with their "
        "flag; they are never counted as zero."),
    new_code_cell(
        "display(result.flags_summary.style.format({'confidential_share': '{:.1%}'}))\n"
        "data_quality.plot_confidentiality(result.flags_summary, year=year);"),
    new_markdown_cell("## NUTS harmonisation\n\nRegion codes recoded, aggregated or dropped "
                      "to bring every table to one NUTS version."),
    new_code_cell(
        "report = result.nuts_report\n"
        "if len(report):\n"
        "    display(Markdown('Distinct region codes per action (a code can count under two '\n"
        "                     'actions, e.g. aggregated in one year and superseded in another):'))\n"
        "    display(report.groupby(['table', 'action'])['code'].nunique()\n"
        "            .unstack(fill_value=0))\n"
        "    changed = report[report['action'] != 'kept']\n"
        "    display(changed.drop_duplicates(['table', 'code', 'action'])\n"
        "            [['table', 'code', 'action', 'target_code', 'reason']])\n"
        "else:\n"
        "    display(Markdown('Every region code is already in the target NUTS version.'))"),
    new_markdown_cell("## What is missing"),
    new_code_cell(
        "missing = result.missing_datasets\n"
        "display(Markdown(\n"
        "    'Every registered dataset is present.' if not missing else\n"
        "    f'**{len(missing)} registered dataset(s) are absent** from this source: '\n"
        "    + ', '.join(f'`{code}`' for code in missing)\n"
        "    + '. Stages that need them say what they skip.'))"),
]


def placeholder(number: str, title: str, issue: str, what: str) -> list:
    return [
        new_markdown_cell(
            f"# {number}. {title}\n\n"
            f"**Not implemented yet.** This stage is a placeholder: {what} It is tracked as "
            f"{issue}. Until then it only checks that the processed tables it will read exist."),
        parameters_cell(),
        new_code_cell(
            "from pathlib import Path\n\n"
            "from eocic.pipeline import load_table\n\n"
            "sbs = load_table(Path(processed_dir), 'sbs')\n"
            "print(f'sbs: {len(sbs):,} rows, {sbs[\"geo\"].nunique()} regions, '\n"
            "      f'{sbs[\"nace_r2\"].nunique()} divisions, years {sbs[\"year\"].min()}-'\n"
            "      f'{sbs[\"year\"].max()}')"),
    ]


STAGES["02_cluster_mapping"] = placeholder(
    "2", "Cluster mapping", "the cluster-mapping issue",
    "sectors, the 51 cluster categories and emerging industries; size, location quotient, "
    "productivity, growth, stars and linkages will be computed here.")
STAGES["03_scoreboard"] = placeholder(
    "3", "Regional ecosystem scoreboard", "the scoreboard issue",
    "indicators, sub-dimensions, dimensions and composite scores with peers and uncertainty "
    "will be computed here.")
STAGES["04_regressions"] = placeholder(
    "4", "Regressions: clusters, entrepreneurship and growth", "the regressions issue",
    "the specifications linking cluster strength to start-ups and growth will be estimated "
    "here.")
STAGES["05_region_explorer"] = placeholder(
    "5", "Region explorer", "the explorer issue",
    "the ipywidgets region explorer and a static profile of a chosen region will live here.")


def main(argv: list[str]) -> int:
    target = ROOT / "notebooks"
    target.mkdir(exist_ok=True)
    for stem, cells in STAGES.items():
        nbformat.write(notebook(cells), target / f"{stem}.ipynb")
        print(target / f"{stem}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
