"""Loading the subclasses of an inheritance hierarchy: ``with_polymorphic``,
``selectin_polymorphic`` and the ``polymorphic_load`` mapper argument; and the order in which
a flush writes the rows of one hierarchy.

A query of a base class loads the base's columns; each row's discriminator picks the class.
Subclass columns then load on access, or up front: ``with_polymorphic`` outer-joins the
subclass tables into the query itself, ``selectin_polymorphic`` (or ``polymorphic_load=
"selectin"``) runs one more SELECT per subclass for the objects of a batch.
"""

from __future__ import annotations

import graphlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.orm.aliased import AliasedClass, FlatAliasedEntity, flat_alias
from athanor.orm.base import MAPPER_KEY, NO_VALUE, STATE_KEY, _mapper_or_none
from athanor.orm.mapper import EntityClause, Mapper, SubclassColumn
from athanor.orm.relationships import (
    MANYTOMANY,
    MANYTOONE,
    RelationshipProperty,
    replace_columns,
)
from athanor.sql.elements import ColumnElement, cast, literal_column, null, tuple_
from athanor.sql.schema import Column
from athanor.sql.selectable import (
    FromClause,
    Join,
    Select,
    select,
    union_all,
)
from athanor.sql.types import Integer, String

if TYPE_CHECKING:
    from athanor.orm.session import Session
    from athanor.orm.state import InstanceState

_IN_CHUNK = 500
"""Most keys in the IN list of one subclass SELECT."""


class PolymorphicEntityClause(EntityClause):
    """A base class with the tables of some subclasses outer-joined, selecting the columns of
    all of them (the entity of ``with_polymorphic``)."""

    __visit_name__ = "entity_proxy"

    def __init__(
        self, mapper: Mapper, subclasses: Sequence[Mapper], innerjoin: bool = False
    ) -> None:
        super().__init__(mapper)
        self.subclasses = tuple(subclasses)
        self.innerjoin = innerjoin
        self._proxied_from: FromClause = mapper._inheritance_join(subclasses, innerjoin)
        tables = list(mapper._persist_tables)
        for sub in subclasses:
            tables.extend(t for t in sub._persist_tables if t not in tables)
        self._entity_tables = tables
        columns = list(mapper._load_columns)
        taken = {key: col for key, col in columns}
        for sub in subclasses:
            for key, col in sub._load_columns:
                if key not in sub._props:
                    continue
                if key in taken:
                    if taken[key] is not col and key not in mapper._props:
                        raise sa_exc.ArgumentError(
                            f"with_polymorphic({mapper.class_.__name__}, ...): two of the "
                            f"subclasses map {key!r} to different columns; load one of them "
                            "with selectin_polymorphic() instead"
                        )
                    continue
                taken[key] = col
                columns.append((key, col))
        self._poly_columns = columns
        self._load_keys = tuple(key for key, _ in columns)

    def _ck(self, ctx: Any) -> Hashable:
        return self

    def __repr__(self) -> str:
        names = ", ".join(m.class_.__name__ for m in self.subclasses)
        return f"<with_polymorphic {self.mapper.class_.__name__} [{names}]>"


