"""Instrumented attributes: the class-level descriptors of mapped classes.

``User.name`` is an :class:`InstrumentedAttribute`: at class level a SQL expression
(``User.name == "x"``), on instances a data descriptor whose read is one ``__dict__`` lookup
when the value is loaded.  Writes go through an *impl* that records the committed value (for
history and the flush), keeps both sides of a relationship in step (back_populates/backref)
and cascades new related objects into the owner's session.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from athanor import exc as sa_exc
from athanor.event.registry import EventTarget
from athanor.orm.base import (
    NO_VALUE,
    OP_APPEND,
    OP_BULK_REPLACE,
    OP_MODIFIED,
    OP_REMOVE,
    OP_REPLACE,
    STATE_KEY,
    _sessions,
    instance_state,
    state_str,
)
from athanor.orm.collections import CollectionAdapter, adapt_collection
from athanor.orm.events import ATTRIBUTE_EVENTS, adapt_attribute_listener
from athanor.orm.state import HISTORY_BLANK, History, InstanceState
from athanor.sql import operators
from athanor.sql.elements import ClauseElement, ColumnElement, ColumnOperators, Label

if TYPE_CHECKING:
    from athanor.orm.interfaces import MapperProperty
    from athanor.orm.mapper import Mapper
    from athanor.orm.relationships import RelationshipProperty

_T = TypeVar("_T")


class QueryableAttribute(ColumnOperators, Generic[_T]):
    """A mapped attribute at class level: usable in SQL expressions and as a select() entity."""

    is_attribute = True

    _select_column_element: Callable[[], ClauseElement] | None = None
    """What ``select(Class.attr)`` selects instead of the bare column, when it differs: set
    on the column attributes of inheriting classes (and of a class read through a polymorphic
    union) so that the query reads that class's rows only; see ``Mapper._mark_select_columns``.
    Expressions built from the attribute (``Manager.id + 1``, ``Manager.name == "x"``) use it
    too, so they restrict the rows the same way."""

    def __init__(
        self, class_: type, key: str, prop: MapperProperty, impl: AttributeImpl | None
    ) -> None:
        self.class_ = class_
        self.key = key
        self.prop = prop
        self.impl = impl

    __hash__ = object.__hash__

    @property
    def parent(self) -> Mapper:
        """The mapper of the class this attribute belongs to."""
        return self.prop.parent

    @property
    def mapper(self) -> Mapper:
        """For a relationship, the mapper of the related class."""
        mapper: Mapper = self.prop.mapper  # type: ignore[attr-defined]
        return mapper

    @property
    def info(self) -> dict[Any, Any]:
        return self.prop.info

    @property
    def expression(self) -> ColumnElement:
        """The SQL expression of this attribute."""
        element = self.__clause_element__()
        assert isinstance(element, ColumnElement)
        return element

    def __clause_element__(self) -> ClauseElement:
        return self.prop._clause_element(self)

    def _describe(self) -> dict[str, Any]:
        """This attribute's entry in ``select(...).column_descriptions``."""
        return {
            "name": self.key,
            "type": getattr(self.__clause_element__(), "type", None),
            "aliased": False,
            "expr": self,
            "entity": self.class_,
        }

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        marked = self._select_column_element
        if marked is not None:
            return marked().operate(op, *other, **kwargs)  # type: ignore[attr-defined, no-any-return]
        return self.prop._comparator_operate(self, op, *other, **kwargs)

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        # The most common criterion (``User.id == 5``), without operate()'s calls: a subclass's
        # attribute compares as its marked column, any other column attribute as its column
        # (what ColumnProperty._comparator_operate does).
        marked = self._select_column_element
        if marked is not None:
            return marked().operate(operators.eq, other)  # type: ignore[attr-defined, no-any-return]
        prop = self.prop
        if prop.is_column:
            result: ColumnElement = prop.columns[0] == other  # type: ignore[attr-defined]
            return result
        return prop._comparator_operate(self, operators.eq, other)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        return self._operand().reverse_operate(op, other, **kwargs)

    @property
    def _selected_name(self) -> str | None:
        """The name ``select(Class.attr)`` gives an attribute mapped to a SQL expression
        (a ``column_property``) or to a column of another name (``mapped_column("db_name")``):
        its key; None for the rest, named as their column."""
        if self._select_column_element is None and getattr(self.prop, "is_expression", False):
            return self.key
        if getattr(self.prop, "is_column", False) and self.prop.columns[0].key != self.key:  # type: ignore[attr-defined]
            return self.key
        return None

    def _operand(self) -> ColumnElement:
        """This attribute inside an expression: its column, marked with its class where
        selecting it would be (see ``_select_column_element``)."""
        marked = self._select_column_element
        element = self.expression if marked is None else marked()
        assert isinstance(element, ColumnElement)
        return element

    def label(self, name: str | None) -> Label:
        """``attribute AS name`` (selected as ``select(Class.attr)`` selects it)."""
        return self._operand().label(name)

    def cast(self, type_: Any) -> ColumnElement:
        return self._operand().cast(type_)

    def _orm_join_target(self, target: Any = None) -> list[tuple[Any, Any]] | None:
        """For a relationship, the joins (target, ON clause) ``select(...).join(this)`` makes."""
        if not getattr(self.prop, "is_relationship", False):
            return None
        from athanor.orm.aliased import relationship_joins

        return relationship_joins(self.prop, None, target)  # type: ignore[arg-type]

    def _orm_join_source(self) -> Any:
        """For a relationship, the FROM object a join along it starts from (its parent)."""
        if not getattr(self.prop, "is_relationship", False):
            return None
        return self.prop.parent._entity

    def contains(self, other: Any, **kw: Any) -> ColumnElement:
        """For a collection, whether it holds the object ``other``; for a column, LIKE."""
        if getattr(self.prop, "is_relationship", False):
            contained: ColumnElement = self.prop._comparator_for(self).contains(other)
            return contained
        return super().contains(other, **kw)

    def and_(self, *criteria: Any) -> Any:
        """This relationship with ``criteria`` on its target, for the ON clause of a join
        (``join(User.posts.and_(Post.title != ""))``) or what a loader option loads."""
        return self.of_type(None).and_(*criteria)

    def of_type(self, entity: Any) -> Any:
        """This relationship joining to ``entity`` (an ``aliased()`` class) instead."""
        from athanor.orm.aliased import RelationshipPath

        return RelationshipPath(self.prop, None, entity)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        comparator = self.prop._comparator_for(self)
        if comparator is not None and hasattr(comparator, name):
            return getattr(comparator, name)
        raise AttributeError(
            f"Neither {type(self).__name__!r} object nor its comparator for "
            f"{self.class_.__name__}.{self.key} has an attribute {name!r}"
        )

    def __repr__(self) -> str:
        return f"{self.class_.__name__}.{self.key}"

    def __str__(self) -> str:
        return f"{self.class_.__name__}.{self.key}"

    @property
    def property(self) -> MapperProperty:
        """The MapperProperty (ColumnProperty, RelationshipProperty ...) behind this attribute."""
        return self.prop


