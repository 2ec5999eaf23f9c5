"""Estimation of confidential SBS cells (eocic.confidential): hand-computed fits, bounds,
priors, bad input, and the masked-cell validation on the real 2014 extracts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from eocic import confidential
from eocic.confidential import EstimationWarning

KEY = ["geo", "nace_r2", "year"]


def hierarchy(cells: dict[tuple[str, str, int], float | None]) -> pd.DataFrame:
    """A one-measure (employment) hierarchy from ``{(geo, nace, year): value}``; the other
    measures are NaN."""
    rows = [{"geo": g, "nace_r2": n, "year": y, "employment": np.nan if v is None else float(v)}
            for (g, n, y), v in cells.items()]
    frame = pd.DataFrame(rows)
    frame["local_units"] = np.nan
    frame["wages_eur"] = np.nan
    return frame


def estimate(frame: pd.DataFrame, **kwargs) -> confidential.EstimationResult:
    return confidential.estimate_cells(frame, ("employment",), **kwargs)


def cell(result, geo, nace, year=2014, column="employment"):
    rows = result.cells
    return rows.loc[(rows["geo"] == geo) & (rows["nace_r2"] == nace) & (rows["year"] == year),
                    column].iloc[0]


# The examples use real NUTS 2013 codes (EL51..EL53 in NUTS-1 EL5) and section E (divisions
# E36-E39), so the grid's NUTS-version check and section coverage apply as on real files.
def two_by_two(prior_year: bool = False) -> pd.DataFrame:
    """Two regions x two divisions missing, row totals (regions' sections) and column totals
    (the NUTS-1 divisions) published; the third region publishes everything."""
    cells: dict = {}
    truth = {("EL51", "E36"): 30, ("EL51", "E37"): 10, ("EL52", "E36"): 20, ("EL52", "E37"): 40,
             ("EL53", "E36"): 5, ("EL53", "E37"): 5}
    others = {("EL51", "E38"): 100, ("EL51", "E39"): 50, ("EL52", "E38"): 200,
              ("EL52", "E39"): 70, ("EL53", "E38"): 10, ("EL53", "E39"): 1}
    years = [2013, 2014] if prior_year else [2014]
    for year in years:
        for (geo, nace), value in {**truth, **others}.items():
            hidden = year == 2014 and geo in ("EL51", "EL52") and nace in ("E36", "E37")
            cells[(geo, nace, year)] = None if hidden else value
        for geo in ("EL51", "EL52", "EL53"):
            cells[(geo, "E", year)] = sum(v for (g, _), v in {**truth, **others}.items()
                                          if g == geo)
        for nace in ("E36", "E37", "E38", "E39"):
            total = sum(v for (_, n), v in {**truth, **others}.items() if n == nace)
            cells[("EL5", nace, year)] = total
        cells[("EL5", "E", year)] = sum({**truth, **others}.values())
    return hierarchy(cells)


def test_two_by_two_equal_priors_give_the_independence_solution():
    # no neighbouring year, no local units: equal priors; IPF then converges to
    # x_ij = R_i * C_j / T (the only table with these margins proportional to a constant)
    result = estimate(two_by_two())
    row = {"EL51": 40, "EL52": 60}   # section residuals: E36 + E37 of each region
    col = {"E36": 50, "E37": 50}     # NUTS-1 residuals after EL53's published cells
    total = 100
    for geo in row:
        for nace in col:
            assert cell(result, geo, nace) == pytest.approx(row[geo] * col[nace] / total,
                                                            rel=1e-6)
            assert bool(cell(result, geo, nace, column="employment_estimated"))
            assert cell(result, geo, nace, column="employment_basis") == "equal split"
    published = cell(result, "EL53", "E36")
    assert published == 5 and not cell(result, "EL53", "E36", column="employment_estimated")
    assert pd.isna(cell(result, "EL53", "E36", column="employment_basis"))


def test_bounds_are_what_the_parents_leave():
    result = estimate(two_by_two())
    # EL51 E36: row residual 40 (+ rounding 0.5 x (published members + 1)), column 50
    upper = cell(result, "EL51", "E36", column="employment_upper")
    lower = cell(result, "EL51", "E36", column="employment_lower")
    assert 40 <= upper <= 40 + 0.5 * (2 + 1)
    # lower = max over aggregates of residual - tolerance - upper of the other unknown
    assert 0 <= lower <= cell(result, "EL51", "E36") <= upper
    # the true values lie within the bounds
    truth = {("EL51", "E36"): 30, ("EL51", "E37"): 10, ("EL52", "E36"): 20, ("EL52", "E37"): 40}
    for (geo, nace), value in truth.items():
        assert (cell(result, geo, nace, column="employment_lower") - 1e-9 <= value
                <= cell(result, geo, nace, column="employment_upper") + 1e-9)


def test_neighbouring_year_prior_is_scaled_by_national_growth():
    frame = two_by_two(prior_year=True)
    result = estimate(frame)
    # every 2013 cell is published and equal to 2014's: the priors are the truth, which
    # meets every constraint, so the fit keeps them
    truth = {("EL51", "E36"): 30, ("EL51", "E37"): 10, ("EL52", "E36"): 20, ("EL52", "E37"): 40}
    for (geo, nace), value in truth.items():
        assert cell(result, geo, nace) == pytest.approx(value, rel=1e-6)
        assert cell(result, geo, nace, column="employment_basis") == "neighbouring year"


def test_prior_scaled_by_growth_of_the_country():
    # x_rd,t' * X_cd,t / X_cd,t' from the nearest year with a value, the earlier on a tie
    nan = np.nan
    values = np.array([[[10.0, nan, nan, 40.0],     # 2011 and 2014 published
                        [nan, nan, nan, nan]]])     # never published
    national = np.array([[[100.0, 150.0, 300.0, 200.0],
                          [1.0, 1.0, 1.0, 1.0]]])
    prior, available = confidential._nearest_year_prior(values, national)
    assert prior[0, 0, 1] == pytest.approx(10 * 150 / 100)   # from 2011 (nearer than 2014)
    assert prior[0, 0, 2] == pytest.approx(40 * 300 / 200)   # from 2014 (nearer than 2011)
    assert not available[0, 1].any()
    # a missing or zero national value leaves the neighbouring value unscaled
    national[0, 0, 1] = nan
    prior, _ = confidential._nearest_year_prior(values, national)
    assert prior[0, 0, 1] == pytest.approx(10.0)


def test_sole_unknown_is_determined_and_constraints_hold():
    cells = {("EL51", "E36", 2014): None, ("EL51", "E37", 2014): 7, ("EL51", "E38", 2014): 3,
             ("EL51", "E39", 2014): 0, ("EL51", "E", 2014): 25}
    result = estimate(hierarchy(cells))
    assert cell(result, "EL51", "E36") == pytest.approx(15.0)
    # rounding tolerance 0.5 x (3 published members + 1) = 2 on either side
    assert cell(result, "EL51", "E36", column="employment_lower") == pytest.approx(13.0)
    assert cell(result, "EL51", "E36", column="employment_upper") == pytest.approx(17.0)


def test_parent_smaller_than_its_children_warns_and_is_dropped():
    cells = {("EL51", "E36", 2014): None, ("EL51", "E37", 2014): 70, ("EL51", "E38", 2014): 3,
             ("EL51", "E39", 2014): None, ("EL51", "E", 2014): 25,
             ("EL5", "E36", 2014): 40, ("EL5", "E39", 2014): 10}
    with pytest.warns(EstimationWarning, match="EL51 E 2014: published 25 < children 73"):
        result = estimate(hierarchy(cells))
    assert list(result.inconsistencies["geo"]) == ["EL51"]
    # the NUTS-1 rows still bound the cells (EL51 is EL5's only child here)
    assert cell(result, "EL51", "E36") == pytest.approx(40.0)
    assert cell(result, "EL51", "E39") == pytest.approx(10.0)


def test_region_without_any_published_cell_warns_and_is_estimated():
    cells = {}
    for year in (2013, 2014):
        for geo in ("EL51", "EL52"):
            for nace in ("E36", "E37", "E38", "E39"):
                cells[(geo, nace, year)] = None if (geo, year) == ("EL52", 2014) else 10
        for nace in ("E36", "E37", "E38", "E39"):
            cells[("EL5", nace, year)] = 25 if year == 2014 else 20
    with pytest.warns(EstimationWarning, match="EL52 2014"):
        result = estimate(hierarchy(cells))
    for nace in ("E36", "E37", "E38", "E39"):
        assert cell(result, "EL52", nace) == pytest.approx(15.0)


def test_a_code_that_never_publishes_is_no_cell():
    cells = {("EL51", "E36", 2014): 10, ("EL52", "E36", 2014): None}
    result = estimate(hierarchy(cells))
    assert set(result.cells["geo"]) == {"EL51"}


def test_an_older_vintage_with_the_data_is_not_counted_twice():
    # Saxony 2010: the data are published for the NUTS 2006 codes DED1 and DED3, while DED4
    # and DED5 (NUTS 2010) hold empty rows that year and data from 2011 on
    cells = {}
    for year in (2010, 2011):
        for geo in ("DED1", "DED3", "DED4", "DED5", "DED2"):
            old = geo in ("DED1", "DED3")
            value = (10 if old else None) if year == 2010 else (None if old else 12)
            cells[(geo, "E36", year)] = 20 if geo == "DED2" else value
    result = estimate(hierarchy(cells))
    in_2010 = set(result.cells.loc[result.cells["year"] == 2010, "geo"])
    assert in_2010 == {"DED1", "DED2", "DED3"}
    assert set(result.cells.loc[result.cells["year"] == 2011, "geo"]) == {"DED2", "DED4", "DED5"}


def test_estimates_never_negative_and_residual_zero_gives_small_values():
    cells = {("EL51", "E36", 2014): None, ("EL51", "E37", 2014): None, ("EL51", "E38", 2014): 3,
             ("EL51", "E39", 2014): 2, ("EL51", "E", 2014): 4}  # residual -1: rounding, so 0
    result = estimate(hierarchy(cells))
    for nace in ("E36", "E37"):
        assert 0 <= cell(result, "EL51", nace) <= 1e-6


def test_totals_use_the_published_sections():
    frame = two_by_two()
    result = estimate(frame)
    totals = result.totals.set_index(["geo", "year"])
    # section E is published for every region: the total is the published section value
    assert totals.loc[("EL51", 2014), "employment"] == 190
    assert totals.loc[("EL51", 2014), "employment_estimated_share"] == 0.0


def test_bad_input_names_the_problem():
    frame = two_by_two()
    with pytest.raises(ValueError, match="repeats"):
        estimate(pd.concat([frame, frame.head(1)]))
    with pytest.raises(ValueError, match="columns"):
        confidential.estimate_cells(frame.drop(columns="wages_eur"))
    negative = frame.copy()
    negative.loc[0, "employment"] = -5
    with pytest.raises(ValueError, match="negative employment"):
        estimate(negative)


def test_masked_cells_are_size_stratified():
    rng = np.random.default_rng(1)
    cells = {(f"EL{5 + k // 4}{k % 4 + 1}", nace, 2014): float(rng.integers(1, 1000))
             for k in range(8) for nace in ("E36", "E37", "E38", "E39")}
    frame = hierarchy(cells)
    masked = confidential.masked_cells(frame, "employment", share=0.25, seed=3, strata=4)
    assert len(masked) == 8  # 32 cells, 8 per quartile, 2 drawn in each
    assert masked["size_decile"].value_counts().to_dict() == {1: 2, 2: 2, 3: 2, 4: 2}
    again = confidential.masked_cells(frame, "employment", share=0.25, seed=3, strata=4)
    pd.testing.assert_frame_equal(masked, again)
    with pytest.raises(ValueError, match="share"):
        confidential.masked_cells(frame, "employment", share=1.5)


@pytest.mark.shared_data
def test_real_2014_extracts_estimated_and_validated(shared_data):
    from eocic.pipeline import build_sbs_hierarchy, reject_negative, read_datasets

    files = {"sbs_r_nuts06_r2": shared_data / "eurostat_sbs" / "sbs_r_nuts06_r2.tsv.gz"}
    frame = build_sbs_hierarchy(read_datasets(files), [])
    frame = reject_negative(frame, confidential.MEASURES, "sbs", [])
    values = frame[["geo", "nace_r2", "year", *confidential.MEASURES]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        result = confidential.estimate_cells(values)
    cells = result.cells[result.cells["year"] == 2014]
    assert cells["employment"].notna().all()
    share = cells["employment_estimated"].mean()
    assert 0.10 < share < 0.15  # 12.2 % of the 2014 grid is unpublished
    assert (cells["employment"] >= cells["employment_lower"] - 1e-6).all()
    assert ((cells["employment"] <= cells["employment_upper"] + 1e-6)
            | cells["employment_upper"].isna()).all()
    # the regions' own section totals are met within rounding
    section = frame[(frame["geo"].str.len() == 4) & (frame["nace_r2"].str.len() == 1)
                    & (frame["year"] == 2014)].set_index(["geo", "nace_r2"])["employment"]
    sums = (cells.assign(section=cells["nace_r2"].str[0])
            .groupby(["geo", "section"])["employment"].sum())
    common = section.dropna().index.intersection(sums.index)
    gap = (sums.loc[common] - section.loc[common]).abs() / section.loc[common].clip(lower=1)
    assert gap.quantile(0.99) < 0.01
    # masked validation: 10 % of the published 2014 cells, secondary suppression on top
    validation = confidential.validate_by_masking(values, "employment", years=[2014])
    summary = validation.summary.set_index("group")
    assert summary.loc["primary", "cells"] > 1500
    assert summary.loc["all", "median_abs_pct_error"] < 5.0   # measured 2.0 %
    assert summary.loc["all", "within_bounds"] > 0.99         # measured 100 %
