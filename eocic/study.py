"""The study runner: executes the numbered notebooks with papermill, in order.

Each notebook ``notebooks/NN_<stage>.ipynb`` is one stage. For a :class:`~eocic.config.StudyConfig`
the runner

1. validates the parameters and the source before any notebook runs (unknown source, missing
   folder, a year outside the data, a parameter no notebook declares);
2. prepares the source (writes the demo economy on first use);
3. executes every stage with papermill: explicit kernel name, the environment of
   :data:`KERNEL_ENVIRONMENT`, working directory = project root,
   per-cell timeout, cell output logged to ``reports/<run_id>/logs/NN_<stage>.log``; each
   stage in a new kernel, forked on Linux by a :class:`~eocic.kernel_server.KernelServer`
   that has the notebooks' imports done (``kernel_start``);
4. renders each executed notebook to HTML for readers (images embedded; no code unless
   ``show_code``, no parameter cells, no stderr; see :mod:`eocic.report`) and rewrites
   ``reports/<run_id>/index.html`` after every stage, so a failed run still has an index that
   marks the failed stage and links to the notebook showing the error.

Outputs are written to temporary files and renamed, so no half-written notebook or page is left
behind. A failing stage stops the run with :class:`StageFailed`, naming the notebook and the cell.

Run integrity (see :mod:`eocic.run_integrity`)
----------------------------------------------
* **One writer per run id.** The runner holds an exclusive ``flock`` on
  ``data/processed/.<run_id>.lock`` while it writes the run; a second study with the same run
  id is refused at once with :class:`~eocic.run_integrity.RunLockedError` naming the holder's
  PID (``wait=True``, ``eocic study --wait``: it queues behind it). The lock dies with its
  process, so a killed run never blocks the next one.
* **Staging, then publication.** The stages write into staging folders,
  ``data/processed/.staging-<run_id>-<token>/<run_id>/`` and
  ``reports/.staging-<run_id>-<token>/<run_id>/`` (the notebooks receive them as
  ``processed_dir`` and ``report_dir``). A whole run starts from empty folders; a run of some
  stages (``stages=``) from copies of the published ones, and is refused
  (:class:`~eocic.run_integrity.PublishedRunMismatch`) when the published run has another
  year, source or data folder. When the run ends the runner writes the tables record
  ``tables.json`` (status ``complete``, ``failed`` or ``interrupted``) and renames each staging
  folder onto the published one (processed tables first, then reports), so readers see either
  the previous run or the new one, never a mixture. A run killed with SIGKILL leaves the
  published run as it was; the next study of that run id removes its staging folders.
* **A failed or interrupted run replaces the published one**, marked as such in
  ``tables.json``, ``run.json`` and ``index.html``: the run id names what was asked last, and
  its folder must show what became of it (the failing notebook, the logs) rather than earlier
  results that look current. Keep a good run by giving the new one another ``--run-id``. A
  run interrupted before its first stage started publishes nothing.
* **SIGTERM and SIGINT** stop the running kernel, remove the stage's temporary notebook, publish
  the run as ``interrupted`` (naming the stage that was running) and raise
  :class:`StudyInterrupted`; ``eocic study`` exits with 128 + the signal number (130 for
  SIGINT, 143 for SIGTERM). Papermill runs in a worker thread so that these signals reach the
  runner (nbclient would otherwise take them over while a notebook runs).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from eocic import provenance, report, run_integrity, sources, stage_graph
from eocic.atomic import atomic_path, remove_partial_files, write_json_atomic
from eocic.config import RUN_ID_RULE, ConfigError, StudyConfig
from eocic.errors import EocicError

_STAGE_NAME = re.compile(r"^(\d{2})_([a-z0-9_]+)\.ipynb$")

#: Parameters the runner injects into every notebook (see StudyConfig.notebook_parameters).
COMMON_PARAMETERS = ("year", "source", "data_dir", "run_id", "processed_dir", "report_dir")
#: Parameters the runner injects into the notebooks declaring them
#: (see StudyConfig.runner_parameters).
RUNNER_PARAMETERS = ("shared_dir", "scheduler")

#: Environment the runner gives every kernel unless the user's environment sets it already.
#: OpenBLAS threads busy-wait for their next task for about 2**28 cycles (0.1 s) after each
#: matrix product; with stages side by side in as many kernels as cores (and other programs
#: on the machine) the spinning threads take the cores the other stages need: the cluster
#: linkages of stage 02 cost 2.5x their CPU time. 2**4 cycles lets an idle thread sleep at
#: once. The number of BLAS threads is unchanged (it decides how a product is split, hence
#: its last bits): results stay byte-identical.
KERNEL_ENVIRONMENT = {"OPENBLAS_THREAD_TIMEOUT": "4"}

#: Environment every kernel gets whatever the user's environment says. PYTHONHASHSEED=0 fixes
#: the order of set iteration inside the kernels: with another seed per process (random by
#: default, or whatever a shell or test runner exports) the regressions table's coefficients
#: moved by up to 4e-15 between runs (the same samples estimated with the terms in another
#: order), so the table's bytes depended on the environment.
KERNEL_FIXED_ENVIRONMENT = {"PYTHONHASHSEED": "0"}

#: Seconds the runner waits for a notebook's worker thread to end once its kernel was stopped
#: after SIGTERM/SIGINT, before it kills the kernel outright (and again before giving up).
KERNEL_STOP_SECONDS = 20.0


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
    status: str = "pending"  # pending | running | ok | reused | failed | interrupted | not run
    cache: str | None = None  # why the stage ran or was reused (see stage_cache_key)
    seconds: float | None = None
    error: str | None = None
    notebook_path: Path | None = None
    html_path: Path | None = None
    log_path: Path | None = None
    where: str | None = None  # host and dask worker a stage ran on (with a scheduler)


class StageFailed(EocicError, RuntimeError):
    """A notebook raised: names the notebook, the cell and the error."""


class StudyInterrupted(EocicError, RuntimeError):
    """The study received SIGTERM or SIGINT; the run was published as ``interrupted`` (or, when
    no stage had started, not at all). ``exit_code`` is 128 + the signal number."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number


