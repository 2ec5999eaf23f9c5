"""Write the demo economy to a folder: Eurostat TSV files, ``truth.json``,
``truth_confidential.csv.gz`` and ``README.md``.

``eocic demo --out DIR`` calls :func:`generate_demo_economy`. The files have the real dataset
codes, layouts and flags, so the demo runs through exactly the reader and pipeline that real
downloads go through. Output is byte-identical for equal arguments (deterministic gzip, fixed
number formatting, sorted rows) and every file is written atomically; ``truth.json`` is written
last, so a folder holding it is complete (:func:`eocic.sources.prepare_source` uses it as the
marker and compares its ``demo_format_version`` with
:data:`eocic.demo.economy.DEMO_FORMAT_VERSION`).

``truth_confidential.csv.gz`` is a plain gzip CSV (UTF-8, ``\\n`` line ends, header
``geo,nace_r2,year,indicator,true_value,suppression``), readable without this package, e.g.
``pandas.read_csv(path)``; see :func:`eocic.demo.datasets.confidential_truth`.
"""

from __future__ import annotations

import os
from pathlib import Path

from eocic.atomic import gzip_bytes, write_bytes_atomic, write_json_atomic, write_text_atomic
from eocic.demo.datasets import DemoDataset, confidential_truth, demo_datasets
from eocic.demo.economy import (
    CONFIDENTIAL_TRUTH_FILE,
    DEFAULT_SEED,
    TRUTH_KEYS,
    DemoEconomy,
    simulate_demo_economy,
)
from eocic.eurostat.writer import write_eurostat_tsv

TRUTH_FILE = "truth.json"
README_FILE = "README.md"


def generate_demo_economy(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = DEFAULT_SEED,
    first_year: int = 2008,
    last_year: int = 2023,
) -> list[Path]:
    """Simulate the demo economy and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder to write into (created if absent; files of the same name are replaced).
    seed : int
        Seed of the simulation (``numpy.random.default_rng``).
    first_year, last_year : int
        Years of the SBS, GDP and context files (business demography ends a year earlier).

    Returns
    -------
    list of Path
        The files written, sorted: ten ``<dataset>.tsv.gz`` files, ``README.md``,
        ``truth.json`` and ``truth_confidential.csv.gz``.
    """
    economy = simulate_demo_economy(seed, first_year=first_year, last_year=last_year)
    return write_demo_economy(economy, out_dir)


