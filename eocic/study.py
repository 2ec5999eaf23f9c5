"""The study runner: executes the numbered notebooks with papermill, in order.

Each notebook ``notebooks/NN_<stage>.ipynb`` is one stage. For a :class:`~eocic.config.StudyConfig`
the runner

1. validates the parameters and the source before any notebook runs (unknown source, missing
   folder, a year outside the data, a parameter no notebook declares);
2. prepares the source (writes the demo economy on first use);
3. executes every stage with papermill: explicit kernel name, working directory = project root,
   per-cell timeout, cell output logged to ``reports/<run_id>/logs/NN_<stage>.log``;
4. renders each executed notebook to HTML for readers (images embedded; no code unless
   ``show_code``, no parameter cells, no stderr; see :mod:`eocic.report`) and rewrites
   ``reports/<run_id>/index.html`` after every stage, so a failed run still has an index that
   marks the failed stage and links to the notebook showing the error.

Outputs are written to temporary files and renamed, so no half-written notebook or page is left
behind. A failing stage stops the run with :class:`StageFailed`, naming the notebook and the cell.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from eocic import provenance, report, sources
from eocic.atomic import atomic_path, write_json_atomic
from eocic.config import ConfigError, StudyConfig
from eocic.errors import EocicError

_STAGE_NAME = re.compile(r"^(\d{2})_([a-z0-9_]+)\.ipynb$")

#: Parameters the runner injects into every notebook (see StudyConfig.notebook_parameters).
COMMON_PARAMETERS = ("year", "source", "data_dir", "run_id", "processed_dir")


@dataclasses.dataclass(frozen=True)
class Stage:
    """One notebook of the study: ``NN_<name>.ipynb``."""

    number: str
    name: str
    notebook: Path

    @property
    def stem(self) -> str:
        return f"{self.number}_{self.name}"

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").capitalize()


@dataclasses.dataclass
class StageResult:
    """What happened to one stage in a run."""

    stage: Stage
    status: str = "pending"  # pending | running | ok | failed | not run
    seconds: float | None = None
    error: str | None = None
    notebook_path: Path | None = None
    html_path: Path | None = None
    log_path: Path | None = None


class StageFailed(EocicError, RuntimeError):
    """A notebook raised: names the notebook, the cell and the error."""


def discover_stages(notebooks_dir: Path) -> list[Stage]:
    """The study's stages: ``NN_<name>.ipynb`` files in ``notebooks_dir``, by number."""
    stages = []
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        match = _STAGE_NAME.match(path.name)
        if match:
            stages.append(Stage(number=match.group(1), name=match.group(2), notebook=path))
    if not stages:
        raise ConfigError(f"no stage notebooks (NN_<name>.ipynb) in {notebooks_dir}")
    return stages