class InstrumentedAttribute(QueryableAttribute[_T], EventTarget):
    """The descriptor placed on a mapped class for every mapped attribute."""

    _event_signatures = ATTRIBUTE_EVENTS

    def __init__(
        self, class_: type, key: str, prop: MapperProperty, impl: AttributeImpl | None
    ) -> None:
        super().__init__(class_, key, prop, impl)
        self._init_dispatch()
        if impl is not None:
            impl.dispatch = self.dispatch

    _listen_options = frozenset({"active_history"})

    @classmethod
    def _adapt_listener(cls, identifier: str, fn: Any, retval: bool) -> Any:
        return adapt_attribute_listener(identifier, fn, retval)

    def _apply_listen_options(self, options: dict[str, Any]) -> None:
        """``active_history=True``: a listener wants the old value, loaded if need be."""
        if options.get("active_history") and self.impl is not None:
            self.impl.active_history = True

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        dict_ = instance.__dict__
        try:
            return dict_[self.key]
        except KeyError:
            assert self.impl is not None
            return self.impl.get_missing(instance, dict_)

    def __set__(self, instance: Any, value: Any) -> None:
        assert self.impl is not None
        self.impl.set(instance, value, None)

    def __delete__(self, instance: Any) -> None:
        assert self.impl is not None
        self.impl.delete(instance)


