"""The ``eocic`` command (also ``python -m eocic``).

Commands
--------
``eocic study --source demo|eurostat|<folder> --year YEAR [--run-id ID] [--show-code]``
    Run the numbered notebooks with papermill; write ``reports/<run_id>/`` (HTML pages for
    policy readers, without code unless ``--show-code``).
``eocic params [--stage STAGE]``
    List each stage's parameters (defaults and comments from the notebooks).
``eocic demo --out DIR [--seed N]``
    Write the demo economy's raw Eurostat files to DIR.
``eocic fetch [--datasets CODE ...] [--geometries] [--any-code] [--allow-other-hosts]``
    Download Eurostat datasets (and GISCO NUTS geometries) into the never-overwriting archive
    under ``data/raw/``. Codes are checked before any request: an invalid code, or one not in
    the registry (unless ``--any-code``), exits with 2; a failed download or a damaged archive
    manifest with 1.
``eocic tables [--markdown]``
    Print the data dictionary of the processed tables (Markdown, generated from the schemas of
    :mod:`eocic.tables`): ``eocic tables > docs/data_dictionary.md``.

Exit codes: 0 success, 1 a stage or download failed, 2 bad parameters, a run folder that
cannot be written or a run id another study is writing (nothing was run), 128 + the signal
number when ``eocic study`` was stopped by SIGINT (130) or SIGTERM (143): the run is then
published as interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eocic import __version__


def _parse_param(text: str) -> tuple[str, object]:
    """``name=value`` -> (name, value) with ints, floats and booleans typed like papermill's
    ``-p``; quote nothing: ``--param region=DE11``."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param expects name=value, got {text!r}")
    name, raw = text.split("=", 1)
    name = name.strip()
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"--param name {name!r} is not a valid identifier")
    value: object = raw
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    elif lowered in ("none", "null"):
        value = None
    else:
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
    return name, value


def _parse_pin(text: str) -> tuple[str, str]:
    """``code=vintage`` -> (code, vintage)."""
    code, _, vintage = text.partition("=")
    if not code or not vintage:
        raise argparse.ArgumentTypeError(f"--pin expects CODE=VINTAGE, got {text!r}")
    return code.strip().lower(), vintage.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eocic",
        description="Reproduce the EOCIC cluster mapping, ecosystem scoreboard and cluster "
                    "regressions as rendered, parameterised notebooks.",
    )
    parser.add_argument("--version", action="version", version=f"eocic {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    study = commands.add_parser(
        "study", help="run the whole study for a year and render the reports",
        description="Run the numbered notebooks in notebooks/ with papermill and write "
                    "reports/<run_id>/ (ipynb, HTML, index.html) and data/processed/<run_id>/.",
    )
    study.add_argument("--source", default="demo",
                       help="demo (offline synthetic economy, default), eurostat (archived "
                            "downloads, see `eocic fetch`) or a folder of Eurostat files")
    study.add_argument("--year", type=int, default=2020,
                       help="reference year of the study (default 2020)")
    study.add_argument("--years", default=None, metavar="YEARS",
                       help="run the study for every reference year of a range (2013-2020) or a "
                            "list (2014,2017,2020), each year a run of its own, and write the "
                            "run across years with the key figures over time (replaces --year)")
    study.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of a dask.distributed scheduler (tcp://host:port): run the "
                            "stages, and the scoreboard's draws, on its workers (they must see "
                            "this project folder at the same path)")
    progress = study.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="progress bars and the time left (default: when standard error "
                               "is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="plain log lines only")
    study.add_argument("--run-id", default=None,
                       help="name of the run (default <source>-<year>; a folder counts as local)")
    study.add_argument("--show-code", action="store_true",
                       help="show the code cells in the HTML reports (default: hidden, the "
                            "pages are for policy readers; the .ipynb keeps the code)")
    study.add_argument("--stage", action="append", default=None, metavar="STAGE",
                       help="run only this stage (number or name); repeatable")
    study.add_argument("--wait", action="store_true",
                       help="when another study is writing the same run id, wait for it to end "
                            "(default: refuse at once, naming its PID)")
    study.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="stages run at the same time, each in its own kernel, along the "
                            "stage graph (default: the number of cores)")
    study.add_argument("--kernel-start", choices=("fork", "spawn"), default=None,
                       help="fork: each stage's kernel is forked from a process that has "
                            "already imported the notebooks' libraries (default on Linux); "
                            "spawn: a new interpreter per kernel (default elsewhere)")
    study.add_argument("--force", action="store_true",
                       help="run every stage even when the published run's cache says its "
                            "inputs, parameters, notebook and package are unchanged")
    study.add_argument("--param", action="append", default=[], type=_parse_param,
                       metavar="NAME=VALUE",
                       help="a stage parameter declared in a notebook, e.g. region=DE11")
    study.add_argument("--cell-timeout", type=int, default=600,
                       help="seconds a notebook cell may run (default 600)")
    study.add_argument("--kernel", default="eocic", help="Jupyter kernel name (default eocic)")
    study.add_argument("--seed", type=int, default=20260101, help="seed of the demo economy")
    study.add_argument("--pin", action="append", default=[], type=_parse_pin,
                       metavar="CODE=VINTAGE",
                       help="with --source eurostat: use this archived vintage of a dataset "
                            "(timestamp or prefix, e.g. sbs_r_nuts2021=20250314); repeatable")

    params = commands.add_parser(
        "params", help="list the parameters of every stage (set them with study --param)",
        description="Print each stage's parameters with their defaults and comments, as "
                    "declared in the notebooks' parameters cells.")
    params.add_argument("--stage", action="append", default=None, metavar="STAGE",
                        help="only this stage (number or name); repeatable")

    demo = commands.add_parser("demo", help="write the demo economy's raw Eurostat files",
                               description="Write the seeded demo economy as Eurostat TSV "
                                           "files (and truth.json) to a folder.")
    demo.add_argument("--out", required=True, type=Path, help="folder to write into")
    demo.add_argument("--seed", type=int, default=20260101, help="seed (default 20260101)")

    fetch = commands.add_parser(
        "fetch", help="download Eurostat datasets into the archive under data/raw/",
        description="Download datasets from Eurostat's dissemination API and archive each as "
                    "data/raw/eurostat/<code>/<UTC timestamp>.tsv.gz (never overwritten).")
    fetch.add_argument("--datasets", nargs="+", default=None, metavar="CODE",
                       help="dataset codes (default: every Eurostat dataset in the registry)")
    fetch.add_argument("--raw-dir", type=Path, default=None,
                       help="raw data folder (default data/raw of the project)")
    fetch.add_argument("--base-url", default=None, help="API base URL (for mirrors and tests)")
    fetch.add_argument("--geometries", action="store_true",
                       help="also download GISCO NUTS-2 geometries")
    fetch.add_argument("--force", action="store_true",
                       help="download again even when today's vintage is already archived")
    fetch.add_argument("--any-code", action="store_true",
                       help="also fetch codes that are not in the registry (the study does not "
                            "read them; without this flag they are refused as likely typos)")
    fetch.add_argument("--allow-other-hosts", action="store_true",
                       help="follow redirects to another host, scheme or port than the base "
                            "URL's (refused by default)")
    fetch.add_argument("--max-download-mb", type=float, default=None, metavar="MB",
                       help="largest reply stored, in MB as served (default 1024)")
    tables = commands.add_parser(
        "tables", help="print the data dictionary of the processed tables (Markdown)",
        description="Print the columns, types, units and meaning of every processed table, "
                    "generated from eocic/tables.py (eocic tables > docs/data_dictionary.md).")
    tables.add_argument("--markdown", action="store_true",
                        help="Markdown output (the only format; accepted for clarity)")
    return parser


