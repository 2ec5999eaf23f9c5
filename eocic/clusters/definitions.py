"""Category definitions of the cluster mapping and their allocation to NACE divisions.

Three *schemes* of categories (methodology sections 1.2 and 1.3):

``cluster``
    The 51 traded cluster categories (``CL01``..``CL51``), each a disjoint set of NACE Rev.2
    classes, derived from the US benchmark definitions (Delgado, Porter & Stern 2016, "Defining
    clusters of related industries", J. Econ. Geography 16(1)) by
    ``tools/build_cluster_definitions.py``. Classes in no category are local (non-traded).
``emerging``
    The 10 emerging industries (``EM01``..``EM10``): overlapping sets of NACE classes, the
    indicative compositions of the methodology note (not official).
``sector``
    Each NACE division of regional SBS is its own category (``C29``), weight 1.

The tables live in ``eocic/classifications/`` (``cluster_categories.csv``,
``emerging_industries.csv``, ``nace_r2_classes.csv``, ``nace_r2_divisions.csv``); their
README documents every judgement call.

Allocation weights (:func:`allocation_weights`)
    Regional data are by division d, definitions by class. The weight of division d in
    category c is the share of d's employment that is in c's classes::

        w_dc = sum_{i in c, i in d} E_i / sum_{i in d} E_i

    with E_i the national (or EU) employment of class i (basis ``class_employment``). Without
    class data the default is the proxy ``w_dc = n_dc / n_d`` (basis ``class_count``): the
    number of c's classes in d over the number of classes of d, i.e. an equal split of a
    division across its classes. For the disjoint ``cluster`` scheme ``sum_c w_dc <= 1``; the
    remainder ``1 - sum_c w_dc`` is the division's local (non-traded) share. Emerging
    industries overlap, so their weights of one division may sum to more than 1.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

from eocic.errors import EocicError

SCHEMES: tuple[str, ...] = ("sector", "cluster", "emerging")
"""Category schemes, in the order the mapping reports them."""

CLUSTER_TABLE = "classifications/cluster_categories.csv"
EMERGING_TABLE = "classifications/emerging_industries.csv"
CLASS_TABLE = "classifications/nace_r2_classes.csv"

CLUSTER_COLUMNS: tuple[str, ...] = ("category", "category_name", "nace_class", "division",
                                    "class_name", "naics_links", "source", "category_slug")
EMERGING_COLUMNS: tuple[str, ...] = ("category", "category_name", "nace_class", "division",
                                     "category_slug")
CLASS_COLUMNS: tuple[str, ...] = ("nace_class", "division", "class_name", "isic_rev4")
WEIGHT_COLUMNS: tuple[str, ...] = ("category", "category_name", "division", "weight", "basis")


class DefinitionError(EocicError, ValueError):
    """A definitions table or an input table is malformed; the message names it and the fix."""


@functools.lru_cache(maxsize=None)
def _read_table(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    text = resources.files("eocic").joinpath(name).read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if tuple(table.columns) != columns:
        raise DefinitionError(f"eocic/{name}: header must be {','.join(columns)}, got "
                              f"{','.join(table.columns)}; rebuild it with "
                              "tools/build_cluster_definitions.py")
    return table


def nace_classes() -> pd.DataFrame:
    """The 615 NACE Rev.2 classes: columns ``nace_class`` (``29.10``), ``division``
    (``C29``: section letter + two digits), ``class_name``."""
    return _read_table(CLASS_TABLE, CLASS_COLUMNS)[["nace_class", "division", "class_name"]].copy()


def cluster_categories() -> pd.DataFrame:
    """The 51 traded cluster categories at class level, one row per NACE class.

    Columns ``category`` (``CL01``..``CL51``), ``category_name`` (EU name), ``nace_class``,
    ``division``, ``class_name``, ``naics_links`` (int: US NAICS industries supporting the
    assignment), ``source`` (``derived`` | ``override``), ``category_slug``.
    """
    table = _read_table(CLUSTER_TABLE, CLUSTER_COLUMNS).copy()
    table["naics_links"] = table["naics_links"].astype("int64")
    return table


def emerging_industries() -> pd.DataFrame:
    """The 10 emerging industries (indicative, overlapping), one row per industry x class.

    Columns ``category`` (``EM01``..``EM10``), ``category_name``, ``nace_class``,
    ``division``, ``category_slug``.
    """
    return _read_table(EMERGING_TABLE, EMERGING_COLUMNS).copy()


def _divisions() -> pd.DataFrame:
    from eocic.classifications.nace import nace_divisions

    return nace_divisions()


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise DefinitionError(f"unknown scheme {scheme!r}; use one of {list(SCHEMES)}")


def _members(scheme: str) -> pd.DataFrame:
    return cluster_categories() if scheme == "cluster" else emerging_industries()


def categories(scheme: str) -> pd.DataFrame:
    """The categories of ``scheme``: columns ``category``, ``category_name``,
    ``category_slug`` (sorted by ``category``)."""
    _check_scheme(scheme)
    if scheme == "sector":
        table = _divisions().rename(columns={"division": "category", "name": "category_name"})
        table["category_slug"] = table["category"].str.lower()
    else:
        table = _members(scheme)
    return (table[["category", "category_name", "category_slug"]].drop_duplicates()
            .sort_values("category").reset_index(drop=True))


def _class_employment(class_employment: pd.DataFrame, classes: pd.DataFrame) -> pd.Series:
    """Validated employment per NACE class (float, persons), indexed by ``nace_class``."""
    missing = [c for c in ("nace_class", "employment") if c not in class_employment.columns]
    if missing:
        raise DefinitionError(f"class_employment: columns {missing} missing; expected "
                              "nace_class (like '29.10') and employment (persons)")
    codes = class_employment["nace_class"].astype(str)
    unknown = sorted(set(codes) - set(classes["nace_class"]))
    if unknown:
        raise DefinitionError(f"class_employment: {len(unknown)} code(s) are not NACE Rev.2 "
                              f"classes, e.g. {unknown[:5]}; use the dotted 4-digit form '29.10'")
    repeated = sorted(set(codes[codes.duplicated()]))
    if repeated:
        raise DefinitionError(f"class_employment: classes repeated: {repeated[:5]}; give one "
                              "row per class")
    employment = pd.to_numeric(class_employment["employment"], errors="coerce").astype(float)
    negative = sorted(codes[employment < 0])
    if negative:
        raise DefinitionError(f"class_employment: negative employment for {negative[:5]}")
    return pd.Series(employment.to_numpy(), index=codes.to_numpy())


def allocation_weights(scheme: str,
                       class_employment: pd.DataFrame | None = None) -> pd.DataFrame:
    """Weights ``w_dc`` of division d in category c (formula in the module docstring).

    Parameters
    ----------
    scheme : {"sector", "cluster", "emerging"}
    class_employment : DataFrame, optional
        Columns ``nace_class`` (``29.10``) and ``employment`` (persons employed), e.g. national
        or EU SBS by class. A division whose classes are all absent or NaN here, or whose total
        is 0, falls back to the class-count proxy (its rows then say ``basis = class_count``).
        Absent classes of a division that has data count as 0 employment.

    Returns
    -------
    DataFrame
        Columns ``category``, ``category_name``, ``division`` (``C29``), ``weight`` (share in
        (0, 1]), ``basis`` (``exact`` for scheme sector; ``class_employment`` or
        ``class_count``). Only pairs with a positive weight, sorted by category and division.
    """
    _check_scheme(scheme)
    if scheme == "sector":
        table = _divisions()
        return pd.DataFrame({"category": table["division"], "category_name": table["name"],
                             "division": table["division"], "weight": 1.0, "basis": "exact"})
    classes = nace_classes()
    members = _members(scheme)[["category", "category_name", "nace_class", "division"]]
    classes_per_division = classes.groupby("division")["nace_class"].size()
    counted = members.groupby(["category", "category_name", "division"], as_index=False).agg(
        classes=("nace_class", "size"))
    counted["weight"] = counted["classes"] / counted["division"].map(classes_per_division)
    counted["basis"] = "class_count"
    weights = counted
    if class_employment is not None:
        employment = _class_employment(class_employment, classes)
        known = classes.assign(employment=classes["nace_class"].map(employment))
        division_total = known.groupby("division")["employment"].sum(min_count=1)
        usable = division_total[division_total > 0].index
        in_category = members.assign(employment=members["nace_class"].map(employment).fillna(0.0))
        exact = in_category[in_category["division"].isin(usable)].groupby(
            ["category", "category_name", "division"], as_index=False)["employment"].sum()
        exact["weight"] = exact["employment"] / exact["division"].map(division_total)
        exact["basis"] = "class_employment"
        weights = pd.concat([exact, counted[~counted["division"].isin(usable)]],
                            ignore_index=True)
    weights = weights[weights["weight"] > 0]
    return (weights.loc[:, list(WEIGHT_COLUMNS)].sort_values(["category", "division"])
            .reset_index(drop=True))


CLONE_COLUMNS: tuple[str, ...] = ("category", "merged_categories", "category_name")


def merge_clones(weights: pd.DataFrame,
                 divisions=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge the categories that are identical at the resolution of the data (*clones*).

    Regional data stop at NACE divisions, so two categories whose allocation vectors over the
    divisions are proportional (e.g. two categories built only from parts of C27) have the same
    regional profile: identical location quotients, wages per person and growth in every
    region. Counting them as two clusters counts one piece of evidence twice. Each group of
    clones becomes one category:

    - ``category``: the first code of the group (e.g. ``CL04``);
    - ``category_name``: the members' names joined by ``" / "``;
    - weight of division d: ``min(1, sum_{c in group} w_dc)`` (the sum for disjoint categories
      such as the 51 clusters, whose weights of a division sum to at most 1; capped at 1 for
      overlapping ones such as the emerging industries, where the sum would count a person
      twice);
    - ``basis``: the members' bases joined by ``|``.

    Parameters
    ----------
    weights : DataFrame
        ``category, category_name, division, weight, basis`` (:func:`allocation_weights`).
    divisions : iterable of str, optional
        The divisions the data hold (e.g. those of the regional SBS, which has no agriculture):
        weights of other divisions are dropped first, so categories that differ only there
        are clones too. None: every division counts.

    Returns
    -------
    (merged, clones)
        ``merged``: the weights with one category per clone group (same columns);
        ``clones``: one row per merged group, :data:`CLONE_COLUMNS` (``merged_categories``:
        the member codes joined by ``|``).
    """
    table = weights.loc[:, list(WEIGHT_COLUMNS)].copy()
    if divisions is not None:
        table = table[table["division"].isin(set(divisions))]
    shares = table["weight"] / table.groupby("category")["weight"].transform("sum")
    signature = (table.assign(share=shares.round(9).astype(str))
                 .sort_values(["category", "division"])
                 .groupby("category")[["division", "share"]]
                 .apply(lambda part: "|".join(part["division"] + ":" + part["share"])))
    groups = signature.groupby(signature).groups
    rename, rows = {}, []
    names = table.drop_duplicates("category").set_index("category")["category_name"]
    for members in groups.values():
        members = sorted(members)
        if len(members) < 2:
            continue
        for member in members:
            rename[member] = members[0]
        rows.append({"category": members[0], "merged_categories": "|".join(members),
                     "category_name": " / ".join(names[m] for m in members)})
    clones = pd.DataFrame(rows, columns=list(CLONE_COLUMNS)).sort_values(
        "category", ignore_index=True)
    if not rename:
        return table.reset_index(drop=True), clones
    table["category"] = table["category"].map(lambda code: rename.get(code, code))
    merged_names = dict(zip(clones["category"], clones["category_name"]))
    table["category_name"] = table["category"].map(merged_names).fillna(table["category_name"])
    merged = (table.groupby(["category", "category_name", "division"], as_index=False)
              .agg(weight=("weight", "sum"), basis=("basis", lambda b: "|".join(sorted(set(b))))))
    merged["weight"] = merged["weight"].clip(upper=1.0)
    return (merged.loc[:, list(WEIGHT_COLUMNS)].sort_values(["category", "division"])
            .reset_index(drop=True), clones)
