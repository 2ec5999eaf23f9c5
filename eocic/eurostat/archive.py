"""The never-overwriting archive of downloaded vintages (Eurostat datasets, GISCO geometries).

Eurostat serves only the latest vintage of a dataset: once it revises a figure, last year's
download is gone from the source. The archive keeps every distinct download, so a study can be
re-run on exactly the bytes it used.

Layout (``raw_dir`` is the raw-data folder, e.g. ``data/raw``)::

    raw_dir/eurostat/manifest.json
    raw_dir/eurostat/<code>/<YYYYMMDDTHHMMSSZ>.tsv.gz        one file per vintage
    raw_dir/gisco/manifest.json
    raw_dir/gisco/NUTS_RG_20M_2021_4326_LEVL_2/<YYYYMMDDTHHMMSSZ>.geojson

Rules
-----
* A vintage file is named after the UTC time of its download and is never overwritten: it is
  put in place with a hard link, which fails if the name is taken.
* A download byte-identical (SHA-256) to the newest vintage of the same item is not stored a
  second time; the manifest records when it was last confirmed (``last_confirmed_at``).
* The files on disk are the truth: a vintage file missing from the manifest (a crash between
  the rename and the manifest write) is re-described and marked ``"recovered": true``.
* ``manifest.json`` is written atomically with sorted keys; paths in it are relative to the
  manifest's folder, in POSIX form.
* ``manifest.json`` is checked whole before it is used (:func:`read_manifest`): every entry
  must be an object whose ``code`` is its item, whose ``vintage`` is a stamp, whose ``path`` is
  exactly ``<item>/<vintage><suffix>`` (never a path elsewhere), whose ``sha256`` is 64 hex
  digits and whose ``bytes`` is a non-negative integer; a vintage file present on disk must have
  the recorded size (a different size means it was changed after archiving). Anything else is
  an :class:`ArchiveError` naming the manifest, the item and the fix, raised before any
  download. An entry whose file has disappeared is not an error: it stays as a record, flagged
  ``"missing": true``, and is never resolved as a vintage.
* Item names (dataset codes) are checked by :func:`normalise_code` before they become folder
  names or URLs: a name with ``/``, ``..`` at the start, spaces, ``;`` or nothing at all is a
  :class:`DatasetCodeError`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eocic.atomic import write_json_atomic
from eocic.errors import EocicError
from eocic.provenance import sha256_of

#: Sub-folder of ``raw_dir`` holding archived Eurostat datasets.
EUROSTAT_FOLDER = "eurostat"
#: Sub-folder of ``raw_dir`` holding archived GISCO geometries.
GISCO_FOLDER = "gisco"
#: File suffix of an archived Eurostat dataset vintage (gzip-compressed TSV, as served).
DATASET_SUFFIX = ".tsv.gz"
#: File suffix of an archived GISCO geometry vintage.
GEOMETRY_SUFFIX = ".geojson"
MANIFEST_NAME = "manifest.json"
#: Format version of ``manifest.json``.
MANIFEST_FORMAT = 1

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_PATTERN = re.compile(r"^\d{8}T\d{6}Z$")
#: Dataset codes as Eurostat writes them (``nama_10r_2gdp``, ``sbs_r_nuts2021``, ``DS-045409``).
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.$-]{0,127}$")
#: Item names a manifest may hold (dataset codes; GISCO names such as
#: ``NUTS_RG_20M_2021_4326_LEVL_2``): each is a folder name inside the collection.
ITEM_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.$-]{0,127}")


class ArchiveError(EocicError, RuntimeError):
    """The archive is inconsistent or an operation would overwrite an archived vintage."""


class MissingVintageError(EocicError, FileNotFoundError):
    """No archived vintage matches the request (none downloaded yet, or a wrong pin)."""


class DatasetCodeError(EocicError, ValueError):
    """A dataset code that cannot be a Eurostat code (it would become a folder name and part
    of a URL, so anything but letters, digits and ``_ . $ -`` is refused)."""


@dataclass(frozen=True)
class ArchivedFile:
    """One download outcome, pointing at the archived vintage it produced or confirmed.

    Attributes
    ----------
    code : str
        Dataset code (lower case) or geometry name (``NUTS_RG_20M_2021_4326_LEVL_2``).
    path : Path
        The archived vintage file.
    vintage : str
        UTC timestamp ``YYYYMMDDTHHMMSSZ`` of the vintage (its file name stem).
    sha256 : str
        Hex SHA-256 of the file's bytes as stored (compressed).
    bytes : int
        Size of the file in bytes.
    url : str
        The URL the vintage was downloaded from.
    status : str
        ``"new"`` (a new vintage was stored), ``"unchanged"`` (the download was byte-identical
        to the newest vintage, nothing stored) or ``"skipped"`` (not downloaded: the newest
        vintage of this query was already retrieved or confirmed today, UTC).
    retrieved_at : str
        UTC ISO time the vintage was first downloaded.
    last_modified, etag : str or None
        HTTP ``Last-Modified`` / ``ETag`` headers of the download, when the server sent them.
    final_url : str or None
        The URL the bytes came from after redirects (``None`` for vintages archived before it
        was recorded, and for recovered ones).
    """

    code: str
    path: Path
    vintage: str
    sha256: str
    bytes: int
    url: str
    status: str
    retrieved_at: str
    last_modified: str | None = None
    etag: str | None = None
    final_url: str | None = None


# --------------------------------------------------------------------------------------------
# Timestamps and codes


def utc_now() -> dt.datetime:
    """The current time in UTC, to the second."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, to the second; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0)


