"""MySQL/MariaDB through aiomysql (``mysql+aiomysql://``), for ``create_async_engine``.

aiomysql differs from asyncmy only in how it is called (``db=`` for the database, cursors
created by a coroutine), so the asyncmy adapter and dialect are reused with those hooks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.dialects.mysql.asyncmy import AsyncmyConnection, AsyncmyDialect
from athanor.engine.default import ConnectArgs
from athanor.url import URL
from athanor.util.async_adapter import (
    AsyncAdaptedConnection,
    AsyncAdaptedDBAPI,
    transport_fileno,
)


class AiomysqlConnection(AsyncmyConnection):
    """An aiomysql connection behind PyMySQL's connection interface."""

    async def _open_cursor(self, server_side: bool) -> Any:
        if server_side:
            return await self.driver_connection.cursor(self.dbapi.driver.SSCursor)
        return await self._plain_cursor(self.driver_connection)

    @staticmethod
    async def _plain_cursor(driver_connection: Any) -> Any:
        return await driver_connection.cursor()

    def _session_setup(self) -> tuple[str | None, str | None, str | None, str | None]:
        driver = self.driver_connection
        return driver.charset, None, driver.sql_mode, driver.init_command

    def fileno(self) -> int:
        writer = self.driver_connection._writer
        return transport_fileno(None if writer is None else writer.transport)

    @property
    def open(self) -> bool:
        """False once the connection is closed, terminated or lost."""
        return not self.terminated and not self.driver_connection.closed


class AiomysqlDBAPI(AsyncAdaptedDBAPI):
    """aiomysql presented as a DBAPI module (PyMySQL's exception classes)."""

    connection_class: ClassVar[type[AsyncAdaptedConnection]] = AiomysqlConnection

    def __init__(self) -> None:
        import aiomysql
        import pymysql.err

        super().__init__(aiomysql, "format", pymysql.err)
        self.err = pymysql.err

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        return await self.driver.connect(*args, **kw)


class AiomysqlDialect(AsyncmyDialect):
    """MySQL/MariaDB with aiomysql, driven through the greenlet bridge."""

    driver: ClassVar[str] = "aiomysql"
    dbapi_module: ClassVar[str] = "aiomysql"
    install_extra: ClassVar[str] = "aiomysql"
    adapter_class = AiomysqlDBAPI

    def create_connect_args(self, url: URL) -> ConnectArgs:
        args, params = super().create_connect_args(url)
        if "database" in params:
            params["db"] = params.pop("database")
        return args, params


dialect = AiomysqlDialect
