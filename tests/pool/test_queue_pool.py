"""QueuePool sizing, overflow, timeouts, fairness, status and stats on real sqlite3 connections."""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from athanor import event, exc
from athanor.pool import PoolProxiedConnection, QueuePool, queue_pool

Creator = Callable[[], sqlite3.Connection]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


def test_status_has_the_seed_shape(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=20, max_overflow=10)
    held = [pool.connect() for _ in range(5)]
    assert pool.status() == (
        "Pool size: 20  Connections in pool: 0 Current Overflow: -15 "
        "Current Checked out connections: 5"
    )
    for conn in held:
        conn.close()
    assert pool.status() == (
        "Pool size: 20  Connections in pool: 5 Current Overflow: -15 "
        "Current Checked out connections: 0"
    )


def test_checked_in_connections_are_reused(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=3)
    first = pool.connect()
    raw = first.dbapi_connection
    first.close()
    again = pool.connect()
    assert again.dbapi_connection is raw
    assert pool.stats().connects == 1
    again.close()


def test_overflow_connections_are_closed_when_the_pool_is_full(
    creator: Creator, closed: Callable[[sqlite3.Connection], bool]
) -> None:
    pool = QueuePool(creator, pool_size=2, max_overflow=2)
    held = [pool.connect() for _ in range(4)]
    raws = [conn.dbapi_connection for conn in held]
    assert pool.overflow() == 2
    assert pool.checkedout() == 4
    for conn in held:
        conn.close()
    assert pool.checkedin() == 2
    assert pool.overflow() == 0
    assert pool.checkedout() == 0
    assert [closed(raw) for raw in raws] == [False, False, True, True]


def test_an_overflow_connection_keeps_its_slot_until_it_is_closed(creator: Creator) -> None:
    """While a returned overflow connection is being closed, a checkout needing a new
    connection must not open one: the pool would briefly hold more than its limit."""
    pool = QueuePool(creator, pool_size=1, max_overflow=1, timeout=0)
    first, second = pool.connect(), pool.connect()
    seen: list[Any] = []

    @event.listens_for(pool, "close")
    def meanwhile(dbapi_connection: Any, record: Any) -> None:
        seen.append(pool.checkedout())
        idle = pool.connect()
        with pytest.raises(exc.TimeoutError):
            pool.connect()
        idle.close()

    first.close()
    second.close()  # the pool is full: closed
    assert seen == [1]
    assert (pool.checkedout(), pool.checkedin(), pool.overflow()) == (0, 1, 0)
    assert pool.stats().connects == 2


def test_timeout_error_names_the_limits_and_a_fix(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=1, timeout=0.2)
    held = [pool.connect(), pool.connect()]
    started = time.monotonic()
    with pytest.raises(exc.TimeoutError) as caught:
        pool.connect()
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2.0
    message = str(caught.value)
    assert "size 1 overflow 1" in message
    assert "checked out: 2" in message
    assert "0.20 seconds" in message
    assert "pool_size" in message and "pool_timeout" in message
    stats = pool.stats()
    assert stats.timeouts == 1
    assert stats.waits == 1
    assert stats.total_wait_time >= 0.15
    assert stats.max_wait >= 0.15  # a wait that timed out is still a wait
    for conn in held:
        conn.close()
    assert pool.checkedout() == 0


def test_zero_timeout_fails_at_once(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0)
    held = pool.connect()
    with pytest.raises(exc.TimeoutError):
        pool.connect()
    held.close()
    pool.connect().close()


def test_unlimited_overflow(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=-1, timeout=0.01)
    held = [pool.connect() for _ in range(25)]
    assert pool.checkedout() == 25
    for conn in held:
        conn.close()
    assert pool.checkedin() == 1


def test_pool_size_zero_means_no_limit(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=0, max_overflow=0, timeout=0.01)
    held = [pool.connect() for _ in range(12)]
    assert pool.checkedout() == 12
    for conn in held:
        conn.close()
    assert pool.checkedin() == 12
    assert pool.checkedout() == 0


@pytest.mark.parametrize(("use_lifo", "expected"), [(False, 0), (True, 1)])
def test_fifo_or_lifo_reuse(creator: Creator, use_lifo: bool, expected: int) -> None:
    pool = QueuePool(creator, pool_size=2, use_lifo=use_lifo)
    a, b = pool.connect(), pool.connect()
    raws = [a.dbapi_connection, b.dbapi_connection]
    a.close()
    b.close()
    again = pool.connect()
    assert again.dbapi_connection is raws[expected]
    again.close()


def test_waiters_are_served_in_arrival_order(
    creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pool, "RETAKE_WINDOW", 0.0)  # every waiter is past the window
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=10)
    holder = pool.connect()
    served: list[int] = []

    def waiter(number: int) -> None:
        conn = pool.connect()
        served.append(number)
        conn.close()

    threads = []
    for number in range(6):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=number: pool.stats().waits == n + 1)
    holder.close()
    for thread in threads:
        thread.join(10)
    assert served == list(range(6))
    assert pool.checkedout() == 0
    assert pool.stats().max_wait > 0


