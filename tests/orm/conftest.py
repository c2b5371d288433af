"""Fixtures for ORM tests: an engine on each backend with the shared models' tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import create_engine
from athanor.orm import Session
from orm.inheritance_models import STYLES, seed
from orm.orm_models import Base, StatementLog, seed_users_with_posts


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sql_log(engine: Any) -> StatementLog:
    return StatementLog(engine)


@pytest.fixture
def seeded_session(engine: Any) -> Iterator[Session]:
    """A session on ``engine`` whose database holds the users u0..u3 and their posts."""
    with Session(engine) as session:
        seed_users_with_posts(session, 4)
        yield session


@pytest.fixture(params=list(STYLES))
def m(request: pytest.FixtureRequest) -> Any:
    """The inheritance models in one mapping style (single-table, joined-table)."""
    return STYLES[request.param]


@pytest.fixture
def seeded_hierarchy(backend: Any, m: Any) -> Iterator[Any]:
    """An engine whose database holds ``m``'s tables and the rows of ``seed()``."""
    eng = create_engine(backend.url)
    m.base.metadata.create_all(eng)
    seed(eng, m)
    yield eng
    eng.dispose()