def declared_parameters(stage: Stage) -> dict[str, dict]:
    """Parameters declared in the stage's ``parameters`` cell: ``{name: {"default": text,
    "help": comment}}``, in order.

    The cell is parsed with :mod:`ast` (never executed): every top-level assignment is a
    parameter, its default the source text of the value, its help the comment after it on the
    same line. (papermill's own inference warns on comments holding quotes or ``=``.)
    """
    import ast

    import nbformat

    notebook = nbformat.read(stage.notebook, as_version=4)
    cells = [cell for cell in notebook.cells
             if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", [])]
    if not cells:
        return {}
    source = cells[0].source
    lines = source.splitlines()
    parameters: dict[str, dict] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            rest = lines[node.value.end_lineno - 1][node.value.end_col_offset:]
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            for target in targets:
                if isinstance(target, ast.Name):
                    parameters[target.id] = {"default": ast.get_source_segment(source, node.value),
                                             "help": comment}
    return parameters


def check_extra_parameters(stages: list[Stage], extra: dict[str, object]) -> None:
    """Refuse extra parameters no notebook declares (papermill itself only warns)."""
    if not extra:
        return
    declared: dict[str, list[str]] = {}
    for stage in stages:
        for name in declared_parameters(stage):
            declared.setdefault(name, []).append(stage.stem)
    unknown = sorted(set(extra) - set(declared))
    if unknown:
        known = ", ".join(sorted(set(declared) - set(COMMON_PARAMETERS))) or "none"
        raise ConfigError(
            f"unknown notebook parameter(s): {', '.join(unknown)}. "
            f"Parameters the notebooks declare besides the common ones: {known}."
        )
    clashing = sorted(set(extra) & set(COMMON_PARAMETERS))
    if clashing:
        raise ConfigError(
            f"parameter(s) {', '.join(clashing)} are set by the runner; use the --year/--source/"
            "--run-id options instead"
        )


def kernel_argv() -> list[str]:
    """Command line of the study's kernel: this interpreter, kernel-app log level ERROR.

    The log level keeps ipykernel's start-up warning about unencrypted loopback TCP (printed
    once per notebook) out of the study's console output; cell errors reach papermill through
    the messaging protocol, not through this log.
    """
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--IPKernelApp.log_level=ERROR"]


def ensure_kernel(kernel_name: str) -> None:
    """Make sure a Jupyter kernel ``kernel_name`` running this interpreter exists.

    Installs (or refreshes) the kernelspec in ``sys.prefix`` (the virtual environment) when it
    is missing or points at another interpreter, so papermill never fails with ``NoSuchKernel``.
    """
    import json
    import tempfile

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        if manager.get_kernel_spec(kernel_name).argv == kernel_argv():
            return
    except NoSuchKernel:
        pass
    with tempfile.TemporaryDirectory() as folder:
        spec = {"argv": kernel_argv(), "display_name": f"Python ({kernel_name})",
                "language": "python", "metadata": {"debugger": True}}
        (Path(folder) / "kernel.json").write_text(json.dumps(spec, indent=1))
        manager.install_kernel_spec(folder, kernel_name=kernel_name, prefix=sys.prefix)


def _configure_cell_log(log_path: Path) -> logging.Handler:
    """Send papermill's cell output (``log_output=True``) to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    return handler


def execute_stage(
    stage: Stage,
    config: StudyConfig,
    parameters: dict[str, object],
    result: StageResult,
) -> None:
    """Execute one notebook with papermill and render it to HTML; fill ``result``.

    Raises
    ------
    StageFailed
        When a cell raises; the executed notebook (with papermill's error banner) and its HTML
        are saved before raising.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    report_dir = config.report_dir
    notebook_out = report_dir / f"{stage.stem}.ipynb"
    log_path = report_dir / "logs" / f"{stage.stem}.log"
    handler = _configure_cell_log(log_path)
    started = time.perf_counter()
    failure: StageFailed | None = None
    try:
        with atomic_path(notebook_out) as partial:
            try:
                papermill.execute_notebook(
                    str(stage.notebook),
                    str(partial),
                    parameters=parameters,
                    kernel_name=config.kernel_name,
                    cwd=str(config.root),
                    progress_bar=False,
                    log_output=True,
                    execution_timeout=config.cell_timeout,
                    request_save_on_cell_execute=False,
                )
            except PapermillExecutionError as error:
                failure = StageFailed(
                    f"stage {stage.stem} failed in notebook {stage.notebook.name}, cell "
                    f"{error.exec_count} (cell index {error.cell_index}): {error.ename}: "
                    f"{error.evalue}. The executed notebook with the error is "
                    f"{notebook_out}; cell output is logged in {log_path}."
                )
                result.error = f"{error.ename}: {error.evalue} (cell {error.exec_count})"
            except Exception as error:  # kernel died, timeout, no such kernel ...
                if not partial.exists() or partial.stat().st_size == 0:
                    raise StageFailed(
                        f"stage {stage.stem} could not be executed ({type(error).__name__}: "
                        f"{error}); cell output is logged in {log_path}."
                    ) from error
                failure = StageFailed(
                    f"stage {stage.stem} stopped ({type(error).__name__}: {error}); the "
                    f"partially executed notebook is {notebook_out}."
                )
                result.error = f"{type(error).__name__}: {error}"
    except StageFailed as error:
        result.status = "failed"
        result.error = result.error or str(error)
        result.seconds = time.perf_counter() - started
        raise
    finally:
        logging.getLogger("papermill").removeHandler(handler)
        handler.close()
    result.notebook_path = notebook_out
    result.log_path = log_path
    result.html_path = report.render_notebook_html(
        notebook_out, report_dir / f"{stage.stem}.html", show_code=config.show_code,
        run_id=config.run_id, synthetic=config.source == "demo",
    )
    result.seconds = time.perf_counter() - started
    if failure is not None:
        result.status = "failed"
        raise failure
    result.status = "ok"


@dataclasses.dataclass
class StudyRun:
    """The outcome of :func:`run_study`: per-stage results and where the index is."""

    config: StudyConfig
    results: list[StageResult]
    index_path: Path
    started_at: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(result.status == "ok" for result in self.results)

    def timings_table(self) -> str:
        """Per-stage durations as aligned text, for the console."""
        lines = [f"{'stage':<28}{'status':<10}{'seconds':>9}"]
        for result in self.results:
            seconds = f"{result.seconds:9.1f}" if result.seconds is not None else f"{'-':>9}"
            lines.append(f"{result.stage.stem:<28}{result.status:<10}{seconds}")
        lines.append(f"{'total':<38}{self.seconds:9.1f}")
        return "\n".join(lines)


def run_study(
    config: StudyConfig,
    *,
    extra_parameters: dict[str, object] | None = None,
    stages: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> StudyRun:
    """Run the whole study (or the named ``stages``) for ``config``.

    Parameters
    ----------
    config : StudyConfig
        Source, year, run id and locations.
    extra_parameters : dict, optional
        Stage-specific notebook parameters (e.g. ``{"region": "DE11"}``); each must be declared
        in some notebook's ``parameters`` cell, and is passed to the notebooks declaring it.
    stages : list of str, optional
        Stage numbers or names to run (default all, in order).
    log : callable
        Receives one progress line per event.

    Returns
    -------
    StudyRun
        With ``ok`` False and the failing stage marked when a stage failed (the exception
        :class:`StageFailed` is raised after the index is written).
    """
    config.validate()
    extra_parameters = dict(extra_parameters or {})
    all_stages = discover_stages(config.notebooks_dir)
    selected = _select_stages(all_stages, stages)
    check_extra_parameters(all_stages, extra_parameters)
    source_info = sources.prepare_source(config, log=log)
    ensure_kernel(config.kernel_name)

    config.report_dir.mkdir(parents=True, exist_ok=True)
    config.processed_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(config.processed_dir / sources.RESOLVED_SOURCE, source_info)
    started_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = [StageResult(stage) for stage in selected]
    run = StudyRun(config, results, config.report_dir / "index.html", started_at)
    run_info = {
        "parameters": config.notebook_parameters() | extra_parameters,
        "show_code": config.show_code,
        "started_at": started_at,
        "git_commit": provenance.git_commit(config.root),
        "packages": provenance.package_versions(),
        "source": source_info,
    }
    clock = time.perf_counter()

    def publish() -> None:
        run.seconds = time.perf_counter() - clock
        report.write_index(run, run_info)
        write_json_atomic(config.report_dir / "run.json", report.run_record(run, run_info))

    log(f"eocic study: source={config.source} year={config.year} run_id={config.run_id}")
    log(f"  reports   -> {config.report_dir}")
    log(f"  processed -> {config.processed_dir}")
    publish()
    for position, result in enumerate(results, start=1):
        stage = result.stage
        declared = declared_parameters(stage)
        parameters = config.notebook_parameters() | {
            name: value for name, value in extra_parameters.items() if name in declared
        }
        log(f"[{position}/{len(results)}] {stage.stem} ...")
        result.status = "running"
        try:
            execute_stage(stage, config, parameters, result)
        except StageFailed:
            for later in results[position:]:
                later.status = "not run"
            publish()
            log(f"[{position}/{len(results)}] {stage.stem} FAILED after {result.seconds:.1f} s")
            raise
        log(f"[{position}/{len(results)}] {stage.stem} ok in {result.seconds:.1f} s")
        publish()
    log(run.timings_table())
    log(f"index: {run.index_path}")
    return run


def _select_stages(all_stages: list[Stage], wanted: list[str] | None) -> list[Stage]:
    if not wanted:
        return all_stages
    chosen = []
    for key in wanted:
        matches = [s for s in all_stages if key in (s.number, s.name, s.stem)]
        if not matches:
            names = ", ".join(s.stem for s in all_stages)
            raise ConfigError(f"unknown stage {key!r}; stages are: {names}")
        chosen.extend(m for m in matches if m not in chosen)
    return sorted(chosen, key=lambda s: s.number)


def load_run_record(report_dir: Path) -> dict:
    """The ``run.json`` a run wrote into its report folder."""
    return json.loads((report_dir / "run.json").read_text())
