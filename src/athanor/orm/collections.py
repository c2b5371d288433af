"""Collections of related objects that report appends and removals to their attribute.

A relationship collection is a real ``list``/``set``/``dict`` subclass, so it behaves as users
expect; every mutating method tells the attribute implementation first, which records the
collection's loaded contents (for history and the flush), runs validators and events, keeps
the other side of the relationship in step and cascades new members into the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, SupportsIndex

from athanor.orm.base import OP_APPEND, OP_REMOVE

if TYPE_CHECKING:
    from athanor.orm.attributes import AttributeImpl, CollectionAttributeImpl
    from athanor.orm.state import InstanceState


class _Adapter:
    """What every instrumented collection shares (state and attribute of its owner)."""

    __slots__ = ()
    _sa_state: InstanceState
    _sa_impl: CollectionAttributeImpl

    def _sa_items(self) -> Iterable[Any]:
        return self  # type: ignore[return-value]

    def _sa_contains(self, item: Any) -> bool:
        return any(x is item for x in self._sa_items())

    def _sa_before(self) -> None:
        self._sa_impl._before_change(self._sa_state, self)

    def _sa_added(
        self, item: Any, initiator: AttributeImpl | None = None, op: Any = OP_APPEND
    ) -> Any:
        return self._sa_impl.fire_append(self._sa_state, item, initiator, op)

    def _sa_removed(
        self, item: Any, initiator: AttributeImpl | None = None, op: Any = OP_REMOVE
    ) -> None:
        self._sa_impl.fire_remove(self._sa_state, item, initiator, op)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        raise NotImplementedError


class InstrumentedList(_Adapter, list[Any]):
    """A list-valued relationship collection."""

    __slots__ = ("_sa_impl", "_sa_state")

    def _sa_append(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_APPEND) -> None:
        self._sa_before()
        item = self._sa_added(item, initiator, op)
        list.append(self, item)

    def _sa_remove(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_REMOVE) -> None:
        for index, existing in enumerate(self):
            if existing is item:
                self._sa_before()
                list.__delitem__(self, index)
                self._sa_removed(item, initiator, op)
                return

    def _sa_append_loaded(self, item: Any) -> None:
        list.append(self, item)

    def _sa_fill(self, items: Iterable[Any]) -> None:
        list.extend(self, items)

    def append(self, item: Any) -> None:
        self._sa_append(item, None)

    def extend(self, items: Iterable[Any]) -> None:
        for item in list(items):
            self._sa_append(item, None)

    def __iadd__(self, items: Iterable[Any]) -> InstrumentedList:  # type: ignore[misc]
        self.extend(items)
        return self

    def insert(self, index: SupportsIndex, item: Any) -> None:
        self._sa_before()
        item = self._sa_added(item)
        list.insert(self, index, item)

    def remove(self, item: Any) -> None:
        self._sa_before()
        list.remove(self, item)
        self._sa_removed(item)

    def pop(self, index: SupportsIndex = -1) -> Any:
        self._sa_before()
        item = list.pop(self, index)
        self._sa_removed(item)
        return item

    def clear(self) -> None:
        self._sa_before()
        items = list(self)
        list.clear(self)
        for item in items:
            self._sa_removed(item)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._sa_before()
        if isinstance(index, slice):
            old = list.__getitem__(self, index)
            new = [self._sa_added(v) for v in value]
            list.__setitem__(self, index, new)
            for item in old:
                self._sa_removed(item)
        else:
            old_item = list.__getitem__(self, index)
            value = self._sa_added(value)
            list.__setitem__(self, index, value)
            self._sa_removed(old_item)

    def __delitem__(self, index: Any) -> None:
        self._sa_before()
        old = list.__getitem__(self, index)
        list.__delitem__(self, index)
        for item in old if isinstance(index, slice) else [old]:
            self._sa_removed(item)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)


class InstrumentedSet(_Adapter, set[Any]):
    """A set-valued relationship collection."""

    __slots__ = ("_sa_impl", "_sa_state")

    def _sa_contains(self, item: Any) -> bool:
        return set.__contains__(self, item)

    def _sa_append(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_APPEND) -> None:
        self._sa_before()
        set.add(self, self._sa_added(item, initiator, op))

    def _sa_remove(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_REMOVE) -> None:
        if set.__contains__(self, item):
            self._sa_before()
            set.discard(self, item)
            self._sa_removed(item, initiator, op)

    def _sa_append_loaded(self, item: Any) -> None:
        set.add(self, item)

    def _sa_fill(self, items: Iterable[Any]) -> None:
        set.update(self, items)

    def add(self, item: Any) -> None:
        if not set.__contains__(self, item):
            self._sa_append(item, None)

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for item in list(other):
                self.add(item)

    def __ior__(self, other: Any) -> InstrumentedSet:  # type: ignore[misc]
        self.update(other)
        return self

    def discard(self, item: Any) -> None:
        self._sa_remove(item, None)

    def remove(self, item: Any) -> None:
        if not set.__contains__(self, item):
            raise KeyError(item)
        self._sa_remove(item, None)

    def pop(self) -> Any:
        self._sa_before()
        item = set.pop(self)
        self._sa_removed(item)
        return item

    def clear(self) -> None:
        for item in list(self):
            self._sa_remove(item, None)

    def difference_update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for item in list(other):
                self.discard(item)

    def __isub__(self, other: Any) -> InstrumentedSet:  # type: ignore[misc]
        self.difference_update(other)
        return self

    def intersection_update(self, *others: Iterable[Any]) -> None:
        keep = set(self).intersection(*others)
        for item in list(self):
            if item not in keep:
                self.discard(item)

    def __iand__(self, other: Any) -> InstrumentedSet:  # type: ignore[misc]
        self.intersection_update(other)
        return self

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        for item in list(other):
            if set.__contains__(self, item):
                self.discard(item)
            else:
                self.add(item)

    def __ixor__(self, other: Any) -> InstrumentedSet:  # type: ignore[misc]
        self.symmetric_difference_update(other)
        return self

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (set, (set(self),))


class KeyFuncDict(_Adapter, dict[Any, Any]):
    """A dict-valued relationship collection keyed by a function of each member."""

    __slots__ = ("_sa_impl", "_sa_state", "keyfunc")

    def __init__(self, keyfunc: Callable[[Any], Any], *args: Any, **kw: Any) -> None:
        self.keyfunc = keyfunc
        dict.__init__(self, *args, **kw)

    def _sa_items(self) -> Iterable[Any]:
        return list(dict.values(self))

    def _sa_append(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_APPEND) -> None:
        self._sa_before()
        item = self._sa_added(item, initiator, op)
        dict.__setitem__(self, self.keyfunc(item), item)

    def _sa_remove(self, item: Any, initiator: AttributeImpl | None, op: Any = OP_REMOVE) -> None:
        for key, value in list(dict.items(self)):
            if value is item:
                self._sa_before()
                dict.__delitem__(self, key)
                self._sa_removed(item, initiator, op)
                return

    def _sa_append_loaded(self, item: Any) -> None:
        dict.__setitem__(self, self.keyfunc(item), item)

    def _sa_fill(self, items: Iterable[Any]) -> None:
        for item in items:
            dict.__setitem__(self, self.keyfunc(item), item)

    def set(self, value: Any) -> None:
        """Add ``value`` under its computed key."""
        self[self.keyfunc(value)] = value

    def remove(self, value: Any) -> None:
        """Remove ``value`` (looked up by its computed key)."""
        key = self.keyfunc(value)
        if dict.get(self, key) is not value:
            raise ValueError(f"{value!r} is not in this collection under key {key!r}")
        del self[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._sa_before()
        old = dict.get(self, key)
        if old is value:
            return
        value = self._sa_added(value)
        dict.__setitem__(self, key, value)
        if old is not None:
            self._sa_removed(old)

    def __delitem__(self, key: Any) -> None:
        self._sa_before()
        old = dict.__getitem__(self, key)
        dict.__delitem__(self, key)
        self._sa_removed(old)

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = dict.__getitem__(self, key)
        del self[key]
        return value

    def popitem(self) -> tuple[Any, Any]:
        key = next(iter(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            del self[key]

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kw: Any) -> None:
        for key, value in dict(*args, **kw).items():
            self[key] = value

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (dict, (dict(self),))


def attribute_keyed_dict(
    attr_name: str, *, ignore_unpopulated_attribute: bool = False
) -> Callable[[], KeyFuncDict]:
    """A ``collection_class`` for dicts keyed by each member's attribute ``attr_name``."""

    def keyfunc(obj: Any) -> Any:
        return getattr(obj, attr_name)

    factory = keyed_dict(keyfunc)
    # The key's attribute, for whoever builds members from a key (association proxies).
    factory._sa_key_attr = attr_name  # type: ignore[attr-defined]
    return factory


