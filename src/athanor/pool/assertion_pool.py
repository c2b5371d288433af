"""AssertionPool: one connection, and an error when a second checkout is attempted."""

from __future__ import annotations

import traceback
from typing import Any

from athanor.pool.base import ConnectionPoolEntry
from athanor.pool.static_pool import StaticPool


class AssertionPool(StaticPool):
    """Keeps one connection and lends it to one user at a time: checking out a second
    connection while the first is out raises AssertionError (with where the first was
    checked out), to find code that holds two connections at once."""

    exclusive_checkouts = True

    def __init__(self, *args: Any, store_traceback: bool = True, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._store_traceback = store_traceback
        self._checked_out_at: list[str] | None = None

    def _do_get(self) -> ConnectionPoolEntry:
        if self._checked_out:
            where = (
                "; it was checked out at:\n" + "".join(self._checked_out_at)
                if self._checked_out_at
                else ""
            )
            raise AssertionError(f"connection is already checked out{where}")
        entry = super()._do_get()
        if self._store_traceback:
            self._checked_out_at = traceback.format_stack()
        return entry

    def _do_return_conn(self, entry: ConnectionPoolEntry) -> None:
        super()._do_return_conn(entry)
        self._checked_out_at = None

    def status(self) -> str:
        """``AssertionPool``."""
        return "AssertionPool"
