"""Choropleth maps: the LAEA projection, finding and reading NUTS geometries, drawing."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import colors

from eocic import maps


def square(lon: float, lat: float, size: float = 1.0) -> list:
    return [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
             [lon, lat]]]


def feature_collection() -> dict:
    features = [
        {"type": "Feature", "properties": {"NUTS_ID": "DE11", "LEVL_CODE": 2, "CNTR_CODE": "DE",
                                            "NAME_LATN": "Stuttgart"},
         "geometry": {"type": "Polygon", "coordinates": square(9.0, 48.5)}},
        {"type": "Feature", "properties": {"NUTS_ID": "FR10", "LEVL_CODE": 2, "CNTR_CODE": "FR",
                                            "NAME_LATN": "Ile-de-France"},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [square(2.0, 48.5), square(3.5, 48.5, 0.2)]}},
        {"type": "Feature", "properties": {"NUTS_ID": "FRY1", "LEVL_CODE": 2, "CNTR_CODE": "FR",
                                            "NAME_LATN": "Guadeloupe"},
         "geometry": {"type": "Polygon", "coordinates": square(-61.5, 16.0, 0.5)}},
        {"type": "Feature", "properties": {"NUTS_ID": "DE1", "LEVL_CODE": 1, "CNTR_CODE": "DE",
                                            "NAME_LATN": "Baden-Wurttemberg"},
         "geometry": {"type": "Polygon", "coordinates": square(8.0, 47.5, 2.0)}},
    ]
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
            "features": features}


@pytest.fixture
def geojson_file(tmp_path):
    path = tmp_path / "NUTS_RG_test_4326_LEVL_2.geojson.gz"
    path.write_bytes(gzip.compress(json.dumps(feature_collection()).encode()))
    return path


def test_laea_matches_the_epsg_worked_example():
    # EPSG Guidance Note 7-2, LAEA (method 9820) example: 50 N 5 E on ETRS89-LAEA
    easting, northing = maps.laea_project(np.array([5.0, 10.0]), np.array([50.0, 52.0]))
    assert easting[0] == pytest.approx(3_962_799.45, abs=0.01)
    assert northing[0] == pytest.approx(2_999_718.85, abs=0.01)
    # the origin maps to the false easting/northing
    assert (easting[1], northing[1]) == pytest.approx((4_321_000.0, 3_210_000.0), abs=1e-6)


def test_find_geometries_prefers_the_archive_then_shared(tmp_path):
    raw = tmp_path / "raw"
    shared = tmp_path / "shared"
    assert maps.find_geometries(raw, shared) is None
    (shared / "nuts").mkdir(parents=True)
    fallback = shared / "nuts" / "NUTS_RG_60M_2016_4326_LEVL_2.geojson"
    fallback.write_text("{}")
    assert maps.find_geometries(raw, shared) == fallback
    assert maps.find_geometries(None, shared / "nuts") == fallback
    preferred = shared / "nuts" / "NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz"
    preferred.write_bytes(b"")
    assert maps.find_geometries(raw, shared) == preferred
    item = raw / "gisco" / "NUTS_RG_20M_2021_4326_LEVL_2"
    item.mkdir(parents=True)
    (item / "incoming.geojson.part").write_text("{}")      # a download in progress: ignored
    assert maps.find_geometries(raw, shared) == preferred
    for stamp in ("20240101T000000Z", "20250314T091500Z"):
        (item / f"{stamp}.geojson").write_text("{}")
    assert maps.find_geometries(raw, shared) == item / "20250314T091500Z.geojson"


def test_read_geometries_keeps_level_two_and_projects(geojson_file):
    geometries = maps.read_geometries(geojson_file)
    assert list(geometries["geo"]) == ["DE11", "FR10", "FRY1"]          # DE1 (level 1) left out
    assert geometries.set_index("geo").at["FR10", "name"] == "Ile-de-France"
    rings = geometries.set_index("geo")["rings"]
    assert len(rings["FR10"]) == 2 and rings["DE11"][0].shape == (5, 2)
    expected = maps.laea_project(np.array([9.0]), np.array([48.5]))
    assert rings["DE11"][0][0] == pytest.approx([expected[0][0], expected[1][0]])


def test_read_geometries_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text("not json")
    with pytest.raises(maps.GeometryError, match="broken.geojson: not a readable GeoJSON"):
        maps.read_geometries(broken)
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"properties": {"NUTS_ID": "DE11", "LEVL_CODE": 2},
         "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}))
    with pytest.raises(maps.GeometryError, match="region DE11 has geometry type 'LineString'"):
        maps.read_geometries(line)
    with pytest.raises(maps.GeometryError, match="not found"):
        maps.read_geometries(tmp_path / "absent.geojson")


def test_choropleth_colours_regions_and_reports_what_is_not_shown(geojson_file):
    geometries = maps.read_geometries(geojson_file)
    values = pd.Series({"DE11": 0.0, "FR10": 100.0, "FRY1": 50.0, "PL91": 10.0})
    result = maps.choropleth(values, geometries, title="test", cmap="viridis",
                             norm=colors.Normalize(0, 100), highlight=["DE11"])
    assert result.shown == 3
    assert result.without_geometry == ["PL91"]
    assert result.outside_frame == ["FRY1"]
    assert result.without_value == []
    assert "PL91" in result.note() and "FRY1" in result.note()
    collection = result.figure.axes[0].collections[0]
    faces = [tuple(np.round(c, 4)) for c in collection.get_facecolors()]
    viridis = matplotlib.colormaps["viridis"]
    # rings sorted by area, largest first: DE11, FR10's big square, FRY1, FR10's small one
    assert faces[0] == tuple(np.round(viridis(0.0), 4))
    assert faces[1] == tuple(np.round(viridis(1.0), 4))
    assert faces[-1] == faces[1]                                       # FR10 small island
    outline = result.figure.axes[0].collections[1]
    assert len(outline.get_paths()) == 1                               # DE11 outlined


def test_lq_and_stars_maps_select_one_category(geojson_file):
    geometries = maps.read_geometries(geojson_file)
    mapping = pd.DataFrame({
        "geo": ["DE11", "FR10", "DE11"], "scheme": "cluster",
        "category": ["automotive", "automotive", "digital"],
        "category_name": ["Automotive", "Automotive", "Digital"], "year": 2020,
        "lq": [4.0, 0.5, 1.0], "stars": [3, 0, 1]})
    result = maps.lq_map(mapping, geometries, "automotive")
    assert result.shown == 2 and "Automotive: location quotient, 2020" in \
        result.figure.axes[0].get_title()
    faces = result.figure.axes[0].collections[0].get_facecolors()
    red, blue = faces[0], faces[1]          # DE11 LQ 4 (log2 = 2, top), FR10 LQ 0.5
    assert red[0] > red[2] and blue[2] > blue[0]
    stars = maps.stars_map(mapping, geometries, "automotive", year=2021)   # -> latest <= 2021
    assert "stars, 2020" in stars.figure.axes[0].get_title()
    with pytest.raises(ValueError, match="category 'nope' is not in scheme 'cluster'"):
        maps.lq_map(mapping, geometries, "nope")
    scores = pd.DataFrame({"geo": ["DE11"], "year": [2020], "code": ["ic"], "score": [70.0]})
    assert maps.score_map(scores, geometries, "ic").shown == 1


def test_estimated_and_apportioned_regions_are_marked(geojson_file):
    geometries = maps.read_geometries(geojson_file)
    mapping = pd.DataFrame({
        "geo": ["DE11", "FR10"], "scheme": "cluster", "category": "automotive",
        "category_name": "Automotive", "year": 2020, "lq": [4.0, 0.5], "stars": [3, 0],
        "estimated_share": [0.6, 0.1], "apportioned": [False, True]})
    result = maps.lq_map(mapping, geometries, "automotive")
    assert (result.estimated, result.apportioned) == (["DE11"], ["FR10"])
    axis = result.figure.axes[0]
    assert [c.get_hatch() for c in axis.collections[1:3]] == ["....", "////"]
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == ["no data", ">= 50% estimated (confidential in the source)",
                      "apportioned after a NUTS split"]


@pytest.mark.shared_data
def test_real_nuts_geometries_draw(shared_data):
    path = maps.find_geometries(None, shared_data)
    assert path is not None and path.name.startswith("NUTS_RG_")
    started = time.perf_counter()
    geometries = maps.read_geometries(path)
    read = time.perf_counter() - started
    assert {"DE11", "FR10", "ITC4", "PL91"} <= set(geometries["geo"])
    de11 = np.vstack(geometries.set_index("geo").at["DE11", "rings"])
    # Stuttgart lies around 4.29e6 E, 2.89e6 N in EPSG:3035
    assert de11.mean(axis=0) == pytest.approx([4.29e6, 2.89e6], rel=0.01)
    started = time.perf_counter()
    values = pd.Series(np.arange(len(geometries), dtype=float), index=geometries["geo"])
    result = maps.choropleth(values, geometries, title="all regions")
    drawn = time.perf_counter() - started
    assert result.without_value == [] and result.shown == len(geometries)
    print(f"\n{path.name}: read {read:.2f} s, drawn {drawn:.2f} s, {len(geometries)} regions")


def test_load_geometries_says_in_one_sentence_how_to_get_a_map(tmp_path):
    raw, source, shared = tmp_path / "raw", tmp_path / "source", tmp_path / "shared"
    geometries, note = maps.load_geometries(raw, source, shared=shared)
    assert geometries is None
    assert note.startswith("No map:") and "`eocic fetch --geometries`" in note
    assert note.count(". ") == 0 and note.endswith(".")          # one sentence
    (shared / "nuts").mkdir(parents=True)
    fallback = shared / "nuts" / "NUTS_RG_60M_2016_4326_LEVL_2.geojson"
    fallback.write_text(json.dumps(feature_collection()))
    geometries, note = maps.load_geometries(raw, source, shared=shared)
    assert note == "" and list(geometries["geo"]) == ["DE11", "FR10", "FRY1"]
    (source / "nuts").mkdir(parents=True)
    (source / "nuts" / "NUTS_RG_60M_2016_4326_LEVL_2.geojson").write_text("{broken")
    geometries, note = maps.load_geometries(raw, source, shared=shared)
    assert geometries is None and note.startswith("No map:") and "not a readable GeoJSON" in note


def test_locate_geometries_looks_in_the_archive_the_source_then_shared(tmp_path, monkeypatch):
    raw, source, shared = tmp_path / "raw", tmp_path / "source", tmp_path / "shared"
    name = "NUTS_RG_60M_2016_4326_LEVL_2.geojson"
    assert maps.locate_geometries(raw, source, shared=shared) is None
    (shared / "nuts").mkdir(parents=True)
    (shared / "nuts" / name).write_text("{}")
    assert maps.locate_geometries(raw, source, shared=shared) == shared / "nuts" / name
    monkeypatch.setenv("EOCIC_SHARED_DATA", str(shared))  # the default shared folder
    assert maps.locate_geometries(raw, source) == shared / "nuts" / name
    (source / "nuts").mkdir(parents=True)
    (source / "nuts" / name).write_text("{}")
    assert maps.locate_geometries(raw, source, shared=shared) == source / "nuts" / name
    archived = raw / "gisco" / "NUTS_RG_20M_2021_4326_LEVL_2" / "20250314T091500Z.geojson"
    archived.parent.mkdir(parents=True)
    archived.write_text("{}")
    assert maps.locate_geometries(raw, source, shared=shared) == archived


def test_every_stage_looks_up_geometries_the_same_way():
    # a notebook with a lookup of its own (another default shared folder, no source folder)
    # drew maps in some stages of a run and not in others
    import re

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    for path in sorted(notebooks.glob("0*.ipynb")):
        text = path.read_text()
        assert "find_geometries" not in text, path.name
        assert not re.search(r"'shared' / 'data'|environ.get\('EOCIC_SHARED_DATA'", text), \
            path.name


def test_category_map_draws_lq_or_stars(geojson_file):
    geometries = maps.read_geometries(geojson_file)
    mapping = pd.DataFrame({"scheme": "cluster", "year": 2020, "geo": ["DE11", "FR10"],
                            "category": "automotive", "category_name": "Automotive",
                            "lq": [2.5, 0.5], "stars": [2, 0]})
    lq = maps.category_map(mapping, geometries, "automotive", measure="lq")
    stars = maps.category_map(mapping, geometries, "automotive", measure="stars")
    assert "location quotient" in lq.figure.axes[0].get_title()
    assert "stars" in stars.figure.axes[0].get_title()
    legend = [t.get_text() for t in lq.figure.axes[0].get_legend().get_texts()]
    assert legend[0] == "no data"                                # FRY1 has no value: grey
    with pytest.raises(ValueError, match="measure='size'"):
        maps.category_map(mapping, geometries, "automotive", measure="size")
    matplotlib.pyplot.close("all")


def test_stress_map_finds_geometries_as_the_other_stages(tmp_path, monkeypatch):
    from eocic.stress.figures import exposure_map

    monkeypatch.setenv("EOCIC_SHARED_DATA", str(tmp_path / "shared"))   # nothing there
    table = pd.DataFrame({"scenario": "s", "geo": ["DE11", "FR10"],
                          "expected_change_pct": [-1.0, 0.5], "estimated_share": [0.0, 0.6],
                          "apportioned": [False, False]})
    figure, note = exposure_map(table, "s", raw_root=tmp_path / "raw", shared=tmp_path / "src")
    assert figure is None and "`eocic fetch --geometries`" in note and "Ranked bars" in note
    nuts = tmp_path / "shared" / "nuts"
    nuts.mkdir(parents=True)
    (nuts / "NUTS_RG_60M_2016_4326_LEVL_2.geojson").write_text(json.dumps(feature_collection()))
    figure, note = exposure_map(table, "s", raw_root=tmp_path / "raw", shared=tmp_path / "src")
    assert figure is not None and note == ""  # the map writes its own note under it
    matplotlib.pyplot.close("all")
