"""Choropleth maps of NUTS-2 regions, drawn with matplotlib only.

Geometries are GISCO NUTS region polygons (GeoJSON). Longitude/latitude (EPSG:4326) are
projected to ETRS89-LAEA (EPSG:3035), the European equal-area projection used by Eurostat
maps, with the closed-form ellipsoidal formulas of EPSG Guidance Note 7-2 (method 9820,
Lambert Azimuthal Equal Area): no geopandas, pyproj or shapely. Files already in EPSG:3035
(``..._3035...``) are used as they are. An equal-area projection keeps the visual weight of a
region proportional to its area, which a choropleth needs.

Regions are drawn as one :class:`matplotlib.collections.PolyCollection` of the exterior rings,
largest ring first, so that enclaves (Berlin inside Brandenburg, Vienna inside Lower Austria)
are painted over the ring that surrounds them; interior rings (holes) are therefore not needed.

Where the geometries come from (:func:`find_geometries`)
--------------------------------------------------------
1. The archive written by ``eocic fetch --geometries``: ``<raw_root>/gisco/<name>/<stamp>.geojson``
   (newest vintage), for NUTS 2021 level 2 names in order of preference (scale 20M, 10M,
   03M, 01M, 60M; crs 4326 then 3035).
2. The shared data folder (``<shared>/nuts/NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz``, then
   ``NUTS_RG_60M_2016_4326_LEVL_2.geojson``): used by tests and benchmarks.
Without either, :func:`find_geometries` returns ``None`` and callers skip their maps with
:data:`NO_GEOMETRIES_MESSAGE`. :func:`load_geometries` is what a stage calls: the archive, then
the run's source folder, then the shared data folder (``$EOCIC_SHARED_DATA`` or
``../shared/data``), and one sentence for the notebook when there is no map.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from eocic import plotting
from eocic.errors import EocicError
from eocic.eurostat.archive import GEOMETRY_SUFFIX, GISCO_FOLDER, list_vintages

plotting.configure()

#: GRS80 ellipsoid (ETRS89): semi-major axis (m) and flattening.
GRS80_A = 6378137.0
GRS80_F = 1 / 298.257222101
#: EPSG:3035 parameters: latitude and longitude of origin (degrees), false easting/northing (m).
LAEA_LAT0 = 52.0
LAEA_LON0 = 10.0
LAEA_FALSE_EASTING = 4321000.0
LAEA_FALSE_NORTHING = 3210000.0
#: Frame of the maps in EPSG:3035 metres (x0, x1, y0, y1): continental Europe, Canaries left
#: out (they and the other outermost regions are listed in the map's note instead).
EUROPE_FRAME = (2_500_000.0, 7_500_000.0, 1_350_000.0, 5_450_000.0)

#: Archived geometry names, in order of preference (NUTS 2021 = the project's NUTS version).
ARCHIVE_NAMES = tuple(f"NUTS_RG_{scale}_2021_{crs}_LEVL_2"
                      for crs in (4326, 3035) for scale in ("20M", "10M", "03M", "01M", "60M"))
#: Files of the shared data folder (relative to it), in order of preference.
SHARED_FILES = ("nuts/NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz",
                "nuts/NUTS_RG_60M_2016_4326_LEVL_2.geojson")
NO_GEOMETRIES_MESSAGE = ("No NUTS geometries found: maps are skipped. Run "
                         "`eocic fetch --geometries` on a machine with internet access (it archives "
                         "GISCO NUTS_RG_20M_2021_4326_LEVL_2 under data/raw/gisco/).")
NO_DATA_COLOUR = "#e0e0e0"


class GeometryError(EocicError, ValueError):
    """A geometry file cannot be read as GISCO NUTS GeoJSON; the message names the file."""


# --------------------------------------------------------------------------- projection

def laea_project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude (degrees, ETRS89 ~ WGS 84) to ETRS89-LAEA (EPSG:3035).

    Closed-form ellipsoidal Lambert Azimuthal Equal Area (EPSG method 9820, Guidance Note 7-2
    section 3.2.3.2), origin 52 N 10 E, false easting 4,321,000 m, false northing 3,210,000 m::

        q(phi) = (1 - e^2) [sin phi / (1 - e^2 sin^2 phi) - 1/(2e) ln((1 - e sin phi)/(1 + e sin phi))]
        beta = asin(q / q_P),  R_q = a sqrt(q_P / 2),
        D = a cos phi_0 / sqrt(1 - e^2 sin^2 phi_0) / (R_q cos beta_0)
        B = R_q sqrt(2 / (1 + sin beta_0 sin beta + cos beta_0 cos beta cos(lambda - lambda_0)))
        E = FE + B D cos beta sin(lambda - lambda_0)
        N = FN + (B / D) (cos beta_0 sin beta - sin beta_0 cos beta cos(lambda - lambda_0))

    Returns
    -------
    (easting, northing) : arrays in metres. EPSG's worked example: 50 N 5 E ->
    (3,962,799.45, 2,999,718.85).
    """
    e2 = GRS80_F * (2 - GRS80_F)
    e = np.sqrt(e2)

    def q(phi):
        s = np.sin(phi)
        return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))

    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    phi0, lam0 = np.radians(LAEA_LAT0), np.radians(LAEA_LON0)
    q_pole = q(np.pi / 2)
    beta = np.arcsin(np.clip(q(phi) / q_pole, -1, 1))
    beta0 = np.arcsin(q(phi0) / q_pole)
    r_q = GRS80_A * np.sqrt(q_pole / 2)
    d = GRS80_A * np.cos(phi0) / np.sqrt(1 - e2 * np.sin(phi0) ** 2) / (r_q * np.cos(beta0))
    dlam = lam - lam0
    b = r_q * np.sqrt(2 / (1 + np.sin(beta0) * np.sin(beta)
                           + np.cos(beta0) * np.cos(beta) * np.cos(dlam)))
    easting = LAEA_FALSE_EASTING + b * d * np.cos(beta) * np.sin(dlam)
    northing = LAEA_FALSE_NORTHING + (b / d) * (np.cos(beta0) * np.sin(beta)
                                                - np.sin(beta0) * np.cos(beta) * np.cos(dlam))
    return easting, northing


