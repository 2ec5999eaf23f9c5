"""The conda description (environment.yml) must not drift from pyproject.toml and the lock."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement

from conftest import REPO_ROOT


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    return {_normalise(Requirement(text).name) for text in requirements}


def _environment_pins() -> dict[str, str]:
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pins = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry["pip"]:
                if pip_entry.startswith("-e"):
                    continue
                name, version = pip_entry.split("==")
                pins[_normalise(name)] = version
        elif "=" in entry:
            name, version = entry.split("=", 1)
            pins[_normalise(name)] = version
    return pins


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[_normalise(name)] = version.strip()
    return pins


def test_environment_lists_exactly_the_pyproject_dependencies():
    pins = _environment_pins()
    pins.pop("python")
    assert set(pins) == _pyproject_requirements()


def test_environment_versions_match_the_lock():
    lock = _lock()
    pins = _environment_pins()
    pins.pop("python")
    drift = {name: (version, lock.get(name)) for name, version in pins.items()
             if lock.get(name) != version}
    assert not drift, f"environment.yml vs requirements.lock (env, lock): {drift}"


def test_every_pyproject_dependency_is_pinned_in_the_lock():
    assert _pyproject_requirements() <= set(_lock())
