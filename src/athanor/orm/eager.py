"""Eager loading: the strategies a query's loader options and ``relationship(lazy=...)`` ask for.

A statement's loader options and the mappers' eager defaults become a tree of
:class:`Node` per selected entity, built once per statement shape.  ``joined`` nodes add
LEFT OUTER JOINs and the target's columns to the statement and are filled from each row;
``selectin`` and ``subquery`` nodes run one more SELECT per batch of parents (IN lists of at
most :data:`IN_CHUNK` keys) or per query; ``immediate`` nodes lazy-load per parent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import partial
from itertools import repeat
from operator import is_
from typing import TYPE_CHECKING, Any, NamedTuple

from athanor import exc as sa_exc
from athanor.orm.aliased import adapted_column, flat_alias
from athanor.orm.attributes import set_committed_value
from athanor.orm.base import RELATIONSHIP_LOAD, STATE_KEY
from athanor.orm.polymorphic import PolymorphicEntityClause, entity_alias, polymorphic_entity
from athanor.orm.relationships import (
    MANYTOMANY,
    MANYTOONE,
    RelationshipProperty,
    replace_columns,
)
from athanor.orm.strategy_options import (
    OPTION_NAMES,
    Load,
    LoaderCriteria,
    OfType,
    expand_options,
    filters_target,
)
from athanor.sql.elements import ColumnElement, and_, or_
from athanor.sql.selectable import Alias, Join, Select, select

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session

IN_CHUNK = 500
"""Most parent keys in one ``selectin`` IN list; more parents take more SELECTs."""

_LAZY_TO_STRATEGY = {
    "joined": "joined",
    "selectin": "selectin",
    "subquery": "subquery",
    "immediate": "immediate",
    "noload": "noload",
    "raise": "raise",
    "raise_on_sql": "raise_on_sql",
}
_AT_ACCESS = frozenset({"raise", "raise_on_sql"})
_NOT_LOADABLE = frozenset({"write_only", "dynamic"})
"""Relationships that are read through queries of their own, never filled by a loader."""
_AT_ACCESS_OR_LAZY = _AT_ACCESS | {"select", "noload"}
_FROM_ROWS = frozenset({"joined", "contains"})
"""Strategies filled from the rows of the query itself (``joinedload``, ``contains_eager``)."""
_OWN_SELECT = frozenset({"selectin", "subquery", "immediate"})
"""Eager strategies that load with SELECTs of their own."""


class Node:
    """How one relationship of a level of loaded objects is loaded, and what loads below it."""

    def __init__(self, prop: RelationshipProperty, strategy: str) -> None:
        self.prop = prop
        self.strategy = strategy
        self.innerjoin = prop.innerjoin
        self.suboptions: list[Load | LoaderCriteria | OfType | Origin] = []
        self.children: dict[RelationshipProperty, Node] = {}
        self.alias: Any = None
        self.start = 0
        self.count = 0
        self.target: Any = None
        """The entity ``contains_eager`` reads the related objects from (None: the class)."""
        self.keys: tuple[str, ...] | None = None
        """The attributes a joined load fills when column options change the default set."""
        self.overrides: dict[Any, str] = {}
        self.criteria: tuple[ColumnElement, ...] = ()
        """Criteria on the target from ``selectinload(User.posts.and_(...))``."""
        self.only_class: type | None = None
        """A subclass's relationship (``selectinload(wp.Manager.reports)``): the loaded
        objects of that class are the ones it loads for."""
        self.below: dict[RelationshipProperty, Node] | None = None
        """For a load with a SELECT of its own: the loads its related objects get (what its
        SELECT would apply), built when some of them were loaded before."""


def default_strategy(prop: RelationshipProperty) -> str:
    """The strategy ``relationship(lazy=...)`` gives ``prop`` ("select" for lazy loading)."""
    return _LAZY_TO_STRATEGY.get(prop.lazy, "select")


class Origin:
    """Marks the statement of an eager load of ``prop``, so eager defaults do not loop back."""

    links = ()

    def __init__(self, prop: RelationshipProperty) -> None:
        self.prop = prop

    def _ck(self, ctx: Any) -> Hashable:
        return ("ORIGIN", self.prop)


class EagerOff:
    """Among a statement's options: load no relationship eagerly, whatever the options and
    ``relationship(lazy=...)`` say (``Query.enable_eagerloads(False)``)."""

    links = ()

    def _ck(self, ctx: Any) -> Hashable:
        return ("EAGER_OFF",)


def _self_referential(prop: RelationshipProperty) -> bool:
    return issubclass(prop.mapper.class_, prop.parent.class_) or issubclass(
        prop.parent.class_, prop.mapper.class_
    )


def _default_applies(prop: RelationshipProperty, path: tuple[RelationshipProperty, ...]) -> bool:
    """Whether ``prop``'s eager default loads at the end of ``path``: not back along the way
    it came; a self-referential relationship only ``join_depth`` levels deep."""
    if _self_referential(prop):
        return prop.join_depth is not None and path.count(prop) < prop.join_depth
    return prop not in path and prop._reverse_property not in path


def _recursion(option: Load, depth: int) -> list[Load]:
    """For the objects the first link of ``option`` (``selectinload(Node.children,
    recursion_depth=depth)...``) loads: the same option one level less deep, if any is left."""
    prop, strategy, kw = option.links[0]
    if not _self_referential(prop):
        raise sa_exc.InvalidRequestError(
            f"recursion_depth option on relationship {prop} not valid: it is not "
            "self-referential (it does not load objects of its own class)"
        )
    if depth == 0:
        return []
    again = option._copy()
    changed = {**dict(kw), "recursion_depth": depth - 1 if depth > 0 else depth}
    again.links = ((prop, strategy, tuple(sorted(changed.items()))), *option.links[1:])
    return [again]


def build_tree(
    mapper: Mapper, options: Sequence[Any], path: tuple[RelationshipProperty, ...] = ()
) -> dict[RelationshipProperty, Node]:
    """The nodes for objects of ``mapper``: options first, then the mapper's eager defaults."""
    nodes: dict[RelationshipProperty, Node] = {}
    wildcard = None
    carried: Load | None = None
    chosen: dict[RelationshipProperty, str] = {}
    for option in expand_options(options):
        if isinstance(option, Origin):
            path = (*path, option.prop)
            continue
        if isinstance(option, EagerOff):
            return {}
        if not getattr(option, "links", None):
            continue
        prop, strategy, kw = option.links[0]
        if isinstance(prop, str):
            if option.root is None or issubclass(mapper.class_, option.root):
                wildcard = strategy
                carried = Load()
                carried.links = option.links
            continue
        subclass_only = not issubclass(mapper.class_, prop.parent.class_)
        if subclass_only:
            if not issubclass(prop.parent.class_, mapper.class_) or strategy == "contains":
                continue
            if strategy == "joined":
                # The subclass's table is not in the rows of its base: a SELECT of its own.
                strategy = "selectin"
        node = nodes.get(prop)
        if node is None:
            node = nodes[prop] = Node(prop, default_strategy(prop))
            if subclass_only:
                node.only_class = prop.parent.class_
        if strategy != "default":
            if chosen.setdefault(prop, strategy) != strategy:
                raise sa_exc.InvalidRequestError(
                    f"Loader options conflict on {prop}: {OPTION_NAMES[chosen[prop]]}() and "
                    f"{OPTION_NAMES[strategy]}() in one statement; keep one of them"
                )
            if prop.lazy in _NOT_LOADABLE and strategy not in _AT_ACCESS_OR_LAZY:
                raise sa_exc.InvalidRequestError(
                    f"{prop} is a lazy={prop.lazy!r} collection, which queries load no objects "
                    f"into; read it with obj.{prop.key}.select() (write-only) or by iterating "
                    "it (dynamic)"
                )
            node.strategy = strategy
            options_kw = dict(kw)
            node.innerjoin = options_kw.get("innerjoin", prop.innerjoin)
            node.target = options_kw.get("alias")
            node.criteria = options_kw.get("criteria", ())
            if node.criteria:
                # Loads that run their own SELECT of the target filter it like this.
                only = LoaderCriteria(prop.mapper.class_, and_(*node.criteria))
                only.propagate_to_loaders = False
                node.suboptions.append(only)
            of_type = options_kw.get("of_type")
            if of_type is not None:
                node.suboptions.append(OfType(of_type))
            depth = options_kw.get("recursion_depth")
            if depth is not None:
                node.suboptions.extend(_recursion(option, depth))
        if len(option.links) > 1 or option.columns or option.nested:
            rest = Load.__new__(Load)
            rest.links = option.links[1:]
            rest.columns = option.columns
            rest.nested = option.nested
            node.suboptions.append(rest)
    for prop in mapper._relationships:
        if prop in nodes:
            continue
        if wildcard is not None and (
            wildcard in _AT_ACCESS_OR_LAZY or _default_applies(prop, path)
        ):
            nodes[prop] = Node(prop, wildcard)
        elif prop.lazy in _LAZY_TO_STRATEGY and _default_applies(prop, path):
            nodes[prop] = Node(prop, default_strategy(prop))
    propagated = [o for o in options if isinstance(o, LoaderCriteria) and o.propagate_to_loaders]
    for node in nodes.values():
        node.suboptions.extend(propagated)
        if carried is not None and node.strategy in _FROM_ROWS | _OWN_SELECT:
            # "*" also holds for the objects eager loads bring, below options naming them.
            node.suboptions.insert(0, carried)
        if node.strategy in _OWN_SELECT:
            # The loads it starts keep the way here, so eager defaults do not loop back.
            node.suboptions.extend(Origin(p) for p in path)
        if node.strategy in _FROM_ROWS:
            node.children = build_tree(node.prop.mapper, node.suboptions, (*path, node.prop))
    return nodes


