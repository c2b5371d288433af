"""An engine inherited through os.fork(): the child opens connections of its own and never
touches (nor closes) the parent's, which keep working; with every pool class, and with async
engines whose child runs its own event loop."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from athanor import create_engine, text
from athanor.engine import Engine
from athanor.ext.asyncio import AsyncEngine, create_async_engine
from athanor.pool import Pool, QueuePool, SingletonThreadPool, StaticPool
from backends import Backend

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork()")

ASYNC_DRIVERS = {
    "sqlite": ("aiosqlite",),
    "postgresql": ("asyncpg", "psycopg_async"),
    "mysql": ("asyncmy", "aiomysql"),
}


def session_id(backend: Backend, conn: Any) -> Any:
    """The server's id of the session behind ``conn`` (a Connection); None on SQLite."""
    if backend.name == "postgresql":
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()
    if backend.name == "mysql":
        return conn.execute(text("SELECT CONNECTION_ID()")).scalar()
    return None


def owners(conn: Any) -> list[str]:
    return [row[0] for row in conn.execute(text("SELECT owner FROM fork_rows ORDER BY owner"))]


def child_work(engine: Engine, backend: Backend, checked_out: Any = None) -> dict[str, Any]:
    """What the child process does with the inherited engine (as sync code)."""
    if checked_out is not None:
        checked_out.close()  # a connection checked out at fork time, returned in the child
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('child')"))
        writer = session_id(backend, conn)
    with engine.connect() as conn:
        return {"sessions": [writer, session_id(backend, conn)], "owners": owners(conn)}


def run_child(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Fork; the child runs ``work()`` and sends back its result (or the error) as JSON."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        status = 0
        try:
            os.close(read_end)
            payload = json.dumps(work())
        except BaseException as error:
            payload = json.dumps({"error": repr(error)})
            status = 1
        finally:
            os.write(write_end, payload.encode())
            os.close(write_end)
            os._exit(status)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(b"".join(chunks))
    assert status == 0, result
    return result


POOL_ARGS: dict[type[Pool], dict[str, Any]] = {
    QueuePool: {"pool_size": 1, "max_overflow": 1},
    StaticPool: {},
    SingletonThreadPool: {"pool_size": 2},
}


@pytest.mark.parametrize("poolclass", list(POOL_ARGS), ids=lambda klass: klass.__name__)
@pytest.mark.parametrize("hold_one", [False, True], ids=["idle", "checked-out"])
def test_a_forked_child_opens_its_own_connections(
    backend: Backend, poolclass: type[Pool], hold_one: bool
) -> None:
    engine = create_engine(backend.url, poolclass=poolclass, **POOL_ARGS[poolclass])
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fork_rows (owner VARCHAR(20))"))
        conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('parent')"))
    held = engine.connect() if hold_one else None
    with engine.connect() as conn:
        parent_session = session_id(backend, conn)
        conn.commit()
    child = run_child(lambda: child_work(engine, backend, held))
    assert child["owners"] == ["child", "parent"]
    if parent_session is not None:
        assert parent_session not in child["sessions"]
    with engine.connect() as conn:  # the parent's pooled connection still works
        assert session_id(backend, conn) == parent_session
        assert owners(conn) == ["child", "parent"]
    if held is not None:
        assert owners(held) == ["child", "parent"]
        held.close()
    engine.dispose()


@pytest.mark.parametrize("poolclass", [StaticPool, SingletonThreadPool], ids=lambda k: k.__name__)
def test_a_forked_child_keeps_its_copy_of_a_memory_database(poolclass: type[Pool]) -> None:
    engine = create_engine("sqlite://", poolclass=poolclass)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fork_rows (owner VARCHAR(20))"))
        conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('parent')"))

    def work() -> dict[str, Any]:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('child')"))
            return {"owners": owners(conn)}

    assert run_child(work) == {"owners": ["child", "parent"]}
    with engine.connect() as conn:
        assert owners(conn) == ["parent"]
    engine.dispose()


def async_engine(backend: Backend, driver: str) -> AsyncEngine:
    url = f"{backend.name}+{driver}" + backend.url[backend.url.index(":") :]
    return create_async_engine(url, pool_size=1, max_overflow=1)


async def async_session(backend: Backend, engine: AsyncEngine, insert: str | None) -> Any:
    """Insert a row (unless None), then read the session id and every owner, failing after
    ten seconds (a connection whose socket the other process disturbed waits forever)."""
    async with asyncio.timeout(10):
        return await _session(backend, engine, insert)


async def _session(backend: Backend, engine: AsyncEngine, insert: str | None) -> Any:
    if insert is not None:
        async with engine.begin() as conn:
            await conn.execute(text(f"INSERT INTO fork_rows (owner) VALUES ('{insert}')"))
    async with engine.connect() as conn:
        return {
            "session": await conn.run_sync(lambda sync: session_id(backend, sync)),
            "owners": await conn.run_sync(owners),
        }


@pytest.mark.parametrize("driver_index", [0, 1], ids=["first", "second"])
def test_an_async_engine_in_a_forked_child(backend: Backend, driver_index: int) -> None:
    """The parent's loop is idle at fork time (an app preloaded before its workers fork);
    the child runs its own loop and must open its own connections."""
    drivers = ASYNC_DRIVERS[backend.name]
    if driver_index >= len(drivers):
        pytest.skip(f"{backend.name} has one async driver")
    engine = async_engine(backend, drivers[driver_index])
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_create_table(engine))
        before = loop.run_until_complete(async_session(backend, engine, "parent"))
        child = run_child(lambda: asyncio.run(async_session(backend, engine, "child")))
        assert child["owners"] == ["child", "parent"]
        if before["session"] is not None:
            assert child["session"] != before["session"]
        after = loop.run_until_complete(async_session(backend, engine, None))
        assert after == {"session": before["session"], "owners": ["child", "parent"]}
        loop.run_until_complete(engine.dispose())
    finally:
        loop.close()


async def _create_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE fork_rows (owner VARCHAR(20))"))


@pytest.mark.backends("sqlite")
def test_a_forked_child_does_not_share_a_sqlite_file_connection(backend: Backend) -> None:
    engine = create_engine(backend.url, poolclass=StaticPool)
    with engine.connect() as conn:
        inherited = conn.connection.driver_connection

    def work() -> dict[str, Any]:
        with engine.connect() as conn:
            return {"inherited": conn.connection.driver_connection is inherited}

    assert run_child(work) == {"inherited": False}
    with engine.connect() as conn:
        assert conn.connection.driver_connection is inherited
    engine.dispose()


@pytest.mark.backends("sqlite")
def test_connecting_does_not_ask_whether_the_connection_survives_a_fork(backend: Backend) -> None:
    """Only a forked child needs to know whether a connection holds a memory database, so a
    new connection in the parent runs no statement for it."""
    import sqlite3

    statements: list[str] = []

    def creator() -> sqlite3.Connection:
        conn = sqlite3.connect(backend.database, check_same_thread=False)
        conn.set_trace_callback(statements.append)
        return conn

    engine = create_engine("sqlite://", creator=creator, poolclass=QueuePool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 7")).scalar() == 7
    engine.dispose()
    assert statements and not any("database_list" in sql for sql in statements)
