"""A connection goes back to the pool with no transaction, no snapshot and no locks, on every
driver (sync and async), checked on real tables with non-autocommit connections and in the
server's own view of its sessions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from athanor import create_engine, event, text
from athanor.engine import Engine
from athanor.exc import IntegrityError
from athanor.ext.asyncio import create_async_engine
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column
from athanor.util.concurrency import greenlet_spawn
from backends import Backend, driver_autocommit, iter_names, open_backend, settled

T = TypeVar("T")

DRIVERS = (
    ("sqlite", "pysqlite", False),
    ("sqlite", "aiosqlite", True),
    ("postgresql", "psycopg", False),
    ("postgresql", "psycopg_async", True),
    ("postgresql", "asyncpg", True),
    ("mysql", "pymysql", False),
    ("mysql", "asyncmy", True),
    ("mysql", "aiomysql", True),
)
LOCK_TIMEOUT = 3
"""Seconds another session waits for a lock before failing (a leaked lock fails fast)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        chosen = set(iter_names(metafunc.config.getoption("--backends")))
        marker = metafunc.definition.get_closest_marker("backends")
        if marker is not None:
            chosen &= set(marker.args)
        drivers = [d for d in DRIVERS if d[0] in chosen]
        metafunc.parametrize("driver", drivers, ids=[f"{d[0]}-{d[1]}" for d in drivers])


class Target:
    """One driver on its database: runs a sync body against an engine (inside the greenlet
    bridge for async drivers) and watches the server from a separate plain connection."""

    def __init__(self, backend: Backend, driver: str, is_async: bool) -> None:
        self.backend = backend
        self.driver = driver
        self.is_async = is_async
        self.url = f"{backend.name}+{driver}" + backend.url[backend.url.index(":") :]

    def run(self, body: Callable[[Engine], T], **engine_kw: Any) -> T:
        """``body(engine)`` on a fresh engine, disposed afterwards."""
        if not self.is_async:
            engine = create_engine(self.url, **engine_kw)
            try:
                return body(engine)
            finally:
                engine.dispose()

        async def main() -> T:
            engine = create_async_engine(self.url, **engine_kw)
            try:
                return await greenlet_spawn(body, engine.sync_engine)
            finally:
                await engine.dispose()

        return asyncio.run(main())

    def run_many(self, body: Callable[[Engine, int], None], workers: int, **kw: Any) -> None:
        """``body(engine, n)`` for n in range(workers), as threads or as asyncio tasks."""
        if not self.is_async:
            engine = create_engine(self.url, **kw)
            errors: list[BaseException] = []

            def work(n: int) -> None:
                try:
                    body(engine, n)
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            engine.dispose()
            if errors:
                raise errors[0]
            return

        async def main() -> None:
            engine = create_async_engine(self.url, **kw)
            try:
                async with engine.connect():  # first connect first: this test is not about it
                    pass
                await asyncio.gather(
                    *(greenlet_spawn(body, engine.sync_engine, n) for n in range(workers))
                )
            finally:
                await engine.dispose()

        asyncio.run(main())

    def observer(self) -> Any:
        """A plain autocommit connection of another session, waiting at most LOCK_TIMEOUT
        seconds for any lock."""
        if self.backend.is_sqlite:
            return sqlite3.connect(
                self.backend.database, timeout=LOCK_TIMEOUT, isolation_level=None
            )
        conn = self.backend.raw_connect()
        cursor = conn.cursor()
        if self.backend.name == "postgresql":
            cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}s'")
        else:
            cursor.execute(
                f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT}, "
                f"lock_wait_timeout = {LOCK_TIMEOUT}"
            )
        cursor.close()
        return conn

    def other_session(self, *statements: str) -> None:
        """Run ``statements`` in another session; raises if a lock held them up too long."""
        conn = self.observer()
        try:
            cursor = conn.cursor()
            for statement in statements:
                cursor.execute(statement)
            cursor.close()
        finally:
            conn.close()

    def open_transactions(self) -> int:
        """Sessions on the test database, other than the observer, inside a transaction, once
        the server's view has caught up (for SQLite: 1 if another connection holds a lock
        that blocks a writer)."""
        if self.backend.is_sqlite:
            try:
                self.other_session("BEGIN EXCLUSIVE", "COMMIT")
            except sqlite3.OperationalError:
                return 1
            return 0
        return settled(self._server_transactions, 5)

    def _server_transactions(self) -> int:
        conn = self.observer()
        try:
            cursor = conn.cursor()
            if self.backend.name == "postgresql":
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
                )
            else:
                cursor.execute(
                    "SELECT count(*) FROM information_schema.innodb_trx t "
                    "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
                    "WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID()"
                )
            return int(cursor.fetchone()[0])
        finally:
            conn.close()

    def count_elsewhere(self) -> int:
        """Rows of ``items`` that another session sees (committed ones)."""
        conn = self.observer()
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT count(*) FROM items")
            return int(cursor.fetchone()[0])
        finally:
            conn.close()

    def lock_row_sql(self) -> str:
        """A statement that locks row 1 of ``items`` until the transaction ends."""
        if self.backend.is_sqlite:
            return "UPDATE items SET qty = qty WHERE id = 1"
        return "SELECT qty FROM items WHERE id = 1 FOR UPDATE"

    def write_row_sql(self) -> str:
        return "UPDATE items SET qty = qty + 1 WHERE id = 1"


