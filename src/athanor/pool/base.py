"""What every pool shares: the entry per physical connection, the checked-out proxy, and
the :class:`Pool` base with checkout/checkin, reset, recycle, pre-ping, invalidation, leak
detection, events and logging.

A pool subclass only decides where idle entries live: it implements ``_do_get()`` (hand out
an entry, creating one if it may) and ``_do_return_conn(entry)`` (take one back), plus the
occupancy numbers for ``status()`` and ``stats()``.

Locking rule for subclasses: ``self._mutex`` is re-entrant because a garbage collection
may run inside any critical section that allocates a container object (tuple, list,
instance, exception) and finalize a leaked connection, whose return takes the lock again in
the same thread.  Keep the pool's state consistent at such points, or allocate before
taking the lock (QueuePool allocates nothing while holding it).
"""

from __future__ import annotations

import inspect
import logging
import operator
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any, ClassVar, Protocol
from weakref import WeakSet

from athanor import exc
from athanor.event import EventTarget, listen
from athanor.pool import origin as _origin
from athanor.pool.origin import _internal_files, classify_file, leak_warnings_shown, line_of
from athanor.pool.stats import PoolStats
from athanor.util.concurrency import BridgeAwareLock
from athanor.util.log import Echo, EchoLogger

_monotonic = time.monotonic
_getframe = sys._getframe
_new_object = object.__new__

_CHECKOUT_ATTEMPTS = 3
"""How many connections a checkout tries when ``checkout`` listeners report disconnects."""

_SITE_NOT_RECORDED = -1
"""``_origin_lasti`` of a proxy checked out while the warning filters hid leak warnings."""

_leak_warning_registry: dict[Any, Any] = {}
"""``warnings`` registry for leak warnings, so the default filter shows each site once."""


class PoolDialect(Protocol):
    """What a pool needs from a dialect; the engine passes its dialect, which has these."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Roll back the connection's transaction (the default reset on return)."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Commit the connection's transaction (``reset_on_return="commit"``)."""

    def do_discard(self, dbapi_connection: Any) -> None:
        """End the transaction and reset the whole session to a new connection's state
        (``reset_on_return="discard"``)."""

    def do_close(self, dbapi_connection: Any) -> None:
        """Close the physical connection."""

    def do_ping(self, dbapi_connection: Any) -> bool:
        """Tell whether the connection is alive; may raise the driver's error instead."""

    def is_disconnect(self, error: BaseException, dbapi_connection: Any) -> bool:
        """Tell whether ``error`` means the connection is dead."""

    def connection_survives_fork(self, dbapi_connection: Any) -> bool:
        """Tell whether a forked child may go on using this connection (it has a private
        database in process memory, as SQLite's ``:memory:``); asked in the child, only about
        the connections it inherited, so connecting pays nothing for it."""

    def get_driver_connection(self, dbapi_connection: Any) -> Any:
        """The driver's own connection object behind ``dbapi_connection``."""


DRIVER_METHOD_CALLS: set[Callable[..., Any]] = set()
"""Dialect methods ``do_<name>`` that only call the DBAPI connection's ``<name>()``: a pool
resetting with one of them calls that method itself, without the dialect method's frame."""


