"""The exception hierarchy raised by athanor.

Driver (DBAPI) exceptions are wrapped in :class:`DBAPIError` subclasses that mirror
PEP 249 (``IntegrityError``, ``OperationalError``, ...), so application code catches one
set of classes whatever the database or driver.  The original exception stays on ``.orig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MAX_PARAM_REPR = 300


class HasDescriptionCode:
    """Mixin of errors and warnings that carry a short identifying ``code``."""

    code: str | None = None

    def __init__(self, *args: Any, code: str | None = None, **kw: Any) -> None:
        if code is not None:
            self.code = code
        super().__init__(*args, **kw)


class AthanorError(HasDescriptionCode, Exception):
    """Base class of every error athanor raises; ``code`` identifies the kind of error where
    SQLAlchemy gives one the same code (``"xd2s"`` for :class:`MissingGreenlet`), else None."""


SQLAlchemyError = AthanorError
"""Alias kept so that ``except exc.SQLAlchemyError`` keeps working after an import change."""


class ArgumentError(AthanorError):
    """A function or constructor got an argument it cannot use (bad URL, bad option, ...)."""


class NoSuchModuleError(ArgumentError):
    """The dialect or driver named by a URL is unknown or its module is not installed."""


class InvalidRequestError(AthanorError):
    """The operation is not valid in the current state (closed object, wrong use, ...)."""


class NoDBAPILoaded(InvalidRequestError):
    """The driver module was asked of a dialect that has none: a dialect made only to
    compile statements (``postgresql.dialect()``) has no driver to connect with."""


class ResourceClosedError(InvalidRequestError):
    """The connection, transaction or result was already closed."""


class PendingRollbackError(InvalidRequestError):
    """A transaction failed and must be rolled back before the connection can be used."""


class NoResultFound(InvalidRequestError):
    """A query that must return exactly one row returned none."""


class MultipleResultsFound(InvalidRequestError):
    """A query that must return at most one row returned more."""


class NoSuchColumnError(InvalidRequestError, KeyError):
    """A row has no column of the requested name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ObjectNotExecutableError(ArgumentError):
    """An object that is not a statement was passed to ``execute()``."""

    def __init__(self, target: object) -> None:
        super().__init__(
            f"Not an executable object: {target!r}; pass a statement such as "
            "select(...), insert(...) or text('...'), or use exec_driver_sql() for a plain string"
        )
        self.target = target


class CompileError(AthanorError):
    """A statement could not be turned into SQL for the chosen dialect."""


class UnsupportedCompilationError(CompileError):
    """The dialect cannot render this construct."""

    code = "l7de"


class AmbiguousColumnError(InvalidRequestError):
    """A key names more than one column of a result (label the columns apart, or use positions)."""


class NoReferenceError(InvalidRequestError):
    """A foreign key refers to a table or column that cannot be found."""


class NoReferencedTableError(NoReferenceError):
    """A foreign key names a table that is not in the MetaData."""

    def __init__(self, message: str, table_name: str) -> None:
        super().__init__(message)
        self.table_name = table_name


class NoReferencedColumnError(NoReferenceError):
    """A foreign key names a column that its table does not have."""

    def __init__(self, message: str, table_name: str, column_name: str) -> None:
        super().__init__(message)
        self.table_name = table_name
        self.column_name = column_name


class NoForeignKeysError(ArgumentError):
    """A join or relationship needs a foreign key between two tables and there is none."""


class AmbiguousForeignKeysError(ArgumentError):
    """More than one foreign key could link two tables; the ON clause must be given."""


class CircularDependencyError(AthanorError):
    """Tables (or rows) depend on each other in a cycle that cannot be ordered."""


class NoSuchTableError(InvalidRequestError):
    """Reflection was asked for a table that does not exist."""


class NoInspectionAvailable(InvalidRequestError):
    """``inspect()`` was given an object it knows nothing about."""


