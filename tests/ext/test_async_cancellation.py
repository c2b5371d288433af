"""Cancelled tasks never leak pooled connections nor leave transactions open on the server."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from athanor.ext.asyncio import AsyncEngine, create_async_engine
from athanor.sql.elements import text
from backends import Backend

APP = "athanor-cancel-test"

pytestmark = pytest.mark.usefixtures("async_driver")


def _engine(backend: Backend, **kw: Any) -> AsyncEngine:
    url = backend.async_url()
    if url.startswith("postgresql+asyncpg"):
        kw["connect_args"] = {"server_settings": {"application_name": APP}}
    elif url.startswith("postgresql"):
        kw["connect_args"] = {"application_name": APP}
    return create_async_engine(url, **kw)


def _server_sleep(backend: Backend, seconds: float) -> str | None:
    if backend.name == "postgresql":
        return f"SELECT pg_sleep({seconds:.3f})"
    if backend.name == "mysql":
        return f"SELECT SLEEP({seconds:.3f})"
    return None


def _open_transactions(backend: Backend) -> int:
    """Server sessions of this test still inside a transaction."""
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        if backend.name == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND state LIKE 'idle in transaction%%'",
                (APP,),
            )
        else:
            cur.execute(
                "SELECT count(*) FROM information_schema.innodb_trx t "
                "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
                "WHERE p.db = DATABASE()"
            )
        return int(cur.fetchone()[0])
    finally:
        raw.close()


async def _job(engine: AsyncEngine, backend: Backend, n: int, rng: random.Random) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO hits (n) VALUES (:n)"), {"n": n})
        sleep_sql = _server_sleep(backend, rng.uniform(0, 0.03))
        if sleep_sql is not None:
            await conn.exec_driver_sql(sleep_sql)  # cancelled during a query
        await asyncio.sleep(rng.uniform(0, 0.02))  # cancelled inside begin()


def test_random_cancellations_under_load(backend: Backend) -> None:
    rng = random.Random(1234)

    async def main() -> tuple[int, int, int]:
        engine = _engine(backend, pool_size=5, max_overflow=0, pool_timeout=30)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("CREATE TABLE hits (n INTEGER)")
            tasks = []
            for n in range(100):
                job = _job(engine, backend, n, rng)
                if n % 2:
                    tasks.append(asyncio.ensure_future(asyncio.wait_for(job, rng.uniform(0, 0.1))))
                else:
                    tasks.append(asyncio.ensure_future(job))
            for _ in range(30):
                await asyncio.sleep(rng.uniform(0, 0.01))
                rng.choice(tasks).cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled = sum(isinstance(o, (asyncio.CancelledError, TimeoutError)) for o in outcomes)
            unexpected = [
                o
                for o in outcomes
                if isinstance(o, BaseException)
                and not isinstance(o, (asyncio.CancelledError, TimeoutError))
            ]
            assert unexpected == []
            await asyncio.sleep(0.05)
            checked_out = engine.pool.checkedout()
            async with engine.connect() as conn:
                committed = await conn.scalar(text("SELECT count(*) FROM hits"))
            return cancelled, checked_out, committed
        finally:
            await engine.dispose()

    cancelled, checked_out, committed = asyncio.run(main())
    assert cancelled > 10, "the test must actually cancel work"
    assert checked_out == 0
    # Every job that finished committed its row; a job cancelled while its COMMIT was already
    # on the wire (or during the cleanup after it) may have committed too.
    assert 100 - cancelled <= committed <= 100
    if backend.name != "sqlite":
        deadline = time.monotonic() + 5
        while _open_transactions(backend) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _open_transactions(backend) == 0


def test_cancelled_query_connection_is_replaced(backend: Backend) -> None:
    sleep_sql = _server_sleep(backend, 5)

    async def main() -> tuple[int, int, Any]:
        engine = _engine(backend, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                first = (await conn.get_raw_connection()).driver_connection

            async def hold() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                    if sleep_sql is not None:
                        await conn.exec_driver_sql(sleep_sql)
                    else:
                        await asyncio.sleep(5)

            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(hold(), 0.2)
            assert time.monotonic() - started < 3
            checked_out = engine.pool.checkedout()
            async with engine.connect() as conn:
                value = await conn.scalar(text("SELECT 42"))
                again = (await conn.get_raw_connection()).driver_connection
            reused = int(again is first)
            return checked_out, reused, value
        finally:
            await engine.dispose()

    checked_out, reused, value = asyncio.run(main())
    assert checked_out == 0
    assert value == 42
    if sleep_sql is not None:
        assert reused == 0, "a connection interrupted mid-query must not be reused"


def test_cancelled_checkout_waiter_leaves_the_line(backend: Backend) -> None:
    async def main() -> tuple[int, int]:
        engine = _engine(backend, pool_size=1, max_overflow=0, pool_timeout=10)
        try:
            holder = await engine.connect()
            waiters = [asyncio.ensure_future(engine.connect().start()) for _ in range(5)]
            await asyncio.sleep(0.05)
            for waiter in waiters[:4]:
                waiter.cancel()
            await holder.close()
            survivor = await asyncio.wait_for(waiters[4], 2)
            during = engine.pool.checkedout()
            await survivor.close()
            for waiter in waiters[:4]:
                with pytest.raises(asyncio.CancelledError):
                    await waiter
            return during, engine.pool.checkedout()
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == (1, 0)