def loaded_entity(prop: RelationshipProperty, options: Sequence[Any]) -> Any:
    """What a relationship load selects the related objects as: the target class, or what
    ``of_type()`` names.  A subclass named there still loads every related object, with that
    subclass's columns as well (as ``with_polymorphic(Target, [Subclass])`` would)."""
    wanted = next((o.entity for o in options if isinstance(o, OfType)), None)
    target = prop.mapper
    if wanted is None:
        return target._entity
    sub = getattr(wanted, "mapper", None)
    if sub is None or wanted is not sub._entity or not sub.isa(target):
        return wanted
    chain = [m for m in sub.iterate_to_root() if m is not target and m.isa(target)]
    return polymorphic_entity(target, chain[::-1]) if chain else target._entity


def _joined_entity(node: Node) -> Any:
    """The entity a joined eager load reads: :func:`loaded_entity`, with the subclass tables
    of an ``of_type()`` entity joined afresh (an alias of its own for this JOIN)."""
    entity = loaded_entity(node.prop, node.suboptions)
    subclasses = getattr(entity, "subclasses", ())
    if subclasses and not isinstance(entity, PolymorphicEntityClause):
        entity = polymorphic_entity(node.prop.mapper, list(subclasses))
    return entity


def _target_columns(node: Node, entity: Any) -> list[ColumnElement] | None:
    from athanor.orm.loading import entity_columns

    mapper = node.prop.mapper
    chosen = entity_columns(entity, node.suboptions)
    # A class loaded with its subclasses' columns (with_polymorphic, a polymorphic union,
    # of_type()) loads them here too.
    load = getattr(entity, "_poly_columns", None) or mapper._load_columns
    if chosen is not None:
        load = chosen[0]
        node.overrides = chosen[1]
    if load is not mapper._load_columns:
        node.keys = tuple(k for k, _ in load)
    alias = node.alias
    columns = []
    for _, col in load:
        found = adapted_column(alias, col)
        if found is None:
            return None
        columns.append(found)
    return columns