# --------------------------------------------------------------------------- geometries

def find_geometries(raw_root: str | os.PathLike[str] | None,
                    shared: str | os.PathLike[str] | None = None) -> Path | None:
    """The NUTS-2 geometry file to draw maps with, or ``None`` when there is none.

    Parameters
    ----------
    raw_root : path or None
        Raw-data folder (``data/raw``) holding the GISCO archive ``gisco/<name>/<stamp>.geojson``;
        its newest vintage of the first name of :data:`ARCHIVE_NAMES` present is returned.
    shared : path, optional
        Shared data folder (holding ``nuts/``) or the ``nuts`` folder itself; searched for
        :data:`SHARED_FILES` when the archive has nothing.
    """
    if raw_root is not None:
        collection = Path(raw_root) / GISCO_FOLDER
        for name in ARCHIVE_NAMES:
            vintages = list_vintages(collection / name, GEOMETRY_SUFFIX)
            if vintages:
                return vintages[-1]
    if shared is not None:
        shared = Path(shared)
        for relative in SHARED_FILES:
            for candidate in (shared / relative, shared / Path(relative).name):
                if candidate.is_file():
                    return candidate
    return None


def locate_geometries(raw_root: str | os.PathLike[str] | None,
                      source_dir: str | os.PathLike[str] | None = None, *,
                      shared: str | os.PathLike[str] | None = None) -> Path | None:
    """The geometry file every stage draws its maps with (the lookup of
    :func:`load_geometries`), or ``None``: the GISCO archive under ``raw_root``, then
    ``source_dir/nuts``, then the shared data folder ``shared`` (default
    :func:`eocic.scoreboard.external.shared_data_dir`)."""
    if shared is None:
        from eocic.scoreboard.external import shared_data_dir
        shared = shared_data_dir()
    return find_geometries(raw_root, source_dir) or find_geometries(None, shared)


