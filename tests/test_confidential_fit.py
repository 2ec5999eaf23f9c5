"""The iterative proportional fitting of eocic.confidential after its speed-up (issue 16, scale
benchmark): the same numbers and sweeps, to the last bit, as the loop it replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic import confidential


def fit_before_issue_16(prior, memberships, *, tolerance, max_sweeps):
    """``confidential._fit`` as it was before issue 16 (the reference)."""
    x = prior.astype(float).copy()
    counts = [np.bincount(m.aggregate, minlength=m.size) for m in memberships]
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):
        previous = x.copy()
        for membership, count in zip(memberships, counts):
            if not len(membership.cells):
                continue
            current = np.bincount(membership.aggregate, weights=x[membership.cells],
                                  minlength=membership.size)
            target = membership.residual[membership.aggregate]
            total = current[membership.aggregate]
            with np.errstate(divide="ignore", invalid="ignore"):
                scaled = np.where(total > 0, x[membership.cells] * target / total,
                                  target / count[membership.aggregate])
            x[membership.cells] = scaled
        change = np.abs(x - previous) / np.maximum(np.abs(previous), 1.0)
        if not len(change) or float(change.max()) <= tolerance:
            break
    return x, sweeps


def random_memberships(rng, n_missing: int, sizes: tuple[int, ...]) -> list:
    """Families over ``n_missing`` cells: each holds a random subset of the cells in
    ``size`` possible aggregates (most unused), residuals with zeros; one family is empty."""
    memberships = []
    for size in sizes:
        cells = np.flatnonzero(rng.random(n_missing) < 0.8)
        aggregate = rng.integers(0, size, len(cells)) // 3 * 3  # two thirds of ids unused
        residual = np.round(rng.gamma(1.0, 200.0, size), 0)
        residual[rng.random(size) < 0.1] = 0.0
        memberships.append(confidential._Membership(aggregate, cells, residual,
                                                    np.full(size, 0.5), size))
    memberships.append(confidential._Membership(np.array([], dtype=np.int64),
                                                np.array([], dtype=np.int64),
                                                np.zeros(4), np.zeros(4), 4))
    return memberships


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tolerance, max_sweeps", [(1e-6, 500), (0.0, 7), (1e-2, 500)])
def test_fit_gives_the_same_numbers_and_sweeps_as_before(seed, tolerance, max_sweeps):
    rng = np.random.default_rng(seed)
    n_missing = 2_000
    memberships = random_memberships(rng, n_missing, (90, 600, 3_000))
    prior = np.maximum(rng.lognormal(3.0, 1.5, n_missing), 0.5)
    prior[rng.random(n_missing) < 0.05] = 0.0  # zero priors: aggregates summing to zero
    expected, expected_sweeps = fit_before_issue_16(prior, memberships, tolerance=tolerance,
                                                    max_sweeps=max_sweeps)
    fitted, sweeps = confidential._fit(prior, memberships, tolerance=tolerance,
                                       max_sweeps=max_sweeps)
    np.testing.assert_array_equal(fitted, expected)
    assert sweeps == expected_sweeps


def small_economy(rng) -> pd.DataFrame:
    """Six NUTS-2 regions (EL51-EL53, EL61-EL63) x the four divisions of section E x 2012-2015,
    a quarter of the cells hidden; every section, NUTS-1 and country aggregate published."""
    regions = np.array([f"EL{a}{b}" for a in "56" for b in "123"], dtype=object)
    divisions = np.array(["E36", "E37", "E38", "E39"], dtype=object)
    years = np.arange(2012, 2016)
    truth = np.round(rng.lognormal(4.0, 1.0, (len(regions), len(divisions), len(years))), 0)
    hidden = rng.random(truth.shape) < 0.25
    rows = []
    for r, geo in enumerate(regions):
        for d, nace in enumerate(divisions):
            for t, year in enumerate(years):
                rows.append((geo, nace, year, np.nan if hidden[r, d, t] else truth[r, d, t]))
        for t, year in enumerate(years):
            rows.append((geo, "E", year, truth[r, :, t].sum()))
    for parent in ("EL5", "EL6", "EL"):
        members = np.array([geo.startswith(parent) for geo in regions])
        for d, nace in enumerate(divisions):
            for t, year in enumerate(years):
                rows.append((parent, nace, year, truth[members, d, t].sum()))
        for t, year in enumerate(years):
            rows.append((parent, "E", year, truth[members, :, t].sum()))
    return pd.DataFrame(rows, columns=["geo", "nace_r2", "year", "employment"])


def small_economy_fit_inputs(seed: int = 16):
    """The fit's inputs as estimate_measure builds them on the small economy (a quarter of the
    cells hidden): priors of the missing cells, memberships, and each missing cell's year."""
    frame = small_economy(np.random.default_rng(seed))
    grid = confidential._build_grid(frame, ("employment",))
    values = grid.cells["employment"]
    missing = np.isnan(values) & grid.present[:, None, :]
    published = np.where(grid.present[:, None, :], values, np.nan)
    constraints = confidential._constraints(grid, "employment", published, missing, [], [])
    prior, _ = confidential._priors(grid, "employment", {})
    missing_flat = np.flatnonzero(missing)
    memberships = confidential._memberships(missing_flat, missing.shape, constraints)
    return prior.reshape(-1)[missing_flat], memberships, missing_flat % missing.shape[2]