class JoinStep(NamedTuple):
    """One JOIN a joined eager load adds (no target and ON clause: only columns, for
    ``contains_eager``)."""

    target: Any
    onclause: ColumnElement | None
    isouter: bool
    columns: Sequence[ColumnElement]
    order: Sequence[ColumnElement]
    mapper: Any
    """The mapper of the target (None for a many-to-many secondary table)."""
    host: int | None = None
    """The step whose target this JOIN nests inside (``LEFT OUTER JOIN (b JOIN c ON ...)``):
    an ``innerjoin=True`` load below an outer one; None for a JOIN of the statement."""


def plan_joins(
    nodes: dict[RelationshipProperty, Node],
    parent_alias: Any,
    position: int,
    steps: list[JoinStep],
    group: int | None = None,
) -> int:
    """Append the JOINs of the ``joined`` nodes (recursively) to ``steps``; place their columns.

    Returns the next free column position.  ``group`` is the step of the nearest outer JOIN
    above: an ``innerjoin=True`` load there nests inside that JOIN, so parents without the
    intermediate object are kept while intermediate objects without a target are dropped;
    ``innerjoin="unnested"`` joins outer instead.
    """
    for node in nodes.values():
        if node.strategy == "contains":
            position = _plan_contained(node, position, steps)
            continue
        if node.strategy != "joined":
            continue
        prop = node.prop
        entity = _joined_entity(node)
        if entity is prop.mapper._entity:
            node.alias = entity_alias(prop.mapper, prop.target)
        else:
            node.alias = flat_alias(entity._proxied_from)
        columns = _target_columns(node, entity)
        if columns is None:
            node.strategy = "selectin"
            continue

        def local(col: ColumnElement) -> ColumnElement:
            found = None if parent_alias is None else parent_alias.corresponding_column(col)
            return col if found is None else found

        host = group if node.innerjoin is True else None
        isouter = host is None and (group is not None or not node.innerjoin)
        if prop.direction == MANYTOMANY:
            sec = prop.secondary.alias()

            parent_on = and_(
                *[local(p) == sec.corresponding_column(s) for p, s in prop.secondary_parent_pairs],
                *[replace_columns(e, sec.corresponding_column) for e in prop.primary_extra],
            )
            steps.append(JoinStep(sec, parent_on, isouter, (), (), None, host))

            onclause = and_(
                *[
                    node.alias.corresponding_column(t) == sec.corresponding_column(s)
                    for t, s in prop.secondary_target_pairs
                ],
                *[
                    replace_columns(e, partial(_either, first=sec, second=node.alias))
                    for e in prop.secondary_extra
                ],
            )
        else:
            onclause = and_(
                *[local(p) == node.alias.corresponding_column(t) for p, t in prop.pairs],
                *prop.adapted_extra(local, node.alias.corresponding_column),
            )
        if node.criteria:
            onclause = and_(
                onclause,
                *[replace_columns(c, node.alias.corresponding_column) for c in node.criteria],
            )
        target_mapper = prop.mapper
        if target_mapper.single and target_mapper.polymorphic_on is not None:
            # Only the rows of the single-table subclass the relationship targets.
            discriminator = target_mapper.polymorphic_on.in_(target_mapper._identities())
            onclause = and_(
                onclause,
                replace_columns(discriminator, node.alias.corresponding_column),
            )
        by = prop.order_by if isinstance(prop.order_by, list) else prop.mapper._order_by_default
        alias = node.alias
        order = [
            replace_columns(c, lambda col, a=alias: a.corresponding_column(col))  # type: ignore[misc]
            for c in by or ()
        ]
        steps.append(JoinStep(alias, onclause, isouter, columns, order, prop.mapper, host))
        node.start, node.count = position, len(columns)
        below = len(steps) - 1 if isouter else group if host is not None else None
        position = plan_joins(node.children, node.alias, position + len(columns), steps, below)
    return position


