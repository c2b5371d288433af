"""``create_async_engine``, ``AsyncEngine``, ``AsyncConnection`` and ``AsyncTransaction``.

Each is a thin awaitable face over the synchronous object of the same name: calls run the
sync code through :func:`~athanor.util.concurrency.greenlet_spawn`, where the async driver's
adapter awaits.  So pooling, events (listen on ``engine.sync_engine`` or on the async engine
itself), transactions, errors and results behave exactly as with ``create_engine``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Self, TypeVar, overload

from athanor import exc
from athanor.engine import Engine
from athanor.engine.create import _build_engine, _build_pool, config_options
from athanor.ext.asyncio.result import AsyncResult, AsyncScalarResult
from athanor.pool import Pool, QueuePool
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.sql.elements import ClauseElement
from athanor.sql.selectable import TypedReturnsRows
from athanor.util.async_adapter import wait_for_background_closes
from athanor.util.concurrency import greenlet_spawn, require_greenlet
from athanor.util.typevars import TP

if TYPE_CHECKING:
    from athanor.engine import Connection, CursorResult, ScalarResult
    from athanor.engine.transaction import Transaction
    from athanor.orm.session import SessionTransaction
    from athanor.url import URL

_T = TypeVar("_T")
_R = TypeVar("_R")
_X = TypeVar("_X", bound="Transaction | SessionTransaction")

_SYNC_USE_MESSAGE = (
    "{name} is asynchronous: use 'async with' / 'await' (for example "
    "'async with engine.connect() as conn: await conn.execute(...)'), or run synchronous code "
    "with 'await conn.run_sync(fn)'"
)


class _AsyncOnly:
    """Refuses plain ``with``: these objects are used with ``async with`` and ``await``."""

    __slots__ = ()

    def __enter__(self) -> NoReturn:
        raise TypeError(_SYNC_USE_MESSAGE.format(name=type(self).__name__))

    def __exit__(self, *args: object) -> None:
        """Never reached: ``__enter__`` refuses synchronous use."""


class _Startable(_AsyncOnly):
    """Begun by ``await obj`` or by ``async with obj``, which also ends it."""

    __slots__ = ()

    async def start(self) -> Self:
        """Begin (what ``await`` and ``async with`` do)."""
        raise NotImplementedError

    def _started(self) -> bool:
        raise NotImplementedError

    async def _end(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        raise NotImplementedError

    def __await__(self) -> Generator[Any, None, Self]:
        return self.start().__await__()

    async def __aenter__(self) -> Self:
        if not self._started():
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._end(exc_type, exc_value, traceback)


class _TransactionFace(_Startable, Generic[_X]):
    """An awaitable face over a sync transaction (a Connection's or a Session's); subclasses
    say how to begin it and how its calls run through the bridge."""

    __slots__ = ("nested", "sync_transaction")

    def __init__(self, nested: bool = False) -> None:
        self.nested = nested
        self.sync_transaction: _X | None = None

    def _begin(self) -> Callable[[], _X]:
        raise NotImplementedError

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        raise NotImplementedError

    async def start(self) -> Self:
        """Emit BEGIN (or SAVEPOINT); done by ``async with`` / ``await``."""
        if self.sync_transaction is not None:
            raise exc.InvalidRequestError(f"This {type(self).__name__} is already started")
        self.sync_transaction = await self._run(self._begin())
        return self

    def _started(self) -> bool:
        return self.sync_transaction is not None

    async def _end(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._run(self._sync().__exit__, exc_type, exc_value, traceback)

    def _sync(self) -> _X:
        if self.sync_transaction is None:
            raise exc.InvalidRequestError(f"This {type(self).__name__} is not started")
        return self.sync_transaction

    @property
    def is_active(self) -> bool:
        return self.sync_transaction is not None and self.sync_transaction.is_active

    async def commit(self) -> None:
        """Commit (or release the savepoint)."""
        await self._run(self._sync().commit)

    async def rollback(self) -> None:
        """Roll back (to the savepoint)."""
        await self._run(self._sync().rollback)


def create_async_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """Create an :class:`AsyncEngine`; the arguments are those of ``create_engine``.

    The URL must name an async driver (``postgresql+asyncpg``, ``sqlite+aiosqlite``,
    ``mysql+asyncmy``, ...); ``postgresql+psycopg`` selects psycopg's async connection.  The
    default pool is :class:`~athanor.pool.AsyncAdaptedQueuePool`.  ``async_creator`` (a
    coroutine function returning a driver connection) replaces the driver's connect call.
    """
    return AsyncEngine(_build_engine(url, _async_arguments(kwargs), is_async=True))


def create_async_pool_from_url(url: str | URL, **kwargs: Any) -> Pool:
    """A pool of async driver connections for ``url`` (for ``create_async_engine(pool=...)``);
    the arguments are those of :func:`~athanor.create_pool_from_url`, plus ``async_creator``."""
    return _build_pool(url, _async_arguments(kwargs), is_async=True)


def _async_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Check the pool class can wait without blocking and turn ``async_creator`` into the
    driver connect argument the async dialects read."""
    require_greenlet()
    kwargs = dict(kwargs)
    poolclass = kwargs.get("poolclass")
    if (
        isinstance(poolclass, type)
        and issubclass(poolclass, QueuePool)
        and not issubclass(poolclass, AsyncAdaptedQueuePool)
    ):
        raise exc.ArgumentError(
            f"{poolclass.__name__} waits by blocking the thread and cannot serve an async engine; "
            "use AsyncAdaptedQueuePool (the default), NullPool or StaticPool"
        )
    async_creator = kwargs.pop("async_creator", None)
    if async_creator is not None:
        kwargs["connect_args"] = {
            **(kwargs.get("connect_args") or {}),
            "async_creator_fn": async_creator,
        }
    return kwargs