@pytest.fixture
def target(
    driver: tuple[str, str, bool], server_databases: Any, tmp_path: Path
) -> Iterator[Target]:
    name, driver_name, is_async = driver
    for backend in open_backend(name, server_databases, tmp_path):
        conn = backend.raw_connect()
        cursor = conn.cursor()
        cursor.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER, qty INTEGER)")
        cursor.execute("INSERT INTO items VALUES (1, 0, 10)")
        cursor.close()
        conn.close()
        yield Target(backend, driver_name, is_async)


def count(conn: Any) -> int:
    return int(conn.execute(text("SELECT count(*) FROM items")).scalar())


def test_select_only_checkout_leaves_no_transaction_and_no_snapshot(target: Target) -> None:
    def body(engine: Engine) -> tuple[int, int, int]:
        with engine.connect() as conn:
            before = count(conn)
        open_after_close = target.open_transactions()
        target.other_session("INSERT INTO items VALUES (2, 0, 20)")
        with engine.connect() as conn:
            after = count(conn)
        return before, open_after_close, after

    before, open_after_close, after = target.run(body, pool_size=1, max_overflow=0)
    assert open_after_close == 0
    assert (before, after) == (1, 2)


def test_ddl_from_another_session_is_not_blocked_after_a_read(target: Target) -> None:
    def body(engine: Engine) -> int:
        with engine.connect() as conn:
            count(conn)
        target.other_session("ALTER TABLE items ADD COLUMN note VARCHAR(20)")
        with engine.connect() as conn:
            return len(conn.execute(text("SELECT * FROM items")).keys())

    assert target.run(body, pool_size=1, max_overflow=0) == 4


@pytest.mark.parametrize("release", ["close", "rollback", "raw_close"])
def test_row_locks_are_released(target: Target, release: str) -> None:
    def body(engine: Engine) -> int:
        if release == "raw_close":
            raw = engine.raw_connection()
            cursor = raw.cursor()
            cursor.execute(target.lock_row_sql())
            cursor.close()
            raw.close()
        else:
            conn = engine.connect()
            conn.execute(text(target.lock_row_sql())).close()
            if release == "rollback":
                conn.rollback()
                target.other_session(target.write_row_sql())
            conn.close()
        target.other_session(target.write_row_sql())
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT qty FROM items WHERE id = 1")).scalar())

    expected = 12 if release == "rollback" else 11
    assert target.run(body, pool_size=1, max_overflow=0) == expected


@pytest.mark.backends("mysql")
@pytest.mark.parametrize("lock", ["FOR UPDATE", "LOCK IN SHARE MODE"])
def test_mysql_locking_reads_are_released_on_close(target: Target, lock: str) -> None:
    def body(engine: Engine) -> int:
        with engine.connect() as conn:
            conn.execute(text(f"SELECT qty FROM items WHERE id = 1 {lock}")).close()
        target.other_session("TRUNCATE TABLE items")
        return target.open_transactions()

    assert target.run(body, pool_size=1, max_overflow=0) == 0


def test_no_transaction_left_after_asking_the_isolation_level(target: Target) -> None:
    def body(engine: Engine) -> tuple[int, int]:
        with engine.connect() as conn:
            count(conn)
            conn.commit()
            conn.get_isolation_level()
        after_close = target.open_transactions()
        with engine.connect() as conn:
            conn.get_isolation_level()
            conn.rollback()
            after_rollback = target.open_transactions()
        return after_close, after_rollback

    assert target.run(body, pool_size=1, max_overflow=0) == (0, 0)


