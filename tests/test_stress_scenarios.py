"""Scenario files: shipped scenarios load; bad files fail with file, line, code and fix."""

import pytest

from eocic.stress.scenarios import SHIPPED, ScenarioError, load_scenario, shipped_scenarios


def test_shipped_scenarios_load():
    for name in SHIPPED:
        scenario = load_scenario(name)
        assert scenario.shocks.between(-1, 1).all()
        assert scenario.shocks.index.is_monotonic_increasing
    energy = load_scenario("energy_price")
    assert {"C17", "C19", "C20", "C23", "C24"} <= set(energy.shocks.index)
    assert (energy.shocks < 0).all() and energy.sources
    assert [s.name for s in shipped_scenarios()] == ["energy_price", "trade", "automation"]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_csv_give_the_same_shocks(tmp_path):
    yaml_path = _write(tmp_path, "mine.yaml", "title: t\nshocks:\n  C24: -0.1\n  J62: 0.05\n")
    csv_path = _write(tmp_path, "mine.csv", "nace_r2,shock\nC24,-0.1\nJ62,0.05\n")
    a, b = load_scenario(yaml_path), load_scenario(csv_path)
    assert a.name == b.name == "mine"
    assert a.shocks.to_dict() == b.shocks.to_dict() == {"C24": -0.1, "J62": 0.05}


@pytest.mark.parametrize("body, words", [
    ("shocks:\n  C99: -0.1\n", ["line 2", "C99", "B05-N82"]),
    ("shocks:\n  C: -0.1\n", ["line 2", "section letter", "divisions"]),
    ("shocks:\n  C24: -8\n", ["line 2", "C24", "outside [-1, 1]", "-0.08"]),
    ("shocks:\n  C24: 1.5\n", ["C24", "outside [-1, 1]"]),
    ("shocks:\n  C24: -0.1\n  C20: -0.1\n  C24: -0.2\n", ["line 4", "C24", "twice", "line 2"]),
    ("shocks:\n  C24: lots\n", ["C24", "not a number"]),
    ("title: x\n", ["'shocks' mapping"]),
    ("colour: red\nshocks:\n  C24: -0.1\n", ["unknown field", "colour"]),
])
def test_yaml_errors_name_file_line_code_and_fix(tmp_path, body, words):
    path = _write(tmp_path, "bad.yaml", body)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert str(path) in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("body, words", [
    ("nace_r2,shock\nC24,-0.1\nC24,-0.2\n", ["line 3", "C24", "twice"]),
    ("nace_r2,shock\nXX1,-0.1\n", ["line 2", "XX1"]),
    ("nace_r2,shock\nC24,-2\n", ["line 2", "outside [-1, 1]"]),
    ("code,value\nC24,-0.1\n", ["header"]),
])
def test_csv_errors(tmp_path, body, words):
    path = _write(tmp_path, "bad.csv", body)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    for word in [str(path)] + words:
        assert word in str(error.value)


def test_unknown_scenario_name():
    with pytest.raises(ScenarioError, match="neither a shipped scenario"):
        load_scenario("no_such_scenario")


def test_description_of_a_user_file_is_escaped(tmp_path):
    path = _write(tmp_path, "mine.yaml",
                  "title: <script>alert(1)</script>\ndescription: a <b>bold</b> claim\n"
                  "sources:\n  - <img src=x onerror=alert(1)>\nshocks:\n  C24: -0.1\n")
    text = load_scenario(path).describe()
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&#60;script&#62;alert&#40;1&#41;&#60;&#47;script&#62;" in text
    assert "- &#60;img src&#61;x" in text
    assert text.startswith("**Scenario <code>mine</code>**: ")
    assert "horizon: not stated" in text