def vintage_stamp(moment: dt.datetime) -> str:
    """File-name stamp of a vintage: ``YYYYMMDDTHHMMSSZ`` in UTC (e.g. ``20250314T091500Z``)."""
    return as_utc(moment).strftime(STAMP_FORMAT)


def iso_utc(moment: dt.datetime) -> str:
    """ISO 8601 UTC time with a ``Z`` suffix (e.g. ``2025-03-14T09:15:00Z``)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_code(code: str) -> str:
    """Eurostat dataset code in lower case (the API is case-insensitive; folders are not).

    Raises
    ------
    DatasetCodeError
        If ``code`` is not a plausible Eurostat code: 1-128 ASCII letters, digits and
        ``_ . $ -``, starting with a letter or digit (so never empty, never a path such as
        ``../x`` or ``a/b``, never shell syntax such as ``x;rm``). A ``ValueError`` too.
    """
    normalised = str(code).strip().lower()
    if not CODE_PATTERN.fullmatch(normalised):
        shown = "an empty code" if not normalised else f"invalid Eurostat dataset code {code!r}"
        raise DatasetCodeError(
            f"{shown}: expected 1-128 letters, digits and _ . $ - starting with a letter or "
            "digit (e.g. nama_10r_2gdp, as shown in the Eurostat data browser)")
    return normalised


# --------------------------------------------------------------------------------------------
# Reading the archive


def list_vintages(item_dir: Path, suffix: str) -> list[Path]:
    """Vintage files of one item (``<stamp><suffix>``), oldest first; other files are ignored
    (``.part`` downloads in progress, editor back-ups)."""
    if not item_dir.is_dir():
        return []
    vintages = [path for path in item_dir.iterdir()
                if path.is_file() and path.name.endswith(suffix)
                and STAMP_PATTERN.match(path.name[: -len(suffix)])]
    return sorted(vintages, key=lambda path: path.name)


def read_manifest(collection_dir: Path) -> dict:
    """The manifest of a collection folder (``{"format": 1, "items": {}}`` when absent),
    checked whole (see the module docstring for the rules).

    Raises
    ------
    ArchiveError
        If ``manifest.json`` exists but cannot be read, is not valid UTF-8 JSON of the expected
        shape, or an entry is damaged or disagrees with its file on disk. The message names the
        file, the item and the fix: restore it from a back-up, or delete it (it is rebuilt from
        the archived files, without download URLs).
    """
    path = collection_dir / MANIFEST_NAME
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "items": {}}
    fix = ("restore it from a back-up or delete it (it is rebuilt from the archived files, "
           "without download URLs)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path}: not valid JSON ({exc}); {fix}") from exc
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot be read ({exc.strerror or exc}); check that it is "
                           "a file you may read") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("items"), dict):
        raise ArchiveError(f"{path}: expected an object with an 'items' mapping; {fix}")
    version = manifest.get("format", MANIFEST_FORMAT)
    if version != MANIFEST_FORMAT:
        raise ArchiveError(f"{path}: manifest format {version!r}, this eocic reads format "
                           f"{MANIFEST_FORMAT}; use the eocic that wrote it, or {fix}")
    for item, entries in manifest["items"].items():
        if not ITEM_PATTERN.fullmatch(item):
            raise ArchiveError(f"{path}: item name {item!r} is not a dataset code or geometry "
                               f"name (it would point outside {collection_dir}); {fix}")
        problem, own_fix = _entries_problem(collection_dir, item, entries)
        if problem:
            raise ArchiveError(f"{path}: item {item!r}: {problem}; {own_fix or fix}")
    return manifest


_HEX_DIGITS = frozenset("0123456789abcdef")


def _entries_problem(collection_dir: Path, item: str,
                     entries: object) -> tuple[str | None, str | None]:
    """What is wrong with the manifest entries of ``item`` and its fix when it is not the
    manifest's (``(None, None)`` when nothing is)."""
    if not isinstance(entries, list):
        return f"expected a list of vintages, found {type(entries).__name__}", None
    for number, entry in enumerate(entries, start=1):
        where = f"vintage {number}"
        if not isinstance(entry, dict):
            return f"{where} is {type(entry).__name__}, expected an object", None
        vintage = entry.get("vintage")
        if not isinstance(vintage, str) or not STAMP_PATTERN.fullmatch(vintage):
            return f"{where}: 'vintage' {vintage!r} is not a stamp YYYYMMDDTHHMMSSZ", None
        where = f"vintage {vintage}"
        if entry.get("code") != item:
            return f"{where}: 'code' {entry.get('code')!r} differs from the item", None
        relative = entry.get("path")
        if not isinstance(relative, str) or "/" not in relative \
                or relative.split("/", 1)[0] != item \
                or relative.split("/", 1)[1] not in {vintage + DATASET_SUFFIX,
                                                     vintage + GEOMETRY_SUFFIX}:
            return (f"{where}: 'path' {relative!r} is not the vintage's own file "
                    f"{item}/{vintage}<suffix>"), None
        digest = entry.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _HEX_DIGITS:
            return f"{where}: 'sha256' {digest!r} is not 64 lower-case hex digits", None
        size = entry.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return f"{where}: 'bytes' {size!r} is not a non-negative integer", None
        for field in ("retrieved_at", "last_confirmed_at"):
            if (field in entry or field == "retrieved_at") \
                    and not isinstance(entry.get(field), str):
                return (f"{where}: {field!r} {entry.get(field)!r} is not an ISO time "
                        "string"), None
        if entry.get("url") is not None and not isinstance(entry["url"], str):
            return f"{where}: 'url' {entry['url']!r} is not text", None
        target = collection_dir / relative
        if target.is_file() and target.stat().st_size != size:
            return (f"{where}: the file {target} has {target.stat().st_size:,} bytes but "
                    f"{size:,} were archived, so it was changed after archiving (archived "
                    "vintages are never modified)"), ("restore that file from a back-up, or "
                                                      "delete it and its entry in the manifest")
    return None, None


