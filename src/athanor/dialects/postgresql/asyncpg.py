"""PostgreSQL through asyncpg (``postgresql+asyncpg://``), for ``create_async_engine``.

asyncpg is not a DBAPI: it is type-aware (parameters are encoded by the types the server
infers for a prepared statement), uses ``$1`` placeholders, and has its own exceptions.  The
adapter here prepares every statement and caches the prepared statement per connection, keyed
on the SQL text, so a repeated statement costs one round trip.

PgBouncer in transaction mode cannot see named server-side prepared statements across
transactions; ``prepared_statement_cache_size=0`` (a connect argument or URL query option)
switches to unnamed statements and turns asyncpg's own statement cache off.
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.dialects.postgresql.base import PostgreSQLDialect
from athanor.engine.default import ConnectArgs
from athanor.pool.async_adapted_queue_pool import AsyncAdaptedQueuePool
from athanor.util.async_adapter import (
    AsyncAdaptedConnection,
    AsyncAdaptedCursor,
    AsyncAdaptedDBAPI,
    AsyncAdaptedDialectMixin,
    AsyncAdaptedServerSideCursor,
    transport_fileno,
)

if TYPE_CHECKING:
    from athanor.pool import Pool
    from athanor.url import URL

DEFAULT_PREPARED_STATEMENT_CACHE_SIZE = 100
_FETCH_ALL_CHUNK = 1000
_STATEMENT_GONE_STATES = frozenset({"26000", "0A000"})
"""SQLSTATEs after which cached prepared statements may be stale (deallocated, plan changed)."""


class Error(Exception):
    """PEP 249 base error of the asyncpg adapter; ``driver_error`` is asyncpg's exception."""

    sqlstate: str | None = None
    driver_error: BaseException | None = None

    @property
    def pgcode(self) -> str | None:
        """The SQLSTATE, under psycopg's name."""
        return self.sqlstate


class Warning(Exception):
    """PEP 249 warning class (asyncpg reports warnings as notices; kept for the interface)."""


class InterfaceError(Error):
    """Misuse of the driver or a dead connection."""


class DatabaseError(Error):
    """An error reported by the server."""


class DataError(DatabaseError):
    """A value the server (or asyncpg's encoder) could not process."""


class OperationalError(DatabaseError):
    """Connection trouble, timeouts, resource limits, serialization failures."""


class IntegrityError(DatabaseError):
    """A constraint violation."""


class InternalError(DatabaseError):
    """Server internal errors and invalid transaction states."""


class ProgrammingError(DatabaseError):
    """Bad SQL, missing objects, wrong parameters."""


class NotSupportedError(DatabaseError):
    """A feature the server does not support."""


_SQLSTATE_CLASSES: dict[str, type[Error]] = {
    "0A": NotSupportedError,
    "08": OperationalError,
    "20": ProgrammingError,
    "21": ProgrammingError,
    "22": DataError,
    "23": IntegrityError,
    "24": InternalError,
    "25": InternalError,
    "26": InternalError,
    "27": InternalError,
    "28": OperationalError,
    "2B": InternalError,
    "2D": InternalError,
    "2F": InternalError,
    "34": InternalError,
    "3B": InternalError,
    "3D": ProgrammingError,
    "3F": ProgrammingError,
    "40": OperationalError,
    "42": ProgrammingError,
    "44": ProgrammingError,
    "53": OperationalError,
    "54": OperationalError,
    "55": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "F0": InternalError,
    "HV": OperationalError,
    "P0": InternalError,
    "XX": InternalError,
}


def _encode_json(serializer: Callable[[Any], str]) -> Callable[[Any], str]:
    """A JSON codec encoder: strings are taken as JSON text already, other values serialized."""

    def encode(value: Any) -> str:
        return value if isinstance(value, str) else serializer(value)

    return encode


