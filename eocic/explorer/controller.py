"""The logic of the region explorer: the run's tables, the current region and peers, and the
table, title and figure of every tab. No widgets here: the controller is tested headless.

Inputs (``data/processed/<run_id>/``; any may be missing, its tabs then show which stage to
run instead of a traceback):

``cluster_mapping.parquet`` (stage 02)
    geo, scheme (sector | cluster | emerging), category, category_name, year, employment,
    lq, growth (fraction per year), relative_wage, stars (0-3), size_star,
    specialisation_star, productivity_star, is_cluster, performance_class, ...
``scoreboard.parquet`` (stage 03)
    index_code, geo, year, level (indicator | subdimension | dimension | index), code, name,
    score (0-100), rank, rank_p05, rank_p95 (5-95 % rank interval), imputed_share
``peers.parquet`` (stage 03)
    geo, peer, distance, rank (1 = nearest)
``regressions.parquet`` (stage 04)
    spec, model, term, coef, se, pvalue, ci_low, ci_high, nobs

Every table is read with :func:`eocic.tables.read_table`, so it is checked against its schema
(:mod:`eocic.tables`, ``docs/data_dictionary.md``).

What is served (issue 15): a run id from the URL or the environment must be a run id
(:func:`eocic.config.is_valid_run_id`) naming a folder directly under ``data/processed`` once
symlinks are followed (:func:`find_run`); messages list only that folder's runs and print no
machine path. A served explorer refuses a run whose tables do not all belong to the run that
published them (:func:`eocic.run_integrity.verify_tables`, ``tables.json``). Notebook 05 shows
these errors in the page (:func:`eocic.explorer.app.error_html`).

Strengths and weaknesses follow the scoreboard's rule (:func:`eocic.scoreboard.peers.
peer_comparison`, the one definition): the difference ``score_region - mean(score_peers)``,
divided by the node's standard deviation over all regions of the year, is a strength if
>= +0.5 and a weakness if <= -0.5 (never a ratio of scores, which depends on the scale's
zero). Users choose at most :data:`MAX_PEERS` peers (as the EOCIC scoreboard tool does).

Speed: tables are read and split by region once per run (:class:`RegionExplorer` init);
every tab's content is cached per (tab, region, peers, scheme, year, choice), so a region
change costs one selection from a dictionary plus the figure of the visible tab.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eocic import tables as schemas
from eocic.config import RUN_ID_RULE, is_valid_run_id
from eocic.errors import EocicError
from eocic.explorer import figures
from eocic.models.variables import VARIABLE_LABELS
from eocic.run_integrity import TABLES_RECORD, verify_tables
from eocic.scoreboard.peers import STRENGTH_SD, peer_comparison

MAX_PEERS = 5
#: Table files of a run, the stage that writes each, and the tabs that need them.
TABLES = {
    "cluster_mapping": ("02", "cluster mapping"),
    "scoreboard": ("03", "scoreboard"),
    "peers": ("03", "scoreboard"),
    "regressions": ("04", "regressions"),
}
TABS = ("portfolio", "scoreboard", "development", "regressions", "map")
#: Tab labels: short enough for the widget's tab width (about 14 characters are shown).
TAB_TITLES = {"portfolio": "Clusters", "scoreboard": "Scoreboard", "development": "Over time",
              "regressions": "Regressions", "map": "Map"}
LEVEL_ORDER = ("index", "dimension", "subdimension", "indicator")
MAP_KINDS = ("lq", "stars", "score")
PORTFOLIO_COLUMNS = ["category", "category_name", "employment", "lq", "growth",
                     "relative_wage", "size_star", "specialisation_star", "productivity_star",
                     "stars", "performance_class", "flag"]
#: Terms left out of the coefficient chart (intercepts and fixed effects).
_NUISANCE_PREFIXES = ("Intercept", "const", "C(", "fe_", "year_", "country_")


class ExplorerError(EocicError, ValueError):
    """A choice the explorer cannot show (unknown region, no run); the message names the fix."""


@dataclass
class Panel:
    """What one tab shows for the current selection.

    Attributes
    ----------
    key : str
        Tab key (one of :data:`TABS`).
    title : str
        Heading, naming the region and the year.
    table : DataFrame
        The tab's table (empty when its input is missing).
    message : str
        Shown instead of the content when an input table is missing (``"... run stage 02
        first"``), empty otherwise.
    notes : list of str
        Remarks shown under the heading (fallbacks, what is not available).
    extra : dict of DataFrame
        Further tables of the tab (e.g. ``strengths``, ``weaknesses``, ``ranks``).
    """

    key: str
    title: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    message: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    draw: Callable[[], Figure] | None = None
    extra_draw: dict[str, Callable[[], Figure]] = field(default_factory=dict)
    _figure: Figure | None = None
    _png: bytes | None = None

    def figure(self) -> Figure | None:
        """The tab's figure (drawn on first use, then kept); ``None`` when the input is missing."""
        if self._figure is None and self.draw is not None:
            self._figure = self.draw()
        return self._figure

    def png(self) -> bytes | None:
        """The figure as PNG bytes, or ``None``."""
        if self._png is None:
            figure = self.figure()
            self._png = None if figure is None else figures.png_bytes(figure)
        return self._png


# --------------------------------------------------------------------------- runs

def _run_tables(folder: Path) -> list[Path]:
    return [folder / f"{name}.parquet" for name in TABLES if (folder / f"{name}.parquet").exists()]


def _shown(value: object, width: int = 60) -> str:
    """``value`` as a message may quote it: ``repr`` (NUL bytes, newlines and quotes visible),
    cut to about ``width`` characters so a long URL parameter cannot flood the page."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _run_folders(root: Path) -> list[Path]:
    """The run folders of ``root``: children whose name is a valid run id and whose real path
    (symlinks followed) is a child of ``root``'s real path. A symlink to a folder elsewhere
    is not a run of this project and is never listed or read."""
    if not root.is_dir():
        return []
    real_root = root.resolve()
    return [path for path in sorted(root.iterdir())
            if is_valid_run_id(path.name) and path.is_dir()
            and path.resolve().parent == real_root]


def latest_run(processed_root: str | os.PathLike[str]) -> Path | None:
    """The run folder under ``processed_root`` (``data/processed``) that was written last.

    Only run folders count (a valid run id as name, inside ``processed_root`` once symlinks
    are followed: :func:`find_run`'s rule). Runs holding at least one explorer table (cluster
    mapping, scoreboard, peers, regressions) come first, published runs (with a tables record,
    :mod:`eocic.run_integrity`) before runs without one; among them the newest by the
    modification time of those tables. Without any, the newest folder holding a ``.parquet``
    file; ``None`` if none.
    """
    folders = _run_folders(Path(processed_root))
    with_tables = [((f / TABLES_RECORD).is_file(), max(p.stat().st_mtime for p in _run_tables(f)),
                    f.name, f) for f in folders if _run_tables(f)]
    if with_tables:
        return max(with_tables)[3]
    with_parquet = [(max(p.stat().st_mtime for p in f.glob("*.parquet")), f.name, f)
                    for f in folders if any(f.glob("*.parquet"))]
    return max(with_parquet)[2] if with_parquet else None


def find_run(processed_root: str | os.PathLike[str], run_id: str | None = None) -> Path:
    """The run folder ``processed_root/run_id`` (symlinks followed), or the :func:`latest_run`
    when ``run_id`` is empty.

    ``run_id`` comes from a URL or the environment, so it is checked before it touches the
    file system: it must be a valid run id (:func:`eocic.config.is_valid_run_id`: no ``/``,
    ``..``, absolute path, NUL byte or ``%``-escape can pass) and the folder's real path must
    be a child of ``processed_root``'s real path (a symlink pointing elsewhere is refused).
    Messages never list or probe any folder but ``processed_root``, and name it only as
    :func:`eocic.presentation.display_path` does (no machine paths in a served page).

    Raises
    ------
    ExplorerError
        If ``run_id`` is not a valid run id, leaves ``processed_root``, or names no run folder
        (the message lists the runs of ``processed_root``), or there is no run at all.
    """
    from eocic.presentation import display_path

    root = Path(processed_root)
    shown_root = display_path(root)
    if run_id:
        if not is_valid_run_id(run_id):
            raise ExplorerError(f"run id {_shown(run_id)} is not a run id: a run id has "
                                f"{RUN_ID_RULE}, e.g. demo-2020 (the folder name under "
                                f"{shown_root})")
        runs = _run_folders(root)
        folder = root / run_id
        if folder.is_symlink() and folder.resolve().parent != root.resolve():
            raise ExplorerError(f"run {run_id!r} is a link to a folder outside {shown_root}; "
                                "the explorer only reads runs inside it (make study writes "
                                "one there)")
        if folder not in runs:
            raise ExplorerError(f"run {run_id!r} not found in {shown_root}; runs there: "
                                f"{', '.join(p.name for p in runs) or 'none'} (make study "
                                "writes one)")
        return folder.resolve()
    folder = latest_run(root)
    if folder is None:
        raise ExplorerError(f"no run under {shown_root}; run the study first: make study")
    return folder.resolve()


def is_served(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the notebook runs under voila (``SERVER_SOFTWARE`` starts with ``voila``): then
    the run and the selection come from the URL, and errors are shown in the page."""
    environ = os.environ if environ is None else environ
    return str(environ.get("SERVER_SOFTWARE", "")).startswith("voila")


def settings_from_environment(defaults: Mapping[str, object],
                              environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Explorer settings when the notebook is served by voila (papermill parameters do not
    apply there).

    Under voila (:func:`is_served`) the run, region and peers come from the URL query
    (``?run_id=demo-2020&region=FR10&peers=FR71,ITC4``), else from the environment of ``make
    explore`` (``EOCIC_RUN_ID``, ``EOCIC_REGION``, ``EOCIC_PEERS``), else the newest run under
    ``data/processed`` (``run_id`` empty). The run id is checked by :func:`find_run` (pattern
    and containment in ``data/processed``). ``EOCIC_PROCESSED_DIR`` (a run folder anywhere,
    set by whoever starts the server; the browser test uses it) replaces the run unless the
    URL names one; its last part must be a run id too. The reference year is the run's own
    (``parameters.year`` of its ``manifest.json``), and the scheme ``cluster``, unless the URL
    sets ``year`` (four digits) or ``scheme`` (one of
    :data:`eocic.clusters.definitions.SCHEMES`). Outside voila the ``defaults`` (the
    notebook's papermill parameters) are returned unchanged, with ``served=False``.

    Region and peers are passed on as given: :class:`RegionExplorer` checks them against the
    run and says what it shows instead; every page escapes them.

    Returns
    -------
    dict
        ``defaults`` updated with ``run_id``, ``processed_dir``, ``region``, ``peers``,
        ``year`` (int or None), ``scheme`` and ``served`` (bool).

    Raises
    ------
    ExplorerError
        For a run id that is not one or not a run (:func:`find_run`), a ``year`` that is not
        four digits, an unknown ``scheme``, or a damaged ``manifest.json``.
    """
    from eocic.clusters.definitions import SCHEMES

    environ = os.environ if environ is None else environ
    settings = dict(defaults)
    served = is_served(environ)
    settings["served"] = served
    if not served:
        return settings
    query = {key: values[-1] for key, values in
             urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
    for key in ("run_id", "region", "peers"):
        value = query.get(key, environ.get(f"EOCIC_{key.upper()}", ""))
        if key == "run_id" or value:
            settings[key] = value
    if environ.get("EOCIC_PROCESSED_DIR") and "run_id" not in query:
        fixed = Path(environ["EOCIC_PROCESSED_DIR"])
        if not is_valid_run_id(fixed.name):
            raise ExplorerError("EOCIC_PROCESSED_DIR must be a run folder, whose name is a run "
                                f"id ({RUN_ID_RULE}), not {_shown(fixed.name)}")
        if not fixed.is_dir():   # not find_run's message: it would list the folder above
            raise ExplorerError(f"EOCIC_PROCESSED_DIR names no run folder ({fixed.name!r} is "
                                "not a folder); set it to data/processed/<run_id> of a run")
        settings["processed_dir"] = str(find_run(fixed.parent, fixed.name))
    else:
        processed_root = Path(str(defaults.get("processed_dir", "data/processed/x"))).parent
        settings["processed_dir"] = str(find_run(processed_root,
                                                 settings.get("run_id") or None))
    settings["run_id"] = Path(str(settings["processed_dir"])).name
    settings["year"] = run_year(Path(str(settings["processed_dir"])))
    if "year" in query:
        if not re.fullmatch(r"[0-9]{4}", query["year"]):
            raise ExplorerError(f"year {_shown(query['year'])} in the address is not a "
                                "four-digit year such as 2020; leave it out for the run's own "
                                "reference year")
        settings["year"] = int(query["year"])
    if "scheme" in query and query["scheme"] not in SCHEMES:
        raise ExplorerError(f"scheme {_shown(query['scheme'])} in the address is not one of "
                            f"{', '.join(SCHEMES)}; leave it out for 'cluster'")
    settings["scheme"] = query.get("scheme") or settings.get("scheme") or "cluster"
    return settings


def run_year(processed_dir: Path) -> int | None:
    """The reference year of a run: ``parameters.year`` of its ``manifest.json`` (None when
    the run has no manifest).

    Raises
    ------
    ExplorerError
        If ``manifest.json`` cannot be read as JSON or has no integer ``parameters.year``.
    """
    manifest = Path(processed_dir) / "manifest.json"
    if not manifest.exists():
        return None
    fix = (f"manifest.json of run {Path(processed_dir).name!r} is damaged; re-run the study for "
           "this run id")
    try:
        year = json.loads(manifest.read_text(encoding="utf-8"))["parameters"]["year"]
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExplorerError(f"{fix} (not JSON: {error})") from error
    except (KeyError, TypeError) as error:
        raise ExplorerError(f"{fix} (no parameters.year)") from error
    if isinstance(year, bool) or not isinstance(year, int):
        raise ExplorerError(f"{fix} (parameters.year is {_shown(year)}, not a year)")
    return year


def region_names_2021() -> dict[str, str]:
    """NUTS-2 2021 names (UK included) by code, from :func:`eocic.nuts.regions`."""
    from eocic import nuts
    frame = nuts.regions(2021, include_uk=True)
    return dict(zip(frame["geo"], frame["name"]))


# --------------------------------------------------------------------------- controller

class RegionExplorer:
    """Tables of one run and the explorer's current selection.

    Parameters
    ----------
    processed_dir : path
        ``data/processed/<run_id>``.
    year : int, optional
        Reference year; default the latest year of the cluster mapping (a missing year falls
        back to the latest earlier one, with a note).
    scheme : str
        Cluster-mapping scheme: ``cluster`` (default), ``sector`` or ``emerging``.
    region_names : mapping, optional
        NUTS code -> name (default: :func:`region_names_2021`).
    geometries : DataFrame, optional
        :func:`eocic.maps.read_geometries` of the NUTS-2 polygons, for the map tab.
    region : str, optional
        Initial region (default: the first region of the data).
    verify : bool
        Check first that every table of the folder belongs to the run that published it
        (:func:`eocic.run_integrity.verify_tables`): default ``True``, what a served explorer
        needs (a killed, failed or re-run study must not show tables of two runs as one).
        Stage 05 of a study reads its own run while the study is still writing it (the
        tables record is written when the run is published), so it passes ``False``.

    Raises
    ------
    eocic.run_integrity.RunIntegrityError
        With ``verify``: the folder has no tables record, a record of another run, or a table
        missing, changed or not listed (the message names the table and says to re-run).
    """

    def __init__(self, processed_dir: str | os.PathLike[str], *, year: int | None = None,
                 scheme: str = "cluster", region_names: Mapping[str, str] | None = None,
                 geometries: pd.DataFrame | None = None, region: str | None = None,
                 cache_size: int = 256, verify: bool = True) -> None:
        from eocic.presentation import display_path

        self.processed_dir = Path(processed_dir)
        self.run_id = self.processed_dir.name
        #: the published run's status (tables.json): complete, failed or interrupted
        self.run_status = verify_tables(self.processed_dir)["status"] if verify else None
        self.tables: dict[str, pd.DataFrame | None] = {}
        self.missing: dict[str, str] = {}
        for name, (stage, label) in TABLES.items():
            path = schemas.table_path(self.processed_dir, name)
            # the explorer shows one scheme: only its rows of the cluster mapping are read
            # (the whole table when the scheme is absent, for the fallback below)
            only = [("scheme", "==", scheme)] if name == "cluster_mapping" else None
            self.tables[name] = schemas.read_table(self.processed_dir, name, missing_ok=True,
                                                   filters=only)
            if only and self.tables[name] is not None and self.tables[name].empty:
                self.tables[name] = schemas.read_table(self.processed_dir, name)
            if self.tables[name] is None:
                self.missing[name] = (
                    f"{path.name} not found in {display_path(self.processed_dir)}: run "
                    f"stage {stage} "
                    f"({label}) first, e.g. `eocic study --stage {stage} --run-id "
                    f"{self.run_id}` (the stages before it must have run).")
        self.geometries = geometries
        self.names = dict(region_names) if region_names is not None else region_names_2021()
        self.notes: list[str] = []
        if self.run_status not in (None, "complete"):
            self.notes.append(f"Run {self.run_id} is {self.run_status}: a stage did not finish, "
                              "so some tabs may be empty; its index page says which stage.")
        self._prepare_mapping(scheme, year)
        self._prepare_scoreboard()
        peers = self.tables["peers"]
        self._default_peers = ({} if peers is None else
                               peers.sort_values(["geo", "rank", "peer"], kind="mergesort")
                               .groupby("geo", sort=True)["peer"].agg(list).to_dict())
        geos = set(self._mapping_rows) | set(self._score_geos) | set(self._default_peers)
        self.region_codes = sorted(geos)
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self.messages: list[str] = []
        self.region = ""
        self.peers: list[str] = []
        self.peer_source = "none"
        self.map_kind = "lq"
        self.map_category: str | None = None
        self.regression_spec: str | None = None
        if self.region_codes:
            self.set_region(region if region in geos else self.region_codes[0])
        if region and region not in geos:
            self.messages.insert(0, f"Region {region} is not in run {self.run_id}; showing "
                                    f"{self.region} instead.")

    # -- preparation (once per run) -------------------------------------------------------
    def _prepare_mapping(self, scheme: str, year: int | None) -> None:
        mapping = self.tables["cluster_mapping"]
        self.scheme = scheme
        self.year = year
        self._mapping_rows: dict[str, np.ndarray] = {}
        self.categories: dict[str, str] = {}
        if mapping is None:
            return
        schemes = list(pd.unique(mapping["scheme"]))
        if scheme not in schemes:
            fallback = "cluster" if "cluster" in schemes else schemes[0]
            self.notes.append(f"Scheme {scheme!r} is not in the cluster mapping (schemes: "
                              f"{', '.join(schemes)}); showing {fallback!r}.")
            self.scheme = fallback
        mapping = mapping[mapping["scheme"] == self.scheme]
        years = sorted(int(y) for y in mapping["year"].unique())
        if year is None:
            self.year = years[-1]
        elif year not in years:
            earlier = [y for y in years if y <= year]
            self.year = earlier[-1] if earlier else years[0]
            self.notes.append(f"Year {year} is not in the cluster mapping ({years[0]}-"
                              f"{years[-1]}); the reference year is {self.year}.")
        self.mapping = mapping.reset_index(drop=True)
        # row positions per region; the rows are sliced when a region is shown (cheap), not all
        # up front (the table has a row per region x category x year)
        self._mapping_rows = self.mapping.groupby("geo", sort=True).indices
        labels = mapping.drop_duplicates("category").sort_values("category")
        self.categories = dict(zip(labels["category"], labels["category_name"].astype(str)))

    def _prepare_scoreboard(self) -> None:
        scoreboard = self.tables["scoreboard"]
        self._score_geos: set[str] = set()
        self._score_matrix: dict[int, pd.DataFrame] = {}
        self._ranks_rows: dict[str, np.ndarray] = {}
        if scoreboard is None:
            self.score_year = None
            return
        years = sorted(int(y) for y in scoreboard["year"].unique())
        target = self.year if self.year is not None else years[-1]
        earlier = [y for y in years if y <= target]
        self.score_year = earlier[-1] if earlier else years[0]
        current = scoreboard[scoreboard["year"] == self.score_year].copy()
        # Two indices may share a node code (an indicator used by both): the node key is then
        # "<index>/<code>"; codes unique over the indices stay as they are (the schema's key,
        # index x geo x year x code, makes geo x code unique then).
        shared = current.groupby("code")["index_code"].nunique()
        shared = set(shared[shared > 1].index)
        current["code"] = [f"{index}/{code}" if code in shared else code
                           for index, code in zip(current["index_code"], current["code"])]
        self.scoreboard = current
        self._score_geos = set(current["geo"].unique())
        self._scores = current.pivot(index="geo", columns="code", values="score")
        nodes = current.drop_duplicates("code").set_index("code")
        self._levels = nodes["level"]
        self._node_names = nodes["name"].astype(str)
        self._node_index = nodes["index_code"]
        self._score_rows = current.reset_index(drop=True)
        self._ranks_rows = self._score_rows.groupby("geo", sort=True).indices

    # -- pickers -----------------------------------------------------------------------
    def label(self, geo: str) -> str:
        """``"DE11 Stuttgart"`` (the code alone when the name is unknown)."""
        name = self.names.get(geo)
        return f"{geo} {name}" if name else geo

    def countries(self) -> list[tuple[str, str]]:
        """(label, code) of the countries with regions in the run, by code."""
        from eocic.nuts import COUNTRY_NAMES
        codes = sorted({geo[:2] for geo in self.region_codes})
        return [(f"{COUNTRY_NAMES.get(code, code)} ({code})", code) for code in codes]

    def regions_of(self, country: str) -> list[tuple[str, str]]:
        """(label, code) of the run's regions in ``country``, by code."""
        return [(self.label(geo), geo) for geo in self.region_codes if geo[:2] == country]

    @property
    def country(self) -> str:
        return self.region[:2]

    # -- selection ---------------------------------------------------------------------
    def default_peers(self, geo: str) -> list[str]:
        """Peers of ``geo`` in ``peers.parquet`` (nearest first), at most :data:`MAX_PEERS`."""
        return self._default_peers.get(geo, [])[:MAX_PEERS]

    def set_region(self, geo: str) -> list[str]:
        """Select a region; peers go back to its default peers. Returns the messages to show.

        Raises
        ------
        ExplorerError
            If ``geo`` is not a region of the run.
        """
        geo = str(geo).strip().upper()
        if geo not in self.region_codes:
            raise ExplorerError(f"region {geo!r} is not in run {self.run_id}; pick one of "
                                f"{len(self.region_codes)} regions such as "
                                f"{', '.join(self.region_codes[:3])}")
        self.region = geo
        self.peers = self.default_peers(geo)
        self.peer_source = "peers.parquet" if self.peers else "none"
        self.messages = []
        if not self.peers:
            self.messages.append(
                self.missing.get("peers", f"{geo} has no default peers in peers.parquet.")
                + " Choose up to five peers by code.")
        self.map_category = None
        return list(self.messages)

    def set_country(self, country: str) -> list[str]:
        """Select a country: keeps the region if it is in the country, else its first region."""
        regions = [code for _, code in self.regions_of(country)]
        if not regions:
            raise ExplorerError(f"country {country!r} has no region in run {self.run_id}")
        return self.set_region(self.region if self.region in regions else regions[0])

    def set_peers(self, peers: str | list[str] | None) -> list[str]:
        """Choose peers (comma-separated codes or a list; empty = default peers).

        More than :data:`MAX_PEERS` peers, the region itself, duplicates or codes not in the run
        are not accepted: the message says so and the default peers stay (nothing is
        dropped silently). Returns the messages to show.
        """
        items = peers.split(",") if isinstance(peers, str) else list(peers or [])
        chosen = [str(item).strip().upper() for item in items if str(item).strip()]
        self.messages = []
        default = self.default_peers(self.region)
        problem = ""
        if len(chosen) > MAX_PEERS:
            problem = (f"{len(chosen)} peers given ({', '.join(chosen)}); choose at most "
                       f"{MAX_PEERS}.")
        elif self.region in chosen:
            problem = f"{self.region} cannot be its own peer; remove it from the peers."
        elif len(set(chosen)) != len(chosen):
            problem = f"duplicate peers in {', '.join(chosen)}; list each region once."
        else:
            unknown = [code for code in chosen if code not in self.region_codes]
            if unknown:
                problem = (f"peer(s) {', '.join(unknown)} not in run {self.run_id}; use "
                           "NUTS-2 codes of the run.")
        if problem or not chosen:
            self.peers, self.peer_source = default, ("peers.parquet" if default else "none")
            if problem:
                self.messages.append(problem + (" Showing the default peers." if default
                                                else " No peers selected."))
            return list(self.messages)
        self.peers, self.peer_source = chosen, "user"
        return list(self.messages)

    def set_map(self, kind: str | None = None, category: str | None = None) -> None:
        """Map tab: ``kind`` in :data:`MAP_KINDS`, ``category`` a cluster-mapping category
        (for LQ and stars) or a scoreboard code (for scores)."""
        if kind is not None:
            if kind not in MAP_KINDS:
                raise ExplorerError(f"map kind {kind!r}: use one of {', '.join(MAP_KINDS)}")
            self.map_kind = kind
        if category is not None:
            self.map_category = category

    def title(self) -> str:
        """``"DE11 Stuttgart (Germany), 2020"``."""
        from eocic.nuts import COUNTRY_NAMES
        year = f", {self.year}" if self.year is not None else ""
        return f"{self.label(self.region)} ({COUNTRY_NAMES.get(self.country, self.country)}){year}"

    # -- panels ------------------------------------------------------------------------
    def panel(self, tab: str) -> Panel:
        """Content of ``tab`` (one of :data:`TABS`) for the current selection (cached)."""
        if tab not in TABS:
            raise ExplorerError(f"unknown tab {tab!r}; tabs: {', '.join(TABS)}")
        key = (tab, self.region, tuple(self.peers), self.scheme, self.year, self.map_kind,
               self.map_category, self.regression_spec)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        panel = getattr(self, f"_{tab}_panel")()
        panel.notes = self.notes + panel.notes
        self._cache[key] = panel
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return panel

    def panels(self) -> dict[str, Panel]:
        """Every tab's panel for the current selection."""
        return {tab: self.panel(tab) for tab in TABS}

    def _region_rows(self) -> pd.DataFrame:
        rows = self._mapping_rows.get(self.region)
        if rows is None:
            return pd.DataFrame(columns=PORTFOLIO_COLUMNS)
        return self.mapping.iloc[rows].reset_index(drop=True)

    def portfolio_table(self) -> pd.DataFrame:
        """The region's categories in the reference year: :data:`PORTFOLIO_COLUMNS`, sorted
        by stars (most first), then employment (largest first), then category."""
        from eocic.clusters.stars import value_flags

        rows = self._region_rows()
        rows = rows[rows["year"] == self.year] if "year" in rows else rows
        if {"estimated_share", "apportioned"} <= set(rows.columns):
            rows = rows.assign(flag=value_flags(rows))
        table = rows.reindex(columns=PORTFOLIO_COLUMNS)
        return (table.sort_values(["stars", "employment", "category"],
                                  ascending=[False, False, True], na_position="last",
                                  kind="mergesort")
                .reset_index(drop=True))

    def _portfolio_panel(self) -> Panel:
        title = f"Cluster portfolio of {self.title()} — scheme {self.scheme}"
        if "cluster_mapping" in self.missing:
            return Panel("portfolio", title, message=self.missing["cluster_mapping"])
        table = self.portfolio_table()
        notes = []
        if table.empty:
            notes.append(f"{self.region} has no cluster-mapping rows in {self.year}.")
        clusters = int(table["specialisation_star"].fillna(False).astype(bool).sum())
        notes.append(f"{clusters} cluster(s) (LQ >= 2) among {len(table)} categories; "
                     "bubble area = employment, colour = performance class. 'flag': employment "
                     "partly estimated (confidential in the source) or region apportioned after "
                     "a NUTS split.")
        return Panel("portfolio", title, table=table, notes=notes,
                     draw=lambda: figures.portfolio_bubbles(table, title))

    def scoreboard_table(self) -> pd.DataFrame:
        """Every scoreboard node for the region: code, index_code, level, name, region (score),
        peer_mean, peers_with_score, difference (region - peer mean, score points),
        difference_sd (difference / sd over all regions), flag (strength | weakness | neutral |
        no score; :func:`eocic.scoreboard.peers.peer_comparison`), rank, rank_p05, rank_p95,
        imputed_share. Sorted by level
        (index, dimension, subdimension, indicator), then index, then code."""
        scores = self._scores
        peers = [peer for peer in self.peers if peer in scores.index]
        region = scores.loc[self.region] if self.region in scores.index else \
            pd.Series(np.nan, index=scores.columns)
        peer_scores = scores.loc[peers] if peers else scores.iloc[:0]
        table = peer_comparison(region, peer_scores, scores)
        rows = self._ranks_rows.get(self.region)
        ranks = None if rows is None else self._score_rows.iloc[rows].set_index("code")
        for column in ("rank", "rank_p05", "rank_p95", "imputed_share"):
            table[column] = (ranks[column].reindex(table.index) if ranks is not None
                             and column in ranks else np.nan)
        table.index.name = "code"
        table = table.reset_index()
        table.insert(1, "level", table["code"].map(self._levels))
        table.insert(2, "name", table["code"].map(self._node_names))
        table.insert(1, "index_code", table["code"].map(self._node_index))
        order = {level: position for position, level in enumerate(LEVEL_ORDER)}
        table["_order"] = table["level"].map(order).fillna(len(order))
        return (table.sort_values(["_order", "index_code", "code"], kind="mergesort")
                .drop(columns="_order").reset_index(drop=True))

    def _scoreboard_panel(self) -> Panel:
        title = f"Scoreboard of {self.label(self.region)}, {self.score_year} — vs peers"
        if "scoreboard" in self.missing:
            return Panel("scoreboard", f"Scoreboard of {self.label(self.region)}",
                         message=self.missing["scoreboard"])
        notes = []
        if self.region not in self._scores.index:
            notes.append(f"{self.region} has no scores in {self.score_year}.")
        absent = [peer for peer in self.peers if peer not in self._scores.index]
        if absent:
            notes.append(f"Peers without scores (left out of the peer mean): {', '.join(absent)}.")
        if not self.peers:
            notes.append("No peers: differences from peers, strengths and weaknesses need "
                         "peers.")
        else:
            notes.append(f"Peers ({self.peer_source}): "
                         + ", ".join(self.label(peer) for peer in self.peers)
                         + f". Strength: score at least {STRENGTH_SD:g} standard deviation "
                           "(over all regions) above the peer mean; weakness: at least "
                           f"{STRENGTH_SD:g} below. 'difference' = region - peer mean, in "
                           "score points.")
        table = self.scoreboard_table()
        detail = table[table["level"].isin(["dimension", "subdimension", "indicator"])]
        strengths = detail[detail["flag"] == "strength"].sort_values(
            "difference_sd", ascending=False, kind="mergesort")
        weaknesses = detail[detail["flag"] == "weakness"].sort_values("difference_sd",
                                                                      kind="mergesort")
        ranks = table[table["level"].isin(["index", "dimension"])][
            ["code", "name", "rank", "rank_p05", "rank_p95"]].reset_index(drop=True)
        radar_axes = table[table["level"] == "dimension"].set_index("name")[
            ["region", "peer_mean", "index_code"]]
        extra = {"strengths": strengths.reset_index(drop=True),
                 "weaknesses": weaknesses.reset_index(drop=True),
                 "ranks": ranks}

        def draw() -> Figure:
            return figures.radar(radar_axes, f"{self.region} vs peer mean: dimension scores")

        def draw_ranks() -> Figure:
            return figures.rank_intervals(ranks.set_index("name"),
                                          f"{self.region}: rank with 5-95 % interval")

        return Panel("scoreboard", title, table=table, notes=notes, extra=extra, draw=draw,
                     extra_draw={"ranks": draw_ranks})

    def development_table(self, top: int = 6) -> pd.DataFrame:
        """Employment and LQ by year of the region's top categories: the ``top`` largest (by
        reference-year employment) with LQ >= 1, or the largest overall if none has LQ >= 1.
        Columns category, category_name, year, employment, lq; sorted by category order of
        size, then year."""
        rows = self._region_rows()
        if rows.empty:
            return pd.DataFrame(columns=["category", "category_name", "year", "employment", "lq"])
        current = rows[rows["year"] == self.year].dropna(subset=["employment"])
        candidates = current[current["lq"] >= 1]
        if candidates.empty:
            candidates = current
        chosen = list(candidates.sort_values(["employment", "category"], ascending=[False, True],
                                             kind="mergesort")["category"].head(top))
        history = rows[rows["category"].isin(chosen)][
            ["category", "category_name", "year", "employment", "lq"]].copy()
        history["_order"] = history["category"].map({c: i for i, c in enumerate(chosen)})
        return (history.sort_values(["_order", "year"], kind="mergesort")
                .drop(columns="_order").reset_index(drop=True))

    def _development_panel(self) -> Panel:
        title = f"Development of the largest clusters of {self.label(self.region)}"
        if "cluster_mapping" in self.missing:
            return Panel("development", title, message=self.missing["cluster_mapping"])
        table = self.development_table()
        notes = [f"Up to six largest categories with LQ >= 1 in {self.year} "
                 "(the largest categories if none)."]
        return Panel("development", title, table=table, notes=notes,
                     draw=lambda: figures.development(table, title))

    def regression_specs(self) -> list[str]:
        """Specification names of ``regressions.parquet`` (sorted)."""
        table = self.tables["regressions"]
        return [] if table is None else sorted(table["spec"].astype(str).unique())

    def _regressions_panel(self) -> Panel:
        title = "Regressions of the run"
        if "regressions" in self.missing:
            return Panel("regressions", title, message=self.missing["regressions"])
        table = self.tables["regressions"]
        columns = [c for c in ("spec", "model", "term", "coef", "se", "pvalue", "ci_low",
                               "ci_high", "nobs") if c in table.columns]
        table = table[columns].sort_values(["spec", "model"], kind="mergesort")
        # the variable in words next to its code (VARIABLE_LABELS of the regressions)
        table.insert(columns.index("term") + 1, "variable",
                     table["term"].map(lambda term: VARIABLE_LABELS.get(term, term)))
        specs = self.regression_specs()
        spec = self.regression_spec if self.regression_spec in specs else (specs[0] if specs
                                                                           else None)
        notes = [
            "regressions.parquet holds coefficients, not the estimation sample, so the "
            f"region's actual vs predicted growth cannot be shown; {self.region}'s cluster "
            "indicators enter these models as one observation among all regions."]
        chart = table[table["spec"].astype(str) == spec] if spec else table.iloc[:0]
        if len(chart):
            chart = chart[~chart["term"].astype(str).str.startswith(_NUISANCE_PREFIXES)].copy()
            chart["term"] = chart["model"].astype(str) + ": " + chart["variable"].astype(str)
            notes.append(f"Chart: every model of specification {spec} (intercepts and fixed "
                         "effects left out); the table lists all specifications.")
        chart = chart.reset_index(drop=True)
        return Panel("regressions", f"{title}: {spec}" if spec else title,
                     table=table.reset_index(drop=True), notes=notes,
                     draw=lambda: figures.coefficients(chart, f"Coefficients: {spec}"))

    def map_choices(self) -> list[tuple[str, str]]:
        """(label, code) of what the map can show for :attr:`map_kind`: categories (LQ,
        stars) or scoreboard codes (scores)."""
        if self.map_kind == "score":
            if "scoreboard" in self.missing:
                return []
            return [(f"{self._node_names[code]} ({self._levels[code]})", code) for code in
                    sorted(self._levels.index,
                           key=lambda c: (LEVEL_ORDER.index(self._levels[c])
                                          if self._levels[c] in LEVEL_ORDER else 9, c))]
        return [(f"{name} ({code})", code) for code, name in self.categories.items()]

    def _default_map_category(self) -> str | None:
        if self.map_kind == "score":
            choices = self.map_choices()
            return choices[0][1] if choices else None
        portfolio = self.portfolio_table() if self.categories else pd.DataFrame()
        if not portfolio.empty:
            return str(portfolio["category"].iloc[0])
        return next(iter(self.categories), None)

    def _map_panel(self) -> Panel:
        from eocic import maps
        needed = "scoreboard" if self.map_kind == "score" else "cluster_mapping"
        title = f"Map: {self.map_kind} — {self.label(self.region)} and peers outlined"
        if needed in self.missing:
            return Panel("map", title, message=self.missing[needed])
        if self.geometries is None:
            return Panel("map", title, message=maps.NO_GEOMETRIES_MESSAGE)
        valid = {code for _, code in self.map_choices()}
        category = self.map_category if self.map_category in valid else \
            self._default_map_category()
        highlight = [self.region, *self.peers]
        values = self.mapping if self.map_kind != "score" else self.scoreboard
        if self.map_kind == "score":
            rows = values[(values["code"] == category) & (values["year"] == self.score_year)]
            table = rows[["geo", "score", "rank"]].reset_index(drop=True)
        else:
            rows = values[(values["category"] == category) & (values["year"] == self.year)]
            table = rows[["geo", "lq", "stars"]].reset_index(drop=True)
        title = (f"Map of {category}: {self.map_kind} — {self.label(self.region)} (thick outline) "
                 "and peers")
        notes = [f"Region {self.region} outlined thick, peers thin."]

        @figures.drawn_literally
        def draw() -> Figure:
            figure = Figure(figsize=(7.5, 7))
            axis = figure.subplots()
            function = {"lq": maps.lq_map, "stars": maps.stars_map,
                        "score": maps.score_map}[self.map_kind]
            keywords = {} if self.map_kind == "score" else {"scheme": self.scheme}
            year = self.score_year if self.map_kind == "score" else self.year
            function(values, self.geometries, category, year=year, highlight=highlight,
                     ax=axis, **keywords)
            return figure

        return Panel("map", title, table=table, notes=notes, draw=draw)