def load_geometries(raw_root: str | os.PathLike[str] | None,
                    source_dir: str | os.PathLike[str] | None = None, *,
                    shared: str | os.PathLike[str] | None = None,
                    ) -> tuple[pd.DataFrame | None, str]:
    """The NUTS-2 geometries a stage draws its maps with, or ``None`` and why.

    Looks in the GISCO archive under ``raw_root`` (``data/raw``), then in the run's source
    folder ``source_dir`` (a folder of Eurostat files holding ``nuts/``, the notebooks'
    ``data_dir``), then in the shared data folder ``shared`` (default ``$EOCIC_SHARED_DATA`` or
    ``../shared/data`` beside the project, as the tests and stage 03's external check).

    Returns
    -------
    (geometries, note)
        ``(DataFrame of read_geometries, "")``, or ``(None, sentence)`` where the sentence
        says there is no map, why, and how to get one (``eocic fetch --geometries``), for the
        notebook to show instead of failing. The sentence is Markdown: the folders (the
        user's source folder among them) and the error are escaped
        (:func:`eocic.presentation.markdown_code`), and shown relative to the project.
    """
    from eocic.presentation import display_path, escape_markdown, markdown_code

    if shared is None:
        from eocic.scoreboard.external import shared_data_dir
        shared = shared_data_dir()
    path = locate_geometries(raw_root, source_dir, shared=shared)
    if path is None:
        places = [markdown_code(display_path(Path(folder) / part)) for folder, part in
                  ((raw_root, GISCO_FOLDER), (source_dir, "nuts"), (shared, "nuts"))
                  if folder is not None]
        return None, ("No map: no NUTS-2 geometry file in " + ", ".join(places)
                      + "; `eocic fetch --geometries` archives GISCO's NUTS 2021 regions there "
                      "(on a machine with internet access).")
    try:
        return read_geometries(path), ""
    except GeometryError as error:
        return None, f"No map: {escape_markdown(error)}."


def _open_geojson(path: Path) -> dict:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        document = json.loads(raw)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GeometryError(f"{path}: not a readable GeoJSON file ({error}); fetch it again "
                            "with `eocic fetch --geometries`") from error
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise GeometryError(f"{path}: expected a GeoJSON FeatureCollection with 'features'")
    return document


def _is_laea(path: Path, document: dict) -> bool:
    crs_name = str(((document.get("crs") or {}).get("properties") or {}).get("name", ""))
    return crs_name.endswith("3035") or "_3035" in path.name


def _level_polygons(source: Path, document: dict, level: int):
    """``(code, properties, polygons)`` of every feature of NUTS ``level`` in a GISCO GeoJSON
    document, polygons as GeoJSON coordinate lists (a Polygon is one polygon). Raises
    :class:`GeometryError` naming the file for a feature without ``NUTS_ID`` or with another
    geometry type than Polygon / MultiPolygon."""
    for number, feature in enumerate(document["features"]):
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        code = properties.get("NUTS_ID") or feature.get("id")
        if code is None:
            raise GeometryError(f"{source}: feature {number} has no NUTS_ID; is this a GISCO "
                                "NUTS file?")
        if int(properties.get("LEVL_CODE", len(str(code)) - 2)) != level:
            continue
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons = [geometry["coordinates"]]
        elif kind == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            raise GeometryError(f"{source}: region {code} has geometry type {kind!r}; expected "
                                "Polygon or MultiPolygon")
        yield str(code), properties, polygons


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int, level: int) -> pd.DataFrame:
    source = Path(path)
    document = _open_geojson(source)
    projected = _is_laea(source, document)
    rows = []
    for code, properties, polygons in _level_polygons(source, document, level):
        rings = []
        for polygon in polygons:
            exterior = np.asarray(polygon[0], dtype=float)[:, :2]
            if not projected:
                exterior = np.column_stack(laea_project(exterior[:, 0], exterior[:, 1]))
            rings.append(exterior)
        rows.append((code, properties.get("NAME_LATN") or properties.get("NUTS_NAME", ""),
                     str(properties.get("CNTR_CODE", str(code)[:2])), rings))
    frame = pd.DataFrame(rows, columns=["geo", "name", "country", "rings"])
    if frame["geo"].duplicated().any():
        duplicates = sorted(frame.loc[frame["geo"].duplicated(), "geo"])
        raise GeometryError(f"{source}: regions {duplicates} appear more than once")
    return frame.sort_values("geo", ignore_index=True)