def column_keyed_dict(column: Any, *, ignore_unpopulated_attribute: bool = False) -> Any:
    """A ``collection_class`` for dicts keyed by each member's value of ``column``."""
    return attribute_keyed_dict(column.key)


def keyfunc_mapping(keyfunc: Callable[[Any], Any], **kw: Any) -> Callable[[], KeyFuncDict]:
    """A ``collection_class`` for dicts keyed by ``keyfunc(member)``."""
    return keyed_dict(keyfunc)


def keyed_dict(keyfunc: Callable[[Any], Any]) -> Callable[[], KeyFuncDict]:
    def factory() -> KeyFuncDict:
        return KeyFuncDict(keyfunc)

    factory._sa_keyed = True  # type: ignore[attr-defined]
    return factory


attribute_mapped_collection = attribute_keyed_dict
column_mapped_collection = column_keyed_dict
mapped_collection = keyfunc_mapping

_subclass_cache: dict[type, type] = {}


def collection_factory(collection_class: Any) -> Callable[[], Any]:
    """A factory of empty instrumented collections for a relationship's ``collection_class``."""
    if collection_class is None or collection_class is list:
        return InstrumentedList
    if collection_class is set:
        return InstrumentedSet
    if getattr(collection_class, "_sa_keyed", False):
        keyed: Callable[[], Any] = collection_class
        return keyed
    if isinstance(collection_class, type):
        for base, instrumented in ((list, InstrumentedList), (set, InstrumentedSet)):
            if issubclass(collection_class, instrumented):
                same: Callable[[], Any] = collection_class
                return same
            if issubclass(collection_class, base):
                found = _subclass_cache.get(collection_class)
                if found is None:
                    # The class's own methods first: an overridden append() runs, and its
                    # super().append() reports the change.
                    found = type(
                        f"Instrumented{collection_class.__name__}",
                        (collection_class, instrumented),
                        {"__slots__": ()},
                    )
                    _subclass_cache[collection_class] = found
                return found
    from athanor import exc

    raise exc.ArgumentError(
        f"Unsupported collection_class {collection_class!r}; use list, set, a list or set "
        "subclass, or attribute_keyed_dict(...)"
    )


