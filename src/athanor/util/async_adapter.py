"""PEP 249 shaped wrappers around asyncio drivers, driven through the greenlet bridge.

Each async driver module (``dialects/postgresql/asyncpg.py``, ``dialects/sqlite/aiosqlite.py``,
...) subclasses the three classes here and fills in a few coroutine hooks; the engine and pool
then use the result exactly like a synchronous DBAPI module.  Every blocking method awaits
through :func:`athanor.util.concurrency.await_only`.

Cancellation safety lives here, once for every driver: if the task is cancelled (or the
greenlet is killed) while a driver call is pending, the adapter is marked terminated and its
driver connection closed in the background, so no server session is left idle in a
transaction.  Every later call on the adapter raises the driver's ``InterfaceError`` whose
message contains :data:`TERMINATED_MESSAGE` (the dialects report it as a disconnect), except
``rollback()`` and ``close()``, which have nothing left to do; the async pool discards
terminated connections when they come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar, cast

from athanor.exc import NoSuchModuleError
from athanor.util.concurrency import GREENLET_MISSING_MESSAGE, await_only, greenlet_available
from athanor.util.install import pip_install

_T = TypeVar("_T")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


TERMINATED_MESSAGE = "connection was terminated because its task was cancelled mid-operation"
INTERRUPTED_CLOSE_TIMEOUT = 10.0
"""Seconds a background close after a cancellation may take before the connection is cut."""

_closing_tasks: set[asyncio.Task[None]] = set()
"""Background closes in progress (referenced so they are not garbage-collected midway)."""

_PEP249_ERRORS = (
    "Error",
    "Warning",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)


async def wait_for_background_closes(timeout: float = INTERRUPTED_CLOSE_TIMEOUT) -> None:
    """Wait until connections interrupted by cancellations (on this loop) are closed."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _closing_tasks if task.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


_loop_connections: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop,
    tuple[weakref.WeakSet[AsyncAdaptedConnection], weakref.ref[Any]],
] = weakref.WeakKeyDictionary()
"""Per event loop: its open loop-bound connections and the generator that closes them."""


def _close_with_loop(connection: AsyncAdaptedConnection, loop: asyncio.AbstractEventLoop) -> None:
    """Have ``connection`` closed in its own event loop when that loop shuts down.

    A loop shutting down (``asyncio.run()`` and ``asyncio.Runner`` do, before closing it)
    finalizes the asynchronous generators still suspended: one such generator per loop,
    kept alive by the loop's connections, closes them there while awaiting still works.
    Without this, a pooled connection outlives its loop, and whatever meets it later can
    close its socket only by leaving it to the garbage collector.
    """
    if getattr(loop, "_asyncgens_shutdown_called", False):
        return  # the loop is shutting down already: too late to register
    try:
        found = _loop_connections.get(loop)
    except TypeError:  # a loop class that cannot be weakly referenced: left to the pool
        return
    closer = None if found is None else found[1]()
    if found is None or closer is None:
        connections: weakref.WeakSet[AsyncAdaptedConnection] = weakref.WeakSet()
        closer = _close_at_shutdown(connections)
        # Its first step registers the generator with the running loop and stops at the
        # yield, without suspending.
        first_step: Any = closer.__anext__()
        with contextlib.suppress(StopIteration):
            first_step.send(None)
        found = _loop_connections[loop] = (connections, weakref.ref(closer))
    found[0].add(connection)
    connection._loop_closer = closer