class HierarchyEntity(EntityClause):
    """A class whose queries read a selectable holding the rows of its whole hierarchy
    (``with_polymorphic=("*", selectable)``; for a concrete-table hierarchy the UNION ALL that
    ``polymorphic_union()`` builds), selecting the columns of every class in it.

    The columns of the class's own table in the rest of the statement (WHERE, ORDER BY, ON
    clauses) read the selectable's columns of the same name instead.
    """

    __visit_name__ = "entity_proxy"

    def __init__(self, mapper: Mapper, selectable: FromClause, adapt_all: bool = False) -> None:
        super().__init__(mapper)
        self.selectable = selectable
        self._proxied_from = selectable
        self.name = getattr(selectable, "name", None)
        self._entity_tables = [selectable, *selectable._hide_froms, mapper.local_table]
        mappers = [mapper, *(m for m in dict.fromkeys(mapper.polymorphic_map.values()))]
        adapted = mappers if adapt_all else [mapper]
        self._adapted_tables = {id(t) for m in adapted for t in m._persist_tables}
        """The tables whose columns read the selectable instead: the class's own, or with
        ``adapt_all`` (with_polymorphic(..., selectable=)) those of every class in it."""
        columns: list[tuple[str, ColumnElement]] = []
        taken: set[str] = set()
        for member in mappers:
            if not member.isa(mapper):
                continue
            for key, col in member._load_columns:
                found = self._column_for(col)
                if key in taken or found is None:
                    continue
                taken.add(key)
                columns.append((key, found))
        self._poly_columns = columns
        self._load_keys = tuple(key for key, _ in columns)

    def _column_for(self, col: ColumnElement) -> ColumnElement | None:
        """The selectable's column for a mapped column (by name), the column itself when it
        is already one of the selectable's (or an expression over it), else None."""
        selectable = self.selectable
        if any(f is selectable for f in col._from_objects):
            return col
        if isinstance(selectable, Join):
            return selectable.corresponding_column(col)
        name = getattr(col, "name", None)
        if not isinstance(col, Column) or name is None:
            return None
        found: ColumnElement | None = selectable.c.get(name)
        return found

    def adapt(self, col: ColumnElement) -> ColumnElement:
        """The selectable's column for a column of the tables it stands for (others
        unchanged)."""
        if isinstance(col, Column) and id(col.table) in self._adapted_tables:
            found = self._column_for(col)
            if found is not None:
                return found
        return col

    def _ck(self, ctx: Any) -> Hashable:
        return self

    def __repr__(self) -> str:
        return f"<polymorphic {self.mapper.class_.__name__} over {self.name}>"


def polymorphic_union(
    table_map: Mapping[Any, Any],
    typecolname: str | None,
    aliasname: str = "p_union",
    cast_nulls: bool = True,
) -> FromClause:
    """The rows of several tables as one subquery: a ``UNION ALL`` of one SELECT per table
    (``table_map``: discriminator value -> table), each selecting every column name any of the
    tables has (NULL where it has none, cast to the column's type unless ``cast_nulls`` is
    False) and, when ``typecolname`` is given, the discriminator value under that name.

    It is what a concrete-table hierarchy's base class queries: ``with_polymorphic=("*", pjoin)``
    and ``polymorphic_on=pjoin.c.type`` on its mapper (``ConcreteBase`` sets this up).
    """
    types: dict[str, Any] = {}
    for table in table_map.values():
        for col in table.c:
            types.setdefault(col.name, col.type)
    selects = []
    for value, table in table_map.items():
        columns: list[ColumnElement] = []
        for name, type_ in types.items():
            if name in table.c:
                columns.append(table.c[name])
            else:
                missing = cast(null(), type_) if cast_nulls else null()
                columns.append(missing.label(name))
        if typecolname is not None:
            columns.append(_sql_literal(value).label(typecolname))
        selects.append(select(*columns).select_from(table))
    return union_all(*selects).subquery(aliasname)