def test_fit_on_a_grid_from_the_estimator_matches_before():
    """Memberships as estimate_measure builds them (constraints of a small economy with a
    quarter of the cells hidden), not only random ones."""
    start, memberships, _ = small_economy_fit_inputs()
    assert len(start) > 10
    expected, expected_sweeps = fit_before_issue_16(start, memberships, tolerance=1e-6,
                                                    max_sweeps=500)
    fitted, sweeps = confidential._fit(start, memberships, tolerance=1e-6, max_sweeps=500)
    np.testing.assert_array_equal(fitted, expected)
    assert sweeps == expected_sweeps


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_fitting_blocks_of_years_apart_gives_the_numbers_of_one_loop(workers):
    # every aggregate lies within one year: blocks of years fitted on their own (in threads)
    # give the whole grid's numbers to the last bit when the sweeps run to max_sweeps, and
    # numbers within the tolerance when each block stops at its own convergence
    start, memberships, years = small_economy_fit_inputs()
    blocks = confidential._year_blocks(years, 4, workers)
    assert len(blocks) == workers and sorted(np.concatenate(blocks)) == list(range(len(start)))
    assert all(len(set(years[positions])) <= 2 for positions in blocks)  # consecutive years
    expected, _ = confidential._fit(start, memberships, tolerance=0.0, max_sweeps=40)
    fitted, sweeps = confidential._fit(start, memberships, tolerance=0.0, max_sweeps=40,
                                       blocks=blocks)
    np.testing.assert_array_equal(fitted, expected)
    assert sweeps == 40
    expected, expected_sweeps = confidential._fit(start, memberships, tolerance=1e-6,
                                                  max_sweeps=500)
    fitted, sweeps = confidential._fit(start, memberships, tolerance=1e-6, max_sweeps=500,
                                       blocks=blocks)
    assert sweeps == expected_sweeps < 500  # the slowest block sets the grid's sweeps
    np.testing.assert_allclose(fitted, expected, rtol=1e-5, atol=1e-5)
    # a block mixing years that share an aggregate would not be independent: the check
    # above is only meaningful because the blocks follow years
    assert not np.array_equal(confidential._fit(start, memberships, tolerance=0.0,
                                                max_sweeps=40,
                                                blocks=[np.arange(0, len(start), 2),
                                                        np.arange(1, len(start), 2)])[0],
                              expected)


def test_blocks_of_years_hold_about_equal_numbers_of_cells():
    # 16 years of 1,000 cells each (one more in the 8th) on 2 threads: 8 years each, not 7
    # and 9 (one thread would then work 12 % longer than the other)
    years = np.repeat(np.arange(16), 1_000)
    years = np.append(years, 7)
    blocks = confidential._year_blocks(years, 16, 2)
    assert [sorted(set(years[positions])) for positions in blocks] == [list(range(8)),
                                                                       list(range(8, 16))]
    blocks = confidential._year_blocks(np.repeat(np.arange(16), 10), 16, 5)
    assert sorted(len(positions) for positions in blocks) == [30, 30, 30, 30, 40]


