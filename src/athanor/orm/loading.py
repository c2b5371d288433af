"""Turning rows into objects: loading plans for ORM selects, and loads by primary key.

``select(User, Address.email)`` keeps its entities until execution; the plan built once per
statement shape says which columns of the driver row feed which mapper.  Each execution
makes one loader per entity that builds objects straight from a batch of driver tuples: an
identity-map lookup by a tuple key, then ``cls.__new__`` plus one ``__dict__.update`` for
new objects.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.engine.result import (
    ChunkedIteratorResult,
    CursorResult,
    FrozenResult,
    Result,
    ResultMetaData,
    ScalarResult,
)
from athanor.orm import eager
from athanor.orm import exc as orm_exc
from athanor.orm.aliased import AliasedEntity
from athanor.orm.base import COLUMN_LOAD, LOADED_MAPPER, NO_CHANGES, STATE_KEY, state_str
from athanor.orm.bundle import Bundle
from athanor.orm.context import QueryContext
from athanor.orm.mapper import EntityClause, Mapper
from athanor.orm.n_plus_one import LoadContext
from athanor.orm.polymorphic import adapt_to_selectables, load_subclass_columns, selectin_targets
from athanor.orm.relationships import replace_columns, unmarked
from athanor.orm.state import InstanceState, _make_state
from athanor.orm.strategy_options import Load, LoaderCriteria, check_options, expand_options
from athanor.sql.elements import BindParameter, ColumnElement, and_
from athanor.sql.selectable import FromClause, FromStatement, Join, Select, select

if TYPE_CHECKING:
    from athanor.engine.connection import DirectSelect
    from athanor.orm.session import Session

_CHUNK = 1000
_NO_KEY = object()

RowsLoader = Callable[[Sequence[Sequence[Any]]], list[Any]]
"""Makes one value (an object, None or a column value) per row of a batch, in row order.