def _sql_literal(value: Any) -> ColumnElement:
    """A discriminator value written into the SQL (the same in every cached statement)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise sa_exc.ArgumentError(
            f"polymorphic_union(): discriminator value {value!r} must be a string or an integer"
        )
    if isinstance(value, int):
        return literal_column(str(value), Integer())
    return literal_column("'" + value.replace("'", "''") + "'", String())


def adapt_to_selectables(statement: Select) -> Select:
    """``statement`` with the columns of each :class:`HierarchyEntity`'s own table read from
    its selectable, wherever they appear (columns, WHERE, ON, ORDER BY, GROUP BY, HAVING)."""
    entities: list[HierarchyEntity] = []

    def walk(from_: Any) -> None:
        if isinstance(from_, Join):
            walk(from_.left)
            walk(from_.right)
        elif isinstance(from_, HierarchyEntity) and from_ not in entities:
            entities.append(from_)

    for from_ in (*statement._raw_columns, *statement._from_obj):
        walk(from_)
    entities = [e for e in entities if e.mapper.local_table is not e.selectable]
    if not entities:
        return statement

    def replace(col: ColumnElement) -> ColumnElement | None:
        for entity in entities:
            found = entity.adapt(col)
            if found is not col:
                return found
        return None

    def rewrite(from_: Any) -> Any:
        if not isinstance(from_, Join):
            return from_
        join = from_._generate()
        join.left = rewrite(from_.left)
        join.right = rewrite(from_.right)
        join.onclause = replace_columns(from_.onclause, replace)
        return join

    new = statement._generate()
    new._raw_columns = tuple(
        raw if isinstance(raw, FromClause) else replace_columns(raw, replace)
        for raw in statement._raw_columns
    )
    new._from_obj = tuple(rewrite(f) for f in statement._from_obj)
    for name in ("_where", "_order_by", "_group_by", "_having"):
        setattr(new, name, tuple(replace_columns(c, replace) for c in getattr(statement, name)))
    return new


def entity_alias(mapper: Mapper, table: FromClause) -> FromClause:
    """A fresh copy of what ``mapper``'s objects load from, for one more JOIN to them: an alias
    of its polymorphic selectable, its joined tables aliased one by one, or ``table``
    aliased."""
    entity = mapper._entity
    if isinstance(entity, HierarchyEntity):
        return entity.selectable.alias()
    proxied = getattr(entity, "_proxied_from", None)
    if isinstance(proxied, Join):
        return flat_alias(proxied)
    return table.alias()


def polymorphic_entity(
    mapper: Mapper, subclasses: Sequence[Mapper], innerjoin: bool = False
) -> EntityClause:
    """The (cached) entity of ``mapper`` loading the columns of ``subclasses`` too (their
    tables inner-joined if ``innerjoin``, else outer-joined)."""
    if not subclasses:
        return mapper._entity
    cache: dict[tuple[Any, ...], EntityClause] = mapper.__dict__.setdefault(
        "_polymorphic_entities", {}
    )
    key = (*subclasses, innerjoin)
    found = cache.get(key)
    if found is None:
        found = cache[key] = PolymorphicEntityClause(mapper, subclasses, innerjoin)
    return found


def subclass_mappers(mapper: Mapper, classes: Any, what: str) -> list[Mapper]:
    """The mappers ``classes`` names (``"*"``: every subclass), checked to inherit ``mapper``."""
    if isinstance(classes, str) and classes == "*":
        return list(mapper._subclass_mappers)
    found: list[Mapper] = []
    for cls in classes if isinstance(classes, Iterable) else [classes]:
        sub = _mapper_or_none(cls)
        if sub is None or not sub.isa(mapper):
            raise sa_exc.ArgumentError(
                f"{what}({mapper.class_.__name__}, [...]): {cls!r} is not a mapped subclass of "
                f"{mapper.class_.__name__}"
            )
        if sub is not mapper and sub not in found:
            found.append(sub)
    return found


class WithPolymorphic(AliasedClass):
    """``with_polymorphic(Employee, [Manager, Engineer])``: ``Employee`` loading the subclass
    columns in the same query; ``wp.Manager.manager_name`` and ``wp.name`` are its columns."""

    def __init__(self, mapper: Mapper, entity: EntityClause, subclasses: Sequence[Mapper]) -> None:
        self._mapper = mapper
        self._entity = entity  # type: ignore[assignment]
        self._classes = {m.class_.__name__: _SubclassView(entity, m) for m in subclasses}

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        found = self.__dict__["_classes"].get(key)
        if found is not None:
            return found
        return _entity_attribute(self, key)

    @property
    def entity(self) -> type:
        return self._mapper.class_

    @property
    def mapper(self) -> Mapper:
        return self._mapper


class _SubclassView(AliasedClass):
    """``wp.Manager``: a subclass's attributes as columns of a ``with_polymorphic`` entity."""

    def __init__(self, entity: EntityClause, mapper: Mapper) -> None:
        self._entity = entity  # type: ignore[assignment]
        self._mapper = mapper

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return _entity_attribute(self, key)

    def __repr__(self) -> str:
        return f"<{self._mapper.class_.__name__} in {self._entity!r}>"


def _entity_attribute(view: AliasedClass, key: str) -> Any:
    """Attribute ``key`` of a ``with_polymorphic`` entity (or a subclass view of it): the
    class's own attribute when the entity reads the mapped tables themselves, else the
    entity's column (or a relationship starting at the entity)."""
    if not hasattr(view._entity, "adapt"):
        attr = getattr(view._mapper.class_, key)
        if getattr(attr, "_select_column_element", None) is not None:
            # A subclass's column read through the entity, whose rows are the hierarchy's:
            # marked with the entity rather than with the subclass (see SubclassColumn).
            return SubclassColumn(attr.expression, view._mapper, view._entity)
        return attr
    return AliasedClass.__getattr__(view, key)


