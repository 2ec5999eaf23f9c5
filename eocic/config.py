"""The study configuration: one object that every stage receives.

A :class:`StudyConfig` says which data a study runs on (``source``), for which reference year,
where raw data, processed tables and rendered reports live, and how notebooks are executed. It
is validated once, before any notebook runs, so that a typo in a source, a missing folder or a
year outside the data stops the run with a message naming the fix instead of failing half-way
through a notebook.

Sources
-------
``demo``
    The embedded demo economy, written on first use to ``data/raw/demo/`` as Eurostat bulk files
    (``eocic demo --out DIR`` writes it anywhere). Offline, deterministic.
``eurostat``
    The newest archived vintage of each dataset under ``data/raw/eurostat/`` (``eocic fetch``
    downloads and archives them).
``<folder>``
    Any folder holding Eurostat files named after their dataset code (``<code>.tsv``,
    ``<code>.tsv.gz`` or ``<code>.csv``), found recursively; the run id prefix is ``local``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from eocic.errors import EocicError

#: Source names with a meaning of their own; anything else is read as a folder path.
NAMED_SOURCES = ("demo", "eurostat")

#: Years the workbench accepts at all (data coverage is checked separately per source).
YEAR_RANGE = (1995, 2100)

_RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
#: The rule of :func:`is_valid_run_id`, in words (for messages).
RUN_ID_RULE = ("letters, digits, '.', '_' and '-' (at most 80 characters, starting with a "
               "letter or digit)")


def is_valid_run_id(run_id: object) -> bool:
    """Whether ``run_id`` may name a run folder (``data/processed/<run_id>``,
    ``reports/<run_id>``): a string of :data:`RUN_ID_RULE`, matched whole.

    The rule is what makes a run id safe to join to a folder: no ``/`` or ``\\``, no leading
    ``.`` (so neither ``..`` nor a hidden folder), no NUL byte, ``%`` or space (URL-encoded or
    otherwise escaped paths), no trailing newline (``fullmatch``, not ``$``). The study
    runner and the region explorer both check run ids with it.
    """
    return isinstance(run_id, str) and _RUN_ID_PATTERN.fullmatch(run_id) is not None


class ConfigError(EocicError, ValueError):
    """A study parameter is wrong; the message says which and how to fix it."""


def parse_years(text: str) -> list[int]:
    """The reference years of ``eocic study --years``: a range ``2010-2023``, a list
    ``2014,2017,2020`` or both (``2010-2012,2020``), sorted, each once.

    Raises
    ------
    ConfigError
        A part that is not a year or a range, a range that runs backwards, or a year outside
        :data:`YEAR_RANGE`; the message names the part.
    """
    years: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d{4})(?:\s*-\s*(\d{4}))?", part)
        if not match:
            raise ConfigError(f"--years {text!r}: {part!r} is neither a year nor a range; give "
                              "e.g. 2013-2020 or 2014,2017,2020")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise ConfigError(f"--years {text!r}: the range {part} runs backwards; write "
                              f"{last}-{first}")
        for year in (first, last):
            if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
                raise ConfigError(f"--years {text!r}: {year} is outside "
                                  f"{YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
        years.update(range(first, last + 1))
    return sorted(years)


def project_root() -> Path:
    """The folder holding ``notebooks/`` and ``data/``: the current working directory when it
    has a ``notebooks`` folder, else the checkout this package was installed from."""
    cwd = Path.cwd()
    if (cwd / "notebooks").is_dir():
        return cwd
    return Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Parameters of one study run.

    Parameters
    ----------
    source : str
        ``"demo"``, ``"eurostat"`` or a folder of Eurostat files.
    year : int
        Reference year of the study (the cross-section shown in maps and tables); growth
        windows end in this year.
    run_id : str, optional
        Name of the run: folder name under ``data/processed/`` and ``reports/``. Default
        ``<source>-<year>``, with ``local`` for a folder source.
    root : Path, optional
        Project root (holds ``notebooks/``, ``data/``, ``reports/``). Default: see
        :func:`project_root`.
    show_code : bool
        Show the code cells (and prompts) in the HTML reports. Default False: the pages are for
        policy readers; the executed ``.ipynb`` beside each page always keeps the code. The
        parameter cells never appear in the HTML (they hold machine paths).
    kernel_name : str
        Jupyter kernel papermill starts for every notebook.
    cell_timeout : int
        Seconds a single notebook cell may run before the stage fails.
    seed : int
        Seed of the demo economy (only used with ``source="demo"``).
    pins : tuple of (code, vintage) pairs
        With ``source="eurostat"``: use these archived vintages (timestamp or unambiguous
        prefix, e.g. ``("sbs_r_nuts2021", "20250314")``) instead of the newest.
    staging_token : str, optional
        Set by the study runner (:meth:`staged`) while it writes a run: :attr:`processed_dir`
        and :attr:`report_dir` are then the run's staging folders
        (``.staging-<run_id>-<token>/<run_id>``), renamed onto the published ones when the run
        ends (see :mod:`eocic.run_integrity`).
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://host:port``): the runner executes
        the stages on its workers (on a file system they share with this machine) and the
        stages declaring ``scheduler`` spread their draws over them. None: this machine.
    """

    source: str = "demo"
    year: int = 2020
    run_id: str | None = None
    root: Path | None = None
    show_code: bool = False
    kernel_name: str = "eocic"
    cell_timeout: int = 600
    seed: int = 20260101
    pins: tuple[tuple[str, str], ...] = ()
    staging_token: str | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        root = Path(self.root) if self.root is not None else project_root()
        object.__setattr__(self, "root", root.resolve())
        if self.run_id is None:
            object.__setattr__(self, "run_id", f"{self.source_kind}-{self.year}")

    # -- derived locations -------------------------------------------------------------
    @property
    def source_kind(self) -> str:
        """``demo``, ``eurostat`` or ``local`` (a folder)."""
        return self.source if self.source in NAMED_SOURCES else "local"

    @property
    def notebooks_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def raw_root(self) -> Path:
        """``data/raw``: immutable inputs (demo files, archived Eurostat vintages)."""
        return self.root / "data" / "raw"

    @property
    def data_dir(self) -> Path:
        """Folder the raw dataset files of this source are read from."""
        if self.source == "demo":
            default_seed = StudyConfig.__dataclass_fields__["seed"].default
            return self.raw_root / ("demo" if self.seed == default_seed else f"demo-seed{self.seed}")
        if self.source == "eurostat":
            return self.raw_root / "eurostat"
        path = Path(self.source).expanduser()
        return (path if path.is_absolute() else Path.cwd() / path).resolve()

    @property
    def published_processed_dir(self) -> Path:
        """``data/processed/<run_id>``: the published parquet tables of the run."""
        return self.root / "data" / "processed" / self.run_id

    @property
    def published_report_dir(self) -> Path:
        """``reports/<run_id>``: the published notebooks, HTML and ``index.html``."""
        return self.root / "reports" / self.run_id

    @property
    def processed_dir(self) -> Path:
        """Where the stages write their tables: ``data/processed/<run_id>``, or its staging
        folder while the runner writes a run (:attr:`staging_token`)."""
        if self.staging_token is None:
            return self.published_processed_dir
        from eocic.run_integrity import staging_folder

        return staging_folder(self.published_processed_dir, self.staging_token)

    @property
    def report_dir(self) -> Path:
        """Where the stages write their reports: ``reports/<run_id>``, or its staging folder
        while the runner writes a run (:attr:`staging_token`)."""
        if self.staging_token is None:
            return self.published_report_dir
        from eocic.run_integrity import staging_folder

        return staging_folder(self.published_report_dir, self.staging_token)

    @property
    def shared_dir(self) -> Path:
        """``data/processed/.shared``: year-independent work kept for every run of the project
        (the store of :mod:`eocic.shared_work`)."""
        return self.root / "data" / "processed" / ".shared"

    def runner_parameters(self) -> dict[str, object]:
        """Parameters the runner passes to the stages that declare them (and only to those):
        ``shared_dir`` (:attr:`shared_dir`) and ``scheduler`` (``""`` for this machine). Neither
        changes a stage's results, so neither is part of its cache key."""
        return {"shared_dir": str(self.shared_dir), "scheduler": self.scheduler or ""}

    @property
    def lock_path(self) -> Path:
        """The run's lock file, beside its processed folder
        (:class:`eocic.run_integrity.RunLock`)."""
        return self.root / "data" / "processed" / f".{self.run_id}.lock"

    def staged(self, run_token: str) -> "StudyConfig":
        """This configuration writing into the staging folders of ``run_token``."""
        return dataclasses.replace(self, staging_token=run_token)

    # -- validation ---------------------------------------------------------------------
    def validate(self) -> "StudyConfig":
        """Check the parameters that can be checked without reading data; return self.

        Raises
        ------
        ConfigError
            Naming the parameter and the fix.
        """
        if not isinstance(self.year, int) or isinstance(self.year, bool):
            raise ConfigError(f"year must be an integer such as 2020, got {self.year!r}")
        if not YEAR_RANGE[0] <= self.year <= YEAR_RANGE[1]:
            raise ConfigError(
                f"year {self.year} is outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}; "
                "pass a four-digit year such as --year 2020"
            )
        if not is_valid_run_id(self.run_id):
            raise ConfigError(f"run id {self.run_id!r} may only hold {RUN_ID_RULE}")
        if self.source_kind == "local" and not self.data_dir.is_dir():
            raise ConfigError(
                f"source {self.source!r} is neither 'demo', 'eurostat' nor an existing folder "
                f"({self.data_dir} does not exist). Use --source demo for the offline demo, "
                "--source eurostat after `eocic fetch`, or the path of a folder of Eurostat files."
            )
        if self.source == "eurostat" and not self.data_dir.is_dir():
            raise ConfigError(
                f"no archived Eurostat data under {self.data_dir}. Run `eocic fetch` on a machine "
                "with internet access first, or use --source demo / --source <folder>."
            )
        if self.pins and self.source != "eurostat":
            raise ConfigError("--pin selects archived Eurostat vintages; use it with "
                              "--source eurostat")
        if self.cell_timeout <= 0:
            raise ConfigError(f"cell timeout must be positive seconds, got {self.cell_timeout}")
        if not self.notebooks_dir.is_dir():
            raise ConfigError(
                f"no notebooks folder at {self.notebooks_dir}; run eocic from the project root"
            )
        return self

    def notebook_parameters(self) -> dict[str, object]:
        """The parameters injected into every notebook's ``parameters`` cell (scalars only:
        papermill translates them into literals). ``processed_dir`` and ``report_dir`` are the
        folders the stages write: the staging folders while the runner writes a run."""
        return {
            "year": self.year,
            "source": self.source,
            "data_dir": str(self.data_dir),
            "run_id": self.run_id,
            "processed_dir": str(self.processed_dir),
            "report_dir": str(self.report_dir),
        }
