"""Kernels forked from a process that has already imported the study's libraries.

Every stage of a study runs in a kernel of its own (a clean namespace, nothing carried from one
notebook to the next). Starting one the usual way costs a new interpreter, ipykernel, and then
the notebook's own imports: about 0.3 s of CPU for the kernel and 0.2-1.2 s for pandas,
matplotlib, seaborn, statsmodels and the eocic modules, in each of the seven stages of every
year (measured with ``jupyter_client``, 2-core machine: 1.5-1.8 s of CPU per kernel whose
first cell imports what stage 03 imports).

A :class:`KernelServer` starts one Python process (``python -m eocic.kernel_server``) in the
kernels' working directory and environment. It imports ipykernel and every module the study's
notebooks import (read from their ``import`` statements), then waits on a Unix socket. For
each kernel the runner asks for, it forks: the child becomes a new session, takes the kernel's
environment and working directory and runs ``ipykernel``'s kernel application with the
connection file jupyter_client wrote, exactly as ``python -m ipykernel_launcher -f FILE``
would, but with its imports already done (copy-on-write pages, no second read of the module
files). The kernel is still a fresh process per notebook: what one notebook defines or
changes is never seen by the next.

Things a fork must not inherit, and how they are avoided:

- threads: the server starts none and imports nothing that does (no zmq context, no event
  loop, no kernel application before the fork); OpenBLAS's idle threads are handled by its
  own fork handlers (the same as :mod:`multiprocessing`'s fork start method relies on);
- matplotlib's inline backend: the server sets ``MPLBACKEND`` as ipykernel would, but never
  imports the backend module, which registers its display hook with the kernel's shell when
  imported (it is imported in the kernel, on the first figure);
- set-up done at import that needs the kernel's shell (eocic's figure format): the kernel
  runs :data:`SHELL_SETUP` once its shell exists;
- data: the server reads nothing but the reference files of :data:`WARM_CACHES` into caches
  keyed on each file's path and modification time (a kernel never gets a stale copy);
- what Python reads once at start-up (``PYTHONHASHSEED``, the BLAS variables): the server is
  started with the kernels' environment, and a kernel asking for another value of one of
  :data:`STARTUP_VARIABLES` is refused with :class:`KernelServerError` rather than started
  with the server's;
- the interpreter's hash seed and ``random``'s state: the seed is the kernels' (0, see
  :data:`eocic.study.KERNEL_FIXED_ENVIRONMENT`); :mod:`random` re-seeds itself in a forked
  child.

The runner uses it through :meth:`KernelServer.kernel_manager_class`, a jupyter_client
``AsyncKernelManager`` whose provisioner launches through the server: papermill and nbclient
connect, execute, interrupt and shut down these kernels as any other.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from eocic.errors import EocicError

#: Variables Python or a library reads once when the process starts: a forked kernel has the
#: server's values, so a kernel asking for other ones cannot be forked.
STARTUP_VARIABLES = ("PYTHONHASHSEED", "PYTHONPATH", "PYTHONHOME", "PYTHONOPTIMIZE",
                     "OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT", "OMP_NUM_THREADS",
                     "MKL_NUM_THREADS", "MPLBACKEND", "MPLCONFIGDIR")

#: Imported by the server before any notebook's modules: what every kernel loads.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.interactiveshell")

#: Imported by the server after the notebooks' modules: libraries eocic imports inside its
#: functions, so the notebooks' import statements do not name them (pandas imports pyarrow's
#: parquet reader on the first read_parquet; eocic.models.engine imports pyfixest's
#: estimation on the first fit: 0.5 s in every regressions stage).
#: ipykernel imports its debugger (and debugpy with it) when a kernel builds its shell: 0.08 s
#: of CPU in each of the 56 kernels of an 8-year study (it starts no thread).
LIBRARY_MODULES = ("pyarrow.parquet", "pyfixest.estimation", "ipykernel.debugger")

#: Reference files read into eocic's per-process caches (each keyed on the file's path and
#: modification time, so a changed file is read again) by the server after its imports, so
#: that every kernel starts with them: the RIS 2023 workbook (1.0 s, stage 03) and the NUTS-2
#: geometries found from the project root (0.3-0.4 s in each of stages 02, 03, 05 and 06).
#: A kernel whose run reads other files reads them itself.
WARM_CACHES = ("eocic.scoreboard.external:read_ris_2023", "eocic.maps:warm_geometry_cache")

#: Functions the modules run when imported that set up the IPython shell if one exists
#: (``module:function``). The server imports those modules before any shell exists, so each
#: kernel calls these once its shell is up (when the server has imported the module).
SHELL_SETUP = ("eocic.plotting:configure",)

#: Thresholds of a forked kernel's garbage collector (``gc.set_threshold``; Python's default is
#: (700, 10, 10)). A kernel first freezes what it inherited from the server (``gc.freeze``: the
#: 390,000 objects of the imported modules, which a full collection walked in 0.18 s, writing
#: to pages the kernel shared with the server until then); its own collections then walk only
#: what its notebook creates, and with these thresholds run about 30 times less often (pandas
#: allocates containers by the thousand). Collection changes no result. Measured on one demo
#: year (``eocic study --force``, every stage run, 2 cores): the kernels' CPU 41.0-41.2 s
#: before, 33.4-35.3 s with both; the largest kernel's peak memory unchanged (850 MB).
KERNEL_GC_THRESHOLDS = (20_000, 20, 20)


def batch_garbage_collection() -> None:
    """Garbage collection for a process that has done its imports and now runs one long batch
    (a forked kernel, the study runner): what exists now is frozen (never walked again) and
    collections run with :data:`KERNEL_GC_THRESHOLDS`. Measured on one forced demo year: the
    runner's CPU 4.5 s before, 3.8-3.9 s after."""
    gc.freeze()
    gc.set_threshold(*KERNEL_GC_THRESHOLDS)


