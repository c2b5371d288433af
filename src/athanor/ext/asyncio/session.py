"""``AsyncSession``, ``async_sessionmaker`` and ``AsyncAttrs``: the ORM Session, awaited.

An :class:`AsyncSession` owns an ordinary :class:`~athanor.orm.Session` (``sync_session``) and
runs each of its methods through :func:`~athanor.util.concurrency.greenlet_spawn`, the bridge
the async engine uses, so flushing, identity map, events and transactions are the sync ORM's
own.  Results are buffered inside the bridge, so reading them never needs I/O afterwards.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from operator import length_hint
from types import TracebackType
from typing import Any, TypeVar

from athanor import exc
from athanor.engine.connection import FETCH_AT_ONCE as _FETCH_AT_ONCE
from athanor.engine.result import CursorResult, Result
from athanor.ext.asyncio.engine import (
    AsyncConnection,
    AsyncEngine,
    _AsyncOnly,
    _StartableResult,
    _TransactionFace,
)
from athanor.ext.asyncio.result import AsyncResult, AsyncScalarResult
from athanor.orm.eager import check_unique
from athanor.orm.loading import DirectLoad, orm_selection, plan_for
from athanor.orm.session import Session, SessionTransaction, object_session, sessionmaker
from athanor.orm.util import identity_key as _identity_key
from athanor.sql.selectable import Select
from athanor.util.collections import IdentitySet
from athanor.util.concurrency import greenlet_spawn

_T = TypeVar("_T")
_S = TypeVar("_S", bound="AsyncSession")


def _sync_bind(bind: Any) -> Any:
    """The sync engine or connection behind an async one (anything else unchanged)."""
    if isinstance(bind, AsyncEngine):
        return bind.sync_engine
    if isinstance(bind, AsyncConnection):
        return bind._sync()
    return bind


def _buffered_execute(session: Session, statement: Any, params: Any, kw: dict[str, Any]) -> Any:
    """``session.execute`` (``kw``: its keyword arguments) with every row fetched and turned
    into objects inside the bridge."""
    result = session.execute(statement, params, **kw)
    if isinstance(result, CursorResult):
        if result.is_server_side:
            result.close()
            raise exc.InvalidRequestError(
                "AsyncSession.execute() cannot return a server-side (stream_results) result, "
                "because fetching from it needs I/O; use 'await session.stream(...)' instead"
            )
        return result
    if isinstance(result, Result):
        # The same result with its raw rows fetched (and objects loaded) now; rows are made
        # as they are read, outside the bridge.  A joined eager collection asks for unique(),
        # which the caller can only call on the result returned: loading may not refuse for
        # want of it, so reading rows without it refuses instead, as the sync result does.
        source = result._source
        asked = source.uniquing
        source.uniquing = True
        try:
            source.buffer_all()
        finally:
            source.uniquing = asked
        if not asked and isinstance(statement, Select) and plan_for(statement).requires_unique:
            source.pending = _UniqueRequired(source, source.pending)
    return result


class _UniqueRequired:
    """The buffered rows of a result with joined eager collections: reading one before
    ``unique()`` was called raises the error the sync result raises."""

    __slots__ = ("rows", "source")

    def __init__(self, source: Any, rows: Iterator[Any]) -> None:
        self.source = source
        self.rows = rows

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        check_unique(True, self.source.uniquing)
        return next(self.rows)

    def __length_hint__(self) -> int:
        return length_hint(self.rows)


def _direct_load(session: Session, statement: Any, params: Any, kw: Mapping[str, Any]) -> Any:
    """The direct load of an entity select with no options (``Session._direct_select``);
    None for anything else, which takes the general path."""
    if kw or orm_selection(statement) is None:
        return None
    return session._direct_select(statement, params)


async def _run_direct(load: DirectLoad, scalars: bool = False) -> Any:
    """Run an entity select of the direct path awaiting the driver in this task, with no
    bridge; through the bridge only what may need I/O (a driver error's handling, reading
    more rows than are fetched at once).  With ``scalars``: its ``scalars()`` view."""
    select = load.select
    if not select.connection.dialect.is_async:
        return await greenlet_spawn(load.run, scalars)
    try:
        await select.driver_call()
    except select.connection.dialect.dbapi_error as error:
        raise await greenlet_spawn(select.failed, error) from error
    except BaseException as error:
        select.failed(error)  # (a cancellation: the cursor is closed, nothing else to do)
        raise
    if 0 <= select.cursor.rowcount <= _FETCH_AT_ONCE:
        return load.finish(scalars)
    return await greenlet_spawn(_buffered_finish, load, scalars)


def _buffered_finish(load: DirectLoad, scalars: bool) -> Any:
    result = load.finish(scalars)
    result._source.buffer_all()
    return result


class AsyncSessionTransaction(_TransactionFace[SessionTransaction]):
    """``session.begin()`` / ``session.begin_nested()``, used with ``async with`` or awaited."""

    __slots__ = ("session",)

    def __init__(self, session: AsyncSession, nested: bool = False) -> None:
        super().__init__(nested)
        self.session = session

    def _begin(self) -> Callable[[], SessionTransaction]:
        sync = self.session.sync_session
        return sync.begin_nested if self.nested else sync.begin

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await greenlet_spawn(fn, *args)


class AsyncSession(_AsyncOnly):
    """The ORM Session for asyncio code: ``async with AsyncSession(engine) as session``.

    Arguments are those of :class:`~athanor.orm.Session`; ``bind``/``binds`` take async
    engines or connections.  Listen for session events on ``sync_session`` (or on the sync
    Session class, which is also what listening on ``AsyncSession`` itself reaches).
    """

    sync_session_class: type[Session] = Session

    def __init__(
        self,
        bind: Any = None,
        *,
        binds: Mapping[Any, Any] | None = None,
        sync_session_class: type[Session] | None = None,
        **kw: Any,
    ) -> None:
        self.bind = bind
        if sync_session_class is not None:
            self.sync_session_class = sync_session_class
        if binds is not None:
            kw["binds"] = {k: _sync_bind(v) for k, v in binds.items()}
        # No options given, none passed on: a Session made with none is quicker to make.
        self.sync_session: Session = self.sync_session_class(bind=_sync_bind(bind), **kw)
        self.sync_session._async_provider = weakref.ref(self)

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        """Listeners on an AsyncSession (or its class) go to the sync session (or class)."""
        if isinstance(target, type):
            klass: type[AsyncSession] = target
            return klass.sync_session_class
        return target.sync_session

    # --- context management -------------------------------------------------------------------

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # --- transactions -------------------------------------------------------------------------

    def begin(self) -> AsyncSessionTransaction:
        """Begin a transaction: ``async with session.begin():`` commits at the end."""
        return AsyncSessionTransaction(self)

    def begin_nested(self) -> AsyncSessionTransaction:
        """A SAVEPOINT: ``async with session.begin_nested():``."""
        return AsyncSessionTransaction(self, nested=True)

    async def commit(self) -> None:
        """Flush, then commit the transaction."""
        await greenlet_spawn(self.sync_session.commit)

    async def rollback(self) -> None:
        """Roll back the transaction."""
        await greenlet_spawn(self.sync_session.rollback)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        """Write pending changes inside the transaction."""
        await greenlet_spawn(self.sync_session.flush, objects)

    async def close(self) -> None:
        """Roll back, return the connection to the pool and detach every object."""
        await greenlet_spawn(self.sync_session.close)

    async def reset(self) -> None:
        """The same as :meth:`close`."""
        await self.close()

    async def aclose(self) -> None:
        """The same as :meth:`close` (the name ``contextlib.aclosing()`` calls)."""
        await self.close()

    async def invalidate(self) -> None:
        """Discard the connections in use (known to be broken), then close."""
        await greenlet_spawn(self.sync_session.invalidate)

    @classmethod
    async def close_all(cls) -> None:
        """Close every session in memory (as :func:`close_all_sessions`)."""
        await close_all_sessions()

    @classmethod
    def object_session(cls, instance: Any) -> Session | None:
        """The (sync) Session ``instance`` belongs to, or None; see
        :func:`async_object_session` for its AsyncSession."""
        return object_session(instance)

    identity_key = staticmethod(_identity_key)

    def in_transaction(self) -> bool:
        return self.sync_session.in_transaction()

    def in_nested_transaction(self) -> bool:
        return self.sync_session.in_nested_transaction()

    def get_transaction(self) -> SessionTransaction | None:
        return self.sync_session.get_transaction()

    def get_nested_transaction(self) -> SessionTransaction | None:
        return self.sync_session.get_nested_transaction()

    @property
    def is_active(self) -> bool:
        return self.sync_session.is_active

    # --- statements ----------------------------------------------------------------------------

    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
        bind_arguments: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Result[Any]:
        """Run a statement; the result is fully buffered (use :meth:`stream` to stream)."""
        if execution_options is None and bind_arguments is None:
            load = _direct_load(self.sync_session, statement, params, kw)
            if load is not None:
                direct: Result[Any] = await _run_direct(load)
                return direct
        kw["execution_options"] = execution_options
        kw["bind_arguments"] = bind_arguments
        result: Result[Any] = await greenlet_spawn(
            _buffered_execute, self.sync_session, statement, params, kw
        )
        return result

    # scalars() and scalar() go to the bridge themselves: awaiting execute() would cost a
    # coroutine more per statement.
    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """The first column's values (ORM objects for ``select(User)``), buffered."""
        load = _direct_load(self.sync_session, statement, params, kw)
        if load is not None:
            return await _run_direct(load, scalars=True)
        result = await greenlet_spawn(_buffered_execute, self.sync_session, statement, params, kw)
        return result.scalars()

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """The first column of the first row, or None."""
        load = _direct_load(self.sync_session, statement, params, kw)
        if load is not None:
            return (await _run_direct(load)).scalar()
        result = await greenlet_spawn(_buffered_execute, self.sync_session, statement, params, kw)
        return result.scalar()

    def stream(
        self, statement: Any, params: Any = None, **kw: Any
    ) -> _StartableResult[AsyncResult]:
        """Run a statement with a server-side cursor; rows (objects) arrive as iterated."""
        return _StartableResult(self._stream(statement, params, kw), lambda r: r)

    def stream_scalars(
        self, statement: Any, params: Any = None, **kw: Any
    ) -> _StartableResult[AsyncScalarResult]:
        """:meth:`stream`, yielding the first column's values."""
        return _StartableResult(self._stream(statement, params, kw), lambda r: r.scalars())

    async def _stream(self, statement: Any, params: Any, kw: dict[str, Any]) -> AsyncResult:
        options = {**(kw.pop("execution_options", None) or {}), "stream_results": True}
        result = await greenlet_spawn(
            self.sync_session.execute, statement, params, execution_options=options, **kw
        )
        return AsyncResult(result)

    async def connection(
        self, bind_arguments: Mapping[str, Any] | None = None, **kw: Any
    ) -> AsyncConnection:
        """The :class:`AsyncConnection` of this session's transaction (beginning it if needed)."""
        sync_connection = await greenlet_spawn(self.sync_session.connection, bind_arguments, **kw)
        return AsyncConnection(AsyncEngine(sync_connection.engine), sync_connection)

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        """Call ``fn(sync_session, *args, **kw)`` where lazy loads and blocking calls work."""
        return await greenlet_spawn(fn, self.sync_session, *args, **kw)

    # --- objects -------------------------------------------------------------------------------

    def add(self, instance: Any, _warn: bool = True) -> None:
        """Place an object in the session (no I/O: it is INSERTed at the next flush)."""
        self.sync_session.add(instance, _warn)

    def add_all(self, instances: Iterable[Any]) -> None:
        """Add each object of ``instances``."""
        self.sync_session.add_all(instances)

    async def delete(self, instance: Any) -> None:
        """Mark an object for deletion (loading what cascades from it)."""
        await greenlet_spawn(self.sync_session.delete, instance)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """The object with primary key ``ident`` (from the identity map, or loaded), or None."""
        return await greenlet_spawn(self.sync_session.get, entity, ident, **kw)

    async def get_one(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """Like :meth:`get` but raises NoResultFound when there is no such row."""
        return await greenlet_spawn(self.sync_session.get_one, entity, ident, **kw)

    async def merge(self, instance: Any, load: bool = True, options: Any = None) -> Any:
        """Copy the state of ``instance`` onto the session's object of the same identity."""
        return await greenlet_spawn(self.sync_session.merge, instance, load, options)

    async def refresh(
        self,
        instance: Any,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload an object's attributes (or the named ones) from the database now."""
        await greenlet_spawn(self.sync_session.refresh, instance, attribute_names, with_for_update)

    def expire(self, instance: Any, attribute_names: Iterable[str] | None = None) -> None:
        """Mark attributes to load again; in async code, reload them with :meth:`refresh`."""
        self.sync_session.expire(instance, attribute_names)

    def expire_all(self) -> None:
        """Expire every object in the session."""
        self.sync_session.expire_all()

    def expunge(self, instance: Any) -> None:
        """Remove an object from the session."""
        self.sync_session.expunge(instance)

    def expunge_all(self) -> None:
        """Remove every object from the session."""
        self.sync_session.expunge_all()

    def is_modified(self, instance: Any, include_collections: bool = True) -> bool:
        return self.sync_session.is_modified(instance, include_collections)

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        """The sync engine or connection that ``mapper`` (or the session) uses."""
        return self.sync_session.get_bind(mapper, **kw)

    @property
    def info(self) -> dict[Any, Any]:
        """A dict of your own data, shared with ``sync_session.info``."""
        return self.sync_session.info

    @property
    def identity_map(self) -> Any:
        return self.sync_session.identity_map

    @property
    def new(self) -> IdentitySet:
        return self.sync_session.new

    @property
    def dirty(self) -> IdentitySet:
        return self.sync_session.dirty

    @property
    def deleted(self) -> IdentitySet:
        return self.sync_session.deleted

    @property
    def autoflush(self) -> bool:
        return self.sync_session.autoflush

    @autoflush.setter
    def autoflush(self, value: bool) -> None:
        self.sync_session.autoflush = value

    @property
    def no_autoflush(self) -> Any:
        """A block (``with session.no_autoflush:``) in which queries do not flush first."""
        return self.sync_session.no_autoflush

    def __contains__(self, instance: Any) -> bool:
        return instance in self.sync_session

    def __iter__(self) -> Iterator[Any]:
        return iter(self.sync_session)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.sync_session!r}>"


class async_sessionmaker(sessionmaker):  # noqa: N801 - SQLAlchemy's name
    """A factory of configured AsyncSessions (``SessionLocal = async_sessionmaker(engine)``).

    Arguments are those of ``sessionmaker``; ``class_`` is an AsyncSession class.
    """

    def __init__(
        self,
        bind: Any = None,
        *,
        class_: type[AsyncSession] = AsyncSession,
        autoflush: bool = True,
        expire_on_commit: bool = True,
        info: dict[Any, Any] | None = None,
        **kw: Any,
    ) -> None:
        base = kw.pop("sync_session_class", None) or class_.sync_session_class
        super().__init__(
            bind, class_=base, autoflush=autoflush, expire_on_commit=expire_on_commit, info=info
        )
        self.kw.update(kw)
        # sessionmaker made a Session class of this factory's own (so listeners on the factory
        # reach only its sessions); the sessions it makes are AsyncSessions wrapping that class.
        self.sync_session_class: type[Session] = self.class_
        self.class_ = class_

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        return target.sync_session_class if isinstance(target, async_sessionmaker) else Session

    def __call__(self, **local_kw: Any) -> Any:
        local_kw.setdefault("sync_session_class", self.sync_session_class)
        return super().__call__(**local_kw)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Any]:  # type: ignore[override]
        """A new session in a transaction that commits at the end of the block."""
        async with self() as session, session.begin():
            yield session


def async_session(session: Session) -> AsyncSession | None:
    """The AsyncSession whose ``sync_session`` is ``session`` (None for a plain Session, or
    once that AsyncSession is gone)."""
    ref = session._async_provider
    found: AsyncSession | None = None if ref is None else ref()
    return found


def async_object_session(instance: Any) -> AsyncSession | None:
    """The AsyncSession ``instance`` belongs to, or None."""
    session = object_session(instance)
    return None if session is None else async_session(session)


async def close_all_sessions() -> None:
    """Close every session in memory, AsyncSessions included, through the bridge."""
    from athanor.orm.session import close_all_sessions as close_sync_sessions

    await greenlet_spawn(close_sync_sessions)


class _AwaitableAttrs:
    """``obj.awaitable_attrs.name`` is an awaitable giving ``obj.name``, loaded if needed."""

    __slots__ = ("_instance",)

    def __init__(self, instance: Any) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Any:
        return greenlet_spawn(getattr, self._instance, name)


class AsyncAttrs:
    """Mixin for mapped classes: ``await user.awaitable_attrs.posts`` loads lazily in async code."""

    __slots__ = ()

    @property
    def awaitable_attrs(self) -> Any:
        return _AwaitableAttrs(self)
