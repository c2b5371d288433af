"""PostgreSQL through psycopg 3's asyncio connection, for ``create_async_engine``.

``postgresql+psycopg://`` under ``create_async_engine`` lands here (the sync psycopg dialect
names this module as its async variant); ``postgresql+psycopg_async://`` names it directly.
The adapter mirrors psycopg's sync connection (``autocommit``, ``isolation_level``, ``info``,
``closed``, ``broken``), so the sync psycopg dialect's logic is inherited unchanged.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.postgresql.psycopg import PsycopgDialect
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.util.async_adapter import (
    AsyncAdaptedConnection,
    AsyncAdaptedCursor,
    AsyncAdaptedDBAPI,
    AsyncAdaptedDialectMixin,
    AsyncAdaptedServerSideCursor,
)

if TYPE_CHECKING:
    from athanor.pool import Pool
    from athanor.url import URL

_cursor_names = itertools.count(1)


class PsycopgAsyncCursor(AsyncAdaptedCursor):
    """A buffered cursor over ``psycopg.AsyncCursor``."""


class PsycopgAsyncServerSideCursor(AsyncAdaptedServerSideCursor):
    """A streaming cursor over a named ``psycopg.AsyncServerCursor``."""


class PsycopgAsyncConnection(AsyncAdaptedConnection):
    """``psycopg.AsyncConnection`` behind psycopg's sync connection interface."""

    cursor_class = PsycopgAsyncCursor
    server_side_cursor_class = PsycopgAsyncServerSideCursor

    async def _open_cursor(self, server_side: bool) -> Any:
        if server_side:
            # WITH HOLD lets the cursor outlive its statement's implicit transaction.
            return self.driver_connection.cursor(
                name=f"athanor_ac{next(_cursor_names)}", withhold=self.autocommit
            )
        return self.driver_connection.cursor()

    def _terminate(self) -> None:
        self.driver_connection.pgconn.finish()

    def fileno(self) -> int:
        """psycopg's socket."""
        return int(self.driver_connection.fileno())

    def _in_transaction(self) -> bool:
        # pq.TransactionStatus.IDLE is 0
        return bool(self.driver_connection.info.transaction_status)

    async def _set_autocommit(self, value: bool) -> None:
        await self.driver_connection.set_autocommit(value)

    @property
    def autocommit(self) -> bool:
        """psycopg's own autocommit flag."""
        return bool(self.driver_connection.autocommit)

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self.await_(self._set_autocommit(value))

    @property
    def isolation_level(self) -> Any:
        """psycopg's ``IsolationLevel`` for new transactions (None: the server default)."""
        return self.driver_connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self.await_(self.driver_connection.set_isolation_level(value))

    @property
    def pgconn(self) -> Any:
        """libpq's connection (its transaction status is read without awaiting)."""
        return self.driver_connection.pgconn

    @property
    def info(self) -> Any:
        """psycopg's ``ConnectionInfo`` (server version, transaction status)."""
        return self.driver_connection.info

    @property
    def closed(self) -> bool:
        """True once the connection is closed or terminated."""
        return self.terminated or bool(self.driver_connection.closed)

    @property
    def broken(self) -> bool:
        """True when psycopg found the connection lost."""
        return bool(self.driver_connection.broken)


class PsycopgAsyncDBAPI(AsyncAdaptedDBAPI):
    """psycopg's asyncio side presented as a DBAPI module (psycopg's own exceptions)."""

    connection_class = PsycopgAsyncConnection

    def __init__(self) -> None:
        import psycopg

        super().__init__(psycopg, "pyformat", psycopg)
        self.pq = psycopg.pq
        self.IsolationLevel = psycopg.IsolationLevel

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        return await self.driver.AsyncConnection.connect(*args, **kw)


class PsycopgAsyncDialect(AsyncAdaptedDialectMixin, PsycopgDialect):
    """PostgreSQL with psycopg's asyncio connection, driven through the greenlet bridge."""

    driver: ClassVar[str] = "psycopg_async"
    dbapi_module: ClassVar[str] = "psycopg"
    install_extra: ClassVar[str] = "postgresql"
    async_variant: ClassVar[str | None] = None
    adapter_class = PsycopgAsyncDBAPI

    def get_pool_class(self, url: URL) -> type[Pool]:
        return AsyncAdaptedQueuePool

    def do_ping(self, dbapi_connection: Any) -> bool:
        # The sync dialect pings through blocking libpq; here a query, leaving no transaction.
        driver = dbapi_connection.driver_connection
        idle = driver.info.transaction_status == self.dbapi.pq.TransactionStatus.IDLE
        dbapi_connection.await_(driver.execute("SELECT 1"))
        if idle and not driver.autocommit:
            dbapi_connection.rollback()
        return True


dialect = PsycopgAsyncDialect
