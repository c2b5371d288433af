"""SQLite through aiosqlite (``sqlite+aiosqlite://``), for ``create_async_engine``.

aiosqlite runs a ``sqlite3`` connection in a worker thread; its exceptions are sqlite3's, so
the adapter only turns its coroutines back into PEP 249 calls.  Everything SQLite-specific
(explicit BEGIN, isolation pragmas, URL options) is inherited from the pysqlite dialect.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.sqlite.pysqlite import PySQLiteDialect
from athanor.pool import StaticPool
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.util.async_adapter import (
    AsyncAdaptedConnection,
    AsyncAdaptedCursor,
    AsyncAdaptedDBAPI,
    AsyncAdaptedDialectMixin,
    AsyncAdaptedServerSideCursor,
)

if TYPE_CHECKING:
    from athanor.pool import Pool
    from athanor.url import URL


class AiosqliteCursor(AsyncAdaptedCursor):
    """One thread hop to execute (aiosqlite creates the cursor with it), one to fetch."""

    async def _execute(self, operation: str, parameters: Any) -> None:
        driver = self._connection.driver_connection
        if parameters is None:
            cursor = await driver.execute(operation)
        else:
            cursor = await driver.execute(operation, parameters)
        self._driver_cursor = cursor
        self._after_execute(cursor)
        if self.description is not None and not self.server_side:
            self._rows = deque(await cursor.fetchall())


class AiosqliteServerSideCursor(AsyncAdaptedServerSideCursor, AiosqliteCursor):
    """Rows are fetched from the worker thread in chunks instead of all at once."""


def _close_and_stop(raw: sqlite3.Connection | None) -> object:
    """Run in aiosqlite's worker thread: close its sqlite3 connection, then end the thread
    (the value aiosqlite's worker stops at)."""
    from aiosqlite.core import _STOP_RUNNING_SENTINEL

    if raw is not None:
        with contextlib.suppress(sqlite3.Error):
            raw.close()
    return _STOP_RUNNING_SENTINEL


class AiosqliteConnection(AsyncAdaptedConnection):
    """An aiosqlite connection; transactions are begun explicitly by the dialect."""

    cursor_class = AiosqliteCursor
    server_side_cursor_class = AiosqliteServerSideCursor
    loop_bound = False  # each call's future belongs to the loop that makes it

    async def _open_cursor(self, server_side: bool) -> Any:
        return await self.driver_connection.cursor()

    def _interrupt(self) -> None:
        # Abort a statement still running in the worker thread (sqlite3's interrupt() is
        # meant to be called from another thread) so that the close queued behind it runs.
        raw = getattr(self.driver_connection, "_connection", None)
        if raw is not None:
            raw.interrupt()

    def _terminate(self) -> None:
        """Close the sqlite3 connection and end the worker thread without an event loop.

        aiosqlite's own ``stop()`` has the worker report to a future of the current loop,
        which may be closed by the time the worker gets to it (an ``asyncio.run()`` ending),
        and the worker thread then fails; nothing needs to hear back from this close.
        """
        self._interrupt()
        driver = self.driver_connection
        raw = driver._connection
        driver._running = False
        driver._connection = None
        driver._tx.put_nowait((None, partial(_close_and_stop, raw)))

    async def _close_interrupted(self) -> None:
        self._interrupt()
        await self._close()

    async def _set_autocommit(self, value: bool) -> None:
        """Connections are opened with ``isolation_level=None``; BEGIN comes from the dialect."""

    def commit(self) -> None:
        """Commit; nothing to send, and no thread hop, when no transaction is open (one
        that only read never sent its BEGIN)."""
        if self.in_transaction or self._streams:
            super().commit()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (sqlite3's attribute; read without a thread hop)."""
        return bool(self.driver_connection.in_transaction)

    def _in_transaction(self) -> bool:
        return self.in_transaction

    def create_function(self, *args: Any, **kw: Any) -> None:
        """Register a SQL function (as ``sqlite3.Connection.create_function``)."""
        self.await_(self.driver_connection.create_function(*args, **kw))


class AiosqliteDBAPI(AsyncAdaptedDBAPI):
    """aiosqlite presented as a DBAPI module (errors and paramstyle are sqlite3's)."""

    connection_class = AiosqliteConnection

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, "qmark", sqlite3)
        self.sqlite_version_info = sqlite3.sqlite_version_info

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        connection = self.driver.connect(*args, **kw)
        # The worker thread must not keep the process alive at exit when an engine is never
        # disposed (aiosqlite >= 0.20 keeps it in ``_thread``; before, the connection is it).
        worker = getattr(connection, "_thread", connection)
        worker.daemon = True
        return await connection


class AiosqliteDialect(AsyncAdaptedDialectMixin, PySQLiteDialect):
    """SQLite with aiosqlite, driven through the greenlet bridge."""

    driver: ClassVar[str] = "aiosqlite"
    dbapi_module: ClassVar[str] = "aiosqlite"
    install_extra: ClassVar[str] = "aiosqlite"
    async_variant: ClassVar[str | None] = None
    adapter_class = AiosqliteDBAPI

    def connection_survives_fork(self, dbapi_connection: Any) -> bool:
        """No: the connection lives in a worker thread, which a forked child does not have."""
        return False

    def get_pool_class(self, url: URL) -> type[Pool]:
        # A memory database lives in one connection: share it, as the sync dialect does.
        return StaticPool if self.is_memory_url(url) else AsyncAdaptedQueuePool


dialect = AiosqliteDialect
