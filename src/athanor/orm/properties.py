"""Column-backed attributes: ``mapped_column()``, ``column_property()``, ``deferred()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.orm.attributes import InstrumentedAttribute, ScalarAttributeImpl
from athanor.orm.base import NO_VALUE
from athanor.orm.interfaces import MapperProperty
from athanor.sql.elements import ClauseElement, ColumnElement, ColumnOperators, coerce_column
from athanor.sql.schema import Column
from athanor.sql.types import Integer

if TYPE_CHECKING:
    from athanor.orm.attributes import QueryableAttribute

_UNSET: Any = NO_VALUE


class ColumnProperty(MapperProperty):
    """An attribute backed by one column (or a SQL expression, for ``column_property``)."""

    is_column = True
    is_query_expression = False
    """True for ``query_expression()`` attributes (filled only by ``with_expression()``)."""

    def __init__(
        self,
        *columns: Any,
        deferred: bool = False,
        group: str | None = None,
        raiseload: bool = False,
        active_history: bool = False,
        expire_on_flush: bool = True,
        info: dict[Any, Any] | None = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(info)
        self.columns: list[ColumnElement] = [coerce_column(c) for c in columns]
        self.deferred = deferred
        self.group = group
        self.raiseload = raiseload
        self.active_history = active_history
        self.expire_on_flush = expire_on_flush
        self.doc = doc

    @property
    def expression(self) -> ColumnElement:
        """The column or SQL expression."""
        return self.columns[0]

    @property
    def is_expression(self) -> bool:
        """True for a SQL expression that is not a column of the mapped table."""
        col = self.columns[0]
        return not (isinstance(col, Column) and col.table is not None)

    def instrument(self, class_: type) -> None:
        self.impl = ScalarAttributeImpl(self.key, self)
        setattr(class_, self.key, InstrumentedAttribute(class_, self.key, self, self.impl))

    def _clause_element(self, attr: QueryableAttribute[Any]) -> ClauseElement:
        return self.columns[0]

    def _comparator_operate(
        self, attr: QueryableAttribute[Any], op: Any, *other: Any, **kw: Any
    ) -> ColumnElement:
        return self.columns[0].operate(op, *other, **kw)

    def _comparator_for(self, attr: QueryableAttribute[Any]) -> Any:
        return self.columns[0]


class MappedColumn(ColumnOperators):
    """What ``mapped_column()`` returns: a Column under construction plus mapping options.

    Inside the class body it is already usable in SQL expressions (``column_property(first +
    " " + last)``); they refer to the column it builds.
    """

    __hash__ = object.__hash__

    def __clause_element__(self) -> Column:
        return self.column

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        return self.column.operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        return self.column.reverse_operate(op, other, **kwargs)

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._arguments: tuple[tuple[Any, ...], dict[str, Any]] = (args, dict(kw))
        self.deferred: bool = kw.pop("deferred", False)
        self.deferred_group: str | None = kw.pop("deferred_group", None)
        self.deferred_raiseload: bool = kw.pop("deferred_raiseload", False)
        self.active_history: bool = kw.pop("active_history", False)
        self.sort_order: int = kw.pop("sort_order", 0)
        self.use_existing_column: bool = kw.pop("use_existing_column", False)
        self.dataclass_init: Any = kw.pop("init", _UNSET)
        self.dataclass_repr: Any = kw.pop("repr", _UNSET)
        self.dataclass_compare: Any = kw.pop("compare", _UNSET)
        self.dataclass_kw_only: Any = kw.pop("kw_only", _UNSET)
        self.dataclass_hash: Any = kw.pop("hash", _UNSET)
        self.default_factory: Callable[[], Any] | None = kw.pop("default_factory", None)
        self.default: Any = kw.pop("default", _UNSET)
        self.user_nullable: Any = kw.pop("nullable", _UNSET)
        self.explicit_type = (
            any(isinstance(a, type) or hasattr(a, "_type_affinity") for a in args[:2])
            or kw.get("type_") is not None
        )
        self.info: dict[Any, Any] | None = kw.get("info")
        self.doc: str | None = kw.get("doc")
        column_kw = dict(kw)
        if self.default is not _UNSET and "insert_default" not in column_kw:
            column_kw["default"] = self.default
        if self.default_factory is not None and "insert_default" not in column_kw:
            column_kw["default"] = self.default_factory
        if self.user_nullable is not _UNSET:
            column_kw["nullable"] = self.user_nullable
        self.column = Column(*args, **column_kw)

    def _copy(self) -> MappedColumn:
        new = MappedColumn.__new__(MappedColumn)
        new.__dict__.update(self.__dict__)
        new.column = self.column._copy()
        return new

    def _over(self, base: MappedColumn) -> MappedColumn:
        """A new mapped_column() with ``base``'s arguments (one an ``Annotated`` type carries)
        where this one gives none: its positional arguments if it has none, and each keyword
        it does not give."""
        args, kw = self._arguments
        base_args, base_kw = base._arguments
        return MappedColumn(*(args or base_args), **{**base_kw, **kw})

    def to_property(self) -> ColumnProperty:
        return ColumnProperty(
            self.column,
            deferred=self.deferred,
            group=self.deferred_group,
            raiseload=self.deferred_raiseload,
            active_history=self.active_history,
            info=self.info,
            doc=self.doc,
        )


def orm_insert_sentinel(
    name: str | None = None,
    type_: Any = None,
    *,
    default: Any = None,
    omit_from_statements: bool = True,
) -> Any:
    """A declarative class's ``insert_sentinel()`` column: a nullable column
    (Integer unless ``type_`` says otherwise) marked as the table's insert sentinel, which by
    default is not mapped as an attribute nor selected."""
    extra = {} if default is None else {"default": default}
    return MappedColumn(
        name,
        Integer() if type_ is None else type_,
        nullable=True,
        insert_sentinel=True,
        _omit_from_statements=omit_from_statements,
        **extra,
    )


def mapped_column(*args: Any, **kw: Any) -> Any:
    """A mapped attribute backed by a new table column (declarative's ``Column``).

    Takes Column's arguments (name, type, ForeignKey, primary_key, nullable, default,
    server_default, onupdate, index, unique ...) plus ``deferred``, ``sort_order`` and the
    dataclass options ``init``, ``repr``, ``default_factory``, ``compare``, ``kw_only``.  The type
    and nullability come from the ``Mapped[...]`` annotation when not given.
    """
    return MappedColumn(*args, **kw)


def column_property(*columns: Any, **kw: Any) -> Any:
    """A mapped attribute for a column or SQL expression (loaded with the object)."""
    for name in ("init", "repr", "default", "default_factory", "compare", "kw_only"):
        kw.pop(name, None)
    return ColumnProperty(*columns, **kw)


def deferred(column: Any, *more: Any, group: str | None = None, **kw: Any) -> Any:
    """A column attribute that loads on first access instead of with the object."""
    return ColumnProperty(column, *more, deferred=True, group=group, **kw)


def query_expression(default_expr: Any = None, **kw: Any) -> Any:
    """An attribute filled per query by ``with_expression()`` (else ``default_expr`` or None)."""
    from athanor.sql.elements import null

    prop = ColumnProperty(default_expr if default_expr is not None else null(), **kw)
    prop.deferred = default_expr is None
    prop.is_query_expression = True
    return prop


class SynonymProperty(MapperProperty):
    """Another name for a mapped attribute (optionally through a Python descriptor)."""

    is_synonym = True

    def __init__(
        self,
        name: str,
        map_column: bool | None = None,
        descriptor: Any = None,
        comparator_factory: Any = None,
        info: dict[Any, Any] | None = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(info)
        self.name = name
        self.map_column = map_column
        self.descriptor = descriptor
        self.doc = doc

    def instrument(self, class_: type) -> None:
        setattr(class_, self.key, _SynonymDescriptor(self, self.descriptor))

    def _target(self) -> Any:
        return getattr(self.parent.class_, self.name)


class _SynonymDescriptor:
    def __init__(self, prop: SynonymProperty, descriptor: Any) -> None:
        self.prop = prop
        self.descriptor = descriptor

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            if self.descriptor is not None and hasattr(self.descriptor, "__get__"):
                found = self.descriptor.__get__(None, owner)
                if found is not self.descriptor and not isinstance(found, property):
                    return found
            return self.prop._target()
        if self.descriptor is not None:
            return self.descriptor.__get__(instance, owner)
        return getattr(instance, self.prop.name)

    def __set__(self, instance: Any, value: Any) -> None:
        if self.descriptor is not None:
            if getattr(self.descriptor, "fset", True) is None:
                raise AttributeError(f"can't set attribute {self.prop.key!r}")
            self.descriptor.__set__(instance, value)
        else:
            setattr(instance, self.prop.name, value)


def synonym(
    name: str,
    *,
    map_column: bool | None = None,
    descriptor: Any = None,
    comparator_factory: Any = None,
    info: dict[Any, Any] | None = None,
    doc: str | None = None,
    **kw: Any,
) -> Any:
    """Make an attribute another name for the mapped attribute ``name``."""
    return SynonymProperty(name, map_column, descriptor, comparator_factory, info, doc)


def synonym_for(name: str, map_column: bool = False) -> Callable[[Any], Any]:
    """Decorate a method (or property) as a synonym of attribute ``name`` read through it:
    ``@synonym_for("_status") @property def status(self): ...`` (queries use ``name``)."""

    def decorate(fn: Any) -> Any:
        return SynonymProperty(name, map_column=map_column, descriptor=fn)

    return decorate


def _check_column(value: Any) -> None:
    if not isinstance(value, ColumnElement):
        raise sa_exc.ArgumentError(f"Expected a column or SQL expression, got {value!r}")