def read_geometries(path: str | os.PathLike[str], level: int = 2) -> pd.DataFrame:
    """NUTS regions of one level from a GISCO GeoJSON file (``.geojson`` or ``.geojson.gz``).

    Returns
    -------
    DataFrame
        Columns ``geo`` (NUTS code), ``name`` (Latin label), ``country``, ``rings`` (list of
        ``(n, 2)`` arrays: exterior rings in EPSG:3035 metres), sorted by ``geo``. Cached per
        file and modification time.

    Raises
    ------
    GeometryError
        If the file is not GISCO NUTS GeoJSON (names the file and the feature).
    """
    source = Path(path)
    if not source.is_file():
        raise GeometryError(f"{source}: geometry file not found; " + NO_GEOMETRIES_MESSAGE)
    return _read_cached(str(source.resolve()), source.stat().st_mtime_ns, level)


def warm_geometry_cache(raw_root: str | os.PathLike[str] = "data/raw") -> None:
    """Read the NUTS-2 geometries :func:`load_geometries` finds from ``raw_root`` (and the
    shared data folder) into this process's cache; nothing when there is no readable file.
    For the kernel server (:mod:`eocic.kernel_server`), whose forked kernels inherit the
    cache."""
    load_geometries(raw_root)


# --------------------------------------------------------------------------- contiguity

#: Rounding of vertex coordinates before they are compared, in decimals of the file's unit:
#: 1e-6 degree (about 0.1 m) for EPSG:4326 files, 0.1 m for EPSG:3035 files.
VERTEX_DECIMALS = {"degrees": 6, "metres": 1}


def contiguity_pairs(path: str | os.PathLike[str], level: int = 2) -> pd.DataFrame:
    """Queen contiguity of the NUTS regions of one level in a GISCO GeoJSON file.

    Rule: two regions are neighbours when their boundaries share at least one vertex (queen
    contiguity, as in the methodology's note on the neighbouring-regions term, section 4.3).
    GISCO's region files are cut from one topology, so a border shared by two regions carries
    the same vertices in both polygons; exterior *and* interior rings are compared, so an
    enclave (Berlin in Brandenburg, Vienna in Lower Austria) neighbours the region around it.
    Coordinates are rounded to :data:`VERTEX_DECIMALS` before they are compared (a shared
    vertex written twice in a file is the same number; the rounding absorbs the last digit of
    text round-trips only). Regions across the sea never touch: islands and exclaves (Malta,
    Cyprus, the Balearic and Canary Islands, Sicily, Sardinia, Corsica, Aland, the outermost
    regions, Ceuta and Melilla) have no neighbour and are listed with an empty ``neighbour``.

    Returns
    -------
    DataFrame
        ``geo, neighbour, shared_vertices``: one row per unordered pair (``geo < neighbour``)
        and one row ``(geo, "", 0)`` per region without any neighbour; sorted.

    Raises
    ------
    GeometryError
        The file is not GISCO NUTS GeoJSON (names the file and the feature).
    """
    source = Path(path)
    if not source.is_file():
        raise GeometryError(f"{source}: geometry file not found; " + NO_GEOMETRIES_MESSAGE)
    document = _open_geojson(source)
    decimals = VERTEX_DECIMALS["metres" if _is_laea(source, document) else "degrees"]
    codes: list[str] = []
    vertices: list[np.ndarray] = []
    seen: set[str] = set()
    for code, _, polygons in _level_polygons(source, document, level):
        if code in seen:
            raise GeometryError(f"{source}: region {code} appears more than once; one feature "
                                "per region is expected (a GISCO NUTS_RG file)")
        seen.add(code)
        rings = [np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon
                 if len(ring)]
        if not rings:
            raise GeometryError(f"{source}: region {code} has an empty geometry")
        scaled = np.round(np.concatenate(rings) * 10.0 ** decimals).astype(np.int64)
        unique = np.unique(scaled, axis=0)
        codes.extend([code] * len(unique))
        vertices.append(unique)
    if not vertices:
        raise GeometryError(f"{source}: no NUTS level-{level} region in the file")
    points = np.concatenate(vertices)
    table = pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "geo": codes})
    regions_seen = sorted(seen)
    shared = table.merge(table, on=["x", "y"], suffixes=("", "_other"))
    shared = shared[shared["geo"] < shared["geo_other"]]
    pairs = (shared.groupby(["geo", "geo_other"]).size().rename("shared_vertices")
             .reset_index().rename(columns={"geo_other": "neighbour"}))
    linked = set(pairs["geo"]) | set(pairs["neighbour"])
    alone = pd.DataFrame({"geo": [g for g in regions_seen if g not in linked],
                          "neighbour": "", "shared_vertices": 0})
    result = pd.concat([pairs, alone], ignore_index=True)
    result["shared_vertices"] = result["shared_vertices"].astype("int64")
    return result.sort_values(["geo", "neighbour"], ignore_index=True)


