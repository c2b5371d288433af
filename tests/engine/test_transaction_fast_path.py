"""The per-transaction path (checkout, begin, execute, commit, checkin) keeps its promises
when it takes its shortcuts: listeners added after first use fire, counters stay exact,
closed proxies are reused only when nothing else can reach them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import athanor
from athanor import event, text


@pytest.fixture
def engine(backend):
    engine = athanor.create_engine(backend.url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
    yield engine
    engine.dispose()


def _items() -> athanor.Table:
    return athanor.Table(
        "items",
        athanor.MetaData(),
        athanor.Column("id", athanor.Integer, primary_key=True),
        athanor.Column("name", athanor.String(50)),
    )


def test_listeners_added_after_first_use_fire(engine) -> None:
    """Engine, connection and pool listeners registered once the engine has been used fire
    on the very next transaction."""
    items = _items()
    statement = athanor.insert(items)
    for i in range(3):
        with engine.begin() as conn:
            conn.execute(statement, {"id": i, "name": "warm"})
    seen: list[str] = []
    event.listen(engine, "begin", lambda conn: seen.append("begin"))
    event.listen(engine, "commit", lambda conn: seen.append("commit"))
    event.listen(
        engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, params, context, many: seen.append("execute"),
    )
    event.listen(engine.pool, "checkout", lambda dbapi, entry, proxy: seen.append("checkout"))
    event.listen(engine.pool, "checkin", lambda dbapi, entry: seen.append("checkin"))
    event.listen(engine.pool, "reset", lambda dbapi, entry, state: seen.append("reset"))
    with engine.begin() as conn:
        conn.execute(statement, {"id": 10, "name": "watched"})
    assert seen == ["checkout", "begin", "execute", "commit", "reset", "checkin"]


def test_a_commit_listener_added_inside_the_transaction_fires(engine) -> None:
    seen: list[Any] = []
    with engine.begin() as conn:
        event.listen(engine, "commit", seen.append)
        conn.execute(text("INSERT INTO items (id, name) VALUES (1, 'a')"))
    assert seen == [conn]


def test_a_failing_block_rolls_back_and_returns_the_connection(engine) -> None:
    items = _items()
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(athanor.insert(items), {"id": 1, "name": "a"})
        raise RuntimeError("stop")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == 0
    assert engine.pool.checkedout() == 0


def test_pool_counters_are_exact_after_many_transactions(engine) -> None:
    """Checkouts are counted one by one, from one thread and from several at once, and every
    connection is back afterwards."""
    items = _items()
    statement = athanor.insert(items)
    before = engine.pool.stats().total_checkouts
    for i in range(200):
        with engine.begin() as conn:
            conn.execute(statement, {"id": i, "name": "x"})

    def work() -> None:
        for _ in range(50):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = engine.pool.stats()
    assert stats.total_checkouts - before == 200 + 4 * 50
    assert stats.checked_out == 0
    assert engine.pool.checkedout() == 0


def test_a_closed_proxy_is_reused_only_when_nothing_refers_to_it(engine) -> None:
    """A Connection's proxy goes back to its pool entry for the next checkout, unless the
    application kept a reference: that one stays closed for good."""
    with engine.connect() as conn:
        first = id(conn.connection)
    with engine.connect() as conn:
        assert id(conn.connection) == first
        kept = conn.connection
    with engine.connect() as conn:
        assert conn.connection is not kept
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert kept.dbapi_connection is None
    assert not kept.is_valid
    kept.close()  # closing again does nothing to the connection now checked out elsewhere
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2
    assert engine.pool.checkedout() == 0


def test_a_raw_connection_is_never_reused_behind_its_holder(engine) -> None:
    raw = engine.raw_connection()
    raw.close()
    other = engine.raw_connection()
    try:
        assert other is not raw
        raw.close()
        assert other.is_valid
        cursor = other.cursor()
        cursor.execute("SELECT 1")
        assert list(cursor.fetchall()) == [(1,)]
        cursor.close()
    finally:
        other.close()
    assert engine.pool.checkedout() == 0


def test_nested_connections_of_a_singleton_thread_pool_share_until_the_last_closes() -> None:
    """A pool's own proxy class keeps its checkin rules: the thread's connection goes back
    only when its outermost Connection closes."""
    engine = athanor.create_engine("sqlite://")
    outer = engine.connect()
    inner = engine.connect()
    assert inner.connection is outer.connection
    inner.close()
    assert outer.execute(text("SELECT 1")).scalar_one() == 1
    assert engine.pool.checkedout() == 1
    outer.close()
    assert engine.pool.checkedout() == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2
    engine.dispose()


def test_statement_logging_follows_logging_configuration_changes(engine, caplog) -> None:
    """Whether a Connection logs its statements is read from the logging configuration at
    each connect, also after the engine was used with logging off."""
    import logging

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert not [r for r in caplog.records if r.name.startswith("athanor.engine")]
    with caplog.at_level(logging.INFO, logger="athanor.engine"):
        with engine.connect() as conn:
            conn.execute(text("SELECT 41"))
        assert any("SELECT 41" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with engine.connect() as conn:
        conn.execute(text("SELECT 42"))
    assert not any("SELECT 42" in r.getMessage() for r in caplog.records)