def write_demo_economy(economy: DemoEconomy, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write an already simulated economy to ``out_dir`` (see :func:`generate_demo_economy`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    datasets = demo_datasets(economy)
    written = []
    for dataset in datasets:
        written.append(
            write_eurostat_tsv(
                dataset.table, out_dir / dataset.file_name, dataset.dimensions,
                layout=dataset.layout, decimals=dataset.decimals,
                decimals_by=dataset.decimals_by or None,
            )
        )
    written.append(write_confidential_truth(economy, out_dir / CONFIDENTIAL_TRUTH_FILE))
    written.append(write_text_atomic(out_dir / README_FILE, demo_readme(economy, datasets)))
    written.append(write_json_atomic(out_dir / TRUTH_FILE, economy.truth))  # last: the marker
    return sorted(written)


def write_confidential_truth(economy: DemoEconomy, target: str | os.PathLike[str]) -> Path:
    """Write the true values of the suppressed NUTS-2 x division cells as a deterministic gzip
    CSV (zero time stamp, no file name in the header, sorted rows, integers only)."""
    text = confidential_truth(economy).to_csv(index=False, lineterminator="\n")
    return write_bytes_atomic(target, gzip_bytes(text.encode("utf-8")))


def demo_readme(economy: DemoEconomy, datasets: list[DemoDataset]) -> str:
    """The README of a demo folder: what each file holds and how the data were generated."""
    from eocic.demo import economy as economy_module

    truth = economy.truth
    lines = [
        "# EOCIC demo economy (synthetic data)",
        "",
        "**These numbers are invented.** They are a seeded simulation of an EU regional economy "
        "with real NUTS 2021 region codes and names, real NACE Rev. 2 codes and the real Eurostat "
        "dataset codes and file layouts. Use them to try the workbench, never for analysis.",
        "",
        f"- seed: {truth['seed']}; years {truth['first_year']}-{truth['last_year']} "
        f"(business demography to {truth['demography_last_year']})",
        f"- {truth['n_regions']} NUTS-2 regions ({truth['nuts_version']}, EU-27) plus country "
        "(NUTS-0) rows, and NUTS-1 rows in `sbs_r_nuts06_r2`",
        f"- {len(truth['planted_pairs'])} planted strong clusters in "
        f"{len(truth['demo_cluster_groups'])} demo cluster groups; pilot regions: "
        + ", ".join(truth["pilot_regions"]),
        "",
        "## Files",
        "",
        "| file | layout | dimensions | content |",
        "|---|---|---|---|",
    ]
    for dataset in datasets:
        layout = "legacy bulk (years newest first)" if dataset.layout == "legacy" else \
            "dissemination API (years oldest first)"
        lines.append(
            f"| `{dataset.file_name}` | {layout} | `{','.join(dataset.dimensions)}` | "
            f"{dataset.description} |"
        )
    lines += [
        f"| `{TRUTH_FILE}` | JSON | | planted parameters and definitions (keys below) |",
        f"| `{CONFIDENTIAL_TRUTH_FILE}` | gzip CSV | `geo,nace_r2,year,indicator` | true values "
        "of the suppressed NUTS-2 x division cells of `sbs_r_nuts06_r2` (see below) |",
        f"| `{README_FILE}` | Markdown | | this description |",
        "",
        "Flags: legacy files use `c` confidential, `p` provisional, `b` break, `u` low "
        "reliability; API files use the 2025 code lists (`C` confidential, `p`, `b`, `u`). "
        "`:` marks a value that is not available.",
        "",
        "## Confidential cells and their truth",
        "",
        "`sbs_r_nuts06_r2` has NUTS-2, NUTS-1 and country rows for every division and section; "
        "every aggregate is the sum of its NUTS-2 x division cells, confidential ones included. "
        f"About {truth['confidentiality']['primary_share_target']:.0%} of the NUTS-2 x division "
        "cells per year are primary confidential (small cells, small regions, divisions of few "
        "large units); persons employed (V16110) and wages (V13320) are `: c` there, local units "
        "(V11210) stay published in most of them. Secondary suppression then hides further cells "
        "until no published aggregate reveals a single suppressed cell (step 9 below).",
        "",
        f"`{CONFIDENTIAL_TRUTH_FILE}` holds one row per suppressed NUTS-2 x division x year x "
        "indicator: `geo`, `nace_r2`, `year`, `indicator` (`employment` persons, `local_units` "
        "number, `wages_eur` EUR = the V13320 value in million EUR x 1e6, comparable with the "
        "pipeline's `wages_eur`), `true_value` (integer: the value that would have been "
        "published) and `suppression` (`primary` or `secondary`). Read it with "
        f"`pandas.read_csv(\"{CONFIDENTIAL_TRUTH_FILE}\")`.",
        "",
        "| suppressed division cells, persons employed, all years (`measured_shares`) | share |",
        "|---|---|",
        *(f"| {k} | {v:.4f} |" for k, v in truth["confidentiality"]["measured_shares"].items()),
        "",
        "## Planted parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        *(f"| `{k}` | {v} |" for k, v in truth["parameters"].items()),
        "",
        "## truth.json keys",
        "",
        *(f"- `{k}`: {v}" for k, v in TRUTH_KEYS.items()),
        "",
        "## Data-generating process",
        "",
        "```text",
        (economy_module.__doc__ or "").strip(),
        "```",
        "",
    ]
    return "\n".join(lines)
