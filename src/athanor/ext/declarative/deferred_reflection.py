"""``DeferredReflection``: declarative classes whose tables are reflected from the database
later, when ``prepare(engine)`` is called, instead of when the class is defined."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from athanor.orm.mapper import Mapper
from athanor.orm.relationships import RelationshipProperty
from athanor.sql.schema import MetaData, Table


class DeferredReflection:
    """Mixin for declarative classes mapped to tables reflected at :meth:`prepare` time.

    ``class Reflected(DeferredReflection): __abstract__ = True``, then
    ``class User(Reflected, Base): __tablename__ = "users"`` declares a class whose columns come
    from the database; columns and relationships it declares are kept.  Until
    ``Reflected.prepare(engine)`` the class is not mapped.
    """

    _sa_deferred_mappings: ClassVar[dict[type, Callable[[], Mapper]]] = {}

    @classmethod
    def prepare(cls, bind: Any, **reflect_kw: Any) -> None:
        """Reflect the tables of every not yet mapped subclass of ``cls`` (and the tables
        their foreign keys and string ``secondary=`` arguments name) through ``bind``, an
        engine or connection, then map those classes."""
        pending = DeferredReflection._sa_deferred_mappings
        chosen = [klass for klass in list(pending) if issubclass(klass, cls)]
        for klass in chosen:
            table: Table = klass.__table__  # type: ignore[attr-defined]
            _reflect(table.name, table.metadata, table.schema, bind, reflect_kw)
        for klass in chosen:
            pending.pop(klass)()
        for klass in chosen:
            mapper: Mapper = klass.__mapper__  # type: ignore[attr-defined]
            for prop in list(mapper._props.values()):
                if isinstance(prop, RelationshipProperty):
                    _reflect_secondary(prop, mapper.local_table, bind, reflect_kw)


def _reflect(
    name: str, metadata: MetaData, schema: str | None, bind: Any, reflect_kw: dict[str, Any]
) -> None:
    Table(
        name,
        metadata,
        schema=schema,
        autoload_with=bind,
        extend_existing=True,
        autoload_replace=False,
        **reflect_kw,
    )


def _reflect_secondary(
    prop: RelationshipProperty, table: Table, bind: Any, reflect_kw: dict[str, Any]
) -> None:
    """A ``secondary="name"`` string names a table that must exist before the relationship
    is configured; reflect it if no one has defined it."""
    secondary = prop.secondary
    if isinstance(secondary, str) and secondary not in table.metadata.tables:
        _reflect(secondary, table.metadata, table.schema, bind, reflect_kw)
