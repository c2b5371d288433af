"""Mapped classes and relationships generated from a MetaData's tables, usually reflected from
an existing database: ``Base = automap_base(); Base.prepare(autoload_with=engine)``, then
``Base.classes.users``.

Every table with a primary key becomes a class named after the table (``classname_for_table``
changes that).  Each foreign key gives a many-to-one on the referring class, named after the
referred class in lower case, and the one-to-many back, ``<referring class>_collection``; a
table holding nothing but two foreign keys is not mapped and links its two classes many-to-many.
Classes declared on the base before ``prepare()`` are mapped to their reflected tables, keeping
the columns and relationships they declare.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Protocol

from athanor import exc as sa_exc
from athanor.orm.decl_api import declarative_base as _declarative_base
from athanor.orm.decl_intercept import add_attribute
from athanor.orm.mapper import Mapper, _PropertyView
from athanor.orm.relationships import (
    MANYTOMANY,
    MANYTOONE,
    ONETOMANY,
    RelationshipDirection,
    relationship,
)
from athanor.sql.elements import and_
from athanor.sql.schema import ForeignKeyConstraint, MetaData, Table

__all__ = [
    "AutomapBase",
    "automap_base",
    "classname_for_table",
    "generate_relationship",
    "name_for_collection_relationship",
    "name_for_scalar_relationship",
]


def classname_for_table(base: type, tablename: str, table: Table) -> str:
    """The default class name for ``table``: the table's name as it is."""
    return tablename


def name_for_scalar_relationship(
    base: type, local_cls: type, referred_cls: type, constraint: ForeignKeyConstraint
) -> str:
    """The default many-to-one attribute name: the referred class's name in lower case."""
    return referred_cls.__name__.lower()


def name_for_collection_relationship(
    base: type, local_cls: type, referred_cls: type, constraint: ForeignKeyConstraint
) -> str:
    """The default collection attribute name: the referred class's name, lower case, with
    ``_collection`` appended."""
    return referred_cls.__name__.lower() + "_collection"


def generate_relationship(
    base: type,
    direction: RelationshipDirection,
    return_fn: Callable[..., Any],
    attrname: str,
    local_cls: type,
    referred_cls: type,
    **kw: Any,
) -> Any:
    """The default relationship factory: ``return_fn(referred_cls, **kw)``; a replacement may
    change the arguments, or return None to leave the attribute out."""
    return return_fn(referred_cls, **kw)


_default_classname = classname_for_table
_default_scalar_name = name_for_scalar_relationship
_default_collection_name = name_for_collection_relationship
_default_generate = generate_relationship


class _GenerateRelationship(Protocol):
    def __call__(
        self,
        base: type,
        direction: RelationshipDirection,
        return_fn: Callable[..., Any],
        attrname: str,
        local_cls: type,
        referred_cls: type,
        **kw: Any,
    ) -> Any: ...


