"""Fixtures for the migration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.migrate_project import Project, init_project


@pytest.fixture
def project(backend, tmp_path: Path) -> Project:
    """An initialised project on the test's database."""
    return init_project(tmp_path, backend.url)
