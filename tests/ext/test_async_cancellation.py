"""Cancelled tasks never leak pooled connections nor leave transactions open on the server."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

from athanor import event
from athanor.ext.asyncio import AsyncEngine, create_async_engine
from athanor.sql.elements import text
from athanor.util.async_adapter import wait_for_background_closes
from athanor.util.concurrency import await_only
from backends import Backend, settled

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
                "AND datname = current_database() AND state LIKE 'idle in transaction%%'",
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
            # a cancelled query's connection keeps its slot until its server session is ended
            await wait_for_background_closes()
            await asyncio.sleep(0)
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
        assert settled(lambda: _open_transactions(backend)) == 0


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
            await wait_for_background_closes()
            await asyncio.sleep(0)
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


class _SessionSampler:
    """Counts, from a thread of its own, this test database's sessions on the MySQL server
    (information_schema.processlist) and keeps the highest count seen."""

    def __init__(self, backend: Backend) -> None:
        self._raw = backend.raw_connect()
        self._database = backend.database
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        cur = self._raw.cursor()
        cur.execute(
            "SELECT count(*) FROM information_schema.processlist "
            "WHERE db = %s AND id <> CONNECTION_ID()",
            (self._database,),
        )
        return int(cur.fetchone()[0])

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.count())

    def __enter__(self) -> _SessionSampler:
        deadline = time.monotonic() + 30
        while self.count() and time.monotonic() < deadline:  # earlier tests' sessions ending
            time.sleep(0.05)
        cur = self._raw.cursor()
        cur.execute(
            "SELECT id, command, time, state, info FROM information_schema.processlist "
            "WHERE db = %s AND id <> CONNECTION_ID()",
            (self._database,),
        )
        assert self.count() == 0, f"sessions of another test are still open: {cur.fetchall()}"
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._raw.close()


@pytest.mark.backends("mysql")
def test_cancellation_storm_keeps_server_sessions_within_the_pool(backend: Backend) -> None:
    """Every cancelled MySQL query is killed from a side connection: that side channel is
    one reused connection, and a cancelled session keeps its pool slot until it is gone, so
    the server never sees more than pool_size + max_overflow + a small constant sessions."""
    pool_size, max_overflow, side_channels = 5, 10, 1
    rng = random.Random(99)

    async def main() -> tuple[int, int, list[BaseException], int, int]:
        engine = _engine(backend, pool_size=pool_size, max_overflow=max_overflow)

        async def op(timeout: float, sleep: float) -> None:
            async with engine.connect() as conn:
                async with asyncio.timeout(timeout):
                    await conn.exec_driver_sql(f"SELECT SLEEP({sleep:.3f})")

        async def client() -> list[BaseException | None]:
            outcomes: list[BaseException | None] = []
            for _ in range(3):
                try:
                    await op(rng.uniform(0.001, 0.02), rng.uniform(0, 0.03))
                    outcomes.append(None)
                except Exception as error:
                    outcomes.append(error)
            return outcomes

        try:
            with _SessionSampler(backend) as sampler:
                async with asyncio.timeout(240):
                    results = await asyncio.gather(*(client() for _ in range(200)))
                    await wait_for_background_closes()
                    await asyncio.sleep(0)
            outcomes = [o for r in results for o in r]
            timed_out = sum(isinstance(o, TimeoutError) for o in outcomes)
            failures = [o for o in outcomes if o is not None and not isinstance(o, TimeoutError)]
            return sampler.peak, timed_out, failures, engine.pool.checkedout(), len(outcomes)
        finally:
            await engine.dispose()

    peak, timed_out, failures, checked_out, total = asyncio.run(main())
    assert total == 600
    assert timed_out > 100, "the load must actually cancel queries"
    assert failures == [], "only the timeouts may fail (no 'Too many connections')"
    assert peak <= pool_size + max_overflow + side_channels + 2
    assert checked_out == 0
    assert _open_transactions(backend) == 0


@pytest.mark.parametrize("entry", ["connect", "begin"])
@pytest.mark.parametrize("where", ["mid-query", "between-calls"])
def test_task_cancelled_while_its_connection_is_set_up(
    backend: Backend, entry: str, where: str
) -> None:
    """A task cancelled inside an ``engine_connect`` listener, after the engine's isolation
    level was applied and a row was written: the pooled connection goes back (or, cut off
    mid-query, is replaced) while the cancelled task is still referenced, with nothing
    committed and no transaction left open on the server."""
    sleep_sql = _server_sleep(backend, 5)
    if where == "mid-query" and sleep_sql is None:
        pytest.skip("SQLite has no server-side sleep to be cancelled in")
    level = "READ UNCOMMITTED" if backend.name == "sqlite" else "SERIALIZABLE"

    async def main() -> tuple[int, int, int]:
        engine = _engine(backend, pool_size=1, max_overflow=0, pool_timeout=5)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("CREATE TABLE hits (n INTEGER)")
            configured = engine.execution_options(isolation_level=level)
            waiting = asyncio.Event()

            @event.listens_for(configured.sync_engine, "engine_connect")
            def write_then_wait(conn: Any) -> None:
                conn.execute(text("INSERT INTO hits (n) VALUES (1)"))
                waiting.set()
                if where == "mid-query":
                    conn.exec_driver_sql(sleep_sql)
                else:
                    await_only(asyncio.sleep(5))

            async def use() -> None:
                if entry == "connect":
                    async with configured.connect():
                        pass
                else:
                    async with configured.begin():
                        pass

            task = asyncio.ensure_future(use())
            await asyncio.wait_for(waiting.wait(), 5)
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await wait_for_background_closes()
            checked_out = engine.pool.checkedout()  # `task` still holds the error
            async with engine.connect() as conn:
                rows = await conn.scalar(text("SELECT count(*) FROM hits"))
                level_after = await conn.get_isolation_level()
            return checked_out, rows, int(level_after == level)
        finally:
            await engine.dispose()

    checked_out, rows, kept_level = asyncio.run(main())
    assert (checked_out, rows, kept_level) == (0, 0, 0)
    if backend.name != "sqlite":
        assert settled(lambda: _open_transactions(backend)) == 0
