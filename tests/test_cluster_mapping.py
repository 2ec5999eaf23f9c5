"""Cluster mapping orchestration: output contract, determinism, planted demo clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.clusters.mapping import (
    MAPPING_COLUMNS,
    build_cluster_mapping,
    default_weights,
    sector_weights,
    weights_from_groups,
    write_cluster_mapping,
)
from eocic.clusters.stars import StarRules, panorama_2020_comparison

CONTRACT = ("geo", "scheme", "category", "category_name", "year", "employment", "local_units",
            "avg_unit_size", "wages_eur", "wage_per_employee", "relative_wage", "size_share",
            "lq", "focus", "growth", "growth_years", "size_star", "specialisation_star",
            "productivity_star", "stars", "is_cluster", "performance_class", "basis")


def small_sbs(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [[f"AA{n:02d}" for n in range(15)], ["C10", "C11", "C20", "C21", "J62"],
         [2016, 2018, 2020]], names=["geo", "nace_r2", "year"])
    sbs = index.to_frame(index=False)
    sbs["employment"] = rng.lognormal(7, 1, len(sbs)).round()
    sbs["local_units"] = (sbs["employment"] / 10).round() + 1
    sbs["wages_eur"] = sbs["employment"] * rng.uniform(2e4, 5e4, len(sbs))
    sbs.loc[[3, 40], "employment"] = np.nan
    return sbs.sample(frac=1, random_state=1).reset_index(drop=True)  # order must not matter


def totals_of(sbs: pd.DataFrame) -> pd.DataFrame:
    """A ``regional_totals`` table for a test economy: the sum of its cells."""
    return sbs.groupby(["geo", "year"], as_index=False)["employment"].sum()


def small_mapping(sbs: pd.DataFrame | None = None, weights=None, *args, **kwargs):
    sbs = small_sbs() if sbs is None else sbs
    return build_cluster_mapping(sbs, small_weights() if weights is None else weights, *args,
                                 totals=totals_of(small_sbs()), **kwargs)


def small_weights() -> dict[str, pd.DataFrame]:
    sbs = small_sbs()
    return {"cluster": weights_from_groups({"food": ("C10", "C11"), "chem": ("C20", "C21")}),
            "sector": sector_weights(sbs["nace_r2"]),
            "emerging": weights_from_groups({"bio": ("C21", "J62"), "green": ("C20", "C21")})}


def test_contract_columns_order_and_schemes():
    mapping = small_mapping()
    table = mapping.table
    assert set(CONTRACT) <= set(table.columns)
    assert list(table.columns) == list(MAPPING_COLUMNS)
    assert mapping.schemes == ["sector", "cluster", "emerging"]
    assert list(dict.fromkeys(table["scheme"])) == ["sector", "cluster", "emerging"]
    assert len(table) == 15 * 3 * (5 + 2 + 2)
    assert table.duplicated(["scheme", "geo", "category", "year"]).sum() == 0
    assert table.groupby("scheme", sort=False).apply(
        lambda part: part[["geo", "category", "year"]].apply(tuple, axis=1).is_monotonic_increasing
    ).all()
    assert set(table["performance_class"].dropna()) <= {"basic", "medium", "high"}
    assert (table["stars"] == table[["size_star", "specialisation_star",
                                     "productivity_star"]].sum(axis=1)).all()
    assert (table["is_cluster"] == table["specialisation_star"]).all()
    assert not np.isinf(table.select_dtypes("number").to_numpy()).any()
    assert mapping.grid_rows_added == 0
    assert mapping.unmapped_categories.empty
    assert {"scheme", "year", "measure", "note", "rows"} <= set(mapping.notes.columns)
    assert len(mapping.linkages) > 0 and len(mapping.density) == len(table)


def test_same_inputs_give_identical_files(tmp_path):
    first = write_cluster_mapping(small_mapping(), tmp_path / "one")
    second = write_cluster_mapping(small_mapping(small_sbs().iloc[::-1]), tmp_path / "two")
    for key in ("table", "linkages", "density", "scheme_totals"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
    assert [p.name for p in first.values()] == [
        "cluster_mapping.parquet", "cluster_linkages.parquet", "relatedness_density.parquet",
        "scheme_employment.parquet"]
    round_trip = pd.read_parquet(first["table"])
    assert list(round_trip.columns) == list(MAPPING_COLUMNS)


def test_default_weights_hold_every_scheme():
    sbs = small_sbs()
    weights = default_weights()
    assert set(weights) == {"sector", "cluster", "emerging"}
    assert set(sbs["nace_r2"]) <= set(weights["sector"]["division"])
    assert weights["cluster"]["category"].nunique() == 51


def test_clones_are_merged_and_counted_once():
    sbs = small_sbs()
    weights = {"cluster": weights_from_groups({"food": ("C10", "C11"), "drinks": ("C10", "C11"),
                                               "chem": ("C20",)})}
    weights["cluster"].loc[weights["cluster"]["category"] == "drinks", "weight"] = 0.5
    mapping = build_cluster_mapping(sbs, weights, totals=totals_of(sbs))
    # drinks has half of food's weight on the same divisions: the same regional profile
    assert sorted(mapping.table["category"].unique()) == ["chem", "drinks"]
    merged = mapping.table[mapping.table["category"] == "drinks"]
    assert set(merged["merged_categories"]) == {"drinks|food"}
    assert set(merged["category_name"]) == {"drinks / food"}
    # the merged category holds both shares of the divisions (capped at 1): 1.0 x C10 + C11
    cells = sbs.set_index(["geo", "nace_r2", "year"])["employment"]
    row = merged[(merged["geo"] == "AA01") & (merged["year"] == 2020)].iloc[0]
    assert row["employment"] == pytest.approx(cells[("AA01", "C10", 2020)]
                                              + cells[("AA01", "C11", 2020)])
    assert mapping.clones.to_dict("records") == [
        {"scheme": "cluster", "category": "drinks", "merged_categories": "drinks|food",
         "category_name": "drinks / food"}]
    assert mapping.unmapped_categories.empty


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo economy (2008-2011) written as Eurostat files and read by stage 01, so its
    confidential cells are estimated as on real data."""
    import json
    import warnings

    from eocic import pipeline, sources
    from eocic.demo import generate_demo_economy

    raw = tmp_path_factory.mktemp("demo_raw")
    generate_demo_economy(raw, last_year=2011)
    results = {}
    for mode in ("estimate", "exclude"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[mode] = pipeline.run_pipeline(
                sources.locate_datasets(raw), raw, tmp_path_factory.mktemp(mode), year=2011,
                confidential_cells=mode)
    truth = json.loads((raw / "truth.json").read_text(encoding="utf-8"))
    return raw, truth, results


@pytest.fixture(scope="module")
def demo_mapping(demo_run):
    _, truth, results = demo_run
    weights = {"cluster": weights_from_groups(truth["demo_cluster_groups"])}
    mappings = {mode: build_cluster_mapping(result.tables["sbs"], weights, growth_years=3,
                                            totals=result.tables["regional_totals"])
                for mode, result in results.items()}
    return truth, mappings


def test_planted_demo_clusters_are_found(demo_mapping):
    truth, mappings = demo_mapping
    planted = pd.DataFrame(truth["planted_pairs"])
    found_share = {}
    for mode, mapping in mappings.items():
        first = mapping.table[mapping.table["year"] == truth["first_year"]]
        found = planted.merge(first, left_on=["geo", "group"], right_on=["geo", "category"],
                              how="left")
        assert len(found) == len(planted) > 50
        found_share[mode] = found["is_cluster"].mean()
        if mode == "estimate":
            assert (found["lq"] >= 2).mean() >= 0.95
            # planted pairs are rare among all clusters of the demo groups, but most are high LQ
            assert found["lq"].median() > first["lq"].quantile(0.95)
    # with confidential cells left out, a planted cluster with one confidential division
    # vanishes; with the estimates it is found
    assert found_share["estimate"] >= 0.95
    assert found_share["exclude"] < found_share["estimate"]


def test_demo_estimates_against_the_truth(demo_run):
    raw, _, results = demo_run
    truth = pd.read_csv(raw / "truth_confidential.csv.gz")
    sbs = results["estimate"].tables["sbs"]
    employment = truth[truth["indicator"] == "employment"].merge(
        sbs[["geo", "nace_r2", "year", "employment", "employment_estimated",
             "employment_lower", "employment_upper"]], on=["geo", "nace_r2", "year"])
    assert len(employment) == (truth["indicator"] == "employment").sum()
    assert employment["employment_estimated"].all()
    error = (employment["employment"] - employment["true_value"]).abs() / employment["true_value"]
    assert error.median() < 0.25
    within = ((employment["true_value"] >= employment["employment_lower"] - 1)
              & (employment["true_value"] <= employment["employment_upper"] + 1))
    assert within.mean() > 0.99


def test_demo_invariants_and_comparison(demo_mapping):
    _, mappings = demo_mapping
    mapping = mappings["estimate"]
    table = mapping.table
    shares = table.groupby(["category", "year"])["size_share"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)
    with_lq = table[table["lq"].notna()]
    mean_lq = ((with_lq["regional_employment"] * with_lq["lq"]).groupby(
        [with_lq["category"], with_lq["year"]]).sum()
        / with_lq.groupby(["category", "year"])["regional_employment"].sum())
    np.testing.assert_allclose(mean_lq.to_numpy(), 1.0)
    assert (table.loc[table["year"] == 2011, "growth_years"] == 3).all()
    comparison = panorama_2020_comparison(table, 2011, "cluster",
                                          scheme_totals=mapping.scheme_totals)
    comparison = comparison.set_index("measure")
    assert comparison.loc["clusters", "this_study"] == table[
        (table["year"] == 2011) & table["is_cluster"]].shape[0]
    assert 0 < comparison.loc["share_of_business_economy", "this_study"] < 1
    assert (comparison.loc["share_of_business_economy", "this_study"]
            < comparison.loc["share_of_traded_employment", "this_study"])


def test_lower_threshold_gives_more_clusters():
    sbs, weights = small_sbs(), small_weights()
    default = small_mapping(sbs, weights).table["is_cluster"].sum()
    looser = small_mapping(sbs, weights, StarRules(specialisation_lq=1.2)).table
    assert looser["is_cluster"].sum() > default


def test_figures_return_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eocic.clusters import figures

    mapping = small_mapping()
    table = mapping.table
    made = [
        figures.plot_portfolio(table, "AA01", 2020, "sector"),
        figures.plot_lq_heatmap(table, "AA", 2020, "cluster"),
        figures.plot_development(table, "AA01", "sector", ["C10", "J62"]),
        figures.plot_development(table, "AA01", "sector", ["C10"], measure="lq"),
        figures.plot_colocation(mapping.linkages, table, 2020, "sector"),
        figures.plot_panorama_comparison(panorama_2020_comparison(
            table, 2020, "sector", scheme_totals=mapping.scheme_totals)),
    ]
    assert all(isinstance(figure, plt.Figure) for figure in made)
    heatmap_labels = [t.get_text() for t in made[1].axes[0].get_xticklabels()]
    assert heatmap_labels == ["chem", "food"]
    with pytest.raises(ValueError, match="no region of country"):
        figures.plot_lq_heatmap(table, "ZZ", 2020, "sector")
    plt.close("all")


def test_category_without_sbs_division_is_reported():
    weights = small_weights()
    weights["cluster"] = pd.concat([weights["cluster"], weights_from_groups(
        {"forestry": ("A02",), "mixed": ("A01", "C10")})], ignore_index=True)
    mapping = small_mapping(weights=weights)
    assert mapping.unmapped_categories.to_dict("records") == [
        {"scheme": "cluster", "category": "forestry", "category_name": "forestry"}]
    assert set(mapping.uncovered["division"]) == {"A01", "A02"}
    mixed = mapping.table[mapping.table["category"] == "mixed"]
    food = mapping.table[mapping.table["category"] == "food"]
    assert len(mixed) == 45
    assert mixed["employment"].sum() < food["employment"].sum()


def test_value_coverage_counts_holes_and_estimates():
    from eocic.clusters.mapping import value_coverage

    table = pd.DataFrame({
        "scheme": "cluster", "geo": ["A", "B", "C", "A"], "category": ["x", "x", "x", "y"],
        "year": 2020, "employment": [100.0, np.nan, 50.0, 50.0],
        "estimated_share": [0.5, np.nan, 0.0, 0.0], "apportioned": [False, False, True, False],
        "merged_categories": [None, None, None, "y|z"]})
    row = value_coverage(table, 2020).iloc[0]
    assert (row["cells"], row["without_employment"], row["with_estimates"]) == (4, 0.25, 0.25)
    assert row["estimated_employment"] == pytest.approx(50 / 200)
    assert (row["apportioned_regions"], row["merged_clones"]) == (1, 1)


def test_the_mapping_is_computed_once_per_content_in_the_shared_store(tmp_path):
    """``shared_dir``: the second call with the same tables reads the stored mapping (the same
    tables, byte for byte once written); other tables or parameters make another entry."""
    import hashlib

    from eocic.clusters.mapping import write_cluster_mapping

    sbs = small_sbs()
    store = tmp_path / "store"
    plain = small_mapping(sbs)
    first = small_mapping(sbs, shared_dir=store)
    second = small_mapping(sbs.copy(), shared_dir=store)
    assert len(list(store.glob("cluster_mapping-*.pickle"))) == 1
    written = {}
    for name, mapping in (("plain", plain), ("first", first), ("second", second)):
        paths = write_cluster_mapping(mapping, tmp_path / name)
        written[name] = {key: hashlib.sha256(path.read_bytes()).hexdigest()
                         for key, path in paths.items()}
    assert written["plain"] == written["first"] == written["second"]
    # written through the store: the first run writes and keeps the files, the second copies
    # them; both byte-identical to the plain writer
    assert plain.store_key is None and first.store_key == second.store_key
    for name, mapping in (("first_stored", first), ("second_stored", second)):
        paths = write_cluster_mapping(mapping, tmp_path / name, shared_dir=store)
        assert {key: hashlib.sha256(path.read_bytes()).hexdigest()
                for key, path in paths.items()} == written["plain"]
        assert all(path.parent == tmp_path / name for path in paths.values())
    assert len(list(store.glob("cluster_mapping_tables-*.files"))) == 1
    small_mapping(sbs, growth_years=2, shared_dir=store)
    changed = sbs.copy()
    changed.loc[0, "employment"] = changed.loc[0, "employment"] + 1
    small_mapping(changed, shared_dir=store)
    assert len(list(store.glob("cluster_mapping-*.pickle"))) == 3


def test_the_summaries_read_the_year_of_the_cluster_scheme_when_it_is_mapped(tmp_path):
    """summary_rows: the rows of the year in scheme 'cluster' when the table maps that scheme
    in any year (even none in this one), else 'sector'; None without a table."""
    from eocic.clusters.mapping import summary_rows, write_cluster_mapping

    assert summary_rows(tmp_path, 2020) == (None, None)
    mapping = small_mapping()
    write_cluster_mapping(mapping, tmp_path)
    year = int(mapping.table["year"].max())
    rows, scheme = summary_rows(tmp_path, year)
    from eocic.tables import read_table
    whole = read_table(tmp_path, "cluster_mapping")
    expected = whole[(whole["scheme"] == scheme) & (whole["year"] == year)].reset_index(drop=True)
    assert scheme == ("cluster" if (mapping.table["scheme"] == "cluster").any() else "sector")
    assert len(rows) and rows.equals(expected)
    rows, _ = summary_rows(tmp_path, 1900)        # a year the table lacks: no rows, same scheme
    assert rows.empty