def write_manifest(collection_dir: Path, manifest: dict) -> Path:
    """Write ``manifest.json`` atomically (indented, sorted keys, vintages oldest first)."""
    for entries in manifest["items"].values():
        entries.sort(key=lambda entry: entry["vintage"])
    manifest["format"] = MANIFEST_FORMAT
    return write_json_atomic(collection_dir / MANIFEST_NAME, manifest)


def _describe_file(collection_dir: Path, code: str, path: Path) -> dict:
    """Manifest entry of a vintage file found on disk but missing from the manifest."""
    stamp = path.name.split(".", 1)[0]
    moment = dt.datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=dt.timezone.utc)
    return {
        "code": code, "vintage": stamp, "path": path.relative_to(collection_dir).as_posix(),
        "url": None, "sha256": sha256_of(path), "bytes": path.stat().st_size,
        "retrieved_at": iso_utc(moment), "last_confirmed_at": iso_utc(moment),
        "last_modified": None, "etag": None, "recovered": True,
    }


def reconcile_item(collection_dir: Path, manifest: dict, code: str, suffix: str) -> list[dict]:
    """Manifest entries of ``code`` after adding any vintage file the manifest lacks.

    Entries whose file has disappeared are kept (the manifest is a record) but flagged
    ``"missing": true`` so that they are never resolved as a vintage.
    """
    entries = manifest["items"].setdefault(code, [])
    by_stamp = {entry["vintage"]: entry for entry in entries}
    on_disk = {path.name.split(".", 1)[0]: path
               for path in list_vintages(collection_dir / code, suffix)}
    for stamp, path in on_disk.items():
        if stamp not in by_stamp:
            entry = _describe_file(collection_dir, code, path)
            entries.append(entry)
            by_stamp[stamp] = entry
    for stamp, entry in by_stamp.items():
        if stamp in on_disk:
            entry.pop("missing", None)
        else:
            entry["missing"] = True
    entries.sort(key=lambda entry: entry["vintage"])
    return entries


