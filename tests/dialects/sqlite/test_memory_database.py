"""``sqlite://`` (a memory database): every Connection of a thread shares its one connection,
so nested Connections work, see each other's rows and share one transaction, as SQLAlchemy
users expect from its SingletonThreadPool."""

from __future__ import annotations

import asyncio
import threading

import athanor
from athanor import text
from athanor.ext.asyncio import create_async_engine


def _count(conn: athanor.Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_two_connections_in_one_thread_share_the_database_and_transaction() -> None:
    engine = athanor.create_engine("sqlite://")
    with engine.connect() as outer:
        outer.execute(text("CREATE TABLE t (x INTEGER)"))
        outer.commit()
        outer.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as inner:
            assert _count(inner) == 1  # the outer Connection's uncommitted row: one connection
            inner.execute(text("INSERT INTO t VALUES (2)"))
            inner.commit()  # commits the shared transaction, the outer row included
        assert _count(outer) == 2
        outer.commit()
    with engine.connect() as later:
        assert _count(later) == 2
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_begin_blocks_nest_and_an_inner_rollback_discards_the_shared_transaction() -> None:
    engine = athanor.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.begin() as outer:
        outer.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as inner:
            inner.execute(text("INSERT INTO t VALUES (2)"))
            inner.rollback()
        outer.execute(text("INSERT INTO t VALUES (3)"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT x FROM t ORDER BY x")).scalars().all()
    assert rows == [3]  # one transaction: the inner rollback took the outer row 1 with it
    engine.dispose()


def test_each_thread_has_its_own_memory_database() -> None:
    engine = athanor.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    seen: list[bool] = []

    def other_thread() -> None:
        with engine.connect() as conn:
            seen.append(
                conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 't'")).scalar()
                == 1
            )

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(30)
    assert seen == [False]
    engine.dispose()


def test_two_async_connections_share_the_memory_database() -> None:
    async def main() -> tuple[int, int, int]:
        engine = create_async_engine("sqlite+aiosqlite://")
        try:
            async with engine.connect() as outer:
                await outer.execute(text("CREATE TABLE t (x INTEGER)"))
                await outer.commit()
                await outer.execute(text("INSERT INTO t VALUES (1)"))
                async with engine.connect() as inner:
                    seen_inside = (await inner.execute(text("SELECT count(*) FROM t"))).scalar()
                    await inner.execute(text("INSERT INTO t VALUES (2)"))
                    await inner.commit()
                seen_outside = (await outer.execute(text("SELECT count(*) FROM t"))).scalar()
                await outer.commit()
            async with engine.connect() as later:
                final = (await later.execute(text("SELECT count(*) FROM t"))).scalar()
            return seen_inside, seen_outside, final
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == (1, 2, 2)