def test_isolation_level_and_autocommit_are_reset(target: Target) -> None:
    def body(engine: Engine) -> tuple[str, str, str, int]:
        with engine.connect() as conn:
            default = conn.get_isolation_level()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("INSERT INTO items VALUES (2, 0, 20)"))
            autocommit = driver_autocommit(conn)
        with engine.connect() as conn:
            restored = conn.get_isolation_level()
            restored_mode = driver_autocommit(conn)
            conn.execute(text("INSERT INTO items VALUES (3, 0, 30)"))
            conn.rollback()
            rows = count(conn)
        return default, autocommit, restored, restored_mode, rows

    default, autocommit, restored, restored_mode, rows = target.run(
        body, pool_size=1, max_overflow=0
    )
    if not target.backend.is_sqlite:  # SQLite's driver runs in autocommit mode throughout
        assert autocommit and not restored_mode
    assert restored == default != "AUTOCOMMIT"
    assert rows == 2  # the AUTOCOMMIT insert stayed, the transactional one was rolled back
    assert target.open_transactions() == 0


def test_threads_read_their_own_committed_rows(target: Target) -> None:
    rounds = 4
    stale: list[tuple[int, int, int]] = []

    def body(engine: Engine, n: int) -> None:
        owner = n + 1
        for i in range(rounds):
            with engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO items (id, owner, qty) VALUES (:id, :owner, 0)"),
                    {"id": owner * 100 + i, "owner": owner},
                )
            with engine.connect() as conn:
                seen = conn.execute(
                    text("SELECT count(*) FROM items WHERE owner = :owner"), {"owner": owner}
                ).scalar()
            if seen != i + 1:
                stale.append((owner, i + 1, int(seen)))

    target.run_many(body, 32, pool_size=4, max_overflow=4, pool_timeout=60)
    assert stale == []
    assert target.open_transactions() == 0


NON_DEFAULT_LEVEL = {
    "sqlite": "READ UNCOMMITTED",
    "postgresql": "SERIALIZABLE",
    "mysql": "SERIALIZABLE",
}


@pytest.mark.parametrize("entry", ["connect", "begin"])
def test_connection_whose_set_up_fails_goes_back_at_once(target: Target, entry: str) -> None:
    """An ``engine_connect`` listener fails after the engine's isolation level was applied and
    a row was locked: the caller never gets that Connection to close, so the pooled connection
    must go back right away (while the error is still referenced), rolled back and reset."""
    level = NON_DEFAULT_LEVEL[target.backend.name]

    def body(engine: Engine) -> dict[str, Any]:
        with engine.connect() as conn:
            default = conn.get_isolation_level()
        configured = engine.execution_options(isolation_level=level)

        def lock_then_fail(conn: Any) -> None:
            conn.execute(text(target.lock_row_sql())).close()
            raise RuntimeError("listener failed")

        event.listen(configured, "engine_connect", lock_then_fail)
        with pytest.raises(RuntimeError, match="listener failed") as failure:
            if entry == "connect":
                configured.connect()
            else:
                with configured.begin():
                    pass
        checked_out = engine.pool.checkedout()
        open_transactions = target.open_transactions()
        target.other_session(target.write_row_sql())
        with engine.connect() as conn:
            after = conn.get_isolation_level()
            qty = conn.execute(text("SELECT qty FROM items WHERE id = 1")).scalar()
        return {
            "checked_out": checked_out,
            "open": open_transactions,
            "levels": (default, after),
            "qty": qty,
            "error": failure.value,  # kept alive to the end: nothing may wait for its release
        }

    seen = target.run(body, pool_size=1, max_overflow=0, pool_timeout=5)
    assert seen["checked_out"] == 0
    assert seen["open"] == 0
    assert seen["levels"][1] == seen["levels"][0] != level
    assert seen["qty"] == 11


def test_session_whose_begin_fails_returns_its_connection(target: Target) -> None:
    """A ``begin`` listener fails when a Session starts its transaction: the connection the
    Session checked out for it is returned, not kept by nobody."""

    def body(engine: Engine) -> tuple[int, int, int]:
        def fail(conn: Any) -> None:
            raise RuntimeError("begin refused")

        event.listen(engine, "begin", fail)
        with Session(engine) as session:
            errors = []
            for _ in range(2):
                with pytest.raises(RuntimeError, match="begin refused") as failure:
                    session.execute(text("SELECT qty FROM items"))
                errors.append(failure.value)
            checked_out = engine.pool.checkedout()
        event.remove(engine, "begin", fail)
        with Session(engine) as session:
            qty = session.execute(text("SELECT qty FROM items WHERE id = 1")).scalar_one()
        return checked_out, len(errors), qty

    assert target.run(body, pool_size=1, max_overflow=0, pool_timeout=5) == (0, 2, 10)
    assert target.open_transactions() == 0