def async_engine_from_config(
    configuration: Mapping[str, Any], prefix: str = "sqlalchemy.", **kwargs: Any
) -> AsyncEngine:
    """Create an :class:`AsyncEngine` from ``prefix``-ed keys of a configuration dict, as
    :func:`~athanor.engine_from_config` does for a sync engine (same string conversions)."""
    url, options = config_options(configuration, prefix, kwargs)
    return create_async_engine(url, **options)


class AsyncEngine(_AsyncOnly):
    """An engine whose connections are used with ``async with`` and ``await``."""

    __slots__ = ("sync_engine",)

    def __init__(self, sync_engine: Engine) -> None:
        self.sync_engine = sync_engine

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        """Listeners on an AsyncEngine (or the class) go to its sync engine (or Engine)."""
        if isinstance(target, type):
            return Engine._event_redirect(Engine, identifier)
        return target.sync_engine._event_redirect(target.sync_engine, identifier)

    def connect(self) -> AsyncConnection:
        """A connection: ``async with engine.connect() as conn`` or ``await engine.connect()``."""
        return AsyncConnection(self)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed at the end of the block or rolled back."""
        async with AsyncConnection(self) as connection, connection.begin():
            yield connection

    async def dispose(self, close: bool = True) -> None:
        """Close the pooled connections (``close=False``: forget them without closing; a
        forked child needs neither, its pool opens connections of its own).

        Also waits for connections being closed in the background after a cancellation.
        """
        await greenlet_spawn(self.sync_engine.dispose, close)
        if close:
            await wait_for_background_closes()

    async def raw_connection(self) -> Any:
        """A pooled DBAPI connection (the adapter), checked out through the bridge."""
        return await greenlet_spawn(self.sync_engine.raw_connection)

    def execution_options(self, **options: Any) -> AsyncEngine:
        """A copy of this engine whose connections get ``options``."""
        return AsyncEngine(self.sync_engine.execution_options(**options))

    def get_execution_options(self) -> Mapping[str, Any]:
        return self.sync_engine.get_execution_options()

    def update_execution_options(self, **options: Any) -> None:
        """Add ``options`` to this engine's execution options."""
        self.sync_engine.update_execution_options(**options)

    def clear_compiled_cache(self) -> None:
        """Forget every compiled statement; statements compile again on their next run."""
        self.sync_engine.clear_compiled_cache()

    @property
    def engine(self) -> AsyncEngine:
        """This engine (what ``conn.engine`` gives for a connection)."""
        return self

    @property
    def url(self) -> URL:
        return self.sync_engine.url

    @property
    def dialect(self) -> Any:
        return self.sync_engine.dialect

    @property
    def pool(self) -> Any:
        return self.sync_engine.pool

    @property
    def name(self) -> str:
        return self.sync_engine.name

    @property
    def driver(self) -> str:
        return self.sync_engine.driver

    @property
    def echo(self) -> Any:
        return self.sync_engine.echo

    @echo.setter
    def echo(self, value: Any) -> None:
        self.sync_engine.echo = value

    def __repr__(self) -> str:
        return f"AsyncEngine({self.sync_engine.url!r})"


