"""Fixtures for ORM tests: an engine on each backend with the shared models' tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import create_engine
from orm.orm_models import Base, StatementLog


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sql_log(engine: Any) -> StatementLog:
    return StatementLog(engine)