# --- implementations ----------------------------------------------------------------------------


class _NoDispatch:
    """The dispatch of an attribute nobody can listen to: every event has no listeners."""

    def __getattr__(self, name: str) -> tuple[()]:
        return ()


_NO_DISPATCH = _NoDispatch()


class Validator:
    """A ``@validates`` method as attributes run it: on each value set or appended (and,
    with ``include_removes``, each one removed, with ``is_remove``); changes a backref makes
    count unless ``include_backrefs=False``."""

    __slots__ = ("backrefs", "fn", "removes")

    def __init__(self, fn: Callable[..., Any], removes: bool = False, backrefs: bool = True):
        self.fn = fn
        self.removes = removes
        self.backrefs = backrefs

    def __call__(self, instance: Any, key: str, value: Any, initiator: Any = None) -> Any:
        if initiator is not None and not self.backrefs:
            return value
        if self.removes:
            return self.fn(instance, key, value, False)
        return self.fn(instance, key, value)

    def removed(self, instance: Any, key: str, value: Any, initiator: Any = None) -> None:
        if self.removes and (initiator is None or self.backrefs):
            self.fn(instance, key, value, True)


class AttributeEventToken:
    """The ``initiator`` attribute listeners are given: the attribute whose operation set
    off the event (``impl``, ``key``) and that operation (``op``: ``OP_APPEND``,
    ``OP_REMOVE``, ``OP_REPLACE``, ``OP_BULK_REPLACE`` or ``OP_MODIFIED``).  A change a
    backref makes names the attribute at the other end, so a listener can tell the two
    apart."""

    __slots__ = ("impl", "op")

    def __init__(self, impl: AttributeImpl, op: Any) -> None:
        self.impl = impl
        self.op = op

    @property
    def key(self) -> str:
        """The name of the attribute the operation was on."""
        return self.impl.key

    @property
    def parent_token(self) -> AttributeImpl:
        """The attribute the operation was on (the same for each token of it)."""
        return self.impl

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AttributeEventToken)
            and other.impl is self.impl
            and other.op is self.op
        )

    def __hash__(self) -> int:
        return hash((id(self.impl), self.op))

    def __repr__(self) -> str:
        return f"<AttributeEventToken {self.impl.key} {self.op!r}>"


Event = AttributeEventToken


def _event_token(
    impl: AttributeImpl, initiator: AttributeImpl | None, op: Any, backref_op: Any
) -> AttributeEventToken:
    """The ``initiator`` listeners of ``impl`` get for ``op``: ``impl``'s own operation, or
    (``initiator``, a backref's other end) the collection operation that set it off
    (``backref_op``) or the scalar one (a replace)."""
    if initiator is None:
        return AttributeEventToken(impl, op)
    return AttributeEventToken(initiator, backref_op if initiator.collection else OP_REPLACE)


class AttributeImpl:
    """How one mapped attribute reads, writes and tracks history."""

    collection = False
    uses_objects = False

    def __init__(self, key: str, prop: MapperProperty) -> None:
        self.key = key
        self.prop = prop
        self.validator: Validator | None = None
        self.dispatch: Any = _NO_DISPATCH
        self.active_history: bool = bool(getattr(prop, "active_history", False))
        """Whether setting the attribute of a persistent object loads its old value first
        (for its history and the ``set`` event) when it is not loaded."""

    def _fire(self, name: str, state: InstanceState, value: Any, *extra: Any) -> Any:
        for fn in getattr(self.dispatch, name):
            value = fn(state.object, value, *extra)
        return value

    def get_missing(self, instance: Any, dict_: dict[str, Any]) -> Any:
        raise NotImplementedError

    def set(self, instance: Any, value: Any, initiator: AttributeImpl | None) -> None:
        raise NotImplementedError

    def delete(self, instance: Any) -> None:
        self.set(instance, None, None)

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        raise NotImplementedError


