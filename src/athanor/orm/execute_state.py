"""The ``do_orm_execute`` session event: listeners see (and may change or answer) each
statement a Session runs.

``Session.execute()`` hands an :class:`ORMExecuteState` to the listeners in turn when there
are any (with none, it runs the statement directly).  A listener may replace ``statement``,
add execution options, or return a Result itself (for example a cached one), which ends the
chain; :meth:`ORMExecuteState.invoke_statement` runs the statement through the listeners
after the current one and returns its Result.  Relationship and column loads go through the
same path, marked so listeners can tell them apart (``is_relationship_load``,
``is_column_load``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from athanor.orm.base import LAZY_LOADED_FROM, LOAD_KIND
from athanor.orm.interfaces import UserDefinedOption
from athanor.orm.mapper import EntityClause
from athanor.sql.dml import Delete, DMLStatement, Insert, Update
from athanor.sql.selectable import FromStatement, Select

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session


class ORMExecuteState:
    """One statement on its way through ``Session.execute()``, for ``do_orm_execute``."""

    def __init__(
        self,
        session: Session,
        statement: Any,
        parameters: Any,
        execution_options: Mapping[str, Any] | None,
        bind_arguments: Mapping[str, Any] | None,
        listeners: Sequence[Callable[[ORMExecuteState], Any]],
    ) -> None:
        self.session = session
        self.statement = statement
        """What will run; a listener may assign another statement."""
        self.parameters = parameters
        self.local_execution_options: dict[str, Any] = dict(execution_options or {})
        """The options given to ``Session.execute()`` (not those of the statement)."""
        self.bind_arguments: dict[str, Any] = dict(bind_arguments or {})
        self._listeners = listeners
        self._next = 0

    @property
    def execution_options(self) -> dict[str, Any]:
        """The statement's execution options with those given to ``execute()`` over them."""
        own = getattr(self.statement, "_execution_options", None) or {}
        return {**own, **self.local_execution_options}

    def update_execution_options(self, **options: Any) -> None:
        """Add execution options for this execution."""
        self.local_execution_options.update(options)

    @property
    def user_defined_options(self) -> list[UserDefinedOption]:
        """The statement's ``UserDefinedOption`` objects, for listeners to act on."""
        options = getattr(self.statement, "_with_options", ())
        return [o for o in options if isinstance(o, UserDefinedOption)]

    @property
    def is_select(self) -> bool:
        return isinstance(self.statement, Select | FromStatement)

    @property
    def is_from_statement(self) -> bool:
        return isinstance(self.statement, FromStatement)

    @property
    def is_insert(self) -> bool:
        return isinstance(self.statement, Insert)

    @property
    def is_update(self) -> bool:
        return isinstance(self.statement, Update)

    @property
    def is_delete(self) -> bool:
        return isinstance(self.statement, Delete)

    @property
    def is_executemany(self) -> bool:
        return isinstance(self.parameters, list) and len(self.parameters) > 1

    @property
    def is_orm_statement(self) -> bool:
        """Whether the statement names mapped classes (ORM objects or ORM-enabled DML)."""
        if isinstance(self.statement, DMLStatement):
            return self.statement._entity is not None
        return bool(self.all_mappers)

    @property
    def is_relationship_load(self) -> bool:
        """Whether the ORM runs this to load a relationship (lazily or eagerly)."""
        return self.execution_options.get(LOAD_KIND) == "relationship"

    @property
    def lazy_loaded_from(self) -> Any:
        """The state of the object whose relationship this statement lazily loads, or None."""
        return self.execution_options.get(LAZY_LOADED_FROM)

    @property
    def is_column_load(self) -> bool:
        """Whether the ORM runs this to load deferred or expired columns of an object."""
        return self.execution_options.get(LOAD_KIND) == "column"

    @property
    def all_mappers(self) -> list[Mapper]:
        """The mappers of the classes the statement selects (or changes)."""
        statement = self.statement
        if isinstance(statement, DMLStatement):
            mapper = getattr(statement._entity, "mapper", None)
            return [] if mapper is None else [mapper]
        raws = getattr(statement, "_raw_columns", ())
        return [raw.mapper for raw in raws if isinstance(raw, EntityClause)]

    @property
    def bind_mapper(self) -> Mapper | None:
        """The first of :attr:`all_mappers` (what the session picks its engine by)."""
        mappers = self.all_mappers
        return mappers[0] if mappers else None

    def invoke_statement(
        self,
        statement: Any = None,
        params: Any = None,
        execution_options: Mapping[str, Any] | None = None,
        bind_arguments: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run the statement (or ``statement``) through the listeners after this one and
        return its Result; a listener returning it ends the execution with it."""
        options = {**self.local_execution_options, **(execution_options or {})}
        state = ORMExecuteState(
            self.session,
            self.statement if statement is None else statement,
            self.parameters if params is None else params,
            options,
            {**self.bind_arguments, **(bind_arguments or {})},
            self._listeners,
        )
        state._next = self._next
        return state._run()

    def _run(self) -> Any:
        while self._next < len(self._listeners):
            listener = self._listeners[self._next]
            self._next += 1
            result = listener(self)
            if result is not None:
                return result
        return self.session._execute_now(
            self.statement,
            self.parameters,
            self.local_execution_options or None,
            self.bind_arguments or None,
        )


def execute_with_listeners(
    session: Session,
    statement: Any,
    params: Any,
    execution_options: Mapping[str, Any] | None,
    bind_arguments: Mapping[str, Any] | None,
) -> Any:
    """``session.execute(...)`` through its ``do_orm_execute`` listeners."""
    listeners = tuple(session.dispatch.do_orm_execute)
    state = ORMExecuteState(
        session, statement, params, execution_options, bind_arguments, listeners
    )
    return state._run()