# --------------------------------------------------------------------------- drawing

@dataclass
class ChoroplethMap:
    """A drawn map and what it could not show.

    Attributes
    ----------
    figure : Figure
    shown : int
        Regions drawn with a value.
    without_geometry : list of str
        Codes with a value but no polygon in the geometry file (other NUTS version).
    without_value : list of str
        Regions drawn grey (no value).
    outside_frame : list of str
        Regions with a value whose polygons all lie outside :data:`EUROPE_FRAME` (outermost
        regions), not visible on the map.
    estimated, apportioned : list of str
        Regions marked as mostly estimated, or apportioned after a NUTS split.
    """

    figure: Figure
    shown: int
    estimated: list[str] = field(default_factory=list)
    apportioned: list[str] = field(default_factory=list)
    without_geometry: list[str] = field(default_factory=list)
    without_value: list[str] = field(default_factory=list)
    outside_frame: list[str] = field(default_factory=list)

    def note(self) -> str:
        """One line naming what is not visible (empty when everything is)."""
        parts = []
        if self.without_geometry:
            parts.append(f"{len(self.without_geometry)} region(s) without geometry: "
                         + ", ".join(self.without_geometry[:12])
                         + (" ..." if len(self.without_geometry) > 12 else ""))
        if self.outside_frame:
            parts.append("outside the frame: " + ", ".join(self.outside_frame))
        return "; ".join(parts)


def _outside(rings: list[np.ndarray]) -> bool:
    x0, x1, y0, y1 = EUROPE_FRAME
    return all(ring[:, 0].max() < x0 or ring[:, 0].min() > x1 or ring[:, 1].max() < y0
               or ring[:, 1].min() > y1 for ring in rings)


#: A region's value is marked as estimated on a map when at least this share of it rests on
#: estimates of confidential cells (:mod:`eocic.confidential`).
ESTIMATED_MARK = 0.5


