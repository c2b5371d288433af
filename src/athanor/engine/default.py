"""``DefaultDialect``: the behaviour every dialect shares, and the hooks each driver overrides.

A dialect object knows one database (compiler, types, reflection — in ``dialects/<db>/base.py``)
through one driver (connect arguments, transactions, disconnect detection — in
``dialects/<db>/<driver>.py``).  The pool and the engine talk to the driver only through it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from athanor import exc
from athanor.pool.base import DRIVER_METHOD_CALLS
from athanor.util.install import pip_install

if TYPE_CHECKING:
    from athanor.engine.connection import Connection
    from athanor.pool import Pool
    from athanor.sql.compiler import IdentifierPreparer
    from athanor.url import URL

ConnectArgs = tuple[list[Any], dict[str, Any]]


class DefaultDialect:
    """Shared dialect behaviour; database and driver subclasses fill in the details."""

    name: ClassVar[str] = "default"
    driver: ClassVar[str] = ""
    dbapi_module: ClassVar[str] = ""
    """Import name of the driver module, e.g. ``"psycopg"``."""
    install_extra: ClassVar[str] = ""
    """The ``pip install 'athanor-db[extra]'`` extra that brings the driver."""
    is_async: ClassVar[bool] = False
    async_variant: ClassVar[str | None] = None
    """Registry key of this same driver's async mode (psycopg 3 has one), which
    ``create_async_engine`` uses; None for sync-only drivers, which it rejects."""

    paramstyle: str = "named"
    default_paramstyle: ClassVar[str] = "named"
    supports_statement_cache: ClassVar[bool] = True
    from_linting: bool = False
    """Warn of a cartesian product in a statement compiled to run (``create_engine``'s
    ``enable_from_linting``, on by default there)."""
    supports_returning: ClassVar[bool] = False
    supports_multivalues_insert: ClassVar[bool] = True
    supports_native_boolean: ClassVar[bool] = False
    supports_native_enum: ClassVar[bool] = False
    supports_sequences: ClassVar[bool] = False
    supports_dml_in_cte: ClassVar[bool] = False
    """INSERT/UPDATE/DELETE ... RETURNING may be a CTE of another statement (PostgreSQL)."""
    supports_arrays: ClassVar[bool] = False
    """The database has ARRAY types and ``ARRAY[...]`` values (PostgreSQL)."""
    supports_sane_rowcount: ClassVar[bool] = True
    """``rowcount`` of an UPDATE or DELETE counts the rows it matched (MySQL connections ask
    for found rows rather than changed ones)."""
    supports_sane_multi_rowcount: ClassVar[bool] = True
    """``rowcount`` of an executemany UPDATE or DELETE adds up every parameter set's rows."""
    supports_server_side_cursors: ClassVar[bool] = False
    max_bind_params: ClassVar[int] = 32766
    requires_explicit_begin: ClassVar[bool] = False
    """True when the driver does not start transactions by itself (sqlite3 in autocommit mode)."""
    keeps_cursors: ClassVar[bool] = False
    """A finished cursor may serve the physical connection's next checkout (when
    :meth:`cursor_current` agrees): for drivers whose cursors cost Python work to make and
    hold nothing on the server once their rows are read."""

    isolation_levels: ClassVar[tuple[str, ...]] = (
        "SERIALIZABLE",
        "REPEATABLE READ",
        "READ COMMITTED",
        "READ UNCOMMITTED",
        "AUTOCOMMIT",
    )
    engine_arguments: ClassVar[frozenset[str]] = frozenset()
    """Extra keyword arguments ``create_engine`` passes to this dialect."""

    server_version_info: tuple[int, ...] | None
    default_isolation_level: str | None
    identifier_preparer: IdentifierPreparer
    """Quotes identifiers for this database; each database's dialect makes its own."""

    def __init__(
        self,
        *,
        isolation_level: str | None = None,
        paramstyle: str | None = None,
        json_serializer: Callable[[Any], str] | None = None,
        json_deserializer: Callable[[str], Any] | None = None,
        dbapi: ModuleType | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__} got unexpected argument(s): {unknown}")
        self.isolation_level = (
            self.normalize_isolation_level(isolation_level) if isolation_level else None
        )
        self.paramstyle = paramstyle or self.default_paramstyle
        self.json_serializer = json_serializer
        self.json_deserializer = json_deserializer
        self.server_version_info = None
        self.default_isolation_level = None
        self._dbapi = dbapi
        # Decided once: a do_commit that only calls the driver's commit() is not called.
        self._commit_directly = type(self).do_commit in DRIVER_METHOD_CALLS
        # Likewise for do_execute(): the engine calls cursor.execute() itself.
        self._execute_directly = type(self).do_execute is DefaultDialect.do_execute

    # --- the driver module -------------------------------------------------------------

    @classmethod
    def for_url(cls, url: URL) -> type[DefaultDialect]:
        """The dialect class for ``url``: this one, or a variant for the database the URL
        names when one driver serves several (MariaDB's URLs on the MySQL drivers)."""
        return cls

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        """Import the driver module, or say which extra installs it."""
        if not cls.dbapi_module:
            raise exc.NoDBAPILoaded(
                f"The {cls.name} dialect {cls.__name__} has no driver: it compiles statements "
                "but cannot connect; name a driver in a URL given to create_engine()"
            )
        try:
            return importlib.import_module(cls.dbapi_module)
        except ImportError as error:
            raise exc.NoSuchModuleError(
                f"The {cls.driver} driver for {cls.name} is not installed "
                f"({error}); install it with: {pip_install(cls.install_extra)}"
            ) from error

    @property
    def dbapi(self) -> ModuleType:
        """The driver module (imported on first use)."""
        if self._dbapi is None:
            self._dbapi = self.import_dbapi()
        return self._dbapi

    @property
    def loaded_dbapi(self) -> ModuleType:
        """Same as :attr:`dbapi` (SQLAlchemy's name for the module when it must exist)."""
        return self.dbapi

    @property
    def dbapi_error(self) -> type[BaseException]:
        """The driver's base exception class (PEP 249 ``Error``)."""
        error: type[BaseException] = self.dbapi.Error
        return error

    # --- connecting --------------------------------------------------------------------

    def create_connect_args(self, url: URL) -> ConnectArgs:
        """Turn a URL into ``(args, kwargs)`` for the driver's ``connect()``."""
        params: dict[str, Any] = dict(url.translate_connect_args())
        params.update(url.query)
        return [], params

    def take_connect_args(self, params: dict[str, Any]) -> None:
        """Remove from the driver's connect arguments (the URL's and ``connect_args``) those
        that set up the dialect rather than the driver; none by default."""

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        """Open one driver connection."""
        return self.dbapi.connect(*cargs, **cparams)

    def on_connect(self, dbapi_connection: Any) -> None:
        """Prepare a new physical connection (isolation level, session settings)."""
        if self.isolation_level is not None:
            self.set_isolation_level(dbapi_connection, self.isolation_level)

    def initialize(self, dbapi_connection: Any) -> None:
        """Learn about the server on the first connection (version, default isolation)."""
        self.server_version_info = self.get_server_version_info(dbapi_connection)
        try:
            self.default_isolation_level = self.get_default_isolation_level(dbapi_connection)
        finally:
            self.do_rollback(dbapi_connection)

    def get_server_version_info(self, dbapi_connection: Any) -> tuple[int, ...] | None:
        """The server's version as a tuple of ints, or None if unknown."""
        return None

    def get_pool_class(self, url: URL) -> type[Pool]:
        """The pool class used when ``create_engine`` is not told one."""
        from athanor.pool import QueuePool

        return QueuePool

    def get_driver_connection(self, dbapi_connection: Any) -> Any:
        """The driver's own connection object behind ``dbapi_connection``."""
        return dbapi_connection

    def connection_survives_fork(self, dbapi_connection: Any) -> bool:
        """Whether a forked child may keep using the connection: not a server session."""
        return False

    # --- generated keys without RETURNING ------------------------------------------------

    insert_keys_counted: ClassVar[str | None] = None
    """How the ORM may know the autoincrement keys of many inserted rows without reading
    them back: ``"first"`` (a multi-row INSERT's ``lastrowid`` is its first row's key, see
    :meth:`insert_keys_consecutive`), ``"last"`` (it is its last row's, see
    :meth:`insert_keys_follow`) or None (it reads them back)."""

    def insert_keys_consecutive(self, connection: Connection, table: Any, column: Any) -> bool:
        """Whether each multi-row INSERT into ``table`` that ``connection`` sends next, leaving
        every row's ``column`` (the autoincrement key) to the database, gets consecutive keys
        starting at the cursor's ``lastrowid``; False, the safe answer, unless the dialect
        can vouch for it."""
        return False

    def insert_keys_follow(
        self, connection: Connection, table: Any, column: Any, first: int, count: int
    ) -> bool:
        """Right after ``connection`` inserted one row into ``table`` whose generated key
        ``column`` is ``first``: whether the next ``count`` rows it inserts there, leaving
        the key to the database, get the keys ``first + 1, first + 2 ...`` in order; False,
        the safe answer, unless the dialect can vouch for it."""
        return False

    def returned_keys_in_order(self, connection: Connection, table: Any, keys: list[Any]) -> bool:
        """Whether ``keys``, the autoincrement keys one multi-row INSERT into ``table`` gave
        its rows, sorted, are in the order of the rows in its VALUES.

        True here: a PostgreSQL sequence or a MySQL/MariaDB AUTO_INCREMENT gives the rows of
        one statement increasing values as it inserts them one after the other (not always
        consecutive ones: other sessions may draw values in between)."""
        return True

    # --- transactions ------------------------------------------------------------------

    def do_begin(self, dbapi_connection: Any, cursor: Any = None) -> None:
        """Start a transaction; most drivers begin implicitly, so nothing to do.  ``cursor``,
        when given, is the cursor of the statement about to run, free to send it on."""

    def insert_commits_alone(self, table: Any) -> bool:
        """For ``requires_explicit_begin`` drivers: whether a one-row INSERT into ``table``,
        to be committed at once, may run without its BEGIN, the database then running it as
        a transaction of its own that fails wherever the INSERT or its COMMIT would fail."""
        return False

    def statement_needs_transaction(self, sql: str) -> bool:
        """For ``requires_explicit_begin`` drivers: whether ``sql`` must run inside BEGIN."""
        return True

    def do_commit(self, dbapi_connection: Any) -> None:
        dbapi_connection.commit()

    def do_rollback(self, dbapi_connection: Any) -> None:
        dbapi_connection.rollback()

    def do_discard(self, dbapi_connection: Any) -> None:
        """``pool_reset_on_return="discard"``: roll back, reset the session to the state of a
        new connection (:meth:`reset_session`), then re-apply the engine's isolation level,
        so nothing one checkout set (variables, temporary tables, prepared statements)
        reaches the next."""
        self.do_rollback(dbapi_connection)
        self.reset_session(dbapi_connection)
        if self.isolation_level is not None:
            self.set_isolation_level(dbapi_connection, self.isolation_level)

    def reset_session(self, dbapi_connection: Any) -> None:
        """The database's full session reset, outside any transaction, leaving the connection
        as the driver and the dialect set it up when it connected (isolation level aside)."""
        raise NotImplementedError(f"{self.name} has no session reset")

    def do_close(self, dbapi_connection: Any) -> None:
        dbapi_connection.close()

    def do_ping(self, dbapi_connection: Any) -> bool:
        """Check that a pooled connection is alive; raises the driver's error if it is not."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()
        return True

    # --- isolation levels --------------------------------------------------------------

    def normalize_isolation_level(self, level: str) -> str:
        """Upper-case ``level`` and check the dialect knows it."""
        normalized = level.replace("_", " ").upper()
        if normalized not in self.isolation_levels:
            raise exc.ArgumentError(
                f"Invalid isolation level {level!r} for {self.name}; "
                f"valid levels: {', '.join(self.isolation_levels)}"
            )
        return normalized

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        """Apply ``level`` (already normalized) to the connection."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")
        finally:
            cursor.close()

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        """The connection's current isolation level."""
        raise NotImplementedError

    def get_default_isolation_level(self, dbapi_connection: Any) -> str | None:
        return self.get_isolation_level(dbapi_connection)

    def reset_isolation_level(self, dbapi_connection: Any) -> None:
        """Put a connection back to the engine's isolation level before it returns to the pool."""
        level = self.isolation_level or self.default_isolation_level
        if level is not None:
            self.set_isolation_level(dbapi_connection, level)

    # --- execution ---------------------------------------------------------------------

    def create_cursor(self, dbapi_connection: Any, server_side: bool) -> Any:
        """A cursor; ``server_side`` asks for a streaming cursor where the driver has one."""
        return dbapi_connection.cursor()

    def cursor_current(self, dbapi_connection: Any, cursor: Any) -> bool:
        """For ``keeps_cursors``: whether a cursor made in an earlier checkout of
        ``dbapi_connection`` still behaves as a new one would (nothing it copied from the
        connection when it was made has changed since)."""
        return True

    def cursor_worth_keeping(self, cursor: Any) -> bool:
        """For ``keeps_cursors``: whether a finished cursor is kept at all (a kept cursor
        holds what its last statement left until it runs again)."""
        return True

    def do_execute(self, cursor: Any, statement: str, parameters: Any) -> None:
        cursor.execute(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: str) -> None:
        cursor.execute(statement)

    def do_executemany(self, cursor: Any, statement: str, parameters: Sequence[Any]) -> None:
        cursor.executemany(statement, parameters)

    def driver_sql_parameters(self, parameters: Mapping[str, Any] | Sequence[Any]) -> Any:
        """Parameters for ``exec_driver_sql`` as the driver wants them (passed through)."""
        return parameters

    # --- errors ------------------------------------------------------------------------

    def is_disconnect(
        self, error: BaseException, dbapi_connection: Any = None, cursor: Any = None
    ) -> bool:
        """Tell whether ``error`` means the connection is dead and must be discarded."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}+{self.driver}>"


# A pool resetting connections with these calls the DBAPI method itself, without their frame.
DRIVER_METHOD_CALLS.update((DefaultDialect.do_commit, DefaultDialect.do_rollback))
