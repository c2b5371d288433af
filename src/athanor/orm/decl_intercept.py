"""Mapping attributes assigned to a declarative class after it was created.

``User.post_count = column_property(...)`` on a mapped class goes through the metaclass of
:class:`~athanor.orm.DeclarativeBase` (and of ``declarative_base()`` classes): column and
relationship attributes become mapped properties, a ``mapped_column()`` also becomes a column
of the class's table, and ``del User.post_count`` unmaps the attribute again.
"""

from __future__ import annotations

from typing import Any

from athanor import exc as sa_exc
from athanor.orm import exc as orm_exc
from athanor.orm.interfaces import MapperProperty
from athanor.orm.mapper import Mapper, _State
from athanor.orm.properties import ColumnProperty, MappedColumn
from athanor.orm.relationships import RelationshipProperty
from athanor.sql.schema import Column

_MAPPABLE = (MapperProperty, MappedColumn, Column)


class DeclarativeAttributeIntercept(type):
    """Metaclass that maps attributes assigned to (or deleted from) an already mapped class."""

    def __setattr__(cls, key: str, value: Any) -> None:
        if isinstance(value, _MAPPABLE):
            mapper = cls.__dict__.get("__mapper__")
            if isinstance(mapper, Mapper):
                add_attribute(mapper, key, value)
                return
        super().__setattr__(key, value)

    def __delattr__(cls, key: str) -> None:
        mapper = cls.__dict__.get("__mapper__")
        if isinstance(mapper, Mapper) and key in mapper._props:
            remove_attribute(mapper, key)
            return
        super().__delattr__(key)


def add_attribute(mapper: Mapper, key: str, value: Any) -> None:
    """Map ``value`` (a column, ``mapped_column()``, ``column_property()``, ``relationship()``
    ...) as attribute ``key`` of ``mapper``'s class, replacing a mapped attribute of that name."""
    name = f"{mapper.class_.__name__}.{key}"
    if isinstance(value, MappedColumn):
        prop: MapperProperty = value.to_property()
        column: Any = value.column
    elif isinstance(value, Column):
        prop, column = ColumnProperty(value), value
    else:
        prop = value
        column = next(
            (c for c in getattr(value, "columns", ()) if isinstance(c, Column) and c.table is None),
            None,
        )
    if isinstance(prop, RelationshipProperty) and prop.argument is None:
        raise sa_exc.ArgumentError(
            f'relationship {name} has no target class; pass it, e.g. relationship("Other")'
        )
    if column is not None and column.table is None:
        if column.type._isnull and not column.foreign_keys:
            raise orm_exc.MappedAnnotationError(
                f"{name} = mapped_column() has no type; a class assigned to after it was "
                "created has no annotation to read it from, so pass one: "
                "mapped_column(String(50))"
            )
        if not column.name:
            column.name = key
        column.key = key
        mapper.local_table.append_column(column)
    if key in mapper._props:
        remove_attribute(mapper, key)
    mapper._add_property(key, prop)
    if isinstance(prop, RelationshipProperty) and mapper._configured:
        # Resolved with the other relationships the next time the registry is used.
        mapper._configured = False
        if mapper.registry is not None:
            mapper.registry._new_mappers = True
        _State.new_mappers = True
    _forget_statements(mapper)


def remove_attribute(mapper: Mapper, key: str) -> None:
    """Unmap attribute ``key`` (its column stays in the table, no longer loaded)."""
    prop = mapper._props[key]
    columns = getattr(prop, "columns", ())
    if any(c in mapper.primary_key for c in columns):
        raise sa_exc.InvalidRequestError(
            f"{mapper.class_.__name__}.{key} maps a primary key column and cannot be removed"
        )
    del mapper._props[key]
    type.__delattr__(mapper.class_, key)
    mapper._setup_derived()
    _forget_statements(mapper)


def _forget_statements(mapper: Mapper) -> None:
    """Drop statements built for the mapper's former set of loaded columns."""
    mapper.__dict__.pop("_pk_stmt", None)
    for other in mapper.registry._mappers if mapper.registry is not None else ():
        for rel in other._relationships:
            if getattr(rel, "mapper", None) is mapper:
                rel.__dict__.pop("_lazy_stmt", None)
