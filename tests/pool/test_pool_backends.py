"""Pools over real SQLite, PostgreSQL (psycopg) and MariaDB (PyMySQL) connections: server-side
kills with and without pre-ping, and a 32-thread stress run."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from athanor import event, exc
from athanor.pool import QueuePool
from backends import Backend


def select_one(conn: Any) -> Any:
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def server_id(backend: Backend, conn: Any) -> Any:
    """The server's id for this connection (the sqlite3 object itself for SQLite)."""
    if backend.name == "postgresql":
        return conn.info.backend_pid
    if backend.name == "mysql":
        cursor = conn.cursor()
        cursor.execute("SELECT CONNECTION_ID()")
        (connection_id,) = cursor.fetchone()
        cursor.close()
        return connection_id
    return id(conn)


def kill(backend: Backend, conn: Any) -> None:
    """Terminate ``conn`` from the server side (for SQLite, close it behind the pool's back)."""
    if backend.is_sqlite:
        conn.close()
        return
    target = server_id(backend, conn)
    admin = backend.raw_connect()
    try:
        cursor = admin.cursor()
        if backend.name == "postgresql":
            cursor.execute("SELECT pg_terminate_backend(%s)", (target,))
            probe = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        else:
            cursor.execute(f"KILL {int(target)}")
            probe = "SELECT count(*) FROM information_schema.processlist WHERE id = %s"
        deadline = time.monotonic() + 10
        while True:
            cursor.execute(probe, (target,))
            if cursor.fetchone()[0] == 0:
                break
            assert time.monotonic() < deadline, "killed connection did not go away"
            time.sleep(0.02)
    finally:
        admin.close()


def make_pool(backend: Backend, **kw: Any) -> QueuePool:
    """A QueuePool of plain driver connections (SQLite ones usable from any thread)."""
    if backend.is_sqlite:
        return QueuePool(
            lambda: sqlite3.connect(
                backend.database, isolation_level=None, check_same_thread=False
            ),
            **kw,
        )
    return QueuePool(backend.raw_connect, **kw)


def test_checkout_and_query(backend: Backend) -> None:
    pool = make_pool(backend, pool_size=2)
    with pool.connect() as conn:
        assert select_one(conn) == 1
        first = server_id(backend, conn.dbapi_connection)
    with pool.connect() as conn:
        assert server_id(backend, conn.dbapi_connection) == first
    assert pool.checkedout() == 0
    pool.dispose()


def test_pre_ping_hides_a_killed_connection(backend: Backend) -> None:
    pool = make_pool(backend, pool_size=2, pre_ping=True)
    conn = pool.connect()
    victim = conn.dbapi_connection
    before = server_id(backend, victim)
    conn.close()
    kill(backend, victim)
    with pool.connect() as conn:
        assert select_one(conn) == 1
        assert conn.dbapi_connection is not victim
        if not backend.is_sqlite:
            assert server_id(backend, conn.dbapi_connection) != before
    stats = pool.stats()
    assert stats.invalidations == 1
    assert stats.connects == 2
    pool.dispose()


@pytest.mark.parametrize("how", ["proxy", "pool"])
def test_without_pre_ping_the_caller_invalidates_and_the_next_checkout_works(
    backend: Backend, how: str
) -> None:
    pool = make_pool(backend, pool_size=1, max_overflow=0, timeout=5)
    conn = pool.connect()
    victim = conn.dbapi_connection
    conn.close()
    kill(backend, victim)
    conn = pool.connect()
    assert conn.dbapi_connection is victim
    with pytest.raises(Exception) as caught:
        select_one(conn)
    assert pool._dialect.is_disconnect(caught.value, conn.dbapi_connection)
    if how == "proxy":
        conn.invalidate(caught.value)
    else:
        pool._invalidate(conn, caught.value)
    assert pool.checkedout() == 0
    with pool.connect() as fresh:
        assert fresh.dbapi_connection is not victim
        assert select_one(fresh) == 1
    pool.dispose()