# --------------------------------------------------------------------------------------------
# Writing the archive


def commit_vintage(collection_dir: Path, code: str, suffix: str, part: Path, *,
                   moment: dt.datetime, url: str, last_modified: str | None = None,
                   etag: str | None = None, extra: dict | None = None) -> ArchivedFile:
    """Move a verified download ``part`` into the archive as the vintage of ``moment``.

    If its bytes equal the newest vintage of ``code`` (SHA-256), nothing is stored: the
    ``part`` is deleted and the newest vintage's ``last_confirmed_at`` is updated. Otherwise
    it becomes ``<collection_dir>/<code>/<stamp><suffix>`` and a manifest entry is added.

    Parameters
    ----------
    collection_dir : Path
        ``raw_dir/eurostat`` or ``raw_dir/gisco``.
    code : str
        Item name (dataset code or geometry name); the vintage folder is named after it.
    part : Path
        The complete, validated download, in ``collection_dir/code`` (same file system).
    moment : datetime
        Download time; gives the vintage stamp and ``retrieved_at``.
    extra : dict, optional
        Additional manifest fields (e.g. the Eurostat asynchronous request key).

    Raises
    ------
    ArchiveError
        If a different file already holds this vintage's name (two downloads within the same
        second, or an injected clock): archived vintages are never overwritten. The ``part``
        is deleted.
    """
    manifest = read_manifest(collection_dir)
    entries = reconcile_item(collection_dir, manifest, code, suffix)
    digest = sha256_of(part)
    size = part.stat().st_size
    present = [entry for entry in entries if not entry.get("missing")]
    newest = present[-1] if present else None
    if newest is not None and newest["sha256"] == digest:
        part.unlink()
        newest["last_confirmed_at"] = iso_utc(moment)
        write_manifest(collection_dir, manifest)
        return _archived(collection_dir, newest, "unchanged")

    stamp = vintage_stamp(moment)
    target = collection_dir / code / f"{stamp}{suffix}"
    try:
        os.link(part, target)  # fails if ``target`` exists: never overwrite a vintage
    except FileExistsError:
        part.unlink()
        raise ArchiveError(
            f"{target} already exists with different content; archived vintages are never "
            "overwritten. Wait a second and fetch again (or check the injected clock)") from None
    except OSError:  # file system without hard links: check, then rename
        if target.exists():
            part.unlink()
            raise ArchiveError(f"{target} already exists; archived vintages are never "
                               "overwritten") from None
        os.replace(part, target)
    else:
        part.unlink()
    entry = {
        "code": code, "vintage": stamp, "path": target.relative_to(collection_dir).as_posix(),
        "url": url, "sha256": digest, "bytes": size, "retrieved_at": iso_utc(moment),
        "last_confirmed_at": iso_utc(moment), "last_modified": last_modified, "etag": etag,
    }
    entry.update(extra or {})
    entries[:] = [existing for existing in entries if existing["vintage"] != stamp] + [entry]
    write_manifest(collection_dir, manifest)
    return _archived(collection_dir, entry, "new")


def _archived(collection_dir: Path, entry: dict, status: str) -> ArchivedFile:
    return ArchivedFile(
        code=entry["code"], path=collection_dir / entry["path"], vintage=entry["vintage"],
        sha256=entry["sha256"], bytes=entry["bytes"], url=entry.get("url") or "",
        status=status, retrieved_at=entry["retrieved_at"],
        last_modified=entry.get("last_modified"), etag=entry.get("etag"),
        final_url=entry.get("final_url"))