def _rowcount(status: str | None) -> int:
    """Rows affected, from a command tag such as ``INSERT 0 3`` or ``UPDATE 2``."""
    if not status:
        return -1
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else -1


class AsyncpgCursor(AsyncAdaptedCursor):
    """Runs a cached prepared statement and buffers its rows."""

    _connection: AsyncpgConnection

    async def _execute(self, operation: str, parameters: Any) -> None:
        # (The engine passes lists or tuples: exact type tests spare the ABC check.)
        if (
            type(parameters) is not list
            and type(parameters) is not tuple
            and isinstance(parameters, Mapping)
        ):
            raise ProgrammingError(
                "asyncpg takes positional parameters ($1, $2, ...): pass a tuple or list"
            )
        connection = self._connection
        # The common case (inside a transaction, statement prepared before) awaits nothing.
        entry = None if connection._needs_begin() else connection._cached_statement(operation)
        if entry is None:
            entry = await connection._begin_and_prepare(operation)
        prepared, self.description = entry
        args = parameters or ()
        if self.server_side and not connection.autocommit:
            self._driver_cursor = await prepared.cursor(*args)
            return
        # (asyncpg cursors live in a transaction; in autocommit mode rows are buffered.)
        rows = await prepared.fetch(*args)
        self._rows = deque(rows)
        if self.description is not None:
            # Every row a statement affects or selects is returned (the count its command tag
            # gives): no need to ask asyncpg, a checked call, for the tag.
            self.rowcount = len(rows)
        else:
            self.rowcount = _rowcount(prepared.get_statusmsg())

    async def _executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        prepared, self.description = await self._connection._begin_and_prepare(operation)
        await prepared.executemany(seq_of_parameters)
        self.rowcount = -1


class AsyncpgServerSideCursor(AsyncAdaptedServerSideCursor, AsyncpgCursor):
    """Streams rows from an asyncpg cursor (a portal inside the transaction)."""

    async def _fetch(self, size: int | None) -> Sequence[Any]:
        cursor = self._driver_cursor
        if cursor is None:
            return ()
        if size is not None:
            rows: Sequence[Any] = await cursor.fetch(size)
            return rows
        collected: list[Any] = []
        while True:
            chunk = await cursor.fetch(_FETCH_ALL_CHUNK)
            collected.extend(chunk)
            if len(chunk) < _FETCH_ALL_CHUNK:
                return collected

    async def _close_cursor(self, cursor: Any) -> None:
        """Nothing to send: the server closes the portal when the transaction ends."""


