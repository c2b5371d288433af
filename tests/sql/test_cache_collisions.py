"""Compiled-cache keys compare exactly: statements whose keys hash alike are each cached and
each run as themselves, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor.engine import Engine, create_engine
from athanor.engine.engine import CompiledCache
from athanor.sql import Column, Integer, MetaData, String, Table, case, select
from backends import Backend

metadata = MetaData()
people = Table(
    "cache_collision_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
)


class _SameHash:
    """A key that hashes like every other: a dict tells such keys apart by ``==`` alone,
    as it does for keys whose hashes happen to be equal."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameHash) and bool(self.key == other.key)


class CollidingCache(CompiledCache):
    """The engine's cache with every key hashing alike."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(_SameHash(key), default)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(_SameHash(key), value)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(people.insert(), [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}])
    yield eng
    eng.dispose()


def test_statements_with_colliding_keys_are_each_cached(engine: Engine) -> None:
    cache = CollidingCache(100)
    engine._compiled_cache = cache
    # The keys differ where one holds a column and the other None.
    with_else = select(people.c.id, case((people.c.id == 1, "one"), else_=people.c.name))
    without_else = select(people.c.id, case((people.c.id == 1, "one")))
    with engine.connect() as conn:
        for _ in range(2):
            assert conn.execute(with_else.order_by(people.c.id)).all() == [(1, "one"), (2, "bob")]
            assert conn.execute(without_else.order_by(people.c.id)).all() == [
                (1, "one"),
                (2, None),
            ]
    assert len(cache) == 2


def test_a_statement_of_a_known_shape_is_a_cache_hit(engine: Engine) -> None:
    cache = engine._compiled_cache
    assert cache is not None
    cache.clear()
    with engine.connect() as conn:
        for ident, name in [(1, "ann"), (2, "bob")]:
            stmt = select(people.c.name).where(people.c.id == ident)
            assert conn.execute(stmt).scalar_one() == name
            assert len(cache) == 1
        (compiled,) = cache.values()
        stmt = select(people.c.name).where(people.c.id == 2)
        assert conn.execute(stmt).context.compiled is compiled