def choropleth(values: pd.Series, geometries: pd.DataFrame, *, title: str,
               cmap: str | colors.Colormap = "viridis", norm: colors.Normalize | None = None,
               label: str = "", highlight: list[str] | tuple[str, ...] = (),
               ticks: list[float] | None = None, tick_labels: list[str] | None = None,
               ax: plt.Axes | None = None, estimated: list[str] | tuple[str, ...] = (),
               apportioned: list[str] | tuple[str, ...] = ()) -> ChoroplethMap:
    """Colour regions by ``values`` (Series indexed by NUTS code; NaN = no data, grey).

    ``highlight`` regions get a thick black outline (the selected region) — the first one —
    and the others a thinner one (its peers). ``estimated`` regions are dotted (their value
    rests mostly on estimates of confidential cells), ``apportioned`` regions hatched (their
    values are apportioned from a region a NUTS revision split); the legend names both and the
    grey "no data". Returns a :class:`ChoroplethMap`.
    """
    values = pd.Series(values, dtype=float)
    values = values[~values.index.duplicated()]
    if ax is None:
        figure, ax = plt.subplots(figsize=(7.5, 7))
    else:
        figure = ax.figure
    by_geo = geometries.set_index("geo")
    present = values.dropna()
    norm = norm or colors.Normalize(vmin=float(present.min()) if len(present) else 0.0,
                                    vmax=float(present.max()) if len(present) else 1.0)
    colour_map = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    polygons, facecolours, areas = [], [], []
    for geo, rings in by_geo["rings"].items():
        value = values.get(geo, np.nan)
        colour = NO_DATA_COLOUR if pd.isna(value) else colour_map(norm(value))
        for ring in rings:
            x, y = ring[:, 0], ring[:, 1]
            polygons.append(ring)
            facecolours.append(colour)
            areas.append(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)
    order = np.argsort(-np.asarray(areas), kind="stable")
    ax.add_collection(PolyCollection([polygons[i] for i in order],
                                     facecolors=[facecolours[i] for i in order],
                                     edgecolors="white", linewidths=0.2))
    legend = [Patch(facecolor=NO_DATA_COLOUR, edgecolor="white", label="no data")]
    for codes, hatch, text in ((estimated, "....", f">= {ESTIMATED_MARK:.0%} estimated "
                                "(confidential in the source)"),
                               (apportioned, "////", "apportioned after a NUTS split")):
        marked = [geo for geo in codes if geo in by_geo.index and geo in present.index]
        if marked:
            rings = [ring for geo in marked for ring in by_geo.at[geo, "rings"]]
            ax.add_collection(PolyCollection(rings, facecolors="none", edgecolors="#333333",
                                             linewidths=0.0, hatch=hatch))
            legend.append(Patch(facecolor="white", edgecolor="#333333", hatch=hatch, label=text))
    for position, geo in enumerate(highlight):
        if geo in by_geo.index:
            ax.add_collection(PolyCollection(by_geo.at[geo, "rings"], facecolors="none",
                                             edgecolors="black",
                                             linewidths=1.6 if position == 0 else 0.8))
    # under the map, in one row: a legend in a corner of Europe hides Iceland or Scandinavia
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.01),
              ncol=len(legend), fontsize=7, frameon=False)
    x0, x1, y0, y1 = EUROPE_FRAME
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=colour_map)
    bar = figure.colorbar(mappable, ax=ax, shrink=0.6, label=label, ticks=ticks)
    if tick_labels is not None:
        bar.set_ticklabels(tick_labels)
    result = ChoroplethMap(
        figure=figure, shown=int(present.index.isin(by_geo.index).sum()),
        estimated=sorted(set(estimated) & set(present.index)),
        apportioned=sorted(set(apportioned) & set(present.index)),
        without_geometry=sorted(set(present.index) - set(by_geo.index)),
        without_value=sorted(set(by_geo.index) - set(present.index)),
        outside_frame=sorted(geo for geo in present.index
                             if geo in by_geo.index and _outside(by_geo.at[geo, "rings"])))
    note = result.note()
    if note:
        ax.text(0.0, -0.08, note, transform=ax.transAxes, fontsize=7, va="top", wrap=True)
    return result


def _latest_year(frame: pd.DataFrame, year: int | None) -> int:
    years = sorted(frame["year"].dropna().unique())
    if not years:
        raise ValueError("the table has no rows to map")
    if year is None:
        return int(years[-1])
    earlier = [y for y in years if y <= year]
    return int(earlier[-1] if earlier else years[0])


def _marks(rows: pd.DataFrame) -> dict[str, list[str]]:
    """The ``estimated`` and ``apportioned`` regions of cluster-mapping rows, for
    :func:`choropleth`."""
    marks = {"estimated": [], "apportioned": []}
    if "estimated_share" in rows.columns:
        marks["estimated"] = sorted(rows.loc[rows["estimated_share"] >= ESTIMATED_MARK, "geo"])
    if "apportioned" in rows.columns:
        marks["apportioned"] = sorted(rows.loc[rows["apportioned"].astype(bool), "geo"])
    return marks


def _category_rows(mapping: pd.DataFrame, scheme: str, category: str,
                   year: int | None) -> tuple[pd.DataFrame, int, str]:
    """``cluster_mapping`` rows of one category in ``year`` (default: its latest year), the
    year used and the category's name."""
    rows = mapping[(mapping["scheme"] == scheme) & (mapping["category"] == category)]
    if rows.empty:
        raise ValueError(f"category {category!r} is not in scheme {scheme!r} of the cluster "
                         "mapping; pick a category code from its 'category' column")
    year = _latest_year(rows, year)
    rows = rows[rows["year"] == year]
    return rows, year, str(rows["category_name"].iloc[0])


