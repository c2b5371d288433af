"""StaticPool: one connection shared by every checkout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from athanor.pool.base import ConnectionPoolEntry, Pool
from athanor.util.concurrency import BridgeAwareLock


class StaticPool(Pool):
    """Every checkout gets the same physical connection, opened on first use.

    Meant for SQLite in-memory databases shared across threads in tests; checkouts are not
    exclusive, so concurrent users share one transaction.
    """

    exclusive_checkouts = False

    def __init__(self, creator: Callable[..., Any], **kw: Any) -> None:
        super().__init__(creator, **kw)
        self._entry: ConnectionPoolEntry | None = None
        self._create_lock = BridgeAwareLock()

    def _do_get(self) -> ConnectionPoolEntry:
        entry = self._entry
        if entry is None:
            with self._create_lock:
                entry = self._entry
                if entry is None:
                    entry = self._entry = ConnectionPoolEntry(self)
        with self._mutex:
            self._checked_out += 1
            self._checkouts += 1
        return entry

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        with self._mutex:
            self._checked_out -= 1

    def _drop_inherited(self) -> None:
        self._create_lock = BridgeAwareLock()
        entry = self._entry
        if entry is not None and not self._keep_inherited(entry):
            self._entry = None

    def dispose(self) -> None:
        """Close the shared connection; the next checkout opens a new one."""
        entry, self._entry = self._entry, None
        if entry is not None:
            entry.close()

    def _occupancy(self) -> tuple[int, int, int, int]:
        entry = self._entry
        connected = entry is not None and entry.dbapi_connection is not None
        return 1, self._checked_out, int(connected and not self._checked_out), 0

    def status(self) -> str:
        """``StaticPool``."""
        return "StaticPool"