class OpenConnections:
    """Counts the pool's physical connections (opened minus closed) and the most seen at once."""

    def __init__(self, pool: QueuePool) -> None:
        self._lock = threading.Lock()
        self.now = self.peak = 0
        event.listen(pool, "connect", self._opened)
        event.listen(pool, "close", self._closed)

    def _opened(self, dbapi_connection: Any, record: Any) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def _closed(self, dbapi_connection: Any, record: Any) -> None:
        with self._lock:
            self.now -= 1


class UseTracker:
    """Detects one physical connection used by two threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[int, int] = {}
        self.violations: list[str] = []

    def enter(self, conn: Any) -> None:
        me = threading.get_ident()
        with self._lock:
            owner = self._owners.get(id(conn))
            if owner is not None:
                self.violations.append(f"{conn!r} used by {owner} and {me}")
            self._owners[id(conn)] = me

    def leave(self, conn: Any) -> None:
        with self._lock:
            self._owners.pop(id(conn), None)


def hammer(
    pool: QueuePool,
    *,
    threads: int,
    iterations: int,
    hold: Callable[[random.Random], float],
    deadline: float,
) -> tuple[UseTracker, list[str], list[BaseException], int]:
    tracker = UseTracker()
    timeouts: list[str] = []
    unexpected: list[BaseException] = []
    done = [0]
    done_lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(iterations):
            if time.monotonic() > deadline:
                return
            try:
                with pool.connect() as conn:
                    raw = conn.dbapi_connection
                    tracker.enter(raw)
                    try:
                        assert select_one(conn) == 1
                        time.sleep(hold(rng))
                        roll = rng.random()
                        if roll < 0.2:
                            raise ValueError("application error inside the block")
                    finally:
                        tracker.leave(raw)
                    if roll < 0.25:
                        conn.invalidate()
                with done_lock:
                    done[0] += 1
            except ValueError:
                with done_lock:
                    done[0] += 1
            except exc.TimeoutError as error:
                timeouts.append(str(error))
            except BaseException as error:
                unexpected.append(error)
                return

    workers = [threading.Thread(target=worker, args=(seed,)) for seed in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(max(deadline - time.monotonic(), 0) + 30)
    assert not any(thread.is_alive() for thread in workers)
    return tracker, timeouts, unexpected, done[0]


def test_stress_32_threads_with_random_errors(backend: Backend) -> None:
    pool = make_pool(backend, pool_size=4, max_overflow=2, timeout=30)
    physical = OpenConnections(pool)
    tracker, timeouts, unexpected, done = hammer(
        pool,
        threads=32,
        iterations=25,
        hold=lambda rng: rng.random() * 0.002,
        deadline=time.monotonic() + 90,
    )
    assert unexpected == []
    assert tracker.violations == []
    assert timeouts == []
    assert done == 32 * 25
    assert pool.checkedout() == 0
    stats = pool.stats()
    assert stats.total_checkouts == 32 * 25
    # Never more than pool_size + max_overflow connections at once (when load dips, an
    # overflow connection is closed and a later one opened: connects alone has no bound).
    assert physical.peak <= 6
    assert stats.waits > 0
    assert physical.now <= pool.checkedin() <= 4
    pool.dispose()


def test_stress_timeouts_happen_only_when_the_pool_is_exhausted(backend: Backend) -> None:
    pool = make_pool(backend, pool_size=4, max_overflow=2, timeout=0.02)
    tracker, timeouts, unexpected, done = hammer(
        pool,
        threads=32,
        iterations=10,
        hold=lambda rng: 0.005 + rng.random() * 0.01,
        deadline=time.monotonic() + 90,
    )
    assert unexpected == []
    assert tracker.violations == []
    assert timeouts, "the pool was never exhausted; the test proves nothing"
    assert all("(checked out: 6)" in message for message in timeouts)
    assert pool.stats().timeouts == len(timeouts)
    assert done + len(timeouts) == 32 * 10
    assert pool.checkedout() == 0
    pool.dispose()
