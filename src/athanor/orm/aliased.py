"""``aliased(User)``: a mapped class under another name in one statement (self-joins, two roles).

The aliased class hands out the alias's columns for its column attributes and relationship
attributes whose joins start (or end) at the alias; ``select(ua)`` loads ``User`` objects
into the same identity map as ``select(User)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from athanor import exc as sa_exc
from athanor import inspection
from athanor.orm.base import _mapper_or_none
from athanor.orm.mapper import EntityClause, Mapper, SubclassColumn
from athanor.orm.properties import ColumnProperty
from athanor.orm.relationships import (
    MANYTOMANY,
    RelationshipProperty,
    _related_exists,
    replace_columns,
)
from athanor.sql.elements import ColumnElement, KeyContext, Label, and_, coerce_where, null
from athanor.sql.selectable import Alias, ColumnCollection, FromClause, Join


class AliasedEntity(EntityClause, Alias):
    """The FROM object of an aliased class: ``users AS users_1``, loading ``User`` objects."""

    __visit_name__ = "alias"

    def __init__(self, mapper: Mapper, name: str | None) -> None:
        super().__init__(mapper)
        self.element = mapper.local_table
        self._root = Alias(mapper.local_table, name)
        self._root._aliased_entity = self  # type: ignore[attr-defined]
        self.name = self.given_name = name

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for key, col in self.mapper._load_columns:
            # A column_property's expression (a correlated subquery, a sum of columns)
            # reads the alias's columns instead of the table's.
            found = adapted_column(self._root, col)
            if found is None:
                raise sa_exc.ArgumentError(
                    f"aliased({self.mapper.class_.__name__}): the attribute {key!r} reads "
                    "columns outside the class's table and cannot be aliased"
                )
            cols.add(found, key)
        return cols

    @property
    def _hide_froms(self) -> list[Any]:
        return [self._root]

    _aliased_class: Any = None
    """The ``aliased()`` class handing out this entity, which describes it to users."""

    def _ck(self, ctx: KeyContext) -> Any:
        return self

    def _describe(self) -> dict[str, Any]:
        entry = super()._describe()
        owner = self._aliased_class
        return entry if owner is None else {**entry, "expr": owner, "entity": owner}

    def adapt(self, col: ColumnElement) -> ColumnElement:
        """The alias's column for a column of the mapped table (others unchanged)."""
        found = self._root.corresponding_column(col)
        return col if found is None else found

    def unloaded_attribute(self, prop: ColumnProperty) -> Any:
        """``alias.attr`` for a column attribute the alias does not load by default (a
        deferred column, a ``query_expression()``), or None when the alias has no such
        column; made once per attribute so that loader options naming it find this alias."""
        made: dict[str, Any] = self.__dict__.setdefault("_unloaded", {})
        found = made.get(prop.key)
        if found is None:
            if prop.is_query_expression:
                found = AliasedQueryExpression(self, prop.key)
            else:
                col = prop.columns[0]
                found = adapted_column(
                    self._root, col.label(prop.key) if prop.is_expression else col
                )
                if found is None:
                    return None
            made[prop.key] = found
        return found

    def __repr__(self) -> str:
        return f"<aliased {self.mapper.class_.__name__} {self.name or '(anonymous)'}>"


class AliasedQueryExpression:
    """``alias.attr`` for a ``query_expression()`` attribute: NULL in SQL until
    ``with_expression(alias.attr, ...)`` gives it an expression for one query."""

    def __init__(self, entity: AliasedEntity, key: str) -> None:
        self._alias_and_key = (entity, key)
        self._expression = null()

    def __clause_element__(self) -> ColumnElement:
        return self._expression


class SelectableEntity(AliasedEntity):
    """``aliased(User, subquery)``: a subquery, CTE or union read as ``User`` objects."""

    __visit_name__ = "entity_proxy"

    def __init__(self, mapper: Mapper, selectable: Any, name: str | None = None) -> None:
        EntityClause.__init__(self, mapper)
        self.given_name = name
        self.element = selectable
        self._root = selectable
        selectable._aliased_entity = self
        self.name = getattr(selectable, "name", None)
        self._proxied_from = selectable

    def __repr__(self) -> str:
        return f"<aliased {self.mapper.class_.__name__} over {self._root!r}>"


