"""Work shared by runs: year-independent results computed once and kept on disk.

Reading the raw Eurostat files, estimating confidential cells and harmonising NUTS versions
(:func:`eocic.pipeline.run_pipeline`) do not depend on the reference year, yet every run of
stage 01 used to redo them. ``eocic study --years 2013-2020`` runs stage 01 once per year, so
that work is done once and kept in a **content-addressed store**, ``data/processed/.shared/``
(the runner passes the folder to the stages declaring the parameter ``shared_dir``):

* the **key** is the SHA-256 of everything the result depends on: the content hash of every
  input file, the options (NUTS version, confidential-cell mode) and the
  :func:`code_fingerprint` of the installed eocic sources (so an edited estimator never serves
  an old result, unlike a version number);
* an entry is written to a temporary file and renamed (:mod:`eocic.atomic`): a killed run
  never leaves a half entry that a later run trusts;
* two runs needing the same entry at once (two years of one study) do not both compute it:
  the second waits on an exclusive ``flock`` of ``<key>.lock`` and then reads the entry;
* the store keeps the :data:`KEEP_ENTRIES` entries used last and deletes older ones (an
  entry is 70-130 MB).

Entries are Python pickles of eocic's own results (frames and NumPy arrays). They are written
and read only by eocic in the project's own processed folder, like the processed tables; the
store is a cache, not an exchange format: never put a file from elsewhere into it. A damaged
or unreadable entry is recomputed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eocic.atomic import atomic_path

if TYPE_CHECKING:
    import pandas as pd

#: Entries kept in the store per kind of result (the most recently used); older ones are
#: deleted. An entry of
#: the pipeline is 70 MB (demo) to 130 MB (the real 2008-2015 extracts): the confidential-cell
#: estimation's arrays with their bounds. A code change makes a new key, so entries of older
#: code pile up until pruned.
KEEP_ENTRIES = 4


def code_fingerprint() -> str:
    """SHA-256 of the bytes of every ``.py`` file of the installed eocic package (sorted by
    relative path): changes with any edit of the code, not only with the version number."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def shared_key(kind: str, material: dict[str, Any]) -> str:
    """The store key of a result: ``<kind>-<SHA-256 of material and code_fingerprint()>``
    (``material`` must be JSON-serialisable; ``kind`` names the computation)."""
    payload = json.dumps({"kind": kind, "material": material, "code": code_fingerprint()},
                         sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:32]}"


def tables_key(key: str) -> str:
    """The key of the tables written from the result stored under ``key``
    (:func:`written_once`): ``<kind>_tables-<the result's hash>``. The tables are a function
    of the result and the code, both of which ``key`` covers."""
    kind, digest = key.rsplit("-", 1)
    return f"{kind}_tables-{digest}"


