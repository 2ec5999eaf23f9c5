"""Apportionment of split, regrouped and shifted NUTS regions by eocic.nuts.harmonise.

Every expected value is computed by hand from x_t = X_S * w_t / sum_{t' in T} w_t' (module
docstring of eocic.nuts), with numbers chosen so that the results are exact in binary floating
point: a wrong weight, a wrong year or a wrong total shows as an exact mismatch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from eocic import nuts

COLUMNS = ["geo", "nace_r2", "time", "value", "flags"]


def frame(rows, columns=COLUMNS):
    return pd.DataFrame(rows, columns=list(columns))


def values(result, **where):
    """geo -> value of the rows of the harmonised table matching ``where``."""
    table = result.table
    for column, wanted in where.items():
        table = table[table[column] == wanted]
    return dict(zip(table["geo"], table["value"]))


def report_rows(result, code):
    return result.report[result.report["code"] == code]


def population(rows):
    return nuts.ApportionWeights("population", pd.DataFrame(rows, columns=["geo", "year",
                                                                            "weight"]))


# ------------------------------------------------------------------ rule a: own values

def test_split_with_own_values_nearest_year_and_ties():
    data = frame([
        ["LT00", "C10", "2014", 100.0, ""],
        ["LT00", "C11", "2014", 60.0, "e"],
        # C10: 2015 has LT02 = 0 (not every target positive) -> next nearest 2016: 30 : 10
        ["LT01", "C10", "2015", 50.0, ""], ["LT02", "C10", "2015", 0.0, ""],
        ["LT01", "C10", "2016", 30.0, ""], ["LT02", "C10", "2016", 10.0, ""],
        ["LT01", "C10", "2017", 1.0, ""],  # LT02 absent in 2017: not a candidate
        # C11: 2012 and 2016 are both 2 years away -> the earlier, 2012: 1 : 2
        ["LT01", "C11", "2012", 1.0, ""], ["LT02", "C11", "2012", 2.0, ""],
        ["LT01", "C11", "2016", 5.0, ""], ["LT02", "C11", "2016", 1.0, ""],
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weights found everywhere: no equal-split warning
        result = nuts.harmonise(data, additive=True, source_version=2013,
                                apportioned_column="apportioned")
    assert values(result, nace_r2="C10", time="2014") == {"LT01": 75.0, "LT02": 25.0}
    assert values(result, nace_r2="C11", time="2014") == {"LT01": 20.0, "LT02": 40.0}
    # the native rows are kept untouched and not marked
    assert values(result, nace_r2="C10", time="2016") == {"LT01": 30.0, "LT02": 10.0}
    table = result.table.set_index(["geo", "nace_r2", "time"])
    assert table.loc[("LT01", "C11", "2014"), "flags"] == "e"
    assert table["apportioned"].sum() == 4
    assert table.loc[("LT02", "C10", "2014"), "apportioned"]
    assert not table.loc[("LT02", "C10", "2016"), "apportioned"]
    rows = report_rows(result, "LT00").set_index("reason")
    assert set(rows["action"]) == {"apportioned"} and set(rows["target_code"]) == {"LT01+LT02"}
    reasons = sorted(rows.index)
    assert reasons == [
        "split: NUTS 2013 LT00 -> NUTS 2021 LT01+LT02; weights from own values 2012: "
        "LT01 0.333, LT02 0.667",
        "split: NUTS 2013 LT00 -> NUTS 2021 LT01+LT02; weights from own values 2016: "
        "LT01 0.750, LT02 0.250"]
    assert int(result.report["rows"].sum()) == len(data)
    detail = result.extra["apportionment"]
    assert detail[(detail["geo"] == "LT01") & (detail["nace_r2"] == "C10")]["weight"].tolist() \
        == [0.75]
    assert set(detail["basis"]) == {"own values 2012", "own values 2016"}


def test_own_values_are_per_value_column_and_beat_auxiliary_weights():
    data = pd.DataFrame([
        ["HU10", "2014", 80.0, 8.0],
        ["HU11", "2016", 1.0, 3.0], ["HU12", "2016", 3.0, 1.0],
    ], columns=["geo", "time", "employment", "units"])
    weights = population([["HU11", 2014, 1.0], ["HU12", 2014, 1.0]])
    result = nuts.harmonise(data, additive=True, value_columns=("employment", "units"),
                            flags=None, source_version=2013, apportion_weights=[weights])
    table = result.table[result.table["time"] == "2014"].set_index("geo")
    assert table["employment"].to_dict() == {"HU11": 20.0, "HU12": 60.0}
    assert table["units"].to_dict() == {"HU11": 6.0, "HU12": 2.0}
    (reason,) = report_rows(result, "HU10")["reason"]
    assert ("employment: weights from own values 2016: HU11 0.250, HU12 0.750; "
            "units: weights from own values 2016: HU11 0.750, HU12 0.250") in reason


# ------------------------------------------------------------------ rule b: auxiliary weights

def test_auxiliary_weights_nearest_year_ties_and_order():
    data = frame([
        ["HU10", "C10", "2014", 90.0, ""],
        ["HU10", "C10", "2010", 30.0, ""],
        ["PL12", "C10", "2014", 80.0, ""],
    ])
    pop = population([
        ["HU11", 2012, 1.0], ["HU12", 2012, 2.0],   # 2014: tie 2012 / 2016 -> 2012
        ["HU11", 2016, 2.0], ["HU12", 2016, 1.0],
        ["HU11", 2015, 5.0], ["HU12", 2015, np.nan],  # unknown weight: 2015 not a candidate
        ["HU11", 2013, 5.0], ["HU12", 2013, 0.0],     # zero weight: 2013 not a candidate
        # no PL91/PL92 population: the second table is used for Warsaw
    ])
    employment = nuts.ApportionWeights("LFS employment", pd.DataFrame(
        {"geo": ["PL91", "PL92", "HU11", "HU12"], "year": ["2014"] * 4,
         "weight": [3.0, 1.0, 100.0, 1.0]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = nuts.harmonise(data, additive=True, source_version=2013,
                                apportion_weights=[pop, employment])
    assert values(result, time="2014") == {"HU11": 30.0, "HU12": 60.0, "PL91": 60.0,
                                           "PL92": 20.0}
    # 2010: the nearest year with every target positive is 2012
    assert values(result, time="2010") == {"HU11": 10.0, "HU12": 20.0}
    hu = report_rows(result, "HU10")
    assert hu["rows"].tolist() == [2]
    assert hu["reason"].iloc[0].endswith("weights from population 2012: HU11 0.333, HU12 0.667")
    assert report_rows(result, "PL12")["reason"].iloc[0].endswith(
        "weights from LFS employment 2014: PL91 0.750, PL92 0.250")


def test_auxiliary_weights_without_a_time_column_use_the_latest_year():
    data = pd.DataFrame({"geo": ["LT00"], "value": [12.0]})
    pop = population([["LT01", 2010, 1.0], ["LT02", 2010, 1.0],
                      ["LT01", 2020, 1.0], ["LT02", 2020, 2.0]])
    result = nuts.harmonise(data, additive=True, source_version=2013, apportion_weights=[pop])
    assert dict(zip(result.table["geo"], result.table["value"])) == {"LT01": 4.0, "LT02": 8.0}


# ------------------------------------------------------------------ rule c: equal split

def test_equal_split_warns_naming_group_cells_and_fallback():
    data = frame([["HR04", "C10", "2015", 90.0, "p"], ["HR04", "C11", "2015", 3.0, ""],
                  ["HR03", "C10", "2015", 7.0, ""]])
    with pytest.warns(nuts.ApportionWarning) as caught:
        result = nuts.harmonise(data, additive=True, source_version=2016,
                                apportioned_column="estimated_region")
    (warning,) = caught
    message = str(warning.message)
    for text in ("HR04 -> NUTS 2021 HR02+HR05+HR06", "2 cells", "nace_r2=C10, time=2015",
                 "nace_r2=C11, time=2015", "equal split", "1/3", "apportion_weights"):
        assert text in message, text
    assert warning.filename == __file__  # points at the caller
    assert values(result, nace_r2="C10") == {"HR02": 30.0, "HR03": 7.0, "HR05": 30.0,
                                             "HR06": 30.0}
    assert values(result, nace_r2="C11") == {"HR02": 1.0, "HR05": 1.0, "HR06": 1.0}
    table = result.table
    assert table.loc[table["geo"] == "HR05", "flags"].tolist() == ["p", ""]
    assert table["estimated_region"].tolist() == [True, True, False, True, True, True, True]
    (reason,) = report_rows(result, "HR04")["reason"]
    assert reason.endswith("equal split, no weights found (warned): HR02 0.333, HR05 0.333, "
                           "HR06 0.333")


def test_one_target_boundary_shift_gets_the_total_without_warning():
    data = frame([["FR91", "C10", "2010", 5.0, ""], ["FRA2", "C10", "2014", 1.0, ""]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = nuts.harmonise(data, additive=True)
    assert values(result, time="2010") == {"FRY1": 5.0}
    row = report_rows(result, "FR91").iloc[0]
    assert (row["action"], row["target_code"]) == ("apportioned", "FRY1")
    assert "boundary shift" in row["reason"] and "one target" in row["reason"]


# ------------------------------------------------------------------ regroupings and shifts

def test_regrouping_of_ireland_preserves_totals_and_handles_missing_parts():
    data = frame([
        ["IE01", "C10", "2014", 1000.0, "e"], ["IE02", "C10", "2014", 3000.0, ""],
        ["IE01", "C10", "2013", 1000.0, ""], ["IE02", "C10", "2013", np.nan, ""],   # missing
        ["IE01", "C10", "2012", 1000.0, ""],                                        # IE02 absent
        ["IE01", "C10", "2011", 1000.0, ""], ["IE02", "C10", "2011", 7.0, "c"],     # confidential
    ])
    pop = population([["IE04", 2014, 1.0], ["IE05", 2014, 1.0], ["IE06", 2014, 2.0]])
    result = nuts.harmonise(data, additive=True, source_version=2013, apportion_weights=[pop],
                            apportioned_column="apportioned")
    assert values(result, time="2014") == {"IE04": 1000.0, "IE05": 1000.0, "IE06": 2000.0}
    assert sum(values(result, time="2014").values()) == 1000.0 + 3000.0
    for year in ("2013", "2012", "2011"):
        got = values(result, time=year)
        assert set(got) == {"IE04", "IE05", "IE06"} and all(np.isnan(v) for v in got.values())
    table = result.table.set_index(["geo", "time"])
    assert table.loc[("IE05", "2014"), "flags"] == "e"
    assert table.loc[("IE05", "2011"), "flags"] == "c"
    assert table["apportioned"].all()
    ie01 = report_rows(result, "IE01").set_index("rows")["reason"]
    assert "regrouping: NUTS 2013 IE01+IE02 -> NUTS 2021 IE04+IE05+IE06" in ie01[1]
    assert "IE04 0.250, IE05 0.250, IE06 0.500" in ie01[1]
    assert "group total missing" in ie01[3]
    assert int(result.report["rows"].sum()) == len(data)


def test_apportioned_totals_equal_the_source_totals_for_any_weights():
    rng = np.random.default_rng(7)
    rows = [[code, f"C{n}", str(year), float(rng.integers(1, 10_000)), ""]
            for code in ("IE01", "IE02") for n in range(10, 20) for year in range(2008, 2016)]
    data = frame(rows)
    pop = population([[code, year, float(rng.integers(1, 10**6))]
                      for code in ("IE04", "IE05", "IE06") for year in range(2014, 2021)])
    result = nuts.harmonise(data, additive=True, source_version=2013, apportion_weights=[pop])
    source = data.groupby(["nace_r2", "time"])["value"].sum()
    target = result.table.groupby(["nace_r2", "time"])["value"].sum()
    np.testing.assert_allclose(target.loc[source.index].to_numpy(), source.to_numpy(),
                               rtol=1e-13, atol=0)
    # the nearest year of population: 2014 for 2008-2014, 2015 for 2015
    detail = result.extra["apportionment"].drop_duplicates(["time", "basis"])
    assert dict(zip(detail["time"], detail["basis"])) == {
        **{str(year): "population 2014" for year in range(2008, 2015)},
        "2015": "population 2015"}


def test_boundary_shift_with_own_values_of_the_newer_codes():
    # Saxony 2008: DED1 + DED3 (NUTS 2006) -> DED4 + DED5; the frame holds DED4/DED5 from 2011
    data = frame([
        ["DED1", "C10", "2008", 10.0, ""], ["DED3", "C10", "2008", 30.0, "e"],
        ["DED4", "C10", "2011", 100.0, ""], ["DED5", "C10", "2011", 300.0, ""],
    ])
    result = nuts.harmonise(data, additive=True, apportioned_column="apportioned")
    assert values(result, time="2008") == {"DED4": 10.0, "DED5": 30.0}
    assert result.table.loc[result.table["time"] == "2008", "flags"].tolist() == ["e", "e"]
    for code in ("DED1", "DED3"):
        (reason,) = report_rows(result, code)["reason"]
        assert reason == ("boundary shift (territories differ): NUTS 2006 DED1+DED3 -> NUTS 2021 "
                          "DED4+DED5; weights from own values 2011: DED4 0.250, DED5 0.750")


def test_norway_code_that_is_both_source_and_target():
    # NO02 (NUTS 2016) is one of the five sources and, with other borders, one of the targets
    data = frame([[f"NO0{i}", "C10", "2015", float(i), ""] for i in range(1, 8)])
    pop = population([["NO02", 2020, 1.0], ["NO08", 2020, 2.0], ["NO09", 2020, 1.0],
                      ["NO0A", 2020, 1.0]])
    result = nuts.harmonise(data, additive=True, apportion_weights=[pop])
    # X = 1 + 2 + 3 + 4 + 5 = 15 shared 1 : 2 : 1 : 1; NO06 and NO07 unchanged
    assert values(result) == {"NO02": 3.0, "NO08": 6.0, "NO09": 3.0, "NO0A": 3.0, "NO06": 6.0,
                              "NO07": 7.0}
    assert set(report_rows(result, "NO02")["action"]) == {"apportioned"}


def test_native_target_rows_supersede_apportioned_estimates():
    data = frame([["LT00", "C10", "2016", 100.0, ""], ["LT01", "C10", "2016", 30.0, ""],
                  ["LT02", "C10", "2016", 10.0, ""]])
    result = nuts.harmonise(data, additive=True)
    assert values(result) == {"LT01": 30.0, "LT02": 10.0}
    (row,) = report_rows(result, "LT00").itertuples()
    assert row.action == "dropped" and row.reason.startswith("superseded") and row.rows == 1
    assert int(result.report["rows"].sum()) == len(data)


# ------------------------------------------------------------------ non-additive values

def test_non_additive_values_are_copied_or_averaged():
    data = frame([
        ["LT00", "C10", "2014", 5.5, "p"],
        ["IE01", "C10", "2014", 2.0, ""], ["IE02", "C10", "2014", 4.5, ""],
        ["IE01", "C10", "2015", 2.0, ""],  # IE02 absent: missing
        ["DE41", "C10", "2009", 3.5, ""], ["DE42", "C10", "2009", 4.0, ""],  # a merge
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no weights are needed for rates
        result = nuts.harmonise(data, additive=False, source_version=2013,
                                apportioned_column="apportioned")
    assert values(result, geo="LT01") == {"LT01": 5.5} and values(result, geo="LT02") == {
        "LT02": 5.5}
    assert values(result, time="2014", nace_r2="C10") == {
        "IE04": 3.25, "IE05": 3.25, "IE06": 3.25, "LT01": 5.5, "LT02": 5.5}
    assert all(np.isnan(v) for v in values(result, time="2015").values())
    assert "rate of the union" in report_rows(result, "LT00")["reason"].iloc[0]
    ie01 = " ".join(report_rows(result, "IE01")["reason"])
    assert "unweighted mean" in ie01 and "rough estimate" in ie01
    # merges of rates stay dropped (unchanged behaviour)
    assert report_rows(result, "DE41")["action"].tolist() == ["dropped"]
    assert "DE40" not in set(result.table["geo"])


# ------------------------------------------------------------------ flags and indicator columns

def test_any_columns_for_merges_and_apportionment_and_no_new_column_by_default():
    data = pd.DataFrame([
        ["DE41", "2009", 30.0, "", True], ["DE42", "2009", 12.0, "", False],
        ["IE01", "2014", 10.0, "", False], ["IE02", "2014", 30.0, "e", True],
        ["DE11", "2014", 1.0, "", False], ["DE12", "2014", 1.0, "", True],
    ], columns=["geo", "time", "value", "flags", "employment_estimated"])
    with pytest.warns(nuts.ApportionWarning, match="IE01\\+IE02"):
        result = nuts.harmonise(data, additive=True, any_columns=["employment_estimated"])
    assert list(result.table.columns) == list(data.columns)
    table = result.table.set_index("geo")
    assert table["employment_estimated"].dtype == bool
    assert table["employment_estimated"].to_dict() == {
        "DE11": False, "DE12": True, "DE40": True, "IE04": True, "IE05": True, "IE06": True}
    assert table.loc["DE40", "value"] == 42.0
    assert table.loc["IE06", "flags"] == "e"
    # without any_columns, the indicator would be a key column: the merge cannot match parts
    legacy = nuts.harmonise(data[data["geo"].str.startswith("DE")], additive=True)
    assert np.isnan(legacy.table.set_index("geo").loc["DE40", "value"]).all()


def test_merges_are_unchanged_by_apportionment():
    merge = frame([["DE41", "C10", "2009", 30.0, "e"], ["DE42", "C10", "2009", 12.0, "p"],
                   ["DE41", "C10", "2010", 31.0, ""], ["DE42", "C10", "2010", 1.0, "c"],
                   ["FR24", "C10", "2014", 5.0, ""]])
    split = frame([["LT00", "C10", "2009", 8.0, ""]])
    alone = nuts.harmonise(merge, additive=True, source_version=2006)
    with pytest.warns(nuts.ApportionWarning):
        mixed = nuts.harmonise(pd.concat([merge, split], ignore_index=True), additive=True,
                               source_version=2006)
    without_lt = mixed.table[~mixed.table["geo"].str.startswith("LT")].reset_index(drop=True)
    pd.testing.assert_frame_equal(without_lt, alone.table)
    assert alone.table["value"].iloc[0] == 42.0 and np.isnan(alone.table["value"].iloc[1])
    assert alone.table["flags"].tolist() == ["ep", "c", ""]
    pd.testing.assert_frame_equal(
        mixed.report[~mixed.report["code"].str.startswith("LT")].reset_index(drop=True),
        alone.report)


def test_categorical_keys_and_geo_keep_their_dtypes():
    data = frame([["LT00", "C10", "2014", 8.0, ""], ["LT01", "C10", "2016", 1.0, ""],
                  ["LT02", "C10", "2016", 3.0, ""]])
    data = data.astype({"geo": "category", "nace_r2": "category", "time": "category"})
    result = nuts.harmonise(data, additive=True)
    assert isinstance(result.table["geo"].dtype, pd.CategoricalDtype)
    assert result.table["nace_r2"].dtype == data["nace_r2"].dtype
    assert result.table["time"].dtype == data["time"].dtype
    assert values(result, time="2014") == {"LT01": 2.0, "LT02": 6.0}


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("weights,error,match", [
    (pd.DataFrame({"geo": ["LT01"], "year": [2014]}), KeyError, "weight"),
    (pd.DataFrame({"geo": ["LT01"], "year": [2014], "weight": [-1.0]}), ValueError, "negative"),
    (pd.DataFrame({"geo": ["LT01"], "year": [2014], "weight": ["many"]}), ValueError,
     "not a number"),
    (pd.DataFrame({"geo": ["LT01"], "year": [2014], "weight": [np.inf]}), ValueError,
     "infinite"),
    (pd.DataFrame({"geo": ["LT01"], "year": ["2014Q1"], "weight": [1.0]}), ValueError,
     "not a year"),
    (pd.DataFrame({"geo": ["LT01", "LT01"], "year": [2014, 2014], "weight": [1.0, 2.0]}),
     ValueError, "repeats"),
    (pd.DataFrame({"geo": [None], "year": [2014], "weight": [1.0]}), ValueError, "empty"),
])
def test_bad_weights_name_the_problem(weights, error, match):
    with pytest.raises(error, match=match):
        nuts.ApportionWeights("population", weights)


def test_bad_arguments_name_the_problem():
    data = frame([["LT00", "C10", "2014", 1.0, ""]])
    with pytest.raises(TypeError, match="ApportionWeights"):
        nuts.harmonise(data, additive=True, apportion_weights=[pd.DataFrame()])
    with pytest.raises(ValueError, match="not boolean"):
        nuts.harmonise(data.assign(est=1), additive=True, any_columns=["est"])
    with pytest.raises(ValueError, match="already a column"):
        nuts.harmonise(data, additive=True, apportioned_column="flags")
    with pytest.raises(KeyError, match="time column"):
        nuts.harmonise(data, additive=True, time="year")
    with pytest.raises(ValueError, match="not a year"):
        nuts.harmonise(data.assign(time="2014Q1"), additive=True)
    with pytest.raises(ValueError, match="label"):
        nuts.ApportionWeights("", pd.DataFrame({"geo": [], "year": [], "weight": []}))


# ------------------------------------------------------------------ the real regional SBS

@pytest.mark.shared_data
def test_real_sbs_every_nuts2_region_ends_in_a_target_region(shared_data):
    from eocic.eurostat.reader import read_eurostat

    data = read_eurostat(shared_data / "eurostat_sbs" / "sbs_r_nuts06_r2.tsv.gz")
    data = data[data["indic_sb"] == "V16110"]  # persons employed
    # synthetic population for Lithuania only (Vilnius region ~ 0.8 M, the rest ~ 2 M);
    # every other split group falls back on its own values or on an equal split
    pop = population([["LT01", 2014, 800_000.0], ["LT02", 2014, 2_000_000.0]])
    with pytest.warns(nuts.ApportionWarning):
        result = nuts.harmonise(data, additive=True, include_uk=True, apportion_weights=[pop],
                                apportioned_column="apportioned")
    report, table = result.report, result.table
    assert int(report["rows"].sum()) == len(data)
    level_2 = report[report["code"].str.len() == 4]
    lacking_a_rule = level_2[(level_2["action"] == "dropped")
                             & ~level_2["reason"].str.startswith("superseded")]
    assert lacking_a_rule.empty, lacking_a_rule
    assert not (level_2["action"] == "unknown").any()
    out = set(table["geo"].astype(str))
    targets_2021 = set(nuts.regions(2021, 2, include_uk=True)["geo"])
    assert {code for code in out if len(code) == 4 and not code.endswith("Z")} <= targets_2021
    assert {"IE04", "IE05", "IE06", "LT01", "LT02", "PL91", "PL92", "HU11", "HU12", "HR02",
            "HR05", "HR06", "NO08", "NO09", "NO0A", "UKM7", "UKM8", "UKM9", "DED4", "DED5",
            "SI03", "SI04", "FI1B", "FI1C", "UKI3", "UKI7"} <= out

    def employment(codes, year="2014"):
        part = table[table["geo"].astype(str).isin(codes) & (table["time"] == year)]
        return part.groupby("nace_r2", observed=True)["value"].sum(min_count=len(codes))

    source = data[(data["geo"] == "LT00") & (data["time"] == "2014")].set_index("nace_r2")
    lt = employment(["LT01", "LT02"]).reindex(source.index.astype(str))
    assert source["value"].notna().sum() > 40
    np.testing.assert_allclose(lt.to_numpy(), source["value"].to_numpy(), rtol=1e-12)
    lt01 = table[(table["geo"] == "LT01") & (table["time"] == "2014")].set_index("nace_r2")
    ratio = (lt01["value"] / source["value"].reindex(lt01.index)).dropna()
    np.testing.assert_allclose(ratio.to_numpy(), 800_000 / 2_800_000, rtol=1e-12)
    assert lt01["apportioned"].all()
    reasons = " ".join(report_rows(result, "LT00")["reason"])
    assert "weights from population 2014: LT01 0.286, LT02 0.714" in reasons
    print("\n" + result.summary())
