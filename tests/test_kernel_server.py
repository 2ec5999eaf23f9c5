"""Kernels forked by the kernel server (eocic.kernel_server): same notebook results as a new
interpreter, a clean namespace per kernel, the requested working directory and environment,
figures shown, signals and shutdown as for any kernel."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient

from eocic import study
from eocic.kernel_server import (KERNEL_GC_THRESHOLDS, KernelServer, KernelServerError,
                                 default_kernel_start, notebook_modules)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the kernel server forks (Linux only)")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    study.ensure_kernel("eocic")
    environment = study.kernel_environment()
    with KernelServer(REPO_ROOT, environment, ["pandas", "eocic.models.figures"]) as running:
        yield running


def _execute(cells: list[str], server: KernelServer | None, cwd: Path = REPO_ROOT,
             environment: dict | None = None):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    options = {} if server is None else {"kernel_manager_class": server.kernel_manager_class()}
    saved = dict(os.environ)
    os.environ.update(study.kernel_environment() | (environment or {}))
    try:
        client = NotebookClient(notebook, kernel_name="eocic", timeout=120, **options)
        return client.execute(cwd=str(cwd))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _outputs(notebook) -> list[list[dict]]:
    return [[{key: value for key, value in output.items()
              if key not in ("metadata", "execution_count")} for output in cell.outputs]
            for cell in notebook.cells]


def test_notebook_modules_reads_import_statements(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import pandas as pd\nfrom eocic.clusters import mapping, figures"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy.linalg"),
        nbformat.v4.new_code_cell("def broken(:\n    pass"),  # does not parse: left out
        nbformat.v4.new_markdown_cell("import os"),
        nbformat.v4.new_code_cell("from . import sibling\nimport pandas"),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, str(path))
    assert notebook_modules([path]) == ["pandas", "eocic.clusters", "eocic.clusters.mapping",
                                        "eocic.clusters.figures", "numpy.linalg"]


def test_the_study_notebooks_import_what_the_server_preloads():
    modules = notebook_modules(sorted((REPO_ROOT / "notebooks").glob("0*.ipynb")))
    for expected in ("pandas", "eocic.pipeline", "eocic.clusters.mapping",
                     "eocic.scoreboard.engine", "eocic.models.regressions", "eocic.stress.run",
                     "eocic.pilots.run", "matplotlib.pyplot"):
        assert expected in modules


def test_forked_kernel_gives_the_outputs_of_a_new_interpreter(server):
    cells = ["import pandas as pd, numpy as np\nframe = pd.DataFrame({'x': [1.5, 2.25, 3.0]})",
             "print(frame.describe().to_string()); print(hash('eocic'))",
             "np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0]))",
             "from eocic.models.figures import coefficient_plot\n"
             "from matplotlib.figure import Figure\n"
             "figure = Figure(); figure.subplots().plot([1, 3, 2]); display(figure)"]
    spawned = _execute(cells, None)
    forked = _execute(cells, server)
    assert _outputs(forked) == _outputs(spawned)
    # the figure is an image in both (eocic.plotting's formats set up in the forked shell)
    assert "image/png" in forked.cells[3].outputs[0]["data"]


@pytest.mark.parametrize("forked", [False, True], ids=["spawned", "forked"])
def test_a_pyplot_figure_is_rendered_only_for_its_png(server, forked):
    # pyplot's after-cell hook would render the figure once more, unseen, before the inline
    # backend saves it as PNG (eocic.plotting._render_each_figure_once drops the hook)
    cells = ["from eocic.models.figures import coefficient_plot\n"
             "from matplotlib.backends.backend_agg import FigureCanvasAgg\n"
             "unseen = []\ndraw = FigureCanvasAgg.draw\n"
             "def counted(canvas):\n"
             "    unseen.append(not canvas.is_saving())\n"
             "    return draw(canvas)\n"
             "FigureCanvasAgg.draw = counted",
             "import matplotlib.pyplot as plt\nfigure, axis = plt.subplots(); axis.plot([1, 3, 2])",
             "print(len(unseen) > 0, sum(unseen))"]
    notebook = _execute(cells, server if forked else None)
    assert [output["output_type"] for output in notebook.cells[1].outputs
            if "image/png" in output.get("data", {})] == ["display_data"]
    assert notebook.cells[2].outputs[0]["text"] == "True 0\n"


def test_the_server_sets_the_inline_backend_of_eocic_plotting():
    from eocic import kernel_server, plotting

    assert kernel_server.INLINE_BACKEND == plotting.INLINE_BACKEND


def test_forked_kernel_has_preloaded_modules_and_a_clean_namespace(server):
    # the server imports between launches: a kernel forked before it reached pandas imports
    # pandas itself, so ask until the server has it (a few kernels at most)
    deadline = time.monotonic() + 60
    while True:
        first = _execute(["import sys\nprint('pandas' in sys.modules, 'pd' in dir())",
                          "import pandas as pd\nleftover = 1"], server)
        if first.cells[0].outputs[0]["text"] != "False False\n" or time.monotonic() > deadline:
            break
    assert first.cells[0].outputs[0]["text"] == "True False\n"
    second = _execute(["print('leftover' in dir(), 'pd' in dir())"], server)
    assert second.cells[0].outputs[0]["text"] == "False False\n"


def test_forked_kernel_never_walks_the_servers_objects(server):
    notebook = _execute(["import gc\nprint(*gc.get_threshold()); print(gc.get_freeze_count())"],
                        server)
    thresholds, frozen = notebook.cells[0].outputs[0]["text"].splitlines()
    assert tuple(map(int, thresholds.split())) == KERNEL_GC_THRESHOLDS
    # the objects of the modules the server imported (pandas, ipykernel, eocic's figures:
    # some 37,000 in this test's server; none without the freeze) are frozen: the kernel's
    # collections walk only what its cells create
    assert int(frozen) > 10_000


def test_the_runner_collects_garbage_as_a_kernel_does():
    import gc

    from eocic.kernel_server import batch_garbage_collection

    thresholds = gc.get_threshold()
    try:
        batch_garbage_collection()
        assert gc.get_threshold() == KERNEL_GC_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # this process's modules: never walked again
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_forked_kernel_takes_the_requested_cwd_and_environment(server, tmp_path):
    notebook = _execute(["import os, sys\nprint(os.getcwd()); print(os.environ['EOCIC_PROBE']);"
                         "print(os.environ['PYTHONHASHSEED'], sys.flags.hash_randomization)"],
                        server, cwd=tmp_path, environment={"EOCIC_PROBE": "seen"})
    cwd, probe, seed = notebook.cells[0].outputs[0]["text"].splitlines()
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert probe == "seen"
    assert seed == "0 0"  # PYTHONHASHSEED=0: no hash randomisation, as in every study kernel


def test_a_kernel_asking_for_another_hash_seed_is_refused(server):
    environment = dict(study.kernel_environment(), PYTHONHASHSEED="7")
    with pytest.raises(KernelServerError, match="PYTHONHASHSEED"):
        server.launch([sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"],
                      cwd=str(REPO_ROOT), environment=environment)
    with pytest.raises(KernelServerError, match="ipykernel kernels only"):
        server.launch(["R", "--slave"], cwd=str(REPO_ROOT), environment=environment)


def test_forked_kernel_is_interrupted_and_stopped_like_any_kernel(server):
    manager = server.kernel_manager_class(asynchronous=False)(kernel_name="eocic")
    manager.start_kernel(cwd=str(REPO_ROOT), env=study.kernel_environment())
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        pid = manager.provisioner.pid
        assert psutil.Process(pid).ppid() == server.pid  # forked by the server
        assert pid in [kernel.pid for kernel in server.kernels()]
        client.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        manager.interrupt_kernel()  # SIGINT to the kernel's process group
        reply = client.get_shell_msg(timeout=20)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert manager.is_alive()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert not manager.is_alive()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:  # reaped by the server
        time.sleep(0.05)
    assert not psutil.pid_exists(pid)


def test_study_stop_kernels_finds_forked_kernels(server):
    manager = server.kernel_manager_class(asynchronous=False)(kernel_name="eocic")
    manager.start_kernel(cwd=str(REPO_ROOT), env=study.kernel_environment())
    try:
        pid = manager.provisioner.pid
        assert pid in [kernel.pid for kernel in study.kernel_processes()]
        study.stop_kernels()  # what the runner does on SIGTERM
        deadline = time.monotonic() + 10
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not manager.is_alive()
    finally:
        manager.shutdown_kernel(now=True)


def test_kernels_end_when_the_server_ends():
    with KernelServer(REPO_ROOT, study.kernel_environment(), []) as own:
        manager = own.kernel_manager_class(asynchronous=False)(kernel_name="eocic")
        manager.start_kernel(cwd=str(REPO_ROOT), env=study.kernel_environment())
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.stop_channels()
        pid = manager.provisioner.pid
        server_pid = own.pid
    assert not psutil.pid_exists(server_pid)
    deadline = time.monotonic() + 15  # ipykernel polls its parent every second
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    manager.cleanup_resources()


def test_default_kernel_start_forks_on_linux_only(monkeypatch):
    assert default_kernel_start() == "fork"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_kernel_start() == "spawn"


def test_unknown_kernel_start_is_refused():
    from eocic.config import ConfigError

    with pytest.raises(ConfigError, match="kernel start 'thread'"):
        study._kernel_start("thread")


def test_forked_kernels_start_with_the_reference_files_read(server):
    """The server reads the RIS 2023 workbook and the NUTS-2 geometries into eocic's caches
    (keyed on path and modification time); a kernel finds them there without reading."""
    from eocic.maps import find_geometries
    from eocic.scoreboard.external import RIS_FILE, shared_data_dir

    shared = shared_data_dir()
    if not (shared / RIS_FILE).is_file() or find_geometries(None, shared) is None:
        pytest.skip("the shared data folder (RIS 2023, NUTS geometries) is absent")
    notebook = _execute(["from eocic.scoreboard.external import _read_ris_file\n"
                         "from eocic.maps import _read_cached\n"
                         "print(_read_ris_file.cache_info().currsize, "
                         "_read_cached.cache_info().currsize)",
                         "from eocic.scoreboard.external import read_ris_2023\n"
                         "from eocic import maps\n"
                         "ris = read_ris_2023(); geometries, _ = maps.load_geometries('data/raw')\n"
                         "print(_read_ris_file.cache_info().misses, "
                         "_read_cached.cache_info().misses, len(ris) > 0, len(geometries) > 0)"],
                        server)
    assert notebook.cells[0].outputs[0]["text"] == "1 1\n"
    # read by the server (one miss each, before the fork), not again by the kernel
    assert notebook.cells[1].outputs[0]["text"] == "1 1 True True\n"


def test_the_server_process_starts_with_the_first_kernel():
    asked = []
    server = KernelServer(REPO_ROOT, study.kernel_environment(),
                          lambda: asked.append(1) or ["pandas"])
    try:
        assert server.pid is None and server.kernels() == [] and asked == []
    finally:
        server.close()  # a study whose stages were all reused: nothing started, nothing left
    assert asked == []



def test_what_the_server_preloads_starts_no_thread():
    # fork copies only the calling thread: a module the server imports before forking
    # (ipykernel.debugger with debugpy, the libraries eocic imports lazily) must start no
    # Python thread, or a kernel could inherit a lock held by a thread it does not have
    # (OpenBLAS's own threads are handled by its fork handlers, as for multiprocessing)
    import subprocess

    from eocic.kernel_server import KERNEL_MODULES, LIBRARY_MODULES

    assert "ipykernel.debugger" in LIBRARY_MODULES
    code = ("import importlib, sys, threading\n"
            "for name in sys.argv[1:]: importlib.import_module(name)\n"
            "print(threading.active_count())")
    done = subprocess.run([sys.executable, "-c", code, *KERNEL_MODULES, *LIBRARY_MODULES],
                          env=os.environ | study.kernel_environment(), capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "1"



def test_the_server_writes_nothing_to_the_terminal(tmp_path):
    # its stderr is the study's terminal: the libraries it imports (debugpy's warning about
    # frozen modules) must not write there
    import subprocess

    from eocic.kernel_server import LIBRARY_MODULES

    server = subprocess.Popen([sys.executable, "-m", "eocic.kernel_server",
                               str(tmp_path / "server.sock"), "pandas", *LIBRARY_MODULES],
                              env=os.environ | study.kernel_environment(), cwd=REPO_ROOT,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline() == "ready\n"
        process = psutil.Process(server.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # its imports are done when its CPU time stops
            before = sum(process.cpu_times()[:2])
            time.sleep(0.5)
            if sum(process.cpu_times()[:2]) - before < 0.01:
                break
        assert "debugpy" in {module.path.split("/site-packages/")[-1].split("/")[0]
                             for module in process.memory_maps()}
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert errors == ""
