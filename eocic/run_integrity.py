"""Which tables belong to a run: the record a study writes when it publishes a run folder.

A run folder ``data/processed/<run_id>/`` holds tables written by several stages. A study that
is killed, fails half-way or is re-run for another year must never leave a folder whose
tables come from two runs looking like one run. The study runner therefore writes, when it
publishes a run, the *tables record* ``tables.json``::

    {"run_id": "demo-2020", "run_token": "20261202T091500Z-4f3a...", "status": "complete",
     "tables": {"sbs.parquet": "<sha256>", "scoreboard.parquet": "<sha256>", ...}}

``status`` is ``complete`` (every selected stage ran), ``failed`` (a stage raised; the tables
of the stages before it are listed) or ``interrupted`` (SIGTERM/SIGINT); ``running`` is written
only inside a run's staging folder, after each stage, and is never published. :func:`verify_tables`
is what readers that serve a run to others (the region explorer) call: a folder with no
record, with a record of another run id, with a listed table missing or changed, or with a
table the record does not list, is refused with :class:`RunIntegrityError` naming the file and
the fix (re-run the study for that run id).

The SHA-256 of a table is the hash of its bytes as stored (:func:`eocic.provenance.sha256_of`).

Writing a run (used by :func:`eocic.study.run_study`): :class:`RunLock` (one study per run id,
``flock`` beside the run folder), :func:`check_writable` (read-only folders refused before any
work), :func:`start_staging` / :func:`publish_folder` (write in
``.staging-<run_id>-<token>/<run_id>/``, then rename onto ``<run_id>/``) and
:func:`recover_stale` (the next study cleans up after a killed one).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from eocic.atomic import write_json_atomic
from eocic.errors import EocicError

#: File name of the tables record inside a run folder.
TABLES_RECORD = "tables.json"
#: Statuses a published run can have.
STATUSES = ("complete", "failed", "interrupted", "running")


class RunIntegrityError(EocicError, ValueError):
    """A run folder's tables do not all belong to one published run; the message names the
    folder, the table and the fix (re-run the study for that run id)."""


def new_run_token() -> str:
    """A token unique to one execution of a study: UTC start time and 64 random bits."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(8)}"


def table_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The table files (``*.parquet``, not temporary ``.*`` files) of a run folder, sorted."""
    return sorted(path for path in Path(folder).glob("*.parquet")
                  if not path.name.startswith("."))


def record_tables(folder: str | os.PathLike[str], run_id: str, run_token: str,
                  status: str = "complete") -> dict:
    """Hash every table of ``folder`` and write the tables record atomically; returns it.
    (A table unchanged since the last record of this process is not read again:
    :func:`eocic.provenance.file_sha256`.)"""
    from eocic.provenance import file_sha256

    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    record = {
        "run_id": run_id,
        "run_token": run_token,
        "status": status,
        "tables": {path.name: file_sha256(path) for path in table_files(folder)},
    }
    write_json_atomic(Path(folder) / TABLES_RECORD, record)
    return record


def read_record(folder: str | os.PathLike[str]) -> dict | None:
    """The tables record of ``folder``, or None when there is none."""
    import json

    path = Path(folder) / TABLES_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunIntegrityError(f"{path} is damaged ({error}); re-run the study for this run "
                                "id to write it again") from error
    if not isinstance(record, dict) or not isinstance(record.get("tables"), dict):
        raise RunIntegrityError(f"{path} is not a tables record (no 'tables' mapping); re-run "
                                "the study for this run id")
    return record


def verify_tables(folder: str | os.PathLike[str]) -> dict:
    """Check that every table in ``folder`` belongs to the run its tables record names.

    Returns the record. Raises :class:`RunIntegrityError` when the record is missing or
    damaged, names another run id than the folder's name, lists a table that is missing or
    whose bytes changed, or when the folder holds a table the record does not list.
    """
    from eocic.provenance import sha256_of

    folder = Path(folder)
    fix = f"re-run the study for run id {folder.name!r} (eocic study --run-id {folder.name})"
    record = read_record(folder)
    if record is None:
        raise RunIntegrityError(
            f"{folder} has no {TABLES_RECORD}: it was not published by a finished study (a run "
            f"in progress, a killed run or a folder written by hand); {fix}")
    if record.get("run_id") != folder.name:
        raise RunIntegrityError(
            f"{folder / TABLES_RECORD} belongs to run {record.get('run_id')!r}, not to "
            f"{folder.name!r}; {fix}")
    listed = record["tables"]
    present = {path.name: path for path in table_files(folder)}
    for name, digest in sorted(listed.items()):
        if name not in present:
            raise RunIntegrityError(f"{folder / name} is listed in {TABLES_RECORD} but missing; "
                                    f"{fix}")
        if sha256_of(present[name]) != digest:
            raise RunIntegrityError(f"{folder / name} was changed after run "
                                    f"{record.get('run_token')} published it; {fix}")
    strays = sorted(set(present) - set(listed))
    if strays:
        raise RunIntegrityError(f"{folder} holds tables no finished run of {folder.name!r} "
                                f"wrote: {', '.join(strays)}; {fix}")
    return record


# -- writing a run: the lock, the staging folders and their publication ------------------------

#: Prefix of a run's staging folders (``data/processed/.staging-<run_id>-<token>/<run_id>/``).
STAGING_PREFIX = ".staging-"
#: Prefix of a published folder moved aside while its successor is renamed into place.
REPLACED_PREFIX = ".replaced-"


class RunLockedError(EocicError, RuntimeError):
    """Another study is writing the same run id; the message names the run, the holder's PID
    and what to do."""


class RunFolderError(EocicError, PermissionError):
    """A folder the study must write (``data/processed/<run_id>``, ``reports/<run_id>`` or
    their parents) is not writable; the message names the folder and the fix."""


class PublishedRunMismatch(EocicError, ValueError):
    """``--stage`` would add stages to a published run of another year or source."""


class RunLock:
    """An exclusive lock on one run id while a study writes it.

    The lock is ``fcntl.flock`` on ``<processed root>/.<run_id>.lock`` (beside the run folder,
    which is replaced when the run is published). The kernel releases a flock when the process
    holding it ends, however it ends, so a run killed with SIGKILL never blocks the next one.
    The holder writes its PID into the file so that a refused study can name it. The file is
    never deleted (deleting a lock file another process is waiting on would let two holders in).

    Parameters
    ----------
    path : Path
        The lock file.
    run_id : str
        Named in the message.
    wait : bool
        Block until the other study ends instead of refusing at once.
    """

    def __init__(self, path: str | os.PathLike[str], run_id: str, *, wait: bool = False) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.wait = wait
        self._descriptor: int | None = None

    def holder_pid(self) -> str:
        """The PID the current holder wrote, or ``unknown``."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return "unknown"
        return text if text.isdigit() else "unknown"

    def acquire(self) -> "RunLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(descriptor)
            raise RunLockedError(
                f"run {self.run_id!r} is being written by another study (PID "
                f"{self.holder_pid()}, lock {self.path}). Wait for it to finish, pass --wait to "
                f"queue behind it, stop it (kill {self.holder_pid()}), or choose another run id "
                "with --run-id.") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
        self._descriptor = descriptor
        return self

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor releases the flock
            self._descriptor = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def check_writable(folders: list[Path]) -> None:
    """Refuse, before any work, a folder the study must write into that is not writable.

    For each folder: when it exists, its parent, it and every folder below it must be writable
    (the study renames it aside, writes its successor beside it and removes it: removing files
    needs write permission on each folder holding them); when it does not, its nearest existing
    parent must be (the study creates it).

    Raises
    ------
    RunFolderError
        Naming the folder and the fix (``chmod -R u+w`` it, or another ``--run-id``).
    """
    for folder in folders:
        folder = Path(folder)
        if folder.exists():
            candidates = [folder.parent, folder] + sorted(path for path in folder.rglob("*")
                                                          if path.is_dir())
        else:
            parent = folder.parent
            while not parent.exists() and parent != parent.parent:
                parent = parent.parent
            candidates = [parent]
        for candidate in candidates:
            if not os.access(candidate, os.W_OK | os.X_OK):
                raise RunFolderError(
                    f"{candidate} is read-only: the study writes and replaces "
                    f"{folder}. Make it writable (chmod -R u+w {candidate}) or write the run "
                    "elsewhere with another --run-id; nothing was run.")


