"""Which tables belong to a run: the record a study writes when it publishes a run folder.

A run folder ``data/processed/<run_id>/`` holds tables written by several stages. A study that
is killed, fails half-way or is re-run for another year must never leave a folder whose
tables come from two runs looking like one run. The study runner therefore writes, when it
publishes a run, the *tables record* ``tables.json``::

    {"run_id": "demo-2020", "run_token": "20261202T091500Z-4f3a...", "status": "complete",
     "tables": {"sbs.parquet": "<sha256>", "scoreboard.parquet": "<sha256>", ...}}

``status`` is ``complete`` (every selected stage ran), ``failed`` (a stage raised; the tables
of the stages before it are listed) or ``interrupted`` (SIGTERM/SIGINT). :func:`verify_tables`
is what readers that serve a run to others (the region explorer) call: a folder with no
record, with a record of another run id, with a listed table missing or changed, or with a
table the record does not list, is refused with :class:`RunIntegrityError` naming the file and
the fix (re-run the study for that run id).

The SHA-256 of a table is the hash of its bytes as stored (:func:`eocic.provenance.sha256_of`).
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
STATUSES = ("complete", "failed", "interrupted")


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
    """Hash every table of ``folder`` and write the tables record atomically; returns it."""
    from eocic.provenance import sha256_of

    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    record = {
        "run_id": run_id,
        "run_token": run_token,
        "status": status,
        "tables": {path.name: sha256_of(path) for path in table_files(folder)},
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