def kernel_processes(process: "psutil.Process | None" = None) -> list:
    """The Jupyter kernels ``process`` (default: this one) started: children running
    ``ipykernel_launcher``, and the kernels forked by its kernel servers
    (:mod:`eocic.kernel_server`: the servers' children)."""
    import psutil

    kernels = []
    for child in (process or psutil.Process()).children(recursive=False):
        try:
            command = child.cmdline()
            if any("ipykernel_launcher" in part for part in command):
                kernels.append(child)
            elif "eocic.kernel_server" in command:
                kernels.extend(child.children(recursive=False))
        except psutil.Error:  # ended meanwhile, or not ours to read
            continue
    return kernels


def stop_kernels(kill: bool = False) -> None:
    """Stop the kernels this process started: SIGTERM, or SIGKILL with ``kill``."""
    import psutil

    for kernel in kernel_processes():
        try:
            kernel.kill() if kill else kernel.terminate()
        except psutil.Error:
            continue


class SignalWatch:
    """SIGTERM and SIGINT while a study runs: remember the first signal and stop the running
    kernel, so that the notebook's worker thread ends and the runner can publish the run as
    interrupted. Installed only in the main thread (Python delivers signals there)."""

    def __init__(self) -> None:
        self.signal_number: int | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> "SignalWatch":
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._receive)
        return self

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def _receive(self, number: int, frame: object) -> None:
        if self.signal_number is None:
            self.signal_number = number
        stop_kernels()

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signal_number).name if self.signal_number else ""


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
    A notebook is read once per version of its file (path, size, modification time): a study
    of 8 years asks for each stage's parameters 8 times.
    """
    status = os.stat(stage.notebook)
    version = (str(Path(stage.notebook).resolve()), status.st_size, status.st_mtime_ns)
    return copy.deepcopy(_declared_parameters(version))


@functools.lru_cache(maxsize=64)
def _declared_parameters(version: tuple[str, int, int]) -> dict[str, dict]:
    import ast

    import nbformat

    notebook = nbformat.read(version[0], as_version=4)
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
        known = ", ".join(sorted(set(declared) - set(COMMON_PARAMETERS + RUNNER_PARAMETERS))
                          ) or "none"
        raise ConfigError(
            f"unknown notebook parameter(s): {', '.join(unknown)}. "
            f"Parameters the notebooks declare besides the common ones: {known}."
        )
    clashing = sorted(set(extra) & set(COMMON_PARAMETERS + RUNNER_PARAMETERS))
    if clashing:
        raise ConfigError(
            f"parameter(s) {', '.join(clashing)} are set by the runner; use the --year/--source/"
            "--run-id/--scheduler options instead"
        )


def kernel_argv() -> list[str]:
    """Command line of the study's kernel: this interpreter, kernel-app log level CRITICAL.

    The log level keeps ipykernel's own log out of the study's console output: its start-up
    warning about unencrypted loopback TCP (once per notebook) and the "KeyboardInterrupt
    caught in kernel." it logs as an ERROR when jupyter_client's shutdown interrupts it (every
    shutdown starts with SIGINT) while it still answers a message. Cell errors reach papermill
    through the messaging protocol, not through this log; a kernel that dies is reported by
    papermill as the stage's failure.
    """
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--IPKernelApp.log_level=CRITICAL"]


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


def _configure_cell_log(log_path: Path, thread_name: str | None = None) -> logging.Handler:
    """Send papermill's cell output (``log_output=True``) to ``log_path``; with
    ``thread_name``, only the output logged by that thread (stages run side by side, each
    notebook in its own thread, and share papermill's logger)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    if thread_name is not None:
        handler.addFilter(lambda record: record.threadName == thread_name)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    return handler


def kernel_environment() -> dict[str, str]:
    """The environment of the study's kernels: this process's, with :data:`KERNEL_ENVIRONMENT`
    where it does not set those variables and :data:`KERNEL_FIXED_ENVIRONMENT` always."""
    import os

    return {**KERNEL_ENVIRONMENT, **os.environ, **KERNEL_FIXED_ENVIRONMENT}


def start_kernel_server(config: StudyConfig) -> "KernelServer":
    """A :class:`~eocic.kernel_server.KernelServer` for the kernels of ``config``'s stages:
    working directory the project root, the kernels' environment, every module the notebooks
    import pre-imported (the process starts with the first kernel)."""
    from eocic.kernel_server import KernelServer, notebook_modules

    notebooks = [stage.notebook for stage in discover_stages(config.notebooks_dir)]
    return KernelServer(config.root, kernel_environment(), lambda: notebook_modules(notebooks))


def _kernel_start(kernel_start: str | None) -> str:
    """``kernel_start`` checked, or the platform's default."""
    from eocic.kernel_server import KERNEL_STARTS, default_kernel_start

    if kernel_start is None:
        return default_kernel_start()
    if kernel_start not in KERNEL_STARTS:
        raise ConfigError(f"kernel start {kernel_start!r} is not one of "
                          f"{', '.join(KERNEL_STARTS)}")
    return kernel_start


def execute_stage(
    stage: Stage,
    config: StudyConfig,
    parameters: dict[str, object],
    result: StageResult,
    watch: SignalWatch | None = None,
    progress_bar: dict | bool = False,
    kernel_server: "KernelServer | None" = None,
    kernel_ended: Callable[[], None] | None = None,
) -> None:
    """Execute one notebook with papermill and render it to HTML; fill ``result``.

    papermill runs in a worker thread while this (main) thread waits, so that SIGTERM/SIGINT
    reach ``watch`` (which stops the kernel) rather than nbclient. ``progress_bar``: papermill's
    bar of executed cells (False, or the tqdm options of
    :meth:`eocic.progress.StudyProgress.cell_bar`). ``kernel_server``: the kernel is forked
    by this :class:`~eocic.kernel_server.KernelServer` (its imports already done) instead of
    started as a new interpreter; the notebook runs the same either way. ``kernel_ended``:
    called once the kernel has ended, before the notebook is rendered (the runner gives the
    stage's slot to the next stage then).

    Raises
    ------
    StageFailed
        When a cell raises; the executed notebook (with papermill's error banner) and its HTML
        are saved before raising.
    StudyInterrupted
        When ``watch`` received a signal during the stage: the kernel is stopped, the stage's
        temporary notebook removed and ``result`` marked ``interrupted``; nothing is rendered.
    """
    import os

    import papermill
    from papermill.exceptions import PapermillExecutionError

    os.environ.update(kernel_environment())  # inherited by the kernel papermill starts
    kernel_options = ({} if kernel_server is None
                      else {"kernel_manager_class": kernel_server.kernel_manager_class()})
    report_dir = config.report_dir
    notebook_out = report_dir / f"{stage.stem}.ipynb"
    log_path = report_dir / "logs" / f"{stage.stem}.log"
    # messages name where the files will be once the run is published (a failed run is)
    shown_notebook = config.published_report_dir / notebook_out.name
    shown_log = config.published_report_dir / "logs" / log_path.name
    handler = _configure_cell_log(log_path, f"eocic-{stage.stem}")
    started = time.perf_counter()
    failure: StageFailed | None = None
    try:
        with atomic_path(notebook_out) as partial:
            outcome: dict[str, BaseException] = {}

            def execute() -> None:
                try:
                    papermill.execute_notebook(
                        str(stage.notebook),
                        str(partial),
                        parameters=parameters,
                        kernel_name=config.kernel_name,
                        cwd=str(config.root),
                        progress_bar=progress_bar,
                        log_output=True,
                        execution_timeout=config.cell_timeout,
                        request_save_on_cell_execute=False,
                        # every output is in the notebook once the last cell has ended: the
                        # kernel is killed then, not asked to shut down and awaited (0.2 s of
                        # a stage slot, 56 times in an 8-year study)
                        shutdown_kernel="immediate",
                        **kernel_options,
                    )
                except BaseException as error:  # handed to the main thread, which judges it
                    outcome["error"] = error

            worker = threading.Thread(target=execute, name=f"eocic-{stage.stem}", daemon=True)
            worker.start()
            try:
                _wait_for(worker, watch)
            finally:
                if kernel_ended is not None and not worker.is_alive():
                    kernel_ended()  # its slot serves the next stage while this one renders
            if watch is not None and watch.signal_number is not None:
                result.status = "interrupted"
                result.error = f"interrupted by {watch.signal_name} while this stage ran"
                result.seconds = time.perf_counter() - started
                raise StudyInterrupted(
                    f"stage {stage.stem} interrupted by {watch.signal_name}",
                    watch.signal_number)
            error = outcome.get("error")
            if isinstance(error, PapermillExecutionError):
                failure = StageFailed(
                    f"stage {stage.stem} failed in notebook {stage.notebook.name}, cell "
                    f"{error.exec_count} (cell index {error.cell_index}): {error.ename}: "
                    f"{error.evalue}. The executed notebook with the error is "
                    f"{shown_notebook}; cell output is logged in {shown_log}."
                )
                result.error = f"{error.ename}: {error.evalue} (cell {error.exec_count})"
            elif isinstance(error, Exception):  # kernel died, timeout, no such kernel ...
                if not partial.exists() or partial.stat().st_size == 0:
                    raise StageFailed(
                        f"stage {stage.stem} could not be executed ({type(error).__name__}: "
                        f"{error}); cell output is logged in {shown_log}."
                    ) from error
                failure = StageFailed(
                    f"stage {stage.stem} stopped ({type(error).__name__}: {error}); the "
                    f"partially executed notebook is {shown_notebook}."
                )
                result.error = f"{type(error).__name__}: {error}"
            elif error is not None:  # SystemExit and the like in the worker: not ours to judge
                raise error
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


def _once(function: Callable[[], None]) -> Callable[[], None]:
    """``function``, called at most once however often (and from whichever thread) the
    returned callable is."""
    lock = threading.Lock()
    called = False

    def call() -> None:
        nonlocal called
        with lock:
            if called:
                return
            called = True
        function()

    return call


def _stage_on_worker(stage: Stage, config: StudyConfig, parameters: dict[str, object]) -> dict:
    """The task a dask worker runs for one stage (:func:`execute_stage_on_cluster`): execute
    it there and return what became of it (the worker's host and address included)."""
    import socket

    import distributed

    ensure_kernel(config.kernel_name)  # a worker on another machine may lack the kernelspec
    result = StageResult(stage)
    failure = None
    try:
        execute_stage(stage, config, parameters, result)
    except StageFailed as error:
        failure = str(error)
    return {"status": result.status, "seconds": result.seconds, "error": result.error,
            "failure": failure, "notebook_path": result.notebook_path,
            "html_path": result.html_path, "log_path": result.log_path,
            "where": f"{socket.gethostname()} ({distributed.get_worker().address})"}


def execute_stage_on_cluster(client, stage: Stage, config: StudyConfig,
                             parameters: dict[str, object], result: StageResult,
                             watch: SignalWatch | None = None) -> None:
    """Execute one stage as a task on a worker of the dask cluster of ``client``; fill
    ``result`` like :func:`execute_stage` (and ``result.where``: the worker's host and address).

    The worker reads and writes the run's staging folders: it must see the project folder at
    the same path (a shared file system, as on an HPC cluster). The task is submitted with
    ``retries=2``; a task whose worker is lost is rescheduled by the scheduler on another worker
    (``distributed.scheduler.allowed-failures``, 3 by default). After SIGTERM/SIGINT the task
    is cancelled (its kernel on the worker ends with the task).

    Raises
    ------
    StageFailed
        The notebook failed on the worker, or the task lost its worker on every attempt.
    StudyInterrupted
        ``watch`` received a signal while the task ran.
    """
    import distributed

    started = time.perf_counter()
    future = client.submit(_stage_on_worker, stage, config, parameters, retries=2, pure=False,
                           key=f"eocic-{config.run_id}-{stage.stem}-{config.staging_token}")
    try:
        while True:
            try:
                outcome = future.result(timeout=0.5)
                break
            except distributed.TimeoutError:
                if watch is not None and watch.signal_number is not None:
                    future.cancel()
                    result.status = "interrupted"
                    result.error = f"interrupted by {watch.signal_name} while this stage ran"
                    result.seconds = time.perf_counter() - started
                    raise StudyInterrupted(
                        f"stage {stage.stem} interrupted by {watch.signal_name}",
                        watch.signal_number) from None
    except distributed.KilledWorker as error:
        result.status, result.seconds = "failed", time.perf_counter() - started
        result.error = f"the stage lost its dask worker on every attempt ({error})"
        raise StageFailed(
            f"stage {stage.stem} lost its worker on every attempt at the scheduler "
            f"{client.scheduler.address} ({error}); give the workers more memory or run "
            "without --scheduler") from error
    for name in ("status", "seconds", "error", "notebook_path", "html_path", "log_path",
                 "where"):
        setattr(result, name, outcome[name])
    if outcome["failure"] is not None:
        raise StageFailed(outcome["failure"])


def _wait_for(worker: threading.Thread, watch: SignalWatch | None) -> None:
    """Wait for a notebook's worker thread; after a signal, make sure its kernel stops.

    The main thread waits in short joins so that signal handlers run promptly. Once a signal
    arrived (its handler sent the kernel SIGTERM), the worker gets :data:`KERNEL_STOP_SECONDS`
    to notice that the kernel died, then the kernel is killed, and after as long again the
    worker (a daemon thread) is abandoned.
    """
    deadline = None
    killed = False
    while worker.is_alive():
        worker.join(0.2)
        if watch is None or watch.signal_number is None:
            continue
        now = time.monotonic()
        if deadline is None:
            deadline = now + KERNEL_STOP_SECONDS
        elif now > deadline and not killed:
            stop_kernels(kill=True)
            killed, deadline = True, now + KERNEL_STOP_SECONDS
        elif now > deadline:
            return


@dataclasses.dataclass
class StudyRun:
    """The outcome of :func:`run_study`: per-stage results and where the index is.

    While the run is written, ``config`` and ``index_path`` point at the staging folders;
    once published, at ``reports/<run_id>/``.
    """

    config: StudyConfig
    results: list[StageResult]
    index_path: Path
    started_at: str
    seconds: float = 0.0
    run_token: str = ""
    interrupted_by: str | None = None

    @property
    def ok(self) -> bool:
        return all(result.status in ("ok", "reused") for result in self.results)

    @property
    def status(self) -> str:
        """``complete``, ``failed``, ``interrupted`` or ``running`` (stages still to run)."""
        if self.interrupted_by:
            return "interrupted"
        if any(result.status == "failed" for result in self.results):
            return "failed"
        return "complete" if self.ok else "running"

    def timings_table(self) -> str:
        """Per-stage durations as aligned text, for the console."""
        lines = [f"{'stage':<28}{'status':<12}{'seconds':>9}"]
        for result in self.results:
            seconds = f"{result.seconds:9.1f}" if result.seconds is not None else f"{'-':>9}"
            lines.append(f"{result.stage.stem:<28}{result.status:<12}{seconds}")
        lines.append(f"{'total':<40}{self.seconds:9.1f}")
        return "\n".join(lines)


def stage_parameters(stage: Stage, config: StudyConfig,
                     extra_parameters: dict[str, object]) -> dict[str, object]:
    """What the runner injects into ``stage``: the common parameters, the runner's parameters
    the stage declares (:meth:`~eocic.config.StudyConfig.runner_parameters`) and every extra
    parameter the stage declares (a parameter declared by several stages reaches each)."""
    declared = declared_parameters(stage)
    runner = {name: value for name, value in config.runner_parameters().items()
              if name in declared}
    return config.notebook_parameters() | runner | {
        name: value for name, value in extra_parameters.items() if name in declared
    }


def check_published_run(config: StudyConfig) -> None:
    """Refuse a run of some stages whose published run has another year, source or data
    folder (its tables would be mixed with the new ones).

    Raises
    ------
    PublishedRunMismatch
        Naming both runs and the fix (run every stage, or another ``--run-id``).
    """
    published = config.published_report_dir / "run.json"
    has_tables = bool(run_integrity.table_files(config.published_processed_dir))
    if not published.is_file():
        if has_tables:
            raise run_integrity.PublishedRunMismatch(
                f"{config.published_processed_dir} holds tables but {published} is missing, so "
                "the run they belong to is unknown; run every stage (omit --stage) or choose "
                "another --run-id")
        return
    try:
        before = json.loads(published.read_text(encoding="utf-8")).get("parameters", {})
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise run_integrity.PublishedRunMismatch(
            f"{published} is damaged ({error}); run every stage (omit --stage)") from error
    now = config.notebook_parameters()
    differing = [f"{name} {before.get(name)!r} (published) vs {now[name]!r} (this run)"
                 for name in ("year", "source", "data_dir") if before.get(name) != now[name]]
    if differing:
        raise run_integrity.PublishedRunMismatch(
            f"run {config.run_id!r} was published with other data: {'; '.join(differing)}. "
            "A run of some stages (--stage) adds to the published run and would mix two runs' "
            "tables: run every stage (omit --stage) or choose another --run-id.")


#: File of the stage cache in a run's processed folder (beside ``tables.json``).
STAGE_CACHE = "stage_cache.json"
#: Parameters left out of a stage's cache key: the staging folders differ in every run.
_UNKEYED_PARAMETERS = ("processed_dir", "report_dir", *RUNNER_PARAMETERS)


def _sha256_file(path: Path) -> str:
    from eocic.provenance import file_sha256

    return file_sha256(path)


def source_fingerprint(config: StudyConfig, source_info: dict) -> str:
    """What every stage reads besides the processed tables, as one SHA-256.

    The SBS and other dataset files of the source (``source_info["datasets"]``) by content;
    every other file of the source folder, of the map geometries (``data/raw/gisco``) and of
    the shared reference data (``$EOCIC_SHARED_DATA``) by path, size and modification time
    (hashing every raw file on every run would cost more than the cache saves; an edit that
    keeps a file's size and time is not seen: use ``--force``).
    """
    import hashlib
    import os

    digest = hashlib.sha256()
    for code, path in sorted(source_info.get("datasets", {}).items()):
        digest.update(f"{code}={_sha256_file(Path(path))}\n".encode())
    shared = Path(os.environ.get("EOCIC_SHARED_DATA",
                                 config.root.parent / "shared" / "data"))
    for folder in (config.data_dir, config.raw_root / "gisco", shared):
        if not folder.is_dir():
            digest.update(f"{folder}: absent\n".encode())
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = path.stat()
                digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def stage_cache_key(stage: Stage, node: stage_graph.StageNode, parameters: dict[str, object],
                    processed_dir: Path, source: str) -> str:
    """The cache key of one stage: SHA-256 of the notebook's bytes, the package version and
    the :func:`~eocic.shared_work.code_fingerprint` of its sources (an edited eocic function
    never lets a stage be reused with the old code's tables), the
    stage's parameters (less the staging folders), the content hashes of its input tables as
    they are in ``processed_dir`` now (``absent`` for a missing optional table) and the
    :func:`source_fingerprint`."""
    import hashlib

    from eocic import __version__
    from eocic.shared_work import code_fingerprint

    inputs = {}
    for name in node.inputs:
        path = processed_dir / f"{name}.parquet"
        inputs[name] = _sha256_file(path) if path.is_file() else "absent"
    material = {
        "notebook": hashlib.sha256(stage.notebook.read_bytes()).hexdigest(),
        "eocic": __version__,
        "code": code_fingerprint(),
        "parameters": {name: value for name, value in sorted(parameters.items())
                       if name not in _UNKEYED_PARAMETERS},
        "inputs": inputs,
        "source": source,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def read_stage_cache(processed_dir: Path) -> dict[str, dict]:
    """The stage cache of a published run (``{stem: entry}``); empty when absent or damaged
    (a damaged cache only costs a re-run)."""
    path = Path(processed_dir) / STAGE_CACHE
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _stage_files(folder: Path, patterns: tuple[str, ...]) -> list[str]:
    return sorted({str(path.relative_to(folder)) for pattern in patterns
                   for path in folder.glob(pattern) if path.is_file()})


def _cache_entry(node: stage_graph.StageNode, key: str, config: StudyConfig) -> dict:
    """What a later run needs to trust and carry a stage's outputs: the key, the hash of each
    processed file the stage wrote and the list of its report files."""
    processed = {name: _sha256_file(config.processed_dir / name)
                 for name in node.processed_files() if (config.processed_dir / name).is_file()}
    return {"key": key, "processed": processed,
            "reports": _stage_files(config.report_dir, node.report_patterns())}


def _reuse(node: stage_graph.StageNode, entry: dict | None, key: str, published: StudyConfig,
           staged: StudyConfig) -> str | None:
    """Carry a stage's outputs from the published run into staging when its cache entry
    matches ``key`` and the published files are those the entry lists; returns None when
    reused, else why not (for the run record)."""
    import shutil

    if not entry:
        return "miss: no cache entry"
    if entry.get("key") != key:
        return "miss: inputs, parameters, notebook or package changed"
    processed = entry.get("processed", {})
    reports = entry.get("reports", [])
    if not isinstance(processed, dict) or not isinstance(reports, list):
        return "miss: damaged cache entry"
    for name, digest in processed.items():
        path = published.published_processed_dir / name
        if not path.is_file() or _sha256_file(path) != digest:
            return f"miss: published {name} missing or changed"
    for name in reports:
        if not (published.published_report_dir / name).is_file():
            return f"miss: published {name} missing"
    for folder_from, folder_to, names in (
            (published.published_processed_dir, staged.processed_dir, list(processed)),
            (published.published_report_dir, staged.report_dir, reports)):
        for name in names:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                return f"miss: damaged cache entry ({name})"
            target = folder_to / name
            if target.resolve() != (folder_from / name).resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder_from / name, target)
    return None


def run_study(
    config: StudyConfig,
    *,
    extra_parameters: dict[str, object] | None = None,
    stages: list[str] | None = None,
    log: Callable[[str], None] = print,
    wait: bool = False,
    jobs: int | None = None,
    force: bool = False,
    graph_inputs: dict[str, tuple[str, ...]] | None = None,
    watch: SignalWatch | None = None,
    slots: StageSlots | None = None,
    progress: "StudyProgress | None" = None,
    kernel_server: "KernelServer | None" = None,
    kernel_start: str | None = None,
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
        Stage numbers or names to run (default all); run in an order valid for the stage
        graph (:mod:`eocic.stage_graph`).
    log : callable
        Receives one progress line per event.
    wait : bool
        When another study writes the same run id: wait for it instead of refusing.
    jobs : int, optional
        Stages executed at the same time, each in its own kernel (default: the number of
        cores). A stage starts once every stage it depends on has finished.
    force : bool
        Run every stage even when its cache entry in the published run matches.
    graph_inputs : dict, optional
        The stage graph's inputs (default :data:`eocic.stage_graph.STAGE_INPUTS`).
    watch : SignalWatch, optional
        Shared by the runs of :func:`run_years` (installed in the main thread); default: one of
        its own.
    slots : StageSlots, optional
        Stages executing at once across several runs (:func:`run_years`): a stage starts only
        when it gets a slot, besides ``jobs``.
    progress : StudyProgress, optional
        Progress bars in the terminal (:class:`eocic.progress.StudyProgress`).
    kernel_server : KernelServer, optional
        Forks the stages' kernels (:mod:`eocic.kernel_server`; shared by the runs of
        :func:`run_years`); default: one of its own, started before the first stage and ended
        with the run.
    kernel_start : {"fork", "spawn"}, optional
        ``fork``: kernels forked by a kernel server (default on Linux); ``spawn``: each kernel
        a new interpreter (default elsewhere, and on a dask cluster). The notebooks' results
        are the same; see :mod:`eocic.kernel_server`.

    With ``config.scheduler`` set, every stage executes on a worker of that
    ``dask.distributed`` cluster (see :func:`execute_stage_on_cluster`).

    Returns
    -------
    StudyRun
        Published under ``data/processed/<run_id>`` and ``reports/<run_id>``.

    Raises
    ------
    ConfigError, RunFolderError, RunLockedError, PublishedRunMismatch
        Before any stage runs (see the module docstring).
    StageFailed
        After the failed run was published (index marking the failed stage; the stages that
        depend on it "not run", the others run).
    StudyInterrupted
        After SIGTERM/SIGINT, the run published as interrupted.
    """
    import os

    config.validate()
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be a positive whole number of stages, got {jobs!r}")
    kernel_start = _kernel_start(kernel_start)
    extra_parameters = dict(extra_parameters or {})
    all_stages = discover_stages(config.notebooks_dir)
    selected = _select_stages(all_stages, stages)
    check_extra_parameters(all_stages, extra_parameters)
    graph = stage_graph.build_graph([stage.stem for stage in all_stages], graph_inputs)
    needs = stage_graph.dependencies(graph)
    source_info = sources.prepare_source(config, log=log)
    ensure_kernel(config.kernel_name)
    run_integrity.check_writable([config.published_processed_dir, config.published_report_dir])
    with run_integrity.RunLock(config.lock_path, config.run_id, wait=wait):
        for published in (config.published_processed_dir, config.published_report_dir):
            for folder in run_integrity.recover_stale(published):
                log(f"  cleaned up after a killed run: {folder.name}")
        partial = [stage.stem for stage in selected] != [stage.stem for stage in all_stages]
        if partial:
            check_published_run(config)
        own_watch = watch is None
        watch = SignalWatch().install() if own_watch else watch
        client = None
        own_server = kernel_server is None and not config.scheduler and kernel_start == "fork"
        try:
            if config.scheduler:
                from eocic import scheduler

                client = scheduler.connect(config.scheduler)
            elif own_server:
                kernel_server = start_kernel_server(config)
            plan = _Plan(graph, needs, jobs, force, slots, client, progress, kernel_server)
            return _run_locked(config, selected, extra_parameters, source_info, partial, watch,
                               log, plan)
        finally:
            if own_watch:
                watch.restore()
            if client is not None:
                client.close()
            if own_server and kernel_server is not None:
                kernel_server.close()


class StageSlots:
    """At most ``jobs`` stages executing at once across the runs of :func:`run_years`.

    A counting semaphore whose waiters wake as soon as a slot is given back. A stage gives its
    slot back once its kernel has ended, before its notebook is rendered to HTML (the
    runner's work, not a kernel's): the next stage's kernel starts meanwhile. Measured on 8
    demo years: the slots of the 2 cores held no kernel for 12 s of the run while stages
    handed over (rendering, then waiting up to 0.2 s for the next poll, then forking).
    """

    def __init__(self, jobs: int):
        self._free = jobs
        self._changed = threading.Condition()

    def acquire(self) -> bool:
        """Take a slot if one is free (never blocks)."""
        with self._changed:
            if self._free > 0:
                self._free -= 1
                return True
            return False

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Until a slot is given back or a stage of any run ends (:meth:`notify`), at most
        ``timeout`` seconds."""
        with self._changed:
            self._changed.wait(timeout)

    def notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


@dataclasses.dataclass
class _Plan:
    """How the stages are scheduled: the graph, who needs whom, parallelism, cache use."""

    graph: dict[str, stage_graph.StageNode]
    needs: dict[str, set[str]]
    jobs: int
    force: bool
    slots: StageSlots | None = None
    client: object | None = None  # a distributed.Client: stages execute on its workers
    progress: "StudyProgress | None" = None
    kernel_server: "KernelServer | None" = None  # forks the kernels of local stages

    def take_slot(self) -> bool:
        """Whether a stage may start now under the slots shared with other runs."""
        return self.slots is None or self.slots.acquire()

    def needs_among(self, stem: str, chosen: set[str]) -> set[str]:
        """The chosen stages ``stem`` depends on, also through stages not chosen."""
        return {other for other in chosen
                if other != stem and stem in stage_graph.downstream(self.needs, other)}


def _run_locked(config: StudyConfig, selected: list[Stage], extra_parameters: dict[str, object],
                source_info: dict, partial: bool, watch: SignalWatch,
                log: Callable[[str], None], plan: _Plan) -> StudyRun:
    """:func:`run_study` once the lock is held: stage, run (concurrently along the graph),
    publish."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
    from concurrent.futures import wait as wait_for_any

    token = run_integrity.new_run_token()
    staged = config.staged(token)
    published = False
    published_cache = {} if plan.force else read_stage_cache(config.published_processed_dir)
    try:
        for folder in (config.published_processed_dir, config.published_report_dir):
            run_integrity.start_staging(folder, token, from_published=partial)
        write_json_atomic(staged.processed_dir / sources.RESOLVED_SOURCE, source_info)
        started_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        results = [StageResult(stage) for stage in selected]
        run = StudyRun(staged, results, staged.report_dir / "index.html", started_at,
                       run_token=token)
        chosen = {stage.stem for stage in selected}
        # a run of some stages keeps the other stages' entries (their outputs stay too)
        cache_entries = {stem: entry for stem, entry in read_stage_cache(
            staged.processed_dir).items() if stem not in chosen} if partial else {}
        source = source_fingerprint(config, source_info)
        run_info = {
            # the published locations: what the index and run.json show
            "parameters": config.notebook_parameters() | extra_parameters,
            "run_token": token,
            "show_code": config.show_code,
            "started_at": started_at,
            "git_commit": provenance.git_commit(config.root),
            "packages": provenance.package_versions(),
            "source": source_info,
            "jobs": plan.jobs,
            "force": plan.force,
        }
        clock = time.perf_counter()

        def checkpoint(status: str = "running") -> None:
            run.seconds = time.perf_counter() - clock
            # findings and external references only in the index the run publishes
            report.write_index(run, run_info, findings=status != "running")
            write_json_atomic(staged.report_dir / "run.json", report.run_record(run, run_info))
            write_json_atomic(staged.processed_dir / STAGE_CACHE, cache_entries)
            run_integrity.record_tables(staged.processed_dir, config.run_id, token, status)

        def publish() -> None:
            nonlocal published
            for folder in (staged.processed_dir, staged.report_dir):
                # what a killed writer left (a lost dask worker): never published
                remove_partial_files(folder)
            checkpoint(run.status)
            run_integrity.publish_folder(staged.processed_dir, config.published_processed_dir,
                                         token)
            run_integrity.publish_folder(staged.report_dir, config.published_report_dir, token)
            published = True
            run.config = config
            run.index_path = config.published_report_dir / "index.html"

        log(f"eocic study: source={config.source} year={config.year} run_id={config.run_id} "
            f"jobs={plan.jobs}")
        log(f"  reports   -> {config.published_report_dir}")
        log(f"  processed -> {config.published_processed_dir}")
        log(f"  (written in {staged.report_dir.parent.name}/ beside each until the run ends)")
        checkpoint()
        by_stem = {result.stage.stem: result for result in results}
        needs = {stem: plan.needs_among(stem, chosen) for stem in chosen}
        keys: dict[str, str] = {}
        failure: StageFailed | None = None
        running: dict = {}
        executor = ThreadPoolExecutor(max_workers=plan.jobs, thread_name_prefix="eocic-stage")
        finished_cleanly = False
        try:
            while watch.signal_number is None:
                done = {stem for stem, result in by_stem.items()
                        if result.status in ("ok", "reused")}
                blocked = {stem for stem, result in by_stem.items()
                           if result.status in ("failed", "not run")}
                for stem in sorted(chosen):
                    result = by_stem[stem]
                    if result.status == "pending" and needs[stem] & blocked:
                        result.status = "not run"
                        result.error = ("not run: it depends on "
                                        f"{', '.join(sorted(needs[stem] & blocked))}")
                ready = [stem for stem in sorted(chosen) if by_stem[stem].status == "pending"
                         and needs[stem] <= done]
                progressed = starved = False
                for stem in ready:
                    if len(running) >= plan.jobs:
                        break
                    result = by_stem[stem]
                    stage, node = result.stage, plan.graph[stem]
                    parameters = stage_parameters(stage, staged, extra_parameters)
                    # the key and the reuse decision once per stage: its inputs are final once
                    # it is ready, and a stage waiting for a slot held by another year's run
                    # comes round every 0.2 s (hashing a 35 MB mapping table each time cost
                    # 40 s of the runner's CPU in an 8-year demo study)
                    if stem in keys:
                        pass
                    elif node.declared:
                        keys[stem] = stage_cache_key(stage, node, parameters,
                                                     staged.processed_dir, source)
                        why = ("forced (--force)" if plan.force else _reuse(
                            node, published_cache.get(stem), keys[stem], config, staged))
                        if why is None:
                            result.status, result.cache, result.seconds = "reused", "hit", 0.0
                            for name, attribute in ((f"{stem}.ipynb", "notebook_path"),
                                                    (f"{stem}.html", "html_path"),
                                                    (f"logs/{stem}.log", "log_path")):
                                if (staged.report_dir / name).is_file():
                                    setattr(result, attribute, staged.report_dir / name)
                            cache_entries[stem] = published_cache[stem]
                            log(f"[{stem}] reused (inputs, parameters, notebook and package "
                                "unchanged since the published run)")
                            checkpoint()
                            if plan.progress is not None:
                                plan.progress.stage_finished(config.year, stem, "reused", 0.0)
                            progressed = True
                            continue
                        result.cache = why
                        cache_entries.pop(stem, None)
                        for name in node.processed_files():  # a stale output must not linger
                            (staged.processed_dir / name).unlink(missing_ok=True)
                    else:
                        keys[stem] = ""
                        result.cache = "not cached: the stage graph does not declare its inputs"
                    if not plan.take_slot():
                        starved = True  # other runs of run_years hold every slot
                        break
                    log(f"[{stem}] started")
                    result.status = "running"
                    # the slot is given back once (when the kernel has ended, else when the
                    # stage has); every stage's end wakes the runs waiting for a slot
                    release = None if plan.slots is None else _once(plan.slots.release)
                    if plan.client is not None:
                        future = executor.submit(execute_stage_on_cluster, plan.client, stage,
                                                 staged, parameters, result, watch)
                    else:
                        bar = (plan.progress.cell_bar(config.year, stem)
                               if plan.progress is not None else False)
                        future = executor.submit(execute_stage, stage, staged, parameters,
                                                 result, watch, bar, plan.kernel_server,
                                                 release)
                    if plan.slots is not None:
                        def stage_ended(_: object, release=release, slots=plan.slots) -> None:
                            release()
                            slots.notify()

                        future.add_done_callback(stage_ended)
                    running[future] = result
                    progressed = True
                if progressed:
                    continue
                if not running:
                    if starved:
                        plan.slots.wait(0.2)
                        continue
                    break
                if starved:  # woken by a slot given back or any stage's end
                    plan.slots.wait(0.2)
                    completed = [future for future in running if future.done()]
                else:
                    completed, _ = wait_for_any(list(running), timeout=0.2,
                                                return_when=FIRST_COMPLETED)
                for future in completed:
                    result = running.pop(future)
                    stem = result.stage.stem
                    try:
                        future.result()
                    except StageFailed as error:
                        failure = failure or error
                        log(f"[{stem}] FAILED after {result.seconds:.1f} s")
                    except StudyInterrupted:
                        pass  # the loop ends: watch.signal_number is set
                    else:
                        if plan.graph[stem].declared:
                            cache_entries[stem] = _cache_entry(plan.graph[stem], keys[stem],
                                                               staged)
                        log(f"[{stem}] ok in {result.seconds:.1f} s")
                    checkpoint()
                    if plan.progress is not None:
                        plan.progress.stage_finished(config.year, stem, result.status,
                                                     result.seconds)
            # after a signal: the running stages end once their kernels stopped
            while running:
                completed, _ = wait_for_any(list(running), timeout=0.2,
                                            return_when=FIRST_COMPLETED)
                for future in completed:
                    result = running.pop(future)
                    try:
                        future.result()
                    except (StageFailed, StudyInterrupted):
                        pass
                    if result.status == "ok" and plan.graph[result.stage.stem].declared:
                        cache_entries[result.stage.stem] = _cache_entry(
                            plan.graph[result.stage.stem], keys[result.stage.stem], staged)
            finished_cleanly = True
        finally:
            if not finished_cleanly and running:  # a bug or a full disk: stop the kernels
                stop_kernels(kill=True)
            executor.shutdown(wait=finished_cleanly, cancel_futures=True)
        if watch.signal_number is not None:
            for result in results:
                if result.status == "pending":
                    result.status = "not run"
            started = any(result.status not in ("pending", "not run") for result in results)
            return _interrupted(run, watch, publish if started else None, log)
        publish()
        if failure is not None:
            log(run.timings_table())
            raise failure
        log(run.timings_table())
        log(f"index: {run.index_path}")
        return run
    finally:
        if not published:  # a run interrupted before its first stage, or a bug: no trace
            for folder in (staged.processed_dir, staged.report_dir):
                run_integrity.discard_staging(folder)


@dataclasses.dataclass
class YearsRun:
    """The outcome of :func:`run_years`: one :class:`StudyRun` per completed year (failed years
    keep their error), the run across years and its page."""

    run_id: str
    years: list[int]
    runs: dict[int, StudyRun]
    errors: dict[int, str]
    index_path: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.errors and all(run.ok for run in self.runs.values())


def years_run_id(config: StudyConfig, years: list[int]) -> str:
    """Default name of a run across ``years``: ``<source>-<first>-<last>``."""
    return f"{config.source_kind}-{min(years)}-{max(years)}"


def year_configs(config: StudyConfig, years: list[int],
                 run_id: str | None = None) -> dict[int, StudyConfig]:
    """The configuration of each year's run of :func:`run_years`: ``config`` with the year and
    the run id ``<run_id>-<year>`` (default ``<source>-<year>``), validated."""
    return {year: dataclasses.replace(
        config, year=year, run_id=f"{run_id}-{year}" if run_id else None).validate()
        for year in years}


def run_years(
    config: StudyConfig,
    years: list[int],
    *,
    run_id: str | None = None,
    extra_parameters: dict[str, object] | None = None,
    log: Callable[[str], None] = print,
    wait: bool = False,
    jobs: int | None = None,
    force: bool = False,
    progress: "StudyProgress | None" = None,
    graph_inputs: dict[str, tuple[str, ...]] | None = None,
    kernel_start: str | None = None,
) -> YearsRun:
    """Run the study for every reference year of ``years`` and write the run across years.

    Each year is a run of its own (:func:`run_study`): ``<source>-<year>`` (the run a single
    ``--year`` would write, so the stage cache serves both), or ``<run_id>-<year>`` when
    ``run_id`` is given. The work that does not depend on the year (reading the raw files,
    estimating confidential cells, harmonising NUTS versions) is done once: the first year's
    stage 01 keeps it in the store of :mod:`eocic.shared_work`, the others read it (a year that
    needs it while it is computed waits for it). Years run side by side: at most ``jobs``
    stages execute at once across all years (default: the number of cores), earlier years
    first.

    When every year has ended, the run across years (``run_id``, default
    :func:`years_run_id`) gets ``data/processed/<run_id>/key_figures.parquet`` and
    ``reports/<run_id>/index.html`` with the key figures over time and a link to every year's
    index (:mod:`eocic.timeline`), beside each year's own index. All years' kernels are forked
    by one kernel server (``kernel_start``, see :func:`run_study`).

    Raises
    ------
    ConfigError
        No years, a year outside the accepted range, or a run id that is not valid; before
        any stage runs.
    StageFailed
        After every year ended and the page across years was written, when a stage of some
        year failed (the message names the years).
    StudyInterrupted
        After SIGTERM/SIGINT: every running year is published as interrupted.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from eocic import timeline
    from eocic.atomic import write_text_atomic
    from eocic.config import is_valid_run_id

    years = sorted(set(years))
    kernel_start = _kernel_start(kernel_start)
    if not years:
        raise ConfigError("--years names no year; give a range such as 2013-2020 or a list "
                          "such as 2014,2017,2020")
    if run_id is not None and not is_valid_run_id(run_id):
        raise ConfigError(f"run id {run_id!r} is not valid: use {RUN_ID_RULE}")
    across = run_id or years_run_id(config, years)
    configs = year_configs(config, years, run_id)
    if jobs is None:
        jobs = os.cpu_count() or 1
    sources.prepare_source(configs[years[0]], log=log)  # the demo economy, written once
    ensure_kernel(config.kernel_name)
    summary = StudyConfig(source=config.source, year=years[-1], run_id=across,
                          root=config.root, seed=config.seed)
    run_integrity.check_writable([summary.published_processed_dir,
                                  summary.published_report_dir])
    slots = StageSlots(jobs)
    kernel_server = (start_kernel_server(config)
                     if kernel_start == "fork" and not config.scheduler else None)
    watch = SignalWatch().install()
    clock = time.perf_counter()
    runs: dict[int, StudyRun] = {}
    errors: dict[int, str] = {}
    # each year's key figures, read from its published run as soon as it ends (while other
    # years still run) rather than all at the end, when only this thread would be working
    figures_by_year: dict[int, tuple[list[dict], str | None]] = {}
    interrupted: StudyInterrupted | None = None
    from eocic.findings import region_names

    names = region_names()

    def one_year(year: int) -> None:
        def year_log(line: str) -> None:
            log(f"[{year}] {line}")

        try:
            runs[year] = run_study(configs[year], extra_parameters=extra_parameters,
                                   log=year_log, wait=wait, jobs=jobs, force=force,
                                   graph_inputs=graph_inputs, watch=watch, slots=slots,
                                   progress=progress, kernel_server=kernel_server,
                                   kernel_start=kernel_start)
        except StageFailed as error:
            errors[year] = str(error)
            return
        figures_by_year[year] = timeline.run_figures(
            configs[year].published_processed_dir, year, configs[year].run_id, names)

    try:
        with run_integrity.RunLock(summary.lock_path, across, wait=wait):
            # years in order, at most `jobs` at once (each also waits for stage slots)
            with ThreadPoolExecutor(max_workers=min(jobs, len(years)),
                                    thread_name_prefix="eocic-year") as pool:
                futures = [pool.submit(one_year, year) for year in years]
                for future in futures:
                    try:
                        future.result()
                    except StudyInterrupted as error:
                        interrupted = interrupted or error
            seconds = time.perf_counter() - clock
            outcome = [{"year": year, "run_id": configs[year].run_id,
                        "status": runs[year].status if year in runs else "failed",
                        "seconds": runs[year].seconds if year in runs else 0.0}
                       for year in years]
            figures, problems = timeline.figures_table(
                {year: figures_by_year[year] for year in years if year in runs})
            timeline.write_key_figures(figures, summary.published_processed_dir,
                                       summary.published_report_dir)
            page = timeline.years_index_html(across, outcome, figures,
                                             synthetic=config.source == "demo", seconds=seconds,
                                             problems=problems, root=config.root)
            index_path = write_text_atomic(summary.published_report_dir / "index.html", page)
            write_json_atomic(summary.published_report_dir / "years.json",
                              {"run_id": across, "years": outcome, "seconds": round(seconds, 3),
                               "errors": {str(year): text for year, text in errors.items()}})
    finally:
        watch.restore()
        if kernel_server is not None:
            kernel_server.close()
    log(f"eocic study --years: {len(years)} years in {seconds:.1f} s; across years: "
        f"{index_path}")
    if interrupted is not None:
        raise interrupted
    if errors:
        raise StageFailed(f"a stage failed in {', '.join(map(str, sorted(errors)))}: "
                          + " | ".join(errors[year] for year in sorted(errors)))
    return YearsRun(across, years, runs, errors, index_path, seconds)


def _interrupted(run: StudyRun, watch: SignalWatch, publish: Callable[[], None] | None,
                 log: Callable[[str], None]) -> NoReturn:
    """Publish an interrupted run (``publish`` None: no stage ran, publish nothing); raise
    :class:`StudyInterrupted`."""
    run.interrupted_by = watch.signal_name
    running = [result.stage.stem for result in run.results if result.status == "interrupted"]
    if publish is None:
        log(f"eocic study: {watch.signal_name} before the first stage; the published run "
            f"{run.config.run_id} is unchanged")
        raise StudyInterrupted(
            f"interrupted by {watch.signal_name} before the first stage ran; the published run "
            f"{run.config.run_id!r} is unchanged", watch.signal_number)
    publish()
    where = (f"while stage {running[0]} ran" if running else "between stages")
    log(run.timings_table())
    raise StudyInterrupted(
        f"interrupted by {watch.signal_name} {where}; the run was published as interrupted: "
        f"{run.index_path}", watch.signal_number)


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
