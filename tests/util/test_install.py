"""Packaging: the distribution is athanor-db, and every install hint says so."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from athanor.dialects.postgresql.asyncpg import AsyncpgDialect
from athanor.exc import NoSuchModuleError
from athanor.util.install import pip_install

ROOT = Path(__file__).resolve().parents[2]
# "pip install 'athanor[...]'" or "athanor[extra]" without the -db suffix
WRONG_NAME = re.compile(r"(?<![\w-])athanor\[")


def test_distribution_name_and_licence() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "athanor-db"
    assert project["license"] == "MIT"
    assert metadata.version("athanor-db") == project["version"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert "Copyright (c) 2026 The athanor authors" in licence


def test_no_install_hint_names_the_wrong_distribution() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "src").rglob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WRONG_NAME.search(line)
    ]
    assert offenders == []
    assert "pip install 'athanor-db[postgresql]'" in (ROOT / "README.md").read_text()


def test_missing_async_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from athanor.util import async_adapter

    class Missing:
        def __init__(self) -> None:
            raise ImportError("No module named 'asyncpg'")

    monkeypatch.setattr(AsyncpgDialect, "adapter_class", Missing)
    monkeypatch.setattr(async_adapter, "_ADAPTED_MODULES", {})
    with pytest.raises(NoSuchModuleError) as caught:
        AsyncpgDialect.import_dbapi()
    assert pip_install("asyncpg") in str(caught.value)
    assert pip_install("asyncpg") == "pip install 'athanor-db[asyncpg]'"