def test_estimation_of_a_large_grid_fits_in_blocks_of_years(monkeypatch):
    # the threaded path of estimate_cells (from PARALLEL_FIT_CELLS missing cells) on the small
    # economy, lowered to its size: the same cells as one loop, within the tolerance
    frame = small_economy(np.random.default_rng(16))
    one_loop = confidential.estimate_cells(frame, ("employment",))
    seen = []
    fit = confidential._fit

    def watched(prior, memberships, **options):
        seen.append(options.get("blocks"))
        return fit(prior, memberships, **options)

    monkeypatch.setattr(confidential, "PARALLEL_FIT_CELLS", 1)
    monkeypatch.setattr(confidential, "_fit", watched)
    monkeypatch.setattr(confidential.os, "cpu_count", lambda: 2)
    blocked = confidential.estimate_cells(frame, ("employment",))
    assert seen and all(blocks is not None and len(blocks) == 2 for blocks in seen)
    pd.testing.assert_frame_equal(blocked.cells, one_loop.cells, rtol=1e-5)


def test_grid_holds_each_published_value_at_its_place_whatever_the_code_dtypes():
    # the grid is built from each distinct code, matched once (not from 11.5 million row
    # strings): every NUTS-2 x division value lands in its cell, every aggregate in its family,
    # and rows of other levels or codes (NUTS-3, B-E, TOTAL) are ignored, with object or
    # string code columns
    frame = small_economy(np.random.default_rng(3))
    extra = pd.DataFrame({"geo": ["EL511", "EL51", "EL5"], "nace_r2": ["E36", "B-E", "TOTAL"],
                          "year": [2012, 2012, 2013], "employment": [1e6, 2e6, 3e6]})
    frame = pd.concat([frame, extra], ignore_index=True)
    for codes in ("object", "string"):
        typed = frame.astype({"geo": codes, "nace_r2": codes})
        grid = confidential._build_grid(typed, ("employment",))
        assert list(grid.regions) == ["EL51", "EL52", "EL53", "EL61", "EL62", "EL63"]
        assert list(grid.divisions) == ["E36", "E37", "E38", "E39"]
        assert list(grid.years) == [2012, 2013, 2014, 2015]
        cells = grid.cells["employment"]
        for row in frame.itertuples():
            value = row.employment
            if len(row.geo) == 4 and row.nace_r2 in grid.divisions:
                at = (list(grid.regions).index(row.geo), list(grid.divisions).index(row.nace_r2),
                      list(grid.years).index(row.year))
                assert (np.isnan(cells[at]) and np.isnan(value)) or cells[at] == value
        nuts1 = grid.aggregates[(1, "division")]
        assert nuts1.values["employment"][list(nuts1.parents).index("EL6"), 2, 3] == frame.loc[
            (frame["geo"] == "EL6") & (frame["nace_r2"] == "E38") & (frame["year"] == 2015),
            "employment"].item()
        assert np.nansum(cells) < 1e6  # the NUTS-3, B-E and TOTAL rows are no cells


def cells_frame_before_issue_16(grid, estimates):
    """``confidential._cells_frame`` as it was before issue 16 (the reference)."""
    r, d, y = np.nonzero(np.broadcast_to(grid.present[:, None, :], (
        len(grid.regions), len(grid.divisions), len(grid.years))))
    frame = pd.DataFrame({"geo": grid.regions[r].astype(str),
                          "nace_r2": grid.divisions[d].astype(str),
                          "year": grid.years[y].astype("int64")})
    for measure, estimate in estimates.items():
        frame[measure] = estimate.value[r, d, y].astype("float64")
        frame[f"{measure}_estimated"] = estimate.estimated[r, d, y].astype(bool)
        frame[f"{measure}_lower"] = estimate.lower[r, d, y].astype("float64")
        frame[f"{measure}_upper"] = estimate.upper[r, d, y].astype("float64")
        labels = np.array(confidential.BASES, dtype=object)[estimate.basis[r, d, y]]
        labels[estimate.basis[r, d, y] < 0] = None  # published cells have no basis
        frame[f"{measure}_basis"] = pd.array(labels, dtype="string")
    return frame.sort_values(["geo", "nace_r2", "year"], ignore_index=True)


