"""SingletonThreadPool: one connection per thread."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from athanor.pool.base import ConnectionPoolEntry, Pool, PoolProxiedConnection


class _ThreadProxy(PoolProxiedConnection):
    """The proxy a thread shares between nested checkouts; returned when the last closes."""

    __slots__ = ("__weakref__", "_depth")

    _depth: int
    """Open checkouts sharing the proxy; set by the pool once the checkout succeeded (a
    checkout failing in a ``checkout`` listener closes a proxy without it: one checkout)."""

    def close(self) -> None:
        """Return the connection once the outermost checkout of the thread closes."""
        self._checkin(False)

    def _checkin(self, transaction_was_reset: bool) -> None:
        self._depth = depth = getattr(self, "_depth", 1) - 1
        if depth <= 0:
            super()._checkin(transaction_was_reset)


class SingletonThreadPool(Pool):
    """Gives each thread its own connection, kept for that thread; a nested checkout in the
    same thread returns the same proxy.  At most ``pool_size`` connections are kept: when a
    new thread would exceed that, idle connections of other threads are closed.

    Used for SQLite ``:memory:`` databases, which live and die with one connection.
    """

    _proxy_class = _ThreadProxy

    def __init__(self, creator: Callable[..., Any], pool_size: int = 5, **kw: Any) -> None:
        super().__init__(creator, **kw)
        self._pool_size = pool_size
        self._local = threading.local()
        self._all: set[ConnectionPoolEntry] = set()

    def _constructor_args(self) -> dict[str, Any]:
        args = super()._constructor_args()
        args["pool_size"] = self._pool_size
        return args

    def connect(self) -> PoolProxiedConnection:
        """This thread's connection; the same proxy while it is checked out."""
        ref = getattr(self._local, "proxy", None)
        proxy = ref() if ref is not None else None
        if isinstance(proxy, _ThreadProxy) and proxy._connection_record is not None:
            proxy._depth += 1
            return proxy
        proxy = self._checkout(self._do_get())
        assert isinstance(proxy, _ThreadProxy)
        proxy._depth = 1
        self._local.proxy = weakref.ref(proxy)
        return proxy

    def _do_get(self) -> ConnectionPoolEntry:
        ref = getattr(self._local, "entry", None)
        entry = ref() if ref is not None else None
        if entry is None:
            entry = ConnectionPoolEntry(self)
            self._local.entry = weakref.ref(entry)
            with self._mutex:
                self._all.add(entry)
            self._cleanup(entry)
        with self._mutex:
            self._checkouts += 1
        return entry

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        """The entry stays with its thread."""

    def _cleanup(self, keep: ConnectionPoolEntry) -> None:
        """Close idle connections of other threads beyond ``pool_size``."""
        with self._mutex:
            excess = len(self._all) - self._pool_size
            victims = [e for e in self._all if e is not keep and not e.in_use][: max(excess, 0)]
            self._all.difference_update(victims)
        for entry in victims:
            entry.close()

    def _drop_inherited(self) -> None:
        self._all = {entry for entry in self._all if self._keep_inherited(entry)}
        ref = getattr(self._local, "entry", None)
        if ref is None or ref() not in self._all:
            # This thread's connection was forgotten: its next checkout opens another
            # (its proxy, if checked out, gives the forgotten one back when closed).
            self._local = threading.local()

    def dispose(self) -> None:
        """Close every connection, in use or not (they reopen when used again)."""
        with self._mutex:
            entries = list(self._all)
            self._all.clear()
        for entry in entries:
            entry.close()

    def _occupancy(self) -> tuple[int, int, int, int]:
        with self._mutex:
            entries = list(self._all)
        in_use = sum(1 for entry in entries if entry.in_use)
        return self._pool_size, in_use, len(entries) - in_use, 0

    def status(self) -> str:
        """``SingletonThreadPool id:<id> size: <connections>``."""
        return f"SingletonThreadPool id:{id(self)} size: {len(self._all)}"
