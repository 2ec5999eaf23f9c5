"""The study runner: parameters injected, failures surfaced, bad input refused before running.

These tests execute small notebooks through papermill with a real kernel, in a temporary
project folder, so they prove the runner's contract without depending on the study's stages.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from eocic import cli
from eocic.config import ConfigError, StudyConfig
from eocic.run_integrity import verify_tables
from eocic.study import StageFailed, discover_stages, run_study

REPO_ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = (
    'year = 1999\nsource = "x"\ndata_dir = "x"\nrun_id = "x"\nprocessed_dir = "x"\n'
    'report_dir = "x"\nlabel = "default label"'
)


def _write_notebook(path: Path, body: str, parameters: str = PARAMETERS) -> None:
    cell = new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "eocic", "display_name": "Python (eocic)",
                                 "language": "python"}
    nbformat.write(nb, path)


ECHO = """
import json
from pathlib import Path
Path(processed_dir).mkdir(parents=True, exist_ok=True)
Path(processed_dir, "params.json").write_text(json.dumps(
    {"year": year, "source": source, "data_dir": data_dir, "run_id": run_id,
     "processed_dir": processed_dir, "label": label, "cwd": str(Path.cwd())}))
print("echo stage done")
"""


@pytest.fixture()
def project(tmp_path: Path, fixtures_dir: Path) -> Path:
    """A project root with two stage notebooks and a folder source with a tiny SBS file."""
    (tmp_path / "notebooks").mkdir()
    _write_notebook(tmp_path / "notebooks" / "01_echo.ipynb", ECHO)
    _write_notebook(tmp_path / "notebooks" / "02_plot.ipynb",
                    "import warnings\nimport matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4]);\n"
                    "warnings.warn('deliberate test warning')")
    source = tmp_path / "source" / "nested"
    source.mkdir(parents=True)
    shutil.copy(fixtures_dir / "study" / "sbs_r_nuts06_r2.tsv", source)
    return tmp_path


def _config(project: Path, **overrides) -> StudyConfig:
    settings = {"source": str(project / "source"), "year": 2014, "root": project,
                "cell_timeout": 120} | overrides
    return StudyConfig(**settings)


def test_parameters_are_injected_and_reports_written(project: Path):
    config = _config(project)
    run = run_study(config, extra_parameters={"label": "injected"}, log=lambda line: None)
    assert run.ok
    assert config.run_id == "local-2014"
    params = json.loads((config.processed_dir / "params.json").read_text())
    # the stages wrote into the run's staging folder, published when the run ended
    staging = config.staged(run.run_token)
    assert params == {
        "year": 2014, "source": str(project / "source"),
        "data_dir": str((project / "source").resolve()), "run_id": "local-2014",
        "processed_dir": str(staging.processed_dir), "label": "injected",
        "cwd": str(project.resolve()),
    }
    assert ".staging-local-2014-" in params["processed_dir"]
    assert not list((project / "data" / "processed").glob(".staging-*"))
    assert not list((project / "reports").glob(".staging-*"))
    assert json.loads((config.processed_dir / "tables.json").read_text())["status"] == "complete"
    for stem in ("01_echo", "02_plot"):
        assert (config.report_dir / f"{stem}.ipynb").exists()
        html = (config.report_dir / f"{stem}.html").read_text()
        assert "<html" in html
    # the plot is embedded in the HTML, not linked
    assert "data:image/png;base64," in (config.report_dir / "02_plot.html").read_text()
    executed = nbformat.read(config.report_dir / "01_echo.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters["label"] == "injected"
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'label = "injected"' in injected[0].source
    assert "echo stage done" in (config.report_dir / "logs" / "01_echo.log").read_text()
    # the page is for readers: no code, no parameter cells (machine paths), a real title
    page = (config.report_dir / "01_echo.html").read_text()
    assert "echo stage done" in page and "mkdir" not in page
    assert "processed_dir" not in page and str(project) not in page
    assert "<title>1. Echo — eocic local-2014</title>" in page and "href=\"index.html\"" in page
    assert "Synthetic demo data" not in page  # a folder source is not the demo
    index = (config.report_dir / "index.html").read_text()
    assert "01_echo.html" in index and "02_plot.html" in index and "complete" in index
    # a warning is not in the page; the log keeps it and the index says so
    assert "deliberate test warning" not in (config.report_dir / "02_plot.html").read_text()
    assert "deliberate test warning" in (config.report_dir / "logs" / "02_plot.log").read_text()
    assert "href='logs/02_plot.log'>log (1 warning)</a>" in index
    assert "href='logs/01_echo.log'>log</a>" in index
    record = json.loads((config.report_dir / "run.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["ok", "ok"]
    assert record["packages"]["papermill"] != "not installed"
    assert record["show_code"] is False
    assert not list(config.report_dir.glob(".*.tmp*"))


def test_show_code_option_shows_code_but_not_the_parameter_cells(project: Path, monkeypatch):
    monkeypatch.chdir(project)
    code = cli.main(["study", "--source", "source", "--year", "2014", "--stage", "01",
                     "--show-code"])
    assert code == 0
    report_dir = project / "reports" / "local-2014"
    page = (report_dir / "01_echo.html").read_text()
    assert "mkdir" in page  # one token of the highlighted code
    assert 'label = "default label"' not in page and str(project) not in page
    assert json.loads((report_dir / "run.json").read_text())["show_code"] is True


def test_failing_stage_stops_run_and_keeps_the_error_visible(project: Path):
    _write_notebook(project / "notebooks" / "02_plot.ipynb",
                    'raise ValueError("deliberate failure for the test")')
    _write_notebook(project / "notebooks" / "03_after.ipynb", "print('should not run')")
    config = _config(project)
    with pytest.raises(StageFailed) as raised:
        run_study(config, log=lambda line: None)
    message = str(raised.value)
    assert "02_plot.ipynb" in message and "ValueError" in message and "cell" in message
    failed = nbformat.read(config.report_dir / "02_plot.ipynb", as_version=4)
    error_outputs = [o for c in failed.cells if c.cell_type == "code" for o in c.outputs
                     if o.output_type == "error"]
    assert error_outputs and error_outputs[0].evalue == "deliberate failure for the test"
    assert "deliberate failure" in (config.report_dir / "02_plot.html").read_text()
    assert (config.report_dir / "01_echo.html").exists()  # earlier outputs stay
    assert not (config.report_dir / "03_after.ipynb").exists()
    record = json.loads((config.report_dir / "run.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["ok", "failed", "not run"]
    assert "FAILED" in (config.report_dir / "index.html").read_text()


def test_cli_exit_codes(project: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(project)
    _write_notebook(project / "notebooks" / "02_plot.ipynb", "1 / 0")
    code = cli.main(["study", "--source", "source", "--year", "2014", "--run-id", "cli"])
    assert code == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert (project / "reports" / "cli" / "02_plot.ipynb").exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--source", "no/such/folder"], "neither 'demo', 'eurostat' nor an existing folder"),
        (["--source", "source", "--year", "2030"], "year 2030 is outside the data"),
        (["--source", "source", "--param", "colour=red"], "unknown notebook parameter(s): colour"),
        (["--source", "source", "--param", "year=2013"], "set by the runner"),
        (["--source", "source", "--run-id", "../escape"], "run id"),
        (["--source", "eurostat"], "eocic fetch"),
        (["--source", "source", "--stage", "09"], "unknown stage"),
    ],
)
def test_bad_input_is_refused_before_any_notebook_runs(project, monkeypatch, capsys, arguments,
                                                       expected):
    monkeypatch.chdir(project)
    code = cli.main(["study", "--year", "2014", *arguments] if "--year" not in arguments
                    else ["study", *arguments])
    assert code == 2
    assert expected in capsys.readouterr().err
    assert not (project / "reports").exists()
    assert not (project / "data" / "processed").exists()


def test_stage_discovery_orders_by_number(tmp_path: Path):
    for name in ("10_last.ipynb", "02_second.ipynb", "01_first.ipynb", "notes.ipynb"):
        _write_notebook(tmp_path / name, "pass")
    assert [s.stem for s in discover_stages(tmp_path)] == ["01_first", "02_second", "10_last"]


def test_config_defaults_and_validation(tmp_path: Path):
    (tmp_path / "notebooks").mkdir()
    assert StudyConfig(source="demo", year=2020, root=tmp_path).run_id == "demo-2020"
    with pytest.raises(ConfigError, match="four-digit year"):
        StudyConfig(source="demo", year=20, root=tmp_path).validate()


def test_eocic_without_arguments_prints_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: eocic") and "study" in out and "fetch" in out


def test_params_lists_declared_parameters_without_running_code(tmp_path: Path, capsys,
                                                               monkeypatch: pytest.MonkeyPatch):
    import nbformat

    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'year = 2020\nlabel = "a#b"  # a "quoted" comment, with = inside\n'
        'limit = open("/etc/passwd")  # never executed\n')
    cell.metadata["tags"] = ["parameters"]
    notebook.cells.append(cell)
    nbformat.write(notebook, folder / "01_first.ipynb")
    from eocic.study import declared_parameters, discover_stages

    declared = declared_parameters(discover_stages(folder)[0])
    assert declared["label"] == {"default": '"a#b"', "help": 'a "quoted" comment, with = inside'}
    assert declared["limit"]["default"] == 'open("/etc/passwd")'
    monkeypatch.chdir(tmp_path)
    assert cli.main(["params"]) == 0
    out = capsys.readouterr().out
    assert '01_first\n  label = "a#b"  # a "quoted" comment' in out
    assert "  year =" not in out  # set by the runner
    # the parameters are read once per version of the file: an edit is seen at once
    declared["year"]["default"] = "mutated by a caller"
    assert declared_parameters(discover_stages(folder)[0])["year"]["default"] == "2020"
    cell.source = "year = 2021  # the reference year\n"
    nbformat.write(notebook, folder / "01_first.ipynb")
    assert declared_parameters(discover_stages(folder)[0]) == {
        "year": {"default": "2021", "help": "the reference year"}}


def test_papermill_reads_every_parameter_the_study_declares():
    """papermill's own parser (used by papermill, JupyterLab's papermill tooling and its log)
    skips a parameter line whose comment holds '=' with 'Unable to parse line'; every shipped
    stage's parameters must be readable by it and equal to what ``eocic study`` accepts."""
    import logging

    import papermill

    from eocic.study import declared_parameters, discover_stages

    for stage in discover_stages(REPO_ROOT / "notebooks"):
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger = logging.getLogger("papermill")
        logger.addHandler(handler)
        try:
            found = list(papermill.inspect_notebook(str(stage.notebook)))
        finally:
            logger.removeHandler(handler)
        assert not [r.getMessage() for r in records if "Unable to parse" in r.getMessage()], stage
        assert found == list(declared_parameters(stage)), stage.notebook.name