class _Classes(_PropertyView):
    """The classes an automap base mapped, by class name: ``Base.classes.users`` or
    ``Base.classes["users"]``; iterating gives the classes."""

    def __init__(self) -> None:
        super().__init__({})

    def __getattr__(self, name: str) -> type:
        try:
            return self.__dict__["_props"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(self._missing(name)) from None

    def __getitem__(self, name: str) -> type:
        try:
            return self._props[name]  # type: ignore[no-any-return]
        except KeyError:
            raise KeyError(self._missing(name)) from None

    def _missing(self, name: str) -> str:
        known = ", ".join(sorted(self._props)) or "none yet; call prepare() first"
        return f"no automapped class named {name!r} (classes: {known})"

    def get(self, name: str, default: Any = None) -> Any:
        return self._props.get(name, default)


class AutomapBase:
    """The base :func:`automap_base` returns; :meth:`prepare` generates the mappings."""

    __abstract__ = True
    _sa_declarative_base = True

    classes: ClassVar[_Classes]
    """The mapped classes, by name."""
    metadata: ClassVar[MetaData]
    _sa_deferred_mappings: ClassVar[dict[type, Callable[[], Mapper]] | None]

    @classmethod
    def prepare(
        cls,
        autoload_with: Any = None,
        engine: Any = None,
        reflect: bool = False,
        schema: str | None = None,
        classname_for_table: Callable[[type, str, Table], str] | None = None,
        collection_class: Any = None,
        name_for_scalar_relationship: Callable[..., str] | None = None,
        name_for_collection_relationship: Callable[..., str] | None = None,
        generate_relationship: _GenerateRelationship | None = None,
        reflection_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Reflect the database behind ``autoload_with`` (an engine or connection) into the
        base's MetaData when given, map the declared classes and a new class for every other
        table with a primary key, then add the relationships the foreign keys describe.

        May be called again later: tables that appeared since are mapped then.
        """
        bind = autoload_with if autoload_with is not None else engine
        if reflect and bind is None:
            raise sa_exc.ArgumentError(
                "prepare(reflect=True) needs a database to reflect: pass autoload_with=engine"
            )
        if bind is not None:
            cls.metadata.reflect(
                bind,
                schema=schema,
                extend_existing=True,
                autoload_replace=False,
                **dict(reflection_options or {}),
            )
        _Preparation(
            cls,
            schema,
            classname_for_table or _default_classname,
            collection_class or list,
            name_for_scalar_relationship or _default_scalar_name,
            name_for_collection_relationship or _default_collection_name,
            generate_relationship or _default_generate,
        ).run()


def automap_base(declarative_base: type | None = None, **kw: Any) -> Any:
    """A new base class whose :meth:`~AutomapBase.prepare` maps a schema's tables.

    ``declarative_base`` is an existing ``declarative_base()`` class to build on (the other
    arguments are then ignored); otherwise ``kw`` goes to ``declarative_base()`` (``metadata=``
    to automap tables already defined, ``name=``, ...).
    """
    namespace = {
        "__abstract__": True,
        "classes": _Classes(),
        "_sa_deferred_mappings": {},
        "_sa_declarative_base": True,
    }
    if declarative_base is None:
        base = _declarative_base(cls=AutomapBase, **kw)
        for key, value in namespace.items():
            type.__setattr__(base, key, value)
        return base
    return type(declarative_base)(
        declarative_base.__name__, (AutomapBase, declarative_base), dict(namespace)
    )


class _Preparation:
    """One ``prepare()`` run: classes first, then relationships between them."""

    def __init__(
        self,
        base: type[AutomapBase],
        schema: str | None,
        classname_for_table: Callable[[type, str, Table], str],
        collection_class: Any,
        name_for_scalar_relationship: Callable[..., str],
        name_for_collection_relationship: Callable[..., str],
        generate_relationship: _GenerateRelationship,
    ) -> None:
        self.base = base
        self.schema = schema
        self.classname_for_table = classname_for_table
        self.collection_class = collection_class
        self.scalar_name = name_for_scalar_relationship
        self.collection_name = name_for_collection_relationship
        self.generate = generate_relationship

    def run(self) -> None:
        base = self.base
        deferred = base._sa_deferred_mappings
        assert deferred is not None
        for declared in list(deferred):
            deferred.pop(declared)()
            base.classes._props[declared.__name__] = declared
        links: list[Table] = []
        with self._mapping_immediately():
            for table in list(base.metadata.tables.values()):
                if table.schema != self.schema or self._class_for(table) is not None:
                    continue
                if _link_constraints(table) is not None:
                    links.append(table)
                    continue
                if not table.primary_key.columns:
                    continue
                name = self.classname_for_table(base, table.name, table)
                metaclass: Any = type(base)
                made = metaclass(name, (base,), {"__table__": table, "__module__": __name__})
                base.classes._props[name] = made
        for mapped in list(base.classes):
            table = mapped.__mapper__.local_table
            for constraint in sorted(table.foreign_key_constraints, key=_first_position):
                self._many_to_one(mapped, constraint)
        for table in links:
            self._many_to_many(table)

    @contextlib.contextmanager
    def _mapping_immediately(self) -> Iterator[None]:
        """Generated classes are mapped as they are made, not deferred like declared ones."""
        pending = self.base._sa_deferred_mappings
        type.__setattr__(self.base, "_sa_deferred_mappings", None)
        try:
            yield
        finally:
            type.__setattr__(self.base, "_sa_deferred_mappings", pending)

    def _class_for(self, table: Table) -> type | None:
        for mapper in self.base.registry.mappers:  # type: ignore[attr-defined]
            if mapper.local_table is table and mapper.inherits is None:
                return mapper.class_  # type: ignore[no-any-return]
        return None

    def _many_to_one(self, local_cls: type, constraint: ForeignKeyConstraint) -> None:
        referred_cls = self._class_for(constraint.referred_table)
        if referred_cls is None or not issubclass(referred_cls, self.base):
            return
        local_mapper: Mapper = local_cls.__mapper__  # type: ignore[attr-defined]
        if local_mapper.inherits is not None and issubclass(local_cls, referred_cls):
            return  # the join condition of an inheritance, not a relationship
        scalar = self.scalar_name(self.base, local_cls, referred_cls, constraint)
        collection = self.collection_name(self.base, referred_cls, local_cls, constraint)
        foreign = list(constraint.columns)
        to_one: dict[str, Any] = {"foreign_keys": foreign}
        to_many: dict[str, Any] = {
            "foreign_keys": foreign,
            "collection_class": self.collection_class,
        }
        if referred_cls is local_cls:
            to_one["remote_side"] = [element.column for element in constraint.elements]
        if constraint.ondelete:
            rule = constraint.ondelete.upper()
            if rule == "CASCADE":
                to_many["cascade"] = "all, delete-orphan"
            if rule in ("CASCADE", "SET NULL"):
                to_many["passive_deletes"] = True
        self._pair(
            (local_cls, scalar, MANYTOONE, referred_cls, to_one),
            (referred_cls, collection, ONETOMANY, local_cls, to_many),
        )

    def _many_to_many(self, table: Table) -> None:
        first, second = _link_constraints(table)  # type: ignore[misc]
        left = self._class_for(first.referred_table)
        right = self._class_for(second.referred_table)
        if left is None or right is None:
            return
        common: dict[str, Any] = {"secondary": table, "collection_class": self.collection_class}
        forward = dict(common)
        backward = dict(common)
        if left is right:
            forward["primaryjoin"] = backward["secondaryjoin"] = _join_condition(first)
            forward["secondaryjoin"] = backward["primaryjoin"] = _join_condition(second)
        left_name = self.collection_name(self.base, left, right, first)
        right_name = self.collection_name(self.base, right, left, second)
        self._pair(
            (left, left_name, MANYTOMANY, right, forward),
            (right, right_name, MANYTOMANY, left, backward),
        )

    def _pair(
        self,
        one: tuple[type, str, RelationshipDirection, type, dict[str, Any]],
        other: tuple[type, str, RelationshipDirection, type, dict[str, Any]],
    ) -> None:
        """Add both sides of a relationship that are not already mapped attributes, linked by
        ``back_populates`` when both are new."""
        sides = [one] if one[:2] == other[:2] else [one, other]
        new = [side for side in sides if not _has_relationship(side[0], side[1])]
        for local_cls, name, direction, referred_cls, kw in new:
            mapper: Mapper = local_cls.__mapper__  # type: ignore[attr-defined]
            if mapper.has_property(name):
                raise sa_exc.ArgumentError(
                    f"automap would name the {direction.name.lower()} relationship from "
                    f"{local_cls.__name__} to {referred_cls.__name__} {name!r}, but "
                    f"{local_cls.__name__}.{name} is already a column attribute; pass "
                    "name_for_scalar_relationship= or name_for_collection_relationship= to "
                    "prepare() to choose another name"
                )
            if len(new) == 2:
                kw["back_populates"] = other[1] if name == one[1] else one[1]
            prop = self.generate(
                self.base, direction, relationship, name, local_cls, referred_cls, **kw
            )
            if prop is not None:
                add_attribute(mapper, name, prop)


def _has_relationship(cls: type, name: str) -> bool:
    mapper: Mapper = cls.__mapper__  # type: ignore[attr-defined]
    return name in mapper.relationships


def _link_constraints(table: Table) -> tuple[ForeignKeyConstraint, ForeignKeyConstraint] | None:
    """The two foreign keys of a pure many-to-many table (every column belongs to one of
    them), in column order; None for any other table."""
    constraints = sorted(table.foreign_key_constraints, key=_first_position)
    if len(constraints) != 2:
        return None
    covered = {id(column) for constraint in constraints for column in constraint.columns}
    if any(id(column) not in covered for column in table.columns):
        return None
    return constraints[0], constraints[1]


def _first_position(constraint: ForeignKeyConstraint) -> int:
    table: Any = constraint.table
    positions = {id(column): index for index, column in enumerate(table.columns)}
    return min(positions[id(column)] for column in constraint.columns)


def _join_condition(constraint: ForeignKeyConstraint) -> Any:
    return and_(*(element.column == element.parent for element in constraint.elements))