class ScalarAttributeImpl(AttributeImpl):
    """A column-backed attribute."""

    def get_missing(self, instance: Any, dict_: dict[str, Any]) -> Any:
        state: InstanceState | None = dict_.get(STATE_KEY)
        if state is None or state.key is None:
            if self.dispatch.init_scalar:
                return self._fire("init_scalar", instance_state(instance), None, dict_)
            return None
        from athanor.orm.loading import load_scalar_attributes

        load_scalar_attributes(state, instance, self.key)
        return dict_.get(self.key)

    def set(self, instance: Any, value: Any, initiator: AttributeImpl | None) -> None:
        dict_ = instance.__dict__
        state = dict_.get(STATE_KEY)
        if state is None:
            state = instance_state(instance)
        if self.validator is not None:
            value = self.validator(instance, self.key, value)
        old = dict_.get(self.key, NO_VALUE)
        if old is NO_VALUE and self.active_history and state.key is not None:
            old = self.get_missing(instance, dict_)
        if self.dispatch.set:
            token = _event_token(self, initiator, OP_REPLACE, OP_REPLACE)
            value = self._fire("set", state, value, old, token)
        if self.key not in state.committed_state:
            state._own_committed()[self.key] = old
        dict_[self.key] = value
        if not state.modified:
            state._modified_event(instance)

    def delete(self, instance: Any) -> None:
        dict_ = instance.__dict__
        state = instance_state(instance)
        if self.key not in dict_ and state.key is None:
            raise AttributeError(self.key)
        old = dict_.pop(self.key, NO_VALUE)
        if self.key not in state.committed_state:
            state._own_committed()[self.key] = old
        dict_[self.key] = None
        state._modified_event(instance)

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        current = dict_.get(self.key, NO_VALUE)
        original = state.committed_state.get(self.key, NO_VALUE)
        if self.key not in state.committed_state:
            return HISTORY_BLANK if current is NO_VALUE else History((), [current], ())
        if current is NO_VALUE:
            return History((), (), () if original is NO_VALUE else [original])
        if original is not NO_VALUE and _same(original, current):
            return History((), [current], ())
        return History([current], (), () if original in (NO_VALUE, None) else [original])


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False


class _SingleParents:
    """For a ``single_parent=True`` relationship: the parent each related object was last
    given through it.  An object counts as taken while that parent still holds it, so
    expiring or replacing the parent's value frees it, and also once that parent is garbage
    collected without having let it go; objects loaded from the database are not recorded
    (their parents are not known without a query)."""

    __slots__ = ("_impl", "_parent_of")

    def __init__(self, impl: _RelationshipImpl) -> None:
        self._impl = impl
        self._parent_of: dict[int, tuple[weakref.ref[Any], weakref.ref[Any]]] = {}

    def claim(self, parent: Any, child: Any, initiator: AttributeImpl | None) -> None:
        """Record ``parent`` as ``child``'s parent; a direct assignment (not one mirrored from
        the other side of the link) of an object another parent holds is refused."""
        key = id(child)
        entry = self._parent_of.get(key)
        if initiator is None and entry is not None and entry[0]() is child:
            owner = entry[1]()
            impl = self._impl
            if owner is None or impl._holds(owner, child):
                if owner is None:
                    holder = (
                        f"an earlier {impl.prop.parent.class_.__name__}, since garbage collected"
                    )
                    fix = "give this parent a new object"
                else:
                    holder = state_str(instance_state(owner))
                    fix = "take it away from that parent first (or give this parent a new object)"
                raise sa_exc.InvalidRequestError(
                    f"{state_str(instance_state(child))} already belongs to {holder}, through "
                    f"{impl.prop}, which is single_parent=True: {fix}"
                )
        parent_of = self._parent_of

        def forget(ref: weakref.ref[Any]) -> None:
            if parent_of.get(key, (None,))[0] is ref:
                del parent_of[key]

        parent_of[key] = (weakref.ref(child, forget), weakref.ref(parent))

    def release(self, parent: Any, child: Any) -> None:
        """``parent`` no longer holds ``child``."""
        entry = self._parent_of.get(id(child))
        if entry is not None and entry[0]() is child and entry[1]() is parent:
            del self._parent_of[id(child)]


