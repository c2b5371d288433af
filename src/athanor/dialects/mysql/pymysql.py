"""MySQL and MariaDB through PyMySQL (the default: ``mysql://`` and ``mariadb://``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.mysql.base import MySQLDialect
from athanor.engine.default import ConnectArgs

if TYPE_CHECKING:
    from athanor.url import URL

# Client error codes that mean the connection is gone: server gone away, lost connection,
# commands out of sync, server shutdown, and MySQL 8's "client was disconnected" (4031).
DISCONNECT_CODES = frozenset({2006, 2013, 2014, 2045, 2055, 4031, 1927})
_INT_OPTIONS = ("connect_timeout", "read_timeout", "write_timeout", "client_flag", "port")
_BOOL_OPTIONS = ("local_infile", "autocommit", "ssl_disabled", "ssl_verify_cert")
_SERVER_STATUS_IN_TRANS = 1
"""The protocol's SERVER_STATUS_IN_TRANS flag."""


class PyMySQLDialect(MySQLDialect):
    """MySQL/MariaDB with PyMySQL, sync."""

    driver: ClassVar[str] = "pymysql"
    dbapi_module: ClassVar[str] = "pymysql"
    install_extra: ClassVar[str] = "mysql"
    default_paramstyle: ClassVar[str] = "format"
    supports_server_side_cursors: ClassVar[bool] = True

    def create_connect_args(self, url: URL) -> ConnectArgs:
        params: dict[str, Any] = dict(url.translate_connect_args(username="user"))
        for key, value in url.query.items():
            text = value if isinstance(value, str) else value[-1]
            if key in _INT_OPTIONS:
                params[key] = int(text)
            elif key in _BOOL_OPTIONS:
                params[key] = text.lower() in ("1", "true", "yes")
            else:
                params[key] = text
        params.setdefault("charset", "utf8mb4")
        # Report matched rather than changed rows for UPDATE, as the other databases do.
        from pymysql.constants import CLIENT

        params["client_flag"] = params.get("client_flag", 0) | CLIENT.FOUND_ROWS
        return [], params

    def do_rollback(self, dbapi_connection: Any) -> None:
        # The server reports in every reply whether a transaction is open; when none is, a
        # ROLLBACK would be a wasted round trip (this runs on every return to the pool).
        # PyMySQL only updates server_status from OK packets: after a statement that returned
        # rows (a SELECT, INSERT ... RETURNING) or failed, the flag may be stale: roll back then.
        status = getattr(dbapi_connection, "server_status", None)
        last = getattr(dbapi_connection, "_result", None)
        unsure = last is None or bool(getattr(last, "field_count", 0))
        if status is None or unsure or status & _SERVER_STATUS_IN_TRANS:
            dbapi_connection.rollback()

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.ping(reconnect=False)
        return True

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit(True)
            return
        dbapi_connection.autocommit(False)
        super().set_isolation_level(dbapi_connection, level)

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        if dbapi_connection.get_autocommit():
            return "AUTOCOMMIT"
        cursor = dbapi_connection.cursor()
        try:
            # MariaDB before 11.1 only knows the older variable name.
            try:
                cursor.execute("SELECT @@transaction_isolation")
            except self.dbapi.Error:
                cursor.execute("SELECT @@tx_isolation")
            (value,) = cursor.fetchone()
        finally:
            cursor.close()
        return str(value).replace("-", " ").upper()

    def create_cursor(self, dbapi_connection: Any, server_side: bool) -> Any:
        if server_side:
            return dbapi_connection.cursor(self.dbapi.cursors.SSCursor)
        return dbapi_connection.cursor()

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        dbapi = self.dbapi
        if isinstance(error, (dbapi.OperationalError, dbapi.InterfaceError)):
            code = error.args[0] if error.args else None
            if code in DISCONNECT_CODES:
                return True
            if isinstance(error, dbapi.InterfaceError):
                return True
        if isinstance(error, dbapi.err.Error) and dbapi_connection is not None:
            return not dbapi_connection.open
        return False


dialect = PyMySQLDialect
