"""AsyncAdaptedQueuePool: QueuePool semantics with asyncio waits, over real async connections."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from athanor import exc
from athanor.dialects.sqlite.aiosqlite import AiosqliteDialect
from athanor.pool import queue_pool
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.util.async_adapter import wait_for_background_closes
from athanor.util.concurrency import await_only, greenlet_spawn


def _pool(tmp_path: Path, **kw: Any) -> AsyncAdaptedQueuePool:
    dialect = AiosqliteDialect()
    database = str(tmp_path / "pool.db")

    def creator() -> Any:
        return dialect.connect(database, isolation_level=None)

    return AsyncAdaptedQueuePool(creator, dialect=dialect, **kw)


def _in_bridge(fn: Callable[..., Any], *args: Any) -> Any:
    return greenlet_spawn(fn, *args)


def test_waiters_are_served_in_arrival_order(tmp_path: Path) -> None:
    async def main() -> list[int]:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=5)
        first = await _in_bridge(pool.connect)
        order: list[int] = []

        async def waiter(n: int) -> None:
            conn = await _in_bridge(pool.connect)
            order.append(n)
            await asyncio.sleep(0.01)
            await _in_bridge(conn.close)

        tasks = []
        for n in range(5):
            tasks.append(asyncio.ensure_future(waiter(n)))
            await asyncio.sleep(0.005)
        await _in_bridge(first.close)
        await asyncio.gather(*tasks)
        assert pool.checkedout() == 0
        await _in_bridge(pool.dispose)
        return order

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_timeout_is_honoured_without_blocking_the_loop(tmp_path: Path) -> None:
    async def main() -> tuple[float, int, int]:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=0.25)
        held = await _in_bridge(pool.connect)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        background = asyncio.ensure_future(ticker())
        started = time.monotonic()
        with pytest.raises(exc.TimeoutError, match="pool timeout"):
            await _in_bridge(pool.connect)
        waited = time.monotonic() - started
        background.cancel()
        await _in_bridge(held.close)
        checked_out = pool.checkedout()
        await _in_bridge(pool.dispose)
        return waited, ticks, checked_out

    waited, ticks, checked_out = asyncio.run(main())
    assert 0.2 <= waited < 2
    assert ticks >= 10
    assert checked_out == 0


def test_a_connection_returned_from_another_thread_wakes_the_waiter(tmp_path: Path) -> None:
    async def main() -> int:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=5, reset_on_return=None)
        held = await _in_bridge(pool.connect)
        waiting = asyncio.ensure_future(_in_bridge(pool.connect))
        await asyncio.sleep(0.02)
        thread = threading.Thread(target=held.close)
        thread.start()
        thread.join()
        second = await asyncio.wait_for(waiting, 2)
        await _in_bridge(second.close)
        count = pool.checkedout()
        await _in_bridge(pool.dispose)
        return count

    assert asyncio.run(main()) == 0


def test_cancelled_during_pre_ping_gives_the_connection_back(tmp_path: Path) -> None:
    async def main() -> tuple[int, bool, int]:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, pre_ping=True)
        conn = await _in_bridge(pool.connect)
        adapter = conn.dbapi_connection
        await _in_bridge(conn.close)
        dialect = pool._dialect
        original = dialect.do_ping

        def slow_ping(dbapi_connection: Any) -> bool:
            dbapi_connection.await_(asyncio.sleep(5))
            return True

        dialect.do_ping = slow_ping  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(_in_bridge(pool.connect), 0.1)
        dialect.do_ping = original  # type: ignore[method-assign]
        # the interrupted connection keeps its slot until its background close is over
        await wait_for_background_closes()
        await asyncio.sleep(0)
        after_cancel = pool.checkedout()
        fresh = await _in_bridge(pool.connect)
        replaced = fresh.dbapi_connection is not adapter
        await _in_bridge(fresh.close)
        final = pool.checkedout()
        await _in_bridge(pool.dispose)
        return after_cancel, replaced, final

    assert asyncio.run(main()) == (0, True, 0)


def test_leaked_connection_is_terminated_not_awaited(tmp_path: Path) -> None:
    async def main() -> tuple[bool, int]:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0)
        conn = await _in_bridge(pool.connect)
        adapter = conn.dbapi_connection
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", exc.ConnectionLeakWarning)
            del conn
            gc.collect()
        await asyncio.sleep(0.05)
        terminated = adapter.terminated
        replacement = await _in_bridge(pool.connect)
        await _in_bridge(replacement.close)
        count = pool.checkedout()
        await _in_bridge(pool.dispose)
        return terminated, count

    assert asyncio.run(main()) == (True, 0)


def test_waiting_outside_the_bridge_says_what_to_do(tmp_path: Path) -> None:
    async def main() -> None:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=1)
        held = await _in_bridge(pool.connect)
        with pytest.raises(exc.MissingGreenlet):
            pool.connect()
        assert pool.checkedout() == 1
        await _in_bridge(held.close)
        await _in_bridge(pool.dispose)

    asyncio.run(main())


def test_await_only_helper_is_what_waits(tmp_path: Path) -> None:
    # The waiter really suspends the greenlet: two checkouts waiting at once both complete.
    async def main() -> int:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=5)
        held = await _in_bridge(pool.connect)

        def take_and_release() -> None:
            conn = pool.connect()
            await_only(asyncio.sleep(0.01))
            conn.close()

        tasks = [asyncio.ensure_future(_in_bridge(take_and_release)) for _ in range(2)]
        await asyncio.sleep(0.02)
        await _in_bridge(held.close)
        await asyncio.gather(*tasks)
        count = pool.checkedout()
        await _in_bridge(pool.dispose)
        return count

    assert asyncio.run(main()) == 0


def test_a_returned_connection_goes_to_a_waiter_past_the_window_not_to_the_returning_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pool, "RETAKE_WINDOW", 0.05)

    async def main() -> tuple[bool, type[BaseException] | None]:
        pool = _pool(tmp_path, pool_size=1, max_overflow=0, timeout=0.3)
        holder = await _in_bridge(pool.connect)
        raw = holder.dbapi_connection
        waiter = asyncio.ensure_future(_in_bridge(pool.connect))
        while pool.stats().waits < 1:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.1)
        await _in_bridge(holder.close)
        failure: type[BaseException] | None = None
        try:
            await _in_bridge(pool.connect)  # the returning task asks again at once
        except exc.TimeoutError as error:
            failure = type(error)
        handed = await waiter
        same = handed.dbapi_connection is raw
        await _in_bridge(handed.close)
        await _in_bridge(pool.dispose)
        return same, failure

    assert asyncio.run(main()) == (True, exc.TimeoutError)
