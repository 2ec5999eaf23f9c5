"""A study run as one object: ``eocic.load_run("demo-2020")``.

A run is the folder ``data/processed/<run_id>/`` its stages wrote (see ``docs/data_dictionary.md``
for every table). :func:`load_run` finds it (a run id is resolved against ``data/processed/``
of the project root, :func:`eocic.config.project_root`; a path is taken as it is) and returns a
:class:`Run`: its parameters (``manifest.json`` of stage 01, and ``reports/<run_id>/run.json``
of the study runner when present), its manifest, and every table present, read on first use
and checked against its schema (:func:`eocic.tables.read_table`)::

    import eocic
    run = eocic.load_run("demo-2020")
    run.tables                       # ['sbs', 'regional_totals', ..., 'regressions', ...]
    run.cluster_mapping              # a DataFrame (also run["cluster_mapping"])
    run.region("DE11").clusters      # that region's clusters in the reference year

This module imports only the standard library at import time, so ``import eocic`` stays fast;
pandas is imported when a table is read.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eocic.errors import EocicError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class RunNotFoundError(EocicError, FileNotFoundError):
    """No run folder for the run id or path given; the message names the folder and the fix."""


def _processed_root() -> Path:
    from eocic.config import project_root

    return project_root() / "data" / "processed"


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def resolve_run(run: str | os.PathLike[str]) -> Path:
    """The run folder of ``run``: a run id (a name without a path separator) as
    ``<project root>/data/processed/<run>``, else the path of an existing folder.

    Raises
    ------
    RunNotFoundError
        Naming the folder looked for, the runs that exist and how to write one.
    """
    text = os.fspath(run)
    root = _processed_root()
    if "/" not in text and os.sep not in text:
        folder = root / text
    else:
        folder = Path(text).expanduser().resolve()
    if folder.is_dir():
        return folder
    # hidden folders are the study runner's staging and moved-aside folders, not runs
    runs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  ) if root.is_dir() else []
    raise RunNotFoundError(
        f"no run folder {folder}; runs in {root}: {', '.join(runs) or 'none'}. Write one with "
        "`eocic study --source demo --year 2020` (run id demo-2020) from the project root, or "
        "pass the path of a run folder (data/processed/<run_id>).")


@dataclasses.dataclass
class Region:
    """One region's rows of a run's tables, in one year.

    Attributes
    ----------
    geo : str
        NUTS-2 code.
    name : str
        Its name (NUTS 2021), or the code when unknown.
    year : int
        The year of the rows (the run's reference year by default).
    rows : dict of DataFrame
        For every table of the run with a ``geo`` column: the region's rows, restricted to
        ``year`` where the table has years (``peers``: the region's peers; ``regressions`` has
        no regions).
    """

    geo: str
    name: str
    year: int | None
    rows: dict[str, "pd.DataFrame"]

    def __getitem__(self, table: str) -> "pd.DataFrame":
        if table not in self.rows:
            raise KeyError(f"{table!r} is not a table of this run with regional rows; tables: "
                           f"{', '.join(self.rows)}")
        return self.rows[table]

    def _get(self, table: str) -> "pd.DataFrame":
        if table not in self.rows:
            raise KeyError(f"{self.geo}: the run has no {table} table (its stage has not run)")
        return self.rows[table]

    @property
    def portfolio(self) -> "pd.DataFrame":
        """Cluster-mapping rows of the ``cluster`` scheme (every category), most stars first,
        then largest employment."""
        rows = self._get("cluster_mapping")
        return (rows[rows["scheme"] == "cluster"]
                .sort_values(["stars", "employment", "category"], ascending=[False, False, True],
                             na_position="last", kind="mergesort").reset_index(drop=True))

    @property
    def clusters(self) -> "pd.DataFrame":
        """The region's clusters (``cluster`` scheme, specialisation star): :attr:`portfolio`
        rows with ``is_cluster``."""
        portfolio = self.portfolio
        return portfolio[portfolio["is_cluster"]].reset_index(drop=True)

    @property
    def scores(self) -> "pd.DataFrame":
        """Scoreboard rows: every index and node."""
        return self._get("scoreboard")

    @property
    def sbs(self) -> "pd.DataFrame":
        """SBS cells: NACE divisions with employment, local units, wages and their flags."""
        return self._get("sbs")

    def __repr__(self) -> str:
        counts = ", ".join(f"{name} {len(frame)}" for name, frame in self.rows.items())
        return f"Region({self.geo} {self.name}, {self.year}; rows: {counts})"


class Run:
    """A study run: parameters, manifest and tables (see the module docstring).

    Tables are attributes (``run.sbs``) and items (``run["sbs"]``), read on first use and
    checked against their schemas (:mod:`eocic.tables`); :attr:`tables` lists those present.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.manifest: dict = _read_json(self.folder / "manifest.json")
        self.source_files: dict = _read_json(self.folder / "source.json")
        record = _read_json(self.folder.parent.parent.parent / "reports" / self.folder.name
                            / "run.json")
        self.record: dict = record
        self.parameters: dict[str, Any] = {**record.get("parameters", {}),
                                           **self.manifest.get("parameters", {})}
        self._cache: dict[str, pd.DataFrame] = {}

    # -- identity ------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def year(self) -> int | None:
        """Reference year of the run (parameter ``year``)."""
        year = self.parameters.get("year")
        return None if year is None else int(year)

    @property
    def status(self) -> str | None:
        """How the study that published the run ended (its tables record ``tables.json``):
        ``complete``, ``failed`` or ``interrupted``; None for a folder no study published (see
        :func:`eocic.run_integrity.verify_tables` to check every table belongs to the run)."""
        return _read_json(self.folder / "tables.json").get("status")

    @property
    def source(self) -> str | None:
        """The ``--source`` of the run: ``demo``, ``eurostat`` or a folder."""
        return self.parameters.get("source", self.source_files.get("kind"))

    # -- tables --------------------------------------------------------------------------
    @property
    def tables(self) -> list[str]:
        """Names of the processed tables present in the run folder, in stage order."""
        from eocic.tables import SCHEMAS, table_path

        return [name for name in SCHEMAS if table_path(self.folder, name).is_file()]

    def table(self, name: str, **where: object) -> "pd.DataFrame":
        """The table ``name``, read on first use and checked against its schema.

        ``where``: keep only the rows whose columns equal these values, e.g.
        ``run.table("cluster_mapping", scheme="cluster", year=run.year)``. The rows are
        selected while the file is read (the cluster mapping holds every region, category,
        scheme and year: about 480,000 rows on the demo, a few thousand per scheme and year);
        a selection is read each time it is asked for, the whole table once.

        Raises
        ------
        eocic.tables.TableNotFoundError
            The table is not in the run (naming the stage that writes it).
        eocic.tables.TableValidationError
            The file breaks its schema.
        KeyError
            A column of ``where`` is not in the table (the message lists its columns).
        """
        from eocic.tables import read_table, schema_of

        if where:
            columns = schema_of(name).column_names  # an unknown table: KeyError naming tables
            unknown = [column for column in where if column not in columns]
            if unknown:
                raise KeyError(f"table {name} has no column {', '.join(map(repr, unknown))}; "
                               f"its columns are {', '.join(columns)}")
            if name in self._cache:
                import numpy as np

                frame = self._cache[name]
                keep = np.ones(len(frame), dtype=bool)
                for column, value in where.items():
                    keep &= (frame[column] == value).to_numpy(dtype=bool, na_value=False)
                return frame[keep].reset_index(drop=True)
            return read_table(self.folder, name,
                              filters=[(column, "==", value) for column, value in where.items()])
        if name not in self._cache:
            self._cache[name] = read_table(self.folder, name)
        return self._cache[name]

    def __getitem__(self, name: str) -> "pd.DataFrame":
        return self.table(name)

    def __getattr__(self, name: str) -> "pd.DataFrame":
        from eocic.tables import SCHEMAS

        if name.startswith("_") or name not in SCHEMAS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.table(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables))

    # -- views ---------------------------------------------------------------------------
    def region(self, geo: str, year: int | None = None) -> Region:
        """The region's rows of every table with regions (:class:`Region`), in ``year``
        (default: the reference year).

        Raises
        ------
        KeyError
            ``geo`` is in none of the run's tables.
        """
        from eocic.nuts import regions
        from eocic.tables import SCHEMAS

        geo = str(geo).strip().upper()
        year = self.year if year is None else int(year)
        rows = {}
        for name in self.tables:
            if "geo" not in SCHEMAS[name].column_names:
                continue
            frame = self.table(name)
            mine = frame[frame["geo"] == geo]
            if year is not None and "year" in frame.columns:
                mine = mine[mine["year"] == year]
            rows[name] = mine.reset_index(drop=True)
        if not any(len(frame) for frame in rows.values()):
            known = sorted(set(self.table("sbs")["geo"])) if "sbs" in self.tables else []
            raise KeyError(f"region {geo!r} has no row in run {self.run_id} ({year}); regions "
                           f"such as {', '.join(known[:5]) or 'none'}")
        names = regions(2021, include_uk=True).set_index("geo")["name"]
        return Region(geo, str(names.get(geo, geo)), year, rows)

    def __repr__(self) -> str:
        status = "" if self.status in (None, "complete") else f", status={self.status!r}"
        return (f"Run({self.run_id!r}, source={self.source!r}, year={self.year}{status}, "
                f"tables={self.tables})")


def load_run(run: str | os.PathLike[str]) -> Run:
    """The run ``run`` (a run id such as ``"demo-2020"``, resolved against
    ``data/processed/`` of the project root, or the path of a run folder) as a :class:`Run`.

    Raises
    ------
    RunNotFoundError
        No such run folder (the message lists the runs there and how to write one).
    """
    return Run(resolve_run(run))