def with_polymorphic(
    base: Any,
    classes: Any,
    selectable: Any = False,
    flat: bool = False,
    polymorphic_on: Any = None,
    aliased: bool = False,
    innerjoin: bool = False,
) -> WithPolymorphic:
    """``base`` loading the columns of the subclasses ``classes`` (or ``"*"``) in one query,
    their tables outer-joined (inner-joined with ``innerjoin=True``; single-table subclasses
    need no join).  ``aliased=True`` or ``flat=True`` alias every table, to use the entity
    twice in one statement; ``selectable=`` names a FROM object (such as a
    ``polymorphic_union()``) holding the columns of every class, read by column name."""
    mapper = _mapper_or_none(base)
    if mapper is None:
        raise sa_exc.ArgumentError(f"with_polymorphic() needs a mapped class, got {base!r}")
    mapper._check_configure()
    if polymorphic_on is not None:
        raise sa_exc.ArgumentError(
            "with_polymorphic(polymorphic_on=...) is not supported; name the discriminator "
            "with polymorphic_on in the base class's __mapper_args__"
        )
    subclasses = subclass_mappers(mapper, classes, "with_polymorphic")
    entity: EntityClause
    if selectable is False or selectable is None:
        own = mapper._entity
        if isinstance(own, HierarchyEntity):
            # A concrete hierarchy's base: its union holds every class's columns already.
            selectable = own.selectable
    if selectable is not False and selectable is not None:
        if hasattr(selectable, "__clause_element__"):
            selectable = selectable.__clause_element__()
        entity = HierarchyEntity(mapper, selectable, adapt_all=True)
    else:
        entity = polymorphic_entity(mapper, subclasses, innerjoin)
    if aliased or flat:
        entity = FlatAliasedEntity(entity, None)
    return WithPolymorphic(mapper, entity, subclasses)


class SelectinPolymorphic:
    """The ``selectin_polymorphic(Base, [Sub, ...])`` option: after the query, one SELECT per
    subclass loads the subclass columns of the objects it returned."""

    _compile_plugin = EntityClause._compile_plugin

    def __init__(self, base: Any, classes: Any) -> None:
        mapper = _mapper_or_none(base)
        if mapper is None:
            raise sa_exc.ArgumentError(f"selectin_polymorphic() needs a mapped class, got {base!r}")
        mapper._check_configure()
        self.mapper = mapper
        self.subclasses = tuple(subclass_mappers(mapper, classes, "selectin_polymorphic"))

    def _ck(self, ctx: Any) -> Hashable:
        return ("SELECTIN_POLYMORPHIC", self.mapper, self.subclasses)

    def __repr__(self) -> str:
        names = ", ".join(m.class_.__name__ for m in self.subclasses)
        return f"selectin_polymorphic({self.mapper.class_.__name__}, [{names}])"


def selectin_polymorphic(base: Any, classes: Any) -> SelectinPolymorphic:
    """Load the columns of subclasses ``classes`` of ``base`` with one SELECT ... IN per
    subclass after the query (a loader option)."""
    return SelectinPolymorphic(base, classes)


def selectin_targets(mapper: Mapper, options: Sequence[Any]) -> tuple[Mapper, ...]:
    """The subclasses of ``mapper`` whose columns a query of it loads by SELECT ... IN: from
    ``selectin_polymorphic`` options and ``polymorphic_load="selectin"`` mappers."""
    from athanor.orm.strategy_options import expand_options

    targets = [m for m in mapper._subclass_mappers if m.polymorphic_load == "selectin"]
    for option in expand_options(options):
        if isinstance(option, SelectinPolymorphic) and mapper.isa(option.mapper):
            targets.extend(m for m in option.subclasses if m.isa(mapper) and m is not mapper)
    return tuple(dict.fromkeys(targets))


