r"""Secondary suppression of the demo's regional SBS table (``sbs_r_nuts06_r2``).

The published table is a grid of geography x activity cells per year and indicator:
geography = NUTS-2 regions ``r``, NUTS-1 regions ``n`` (first three characters of the NUTS-2
code) and countries ``c`` (NUTS-0); activity = the 71 divisions ``i`` and the 13 sections
``s`` (B-N; S95 has no section row). Every aggregate is the exact sum of its parts, including
suppressed parts, as in Eurostat's files. The grid is held together by two kinds of
*relations* ``total = sum of parts``:

- activity (at each geographic level): ``X_gs = sum_{i in s} X_gi``;
- geography (for each activity ``a``): ``X_na = sum_{r in n} X_ra`` and
  ``X_ca = sum_{n in c} X_na``.

A relation *reveals* a suppressed cell when exactly one of its cells (total or parts) is
suppressed: that cell is the published total minus the published parts, or the sum of the
published parts. Secondary suppression adds cells until no relation has exactly one
suppressed cell. The complement of a relation is its smallest published part (fewest persons
employed that year; for the local-units pattern fewest local units), except that aggregates
whose children are all published come after every other part (suppressing one would force
one of its children as well: :data:`CASCADE_PENALTY`); ties go to the first part in code
order. The rules, by relation:

- region x section (all levels), total published and one division suppressed: suppress the
  complement division. Two-division sections (I: I55, I56) too: the section total stays
  published, as Eurostat keeps totals where it can, and an estimator then has the pair's sum.
  A one-division section (D, L) has no other part, so its total goes with the division;
- NUTS-1 x activity, value published and one NUTS-2 child suppressed: suppress the *NUTS-1
  value itself* (not a sibling), so the NUTS-2 level, which the analyses use, loses no further
  cell; a one-region NUTS-1 is thus suppressed exactly where its region is;
- country x activity, value published and one NUTS-1 child suppressed: suppress the
  complement NUTS-1 sibling (preferably one that already has a suppressed NUTS-2 child), so
  national rows - the anchors of any estimate - stay published; a country with one NUTS-1
  region has no sibling and its value goes;
- any relation whose total is suppressed while all its parts are published (a NUTS-1 or
  national cell taken as a complement): suppress its smallest part (child region).

The relation families are swept in the fixed order NUTS-2 activity, NUTS-1 geography, NUTS-1
activity, NUTS-0 geography, NUTS-0 activity (relations within a family share no cell), and
the sweeps repeat until one changes nothing. Suppression only grows, so the loop ends; the
result is deterministic. Protection is against disclosure through a single relation (the
pattern of the real file: no region x section with a published total and exactly one missing
division). A suppressed cell may still be bounded, or in rare chains determined, by
combining several relations; full audits (e.g. tau-ARGUS) rule that out, this demo does not.
The real 2014 file is less strict along geography (38 of 853 NUTS-1 x division cells with one
missing NUTS-2 child have a published value); the demo has none.

References: Hundepool, A. et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4
(tabular data, primary and secondary suppression, the "singleton" problem); Eurostat,
*Structural business statistics - confidentiality* (SBS metadata, ESMS ``sbs_esms``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GEOGRAPHY, ACTIVITY = "geography", "activity"

CASCADE_PENALTY = 1e12
"""Added to the value of a candidate aggregate whose children are all published, so that
aggregates which already have a suppressed child are chosen first (larger than any value)."""


@dataclass(frozen=True)
class RelationFamily:
    """Relations ``total = sum of parts`` of one kind at one level.

    ``totals`` (R,) flat cell index of each relation's total; ``parts`` (R, P) flat indices of
    its parts, padded with -1.
    """

    kind: str
    level: int
    totals: np.ndarray
    parts: np.ndarray


@dataclass(frozen=True)
class PublicationGrid:
    """Geography x activity cells of the regional SBS table.

    Attributes
    ----------
    geo : list of str
        NUTS-2 codes (in the order given), then NUTS-1 codes (sorted), then countries.
    level : ndarray of int
        NUTS level of each ``geo`` (2, 1 or 0).
    activity : list of str
        Division codes (in the order given), then section letters (sorted).
    geo_matrix : ndarray (G, R)
        1 where NUTS-2 region ``r`` lies in ``geo`` ``g`` (identity on the NUTS-2 block).
    activity_matrix : ndarray (A, I)
        1 where division ``i`` lies in activity ``a`` (identity on the division block).
    families : list of RelationFamily
        In sweep order: activity at NUTS-2, geography NUTS-1, activity at NUTS-1, geography
        NUTS-0, activity at NUTS-0.
    """

    geo: list[str]
    level: np.ndarray
    activity: list[str]
    geo_matrix: np.ndarray
    activity_matrix: np.ndarray
    families: list[RelationFamily]

    @property
    def n_regions(self) -> int:
        return self.geo_matrix.shape[1]

    @property
    def n_divisions(self) -> int:
        return self.activity_matrix.shape[1]

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Sums of NUTS-2 x division ``values`` (R, I, T) over the grid: (G, A, T)."""
        by_geo = np.tensordot(self.geo_matrix, values, axes=(1, 0))  # (G, I, T)
        return np.tensordot(self.activity_matrix, by_geo, axes=(1, 1)).transpose(1, 0, 2)


