"""The scoreboard framework as data: loading and validating ``framework.yaml``.

A framework file holds one or more composite indices. Each index is a tree
``index -> dimensions -> sub-dimensions -> indicators`` written as flat lists in which every
item names its ``parent`` (the layout of COINr's ``iMeta`` table). An indicator names the
processed table its numerator comes from, an optional denominator, its unit, its direction
(+1 more is better, -1 less is better), its weight and a one-line rationale. Indicators the
official scoreboard uses but that have no open regional source here are listed under
``not_available`` with the reason, instead of being invented.

Validation (:func:`load_framework`, :func:`parse_framework`) stops at the first problem with a
:class:`FrameworkError` naming the file, the index, the item code, the field and the fix:
unknown source table or indicator code, duplicate codes, unknown parents, cycles, missing
fields, weights that are not positive, directions other than +1/-1, groups without children.

Availability of the official indicators. ``official_indicators.csv`` beside the YAML lists,
per index and dimension, each official EOCIC indicator named in the methodology (the complete
official lists, 65 indicators for industrial change and about 60 for the ecosystem, are not
in the offline data) with its status: ``used`` (the framework codes that measure it from open
data), ``proxied`` (codes whose name starts with ``[proxy]``: a different open series stands
in for it), ``not_available`` (the reason) or ``added`` (an open-data indicator eocic adds).
``tests/test_scoreboard_framework_depth.py`` keeps the table and the YAML consistent. Every
dimension has at least two non-proxy indicators except eco-efficiency (regional emissions,
JRC EDGAR, are not in the registry or the shared data) and access to finance (venture capital
and SME credit have no open regional series). Quality of governance is a placeholder: the
European Quality of Government Index is published per NUTS-2 region but is not in the shared
data and cannot be fetched offline, so governance is not measured (the landing page says so,
:func:`eocic.findings.scoreboard_coverage`); supply it as a ``csv`` source to measure it.

Which indicators a run measures depends on the datasets its source holds. On the shared
2014 extracts (``eocic study --source <shared>/data --year 2014``) 31 of the 44
industrial-change indicators (8 of 8 dimensions, eco-efficiency through proxies only) and 31
of the 44 ecosystem indicators (5 of 6 dimensions, access to finance through proxies only)
survive screening (``tests/test_eurostat_panel.py`` keeps it at 30 or more). Besides the
Eurostat bulk files, the shared folder feeds the context table through registry datasets in
other layouts: the I40 database (``htec_emp_reg2`` high-tech manufacturing and KIS,
``edat_lfse_12``), the Eurostat tgs panel (tgs00010 unemployment 15+, tepsr_lm220 gender
employment gap), rOpenGov's copy of ``isoc_r_iuse_i`` (daily internet use), all read by
:mod:`eocic.eurostat.panel`, and the JRC ARDECO exports (tertiary attainment, investment at
2015 prices, :mod:`eocic.eurostat.ardeco`). The indicators still dropped read datasets absent
from those extracts (business demography, ``isoc_r_broad_h``/``iacc_h``/``blt12_i``/``gov_i``,
``nama_10r_2gfcf``, ``lfst_r_lfsd2pwc``, ``ipr_ta_reg``/``ipr_da_reg``,
``lfst_r_lfe2estat``, ``lfst_r_lfe2emprt``, ``lfst_r_lfu3rt``, ``nama_10r_3gva``/``3empers``,
``edat_lfse_22``, ``demo_r_d3dens``); the Regions-and-Cities tables hold some of them for
single years (2012, 2013) and could feed ``csv`` sources once converted to a user indicator
table.

Levels are derived from the depth in the tree: the index itself is ``index``, its children
are ``dimension``, their children ``subdimension``; deeper nesting is refused. An indicator may
hang on a dimension or a sub-dimension.
"""

from __future__ import annotations

import dataclasses
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from eocic.errors import EocicError
from eocic.eurostat.registry import DATASETS

#: The framework shipped with the package.
DEFAULT_FRAMEWORK = "framework.yaml"

#: Source tables an indicator can read.
SOURCE_TABLES = ("context", "demography", "sbs", "regional_totals", "cluster_mapping",
                 "scheme_employment", "csv")

#: Measures of the sbs table and of the cluster-mapping output.
SBS_MEASURES = ("employment", "local_units", "wages_eur")
CLUSTER_MEASURES = ("employment",)
#: Measures of the ``scheme_employment`` table (every division counted once).
SCHEME_MEASURES = ("employment", "cluster_employment")