def flat_alias(from_: FromClause, name: str | None = None) -> FromClause:
    """``from_`` with each of its tables under an alias of its own (a join stays a join of the
    aliases, its ON clauses reading them): what a self-contained second copy of an entity's
    tables looks like in one statement.  With ``name``, the aliases are ``<name>_<table>``."""
    aliases: list[FromClause] = []

    def corresponding(col: ColumnElement) -> ColumnElement | None:
        for alias in aliases:
            found = alias.corresponding_column(col)
            if found is not None:
                return found
        return None

    def build(part: FromClause) -> FromClause:
        if isinstance(part, Join):
            left = build(part.left)
            right = build(part.right)
            onclause = replace_columns(part.onclause, corresponding)
            return FlatJoin(left, right, onclause, isouter=part.isouter, full=part.full)
        alias = part.alias(None if name is None else f"{name}_{part.name}")
        aliases.append(alias)
        return alias

    return build(from_)


class FlatJoin(Join):
    """A join of aliased tables whose columns are found table by table (the tables of an
    inheritance hierarchy share column names such as ``id``)."""

    def corresponding_column(self, column: ColumnElement) -> ColumnElement | None:
        for side in (self.left, self.right):
            found = side.corresponding_column(column)
            if found is not None:
                return found
        return None


def adapted_column(from_: FromClause, col: ColumnElement) -> ColumnElement | None:
    """The column of ``from_`` (an alias or a join of aliases) standing for ``col``; for a
    labelled expression over columns (a discriminator expression), the expression over
    ``from_``'s columns under the same label; None when ``from_`` has no such column."""
    found = from_.corresponding_column(col)
    if found is None and isinstance(col, Label):
        read: list[ColumnElement] = []

        def adapt(column: ColumnElement) -> ColumnElement | None:
            read.append(column)
            return from_.corresponding_column(column)

        inner = replace_columns(col.element, adapt)
        if inner is not col.element:
            found = inner.label(col.name)
        elif not read:
            found = col  # reads no column at all (a query_expression's constant default)
    return found


class FlatAliasedEntity(AliasedEntity):
    """``aliased(Manager)`` of a joined-table subclass, or ``with_polymorphic(...,
    aliased=True)``: the entity's tables each aliased and joined as before (``employee AS
    employee_1 JOIN manager AS manager_1 ON ...``), loading the same objects."""

    __visit_name__ = "entity_proxy"

    def __init__(self, source: EntityClause, name: str | None) -> None:
        EntityClause.__init__(self, source.mapper)
        proxied = getattr(source, "_proxied_from", source.table)
        join = flat_alias(proxied, name)
        self.element = join
        self._root = join  # type: ignore[assignment]  # a join of aliases, not one alias
        self._proxied_from = join
        self.name = self.given_name = name
        self.subclasses = getattr(source, "subclasses", ())
        columns = getattr(source, "_poly_columns", None) or source.mapper._load_columns
        adapted: list[tuple[str, ColumnElement]] = []
        for key, col in columns:
            found = adapted_column(join, col)
            if found is None:
                raise sa_exc.ArgumentError(
                    f"aliased({self.mapper.class_.__name__}): the attribute {key!r} reads "
                    "columns outside the class's tables and cannot be aliased"
                )
            adapted.append((key, found))
        self._poly_columns = adapted
        self._load_keys = tuple(key for key, _ in adapted)

    _populate_columns = EntityClause._populate_columns

    @property
    def _hide_froms(self) -> list[Any]:
        return [self._root, *self._root._hide_froms]


def relationship_joins(
    prop: RelationshipProperty,
    source: AliasedEntity | None,
    target: Any,
    criteria: Sequence[ColumnElement] = (),
) -> list[tuple[Any, ColumnElement]]:
    """The (target, ON) joins along ``prop`` from ``source`` (or the parent) to ``target``,
    with ``criteria`` on the target (``User.posts.and_(...)``) added to the last ON clause."""
    prop.parent._check_configure()
    target_entity = prop.mapper._entity if target is None else entity_of(target)

    def near(col: ColumnElement) -> ColumnElement:
        return col if source is None else source.adapt(col)

    def far(col: ColumnElement) -> ColumnElement:
        if isinstance(target_entity, AliasedEntity):
            return target_entity.adapt(col)
        return col

    extra = [replace_columns(coerce_where(c), far) for c in criteria]
    if prop.direction == MANYTOMANY:
        return [
            (
                prop.secondary,
                and_(
                    *[near(p) == s for p, s in prop.secondary_parent_pairs],
                    *[replace_columns(e, near) for e in prop.primary_extra],
                ),
            ),
            (
                target_entity,
                and_(
                    *[far(t) == s for t, s in prop.secondary_target_pairs],
                    *[replace_columns(e, far) for e in prop.secondary_extra],
                    *extra,
                ),
            ),
        ]
    return [
        (
            target_entity,
            and_(
                *[near(p) == far(t) for p, t in prop.pairs],
                *prop.adapted_extra(near, far),
                *extra,
            ),
        )
    ]