class TimeoutError(AthanorError):
    """No pooled connection became free within ``pool_timeout`` seconds.

    Deliberately not a subclass of the built-in ``TimeoutError``, which is
    ``asyncio.TimeoutError``: ``except asyncio.TimeoutError`` around ``wait_for`` must not
    swallow pool exhaustion."""


class DisconnectionError(AthanorError):
    """A connection was found dead; raised by pool listeners to make the pool retry."""


class InvalidatePoolError(DisconnectionError):
    """Like :class:`DisconnectionError`, and also invalidates every other pooled connection."""


class AwaitRequired(InvalidRequestError):
    """An async driver was used from plain synchronous code."""

    code = "xd1r"


def _render_params(params: object) -> str:
    text = repr(params)
    if len(text) > _MAX_PARAM_REPR:
        text = text[:_MAX_PARAM_REPR] + " ... (truncated)"
    return text


class StatementError(AthanorError):
    """An error raised while executing a statement; carries the SQL and its parameters."""

    def __init__(
        self,
        message: str,
        statement: str | None,
        params: Sequence[Any] | Mapping[str, Any] | None,
        orig: BaseException | None,
        hide_parameters: bool = False,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.statement = statement
        self.params = params
        self.orig = orig
        self.hide_parameters = hide_parameters
        self.detail: list[str] = []

    def add_detail(self, text: str) -> None:
        """Attach an extra line shown after the message."""
        self.detail.append(text)

    def __str__(self) -> str:
        lines = [str(self.args[0]) if self.args else ""]
        lines.extend(self.detail)
        if self.statement is not None:
            lines.append(f"[SQL: {self.statement}]")
            if self.params:
                if self.hide_parameters:
                    lines.append("[SQL parameters hidden due to hide_parameters=True]")
                else:
                    lines.append(f"[parameters: {_render_params(self.params)}]")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            self.__class__,
            (self.args[0] if self.args else "", self.statement, self.params, self.orig),
        )


class MissingGreenlet(InvalidRequestError, StatementError):
    """Database I/O was attempted outside the async bridge (for example a lazy load).

    Also a :class:`StatementError` whose ``orig`` is itself: depending on the driver,
    SQLAlchemy raises this error bare or wrapped in a StatementError, and code written for
    either form catches it."""

    code = "xd2s"

    def __init__(self, message: str = "") -> None:
        StatementError.__init__(self, message, None, None, None)
        self.orig = self

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.args[0] if self.args else "",))


class DBAPIError(StatementError):
    """A driver (DBAPI) exception, wrapped; the driver's own exception is ``.orig``."""

    code = "dbapi"

    connection_invalidated: bool

    def __init__(
        self,
        message: str,
        statement: str | None,
        params: Sequence[Any] | Mapping[str, Any] | None,
        orig: BaseException | None,
        hide_parameters: bool = False,
        connection_invalidated: bool = False,
    ) -> None:
        super().__init__(message, statement, params, orig, hide_parameters)
        self.connection_invalidated = connection_invalidated

    @classmethod
    def instance(
        cls,
        statement: str | None,
        params: Sequence[Any] | Mapping[str, Any] | None,
        orig: BaseException,
        dbapi_base_error: type[BaseException] | None,
        hide_parameters: bool = False,
        connection_invalidated: bool = False,
    ) -> StatementError:
        """Wrap driver exception ``orig`` in the athanor class matching its PEP 249 class."""
        if isinstance(orig, StatementError):
            return orig
        if dbapi_base_error is None or not isinstance(orig, dbapi_base_error):
            return StatementError(
                f"({type(orig).__module__}.{type(orig).__name__}) {orig}",
                statement,
                params,
                orig,
                hide_parameters,
                getattr(orig, "code", None),
            )
        wrapper: type[DBAPIError] = cls
        for klass in type(orig).__mro__:
            candidate = _PEP249_CLASSES.get(klass.__name__)
            if candidate is not None:
                wrapper = candidate
                break
        return wrapper(
            f"({type(orig).__module__}.{type(orig).__name__}) {orig}",
            statement,
            params,
            orig,
            hide_parameters,
            connection_invalidated,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            self.__class__,
            (
                self.args[0] if self.args else "",
                self.statement,
                self.params,
                self.orig,
                self.hide_parameters,
                self.connection_invalidated,
            ),
        )