def _command_tables(args: argparse.Namespace) -> int:
    from eocic.tables import data_dictionary

    sys.stdout.write(data_dictionary())
    return 0


def _command_study(args: argparse.Namespace) -> int:
    from eocic.config import ConfigError, StudyConfig, parse_years
    from eocic.kernel_server import batch_garbage_collection
    from eocic.run_integrity import PublishedRunMismatch, RunFolderError, RunLockedError
    from eocic.scheduler import SchedulerError
    from eocic.study import (StageFailed, StudyInterrupted, run_study, run_years,
                             year_configs, years_run_id)

    batch_garbage_collection()  # the runner: imports done, one batch of stages to come

    years = parse_years(args.years) if args.years is not None else None
    if years is not None and args.stage:
        raise ConfigError("--years runs every stage of every year; run --stage with --year")
    config = StudyConfig(source=args.source, year=years[0] if years else args.year,
                         run_id=None if years else args.run_id,
                         show_code=args.show_code, kernel_name=args.kernel,
                         cell_timeout=args.cell_timeout, seed=args.seed,
                         pins=tuple(args.pin), scheduler=args.scheduler)
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = None
    log = print
    if show_progress:
        from eocic.progress import StudyProgress
        from eocic.study import discover_stages

        stems = [stage.stem for stage in discover_stages(config.notebooks_dir)
                 if not args.stage or any(key in (stage.number, stage.name, stage.stem)
                                          for key in args.stage)]
        configs = (year_configs(config, years, args.run_id) if years
                   else {config.year: config})
        progress = StudyProgress(stems, {year: each.published_report_dir
                                         for year, each in configs.items()})
        log = progress.write
    try:
        if years is not None:
            run = run_years(config, years, run_id=args.run_id,
                            extra_parameters=dict(args.param), log=log, wait=args.wait,
                            jobs=args.jobs, force=args.force, progress=progress,
                            kernel_start=args.kernel_start)
        else:
            run = run_study(config, extra_parameters=dict(args.param), stages=args.stage,
                            log=log, wait=args.wait, jobs=args.jobs, force=args.force,
                            progress=progress, kernel_start=args.kernel_start)
    except StageFailed as error:
        print(f"eocic: {error}", file=sys.stderr)
        index = (config.root / "reports" / (args.run_id or years_run_id(config, years))
                 if years else config.report_dir) / "index.html"
        print(f"eocic: index with the failed stage marked: {index}", file=sys.stderr)
        return 1
    except StudyInterrupted as error:
        print(f"eocic: {error}", file=sys.stderr)
        return error.exit_code
    except (RunLockedError, RunFolderError, PublishedRunMismatch, SchedulerError) as error:
        print(f"eocic: error: {error}", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
    print(run.index_path)
    return 0


def _command_params(args: argparse.Namespace) -> int:
    from eocic.config import ConfigError, project_root
    from eocic.study import (COMMON_PARAMETERS, RUNNER_PARAMETERS, declared_parameters,
                             discover_stages)

    stages = discover_stages(project_root() / "notebooks")
    if args.stage:
        wanted = set(args.stage)
        chosen = [s for s in stages if s.number in wanted or s.name in wanted
                  or s.stem in wanted]
        if not chosen:
            raise ConfigError(f"unknown stage {', '.join(sorted(wanted))}; stages: "
                              + ", ".join(s.stem for s in stages))
        stages = chosen
    for stage in stages:
        print(stage.stem)
        for name, info in declared_parameters(stage).items():
            if name in COMMON_PARAMETERS + RUNNER_PARAMETERS:
                continue
            comment = f"  # {info['help']}" if info.get("help") else ""
            print(f"  {name} = {info['default']}{comment}")
    print("(year, source, data_dir, run_id, processed_dir, report_dir, shared_dir and scheduler "
          "are set by the runner: use study --year/--years/--source/--run-id/--scheduler)")
    return 0


def _command_demo(args: argparse.Namespace) -> int:
    from eocic.demo import generate_demo_economy

    written = generate_demo_economy(args.out, seed=args.seed)
    for path in written:
        print(path)
    return 0


def _command_fetch(args: argparse.Namespace) -> int:
    import difflib

    from eocic.config import ConfigError, project_root
    from eocic.eurostat import fetch
    from eocic.eurostat.archive import ArchiveError, DatasetCodeError
    from eocic.eurostat.registry import DATASETS

    raw_dir = args.raw_dir or project_root() / "data" / "raw"
    codes = args.datasets or sorted(code for code, dataset in DATASETS.items()
                                    if dataset.provider == "eurostat")
    try:
        codes = fetch.checked_codes(codes)
    except DatasetCodeError as error:
        raise ConfigError(str(error)) from None
    elsewhere = [code for code in codes if code in DATASETS
                 and DATASETS[code].provider != "eurostat"]
    if elsewhere:
        raise ConfigError(
            f"{', '.join(elsewhere)}: not published by Eurostat, so not fetched; download it "
            "from its publisher (see its note in eocic/eurostat/registry.py) into a folder "
            "and pass that folder to eocic study --source")
    unknown = [code for code in codes if code not in DATASETS]
    if unknown and not args.any_code:
        hints = []
        for code in unknown:
            close = difflib.get_close_matches(code, list(DATASETS), n=2, cutoff=0.75)
            hints.append(f"{code} (did you mean {' or '.join(close)}?)" if close else code)
        raise ConfigError(
            f"{', '.join(hints)}: not in the registry of the datasets the study reads "
            "(eocic/eurostat/registry.py); check the spelling, or pass --any-code to archive "
            "it anyway; nothing was downloaded")
    if unknown:
        print(f"eocic: note: {', '.join(unknown)} not in the registry; fetched as given",
              file=sys.stderr)
    options = {"base_url": args.base_url} if args.base_url else {}
    if args.max_download_mb is not None:
        if not args.max_download_mb > 0:
            raise ConfigError(f"--max-download-mb {args.max_download_mb:g}: give a positive "
                              "size in MB")
        options["max_download_bytes"] = int(args.max_download_mb * 1e6)
    try:
        fetch.fetch_datasets(codes, raw_dir, force=args.force,
                             allow_other_hosts=args.allow_other_hosts, **options)
        if args.geometries:
            geometry_options = {key: value for key, value in options.items()
                                if key == "max_download_bytes"}
            fetch.fetch_nuts_geometries(raw_dir, force=args.force,
                                        allow_other_hosts=args.allow_other_hosts,
                                        **geometry_options)
    except (fetch.FetchError, ArchiveError) as error:
        print(f"eocic: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eocic`` command; returns the exit code."""
    from eocic.config import ConfigError

    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    handlers = {"study": _command_study, "params": _command_params, "demo": _command_demo,
                "fetch": _command_fetch, "tables": _command_tables}
    try:
        return handlers[args.command](args)
    except ConfigError as error:
        print(f"eocic: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
