"""Composite attributes: one Python value (a dataclass or plain class) over several columns.

``start: Mapped[Point] = composite(mapped_column("x1"), mapped_column("y1"))`` maps the
columns ``x1``/``y1`` as attributes of their own and ``start`` as a ``Point`` built from them.
Reading ``obj.start`` builds the value from the column attributes (kept in the object's
``__dict__`` while the columns still hold its values); assigning one sets every column
attribute, so the flush writes them.  At class level ``Vertex.start == Point(3, 4)`` compares
every column, and ``select(Vertex.start)`` returns ``Point`` objects.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from athanor import exc as sa_exc
from athanor.orm.attributes import QueryableAttribute, attribute_history
from athanor.orm.base import NO_VALUE, instance_state
from athanor.orm.bundle import Bundle, RowProcessor
from athanor.orm.interfaces import MapperProperty, PropComparator
from athanor.orm.properties import ColumnProperty, MappedColumn
from athanor.orm.state import HISTORY_BLANK, History, InstanceState
from athanor.sql import operators
from athanor.sql.elements import ClauseElement, ClauseList, ColumnElement, KeyContext, and_
from athanor.sql.schema import Column


class CompositeProperty(MapperProperty):
    """A mapped attribute whose value is an object of ``composite_class`` made from several
    column attributes (what ``composite()`` returns)."""

    is_composite = True

    class Comparator(PropComparator):
        """How a composite attribute compares in SQL: ``==``, ``!=``, ``<``, ``<=``, ``>``
        and ``>=`` against a value of the composite class (or None) apply the operator to
        every column and AND the results, so ``!=`` holds where every column differs; subclass
        it and pass ``comparator_factory=`` for other meanings or operators
        (``self.__clause_element__().clauses`` are the columns)."""

        prop: CompositeProperty
        _aliased_columns: tuple[ColumnElement, ...] | None = None

        @property
        def clauses(self) -> tuple[ColumnElement, ...]:
            """The columns of the composite, in the composite class's order."""
            aliased = self._aliased_columns
            return self.prop._columns() if aliased is None else aliased

        def __clause_element__(self) -> ClauseList:
            return ClauseList(*self.clauses)

        @property
        def expression(self) -> ClauseList:
            return self.__clause_element__()

        def operate(self, op: Any, *other: Any, **kw: Any) -> ColumnElement:
            if op in _OPERATOR_METHODS:
                return self._compare(op, other[0])
            raise sa_exc.InvalidRequestError(
                f"{self.prop} is a composite attribute: SQL operators other than comparisons "
                f"({op.name!r} here) need a comparator_factory=... subclass of "
                "Composite.Comparator defining that operator"
            )

        def reverse_operate(self, op: Any, other: Any, **kw: Any) -> ColumnElement:
            return self.operate(op, other)

        def _compare(self, op: Any, other: Any) -> ColumnElement:
            prop = self.prop
            if isinstance(other, CompositeAttribute):
                other = other.prop._comparator_for(other)
            if isinstance(other, CompositeProperty.Comparator):
                values: Sequence[Any] = other.clauses  # another composite's columns
            elif other is None:
                values = [None] * len(prop.attrs)
            else:
                values = prop._values_of(other)
            pairs = zip(self.clauses, values, strict=True)
            return and_(*[op(column, value) for column, value in pairs])

    def __init__(
        self,
        class_: Any = None,
        *attrs: Any,
        comparator_factory: Callable[..., Any] | None = None,
        deferred: bool = False,
        group: str | None = None,
        raiseload: bool = False,
        active_history: bool = False,
        info: dict[Any, Any] | None = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(info)
        if class_ is not None and not isinstance(class_, type):
            attrs = (class_, *attrs)
            class_ = None
        self.composite_class: Any = class_
        self.attrs: tuple[Any, ...] = attrs
        self.comparator_factory = comparator_factory or CompositeProperty.Comparator
        self.deferred = deferred
        self.group = group
        self.raiseload = raiseload
        self.active_history = active_history
        self.doc = doc
        self._keys: tuple[str, ...] | None = None
        self._comparator: PropComparator | None = None

    # --- mapping --------------------------------------------------------------------------

    def _declare(self, owner: type, key: str, annotated: Any) -> list[tuple[MappedColumn, Any]]:
        """For declarative mapping of attribute ``key`` of ``owner`` (annotated
        ``Mapped[annotated]``): take the composite class from the annotation when not given,
        and return the ``mapped_column()`` objects given inline with the annotation of the
        composite class's matching field (what their type is derived from when not given)."""
        if self.composite_class is None:
            if not isinstance(annotated, type):
                raise sa_exc.ArgumentError(
                    f"composite {owner.__name__}.{key} has no class: annotate it as "
                    f"Mapped[<class>] or pass the class first, composite(Point, ...)"
                )
            self.composite_class = annotated
        names, hints = _fields(self.composite_class)
        if len(names) != len(self.attrs) and names:
            raise sa_exc.ArgumentError(
                f"composite {owner.__name__}.{key}: {self.composite_class.__name__} takes "
                f"{len(names)} values ({', '.join(names)}) but {len(self.attrs)} columns were "
                "given"
            )
        own = [v for v in vars(owner).values() if isinstance(v, MappedColumn)]
        inline = []
        for position, attr in enumerate(self.attrs):
            if not isinstance(attr, MappedColumn) or any(attr is v for v in own):
                continue
            column = attr.column
            if not column.name:
                if not names:
                    raise sa_exc.ArgumentError(
                        f"composite {owner.__name__}.{key}: give each mapped_column() a "
                        "column name, mapped_column('x1')"
                    )
                column.name = names[position]
            column.key = column.name
            if self.deferred:
                # The columns load together, when the composite is first read.
                attr.deferred = True
                attr.deferred_group = self.group or key
                attr.deferred_raiseload = self.raiseload
            inline.append((attr, hints[position] if hints else None))
        return inline

    def instrument(self, class_: type) -> None:
        setattr(class_, self.key, CompositeAttribute(class_, self.key, self, None))

    def _attribute_keys(self) -> tuple[str, ...]:
        """The keys of the column attributes, in the composite class's order."""
        keys = self._keys
        if keys is None:
            keys = self._keys = tuple(self._key_of(attr) for attr in self.attrs)
        return keys

    def _key_of(self, attr: Any) -> str:
        mapper = self.parent
        if isinstance(attr, str):
            if isinstance(mapper._props.get(attr), ColumnProperty):
                return attr
        elif isinstance(attr, ColumnProperty | QueryableAttribute):
            return attr.key
        else:
            column = attr.column if isinstance(attr, MappedColumn) else attr
            key = mapper._col_to_key.get(column) if isinstance(column, Column) else None
            if key is not None:
                return key
        raise sa_exc.ArgumentError(
            f"composite {self}: {attr!r} is not a column attribute of "
            f"{mapper.class_.__name__}; pass mapped_column(), Column objects or the names of "
            "column attributes"
        )

    def _columns(self) -> tuple[ColumnElement, ...]:
        props = self.parent._props
        return tuple(
            props[k].columns[0]  # type: ignore[attr-defined]
            for k in self._attribute_keys()
        )

    @property
    def columns(self) -> list[ColumnElement]:
        """The columns of the composite."""
        return list(self._columns())

    @property
    def props(self) -> list[MapperProperty]:
        """The column properties of the composite."""
        return [self.parent._props[k] for k in self._attribute_keys()]

    # --- values ---------------------------------------------------------------------------

    def _values_of(self, value: Any) -> Sequence[Any]:
        """The column values of a composite object (``__composite_values__()`` or the fields
        of a dataclass)."""
        method = getattr(value, "__composite_values__", None)
        if method is not None:
            found: Sequence[Any] = method()
            return found
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return [getattr(value, f.name) for f in dataclasses.fields(value)]
        expected = getattr(self.composite_class, "__name__", "the composite class")
        raise sa_exc.ArgumentError(
            f"{self} takes a {expected} object or None, got {value!r}; a composite class that "
            "is not a dataclass needs a __composite_values__() method returning its column values"
        )

    def _get(self, instance: Any) -> Any:
        d = instance.__dict__
        values = tuple(d[k] if k in d else getattr(instance, k) for k in self._attribute_keys())
        cached = d.get(self.key, NO_VALUE)
        if cached is not NO_VALUE and tuple(self._values_of(cached)) == values:
            return cached
        if instance_state(instance).key is None and all(v is None for v in values):
            # Nothing set on a new object yet: no value (a loaded row always has one).
            d.pop(self.key, None)
            return None
        made = self.composite_class(*values)
        d[self.key] = made
        _attached(made, instance, self.key)
        return made

    def _set(self, instance: Any, value: Any) -> None:
        keys = self._attribute_keys()
        values = [None] * len(keys) if value is None else self._values_of(value)
        if len(values) != len(keys):
            raise sa_exc.ArgumentError(
                f"{self} has {len(keys)} columns but {value!r} gave {len(values)} values"
            )
        for key, item in zip(keys, values, strict=True):
            setattr(instance, key, item)
        if value is None:
            instance.__dict__.pop(self.key, None)
        else:
            instance.__dict__[self.key] = value
            _attached(value, instance, self.key)

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        """The composite value's history, from its columns': unchanged while no column
        changed, else the value now added and the value before, built from the columns' values
        before, deleted.  Expired columns of a persistent object load first."""
        keys = self._attribute_keys()
        obj = state.object
        if obj is None:
            return HISTORY_BLANK
        missing = [k for k in keys if k not in dict_]
        if missing:
            if state.key is None or state.session is None:
                return HISTORY_BLANK
            for key in missing:
                getattr(obj, key)
        parts = [attribute_history(obj, k) for k in keys]
        current = self._get(obj)
        if not any(part.has_changes() for part in parts):
            return History((), () if current is None else [current], ())
        before = [
            part.deleted[0] if part.deleted else part.unchanged[0] if part.unchanged else None
            for part in parts
        ]
        deleted = (
            ()
            if state.key is None or all(v is None for v in before)
            else [self.composite_class(*before)]
        )
        return History(() if current is None else [current], (), deleted)

    # --- SQL ------------------------------------------------------------------------------

    def _comparator_for(self, attr: QueryableAttribute[Any]) -> Any:
        comparator = self._comparator
        if comparator is None:
            comparator = self._comparator = self.comparator_factory(self, self.parent)
        return comparator

    def _aliased_comparator(self, columns: Sequence[ColumnElement]) -> Any:
        """The comparator of this composite over ``columns`` (those of an aliased class)."""
        comparator = self.comparator_factory(self, self.parent)
        comparator._aliased_columns = tuple(columns)
        return comparator

    def _comparator_operate(
        self, attr: QueryableAttribute[Any], op: Any, *other: Any, **kw: Any
    ) -> ColumnElement:
        comparator = self._comparator_for(attr)
        method = _OPERATOR_METHODS.get(op)
        if method is not None and not kw:
            result: ColumnElement = getattr(comparator, method)(*other)
            return result
        return comparator.operate(op, *other, **kw)  # type: ignore[no-any-return]

    def _clause_element(self, attr: QueryableAttribute[Any]) -> ClauseElement:
        element: ClauseElement = self._comparator_for(attr).__clause_element__()
        return element

    def _bulk_values(self, value: Any) -> list[tuple[str, Any]]:
        """The (column attribute, value) pairs an INSERT or UPDATE of ``value`` sets."""
        keys = self._attribute_keys()
        values = [None] * len(keys) if value is None else self._values_of(value)
        return list(zip(keys, values, strict=True))


_OPERATOR_METHODS = {
    operators.eq: "__eq__",
    operators.ne: "__ne__",
    operators.lt: "__lt__",
    operators.le: "__le__",
    operators.gt: "__gt__",
    operators.ge: "__ge__",
}


def _attached(value: Any, instance: Any, key: str) -> None:
    """Tell a composite value that it is now attribute ``key`` of ``instance`` (what lets
    ``MutableComposite`` values report in-place changes)."""
    hook = getattr(value, "_sa_attach_parent", None)
    if hook is not None:
        hook(instance, key)


def _fields(composite_class: type) -> tuple[list[str], list[Any]]:
    """The names and annotations of the values ``composite_class`` is built from: its
    dataclass fields, else its constructor's positional parameters."""
    if dataclasses.is_dataclass(composite_class):
        try:
            hints = typing.get_type_hints(composite_class)
        except Exception:
            hints = {}
        fields = [f for f in dataclasses.fields(composite_class) if f.init]
        return [f.name for f in fields], [hints.get(f.name, f.type) for f in fields]
    try:
        signature = inspect.signature(composite_class)
    except (TypeError, ValueError):
        return [], []
    params = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) != len(signature.parameters):
        return [], []
    try:
        hints = typing.get_type_hints(vars(composite_class).get("__init__"))
    except Exception:
        hints = {}
    return [p.name for p in params], [
        hints.get(p.name) if p.annotation is not p.empty else None for p in params
    ]


