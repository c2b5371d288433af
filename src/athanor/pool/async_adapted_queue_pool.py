"""AsyncAdaptedQueuePool: QueuePool for async engines, waiting with asyncio instead of a lock.

The pool logic is QueuePool's; only the waiting differs.  A checkout that must wait parks on
an asyncio future and awaits it through the greenlet bridge, so other tasks keep running,
``pool_timeout`` is honoured with ``asyncio.timeout``, and a cancelled waiter leaves the line
(or hands on the connection it was just given) through QueuePool's own bookkeeping.

Connections whose adapter was terminated (its task was cancelled mid-operation) are
invalidated when they come back, so the pool never hands out a dead one; their slot stays
taken until the adapter's background close has ended the server session.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any

from athanor.pool.queue_pool import QueuePool
from athanor.util.concurrency import await_only

if TYPE_CHECKING:
    from athanor.pool.base import ConnectionPoolEntry, PoolProxiedConnection


class AsyncWaiter:
    """A checkout waiting in an asyncio task; ``wake`` may come from any thread."""

    __slots__ = ("_future", "_loop", "_thread", "handed", "since", "value")

    def __init__(self) -> None:
        # Outside a running loop (sync code misusing an async engine) there is no future;
        # wait() then fails in await_only with the explanation of what to do.
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._future: asyncio.Future[None] | None = (
            None if self._loop is None else self._loop.create_future()
        )
        self._thread = threading.get_ident()
        self.value: ConnectionPoolEntry | None = None
        self.handed = False
        self.since = 0.0

    def wait(self, timeout: float) -> bool:
        """Await the wake-up through the bridge; False if ``timeout`` seconds pass first."""
        woken: bool = await_only(self._wait(timeout))
        return woken

    async def _wait(self, timeout: float) -> bool:
        # asyncio.wait leaves the future pending on timeout (awaiting it under a timeout
        # would cancel it), so the waiter can wait again after the retake window.
        assert self._future is not None
        done, _ = await asyncio.wait((self._future,), timeout=timeout)
        return bool(done)

    def wake(self) -> None:
        """Resolve the future (from the loop's thread directly, else thread-safely)."""
        if self._loop is None:
            return
        if threading.get_ident() == self._thread:
            self._resolve()
        else:
            self._loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)


class AsyncAdaptedQueuePool(QueuePool):
    """QueuePool whose waits await (the default pool of ``create_async_engine``)."""

    _waiter_class = AsyncWaiter

    def _ping(self, entry: ConnectionPoolEntry, conn: Any) -> Any:
        try:
            return super()._ping(entry, conn)
        except BaseException as error:
            # Cancelled while pinging: the entry is still ours (a failed reconnect would have
            # returned it and replaced ``conn``), so give it back; its terminated adapter gets
            # it invalidated on the way in.
            if not isinstance(error, Exception) and entry.dbapi_connection is conn:
                self._give_back(entry)
            raise

    def _take_idle(self) -> ConnectionPoolEntry | None:
        # Checkouts go through _checkout, which replaces connections of other event loops.
        return None

    def _checkin_entry(self, entry: ConnectionPoolEntry, transaction_was_reset: bool) -> None:
        # Through _do_return_conn, which invalidates terminated connections and waits for
        # background closes.
        self._checkin(entry, entry.dbapi_connection, transaction_was_reset)

    def _checkout(self, entry: ConnectionPoolEntry) -> PoolProxiedConnection:
        conn = entry.dbapi_connection
        in_other_loop = getattr(conn, "in_other_loop", None)
        if in_other_loop is not None and in_other_loop():
            # Opened under another event loop (each asyncio.run() has its own, as has each
            # test of some test runners): unusable here, so it is replaced.
            if self._log_info:
                self._logger.info(
                    "Connection %r replaced at checkout because it was opened in another "
                    "event loop",
                    conn,
                )
            conn.abandon()
            entry.close()
        return super()._checkout(entry)

    _adapters: weakref.WeakKeyDictionary[ConnectionPoolEntry, Any] | None = None
    """The adapter each entry connected last (kept after invalidation), made on first use."""

    def _on_connect(self, conn: Any, entry: ConnectionPoolEntry) -> None:
        if self._adapters is None:
            self._adapters = weakref.WeakKeyDictionary()
        self._adapters[entry] = conn
        super()._on_connect(conn, entry)

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        conn = entry.dbapi_connection
        if conn is not None and getattr(conn, "terminated", False):
            entry.invalidate()
        adapters = self._adapters
        closing: asyncio.Task[None] | None = getattr(
            None if adapters is None else adapters.get(entry), "background_close", None
        )
        if closing is not None and not closing.done():
            # The server session lives until that close ends it: keep the slot taken until
            # then, so the server never holds more of our sessions than the pool allows.
            closing.add_done_callback(lambda _: QueuePool._do_return_conn(self, entry))
            return
        super()._do_return_conn(entry)

    def _return_leaked(self, proxy: PoolProxiedConnection) -> None:
        # Garbage collection may run anywhere (outside the bridge, or inside code holding the
        # pool lock), so nothing may be awaited: close the driver connection at once instead
        # of a rollback that would need I/O; the entry is then invalidated on return.
        terminate: Any = getattr(proxy.dbapi_connection, "terminate", None)
        if terminate is not None:
            terminate()
        super()._return_leaked(proxy)