def _probe(default_text: str, name: str) -> object:
    """A value of the default's type that differs from it."""
    import ast

    default = ast.literal_eval(default_text)
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 7
    if isinstance(default, float):
        return default + 0.5
    return f"probe-{name}"


def test_every_declared_parameter_reaches_every_stage_declaring_it(tmp_path: Path):
    """For every shipped notebook and every parameter it declares, the value passed with
    ``--param`` (or set by the runner) is what papermill injects into that notebook, a
    parameter declared by several stages (``region``, ``peers``) reaches each of them, and each
    declared parameter is used by the notebook's code (a declared but ignored parameter, as
    ``peers`` once was in stage 03, is accepted and silently does nothing)."""
    import ast
    import re

    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from eocic.study import COMMON_PARAMETERS, declared_parameters, stage_parameters

    (tmp_path / "notebooks").mkdir()
    config = StudyConfig(source="demo", year=2017, root=tmp_path).staged("20260101T000000Z-0")
    stages = discover_stages(REPO_ROOT / "notebooks")
    declared = {stage.stem: declared_parameters(stage) for stage in stages}
    extra = {name: _probe(info["default"], name) for parameters in declared.values()
             for name, info in parameters.items() if name not in COMMON_PARAMETERS}
    assert {"region", "peers", "specs", "t0", "window", "same_sample", "draws"} <= set(extra)
    receivers: dict[str, set[str]] = {}
    for stage in stages:
        assert set(COMMON_PARAMETERS) <= set(declared[stage.stem]), stage.stem
        notebook = load_notebook_node(str(stage.notebook))  # as papermill reads it
        injected_notebook = parameterize_notebook(
            notebook, stage_parameters(stage, config, extra), report_mode=False)
        cell = next(c for c in injected_notebook.cells
                    if "injected-parameters" in c.metadata.get("tags", []))
        injected = {node.targets[0].id: ast.literal_eval(node.value)
                    for node in ast.parse(cell.source).body}
        expected = config.notebook_parameters() | {
            name: extra[name] for name in declared[stage.stem] if name not in COMMON_PARAMETERS}
        assert injected == expected, stage.stem
        assert ".staging-demo-2017-" in injected["processed_dir"]
        assert ".staging-demo-2017-" in injected["report_dir"]
        for name in injected:
            receivers.setdefault(name, set()).add(stage.stem)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code"
                         and "parameters" not in c.metadata.get("tags", []))
        unused = [name for name in declared[stage.stem] if name not in ("source",)
                  and not re.search(rf"\b{name}\b", code)]
        assert unused == [], f"{stage.stem} declares but never uses {unused}"
    for name in extra:
        assert receivers[name] == {stem for stem, parameters in declared.items()
                                   if name in parameters}, name