def aliased_attribute(attr: Any) -> tuple[AliasedEntity, str] | None:
    """The aliased entity and attribute key of a column attribute of an aliased class
    (``ua.name``), for loader options naming it; None for anything else."""
    if isinstance(attr, AliasedQueryExpression):
        return attr._alias_and_key
    if isinstance(attr, SubclassColumn):
        entity, column = attr._of_entity, attr.clause
    else:
        entity, column = getattr(getattr(attr, "table", None), "_aliased_entity", None), attr
    if not isinstance(entity, AliasedEntity):
        return None
    unloaded: dict[str, Any] = entity.__dict__.get("_unloaded", {})
    return next(
        ((entity, key) for key, col in (*entity.c.items(), *unloaded.items()) if col is column),
        None,
    )


def _hybrid_of(cls: type, key: str) -> Any:
    """The ``hybrid_property``/``hybrid_method`` named ``key`` of ``cls``, or None."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(key)
        if found is not None:
            kind = getattr(found, "extension_type", None)
            return found if kind in ("HYBRID_PROPERTY", "HYBRID_METHOD") else None
    return None


def entity_of(target: Any) -> Any:
    if isinstance(target, AliasedClass):
        return target._entity
    mapper = _mapper_or_none(target)
    return target if mapper is None else mapper._entity


class RelationshipPath:
    """A relationship from a given start (``ua.posts``) or to a given target
    (``User.posts.of_type(pa)``): joins and ``contains_eager`` follow those ends."""

    def __init__(
        self,
        prop: RelationshipProperty,
        source: AliasedEntity | None,
        target: Any = None,
        criteria: tuple[ColumnElement, ...] = (),
    ) -> None:
        self.prop = prop
        self.source = source
        self.target = target
        self.criteria = criteria

    def _orm_join_target(self, target: Any = None) -> list[tuple[Any, ColumnElement]]:
        return relationship_joins(self.prop, self.source, target or self.target, self.criteria)

    def _orm_join_source(self) -> Any:
        return self.prop.parent._entity if self.source is None else self.source

    def of_type(self, target: Any) -> RelationshipPath:
        """The same relationship, joining to (or eagerly filled from) ``target``."""
        return RelationshipPath(self.prop, self.source, target, self.criteria)

    def and_(self, *criteria: Any) -> RelationshipPath:
        """The same relationship with ``criteria`` on its target added to the ON clause of a
        join along it, and to what a loader option with it loads."""
        extra = tuple(coerce_where(c) for c in criteria)
        return RelationshipPath(self.prop, self.source, self.target, self.criteria + extra)

    def any(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS a related row of the collection, of the ``of_type()`` target, matching
        ``criterion`` and ``attr=value``."""
        return self._exists("any", criterion, kwargs)

    def has(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS the related object, of the ``of_type()`` target, matching ``criterion``
        and ``attr=value``."""
        return self._exists("has", criterion, kwargs)

    def _exists(self, name: str, criterion: Any, kwargs: dict[str, Any]) -> ColumnElement:
        if self.prop.uselist != (name == "any"):
            other = "has" if name == "any" else "any"
            raise sa_exc.InvalidRequestError(
                f"{name}() does not apply to {self.prop}; use {other}()"
            )
        crit = [*self.criteria, *([] if criterion is None else [criterion])]
        return _related_exists(
            self.prop, and_(*crit) if crit else None, kwargs, self.source, self.target
        )

    def __clause_element__(self) -> ColumnElement:
        ((_, onclause),) = relationship_joins(self.prop, self.source, self.target, self.criteria)[
            -1:
        ]
        return onclause

    def __repr__(self) -> str:
        return str(self.prop)


class AliasedClass:
    """A mapped class under an alias; attributes give the alias's columns (``ua.username``)."""

    def __init__(self, entity: Any, name: str | None = None, selectable: Any = None) -> None:
        mapper = _mapper_or_none(entity)
        if mapper is None:
            raise sa_exc.ArgumentError(f"aliased() needs a mapped class, got {entity!r}")
        mapper._check_configure()
        self._entity: AliasedEntity
        if selectable is not None:
            self._entity = SelectableEntity(mapper, selectable, name)
        elif isinstance(getattr(mapper._entity, "_proxied_from", None), Join):
            # Joined-table tables (or with_polymorphic joins): each table aliased.
            self._entity = FlatAliasedEntity(mapper._entity, name)
        else:
            self._entity = AliasedEntity(mapper, name)
        self._entity._aliased_class = self
        self._mapper = mapper

    def __clause_element__(self) -> AliasedEntity:
        return self._entity

    def _describe(self) -> dict[str, Any]:
        """This alias's entry in ``select(...).column_descriptions``."""
        return {**self._entity._describe(), "expr": self, "entity": self}

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        mapper = self.__dict__["_mapper"]
        prop = mapper._props.get(key)
        if isinstance(prop, RelationshipProperty):
            return RelationshipPath(prop, self._entity)
        if prop is not None and prop.is_composite:
            keys = prop._attribute_keys()
            return prop._aliased_comparator([getattr(self, k) for k in keys])
        if prop is None:
            hybrid = _hybrid_of(mapper.class_, key)
            if hybrid is not None:
                # The hybrid's class-level expression, built from this alias's attributes.
                return hybrid.__get__(None, self)
        col = self._entity.c.get(key)
        if col is None and isinstance(prop, ColumnProperty):
            col = self._entity.unloaded_attribute(prop)
            if isinstance(col, AliasedQueryExpression):
                return col
        if col is None:
            raise AttributeError(
                f"aliased({mapper.class_.__name__}) has no column attribute {key!r}"
            )
        if isinstance(self._entity, FlatAliasedEntity) or mapper.single:
            # Its FROM object is the whole join of aliases, not the one aliased table; or the
            # alias of a single-table subclass, whose rows a query of it keeps to.
            return SubclassColumn(col, mapper, self._entity)
        return col

    @property
    def __name__(self) -> str:
        return f"aliased({self._mapper.class_.__name__})"

    def __repr__(self) -> str:
        return repr(self._entity)


class AliasedInsp:
    """What ``inspect(aliased(User))`` gives: the alias's class, mapper, name and the FROM
    object its columns come from."""

    is_aliased_class = True
    is_mapper = False
    is_selectable = False
    is_clause_element = False

    def __init__(self, alias: AliasedClass) -> None:
        self.entity = alias
        """The aliased class itself."""

    @property
    def mapper(self) -> Mapper:
        return self.entity._mapper

    @property
    def class_(self) -> type:
        return self.mapper.class_

    @property
    def name(self) -> str | None:
        return self.entity._entity.name

    @property
    def selectable(self) -> Any:
        """The alias (or aliased join) the entity's columns are read from."""
        return self.entity._entity

    @property
    def with_polymorphic_mappers(self) -> list[Mapper]:
        return list(getattr(self.entity._entity, "subclasses", ()))

    def __clause_element__(self) -> AliasedEntity:
        return self.entity._entity

    def __repr__(self) -> str:
        return f"<AliasedInsp of {self.entity!r}>"


inspection.register(AliasedClass, AliasedInsp)


def aliased(element: Any, alias: Any = None, name: str | None = None, flat: bool = False) -> Any:
    """``element`` (a mapped class) under an alias, to use it twice in one statement.

    With ``alias`` (a subquery, CTE or ``union(...).subquery()`` selecting the class's columns)
    the class's attributes read that selectable's columns and rows load as objects.
    """
    if alias is None:
        return AliasedClass(element, name)
    selectable = alias.__clause_element__() if hasattr(alias, "__clause_element__") else alias
    if not isinstance(selectable, FromClause) or isinstance(selectable, EntityClause):
        raise sa_exc.ArgumentError(
            f"aliased(cls, selectable) takes a subquery or CTE (select(...).subquery()), got "
            f"{alias!r}"
        )
    return AliasedClass(element, name, selectable)