Loaders take whole batches so that no Python call is made per row and entity."""
_plans: dict[Hashable, LoadingPlan] = {}
_MAX_PLANS = 500


def orm_selection(statement: Any) -> Mapper | Bundle | None:
    """For a select of mapped entities or bundles: the mapper of its first entity (what a
    session picks its bind by), else its first bundle; None for any other statement."""
    if not isinstance(statement, Select):
        return None
    bundle = None
    for raw in statement._raw_columns:
        if isinstance(raw, EntityClause):
            return raw.mapper
        if bundle is None and isinstance(raw, Bundle):
            bundle = raw
    return bundle


def _subclass_trees(
    mapper: Mapper, targets: Sequence[Mapper], options: Sequence[Any]
) -> list[tuple[Mapper, dict[Any, Any]]]:
    """For subclasses of ``mapper`` loaded by SELECT ... IN, the loads of their own
    relationships (``selectinload(Manager.reports)`` beside ``selectin_polymorphic()``, or
    a subclass relationship's eager default), each run as a SELECT ... IN of its own."""
    found = []
    for sub in targets:
        nodes = {
            prop: node
            for prop, node in eager.build_tree(sub, options).items()
            if not mapper.isa(prop.parent)
        }
        for node in nodes.values():
            if node.strategy == "joined":
                node.strategy = "selectin"  # no rows to fill it from
        if eager.has_post_load(nodes):
            found.append((sub, nodes))
    return found


def plan_for(statement: Select) -> LoadingPlan:
    """The loading plan of ``statement``, cached by statement shape."""
    key = statement._generate_cache_key()[0]
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        plan = _plans[key] = LoadingPlan(statement)
    return plan


class LoadingPlan:
    """Which columns of a result row feed which mapper, for one statement shape."""

    subclass_loads: Sequence[
        tuple[int, tuple[Mapper, ...], tuple[str, ...], list[tuple[Mapper, dict[Any, Any]]]]
    ] = ()
    """Per entity with subclasses loaded by SELECT ... IN: its index, them, loaded keys, and
    the loads of those subclasses' own relationships the options or mappings ask for."""
    wrap_limited = False
    """Whether the statement runs as a subquery the joined loads join to (LIMIT/OFFSET with a
    joined collection: the limit then counts parents)."""
    plain_single = False
    """Whether the statement loads one entity and nothing along with it (no eager loads)."""
    _shapes: tuple[Sequence[Any] | None, list[_PlainShape | None]] | None = None
    """The value processors of the last execution and the loader shapes made for them."""

    def __init__(self, statement: Select) -> None:
        check_options(statement._with_options)
        self.parts: list[tuple[Mapper | Bundle | None, int, int, tuple[str, ...] | None]] = []
        """Per result value: its mapper (or bundle), first column, column count, loaded keys."""
        keys: list[str] = []
        aliases: list[Any] = []  # per part: the aliased entity it loads from, else None
        named = statement._named_columns()
        position = 0
        # Where the current value's names start in ``named``: column options change how
        # many columns an entity loads, not how many it names.
        named_at = 0
        self.overrides: dict[Any, str] = {}
        self.custom_columns = False
        self.column_choice: dict[Mapper, list[tuple[str, ColumnElement]]] = {}
        """Per class selected itself (not an alias), the columns its column options chose."""
        for raw in statement._raw_columns:
            if isinstance(raw, EntityClause):
                chosen = entity_columns(raw, statement._with_options, statement._raw_columns)
                load_keys = raw._load_keys
                count = len(raw.c)
                if chosen is not None:
                    self.custom_columns = True
                    columns, raising = chosen
                    load_keys = tuple(k for k, _ in columns)
                    count = len(columns)
                    self.overrides.update(raising)
                    if raw is raw.mapper._entity:
                        self.column_choice[raw.mapper] = columns
                self.parts.append((raw.mapper, position, count, load_keys))
                aliases.append(None if raw is raw.mapper._entity else raw)
                keys.append(raw._describe()["name"] or raw.mapper.class_.__name__)
            elif isinstance(raw, Bundle):
                count = len(raw._columns_in_place)
                self.parts.append((raw, position, count, None))
                aliases.append(None)
                keys.append(str(raw.name))
            elif isinstance(raw, FromClause):
                count = len(raw.c)
                for offset in range(count):
                    self.parts.append((None, position + offset, 1, None))
                    aliases.append(None)
                    keys.append(_result_key(named[named_at + offset], keys))
            else:
                count = 1
                self.parts.append((None, position, 1, None))
                aliases.append(None)
                keys.append(_result_key(named[named_at], keys))
            position += count
            named_at += len(raw.c) if isinstance(raw, FromClause) else 1
        self.metadata = ResultMetaData(keys)
        self.single_entity = len(self.parts) == 1 and self.parts[0][0] is not None
        self.trees: list[tuple[int, dict[Any, eager.Node]]] = []
        self.join_steps: list[eager.JoinStep] = []
        self.lazy_options: dict[Any, list[Any]] = {}
        self.requires_unique = False
        subclass_loads = []
        for index, (mapper, _, _, load_keys) in enumerate(self.parts):
            if isinstance(mapper, Mapper) and mapper._subclass_mappers:
                targets = selectin_targets(mapper, statement._with_options)
                if targets:
                    loaded = mapper._load_keys if load_keys is None else load_keys
                    trees = _subclass_trees(mapper, targets, statement._with_options)
                    subclass_loads.append((index, targets, loaded, trees))
        self.subclass_loads = subclass_loads
        wrap = False
        for index, (mapper, _, _, _) in enumerate(self.parts):
            if not isinstance(mapper, Mapper):
                continue
            nodes = eager.build_tree(mapper, statement._with_options)
            if nodes:
                eager.resolve_contained(nodes, eager.joined_froms(statement))
                position = eager.plan_joins(nodes, aliases[index], position, self.join_steps)
                self.trees.append((index, nodes))
                self.overrides.update(eager.access_overrides(nodes))
                self.lazy_options.update(eager.lazy_options(nodes))
                self.requires_unique |= eager.has_joined_collection(nodes)
                wrap |= eager.joins_collection(nodes)
        # LIMIT/OFFSET count parents, and GROUP BY groups them: either applies to the
        # statement before the joined collections add their rows.
        limited = (
            statement._limit is not None
            or statement._offset is not None
            or bool(statement._group_by)
        )
        self.wrap_limited = wrap and limited
        propagated = [c for c in loader_criteria(statement._with_options) if c.propagate_to_loaders]
        if propagated:
            for mapper, _, _, _ in self.parts:
                for prop in mapper._relationships if isinstance(mapper, Mapper) else ():
                    self.lazy_options[prop] = [
                        *self.lazy_options.get(prop, ()),
                        eager.Origin(prop),
                        *propagated,
                    ]
        self.plain_single = (
            self.single_entity
            and isinstance(self.parts[0][0], Mapper)
            and not self.trees
            and not subclass_loads
        )

    def executed(self, statement: Select) -> Select:
        """What runs for ``statement``: with its column options, loader criteria and joined
        eager loads (values that bind parameters carry come from ``statement`` itself)."""
        if self.custom_columns:
            statement = _with_entity_columns(statement)
        criteria = loader_criteria(statement._with_options)
        steps = self.join_steps
        if criteria:
            steps = [eager.step_with_criteria(step, criteria) for step in steps]
        if self.wrap_limited:
            # The subquery is a nested SELECT, which gets the criteria when compiled.
            return eager.wrap_limited(statement, steps)
        if criteria:
            statement = apply_loader_criteria(statement, criteria)
        if steps:
            statement = eager.apply_joins(statement, steps)
        return nested_statement(statement)

    def result(
        self, session: Session, cursor_result: CursorResult, options: Any, statement: Select
    ) -> Result:
        """The ORM result of ``statement`` over ``cursor_result`` for ``session``."""
        processors, source = self.row_source(cursor_result)
        populate_existing = bool(options and options.get("populate_existing"))
        token = options.get("identity_token") if options else None
        if token is not None:
            _check_token(token)
        mode = session._n_plus_one
        context = None
        if self.overrides or self.lazy_options or self.column_choice or mode:
            context = LoadContext(self.overrides, self.lazy_options, mode, self.column_choice)
        shapes = self._shapes_for(processors)
        yield_per = options.get("yield_per") if options else None
        if self.plain_single and context is None:
            shape = _unless_polymorphic(shapes[1][0])
            if shape is not None:
                # The common select(User)...: one kind of object, nothing loaded alongside.
                dispatch = shape[0].dispatch
                listened = bool(dispatch.load or dispatch.refresh)
                load = _plain_loader(
                    session,
                    shape,
                    populate_existing,
                    None,
                    token,
                    QueryContext(session, statement, options, _parameters_of(cursor_result))
                    if listened
                    else None,
                )
                if yield_per is None and not listened:
                    # Objects may be made before the first fetch when no listener sees
                    # them being made.
                    made = ChunkedIteratorResult.made_now(self.metadata, source, load)
                    if made is not None:
                        return made
                return ChunkedIteratorResult.converting(
                    self.metadata,
                    source,
                    _one_per_row(load),
                    on_close=source.close,
                    yield_per=yield_per,
                )
        query_context = QueryContext(session, statement, options, _parameters_of(cursor_result))
        makers: list[RowsLoader] = []
        for (mapper, start, count, load_keys), shape in zip(self.parts, shapes[1], strict=True):
            if shape is not None and not _is_polymorphic(shape[0], shape[3]):
                makers.append(
                    _plain_loader(session, shape, populate_existing, context, token, query_context)
                )
            elif mapper is None:
                makers.append(_each_row(_column_getter(start, processors)))
            elif isinstance(mapper, Bundle):
                getters = [_column_getter(start + i, processors) for i in range(count)]
                makers.append(_each_row(mapper._row_processor(statement, getters)))
            else:
                makers.append(
                    instance_loader(
                        session,
                        mapper,
                        start,
                        count,
                        processors,
                        populate_existing,
                        context,
                        load_keys,
                        token,
                        query_context,
                    )
                )
        single = len(makers) == 1
        # A joined eager collection repeats its parent on consecutive rows, which unique()
        # (required then) would drop: a single-entity result drops them before making rows.
        drop_repeats = single and self.requires_unique
        finish = (
            self._eager_loader(
                session,
                processors,
                context,
                statement,
                token,
                populate_existing,
                query_context,
            )
            if self.trees
            else None
        )
        subclass_loads = self.subclass_loads
        unique_checked = not self.requires_unique

        def convert(rows: Sequence[Any]) -> list[Any]:
            nonlocal unique_checked
            if not unique_checked:
                eager.check_unique(True, result._source.uniquing)
                unique_checked = True
            # Column by column: each maker takes the whole batch.
            columns = [make(rows) for make in makers]
            if context is not None:
                context.objects += len(rows)
            for index, targets, loaded, trees in subclass_loads:
                load_subclass_columns(session, columns[index], targets, loaded)
                for sub, nodes in trees:
                    of_sub = [o for o in columns[index] if isinstance(o, sub.class_)]
                    if of_sub:
                        eager.post_load(session, of_sub, nodes, None, populate_existing)
            if finish is not None:
                finish(rows, columns)
            if not single:
                return list(zip(*columns, strict=True))
            if drop_repeats:
                return [(item,) for item in _without_repeats(columns[0])]
            return [(item,) for item in columns[0]]

        result = ChunkedIteratorResult.converting(
            self.metadata, source, convert, on_close=source.close, yield_per=yield_per
        )
        return result

    def direct_loader(self, session: Session, processors: Sequence[Any] | None) -> Any:
        """The loader of this plan's objects for rows of the direct path (no execution
        options), or None when the general result is needed: more than one plain entity,
        loads alongside, a load context (the N+1 detector), or load/refresh listeners."""
        if not self.plain_single or self.overrides or self.lazy_options or session._n_plus_one:
            return None
        shapes = self._shapes
        if shapes is None or shapes[0] is not processors:
            shapes = self._shapes_for(processors)
        shape = _unless_polymorphic(shapes[1][0])
        if shape is None:
            return None
        dispatch = shape[0].dispatch
        if dispatch.load or dispatch.refresh:
            return None
        return _plain_loader(session, shape)

    def _shapes_for(
        self, processors: Sequence[Any] | None
    ) -> tuple[Sequence[Any] | None, list[_PlainShape | None]]:
        shapes = self._shapes
        if shapes is None or shapes[0] is not processors:
            shapes = self._shapes = (processors, self._plain_shapes(processors))
        return shapes

    def _plain_shapes(self, processors: Sequence[Any] | None) -> list[_PlainShape | None]:
        """Per part, what its plain (not polymorphic) loader needs that depends only on this
        plan and the value processors: worked out once, not per execution."""
        return [
            None
            if not isinstance(mapper, Mapper)
            or _is_polymorphic(mapper, mapper._load_keys if load_keys is None else load_keys)
            else _plain_shape(mapper, start, count, processors, load_keys)
            for mapper, start, count, load_keys in self.parts
        ]

    def row_source(self, cursor_result: CursorResult) -> tuple[Sequence[Any] | None, Any]:
        """The value processors and the row source this plan reads ``cursor_result`` through."""
        return cursor_result._metadata.processors, cursor_result._source

    def _eager_loader(
        self,
        session: Session,
        processors: Sequence[Any] | None,
        context: LoadContext | None,
        statement: Select,
        token: Hashable,
        populate_existing: bool,
        query_context: QueryContext,
    ) -> Callable[[Sequence[Any], list[list[Any]]], None]:
        """Per batch of rows: fill joined eager loads from the rows, then run the others
        (given the rows and, per result column, its values).  ``populate_existing`` holds for
        the related objects too, as for every row the statement loads."""

        def make_loader(
            session: Session,
            mapper: Mapper,
            start: int,
            count: int,
            procs: Any,
            load_keys: tuple[str, ...] | None,
        ) -> RowsLoader:
            return instance_loader(
                session,
                mapper,
                start,
                count,
                procs,
                populate_existing,
                context,
                load_keys,
                token,
                query_context,
            )

        levels = [
            (
                index,
                nodes,
                eager.JoinedRows(session, nodes, processors, make_loader, populate_existing),
                eager.has_post_load(nodes),
            )
            for index, nodes in self.trees
        ]

        params = query_context.params or None

        def finish(rows: Sequence[Any], columns: list[list[Any]]) -> None:
            for index, nodes, joined, post_loads in levels:
                loaded = columns[index]
                if joined.entries:
                    joined.rows(loaded, rows)
                    joined.finish(session)
                if post_loads:
                    objects = list({id(o): o for o in loaded if o is not None}.values())
                    eager.post_load(session, objects, nodes, statement, populate_existing, params)

        return finish


def _parameters_of(cursor_result: CursorResult) -> Mapping[str, Any] | None:
    """The bind values a (single) execution ran with, for loads that run its statement again."""
    context = cursor_result.context
    if context is None or len(context.compiled_parameters) != 1:
        return None
    params: Mapping[str, Any] = context.compiled_parameters[0]
    return params


class DirectLoad:
    """An entity select run straight on the cursor (:class:`DirectSelect`) and loaded by its
    plan's plain loader, with no CursorResult in between for a few rows."""

    __slots__ = ("load", "plan", "select", "session")

    def __init__(
        self, session: Session, plan: LoadingPlan, select: DirectSelect, load: RowsLoader
    ) -> None:
        self.session = session
        self.plan = plan
        self.select = select
        self.load = load

    def run(self, scalars: bool = False) -> Any:
        """Run the statement and load its objects (see :meth:`finish`)."""
        self.select.execute()
        return self.finish(scalars)

    def finish(self, scalars: bool = False) -> Any:
        """The ORM result once the statement ran, or with ``scalars`` its ``scalars()`` view:
        for one object, a result holding it alone rather than a view of rows."""
        select = self.select
        rows = select.rows()
        if rows is None:
            statement: Any = select.statement
            result = self.plan.result(
                self.session, select.result(), statement._execution_options, statement
            )
        else:
            objects = self.load(rows)
            if scalars and len(objects) == 1 and objects[0] is not None:
                return ScalarResult.of_value(objects[0])
            result = ChunkedIteratorResult.of_values(self.plan.metadata, objects)
        return result.scalars() if scalars else result


class StatementPlan(LoadingPlan):
    """The loading plan of ``select(User).from_statement(stmt)`` over one result of ``stmt``.

    Each entity takes the result columns named like its mapped columns (or the very column
    objects ``text(...).columns(User.id, ...)`` names); columns the rows lack stay unloaded and
    load on access.  Loads that would change the SQL (``joinedload``, ``subqueryload``) run as
    ``selectinload`` afterwards.
    """

    def __init__(self, statement: FromStatement, keys: Sequence[str]) -> None:
        check_options(statement._with_options)
        self.parts = []
        self.overrides = {}
        self.custom_columns = False
        self.column_choice = {}
        self.trees = []
        self.join_steps = []
        self.lazy_options = {}
        self.requires_unique = False
        self.positions: list[int] = []
        selected = _selected_columns(statement.element, len(keys))
        lowered = [k.lower() for k in keys]
        result_keys: list[str] = []
        for raw in statement._raw_columns:
            start = len(self.positions)
            if isinstance(raw, EntityClause):
                mapper = raw.mapper
                load_keys = []
                for key, col in mapper._load_columns:
                    position = _find_column(col, key, keys, lowered, selected, self.positions)
                    if position is None:
                        if col in mapper.primary_key:
                            raise sa_exc.InvalidRequestError(
                                f"from_statement(): the statement's rows have no column "
                                f"{getattr(col, 'name', key)!r} for the primary key "
                                f"{mapper.class_.__name__}.{key}; select it under that name"
                            )
                        continue
                    self.positions.append(position)
                    load_keys.append(key)
                self.parts.append((mapper, start, len(load_keys), tuple(load_keys)))
                result_keys.append(mapper.class_.__name__)
                self._plan_loads(len(self.parts) - 1, mapper, statement._with_options)
            elif isinstance(raw, ColumnElement):
                name = raw._proxy_name or ""
                position = _find_column(raw, name, keys, lowered, selected, self.positions)
                if position is None:
                    raise sa_exc.InvalidRequestError(
                        f"from_statement(): the statement's rows have no column {name!r}"
                    )
                self.positions.append(position)
                self.parts.append((None, start, 1, None))
                result_keys.append(_result_key((name, raw), result_keys))
            else:
                raise sa_exc.ArgumentError(
                    f"from_statement() loads mapped classes and columns, not {raw!r}"
                )
        self.metadata = ResultMetaData(result_keys)
        self.single_entity = len(self.parts) == 1 and self.parts[0][0] is not None

    def _plan_loads(self, index: int, mapper: Mapper, options: Sequence[Any]) -> None:
        nodes = eager.build_tree(mapper, options)
        if not nodes:
            return
        for node in nodes.values():
            if node.strategy == "contains":
                raise sa_exc.ArgumentError(
                    f"contains_eager({node.prop}) cannot read from a from_statement() query; "
                    f"use selectinload({node.prop}) instead"
                )
            if node.strategy in ("joined", "subquery"):
                node.strategy = "selectin"
        self.trees.append((index, nodes))
        self.overrides.update(eager.access_overrides(nodes))
        self.lazy_options.update(eager.lazy_options(nodes))

    def row_source(self, cursor_result: CursorResult) -> tuple[Sequence[Any] | None, Any]:
        processors = cursor_result._metadata.processors
        picked = None if processors is None else [processors[i] for i in self.positions]
        return picked, _PickedRows(cursor_result._source, self.positions)


class _PickedRows:
    """A row source giving chosen columns of another's rows, in a chosen order."""

    def __init__(self, source: Any, positions: Sequence[int]) -> None:
        self._source = source
        self._pick = itemgetter(*positions) if len(positions) > 1 else _one_of(positions)
        self.close = source.close

    def many(self, size: int) -> list[Any]:
        return list(map(self._pick, self._source.many(size)))

    def next_batch(self) -> list[Any]:
        return list(map(self._pick, self._source.next_batch()))

    def take_all(self) -> list[Any]:
        return list(map(self._pick, self._source.take_all()))

    @property
    def state(self) -> int:
        return int(self._source.state)


def _one_of(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    (index,) = positions

    def pick(row: Sequence[Any]) -> tuple[Any, ...]:
        return (row[index],)

    return pick


def _selected_columns(element: Any, width: int) -> list[Any] | None:
    """The column objects ``element`` selects, when it names them (one per result column)."""
    columns = getattr(element, "column_args", None)
    if columns is None and isinstance(element, Select):
        columns = element._all_columns()
    return list(columns) if columns is not None and len(columns) == width else None


def _find_column(
    column: Any,
    key: str,
    keys: Sequence[str],
    lowered: Sequence[str],
    selected: Sequence[Any] | None,
    taken: Sequence[int],
) -> int | None:
    """The result position of ``column`` (attribute ``key``): the same column object if the
    statement names it, else the first unused result column with its name or key."""
    if selected is not None:
        for position, candidate in enumerate(selected):
            if candidate is column:
                return position
    names = {n.lower() for n in (getattr(column, "name", None), key) if n}
    found = [i for i, k in enumerate(lowered) if k in names]
    unused = [i for i in found if i not in taken]
    return next(iter(unused or found), None)


def from_statement_result(
    session: Session, statement: FromStatement, cursor_result: CursorResult, options: Any
) -> Result:
    """The ORM result of ``statement`` over the rows of its inner statement."""
    plan = StatementPlan(statement, list(cursor_result.keys()))
    return plan.result(session, cursor_result, options, statement)  # type: ignore[arg-type]


def entity_columns(
    entity: EntityClause, options: Sequence[Any], selected: Sequence[Any] = ()
) -> tuple[list[tuple[str, ColumnElement]], dict[Any, str]] | None:
    """The (attribute, column) pairs ``entity`` loads under the column options in ``options``.

    Options naming an alias's attributes (``load_only(ua.name)``) apply to that alias only;
    those naming the class's apply to an alias only when ``selected`` (what the statement
    selects) has no entity of the class itself for them to mean.

    Returns None when no option changes the mapper's default set; otherwise also the column
    properties that raise when accessed unloaded (``defer(..., raiseload=True)``).
    """
    mapper = entity.mapper
    by_class = not isinstance(entity, AliasedEntity) or not any(
        isinstance(raw, EntityClause)
        and not isinstance(raw, AliasedEntity)
        and (
            issubclass(raw.mapper.class_, mapper.class_)
            or issubclass(mapper.class_, raw.mapper.class_)
        )
        for raw in selected
    )
    directives = [
        d
        for option in expand_options(options)
        if isinstance(option, Load)
        and not option.links
        and (option.alias is entity or (option.alias is None and by_class))
        for d in option.columns
        if _directive_applies(d, mapper.class_)
    ]
    if not directives:
        return None
    props = mapper._column_props
    load = {p: not p.deferred for p in props}
    raising: dict[Any, str] = {}
    expressions: dict[Any, ColumnElement] = {}
    # The columns an option names win over "*", load_only()'s "the others" and groups,
    # whatever the order; two options naming one column must agree.
    named: dict[Any, tuple[bool, bool]] = {}
    for kind, chosen, arg in directives:
        if kind in ("defer", "undefer", "load_only"):
            wanted = (kind != "defer", bool(kind == "defer" and arg))
            for p in chosen:
                if named.setdefault(p, wanted) != wanted:
                    raise sa_exc.InvalidRequestError(
                        f"Loader options conflict on {mapper.class_.__name__}.{p.key}: "
                        f"{_column_choice(*named[p])} and {_column_choice(*wanted)} in one "
                        "statement; keep one of them"
                    )
    for kind, _, arg in directives:
        if kind in _WILDCARD_KINDS:
            for p in props:
                load[p] = kind == "undefer_all"
                if arg[0]:
                    raising[p] = "raise"
        elif kind == "load_only":
            for p in props:
                if p not in named:
                    load[p] = False
                    if arg:
                        raising[p] = "raise"
    for kind, chosen, arg in directives:
        if kind == "undefer_group":
            for p in props:
                if p.group == arg and p not in named:
                    load[p] = True
        elif kind == "expression":
            for p in chosen:
                load[p] = True
                expressions[p] = arg
    for p, (loaded, raises) in named.items():
        load[p] = loaded
        if raises:
            raising[p] = "raise"
        else:
            raising.pop(p, None)
    pk = set(mapper.primary_key)
    columns: list[tuple[str, ColumnElement]] = []
    adapt = getattr(entity, "adapt", None)
    for p in props:
        col = p.columns[0]
        if col in pk:
            raising.pop(p, None)
        elif not load[p] or (p.is_query_expression and p.deferred and p not in expressions):
            continue
        if p in expressions:
            columns.append((p.key, expressions[p].label(p.key)))
        elif p.is_expression:
            columns.append((p.key, col.label(p.key)))
        else:
            columns.append((p.key, adapt(col) if adapt is not None else col))
    return columns, raising


_WILDCARD_KINDS = ("defer_all", "undefer_all")


def _column_choice(loaded: bool, raises: bool) -> str:
    """How an option loads a column, for messages."""
    return "undefer()" if loaded else ("defer(raiseload=True)" if raises else "defer()")


def _directive_applies(directive: Any, cls: type) -> bool:
    """Whether column option ``directive`` is about the columns of mapped class ``cls``."""
    kind, props, arg = directive
    if kind == "misused":
        return False
    if kind in _WILDCARD_KINDS:
        return arg[1] is None or issubclass(cls, arg[1])
    return kind == "undefer_group" or issubclass(cls, props[0].parent.class_)


def loader_criteria(options: Sequence[Any]) -> list[LoaderCriteria]:
    """The ``with_loader_criteria()`` options among ``options``."""
    return [o for o in options if isinstance(o, LoaderCriteria)]


def criteria_for_entity(entity: Any, criteria: Sequence[LoaderCriteria]) -> list[ColumnElement]:
    """The criteria that apply to FROM object ``entity`` (adapted to it when it is an alias)."""
    entity = getattr(entity, "_aliased_entity", entity)
    mapper = getattr(entity, "mapper", None)
    if mapper is None:
        # A table named by plain columns (select(Post.title)): the class mapped to it.
        return [
            o.criteria_for(o.entity)
            for o in criteria
            if getattr(getattr(o.entity, "__mapper__", None), "local_table", None) is entity
        ]
    adapt = getattr(entity, "adapt", None)
    found = []
    for option in criteria:
        if not option.applies_to(mapper.class_) or (
            adapt is not None and not option.include_aliases
        ):
            continue
        expr = option.criteria_for(mapper.class_)
        found.append(expr if adapt is None else replace_columns(expr, adapt))
    return found


def criteria_everywhere(statement: Select) -> Callable[[Any, Sequence[Any]], Any] | None:
    """What adds ``statement``'s loader criteria to each SELECT nested in it (subqueries,
    EXISTS, CTEs), as to the statement itself; None when it has none."""
    criteria = loader_criteria(statement._with_options)
    if not criteria:
        return None

    def nested(select: Any, enclosing: Sequence[Any]) -> Any:
        if not isinstance(select, Select):
            return select
        return apply_loader_criteria(select, criteria, enclosing)

    return nested


def apply_loader_criteria(
    statement: Select, criteria: Sequence[LoaderCriteria], enclosing: Sequence[Any] = ()
) -> Select:
    """``statement`` with loader criteria in the WHERE clause (its entities, and the tables
    only its WHERE clause names, unless they are the ``enclosing`` query's) and in the ON
    clauses of joins to the entities they name."""
    if not any(isinstance(o, eager.Origin) for o in statement._with_options):
        criteria = [c for c in criteria if not c.loader_only]
    if not criteria:
        return statement
    where: list[ColumnElement] = []
    seen: set[int] = set()

    def visit(from_: Any) -> Any:
        if isinstance(from_, Join):
            left = visit(from_.left)
            seen.add(id(from_.right))
            extra = criteria_for_entity(from_.right, criteria)
            if left is from_.left and not extra:
                return from_
            join = from_._generate()
            join.left = left
            join.onclause = and_(from_.onclause, *extra)
            return join
        if id(from_) not in seen:
            seen.add(id(from_))
            # A class and its table (select(User, User.id)) share one criteria object.
            found = criteria_for_entity(from_, criteria)
            where.extend(c for c in found if not any(c is known for known in where))
        return from_

    from_obj = tuple(visit(f) for f in statement._from_obj)
    for raw in statement._raw_columns:
        for from_ in raw._from_objects:
            visit(from_)
    outer = {id(f) for f in enclosing}
    outer.update(id(h) for f in enclosing for h in f._hide_froms)
    for crit in statement._where:
        for from_ in crit._from_objects:
            if id(from_) not in outer:
                visit(from_)
    if not where and from_obj == statement._from_obj:
        return statement
    new = statement._generate()
    new._from_obj = from_obj
    new._where = statement._where + tuple(where)
    return new


def nested_statement(statement: Select) -> Select:
    """An ORM select used inside another statement: limited to the rows of the single-table
    subclasses it names, reading the polymorphic unions of the classes that have one, like the
    same select run on its own."""
    statement, marked = _with_marked_froms(statement)
    statement = adapt_to_selectables(statement)
    if marked or _mentions_single_table_subclass(statement):
        return _with_discriminator_criteria(statement, marked)
    return statement


def _single_table_criteria(entity: Any) -> ColumnElement | None:
    """``discriminator IN (...)`` for an entity of a single-table subclass, else None."""
    mapper = getattr(entity, "mapper", None)
    if not isinstance(mapper, Mapper) or not mapper.single or mapper.polymorphic_on is None:
        return None
    column = mapper.polymorphic_on
    adapt = getattr(entity, "adapt", None)
    if adapt is not None:
        column = replace_columns(column, adapt)
    return column.in_(mapper._identities())


def _mentions_single_table_subclass(statement: Select) -> bool:
    def visit(from_: Any) -> bool:
        if isinstance(from_, Join):
            return visit(from_.left) or visit(from_.right)
        return _single_table_criteria(from_) is not None

    return any(visit(f) for f in statement._from_obj) or any(
        visit(raw) for raw in statement._raw_columns if isinstance(raw, EntityClause)
    )


_MARKABLE = ("_raw_columns", "_where", "_group_by", "_having", "_order_by")
"""The parts of a select whose columns may be marked with an inheriting class."""


def _with_marked_froms(statement: Select) -> tuple[Select, list[EntityClause]]:
    """``statement`` with the columns marked with inheriting classes (``select(Manager.name)``,
    ``Manager.id + 1``, ``Manager.name == "x"``: see :class:`SubclassColumn`) as plain
    columns, and the entities of those classes whose rows it keeps to: the ones named in its
    columns, WHERE, GROUP BY and HAVING (ORDER BY alone restricts nothing, as in SQLAlchemy).

    An entity joins the FROM list (a joined-table subclass: all its tables, joined) unless
    the statement reads all its tables already.
    """
    present: set[int] = set()

    def read(from_: Any) -> None:
        present.add(id(from_))
        present.update(id(h) for h in from_._hide_froms)

    for from_ in statement._from_obj:
        for part in eager.join_parts(from_):
            read(part)
    replaced: dict[str, tuple[Any, ...]] = {}
    marks: list[Any] = []
    restricting: list[Any] = []
    for name in _MARKABLE:
        items = getattr(statement, name)
        found: list[Any] = []
        plain = tuple(_unmarked_item(c, found) for c in items)
        if found:
            replaced[name] = plain
            marks.extend(found)
            if name != "_order_by":
                restricting.extend(found)
        if name == "_raw_columns":
            for before, item in zip(items, plain, strict=True):
                if before is item:  # an entity, or an expression without marks
                    for from_ in [item] if isinstance(item, FromClause) else item._from_objects:
                        read(from_)
    if not marks:
        return statement, []
    extra: list[Any] = []
    for entity in _unique(m.entity for m in marks):
        tables = [f for f in entity._hide_froms if not isinstance(f, Join)]
        if not all(id(t) in present for t in tables):
            extra.append(entity)
            read(entity)
    new = statement._generate()
    for name, items in replaced.items():
        setattr(new, name, items)
    new._from_obj = statement._from_obj + tuple(extra)
    return new, _unique(m.entity for m in restricting)


def _unmarked_item(item: Any, found: list[Any]) -> Any:
    """A select's column, criterion or FROM object with its columns unmarked (see
    :func:`unmarked`): a Bundle (a composite's columns among them) by its columns."""
    if isinstance(item, Bundle):
        exprs = tuple(_unmarked_item(e, found) for e in item.exprs)
        if all(a is b for a, b in zip(exprs, item.exprs, strict=True)):
            return item
        new = item._generate()
        new.exprs = exprs
        return new
    return item if isinstance(item, FromClause) else unmarked(item, found)


def _unique(items: Any) -> list[Any]:
    """``items`` without repeats (by identity), in order."""
    found: dict[int, Any] = {}
    for item in items:
        found.setdefault(id(item), item)
    return list(found.values())


def _with_discriminator_criteria(statement: Select, marked: Sequence[Any] = ()) -> Select:
    """``statement`` limited to the rows of the single-table subclasses it selects (WHERE)
    and joins to (ON), and of those its columns and criteria were ``marked`` with, as every
    query of such a subclass is."""
    where: list[ColumnElement] = []
    seen: set[int] = set()

    def visit(from_: Any) -> Any:
        if isinstance(from_, Join):
            left = visit(from_.left)
            seen.add(id(from_.right))
            extra = _single_table_criteria(from_.right)
            if left is from_.left and extra is None:
                return from_
            join = from_._generate()
            join.left = left
            if extra is not None:
                join.onclause = and_(from_.onclause, extra)
            return join
        if id(from_) not in seen:
            seen.add(id(from_))
            extra = _single_table_criteria(from_)
            if extra is not None:
                where.append(extra)
        return from_

    from_obj = tuple(visit(f) for f in statement._from_obj)
    for raw in statement._raw_columns:
        if isinstance(raw, EntityClause):
            visit(raw)
    for entity in marked:
        visit(entity)
    new = statement._generate()
    new._from_obj = from_obj
    new._where = statement._where + tuple(where)
    return new


def _with_entity_columns(statement: Select) -> Select:
    """``statement`` with each entity replaced by the columns its options choose."""
    raws: list[Any] = []
    entities: list[Any] = []
    for raw in statement._raw_columns:
        chosen = (
            entity_columns(raw, statement._with_options, statement._raw_columns)
            if isinstance(raw, EntityClause)
            else None
        )
        if chosen is None:
            raws.append(raw)
        else:
            raws.extend(col for _, col in chosen[0])
            entities.append(raw)
    new = statement._generate()
    new._raw_columns = tuple(raws)
    new._from_obj = (
        tuple(e for e in entities if all(e is not f for f in statement._from_obj))
        + statement._from_obj
    )
    return new


def _result_key(named: tuple[str, ColumnElement], taken: list[str]) -> str:
    """The result key of a plain column: its own name, unless an earlier key has it."""
    label, column = named
    name = column._proxy_name or label
    if name not in taken:
        return name
    counter = 1
    while f"{name}_{counter}" in taken:
        counter += 1
    return f"{name}_{counter}"


def _without_repeats(items: list[Any]) -> list[Any]:
    """``items`` without the items that are the very object of the item before them."""
    kept: list[Any] = []
    last: Any = _NO_KEY
    for item in items:
        if item is not last:
            kept.append(item)
            last = item
    return kept


def _one_per_row(load: RowsLoader) -> Callable[[Sequence[Any]], list[Any]]:
    """Result rows of one value each, the values ``load`` makes from a batch of rows."""

    def convert(rows: Sequence[Any]) -> list[Any]:
        return list(zip(load(rows)))  # 1-tuples, made in C

    return convert


def _column_getter(index: int, processors: Sequence[Any] | None) -> Callable[[Sequence[Any]], Any]:
    process = processors[index] if processors is not None else None
    if process is None:
        return itemgetter(index)

    def get_processed(row: Sequence[Any]) -> Any:
        value = row[index]
        return None if value is None else process(value)

    return get_processed


def _each_row(make: Callable[[Sequence[Any]], Any]) -> RowsLoader:
    """The batch loader calling ``make`` on each row."""

    def make_all(rows: Sequence[Sequence[Any]]) -> list[Any]:
        return list(map(make, rows))

    return make_all


def instance_loader(
    session: Session,
    mapper: Mapper,
    start: int,
    count: int,
    processors: Sequence[Any] | None,
    populate_existing: bool = False,
    context: LoadContext | None = None,
    load_keys: Sequence[str] | None = None,
    identity_token: Hashable = None,
    query_context: QueryContext | None = None,
) -> RowsLoader:
    """A function making (or finding) the ``mapper`` instance in columns ``start:start+count``
    of each row of a batch (None for a row whose primary key columns are all NULL).

    ``load_keys`` names the attributes those columns hold when a query's column options
    changed them from the mapper's default set; objects are keyed in the identity map with
    ``identity_token`` (the ``identity_token`` execution option); ``query_context`` is what
    the ``load`` and ``refresh`` listeners are given.
    """
    keys = mapper._load_keys if load_keys is None else load_keys
    if _is_polymorphic(mapper, keys):
        return _polymorphic_loader(
            session,
            mapper,
            start,
            processors,
            populate_existing,
            context,
            keys,
            identity_token,
            query_context,
        )
    return _plain_loader(
        session,
        _plain_shape(mapper, start, count, processors, load_keys),
        populate_existing,
        context,
        identity_token,
        query_context,
    )


def _is_polymorphic(mapper: Mapper, keys: Sequence[str]) -> bool:
    """Whether rows of ``mapper`` loading ``keys`` pick their class by a discriminator."""
    return bool(mapper.polymorphic_map) and mapper._polymorphic_key in keys


def _polymorphic_loader(
    session: Session,
    mapper: Mapper,
    start: int,
    processors: Sequence[Any] | None,
    populate_existing: bool,
    context: LoadContext | None,
    keys: Sequence[str],
    identity_token: Hashable,
    query_context: QueryContext | None,
) -> RowsLoader:
    """The loader of a class with subclasses: each row's discriminator picks the class, whose
    loader gets the columns among ``keys`` that the class maps.  Consecutive rows of one class
    load as one batch, so objects are still made in row order."""
    position = start + list(keys).index(str(mapper._polymorphic_key))
    process = processors[position] if processors is not None else None
    loaders: dict[Any, RowsLoader] = {}

    def loader_for(target: Mapper) -> RowsLoader:
        props = target._props
        indices = [start + i for i, k in enumerate(keys) if k in props]
        target_keys = tuple(keys[i - start] for i in indices)
        procs = [processors[i] for i in indices] if processors is not None else None
        load = _plain_loader(
            session,
            _plain_shape(target, 0, len(indices), procs, target_keys),
            populate_existing,
            context,
            identity_token,
            query_context,
        )
        fill = [(i, p) for i, p in enumerate(procs or ()) if p is not None] or None

        def load_target(rows: Sequence[Sequence[Any]]) -> list[Any]:
            picked = [[row[i] for i in indices] for row in rows]
            loaded = load(picked)
            for obj, values in zip(loaded, picked, strict=True):
                if obj is not None:
                    d = obj.__dict__
                    if any(k not in d for k in target_keys):
                        # Found in the identity map, loaded before without this class's columns.
                        _populate_existing(obj, d[STATE_KEY], target_keys, values, fill, False)
            return loaded

        return load_target

    def loader_of(value: Any) -> RowsLoader:
        found = loaders.get(value)
        if found is None:
            target = mapper if value is None else mapper.polymorphic_map.get(value)
            if target is None or not target.isa(mapper):
                known = ", ".join(repr(k) for k in mapper.polymorphic_map)
                raise sa_exc.InvalidRequestError(
                    f"A row of {mapper.class_.__name__} has the discriminator value {value!r}, "
                    f"which no class {'under' if target is None else 'inheriting'} "
                    f"{mapper.class_.__name__} maps as its polymorphic_identity (known: "
                    f"{known}); map a subclass with polymorphic_identity={value!r} or correct "
                    "the row"
                )
            found = loaders[value] = loader_for(target)
        return found

    def load(rows: Sequence[Sequence[Any]]) -> list[Any]:
        loaded: list[Any] = []
        run: list[Sequence[Any]] = []
        run_loader: RowsLoader | None = None
        for row in rows:
            value = row[position]
            if value is not None and process is not None:
                value = process(value)
            row_loader = loaders.get(value)
            if row_loader is None or row_loader is not run_loader:
                if run_loader is not None:
                    loaded += run_loader(run)
                    run = []
                run_loader = loader_of(value)
            run.append(row)
        if run_loader is not None:
            loaded += run_loader(run)
        return loaded

    return load


_PlainShape = tuple[
    Mapper,
    type,
    Any,
    Sequence[str],
    int,
    int,
    list[int],
    Any,
    Callable[..., Any],
    int | None,
    frozenset[str],
    bool,
    bool,
]
"""What a plain loader needs besides the session: mapper, class, identity class, loaded keys,
first and end column, primary key positions, ``(offset, processor)`` pairs (or None), the
object maker, the position of a single-column primary key (else None), the loaded keys as a
set, and whether they leave out some of the mapper's default ones (narrow) or add others
(wide)."""


def _plain_shape(
    mapper: Mapper,
    start: int,
    count: int,
    processors: Sequence[Any] | None,
    load_keys: Sequence[str] | None,
) -> _PlainShape:
    """The shape of the plain loader of ``mapper`` over columns ``start:start+count``."""
    cls = mapper.class_
    keys = mapper._load_keys if load_keys is None else load_keys
    end = start + count
    pk_positions = [start + keys.index(k) for k in mapper._pk_keys]
    procs = None
    if processors is not None:
        procs = [
            (i - start, p) for i, p in enumerate(processors[start:end], start) if p is not None
        ]
        procs = procs or None
    new_object: Any = object.__new__ if cls.__new__ is object.__new__ else cls.__new__  # type: ignore[comparison-overlap]
    single_pk = pk_positions[0] if len(pk_positions) == 1 else None
    return (
        mapper,
        cls,
        mapper._identity_class,
        keys,
        start,
        end,
        pk_positions,
        procs,
        new_object,
        single_pk,
        frozenset(keys),
        not frozenset(mapper._load_keys) <= frozenset(keys),
        not frozenset(keys) <= frozenset(mapper._load_keys),
    )


def _unless_polymorphic(shape: _PlainShape | None) -> _PlainShape | None:
    """``shape``, unless a class mapped later made its mapper polymorphic (_is_polymorphic
    inlined)."""
    if shape is None or (shape[0].polymorphic_map and shape[0]._polymorphic_key in shape[3]):
        return None
    return shape


def _plain_loader(
    session: Session,
    shape: _PlainShape,
    populate_existing: bool = False,
    context: LoadContext | None = None,
    identity_token: Hashable = None,
    query_context: QueryContext | None = None,
) -> RowsLoader:
    """The loader of one class whose rows need no discriminator."""
    dispatch = shape[0].dispatch
    identity_map = session.identity_map
    identity_map.prune_if_grown()
    # What the loader needs from this execution, in one tuple that it unpacks per batch: a
    # closure over each value would make a cell per value on every execution.
    execution = (
        identity_map._dict,
        identity_map._modified,
        session.hash_key,
        _load_listeners(dispatch.load, session)
        if session.dispatch.loaded_as_persistent
        else dispatch.load,
        dispatch.refresh,
        populate_existing,
        context,
        identity_token,
        query_context,
    )

    def load_rows(rows: Sequence[Sequence[Any]]) -> list[Any]:
        (
            mapper,
            cls,
            identity_class,
            keys,
            start,
            end,
            pk_positions,
            procs,
            new_object,
            single_pk,
            key_set,
            narrow,
            wide,
        ) = shape
        (
            id_dict,
            modified,
            session_id,
            load_listeners,
            refresh_listeners,
            populate_existing,
            context,
            identity_token,
            query_context,
        ) = execution
        lookup = id_dict.get
        # A row with the previous row's key gives the previous row's object without a lookup
        # (a joined eager load repeats each parent once per child), unless each row must
        # overwrite the object again.
        repeats = not populate_existing
        # Objects in the session lack some of these keys only when this load adds keys to the
        # default set, or when some load of the class left some of the default ones out.
        check_keys = wide or mapper._narrow_loads
        # The entity's columns start each row when ``start`` is 0: ``zip`` stops at the last
        # key, so the row needs no slice.
        sliced = start != 0
        loaded: list[Any] = []
        append = loaded.append
        last_pk: Any = _NO_KEY
        obj: Any = None
        for row in rows:
            if single_pk is not None:
                pk_value = row[single_pk]
                if pk_value is None:
                    append(None)
                    continue
                if pk_value == last_pk and repeats:
                    append(obj)
                    continue
                last_pk = pk_value
                key = (identity_class, (pk_value,), identity_token)
            else:
                ident = tuple([row[i] for i in pk_positions])
                if all(v is None for v in ident):
                    append(None)
                    continue
                key = (identity_class, ident, identity_token)
            found = lookup(key)
            if found is not None:
                obj = found()
                if obj is not None:
                    d = obj.__dict__
                    state: InstanceState = d[STATE_KEY]
                    # An object in the session gets the row's values of the attributes it
                    # has not loaded (expired, deferred, left out by an earlier load).
                    if (
                        state.expired
                        or populate_existing
                        or (check_keys and not d.keys() >= key_set)
                    ):
                        missing = None
                        if refresh_listeners and not populate_existing:
                            missing = frozenset(k for k in keys if k not in d)
                        _populate_existing(
                            obj, state, keys, row[start:end], procs, populate_existing
                        )
                        if populate_existing:  # the row's values replaced any change
                            modified.pop(state, None)
                        if refresh_listeners:
                            # The row refreshed what the object had not loaded (populate_
                            # existing: the whole object, which the event names as None).
                            refreshed = None
                            if missing is not None:
                                refreshed = _refreshed(mapper, d, missing, keys)
                            for fn in refresh_listeners:
                                fn(obj, query_context, refreshed)
                    append(obj)
                    continue
            values: Any = row[start:end] if sliced else row
            if procs is not None:
                values = list(values)
                for i, process in procs:
                    value = values[i]
                    if value is not None:
                        values[i] = process(value)
            obj = new_object(cls)
            d = obj.__dict__
            # No ``strict=``: parsing a keyword argument costs more than the rest of the call.
            d.update(zip(keys, values))  # noqa: B905
            # The fields ``new_state`` sets, set here: a call per object costs more.
            state = d[STATE_KEY] = _make_state(InstanceState, obj)
            state.mapper = mapper
            state.key = key
            state.session_id = session_id
            state.committed_state = NO_CHANGES
            state.modified = False
            state.expired = False
            state.deleted = False
            state.pending_appends = None
            state._info = None
            state.load_context = context
            id_dict[key] = state
            if load_listeners:
                for fn in load_listeners:
                    fn(obj, query_context)
            append(obj)
        if narrow and loaded and not mapper._narrow_loads:
            mapper._narrow_loads = True
        return loaded

    return load_rows


def _load_listeners(listeners: tuple[Any, ...], session: Session) -> tuple[Any, ...]:
    """The mapper's ``load`` listeners, then the session's ``loaded_as_persistent`` ones
    (called alike, with each object a query makes), for a session that has some."""
    on_session = session.dispatch.loaded_as_persistent

    def loaded_as_persistent(obj: Any, context: Any) -> None:
        for fn in on_session:
            fn(session, obj)

    return (*listeners, loaded_as_persistent)


def _check_token(token: Any) -> None:
    try:
        hash(token)
    except TypeError:
        raise sa_exc.InvalidRequestError(
            f"identity_token={token!r} cannot key objects in the identity map; "
            "give a hashable value such as a string"
        ) from None


def _populate_existing(
    obj: Any,
    state: InstanceState,
    keys: Sequence[str],
    values: Sequence[Any],
    procs: Any,
    overwrite: bool,
) -> None:
    converted = list(values)
    if procs is not None:
        for i, process in procs:
            if converted[i] is not None:
                converted[i] = process(converted[i])
    d = obj.__dict__
    if overwrite:
        for key in state.mapper._relationship_keys:
            d.pop(key, None)
        state._relationships_reset()
        # Columns this load leaves out (deferred) go back to unloaded, not kept stale.
        for key in state.mapper._column_keys:
            if key not in keys:
                d.pop(key, None)
        state._commit_all()
    for key, value in zip(keys, converted, strict=True):
        if overwrite or key not in d:
            d[key] = value
    if not overwrite:
        state.expired = any(k not in d for k in state.mapper._attribute_keys if k in keys)


def _pk_statement(mapper: Mapper) -> tuple[Select, list[str]]:
    cached: tuple[Select, list[str]] | None = mapper.__dict__.get("_pk_stmt")
    if cached is None:
        names = [f"pk_{i}" for i in range(len(mapper.primary_key))]
        crit = [
            c == BindParameter(n, None, c.type)
            for c, n in zip(mapper.primary_key, names, strict=True)
        ]
        cached = (select(mapper._entity).where(and_(*crit)), names)
        mapper.__dict__["_pk_stmt"] = cached
    return cached


def load_on_pk(
    session: Session,
    mapper: Mapper,
    ident: tuple[Any, ...],
    options: Any = None,
    loader_options: Sequence[Any] = (),
    with_for_update: Any = None,
) -> Any:
    """The ``mapper`` object with primary key ``ident`` loaded from the database (or None),
    with ``loader_options`` and ``FOR UPDATE`` (True, or the arguments of
    ``with_for_update()`` as a dict) when given."""
    stmt, names = _pk_statement(mapper)
    if loader_options:
        stmt = stmt.options(*loader_options)
    params = dict(zip(names, ident, strict=True))
    stmt = _locked(stmt, with_for_update)
    return session.execute(stmt, params, execution_options=options).scalars().first()


def _locked(stmt: Select, with_for_update: Any) -> Select:
    """``stmt`` with ``FOR UPDATE`` when ``with_for_update`` asks for it (True, or the
    arguments of ``with_for_update()`` as a dict)."""
    if with_for_update is None or with_for_update is False:
        return stmt
    return stmt.with_for_update(**(with_for_update if isinstance(with_for_update, dict) else {}))


def load_scalar_attributes(
    state: InstanceState,
    instance: Any,
    key: str | None,
    with_for_update: Any = None,
    whole_object: bool = False,
    names: Sequence[str] | None = None,
) -> None:
    """Load the unloaded column attributes of a persistent object (one SELECT by key, locking
    the row when ``with_for_update`` asks for it, as :meth:`Session.refresh` may); ``names``
    adds the column attributes it names, deferred ones too.

    ``whole_object``: the object is refreshed as a whole, so the ``refresh`` event says no
    attribute names (None) rather than the ones loaded."""
    from athanor.orm.strategies import detached_error, require_async_bridge

    session = state.session
    if session is None:
        raise detached_error(state, key or "?", "attribute refresh operation")
    mapper = state.mapper
    d = instance.__dict__
    if key is not None and key not in d:
        prop = mapper._props[key]
        context = state.load_context
        if getattr(prop, "raiseload", False) or (
            context is not None and context.overrides.get(prop) == "raise"
        ):
            raise sa_exc.InvalidRequestError(
                f"'{mapper.class_.__name__}.{key}' is not available due to raiseload=True; "
                f"load it with the query (undefer({mapper.class_.__name__}.{key}) or "
                "load_only(...) naming it)"
            )
        if getattr(prop, "is_query_expression", False) and getattr(prop, "deferred", False):
            d[key] = None
            return
    props = mapper._props
    loads = mapper._load_columns
    context = state.load_context
    if context is not None:
        # The columns the object's query chose (undeferred ones, with_expression values).
        loads = context.columns.get(mapper, loads)
    wanted = [(k, c) for k, c in loads if k not in d and k in props]
    related: frozenset[str] = frozenset()
    if names is not None:
        default = {k for k, _ in wanted}
        wanted += [
            (p.key, p.columns[0].label(p.key) if p.is_expression else p.columns[0])
            for p in mapper._column_props
            if p.key in names and p.key not in d and p.key not in default
        ]
        related = mapper._relationship_keys.intersection(names)
        if related:
            # Relationships named to Session.refresh() load after the row, which is read
            # by its primary key all the same (the refresh event names that key too).
            default = {k for k, _ in wanted}
            wanted += [(k, c) for k, c in loads if k in mapper._pk_keys and k not in default]
    if key is not None and key not in d and all(k != key for k, _ in wanted):
        prop = mapper._props[key]
        columns = getattr(prop, "columns", None)
        if columns:
            group = getattr(prop, "group", None)
            extra = [
                p
                for p in mapper._column_props
                if p.key not in d and (p.key == key or (group is not None and p.group == group))
            ]
            wanted += [
                (p.key, p.columns[0].label(p.key) if p.is_expression else p.columns[0])
                for p in extra
            ]
    if not wanted:
        return
    assert state.key is not None
    require_async_bridge(session, state, key or wanted[0][0], relationship=False)
    cols: list[ColumnElement] = [c for _, c in wanted]
    crit = [c == v for c, v in zip(mapper.primary_key, state.key[1], strict=True)]
    stmt = _locked(select(*cols).where(and_(*crit)), with_for_update)
    if len(mapper._persist_tables) > 1:
        stmt = stmt.select_from(mapper._entity)
    options: dict[str, Any] = COLUMN_LOAD
    if session.dispatch.do_orm_execute:
        options = {**COLUMN_LOAD, LOADED_MAPPER: mapper}
    row = session.execute(stmt, execution_options=options).first()
    if row is None:
        raise orm_exc.ObjectDeletedError(
            f"Instance {state_str(state)} has been deleted, or its row is otherwise not present"
        )
    for (k, _), value in zip(wanted, row, strict=True):
        if k not in d:
            d[k] = value
    state.expired = any(k not in d for k, _ in loads if k in props)
    if names is None and not whole_object:
        state._expired_loaded(key)
    listeners = mapper.dispatch.refresh
    if listeners:
        context = QueryContext(session, stmt, COLUMN_LOAD, None, refresh_state=state)
        loaded = frozenset(k for k, _ in wanted)
        if key is not None:
            loaded = _refreshed(mapper, d, loaded, [k for k, _ in loads])
        reported = None if whole_object else loaded.union(related)
        for fn in listeners:
            fn(instance, context, reported)


def _refreshed(
    mapper: Mapper, d: dict[str, Any], loaded: frozenset[str], load_keys: Sequence[str]
) -> frozenset[str]:
    """What the refresh event names for a load of the ``loaded`` attributes of an object
    (of ``__dict__`` ``d``): when they are all the columns its loads fetch (the object was
    expired as a whole), its relationships not loaded too, which come again on their next
    access (SQLAlchemy counts them among the expired attributes)."""
    if not loaded.issuperset(load_keys):
        return loaded
    return loaded.union(k for k in mapper._relationship_keys if k not in d)


_ = islice


def merge_frozen_result(
    session: Session, statement: Any, frozen_result: FrozenResult, load: bool = True
) -> FrozenResult:
    """``frozen_result`` (from ``result.freeze()``, perhaps of another session) with each
    object it holds merged into ``session``, for a ``do_orm_execute`` listener replaying
    cached results; ``load=False`` merges without querying (the objects must be clean).
    ``statement`` is the statement the rows answer, accepted for signature compatibility."""
    merged: dict[int, Any] = {}

    def merge(value: Any) -> Any:
        if getattr(type(value), "__mapper__", None) is None:
            return value
        found = merged.get(id(value))
        if found is None:
            found = merged[id(value)] = session._merge(value, load, {})
        return found

    with session.no_autoflush:
        rows = [tuple(merge(value) for value in row) for row in frozen_result.data]
    return frozen_result.with_new_rows(rows)
