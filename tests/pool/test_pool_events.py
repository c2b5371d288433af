"""Pool events: names, signatures, order, class-level listeners, and the creator forms."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from athanor import event
from athanor.pool import (
    ConnectionPoolEntry,
    NullPool,
    Pool,
    PoolProxiedConnection,
    QueuePool,
    StaticPool,
)

Creator = Callable[[], sqlite3.Connection]


def test_checkout_and_checkin_cycle(creator: Creator, events: Any) -> None:
    pool = QueuePool(creator, pool_size=1)
    events.attach(pool)
    conn = pool.connect()
    raw = conn.dbapi_connection
    conn.close()
    assert events.names() == ["first_connect", "connect", "checkout", "reset", "checkin"]
    first_connect, connect, checkout, reset, checkin = (args for _, args in events.calls)
    entry = checkout[1]
    assert isinstance(entry, ConnectionPoolEntry)
    assert first_connect == (raw, entry)
    assert connect == (raw, entry)
    assert checkout[0] is raw
    assert checkout[2] is conn
    assert isinstance(checkout[2], PoolProxiedConnection)
    assert reset[:2] == (raw, entry)
    assert checkin == (raw, entry)
    events.clear()
    pool.connect().close()
    assert events.names() == ["checkout", "reset", "checkin"]


def test_first_connect_fires_once_per_pool(creator: Creator, events: Any) -> None:
    pool = QueuePool(creator, pool_size=3)
    events.attach(pool)
    held = [pool.connect() for _ in range(3)]
    assert events.names().count("first_connect") == 1
    assert events.names().count("connect") == 3
    for conn in held:
        conn.close()
    twin = pool.recreate()
    events.clear()
    twin.connect().close()
    assert events.names()[:2] == ["first_connect", "connect"]


def test_a_failing_connect_listener_closes_the_new_connection(creator: Creator) -> None:
    made: list[sqlite3.Connection] = []

    def make() -> sqlite3.Connection:
        made.append(creator())
        return made[-1]

    pool = QueuePool(make, pool_size=1)

    def reject(dbapi_connection: Any, record: Any) -> None:
        raise RuntimeError("session setup failed")

    event.listen(pool, "connect", reject)
    with pytest.raises(RuntimeError, match="session setup failed"):
        pool.connect()
    with pytest.raises(sqlite3.ProgrammingError):
        made[0].execute("SELECT 1")
    assert pool.checkedout() == 0


def test_connect_listener_can_configure_the_session(creator: Creator) -> None:
    pool = QueuePool(creator, pool_size=1)

    @event.listens_for(pool, "connect")
    def pragma(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA user_version = 42")
        cursor.close()

    conn = pool.connect()
    assert conn.cursor().execute("PRAGMA user_version").fetchone() == (42,)
    conn.close()


def test_events_argument_registers_listeners(creator: Creator) -> None:
    seen: list[str] = []
    pool = QueuePool(
        creator,
        events=[
            (lambda dbapi_connection, record: seen.append("connect"), "connect"),
            (lambda dbapi_connection, record, proxy: seen.append("checkout"), "checkout"),
        ],
    )
    pool.connect().close()
    assert seen == ["connect", "checkout"]


def test_named_listener(creator: Creator) -> None:
    pool = QueuePool(creator)
    seen: list[dict[str, Any]] = []
    event.listen(pool, "checkout", lambda **kw: seen.append(kw), named=True)
    conn = pool.connect()
    assert set(seen[0]) == {"dbapi_connection", "connection_record", "connection_proxy"}
    assert seen[0]["connection_proxy"] is conn
    conn.close()


@pytest.fixture
def class_listener() -> Iterator[list[str]]:
    seen: list[str] = []

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.append(type(proxy._pool).__name__)

    event.listen(Pool, "checkout", on_checkout)
    yield seen
    event.remove(Pool, "checkout", on_checkout)


def test_class_level_listeners_reach_every_pool(
    creator: Creator, class_listener: list[str]
) -> None:
    existing = QueuePool(creator)
    existing.connect().close()
    NullPool(creator).connect().close()
    StaticPool(creator).connect().close()
    assert class_listener == ["QueuePool", "NullPool", "StaticPool"]


def test_no_listeners_means_empty_dispatch(creator: Creator) -> None:
    pool = QueuePool(creator)
    assert pool.dispatch.checkout == ()
    assert pool.dispatch.checkin == ()
    assert pool.dispatch.reset == ()


def test_removed_listener_stops_firing(creator: Creator) -> None:
    pool = QueuePool(creator)
    seen: list[int] = []

    def listener(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.append(1)

    event.listen(pool, "checkout", listener)
    pool.connect().close()
    assert event.contains(pool, "checkout", listener)
    event.remove(pool, "checkout", listener)
    pool.connect().close()
    assert seen == [1]
    assert pool.dispatch.checkout == ()


def test_recreate_keeps_instance_listeners(creator: Creator) -> None:
    pool = QueuePool(creator)
    seen: list[str] = []
    event.listen(pool, "checkout", lambda *args: seen.append("checkout"))
    twin = pool.recreate()
    twin.connect().close()
    assert seen == ["checkout"]


# -- creator forms --------------------------------------------------------------------------


def test_creator_taking_the_entry(creator: Creator) -> None:
    received: list[Any] = []

    def with_entry(entry: ConnectionPoolEntry) -> sqlite3.Connection:
        received.append(entry)
        return creator()

    pool = QueuePool(with_entry)
    conn = pool.connect()
    assert received == [conn._connection_record]
    conn.close()


def test_creator_with_only_optional_arguments_is_called_bare(creator: Creator) -> None:
    received: list[Any] = []

    def optional(timeout: float = 5.0) -> sqlite3.Connection:
        received.append(timeout)
        return creator()

    QueuePool(optional).connect().close()
    assert received == [5.0]


def test_creator_with_connection_record_keyword_gets_the_entry(creator: Creator) -> None:
    received: list[Any] = []

    def engine_style(connection_record: Any = None) -> sqlite3.Connection:
        received.append(connection_record)
        return creator()

    QueuePool(engine_style).connect().close()
    assert isinstance(received[0], ConnectionPoolEntry)