def resolve_contained(nodes: dict[RelationshipProperty, Node], froms: Sequence[Any]) -> None:
    """Point ``contains_eager`` nodes without an alias at what the query joins.

    When the query joins an alias of the target (``join(User.posts.of_type(pa))``) and not
    its table, reading the table's columns would add the table to FROM and pair every parent
    with every row; a single joined alias is used instead, several are an error.
    """
    for node in nodes.values():
        if node.strategy != "contains":
            continue
        if node.target is None:
            mapper = node.prop.mapper
            table = mapper.local_table
            plain = [
                f
                for f in froms
                if f is table or (getattr(f, "table", None) is table and not isinstance(f, Alias))
            ]
            aliases = [
                f
                for f in froms
                if f not in plain
                and (getattr(f, "mapper", None) is mapper or getattr(f, "element", None) is table)
            ]
            if not plain and aliases:
                if len(aliases) > 1:
                    name = mapper.class_.__name__
                    raise sa_exc.InvalidRequestError(
                        f"contains_eager({node.prop}): the query joins {len(aliases)} aliases "
                        f"of {name} and not its table; name the one to read, e.g. "
                        f"contains_eager({node.prop}.of_type(alias)) or "
                        f"contains_eager({node.prop}, alias=alias)"
                    )
                node.target = aliases[0]
        resolve_contained(node.children, froms)


def join_parts(from_: Any) -> list[Any]:
    """``from_`` and, when it is a join, the joins and FROM objects inside it."""
    if not isinstance(from_, Join):
        return [from_]
    return [from_, *join_parts(from_.left), *join_parts(from_.right)]


def joined_froms(statement: Select) -> list[Any]:
    """The FROM objects of ``statement``'s explicit FROM list and joins, joins flattened."""
    return [
        part
        for from_ in statement._from_obj
        for part in join_parts(from_)
        if not isinstance(part, Join)
    ]


def _plan_contained(node: Node, position: int, steps: list[JoinStep]) -> int:
    """Place the target columns ``contains_eager`` reads (the query joins the target itself)."""
    node.alias = node.target if node.target is not None else node.prop.mapper._entity
    columns = _target_columns(node, node.prop.mapper._entity)
    if columns is None:
        raise sa_exc.ArgumentError(
            f"contains_eager({node.prop}): {node.alias!r} does not have the columns of "
            f"{node.prop.mapper.class_.__name__}; name the joined alias with alias= or of_type()"
        )
    steps.append(JoinStep(None, None, False, columns, (), None))
    node.start, node.count = position, len(columns)
    return plan_joins(node.children, node.alias, position + len(columns), steps)


def step_with_criteria(step: JoinStep, criteria: Sequence[LoaderCriteria]) -> JoinStep:
    """``step`` with the loader criteria for its target class added to its ON clause."""
    target, mapper = step.target, step.mapper
    if mapper is None:
        return step
    extra = [
        replace_columns(c.criteria_for(mapper.class_), target.corresponding_column)
        for c in criteria
        if c.propagate_to_loaders and c.applies_to(mapper.class_)
    ]
    if not extra:
        return step
    return step._replace(onclause=and_(step.onclause, *extra))


def _nested(steps: Sequence[JoinStep]) -> list[Any]:
    """The FROM object each step joins: its target, with the JOINs nested in it added
    (None for a step nested in another or one that only adds columns)."""
    targets = [None if step.host is not None else step.target for step in steps]
    for step in steps:
        if step.host is not None:
            targets[step.host] = Join(targets[step.host], step.target, step.onclause)
    return targets


def apply_joins(statement: Select, steps: Sequence[JoinStep]) -> Select:
    """``statement`` with the JOINs and columns of joined eager loads."""
    order: list[ColumnElement] = []
    for (_, onclause, isouter, columns, child_order, *_), target in zip(
        steps, _nested(steps), strict=True
    ):
        if target is not None:
            statement = statement.join(target, onclause, isouter=isouter)
        if columns:
            statement = statement.add_columns(*columns)
        order.extend(child_order)
    return statement.order_by(*order) if order else statement


