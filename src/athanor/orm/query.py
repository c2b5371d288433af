"""The legacy ``session.query(...)`` API, built on ``select()``.

A :class:`Query` wraps a Select and runs it through its session, so it shares the ORM loading
path, autoflush and identity map with 2.0-style ``session.execute(select(...))``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from athanor import exc as sa_exc
from athanor.orm.aliased import AliasedClass, aliased
from athanor.orm.base import _mapper_or_none, instance_state
from athanor.orm.eager import EagerOff
from athanor.orm.loading import apply_loader_criteria, loader_criteria, plan_for
from athanor.orm.relationships import replace_columns, with_parent
from athanor.sql.functions import func
from athanor.sql.selectable import (
    Select,
    except_,
    except_all,
    intersect,
    intersect_all,
    select,
    union,
    union_all,
)

if TYPE_CHECKING:
    from athanor.orm.session import Session

_T = TypeVar("_T")


class Query(Generic[_T]):
    """A generative ORM query (``session.query(User).filter_by(name="x").first()``)."""

    def __init__(self, entities: Any, session: Session | None = None) -> None:
        if not isinstance(entities, list | tuple):
            entities = (entities,)
        self.session = session
        self._entities = tuple(entities)
        self._statement: Select = select(*entities)
        self._options: dict[str, Any] = {}
        self._params: dict[str, Any] = {}

    def __clause_element__(self) -> Select:
        """The Select this query runs, where an expression takes a query
        (``User.id.in_(session.query(Address.user_id))``)."""
        return self._statement

    def _copy(self, statement: Select | None = None) -> Query[_T]:
        new = Query.__new__(Query)
        new.__dict__.update(self.__dict__)
        if statement is not None:
            new._statement = statement
        return new

    @property
    def statement(self) -> Select:
        """The Select this query runs."""
        return self._statement

    def subquery(self, name: str | None = None) -> Any:
        return self._statement.subquery(name)

    def with_session(self, session: Session) -> Query[_T]:
        new = self._copy()
        new.session = session
        return new

    # --- building ------------------------------------------------------------------------------

    def _adapted(self, clauses: tuple[Any, ...]) -> tuple[Any, ...]:
        """``clauses`` written against this query's entities, pointed at the subquery a
        ``union()`` (or ``intersect()``, ...) of queries selects from."""
        adapter = self.__dict__.get("_adapter")
        if adapter is None:
            return clauses
        found = []
        for clause in clauses:
            element = getattr(clause, "__clause_element__", None)
            found.append(replace_columns(element() if element else clause, adapter))
        return tuple(found)

    def filter(self, *criteria: Any) -> Query[_T]:
        return self._copy(self._statement.where(*self._adapted(criteria)))

    where = filter

    def filter_by(self, **kwargs: Any) -> Query[_T]:
        mapper = self._last_mapper()
        if mapper is None:
            return self._copy(self._statement.filter_by(**kwargs))
        crit = []
        for key, value in kwargs.items():
            attr = getattr(mapper.class_, key, None)
            if attr is None or key not in mapper._props:
                raise sa_exc.InvalidRequestError(
                    f"Entity namespace for {mapper.class_.__name__!r} has no property {key!r}"
                )
            crit.append(attr == value)
        return self.filter(*crit)

    def _last_mapper(self) -> Any:
        for entity in reversed(self._join_targets() or self._entities):
            mapper = _mapper_or_none(entity)
            if mapper is not None:
                return mapper
        return None

    def _join_targets(self) -> tuple[Any, ...]:
        return tuple(self.__dict__.get("_joined", ()))

    def order_by(self, *clauses: Any) -> Query[_T]:
        return self._copy(self._statement.order_by(*self._adapted(clauses)))

    def group_by(self, *clauses: Any) -> Query[_T]:
        return self._copy(self._statement.group_by(*self._adapted(clauses)))

    def having(self, *criteria: Any) -> Query[_T]:
        return self._copy(self._statement.having(*self._adapted(criteria)))

    def correlate(self, *froms: Any) -> Query[_T]:
        """Correlate to these FROM objects of an enclosing query when used as a subquery."""
        return self._copy(self._statement.correlate(*froms))

    def limit(self, limit: Any) -> Query[_T]:
        return self._copy(self._statement.limit(limit))

    def offset(self, offset: Any) -> Query[_T]:
        return self._copy(self._statement.offset(offset))

    def slice(self, start: int, stop: int) -> Query[_T]:
        return self._copy(self._statement.slice(start, stop))

    def distinct(self, *on: Any) -> Query[_T]:
        return self._copy(self._statement.distinct(*on))

    def join(
        self, target: Any, onclause: Any = None, *, isouter: bool = False, full: bool = False
    ) -> Query[_T]:
        new = self._copy(self._statement.join(target, onclause, isouter=isouter, full=full))
        new.__dict__["_joined"] = (*self._join_targets(), target)
        return new

    def outerjoin(self, target: Any, onclause: Any = None, *, full: bool = False) -> Query[_T]:
        return self.join(target, onclause, isouter=True, full=full)

    def select_from(self, *froms: Any) -> Query[_T]:
        return self._copy(self._statement.select_from(*froms))

    def add_columns(self, *columns: Any) -> Query[_T]:
        new = self._copy(self._statement.add_columns(*columns))
        new._entities = self._entities + columns
        return new

    def with_entities(self, *entities: Any) -> Query[Any]:
        new = self._copy(self._statement.with_only_columns(*entities))
        new._entities = entities
        return new

    def with_polymorphic(
        self,
        cls_or_mappers: Any,
        selectable: Any = None,
        polymorphic_on: Any = None,
    ) -> Query[_T]:
        """Load the columns of the subclasses ``cls_or_mappers`` (or ``"*"``) of the query's
        first entity in the same statement, as ``with_polymorphic()`` does; filters may then
        name subclass attributes (``Manager.manager_name``)."""
        from athanor.orm.polymorphic import with_polymorphic

        raws = list(self._statement._raw_columns)
        for index, raw in enumerate(raws):
            mapper = getattr(raw, "mapper", None)
            if mapper is not None and raw is mapper._entity:
                wp = with_polymorphic(
                    mapper.class_,
                    cls_or_mappers,
                    selectable=False if selectable is None else selectable,
                    polymorphic_on=polymorphic_on,
                )
                raws[index] = wp._entity
                break
        else:
            raise sa_exc.InvalidRequestError(
                "Query.with_polymorphic() needs a query of a mapped class, such as "
                "session.query(Employee)"
            )
        statement = self._statement._generate()
        statement._raw_columns = tuple(raws)
        return self._copy(statement)

    def options(self, *options: Any) -> Query[_T]:
        """Loader options (``selectinload(User.posts)``) for the objects this query loads."""
        return self._copy(self._statement.options(*options))

    def enable_eagerloads(self, value: bool) -> Query[_T]:
        """Whether relationships load eagerly (loader options and ``relationship(lazy=...)``
        defaults); with False only this query's own SELECT runs, e.g. for a query used as a
        subquery or counted."""
        kept = tuple(o for o in self._statement._with_options if not isinstance(o, EagerOff))
        statement = self._statement._generate()
        statement._with_options = kept if value else (*kept, EagerOff())
        return self._copy(statement)

    def execution_options(self, **options: Any) -> Query[_T]:
        new = self._copy()
        new._options = {**self._options, **options}
        return new

    def yield_per(self, count: int) -> Query[_T]:
        """Fetch rows and build objects ``count`` at a time while iterating."""
        return self.execution_options(yield_per=count)

    def autoflush(self, setting: bool) -> Query[_T]:
        """Whether the session flushes pending changes before this query runs."""
        return self.execution_options(autoflush=setting)

    def enable_assertions(self, value: bool) -> Query[_T]:
        """Accepted for compatibility: athanor's Query makes no state assertions to turn off
        (each method builds on the statement as it stands)."""
        return self._copy()

    def only_return_tuples(self, value: bool) -> Query[_T]:
        """With True, a query of one class returns rows (1-tuples) instead of objects."""
        new = self._copy()
        new.__dict__["_tuples"] = value
        return new

    def populate_existing(self) -> Query[_T]:
        return self.execution_options(populate_existing=True)

    def params(self, *args: Any, **kw: Any) -> Query[_T]:
        new = self._copy()
        new._params = {**self._params, **(args[0] if args else {}), **kw}
        return new

    def with_for_update(self, **kw: Any) -> Query[_T]:
        return self._copy(self._statement.with_for_update(**kw))

    # --- running -------------------------------------------------------------------------------

    def _session(self) -> Session:
        if self.session is None:
            raise sa_exc.InvalidRequestError(
                "This Query is not bound to a Session; use session.query(...) or .with_session()"
            )
        return self.session

    def from_statement(self, statement: Any) -> Query[_T]:
        """This query's entities loaded from the rows of ``statement`` (a ``text()`` with
        ``.columns()`` or a select), matched to mapped columns by name."""
        new = self._copy()
        new.__dict__["_from"] = self._statement.from_statement(statement)
        return new

    def _execute(self, statement: Select | None = None) -> Any:
        from_statement = self.__dict__.get("_from")
        if from_statement is not None:
            statement = from_statement
        return self._session().execute(
            statement if statement is not None else self._statement,
            self._params or None,
            execution_options=self._options or None,
        )

    def _rows(self, result: Any) -> Any:
        """The results as this query hands them out: objects of a single class once each
        (a join repeating a row gives its object once), otherwise rows."""
        if self.is_single_entity and not self.__dict__.get("_tuples"):
            if "yield_per" not in self._options:
                result = result.unique()
            return result.scalars()
        if "_from" not in self.__dict__ and plan_for(self._statement).requires_unique:
            result = result.unique()
        return result

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows(self._execute()))

    def all(self) -> list[Any]:
        """Every result (objects for a single entity, rows otherwise)."""
        return list(self._rows(self._execute()).all())

    def first(self) -> Any:
        """The first result or None (adds LIMIT 1)."""
        return self._rows(self._execute(self._statement.limit(1))).first()

    def one(self) -> Any:
        """Exactly one result; raises NoResultFound / MultipleResultsFound otherwise."""
        return self._rows(self._execute()).one()

    def one_or_none(self) -> Any:
        """One result or None; raises MultipleResultsFound for more."""
        return self._rows(self._execute()).one_or_none()

    def scalar(self) -> Any:
        """The first column of the only result (or None)."""
        row = self._execute().one_or_none()
        return None if row is None else row[0]

    def value(self, column: Any) -> Any:
        """``column`` of the first row this query matches (or None)."""
        row = self.with_entities(column).first()
        return None if row is None else row[0]

    def get(self, ident: Any) -> Any:
        """The object with primary key ``ident`` (``session.get()``)."""
        mapper = self._last_mapper()
        return self._session().get(mapper.class_, ident)

    def count(self) -> int:
        """How many rows this query returns (its loader criteria included)."""
        inner = self._statement
        criteria = loader_criteria(inner._with_options)
        if criteria:
            inner = apply_loader_criteria(inner, criteria)
        stmt = select(func.count()).select_from(inner.subquery())
        return int(self._session().execute(stmt, self._params or None).scalar() or 0)

    def _bulk_target(self, action: str) -> Any:
        mapper = _mapper_or_none(self._entities[0]) if self._entities else None
        if mapper is None:
            raise sa_exc.InvalidRequestError(
                f"Query.{action}() needs a query of one mapped class, e.g. "
                f"session.query(User).filter(...).{action}(...)"
            )
        return mapper

    def update(self, values: dict[Any, Any], synchronize_session: Any = "auto") -> int:
        """UPDATE every row this query matches in one statement; returns the matched count.

        Objects of the class already in the session are kept in step as
        ``synchronize_session`` says ("auto", "evaluate", "fetch" or False).
        """
        from athanor.sql.dml import update

        mapper = self._bulk_target("update")
        for name in values:
            key = name if isinstance(name, str) else getattr(name, "key", "")
            if not getattr(mapper._props.get(key), "columns", None):
                raise sa_exc.InvalidRequestError(
                    f"Query.update(): {mapper.class_.__name__} has no column attribute {name!r}"
                )
        stmt = update(mapper.class_).where(*self._statement._where).values(values)
        return self._bulk_run(stmt, synchronize_session)

    def delete(self, synchronize_session: Any = "auto") -> int:
        """DELETE every row this query matches in one statement; returns the matched count.

        Objects of those rows already in the session become deleted (detached at commit)
        unless ``synchronize_session=False``.
        """
        from athanor.sql.dml import delete

        mapper = self._bulk_target("delete")
        return self._bulk_run(
            delete(mapper.class_).where(*self._statement._where), synchronize_session
        )

    def _bulk_run(self, statement: Any, synchronize_session: Any) -> int:
        options = {**self._options, "synchronize_session": synchronize_session}
        result = self._session().execute(statement, self._params or None, execution_options=options)
        return int(result.rowcount)

    def exists(self) -> Any:
        return self._statement.exists()

    def scalar_subquery(self) -> Any:
        """This query as a scalar subquery (one column, one row) for use in expressions."""
        return self._statement.scalar_subquery()

    as_scalar = scalar_subquery

    def label(self, name: str | None) -> Any:
        """This query as a scalar subquery labelled ``name``."""
        return self._statement.label(name)

    def cte(self, name: str | None = None, recursive: bool = False) -> Any:
        """This query as a common table expression."""
        return self._statement.cte(name, recursive=recursive)

    def union(self, *queries: Query[Any]) -> Query[_T]:
        """This query UNION the others, as a query of the same entities."""
        return self._compound(union, queries)

    def union_all(self, *queries: Query[Any]) -> Query[_T]:
        """This query UNION ALL the others, as a query of the same entities."""
        return self._compound(union_all, queries)

    def intersect(self, *queries: Query[Any]) -> Query[_T]:
        """This query INTERSECT the others, as a query of the same entities."""
        return self._compound(intersect, queries)

    def intersect_all(self, *queries: Query[Any]) -> Query[_T]:
        """This query INTERSECT ALL the others, as a query of the same entities."""
        return self._compound(intersect_all, queries)

    def except_(self, *queries: Query[Any]) -> Query[_T]:
        """This query EXCEPT the others, as a query of the same entities."""
        return self._compound(except_, queries)

    def except_all(self, *queries: Query[Any]) -> Query[_T]:
        """This query EXCEPT ALL the others, as a query of the same entities."""
        return self._compound(except_all, queries)

    def _compound(self, combine: Any, queries: tuple[Query[Any], ...]) -> Query[_T]:
        """A query of the same entities over ``combine(...)`` of the queries as a subquery;
        criteria and ordering added later to the entities' columns apply to it."""
        sub = combine(self._statement, *[q._statement for q in queries]).subquery()
        if self.is_single_entity:
            new = self._copy(select(aliased(self._entities[0], sub)))
        else:
            new = self._copy(select(*sub.c))
            new._entities = tuple(sub.c)
        new.__dict__["_adapter"] = sub.corresponding_column
        return new

    def with_parent(
        self, instance: Any, property: Any = None, from_entity: Any = None
    ) -> Query[_T]:
        """Only the objects related to ``instance`` (through ``property``, or the one
        relationship of the instance's class that targets this query's class)."""
        if property is None:
            target = self._last_mapper()
            mapper = instance_state(instance).mapper
            found = [r for r in mapper._relationships if target is not None and r.mapper is target]
            if len(found) != 1:
                raise sa_exc.InvalidRequestError(
                    f"with_parent(): {mapper.class_.__name__} has {len(found)} relationships to "
                    "this query's class; name one: with_parent(obj, Parent.children)"
                )
            property = found[0]
        return self.filter(with_parent(instance, property, from_entity))

    @property
    def column_descriptions(self) -> list[dict[str, Any]]:
        """Name, type and expression (or class) of each result entity or column."""
        return self._statement.column_descriptions

    @property
    def is_single_entity(self) -> bool:
        """Whether results are objects of one class rather than rows."""
        if len(self._entities) != 1:
            return False
        entity = self._entities[0]
        return isinstance(entity, AliasedClass) or _mapper_or_none(entity) is not None

    def get_execution_options(self) -> dict[str, Any]:
        """The execution options set on this query."""
        return dict(self._options)

    def prefix_with(self, *prefixes: str) -> Query[_T]:
        return self._copy(self._statement.prefix_with(*prefixes))

    def suffix_with(self, *suffixes: str) -> Query[_T]:
        return self._copy(self._statement.suffix_with(*suffixes))

    def tuples(self) -> Query[Any]:
        """The same query, typed as returning tuples."""
        return self

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            start, stop = item.start or 0, item.stop
            if stop is None:
                return list(self.offset(start))
            return list(self.slice(start, stop))
        return next(iter(self.slice(item, item + 1)))

    def __str__(self) -> str:
        return str(self._statement)
