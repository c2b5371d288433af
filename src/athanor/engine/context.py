"""``ExecutionContext``: everything about one statement execution, for events, results and the ORM.

A context is made for each ``Connection.execute()`` / ``exec_driver_sql()`` and handed to
``before_cursor_execute`` / ``after_cursor_execute`` listeners (their ``context`` argument), to
``handle_error`` listeners (``ExceptionContext.execution_context``) and kept on the result
(``CursorResult.context``).  What it carries:

- ``compiled``: the compiled statement (None for ``exec_driver_sql``); ``compiled.plan`` is what
  a compile plugin attached (see :mod:`athanor.sql.plugin`); ``invoked_statement`` is the
  statement object given to ``execute()``;
- ``statement`` / ``parameters``: the SQL string and driver parameters of the cursor call
  in progress (for a batched executemany, of the current batch);
- ``compiled_parameters``: the parameter sets given to ``execute()``, one mapping per set;
- ``cursor``, ``executemany``, ``execution_options``, ``connection``, ``dialect``, ``engine``;
- ``isinsert`` / ``isupdate`` / ``isdelete`` / ``is_crud`` / ``isddl``;
- after an INSERT / UPDATE: ``inserted_primary_key_rows`` (one tuple per parameter set),
  ``returned_default_rows`` (one Row of ``return_defaults()`` values per parameter set, in
  parameter order), ``rowcount`` and ``lastrowid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from athanor.engine.row import Row, row_class

if TYPE_CHECKING:
    from athanor.engine.connection import Connection
    from athanor.engine.default import DefaultDialect
    from athanor.engine.engine import Engine

_NO_PARAMETER_SETS: Sequence[Mapping[str, Any]] = ()


class ExecutionContext:
    """The state of one statement execution (see the module docstring for the attributes)."""

    __slots__ = (
        "_insert_steps",
        "_many_steps",
        "_pk_rows",
        "_returned_rows",
        "compiled",
        "compiled_parameters",
        "connection",
        "cursor",
        "executemany",
        "execution_options",
        "invoked_statement",
        "lastrowid",
        "parameters",
        "rowcount",
        "statement",
    )

    _many_steps: Sequence[Any]
    """Of an executemany of a compiled statement, the cursor calls it made (what
    ``compiled.prepare_many()`` gave), set by the connection; unset otherwise."""

    def __init__(
        self,
        connection: Connection,
        compiled: Any,
        invoked_statement: Any,
        compiled_parameters: Sequence[Mapping[str, Any]],
        execution_options: Mapping[str, Any],
        executemany: bool,
    ) -> None:
        self.connection = connection
        self.compiled = compiled
        self.invoked_statement = invoked_statement
        self.compiled_parameters = compiled_parameters
        self.execution_options = execution_options
        self.executemany = executemany
        self.statement: str | None = None
        self.parameters: Any = None
        self.cursor: Any = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self._pk_rows: list[tuple[Any, ...] | None] | None = None
        self._returned_rows: list[Sequence[Any] | None] | None = None
        self._insert_steps: list[tuple[Any, int]] | None = None
        """Of an executemany INSERT sent as multi-row statements without RETURNING: each
        statement's ``(cursor.lastrowid, cursor.rowcount)``, in order (None otherwise)."""

    @property
    def dialect(self) -> DefaultDialect:
        """The dialect the statement was compiled and run for."""
        return self.connection.dialect

    @property
    def engine(self) -> Engine:
        """The engine of the connection."""
        return self.connection.engine

    @property
    def isinsert(self) -> bool:
        """True for an INSERT statement."""
        return self.compiled is not None and self.compiled.isinsert

    @property
    def isupdate(self) -> bool:
        """True for an UPDATE statement."""
        return self.compiled is not None and self.compiled.isupdate

    @property
    def isdelete(self) -> bool:
        """True for a DELETE statement."""
        return self.compiled is not None and self.compiled.isdelete

    @property
    def is_crud(self) -> bool:
        """True for INSERT, UPDATE and DELETE."""
        return self.isinsert or self.isupdate or self.isdelete

    @property
    def isddl(self) -> bool:
        """True for DDL (CREATE, DROP, ALTER ...)."""
        return self.compiled is not None and self.compiled.isddl

    @property
    def returned_rows(self) -> list[Sequence[Any] | None] | None:
        """The raw RETURNING rows read by the engine (primary key, defaults and the columns
        asked for), one per parameter set in parameter order; None when nothing was returned."""
        return self._returned_rows

    @property
    def inserted_primary_key_rows(self) -> list[tuple[Any, ...] | None]:
        """The primary key of each row an INSERT created, one tuple per parameter set.

        From RETURNING where the statement fetched it, else from the parameters (or the
        driver's last row id for a single row); None for a row whose key is not known.
        """
        if self._pk_rows is not None:
            return self._pk_rows
        compiled = self.compiled
        rows: list[tuple[Any, ...] | None] = []
        if compiled is not None and compiled.isinsert:
            if self._returned_rows is not None and compiled.returned_pk_positions is not None:
                positions = compiled.returned_pk_positions
                rows = [
                    None if raw is None else compiled.returned_values(raw, positions)
                    for raw in self._returned_rows
                ]
            else:
                rows = [None] * len(self.compiled_parameters or (None,))
        self._pk_rows = rows
        return rows

    @property
    def returned_default_rows(self) -> list[Row | None] | None:
        """The values ``return_defaults()`` fetched, one Row per parameter set (None when the
        statement did not ask for them or the database cannot return them)."""
        compiled = self.compiled
        if (
            compiled is None
            or not compiled.returned_defaults_positions
            or self._returned_rows is None
        ):
            return None
        cls = row_class(compiled.returned_defaults_keys)
        positions = compiled.returned_defaults_positions
        return [
            None if raw is None else cls(compiled.returned_values(raw, positions))
            for raw in self._returned_rows
        ]

    def get_current_parameters(self) -> Mapping[str, Any]:
        """The parameter set of a single execution (the first one of an executemany)."""
        return self.compiled_parameters[0] if self.compiled_parameters else {}

    def __repr__(self) -> str:
        return f"<ExecutionContext {self.statement!r}>"