def joins_collection(nodes: dict[RelationshipProperty, Node]) -> bool:
    """Whether a ``joinedload`` (not a ``contains_eager``) anywhere below loads a collection."""
    return any(
        (n.strategy == "joined" and n.prop.uselist)
        or (n.strategy in _FROM_ROWS and joins_collection(n.children))
        for n in nodes.values()
    )


def wrap_limited(statement: Select, steps: Sequence[JoinStep]) -> Select:
    """``statement`` (with LIMIT/OFFSET) as a subquery that the joined eager loads join to.

    The limit then counts parents, not parent-and-child rows, and one statement still loads
    everything.  The subquery selects the statement's columns and those ``contains_eager``
    reads, in row order, plus the columns the JOINs and ORDER BY need that it lacks; the
    enclosing SELECT takes them in the same positions followed by the joined loads' columns.
    """
    outside = {
        id(part) for target, *_ in steps if target is not None for part in join_parts(target)
    }
    inner_columns = statement._all_columns()
    width = len(inner_columns)
    contained = [col for step in steps if step.target is None for col in step.columns]
    inner_columns += contained
    extra: list[ColumnElement] = []

    def position(col: ColumnElement) -> int | None:
        table = getattr(col, "table", None)
        if table is None or id(table) in outside:
            return None
        for index, known in enumerate(inner_columns):
            if known is col:
                return index
        for index, known in enumerate(extra):
            if known is col:
                return len(inner_columns) + index
        extra.append(col)
        return len(inner_columns) + len(extra) - 1

    def note(col: ColumnElement) -> None:
        position(col)

    onclauses = [step.onclause for step in steps if step.onclause is not None]
    for clause in (*onclauses, *statement._order_by):
        replace_columns(clause, note)
    inner = statement.add_columns(*contained, *extra) if contained or extra else statement
    parents = inner.subquery()
    exported = list(parents.c)

    def outer(col: ColumnElement) -> ColumnElement | None:
        index = position(col)
        return None if index is None else exported[index]

    wrapped = select(*exported[:width]).select_from(parents)
    order: list[ColumnElement] = [replace_columns(o, outer) for o in statement._order_by]
    taken = width
    for (given, onclause, isouter, columns, child_order, *_), target in zip(
        steps, _nested(steps), strict=True
    ):
        if given is None:
            wrapped = wrapped.add_columns(*exported[taken : taken + len(columns)])
            taken += len(columns)
            continue
        if target is not None:
            assert onclause is not None
            wrapped = wrapped.join(target, replace_columns(onclause, outer), isouter=isouter)
        if columns:
            wrapped = wrapped.add_columns(*columns)
        order.extend(child_order)
    return wrapped.order_by(*order) if order else wrapped


def has_joined_collection(nodes: dict[RelationshipProperty, Node]) -> bool:
    """Whether a joined eager load of a collection repeats parent rows."""
    return any(
        n.strategy in _FROM_ROWS and (n.prop.uselist or has_joined_collection(n.children))
        for n in nodes.values()
    )


def access_overrides(nodes: dict[RelationshipProperty, Node]) -> dict[Any, str]:
    """Strategies that act when an attribute is accessed (``raiseload``, also of columns)."""
    found = {prop: n.strategy for prop, n in nodes.items() if n.strategy in _AT_ACCESS}
    for node in nodes.values():
        found.update(node.overrides)
        found.update(access_overrides(node.children))
    return found


def lazy_options(nodes: dict[RelationshipProperty, Node]) -> dict[Any, list[Any]]:
    """Options further along a path, for lazy loads (``defaultload(A.b).selectinload(...)``)."""
    return {
        prop: n.suboptions
        for prop, n in nodes.items()
        if n.strategy in ("select", "immediate") and n.suboptions
    }


