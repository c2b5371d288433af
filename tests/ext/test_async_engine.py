"""create_async_engine, AsyncEngine, AsyncConnection and AsyncTransaction on every database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from athanor import event, exc
from athanor.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from athanor.pool import NullPool, QueuePool, StaticPool
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.sql.elements import text
from backends import Backend, driver_autocommit

pytestmark = pytest.mark.usefixtures("async_driver")


def run(backend: Backend, body: Callable[[AsyncEngine], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``body(engine)`` on a fresh async engine for ``backend``; dispose it afterwards."""

    async def main() -> Any:
        engine = create_async_engine(backend.async_url(), **kw)
        try:
            return await body(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _make_items(engine: AsyncEngine, rows: int = 0) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40), grp INTEGER)"
        )
        if rows:
            await conn.execute(
                text("INSERT INTO items (id, name, grp) VALUES (:id, :name, :grp)"),
                [{"id": i, "name": f"item{i}", "grp": i % 3} for i in range(1, rows + 1)],
            )


def _raw_scalar(backend: Backend, sql: str) -> Any:
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        cur.execute(sql)
        return cur.fetchone()[0]
    finally:
        raw.close()


def test_connect_execute_and_scalar(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[Any, ...]:
        async with engine.connect() as conn:
            assert isinstance(conn, AsyncConnection)
            result = await conn.execute(text("SELECT 1 + 1 AS two"))
            row = result.one()
            scalar = await conn.scalar(text("SELECT 40 + 2"))
            driver = await conn.exec_driver_sql("SELECT 7")
            return row.two, scalar, driver.scalar_one()

    assert run(backend, body) == (2, 42, 7)


def test_begin_commits_and_rolls_back_on_error(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        await _make_items(engine, rows=3)
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM items"))
                raise RuntimeError("abort")

    run(backend, body)
    assert _raw_scalar(backend, "SELECT count(*) FROM items") == 3


def test_commit_as_you_go_and_rollback(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[int, int]:
        await _make_items(engine)
        async with engine.connect() as conn:
            await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (1, 'a', 1)"))
            await conn.commit()
            await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (2, 'b', 1)"))
            assert conn.in_transaction()
            await conn.rollback()
            committed = (await conn.execute(text("SELECT count(*) FROM items"))).scalar_one()
            await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (3, 'c', 1)"))
        async with engine.connect() as conn:
            closed_without_commit = (await conn.scalar(text("SELECT count(*) FROM items"))) or 0
        return committed, closed_without_commit

    assert run(backend, body) == (1, 1)


def test_begin_nested_savepoint(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> list[int]:
        await _make_items(engine)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (1, 'kept', 0)"))
            savepoint = await conn.begin_nested()
            await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (2, 'gone', 0)"))
            assert conn.in_nested_transaction()
            await savepoint.rollback()
            async with conn.begin_nested():
                await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (3, 'kept', 0)"))
        async with engine.connect() as conn:
            return list((await conn.scalars(text("SELECT id FROM items ORDER BY id"))).all())

    assert run(backend, body) == [1, 3]


def test_stream_with_server_side_cursor(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[int, list[int], list[int], int]:
        await _make_items(engine, rows=1000)
        async with engine.connect() as conn:
            count = 0
            async with conn.stream(text("SELECT id, name FROM items ORDER BY id")) as result:
                async for row in result:
                    count += 1
                    assert row.name == f"item{row.id}"
            streamed = await conn.stream(text("SELECT id FROM items ORDER BY id"))
            sizes = [len(part) async for part in streamed.partitions(300)]
            assert streamed.closed or await streamed.fetchone() is None
            scalars = await conn.stream_scalars(text("SELECT id FROM items WHERE id <= 5"))
            first_five = [value async for value in scalars]
            assert await conn.scalar(text("SELECT count(*) FROM items")) == 1000
            with pytest.raises(exc.InvalidRequestError, match="stream"):
                await conn.execute(
                    text("SELECT id FROM items"), execution_options={"stream_results": True}
                )
            return count, sizes, sorted(first_five), await conn.scalar(text("SELECT 1"))

    count, sizes, first_five, one = run(backend, body)
    assert count == 1000
    assert sizes == [300, 300, 300, 100]
    assert first_five == [1, 2, 3, 4, 5]
    assert one == 1


def test_async_result_api(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        await _make_items(engine, rows=10)
        query = "SELECT id, name, grp FROM items ORDER BY id"
        async with engine.connect() as conn:
            result = await conn.stream(text(query))
            assert list(result.keys()) == ["id", "name", "grp"]
            rows = await result.all()
            assert [r.id for r in rows] == list(range(1, 11))

            assert (await (await conn.stream(text(query))).first()).name == "item1"
            one = await (await conn.stream(text("SELECT name FROM items WHERE id = 4"))).one()
            assert one.name == "item4"
            none = await conn.stream(text("SELECT id FROM items WHERE id < 0"))
            assert await none.one_or_none() is None
            with pytest.raises(exc.NoResultFound):
                await (await conn.stream(text("SELECT id FROM items WHERE id < 0"))).one()
            with pytest.raises(exc.MultipleResultsFound):
                await (await conn.stream(text(query))).one()
            assert await (await conn.stream(text("SELECT count(*) FROM items"))).scalar_one() == 10
            assert await (await conn.stream(text(query))).scalar() == 1
            empty = await conn.stream(text("SELECT id FROM items WHERE id < 0"))
            assert await empty.scalar_one_or_none() is None

            scalars = (await conn.stream(text("SELECT grp FROM items ORDER BY id"))).scalars()
            assert sorted(await scalars.unique().all()) == [0, 1, 2]
            mappings = (await conn.stream(text(query))).mappings()
            first_map = await mappings.fetchone()
            assert first_map is not None and first_map["name"] == "item1"
            assert [m["id"] for m in await mappings.fetchmany(2)] == [2, 3]
            unique_groups = (await conn.stream(text("SELECT grp FROM items"))).unique()
            assert len(await unique_groups.all()) == 3

            fetched = await conn.stream(text(query))
            assert (await fetched.fetchone()).id == 1
            assert [r.id for r in await fetched.fetchmany(3)] == [2, 3, 4]
            assert [r.id for r in await fetched.fetchall()] == list(range(5, 11))

            columns = (await conn.stream(text(query))).columns("name")
            assert (await columns.first()) == ("item1",)
            frozen = await (await conn.stream(text(query))).freeze()
            assert len(frozen().all()) == 10
            assert len(frozen().all()) == 10

    run(backend, body)


def test_run_sync_gets_the_sync_connection(backend: Backend) -> None:
    def count_tables(sync_conn: Any, name: str) -> tuple[str, int]:
        value = sync_conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
        return type(sync_conn).__name__, value

    async def body(engine: AsyncEngine) -> tuple[str, int]:
        await _make_items(engine, rows=4)
        async with engine.connect() as conn:
            return await conn.run_sync(count_tables, "items")

    assert run(backend, body) == ("Connection", 4)


def test_sync_engine_connect_listener_runs_through_the_adapter(backend: Backend) -> None:
    statement = {
        "postgresql": "SET app.tenant_id = ''",
        "mysql": "SET @tenant_id = ''",
        "sqlite": "PRAGMA foreign_keys = ON",
    }[backend.name]
    check = {
        "postgresql": "SELECT current_setting('app.tenant_id') = ''",
        "mysql": "SELECT @tenant_id = ''",
        "sqlite": "PRAGMA foreign_keys",
    }[backend.name]
    seen: list[Any] = []

    async def body(engine: AsyncEngine) -> Any:
        @event.listens_for(engine.sync_engine, "connect")
        def set_tenant(dbapi_conn: Any, conn_record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute(statement)
            cursor.close()
            seen.append(dbapi_conn)

        async with engine.connect() as conn:
            return await conn.scalar(text(check))

    assert run(backend, body) in (True, 1)
    assert len(seen) == 1


def test_listening_on_the_async_engine_reaches_the_sync_engine(backend: Backend) -> None:
    checkouts: list[int] = []

    async def body(engine: AsyncEngine) -> None:
        event.listen(engine, "checkout", lambda *args: checkouts.append(1))
        for _ in range(3):
            async with engine.connect() as conn:
                await conn.scalar(text("SELECT 1"))

    run(backend, body)
    assert len(checkouts) == 3


def test_errors_are_wrapped_like_sync(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        await _make_items(engine, rows=1)
        async with engine.connect() as conn:
            with pytest.raises(exc.IntegrityError) as raised:
                await conn.execute(text("INSERT INTO items (id, name, grp) VALUES (1, 'x', 0)"))
            assert raised.value.orig is not None
            await conn.rollback()
            # The class the database's driver reports, as with the sync drivers.
            bad_column = {"postgresql": exc.ProgrammingError}.get(
                backend.name, exc.OperationalError
            )
            with pytest.raises(bad_column):
                await conn.execute(text("SELECT no_such_column FROM items"))

    run(backend, body)


def test_default_pool_and_pool_arguments(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> None:
        pool = engine.pool
        assert isinstance(pool, AsyncAdaptedQueuePool)
        assert pool.size() == 2
        held = [await engine.connect(), await engine.connect()]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        background = asyncio.ensure_future(ticker())
        started = time.monotonic()
        with pytest.raises(exc.TimeoutError):
            async with engine.connect():
                pass
        waited = time.monotonic() - started
        background.cancel()
        assert 0.15 <= waited < 2
        assert ticks >= 5, "waiting for the pool must not block the event loop"
        assert pool.checkedout() == 2

        waiter = asyncio.ensure_future(engine.connect().start())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await held[0].close()
        third = await asyncio.wait_for(waiter, 1)
        assert pool.checkedout() == 2
        await third.close()
        await held[1].close()
        assert pool.checkedout() == 0

    if backend.name == "sqlite":
        pytest.importorskip("aiosqlite")
    run(backend, body, pool_size=2, max_overflow=0, pool_timeout=0.2)


@pytest.mark.parametrize("poolclass", [NullPool, StaticPool])
def test_other_pools(backend: Backend, poolclass: type[Any]) -> None:
    async def body(engine: AsyncEngine) -> list[int]:
        assert isinstance(engine.pool, poolclass)
        values = []
        for i in range(3):
            async with engine.connect() as conn:
                values.append(await conn.scalar(text(f"SELECT {i}")))
        return values

    assert run(backend, body, poolclass=poolclass) == [0, 1, 2]


def test_sync_queue_pool_is_refused(backend: Backend) -> None:
    with pytest.raises(exc.ArgumentError, match="AsyncAdaptedQueuePool"):
        create_async_engine(backend.async_url(), poolclass=QueuePool)


def test_sync_use_says_what_to_do(backend: Backend) -> None:
    engine = create_async_engine(backend.async_url())
    with pytest.raises(TypeError, match="async with"), engine.connect():
        pass
    with pytest.raises(exc.MissingGreenlet, match="run_sync"):
        engine.sync_engine.connect()
    assert engine.pool.checkedout() == 0


def test_async_urls_are_refused_by_create_engine(backend: Backend) -> None:
    from athanor.engine import create_engine

    with pytest.raises(exc.ArgumentError, match="create_async_engine"):
        create_engine(backend.async_url())


def test_dispose_closes_pooled_connections(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[int, int]:
        for _ in range(2):
            async with engine.connect() as conn:
                await conn.scalar(text("SELECT 1"))
        before = engine.pool.checkedin()
        await engine.dispose()
        return before, engine.pool.checkedin()

    assert run(backend, body) == (1, 0)


def test_raw_connection_and_invalidate(backend: Backend, async_driver: str) -> None:
    driver_modules = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "asyncmy"}
    if async_driver == "other-driver":
        driver_modules = {"postgresql": "psycopg", "mysql": "aiomysql"}

    async def body(engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert type(driver).__module__.startswith(driver_modules[backend.name])
            await conn.invalidate()
            assert conn.invalidated
            assert await conn.scalar(text("SELECT 5")) == 5
            assert (await conn.get_raw_connection()).driver_connection is not driver

    run(backend, body)


@pytest.mark.backends("postgresql", "mysql")
def test_execution_options_isolation_level(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> tuple[str, bool, bool]:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            level = await conn.get_isolation_level()
            autocommit = await conn.run_sync(driver_autocommit)
        async with engine.connect() as conn:
            restored = await conn.run_sync(driver_autocommit)
        return level, autocommit, restored

    level, autocommit, restored = run(backend, body)
    assert level in ("READ COMMITTED", "REPEATABLE READ")  # the database's, not the mode
    assert autocommit and not restored


def test_stream_in_autocommit_mode(backend: Backend) -> None:
    async def body(engine: AsyncEngine) -> list[int]:
        await _make_items(engine, rows=50)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await conn.stream(text("SELECT id FROM items ORDER BY id"))
            return [row.id async for row in result]

    assert run(backend, body) == list(range(1, 51))


def test_seed_engine_arguments(backend: Backend) -> None:
    """The seeds' async engine recipes (pool knobs, pre-ping, recycle, future) work as given."""

    async def body(engine: AsyncEngine) -> tuple[Any, str]:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE seed (id INTEGER PRIMARY KEY, v VARCHAR(10))"))
            await conn.execute(text("INSERT INTO seed (id, v) VALUES (1, 'x')"))
        async with engine.connect() as conn:
            value = (await conn.execute(text("SELECT v FROM seed"))).scalar()
        return value, engine.pool.status()

    value, status = run(
        backend,
        body,
        pool_size=10,
        max_overflow=20,
        pool_timeout=30,
        pool_recycle=1800,
        pool_pre_ping=True,
        future=True,
        echo=False,
    )
    assert value == "x"
    assert status.startswith("Pool size: 10  Connections in pool: 1")


def test_async_engine_from_config(backend: Backend) -> None:
    from athanor.ext.asyncio import async_engine_from_config

    config = {
        "app.url": backend.async_url(),
        "app.pool_size": "3",
        "app.pool_pre_ping": "true",
        "other.ignored": "1",
    }

    async def main() -> tuple[int, Any]:
        engine = async_engine_from_config(config, prefix="app.", max_overflow=0)
        try:
            async with engine.connect() as conn:
                return engine.pool.size(), await conn.scalar(text("SELECT 3"))
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == (3, 3)
    with pytest.raises(exc.ArgumentError, match=r"app\.url"):
        async_engine_from_config({}, prefix="app.")