@dataclass(frozen=True)
class SuppressionPattern:
    """Which cells of the regional SBS table are published as confidential (``c``).

    Attributes
    ----------
    grid : PublicationGrid
    years : ndarray of int (T,)
    employment : ndarray of bool (G, A, T)
        Persons employed (V16110) and wages (V13320), which are suppressed together.
    local_units : ndarray of bool (G, A, T)
        Local units (V11210).
    """

    grid: PublicationGrid
    years: np.ndarray
    employment: np.ndarray
    local_units: np.ndarray


def _padded(rows: list[list[int]]) -> np.ndarray:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for k, row in enumerate(rows):
        out[k, : len(row)] = row
    return out


def publication_grid(
    regions: list[str], countries: list[str], divisions: list[str], sections: list[str]
) -> PublicationGrid:
    """The grid and its relations for NUTS-2 ``regions`` (with their ``countries``) and
    ``divisions`` (with their ``sections``; a section ``""`` or one not in B-N, like S for
    S95, gets no section row)."""
    nuts1 = sorted({code[:3] for code in regions})
    nations = list(dict.fromkeys(countries))
    geo = [*regions, *nuts1, *nations]
    level = np.array([2] * len(regions) + [1] * len(nuts1) + [0] * len(nations))
    published_sections = sorted({s for s in sections if s in "BCDEFGHIJKLMN" and s})
    activity = [*divisions, *published_sections]
    n_g, n_a, n_r, n_i = len(geo), len(activity), len(regions), len(divisions)

    geo_matrix = np.zeros((n_g, n_r))
    geo_matrix[np.arange(n_r), np.arange(n_r)] = 1.0
    for r, (code, country) in enumerate(zip(regions, countries)):
        geo_matrix[n_r + nuts1.index(code[:3]), r] = 1.0
        geo_matrix[n_r + len(nuts1) + nations.index(country), r] = 1.0
    activity_matrix = np.zeros((n_a, n_i))
    activity_matrix[np.arange(n_i), np.arange(n_i)] = 1.0
    for i, section in enumerate(sections):
        if section in published_sections:
            activity_matrix[n_i + published_sections.index(section), i] = 1.0

    def cell(g: int, a: int) -> int:
        return g * n_a + a

    def activity_family(geo_level: int) -> RelationFamily:
        totals, parts = [], []
        for g in np.flatnonzero(level == geo_level):
            for k, section in enumerate(published_sections):
                totals.append(cell(g, n_i + k))
                parts.append([cell(g, i) for i in range(n_i) if sections[i] == section])
        return RelationFamily(ACTIVITY, geo_level, np.array(totals), _padded(parts))

    country_of = {code[:3]: country for code, country in zip(regions, countries)}
    parent_of = {**{code: code[:3] for code in regions}, **country_of}

    def geography_family(parent_level: int) -> RelationFamily:
        totals, parts = [], []
        children_of: dict[int, list[int]] = {}
        for g in np.flatnonzero(level == parent_level + 1):
            children_of.setdefault(geo.index(parent_of[geo[g]]), []).append(int(g))
        for p, children in sorted(children_of.items()):
            for a in range(n_a):
                totals.append(cell(p, a))
                parts.append([cell(c, a) for c in children])
        return RelationFamily(GEOGRAPHY, parent_level, np.array(totals), _padded(parts))

    families = [activity_family(2), geography_family(1), activity_family(1),
                geography_family(0), activity_family(0)]
    return PublicationGrid(geo, level, activity, geo_matrix, activity_matrix, families)