def staging_folder(published: Path, run_token: str) -> Path:
    """Where a run is written before it is published: ``<parent>/.staging-<run_id>-<token>/
    <run_id>`` (the inner folder keeps the run id as its name, so that readers that check a
    folder's name against its run id work on it too)."""
    published = Path(published)
    return published.parent / f"{STAGING_PREFIX}{published.name}-{run_token}" / published.name


def recover_stale(published: Path) -> list[Path]:
    """Clean up after studies of this run id that were killed; call with the run's lock held.

    * a published folder moved aside (``.replaced-<run_id>-<token>``) while the run that
      replaced it was killed before renaming its own folder into place is restored when the
      run folder is missing, else removed;
    * staging folders (``.staging-<run_id>-<token>``) are removed: with the lock held no study
      is writing them.

    Returns the folders removed or restored.
    """
    import shutil

    published = Path(published)
    parent = published.parent
    handled = []
    if not parent.is_dir():
        return handled
    for aside in sorted(parent.glob(f"{REPLACED_PREFIX}{published.name}-*")):
        if not published.exists():
            os.rename(aside, published)
        else:
            shutil.rmtree(aside)
        handled.append(aside)
    for staging in sorted(parent.glob(f"{STAGING_PREFIX}{published.name}-*")):
        shutil.rmtree(staging)
        handled.append(staging)
    return handled


def start_staging(published: Path, run_token: str, *, from_published: bool) -> Path:
    """Create the staging folder of a run; with ``from_published`` it starts as a copy of the
    published folder (a run of some stages only keeps the other stages' outputs), else empty
    (a whole run never shows an earlier run's tables)."""
    import shutil

    staging = staging_folder(published, run_token)
    staging.parent.mkdir(parents=True, exist_ok=True)
    if from_published and Path(published).is_dir():
        # copies, not hard links: some files (stage logs) are rewritten in place
        shutil.copytree(published, staging, symlinks=True)
    else:
        staging.mkdir()
    return staging


def publish_folder(staging: Path, published: Path, run_token: str) -> Path:
    """Rename the staging folder onto the published one.

    The old published folder is first renamed aside (``.replaced-<run_id>-<token>``), the
    staged one renamed into place, then the old one removed: readers see either the old run
    or the new one, never a mixture (for a moment, no folder). The staging shell
    ``.staging-<run_id>-<token>/`` is removed.
    """
    import shutil

    staging, published = Path(staging), Path(published)
    aside = published.parent / f"{REPLACED_PREFIX}{published.name}-{run_token}"
    if published.exists():
        os.rename(published, aside)
    os.rename(staging, published)
    if aside.exists():
        shutil.rmtree(aside)
    shell = staging.parent
    if shell.name.startswith(STAGING_PREFIX) and shell.is_dir() and not any(shell.iterdir()):
        shell.rmdir()
    return published


def discard_staging(staging: Path) -> None:
    """Remove a staging folder and its shell (a run that published nothing)."""
    import shutil

    shell = Path(staging).parent
    if shell.name.startswith(STAGING_PREFIX):
        shutil.rmtree(shell, ignore_errors=True)
