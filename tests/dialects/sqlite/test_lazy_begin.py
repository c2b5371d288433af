"""SQLite transactions begin at their first write: a transaction that has only read holds no
lock, so it does not block other connections' commits, while writes, DDL and savepoints stay
transactional.  Each test runs on a database file through sqlite3 and through aiosqlite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import athanor
from athanor import Engine, event, exc, text
from athanor.ext.asyncio import AsyncSession, create_async_engine
from athanor.orm import Session
from athanor.util.concurrency import greenlet_spawn

DRIVERS = ("pysqlite", "aiosqlite")


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    if request.param == "aiosqlite":
        pytest.importorskip("aiosqlite")
    return str(request.param)


def _url(driver: str, path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}" if driver == "aiosqlite" else f"sqlite:///{path}"


def run(driver: str, tmp_path: Path, body: Callable[[Engine], Any], **engine_kw: Any) -> Any:
    """``body(engine)`` on a file database with table ``t`` holding one row; through aiosqlite
    the engine is an async engine's sync one, driven through the greenlet bridge."""
    url = _url(driver, tmp_path / "app.db")

    def with_table(engine: Engine) -> Any:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        return body(engine)

    if driver == "pysqlite":
        engine = athanor.create_engine(url, **engine_kw)
        try:
            return with_table(engine)
        finally:
            engine.dispose()

    async def main() -> Any:
        async_engine = create_async_engine(url, **engine_kw)
        try:
            return await greenlet_spawn(with_table, async_engine.sync_engine)
        finally:
            await async_engine.dispose()

    return asyncio.run(main())


def _rows(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT x FROM t ORDER BY x").scalars())


def _driver_in_transaction(conn: athanor.Connection) -> bool:
    return bool(conn.connection.dbapi_connection.in_transaction)


def test_a_session_that_has_read_does_not_block_a_writer(tmp_path: Path) -> None:
    """A reader Session left open after a SELECT; another Session's commit goes through at
    once instead of waiting out the busy timeout and failing with "database is locked"."""
    engine = athanor.create_engine(f"sqlite:///{tmp_path / 'app.db'}", connect_args={"timeout": 5})
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    reader = Session(engine)
    assert reader.execute(text("SELECT x FROM t")).scalars().all() == [1]
    started = time.monotonic()
    with Session(engine) as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))
        writer.commit()
    assert time.monotonic() - started < 1
    assert reader.in_transaction()
    assert reader.execute(text("SELECT x FROM t ORDER BY x")).scalars().all() == [1, 2]
    reader.close()
    engine.dispose()


