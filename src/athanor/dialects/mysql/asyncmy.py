"""MySQL/MariaDB through asyncmy (``mysql+asyncmy://``), for ``create_async_engine``.

asyncmy (like aiomysql, whose dialect subclasses the classes here) mirrors PyMySQL's API
with coroutines, so the adapter forwards calls and the PyMySQL dialect's logic (connect
arguments, FOUND_ROWS, disconnect codes) is inherited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.mysql.base import MySQLDialect
from athanor.dialects.mysql.pymysql import PyMySQLDialect
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


class MySQLAsyncCursor(AsyncAdaptedCursor):
    """A buffered cursor over the driver's default cursor."""


class MySQLAsyncServerSideCursor(AsyncAdaptedServerSideCursor):
    """A streaming cursor over the driver's ``SSCursor`` (unbuffered result)."""


class AsyncmyConnection(AsyncAdaptedConnection):
    """An asyncmy connection behind PyMySQL's connection interface."""

    cursor_class = MySQLAsyncCursor
    server_side_cursor_class = MySQLAsyncServerSideCursor

    def __init__(self, dbapi: AsyncAdaptedDBAPI, driver_connection: Any) -> None:
        super().__init__(dbapi, driver_connection)
        self._autocommit = bool(driver_connection.get_autocommit())

    async def _open_cursor(self, server_side: bool) -> Any:
        if server_side:
            return self.driver_connection.cursor(self.dbapi.driver.cursors.SSCursor)
        return await self._plain_cursor(self.driver_connection)

    async def _close(self) -> None:
        await self.driver_connection.ensure_closed()

    def _terminate(self) -> None:
        self.driver_connection.close()

    async def _close_interrupted(self) -> None:
        # Closing the socket does not stop a running statement on a MySQL server; ask it to,
        # from a second connection, as PostgreSQL drivers do with a cancel request.
        thread_id = self.driver_connection.thread_id()
        self._terminate()
        args, kw, creator = self.connect_args
        side = await (
            creator(*args, **kw) if creator is not None else self.dbapi._connect(*args, **kw)
        )
        try:
            cursor = await self._plain_cursor(side)
            with contextlib.suppress(self.dbapi.Error):  # the session may have ended already
                await cursor.execute(f"KILL QUERY {int(thread_id)}")
        finally:
            await side.ensure_closed()

    async def _plain_cursor(self, driver_connection: Any) -> Any:
        """A buffered driver cursor on ``driver_connection`` (a coroutine for aiomysql)."""
        return driver_connection.cursor()

    async def _set_autocommit(self, value: bool) -> None:
        await self.driver_connection.autocommit(value)

    def get_autocommit(self) -> bool:
        """Whether the session is in autocommit mode (PyMySQL's method)."""
        return self._autocommit

    def ping(self, reconnect: bool = False) -> None:
        """Check the server is alive (PyMySQL's method); never reconnects behind the pool."""
        self.await_(self.driver_connection.ping(reconnect=False))

    @property
    def open(self) -> bool:
        """False once the connection is closed, terminated or lost."""
        return not self.terminated and bool(self.driver_connection.connected)


class AsyncmyDBAPI(AsyncAdaptedDBAPI):
    """asyncmy presented as a DBAPI module (its exceptions carry PEP 249 names)."""

    connection_class: ClassVar[type[AsyncAdaptedConnection]] = AsyncmyConnection

    def __init__(self) -> None:
        import asyncmy
        import asyncmy.cursors
        import asyncmy.errors

        super().__init__(asyncmy, "format", asyncmy.errors)
        self.err = asyncmy.errors

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        return await self.driver.connect(*args, **kw)


class AsyncmyDialect(AsyncAdaptedDialectMixin, PyMySQLDialect):
    """MySQL/MariaDB with asyncmy, driven through the greenlet bridge."""

    driver: ClassVar[str] = "asyncmy"
    dbapi_module: ClassVar[str] = "asyncmy"
    install_extra: ClassVar[str] = "asyncmy"
    async_variant: ClassVar[str | None] = None
    adapter_class: ClassVar[Callable[[], AsyncAdaptedDBAPI]] = AsyncmyDBAPI

    def get_pool_class(self, url: URL) -> type[Pool]:
        return AsyncAdaptedQueuePool

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        # PyMySQL's autocommit is a method; the adapter's is the PEP 249 style property.
        dbapi_connection.autocommit = level == "AUTOCOMMIT"
        if level != "AUTOCOMMIT":
            MySQLDialect.set_isolation_level(self, dbapi_connection, level)


dialect = AsyncmyDialect
