"""The async drivers' DBAPI adapters, driven directly inside greenlet_spawn on real databases."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from athanor import exc
from athanor.dialects import load_dialect_class
from athanor.url import make_url
from athanor.util.async_adapter import TERMINATED_MESSAGE, wait_for_background_closes
from athanor.util.concurrency import greenlet_spawn
from backends import Backend, settled

DRIVERS = {
    "sqlite": ("aiosqlite",),
    "postgresql": ("asyncpg", "psycopg_async"),
    "mysql": ("asyncmy", "aiomysql"),
}
SLEEP_SQL = {
    "postgresql": "SELECT pg_sleep(5)",
    "mysql": "SELECT SLEEP(5)",
    "sqlite": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
        "SELECT count(*) FROM c"
    ),
}


class Driver:
    """One async driver's adapter module, connected to the test database."""

    def __init__(self, backend: Backend, driver: str, **connect_args: Any) -> None:
        self.backend = backend
        self.driver = driver
        url = make_url(backend.async_url()).set(drivername=f"{backend.name}+{driver}")
        self.dialect = load_dialect_class(f"{backend.name}.{driver}")()
        self.dbapi: Any = self.dialect.dbapi
        cargs, cparams = self.dialect.create_connect_args(url)
        cparams.update(connect_args)
        self.cargs, self.cparams = cargs, cparams

    def connect(self) -> Any:
        return self.dbapi.connect(*self.cargs, **self.cparams)

    def sql(self, text: str) -> str:
        """Rewrite ``?`` placeholders into the adapter's paramstyle."""
        style = self.dbapi.paramstyle
        parts = text.split("?")
        out = parts[0]
        for number, part in enumerate(parts[1:], start=1):
            marker = {"qmark": "?", "numeric_dollar": f"${number}"}.get(style, "%s")
            out += marker + part
        return out

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return asyncio.run(greenlet_spawn(fn, *args))


def _drivers(backend: Backend) -> Iterator[str]:
    return iter(DRIVERS[backend.name])


@pytest.fixture(params=[0, 1], ids=["first-driver", "second-driver"])
def driver(request: pytest.FixtureRequest, backend: Backend) -> Driver:
    return Driver(backend, DRIVERS[backend.name][request.param])


def _create_table(d: Driver, conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), qty INTEGER)")
    cursor.close()
    conn.commit()
    _begin(d, conn)


def _begin(d: Driver, conn: Any) -> None:
    """SQLite connections run in autocommit mode; the dialect emits BEGIN (as the engine does)."""
    if d.dialect.requires_explicit_begin:
        d.dialect.do_begin(conn)


def test_round_trip_commit_and_fetch(driver: Driver) -> None:
    def work() -> tuple[Any, ...]:
        conn = driver.connect()
        try:
            _create_table(driver, conn)
            cursor = conn.cursor()
            for i in range(1, 6):
                cursor.execute(
                    driver.sql("INSERT INTO items VALUES (?, ?, ?)"), (i, f"n{i}", i * 10)
                )
            conn.commit()
            cursor.execute(
                driver.sql("SELECT id, name, qty FROM items WHERE qty > ? ORDER BY id"), (15,)
            )
            names = [column[0] for column in cursor.description]
            first = cursor.fetchone()
            two = cursor.fetchmany(2)
            rest = cursor.fetchall()
            cursor.execute(driver.sql("UPDATE items SET qty = qty + 1 WHERE id <= ?"), (3,))
            updated = cursor.rowcount
            conn.commit()
            cursor.close()
            return names, tuple(first), [tuple(r) for r in two], [tuple(r) for r in rest], updated
        finally:
            conn.close()

    names, first, two, rest, updated = driver.run(work)
    assert names == ["id", "name", "qty"]
    assert first == (2, "n2", 20)
    assert two == [(3, "n3", 30), (4, "n4", 40)]
    assert rest == [(5, "n5", 50)]
    assert updated == 3
    raw = driver.backend.raw_connect()
    try:
        cur = raw.cursor()
        cur.execute("SELECT sum(qty) FROM items")
        assert int(cur.fetchone()[0]) == 150 + 3
    finally:
        raw.close()


