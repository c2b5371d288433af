"""QueuePool: a bounded pool with overflow and first-come, first-served waiting.

Idle entries sit in a deque.  A checkout that finds none either opens an overflow
connection (while ``max_overflow`` allows) or joins a line of waiters.  A connection that
comes back while checkouts wait is handed straight to the first of them once that one has
waited :data:`RETAKE_WINDOW`; before that it goes back among the idle ones, where the thread
that returned it usually takes it again at once (no thread switch per checkout), and a
waiter reaching the window takes an idle connection itself.  So nobody waits longer than the
window plus the hand-offs ahead of it.  A connection slot that frees up (a failed connect)
is handed to the first waiter at once.  A waiter that gives up (timeout, interruption,
cancellation) leaves the line, or passes on what it was handed in the meantime.

The fast path is one lock acquire/release per checkout and per checkin.  Only
``pool_size`` connections are kept idle: an overflow connection is closed when it returns.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from athanor import exc
from athanor.pool.base import ConnectionPoolEntry, Pool, PoolProxiedConnection

_perf_counter = time.perf_counter
_monotonic = time.monotonic

RETAKE_WINDOW = 0.002
"""Seconds the first waiting checkout may be overtaken: while it has waited less, returned
connections stay available to anyone.  Saturated, strict first-come hand-off costs a thread
switch per checkout and makes every checkout wait; this window lets most checkouts proceed
at once and still bounds every wait (see BENCHMARKS.md, "Pool fairness")."""


class Waiter(Protocol):
    """One checkout waiting in QueuePool's line (a new object for every wait).

    The pool sets ``since`` (``time.perf_counter()`` when it joined the line), ``handed``
    and ``value`` (the entry handed over, or None for a free connection slot the waiter is
    to fill) and then calls ``wake()``; ``wait(timeout)`` returns True once woken, False
    when ``timeout`` seconds passed first, and may be called again after False.
    ``wake()`` may come from any thread, is called with the pool lock held and must not
    block.
    """

    value: ConnectionPoolEntry | None
    handed: bool
    since: float

    def wait(self, timeout: float) -> bool:
        """Block until woken (True) or ``timeout`` seconds have passed (False)."""

    def wake(self) -> None:
        """Release the waiting checkout; called at most once."""


class ThreadWaiter:
    """A waiting thread, parked on a lock of its own until the pool releases it."""

    __slots__ = ("_lock", "handed", "since", "value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.value: ConnectionPoolEntry | None = None
        self.handed = False
        self.since = 0.0

    def wait(self, timeout: float) -> bool:
        """Block on the private lock."""
        return self._lock.acquire(True, timeout)

    def wake(self) -> None:
        """Release the private lock."""
        self._lock.release()


class QueuePool(Pool):
    """Keeps up to ``pool_size`` connections, opens up to ``max_overflow`` more under load
    (-1: no limit), and makes further checkouts wait up to ``timeout`` seconds, served in
    arrival order (see the module docstring), before raising :class:`~athanor.exc.TimeoutError`.
    ``pool_size=0`` means no limit at all.  ``use_lifo=True`` reuses the most recently
    returned connection first (lets idle ones time out server-side); the default reuses
    the oldest.

    ``_waiter_class`` is the hook for other concurrency models: a factory of
    :class:`Waiter` objects (the asyncio pool supplies one whose ``wait`` awaits).
    """

    _waiter_class: ClassVar[type[Waiter]] = ThreadWaiter

    def __init__(
        self,
        creator: Callable[..., Any],
        pool_size: int = 5,
        max_overflow: int = 10,
        timeout: float = 30.0,
        use_lifo: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(creator, **kw)
        self._pool_size = pool_size
        self._max_overflow = max_overflow
        self._timeout = timeout
        self._use_lifo = use_lifo
        unlimited = pool_size <= 0
        self._overflow = 0 - pool_size
        self._overflow_limit = sys.maxsize if unlimited or max_overflow == -1 else max_overflow
        self._idle_limit = sys.maxsize if unlimited else pool_size
        self._idle: deque[ConnectionPoolEntry] = deque()
        self._take = self._idle.pop if use_lifo else self._idle.popleft
        self._waiters: deque[Waiter] = deque()

    def _constructor_args(self) -> dict[str, Any]:
        args = super()._constructor_args()
        args.update(
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            timeout=self._timeout,
            use_lifo=self._use_lifo,
        )
        return args

    # -- getting an entry ------------------------------------------------------------------

    def connect(self) -> PoolProxiedConnection:
        """Check out a connection: an idle one, else a new one within ``pool_size +
        max_overflow``, else the first one returned, waiting up to ``timeout`` seconds."""
        mutex = self._mutex
        mutex.acquire()
        if self._idle:
            entry = self._take()
            self._checkouts += 1
            mutex.release()
        else:
            mutex.release()
            entry = self._do_get()
        return self._checkout(entry)

    def _take_idle(self) -> ConnectionPoolEntry | None:
        mutex = self._mutex
        mutex.acquire()
        if not self._idle:
            mutex.release()
            return None
        entry = self._take()
        self._checkouts += 1
        mutex.release()
        recycle_at = entry._recycle_at
        if (
            entry.dbapi_connection is None
            or entry.starttime < self._invalidate_time
            or (recycle_at is not None and recycle_at < _monotonic())
        ):
            self._replace_connection(entry)
        entry.in_use = True
        return entry

    def _checkin_entry(self, entry: ConnectionPoolEntry, transaction_was_reset: bool) -> None:
        dispatch = self.dispatch
        if (
            self._log_debug
            or dispatch.reset
            or dispatch.checkin
            or entry._generation != self._generation
        ):
            super()._checkin_entry(entry, transaction_was_reset)  # listeners and all
            return
        # What Pool._checkin and _do_return_conn do when nothing listens, nothing is logged
        # and no checkout waits: one frame for the whole checkin.
        conn = entry.dbapi_connection
        reset = self._reset_fn
        try:
            if reset is not None and conn is not None:
                reset(conn)
        except Exception as error:
            self._reset_failed(entry, conn, error)
        finally:
            entry.in_use = False
            mutex = self._mutex
            mutex.acquire()
            if self._waiters or len(self._idle) >= self._idle_limit:
                mutex.release()
                self._do_return_conn(entry)
            else:
                self._idle.append(entry)
                mutex.release()

    def _do_get(self) -> ConnectionPoolEntry:
        """The slow path of :meth:`connect`: open a connection or wait in line."""
        waiter = self._waiter_class()  # allocated outside the lock (see Pool's docstring)
        mutex = self._mutex
        mutex.acquire()
        if not self._waiters:
            if self._idle:
                entry = self._take()
                self._checkouts += 1
                mutex.release()
                return entry
            if self._overflow < self._overflow_limit:
                self._overflow += 1
                self._checkouts += 1
                mutex.release()
                return self._connect_in_slot()
        started = waiter.since = _perf_counter()
        self._waiters.append(waiter)
        self._waits += 1
        mutex.release()
        timeout = self._timeout
        claimed = None
        try:
            woken = waiter.wait(min(timeout, RETAKE_WINDOW))
            if not woken and timeout > RETAKE_WINDOW:
                claimed = self._claim_idle(waiter)
                if claimed is None:
                    woken = waiter.wait(timeout - RETAKE_WINDOW)
        except BaseException:
            self._abandon(waiter)
            raise
        mutex.acquire()
        waited = _perf_counter() - started
        self._wait_time += waited
        if waited > self._max_wait:  # noqa: PLR1730 - max() would allocate under the lock
            self._max_wait = waited
        if claimed is None and not (woken or waiter.handed):
            self._waiters.remove(waiter)
            self._timeouts += 1
            checked_out = self._pool_size - len(self._idle) + self._overflow
            mutex.release()
            raise self._timeout_error(checked_out)
        self._checkouts += 1
        mutex.release()
        if claimed is not None:
            return claimed
        handed = waiter.value
        return self._connect_in_slot() if handed is None else handed

    def _claim_idle(self, waiter: Waiter) -> ConnectionPoolEntry | None:
        """A waiter at the end of the window: leave the line with an idle entry, if any
        (returns within the window left them idle) and nothing was handed meanwhile."""
        mutex = self._mutex
        mutex.acquire()
        if waiter.handed or not self._idle:
            mutex.release()
            return None
        self._waiters.remove(waiter)
        entry = self._take()
        mutex.release()
        return entry

    def _hand_over(self, entry: ConnectionPoolEntry | None) -> bool:
        """Give ``entry`` (None: a free connection slot) to the first waiter, if any (called
        with the lock held)."""
        waiters = self._waiters
        if not waiters:
            return False
        waiter = waiters.popleft()
        waiter.value = entry
        waiter.handed = True
        waiter.wake()
        return True

    def _connect_in_slot(self) -> ConnectionPoolEntry:
        try:
            return ConnectionPoolEntry(self)
        except BaseException:
            self._release_slot()
            raise

    def _abandon(self, waiter: Waiter) -> None:
        """A waiter was interrupted: leave the line, or pass on what it was just handed."""
        mutex = self._mutex
        mutex.acquire()
        if not waiter.handed:
            self._waiters.remove(waiter)
            mutex.release()
        elif waiter.value is None:
            mutex.release()
            self._release_slot()
        else:
            mutex.release()
            self._do_return_conn(waiter.value)

    def _timeout_error(self, checked_out: int) -> exc.TimeoutError:
        return exc.TimeoutError(
            f"QueuePool limit of size {self._pool_size} overflow {self._max_overflow} reached "
            f"(checked out: {checked_out}); no connection was returned within "
            f"{self._timeout:.2f} seconds (pool timeout). Return connections promptly "
            "(close them, or use `with engine.connect()`), or raise pool_size, max_overflow "
            "or pool_timeout."
        )

    # -- giving an entry back ---------------------------------------------------------------

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        mutex = self._mutex
        mutex.acquire()
        waiters = self._waiters
        if waiters and (
            len(self._idle) >= self._idle_limit
            or _perf_counter() - waiters[0].since >= RETAKE_WINDOW
        ):
            self._hand_over(entry)
            mutex.release()
            return
        if len(self._idle) < self._idle_limit:
            self._idle.append(entry)
            mutex.release()
            return
        mutex.release()
        # The slot frees up only once the connection is closed: freed first, another
        # checkout could open its connection meanwhile, one more than the pool allows.
        try:
            entry.close()
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        """A connection slot became free without an entry: the first waiter fills it."""
        mutex = self._mutex
        mutex.acquire()
        if not self._hand_over(None):
            self._overflow -= 1
        mutex.release()

    # -- maintenance and introspection -------------------------------------------------------

    def _drop_inherited(self) -> None:
        kept = [entry for entry in self._idle if self._keep_inherited(entry)]
        self._idle.clear()  # in place: ``_take`` is bound to this deque
        self._idle.extend(kept)
        self._waiters.clear()
        self._overflow = len(kept) - self._pool_size

    def dispose(self) -> None:
        """Close every idle connection; checked-out ones come back and are kept as usual."""
        idle: list[ConnectionPoolEntry] = []
        mutex = self._mutex
        mutex.acquire()
        while self._idle:
            idle.append(self._idle.pop())
        self._overflow -= len(idle)
        mutex.release()
        for entry in idle:
            entry.close()
        if self._log_info:
            self._logger.info("Pool disposed. %s", self.status())

    def size(self) -> int:
        """``pool_size``."""
        return self._pool_size

    def timeout(self) -> float:
        """``timeout``: seconds a checkout waits before raising."""
        return self._timeout

    def checkedin(self) -> int:
        """Idle connections in the pool."""
        return len(self._idle)

    def overflow(self) -> int:
        """Connections beyond ``pool_size`` (negative while the pool is filling up)."""
        return self._overflow if self._pool_size > 0 else 0

    def checkedout(self) -> int:
        """Connections checked out (including ones being opened right now)."""
        return self._pool_size - len(self._idle) + self._overflow

    def _occupancy(self) -> tuple[int, int, int, int]:
        mutex = self._mutex
        mutex.acquire()
        idle = len(self._idle)
        overflow = self._overflow
        mutex.release()
        return self._pool_size, self._pool_size - idle + overflow, idle, overflow

    def status(self) -> str:
        """``Pool size: 5  Connections in pool: 2 Current Overflow: -1 Current Checked out
        connections: 2`` (the same fields and spacing as SQLAlchemy)."""
        size, checked_out, idle, _ = self._occupancy()
        return (
            f"Pool size: {size}  Connections in pool: {idle} "
            f"Current Overflow: {self.overflow()} "
            f"Current Checked out connections: {checked_out}"
        )