def load_subclass_columns(
    session: Session, objects: Iterable[Any], targets: Sequence[Mapper], loaded: Sequence[str]
) -> None:
    """Fill the subclass columns (those not in ``loaded``) of ``objects``: one SELECT per
    subclass among ``targets`` that the objects belong to."""
    groups: dict[Mapper, list[Any]] = {}
    for obj in objects:
        if obj is None:
            continue
        mapper = getattr(type(obj), MAPPER_KEY)
        for candidate in mapper.iterate_to_root():
            if candidate in targets:
                groups.setdefault(candidate, []).append(obj)
                break
    taken = set(loaded)
    for sub, group in groups.items():
        columns = [(k, c) for k, c in sub._load_columns if k not in taken and k in sub._props]
        members = [o for o in group if any(k not in o.__dict__ for k, _ in columns)]
        if not columns or not members:
            continue
        pk = list(sub.primary_key)
        pk_keys = sub._pk_keys
        by_key = {tuple(o.__dict__[k] for k in pk_keys): o for o in members}
        keys = list(by_key)
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            match: ColumnElement = (
                pk[0].in_([k[0] for k in chunk]) if len(pk) == 1 else tuple_(*pk).in_(chunk)
            )
            stmt = select(*pk, *[c for _, c in columns]).select_from(sub._entity).where(match)
            for row in session.execute(stmt):
                obj = by_key.get(tuple(row[: len(pk)]))
                if obj is None:
                    continue
                d = obj.__dict__
                for (key, _), value in zip(columns, row[len(pk) :], strict=True):
                    d.setdefault(key, value)


def hierarchy_runs(
    states: Sequence[InstanceState], objects: Mapping[InstanceState, Any], deleting: bool = False
) -> list[list[InstanceState]]:
    """The objects of one inheritance hierarchy to write, in runs of one class: each row after
    the rows of the same hierarchy it references (a many-to-one relationship, or a foreign key
    value, pointing at it), otherwise in the order given.

    Reversed, the runs are the order to delete in; when ``deleting``, the foreign keys of
    expired objects are loaded to find what they reference.
    """
    members = {id(s): s for s in states}
    by_key = {s.key[1]: s for s in states if s.key is not None}
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for state in states:
        sorter.add(id(state))
        obj = objects[state]
        for rel in state.mapper._relationships:
            if (
                rel.viewonly
                or rel.post_update
                or rel.direction == MANYTOMANY
                or rel.mapper.base_mapper is not state.mapper.base_mapper
            ):
                continue
            for other in _referenced(rel, obj, by_key, deleting and len(states) > 1):
                if other is state or id(other) not in members:
                    continue
                if rel.direction == MANYTOONE:
                    sorter.add(id(state), id(other))
                else:
                    sorter.add(id(other), id(state))
    try:
        sorter.prepare()
    except graphlib.CycleError:
        names = sorted({s.mapper.class_.__name__ for s in states})
        raise sa_exc.CircularDependencyError(
            f"Rows of {', '.join(names)} reference each other in a cycle; set "
            "post_update=True on one of the relationships between them"
        ) from None
    order = {id(s): n for n, s in enumerate(states)}
    flat: list[InstanceState] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=order.__getitem__)
        flat.extend(members[i] for i in ready)
        sorter.done(*ready)
    runs: list[list[InstanceState]] = []
    for state in flat:
        if runs and runs[-1][0].mapper is state.mapper:
            runs[-1].append(state)
        else:
            runs.append([state])
    return runs


def _referenced(
    rel: RelationshipProperty, obj: Any, by_key: Mapping[Any, InstanceState], load: bool
) -> list[InstanceState]:
    """The states ``rel`` of ``obj`` points at: the loaded related objects, or for an unloaded
    many-to-one the object its foreign key values name (loaded first if ``load``)."""
    d = obj.__dict__
    value = d.get(rel.key, NO_VALUE)
    if value is not NO_VALUE:
        if value is None:
            return []
        items = list(value._sa_items()) if rel.uselist else [value]
        return [s for s in (i.__dict__.get(STATE_KEY) for i in items) if s is not None]
    if rel.direction != MANYTOONE:
        return []
    target = rel.mapper
    pairs = dict(rel.sync_pairs)
    if set(pairs) != set(target.primary_key):
        return []
    keys = [rel.parent._col_to_key.get(pairs[c]) for c in target.primary_key]
    if any(k is None or (k not in d and not load) for k in keys):
        return []
    found = by_key.get(tuple(getattr(obj, k) for k in keys if k is not None))
    return [] if found is None else [found]
