"""In-place change tracking for mutable attribute values (``athanor.ext.mutable``).

A plain ``dict`` in a JSON column does not tell its object when ``obj.data["k"] = v`` changes
it, so the flush would not write it.  ``Column(MutableDict.as_mutable(JSON))`` (or
``mapped_column(MutableDict.as_mutable(JSON))``) makes every value of such columns a
:class:`MutableDict`: assigned and loaded dicts are converted, and each change marks the
owning objects modified.  :class:`MutableList` and :class:`MutableSet` do the same for lists
and sets; only changes to the container itself are seen, not to values nested inside it.
:class:`MutableComposite` does it for the values of ``composite()`` attributes.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any, SupportsIndex, TypeVar

from athanor import event
from athanor.orm.attributes import InstrumentedAttribute, flag_modified
from athanor.orm.mapper import Mapper
from athanor.orm.properties import ColumnProperty
from athanor.sql.types import TypeEngine, to_instance

_T = TypeVar("_T")
_KT = TypeVar("_KT")
_VT = TypeVar("_VT")

_PARENTS = "_sa_parents"


class MutableBase:
    """What :class:`Mutable` and :class:`MutableComposite` share: the objects (and their
    attribute names) a value belongs to."""

    @property
    def _parents(self) -> weakref.WeakKeyDictionary[Any, str]:
        """The mapped objects holding this value, with the attribute each holds it in."""
        parents: weakref.WeakKeyDictionary[Any, str] | None = self.__dict__.get(_PARENTS)
        if parents is None:
            parents = self.__dict__[_PARENTS] = weakref.WeakKeyDictionary()
        return parents

    def _sa_attach_parent(self, instance: Any, key: str) -> None:
        self._parents[instance] = key

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        """Turn ``value`` assigned to attribute ``key`` into an instance of this class;
        subclasses convert their plain counterparts and call this for anything else."""
        if value is None:
            return None
        raise ValueError(
            f"Attribute {key!r} takes {cls.__name__} values (or what it converts); got "
            f"{type(value).__name__} {value!r}"
        )

    def __getstate__(self) -> dict[str, Any]:
        # The owners are not pickled: a value pickled into a column must not drag its
        # objects along; an unpickled object's values attach again when assigned or merged.
        return {k: v for k, v in self.__dict__.items() if k != _PARENTS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class Mutable(MutableBase):
    """Base of mutable scalar values: call :meth:`changed` after every in-place change."""

    def changed(self) -> None:
        """Mark every object holding this value as modified in that attribute."""
        for parent, key in list(self._parents.items()):
            flag_modified(parent, key)

    @classmethod
    def associate_with_attribute(cls, attribute: InstrumentedAttribute[Any]) -> None:
        """Convert the values of one mapped attribute (``User.data``) to this class when
        assigned or loaded."""
        key = attribute.key

        def loaded(target: Any, *args: Any) -> None:
            attrs = args[1] if len(args) > 1 else None
            if attrs is not None and key not in attrs:
                return
            d = target.__dict__
            value = d.get(key)
            if value is None:
                return
            if not isinstance(value, cls):
                # As loaded: no history, the object stays unmodified.
                value = d[key] = cls.coerce(key, value)
            value._parents[target] = key

        def assigned(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
            if value is not None and not isinstance(value, cls):
                value = cls.coerce(key, value)
            if isinstance(value, MutableBase):
                value._parents[target] = key
            if isinstance(oldvalue, MutableBase) and oldvalue is not value:
                oldvalue._parents.pop(target, None)
            return value

        event.listen(attribute.class_, "load", loaded, propagate=True)
        event.listen(attribute.class_, "refresh", loaded, propagate=True)
        event.listen(attribute, "set", assigned, retval=True)

    @classmethod
    def associate_with(cls, sqltype: Any) -> None:
        """Convert the values of every column of type ``sqltype`` (a type class, or an
        instance's class) mapped from now on."""
        wanted = sqltype if isinstance(sqltype, type) else type(sqltype)
        cls._listen_for_columns(lambda column_type: isinstance(column_type, wanted))

    @classmethod
    def as_mutable(cls, sqltype: Any) -> TypeEngine:
        """``sqltype`` as an instance whose mapped columns hold values of this class:
        ``mapped_column(MutableDict.as_mutable(JSON))``."""
        instance = to_instance(sqltype)
        cls._listen_for_columns(lambda column_type: column_type is instance)
        return instance

    @classmethod
    def _listen_for_columns(cls, matches: Any) -> None:
        def configured(mapper: Mapper, class_: type) -> None:
            for prop in mapper._props.values():
                if (
                    isinstance(prop, ColumnProperty)
                    and prop.parent is mapper
                    and matches(prop.columns[0].type)
                ):
                    attribute = class_.__dict__.get(prop.key)
                    if isinstance(attribute, InstrumentedAttribute):
                        cls.associate_with_attribute(attribute)

        event.listen(Mapper, "mapper_configured", configured)


class MutableComposite(MutableBase):
    """Base of composite classes whose in-place changes are written: call :meth:`changed`
    after changing a value (typically from ``__setattr__``)."""

    def changed(self) -> None:
        """Write this value's current fields to the columns of every object holding it."""
        for parent, key in list(self._parents.items()):
            setattr(parent, key, self)


class MutableDict(Mutable, dict[_KT, _VT]):
    """A dict that marks its owners modified when changed."""

    def __setitem__(self, key: _KT, value: _VT) -> None:
        dict.__setitem__(self, key, value)
        self.changed()

    def __delitem__(self, key: _KT) -> None:
        dict.__delitem__(self, key)
        self.changed()

    def setdefault(self, key: _KT, value: Any = None) -> Any:
        if key in self:
            return self[key]
        result = dict.setdefault(self, key, value)
        self.changed()
        return result

    def update(self, *args: Any, **kwargs: Any) -> None:
        dict.update(self, *args, **kwargs)
        self.changed()

    def pop(self, *args: Any) -> Any:
        result = dict.pop(self, *args)
        self.changed()
        return result

    def popitem(self) -> tuple[_KT, _VT]:
        result = dict.popitem(self)
        self.changed()
        return result

    def clear(self) -> None:
        dict.clear(self)
        self.changed()

    def __ior__(self, other: Any) -> MutableDict[_KT, _VT]:  # type: ignore[override,misc]
        self.update(other)
        return self

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        if isinstance(value, cls) or value is None:
            return value
        if isinstance(value, dict):
            return cls(value)
        return super().coerce(key, value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (self.__class__, (dict(self),), self.__getstate__())


class MutableList(Mutable, list[_T]):
    """A list that marks its owners modified when changed."""

    def __setitem__(self, index: Any, value: Any) -> None:
        list.__setitem__(self, index, value)
        self.changed()

    def __delitem__(self, index: Any) -> None:
        list.__delitem__(self, index)
        self.changed()

    def __iadd__(self, other: Iterable[_T]) -> MutableList[_T]:  # type: ignore[override,misc]
        self.extend(other)
        return self

    def __imul__(self, count: SupportsIndex) -> MutableList[_T]:
        list.__imul__(self, count)
        self.changed()
        return self

    def append(self, value: _T) -> None:
        list.append(self, value)
        self.changed()

    def extend(self, values: Iterable[_T]) -> None:
        list.extend(self, values)
        self.changed()

    def insert(self, index: SupportsIndex, value: _T) -> None:
        list.insert(self, index, value)
        self.changed()

    def pop(self, *args: Any) -> _T:
        result = list.pop(self, *args)
        self.changed()
        return result

    def remove(self, value: _T) -> None:
        list.remove(self, value)
        self.changed()

    def clear(self) -> None:
        list.clear(self)
        self.changed()

    def sort(self, **kwargs: Any) -> None:
        list.sort(self, **kwargs)
        self.changed()

    def reverse(self) -> None:
        list.reverse(self)
        self.changed()

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        if isinstance(value, cls) or value is None:
            return value
        if isinstance(value, list):
            return cls(value)
        return super().coerce(key, value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (self.__class__, (list(self),), self.__getstate__())


class MutableSet(Mutable, set[_T]):
    """A set that marks its owners modified when changed."""

    def add(self, value: _T) -> None:
        set.add(self, value)
        self.changed()

    def discard(self, value: Any) -> None:
        set.discard(self, value)
        self.changed()

    def remove(self, value: _T) -> None:
        set.remove(self, value)
        self.changed()

    def pop(self) -> _T:
        result = set.pop(self)
        self.changed()
        return result

    def clear(self) -> None:
        set.clear(self)
        self.changed()

    def update(self, *others: Iterable[_T]) -> None:
        set.update(self, *others)
        self.changed()

    def intersection_update(self, *others: Iterable[Any]) -> None:
        set.intersection_update(self, *others)
        self.changed()

    def difference_update(self, *others: Iterable[Any]) -> None:
        set.difference_update(self, *others)
        self.changed()

    def symmetric_difference_update(self, other: Iterable[_T]) -> None:
        set.symmetric_difference_update(self, other)
        self.changed()

    def __ior__(self, other: Any) -> MutableSet[_T]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __iand__(self, other: Any) -> MutableSet[_T]:  # type: ignore[misc]
        self.intersection_update(other)
        return self

    def __ixor__(self, other: Any) -> MutableSet[_T]:  # type: ignore[override,misc]
        self.symmetric_difference_update(other)
        return self

    def __isub__(self, other: Any) -> MutableSet[_T]:  # type: ignore[misc]
        self.difference_update(other)
        return self

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        if isinstance(value, cls) or value is None:
            return value
        if isinstance(value, set | frozenset | list | tuple):
            return cls(value)
        return super().coerce(key, value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (self.__class__, (list(self),), self.__getstate__())


__all__ = [
    "Mutable",
    "MutableBase",
    "MutableComposite",
    "MutableDict",
    "MutableList",
    "MutableSet",
]
