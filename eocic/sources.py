"""Where a study's raw files come from: the demo economy, archived Eurostat vintages, a folder.

:func:`locate_datasets` maps each registered dataset code to the one file that holds it;
:func:`prepare_source` makes the source ready (writes the demo economy on first use), checks the
reference year against the years the data cover, and returns a description that the run
records. Datasets absent from a source are listed once; stages that need them say what they
skip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from eocic.config import ConfigError, StudyConfig
from eocic.provenance import open_maybe_gzipped
from eocic.eurostat.registry import DATASETS

#: File name endings recognised as a dataset file, in order of preference.
DATASET_SUFFIXES = (".tsv.gz", ".tsv", ".csv.gz", ".csv")

_YEAR = re.compile(r"^(\d{4})")


def _code_of(path: Path) -> str | None:
    name = path.name
    for suffix in DATASET_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)].lower()
    return None


def locate_datasets(folder: Path) -> dict[str, Path]:
    """Registered dataset code -> file, found recursively in ``folder``.

    A file counts when its name is ``<code>.tsv``, ``<code>.tsv.gz``, ``<code>.csv`` or
    ``<code>.csv.gz`` for a code in :data:`~eocic.eurostat.registry.DATASETS`. When several files
    hold one code, the preferred suffix wins, then the shortest path, then the name (so the
    choice is deterministic).

    Raises
    ------
    ConfigError
        If ``folder`` does not exist.
    """
    if not folder.is_dir():
        raise ConfigError(f"data folder {folder} does not exist")
    candidates: dict[str, list[Path]] = {}
    for path in folder.rglob("*"):
        code = _code_of(path)
        if code in DATASETS and path.is_file():
            candidates.setdefault(code, []).append(path)
    chosen = {}
    for code, paths in candidates.items():
        paths.sort(key=lambda p: (
            next(i for i, s in enumerate(DATASET_SUFFIXES) if p.name.endswith(s)),
            len(p.parts), str(p),
        ))
        chosen[code] = paths[0]
    return dict(sorted(chosen.items()))


def locate_archived(raw_root: Path, pins: dict[str, str] | None = None) -> dict[str, Path]:
    """Newest (or pinned) archived vintage of each dataset under ``raw_root/eurostat``."""
    from eocic.eurostat.archive import archived_datasets

    found = archived_datasets(raw_root, pins=pins)
    return {code: Path(path) for code, path in sorted(found.items()) if code in DATASETS}


def periods_in_header(path: Path) -> list[str]:
    """Period labels of a Eurostat TSV from its header line (cheap: reads one line).

    For SDMX-CSV files (one observation per row) the periods are not in the header and an
    empty list is returned.
    """
    with open_maybe_gzipped(path) as handle:
        header = handle.readline().decode("utf-8")
    fields = [field.strip() for field in header.rstrip("\n").split("\t")]
    if len(fields) < 2 or "\\" not in fields[0]:
        return []
    return fields[1:]


def years_covered(path: Path) -> list[int]:
    """Years with a period column in a TSV dataset file (sorted, unique)."""
    years = {int(m.group(1)) for p in periods_in_header(path) if (m := _YEAR.match(p))}
    return sorted(years)


#: File in ``data/processed/<run_id>/`` recording the dataset files the runner resolved.
RESOLVED_SOURCE = "source.json"


def dataset_files(source: str, data_dir: str | Path, processed_dir: str | Path) -> dict[str, Path]:
    """The dataset files a run reads: those the runner resolved (``source.json`` in the
    processed folder, which honours pinned vintages), else located afresh (a notebook opened
    on its own in JupyterLab)."""
    resolved = Path(processed_dir) / RESOLVED_SOURCE
    if resolved.exists():
        recorded = json.loads(resolved.read_text())["datasets"]
        return {code: Path(path) for code, path in sorted(recorded.items())}
    if source == "eurostat":
        return locate_archived(Path(data_dir).parent)
    return locate_datasets(Path(data_dir))


def prepare_source(config: StudyConfig, *, log: Callable[[str], None] = print) -> dict:
    """Make the source ready and check the reference year; return what the run records.

    For ``demo`` the embedded demo economy is written to ``data/raw/demo`` when absent, and
    written again (with a logged message) when the folder's ``truth.json`` records another
    ``demo_format_version`` than :data:`eocic.demo.economy.DEMO_FORMAT_VERSION` (a folder
    written by an older version of the package; none recorded counts as version 1). The
    reference year must lie within the years of the structural business statistics the source
    holds.

    Raises
    ------
    ConfigError
        No SBS dataset in the source, or the year outside the years it covers.
    """
    if config.source == "demo":
        from eocic.demo import generate_demo_economy
        from eocic.demo.economy import DEMO_FORMAT_VERSION

        marker = config.data_dir / "truth.json"
        recorded = json.loads(marker.read_text()) if marker.exists() else None
        if recorded is None:
            log(f"writing the demo economy (seed {config.seed}) to {config.data_dir}")
            generate_demo_economy(config.data_dir, seed=config.seed)
        elif recorded.get("seed") != config.seed:
            raise ConfigError(
                f"{config.data_dir} holds a demo economy with another seed than {config.seed}; "
                "delete the folder to have it written again"
            )
        elif (version := recorded.get("demo_format_version", 1)) != DEMO_FORMAT_VERSION:
            log(f"{config.data_dir} holds demo files of format version {version}, this eocic "
                f"writes version {DEMO_FORMAT_VERSION}: writing the demo economy (seed "
                f"{config.seed}) again")
            generate_demo_economy(config.data_dir, seed=config.seed)
        files = locate_datasets(config.data_dir)
    elif config.source == "eurostat":
        try:
            files = locate_archived(config.raw_root, dict(config.pins) or None)
        except FileNotFoundError as error:  # a pin naming no archived vintage
            raise ConfigError(str(error)) from error
    else:
        files = locate_datasets(config.data_dir)
    missing = sorted(set(DATASETS) - set(files))
    sbs_codes = [code for code in ("sbs_r_nuts06_r2", "sbs_r_nuts2021") if code in files]
    if not sbs_codes:
        raise ConfigError(
            f"no regional structural business statistics in {config.data_dir}: expected a file "
            "named sbs_r_nuts06_r2.tsv(.gz) or sbs_r_nuts2021.tsv(.gz). Point --source at the "
            "folder holding them, or use --source demo."
        )
    years = sorted({year for code in sbs_codes for year in years_covered(files[code])})
    if years and config.year not in years:
        raise ConfigError(
            f"year {config.year} is outside the data: the structural business statistics in "
            f"{config.data_dir} cover {years[0]}-{years[-1]}. Pass --year between them."
        )
    if missing:
        log(f"datasets absent from the source ({len(missing)}): {', '.join(missing)}")
    return {
        "kind": config.source_kind,
        "data_dir": str(config.data_dir),
        "datasets": {code: str(path) for code, path in files.items()},
        "missing_datasets": missing,
        "sbs_years": [years[0], years[-1]] if years else [],
    }