def test_a_waiter_past_the_window_is_handed_the_returned_connection_before_any_newcomer(
    creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pool, "RETAKE_WINDOW", 0.05)
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=10)
    holder = pool.connect()
    raw = holder.dbapi_connection
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(pool.connect()))
    thread.start()
    wait_until(lambda: pool.stats().waits == 1)
    time.sleep(0.1)
    holder.close()
    pool._timeout = 0.05
    with pytest.raises(exc.TimeoutError):
        pool.connect()
    thread.join(10)
    assert got[0].dbapi_connection is raw
    got[0].close()


def test_within_the_window_the_returning_thread_may_take_its_connection_again(
    creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pool, "RETAKE_WINDOW", 0.3)
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=10)
    holder = pool.connect()
    raw = holder.dbapi_connection
    waited: list[float] = []

    def waiter() -> None:
        started = time.monotonic()
        conn = pool.connect()
        waited.append(time.monotonic() - started)
        conn.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: pool.stats().waits == 1)
    holder.close()
    again = pool.connect()  # no thread switch: the window is still open
    assert again.dbapi_connection is raw
    assert waited == []
    time.sleep(0.4)
    again.close()  # the waiter is past the window now: it gets the connection
    thread.join(10)
    assert len(waited) == 1
    assert 0.3 <= waited[0] < 2
    assert pool.checkedout() == 0


