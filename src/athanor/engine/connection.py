"""``Connection``: one checked-out database connection, its transactions and statement execution.

The 2.x "commit as you go" model: the first statement begins a transaction, ``commit()`` or
``rollback()`` ends it, and closing the connection rolls back whatever was left open before the
connection goes back to the pool.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import reprlib
import sys
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from functools import partial
from operator import itemgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from athanor import exc
from athanor.engine.context import ExecutionContext
from athanor.engine.result import CursorResult, ResultMetaData, ScalarResult
from athanor.engine.transaction import NestedTransaction, RootTransaction
from athanor.pool import PoolProxiedConnection
from athanor.sql.compiler import ValueRows, compile_cached, result_key_objects
from athanor.sql.elements import (
    ClauseElement,
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
    _IdentifiedClause,
)
from athanor.sql.selectable import TypedReturnsRows
from athanor.util.typevars import TP

if TYPE_CHECKING:
    from athanor.engine.default import DefaultDialect
    from athanor.engine.engine import Engine
    from athanor.engine.row import Row
    from athanor.pool.base import ConnectionPoolEntry

_T = TypeVar("_T")
_new_object = object.__new__
_getrefcount = sys.getrefcount
_INFO = logging.INFO
_EMPTY: Mapping[str, Any] = {}
Step = tuple[str, Any, bool, "list[tuple[Any, ...]] | None"]
_savepoint_ids = itertools.count(1)
FETCH_AT_ONCE = 100


def take_few(cursor: Any) -> tuple[list[Any], bool]:
    """The rows of an executed cursor read at once, and whether they are all of them.

    A driver that counts a SELECT's rows says whether there are few (at most
    ``FETCH_AT_ONCE``: all read then); one that does not (``rowcount`` -1: SQLite) is asked
    for one row more than that, and the rows read are the first of many when it has it.
    """
    rowcount = cursor.rowcount
    if rowcount >= 0:
        if rowcount > FETCH_AT_ONCE:
            return [], False
        return cursor.fetchall(), True
    rows: list[Any] = cursor.fetchmany(FETCH_AT_ONCE + 1)
    return rows, len(rows) <= FETCH_AT_ONCE


"""A client-side result of at most this many rows (its ``rowcount``) is fetched as the
statement runs; larger ones are fetched in batches as they are read."""

ExecuteParams = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class ExceptionContext:
    """What ``handle_error`` listeners see about a failed statement; they may adjust it."""

    def __init__(
        self,
        connection: Connection | None,
        engine: Engine,
        dialect: DefaultDialect,
        cursor: Any,
        statement: str | None,
        parameters: Any,
        original_exception: BaseException,
        athanor_exception: exc.StatementError | None,
        is_disconnect: bool,
        is_pre_ping: bool = False,
        execution_context: ExecutionContext | None = None,
    ) -> None:
        self.connection = connection
        self.engine = engine
        self.dialect = dialect
        self.cursor = cursor
        self.statement = statement
        self.parameters = parameters
        self.original_exception = original_exception
        self.sqlalchemy_exception = athanor_exception
        self.chained_exception: BaseException | None = None
        self.is_disconnect = is_disconnect
        self.invalidate_pool_on_disconnect = True
        self.is_pre_ping = is_pre_ping
        self.execution_context = execution_context


class Connection:
    """A proxy for one pooled driver connection, with transactions and ``execute()``."""

    def __init__(self, engine: Engine, proxied: PoolProxiedConnection | None = None) -> None:
        self.engine = engine
        self.dialect: DefaultDialect = engine.dialect
        # The pool directly rather than engine.raw_connection(): one frame less for the
        # checkout to walk out of when it looks for the application's line.
        self._proxied: PoolProxiedConnection | None = (
            proxied if proxied is not None else engine.pool.connect()
        )
        self._transaction: RootTransaction | None = None
        self._nested_transaction: NestedTransaction | None = None
        self._execution_options: Mapping[str, Any] = engine._execution_options
        self._closed = False
        self._invalidated = False
        self._isolation_changed = False
        self._begin_pending = False
        self._transaction_ended = False
        self._spare_cursor: Any = None
        self._autocommit = engine._autocommit
        logger = engine.logger
        echo = logger.known_levels.get(_INFO)
        self._echo = logger.isEnabledFor(_INFO) if echo is None else echo
        self._dispatch = engine.dispatch
        if engine._execution_options or self._dispatch.engine_connect:
            self._set_up()

    def _set_up(self) -> None:
        """Apply the engine's execution options and run ``engine_connect`` listeners.

        If either fails (a level the server refuses, a listener's error, a task cancelled
        meanwhile), the caller never gets this Connection to close: the pooled connection goes
        back now, rolled back and reset, rather than whenever the error is let go of.
        """
        try:
            if self.engine._execution_options:
                self._apply_execution_options(self.engine._execution_options)
            for fn in self._dispatch.engine_connect:
                fn(self)
        except BaseException:
            self.close()
            raise

    # --- state -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._closed

    @property
    def invalidated(self) -> bool:
        """True when the underlying connection was discarded (disconnect or ``invalidate()``)."""
        return self._invalidated

    @property
    def connection(self) -> PoolProxiedConnection:
        """The pooled driver connection, reconnecting after an invalidation if allowed."""
        proxied = self._proxied
        if proxied is not None:
            return proxied
        return self._revalidate()

    def _revalidate(self) -> PoolProxiedConnection:
        if self._closed:
            raise exc.ResourceClosedError(
                "This Connection is closed; open a new one with engine.connect()"
            )
        if self._transaction is not None:
            raise exc.PendingRollbackError(
                "Can't reconnect until the invalidated transaction is rolled back; call "
                "rollback() on the connection first"
            )
        self._proxied = self.engine.raw_connection()
        self._invalidated = False
        self._isolation_changed = False
        self._autocommit = self.engine._autocommit
        if self._execution_options:
            self._apply_execution_options(self._execution_options)
        return self._proxied

    @property
    def info(self) -> dict[Any, Any]:
        """A dict that lives as long as the physical connection."""
        info: dict[Any, Any] = self.connection.info
        return info

    @property
    def default_isolation_level(self) -> str | None:
        """The isolation level the connection had when it was first made."""
        return self.dialect.default_isolation_level

    def get_isolation_level(self) -> str:
        """The isolation level in effect now, asked of the database."""
        try:
            return self.dialect.get_isolation_level(self.connection.dbapi_connection)
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, None, None, None) from error

    # --- execution options ------------------------------------------------------------

    def execution_options(self, **options: Any) -> Connection:
        """Set execution options on this connection (in place) and return it."""
        if options:
            self._execution_options = {**self._execution_options, **options}
            self._apply_execution_options(options)
            if self._dispatch.set_connection_execution_options:
                for fn in self._dispatch.set_connection_execution_options:
                    fn(self, options)
        return self

    def get_execution_options(self) -> Mapping[str, Any]:
        return dict(self._execution_options)

    def _apply_execution_options(self, options: Mapping[str, Any]) -> None:
        level = options.get("isolation_level")
        if level is None:
            return
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "Cannot change isolation_level while a transaction is in progress; commit() or "
                "rollback() first, or set it before the first statement"
            )
        normalized = self.dialect.normalize_isolation_level(level)
        dbapi_connection = self.connection.dbapi_connection
        try:
            self.dialect.set_isolation_level(dbapi_connection, normalized)
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, None, None, None) from error
        self._isolation_changed = True
        self._autocommit = normalized == "AUTOCOMMIT"

    # --- transactions -----------------------------------------------------------------

    def begin(self) -> RootTransaction:
        """Begin the connection's transaction explicitly; use as a context manager."""
        if self._transaction is not None:
            raise exc.InvalidRequestError(
                "A transaction is already begun on this Connection (statements begin one "
                "automatically); commit() or rollback() it first, or use begin_nested()"
            )
        return self._begin_root()

    def _begin_root(self) -> RootTransaction:
        if self._echo:
            self.engine.logger.info("BEGIN (implicit)")
        self._begin_pending = self.dialect.requires_explicit_begin and not self._autocommit
        self._transaction_ended = False
        # RootTransaction's __init__ inlined (its slots set here): one per transaction.
        transaction = _new_object(RootTransaction)
        transaction.connection = self
        transaction.is_active = True
        transaction._deactivated = False
        self._transaction = transaction
        if self._dispatch.begin:
            self._run_begin_listeners()
        return transaction

    def _run_begin_listeners(self) -> None:
        """Run the ``begin`` listeners of the transaction just begun, which may run
        statements in it (SQLite's ``BEGIN IMMEDIATE``, say).  If one fails there is no
        transaction, and whatever a listener began on the driver is rolled back."""
        try:
            for fn in self._dispatch.begin:
                fn(self)
        except BaseException:
            self._transaction = None
            self._begin_pending = False
            with contextlib.suppress(Exception):
                self._driver_rollback()
            raise

    def _emit_begin(self, cursor: Any = None) -> None:
        """Send BEGIN before the transaction's first statement (on its ``cursor``, if
        given), for drivers that need it.

        Deferred to the first statement that ``statement_needs_transaction`` so that
        statements which must run outside a transaction (SQLite's ``PRAGMA
        journal_mode=WAL``) still work at the start of ``engine.begin()``.
        """
        self._begin_pending = False
        proxied = self._proxied
        if proxied is None:
            proxied = self.connection
        try:
            self.dialect.do_begin(proxied.dbapi_connection, cursor)
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, "BEGIN", None, None) from error

    def begin_nested(self) -> NestedTransaction:
        """Open a SAVEPOINT (beginning the root transaction first if needed)."""
        if self._transaction is None:
            self._begin_root()
        name = f"athanor_sp_{next(_savepoint_ids)}"
        if self._dispatch.savepoint:
            for fn in self._dispatch.savepoint:
                fn(self, name)
        self._run_transaction_sql(SavepointClause(name))
        nested = NestedTransaction(self, name, self._nested_transaction)
        self._nested_transaction = nested
        return nested

    def in_transaction(self) -> bool:
        return self._transaction is not None

    def in_nested_transaction(self) -> bool:
        return self._nested_transaction is not None

    def get_transaction(self) -> RootTransaction | None:
        return self._transaction

    def get_nested_transaction(self) -> NestedTransaction | None:
        return self._nested_transaction

    def commit(self) -> None:
        """Commit the transaction in progress, if any."""
        if self._transaction is not None:
            self._transaction.commit()

    def rollback(self) -> None:
        """Roll back the transaction in progress (also clears a failed state), and any the
        driver began on its own, e.g. for ``get_isolation_level()``."""
        if self._transaction is not None:
            self._transaction.rollback()
            return
        self._driver_rollback()

    def _rollback_impl(self) -> None:
        if self._dispatch.rollback:
            for fn in self._dispatch.rollback:
                fn(self)
        if self._echo:
            self.engine.logger.info("ROLLBACK")
        self._driver_rollback()

    def _driver_rollback(self) -> None:
        proxied = self._proxied
        if proxied is None:
            return
        try:
            self.dialect.do_rollback(proxied.dbapi_connection)
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, "ROLLBACK", None, None) from error

    def _run_transaction_sql(self, statement: _IdentifiedClause) -> None:
        """Run a savepoint statement: through :meth:`execute` when an execution event
        listens, so that listeners see it like any other statement; else straight to a
        cursor of its own."""
        dispatch = self._dispatch
        if (
            dispatch.before_execute
            or dispatch.after_execute
            or dispatch.before_cursor_execute
            or dispatch.after_cursor_execute
        ):
            self.execute(statement).close()
            return
        sql = statement._render(self.dialect.identifier_preparer)
        proxied = self.connection
        if self._begin_pending and self.dialect.statement_needs_transaction(sql):
            self._emit_begin()
        if self._echo:
            self.engine.logger.info(sql)
        cursor = proxied.dbapi_connection.cursor()
        try:
            self.dialect.do_execute_no_params(cursor, sql)
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, sql, None, cursor) from error
        finally:
            cursor.close()

    def _release_savepoint_impl(self, name: str) -> None:
        if self._dispatch.release_savepoint:
            for fn in self._dispatch.release_savepoint:
                fn(self, name, None)
        self._run_transaction_sql(ReleaseSavepointClause(name))

    def _rollback_to_savepoint_impl(self, name: str) -> None:
        if self._dispatch.rollback_savepoint:
            for fn in self._dispatch.rollback_savepoint:
                fn(self, name, None)
        self._run_transaction_sql(RollbackToSavepointClause(name))

    def _release_all_savepoints(self) -> None:
        while self._nested_transaction is not None:
            nested = self._nested_transaction
            if nested.is_active:
                nested.commit()
            else:
                nested._end()

    def _forget_savepoints(self) -> None:
        while self._nested_transaction is not None:
            nested = self._nested_transaction
            nested.is_active = False
            nested._end()

    # --- execution --------------------------------------------------------------------

    @overload
    def execute(
        self,
        statement: TypedReturnsRows[TP],
        parameters: ExecuteParams = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[TP]: ...
    @overload
    def execute(
        self,
        statement: ClauseElement,
        parameters: ExecuteParams = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]: ...
    def execute(
        self,
        statement: ClauseElement,
        parameters: ExecuteParams = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        """Run a statement (``select()``, ``insert()``, ``text()``, DDL...) and return its result.

        ``parameters`` is a dict for one execution or a list of dicts for executemany.  Type
        checkers see typed rows for a typed ``select()``, and reject non-statements.
        """
        if not isinstance(statement, ClauseElement):
            raise exc.ObjectNotExecutableError(statement)
        statement_options = statement._execution_options
        options: Mapping[str, Any]
        if statement_options:
            options = {
                **self._execution_options,
                **statement_options,
                **(execution_options or {}),
            }
        elif execution_options:
            options = {**self._execution_options, **execution_options}
        else:
            options = self._execution_options
        dispatch = self._dispatch
        if type(parameters) is ValueRows and (
            self._echo
            or dispatch.before_execute
            or dispatch.after_execute
            or dispatch.before_cursor_execute
            or dispatch.after_cursor_execute
            or dispatch.handle_error
        ):
            parameters = list(parameters)  # what is watched gets the usual list of dicts
        if dispatch.before_execute:
            multiparams, params = _split_params(parameters)
            for fn in dispatch.before_execute:
                statement, multiparams, params = fn(self, statement, multiparams, params, options)
            parameters = _join_params(multiparams, params)
        dialect = self.dialect
        cache = self.engine._compiled_cache
        schema_map = None
        if options:
            if "compiled_cache" in options and options["compiled_cache"] is None:
                cache = None
            schema_map = options.get("schema_translate_map")
        compiled, extracted = compile_cached(statement, dialect, cache, schema_map)
        # One parameter set or many; a dict, the usual case, without the ABC's check.
        one: Mapping[str, Any] | None = None
        many: Sequence[Mapping[str, Any]] | None = None
        if parameters is None or type(parameters) is dict or isinstance(parameters, Mapping):
            one = parameters
        elif not parameters:
            raise exc.ArgumentError("execute() got an empty list of parameter sets")
        elif len(parameters) == 1 and isinstance(parameters[0], Mapping):
            one = parameters[0]
        else:
            many = parameters
        try:
            if many is None:
                sql, driver_params = compiled.prepare(extracted, one)
            else:
                steps = compiled.prepare_many(extracted, many)
        except Exception as error:
            self._raise_bind_error(error, compiled, extracted, one if many is None else many)
        if many is None:
            context = ExecutionContext(
                self, compiled, statement, (one,) if one else (), options, False
            )
            result = self._run(context, sql, driver_params)
        else:
            context = ExecutionContext(self, compiled, statement, many, options, True)
            context._many_steps = steps
            result = self._run_many(context, steps)
        if dispatch.after_execute:
            multiparams, params = _split_params(one if many is None else many)
            for fn in dispatch.after_execute:
                fn(self, statement, multiparams, params, options, result)
        return result

    def _raise_bind_error(
        self, error: Exception, compiled: Any, extracted: Any, parameters: ExecuteParams
    ) -> NoReturn:
        """Raise an error raised while binding parameters, a missing value or a type that
        cannot bind a value (wrapped in a StatementError naming the parameter), with what was
        run and with what."""
        if isinstance(error, exc.DontWrapMixin) or (
            isinstance(error, exc.AthanorError) and not isinstance(error, exc.StatementError)
        ):
            raise error
        sets: Sequence[Mapping[str, Any] | None]
        if parameters is None or isinstance(parameters, Mapping):
            many, sets = False, [parameters]
        else:
            many, sets = True, parameters
        if not isinstance(error, exc.StatementError):
            failing = next(
                (
                    key
                    for one in sets
                    if (key := compiled.unbindable_parameter(extracted, one, many)) is not None
                ),
                None,
            )
            which = "A parameter" if failing is None else f"Parameter {failing!r}"
            kind = type(error)
            wrapped = exc.StatementError(
                f"{which} could not be bound: ({kind.__module__}.{kind.__qualname__}) {error}",
                compiled.sql_for(sets[0], many=many),
                parameters,
                error,
                self.engine.hide_parameters,
            )
            raise wrapped from error
        if error.statement is None:
            error.statement = compiled.sql_for(sets[0], many=many)
            error.params = parameters
            error.hide_parameters = self.engine.hide_parameters
        raise error

    def _insert_row(
        self, statement: ClauseElement, parameters: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...] | None, Row | None]:
        """Run a one-row INSERT for the ORM's flush: the inserted primary key (None when no row
        was inserted: a conflict the table's definition ignores) and the row its RETURNING
        gives (None when it returns nothing).

        Straight to the cursor, without an ExecutionContext or a CursorResult, when no
        connection event listens, nothing is logged and no execution option applies; else
        through :meth:`execute`, so that listeners see exactly what they always did.
        """
        dispatch = self._dispatch
        if (
            self._execution_options
            or statement._execution_options
            or self._echo
            or dispatch.before_execute
            or dispatch.after_execute
            or dispatch.before_cursor_execute
            or dispatch.after_cursor_execute
            or dispatch.handle_error
        ):
            return self._insert_row_executed(statement, parameters)
        dialect = self.dialect
        cache = self.engine._compiled_cache
        found = None if cache is None else cache.by_statement.get(id(statement))
        if found is not None and found[0] is statement:
            _, compiled, extracted = found
        else:
            compiled, extracted = compile_cached(statement, dialect, cache)
        if compiled.returns_hidden:  # the engine reads RETURNING itself: the general path
            return self._insert_row_executed(statement, parameters)
        try:
            sql, driver_params = compiled.prepare(extracted, parameters)
        except Exception as error:
            self._raise_bind_error(error, compiled, extracted, parameters)
        cursor, _ = self._cursor_for(_EMPTY)
        try:
            if self._begin_pending:
                self._emit_begin(cursor)  # an INSERT always runs in the transaction
            inserted = execute_insert(dialect, compiled, cursor, sql, driver_params)
        except BaseException as error:
            self._close_cursor_quietly(cursor)
            if isinstance(error, dialect.dbapi_error):
                raise self._handle_error(error, sql, driver_params, cursor) from error
            raise
        self._release_cursor(cursor)
        return inserted

    def direct_select(
        self, statement: ClauseElement, parameters: Mapping[str, Any] | None
    ) -> DirectSelect | None:
        """A SELECT of a shape run before, ready to go straight to the cursor; None when the
        general path (:meth:`execute`) must run it.

        The direct path builds no ExecutionContext and, for a few rows, no CursorResult.  It
        is taken only when nothing could tell the difference: no connection event listens,
        nothing is logged, no execution option applies, the transaction is begun and active
        on a live connection, no BEGIN must go first, and the compiled statement's row
        shape is known.
        """
        dispatch = self._dispatch
        transaction = self._transaction
        if (
            self._execution_options
            or statement._execution_options
            or self._echo
            or self._proxied is None
            or transaction is None
            or transaction._deactivated
            or dispatch.before_execute
            or dispatch.after_execute
            or dispatch.before_cursor_execute
            or dispatch.after_cursor_execute
            or dispatch.handle_error
            or not (parameters is None or type(parameters) is dict)
        ):
            return None
        compiled, extracted = compile_cached(statement, self.dialect, self.engine._compiled_cache)
        metadata: ResultMetaData | None = getattr(compiled, "_result_metadata", None)
        if (
            metadata is None
            or not compiled.returns_rows
            or compiled.isinsert
            or compiled.returns_hidden
            or compiled.keys_by_statement
        ):
            return None
        try:
            sql, driver_params = compiled.prepare(extracted, parameters)
        except Exception as error:
            self._raise_bind_error(error, compiled, extracted, parameters)
        if self._begin_pending and self.dialect.statement_needs_transaction(sql):
            return None  # the general path sends the BEGIN first
        return DirectSelect(self, compiled, metadata, statement, parameters, sql, driver_params)

    def _insert_row_executed(
        self, statement: ClauseElement, parameters: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...] | None, Row | None]:
        """:meth:`_insert_row` through :meth:`execute` and its result."""
        result = self.execute(statement, parameters)
        row = result.first() if result.returns_rows else None
        return (None if result.rowcount == 0 else result._inserted_primary_key), row

    @overload
    def scalar(
        self,
        statement: TypedReturnsRows[tuple[_T, *tuple[Any, ...]]],
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> _T | None: ...
    @overload
    def scalar(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any: ...
    def scalar(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a statement and return the first column of its first row (or None)."""
        return self.execute(statement, parameters, execution_options=execution_options).scalar()

    @overload
    def scalars(
        self,
        statement: TypedReturnsRows[tuple[_T, *tuple[Any, ...]]],
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[_T]: ...
    @overload
    def scalars(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[Any]: ...
    def scalars(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any] | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> ScalarResult[Any]:
        """Run a statement and return a ScalarResult of its first column."""
        return self.execute(statement, parameters, execution_options=execution_options).scalars()

    def exec_driver_sql(
        self,
        statement: str,
        parameters: Sequence[Any] | Mapping[str, Any] | None = None,
        execution_options: Mapping[str, Any] | None = None,
    ) -> CursorResult:
        """Run a SQL string exactly as given, with parameters in the driver's own style."""
        if not isinstance(statement, str):
            raise exc.ArgumentError(
                f"exec_driver_sql() takes a SQL string, got {type(statement).__name__}; use "
                "execute() for statement objects"
            )
        options = (
            {**self._execution_options, **execution_options}
            if execution_options
            else self._execution_options
        )
        if parameters is None:
            parameters = ()
        elif isinstance(parameters, list):
            if not all(isinstance(one, tuple | Mapping) for one in parameters):
                raise exc.ArgumentError(
                    "exec_driver_sql() takes a list only of parameter sets (tuples or "
                    f"dictionaries, for executemany), got {reprlib.repr(parameters)}: pass the "
                    "values of one statement as a tuple, (1, 2) rather than [1, 2], and those "
                    "of many as a list of tuples"
                )
            if len(parameters) > 1:
                context = ExecutionContext(self, None, statement, (), options, True)
                return self._run_many(context, [(statement, parameters, True, None)])
            parameters = parameters[0] if parameters else ()
        elif not isinstance(parameters, tuple | Mapping):
            raise exc.ArgumentError(
                "exec_driver_sql() takes parameters as a tuple, a dictionary or a list of "
                f"them, got {type(parameters).__name__} {reprlib.repr(parameters)}"
            )
        return self._run(
            ExecutionContext(self, None, statement, (), options, False), statement, parameters
        )

    def _cursor_for(self, options: Mapping[str, Any]) -> tuple[Any, bool]:
        proxied = self._proxied
        if proxied is None:
            proxied = self.connection
        if self._transaction is None:
            self._begin_root()
        elif self._transaction._deactivated:
            raise exc.PendingRollbackError(
                "This connection's transaction failed earlier; call rollback() before running "
                "more statements"
            )
        server_side = (
            bool(options)
            and bool(options.get("stream_results"))
            and self.dialect.supports_server_side_cursors
        )
        try:
            if server_side:
                cursor = self.dialect.create_cursor(proxied.dbapi_connection, True)
            else:
                cursor = self._spare_cursor
                if cursor is not None:
                    self._spare_cursor = None
                elif self.dialect.keeps_cursors:
                    cursor = entry_cursor(
                        self.dialect, proxied._connection_record, proxied.dbapi_connection
                    )
                else:
                    cursor = proxied.dbapi_connection.cursor()
        except self.dialect.dbapi_error as error:
            raise self._handle_error(error, None, None, None) from error
        return cursor, server_side

    def _run(self, context: ExecutionContext, sql: str, driver_params: Any) -> CursorResult:
        options = context.execution_options
        cursor, server_side = self._cursor_for(options)
        context.cursor = cursor
        dispatch = self._dispatch
        dialect = self.dialect
        try:
            if dispatch.before_cursor_execute:
                driver_params = _as_seen(driver_params, False)
                for fn in dispatch.before_cursor_execute:
                    sql, driver_params = fn(self, cursor, sql, driver_params, context, False)
            context.statement = sql
            context.parameters = driver_params
            if self._begin_pending and dialect.statement_needs_transaction(sql):
                self._emit_begin(cursor)
            if self._echo:
                self.engine._log_statement(sql, driver_params)
            if not driver_params:
                # The compiler escapes "%" only in statements that carry parameters.
                dialect.do_execute_no_params(cursor, sql)
            elif dialect._execute_directly:
                cursor.execute(sql, driver_params)
            else:
                dialect.do_execute(cursor, sql, driver_params)
            if dispatch.after_cursor_execute:
                seen = _as_seen(driver_params, False)
                for fn in dispatch.after_cursor_execute:
                    fn(self, cursor, sql, seen, context, False)
        except BaseException as error:
            # Whatever failed (a listener, the BEGIN, the statement), the cursor is not
            # handed to a result, so it is closed here.
            self._close_cursor_quietly(cursor)
            if isinstance(error, dialect.dbapi_error):
                raise self._handle_error(error, sql, driver_params, cursor, context) from error
            raise
        try:
            return self._make_result(context, cursor, server_side, driver_params)
        except dialect.dbapi_error as error:
            self._close_cursor_quietly(cursor)
            raise self._handle_error(error, sql, driver_params, cursor, context) from error

    def _run_many(self, context: ExecutionContext, steps: Sequence[Step]) -> CursorResult:
        cursor, _ = self._cursor_for(_EMPTY)
        context.cursor = cursor
        compiled = context.compiled
        reads_returning = compiled is not None and compiled.returned_width > 0
        dialect = self.dialect
        dispatch = self._dispatch
        rowcount = 0
        returned: list[Any] = []
        param_pks: list[tuple[Any, ...] | None] | None = [] if compiled is not None else None
        steps_of_insert: list[tuple[Any, int]] | None = (
            [] if compiled is not None and compiled.isinsert and not reads_returning else None
        )
        description = None
        try:
            for step_sql, step_params, is_many, step_pks in steps:
                sql, driver_params = step_sql, step_params
                if dispatch.before_cursor_execute:
                    driver_params = _as_seen(driver_params, is_many)
                    for fn in dispatch.before_cursor_execute:
                        sql, driver_params = fn(self, cursor, sql, driver_params, context, is_many)
                context.statement = sql
                context.parameters = driver_params
                if self._begin_pending and dialect.statement_needs_transaction(sql):
                    self._emit_begin(cursor)
                if self._echo:
                    self.engine._log_statement(sql, driver_params, many=is_many)
                try:
                    if is_many:
                        dialect.do_executemany(cursor, sql, driver_params)
                    else:
                        dialect.do_execute(cursor, sql, driver_params)
                except dialect.dbapi_error as error:
                    raise self._handle_error(error, sql, driver_params, cursor, context) from error
                if dispatch.after_cursor_execute:
                    seen = _as_seen(driver_params, is_many)
                    for fn in dispatch.after_cursor_execute:
                        fn(self, cursor, sql, seen, context, is_many)
                if cursor.description is not None:
                    description = cursor.description
                    rows = cursor.fetchall()
                    if reads_returning:
                        rows = _in_parameter_order(self, compiled, rows, step_pks)
                    returned.extend(rows)
                if param_pks is not None:
                    if step_pks is None:
                        param_pks = None
                    else:
                        param_pks.extend(step_pks)
                if cursor.rowcount is not None and cursor.rowcount >= 0:
                    rowcount += cursor.rowcount
                if steps_of_insert is not None:
                    if is_many:
                        steps_of_insert = None
                    else:
                        steps_of_insert.append(
                            (getattr(cursor, "lastrowid", None), cursor.rowcount)
                        )
        finally:
            self._close_cursor_quietly(cursor)
        context.rowcount = rowcount
        context._insert_steps = steps_of_insert
        if reads_returning and description is not None:
            context._returned_rows = returned
        elif compiled is not None and compiled.isinsert:
            context._pk_rows = (
                list(param_pks)
                if param_pks is not None
                else [None] * len(context.compiled_parameters)
            )
        if description is None or (compiled is not None and not compiled.returns_rows):
            return CursorResult(None, rowcount=rowcount, returns_rows=False, context=context)
        if compiled is not None and compiled.returns_hidden:
            width = len(compiled.result_keys)
            returned = [row[:width] for row in returned if row is not None]
        return CursorResult(
            _ListCursor(returned, description),
            metadata=_result_metadata(compiled, description),
            rowcount=rowcount,
            context=context,
        )

    def _make_result(
        self, context: ExecutionContext, cursor: Any, server_side: bool, driver_params: Any
    ) -> CursorResult:
        engine = self.engine
        compiled = context.compiled
        options = context.execution_options
        if compiled is not None and not server_side:
            known: ResultMetaData | None = getattr(compiled, "_result_metadata", None)
            if (
                known is not None
                and not compiled.isinsert
                and not compiled.returns_hidden
                and not compiled.keys_by_statement
            ):
                # A compiled statement whose row shape is already known: reading
                # cursor.description again would only cost time (psycopg builds it anew).
                rowcount = cursor.rowcount
                # Rows are logged along with statements (DEBUG includes INFO): asking the
                # logger is needed only on a connection that logs statements.
                row_logger = engine._row_logger if self._echo and engine._echo_rows else None
                yield_per = options.get("yield_per") if options else None
                head: list[Any] | None = None
                if row_logger is None and yield_per is None:
                    # A few rows, all in the driver's hands already: taken now, so the
                    # cursor is free for the next statement and reading them costs less.
                    head, complete = take_few(cursor)
                    if complete:
                        arraysize = cursor.arraysize
                        self._release_cursor(cursor)
                        return CursorResult.fetched(known, head, rowcount, arraysize, context)
                result = CursorResult(
                    cursor,
                    metadata=known,
                    rowcount=rowcount,
                    on_close=partial(self._release_cursor, cursor),
                    row_logger=row_logger,
                    yield_per=yield_per,
                    context=context,
                )
                if head:
                    result._source._hold(head)
                return result
        description = cursor.description
        inserted_primary_key = None
        if compiled is not None and compiled.returns_hidden and description is not None:
            # The engine reads RETURNING itself (primary key, defaults); the columns asked for
            # with returning() / supplemental_cols come first in each row.
            raw_rows = cursor.fetchall()
            context._returned_rows = list(raw_rows)
            rowcount = cursor.rowcount
            if compiled.isinsert:
                inserted_primary_key = compiled.inserted_primary_key(
                    driver_params, None, raw_rows[0] if raw_rows else None
                )
                context._pk_rows = [inserted_primary_key]
            self._release_cursor(cursor)
            if not compiled.returns_rows:
                return CursorResult(
                    None,
                    rowcount=rowcount,
                    inserted_primary_key=inserted_primary_key,
                    returns_rows=False,
                    context=context,
                )
            width = len(compiled.result_keys)
            return CursorResult(
                _ListCursor([row[:width] for row in raw_rows], description),
                metadata=_result_metadata(compiled, description[:width]),
                rowcount=rowcount,
                inserted_primary_key=inserted_primary_key,
                context=context,
            )
        if compiled is not None and compiled.isinsert:
            # A row skipped by an ignored conflict leaves lastrowid at an earlier row's key.
            inserted_primary_key = compiled.inserted_primary_key(
                driver_params,
                getattr(cursor, "lastrowid", None) if cursor.rowcount != 0 else None,
                None,
            )
            context._pk_rows = [inserted_primary_key]
        if description is None:
            rowcount = context.rowcount = cursor.rowcount
            lastrowid = context.lastrowid = getattr(cursor, "lastrowid", None)
            self._release_cursor(cursor)
            return CursorResult.rowless(rowcount, lastrowid, inserted_primary_key, context)
        if compiled is not None and compiled.keys_by_statement:
            metadata = _statement_metadata(compiled, context.invoked_statement, description)
        else:
            metadata = _result_metadata(compiled, description)
        return CursorResult(
            cursor,
            metadata=metadata,
            rowcount=cursor.rowcount,
            on_close=cursor.close if server_side else partial(self._release_cursor, cursor),
            row_logger=engine._row_logger if self._echo and engine._echo_rows else None,
            yield_per=(options.get("yield_per") or options.get("max_row_buffer"))
            if options
            else None,
            is_server_side=server_side,
            inserted_primary_key=inserted_primary_key,
            context=context,
        )

    def _release_cursor(self, cursor: Any) -> None:
        """Keep one finished cursor for the next statement; creating cursors is not free."""
        if self._spare_cursor is None and self._proxied is not None and not self._closed:
            self._spare_cursor = cursor
        else:
            self._close_cursor_quietly(cursor)

    def _drop_spare_cursor(self) -> None:
        """Close the spare cursor (the connection is being discarded)."""
        spare = self._spare_cursor
        if spare is not None:
            self._spare_cursor = None
            self._close_cursor_quietly(spare)

    @staticmethod
    def _close_cursor_quietly(cursor: Any) -> None:
        try:
            cursor.close()
        except Exception:
            return

    # --- errors -----------------------------------------------------------------------

    def _handle_error(
        self,
        error: BaseException,
        statement: str | None,
        params: Any,
        cursor: Any,
        context: ExecutionContext | None = None,
    ) -> BaseException:
        """Wrap a driver error; a disconnect invalidates this and the older pooled connections."""
        proxied = self._proxied
        dbapi_connection = proxied.dbapi_connection if proxied is not None else None
        is_disconnect = self.dialect.is_disconnect(error, dbapi_connection, cursor)
        wrapped = exc.DBAPIError.instance(
            statement,
            params,
            error,
            self.dialect.dbapi_error,
            hide_parameters=self.engine.hide_parameters,
            connection_invalidated=is_disconnect,
        )
        final: BaseException = wrapped
        if self._dispatch.handle_error:
            error_context = ExceptionContext(
                self,
                self.engine,
                self.dialect,
                cursor,
                statement,
                params,
                error,
                wrapped,
                is_disconnect,
                execution_context=context,
            )
            for fn in self._dispatch.handle_error:
                replacement = fn(error_context)
                if replacement is not None:
                    final = error_context.chained_exception = replacement
            is_disconnect = error_context.is_disconnect
            if isinstance(wrapped, exc.DBAPIError):
                wrapped.connection_invalidated = is_disconnect
        if is_disconnect:
            self._invalidate_after_disconnect(error)
        return final

    def _invalidate_after_disconnect(self, error: BaseException) -> None:
        proxied = self._proxied
        if proxied is None:
            return
        self._drop_spare_cursor()
        self._proxied = None
        self._invalidated = True
        if self._transaction is not None:
            self._transaction._deactivate()
        self.engine.pool._invalidate(proxied, error)

    def invalidate(self, exception: BaseException | None = None) -> None:
        """Discard the underlying connection; the next use of this Connection reconnects."""
        if self._closed:
            raise exc.ResourceClosedError("This Connection is closed")
        proxied = self._proxied
        if proxied is None:
            return
        self._drop_spare_cursor()
        self._proxied = None
        self._invalidated = True
        if self._transaction is not None:
            self._transaction._deactivate()
        proxied.invalidate(exception)

    def detach(self) -> None:
        """Take the physical connection out of the pool; closing will really close it."""
        self.connection.detach()

    # --- closing ----------------------------------------------------------------------

    def close(self) -> None:
        """Roll back anything in progress and return the connection to the pool."""
        if self._closed:
            return
        self._closed = True
        transaction = self._transaction
        proxied = self._proxied
        spare = self._spare_cursor
        if spare is not None:
            # A ``keeps_cursors`` dialect's spare cursor is left to the physical connection's
            # next checkout (some drivers build a cursor from several Python objects), where
            # the pool hands the connection to one user at a time; any other is closed.
            self._spare_cursor = None
            dialect = self.dialect
            if (
                dialect.keeps_cursors
                and proxied is not None
                and (entry := proxied._connection_record) is not None
                and proxied._pool.exclusive_checkouts
                and dialect.cursor_worth_keeping(spare)
            ):
                entry.kept_cursor = (proxied.dbapi_connection, spare)
            else:
                try:  # what _close_cursor_quietly does, without its call on every close()
                    spare.close()
                except Exception:
                    spare = None  # a cursor that fails to close is dropped all the same
        try:
            if transaction is not None:
                transaction.close()
            if proxied is not None and self._isolation_changed:
                self._reset_isolation_level(proxied)
        finally:
            self._transaction = None
            self._nested_transaction = None
            self._proxied = None
            if proxied is not None:
                # When this Connection ended its last transaction itself, reset listeners
                # are told so (the pool's reset still runs).
                entry = proxied._connection_record
                if entry is None or type(proxied) is not PoolProxiedConnection:
                    # detached (closed now), or a pool's own proxy class
                    proxied._checkin(self._transaction_ended)
                else:
                    # The plain proxy's _checkin, inlined: this runs once per connection.
                    proxied._connection_record = None
                    proxied.dbapi_connection = None
                    if _getrefcount(proxied) == 2:
                        # Only this frame refers to the proxy (getrefcount's argument is the
                        # other reference): its pool entry may hand it out again.
                        entry.spare_proxy = proxied
                    proxied._pool._checkin_entry(entry, self._transaction_ended)

    def _reset_isolation_level(self, proxied: PoolProxiedConnection) -> None:
        """Put the engine's isolation level back before the connection returns to the pool.

        A connection that is gone (the server went away, or an async task was cancelled in
        the middle of a driver call) cannot be reset; it is discarded instead of failing
        ``close()``, which must not replace the error (or the cancellation) that ended its use.
        """
        dbapi_connection = proxied.dbapi_connection
        try:
            self.dialect.reset_isolation_level(dbapi_connection)
        except self.dialect.dbapi_error as error:
            if not self.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            proxied.invalidate(error)

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "invalidated" if self._invalidated else "open"
        return f"<Connection {state} {self.engine!r}>"


class DirectSelect:
    """A SELECT run straight on the cursor (see :meth:`Connection.direct_select`).

    In steps, so that an async caller can await the driver call itself, with no bridge:
    :meth:`execute` (or :meth:`driver_call`), then :meth:`rows`, or :meth:`result` when
    there are more rows than are fetched at once.  Errors are wrapped as the general path
    wraps them (:meth:`failed`).
    """

    __slots__ = (
        "compiled",
        "connection",
        "cursor",
        "driver_params",
        "head",
        "metadata",
        "parameters",
        "sql",
        "statement",
    )

    def __init__(
        self,
        connection: Connection,
        compiled: Any,
        metadata: ResultMetaData,
        statement: ClauseElement,
        parameters: Mapping[str, Any] | None,
        sql: str,
        driver_params: Any,
    ) -> None:
        self.connection = connection
        self.compiled = compiled
        self.metadata = metadata
        self.statement = statement
        self.parameters = parameters
        self.sql = sql
        self.driver_params = driver_params
        self.cursor: Any = None
        self.head: list[Any] | None = None
        """Rows :meth:`rows` read before finding there are more: the first of the result's."""

    def execute(self) -> None:
        """Run the statement on the driver."""
        connection = self.connection
        cursor = self.cursor = connection._cursor_for(_EMPTY)[0]
        dialect = connection.dialect
        try:
            if not self.driver_params:
                dialect.do_execute_no_params(cursor, self.sql)
            elif dialect._execute_directly:
                cursor.execute(self.sql, self.driver_params)
            else:
                dialect.do_execute(cursor, self.sql, self.driver_params)
        except BaseException as error:
            self._raise_failure(error)

    def driver_call(self) -> Awaitable[None]:
        """The statement's run on an asyncio driver's adapter, to await in the caller's task
        (no bridge).  Its failure goes to :meth:`failed`, through the bridge for a driver
        error (a disconnect's handling may need I/O)."""
        cursor = self.cursor = self.connection._cursor_for(_EMPTY)[0]
        call: Awaitable[None] = cursor.execute_async(self.sql, self.driver_params or None)
        return call

    def _raise_failure(self, error: BaseException) -> NoReturn:
        """Raise what :meth:`failed` makes of ``error``."""
        failure = self.failed(error)
        if failure is error:
            raise error
        raise failure from error

    def failed(self, error: BaseException) -> BaseException:
        """What to raise for ``error``, raised by the driver call: a driver error wrapped
        (a disconnect invalidating the connection), anything else as it is.  The cursor is
        closed."""
        connection = self.connection
        cursor, self.cursor = self.cursor, None
        if cursor is not None:
            connection._close_cursor_quietly(cursor)
        if isinstance(error, connection.dialect.dbapi_error):
            return connection._handle_error(error, self.sql, self.driver_params, cursor)
        return error

    def rows(self) -> list[Any] | None:
        """Every row, the cursor released, when there are at most as many as are fetched at
        once (see :func:`take_few`); else None (read them through :meth:`result`)."""
        cursor = self.cursor
        try:
            rows, complete = take_few(cursor)
        except BaseException as error:
            self._raise_failure(error)
        if not complete:
            self.head = rows
            return None
        self.cursor = None
        self.connection._release_cursor(cursor)
        return rows

    def result(self) -> CursorResult:
        """The general path's result over the executed cursor, once :meth:`rows` found more
        rows than are fetched at once (those it read come first)."""
        connection = self.connection
        parameters = self.parameters
        context = ExecutionContext(
            connection,
            self.compiled,
            self.statement,
            (parameters,) if parameters else (),
            connection._execution_options,
            False,
        )
        cursor, self.cursor = self.cursor, None
        context.cursor = cursor
        context.statement = self.sql
        context.parameters = self.driver_params
        result = CursorResult(
            cursor,
            metadata=self.metadata,
            rowcount=cursor.rowcount,
            on_close=partial(connection._release_cursor, cursor),
            context=context,
        )
        if self.head:
            result._source._hold(self.head)
        return result


class _ListCursor:
    """Rows already fetched (from several RETURNING batches) behind a cursor's interface."""

    def __init__(self, rows: list[Any], description: Any) -> None:
        self.description = description
        self._rows: Iterator[Any] = iter(rows)
        self.rowcount = len(rows)
        self.lastrowid = None

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def fetchmany(self, size: int = 1) -> list[Any]:
        return list(itertools.islice(self._rows, size))

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def close(self) -> None:
        self._rows = iter(())


def entry_cursor(
    dialect: DefaultDialect, entry: ConnectionPoolEntry | None, dbapi_connection: Any
) -> Any:
    """The first cursor of a checkout, for a ``keeps_cursors`` dialect: the one the physical
    connection's previous checkout kept on its pool ``entry`` (see :meth:`Connection.close`)
    while the dialect finds it still current, else a new one."""
    kept = None if entry is None else entry.kept_cursor
    if kept is not None:
        entry.kept_cursor = None  # type: ignore[union-attr]
        conn, cursor = kept
        if conn is dbapi_connection and dialect.cursor_current(conn, cursor):
            return cursor
        Connection._close_cursor_quietly(cursor)
    return dbapi_connection.cursor()


def execute_insert(
    dialect: DefaultDialect, compiled: Any, cursor: Any, sql: str, driver_params: Any
) -> tuple[tuple[Any, ...] | None, Row | None]:
    """Run a prepared one-row INSERT on ``cursor``: the inserted primary key (None when no
    row was inserted: a conflict the table's definition ignores) and the row its RETURNING
    gives (None when it returns nothing)."""
    if not driver_params:
        dialect.do_execute_no_params(cursor, sql)
    elif dialect._execute_directly:
        cursor.execute(sql, driver_params)
    else:
        dialect.do_execute(cursor, sql, driver_params)
    row = None
    if compiled.returns_rows:
        raw_rows = cursor.fetchall()
        if raw_rows:
            # The shape known from an earlier run: psycopg builds the cursor's description
            # anew each time it is asked for.
            metadata: ResultMetaData | None = getattr(compiled, "_result_metadata", None)
            if metadata is None:
                metadata = _result_metadata(compiled, cursor.description)
            row = metadata.make_row(raw_rows[0])
    if cursor.rowcount == 0:
        return None, row
    lastrowid = getattr(cursor, "lastrowid", None)
    return compiled.inserted_primary_key(driver_params, lastrowid, None), row


def _result_metadata(compiled: Any, description: Sequence[Sequence[Any]]) -> ResultMetaData:
    """The result's shape: the compiled statement's columns (cached on it) when they match the
    cursor, else the cursor's column names (``text()`` without ``columns()``)."""
    if compiled is not None:
        metadata: ResultMetaData | None = getattr(compiled, "_result_metadata", None)
        if metadata is not None and len(metadata.keys) == len(description):
            return metadata
        keys = compiled.result_keys
        if keys and len(keys) == len(description):
            metadata = ResultMetaData(keys, compiled.result_processors, compiled.result_key_objects)
            compiled._result_metadata = metadata
            return metadata
    return ResultMetaData([column[0] for column in description])


def _statement_metadata(
    compiled: Any, statement: Any, description: Sequence[Sequence[Any]]
) -> ResultMetaData:
    """The result shape keyed by ``statement``'s own column objects (see
    ``Compiled.keys_by_statement``)."""
    if not hasattr(statement, "_named_columns"):
        return _result_metadata(compiled, description)
    named = statement._named_columns()
    if len(named) != len(description):
        return _result_metadata(compiled, description)
    return ResultMetaData(
        compiled.result_keys, compiled.result_processors, result_key_objects(named), by_shape=False
    )


def _in_parameter_order(
    connection: Connection, compiled: Any, rows: list[Any], step_pks: list[tuple[Any, ...]] | None
) -> list[Any]:
    """RETURNING rows of one step, put in the order of its parameter sets when asked to.

    Rows are matched by the primary key the parameters gave, else sorted by the autoincrement
    key, which the dialect vouches increases in VALUES order (see
    :meth:`~athanor.engine.default.DefaultDialect.returned_keys_in_order`); a row the database
    did not return (a skipped conflict) is None.
    """
    if not compiled.sort_by_parameter_order or (len(rows) <= 1 and step_pks is None):
        return rows
    positions = compiled.returned_pk_positions
    if step_pks is not None:
        by_key = {compiled.returned_values(row, positions): row for row in rows}
        return [by_key.get(tuple(pk)) for pk in step_pks]
    if len(positions) == 1:
        (position,) = positions
        rows = sorted(rows, key=itemgetter(position))
        table = compiled.statement.table
        keys = [row[position] for row in rows]
        if not connection.dialect.returned_keys_in_order(connection, table, keys):
            raise exc.InvalidRequestError(
                f"INSERT into {table.name!r} returned keys not in the order of its rows: "
                "cannot return its rows in parameter order"
            )
        return rows
    raise exc.InvalidRequestError(
        "Cannot return rows in parameter order: the primary key is neither given in the "
        "parameters nor a single autoincrement column"
    )


def _as_seen(driver_params: Any, many: bool) -> Any:
    """``driver_params`` as cursor event listeners see them: a positional set as a tuple
    (compiled statements build lists), a many-set run as a list of such tuples."""
    if type(driver_params) is not list:
        return driver_params
    if many:
        return [tuple(one) if type(one) is list else one for one in driver_params]
    return tuple(driver_params)


def _split_params(parameters: ExecuteParams) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    if parameters is None:
        return [], {}
    if isinstance(parameters, Mapping):
        return [], parameters
    return list(parameters), {}


def _join_params(
    multiparams: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
) -> ExecuteParams:
    if multiparams:
        return multiparams
    return params or None