class _RelationshipImpl(AttributeImpl):
    uses_objects = True
    prop: RelationshipProperty

    def __init__(self, key: str, prop: MapperProperty) -> None:
        super().__init__(key, prop)
        self.single_parents = _SingleParents(self) if self.prop.single_parent else None

    _early_listeners: frozenset[Any] = frozenset()
    """The append/remove/set listeners registered before the relationship was configured:
    they run before the other side is updated (the backref), later ones after it, the order
    SQLAlchemy's backref handler, itself a listener registered at configuration, gives."""

    def _holds(self, parent: Any, child: Any) -> bool:
        """Whether ``parent``'s loaded value of this attribute is or contains ``child``."""
        raise NotImplementedError

    def _fire_part(
        self, name: str, state: InstanceState, value: Any, early: bool, *extra: Any
    ) -> Any:
        """Fire the listeners of ``name`` registered before the relationship was configured
        (``early``) or those registered since (see ``_early_listeners``)."""
        registered_early = self._early_listeners
        obj = state.object
        for fn in getattr(self.dispatch, name):
            if (fn in registered_early) is early:
                value = fn(obj, value, *extra)
        return value

    @property
    def reverse(self) -> Any:
        """The other side's attribute, which changes here are mirrored into (None: no other
        side, or it does not take them: ``sync_backref=False``, or a viewonly side)."""
        reverse = self.prop._reverse_property
        return None if reverse is None or not reverse.sync_backref else reverse.impl

    def _cascade_into_session(self, state: InstanceState, value: Any) -> None:
        if state.session_id is None or "save-update" not in self.prop.cascade:
            return
        session = _sessions.get(state.session_id)
        if session is not None:
            session._save_or_update_cascade(value)


class ScalarObjectAttributeImpl(_RelationshipImpl):
    """A many-to-one or one-to-one relationship holding one object or None."""

    def get_missing(self, instance: Any, dict_: dict[str, Any]) -> Any:
        state = instance_state(instance)
        if state.key is None:
            return self.prop._load_pending_scalar(state, instance)
        value = self.prop._lazy_load(state, instance)
        dict_[self.key] = value
        return value

    def set(
        self, instance: Any, value: Any, initiator: AttributeImpl | None, op: Any = None
    ) -> None:
        """Store ``value``; ``op`` is what ``initiator`` (a backref's other end) did, when the
        change comes from there."""
        dict_ = instance.__dict__
        state = instance_state(instance)
        if value is not None:
            instance_state(value)
        if self.validator is not None:
            value = self.validator(instance, self.key, value, initiator)
        old = dict_.get(self.key, NO_VALUE)
        if old is NO_VALUE and state.key is not None:
            old = self.prop._passive_current(state, instance)
            if old is NO_VALUE:
                old = self._load_replaced(state, instance)
        single_parents = self.single_parents
        if single_parents is not None and old is not value:
            if value is not None:
                single_parents.claim(instance, value, initiator)
            if old is not None and old is not NO_VALUE:
                single_parents.release(instance, old)
        listened = self.dispatch.set
        if listened:
            if op is None:
                op = OP_REMOVE if value is None else OP_APPEND
            token = _event_token(self, initiator, OP_REPLACE, op)
            value = self._fire_part("set", state, value, True, old, token)
        if self.key not in state.committed_state:
            state._own_committed()[self.key] = old
        dict_[self.key] = value
        state._modified_event(instance)
        if old is not value:
            reverse = self.reverse
            if reverse is not None:
                # Not back into the collection whose removal of the object this is.
                if (
                    old is not None
                    and old is not NO_VALUE
                    and (initiator is not reverse or op is not OP_REMOVE)
                ):
                    reverse.remove_backref(old, instance, self)
                if value is not None and initiator is not reverse:
                    reverse.append_backref(value, instance, self)
        if listened:
            # Listeners registered since configuration see the other side updated; a value
            # they return replaces the one stored (the other side keeps the first).
            value = dict_[self.key] = self._fire_part("set", state, value, False, old, token)
        if old is value:
            return
        if value is not None and initiator is None:
            self._cascade_into_session(state, value)

    def _load_replaced(self, state: InstanceState, instance: Any) -> Any:
        """The unloaded value a new one replaces, loaded (without autoflush) when the flush
        needs it: a one-to-one's old child loses its foreign key (or is deleted as an orphan),
        and ``active_history=True`` asks for it; NO_VALUE when it is not loaded."""
        prop = self.prop
        if not prop.loads_replaced:
            return NO_VALUE
        session = _sessions.get(state.session_id) if state.session_id is not None else None
        if session is None:
            return NO_VALUE
        with session.no_autoflush:
            return prop._lazy_load(state, instance)

    def _holds(self, parent: Any, child: Any) -> bool:
        return parent.__dict__.get(self.key) is child

    def append_backref(
        self, target: Any, value: Any, initiator: AttributeImpl, op: Any = OP_REPLACE
    ) -> None:
        """The other side (``initiator``, doing ``op``) took in ``target``: ``target``'s
        value becomes ``value``."""
        if target.__dict__.get(self.key, NO_VALUE) is not value:
            self.set(target, value, initiator, op)

    def remove_backref(
        self, target: Any, value: Any, initiator: AttributeImpl, op: Any = OP_REPLACE
    ) -> None:
        """The other side (``initiator``, doing ``op``) let go of ``target``: ``target``'s
        value, if still ``value``, becomes None."""
        current = target.__dict__.get(self.key, NO_VALUE)
        if current is NO_VALUE:
            current = self.prop._passive_current(instance_state(target), target)
        if current is value or current is NO_VALUE:
            self.set(target, None, initiator, op)

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        current = dict_.get(self.key, NO_VALUE)
        if self.key not in state.committed_state:
            if current is NO_VALUE:
                return HISTORY_BLANK
            return History((), [current], ())
        original = state.committed_state[self.key]
        if original is current:
            return History((), [current], ())
        return History(
            [current] if current is not NO_VALUE else (),
            (),
            [original] if original is not NO_VALUE and original is not None else (),
        )


