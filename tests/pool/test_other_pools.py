"""NullPool, StaticPool and SingletonThreadPool."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from athanor import event, exc
from athanor.pool import NullPool, PoolProxiedConnection, SingletonThreadPool, StaticPool

Creator = Callable[[], sqlite3.Connection]
Closed = Callable[[sqlite3.Connection], bool]


def test_null_pool_opens_and_closes_every_time(creator: Creator, closed: Closed) -> None:
    pool = NullPool(creator, pre_ping=True)
    a = pool.connect()
    b = pool.connect()
    assert a.dbapi_connection is not b.dbapi_connection
    assert pool.checkedout() == 2
    raw = a.dbapi_connection
    a.close()
    assert closed(raw)
    b.close()
    assert pool.checkedout() == 0
    assert pool.status() == "NullPool"
    stats = pool.stats()
    assert (stats.connects, stats.total_checkouts, stats.idle, stats.size) == (2, 2, 0, 0)
    pool.dispose()
    assert isinstance(pool.recreate(), NullPool)


def test_static_pool_shares_one_connection(creator: Creator, closed: Closed) -> None:
    made: list[sqlite3.Connection] = []

    def make() -> sqlite3.Connection:
        made.append(creator())
        return made[-1]

    pool = StaticPool(make)
    a, b = pool.connect(), pool.connect()
    assert a.dbapi_connection is b.dbapi_connection
    assert pool.checkedout() == 2
    a.close()
    b.close()
    assert pool.checkedout() == 0
    assert pool.stats().idle == 1
    assert pool.status() == "StaticPool"
    with pool.connect() as c:
        assert c.dbapi_connection is made[0]
    pool.dispose()
    assert closed(made[0])
    with pool.connect() as c:
        assert c.dbapi_connection is made[1]
    assert len(made) == 2


def test_static_pool_in_memory_database_is_shared_across_threads() -> None:
    pool = StaticPool(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    with pool.connect() as conn:
        conn.cursor().execute("CREATE TABLE shared (x INTEGER)")
        conn.cursor().execute("INSERT INTO shared VALUES (7)")
        conn.commit()
    found: list[Any] = []

    def read() -> None:
        with pool.connect() as conn:
            found.append(conn.cursor().execute("SELECT x FROM shared").fetchone())

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    assert found == [(7,)]


def test_static_pool_reconnects_after_invalidation(creator: Creator) -> None:
    pool = StaticPool(creator)
    conn = pool.connect()
    raw = conn.dbapi_connection
    conn.invalidate()
    with pool.connect() as again:
        assert again.dbapi_connection is not raw
        assert again.is_valid


def test_singleton_thread_pool_gives_each_thread_its_connection(creator: Creator) -> None:
    pool = SingletonThreadPool(creator, pool_size=5)
    first = pool.connect()
    raw = first.dbapi_connection
    first.close()
    again = pool.connect()
    assert again.dbapi_connection is raw
    again.close()
    elsewhere: list[Any] = []

    def other_thread() -> None:
        conn = pool.connect()
        elsewhere.append(conn.dbapi_connection)
        conn.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(10)
    assert elsewhere[0] is not raw
    assert re.fullmatch(rf"SingletonThreadPool id:{id(pool)} size: 2", pool.status())


def test_singleton_thread_pool_nested_checkouts_share_a_proxy(
    creator: Creator, events: Any
) -> None:
    pool = SingletonThreadPool(creator)
    events.attach(pool)
    outer = pool.connect()
    inner = pool.connect()
    assert inner is outer
    assert pool.checkedout() == 1
    inner.close()
    assert outer.is_valid
    assert events.names().count("checkin") == 0
    outer.close()
    assert events.names().count("checkin") == 1
    assert pool.checkedout() == 0
    assert isinstance(outer, PoolProxiedConnection)


def test_singleton_thread_pool_returns_a_checkout_its_listener_refused(creator: Creator) -> None:
    pool = SingletonThreadPool(creator)
    refused: list[bool] = [True]

    def checkout(dbapi_connection: Any, entry: Any, proxy: Any) -> None:
        if refused[0]:
            raise RuntimeError("no")

    event.listen(pool, "checkout", checkout)
    with pytest.raises(RuntimeError, match="no"):
        pool.connect()
    assert pool.checkedout() == 0
    refused[0] = False
    outer = pool.connect()
    inner = pool.connect()
    assert inner is outer
    inner.close()
    assert pool.checkedout() == 1
    outer.close()
    assert pool.checkedout() == 0


def test_singleton_thread_pool_closes_connections_beyond_its_size(
    creator: Creator, closed: Closed
) -> None:
    pool = SingletonThreadPool(creator, pool_size=2)
    raws: list[sqlite3.Connection] = []

    def use() -> None:
        conn = pool.connect()
        raws.append(conn.dbapi_connection)
        conn.close()

    for _ in range(4):
        thread = threading.Thread(target=use)
        thread.start()
        thread.join(10)
    assert len(pool._all) <= 2
    assert sum(closed(raw) for raw in raws) >= 2
    pool.dispose()
    assert all(closed(raw) for raw in raws)
    assert pool.stats().size == 2


def test_singleton_thread_pool_recreate_keeps_size(creator: Creator) -> None:
    pool = SingletonThreadPool(creator, pool_size=3)
    twin = pool.recreate()
    assert isinstance(twin, SingletonThreadPool)
    assert twin._pool_size == 3


def test_closed_proxy_refuses_invalidate(creator: Creator) -> None:
    pool = NullPool(creator)
    conn = pool.connect()
    conn.close()
    with pytest.raises(exc.InvalidRequestError):
        conn.invalidate()