# -- the stage graph: concurrency, failures and the stage cache -------------------------------

GRAPH_PARAMETERS = PARAMETERS + '\nmeet = False'

#: 01 writes sbs; 02 and 03 read it (02 -> cluster_mapping, 03 -> scoreboard, stamped with
#: ``window``); 04 reads scoreboard. With ``meet``, 02 and 03 wait (bounded) until both have
#: started, so the run proves they ran at the same time.
GRAPH_STAGES = {
    "01_base": ((), """
import pandas as pd
from pathlib import Path
pd.DataFrame({"label": [label]}).to_parquet(Path(processed_dir, "sbs.parquet"))
"""),
    "02_left": (("sbs",), """
import time
import pandas as pd
from pathlib import Path
Path(processed_dir, "02.started").touch()
deadline = time.monotonic() + 120
while meet and not Path(processed_dir, "03.started").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
together = Path(processed_dir, "03.started").exists()
pd.DataFrame({"together": [together]}).to_parquet(Path(processed_dir, "cluster_mapping.parquet"))
"""),
    "03_right": (("sbs",), """
import time
import pandas as pd
from pathlib import Path
Path(processed_dir, "03.started").touch()
deadline = time.monotonic() + 120
while meet and not Path(processed_dir, "02.started").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
sbs = pd.read_parquet(Path(processed_dir, "sbs.parquet"))
pd.DataFrame({"window": [window], "label": sbs["label"]}).to_parquet(
    Path(processed_dir, "scoreboard.parquet"))
"""),
    "04_after": (("scoreboard",), """
import pandas as pd
from pathlib import Path
board = pd.read_parquet(Path(processed_dir, "scoreboard.parquet"))
board.to_parquet(Path(processed_dir, "regressions.parquet"))
"""),
}
GRAPH_INPUTS = {stem: inputs for stem, (inputs, _) in GRAPH_STAGES.items()}