def test_a_waiter_reaching_the_window_takes_an_idle_connection(
    creator: Creator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections returned within the window go idle; the waiter does not sleep on until
    its timeout but takes one of them when its window ends."""
    monkeypatch.setattr(queue_pool, "RETAKE_WINDOW", 0.2)
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=10)
    holder = pool.connect()
    waited: list[float] = []

    def waiter() -> None:
        started = time.monotonic()
        conn = pool.connect()
        waited.append(time.monotonic() - started)
        conn.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: pool.stats().waits == 1)
    holder.close()
    thread.join(10)
    assert len(waited) == 1
    assert 0.15 <= waited[0] < 2
    assert pool.checkedout() == 0
    assert pool.checkedin() == 1


def test_a_busy_thread_cannot_starve_a_waiter(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=10)
    holder = pool.connect()
    waited: list[float] = []

    def waiter() -> None:
        started = time.monotonic()
        conn = pool.connect()
        waited.append(time.monotonic() - started)
        conn.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: pool.stats().waits == 1)
    holder.close()
    deadline = time.monotonic() + 5
    cycles = 0
    while not waited and time.monotonic() < deadline:
        pool.connect().close()
        cycles += 1
    thread.join(10)
    assert waited, "the waiter never got a connection"
    assert waited[0] < 1.0
    assert pool.checkedout() == 0


def test_failed_connect_frees_its_slot(creator: Creator) -> None:
    failures = [True, True]

    def flaky() -> sqlite3.Connection:
        if failures:
            failures.pop()
            raise sqlite3.OperationalError("cannot connect")
        return creator()

    pool = QueuePool(flaky, pool_size=1, max_overflow=0, timeout=0.1)
    for _ in range(2):
        with pytest.raises(sqlite3.OperationalError):
            pool.connect()
        assert pool.checkedout() == 0
    conn = pool.connect()
    assert conn.cursor().execute("SELECT 1").fetchone() == (1,)
    conn.close()


def test_a_waiter_inherits_the_slot_of_a_failed_connect(creator: Creator) -> None:
    release = threading.Event()
    calls = []

    def slow_then_fail() -> sqlite3.Connection:
        calls.append(1)
        if len(calls) == 1:
            release.wait(10)
            raise sqlite3.OperationalError("server went away while connecting")
        return creator()

    pool = QueuePool(slow_then_fail, pool_size=1, max_overflow=0, timeout=10)
    errors: list[BaseException] = []
    first = threading.Thread(target=lambda: _catch(pool.connect, errors))
    first.start()
    wait_until(lambda: len(calls) == 1)
    results: list[PoolProxiedConnection] = []
    second = threading.Thread(target=lambda: results.append(pool.connect()))
    second.start()
    wait_until(lambda: pool.stats().waits == 1)
    release.set()
    first.join(10)
    second.join(10)
    assert isinstance(errors[0], sqlite3.OperationalError)
    assert results[0].cursor().execute("SELECT 2").fetchone() == (2,)
    assert pool.checkedout() == 1
    results[0].close()
    assert pool.checkedout() == 0


def _catch(fn: Callable[[], Any], errors: list[BaseException]) -> None:
    try:
        fn()
    except Exception as error:
        errors.append(error)


class _InterruptedWaiter:
    """A waiter whose wait is interrupted (as by KeyboardInterrupt or task cancellation)."""

    def __init__(self) -> None:
        self.value: Any = None
        self.handed = False

    def wait(self, timeout: float) -> bool:
        raise KeyboardInterrupt

    def wake(self) -> None:
        raise AssertionError("an abandoned waiter must not be woken")


def test_an_interrupted_waiter_leaves_the_line(creator: Creator) -> None:
    class InterruptiblePool(QueuePool):
        _waiter_class = _InterruptedWaiter

    pool = InterruptiblePool(creator, pool_size=1, max_overflow=0, timeout=5)
    holder = pool.connect()
    with pytest.raises(KeyboardInterrupt):
        pool.connect()
    assert not pool._waiters
    holder.close()
    assert pool.checkedin() == 1
    assert pool.checkedout() == 0


def test_stats_counts_checkouts_waits_and_connects(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=2, max_overflow=0, timeout=5)
    for _ in range(10):
        pool.connect().close()
    holder_a, holder_b = pool.connect(), pool.connect()
    thread = threading.Thread(target=lambda: pool.connect().close())
    thread.start()
    wait_until(lambda: pool.stats().waits == 1)
    holder_a.close()
    thread.join(10)
    stats = pool.stats()
    assert stats.total_checkouts == 13
    assert stats.checked_out == 1
    assert stats.idle == 1
    assert stats.size == 2
    assert stats.overflow == 0
    assert stats.connects == 2
    assert stats.waits == 1
    assert stats.timeouts == 0
    assert stats.total_wait_time > 0
    holder_b.close()


def test_dispose_closes_idle_connections_only(
    creator: Creator, closed: Callable[[sqlite3.Connection], bool]
) -> None:
    pool = QueuePool(creator, pool_size=3)
    a, b, c = pool.connect(), pool.connect(), pool.connect()
    idle_raws = [a.dbapi_connection, b.dbapi_connection]
    a.close()
    b.close()
    pool.dispose()
    assert all(closed(raw) for raw in idle_raws)
    assert not closed(c.dbapi_connection)
    assert pool.checkedin() == 0
    assert pool.checkedout() == 1
    c.close()
    assert pool.checkedin() == 1
    fresh = pool.connect()
    assert fresh.cursor().execute("SELECT 1").fetchone() == (1,)
    fresh.close()
    assert pool.checkedout() == 0


def test_recreate_builds_an_empty_twin(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=3, max_overflow=1, timeout=7, use_lifo=True, recycle=50)
    pool.connect().close()
    twin = pool.recreate()
    assert type(twin) is QueuePool
    assert (twin.size(), twin._max_overflow, twin._timeout, twin._use_lifo, twin._recycle) == (
        3,
        1,
        7,
        True,
        50,
    )
    assert twin.checkedin() == 0
    assert twin.stats().connects == 0
    assert twin.timeout() == 7


def test_pool_timeout_is_not_the_builtin_timeout_error(creator: Creator) -> None:
    # On Python 3.11+ the built-in TimeoutError is asyncio.TimeoutError: an application's
    # ``except asyncio.TimeoutError`` around wait_for must not swallow pool exhaustion.
    assert not issubclass(exc.TimeoutError, builtins.TimeoutError)
    pool = QueuePool(creator, pool_size=1, max_overflow=0, timeout=0.05)
    held = pool.connect()

    async def checkout_with_deadline() -> str:
        try:
            await asyncio.wait_for(asyncio.to_thread(pool.connect), timeout=5)
        except TimeoutError:  # asyncio.TimeoutError on 3.11+
            return "treated as the application's own deadline"
        return "checked out"

    with pytest.raises(exc.TimeoutError):
        asyncio.run(checkout_with_deadline())
    held.close()


def test_after_a_burst_only_pool_size_connections_stay_idle(creator: Creator, closed: Any) -> None:
    pool = QueuePool(creator, pool_size=2, max_overflow=6, timeout=10)
    start = threading.Barrier(12)
    raws: list[Any] = []

    def burst() -> None:
        start.wait()
        for _ in range(20):
            conn = pool.connect()
            raws.append(conn.dbapi_connection)
            conn.cursor().execute("SELECT 1").fetchall()
            conn.close()

    threads = [threading.Thread(target=burst) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert pool.checkedout() == 0
    assert pool.checkedin() <= 2
    assert pool.overflow() <= 0
    distinct = {id(raw): raw for raw in raws}.values()
    assert sum(not closed(raw) for raw in distinct) == pool.checkedin()


def test_connections_returned_to_a_line_of_waiters_leave_only_pool_size_idle(
    creator: Creator,
) -> None:
    pool = QueuePool(creator, pool_size=2, max_overflow=4, timeout=10)
    held = [pool.connect() for _ in range(6)]
    threads = [threading.Thread(target=lambda: pool.connect().close()) for _ in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: pool.stats().waits == 6)
    for conn in held:
        conn.close()
    for thread in threads:
        thread.join(10)
    assert pool.checkedout() == 0
    assert pool.checkedin() == 2
    assert pool.overflow() == 0
