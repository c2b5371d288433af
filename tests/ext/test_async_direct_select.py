"""AsyncSession selects of entities by the direct path: the driver awaited in the caller's
task with no bridge, with the same objects, errors and disconnect handling as the bridge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from athanor import Float, bindparam, event, exc, func, insert, select, text
from athanor.engine.connection import DirectSelect
from athanor.ext.asyncio import AsyncEngine, AsyncSession
from athanor.util.async_adapter import wait_for_background_closes
from backends import Backend, settled
from ext.test_async_cancellation import APP
from ext.test_async_session import User, run

pytestmark = pytest.mark.usefixtures("async_driver")


@pytest.fixture
def awaited_directly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of the statements whose driver call was awaited without the bridge."""
    runs: list[str] = []
    original = DirectSelect.driver_call

    def driver_call(self: DirectSelect) -> Awaitable[None]:
        runs.append(self.sql)
        return original(self)

    monkeypatch.setattr(DirectSelect, "driver_call", driver_call)
    return runs


def test_objects_and_results_match_the_bridge(
    backend: Backend, awaited_directly: list[str]
) -> None:
    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            rows = [{"username": f"u{i}", "email": f"e{i}"} for i in range(130)]
            await session.execute(insert(User), rows)
            first = (await session.scalars(select(User).where(User.id == 3))).one()
            again = (await session.scalars(select(User).where(User.id == 3))).one()
            assert again is first and first.username == "u2"
            assert await session.scalar(select(User).where(User.id == -1)) is None
            result = await session.execute(select(User).where(User.id == 4))
            assert [u.username for u in result.scalars()] == ["u3"]
            everyone = select(User).where(User.id > 0).order_by(User.id)
            assert len((await session.scalars(everyone)).all()) == 130
            users = (await session.scalars(everyone)).all()
            assert [u.username for u in users] == [f"u{i}" for i in range(130)]
            assert users[2] is first
            await session.rollback()

    run(backend, body)
    assert len(awaited_directly) == 4


def test_a_listener_registered_later_takes_the_bridge(
    backend: Backend, awaited_directly: list[str]
) -> None:
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            await session.execute(insert(User), [{"username": "a", "email": "e"}])
            for _ in range(2):
                await session.scalar(select(User).where(User.username == "a"))
            event.listen(engine.sync_engine, "after_cursor_execute", listener)
            try:
                assert (await session.scalar(select(User).where(User.username == "a"))) is not None
            finally:
                event.remove(engine.sync_engine, "after_cursor_execute", listener)
            await session.rollback()

    run(backend, body)
    assert len(awaited_directly) == 1
    assert len(seen) == 1 and seen[0].startswith("SELECT")


@pytest.mark.backends("postgresql")
def test_an_error_from_the_database_is_wrapped_as_through_the_bridge(
    backend: Backend, awaited_directly: list[str]
) -> None:
    failures: list[Any] = []

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            await session.execute(insert(User), [{"username": "a", "email": "e"}])
            await session.commit()
            query = lambda d: select(User).where(User.id / d == 1)  # noqa: E731
            assert (await session.scalar(query(1))) is not None
            for general in (False, True):
                listener = lambda *args: None  # noqa: E731
                if general:
                    event.listen(engine.sync_engine, "after_cursor_execute", listener)
                try:
                    with pytest.raises(exc.DBAPIError) as caught:
                        await session.scalar(query(0))
                finally:
                    if general:
                        event.remove(engine.sync_engine, "after_cursor_execute", listener)
                failures.append(caught.value)
                await session.rollback()
            await session.execute(text("DELETE FROM users"))
            await session.commit()

    run(backend, body)
    assert len(awaited_directly) == 1
    direct, general = failures
    assert type(direct) is type(general)
    assert isinstance(direct, exc.DataError)
    assert (direct.statement, direct.params, str(direct)) == (
        general.statement,
        general.params,
        str(general),
    )
    assert direct.connection_invalidated is False


@pytest.mark.backends("postgresql", "mysql")
def test_a_disconnect_invalidates_the_connection_and_the_session_recovers(
    backend: Backend, awaited_directly: list[str]
) -> None:
    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            await session.execute(insert(User), [{"username": "a", "email": "e"}])
            await session.commit()
            query = select(User).where(User.username == "a")
            for _ in range(2):
                assert (await session.scalar(query)) is not None
            pid = "SELECT pg_backend_pid()" if backend.name == "postgresql" else None
            server_id = await session.scalar(text(pid or "SELECT CONNECTION_ID()"))
            backend.kill_session(server_id)
            with pytest.raises(exc.DBAPIError) as caught:
                await session.scalar(query)
            assert caught.value.connection_invalidated is True
            await session.rollback()
            assert (await session.scalar(query)).username == "a"
            await session.execute(text("DELETE FROM users"))
            await session.commit()

    run(backend, body)
    assert len(awaited_directly) == 2  # the second select, and the one that failed


def _sleeping_or_in_transaction(backend: Backend) -> int:
    """Server sessions of the test database (other than this probe's) still running a sleep
    or left inside a transaction."""
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        if backend.name == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND application_name = %s "
                "AND (state LIKE 'idle in transaction%%' "
                "OR (state = 'active' AND query LIKE '%%pg_sleep%%'))",
                (APP,),
            )
        else:
            cur.execute(
                "SELECT count(*) FROM information_schema.processlist p "
                "WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID() "
                "AND (p.info LIKE '%SLEEP(%' OR p.id IN "
                "(SELECT trx_mysql_thread_id FROM information_schema.innodb_trx))"
            )
        return int(cur.fetchone()[0])
    finally:
        raw.close()


@pytest.mark.backends("postgresql", "mysql")
def test_a_select_cancelled_mid_query_leaves_nothing_behind(
    backend: Backend, awaited_directly: list[str]
) -> None:
    pause = bindparam("pause", type_=Float)
    if backend.name == "postgresql":
        slow = select(User).where(User.id == 1, func.pg_sleep(pause).is_not(None))
    else:
        slow = select(User).where(User.id == 1, func.sleep(pause) == 0)

    async def body(engine: AsyncEngine) -> None:
        async with AsyncSession(engine) as session:
            await session.execute(insert(User), [{"id": 1, "username": "a", "email": "e"}])
            await session.commit()
        session = AsyncSession(engine)
        assert (await session.scalar(select(User).where(User.id == 1))).username == "a"
        assert (await session.scalar(slow, {"pause": 0})).username == "a"
        before = len(awaited_directly)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(session.scalar(slow, {"pause": 4}), 0.3)
        assert time.monotonic() - started < 3, "the query must be interrupted, not waited for"
        assert len(awaited_directly) == before + 1
        assert "sleep" in awaited_directly[-1].lower()
        await session.close()
        await wait_for_background_closes()
        deadline = time.monotonic() + 10
        while engine.pool.checkedout() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert engine.pool.checkedout() == 0
        assert await asyncio.to_thread(settled, lambda: _sleeping_or_in_transaction(backend)) == 0
        async with AsyncSession(engine) as session:
            assert (await session.scalar(select(User).where(User.id == 1))).username == "a"
            session.add(User(id=2, username="b", email="f"))
            await session.commit()
        async with AsyncSession(engine) as session:
            users = (await session.scalars(select(User).order_by(User.id))).all()
            assert [(u.id, u.username) for u in users] == [(1, "a"), (2, "b")]
            await session.execute(text("DELETE FROM users"))
            await session.commit()

    run(backend, body)