def _write_graph_notebook(project: Path, stem: str, body: str | None = None) -> None:
    """Stage ``stem`` of the graph project; only 03 declares ``window``."""
    parameters = GRAPH_PARAMETERS + ("\nwindow = 5" if stem == "03_right" else "")
    _write_notebook(project / "notebooks" / f"{stem}.ipynb",
                    GRAPH_STAGES[stem][1] if body is None else body, parameters)


@pytest.fixture()
def graph_project(tmp_path: Path, fixtures_dir: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    for stem in GRAPH_STAGES:
        _write_graph_notebook(tmp_path, stem)
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(fixtures_dir / "study" / "sbs_r_nuts06_r2.tsv", source)
    return tmp_path


def _graph_run(project: Path, **options) -> dict:
    """Run the graph project; return ``{stem: (status, cache)}`` from the published run.json."""
    options = {"jobs": 2, "graph_inputs": GRAPH_INPUTS, "log": lambda line: None} | options
    try:
        run_study(_config(project, run_id="graph"), **options)
    finally:
        for marker in (project / "data" / "processed" / "graph").glob("*.started"):
            marker.unlink()
    record = json.loads((project / "reports" / "graph" / "run.json").read_text())
    return {stage["stage"]: (stage["status"], stage["cache"]) for stage in record["stages"]}


def test_independent_stages_run_at_the_same_time_and_in_a_valid_order(graph_project: Path):
    import pandas as pd

    stages = _graph_run(graph_project, extra_parameters={"meet": True})
    assert {status for status, _ in stages.values()} == {"ok"}
    processed = graph_project / "data" / "processed" / "graph"
    assert pd.read_parquet(processed / "cluster_mapping.parquet")["together"].item()
    # each stage's log holds its own cell output only
    log_02 = (graph_project / "reports" / "graph" / "logs" / "02_left.log").read_text()
    assert "03.started" not in log_02 or "02.started" in log_02


def test_a_failure_stops_only_the_stages_that_depend_on_it(graph_project: Path):
    _write_graph_notebook(graph_project, "03_right",
                          'raise ValueError("stage 03 breaks on purpose")')
    with pytest.raises(StageFailed, match="stage 03 breaks on purpose"):
        _graph_run(graph_project, jobs=1)
    record = json.loads((graph_project / "reports" / "graph" / "run.json").read_text())
    statuses = {stage["stage"]: stage["status"] for stage in record["stages"]}
    assert statuses == {"01_base": "ok", "02_left": "ok", "03_right": "failed",
                        "04_after": "not run"}
    assert "depends on 03_right" in record["stages"][3]["error"]
    # the failed stage (and the one not run) leave no cache entry a later run would trust
    cache = json.loads((graph_project / "data" / "processed" / "graph" /
                        "stage_cache.json").read_text())
    assert set(cache) == {"01_base", "02_left"}
    _write_graph_notebook(graph_project, "03_right")
    stages = _graph_run(graph_project)
    assert stages["03_right"] == ("ok", "miss: no cache entry")
    assert stages["04_after"][0] == "ok" and stages["01_base"] == ("reused", "hit")


def test_an_unchanged_rerun_reuses_every_stage_and_force_reruns(graph_project: Path):
    first = _graph_run(graph_project)
    processed = graph_project / "data" / "processed" / "graph"
    tables_before = verify_tables(processed)["tables"]
    second = _graph_run(graph_project)
    assert second == {stem: ("reused", "hit") for stem in GRAPH_STAGES}
    # the reused stages' tables, pages and logs were carried into the new run
    assert verify_tables(processed)["tables"] == tables_before
    for stem in GRAPH_STAGES:
        assert (graph_project / "reports" / "graph" / f"{stem}.html").is_file()
        assert (graph_project / "reports" / "graph" / "logs" / f"{stem}.log").is_file()
    assert "reused" in (graph_project / "reports" / "graph" / "index.html").read_text()
    forced = _graph_run(graph_project, force=True)
    assert forced == {stem: ("ok", "forced (--force)") for stem in GRAPH_STAGES}
    assert set(first.values()) == {("ok", "miss: no cache entry")}


def test_a_changed_parameter_reruns_its_stage_and_what_depends_on_it(graph_project: Path):
    _graph_run(graph_project)
    stages = _graph_run(graph_project, extra_parameters={"window": 4})
    assert stages["01_base"] == ("reused", "hit") and stages["02_left"] == ("reused", "hit")
    assert stages["03_right"][0] == "ok" and stages["04_after"][0] == "ok"
    assert stages["03_right"][1].startswith("miss: inputs, parameters")


def test_a_changed_notebook_reruns_it(graph_project: Path):
    _graph_run(graph_project)
    _write_graph_notebook(graph_project, "04_after",
                          GRAPH_STAGES["04_after"][1] + "\nprint('edited')")
    stages = _graph_run(graph_project)
    assert stages["04_after"][0] == "ok" and stages["03_right"] == ("reused", "hit")


def test_edited_eocic_code_reruns_every_stage(graph_project: Path, monkeypatch):
    from eocic import shared_work

    _graph_run(graph_project)
    monkeypatch.setattr(shared_work, "code_fingerprint", lambda: "an edited estimator")
    stages = _graph_run(graph_project)
    assert {status for status, _ in stages.values()} == {"ok"}
    assert all(cache.startswith("miss") for _, cache in stages.values())


def test_a_tampered_or_damaged_published_run_is_not_trusted(graph_project: Path):
    import pandas as pd

    _graph_run(graph_project)
    processed = graph_project / "data" / "processed" / "graph"
    pd.DataFrame({"label": ["edited by hand"]}).to_parquet(processed / "sbs.parquet")
    stages = _graph_run(graph_project)
    assert stages["01_base"] == ("ok", "miss: published sbs.parquet missing or changed")
    assert pd.read_parquet(processed / "sbs.parquet")["label"].item() == "default label"
    (processed / "stage_cache.json").write_text("{not json")
    stages = _graph_run(graph_project)
    assert {status for status, _ in stages.values()} == {"ok"}


def test_jobs_must_be_a_positive_number(graph_project: Path):
    with pytest.raises(ConfigError, match="jobs must be a positive whole number of stages, "
                                          "got 0"):
        run_study(_config(graph_project), jobs=0, log=lambda line: None)


def test_years_parse_as_ranges_and_lists():
    from eocic.config import parse_years

    assert parse_years("2010-2013") == [2010, 2011, 2012, 2013]
    assert parse_years("2014, 2017,2020") == [2014, 2017, 2020]
    assert parse_years("2010-2011,2011,2020") == [2010, 2011, 2020]
    for bad, message in (("2020-2010", "runs backwards; write 2010-2020"),
                         ("20x0", "neither a year nor a range"),
                         ("1900-1901", "1900 is outside")):
        with pytest.raises(ConfigError, match=message):
            parse_years(bad)


def test_a_stage_gives_its_slot_back_before_its_notebook_is_rendered(project: Path,
                                                                     monkeypatch):
    # the runs of run_years share the slots: rendering is the runner's work, so the next
    # stage's kernel may start while a stage is rendered; the slot is given back only once
    from eocic import study
    from eocic.study import StageSlots, run_study

    slots = StageSlots(1)
    free_while_rendering = []
    render = study.report.render_notebook_html

    def watched_render(*args, **kwargs):
        taken = slots.acquire()
        free_while_rendering.append(taken)
        if taken:
            slots.release()
        return render(*args, **kwargs)

    monkeypatch.setattr(study.report, "render_notebook_html", watched_render)
    run_study(_config(project), jobs=1, slots=slots, log=lambda line: None)
    assert free_while_rendering == [True, True]
    # both slots' uses ended: exactly one slot is free again, not two
    assert slots.acquire() and not slots.acquire()


def test_many_years_run_each_year_and_write_the_run_across_years(project: Path):
    from eocic.study import run_years

    lines: list[str] = []
    run = run_years(_config(project), [2014, 2013], run_id="span", jobs=2, log=lines.append)
    assert run.ok and run.years == [2013, 2014]
    for year in (2013, 2014):
        params = json.loads((project / "data" / "processed" / f"span-{year}" /
                             "params.json").read_text())
        assert params["year"] == year and params["run_id"] == f"span-{year}"
        assert (project / "reports" / f"span-{year}" / "index.html").is_file()
    page = (project / "reports" / "span" / "index.html").read_text()
    assert "href='../span-2013/index.html'" in page and "href='../span-2014/index.html'" in page
    record = json.loads((project / "reports" / "span" / "years.json").read_text())
    assert [(row["year"], row["status"]) for row in record["years"]] == [
        (2013, "complete"), (2014, "complete")]
    # the echo stages write no analysis table: the key figures exist, typed, and are empty
    from eocic import tables

    assert tables.read_table(project / "data" / "processed" / "span", "key_figures").empty
    assert any(line.startswith("[2013] ") for line in lines)


def test_many_years_read_each_years_key_figures_when_that_year_ends(project: Path, monkeypatch):
    # the figures of a year are read in that year's thread once its run is published, while
    # the other years run: not all at the end of the study, when nothing else is running
    import threading

    from eocic import timeline
    from eocic.study import run_years

    calls = []
    read = timeline.run_figures

    def watched(processed_dir, year, run_id, names=None):
        calls.append((year, threading.current_thread().name,
                      (Path(processed_dir) / "tables.json").is_file()))
        return read(processed_dir, year, run_id, names)

    monkeypatch.setattr(timeline, "run_figures", watched)
    run = run_years(_config(project), [2013, 2014], run_id="span", jobs=2, log=lambda line: None)
    assert run.ok and sorted(year for year, _, _ in calls) == [2013, 2014]
    # in the years' threads, on the published run (its tables' record is there)
    assert all(name.startswith("eocic-year") and published for _, name, published in calls)


def test_many_years_run_again_reuse_every_stage(graph_project: Path):
    from eocic.study import run_years

    options = {"run_id": "span", "jobs": 2, "graph_inputs": GRAPH_INPUTS,
               "log": lambda line: None}
    first = run_years(_config(graph_project), [2013, 2014], **options)
    again = run_years(_config(graph_project), [2013, 2014], **options)
    assert {result.status for each in first.runs.values() for result in each.results} == {"ok"}
    assert {result.status for each in again.runs.values() for result in each.results} == {
        "reused"}


def test_a_failing_year_still_gets_the_page_across_years(project: Path):
    from eocic.study import run_years

    _write_notebook(project / "notebooks" / "02_plot.ipynb",
                    "if year == 2013:\n    raise ValueError('no data for 2013 on purpose')")
    with pytest.raises(StageFailed, match="a stage failed in 2013.*no data for 2013 on purpose"):
        run_years(_config(project), [2013, 2014], run_id="span", jobs=1, log=lambda line: None)
    record = json.loads((project / "reports" / "span" / "years.json").read_text())
    assert [(row["year"], row["status"]) for row in record["years"]] == [
        (2013, "failed"), (2014, "complete")]
    assert "no data for 2013 on purpose" in record["errors"]["2013"]


def test_progress_weights_come_from_the_previous_run(tmp_path: Path):
    from eocic.progress import stage_weights

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.json").write_text(json.dumps({"stages": [
        {"stage": "01_x", "status": "ok", "seconds": 10.0},
        {"stage": "02_y", "status": "reused", "seconds": 0.0}]}))
    weights = stage_weights(["01_x", "02_y"], {2019: tmp_path / "a", 2020: tmp_path / "b"})
    # the year's own previous run, else the mean over other years, else one unit
    assert weights == {(2019, "01_x"): 10.0, (2020, "01_x"): 10.0, (2019, "02_y"): 1.0,
                       (2020, "02_y"): 1.0}