class AsyncpgConnection(AsyncAdaptedConnection):
    """An asyncpg connection with DBAPI transactions (an implicit BEGIN unless autocommit)."""

    cursor_class = AsyncpgCursor
    server_side_cursor_class = AsyncpgServerSideCursor

    def __init__(
        self,
        dbapi: AsyncAdaptedDBAPI,
        driver_connection: Any,
        prepared_statement_cache_size: int = DEFAULT_PREPARED_STATEMENT_CACHE_SIZE,
    ) -> None:
        super().__init__(dbapi, driver_connection)
        self._cache_size = prepared_statement_cache_size
        self._statements: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    @classmethod
    def pop_settings(cls, kw: dict[str, Any]) -> dict[str, Any]:
        """Take ``prepared_statement_cache_size``; 0 also turns asyncpg's own cache off."""
        size = int(kw.pop("prepared_statement_cache_size", DEFAULT_PREPARED_STATEMENT_CACHE_SIZE))
        if size == 0:
            kw.setdefault("statement_cache_size", 0)
        return {"prepared_statement_cache_size": size}

    def _cached_statement(self, operation: str) -> tuple[Any, Any] | None:
        """The prepared statement and description cached for ``operation``, if any (checked
        before awaiting :meth:`_begin_and_prepare`, so a hit costs no coroutine)."""
        statements = self._statements
        entry = statements.get(operation)
        if entry is not None:
            statements.move_to_end(operation)
        return entry

    async def _begin_and_prepare(self, operation: str) -> tuple[Any, Any]:
        """``BEGIN`` if a transaction must start, then the prepared statement and description
        for ``operation`` (prepared on the server and cached unless cached already)."""
        if self._needs_begin():
            await self.driver_connection.execute("BEGIN")
        entry = self._cached_statement(operation)
        if entry is not None:
            return entry
        if self._cache_size:
            prepared = await self.driver_connection.prepare(operation)
        else:
            prepared = await self.driver_connection.prepare(operation, name="")
        attributes = prepared.get_attributes()
        description = (
            tuple((a.name, a.type.oid, None, None, None, None, None) for a in attributes)
            if attributes
            else None
        )
        entry = (prepared, description)
        if self._cache_size:
            statements = self._statements
            statements[operation] = entry
            if len(statements) > self._cache_size:
                statements.popitem(last=False)
        return entry

    async def _discard(self) -> None:
        driver = self.driver_connection
        await driver.execute("DISCARD ALL")  # simple protocol: not prepared, not cached
        # The server deallocated every prepared statement: forget ours and asyncpg's.
        self._statements.clear()
        await driver.reload_schema_state()

    def discard(self) -> None:
        """``DISCARD ALL`` (outside a transaction), then drop the prepared statements cached
        here and in asyncpg, all of which the server has just deallocated."""
        self.await_(self._discard())

    def _driver_error(self, error: Exception) -> None:
        """Forget cached statements the server no longer knows."""
        if isinstance(error, Error) and error.sqlstate in _STATEMENT_GONE_STATES:
            self._statements.clear()

    def _needs_begin(self) -> bool:
        """Whether a statement must first send ``BEGIN`` (DBAPI transactions are implicit)."""
        return not self._autocommit and not self.driver_connection.is_in_transaction()

    async def _commit(self) -> None:
        if self.driver_connection.is_in_transaction():
            await self.driver_connection.execute("COMMIT")

    async def _rollback(self) -> None:
        if self.driver_connection.is_in_transaction():
            await self.driver_connection.execute("ROLLBACK")

    def _in_transaction(self) -> bool:
        return bool(self.driver_connection.is_in_transaction())

    async def _close(self) -> None:
        await self.driver_connection.close()

    def fileno(self) -> int:
        """asyncpg's socket (its transport is private; asyncpg has no public accessor)."""
        return transport_fileno(getattr(self.driver_connection, "_transport", None))

    def _terminate(self) -> None:
        self.driver_connection.terminate()

    async def _set_autocommit(self, value: bool) -> None:
        if value:
            await self._commit()

    async def set_json_codecs(
        self, serializer: Callable[[Any], str], deserializer: Callable[[str], Any]
    ) -> None:
        """Make json/jsonb values arrive decoded and accept Python values or JSON text."""
        for name in ("json", "jsonb"):
            await self.driver_connection.set_type_codec(
                name,
                encoder=_encode_json(serializer),
                decoder=deserializer,
                schema="pg_catalog",
                format="text",
            )

    @property
    def closed(self) -> bool:
        """True once the connection is closed or terminated."""
        return self.terminated or bool(self.driver_connection.is_closed())