class _ItemBase(DeclarativeBase):
    pass


class _Item(_ItemBase):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[int | None] = mapped_column()
    qty: Mapped[int | None] = mapped_column()


def test_failed_one_object_flush_returns_a_clean_connection(target: Target) -> None:
    """A one-object flush (the INSERT goes straight to the cursor when nobody listens) fails
    on a duplicate key: the error is the driver's, wrapped with the statement; the transaction
    is rolled back and the connection goes back holding no transaction and no lock, so another
    session's write is not blocked and the next one-object commit goes through."""

    def body(engine: Engine) -> tuple[int, int, int]:
        assert not engine.dispatch.before_cursor_execute and not engine.dispatch.handle_error
        with Session(engine) as session:
            session.add(_Item(id=1, owner=1, qty=1))
            with pytest.raises(IntegrityError) as failure:
                session.commit()
            assert "INSERT INTO items" in str(failure.value.statement)
            session.rollback()
        open_after = target.open_transactions()
        target.other_session(target.write_row_sql())
        with Session(engine) as session:
            session.add(_Item(id=2, owner=2, qty=5))
            session.commit()
            qty = session.get(_Item, 1).qty  # type: ignore[union-attr]
        return open_after, engine.pool.checkedout(), qty

    open_after, checked_out, qty = target.run(body, pool_size=1, max_overflow=0, pool_timeout=5)
    assert (open_after, checked_out, qty) == (0, 0, 11)
    assert target.count_elsewhere() == 2
    assert target.open_transactions() == 0


# --- pool_reset_on_return="discard": nothing a checkout set reaches the next one ---------------

SESSION_SETUP = {
    "postgresql": (
        "SET athanor.probe = 'leaked'",
        "SET search_path TO public, pg_catalog",
        "CREATE TEMPORARY TABLE probe_tmp (x INTEGER)",
        "PREPARE probe_stmt AS SELECT 1",
    ),
    "mysql": (
        "SET @probe = 'leaked'",
        "SET SESSION sql_mode = 'ANSI'",
        "CREATE TEMPORARY TABLE probe_tmp (x INTEGER)",
        "PREPARE probe_stmt FROM 'SELECT 1'",
    ),
    "sqlite": (
        "CREATE TEMPORARY TABLE probe_tmp (x INTEGER)",
        "CREATE TEMPORARY VIEW probe_view AS SELECT * FROM probe_tmp",
    ),
}
SESSION_STATE = {
    "postgresql": "SELECT coalesce(current_setting('athanor.probe', true), ''), "
    "current_setting('search_path'), "
    "(SELECT count(*) FROM pg_prepared_statements WHERE name = 'probe_stmt')",
    "mysql": "SELECT @probe, @@session.sql_mode",
    "sqlite": "SELECT count(*) FROM sqlite_temp_master WHERE name = 'probe_view'",
}


def physical_session(conn: Any) -> Any:
    """The server's id of the session (SQLite: the driver connection object's id)."""
    name = conn.dialect.name
    if name == "postgresql":
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()
    if name == "mysql":
        return conn.execute(text("SELECT CONNECTION_ID()")).scalar()
    return id(conn.connection.driver_connection)


def session_state(conn: Any) -> tuple[Any, ...]:
    """The probed session variables, whether the server-side prepared statement is there
    (MySQL, which has no view of a session's prepared statements), and whether the temporary
    table is there."""
    state = tuple(conn.execute(text(SESSION_STATE[conn.dialect.name])).one())
    if conn.dialect.name == "mysql":
        state = (*state, _works(conn, "EXECUTE probe_stmt"))
    return (*state, _works(conn, "SELECT count(*) FROM probe_tmp"))


def _works(conn: Any, statement: str) -> bool:
    try:
        conn.execute(text(statement)).all()
    except Exception:
        conn.rollback()
        return False
    return True