class CollectionAdapter:
    """The ORM's side of an instrumented collection (what ``init_collection`` and
    ``dispose_collection`` listeners get, and :func:`collection_adapter` gives): the
    collection itself (``data``), its attribute and owner, and changes made with the
    attribute's events or without them."""

    __slots__ = ("data",)

    def __init__(self, collection: Any) -> None:
        self.data = collection

    @property
    def attr(self) -> CollectionAttributeImpl:
        """The attribute implementation the collection belongs to."""
        impl: CollectionAttributeImpl = self.data._sa_impl
        return impl

    @property
    def owner_state(self) -> InstanceState:
        """The state of the object owning the collection."""
        state: InstanceState = self.data._sa_state
        return state

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data._sa_items())

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return True

    def append_with_event(self, item: Any, initiator: AttributeImpl | None = None) -> None:
        """Add ``item`` as the collection's own append would (history, events, backref)."""
        self.data._sa_append(item, initiator)

    def append_without_event(self, item: Any) -> None:
        """Add ``item`` as loaded from the database: no history, no events."""
        self.data._sa_append_loaded(item)

    def remove_with_event(self, item: Any, initiator: AttributeImpl | None = None) -> None:
        """Take ``item`` out as the collection's own remove would."""
        self.data._sa_remove(item, initiator)


def collection_adapter(collection: Any) -> CollectionAdapter | None:
    """The :class:`CollectionAdapter` of an instrumented collection, else None."""
    if not isinstance(collection, _Adapter):
        return None
    return CollectionAdapter(collection)


def adapt_collection(
    impl: CollectionAttributeImpl, state: InstanceState, items: Iterable[Any]
) -> Any:
    """A new instrumented collection owned by ``state`` holding ``items`` (no events)."""
    collection = impl.factory()
    collection._sa_impl = impl
    collection._sa_state = state
    collection._sa_fill(items)
    return collection


def _iter(collection: Any) -> Iterator[Any]:
    return iter(collection._sa_items())