#: matplotlib's inline backend, as ipykernel sets it in ``MPLBACKEND`` (the same string as
#: :data:`eocic.plotting.INLINE_BACKEND`; importing that module here would import matplotlib
#: before ``MPLBACKEND`` is set, and matplotlib reads it when imported).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

#: Seconds the runner waits for the server to answer a launch (it answers between two imports).
LAUNCH_TIMEOUT = 60.0


#: How the runner starts the stages' kernels: forked by a :class:`KernelServer`, or each a new
#: interpreter (jupyter_client's own launch).
KERNEL_STARTS = ("fork", "spawn")


def default_kernel_start() -> str:
    """``fork`` on Linux; ``spawn`` elsewhere (on macOS a forked process may not use the
    system frameworks its parent loaded, which numpy's Accelerate build and matplotlib's macosx
    backend do)."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


class KernelServerError(EocicError, RuntimeError):
    """The kernel server could not start a kernel (it ended, or the kernel's environment
    differs from the server's in a variable read at start-up)."""


def notebook_modules(notebooks: Iterable[Path]) -> list[str]:
    """Modules the code cells of ``notebooks`` import, in order of first appearance.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a`` and, where they are
    modules, ``a.b`` and ``a.c``. Relative imports and code that does not parse are left out
    (the kernel reports such code itself when it runs it).
    """
    import nbformat

    found: dict[str, None] = {}
    for path in notebooks:
        notebook = nbformat.read(str(path), as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found.setdefault(alias.name)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.setdefault(node.module)
                    for alias in node.names:
                        found.setdefault(f"{node.module}.{alias.name}")
    return list(found)


# ---------------------------------------------------------------------------------------------
# the server process
# ---------------------------------------------------------------------------------------------

def _reap_children(signum: int, frame: object) -> None:
    """SIGCHLD in the server: collect the kernels that ended (no zombies left behind)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _preload(module: str) -> None:
    """Import ``module`` in the server if it is one (``a.b`` in ``from a import b`` may be a
    name, not a module)."""
    try:
        if importlib.util.find_spec(module) is None:
            return
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - the kernel imports it again and reports the error
        # A module that cannot be imported here fails the same way in the kernel, where the
        # notebook's cell shows the traceback to the reader of the log; the server just does
        # not have it pre-imported.
        return


def _warm(target: str) -> None:
    """Call ``module:function`` of :data:`WARM_CACHES` in the server."""
    from eocic.errors import EocicError

    module, function = target.split(":")
    try:
        getattr(importlib.import_module(module), function)()
    except EocicError:
        # a reference file the kernel reading it reports on (absent files are no error): the
        # kernel meets the same error, in the notebook, where the reader sees it
        return


def _run_kernel(arguments: list[str], cwd: str, environment: dict[str, str]) -> None:
    """In the forked child: become the kernel (what ``python -m ipykernel_launcher`` does)."""
    os.setsid()
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environment)
    # ipykernel polls this process's parent and ends when it goes away: the server, which
    # itself ends with the runner (the trait's default was read from JPY_PARENT_PID when the
    # server imported ipykernel, so it is given on the command line)
    arguments = [*arguments, f"--IPKernelApp.parent_handle={os.getppid()}"]
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.argv = ["ipykernel_launcher", *arguments]
    from ipykernel.kernelapp import IPKernelApp

    application = IPKernelApp.instance()
    application.initialize(arguments)
    for target in SHELL_SETUP:
        module, function = target.split(":")
        if module in sys.modules:
            getattr(sys.modules[module], function)()
    application.start()


def _serve_request(connection: socket.socket, listener: socket.socket) -> None:
    """Read one launch request (a JSON line) and answer with the new kernel's pid."""
    connection.settimeout(10)
    with connection, connection.makefile("rwb") as stream:
        request = json.loads(stream.readline())
        pid = os.fork()
        if pid == 0:  # the kernel
            code = 1
            try:
                stream.close()
                connection.close()
                listener.close()
                batch_garbage_collection()  # the server's objects: never walked here
                _run_kernel(request["arguments"], request["cwd"], request["environment"])
                code = 0
            except SystemExit as end:
                code = end.code if isinstance(end.code, int) else 1
            finally:
                # the end of an interpreter, as a kernel started on its own would have it
                # (the child must not return into the server's loop)
                import atexit

                atexit._run_exitfuncs()
                for stream_ in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream_.flush()
                os._exit(code)
        stream.write(json.dumps({"pid": pid}).encode() + b"\n")
        stream.flush()


def _serve_pending(listener: socket.socket) -> None:
    """Answer every launch request waiting now, without blocking."""
    while True:
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        connection.setblocking(True)
        _serve_request(connection, listener)


def serve(socket_path: str, modules: list[str]) -> None:
    """The server's main loop: import ``modules`` (answering launches between two imports),
    then answer launches until the parent process (the runner) ends or sends SIGTERM."""
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, _reap_children)
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    # debugpy (imported with ipykernel.debugger) warns on stderr, which is the study's
    # terminal here, that breakpoints may be missed with frozen modules; a batch kernel sets
    # none. This makes it a debug-level log line (a kernel's environment replaces the server's)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(16)
    listener.setblocking(False)
    print("ready", flush=True)  # the runner waits for this line before its first launch
    # the runner closes its end of that pipe: nothing (the server, a kernel's C library)
    # may write there again
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    for module in [*KERNEL_MODULES, *modules, *LIBRARY_MODULES]:
        _serve_pending(listener)
        _preload(module)
    for target in WARM_CACHES:
        _serve_pending(listener)
        _warm(target)
    listener.settimeout(1.0)
    while os.getppid() == parent:
        try:
            connection, _ = listener.accept()
        except (TimeoutError, socket.timeout, InterruptedError):
            continue
        connection.setblocking(True)
        _serve_request(connection, listener)


# ---------------------------------------------------------------------------------------------
# the runner's side
# ---------------------------------------------------------------------------------------------

class ForkedKernelProcess:
    """A forked kernel seen as jupyter_client sees a ``Popen``: poll, wait, signals.

    The kernel is the server's child (the server reaps it), so its exit status is not known
    here: ``poll`` gives 0 once it has ended, ``None`` while it runs. The process is
    identified by pid and start time (a reused pid is not mistaken for it).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        import psutil

        self.pid = pid
        self.returncode: int | None = None
        try:
            self._process: object | None = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._process = None
            self.returncode = 0

    def poll(self) -> int | None:
        import psutil

        if self.returncode is None:
            try:
                alive = (self._process.is_running()
                         and self._process.status() != psutil.STATUS_ZOMBIE)
            except psutil.NoSuchProcess:
                alive = False
            if not alive:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["forked kernel", str(self.pid)], timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _provisioner_class():
    """jupyter_client's local provisioner, launching through the manager's kernel server."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkedKernelProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: object) -> dict:
            server: KernelServer = self.parent.kernel_server
            pid = server.launch(cmd, cwd=str(kwargs.get("cwd") or os.getcwd()),
                                environment=dict(kwargs.get("env") or os.environ))
            self.process = ForkedKernelProcess(pid)
            self.pid = pid
            self.pgid = pid  # the kernel called setsid(): its own process group
            self.cwd = kwargs.get("cwd", Path.cwd())
            return self.connection_info

    return ForkedKernelProvisioner


class KernelServer:
    """One server process for the kernels of a study (see the module docstring).

    Parameters
    ----------
    cwd : Path
        Working directory of the server, hence ``sys.path[0]`` of its kernels (the project
        root, as for the kernels papermill starts with ``cwd=``).
    environment : mapping
        Environment of the server: the kernels' (:data:`STARTUP_VARIABLES` are fixed by it).
    modules : list of str, or a callable returning them
        Modules to import before forking (:func:`notebook_modules` of the study's notebooks).

    The process starts with the first kernel asked for (a study whose stages are all reused
    starts none). Use as a context manager, or call :meth:`close`: the server ends (running
    kernels are the runner's to stop; they end by themselves when the server has gone).
    """

    def __init__(self, cwd: Path, environment: Mapping[str, str],
                 modules: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        self.cwd = Path(cwd)
        self.environment = dict(environment)
        self._modules = modules
        self._folder = tempfile.TemporaryDirectory(prefix="eocic-kernels-")
        self.socket_path = str(Path(self._folder.name) / "server.sock")
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server process now (at the latest, the first :meth:`launch` does)."""
        with self._lock:
            if self._process is not None:
                return
            modules = list(self._modules() if callable(self._modules) else self._modules)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "eocic.kernel_server", self.socket_path, *modules],
                cwd=self.cwd, env=self.environment, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE)
            line = self._process.stdout.readline()
            self._process.stdout.close()
        if line.strip() != b"ready":
            self.close()
            raise KernelServerError(
                f"the kernel server did not start (exit code {self._process.poll()}); run "
                f"`{sys.executable} -m eocic.kernel_server` to see its error")

    @property
    def pid(self) -> int | None:
        """The server's process id; None before it started."""
        return None if self._process is None else self._process.pid

    def launch(self, command: list[str], cwd: str, environment: Mapping[str, str]) -> int:
        """Fork a kernel for jupyter_client's ``command`` (``python -m ipykernel_launcher
        -f FILE ...``); return its pid."""
        if "ipykernel_launcher" not in command:
            raise KernelServerError(
                f"the kernel server starts ipykernel kernels only, not {' '.join(command)}")
        arguments = command[command.index("ipykernel_launcher") + 1:]
        differing = sorted(name for name in STARTUP_VARIABLES
                           if environment.get(name) != self.environment.get(name))
        if differing:
            raise KernelServerError(
                "the kernel's environment differs from the kernel server's in "
                + ", ".join(differing) + ", read when Python starts; start the server with "
                "the kernels' environment")
        self.start()
        if self._process.poll() is not None:
            raise KernelServerError(
                f"the kernel server ended (exit code {self._process.returncode})")
        request = {"arguments": arguments, "cwd": cwd, "environment": dict(environment)}
        with self._lock, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(LAUNCH_TIMEOUT)
            connection.connect(self.socket_path)
            with connection.makefile("rwb") as stream:
                stream.write(json.dumps(request).encode() + b"\n")
                stream.flush()
                answer = stream.readline()
        if not answer:
            raise KernelServerError("the kernel server closed the connection without a kernel")
        return int(json.loads(answer)["pid"])

    def kernel_manager_class(self, asynchronous: bool = True) -> type:
        """A kernel manager class whose kernels this server forks: jupyter_client's
        ``AsyncKernelManager`` (for nbclient's and papermill's ``kernel_manager_class``), or
        with ``asynchronous=False`` its blocking ``KernelManager``."""
        from jupyter_client.manager import AsyncKernelManager, KernelManager

        provisioner_class = _provisioner_class()
        server = self

        class ForkedKernelManager(AsyncKernelManager if asynchronous else KernelManager):
            kernel_server = server

            async def _async_pre_start_kernel(self, **kw):
                import uuid

                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                if self.provisioner is None:
                    self.provisioner = provisioner_class(
                        kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
                return await super()._async_pre_start_kernel(**kw)

        return ForkedKernelManager

    def kernels(self) -> list:
        """The kernels running now (psutil processes): the server's children."""
        import psutil

        if self._process is None:
            return []
        try:
            return psutil.Process(self._process.pid).children(recursive=False)
        except psutil.NoSuchProcess:
            return []

    def close(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 5 s) and remove its socket."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._folder.cleanup()

    def __enter__(self) -> "KernelServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m eocic.kernel_server SOCKET_PATH [MODULE ...]")
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    serve(sys.argv[1], sys.argv[2:])