def test_progress_bars_count_stages_and_leave_reused_work_out_of_the_time_left(tmp_path):
    import io

    from eocic.progress import StudyProgress

    stream = io.StringIO()
    progress = StudyProgress(["01_x", "02_y"], {2019: tmp_path / "a", 2020: tmp_path / "b"},
                             stream=stream)
    assert progress.total.total == 4  # one unit per stage without a previous run
    progress.stage_finished(2019, "01_x", "reused", 0.0)
    assert progress.total.total == 3 and progress.total.n == 0
    for year, stem in ((2019, "02_y"), (2020, "01_x"), (2020, "02_y"), (2020, "02_y")):
        progress.stage_finished(year, stem, "ok", 1.0)
    assert progress.total.n == progress.total.total == 3  # the repeated event counted once
    assert progress.years[2019].n == progress.years[2020].n == 2
    progress.write("a log line")
    progress.close()
    shown = stream.getvalue()
    assert "a log line" in shown and "2/2 stages" in shown and "100%" in shown


def test_progress_of_a_study_whose_stages_are_all_reused_ends_at_100_percent(tmp_path):
    import io

    from eocic.progress import StudyProgress

    stream = io.StringIO()
    progress = StudyProgress(["01_x", "02_y"], {2019: tmp_path / "a", 2020: tmp_path / "b"},
                             stream=stream)
    for year, stem in ((2019, "01_x"), (2019, "02_y"), (2020, "01_x")):
        progress.stage_finished(year, stem, "reused", 0.0)
    assert progress.total.n == 0 and progress.total.total == 1  # one stage still to come
    progress.stage_finished(2020, "02_y", "reused", 0.0)
    assert progress.total.n == progress.total.total
    progress.close()
    assert stream.getvalue().rstrip().splitlines()[-1].split("\r")[-1].startswith("study")
    assert " 100% " in stream.getvalue().split("\r")[-1]


def test_kernels_hash_strings_the_same_way_in_every_run(project: Path, monkeypatch):
    # set iteration order inside the stages must not change from run to run (it moved the
    # regression coefficients' last bits): the kernels get PYTHONHASHSEED=0, whatever the
    # environment exports (pytest-xdist exports a seed of its own)
    monkeypatch.setenv("PYTHONHASHSEED", "6640")
    _write_notebook(project / "notebooks" / "02_plot.ipynb",
                    "import os\nfrom pathlib import Path\n"
                    "Path(processed_dir, 'hash.txt').write_text("
                    "os.environ['PYTHONHASHSEED'] + ' ' + str(hash('eocic')))")
    seen = set()
    for _ in range(2):
        config = _config(project)
        run_study(config, log=lambda line: None, force=True)
        seen.add((config.processed_dir / "hash.txt").read_text())
    assert len(seen) == 1 and seen.pop().startswith("0 ")