class AsyncConnection(_Startable):
    """An awaitable face over :class:`~athanor.engine.Connection`."""

    __slots__ = ("engine", "sync_connection", "sync_engine")

    def __init__(self, engine: AsyncEngine, sync_connection: Connection | None = None) -> None:
        self.engine = engine
        self.sync_engine = engine.sync_engine
        self.sync_connection = sync_connection

    async def start(self) -> Self:
        """Check a connection out of the pool (done by ``async with`` / ``await``)."""
        if self.sync_connection is not None:
            raise exc.InvalidRequestError("This AsyncConnection is already started")
        self.sync_connection = await greenlet_spawn(self.sync_engine.connect)
        return self

    def _started(self) -> bool:
        return self.sync_connection is not None

    async def _end(self, *exc_info: object) -> None:
        await self.close()

    def _sync(self) -> Connection:
        connection = self.sync_connection
        if connection is None:
            raise exc.ResourceClosedError(
                "This AsyncConnection is not started; use 'async with engine.connect() as conn' "
                "or 'conn = await engine.connect()'"
            )
        return connection

    async def _run(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """Run sync connection code; a cancellation mid-call discards the connection."""
        try:
            return await greenlet_spawn(fn, *args, **kw)
        except BaseException as error:
            if not isinstance(error, Exception):
                self._discard_if_terminated()
            raise

    def _discard_if_terminated(self) -> None:
        connection = self.sync_connection
        if connection is None or connection.closed or connection.invalidated:
            return
        if getattr(connection.connection.dbapi_connection, "terminated", False):
            # Synchronous: the adapter is already closed, so invalidating awaits nothing.
            connection.invalidate()

    # --- state ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.sync_connection is None or self.sync_connection.closed

    @property
    def invalidated(self) -> bool:
        return self.sync_connection is not None and self.sync_connection.invalidated

    @property
    def dialect(self) -> Any:
        return self.sync_engine.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self._sync().info

    @property
    def default_isolation_level(self) -> str | None:
        return self._sync().default_isolation_level

    async def get_isolation_level(self) -> str:
        return await self._run(self._sync().get_isolation_level)

    async def execution_options(self, **options: Any) -> AsyncConnection:
        """Set execution options (``isolation_level``, ...) on this connection."""
        await self._run(self._sync().execution_options, **options)
        return self

    def get_execution_options(self) -> Mapping[str, Any]:
        return self._sync().get_execution_options()

    async def get_raw_connection(self) -> Any:
        """The pooled DBAPI connection (its ``driver_connection`` is the driver's own)."""
        return await self._run(lambda: self._sync().connection)

    # --- transactions -----------------------------------------------------------------

    def begin(self) -> AsyncTransaction:
        """Begin a transaction: ``async with conn.begin():`` or ``await conn.begin()``."""
        return AsyncTransaction(self)

    def begin_nested(self) -> AsyncTransaction:
        """Begin a SAVEPOINT: ``async with conn.begin_nested():``."""
        return AsyncTransaction(self, nested=True)

    def in_transaction(self) -> bool:
        return self._sync().in_transaction()

    def in_nested_transaction(self) -> bool:
        return self._sync().in_nested_transaction()

    def get_transaction(self) -> AsyncTransaction | None:
        transaction = self._sync().get_transaction()
        return None if transaction is None else AsyncTransaction._wrap(self, transaction)

    def get_nested_transaction(self) -> AsyncTransaction | None:
        transaction = self._sync().get_nested_transaction()
        return None if transaction is None else AsyncTransaction._wrap(self, transaction, True)

    async def commit(self) -> None:
        """Commit the transaction in progress."""
        await self._run(self._sync().commit)

    async def rollback(self) -> None:
        """Roll back the transaction in progress."""
        await self._run(self._sync().rollback)

    # --- execution --------------------------------------------------------------------

    @overload
    async def execute(
        self,
        statement: TypedReturnsRows[TP],
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[TP]: ...
    @overload
    async def execute(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]: ...
    async def execute(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        """Run a statement; the returned result is fully buffered (use :meth:`stream` to stream)."""
        return await self._run(
            _buffered, self._sync().execute, statement, parameters, execution_options
        )

    async def exec_driver_sql(
        self,
        statement: str,
        parameters: Any = None,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult:
        """Run a SQL string as given, parameters in the driver's own style (buffered result)."""
        return await self._run(
            _buffered, self._sync().exec_driver_sql, statement, parameters, execution_options
        )

    @overload
    async def scalar(
        self,
        statement: TypedReturnsRows[tuple[_T, *tuple[Any, ...]]],
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _T | None: ...
    @overload
    async def scalar(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any: ...
    async def scalar(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """The first column of the first row, or None."""
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalar()

    @overload
    async def scalars(
        self,
        statement: TypedReturnsRows[tuple[_T, *tuple[Any, ...]]],
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[_T]: ...
    @overload
    async def scalars(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[Any]: ...
    async def scalars(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[Any]:
        """The values of the first column, as a (buffered) ScalarResult."""
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalars(0)

    @overload
    def stream(
        self,
        statement: TypedReturnsRows[TP],
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _StartableResult[AsyncResult[TP]]: ...
    @overload
    def stream(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _StartableResult[AsyncResult[Any]]: ...
    def stream(
        self,
        statement: ClauseElement,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _StartableResult[AsyncResult[Any]]:
        """Run a statement with a server-side cursor; rows arrive as they are iterated.

        ``result = await conn.stream(stmt)`` or ``async with conn.stream(stmt) as result``
        (which closes the cursor at the end of the block).
        """
        options = {**(execution_options or {}), "stream_results": True}
        return _StartableResult(self._stream(statement, parameters, options), lambda r: r)

    def stream_scalars(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _StartableResult[AsyncScalarResult]:
        """:meth:`stream`, yielding the first column's values."""
        options = {**(execution_options or {}), "stream_results": True}
        return _StartableResult(self._stream(statement, parameters, options), lambda r: r.scalars())

    async def _stream(
        self, statement: Any, parameters: Any, options: Mapping[str, Any]
    ) -> AsyncResult:
        result = await self._run(
            self._sync().execute, statement, parameters, execution_options=options
        )
        return AsyncResult(result)

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """Call ``fn(sync_connection, *args, **kw)`` where blocking calls are allowed."""
        return await self._run(fn, self._sync(), *args, **kw)

    # --- ending -----------------------------------------------------------------------

    async def invalidate(self, exception: BaseException | None = None) -> None:
        """Discard the underlying connection; the next use reconnects."""
        await self._run(self._sync().invalidate, exception)

    async def close(self) -> None:
        """Roll back what is in progress and return the connection to the pool."""
        connection = self.sync_connection
        if connection is None or connection.closed:
            return
        await self._run(connection.close)

    async def aclose(self) -> None:
        """The same as :meth:`close` (the name ``contextlib.aclosing()`` calls)."""
        await self.close()

    @property
    def connection(self) -> NoReturn:
        """Not available: reaching the DBAPI connection may need to reconnect, which only an
        ``await`` can do; use ``await conn.get_raw_connection()``."""
        raise exc.InvalidRequestError(
            "AsyncConnection.connection is not available, as getting the DBAPI connection may "
            "need to reconnect, which only an await can do; use "
            "'await conn.get_raw_connection()' instead"
        )

    def __repr__(self) -> str:
        return f"<AsyncConnection {self.sync_connection!r}>"


def _buffered(
    execute: Callable[..., CursorResult],
    statement: Any,
    parameters: Any,
    execution_options: Mapping[str, Any] | None,
) -> CursorResult:
    """Run ``execute`` in the bridge; its result must not need I/O later, so a streaming
    (server-side cursor) result is closed and refused."""
    result = execute(statement, parameters, execution_options=execution_options)
    if result.is_server_side:
        result.close()
        raise exc.InvalidRequestError(
            "AsyncConnection.execute() cannot return a server-side (stream_results) result, "
            "because fetching from it needs I/O; use 'await conn.stream(...)' instead"
        )
    return result


class _StartableResult(Generic[_R]):
    """What ``stream()`` returns: awaitable, or an async context manager closing the result."""

    __slots__ = ("_coroutine", "_result", "_view")

    def __init__(
        self, coroutine: Coroutine[Any, Any, AsyncResult], view: Callable[[AsyncResult], _R]
    ) -> None:
        self._coroutine = coroutine
        self._view = view
        self._result: AsyncResult | None = None

    async def _start(self) -> _R:
        self._result = await self._coroutine
        return self._view(self._result)

    def __await__(self) -> Generator[Any, None, _R]:
        return self._start().__await__()

    async def __aenter__(self) -> _R:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        if self._result is not None:
            await self._result.close()


class AsyncTransaction(_TransactionFace["Transaction"]):
    """An awaitable face over a root transaction or a SAVEPOINT."""

    __slots__ = ("connection",)

    def __init__(self, connection: AsyncConnection, nested: bool = False) -> None:
        super().__init__(nested)
        self.connection = connection

    @classmethod
    def _wrap(
        cls, connection: AsyncConnection, sync_transaction: Transaction, nested: bool = False
    ) -> AsyncTransaction:
        transaction = cls(connection, nested)
        transaction.sync_transaction = sync_transaction
        return transaction

    def _begin(self) -> Callable[[], Transaction]:
        sync_connection = self.connection._sync()
        return sync_connection.begin_nested if self.nested else sync_connection.begin

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await self.connection._run(fn, *args)

    @property
    def is_valid(self) -> bool:
        return self.sync_transaction is not None and self.sync_transaction.is_valid

    async def close(self) -> None:
        """Roll back if still active."""
        await self._run(self._sync().close)