class CollectionAttributeImpl(_RelationshipImpl):
    """A one-to-many or many-to-many relationship holding a collection."""

    collection = True

    def __init__(self, key: str, prop: MapperProperty, factory: Callable[[], Any]) -> None:
        super().__init__(key, prop)
        self.factory = factory

    def _adapt(self, state: InstanceState, items: Iterable[Any]) -> Any:
        collection = adapt_collection(self, state, items)
        if self.dispatch.init_collection:
            self._fire("init_collection", state, collection, CollectionAdapter(collection))
        return collection

    def get_missing(self, instance: Any, dict_: dict[str, Any]) -> Any:
        state = instance_state(instance)
        if state.key is None:
            collection = self._adapt(state, ())
            dict_[self.key] = collection
            return collection
        items = self.prop._lazy_load(state, instance)
        return self.set_committed(state, dict_, items)

    def set_committed(
        self, state: InstanceState, dict_: dict[str, Any], items: Iterable[Any]
    ) -> Any:
        """Store ``items`` as the loaded collection (no history), adding pending backref appends."""
        collection = self._adapt(state, items)
        dict_[self.key] = collection
        pending = state.pending_appends
        if pending and self.key in pending:
            for item in pending.pop(self.key):
                if not collection._sa_contains(item):
                    collection._sa_append_loaded(item)
        return collection

    def _holds(self, parent: Any, child: Any) -> bool:
        collection = parent.__dict__.get(self.key)
        return collection is not None and bool(collection._sa_contains(child))

    def current(self, instance: Any) -> Any:
        dict_ = instance.__dict__
        found = dict_.get(self.key, NO_VALUE)
        if found is NO_VALUE:
            found = self.get_missing(instance, dict_)
        return found

    def _before_change(self, state: InstanceState, collection: Any) -> None:
        if self.key not in state.committed_state:
            state._own_committed()[self.key] = list(collection._sa_items())
        if not state.modified:
            obj = state.object
            if obj is not None:
                state._modified_event(obj)

    def fire_append(
        self,
        state: InstanceState,
        item: Any,
        initiator: AttributeImpl | None,
        op: Any = OP_APPEND,
    ) -> Any:
        """Called by the collection before ``item`` is added; returns the item to add.
        ``op`` is the operation: an append, a bulk replace, or what ``initiator`` did."""
        if item is None:
            raise sa_exc.ArgumentError(
                f"Cannot add None to the collection {self.prop}; collections hold objects"
            )
        instance_state(item)
        obj = state.object
        if self.validator is not None:
            item = self.validator(obj, self.key, item, initiator)
        if self.single_parents is not None:
            self.single_parents.claim(obj, item, initiator)
        listened = self.dispatch.append
        if listened:
            token = _event_token(self, initiator, op, op)
            item = self._fire_part("append", state, item, True, token)
        reverse = self.reverse
        if reverse is not None and initiator is not reverse:
            reverse.append_backref(item, obj, self, op)
        if listened:
            item = self._fire_part("append", state, item, False, token)
        if initiator is None:
            self._cascade_into_session(state, item)
        return item

    def fire_remove(
        self,
        state: InstanceState,
        item: Any,
        initiator: AttributeImpl | None,
        op: Any = OP_REMOVE,
    ) -> None:
        """Called by the collection after ``item`` was removed (``op``: see fire_append)."""
        if self.validator is not None:
            self.validator.removed(state.object, self.key, item, initiator)
        if self.single_parents is not None:
            self.single_parents.release(state.object, item)
        listened = self.dispatch.remove
        if listened:
            token = _event_token(self, initiator, op, op)
            self._fire_part("remove", state, item, True, token)
        reverse = self.reverse
        if reverse is not None and initiator is not reverse:
            reverse.remove_backref(item, state.object, self, op)
        if listened:
            self._fire_part("remove", state, item, False, token)
        if self.prop.cascade.delete_orphan:
            item_state = instance_state(item)
            if item_state.key is None and item_state.session_id is not None:
                session = _sessions.get(item_state.session_id)
                if session is not None and item_state in session._new:
                    session.expunge(item)

    def set(self, instance: Any, value: Any, initiator: AttributeImpl | None) -> None:
        if value is None:
            raise sa_exc.ArgumentError(
                f"Cannot set the collection {self.prop} to None; assign an empty collection"
            )
        state = instance_state(instance)
        new_items = list(value.values()) if isinstance(value, dict) else list(value)
        if self.dispatch.bulk_replace:
            token = _event_token(self, initiator, OP_BULK_REPLACE, OP_BULK_REPLACE)
            for fn in self.dispatch.bulk_replace:
                fn(instance, new_items, token)  # listeners may change the list in place
        old = self.current(instance)
        old_items = list(old._sa_items())
        new_ids = {id(x) for x in new_items}
        old_ids = {id(x) for x in old_items}
        self._before_change(state, old)
        # The new collection is in place before the events fire, so that backrefs removing
        # an object from this side find it gone already; appended objects are what the
        # append listeners and validator return.
        collection = self._adapt(state, ())
        instance.__dict__[self.key] = collection
        collection._sa_fill(
            [
                item
                if id(item) in old_ids
                else self.fire_append(state, item, initiator, OP_BULK_REPLACE)
                for item in new_items
            ]
        )
        for item in old_items:
            if id(item) not in new_ids:
                self.fire_remove(state, item, initiator, OP_BULK_REPLACE)
        if self.dispatch.dispose_collection:
            self._fire("dispose_collection", state, old, CollectionAdapter(old))

    def delete(self, instance: Any) -> None:
        self.set(instance, [], None)

    def append_backref(
        self, target: Any, value: Any, initiator: AttributeImpl, op: Any = OP_REPLACE
    ) -> None:
        """The other side (``initiator``, doing ``op``) took in ``target``: ``value`` joins
        ``target``'s collection (queued when it is not loaded)."""
        dict_ = target.__dict__
        collection = dict_.get(self.key, NO_VALUE)
        state = instance_state(target)
        if collection is NO_VALUE:
            if state.key is None:
                collection = self.get_missing(target, dict_)
            else:
                pending = state.pending_appends
                if pending is None:
                    pending = state.pending_appends = {}
                pending.setdefault(self.key, []).append(value)
                state._modified_event(target)
                return
        if not collection._sa_contains(value):
            collection._sa_append(value, initiator, op)

    def remove_backref(
        self, target: Any, value: Any, initiator: AttributeImpl, op: Any = OP_REPLACE
    ) -> None:
        """The other side (``initiator``, doing ``op``) let go of ``target``: ``value``
        leaves ``target``'s collection."""
        dict_ = target.__dict__
        collection = dict_.get(self.key, NO_VALUE)
        if collection is NO_VALUE:
            pending = instance_state(target).pending_appends
            if pending and self.key in pending:
                pending[self.key] = [x for x in pending[self.key] if x is not value]
            return
        if collection._sa_contains(value):
            collection._sa_remove(value, initiator, op)

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        current = dict_.get(self.key, NO_VALUE)
        items = [] if current is NO_VALUE else list(current._sa_items())
        if self.key not in state.committed_state:
            return History([], items, []) if current is not NO_VALUE else HISTORY_BLANK
        original = state.committed_state[self.key]
        original = [] if original is NO_VALUE else original
        original_ids = {id(x) for x in original}
        current_ids = {id(x) for x in items}
        return History(
            [x for x in items if id(x) not in original_ids],
            [x for x in items if id(x) in original_ids],
            [x for x in original if id(x) not in current_ids],
        )