class JoinedRows:
    """Fills ``joined`` relationships of one level from the rows of one execution."""

    def __init__(
        self,
        session: Session,
        nodes: dict[RelationshipProperty, Node],
        processors: Sequence[Any] | None,
        make_loader: Callable[..., Callable[[Sequence[Sequence[Any]]], list[Any]]],
        populate_existing: bool = False,
    ) -> None:
        self.populate_existing = populate_existing
        self.entries: list[
            tuple[Node, Callable[[Sequence[Sequence[Any]]], list[Any]], JoinedRows | None]
        ] = []
        for node in nodes.values():
            if node.strategy not in _FROM_ROWS:
                continue
            loader = make_loader(
                session, node.prop.mapper, node.start, node.count, processors, node.keys
            )
            below = JoinedRows(session, node.children, processors, make_loader, populate_existing)
            self.entries.append((node, loader, below if below.entries else None))
        self.collected: dict[tuple[int, int], tuple[Any, dict[int, Any]]] = {}
        """Per (parent, node) being filled: the parent and its related objects by id (in the
        order first seen; a parent's row repeats once per combination of joined rows)."""
        self.skipped: set[tuple[int, int]] = set()
        self.touched: dict[tuple[int, int], tuple[Node, tuple[Any, dict[int, Any]]]] = {}

    def rows(self, parents: Sequence[Any], raws: Sequence[Sequence[Any]]) -> None:
        """Take the joined objects of ``parents`` from their raw rows (one parent per row;
        rows without a parent, None, are left out)."""
        if any(map(is_, parents, repeat(None))):
            kept = [i for i, p in enumerate(parents) if p is not None]
            parents = [parents[i] for i in kept]
            raws = [raws[i] for i in kept]
        for node, loader, below in self.entries:
            children = loader(raws)
            if below is not None:
                below.rows(children, raws)
            self._file(node, parents, children)

    def _file(self, node: Node, parents: Sequence[Any], children: Sequence[Any]) -> None:
        """File ``children[i]`` under ``parents[i]``; a parent's rows usually come together,
        so its entry is looked up once per run of rows rather than once per row."""
        node_id = id(node)
        attribute = node.prop.key
        collected, touched, skipped = self.collected, self.touched, self.skipped
        last: Any = None
        items: dict[int, Any] | None = None
        for parent, child in zip(parents, children, strict=True):
            if parent is not last:
                last = parent
                items = None
                key = (id(parent), node_id)
                if key in skipped:
                    continue
                entry = collected.get(key)
                if entry is None:
                    if attribute in parent.__dict__:
                        skipped.add(key)
                        continue
                    entry = collected[key] = (parent, {})
                touched[key] = (node, entry)
                items = entry[1]
            if items is not None and child is not None:
                items[id(child)] = child

    def finish(self, session: Session) -> None:
        """Store the values collected from a batch of rows; run the post-loads below them."""
        touched, self.touched = self.touched, {}
        filled: dict[Node, list[Any]] = {}
        for node, (parent, items) in touched.values():
            value: Any = list(items.values())
            if node.children:
                filled.setdefault(node, []).extend(value)
            if not node.prop.uselist:
                value = value[0] if value else None
            set_committed_value(parent, node.prop.key, value)
        for node, _, below in self.entries:
            if below is not None:
                below.finish(session)
            children = filled.get(node)
            if children:
                post_load(session, children, node.children, None, self.populate_existing)


def _runs_after_rows(node: Node) -> bool:
    strategy = node.strategy
    return not (strategy in _FROM_ROWS or strategy == "select" or strategy in _AT_ACCESS)


def has_post_load(nodes: dict[RelationshipProperty, Node]) -> bool:
    """Whether :func:`post_load` does anything for ``nodes`` (some load needs its own SQL
    or none), so callers can skip gathering the objects for it."""
    return any(_runs_after_rows(node) for node in nodes.values())