LEVELS = ("index", "dimension", "subdimension", "indicator")

_INDICATOR_FIELDS = ("code", "name", "parent", "source", "unit", "direction", "rationale")
_GROUP_FIELDS = ("code", "name", "parent")


class FrameworkError(EocicError, ValueError):
    """A framework file that cannot be used; the message names the item and the fix."""


def context_indicator_codes() -> frozenset[str]:
    """Indicator codes of the ``context`` table (GDP, population and context datasets)."""
    return frozenset(
        indicator.code
        for dataset in DATASETS.values()
        if dataset.feeds in ("context", "gdp", "population")
        for indicator in dataset.indicators
    )


def demography_indicator_codes() -> frozenset[str]:
    """Indicator codes of the ``demography`` table."""
    return frozenset(
        indicator.code
        for dataset in DATASETS.values()
        if dataset.feeds == "demography"
        for indicator in dataset.indicators
    )


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a numerator or denominator comes from (see ``framework.yaml`` header).

    Attributes
    ----------
    table : str
        One of :data:`SOURCE_TABLES`.
    indicator : str or None
        Indicator code (``context``, ``demography``).
    measure : str or None
        Value column (``sbs``: employment, local_units, wages_eur; ``cluster_mapping``:
        employment).
    divisions : tuple of str
        ``sbs``: NACE divisions (``C21``) or section letters (``C`` = every C division);
        empty = all.
    sections : tuple of str
        ``demography``: NACE section letters; empty = all sections in the table.
    scheme : str or None
        ``cluster_mapping``: the scheme to read (e.g. ``emerging``); None = all schemes.
    categories : tuple of str
        ``cluster_mapping``: categories to keep; empty = all.
    clusters_only : bool
        ``cluster_mapping``: keep only region x category cells flagged ``is_cluster``.
    path : Path or None
        ``csv``: file with columns ``geo, year, value``, or, when ``indicator`` is given, a
        user indicator table (``geo, year, indicator, value`` with its metadata file,
        :mod:`eocic.scoreboard.user_indicators`) from which that indicator is read.
    """

    table: str
    indicator: str | None = None
    measure: str | None = None
    divisions: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    scheme: str | None = None
    categories: tuple[str, ...] = ()
    clusters_only: bool = False
    path: Path | None = None

    def describe(self) -> str:
        """Short human-readable description, e.g. ``sbs:employment[C21,C26]``."""
        key = self.indicator or self.measure or (str(self.path) if self.path else "")
        if self.table == "csv" and self.indicator and self.path:
            key = f"{self.path.name}:{self.indicator}"  # which user table, which indicator
        subset = self.divisions or self.sections or self.categories
        text = f"{self.table}:{key}"
        if self.scheme:
            text += f"/{self.scheme}"
        if self.clusters_only:
            text += "/clusters"
        if subset:
            text += "[" + ",".join(subset) + "]"
        return text


@dataclasses.dataclass(frozen=True)
class Indicator:
    """One indicator: value = scale * numerator / denominator (or scale * numerator)."""

    code: str
    name: str
    parent: str
    source: Source
    denominator: Source | None
    scale: float
    unit: str
    direction: int
    weight: float
    rationale: str


@dataclasses.dataclass(frozen=True)
class Group:
    """An aggregate node: the index, a dimension or a sub-dimension."""

    code: str
    name: str
    parent: str | None
    level: str
    weight: float = 1.0
    placeholder: bool = False


@dataclasses.dataclass(frozen=True)
class IndexFramework:
    """One composite index: its groups, indicators and the list of unavailable indicators.

    ``groups`` includes the root (level ``index``, code = the index code, parent None).
    """

    code: str
    name: str
    description: str
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    not_available: tuple[dict, ...]
    origin: str = ""

    # -- tree navigation -------------------------------------------------------------------
    @property
    def group_codes(self) -> list[str]:
        return [group.code for group in self.groups]

    @property
    def indicator_codes(self) -> list[str]:
        return [indicator.code for indicator in self.indicators]

    def group(self, code: str) -> Group:
        for group in self.groups:
            if group.code == code:
                return group
        raise KeyError(f"index {self.code!r} has no group {code!r}")

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(f"index {self.code!r} has no indicator {code!r}")

    def children(self, code: str) -> list[str]:
        """Codes of the direct children (groups first, then indicators, in file order);
        placeholder groups (no open data) are not children."""
        return ([g.code for g in self.groups if g.parent == code and not g.placeholder]
                + [i.code for i in self.indicators if i.parent == code])

    def level_of(self, code: str) -> str:
        if code in self.indicator_codes:
            return "indicator"
        return self.group(code).level

    def weight_of(self, code: str) -> float:
        if code in self.indicator_codes:
            return self.indicator(code).weight
        return self.group(code).weight

    def name_of(self, code: str) -> str:
        if code in self.indicator_codes:
            return self.indicator(code).name
        return self.group(code).name

    def leaves_under(self, code: str) -> list[str]:
        """Indicator codes below ``code`` (itself if it is an indicator)."""
        if code in self.indicator_codes:
            return [code]
        leaves: list[str] = []
        for child in self.children(code):
            leaves.extend(self.leaves_under(child))
        return leaves

    def groups_bottom_up(self) -> list[str]:
        """Non-placeholder group codes ordered so that every group comes after its children."""
        depth = {"subdimension": 2, "dimension": 1, "index": 0}
        ordered = sorted(
            (g for g in self.groups if not g.placeholder),
            key=lambda g: -depth[g.level],
        )
        return [g.code for g in ordered]

    def dimensions(self) -> list[str]:
        return [g.code for g in self.groups if g.level == "dimension" and not g.placeholder]

    def without(self, indicator_codes: set[str] | list[str]) -> tuple[IndexFramework, list[str]]:
        """The framework without some indicators, pruning groups left with no children.

        Returns the pruned framework and a message per removed group (never silent).
        """
        drop = set(indicator_codes)
        indicators = tuple(i for i in self.indicators if i.code not in drop)
        groups = list(self.groups)
        messages = []
        changed = True
        while changed:
            changed = False
            for group in list(groups):
                if group.level == "index" or group.placeholder:
                    continue
                has_child = any(g.parent == group.code for g in groups) or any(
                    i.parent == group.code for i in indicators)
                if not has_child:
                    groups.remove(group)
                    messages.append(f"{self.code}: {group.level} {group.code!r} "
                                    f"({group.name}) has no indicator left and is left out")
                    changed = True
        pruned = dataclasses.replace(self, groups=tuple(groups), indicators=indicators)
        return pruned, messages

    def with_weights(self, weights: dict[str, float]) -> IndexFramework:
        """A copy with some weights replaced (code -> weight > 0)."""
        unknown = set(weights) - set(self.group_codes) - set(self.indicator_codes)
        if unknown:
            raise FrameworkError(f"{self.code}: weights for unknown codes {sorted(unknown)}; "
                                 "use group or indicator codes of this index")
        for code, weight in weights.items():
            _check_weight(weight, f"{self.code}: weight of {code!r}")
        groups = tuple(dataclasses.replace(g, weight=float(weights.get(g.code, g.weight)))
                       for g in self.groups)
        indicators = tuple(dataclasses.replace(i, weight=float(weights.get(i.code, i.weight)))
                           for i in self.indicators)
        return dataclasses.replace(self, groups=groups, indicators=indicators)

    def table(self) -> "Any":
        """The tree as a DataFrame: code, name, level, parent, weight, direction, unit,
        source, denominator, rationale (indicators); groups have empty indicator fields."""
        import pandas as pd

        rows = [dict(code=g.code, name=g.name, level=g.level, parent=g.parent or "",
                     weight=g.weight, direction=None, unit="", source="", denominator="",
                     rationale="placeholder: no open data" if g.placeholder else "")
                for g in self.groups]
        rows += [dict(code=i.code, name=i.name, level="indicator", parent=i.parent,
                      weight=i.weight, direction=i.direction, unit=i.unit,
                      source=i.source.describe(),
                      denominator=i.denominator.describe() if i.denominator else "",
                      rationale=i.rationale) for i in self.indicators]
        return pd.DataFrame(rows)


@dataclasses.dataclass(frozen=True)
class Framework:
    """A framework file: its indices by code."""

    indices: dict[str, IndexFramework]
    origin: str = ""

    def __getitem__(self, code: str) -> IndexFramework:
        try:
            return self.indices[code]
        except KeyError:
            raise KeyError(f"{self.origin}: no index {code!r}; indices are "
                           f"{sorted(self.indices)}") from None


# -- parsing -----------------------------------------------------------------------------------

def _check_weight(weight: Any, where: str) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise FrameworkError(f"{where}: weight {weight!r} is not a number; give a number > 0")
    if not weight > 0:
        raise FrameworkError(f"{where}: weight {weight!r} must be > 0 (drop the item instead "
                             "of giving it weight 0)")
    return float(weight)


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FrameworkError(f"{where}: expected a list of codes, got {value!r}")
    return tuple(value)


def _parse_source(spec: Any, where: str, base_dir: Path | None) -> Source:
    if not isinstance(spec, dict) or "table" not in spec:
        raise FrameworkError(f"{where}: must be a mapping with a 'table' key, one of "
                             f"{list(SOURCE_TABLES)}")
    table = spec["table"]
    if table not in SOURCE_TABLES:
        raise FrameworkError(f"{where}: unknown source table {table!r}; use one of "
                             f"{list(SOURCE_TABLES)}")
    allowed = {"context": {"table", "indicator"},
               "demography": {"table", "indicator", "sections"},
               "sbs": {"table", "measure", "divisions"},
               "regional_totals": {"table", "measure"},
               "cluster_mapping": {"table", "measure", "scheme", "categories", "clusters_only"},
               "scheme_employment": {"table", "measure", "scheme"},
               "csv": {"table", "path", "indicator"}}[table]
    extra = set(spec) - allowed
    if extra:
        raise FrameworkError(f"{where}: keys {sorted(extra)} do not apply to table {table!r}; "
                             f"allowed keys: {sorted(allowed)}")
    if table == "context":
        code = spec.get("indicator")
        known = context_indicator_codes()
        if code not in known:
            raise FrameworkError(f"{where}: unknown context indicator {code!r}; known codes: "
                                 f"{sorted(known)} (eocic/eurostat/registry.py)")
        return Source(table, indicator=code)
    if table == "demography":
        code = spec.get("indicator")
        known = demography_indicator_codes()
        if code not in known:
            raise FrameworkError(f"{where}: unknown demography indicator {code!r}; known "
                                 f"codes: {sorted(known)}")
        sections = _as_tuple(spec.get("sections"), f"{where}.sections")
        bad = [s for s in sections if not (len(s) == 1 and s.isalpha() and s.isupper())]
        if bad:
            raise FrameworkError(f"{where}.sections: {bad} are not NACE section letters")
        return Source(table, indicator=code, sections=sections)
    if table == "sbs":
        measure = spec.get("measure")
        if measure not in SBS_MEASURES:
            raise FrameworkError(f"{where}: unknown sbs measure {measure!r}; use one of "
                                 f"{list(SBS_MEASURES)}")
        divisions = _as_tuple(spec.get("divisions"), f"{where}.divisions")
        bad = [d for d in divisions
               if not (d[:1].isalpha() and d[:1].isupper() and (len(d) == 1 or
                                                               (len(d) == 3 and d[1:].isdigit())))]
        if bad:
            raise FrameworkError(f"{where}.divisions: {bad} are neither NACE divisions (C21) "
                                 "nor section letters (C)")
        return Source(table, measure=measure, divisions=divisions)
    if table == "regional_totals":
        measure = spec.get("measure")
        if measure not in SBS_MEASURES:
            raise FrameworkError(f"{where}: unknown regional_totals measure {measure!r}; use one "
                                 f"of {list(SBS_MEASURES)}")
        return Source(table, measure=measure)
    if table == "scheme_employment":
        measure = spec.get("measure", "employment")
        if measure not in SCHEME_MEASURES:
            raise FrameworkError(f"{where}: unknown scheme_employment measure {measure!r}; use "
                                 f"one of {list(SCHEME_MEASURES)}")
        scheme = spec.get("scheme")
        if scheme is None:
            raise FrameworkError(f"{where}: a scheme_employment source needs 'scheme' (sector, "
                                 "cluster or emerging)")
        return Source(table, measure=measure, scheme=str(scheme))
    if table == "cluster_mapping":
        measure = spec.get("measure", "employment")
        if measure not in CLUSTER_MEASURES:
            raise FrameworkError(f"{where}: unknown cluster_mapping measure {measure!r}; use "
                                 f"one of {list(CLUSTER_MEASURES)}")
        clusters_only = spec.get("clusters_only", False)
        if not isinstance(clusters_only, bool):
            raise FrameworkError(f"{where}.clusters_only: must be true or false")
        scheme = spec.get("scheme")
        return Source(table, measure=measure, scheme=None if scheme is None else str(scheme),
                      categories=_as_tuple(spec.get("categories"), f"{where}.categories"),
                      clusters_only=clusters_only)
    # csv
    raw_path = spec.get("path")
    if not isinstance(raw_path, str) or not raw_path:
        raise FrameworkError(f"{where}: a csv source needs 'path' (file with columns geo, "
                             "year, value)")
    path = Path(os.path.expandvars(raw_path))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    code = spec.get("indicator")
    if code is not None and (not isinstance(code, str) or not code):
        raise FrameworkError(f"{where}: indicator {code!r} must be the code of an indicator of "
                             "the user table (a column 'indicator' value)")
    return Source(table, indicator=code, path=path)


def _parse_index(code: str, spec: Any, origin: str, base_dir: Path | None) -> IndexFramework:
    where = f"{origin}: index {code!r}"
    if not isinstance(spec, dict):
        raise FrameworkError(f"{where}: must be a mapping with name, groups, indicators")
    for key in ("name", "groups", "indicators"):
        if key not in spec:
            raise FrameworkError(f"{where}: missing field {key!r}")
    groups = [Group(code, str(spec["name"]), None, "index")]
    raw_groups = spec["groups"] or []
    raw_indicators = spec["indicators"] or []
    seen: dict[str, str] = {code: "index"}
    parents: dict[str, str] = {}
    placeholders: set[str] = set()
    for position, item in enumerate(raw_groups, start=1):
        item_where = f"{where}, groups item {position}"
        if not isinstance(item, dict):
            raise FrameworkError(f"{item_where}: must be a mapping with code, name, parent")
        for key in _GROUP_FIELDS:
            if key not in item:
                raise FrameworkError(f"{item_where} ({item.get('code', '?')}): missing field "
                                     f"{key!r}")
        gcode = str(item["code"])
        if gcode in seen:
            raise FrameworkError(f"{where}: duplicate code {gcode!r} (group); codes must be "
                                 "unique within an index, rename one")
        seen[gcode] = "group"
        parents[gcode] = str(item["parent"])
        weight = _check_weight(item.get("weight", 1), f"{where}: group {gcode!r}")
        placeholder = bool(item.get("placeholder", False))
        if placeholder:
            placeholders.add(gcode)
        groups.append(Group(gcode, str(item["name"]), str(item["parent"]), "", weight,
                            placeholder))
    indicators = []
    for position, item in enumerate(raw_indicators, start=1):
        item_where = f"{where}, indicators item {position}"
        if not isinstance(item, dict):
            raise FrameworkError(f"{item_where}: must be a mapping")
        icode = item.get("code", "?")
        for key in _INDICATOR_FIELDS:
            if key not in item or item[key] in (None, ""):
                raise FrameworkError(f"{item_where} ({icode}): missing field {key!r}; every "
                                     f"indicator needs {list(_INDICATOR_FIELDS)}")
        icode = str(icode)
        if icode in seen:
            raise FrameworkError(f"{where}: duplicate code {icode!r} (indicator); codes must be "
                                 "unique within an index, rename one")
        seen[icode] = "indicator"
        parents[icode] = str(item["parent"])
        direction = item["direction"]
        if direction not in (1, -1) or isinstance(direction, bool):
            raise FrameworkError(f"{where}: indicator {icode!r} direction {direction!r} must be "
                                 "1 (more is better) or -1 (less is better)")
        scale = item.get("scale", 1)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise FrameworkError(f"{where}: indicator {icode!r} scale {scale!r} must be a "
                                 "number > 0")
        source = _parse_source(item["source"], f"{where}: indicator {icode!r} source", base_dir)
        denominator = None
        if item.get("denominator") is not None:
            denominator = _parse_source(item["denominator"],
                                        f"{where}: indicator {icode!r} denominator", base_dir)
        indicators.append(Indicator(
            icode, str(item["name"]), str(item["parent"]), source, denominator, float(scale),
            str(item["unit"]), int(direction),
            _check_weight(item.get("weight", 1), f"{where}: indicator {icode!r}"),
            str(item["rationale"])))

    # parents exist and are groups; no cycles; depth <= 2 below the index
    for child, parent in parents.items():
        if parent not in seen:
            raise FrameworkError(f"{where}: {seen[child]} {child!r} has unknown parent "
                                 f"{parent!r}; use the code of a group or {code!r}")
        if seen[parent] == "indicator":
            raise FrameworkError(f"{where}: {child!r} has parent {parent!r}, which is an "
                                 "indicator; parents must be groups")
        if parent in placeholders:
            raise FrameworkError(f"{where}: {child!r} has parent {parent!r}, a placeholder "
                                 "group (no open data); remove placeholder: true or move it")
    depth: dict[str, int] = {code: 0}
    for start in parents:
        chain = [start]
        node = start
        while node not in depth:
            node = parents[node]
            if node in chain:
                cycle = " -> ".join(chain[chain.index(node):] + [node])
                raise FrameworkError(f"{where}: cycle in parents: {cycle}; every chain of "
                                     f"parents must end at the index {code!r}")
            chain.append(node)
        base = depth[node]
        for offset, member in enumerate(reversed(chain[:-1]), start=1):
            depth[member] = base + offset
    level_names = {1: "dimension", 2: "subdimension"}
    resolved = [groups[0]]
    for group in groups[1:]:
        level = level_names.get(depth[group.code])
        if level is None:
            raise FrameworkError(f"{where}: group {group.code!r} is nested {depth[group.code]} "
                                 "levels below the index; at most dimension -> sub-dimension")
        resolved.append(dataclasses.replace(group, level=level))
    for indicator in indicators:
        if depth[indicator.code] > 3:
            raise FrameworkError(f"{where}: indicator {indicator.code!r} is nested too deep")
        if indicator.parent == code:
            raise FrameworkError(f"{where}: indicator {indicator.code!r} hangs on the index "
                                 "itself; give it a dimension as parent")
    for group in resolved[1:]:
        has_child = any(parents.get(c) == group.code for c in parents)
        if not has_child and not group.placeholder:
            raise FrameworkError(f"{where}: group {group.code!r} has no indicator or "
                                 "sub-group; add one, remove the group, or mark it "
                                 "'placeholder: true' and list its indicators under "
                                 "not_available")
    not_available = []
    for position, item in enumerate(spec.get("not_available") or [], start=1):
        if not isinstance(item, dict) or not item.get("name") or not item.get("reason"):
            raise FrameworkError(f"{where}, not_available item {position}: needs name and "
                                 "reason")
        if item.get("parent") is not None and item["parent"] not in seen:
            raise FrameworkError(f"{where}, not_available item {position} ({item['name']}): "
                                 f"unknown parent {item['parent']!r}")
        not_available.append(dict(item))
    return IndexFramework(code, str(spec["name"]), str(spec.get("description", "")).strip(),
                          tuple(resolved), tuple(indicators), tuple(not_available), origin)


def parse_framework(document: Any, origin: str = "<framework>",
                    base_dir: Path | None = None) -> Framework:
    """Validate a parsed YAML document and build the :class:`Framework`.

    Parameters
    ----------
    document : dict
        The YAML content: ``{version: 1, indices: {code: {name, groups, indicators,
        not_available}}}``.
    origin : str
        Name of the file, used in error messages.
    base_dir : Path, optional
        Folder against which relative ``csv`` paths are resolved.
    """
    if not isinstance(document, dict) or "indices" not in document:
        raise FrameworkError(f"{origin}: top level must be a mapping with an 'indices' key")
    indices = document["indices"]
    if not isinstance(indices, dict) or not indices:
        raise FrameworkError(f"{origin}: 'indices' must map index codes to their definition")
    parsed = {code: _parse_index(str(code), spec, origin, base_dir)
              for code, spec in indices.items()}
    return Framework(parsed, origin)


#: ``yaml.safe_load``'s loader with PyYAML's libyaml (C) parser where the wheel has it: the same
#: documents, 9x faster on the shipped framework (5 ms against 50 ms; it is read by stages 03,
#: 05 and 07 and by the runner, every year of a study).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_framework(path: str | os.PathLike[str] | None = None) -> Framework:
    """Read and validate a framework YAML file (default: the one shipped with the package)."""
    if path is None:
        resource = resources.files("eocic.scoreboard").joinpath(DEFAULT_FRAMEWORK)
        text = resource.read_text(encoding="utf-8")
        origin = f"eocic/scoreboard/{DEFAULT_FRAMEWORK}"
        base_dir = None
    else:
        file = Path(path)
        if not file.is_file():
            raise FrameworkError(f"framework file {file} not found")
        text = file.read_text(encoding="utf-8")
        origin = str(file)
        base_dir = file.parent
    try:
        document = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        raise FrameworkError(f"{origin}: not valid YAML: {error}") from error
    return parse_framework(document, origin, base_dir)
