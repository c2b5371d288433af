"""Transactions on a :class:`~athanor.engine.connection.Connection`: the root one and savepoints."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from athanor import exc

if TYPE_CHECKING:
    from athanor.engine.connection import Connection


class Transaction:
    """A transaction in progress; a context manager that commits on success, rolls back on error."""

    __slots__ = ("_deactivated", "connection", "is_active")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_active = True
        self._deactivated = False

    @property
    def is_valid(self) -> bool:
        """False once the connection was invalidated under this transaction."""
        return self.is_active and not self.connection.invalidated

    def commit(self) -> None:
        """Commit (or release the savepoint); the transaction is over afterwards."""
        raise NotImplementedError

    def rollback(self) -> None:
        """Roll back (to the savepoint); the transaction is over afterwards."""
        raise NotImplementedError

    def close(self) -> None:
        """End the transaction: roll back if it is still active."""
        if self.is_active or self._deactivated:
            self.rollback()

    def _deactivate(self) -> None:
        """Mark the transaction failed: only rollback() is allowed now."""
        self._deactivated = True

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not (self.is_active or self._deactivated):
            return
        if exc_type is None and not self._deactivated:
            self.commit()
        else:
            self.rollback()


class RootTransaction(Transaction):
    """The connection's outermost transaction (BEGIN ... COMMIT/ROLLBACK)."""

    __slots__ = ()

    def commit(self) -> None:
        if self._deactivated:
            raise exc.PendingRollbackError(
                "This transaction is inactive because of an earlier error; call rollback() "
                "before using the connection again"
            )
        if not self.is_active:
            raise exc.InvalidRequestError("This transaction is already committed or rolled back")
        connection = self.connection
        try:
            if connection._nested_transaction is not None:
                connection._release_all_savepoints()
            # The COMMIT itself, here rather than in a Connection method: one frame less on
            # every transaction.
            dispatch = connection._dispatch
            if dispatch.commit:
                for fn in dispatch.commit:
                    fn(connection)
            if connection._echo:
                connection.engine.logger.info("COMMIT")
            proxied = connection._proxied
            if proxied is None:
                proxied = connection.connection
            dialect = connection.dialect
            try:
                if dialect._commit_directly:
                    proxied.dbapi_connection.commit()
                else:
                    dialect.do_commit(proxied.dbapi_connection)
            except dialect.dbapi_error as error:
                raise connection._handle_error(error, "COMMIT", None, None) from error
        finally:
            # _ended(), inlined: one frame less on every transaction.
            self.is_active = False
            connection._transaction = None
            connection._begin_pending = False
            connection._transaction_ended = True

    def _ended(self) -> None:
        """The transaction is over (committed, or its COMMIT failed): the connection has none."""
        self.is_active = False
        connection = self.connection
        connection._transaction = None
        connection._begin_pending = False
        connection._transaction_ended = True

    def rollback(self) -> None:
        if not (self.is_active or self._deactivated):
            return
        connection = self.connection
        try:
            connection._forget_savepoints()
            if not connection.invalidated:
                connection._rollback_impl()
        finally:
            self.is_active = False
            self._deactivated = False
            connection._transaction = None
            connection._begin_pending = False
            connection._transaction_ended = True


class NestedTransaction(Transaction):
    """A SAVEPOINT inside the root transaction."""

    __slots__ = ("name", "parent")

    def __init__(self, connection: Connection, name: str, parent: NestedTransaction | None) -> None:
        super().__init__(connection)
        self.name = name
        self.parent = parent

    def commit(self) -> None:
        if self._deactivated:
            raise exc.PendingRollbackError(
                "This savepoint is inactive because of an earlier error; call rollback() first"
            )
        if not self.is_active:
            raise exc.InvalidRequestError("This savepoint is already released or rolled back")
        try:
            self.connection._release_savepoint_impl(self.name)
        finally:
            self._end()

    def rollback(self) -> None:
        if not (self.is_active or self._deactivated):
            return
        try:
            if not self.connection.invalidated:
                self.connection._rollback_to_savepoint_impl(self.name)
        finally:
            self._end()

    def _end(self) -> None:
        self.is_active = False
        self._deactivated = False
        if self.connection._nested_transaction is self:
            self.connection._nested_transaction = self.parent
