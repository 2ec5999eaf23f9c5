"""Contiguity of NUTS-2 regions (eocic.maps.contiguity_pairs) and the cached neighbour list
(eocic.nuts.neighbours): queen rule, enclaves, islands, hostile files."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from eocic import maps, nuts


def square(x: float, y: float, size: float = 1.0) -> list:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def feature(code: str, geometry: dict, level: int = 2) -> dict:
    return {"type": "Feature", "properties": {"NUTS_ID": code, "LEVL_CODE": level},
            "geometry": geometry}


def write(tmp_path, features, name="NUTS_RG_test_4326_LEVL_2.geojson.gz"):
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps(
        {"type": "FeatureCollection", "features": features}).encode()))
    return path


@pytest.fixture
def toy_geometries(tmp_path):
    """AA11 and AA12 share an edge; AA13 touches AA12 at one corner only (queen, not rook);
    AA15 is an enclave in a hole of AA14 (MultiPolygon with an island part); AA16 is an
    island; AA1 is a NUTS-1 region covering them (ignored at level 2)."""
    frame = [[0.0, 10.0], [6.0, 10.0], [6.0, 16.0], [0.0, 16.0], [0.0, 10.0]]
    hole = square(2.0, 12.0, 2.0)
    return write(tmp_path, [
        feature("AA11", {"type": "Polygon", "coordinates": [square(0.0, 0.0)]}),
        feature("AA12", {"type": "Polygon", "coordinates": [square(1.0, 0.0)]}),
        feature("AA13", {"type": "Polygon", "coordinates": [square(2.0, 1.0)]}),
        feature("AA14", {"type": "MultiPolygon", "coordinates": [
            [frame, hole[::-1]], [square(20.0, 20.0)]]}),
        feature("AA15", {"type": "Polygon", "coordinates": [hole]}),
        feature("AA16", {"type": "Polygon", "coordinates": [square(40.0, 40.0)]}),
        feature("AA1", {"type": "Polygon", "coordinates": [square(0.0, 0.0, 50.0)]}, level=1),
    ])


def test_queen_contiguity_enclaves_and_islands(toy_geometries):
    pairs = maps.contiguity_pairs(toy_geometries)
    linked = {(a, b) for a, b in zip(pairs["geo"], pairs["neighbour"])}
    assert linked == {("AA11", "AA12"), ("AA12", "AA13"), ("AA14", "AA15"), ("AA16", "")}
    counts = pairs.set_index(["geo", "neighbour"])["shared_vertices"]
    assert counts[("AA11", "AA12")] == 2 and counts[("AA12", "AA13")] == 1
    assert counts[("AA16", "")] == 0


@pytest.mark.parametrize("features, message", [
    ([{"type": "Feature", "properties": {"LEVL_CODE": 2},
       "geometry": {"type": "Polygon", "coordinates": [square(0, 0)]}}],
     "feature 0 has no NUTS_ID"),
    ([feature("AA11", {"type": "Point", "coordinates": [0, 0]})],
     "region AA11 has geometry type 'Point'"),
    ([feature("AA11", {"type": "Polygon", "coordinates": [square(0, 0)]}),
      feature("AA11", {"type": "Polygon", "coordinates": [square(5, 0)]})],
     "region AA11 appears more than once"),
    ([feature("AA11", {"type": "Polygon", "coordinates": []})], "region AA11 has an empty"),
    ([feature("AA1", {"type": "Polygon", "coordinates": [square(0, 0)]}, level=1)],
     "no NUTS level-2 region"),
])
def test_hostile_geometry_files_fail_naming_file_and_region(tmp_path, features, message):
    path = write(tmp_path, features)
    with pytest.raises(maps.GeometryError, match=message) as caught:
        maps.contiguity_pairs(path)
    assert str(path) in str(caught.value)


def test_unreadable_and_missing_geometry_files(tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(maps.GeometryError, match="not a readable GeoJSON"):
        maps.contiguity_pairs(broken)
    with pytest.raises(maps.GeometryError, match="geometry file not found"):
        maps.contiguity_pairs(tmp_path / "absent.geojson")


def test_cached_list_both_directions_and_islands():
    linked = nuts.neighbours()
    assert linked["DE30"] == ("DE40",)                 # Berlin, an enclave in Brandenburg
    assert "DE30" in linked["DE40"]                    # both directions
    assert linked["AT13"] == ("AT12",)                 # Vienna in Lower Austria
    assert set(linked["LU00"]) == {"BE33", "BE34", "DEB2", "DEC0", "FRF3"}
    for island in ("MT00", "CY00", "ES53", "ITG1", "ITG2", "FRM0", "FI20"):
        assert linked[island] == (), island
    assert all(geo not in others for geo, others in linked.items())
    assert "XX99" not in linked                        # unknown, not isolated


def _write_list(tmp_path, text):
    path = tmp_path / "neighbours.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ("geo,other\nAA11,AA12\n", "missing column\\(s\\) neighbour, shared_vertices"),
    ("geo,neighbour,shared_vertices\nAA11,aa12,2\n", "row 2, column neighbour: 'aa12' is not"),
    ("geo,neighbour,shared_vertices\nAA11,AA12,2\n,AA13,1\n", "row 3, column geo: '' is not"),
    ("geo,neighbour,shared_vertices\nAA11,AA12,2\nAA13,AA13,4\n",
     "row 3: region AA13 is listed as its own neighbour"),
    ("geo,neighbour,shared_vertices\nAA11,AA12; rm -rf /,2\n", "row 2, column neighbour"),
])
def test_hostile_neighbour_lists_fail_naming_file_and_row(tmp_path, text, message):
    path = _write_list(tmp_path, text)
    with pytest.raises(nuts.NeighbourListError, match=message) as caught:
        nuts.neighbours(path=path)
    assert str(path.resolve()) in str(caught.value) or str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_neighbour_list_version_and_missing_file(tmp_path):
    with pytest.raises(nuts.NeighbourListError, match="no cached neighbour list for NUTS 2016"):
        nuts.neighbours(2016)
    with pytest.raises(nuts.NeighbourListError, match="neighbour list not found"):
        nuts.neighbours(path=tmp_path / "absent.csv")
    path = _write_list(tmp_path, "geo,neighbour,shared_vertices\nAA11,AA12,2\nAA13,,0\n")
    assert nuts.neighbours(2016, path=path) == {"AA11": ("AA12",), "AA12": ("AA11",),
                                                "AA13": ()}


def test_cached_list_equals_a_fresh_derivation(shared_data):
    """The package's CSV is what tools/build_nuts_neighbours.py derives from the shared
    1:3 million NUTS 2021 geometries; the 1:20 million EPSG:3035 file gives the same pairs."""
    fresh = maps.contiguity_pairs(shared_data / "nuts" / "NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz")
    cached = nuts.neighbour_list()
    cached["shared_vertices"] = cached["shared_vertices"].astype("int64")
    pd.testing.assert_frame_equal(cached, fresh)
    coarse = shared_data / "nuts" / "NUTS_RG_20M_2021_3035.geojson"
    if coarse.is_file():
        other = maps.contiguity_pairs(coarse)
        assert (set(zip(other["geo"], other["neighbour"]))
                == set(zip(fresh["geo"], fresh["neighbour"])))