def test_rollback_discards_and_executemany_inserts(driver: Driver) -> None:
    def work() -> tuple[int, int]:
        conn = driver.connect()
        try:
            _create_table(driver, conn)
            cursor = conn.cursor()
            cursor.executemany(
                driver.sql("INSERT INTO items VALUES (?, ?, ?)"),
                [(i, f"n{i}", i) for i in range(1, 101)],
            )
            conn.rollback()
            _begin(driver, conn)
            cursor.execute("SELECT count(*) FROM items")
            after_rollback = cursor.fetchone()[0]
            cursor.executemany(
                driver.sql("INSERT INTO items VALUES (?, ?, ?)"),
                [(i, f"n{i}", i) for i in range(1, 101)],
            )
            conn.commit()
            cursor.execute("SELECT count(*) FROM items")
            after_commit = cursor.fetchone()[0]
            return after_rollback, after_commit
        finally:
            conn.close()

    assert driver.run(work) == (0, 100)


def test_server_side_cursor_streams_in_chunks(driver: Driver) -> None:
    def work() -> tuple[list[int], int, int]:
        conn = driver.connect()
        try:
            _create_table(driver, conn)
            cursor = conn.cursor()
            cursor.executemany(
                driver.sql("INSERT INTO items VALUES (?, ?, ?)"),
                [(i, f"n{i}", i) for i in range(1, 1001)],
            )
            conn.commit()
            streaming = conn.cursor(server_side=True)
            streaming.execute("SELECT id FROM items ORDER BY id")
            sizes = [len(streaming.fetchmany(300)) for _ in range(3)]
            single = streaming.fetchone()[0]
            remaining = len(streaming.fetchall())
            streaming.close()
            conn.rollback()
            return sizes, single, remaining
        finally:
            conn.close()

    sizes, single, remaining = driver.run(work)
    assert sizes == [300, 300, 300]
    assert single == 901
    assert remaining == 99


def test_errors_carry_pep249_classes(driver: Driver) -> None:
    def work() -> list[BaseException]:
        conn = driver.connect()
        errors: list[BaseException] = []
        try:
            _create_table(driver, conn)
            cursor = conn.cursor()
            cursor.execute(driver.sql("INSERT INTO items VALUES (?, ?, ?)"), (1, "a", 1))
            for sql, params in (
                ("INSERT INTO items VALUES (?, ?, ?)", (1, "dup", 2)),
                ("SELECT nope FROM items", None),
            ):
                try:
                    cursor.execute(driver.sql(sql), params)
                except driver.dbapi.Error as error:
                    errors.append(error)
                conn.rollback()
            return errors
        finally:
            conn.close()

    duplicate, bad_sql = driver.run(work)
    wrapped = exc.DBAPIError.instance("INSERT", None, duplicate, driver.dbapi.Error)
    assert isinstance(wrapped, exc.IntegrityError)
    assert isinstance(duplicate, driver.dbapi.IntegrityError)
    wrapped = exc.DBAPIError.instance("SELECT", None, bad_sql, driver.dbapi.Error)
    assert isinstance(wrapped, (exc.ProgrammingError, exc.OperationalError))


def test_use_outside_the_bridge_raises_missing_greenlet(driver: Driver) -> None:
    with pytest.raises(exc.MissingGreenlet, match="run_sync"):
        driver.connect()


def _sessions(backend: Backend, application_name: str) -> list[str]:
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        cur.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (application_name,),
        )
        return [row[0] for row in cur.fetchall()]
    finally:
        raw.close()


