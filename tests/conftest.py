"""Shared pytest fixtures.

The real Eurostat extracts live outside the repository (read-only, never copied in). Tests
reach them through ``EOCIC_SHARED_DATA`` (default ``../shared/data`` beside the repository)
and skip cleanly when the folder is absent.
"""

from __future__ import annotations

import os
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
