"""PostgreSQL through psycopg 3 (the default PostgreSQL driver: ``postgresql://``)."""

from __future__ import annotations

import itertools
from operator import is_
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.postgresql.base import PostgreSQLDialect
from athanor.engine.default import ConnectArgs

if TYPE_CHECKING:
    from athanor.url import URL

_DISCONNECT_MESSAGES = (
    "server closed the connection unexpectedly",
    "terminating connection",
    "connection is closed",
    "connection already closed",
    "the connection is lost",
    "consuming input failed",
    "could not send data to server",
    "could not receive data from server",
    "ssl syscall error",
    "connection not open",
)
_cursor_names = itertools.count(1)
_IDLE = 0
"""libpq's ``PQTRANS_IDLE`` (psycopg's ``pq.TransactionStatus.IDLE``): no transaction open."""


class PsycopgDialect(PostgreSQLDialect):
    """PostgreSQL with psycopg 3, sync."""

    driver: ClassVar[str] = "psycopg"
    dbapi_module: ClassVar[str] = "psycopg"
    install_extra: ClassVar[str] = "postgresql"
    async_variant: ClassVar[str | None] = "postgresql.psycopg_async"
    default_paramstyle: ClassVar[str] = "format"
    supports_server_side_cursors: ClassVar[bool] = True
    keeps_cursors: ClassVar[bool] = True
    render_bind_cast: ClassVar[bool] = True
    """psycopg binds on the server, which types a parameter by where it stands; casts type
    the ambiguous ones (``count(%s)``, ``concat(%s, %s)``) as asyncpg's do."""

    def array_placeholder(self, placeholder: str) -> str | None:
        """``%b``: arrays go in binary, which psycopg writes without quoting each element
        (several times faster than the text form for an array of strings).  The server then
        parses a few parameters per batch where VALUES rows give it thousands."""
        return placeholder.removesuffix("s") + "b"

    def create_connect_args(self, url: URL) -> ConnectArgs:
        params: dict[str, Any] = dict(
            url.translate_connect_args(username="user", database="dbname")
        )
        for key, value in url.query.items():
            params[key] = value if isinstance(value, str) else value[-1]
        return [], params

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        if "server_settings" in cparams:
            # psycopg would report only the bad name; say what to use instead.
            raise self.dbapi.ProgrammingError(
                'invalid connection option "server_settings": it is an asyncpg argument; '
                "with psycopg pass libpq parameters instead, e.g. "
                "connect_args={'application_name': 'myapp', 'options': '-c timezone=UTC'}"
            )
        return self.dbapi.connect(*cargs, **cparams)

    def get_server_version_info(self, dbapi_connection: Any) -> tuple[int, ...]:
        version: int = dbapi_connection.info.server_version
        return (version // 10000, version % 10000)

    def do_ping(self, dbapi_connection: Any) -> bool:
        # Straight through libpq: one round trip, and no transaction is opened by the ping.
        from psycopg import pq

        result = dbapi_connection.pgconn.exec_(b"SELECT 1")
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise self.dbapi.OperationalError(
                (dbapi_connection.pgconn.error_message or b"ping failed").decode(errors="replace")
            )
        return True

    def do_rollback(self, dbapi_connection: Any) -> None:
        # Every return to the pool asks.  psycopg's rollback() does nothing when libpq reports
        # no transaction open, but only after its lock and generator; skip them then.  A
        # connection in a two-phase transaction keeps psycopg's own check (it refuses).
        if (
            dbapi_connection.pgconn.transaction_status == _IDLE
            and getattr(dbapi_connection, "_tpc", None) is None
        ):
            return
        dbapi_connection.rollback()

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if dbapi_connection.info.transaction_status != self.dbapi.pq.TransactionStatus.IDLE:
            dbapi_connection.rollback()
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit = True
            return
        dbapi_connection.autocommit = False
        dbapi_connection.isolation_level = getattr(
            self.dbapi.IsolationLevel, level.replace(" ", "_")
        )

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        """The database\'s isolation level of the session (in autocommit mode too, as
        ``Connection.get_isolation_level()`` reports the level, not the mode)."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW transaction_isolation")
            (value,) = cursor.fetchone()
        finally:
            cursor.close()
        return str(value).upper()

    def reset_isolation_level(self, dbapi_connection: Any) -> None:
        # psycopg refuses to change the mode inside a transaction, and one may have been begun
        # behind the engine's back (get_isolation_level()); rollback() is free when idle.
        dbapi_connection.rollback()
        dbapi_connection.autocommit = False
        dbapi_connection.isolation_level = None
        if self.isolation_level is not None:
            self.set_isolation_level(dbapi_connection, self.isolation_level)

    def create_cursor(self, dbapi_connection: Any, server_side: bool) -> Any:
        if server_side:
            return dbapi_connection.cursor(name=f"athanor_c{next(_cursor_names)}")
        return dbapi_connection.cursor()

    def cursor_worth_keeping(self, cursor: Any) -> bool:
        # Its last result stays in memory until it runs again: kept only when that is at
        # most one row of fixed-size values (what a one-row INSERT ... RETURNING leaves).
        result = cursor.pgresult
        if result is None or result.ntuples == 0:
            return True
        return bool(
            result.ntuples == 1 and min(map(result.fsize, range(result.nfields)), default=1) > 0
        )

    def cursor_current(self, dbapi_connection: Any, cursor: Any) -> bool:
        # A cursor is of the connection's cursor class and copies its row factory and
        # adapters when it is made.  Those adapters are copied on write: registering a
        # dumper, loader or type on the connection replaces the mapping it changes, so the
        # cursor still shares every one of them only while nothing was registered since.
        try:
            # Read behind psycopg's properties: this runs at every checkout.
            mine, theirs = cursor._adapters, dbapi_connection._adapters
            return bool(
                type(cursor) is dbapi_connection.cursor_factory
                and cursor._row_factory is dbapi_connection.row_factory
                and mine.types._registry is theirs.types._registry
                and all(map(is_, mine._dumpers.values(), theirs._dumpers.values()))
                and all(map(is_, mine._dumpers_by_oid, theirs._dumpers_by_oid))
                and all(map(is_, mine._loaders, theirs._loaders))
            )
        except AttributeError:  # another psycopg's internals: make a new cursor
            return False

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        if not isinstance(error, self.dbapi.Error):
            return False
        if dbapi_connection is not None and (dbapi_connection.closed or dbapi_connection.broken):
            return True
        message = str(error).lower()
        return any(fragment in message for fragment in _DISCONNECT_MESSAGES)


dialect = PsycopgDialect