def test_cancelled_query_terminates_the_connection(driver: Driver) -> None:
    async def main() -> Any:
        # connected before the clock starts: on a loaded machine the connect alone may
        # outlast the timeout, and this test is about cancelling the query
        conn = await greenlet_spawn(driver.connect)

        def work() -> None:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            cursor.execute(SLEEP_SQL[driver.backend.name])

        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(greenlet_spawn(work), 0.3)
        assert time.monotonic() - started < 3
        await asyncio.sleep(0.2)  # let a worker thread (aiosqlite) report back before loop close
        return conn

    conn = asyncio.run(main())
    assert conn.terminated
    with pytest.raises(driver.dbapi.InterfaceError, match=TERMINATED_MESSAGE):
        driver.run(lambda: conn.cursor().execute("SELECT 1"))
    driver.run(conn.rollback)  # nothing left to roll back: a no-op, not an error
    assert driver.dialect.is_disconnect(driver.dbapi.InterfaceError(TERMINATED_MESSAGE), conn)


@pytest.mark.backends("postgresql")
def test_cancelled_transaction_leaves_no_session(backend: Backend) -> None:
    for name in DRIVERS["postgresql"]:
        app = f"athanor-adapter-{name}"
        settings = (
            {"server_settings": {"application_name": app}}
            if name == "asyncpg"
            else {"application_name": app}
        )
        d = Driver(backend, name, **settings)

        def work(d: Driver = d) -> None:
            conn = d.connect()
            cursor = conn.cursor()
            cursor.execute("SELECT 1")  # opens the transaction
            cursor.execute("SELECT pg_sleep(5)")

        async def main(work: Callable[[], None] = work) -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(greenlet_spawn(work), 0.3)
            await asyncio.sleep(0.5)  # the application goes on: the background close runs

        asyncio.run(main())
        assert settled(lambda app=app: len(_sessions(backend, app))) == 0


def _mysql_session_count(backend: Backend, thread_id: int) -> int:
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        cur.execute(
            "SELECT count(*) FROM information_schema.processlist WHERE id = %s", (thread_id,)
        )
        return int(cur.fetchone()[0])
    finally:
        raw.close()


@pytest.mark.backends("mysql")
def test_cancelled_mysql_statement_is_killed_on_the_server(backend: Backend) -> None:
    for name in DRIVERS["mysql"]:
        d = Driver(backend, name)
        holder: dict[str, Any] = {}

        def work(d: Driver = d, holder: dict[str, Any] = holder) -> None:
            conn = d.connect()
            cursor = conn.cursor()
            cursor.execute("SELECT CONNECTION_ID()")
            holder["thread"] = cursor.fetchone()[0]
            cursor.execute("SELECT SLEEP(60)")

        async def main(work: Callable[[], None] = work) -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(greenlet_spawn(work), 0.3)
            await wait_for_background_closes()  # the application goes on: the close runs

        asyncio.run(main())
        # well before the statement's own 60 s are up, the server session is gone
        thread = holder["thread"]
        assert settled(lambda thread=thread: _mysql_session_count(backend, thread), 20) == 0, name


def test_terminate_as_the_loop_ends_leaves_no_failing_thread(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection terminated just before its event loop closes (garbage collection, a
    cancelled task's cleanup) needs nothing from that loop afterwards: no driver thread
    fails reporting to it, and aiosqlite's worker thread ends with its sqlite3 connection."""
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(args.exc_value))
    before = set(threading.enumerate())

    def work() -> Any:
        conn = driver.connect()
        conn.cursor().execute("SELECT 1")
        if driver.driver == "aiosqlite":
            # The worker is still busy when the loop closes: what it does after must not
            # need the loop.
            conn.driver_connection._tx.put_nowait((None, partial(time.sleep, 0.3)))
        conn.terminate()
        return conn

    conn = driver.run(work)
    for thread in set(threading.enumerate()) - before:
        thread.join(5)
        assert not thread.is_alive()
    assert thread_errors == []
    assert conn.terminated
    if driver.driver == "aiosqlite":
        assert conn.driver_connection._connection is None
