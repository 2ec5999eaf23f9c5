"""The study's stage graph: which processed tables each stage reads and writes, declared once.

A stage's **outputs** are the tables whose schema names it as their writer
(:attr:`eocic.tables.TableSchema.stage`, the output contract every stage already honours). Its
**inputs** are declared here, in :data:`STAGE_INPUTS`: every table the notebook reads, directly
(:func:`eocic.tables.read_table`, :func:`eocic.pipeline.load_table`) or through the eocic
function it calls (``run_regressions``, ``run_stress_test``, ``RegionExplorer`` ...), whether
required or optional (``missing_ok=True``): an optional table changes what the stage shows, so
the stage must run after the stage writing it and re-run when it changes.
``tests/test_stage_graph.py`` checks the declaration against the notebooks' sources and the
reading functions they import, so it cannot silently go stale.

Rule: stage B **depends on** stage A when one of B's inputs is an output of A. The runner
(:func:`eocic.study.run_study`) starts a stage once every stage it depends on has finished, so
independent stages (03, 04 and 06 once 02 is done) run at the same time, and any ``--stage``
selection runs in a valid order. A stage the graph does not declare (a notebook added without
an entry here, or the small notebooks of the tests) depends on every stage numbered before it,
and every later stage depends on it: the order of the numbers, as before the graph existed.

Non-table inputs (the source's raw files, the map geometries, the shared reference data, the
notebook itself, the parameters and the package version) are part of every stage's cache key
(:func:`eocic.study.stage_cache_key`), not of the graph.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from eocic.errors import EocicError

#: Tables each stage reads (required or optional), by stage stem ``NN_<name>``.
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "01_data_pipeline": (),
    "02_cluster_mapping": ("sbs", "regional_totals", "context", "national_classes"),
    "03_scoreboard": ("sbs", "regional_totals", "demography", "context", "cluster_mapping",
                      "scheme_employment"),
    "04_regressions": ("sbs", "regional_totals", "demography", "context", "cluster_mapping",
                       "scheme_employment"),
    "05_region_explorer": ("cluster_mapping", "scoreboard", "peers", "regressions"),
    "06_stress_test": ("sbs", "regional_totals", "cluster_mapping", "relatedness_density"),
    "07_pilot_regions": ("sbs", "regional_totals", "demography", "context", "cluster_mapping",
                         "scoreboard", "peers"),
}

#: Files a stage writes into the report folder besides those named after it (``NN_<name>.ipynb``,
#: ``NN_<name>.html``, ``logs/NN_<name>.log``, ``tables/NN_<name>_*``): glob patterns relative
#: to ``reports/<run_id>/``. A reused stage's report files are carried into the new run.
EXTRA_REPORT_FILES: dict[str, tuple[str, ...]] = {
    "04_regressions": ("tables/table_*", "tables/coefficients.png"),
}


#: Files a stage writes into the processed folder besides its tables (carried like them).
EXTRA_PROCESSED_FILES: dict[str, tuple[str, ...]] = {
    "01_data_pipeline": ("manifest.json", "validation.json"),
}


class StageGraphError(EocicError, ValueError):
    """The stage graph is inconsistent (a cycle, an unknown table); the message names the
    stages and tables."""


@dataclasses.dataclass(frozen=True)
class StageNode:
    """One stage of the graph: the tables it reads and writes (names of
    :data:`eocic.tables.SCHEMAS`); ``declared`` is False for a stage the graph does not know."""

    stem: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    declared: bool = True

    @property
    def number(self) -> str:
        return self.stem[:2]

    def report_patterns(self) -> tuple[str, ...]:
        """Glob patterns (relative to the report folder) of the files this stage writes there."""
        own = (f"{self.stem}.ipynb", f"{self.stem}.html", f"logs/{self.stem}.log",
               f"tables/{self.stem}_*")
        return own + EXTRA_REPORT_FILES.get(self.stem, ())

    def processed_files(self) -> tuple[str, ...]:
        """File names this stage writes into the processed folder: its tables and extras."""
        return tuple(f"{name}.parquet" for name in self.outputs) + EXTRA_PROCESSED_FILES.get(
            self.stem, ())


def stage_outputs() -> dict[str, tuple[str, ...]]:
    """Tables written by each stage number, from the schemas' output contracts."""
    from eocic import tables

    outputs: dict[str, tuple[str, ...]] = {}
    for schema in tables.SCHEMAS.values():
        outputs[schema.stage] = outputs.get(schema.stage, ()) + (schema.name,)
    return outputs


def build_graph(stems: Iterable[str],
                inputs: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, StageNode]:
    """The nodes of the stages ``stems`` (in number order): declared inputs, outputs from the
    schemas. Stems absent from ``inputs`` (default :data:`STAGE_INPUTS`) are undeclared."""
    inputs = STAGE_INPUTS if inputs is None else inputs
    outputs = stage_outputs() if any(stem in inputs for stem in stems) else {}
    return {stem: (StageNode(stem, tuple(inputs[stem]), outputs.get(stem[:2], ()))
                   if stem in inputs else StageNode(stem, declared=False))
            for stem in sorted(stems)}


def dependencies(graph: Mapping[str, StageNode]) -> dict[str, set[str]]:
    """For each stage, the stages it depends on (see the module docstring for the rule).

    Raises
    ------
    StageGraphError
        A stage reads a table written by a later-numbered stage in a cycle.
    """
    stems = sorted(graph)
    needs: dict[str, set[str]] = {stem: set() for stem in stems}
    for stem in stems:
        node = graph[stem]
        for other in stems:
            if other == stem:
                continue
            earlier = other < stem
            if not node.declared or not graph[other].declared:
                if earlier:
                    needs[stem].add(other)
            elif set(node.inputs) & set(graph[other].outputs):
                needs[stem].add(other)
    order(needs)  # refuses a cycle
    return needs


def order(needs: Mapping[str, set[str]]) -> list[str]:
    """A valid order of the stages (each after the stages it depends on; ties by number)."""
    done: list[str] = []
    remaining = dict(needs)
    while remaining:
        ready = sorted(stem for stem, wanted in remaining.items() if wanted <= set(done))
        if not ready:
            raise StageGraphError(
                f"the stage graph has a cycle among {', '.join(sorted(remaining))}: each reads "
                "a table another writes; fix STAGE_INPUTS in eocic/stage_graph.py")
        done.append(ready[0])
        del remaining[ready[0]]
    return done


def downstream(needs: Mapping[str, set[str]], stem: str) -> set[str]:
    """Every stage that depends on ``stem``, directly or through other stages."""
    found: set[str] = set()
    frontier = [stem]
    while frontier:
        current = frontier.pop()
        for other, wanted in needs.items():
            if current in wanted and other not in found:
                found.add(other)
                frontier.append(other)
    return found


def describe(graph: Mapping[str, StageNode]) -> str:
    """The graph as text: each stage, what it needs and the tables it reads and writes."""
    needs = dependencies(graph)
    lines = []
    for stem in order(needs):
        node = graph[stem]
        after = ", ".join(sorted(needs[stem])) or "-"
        lines.append(f"{stem}: after {after}\n    reads  {', '.join(node.inputs) or '-'}\n"
                     f"    writes {', '.join(node.outputs) or '-'}")
    return "\n".join(lines)
