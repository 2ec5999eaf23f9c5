"""Sample filters are parsed by a small grammar and interpreted, never executed (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eocic.errors import EocicError
from eocic.models.sample_filter import MAX_LENGTH, SampleFilter, SampleFilterError
from eocic.models.specifications import load_registry


@pytest.fixture
def sample() -> pd.DataFrame:
    return pd.DataFrame({
        "employment_t0": [5.0, 10.0, 50.0, np.nan, 200.0],
        "own_estimated": [0, 0, 1, 0, 0],
        "country": ["DE", "FR", "DE", "IT", "ES"],
        "growth": [0.1, -0.2, 0.0, 0.3, np.nan],
    })


@pytest.mark.parametrize("text, expected", [
    ("employment_t0 >= 10", [False, True, True, False, True]),
    ("employment_t0 >= 10 and own_estimated == 0", [False, True, False, False, True]),
    ("(employment_t0 >= 10) & (own_estimated == 0)", [False, True, False, False, True]),
    ("employment_t0 < 10 or country == 'ES'", [True, False, False, False, True]),
    ("not own_estimated == 0", [False, False, True, False, False]),
    ("~(own_estimated == 0)", [False, False, True, False, False]),
    ("10 <= employment_t0 < 100", [False, True, True, False, False]),
    ("country in ['DE', 'FR']", [True, True, True, False, False]),
    ("country not in ('DE', 'FR')", [False, False, False, True, True]),
    ("country.isin(['IT'])", [False, False, False, True, False]),
    ("growth > -0.1", [True, False, True, True, False]),
    ("growth != 0", [True, True, False, True, True]),   # missing != 0, as in pandas
    ("employment_t0 > growth", [True, True, True, False, False]),
])
def test_filters_select_the_same_rows_as_pandas_query(sample, text, expected):
    parsed = SampleFilter.parse(text, "spec T / m")
    assert parsed.mask(sample).tolist() == expected
    # the reference: pandas' own evaluation of the same (harmless, fixed) text
    assert sample.eval(text).fillna(False).astype(bool).tolist() == expected


ESCAPES = [
    # the known routes from a shared YAML file to code execution or data exfiltration
    "__import__('os').system('touch /tmp/eocic_pwned')",
    "employment_t0 > 0 and __import__('os').system('id') == 0",
    "@pd.io.common.os.system('id') == 0",
    "@os.system('id')",
    "employment_t0.__class__.__init__.__globals__ == 1",
    "country.str.len() > 1",
    "(lambda: 1)() == 1",
    "[c for c in ().__class__.__bases__[0].__subclasses__()] == 1",
    "employment_t0 > open('/etc/passwd').read()",
    "employment_t0 > eval('1')",
    "employment_t0 > f'{1}'",
    "employment_t0[0] > 1",
    "employment_t0 * 2 > 1",
    "employment_t0 > 1 if True else 0",
    "employment_t0 := 3",
    "__builtins__ == 1",
    "employment_t0 > 1; import os",
    "country.isin(__import__('os').listdir('/'))",
    "country.isin(['DE'], foo=1)",
    "country in employment_t0",
    "employment_t0 is None",
    "employment_t0",
    "-country > 1",
    "employment_t0 > 1j",
    "not (" * 60 + "employment_t0 > 1" + ")" * 60,   # deeper than MAX_DEPTH
    "employment_t0 > 1 and " * 100 + "employment_t0 > 1",
    "employment_t0 > 1\x00",
]


@pytest.mark.parametrize("text", ESCAPES)
def test_escape_routes_are_refused_before_anything_runs(sample, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SampleFilterError, match="spec T / m: sample filter"):
        SampleFilter.parse(text, "spec T / m").mask(sample)
    assert not (tmp_path / "eocic_pwned").exists()
    assert not __import__("os").path.exists("/tmp/eocic_pwned")


def test_redundant_parentheses_are_harmless(sample):
    text = "(" * 200 + "employment_t0 > 1" + ")" * 200
    assert SampleFilter.parse(text, "spec").mask(sample).sum() == 4


def test_long_filters_are_refused_without_parsing():
    with pytest.raises(SampleFilterError, match=f"at most {MAX_LENGTH} are accepted"):
        SampleFilter.parse("x > 1 and " * 200 + "x > 1", "spec")


def test_unknown_column_and_type_mismatch_name_the_spec(sample):
    with pytest.raises(SampleFilterError, match="spec A / x.*names column.s. nope"):
        SampleFilter.parse("nope > 1", "spec A / x").mask(sample, "spec A / x")
    with pytest.raises(SampleFilterError, match="different types"):
        SampleFilter.parse("country > 1", "spec").mask(sample)


def test_rename_swaps_a_proxy_column_everywhere(sample):
    parsed = SampleFilter.parse("births_t0 >= 10 and not births_t0 > 100", "spec")
    renamed = parsed.rename({"births_t0": "employment_t0"})
    assert renamed.columns == {"employment_t0"}
    assert str(renamed) == "employment_t0 >= 10 and not (employment_t0 > 100)"
    assert renamed.mask(sample).tolist() == [False, True, True, False, False]


def test_registry_yaml_with_a_hostile_filter_is_refused_at_load():
    hostile = """
A:
  title: t
  unit: region
  estimator: ols
  sample: "__import__('os').system('touch /tmp/eocic_pwned') == 0"
  models:
    - name: m
      dependent: y
      regressors: [x]
"""
    with pytest.raises(SampleFilterError) as caught:
        load_registry(hostile)
    assert isinstance(caught.value, EocicError)
    assert "A / m" in str(caught.value) or "'A'" in str(caught.value)


def test_shipped_registry_filters_all_parse():
    registry = load_registry()
    filters = [m.sample for t in registry.values() for m in t.models if m.sample]
    assert len(filters) >= 4
    assert all(isinstance(f, SampleFilter) for f in filters)