def lq_map(mapping: pd.DataFrame, geometries: pd.DataFrame, category: str, *,
           scheme: str = "cluster", year: int | None = None,
           highlight: tuple[str, ...] | list[str] = (),
           ax: plt.Axes | None = None) -> ChoroplethMap:
    """Location quotient of one category by region (``cluster_mapping`` rows), on a log
    scale centred on LQ = 1 (blue below, red above; LQ >= 2 = specialised, a cluster)."""
    rows, year, name = _category_rows(mapping, scheme, category, year)
    log_lq = np.log2(rows.set_index("geo")["lq"].where(lambda lq: lq > 0)).clip(-2, 2)
    return choropleth(log_lq, geometries, title=f"{name}: location quotient, {year}",
                      cmap="RdBu_r", norm=colors.Normalize(-2, 2), label="LQ (log scale)",
                      ticks=[-2, -1, 0, 1, 2], tick_labels=["≤0.25", "0.5", "1", "2", "≥4"],
                      highlight=highlight, ax=ax, **_marks(rows))


def stars_map(mapping: pd.DataFrame, geometries: pd.DataFrame, category: str, *,
              scheme: str = "cluster", year: int | None = None,
              highlight: tuple[str, ...] | list[str] = (),
              ax: plt.Axes | None = None) -> ChoroplethMap:
    """Number of stars (0-3: size, specialisation, productivity) of one category by region."""
    rows, year, name = _category_rows(mapping, scheme, category, year)
    palette = colors.ListedColormap(["#f7f7f7", "#fdd49e", "#fc8d59", "#b30000"])
    return choropleth(rows.set_index("geo")["stars"], geometries,
                      title=f"{name}: stars, {year}", cmap=palette,
                      norm=colors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], 4), label="stars",
                      ticks=[0, 1, 2, 3], highlight=highlight, ax=ax, **_marks(rows))


#: Measures :func:`category_map` draws.
CATEGORY_MEASURES = ("lq", "stars")


def category_map(mapping: pd.DataFrame, geometries: pd.DataFrame, category: str, *,
                 measure: str = "lq", **options) -> ChoroplethMap:
    """:func:`lq_map` (``measure="lq"``) or :func:`stars_map` (``"stars"``) of one category;
    ``options`` go to that function (``scheme``, ``year``, ``highlight``, ``ax``)."""
    if measure not in CATEGORY_MEASURES:
        raise ValueError(f"measure={measure!r}: use one of {', '.join(CATEGORY_MEASURES)}")
    draw = lq_map if measure == "lq" else stars_map
    return draw(mapping, geometries, category, **options)


def score_map(scoreboard: pd.DataFrame, geometries: pd.DataFrame, code: str, *,
              year: int | None = None,
              highlight: tuple[str, ...] | list[str] = (),
              ax: plt.Axes | None = None, name: str | None = None,
              apportioned: tuple[str, ...] | list[str] = ()) -> ChoroplethMap:
    """Scoreboard score (0-100) of one node (``code``: index, dimension, sub-dimension or
    indicator of ``scoreboard.parquet``) by region; grey = no score. The colour scale spans the
    scores' range rounded out to multiples of 5 (composite scores often lie within 30-60, which
    a 0-100 scale would paint almost uniformly). ``name`` titles the map (default: the code);
    ``apportioned`` regions (values apportioned after a NUTS split) are hatched."""
    rows = scoreboard[scoreboard["code"] == code]
    if rows.empty:
        raise ValueError(f"code {code!r} is not in the scoreboard; pick one of its 'code' "
                         "column (e.g. an index or dimension code)")
    year = _latest_year(rows, year)
    rows = rows[rows["year"] == year]
    scores = rows["score"].dropna()
    low = float(np.floor(scores.min() / 5) * 5) if len(scores) else 0.0
    high = float(np.ceil(scores.max() / 5) * 5) if len(scores) else 100.0
    return choropleth(rows.set_index("geo")["score"], geometries,
                      title=f"{name or code.replace('_', ' ')}: score, {year}", cmap="viridis",
                      norm=colors.Normalize(low, high if high > low else low + 5),
                      label="score (0-100 scale)",
                      highlight=highlight, ax=ax, apportioned=apportioned)
