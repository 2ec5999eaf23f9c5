"""Shared pytest fixtures.

The real Eurostat extracts live outside the repository (read-only, never copied in). Tests
reach them through ``EOCIC_SHARED_DATA`` (default ``../shared/data`` beside the repository)
and skip cleanly when the folder is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data_dir() -> Path:
    """Folder of the real shared data: ``$EOCIC_SHARED_DATA`` or ``../shared/data``."""
    return Path(os.environ.get("EOCIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real shared data folder; skips the test when it is absent."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real shared data not found at {folder} (set EOCIC_SHARED_DATA)")
    return folder


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Hand-written fixture files committed under tests/fixtures/."""
    return FIXTURES


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory) -> Path:
    """A copy of the project's notebooks run once on the demo economy, in a temporary root
    (``<root>/reports/demo-2020/``): shared by the end-to-end and the browser tests, so the
    study (about 3 minutes) runs once per session.

    ``EOCIC_DEMO_STUDY=<project root>`` checks a demo-2020 run made before instead (e.g. the
    checkout's own ``eocic study --source demo --year 2020``) without running it again.
    """
    from eocic import cli

    existing = os.environ.get("EOCIC_DEMO_STUDY")
    if existing:
        root = Path(existing).resolve()
        if not (root / "reports" / "demo-2020" / "run.json").exists():
            pytest.fail(f"EOCIC_DEMO_STUDY={existing}: no reports/demo-2020/run.json there")
        return root
    root = tmp_path_factory.mktemp("study")
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    previous = Path.cwd()
    os.chdir(root)
    try:
        code = cli.main(["study", "--source", "demo", "--year", "2020"])
    finally:
        os.chdir(previous)
    assert code == 0
    return root


@pytest.fixture()
def tiny(fixtures_dir):
    """The two-index scoreboard fixture: ``(framework, {"context": context}, YAML document)``
    from tests/fixtures/scoreboard/tiny_framework.yaml and tiny_context.csv."""
    import pandas as pd
    import yaml

    from eocic.scoreboard.framework import load_framework

    folder = fixtures_dir / "scoreboard"
    framework = load_framework(folder / "tiny_framework.yaml")
    context = pd.read_csv(folder / "tiny_context.csv")
    context["flags"] = ""
    document = yaml.safe_load((folder / "tiny_framework.yaml").read_text())
    return framework, {"context": context}, document