def frame_digest(frame: "pd.DataFrame") -> str:
    """SHA-256 of a frame's content: column names, dtypes, index and values (row order
    included), for the key material of a result computed from in-memory tables."""
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(json.dumps([[str(name), str(dtype)] for name, dtype in frame.dtypes.items()])
                  .encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(store: Path, kind: str, keep: int, suffix: str = ".pickle") -> None:
    """Delete the entries of ``kind`` but the ``keep`` used last (other kinds untouched);
    ``suffix``: ``.pickle`` (:func:`computed_once`) or ``.files`` (:func:`written_once`)."""
    entries = sorted((path for path in store.glob(f"{kind}-*{suffix}")
                      if path.name[:-len(suffix)].rsplit("-", 1)[0] == kind),
                     key=lambda path: path.stat().st_mtime_ns, reverse=True)
    for old in entries[keep:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
        (store / (old.name[:-len(suffix)] + ".lock")).unlink(missing_ok=True)


def computed_once(store: Path | str | None, key: str,
                  compute: Callable[[], Any]) -> tuple[Any, bool]:
    """``compute()``, or its result kept under ``key`` in ``store``.

    Warnings raised by ``compute`` are kept with the result and raised again when it is read
    from the store, so a reader sees the same notes either way.

    Parameters
    ----------
    store : Path or None
        Folder of the store; None or ``""``: compute, keep nothing.
    key : str
        From :func:`shared_key`.
    compute : callable
        Returns the result (picklable).

    Returns
    -------
    (result, reused)
        ``reused`` is True when the result was read from the store.
    """
    if not store:
        return compute(), False
    store = Path(store)
    entry = store / f"{key}.pickle"
    with _exclusive(store / f"{key}.lock"):
        if entry.is_file():
            try:
                with open(entry, "rb") as handle:
                    result, caught = pickle.load(handle)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError,
                    AttributeError, ModuleNotFoundError):
                entry.unlink(missing_ok=True)  # damaged or from other code: recompute
            else:
                os.utime(entry)  # most recently used
                for message, category in caught:
                    warnings.warn(message, category, stacklevel=2)
                return result, True
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            result = compute()
        caught = [(str(w.message), w.category) for w in recorded]
        with atomic_path(entry) as partial:
            with open(partial, "wb") as handle:
                pickle.dump((result, caught), handle, protocol=pickle.HIGHEST_PROTOCOL)
    for message, category in caught:
        warnings.warn(message, category, stacklevel=2)
    _prune(store, key.rsplit("-", 1)[0], KEEP_ENTRIES)
    return result, False


#: The file in a :func:`written_once` entry naming what it holds (``{name: file name}``).
WRITTEN_INDEX = "index.json"


def written_once(store: Path | str | None, key: str, folder: Path | str,
                 write: Callable[[Path], dict[str, Path]]) -> tuple[dict[str, Path], bool]:
    """``write(folder)``, or copies of the files it wrote under ``key`` before.

    For processed tables that are the same in every run sharing a store: the cluster-mapping
    tables do not depend on the reference year, so each year of ``eocic study --years`` used
    to validate and serialise the same 45 MB again. The first run writes them and keeps a
    copy in ``<store>/<key>.files/``; a later run copies those bytes into its own folder (each
    file atomically). The copies are byte-identical to writing again, since the writers are
    deterministic (:func:`eocic.tables.write_tables`) and ``key`` covers the content written
    and the code (:func:`shared_key`).

    Parameters
    ----------
    store : Path or None
        Folder of the store; None or ``""``: write, keep nothing.
    key : str
        From :func:`shared_key`, naming what ``write`` writes.
    folder : Path
        Where the files go (a run's processed folder).
    write : callable
        ``write(folder)`` writes the files and returns ``{name: path}``.

    Returns
    -------
    (paths, reused)
        ``{name: path in folder}``; ``reused`` is True when the files were copied.

    An entry is complete or absent: it is assembled in a temporary folder, its index written
    last, then renamed into place. An entry missing a file is written again.
    """
    folder = Path(folder)
    if not store:
        return write(folder), False
    store = Path(store)
    kept = store / f"{key}.files"
    with _exclusive(store / f"{key}.lock"):
        try:
            names = json.loads((kept / WRITTEN_INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            names = None
        if isinstance(names, dict) and all(
                isinstance(file, str) and (kept / file).is_file() for file in names.values()):
            folder.mkdir(parents=True, exist_ok=True)
            paths = {}
            for name, file in names.items():
                with atomic_path(folder / file) as partial:
                    shutil.copyfile(kept / file, partial)
                paths[name] = folder / file
            os.utime(kept)  # most recently used
            return paths, True
        paths = write(folder)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.files.", dir=store))
        try:
            for path in paths.values():
                shutil.copyfile(path, staging / path.name)
            (staging / WRITTEN_INDEX).write_text(
                json.dumps({name: path.name for name, path in paths.items()}, sort_keys=True),
                encoding="utf-8")
            if kept.exists():
                shutil.rmtree(kept)
            os.replace(staging, kept)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    _prune(store, key.rsplit("-", 1)[0], KEEP_ENTRIES, suffix=".files")
    return paths, False
