"""The stage graph: declared once, checked against what the notebooks read, ordered correctly.

The staleness check is static (nothing is executed): for each stage notebook it collects the
tables the notebook reads itself (``read_table`` / ``load_table`` calls, ``<name>.parquet``
paths) and those read by the eocic modules it imports that read tables (string literals naming
a table, and ``tables.<CONSTANT>`` schemas, in modules calling ``read_table``/``load_table``),
less the stage's own outputs, and asserts that this set equals the declared inputs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from eocic import stage_graph, tables
from eocic.stage_graph import StageGraphError, build_graph, dependencies, downstream, order
from eocic.study import discover_stages

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
_READS = re.compile(r"\b(read_table|load_table)\s*\(")
_DIRECT = re.compile(r"\b(?:read_table|load_table)\s*\([^,()]*(?:\([^()]*\))?[^,()]*,\s*"
                     r"['\"]([a-z_]+)['\"]")
_PARQUET = re.compile(r"['\"/]([a-z_]+)\.parquet['\"]")


def _notebook_code(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


def _imported_eocic_modules(code: str) -> set[str]:
    """Modules named by ``from eocic.x import y`` / ``import eocic.x`` (y a module too when it
    is one)."""
    modules = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("eocic"):
            modules.add(node.module)
            for alias in node.names:
                modules.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith("eocic."))
    return modules


def _module_source(module: str) -> str | None:
    base = REPO_ROOT / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def _schema_constants() -> dict[str, str]:
    return {name: value.name for name, value in vars(tables).items()
            if isinstance(value, tables.TableSchema)}


def _tables_read_by_module(module: str, source: str) -> set[str]:
    """Tables a table-reading module names: string literals equal to a table name and
    ``<alias>.<SCHEMA_CONSTANT>`` attributes, less the tables the module writes (its schema's
    writer names it: ``eocic.pipeline`` names the tables it writes, not reads)."""
    if not _READS.search(source):
        return set()
    found = set()
    constants = _schema_constants()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in tables.SCHEMAS:
            found.add(node.value)
        elif isinstance(node, ast.Attribute) and node.attr in constants:
            found.add(constants[node.attr])
    written = {schema.name for schema in tables.SCHEMAS.values()
               if re.search(rf"\b{re.escape(module)}\.\w+$", schema.writer.split(" (")[0])}
    return found - written


def tables_read_by_notebook(path: Path) -> set[str]:
    code = _notebook_code(path)
    found = set(_DIRECT.findall(code)) | set(_PARQUET.findall(code))
    if re.search(r"\beocic\.load_run\(", code):  # a Run: tables are its attributes
        found |= {name for name in tables.SCHEMAS if re.search(rf"\.{name}\b", code)}
    for module in _imported_eocic_modules(code):
        source = _module_source(module)
        if source is not None:
            found |= _tables_read_by_module(module, source)
    return found & set(tables.SCHEMAS)


def test_every_stage_notebook_is_in_the_graph_and_every_entry_is_a_notebook():
    stems = [stage.stem for stage in discover_stages(NOTEBOOKS)]
    assert sorted(stage_graph.STAGE_INPUTS) == stems
    assert set(stage_graph.EXTRA_REPORT_FILES) <= set(stems)


def test_declared_tables_exist_and_outputs_come_from_the_schemas():
    graph = build_graph(stage_graph.STAGE_INPUTS)
    for node in graph.values():
        assert set(node.inputs) <= set(tables.SCHEMAS), node.stem
        assert set(node.outputs) == {schema.name for schema in tables.SCHEMAS.values()
                                     if schema.stage == node.number}


@pytest.mark.parametrize("stem", sorted(stage_graph.STAGE_INPUTS))
def test_declared_inputs_match_what_the_notebook_reads(stem: str):
    graph = build_graph(stage_graph.STAGE_INPUTS)
    read = tables_read_by_notebook(NOTEBOOKS / f"{stem}.ipynb") - set(graph[stem].outputs)
    assert read == set(graph[stem].inputs), (
        f"{stem} reads {sorted(read)}, the graph declares {sorted(graph[stem].inputs)}: update "
        "STAGE_INPUTS in eocic/stage_graph.py")


def test_the_staleness_check_sees_a_new_read(tmp_path: Path):
    """The check above would fail if a notebook started reading another table."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from eocic.pipeline import load_table\nx = load_table(Path(processed_dir), 'peers')\n"
        "y = Path(processed_dir) / 'stress_test.parquet'")])
    nbformat.write(notebook, tmp_path / "09_new.ipynb")
    assert tables_read_by_notebook(tmp_path / "09_new.ipynb") >= {"peers", "stress_test"}


def test_the_study_graph_lets_independent_stages_run_together():
    needs = dependencies(build_graph(stage_graph.STAGE_INPUTS))
    assert needs["03_scoreboard"] == {"01_data_pipeline", "02_cluster_mapping"}
    assert needs["04_regressions"] == {"01_data_pipeline", "02_cluster_mapping"}
    assert needs["06_stress_test"] == {"01_data_pipeline", "02_cluster_mapping"}
    assert needs["05_region_explorer"] == {"02_cluster_mapping", "03_scoreboard",
                                           "04_regressions"}
    assert downstream(needs, "04_regressions") == {"05_region_explorer"}
    assert downstream(needs, "01_data_pipeline") == set(needs) - {"01_data_pipeline"}
    assert order(needs) == sorted(needs)


def test_undeclared_stages_keep_the_order_of_their_numbers():
    graph = build_graph(["01_a", "02_b", "03_c"], inputs={"01_a": (), "03_c": ()})
    needs = dependencies(graph)
    assert needs == {"01_a": set(), "02_b": {"01_a"}, "03_c": {"02_b"}}


def test_a_cycle_is_refused_naming_the_stages():
    with pytest.raises(StageGraphError, match="cycle among 01_x, 02_y"):
        order({"01_x": {"02_y"}, "02_y": {"01_x"}})
