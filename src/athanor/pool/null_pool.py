"""NullPool: no pooling, a new physical connection for every checkout."""

from __future__ import annotations

from athanor.pool.base import ConnectionPoolEntry, Pool


class NullPool(Pool):
    """Opens a connection at each checkout and closes it at checkin.

    For processes that must not keep connections between uses (serverless functions, or an
    external pooler such as PgBouncer doing the pooling).
    """

    def _do_get(self) -> ConnectionPoolEntry:
        entry = ConnectionPoolEntry(self)
        with self._mutex:
            self._checked_out += 1
            self._checkouts += 1
        return entry

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        entry.close()
        with self._mutex:
            self._checked_out -= 1

    def dispose(self) -> None:
        """Nothing is kept, so nothing to close."""

    def _occupancy(self) -> tuple[int, int, int, int]:
        return 0, self._checked_out, 0, 0

    def status(self) -> str:
        """``NullPool``."""
        return "NullPool"