def totals_frame_before_issue_16(grid, estimates):
    """``confidential._totals_frame`` as it was before issue 16 (the reference)."""
    r, y = np.nonzero(grid.present)
    frame = pd.DataFrame({"geo": grid.regions[r].astype(str),
                          "year": grid.years[y].astype("int64")})
    for measure, estimate in estimates.items():
        total, estimated_part = confidential._section_totals(grid, measure, estimate)
        frame[measure] = total[r, y]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total[r, y] > 0, estimated_part[r, y] / total[r, y], 0.0)
        frame[f"{measure}_estimated_share"] = share
    return frame.sort_values(["geo", "year"], ignore_index=True)


@pytest.mark.parametrize("present", ["all", "some", "none"])
def test_output_frames_are_the_same_as_before(present):
    """The code columns taken from the converted codes equal the old per-row conversion:
    values, dtype and order, also when region-years are not cells or none is."""
    frame = small_economy(np.random.default_rng(3))
    grid = confidential._build_grid(frame, ("employment",))
    if present == "some":
        grid.present[::2, 1] = False
    elif present == "none":
        grid.present[:] = False
    estimate = confidential.estimate_measure(grid, "employment", {})
    estimates = {"employment": estimate}
    pd.testing.assert_frame_equal(confidential._cells_frame(grid, estimates),
                                  cells_frame_before_issue_16(grid, estimates))
    pd.testing.assert_frame_equal(confidential._totals_frame(grid, estimates),
                                  totals_frame_before_issue_16(grid, estimates))


def nearest_year_prior_before_issue_16(values, national):
    """``confidential._nearest_year_prior`` as it was before issue 16 (the reference): one pass
    per distance and direction, the earlier year first."""
    n_years = values.shape[2]
    prior = np.full(values.shape, np.nan)
    for offset in range(1, n_years):
        for direction in (-1, 1):
            source = np.full(values.shape, np.nan)
            source_national = np.full(values.shape, np.nan)
            if direction == -1:
                source[:, :, offset:] = values[:, :, :-offset]
                source_national[:, :, offset:] = national[:, :, :-offset]
            else:
                source[:, :, :-offset] = values[:, :, offset:]
                source_national[:, :, :-offset] = national[:, :, offset:]
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = national / source_national
            growth = np.where(np.isfinite(growth) & (growth > 0), growth, 1.0)
            prior = np.where(np.isnan(prior), source * growth, prior)
    return prior, ~np.isnan(prior)


@pytest.mark.parametrize("n_years", [1, 2, 7, 16])
def test_nearest_year_prior_takes_the_nearest_published_year_the_earlier_on_ties(n_years):
    rng = np.random.default_rng(n_years)
    values = np.round(rng.lognormal(4.0, 1.0, (30, 11, n_years)), 0)
    values[rng.random(values.shape) < 0.6] = np.nan
    values[0] = np.nan                                   # never published
    national = rng.lognormal(9.0, 0.3, values.shape)
    national[rng.random(values.shape) < 0.1] = np.nan    # growth 1 where missing
    national[rng.random(values.shape) < 0.05] = 0.0      # ... or zero
    prior, available = confidential._nearest_year_prior(values, national)
    reference, reference_available = nearest_year_prior_before_issue_16(values, national)
    np.testing.assert_array_equal(prior, reference)
    np.testing.assert_array_equal(available, reference_available)
    assert not available[0].any()


def test_nearest_year_prior_by_hand():
    """Cell published in years 0 and 3 of 5: year 1 takes year 0 (nearer), year 2 is a tie
    and takes year 0 too, year 4 takes year 3; each scaled by the national growth since."""
    values = np.array([[[100.0, np.nan, np.nan, 130.0, np.nan]]])
    national = np.array([[[1000.0, 1100.0, 1200.0, 1300.0, 1040.0]]])
    prior, available = confidential._nearest_year_prior(values, national)
    np.testing.assert_allclose(prior[0, 0], [130.0 * 1000 / 1300, 110.0, 120.0,
                                             100.0 * 1300 / 1000, 104.0])
    assert available.all()