async def _close_at_shutdown(
    connections: weakref.WeakSet[AsyncAdaptedConnection],
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.gather(
            *(_close_at_loop_end(c) for c in list(connections)), return_exceptions=True
        )


async def _close_at_loop_end(connection: AsyncAdaptedConnection) -> None:
    """Close a connection whose loop is shutting down (it cannot serve another loop); cut it
    if the close fails or takes too long."""
    if connection.terminated:
        return
    connection.terminated = True
    try:
        async with asyncio.timeout(INTERRUPTED_CLOSE_TIMEOUT):
            await connection._close()
    except BaseException:
        with contextlib.suppress(Exception):
            connection._terminate()
        raise


def transport_fileno(transport: Any) -> int:
    """The file descriptor of an asyncio transport's socket; -1 if there is none."""
    sock = None if transport is None else transport.get_extra_info("socket")
    return -1 if sock is None else int(sock.fileno())


def _close_awaitable(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


class AsyncAdaptedDBAPI:
    """Stands in for a PEP 249 driver module: ``paramstyle``, exception classes, ``connect``.

    Subclasses set ``connection_class`` and implement :meth:`_connect`; drivers whose
    exceptions already carry PEP 249 names pass them in ``errors``, others (asyncpg) build
    their own classes and override :meth:`translate_error`.
    """

    apilevel = "2.0"
    threadsafety = 1
    connection_class: ClassVar[type[AsyncAdaptedConnection]]

    Error: type[Exception]
    Warning: type[Exception]
    InterfaceError: type[Exception]
    DatabaseError: type[Exception]
    DataError: type[Exception]
    OperationalError: type[Exception]
    IntegrityError: type[Exception]
    InternalError: type[Exception]
    ProgrammingError: type[Exception]
    NotSupportedError: type[Exception]

    def __init__(self, driver: Any, paramstyle: str, errors: Any) -> None:
        self.driver = driver
        self.paramstyle = paramstyle
        for name in _PEP249_ERRORS:
            setattr(self, name, getattr(errors, name))

    def connect(self, *args: Any, **kw: Any) -> AsyncAdaptedConnection:
        """Open a driver connection (awaiting through the bridge) and wrap it.

        ``async_creator_fn`` (a coroutine function) replaces the driver's own connect call.
        """
        creator: Callable[..., Awaitable[Any]] | None = kw.pop("async_creator_fn", None)
        settings = self.connection_class.pop_settings(kw)
        awaitable = creator(*args, **kw) if creator is not None else self._connect(*args, **kw)
        try:
            driver_connection = await_only(awaitable)
        except Exception as error:
            translated = self.translate_error(error)
            if translated is error:
                raise
            raise translated from error
        connection = self.connection_class(self, driver_connection, **settings)
        connection.connect_args = (args, kw, creator)
        return connection

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        """Open one driver connection (override per driver)."""
        raise NotImplementedError

    def translate_error(self, error: Exception) -> Exception:
        """Map a driver exception to one of this module's PEP 249 classes (identity here)."""
        return error


class AsyncAdaptedConnection:
    """A PEP 249 connection over an asyncio driver connection.

    Per driver: :meth:`_open_cursor` (a native driver cursor), :meth:`_commit`,
    :meth:`_rollback`, :meth:`_close`, :meth:`_terminate`, :meth:`_set_autocommit`, and
    :meth:`_close_interrupted` when a cancelled statement needs stopping on the server.
    """

    cursor_class: ClassVar[type[AsyncAdaptedCursor]]
    server_side_cursor_class: ClassVar[type[AsyncAdaptedServerSideCursor]]
    loop_bound: ClassVar[bool] = True
    """Whether the driver connection works only in the event loop it was opened in (its
    socket's transport belongs to that loop).  Such a connection is closed as its loop shuts
    down, and one met in another loop is replaced; others (aiosqlite, whose worker thread
    answers whichever loop asks) go on serving every loop."""

    def __init__(self, dbapi: AsyncAdaptedDBAPI, driver_connection: Any) -> None:
        self.dbapi = dbapi
        self.driver_connection = driver_connection
        self.terminated = False
        self.background_close: asyncio.Task[None] | None = None
        """After a cancellation: the close still running on the server's side, if any."""
        self.transaction_may_be_open = False
        """A statement ran since the last commit or rollback (see :meth:`_in_transaction`)."""
        self._autocommit = False
        self.connect_args: tuple[tuple[Any, ...], dict[str, Any], Any] = ((), {}, None)
        """What opened this connection: (args, kwargs, async creator or None)."""
        self._streams: weakref.WeakSet[AsyncAdaptedServerSideCursor] = weakref.WeakSet()
        self.loop = _running_loop() if self.loop_bound else None
        """The event loop this connection was opened in, the only one it can work in (None
        when it is not bound to one)."""
        self._loop_closer: Any = None
        """What closes this connection when its loop shuts down (see :func:`_close_with_loop`)."""
        if self.loop is not None:
            _close_with_loop(self, self.loop)

    @classmethod
    def pop_settings(cls, kw: dict[str, Any]) -> dict[str, Any]:
        """Remove adapter-level connect arguments from ``kw`` (none by default)."""
        return {}

    def await_(self, awaitable: Awaitable[Any]) -> Any:
        """Await a driver call; translate its errors; terminate on cancellation."""
        if self.terminated:
            _close_awaitable(awaitable)
            raise self.dbapi.InterfaceError(TERMINATED_MESSAGE)
        try:
            return await_only(awaitable)
        except Exception as error:
            translated = self._translated(error)
            if translated is error:
                raise
            raise translated from error
        except BaseException:
            self._interrupted()
            raise

    def run_async(self, fn: Callable[[Any], Awaitable[_T]]) -> _T:
        """Await ``fn(driver_connection)`` from synchronous code in the bridge, such as a pool
        ``connect`` listener on ``engine.sync_engine`` registering an asyncpg type codec."""
        return self.await_(fn(self.driver_connection))  # type: ignore[no-any-return]

    def _translated(self, error: Exception) -> Exception:
        """``error`` of a driver call as the PEP 249 exception to raise (hook run)."""
        translated = self.dbapi.translate_error(error)
        self._driver_error(translated)
        return translated

    def _driver_error(self, error: Exception) -> None:
        """Hook: a driver call failed with ``error`` (translated), about to be raised."""

    def execute(self, operation: str, parameters: Any = None) -> AsyncAdaptedCursor:
        """Shortcut (as sqlite3 has): a new cursor that ran ``operation``."""
        cursor = self.cursor()
        cursor.execute(operation, parameters)
        return cursor

    def cursor(self, server_side: bool = False) -> AsyncAdaptedCursor:
        """A buffered cursor, or with ``server_side=True`` one that streams rows."""
        if server_side:
            cursor = self.server_side_cursor_class(self)
            self._streams.add(cursor)
            return cursor
        return self.cursor_class(self)

    def _close_streams(self) -> None:
        """Close server-side cursors left open, before the transaction that holds them ends."""
        for cursor in list(self._streams):
            cursor.close()

    def commit(self) -> None:
        """Commit the current transaction."""
        if self._streams:
            self._close_streams()
        self.await_(self._commit())
        self.transaction_may_be_open = False

    def rollback(self) -> None:
        """Roll back the current transaction; nothing to do once terminated (the server has)
        or when the driver shows no transaction open (every return to the pool asks)."""
        if not self.terminated and self._in_transaction():
            if self._streams:
                self._close_streams()
            self.await_(self._rollback())
            self.transaction_may_be_open = False

    def _in_transaction(self) -> bool:
        """Whether a transaction may be open on the server: by default, whether a statement
        ran since the last commit or rollback; drivers that track it answer exactly."""
        return self.transaction_may_be_open

    def close(self) -> None:
        """Close the driver connection (a terminated connection is already closed)."""
        if self.in_other_loop():
            self.abandon()
        if not self.terminated:
            if self._streams:
                self._close_streams()
            self.terminated = True
            try:
                await_only(self._close())
            except BaseException:
                self._terminate()
                raise

    def fileno(self) -> int:
        """The socket to the server (-1: none), which a forked child points elsewhere so that
        dropping its copy of the connection cannot touch the parent's session or event loop."""
        return -1

    def terminate(self) -> None:
        """Close the driver connection at once without awaiting (garbage collection)."""
        if not self.terminated:
            self.terminated = True
            self._terminate()

    def in_other_loop(self) -> bool:
        """Whether this connection was opened in an event loop other than the running one
        (an earlier ``asyncio.run()``, say), where its driver's futures and transport live."""
        loop = self.loop
        return loop is not None and loop is not _running_loop()

    def abandon(self) -> None:
        """Give up a connection of another event loop: that loop may be closed, so nothing
        can be awaited; its socket is closed as far as the driver allows without it."""
        if not self.terminated:
            self.terminated = True
            # A closed loop refuses even that: the socket is then closed when freed.
            with contextlib.suppress(Exception):
                self._terminate()

    def _interrupted(self) -> None:
        """A driver call was cancelled: the adapter is unusable from now on.

        The driver connection is closed in the background (the driver may first need to
        cancel the running statement on the server, which an abrupt close would prevent);
        without a running loop, or if that close fails, it is terminated outright.
        """
        if self.terminated:
            return
        self.terminated = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._terminate()
            return
        task = self.background_close = loop.create_task(self._close_after_interrupt())
        _closing_tasks.add(task)
        task.add_done_callback(_closing_tasks.discard)

    async def _close_after_interrupt(self) -> None:
        try:
            async with asyncio.timeout(INTERRUPTED_CLOSE_TIMEOUT):
                await self._close_interrupted()
        except BaseException as error:
            self._terminate()
            if not isinstance(error, Exception):
                raise
            # nobody awaits this task: the connection is cut, which is all that is left to do

    async def _close_interrupted(self) -> None:
        """Close after a cancelled call (override when a plain close would wait too long)."""
        await self._close()

    @property
    def autocommit(self) -> bool:
        """Whether each statement commits on its own (PEP 249 extension used by dialects)."""
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self.await_(self._set_autocommit(value))
        self._autocommit = value

    async def _open_cursor(self, server_side: bool) -> Any:
        raise NotImplementedError

    async def _commit(self) -> None:
        await self.driver_connection.commit()

    async def _rollback(self) -> None:
        await self.driver_connection.rollback()

    async def _close(self) -> None:
        await self.driver_connection.close()

    def _terminate(self) -> None:
        raise NotImplementedError

    async def _set_autocommit(self, value: bool) -> None:
        raise NotImplementedError


class AsyncAdaptedCursor:
    """A buffered PEP 249 cursor: ``execute`` runs the statement and fetches every row.

    Fetching from the buffer then needs no further awaits.  The default hooks drive a native
    driver cursor (aiosqlite, aiomysql, asyncmy, psycopg); asyncpg overrides :meth:`_execute`.
    """

    server_side = False
    arraysize = 1

    def __init__(self, connection: AsyncAdaptedConnection) -> None:
        self._connection = connection
        self.description: Sequence[Sequence[Any]] | None = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self._rows: deque[Any] = deque()
        self._driver_cursor: Any = None

    def execute(self, operation: str, parameters: Any = None) -> None:
        """Run one statement (parameters in the module's ``paramstyle``)."""
        connection = self._connection
        connection.transaction_may_be_open = True
        connection.await_(self._execute(operation, parameters))

    async def execute_async(self, operation: str, parameters: Any = None) -> None:
        """:meth:`execute` for a caller in a coroutine: the driver awaited without the
        bridge, with the same error translation and cancellation handling
        (:meth:`AsyncAdaptedConnection.await_`)."""
        connection = self._connection
        if connection.terminated:
            raise connection.dbapi.InterfaceError(TERMINATED_MESSAGE)
        connection.transaction_may_be_open = True
        try:
            await self._execute(operation, parameters)
        except Exception as error:
            translated = connection._translated(error)
            if translated is error:
                raise
            raise translated from error
        except BaseException:
            connection._interrupted()
            raise

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        """Run one statement once per parameter set."""
        connection = self._connection
        connection.transaction_may_be_open = True
        connection.await_(self._executemany(operation, seq_of_parameters))

    async def _execute(self, operation: str, parameters: Any) -> None:
        cursor = self._driver_cursor
        if cursor is None:
            cursor = self._driver_cursor = await self._connection._open_cursor(self.server_side)
        if parameters is None:
            await cursor.execute(operation)
        else:
            await cursor.execute(operation, parameters)
        self._after_execute(cursor)
        if self.description is not None and not self.server_side:
            self._rows = deque(await cursor.fetchall())

    async def _executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        cursor = self._driver_cursor
        if cursor is None:
            cursor = self._driver_cursor = await self._connection._open_cursor(False)
        await cursor.executemany(operation, seq_of_parameters)
        self._after_execute(cursor)

    def _after_execute(self, cursor: Any) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = getattr(cursor, "lastrowid", None)

    def fetchone(self) -> Any:
        """The next row, or None."""
        rows = self._rows
        return rows.popleft() if rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` (default ``arraysize``) further rows."""
        if size is None:
            size = self.arraysize
        rows = self._rows
        popleft = rows.popleft
        return [popleft() for _ in range(min(size, len(rows)))]

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def close(self) -> None:
        """Release the buffered rows (the driver cursor holds nothing more)."""
        self._rows.clear()
        self._driver_cursor = None

    def setinputsizes(self, *sizes: Any) -> None:
        """PEP 249 no-op."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """PEP 249 no-op."""


class AsyncAdaptedServerSideCursor(AsyncAdaptedCursor):
    """A streaming cursor: rows stay on the server (or in the driver) until fetched.

    Subclasses may override :meth:`_fetch` and :meth:`_close_cursor` when the driver's
    cursor is not PEP 249 shaped (asyncpg).
    """

    server_side = True
    prefetch = 64
    """How many rows ``fetchone`` pulls per round trip."""

    def fetchone(self) -> Any:
        """The next row, or None; refills the local buffer ``prefetch`` rows at a time."""
        rows = self._rows
        if not rows:
            rows.extend(self._connection.await_(self._fetch(self.prefetch)))
            if not rows:
                return None
        return rows.popleft()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` further rows, from the buffer first, then the driver."""
        if size is None:
            size = self.arraysize
        result = super().fetchmany(size)
        if len(result) < size:
            result.extend(self._connection.await_(self._fetch(size - len(result))))
        return result

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        result = super().fetchall()
        result.extend(self._connection.await_(self._fetch(None)))
        return result

    def close(self) -> None:
        """Close the driver cursor (releasing the server-side portal)."""
        self._rows.clear()
        connection = self._connection
        connection._streams.discard(self)
        cursor, self._driver_cursor = self._driver_cursor, None
        if cursor is not None and not connection.terminated:
            connection.await_(self._close_cursor(cursor))

    async def _fetch(self, size: int | None) -> Sequence[Any]:
        cursor = self._driver_cursor
        if cursor is None:
            return ()
        if size is None:
            rows: Sequence[Any] = await cursor.fetchall()
        else:
            rows = await cursor.fetchmany(size)
        return rows

    async def _close_cursor(self, cursor: Any) -> None:
        await cursor.close()


_ADAPTED_MODULES: dict[Callable[[], AsyncAdaptedDBAPI], AsyncAdaptedDBAPI] = {}


class AsyncAdaptedDialectMixin:
    """Dialect behaviour shared by every driver dialect built on these adapters.

    Put it first in the bases: ``class AsyncpgDialect(AsyncAdaptedDialectMixin,
    PostgreSQLDialect)``, and set ``adapter_class``.
    """

    is_async: ClassVar[bool] = True
    supports_server_side_cursors: ClassVar[bool] = True
    keeps_cursors: ClassVar[bool] = False
    adapter_class: ClassVar[Callable[[], AsyncAdaptedDBAPI]]
    name: ClassVar[str]
    driver: ClassVar[str]
    install_extra: ClassVar[str]

    @classmethod
    def import_dbapi(cls) -> Any:
        """The adapter module (one per process), or an error naming the extra to install."""
        if not greenlet_available():
            raise NoSuchModuleError(GREENLET_MISSING_MESSAGE)
        adapted = _ADAPTED_MODULES.get(cls.adapter_class)
        if adapted is None:
            try:
                adapted = cls.adapter_class()
            except ImportError as error:
                raise NoSuchModuleError(
                    f"The {cls.driver} driver for {cls.name} is not installed ({error}); "
                    f"install it with: {pip_install(cls.install_extra)}"
                ) from error
            _ADAPTED_MODULES[cls.adapter_class] = adapted
        return adapted

    def create_cursor(self, dbapi_connection: Any, server_side: bool) -> Any:
        """A buffered cursor, or a streaming one for ``stream_results``."""
        return dbapi_connection.cursor(server_side=server_side)

    def get_driver_connection(self, dbapi_connection: Any) -> Any:
        """The asyncio driver's own connection object."""
        return dbapi_connection.driver_connection

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        """A connection terminated after a cancellation is dead; else ask the database dialect."""
        if dbapi_connection is not None and getattr(dbapi_connection, "terminated", False):
            return True
        if TERMINATED_MESSAGE in str(error):
            return True
        result: bool = cast(Any, super()).is_disconnect(error, dbapi_connection, cursor)
        return result
