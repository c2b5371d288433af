"""MySQL/MariaDB through asyncmy (``mysql+asyncmy://``), for ``create_async_engine``.

asyncmy (like aiomysql, whose dialect subclasses the classes here) mirrors PyMySQL's API
with coroutines, so the adapter forwards calls and the PyMySQL dialect's logic (connect
arguments, FOUND_ROWS, disconnect codes) is inherited.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.mysql.base import MySQLDialect
from athanor.dialects.mysql.pymysql import (
    COM_RESET_CONNECTION,
    PyMySQLDialect,
    session_setup_statements,
)
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.util.async_adapter import (
    AsyncAdaptedConnection,
    AsyncAdaptedCursor,
    AsyncAdaptedDBAPI,
    AsyncAdaptedDialectMixin,
    AsyncAdaptedServerSideCursor,
    transport_fileno,
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

    def fileno(self) -> int:
        """The driver's socket (its transport attribute; there is no public accessor)."""
        return transport_fileno(getattr(self.driver_connection, "_transport", None))

    async def _close_interrupted(self) -> None:
        # Closing the socket does not stop a running statement on a MySQL server: the session
        # lives on until the statement ends.  End it through the kill channel, which reuses
        # one side connection per server and loop however many tasks are cancelled.
        thread_id = self.driver_connection.thread_id()
        self._terminate()
        await kill_channel(self).kill(thread_id)

    @staticmethod
    async def _plain_cursor(driver_connection: Any) -> Any:
        """A buffered driver cursor on ``driver_connection`` (a coroutine for aiomysql)."""
        return driver_connection.cursor()

    def _session_setup(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The driver's connect-time session settings: charset, collation, ``sql_mode``
        and ``init_command``."""
        driver = self.driver_connection
        return driver.character_set_name(), None, driver._sql_mode, driver._init_command

    async def _reset_connection(self) -> None:
        driver = self.driver_connection
        await driver._execute_command(COM_RESET_CONNECTION, b"")
        await driver._read_ok_packet()
        # Server-side prepared statements are gone: so are the ids the driver cached.
        statements = getattr(driver, "_stmt_cache", None)
        if statements is not None:
            statements.clear()
        for statement in session_setup_statements(driver, *self._session_setup()):
            await driver.query(statement)
        await driver.autocommit(self._autocommit)

    def reset_connection(self) -> None:
        """``COM_RESET_CONNECTION`` through the driver's protocol layer (it has no method for
        it), then the session setup the driver did when it connected, and autocommit mode."""
        self.await_(self._reset_connection())
        self.transaction_may_be_open = False

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


UNKNOWN_THREAD = 1094
"""MySQL error: no session with that id (it ended before the KILL arrived)."""


class KillChannel:
    """One side connection to a server, per event loop, that ends interrupted sessions.

    ``KILL`` requests take turns on the single connection, so cancelling many tasks at once
    never opens more than one extra connection.  It is opened on demand, reused while
    requests are queued, and closed as soon as none are, so it never outlives its loop.
    """

    def __init__(self, connection: AsyncmyConnection) -> None:
        self._dbapi = connection.dbapi
        self._connect_args = connection.connect_args
        self._plain_cursor = connection._plain_cursor
        self._lock = asyncio.Lock()
        self._queued = 0
        self._side: Any = None

    async def kill(self, thread_id: int) -> None:
        """End session ``thread_id`` (its statement and its transaction) on the server."""
        self._queued += 1
        try:
            async with self._lock:
                await self._kill(thread_id)
                if self._queued == 1:
                    await self._close_side()
        finally:
            self._queued -= 1

    async def _kill(self, thread_id: int) -> None:
        try:
            if self._side is None:
                args, kw, creator = self._connect_args
                connect = creator if creator is not None else self._dbapi._connect
                self._side = await connect(*args, **kw)
            cursor = await self._plain_cursor(self._side)
            await cursor.execute(f"KILL {int(thread_id)}")
        except self._dbapi.Error as error:
            if not (error.args and error.args[0] == UNKNOWN_THREAD):
                await self._close_side()  # no server, or a broken side connection
        except BaseException:
            side, self._side = self._side, None  # interrupted midway: unusable now
            if side is not None:
                side.close()
            raise

    async def _close_side(self) -> None:
        side, self._side = self._side, None
        if side is not None:
            try:
                await side.ensure_closed()
            except Exception:
                side.close()


_kill_channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, KillChannel]] = (
    weakref.WeakKeyDictionary()
)


def kill_channel(connection: AsyncmyConnection) -> KillChannel:
    """The running loop's kill channel for the server and driver ``connection`` uses."""
    args, kw, creator = connection.connect_args
    key = repr((type(connection.dbapi).__name__, args, sorted(kw.items()), creator))
    channels = _kill_channels.setdefault(asyncio.get_running_loop(), {})
    channel = channels.get(key)
    if channel is None:
        channel = channels[key] = KillChannel(connection)
    return channel


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