def test_an_async_session_that_has_read_does_not_block_a_writer(tmp_path: Path) -> None:
    pytest.importorskip("aiosqlite")

    async def main() -> tuple[float, list[int]]:
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", connect_args={"timeout": 5}
        )
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        reader = AsyncSession(engine)
        assert (await reader.execute(text("SELECT x FROM t"))).scalars().all() == [1]
        started = time.monotonic()
        async with AsyncSession(engine) as writer:
            await writer.execute(text("INSERT INTO t VALUES (2)"))
            await writer.commit()
        elapsed = time.monotonic() - started
        rows = (await reader.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all()
        await reader.close()
        await engine.dispose()
        return elapsed, list(rows)

    elapsed, rows = asyncio.run(main())
    assert elapsed < 1
    assert rows == [1, 2]


def test_reads_begin_no_driver_transaction_and_writes_do(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        fired: list[str] = []
        event.listen(engine, "begin", lambda conn: fired.append("begin"))
        event.listen(engine, "commit", lambda conn: fired.append("commit"))
        with engine.connect() as conn:
            assert conn.execute(athanor.select(athanor.literal(1))).scalar_one() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
            assert conn.in_transaction() and not _driver_in_transaction(conn)
            conn.commit()
            conn.exec_driver_sql("SELECT x FROM t").all()
            conn.exec_driver_sql("UPDATE t SET x = 2")
            assert _driver_in_transaction(conn)
            conn.commit()
            assert not _driver_in_transaction(conn)
        assert fired == ["begin", "commit", "begin", "commit"]
        assert _rows(engine) == [2]

    run(driver, tmp_path, body)


def test_a_rolled_back_write_leaves_nothing(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT x FROM t").all()
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            conn.exec_driver_sql("DELETE FROM t WHERE x = 1")
            conn.rollback()
        with Session(engine) as session:
            session.execute(text("UPDATE t SET x = 5"))
            session.rollback()
        assert _rows(engine) == [1]

    run(driver, tmp_path, body)


def test_reads_after_a_write_are_in_its_transaction(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            assert conn.exec_driver_sql("SELECT x FROM t ORDER BY x").scalars().all() == [1, 2]
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
            with engine.connect() as other:  # the write is not committed yet
                assert other.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
            conn.rollback()
        assert _rows(engine) == [1]

    run(driver, tmp_path, body)


def test_ddl_in_a_transaction_rolls_back(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT x FROM t").all()
            conn.exec_driver_sql("CREATE TABLE u (y INTEGER)")
            conn.exec_driver_sql("DROP TABLE t")
            conn.rollback()
        with engine.connect() as conn:
            names = conn.exec_driver_sql("SELECT name FROM sqlite_master").scalars().all()
        assert names == ["t"]

    run(driver, tmp_path, body)


def test_a_savepoint_before_any_write_is_inside_the_transaction(
    driver: str, tmp_path: Path
) -> None:
    """The pending BEGIN goes before the SAVEPOINT: alone, a SAVEPOINT would begin a
    transaction of its own, which its RELEASE would commit."""

    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT x FROM t").all()
            savepoint = conn.begin_nested()
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            savepoint.commit()
            assert conn.in_transaction() and _driver_in_transaction(conn)
            conn.rollback()
        with Session(engine) as session:
            with session.begin_nested():
                session.execute(text("INSERT INTO t VALUES (3)"))
            session.rollback()
        assert _rows(engine) == [1]

    run(driver, tmp_path, body)


@pytest.mark.parametrize(
    ("sql", "begins"),
    [
        ("SELECT x FROM t", False),
        ("WITH w AS (SELECT x FROM t) SELECT * FROM w", False),
        ("VALUES (1), (2)", False),
        ("EXPLAIN QUERY PLAN DELETE FROM t", False),
        ("PRAGMA table_info(t)", False),
        ("PRAGMA user_version", False),
        ("PRAGMA cache_size = 100", False),
        ("WITH w AS (SELECT 7 AS x) INSERT INTO t SELECT x FROM w", True),
        ("with w as (select 1) update t set x = 3", True),
        ("REPLACE INTO t VALUES (4)", True),
        ("PRAGMA user_version = 3", True),
        ("PRAGMA main.application_id(5)", True),
        ("ANALYZE", True),
        ("-- a comment first\nSELECT 1", True),
    ],
)
def test_what_begins_the_transaction(driver: str, tmp_path: Path, sql: str, begins: bool) -> None:
    """Plain reads run before the BEGIN; a statement that writes, or is not known to only
    read, is sent after it (and is then undone by a rollback)."""

    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql).close()
            assert _driver_in_transaction(conn) is begins
            conn.rollback()
            assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == 0
            assert conn.exec_driver_sql("PRAGMA application_id").scalar_one() == 0
        assert _rows(engine) == [1]

    run(driver, tmp_path, body)


def test_journal_mode_may_be_set_at_the_start_of_a_transaction(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode=WAL").scalar_one() == "wal"
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert _rows(engine) == [1, 2]

    run(driver, tmp_path, body)


def test_a_begin_listener_that_sends_begin_puts_reads_in_the_transaction(
    driver: str, tmp_path: Path
) -> None:
    """The usual recipe for full SQLite transactions: no second BEGIN is sent, reads are in
    the listener's transaction, and COMMIT and ROLLBACK end it."""

    def body(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def begin(conn: athanor.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
            assert _driver_in_transaction(conn)
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            conn.commit()
            assert not _driver_in_transaction(conn)
            conn.exec_driver_sql("INSERT INTO t VALUES (3)")
            with conn.begin_nested():
                conn.exec_driver_sql("INSERT INTO t VALUES (4)")
            conn.rollback()
        with Session(engine) as session:
            session.execute(text("SELECT x FROM t")).all()
            assert _driver_in_transaction(session.connection())
        assert _rows(engine) == [1, 2]

    run(driver, tmp_path, body)


def test_autocommit_false_puts_reads_in_the_transaction(driver: str, tmp_path: Path) -> None:
    """``connect_args={"autocommit": False}``: reads begin the transaction too, so they see
    one snapshot, and an open transaction that has read blocks another connection's commit."""
    path = tmp_path / "app.db"

    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode").all()  # a pragma still runs outside
            assert not _driver_in_transaction(conn)
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
            assert _driver_in_transaction(conn)
            writer = athanor.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
            with pytest.raises(exc.OperationalError, match="locked"), writer.begin() as other:
                other.exec_driver_sql("INSERT INTO t VALUES (2)")
            writer.dispose()
            conn.rollback()
            assert not _driver_in_transaction(conn)

    run(driver, tmp_path, body, connect_args={"autocommit": False})


@pytest.mark.parametrize("value", [True, 0])
def test_autocommit_other_than_false_is_refused(value: Any) -> None:
    with pytest.raises(exc.ArgumentError, match='isolation_level="AUTOCOMMIT"'):
        athanor.create_engine("sqlite://", connect_args={"autocommit": value})


def test_autocommit_isolation_sends_no_begin(driver: str, tmp_path: Path) -> None:
    def body(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            assert conn.in_transaction() and not _driver_in_transaction(conn)
            assert _rows(engine) == [1, 2]  # committed already
            conn.rollback()
        assert _rows(engine) == [1, 2]

    run(driver, tmp_path, body, isolation_level="AUTOCOMMIT")