class DefaultPoolDialect:
    """Calls the DBAPI connection directly; used when a pool is made without a dialect."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Call ``rollback()``."""
        dbapi_connection.rollback()

    def do_commit(self, dbapi_connection: Any) -> None:
        """Call ``commit()``."""
        dbapi_connection.commit()

    def do_discard(self, dbapi_connection: Any) -> None:
        """Unknown without a dialect: a pool made with ``reset_on_return="discard"`` and no
        dialect is refused at construction."""
        raise NotImplementedError

    def do_close(self, dbapi_connection: Any) -> None:
        """Call ``close()``."""
        dbapi_connection.close()

    def do_ping(self, dbapi_connection: Any) -> bool:
        """Run ``SELECT 1`` on a fresh cursor; a dead connection raises."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        return True

    def is_disconnect(self, error: BaseException, dbapi_connection: Any) -> bool:
        """Guess from PEP 249 class names: ``OperationalError``/``InterfaceError`` or an
        error about a closed connection.  Dialects know their driver and answer precisely."""
        names = {klass.__name__ for klass in type(error).__mro__}
        if "OperationalError" in names or "InterfaceError" in names:
            return True
        return "closed" in str(error).lower()

    def get_driver_connection(self, dbapi_connection: Any) -> Any:
        """The DBAPI connection is the driver connection."""
        return dbapi_connection

    def connection_survives_fork(self, dbapi_connection: Any) -> bool:
        """No: a generic connection is taken to be a session on a server."""
        return False


DRIVER_METHOD_CALLS.update((DefaultPoolDialect.do_commit, DefaultPoolDialect.do_rollback))


@dataclass(frozen=True, slots=True)
class PoolResetState:
    """Passed to ``reset`` listeners: why and how the connection is being reset."""

    transaction_was_reset: bool
    """The caller (the engine's Connection) already ended its transaction; the pool still
    resets, which costs nothing when the driver reports no transaction open."""
    terminate_only: bool
    """The connection is about to be closed rather than reused."""
    asyncio_safe: bool
    """Awaiting is possible here (False when reset runs from garbage collection)."""


_RESET_CHOICES: dict[Any, str | None] = {
    "rollback": "rollback",
    True: "rollback",
    "commit": "commit",
    "discard": "discard",
    None: None,
    False: None,
    "none": None,
}


class ConnectionPoolEntry:
    """One physical connection slot of a pool, living across reconnects.

    ``dbapi_connection`` is None after invalidation; the entry reconnects at its next
    checkout.  ``info`` lives as long as the current physical connection, ``record_info`` as
    long as the entry.
    """

    __slots__ = (
        "__weakref__",
        "_generation",
        "_info",
        "_pool",
        "_record_info",
        "_recycle_at",
        "dbapi_connection",
        "fresh",
        "in_use",
        "kept_cursor",
        "spare_proxy",
        "starttime",
    )

    dbapi_connection: Any
    starttime: float
    """``time.monotonic()`` when the current physical connection was made."""
    fresh: bool
    """The physical connection was made after the entry's last checkout (no ping needed)."""
    in_use: bool
    """The entry is checked out."""
    _recycle_at: float | None
    _generation: int
    """The pool's generation when the entry was made; an older one came from a parent process."""
    _info: dict[Any, Any] | None
    _record_info: dict[Any, Any] | None
    kept_cursor: tuple[Any, Any] | None
    """A finished cursor of the current physical connection left for its next checkout,
    with that connection (``(dbapi_connection, cursor)``); the engine's Connection puts it
    here where the dialect allows it, the engine's one-row INSERT committer (whatever the
    dialect) for its next run, and the entry forgets it with the connection."""
    spare_proxy: PoolProxiedConnection | None
    """A closed proxy of this entry that nothing else refers to, handed out again by the
    next checkout instead of a new one (no allocation, no finalizer); the engine's
    Connection leaves it here when it closes, if it holds the only reference."""

    def __init__(self, pool: Pool, connect: bool = True) -> None:
        self._pool = pool
        self.dbapi_connection = None
        self.starttime = 0.0
        self.fresh = False
        self.in_use = False
        self._recycle_at = None
        self._generation = pool._generation
        self._info = None
        self._record_info = None
        self.kept_cursor = None
        self.spare_proxy = None
        if connect:
            self._connect()

    def __repr__(self) -> str:
        return f"<ConnectionPoolEntry {self.dbapi_connection!r}>"

    @property
    def driver_connection(self) -> Any:
        """The driver's own connection object (differs from the DBAPI one for async drivers)."""
        conn = self.dbapi_connection
        return None if conn is None else self._pool._dialect.get_driver_connection(conn)

    @property
    def info(self) -> dict[Any, Any]:
        """User data tied to the current physical connection; emptied when it is replaced."""
        info = self._info
        if info is None:
            info = self._info = {}
        return info

    @property
    def record_info(self) -> dict[Any, Any]:
        """User data tied to this entry; survives reconnects."""
        info = self._record_info
        if info is None:
            info = self._record_info = {}
        return info

    def invalidate(self, e: BaseException | None = None, soft: bool = False) -> None:
        """Discard the physical connection (closing it), or with ``soft=True`` mark it to be
        replaced at its next checkout while the current user carries on."""
        conn = self.dbapi_connection
        if conn is None:
            return
        pool = self._pool
        if soft:
            if pool.dispatch.soft_invalidate:
                for fn in pool.dispatch.soft_invalidate:
                    fn(conn, self, e)
            self._recycle_at = 0.0
        else:
            if pool.dispatch.invalidate:
                for fn in pool.dispatch.invalidate:
                    fn(conn, self, e)
            self.dbapi_connection = None
            self._close(conn)
        pool._count("_invalidations")
        if pool._log_info:
            pool._logger.info(
                "%s connection %r (reason: %s)",
                "Soft invalidate" if soft else "Invalidate",
                conn,
                "none given" if e is None else f"{type(e).__name__}: {e}",
            )

    def close(self) -> None:
        """Close the physical connection now; the entry reconnects if used again."""
        conn = self.dbapi_connection
        if conn is not None:
            self.dbapi_connection = None
            self._close(conn)

    def _connect(self) -> Any:
        pool = self._pool
        conn = pool._invoke_creator(self)
        self.starttime = now = _monotonic()
        recycle = pool._recycle
        self._recycle_at = now + recycle if recycle > -1 else None
        self.fresh = True
        self._info = None
        self.kept_cursor = None
        self.dbapi_connection = conn
        try:
            pool._on_connect(conn, self)
        except BaseException:
            self.dbapi_connection = None
            pool._close_quietly(conn)
            raise
        return conn

    def _reconnect(self) -> Any:
        conn = self.dbapi_connection
        if conn is not None:
            self.dbapi_connection = None
            self._close(conn)
        return self._connect()

    def _close(self, conn: Any) -> None:
        pool = self._pool
        self._info = None
        self.kept_cursor = None
        if pool._log_info:
            pool._logger.info("Closing connection %r", conn)
        try:
            if pool.dispatch.close:
                for fn in pool.dispatch.close:
                    fn(conn, self)
        finally:
            pool._close_quietly(conn)


class PoolProxiedConnection:
    """A checked-out connection: the DBAPI connection plus the way back to its pool.

    ``close()`` resets the connection and returns it; one that is garbage-collected without
    ``close()`` is returned too, with a :class:`~athanor.exc.ConnectionLeakWarning` naming the
    line that checked it out.  Unknown attributes are looked up on the DBAPI connection.
    Only a pool makes these (in ``Pool._checkout``).
    """

    __slots__ = (
        "_connection_record",
        "_detached_info",
        "_origin_code",
        "_origin_lasti",
        "_pool",
        "dbapi_connection",
    )

    dbapi_connection: Any
    _connection_record: ConnectionPoolEntry | None
    _pool: Pool
    _detached_info: dict[Any, Any] | None
    _origin_code: CodeType | None
    _origin_lasti: int

    def __repr__(self) -> str:
        return f"<PoolProxiedConnection {self.dbapi_connection!r}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "dbapi_connection":
            raise AttributeError(name)
        return getattr(self.dbapi_connection, name)

    def __enter__(self) -> PoolProxiedConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self._connection_record is not None:
            self._pool._return_leaked(self)

    @property
    def driver_connection(self) -> Any:
        """The driver's own connection object (differs from the DBAPI one for async drivers)."""
        conn = self.dbapi_connection
        return None if conn is None else self._pool._dialect.get_driver_connection(conn)

    @property
    def info(self) -> dict[Any, Any]:
        """User data living as long as the physical connection (a private copy once detached,
        an empty throwaway dict once closed)."""
        entry = self._connection_record
        if entry is not None:
            return entry.info
        if self._detached_info is not None:
            return self._detached_info
        return {}

    @property
    def record_info(self) -> dict[Any, Any] | None:
        """User data of the pool entry (survives reconnects); None once detached or closed."""
        entry = self._connection_record
        return None if entry is None else entry.record_info

    @property
    def is_valid(self) -> bool:
        """The proxy still holds a usable connection (not closed, not invalidated)."""
        return self.dbapi_connection is not None

    @property
    def is_detached(self) -> bool:
        """``detach()`` was called: the connection no longer belongs to the pool."""
        return self._detached_info is not None

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        """A new DBAPI cursor."""
        try:
            return self.dbapi_connection.cursor(*args, **kwargs)
        except AttributeError:
            if self.dbapi_connection is None:
                raise exc.InvalidRequestError("This connection is closed") from None
            raise

    def close(self) -> None:
        """Reset the connection and return it to the pool (close it, if detached)."""
        entry = self._connection_record
        if entry is None:
            self._checkin(False)
            return
        # the common case of _checkin, inlined: this is the checkin hot path
        self._connection_record = None
        self._pool._checkin(entry, self.dbapi_connection, False)
        self.dbapi_connection = None

    def _checkin(self, transaction_was_reset: bool) -> None:
        """Return to the pool; ``transaction_was_reset=True`` says the engine already ended
        its transaction (``reset`` listeners see it; the reset itself still runs)."""
        entry = self._connection_record
        if entry is not None:
            self._connection_record = None
            self._pool._checkin(entry, self.dbapi_connection, transaction_was_reset)
            self.dbapi_connection = None
        elif self._detached_info is not None and self.dbapi_connection is not None:
            conn = self.dbapi_connection
            self.dbapi_connection = None
            self._pool._close_detached(conn, transaction_was_reset)

    def invalidate(self, e: BaseException | None = None, soft: bool = False) -> None:
        """Discard the physical connection and return the entry, which reconnects on its next
        checkout; ``soft=True`` keeps using it and replaces it after it is returned."""
        conn = self.dbapi_connection
        if conn is None:
            raise exc.InvalidRequestError("This connection is closed")
        entry = self._connection_record
        if soft:
            if entry is not None:
                entry.invalidate(e, soft=True)
            return
        self.dbapi_connection = None
        if entry is None:
            self._pool._close_quietly(conn)
            return
        entry.invalidate(e)
        self._connection_record = None
        self._pool._checkin(entry, None, True)

    def detach(self) -> None:
        """Take the physical connection out of the pool: the pool forgets it (its entry will
        open a new one) and ``close()`` will really close it."""
        entry = self._connection_record
        if entry is None:
            return
        conn = self.dbapi_connection
        self._detached_info = dict(entry._info) if entry._info else {}
        self._connection_record = None
        entry.dbapi_connection = None
        entry._info = None
        entry.kept_cursor = None
        pool = self._pool
        if pool.dispatch.detach:
            for fn in pool.dispatch.detach:
                fn(conn, entry)
        pool._give_back(entry)


_live_pools: WeakSet[Pool] = WeakSet()
"""Every pool of this process, for :func:`_after_fork_in_child`."""


def _after_fork_in_child() -> None:
    for pool in list(_live_pools):
        pool._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _forget(entry: ConnectionPoolEntry) -> None:
    """Drop an entry's connection inherited through fork() without a word to the server.

    The driver may still say goodbye when the object is freed (libpq sends Terminate), so its
    socket, where it exposes one through ``fileno()``, is pointed at /dev/null in this process
    first; the parent's copy of the socket is untouched.
    """
    conn = entry.dbapi_connection
    entry.dbapi_connection = None
    entry._info = None
    entry.kept_cursor = None
    fileno = getattr(conn, "fileno", None)
    if fileno is None:
        return
    try:
        fd = fileno()
    except Exception:
        return
    if not isinstance(fd, int) or fd < 0:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _creator_takes_entry(creator: Callable[..., Any]) -> bool:
    """Whether ``creator`` wants the ConnectionPoolEntry: one required positional parameter,
    or a single optional one named ``connection_record``."""
    try:
        parameters = list(inspect.signature(creator).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if len(required) == 1:
        return True
    return not required and len(positional) == 1 and positional[0].name == "connection_record"


class Pool(EventTarget):
    """Base of all pools: checkout (:meth:`connect`), checkin, reset on return, recycle,
    pre-ping, invalidation, leak detection, events and logging.

    ``creator`` makes a DBAPI connection; it is called with no arguments, or with the
    :class:`ConnectionPoolEntry` if it takes one required positional argument.

    ``reset_on_return`` says what a returned connection gets: ``"rollback"`` (the default),
    ``"commit"``, None (nothing), or ``"discard"``, the dialect's full session reset for
    applications that share pooled connections (PostgreSQL ``DISCARD ALL``, MySQL
    ``COM_RESET_CONNECTION``, SQLite: its temporary tables, views and triggers dropped),
    which costs a few round trips per checkin.
    """

    _event_signatures: ClassVar[dict[str, tuple[str, ...]]] = {
        "connect": ("dbapi_connection", "connection_record"),
        "first_connect": ("dbapi_connection", "connection_record"),
        "checkout": ("dbapi_connection", "connection_record", "connection_proxy"),
        "checkin": ("dbapi_connection", "connection_record"),
        "reset": ("dbapi_connection", "connection_record", "reset_state"),
        "invalidate": ("dbapi_connection", "connection_record", "exception"),
        "soft_invalidate": ("dbapi_connection", "connection_record", "exception"),
        "close": ("dbapi_connection", "connection_record"),
        "detach": ("dbapi_connection", "connection_record"),
        "close_detached": ("dbapi_connection",),
    }
    _uncached_events: ClassVar[frozenset[str]] = frozenset(
        (
            "connect",
            "first_connect",
            "invalidate",
            "soft_invalidate",
            "close",
            "detach",
            "close_detached",
        )
    )
    """Fired by the slow paths (connecting, invalidating, closing), which look their
    listeners up each time; what the checkout fast paths skip depends on the others."""

    _proxy_class: ClassVar[type[PoolProxiedConnection]] = PoolProxiedConnection
    exclusive_checkouts: ClassVar[bool] = True
    """A checked-out connection has one user until it is returned (not so for StaticPool)."""

    _reset_fn: Callable[[Any], None] | None
    _invoke_creator: Callable[[ConnectionPoolEntry], Any]
    _logger: EchoLogger
    _log_info: bool
    _log_debug: bool

    def __init__(
        self,
        creator: Callable[..., Any],
        *,
        recycle: float = -1,
        echo: Echo = False,
        logging_name: str | None = None,
        reset_on_return: bool | str | None = "rollback",
        events: Sequence[tuple[Callable[..., Any], str]] | None = None,
        dialect: PoolDialect | None = None,
        pre_ping: bool = False,
    ) -> None:
        if reset_on_return not in _RESET_CHOICES:
            raise exc.ArgumentError(
                f"Invalid value for 'reset_on_return': {reset_on_return!r}; "
                "use 'rollback', 'commit', 'discard' or None"
            )
        self._init_dispatch()
        self._mutex = threading.RLock()
        self._first_connect_lock = BridgeAwareLock()
        self._pid = os.getpid()
        self._generation = 0
        _live_pools.add(self)
        self._first_connect_done = False
        self._reset_on_return = _RESET_CHOICES[reset_on_return]
        self._recycle = recycle
        self._pre_ping = pre_ping
        self._invalidate_time = 0.0
        self.logging_name = logging_name
        self._checkouts = 0
        self._checked_out = 0
        self._waits = 0
        self._wait_time = 0.0
        self._max_wait = 0.0
        self._timeouts = 0
        self._invalidations = 0
        self._connects = 0
        self._creator = creator
        self._dialect = dialect if dialect is not None else DefaultPoolDialect()
        self.echo = echo
        for fn, identifier in events or ():
            listen(self, identifier, fn)

    # -- configuration --------------------------------------------------------------------

    @property
    def _creator(self) -> Callable[..., Any]:
        return self._original_creator

    @_creator.setter
    def _creator(self, creator: Callable[..., Any]) -> None:
        self._original_creator = creator
        if _creator_takes_entry(creator):
            self._invoke_creator = creator
        else:
            self._invoke_creator = lambda entry: creator()

    @property
    def _dialect(self) -> PoolDialect:
        return self._pool_dialect

    @_dialect.setter
    def _dialect(self, dialect: PoolDialect) -> None:
        self._pool_dialect = dialect
        action = self._reset_on_return
        if action is None:
            self._reset_fn = None
        elif action == "discard" and type(dialect).do_discard is DefaultPoolDialect.do_discard:
            raise exc.ArgumentError(
                "reset_on_return='discard' resets the session the database's own way, so the "
                "pool needs the dialect: use create_engine(url, pool_reset_on_return='discard'), "
                "or pass dialect=engine.dialect to the pool"
            )
        elif getattr(type(dialect), f"do_{action}", None) in DRIVER_METHOD_CALLS:
            # the default just calls the DBAPI method: call it without a Python frame
            self._reset_fn = operator.methodcaller(action)
        else:
            self._reset_fn = getattr(dialect, f"do_{action}")

    @property
    def echo(self) -> Echo:
        """``True`` logs this pool's connects, invalidations, closes and disposal at INFO;
        ``"debug"`` also checkouts, checkins and resets at DEBUG.  Other pools are not affected.
        Whether to log is decided when this is set (at construction): configure the
        ``athanor.pool`` logger first, or set ``echo`` again afterwards."""
        return self._logger.echo

    @echo.setter
    def echo(self, value: Echo) -> None:
        name = f"athanor.pool.impl.{type(self).__name__}"
        if self.logging_name:
            name += f".{self.logging_name}"
        logger = EchoLogger(name, value)
        self._logger = logger
        self._log_info = logger.isEnabledFor(logging.INFO)
        self._log_debug = logger.isEnabledFor(logging.DEBUG)

    def _constructor_args(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this pool (used by :meth:`recreate`)."""
        return {
            "recycle": self._recycle,
            "echo": self.echo,
            "logging_name": self.logging_name,
            "reset_on_return": self._reset_on_return,
            "dialect": self._dialect,
            "pre_ping": self._pre_ping,
        }

    def recreate(self) -> Pool:
        """A new, empty pool of the same class and arguments, with the same listeners."""
        if self._log_info:
            self._logger.info("Pool recreating")
        new = type(self)(self._creator, **self._constructor_args())
        new.dispatch._instance = {
            name: list(entries) for name, entries in self.dispatch._instance.items()
        }
        new.dispatch._refresh(type(new))
        return new

    # -- what subclasses provide -------------------------------------------------------------

    def _do_get(self) -> ConnectionPoolEntry:
        raise NotImplementedError

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        raise NotImplementedError

    def dispose(self) -> None:
        """Close the idle connections; checked-out ones are unaffected."""
        raise NotImplementedError

    def status(self) -> str:
        """A one-line description of the pool's state."""
        raise NotImplementedError

    def _occupancy(self) -> tuple[int, int, int, int]:
        """(size, checked out, idle, overflow) read consistently."""
        raise NotImplementedError

    def checkedout(self) -> int:
        """How many connections are checked out now."""
        return self._occupancy()[1]

    def stats(self) -> PoolStats:
        """Occupancy and counters as a :class:`PoolStats`."""
        size, checked_out, idle, overflow = self._occupancy()
        return PoolStats(
            size=size,
            checked_out=checked_out,
            idle=idle,
            overflow=overflow,
            total_checkouts=self._checkouts,
            waits=self._waits,
            total_wait_time=self._wait_time,
            max_wait=self._max_wait,
            timeouts=self._timeouts,
            invalidations=self._invalidations,
            connects=self._connects,
        )

    # -- checkout ------------------------------------------------------------------------------

    def connect(self) -> PoolProxiedConnection:
        """Check out a connection, replacing it first if it is stale (recycle, invalidation)
        or, with ``pre_ping``, dead."""
        return self._checkout(self._do_get())

    def _checkout(self, entry: ConnectionPoolEntry) -> PoolProxiedConnection:
        conn = entry.dbapi_connection
        recycle_at = entry._recycle_at
        if (
            conn is None
            or entry.starttime < self._invalidate_time
            or (recycle_at is not None and recycle_at < _monotonic())
        ):
            conn = self._replace_connection(entry)
        if self._pre_ping:
            if entry.fresh:
                entry.fresh = False
            else:
                conn = self._ping(entry, conn)
        entry.in_use = True
        # The checkout site, for leak warnings: the first frame outside athanor, looked for
        # only when a leak warning could be shown.
        frame: FrameType | None = None
        # leak_warnings_shown()'s answer while the filters are the ones it last looked at,
        # without its call (this is the checkout hot path).
        filters, default, recorded = _origin._filters_seen
        if warnings.filters != filters or warnings.defaultaction != default:  # type: ignore[attr-defined]
            recorded = leak_warnings_shown()
        if recorded:
            try:
                frame = _getframe(2)
            except ValueError:  # called with no Python caller (e.g. as a greenlet's run)
                frame = None
            while frame is not None:
                filename = frame.f_code.co_filename
                internal = _internal_files.get(filename)
                if internal is None:
                    internal = classify_file(filename)
                if not internal:
                    break
                frame = frame.f_back
        # The proxy's slots are set here, without an __init__: calling the class would go
        # through the C type call into __init__, which costs more on every checkout.
        proxy = entry.spare_proxy
        if proxy is None:
            proxy = _new_object(self._proxy_class)
        else:
            entry.spare_proxy = None
        proxy.dbapi_connection = conn
        proxy._connection_record = entry
        proxy._pool = self
        proxy._detached_info = None
        if frame is None:
            proxy._origin_code = None
            proxy._origin_lasti = 0 if recorded else _SITE_NOT_RECORDED
        else:
            proxy._origin_code = frame.f_code
            proxy._origin_lasti = frame.f_lasti
        if self.dispatch.checkout:
            self._fire_checkout(proxy, entry)
        if self._log_debug:
            self._logger.debug("Connection %r checked out from pool", proxy.dbapi_connection)
        return proxy

    def _take_idle(self) -> ConnectionPoolEntry | None:
        """Check out an idle entry, its connection replaced first when stale, for a caller
        that uses the connection itself, without a proxy, and gives it back with
        :meth:`_checkin_entry` before returning to its own caller (so it cannot leak); None
        when there is none, or the pool is of another kind.  The caller has made sure that
        nothing needs what only :meth:`connect` does (pre-ping, checkout/checkin/reset
        listeners, debug logging), and keeps it so: see ``Engine._insert_committer``."""
        return None

    def _checkin_entry(self, entry: ConnectionPoolEntry, transaction_was_reset: bool) -> None:
        """Return a checked-out entry whose proxy, if it had one, has let it go (an entry of
        :meth:`_take_idle`, or the engine's Connection closing): :meth:`_checkin` with
        its connection, which a pool may do more directly when nothing listens."""
        self._checkin(entry, entry.dbapi_connection, transaction_was_reset)

    def _adopt(self, entry: ConnectionPoolEntry) -> PoolProxiedConnection:
        """A proxy for an entry of :meth:`_take_idle`, which becomes an ordinary checkout
        (for a caller that hands the connection on after all, e.g. after a failure)."""
        proxy = _new_object(self._proxy_class)
        proxy.dbapi_connection = entry.dbapi_connection
        proxy._connection_record = entry
        proxy._pool = self
        proxy._detached_info = None
        proxy._origin_code = None
        proxy._origin_lasti = 0
        return proxy

    def _replace_connection(self, entry: ConnectionPoolEntry) -> Any:
        if self._log_info and entry.dbapi_connection is not None:
            if entry.starttime < self._invalidate_time:
                reason = "the pool was invalidated"
            elif entry._recycle_at == 0.0:
                reason = "it was soft-invalidated"
            else:
                reason = f"it is older than pool recycle ({self._recycle}s)"
            self._logger.info(
                "Connection %r replaced at checkout because %s", entry.dbapi_connection, reason
            )
        try:
            return entry._reconnect()
        except BaseException:
            self._give_back(entry)
            raise

    def _ping(self, entry: ConnectionPoolEntry, conn: Any) -> Any:
        dialect = self._dialect
        if self._log_debug:
            self._logger.debug("Pool pre-ping on connection %r", conn)
        failure: BaseException | None = None
        try:
            if dialect.do_ping(conn):
                return conn
        except Exception as error:
            if not dialect.is_disconnect(error, conn):
                self._give_back(entry)
                raise
            failure = error
        if self._log_info:
            self._logger.info(
                "Pool pre-ping on connection %r failed; replacing it and every older connection",
                conn,
            )
        self._invalidate_time = _monotonic()
        entry.invalidate(failure)
        conn = self._replace_connection(entry)
        entry.fresh = False
        return conn

    def _fire_checkout(self, proxy: PoolProxiedConnection, entry: ConnectionPoolEntry) -> None:
        """Run ``checkout`` listeners; one raising DisconnectionError gets the connection
        replaced and the listeners run again, up to ``_CHECKOUT_ATTEMPTS`` connections."""
        attempt = 1
        while True:
            try:
                for fn in self.dispatch.checkout:
                    fn(proxy.dbapi_connection, entry, proxy)
                return
            except exc.DisconnectionError as error:
                if isinstance(error, exc.InvalidatePoolError):
                    self._invalidate_time = _monotonic()
                if self._log_info:
                    self._logger.info("Disconnection detected on checkout: %s", error)
                entry.invalidate(error)
                if attempt == _CHECKOUT_ATTEMPTS:
                    proxy._connection_record = None
                    proxy.dbapi_connection = None
                    self._give_back(entry)
                    raise
            except BaseException:
                proxy.close()
                raise
            attempt += 1
            try:
                proxy.dbapi_connection = entry._connect()
            except BaseException:
                proxy._connection_record = None
                proxy.dbapi_connection = None
                self._give_back(entry)
                raise

    # -- checkin -------------------------------------------------------------------------------

    def _checkin(
        self,
        entry: ConnectionPoolEntry,
        conn: Any,
        transaction_was_reset: bool,
        asyncio_safe: bool = True,
    ) -> None:
        """Reset ``conn``, fire ``reset`` and ``checkin``, and give ``entry`` back to the pool
        whatever happens."""
        if entry._generation != self._generation:
            # checked out before this process was forked: the parent's, leave it alone
            entry.in_use = False
            _forget(entry)
            return
        dispatch = self.dispatch
        try:
            if conn is not None:
                try:
                    if dispatch.reset:
                        state = PoolResetState(transaction_was_reset, False, asyncio_safe)
                        for fn in dispatch.reset:
                            fn(conn, entry, state)
                    # Even when the caller says it ended the transaction, reset: the driver
                    # may have begun another since (psycopg after get_isolation_level()).
                    # Dialects skip the round trip when the driver proves nothing is open.
                    reset = self._reset_fn
                    if reset is not None:
                        if self._log_debug:
                            self._logger.debug(
                                "Connection %r %s-on-return", conn, self._reset_on_return
                            )
                        reset(conn)
                except Exception as error:
                    self._reset_failed(entry, conn, error)
                    conn = None
            if dispatch.checkin:
                for fn in dispatch.checkin:
                    fn(conn, entry)
            if self._log_debug:
                self._logger.debug("Connection %r being returned to pool", conn)
        finally:
            entry.in_use = False
            self._do_return_conn(entry)

    def _reset_failed(self, entry: ConnectionPoolEntry, conn: Any, error: Exception) -> None:
        """The reset on return of ``conn`` raised ``error``: log it and discard the connection."""
        self._logger.error("Exception during reset of connection %r", conn, exc_info=True)
        entry.invalidate(error)

    def _after_fork(self) -> None:
        """In a child process: drop the connections inherited from the parent without closing
        them (closing would end the parent's sessions), so the child opens its own."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        # Other threads of the parent may have held these; they do not exist here.
        self._mutex = threading.RLock()
        self._first_connect_lock = BridgeAwareLock()
        self._generation += 1
        self._checked_out = 0
        self._drop_inherited()

    def _drop_inherited(self) -> None:
        """Take the entries inherited from the parent out of the pool's bookkeeping, except
        those :meth:`_keep_inherited` keeps; checked-out ones are forgotten when returned."""

    def _keep_inherited(self, entry: ConnectionPoolEntry) -> bool:
        """After a fork: adopt ``entry`` if its connection survives forking, else forget it."""
        conn = entry.dbapi_connection
        if conn is not None and self._dialect.connection_survives_fork(conn):
            entry._generation = self._generation
            return True
        _forget(entry)
        return False

    def _give_back(self, entry: ConnectionPoolEntry) -> None:
        """Return an entry without reset or events (a checkout that did not complete)."""
        entry.in_use = False
        self._do_return_conn(entry)

    def _return_leaked(self, proxy: PoolProxiedConnection) -> None:
        """Return a proxy's connection found by the garbage collector, and warn where the
        proxy was checked out (the warning is attributed to that line)."""
        entry = proxy._connection_record
        conn = proxy.dbapi_connection
        if entry is None:
            return
        proxy._connection_record = None
        proxy.dbapi_connection = None
        code = proxy._origin_code
        try:
            self._checkin(entry, conn, False, asyncio_safe=False)
        finally:
            if code is None:
                if proxy._origin_lasti == _SITE_NOT_RECORDED:
                    message = (
                        "A pooled connection (checked out while ConnectionLeakWarning was "
                        "filtered out, so its checkout site was not recorded)"
                    )
                else:
                    message = "A pooled connection checked out at an unknown location"
                filename, lineno = "<unknown>", 0
            else:
                filename, lineno = code.co_filename, line_of(code, proxy._origin_lasti)
                message = (
                    f"The pooled connection checked out at {filename}:{lineno} in {code.co_name}()"
                )
            warnings.warn_explicit(
                f"{message} was garbage-collected without being closed; it has been reset "
                "and returned to the pool. Close connections explicitly or use a with-block.",
                exc.ConnectionLeakWarning,
                filename,
                lineno,
                registry=_leak_warning_registry,
            )

    def _close_detached(self, conn: Any, transaction_was_reset: bool) -> None:
        try:
            if self.dispatch.reset:
                state = PoolResetState(transaction_was_reset, True, True)
                for fn in self.dispatch.reset:
                    fn(conn, None, state)
            if self.dispatch.close_detached:
                for fn in self.dispatch.close_detached:
                    fn(conn)
        finally:
            if self._log_info:
                self._logger.info("Closing detached connection %r", conn)
            self._close_quietly(conn)

    # -- connections ---------------------------------------------------------------------------

    def _on_connect(self, conn: Any, entry: ConnectionPoolEntry) -> None:
        """A physical connection was made: count, log, fire ``first_connect`` and ``connect``."""
        self._count("_connects")
        if self._log_info:
            self._logger.info("Created new connection %r", conn)
        if not self._first_connect_done:
            with self._first_connect_lock:
                if not self._first_connect_done:
                    for fn in self.dispatch.first_connect:
                        fn(conn, entry)
                    self._first_connect_done = True
        if self.dispatch.connect:
            for fn in self.dispatch.connect:
                fn(conn, entry)

    def _close_quietly(self, conn: Any) -> None:
        """Close a physical connection, logging (not raising) what the driver complains about."""
        try:
            self._dialect.do_close(conn)
        except Exception:
            self._logger.error("Exception closing connection %r", conn, exc_info=True)

    def _count(self, counter: str) -> None:
        """Add one to a slow-path counter attribute under the pool lock."""
        with self._mutex:
            setattr(self, counter, getattr(self, counter) + 1)

    # -- invalidation ------------------------------------------------------------------------

    def _invalidate(
        self,
        connection: PoolProxiedConnection,
        exception: BaseException | None = None,
        _checkin: bool = True,
    ) -> None:
        """After a disconnect on ``connection``: invalidate it and mark every connection made
        before now as stale, so each is replaced at its next checkout."""
        entry = getattr(connection, "_connection_record", None)
        if entry is None or self._invalidate_time < entry.starttime:
            self._invalidate_time = _monotonic()
        if _checkin and connection.is_valid:
            connection.invalidate(exception)