def post_load(
    session: Session,
    objects: Sequence[Any],
    nodes: dict[RelationshipProperty, Node],
    statement: Select | None,
    populate_existing: bool = False,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Run the strategies that need more SQL (or none) for freshly loaded ``objects``; with
    ``populate_existing`` the related objects they load are refreshed as well.  ``params``
    are the bind values ``statement`` ran with (a subquery load runs it again inside its
    own SELECT)."""
    for prop, node in nodes.items():
        if not _runs_after_rows(node):
            continue
        strategy = node.strategy
        key = prop.key
        only_class = node.only_class
        mine = objects if only_class is None else [o for o in objects if isinstance(o, only_class)]
        todo = [o for o in mine if o is not None and key not in o.__dict__]
        if len(todo) < len(mine):
            _below_loaded(session, mine, node, populate_existing)
        if not todo:
            continue
        if strategy == "noload":
            for obj in todo:
                set_committed_value(obj, key, [] if prop.uselist else None)
        elif strategy == "immediate":
            for obj in todo:
                getattr(obj, key)
        elif strategy == "selectin":
            _selectin(session, prop, todo, node.suboptions, populate_existing)
        elif strategy == "subquery" and statement is not None:
            _subquery(session, prop, todo, node.suboptions, statement, populate_existing, params)
        else:
            _selectin(session, prop, todo, node.suboptions, populate_existing)


def _below_loaded(
    session: Session, objects: Sequence[Any], node: Node, populate_existing: bool
) -> None:
    """Run ``node``'s chained loaders on the related objects already loaded on ``objects``
    (``selectinload(A.bs).selectinload(B.cs)`` still loads ``B.cs`` when ``A.bs`` was
    loaded before the query), a joined one as a ``selectin`` load."""
    if node.below is None:
        node.below = build_tree(node.prop.mapper, [Origin(node.prop), *node.suboptions])
        for below in node.below.values():
            if below.strategy == "joined":
                # No rows to fill it from: the objects are there already.
                below.strategy = "selectin"
    if not has_post_load(node.below):
        return
    key = node.prop.key
    found: dict[int, Any] = {}
    for obj in objects:
        value = obj.__dict__.get(key) if obj is not None else None
        for related in (value if node.prop.uselist else (value,)) if value is not None else ():
            if related is not None and related.__dict__[STATE_KEY].key is not None:
                found[id(related)] = related
    if found:
        post_load(session, list(found.values()), node.below, None, populate_existing)


def _remote_key(prop: RelationshipProperty) -> list[ColumnElement]:
    if prop.direction == MANYTOMANY:
        return [s for _, s in prop.secondary_parent_pairs]
    return [t for _, t in prop.pairs]


def _base_select(prop: RelationshipProperty, options: Sequence[Any], parent: Any = None) -> Select:
    """The SELECT of ``prop``'s targets, each with the key of its parent: the target's key
    columns, or with ``parent`` (an alias of the parent class, joined to the targets along
    ``prop``) that alias's primary key."""
    entity = loaded_entity(prop, options)
    if parent is None:
        stmt = select(entity, *_remote_key(prop))
        if prop.direction == MANYTOMANY:
            stmt = stmt.join(prop.secondary, prop.secondaryjoin)
        if prop.primary_extra:
            stmt = stmt.where(*prop.primary_extra)
    else:
        path = getattr(parent, prop.key)
        if entity is not prop.mapper._entity:
            path = path.of_type(entity)
        stmt = select(entity, *_parent_key(prop, parent)).select_from(parent).join(path)
    if prop.order_by:
        stmt = stmt.order_by(*prop.order_by)  # type: ignore[misc]
    elif prop.mapper._order_by_default is not None:
        stmt = stmt.order_by(*prop.mapper._order_by_default)
    return stmt.options(Origin(prop), *options)


def _keys_of(prop: RelationshipProperty, objects: Sequence[Any]) -> list[Any]:
    """Each object's key in the loaded rows (None: no key); a key of one column is its plain
    value, so rows are grouped without a tuple per row."""
    single = len(_remote_key(prop)) == 1
    keys: list[Any] = []
    for obj in objects:
        values = prop._parent_values(obj.__dict__[STATE_KEY], obj)
        if values is None or all(v is None for v in values):
            keys.append(None)
        else:
            keys.append(values[0] if single else tuple(values))
    return keys


def _parent_key(prop: RelationshipProperty, parent: Any) -> list[Any]:
    """The primary key attributes of ``parent``, an alias of ``prop``'s parent class."""
    mapper = prop.parent
    return [getattr(parent, mapper._col_to_key[col]) for col in mapper.primary_key]


def _through_parents(
    session: Session,
    prop: RelationshipProperty,
    objects: Sequence[Any],
    options: Sequence[Any],
    populate_existing: bool = False,
) -> None:
    """Load ``prop`` for ``objects`` when its join criteria read more of the parent than
    its key columns (see ``RelationshipProperty.extra_reads_parent``): a SELECT per
    :data:`IN_CHUNK` parents joins their rows to the targets along ``prop`` and files the
    targets by the parents' primary keys."""
    from athanor.orm.aliased import aliased
    from athanor.orm.loading import plan_for

    parent = aliased(prop.parent.class_)
    pk = _parent_key(prop, parent)
    single = len(pk) == 1
    identities = [obj.__dict__[STATE_KEY].key for obj in objects]
    keys = [None if i is None else i[1][0] if single else i[1] for i in identities]
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    _, run_options = _carried(objects, populate_existing)
    base = _base_select(prop, options, parent)
    found: dict[Any, list[Any]] = {}
    _run_keyed(session, base, pk, wanted, run_options, plan_for(base).requires_unique, found)
    _assign(prop, objects, keys, found)


def _run_keyed(
    session: Session,
    base: Select,
    columns: Sequence[Any],
    wanted: Sequence[Any],
    run_options: Mapping[str, Any],
    unique: bool,
    found: dict[Any, list[Any]],
) -> None:
    """Run ``base`` for the ``wanted`` values of key ``columns``, :data:`IN_CHUNK` at a
    time, filing the objects loaded in ``found`` by key."""
    for start in range(0, len(wanted), IN_CHUNK):
        crit = _key_in(columns, wanted[start : start + IN_CHUNK])
        _collect(session.execute(base.where(crit), execution_options=run_options), found, unique)


def _key_in(columns: Sequence[Any], keys: Sequence[Any]) -> ColumnElement:
    """``columns`` (one, or several as a tuple) among ``keys``."""
    if len(columns) == 1:
        return columns[0].in_(keys)  # type: ignore[no-any-return]
    return or_(*[and_(*[c == v for c, v in zip(columns, k, strict=True)]) for k in keys])


def _assign(
    prop: RelationshipProperty,
    objects: Sequence[Any],
    keys: Sequence[Any],
    found: dict[Any, list[Any]],
) -> None:
    for obj, key in zip(objects, keys, strict=True):
        items = found.get(key, []) if key is not None else []
        value: Any = items if prop.uselist else (items[0] if items else None)
        set_committed_value(obj, prop.key, value)


def _collect(result: Any, found: dict[Any, list[Any]], unique: bool = True) -> None:
    """File each loaded object under its parent key (as :func:`_keys_of` makes them);
    ``unique`` drops repeated (object, key) rows, which only joins (many-to-many,
    subqueries) can produce.

    The result's raw rows are read directly: they are ``(object, key columns...)`` tuples
    already, and making a row object of each only to unpack it again is most of the cost
    of filing a child."""
    if unique:
        result = result.unique()  # a joined eager collection below requires it
    seen: set[Hashable] = set()
    single = len(result._metadata.keys) == 2
    for rows in result._source.rest():
        for row in rows:
            key = row[1] if single else row[1:]
            if unique:
                identity = (id(row[0]), key)
                if identity in seen:
                    continue
                seen.add(identity)
            items = found.get(key)
            if items is None:
                found[key] = [row[0]]
            else:
                items.append(row[0])


def _carried(objects: Sequence[Any], populate_existing: bool = False) -> tuple[Any, dict[str, Any]]:
    """The ``identity_token`` ``objects`` (of one query) were loaded with, and the execution
    options of a relationship load for them (the objects it loads get the same token, and
    are refreshed when the query refreshed its own)."""
    key = objects[0].__dict__[STATE_KEY].key
    token = key[2] if key is not None else None
    options: dict[str, Any] = RELATIONSHIP_LOAD
    if token is not None:
        options = {**options, "identity_token": token}
    if populate_existing:
        options = {**options, "populate_existing": True}
    return token, options


def _selectin(
    session: Session,
    prop: RelationshipProperty,
    objects: Sequence[Any],
    options: Sequence[Any],
    populate_existing: bool = False,
) -> None:
    if prop.extra_reads_parent:
        _through_parents(session, prop, objects, options, populate_existing)
        return
    keys = _keys_of(prop, objects)
    found: dict[Any, list[Any]] = {}
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    token, run_options = _carried(objects, populate_existing)
    remote = _remote_key(prop)
    if (
        prop.direction == MANYTOONE
        and not populate_existing
        and not prop.primary_extra
        and not filters_target(prop, options)
    ):
        # Targets already in the session need no query, unless they are to be refreshed.
        remaining = []
        for key in wanted:
            identity = prop._identity_of_target([key] if len(remote) == 1 else list(key), token)
            hit = None if identity is None else session.identity_map.get_object(identity)
            if hit is None:
                remaining.append(key)
            else:
                found[key] = [hit]
        wanted = remaining
    if not wanted:
        _assign(prop, objects, keys, found)
        return
    from athanor.orm.loading import plan_for

    base = _base_select(prop, options)
    unique = prop.direction == MANYTOMANY or plan_for(base).requires_unique
    _run_keyed(session, base, remote, wanted, run_options, unique, found)
    _assign(prop, objects, keys, found)


def _subquery(
    session: Session,
    prop: RelationshipProperty,
    objects: Sequence[Any],
    options: Sequence[Any],
    statement: Select,
    populate_existing: bool = False,
    params: Mapping[str, Any] | None = None,
) -> None:
    if prop.extra_reads_parent:
        _through_parents(session, prop, objects, options, populate_existing)
        return
    local = prop.local_columns
    inner = statement.with_only_columns(*[c.label(f"key_{i}") for i, c in enumerate(local)])
    if inner._limit is None and inner._offset is None:
        inner = inner.order_by(None).distinct()
    inner._with_options = ()
    parents = inner.subquery()
    remote = _remote_key(prop)
    base = _base_select(prop, options)
    onclause = and_(*[r == parents.c[f"key_{i}"] for i, r in enumerate(remote)])
    found: dict[Any, list[Any]] = {}
    _, run_options = _carried(objects, populate_existing)
    _collect(
        session.execute(base.join(parents, onclause), params, execution_options=run_options),
        found,
    )
    _assign(prop, objects, _keys_of(prop, objects), found)


def check_unique(requires: bool, unique_requested: bool) -> None:
    """2.0-style results with joined eager collections must be uniquified by the caller."""
    if requires and not unique_requested:
        raise sa_exc.InvalidRequestError(
            "The unique() method must be invoked on this Result, as it contains results that "
            "include joined eager loads against collections (each parent row repeats once per "
            "child); call session.execute(stmt).unique() / session.scalars(stmt).unique(), or "
            "use selectinload() instead of joinedload()"
        )


def _either(col: ColumnElement, first: Alias, second: Alias) -> ColumnElement | None:
    """``col``'s counterpart in ``first``, else in ``second`` (None: in neither)."""
    found: ColumnElement | None = first.corresponding_column(col)
    return second.corresponding_column(col) if found is None else found