class CompositeAttribute(QueryableAttribute[Any]):
    """The class-level descriptor of a composite attribute: a comparator at class level, the
    composite value on instances."""

    prop: CompositeProperty

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        return self.prop._get(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        self.prop._set(instance, value)

    def __delete__(self, instance: Any) -> None:
        self.prop._set(instance, None)

    @property
    def _select_column_element(self) -> Callable[[], ClauseElement]:  # type: ignore[override]
        # select(Vertex.start) selects the columns as one composite value per row; elsewhere
        # (ORDER BY, GROUP BY) the attribute is its list of columns.
        # An inheriting class's composite selects its columns marked with the class, as
        # its column attributes do: select(SingleSub.point) keeps to that class's rows.
        prop = self.prop
        parent = prop.parent
        columns = prop._columns()
        if parent._marks_select_columns:
            columns = tuple(parent._subclass_column(c) for c in columns)
        return lambda: CompositeBundle(prop, columns)

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        return self.prop._comparator_operate(self, op, *other, **kwargs)

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        return self.prop._comparator_operate(self, operators.eq, other)

    __hash__ = QueryableAttribute.__hash__

    def _bulk_update_tuples(self, value: Any) -> list[tuple[Any, Any]]:
        """The (column, value) pairs ``update(...).values({this: value})`` sets."""
        props = self.prop.parent._props
        return [
            (props[key].columns[0], item)  # type: ignore[attr-defined]
            for key, item in self.prop._bulk_values(value)
        ]


class CompositeBundle(Bundle):
    """What ``select(Vertex.start)`` selects: the composite's columns, returned as one
    composite object per row."""

    def __init__(self, prop: CompositeProperty, columns: Sequence[ColumnElement]) -> None:
        super().__init__(prop.key, *columns)
        self.prop = prop

    @property
    def clauses(self) -> tuple[ColumnElement, ...]:
        return tuple(self.c)

    def _ck(self, ctx: KeyContext) -> Hashable:
        return ("COMPOSITE", id(self.prop), self.name, tuple(e._ck(ctx) for e in self.exprs))

    def create_row_processor(
        self, query: Any, procs: Sequence[RowProcessor], labels: Sequence[str]
    ) -> RowProcessor:
        make = self.prop.composite_class

        def proc(row: Sequence[Any]) -> Any:
            return make(*[p(row) for p in procs])

        return proc


Composite = CompositeProperty


def composite(
    _class_or_attr: Any = None,
    *attrs: Any,
    group: str | None = None,
    deferred: bool = False,
    raiseload: bool = False,
    comparator_factory: Callable[..., Any] | None = None,
    active_history: bool = False,
    info: dict[Any, Any] | None = None,
    doc: str | None = None,
    **kw: Any,
) -> Any:
    """A mapped attribute whose value is one object made from several columns.

    ``composite(Point, "x1", "y1")``, ``composite(Point, Vertex.x1_column, ...)`` or, with a
    ``Mapped[Point]`` annotation, ``composite(mapped_column("x1"), mapped_column("y1"))``
    (the columns' types then come from the dataclass fields).  The class is built with the
    column values positionally and gives them back through ``__composite_values__()`` (a
    dataclass needs neither).
    """
    for name in ("init", "repr", "default", "default_factory", "compare", "kw_only", "hash"):
        kw.pop(name, None)
    if kw:
        raise TypeError(f"composite() got unexpected keyword arguments {sorted(kw)}")
    return CompositeProperty(
        _class_or_attr,
        *attrs,
        comparator_factory=comparator_factory,
        deferred=deferred,
        group=group,
        raiseload=raiseload,
        active_history=active_history,
        info=info,
        doc=doc,
    )


__all__ = ["Composite", "CompositeAttribute", "CompositeProperty", "composite"]
