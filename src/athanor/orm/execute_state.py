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

from athanor import exc as sa_exc
from athanor.orm.base import LAZY_LOADED_FROM, LOAD_KIND, LOADED_MAPPER
from athanor.orm.interfaces import UserDefinedOption
from athanor.orm.mapper import EntityClause
from athanor.sql.dml import Delete, DMLStatement, Insert, Update
from athanor.sql.selectable import FromStatement, Select

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session


class LoadOptions:
    """How a SELECT loads its objects, as its execution options set it up (read by
    ``do_orm_execute`` listeners through :attr:`ORMExecuteState.load_options`)."""

    __slots__ = (
        "_autoflush",
        "_identity_token",
        "_lazy_loaded_from",
        "_populate_existing",
        "_yield_per",
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._populate_existing = bool(options.get("populate_existing", False))
        self._autoflush = bool(options.get("autoflush", True))
        self._yield_per: int | None = options.get("yield_per")
        self._identity_token: Any = options.get("identity_token")
        self._lazy_loaded_from: Any = options.get(LAZY_LOADED_FROM)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name[1:]}={getattr(self, name)!r}" for name in self.__slots__)
        return f"LoadOptions({shown})"


class UpdateDeleteOptions:
    """How an ORM-enabled UPDATE or DELETE runs, as its execution options set it up (see
    :attr:`ORMExecuteState.update_delete_options`)."""

    __slots__ = ("_dml_strategy", "_synchronize_session")

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._synchronize_session: Any = options.get("synchronize_session", "auto")
        self._dml_strategy: str = options.get("dml_strategy", "auto")

    def __repr__(self) -> str:
        return (
            f"UpdateDeleteOptions(synchronize_session={self._synchronize_session!r}, "
            f"dml_strategy={self._dml_strategy!r})"
        )


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
        self.bind_arguments: dict[str, Any] = {"clause": statement}
        """What the session picks its engine by (``get_bind()``'s arguments): the statement
        as ``clause``, the :attr:`bind_mapper` of an ORM statement as ``mapper``, then those
        given to ``execute()``."""
        mapper = self.bind_mapper
        if mapper is not None:
            self.bind_arguments["mapper"] = mapper
        self._implied = dict(self.bind_arguments)
        if bind_arguments:
            self.bind_arguments.update(bind_arguments)
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
    def load_options(self) -> LoadOptions:
        """The loading options of a SELECT (``_populate_existing``, ``_autoflush``,
        ``_yield_per``, ``_identity_token``, ``_lazy_loaded_from``)."""
        if not self.is_select:
            raise sa_exc.InvalidRequestError(
                "load_options are those of a SELECT; this execution runs "
                f"{type(self.statement).__name__} (see update_delete_options for UPDATE and "
                "DELETE)"
            )
        return LoadOptions(self.execution_options)

    @property
    def update_delete_options(self) -> UpdateDeleteOptions:
        """The options of an ORM-enabled UPDATE or DELETE (``_synchronize_session``,
        ``_dml_strategy``)."""
        if not (self.is_update or self.is_delete):
            raise sa_exc.InvalidRequestError(
                "update_delete_options are those of an UPDATE or DELETE; this execution runs "
                f"{type(self.statement).__name__} (see load_options for a SELECT)"
            )
        return UpdateDeleteOptions(self.execution_options)

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
        """Whether the statement names mapped classes (ORM objects or ORM-enabled DML), or
        is one the ORM runs to load attributes of objects."""
        if isinstance(self.statement, DMLStatement):
            return self.statement._entity is not None
        return bool(self.all_mappers) or LOAD_KIND in self.execution_options

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
        found = [raw.mapper for raw in raws if isinstance(raw, EntityClause)]
        if not found:
            loaded = self.execution_options.get(LOADED_MAPPER)
            if loaded is not None:
                found.append(loaded)
        return found

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
            {**self._given_bind_arguments(), **(bind_arguments or {})},
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
            self._given_bind_arguments() or None,
        )

    def _given_bind_arguments(self) -> dict[str, Any]:
        """:attr:`bind_arguments` less the implied ones left as they were (the session works
        those out itself, for the statement that runs)."""
        implied = self._implied
        return {
            key: value
            for key, value in self.bind_arguments.items()
            if key not in implied or implied[key] is not value
        }


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