# --- public helpers -------------------------------------------------------------------------


def _impl(obj: Any, key: str) -> AttributeImpl:
    state = instance_state(obj)
    prop = state.mapper._props.get(key)
    impl = getattr(prop, "impl", None)
    if impl is None:
        raise sa_exc.InvalidRequestError(
            f"{type(obj).__name__} has no instrumented attribute {key!r}"
        )
    return impl  # type: ignore[no-any-return]


def attribute_history(obj: Any, key: str) -> History:
    """The :class:`History` of attribute ``key`` of ``obj`` (nothing is loaded)."""
    state = instance_state(obj)
    prop = state.mapper._props.get(key)
    if prop is not None and prop.is_composite:
        return prop.history(state, obj.__dict__)  # type: ignore[attr-defined, no-any-return]
    return _impl(obj, key).history(state, obj.__dict__)


def get_history(obj: Any, key: str, passive: Any = None) -> History:
    """The :class:`History` of attribute ``key`` of ``obj``."""
    return attribute_history(obj, key)


def set_committed_value(instance: Any, key: str, value: Any) -> None:
    """Set an attribute as if loaded from the database: no history, no events."""
    state = instance_state(instance)
    impl = _impl(instance, key)
    if isinstance(impl, CollectionAttributeImpl):
        impl.set_committed(state, instance.__dict__, value or ())
    else:
        instance.__dict__[key] = value
    if key in state.committed_state:
        state._own_committed().pop(key)


