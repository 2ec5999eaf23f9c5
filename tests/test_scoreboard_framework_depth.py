"""The shipped framework's depth and honesty (issue 14, requirement 2).

Every dimension has at least two non-proxy indicators where open regional data exist (the two
that have none are documented as such), the framework holds at least 40 distinct indicators,
proxies carry the ``[proxy]`` label, and ``official_indicators.csv`` maps every official
indicator to a framework code or a reason, consistently with ``framework.yaml``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from eocic.eurostat.registry import DATASETS
from eocic.scoreboard.framework import load_framework

#: Dimensions with no open regional non-proxy source at all (listed with reasons in the YAML).
PROXY_ONLY = {("industrial_change", "eco_efficiency"), ("ecosystem", "access_to_finance")}


@pytest.fixture(scope="module")
def framework():
    return load_framework()


@pytest.fixture(scope="module")
def official():
    path = resources.files("eocic.scoreboard") / "official_indicators.csv"
    return pd.read_csv(path, keep_default_na=False)


def _is_proxy(indicator) -> bool:
    return indicator.name.startswith("[proxy]")


def test_every_dimension_has_two_open_non_proxy_indicators_or_says_why(framework):
    short = set()
    for code, index in framework.indices.items():
        for dimension in index.dimensions():
            direct = [i for i in index.leaves_under(dimension)
                      if not _is_proxy(index.indicator(i))]
            if len(direct) < 2:
                short.add((code, dimension))
    assert short == PROXY_ONLY
    for code, dimension in PROXY_ONLY:
        assert any(item["parent"] == dimension for item in framework[code].not_available)


def test_at_least_40_distinct_indicators_and_depth_per_index(framework):
    definitions = set()
    for index in framework.indices.values():
        assert len(index.indicators) >= 30
        for indicator in index.indicators:
            definitions.add((indicator.source.describe(), indicator.denominator.describe()
                             if indicator.denominator else ""))
    assert len(definitions) >= 40


def test_shared_code_means_the_same_indicator_in_both_indices(framework):
    """A code used by both indices must have one definition (the landing page and the
    comparison tables treat it as one indicator)."""
    first, second = framework["industrial_change"], framework["ecosystem"]
    for code in set(first.indicator_codes) & set(second.indicator_codes):
        a, b = first.indicator(code), second.indicator(code)
        assert (a.source, a.denominator, a.scale, a.direction) == \
            (b.source, b.denominator, b.scale, b.direction), code


def test_governance_is_stated_as_not_measured(framework):
    ecosystem = framework["ecosystem"]
    assert ecosystem.group("quality_of_governance").placeholder
    assert "quality_of_governance" not in ecosystem.dimensions()
    eqi = [item for item in ecosystem.not_available if item["parent"] == "quality_of_governance"]
    assert any("NOT measured" in item["reason"] for item in eqi)


def test_foreign_born_is_country_of_birth_not_citizenship(framework):
    """lfst_r_lfsd2pwn is citizenship; the framework's foreign-born share must read
    lfst_r_lfsd2pwc (country of birth, c_birth FOR)."""
    feeding = {indicator.code: dataset for dataset in DATASETS.values()
               for indicator in dataset.indicators}
    for index in framework.indices.values():
        indicator = index.indicator("foreign_born_share")
        for source in (indicator.source, indicator.denominator):
            dataset = feeding[source.indicator]
            assert dataset.code == "lfst_r_lfsd2pwc"
            assert "c_birth" in next(i for i in dataset.indicators
                                     if i.code == source.indicator).filters
    assert "lfst_r_lfsd2pwn" not in DATASETS


def test_official_table_matches_the_framework(framework, official):
    assert set(official["status"]) <= {"used", "proxied", "not_available", "added"}
    assert set(official["index"]) == set(framework.indices)
    for code, index in framework.indices.items():
        rows = official[official["index"] == code]
        assert set(rows["dimension"]) <= {g.code for g in index.groups if g.level == "dimension"}
        listed = {c for cell in rows["framework_codes"] for c in cell.split(";") if c}
        unknown = listed - set(index.indicator_codes)
        assert not unknown, f"{code}: official_indicators.csv names unknown codes {unknown}"
        assert set(index.indicator_codes) <= listed, \
            f"{code}: indicators missing from official_indicators.csv: " \
            f"{set(index.indicator_codes) - listed}"
        for row in rows.itertuples():
            codes = [c for c in row.framework_codes.split(";") if c]
            if row.status == "not_available":
                assert not codes and row.note, row.official_indicator
            else:
                assert codes, row.official_indicator
            if row.status == "used":
                assert not any(_is_proxy(index.indicator(c)) for c in codes), row
            if row.status == "proxied":
                assert all(_is_proxy(index.indicator(c)) for c in codes), row
        # the YAML lists official indicators without their own series: absent or proxied
        without_series = set(rows.loc[rows["status"].isin(["not_available", "proxied"]),
                                      "official_indicator"])
        for item in index.not_available:
            assert item["name"] in without_series, f"{code}: {item['name']} not in the table"


def test_notebook_intro_names_the_dimensions_without_typed_counts(framework):
    """Notebook 03's intro once said "8 dimensions" while the framework scored 7: it now names
    the framework's dimensions, types no count (the counts are printed from the framework and
    the run) and says governance is not measured."""
    import json
    import re
    from pathlib import Path

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "03_scoreboard.ipynb"
    intro = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
    assert not re.search(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine)\s+dimensions",
                         intro, flags=re.IGNORECASE), intro
    flat = " ".join(intro.lower().split())
    for index in framework.indices.values():
        for group in index.groups:
            if group.level == "dimension":
                assert group.name.lower().split(",")[0] in flat, group.name
    assert "quality of governance, which is **not measured**" in flat


def test_the_fast_yaml_loader_reads_the_shipped_frameworks_as_safe_load_does(tmp_path):
    import yaml
    from importlib import resources

    from eocic.scoreboard.framework import YAML_LOADER, FrameworkError, load_framework

    for name in ("framework.yaml", "ris_open.yaml"):
        text = resources.files("eocic.scoreboard").joinpath(name).read_text("utf-8")
        assert yaml.load(text, Loader=YAML_LOADER) == yaml.safe_load(text)
    bad = tmp_path / "framework.yaml"
    bad.write_text("indices:\n  a: [1, 2\n  b: !!python/object:os.system 'ls'\n")
    with pytest.raises(FrameworkError, match="framework.yaml: not valid YAML"):
        load_framework(bad)
    bad.write_text("indices: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(FrameworkError, match="not valid YAML"):  # never executed
        load_framework(bad)