@pytest.mark.parametrize("reset", ["discard", "rollback"])
def test_discard_resets_the_session_of_the_same_connection(target: Target, reset: str) -> None:
    def body(engine: Engine) -> dict[str, Any]:
        with engine.connect() as conn:
            first = physical_session(conn)
            fresh = session_state(conn)
            isolation = conn.get_isolation_level()
            conn.rollback()
            for statement in SESSION_SETUP[target.backend.name]:
                conn.execute(text(statement))
            conn.commit()
            changed = session_state(conn)
        with engine.connect() as conn:
            second = physical_session(conn)
            after = session_state(conn)
            conn.rollback()
            # the connection still behaves as configured: not autocommit, same isolation
            conn.execute(text("INSERT INTO items VALUES (2, 0, 20)"))
            seen_elsewhere = target.count_elsewhere()
            conn.rollback()
            rows = count(conn)
            level = conn.get_isolation_level()
        return {
            "same": first == second,
            "fresh": fresh,
            "changed": changed,
            "after": after,
            "seen_elsewhere": seen_elsewhere,
            "rows": rows,
            "isolation": (isolation, level),
        }

    seen = target.run(body, pool_size=1, max_overflow=0, pool_reset_on_return=reset)
    assert seen["same"]
    assert seen["changed"] != seen["fresh"]
    assert seen["changed"][-1] is True
    assert seen["after"] == (seen["fresh"] if reset == "discard" else seen["changed"])
    assert seen["seen_elsewhere"] == 1  # the insert waits for a commit: autocommit is off
    assert seen["rows"] == 1
    assert seen["isolation"][1] == seen["isolation"][0] != "AUTOCOMMIT"


SESSION_ISOLATION = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    "mysql": "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
}


@pytest.mark.backends("postgresql", "mysql")
@pytest.mark.parametrize("configured", [None, "READ COMMITTED", "AUTOCOMMIT"])
def test_discard_keeps_the_engine_isolation_level(target: Target, configured: str | None) -> None:
    def mode(conn: Any) -> str:
        return "AUTOCOMMIT" if driver_autocommit(conn) else conn.get_isolation_level()

    def body(engine: Engine) -> tuple[str, str]:
        with engine.connect() as conn:
            before = mode(conn)
            conn.rollback()
            conn.execute(text(SESSION_ISOLATION[target.backend.name]))
            conn.commit()
        with engine.connect() as conn:
            return before, mode(conn)

    engine_kw: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    if configured is not None:
        engine_kw["isolation_level"] = configured
    before, after = target.run(body, pool_reset_on_return="discard", **engine_kw)
    assert after == before == (configured or before)


@pytest.mark.backends("mysql")
def test_discard_restores_the_driver_session_setup(target: Target) -> None:
    """COM_RESET_CONNECTION returns charset and sql_mode to the server's defaults; the driver's
    connect-time choices (``charset``, ``sql_mode``, ``init_command``) come back after it."""
    query = "SELECT @@character_set_client, @@collation_connection, @@sql_mode, @probe"

    def body(engine: Engine) -> tuple[Any, Any]:
        with engine.connect() as conn:
            configured = tuple(conn.execute(text(query)).one())
            conn.execute(text("SET NAMES latin1"))
            conn.execute(text("SET SESSION sql_mode = ''"))
            conn.execute(text("SET @probe = 'changed'"))
        with engine.connect() as conn:
            return configured, tuple(conn.execute(text(query)).one())

    connect_args = {"sql_mode": "ANSI_QUOTES", "init_command": "SET @probe = 'init'"}
    configured, after = target.run(
        body,
        pool_size=1,
        max_overflow=0,
        pool_reset_on_return="discard",
        connect_args=connect_args,
    )
    assert configured[0] == "utf8mb4"
    assert configured[2:] == ("ANSI_QUOTES", "init")
    assert after == configured


@pytest.mark.backends("postgresql", "mysql")
def test_discard_drops_the_driver_statement_caches(target: Target) -> None:
    """The reset deallocates server-side prepared statements; statements the driver cached
    (asyncpg's and psycopg's, asyncmy's with ``stmt_cache_size``) must not be reused."""

    def body(engine: Engine) -> list[int]:
        seen = []
        for _ in range(8):
            with engine.connect() as conn:
                query = text("SELECT count(*) FROM items WHERE id > :low")
                seen.append(int(conn.execute(query, {"low": 0}).scalar()))
                conn.get_isolation_level()
        return seen

    connect_args = {"stmt_cache_size": 10} if target.driver == "asyncmy" else {}
    seen = target.run(
        body,
        pool_size=1,
        max_overflow=0,
        pool_reset_on_return="discard",
        connect_args=connect_args,
    )
    assert seen == [1] * 8