def flag_modified(instance: Any, key: str) -> None:
    """Mark attribute ``key`` changed so the next flush writes it (after in-place mutation)."""
    state = instance_state(instance)
    impl = _impl(instance, key)
    if key not in instance.__dict__:
        raise sa_exc.InvalidRequestError(
            f"Can't flag attribute {key!r} modified; it is not present in the object state"
        )
    if key not in state.committed_state:
        state._own_committed()[key] = (
            NO_VALUE if not impl.collection else list(instance.__dict__[key])
        )
    state._modified_event(instance)
    for fn in impl.dispatch.modified:
        fn(instance, AttributeEventToken(impl, OP_MODIFIED))


def flag_dirty(instance: Any) -> None:
    """Mark ``instance`` dirty so flush events see it, without changing any attribute."""
    instance_state(instance)._modified_event(instance)


def set_attribute(instance: Any, key: str, value: Any) -> None:
    """Set an attribute with the same bookkeeping as ``setattr``."""
    _impl(instance, key).set(instance, value, None)


def get_attribute(instance: Any, key: str) -> Any:
    """Read an attribute, loading it if needed."""
    return getattr(instance, key)


def del_attribute(instance: Any, key: str) -> None:
    """Delete an attribute's value (it becomes None and is written on flush)."""
    _impl(instance, key).delete(instance)


def init_collection(obj: Any, key: str) -> Any:
    """An empty collection installed as attribute ``key`` of ``obj``."""
    impl = _impl(obj, key)
    assert isinstance(impl, CollectionAttributeImpl)
    collection = impl._adapt(instance_state(obj), ())
    obj.__dict__[key] = collection
    return collection
