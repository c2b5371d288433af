"""MySQL and MariaDB through PyMySQL (the default: ``mysql://`` and ``mariadb://``)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
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


COM_RESET_CONNECTION = 0x1F
"""The protocol command that resets a session without reconnecting (MySQL 5.7+, MariaDB
10.2.4+): rollback, temporary tables, user variables, prepared statements and locks go, and
session variables, autocommit and the character set return to the server's defaults."""


def session_setup_statements(
    driver_connection: Any,
    charset: str | None,
    collation: str | None,
    sql_mode: str | None,
    init_command: str | None,
) -> list[str]:
    """The statements that give a reset session back what the driver set up after its
    handshake (its character set, the ``sql_mode`` and ``init_command`` connect arguments);
    the driver's own autocommit mode is restored separately."""
    statements = []
    if charset:
        names = f"SET NAMES {charset}"
        statements.append(f"{names} COLLATE {collation}" if collation else names)
    if sql_mode is not None:
        statements.append(f"SET sql_mode = {driver_connection.escape(sql_mode)}")
    if init_command is not None:
        statements.append(init_command)
    return statements


@functools.cache
def tracked_connection_class(base: type) -> type:
    """PyMySQL's connection class extended to remember whether any statement ran since the
    last COMMIT or ROLLBACK, which tells exactly when a ROLLBACK on return can be skipped."""

    class TrackedConnection(base):  # type: ignore[misc]
        transaction_may_be_open = False
        """A statement ran since the last COMMIT/ROLLBACK, so InnoDB may hold a transaction
        (a plain SELECT opens one and leaves the server's in-transaction flag clear)."""

        def query(self, sql: Any, unbuffered: bool = False) -> int:
            self.transaction_may_be_open = True
            result: int = super().query(sql, unbuffered)
            return result

        def commit(self) -> None:
            super().commit()
            self.transaction_may_be_open = False

        def rollback(self) -> None:
            super().rollback()
            self.transaction_may_be_open = False

        def reset_connection(self) -> None:
            """``COM_RESET_CONNECTION`` (PyMySQL has no method for it), then the session
            setup PyMySQL did when it connected, autocommit mode included."""
            self._execute_command(COM_RESET_CONNECTION, b"")
            self._read_ok_packet()
            for statement in session_setup_statements(
                self, self.charset, self.collation, self.sql_mode, self.init_command
            ):
                super().query(statement)
            if self.autocommit_mode is not None:
                self.autocommit(self.autocommit_mode)
            self.transaction_may_be_open = False

        def _create_ssl_ctx(self, ssl_params: Any) -> Any:
            """PyMySQL's "preferred TLS" mode (no TLS options given) builds a fresh default
            SSL context on every connect, loading the system CA bundle (~40 ms of CPU); that
            context has no per-connection settings, so one per process serves them all."""
            if isinstance(ssl_params, dict) and not ssl_params:
                return _shared_preferred_tls_context(super()._create_ssl_ctx)
            return super()._create_ssl_ctx(ssl_params)

    return TrackedConnection


_preferred_tls_context: Any = None
_preferred_tls_lock = threading.Lock()


def _shared_preferred_tls_context(build: Callable[[dict[str, Any]], Any]) -> Any:
    """The process-wide context for PyMySQL's preferred-TLS mode, built on first use."""
    global _preferred_tls_context
    with _preferred_tls_lock:
        if _preferred_tls_context is None:
            _preferred_tls_context = build({})
        return _preferred_tls_context


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

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        connections = getattr(self.dbapi, "connections", None)
        if connections is None:  # the async drivers' adapters, a stand-in from ``module=``
            return self.dbapi.connect(*cargs, **cparams)
        return tracked_connection_class(connections.Connection)(*cargs, **cparams)

    def do_rollback(self, dbapi_connection: Any) -> None:
        # Skipped (this runs on every return to the pool) only when no statement ran since
        # the last COMMIT or ROLLBACK; connections made elsewhere always roll back.
        if getattr(dbapi_connection, "transaction_may_be_open", True):
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
        """The database\'s isolation level of the session (in autocommit mode too, as
        ``Connection.get_isolation_level()`` reports the level, not the mode)."""
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
