"""``Engine``: the per-process connection factory holding the dialect, the pool and caches."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from athanor.engine.connection import Connection, execute_insert
from athanor.engine.default import DefaultDialect
from athanor.engine.transaction import RootTransaction
from athanor.event import EventTarget, registry
from athanor.pool import Pool, PoolProxiedConnection
from athanor.sql.compiler import compile_cached
from athanor.sql.selectable import identity_memos
from athanor.util.log import Echo, EchoLogger

if TYPE_CHECKING:
    from athanor.pool.base import ConnectionPoolEntry
    from athanor.sql.elements import ClauseElement
    from athanor.url import URL

_INFO = logging.INFO

_ENGINE_EVENTS: dict[str, tuple[str, ...]] = {
    "engine_connect": ("conn",),
    "engine_disposed": ("engine",),
    "before_execute": ("conn", "clauseelement", "multiparams", "params", "execution_options"),
    "after_execute": (
        "conn",
        "clauseelement",
        "multiparams",
        "params",
        "execution_options",
        "result",
    ),
    "before_cursor_execute": (
        "conn",
        "cursor",
        "statement",
        "parameters",
        "context",
        "executemany",
    ),
    "after_cursor_execute": (
        "conn",
        "cursor",
        "statement",
        "parameters",
        "context",
        "executemany",
    ),
    "handle_error": ("exception_context",),
    "begin": ("conn",),
    "commit": ("conn",),
    "rollback": ("conn",),
    "savepoint": ("conn", "name"),
    "rollback_savepoint": ("conn", "name", "context"),
    "release_savepoint": ("conn", "name", "context"),
    "set_connection_execution_options": ("conn", "opts"),
    "set_engine_execution_options": ("engine", "opts"),
}

_MAX_LOGGED_PARAMS = 10

InsertCommitter = Callable[..., Any]
"""What ``Engine._insert_committer`` gives: ``(params)`` or ``(params, accept)`` runs the
INSERT as a transaction of its own."""


_BY_STATEMENT_KEPT = 64
"""How many statements a CompiledCache finds by identity (see ``CompiledCache.by_statement``)."""


class CompiledCache(dict[Any, Any]):
    """The engine's compiled-statement cache: a dict bounded to ``capacity`` entries.

    When full, the oldest tenth of the entries is dropped, which keeps lookups a plain dict
    access (no bookkeeping on hits).
    """

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.by_statement: dict[int, tuple[Any, Any, Any]] = {}
        """``id(statement)`` -> ``(statement, compiled, extracted)`` for statements run again
        as the same object (built once, executed many times): found by identity, without
        hashing their structural key.  Holding the statement keeps its id from being reused."""
        identity_memos[id(self)] = self

    def remember(self, statement: Any, compiled: Any, extracted: Any) -> None:
        """Keep ``statement``'s compiled form in :attr:`by_statement` (emptied when full)."""
        by_statement = self.by_statement
        if len(by_statement) >= _BY_STATEMENT_KEPT:
            by_statement.clear()
        by_statement[id(statement)] = (statement, compiled, extracted)

    def clear(self) -> None:
        """Forget every compiled statement, also those found by identity."""
        super().clear()
        self.by_statement.clear()

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self.capacity:
            for old in list(self)[: max(1, self.capacity // 10)]:
                del self[old]
        super().__setitem__(key, value)


class LeanCommitFailed(Exception):
    """Raised by a function of ``Engine._insert_committer`` whose COMMIT failed: the
    connection left as a Connection's would be (checked out, its transaction ended), that
    transaction, the exception to raise for the failure, and the key or row the INSERT gave,
    for the caller to take over before raising ``failure``."""

    def __init__(
        self,
        connection: Connection,
        transaction: RootTransaction,
        failure: BaseException,
        values: Any,
    ) -> None:
        super().__init__(connection, transaction, failure, values)
        self.connection = connection
        self.transaction = transaction
        self.failure = failure
        self.values = values


def _values_by_key(
    compiled: Any, parameters: Mapping[str, Any], sql: str, driver_params: Any
) -> Callable[[Mapping[str, Any]], Any] | None:
    """For an INSERT whose ``compiled.prepare`` gave ``sql`` and ``driver_params`` for
    ``parameters``: a function of a dict with the same keys giving its positional driver
    parameters, where those are the dict's values read by key and sent as they are (the
    usual statement, whose ``route_for`` would wrap them to name the variant that made
    them), the SQL being ``sql`` for every such dict; None otherwise."""
    variant = compiled._variant(parameters, False)
    read = variant._by_key
    if (
        not variant._positional
        or read is None
        or variant._by_key_one
        or variant._by_key_procs is not None
        or variant.string != sql
        or list(read(parameters)) != list(driver_params)
    ):
        return None
    return read  # type: ignore[no-any-return]


class Engine(EventTarget):
    """Connects to one database through one pool; create it once per process and share it."""

    _event_signatures: ClassVar[dict[str, tuple[str, ...]]] = _ENGINE_EVENTS

    def __init__(
        self,
        pool: Pool,
        dialect: DefaultDialect,
        url: URL,
        *,
        logging_name: str | None = None,
        echo: Echo = None,
        hide_parameters: bool = False,
        query_cache_size: int = 500,
        execution_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.pool = pool
        self.dialect = dialect
        self.url = url
        self.logging_name = logging_name
        self.hide_parameters = hide_parameters
        self._compiled_cache: CompiledCache | None = (
            CompiledCache(query_cache_size) if query_cache_size > 0 else None
        )
        self._execution_options: Mapping[str, Any] = dict(execution_options or {})
        self._autocommit = dialect.isolation_level == "AUTOCOMMIT"
        self._lean_cache: dict[Any, Any] = {}
        """What callers of the lean one-row transactions keep for this engine (the ORM: its
        committer per mapper, see ``athanor.orm.unitofwork.commit_new_object``)."""
        self._init_dispatch()
        self.echo = echo

    # --- logging ------------------------------------------------------------------------

    @property
    def echo(self) -> Echo:
        """``True`` logs this engine's SQL at INFO, ``"debug"`` also rows at DEBUG.

        It applies to this engine only and may be changed at any time; connections opened
        afterwards follow the new value.  Other engines log only as the logging
        configuration of ``athanor.engine`` says.
        """
        return self.logger.echo

    @echo.setter
    def echo(self, value: Echo) -> None:
        name = "athanor.engine.Engine"
        if self.logging_name:
            name += f".{self.logging_name}"
        self.logger = EchoLogger(name, value)

    @property
    def _echo_rows(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)

    def _row_logger(self, row: Any) -> None:
        self.logger.debug("Row %r", tuple(row))

    def _log_statement(self, sql: str, params: Any, many: bool = False) -> None:
        self.logger.info(sql)
        if self.hide_parameters:
            self.logger.info("[SQL parameters hidden due to hide_parameters=True]")
        elif many and isinstance(params, list) and len(params) > _MAX_LOGGED_PARAMS:
            shown = params[:_MAX_LOGGED_PARAMS]
            self.logger.info(
                "[%d parameter sets] %r ... (%d more)", len(params), shown, len(params) - len(shown)
            )
        else:
            self.logger.info("[parameters] %r", params if params is not None else ())

    # --- events -------------------------------------------------------------------------

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        if identifier in cls._event_signatures:
            return target
        if identifier in Pool._event_signatures:
            return Pool if isinstance(target, type) else target.pool
        return target

    @classmethod
    def _adapt_listener(
        cls, identifier: str, fn: Callable[..., Any], retval: bool
    ) -> Callable[..., Any]:
        if retval:
            return fn
        if identifier == "before_execute":

            def keep_execute_args(
                conn: Any, clauseelement: Any, multiparams: Any, params: Any, options: Any
            ) -> tuple[Any, Any, Any]:
                fn(conn, clauseelement, multiparams, params, options)
                return clauseelement, multiparams, params

            return keep_execute_args
        if identifier == "before_cursor_execute":

            def keep_cursor_args(
                conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, many: bool
            ) -> tuple[Any, Any]:
                fn(conn, cursor, statement, parameters, context, many)
                return statement, parameters

            return keep_cursor_args
        return fn

    # --- connections --------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The database name of the dialect, e.g. ``"postgresql"``."""
        return self.dialect.name

    @property
    def driver(self) -> str:
        """The driver name of the dialect, e.g. ``"psycopg"``."""
        return self.dialect.driver

    def connect(self) -> Connection:
        """Check out a connection; use it as a context manager so it goes back to the pool."""
        return Connection(self)

    def begin(self) -> EngineBegin:
        """A connection inside a transaction: committed at the end, rolled back on error."""
        return EngineBegin(self)

    def raw_connection(self) -> PoolProxiedConnection:
        """A pooled driver connection without the Connection wrapper; ``close()`` returns it."""
        return self.pool.connect()

    # --- one-row transactions without a Connection ---------------------------------------

    def _lean_insert_failed(
        self,
        entry: ConnectionPoolEntry,
        cursor: Any,
        error: BaseException,
        sql: str,
        driver_params: Any,
    ) -> BaseException:
        """After a lean INSERT (or what led to it) raised ``error``: what a Connection would
        do (the error wrapped, the connection invalidated on a disconnect), the transaction
        rolled back and the connection returned; the exception to raise (``error`` itself
        when it is not the driver's)."""
        connection = self._lean_connection(entry)
        failure: BaseException = error
        if cursor is not None:
            connection._close_cursor_quietly(cursor)
        if isinstance(error, self.dialect.dbapi_error):
            failure = connection._handle_error(error, sql, driver_params, cursor)
        self._end_connection(connection)
        return failure

    def _lean_commit_failed(
        self, entry: ConnectionPoolEntry, error: BaseException
    ) -> tuple[Connection, RootTransaction, BaseException]:
        """After the COMMIT of a lean transaction raised ``error``: the connection as a
        Connection's would be left (checked out, its transaction ended), that transaction
        and the exception to raise (wrapped when the driver's, caused by ``error``)."""
        connection = self._lean_connection(entry)
        transaction = connection._transaction
        assert transaction is not None
        transaction._ended()
        failure: BaseException = error
        if isinstance(error, self.dialect.dbapi_error):
            failure = connection._handle_error(error, "COMMIT", None, None)
            failure.__cause__ = error
        return connection, transaction, failure

    def _insert_committer(
        self, statement: ClauseElement, parameters: Mapping[str, Any]
    ) -> InsertCommitter | None:
        """A function running the one-row INSERT ``statement`` as a transaction of its own,
        with no Connection, proxy, ExecutionContext or result: checkout, BEGIN (unless the
        dialect's ``insert_commits_alone`` lets it go), INSERT, COMMIT and checkin in one
        frame, with what they look up (compiled statement,
        parameter order, dialect and pool methods) found once, here, for parameter dicts
        with the keys of ``parameters`` in their order.  None when no such function can
        serve now (listeners, pre-ping, a statement whose RETURNING the engine reads
        itself, parameters that do not bind).

        Called with a parameter dict alone, the function returns the inserted primary key,
        or the RETURNING row for a statement with RETURNING, once committed and the
        connection returned; given ``accept`` too, it hands it the key and the row (None
        when the statement returns none) before the COMMIT, and returns True once
        committed: what ``accept`` raises rolls the INSERT back and is raised.  It returns
        None when it did nothing: something could tell the difference (an engine or pool
        listener, logging, execution options, a pool checkout that needs more than taking
        an idle connection), or, without ``accept``, the INSERT gave no row or a key
        without its first value (rolled back: the general path reports it).  It serves
        only while the event registry's generation is the one it was made in: a caller
        keeps it no longer.

        A failed INSERT is handled as a Connection's would be (wrapped, the connection
        invalidated on a disconnect), the connection rolled back and returned before it is
        raised; a failed COMMIT raises :class:`LeanCommitFailed`.  The function's cursor
        stays on the pool entry for its next run on that connection (see
        ``ConnectionPoolEntry.kept_cursor``).
        """
        dialect = self.dialect
        pool = self.pool
        dispatch = pool.dispatch
        if (
            self.dispatch._listened
            or statement._execution_options
            or pool._pre_ping
            or dispatch.checkout
            or dispatch.checkin
            or dispatch.reset
        ):
            return None
        compiled, extracted = compile_cached(statement, dialect, self._compiled_cache)
        if compiled.returns_hidden:
            return None
        try:
            read_sql, driver_params = compiled.prepare(extracted, parameters)
        except Exception:
            return None
        read = _values_by_key(compiled, parameters, read_sql, driver_params)
        prepare = compiled.route_for(parameters) or partial(compiled.prepare, extracted)
        generation = registry.generation
        engine = self
        checkout = pool._take_idle
        checkin = pool._checkin_entry
        dialect_type = type(dialect)
        current = (
            None
            if dialect_type.cursor_current is DefaultDialect.cursor_current
            else dialect.cursor_current
        )
        worth = (
            None
            if dialect_type.cursor_worth_keeping is DefaultDialect.cursor_worth_keeping
            else dialect.cursor_worth_keeping
        )
        explicit_begin = dialect.requires_explicit_begin and not self._autocommit
        begin = dialect.do_begin if explicit_begin else None
        # The usual INSERT of an autoincrement key: executed and its key read here.
        by_lastrowid = bool(
            driver_params and dialect._execute_directly and compiled.key_is_lastrowid(driver_params)
        )
        # Without ``accept`` (which may yet want the row undone), such an INSERT goes without
        # its BEGIN where the database makes it a transaction of its own just as safe.
        table = getattr(statement, "table", None)
        alone = by_lastrowid and table is not None and dialect.insert_commits_alone(table)
        lone_begin = None if alone else begin
        returns_rows = compiled.returns_rows
        commit_directly = dialect._commit_directly
        do_commit = dialect.do_commit
        close_quietly = Connection._close_cursor_quietly

        def commit_insert(
            params: Mapping[str, Any], accept: Callable[[Any, Any], None] | None = None
        ) -> Any:
            logger = engine.logger
            echo = logger.known_levels.get(_INFO)
            if (
                registry.generation != generation
                or engine.pool is not pool
                or pool._log_debug
                or engine._execution_options
                or (logger.isEnabledFor(_INFO) if echo is None else echo)
            ):
                return None
            try:
                if read is not None:
                    sql = read_sql
                    driver_params = read(params)
                else:
                    sql, driver_params = prepare(params)
            except Exception:
                return None  # the general path raises it, saying which parameter
            entry = checkout()
            if entry is None:
                return None
            conn = entry.dbapi_connection
            kept = entry.kept_cursor
            cursor = None
            try:
                if (
                    kept is not None
                    and kept[0] is conn
                    and (current is None or current(conn, kept[1]))
                ):
                    cursor = kept[1]
                else:
                    if kept is not None:
                        close_quietly(kept[1])
                    cursor = conn.cursor()
                    entry.kept_cursor = (conn, cursor)
                if (lone_begin if accept is None else begin) is not None:
                    begin(conn, cursor)  # type: ignore[misc]
                if by_lastrowid:
                    cursor.execute(sql, driver_params)
                    pk = None if cursor.rowcount == 0 else (cursor.lastrowid,)
                    row = None
                else:
                    pk, row = execute_insert(dialect, compiled, cursor, sql, driver_params)
            except BaseException as error:
                entry.kept_cursor = None
                failure = engine._lean_insert_failed(entry, cursor, error, sql, driver_params)
                if failure is error:
                    raise
                raise failure from error
            if worth is not None and not worth(cursor):
                entry.kept_cursor = None
                close_quietly(cursor)
            values: Any
            if accept is None:
                values = row if returns_rows else pk
                if values is None or values[0] is None:
                    engine._lean_rollback(entry)
                    return None
            else:
                try:
                    accept(pk, row)
                except BaseException:
                    engine._lean_rollback(entry)
                    raise
                values = True
            try:
                if commit_directly:
                    conn.commit()
                else:
                    do_commit(conn)
            except BaseException as error:
                raise LeanCommitFailed(*engine._lean_commit_failed(entry, error), values) from None
            checkin(entry, True)
            return values

        return commit_insert

    def _lean_rollback(self, entry: ConnectionPoolEntry) -> None:
        """Roll back the transaction of a function of :meth:`_insert_committer` and return
        the connection."""
        self._end_connection(self._lean_connection(entry))

    def _lean_connection(self, entry: ConnectionPoolEntry) -> Connection:
        """The Connection a lean checkout of ``entry`` would have been, its transaction begun
        (for what only a Connection knows how to do: failures)."""
        connection = Connection(self, self.pool._adopt(entry))
        connection._begin_root()
        connection._begin_pending = False
        return connection

    @staticmethod
    def _end_connection(connection: Connection) -> None:
        """Roll back (as a failed flush does: whatever the rollback says, the connection is
        done with) and close."""
        with contextlib.suppress(Exception):
            connection.rollback()
        connection.close()

    def dispose(self, close: bool = True) -> None:
        """Replace the pool with a fresh one, closing the old pool's idle connections;
        ``close=False`` drops them without closing (another owner may still use them).

        A forked child needs neither: the pool notices the new process and opens its own
        connections, leaving the parent's untouched.
        """
        if close:
            self.pool.dispose()
        self.pool = self.pool.recreate()
        if self.dispatch.engine_disposed:
            for fn in self.dispatch.engine_disposed:
                fn(self)

    def execution_options(self, **options: Any) -> OptionEngine:
        """A copy of this engine, sharing its pool, whose connections get ``options``."""
        return OptionEngine(self, options)

    def get_execution_options(self) -> Mapping[str, Any]:
        return dict(self._execution_options)

    def update_execution_options(self, **options: Any) -> None:
        """Add ``options`` to this engine's execution options (for its statements from now
        on), as ``create_engine(execution_options=...)`` would have set them."""
        if "isolation_level" in options:
            self.dialect.normalize_isolation_level(options["isolation_level"])
        self._execution_options = {**self._execution_options, **options}
        if self.dispatch.set_engine_execution_options:
            for fn in self.dispatch.set_engine_execution_options:
                fn(self, options)

    def clear_compiled_cache(self) -> None:
        """Forget every compiled statement; statements compile again on their next run."""
        if self._compiled_cache is not None:
            self._compiled_cache.clear()

    def __repr__(self) -> str:
        return f"Engine({self.url!r})"


class EngineBegin:
    """What ``engine.begin()`` returns: ``with`` it for a connection in a transaction, which
    commits when the block ends (rolls back when it raises) and then goes back to the pool.

    A class rather than a generator-based context manager: one transaction per ``with`` is a
    common pattern, and the generator machinery would be a sizable share of its cost.
    """

    __slots__ = ("_connection", "_engine", "_transaction")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> Connection:
        # Connection() and _begin_root() rather than engine.connect() and begin(): a new
        # Connection has no transaction yet, and each frame less counts here.
        connection = Connection(self._engine)
        try:
            self._transaction = connection._begin_root()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction = self._transaction
        try:
            if exc_type is None and transaction.is_active and not transaction._deactivated:
                transaction.commit()
            else:
                transaction.__exit__(exc_type, exc_value, traceback)
        finally:
            self._connection.close()


class OptionEngine(Engine):
    """An engine view with extra execution options, sharing the pool and dialect.

    The parent's listeners (also those added later) fire for it too; listeners added to the
    option engine fire only for the option engine.
    """

    def __init__(self, parent: Engine, options: Mapping[str, Any]) -> None:
        if "isolation_level" in options:
            parent.dialect.normalize_isolation_level(options["isolation_level"])
        self._parent = parent
        self.dialect = parent.dialect
        self.url = parent.url
        self.logging_name = parent.logging_name
        self.hide_parameters = parent.hide_parameters
        self._compiled_cache = parent._compiled_cache
        self._execution_options = {**parent._execution_options, **options}
        self._autocommit = parent._autocommit
        self._lean_cache = {}
        self.echo = parent.echo
        self._init_dispatch(parent)
        if self.dispatch.set_engine_execution_options:
            for fn in self.dispatch.set_engine_execution_options:
                fn(self, options)

    @property
    def pool(self) -> Pool:
        return self._parent.pool

    @pool.setter
    def pool(self, value: Pool) -> None:
        self._parent.pool = value
