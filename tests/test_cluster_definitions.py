"""Cluster classifications: loader shapes, disjointness, allocation weights, build script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from eocic.clusters import definitions
from eocic.clusters.definitions import (
    DefinitionError,
    allocation_weights,
    categories,
    cluster_categories,
    emerging_industries,
    nace_classes,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CLASSIFICATIONS = REPO_ROOT / "eocic" / "classifications"
BUILT_FILES = ("nace_r2_classes.csv", "cluster_categories.csv", "emerging_industries.csv",
               "README.md")


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "build_cluster_definitions", REPO_ROOT / "tools" / "build_cluster_definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weight(weights: pd.DataFrame, category_name: str, division: str) -> float:
    row = weights[(weights["category_name"] == category_name) & (weights["division"] == division)]
    return float(row["weight"].sum())


# --- loader shapes -----------------------------------------------------------------------------


def test_nace_classes_are_the_615_nace_rev2_classes():
    classes = nace_classes()
    assert list(classes.columns) == ["nace_class", "division", "class_name"]
    assert len(classes) == 615 and classes["nace_class"].is_unique
    assert classes["nace_class"].str.fullmatch(r"\d{2}\.\d{2}").all()
    assert (classes["division"].str[1:] == classes["nace_class"].str[:2]).all()
    assert classes["division"].nunique() == 88  # NACE Rev.2: 88 divisions
    by_code = classes.set_index("nace_class")
    assert by_code.loc["21.20", "division"] == "C21"
    assert by_code.loc["10.13", "class_name"] == "Production of meat and poultry meat products"


def test_cluster_categories_shape_and_ids():
    table = cluster_categories()
    assert table["category"].nunique() == 51
    ids = categories("cluster")
    assert ids["category"].tolist() == [f"CL{k:02d}" for k in range(1, 52)]
    # ids follow the alphabetical order of the EU names
    assert ids["category_name"].tolist() == sorted(ids["category_name"])
    names = set(ids["category_name"])
    assert {"Appliances", "Jewellery and Precious Metals", "Aerospace Vehicles and Defence",
            "Heavy Machinery and Manufacturing Technology", "Wood Products"} <= names
    assert "Trailers, Motor Homes, and Appliances" not in names
    assert set(table["source"]) <= {"derived", "override"}
    assert table["naics_links"].dtype == "int64"
    assert (table.loc[table["source"] == "derived", "naics_links"] >= 1).all()


def test_every_class_in_at_most_one_category_and_known():
    table = cluster_categories()
    assert table["nace_class"].is_unique
    classes = nace_classes().set_index("nace_class")
    assert set(table["nace_class"]) <= set(classes.index)
    assert (classes.loc[table["nace_class"], "division"].to_numpy()
            == table["division"].to_numpy()).all()


def test_emerging_industries_overlap_and_ids():
    table = emerging_industries()
    assert table["category"].nunique() == 10
    assert categories("emerging")["category"].tolist() == [f"EM{k:02d}" for k in range(1, 11)]
    assert not table.duplicated(["category", "nace_class"]).any()
    assert table["nace_class"].duplicated().any()  # overlaps are allowed and present
    creative = set(table.loc[table["category_name"] == "Creative Industries", "nace_class"])
    experience = set(table.loc[table["category_name"] == "Experience Industries", "nace_class"])
    assert {"90.01", "91.02"} <= creative & experience
    mobility = set(table.loc[table["category_name"] == "Mobility Technologies", "nace_class"])
    assert mobility == {"29.10", "29.20", "29.31", "29.32", "30.20", "30.30", "30.91", "33.17"}


@pytest.mark.parametrize("nace_class, category_name", [
    ("29.10", "Automotive"),
    ("21.20", "Biopharmaceuticals"),
    ("55.10", "Hospitality and Tourism"),
    ("05.10", "Coal Mining"),
    ("27.51", "Appliances"),
    ("30.11", "Water Transport"),
])
def test_sanity_anchors(nace_class, category_name):
    table = cluster_categories().set_index("nace_class")
    assert table.loc[nace_class, "category_name"] == category_name


def test_local_classes_are_in_no_category():
    in_category = set(cluster_categories()["nace_class"])
    # retail of food, building construction, hairdressing, public administration: local
    assert not {"47.11", "41.20", "96.02", "84.11"} & in_category


# --- allocation weights ------------------------------------------------------------------------


def test_cluster_weights_in_unit_interval_and_at_most_one_per_division():
    weights = allocation_weights("cluster")
    assert list(weights.columns) == ["category", "category_name", "division", "weight", "basis"]
    assert ((weights["weight"] > 0) & (weights["weight"] <= 1)).all()
    assert (weights["basis"] == "class_count").all()
    assert not weights.duplicated(["category", "division"]).any()
    per_division = weights.groupby("division")["weight"].sum()
    assert (per_division <= 1 + 1e-12).all()
    # the local remainder 1 - sum is positive for a mixed division, e.g. C33 (repair)
    assert per_division["C33"] < 1


def test_fallback_weights_hand_checked():
    weights = allocation_weights("cluster")
    # C29: 29.10, 29.20, 29.31, 29.32 are all Automotive -> weight 4/4
    assert _weight(weights, "Automotive", "C29") == 1.0
    assert weights.loc[weights["division"] == "C29", "category"].tolist() == ["CL05"]
    # C27 has 10 classes; Appliances = 27.51 + 27.52 -> 2/10
    assert _weight(weights, "Appliances", "C27") == pytest.approx(0.2)
    # C21: 21.10 and 21.20 are Biopharmaceuticals
    assert _weight(weights, "Biopharmaceuticals", "C21") == 1.0


def test_class_employment_weights_hand_checked():
    employment = pd.DataFrame({
        "nace_class": ["27.11", "27.51", "27.52", "29.10", "29.20", "21.10", "21.20"],
        "employment": [60.0, 10.0, 30.0, 100.0, 50.0, 0.0, float("nan")],
    })
    weights = allocation_weights("cluster", class_employment=employment)
    c27 = weights[weights["division"] == "C27"].set_index("category_name")
    # C27 total = 60 + 10 + 30 = 100 (absent classes count 0): Appliances 40/100, Lighting 60/100
    assert c27.loc["Appliances", "weight"] == pytest.approx(0.4)
    assert c27.loc["Lighting and Electrical Equipment", "weight"] == pytest.approx(0.6)
    assert set(c27["basis"]) == {"class_employment"}
    assert len(c27) == 2  # zero-weight categories (e.g. Upstream Metal via 27.32) are dropped
    assert _weight(weights, "Automotive", "C29") == pytest.approx(1.0)
    # C21 has no positive employment -> class-count fallback, flagged
    c21 = weights[weights["division"] == "C21"]
    assert c21["basis"].tolist() == ["class_count"] and c21["weight"].tolist() == [1.0]
    # a division absent from the table keeps the proxy
    assert set(weights.loc[weights["division"] == "C13", "basis"]) == {"class_count"}


def test_class_employment_bad_input_is_named():
    with pytest.raises(DefinitionError, match="2910"):
        allocation_weights("cluster", pd.DataFrame({"nace_class": ["2910"], "employment": [1]}))
    with pytest.raises(DefinitionError, match="repeated"):
        allocation_weights("cluster", pd.DataFrame({"nace_class": ["29.10", "29.10"],
                                                    "employment": [1, 2]}))
    with pytest.raises(DefinitionError, match="employment"):
        allocation_weights("cluster", pd.DataFrame({"nace_class": ["29.10"]}))
    with pytest.raises(DefinitionError, match="negative"):
        allocation_weights("cluster", pd.DataFrame({"nace_class": ["29.10"], "employment": [-1]}))


def test_emerging_weights_may_sum_above_one():
    weights = allocation_weights("emerging")
    assert ((weights["weight"] > 0) & (weights["weight"] <= 1)).all()
    # C29 is wholly Mobility Technologies (4 of 4 classes)
    assert _weight(weights, "Mobility Technologies", "C29") == 1.0
    # R90 (4 classes) is in both Creative and Experience industries
    assert weights[weights["division"] == "R90"]["weight"].sum() == pytest.approx(2.0)


def test_sector_scheme_is_exact_identity():
    weights = allocation_weights("sector")
    divisions = definitions._divisions()
    assert len(weights) == len(divisions) == 71
    assert (weights["category"] == weights["division"]).all()
    assert (weights["weight"] == 1.0).all() and (weights["basis"] == "exact").all()
    c29 = weights.set_index("division").loc["C29", "category_name"]
    assert c29 == "Manufacture of motor vehicles, trailers and semi-trailers"
    assert categories("sector").shape == (71, 3)


def test_unknown_scheme_raises():
    with pytest.raises(DefinitionError, match="scheme"):
        allocation_weights("clusters")


# --- build script: rules on hand-made inputs ---------------------------------------------------


def test_expand_codes_ranges_groups_and_divisions():
    build = _build_module()
    codes = ["01.61", "01.62", "01.63", "01.64", "01.70", "10.31", "10.39", "10.41", "11.01"]
    assert build.expand_codes("01.61-01.63, 11.01", codes, "t") == ["01.61", "01.62", "01.63",
                                                                    "11.01"]
    assert build.expand_codes("10.3x", codes, "t") == ["10.31", "10.39"]
    assert build.expand_codes("10.3x-10.9x", codes, "t") == ["10.31", "10.39", "10.41"]
    assert build.expand_codes("01.xx", codes, "t") == ["01.61", "01.62", "01.63", "01.64",
                                                       "01.70"]
    with pytest.raises(build.SourceError, match="99.99"):
        build.expand_codes("99.99", codes, "t")


def test_assignment_rule_ties_and_local_rule():
    build = _build_module()
    links = pd.DataFrame([
        # most links wins
        ("10.10", "Apparel", 3, 1.0, 0, 0), ("10.10", "Footwear", 2, 2.0, 2, 0),
        # equal links: larger link share wins
        ("20.20", "Plastics", 1, 0.5, 0, 0), ("20.20", "Upstream Chemicals", 1, 1.0, 0, 0),
        # full tie: alphabetical
        ("30.30", "Tobacco", 1, 1.0, 1, 0), ("30.30", "Forestry", 1, 1.0, 1, 0),
        # local industries hold more links: local
        ("40.40", "Apparel", 1, 1.0, 1, 2),
        # traded equals local: stays traded
        ("50.50", "Footwear", 2, 1.0, 1, 2),
    ], columns=["nace_class", "category_name", "naics_links", "link_share", "whole_links",
                "local_links"])
    assigned, ties, made_local = build.assign_categories(links)
    result = assigned.set_index("nace_class")["category_name"].to_dict()
    assert result == {"10.10": "Apparel", "20.20": "Upstream Chemicals", "30.30": "Forestry",
                      "50.50": "Footwear"}
    assert len(ties) == 1 and "30.30" in ties[0]
    assert len(made_local) == 1 and "40.40" in made_local[0]


# --- build script on the real shared files ------------------------------------------------------


@pytest.mark.shared_data
def test_build_reproduces_committed_files(shared_data, tmp_path, capsys):
    build = _build_module()
    assert build.main([str(shared_data / "cluster_definitions"), "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    for name in BUILT_FILES:
        assert (tmp_path / name).read_bytes() == (CLASSIFICATIONS / name).read_bytes(), name
