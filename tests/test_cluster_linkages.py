"""Linkages: Ellison-Glaeser coagglomeration, proximity, density and co-location, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.clusters.linkages import (
    build_linkages,
    coagglomeration,
    colocation_correlation,
    density_table,
    diversification_opportunities,
    presence_matrix,
    proximity,
    relatedness_density,
)


def test_coagglomeration_two_regions_by_hand():
    # E_r = (100, 300): x = (0.25, 0.75); i = (20, 20): s_i = (0.5, 0.5);
    # j = (30, 10): s_j = (0.75, 0.25)
    # gamma_ij = [(0.25)(0.5) + (-0.25)(-0.5)] / (1 - 0.0625 - 0.5625) = 0.25 / 0.375
    employment = pd.DataFrame({"i": [20.0, 20.0], "j": [30.0, 10.0]}, index=["r1", "r2"])
    totals = pd.Series([100.0, 300.0], index=["r1", "r2"])
    gamma = coagglomeration(employment, totals)
    assert gamma.loc["i", "j"] == pytest.approx(0.25 / 0.375)
    assert gamma.loc["j", "i"] == pytest.approx(0.25 / 0.375)
    assert gamma.loc["i", "i"] == pytest.approx((0.25 ** 2 + 0.25 ** 2) / 0.375)


def test_coagglomeration_leaves_out_missing_regions():
    employment = pd.DataFrame({"i": [20.0, 20.0, 50.0], "j": [30.0, 10.0, np.nan]},
                              index=["r1", "r2", "r3"])
    totals = pd.Series([100.0, 300.0, 1000.0], index=["r1", "r2", "r3"])
    # the pair is computed over r1 and r2 only, where both are published
    assert coagglomeration(employment, totals).loc["i", "j"] == pytest.approx(0.25 / 0.375)


PRESENCE = pd.DataFrame({"A": [1, 1, 0, 1], "B": [1, 0, 1, 1], "C": [0, 1, 1, 0],
                         "D": [0, 1, 0, 1]}, index=["r1", "r2", "r3", "r4"], dtype=float)


def test_proximity_by_hand():
    phi = proximity(PRESENCE)
    # k = A 3, B 3, C 2, D 2; co-presence AB 2, AC 1, AD 2, BC 1, BD 1, CD 1
    assert phi.loc["A", "B"] == pytest.approx(2 / 3)
    assert phi.loc["A", "C"] == pytest.approx(1 / 3)
    assert phi.loc["A", "D"] == pytest.approx(2 / 3)
    assert phi.loc["C", "D"] == pytest.approx(1 / 2)
    assert phi.loc["B", "A"] == phi.loc["A", "B"]
    assert phi.loc["A", "A"] == 0.0


def test_density_by_hand():
    density = relatedness_density(PRESENCE, proximity(PRESENCE))
    # r1 has A, B: omega(C) = (1/3 + 1/3) / (1/3 + 1/3 + 1/2) = 4/7
    assert density.loc["r1", "C"] == pytest.approx(4 / 7)
    # omega(D) = (2/3 + 1/3) / (2/3 + 1/3 + 1/2) = 2/3
    assert density.loc["r1", "D"] == pytest.approx(2 / 3)
    # r3 has B, C: omega(A) = (2/3 + 1/3) / (2/3 + 1/3 + 2/3) = 0.6
    assert density.loc["r3", "A"] == pytest.approx(0.6)


def test_density_leaves_out_unknown_presence():
    phi = proximity(PRESENCE)
    unknown = PRESENCE.copy()
    unknown.loc["r3", "D"] = np.nan
    # r3: only B and C are known: omega(A) = (2/3 + 1/3) / (2/3 + 1/3) = 1 (D not a zero)
    assert relatedness_density(unknown, phi).loc["r3", "A"] == pytest.approx(1.0)


def lq_table() -> pd.DataFrame:
    """Five categories over 12 regions: b follows a, c reverses a, d and e are noise."""
    rng = np.random.default_rng(3)
    base = np.linspace(0.2, 3.0, 12)
    lq = pd.DataFrame({"a": base, "b": base ** 2, "c": 4 - base,
                       "d": rng.uniform(0.5, 2, 12), "e": rng.uniform(0.5, 2, 12)},
                      index=[f"R{k:02d}" for k in range(12)])
    return lq


def test_colocation_is_rank_correlation():
    corr = colocation_correlation(lq_table())
    assert corr.loc["a", "b"] == pytest.approx(1.0)   # monotone, not linear: Spearman = 1
    assert corr.loc["a", "c"] == pytest.approx(-1.0)
    lq = lq_table()
    lq.iloc[:5, 1] = np.nan
    assert np.isnan(colocation_correlation(lq, min_regions=8).loc["a", "b"])


def mapping_from_lq(lq: pd.DataFrame) -> pd.DataFrame:
    long = lq.stack().rename("lq").reset_index()
    long.columns = ["geo", "category", "lq"]
    return long.assign(scheme="cluster", year=2020, employment=long["lq"] * 100,
                       regional_employment=1000.0)


def test_pairs_related_flag_and_density_table():
    pairs, density = build_linkages(mapping_from_lq(lq_table()))
    assert len(pairs) == 10  # 5 categories: 10 pairs i < j
    assert (pairs["category_i"] < pairs["category_j"]).all()
    related = pairs[pairs["related"]]
    # P90 of ten correlations lies between the 9th and the 10th: only the top pair (a, b)
    assert list(zip(related["category_i"], related["category_j"])) == [("a", "b")]
    assert (pairs["n_regions"] == 12).all()
    r00 = density[density["geo"] == "R00"].set_index("category")
    assert r00.loc["c", "presence"] == 1.0 and pd.isna(r00.loc["c", "opportunity_rank"])
    absent = r00[r00["presence"] == 0]
    assert len(absent) >= 2
    assert sorted(absent["opportunity_rank"]) == list(range(1, len(absent) + 1))
    top = diversification_opportunities(density, "R00", 2020, "cluster", top=2)
    assert list(top["opportunity_rank"]) == [1, 2]
    assert top["density"].is_monotonic_decreasing


def test_presence_matrix_keeps_missing_lq_missing():
    lq = pd.DataFrame({"a": [0.5, 1.0, np.nan]})
    assert presence_matrix(lq)["a"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(presence_matrix(lq)["a"].iloc[2])


def test_density_table_opportunities_match_hand_values():
    lq = PRESENCE * 1.5 + 0.2   # presence 1 -> LQ 1.7, 0 -> 0.2
    table = mapping_from_lq(lq)
    dense = density_table(table).set_index(["geo", "category"])
    assert dense.loc[("r1", "D"), "density"] == pytest.approx(2 / 3)
    assert dense.loc[("r1", "D"), "opportunity_rank"] == 1
    assert dense.loc[("r1", "C"), "opportunity_rank"] == 2


def test_vectorised_spearman_equals_pandas_with_gaps_and_ties():
    rng = np.random.default_rng(5)
    lq = pd.DataFrame(rng.lognormal(0, 1, (40, 7)).round(1), columns=list("abcdefg"))
    lq[lq < 0.5] = 0.0                       # ties at zero, as for categories absent in a region
    lq = lq.mask(rng.random(lq.shape) < 0.15)  # confidential gaps, different per column
    lq["g"] = 1.0                            # constant column: undefined correlation
    expected = lq.corr(method="spearman", min_periods=10)
    np.testing.assert_allclose(colocation_correlation(lq).to_numpy(), expected.to_numpy(),
                               atol=1e-12, equal_nan=True)


def test_categories_from_the_same_divisions_are_not_related():
    lq = lq_table()
    lq["a_twin"] = lq["a"]          # allocated from the very same division as a
    divisions = {"cluster": {"a": frozenset({"C27"}), "a_twin": frozenset({"C27"}),
                             "b": frozenset({"C28"})}}
    pairs, _ = build_linkages(mapping_from_lq(lq), divisions=divisions)
    twin = pairs[(pairs["category_i"] == "a") & (pairs["category_j"] == "a_twin")].iloc[0]
    assert twin["colocation_corr"] == pytest.approx(1.0)
    assert twin["same_divisions"] and not twin["related"]
    assert pairs["same_divisions"].sum() == 1
    # (a, b) and (a_twin, b) remain: correlation 1 and related
    assert pairs.loc[pairs["related"], ["category_i", "category_j"]].apply(tuple, axis=1).tolist() \
        == [("a", "b"), ("a_twin", "b")]