def fresh_vintage(collection_dir: Path, code: str, suffix: str, *, url: str,
                  moment: dt.datetime) -> ArchivedFile | None:
    """The newest vintage of ``code`` if it was downloaded from ``url`` and retrieved or
    confirmed on the same UTC day as ``moment``; otherwise ``None`` (download again).

    This is what lets an interrupted ``eocic fetch`` resume: datasets already done today are
    skipped (Eurostat publishes at most twice a day), the rest are downloaded.
    """
    manifest = read_manifest(collection_dir)
    entries = [entry for entry in reconcile_item(collection_dir, manifest, code, suffix)
               if not entry.get("missing")]
    if not entries or entries[-1].get("url") != url:
        return None
    newest = entries[-1]
    checked = newest.get("last_confirmed_at") or newest["retrieved_at"]
    if checked[:10] != iso_utc(moment)[:10]:
        return None
    return _archived(collection_dir, newest, "skipped")


# --------------------------------------------------------------------------------------------
# Resolving vintages for a study


def resolve_vintage(item_dir: Path, suffix: str, *, pinned: str | None = None,
                    hint: str) -> Path:
    """Newest vintage file in ``item_dir``, or the one whose stamp starts with ``pinned``.

    ``pinned`` is a full stamp (``20250314T091500Z``) or an unambiguous prefix of one
    (``20250314``). ``hint`` is the command that creates a vintage, quoted in errors.

    Raises
    ------
    MissingVintageError
        If there is no vintage, or none (or more than one) matching the pin.
    """
    vintages = list_vintages(item_dir, suffix)
    if not vintages:
        raise MissingVintageError(
            f"no archived vintage in {item_dir}; run `{hint}` on a machine with internet access")
    if pinned is None:
        return vintages[-1]
    pin = str(pinned).strip()
    if pin.endswith(suffix):
        pin = pin[: -len(suffix)]
    matches = [path for path in vintages if path.name.startswith(pin)]
    stamps = ", ".join(path.name[: -len(suffix)] for path in vintages)
    if not pin or not matches:
        raise MissingVintageError(
            f"pinned vintage {pinned!r} not found in {item_dir}; archived vintages: {stamps}")
    if len(matches) > 1:
        raise MissingVintageError(
            f"pinned vintage {pinned!r} is ambiguous in {item_dir} (matches "
            f"{', '.join(path.name for path in matches)}); give the full stamp")
    return matches[0]


def newest_vintage(raw_dir: str | os.PathLike[str], code: str, *,
                   pinned: str | None = None) -> Path:
    """The archived file of dataset ``code``: the newest vintage, or the ``pinned`` one.

    Parameters
    ----------
    raw_dir : path
        Raw-data folder holding ``eurostat/<code>/<stamp>.tsv.gz``.
    code : str
        Eurostat dataset code (case-insensitive).
    pinned : str, optional
        Vintage stamp ``YYYYMMDDTHHMMSSZ`` (or an unambiguous prefix such as ``20250314``).

    Raises
    ------
    MissingVintageError
        If nothing is archived for ``code`` (the message says to run
        ``eocic fetch --datasets CODE``) or the pin matches no (or several) vintages.
    """
    code = normalise_code(code)
    return resolve_vintage(Path(raw_dir) / EUROSTAT_FOLDER / code, DATASET_SUFFIX,
                           pinned=pinned, hint=f"eocic fetch --datasets {code}")


def archived_datasets(raw_dir: str | os.PathLike[str], *,
                      pins: dict[str, str] | None = None) -> dict[str, Path]:
    """Newest (or pinned) vintage of every archived dataset: what ``--source eurostat`` uses.

    Returns
    -------
    dict
        Dataset code (lower case) -> archived ``.tsv.gz`` file, sorted by code. Codes with a
        folder but no vintage file are left out.

    Raises
    ------
    MissingVintageError
        If a code in ``pins`` has no archive, or its pin matches no vintage.
    """
    collection_dir = Path(raw_dir) / EUROSTAT_FOLDER
    pins = {normalise_code(code): stamp for code, stamp in (pins or {}).items()}
    codes = sorted(path.name for path in collection_dir.iterdir()
                   if path.is_dir() and list_vintages(path, DATASET_SUFFIX)) \
        if collection_dir.is_dir() else []
    missing = sorted(set(pins) - set(codes))
    if missing:
        raise MissingVintageError(
            f"pinned dataset(s) {', '.join(missing)} have no archived vintage under "
            f"{collection_dir}; run `eocic fetch --datasets {' '.join(missing)}`")
    return {code: newest_vintage(raw_dir, code, pinned=pins.get(code)) for code in codes}