def secondary_suppression(
    grid: PublicationGrid, primary: np.ndarray, values: np.ndarray, *, max_sweeps: int = 100
) -> tuple[np.ndarray, int]:
    """Suppressed cells of the whole grid after secondary suppression (see the module docstring).

    Parameters
    ----------
    grid : PublicationGrid
    primary : ndarray of bool (R, I, T)
        Primary confidential NUTS-2 x division cells.
    values : ndarray (R, I, T)
        The indicator's NUTS-2 x division values; they rank candidate complements ("smallest").
    max_sweeps : int
        Safety bound; the loop ends long before (suppression only grows).

    Returns
    -------
    suppressed : ndarray of bool (G, A, T)
        Suppressed cells (primary and secondary) of every geography x activity cell.
    sweeps : int
        Number of sweeps over the relation families (the last one changed nothing).
    """
    n_r, n_i, n_t = primary.shape
    n_g, n_a = len(grid.geo), len(grid.activity)
    full = grid.aggregate(values).reshape(n_g * n_a, n_t)
    suppressed = np.zeros((n_g, n_a, n_t), dtype=bool)
    suppressed[:n_r, :n_i] = primary
    suppressed = suppressed.reshape(n_g * n_a, n_t)
    # children of each aggregate cell in the geography relations (-1: none, e.g. NUTS-2 cells)
    width = max(f.parts.shape[1] for f in grid.families if f.kind == GEOGRAPHY)
    children = np.full((n_g * n_a, width), -1, dtype=np.int64)
    for family in grid.families:
        if family.kind == GEOGRAPHY:
            children[family.totals, : family.parts.shape[1]] = family.parts
    for sweep in range(1, max_sweeps + 1):
        changed = False
        for family in grid.families:
            valid = family.parts >= 0
            parts = np.where(valid, family.parts, 0)
            part_suppressed = suppressed[parts] & valid[:, :, None]
            n_suppressed = part_suppressed.sum(axis=1)
            total_suppressed = suppressed[family.totals]
            reveals_part = ~total_suppressed & (n_suppressed == 1)
            reveals_total = total_suppressed & (n_suppressed == 0)
            rel, year = np.nonzero(reveals_part | reveals_total)
            if len(rel) == 0:
                continue
            changed = True
            if family.kind == GEOGRAPHY and family.level == 1:  # NUTS-1: the parent itself
                up = reveals_part[rel, year]
                suppressed[family.totals[rel[up]], year[up]] = True
                rel, year = rel[~up], year[~up]
            # complement: the smallest published part, aggregates with no suppressed child last
            candidates = parts[rel]
            open_ = valid[rel] & ~part_suppressed[rel, :, year]
            kids = children[candidates]
            has_kids = (kids >= 0).any(axis=2)
            kid_suppressed = (suppressed[np.where(kids >= 0, kids, 0), year[:, None, None]]
                              & (kids >= 0)).any(axis=2)
            cost = full[candidates, year[:, None]] + CASCADE_PENALTY * (has_kids & ~kid_suppressed)
            cost = np.where(open_, cost, np.inf)
            found = np.isfinite(cost.min(axis=1))
            pick = cost.argmin(axis=1)
            suppressed[candidates[found, pick[found]], year[found]] = True
            suppressed[family.totals[rel[~found]], year[~found]] = True  # one-part relations
        if not changed:
            return suppressed.reshape(n_g, n_a, n_t), sweep
    raise RuntimeError(f"secondary suppression did not settle in {max_sweeps} sweeps")


def revealing_relations(grid: PublicationGrid, suppressed: np.ndarray) -> int:
    """Number of relation x year pairs with exactly one suppressed cell (0 after
    :func:`secondary_suppression`)."""
    n_g, n_a, n_t = suppressed.shape
    flat = suppressed.reshape(n_g * n_a, n_t)
    count = 0
    for family in grid.families:
        valid = family.parts >= 0
        n_suppressed = (flat[np.where(valid, family.parts, 0)] & valid[:, :, None]).sum(axis=1)
        count += int(((n_suppressed + flat[family.totals]) == 1).sum())
    return count