class InterfaceError(DBAPIError):
    """The driver reported a problem with its own interface (PEP 249 InterfaceError)."""

    code = "rvf5"


class DatabaseError(DBAPIError):
    """The database reported an error (PEP 249 DatabaseError)."""

    code = "4xp6"


class DataError(DatabaseError):
    """A value could not be processed: out of range, bad format (PEP 249 DataError)."""

    code = "9h9h"


class OperationalError(DatabaseError):
    """The database's operation failed: lost connection, lock timeout (PEP 249)."""

    code = "e3q8"


class IntegrityError(DatabaseError):
    """A constraint was violated: unique, foreign key, not null (PEP 249 IntegrityError)."""

    code = "gkpj"


class InternalError(DatabaseError):
    """The database hit an internal error (PEP 249 InternalError)."""

    code = "2j85"


class ProgrammingError(DatabaseError):
    """Bad SQL, a missing table, a wrong number of parameters (PEP 249 ProgrammingError)."""

    code = "f405"


class NotSupportedError(DatabaseError):
    """The database does not support the operation (PEP 249 NotSupportedError)."""

    code = "tw8g"


_PEP249_CLASSES: dict[str, type[DBAPIError]] = {
    "InterfaceError": InterfaceError,
    "DatabaseError": DatabaseError,
    "DataError": DataError,
    "OperationalError": OperationalError,
    "IntegrityError": IntegrityError,
    "InternalError": InternalError,
    "ProgrammingError": ProgrammingError,
    "NotSupportedError": NotSupportedError,
    "Error": DBAPIError,
}


class AthanorWarning(HasDescriptionCode, Warning):
    """Base class of athanor's warnings."""


SAWarning = AthanorWarning
"""Alias of :class:`AthanorWarning` under its SQLAlchemy name."""


class ConnectionLeakWarning(AthanorWarning, ResourceWarning):
    """A pooled connection was garbage-collected without being returned to the pool."""


class DontWrapMixin:
    """Mixin for user exceptions that must reach the caller as raised, never wrapped in
    :class:`StatementError` (raised from a type's bind processing or an event listener)."""


class IdentifierError(AthanorError):
    """A name is too long or otherwise unusable as an identifier in the database."""


class UnboundExecutionError(InvalidRequestError):
    """SQL was to be executed without a connection or engine to run it on."""


class IllegalStateChangeError(InvalidRequestError):
    """An object was asked to change state in a way its current state forbids (for example
    a Session used by two threads or tasks at once)."""


class UnreflectableTableError(InvalidRequestError):
    """A table exists but cannot be reflected (its definition cannot be read)."""


class DuplicateColumnError(ArgumentError):
    """A column of the same name was added twice to a table or collection."""


class ConstraintColumnNotFoundError(ArgumentError):
    """A constraint names a column the table does not have."""


class SADeprecationWarning(HasDescriptionCode, DeprecationWarning):
    """A deprecated API was used."""

    deprecated_since: str | None = None


class Base20DeprecationWarning(SADeprecationWarning):
    """An API deprecated or legacy under the 2.0 style was used."""

    deprecated_since = "1.4"


class LegacyAPIWarning(Base20DeprecationWarning):
    """A legacy (1.x style) API was used."""


class MovedIn20Warning(Base20DeprecationWarning):
    """An API moved to another place in 2.0 was used from its old one."""


class SAPendingDeprecationWarning(PendingDeprecationWarning):
    """An API that will be deprecated was used."""

    deprecated_since: str | None = None


class SATestSuiteWarning(Warning):
    """A warning from a test suite helper about the tests themselves."""
