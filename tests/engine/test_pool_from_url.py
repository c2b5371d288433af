"""create_pool_from_url / create_async_pool_from_url: a pool without an engine, on every database,
and an engine built over it with ``pool=``."""

from __future__ import annotations

import asyncio

import pytest

import athanor
from athanor import exc, text
from athanor.ext.asyncio import create_async_engine, create_async_pool_from_url
from athanor.pool import AsyncAdaptedQueuePool, NullPool, QueuePool
from backends import Backend


def test_pool_hands_out_driver_connections_and_takes_them_back(backend: Backend) -> None:
    pool = athanor.create_pool_from_url(backend.url, pool_size=2, max_overflow=1, timeout=0.2)
    try:
        assert isinstance(pool, QueuePool)
        first, second, third = pool.connect(), pool.connect(), pool.connect()
        cursor = first.cursor()
        cursor.execute("SELECT 41 + 1")
        assert cursor.fetchone()[0] == 42
        assert pool.checkedout() == 3
        with pytest.raises(exc.TimeoutError):
            pool.connect()
        for connection in (first, second, third):
            connection.close()
        assert pool.checkedout() == 0
        assert pool.checkedin() == 2
    finally:
        pool.dispose()


def test_an_engine_over_the_pool_uses_its_connections(backend: Backend) -> None:
    pool = athanor.create_pool_from_url(backend.url, poolclass=NullPool)
    engine = athanor.create_engine(backend.url, pool=pool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(20))"))
        conn.execute(text("INSERT INTO notes (id, body) VALUES (1, 'kept')"))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT body FROM notes")) == "kept"
    assert engine.pool is pool
    engine.dispose()


def test_pool_constructor_names_are_accepted_too() -> None:
    pool = athanor.create_pool_from_url(
        "postgresql://app:secret@localhost/appdb", timeout=3, recycle=60, pre_ping=True
    )
    assert isinstance(pool, QueuePool)
    assert pool.timeout() == 3
    arguments = pool._constructor_args()
    assert (arguments["recycle"], arguments["pre_ping"]) == (60, True)


def test_engine_only_and_misspelled_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match=r"'pool_sise'.*did you mean 'pool_size'"):
        athanor.create_pool_from_url("sqlite://", pool_sise=3)
    with pytest.raises(TypeError, match=r"'echo_sql'"):
        athanor.create_pool_from_url("sqlite://", echo_sql=True)
    with pytest.raises(exc.ArgumentError, match="pool_size=3 does not apply to NullPool"):
        athanor.create_pool_from_url("sqlite:///x.db", poolclass=NullPool, pool_size=3)


def test_async_pool_serves_an_async_engine(backend: Backend) -> None:
    async def main() -> int:
        pool = create_async_pool_from_url(backend.async_url(), pool_size=2)
        assert isinstance(pool, AsyncAdaptedQueuePool)
        engine = create_async_engine(backend.async_url(), pool=pool)
        try:
            async with engine.connect() as conn:
                value = await conn.scalar(text("SELECT 6 * 7"))
            assert pool.checkedout() == 0
            return int(value)
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == 42


def test_async_pool_refuses_a_blocking_pool_class() -> None:
    with pytest.raises(exc.ArgumentError, match="cannot serve an async engine"):
        create_async_pool_from_url("sqlite+aiosqlite://", poolclass=QueuePool)


def test_result_type_names_are_importable_from_the_top_level() -> None:
    from athanor.ext.asyncio import AsyncResult, AsyncTupleResult

    assert athanor.TupleResult is athanor.Result
    assert AsyncTupleResult is AsyncResult
    for name in (
        "ScalarResult",
        "MappingResult",
        "FrozenResult",
        "ChunkedIteratorResult",
        "Inspector",
        "Transaction",
        "NestedTransaction",
        "RootTransaction",
        "ExceptionContext",
        "ExecutionContext",
    ):
        assert getattr(athanor, name) is getattr(athanor.engine, name)