class AsyncpgDBAPI(AsyncAdaptedDBAPI):
    """The asyncpg adapter presented as a DBAPI module."""

    connection_class = AsyncpgConnection

    def __init__(self) -> None:
        import asyncpg

        super().__init__(asyncpg, "numeric_dollar", sys.modules[__name__])
        self._postgres_error: type[Exception] = asyncpg.PostgresError
        self._client_data_error: type[Exception] = asyncpg.exceptions._base.DataError
        self._interface_error: type[Exception] = asyncpg.InterfaceError
        self._internal_client_error: type[Exception] = asyncpg.exceptions._base.InternalClientError

    async def _connect(self, *args: Any, **kw: Any) -> Any:
        return await self.driver.connect(*args, **kw)

    def translate_error(self, error: Exception) -> Exception:
        """Give an asyncpg exception the PEP 249 class its SQLSTATE (or kind) calls for."""
        if isinstance(error, Error):
            return error
        sqlstate: str | None = None
        klass: type[Error]
        if isinstance(error, self._postgres_error):
            sqlstate = getattr(error, "sqlstate", None)
            klass = _SQLSTATE_CLASSES.get((sqlstate or "")[:2], DatabaseError)
        elif isinstance(error, self._client_data_error):
            klass = DataError
        elif isinstance(error, self._interface_error):
            klass = InterfaceError
        elif isinstance(error, self._internal_client_error):
            klass = InternalError
        elif isinstance(error, OSError):
            # Includes TimeoutError raised by asyncpg's command_timeout.
            klass = OperationalError
        else:
            return error
        translated = klass(f"{type(error).__name__}: {error}")
        translated.sqlstate = sqlstate
        translated.driver_error = error
        return translated


class AsyncpgDialect(AsyncAdaptedDialectMixin, PostgreSQLDialect):
    """PostgreSQL with asyncpg, driven through the greenlet bridge."""

    driver: ClassVar[str] = "asyncpg"
    dbapi_module: ClassVar[str] = "asyncpg"
    install_extra: ClassVar[str] = "asyncpg"
    adapter_class = AsyncpgDBAPI
    default_paramstyle: ClassVar[str] = "numeric_dollar"
    render_bind_cast: ClassVar[bool] = True
    """asyncpg types parameters by what the server infers; casts make ambiguous ones explicit."""

    def create_connect_args(self, url: URL) -> ConnectArgs:
        params: dict[str, Any] = dict(url.translate_connect_args(username="user"))
        for key, value in url.query.items():
            text = value if isinstance(value, str) else value[-1]
            if key in ("prepared_statement_cache_size", "statement_cache_size"):
                params[key] = int(text)
            elif key in ("command_timeout", "timeout"):
                params[key] = float(text)
            else:
                params.setdefault("server_settings", {})[key] = text
        return [], params

    def get_pool_class(self, url: URL) -> type[Pool]:
        return AsyncAdaptedQueuePool

    def on_connect(self, dbapi_connection: Any) -> None:
        dbapi_connection.await_(
            dbapi_connection.set_json_codecs(
                self.json_serializer or json.dumps, self.json_deserializer or json.loads
            )
        )
        super().on_connect(dbapi_connection)

    def get_server_version_info(self, dbapi_connection: Any) -> tuple[int, ...]:
        version = dbapi_connection.driver_connection.get_server_version()
        return (version.major, version.minor)

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        dbapi_connection.rollback()
        dbapi_connection.autocommit = level == "AUTOCOMMIT"
        if level != "AUTOCOMMIT":
            dbapi_connection.await_(
                dbapi_connection.driver_connection.execute(
                    f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {level}"
                )
            )

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        """The database\'s isolation level of the session (in autocommit mode too, as
        ``Connection.get_isolation_level()`` reports the level, not the mode)."""
        value = dbapi_connection.await_(
            dbapi_connection.driver_connection.fetchval("SHOW transaction_isolation")
        )
        return str(value).upper()

    def reset_isolation_level(self, dbapi_connection: Any) -> None:
        level = self.isolation_level or self.default_isolation_level or "READ COMMITTED"
        self.set_isolation_level(dbapi_connection, level)

    def reset_session(self, dbapi_connection: Any) -> None:
        dbapi_connection.discard()

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.await_(dbapi_connection.driver_connection.fetchval("SELECT 1"))
        return True

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        if isinstance(error, Error) and dbapi_connection is not None and dbapi_connection.closed:
            return True
        return super().is_disconnect(error, dbapi_connection, cursor) or (
            isinstance(error, OperationalError) and (error.sqlstate or "").startswith("08")
        )


dialect = AsyncpgDialect
